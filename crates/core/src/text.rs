//! Text in pictures: one typeface, DejaVu Sans (shipped in `assets/fonts/` with its licence and
//! compiled into the library, so no font file or system library is needed at run time),
//! rasterised by `ab_glyph` with anti-aliasing, the font's advance widths and its kerning.
//!
//! Both the piano-roll pictures ([`crate::plot`]) and the training-curve charts
//! ([`crate::chart`]) set their labels through this module. Positions are whole pixels: a line of
//! text is placed by the top of its box, which is [`line_height`] tall and holds the font's
//! ascent above the baseline and its descent below; its width is [`width`], the sum of the
//! glyphs' advances and kerning, rounded up.

use ab_glyph::{point, Font as _, FontRef, GlyphId, PxScale, ScaleFont as _};
use image::{Rgb, RgbImage};
use std::sync::OnceLock;

/// DejaVu Sans 2.37 (Bitstream Vera licence with public-domain DejaVu changes: see
/// `assets/fonts/LICENSE-DejaVu.txt`).
const DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Size of axis labels, tick values, legends and other small text, in pixels per em.
pub(crate) const SMALL: f32 = 11.0;
/// Size of titles, in pixels per em.
pub(crate) const LARGE: f32 = 16.0;

/// The `ab_glyph` scale of text `size` pixels per em (ab_glyph scales to ascent − descent).
fn px_scale(size: f32) -> PxScale {
    let font = font();
    let em = font.units_per_em().unwrap_or(2048.0);
    PxScale::from(size * font.height_unscaled() / em)
}

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(DEJAVU_SANS).expect("the embedded DejaVu Sans is a valid font")
    })
}

/// A character the font can draw: controls become spaces, characters without a glyph `?`.
fn glyph_id(c: char) -> GlyphId {
    let font = font();
    let c = if c.is_control() { ' ' } else { c };
    match font.glyph_id(c) {
        GlyphId(0) => font.glyph_id('?'),
        id => id,
    }
}

/// Ascent above the baseline at `size`, in pixels, rounded up.
pub(crate) fn ascent(size: f32) -> u32 {
    font().as_scaled(px_scale(size)).ascent().ceil() as u32
}

/// Height of the capitals at `size` (of "H", which sits on the baseline), rounded up.
pub(crate) fn cap_height(size: f32) -> u32 {
    let glyph = glyph_id('H').with_scale(px_scale(size));
    font()
        .outline_glyph(glyph)
        .map_or(0, |g| (-g.px_bounds().min.y).ceil() as u32)
}

/// Height of a line of text at `size`: the ascent and descent, each rounded up.
pub(crate) fn line_height(size: f32) -> u32 {
    let scaled = font().as_scaled(px_scale(size));
    ascent(size) + (-scaled.descent()).ceil() as u32
}

/// The pen positions of `text`'s glyphs at `size` from 0, and the pen position after the last.
fn layout(text: &str, size: f32) -> (Vec<(GlyphId, f32)>, f32) {
    let scaled = font().as_scaled(px_scale(size));
    let mut pen = 0.0f32;
    let mut previous = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = glyph_id(c);
        if let Some(previous) = previous {
            pen += scaled.kern(previous, id);
        }
        glyphs.push((id, pen));
        pen += scaled.h_advance(id);
        previous = Some(id);
    }
    (glyphs, pen)
}

/// Width of `text` at `size` in whole pixels: its advances and kerning, rounded up.
pub(crate) fn width(text: &str, size: f32) -> u32 {
    let (_, end) = layout(text, size);
    // Saturating: a float-to-int cast clamps.
    end.max(0.0).ceil() as u32
}

/// A rectangle of `image` that text may paint: pixels outside it are left alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clip {
    pub(crate) left: u32,
    pub(crate) top: u32,
    pub(crate) right: u32,
    pub(crate) bottom: u32,
}

impl Clip {
    /// The whole of `image`.
    #[cfg(test)]
    pub(crate) fn all(image: &RgbImage) -> Clip {
        Clip {
            left: 0,
            top: 0,
            right: image.width(),
            bottom: image.height(),
        }
    }
}

/// Draws `text` at `size` in `color` with the top-left corner of its line box at (`x`, `y`) of
/// `image`, blending each pixel with what is under it by the glyph's coverage; only pixels in
/// `clip` (and in the image) change. Returns the width of the text, as [`width`].
pub(crate) fn draw(
    image: &mut RgbImage,
    clip: Clip,
    (x, y): (i64, i64),
    text: &str,
    size: f32,
    color: Rgb<u8>,
) -> u32 {
    let font = font();
    let scale = px_scale(size);
    let (glyphs, end) = layout(text, size);
    let baseline = y as f32 + ascent(size) as f32;
    let right = clip.right.min(image.width());
    let bottom = clip.bottom.min(image.height());
    for (id, pen) in glyphs {
        let left = x as f32 + pen;
        if left > right as f32 {
            break;
        }
        let glyph = id.with_scale_and_position(scale, point(left, baseline));
        let Some(outline) = font.outline_glyph(glyph) else {
            continue; // a space
        };
        let bounds = outline.px_bounds();
        let (gx, gy) = (bounds.min.x as i64, bounds.min.y as i64);
        outline.draw(|dx, dy, coverage| {
            let (px, py) = (gx + i64::from(dx), gy + i64::from(dy));
            let inside = px >= i64::from(clip.left)
                && py >= i64::from(clip.top)
                && px < i64::from(right)
                && py < i64::from(bottom);
            if inside && coverage > 0.0 {
                let pixel = image.get_pixel_mut(px as u32, py as u32);
                *pixel = blend(*pixel, color, coverage.min(1.0));
            }
        });
    }
    end.max(0.0).ceil() as u32
}

/// `over` laid on `under` with opacity `alpha` (0 to 1).
fn blend(under: Rgb<u8>, over: Rgb<u8>, alpha: f32) -> Rgb<u8> {
    let channel = |i: usize| {
        (f32::from(under.0[i]) * (1.0 - alpha) + f32::from(over.0[i]) * alpha).round() as u8
    };
    Rgb([channel(0), channel(1), channel(2)])
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
    const INK: Rgb<u8> = Rgb([25, 25, 25]);

    fn inked(image: &RgbImage) -> Vec<(u32, u32)> {
        image
            .enumerate_pixels()
            .filter(|(_, _, p)| **p != WHITE)
            .map(|(x, y, _)| (x, y))
            .collect()
    }

    fn drawn(text: &str, size: f32) -> (RgbImage, u32) {
        let mut image = RgbImage::from_pixel(400, 60, WHITE);
        let clip = Clip::all(&image);
        let w = draw(&mut image, clip, (10, 10), text, size, INK);
        (image, w)
    }

    #[test]
    fn text_is_drawn_inside_its_box() {
        let (image, w) = drawn("Piano C4", SMALL);
        assert_eq!(w, width("Piano C4", SMALL));
        let ink = inked(&image);
        assert!(ink.len() > 60, "{} pixels", ink.len());
        let h = line_height(SMALL);
        for &(x, y) in &ink {
            assert!(
                (10..10 + w + 1).contains(&x) && (10..10 + h).contains(&y),
                "({x}, {y})"
            );
        }
        // Anti-aliased: solid ink and blended edge pixels.
        assert!(ink.iter().any(|&(x, y)| *image.get_pixel(x, y) == INK));
        let edges = ink
            .iter()
            .filter(|&&(x, y)| ![INK, WHITE].contains(image.get_pixel(x, y)))
            .count();
        assert!(edges > 10, "{edges}");
        // The baseline: "Piano" has no descender, so its ink ends at the ascent.
        let (image, _) = drawn("Piano", SMALL);
        let lowest = inked(&image).iter().map(|p| p.1).max().unwrap();
        let baseline = 10 + ascent(SMALL);
        assert!(
            lowest <= baseline && lowest + 2 >= baseline,
            "{lowest} {baseline}"
        );
    }

    #[test]
    fn widths_are_the_fonts_advances() {
        // DejaVu Sans is proportional: "i" is narrower than "W", and a longer string is wider
        // and covers more pixels.
        assert!(width("W", 100.0) > 2 * width("i", 100.0));
        assert!(width("MMMM", SMALL) > width("iiii", SMALL));
        // Advances in font units at 2048 px per em (the font's units per em), as fontTools
        // reads them from the font's hmtx table: "0" is 1303 wide, "A" and "V" 1401.
        assert_eq!(width("0", 2048.0), 1303);
        assert_eq!(width("00", 2048.0), 2606);
        assert_eq!(width("A", 2048.0), 1401);
        // The ascent (hhea) is 1901 units, the descent 483, and "H" is 1493 tall.
        assert_eq!(ascent(2048.0), 1901);
        assert_eq!(line_height(2048.0), 1901 + 483);
        assert_eq!(cap_height(2048.0), 1493);
        assert_eq!(width("", SMALL), 0);
        let (short, _) = drawn("bar", SMALL);
        let (long, _) = drawn("bar numbers", SMALL);
        assert!(inked(&long).len() > inked(&short).len() + 50);
        // Bigger text is bigger.
        assert!(width("loss", LARGE) > width("loss", SMALL));
        assert!(line_height(LARGE) > line_height(SMALL));
    }

    #[test]
    fn kerning_pulls_pairs_together() {
        let scaled = font().as_scaled(px_scale(100.0));
        let kern = scaled.kern(glyph_id('A'), glyph_id('V'));
        assert!(kern < 0.0, "{kern}");
        // The kern table's A–V pair is −131 units.
        assert_eq!(width("AV", 2048.0), 1401 + 1401 - 131);
    }

    #[test]
    fn unknown_characters_and_controls_do_not_vanish() {
        assert_eq!(width("\u{10FFFF}", SMALL), width("?", SMALL));
        assert_eq!(width("a\tb", SMALL), width("a b", SMALL));
        // Latin-1 and beyond are in the font.
        assert_ne!(glyph_id('é'), glyph_id('?'));
        assert_ne!(glyph_id('♯'), glyph_id('?'));
    }

    #[test]
    fn the_clip_keeps_text_in_its_rectangle() {
        let mut image = RgbImage::from_pixel(100, 30, WHITE);
        let clip = Clip {
            left: 20,
            top: 0,
            right: 40,
            bottom: 30,
        };
        draw(&mut image, clip, (0, 5), "a long caption", SMALL, INK);
        let ink = inked(&image);
        assert!(!ink.is_empty());
        assert!(ink.iter().all(|&(x, _)| (20..40).contains(&x)));
        // Off the image: nothing happens.
        let before = image.clone();
        let all = Clip::all(&image);
        draw(&mut image, all, (-500, -500), "x", SMALL, INK);
        draw(&mut image, all, (500, 500), "x", SMALL, INK);
        assert_eq!(image, before);
    }
}
