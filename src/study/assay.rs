//! Assay error and the limit of quantification of a population (`[population] residual`,
//! `lloq_ng_ml`): what a study measuring the virtual subjects would see.
//!
//! At each band time a subject's true concentration C is also "measured":
//! C_obs = C + ε·√((prop·C)² + add²) with ε standard normal (the combined additive and
//! proportional error model, docs/references.md#residual-error), drawn from a stream of its own
//! derived from (seed, subject, grid step). An observation therefore never depends on thread
//! count, shard split or which other samples are taken, and adding an assay leaves the
//! subjects' parameters and the true bands untouched. Observed values go into a second
//! histogram of the same layout (negative ones into its ≤ 0 bin, so an observed percentile at
//! or below zero is reported as 0); samples below the LLOQ (observed when there is a residual
//! error, else true) are counted per band time. All are integer counts and add like the bands.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

use crate::scenario::{PopulationSpec, ResidualSpec};

use super::population::{BandHistogram, RegimenPopulation, SubjectMetrics, SubjectSummary};

/// SplitMix64's output function: a bijective mix of 64 bits.
fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Tag that keeps the residual streams apart from the subjects' parameter streams.
const RESIDUAL_STREAM: u64 = 0x6173_7361_795f_6572; // "assay_er"

/// The standard normal ε of subject `subject`'s sample at grid step `step`, from a stream of
/// its own derived from (seed, subject, step): independent across subjects and times, and the
/// same whatever else is computed, by which thread or in which shard.
pub fn residual_eps(seed: u64, subject: u64, step: u64) -> f64 {
    let key = mix64(mix64(mix64(seed ^ RESIDUAL_STREAM) ^ subject) ^ step);
    Xoshiro256PlusPlus::seed_from_u64(key).sample(StandardNormal)
}

/// What a worker adds up at the band times: the true histogram, and the observed histogram and
/// LLOQ counts when asked. Integer counts, so any order of adding gives the same result.
#[derive(Debug, Clone)]
pub(super) struct BandCounts {
    pub(super) hist: BandHistogram,
    observed: Option<BandHistogram>,
    below_lloq: Option<Vec<u32>>,
    /// What the assay needs: the seed, the residual error and the LLOQ, and the grid steps
    /// between band times (band time `row` is grid step `row × stride`).
    seed: u64,
    residual: Option<ResidualSpec>,
    lloq_ng_ml: Option<f64>,
    stride: usize,
}

impl BandCounts {
    /// Empty counts for `times` band times `stride` grid steps apart, the histograms' range
    /// set by the typical subject's Cmax.
    pub(super) fn new(
        spec: &PopulationSpec,
        stride: usize,
        times: usize,
        typical_max_ng_ml: f64,
    ) -> Self {
        let hist = || BandHistogram::new(times, typical_max_ng_ml);
        Self {
            hist: hist(),
            observed: spec.residual.map(|_| hist()),
            below_lloq: spec.lloq_ng_ml.map(|_| vec![0; times]),
            seed: spec.seed,
            residual: spec.residual,
            lloq_ng_ml: spec.lloq_ng_ml,
            stride,
        }
    }

    /// Adds subject `subject`'s true concentration `c` at band time `row`, and its observation.
    pub(super) fn record(&mut self, row: usize, subject: u64, c: f64) {
        let bin = self.hist.bin(c);
        self.hist.counts[row * BandHistogram::bins() + bin] += 1;
        self.observe(row, std::iter::once((subject, c)));
    }

    /// The assay part of [`Self::record`] for many (subject, true concentration) pairs at band
    /// time `row`: their observations and LLOQ counts; nothing without an assay. The batch
    /// kernel bins the true concentrations in its own tight loop and calls this beside it.
    #[inline]
    pub(super) fn observe(&mut self, row: usize, samples: impl Iterator<Item = (u64, f64)>) {
        if self.observed.is_none() && self.below_lloq.is_none() {
            return;
        }
        let step = (row * self.stride) as u64;
        for (subject, c) in samples {
            let seen = match (&self.residual, &mut self.observed) {
                (Some(r), Some(h)) => {
                    let obs = c + residual_eps(self.seed, subject, step) * r.sd_ng_ml(c);
                    let bin = h.bin(obs);
                    h.counts[row * BandHistogram::bins() + bin] += 1;
                    obs
                }
                _ => c,
            };
            if let (Some(lloq), Some(below)) = (self.lloq_ng_ml, &mut self.below_lloq) {
                if seen < lloq {
                    below[row] += 1;
                }
            }
        }
    }

    /// Adds the counts of another worker.
    pub(super) fn merge(&mut self, other: &BandCounts) {
        self.hist.merge(&other.hist);
        if let (Some(a), Some(b)) = (&mut self.observed, &other.observed) {
            a.merge(b);
        }
        if let (Some(a), Some(b)) = (&mut self.below_lloq, &other.below_lloq) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// The population result of regimen `label`: these counts with the band times and the
    /// subjects.
    pub(super) fn into_population(
        self,
        label: String,
        band_times_h: Vec<f64>,
        subjects: Vec<SubjectMetrics>,
        summary: SubjectSummary,
    ) -> RegimenPopulation {
        RegimenPopulation {
            label,
            band_times_h,
            histogram: self.hist,
            observed: self.observed,
            below_lloq: self.below_lloq,
            subjects,
            summary,
        }
    }
}

/// What a study with the population's LLOQ would see for one regimen: the share of samples
/// below the limit at each band time and the window in which at least half of them are
/// quantifiable.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LloqSummary {
    /// The limit (ng/mL).
    pub lloq_ng_ml: f64,
    /// Whether the samples are observed concentrations (with residual error) or true ones.
    pub on_observed: bool,
    /// Share of the samples below the LLOQ (0–1) at each band time.
    #[serde(skip)]
    pub frac_below: Vec<f64>,
    /// First band time at which at least half of the samples are at or above the LLOQ (h).
    pub first_detectable_h: Option<f64>,
    /// Last band time at which at least half of the samples are at or above the LLOQ (h):
    /// "detectable until".
    pub detectable_until_h: Option<f64>,
    /// Whether the last band time (the end of the run) is still detectable, so the window may
    /// go on past the run.
    pub detectable_at_end: bool,
}

/// The LLOQ summary of a population, when its spec has `lloq_ng_ml`. "Detectable" at a band
/// time: at least half of the samples at or above the LLOQ (2 × below ≤ samples, in integers).
pub fn lloq_summary(spec: &PopulationSpec, p: &RegimenPopulation) -> Option<LloqSummary> {
    let lloq_ng_ml = spec.lloq_ng_ml?;
    let below = p.below_lloq.as_ref()?;
    let bins = BandHistogram::bins();
    let total = |t: usize| -> u64 {
        p.histogram.counts[t * bins..(t + 1) * bins]
            .iter()
            .map(|&c| u64::from(c))
            .sum()
    };
    let mut frac_below = Vec::with_capacity(below.len());
    let mut detectable = Vec::with_capacity(below.len());
    for (t, &b) in below.iter().enumerate() {
        let n = total(t);
        frac_below.push(if n == 0 {
            f64::NAN
        } else {
            f64::from(b) / n as f64
        });
        detectable.push(n > 0 && 2 * u64::from(b) <= n);
    }
    let at = |i: Option<usize>| i.map(|i| p.band_times_h[i]);
    Some(LloqSummary {
        lloq_ng_ml,
        on_observed: spec.residual.is_some(),
        first_detectable_h: at(detectable.iter().position(|&d| d)),
        detectable_until_h: at(detectable.iter().rposition(|&d| d)),
        detectable_at_end: detectable.last().copied().unwrap_or(false),
        frac_below,
    })
}
