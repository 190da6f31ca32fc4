//! The tornado chart: per parameter, the change of a metric with the parameter lowered and
//! raised, one panel per regimen.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, RGBColor};

use super::canvas::Drawing;
use super::chart::{bottom_stack, header, minus};
use super::layout::{Metrics, Rect, HALF_CAP};
use super::legend::{ITEM_GAP, KEY_GAP, KEY_LEN, ROW_H};
use super::paint::{DrawResult, Flavor, Painter};
use super::style::{text_width, GRID, INK, PALETTE, SUBTITLE_INK, TICK_INK};
use super::ticks::{choose_ticks, concentration_steps};
use super::{PlotError, RenderOptions};

/// A tornado chart: per parameter, the change of a metric when the parameter is moved down
/// and up by δ; one panel per regimen, stacked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tornado {
    /// Bold heading.
    pub title: String,
    /// Grey line under the title.
    pub subtitle: Option<String>,
    /// Title of the horizontal axis, e.g. `"Change of Cavg,ss (%)"`.
    pub x_label: String,
    /// Legend text of the bars for the parameter lowered, e.g. `"parameter −20 %"`.
    pub low_label: String,
    /// Legend text of the bars for the parameter raised.
    pub high_label: String,
    /// The panels, drawn top to bottom.
    pub panels: Vec<TornadoPanel>,
}

/// One panel of a tornado chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TornadoPanel {
    /// Panel heading (shown when there are several panels).
    pub label: String,
    /// Bars, top to bottom (the caller sorts them, largest effect first).
    pub bars: Vec<TornadoBar>,
}

/// One parameter of a tornado chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TornadoBar {
    /// Parameter name with its value and unit, e.g. `"half-life (72 h)"`.
    pub label: String,
    /// Change of the metric with the parameter lowered (%).
    pub low_pct: f64,
    /// Change of the metric with the parameter raised (%).
    pub high_pct: f64,
}

impl Tornado {
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
        if self.panels.is_empty() || self.panels.iter().any(|p| p.bars.is_empty()) {
            return Err(PlotError::EmptyFigure);
        }
        Ok(())
    }
}

impl Drawing for Tornado {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        w: f64,
        h: f64,
        print_u: Option<f64>,
        flavor: Flavor,
    ) -> DrawResult {
        draw_tornado(area, self, w, h, Metrics::new(w, h, print_u), flavor)
    }
}

/// Colours of the lowered and raised parameter (Okabe–Ito blue and vermillion).
const LOW: RGBColor = PALETTE[0];
const HIGH: RGBColor = PALETTE[1];

/// A signed percentage with a typographic minus: "+11.1 %", "−9.09 %".
fn signed_pct(v: f64) -> String {
    // Three significant digits of the rounded value, so 9.99999 reads "10.0", not "10.00".
    let mut a = v.abs();
    if a > 0.0 {
        let scale = 10f64.powi(2 - a.log10().floor() as i32);
        a = (a * scale).round() / scale;
    }
    let digits = if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{a:.digits$} %");
    if v < 0.0 {
        format!("−{s}")
    } else {
        format!("+{s}")
    }
}

fn draw_tornado<DB: DrawingBackend>(
    area: &plotters::drawing::DrawingArea<DB, plotters::coord::Shift>,
    tor: &Tornado,
    w: f64,
    h: f64,
    m: Metrics,
    flavor: Flavor,
) -> DrawResult {
    let p = Painter { area, flavor };
    let mut top = header(&p, &m, w, &tor.title, tor.subtitle.as_deref())?;

    // Legend: one line above the plot, aligned with the plot's left edge.
    let label_w = tor
        .panels
        .iter()
        .flat_map(|p| p.bars.iter())
        .map(|b| text_width(&b.label, m.tick, false))
        .fold(0.0, f64::max);
    let left = m.pad + label_w + m.tick_gap + m.tick_len;
    let right = w - m.pad;
    let size = m.legend;
    let key = |x: f64, row: f64, c: RGBColor, label: &str| -> Result<f64, PlotError> {
        let cy = top + (row + 0.5) * ROW_H * size;
        p.fill_rect(
            &Rect {
                left: x,
                right: x + KEY_LEN * size,
                top: cy - 0.45 * size,
                bottom: cy + 0.45 * size,
            },
            c.to_rgba(),
        )?;
        let tx = x + (KEY_LEN + KEY_GAP) * size;
        p.text(label, tx, cy + 0.27 * size, HPos::Left, size, false, &INK)?;
        Ok(tx + text_width(label, size, false) + ITEM_GAP * size)
    };
    // Both keys on one line from the plot's left edge if they fit there, else from the margin,
    // else one under the other.
    let entry_w = |label: &str| (KEY_LEN + KEY_GAP) * size + text_width(label, size, false);
    let one_line = entry_w(&tor.low_label) + ITEM_GAP * size + entry_w(&tor.high_label);
    let (x0, rows) = if left + one_line <= right {
        (left, 1.0)
    } else if m.pad + one_line <= right {
        (m.pad, 1.0)
    } else {
        (m.pad, 2.0)
    };
    let x = key(x0, 0.0, LOW, &tor.low_label)?;
    if rows == 1.0 {
        key(x, 0.0, HIGH, &tor.high_label)?;
    } else {
        key(x0, 1.0, HIGH, &tor.high_label)?;
    }
    top += rows * ROW_H * size + 0.6 * m.tick;

    let (bottom, x_tick_baseline, x_label_baseline) = bottom_stack(&m, h);
    let bottom = bottom.max(top + 1.0);

    // The value range: both bar ends and zero, widened so that the value labels beyond the
    // bar ends fit inside the plot.
    let all = || {
        tor.panels
            .iter()
            .flat_map(|p| p.bars.iter())
            .flat_map(|b| [b.low_pct, b.high_pct])
            .filter(|v| v.is_finite())
    };
    let vmin = all().fold(0.0, f64::min);
    let vmax = all().fold(0.0, f64::max);
    let value_size = m.tick;
    let value_w = all()
        .map(|v| text_width(&signed_pct(v), value_size, false))
        .fold(text_width("no effect", value_size, false), f64::max)
        + 0.5 * m.tick;
    let plot_w = (right - left).max(1.0);
    let frac = (value_w / plot_w).min(0.3);
    let data_span = (vmax - vmin).max(1e-9);
    let pad_lo = if vmin < 0.0 { frac } else { 0.0 };
    let pad_hi = if vmax > 0.0 || vmin >= 0.0 { frac } else { 0.0 };
    let span = data_span / (1.0 - pad_lo - pad_hi);
    let (lo, hi) = (vmin - pad_lo * span, vmax + pad_hi * span);
    let px_of = |v: f64| left + (v - lo) / (hi - lo) * plot_w;

    // Ticks at nice steps inside the range; their labels keep a clear gap.
    let ticks = choose_ticks(lo, hi, &concentration_steps(hi - lo), |step, ticks| {
        let widest = ticks
            .iter()
            .filter_map(|t| t.label.as_deref())
            .map(|l| text_width(l, m.tick, false))
            .fold(0.0, f64::max);
        step / (hi - lo) * plot_w >= widest + 1.5 * m.tick
    });
    for t in &ticks {
        let x = px_of(t.value);
        p.segment((x, top), (x, bottom), &GRID, m.grid_w)?;
    }

    // Rows: panel headings and one row per bar.
    let several = tor.panels.len() > 1;
    let head = if several { 1.6 * m.legend } else { 0.0 };
    let bars: usize = tor.panels.iter().map(|p| p.bars.len()).sum();
    let row_h = ((bottom - top - head * tor.panels.len() as f64) / bars as f64).max(1.0);
    let thick = (0.62 * row_h).min(3.0 * m.tick);
    let zero = px_of(0.0);
    let mut y = top;
    for panel in &tor.panels {
        if several {
            p.text(
                &panel.label,
                m.pad,
                y + 0.5 * head + HALF_CAP * m.legend,
                HPos::Left,
                m.legend,
                true,
                &INK,
            )?;
            y += head;
        }
        for b in &panel.bars {
            let cy = y + 0.5 * row_h;
            p.text(
                &b.label,
                left - m.tick_gap - m.tick_len,
                cy + HALF_CAP * m.tick,
                HPos::Right,
                m.tick,
                false,
                &INK,
            )?;
            // Opposite signs share the row; same signs (a non-monotonic response) split it,
            // so neither bar hides the other.
            let same_side = b.low_pct * b.high_pct > 0.0;
            let halves = if same_side {
                [(cy - thick / 2.0, cy), (cy, cy + thick / 2.0)]
            } else {
                [(cy - thick / 2.0, cy + thick / 2.0); 2]
            };
            let mut effect = false;
            for ((v, c), (t, bt)) in [(b.low_pct, LOW), (b.high_pct, HIGH)]
                .into_iter()
                .zip(halves)
            {
                if !v.is_finite() {
                    continue;
                }
                let xv = px_of(v);
                if (xv - zero).abs() >= 0.5 {
                    effect = true;
                    p.fill_rect(
                        &Rect {
                            left: zero.min(xv),
                            right: zero.max(xv),
                            top: t,
                            bottom: bt,
                        },
                        c.to_rgba(),
                    )?;
                }
                if v.abs() >= 0.0005 {
                    let (x, align) = if v < 0.0 {
                        (xv - 0.3 * m.tick, HPos::Right)
                    } else {
                        (xv + 0.3 * m.tick, HPos::Left)
                    };
                    p.text(
                        &signed_pct(v),
                        x,
                        (t + bt) / 2.0 + HALF_CAP * value_size,
                        align,
                        value_size,
                        false,
                        &TICK_INK,
                    )?;
                }
            }
            if !effect && b.low_pct.abs() < 0.0005 && b.high_pct.abs() < 0.0005 {
                p.text(
                    "no effect",
                    zero + 0.3 * m.tick,
                    cy + HALF_CAP * value_size,
                    HPos::Left,
                    value_size,
                    false,
                    &SUBTITLE_INK,
                )?;
            }
            y += row_h;
        }
    }

    // The zero line and the value axis.
    p.segment((zero, top), (zero, bottom), &INK, m.axis_w)?;
    p.segment((left, bottom), (right, bottom), &INK, m.axis_w)?;
    for t in &ticks {
        let x = px_of(t.value);
        p.segment((x, bottom), (x, bottom + m.tick_len), &INK, m.axis_w)?;
        let label = t.label.clone().unwrap_or_default();
        let label = if t.value > 0.0 {
            format!("+{label}")
        } else {
            minus(label)
        };
        p.text(
            &label,
            x,
            x_tick_baseline,
            HPos::Center,
            m.tick,
            false,
            &TICK_INK,
        )?;
    }
    p.text(
        &tor.x_label,
        (left + right) / 2.0,
        x_label_baseline,
        HPos::Center,
        m.axis,
        false,
        &INK,
    )
}

impl super::Render for Tornado {
    fn rgb(&self, opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
        self.check()?;
        super::raster::rgb(&*self.framed(opts), opts)
    }

    fn svg(&self, opts: &RenderOptions) -> Result<String, PlotError> {
        self.render_svg(opts)
    }
}
