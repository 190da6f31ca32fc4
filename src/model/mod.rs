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
mod kernel;
pub mod ode;
pub mod solver;

pub mod param;
mod peak;

pub use kernel::{bateman_kernel, bateman_kernel_integral, chain_kernel, one_minus_exp_over_x};
pub use param::ModelParam;
#[cfg(test)]
pub(crate) use peak::locate_max;
pub use peak::turning_points;
pub(crate) use peak::{bracketed_root, span_max, span_min};
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
/// the weights of e^{−α·t} and e^{−β·t} in the central response to a central unit and in the
/// peripheral response to a peripheral unit (each in [0, 1], summing to one; each computed
/// on its own, since one minus a weight close to 1 loses as many digits as it has nines).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Modes {
    /// Fast (distribution) rate α (1/h).
    pub alpha_per_h: f64,
    /// Slow (terminal) rate β (1/h).
    pub beta_per_h: f64,
    /// Weight of e^{−α·t} in A_c(t) after a unit amount in the central compartment:
    /// (α − k21)/(α − β).
    pub central_alpha_weight: f64,
    /// Weight of e^{−β·t} in A_c(t) after a unit central amount: (k21 − β)/(α − β).
    pub central_beta_weight: f64,
    /// Weight of e^{−α·t} in A_p(t) after a unit amount in the peripheral compartment:
    /// (α − k10 − k12)/(α − β).
    pub peripheral_alpha_weight: f64,
    /// Weight of e^{−β·t} in A_p(t) after a unit peripheral amount: (k10 + k12 − β)/(α − β).
    pub peripheral_beta_weight: f64,
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
        // α − β is the discriminant itself (no difference of two large numbers).
        let gap = disc;
        // Weights (α − x)/gap and (x − β)/gap for x = k21 and x = k10 + k12, both between β
        // and α. For either x, (α − x)·(x − β) = k12·k21: the larger difference (at least half
        // the gap) is taken directly, the smaller from the product. Subtracting would cancel
        // when x is close to α or β (k21 = 1e9 /h beside k12 = 1e15 /h lost six digits of 1 − w,
        // enough to turn the sign of dA_c/dt into noise).
        let weights = |x: f64| -> (f64, f64) {
            if gap.is_nan() || gap <= 0.0 {
                return (0.5, 0.5);
            }
            let (up, down) = (alpha - x, x - beta);
            let (up, down) = if up >= down {
                (up, k12 * k21 / up)
            } else {
                (k12 * k21 / down, down)
            };
            ((up / gap).clamp(0.0, 1.0), (down / gap).clamp(0.0, 1.0))
        };
        let (central_alpha_weight, central_beta_weight) = weights(k21);
        let (peripheral_alpha_weight, peripheral_beta_weight) = weights(k10 + k12);
        Some(Modes {
            alpha_per_h: alpha,
            beta_per_h: beta,
            central_alpha_weight,
            central_beta_weight,
            peripheral_alpha_weight,
            peripheral_beta_weight,
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

    /// dA_c/dt at state `s` (µg/h), a running infusion included.
    #[inline]
    pub fn central_slope(&self, s: State) -> f64 {
        let slope = match (self.absorption, self.peripheral) {
            (Absorption::FirstOrder, None) => {
                self.ka_per_h * s.gut_ug - self.ke_per_h * s.central_ug
            }
            _ => {
                let (k12, k21) = self.k12_k21_per_h();
                self.absorption_rate_ug_per_h(s.gut_ug) - (self.ke_per_h + k12) * s.central_ug
                    + k21 * s.peripheral_ug
            }
        };
        if s.central_rate_ug_per_h == 0.0 {
            slope
        } else {
            slope + s.central_rate_ug_per_h
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

    /// Right-hand side: d(state)/dt (the rates are constant between events: their
    /// derivatives are zero, so `central_slope(derivative(s))` is d²A_c/dt²).
    pub fn derivative(&self, s: State) -> State {
        let (k12, k21) = self.k12_k21_per_h();
        State::amounts(
            s.gut_rate_ug_per_h - self.absorption_rate_ug_per_h(s.gut_ug),
            self.central_slope(s),
            k12 * s.central_ug - k21 * s.peripheral_ug,
        )
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

/// Amounts in the compartments (µg), and the zero-order input rates running at the time
/// (µg/h). The rates are states of rate zero: they do not change between events (an infusion's
/// start adds its rate, its end takes it away), so an infusion is propagated, integrated and
/// taken to steady state by the same linear maps as the amounts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    /// Amount still to be absorbed (µg).
    pub gut_ug: f64,
    /// Amount in the central compartment (µg).
    pub central_ug: f64,
    /// Amount in the peripheral compartment (µg); always zero in the one-compartment model.
    pub peripheral_ug: f64,
    /// Zero-order input into the gut running now (µg/h): an oral zero-order release, F applied.
    pub gut_rate_ug_per_h: f64,
    /// Zero-order input into the central compartment running now (µg/h): an IV infusion.
    pub central_rate_ug_per_h: f64,
}

impl State {
    /// The empty body.
    pub const ZERO: State = State {
        gut_ug: 0.0,
        central_ug: 0.0,
        peripheral_ug: 0.0,
        gut_rate_ug_per_h: 0.0,
        central_rate_ug_per_h: 0.0,
    };

    /// A state with amounts in the gut and the central compartment only.
    pub const fn new(gut_ug: f64, central_ug: f64) -> Self {
        State {
            gut_ug,
            central_ug,
            peripheral_ug: 0.0,
            gut_rate_ug_per_h: 0.0,
            central_rate_ug_per_h: 0.0,
        }
    }

    /// The three amounts (µg) with no input running.
    pub const fn amounts(gut_ug: f64, central_ug: f64, peripheral_ug: f64) -> Self {
        State {
            gut_ug,
            central_ug,
            peripheral_ug,
            gut_rate_ug_per_h: 0.0,
            central_rate_ug_per_h: 0.0,
        }
    }

    /// The same amounts with the input rates of `other`.
    pub const fn with_rates_of(self, other: State) -> Self {
        State {
            gut_rate_ug_per_h: other.gut_rate_ug_per_h,
            central_rate_ug_per_h: other.central_rate_ug_per_h,
            ..self
        }
    }

    /// True when a zero-order input is running.
    pub fn has_rates(&self) -> bool {
        self.gut_rate_ug_per_h != 0.0 || self.central_rate_ug_per_h != 0.0
    }

    /// True when every amount and rate is exactly zero (nothing to propagate).
    pub fn is_zero(&self) -> bool {
        self.gut_ug == 0.0
            && self.central_ug == 0.0
            && self.peripheral_ug == 0.0
            && !self.has_rates()
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
    /// Smallest central amount in the span (µg): an end, or with an input running possibly an
    /// interior turning point.
    pub min_central_ug: f64,
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
