//! The solver choice: which propagator runs a model ([`SolverKind`], [`AnyPropagator`]), and
//! the fallback to Dopri5 for a model without a closed form.

use super::exact::ExactPropagator;
use super::ode::{OdeOptions, OdePropagator};
use super::{PkModel, Propagator, SpanResult, State};
use crate::error::SimError;

/// Which solver computes the curves.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum SolverKind {
    /// Closed-form propagation of the states between events (default: exact and fastest).
    #[default]
    Exact,
    /// Dopri5 integration from event to event (`ode_solvers`), restarting at each dose.
    Ode,
}

impl SolverKind {
    /// Name as written in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            SolverKind::Exact => "exact",
            SolverKind::Ode => "ode",
        }
    }
}

/// A solver with its ODE tolerances: what a computation needs to build its propagators the
/// way the run asked (`--solver`, `[ode]`). Default: the closed form, Dopri5 at default
/// tolerances where a model has none.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SolverChoice {
    /// The solver asked for.
    pub solver: SolverKind,
    /// Dopri5 tolerances, for the ODE solver and the fallback of models without a closed form.
    pub ode: OdeOptions,
}

impl SolverChoice {
    /// The propagator for `model`; `dose_scale_ug` (the largest bioavailable dose) sets the
    /// ODE's absolute tolerance.
    pub fn propagator(&self, model: PkModel, dose_scale_ug: f64) -> AnyPropagator {
        AnyPropagator::new(model, self.solver, self.ode, dose_scale_ug)
    }
}

/// Either solver behind one type, chosen at run time.
// The closed form is the hot path (populations, sweeps): it stays inline rather than boxed,
// though its cached step map (with the infusion columns) makes it the larger variant.
#[allow(clippy::large_enum_variant)]
pub enum AnyPropagator {
    /// The closed form.
    Exact(ExactPropagator),
    /// Dopri5.
    Ode(Box<OdePropagator>),
}

impl AnyPropagator {
    /// The propagator of `solver` for `model`; `dose_scale_ug` (the largest bioavailable dose)
    /// sets the ODE's absolute tolerance. "Exact" means the closed form where the model has one:
    /// a model without (saturable absorption) is integrated by Dopri5 with `ode`
    /// (see [`solver_used`]).
    pub fn new(model: PkModel, solver: SolverKind, ode: OdeOptions, dose_scale_ug: f64) -> Self {
        match solver_used(&model, solver) {
            SolverKind::Exact => Self::Exact(ExactPropagator::new(model)),
            SolverKind::Ode => Self::Ode(Box::new(OdePropagator::new(model, ode, dose_scale_ug))),
        }
    }

    /// The closed form when the model has one, Dopri5 with default tolerances otherwise.
    pub fn closed_form_or_ode(model: PkModel, dose_scale_ug: f64) -> Self {
        Self::new(
            model,
            SolverKind::Exact,
            OdeOptions::default(),
            dose_scale_ug,
        )
    }
}

/// The solver that actually runs `model` when `solver` is asked for: the exact solver falls
/// back to Dopri5 for a model without a closed form (saturable absorption).
pub fn solver_used(model: &PkModel, solver: SolverKind) -> SolverKind {
    if model.is_linear() {
        solver
    } else {
        SolverKind::Ode
    }
}

impl Propagator for AnyPropagator {
    fn model(&self) -> &PkModel {
        match self {
            Self::Exact(p) => p.model(),
            Self::Ode(p) => p.model(),
        }
    }

    fn span(
        &mut self,
        start: State,
        t0_h: f64,
        t1_h: f64,
        sample_times_h: &[f64],
        samples: &mut Vec<State>,
    ) -> Result<SpanResult, SimError> {
        match self {
            Self::Exact(p) => p.span(start, t0_h, t1_h, sample_times_h, samples),
            Self::Ode(p) => p.span(start, t0_h, t1_h, sample_times_h, samples),
        }
    }

    fn state_after(&mut self, s: State, dt_h: f64) -> Result<State, SimError> {
        match self {
            Self::Exact(p) => p.state_after(s, dt_h),
            Self::Ode(p) => p.state_after(s, dt_h),
        }
    }
}
