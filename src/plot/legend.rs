//! What the legend of a concentration–time figure lists, how big it is, and how its entries are
//! arranged in a row above the plot.

use plotters::style::{RGBAColor, RGBColor};

use super::layout::Rect;
use super::prepare::{colour_of, dash_of, Prepared};
use super::style::{band_key_colour, text_width};
use super::MarkerShape;

/// Where the legend goes: inside the plot area in a corner free of curves, or, when every
/// corner would hide data, in a row between the subtitle and the plot.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LegendPlace {
    Inside(Rect),
    Above { top: f64 },
}

/// One legend entry: a series line or the dose-mark key.
pub(super) struct LegendEntry {
    pub(super) label: String,
    pub(super) key: LegendKey,
}

pub(super) enum LegendKey {
    Line(RGBColor, &'static [f64]),
    DoseMark,
    Threshold,
    Limit,
    Shade,
    Band(RGBAColor),
    /// A dashed dark guide line.
    Guide,
    /// A marker of a shape, in a series colour.
    Marker(MarkerShape, RGBColor),
}

pub(super) fn legend_entries(prep: &Prepared) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = prep
        .fig
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendEntry {
            label: s.label.clone(),
            key: LegendKey::Line(colour_of(prep, i), dash_of(prep, i)),
        })
        .collect();
    entries.extend(prep.fig.bands.iter().map(|b| LegendEntry {
        label: b.label.clone(),
        key: LegendKey::Band(band_key_colour(colour_of(prep, b.series), b.opacity)),
    }));
    entries.extend(prep.fig.guides.iter().map(|g| LegendEntry {
        label: g.label.clone(),
        key: LegendKey::Guide,
    }));
    entries.extend(prep.fig.markers.iter().map(|k| LegendEntry {
        label: k.label.clone(),
        key: LegendKey::Marker(k.shape, colour_of(prep, k.series)),
    }));
    let any_marks = prep
        .fig
        .dose_marks_h
        .iter()
        .flatten()
        .any(|t| t.is_finite() && *t >= prep.x_lo_h && *t <= prep.x_hi_h);
    if any_marks {
        entries.push(LegendEntry {
            label: "Dose".to_string(),
            key: LegendKey::DoseMark,
        });
    }
    if let Some(t) = &prep.fig.threshold {
        entries.push(LegendEntry {
            label: t.label.clone(),
            key: LegendKey::Threshold,
        });
    }
    if let Some(t) = &prep.fig.limit {
        entries.push(LegendEntry {
            label: t.label.clone(),
            key: LegendKey::Limit,
        });
    }
    if let Some(sh) = &prep.fig.shade {
        entries.push(LegendEntry {
            label: sh.label.clone(),
            key: LegendKey::Shade,
        });
    }
    entries
}

/// Legend proportions, as multiples of the legend font size.
pub(super) const KEY_LEN: f64 = 2.6;
pub(super) const KEY_GAP: f64 = 0.5;
pub(super) const BOX_PAD_X: f64 = 0.6;
pub(super) const BOX_PAD_Y: f64 = 0.4;
pub(super) const ROW_H: f64 = 1.45;
pub(super) const ITEM_GAP: f64 = 1.6;

fn entry_width(e: &LegendEntry, size: f64) -> f64 {
    (KEY_LEN + KEY_GAP) * size + text_width(&e.label, size, false)
}

pub(super) fn legend_box_size(entries: &[LegendEntry], size: f64) -> (f64, f64) {
    let widest = entries
        .iter()
        .map(|e| entry_width(e, size))
        .fold(0.0, f64::max);
    (
        widest + 2.0 * BOX_PAD_X * size,
        entries.len() as f64 * ROW_H * size + 2.0 * BOX_PAD_Y * size,
    )
}

/// Positions of the legend entries above the plot, relative to its top-left corner.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct LegendGrid {
    /// Per entry: horizontal offset and row index.
    pub(super) slots: Vec<(f64, usize)>,
    pub(super) rows: usize,
    pub(super) width: f64,
}

/// One line of entries when they fit in `avail`; otherwise equal-width columns, so that the
/// rows line up like a table instead of drifting with label lengths.
pub(super) fn legend_grid(entries: &[LegendEntry], size: f64, avail: f64) -> LegendGrid {
    let widths: Vec<f64> = entries.iter().map(|e| entry_width(e, size)).collect();
    let gap = ITEM_GAP * size;
    let one_line = widths.iter().sum::<f64>() + gap * widths.len().saturating_sub(1) as f64;
    if one_line <= avail || entries.len() <= 1 {
        let mut x = 0.0;
        let slots = widths
            .iter()
            .map(|w| {
                let slot = (x, 0);
                x += w + gap;
                slot
            })
            .collect();
        return LegendGrid {
            slots,
            rows: usize::from(!entries.is_empty()),
            width: one_line,
        };
    }
    let col_w = widths.iter().copied().fold(0.0, f64::max) + gap;
    let cols = (((avail + gap) / col_w).floor() as usize).clamp(1, entries.len());
    let rows = entries.len().div_ceil(cols);
    LegendGrid {
        slots: (0..entries.len())
            .map(|i| ((i % cols) as f64 * col_w, i / cols))
            .collect(),
        rows,
        width: cols as f64 * col_w - gap,
    }
}
