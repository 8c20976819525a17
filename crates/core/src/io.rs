//! Reading and writing files of any supported format, and the limits that keep hostile files
//! from exhausting memory (defined with the readers' options in a module below the readers, so
//! that they and this dispatcher over them need not import each other).

use crate::error::{Error, Result};
use crate::multitrack::Multitrack;
use std::path::Path;

pub use crate::reading::{check_size, ReadOptions, MAX_FILE_BYTES, MAX_STEPS, MAX_TRACK_STEPS};

/// A file format museroll knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Standard MIDI File (`.mid`, `.midi`).
    Midi,
    /// Uncompressed MusicXML (`.musicxml`, `.xml`).
    MusicXml,
    /// Compressed MusicXML (`.mxl`).
    Mxl,
    /// pypianoroll / LPD archive (`.npz`).
    Npz,
    /// Piano-roll picture (`.png`), written only.
    Png,
}

impl Format {
    /// The format named by a path's extension (case-insensitive), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "mid" | "midi" | "smf" => Format::Midi,
            "musicxml" | "xml" => Format::MusicXml,
            "mxl" => Format::Mxl,
            "npz" => Format::Npz,
            "png" => Format::Png,
            _ => return None,
        })
    }

    /// The format a file's first bytes show, if they show one. Zip archives are `.mxl` when they
    /// hold `META-INF/container.xml`, else `.npz`.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"MThd") {
            Some(Format::Midi)
        } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
            let container = b"META-INF/container.xml";
            let is_mxl = bytes.windows(container.len()).any(|w| w == container);
            Some(if is_mxl { Format::Mxl } else { Format::Npz })
        } else if bytes.starts_with(b"\x89PNG") {
            Some(Format::Png)
        } else {
            let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            let first = text.iter().find(|b| !b.is_ascii_whitespace())?;
            (*first == b'<').then_some(Format::MusicXml)
        }
    }

    /// The name users know the format by.
    pub fn name(self) -> &'static str {
        match self {
            Format::Midi => "MIDI",
            Format::MusicXml => "MusicXML",
            Format::Mxl => "compressed MusicXML",
            Format::Npz => "pypianoroll npz",
            Format::Png => "PNG",
        }
    }

    /// The usual file extension, with its dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Midi => ".mid",
            Format::MusicXml => ".musicxml",
            Format::Mxl => ".mxl",
            Format::Npz => ".npz",
            Format::Png => ".png",
        }
    }

    /// True for the formats [`read_bytes`] reads.
    pub fn is_readable(self) -> bool {
        self != Format::Png
    }
}

/// Parses `bytes` as `format`.
pub fn read_bytes(bytes: &[u8], format: Format, options: &ReadOptions) -> Result<Multitrack> {
    match format {
        Format::Midi => crate::midi::read_midi(bytes, options),
        Format::MusicXml => crate::musicxml::read_musicxml(bytes, options),
        Format::Mxl => crate::musicxml::read_mxl(bytes, options),
        Format::Npz => crate::npz::read_npz(bytes),
        Format::Png => Err(Error::UnsupportedFormat(
            "PNG pictures can be written, not read".into(),
        )),
    }
}

/// Reads a MIDI, MusicXML, `.mxl` or `.npz` file. The extension names the format; a file whose
/// content is plainly another format is refused with a message saying what it looks like, and a
/// file without a known extension is read as whatever its content shows. Errors name the file.
pub fn read_file(path: &Path, options: &ReadOptions) -> Result<(Multitrack, Format)> {
    read_file_inner(path, options).map_err(|e| e.in_file(path))
}

fn read_file_inner(path: &Path, options: &ReadOptions) -> Result<(Multitrack, Format)> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::Invalid("not a regular file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::Invalid(format!(
            "{} bytes exceed the limit of {MAX_FILE_BYTES}",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)?;
    if bytes.is_empty() {
        return Err(Error::Invalid("the file is empty".into()));
    }
    let sniffed = Format::sniff(&bytes);
    let format =
        match (Format::from_path(path), sniffed) {
            (Some(named), Some(seen))
                if named != seen && !(named == Format::MusicXml && seen == Format::Mxl) =>
            {
                return Err(Error::UnsupportedFormat(format!(
                    "the extension says {} but the content looks like {}",
                    named.name(),
                    seen.name()
                )))
            }
            (Some(named), _) => named,
            (None, Some(seen)) => seen,
            (None, None) => return Err(Error::UnsupportedFormat(
                "neither the extension nor the content is MIDI, MusicXML, .mxl or pypianoroll .npz"
                    .into(),
            )),
        };
    if !format.is_readable() {
        return Err(Error::UnsupportedFormat(format!(
            "{} files cannot be read",
            format.name()
        )));
    }
    let mut multitrack = read_bytes(&bytes, format, options)?;
    if multitrack.name.is_none() {
        multitrack.name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    }
    Ok((multitrack, format))
}

/// Encodes `multitrack` in `format` (PNG with default plot options).
pub fn write_bytes(multitrack: &Multitrack, format: Format) -> Result<Vec<u8>> {
    match format {
        Format::Midi => crate::midi::write_midi(multitrack, &crate::midi::WriteOptions::default()),
        Format::Npz => crate::npz::write_npz(multitrack, true),
        Format::Png => {
            let image = crate::plot::render(multitrack, &crate::plot::PlotOptions::default())?;
            crate::plot::encode_png(&image)
        }
        Format::MusicXml | Format::Mxl => Err(Error::UnsupportedFormat(format!(
            "writing {} is not supported",
            format.name()
        ))),
    }
}

/// The formats [`write_bytes`] writes.
pub const WRITABLE: [Format; 3] = [Format::Midi, Format::Npz, Format::Png];

/// The format `path`'s extension names, if it is one of `allowed`; otherwise an error naming the
/// file and the extensions that would do. Callers check this before any work is done.
pub fn output_format(path: &Path, allowed: &[Format]) -> Result<Format> {
    match Format::from_path(path) {
        Some(format) if allowed.contains(&format) => Ok(format),
        named => {
            let extensions: Vec<&str> = allowed.iter().map(|f| f.extension()).collect();
            let read_only = match named {
                Some(f @ (Format::MusicXml | Format::Mxl)) => {
                    format!("; {} is read, not written", f.name())
                }
                _ => String::new(),
            };
            Err(Error::UnsupportedFormat(format!(
                "unsupported output extension (use {}){read_only}",
                extensions.join(", ")
            ))
            .in_file(path))
        }
    }
}

/// Writes `multitrack` to `path` in the format its extension names, atomically.
pub fn write_file(multitrack: &Multitrack, path: &Path) -> Result<Format> {
    let format = output_format(path, &WRITABLE)?;
    let bytes = write_bytes(multitrack, format).map_err(|e| e.in_file(path))?;
    crate::staging::atomic_write(path, &bytes)?;
    Ok(format)
}

/// The name models and the CLI know [`crate::staging::atomic_write`] by.
pub use crate::staging::atomic_write as write_atomic;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_format_names_the_extensions_that_would_do() {
        assert_eq!(
            output_format(Path::new("a.MID"), &WRITABLE).unwrap(),
            Format::Midi
        );
        let err = output_format(Path::new("out.wav"), &WRITABLE)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "out.wav: unsupported format: unsupported output extension (use .mid, .npz, .png)"
        );
        let err = output_format(Path::new("song.mxl"), &[Format::Png])
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("(use .png); compressed MusicXML is read, not written"),
            "{err}"
        );
        assert!(output_format(Path::new("a.mid"), &[Format::Png]).is_err());
    }
}
