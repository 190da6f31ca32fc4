//! A figure checked and reduced to what the layout needs: the ranges of both axes, the panels of
//! a small-multiples figure, and the colour and dash of each series.

use plotters::style::RGBColor;

use super::style::{series_colour, series_dash};
use super::{time_axis_in_days, Band, Figure, Guide, Markers, PlotError, XScale, YScale};

/// The figure checked and reduced to what the layout needs: the ranges of both axes.
#[derive(Clone)]
pub(super) struct Prepared<'a> {
    pub(super) fig: &'a Figure,
    /// Time axis range in hours.
    pub(super) x_lo_h: f64,
    pub(super) x_hi_h: f64,
    /// Time axis labelled in days.
    pub(super) days: bool,
    /// Concentration axis range in data units (for log: whole decades).
    pub(super) y_lo: f64,
    pub(super) y_hi: f64,
    pub(super) log: bool,
    /// Logarithmic horizontal axis (whole decades in `x_lo_h`..`x_hi_h`).
    pub(super) xlog: bool,
    /// Index of the first series in the whole figure (a panel's series keeps its colour and
    /// dash), and the panel's place: (index, count); (0, 1) for an overlay.
    pub(super) style_base: usize,
    panel: (usize, usize),
}

/// One single-series figure per panel for a small-multiples figure; empty for an overlay.
pub(super) fn panel_figures(fig: &Figure) -> Vec<Figure> {
    if !fig.panels || fig.series.len() < 2 {
        return Vec::new();
    }
    fig.series
        .iter()
        .enumerate()
        .map(|(i, s)| Figure {
            title: if i == 0 {
                fig.title.clone()
            } else {
                String::new()
            },
            subtitle: if i == 0 { fig.subtitle.clone() } else { None },
            stack: Vec::new(),
            y_label: fig.y_label.clone(),
            series: vec![s.clone()],
            y_scale: fig.y_scale,
            dose_marks_h: fig
                .dose_marks_h
                .get(i)
                .map_or_else(Vec::new, |m| vec![m.clone()]),
            threshold: fig.threshold.clone(),
            shade: fig.shade.clone(),
            limit: fig.limit.clone(),
            panels: false,
            x_scale: fig.x_scale,
            x_label: fig.x_label.clone(),
            observed: fig
                .observed
                .get(i)
                .map_or_else(Vec::new, |o| vec![o.clone()]),
            x_unit: fig.x_unit.clone(),
            series_styles: fig
                .series_styles
                .get(i)
                .map_or_else(Vec::new, |st| vec![*st]),
            bands: fig
                .bands
                .iter()
                .filter(|b| b.series == i)
                .map(|b| Band {
                    series: 0,
                    ..b.clone()
                })
                .collect(),
            markers: fig
                .markers
                .iter()
                .filter(|k| k.series == i)
                .map(|k| Markers {
                    series: 0,
                    ..k.clone()
                })
                .collect(),
            guides: fig
                .guides
                .iter()
                .filter(|g| g.series == i)
                .map(|g| Guide {
                    series: 0,
                    ..g.clone()
                })
                .collect(),
        })
        .collect()
}

/// The figure prepared for layout: itself, or its panels sharing the whole figure's time axis.
pub(super) fn prepare<'a>(
    fig: &'a Figure,
    subs: &'a [Figure],
) -> Result<Vec<Prepared<'a>>, PlotError> {
    let whole = Prepared::new(fig)?;
    if subs.is_empty() {
        return Ok(vec![whole]);
    }
    subs.iter()
        .enumerate()
        .map(|(i, f)| {
            let mut p = Prepared::new(f)?;
            p.x_lo_h = whole.x_lo_h;
            p.x_hi_h = whole.x_hi_h;
            p.days = whole.days;
            p.style_base = i;
            p.panel = (i, subs.len());
            Ok(p)
        })
        .collect()
}

/// Prepares the figures of a stack: one time range for all (their union), each keeping its own
/// colours (the same regimen has the same colour in every figure).
pub(super) fn prepare_stack(figs: &[Figure]) -> Result<Vec<Prepared<'_>>, PlotError> {
    let mut preps = figs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut p = Prepared::new(f)?;
            p.panel = (i, figs.len());
            Ok(p)
        })
        .collect::<Result<Vec<_>, PlotError>>()?;
    let lo = preps.iter().map(|p| p.x_lo_h).fold(f64::INFINITY, f64::min);
    let hi = preps
        .iter()
        .map(|p| p.x_hi_h)
        .fold(f64::NEG_INFINITY, f64::max);
    let days = preps.iter().any(|p| p.days);
    for p in &mut preps {
        p.x_lo_h = lo;
        p.x_hi_h = hi;
        p.days = days;
    }
    Ok(preps)
}

impl<'a> Prepared<'a> {
    pub(super) fn new(fig: &'a Figure) -> Result<Self, PlotError> {
        if fig.series.is_empty() {
            return Err(PlotError::EmptyFigure);
        }
        if !fig.dose_marks_h.is_empty() && fig.dose_marks_h.len() != fig.series.len() {
            return Err(PlotError::DoseMarksMismatch {
                series: fig.series.len(),
                dose_mark_sets: fig.dose_marks_h.len(),
            });
        }
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        if fig
            .series
            .iter()
            .any(|s| !s.points.iter().any(|p| finite(&p)))
        {
            return Err(PlotError::EmptyFigure);
        }
        let all = || {
            fig.series
                .iter()
                .flat_map(|s| s.points.iter())
                .chain(fig.observed.iter().flatten())
                .chain(fig.markers.iter().flat_map(|k| k.points.iter()))
                .chain(fig.guides.iter().flat_map(|g| g.points.iter()))
                .filter(finite)
        };

        let t_min = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let t_max = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        // Simulations start at time 0; a first sample a little later should not shift the
        // origin, but a window late in a long run (days 20–28) should not waste the axis on 0.
        let mut x_lo = if t_min >= 0.0 && t_min <= 0.1 * t_max {
            0.0
        } else {
            t_min
        };
        let mut x_hi = t_max;
        if x_hi - x_lo <= f64::EPSILON * x_hi.abs().max(1.0) {
            x_lo -= 1.0;
            x_hi += 1.0;
        }
        let xlog = fig.x_scale == XScale::Log;
        if xlog {
            // Whole decades around the positive values; values ≤ 0 are not drawn.
            let pos = || all().map(|p| p.0).filter(|x| *x > 0.0);
            let lo = pos().fold(f64::INFINITY, f64::min);
            let hi = pos().fold(f64::NEG_INFINITY, f64::max);
            let (lo, hi) = if lo.is_finite() {
                (lo, hi)
            } else {
                (1.0, 10.0)
            };
            let e_lo = lo.log10().floor().clamp(-300.0, 299.0) as i32;
            let e_hi = (hi.log10().ceil().clamp(-300.0, 300.0) as i32).max(e_lo + 1);
            x_lo = 10f64.powi(e_lo);
            x_hi = 10f64.powi(e_hi);
        }
        let days = !xlog && fig.x_unit.is_none() && time_axis_in_days(x_hi - x_lo);

        let log = fig.y_scale == YScale::Log;
        // The threshold and the limit line: both inside the concentration axis.
        let lines = || {
            fig.threshold
                .iter()
                .chain(&fig.limit)
                .map(|t| t.value)
                .filter(|v| v.is_finite() && (!log || *v > 0.0))
        };
        let band_values = || {
            fig.bands
                .iter()
                .flat_map(|b| b.points.iter())
                .filter(|p| p.0.is_finite() && p.1.is_finite() && p.2.is_finite())
                .flat_map(|p| [p.1, p.2])
        };
        let (y_lo, y_hi) = if log {
            let (mut lo, mut hi) = log_range(fig);
            let band_max = band_values().fold(f64::NEG_INFINITY, f64::max);
            if band_max * 1.08 > hi {
                hi = 10f64.powi((band_max * 1.08).log10().ceil().clamp(-300.0, 300.0) as i32);
            }
            for t in lines() {
                if t < lo {
                    lo = 10f64.powi(t.log10().floor().clamp(-300.0, 299.0) as i32);
                }
                if t * 1.08 > hi {
                    hi = 10f64.powi((t * 1.08).log10().ceil().clamp(-300.0, 300.0) as i32);
                }
            }
            (lo, hi)
        } else {
            let y_min = all()
                .map(|p| p.1)
                .chain(lines())
                .chain(band_values())
                .fold(f64::INFINITY, f64::min);
            let y_max = all()
                .map(|p| p.1)
                .chain(lines())
                .chain(band_values())
                .fold(f64::NEG_INFINITY, f64::max);
            let lo = if y_min < 0.0 { y_min * 1.08 } else { 0.0 };
            let hi = if y_max > 0.0 { y_max * 1.08 } else { 0.0 };
            // Headroom must not overflow to infinity near f64::MAX.
            let hi = if hi.is_finite() { hi } else { y_max };
            if hi - lo > 0.0 {
                (lo, hi)
            } else {
                (lo, lo + 1.0)
            }
        };
        Ok(Self {
            fig,
            x_lo_h: x_lo,
            x_hi_h: x_hi,
            days,
            y_lo,
            y_hi,
            log,
            xlog,
            style_base: 0,
            panel: (0, 1),
        })
    }

    /// The horizontal axis range in axis units (log10 of the value on a log axis).
    pub(super) fn x_lo_t(&self) -> f64 {
        if self.xlog {
            self.x_lo_h.log10()
        } else {
            self.x_lo_h
        }
    }

    pub(super) fn x_hi_t(&self) -> f64 {
        if self.xlog {
            self.x_hi_h.log10()
        } else {
            self.x_hi_h
        }
    }

    /// Axis value of a data point: `None` where it cannot be drawn (non-finite, or ≤ 0 on log).
    pub(super) fn transform(&self, (t, y): (f64, f64)) -> Option<(f64, f64)> {
        if !t.is_finite() || !y.is_finite() {
            return None;
        }
        let t = if self.xlog {
            if t <= 0.0 {
                return None;
            }
            t.log10()
        } else {
            t
        };
        if self.log {
            (y > 0.0).then(|| (t, y.log10()))
        } else {
            Some((t, y))
        }
    }

    pub(super) fn y_lo_t(&self) -> f64 {
        if self.log {
            self.y_lo.log10()
        } else {
            self.y_lo
        }
    }

    pub(super) fn y_hi_t(&self) -> f64 {
        if self.log {
            self.y_hi.log10()
        } else {
            self.y_hi
        }
    }
}

/// Whole-decade range for a log axis.
///
/// Top: the decade above the highest value (with the same 8 % headroom as the linear axis).
/// Bottom: the decade below the lowest value worth showing, but no lower than max/10⁴. After
/// the first dose a curve rises from zero through arbitrarily small values, which would drag
/// the floor to the limit and squeeze the interesting part; so for a series that peaks and
/// falls, its values before the first peak do not set the floor (the rise then enters from the
/// bottom edge, as usual on log plots). A series that only rises keeps two decades below its
/// maximum.
fn log_range(fig: &Figure) -> (f64, f64) {
    let positive = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite() && p.1 > 0.0;
    let y_max = fig
        .series
        .iter()
        .flat_map(|s| s.points.iter())
        .chain(fig.observed.iter().flatten())
        .chain(fig.markers.iter().flat_map(|k| k.points.iter()))
        .chain(fig.guides.iter().flat_map(|g| g.points.iter()))
        .filter(|p| positive(p))
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    if !y_max.is_finite() {
        // Nothing positive to show: an empty but well-formed axis.
        return (1.0, 10.0);
    }
    let mut floor = f64::INFINITY;
    for s in &fig.series {
        let ys: Vec<f64> = s
            .points
            .iter()
            .filter(|p| positive(p))
            .map(|p| p.1)
            .collect();
        let Some(s_max) = ys.iter().copied().reduce(f64::max) else {
            continue;
        };
        let first_fall = ys.windows(2).position(|w| w[1] < w[0]);
        let s_min = match first_fall {
            Some(i) => ys[i..].iter().copied().fold(f64::INFINITY, f64::min),
            None => ys
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .max(s_max / 100.0),
        };
        floor = floor.min(s_min);
    }
    let floor = floor.max(y_max / 1e4);
    // Exponents are clamped to what f64 holds, so absurd data cannot make an endless axis.
    let e_lo = floor.log10().floor().clamp(-300.0, 299.0) as i32;
    let e_hi = ((y_max * 1.08).log10().ceil().clamp(-300.0, 300.0) as i32).max(e_lo + 1);
    (10f64.powi(e_lo), 10f64.powi(e_hi))
}

/// Colour of series `i` of a prepared figure: its own style, or the palette.
pub(super) fn colour_of(prep: &Prepared, i: usize) -> RGBColor {
    match prep.fig.series_styles.get(i) {
        Some(st) => RGBColor(st.rgb[0], st.rgb[1], st.rgb[2]),
        None => series_colour(i + prep.style_base),
    }
}

/// Dash pattern of series `i` of a prepared figure.
pub(super) fn dash_of(prep: &Prepared, i: usize) -> &'static [f64] {
    match prep.fig.series_styles.get(i) {
        Some(st) => series_dash(st.dash),
        None => series_dash(i + prep.style_base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::Series;

    #[test]
    fn log_floor_is_limited_to_four_decades_below_max() {
        let fig = Figure {
            series: vec![Series {
                label: "steep".into(),
                points: vec![(0.0, 500.0), (1.0, 1e-9), (2.0, 1e-12)],
            }],
            y_scale: YScale::Log,
            ..Figure::default()
        };
        let prep = Prepared::new(&fig).unwrap();
        assert_eq!((prep.y_lo, prep.y_hi), (0.01, 1000.0));
    }
}
