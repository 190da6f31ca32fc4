//! What `k2sim fit` writes, as bytes: the report (`fit.md`), the scenario with the fitted
//! values (`<name>_fitted.toml`) and the goodness-of-fit figures.

use crate::scenario::{Scenario, Weighting};
use crate::study::fit::FitResult;

/// The scenario text with the fitted values written into every regimen's `[regimen.params]`
/// (a `ke_per_h` is replaced when the half-life was fitted), and the observations of
/// `observed_csv` written inline so the file stands alone. Comments are not kept.
pub fn fitted_scenario_toml(
    original: &str,
    scenario: &Scenario,
    result: &FitResult,
) -> Result<String, toml::ser::Error> {
    let mut doc: toml::Table = toml::from_str(original).unwrap_or_default();
    if let Some(toml::Value::Array(regs)) = doc.get_mut("regimen") {
        for reg in regs.iter_mut() {
            let Some(t) = reg.as_table_mut() else {
                continue;
            };
            let params = t
                .entry("params")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let Some(p) = params.as_table_mut() {
                for e in &result.estimates {
                    if e.name == "half_life_h" {
                        p.remove("ke_per_h");
                    }
                    p.insert(e.name.into(), toml::Value::Float(e.estimate));
                }
            }
        }
    }
    if doc.remove("observed_csv").is_some() {
        let rows: Vec<toml::Value> = scenario
            .observed
            .iter()
            .map(|o| {
                let mut t = toml::Table::new();
                t.insert("time_h".into(), toml::Value::Float(o.time_h));
                t.insert("conc_ng_ml".into(), toml::Value::Float(o.conc_ng_ml));
                t.insert("regimen".into(), toml::Value::String(o.regimen.clone()));
                if let Some(s) = &o.subject {
                    t.insert("subject".into(), toml::Value::String(s.clone()));
                }
                toml::Value::Table(t)
            })
            .collect();
        doc.insert("observed".into(), toml::Value::Array(rows));
    }
    let head = format!(
        "# Written by `k2sim fit`: the scenario with the fitted {} ({} weighting,\n# objective {:.6e}, {} observations). Comments of the original are not kept.\n",
        result
            .estimates
            .iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
            .join(", "),
        match result.weighting {
            Weighting::Proportional => "proportional",
            Weighting::Additive => "additive",
        },
        result.objective,
        result.n_observations
    );
    Ok(head + &toml::to_string(&doc)?)
}

/// The fit as a Markdown report: estimates with standard errors, correlation, objective.
pub fn report_markdown(result: &FitResult) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "| parameter | initial | estimate | SE | RSE (%) |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    for e in &result.estimates {
        let _ = writeln!(
            s,
            "| {} | {:.6} | {:.6} | {:.4} | {:.2} |",
            e.name, e.initial, e.estimate, e.se, e.rse_pct
        );
    }
    let _ = writeln!(s, "\nCorrelation of the estimates (log scale):\n");
    let names: Vec<&str> = result.estimates.iter().map(|e| e.name).collect();
    let _ = writeln!(s, "| | {} |", names.join(" | "));
    let _ = writeln!(s, "|---|{}", "---:|".repeat(names.len()));
    for (n, row) in names.iter().zip(&result.correlation) {
        let cells: Vec<String> = row.iter().map(|x| format!("{x:.3}")).collect();
        let _ = writeln!(s, "| {n} | {} |", cells.join(" | "));
    }
    let _ = writeln!(
        s,
        "\nObjective (weighted SSR, {} weighting): {:.6e} at the optimum, {:.6e} at the start; {} observations, {} iterations, {}.",
        match result.weighting {
            Weighting::Proportional => "proportional",
            Weighting::Additive => "additive",
        },
        result.objective,
        result.initial_objective,
        result.n_observations,
        result.iterations,
        if result.converged {
            "converged"
        } else {
            "NOT converged (iteration limit)"
        }
    );
    s
}

/// Goodness-of-fit figures: observed against predicted (with the identity line), and
/// residuals (observed − predicted) against time (with the zero line).
pub fn gof_figures(result: &FitResult, title: &str) -> [crate::plot::Figure; 2] {
    use crate::plot::{Figure, Series};
    let max = result
        .points
        .iter()
        .flat_map(|p| [p.observed_ng_ml, p.predicted_ng_ml])
        .fold(0.0, f64::max);
    let t_max = result.points.iter().map(|p| p.time_h).fold(0.0, f64::max);
    let ovp = Figure {
        title: format!("{title}: observed against predicted"),
        subtitle: Some("circles: observations · line: identity".into()),
        y_label: "Observed (ng/mL)".into(),
        x_label: Some("Predicted".into()),
        limit: None,
        x_unit: Some("ng/mL".into()),
        series: vec![Series {
            label: "identity".into(),
            points: vec![(0.0, 0.0), (max, max)],
        }],
        observed: vec![result
            .points
            .iter()
            .map(|p| (p.predicted_ng_ml, p.observed_ng_ml))
            .collect()],
        ..Default::default()
    };
    let res = Figure {
        title: format!("{title}: residuals against time"),
        subtitle: Some("circles: observed − predicted · line: zero".into()),
        y_label: "Residual (ng/mL)".into(),
        series: vec![Series {
            label: "zero".into(),
            points: vec![(0.0, 0.0), (t_max, 0.0)],
        }],
        observed: vec![result
            .points
            .iter()
            .map(|p| (p.time_h, p.observed_ng_ml - p.predicted_ng_ml))
            .collect()],
        ..Default::default()
    };
    [ovp, res]
}
