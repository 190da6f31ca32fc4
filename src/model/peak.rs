//! Locating peaks and roots on a solution: bracketed root finding, the maximum of a span,
//! and the turning points of the closed form (up to two per span with two compartments).

use super::{PkModel, State};

/// Finds the root of `f` in `[a, b]` given `f(a) > 0 > f(b)` (Illinois variant of regula falsi:
/// always bracketed, superlinear). Returns a time within `tol` of the root.
pub(crate) fn bracketed_root(
    mut f: impl FnMut(f64) -> f64,
    mut a: f64,
    mut b: f64,
    tol: f64,
) -> f64 {
    let mut fa = f(a);
    let mut fb = f(b);
    let mut side = 0i8;
    for _ in 0..200 {
        if (b - a).abs() <= tol {
            break;
        }
        let c = (a * fb - b * fa) / (fb - fa);
        // Guard against a degenerate secant (equal values); fall back to bisection.
        let c = if c.is_finite() && c > a && c < b {
            c
        } else {
            0.5 * (a + b)
        };
        let fc = f(c);
        if fc == 0.0 {
            return c;
        }
        if (fc > 0.0) == (fa > 0.0) {
            a = c;
            fa = fc;
            if side == -1 {
                fb *= 0.5;
            }
            side = -1;
        } else {
            b = c;
            fb = fc;
            if side == 1 {
                fa *= 0.5;
            }
            side = 1;
        }
    }
    0.5 * (a + b)
}

/// Locates the maximum of the central amount over `[t0, t1]`, given the state at `t0` and a way
/// to evaluate the state anywhere in the span.
///
/// Within a span without doses dA_c/dt = ka·A_g − ke·A_c changes sign at most once, from + to −
/// (A_c is a sum of two decaying exponentials), so the maximum is at an end or at the single root
/// of the derivative, which is bracketed and found to 1e-9 h. `probe_times_h` (ascending, may be
/// empty) are times where the solution is known to be accurate, used to bracket the root first.
pub(crate) fn locate_max(
    model: &PkModel,
    start: State,
    end: State,
    t0_h: f64,
    t1_h: f64,
    probe_times_h: &[f64],
    mut state_at: impl FnMut(f64) -> State,
) -> (f64, f64) {
    let slope = |s: State| model.central_slope(s);
    if slope(start) <= 0.0 || t1_h <= t0_h {
        // Falling at the start: without inputs running it falls throughout. A running input
        // can turn it (one sign change at most, now − to +): the maximum is then at an end.
        if start.has_rates() && end.central_ug > start.central_ug && t1_h > t0_h {
            return (end.central_ug, t1_h);
        }
        return (start.central_ug, t0_h);
    }
    let (mut a, mut b) = (t0_h, t1_h);
    if !probe_times_h.is_empty() {
        // A numerical solution is trusted only where its values are above the tolerance floor:
        // bracket the peak between the first two probes (accepted step ends) around the first
        // fall, so that sign noise in an emptied tail can never be taken for the peak.
        let mut prev = t0_h;
        match probe_times_h.iter().copied().find(|&t| {
            let falling = slope(state_at(t)) < 0.0;
            if !falling {
                prev = t;
            }
            falling
        }) {
            Some(t) => (a, b) = (prev, t),
            None => return (end.central_ug, t1_h),
        }
    } else if slope(end) >= 0.0 {
        // Rising at both ends: either rising throughout (maximum at the end), or the end slope
        // is the noise of an emptied body (ODE amounts at the level of atol, where the sign of
        // ka·A_g − ke·A_c means nothing). Scan for the first clearly falling point.
        let n = 64;
        let mut prev = t0_h;
        let found = (1..=n)
            .map(|k| t0_h + (t1_h - t0_h) * k as f64 / n as f64)
            .find(|&t| {
                let falling = slope(state_at(t)) < 0.0;
                if !falling {
                    prev = t;
                }
                falling
            });
        match found {
            Some(t) => (a, b) = (prev, t),
            None => return (end.central_ug, t1_h),
        }
    }
    let t = bracketed_root(|t| slope(state_at(t)), a, b, 1e-9 * (1.0 + t1_h.abs()));
    let at = state_at(t).central_ug;
    // Never report less than an end point because of a root landing a hair off.
    if at >= start.central_ug && at >= end.central_ug {
        (at, t)
    } else if start.central_ug >= end.central_ug {
        (start.central_ug, t0_h)
    } else {
        (end.central_ug, t1_h)
    }
}

/// Times inside `(t0_h, t1_h)` where dA_c/dt changes sign, ascending, with `true` for a maximum
/// and `false` for a minimum, given a way to evaluate the state anywhere in the span.
///
/// - One compartment (first-order or saturable absorption): at most one, a maximum (see
///   [`locate_max`]). With a zero-order input running, at most one in either direction (a
///   minimum when absorption or the infusion overtakes elimination), found by an even scan.
/// - Two compartments, first-order absorption: S(t) = dA_c/dt is a sum of three decaying
///   exponentials (rates ka, α, β). U = S′ + ka·S lacks the gut's mode, so it is a sum of two and
///   changes sign at most once, at t_u; since h = e^{ka·t}·S has h′ = e^{ka·t}·U, h (and so S)
///   has at most one root on each side of t_u. Each root is bracketed and found to 1e-9 h: no
///   turning point can be missed, however narrow.
/// - Numerical solutions (`probe_times_h` not empty), and two compartments with saturable
///   absorption (no such structure): S is scanned at `probe_times_h` (the integrator's step
///   ends, which resolve the dynamics) and 64 even points, and each sign change is refined. A
///   turning point closer to another than the scan spacing could be missed.
pub fn turning_points(
    model: &PkModel,
    start: State,
    end: State,
    t0_h: f64,
    t1_h: f64,
    probe_times_h: &[f64],
    mut state_at: impl FnMut(f64) -> State,
) -> Vec<(f64, bool)> {
    if t1_h <= t0_h {
        return Vec::new();
    }
    if model.peripheral.is_none() && !start.has_rates() {
        let (_, t) = locate_max(model, start, end, t0_h, t1_h, probe_times_h, state_at);
        return if t > t0_h && t < t1_h {
            vec![(t, true)]
        } else {
            Vec::new()
        };
    }
    let tol = 1e-9 * (1.0 + t1_h.abs());
    let exact_two = model.is_linear() && probe_times_h.is_empty() && model.peripheral.is_some();
    let (t1_h, end) = if exact_two && !start.has_rates() {
        without_emptied_tail(start, end, t0_h, t1_h, &mut state_at)
    } else {
        (t1_h, end)
    };
    // dA_c/dt and U at time t: from the closed form about `start` where there is one (see
    // `exact::central_slopes_after`: from the state they cancel at fast exchange rates),
    // else from the state.
    let closed = |t: f64| {
        exact_two
            .then(|| super::exact::central_slopes_after(model, start, t - t0_h))
            .flatten()
    };
    let u_of = |s: State| {
        model.central_slope(model.derivative(s)) + model.ka_per_h * model.central_slope(s)
    };
    // With an exact solution (no probes) the split below is rigorous. A numerical solution is
    // only trusted above its tolerance floor (its emptied tail has sign noise), so it is
    // scanned at the integrator's accepted steps instead, like the nonlinear model.
    // One compartment with an input running: dA_c/dt is a sum of two exponentials (ka, ke),
    // one sign change at most, in either direction; the even scan below brackets it.
    let cuts: Vec<f64> = if exact_two {
        let mut u = |t: f64| match closed(t) {
            Some((_, u)) => u,
            None => u_of(if t <= t0_h { start } else { state_at(t) }),
        };
        let (u0, u1) = (u(t0_h), u(t1_h));
        let split = if u0 > 0.0 && u1 < 0.0 {
            Some(bracketed_root(&mut u, t0_h, t1_h, tol))
        } else if u0 < 0.0 && u1 > 0.0 {
            Some(bracketed_root(|t| -u(t), t0_h, t1_h, tol))
        } else {
            None
        };
        std::iter::once(t0_h)
            .chain(split)
            .chain(std::iter::once(t1_h))
            .collect()
    } else {
        let mut v: Vec<f64> = (0..=64)
            .map(|k| t0_h + (t1_h - t0_h) * f64::from(k) / 64.0)
            .chain(
                probe_times_h
                    .iter()
                    .copied()
                    .filter(|&t| t > t0_h && t < t1_h),
            )
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let mut slope_at = |t: f64| match closed(t) {
        Some((sl, _)) => sl,
        None => model.central_slope(if t >= t1_h { end } else { state_at(t) }),
    };
    let mut out = Vec::new();
    let s0 = closed(t0_h).map_or_else(|| model.central_slope(start), |(sl, _)| sl);
    let mut prev = (cuts[0], s0);
    for &b in &cuts[1..] {
        let sb = slope_at(b);
        let (a, sa) = prev;
        if sa > 0.0 && sb < 0.0 {
            out.push((bracketed_root(&mut slope_at, a, b, tol), true));
        } else if sa < 0.0 && sb > 0.0 {
            out.push((bracketed_root(|t| -slope_at(t), a, b, tol), false));
        }
        prev = (b, sb);
    }
    out
}

/// The span `[t0_h, t1_h]` cut where its amounts fall below 1e-200 of the start's (for a
/// dose-free span of the closed form, whose total amount only falls), with the state there.
/// Beyond, the amounts are subnormal or zero (fast rates over a long span underflow), the sign
/// of dA_c/dt means nothing, and a peak bracketed against such an end was missed (Cmax = 0).
fn without_emptied_tail(
    start: State,
    end: State,
    t0_h: f64,
    t1_h: f64,
    mut state_at: impl FnMut(f64) -> State,
) -> (f64, State) {
    let total = |s: State| s.gut_ug + s.central_ug + s.peripheral_ug;
    let floor = 1e-200 * total(start);
    if floor.is_nan() || floor <= 0.0 || total(end) >= floor {
        return (t1_h, end);
    }
    // total ≥ floor at `lo`, below at `hi`.
    let (mut lo, mut hi) = (t0_h, t1_h);
    while hi - lo > 1e-12 * (1.0 + t1_h.abs()) {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if total(state_at(mid)) >= floor {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo, state_at(lo))
}

/// The maximum of the central amount over a span and its time: the largest of the ends and the
/// maxima among [`turning_points`] (the earliest on ties). Arguments as there.
pub(crate) fn span_max(
    model: &PkModel,
    start: State,
    end: State,
    t0_h: f64,
    t1_h: f64,
    probe_times_h: &[f64],
    mut state_at: impl FnMut(f64) -> State,
) -> (f64, f64) {
    if model.peripheral.is_none() && !start.has_rates() {
        return locate_max(model, start, end, t0_h, t1_h, probe_times_h, state_at);
    }
    let mut best = (start.central_ug, t0_h);
    for (t, is_max) in turning_points(model, start, end, t0_h, t1_h, probe_times_h, &mut state_at) {
        let v = state_at(t).central_ug;
        if is_max && v > best.0 {
            best = (v, t);
        }
    }
    if end.central_ug > best.0 {
        best = (end.central_ug, t1_h);
    }
    best
}

/// The minimum of the central amount over a span: the smaller end, or, with a zero-order input
/// running (which can turn a falling level), the lowest of the ends and the minima among
/// [`turning_points`]. Without inputs running the level has no interior minimum after a dose
/// (see [`locate_max`]). Arguments as there.
pub(crate) fn span_min(
    model: &PkModel,
    start: State,
    end: State,
    t0_h: f64,
    t1_h: f64,
    probe_times_h: &[f64],
    mut state_at: impl FnMut(f64) -> State,
) -> f64 {
    let ends = start.central_ug.min(end.central_ug);
    if !start.has_rates() {
        return ends;
    }
    turning_points(model, start, end, t0_h, t1_h, probe_times_h, &mut state_at)
        .into_iter()
        .filter(|&(_, is_max)| !is_max)
        .map(|(t, _)| state_at(t).central_ug)
        .fold(ends, f64::min)
}
