//! Scheduling: a piece's notes as the distinct sounds the synthesizer plays, placed on block
//! boundaries by the tempo map, and cut off by later notes of their exclusive class.

use crate::multitrack::Multitrack;
use crate::roll::RollKind;

/// Frames per synthesizer block: events take effect at block boundaries.
pub const BLOCK_FRAMES: usize = 64;

/// Everything a note's sound depends on: the synthesizer renders it alone, once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Sound {
    /// Played from the percussion bank (on the drum channel), else with `program`.
    pub(super) drum: bool,
    pub(super) program: u8,
    pub(super) key: u8,
    pub(super) velocity: u8,
    /// How long the key is held, in blocks (0: released at once).
    pub(super) blocks: usize,
}

impl Sound {
    /// The frames the key is held.
    pub(super) fn frames(&self) -> usize {
        self.blocks.saturating_mul(BLOCK_FRAMES)
    }
}

/// A note of a piece: its sound, where it starts and, when a later note of its exclusive class
/// cuts it off, after how many frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Placed {
    pub(super) sound: Sound,
    /// The first frame, a multiple of [`BLOCK_FRAMES`].
    pub(super) start: usize,
    /// The MIDI channel (0-based) it would have in a MIDI file.
    pub(super) channel: u8,
    /// Frames it may sound at most (`usize::MAX` when nothing cuts it off).
    pub(super) cut: usize,
    /// Its sound's index among the distinct sounds of the batch (set once they are known).
    pub(super) index: usize,
}

/// The notes of every track, block-aligned, ordered by start (and by track at the same start).
pub(super) fn schedule(multitrack: &Multitrack, sample_rate: f64) -> Vec<Placed> {
    let clock = Clock::new(multitrack);
    // The block boundary nearest a step's time.
    let block = |step: usize| {
        ((clock.seconds(step) * sample_rate).round() as usize + BLOCK_FRAMES / 2) / BLOCK_FRAMES
    };
    let mut placed = Vec::new();
    let channels = crate::midi::track_channels(&multitrack.tracks);
    for (track, channel) in multitrack.tracks.iter().zip(channels) {
        let binary = track.roll.kind() == RollKind::Binary;
        for note in track.roll.notes() {
            let velocity = if binary {
                crate::DEFAULT_VELOCITY
            } else {
                note.velocity
            };
            let start = block(note.start);
            placed.push(Placed {
                sound: Sound {
                    drum: track.is_drum,
                    program: if track.is_drum {
                        0
                    } else {
                        track.program.number()
                    },
                    key: note.pitch.number(),
                    velocity,
                    blocks: block(note.end).saturating_sub(start),
                },
                start: start * BLOCK_FRAMES,
                channel,
                cut: usize::MAX,
                index: 0,
            });
        }
    }
    placed.sort_by_key(|p| p.start); // stable
    placed
}

/// Cuts each note off where the next note of the same channel that shares one of its exclusive
/// classes starts (`notes` in order of start; `classes` per sound index).
pub(super) fn choke(notes: &mut [Placed], classes: &[Vec<i32>], sounds: &[Sound]) {
    // The last note of each (channel, class) so far.
    let mut last: Vec<((u8, i32), usize)> = Vec::new();
    for i in 0..notes.len() {
        let note = notes[i];
        let Some(own) = classes.get(note.index) else {
            continue;
        };
        debug_assert_eq!(sounds.get(note.index), Some(&note.sound));
        for &class in own {
            let key = (note.channel, class);
            match last.iter_mut().find(|(k, _)| *k == key) {
                Some((_, previous)) => {
                    let earlier = &mut notes[*previous];
                    earlier.cut = earlier.cut.min(note.start - earlier.start);
                    *previous = i;
                }
                None => last.push((key, i)),
            }
        }
    }
}

/// Seconds at steps, by the tempo map: the sum [`Multitrack::seconds_at`] makes, with the time of
/// each tempo change computed once, so that n notes cost O(n log tempos) rather than O(n · tempos).
struct Clock {
    /// Per tempo change: its step, its time in seconds, and the seconds per step from there.
    segments: Vec<(usize, f64, f64)>,
}

impl Clock {
    fn new(multitrack: &Multitrack) -> Clock {
        let resolution = f64::from(multitrack.resolution().get());
        let mut segments: Vec<(usize, f64, f64)> = Vec::with_capacity(multitrack.tempos().len());
        for tempo in multitrack.tempos() {
            let seconds = segments.last().map_or(0.0, |&(step, seconds, per_step)| {
                seconds + (tempo.step - step) as f64 * per_step
            });
            segments.push((tempo.step, seconds, 60.0 / (tempo.qpm * resolution)));
        }
        Clock { segments }
    }

    fn seconds(&self, step: usize) -> f64 {
        let i = self
            .segments
            .partition_point(|&(start, _, _)| start <= step);
        i.checked_sub(1)
            .and_then(|i| self.segments.get(i))
            .map_or(0.0, |&(start, seconds, per_step)| {
                seconds + (step - start) as f64 * per_step
            })
    }
}

/// The synthesizer's preset lookup, to find the regions that play a sound as it does.
pub(super) struct Presets {
    /// Preset index by (bank, patch); of duplicates the last one, as in rustysynth.
    by_id: std::collections::HashMap<(i32, i32), usize>,
    /// The preset of a (bank, patch) the SoundFont lacks: the first of the lowest.
    default: Option<usize>,
}

impl Presets {
    pub(super) fn new(soundfont: &rustysynth::SoundFont) -> Presets {
        let ids = soundfont
            .get_presets()
            .iter()
            .map(|p| (p.get_bank_number(), p.get_patch_number()));
        let default = ids
            .clone()
            .enumerate()
            .min_by_key(|&(_, id)| id)
            .map(|(i, _)| i);
        Presets {
            by_id: ids.enumerate().map(|(i, id)| (id, i)).collect(),
            default,
        }
    }

    /// The exclusive classes (non-zero) of the regions that play `sound`, sorted.
    pub(super) fn exclusive_classes(
        &self,
        soundfont: &rustysynth::SoundFont,
        sound: &Sound,
    ) -> Vec<i32> {
        let (bank, patch) = if sound.drum {
            (128, 0)
        } else {
            (0, i32::from(sound.program))
        };
        let preset = self.by_id.get(&(bank, patch)).copied().or(self.default);
        let (key, velocity) = (i32::from(sound.key), i32::from(sound.velocity));
        let mut classes: Vec<i32> = preset
            .and_then(|i| soundfont.get_presets().get(i))
            .map(|preset| {
                preset
                    .get_regions()
                    .iter()
                    .filter(|r| r.contains(key, velocity))
                    .filter_map(|r| soundfont.get_instruments().get(r.get_instrument_id()))
                    .flat_map(|inst| inst.get_regions())
                    .filter(|r| r.contains(key, velocity))
                    .map(|r| r.get_exclusive_class())
                    .filter(|&c| c != 0)
                    .collect()
            })
            .unwrap_or_default();
        classes.sort_unstable();
        classes.dedup();
        classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Note, Pitch, Program, Resolution, Roll, Tempo, Track};

    fn track(is_drum: bool, program: u8, roll: Roll) -> Track {
        Track {
            name: String::new(),
            program: Program::new(program).unwrap(),
            is_drum,
            roll,
        }
    }

    fn note(pitch: u8, start: usize, end: usize, velocity: u8) -> Note {
        Note {
            pitch: Pitch::new(pitch).unwrap(),
            start,
            end,
            velocity,
        }
    }

    #[test]
    fn the_clock_agrees_with_seconds_at() {
        let mut m = Multitrack::new(Resolution::new(24).unwrap());
        m.set_tempos([
            Tempo { step: 0, qpm: 90.0 },
            Tempo {
                step: 7,
                qpm: 200.0,
            },
            Tempo {
                step: 30,
                qpm: 45.5,
            },
            Tempo {
                step: 31,
                qpm: 120.0,
            },
        ])
        .unwrap();
        let clock = Clock::new(&m);
        for step in 0..100 {
            let (a, b) = (clock.seconds(step), m.seconds_at(step));
            assert!((a - b).abs() < 1e-12, "step {step}: {a} vs {b}");
        }
        // One step at 90 qpm and 24 steps per beat lasts 60 / (90 · 24) s.
        assert!((clock.seconds(1) - 60.0 / 2160.0).abs() < 1e-15);
    }

    #[test]
    fn notes_land_on_the_nearest_block_boundary() {
        // Resolution 4 at 120 qpm: a step is 0.125 s, 2000 frames at 16 kHz, 31.25 blocks.
        let mut m = Multitrack::new(Resolution::new(4).unwrap());
        let roll = Roll::from_notes(
            RollKind::Velocity,
            8,
            [note(60, 0, 2, 90), note(60, 2, 4, 70), note(64, 1, 3, 50)],
        );
        m.tracks = vec![track(false, 33, roll)];
        let placed = schedule(&m, 16_000.0);
        let summary: Vec<(usize, u8, u8, usize)> = placed
            .iter()
            .map(|p| (p.start, p.sound.key, p.sound.velocity, p.sound.blocks))
            .collect();
        // Steps 1, 2, 3, 4 are frames 2000, 4000, 6000, 8000: blocks 31 (1984), 63 (4032),
        // 94 (6016), 125 (8000), each within half a block.
        assert_eq!(
            summary,
            [
                (0, 60, 90, 63),
                (1984, 64, 50, 63),
                (4032, 60, 70, 62), // the repeated C is a note of its own
            ]
        );
        assert!(placed
            .iter()
            .all(|p| p.channel == 0 && p.sound.program == 33 && !p.sound.drum));
        assert!(placed.iter().all(|p| p.cut == usize::MAX));
    }

    #[test]
    fn channels_follow_the_midi_layout_and_binary_notes_get_the_default_velocity() {
        let mut m = Multitrack::new(Resolution::new(4).unwrap());
        let one = |kind| Roll::from_notes(kind, 1, [note(40, 0, 1, 100)]);
        m.tracks = vec![track(true, 5, one(RollKind::Binary))];
        m.tracks
            .extend((0..16).map(|i| track(false, i, one(RollKind::Velocity))));
        let placed = schedule(&m, 16_000.0);
        let notes: Vec<(u8, bool, u8, u8)> = placed
            .iter()
            .map(|p| (p.channel, p.sound.drum, p.sound.program, p.sound.velocity))
            .collect();
        // The drum track: channel 9, the percussion bank (its program ignored), binary →
        // DEFAULT_VELOCITY.
        assert_eq!(notes[0], (9, true, 0, crate::DEFAULT_VELOCITY));
        let channels: Vec<u8> = notes[1..].iter().map(|o| o.0).collect();
        assert_eq!(
            channels,
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 0]
        );
        assert_eq!(notes[16], (0, false, 15, 100)); // the 16th pitched track keeps its program
    }

    #[test]
    fn a_note_shorter_than_a_block_is_released_at_once() {
        let mut m = Multitrack::new(Resolution::new(960).unwrap());
        m.set_tempos([Tempo { step: 0, qpm: 1e6 }]).unwrap();
        m.tracks = vec![track(
            false,
            0,
            Roll::from_notes(
                RollKind::Velocity,
                2,
                [note(60, 0, 1, 64), note(60, 1, 2, 64)],
            ),
        )];
        let placed: Vec<(usize, usize)> = schedule(&m, 16_000.0)
            .iter()
            .map(|p| (p.start, p.sound.blocks))
            .collect();
        assert_eq!(placed, [(0, 0), (0, 0)]);
    }

    #[test]
    fn a_note_is_cut_off_by_the_next_of_its_exclusive_class_on_its_channel() {
        let sound = |key| Sound {
            drum: true,
            program: 0,
            key,
            velocity: 100,
            blocks: 10,
        };
        let sounds = [sound(42), sound(44), sound(46), sound(49)];
        // Hi-hats 42, 44, 46 share class 1; 46 also has class 2; the cymbal 49 has none.
        let classes = [vec![1], vec![1], vec![1, 2], vec![]];
        let at = |index: usize, start, channel| Placed {
            sound: sounds[index],
            start,
            channel,
            cut: usize::MAX,
            index,
        };
        let mut notes = [
            at(2, 0, 9),   // open hi-hat, cut by the pedal hi-hat at 640
            at(3, 64, 9),  // cymbal: never cut
            at(0, 64, 8),  // another channel: not cut by channel 9's notes
            at(1, 640, 9), // pedal hi-hat, cut by the closed one at 1280
            at(0, 1280, 9),
        ];
        choke(&mut notes, &classes, &sounds);
        let cuts: Vec<usize> = notes.iter().map(|n| n.cut).collect();
        assert_eq!(cuts, [640, usize::MAX, usize::MAX, 640, usize::MAX]);
    }
}
