//! Rendering: every distinct note synthesized once (in parallel, in bounded batches), the notes
//! mixed into their pieces, then reverb, trimming and normalisation.

use super::audio::{peak, Audio};
use super::options::{RenderOptions, MAX_TAIL_SECONDS};
use super::reverb::Reverb;
use super::schedule::{choke, schedule, Placed, Presets, Sound, BLOCK_FRAMES};
use super::soundfont::{guarded, SoundFont};
use crate::error::{Error, Result};
use crate::multitrack::Multitrack;
use rayon::prelude::*;

/// The most frames (samples per channel) a rendering may have: one hour at 44.1 kHz.
pub const MAX_FRAMES: usize = 3600 * 44_100;

/// Voices of one note (rustysynth's maximum; notes are synthesized alone, so no voice is ever
/// taken from another note).
const POLYPHONY: usize = 256;

/// Samples (per channel) of the notes synthesized at once before they are mixed: 16 M, 128 MB.
const BATCH_FRAMES: usize = 1 << 24;

/// The level, relative to the peak, below which the tail counts as silent (−80 dB).
const SILENCE_LEVEL: f32 = 1e-4;

/// How long the tail must stay below [`SILENCE_LEVEL`] for rendering to stop, in seconds.
const SILENCE_SECONDS: f64 = 0.1;

/// Plays `multitrack` with `soundfont` (see the module documentation for the policies): one
/// piece of [`render_many`].
///
/// Errors: [`Error::Invalid`] for options out of range or a piece longer than [`MAX_FRAMES`];
/// [`Error::SoundFont`] when the synthesizer fails on the SoundFont.
pub fn render(
    multitrack: &Multitrack,
    soundfont: &SoundFont,
    options: &RenderOptions,
) -> Result<Audio> {
    let mut audio = render_many(&[multitrack], soundfont, options)?;
    audio
        .pop()
        .unwrap_or_else(|| Err(Error::Invalid("nothing rendered".into())))
}

/// Plays several pieces with `soundfont`, in parallel (rayon): each distinct note of all of them
/// is synthesized once (see the module documentation). Returns one result per piece, in order: a
/// piece too long fails alone.
///
/// Errors: [`Error::Invalid`] for options out of range (then nothing is rendered);
/// [`Error::SoundFont`] when the synthesizer fails on the SoundFont.
pub fn render_many(
    pieces: &[&Multitrack],
    soundfont: &SoundFont,
    options: &RenderOptions,
) -> Result<Vec<Result<Audio>>> {
    options.check()?;
    let rate = f64::from(options.sample_rate);
    let tail = (options.max_tail * rate).round() as usize;
    // Each piece's length in frames, or why it is refused, before anything is allocated.
    let lengths: Vec<Result<usize>> = pieces
        .iter()
        .map(|m| {
            let seconds = m.seconds_at(m.len());
            let total = (seconds + options.max_tail) * rate;
            if !total.is_finite() || total > MAX_FRAMES as f64 {
                return Err(Error::Invalid(format!(
                    "{:.1} s of audio (with the release tail) at {} Hz exceed the limit of \
                     {MAX_FRAMES} frames (one hour at 44.1 kHz)",
                    seconds + options.max_tail,
                    options.sample_rate
                )));
            }
            Ok((seconds * rate).round() as usize)
        })
        .collect();

    // The notes of every piece that can be played, and the distinct sounds among them, in order.
    let mut placed: Vec<Vec<Placed>> = pieces
        .iter()
        .zip(&lengths)
        .map(|(m, length)| match length {
            Ok(_) => schedule(m, rate),
            Err(_) => Vec::new(),
        })
        .collect();
    let mut sounds: Vec<Sound> = placed.iter().flatten().map(|p| p.sound).collect();
    sounds.sort_unstable();
    sounds.dedup();
    let presets = Presets::new(&soundfont.0);
    let classes: Vec<Vec<i32>> = sounds
        .iter()
        .map(|s| presets.exclusive_classes(&soundfont.0, s))
        .collect();
    for notes in &mut placed {
        for note in notes.iter_mut() {
            // Found: every placed sound is among `sounds`.
            note.index = sounds.binary_search(&note.sound).unwrap_or(0);
        }
        choke(notes, &classes, &sounds);
        notes.sort_by_key(|n| n.index);
    }

    let mut outputs: Vec<(Vec<f32>, Vec<f32>)> = lengths
        .iter()
        .map(|l| {
            let frames = l.as_ref().map_or(0, |piece| piece + tail);
            (vec![0.0; frames], vec![0.0; frames])
        })
        .collect();
    let mut settings = rustysynth::SynthesizerSettings::new(options.sample_rate as i32);
    settings.block_size = BLOCK_FRAMES;
    settings.maximum_polyphony = POLYPHONY;
    settings.enable_reverb_and_chorus = false; // the reverb is applied to each mix, once
    rustysynth::Synthesizer::new(&soundfont.0, &settings)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let max_release = (MAX_TAIL_SECONDS * rate).round() as usize;
    let silence = (SILENCE_SECONDS * rate).round() as usize;
    let mut first = 0;
    while first < sounds.len() {
        // A batch of sounds whose samples fit in the budget (at least one sound).
        let mut end = first + 1;
        let mut budget = sounds[first].frames().saturating_add(max_release);
        while end < sounds.len() && budget < BATCH_FRAMES {
            budget = budget.saturating_add(sounds[end].frames().saturating_add(max_release));
            end += 1;
        }
        let batch = first..end;
        let rendered: Vec<(Vec<f32>, Vec<f32>)> = sounds[batch.clone()]
            .par_iter()
            .map_init(
                || rustysynth::Synthesizer::new(&soundfont.0, &settings),
                |synth, sound| match synth {
                    Ok(synth) => guarded(|| play(synth, sound, max_release, silence)),
                    Err(e) => Err(Error::Invalid(e.to_string())),
                },
            )
            .collect::<Result<_>>()?;
        outputs
            .par_iter_mut()
            .zip(&placed)
            .for_each(|((left, right), notes)| {
                let from = notes.partition_point(|n| n.index < batch.start);
                let to = notes.partition_point(|n| n.index < batch.end);
                for note in notes.get(from..to).unwrap_or_default() {
                    let (l, r) = &rendered[note.index - batch.start];
                    let start = note.start.min(left.len());
                    let len = l.len().min(note.cut).min(left.len() - start);
                    add(&mut left[start..start + len], &l[..len]);
                    add(&mut right[start..start + len], &r[..len]);
                }
            });
        first = end;
    }

    Ok(outputs
        .into_par_iter()
        .zip(lengths)
        .map(|((mut left, mut right), length)| {
            let length = length?;
            if options.reverb {
                Reverb::new(options.sample_rate).apply(&mut left, &mut right);
            }
            Ok(finish(left, right, length, tail, options))
        })
        .collect())
}

/// Adds `source` into `target` (of the same length).
fn add(target: &mut [f32], source: &[f32]) {
    for (t, s) in target.iter_mut().zip(source) {
        *t += s;
    }
}

/// A mixed piece made audio: cut after its last audible frame (but not inside the piece, nor
/// more than `tail` frames after it) and normalised.
fn finish(
    mut left: Vec<f32>,
    mut right: Vec<f32>,
    piece: usize,
    tail: usize,
    options: &RenderOptions,
) -> Audio {
    for x in left.iter_mut().chain(right.iter_mut()) {
        if !x.is_finite() {
            *x = 0.0;
        }
    }
    let peak = peak(&left).max(peak(&right));
    let len = audible_end(&left, &right, peak * SILENCE_LEVEL).clamp(piece, piece + tail);
    left.truncate(len);
    right.truncate(len);
    if peak > 0.0 {
        // In f64, so that even a vanishingly small peak gives a finite gain.
        let gain = 10f64.powf(options.peak_dbfs / 20.0) / f64::from(peak);
        for x in left.iter_mut().chain(right.iter_mut()) {
            // The clamp only absorbs rounding: |x| ≤ peak, so |x · gain| ≤ the target level ≤ 1.
            *x = (f64::from(*x) * gain).clamp(-1.0, 1.0) as f32;
        }
    }
    Audio {
        sample_rate: options.sample_rate,
        left,
        right,
    }
}

/// Plays `sound` alone from a reset synthesizer: the key held for its blocks, then released until
/// the output has stayed below [`SILENCE_LEVEL`] of its peak for `silence` frames, or for
/// `max_release` frames at most. Returns the channels cut after their last frame above that level.
fn play(
    synth: &mut rustysynth::Synthesizer,
    sound: &Sound,
    max_release: usize,
    silence: usize,
) -> (Vec<f32>, Vec<f32>) {
    synth.reset();
    let (channel, key) = (if sound.drum { 9 } else { 0 }, i32::from(sound.key));
    if !sound.drum {
        synth.process_midi_message(channel, 0xC0, i32::from(sound.program), 0);
    }
    synth.note_on(channel, key, i32::from(sound.velocity));
    let held = sound.frames();
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let mut block_left = [0f32; BLOCK_FRAMES];
    let mut block_right = [0f32; BLOCK_FRAMES];
    let mut peak = 0f32;
    // One past the last frame above the silence level (relative to the peak so far).
    let mut loud_until = 0;
    loop {
        let start = left.len();
        if start == held {
            synth.note_off(channel, key);
        }
        if start >= held && (start >= held + max_release || start >= loud_until + silence) {
            break;
        }
        synth.render(&mut block_left, &mut block_right);
        for (i, (l, r)) in block_left.iter().zip(&block_right).enumerate() {
            let level = l.abs().max(r.abs());
            peak = peak.max(level);
            if level > peak * SILENCE_LEVEL {
                loud_until = start + i + 1;
            }
        }
        left.extend_from_slice(&block_left);
        right.extend_from_slice(&block_right);
    }
    left.truncate(loud_until);
    right.truncate(loud_until);
    (left, right)
}

/// One past the last frame where either channel exceeds `level` (0 when none does).
fn audible_end(left: &[f32], right: &[f32], level: f32) -> usize {
    left.iter()
        .zip(right)
        .rposition(|(l, r)| l.abs() > level || r.abs() > level)
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audible_end_is_after_the_last_loud_frame() {
        let left = [0.0, 0.5, 0.0, 0.001, 0.0];
        let right = [0.0, 0.0, -0.2, 0.0, 0.0];
        assert_eq!(audible_end(&left, &right, 0.01), 3);
        assert_eq!(audible_end(&left, &right, 0.0), 4);
        assert_eq!(audible_end(&left, &right, 1.0), 0);
        assert_eq!(audible_end(&[], &[], 0.0), 0);
    }
}
