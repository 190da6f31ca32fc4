//! Where everything goes, in canvas pixels: the font sizes and strokes for the figure size, the
//! plot area, the ticks, the curves, the dose marks and the legend's place; panels stacked.

use plotters::style::RGBColor;

use super::geom::{band_px, hits_curves, series_paths, BandPx, Frame};
use super::legend::{
    legend_box_size, legend_entries, legend_grid, LegendEntry, LegendGrid, LegendKey, LegendPlace,
    ROW_H,
};
use super::prepare::{colour_of, Prepared};
use super::style::{fit_text, size_of_pt, text_width, wrap_text, DOSE_KEY};
use super::ticks::{choose_ticks, concentration_steps, format_tick, log_ticks, time_steps, Tick};
use super::MarkerShape;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rect {
    pub(super) left: f64,
    pub(super) top: f64,
    pub(super) right: f64,
    pub(super) bottom: f64,
}

impl Rect {
    pub(super) fn width(&self) -> f64 {
        self.right - self.left
    }
    pub(super) fn height(&self) -> f64 {
        self.bottom - self.top
    }
    fn grow(&self, by: f64) -> Rect {
        Rect {
            left: self.left - by,
            top: self.top - by,
            right: self.right + by,
            bottom: self.bottom + by,
        }
    }
}

/// The smallest text size of any figure, in points at its print size (journals ask for 6–8).
pub(super) const MIN_TEXT_PT: f64 = 7.0;

/// Font sizes (plotters units) and stroke widths (px), all proportional to the figure size.
#[derive(Debug, Clone, Copy)]
pub(super) struct Metrics {
    pub(super) title: f64,
    pub(super) subtitle: f64,
    pub(super) axis: f64,
    pub(super) tick: f64,
    pub(super) legend: f64,
    /// The smallest text allowed ([`MIN_TEXT_PT`] at the print resolution): text shrunk to
    /// fit stops here.
    pub(super) min_text: f64,
    pub(super) pad: f64,
    pub(super) tick_len: f64,
    pub(super) tick_gap: f64,
    pub(super) label_gap: f64,
    pub(super) series_w: f64,
    pub(super) axis_w: f64,
    pub(super) grid_w: f64,
    pub(super) border_w: f64,
    pub(super) mark_h: f64,
    pub(super) mark_w: f64,
}

impl Metrics {
    /// Sizes are set for an 1800 px wide figure at 300 dpi and scaled by `u`: the width ratio,
    /// limited by the height ratio so a very wide, short figure keeps room for its plot.
    /// Text is set in points at scale 1: title 10 pt, axis titles 8 pt, tick labels, legend
    /// and subtitle 7 pt.
    ///
    /// `print_u`, when given, is a floor on the scale that keeps text legible at print size:
    /// the resolution's ratio to 300 dpi, so no text is ever below 7 pt at the figure's size.
    pub(super) fn new(w: f64, h: f64, print_u: Option<f64>) -> Self {
        let floor = print_u.unwrap_or(0.0);
        let u = (w / 1800.0).min(h / 900.0).max(floor);
        let font = |pt: f64| (size_of_pt(pt) * u).max(1.0);
        Self {
            title: font(10.0),
            subtitle: font(7.0),
            axis: font(8.0),
            tick: font(7.0),
            legend: font(7.0),
            min_text: (size_of_pt(MIN_TEXT_PT) * floor).max(1.0),
            pad: 30.0 * u,
            tick_len: 12.0 * u,
            tick_gap: 9.0 * u,
            label_gap: 18.0 * u,
            series_w: 3.0 * u,
            axis_w: 2.0 * u,
            grid_w: 1.5 * u,
            border_w: 1.5 * u,
            mark_h: 17.0 * u,
            mark_w: 15.0 * u,
        }
    }
}

/// Dose marks of one series, as pixel x positions, in their own row above the time axis.
pub(super) struct MarkRow {
    pub(super) colour: RGBColor,
    pub(super) xs: Vec<f64>,
    /// Triangle base width: narrowed to keep dense doses apart; `None` when even narrow
    /// triangles would merge, and the doses are drawn as thin ticks.
    pub(super) triangle_w: Option<f64>,
    pub(super) base_y: f64,
}

/// Everything needed to draw, in canvas pixels.
pub(super) struct Layout {
    pub(super) m: Metrics,
    pub(super) title_size: f64,
    pub(super) subtitle_size: f64,
    pub(super) y_label_size: f64,
    /// Title, subtitle and concentration axis title as drawn: fitted (see `style::fit_text`).
    pub(super) title_text: String,
    /// The subtitle in one or two lines.
    pub(super) subtitle_lines: Vec<String>,
    pub(super) y_label_text: String,
    pub(super) title_baseline: f64,
    pub(super) subtitle_baseline: f64,
    pub(super) plot: Rect,
    pub(super) x_ticks: Vec<(f64, Tick)>,
    pub(super) y_ticks: Vec<(f64, Tick)>,
    pub(super) x_label: String,
    /// Parts a panel of a small-multiples figure leaves to its neighbours.
    pub(super) show_title: bool,
    pub(super) show_x_labels: bool,
    pub(super) show_y_label: bool,
    pub(super) y_label_centre: f64,
    /// Bottom of the title and subtitle block (where the legend above the plot would start).
    header_bottom: f64,
    /// Threshold line: its y (px).
    pub(super) threshold: Option<f64>,
    /// Limit line: its y (px).
    pub(super) limit: Option<f64>,
    /// Shaded window (named in the legend).
    pub(super) shade: Option<Rect>,
    pub(super) x_tick_baseline: f64,
    pub(super) x_label_baseline: f64,
    pub(super) y_label_baseline: f64,
    /// Per series: polylines in pixels, already clipped to the plot area.
    pub(super) paths: Vec<Vec<Vec<(f64, f64)>>>,
    /// Per series: isolated points (no drawable neighbour) to show as dots.
    pub(super) dots: Vec<Vec<(f64, f64)>>,
    /// Per series: observed points in pixels, inside the plot area.
    pub(super) observed: Vec<Vec<(f64, f64)>>,
    /// Filled bands, in drawing order.
    pub(super) bands: Vec<BandPx>,
    /// Guide lines in pixels: per guide, its colour-free pieces.
    pub(super) guides: Vec<Vec<Vec<(f64, f64)>>>,
    /// Markers in pixels: shape, colour of their series, positions.
    pub(super) markers: Vec<MarkersPx>,
    pub(super) marks: Vec<MarkRow>,
    pub(super) legend: Vec<LegendEntry>,
    /// `None` only while [`Layout::build`] finds no free corner; [`Layout::new`] then lays the
    /// figure out again with the legend above the plot.
    pub(super) legend_place: Option<LegendPlace>,
    /// A panel's legend found no free corner and sits over the data.
    legend_over_data: bool,
    /// Every row of dose marks is drawn as ticks, so the legend key is a tick too.
    pub(super) dose_key_tick: bool,
    pub(super) legend_grid: LegendGrid,
}

/// A set of markers in pixels: shape, the colour of their series, positions.
pub(super) type MarkersPx = (MarkerShape, RGBColor, Vec<(f64, f64)>);

/// Text geometry, measured in the bitmap font (DejaVu Sans as rasterized by ab_glyph) and
/// expressed as fractions of the plotters font size.
pub(super) const ASCENT: f64 = 0.80;
pub(super) const DESCENT: f64 = 0.22;
/// Half the height of digits and capitals: added to a tick position to centre a label on it.
pub(super) const HALF_CAP: f64 = 0.31;

impl Layout {
    pub(super) fn new(
        prep: &Prepared,
        w: f64,
        h: f64,
        m: Metrics,
        panel: Option<PanelSpec>,
    ) -> Self {
        let inside = Self::build(prep, w, h, m, panel, false);
        if inside.legend_over_data && !prep.log {
            // A panel has no room above its plot: raise its concentration axis until the
            // legend fits in a corner above the data, if that costs less than half the height.
            let (_, bh) = legend_box_size(&inside.legend, m.legend);
            let room = bh + 2.0 * 18.0 * (m.legend / 33.0) + m.series_w + 8.0 * (m.legend / 33.0);
            let need = room / inside.plot.height().max(1.0);
            if need < 0.5 {
                let mut raised = prep.clone();
                raised.y_hi = prep.y_lo + (prep.y_hi - prep.y_lo) / (1.0 - need);
                let l = Self::build(&raised, w, h, m, panel, false);
                if !l.legend_over_data {
                    return l;
                }
            }
            return inside;
        }
        if inside.legend_place.is_some() {
            return inside;
        }
        Self::build(prep, w, h, m, panel, true)
    }

    /// Lays the figure out. With `above` false the legend goes into the first inside corner
    /// that hides no curve, or nowhere (`legend_place` is `None`) if every corner would.
    /// A panel has no room above its plot: its legend takes the upper right corner then.
    fn build(
        prep: &Prepared,
        w: f64,
        h: f64,
        m: Metrics,
        panel: Option<PanelSpec>,
        above: bool,
    ) -> Self {
        let fig = prep.fig;
        let show_title = panel.is_none_or(|p| p.first);
        let show_x_labels = panel.is_none_or(|p| p.last);

        // Title and subtitle shrink to fit rather than run off the canvas, down to the
        // smallest legible size; beyond that they are cut with "…".
        let avail = (w - 2.0 * m.pad).max(1.0);
        let (title_size, title_text) = fit_text(&fig.title, m.title, m.min_text, true, avail);
        let (subtitle_size, subtitle_lines) = wrap_text(
            fig.subtitle.as_deref().unwrap_or(""),
            m.subtitle,
            m.min_text,
            false,
            avail,
            2,
        );

        // --- vertical stack from the top ---
        let mut y = m.pad;
        let mut title_baseline = y;
        if !fig.title.is_empty() {
            title_baseline = y + ASCENT * title_size;
            y += (ASCENT + DESCENT) * title_size;
        }
        let mut subtitle_baseline = y;
        if fig.subtitle.as_deref().is_some_and(|s| !s.is_empty()) {
            y += 0.25 * subtitle_size;
            subtitle_baseline = y + ASCENT * subtitle_size;
            y += (ASCENT + DESCENT) * subtitle_size * subtitle_lines.len() as f64;
        }
        y += 0.6 * m.tick;

        let legend = legend_entries(prep);
        let row_h = ROW_H * m.legend;
        let legend_grid = if above {
            legend_grid(&legend, m.legend, avail)
        } else {
            LegendGrid::default()
        };
        let above_top = y;
        if above {
            y += legend_grid.rows as f64 * row_h + 0.4 * m.tick;
        }
        let top = panel.map_or(y + HALF_CAP * m.tick, |p| p.top);

        let x_tick_line = m.tick_len + m.tick_gap + (ASCENT - 0.14) * m.tick;
        let bottom = panel.map_or(
            h - m.pad - (ASCENT + DESCENT) * m.axis - m.label_gap - DESCENT * m.tick - x_tick_line,
            |p| p.bottom,
        );
        let bottom = bottom.max(top + 1.0);

        // --- y ticks (depend only on the height) ---
        let plot_h = bottom - top;
        let (y_lo_t, y_hi_t) = (prep.y_lo_t(), prep.y_hi_t());
        let y_ticks_raw = if prep.log {
            let decades = (y_hi_t - y_lo_t).max(1.0);
            log_ticks(prep.y_lo, prep.y_hi, plot_h / decades, m.tick)
        } else {
            let span = prep.y_hi - prep.y_lo;
            let steps = concentration_steps(span);
            // Labels need 2.2 label heights per step so they read as separate lines.
            choose_ticks(prep.y_lo, prep.y_hi, &steps, |step, _| {
                step / span * plot_h >= 2.2 * 0.63 * m.tick
            })
        };
        let y_label_w = y_ticks_raw
            .iter()
            .filter_map(|t| t.label.as_deref())
            .map(|l| text_width(l, m.tick, false))
            .fold(0.0, f64::max);

        // The y label is centred on the plot (or the stack of panels) and may run past its
        // ends into the margins, from under the title to the bottom edge; it shrinks (to the
        // smallest legible size, then is cut) only if longer than that.
        let (label_top, label_bottom) = panel.map_or((top, bottom), |p| p.y_label_span);
        let (room_lo, room_hi) = panel.map_or((above_top, h - m.pad), |p| p.y_label_room);
        let centre = (label_top + label_bottom) / 2.0;
        let room = 2.0 * (centre - room_lo).min(room_hi - centre);
        let (y_label_size, y_label_text) =
            fit_text(&fig.y_label, m.axis, m.min_text, false, room.max(1.0));
        let y_label_baseline = m.pad + ASCENT * m.axis;
        let left =
            m.pad + (ASCENT + DESCENT) * m.axis + m.label_gap + y_label_w + m.tick_gap + m.tick_len;
        let left = panel.map_or(left, |p| left.max(p.min_left));

        // --- x ticks ---
        let unit = if prep.days { 24.0 } else { 1.0 };
        let (x_lo, x_hi) = (prep.x_lo_h / unit, prep.x_hi_h / unit);
        let hi_label_w = text_width(&format_tick(x_hi, 0), m.tick, false);
        // Panels whose legends would cover data keep them in a column right of the plots.
        let legend_column = panel.and_then(|p| p.legend_right);
        let right = match legend_column {
            Some(bw) => w - m.pad - bw - legend_gap(&m),
            None => w - m.pad - 0.5 * hi_label_w,
        }
        .max(left + 1.0);
        let plot_w = right - left;
        let steps = time_steps(prep.days);
        let x_ticks_raw = if prep.xlog {
            // Decades; a label needs its width plus a gap, as on the linear axis.
            let decades = (prep.x_hi_t() - prep.x_lo_t()).max(1.0);
            let widest = text_width(&format_tick(x_hi, 0), m.tick, false) + 1.2 * m.tick;
            log_ticks(x_lo, x_hi, plot_w / decades, 0.5 * widest)
        } else {
            choose_ticks(x_lo, x_hi, &steps, |step, ticks| {
                let widest = ticks
                    .iter()
                    .filter_map(|t| t.label.as_deref())
                    .map(|l| text_width(l, m.tick, false))
                    .fold(0.0, f64::max);
                step / (x_hi - x_lo) * plot_w >= widest + 1.2 * m.tick
            })
        };

        let plot = Rect {
            left,
            top,
            right,
            bottom,
        };
        let frame = Frame {
            plot,
            x_lo: prep.x_lo_t(),
            x_hi: prep.x_hi_t(),
            y_lo: y_lo_t,
            y_hi: y_hi_t,
        };
        let x_ticks = x_ticks_raw
            .into_iter()
            .map(|t| {
                let x = if prep.xlog {
                    t.value.log10()
                } else {
                    t.value * unit
                };
                (frame.px(x), t)
            })
            .collect();
        let y_ticks = y_ticks_raw
            .into_iter()
            .map(|t| {
                let v = if prep.log { t.value.log10() } else { t.value };
                (frame.py(v), t)
            })
            .collect();

        let x_tick_baseline = bottom + x_tick_line;
        let x_label_baseline = h - m.pad - DESCENT * m.axis;

        // --- curves in pixels ---
        let mut paths = Vec::with_capacity(fig.series.len());
        let mut dots = Vec::with_capacity(fig.series.len());
        for s in &fig.series {
            let (p, d) = series_paths(prep, &frame, &s.points);
            paths.push(p);
            dots.push(d);
        }
        // Points (observed circles, markers) in pixels: those inside the axes only.
        let points_px = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
            pts.iter()
                .filter_map(|&p| prep.transform(p))
                .filter(|p| {
                    p.0 >= frame.x_lo && p.0 <= frame.x_hi && p.1 >= frame.y_lo && p.1 <= frame.y_hi
                })
                .map(|p| (frame.px(p.0), frame.py(p.1)))
                .collect()
        };
        let observed: Vec<Vec<(f64, f64)>> =
            fig.observed.iter().map(|pts| points_px(pts)).collect();

        let bands: Vec<BandPx> = fig
            .bands
            .iter()
            .filter_map(|b| band_px(prep, &frame, b))
            .collect();
        let guides: Vec<Vec<Vec<(f64, f64)>>> = fig
            .guides
            .iter()
            .map(|g| series_paths(prep, &frame, &g.points).0)
            .collect();
        let markers: Vec<MarkersPx> = fig
            .markers
            .iter()
            .map(|k| {
                let pts = points_px(&k.points);
                (k.shape, colour_of(prep, k.series), pts)
            })
            .collect();

        // --- dose marks, one row per series that has marks in range ---
        let mut marks = Vec::new();
        let row_step = m.mark_h + 5.0 * (m.mark_h / 17.0);
        let mut rows: Vec<(RGBColor, Vec<f64>)> = fig
            .dose_marks_h
            .iter()
            .enumerate()
            .map(|(i, times)| {
                let mut ts: Vec<f64> = times
                    .iter()
                    .copied()
                    .filter(|t| t.is_finite() && *t >= prep.x_lo_h && *t <= prep.x_hi_h)
                    .collect();
                ts.sort_by(f64::total_cmp);
                (colour_of(prep, i), ts)
            })
            .collect();
        // Series dosed at the same times share one neutral row: identical coloured rows
        // stacked up would only repeat themselves and eat into the plot.
        if rows.len() > 1 && rows.windows(2).all(|w| w[0].1 == w[1].1) {
            rows.truncate(1);
            rows[0].0 = DOSE_KEY;
        }
        for (colour, times) in rows {
            if times.is_empty() {
                continue;
            }
            let xs: Vec<f64> = times.iter().map(|&t| frame.px(t)).collect();
            let min_gap = xs
                .windows(2)
                .map(|p| p[1] - p[0])
                .fold(f64::INFINITY, f64::min);
            marks.push(MarkRow {
                colour,
                triangle_w: {
                    let fit = m.mark_w.min(0.75 * min_gap);
                    (fit >= 0.4 * m.mark_w).then_some(fit)
                },
                base_y: bottom - m.axis_w - 3.0 * (m.mark_h / 17.0) - marks.len() as f64 * row_step,
                xs,
            });
        }
        let marks_top = marks.last().map_or(bottom, |r| r.base_y - m.mark_h);
        let dose_key_tick = !marks.is_empty() && marks.iter().all(|r| r.triangle_w.is_none());

        // --- threshold line and shaded window ---
        // Both are named in the legend: a label on the line or in the band would sit on the
        // curves, which cross them by design.
        let line_y = |t: &super::Threshold| {
            let v = if prep.log {
                (t.value > 0.0).then(|| t.value.log10())?
            } else {
                t.value
            };
            let y = frame.py(v);
            (y >= top - 0.5 && y <= bottom + 0.5).then_some(y)
        };
        let threshold = fig.threshold.as_ref().and_then(line_y);
        let limit = fig.limit.as_ref().and_then(line_y);
        let shade = fig.shade.as_ref().and_then(|sh| {
            let a = frame.px(sh.from_h.max(prep.x_lo_h));
            let b = frame.px(sh.to_h.min(prep.x_hi_h));
            (b > a && sh.from_h.is_finite() && sh.to_h.is_finite()).then_some(Rect {
                left: a,
                top,
                right: b,
                bottom,
            })
        });
        let threshold_path: Vec<Vec<Vec<(f64, f64)>>> = threshold
            .into_iter()
            .chain(limit)
            .map(|y| vec![vec![(left, y), (right, y)]])
            .collect();

        // --- legend ---
        let mut legend_over_data = false;
        let legend_place = if above && panel.is_none() {
            Some(LegendPlace::Above { top: above_top })
        } else if panel.is_some_and(|p| p.legend_above) {
            None
        } else if legend_column.is_some() {
            let (bw, bh) = legend_box_size(&legend, m.legend);
            let x = right + legend_gap(&m);
            Some(LegendPlace::Inside(Rect {
                left: x,
                top,
                right: x + bw,
                bottom: top + bh,
            }))
        } else {
            let (bw, bh) = legend_box_size(&legend, m.legend);
            let inset = 18.0 * (m.legend / 33.0);
            let lower_bottom = marks_top - inset;
            let candidates = [
                // Upper left first: accumulating PK curves rise to the right.
                (left + inset, top + inset),
                (right - inset - bw, top + inset),
                (right - inset - bw, lower_bottom - bh),
                (left + inset, lower_bottom - bh),
            ];
            let clearance = m.series_w + 8.0 * (m.legend / 33.0);
            candidates
                .iter()
                .map(|&(x, y)| Rect {
                    left: x,
                    top: y,
                    right: x + bw,
                    bottom: y + bh,
                })
                .find(|r| {
                    let g = r.grow(clearance);
                    r.left >= left
                        && r.right <= right
                        && r.top >= top
                        && r.bottom <= bottom
                        && !hits_curves(&g, &paths, &dots)
                        && !hits_curves(&g, &[], &observed)
                        && !hits_curves(&g, &guides, &[])
                        && !markers
                            .iter()
                            .any(|k| hits_curves(&g, &[], std::slice::from_ref(&k.2)))
                        && !hits_curves(&g, &threshold_path, &[])
                        && !bands.iter().any(|b| b.hits(&g))
                })
                .map(LegendPlace::Inside)
                .or_else(|| {
                    // A panel has no room above: the upper right corner, over the curves.
                    legend_over_data = true;
                    panel.map(|_| {
                        let (x, y) = candidates[1];
                        LegendPlace::Inside(Rect {
                            left: x,
                            top: y,
                            right: x + bw,
                            bottom: y + bh,
                        })
                    })
                })
        };

        Self {
            m,
            title_size,
            subtitle_size,
            y_label_size,
            title_text,
            subtitle_lines,
            y_label_text,
            title_baseline,
            subtitle_baseline,
            plot,
            x_ticks,
            y_ticks,
            x_label: format!(
                "{} ({})",
                fig.x_label.as_deref().unwrap_or("Time"),
                fig.x_unit
                    .as_deref()
                    .unwrap_or(if prep.days { "days" } else { "h" })
            ),
            show_title,
            show_x_labels,
            show_y_label: panel.is_none_or(|p| p.first || p.own_y_label),
            y_label_centre: centre,
            header_bottom: above_top,
            threshold,
            limit,
            shade,
            x_tick_baseline,
            x_label_baseline,
            y_label_baseline,
            paths,
            dots,
            observed,
            bands,
            guides,
            markers,
            marks,
            legend,
            legend_place,
            legend_over_data: legend_over_data && panel.is_some(),
            dose_key_tick,
            legend_grid,
        }
    }
}

/// Lays out an overlay, or the panels of a small-multiples figure: equal plot heights, a
/// shared left edge, the title on top, time labels under the last panel only, and one
/// concentration label for the whole stack, or one per panel when `own_y_labels` (a stack of
/// figures with different vertical quantities).
pub(super) fn layouts(
    preps: &[Prepared],
    w: f64,
    h: f64,
    print_u: Option<f64>,
    own_y_labels: bool,
) -> Vec<Layout> {
    let m = Metrics::new(w, h, print_u);
    if preps.len() == 1 {
        return vec![Layout::new(&preps[0], w, h, m, None)];
    }
    let n = preps.len() as f64;
    let first = Layout::build(&preps[0], w, h, m, None, false);
    let top = first.plot.top;
    let bottom = first.plot.bottom;
    let gap = 1.6 * m.tick;
    let ph = ((bottom - top - (n - 1.0) * gap) / n).max(1.0);
    let spec = |i: usize, min_left: f64| PanelSpec {
        top: top + i as f64 * (ph + gap),
        bottom: top + i as f64 * (ph + gap) + ph,
        first: i == 0,
        last: i + 1 == preps.len(),
        min_left,
        y_label_span: if own_y_labels {
            (
                top + i as f64 * (ph + gap),
                top + i as f64 * (ph + gap) + ph,
            )
        } else {
            (top, bottom)
        },
        y_label_room: if own_y_labels {
            (
                top + i as f64 * (ph + gap),
                top + i as f64 * (ph + gap) + ph,
            )
        } else {
            (first.header_bottom, h - m.pad)
        },
        legend_right: None,
        legend_above: false,
        own_y_label: own_y_labels,
    };
    let pass = |min_left: f64| -> Vec<Layout> {
        preps
            .iter()
            .enumerate()
            .map(|(i, p)| Layout::new(p, w, h, m, Some(spec(i, min_left))))
            .collect()
    };
    let left = pass(0.0).iter().map(|l| l.plot.left).fold(0.0, f64::max);
    let ls = pass(left);
    if !ls.iter().any(|l| l.legend_over_data) {
        return ls;
    }
    // Some panel's legend would hide data even with its axis raised: every legend goes into a
    // column right of the plots, as wide as the widest, and the plots narrow to make room ...
    let bw = ls
        .iter()
        .map(|l| legend_box_size(&l.legend, m.legend).0)
        .fold(0.0, f64::max);
    if bw <= LEGEND_COLUMN_SHARE * w {
        return preps
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let spec = PanelSpec {
                    legend_right: Some(bw),
                    ..spec(i, left)
                };
                Layout::build(p, w, h, m, Some(spec), false)
            })
            .collect();
    }
    // ... unless that would take more than a third of a narrow figure: then one legend for the
    // whole stack goes above it (every entry once), and the panels move down.
    let mut union: Vec<LegendEntry> = Vec::new();
    for l in ls {
        for e in l.legend {
            if !union.iter().any(|u| u.label == e.label) {
                union.push(e);
            }
        }
    }
    // The regimens' lines first, in panel order, then the keys they share.
    let (mut union, shared): (Vec<_>, Vec<_>) = union
        .into_iter()
        .partition(|e| matches!(e.key, LegendKey::Line(..)));
    union.extend(shared);
    let grid = legend_grid(&union, m.legend, (w - 2.0 * m.pad).max(1.0));
    let top2 = top + grid.rows as f64 * ROW_H * m.legend + 0.4 * m.tick;
    let ph2 = ((bottom - top2 - (n - 1.0) * gap) / n).max(1.0);
    let mut out: Vec<Layout> = preps
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let t = top2 + i as f64 * (ph2 + gap);
            let spec = PanelSpec {
                top: t,
                bottom: t + ph2,
                y_label_span: if own_y_labels {
                    (t, t + ph2)
                } else {
                    (top2, bottom)
                },
                y_label_room: if own_y_labels {
                    (t, t + ph2)
                } else {
                    (first.header_bottom, h - m.pad)
                },
                legend_above: true,
                ..spec(i, left)
            };
            Layout::build(p, w, h, m, Some(spec), false)
        })
        .collect();
    out[0].legend = union;
    out[0].legend_grid = grid;
    out[0].legend_place = Some(LegendPlace::Above {
        top: first.header_bottom,
    });
    out
}

/// Largest share of the figure's width a column of panel legends may take.
const LEGEND_COLUMN_SHARE: f64 = 1.0 / 3.0;

/// Gap between a plot and a legend column beside it.
fn legend_gap(m: &Metrics) -> f64 {
    1.2 * m.tick
}

/// Where a panel sits on the canvas and which parts it draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PanelSpec {
    top: f64,
    bottom: f64,
    /// The first panel draws the title and the concentration label.
    first: bool,
    /// The last panel draws the time tick labels and the time label.
    last: bool,
    /// Left edge of every plot area, so the panels line up.
    min_left: f64,
    /// Vertical extent of the whole stack, for the shared concentration label.
    y_label_span: (f64, f64),
    /// How far that label may reach: from under the title to the bottom margin.
    y_label_room: (f64, f64),
    /// Width of a legend column right of the plots, when the legends go there.
    legend_right: Option<f64>,
    /// One legend for the stack sits above it (drawn by the first panel): none in the panel.
    legend_above: bool,
    /// Each panel draws its own vertical label, centred on itself (a stack of figures).
    own_y_label: bool,
}
