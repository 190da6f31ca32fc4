//! The heatmap: a metric over a two-parameter grid in viridis, one panel per regimen, with a
//! colour bar.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, RGBColor};

use super::canvas::Drawing;
use super::chart::{bottom_stack, header, minus};
use super::layout::{Metrics, Rect, ASCENT, DESCENT, HALF_CAP};
use super::paint::{DrawResult, Flavor, Painter};
use super::style::{fit_text, text_width, INK, LEGEND_BORDER, TICK_INK};
use super::ticks::{choose_ticks, concentration_steps};
use super::{PlotError, RenderOptions};

/// Viridis (van der Walt & Smith, matplotlib): perceptually uniform, readable in grey and by
/// colour-blind readers. Nine samples at 0, 1/8, …, 1, interpolated linearly in sRGB.
const VIRIDIS: [[u8; 3]; 9] = [
    [0x44, 0x01, 0x54],
    [0x47, 0x2c, 0x7a],
    [0x3b, 0x51, 0x8b],
    [0x2c, 0x71, 0x8e],
    [0x21, 0x90, 0x8d],
    [0x27, 0xad, 0x81],
    [0x5c, 0xc8, 0x63],
    [0xaa, 0xdc, 0x32],
    [0xfd, 0xe7, 0x25],
];

/// The viridis colour at `t` (0 = dark purple, 1 = yellow; clamped).
pub fn viridis(t: f64) -> [u8; 3] {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |k: usize| (f64::from(a[k]) + f * (f64::from(b[k]) - f64::from(a[k]))).round() as u8;
    [mix(0), mix(1), mix(2)]
}

/// A heatmap of one metric over a two-parameter grid: one panel per regimen, side by side,
/// sharing one colour scale.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Heatmap {
    /// Bold heading.
    pub title: String,
    /// Grey line under the title.
    pub subtitle: Option<String>,
    /// Title of the horizontal axis with its unit, e.g. `"Half-life (h)"`.
    pub x_label: String,
    /// Title of the vertical axis with its unit, e.g. `"Dose (µg)"`.
    pub y_label: String,
    /// Column labels, left to right (the values of the first swept parameter).
    pub x_ticks: Vec<String>,
    /// Row labels, bottom to top.
    pub y_ticks: Vec<String>,
    /// One grid of values per panel.
    pub panels: Vec<HeatmapPanel>,
    /// Title of the colour bar with its unit, e.g. `"Cmin,ss trough (ng/mL)"`.
    pub colour_label: String,
    /// Largest grid whose cell values are printed in the cells (columns and rows).
    pub max_labelled_cells: usize,
}

/// One panel of a heatmap.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeatmapPanel {
    /// Panel heading (shown when there are several panels).
    pub label: String,
    /// Values row by row from the bottom row, each row left to right: `y_ticks.len()` ×
    /// `x_ticks.len()` values. Non-finite values are cells without a value (drawn grey, "–").
    pub values: Vec<f64>,
}

impl Heatmap {
    /// PNG bytes of exactly the requested size; same input, same bytes.
    pub fn render_png(&self, opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
        super::raster::encode_png(&super::Render::rgb(self, opts)?, opts)
    }

    /// SVG document; same input, same string.
    pub fn render_svg(&self, opts: &RenderOptions) -> Result<String, PlotError> {
        self.check()?;
        super::svg::render(&*self.framed(opts), opts)
    }

    /// Itself, or without title and subtitle for a bare figure.
    fn framed(&self, opts: &RenderOptions) -> std::borrow::Cow<'_, Self> {
        if opts.bare {
            std::borrow::Cow::Owned(Self {
                title: String::new(),
                subtitle: None,
                ..self.clone()
            })
        } else {
            std::borrow::Cow::Borrowed(self)
        }
    }

    fn check(&self) -> Result<(), PlotError> {
        let cells = self.x_ticks.len() * self.y_ticks.len();
        if cells == 0
            || self.panels.is_empty()
            || self.panels.iter().any(|p| p.values.len() != cells)
        {
            return Err(PlotError::EmptyFigure);
        }
        Ok(())
    }
}

impl Drawing for Heatmap {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        w: f64,
        h: f64,
        print_u: Option<f64>,
        flavor: Flavor,
    ) -> DrawResult {
        draw_heatmap(area, self, w, h, Metrics::new(w, h, print_u), flavor)
    }
}

/// Every k-th of `n` labels, k the smallest step at which labels `width` wide keep a gap.
fn label_every(n: usize, pitch: f64, width: f64, gap: f64) -> usize {
    (1..=n.max(1))
        .find(|&k| k as f64 * pitch >= width + gap)
        .unwrap_or(n.max(1))
}

/// A number with three significant digits, for cell labels and colour-bar ticks.
fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    minus(format!("{v:.digits$}"))
}

fn rgb(c: [u8; 3]) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

const NO_VALUE: RGBColor = RGBColor(0xD9, 0xD9, 0xD9);

fn draw_heatmap<DB: DrawingBackend>(
    area: &plotters::drawing::DrawingArea<DB, plotters::coord::Shift>,
    hm: &Heatmap,
    w: f64,
    h: f64,
    m: Metrics,
    flavor: Flavor,
) -> DrawResult {
    let p = Painter { area, flavor };
    let (cols, rows) = (hm.x_ticks.len(), hm.y_ticks.len());
    let finite = || {
        hm.panels
            .iter()
            .flat_map(|p| p.values.iter())
            .copied()
            .filter(|v| v.is_finite())
    };
    let (mut lo, mut hi) = (
        finite().fold(f64::INFINITY, f64::min),
        finite().fold(f64::NEG_INFINITY, f64::max),
    );
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    } else if hi - lo <= 1e-12 * hi.abs().max(1e-300) {
        let d = if lo == 0.0 { 1.0 } else { 0.05 * lo.abs() };
        (lo, hi) = (lo - d, hi + d);
    }
    let t_of = |v: f64| (v - lo) / (hi - lo);

    let mut top = header(&p, &m, w, &hm.title, hm.subtitle.as_deref())?;
    let several = hm.panels.len() > 1;
    let panel_head = if several {
        (ASCENT + DESCENT) * m.legend + 0.35 * m.tick
    } else {
        0.0
    };
    top += panel_head;
    let (bottom, x_tick_baseline, x_label_baseline) = bottom_stack(&m, h);
    let bottom = bottom.max(top + 1.0);
    let plot_h = bottom - top;

    // Colour bar ticks depend only on the height.
    let span = hi - lo;
    let cb_ticks = choose_ticks(lo, hi, &concentration_steps(span), |step, _| {
        step / span * plot_h >= 2.2 * 0.63 * m.tick
    });
    let cb_tick_labels: Vec<String> = cb_ticks
        .iter()
        .map(|t| minus(t.label.clone().unwrap_or_default()))
        .collect();
    let cb_label_w = cb_tick_labels
        .iter()
        .map(|l| text_width(l, m.tick, false))
        .fold(0.0, f64::max);
    let (cb_label_size, cb_label) =
        fit_text(&hm.colour_label, m.axis, m.min_text, false, plot_h.max(1.0));
    let cb_title_baseline = w - m.pad - DESCENT * cb_label_size;
    let cb_right = cb_title_baseline
        - ASCENT * cb_label_size
        - m.label_gap
        - cb_label_w
        - m.tick_gap
        - m.tick_len;
    let cb_left = cb_right - 1.1 * m.tick;

    // Left: the y axis title and row labels.
    let (y_label_size, y_label) = fit_text(&hm.y_label, m.axis, m.min_text, false, plot_h.max(1.0));
    let y_tick_w = hm
        .y_ticks
        .iter()
        .map(|l| text_width(l, m.tick, false))
        .fold(0.0, f64::max);
    let left = m.pad + (ASCENT + DESCENT) * y_label_size + m.label_gap + y_tick_w + m.tick_gap;
    let right = (cb_left - 2.0 * m.tick).max(left + 1.0);
    let n = hm.panels.len() as f64;
    let gap = if several { 1.5 * m.tick } else { 0.0 };
    let pw = ((right - left - (n - 1.0) * gap) / n).max(1.0);
    let cw = pw / cols as f64;
    let ch = plot_h / rows as f64;
    let inset = (0.75 * m.grid_w).max(1.0);

    // Cell values when the grid is small enough and the text fits the cells.
    let labelled = cols <= hm.max_labelled_cells && rows <= hm.max_labelled_cells;
    let widest_value = hm
        .panels
        .iter()
        .flat_map(|p| p.values.iter())
        .map(|&v| text_width(&sig3(v), m.tick, false))
        .fold(0.0, f64::max);
    let value_size = (m.tick * ((cw - 0.6 * m.tick) / widest_value.max(1.0)).min(1.0))
        .min(0.45 * ch)
        .max(0.0);
    // Values smaller than the smallest legible text are left out (the CSV has them).
    let show_values = labelled && value_size >= m.min_text;

    let x_every = label_every(
        cols,
        cw,
        hm.x_ticks
            .iter()
            .map(|l| text_width(l, m.tick, false))
            .fold(0.0, f64::max),
        0.8 * m.tick,
    );
    let y_every = label_every(rows, ch, 0.63 * m.tick, 0.6 * m.tick);

    for (k, panel) in hm.panels.iter().enumerate() {
        let x0 = left + k as f64 * (pw + gap);
        for r in 0..rows {
            for c in 0..cols {
                let v = panel.values[r * cols + c];
                let cell = Rect {
                    left: x0 + c as f64 * cw + inset,
                    right: x0 + (c + 1) as f64 * cw - inset,
                    top: bottom - (r + 1) as f64 * ch + inset,
                    bottom: bottom - r as f64 * ch - inset,
                };
                let colour = if v.is_finite() {
                    rgb(viridis(t_of(v)))
                } else {
                    NO_VALUE
                };
                p.fill_rect(&cell, colour.to_rgba())?;
                if show_values || !v.is_finite() {
                    // Relative luminance decides white or black text (readable on both ends).
                    let lum = 0.2126 * f64::from(colour.0)
                        + 0.7152 * f64::from(colour.1)
                        + 0.0722 * f64::from(colour.2);
                    let ink = if lum < 140.0 {
                        RGBColor(255, 255, 255)
                    } else {
                        INK
                    };
                    let size = if show_values { value_size } else { m.tick };
                    p.text(
                        &sig3(v),
                        (cell.left + cell.right) / 2.0,
                        (cell.top + cell.bottom) / 2.0 + HALF_CAP * size,
                        HPos::Center,
                        size,
                        false,
                        &ink,
                    )?;
                }
            }
        }
        for (c, label) in hm.x_ticks.iter().enumerate() {
            if c % x_every != 0 {
                continue;
            }
            let x = x0 + (c as f64 + 0.5) * cw;
            p.segment((x, bottom), (x, bottom + m.tick_len), &INK, m.axis_w)?;
            p.text(
                label,
                x,
                x_tick_baseline,
                HPos::Center,
                m.tick,
                false,
                &TICK_INK,
            )?;
        }
        if several {
            p.text(
                &panel.label,
                x0,
                top - 0.35 * m.tick - DESCENT * m.legend,
                HPos::Left,
                m.legend,
                true,
                &INK,
            )?;
        }
    }
    for (r, label) in hm.y_ticks.iter().enumerate() {
        if r % y_every != 0 {
            continue;
        }
        let y = bottom - (r as f64 + 0.5) * ch;
        p.text(
            label,
            left - m.tick_gap,
            y + HALF_CAP * m.tick,
            HPos::Right,
            m.tick,
            false,
            &TICK_INK,
        )?;
    }
    p.text(
        &hm.x_label,
        (left + right) / 2.0,
        x_label_baseline,
        HPos::Center,
        m.axis,
        false,
        &INK,
    )?;
    p.vertical_text(
        &y_label,
        m.pad + ASCENT * y_label_size,
        (top + bottom) / 2.0,
        y_label_size,
    )?;

    // The colour bar: thin strips from the lowest value (bottom) to the highest (top).
    let strips = 160;
    let bar_h = plot_h / strips as f64;
    for i in 0..strips {
        let t = (i as f64 + 0.5) / strips as f64;
        let c = rgb(viridis(t));
        p.fill_rect(
            &Rect {
                left: cb_left,
                right: cb_right,
                top: (bottom - (i + 1) as f64 * bar_h).floor(),
                bottom: (bottom - i as f64 * bar_h).ceil(),
            },
            c.to_rgba(),
        )?;
    }
    p.stroke_rect(
        &Rect {
            left: cb_left,
            right: cb_right,
            top,
            bottom,
        },
        &LEGEND_BORDER,
        m.border_w,
    )?;
    for (t, label) in cb_ticks.iter().zip(&cb_tick_labels) {
        let y = bottom - t_of(t.value) * plot_h;
        p.segment((cb_right, y), (cb_right + m.tick_len, y), &INK, m.axis_w)?;
        p.text(
            label,
            cb_right + m.tick_len + m.tick_gap,
            y + HALF_CAP * m.tick,
            HPos::Left,
            m.tick,
            false,
            &TICK_INK,
        )?;
    }
    p.vertical_text(
        &cb_label,
        cb_title_baseline,
        (top + bottom) / 2.0,
        cb_label_size,
    )
}

impl super::Render for Heatmap {
    fn rgb(&self, opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
        self.check()?;
        super::raster::rgb(&*self.framed(opts), opts)
    }

    fn svg(&self, opts: &RenderOptions) -> Result<String, PlotError> {
        self.render_svg(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_middle() {
        assert_eq!(viridis(0.0), [0x44, 0x01, 0x54]);
        assert_eq!(viridis(1.0), [0xfd, 0xe7, 0x25]);
        assert_eq!(viridis(0.5), [0x21, 0x90, 0x8d]);
        assert_eq!(viridis(f64::NAN), viridis(0.0));
    }
}
