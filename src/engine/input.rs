//! The dose walk's one noun: an [`Input`] is an amount entering the gut at a time, an oral
//! dose after its bioavailability F and absorption lag. Every walk over doses (the run, the
//! steady-state map and profile, time above a threshold) builds its inputs here, so a new
//! input kind (an IV bolus into the central compartment, an infusion) is added in one place.
//! The population batch kernel (`study::population`) applies the same `F × amount at
//! t + tlag` in its structure-of-arrays loop, for speed.

use crate::dosing::{DoseEvent, Periodic};
use crate::model::{PkModel, State};

/// An amount (µg) entering the gut at `time_h`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input {
    /// When the amount enters (h): the dose time plus the absorption lag.
    pub time_h: f64,
    /// The bioavailable amount, F × dose (µg).
    pub amount_ug: f64,
}

impl Input {
    /// The input of one dose under `model`.
    pub fn of_dose(model: &PkModel, dose: &DoseEvent) -> Self {
        Self {
            time_h: dose.time_h + model.tlag_h,
            amount_ug: model.f * dose.amount_ug,
        }
    }

    /// Adds the amount to the state.
    pub fn apply(&self, s: &mut State) {
        s.gut_ug += self.amount_ug;
    }
}

/// The inputs of `events` (ascending in time), inputs at the same instant merged into one.
pub fn absorption_inputs(model: &PkModel, events: &[DoseEvent]) -> Vec<Input> {
    merged(events.iter().map(|e| Input::of_dose(model, e)))
}

/// Inputs (ascending in time) with those at the same instant summed into one, in order.
fn merged(inputs: impl IntoIterator<Item = Input>) -> Vec<Input> {
    let mut out: Vec<Input> = Vec::new();
    for i in inputs {
        match out.last_mut() {
            Some(last) if last.time_h == i.time_h => last.amount_ug += i.amount_ug,
            _ => out.push(i),
        }
    }
    out
}

/// The inputs of one period of `p`, with times as offsets from the period's first dose,
/// ascending, in `[0, τ)` (a lag pushing a dose past the period end wraps to the next period,
/// which at steady state is the same thing), simultaneous inputs merged.
pub fn period_inputs(model: &PkModel, p: &Periodic) -> Vec<Input> {
    let mut v: Vec<Input> = p
        .pattern
        .iter()
        .map(|d| {
            let i = Input::of_dose(model, d);
            Input {
                time_h: i.time_h.rem_euclid(p.period_h),
                ..i
            }
        })
        .collect();
    v.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
    merged(v)
}

/// [`period_inputs`] repeated over `[0, window_h]`, with their offsets from the first period's
/// first dose.
pub fn inputs_over(model: &PkModel, p: &Periodic, window_h: f64) -> Vec<Input> {
    let one = period_inputs(model, p);
    let mut out = Vec::new();
    let mut k = 0.0;
    while k * p.period_h <= window_h {
        out.extend(
            one.iter()
                .map(|i| Input {
                    time_h: i.time_h + k * p.period_h,
                    amount_ug: i.amount_ug,
                })
                .filter(|i| i.time_h <= window_h),
        );
        k += 1.0;
    }
    out
}

/// The largest input (µg), which sets the ODE's absolute tolerance.
pub fn largest_ug(inputs: &[Input]) -> f64 {
    inputs.iter().map(|i| i.amount_ug).fold(0.0, f64::max)
}
