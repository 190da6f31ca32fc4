//! Writers: every output is serialized to bytes here, and [`write_set`] (a whole set of outputs,
//! staged then renamed into place) and [`write_atomic`] (one file) are the places that create
//! files, so a failed or interrupted run never leaves a half-written file over a good one.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::compound::Evidence;
use crate::engine::run::{MassBalance, Metrics, ResolvedParams, RunResult};
use crate::error::Error;
use crate::scenario::{fmt_value, ParamSources, Scenario};
use crate::units::ng_ml_to_nmol_l;

/// `timeseries.csv`: tidy, `regimen,time_h,conc_ng_ml,conc_nmol_l`, one row per regimen and
/// output time.
pub fn timeseries_csv(result: &RunResult) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::Write {
        path: PathBuf::from("timeseries.csv"),
        source: std::io::Error::other(e),
    };
    w.write_record(["regimen", "time_h", "conc_ng_ml", "conc_nmol_l"])
        .map_err(csv_err)?;
    for r in &result.regimens {
        let mm = r.params.molar_mass_g_mol;
        for (t, c) in r.trajectory.time_h.iter().zip(&r.trajectory.conc_ng_ml) {
            w.write_record([
                r.regimen.label.as_str(),
                &fmt_time(*t),
                &fmt_sig(*c),
                &fmt_sig(ng_ml_to_nmol_l(*c, mm)),
            ])
            .map_err(csv_err)?;
        }
    }
    w.into_inner().map_err(|e| Error::Write {
        path: PathBuf::from("timeseries.csv"),
        source: std::io::Error::other(e.to_string()),
    })
}

/// `residuals.csv`: tidy, `regimen,subject,time_h,observed_ng_ml,predicted_ng_ml,residual_ng_ml`,
/// one row per observation (residual = observed − predicted).
pub fn residuals_csv(result: &RunResult) -> Result<Vec<u8>, Error> {
    let csv_err = |e: csv::Error| Error::Write {
        path: PathBuf::from("residuals.csv"),
        source: std::io::Error::other(e),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "regimen",
        "subject",
        "time_h",
        "observed_ng_ml",
        "predicted_ng_ml",
        "residual_ng_ml",
    ])
    .map_err(csv_err)?;
    for r in &result.regimens {
        for o in &r.residuals {
            w.write_record([
                r.regimen.label.as_str(),
                o.subject.as_deref().unwrap_or(""),
                &fmt_time(o.time_h),
                &fmt_sig(o.observed_ng_ml),
                &fmt_sig(o.predicted_ng_ml),
                &fmt_sig(o.residual_ng_ml),
            ])
            .map_err(csv_err)?;
        }
    }
    w.into_inner().map_err(|e| Error::Write {
        path: PathBuf::from("residuals.csv"),
        source: std::io::Error::other(e.to_string()),
    })
}

/// A time in hours with at most 9 decimals and no trailing zeros (grid times are i·step, whose
/// binary rounding would otherwise show as 0.30000000000000004).
pub fn fmt_time(t: f64) -> String {
    let s = format!("{t:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// A value with 10 significant digits, plain notation for ordinary magnitudes.
pub fn fmt_sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { x.to_string() };
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-6..=12).contains(&mag) {
        return format!("{x:.9e}");
    }
    let decimals = (9 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[derive(serde::Serialize)]
struct RegimenSummary<'a> {
    label: &'a str,
    compound: &'a str,
    compound_name: &'a str,
    schedule: String,
    dose_count: usize,
    total_dose_ug: f64,
    /// The solver of this regimen when it differs from the run's (saturable absorption under
    /// the exact solver is integrated by Dopri5).
    #[serde(skip_serializing_if = "Option::is_none")]
    solver: Option<&'static str>,
    params: &'a ResolvedParams,
    param_sources: &'a ParamSources,
    /// Notes on this result, e.g. why a steady state is missing.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    food: Option<&'a crate::scenario::FoodDose>,
    metrics: &'a Metrics,
    mass_balance: &'a MassBalance,
    /// Observations against the model (observed − predicted), when the scenario has any.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    residuals: &'a [crate::engine::run::Residual],
}

#[derive(serde::Serialize)]
struct Summary<'a> {
    k2sim_version: &'static str,
    scenario: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    model: String,
    solver: &'static str,
    duration_h: f64,
    step_h: f64,
    regimens: Vec<RegimenSummary<'a>>,
    warnings: &'a [String],
}

/// `summary.json`: per regimen its resolved parameters with their sources, and its metrics.
pub fn summary_json(scenario: &Scenario, result: &RunResult) -> Result<Vec<u8>, Error> {
    let summary = Summary {
        k2sim_version: env!("CARGO_PKG_VERSION"),
        scenario: &scenario.name,
        description: scenario.description.as_deref(),
        model: if result.regimens.iter().all(|r| r.regimen.model.is_basic()) {
            "one-compartment, first-order absorption".into()
        } else {
            crate::report::figure::lower_first(&crate::report::figure::model_description(result))
        },
        solver: result.solver.name(),
        duration_h: scenario.duration_h,
        step_h: scenario.step_h,
        regimens: result
            .regimens
            .iter()
            .map(|r| RegimenSummary {
                label: &r.regimen.label,
                compound: r.regimen.compound.id,
                compound_name: r.regimen.compound.name,
                schedule: r.regimen.schedule.describe(),
                dose_count: r.regimen.schedule.dose_count(),
                total_dose_ug: r.regimen.schedule.total_ug(),
                solver: (r.solver != result.solver).then(|| r.solver.name()),
                params: &r.params,
                param_sources: &r.regimen.sources,
                notes: &r.notes,
                food: r.regimen.food.as_ref(),
                metrics: &r.metrics,
                mass_balance: &r.mass_balance,
                residuals: &r.residuals,
            })
            .collect(),
        warnings: &scenario.warnings,
    };
    let mut bytes = serde_json::to_vec_pretty(&summary).map_err(|e| Error::Write {
        path: "summary.json".into(),
        source: std::io::Error::other(e),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("–".into(), |v| format!("{v:.digits$}"))
}

/// The table printed after a run: one column per regimen, a row per metric.
pub fn summary_table(scenario: &Scenario, result: &RunResult) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: &str, f: &dyn Fn(&crate::engine::run::RegimenResult) -> String| {
        rows.push((name.to_string(), result.regimens.iter().map(f).collect()));
    };
    row("compound", &|r| r.regimen.compound.id.to_string());
    row("schedule", &|r| r.regimen.schedule.describe());
    row("ka (1/h)", &|r| opt(r.params.ka_per_h, 4));
    row("half-life (h)", &|r| format!("{:.1}", r.params.half_life_h));
    row("V/F (L)", &|r| format!("{:.1}", r.params.v_l));
    let any = |f: &dyn Fn(&crate::engine::run::ResolvedParams) -> bool| {
        result.regimens.iter().any(|r| f(&r.params))
    };
    if any(&|p| p.q_l_per_h.is_some()) {
        row("Q/F (L/h)", &|r| opt(r.params.q_l_per_h, 2));
        row("Vp/F (L)", &|r| opt(r.params.vp_l, 1));
        row("t½ alpha (h)", &|r| opt(r.params.alpha_half_life_h, 2));
        row("t½ terminal (h)", &|r| {
            opt(r.params.terminal_half_life_h, 1)
        });
    }
    if any(&|p| p.vmax_ug_per_h.is_some()) {
        row("Vmax (µg/h)", &|r| opt(r.params.vmax_ug_per_h, 1));
        row("Km (µg)", &|r| opt(r.params.km_ug, 1));
    }
    row("Cmax (ng/mL)", &|r| format!("{:.4}", r.metrics.cmax_ng_ml));
    row("Tmax (h)", &|r| format!("{:.2}", r.metrics.tmax_h));
    row("AUC0-t (ng·h/mL)", &|r| {
        format!("{:.1}", r.metrics.auc_0_t_ng_h_ml)
    });
    row("Cmax,ss (ng/mL)", &|r| opt(r.metrics.cmax_ss_ng_ml, 4));
    row("Cmin,ss trough (ng/mL)", &|r| {
        opt(r.metrics.cmin_ss_ng_ml, 4)
    });
    row("Cavg,ss (ng/mL)", &|r| opt(r.metrics.cavg_ss_ng_ml, 4));
    row("AUCtau,ss (ng·h/mL)", &|r| {
        opt(r.metrics.auc_tau_ss_ng_h_ml, 1)
    });
    row("accumulation ratio", &|r| {
        opt(r.metrics.accumulation_ratio, 2)
    });
    row("fluctuation (%)", &|r| opt(r.metrics.fluctuation_pct, 1));
    row("90% of ss trough after (d)", &|r| {
        opt(r.metrics.t_90ss_h.map(|t| t / 24.0), 1)
    });
    row("steady state in run", &|r| match (
        r.metrics.steady_state_reached,
        r.metrics.last_trough_pct_of_ss,
    ) {
        (Some(true), _) => "yes".into(),
        (Some(false), Some(p)) => format!("no ({p:.0}% of ss)"),
        (Some(false), None) => "no".into(),
        (None, _) => "–".into(),
    });
    if result.regimens.iter().any(|r| !r.residuals.is_empty()) {
        row("observations", &|r| r.residuals.len().to_string());
        row("residual RMS (ng/mL)", &|r| {
            let n = r.residuals.len();
            if n == 0 {
                return "–".into();
            }
            let ss: f64 = r.residuals.iter().map(|x| x.residual_ng_ml.powi(2)).sum();
            format!("{:.4}", (ss / n as f64).sqrt())
        });
    }
    let labels: Vec<&str> = result
        .regimens
        .iter()
        .map(|r| r.regimen.label.as_str())
        .collect();
    let name_w = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = (0..labels.len())
        .map(|i| {
            rows.iter()
                .map(|(_, v)| v[i].chars().count())
                .chain([labels[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} solver, {} h",
        scenario.name,
        result.solver.name(),
        fmt_value(scenario.duration_h)
    );
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    let _ = write!(out, "  {}", pad("", name_w));
    for (l, w) in labels.iter().zip(&widths) {
        let _ = write!(out, "  {}", pad(l, *w));
    }
    out.push('\n');
    for (name, vals) in &rows {
        let _ = write!(out, "  {}", pad(name, name_w));
        for (v, w) in vals.iter().zip(&widths) {
            let _ = write!(out, "  {}", pad(v, *w));
        }
        out.push('\n');
    }
    out
}

/// The provenance of each parameter, for `figure.txt`-style notes and `k2sim compounds`.
pub fn evidence_tag(e: Option<Evidence>) -> &'static str {
    e.map_or("set by user", Evidence::tag)
}

/// A file or directory name made from free text: ASCII letters, digits, `-` and `_` only, never empty,
/// never `.` or `..`, so no scenario name can point outside the output directory.
pub fn sanitize_file_stem(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| match c {
            'µ' | 'μ' => 'u',
            c if c.is_ascii_alphanumeric() || c == '-' => c,
            _ => '_',
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').chars().take(80).collect::<String>();
    if s.is_empty() {
        "scenario".into()
    } else {
        s
    }
}

/// Name prefix of the directory, inside the output directory, that a run writes its set of
/// outputs into before committing it; the process id follows. A staging directory left by a
/// killed run is removed by the next run into the same directory.
pub const STAGING_PREFIX: &str = ".k2sim-staging-";

/// Writes a complete set of outputs into `dir`, so that the files there are replaced only by a
/// complete new set: [`stage`], then [`Staged::commit`]. Returns the paths written, in the
/// order of `files`.
pub fn write_set(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, Error> {
    stage(dir, files)?.commit()
}

/// A set of outputs written and synced into a staging directory inside its output directory,
/// not yet visible. Dropped without [`Staged::commit`], it removes the staging directory.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    staging: PathBuf,
    names: Vec<String>,
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Write {
        path: path.clone(),
        source,
    }
}

/// Writes and syncs every file into a staging directory inside `dir` (created if needed),
/// after removing staging directories that killed runs left there. On failure (a full disk,
/// permissions) the staging directory is removed and `dir` is as it was.
pub fn stage(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Staged, Error> {
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    remove_stale_staging(dir);
    let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(write_err(&staging))?;
    }
    std::fs::create_dir(&staging).map_err(write_err(dir))?;
    let staged = Staged {
        dir: dir.to_path_buf(),
        staging,
        names: files.iter().map(|(n, _)| n.clone()).collect(),
    };
    for (name, bytes) in files {
        let err = write_err(&dir.join(name));
        let mut f = std::fs::File::create(staged.staging.join(name)).map_err(&err)?;
        f.write_all(bytes).map_err(&err)?;
        f.sync_all().map_err(&err)?;
    }
    Ok(staged)
}

impl Staged {
    /// Renames every staged file over its old version (renames within one directory are atomic
    /// and take microseconds) and removes the staging directory.
    pub fn commit(self) -> Result<Vec<PathBuf>, Error> {
        let mut written = Vec::with_capacity(self.names.len());
        for name in &self.names {
            let to = self.dir.join(name);
            std::fs::rename(self.staging.join(name), &to).map_err(write_err(&to))?;
            written.push(to);
        }
        // Make the renames durable; not every platform can open a directory for syncing.
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(written)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

/// Removes staging directories in `dir` left by runs that no longer exist (killed before they
/// could clean up). Where process liveness cannot be checked (no `/proc`), every other
/// process's staging directory is taken as stale.
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id().to_string();
    let proc_fs = Path::new("/proc/self").exists();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else {
            continue;
        };
        let alive = proc_fs && Path::new("/proc").join(pid).exists();
        if pid != me && !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk, and renamed over `path`. On any failure the temporary file is removed and
/// the previous `path`, if any, is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(fmt_time(0.1 * 3.0), "0.3");
        assert_eq!(fmt_time(672.0), "672");
        assert_eq!(fmt_sig(1.234567890123), "1.23456789");
        assert_eq!(fmt_sig(325.0), "325");
        assert_eq!(fmt_sig(0.000123456789012), "0.000123456789");
        assert_eq!(fmt_sig(1.5e-9), "1.500000000e-9");
    }

    #[test]
    fn names_cannot_escape_the_output_directory() {
        assert_eq!(sanitize_file_stem("../../etc/passwd"), "etc_passwd");
        assert_eq!(
            sanitize_file_stem("MK-7 180 µg once daily"),
            "MK-7_180_ug_once_daily"
        );
        assert_eq!(sanitize_file_stem(".."), "scenario");
        assert_eq!(sanitize_file_stem("/"), "scenario");
    }

    #[test]
    fn a_set_replaces_the_old_set_and_cleans_up_after_killed_runs() {
        let dir = tempfile::tempdir().unwrap();
        let set = |tag: &str| -> Vec<(String, Vec<u8>)> {
            ["a.csv", "b.json"]
                .iter()
                .map(|n| (n.to_string(), format!("{tag} {n}").into_bytes()))
                .collect()
        };
        write_set(dir.path(), &set("old")).unwrap();
        // A staging directory of a process that no longer exists (pid beyond the kernel's
        // maximum), as a SIGKILL during writing leaves it.
        let stale = dir.path().join(format!("{STAGING_PREFIX}4294967295"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("a.csv"), "partial").unwrap();
        let written = write_set(dir.path(), &set("new")).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(
            std::fs::read(dir.path().join("a.csv")).unwrap(),
            b"new a.csv"
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_failed_set_leaves_the_old_files_and_no_staging() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), &[("a.csv".into(), b"old".to_vec())]).unwrap();
        // A file name that cannot be created fails the staging step after one good file.
        let bad = vec![
            ("a.csv".to_string(), b"new".to_vec()),
            ("no/such/dir.csv".to_string(), b"x".to_vec()),
        ];
        assert!(write_set(dir.path(), &bad).is_err());
        assert_eq!(std::fs::read(dir.path().join("a.csv")).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A path in a missing directory fails cleanly.
        assert!(write_atomic(&dir.path().join("missing/a.txt"), b"x").is_err());
    }
}
