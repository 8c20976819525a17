//! WAV files: 16-bit PCM stereo.

use super::audio::Audio;
use crate::error::{Error, Result};
use std::io::Cursor;
use std::path::Path;

/// Encodes `audio` as a WAV file: 16-bit PCM, stereo, at its sample rate (the canonical 44-byte
/// RIFF header, then the interleaved samples).
pub fn encode_wav(audio: &Audio) -> Result<Vec<u8>> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let samples = audio
        .frames()
        .checked_mul(2)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Error::Invalid("WAV: too long for a WAV file (4 GB)".into()))?;
    let mut cursor = Cursor::new(Vec::with_capacity(44 + audio.frames() * 4));
    let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(wav_error)?;
    // hound's 16-bit writer: a buffer of the known length, no per-sample checks.
    let mut fast = writer.get_i16_writer(samples);
    for (&l, &r) in audio.left.iter().zip(&audio.right) {
        for x in [l, r] {
            fast.write_sample((x.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16);
        }
    }
    fast.flush().map_err(wav_error)?;
    writer.finalize().map_err(wav_error)?;
    Ok(cursor.into_inner())
}

fn wav_error(error: hound::Error) -> Error {
    match error {
        hound::Error::IoError(e) => Error::Io(e),
        other => Error::Invalid(format!("WAV: {other}")),
    }
}

/// Refuses an output path whose extension is not `.wav` (case-insensitive), naming the file.
/// Callers check this before any work is done.
pub fn check_wav_path(path: &Path) -> Result<()> {
    let is_wav = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    if is_wav {
        Ok(())
    } else {
        Err(
            Error::UnsupportedFormat("unsupported output extension (use .wav)".into())
                .in_file(path),
        )
    }
}

/// Writes `audio` to `path` (which must end in `.wav`) as 16-bit PCM stereo, atomically.
pub fn write_wav(path: &Path, audio: &Audio) -> Result<()> {
    check_wav_path(path)?;
    let bytes = encode_wav(audio).map_err(|e| e.in_file(path))?;
    crate::staging::atomic_write(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_path_and_encoding() {
        assert!(check_wav_path(Path::new("a/b.wav")).is_ok());
        assert!(check_wav_path(Path::new("B.WAV")).is_ok());
        for bad in ["a.mid", "a", "wav", "a.wav.png"] {
            assert_eq!(
                check_wav_path(Path::new(bad)).unwrap_err().to_string(),
                format!("{bad}: unsupported format: unsupported output extension (use .wav)")
            );
        }
        let audio = Audio {
            sample_rate: 22_050,
            left: vec![0.0, 1.0, -1.0, 0.5],
            right: vec![2.0, -0.25, 1e-6, -1.5],
        };
        let bytes = encode_wav(&audio).unwrap();
        assert_eq!(bytes.len(), 44 + 4 * 4);
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        let samples: Vec<i16> = bytes[44..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(samples, [0, 32767, 32767, -8192, -32767, 0, 16384, -32767]);
    }
}
