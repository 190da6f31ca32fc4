//! `k2sim fit`: estimates parameters from a scenario's observations, prints and writes the
//! report, the goodness-of-fit figures and the scenario with the fitted values.

use k2sim::model::SolverKind;
use std::path::{Path, PathBuf};
use std::time::Instant;

use k2sim::engine::run;
use k2sim::error::{Error, InputError};
use k2sim::plot;
use k2sim::report::figure;
use k2sim::scenario;
use k2sim::study::fit::{self, LmOptions};

fn input_error(path: &Path, message: String) -> Error {
    Error::Input(InputError::io(path, message))
}

/// Runs the fit of the scenario at `path`.
pub fn fit_command(
    path: &Path,
    out: Option<PathBuf>,
    solver: Option<SolverKind>,
    quiet: bool,
    opts: plot::RenderOptions,
) -> Result<(), Error> {
    let started = Instant::now();
    let scenario = scenario::load_with(path, super::reach())?;
    let spec = scenario.fit.clone().ok_or_else(|| {
        input_error(
            path,
            "has no [fit] table\n  help: add `[fit]` with `params = [\"ka_per_h\", \"half_life_h\", \"v_l\"]` (and optionally `weighting = \"additive\"`)".into(),
        )
    })?;
    if spec.response.is_empty() && scenario.observed.is_empty() {
        return Err(input_error(
            path,
            "has no observations to fit\n  help: add [[observed]] rows (time_h, conc_ng_ml) or `observed_csv = \"file.csv\"`".into(),
        ));
    }
    let solver = solver.unwrap_or(scenario.solver);
    let progress = crate::cli::study::Progress::new("fit: iteration", quiet);
    let fitted = fit::fit_with_progress(&scenario, &spec, solver, LmOptions::default(), &|d, t| {
        progress.update(d, t)
    });
    progress.finish();
    let result = fitted.map_err(|e| match e {
        fit::FitError::Sim(s) => Error::Sim(s),
        other => input_error(path, other.to_string()),
    })?;
    let original = std::fs::read_to_string(path)
        .map_err(|e| input_error(path, format!("cannot read the scenario file: {e}")))?;
    let fitted = k2sim::report::fit::fitted_scenario_toml(&original, &scenario, &result)
        .map_err(|e| Error::serialize("fitted scenario", e))?;
    let stem = k2sim::format::sanitize_file_stem(&scenario.name);
    let dir = out.unwrap_or_else(|| Path::new("out").join(format!("{stem}_fit")));

    // Everything is rendered before the first file is written.
    let report = k2sim::report::fit::report_markdown(&result);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("fit.md".into(), report.clone().into_bytes()),
        (
            "fit.json".into(),
            serde_json::to_vec_pretty(&result).map_err(|e| Error::serialize("fit.json", e))?,
        ),
        (format!("{stem}_fitted.toml"), fitted.clone().into_bytes()),
    ];
    let [ovp, res] = k2sim::report::fit::gof_figures(&result, &scenario.name);
    // The fitted curves with the observations, from the written scenario itself.
    let mut refit = scenario::parse_str(&fitted, &scenario.name)?;
    refit.name = format!("{} (fitted)", scenario.name);
    let refit_run = run::run(&refit, solver)?;
    let mut figures: Vec<(String, k2sim::plot::Figure)> = Vec::new();
    if spec.response.is_empty() {
        figures.push((
            "fit_curves".into(),
            figure::concentration_figure(&refit, &refit_run),
        ));
    } else {
        // Per fitted marker: the fitted course of each regimen with its observations.
        for f in k2sim::report::response_figure::response_figures(&refit, &refit_run) {
            let marker = f.suffix.trim_start_matches("response_").to_string();
            if !spec.response.iter().any(|p| p.marker.key() == marker) {
                continue;
            }
            let mut fig = f.figure;
            // The observations go on the marker's panel (under the serum level).
            let panel = fig
                .stack
                .first_mut()
                .expect("a response figure stacks its marker");
            panel.observed = panel
                .series
                .iter()
                .map(|s| {
                    result
                        .response_points
                        .iter()
                        .filter(|p| p.marker == marker && p.regimen == s.label)
                        .map(|p| (p.time_h, p.observed_pct))
                        .collect()
                })
                .collect();
            fig.subtitle = Some("lines: the fitted model · circles: the observations".into());
            figures.push((format!("fit_curves_{marker}"), fig));
        }
    }
    figures.push(("fit_observed_vs_predicted".into(), ovp));
    figures.push(("fit_residuals".into(), res));
    for (name, fig) in &figures {
        let mut set = k2sim::report::FileSet::new();
        set.push_rendered(name, fig, &opts, None)?;
        files.extend(set.into_vec());
    }
    // report.html: the estimates, the figures and the starting parameters on one page.
    let start = run::run(&scenario, solver)?;
    let presets = crate::cli::run::preset_status()?;
    let (title, command) = (
        format!("{} — fit", scenario.name),
        crate::cli::command_line(),
    );
    let html = k2sim::report::html::page(&k2sim::report::html::Page {
        description: scenario.description.as_deref(),
        run: Some(&start),
        params_note: Some("The values the fit started from, with their sources; the estimates are under Results, and the fitted scenario file holds them."),
        presets: Some(&presets),
        ..k2sim::report::html::Page::new(&title, &command, &files)
    });
    files.push(("report.html".into(), html.into_bytes()));
    let written = crate::cli::write::replace_set(&dir, "fit", &files)?;
    if !quiet {
        outln!(
            "{} — fit of {} to {} observations, {} solver",
            scenario.name,
            result
                .estimates
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            result.n_observations,
            k2sim::report::figure::solver_name_for(
                solver,
                scenario.regimens.iter().map(|r| &r.model)
            )
        );
        out!("{report}");
        outln!();
        for p in &written {
            outln!("wrote {}", p.display());
        }
        outln!("done in {:.2} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}
