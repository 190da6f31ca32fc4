//! Which path a population's subjects take: the structure-of-arrays batch kernel (plain oral
//! boluses of the one-compartment model under the closed form, doses on the output grid) or
//! the per-subject dose walk, and why, for `population_summary.json`.

use crate::dosing::DoseEvent;
use crate::model::SolverKind;
use crate::scenario::{PopulationSpec, Regimen};

/// True when every absorption time of `events` (dose + lag) lies on the output grid.
pub(crate) fn on_grid(events: &[DoseEvent], tlag_h: f64, step_h: f64, duration_h: f64) -> bool {
    let whole = |x: f64| (x / step_h - (x / step_h).round()).abs() < 1e-9;
    whole(duration_h) && events.iter().all(|e| whole(e.time_h + tlag_h))
}

/// Whether the batch kernel is written for this regimen: the plain one-compartment model with
/// first-order absorption, oral boluses, starting from an empty body.
pub(crate) fn batch_serves(regimen: &Regimen) -> bool {
    regimen.model.is_basic()
        && !regimen.at_steady_state
        && regimen
            .schedule
            .events()
            .iter()
            .all(DoseEvent::is_oral_bolus)
}

/// Why the batch kernel does not serve `regimen` under the closed form, if it does not: the
/// population then takes the per-subject walk (same results, about 10× the time per subject).
pub fn batch_fallback_reason(regimen: &Regimen) -> Option<&'static str> {
    if !regimen.model.is_linear() {
        Some("saturable absorption has no closed form")
    } else if regimen.model.peripheral.is_some() {
        Some("the batch kernel is written for one compartment")
    } else if regimen.at_steady_state {
        Some("the run starts at steady state")
    } else if regimen.schedule.events().iter().any(|d| !d.is_oral_bolus()) {
        Some("IV doses and zero-order inputs take the per-subject walk")
    } else {
        None
    }
}

/// Why a population of `regimen` takes the per-subject walk instead of the batch kernel, or
/// `None` when the batch kernel serves it (reported in `population_summary.json`).
pub fn per_subject_reason(
    spec: &PopulationSpec,
    regimen: &Regimen,
    duration_h: f64,
    step_h: f64,
    solver: SolverKind,
) -> Option<&'static str> {
    if uses_batch_kernel(spec, regimen, duration_h, step_h, solver) {
        return None;
    }
    Some(if solver != SolverKind::Exact {
        "the ODE solver integrates each subject"
    } else if let Some(r) = batch_fallback_reason(regimen) {
        r
    } else if spec.jitter_h > 0.0 {
        "jittered dose times fall between output times"
    } else {
        "dose times (with the lag) fall between output times"
    })
}

/// Whether a run of this regimen takes the batch kernel (for diagnostics and benchmarks).
pub fn uses_batch_kernel(
    spec: &PopulationSpec,
    regimen: &Regimen,
    duration_h: f64,
    step_h: f64,
    solver: SolverKind,
) -> bool {
    solver == SolverKind::Exact
        && batch_serves(regimen)
        && spec.jitter_h == 0.0
        && on_grid(
            &regimen.schedule.events(),
            regimen.model.tlag_h,
            step_h,
            duration_h,
        )
}
