//! Samples judged against a reference the way reviewers ask for, beyond metric means: how their
//! feature distributions overlap the data's (Yang & Lerch), whether they copy the training
//! phrases (memorization, with the validation split as the baseline), and how varied they are
//! (diversity). The rules are those of `museroll_core::evaluation`.

use crate::error::Result;
use museroll_core::dataset::{Dataset, Origin, Split};
use museroll_core::evaluation::memorization::{
    diversity, memorization, nearest, Diversity, Memorization, PackedPhrases,
};
use museroll_core::evaluation::yang_lerch::{compare, features, FeatureComparison};
use museroll_core::metrics::{PhraseShape, PhraseView};

/// The most reference phrases the distribution comparison and the diversity read: evenly
/// spaced over the split (every pair of them is measured, so the cost grows with the square).
pub const MAX_REFERENCE_PHRASES: usize = 1000;
/// A generated phrase within this relative Hamming distance of a training phrase (its differing
/// cells over the sounding cells of both) counts as a near copy.
pub const NEAR_COPY_THRESHOLD: f64 = 0.1;

/// One set's comparison with the reference.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Reference phrases the distributions and the diversity were measured on.
    pub reference_phrases: usize,
    /// Yang & Lerch, feature by feature: set A is the samples, set B the reference.
    pub yang_lerch: Vec<FeatureComparison>,
    /// The samples' nearest training phrases.
    pub memorization: Memorization,
    /// The same for the reference's validation split, if it has one: what a set of new
    /// phrases by the same composer scores.
    pub validation_baseline: Option<Memorization>,
    /// Variety of the reference's phrases.
    pub reference_diversity: Diversity,
    /// Variety of the samples.
    pub samples_diversity: Diversity,
}

/// `n` indices evenly spaced over `indices` (all of them when there are at most `n`).
fn spread(indices: &[u32], n: usize) -> Vec<u32> {
    if indices.len() <= n {
        return indices.to_vec();
    }
    (0..n).map(|k| indices[k * indices.len() / n]).collect()
}

/// The cells of `indices` of `dataset`, and their shape.
fn read(dataset: &Dataset, indices: &[u32]) -> Result<(Vec<u8>, PhraseShape)> {
    let mut cells = vec![0u8; indices.len() * dataset.phrase_cells()];
    dataset.read_batch(indices, &mut cells)?;
    let shape = PhraseShape {
        samples: indices.len(),
        ..dataset.shape()
    };
    Ok((cells, shape))
}

/// The phrases of `indices` of `dataset`, packed for Hamming distances.
fn packed(dataset: &Dataset, indices: &[u32]) -> Result<PackedPhrases> {
    let (cells, shape) = read(dataset, indices)?;
    Ok(PackedPhrases::from_view(&PhraseView::new(
        &cells,
        shape,
        dataset.is_drum(),
    )?)?)
}

/// The largest transposition of the reference's augmentation (a generated phrase may copy a
/// transposed training phrase; 0 without augmentation).
fn augmentation(reference: &Dataset) -> u32 {
    match &reference.manifest().origin {
        Origin::Build { options, .. } => options
            .transpositions
            .iter()
            .map(|t| u32::from(t.unsigned_abs()))
            .max()
            .unwrap_or(0),
        _ => 0,
    }
}

/// Compares every phrase of `samples` with `reference`'s `split` (`None`: every phrase).
///
/// # Errors
/// Errors of reading the datasets; [`crate::Error::Core`] when a set has fewer than two phrases.
pub fn comparison(
    samples: &Dataset,
    reference: &Dataset,
    split: Option<Split>,
) -> Result<Comparison> {
    let all_samples = samples.indices(None);
    let reference_indices = spread(&reference.indices(split), MAX_REFERENCE_PHRASES);
    let tracks: Vec<usize> = (0..reference.shape().tracks).collect();
    let (cells, shape) = read(samples, &all_samples)?;
    let ours = PhraseView::new(&cells, shape, samples.is_drum())?;
    let (ref_cells, ref_shape) = read(reference, &reference_indices)?;
    let theirs = PhraseView::new(&ref_cells, ref_shape, reference.is_drum())?;
    let yang_lerch = compare(&features(&ours, &tracks)?, &features(&theirs, &tracks)?)?;

    let train = packed(reference, reference.split(Split::Train))?;
    let shift = augmentation(reference);
    let generated = PackedPhrases::from_view(&ours)?;
    let found = nearest(&generated, &train, shift)?;
    let validation = reference.split(Split::Validation);
    let validation_baseline = if validation.is_empty() {
        None
    } else {
        let found = nearest(&packed(reference, validation)?, &train, shift)?;
        Some(memorization(&found, NEAR_COPY_THRESHOLD)?)
    };
    Ok(Comparison {
        reference_phrases: reference_indices.len(),
        yang_lerch,
        memorization: memorization(&found, NEAR_COPY_THRESHOLD)?,
        validation_baseline,
        reference_diversity: diversity(&PackedPhrases::from_view(&theirs)?)?,
        samples_diversity: diversity(&generated)?,
    })
}

impl Comparison {
    /// The comparison in Markdown: one table per part.
    pub fn markdown(&self) -> String {
        let mut text = format!(
            "\n## Distributions (Yang & Lerch: samples vs {} reference phrases)\n\n| feature | \
             overlapping area | KL divergence (nats) |\n|---|---:|---:|\n",
            self.reference_phrases
        );
        for c in &self.yang_lerch {
            text.push_str(&format!(
                "| {} | {:.3} | {:.3} |\n",
                c.feature.name(),
                c.overlap_area_a,
                c.kl_divergence_a
            ));
        }
        let m = &self.memorization;
        text.push_str(&format!(
            "\n## Memorization (nearest training phrase; a near copy is within {:.0} % of the \
             sounding cells)\n\n| | samples | validation split (baseline) |\n|---|---:|---:|\n",
            m.threshold * 100.0
        ));
        let base = self.validation_baseline.as_ref();
        let cell = |f: fn(&Memorization) -> String| base.map_or("–".to_string(), f);
        text.push_str(&format!(
            "| near-copy share | {:.3} | {} |\n| exact copies | {} | {} |\n| mean relative \
             distance to the nearest | {:.3} | {} |\n",
            m.near_copy_share,
            cell(|b| format!("{:.3}", b.near_copy_share)),
            m.exact_copies,
            cell(|b| b.exact_copies.to_string()),
            m.mean_relative_distance,
            cell(|b| format!("{:.3}", b.mean_relative_distance)),
        ));
        let (r, s) = (&self.reference_diversity, &self.samples_diversity);
        text.push_str(&format!(
            "\n## Diversity\n\n| | reference | samples |\n|---|---:|---:|\n| phrases | {} | {} \
             |\n| distinct phrases | {} | {} |\n| mean pairwise relative distance | {:.3} | \
             {:.3} |\n",
            r.phrases,
            s.phrases,
            r.distinct,
            s.distinct,
            r.mean_relative_distance,
            s.mean_relative_distance
        ));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_evenly_spaced_indices() {
        let all: Vec<u32> = (0..10).collect();
        assert_eq!(spread(&all, 20), all);
        assert_eq!(spread(&all, 5), [0, 2, 4, 6, 8]);
        assert_eq!(spread(&all, 3), [0, 3, 6]);
    }
}
