//! `k2sim merge`: the shard files of `k2sim run --shard K/N` combined into the outputs of an
//! unsharded run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use k2sim::engine::run;
use k2sim::error::Error;

use super::run::{finish, print_notes, Finish};
use super::FigureArgs;

pub(super) fn merge_command(
    inputs: &[PathBuf],
    out: Option<PathBuf>,
    quiet: bool,
) -> Result<(), Error> {
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
        uncertainty: None,
    };
    finish(&scenario, &result, ctx)
}
