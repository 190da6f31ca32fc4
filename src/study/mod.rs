//! Studies beyond a single run: the population and sweep of a scenario, computed whole or as one
//! shard of a deterministic partition, and shards merged back ([`shard`]). Pure: the CLI reads
//! and writes the shard files.

pub mod assay;
pub mod bands;
pub mod dose_response;
pub mod fit;
pub mod fit_response;
pub mod literature;
pub mod population;
pub mod shard;
pub mod summary;
pub mod sweep;
pub mod uncertainty;
pub mod walk;

use crate::error::SimError;
use crate::model::SolverKind;
use crate::scenario::Scenario;
use crate::study::population::{simulate_population_into, RegimenPopulation, SubjectMetrics};
use crate::study::sweep::{run_sweep, SweepRow};
pub use shard::{
    Merger, ShardError, ShardFile, ShardHeader, ShardSubjects, SubjectPasses, SHARD_FORMAT,
};

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole study.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// The contiguous slice of `0..total` this shard computes: shards in order cover it exactly.
    pub fn slice(self, total: u64) -> std::ops::Range<u64> {
        let (i, n) = (u64::from(self.index), u64::from(self.count));
        (total * (i - 1) / n)..(total * i / n)
    }
}

/// The population and sweep results of a scenario (or of one shard of them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StudyResult {
    /// Per regimen, when the scenario has `[population]`.
    pub populations: Option<Vec<RegimenPopulation>>,
    /// When the scenario has `[sweep]`.
    pub sweep_rows: Option<Vec<SweepRow>>,
}

/// Progress of a study: (units done, units in all) where units are subjects × regimens plus
/// sweep combinations.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Work units of the study (for progress bars).
pub fn total_units(s: &Scenario, shard: Shard) -> u64 {
    let pop = s.population.as_ref().map_or(0, |p| {
        shard.slice(p.n).count() as u64 * s.regimens.len() as u64
    });
    let sw = s
        .sweep
        .as_ref()
        .map_or(0, |sw| shard.slice(sw.combinations() as u64).count() as u64);
    pop + sw
}

/// Computes the shard `shard` of the scenario's population and sweep.
pub fn compute(
    s: &Scenario,
    solver: SolverKind,
    shard: Shard,
    progress: Progress,
) -> Result<StudyResult, SimError> {
    compute_into(s, solver, shard, progress, None)
}

/// Where [`compute_into`] hands the subjects: `(regimen index, subjects)`, each regimen's
/// subjects in subject order, regimen after regimen.
pub type StudySink<'a> = &'a mut (dyn FnMut(usize, &[SubjectMetrics]) + Send);

/// [`compute`], the subjects handed to `sink` as they are computed, when there is one: then
/// the populations hold no subjects and empty summaries (see
/// [`population::simulate_population_into`]).
pub fn compute_into(
    s: &Scenario,
    solver: SolverKind,
    shard: Shard,
    progress: Progress,
    mut sink: Option<StudySink>,
) -> Result<StudyResult, SimError> {
    let total = total_units(s, shard);
    let mut out = StudyResult::default();
    let mut base = 0u64;
    if let Some(spec) = &s.population {
        let range = shard.slice(spec.n);
        let mut pops = Vec::new();
        for (i, r) in s.regimens.iter().enumerate() {
            let b = base;
            let mut to_sink = sink
                .as_mut()
                .map(|f| move |rows: &[SubjectMetrics]| f(i, rows));
            pops.push(simulate_population_into(
                spec,
                r,
                s.response.as_ref().map_or(&[][..], |x| &x.presets[..]),
                s.duration_h,
                s.step_h,
                solver,
                s.ode,
                range.clone(),
                &|d| progress(b + d, total),
                to_sink
                    .as_mut()
                    .map(|f| f as &mut (dyn FnMut(&[SubjectMetrics]) + Send)),
            )?);
            base += range.end - range.start;
        }
        out.populations = Some(pops);
    }
    if let Some(spec) = &s.sweep {
        let range = shard.slice(spec.combinations() as u64);
        let b = base;
        out.sweep_rows = Some(run_sweep(
            s,
            spec,
            solver,
            range.start as usize..range.end as usize,
            &|d| progress(b + d as u64, total),
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_slices_cover_the_range_once() {
        for total in [0u64, 1, 7, 100, 10_001] {
            for count in [1u32, 2, 3, 16] {
                let mut next = 0;
                for index in 1..=count {
                    let r = Shard { index, count }.slice(total);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    /// Work units: subjects of the shard times regimens, plus the shard's sweep combinations.
    /// 3 subjects × 2 regimens = 6; shard 2/5 holds one subject: 2 units (not 0: an empty-shard
    /// warning hangs on this count).
    #[test]
    fn work_units_are_subjects_times_regimens() {
        let text = "duration_h = 48\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\n[[regimen]]\ncompound = \"mk4\"\ndose_ug = 1000\n[population]\nn = 3\n";
        let s = crate::scenario::parse_str(text, "units").unwrap();
        assert_eq!(total_units(&s, Shard { index: 1, count: 1 }), 6);
        assert_eq!(total_units(&s, Shard { index: 2, count: 5 }), 2);
        assert_eq!(total_units(&s, Shard { index: 1, count: 5 }), 0);
    }

    /// The subjects handed to a sink are the in-memory run's, in order, whatever the thread
    /// count; the rest of the result is the same; the summary folded from them is the same.
    #[test]
    fn a_sink_gets_the_subjects_in_order_and_the_rest_is_unchanged() {
        let text = "duration_h = 96\nstep_h = 2\n\
            [[regimen]]\nlabel = \"a\"\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 4\n\
            [[regimen]]\nlabel = \"b\"\ncompound = \"mk4\"\ndose = \"15 mg\"\ntimes_h = [8, 13, 19]\ndays = 4\n\
            [population]\nn = 2000\nseed = 3\ncv_pct = { ka_per_h = 40, half_life_h = 40 }\ntarget_trough_ng_ml = 0.5\n";
        let s = crate::scenario::parse_str(text, "p").unwrap();
        let whole = compute(&s, SolverKind::Exact, Shard::WHOLE, &|_, _| {}).unwrap();
        let want = whole.populations.clone().unwrap();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut kept: Vec<Vec<SubjectMetrics>> = vec![Vec::new(); 2];
            let mut sink = |r: usize, rows: &[SubjectMetrics]| kept[r].extend_from_slice(rows);
            let streamed = pool
                .install(|| {
                    compute_into(
                        &s,
                        SolverKind::Exact,
                        Shard::WHOLE,
                        &|_, _| {},
                        Some(&mut sink),
                    )
                })
                .unwrap();
            for (i, (p, w)) in streamed
                .populations
                .unwrap()
                .into_iter()
                .zip(&want)
                .enumerate()
            {
                assert!(p.subjects.is_empty());
                assert_eq!(&kept[i], &w.subjects, "{threads} threads, regimen {i}");
                let folded = summary::SubjectSummary::folded(
                    kept[i].len() as u64,
                    Some(0.5),
                    &crate::response::Marker::ALL,
                    |c| Ok::<_, ()>(kept[i].iter().filter_map(|m| c.value(m)).collect()),
                )
                .unwrap();
                assert_eq!(folded, w.summary);
                assert_eq!(p.summary.subjects, 2000);
                let full = RegimenPopulation {
                    subjects: w.subjects.clone(),
                    summary: w.summary.clone(),
                    ..p
                };
                assert_eq!(&full, w);
            }
        }
    }
}
