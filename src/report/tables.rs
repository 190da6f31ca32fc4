//! The run's tables as bytes: `timeseries.csv`, `residuals.csv`, `summary.json` and the summary
//! printed after a run. Files are created only by the CLI's one writer (`src/cli/write.rs`).

use crate::format::{fmt_sig, fmt_time, fmt_value, opt_fixed};
use crate::metric::Metrics;
use std::fmt::Write as _;

use crate::compound::Evidence;
use crate::engine::run::{MassBalance, ResolvedParams, RunResult};
use crate::error::Error;
use crate::scenario::{ParamSources, Scenario};
use crate::units::ng_ml_to_nmol_l;

/// `timeseries.csv`: tidy, `regimen,time_h,conc_ng_ml,conc_nmol_l`, one row per regimen and
/// output time.
pub fn timeseries_csv(result: &RunResult) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::serialize("timeseries.csv", e);
    w.write_record(["regimen", "time_h", "conc_ng_ml", "conc_nmol_l"])
        .map_err(csv_err)?;
    for r in &result.regimens {
        let mm = r.params.molar_mass_g_mol;
        for (t, c) in r.trajectory.time_h.iter().zip(&r.trajectory.conc_ng_ml) {
            w.write_record([
                r.regimen.label.as_str(),
                &fmt_time(*t),
                &fmt_sig(*c),
                &fmt_sig(ng_ml_to_nmol_l(*c, mm)),
            ])
            .map_err(csv_err)?;
        }
    }
    w.into_inner()
        .map_err(|e| Error::serialize("timeseries.csv", e.to_string()))
}

/// `residuals.csv`: tidy, `regimen,subject,time_h,observed_ng_ml,predicted_ng_ml,residual_ng_ml`,
/// one row per observation (residual = observed − predicted).
pub fn residuals_csv(result: &RunResult) -> Result<Vec<u8>, Error> {
    let csv_err = |e: csv::Error| Error::serialize("residuals.csv", e);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "regimen",
        "subject",
        "time_h",
        "observed_ng_ml",
        "predicted_ng_ml",
        "residual_ng_ml",
    ])
    .map_err(csv_err)?;
    for r in &result.regimens {
        for o in &r.residuals {
            w.write_record([
                r.regimen.label.as_str(),
                o.subject.as_deref().unwrap_or(""),
                &fmt_time(o.time_h),
                &fmt_sig(o.observed_ng_ml),
                &fmt_sig(o.predicted_ng_ml),
                &fmt_sig(o.residual_ng_ml),
            ])
            .map_err(csv_err)?;
        }
    }
    w.into_inner()
        .map_err(|e| Error::serialize("residuals.csv", e.to_string()))
}

#[derive(serde::Serialize)]
struct RegimenSummary<'a> {
    label: &'a str,
    compound: &'a str,
    compound_name: &'a str,
    schedule: String,
    dose_count: usize,
    total_dose_ug: f64,
    /// The solver of this regimen when it differs from the run's (saturable absorption under
    /// the exact solver is integrated by Dopri5).
    #[serde(skip_serializing_if = "Option::is_none")]
    solver: Option<&'static str>,
    params: &'a ResolvedParams,
    param_sources: &'a ParamSources,
    /// Notes on this result, e.g. why a steady state is missing.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    food: Option<&'a crate::scenario::FoodDose>,
    metrics: &'a Metrics,
    mass_balance: &'a MassBalance,
    /// Observations against the model (observed − predicted), when the scenario has any.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    residuals: &'a [crate::engine::run::Residual],
    /// Non-compartmental analysis of the curve on the output grid (docs/nca.md).
    nca: crate::engine::nca::RegimenNca,
    /// The carboxylation markers of `[response]`, by marker key.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    response: std::collections::BTreeMap<&'static str, &'a crate::engine::response::MarkerCourse>,
}

#[derive(serde::Serialize)]
struct Summary<'a> {
    k2sim_version: &'static str,
    scenario: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    model: String,
    solver: &'static str,
    duration_h: f64,
    step_h: f64,
    regimens: Vec<RegimenSummary<'a>>,
    warnings: &'a [String],
    /// `--uncertainty`: the preset parameters sampled over their ranges, and per regimen each
    /// metric's p5/p50/p95 with its robust/uncertain flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    uncertainty: Option<&'a crate::study::uncertainty::Uncertainty>,
}

/// `summary.json`: per regimen its resolved parameters with their sources, and its metrics.
pub fn summary_json(
    scenario: &Scenario,
    result: &RunResult,
    uncertainty: Option<&crate::study::uncertainty::Uncertainty>,
) -> Result<Vec<u8>, Error> {
    let summary = Summary {
        k2sim_version: env!("CARGO_PKG_VERSION"),
        scenario: &scenario.name,
        description: scenario.description.as_deref(),
        model: if result.regimens.iter().all(|r| r.regimen.model.is_basic()) {
            "one-compartment, first-order absorption".into()
        } else {
            crate::format::lower_first(&crate::report::figure::model_description(result))
        },
        solver: result.solver.name(),
        duration_h: scenario.duration_h,
        step_h: scenario.step_h,
        regimens: result
            .regimens
            .iter()
            .map(|r| RegimenSummary {
                label: &r.regimen.label,
                compound: r.regimen.compound.id,
                compound_name: r.regimen.compound.name,
                schedule: r.regimen.schedule.describe(),
                dose_count: r.regimen.schedule.dose_count(),
                total_dose_ug: r.regimen.schedule.total_ug(),
                solver: (r.solver != result.solver).then(|| r.solver.name()),
                params: &r.params,
                param_sources: &r.regimen.sources,
                notes: &r.notes,
                food: r.regimen.food.as_ref(),
                metrics: &r.metrics,
                mass_balance: &r.mass_balance,
                residuals: &r.residuals,
                nca: crate::engine::nca::regimen_nca(r, &scenario.auc_intervals_h),
                response: r.response.iter().map(|c| (c.marker.key(), c)).collect(),
            })
            .collect(),
        warnings: &scenario.warnings,
        uncertainty,
    };
    let mut bytes =
        serde_json::to_vec_pretty(&summary).map_err(|e| Error::serialize("summary.json", e))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The table printed after a run: one column per regimen, a row per metric.
pub fn summary_table(scenario: &Scenario, result: &RunResult) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: &str, f: &dyn Fn(&crate::engine::run::RegimenResult) -> String| {
        rows.push((name.to_string(), result.regimens.iter().map(f).collect()));
    };
    row("compound", &|r| r.regimen.compound.id.to_string());
    row("schedule", &|r| r.regimen.schedule.describe());
    row("ka (1/h)", &|r| opt_fixed(r.params.ka_per_h, 4));
    row("half-life (h)", &|r| format!("{:.1}", r.params.half_life_h));
    row("V/F (L)", &|r| format!("{:.1}", r.params.v_l));
    let any = |f: &dyn Fn(&crate::engine::run::ResolvedParams) -> bool| {
        result.regimens.iter().any(|r| f(&r.params))
    };
    if any(&|p| p.q_l_per_h.is_some()) {
        row("Q/F (L/h)", &|r| opt_fixed(r.params.q_l_per_h, 2));
        row("Vp/F (L)", &|r| opt_fixed(r.params.vp_l, 1));
        row("t½ alpha (h)", &|r| {
            opt_fixed(r.params.alpha_half_life_h, 2)
        });
        row("t½ terminal (h)", &|r| {
            opt_fixed(r.params.terminal_half_life_h, 1)
        });
    }
    if any(&|p| p.vmax_ug_per_h.is_some()) {
        row("Vmax (µg/h)", &|r| opt_fixed(r.params.vmax_ug_per_h, 1));
        row("Km (µg)", &|r| opt_fixed(r.params.km_ug, 1));
    }
    row("Cmax (ng/mL)", &|r| format!("{:.4}", r.metrics.cmax_ng_ml));
    row("Tmax (h)", &|r| format!("{:.2}", r.metrics.tmax_h));
    row("AUC0-t (ng·h/mL)", &|r| {
        format!("{:.1}", r.metrics.auc_0_t_ng_h_ml)
    });
    row("Cmax,ss (ng/mL)", &|r| {
        opt_fixed(r.metrics.cmax_ss_ng_ml, 4)
    });
    row("Cmin,ss trough (ng/mL)", &|r| {
        opt_fixed(r.metrics.cmin_ss_ng_ml, 4)
    });
    row("Cavg,ss (ng/mL)", &|r| {
        opt_fixed(r.metrics.cavg_ss_ng_ml, 4)
    });
    row("AUCtau,ss (ng·h/mL)", &|r| {
        opt_fixed(r.metrics.auc_tau_ss_ng_h_ml, 1)
    });
    row("accumulation ratio", &|r| {
        opt_fixed(r.metrics.accumulation_ratio, 2)
    });
    row("fluctuation (%)", &|r| {
        opt_fixed(r.metrics.fluctuation_pct, 1)
    });
    row("90% of ss trough after (d)", &|r| {
        opt_fixed(r.metrics.t_90ss_h.map(|t| t / 24.0), 1)
    });
    row("steady state in run", &|r| match (
        r.metrics.steady_state_reached,
        r.metrics.last_trough_pct_of_ss,
    ) {
        (Some(true), _) => "yes".into(),
        (Some(false), Some(p)) => format!("no ({p:.0}% of ss)"),
        (Some(false), None) => "no".into(),
        (None, _) => "–".into(),
    });
    if result.regimens.iter().any(|r| !r.residuals.is_empty()) {
        row("observations", &|r| r.residuals.len().to_string());
        row("residual RMS (ng/mL)", &|r| {
            let n = r.residuals.len();
            if n == 0 {
                return "–".into();
            }
            let ss: f64 = r.residuals.iter().map(|x| x.residual_ng_ml.powi(2)).sum();
            format!("{:.4}", (ss / n as f64).sqrt())
        });
    }
    // Escaped as the terminal will show them, so the columns line up.
    let labels: Vec<String> = result
        .regimens
        .iter()
        .map(|r| crate::format::terminal_safe(&r.regimen.label).into_owned())
        .collect();
    let name_w = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = (0..labels.len())
        .map(|i| {
            rows.iter()
                .map(|(_, v)| v[i].chars().count())
                .chain([labels[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} solver, {} h",
        crate::format::terminal_safe(&scenario.name),
        result.solver.name(),
        fmt_value(scenario.duration_h)
    );
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    let _ = write!(out, "  {}", pad("", name_w));
    for (l, w) in labels.iter().zip(&widths) {
        let _ = write!(out, "  {}", pad(l, *w));
    }
    out.push('\n');
    for (name, vals) in &rows {
        let _ = write!(out, "  {}", pad(name, name_w));
        for (v, w) in vals.iter().zip(&widths) {
            let _ = write!(out, "  {}", pad(v, *w));
        }
        out.push('\n');
    }
    out
}

/// The provenance of each parameter, for `figure.txt`-style notes and `k2sim compounds`.
pub fn evidence_tag(e: Option<Evidence>) -> &'static str {
    e.map_or("set by user", Evidence::tag)
}

/// A CSV file as bytes: the header, then the rows `rows` writes; an error names the file.
fn csv_file(
    name: &str,
    header: &[&str],
    rows: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> Result<(), csv::Error>,
) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)
        .and_then(|()| rows(&mut w))
        .map_err(|e| Error::serialize(name, e))?;
    w.into_inner()
        .map_err(|e| Error::serialize(name, e.to_string()))
}

/// `uncertainty.csv`: one row per regimen and metric (PK metrics, then the markers' changes):
/// the preset run's value, the 5th, 50th and 95th percentiles over the draws, and `robust` or
/// `uncertain`.
pub fn uncertainty_csv(u: &crate::study::uncertainty::Uncertainty) -> Result<Vec<u8>, Error> {
    let header = ["regimen", "metric", "preset", "p5", "p50", "p95", "flag"];
    csv_file("uncertainty.csv", &header, |w| {
        for r in &u.regimens {
            let metrics = r.metrics.iter().map(|m| {
                let k = m.metric.key().to_string();
                (k, m.preset, m.p5, m.p50, m.p95, m.robust)
            });
            let markers = r.markers.iter().map(|m| {
                let k = format!("{}_{}", m.marker.key(), m.quantity);
                (k, m.preset, m.p5, m.p50, m.p95, m.robust)
            });
            for (key, preset, p5, p50, p95, robust) in metrics.chain(markers) {
                let sig = |x: f64| crate::format::opt_sig(Some(x));
                w.write_record([
                    r.regimen.clone(),
                    key,
                    sig(preset),
                    sig(p5),
                    sig(p50),
                    sig(p95),
                    if robust { "robust" } else { "uncertain" }.to_string(),
                ])?;
            }
        }
        Ok(())
    })
}

/// The table printed after `k2sim run --uncertainty`: per regimen, each metric's preset value
/// and its 5–95 % interval over the draws, with the flag.
pub fn uncertainty_table(u: &crate::study::uncertainty::Uncertainty) -> String {
    use crate::format::short;
    let mut s = format!(
        "\nUncertainty over the preset ranges: {} draws, seed {} (log-uniform, independent; uncertainty.csv)\n",
        u.spec.n, u.spec.seed
    );
    for r in &u.regimens {
        s.push_str(&format!("  {}", r.regimen));
        if r.sampled.is_empty() {
            s.push_str(": nothing sampled");
            for n in &r.not_sampled {
                s.push_str(&format!("; {}: {}", n.param, n.why));
            }
            s.push('\n');
            continue;
        }
        s.push_str(&format!(" (sampled: {})\n", r.sampled.join(", ")));
        for m in &r.metrics {
            let (label, unit) = m.metric.label();
            s.push_str(&format!(
                "    {label:<24} {:>10} {unit:<8} 5–95 %: {}–{}  {}\n",
                short(m.preset),
                short(m.p5),
                short(m.p95),
                if m.robust { "robust" } else { "uncertain" }
            ));
        }
        for m in &r.markers {
            s.push_str(&format!(
                "    {:<24} {:>10} {:<8} 5–95 %: {}–{}  {}\n",
                format!("{} {}", m.marker.label(), m.quantity.replace('_', " ")),
                short(m.preset),
                "%",
                short(m.p5),
                short(m.p95),
                if m.robust { "robust" } else { "uncertain" }
            ));
        }
    }
    s
}

/// `response.csv`: the carboxylation markers of every regimen at every output time, tidy:
/// `regimen,time_h,marker,value,unit,pct_change_from_baseline`.
pub fn response_csv(result: &RunResult) -> Result<Vec<u8>, Error> {
    let header = [
        "regimen",
        "time_h",
        "marker",
        "value",
        "unit",
        "pct_change_from_baseline",
    ];
    csv_file("response.csv", &header, |w| {
        let sig = |x: f64| crate::format::opt_sig(Some(x));
        for r in &result.regimens {
            for c in &r.response {
                for (t, v) in r.trajectory.time_h.iter().zip(&c.values) {
                    w.write_record([
                        r.regimen.label.as_str(),
                        &sig(*t),
                        c.marker.key(),
                        &sig(*v),
                        c.unit,
                        &sig(100.0 * (v / c.baseline - 1.0)),
                    ])?;
                }
            }
        }
        Ok(())
    })
}
