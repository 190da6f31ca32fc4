//! The validation suite's tables and figures: Markdown, CSV and the terminal table of the
//! outcomes, and each case's predicted curves with the observed points.

use std::fmt::Write as _;

use crate::format::sig;
use crate::plot::{Figure, Series, YScale};
use crate::scenario::case::Role;
use crate::study::literature::{CaseResult, Outcome};

const HEADER: [&str; 9] = [
    "case",
    "quantity",
    "observed",
    "predicted",
    "tolerance",
    "result",
    "kind",
    "expected",
    "source",
];

fn row(o: &Outcome) -> [String; 9] {
    [
        o.case.clone(),
        o.check.describe(),
        o.check.observed_text(),
        sig(o.predicted),
        o.check.tolerance_text(),
        if o.pass { "pass" } else { "FAIL" }.into(),
        match o.check.role {
            Role::Calibration => "calibration",
            Role::Independent => "independent",
        }
        .into(),
        if o.check.expect_pass { "pass" } else { "fail" }.into(),
        o.check.source.clone(),
    ]
}

/// The outcomes as a Markdown table, followed by each check's tolerance basis.
pub fn markdown(outcomes: &[Outcome]) -> String {
    let mut s = format!("| {} |\n", HEADER.join(" | "));
    s.push_str("|---|---|---:|---:|---|---|---|---|---|\n");
    for o in outcomes {
        let _ = writeln!(s, "| {} |", row(o).join(" | "));
    }
    s.push_str("\nTolerances:\n\n");
    for o in outcomes {
        let _ = writeln!(
            s,
            "- {} · {}: {}",
            o.case,
            o.check.describe(),
            o.check.basis
        );
    }
    s
}

/// The outcomes as CSV: one row per check, with the tolerance basis.
pub fn csv(outcomes: &[Outcome]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = HEADER.to_vec();
    header.push("basis");
    w.write_record(&header)?;
    for o in outcomes {
        let mut r: Vec<String> = row(o).to_vec();
        r[3] = if o.predicted.is_finite() {
            format!("{}", o.predicted)
        } else {
            String::new()
        };
        r.push(o.check.basis.clone());
        w.write_record(&r)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The outcomes as an aligned text table for the terminal.
pub fn text_table(outcomes: &[Outcome]) -> String {
    let cols = 6;
    let rows: Vec<Vec<String>> =
        std::iter::once(HEADER[..cols].iter().map(|s| s.to_string()).collect())
            .chain(outcomes.iter().map(|o| row(o)[..cols].to_vec()))
            .collect();
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        let _ = writeln!(s, "{}", line.join("  ").trim_end());
    }
    s
}

/// The predicted curves of a case with the observed points the study gives (a check with
/// `at_h` and a concentration), or `None` when it gives none.
pub fn figure(result: &CaseResult) -> Option<Figure> {
    let series: Vec<Series> = result
        .run
        .regimens
        .iter()
        .map(|r| Series {
            label: r.regimen.label.clone(),
            points: r
                .trajectory
                .time_h
                .iter()
                .copied()
                .zip(r.trajectory.conc_ng_ml.iter().copied())
                .collect(),
        })
        .collect();
    let observed: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            result
                .outcomes
                .iter()
                .filter(|o| o.check.regimen == s.label && o.check.relative_to.is_none())
                .filter(|o| o.check.quantity.is_concentration())
                .filter_map(|o| o.check.at_h.map(|t| (t, o.check.observed)))
                .chain(
                    result
                        .case
                        .scenario
                        .observed
                        .iter()
                        .filter(|o| o.regimen == s.label)
                        .map(|o| (o.time_h, o.conc_ng_ml)),
                )
                .collect()
        })
        .collect();
    if observed.iter().all(Vec::is_empty) {
        return None;
    }
    Some(Figure {
        title: result.case.scenario.name.clone(),
        subtitle: Some(format!(
            "lines: model ({} solver) · circles: observed, {}",
            result.run.solver.name(),
            result.case.study
        )),
        y_label: "Serum concentration (ng/mL)".into(),
        series,
        y_scale: YScale::Linear,
        observed,
        ..Default::default()
    })
}

/// "calibration P of N pass, independent P of N pass": the summary by kind, so that agreement by
/// construction is never counted as validation.
pub fn kind_counts(outcomes: &[Outcome]) -> String {
    let count = |role: Role| {
        let of: Vec<&Outcome> = outcomes.iter().filter(|o| o.check.role == role).collect();
        (of.iter().filter(|o| o.pass).count(), of.len())
    };
    let (cp, cn) = count(Role::Calibration);
    let (ip, i_n) = count(Role::Independent);
    format!("calibration {cp} of {cn} pass, independent {ip} of {i_n} pass")
}
