//! Command-line interface: argument parsing, orchestration and all terminal output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use k2sim::error::Error;
use k2sim::scenario::{self, fmt_value, SolverKind};
use k2sim::{compound, figure, output, plot, run};

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
    },
    /// List the compound presets with their values, units and sources.
    #[command(
        after_help = "Example:\n  k2sim compounds\n\nPrints, for mk4, mk7 and k1, each parameter with its value, unit, evidence tag\n([measured], [secondary], [derived] or [assumed]) and source. Use the ids in a\nscenario's `compound` key and override values under [regimen.params]."
    )]
    Compounds,
}

/// Held while outputs are being written. The signal handler takes it before exiting, so an
/// interrupt never lands between writing the new set and cleaning up after it.
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// On Ctrl-C, SIGTERM or SIGHUP: exit with 130 at once while computing (nothing is on disk yet),
/// or right after the output set is committed or cleaned up if writing has begun. Earlier
/// outputs are thus never left half-replaced and no staging directory is left behind.
fn on_interrupt() {
    let _writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    eprintln!(
        "error: interrupted; outputs are as they were before this run, or the complete new set"
    );
    std::process::exit(130);
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
        } => run_command(&scenario, out, solver, quiet),
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
) -> Result<(), Error> {
    let started = Instant::now();
    let scenario = scenario::load(path)?;
    for w in &scenario.warnings {
        eprintln!("warning: {w}");
    }
    let solver = solver.unwrap_or(scenario.solver);
    let result = run::run(&scenario, solver)?;

    // Everything is rendered to bytes before the first file is touched.
    let stem = output::sanitize_file_stem(&scenario.name);
    let fig = figure::concentration_figure(&scenario, &result);
    let opts = plot::RenderOptions {
        width_px: scenario.plot.width_px,
        height_px: scenario.plot.height_px,
    };
    let png = plot::render_png(&fig, &opts)?;
    let svg = plot::render_svg(&fig, &opts)?;
    let files: Vec<(String, Vec<u8>)> = vec![
        ("timeseries.csv".into(), output::timeseries_csv(&result)?),
        (
            "summary.json".into(),
            output::summary_json(&scenario, &result)?,
        ),
        (format!("{stem}.png"), png),
        (format!("{stem}.svg"), svg.into_bytes()),
    ];

    let dir = out.unwrap_or_else(|| Path::new("out").join(&stem));
    let written = {
        // Ctrl-C or SIGTERM now waits until the set is committed or cleaned up (see
        // `on_interrupt`): the write takes well under a second.
        let _writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        let staged = output::stage(&dir, &files)?;
        // For the interruption tests only (tests/outputs.rs): hold the staged set for a while,
        // so that a signal lands between staging and commit.
        if let Some(ms) = std::env::var("K2SIM_TEST_PAUSE_BEFORE_COMMIT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        staged.commit()?
    };
    if !quiet {
        print!("{}", output::summary_table(&scenario, &result));
        println!();
        for p in &written {
            println!("wrote {}", p.display());
        }
        println!("done in {:.2} s", started.elapsed().as_secs_f64());
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
