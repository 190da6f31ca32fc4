//! Command-line interface: argument parsing, orchestration and all terminal output.

mod fit;
mod study;
mod validate;
mod write;

use k2sim::model::SolverKind;
use write::{on_interrupt, write_set};

use k2sim::format::fmt_value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use k2sim::engine::run;
use k2sim::error::Error;
use k2sim::plot::Journal;
use k2sim::report::tables as output;
use k2sim::scenario::{self, AxisScale, Scenario};
use k2sim::units::ConcUnit;
use k2sim::{compound, plot, report};

const RUN_EXAMPLE: &str = "Example:\n  k2sim run scenarios/mk7_daily.toml\n  k2sim run scenarios/mk4_vs_mk7.toml --solver ode --out results/\n  k2sim run scenarios/natto_vs_capsule.toml --journal single --units nmol_l\n\nWrites timeseries.csv, summary.json, <name>.png/.svg/.txt (figure and its caption),\n<name>_steady_state.* (one interval at steady state) and, with several regimens,\ncomparison.md/.csv and <name>_panels.* into out/<scenario name>/ (or --out).";

const MERGE_EXAMPLE: &str = "Example (Slurm array job, 16 shards):\n  sbatch --array=1-16 --wrap 'k2sim run scenarios/population_year.toml --shard $SLURM_ARRAY_TASK_ID/16 --out shards/$SLURM_ARRAY_TASK_ID'\n  k2sim merge shards/* --out out/population_year\n\nThe merged files are byte-identical to those of one unsharded `k2sim run` (default figure options).";

const COMPARE_EXAMPLE: &str = "Example:\n  k2sim compare scenarios/mk7_daily.toml scenarios/mk4_daily.toml --units nmol_l\n  k2sim compare a.toml b.toml --reference \"MK-7 180 µg daily\" --threshold 1\n\nRuns each scenario, then writes the outputs of `run` for all their regimens together\ninto out/<name A>_vs_<name B>/ (or --out), with comparison.md/.csv.";

/// Pharmacokinetic simulation of vitamin K2 dosing regimens (MK-4, MK-7, K1).
#[derive(Debug, Parser)]
#[command(name = "k2sim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario file: concentration curves, steady-state metrics and a figure.
    #[command(after_help = RUN_EXAMPLE)]
    Run {
        /// The scenario file (TOML), e.g. scenarios/mk7_daily.toml.
        scenario: PathBuf,
        /// Output directory [default: out/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Solver, overriding the scenario's `solver` key.
        #[arg(long, value_enum)]
        solver: Option<SolverKind>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Reference regimen (label) of the comparison table [default: the first].
        #[arg(long)]
        reference: Option<String>,
        /// Compute only shard K of N of the population/sweep (e.g. 3/16) and write
        /// shard-K-of-N.json; combine the shards with `k2sim merge`.
        #[arg(long, value_parser = crate::cli::study::parse_shard)]
        shard: Option<k2sim::study::Shard>,
        #[command(flatten)]
        fig: FigureArgs,
    },
    /// Combine the shard files of `k2sim run --shard K/N` into the outputs of an unsharded run.
    #[command(after_help = MERGE_EXAMPLE)]
    Merge {
        /// Shard files, or directories holding shard-*.json.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output directory [default: out/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// One-at-a-time sensitivity: each parameter moved by ±delta %, the change of each metric.
    #[command(
        after_help = "Example:\n  k2sim sensitivity scenarios/mk7_daily.toml --delta-pct 20\n\nWrites sensitivity.csv and a tornado figure into out/<scenario name>/ (or --out)."
    )]
    Sensitivity {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Size of the change, % of each parameter's value.
        #[arg(long, default_value_t = 10.0)]
        delta_pct: f64,
        /// Output directory [default: out/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Solver, overriding the scenario's `solver` key.
        #[arg(long, value_enum)]
        solver: Option<SolverKind>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compare the regimens of several scenario files: metrics side by side with ratios to a
    /// reference, time above a threshold, and overlaid figures.
    #[command(after_help = COMPARE_EXAMPLE)]
    Compare {
        /// Scenario files (TOML); their regimen labels must differ.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Output directory [default: out/<name A>_vs_<name B>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Solver for every scenario [default: the first scenario's `solver`].
        #[arg(long, value_enum)]
        solver: Option<SolverKind>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Reference regimen (label) of the comparison table [default: the first].
        #[arg(long)]
        reference: Option<String>,
        /// Threshold (ng/mL) for time above it, overriding the scenarios' `threshold_ng_ml`.
        #[arg(long, value_name = "NG_ML")]
        threshold: Option<f64>,
        #[command(flatten)]
        fig: FigureArgs,
    },
    /// Estimate parameters from the scenario's observations (weighted least squares,
    /// Levenberg–Marquardt): estimates, standard errors, correlation, goodness-of-fit figures
    /// and the scenario with the fitted values.
    #[command(
        after_help = "Example:\n  k2sim fit tests/fixtures/observed/mk7_single.toml\n\nThe scenario needs observations ([[observed]] or observed_csv) and a [fit] table:\n  [fit]\n  params = [\"ka_per_h\", \"half_life_h\", \"v_l\"]\n  weighting = \"proportional\"   # or \"additive\"\n\nWrites fit.md, fit.json, <name>_fitted.toml and the figures into out/<name>_fit/ (or --out)."
    )]
    Fit {
        /// The scenario file (TOML) with observations and a [fit] table.
        scenario: PathBuf,
        /// Output directory [default: out/<scenario name>_fit].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Solver, overriding the scenario's `solver` key.
        #[arg(long, value_enum)]
        solver: Option<SolverKind>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run the bundled validation suite: published human studies against the model's
    /// predictions, with a table, validation.md/.csv and figures with the observed points.
    #[command(
        after_help = "Example:\n  k2sim validate\n  k2sim validate --solver ode --out out/validation\n\nExit code 1 when a check committed as passing (`expect = \"pass\"`) fails."
    )]
    Validate {
        /// Directory of validation cases (*.toml) [default: the bundled cases of validation/,
        /// compiled in, so this works from any directory].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "out/validation")]
        out: PathBuf,
        /// Solver for every case.
        #[arg(long, value_enum, default_value_t = SolverKind::Exact)]
        solver: SolverKind,
        /// Skip the figures (tables only).
        #[arg(long)]
        no_figures: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// List the compound presets with their values, units and sources.
    #[command(
        after_help = "Example:\n  k2sim compounds\n\nPrints, for mk4, mk7 and k1, each parameter with its value, unit, evidence tag\n([measured], [secondary], [derived] or [assumed]) and source. Use the ids in a\nscenario's `compound` key and override values under [regimen.params]."
    )]
    Compounds,
    /// List the foods a regimen can dose (`food = "natto"`), with K2 content and sources.
    #[command(after_help = "Example:\n  k2sim foods")]
    Foods,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Without a handler the default action (terminate) is also safe: nothing half-written is
    // ever visible. The handler only adds the guarantee that no staging directory remains.
    let _ = ctrlc::set_handler(on_interrupt);
    let result = match cli.command {
        Command::Run {
            scenario,
            out,
            solver,
            quiet,
            reference,
            shard,
            fig,
        } => run_command(&scenario, out, solver, quiet, reference, shard, &fig),
        Command::Merge { inputs, out, quiet } => merge_command(&inputs, out, quiet),
        Command::Sensitivity {
            scenario,
            delta_pct,
            out,
            solver,
            quiet,
        } => sensitivity_command(&scenario, delta_pct, out, solver, quiet),
        Command::Compare {
            scenarios,
            out,
            solver,
            quiet,
            reference,
            threshold,
            fig,
        } => compare_command(&scenarios, out, solver, quiet, reference, threshold, &fig),
        Command::Fit {
            scenario,
            out,
            solver,
            quiet,
        } => crate::cli::fit::fit_command(&scenario, out, solver, quiet),
        Command::Validate {
            dir,
            out,
            solver,
            no_figures,
            quiet,
        } => crate::cli::validate::validate_command(crate::cli::validate::ValidateArgs {
            dir,
            out,
            solver,
            no_figures,
            quiet,
        }),
        Command::Compounds => {
            print!("{}", compounds_table());
            Ok(())
        }
        Command::Foods => {
            print!("{}", k2sim::foods::table_text());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Figure and unit options shared by `run` and `compare`.
#[derive(Debug, Default, clap::Args)]
struct FigureArgs {
    /// Concentration unit of tables and figures, overriding `[plot] units`.
    #[arg(long, value_enum)]
    units: Option<UnitArg>,
    /// Logarithmic concentration axis, overriding `[plot] y_scale`.
    #[arg(long)]
    log: bool,
    /// Shade the span where every regimen is at ≥ 90 % of steady state.
    #[arg(long)]
    shade_ss: bool,
    /// Figure width in pixels [default: `[plot] width_px`, 1800].
    #[arg(long, value_parser = clap::value_parser!(u32).range(100..=10_000))]
    width: Option<u32>,
    /// Figure height in pixels [default: `[plot] height_px`, 1100].
    #[arg(long, value_parser = clap::value_parser!(u32).range(100..=10_000))]
    height: Option<u32>,
    /// Print resolution: recorded in the PNG, and text is sized for legibility at it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(50..=2400))]
    dpi: Option<u32>,
    /// Journal preset at 300 dpi: single (85 mm wide) or double column (175 mm); --width,
    /// --height and --dpi override its parts.
    #[arg(long, value_enum)]
    journal: Option<Journal>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum UnitArg {
    #[value(name = "ng_ml")]
    NgMl,
    #[value(name = "nmol_l")]
    NmolL,
}

impl FigureArgs {
    /// Applies the unit and axis options to a scenario's plot settings.
    fn apply(&self, s: &mut Scenario) {
        if let Some(u) = self.units {
            s.plot.units = match u {
                UnitArg::NgMl => ConcUnit::NgMl,
                UnitArg::NmolL => ConcUnit::NmolL,
            };
        }
        if self.log {
            s.plot.y_scale = AxisScale::Log;
        }
        if self.shade_ss {
            s.plot.shade_steady_state = true;
        }
    }

    /// Render options: the journal preset or the scenario's size, then explicit options.
    fn render(&self, s: &Scenario) -> plot::RenderOptions {
        let mut o = self.journal.map_or(
            plot::RenderOptions {
                width_px: s.plot.width_px,
                height_px: s.plot.height_px,
                dpi: None,
            },
            Journal::options,
        );
        if let Some(w) = self.width {
            o.width_px = w;
        }
        if let Some(h) = self.height {
            o.height_px = h;
        }
        if let Some(d) = self.dpi {
            o.dpi = Some(d);
        }
        o
    }
}

/// The command line as a reader could repeat it, for the caption files: without the output
/// directory and quiet flag, which do not change the figure.
pub fn command_line() -> String {
    let mut parts = vec!["k2sim".to_string()];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--out" {
            args.next();
            continue;
        }
        if a == "--shard" {
            args.next();
            continue;
        }
        if a.starts_with("--out=") || a.starts_with("--shard=") || a == "-q" || a == "--quiet" {
            continue;
        }
        parts.push(if a.contains(' ') {
            format!("\"{a}\"")
        } else {
            a
        });
    }
    parts.join(" ")
}

fn option_error(message: String) -> Error {
    Error::Usage { message }
}

#[allow(clippy::too_many_arguments)]
fn run_command(
    path: &Path,
    out: Option<PathBuf>,
    solver: Option<SolverKind>,
    quiet: bool,
    reference: Option<String>,
    shard: Option<k2sim::study::Shard>,
    fig: &FigureArgs,
) -> Result<(), Error> {
    let started = Instant::now();
    let mut scenario = scenario::load(path)?;
    fig.apply(&mut scenario);
    for w in &scenario.warnings {
        eprintln!("warning: {w}");
    }
    let solver = solver.unwrap_or(scenario.solver);
    let dir = out.unwrap_or_else(|| {
        Path::new("out").join(k2sim::format::sanitize_file_stem(&scenario.name))
    });
    if let Some(shard) = shard {
        if scenario.population.is_none() && scenario.sweep.is_none() {
            return Err(option_error(format!(
                "{}: --shard splits a [population] or [sweep], and this scenario has neither\n  help: run it without --shard",
                path.display()
            )));
        }
        let written = crate::cli::study::write_shard(
            path,
            &scenario,
            solver,
            shard,
            &dir,
            quiet,
            &command_line(),
        )?;
        if !quiet {
            println!("wrote {}", written.display());
            println!(
                "done in {:.2} s{}",
                started.elapsed().as_secs_f64(),
                peak_memory_note()
            );
        }
        return Ok(());
    }
    let result = run::run(&scenario, solver)?;
    print_notes(&result);
    let study = crate::cli::study::compute(&scenario, solver, k2sim::study::Shard::WHOLE, quiet)?;
    let extra = crate::cli::study::study_files(
        &scenario,
        &result,
        &study,
        &fig.render(&scenario),
        &command_line(),
    )?;
    let report = crate::cli::study::study_report(&scenario, &study);
    let ctx = Finish {
        reference,
        fig,
        dir: &dir,
        quiet,
        started,
        force_comparison: false,
        command: command_line(),
        extra,
        extra_report: report,
    };
    finish(&scenario, &result, ctx)
}

fn merge_command(inputs: &[PathBuf], out: Option<PathBuf>, quiet: bool) -> Result<(), Error> {
    let started = Instant::now();
    let (scenario, solver, command, study) = crate::cli::study::read_and_merge(inputs)?;
    let result = run::run(&scenario, solver)?;
    print_notes(&result);
    let fig = FigureArgs::default();
    let dir = out.unwrap_or_else(|| {
        Path::new("out").join(k2sim::format::sanitize_file_stem(&scenario.name))
    });
    let extra = crate::cli::study::study_files(
        &scenario,
        &result,
        &study,
        &fig.render(&scenario),
        &command,
    )?;
    let report = crate::cli::study::study_report(&scenario, &study);
    let ctx = Finish {
        reference: None,
        fig: &fig,
        dir: &dir,
        quiet,
        started,
        force_comparison: false,
        command,
        extra,
        extra_report: report,
    };
    finish(&scenario, &result, ctx)
}

fn sensitivity_command(
    path: &Path,
    delta_pct: f64,
    out: Option<PathBuf>,
    solver: Option<SolverKind>,
    quiet: bool,
) -> Result<(), Error> {
    if !(delta_pct.is_finite() && delta_pct > 0.0 && delta_pct < 100.0) {
        return Err(option_error(format!(
            "--delta-pct {delta_pct} is out of range\n  help: give a change between 0 and 100 (%), e.g. --delta-pct 10"
        )));
    }
    let scenario = scenario::load(path)?;
    let solver = solver.unwrap_or(scenario.solver);
    let render = FigureArgs::default().render(&scenario);
    let (files, report) = crate::cli::study::sensitivity_files(
        &scenario,
        solver,
        delta_pct,
        &render,
        &command_line(),
    )?;
    let dir = out.unwrap_or_else(|| {
        Path::new("out").join(k2sim::format::sanitize_file_stem(&scenario.name))
    });
    for p in write_set(&dir, &files)? {
        if !quiet {
            println!("wrote {}", p.display());
        }
    }
    if !quiet {
        print!("{report}");
    }
    Ok(())
}

/// ", peak memory N MB" from the kernel's record of this process (Linux), or nothing.
fn peak_memory_note() -> String {
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

#[allow(clippy::too_many_arguments)]
fn compare_command(
    paths: &[PathBuf],
    out: Option<PathBuf>,
    solver: Option<SolverKind>,
    quiet: bool,
    reference: Option<String>,
    threshold: Option<f64>,
    fig: &FigureArgs,
) -> Result<(), Error> {
    let started = Instant::now();
    let mut scenarios = Vec::new();
    for p in paths {
        let mut s = scenario::load(p)?;
        fig.apply(&mut s);
        for w in &s.warnings {
            eprintln!("warning: {w}");
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
        quiet,
        started,
        force_comparison: true,
        command: command_line(),
        extra: Vec::new(),
        extra_report: String::new(),
    };
    finish(&merged, &result, ctx)
}

/// How to finish a run: options, destination and the study's extra outputs.
struct Finish<'a> {
    reference: Option<String>,
    fig: &'a FigureArgs,
    dir: &'a Path,
    quiet: bool,
    started: Instant,
    force_comparison: bool,
    /// The command line recorded in caption files.
    command: String,
    /// Files of the population/sweep, already rendered.
    extra: Vec<(String, Vec<u8>)>,
    /// Their printed part.
    extra_report: String,
}

/// Renders every output, then writes them (atomically) and prints the tables.
fn finish(scenario: &Scenario, result: &run::RunResult, ctx: Finish) -> Result<(), Error> {
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
            command: ctx.command,
        },
        ctx.force_comparison,
    )?;
    let all: Vec<(String, Vec<u8>)> = rep.files.into_iter().chain(ctx.extra).collect();
    let written = write_set(ctx.dir, &all)?;
    if !ctx.quiet {
        print!("{}", output::summary_table(scenario, result));
        if let Some(c) = &rep.comparison {
            println!();
            print!("{}", c.to_markdown());
        }
        print!("{}", ctx.extra_report);
        println!();
        for p in &written {
            println!("wrote {}", p.display());
        }
        println!(
            "done in {:.2} s{}",
            ctx.started.elapsed().as_secs_f64(),
            peak_memory_note()
        );
    }
    Ok(())
}

fn compounds_table() -> String {
    let mut s = String::new();
    for c in compound::presets() {
        s.push_str(&format!(
            "{} — {} ({} g/mol)\n",
            c.id,
            c.name,
            fmt_value(c.molar_mass_g_mol)
        ));
        for (name, unit, p) in [
            ("ka_per_h", "1/h", &c.ka_per_h),
            ("half_life_h", "h", &c.half_life_h),
            ("v_l", "L", &c.v_l),
            ("f", "", &c.f),
            ("tlag_h", "h", &c.tlag_h),
            ("baseline_ng_ml", "ng/mL", &c.baseline_ng_ml),
        ] {
            let v = format!(
                "{} {unit}",
                k2sim::format::fmt_sig(p.value)
                    .parse::<f64>()
                    .map_or(p.value.to_string(), |x| format!("{:.4}", x)
                        .trim_end_matches('0')
                        .trim_end_matches('.')
                        .to_string())
            );
            s.push_str(&format!(
                "  {name:<15} {:<14} [{}] {}\n",
                v.trim(),
                p.evidence.tag(),
                p.source
            ));
        }
        s.push_str(&format!("  note: {}\n\n", c.notes));
    }
    s
}

/// Prints the notes of a run's regimens (e.g. why a steady state is missing) as warnings.
fn print_notes(result: &run::RunResult) {
    for r in &result.regimens {
        for n in &r.notes {
            eprintln!("warning: regimen \"{}\": {n}", r.regimen.label);
        }
    }
}
