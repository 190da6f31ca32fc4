//! The CLI side of populations, sweeps, sensitivity and shards: progress bar, shard files and
//! the extra outputs. All computing is in the library (`k2sim::study`, `k2sim::study::sweep`).

use k2sim::model::SolverKind;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use k2sim::engine::run::RunResult;
use k2sim::error::{Error, InputError};
use k2sim::plot;
use k2sim::report::{study as study_output, study_figure};
use k2sim::scenario::Scenario;
use k2sim::study::population::SubjectMetrics;
use k2sim::study::summary::SubjectSummary;
use k2sim::study::sweep;
use k2sim::study::{self, Shard, ShardFile, StudyResult};

use super::spill::SubjectSpill;
use super::write::Spill;

/// Output files as (name, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// A labelled progress bar with the time left, that appears only when the work has run for
/// more than a second and stderr is a terminal (indicatif hides itself in pipes and files),
/// and never under `--quiet`.
pub struct Progress {
    started: Instant,
    bar: OnceLock<ProgressBar>,
    label: &'static str,
    quiet: bool,
}

impl Progress {
    pub fn new(label: &'static str, quiet: bool) -> Self {
        Self {
            started: Instant::now(),
            bar: OnceLock::new(),
            label,
            quiet: quiet || crate::cli::quiet(),
        }
    }

    pub fn update(&self, done: u64, total: u64) {
        if self.quiet || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let b = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} {elapsed_precise} [{wide_bar}] {pos}/{len} ({eta} left)",
            ) {
                b.set_style(style);
            }
            b.set_prefix(self.label);
            b
        });
        bar.set_position(done.max(bar.position()));
    }

    pub fn finish(&self) {
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}

/// Parses `K/N` for `--shard`.
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not K/N, e.g. 3/16"))?;
    let (k, n) = (shard_number(k, "K")?, shard_number(n, "N")?);
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: K must be from 1 to N"));
    }
    Ok(Shard { index: k, count: n })
}

/// One side of `K/N`, saying which part is wrong and why.
fn shard_number(text: &str, name: &str) -> Result<u32, String> {
    use std::num::IntErrorKind;
    let t = text.trim();
    t.parse()
        .map_err(|e: std::num::ParseIntError| match e.kind() {
            IntErrorKind::Empty => format!("{name} is missing; write K/N, e.g. 3/16"),
            IntErrorKind::PosOverflow => {
                format!(
                    "{name} = {t} is too large: shard numbers go up to {}",
                    u32::MAX
                )
            }
            _ => format!("{name} = `{t}` is not a whole number; write K/N, e.g. 3/16"),
        })
}

/// The study's output files (bytes), for a whole run or a merge: tables, then figures drawn
/// from the merged data only (`result` is the typical-subject run of the same scenario and
/// solver; `command` goes into the captions).
///
/// `subjects_csv`: `Some` when `population_subjects.csv` is written apart (a run and a merge
/// spill it, and their populations hold no subjects): its bytes here, or an empty placeholder
/// for a file joining the set by a rename; `None` to write it from the subjects of `r`.
pub fn study_files_with(
    scenario: &Scenario,
    result: &RunResult,
    r: &StudyResult,
    subjects_csv: Option<Vec<u8>>,
    render: &plot::RenderOptions,
    command: &str,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut files = Vec::new();
    if let (Some(spec), Some(pops)) = (&scenario.population, &r.populations) {
        files.push((
            "population_bands.csv".into(),
            study_output::bands_csv(spec, pops)?,
        ));
        files.push((
            "population_subjects.csv".into(),
            match subjects_csv {
                Some(bytes) => bytes,
                None => study_output::subjects_csv(pops)?,
            },
        ));
        files.push((
            "population_summary.json".into(),
            study_output::population_summary_json(
                &scenario.name,
                spec,
                scenario.duration_h,
                pops,
                &scenario
                    .regimens
                    .iter()
                    .map(|reg| {
                        k2sim::study::population::per_subject_reason(
                            spec,
                            reg,
                            scenario.duration_h,
                            scenario.step_h,
                            result.solver,
                        )
                        .or(scenario
                            .response
                            .as_ref()
                            .map(|_| "the response markers need each subject's whole course"))
                    })
                    .collect::<Vec<_>>(),
            )?,
        ));
    }
    if let (Some(spec), Some(rows)) = (&scenario.sweep, &r.sweep_rows) {
        files.push(("sweep.csv".into(), study_output::sweep_csv(spec, rows)?));
    }
    // The 1-D sweep figure's curves are simulated here, not by the figure code.
    let curves = match &scenario.sweep {
        Some(spec) if r.sweep_rows.is_some() => sweep::sweep_curves(scenario, spec, result.solver)?,
        _ => None,
    };
    files.extend(study_figure::study_figure_files(
        scenario,
        result,
        r,
        curves.as_deref(),
        render,
        command,
    )?);
    Ok(files)
}

/// The printed part of a study.
pub fn study_report(scenario: &Scenario, r: &StudyResult) -> String {
    let mut s = String::new();
    if let (Some(spec), Some(pops)) = (&scenario.population, &r.populations) {
        s.push_str(&study_output::population_table(
            spec,
            scenario.duration_h,
            pops,
        ));
    }
    if let (Some(spec), Some(rows)) = (&scenario.sweep, &r.sweep_rows) {
        s.push_str(&format!(
            "sweep: {} combinations of {} × {} regimen(s) = {} rows in sweep.csv\n",
            spec.combinations(),
            spec.axes
                .iter()
                .map(|a| a.param.key())
                .collect::<Vec<_>>()
                .join(" × "),
            scenario.regimens.len(),
            rows.len()
        ));
    }
    s
}

fn progress_label(scenario: &Scenario) -> &'static str {
    match (&scenario.population, &scenario.sweep) {
        (Some(_), Some(_)) => "population and sweep",
        (Some(_), None) => "population",
        _ => "sweep",
    }
}

/// Computes the study with a progress bar.
pub fn compute(
    scenario: &Scenario,
    solver: SolverKind,
    shard: Shard,
    quiet: bool,
) -> Result<StudyResult, Error> {
    let progress = Progress::new(progress_label(scenario), quiet);
    let r = study::compute(scenario, solver, shard, &|d, t| progress.update(d, t));
    progress.finish();
    Ok(r?)
}

/// [`compute`] of a whole run, its subjects written to `spill` as they are computed instead of
/// held: the populations' summaries are folded from the spilled columns (as an in-memory run
/// folds them, so the bytes are the same). Returns the study, its populations without subjects,
/// and the path of `population_subjects.csv` in the spill (`None` without a population).
pub fn compute_spilled(
    scenario: &Scenario,
    solver: SolverKind,
    quiet: bool,
    spill: &Spill,
) -> Result<(StudyResult, Option<PathBuf>), Error> {
    let Some(spec) = &scenario.population else {
        return Ok((compute(scenario, solver, Shard::WHOLE, quiet)?, None));
    };
    let labels = scenario.regimens.iter().map(|r| r.label.clone()).collect();
    let mut kept = SubjectSpill::new(spill, labels)?;
    let mut failed: Option<Error> = None;
    let progress = Progress::new(progress_label(scenario), quiet);
    let r = {
        let mut sink = |r: usize, rows: &[SubjectMetrics]| {
            if failed.is_none() {
                failed = kept.keep(r, rows).err();
            }
        };
        study::compute_into(
            scenario,
            solver,
            Shard::WHOLE,
            &|d, t| progress.update(d, t),
            Some(&mut sink),
        )
    };
    progress.finish();
    let mut r = r?;
    if let Some(e) = failed {
        return Err(e);
    }
    let counts: Vec<u64> = (0..scenario.regimens.len())
        .map(|i| kept.subjects(i))
        .collect();
    let markers = kept.fields().markers.clone();
    let (csv, mut columns) = kept.finish()?;
    for (i, p) in r.populations.iter_mut().flatten().enumerate() {
        p.summary = SubjectSummary::folded(counts[i], spec.target_trough_ng_ml, &markers, |c| {
            columns.column(i, c)
        })?;
    }
    Ok((r, Some(csv)))
}

/// What a sharded run did.
pub enum ShardOutcome {
    /// Computed and wrote the shard file.
    Written(PathBuf),
    /// Found a valid shard file of the same scenario, solver and K/N there and kept it.
    Skipped(PathBuf),
}

/// A sharded run: where to write and whether to redo a valid shard.
pub struct ShardRun<'a> {
    pub path: &'a Path,
    pub shard: Shard,
    pub dir: &'a Path,
    pub quiet: bool,
    pub force: bool,
    pub command: &'a str,
}

/// Writes `shard-K-of-N.json` for a sharded run, unless a valid one for the same scenario
/// content, solver and K/N is already there (and `force` is off).
pub fn write_shard(
    run: &ShardRun,
    scenario: &Scenario,
    solver: SolverKind,
) -> Result<ShardOutcome, Error> {
    let (path, shard) = (run.path, run.shard);
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Input(InputError::io(path, e.to_string())))?;
    let default_name = path
        .file_stem()
        .map_or("scenario".to_string(), |s| s.to_string_lossy().into_owned());
    // The observations of `observed_csv` travel with the shard, so `merge` needs no other file.
    let observed_csv_text = match &scenario.observed_csv {
        Some(rel) => {
            let csv = path.parent().unwrap_or(Path::new(".")).join(rel);
            Some(
                std::fs::read_to_string(&csv)
                    .map_err(|e| Error::Input(InputError::io(&csv, e.to_string())))?,
            )
        }
        None => None,
    };
    let name = format!("shard-{}-of-{}.json", shard.index, shard.count);
    let target = run.dir.join(&name);
    if !run.force {
        let hash = study::shard::scenario_hash(&text, observed_csv_text.as_deref());
        if existing_shard_is_valid(&target, scenario, &hash, solver, shard) {
            return Ok(ShardOutcome::Skipped(target));
        }
    }
    if study::total_units(scenario, shard) == 0 {
        let subjects = scenario.population.as_ref().map_or(0, |p| p.n);
        let combinations = scenario
            .sweep
            .as_ref()
            .map_or(0, |s| s.combinations() as u64);
        errln!(
            "warning: shard {}/{} is empty: {subjects} subjects and {combinations} sweep combinations do not reach {} shards; its file is written all the same, so that `merge` sees every shard\n  help: use at most {} shards",
            shard.index,
            shard.count,
            shard.count,
            subjects.max(combinations).max(1)
        );
    }
    let r = compute(scenario, solver, shard, run.quiet)?;
    let file = ShardFile::new(
        &text,
        observed_csv_text.as_deref(),
        &default_name,
        solver,
        run.command,
        shard,
        r,
    );
    let bytes = serde_json::to_vec(&file).map_err(|e| Error::serialize("the shard file", e))?;
    let mut written = crate::cli::write::write_set(run.dir, &[(name, bytes)])?;
    Ok(ShardOutcome::Written(written.remove(0)))
}

/// Whether `target` holds a whole, unedited shard of this k2sim for the scenario content
/// `hash`, `solver` and `shard`, passing the checks `merge` makes: then a re-run (a requeued
/// Slurm task) has nothing to do.
fn existing_shard_is_valid(
    target: &Path,
    scenario: &Scenario,
    hash: &str,
    solver: SolverKind,
    shard: Shard,
) -> bool {
    let Ok(bytes) = std::fs::read(target) else {
        return false;
    };
    let Ok(f) = serde_json::from_slice::<ShardFile>(&bytes) else {
        return false;
    };
    f.verify_integrity().is_ok()
        && f.scenario_hash == hash
        && f.solver == solver
        && f.shard == shard
        && study::shard::verify_contents(scenario, &f).is_ok()
}

/// `k2sim sensitivity`: the table and the tornado figure.
pub fn sensitivity_files(
    scenario: &Scenario,
    solver: SolverKind,
    delta_pct: f64,
    render: &plot::RenderOptions,
    command: &str,
) -> Result<(Files, String), Error> {
    let progress = Progress::new("sensitivity", false);
    let rows = sweep::sensitivity_with_progress(
        scenario,
        solver,
        delta_pct,
        &k2sim::scenario::SweepParam::ALL,
        &|d, t| progress.update(d, t),
    )?;
    progress.finish();
    let mut report = format!("one-at-a-time sensitivity, each parameter ±{delta_pct} %\n");
    for r in &rows {
        let marker = matches!(r.metric, sweep::SensitivityMetric::MarkerAtEnd(_));
        if marker || r.metric == study_figure::tornado_metric(&rows) {
            report.push_str(&format!(
                "  {:<28} {:<15} {:<26} {:>+8.2} % {:>+8.2} %\n",
                r.regimen,
                r.param.key(),
                r.metric,
                r.low_change_pct,
                r.high_change_pct
            ));
        }
    }
    let mut files = vec![(
        "sensitivity.csv".into(),
        study_output::sensitivity_csv(&rows, delta_pct)?,
    )];
    let base = k2sim::engine::run::run(scenario, solver)?;
    files.extend(study_figure::tornado_files(
        scenario, &base, &rows, delta_pct, render, command,
    )?);
    Ok((files, report))
}
