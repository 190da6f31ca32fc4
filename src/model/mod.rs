//! The pharmacokinetic model and its two solvers.
//!
//! The default is one compartment with first-order absorption, states in amounts (µg):
//!
//! ```text
//! dA_g/dt = -R(A_g)                          (gut, absorption depot)
//! dA_c/dt =  R(A_g) - ke·A_c [- k12·A_c + k21·A_p]   (central compartment)
//! dA_p/dt =  k12·A_c - k21·A_p                (peripheral, two-compartment model only)
//! C(t)    =  A_c / V + baseline               (ng/mL = µg/L)
//! ```
//!
//! with first-order absorption R = ka·A_g, or saturable (Michaelis–Menten) absorption
//! R = Vmax·A_g/(Km + A_g). In the two-compartment model k12 = Q/V and k21 = Q/Vp
//! (Q inter-compartmental clearance, Vp peripheral volume), and ke = CL/V stays the elimination
//! rate from the central compartment. An oral dose D (µg) at time t adds F·D to A_g at t + tlag.
//!
//! Both solvers implement [`Propagator`]: advance the state over a span without doses, report
//! the state at requested times, the integral of A_c and the maximum of A_c over the span. The
//! dosing walk ([`crate::engine::sim`]) is written once on top of that trait. The closed form covers
//! every linear model (first-order absorption, one or two compartments); saturable absorption
//! is nonlinear and has only the Dopri5 path.

pub mod exact;
pub mod ode;
pub mod solver;

pub mod param;

pub use param::ModelParam;
pub use solver::{solver_used, AnyPropagator, SolverChoice, SolverKind};

use crate::error::SimError;

/// Natural log of 2, for half-life conversions.
pub const LN_2: f64 = std::f64::consts::LN_2;

/// The peripheral (tissue) compartment of the two-compartment model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Peripheral {
    /// Inter-compartmental clearance Q (L/h): k12 = Q/V, k21 = Q/Vp.
    pub q_l_per_h: f64,
    /// Peripheral volume of distribution Vp (L).
    pub vp_l: f64,
}

/// How the gut depot empties into the central compartment.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Absorption {
    /// R = ka·A_g (default; linear, closed form available).
    #[default]
    FirstOrder,
    /// R = Vmax·A_g/(Km + A_g): saturable uptake, for large doses. Nonlinear: Dopri5 only.
    /// At small amounts it behaves as first order with ka = Vmax/Km.
    MichaelisMenten {
        /// Largest absorption rate (µg/h), reached when the gut holds far more than Km.
        vmax_ug_per_h: f64,
        /// Gut amount at which absorption runs at half of Vmax (µg).
        km_ug: f64,
    },
}

/// Rates of the two exponential modes of the central–peripheral pair (1/h), α > β > 0, with
/// the weights of e^{−α·t} in the central response to a central unit and in the peripheral
/// response to a peripheral unit (both in [0, 1]; the e^{−β·t} weight is one minus it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Modes {
    /// Fast (distribution) rate α (1/h).
    pub alpha_per_h: f64,
    /// Slow (terminal) rate β (1/h).
    pub beta_per_h: f64,
    /// Weight of e^{−α·t} in A_c(t) after a unit amount in the central compartment.
    pub central_alpha_weight: f64,
    /// Weight of e^{−α·t} in A_p(t) after a unit amount in the peripheral compartment.
    pub peripheral_alpha_weight: f64,
}

/// Validated parameters of the model: one compartment with first-order absorption, optionally
/// with a peripheral compartment and/or saturable absorption.
///
/// Construct through [`PkModel::new`] (one compartment, first order), then
/// [`PkModel::with_peripheral`] and [`PkModel::with_michaelis_menten`]; each refuses values that
/// would make the model meaningless (non-positive rates or volumes, F outside (0, 1e3], NaN).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PkModel {
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
    /// The peripheral compartment; `None` for the one-compartment model.
    pub peripheral: Option<Peripheral>,
    /// Absorption kinetics; with Michaelis–Menten, `ka_per_h` is not used.
    pub absorption: Absorption,
}

impl PkModel {
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
            peripheral: None,
            absorption: Absorption::FirstOrder,
        })
    }

    /// The same model structure (peripheral compartment, absorption kind) with new core
    /// parameters, checked as in [`PkModel::new`]. Used where a sweep, a population or a fit
    /// varies the core parameters of a model.
    pub fn with_core(
        &self,
        ka_per_h: f64,
        ke_per_h: f64,
        v_l: f64,
        f: f64,
        tlag_h: f64,
        baseline_ng_ml: f64,
    ) -> Result<Self, SimError> {
        Ok(Self {
            peripheral: self.peripheral,
            absorption: self.absorption,
            ..Self::new(ka_per_h, ke_per_h, v_l, f, tlag_h, baseline_ng_ml)?
        })
    }

    /// The same model, every parameter checked again (after fields were set directly, e.g. by
    /// the fitter).
    pub fn checked(&self) -> Result<Self, SimError> {
        let mut m = self.with_core(
            self.ka_per_h,
            self.ke_per_h,
            self.v_l,
            self.f,
            self.tlag_h,
            self.baseline_ng_ml,
        )?;
        if let Some(p) = self.peripheral {
            m = m.with_peripheral(p.q_l_per_h, p.vp_l)?;
        }
        if let Absorption::MichaelisMenten {
            vmax_ug_per_h,
            km_ug,
        } = self.absorption
        {
            m = m.with_michaelis_menten(vmax_ug_per_h, km_ug)?;
        }
        Ok(m)
    }

    /// Adds a peripheral compartment: inter-compartmental clearance `q_l_per_h` (L/h) and
    /// peripheral volume `vp_l` (L), both positive.
    pub fn with_peripheral(self, q_l_per_h: f64, vp_l: f64) -> Result<Self, SimError> {
        positive("q_l_per_h", q_l_per_h, "a positive clearance in L/h")?;
        positive("vp_l", vp_l, "a positive volume in L")?;
        Ok(Self {
            peripheral: Some(Peripheral { q_l_per_h, vp_l }),
            ..self
        })
    }

    /// Replaces first-order absorption by Michaelis–Menten absorption with `vmax_ug_per_h`
    /// (µg/h) and `km_ug` (µg), both positive.
    pub fn with_michaelis_menten(self, vmax_ug_per_h: f64, km_ug: f64) -> Result<Self, SimError> {
        positive("vmax_ug_per_h", vmax_ug_per_h, "a positive rate in µg/h")?;
        positive("km_ug", km_ug, "a positive amount in µg")?;
        Ok(Self {
            absorption: Absorption::MichaelisMenten {
                vmax_ug_per_h,
                km_ug,
            },
            ..self
        })
    }

    /// True for linear models (first-order absorption): these have a closed form, and their
    /// solutions superpose.
    pub fn is_linear(&self) -> bool {
        self.absorption == Absorption::FirstOrder
    }

    /// True for the plain one-compartment model with first-order absorption (the population
    /// batch kernel and the closed-form peak formula are written for it).
    pub fn is_basic(&self) -> bool {
        self.is_linear() && self.peripheral.is_none()
    }

    /// Central → peripheral and peripheral → central rate constants (1/h); zero without a
    /// peripheral compartment.
    pub fn k12_k21_per_h(&self) -> (f64, f64) {
        match self.peripheral {
            Some(p) => (p.q_l_per_h / self.v_l, p.q_l_per_h / p.vp_l),
            None => (0.0, 0.0),
        }
    }

    /// The two disposition modes of the two-compartment model; `None` for one compartment.
    pub fn modes(&self) -> Option<Modes> {
        self.peripheral?;
        let (k12, k21) = self.k12_k21_per_h();
        let k10 = self.ke_per_h;
        let sum = k10 + k12 + k21;
        // (k10 − k21)² + k12² + 2·k12·(k10 + k21): the discriminant without cancellation.
        let disc = ((k10 - k21).powi(2) + k12 * k12 + 2.0 * k12 * (k10 + k21)).sqrt();
        let alpha = 0.5 * (sum + disc);
        // β from the product of the roots (k10·k21), not from (sum − disc)/2, which cancels.
        let beta = k10 * k21 / alpha;
        let gap = alpha - beta;
        let weight = |x: f64| {
            if gap > 0.0 {
                ((alpha - x) / gap).clamp(0.0, 1.0)
            } else {
                0.5
            }
        };
        Some(Modes {
            alpha_per_h: alpha,
            beta_per_h: beta,
            central_alpha_weight: weight(k21),
            peripheral_alpha_weight: weight(k10 + k12),
        })
    }

    /// Terminal elimination half-life (h): ln 2/ke for one compartment, ln 2/β for two.
    pub fn terminal_half_life_h(&self) -> f64 {
        match self.modes() {
            Some(m) => LN_2 / m.beta_per_h,
            None => self.half_life_h(),
        }
    }

    /// Absorption rate at gut amount `gut_ug` (µg/h).
    #[inline]
    pub fn absorption_rate_ug_per_h(&self, gut_ug: f64) -> f64 {
        match self.absorption {
            Absorption::FirstOrder => self.ka_per_h * gut_ug,
            // A numerical gut amount can dip a rounding error below zero; the saturable rate
            // would then have a pole at −Km (Km may be tiny), so it is taken at zero there.
            Absorption::MichaelisMenten {
                vmax_ug_per_h,
                km_ug,
            } => {
                let g = gut_ug.max(0.0);
                vmax_ug_per_h * g / (km_ug + g)
            }
        }
    }

    /// First-order rate constant of absorption at small gut amounts (1/h): ka, or Vmax/Km.
    pub fn absorption_rate_constant_per_h(&self) -> f64 {
        match self.absorption {
            Absorption::FirstOrder => self.ka_per_h,
            Absorption::MichaelisMenten {
                vmax_ug_per_h,
                km_ug,
            } => vmax_ug_per_h / km_ug,
        }
    }

    /// The fastest rate of the system (1/h): it bounds the stable step of an explicit method.
    pub fn fastest_rate_per_h(&self) -> f64 {
        let disposition = self.modes().map_or(self.ke_per_h, |m| m.alpha_per_h);
        self.absorption_rate_constant_per_h().max(disposition)
    }

    /// dA_c/dt at state `s` (µg/h).
    #[inline]
    pub fn central_slope(&self, s: State) -> f64 {
        match (self.absorption, self.peripheral) {
            (Absorption::FirstOrder, None) => {
                self.ka_per_h * s.gut_ug - self.ke_per_h * s.central_ug
            }
            _ => {
                let (k12, k21) = self.k12_k21_per_h();
                self.absorption_rate_ug_per_h(s.gut_ug) - (self.ke_per_h + k12) * s.central_ug
                    + k21 * s.peripheral_ug
            }
        }
    }

    /// Elimination half-life (h) from the central compartment, ln 2/ke (for two compartments
    /// this is not the terminal half-life: see [`PkModel::terminal_half_life_h`]).
    pub fn half_life_h(&self) -> f64 {
        LN_2 / self.ke_per_h
    }

    /// Concentration (ng/mL) for a central amount (µg), including the baseline.
    pub fn conc_ng_ml(&self, central_ug: f64) -> f64 {
        central_ug / self.v_l + self.baseline_ng_ml
    }

    /// Right-hand side: d(state)/dt.
    pub fn derivative(&self, s: State) -> State {
        let (k12, k21) = self.k12_k21_per_h();
        State {
            gut_ug: -self.absorption_rate_ug_per_h(s.gut_ug),
            central_ug: self.central_slope(s),
            peripheral_ug: k12 * s.central_ug - k21 * s.peripheral_ug,
        }
    }
}

/// Checks that a parameter is finite and positive.
fn positive(name: &'static str, value: f64, expected: &'static str) -> Result<(), SimError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SimError::InvalidParameter {
            name,
            value,
            expected,
        })
    }
}

/// Amounts in the compartments (µg).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    /// Amount still to be absorbed (µg).
    pub gut_ug: f64,
    /// Amount in the central compartment (µg).
    pub central_ug: f64,
    /// Amount in the peripheral compartment (µg); always zero in the one-compartment model.
    pub peripheral_ug: f64,
}

impl State {
    /// The empty body.
    pub const ZERO: State = State {
        gut_ug: 0.0,
        central_ug: 0.0,
        peripheral_ug: 0.0,
    };

    /// A state with amounts in the gut and the central compartment only.
    pub const fn new(gut_ug: f64, central_ug: f64) -> Self {
        State {
            gut_ug,
            central_ug,
            peripheral_ug: 0.0,
        }
    }

    /// True when every amount is exactly zero (nothing to propagate).
    pub fn is_zero(&self) -> bool {
        self.gut_ug == 0.0 && self.central_ug == 0.0 && self.peripheral_ug == 0.0
    }

    /// Amount in the body (µg): gut + central + peripheral.
    pub fn total_ug(&self) -> f64 {
        self.gut_ug + self.central_ug + self.peripheral_ug
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
    fn model(&self) -> &PkModel;

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

    /// The state `dt_h` after `s` without doses (for root finding on the solution: time above
    /// a threshold, steady-state profiles).
    fn state_after(&mut self, s: State, dt_h: f64) -> Result<State, SimError>;
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
///   [`locate_max`]).
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
    if model.peripheral.is_none() {
        let (_, t) = locate_max(model, start, end, t0_h, t1_h, probe_times_h, state_at);
        return if t > t0_h && t < t1_h {
            vec![(t, true)]
        } else {
            Vec::new()
        };
    }
    let tol = 1e-9 * (1.0 + t1_h.abs());
    let slope = |s: State| model.central_slope(s);
    // With an exact solution (no probes) the split below is rigorous. A numerical solution is
    // only trusted above its tolerance floor (its emptied tail has sign noise), so it is
    // scanned at the integrator's accepted steps instead, like the nonlinear model.
    let cuts: Vec<f64> = if model.is_linear() && probe_times_h.is_empty() {
        let u = |s: State| {
            model.central_slope(model.derivative(s)) + model.ka_per_h * model.central_slope(s)
        };
        let (u0, u1) = (u(start), u(state_at(t1_h)));
        let split = if u0 > 0.0 && u1 < 0.0 {
            Some(bracketed_root(|t| u(state_at(t)), t0_h, t1_h, tol))
        } else if u0 < 0.0 && u1 > 0.0 {
            Some(bracketed_root(|t| -u(state_at(t)), t0_h, t1_h, tol))
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
    let mut out = Vec::new();
    let mut prev = (cuts[0], slope(start));
    for &b in &cuts[1..] {
        let sb = slope(if b >= t1_h { end } else { state_at(b) });
        let (a, sa) = prev;
        if sa > 0.0 && sb < 0.0 {
            out.push((bracketed_root(|t| slope(state_at(t)), a, b, tol), true));
        } else if sa < 0.0 && sb > 0.0 {
            out.push((bracketed_root(|t| -slope(state_at(t)), a, b, tol), false));
        }
        prev = (b, sb);
    }
    out
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
    if model.peripheral.is_none() {
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
        let err = PkModel::new(0.5, -1.0, 10.0, 1.0, 0.0, 0.0).unwrap_err();
        assert!(matches!(
            err,
            SimError::InvalidParameter {
                name: "ke_per_h",
                ..
            }
        ));
        assert!(PkModel::new(f64::NAN, 0.1, 10.0, 1.0, 0.0, 0.0).is_err());
    }
}
