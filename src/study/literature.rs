//! The validation suite's evaluation: a case (a scenario that reproduces a published human
//! study, see [`crate::scenario::case`]) is run and each reported quantity is computed from the
//! run the same way the study computed it, so `k2sim validate` can say where the model agrees
//! with people's blood and where it does not. Pure: numbers in, numbers out.

use crate::engine::run::{self, RegimenResult, RunResult};
use crate::error::SimError;
use crate::model::SolverKind;
use crate::scenario::case::{Case, Check, Quantity};

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outcome {
    pub case: String,
    pub check: Check,
    pub predicted: f64,
    pub pass: bool,
}

impl Outcome {
    /// A check that passed before (committed as `expect = "pass"`) and fails now.
    pub fn is_regression(&self) -> bool {
        self.check.expect_pass && !self.pass
    }
}

/// A case run: its simulation and the outcome of each check.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    pub case: Case,
    pub run: RunResult,
    pub outcomes: Vec<Outcome>,
}

/// Runs a case and evaluates its checks.
pub fn evaluate(case: &Case, solver: SolverKind) -> Result<CaseResult, SimError> {
    let run = run::run(&case.scenario, solver)?;
    let find = |label: &str| run.regimens.iter().find(|r| r.regimen.label == label);
    let mut outcomes = Vec::new();
    for c in &case.checks {
        let value = |label: &str| find(label).map_or(f64::NAN, |r| quantity_of(r, c));
        let mut predicted = value(&c.regimen);
        if let Some(b) = &c.relative_to {
            predicted /= value(b);
        }
        outcomes.push(Outcome {
            case: case.id.clone(),
            check: c.clone(),
            predicted,
            pass: c.passes(predicted),
        });
    }
    Ok(CaseResult {
        case: case.clone(),
        run,
        outcomes,
    })
}

/// The value of the check's quantity in one regimen's result (NaN when undefined, e.g. a
/// steady-state quantity of a schedule without one).
fn quantity_of(r: &RegimenResult, c: &Check) -> f64 {
    let m = &r.metrics;
    let model = &r.regimen.model;
    let nan = f64::NAN;
    match c.quantity {
        Quantity::Metric(metric) => metric.value(m).unwrap_or(nan),
        Quantity::Auc0InfNgHMl => {
            // Every amount still in the body (gut, central, peripheral) leaves through CL.
            let left = r.trajectory.end_state.total_ug();
            m.auc_0_t_ng_h_ml + left / (model.ke_per_h * model.v_l)
        }
        Quantity::HalfLifeH => model.half_life_h(),
        Quantity::TerminalHalfLifeH => {
            let (a, b) = c.window_h.unwrap_or((0.0, 0.0));
            terminal_half_life_h(
                &r.trajectory.time_h,
                &r.trajectory.conc_ng_ml,
                model.baseline_ng_ml,
                a,
                b,
            )
        }
        Quantity::ConcAtHNgMl => c.at_h.map_or(nan, |t| {
            conc_at_h(&r.trajectory.time_h, &r.trajectory.conc_ng_ml, t)
        }),
        Quantity::ResponsePctChangeAtH(marker) => {
            match (c.at_h, r.response.iter().find(|x| x.marker == marker)) {
                (Some(t), Some(course)) => {
                    let pct: Vec<f64> = course
                        .values
                        .iter()
                        .map(|v| 100.0 * (v / course.baseline - 1.0))
                        .collect();
                    conc_at_h(&r.trajectory.time_h, &pct, t)
                }
                _ => nan,
            }
        }
    }
}

/// Concentration at `t_h` read off an output grid: the grid's value when `t_h` is a grid time
/// (to 1e-9 h, so a multiple of the step lands on it despite rounding), linear between the two
/// neighbouring grid times otherwise; NaN outside the grid.
pub fn conc_at_h(time_h: &[f64], conc_ng_ml: &[f64], t_h: f64) -> f64 {
    const ON_GRID_H: f64 = 1e-9;
    let i = time_h.partition_point(|t| *t < t_h - ON_GRID_H);
    match (time_h.get(i), i.checked_sub(1)) {
        (Some(&t), _) if (t - t_h).abs() <= ON_GRID_H => conc_ng_ml[i],
        (Some(&t1), Some(j)) => {
            let t0 = time_h[j];
            let w = (t_h - t0) / (t1 - t0);
            conc_ng_ml[j] + w * (conc_ng_ml[i] - conc_ng_ml[j])
        }
        _ => f64::NAN,
    }
}

/// Half-life from the least-squares slope of ln(C − baseline) against time over `[from_h,
/// to_h]`, as computed from a study's samples. NaN with fewer than two usable points or a
/// slope that is not falling.
pub fn terminal_half_life_h(
    time_h: &[f64],
    conc_ng_ml: &[f64],
    baseline_ng_ml: f64,
    from_h: f64,
    to_h: f64,
) -> f64 {
    let pts: Vec<(f64, f64)> = time_h
        .iter()
        .zip(conc_ng_ml)
        .filter(|(t, c)| **t >= from_h && **t <= to_h && **c - baseline_ng_ml > 0.0)
        .map(|(t, c)| (*t, (c - baseline_ng_ml).ln()))
        .collect();
    if pts.len() < 2 {
        return f64::NAN;
    }
    let n = pts.len() as f64;
    let mt = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mt) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mt).powi(2)).sum();
    let slope = sxy / sxx;
    if slope < 0.0 {
        std::f64::consts::LN_2 / -slope
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::case::parse_case;

    const CASE: &str = r#"
name = "one dose"
duration_h = 48
[[regimen]]
label = "A"
compound = "mk4"
dose = "30 mg"

[validation]
study = "test"
[[validation.check]]
quantity = "auc_0_inf_ng_h_ml"
observed = 1463
tolerance_pct = 1
basis = "the preset is derived from it"
source = "Morishita 1981 (R)"
role = "calibration"
expect = "pass"
"#;

    #[test]
    fn auc_to_infinity_recovers_the_calibration() {
        let case = parse_case(CASE, "t").unwrap();
        let r = evaluate(&case, SolverKind::Exact).unwrap();
        assert!((r.outcomes[0].predicted - 1463.0).abs() < 1e-6);
        assert!(r.outcomes[0].pass);
    }

    #[test]
    fn terminal_half_life_of_an_exponential() {
        let t: Vec<f64> = (0..50).map(f64::from).collect();
        let c: Vec<f64> = t.iter().map(|t| 3.0 + 10.0 * (-0.1 * t).exp()).collect();
        let h = terminal_half_life_h(&t, &c, 3.0, 10.0, 40.0);
        assert!((h - std::f64::consts::LN_2 / 0.1).abs() < 1e-9);
    }

    #[test]
    fn concentration_at_a_time_is_the_curve_at_that_time() {
        // An IV bolus into one compartment: C(t) = D/V·e^(−ke·t), on the grid and between.
        let iv = CASE
            .replace("duration_h = 48", "duration_h = 48\nstep_h = 0.25")
            .replace("dose = \"30 mg\"", "dose = \"10 mg\"\nroute = \"iv\"")
            .replace(
                "quantity = \"auc_0_inf_ng_h_ml\"",
                "quantity = \"conc_at_h_ng_ml\"\nat_h = 2",
            );
        let case = parse_case(&iv, "t").unwrap();
        let r = evaluate(&case, SolverKind::Exact).unwrap();
        let m = &r.run.regimens[0].regimen.model;
        let exact = |t: f64| 10_000.0 / m.v_l * (-m.ke_per_h * t).exp();
        assert!((r.outcomes[0].predicted / exact(2.0) - 1.0).abs() < 1e-12);
        let off = parse_case(&iv.replace("at_h = 2", "at_h = 2.1"), "t").unwrap();
        let p = evaluate(&off, SolverKind::Exact).unwrap().outcomes[0].predicted;
        assert!((p / exact(2.1) - 1.0).abs() < 1e-3, "{p}");
        // The sampling time is required.
        let e = parse_case(&iv.replace("at_h = 2\n", ""), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("at_h") && e.contains("sampling time"), "{e}");
    }

    #[test]
    fn concentration_read_off_a_grid() {
        let t = [0.0, 1.0, 2.0];
        let c = [4.0, 2.0, 1.0];
        assert_eq!(conc_at_h(&t, &c, 1.0), 2.0);
        assert_eq!(conc_at_h(&t, &c, 1.0 + 1e-12), 2.0);
        assert_eq!(conc_at_h(&t, &c, 0.0), 4.0);
        assert!((conc_at_h(&t, &c, 1.5) - 1.5).abs() < 1e-15);
        assert!(conc_at_h(&t, &c, 2.5).is_nan());
        assert!(conc_at_h(&t, &c, -0.5).is_nan());
    }

    #[test]
    fn bad_keys_are_located() {
        let bad = CASE.replace(
            "quantity = \"auc_0_inf_ng_h_ml\"",
            "quantity = \"cmax_ngml\"",
        );
        let e = parse_case(&bad, "t").unwrap_err().to_string();
        assert!(e.starts_with("<scenario>:12:12:"), "{e}");
        assert!(e.contains("did you mean \"cmax_ng_ml\""), "{e}");
        let bad = CASE.replace("expect = \"pass\"", "expect = \"passes\"");
        let e = parse_case(&bad, "t").unwrap_err().to_string();
        assert!(e.contains("key `expect`") && e.contains("\"pass\""), "{e}");
        let bad = CASE.replace("tolerance_pct = 1", "tolerance_pc = 1");
        let e = parse_case(&bad, "t").unwrap_err().to_string();
        assert!(e.contains("tolerance_pct"), "{e}");
    }
}
