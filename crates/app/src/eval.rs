//! Samples compared with a dataset on the objective metrics (the BinaryMuseGAN paper's Table 1
//! form: training data vs samples), voice leading for four voices, and the distributions, copies
//! and variety of [`crate::compare`].

use crate::compare::comparison;
use crate::data::{metrics_config, require_phrases, MetricsTable};
use crate::error::{Error, Result};
use museroll_core::dataset::{self, BuildOptions, Dataset, Manifest, Origin, Progress, Split};
use museroll_core::dataset::{Windows, MANIFEST_FILE};
use std::path::Path;

/// Measures `samples` against `reference`'s `split` (`None`: every phrase) with the metric
/// settings of the TOML file `metrics` (default: the defaults): the table's columns are
/// "training data" and "samples", broken down by the reference's tracks.
///
/// `samples` is a dataset directory, or music files (a file or a directory of MIDI / MusicXML /
/// .npz) cut into phrases with the reference's own settings (every window, no content filter, no
/// augmentation) in a temporary dataset, the files read reported to `progress`. The samples'
/// phrases must have the reference's shape and their tracks the reference's instruments.
pub fn eval(
    samples: &Path,
    reference: &Path,
    split: Option<Split>,
    metrics: Option<&Path>,
    progress: &dyn Progress,
) -> Result<MetricsTable> {
    let reference = Dataset::open(reference)?;
    let config = metrics_config(metrics)?;
    require_phrases(&reference, split, reference.dir())?;
    let data_report = dataset::dataset_metrics(&reference, split, &config)?;
    // Lives until the samples are measured: a temporary dataset is read by offset.
    let scratch;
    let samples_ds = if samples.join(MANIFEST_FILE).is_file() {
        Dataset::open(samples)?
    } else {
        let Origin::Build {
            options: reference_options,
            ..
        } = &reference.manifest().origin
        else {
            return Err(Error::ImportedReference {
                reference: reference.dir().to_path_buf(),
            });
        };
        let build = BuildOptions {
            windows: Windows::Hop(reference_options.bars),
            min_content: Vec::new(),
            min_nonempty_tracks: 0,
            transpositions: vec![0],
            validation_fraction: 0.0,
            ..reference_options.clone()
        };
        scratch = tempfile::tempdir().map_err(Error::Scratch)?;
        let dir = scratch.path().join("samples");
        dataset::build(&[samples.to_path_buf()], &dir, &build, progress)?;
        Dataset::open(&dir)?
    };
    require_phrases(&samples_ds, None, samples)?;
    check_comparable(samples_ds.manifest(), reference.manifest(), samples)?;
    let sample_report = dataset::dataset_metrics(&samples_ds, None, &config)?;
    let mut table = MetricsTable::new(
        reference.manifest(),
        vec![("training data", data_report), ("samples", sample_report)],
    )
    .with_voice_leading(&[(&reference, split), (&samples_ds, None)])?;
    table.comparison = Some(comparison(&samples_ds, &reference, split)?);
    Ok(table)
}

/// Refuses samples (`ours`, from `samples`) whose phrases have another shape than the
/// reference's (`theirs`), or whose tracks are other instruments: the table compares track by
/// track.
fn check_comparable(ours: &Manifest, theirs: &Manifest, samples: &Path) -> Result<()> {
    let shape = |m: &Manifest| {
        let s = &m.shape;
        format!(
            "{} tracks × {} bars × {} steps × {} pitches from {}",
            s.tracks, s.bars, s.steps_per_bar, s.pitches, m.lowest_pitch
        )
    };
    if shape(ours) != shape(theirs) {
        return Err(Error::ShapeMismatch {
            samples: samples.to_path_buf(),
            ours: shape(ours),
            theirs: shape(theirs),
        });
    }
    if let Some((a, b)) = ours
        .tracks
        .iter()
        .zip(&theirs.tracks)
        .find(|(a, b)| a.is_drum != b.is_drum || a.name != b.name)
    {
        return Err(Error::TrackMismatch {
            samples: samples.to_path_buf(),
            ours: a.name.clone(),
            theirs: b.name.clone(),
        });
    }
    Ok(())
}
