//! Two compartments whose exchange is far faster than the net change of the central amount
//! (k21 = 1e6 and 1e9 /h beside fast elimination). From the state, dA_c/dt = ka·A_g −
//! (k10 + k12)·A_c + k21·A_p is a difference of numbers up to 1e11 times larger than itself, and
//! one minus a mode weight within 1e-6 of one lost six digits: the exact solver reported
//! Cmax = 0, or a Cmax,ss below Cavg,ss. Checked here against Dopri5 and against the closed form
//! these models tend to (one compartment in quasi-equilibrium).

use k2sim::engine::run::{run, RunResult};
use k2sim::metric::Metrics;
use k2sim::model::SolverKind;
use k2sim::scenario;

/// A scenario of `run` (duration and step) dosing 180 µg twice, a day apart, into the model
/// (once when the run is shorter than a day).
fn two_compartment(ka: f64, ke: f64, v: f64, q: f64, vp: f64, run: &str) -> String {
    let twice = if run.contains("duration_h = 0.") {
        ""
    } else {
        "interval_h = 24\ndoses = 2\n"
    };
    format!(
        "{run}\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\n{twice}[regimen.params]\nka_per_h = {ka:e}\nke_per_h = {ke:e}\nv_l = {v:e}\nmodel = \"two_compartment\"\nq_l_per_h = {q:e}\nvp_l = {vp:e}\n"
    )
}

fn metrics(text: &str, solver: SolverKind) -> Metrics {
    let s = scenario::parse_str(text, "stiff").unwrap();
    let r: RunResult = run(&s, solver).unwrap_or_else(|e| panic!("{e}"));
    r.regimens[0].metrics
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    assert!(
        (a - b).abs() <= rel * b.abs(),
        "{what}: {a} vs {b} (relative {:e})",
        (a - b) / b
    );
}

/// Cmin,ss ≤ Cavg,ss ≤ Cmax,ss and a positive Cmax.
fn ordered(m: &Metrics) {
    let (lo, avg, hi) = (
        m.cmin_ss_ng_ml.unwrap(),
        m.cavg_ss_ng_ml.unwrap(),
        m.cmax_ss_ng_ml.unwrap(),
    );
    assert!(m.cmax_ng_ml > 0.0 && lo <= avg && avg <= hi, "{m:?}");
}

#[test]
fn a_peak_of_fast_exchange_and_elimination_matches_dopri5() {
    // ka = ke = 1000 /h, k12 = k21 = 1e6 /h: the level peaks at 1.4 ms, and by the end of the
    // first day the amounts have underflowed to zero, against which the peak was bracketed
    // and lost (Cmax = 0 on a 0.1 h grid). Dopri5 resolves the first 10 ms in ~7000 steps.
    let exact = metrics(
        &two_compartment(1e3, 1e3, 1.0, 1e6, 1.0, "duration_h = 48\nstep_h = 0.1"),
        SolverKind::Exact,
    );
    ordered(&exact);
    let ode = metrics(
        &two_compartment(
            1e3,
            1e3,
            1.0,
            1e6,
            1.0,
            "duration_h = 0.01\nstep_h = 0.0001",
        ),
        SolverKind::Ode,
    );
    close(exact.cmax_ng_ml, ode.cmax_ng_ml, 1e-6, "Cmax");
    close(exact.tmax_h, ode.tmax_h, 1e-4, "Tmax");
    close(
        exact.cmax_ss_ng_ml.unwrap(),
        exact.cmax_ng_ml,
        1e-9,
        "Cmax,ss",
    );
}

#[test]
fn k21_of_1e9_with_fast_elimination_is_one_compartment_in_quasi_equilibrium() {
    // k12 = Q/V = 1e15 /h, k21 = Q/Vp = 1e9 /h, k10 = 1000 /h: the central holds a fraction
    // f = k21/(k12 + k21) of the body at every instant, so the model is, to ~1e-12, one
    // compartment with ke = k10·f and V = V_c/f. Before, the slope's sign was noise from an hour
    // on: Cmax,ss came out below Cavg,ss.
    let (ka, ke, v, q, vp) = (1.0, 1e3, 1e-6, 1e9, 1.0);
    let run = "duration_h = 96\nstep_h = 0.5";
    let two = metrics(&two_compartment(ka, ke, v, q, vp, run), SolverKind::Exact);
    ordered(&two);
    let f = (q / vp) / (q / v + q / vp);
    let one = metrics(
        &format!(
            "{run}\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 2\n[regimen.params]\nka_per_h = {ka:e}\nke_per_h = {:e}\nv_l = {:e}\n",
            ke * f,
            v / f
        ),
        SolverKind::Exact,
    );
    for (what, a, b) in [
        ("Cmax", two.cmax_ng_ml, one.cmax_ng_ml),
        ("Tmax", two.tmax_h, one.tmax_h),
        (
            "Cmax,ss",
            two.cmax_ss_ng_ml.unwrap(),
            one.cmax_ss_ng_ml.unwrap(),
        ),
        (
            "Cmin,ss",
            two.cmin_ss_ng_ml.unwrap(),
            one.cmin_ss_ng_ml.unwrap(),
        ),
        (
            "Cavg,ss",
            two.cavg_ss_ng_ml.unwrap(),
            one.cavg_ss_ng_ml.unwrap(),
        ),
    ] {
        close(a, b, 1e-6, what);
    }
}

#[test]
fn stiff_exchange_across_rates_keeps_the_invariants() {
    // The grid of rates that found the failures: every run keeps Cmax > 0 and Cmin,ss ≤
    // Cavg,ss ≤ Cmax,ss (a violation is now an error, which `metrics` would show).
    for ka in [1.0, 1e3, 1e7] {
        for ke in [1e3, 1e5, 1e7] {
            for v in [1e-6, 1.0, 1e3] {
                for (q, vp) in [(1e9, 1.0), (1e3, 1e-6), (1e6, 1e-3)] {
                    let text = two_compartment(ka, ke, v, q, vp, "duration_h = 48\nstep_h = 0.1");
                    ordered(&metrics(&text, SolverKind::Exact));
                }
            }
        }
    }
}
