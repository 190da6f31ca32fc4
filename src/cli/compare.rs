//! `k2sim compare`: several scenario files run together, their regimens compared.

use std::path::{Path, PathBuf};
use std::time::Instant;

use k2sim::engine::run;
use k2sim::error::Error;
use k2sim::format::fmt_value;
use k2sim::model::SolverKind;
use k2sim::scenario::{self};

use super::run::{finish, Finish};
use super::{command_line, option_error, FigureArgs};

#[allow(clippy::too_many_arguments)]
pub(super) fn compare_command(
    paths: &[PathBuf],
    out: Option<PathBuf>,
    solver: Option<SolverKind>,
    quiet: bool,
    json: bool,
    reference: Option<String>,
    threshold: Option<f64>,
    fig: &FigureArgs,
) -> Result<(), Error> {
    let started = Instant::now();
    let mut scenarios = Vec::new();
    for p in paths {
        let mut s = scenario::load_with(p, super::reach())?;
        fig.apply(&mut s);
        for w in &s.warnings {
            errln!("warning: {w}");
        }
        scenarios.push(s);
    }
    if let Some(t) = threshold {
        if !(t.is_finite() && t > 0.0) {
            return Err(option_error(format!(
                "--threshold {t} is out of range\n  help: expected a positive concentration in ng/mL"
            )));
        }
    }
    // One threshold for the comparison: the option, or the one the scenarios agree on.
    let named: Vec<(String, f64)> = scenarios
        .iter()
        .filter_map(|s| s.threshold_ng_ml.map(|t| (s.name.clone(), t)))
        .collect();
    let threshold = match threshold {
        Some(t) => Some(t),
        None => {
            if let Some((a, b)) = named
                .iter()
                .zip(named.iter().skip(1))
                .find(|(a, b)| a.1 != b.1)
            {
                return Err(option_error(format!(
                    "the scenarios name different thresholds: \"{}\" {} ng/mL, \"{}\" {} ng/mL\n  help: choose one with --threshold",
                    a.0,
                    fmt_value(a.1),
                    b.0,
                    fmt_value(b.1)
                )));
            }
            named.first().map(|n| n.1)
        }
    };
    let first = &scenarios[0];
    let solver = solver.unwrap_or(first.solver);
    let mut merged = first.clone();
    merged.name = scenarios
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(" vs ");
    merged.description = None;
    merged.source = None;
    merged.threshold_ng_ml = threshold;
    merged.caption = scenarios.iter().find_map(|s| s.caption.clone());
    merged.regimens.clear();
    merged.warnings.clear();
    let mut result = run::RunResult {
        solver,
        regimens: Vec::new(),
    };
    for (s, p) in scenarios.iter().zip(paths) {
        for r in &s.regimens {
            if let Some(o) = merged.regimens.iter().find(|o| o.label == r.label) {
                return Err(option_error(format!(
                    "{}: regimen label \"{}\" is also used by an earlier scenario\n  help: labels name the columns and curves: give the regimens distinct `label`s",
                    p.display(),
                    o.label
                )));
            }
            merged.regimens.push(r.clone());
        }
        merged.duration_h = merged.duration_h.max(s.duration_h);
        merged.step_h = merged.step_h.min(s.step_h);
        merged.warnings.extend(s.warnings.iter().cloned());
        // Each scenario keeps its own span and grid.
        result.regimens.extend(run::run(s, solver)?.regimens);
    }
    let dir = out
        .unwrap_or_else(|| Path::new("out").join(k2sim::format::sanitize_file_stem(&merged.name)));
    let ctx = Finish {
        reference,
        fig,
        dir: &dir,
        quiet: quiet || json,
        json,
        started,
        force_comparison: true,
        command: command_line(),
        extra: Vec::new(),
        extra_report: String::new(),
        uncertainty: None,
        moved: Vec::new(),
    };
    if let Some(summary) = finish(&merged, &result, ctx)? {
        out!("{summary}");
    }
    Ok(())
}
