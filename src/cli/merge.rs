//! `k2sim merge`: the shard files of `k2sim run --shard K/N` verified and combined into the
//! outputs of an unsharded run.
//!
//! Passes over the files. The first reads only each shard's header (format, version,
//! scenario hash, K/N), so a foreign, duplicated or missing shard is reported, with every
//! missing shard listed, before any shard is read whole. The second reads the shards one at a
//! time in index order, verifies each (checksum, counts against the scenario) and folds it into
//! the [`Merger`], then drops it: memory holds one shard and the accumulator, whatever the
//! number of shards. Then, to write the outputs, [`SubjectPasses`] reads the subject rows again,
//! once, and [`SubjectSpill`] writes them to files in a [`Spill`] of the output directory: the
//! subjects as records and the summary columns as 8-byte values. The summaries
//! are folded from the column file one column at a time (8 bytes per subject in memory), and
//! the CSV file joins the output set by a rename: memory grows with neither the shards nor the
//! subjects beyond one column.

use std::path::{Path, PathBuf};
use std::time::Instant;

use k2sim::engine::run;
use k2sim::error::{Error, InputError};
use k2sim::model::SolverKind;
use k2sim::scenario::Scenario;
use k2sim::study::shard::{self, ShardError};
use k2sim::study::{Merger, ShardFile, ShardHeader, ShardSubjects, StudyResult, SubjectPasses};

use super::run::{finish, peak_memory_note, print_notes, Finish};
use super::spill::{SubjectSpill, SUBJECTS_CSV};
use super::write::Spill;
use super::FigureArgs;

pub(super) fn merge_command(
    inputs: &[PathBuf],
    out: Option<PathBuf>,
    quiet: bool,
    check: bool,
) -> Result<(), Error> {
    let started = Instant::now();
    let mut merged = read_and_merge(inputs)?;
    if check {
        if !quiet {
            outln!(
                "all {} shards present and valid; `k2sim merge` without --check writes the outputs",
                merged.shards
            );
            outln!(
                "done in {:.2} s{}",
                started.elapsed().as_secs_f64(),
                peak_memory_note()
            );
        }
        return Ok(());
    }
    let dir = out.unwrap_or_else(|| {
        Path::new("out").join(k2sim::format::sanitize_file_stem(&merged.scenario.name))
    });
    let spill = Spill::new(&dir)?;
    let subjects_csv = subject_passes(&mut merged, &spill)?;
    let scenario = &merged.scenario;
    let result = run::run(scenario, merged.solver)?;
    print_notes(&result);
    let fig = FigureArgs::default();
    let extra = crate::cli::study::study_files_with(
        scenario,
        &result,
        &merged.study,
        // The file is in the spill directory; this is its placeholder in the set.
        subjects_csv.as_ref().map(|_| Vec::new()),
        &fig.render(scenario),
        &merged.command,
    )?;
    let moved = subjects_csv
        .map(|p| vec![(SUBJECTS_CSV.to_string(), p)])
        .unwrap_or_default();
    let report = crate::cli::study::study_report(scenario, &merged.study);
    let ctx = Finish {
        reference: None,
        fig: &fig,
        dir: &dir,
        quiet,
        json: false,
        started,
        force_comparison: false,
        command: merged.command.clone(),
        extra,
        extra_report: report,
        uncertainty: None,
        moved,
    };
    finish(scenario, &result, ctx).map(|_| ())
}

/// The shards merged: the scenario they carry, its solver, the command of shard 1 (for the
/// captions) and the whole study but its subjects, which `passes` reads again from `paths`.
pub(super) struct Merged {
    pub scenario: Scenario,
    pub solver: SolverKind,
    pub command: String,
    pub study: StudyResult,
    pub shards: u32,
    passes: SubjectPasses,
    /// The shard files in index order, with their headers.
    paths: Vec<(PathBuf, ShardHeader)>,
}

/// Reads the subjects from the shards again ([`SubjectPasses`]), once, into `spill`: puts each
/// regimen's summary into `merged.study` and returns the path of `population_subjects.csv`,
/// written whole in the spill directory (`None` without a population).
fn subject_passes(merged: &mut Merged, spill: &Spill) -> Result<Option<PathBuf>, Error> {
    let Some(pops) = merged.study.populations.as_mut() else {
        return Ok(None);
    };
    let paths = &merged.paths;
    let passes = &merged.passes;
    let mut kept = SubjectSpill::new(spill, passes.labels().to_vec())?;
    let progress = crate::cli::study::Progress::new("subjects", false);
    passes.read(
        |k| {
            progress.update(u64::from(k) - 1, u64::from(passes.shards()));
            let (p, _) = &paths[k as usize - 1];
            parse_subjects(p, &read_bytes(p)?)
        },
        |r, rows| kept.keep(r, rows),
        |k, e| {
            let (p, h) = &paths[k as usize - 1];
            shard_failure(p, &h.command, h.shard, &e)
        },
    )?;
    progress.finish();
    let (csv, mut columns) = kept.finish()?;
    let summaries = passes.summaries(|r, c| columns.column(r, c))?;
    for (p, s) in pops.iter_mut().zip(summaries) {
        p.summary = s;
    }
    Ok(Some(csv))
}

fn input_error(path: &Path, message: String) -> Error {
    Error::Input(InputError::io(path, message))
}

/// The shard files named by `inputs`: files, or directories holding `shard-*.json`.
fn shard_paths(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut paths = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| input_error(p, format!("cannot read the directory: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("shard-"))
                        && f.extension().is_some_and(|e| e == "json")
                })
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(input_error(p, "holds no shard-K-of-N.json files; give the directories that `k2sim run --shard K/N --out DIR` wrote".into()));
            }
            paths.extend(found);
        } else {
            paths.push(p.clone());
        }
    }
    Ok(paths)
}

fn read_bytes(p: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(p).map_err(|e| input_error(p, format!("cannot read the shard file: {e}")))
}

/// `--out` for re-running shard `index` of `count`: the folder its neighbours were written to,
/// one folder per shard (`shards/3`) or one for all.
fn rerun_dir(index: u32, known: &[(PathBuf, ShardHeader)]) -> String {
    let parent = |p: &PathBuf| p.parent().unwrap_or(Path::new("")).to_path_buf();
    let per_shard = known.iter().all(|(p, h)| {
        parent(p)
            .file_name()
            .is_some_and(|n| n.to_string_lossy() == h.shard.index.to_string())
    });
    let Some((first, _)) = known.first() else {
        return "DIR".into();
    };
    if per_shard {
        let base = parent(first)
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        return base.join(index.to_string()).display().to_string();
    }
    if known.iter().all(|(p, _)| parent(p) == parent(first)) {
        let d = parent(first);
        return if d.as_os_str().is_empty() {
            ".".into()
        } else {
            d.display().to_string()
        };
    }
    "DIR".into()
}

fn rerun_command(command: &str, index: u32, count: u32, dir: &str) -> String {
    format!("{command} --shard {index}/{count} --out {dir}")
}

/// The message for a shard that fails verification: the reason and how to replace it.
fn shard_failure(path: &Path, command: &str, sh: k2sim::study::Shard, e: &ShardError) -> Error {
    let dir = path
        .parent()
        .map_or(".".to_string(), |d| d.display().to_string());
    let rerun = rerun_command(command, sh.index, sh.count, &dir);
    let help = match e {
        ShardError::Format { .. } | ShardError::Version { .. } => format!(
            "re-run the shards with this k2sim ({rerun}, and likewise for the others), or merge them with the k2sim that wrote them"
        ),
        _ => format!("do not edit shard files; re-run this shard: {rerun}"),
    };
    input_error(path, format!("{e}\n  help: {help}"))
}

/// Reads shard files (files, or directories holding `shard-*.json`), verifies and merges them.
pub(super) fn read_and_merge(inputs: &[PathBuf]) -> Result<Merged, Error> {
    let paths = shard_paths(inputs)?;
    // Pass 1: headers only.
    let mut headers: Vec<(PathBuf, ShardHeader)> = Vec::with_capacity(paths.len());
    for p in &paths {
        let bytes = read_bytes(p)?;
        let h: ShardHeader = serde_json::from_slice(&bytes).map_err(|e| {
            input_error(p, format!("is not a k2sim shard file ({e})\n  help: give the shard-K-of-N.json files (or their folders) that `k2sim run --shard K/N` wrote"))
        })?;
        shard::verify_header(&h).map_err(|e| shard_failure(p, &h.command, h.shard, &e))?;
        headers.push((p.clone(), h));
    }
    let Some((ref_path, reference)) = headers.first().cloned() else {
        return Err(input_error(Path::new("."), "no shard files given".into()));
    };
    let reference = &reference;
    for (p, h) in &headers {
        let (a, b) = (h, reference);
        let differs = if a.scenario_hash != b.scenario_hash {
            Some(format!(
                "comes from another scenario than {} (scenario content {} vs {})",
                ref_path.display(),
                a.scenario_hash,
                b.scenario_hash
            ))
        } else if a.solver != b.solver {
            Some(format!(
                "was computed with another solver than {} ({:?} vs {:?})",
                ref_path.display(),
                a.solver,
                b.solver
            ))
        } else if a.shard.count != b.shard.count {
            Some(format!(
                "is shard {}/{}, but {} is one of {} shards",
                a.shard.index,
                a.shard.count,
                ref_path.display(),
                b.shard.count
            ))
        } else {
            None
        };
        if let Some(what) = differs {
            return Err(input_error(p, format!("{what}\n  help: merge the shards of one run only: one scenario (same content), one solver, one --shard count")));
        }
    }
    headers.sort_by_key(|(_, h)| h.shard.index);
    for w in headers.windows(2) {
        if w[0].1.shard.index == w[1].1.shard.index {
            return Err(input_error(
                &w[1].0,
                format!(
                    "is shard {}/{} again, as is {}\n  help: give each shard once",
                    w[1].1.shard.index,
                    w[1].1.shard.count,
                    w[0].0.display()
                ),
            ));
        }
    }
    let count = reference.shard.count;
    let have: Vec<u32> = headers.iter().map(|(_, h)| h.shard.index).collect();
    let missing = shard::missing(count, &have);
    if !missing.is_empty() {
        let command = &reference.command;
        let list: Vec<String> = missing.iter().map(u32::to_string).collect();
        let mut msg = format!(
            "{} of {count} shards missing: {}\n  help: re-run them, then merge again:",
            missing.len(),
            list.join(", ")
        );
        for &k in &missing {
            msg.push_str("\n    ");
            msg.push_str(&rerun_command(command, k, count, &rerun_dir(k, &headers)));
        }
        return Err(Error::Usage {
            message: format!("merge: {msg}"),
        });
    }
    // Pass 2: each shard read, verified and folded in, in index order, then dropped.
    let (first_path, first_header) = &headers[0];
    let first: ShardFile = parse_whole(first_path, &read_bytes(first_path)?)?;
    first
        .verify_integrity()
        .map_err(|e| shard_failure(first_path, &first_header.command, first.shard, &e))?;
    let mut scenario = k2sim::scenario::parse_str(&first.scenario_text, &first.default_name)
        .map_err(|e| Error::Input(e.in_file(first_path)))?;
    if let Some(csv) = &first.observed_csv_text {
        let rows =
            k2sim::scenario::parse_observed_csv(csv, &scenario.regimens, scenario.duration_h)
                .map_err(|e| Error::Input(e.in_file(first_path)))?;
        scenario.observed.extend(rows);
    }
    let solver = first.solver;
    let command = first.command.clone();
    let default_name = first.default_name.clone();
    let mut merger = Merger::new(&scenario, count);
    let mut pending = Some(first);
    let progress = crate::cli::study::Progress::new("merge", false);
    for (done, (p, h)) in headers.iter().enumerate() {
        progress.update(done as u64, headers.len() as u64);
        let f = match pending.take() {
            Some(f) => f,
            None => parse_whole(p, &read_bytes(p)?)?,
        };
        if f.default_name != default_name
            && k2sim::scenario::parse_str(&f.scenario_text, &f.default_name)
                .is_ok_and(|s| s.name != scenario.name)
        {
            return Err(input_error(p, format!("names its scenario \"{}\", {} names it \"{}\" (the scenario has no `name`, so each shard took its file name)\n  help: add `name = \"...\"` to the scenario and re-run the shards, or run every shard from the same file name", f.default_name, first_path.display(), default_name)));
        }
        let sh = f.shard;
        merger
            .fold(f)
            .map_err(|e| shard_failure(p, &h.command, sh, &e))?;
    }
    progress.finish();
    let (study, passes) = merger
        .finish()
        .map_err(|e| input_error(first_path, e.to_string()))?;
    Ok(Merged {
        scenario,
        solver,
        command,
        study,
        shards: count,
        passes,
        paths: headers,
    })
}

fn parse_subjects(p: &Path, bytes: &[u8]) -> Result<ShardSubjects, Error> {
    serde_json::from_slice(bytes).map_err(|e| {
        input_error(
            p,
            format!("is no longer a whole k2sim shard file ({e})\n  help: the file changed during the merge; merge again"),
        )
    })
}

fn parse_whole(p: &Path, bytes: &[u8]) -> Result<ShardFile, Error> {
    serde_json::from_slice(bytes).map_err(|e| {
        input_error(
            p,
            format!("is not a whole k2sim shard file ({e})\n  help: the file is damaged or truncated; re-run its shard"),
        )
    })
}
