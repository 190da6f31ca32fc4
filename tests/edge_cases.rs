//! Numerical edge cases through the whole pipeline (scenario text → validation → both solvers):
//! ka = ke, ka = 1000·ke, ka = ke/1000 (flip-flop), half-lives from 1 minute to 10 years, doses
//! from 1 ng to 10 g, runs from 1 hour to 10 years. The exact solver always gives finite,
//! non-negative curves with a mass balance to 1e-9; the ODE solver agrees within 1e-6 of Cmax,
//! or, when its explicit steps cannot cover the span, reports `OdeFailed` with what to change.

use k2sim::engine::run::{run, RunResult};
use k2sim::error::SimError;
use k2sim::model::SolverKind;
use k2sim::scenario;

const LN_2: f64 = std::f64::consts::LN_2;

/// Explicit Dopri5 steps are limited to about 3.3/k h by stability: above this many steps the
/// ODE comparison is not attempted here (it would cost seconds in a debug build) and
/// `ode_that_cannot_cover_the_span_reports_what_to_change` covers the failure instead.
const ODE_STEP_BUDGET: f64 = 3e4;

fn scenario_text(half_life_h: f64, ka_per_h: f64, dose_ug: f64, duration_h: f64) -> String {
    // Daily dosing when the run is over 2 days (capped at 30 doses), else a single dose;
    // about 1000 output points.
    let regimen = if duration_h > 48.0 {
        let doses = ((duration_h / 24.0) as u64).clamp(1, 30);
        format!("interval_h = 24\ndoses = {doses}\n")
    } else {
        String::new()
    };
    format!(
        "duration_h = {duration_h:e}\nstep_h = {:e}\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = {dose_ug:e}\n{regimen}[regimen.params]\nhalf_life_h = {half_life_h:e}\nka_per_h = {ka_per_h:e}\n",
        duration_h / 1000.0
    )
}

fn check_exact(r: &RunResult, what: &str) {
    let reg = &r.regimens[0];
    assert!(
        reg.trajectory
            .conc_ng_ml
            .iter()
            .all(|c| c.is_finite() && *c >= 0.0),
        "{what}: a concentration is negative or not finite"
    );
    let m = &reg.metrics;
    assert!(
        m.cmax_ng_ml.is_finite() && m.cmax_ng_ml > 0.0,
        "{what}: Cmax {}",
        m.cmax_ng_ml
    );
    assert!(m.auc_0_t_ng_h_ml.is_finite() && m.auc_0_t_ng_h_ml >= 0.0);
    let b = &reg.mass_balance;
    let total = b.gut_ug + b.central_ug + b.eliminated_ug;
    assert!(
        (total - b.absorbed_input_ug).abs() <= 1e-9 * b.absorbed_input_ug,
        "{what}: mass balance {total:e} vs {:e}",
        b.absorbed_input_ug
    );
}

#[test]
fn both_solvers_stay_finite_and_agree_across_the_extremes() {
    let half_lives = [1.0 / 60.0, 1.0, 72.0, 8766.0, 87660.0];
    let ratios = [1.0, 1000.0, 1e-3];
    let doses = [1e-3, 1e7];
    let durations = [1.0, 87660.0];
    let (mut compared, mut skipped) = (0, 0);
    for &th in &half_lives {
        let ke = LN_2 / th;
        for &ratio in &ratios {
            let ka = ke * ratio;
            for &dose in &doses {
                for &dur in &durations {
                    let what = format!("t½ {th} h, ka/ke {ratio}, dose {dose} µg, {dur} h");
                    let s = scenario::parse_str(&scenario_text(th, ka, dose, dur), "edge")
                        .unwrap_or_else(|e| panic!("{what}: refused: {e}"));
                    let exact = run(&s, SolverKind::Exact).unwrap();
                    check_exact(&exact, &what);
                    if ka.max(ke) * dur / 3.3 > ODE_STEP_BUDGET {
                        skipped += 1;
                        continue;
                    }
                    match run(&s, SolverKind::Ode) {
                        Ok(ode) => {
                            let (e, o) = (&exact.regimens[0], &ode.regimens[0]);
                            let cmax = e.metrics.cmax_ng_ml;
                            let diff = e
                                .trajectory
                                .conc_ng_ml
                                .iter()
                                .zip(&o.trajectory.conc_ng_ml)
                                .map(|(x, y)| (x - y).abs())
                                .fold(0.0, f64::max);
                            assert!(
                                diff <= 1e-6 * cmax,
                                "{what}: differ by {:e} of Cmax",
                                diff / cmax
                            );
                            assert!(
                                (e.metrics.cmax_ng_ml - o.metrics.cmax_ng_ml).abs() <= 1e-6 * cmax,
                                "{what}: Cmax"
                            );
                            compared += 1;
                        }
                        Err(SimError::OdeFailed { .. }) => skipped += 1,

                        Err(e) => panic!("{what}: {e}"),
                    }
                }
            }
        }
    }
    // Most of the grid is compared, not skipped.
    assert!(
        compared >= 30,
        "only {compared} compared, {skipped} skipped"
    );
}

#[test]
fn ode_that_cannot_cover_the_span_reports_what_to_change() {
    // Half-life 1 min and ka = 1000·ke over a day: Dopri5 needs ~3e5 steps of ~8e-5 h, over
    // a step budget of 10 000 (the default, 1e7, is met the same way on spans of years, but
    // costs seconds in a debug build).
    let ke = LN_2 / (1.0 / 60.0);
    let text = scenario_text(1.0 / 60.0, 1000.0 * ke, 1000.0, 24.0).replace(
        "[[regimen]]",
        "[ode]\nmax_steps_per_span = 10000\n[[regimen]]",
    );
    let s = scenario::parse_str(&text, "edge").unwrap();
    match run(&s, SolverKind::Ode) {
        Err(e @ SimError::OdeFailed { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("more than 10000 steps"), "{msg}");
            assert!(msg.contains("help: use solver = \"exact\""), "{msg}");
        }
        other => panic!("expected OdeFailed, got {:?}", other.map(|_| ())),
    }
    // The exact solver has no such limit.
    check_exact(&run(&s, SolverKind::Exact).unwrap(), "hopeless for ODE");
}

/// The budget a `help:` line suggests (`… to about N …`).
fn suggested_budget(msg: &str) -> u64 {
    let rest = msg
        .split("to about ")
        .nth(1)
        .unwrap_or_else(|| panic!("{msg}"));
    rest.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn saturable_absorption_out_of_steps_suggests_what_helps_not_the_exact_solver() {
    // Vmax/Km = 1000 /h over a day: about 8000 steps against a budget of 1000. The exact
    // solver cannot help (it integrates saturable absorption with Dopri5 too); the budget can.
    let text = |steps: u64| {
        format!(
            "duration_h = 48\nsolver = \"ode\"\n[ode]\nmax_steps_per_span = {steps}\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 2\n[regimen.params]\nabsorption = \"michaelis_menten\"\nvmax_ug_per_h = 1000\nkm_ug = 1\n"
        )
    };
    let s = scenario::parse_str(&text(1000), "mm").unwrap();
    for solver in [SolverKind::Ode, SolverKind::Exact] {
        let msg = match run(&s, solver) {
            Err(e @ SimError::OdeFailed { .. }) => e.to_string(),
            other => panic!("expected OdeFailed, got {:?}", other.map(|_| ())),
        };
        let help = msg.split("help: ").nth(1).unwrap();
        assert!(!help.contains("use solver = \"exact\""), "{msg}");
        assert!(help.contains("does not help"), "{msg}");
        let n = suggested_budget(help);
        // The suggestion is true: with it the run goes through.
        let s2 = scenario::parse_str(&text(n), "mm").unwrap();
        run(&s2, solver).unwrap_or_else(|e| panic!("with the suggested {n} steps: {e}"));
    }
}

/// The budget the hint suggests, by hand: one dose at 24 h, Vmax/Km = 1000 /h, so the span from
/// the dose to the end (24–48 h) needs ⌈24·1000/3⌉ = 8000 steps at the stable step 3/k; with
/// 20 % more, 9600, rounded up to two significant digits: 9600 (the budget's double, 2000, is
/// smaller). The span is 24 h long, not 48 or 72: the hint uses the span's own length.
#[test]
fn the_suggested_step_budget_is_computed_from_the_failing_span() {
    let text = "duration_h = 48\nsolver = \"ode\"\n[ode]\nmax_steps_per_span = 1000\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 1\nstart_h = 24\n[regimen.params]\nabsorption = \"michaelis_menten\"\nvmax_ug_per_h = 1000\nkm_ug = 1\n";
    let s = scenario::parse_str(text, "mm").unwrap();
    let msg = match run(&s, SolverKind::Ode) {
        Err(e @ SimError::OdeFailed { .. }) => e.to_string(),
        other => panic!("expected OdeFailed, got {:?}", other.map(|_| ())),
    };
    assert!(msg.contains("between events at 24 h and 48 h"), "{msg}");
    assert_eq!(suggested_budget(&msg), 9600, "{msg}");
}
