//! Time above a concentration threshold, computed exactly from the model rather than counted on
//! the output grid.
//!
//! Between two absorption starts the central amount has at most one turning point for one
//! compartment and at most two for two compartments, all found exactly
//! ([`crate::model::turning_points`]). Between turning points the level is monotone, so it
//! crosses a threshold at most once per piece; each crossing is bracketed and found by regula
//! falsi on the closed-form solution to 1e-9 h (on the Dopri5 solution for saturable absorption). Summing the spans gives the time above over a run, or over one period at steady
//! state (from [`crate::engine::steady_profile`]).

use crate::dosing::{DoseEvent, Periodic};
use crate::engine::input::{absorption_inputs, largest_dose_ug, period_inputs, Input};
use crate::engine::steady_profile::ss_start_state;
use crate::error::SimError;
use crate::model::SolverChoice;
use crate::model::{bracketed_root, turning_points, PkModel, Propagator, State};

/// Time above `threshold_ng_ml` over one dosing period at steady state.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TimeAboveSs {
    /// Hours above the threshold per period τ.
    pub hours_per_period_h: f64,
    /// The dosing interval τ (h).
    pub tau_h: f64,
    /// Share of the period above the threshold, 0–100 %.
    pub pct_of_interval: f64,
}

/// Time (h) during which the concentration is strictly above `threshold_ng_ml` in a span
/// without doses of length `len_h` that starts in state `start`.
fn above_in_span<P: Propagator>(
    prop: &mut P,
    start: State,
    len_h: f64,
    threshold_ng_ml: f64,
) -> Result<f64, SimError> {
    if len_h <= 0.0 {
        return Ok(0.0);
    }
    let model = *prop.model();
    // The state anywhere in the span; a solver failure is kept and returned after the search.
    let failed = std::cell::RefCell::new(None);
    let prop = std::cell::RefCell::new(prop);
    let at = |t: f64| match prop.borrow_mut().state_after(start, t) {
        Ok(s) => s,
        Err(e) => {
            failed.borrow_mut().get_or_insert(e);
            start
        }
    };
    let f = |t: f64| model.conc_ng_ml(at(t).central_ug) - threshold_ng_ml;
    let end = at(len_h);
    let turns = turning_points(&model, start, end, 0.0, len_h, &[], at);
    let tol = 1e-9 * (1.0 + len_h);
    // Between turning points the level is monotone: at most one crossing per piece.
    let cuts: Vec<f64> = std::iter::once(0.0)
        .chain(turns.iter().map(|t| t.0))
        .chain(std::iter::once(len_h))
        .collect();
    let mut total = 0.0;
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (fa, fb) = (f(a), f(b));
        total += match (fa > 0.0, fb > 0.0) {
            (true, true) => b - a,
            (false, false) => 0.0,
            // Rising: above from the up-crossing on.
            (false, true) => b - bracketed_root(|t| -f(t), a, b, tol),
            // Falling: above until the down-crossing.
            (true, false) => bracketed_root(f, a, b, tol) - a,
        };
    }
    match failed.into_inner() {
        Some(e) => Err(e),
        None => Ok(total.max(0.0)),
    }
}

/// Time (h) above `threshold_ng_ml` over `[0, end_h]` for `events` (as taken, ascending)
/// starting from an empty body, on the solution of `solver` (exact for linear models under the
/// closed form; saturable absorption on Dopri5).
pub fn time_above_run_h(
    model: &PkModel,
    events: &[DoseEvent],
    end_h: f64,
    threshold_ng_ml: f64,
    solver: &SolverChoice,
) -> Result<f64, SimError> {
    let mut inputs = absorption_inputs(model, events);
    inputs.retain(|i| i.time_h <= end_h);
    let scale = largest_dose_ug(model, events);
    let mut prop = solver.propagator(*model, scale);
    walk_above(&mut prop, State::ZERO, &inputs, end_h, threshold_ng_ml)
}

/// Sums the time above over `[0, end_h]` from `start`, applying `inputs` (ascending) on the way.
fn walk_above<P: Propagator>(
    prop: &mut P,
    start: State,
    inputs: &[Input],
    end_h: f64,
    threshold_ng_ml: f64,
) -> Result<f64, SimError> {
    let (mut s, mut t, mut total) = (start, 0.0, 0.0);
    for i in inputs {
        total += above_in_span(prop, s, i.time_h - t, threshold_ng_ml)?;
        s = prop.state_after(s, i.time_h - t)?;
        i.apply(&mut s);
        t = i.time_h;
    }
    Ok(total + above_in_span(prop, s, end_h - t, threshold_ng_ml)?)
}

/// Time above `threshold_ng_ml` over one period at steady state, on the solution of `solver`
/// (exact for linear models under the closed form).
pub fn time_above_ss(
    model: &PkModel,
    p: &Periodic,
    threshold_ng_ml: f64,
    solver: &SolverChoice,
) -> Result<TimeAboveSs, SimError> {
    let inputs = period_inputs(model, p);
    let scale = largest_dose_ug(model, &p.pattern);
    let mut prop = solver.propagator(*model, scale);
    let start = ss_start_state(&mut prop, p)?;
    let h = walk_above(&mut prop, start, &inputs, p.period_h, threshold_ng_ml)?;
    Ok(TimeAboveSs {
        hours_per_period_h: h,
        tau_h: p.period_h,
        pct_of_interval: 100.0 * h / p.period_h,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::Schedule;
    use crate::model::exact::ExactPropagator;

    /// Brute force: fraction of a fine grid (midpoints) where the simulated level is above.
    fn grid_count_h(model: PkModel, events: &[DoseEvent], end_h: f64, thr: f64, dt: f64) -> f64 {
        let n = (end_h / dt).round() as usize;
        let grid: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) * dt).collect();
        let mut g = vec![0.0];
        g.extend(&grid);
        let tr =
            crate::engine::sim::simulate(&mut ExactPropagator::new(model), events, &g).unwrap();
        tr.conc_ng_ml[1..].iter().filter(|&&c| c > thr).count() as f64 * dt
    }

    fn daily(dose: f64, first: f64, n: u32) -> Periodic {
        Periodic {
            period_h: 24.0,
            first_h: first,
            pattern: vec![DoseEvent::oral(0.0, dose)],
            periods: n,
        }
    }

    #[test]
    fn run_time_above_matches_a_fine_grid_count() {
        let mk4 = PkModel::new(0.574, 0.099, 207.1, 1.0, 0.0, 0.0).unwrap();
        let p = Periodic {
            period_h: 24.0,
            first_h: 8.0,
            pattern: [0.0, 5.0, 11.0]
                .iter()
                .map(|&t| DoseEvent::oral(t, 15_000.0))
                .collect(),
            periods: 4,
        };
        let events = Schedule::Periodic(p).events();
        for thr in [10.0, 50.0, 80.0, 200.0] {
            let exact =
                time_above_run_h(&mk4, &events, 120.0, thr, &SolverChoice::default()).unwrap();
            let brute = grid_count_h(mk4, &events, 120.0, thr, 0.001);
            assert!(
                (exact - brute).abs() < 0.02,
                "thr {thr}: {exact} vs {brute}"
            );
        }
        // Above 200 ng/mL never happens with this model.
        assert_eq!(
            time_above_run_h(&mk4, &events, 120.0, 200.0, &SolverChoice::default()).unwrap(),
            0.0
        );
        // With lag, bioavailability and a baseline above the threshold: always above.
        let m = PkModel::new(0.3, 0.05, 20.0, 0.6, 2.5, 1.5).unwrap();
        let ev = Schedule::Periodic(daily(100.0, 3.0, 5)).events();
        assert!(
            (time_above_run_h(&m, &ev, 100.0, 1.0, &SolverChoice::default()).unwrap() - 100.0)
                .abs()
                < 1e-12
        );
        for thr in [2.0, 3.0, 4.5] {
            let exact = time_above_run_h(&m, &ev, 100.0, thr, &SolverChoice::default()).unwrap();
            let brute = grid_count_h(m, &ev, 100.0, thr, 0.001);
            assert!(
                (exact - brute).abs() < 0.02,
                "thr {thr}: {exact} vs {brute}"
            );
        }
    }

    #[test]
    fn steady_state_time_above_matches_a_grid_count_late_in_a_long_run() {
        let mk7 = PkModel::new(1.22, 0.00963, 230.8, 1.0, 0.0, 0.0).unwrap();
        let p = Periodic {
            period_h: 168.0,
            first_h: 8.0,
            pattern: vec![DoseEvent::oral(0.0, 400.0), DoseEvent::oral(72.0, 400.0)],
            periods: 30,
        };
        let ss = time_above_ss(&mk7, &p, 3.0, &SolverChoice::default()).unwrap();
        assert!(ss.hours_per_period_h > 0.0 && ss.hours_per_period_h < 168.0);
        // Week 29 of 30 is at steady state to < 1e-9 (t½ 3 days): count on a fine grid there.
        let events = Schedule::Periodic(p.clone()).events();
        let t0 = 8.0 + 28.0 * 168.0;
        let all = time_above_run_h(&mk7, &events, t0 + 168.0, 3.0, &SolverChoice::default())
            .unwrap()
            - time_above_run_h(&mk7, &events, t0, 3.0, &SolverChoice::default()).unwrap();
        assert!(
            (all - ss.hours_per_period_h).abs() < 1e-6,
            "{all} vs {ss:?}"
        );
        let brute = grid_count_h(mk7, &events, t0 + 168.0, 3.0, 0.01)
            - grid_count_h(mk7, &events, t0, 3.0, 0.01);
        assert!((brute - ss.hours_per_period_h).abs() < 0.05);
        assert!((ss.pct_of_interval - 100.0 * ss.hours_per_period_h / 168.0).abs() < 1e-12);
        // Thresholds below the trough and above the peak.
        assert_eq!(
            time_above_ss(&mk7, &p, 0.01, &SolverChoice::default())
                .unwrap()
                .pct_of_interval,
            100.0
        );
        assert_eq!(
            time_above_ss(&mk7, &p, 100.0, &SolverChoice::default())
                .unwrap()
                .hours_per_period_h,
            0.0
        );
    }
}
