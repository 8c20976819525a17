//! Piano-roll pictures of realistic material through the public API: a 4-bar band phrase and a
//! long song. Set `MUSEROLL_PLOT_DIR` to also write the PNGs there for a look.

use museroll_core::plot::{encode_png, render, render_grid, PlotOptions, DEFAULT_MAX_WIDTH};
use museroll_core::{Multitrack, Note, Pitch, Program, Resolution, RollKind, Track};

const RES: usize = 24;
const BAR: usize = 4 * RES;

fn note(pitch: u8, start: usize, len: usize, velocity: u8) -> Note {
    Note {
        pitch: Pitch::new(pitch).unwrap(),
        start,
        end: start + len,
        velocity,
    }
}

/// `bars` bars of a pop groove: drums, piano chords struck on every beat, an eighth-note bass
/// with repeated notes, a melody; a silent guitar when `with_silent`.
fn band(bars: usize, with_silent: bool) -> Multitrack {
    let steps = bars * BAR;
    let mut song = Multitrack::new(Resolution::new(RES as u32).unwrap());
    song.name = Some("Synthetic pop".into());
    let mut drums = Track::new("Drums", Program::new(0).unwrap(), true, steps);
    let mut piano = Track::new("Piano", Program::new(0).unwrap(), false, steps);
    let mut bass = Track::new("Bass", Program::new(33).unwrap(), false, steps);
    let mut lead = Track::new("Lead", Program::new(80).unwrap(), false, steps);
    // C, Am, F, G
    let chords: [[u8; 3]; 4] = [[60, 64, 67], [57, 60, 64], [53, 57, 60], [55, 59, 62]];
    let roots = [36u8, 45, 41, 43];
    let melody = [72u8, 74, 76, 79, 77, 76, 74, 72];
    for bar in 0..bars {
        let t0 = bar * BAR;
        let chord = chords[bar % 4];
        for beat in 0..4 {
            let t = t0 + beat * RES;
            drums
                .roll
                .add_note(note(if beat % 2 == 0 { 36 } else { 38 }, t, 2, 110));
            for &p in &chord {
                piano
                    .roll
                    .add_note(note(p, t, RES - 2, 70 + 10 * beat as u8));
            }
        }
        for eighth in 0..8 {
            let t = t0 + eighth * RES / 2;
            drums
                .roll
                .add_note(note(42, t, 1, 60 + 8 * (eighth as u8 % 2)));
            bass.roll.add_note(note(roots[bar % 4], t, RES / 2, 100));
        }
        if bar % 8 % 3 == 1 {
            // A tune in bars 2, 5 and 8 of every 8, with one very short grace note.
            for (i, &p) in melody.iter().enumerate() {
                let t = t0 + i * RES / 2;
                lead.roll
                    .add_note(note(p + (bar % 2) as u8 * 2, t, RES / 2, 90));
            }
            lead.roll.add_note(note(84, t0 + BAR - 1, 1, 127));
        }
    }
    song.tracks = vec![drums, piano, bass, lead];
    if with_silent {
        song.tracks.push(Track::new(
            "Guitar",
            Program::new(25).unwrap(),
            false,
            steps,
        ));
    }
    song
}

fn save(name: &str, png: &[u8]) {
    if let Ok(dir) = std::env::var("MUSEROLL_PLOT_DIR") {
        std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
    }
}

#[test]
fn phrase_upscales_each_step_to_several_pixels() {
    let phrase = band(4, true);
    let image = render(&phrase, &PlotOptions::default()).unwrap();
    // 384 steps at 4 px each, plus the margin.
    assert!(
        image.width() > 4 * 384 && image.width() < 4 * 384 + 400,
        "{}",
        image.width()
    );
    assert!(image.height() < 1200, "{}", image.height());
    let png = encode_png(&image).unwrap();
    let decoded = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(decoded, image);
    save("phrase.png", &png);
}

#[test]
fn long_song_fits_the_width_cap() {
    let song = band(120, false); // 11 520 steps
    let image = render(&song, &PlotOptions::default()).unwrap();
    assert_eq!(image.width(), DEFAULT_MAX_WIDTH);
    save("song.png", &encode_png(&image).unwrap());

    let narrow = PlotOptions {
        width: Some(1000),
        ..PlotOptions::default()
    };
    let image = render(&song, &narrow).unwrap();
    assert_eq!(image.width(), 1000);
    save("song_narrow.png", &encode_png(&image).unwrap());
}

#[test]
fn grid_of_samples() {
    let items: Vec<(String, Multitrack)> = (0..4)
        .map(|i| {
            let mut m = band(4, false);
            for track in &mut m.tracks {
                track.transpose(i * 2);
            }
            if i == 3 {
                for track in &mut m.tracks {
                    track.roll.binarize(0);
                }
            }
            (format!("sample {}", i + 1), m)
        })
        .collect();
    let image = render_grid(&items, 2, &PlotOptions::default()).unwrap();
    assert!(image.width() <= DEFAULT_MAX_WIDTH);
    let single = render(&items[0].1, &PlotOptions::default()).unwrap();
    assert!(
        image.height() > 2 * single.height(),
        "two rows of cells and a gap"
    );
    assert_eq!(items[3].1.tracks[0].roll.kind(), RollKind::Binary);
    save("grid.png", &encode_png(&image).unwrap());
}
