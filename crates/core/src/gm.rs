//! General MIDI: program names and the 16 instrument families.

/// The 16 General MIDI instrument families, each covering 8 consecutive programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum InstrumentFamily {
    /// Programs 0–7.
    Piano,
    /// Programs 8–15.
    ChromaticPercussion,
    /// Programs 16–23.
    Organ,
    /// Programs 24–31.
    Guitar,
    /// Programs 32–39.
    Bass,
    /// Programs 40–47.
    Strings,
    /// Programs 48–55.
    Ensemble,
    /// Programs 56–63.
    Brass,
    /// Programs 64–71.
    Reed,
    /// Programs 72–79.
    Pipe,
    /// Programs 80–87.
    SynthLead,
    /// Programs 88–95.
    SynthPad,
    /// Programs 96–103.
    SynthEffects,
    /// Programs 104–111.
    Ethnic,
    /// Programs 112–119.
    Percussive,
    /// Programs 120–127.
    SoundEffects,
}

impl InstrumentFamily {
    /// All families in program order.
    pub const ALL: [InstrumentFamily; 16] = [
        Self::Piano,
        Self::ChromaticPercussion,
        Self::Organ,
        Self::Guitar,
        Self::Bass,
        Self::Strings,
        Self::Ensemble,
        Self::Brass,
        Self::Reed,
        Self::Pipe,
        Self::SynthLead,
        Self::SynthPad,
        Self::SynthEffects,
        Self::Ethnic,
        Self::Percussive,
        Self::SoundEffects,
    ];

    /// The family's name as the GM specification writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Piano => "Piano",
            Self::ChromaticPercussion => "Chromatic Percussion",
            Self::Organ => "Organ",
            Self::Guitar => "Guitar",
            Self::Bass => "Bass",
            Self::Strings => "Strings",
            Self::Ensemble => "Ensemble",
            Self::Brass => "Brass",
            Self::Reed => "Reed",
            Self::Pipe => "Pipe",
            Self::SynthLead => "Synth Lead",
            Self::SynthPad => "Synth Pad",
            Self::SynthEffects => "Synth Effects",
            Self::Ethnic => "Ethnic",
            Self::Percussive => "Percussive",
            Self::SoundEffects => "Sound Effects",
        }
    }

    /// The first program of the family.
    pub fn first_program(self) -> crate::Program {
        let index = Self::ALL
            .iter()
            .position(|f| *f == self)
            .expect("every family is in ALL");
        crate::Program::new(index as u8 * 8).expect("below 128")
    }
}

/// General MIDI level 1 program names, indexed by program number.
pub const PROGRAM_NAMES: [&str; 128] = [
    "Acoustic Grand Piano",
    "Bright Acoustic Piano",
    "Electric Grand Piano",
    "Honky-tonk Piano",
    "Electric Piano 1",
    "Electric Piano 2",
    "Harpsichord",
    "Clavinet",
    "Celesta",
    "Glockenspiel",
    "Music Box",
    "Vibraphone",
    "Marimba",
    "Xylophone",
    "Tubular Bells",
    "Dulcimer",
    "Drawbar Organ",
    "Percussive Organ",
    "Rock Organ",
    "Church Organ",
    "Reed Organ",
    "Accordion",
    "Harmonica",
    "Tango Accordion",
    "Acoustic Guitar (nylon)",
    "Acoustic Guitar (steel)",
    "Electric Guitar (jazz)",
    "Electric Guitar (clean)",
    "Electric Guitar (muted)",
    "Overdriven Guitar",
    "Distortion Guitar",
    "Guitar Harmonics",
    "Acoustic Bass",
    "Electric Bass (finger)",
    "Electric Bass (pick)",
    "Fretless Bass",
    "Slap Bass 1",
    "Slap Bass 2",
    "Synth Bass 1",
    "Synth Bass 2",
    "Violin",
    "Viola",
    "Cello",
    "Contrabass",
    "Tremolo Strings",
    "Pizzicato Strings",
    "Orchestral Harp",
    "Timpani",
    "String Ensemble 1",
    "String Ensemble 2",
    "Synth Strings 1",
    "Synth Strings 2",
    "Choir Aahs",
    "Voice Oohs",
    "Synth Choir",
    "Orchestra Hit",
    "Trumpet",
    "Trombone",
    "Tuba",
    "Muted Trumpet",
    "French Horn",
    "Brass Section",
    "Synth Brass 1",
    "Synth Brass 2",
    "Soprano Sax",
    "Alto Sax",
    "Tenor Sax",
    "Baritone Sax",
    "Oboe",
    "English Horn",
    "Bassoon",
    "Clarinet",
    "Piccolo",
    "Flute",
    "Recorder",
    "Pan Flute",
    "Blown Bottle",
    "Shakuhachi",
    "Whistle",
    "Ocarina",
    "Lead 1 (square)",
    "Lead 2 (sawtooth)",
    "Lead 3 (calliope)",
    "Lead 4 (chiff)",
    "Lead 5 (charang)",
    "Lead 6 (voice)",
    "Lead 7 (fifths)",
    "Lead 8 (bass + lead)",
    "Pad 1 (new age)",
    "Pad 2 (warm)",
    "Pad 3 (polysynth)",
    "Pad 4 (choir)",
    "Pad 5 (bowed)",
    "Pad 6 (metallic)",
    "Pad 7 (halo)",
    "Pad 8 (sweep)",
    "FX 1 (rain)",
    "FX 2 (soundtrack)",
    "FX 3 (crystal)",
    "FX 4 (atmosphere)",
    "FX 5 (brightness)",
    "FX 6 (goblins)",
    "FX 7 (echoes)",
    "FX 8 (sci-fi)",
    "Sitar",
    "Banjo",
    "Shamisen",
    "Koto",
    "Kalimba",
    "Bagpipe",
    "Fiddle",
    "Shanai",
    "Tinkle Bell",
    "Agogo",
    "Steel Drums",
    "Woodblock",
    "Taiko Drum",
    "Melodic Tom",
    "Synth Drum",
    "Reverse Cymbal",
    "Guitar Fret Noise",
    "Breath Noise",
    "Seashore",
    "Bird Tweet",
    "Telephone Ring",
    "Helicopter",
    "Applause",
    "Gunshot",
];
