//! Studies beyond a single run: the population and sweep of a scenario, computed whole or as one
//! shard of a deterministic partition, and shards merged back. Pure: the CLI reads and writes
//! the shard files.

pub mod assay;
pub mod dose_response;
pub mod fit;
pub mod literature;
pub mod population;
pub mod sweep;
pub mod uncertainty;
pub mod walk;

use crate::error::SimError;
use crate::model::SolverKind;
use crate::scenario::Scenario;
use crate::study::population::{
    simulate_population, BandHistogram, RegimenPopulation, SubjectMetrics,
};
use crate::study::sweep::{run_sweep, SweepRow};

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
    let total = total_units(s, shard);
    let mut out = StudyResult::default();
    let mut base = 0u64;
    if let Some(spec) = &s.population {
        let range = shard.slice(spec.n);
        let mut pops = Vec::new();
        for r in &s.regimens {
            let b = base;
            pops.push(simulate_population(
                spec,
                r,
                s.duration_h,
                s.step_h,
                solver,
                s.ode,
                range.clone(),
                &|d| progress(b + d, total),
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

/// Why shards cannot be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("no shard files given")]
    Empty,
    #[error("shard {index} of {count} is missing; have {have:?}")]
    Missing {
        index: u32,
        count: u32,
        have: Vec<u32>,
    },
    #[error("shard {index} appears twice")]
    Duplicate { index: u32 },
    #[error("shards come from different runs ({what} differs); merge only shards of one scenario and one --shard count")]
    Mismatch { what: &'static str },
}

/// Combines shard results (in any order) into the result of the whole study. Histograms add
/// (integer counts), subject and sweep rows concatenate in shard order, so the merged result is
/// identical to an unsharded run.
pub fn merge(mut parts: Vec<(Shard, StudyResult)>) -> Result<StudyResult, MergeError> {
    let Some(count) = parts.first().map(|p| p.0.count) else {
        return Err(MergeError::Empty);
    };
    if parts.iter().any(|p| p.0.count != count) {
        return Err(MergeError::Mismatch {
            what: "the shard count",
        });
    }
    parts.sort_by_key(|p| p.0.index);
    for w in parts.windows(2) {
        if w[0].0.index == w[1].0.index {
            return Err(MergeError::Duplicate {
                index: w[0].0.index,
            });
        }
    }
    let have: Vec<u32> = parts.iter().map(|p| p.0.index).collect();
    if let Some(missing) = (1..=count).find(|i| !have.contains(i)) {
        return Err(MergeError::Missing {
            index: missing,
            count,
            have,
        });
    }
    let mut out = StudyResult::default();
    for (_, part) in parts {
        match (&mut out.populations, part.populations) {
            (None, p) => out.populations = p,
            (Some(acc), Some(p)) => {
                if acc.len() != p.len() {
                    return Err(MergeError::Mismatch {
                        what: "the regimens",
                    });
                }
                for (a, b) in acc.iter_mut().zip(p) {
                    if a.label != b.label
                        || a.band_times_h != b.band_times_h
                        || a.histogram.exp_lo != b.histogram.exp_lo
                    {
                        return Err(MergeError::Mismatch {
                            what: "the population layout",
                        });
                    }
                    a.histogram.merge(&b.histogram);
                    match (&mut a.observed, &b.observed) {
                        (Some(x), Some(y)) if x.exp_lo == y.exp_lo => x.merge(y),
                        (None, None) => {}
                        _ => {
                            return Err(MergeError::Mismatch {
                                what: "the observed bands",
                            })
                        }
                    }
                    match (&mut a.below_lloq, &b.below_lloq) {
                        (Some(x), Some(y)) if x.len() == y.len() => {
                            for (c, d) in x.iter_mut().zip(y) {
                                *c += d;
                            }
                        }
                        (None, None) => {}
                        _ => {
                            return Err(MergeError::Mismatch {
                                what: "the LLOQ counts",
                            })
                        }
                    }
                    a.subjects.extend(b.subjects);
                }
            }
            (Some(_), None) => {
                return Err(MergeError::Mismatch {
                    what: "the population",
                })
            }
        }
        match (&mut out.sweep_rows, part.sweep_rows) {
            (None, r) => out.sweep_rows = r,
            (Some(acc), Some(r)) => acc.extend(r),
            (Some(_), None) => return Err(MergeError::Mismatch { what: "the sweep" }),
        }
    }
    Ok(out)
}

/// A shard file's content: what it computed and the scenario it came from, so `merge` can
/// rebuild every output without the original file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShardFile {
    /// Format tag, "k2sim-shard/1".
    pub format: String,
    /// The scenario text, verbatim.
    pub scenario_text: String,
    /// Name used when the scenario has no `name` (the file stem).
    pub default_name: String,
    /// Solver used.
    pub solver: SolverKind,
    /// Command line of the run, without output and shard options, for the caption files.
    pub command: String,
    pub shard: Shard,
    /// The text of the scenario's `observed_csv` file, verbatim (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_csv_text: Option<String>,
    pub populations: Option<Vec<ShardPopulation>>,
    pub sweep_rows: Option<Vec<SweepRow>>,
}

/// A regimen population in a shard file: histogram stored sparsely as (bin index, count).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShardPopulation {
    pub label: String,
    pub band_times_h: Vec<f64>,
    pub exp_lo: i32,
    pub counts: Vec<(u32, u32)>,
    /// The observed histogram (same layout), sparse, when the population has a residual error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_counts: Option<Vec<(u32, u32)>>,
    /// Samples below the LLOQ per band time, when the population has an LLOQ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below_lloq: Option<Vec<u32>>,
    pub subjects: Vec<SubjectMetrics>,
}

/// A histogram's non-zero bins as (bin index, count).
fn sparse(h: &BandHistogram) -> Vec<(u32, u32)> {
    h.counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| (i as u32, c))
        .collect()
}

/// The histogram of `times` band times whose non-zero bins are `counts`.
fn dense(exp_lo: i32, times: usize, counts: &[(u32, u32)]) -> BandHistogram {
    let mut out = vec![0u32; times * BandHistogram::bins()];
    for &(i, c) in counts {
        if let Some(slot) = out.get_mut(i as usize) {
            *slot = c;
        }
    }
    BandHistogram {
        exp_lo,
        counts: out,
        times,
    }
}

/// Format tag of shard files.
pub const SHARD_FORMAT: &str = "k2sim-shard/1";

impl ShardFile {
    /// Packs a shard result.
    pub fn new(
        scenario_text: &str,
        default_name: &str,
        solver: SolverKind,
        command: &str,
        shard: Shard,
        r: StudyResult,
    ) -> Self {
        let populations = r.populations.map(|ps| {
            ps.into_iter()
                .map(|p| ShardPopulation {
                    label: p.label,
                    band_times_h: p.band_times_h,
                    exp_lo: p.histogram.exp_lo,
                    counts: sparse(&p.histogram),
                    observed_counts: p.observed.as_ref().map(sparse),
                    below_lloq: p.below_lloq,
                    subjects: p.subjects,
                })
                .collect()
        });
        Self {
            format: SHARD_FORMAT.into(),
            scenario_text: scenario_text.into(),
            default_name: default_name.into(),
            solver,
            command: command.into(),
            shard,
            observed_csv_text: None,
            populations,
            sweep_rows: r.sweep_rows,
        }
    }

    /// Unpacks the result.
    pub fn result(&self) -> StudyResult {
        StudyResult {
            populations: self.populations.as_ref().map(|ps| {
                ps.iter()
                    .map(|p| {
                        let times = p.band_times_h.len();
                        RegimenPopulation {
                            label: p.label.clone(),
                            band_times_h: p.band_times_h.clone(),
                            histogram: dense(p.exp_lo, times, &p.counts),
                            observed: p
                                .observed_counts
                                .as_ref()
                                .map(|c| dense(p.exp_lo, times, c)),
                            below_lloq: p.below_lloq.clone(),
                            subjects: p.subjects.clone(),
                        }
                    })
                    .collect()
            }),
            sweep_rows: self.sweep_rows.clone(),
        }
    }
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

    #[test]
    fn merge_refuses_incomplete_sets() {
        let part = |index| (Shard { index, count: 3 }, StudyResult::default());
        assert_eq!(
            merge(vec![part(1), part(3)]).unwrap_err(),
            MergeError::Missing {
                index: 2,
                count: 3,
                have: vec![1, 3]
            }
        );
        assert_eq!(
            merge(vec![part(1), part(1), part(2)]).unwrap_err(),
            MergeError::Duplicate { index: 1 }
        );
        assert!(merge(vec![part(3), part(1), part(2)]).is_ok());
    }
}
