//! `k2sim validate`: runs the validation cases (compiled in, or a `--dir` of case files), prints the table, writes
//! validation.md, validation.csv and a figure per case that has observed points.

use k2sim::model::SolverKind;
use std::path::{Path, PathBuf};
use std::time::Instant;

use k2sim::error::{Error, InputError};
use k2sim::report::validation as table;
use k2sim::scenario::case;
use k2sim::study::literature::{self, CaseResult};

/// Options of `k2sim validate`.
pub struct ValidateArgs {
    /// A directory of case files; `None` runs the bundled cases.
    pub dir: Option<PathBuf>,
    pub out: PathBuf,
    pub solver: SolverKind,
    /// Figure options; `None` (`--no-figures`): tables only.
    pub render: Option<k2sim::plot::RenderOptions>,
    pub quiet: bool,
}

/// Case files in `dir`, sorted by name.
fn case_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |message: String| Error::Input(InputError::io(dir, message));
    let entries =
        std::fs::read_dir(dir).map_err(|e| io(format!("cannot list the validation cases: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(io(
            "holds no validation case (*.toml)\n  help: run from the repository root, or give --dir validation".into(),
        ));
    }
    Ok(files)
}

/// Runs the suite. Returns an error (exit code 1) when a check committed as passing fails.
pub fn validate_command(args: ValidateArgs) -> Result<(), Error> {
    let started = Instant::now();
    let mut results: Vec<CaseResult> = Vec::new();
    let cases = match &args.dir {
        Some(dir) => case_files(dir)?
            .iter()
            .map(|p| case::load_case(p, super::reach()))
            .collect::<Result<Vec<_>, _>>()?,
        None => case::bundled_cases()?,
    };
    for case in &cases {
        results.push(literature::evaluate(case, args.solver)?);
    }
    let outcomes: Vec<_> = results.iter().flat_map(|r| r.outcomes.clone()).collect();

    // Every output is rendered before the first file is written.
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "validation.md".into(),
            table::markdown(&outcomes).into_bytes(),
        ),
        (
            "validation.csv".into(),
            table::csv(&outcomes).map_err(|e| Error::serialize("validation.csv", e))?,
        ),
    ];
    if let Some(opts) = &args.render {
        for r in &results {
            if let Some(fig) = table::figure(r) {
                let mut set = k2sim::report::FileSet::new();
                set.push_rendered(&r.case.id, &fig, opts, None)?;
                files.extend(set.into_vec());
            }
        }
    }
    // report.html: the checks, their figures and the status by compound on one page.
    let presets = k2sim::report::html::PresetStatus::of(&results);
    let command = crate::cli::command_line();
    let html = k2sim::report::html::page(&k2sim::report::html::Page {
        description: Some("The model with its presets against published human studies: each check compares a predicted value with a measured one, within a stated tolerance."),
        presets: Some(&presets),
        ..k2sim::report::html::Page::new("Validation against published data", &command, &files)
    });
    files.push(("report.html".into(), html.into_bytes()));
    let written = crate::cli::write::replace_set(&args.out, "validate", &files)?;
    let passed = outcomes.iter().filter(|o| o.pass).count();
    let regressions: Vec<_> = outcomes.iter().filter(|o| o.is_regression()).collect();
    let improved = outcomes
        .iter()
        .filter(|o| o.pass && !o.check.expect_pass)
        .count();
    if !args.quiet {
        out!("{}", table::text_table(&outcomes));
        outln!();
        outln!(
            "{passed} of {} checks pass ({}; {} cases, {} solver); {} fail as committed{}",
            outcomes.len(),
            table::kind_counts(&outcomes),
            results.len(),
            args.solver.name(),
            outcomes.len() - passed - regressions.len(),
            if improved > 0 {
                format!("; {improved} now pass that were committed as failing: update `expect`")
            } else {
                String::new()
            }
        );
        for p in &written {
            outln!("wrote {}", p.display());
        }
        outln!("done in {:.2} s", started.elapsed().as_secs_f64());
    }
    if regressions.is_empty() {
        Ok(())
    } else {
        let list: Vec<String> = regressions
            .iter()
            .map(|o| format!("{} · {}", o.case, o.check.describe()))
            .collect();
        Err(Error::Regression {
            what: list.join("; "),
        })
    }
}
