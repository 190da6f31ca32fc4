//! The solution at steady state, sampled anywhere in a period: the state at the start of a
//! period is the fixed point of the one-period map, and the model is then propagated from it
//! (in closed form for linear models, by Dopri5 for saturable absorption). Used for the steady-state zoom figure and for time above a threshold at steady state.
//!
//! Time here runs from the **first dose taken** in a period (not from the start of its
//! absorption), so that a lag shows as a flat start, as a reader expects of "time since dose".

use crate::dosing::Periodic;
use crate::engine::input::{inputs_over, largest_dose_ug, period_inputs, period_start_rates};
use crate::engine::run::{RegimenResult, RunResult};
use crate::engine::sim::{period_end, periodic_fixed_point};
use crate::error::SimError;
use crate::model::ode::OdeOptions;
use crate::model::AnyPropagator;
use crate::model::{Propagator, State};

/// The steady-state amounts at the time of a period's first dose (before any of that period's
/// absorption starting at that instant), the fixed point of the one-period map
/// ([`crate::engine::sim::periodic_fixed_point`]). Fails only without elimination.
pub fn ss_start_state<P: Propagator>(prop: &mut P, p: &Periodic) -> Result<State, SimError> {
    let model = *prop.model();
    let inputs = period_inputs(&model, p);
    let scale = largest_dose_ug(&model, &p.pattern);
    if scale <= 0.0 {
        return Err(SimError::SteadyState {
            reason: "the pattern has no dose".into(),
        });
    }
    let tau = p.period_h;
    let rates = period_start_rates(&model, p);
    Ok(periodic_fixed_point(&model, scale, rates, |s| period_end(prop, &inputs, tau, s))?.0)
}

/// The steady-state state `offset_h` into a period (`0 ≤ offset_h < τ`, from the period's
/// first dose): the fixed point walked through the period's inputs before that offset.
pub fn ss_state_at<P: Propagator>(
    prop: &mut P,
    p: &Periodic,
    offset_h: f64,
) -> Result<State, SimError> {
    let model = *prop.model();
    let mut s = ss_start_state(prop, p)?;
    let mut t = 0.0;
    for i in period_inputs(&model, p)
        .iter()
        .filter(|i| i.time_h < offset_h)
    {
        s = prop.state_after(s, i.time_h - t)?;
        i.apply(&mut s);
        t = i.time_h;
    }
    prop.state_after(s, offset_h - t)
}

/// The steady-state concentration–time course (ng/mL, baseline included) over
/// `[0, window_h]` hours since a period's first dose, continuing periodically past one period.
/// Sampled at `points` even times plus every absorption start, so the trough and the onset of
/// each absorption are exact. Returns `(time_h, conc_ng_ml)`, ascending.
pub fn ss_profile<P: Propagator>(
    prop: &mut P,
    p: &Periodic,
    window_h: f64,
    points: usize,
) -> Result<Vec<(f64, f64)>, SimError> {
    let model = *prop.model();
    let start = ss_start_state(prop, p)?;
    let inputs = inputs_over(&model, p, window_h);
    let n = points.max(2);
    let mut times: Vec<f64> = (0..n)
        .map(|i| window_h * i as f64 / (n - 1) as f64)
        .chain(inputs.iter().map(|i| i.time_h))
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * window_h.max(1.0));
    let mut out = Vec::with_capacity(times.len());
    let (mut s, mut t, mut next) = (start, 0.0, 0);
    for &ts in &times {
        // Inputs at or before ts act first; the concentration is continuous across an input
        // (it fills the gut), so the order at ts itself does not matter.
        while next < inputs.len() && inputs[next].time_h <= ts {
            s = prop.state_after(s, inputs[next].time_h - t)?;
            t = inputs[next].time_h;
            inputs[next].apply(&mut s);
            next += 1;
        }
        let at = prop.state_after(s, ts - t)?;
        out.push((ts, model.conc_ng_ml(at.central_ug)));
    }
    Ok(out)
}

/// The steady-state courses a run's figures show: per regimen (in the run's order), its
/// concentration over the longest dosing interval of the regimens with a steady state, computed
/// with the run's solver and ODE options. Regimens without a steady state have `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SteadyProfiles {
    /// The window (h since a period's first dose): the longest dosing interval.
    pub window_h: f64,
    /// `(time_h, conc_ng_ml)` per regimen, `None` without a steady state.
    pub per_regimen: Vec<Option<Vec<(f64, f64)>>>,
}

/// Samples of each steady-state course in [`steady_profiles`] (plus every absorption start).
pub const PROFILE_POINTS: usize = 1200;

/// The [`SteadyProfiles`] of `result`, each regimen propagated by `result.solver` with `ode`.
pub fn steady_profiles(result: &RunResult, ode: OdeOptions) -> Result<SteadyProfiles, SimError> {
    let has_ss =
        |r: &RegimenResult| r.regimen.schedule.periodic().is_some() && r.steady_state.is_some();
    let window_h = result
        .regimens
        .iter()
        .filter(|r| has_ss(r))
        .filter_map(|r| r.regimen.schedule.periodic().map(|p| p.period_h))
        .reduce(f64::max)
        .unwrap_or(0.0);
    let per_regimen = result
        .regimens
        .iter()
        .map(|r| {
            let Some(p) = r.regimen.schedule.periodic().filter(|_| has_ss(r)) else {
                return Ok(None);
            };
            let scale = largest_dose_ug(&r.regimen.model, &p.pattern);
            let mut prop = AnyPropagator::new(r.regimen.model, result.solver, ode, scale);
            ss_profile(&mut prop, p, window_h, PROFILE_POINTS).map(Some)
        })
        .collect::<Result<_, SimError>>()?;
    Ok(SteadyProfiles {
        window_h,
        per_regimen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::{DoseEvent, Schedule};
    use crate::model::exact::ExactPropagator;
    use crate::model::PkModel;

    fn periodic(period_h: f64, doses: &[(f64, f64)], periods: u32) -> Periodic {
        Periodic {
            period_h,
            first_h: 0.0,
            pattern: doses
                .iter()
                .map(|&(time_h, amount_ug)| DoseEvent::oral(time_h, amount_ug))
                .collect(),
            periods,
        }
    }

    #[test]
    fn profile_matches_a_long_simulation_and_the_sim_steady_state() {
        let m = PkModel::new(0.57, 0.099, 207.0, 1.0, 0.75, 0.2).unwrap();
        let p = periodic(
            24.0,
            &[(0.0, 15_000.0), (5.0, 15_000.0), (11.0, 15_000.0)],
            60,
        );
        let prof = ss_profile(&mut ExactPropagator::new(m), &p, 24.0, 97).unwrap();
        // Against the dosing walk over 60 days, last day.
        let events = Schedule::Periodic(p.clone()).events();
        let grid: Vec<f64> = prof.iter().map(|&(t, _)| 59.0 * 24.0 + t).collect();
        let mut full = vec![0.0];
        full.extend(&grid);
        let tr =
            crate::engine::sim::simulate(&mut ExactPropagator::new(m), &events, &full).unwrap();
        for (i, &(_, c)) in prof.iter().enumerate() {
            let sim = tr.conc_ng_ml[i + 1];
            assert!((c - sim).abs() < 1e-9 * sim, "{i}: {c} vs {sim}");
        }
        // And against the steady-state metrics of sim.rs.
        let ss = crate::engine::sim::steady_state(&mut ExactPropagator::new(m), &p).unwrap();
        let max = prof.iter().map(|p| p.1).fold(0.0, f64::max);
        let min = prof.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        assert!(max <= ss.cmax_ss_ng_ml * (1.0 + 1e-12) && max > 0.99 * ss.cmax_ss_ng_ml);
        assert!((min - ss.cmin_ss_ng_ml).abs() < 1e-9 * min);
    }

    #[test]
    fn lag_past_the_period_end_wraps() {
        let m = PkModel::new(1.0, 0.1, 10.0, 0.5, 30.0, 0.0).unwrap();
        let p = periodic(24.0, &[(0.0, 100.0)], 10);
        let pairs: Vec<(f64, f64)> = period_inputs(&m, &p)
            .iter()
            .map(|i| (i.time_h, i.amount_ug))
            .collect();
        assert_eq!(pairs, vec![(6.0, 50.0)]);
        let prof = ss_profile(&mut ExactPropagator::new(m), &p, 48.0, 9).unwrap();
        // Periodic: the value at 0 equals the value at 24 and at 48.
        let at = |t: f64| prof.iter().find(|p| p.0 == t).unwrap().1;
        assert!((at(0.0) - at(24.0)).abs() < 1e-12 * at(0.0));
        assert!((at(0.0) - at(48.0)).abs() < 1e-12 * at(0.0));
    }
}
