//! Name tables of the choices users make by name (devices, binarizations, strategies, …): one
//! table per enum gives its names, its parser and its display, so a name is written once.

/// `ALL`, `name()`, `FromStr` and `Display` of a choice, from its table of names: one parser and
/// one error message ("unknown WHAT 'x' (expected a, b or c)") for every choice.
macro_rules! choice {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every choice, in the order of the help text.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name users write.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::Error;

            /// Parses the name users write.
            fn from_str(s: &str) -> Result<Self, $crate::Error> {
                Self::ALL.iter().copied().find(|c| c.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
                    $crate::Error::Usage(format!(
                        "unknown {} '{s}' (expected {})",
                        $what,
                        $crate::names::one_of(&names)
                    ))
                })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// `a, b or c`: the names of a choice in an error message.
pub(crate) fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}
