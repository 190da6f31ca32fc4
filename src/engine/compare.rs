//! Regimens side by side: the steady-state metrics of each, their ratio to a reference regimen,
//! and time above a threshold when one is named. Pure: results in, a [`Comparison`] out; it
//! serializes itself to Markdown and CSV bytes, and the CLI writes and prints them.

use crate::dosing::Schedule;
use crate::engine::run::{RegimenResult, RunResult};
use crate::engine::threshold::{time_above_run_h, time_above_ss};
use crate::error::suggest;
use crate::model::ode::OdeOptions;
use crate::model::SolverChoice;
use crate::plot::time_axis_in_days;
use crate::units::{ng_ml_to_nmol_l, ConcUnit};

/// Options of a comparison.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompareOptions {
    /// Label of the reference regimen; default the first regimen.
    pub reference: Option<String>,
    /// Concentration unit of the table; default ng/mL.
    pub units: ConcUnit,
    /// Threshold (ng/mL) for the time-above rows; none when `None`.
    pub threshold_ng_ml: Option<f64>,
    /// Dopri5 tolerances of the run, for the time-above rows under the ODE solver.
    pub ode: OdeOptions,
}

/// Why a comparison cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// `--reference` names no regimen.
    #[error("--reference \"{label}\" is not a regimen label{}\n  help: labels: {}", suggestion.as_ref().map_or(String::new(), |s| format!("; did you mean \"{s}\"?")), known.join(" | "))]
    UnknownReference {
        label: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    /// Nothing to compare.
    #[error("a comparison needs at least one regimen")]
    Empty,
}

/// One row of the table: a metric for every regimen, and its ratio to the reference.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    /// Machine name, as in `summary.json` (with the table's unit).
    pub key: String,
    /// Name for readers.
    pub name: String,
    /// Unit of the values ("" for ratios and counts).
    pub unit: String,
    /// Per regimen, in order; `None` where the metric does not exist (no steady state).
    pub values: Vec<Option<f64>>,
    /// Per regimen, value ÷ the reference's value; `None` where either is missing or zero,
    /// and for rows whose ratio means nothing (the dosing interval).
    pub ratios: Vec<Option<f64>>,
}

/// The comparison table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Regimen labels, in column order.
    pub labels: Vec<String>,
    /// Index of the reference regimen.
    pub reference: usize,
    /// Concentration unit of the table.
    pub units: ConcUnit,
    /// The threshold (ng/mL), if any.
    pub threshold_ng_ml: Option<f64>,
    /// The rows.
    pub rows: Vec<Row>,
}

fn conc(r: &RegimenResult, x: f64, u: ConcUnit) -> f64 {
    match u {
        ConcUnit::NgMl => x,
        ConcUnit::NmolL => ng_ml_to_nmol_l(x, r.params.molar_mass_g_mol),
    }
}

/// Mean intake (µg/day): per period at steady state, or over the run for explicit schedules.
fn dose_per_day_ug(r: &RegimenResult) -> f64 {
    match &r.regimen.schedule {
        Schedule::Periodic(p) => {
            p.pattern.iter().map(|d| d.amount_ug).sum::<f64>() / p.period_h * 24.0
        }
        Schedule::Explicit { doses } => {
            let end = r.trajectory.time_h.last().copied().unwrap_or(0.0);
            let taken: f64 = doses
                .iter()
                .filter(|d| d.time_h <= end)
                .map(|d| d.amount_ug)
                .sum();
            if end > 0.0 {
                taken / end * 24.0
            } else {
                taken
            }
        }
    }
}

/// Builds the comparison of the regimens of `result` (one or more scenarios run together).
pub fn compare(result: &RunResult, opts: &CompareOptions) -> Result<Comparison, CompareError> {
    let regs = &result.regimens;
    if regs.is_empty() {
        return Err(CompareError::Empty);
    }
    let labels: Vec<String> = regs.iter().map(|r| r.regimen.label.clone()).collect();
    let reference =
        match &opts.reference {
            None => 0,
            Some(l) => labels.iter().position(|x| x == l).ok_or_else(|| {
                CompareError::UnknownReference {
                    label: l.clone(),
                    suggestion: suggest(l, labels.iter().map(String::as_str)),
                    known: labels.clone(),
                }
            })?,
        };
    let u = opts.units;
    let cu = u.label();
    let solver = SolverChoice {
        solver: result.solver,
        ode: opts.ode,
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut push = |key: &str, name: &str, unit: &str, values: Vec<Option<f64>>, ratio: bool| {
        let refv = values[reference];
        let ratios = values
            .iter()
            .map(|v| match (v, refv) {
                (Some(v), Some(r)) if ratio && r != 0.0 => Some(v / r),
                _ => None,
            })
            .collect();
        rows.push(Row {
            key: key.into(),
            name: name.into(),
            unit: unit.into(),
            values,
            ratios,
        });
    };
    let each = |f: &dyn Fn(&RegimenResult) -> Option<f64>| regs.iter().map(f).collect::<Vec<_>>();
    let sfx = match u {
        ConcUnit::NgMl => "ng_ml",
        ConcUnit::NmolL => "nmol_l",
    };
    // Times in days when any value exceeds 3 days, as on the figures' time axis.
    let time_unit = |vals: &[Option<f64>]| -> (f64, &'static str, &'static str) {
        let max = vals.iter().flatten().copied().fold(0.0, f64::max);
        if time_axis_in_days(max) {
            (24.0, "d", "d")
        } else {
            (1.0, "h", "h")
        }
    };

    push(
        "dose_per_day_ug",
        "mean dose",
        "µg/day",
        each(&|r| Some(dose_per_day_ug(r))),
        true,
    );
    push(
        "tau_h",
        "dosing interval τ",
        "h",
        each(&|r| r.metrics.tau_h),
        false,
    );
    let m = |f: fn(&crate::metric::Metrics) -> Option<f64>| {
        each(&|r: &RegimenResult| f(&r.metrics).map(|x| conc(r, x, u)))
    };
    push(
        &format!("cmax_ss_{sfx}"),
        "Cmax,ss",
        cu,
        m(|m| m.cmax_ss_ng_ml),
        true,
    );
    push(
        &format!("cmin_ss_{sfx}"),
        "Cmin,ss (trough)",
        cu,
        m(|m| m.cmin_ss_ng_ml),
        true,
    );
    push(
        &format!("cavg_ss_{sfx}"),
        "Cavg,ss",
        cu,
        m(|m| m.cavg_ss_ng_ml),
        true,
    );
    push(
        &format!("auc_tau_ss_{sfx}_h"),
        "AUCτ,ss",
        &format!("{cu}·h"),
        m(|m| m.auc_tau_ss_ng_h_ml),
        true,
    );
    push(
        "fluctuation_pct",
        "peak–trough fluctuation",
        "%",
        each(&|r| r.metrics.fluctuation_pct),
        true,
    );
    push(
        "accumulation_ratio",
        "accumulation ratio",
        "",
        each(&|r| r.metrics.accumulation_ratio),
        true,
    );
    let t90 = each(&|r| r.metrics.t_90ss_h);
    let (div, unit, _) = time_unit(&t90);
    push(
        &format!("t_90ss_{unit}"),
        "time to 90 % of steady state",
        unit,
        t90.iter().map(|v| v.map(|x| x / div)).collect(),
        true,
    );
    push(
        &format!("cmax_{sfx}"),
        "Cmax over the run",
        cu,
        each(&|r| Some(conc(r, r.metrics.cmax_ng_ml, u))),
        true,
    );
    // The carboxylation markers of `[response]`, per marker: the change at the end of the run
    // and at steady state (a fall is negative), and the time to half of it.
    for marker in crate::response::Marker::ALL {
        let course = |r: &RegimenResult| r.response.iter().find(|c| c.marker == marker).cloned();
        if !regs.iter().any(|r| course(r).is_some()) {
            continue;
        }
        let (k, l) = (marker.key(), marker.label());
        push(
            &format!("{k}_pct_change_at_end"),
            &format!("{l} change at the end of the run"),
            "%",
            each(&|r| course(r).map(|c| c.pct_change_at_end)),
            true,
        );
        push(
            &format!("{k}_pct_change_ss"),
            &format!("{l} change at steady state"),
            "%",
            each(&|r| course(r).and_then(|c| c.pct_change_ss)),
            true,
        );
        let t50 = each(&|r| course(r).and_then(|c| c.t_50pct_effect_h));
        let (div, unit, _) = time_unit(&t50);
        push(
            &format!("{k}_t_50pct_effect_{unit}"),
            &format!("{l}: time to half the change"),
            unit,
            t50.iter().map(|v| v.map(|x| x / div)).collect(),
            true,
        );
    }
    if let Some(thr) = opts.threshold_ng_ml {
        let run_h = each(&|r| {
            let end = r.trajectory.time_h.last().copied().unwrap_or(0.0);
            time_above_run_h(
                &r.regimen.model,
                &r.regimen.schedule.events(),
                end,
                thr,
                &solver,
            )
            .ok()
        });
        let (div, unit, _) = time_unit(&run_h);
        push(
            &format!("time_above_run_{unit}"),
            "time above threshold, whole run",
            unit,
            run_h.iter().map(|v| v.map(|x| x / div)).collect(),
            true,
        );
        push(
            "time_above_run_pct",
            "share of the run above threshold",
            "%",
            regs.iter()
                .zip(&run_h)
                .map(|(r, h)| {
                    let end = r.trajectory.time_h.last().copied().unwrap_or(0.0);
                    h.filter(|_| end > 0.0).map(|h| 100.0 * h / end)
                })
                .collect(),
            true,
        );
        let ss = each(&|r| {
            r.regimen
                .schedule
                .periodic()
                .and_then(|p| time_above_ss(&r.regimen.model, p, thr, &solver).ok())
                .map(|t| t.hours_per_period_h)
        });
        push(
            "time_above_ss_h_per_tau",
            "time above threshold per τ at steady state",
            "h",
            ss.clone(),
            true,
        );
        push(
            "time_above_ss_pct_of_tau",
            "share of τ above threshold at steady state",
            "%",
            regs.iter()
                .zip(&ss)
                .map(|(r, h)| h.and_then(|h| r.metrics.tau_h.map(|t| 100.0 * h / t)))
                .collect(),
            true,
        );
    }
    // AUCτ and hours per τ compare only over equal intervals; Cavg and shares of τ always do.
    let taus: Vec<Option<f64>> = regs.iter().map(|r| r.metrics.tau_h).collect();
    for row in rows
        .iter_mut()
        .filter(|r| r.key.starts_with("auc_tau") || r.key == "time_above_ss_h_per_tau")
    {
        for (ratio, tau) in row.ratios.iter_mut().zip(&taus) {
            if *tau != taus[reference] {
                *ratio = None;
            }
        }
    }
    Ok(Comparison {
        labels,
        reference,
        units: u,
        threshold_ng_ml: opts.threshold_ng_ml,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SolverKind;
    use crate::scenario::parse_str;

    const TWO: &str = r#"
name = "t"
duration = "28 d"
step_h = 1
threshold_ng_ml = 3.0
[[regimen]]
label = "daily"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 28
[[regimen]]
label = "every other day"
compound = "mk7"
dose_ug = 360
interval_h = 48
doses = 14
"#;

    #[test]
    fn ratios_and_values_match_independent_formulas() {
        let s = parse_str(TWO, "t").unwrap();
        let res = crate::engine::run::run(&s, SolverKind::Exact).unwrap();
        let c = compare(
            &res,
            &CompareOptions {
                ode: Default::default(),
                threshold_ng_ml: s.threshold_ng_ml,
                ..Default::default()
            },
        )
        .unwrap();
        let row = |k: &str| c.rows.iter().find(|r| r.key == k).unwrap();
        // Same mean dose: Cavg,ss = F·D/(CL·τ) is equal, ratio 1.
        let m = s.regimens[0].model;
        let cavg = 180.0 / (m.ke_per_h * m.v_l * 24.0);
        let r = row("cavg_ss_ng_ml");
        assert!((r.values[0].unwrap() - cavg).abs() < 1e-9 * cavg);
        assert!((r.ratios[1].unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(
            row("dose_per_day_ug").values,
            vec![Some(180.0), Some(180.0)]
        );
        // Trough of every-other-day dosing with fast absorption tends to
        // D·e^{−ke·τ}/(V·(1−e^{−ke·τ})): check the ratio against that closed form with ka large.
        let trough = |d: f64, tau: f64| {
            let (ke, ka) = (m.ke_per_h, m.ka_per_h);
            // Exact one-compartment oral trough at steady state (just before a dose).
            d / m.v_l * ka / (ka - ke)
                * ((-ke * tau).exp() / (1.0 - (-ke * tau).exp())
                    - (-ka * tau).exp() / (1.0 - (-ka * tau).exp()))
        };
        let want = trough(360.0, 48.0) / trough(180.0, 24.0);
        let got = row("cmin_ss_ng_ml").ratios[1].unwrap();
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        assert_eq!(row("tau_h").ratios, vec![None, None]);
        // Units: nmol/L values are ng/mL × 1000 / 649.02, ratios unchanged.
        let n = compare(
            &res,
            &CompareOptions {
                ode: Default::default(),
                units: ConcUnit::NmolL,
                reference: Some("every other day".into()),
                threshold_ng_ml: Some(3.0),
            },
        )
        .unwrap();
        let rn = n.rows.iter().find(|r| r.key == "cavg_ss_nmol_l").unwrap();
        assert!((rn.values[0].unwrap() - cavg * 1000.0 / 649.02).abs() < 1e-9);
        assert_eq!(n.reference, 1);
        // Time above: the share of τ and hours agree, and the run share is below 100 %.
        let h = row("time_above_ss_h_per_tau").values[1].unwrap();
        let pct = row("time_above_ss_pct_of_tau").values[1].unwrap();
        assert!((pct - 100.0 * h / 48.0).abs() < 1e-9);
        let md = c.to_markdown();
        assert!(
            md.contains("| metric | unit | daily (reference) | every other day | ÷ reference |")
        );
        assert!(md.contains("| Cavg,ss | ng/mL |"));
        let csv = String::from_utf8(c.to_csv().unwrap()).unwrap();
        assert!(csv.starts_with("metric,unit,regimen,value,ratio_to_reference,reference\n"));
        assert!(csv.contains("\ncavg_ss_ng_ml,ng/mL,every other day,"));
    }

    #[test]
    fn unknown_reference_suggests_a_label() {
        let s = parse_str(TWO, "t").unwrap();
        let res = crate::engine::run::run(&s, SolverKind::Exact).unwrap();
        let e = compare(
            &res,
            &CompareOptions {
                ode: Default::default(),
                reference: Some("dayly".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("did you mean \"daily\"?"), "{e}");
    }
}
