//! Axis values to canvas pixels: the linear frame, clipping to the plot area, series as
//! polylines, bands as polygons, and the hit tests that keep the legend off the data.

use plotters::style::RGBAColor;

use super::layout::Rect;
use super::prepare::{colour_of, Prepared};
use super::style::band_key_colour;
use super::Band;

/// Linear map from axis values (hours; concentration or its log10) to canvas pixels.
pub(super) struct Frame {
    pub(super) plot: Rect,
    pub(super) x_lo: f64,
    pub(super) x_hi: f64,
    pub(super) y_lo: f64,
    pub(super) y_hi: f64,
}

impl Frame {
    pub(super) fn px(&self, t: f64) -> f64 {
        self.plot.left + (t - self.x_lo) / (self.x_hi - self.x_lo) * self.plot.width()
    }
    pub(super) fn py(&self, v: f64) -> f64 {
        self.plot.bottom - (v - self.y_lo) / (self.y_hi - self.y_lo) * self.plot.height()
    }
}

/// Liang–Barsky: the part of segment `a`–`b` inside the box, as parameters `0 ≤ t0 ≤ t1 ≤ 1`.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    lo: (f64, f64),
    hi: (f64, f64),
) -> Option<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, a.0 - lo.0),
        (dx, hi.0 - a.0),
        (-dy, a.1 - lo.1),
        (dy, hi.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((t0, t1))
}

/// Turns one series into pixel polylines clipped to the axis ranges, broken at points that
/// cannot be drawn, plus the isolated drawable points that have no segment of their own.
#[allow(clippy::type_complexity)]
pub(super) fn series_paths(
    prep: &Prepared,
    frame: &Frame,
    points: &[(f64, f64)],
) -> (Vec<Vec<(f64, f64)>>, Vec<(f64, f64)>) {
    let lo = (frame.x_lo, frame.y_lo);
    let hi = (frame.x_hi, frame.y_hi);
    let to_px = |p: (f64, f64)| (frame.px(p.0), frame.py(p.1));
    let tp: Vec<Option<(f64, f64)>> = points.iter().map(|&p| prep.transform(p)).collect();

    let mut paths = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let flush = |current: &mut Vec<(f64, f64)>, paths: &mut Vec<Vec<(f64, f64)>>| {
        if current.len() >= 2 {
            paths.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    for pair in tp.windows(2) {
        let (Some(a), Some(b)) = (pair[0], pair[1]) else {
            flush(&mut current, &mut paths);
            continue;
        };
        let Some((t0, t1)) = clip_segment(a, b, lo, hi) else {
            flush(&mut current, &mut paths);
            continue;
        };
        let at = |t: f64| (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
        if t0 > 0.0 || current.is_empty() {
            flush(&mut current, &mut paths);
            current.push(to_px(at(t0)));
        }
        current.push(to_px(at(t1)));
        if t1 < 1.0 {
            flush(&mut current, &mut paths);
        }
    }
    flush(&mut current, &mut paths);
    let paths = paths.into_iter().map(|p| thin_to_columns(&p)).collect();

    let inside = |p: (f64, f64)| p.0 >= lo.0 && p.0 <= hi.0 && p.1 >= lo.1 && p.1 <= hi.1;
    let dots = (0..tp.len())
        .filter_map(|i| {
            let p = tp[i]?;
            let lonely =
                (i == 0 || tp[i - 1].is_none()) && tp.get(i + 1).is_none_or(Option::is_none);
            (lonely && inside(p)).then(|| to_px(p))
        })
        .collect();
    (paths, dots)
}

/// A polyline thinned to what a pixel column can show: of each run of consecutive points in
/// one column, the first, the lowest, the highest and the last, in their order. Every peak and
/// trough is kept exactly (a year of hourly points on a 1600 px axis keeps at most 4 of each
/// 5.5), so the drawn line covers the same pixels while drawing and the SVG shrink.
pub(super) fn thin_to_columns(path: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(path.len().min(4096));
    let mut i = 0;
    while i < path.len() {
        let col = path[i].0.floor();
        let mut j = i + 1;
        while j < path.len() && path[j].0.floor() == col {
            j += 1;
        }
        let run = &path[i..j];
        if run.len() <= 4 {
            out.extend_from_slice(run);
        } else {
            let (mut lo, mut hi) = (0, 0);
            for (k, p) in run.iter().enumerate() {
                if p.1 < run[lo].1 {
                    lo = k;
                }
                if p.1 > run[hi].1 {
                    hi = k;
                }
            }
            let mut keep = [0, lo, hi, run.len() - 1];
            keep.sort_unstable();
            let mut last = usize::MAX;
            for k in keep {
                if k != last {
                    out.push(run[k]);
                    last = k;
                }
            }
        }
        i = j;
    }
    out
}

/// A band in pixels: its outline as one polygon and its columns for hit tests.
pub(super) struct BandPx {
    pub(super) fill: RGBAColor,
    pub(super) polygon: Vec<(f64, f64)>,
    /// (x, top y, bottom y) at each sample.
    columns: Vec<(f64, f64, f64)>,
}

impl BandPx {
    pub(super) fn hits(&self, r: &Rect) -> bool {
        self.columns.iter().any(|&(x, top, bottom)| {
            x >= r.left && x <= r.right && top <= r.bottom && bottom >= r.top
        })
    }
}

/// A band's polygon clamped to the axis ranges (values ≤ 0 on a log axis sit on its floor).
pub(super) fn band_px(prep: &Prepared, frame: &Frame, b: &Band) -> Option<BandPx> {
    let (lo, hi) = (prep.y_lo_t(), prep.y_hi_t());
    let axis = |v: f64| -> f64 {
        let t = if prep.log {
            if v > 0.0 {
                v.log10()
            } else {
                lo
            }
        } else {
            v
        };
        frame.py(t.clamp(lo, hi))
    };
    let columns: Vec<(f64, f64, f64)> = b
        .points
        .iter()
        .filter(|p| {
            p.0.is_finite()
                && p.1.is_finite()
                && p.2.is_finite()
                && p.0 >= prep.x_lo_h
                && p.0 <= prep.x_hi_h
        })
        .map(|&(t, l, h)| (frame.px(t), axis(h.max(l)), axis(l.min(h))))
        .collect();
    if columns.len() < 2 {
        return None;
    }
    let polygon = columns
        .iter()
        .map(|c| (c.0, c.1))
        .chain(columns.iter().rev().map(|c| (c.0, c.2)))
        .collect();
    Some(BandPx {
        fill: band_key_colour(colour_of(prep, b.series), b.opacity.clamp(0.0, 1.0)),
        polygon,
        columns,
    })
}

pub(super) fn hits_curves(
    r: &Rect,
    paths: &[Vec<Vec<(f64, f64)>>],
    dots: &[Vec<(f64, f64)>],
) -> bool {
    let lo = (r.left, r.top);
    let hi = (r.right, r.bottom);
    let inside = |p: &(f64, f64)| p.0 >= lo.0 && p.0 <= hi.0 && p.1 >= lo.1 && p.1 <= hi.1;
    paths.iter().flatten().any(|path| {
        path.windows(2)
            .any(|s| clip_segment(s[0], s[1], lo, hi).is_some())
    }) || dots.iter().flatten().any(inside)
}

#[cfg(test)]
mod thin_tests {
    use super::thin_to_columns;

    #[test]
    fn thinning_keeps_every_columns_extremes_in_order() {
        // 20 points per pixel column of a fast oscillation.
        let path: Vec<(f64, f64)> = (0..2000)
            .map(|i| {
                let x = f64::from(i) / 20.0;
                (x, (x * 7.3).sin() * 100.0 + x)
            })
            .collect();
        let thin = thin_to_columns(&path);
        assert!(thin.len() <= 4 * 100, "{} points", thin.len());
        assert_eq!(thin.first(), path.first());
        assert_eq!(thin.last(), path.last());
        for col in 0..100 {
            let c = f64::from(col);
            let ys = |p: &[(f64, f64)]| -> (f64, f64) {
                p.iter()
                    .filter(|q| q.0.floor() == c)
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |a, q| {
                        (a.0.min(q.1), a.1.max(q.1))
                    })
            };
            assert_eq!(ys(&thin), ys(&path), "column {col}");
        }
        assert!(thin.windows(2).all(|w| w[0].0 <= w[1].0), "order kept");
        // Sparse paths are untouched.
        let sparse = vec![(0.0, 1.0), (3.0, 2.0), (7.5, 0.0)];
        assert_eq!(thin_to_columns(&sparse), sparse);
    }
}
