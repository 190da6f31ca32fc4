//! Tick positions and labels: time steps in hours or days, 1-2-5 concentration steps, and
//! decades on a log axis.

/// A tick on an axis, in that axis' display units (days, hours, or concentration).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tick {
    pub(super) value: f64,
    pub(super) label: Option<String>,
    /// Minor ticks are shorter and get no grid line (log axes only).
    pub(super) minor: bool,
}

/// Candidate time steps: whole days and weeks for a regimen over days, clock-friendly
/// divisions of a day for hours, and 1-2-5 steps beyond those.
pub(super) fn time_steps(days: bool) -> Vec<f64> {
    let mut steps: Vec<f64> = Vec::new();
    for k in -3..=0 {
        for m in [1.0, 2.0, 5.0] {
            steps.push(m * 10f64.powi(k));
        }
    }
    steps.retain(|&s| s < 1.0);
    if days {
        steps.extend([1.0, 2.0, 7.0, 14.0, 28.0]);
        steps.extend(one_two_five(1..=6).filter(|&s| s >= 50.0));
    } else {
        steps.extend([1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0]);
        steps.extend(one_two_five(1..=6).filter(|&s| s >= 50.0));
    }
    steps
}

fn one_two_five(decades: std::ops::RangeInclusive<i32>) -> impl Iterator<Item = f64> {
    decades.flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
}

/// Decimals needed to print multiples of `step` exactly (1 → 0, 0.5 → 1, 0.25 → 2).
fn decimals_for(step: f64) -> usize {
    for d in 0..=6 {
        let scaled = step * 10f64.powi(d);
        if (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0) {
            return d as usize;
        }
    }
    6
}

pub(super) fn format_tick(value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    // "-0" and "-0.0" come from rounding tiny negative noise; print the zero plainly.
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else if let Some(rest) = s.strip_prefix('-') {
        // A typographic minus, as journals set it (and as wide as a plus).
        format!("−{rest}")
    } else {
        s
    }
}

/// Multiples of `step` within `[lo, hi]`, labelled with the step's decimals.
fn linear_ticks(lo: f64, hi: f64, step: f64) -> Vec<Tick> {
    let decimals = decimals_for(step);
    let eps = step * 1e-9;
    let first = ((lo - eps) / step).ceil();
    let last = ((hi + eps) / step).floor();
    // Only degenerate ranges (near f64::MAX, or a step of 0) get here with too many ticks.
    if !(first.is_finite() && last.is_finite() && last - first <= 1000.0) {
        return Vec::new();
    }
    (first as i64..=last as i64)
        .map(|i| {
            let value = i as f64 * step;
            Tick {
                value,
                label: Some(format_tick(value, decimals)),
                minor: false,
            }
        })
        .collect()
}

/// Picks the step whose tick count is closest to five (ties: fewer ticks) among the steps
/// whose labels keep a clear gap; `fits(step, ticks)` is that test. If no step fits (a tiny
/// figure), the largest candidate is used.
pub(super) fn choose_ticks(
    lo: f64,
    hi: f64,
    steps: &[f64],
    fits: impl Fn(f64, &[Tick]) -> bool,
) -> Vec<Tick> {
    let span = hi - lo;
    let mut best: Option<(f64, Vec<Tick>)> = None;
    for &step in steps {
        let intervals = span / step;
        if !(1.0..=12.0).contains(&intervals) {
            continue;
        }
        let ticks = linear_ticks(lo, hi, step);
        if ticks.len() < 2 || !fits(step, &ticks) {
            continue;
        }
        let score = (intervals - 5.0).abs();
        if best.as_ref().is_none_or(|(b, _)| score <= *b) {
            best = Some((score, ticks));
        }
    }
    best.map(|(_, t)| t).unwrap_or_else(|| {
        let step = steps
            .iter()
            .copied()
            .find(|&s| span / s <= 1.0)
            .unwrap_or(span);
        linear_ticks(lo, hi, step)
    })
}

/// Steps for a linear concentration axis: 1, 2, 5 × 10ᵏ, and 2.5 × 10ᵏ where it still gives
/// whole numbers (25, 250, …) so labels never carry a lone extra decimal.
pub(super) fn concentration_steps(span: f64) -> Vec<f64> {
    let top = span.log10().ceil().clamp(-300.0, 300.0) as i32;
    let mut steps = Vec::new();
    for k in (top - 3)..=(top + 1) {
        for m in [1.0, 2.0, 2.5, 5.0] {
            if m == 2.5 && k < 1 {
                continue;
            }
            steps.push(m * 10f64.powi(k));
        }
    }
    steps
}

const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

/// Decade label: plain decimals (0.001 … 10000), or a power of ten when `powers` is set — for
/// a whole axis at once, because "0.001" next to "10⁻⁴" reads as two different scales.
fn decade_label(exp: i32, powers: bool) -> String {
    if !powers {
        format_tick(10f64.powi(exp), exp.min(0).unsigned_abs() as usize)
    } else {
        let digits: String = exp
            .unsigned_abs()
            .to_string()
            .chars()
            .filter_map(|c| c.to_digit(10).map(|d| SUPERSCRIPT[d as usize]))
            .collect();
        format!("10{}{}", if exp < 0 { "⁻" } else { "" }, digits)
    }
}

/// Log-axis ticks: labelled decades (every other one when decades are crowded), unlabelled
/// minor ticks at 2–9 when there is room, and labelled 2 and 5 when only one decade is shown.
pub(super) fn log_ticks(lo: f64, hi: f64, decade_px: f64, label_h: f64) -> Vec<Tick> {
    let e_lo = lo.log10().round() as i32;
    let e_hi = hi.log10().round() as i32;
    // Label every decade when two label heights fit, else every second (or n-th) one.
    let every = ((2.0 * label_h / decade_px).ceil().clamp(1.0, 1000.0)) as i32;
    let powers = e_lo < -3 || e_hi > 4;
    let single = e_hi - e_lo <= 1 && !powers;
    let mut ticks = Vec::new();
    for e in e_lo..=e_hi {
        let base = 10f64.powi(e);
        ticks.push(Tick {
            value: base,
            label: ((e - e_lo) % every == 0).then(|| decade_label(e, powers)),
            minor: false,
        });
        if e == e_hi || decade_px < 40.0 {
            continue;
        }
        for m in 2..=9 {
            let labelled = single && (m == 2 || m == 5);
            let value = f64::from(m) * base;
            ticks.push(Tick {
                value,
                label: labelled.then(|| format_tick(value, e.min(0).unsigned_abs() as usize)),
                minor: !labelled,
            });
        }
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decade_labels() {
        assert_eq!(decade_label(-2, false), "0.01");
        assert_eq!(decade_label(0, false), "1");
        assert_eq!(decade_label(3, false), "1000");
        assert_eq!(decade_label(6, true), "10⁶");
        assert_eq!(decade_label(-5, true), "10⁻⁵");
        assert_eq!(decade_label(0, true), "10⁰");
        let labels: Vec<_> = log_ticks(1e-4, 10.0, 200.0, 34.0)
            .into_iter()
            .filter_map(|t| t.label)
            .collect();
        assert_eq!(labels, ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹"]);
    }
}
