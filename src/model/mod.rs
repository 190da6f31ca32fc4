//! The pharmacokinetic model and its two solvers.
//!
//! One compartment with first-order absorption, states in amounts (µg):
//!
//! ```text
//! dA_g/dt = -ka·A_g                 (gut, absorption depot)
//! dA_c/dt =  ka·A_g - ke·A_c        (central compartment)
//! C(t)    =  A_c / V + baseline     (ng/mL = µg/L)
//! ```
//!
//! An oral dose D (µg) at time t adds F·D to A_g at t + tlag.
//!
//! Both solvers implement [`Propagator`]: advance the state over a span without doses, report
//! the state at requested times, the integral of A_c and the maximum of A_c over the span. The
//! dosing walk ([`crate::sim`]) is written once on top of that trait, so a new model (a second
//! compartment, saturable absorption) only has to supply a propagator.

pub mod exact;
pub mod ode;

use crate::error::SimError;

/// Natural log of 2, for half-life conversions.
pub const LN_2: f64 = std::f64::consts::LN_2;

/// Validated parameters of the one-compartment model with first-order absorption.
///
/// Construct through [`OneCompartment::new`], which refuses values that would make the model
/// meaningless (non-positive rates or volume, F outside (0, 1e3], NaN).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OneCompartment {
    /// First-order absorption rate constant (1/h).
    pub ka_per_h: f64,
    /// First-order elimination rate constant (1/h); half-life = ln 2 / ke.
    pub ke_per_h: f64,
    /// Apparent volume of distribution (L).
    pub v_l: f64,
    /// Bioavailable fraction of each oral dose (dimensionless).
    pub f: f64,
    /// Delay between taking a dose and the start of its absorption (h).
    pub tlag_h: f64,
    /// Constant endogenous or dietary concentration added to the model concentration (ng/mL).
    pub baseline_ng_ml: f64,
}

impl OneCompartment {
    /// Checks every parameter and returns the model, or the first parameter that is out of range.
    pub fn new(
        ka_per_h: f64,
        ke_per_h: f64,
        v_l: f64,
        f: f64,
        tlag_h: f64,
        baseline_ng_ml: f64,
    ) -> Result<Self, SimError> {
        let check = |name: &'static str, value: f64, ok: bool, expected: &'static str| {
            if value.is_finite() && ok {
                Ok(())
            } else {
                Err(SimError::InvalidParameter {
                    name,
                    value,
                    expected,
                })
            }
        };
        check(
            "ka_per_h",
            ka_per_h,
            ka_per_h > 0.0,
            "a positive rate in 1/h",
        )?;
        check(
            "ke_per_h",
            ke_per_h,
            ke_per_h > 0.0,
            "a positive rate in 1/h",
        )?;
        check("v_l", v_l, v_l > 0.0, "a positive volume in L")?;
        check("f", f, f > 0.0, "a positive fraction (1 = fully absorbed)")?;
        check(
            "tlag_h",
            tlag_h,
            tlag_h >= 0.0,
            "zero or a positive time in h",
        )?;
        check(
            "baseline_ng_ml",
            baseline_ng_ml,
            baseline_ng_ml >= 0.0,
            "zero or a positive ng/mL",
        )?;
        Ok(Self {
            ka_per_h,
            ke_per_h,
            v_l,
            f,
            tlag_h,
            baseline_ng_ml,
        })
    }

    /// Elimination half-life (h).
    pub fn half_life_h(&self) -> f64 {
        LN_2 / self.ke_per_h
    }

    /// Concentration (ng/mL) for a central amount (µg), including the baseline.
    pub fn conc_ng_ml(&self, central_ug: f64) -> f64 {
        central_ug / self.v_l + self.baseline_ng_ml
    }

    /// Right-hand side: d(state)/dt for the two amounts.
    pub fn derivative(&self, s: State) -> State {
        State {
            gut_ug: -self.ka_per_h * s.gut_ug,
            central_ug: self.ka_per_h * s.gut_ug - self.ke_per_h * s.central_ug,
        }
    }
}

/// Amounts in the two compartments (µg).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    /// Amount still to be absorbed (µg).
    pub gut_ug: f64,
    /// Amount in the central compartment (µg).
    pub central_ug: f64,
}

impl State {
    /// The empty body.
    pub const ZERO: State = State {
        gut_ug: 0.0,
        central_ug: 0.0,
    };

    /// True when both amounts are exactly zero (nothing to propagate).
    pub fn is_zero(&self) -> bool {
        self.gut_ug == 0.0 && self.central_ug == 0.0
    }
}

/// What a propagator reports for one span without doses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpanResult {
    /// State at the end of the span.
    pub end: State,
    /// Integral of the central amount over the span (µg·h).
    pub auc_central_ug_h: f64,
    /// Largest central amount in the span (µg), and the time it occurs (h, absolute).
    pub max_central_ug: f64,
    /// Time of `max_central_ug` (h, absolute).
    pub t_max_h: f64,
}

/// Advances the model over spans without doses. Implemented by the exact solution and by the
/// Dopri5 integrator; the dosing walk is shared.
pub trait Propagator {
    /// The model being propagated.
    fn model(&self) -> &OneCompartment;

    /// Advances `start` (state at `t0_h`, doses already applied) to `t1_h`, pushing the state at
    /// each of `sample_times_h` (ascending, inside `(t0_h, t1_h]`) onto `samples`.
    fn span(
        &mut self,
        start: State,
        t0_h: f64,
        t1_h: f64,
        sample_times_h: &[f64],
        samples: &mut Vec<State>,
    ) -> Result<SpanResult, SimError>;
}

/// `(1 - e^{-x}) / x`, accurate for all `x >= 0` including 0 (value 1) and tiny `x`.
pub fn one_minus_exp_over_x(x: f64) -> f64 {
    if x.abs() < 1e-300 {
        1.0
    } else {
        -(-x).exp_m1() / x
    }
}

/// `(e^{-b·t} - e^{-a·t}) / (a - b)`, the response of the central compartment to a unit amount
/// in the gut (divided by ka). Symmetric in `a`, `b`; finite and accurate when `a == b` (then
/// `t·e^{-a·t}`), for flip-flop kinetics (`a < b`) and for large `|a - b|·t`.
pub fn bateman_kernel(a: f64, b: f64, t: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    t * (-lo * t).exp() * one_minus_exp_over_x((hi - lo) * t)
}

/// `∫_0^t (e^{-b·s} - e^{-a·s}) / (a - b) ds`, the integral of [`bateman_kernel`], computed without
/// catastrophic cancellation in every regime (small `a·t` by its series, close rates by a
/// divided-difference expansion, otherwise directly).
pub fn bateman_kernel_integral(a: f64, b: f64, t: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi * t <= 1.0 {
        // Σ_{n≥1} (-1)^{n+1} t^{n+1} h_{n-1}(hi, lo) / (n+1)!, with h the complete homogeneous
        // symmetric polynomial; all terms are built from non-negative numbers.
        let mut h = 1.0; // h_0
        let mut lo_pow = 1.0; // lo^(n-1)
        let mut t_pow = t * t; // t^(n+1)
        let mut fact = 2.0; // (n+1)!
        let mut sum = 0.0;
        for n in 1..60 {
            let term = t_pow * h / fact;
            if n % 2 == 1 {
                sum += term;
            } else {
                sum -= term;
            }
            if term <= 1e-17 * sum.abs() {
                break;
            }
            lo_pow *= lo;
            h = hi * h + lo_pow;
            t_pow *= t;
            fact *= (n + 2) as f64;
        }
        return sum;
    }
    let diff_t = (hi - lo) * t;
    if diff_t > 1e-3 {
        return t * (one_minus_exp_over_x(lo * t) - one_minus_exp_over_x(hi * t)) / (hi - lo);
    }
    // Close rates: t² · (J1(m) + J3(m)·h²/24) with J_k(x) = ∫_0^1 u^k e^{-x u} du, the derivatives
    // of (1 - e^{-x})/x up to sign, at the midpoint m (here m ≥ 0.5, where the upward recursion
    // for J_k is stable).
    let m = 0.5 * (hi + lo) * t;
    let e = (-m).exp();
    let j0 = (1.0 - e) / m;
    let j1 = (j0 - e) / m;
    let j2 = (2.0 * j1 - e) / m;
    let j3 = (3.0 * j2 - e) / m;
    t * t * (j1 + j3 * diff_t * diff_t / 24.0)
}

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
    model: &OneCompartment,
    start: State,
    end: State,
    t0_h: f64,
    t1_h: f64,
    probe_times_h: &[f64],
    mut state_at: impl FnMut(f64) -> State,
) -> (f64, f64) {
    let slope = |s: State| model.ka_per_h * s.gut_ug - model.ke_per_h * s.central_ug;
    if slope(start) <= 0.0 || t1_h <= t0_h {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Composite Simpson on a fine grid: an independent check of the integral.
    fn simpson(f: impl Fn(f64) -> f64, t: f64, n: usize) -> f64 {
        let h = t / n as f64;
        let mut s = f(0.0) + f(t);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            s += w * f(i as f64 * h);
        }
        s * h / 3.0
    }

    #[test]
    fn kernel_limit_when_rates_are_equal() {
        let k = 0.3;
        let t = 5.0;
        assert!((bateman_kernel(k, k, t) - t * (-k * t).exp()).abs() < 1e-15);
        // Approaching from both sides agrees with the limit.
        let near = bateman_kernel(k * (1.0 + 1e-9), k, t);
        assert!((near - t * (-k * t).exp()).abs() < 1e-8 * near);
    }

    #[test]
    fn kernel_matches_textbook_form_when_rates_differ() {
        for &(a, b, t) in &[
            (1.2f64, 0.01f64, 10.0f64),
            (0.01, 1.2, 10.0),
            (3.0, 0.5, 0.1),
            (0.5, 0.49, 200.0),
        ] {
            let textbook = ((-b * t).exp() - (-a * t).exp()) / (a - b);
            assert!(
                (bateman_kernel(a, b, t) - textbook).abs() <= 1e-12 * textbook.abs().max(1e-300)
            );
        }
    }

    #[test]
    fn kernel_integral_agrees_with_quadrature_in_every_regime() {
        let cases = [
            (0.5, 0.0096, 1.0),     // MK-7, hourly step: series branch
            (0.5, 0.0096, 24.0),    // direct branch
            (0.1, 0.1, 24.0),       // equal rates
            (0.1, 0.1000001, 50.0), // close rates, divided-difference branch
            (0.02, 0.35, 24.0),     // flip-flop
            (40.0, 0.01, 24.0),     // fast absorption
            (1e-6, 1e-7, 1.0),      // very slow
        ];
        for &(a, b, t) in &cases {
            let exact = bateman_kernel_integral(a, b, t);
            let quad = simpson(|s| bateman_kernel(a, b, s), t, 20_000);
            assert!(
                (exact - quad).abs() <= 1e-10 * quad.abs(),
                "a={a} b={b} t={t}: {exact} vs {quad}"
            );
        }
    }

    #[test]
    fn kernel_integral_is_accurate_at_branch_boundaries() {
        // Just either side of a·t = 1 (series vs closed form) and (a − b)·t = 1e-3 (divided
        // difference expansion vs closed form), compared with quadrature.
        let cases = [
            (1.0, 0.2, 0.9999999),
            (1.0, 0.2, 1.0000001),
            (0.3 + 0.999e-4, 0.3, 10.0),
            (0.3 + 1.001e-4, 0.3, 10.0),
        ];
        for &(a, b, t) in &cases {
            let exact = bateman_kernel_integral(a, b, t);
            let quad = simpson(|s| bateman_kernel(a, b, s), t, 20_000);
            assert!(
                (exact - quad).abs() <= 1e-11 * quad,
                "a={a} b={b} t={t}: {exact} vs {quad}"
            );
        }
    }

    #[test]
    fn invalid_parameters_are_named() {
        let err = OneCompartment::new(0.5, -1.0, 10.0, 1.0, 0.0, 0.0).unwrap_err();
        assert!(matches!(
            err,
            SimError::InvalidParameter {
                name: "ke_per_h",
                ..
            }
        ));
        assert!(OneCompartment::new(f64::NAN, 0.1, 10.0, 1.0, 0.0, 0.0).is_err());
    }
}
