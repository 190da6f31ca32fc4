//! Command-line interface: argument parsing, orchestration and all terminal output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use k2sim::error::{Error, InputError, InputErrorKind};
use k2sim::scenario::{self, fmt_value, SolverKind};
use k2sim::{compound, figure, output, plot, run};

const MERGE_EXAMPLE: &str = "Example (Slurm array job, 16 shards):\n  sbatch --array=1-16 --wrap 'k2sim run scenarios/population_year.toml --shard $SLURM_ARRAY_TASK_ID/16 --out shards/$SLURM_ARRAY_TASK_ID'\n  k2sim merge shards/* --out out/population_year";

const RUN_EXAMPLE: &str = "Example:\n  k2sim run scenarios/mk7_daily.toml\n  k2sim run scenarios/mk4_vs_mk7.toml --solver ode --out results/\n\nWrites timeseries.csv, summary.json and <name>.png/.svg into out/<scenario name>/ (or --out).";

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
        /// Compute only shard K of N of the population/sweep (e.g. 3/16) and write
        /// shard-K-of-N.json; combine the shards with `k2sim merge`.
        #[arg(long, value_parser = crate::cli_study::parse_shard)]
        shard: Option<k2sim::study::Shard>,
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
        after_help = "Example:\n  k2sim sensitivity scenarios/mk7_daily.toml --delta-pct 20\n\nWrites sensitivity.csv into out/<scenario name>/ (or --out)."
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
    /// List the compound presets with their values, units and sources.
    #[command(after_help = "Example:\n  k2sim compounds")]
    Compounds,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            scenario,
            out,
            solver,
            quiet,
            shard,
        } => run_command(&scenario, out, solver, quiet, shard),
        Command::Merge { inputs, out, quiet } => merge_command(&inputs, out, quiet),
        Command::Sensitivity {
            scenario,
            delta_pct,
            out,
            solver,
            quiet,
        } => sensitivity_command(&scenario, delta_pct, out, solver, quiet),
        Command::Compounds => {
            print!("{}", compounds_table());
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

fn run_command(
    path: &Path,
    out: Option<PathBuf>,
    solver: Option<SolverKind>,
    quiet: bool,
    shard: Option<k2sim::study::Shard>,
) -> Result<(), Error> {
    let started = Instant::now();
    let scenario = scenario::load(path)?;
    for w in &scenario.warnings {
        eprintln!("warning: {w}");
    }
    let solver = solver.unwrap_or(scenario.solver);
    let stem = output::sanitize_file_stem(&scenario.name);
    let dir = out.unwrap_or_else(|| Path::new("out").join(&stem));
    if let Some(shard) = shard {
        if scenario.population.is_none() && scenario.sweep.is_none() {
            return Err(Error::Input(
                InputError {
                    location: Default::default(),
                    kind: Box::new(InputErrorKind::Option {
                        message:
                            "--shard splits a [population] or [sweep]; this scenario has neither"
                                .into(),
                    }),
                }
                .in_file(path),
            ));
        }
        let written = crate::cli_study::write_shard(path, &scenario, solver, shard, &dir, quiet)?;
        if !quiet {
            println!("wrote {}", written.display());
            println!("done in {:.2} s", started.elapsed().as_secs_f64());
        }
        return Ok(());
    }
    let result = run::run(&scenario, solver)?;
    let study = crate::cli_study::compute(&scenario, solver, k2sim::study::Shard::WHOLE, quiet)?;
    // Everything is rendered to bytes before the first file is touched.
    let mut files = base_files(&scenario, &result)?;
    files.extend(crate::cli_study::study_files(&scenario, solver, &study)?);
    let written = write_files(&dir, &files)?;
    if !quiet {
        print!("{}", output::summary_table(&scenario, &result));
        print!("{}", crate::cli_study::study_report(&scenario, &study));
        println!();
        for p in &written {
            println!("wrote {}", p.display());
        }
        println!(
            "done in {:.2} s{}",
            started.elapsed().as_secs_f64(),
            peak_memory_note()
        );
    }
    Ok(())
}

/// ", peak memory N MB" from the kernel's record of this process (Linux), or nothing.
fn peak_memory_note() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| {
                    l.strip_prefix("VmHWM:")
                        .map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                })
                .flatten()
        })
        .map_or(String::new(), |kb| {
            format!(", peak memory {} MB", kb / 1024)
        })
}

/// The outputs of a plain run: time series, summary and the concentration figure.
fn base_files(
    scenario: &scenario::Scenario,
    result: &run::RunResult,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let stem = output::sanitize_file_stem(&scenario.name);
    let fig = figure::concentration_figure(scenario, result);
    let opts = plot::RenderOptions {
        width_px: scenario.plot.width_px,
        height_px: scenario.plot.height_px,
    };
    let png = plot::render_png(&fig, &opts)?;
    let svg = plot::render_svg(&fig, &opts)?;
    Ok(vec![
        ("timeseries.csv".into(), output::timeseries_csv(result)?),
        (
            "summary.json".into(),
            output::summary_json(scenario, result)?,
        ),
        (format!("{stem}.png"), png),
        (format!("{stem}.svg"), svg.into_bytes()),
    ])
}

/// Writes each file atomically into `dir`; returns the paths written.
fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let p = dir.join(name);
        output::write_atomic(&p, bytes)?;
        written.push(p);
    }
    Ok(written)
}

fn merge_command(inputs: &[PathBuf], out: Option<PathBuf>, quiet: bool) -> Result<(), Error> {
    let started = Instant::now();
    let (scenario, solver, study) = crate::cli_study::read_and_merge(inputs)?;
    let result = run::run(&scenario, solver)?;
    let mut files = base_files(&scenario, &result)?;
    files.extend(crate::cli_study::study_files(&scenario, solver, &study)?);
    let dir =
        out.unwrap_or_else(|| Path::new("out").join(output::sanitize_file_stem(&scenario.name)));
    let written = write_files(&dir, &files)?;
    if !quiet {
        print!("{}", crate::cli_study::study_report(&scenario, &study));
        for p in &written {
            println!("wrote {}", p.display());
        }
        println!(
            "merged {} input(s) in {:.2} s",
            inputs.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn sensitivity_command(
    path: &Path,
    delta_pct: f64,
    out: Option<PathBuf>,
    solver: Option<SolverKind>,
    quiet: bool,
) -> Result<(), Error> {
    if !(delta_pct.is_finite() && delta_pct > 0.0 && delta_pct < 100.0) {
        return Err(Error::Input(InputError { location: Default::default(), kind: Box::new(InputErrorKind::Option { message: format!("--delta-pct {delta_pct}: give a change between 0 and 100 (%), e.g. --delta-pct 10") }) }));
    }
    let scenario = scenario::load(path)?;
    let solver = solver.unwrap_or(scenario.solver);
    let (files, report) = crate::cli_study::sensitivity_files(&scenario, solver, delta_pct)?;
    let dir =
        out.unwrap_or_else(|| Path::new("out").join(output::sanitize_file_stem(&scenario.name)));
    let written = write_files(&dir, &files)?;
    if !quiet {
        print!("{report}");
        for p in &written {
            println!("wrote {}", p.display());
        }
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
                output::fmt_sig(p.value)
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
