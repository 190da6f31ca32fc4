//! The drawing sequence of a concentration–time figure and its legend, on any backend.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use plotters::style::RGBAColor;

use super::canvas::Drawing;
use super::layout::{layouts, Layout, Rect, HALF_CAP};
use super::legend::{
    LegendEntry, LegendKey, LegendPlace, BOX_PAD_X, BOX_PAD_Y, KEY_GAP, KEY_LEN, ROW_H,
};
use super::paint::{dash_path, DrawResult, Flavor, Painter};
use super::prepare::{colour_of, dash_of, Prepared};
use super::style::{
    series_colour, DOSE_KEY, GRID, GUIDE_DASH, INK, LEGEND_BORDER, LIMIT_DASH, SHADE, SHADE_KEY,
    SUBTITLE_INK, THRESHOLD_DASH, THRESHOLD_INK, TICK_INK,
};
use super::MarkerShape;

/// A concentration–time figure ready to draw: one prepared figure for an overlay, or one per
/// panel of a small-multiples figure or of a stack (`true`: each panel has its own vertical
/// label). It is laid out for whatever canvas the output gives.
pub(super) struct Panels<'a>(pub(super) &'a [Prepared<'a>], pub(super) bool);

impl Drawing for Panels<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        w: f64,
        h: f64,
        print_u: Option<f64>,
        flavor: Flavor,
    ) -> DrawResult {
        for (prep, layout) in self.0.iter().zip(&layouts(self.0, w, h, print_u, self.1)) {
            draw_figure(area, prep, layout, flavor)?;
        }
        Ok(())
    }
}

fn draw_figure<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    prep: &Prepared,
    l: &Layout,
    flavor: Flavor,
) -> DrawResult {
    let p = Painter { area, flavor };
    let m = &l.m;
    let plot = &l.plot;

    // The shaded window under everything.
    if let Some(band) = &l.shade {
        p.fill_rect(band, SHADE)?;
    }

    // Grid first, so everything else sits on top of it.
    for (y, t) in l.y_ticks.iter().filter(|(_, t)| !t.minor) {
        if (*y - plot.bottom).abs() > 0.5 && t.value != prep.y_lo {
            p.segment((plot.left, *y), (plot.right, *y), &GRID, m.grid_w)?;
        }
    }
    for (x, _) in l.x_ticks.iter().filter(|(_, t)| !t.minor) {
        if (*x - plot.left).abs() > 0.5 {
            p.segment((*x, plot.top), (*x, plot.bottom), &GRID, m.grid_w)?;
        }
    }

    // Bands over the grid, under every line.
    for b in &l.bands {
        p.polygon(&b.polygon, b.fill)?;
    }

    // The threshold line under the curves, dashed and grey like a grid line that matters.
    if let Some(y) = l.threshold {
        let pattern: Vec<f64> = THRESHOLD_DASH.iter().map(|k| k * m.axis_w).collect();
        p.polylines(
            &dash_path(&[(plot.left, y), (plot.right, y)], &pattern),
            &THRESHOLD_INK,
            m.axis_w,
        )?;
    }

    if let Some(y) = l.limit {
        let pattern: Vec<f64> = LIMIT_DASH.iter().map(|k| k * m.axis_w).collect();
        p.polylines(
            &dash_path(&[(plot.left, y), (plot.right, y)], &pattern),
            &THRESHOLD_INK,
            m.axis_w,
        )?;
    }

    // Dose marks under the curves: a curve passing a mark stays readable.
    for row in &l.marks {
        for &x in &row.xs {
            if let Some(tw) = row.triangle_w {
                p.triangle(x, row.base_y, tw, m.mark_h, &row.colour)?;
            } else {
                p.segment(
                    (x, row.base_y),
                    (x, row.base_y - m.mark_h),
                    &row.colour,
                    m.axis_w,
                )?;
            }
        }
    }

    for (i, (paths, dots)) in l.paths.iter().zip(&l.dots).enumerate() {
        let colour = colour_of(prep, i);
        let pattern: Vec<f64> = dash_of(prep, i).iter().map(|k| k * m.series_w).collect();
        if flavor == Flavor::Svg {
            // One path per curve, dashed by the viewer, in a group named after the series.
            super::svg::record_curve(
                area,
                super::svg::SvgCurve {
                    label: prep.fig.series[i].label.clone(),
                    colour,
                    width: m.series_w,
                    dashes: pattern,
                    pieces: paths.clone(),
                    dots: dots.clone(),
                    dot_w: 2.4 * m.series_w,
                },
            )?;
            continue;
        }
        let pieces: Vec<Vec<(f64, f64)>> = paths
            .iter()
            .flat_map(|pt| dash_path(pt, &pattern))
            .collect();
        p.polylines(&pieces, &colour, m.series_w)?;
        for &d in dots {
            // An isolated sample has no segment; show it as a dot a little wider than the line.
            p.polyline(&[d, d], &colour, 2.4 * m.series_w)?;
        }
    }

    // Observed points over the curves: open circles (a white disc, then the ring), so a
    // curve passing through a point leaves it readable.
    for (i, pts) in l.observed.iter().enumerate() {
        let colour = series_colour(i + prep.style_base);
        p.open_circles(pts, 4.5 * m.series_w, m.series_w, &colour)?;
    }

    // Guide lines over the curves and circles, thinner than a series and dark.
    let guide_w = 0.75 * m.series_w;
    let guide_dash: Vec<f64> = GUIDE_DASH.iter().map(|k| k * guide_w).collect();
    for paths in &l.guides {
        let pieces: Vec<Vec<(f64, f64)>> = paths
            .iter()
            .flat_map(|pt| dash_path(pt, &guide_dash))
            .collect();
        p.polylines(&pieces, &INK, guide_w)?;
    }

    // Markers on top of everything in the plot.
    for (shape, colour, pts) in &l.markers {
        for &c in pts {
            marker(&p, *shape, c, colour, m.series_w)?;
        }
    }

    // Axes: left and bottom only; a closed box adds ink without information.
    let half = m.axis_w / 2.0;
    p.segment(
        (plot.left, plot.top),
        (plot.left, plot.bottom + half),
        &INK,
        m.axis_w,
    )?;
    p.segment(
        (plot.left - half, plot.bottom),
        (plot.right, plot.bottom),
        &INK,
        m.axis_w,
    )?;
    for (x, t) in &l.x_ticks {
        p.segment(
            (*x, plot.bottom),
            (*x, plot.bottom + m.tick_len),
            &INK,
            m.axis_w,
        )?;
        if let Some(label) = t.label.as_ref().filter(|_| l.show_x_labels) {
            p.text(
                label,
                *x,
                l.x_tick_baseline,
                HPos::Center,
                m.tick,
                false,
                &TICK_INK,
            )?;
        }
    }
    for (y, t) in &l.y_ticks {
        let len = if t.minor {
            0.55 * m.tick_len
        } else {
            m.tick_len
        };
        p.segment((plot.left - len, *y), (plot.left, *y), &INK, m.axis_w)?;
        if let Some(label) = &t.label {
            let x = plot.left - m.tick_len - m.tick_gap;
            p.text(
                label,
                x,
                *y + HALF_CAP * m.tick,
                HPos::Right,
                m.tick,
                false,
                &TICK_INK,
            )?;
        }
    }

    // Axis labels, centred on the plot area (the y label on the whole stack of panels).
    let centre_x = (plot.left + plot.right) / 2.0;
    if l.show_x_labels {
        p.text(
            &l.x_label,
            centre_x,
            l.x_label_baseline,
            HPos::Center,
            m.axis,
            false,
            &INK,
        )?;
    }
    if l.show_y_label {
        p.vertical_text(
            &l.y_label_text,
            l.y_label_baseline,
            l.y_label_centre,
            l.y_label_size,
        )?;
    }

    // Title and subtitle, aligned with the left edge of the figure's content.
    if l.show_title && !l.title_text.is_empty() {
        p.text(
            &l.title_text,
            m.pad,
            l.title_baseline,
            HPos::Left,
            l.title_size,
            true,
            &INK,
        )?;
    }
    let line_h = (super::layout::ASCENT + super::layout::DESCENT) * l.subtitle_size;
    for (k, line) in l
        .subtitle_lines
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
    {
        p.text(
            line,
            m.pad,
            l.subtitle_baseline + k as f64 * line_h,
            HPos::Left,
            l.subtitle_size,
            false,
            &SUBTITLE_INK,
        )?;
    }

    draw_legend(&p, l)
}

/// One marker centred on `c`: a disc the size of an observed circle in the series colour, or
/// a dark outline around the point (a triangle or a square) that leaves the circle visible.
fn marker<DB: DrawingBackend>(
    p: &Painter<DB>,
    shape: MarkerShape,
    (x, y): (f64, f64),
    colour: &RGBColor,
    series_w: f64,
) -> DrawResult {
    let r = 4.5 * series_w;
    match shape {
        MarkerShape::Disc => p.polyline(&[(x, y), (x, y)], colour, 2.0 * r + series_w),
        MarkerShape::Square => {
            let a = 1.9 * r;
            p.polyline(
                &[
                    (x - a, y - a),
                    (x + a, y - a),
                    (x + a, y + a),
                    (x - a, y + a),
                    (x - a, y - a),
                ],
                &INK,
                0.8 * series_w,
            )
        }
        MarkerShape::Triangle => {
            // Circumscribes the circle: the incircle radius of the triangle is 1.25 r.
            let ri = 1.25 * r;
            let top = (x, y - 2.0 * ri);
            let half = ri * 3f64.sqrt();
            p.polyline(
                &[top, (x + half, y + ri), (x - half, y + ri), top],
                &INK,
                0.8 * series_w,
            )
        }
    }
}

fn draw_legend<DB: DrawingBackend>(p: &Painter<DB>, l: &Layout) -> DrawResult {
    let m = &l.m;
    let size = m.legend;
    let entry = |e: &LegendEntry, x: f64, centre_y: f64| -> DrawResult {
        match e.key {
            LegendKey::Line(c, dash) => {
                let pattern: Vec<f64> = dash.iter().map(|k| k * m.series_w).collect();
                p.polylines(
                    &dash_path(&[(x, centre_y), (x + KEY_LEN * size, centre_y)], &pattern),
                    &c,
                    m.series_w,
                )?
            }
            LegendKey::Shade => {
                let r = Rect {
                    left: x,
                    top: centre_y - 0.45 * size,
                    right: x + KEY_LEN * size,
                    bottom: centre_y + 0.45 * size,
                };
                p.fill_rect(&r, SHADE_KEY)?;
            }
            LegendKey::Band(c) => {
                let r = Rect {
                    left: x,
                    top: centre_y - 0.45 * size,
                    right: x + KEY_LEN * size,
                    bottom: centre_y + 0.45 * size,
                };
                p.fill_rect(&r, c)?;
            }
            LegendKey::Threshold => {
                let pattern: Vec<f64> = THRESHOLD_DASH.iter().map(|k| k * m.axis_w).collect();
                p.polylines(
                    &dash_path(&[(x, centre_y), (x + KEY_LEN * size, centre_y)], &pattern),
                    &THRESHOLD_INK,
                    m.axis_w,
                )?
            }
            LegendKey::Limit => {
                let pattern: Vec<f64> = LIMIT_DASH.iter().map(|k| k * m.axis_w).collect();
                p.polylines(
                    &dash_path(&[(x, centre_y), (x + KEY_LEN * size, centre_y)], &pattern),
                    &THRESHOLD_INK,
                    m.axis_w,
                )?
            }
            LegendKey::Guide => {
                let w = 0.75 * m.series_w;
                let pattern: Vec<f64> = GUIDE_DASH.iter().map(|k| k * w).collect();
                p.polylines(
                    &dash_path(&[(x, centre_y), (x + KEY_LEN * size, centre_y)], &pattern),
                    &INK,
                    w,
                )?
            }
            LegendKey::Marker(shape, c) => marker(
                p,
                shape,
                (x + KEY_LEN * size / 2.0, centre_y),
                &c,
                0.75 * m.series_w,
            )?,
            LegendKey::DoseMark if l.dose_key_tick => {
                let cx = x + KEY_LEN * size / 2.0;
                let base = centre_y + m.mark_h / 2.0;
                p.segment((cx, base), (cx, base - m.mark_h), &DOSE_KEY, m.axis_w)?
            }
            LegendKey::DoseMark => p.triangle(
                x + KEY_LEN * size / 2.0,
                centre_y + m.mark_h / 2.0,
                m.mark_w,
                m.mark_h,
                &DOSE_KEY,
            )?,
        }
        let tx = x + (KEY_LEN + KEY_GAP) * size;
        // Legend labels mix cases; centring on half the x-height looks centred to the eye.
        p.text(
            &e.label,
            tx,
            centre_y + 0.27 * size,
            HPos::Left,
            size,
            false,
            &INK,
        )
    };
    match &l.legend_place {
        None => {}
        Some(LegendPlace::Inside(r)) => {
            p.fill_rect(r, RGBAColor(255, 255, 255, 0.88))?;
            p.stroke_rect(r, &LEGEND_BORDER, m.border_w)?;
            for (i, e) in l.legend.iter().enumerate() {
                let cy = r.top + BOX_PAD_Y * size + (i as f64 + 0.5) * ROW_H * size;
                entry(e, r.left + BOX_PAD_X * size, cy)?;
            }
        }
        Some(LegendPlace::Above { top }) => {
            // Aligned with the plot's left edge when it fits there, else with the margin.
            let grid = &l.legend_grid;
            let x0 = if l.plot.left + grid.width <= l.plot.right {
                l.plot.left
            } else {
                m.pad
            };
            for (e, &(dx, row)) in l.legend.iter().zip(&grid.slots) {
                entry(e, x0 + dx, top + (row as f64 + 0.5) * ROW_H * size)?;
            }
        }
    }
    Ok(())
}
