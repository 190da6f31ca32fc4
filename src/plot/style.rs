//! The look shared by every figure: the bundled fonts, the colours, the dash patterns, and the
//! width of a piece of text in the bundled font.

use std::sync::OnceLock;

use plotters::style::{FontDesc, FontFamily, FontStyle, RGBAColor, RGBColor};

use super::PlotError;

/// Line dash patterns by series index, in multiples of the line width (on, off, on, off …):
/// solid, dashed, dotted, dash-dot, long dash. With the Okabe–Ito colours they keep curves
/// apart in black-and-white print and for readers who cannot tell the colours apart.
const DASHES: [&[f64]; 5] = [
    &[],
    &[5.0, 2.6],
    &[0.0, 2.2],
    &[7.0, 2.4, 0.0, 2.4],
    &[11.0, 3.2],
];

pub(super) fn series_dash(index: usize) -> &'static [f64] {
    DASHES[index % DASHES.len()]
}

pub(super) const FONT_REGULAR: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));
pub(super) const FONT_BOLD: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans-Bold.ttf"
));

/// Registers the bundled faces once per process; plotters keeps them in a global table.
pub(super) fn ensure_fonts() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), &'static str>> = OnceLock::new();
    let outcome = REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_REGULAR)
            .map_err(|_| "DejaVuSans.ttf")?;
        plotters::style::register_font("sans-serif", FontStyle::Bold, FONT_BOLD)
            .map_err(|_| "DejaVuSans-Bold.ttf")?;
        Ok(())
    });
    outcome.map_err(|face| PlotError::Font { face })
}

/// Okabe & Ito (2008) colour-blind-safe palette, in their recommended order.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x00, 0x00, 0x00), // black
];

pub(super) fn series_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// A band's fill as it looks on white, opaque: for the legend key.
pub(super) fn band_key_colour(c: RGBColor, opacity: f64) -> RGBAColor {
    let mix = |v: u8| (255.0 - opacity * (255.0 - f64::from(v))).round() as u8;
    RGBAColor(mix(c.0), mix(c.1), mix(c.2), 1.0)
}

pub(super) const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
pub(super) const TICK_INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
pub(super) const SUBTITLE_INK: RGBColor = RGBColor(0x5F, 0x5F, 0x5F);
pub(super) const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
pub(super) const LEGEND_BORDER: RGBColor = RGBColor(0xB4, 0xB4, 0xB4);
pub(super) const DOSE_KEY: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(super) const THRESHOLD_INK: RGBColor = RGBColor(0x4D, 0x4D, 0x4D);
/// Dash of the threshold line, in multiples of the axis stroke.
pub(super) const THRESHOLD_DASH: [f64; 2] = [4.0, 2.5];
/// Dots of the limit line (a limit of quantification), in multiples of the axis stroke.
/// Dash of a guide line (a fitted slope), in multiples of the series line width.
pub(super) const GUIDE_DASH: [f64; 2] = [5.0, 3.0];
pub(super) const LIMIT_DASH: [f64; 2] = [1.0, 1.6];
pub(super) const SHADE: RGBAColor = RGBAColor(0x00, 0x00, 0x00, 0.055);
/// The shade as it looks on white, for the legend key (drawn opaque on the legend's ground).
pub(super) const SHADE_KEY: RGBAColor = RGBAColor(0xF1, 0xF1, 0xF1, 1.0);

/// plotters' bitmap font size per em: ab_glyph scales a face so that its ascent minus descent
/// (DejaVu Sans: 1901 + 483 font units of 2048 per em, `hhea`) spans the given size. Layout
/// sizes are in these units; a size `s` is a font of `s / SIZE_PER_EM` pixels per em.
pub(super) const SIZE_PER_EM: f64 = 2384.0 / 2048.0;

/// Layout size (see [`SIZE_PER_EM`]) of a font of `pt` points on the reference figure,
/// 1800 px wide at 300 dpi (scale 1): `pt / 72 × 300` pixels per em.
pub(super) fn size_of_pt(pt: f64) -> f64 {
    pt / 72.0 * 300.0 * SIZE_PER_EM
}

/// Width in pixels of `text` set in DejaVu Sans at plotters size `size`.
pub(super) fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::SansSerif, size, style)
        .box_size(text)
        .map(|(w, _)| f64::from(w))
        // Fonts are registered before any layout; a failure here cannot happen, and an
        // estimate keeps layout total rather than threading an error through every measure.
        .unwrap_or(0.6 * size * text.chars().count() as f64)
}

/// `text` at `size`, shrunk to fit `avail` pixels but never below `min` (the smallest legible
/// size at print); when it does not fit even at `min`, it is cut at the end with "…" (the
/// caption file keeps the whole text).
pub(super) fn fit_text(text: &str, size: f64, min: f64, bold: bool, avail: f64) -> (f64, String) {
    let tw = text_width(text, size, bold);
    if tw <= avail {
        return (size, text.to_string());
    }
    let s = (size * avail / tw).max(min.min(size));
    if text_width(text, s, bold) <= avail {
        return (s, text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    let cut = |n: usize| format!("{}…", chars[..n].iter().collect::<String>().trim_end());
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if text_width(&cut(mid), s, bold) <= avail {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    (s, cut(lo))
}

/// `text` in at most `max_lines` lines of at most `avail` pixels: on one line if it fits
/// (shrunk down to `min` if need be), else broken between words at `size` (preferring the
/// " · " separators of subtitles), else at `min`; a last line that still does not fit is cut
/// with "…" by [`fit_text`].
pub(super) fn wrap_text(
    text: &str,
    size: f64,
    min: f64,
    bold: bool,
    avail: f64,
    max_lines: usize,
) -> (f64, Vec<String>) {
    let (s, one) = fit_text(text, size, min, bold, avail);
    if one == text || max_lines <= 1 {
        return (s, vec![one]);
    }
    let greedy = |sz: f64| -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut cur = String::new();
        for word in text.split(' ') {
            let cand = if cur.is_empty() {
                word.to_string()
            } else {
                format!("{cur} {word}")
            };
            if text_width(&cand, sz, bold) <= avail || cur.is_empty() {
                cur = cand;
            } else {
                lines.push(std::mem::take(&mut cur));
                cur = word.to_string();
            }
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
        // A separator at a line break is dropped.
        for l in &mut lines {
            if let Some(rest) = l.strip_prefix("· ") {
                *l = rest.to_string();
            }
            if let Some(rest) = l.strip_suffix(" ·") {
                *l = rest.to_string();
            }
        }
        lines
    };
    for sz in [size, min.min(size)] {
        let lines = greedy(sz);
        if lines.len() <= max_lines && lines.iter().all(|l| text_width(l, sz, bold) <= avail) {
            return (sz, lines);
        }
    }
    let sz = min.min(size);
    let mut lines = greedy(sz);
    let rest = lines.split_off(max_lines.saturating_sub(1).min(lines.len()));
    let (_, last) = fit_text(&rest.join(" "), sz, sz, bold, avail);
    lines.push(last);
    (sz, lines)
}
