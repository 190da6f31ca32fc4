//! The dosing walk, written once for every [`Propagator`]: advance from event to event, apply
//! doses, sample the output grid, and track Cmax/Tmax and AUC exactly. Steady state is computed
//! from the one-period map of a periodic schedule, not read off a finite run.

use nalgebra::{Matrix3, Vector3};

use crate::dosing::{DoseEvent, Periodic};
use crate::engine::input::{
    absorption_inputs, first_period_inputs, largest_dose_ug, period_inputs, period_start_rates,
    Input,
};
use crate::error::SimError;
use crate::model::{PkModel, Propagator, State};

/// A simulated concentration–time course and the metrics of the whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Output times (h).
    pub time_h: Vec<f64>,
    /// Concentration at each output time, baseline included (ng/mL).
    pub conc_ng_ml: Vec<f64>,
    /// Highest concentration of the run (ng/mL), located exactly, not read off the grid.
    pub cmax_ng_ml: f64,
    /// Time of `cmax_ng_ml` (h).
    pub tmax_h: f64,
    /// Area under the concentration curve from 0 to the end of the run (ng·h/mL), baseline included.
    pub auc_0_t_ng_h_ml: f64,
    /// Bioavailable amount that entered the gut during the run (µg).
    pub absorbed_input_ug: f64,
    /// Amounts in the body at the end of the run (µg).
    pub end_state: State,
    /// Amount eliminated during the run (µg): ke · ∫A_c dt.
    pub eliminated_ug: f64,
}

/// Keeps the running maximum and its time. Peaks within 1e-8 (relative) of the best so far count
/// as ties and keep the earlier time: at steady state every period has the same peak to rounding,
/// and Tmax must not jump between periods with the last bits of the solver.
fn note_peak(best: &mut f64, t_best: &mut f64, candidate: f64, t_candidate: f64) {
    if candidate > *best * (1.0 + 1e-8) {
        *t_best = t_candidate;
    }
    if candidate > *best {
        *best = candidate;
    }
}

/// Simulates `events` (ascending in time) from an empty body at t = 0 and samples the state at
/// every time of `grid_h` (ascending, starting at or after 0). The run ends at the last grid time.
pub fn simulate<P: Propagator>(
    prop: &mut P,
    events: &[DoseEvent],
    grid_h: &[f64],
) -> Result<Trajectory, SimError> {
    simulate_from(prop, State::ZERO, 0.0, events, grid_h)
}

/// As [`simulate`], but starting from `start` at `t0_h` (grid times at or after `t0_h`; doses
/// absorbed before `t0_h` are ignored: they are in `start`). AUC is from `t0_h` to the end.
pub fn simulate_from<P: Propagator>(
    prop: &mut P,
    start: State,
    t0_h: f64,
    events: &[DoseEvent],
    grid_h: &[f64],
) -> Result<Trajectory, SimError> {
    let model = *prop.model();
    simulate_inputs(
        prop,
        start,
        t0_h,
        &absorption_inputs(&model, events),
        grid_h,
    )
}

/// The walk itself: from `start` at `t0_h`, applying `inputs` (ascending in time; those before
/// `t0_h` or after the last grid time are ignored), sampling at `grid_h`.
pub fn simulate_inputs<P: Propagator>(
    prop: &mut P,
    start: State,
    t0_h: f64,
    inputs: &[Input],
    grid_h: &[f64],
) -> Result<Trajectory, SimError> {
    let model = *prop.model();
    let end_h = grid_h.last().copied().unwrap_or(t0_h);
    let mut states: Vec<State> = Vec::with_capacity(grid_h.len());
    let mut state = start;
    let mut t = t0_h;
    let mut gi = grid_h.iter().take_while(|&&g| g <= t0_h).count();
    states.resize(gi, start);
    let (mut max_central, mut t_max, mut auc_central, mut input) =
        (start.central_ug, t0_h, 0.0, 0.0);
    // What enters is counted as the propagator delivers it: each span's running rates times
    // the span's length, plus the boluses. (Counting each rate change times the time left to
    // the end cancelled: a 10 mg infusion over 4e-12 h at 8 h, rate 2.5e15 µg/h, came out
    // 9992 µg.)
    let mut advance = |prop: &mut P,
                       state: &mut State,
                       t: &mut f64,
                       to: f64,
                       gi: &mut usize,
                       states: &mut Vec<State>|
     -> Result<f64, SimError> {
        let delivered = (state.gut_rate_ug_per_h + state.central_rate_ug_per_h) * (to - *t);
        let j = *gi + grid_h[*gi..].partition_point(|&g| g <= to);
        let r = prop.span(*state, *t, to, &grid_h[*gi..j], states)?;
        note_peak(&mut max_central, &mut t_max, r.max_central_ug, r.t_max_h);
        auc_central += r.auc_central_ug_h;
        *state = r.end;
        *t = to;
        *gi = j;
        Ok(delivered)
    };
    for e in inputs
        .iter()
        .filter(|e| e.time_h >= t0_h && e.time_h <= end_h)
    {
        input += advance(prop, &mut state, &mut t, e.time_h, &mut gi, &mut states)?;
        e.apply(&mut state);
        if !e.reset {
            input += e.amount_ug;
        }
    }
    input += advance(prop, &mut state, &mut t, end_h, &mut gi, &mut states)?;
    Ok(Trajectory {
        time_h: grid_h.to_vec(),
        conc_ng_ml: states
            .iter()
            .map(|s| model.conc_ng_ml(s.central_ug))
            .collect(),
        cmax_ng_ml: model.conc_ng_ml(max_central),
        tmax_h: t_max,
        auc_0_t_ng_h_ml: auc_central / model.v_l + model.baseline_ng_ml * (end_h - t0_h),
        absorbed_input_ug: input,
        end_state: state,
        eliminated_ug: model.ke_per_h * auc_central,
    })
}

/// Steady-state metrics of a periodic schedule, computed from the model's one-period map.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SteadyState {
    /// Dosing interval τ: the length of the repeated pattern (h).
    pub tau_h: f64,
    /// Highest concentration over one period at steady state (ng/mL).
    pub cmax_ss_ng_ml: f64,
    /// Time of `cmax_ss_ng_ml` after the first dose of the period (h).
    pub tmax_ss_h: f64,
    /// Lowest concentration over one period at steady state, the trough (ng/mL).
    pub cmin_ss_ng_ml: f64,
    /// Average concentration at steady state, AUCτ/τ (ng/mL).
    pub cavg_ss_ng_ml: f64,
    /// Area under the curve over one period at steady state (ng·h/mL).
    pub auc_tau_ss_ng_h_ml: f64,
    /// AUCτ at steady state over AUC of the first period, both without baseline.
    pub accumulation_ratio: f64,
    /// Peak–trough fluctuation, (Cmax,ss − Cmin,ss)/Cavg,ss × 100 (%).
    pub fluctuation_pct: f64,
    /// Time from the first dose until the pre-dose trough first reaches 90 % of its steady-state
    /// value (baseline excluded), in whole periods (h). `None` if not within 10 million periods.
    pub t_90ss_h: Option<f64>,
    /// Pre-dose trough of the last period given, as a fraction of the steady-state pre-dose
    /// trough (baseline excluded). `None` with a single period (no pre-dose trough).
    pub last_trough_fraction_of_ss: Option<f64>,
}

struct PeriodRun {
    end: State,
    auc_central_ug_h: f64,
    max_central_ug: f64,
    t_max_h: f64,
    min_central_ug: f64,
}

/// One period of `inputs` (offsets in `[0, τ)` from the period's first dose, see
/// [`period_inputs`]) from `start`, the state at offset 0 before any input there.
fn run_period<P: Propagator>(
    prop: &mut P,
    inputs: &[Input],
    tau_h: f64,
    start: State,
) -> Result<PeriodRun, SimError> {
    let mut state = start;
    let mut run = PeriodRun {
        end: start,
        auc_central_ug_h: 0.0,
        max_central_ug: start.central_ug,
        t_max_h: 0.0,
        min_central_ug: start.central_ug,
    };
    let mut scratch = Vec::new();
    let mut t = 0.0;
    let mut span = |prop: &mut P, state: &mut State, from: f64, to: f64| -> Result<(), SimError> {
        if to <= from {
            return Ok(());
        }
        let r = prop.span(*state, from, to, &[], &mut scratch)?;
        note_peak(
            &mut run.max_central_ug,
            &mut run.t_max_h,
            r.max_central_ug,
            r.t_max_h,
        );
        // Clipped at zero: the ODE path may end a span a rounding error below it (see
        // model::ode::sample_of).
        run.min_central_ug = run.min_central_ug.min(r.min_central_ug.max(0.0));
        run.auc_central_ug_h += r.auc_central_ug_h;
        *state = r.end;
        Ok(())
    };
    for i in inputs {
        span(prop, &mut state, t, i.time_h)?;
        i.apply(&mut state);
        t = i.time_h;
    }
    span(prop, &mut state, t, tau_h)?;
    run.end = state;
    Ok(run)
}

/// Most periods walked one by one for a nonlinear model's time to 90 % of steady state.
const MAX_WALKED_PERIODS: u32 = 100_000;

/// Periods the nonlinear walk may take: at most [`MAX_WALKED_PERIODS`], and at most about
/// 2·10⁷ integrator steps in all (an explicit method needs at least rate·τ/3.3 steps per
/// period, and about 20 for accuracy), so a stiff model cannot make the walk run for hours.
/// Beyond it the time to 90 % is reported as not reached.
fn walk_budget(model: &PkModel, period_h: f64) -> u32 {
    let steps_per_period = (model.fastest_rate_per_h() * period_h / 3.3).max(20.0);
    (2e7 / steps_per_period).clamp(1.0, f64::from(MAX_WALKED_PERIODS)) as u32
}

/// The state after one period of `inputs` from `start`, no metrics: the inputs, with
/// [`Propagator::state_after`] between them.
pub(crate) fn period_end<P: Propagator>(
    prop: &mut P,
    inputs: &[Input],
    tau_h: f64,
    start: State,
) -> Result<State, SimError> {
    let mut s = start;
    let mut t = 0.0;
    for i in inputs {
        if i.time_h > t {
            s = prop.state_after(s, i.time_h - t)?;
        }
        i.apply(&mut s);
        t = i.time_h;
    }
    if tau_h > t {
        s = prop.state_after(s, tau_h - t)?;
    }
    Ok(s)
}

/// The fixed point of a one-period map `period` (the state before one period ↦ the state before
/// the next), and for a linear model the map's matrix M (y ↦ M·y + b).
///
/// Linear models: `b` is one period from an empty body; the columns of M come from one period
/// from each unit state (minus b); the fixed point solves (I − M)·y = b. The peripheral column
/// is left at zero for one compartment (no amount ever enters it).
///
/// Nonlinear models (saturable absorption): Newton's method on P(y) − y with a
/// finite-difference Jacobian, from an empty body, until the residual is below 1e-9 of the
/// amounts (the integrator's own tolerance is 1e-10).
///
/// `rates` are the zero-order inputs running at the period's start ([`period_start_rates`]):
/// states of rate zero that the period returns unchanged, so the fixed point is solved for the
/// amounts with them held.
pub(crate) fn periodic_fixed_point(
    model: &PkModel,
    scale_ug: f64,
    rates: State,
    mut period: impl FnMut(State) -> Result<State, SimError>,
) -> Result<(State, Option<Matrix3<f64>>), SimError> {
    let vec = |s: State| Vector3::new(s.gut_ug, s.central_ug, s.peripheral_ug);
    let state = |y: Vector3<f64>| State::amounts(y[0], y[1], y[2]).with_rates_of(rates);
    let dims = if model.peripheral.is_some() { 3 } else { 2 };
    let b = vec(period(state(Vector3::zeros()))?);
    if model.is_linear() {
        let mut m = Matrix3::zeros();
        for j in 0..dims {
            let mut unit = Vector3::zeros();
            unit[j] = scale_ug;
            m.set_column(j, &((vec(period(state(unit))?) - b) / scale_ug));
        }
        let y = (Matrix3::identity() - m)
            .lu()
            .solve(&b)
            .ok_or_else(|| SimError::SteadyState {
                reason: "the one-period map has an eigenvalue 1 to double precision: less than 1e-16 of the body's amount is eliminated per dosing interval (no elimination, or a peripheral compartment that returns the drug too slowly); steady state would take longer than 1e12 years".into(),
            })?;
        // The true fixed point is non-negative; with the ODE path, amounts far below the
        // absolute tolerance can solve to a rounding error below zero.
        return Ok((state(y.map(|x| x.max(0.0))), Some(m)));
    }
    let mut y = b;
    let mut best = (f64::INFINITY, y);
    for _ in 0..60 {
        let py = vec(period(state(y))?);
        let r = py - y;
        let size = y.amax().max(scale_ug);
        if r.amax() < best.0 {
            best = (r.amax(), py);
        }
        if r.amax() <= 1e-9 * size {
            return Ok((state(py.map(|x| x.max(0.0))), None));
        }
        let mut jac = Matrix3::identity();
        for j in 0..dims {
            let h = 1e-6 * size;
            let mut yj = y;
            yj[j] += h;
            jac.set_column(j, &((vec(period(state(yj))?) - py) / h));
        }
        if dims == 2 {
            jac[(2, 2)] = 0.0;
        }
        let step =
            (Matrix3::identity() - jac)
                .lu()
                .solve(&r)
                .ok_or_else(|| SimError::SteadyState {
                    reason: "the one-period map has a singular Jacobian (no elimination?)".into(),
                })?;
        y = (y + step).map(|x| x.max(0.0));
    }
    if best.0 <= 1e-6 * best.1.amax().max(scale_ug) {
        return Ok((state(best.1.map(|x| x.max(0.0))), None));
    }
    Err(SimError::SteadyState {
        reason: format!(
            "Newton's method on the one-period map did not converge (residual {:.3e} µg)",
            best.0
        ),
    })
}

/// Steady state of the periodic schedule `p` under the propagator's model, from the fixed
/// point of the one-period map ([`periodic_fixed_point`]). Times run from the period's first
/// dose (a lag shows as a flat start); the first period is the one given to an empty body.
pub fn steady_state<P: Propagator>(prop: &mut P, p: &Periodic) -> Result<SteadyState, SimError> {
    let model = *prop.model();
    let scale = largest_dose_ug(&model, &p.pattern);
    if scale <= 0.0 || p.pattern.is_empty() {
        return Err(SimError::SteadyState {
            reason: "the pattern has no dose".into(),
        });
    }
    let tau = p.period_h;
    let inputs = period_inputs(&model, p);
    let first_inputs = first_period_inputs(&model, p);
    let first = run_period(prop, &first_inputs, tau, State::ZERO)?;
    let rates = period_start_rates(&model, p);
    // Linear models take the period map through the spans (as the run does); the nonlinear
    // Newton iteration needs many maps and only their end states.
    let linear = model.is_linear();
    let (ss_start, m) = periodic_fixed_point(&model, scale, rates, |s| {
        if linear {
            Ok(run_period(prop, &inputs, tau, s)?.end)
        } else {
            period_end(prop, &inputs, tau, s)
        }
    })?;
    let ss = run_period(prop, &inputs, tau, ss_start)?;
    // The first period's end equals one map from an empty body unless an input of the first
    // period reaches into the next (a wrapped lag or infusion, or an infusion running at the
    // period start): then the troughs follow y₁ = that end, yₙ₊₁ = M·yₙ + b.
    let wraps = rates.has_rates() || first_inputs != inputs;
    let conc = |a: f64| model.conc_ng_ml(a);
    let auc_tau = ss.auc_central_ug_h / model.v_l + model.baseline_ng_ml * p.period_h;
    let cavg = auc_tau / p.period_h;
    let cmax = conc(ss.max_central_ug);
    let cmin = conc(ss.min_central_ug);

    let trough_ss = ss_start.central_ug;
    const MAX_PERIODS: u32 = 10_000_000;
    let (t_90ss_h, last_trough) = match m {
        Some(m) => {
            // Pre-dose troughs of successive periods: y_{n+1} = M·y_n + b from y_0 = 0, that
            // is y_n = (I − M^n)·y_ss. With doses of positive amount and a non-negative M they
            // rise monotonically, so the first period at 90 % is found by bisection on n, with
            // M^n by repeated squaring: O(log² n) rather than one step per period (10 million
            // periods took seconds for a 10-year half-life absorbed over millennia).
            let y_ss = Vector3::new(ss_start.gut_ug, ss_start.central_ug, ss_start.peripheral_ug);
            let y_1 = Vector3::new(
                first.end.gut_ug,
                first.end.central_ug,
                first.end.peripheral_ug,
            );
            let trough_after = |n: u32| -> f64 {
                if wraps {
                    y_ss[1] - (mat_pow(&m, n - 1) * (y_ss - y_1))[1]
                } else {
                    y_ss[1] - (mat_pow(&m, n) * y_ss)[1]
                }
            };
            let reached = |n: u32| trough_after(n) >= 0.9 * trough_ss;
            let t90 = if reached(MAX_PERIODS) {
                let (mut lo, mut hi) = (1u32, MAX_PERIODS);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if reached(mid) {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                Some(f64::from(lo) * p.period_h)
            } else {
                None
            };
            let last = (p.periods >= 2).then(|| trough_after((p.periods - 1).min(MAX_PERIODS)));
            (t90, last)
        }
        None => {
            // Nonlinear: walk the periods from an empty body, as the doses are taken, within a
            // budget of integrator work (see `walk_budget`).
            let want_last = (p.periods >= 2).then(|| p.periods - 1);
            let (mut y, mut t90, mut last) = (first.end, None, None);
            for n in 1..=walk_budget(&model, p.period_h) {
                if t90.is_none() && y.central_ug >= 0.9 * trough_ss {
                    t90 = Some(f64::from(n) * p.period_h);
                }
                if want_last == Some(n) {
                    last = Some(y.central_ug);
                }
                if t90.is_some() && want_last.is_none_or(|w| w <= n) {
                    break;
                }
                let next = period_end(prop, &inputs, tau, y)?;
                // Converged: every later trough is this one (to 1e-12), so the walk can stop.
                if t90.is_some() && (next.central_ug - y.central_ug).abs() <= 1e-12 * trough_ss {
                    last = last.or(want_last.map(|_| next.central_ug));
                    break;
                }
                y = next;
            }
            (t90, last)
        }
    };
    let last_fraction = last_trough.map(|t| t / trough_ss).filter(|f| f.is_finite());
    Ok(SteadyState {
        tau_h: p.period_h,
        cmax_ss_ng_ml: cmax,
        tmax_ss_h: ss.t_max_h,
        cmin_ss_ng_ml: cmin,
        cavg_ss_ng_ml: cavg,
        auc_tau_ss_ng_h_ml: auc_tau,
        accumulation_ratio: ss.auc_central_ug_h / first.auc_central_ug_h,
        fluctuation_pct: (cmax - cmin) / cavg * 100.0,
        t_90ss_h,
        last_trough_fraction_of_ss: last_fraction,
    })
}

/// M^n by repeated squaring.
fn mat_pow(m: &Matrix3<f64>, mut n: u32) -> Matrix3<f64> {
    let (mut result, mut base) = (Matrix3::identity(), *m);
    while n > 0 {
        if n & 1 == 1 {
            result *= base;
        }
        base *= base;
        n >>= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::exact::ExactPropagator;
    use crate::model::PkModel;

    fn daily(dose: f64, periods: u32) -> Periodic {
        Periodic {
            period_h: 24.0,
            first_h: 0.0,
            pattern: vec![DoseEvent::oral(0.0, dose)],
            periods,
        }
    }

    #[test]
    fn accumulation_ratio_matches_its_closed_form() {
        // AUCτ,ss / AUC(0–τ) after the first dose. For a one-compartment oral model:
        //   AUCτ,ss = F·D/(V·ke);  AUC(0–τ) = F·D/V · ka/(ka−ke) · [(1−e^{−ke·τ})/ke − (1−e^{−ka·τ})/ka]
        // and as ka → ∞ the ratio tends to the textbook 1 / (1 − e^{−ke·τ}).
        let (ke, tau) = (0.0096, 24.0);
        for &ka in &[0.05, 0.5, 1.2, 5.0] {
            let m = PkModel::new(ka, ke, 230.0, 1.0, 0.0, 0.0).unwrap();
            let ss = steady_state(&mut ExactPropagator::new(m), &daily(180.0, 28)).unwrap();
            let first =
                ka / (ka - ke) * ((1.0 - (-ke * tau).exp()) / ke - (1.0 - (-ka * tau).exp()) / ka);
            let formula = (1.0 / ke) / first;
            assert!(
                (ss.accumulation_ratio - formula).abs() < 1e-9 * formula,
                "ka={ka}: {} vs {formula}",
                ss.accumulation_ratio
            );
        }
        let m = PkModel::new(1e6, ke, 230.0, 1.0, 0.0, 0.0).unwrap();
        let ss = steady_state(&mut ExactPropagator::new(m), &daily(180.0, 28)).unwrap();
        let textbook = 1.0 / (1.0 - (-ke * tau).exp());
        assert!((ss.accumulation_ratio - textbook).abs() < 1e-6 * textbook);
    }

    #[test]
    fn steady_state_average_equals_dose_over_clearance() {
        // Cavg,ss = F·D / (CL·τ), CL = ke·V, whatever ka.
        for &ka in &[0.05, 0.3, 1.2] {
            let m = PkModel::new(ka, 0.1, 50.0, 0.8, 0.5, 0.0).unwrap();
            let ss = steady_state(&mut ExactPropagator::new(m), &daily(1000.0, 10)).unwrap();
            let expected = 0.8 * 1000.0 / (0.1 * 50.0 * 24.0);
            assert!((ss.cavg_ss_ng_ml - expected).abs() < 1e-10 * expected);
        }
    }

    #[test]
    fn simulated_run_converges_to_steady_state() {
        let m = PkModel::new(1.2, 0.0096, 230.0, 1.0, 0.0, 0.0).unwrap();
        let p = daily(180.0, 400);
        let mut prop = ExactPropagator::new(m);
        let ss = steady_state(&mut prop, &p).unwrap();
        // Simulate 400 days and look at the last day.
        let events = crate::dosing::Schedule::Periodic(p.clone()).events();
        let grid: Vec<f64> = (0..=400 * 24).map(f64::from).collect();
        let tr = simulate(&mut prop, &events, &grid).unwrap();
        let last_day = &tr.conc_ng_ml[399 * 24..];
        let max = last_day.iter().cloned().fold(0.0, f64::max);
        assert!(
            (max - ss.cmax_ss_ng_ml).abs() < 1e-3 * ss.cmax_ss_ng_ml,
            "{max} vs {}",
            ss.cmax_ss_ng_ml
        );
        assert!((last_day[0] - ss.cmin_ss_ng_ml).abs() < 1e-3 * ss.cmin_ss_ng_ml);
        // 90 % of the trough after about log(10)/ke.
        let t90 = ss.t_90ss_h.unwrap();
        assert!(t90 > 200.0 && t90 < 290.0, "{t90}");
    }

    #[test]
    fn mass_balance_over_a_run() {
        let m = PkModel::new(0.6, 0.1, 200.0, 0.9, 1.0, 0.3).unwrap();
        let events: Vec<DoseEvent> = (0..10)
            .map(|i| DoseEvent::oral(7.0 * f64::from(i), 100.0))
            .collect();
        let grid: Vec<f64> = (0..=100).map(f64::from).collect();
        let tr = simulate(&mut ExactPropagator::new(m), &events, &grid).unwrap();
        let body = tr.end_state.gut_ug + tr.end_state.central_ug;
        assert!((tr.absorbed_input_ug - 900.0).abs() < 1e-12);
        assert!(
            (body + tr.eliminated_ug - tr.absorbed_input_ug).abs() < 1e-9 * tr.absorbed_input_ug
        );
    }
}
