//! Memorization finds planted copies and transpositions; diversity counts and measures; bad
//! inputs are refused with one-line errors.

use museroll_core::evaluation::memorization::{diversity, memorization, nearest, PackedPhrases};
use museroll_core::metrics::{PhraseShape, PhraseView};
use museroll_core::{Pitch, Resolution};

/// A drum track and a pitched one, 2 bars of 8 steps, 24 pitches from C3.
const DRUMS: [bool; 2] = [true, false];
const CELLS: usize = 2 * 2 * 8 * 24;

fn shape(samples: usize) -> PhraseShape {
    PhraseShape {
        samples,
        tracks: 2,
        bars: 2,
        steps_per_bar: 8,
        pitches: 24,
        lowest_pitch: Pitch::new(48).unwrap(),
        resolution: Resolution::new(2).unwrap(),
    }
}

fn pack(cells: &[u8]) -> PackedPhrases {
    let view = PhraseView::new(cells, shape(cells.len() / CELLS), &DRUMS).unwrap();
    PackedPhrases::from_view(&view).unwrap()
}

/// `n` random phrases: a few drum hits and a few pitched notes in columns 6..18, so any
/// transposition by up to 6 semitones stays in range.
fn random_phrases(n: usize, mut seed: u64) -> Vec<u8> {
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m) as usize
    };
    let mut cells = vec![0u8; n * CELLS];
    for phrase in cells.chunks_exact_mut(CELLS) {
        let (drums, pitched) = phrase.split_at_mut(CELLS / 2);
        for _ in 0..4 {
            drums[next(16) * 24 + next(3)] = 1;
        }
        for _ in 0..5 {
            let (start, len, column) = (next(16), 1 + next(4), 6 + next(12));
            for t in start..(start + len).min(16) {
                pitched[t * 24 + column] = 1;
            }
        }
    }
    cells
}

/// Phrase `cells` with its pitched track moved by `semitones` (drums kept).
fn transpose(cells: &[u8], semitones: isize) -> Vec<u8> {
    let mut out = cells.to_vec();
    let pitched = &mut out[CELLS / 2..];
    pitched.fill(0);
    for (i, &c) in cells[CELLS / 2..].iter().enumerate() {
        if c != 0 {
            let column = (i % 24) as isize + semitones;
            pitched[i - i % 24 + column as usize] = 1;
        }
    }
    out
}

#[test]
fn a_planted_copy_and_a_planted_transposition_are_found() {
    let train_cells = random_phrases(30, 0x5eed);
    let train = pack(&train_cells);
    let phrase = |i: usize| &train_cells[i * CELLS..(i + 1) * CELLS];
    let mut queries = Vec::new();
    queries.extend_from_slice(phrase(17)); // a copy
    queries.extend(transpose(phrase(4), 3)); // phrase 4 up a minor third
    let mut altered = phrase(9).to_vec();
    altered[CELLS / 2 + 8 * 24] ^= 1; // phrase 9 with one cell flipped
    queries.extend(altered);
    queries.extend(random_phrases(1, 0xface)); // something new
    let queries = pack(&queries);

    let found = nearest(&queries, &train, 6).unwrap();
    let got: Vec<_> = found
        .iter()
        .map(|f| (f.index, f.transposition, f.distance))
        .collect();
    assert_eq!(&got[..3], [(17, 0, 0), (4, -3, 0), (9, 0, 1)]);
    assert!(found[3].distance > 5, "{:?}", found[3]);
    assert_eq!(found[0].relative, 0.0);

    // without transpositions, the transposed copy is not found at distance 0
    let plain = nearest(&queries, &train, 0).unwrap();
    assert!(plain[1].distance > 0 && plain[1].transposition == 0);

    let summary = memorization(&found, 0.1).unwrap();
    assert_eq!(
        (summary.phrases, summary.near_copies, summary.exact_copies),
        (4, 3, 2)
    );
    assert_eq!(summary.near_copy_share, 0.75);
    let strict = memorization(&found, 0.0).unwrap();
    assert_eq!(strict.near_copies, 2);
}

#[test]
fn transpositions_that_leave_the_range_are_not_tried() {
    // a pitched note on the top column: the query shifted up would lose it
    let mut query = vec![0u8; CELLS];
    query[CELLS / 2 + 23] = 1;
    let mut target = vec![0u8; CELLS];
    target[CELLS / 2 + 1] = 1; // the same note 22 semitones lower
    let found = nearest(&pack(&query), &pack(&target), 127).unwrap();
    assert_eq!((found[0].transposition, found[0].distance), (-22, 0));
    // drums never move: a drum hit and a pitched note one column apart stay 2 cells apart
    let mut drum = vec![0u8; CELLS];
    drum[5] = 1;
    let mut other = vec![0u8; CELLS];
    other[6] = 1;
    let found = nearest(&pack(&drum), &pack(&other), 3).unwrap();
    assert_eq!((found[0].transposition, found[0].distance), (0, 2));
}

#[test]
fn diversity_counts_distinct_phrases_and_measures_pairs() {
    let mut cells = random_phrases(3, 7);
    let first = cells[..CELLS].to_vec();
    cells.extend(first); // phrase 3 = phrase 0
    let set = pack(&cells);
    let d = diversity(&set).unwrap();
    assert_eq!((d.phrases, d.distinct), (4, 3));
    // the mean over the 6 pairs, worked out the slow way
    let phrase = |i: usize| &cells[i * CELLS..(i + 1) * CELLS];
    let mut sum = 0usize;
    for i in 0..4 {
        for j in i + 1..4 {
            sum += phrase(i)
                .iter()
                .zip(phrase(j))
                .filter(|(a, b)| (**a != 0) != (**b != 0))
                .count();
        }
    }
    assert_eq!(d.mean_distance, sum as f64 / 6.0);
    assert!(d.mean_relative_distance > 0.0 && d.mean_relative_distance <= 1.0);
    let one = diversity(&pack(&cells[..CELLS])).unwrap();
    assert_eq!(one.distinct, 1);
    assert!(one.mean_distance.is_nan());
}

#[test]
fn bad_inputs_get_one_line_errors() {
    let train = pack(&random_phrases(2, 1));
    let empty = PackedPhrases::new(shape(0), &DRUMS).unwrap();
    assert!(empty.is_empty());
    let e = nearest(&empty, &train, 0).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value: memorization: the query set of phrases is empty"
    );
    assert!(diversity(&empty).unwrap_err().to_string().contains("empty"));
    assert!(memorization(&[], 0.1).is_err());
    let found = nearest(&train, &train, 0).unwrap();
    assert!(memorization(&found, 1.5)
        .unwrap_err()
        .to_string()
        .contains("threshold 1.5"));

    let wider = PhraseShape {
        pitches: 36,
        ..shape(1)
    };
    let cells = vec![0u8; wider.cells().unwrap()];
    let other = PackedPhrases::from_view(&PhraseView::new(&cells, wider, &DRUMS).unwrap()).unwrap();
    let e = nearest(&other, &train, 0).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value: phrases of 2 tracks × 2 bars × 8 steps × 36 pitches from MIDI 48 cannot \
         be compared with phrases of 2 tracks × 2 bars × 8 steps × 24 pitches from MIDI 48 (or \
         their drum tracks differ)"
    );
    let mut growing = train.clone();
    let e = growing
        .push(&PhraseView::new(&cells, wider, &DRUMS).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("36 pitches"), "{e}");
    assert!(PackedPhrases::new(shape(0), &[false]).is_err());
}
