//! The phrase tensor the metrics read: a borrowed view with its shape checked once, an owned
//! phrase cut from a [`Multitrack`], and the bit-packing of time steps that every metric runs on.

use crate::error::{Error, Result};
use crate::multitrack::Multitrack;
use crate::units::{Pitch, Resolution, N_PITCHES};

/// A piano-roll cell type the metrics can read: anything that is either on or off.
///
/// Implemented for `bool` and `u8` (nonzero = on, so velocity rolls work too). Implement it for
/// your own type to evaluate, say, probabilities with a threshold of your choosing.
pub trait Cell: Copy + Send + Sync {
    /// True when the cell sounds.
    fn is_on(self) -> bool;

    /// The on/off states of 8 consecutive pitches as a byte, bit `i` = `chunk[i]`. The default
    /// asks [`Cell::is_on`] eight times; `bool` and `u8` pack all eight at once.
    fn pack8(chunk: &[Self; 8]) -> u8 {
        chunk
            .iter()
            .enumerate()
            .fold(0, |bits, (i, c)| bits | (u8::from(c.is_on()) << i))
    }
}

/// Gathers the lowest bit of each byte of `x` into one byte (byte `i` → bit `i`): every product
/// term `2^(8i) · 2^(7j+7)` lands on a distinct bit, and those with `i + j = 7` fill bits 56..64.
fn gather_low_bits(x: u64) -> u8 {
    (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

impl Cell for bool {
    fn is_on(self) -> bool {
        self
    }

    #[inline]
    fn pack8(chunk: &[bool; 8]) -> u8 {
        gather_low_bits(u64::from_le_bytes(chunk.map(u8::from)))
    }
}

impl Cell for u8 {
    fn is_on(self) -> bool {
        self != 0
    }

    #[inline]
    fn pack8(chunk: &[u8; 8]) -> u8 {
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        let x = u64::from_le_bytes(*chunk);
        // Bit 7 of a byte ends up set iff the byte is nonzero; no carry crosses bytes.
        let nonzero = (x | ((x & LOW7) + LOW7)) >> 7;
        gather_low_bits(nonzero & 0x0101_0101_0101_0101)
    }
}

/// The shape of a phrase tensor laid out `[sample][track][bar][step][pitch]`, row-major (the
/// pitch index varies fastest), as the GAN code produces `[sample, track, bar, step, pitch]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PhraseShape {
    /// Number of phrases (may be 0: every metric is then NaN).
    pub samples: usize,
    /// Tracks per phrase, at least 1.
    pub tracks: usize,
    /// Bars per phrase, at least 1.
    pub bars: usize,
    /// Time steps per bar, at least 1 (96 for BinaryMuseGAN, 48 for MuseGAN v3).
    pub steps_per_bar: usize,
    /// Pitch columns, 1 to 128 (84 for MuseGAN).
    pub pitches: usize,
    /// The MIDI pitch of column 0 (MIDI 24 = C1 for MuseGAN's 84-pitch rolls); it decides the
    /// true pitch class of every column.
    pub lowest_pitch: Pitch,
    /// Time steps per beat (quarter note): the span of a beat for TD and of a 16th note (a quarter
    /// of it) for DP.
    pub resolution: Resolution,
}

impl PhraseShape {
    /// Number of cells, or an error naming the shape when it is degenerate, overflows, or its
    /// pitch columns run past MIDI 127.
    pub fn cells(&self) -> Result<usize> {
        let dims = [
            ("tracks", self.tracks),
            ("bars", self.bars),
            ("steps per bar", self.steps_per_bar),
            ("pitches", self.pitches),
        ];
        if let Some((name, _)) = dims.iter().find(|(_, n)| *n == 0) {
            return Err(Error::Invalid(format!("phrase shape has 0 {name}")));
        }
        let top = self.lowest_pitch.index().saturating_add(self.pitches);
        if top > N_PITCHES {
            return Err(Error::Invalid(format!(
                "phrase pitches MIDI {}..{} run past MIDI 127",
                self.lowest_pitch.number(),
                top
            )));
        }
        // One sample's cells first: they are allocated per task even when there are 0 samples.
        [self.tracks, self.bars, self.steps_per_bar, self.pitches]
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .and_then(|sample| sample.checked_mul(self.samples))
            .ok_or_else(|| Error::Invalid(format!("phrase shape {self} overflows")))
    }

    /// Cells of one bar of one track.
    pub(super) fn bar_cells(&self) -> usize {
        self.steps_per_bar * self.pitches
    }
}

impl std::fmt::Display for PhraseShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}×{}×{}×{}×{}",
            self.samples, self.tracks, self.bars, self.steps_per_bar, self.pitches
        )
    }
}

/// A borrowed phrase tensor (see [`PhraseShape`] for the layout) with one drum flag per track.
///
/// ```
/// use museroll_core::metrics::{PhraseShape, PhraseView};
/// use museroll_core::{Pitch, Resolution};
/// let shape = PhraseShape {
///     samples: 2, tracks: 2, bars: 4, steps_per_bar: 48, pitches: 84,
///     lowest_pitch: Pitch::new(24).unwrap(), resolution: Resolution::new(12).unwrap(),
/// };
/// let data = vec![false; 2 * 2 * 4 * 48 * 84];
/// assert!(PhraseView::new(&data, shape, &[true, false]).is_ok());
/// assert!(PhraseView::new(&data[1..], shape, &[true, false]).is_err());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PhraseView<'a, C: Cell> {
    data: &'a [C],
    shape: PhraseShape,
    is_drum: &'a [bool],
}

impl<'a, C: Cell> PhraseView<'a, C> {
    /// Checks that `data` holds exactly the cells of `shape` and that there is one drum flag per
    /// track.
    pub fn new(data: &'a [C], shape: PhraseShape, is_drum: &'a [bool]) -> Result<Self> {
        let cells = shape.cells()?;
        if data.len() != cells {
            return Err(Error::Invalid(format!(
                "phrase data has {} cells but shape {shape} needs {cells}",
                data.len()
            )));
        }
        if is_drum.len() != shape.tracks {
            return Err(Error::Invalid(format!(
                "{} drum flags for {} tracks",
                is_drum.len(),
                shape.tracks
            )));
        }
        Ok(PhraseView {
            data,
            shape,
            is_drum,
        })
    }

    /// The shape.
    pub fn shape(&self) -> PhraseShape {
        self.shape
    }

    /// The drum flag of every track.
    pub fn is_drum(&self) -> &'a [bool] {
        self.is_drum
    }

    /// The cells of one sample, `[track][bar][step][pitch]`.
    pub(super) fn sample(&self, s: usize) -> &'a [C] {
        let len = self.data.len() / self.shape.samples.max(1);
        self.data.get(s * len..(s + 1) * len).unwrap_or(&[])
    }
}

/// A phrase tensor that owns its cells (velocities, 0 = silent), e.g. cut from a [`Multitrack`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phrase {
    data: Vec<u8>,
    shape: PhraseShape,
    is_drum: Vec<bool>,
}

impl Phrase {
    /// One sample holding the whole of `multitrack`, cut into bars of 4/4 (4 beats at its
    /// resolution, whatever its time signatures say), the last bar padded with silence, keeping
    /// the `pitches` pitch columns from `lowest_pitch` (notes outside are ignored).
    ///
    /// Notes are maximal runs of active steps here, as in any piano-roll tensor: the onset plane of
    /// the tracks is not carried over, so a note struck again right where it ended counts as one.
    ///
    /// ```
    /// use museroll_core::metrics::Phrase;
    /// use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, Roll, RollKind, Track};
    /// let mut song = Multitrack::new(Resolution::new(4).unwrap());
    /// let mut piano = Track::new("Piano", Program::default(), false, 20);
    /// piano.roll = Roll::from_notes(RollKind::Binary, 20,
    ///     [Note { pitch: Pitch::MIDDLE_C, start: 0, end: 20, velocity: 1 }]);
    /// song.tracks.push(piano);
    /// let phrase = Phrase::from_multitrack(&song, Pitch::new(24).unwrap(), 84).unwrap();
    /// assert_eq!(phrase.shape().bars, 2); // 20 steps of 16-step bars
    /// ```
    pub fn from_multitrack(
        multitrack: &Multitrack,
        lowest_pitch: Pitch,
        pitches: usize,
    ) -> Result<Phrase> {
        let resolution = multitrack.resolution();
        let steps_per_bar = 4 * resolution.steps();
        let shape = PhraseShape {
            samples: 1,
            tracks: multitrack.tracks.len(),
            bars: multitrack.len().div_ceil(steps_per_bar),
            steps_per_bar,
            pitches,
            lowest_pitch,
            resolution,
        };
        if multitrack.is_empty() {
            return Err(Error::Invalid(
                "a multitrack without tracks or steps has no bars to measure".into(),
            ));
        }
        let cells = shape.cells()?;
        let mut data = vec![0u8; cells];
        let track_cells = shape.bars * shape.bar_cells();
        let low = lowest_pitch.index();
        for (track, out) in multitrack
            .tracks
            .iter()
            .zip(data.chunks_exact_mut(track_cells))
        {
            for (row, out) in track.roll.steps().iter().zip(out.chunks_exact_mut(pitches)) {
                if let Some(cells) = row.get(low..low + pitches) {
                    out.copy_from_slice(cells);
                }
            }
        }
        Ok(Phrase {
            data,
            shape,
            is_drum: multitrack.tracks.iter().map(|t| t.is_drum).collect(),
        })
    }

    /// The shape.
    pub fn shape(&self) -> PhraseShape {
        self.shape
    }

    /// The cells, laid out as [`PhraseShape`] says.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// A view for [`crate::metrics::evaluate`].
    pub fn view(&self) -> PhraseView<'_, u8> {
        PhraseView {
            data: &self.data,
            shape: self.shape,
            is_drum: &self.is_drum,
        }
    }
}

/// Packs `cells` (rows of `pitches` cells, see [`PhraseShape`]) into one `u128` per row, bit
/// `lowest + i` set when column `i` is on: bit positions are MIDI pitches. Rows beyond the
/// shorter of `cells` and `out` are left alone.
pub(super) fn pack_rows<C: Cell>(cells: &[C], pitches: usize, lowest: usize, out: &mut [u128]) {
    for (row, bits) in cells.chunks_exact(pitches).zip(out.iter_mut()) {
        // Byte i holds columns 8i..8i+8: fixed byte stores, one shift at the end.
        let mut bytes = [0u8; 16];
        let mut chunks = row.chunks_exact(8);
        for (byte, chunk) in bytes.iter_mut().zip(&mut chunks) {
            if let Ok(chunk) = <&[C; 8]>::try_from(chunk) {
                *byte = C::pack8(chunk);
            }
        }
        let tail = chunks
            .remainder()
            .iter()
            .enumerate()
            .fold(0u8, |b, (i, c)| b | (u8::from(c.is_on()) << i));
        if let Some(byte) = bytes.get_mut(pitches / 8) {
            *byte = tail;
        }
        *bits = u128::from_le_bytes(bytes) << lowest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack8_matches_is_on() {
        let bytes: [u8; 8] = [0, 1, 0, 200, 128, 0, 127, 1];
        // bits 1, 3, 4, 6, 7 are nonzero
        assert_eq!(u8::pack8(&bytes), 0b1101_1010);
        let bools = bytes.map(|b| b != 0);
        assert_eq!(bool::pack8(&bools), 0b1101_1010);
        assert_eq!(u8::pack8(&[255; 8]), 0xff);
        assert_eq!(u8::pack8(&[0; 8]), 0);
    }

    #[test]
    fn pack_rows_puts_columns_at_midi_positions() {
        // two rows of 11 pitches from MIDI 117 (the top one is 127): row 0 has columns 0 (packed
        // in a chunk of 8), 9 and 10 (the remainder), row 1 column 7
        let mut cells = [0u8; 22];
        cells[0] = 1;
        cells[9] = 1;
        cells[10] = 9;
        cells[11 + 7] = 1;
        let mut out = [0u128; 2];
        pack_rows(&cells, 11, 117, &mut out);
        assert_eq!(out[0], (1u128 << 117) | (1u128 << 126) | (1u128 << 127));
        assert_eq!(out[1], 1u128 << 124);
    }

    #[test]
    fn shape_errors_name_the_problem() {
        let shape = PhraseShape {
            samples: 1,
            tracks: 1,
            bars: 1,
            steps_per_bar: 4,
            pitches: 84,
            lowest_pitch: Pitch::new(50).unwrap(),
            resolution: Resolution::new(1).unwrap(),
        };
        let err = shape.cells().unwrap_err().to_string();
        assert!(err.contains("MIDI 50..134"), "{err}");
        let zero = PhraseShape { bars: 0, ..shape };
        assert!(zero.cells().unwrap_err().to_string().contains("0 bars"));
        let huge = PhraseShape {
            samples: usize::MAX,
            lowest_pitch: Pitch::MIN,
            ..shape
        };
        assert!(huge.cells().unwrap_err().to_string().contains("overflows"));
        let no_samples_huge_bars = PhraseShape {
            samples: 0,
            bars: usize::MAX / 2,
            lowest_pitch: Pitch::MIN,
            ..shape
        };
        assert!(no_samples_huge_bars.cells().is_err());
        let too_many_pitches = PhraseShape {
            pitches: usize::MAX,
            ..shape
        };
        assert!(too_many_pitches
            .cells()
            .unwrap_err()
            .to_string()
            .contains("run past"));
    }
}
