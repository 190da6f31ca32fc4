//! `k2sim nca FILE.csv`: non-compartmental analysis of measured profiles with PKNCA's default
//! rules, one row per subject, written as `nca.csv` and `nca.md` in one set.

use std::path::{Path, PathBuf};
use std::time::Instant;

use k2sim::error::Error;
use k2sim::nca::{self, NcaOptions};
use k2sim::plot::RenderOptions;
use k2sim::report;
use k2sim::scenario;

use super::run::peak_memory_note;
use super::write::replace_set;

pub(super) fn nca_command(
    path: &Path,
    out: Option<PathBuf>,
    render: Option<RenderOptions>,
    quiet: bool,
) -> Result<(), Error> {
    let started = Instant::now();
    let subjects = scenario::load_nca_data(path)?;
    let opts = NcaOptions::default();
    let results: Vec<nca::Nca> = subjects
        .iter()
        .map(|s| nca::nca(&s.profile, s.dose_ug, &opts))
        .collect();
    let dir = out.unwrap_or_else(|| {
        let stem = path
            .file_stem()
            .map_or("data".to_string(), |s| s.to_string_lossy().into_owned());
        Path::new("out").join(format!("{}_nca", k2sim::format::sanitize_file_stem(&stem)))
    });
    let files = report::nca::files(
        &path.display().to_string(),
        &subjects,
        &results,
        &opts,
        &super::command_line(),
        render.as_ref(),
    )?;
    let written = replace_set(&dir, "nca", &files.into_vec())?;
    if !quiet {
        outln!(
            "NCA of {} — {} subject{}, PKNCA default rules",
            path.display(),
            subjects.len(),
            if subjects.len() == 1 { "" } else { "s" }
        );
        out!("{}", report::nca::nca_table(&subjects, &results));
        if results.iter().any(has_missing) {
            outln!("(– : missing; nca.md says why)");
        }
        outln!();
        for p in &written {
            outln!("wrote {}", p.display());
        }
        outln!(
            "done in {:.2} s{}",
            started.elapsed().as_secs_f64(),
            peak_memory_note()
        );
    }
    Ok(())
}

/// Whether any value of the printed table is missing.
fn has_missing(n: &nca::Nca) -> bool {
    [
        &n.cmax_ng_ml,
        &n.tmax_h,
        &n.auclast_ng_h_ml,
        &n.aucinf_obs_ng_h_ml,
    ]
    .iter()
    .any(|v| v.is_err())
        || n.lambda_z.is_err()
}
