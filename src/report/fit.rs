//! What `k2sim fit` writes, as bytes: the report (`fit.md`), the scenario with the fitted
//! values (`<name>_fitted.toml`) and the goodness-of-fit figures.

use crate::scenario::{Scenario, Weighting};
use crate::study::fit::{FitResult, SeBasis};

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
                for e in result.estimates.iter().filter(|e| !e.name.contains('.')) {
                    if e.name == "half_life_h" {
                        p.remove("ke_per_h");
                    }
                    p.insert(e.name.clone(), toml::Value::Float(e.estimate));
                }
                if p.is_empty() {
                    t.remove("params");
                }
            }
        }
    }
    // Response estimates go into `[response.<marker>]`.
    for e in &result.estimates {
        let Some((marker, key)) = e.name.split_once('.') else {
            continue;
        };
        let table = doc
            .entry("response")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(r) = table.as_table_mut() {
            let m = r
                .entry(marker)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let Some(m) = m.as_table_mut() {
                m.insert(key.into(), toml::Value::Float(e.estimate));
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
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        weighting_name(result),
        result.objective,
        result.n_observations
    );
    Ok(head + &toml::to_string(&doc)?)
}

/// A Markdown table cell: pipes escaped, lines joined.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// How the residuals were weighted, in words.
fn weighting_name(result: &FitResult) -> &'static str {
    match (
        result.response_points.is_empty(),
        result.se_basis,
        result.weighting,
    ) {
        (false, SeBasis::ReportedSe, _) => "1/se² (reported standard errors)",
        (false, _, _) => "equal",
        (true, _, Weighting::Proportional) => "proportional",
        (true, _, Weighting::Additive) => "additive",
    }
}

/// The fit as a Markdown report: estimates with standard errors, correlation, objective.
pub fn report_markdown(result: &FitResult) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "| parameter | initial | estimate | SE | RSE (%) |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    for e in &result.estimates {
        let (se, rse) = if e.se.is_finite() {
            (format!("{:.4}", e.se), format!("{:.2}", e.rse_pct))
        } else {
            ("—".into(), "—".into())
        };
        let _ = writeln!(
            s,
            "| {} | {:.6} | {:.6} | {se} | {rse} |",
            e.name, e.initial, e.estimate
        );
    }
    let _ = writeln!(
        s,
        "\nCorrelation of the estimates ({}):\n",
        if result.response_points.is_empty() {
            "log scale"
        } else {
            "fitted scale: logit for Imax, log otherwise"
        }
    );
    let names: Vec<&str> = result.estimates.iter().map(|e| e.name.as_str()).collect();
    let _ = writeln!(s, "| | {} |", names.join(" | "));
    let _ = writeln!(s, "|---|{}", "---:|".repeat(names.len()));
    for (n, row) in names.iter().zip(&result.correlation) {
        let cells: Vec<String> = row
            .iter()
            .map(|x| {
                if x.is_finite() {
                    format!("{x:.3}")
                } else {
                    "—".into()
                }
            })
            .collect();
        let _ = writeln!(s, "| {n} | {} |", cells.join(" | "));
    }
    let _ = writeln!(
        s,
        "\nObjective (weighted SSR, {} weighting): {:.6e} at the optimum, {:.6e} at the start; {} observations, {} iterations, {}.",
        weighting_name(result),
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
    let _ = writeln!(
        s,
        "\nStandard errors: {}.",
        match result.se_basis {
            SeBasis::Residual => "from the residuals, s² = SSR/(n − k), delta method",
            SeBasis::ReportedSe => "from the reported standard errors taken as known, Cov = (JᵀWJ)⁻¹ with W = 1/se², delta method",
            SeBasis::NotEstimable => "none: as many observations as parameters and no reported standard errors, so the fit is an exact solve with no residual to estimate them from (give `se_pct` on every row, or more observations)",
        }
    );
    if !result.response_points.is_empty() {
        let _ = writeln!(
            s,
            "\n| regimen | marker | time (days) | observed (%) | SE | predicted (%) | source |"
        );
        let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---|");
        for p in &result.response_points {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.1} | {} | {:.1} | {} |",
                md(&p.regimen),
                p.marker,
                crate::format::fmt_value(p.time_h / 24.0),
                p.observed_pct,
                p.se_pct.map_or("—".into(), |x| format!("{x:.1}")),
                p.predicted_pct,
                md(p.source.as_deref().unwrap_or("")),
            );
        }
    }
    s
}

/// (predicted, observed, time_h) of every observation, and the unit.
fn gof_points(result: &FitResult) -> (Vec<(f64, f64, f64)>, &'static str) {
    if result.response_points.is_empty() {
        let v = result
            .points
            .iter()
            .map(|p| (p.predicted_ng_ml, p.observed_ng_ml, p.time_h))
            .collect();
        (v, "ng/mL")
    } else {
        let v = result
            .response_points
            .iter()
            .map(|p| (p.predicted_pct, p.observed_pct, p.time_h))
            .collect();
        (v, "% change from baseline")
    }
}

/// Goodness-of-fit figures: observed against predicted (with the identity line), and
/// residuals (observed − predicted) against time (with the zero line).
pub fn gof_figures(result: &FitResult, title: &str) -> [crate::plot::Figure; 2] {
    use crate::plot::{Figure, Series};
    let (pts, unit) = gof_points(result);
    let max = pts.iter().flat_map(|p| [p.0, p.1]).fold(0.0, f64::max);
    let min = pts.iter().flat_map(|p| [p.0, p.1]).fold(0.0, f64::min);
    let t_max = pts.iter().map(|p| p.2).fold(0.0, f64::max);
    let ovp = Figure {
        title: format!("{title}: observed against predicted"),
        subtitle: Some("circles: observations · line: identity".into()),
        y_label: format!("Observed ({unit})"),
        x_label: Some("Predicted".into()),
        limit: None,
        x_unit: Some(unit.into()),
        series: vec![Series {
            label: "identity".into(),
            points: vec![(min, min), (max, max)],
        }],
        observed: vec![pts.iter().map(|p| (p.0, p.1)).collect()],
        ..Default::default()
    };
    let res = Figure {
        title: format!("{title}: residuals against time"),
        subtitle: Some("circles: observed − predicted · line: zero".into()),
        y_label: format!(
            "Residual ({})",
            if unit == "ng/mL" { unit } else { "points" }
        ),
        series: vec![Series {
            label: "zero".into(),
            points: vec![(0.0, 0.0), (t_max, 0.0)],
        }],
        observed: vec![pts.iter().map(|p| (p.2, p.1 - p.0)).collect()],
        ..Default::default()
    };
    [ovp, res]
}
