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

    /// The on/off states of 64 consecutive cells, bit `i` = `cells[i]`. The default asks
    /// [`Cell::is_on`] 64 times; `bool` and `u8` test 16 cells at once, after one test for
    /// all 64 being off (as most cells of a piano roll are).
    fn pack64(cells: &[Self; 64]) -> u64 {
        cells
            .iter()
            .enumerate()
            .fold(0, |bits, (i, c)| bits | (u64::from(c.is_on()) << i))
    }
}

impl Cell for bool {
    fn is_on(self) -> bool {
        self
    }

    #[inline]
    fn pack64(cells: &[bool; 64]) -> u64 {
        u8::pack64(&cells.map(u8::from))
    }
}

impl Cell for u8 {
    fn is_on(self) -> bool {
        self != 0
    }

    #[inline]
    fn pack64(cells: &[u8; 64]) -> u64 {
        let (words, _) = cells.as_chunks::<8>();
        if words.iter().fold(0, |any, w| any | u64::from_ne_bytes(*w)) == 0 {
            return 0;
        }
        let (quarters, _) = cells.as_chunks::<16>();
        quarters
            .iter()
            .enumerate()
            .fold(0, |bits, (i, q)| bits | u64::from(nonzero16(q)) << (16 * i))
    }
}

/// The nonzero bytes of `chunk` as bits, byte `i` → bit `i`: one SSE2 compare and movemask on
/// x86-64 (SSE2 is part of that target), two 8-byte gathers elsewhere.
#[inline]
fn nonzero16(chunk: &[u8; 16]) -> u16 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_setzero_si128,
        };
        // SAFETY: SSE2 is enabled at compile time (the cfg above), and the unaligned load reads
        // exactly the 16 bytes of `chunk`.
        let zero = unsafe {
            let bytes = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_setzero_si128()))
        };
        // The movemask has bit i set for each zero byte i, in its low 16 bits.
        !(zero as u16)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        nonzero16_portable(chunk)
    }
}

/// [`nonzero16`] with 64-bit arithmetic only.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn nonzero16_portable(chunk: &[u8; 16]) -> u16 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let (halves, _) = chunk.as_chunks::<8>();
    halves.iter().enumerate().fold(0, |bits, (i, half)| {
        let x = u64::from_le_bytes(*half);
        // Bit 7 of a byte ends up set iff the byte is nonzero; no carry crosses bytes.
        let nonzero = ((x | ((x & LOW7) + LOW7)) >> 7) & 0x0101_0101_0101_0101;
        // Every product term 2^(8i) · 2^(7j+7) lands on a distinct bit, and those with
        // i + j = 7 fill bits 56..64: the low bit of byte i goes to bit 56 + i.
        bits | ((nonzero.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u16) << (8 * i)
    })
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
    /// This shape with no samples (the layout of a set still to be filled), checked as
    /// [`PhraseShape::cells`] does and against one drum flag per track.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a degenerate shape or a wrong number of drum flags.
    pub fn empty_set(self, is_drum: &[bool]) -> Result<PhraseShape> {
        let shape = PhraseShape { samples: 0, ..self };
        shape.cells()?;
        if is_drum.len() != shape.tracks {
            return Err(Error::Invalid(format!(
                "{} drum flags for {} tracks",
                is_drum.len(),
                shape.tracks
            )));
        }
        Ok(shape)
    }

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

    /// All the cells, laid out as [`PhraseShape`] says.
    pub fn data(&self) -> &'a [C] {
        self.data
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

/// One bar of one track, packed by a [`Packer`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Bar<'a> {
    /// One row per step, bit = MIDI pitch.
    pub(super) rows: &'a [u128],
    /// The steps whose row is not 0, ascending.
    pub(super) active: &'a [usize],
}

impl<'a> Bar<'a> {
    /// Each active step `t` with its row and the row of step `t − 1` (0 for the first step).
    #[inline(always)]
    pub(super) fn active_rows(self) -> impl Iterator<Item = (usize, u128, u128)> + 'a {
        let rows = self.rows;
        self.active.iter().map(move |&t| {
            let row = rows.get(t).copied().unwrap_or(0);
            let previous = t.checked_sub(1).and_then(|p| rows.get(p)).copied();
            (t, row, previous.unwrap_or(0))
        })
    }
}

/// Packs the bars of phrases of one shape into [`Bar`]s, reusing its buffers.
///
/// A bar's cells are one run of `steps × pitches` cells, read 64 at a time as the bits of a
/// word, with no per-row remainder. Few cells are on (well under 1% in generated or real
/// music), so most words are 0 and cost only the test; the bits of the others are cut at the
/// row boundaries the word spans and put into their rows.
#[derive(Clone, Debug)]
pub(super) struct Packer {
    pitches: usize,
    lowest: usize,
    /// The row and column of the first cell of each run of 64.
    starts: Vec<(usize, usize)>,
    /// The rows, 0 but for those listed in `active[..listed]`.
    rows: Vec<u128>,
    active: Vec<usize>,
    listed: usize,
}

impl Packer {
    /// A packer for bars of `shape` (which must have passed [`PhraseShape::cells`]).
    pub(super) fn new(shape: &PhraseShape) -> Packer {
        let pitches = shape.pitches.max(1);
        Packer {
            pitches,
            lowest: shape.lowest_pitch.index(),
            starts: (0..shape.bar_cells().div_ceil(64))
                .map(|w| (w * 64 / pitches, w * 64 % pitches))
                .collect(),
            rows: vec![0; shape.steps_per_bar],
            active: vec![0; shape.steps_per_bar],
            listed: 0,
        }
    }

    /// Packs one bar, `cells` being its `steps × pitches` cells; rows past the end of `cells`
    /// are 0.
    #[inline(always)]
    pub(super) fn pack<C: Cell>(&mut self, cells: &[C]) -> Bar<'_> {
        for &t in self.active.get(..self.listed).unwrap_or(&[]) {
            if let Some(row) = self.rows.get_mut(t) {
                *row = 0;
            }
        }
        let (pitches, lowest) = (self.pitches, self.lowest);
        let (rows, active) = (&mut self.rows, &mut self.active);
        let mut n = 0;
        // Puts the bits of `word`, whose bit 0 is cell `column` of row `t`, into the rows.
        let mut add = |mut bits: u64, (mut t, mut column): (usize, usize)| {
            while bits != 0 {
                // Bits 0..width are the rest of row t, from `column` on (width ≥ 1).
                let width = pitches - column;
                let part = bits & (u64::MAX >> 64usize.saturating_sub(width));
                if let Some(row) = rows.get_mut(t).filter(|_| part != 0) {
                    *row |= u128::from(part) << (lowest + column);
                    // A row spanning two words is listed once.
                    if n == 0 || active.get(n - 1) != Some(&t) {
                        if let Some(slot) = active.get_mut(n) {
                            *slot = t;
                            n += 1;
                        }
                    }
                }
                bits = bits.checked_shr(width as u32).unwrap_or(0);
                (t, column) = (t + 1, 0);
            }
        };
        let (blocks, tail) = cells.as_chunks::<64>();
        for (block, &start) in blocks.iter().zip(&self.starts) {
            add(C::pack64(block), start);
        }
        if let (Some(&first), Some(&start)) = (tail.first(), self.starts.get(blocks.len())) {
            // The tail padded with copies of its first cell, whose bits are then dropped.
            let block = std::array::from_fn(|i| tail.get(i).copied().unwrap_or(first));
            add(C::pack64(&block) & !(u64::MAX << tail.len()), start);
        }
        self.listed = n;
        Bar {
            rows: &self.rows,
            active: self.active.get(..n).unwrap_or(&[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack64_matches_is_on() {
        let mut bytes = [0u8; 64];
        for (i, b) in [
            (1, 1),
            (3, 200),
            (4, 128),
            (6, 127),
            (7, 1),
            (15, 255),
            (40, 2),
            (63, 9),
        ] {
            bytes[i] = b;
        }
        let expected = [1, 3, 4, 6, 7, 15, 40, 63]
            .iter()
            .fold(0, |m, i| m | 1 << i);
        assert_eq!(u8::pack64(&bytes), expected);
        assert_eq!(bool::pack64(&bytes.map(|b| b != 0)), expected);
        // the default method, through a cell type of our own
        #[derive(Clone, Copy)]
        struct Loud(u8);
        impl Cell for Loud {
            fn is_on(self) -> bool {
                self.0 != 0
            }
        }
        assert_eq!(Loud::pack64(&bytes.map(Loud)), expected);
        assert_eq!(u8::pack64(&[0; 64]), 0);
        assert_eq!(u8::pack64(&[128; 64]), u64::MAX);
    }

    #[test]
    fn nonzero16_forms_agree_on_every_byte_value_in_every_place() {
        // each byte value at each position, among neighbours of every kind
        for value in 0..=255u8 {
            for place in 0..16 {
                let mut bytes: [u8; 16] = std::array::from_fn(|i| (i as u8).wrapping_mul(value));
                bytes[place] = value;
                let expected = bytes
                    .iter()
                    .enumerate()
                    .fold(0u16, |m, (i, &b)| m | u16::from(b != 0) << i);
                assert_eq!(nonzero16(&bytes), expected);
                assert_eq!(nonzero16_portable(&bytes), expected);
            }
        }
    }

    /// A packer for bars of `steps` rows of `pitches` pitches from MIDI `lowest`.
    fn packer(steps: usize, pitches: usize, lowest: u8) -> Packer {
        let shape = PhraseShape {
            samples: 1,
            tracks: 1,
            bars: 1,
            steps_per_bar: steps,
            pitches,
            lowest_pitch: Pitch::new(lowest).unwrap(),
            resolution: Resolution::new(1).unwrap(),
        };
        assert!(shape.cells().is_ok());
        Packer::new(&shape)
    }

    #[test]
    fn packing_puts_columns_at_midi_positions_and_lists_active_steps() {
        // three rows of 11 pitches from MIDI 117 (the top one is 127): row 0 has columns 0, 9
        // and 10, row 1 none, row 2 column 7
        let mut cells = [0u8; 33];
        cells[0] = 1;
        cells[9] = 1;
        cells[10] = 9;
        cells[22 + 7] = 1;
        let mut packer = packer(3, 11, 117);
        let bar = packer.pack(&cells);
        assert_eq!(
            bar.rows,
            [(1 << 117) | (1 << 126) | (1 << 127), 0, 1 << 124]
        );
        assert_eq!(bar.active, [0, 2]);
        let rows: Vec<_> = bar.active_rows().collect();
        assert_eq!(rows[1], (2, 1 << 124, 0));
        // a bar packed after another owes nothing to it
        cells[..11].fill(0);
        let bar = packer.pack(&cells);
        assert_eq!(bar.rows, [0, 0, 1 << 124]);
        assert_eq!(bar.active, [2]);
        // missing cells are off
        let bar = packer.pack(&cells[..20]);
        assert_eq!((bar.rows, bar.active), (&[0; 3][..], &[][..]));
    }

    #[test]
    fn packing_matches_cell_by_cell_at_every_width() {
        // every width from 1 to 128 pitches, over 5 steps (rows straddle words in every way),
        // at the lowest position the width allows, twice (the second bar must not see the first)
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let steps = 5;
        for pitches in 1..=128 {
            let lowest = 128 - pitches;
            let mut packer = packer(steps, pitches, lowest as u8);
            for _ in 0..2 {
                let cells: Vec<u8> = (0..steps * pitches)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // about a third of the cells on, with velocities up to 255
                        if seed.is_multiple_of(3) {
                            (seed >> 8) as u8 | 1
                        } else {
                            0
                        }
                    })
                    .collect();
                let bar = packer.pack(&cells);
                let expected: Vec<u128> = cells
                    .chunks_exact(pitches)
                    .map(|row| {
                        row.iter()
                            .enumerate()
                            .fold(0, |b, (i, &c)| b | u128::from(c != 0) << (lowest + i))
                    })
                    .collect();
                assert_eq!(bar.rows, expected, "{pitches} pitches");
                let sounding: Vec<usize> = (0..steps).filter(|&t| expected[t] != 0).collect();
                assert_eq!(bar.active, sounding, "{pitches} pitches");
            }
        }
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
