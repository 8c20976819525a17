//! Markdown tables of metrics reports, in the form of the BinaryMuseGAN paper's Table 1: one row
//! per metric, one column per source (training data, samples…), then the same per track.

use super::report::{Metric, MetricsReport};
use std::fmt::Write;

/// A value as the table shows it: 3 decimals, `–` for NaN (nothing to measure).
fn cell(value: f64) -> String {
    if value.is_nan() {
        "–".to_string()
    } else {
        format!("{value:.3}")
    }
}

/// Renders `columns` (a heading and a report each, all of the same tracks) as Markdown:
/// the aggregate table (mean over non-drum tracks, DP over drum tracks, TD over track pairs;
/// metrics that apply to none of the tracks are left out),
/// then one table per track with every metric that applies to it, then TD per track pair.
/// `track_names` label the tracks.
pub fn markdown_table(columns: &[(&str, &MetricsReport)], track_names: &[String]) -> String {
    let mut out = String::new();
    let header = |out: &mut String, first: &str| {
        let _ = write!(out, "| {first} |");
        for (name, _) in columns {
            let _ = write!(out, " {name} |");
        }
        out.push('\n');
        out.push_str("|---|");
        out.push_str(&"---:|".repeat(columns.len()));
        out.push('\n');
    };
    let name = |t: usize| {
        track_names
            .get(t)
            .cloned()
            .unwrap_or_else(|| format!("track {t}"))
    };

    out.push_str("### Aggregate\n\n");
    header(&mut out, "metric");
    let is_drum = columns.first().map_or(&[][..], |(_, r)| &r.is_drum[..]);
    for metric in Metric::ALL
        .into_iter()
        .filter(|m| is_drum.iter().any(|&d| m.applies_to(d)))
    {
        let _ = write!(out, "| {metric} |");
        for (_, report) in columns {
            let value = report.get(metric).map_or(f64::NAN, |s| s.aggregate);
            let _ = write!(out, " {} |", cell(value));
        }
        out.push('\n');
    }
    out.push_str("| TD |");
    for (_, report) in columns {
        let _ = write!(out, " {} |", cell(report.tonal_distance.aggregate));
    }
    out.push('\n');

    let tracks = columns.first().map_or(0, |(_, r)| r.is_drum.len());
    for t in 0..tracks {
        let is_drum = columns[0].1.is_drum[t];
        let _ = write!(
            out,
            "\n### {}{}\n\n",
            name(t),
            if is_drum { " (drums)" } else { "" }
        );
        header(&mut out, "metric");
        for metric in Metric::ALL.into_iter().filter(|m| m.applies_to(is_drum)) {
            let _ = write!(out, "| {metric} |");
            for (_, report) in columns {
                let value = report
                    .get(metric)
                    .and_then(|s| s.per_track.get(t))
                    .map_or(f64::NAN, |s| s.mean);
                let _ = write!(out, " {} |", cell(value));
            }
            out.push('\n');
        }
    }

    if let Some((_, first)) = columns
        .first()
        .filter(|(_, r)| !r.tonal_distance.pairs.is_empty())
    {
        out.push_str("\n### Tonal distance (TD) per track pair\n\n");
        header(&mut out, "pair");
        for (i, pair) in first.tonal_distance.pairs.iter().enumerate() {
            let _ = write!(
                out,
                "| {} – {} |",
                name(pair.tracks[0]),
                name(pair.tracks[1])
            );
            for (_, report) in columns {
                let value = report
                    .tonal_distance
                    .pairs
                    .get(i)
                    .map_or(f64::NAN, |p| p.mean);
                let _ = write!(out, " {} |", cell(value));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{evaluate, MetricsConfig, PhraseShape, PhraseView};
    use crate::{Pitch, Resolution};

    #[test]
    fn table_lists_aggregate_tracks_and_pairs() {
        // One sample, two pitched tracks, one bar of 4 steps, 12 pitches from C4.
        let shape = PhraseShape {
            samples: 1,
            tracks: 2,
            bars: 1,
            steps_per_bar: 4,
            pitches: 12,
            lowest_pitch: Pitch::MIDDLE_C,
            resolution: Resolution::new(1).unwrap(),
        };
        let mut data = vec![0u8; 2 * 4 * 12];
        // Track 0: C held for the whole bar (one 4-step note); track 1 silent.
        for t in 0..4 {
            data[t * 12] = 1;
        }
        let view = PhraseView::new(&data, shape, &[false, false]).unwrap();
        let report = evaluate(&view, &MetricsConfig::default()).unwrap();
        let names = vec!["Soprano".to_string(), "Alto".to_string()];
        let table = markdown_table(&[("data", &report), ("samples", &report)], &names);
        assert!(table.contains("| metric | data | samples |"), "{table}");
        // EB aggregate: track 0 has no empty bar, track 1 one of one → mean of 0 and 1.
        assert!(table.contains("| EB | 0.500 | 0.500 |"), "{table}");
        // QN on Soprano: one note of 4 steps ≥ 2 → 1; on Alto nothing to measure → dash.
        let section = |name: &str| -> &str {
            let start = table
                .find(&format!("### {name}\n"))
                .expect("section present");
            let rest = &table[start + 4..];
            &rest[..rest.find("###").unwrap_or(rest.len())]
        };
        assert!(
            section("Soprano").contains("| QN | 1.000 | 1.000 |"),
            "{table}"
        );
        assert!(section("Alto").contains("| QN | – | – |"), "{table}");
        assert!(table.contains("| Soprano – Alto | – | – |"), "{table}");
        assert!(
            !table.contains("DP |"),
            "DP applies to no pitched track: {table}"
        );
    }
}
