//! Shard files and their merge, verified. A shard file carries the scenario it came from (text
//! and a hash of it), the k2sim version that wrote it and a checksum of its own payload; merge
//! checks all three and the shard's counts against the scenario, so an edited, truncated or
//! foreign shard is refused with its reason instead of merging into wrong results.
//!
//! Shards are folded one at a time into a [`Merger`] (histograms add, sweep rows append in
//! shard order), so a merge holds one shard and the accumulator, whatever the number of shards.
//! The subject rows are not accumulated: [`SubjectPasses`] reads them from the shards again, once,
//! and hands them on for the caller to keep outside memory (a merge spills them to files); the
//! summaries are then folded one column at a time, so the memory of a merge depends on the
//! number of subjects only through one column of 8-byte values.
//!
//! The hash is 64-bit FNV-1a, written here (no crate): it guards against accidental change
//! (an edit, a truncated copy, a shard of another scenario), which 64 bits do with a chance of
//! 2⁻⁶⁴ of a miss. A cryptographic hash would add nothing: the checksum is not keyed, so
//! whoever can edit a shard can recompute any checksum of it.

use std::ops::Range;

use crate::model::SolverKind;
use crate::scenario::Scenario;
use crate::study::population::{BandHistogram, RegimenPopulation, SubjectMetrics};
use crate::study::summary::{SubjectColumn, SubjectFields, SubjectSummary};
use crate::study::sweep::SweepRow;
use crate::study::{Shard, StudyResult};

/// Format tag of shard files. Version 2 added the version, hash and checksum fields.
pub const SHARD_FORMAT: &str = "k2sim-shard/2";

/// The version of this k2sim, as shard files record it.
pub const K2SIM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// 64-bit FNV-1a of `parts`, each preceded by its length (so ("ab", "c") and ("a", "bc")
/// differ), as `fnv1a64:` and 16 hex digits.
pub fn content_hash(parts: &[&[u8]]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    };
    for p in parts {
        eat(&(p.len() as u64).to_le_bytes());
        eat(p);
    }
    format!("fnv1a64:{h:016x}")
}

/// The identity of a scenario's content: its text and the text of its `observed_csv` file
/// (not their paths, so the same scenario given by another path is the same scenario).
pub fn scenario_hash(scenario_text: &str, observed_csv_text: Option<&str>) -> String {
    match observed_csv_text {
        Some(csv) => content_hash(&[scenario_text.as_bytes(), csv.as_bytes()]),
        None => content_hash(&[scenario_text.as_bytes()]),
    }
}

/// A shard file's content: what it computed and the scenario it came from, so `merge` can
/// rebuild every output without the original file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShardFile {
    /// Format tag, [`SHARD_FORMAT`].
    pub format: String,
    /// The k2sim version that wrote the shard.
    pub k2sim_version: String,
    /// [`scenario_hash`] of `scenario_text` and `observed_csv_text`.
    pub scenario_hash: String,
    /// [`content_hash`] of the file serialized with this field empty.
    pub checksum: String,
    pub shard: Shard,
    /// The scenario text, verbatim.
    pub scenario_text: String,
    /// Name used when the scenario has no `name` (the file stem).
    pub default_name: String,
    /// Solver used.
    pub solver: SolverKind,
    /// Command line of the run, without output and shard options, for the caption files.
    pub command: String,
    /// The text of the scenario's `observed_csv` file, verbatim (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_csv_text: Option<String>,
    pub populations: Option<Vec<ShardPopulation>>,
    pub sweep_rows: Option<Vec<SweepRow>>,
}

/// The identifying fields of a shard file: enough to order shards and find the missing ones
/// before any shard is read whole (deserializing skips the other fields without keeping them).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ShardHeader {
    pub format: String,
    #[serde(default)]
    pub k2sim_version: String,
    #[serde(default)]
    pub scenario_hash: String,
    pub shard: Shard,
    pub solver: SolverKind,
    /// The run's command line, for the re-run command of a missing shard.
    pub command: String,
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

/// Why a shard cannot be merged. The CLI adds the file and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShardError {
    #[error("has format {found:?}; this k2sim reads {expected:?}", expected = SHARD_FORMAT)]
    Format { found: String },
    #[error("was written by k2sim {found}; this is k2sim {expected}", expected = K2SIM_VERSION)]
    Version { found: String },
    #[error("fails its checksum (recorded {recorded}, content {computed}): it was changed after k2sim wrote it")]
    Checksum { recorded: String, computed: String },
    #[error(
        "its scenario text does not match its scenario hash: it was changed after k2sim wrote it"
    )]
    ScenarioText,
    #[error("{what}")]
    Contents { what: String },
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

impl ShardFile {
    /// Packs a shard result, with its hashes and checksum.
    pub fn new(
        scenario_text: &str,
        observed_csv_text: Option<&str>,
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
        let mut f = Self {
            format: SHARD_FORMAT.into(),
            k2sim_version: K2SIM_VERSION.into(),
            scenario_hash: scenario_hash(scenario_text, observed_csv_text),
            checksum: String::new(),
            shard,
            scenario_text: scenario_text.into(),
            default_name: default_name.into(),
            solver,
            command: command.into(),
            observed_csv_text: observed_csv_text.map(Into::into),
            populations,
            sweep_rows: r.sweep_rows,
        };
        f.checksum = f.payload_checksum();
        f
    }

    /// The checksum of everything but the checksum field: the hash of the file serialized with
    /// that field empty. Serialization is deterministic and floats round-trip, so a file read
    /// back gives the checksum it was written with unless a value was changed.
    pub fn payload_checksum(&self) -> String {
        let mut blank = self.clone();
        blank.checksum.clear();
        // Serializing plain data to memory cannot fail.
        let bytes = serde_json::to_vec(&blank).unwrap_or_default();
        content_hash(&[&bytes])
    }

    /// Checks the shard is whole and of this k2sim: format, version, checksum, scenario hash.
    pub fn verify_integrity(&self) -> Result<(), ShardError> {
        if self.format != SHARD_FORMAT {
            return Err(ShardError::Format {
                found: self.format.clone(),
            });
        }
        if self.k2sim_version != K2SIM_VERSION {
            return Err(ShardError::Version {
                found: self.k2sim_version.clone(),
            });
        }
        let computed = self.payload_checksum();
        if computed != self.checksum {
            return Err(ShardError::Checksum {
                recorded: self.checksum.clone(),
                computed,
            });
        }
        if scenario_hash(&self.scenario_text, self.observed_csv_text.as_deref())
            != self.scenario_hash
        {
            return Err(ShardError::ScenarioText);
        }
        Ok(())
    }
}

/// Checks a shard header: the format and version this k2sim reads.
pub fn verify_header(h: &ShardHeader) -> Result<(), ShardError> {
    if h.format != SHARD_FORMAT {
        return Err(ShardError::Format {
            found: h.format.clone(),
        });
    }
    if h.k2sim_version != K2SIM_VERSION {
        return Err(ShardError::Version {
            found: h.k2sim_version.clone(),
        });
    }
    Ok(())
}

fn contents(what: String) -> ShardError {
    ShardError::Contents { what }
}

/// Checks a sparse histogram: bins in range and increasing, and every band time holding
/// exactly `subjects` values (each subject is binned once per band time).
fn check_counts(
    what: &str,
    label: &str,
    counts: &[(u32, u32)],
    band_times_h: &[f64],
    subjects: u64,
) -> Result<(), ShardError> {
    let bins = BandHistogram::bins();
    let mut per_time = vec![0u64; band_times_h.len()];
    let mut last: Option<u32> = None;
    for &(bin, c) in counts {
        if last.is_some_and(|l| bin <= l) || bin as usize >= bins * band_times_h.len() {
            return Err(contents(format!(
                "regimen \"{label}\": the {what} histogram has bin {bin} out of order or out of range"
            )));
        }
        last = Some(bin);
        per_time[bin as usize / bins] += u64::from(c);
    }
    for (t, &sum) in band_times_h.iter().zip(&per_time) {
        if sum != subjects {
            return Err(contents(format!(
                "regimen \"{label}\": the {what} histogram holds {sum} values at {t} h, expected one per subject ({subjects})"
            )));
        }
    }
    Ok(())
}

/// Checks a shard's contents against the scenario it names: one population per regimen with
/// exactly the subjects of its slice of `n` in order, full histograms, and the sweep rows of
/// its slice of the combinations.
pub fn verify_contents(s: &Scenario, f: &ShardFile) -> Result<(), ShardError> {
    let shard = f.shard;
    match (&s.population, &f.populations) {
        (None, None) => {}
        (Some(_), None) => {
            return Err(contents(
                "has no population, but the scenario has [population]".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(contents(
                "has a population, but the scenario has no [population]".into(),
            ))
        }
        (Some(spec), Some(pops)) => {
            let range = shard.slice(spec.n);
            let want = range.end - range.start;
            if pops.len() != s.regimens.len() {
                return Err(contents(format!(
                    "has {} regimen populations, the scenario {} regimens",
                    pops.len(),
                    s.regimens.len()
                )));
            }
            for (p, r) in pops.iter().zip(&s.regimens) {
                if p.label != r.label {
                    return Err(contents(format!(
                        "has regimen \"{}\" where the scenario has \"{}\"",
                        p.label, r.label
                    )));
                }
                check_subjects(&p.label, &p.subjects, range.clone(), spec.n)?;
                check_counts("concentration", &p.label, &p.counts, &p.band_times_h, want)?;
                match (&p.observed_counts, spec.residual.is_some()) {
                    (Some(c), true) => {
                        check_counts("observed", &p.label, c, &p.band_times_h, want)?
                    }
                    (None, false) => {}
                    _ => return Err(contents(format!("regimen \"{}\": observed histogram present without a residual error, or missing with one", p.label))),
                }
                match (&p.below_lloq, spec.lloq_ng_ml.is_some()) {
                    (Some(b), true) => {
                        if b.len() != p.band_times_h.len() || b.iter().any(|&c| u64::from(c) > want)
                        {
                            return Err(contents(format!("regimen \"{}\": the LLOQ counts do not fit {} band times of {want} subjects", p.label, p.band_times_h.len())));
                        }
                    }
                    (None, false) => {}
                    _ => return Err(contents(format!("regimen \"{}\": LLOQ counts present without lloq_ng_ml, or missing with it", p.label))),
                }
            }
        }
    }
    match (&s.sweep, &f.sweep_rows) {
        (None, None) => {}
        (Some(_), None) => {
            return Err(contents(
                "has no sweep rows, but the scenario has [sweep]".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(contents(
                "has sweep rows, but the scenario has no [sweep]".into(),
            ))
        }
        (Some(spec), Some(rows)) => {
            let range = shard.slice(spec.combinations() as u64);
            let per = s.regimens.len();
            let want = (range.end - range.start) as usize * per;
            if rows.len() != want {
                return Err(contents(format!(
                    "has {} sweep rows, expected {want} (combinations {} to {} × {per} regimens)",
                    rows.len(),
                    range.start,
                    range.end.saturating_sub(1)
                )));
            }
            for (k, row) in rows.iter().enumerate() {
                let combination = range.start as usize + k / per;
                let label = &s.regimens[k % per].label;
                if row.combination != combination || &row.regimen != label {
                    return Err(contents(format!(
                        "sweep row {} is combination {} of \"{}\", expected combination {combination} of \"{label}\"",
                        k + 1,
                        row.combination,
                        row.regimen
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Checks that `subjects` are exactly the subjects of `range`, in order.
fn check_subjects(
    label: &str,
    subjects: &[SubjectMetrics],
    range: Range<u64>,
    n: u64,
) -> Result<(), ShardError> {
    let want = range.end - range.start;
    if subjects.len() as u64 != want {
        return Err(contents(format!(
            "regimen \"{label}\": has {} subject rows, expected {want} (subjects {} to {} of n = {n})",
            subjects.len(),
            range.start,
            range.end.saturating_sub(1)
        )));
    }
    let (first, last) = (range.start, range.end.saturating_sub(1));
    for (row, (i, m)) in range.zip(subjects).enumerate() {
        if m.subject != i {
            return Err(contents(format!(
                "regimen \"{label}\": subject row {} is subject {}, expected subject {i} (this shard holds subjects {first} to {last} of n = {n}, in order, each once)",
                row + 1,
                m.subject,
            )));
        }
    }
    Ok(())
}

/// The merge in progress: shards folded in index order into the result of the whole study.
/// Holds one histogram per regimen (dense) and the appended rows, never a shard it was given.
#[derive(Debug)]
pub struct Merger<'a> {
    scenario: &'a Scenario,
    count: u32,
    next: u32,
    acc: StudyResult,
    /// Of the shards folded so far, in order.
    checksums: Vec<String>,
    fields: SubjectFields,
}

impl<'a> Merger<'a> {
    /// A merge of `count` shards of `scenario` (parsed from the first shard's text).
    pub fn new(scenario: &'a Scenario, count: u32) -> Self {
        Self {
            scenario,
            count,
            next: 1,
            acc: StudyResult::default(),
            checksums: Vec::new(),
            fields: SubjectFields::default(),
        }
    }

    /// Verifies shard `f` (which must be the next by index) and folds it in.
    pub fn fold(&mut self, f: ShardFile) -> Result<(), ShardError> {
        f.verify_integrity()?;
        if f.shard.count != self.count || f.shard.index != self.next {
            return Err(contents(format!(
                "is shard {}/{}, expected shard {}/{}",
                f.shard.index, f.shard.count, self.next, self.count
            )));
        }
        verify_contents(self.scenario, &f)?;
        self.next += 1;
        self.checksums.push(f.checksum);
        if let Some(pops) = f.populations {
            let acc = self.acc.populations.get_or_insert_with(Vec::new);
            let first = acc.is_empty();
            for (i, p) in pops.into_iter().enumerate() {
                let times = p.band_times_h.len();
                if first {
                    acc.push(RegimenPopulation {
                        label: p.label.clone(),
                        band_times_h: p.band_times_h.clone(),
                        histogram: BandHistogram {
                            exp_lo: p.exp_lo,
                            counts: vec![0; times * BandHistogram::bins()],
                            times,
                        },
                        observed: p.observed_counts.as_ref().map(|_| BandHistogram {
                            exp_lo: p.exp_lo,
                            counts: vec![0; times * BandHistogram::bins()],
                            times,
                        }),
                        below_lloq: p.below_lloq.as_ref().map(|b| vec![0; b.len()]),
                        subjects: Vec::new(),
                        summary: SubjectSummary::default(),
                    });
                }
                let a = &mut acc[i];
                if a.band_times_h != p.band_times_h || a.histogram.exp_lo != p.exp_lo {
                    return Err(contents(format!(
                        "regimen \"{}\": its band times or histogram range differ from shard 1's",
                        p.label
                    )));
                }
                add_sparse(&mut a.histogram, &p.counts);
                if let (Some(h), Some(c)) = (&mut a.observed, &p.observed_counts) {
                    add_sparse(h, c);
                }
                if let (Some(x), Some(y)) = (&mut a.below_lloq, &p.below_lloq) {
                    for (c, d) in x.iter_mut().zip(y) {
                        *c += d;
                    }
                }
                // The rows are not kept: [`SubjectPasses`] reads them again.
                self.fields.union(&SubjectFields::of(&p.subjects));
            }
        }
        if let Some(rows) = f.sweep_rows {
            self.acc
                .sweep_rows
                .get_or_insert_with(Vec::new)
                .extend(rows);
        }
        Ok(())
    }

    /// The merged result, once every shard is folded in, without the subjects: their summaries
    /// are empty and their rows dropped. The [`SubjectPasses`] read them again from the shards.
    pub fn finish(self) -> Result<(StudyResult, SubjectPasses), ShardError> {
        if self.next != self.count + 1 {
            return Err(contents(format!(
                "the merge stopped at shard {} of {}",
                self.next, self.count
            )));
        }
        let passes = SubjectPasses {
            count: self.count,
            n: self.scenario.population.as_ref().map_or(0, |p| p.n),
            target_trough_ng_ml: self
                .scenario
                .population
                .as_ref()
                .and_then(|p| p.target_trough_ng_ml),
            labels: self
                .acc
                .populations
                .iter()
                .flatten()
                .map(|p| p.label.clone())
                .collect(),
            checksums: self.checksums,
            fields: self.fields,
        };
        Ok((self.acc, passes))
    }
}

/// The subject rows of a shard file and its identity, read without the rest (the histograms
/// and scenario are skipped unkept), for the passes of [`SubjectPasses`].
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ShardSubjects {
    pub shard: Shard,
    pub checksum: String,
    pub populations: Option<Vec<ShardSubjectRows>>,
}

/// The subject rows of one regimen in a shard file.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ShardSubjectRows {
    pub label: String,
    pub subjects: Vec<SubjectMetrics>,
}

/// The per-subject outputs of a merge, read from the verified shards again, once: [`Self::read`]
/// hands each shard's rows of each regimen to the caller, in shard order, who keeps them where
/// it likes (a merge spills the CSV rows and the summary columns to files); then
/// [`Self::summaries`] folds each regimen's summary one column at a time from what the caller
/// gives back, holding one column of one regimen (8 bytes per subject), never the rows. A shard
/// is accepted again only with the checksum it was verified with.
#[derive(Debug)]
pub struct SubjectPasses {
    count: u32,
    n: u64,
    target_trough_ng_ml: Option<f64>,
    labels: Vec<String>,
    checksums: Vec<String>,
    fields: SubjectFields,
}

impl SubjectPasses {
    /// The optional fields the subjects carry (for the CSV header).
    pub fn fields(&self) -> &SubjectFields {
        &self.fields
    }

    /// The regimens' labels, in the order of the populations.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The summary columns, in the order [`Self::summaries`] asks for them.
    pub fn columns(&self) -> Vec<SubjectColumn> {
        SubjectColumn::all(&self.fields.markers)
    }

    /// Number of shards [`Self::read`] reads.
    pub fn shards(&self) -> u32 {
        self.count
    }

    /// Checks that a shard read again is the one verified: its index, checksum and rows.
    fn check(&self, index: u32, s: &ShardSubjects) -> Result<(), ShardError> {
        let Some(recorded) = self.checksums.get(index as usize - 1) else {
            return Err(contents(format!("there is no shard {index}")));
        };
        if s.shard.index != index || s.shard.count != self.count || &s.checksum != recorded {
            return Err(contents(format!(
                "changed during the merge: read again, it is shard {}/{} with checksum {}, verified as shard {index}/{} with checksum {recorded}",
                s.shard.index, s.shard.count, s.checksum, self.count
            )));
        }
        let pops = s.populations.as_deref().unwrap_or_default();
        if pops.len() != self.labels.len() {
            return Err(contents(format!(
                "changed during the merge: it has {} regimen populations, verified with {}",
                pops.len(),
                self.labels.len()
            )));
        }
        for (p, label) in pops.iter().zip(&self.labels) {
            if &p.label != label {
                return Err(contents(format!(
                    "changed during the merge: a regimen is \"{}\", verified as \"{label}\"",
                    p.label
                )));
            }
            check_subjects(&p.label, &p.subjects, s.shard.slice(self.n), self.n)?;
        }
        Ok(())
    }

    /// Reads every shard once, in order: `read(k)` reads shard `k` (1 to the count), which is
    /// checked against the shard verified; `rows(r, subjects)` then takes the rows of regimen
    /// `r` (index into [`Self::labels`]) of that shard, regimen after regimen. `mismatch(k, e)`
    /// reports a shard that differs from the one verified.
    pub fn read<E>(
        &self,
        mut read: impl FnMut(u32) -> Result<ShardSubjects, E>,
        mut rows: impl FnMut(usize, &[SubjectMetrics]) -> Result<(), E>,
        mismatch: impl Fn(u32, ShardError) -> E,
    ) -> Result<(), E> {
        for k in 1..=self.count {
            let s = read(k)?;
            self.check(k, &s).map_err(|e| mismatch(k, e))?;
            for (r, p) in s.populations.iter().flatten().enumerate() {
                rows(r, &p.subjects)?;
            }
        }
        Ok(())
    }

    /// Each regimen's summary, folded one column at a time: `column(r, c)` gives the values
    /// of column `c` for regimen `r`'s subjects that have one, in subject order (those
    /// [`Self::read`] handed over).
    pub fn summaries<E>(
        &self,
        mut column: impl FnMut(usize, SubjectColumn) -> Result<Vec<f64>, E>,
    ) -> Result<Vec<SubjectSummary>, E> {
        (0..self.labels.len())
            .map(|r| {
                SubjectSummary::folded(
                    self.n,
                    self.target_trough_ng_ml,
                    &self.fields.markers,
                    |c| column(r, c),
                )
            })
            .collect()
    }
}

/// Adds sparse (bin, count) pairs (already checked in range) to a dense histogram.
fn add_sparse(h: &mut BandHistogram, counts: &[(u32, u32)]) {
    for &(bin, c) in counts {
        if let Some(slot) = h.counts.get_mut(bin as usize) {
            *slot += c;
        }
    }
}

/// The shard indices of 1..=`count` missing from `have`, in order.
pub fn missing(count: u32, have: &[u32]) -> Vec<u32> {
    let mut seen = vec![false; count as usize + 1];
    for &i in have {
        if let Some(s) = seen.get_mut(i as usize) {
            *s = true;
        }
    }
    (1..=count).filter(|&i| !seen[i as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_separates_parts_and_is_stable() {
        // FNV-1a 64 of nothing but the 8-byte length 0: fixed forever, shards depend on it.
        assert_eq!(content_hash(&[]), "fnv1a64:cbf29ce484222325");
        assert_ne!(content_hash(&[b"ab", b"c"]), content_hash(&[b"a", b"bc"]));
        assert_ne!(scenario_hash("x", None), scenario_hash("x", Some("")));
    }

    /// Three shards of a two-regimen population folded and passed over: the summaries of the
    /// whole run, and a shard that changed since it was verified refused.
    #[test]
    fn subject_passes_give_the_whole_runs_summaries() {
        let text = "duration_h = 96\nstep_h = 2\n\
            [[regimen]]\nlabel = \"a\"\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 4\n\
            [[regimen]]\nlabel = \"b\"\ncompound = \"mk7\"\ndose_ug = 90\ninterval_h = 24\ndoses = 4\n\
            [population]\nn = 17\nseed = 2\ncv_pct = { ka_per_h = 30, v_l = 30 }\ntarget_trough_ng_ml = 1.0\n";
        let s = crate::scenario::parse_str(text, "p").unwrap();
        let solver = SolverKind::Exact;
        let whole = crate::study::compute(&s, solver, Shard::WHOLE, &|_, _| {}).unwrap();
        let json: Vec<Vec<u8>> = (1..=3)
            .map(|index| {
                let shard = Shard { index, count: 3 };
                let r = crate::study::compute(&s, solver, shard, &|_, _| {}).unwrap();
                let f = ShardFile::new(text, None, "p", solver, "k2sim run p.toml", shard, r);
                serde_json::to_vec(&f).unwrap()
            })
            .collect();
        let mut merger = Merger::new(&s, 3);
        for j in &json {
            merger.fold(serde_json::from_slice(j).unwrap()).unwrap();
        }
        let (_, passes) = merger.finish().unwrap();
        assert_eq!(passes.columns().len(), 5);
        assert_eq!(passes.labels(), ["a", "b"]);
        let read = |k: u32| {
            serde_json::from_slice::<ShardSubjects>(&json[k as usize - 1])
                .map_err(|e| e.to_string())
        };
        // What a merge keeps of each shard's rows: here, the rows themselves per regimen.
        let mut kept: Vec<Vec<SubjectMetrics>> = vec![Vec::new(); 2];
        passes
            .read(
                read,
                |r, rows| {
                    kept[r].extend_from_slice(rows);
                    Ok(())
                },
                |k, e| format!("shard {k}: {e}"),
            )
            .unwrap();
        let summaries = passes
            .summaries(|r, c| Ok::<_, String>(kept[r].iter().filter_map(|m| c.value(m)).collect()))
            .unwrap();
        let pops = whole.populations.unwrap();
        let want: Vec<SubjectSummary> = pops.iter().map(|p| p.summary.clone()).collect();
        assert_eq!(summaries, want);
        assert!(want[0].trough_at_or_above_target.is_some());
        for (p, k) in pops.iter().zip(&kept) {
            assert_eq!(&p.subjects, k, "the rows of {} in subject order", p.label);
        }
        // Shard 2 replaced by another shard of the same slice, with another checksum.
        let err = passes
            .read(
                |k| {
                    let mut s = read(k)?;
                    if k == 2 {
                        s.checksum = "fnv1a64:0000000000000000".into();
                    }
                    Ok(s)
                },
                |_, _| Ok(()),
                |k, e| format!("shard {k}: {e}"),
            )
            .unwrap_err();
        assert!(
            err.starts_with("shard 2: changed during the merge"),
            "{err}"
        );
    }

    #[test]
    fn missing_lists_every_gap() {
        assert_eq!(missing(5, &[1, 3]), vec![2, 4, 5]);
        assert_eq!(missing(3, &[3, 1, 2]), Vec::<u32>::new());
    }
}
