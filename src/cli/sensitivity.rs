//! `k2sim sensitivity`: one-at-a-time sensitivity of a scenario, written with its tornado figure.

use std::path::{Path, PathBuf};

use k2sim::error::Error;
use k2sim::model::SolverKind;
use k2sim::scenario::{self};

use super::write::replace_set;
use super::{command_line, option_error};

pub(super) fn sensitivity_command(
    path: &Path,
    delta_pct: f64,
    out: Option<PathBuf>,
    solver: Option<SolverKind>,
    quiet: bool,
    size: &super::SizeArgs,
) -> Result<(), Error> {
    if !(delta_pct.is_finite() && delta_pct > 0.0 && delta_pct < 100.0) {
        return Err(option_error(format!(
            "--delta-pct {delta_pct} is out of range\n  help: give a change between 0 and 100 (%), e.g. --delta-pct 10"
        )));
    }
    let scenario = scenario::load_with(path, super::reach())?;
    let solver = solver.unwrap_or(scenario.solver);
    let render = size.render_for(&scenario);
    let (mut files, report) = crate::cli::study::sensitivity_files(
        &scenario,
        solver,
        delta_pct,
        &render,
        &command_line(),
    )?;
    // report.html: the table, the tornado and the parameters of the unchanged run on one page.
    let base = k2sim::engine::run::run(&scenario, solver)?;
    let presets = super::run::preset_status()?;
    let (title, command) = (format!("{} — sensitivity", scenario.name), command_line());
    let html = k2sim::report::html::page(&k2sim::report::html::Page {
        description: scenario.description.as_deref(),
        run: Some(&base),
        params_note: Some("The parameters of the unchanged run; each was moved by the percentage above, one at a time."),
        printed: Some(("Sensitivity", &report)),
        presets: Some(&presets),
        ..k2sim::report::html::Page::new(&title, &command, &files)
    });
    files.push(("report.html".into(), html.into_bytes()));
    let dir = out.unwrap_or_else(|| {
        Path::new("out").join(k2sim::format::sanitize_file_stem(&scenario.name))
    });
    for p in replace_set(&dir, "sensitivity", &files)? {
        if !quiet {
            outln!("wrote {}", p.display());
        }
    }
    if !quiet {
        out!("{report}");
    }
    Ok(())
}
