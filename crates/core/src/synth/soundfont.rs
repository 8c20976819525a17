//! SoundFont 2 banks: reading them with their RIFF structure checked first, and running the
//! third-party synthesizer so that its panics become errors.

use crate::error::{Error, Result};
use std::io::Cursor;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;

/// The largest SoundFont file read: 1 GiB (General MIDI SoundFonts take 6–150 MB).
pub const MAX_SOUNDFONT_BYTES: u64 = 1 << 30;

/// The highest sample rate accepted in a SoundFont's sample headers (real ones use 8–96 kHz).
const MAX_SAMPLE_HEADER_RATE: u32 = 384_000;

/// A SoundFont 2 bank, parsed and checked, ready to render with (cheap to clone).
#[derive(Clone)]
pub struct SoundFont(pub(super) Arc<rustysynth::SoundFont>);

impl SoundFont {
    /// Parses a SoundFont 2 file's bytes. Errors ([`Error::SoundFont`]) say what is wrong, without
    /// a path: [`SoundFont::open`] adds it.
    pub fn from_bytes(bytes: &[u8]) -> Result<SoundFont> {
        check_riff(bytes).map_err(Error::SoundFont)?;
        let parsed = guarded(|| rustysynth::SoundFont::new(&mut Cursor::new(bytes)))?;
        let soundfont = parsed.map_err(|e| Error::SoundFont(e.to_string()))?;
        Ok(SoundFont(Arc::new(soundfont)))
    }

    /// Reads and parses a SoundFont 2 file (`.sf2`); errors name the file.
    pub fn open(path: &Path) -> Result<SoundFont> {
        let read = || -> Result<SoundFont> {
            let meta = std::fs::metadata(path)?;
            if !meta.is_file() {
                return Err(Error::Invalid("not a regular file".into()));
            }
            if meta.len() > MAX_SOUNDFONT_BYTES {
                return Err(Error::SoundFont(format!(
                    "{} bytes exceed the limit of {MAX_SOUNDFONT_BYTES}",
                    meta.len()
                )));
            }
            SoundFont::from_bytes(&std::fs::read(path)?)
        };
        read().map_err(|e| e.in_file(path))
    }

    /// The bank's name (its `INAM` field; may be empty).
    pub fn name(&self) -> &str {
        self.0.get_info().get_bank_name()
    }
}

impl std::fmt::Debug for SoundFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not derived: rustysynth's Debug would list every sample of the bank.
        f.debug_struct("SoundFont")
            .field("name", &self.name())
            .field("presets", &self.0.get_presets().len())
            .finish()
    }
}
/// Runs third-party synthesizer code, turning a panic into an [`Error::SoundFont`].
pub(super) fn guarded<T>(work: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Error::SoundFont(format!(
            "the synthesizer failed on this SoundFont ({message})"
        ))
    })
}

/// A RIFF chunk: its four-character id and its body.
type Chunk<'a> = ([u8; 4], &'a [u8]);

/// Splits `data` into the chunks that fill it exactly. Sizes must be even: SoundFont 2 chunks are,
/// and rustysynth reads no pad bytes.
fn chunks(mut data: &[u8]) -> std::result::Result<Vec<Chunk<'_>>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (header, rest) = data
            .split_first_chunk::<8>()
            .ok_or("the file ends inside a chunk header")?;
        let (id, size) = header.split_at(4);
        let id: [u8; 4] = id.try_into().map_err(|_| "bad chunk header")?;
        let size = u32::from_le_bytes(size.try_into().map_err(|_| "bad chunk header")?);
        let name = String::from_utf8_lossy(&id).into_owned();
        let size = usize::try_from(size).map_err(|_| format!("chunk '{name}' is too large"))?;
        if !size.is_multiple_of(2) {
            return Err(format!("chunk '{name}' has an odd size ({size} bytes)"));
        }
        if size > rest.len() {
            return Err(format!(
                "chunk '{name}' claims {size} bytes but only {} remain",
                rest.len()
            ));
        }
        let (body, next) = rest.split_at(size);
        out.push((id, body));
        data = next;
    }
    Ok(out)
}

/// Checks a SoundFont 2 file's RIFF structure as far as rustysynth relies on it without checking
/// (see the module documentation). rustysynth reports everything else.
fn check_riff(bytes: &[u8]) -> std::result::Result<(), String> {
    let not_sf2 = || "not a SoundFont 2 file (no RIFF 'sfbk' header)".to_string();
    let (riff, rest) = bytes.split_first_chunk::<12>().ok_or_else(not_sf2)?;
    if &riff[..4] != b"RIFF" || &riff[8..] != b"sfbk" {
        return Err(not_sf2());
    }
    // rustysynth reads three lists in this order and ignores anything after them (and the RIFF
    // size); each must fit in the file.
    let mut rest = rest;
    let mut lists = Vec::with_capacity(3);
    for kind in [b"INFO", b"sdta", b"pdta"] {
        let name = String::from_utf8_lossy(kind);
        let (header, after) = rest
            .split_first_chunk::<12>()
            .ok_or_else(|| format!("the '{name}' list is missing"))?;
        if &header[..4] != b"LIST" || &header[8..] != kind {
            return Err(format!("the '{name}' list is missing"));
        }
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let body_size = usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_sub(4))
            .filter(|&s| s <= after.len())
            .ok_or_else(|| {
                format!("the '{name}' list's size ({size} bytes) does not fit the file")
            })?;
        let (body, next) = after.split_at(body_size);
        lists.push(chunks(body)?);
        rest = next;
    }
    // rustysynth reads versions as 4 bytes whatever their size says.
    if let Some((id, _)) = lists[0]
        .iter()
        .find(|(id, body)| matches!(id, b"ifil" | b"iver") && body.len() != 4)
    {
        return Err(format!(
            "the '{}' version is not 4 bytes long",
            String::from_utf8_lossy(id)
        ));
    }
    let pdta = &lists[2];
    // rustysynth keeps the last chunk of each kind.
    let find = |id: &[u8; 4]| pdta.iter().rev().find(|(i, _)| i == id).map(|(_, b)| *b);
    // Headers point into bags (the index at `offset` of each `size`-byte record), bags into
    // generators: every index must name a record of its target list (the last one, the list's
    // terminal record, ends the previous span).
    for (headers, size, offset, bags, generators) in [
        (b"phdr", 38, 24, b"pbag", b"pgen"),
        (b"inst", 22, 20, b"ibag", b"igen"),
    ] {
        if let (Some(h), Some(b), Some(g)) = (find(headers), find(bags), find(generators)) {
            check_links(h, size, offset, b.len() / 4, headers, bags)?;
            check_links(b, 4, 0, g.len() / 4, bags, generators)?;
        }
    }
    // rustysynth steps through a sample at its rate relative to the output's: a negative rate (as
    // it reads the field) runs before the data, an absurd one far past its loop.
    if let Some(headers) = find(b"shdr") {
        let real = (headers.len() / 46).saturating_sub(1); // all but the terminal record
        for (i, header) in headers.chunks_exact(46).take(real).enumerate() {
            let rate = u32::from_le_bytes([header[36], header[37], header[38], header[39]]);
            if rate > MAX_SAMPLE_HEADER_RATE {
                return Err(format!(
                    "sample {i} has a sample rate of {rate} Hz (more than {MAX_SAMPLE_HEADER_RATE})"
                ));
            }
        }
    }
    Ok(())
}

/// Checks that the little-endian u16 at `offset` of every `size`-byte record of `records` is below
/// `targets`.
fn check_links(
    records: &[u8],
    size: usize,
    offset: usize,
    targets: usize,
    from: &[u8; 4],
    to: &[u8; 4],
) -> std::result::Result<(), String> {
    for (i, record) in records.chunks_exact(size).enumerate() {
        let index = record
            .get(offset..offset + 2)
            .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
        if index >= targets {
            return Err(format!(
                "record {i} of '{}' points to record {index} of '{}', which has {targets}",
                String::from_utf8_lossy(from),
                String::from_utf8_lossy(to)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A RIFF chunk.
    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        [&id[..], &(body.len() as u32).to_le_bytes(), body].concat()
    }

    #[test]
    fn the_riff_structure_is_checked() {
        let info = chunk(
            b"LIST",
            &[&b"INFO"[..], &chunk(b"ifil", &[2, 0, 1, 0])].concat(),
        );
        let sdta = chunk(b"LIST", &[&b"sdta"[..], &chunk(b"smpl", &[0; 8])].concat());
        let pdta = |body: &[u8]| chunk(b"LIST", &[&b"pdta"[..], body].concat());
        let file = |pdta: &[u8]| chunk(b"RIFF", &[&b"sfbk"[..], &info, &sdta, pdta].concat());

        assert_eq!(check_riff(&file(&pdta(&[]))), Ok(()));
        let not_sf2 = "not a SoundFont 2 file (no RIFF 'sfbk' header)";
        assert_eq!(check_riff(b"RIFF\0\0\0\0WAVE").unwrap_err(), not_sf2);
        assert_eq!(check_riff(b"RIFF").unwrap_err(), not_sf2);
        assert_eq!(
            check_riff(&chunk(b"RIFF", b"sfbk")).unwrap_err(),
            "the 'INFO' list is missing"
        );
        let mut long = pdta(&[]);
        long[4] = 200;
        assert_eq!(
            check_riff(&file(&long)).unwrap_err(),
            "the 'pdta' list's size (200 bytes) does not fit the file"
        );
        let odd = pdta(&[chunk(b"pmod", &[0; 3]), vec![0]].concat());
        assert_eq!(
            check_riff(&file(&odd)).unwrap_err(),
            "chunk 'pmod' has an odd size (3 bytes)"
        );
        let short = pdta(&chunk(b"pmod", &[0; 4])[..10]);
        assert_eq!(
            check_riff(&file(&short)).unwrap_err(),
            "chunk 'pmod' claims 4 bytes but only 2 remain"
        );
        let ragged = pdta(&[0; 6]);
        assert_eq!(
            check_riff(&file(&ragged)).unwrap_err(),
            "the file ends inside a chunk header"
        );
        let version = chunk(b"LIST", &[&b"INFO"[..], &chunk(b"ifil", &[2, 0])].concat());
        let bytes = chunk(
            b"RIFF",
            &[&b"sfbk"[..], &version, &sdta, &pdta(&[])].concat(),
        );
        assert_eq!(
            check_riff(&bytes).unwrap_err(),
            "the 'ifil' version is not 4 bytes long"
        );

        // Two preset headers (38 bytes) pointing at bags 0 and 2, but only 2 bags.
        let mut phdr = vec![0u8; 76];
        phdr[38 + 24] = 2;
        let links = [
            chunk(b"phdr", &phdr),
            chunk(b"pbag", &[0, 0, 0, 0, 1, 0, 0, 0]),
            chunk(b"pgen", &[0; 8]),
        ]
        .concat();
        assert_eq!(
            check_riff(&file(&pdta(&links))).unwrap_err(),
            "record 1 of 'phdr' points to record 2 of 'pbag', which has 2"
        );
    }

    #[test]
    fn a_panic_in_the_synthesizer_becomes_an_error() {
        let err = guarded(|| -> u8 { panic!("index out of bounds") }).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SoundFont: the synthesizer failed on this SoundFont (index out of bounds)"
        );
        assert_eq!(guarded(|| 7).unwrap(), 7);
    }
}
