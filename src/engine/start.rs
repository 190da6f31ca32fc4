//! How a regimen's run begins: from an empty body, or — `steady_state = true`, NONMEM's
//! `SS=1` — at the steady state of its periodic schedule, as if it had been taken since long
//! before t = 0. The state at the start and every input from then on (including what earlier,
//! untaken-in-the-run periods still deliver: a lagged dose or an infusion reaching past t = 0)
//! come from here, so the run, predictions for observed data and populations agree.

use crate::dosing::{DoseEvent, Schedule};
use crate::engine::input::{absorption_inputs, with_inputs_from_before, Input};
use crate::engine::steady_profile::ss_state_at;
use crate::error::SimError;
use crate::model::{Propagator, State};

/// The state at t = 0 and the inputs of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStart {
    /// State at t = 0 (empty, or the steady state at that time of the period).
    pub state: State,
    /// Every input from t = 0 on, ascending.
    pub inputs: Vec<Input>,
}

impl RunStart {
    /// The amount in the body at t = 0 (µg).
    pub fn body_ug(&self) -> f64 {
        self.state.total_ug()
    }
}

/// The start of a run of `events` (the doses taken, ascending) from the schedule `schedule`:
/// an empty body, or with `at_steady_state` the steady state of `schedule`'s periodic pattern
/// at t = 0 (the first period starts at `first_h`; t = 0 is `τ − first_h mod τ` into an earlier
/// one). Fails for a steady-state start of a schedule without a repeated pattern (the scenario
/// checks refuse that first). `end_h` is the last time the run looks at: inputs of earlier
/// periods after it are not made.
pub fn run_start<P: Propagator>(
    prop: &mut P,
    schedule: &Schedule,
    at_steady_state: bool,
    events: &[DoseEvent],
    end_h: f64,
) -> Result<RunStart, SimError> {
    let model = *prop.model();
    let inputs = absorption_inputs(&model, events);
    if !at_steady_state {
        return Ok(RunStart {
            state: State::ZERO,
            inputs,
        });
    }
    let p = schedule.periodic().ok_or_else(|| SimError::SteadyState {
        reason: "a run that starts at steady state needs a repeated dose pattern".into(),
    })?;
    let offset_h = (-p.first_h).rem_euclid(p.period_h);
    // rem_euclid can return τ itself for a tiny negative argument.
    let offset_h = if offset_h >= p.period_h {
        0.0
    } else {
        offset_h
    };
    Ok(RunStart {
        state: ss_state_at(prop, p, offset_h)?,
        inputs: with_inputs_from_before(&model, p, 0.0, end_h, inputs),
    })
}
