//! `k2sim run`: one scenario simulated, its population or sweep computed (or one shard of it),
//! every output rendered, then written as one set; and the finishing step `compare` and `merge`
//! share: tables printed, files listed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use k2sim::engine::run;
use k2sim::error::Error;
use k2sim::model::SolverKind;
use k2sim::report;
use k2sim::report::tables as output;
use k2sim::scenario::{self, Scenario};

use super::write::replace_set_moving;
use super::{command_line, option_error, FigureArgs};

/// Options of `k2sim run`, besides the scenario files.
pub(super) struct RunArgs<'a> {
    pub(super) out: Option<PathBuf>,
    pub(super) solver: Option<SolverKind>,
    pub(super) quiet: bool,
    pub(super) json: bool,
    pub(super) reference: Option<String>,
    pub(super) shard: Option<k2sim::study::Shard>,
    pub(super) force: bool,
    pub(super) uncertainty: bool,
    pub(super) fig: &'a FigureArgs,
}

/// `k2sim run A.toml [B.toml ...]`: each scenario in turn (`-` is standard input), each into
/// its own directory; with `--json`, their summaries on standard output.
pub(super) fn run_many(paths: &[PathBuf], args: &RunArgs) -> Result<(), Error> {
    let is_stdin = |p: &PathBuf| p.as_os_str() == "-";
    if paths.iter().filter(|p| is_stdin(p)).count() > 1 {
        return Err(option_error(
            "`-` (standard input) is given more than once
  help: standard input holds one scenario; name the others as files"
                .into(),
        ));
    }
    if paths.len() > 1 && args.shard.is_some() {
        return Err(option_error(format!(
            "--shard computes one part of one scenario, and {} scenarios are given
  help: run each scenario's shards separately",
            paths.len()
        )));
    }
    let several = paths.len() > 1;
    let mut summaries = Vec::new();
    for p in paths {
        if let Some(json) = run_command(p, several, args)? {
            summaries.push(json);
        }
    }
    if args.json {
        if several {
            let items: Vec<String> = summaries.iter().map(|j| j.trim_end().to_string()).collect();
            outln!("[\n{}\n]", items.join(",\n"));
        } else if let Some(j) = summaries.first() {
            out!("{j}");
        }
    }
    Ok(())
}

/// Reads the scenario at `path`, or from standard input for `-`.
fn load_scenario(path: &Path) -> Result<Scenario, Error> {
    if path.as_os_str() != "-" {
        return Ok(scenario::load_with(path, super::reach())?);
    }
    use std::io::Read as _;
    let mut text = String::new();
    let limit = scenario::MAX_SCENARIO_BYTES;
    std::io::stdin()
        .take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|e| {
            option_error(format!(
                "reading the scenario from standard input failed: {e}\n  help: pipe a UTF-8 TOML scenario, e.g. `cat scenarios/mk7_daily.toml | k2sim run -`"
            ))
        })?;
    if text.len() as u64 > limit {
        return Err(option_error(format!(
            "the scenario on standard input is larger than {} MB\n  help: a scenario is a short TOML file; put data in a `dataset` file",
            limit / 1_000_000
        )));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Ok(scenario::load_stdin_text(&text, &cwd, super::reach())?)
}

/// One scenario of `k2sim run`; returns its summary.json text under `--json`. With
/// `out_is_parent`, `--out` holds one directory per scenario.
fn run_command(path: &Path, out_is_parent: bool, args: &RunArgs) -> Result<Option<String>, Error> {
    let RunArgs {
        out,
        solver,
        quiet,
        reference,
        shard,
        force,
        uncertainty,
        fig,
        json,
    } = args;
    let (solver, quiet, shard, force, uncertainty, fig) =
        (*solver, *quiet || *json, *shard, *force, *uncertainty, *fig);
    let started = Instant::now();
    let mut scenario = load_scenario(path)?;
    fig.apply(&mut scenario);
    vlog!(
        started,
        "read {} ({} regimen{})",
        path.display(),
        scenario.regimens.len(),
        if scenario.regimens.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    for w in &scenario.warnings {
        errln!("warning: {w}");
    }
    let solver = solver.unwrap_or(scenario.solver);
    let stem = k2sim::format::sanitize_file_stem(&scenario.name);
    let dir = match out {
        Some(o) if out_is_parent => o.join(&stem),
        Some(o) => o.clone(),
        None => Path::new("out").join(&stem),
    };
    if let Some(shard) = shard {
        if scenario.population.is_none() && scenario.sweep.is_none() {
            return Err(option_error(format!(
                "{}: --shard splits a [population] or [sweep], and this scenario has neither\n  help: run it without --shard",
                path.display()
            )));
        }
        let run = crate::cli::study::ShardRun {
            path,
            shard,
            dir: &dir,
            quiet,
            force,
            command: &command_line(),
        };
        let outcome = crate::cli::study::write_shard(&run, &scenario, solver)?;
        if !quiet {
            match outcome {
                crate::cli::study::ShardOutcome::Written(p) => outln!("wrote {}", p.display()),
                crate::cli::study::ShardOutcome::Skipped(p) => outln!(
                    "kept {}: a valid shard of this scenario and solver is already there (--force to compute it again)",
                    p.display()
                ),
            }
            let threads = rayon::current_num_threads();
            outln!(
                "done in {:.2} s on {threads} thread{}{}",
                started.elapsed().as_secs_f64(),
                if threads == 1 { "" } else { "s" },
                peak_memory_note()
            );
        }
        return Ok(None);
    }
    let result = run::run(&scenario, solver)?;
    print_notes(&result);
    vlog!(started, "simulated with the {solver:?} solver");
    // A population's subjects go to files in the output directory as they are computed
    // (memory does not grow with their number); population_subjects.csv joins the set from there.
    let spill = match scenario.population {
        Some(_) => Some(super::write::Spill::new(&dir)?),
        None => None,
    };
    let (study, subjects_csv) = match &spill {
        Some(spill) => crate::cli::study::compute_spilled(&scenario, solver, quiet, spill)?,
        None => (
            crate::cli::study::compute(&scenario, solver, k2sim::study::Shard::WHOLE, quiet)?,
            None,
        ),
    };
    if scenario.population.is_some() || scenario.sweep.is_some() {
        vlog!(started, "computed the population / sweep");
    }
    let extra = crate::cli::study::study_files_with(
        &scenario,
        &result,
        &study,
        // The file is in the spill directory; this is its placeholder in the set.
        subjects_csv.as_ref().map(|_| Vec::new()),
        &fig.render(&scenario),
        &command_line(),
    )?;
    let moved = subjects_csv
        .map(|p| vec![(super::spill::SUBJECTS_CSV.to_string(), p)])
        .unwrap_or_default();
    let mut report = crate::cli::study::study_report(&scenario, &study);
    let uncertainty = if uncertainty || scenario.uncertainty.is_some() {
        let spec = scenario.uncertainty.unwrap_or_default();
        let base: Vec<_> = result.regimens.iter().map(|r| r.metrics).collect();
        let u = k2sim::study::uncertainty::run_uncertainty(&scenario, solver, &spec, &base)?;
        report.push_str(&output::uncertainty_table(&u));
        vlog!(started, "uncertainty: {} draws", spec.n);
        Some(u)
    } else {
        None
    };
    let ctx = Finish {
        reference: reference.clone(),
        fig,
        dir: &dir,
        quiet,
        json: *json,
        started,
        force_comparison: false,
        command: command_line(),
        extra,
        extra_report: report,
        uncertainty,
        moved,
    };
    finish(&scenario, &result, ctx)
}

/// How to finish a run: options, destination and the study's extra outputs.
pub(super) struct Finish<'a> {
    pub(super) reference: Option<String>,
    pub(super) fig: &'a FigureArgs,
    pub(super) dir: &'a Path,
    pub(super) quiet: bool,
    /// Return summary.json's text for standard output (`--json`) instead of printing tables.
    pub(super) json: bool,
    pub(super) started: Instant,
    pub(super) force_comparison: bool,
    /// The command line recorded in caption files.
    pub(super) command: String,
    /// Files of the population/sweep, already rendered.
    pub(super) extra: Vec<(String, Vec<u8>)>,
    /// Their printed part.
    pub(super) extra_report: String,
    /// The `--uncertainty` study, when asked for.
    pub(super) uncertainty: Option<k2sim::study::uncertainty::Uncertainty>,
    /// Files of `extra` already written whole in a spill directory of `dir`, by name: they are
    /// renamed into the set, their bytes in `extra` are an empty placeholder.
    pub(super) moved: Vec<(String, std::path::PathBuf)>,
}

/// Renders every output, then writes them (atomically) and prints the tables; under `--json`
/// returns summary.json's text instead of printing.
pub(super) fn finish(
    scenario: &Scenario,
    result: &run::RunResult,
    ctx: Finish,
) -> Result<Option<String>, Error> {
    // The steady-state courses of the figures, with the run's solver and tolerances.
    let profiles = k2sim::engine::steady_profile::steady_profiles(result, scenario.ode)?;
    // Everything is rendered to bytes before the first file is touched.
    let rep = report::build(
        scenario,
        result,
        &profiles,
        &report::ReportOptions {
            render: ctx.fig.render(scenario),
            reference: ctx.reference,
            command: ctx.command.clone(),
            uncertainty: ctx.uncertainty,
            dose_response: k2sim::study::dose_response::dose_response(scenario, result.solver)?,
        },
        ctx.force_comparison,
    )?;
    let mut all: Vec<(String, Vec<u8>)> = rep.files.into_iter().chain(ctx.extra).collect();
    // report.html: the set above on one page, with the presets' validation status.
    let presets = preset_status()?;
    let html = report::html::page(&report::html::Page {
        description: scenario.description.as_deref(),
        run: Some(result),
        printed: Some(("Study summary", &ctx.extra_report)),
        presets: Some(&presets),
        ..report::html::Page::new(&scenario.name, &ctx.command, &all)
    });
    all.push(("report.html".into(), html.into_bytes()));
    vlog!(ctx.started, "rendered {} files", all.len());
    let written = replace_set_moving(ctx.dir, "run", &all, &ctx.moved)?;
    vlog!(ctx.started, "wrote {}", ctx.dir.display());
    if !ctx.quiet && !ctx.fig.no_figures {
        if let Some(h) = report::figure::scale_hint(scenario, result) {
            errln!("hint: {h}");
        }
    }
    if ctx.json {
        let summary = all
            .iter()
            .find(|(name, _)| name == "summary.json")
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned());
        return Ok(summary);
    }
    if !ctx.quiet {
        out!("{}", output::summary_table(scenario, result));
        if let Some(c) = &rep.comparison {
            outln!();
            out!("{}", c.to_markdown());
        }
        out!("{}", ctx.extra_report);
        outln!();
        for p in &written {
            outln!("wrote {}", p.display());
        }
        outln!(
            "done in {:.2} s{}",
            ctx.started.elapsed().as_secs_f64(),
            peak_memory_note()
        );
    }
    Ok(None)
}

/// Prints the notes of a run's regimens (e.g. why a steady state is missing) as warnings.
pub(super) fn print_notes(result: &run::RunResult) {
    for r in &result.regimens {
        for n in &r.notes {
            errln!("warning: regimen \"{}\": {n}", r.regimen.label);
        }
    }
}

/// ", peak memory N MB" from the kernel's record of this process (Linux), or nothing.
pub(super) fn peak_memory_note() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
        })
        .map_or(String::new(), |kb| {
            format!(", peak memory {} MB", kb / 1024)
        })
}

/// The bundled validation suite evaluated with the exact solver and counted per compound, for
/// report.html: computed on every run (about 0.1 s in a debug build), never a stored count.
pub(super) fn preset_status() -> Result<report::html::PresetStatus, Error> {
    let results = k2sim::scenario::case::bundled_cases()?
        .iter()
        .map(|c| k2sim::study::literature::evaluate(c, SolverKind::Exact))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(report::html::PresetStatus::of(&results))
}
