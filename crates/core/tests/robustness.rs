//! Hostile-input property test: every committed fixture file, mutated thousands of times (bit
//! flips, truncation, inserted and deleted bytes), is fed to every reader. A reader may accept or
//! refuse the result, but it must return: no panic, and (by the size limits of `museroll_core::io`)
//! no unbounded allocation.

use museroll_core::io::{read_bytes, Format, ReadOptions};
use std::path::{Path, PathBuf};

/// A small deterministic generator (SplitMix64), so a failure names a reproducible case.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if Format::from_path(&path).is_some_and(Format::is_readable) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn mutate(original: &[u8], rng: &mut SplitMix) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => bytes.truncate(rng.below(bytes.len() + 1)),
            2 => {
                let i = rng.below(bytes.len() + 1);
                let extra: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
                bytes.splice(i..i, extra);
            }
            3 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                let end = (i + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(i..end);
            }
            _ if !bytes.is_empty() => {
                // Overwrite a byte with an extreme value: lengths and counts love 0xFF.
                let i = rng.below(bytes.len());
                bytes[i] = if rng.below(2) == 0 { 0xFF } else { 0x00 };
            }
            _ => {}
        }
    }
    bytes
}

#[test]
fn mutated_fixtures_never_panic() {
    let files = fixtures();
    assert!(
        files.len() >= 3,
        "expected MIDI, MusicXML and npz fixtures, found {files:?}"
    );
    let options = ReadOptions::default();
    let per_file = 6000 / files.len().max(1);
    let mut accepted = 0usize;
    let mut refused = 0usize;
    for (f, path) in files.iter().enumerate() {
        let original = std::fs::read(path).expect("fixture readable");
        let format = Format::from_path(path).expect("filtered above");
        let mut rng = SplitMix(0x5EED ^ f as u64);
        for case in 0..per_file {
            let bytes = mutate(&original, &mut rng);
            let outcome = std::panic::catch_unwind(|| read_bytes(&bytes, format, &options).is_ok());
            match outcome {
                Ok(true) => accepted += 1,
                Ok(false) => refused += 1,
                Err(_) => panic!("{} mutation {case} panicked", path.display()),
            }
        }
    }
    // Both outcomes must occur, or the mutations are too weak (or too strong) to test anything.
    assert!(
        accepted > 0 && refused > 0,
        "accepted {accepted}, refused {refused}"
    );
}

#[test]
fn random_bytes_are_refused_by_every_reader() {
    let mut rng = SplitMix(42);
    for len in [0usize, 1, 3, 4, 13, 100, 4096] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for format in [Format::Midi, Format::MusicXml, Format::Mxl, Format::Npz] {
            assert!(
                read_bytes(&bytes, format, &ReadOptions::default()).is_err(),
                "{format:?} accepted {len} random bytes"
            );
        }
    }
}
