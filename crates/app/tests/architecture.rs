//! The layering of ARCHITECTURE.md, checked on the sources: which crate may depend on which, and
//! which module of the models crate may import which. A rule broken here is a design change:
//! change ARCHITECTURE.md with it, or move the code.

use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code of `path` without its comments (`//` to the end of the line), so that prose may name
/// anything.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The violations of `rule` in the files `files`: each file whose code contains a forbidden
/// pattern, named with the pattern.
fn violations(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let code = code(file);
        for pattern in forbidden {
            if code.contains(pattern) {
                found.push(format!("{} uses `{pattern}`", file.display()));
            }
        }
    }
    found
}

/// The `museroll-*` crates in the `[dependencies]` section of a crate's Cargo.toml.
fn museroll_dependencies(krate: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let mut deps: Vec<String> = table
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    deps.retain(|d| d.starts_with("museroll-") || d == "tch" || d == "torch-sys");
    deps.sort();
    deps
}

#[test]
fn crates_depend_only_on_the_layers_below_them() {
    let allowed: [(&str, &[&str]); 5] = [
        ("core", &[]),
        ("app", &["museroll-core"]),
        ("models", &["museroll-core", "tch", "torch-sys"]),
        (
            "app-models",
            &[
                "museroll-app",
                "museroll-core",
                "museroll-models",
                "tch",
                "torch-sys",
            ],
        ),
        (
            "cli",
            &[
                "museroll-app",
                "museroll-app-models",
                "museroll-core",
                "tch",
                "torch-sys",
            ],
        ),
    ];
    for (krate, allowed) in allowed {
        for dep in museroll_dependencies(krate) {
            assert!(
                allowed.contains(&dep.as_str()),
                "crates/{krate} depends on {dep}, which ARCHITECTURE.md does not allow"
            );
        }
    }
}

#[test]
fn modules_of_the_models_crate_import_only_what_their_layer_may() {
    let models = root().join("crates/models/src");
    let families = sources(&models.join("families"));
    let samplers: Vec<PathBuf> = families
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "sample.rs"))
        .cloned()
        .collect();
    let training = ["Trainer", "TrainStep", "optim", "super::train", "GanStep"];
    let rules: Vec<(&str, Vec<PathBuf>, Vec<&str>)> = vec![
        (
            "nn knows no engine, sampling or family",
            sources(&models.join("nn")),
            vec!["crate::engine", "crate::families", "crate::sample"],
        ),
        (
            "the engine knows no family and no sampling",
            sources(&models.join("engine")),
            vec!["crate::families", "crate::sample", "bmusegan"],
        ),
        (
            "the sampling contract knows no family and no training",
            sources(&models.join("sample")),
            [&["crate::families"][..], &training].concat(),
        ),
        (
            "a family's sampler imports nothing of training",
            samplers,
            training.to_vec(),
        ),
    ];
    let mut broken = Vec::new();
    for (rule, files, forbidden) in &rules {
        assert!(!files.is_empty(), "{rule}: no files found");
        for v in violations(files, forbidden) {
            broken.push(format!("{rule}: {v}"));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// Whether `code` names `ident` as a whole identifier (not as the start of a longer one).
fn names(code: &str, ident: &str) -> bool {
    code.match_indices(ident).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + ident.len()..].chars().next();
        let is_ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !is_ident(before) && !is_ident(after)
    })
}

#[test]
fn only_the_registry_names_a_family() {
    let crates = root().join("crates");
    let registry = crates.join("models/src/families/mod.rs");
    let family_dir = crates.join("models/src/families/bmusegan");
    let mut sources_elsewhere = Vec::new();
    for krate in ["core", "models", "app", "app-models", "cli"] {
        sources_elsewhere.extend(sources(&crates.join(krate).join("src")));
    }
    let named: Vec<String> = sources_elsewhere
        .iter()
        .filter(|f| **f != registry && !f.starts_with(&family_dir))
        .filter(|f| names(&code(f), "BinaryMuseGan"))
        .map(|f| format!("{} names the family BinaryMuseGan", f.display()))
        .collect();
    assert!(named.is_empty(), "{}", named.join("\n"));
    // The registry does name it, and the check sees it.
    assert!(names(&code(&registry), "BinaryMuseGan"));
    assert!(!names("BinaryMuseGanConfig", "BinaryMuseGan"));
}

#[test]
fn front_ends_hold_no_model_or_dataset_logic_and_museroll_links_no_libtorch() {
    let cli = root().join("crates/cli/src");
    let torch_bin = cli.join("bin/museroll-torch");
    let light: Vec<PathBuf> = sources(&cli)
        .into_iter()
        .filter(|f| !f.starts_with(&torch_bin))
        .collect();
    let mut broken = violations(&light, &["tch::", "museroll_models", "museroll_app_models"]);
    broken.extend(violations(
        &sources(&cli),
        &[
            "museroll_models",
            "Dataset::open",
            "dataset::build",
            "evaluate(",
            "checkpoint::",
            "Trainer::",
            "families::create_run",
            "write_file(",
        ],
    ));
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
