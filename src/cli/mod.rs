//! Command-line interface: argument parsing, orchestration and all terminal output.

/// `print!` to standard output that ends the process quietly (exit 0) when the reader has gone
/// away (`k2sim run … | head -1`): Rust's `print!` panics on a broken pipe. Output files are
/// always committed before anything is printed, so stopping here loses nothing.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(&format!($($arg)*))
    };
}

/// `println!` with the broken-pipe behaviour of [`out!`].
macro_rules! outln {
    () => {
        $crate::cli::write_stdout("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(&format!("{}\n", format!($($arg)*)))
    };
}

/// `eprintln!` for text that may hold a user's labels, names or paths: control characters are
/// escaped ([`k2sim::format::terminal_safe`]), so they cannot drive the terminal.
macro_rules! errln {
    ($($arg:tt)*) => {
        eprintln!("{}", k2sim::format::terminal_safe(&format!($($arg)*)))
    };
}

/// Under `--verbose`: one line on standard error, with the seconds since `$start`.
macro_rules! vlog {
    ($start:expr, $($arg:tt)*) => {
        if $crate::cli::verbose() {
            errln!("[{:8.3} s] {}", $start.elapsed().as_secs_f64(), format!($($arg)*));
        }
    };
}

mod compare;
mod fit;
mod merge;
mod nca;
mod run;
mod sensitivity;
mod spill;
mod study;
mod validate;
mod write;

use k2sim::model::SolverKind;
use write::on_interrupt;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use k2sim::error::Error;
use k2sim::plot::Journal;
use k2sim::scenario::{AxisScale, Scenario};
use k2sim::units::ConcUnit;
use k2sim::{plot, report};

const RUN_EXAMPLE: &str = "Example:\n  k2sim run scenarios/mk7_daily.toml\n  k2sim run scenarios/mk4_vs_mk7.toml --solver ode --out results/\n  k2sim run scenarios/natto_vs_capsule.toml --journal single --units nmol_l\n\nWrites timeseries.csv, summary.json, <name>.png/.svg/.txt (figure and its caption),\n<name>_steady_state.* (one interval at steady state) and, with several regimens,\ncomparison.md/.csv and <name>_panels.* into out/<scenario name>/ (or --out).";

const MERGE_EXAMPLE: &str = "Example (Slurm array job, 16 shards):\n  sbatch --array=1-16 --wrap 'k2sim run scenarios/population_year.toml --shard $SLURM_ARRAY_TASK_ID/16 --out shards/$SLURM_ARRAY_TASK_ID'\n  k2sim merge shards/* --out out/population_year\n\nThe merged files are byte-identical to those of one unsharded `k2sim run` (default figure options).";

const NCA_EXAMPLE: &str = "Example:\n  k2sim nca scenarios/observed_profile_nca.csv\n  k2sim nca trial.csv --out results/nca\n\nThe long table has one row per sample: id,time_h,conc_ng_ml (time in h after the dose,\nconcentration in ng/mL; 0 or BLQ below the limit of quantification, empty or NA missing)\nand optionally dose_ug (µg), which adds CL/F and Vz/F to nca.md. Writes nca.csv, nca.md and, per subject, nca_<id>.png/.svg/.txt\n(log axis, λz line, the samples it used, Cmax and Clast) into out/<file name>_nca/ (or --out).";

const COMPARE_EXAMPLE: &str = "Example:\n  k2sim compare scenarios/mk7_daily.toml scenarios/mk4_daily.toml --units nmol_l\n  k2sim compare a.toml b.toml --reference \"MK-7 180 µg daily\" --threshold 1\n\nRuns each scenario, then writes the outputs of `run` for all their regimens together\ninto out/<name A>_vs_<name B>/ (or --out), with comparison.md/.csv.";

/// Pharmacokinetic simulation of vitamin K2 dosing regimens (MK-4, MK-7, K1).
#[derive(Debug, Parser)]
#[command(name = "k2sim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print nothing but errors (no tables, no file list, no progress bar).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Also print each phase with its time and the thread count, on standard error.
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// Read the files a scenario names (`observed_csv`, `dataset`) also outside its folder
    /// (by default they must be under it, so a scenario from elsewhere cannot read other files).
    #[arg(long, global = true)]
    allow_outside: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario file: concentration curves, steady-state metrics and a figure.
    #[command(after_help = RUN_EXAMPLE)]
    Run {
        /// Scenario files (TOML), e.g. scenarios/mk7_daily.toml; `-` reads one from standard
        /// input. Several are run one after another, each into out/<its name>/.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Output directory [default: out/<scenario name>]; with several scenarios, the
        /// directory that holds one folder per scenario.
        #[arg(long, value_parser = parse_out_dir)]
        out: Option<PathBuf>,
        /// Print summary.json to standard output instead of the tables (with several
        /// scenarios, a JSON array of them); the files are written as usual.
        #[arg(long)]
        json: bool,
        /// Solver, overriding the scenario's `solver` key.
        #[arg(long, value_enum)]
        solver: Option<SolverKind>,
        /// Reference regimen (label) of the comparison table [default: the first].
        #[arg(long)]
        reference: Option<String>,
        /// Compute only shard K of N of the population/sweep (e.g. 3/16) and write
        /// shard-K-of-N.json; combine the shards with `k2sim merge`.
        #[arg(long, value_parser = crate::cli::study::parse_shard)]
        shard: Option<k2sim::study::Shard>,
        /// With --shard: compute the shard even when a valid shard-K-of-N.json of the same
        /// scenario content and solver is already in the output directory (it is kept otherwise).
        #[arg(long, requires = "shard")]
        force: bool,
        /// Sample every preset parameter over its plausible range (`k2sim compounds`) and report
        /// each metric's 5–95 % interval, flagged robust or uncertain, with bands in the figures
        /// (uncertainty.csv, summary.json); draws and seed from `[uncertainty]`, else 1000 and 1.
        #[arg(long)]
        uncertainty: bool,
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
        #[arg(long, value_parser = parse_out_dir)]
        out: Option<PathBuf>,
        /// Verify every shard and list the missing ones, without writing the outputs.
        #[arg(long)]
        check: bool,
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
        #[arg(long, value_parser = parse_out_dir)]
        out: Option<PathBuf>,
        /// Solver, overriding the scenario's `solver` key.
        #[arg(long, value_enum)]
        solver: Option<SolverKind>,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Compare the regimens of several scenario files: metrics side by side with ratios to a
    /// reference, time above a threshold, and overlaid figures.
    #[command(after_help = COMPARE_EXAMPLE)]
    Compare {
        /// Scenario files (TOML); their regimen labels must differ.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Output directory [default: out/<name A>_vs_<name B>].
        #[arg(long, value_parser = parse_out_dir)]
        out: Option<PathBuf>,
        /// Solver for every scenario [default: the first scenario's `solver`].
        #[arg(long, value_enum)]
        solver: Option<SolverKind>,
        /// Reference regimen (label) of the comparison table [default: the first].
        #[arg(long)]
        reference: Option<String>,
        /// Print summary.json to standard output instead of the tables.
        #[arg(long)]
        json: bool,
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
        #[arg(long, value_parser = parse_out_dir)]
        out: Option<PathBuf>,
        /// Solver, overriding the scenario's `solver` key.
        #[arg(long, value_enum)]
        solver: Option<SolverKind>,
        #[command(flatten)]
        size: SizeArgs,
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
        #[arg(long, default_value = "out/validation", value_parser = parse_out_dir)]
        out: PathBuf,
        /// Solver for every case.
        #[arg(long, value_enum, default_value_t = SolverKind::Exact)]
        solver: SolverKind,
        /// Skip the figures (tables only).
        #[arg(long)]
        no_figures: bool,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Non-compartmental analysis of measured concentrations with PKNCA's default rules: one
    /// row per subject in nca.csv (PKNCA's names) and nca.md (units, rules, why a value is
    /// missing).
    #[command(after_help = NCA_EXAMPLE)]
    Nca {
        /// The data (CSV): `id,time_h,conc_ng_ml[,dose_ug]`, or a NONMEM-style dataset with ID,
        /// TIME, DV (and AMT, EVID, MDV).
        file: PathBuf,
        /// Output directory [default: out/<file name>_nca].
        #[arg(long, value_parser = parse_out_dir)]
        out: Option<PathBuf>,
        /// Skip the figures (tables only).
        #[arg(long)]
        no_figures: bool,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// List the compound presets with their values, units and sources.
    #[command(
        after_help = "Example:\n  k2sim compounds\n\nPrints, for mk4, mk7 and k1, each parameter with its value, unit, evidence tag\n([measured], [secondary], [derived] or [assumed]), source and plausible range. Use the ids in a\nscenario's `compound` key and override values under [regimen.params]. With --json:\nthe same as data (value, unit, evidence, source, range) for scripts."
    )]
    Compounds {
        /// Print the presets as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the foods a regimen can dose (`food = "natto"`), with K2 content and sources.
    #[command(after_help = "Example:\n  k2sim foods")]
    Foods,
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    #[command(
        after_help = "Example:\n  k2sim completions bash > ~/.local/share/bash-completion/completions/k2sim\n  k2sim completions zsh > ~/.zfunc/_k2sim\n  k2sim completions fish > ~/.config/fish/completions/k2sim.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of k2sim or of one of its commands.
    #[command(after_help = "Example:\n  k2sim man | man -l -\n  k2sim man run > k2sim-run.1")]
    Man {
        /// A command (run, compare, fit, ...) [default: k2sim itself].
        command: Option<String>,
    },
}

/// `--verbose`: print phases and their times on standard error.
static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--quiet`: no progress bars either.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--allow-outside`: files named by a scenario may be anywhere.
static ALLOW_OUTSIDE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Where the files a scenario names may be read (`--allow-outside`).
pub(crate) fn reach() -> k2sim::scenario::Reach {
    if ALLOW_OUTSIDE.load(std::sync::atomic::Ordering::Relaxed) {
        k2sim::scenario::Reach::Anywhere
    } else {
        k2sim::scenario::Reach::ScenarioFolder
    }
}

/// Whether `--quiet` was given.
pub(crate) fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether `--verbose` was given.
pub(crate) fn verbose() -> bool {
    VERBOSE.load(std::sync::atomic::Ordering::Relaxed)
}

/// The man page of k2sim, or of one command (`k2sim-run(1)`), on standard output.
fn man_page(command: Option<&str>) -> Result<(), Error> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    cmd.build();
    let page = match command {
        None => cmd,
        Some(name) => {
            let names: Vec<String> = cmd
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let Some(sub) = cmd.find_subcommand(name) else {
                return Err(option_error(format!(
                    "`{name}` is not a k2sim command\n  help: the commands are {}",
                    names.join(", ")
                )));
            };
            // clap names need 'static text; one leaked string per process is harmless.
            let sub_name: &'static str = Box::leak(format!("k2sim-{name}").into_boxed_str());
            sub.clone().name(sub_name)
        }
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut buf)
        .map_err(|e| Error::serialize("man page", e))?;
    out!("{}", String::from_utf8_lossy(&buf));
    Ok(())
}

pub fn main() -> ExitCode {
    let cli = parse_command_line();
    threads_from_slurm();
    // Without a handler the default action (terminate) is also safe: nothing half-written is
    // ever visible. The handler only adds the guarantee that no staging directory remains.
    let _ = ctrlc::set_handler(on_interrupt);
    let quiet = cli.quiet;
    VERBOSE.store(cli.verbose, std::sync::atomic::Ordering::Relaxed);
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    ALLOW_OUTSIDE.store(cli.allow_outside, std::sync::atomic::Ordering::Relaxed);
    if cli.verbose {
        let n = rayon::current_num_threads();
        eprintln!(
            "k2sim {} on {n} thread{}",
            env!("CARGO_PKG_VERSION"),
            if n == 1 { "" } else { "s" }
        );
    }
    let result = match cli.command {
        Command::Run {
            scenarios,
            out,
            json,
            solver,
            reference,
            shard,
            force,
            uncertainty,
            fig,
        } => run::run_many(
            &scenarios,
            &run::RunArgs {
                out,
                solver,
                quiet,
                json,
                reference,
                shard,
                force,
                uncertainty,
                fig: &fig,
            },
        ),
        Command::Merge { inputs, out, check } => merge::merge_command(&inputs, out, quiet, check),
        Command::Sensitivity {
            scenario,
            delta_pct,
            out,
            solver,
            size,
        } => sensitivity::sensitivity_command(&scenario, delta_pct, out, solver, quiet, &size),
        Command::Compare {
            scenarios,
            out,
            json,
            solver,
            reference,
            threshold,
            fig,
        } => compare::compare_command(
            &scenarios, out, solver, quiet, json, reference, threshold, &fig,
        ),
        Command::Fit {
            scenario,
            out,
            solver,
            size,
        } => {
            crate::cli::fit::fit_command(&scenario, out, solver, quiet, size.render(small_figure()))
        }
        Command::Validate {
            dir,
            out,
            solver,
            no_figures,
            size,
        } => crate::cli::validate::validate_command(crate::cli::validate::ValidateArgs {
            dir,
            out,
            solver,
            render: (!no_figures).then(|| size.render(small_figure())),
            quiet,
        }),
        Command::Nca {
            file,
            out,
            no_figures,
            size,
        } => {
            let render = (!no_figures).then(|| size.render(plot::RenderOptions::default()));
            crate::cli::nca::nca_command(&file, out, render, quiet)
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "k2sim",
                &mut buf,
            );
            out!("{}", String::from_utf8_lossy(&buf));
            Ok(())
        }
        Command::Man { command } => man_page(command.as_deref()),
        Command::Compounds { json: false } => {
            out!("{}", report::compounds::compounds_text());
            Ok(())
        }
        Command::Compounds { json: true } => match report::compounds::compounds_json() {
            Ok(s) => {
                out!("{s}");
                Ok(())
            }
            Err(e) => Err(k2sim::error::Error::serialize("compounds --json", e)),
        },
        Command::Foods => {
            out!("{}", k2sim::foods::table_text());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// The command line, parsed by clap. clap quotes a refused value in its message as given, so
/// an argument with control characters is parsed without colours and the message printed with
/// them escaped ([`k2sim::format::terminal_safe`]); any other command line is clap's as usual.
fn parse_command_line() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let risky = std::env::args_os()
        .any(|a| k2sim::format::terminal_safe(&a.to_string_lossy()) != a.to_string_lossy());
    if !risky {
        return Cli::parse();
    }
    let matches = Cli::command()
        .styles(clap::builder::Styles::plain())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    matches.unwrap_or_else(|e| {
        let text = e.render().ansi().to_string();
        let text = k2sim::format::terminal_safe(&text);
        if e.use_stderr() {
            eprint!("{text}");
        } else {
            write_stdout(&text);
        }
        std::process::exit(e.exit_code())
    })
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
    /// Write no figures (tables, summary and captions of nothing): for number crunching.
    #[arg(long, conflicts_with = "formats")]
    no_figures: bool,
    #[command(flatten)]
    size: SizeArgs,
}

/// Figure size options, shared by every command that draws.
#[derive(Debug, Default, clap::Args)]
struct SizeArgs {
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
    /// Figure formats, comma-separated: png, svg, pdf (fonts embedded), tiff (LZW)
    /// [default: `[plot] formats`, png,svg].
    #[arg(long, value_parser = parse_formats, value_name = "LIST")]
    formats: Option<plot::Formats>,
    /// Only what goes inside a journal's figure frame: no title or subtitle (the caption file
    /// keeps them); also `[plot] title = false`.
    #[arg(long)]
    bare: bool,
}

/// The default size of the fit and validation figures: 1200 × 750 px (102 × 64 mm at 300 dpi).
fn small_figure() -> plot::RenderOptions {
    plot::RenderOptions {
        width_px: 1200,
        height_px: 750,
        ..plot::RenderOptions::default()
    }
}

fn parse_formats(text: &str) -> Result<plot::Formats, String> {
    plot::Formats::parse_list(text)
}

impl SizeArgs {
    /// Render options from a scenario's `[plot]`, then these options.
    fn render_for(&self, s: &Scenario) -> plot::RenderOptions {
        self.render(plot::RenderOptions {
            width_px: s.plot.width_px,
            height_px: s.plot.height_px,
            dpi: s.plot.dpi,
            bare: s.plot.bare,
            formats: s.plot.formats,
        })
    }

    /// Render options: `base`, then the journal preset's size and resolution, then the
    /// explicit options.
    fn render(&self, base: plot::RenderOptions) -> plot::RenderOptions {
        let mut o = base;
        if let Some(j) = self.journal {
            let p = j.options();
            (o.width_px, o.height_px, o.dpi) = (p.width_px, p.height_px, p.dpi);
        }
        if let Some(w) = self.width {
            o.width_px = w;
        }
        if let Some(h) = self.height {
            o.height_px = h;
        }
        if let Some(d) = self.dpi {
            o.dpi = d;
        }
        if let Some(f) = self.formats {
            o.formats = f;
        }
        o.bare |= self.bare;
        o
    }
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

    /// Render options: the scenario's `[plot]`, the journal preset, then explicit options;
    /// `--no-figures` leaves no format.
    fn render(&self, s: &Scenario) -> plot::RenderOptions {
        let mut o = self.size.render_for(s);
        if self.no_figures {
            o.formats = plot::Formats::EMPTY;
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

/// Under Slurm, the threads of the allocation: `SLURM_CPUS_PER_TASK` sets the thread count
/// when `RAYON_NUM_THREADS` is unset (rayon would otherwise take every core of the node, not
/// the task's share).
fn threads_from_slurm() {
    if std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return;
    }
    let Some(n) = std::env::var("SLURM_CPUS_PER_TASK")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    else {
        return;
    };
    // Fails only if the pool was built already, which nothing does before this.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
}

/// `--out`: a directory on a file system. URLs (`s3://…`, any `scheme://`) are refused: k2sim
/// writes with rename on a local or shared file system, and `s3://b/x` would otherwise become
/// a folder named `s3:`.
fn parse_out_dir(text: &str) -> Result<PathBuf, String> {
    if let Some((scheme, _)) = text.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(format!(
                "`{text}` is a URL; k2sim writes to a directory on a local or shared file system (NFS, Lustre, GPFS), not to object storage\n  help: give a path, e.g. --out results/run1, and copy the folder afterwards (e.g. `aws s3 cp --recursive results/run1 {text}`)"
            ));
        }
    }
    Ok(PathBuf::from(text))
}

pub(crate) fn option_error(message: String) -> Error {
    Error::Usage { message }
}

/// Writes `text` to standard output, control characters escaped (tables hold labels and
/// names from input files); a broken pipe ends the process with exit 0 (the reader stopped
/// reading), any other failure is reported on standard error.
pub(crate) fn write_stdout(text: &str) {
    use std::io::Write as _;
    let text = k2sim::format::terminal_safe(text);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output failed: {e}");
    }
}
