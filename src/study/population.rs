//! Virtual populations: log-normal between-subject variability (optionally correlated), missed
//! doses and dose-time jitter, simulated in parallel with results independent of thread count.
//!
//! Shape of the computation. Subjects are processed in chunks of [`CHUNK`]; within a chunk the
//! exact solver advances all subjects together, time step by time step (structure of arrays), so
//! the inner loop is a few multiply-adds over contiguous arrays. Each chunk produces its
//! subjects' metrics and adds their concentrations at the band times to a per-worker histogram.
//! Histograms hold integer counts, so summing them in any order gives the same result: the
//! percentile bands are byte-identical for any thread count and for any split into shards.
//!
//! Memory is bounded by design: no n × time-points array is ever held. A run holds the
//! per-subject metrics (O(n)) and one histogram per worker (band points × bins, independent of n).
//!
//! Percentile accuracy: concentrations are binned with 2^[`BIN_BITS`] linear bins per octave, so a
//! reported percentile is within ±2^-(BIN_BITS+1) ≈ ±0.2 % (relative) of an exact order statistic
//! of the simulated subjects, for values between 2^-24 and 2^8 times the typical subject's Cmax;
//! lower values are reported as 0.

use crate::model::AnyPropagator;
use crate::model::SolverKind;
use nalgebra::DMatrix;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

use crate::dosing::DoseEvent;
use crate::engine::input::largest_dose_ug;
use crate::engine::sim::simulate_inputs;
use crate::engine::start::run_start;
use crate::error::SimError;
use crate::model::exact::{peak_after, state_after, StepMap};
use crate::model::ode::OdeOptions;
use crate::model::ModelParam;
use crate::model::{PkModel, State};
use crate::scenario::PopulationSpec;
use crate::scenario::Regimen;
pub use crate::study::walk::{batch_fallback_reason, per_subject_reason, uses_batch_kernel};
use crate::study::walk::{batch_serves, on_grid};

use super::assay::BandCounts;
use crate::response::{Marker, MarkerPreset};

/// Subjects advanced together by the batch kernel.
pub const CHUNK: usize = 256;
pub use super::bands::{BandHistogram, BIN_BITS};
pub use super::summary::{distribution, Distribution, SubjectSummary};

/// Metrics of one simulated subject.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubjectMetrics {
    /// Subject index, 0-based, stable across thread counts and shards.
    pub subject: u64,
    pub ka_per_h: f64,
    pub half_life_h: f64,
    pub v_l: f64,
    pub f: f64,
    /// Inter-compartmental clearance and peripheral volume of two-compartment subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q_l_per_h: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_l: Option<f64>,
    /// Highest concentration of the run, located exactly (ng/mL).
    pub cmax_ng_ml: f64,
    /// Time of Cmax (h).
    pub tmax_h: f64,
    /// Lowest concentration on the output grid over the last dosing interval of the run (ng/mL).
    pub c_trough_ng_ml: f64,
    /// Concentration at the end of the run (ng/mL).
    pub c_end_ng_ml: f64,
    /// AUC over the last dosing interval of the run (ng·h/mL).
    pub auc_last_tau_ng_h_ml: f64,
    /// Doses actually taken.
    pub doses_taken: u32,
    /// With `[response]`: the change of dp-ucMGP from baseline at the end of the run (%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp_ucmgp_pct_change_at_end: Option<f64>,
    /// With `[response]`: the change of the ucOC:cOC ratio at the end of the run (%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ucoc_pct_change_at_end: Option<f64>,
}

impl SubjectMetrics {
    /// The subject's change of `marker` at the end of the run (%), when modelled.
    pub fn pct_change_at_end(&self, marker: Marker) -> Option<f64> {
        match marker {
            Marker::DpUcmgp => self.dp_ucmgp_pct_change_at_end,
            Marker::Ucoc => self.ucoc_pct_change_at_end,
        }
    }
}

/// The percentiles reported for bands and metric distributions.
pub const PERCENTILES: [f64; 5] = [5.0, 25.0, 50.0, 75.0, 95.0];

/// The population result of one regimen (or one shard of it).
#[derive(Debug, Clone, PartialEq)]
pub struct RegimenPopulation {
    /// Regimen label.
    pub label: String,
    /// Band times (h).
    pub band_times_h: Vec<f64>,
    /// Concentration histogram at the band times.
    pub histogram: BandHistogram,
    /// With `residual`: histogram of the observed concentrations ([`super::assay`]).
    pub observed: Option<BandHistogram>,
    /// With `lloq_ng_ml`: samples below the LLOQ at each band time ([`super::assay`]).
    pub below_lloq: Option<Vec<u32>>,
    /// Per-subject metrics, in subject order. Empty after a merge of shards, which streams
    /// them from the shard files instead of holding them.
    pub subjects: Vec<SubjectMetrics>,
    /// The summary of the subjects (of this shard's subjects, in a shard).
    pub summary: SubjectSummary,
}

/// Everything a population needs besides the subjects to run.
struct Setup<'a> {
    spec: &'a PopulationSpec,
    regimen: &'a Regimen,
    duration_h: f64,
    step_h: f64,
    solver: SolverKind,
    ode: OdeOptions,
    omega: Vec<(ModelParam, f64)>,
    chol: DMatrix<f64>,
    events: Vec<DoseEvent>,
    band_times_h: Vec<f64>,
    /// Window at the end of the run for trough and AUC: the regimen's period, else 24 h.
    tau_h: f64,
    typical_max_ng_ml: f64,
    /// With `[response]`: the marker presets each subject's course drives.
    response: &'a [MarkerPreset],
}

/// SD of the log of each varying parameter.
type Omega = Vec<(ModelParam, f64)>;

/// A drawn subject: index, model, doses taken (times jittered), and which doses were taken.
type Drawn = (u64, (PkModel, Vec<DoseEvent>, Vec<bool>));

/// Cholesky factor of the correlation-scaled covariance of the log-parameters.
fn covariance_factor(spec: &PopulationSpec) -> Result<(Omega, DMatrix<f64>), SimError> {
    // ω² = ln(1 + CV²): the log-normal whose CV is exactly the one given.
    let omega: Vec<(ModelParam, f64)> = spec
        .cv_pct
        .iter()
        .map(|&(p, cv)| (p, (1.0 + (cv / 100.0).powi(2)).ln().sqrt()))
        .collect();
    let k = omega.len();
    let mut cov = DMatrix::<f64>::zeros(k, k);
    for i in 0..k {
        cov[(i, i)] = omega[i].1 * omega[i].1;
    }
    for &(a, b, rho) in &spec.correlations {
        let (Some(i), Some(j)) = (
            omega.iter().position(|o| o.0 == a),
            omega.iter().position(|o| o.0 == b),
        ) else {
            return Err(SimError::Population {
                reason: format!(
                    "correlation of {} and {}: both need a cv_pct",
                    a.key(),
                    b.key()
                ),
            });
        };
        cov[(i, j)] = rho * omega[i].1 * omega[j].1;
        cov[(j, i)] = cov[(i, j)];
    }
    let chol = nalgebra::Cholesky::new(cov).ok_or_else(|| SimError::Population {
        reason: "the correlations are not a valid correlation matrix (not positive definite); reduce them".into(),
    })?;
    Ok((omega, chol.l()))
}

/// A subject's random stream: SplitMix64 of (seed, index), so stream i never depends on how
/// many subjects or threads there are.
pub(super) fn subject_rng(seed: u64, index: u64) -> Xoshiro256PlusPlus {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31))
}

/// Draws subject `index`: its model and its doses (misses and jitter applied).
fn draw_subject(s: &Setup, index: u64) -> Result<(PkModel, Vec<DoseEvent>, Vec<bool>), SimError> {
    let mut rng = subject_rng(s.spec.seed, index);
    let k = s.omega.len();
    let z: Vec<f64> = (0..k).map(|_| rng.sample(StandardNormal)).collect();
    // Each varying parameter is the typical value times exp(η), set through `ModelParam`,
    // which checks the whole model again.
    let mut model = s.regimen.model;
    for i in 0..k {
        let eta: f64 = (0..=i).map(|j| s.chol[(i, j)] * z[j]).sum();
        let param = s.omega[i].0;
        let typical = param.get(&model).ok_or_else(|| SimError::Population {
            reason: format!("regimen has no parameter {}", param.key()),
        })?;
        model = param.set(&model, typical * eta.exp())?;
    }
    let mut taken = Vec::with_capacity(s.events.len());
    let mut events = Vec::with_capacity(s.events.len());
    for e in &s.events {
        let take = s.spec.miss_prob == 0.0 || rng.random::<f64>() >= s.spec.miss_prob;
        let jitter = if s.spec.jitter_h > 0.0 {
            s.spec.jitter_h * rng.sample::<f64, _>(StandardNormal).clamp(-3.0, 3.0)
        } else {
            0.0
        };
        taken.push(take);
        if take {
            events.push(e.at((e.time_h + jitter).max(0.0)));
        }
    }
    // Jitter can swap neighbouring doses; keep them in time order.
    events.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
    Ok((model, events, taken))
}

/// Simulates subjects `range` of the population of `regimen`. `progress(done)` is called after
/// each chunk with the number of subjects finished so far in this call.
#[allow(clippy::too_many_arguments)]
pub fn simulate_population(
    spec: &PopulationSpec,
    regimen: &Regimen,
    duration_h: f64,
    step_h: f64,
    solver: SolverKind,
    ode: OdeOptions,
    range: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<RegimenPopulation, SimError> {
    simulate_population_into(
        spec,
        regimen,
        &[],
        duration_h,
        step_h,
        solver,
        ode,
        range,
        progress,
        None,
    )
}

/// Where a population's subjects go as they are computed, instead of into the result: called
/// with the subjects in subject order, a chunk at a time (so a caller can write them out and
/// hold none).
pub type SubjectSink<'a> = &'a mut (dyn FnMut(&[SubjectMetrics]) + Send);

/// [`simulate_population`] with the `[response]` marker presets (each subject's course then
/// drives the markers, and their change at the end of the run joins the subject's metrics; the
/// subjects take the per-subject walk, which keeps the whole course), and the subjects handed
/// to `sink` in subject order as they are computed, when there is one: then the result holds no subjects and its summary is empty
/// ([`SubjectSummary::new`]), for the caller to fold from what it kept
/// ([`SubjectSummary::folded`]). Memory then holds the chunks computed ahead of the next one
/// due, not the population.
#[allow(clippy::too_many_arguments)]
pub fn simulate_population_into(
    spec: &PopulationSpec,
    regimen: &Regimen,
    response: &[MarkerPreset],
    duration_h: f64,
    step_h: f64,
    solver: SolverKind,
    ode: OdeOptions,
    range: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
    sink: Option<SubjectSink>,
) -> Result<RegimenPopulation, SimError> {
    let (omega, chol) = covariance_factor(spec)?;
    let events = regimen.schedule.events();
    let stride = (spec.band_step_h / step_h).round().max(1.0) as u64;
    let n_steps = (duration_h / step_h + 1e-9).floor() as u64;
    let band_times_h: Vec<f64> = (0..=n_steps)
        .step_by(stride as usize)
        .map(|k| k as f64 * step_h)
        .collect();
    let tau_h = regimen
        .schedule
        .periodic()
        .map_or(24.0, |p| p.period_h)
        .min(duration_h);
    // The typical subject sets the histogram range.
    let typical_grid = crate::dosing::output_grid_h(
        duration_h,
        step_h.max(duration_h / 4000.0),
        &events,
        regimen.model.tlag_h,
    );
    let scale = largest_dose_ug(&regimen.model, &events);
    let mut typical_prop = AnyPropagator::closed_form_or_ode(regimen.model, scale);
    let start = run_start(
        &mut typical_prop,
        &regimen.schedule,
        regimen.at_steady_state,
        &events,
        duration_h,
    )?;
    let typical = simulate_inputs(
        &mut typical_prop,
        start.state,
        0.0,
        &start.inputs,
        &typical_grid,
    )?;
    let setup = Setup {
        spec,
        regimen,
        duration_h,
        step_h,
        solver,
        ode,
        omega,
        chol,
        events,
        band_times_h,
        tau_h,
        typical_max_ng_ml: typical.cmax_ng_ml,
        response,
    };
    let chunks: Vec<std::ops::Range<u64>> = (range.start..range.end)
        .step_by(CHUNK)
        .map(|a| a..(a + CHUNK as u64).min(range.end))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicU64::new(0);
    let workers = rayon::current_num_threads().min(chunks.len()).max(1);
    type WorkerOut = Result<(Vec<(usize, Vec<SubjectMetrics>)>, BandCounts), SimError>;
    // Workers push their results here; nothing blocks inside the scope, so a pool of one
    // thread runs the workers one after the other instead of deadlocking.
    let outs: std::sync::Mutex<Vec<WorkerOut>> = std::sync::Mutex::new(Vec::new());
    let streamed = sink.is_some();
    let ordered = std::sync::Mutex::new(InOrder {
        next: 0,
        ahead: std::collections::BTreeMap::new(),
        sink,
    });
    rayon::scope(|scope| {
        for _ in 0..workers {
            let (setup, chunks, next, done, outs) = (&setup, &chunks, &next, &done, &outs);
            let ordered = &ordered;
            scope.spawn(move |_| {
                let mut hist = band_counts(setup);
                let mut mine = Vec::new();
                let result = (|| {
                    loop {
                        let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(r) = chunks.get(c) else { break };
                        let subjects = run_chunk(setup, r.clone(), &mut hist)?;
                        if streamed {
                            ordered
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .give(c, subjects);
                        } else {
                            mine.push((c, subjects));
                        }
                        let d = done
                            .fetch_add(r.end - r.start, std::sync::atomic::Ordering::Relaxed)
                            + (r.end - r.start);
                        progress(d);
                    }
                    Ok(())
                })();
                if let Ok(mut o) = outs.lock() {
                    o.push(result.map(|()| (mine, hist)));
                }
            });
        }
    });
    let outs = outs
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // The first worker's histogram takes in the others' (one histogram less held at once).
    let mut hist: Option<BandCounts> = None;
    let mut parts = Vec::with_capacity(chunks.len());
    for out in outs {
        let (p, h) = out?;
        match &mut hist {
            Some(acc) => acc.merge(&h),
            None => hist = Some(h),
        }
        parts.extend(p);
    }
    let hist = hist.unwrap_or_else(|| band_counts(&setup));
    parts.sort_by_key(|p| p.0);
    let subjects: Vec<SubjectMetrics> = parts.into_iter().flat_map(|p| p.1).collect();
    let summary = if streamed {
        SubjectSummary::new(range.end - range.start, spec.target_trough_ng_ml)
    } else {
        SubjectSummary::of(&subjects, spec.target_trough_ng_ml)
    };
    Ok(hist.into_population(regimen.label.clone(), setup.band_times_h, subjects, summary))
}

/// Chunks of subjects handed to a sink in chunk order, whatever order the workers finish them
/// in: a chunk finished early waits in `ahead` until those before it are given.
struct InOrder<'a> {
    next: usize,
    ahead: std::collections::BTreeMap<usize, Vec<SubjectMetrics>>,
    sink: Option<SubjectSink<'a>>,
}

impl InOrder<'_> {
    fn give(&mut self, chunk: usize, subjects: Vec<SubjectMetrics>) {
        self.ahead.insert(chunk, subjects);
        while let Some(s) = self.ahead.remove(&self.next) {
            if let Some(sink) = self.sink.as_mut() {
                sink(&s);
            }
            self.next += 1;
        }
    }
}

fn band_counts(s: &Setup) -> BandCounts {
    let stride = (s.spec.band_step_h / s.step_h).round().max(1.0) as usize;
    BandCounts::new(s.spec, stride, s.band_times_h.len(), s.typical_max_ng_ml)
}

fn run_chunk(
    s: &Setup,
    range: std::ops::Range<u64>,
    hist: &mut BandCounts,
) -> Result<Vec<SubjectMetrics>, SimError> {
    let mut drawn = Vec::with_capacity((range.end - range.start) as usize);
    for i in range.clone() {
        drawn.push((i, draw_subject(s, i)?));
    }
    let batch = s.solver == SolverKind::Exact
        && s.response.is_empty()
        && batch_serves(s.regimen)
        && s.spec.jitter_h == 0.0
        && on_grid(&s.events, s.regimen.model.tlag_h, s.step_h, s.duration_h);
    if batch {
        Ok(batch_kernel(s, &drawn, hist))
    } else {
        drawn
            .iter()
            .map(|(i, (m, ev, taken))| one_subject(s, *i, m, ev, taken, hist))
            .collect()
    }
}

fn metrics_of(index: u64, m: &PkModel, taken: &[bool]) -> SubjectMetrics {
    SubjectMetrics {
        subject: index,
        ka_per_h: m.ka_per_h,
        q_l_per_h: m.peripheral.map(|p| p.q_l_per_h),
        vp_l: m.peripheral.map(|p| p.vp_l),
        half_life_h: m.half_life_h(),
        v_l: m.v_l,
        f: m.f,
        cmax_ng_ml: 0.0,
        tmax_h: 0.0,
        c_trough_ng_ml: f64::INFINITY,
        c_end_ng_ml: 0.0,
        auc_last_tau_ng_h_ml: 0.0,
        doses_taken: taken.iter().filter(|&&t| t).count() as u32,
        dp_ucmgp_pct_change_at_end: None,
        ucoc_pct_change_at_end: None,
    }
}

/// The batch kernel: all subjects of the chunk advance together over the uniform grid; doses
/// (absorption starts) fall on grid points.
///
/// Per subject and step the inner loop is only the propagation (two decays and a transfer over
/// contiguous arrays). Everything else happens at the few steps where it is needed:
/// - Cmax: within a dosing interval the central amount has at most one interior maximum (see
///   `model::locate_max`), so the run's maximum is the largest of the interval end points and
///   the interior peaks. Each interval's peak comes in closed form when it starts: at the peak
///   ka·A_g = ke·A_c, so τ* = ln X/(ka − ke) with X = ka·r/(ke·(c + r)), r = g·ka/(ka − ke), and
///   A_c(τ*) = (ka/ke)·g·e^(−ka·τ*): one logarithm and one exponential per interval.
/// - concentrations only at band times and inside the last-interval window (trough, AUC).
fn batch_kernel(s: &Setup, drawn: &[Drawn], hist: &mut BandCounts) -> Vec<SubjectMetrics> {
    let n = drawn.len();
    let h = s.step_h;
    let k_end = (s.duration_h / h).round() as usize;
    let stride = (s.spec.band_step_h / h).round().max(1.0) as usize;
    let window_start = k_end.saturating_sub((s.tau_h / h).round() as usize);
    let tlag = s.regimen.model.tlag_h;
    // Absorption steps with the index of the dose.
    let dose_steps: Vec<(usize, usize)> = s
        .events
        .iter()
        .enumerate()
        .map(|(j, e)| (((e.time_h + tlag) / h).round() as usize, j))
        .filter(|&(k, _)| k <= k_end)
        .collect();
    let models: Vec<PkModel> = drawn.iter().map(|d| d.1 .0).collect();
    let maps: Vec<StepMap> = models.iter().map(|m| StepMap::new(m, h)).collect();
    let a: Vec<f64> = maps.iter().map(|m| m.gut_gut).collect();
    let b: Vec<f64> = maps.iter().map(|m| m.central_central).collect();
    let d: Vec<f64> = maps.iter().map(|m| m.gut_central).collect();
    let pa: Vec<f64> = maps.iter().map(|m| m.auc_from_central_h).collect();
    let pb: Vec<f64> = maps.iter().map(|m| m.auc_from_gut_h).collect();
    let inv_v: Vec<f64> = models.iter().map(|m| 1.0 / m.v_l).collect();
    let f: Vec<f64> = models.iter().map(|m| m.f).collect();
    // Which doses each subject took, dose-major.
    let all_taken = drawn.iter().all(|d| d.1 .2.iter().all(|&t| t));
    let taken: Vec<bool> = if all_taken {
        Vec::new()
    } else {
        (0..s.events.len())
            .flat_map(|j| drawn.iter().map(move |d| d.1 .2[j]))
            .collect()
    };
    let base = s.regimen.model.baseline_ng_ml;
    let mut gut = vec![0.0; n];
    let mut cen = vec![0.0; n];
    let mut auc = vec![0.0; n];
    let mut trough = vec![f64::INFINITY; n];
    let mut best = vec![(base, 0.0f64); n];
    let mut out: Vec<SubjectMetrics> = drawn
        .iter()
        .map(|(i, (m, _, taken))| metrics_of(*i, m, taken))
        .collect();
    let note = |best: &mut (f64, f64), c: f64, t: f64| {
        // Ties within 1e-8 keep the earlier time, as in sim::simulate.
        if c > best.0 * (1.0 + 1e-8) {
            best.1 = t;
        }
        if c > best.0 {
            best.0 = c;
        }
    };
    let mut next_dose = 0;
    for k in 0..=k_end {
        if k > 0 {
            if k > window_start {
                for i in 0..n {
                    auc[i] += pa[i] * cen[i] + pb[i] * gut[i];
                }
            }
            for i in 0..n {
                let g = gut[i];
                gut[i] = a[i] * g;
                cen[i] = b[i] * cen[i] + d[i] * g;
            }
        }
        let at_dose = next_dose < dose_steps.len() && dose_steps[next_dose].0 == k;
        let t = k as f64 * h;
        if k >= window_start {
            for i in 0..n {
                trough[i] = trough[i].min(cen[i] * inv_v[i] + base);
            }
        }
        if k % stride == 0 {
            let row = (k / stride) * BandHistogram::bins();
            for i in 0..n {
                let bin = hist.hist.bin(cen[i] * inv_v[i] + base);
                hist.hist.counts[row + bin] += 1;
            }
            let c = |i: usize| (drawn[i].0, cen[i] * inv_v[i] + base);
            hist.observe(k / stride, (0..n).map(c));
        }
        if !(at_dose || k == k_end) {
            continue;
        }
        // An interval ends here: its end point is a Cmax candidate.
        for i in 0..n {
            note(&mut best[i], cen[i] * inv_v[i] + base, t);
        }
        if !at_dose {
            continue;
        }
        while next_dose < dose_steps.len() && dose_steps[next_dose].0 == k {
            let j = dose_steps[next_dose].1;
            let amount = s.events[j].amount_ug;
            // Contiguous arrays, not each subject's own `taken` vector (a cache miss per
            // subject and dose).
            if all_taken {
                for i in 0..n {
                    gut[i] += f[i] * amount;
                }
            } else {
                let row = &taken[j * n..(j + 1) * n];
                for i in 0..n {
                    if row[i] {
                        gut[i] += f[i] * amount;
                    }
                }
            }
            next_dose += 1;
        }
        let k_next = dose_steps.get(next_dose).map_or(k_end, |x| x.0);
        let span_h = (k_next - k) as f64 * h;
        for (i, m) in models.iter().enumerate() {
            let (ka, ke, g, c) = (m.ka_per_h, m.ke_per_h, gut[i], cen[i]);
            if g <= 0.0 || ka * g <= ke * c {
                continue; // falling from the start: no interior peak
            }
            let peak = if (ka - ke).abs() > 1e-4 * ka.max(ke) {
                let r = g * ka / (ka - ke);
                let x = ka * r / (ke * (c + r));
                let tau = x.ln() / (ka - ke);
                (tau > 0.0 && tau < span_h).then(|| (ka / ke * g * (-ka * tau).exp(), tau))
            } else {
                peak_after(m, State::new(g, c))
                    .filter(|&tau| tau > 0.0 && tau < span_h)
                    .map(|tau| (state_after(m, State::new(g, c), tau).central_ug, tau))
            };
            if let Some((amount, tau)) = peak {
                note(&mut best[i], amount * inv_v[i] + base, t + tau);
            }
        }
    }
    for i in 0..n {
        let o = &mut out[i];
        o.cmax_ng_ml = best[i].0;
        o.tmax_h = best[i].1;
        o.c_end_ng_ml = cen[i] * inv_v[i] + base;
        o.c_trough_ng_ml = trough[i];
        o.auc_last_tau_ng_h_ml = auc[i] * inv_v[i] + base * (k_end - window_start) as f64 * h;
    }
    out
}

/// One subject on the general path (any solver, jittered or off-grid doses): simulated up to the
/// start of the last interval, then on from that state over the window, so the window's AUC
/// comes out of the same single pass.
fn one_subject(
    s: &Setup,
    index: u64,
    m: &PkModel,
    events: &[DoseEvent],
    taken: &[bool],
    hist: &mut BandCounts,
) -> Result<SubjectMetrics, SimError> {
    let grid = crate::dosing::output_grid_h(s.duration_h, s.step_h, events, m.tlag_h);
    let t_window = s.duration_h - s.tau_h;
    let cut = grid.partition_point(|&t| t < t_window);
    let mut head: Vec<f64> = grid[..cut].to_vec();
    head.push(t_window);
    // The window starts with its own first point (the pre-dose trough), whatever the grid has.
    let tail: Vec<f64> = std::iter::once(t_window)
        .chain(grid[cut..].iter().copied().filter(|&t| t > t_window))
        .collect();
    let scale = largest_dose_ug(m, events);
    let mut p = AnyPropagator::new(*m, s.solver, s.ode, scale);
    let start = run_start(
        &mut p,
        &s.regimen.schedule,
        s.regimen.at_steady_state,
        events,
        s.duration_h,
    )?;
    // The head's end state already holds inputs at exactly t_window.
    let cut_inputs = start.inputs.partition_point(|i| i.time_h <= t_window);
    let first = simulate_inputs(&mut p, start.state, 0.0, &start.inputs, &head)?;
    let window = simulate_inputs(
        &mut p,
        first.end_state,
        t_window,
        &start.inputs[cut_inputs..],
        &tail,
    )?;
    let mut o = metrics_of(index, m, taken);
    // The earlier peak wins ties, as in sim::simulate.
    (o.cmax_ng_ml, o.tmax_h) = if window.cmax_ng_ml > first.cmax_ng_ml * (1.0 + 1e-8) {
        (window.cmax_ng_ml, window.tmax_h)
    } else {
        (first.cmax_ng_ml.max(window.cmax_ng_ml), first.tmax_h)
    };
    o.c_end_ng_ml = *window.conc_ng_ml.last().unwrap_or(&m.baseline_ng_ml);
    o.c_trough_ng_ml = window
        .conc_ng_ml
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    o.auc_last_tau_ng_h_ml = window.auc_0_t_ng_h_ml;
    // Band times: from the head (before the window) and the window.
    let times: Vec<f64> = first.time_h[..cut]
        .iter()
        .chain(&window.time_h)
        .copied()
        .collect();
    let concs: Vec<f64> = first.conc_ng_ml[..cut]
        .iter()
        .chain(&window.conc_ng_ml)
        .copied()
        .collect();
    debug_assert!(times.windows(2).all(|w| w[0] < w[1]));
    let c = &s.regimen.compound;
    let course = (&times[..], &concs[..], m.baseline_ng_ml);
    [o.dp_ucmgp_pct_change_at_end, o.ucoc_pct_change_at_end] =
        crate::engine::response::changes_at_end(s.response, c, course, s.solver)?;
    for (row, &bt) in s.band_times_h.iter().enumerate() {
        let idx = times.partition_point(|&t| t < bt - 1e-9);
        let c = concs.get(idx).copied().unwrap_or(f64::NAN);
        hist.record(row, index, c);
    }
    Ok(o)
}

/// Memory the population state will take (bytes): per-subject metrics plus one histogram per
/// worker and the merged one (two each with observed bands, `observed`).
pub fn estimated_memory_bytes(n: u64, band_times: usize, workers: usize, observed: bool) -> u64 {
    let subjects = n * std::mem::size_of::<SubjectMetrics>() as u64;
    let hist = (band_times * BandHistogram::bins() * 4) as u64 * (1 + u64::from(observed));
    subjects + hist * (workers as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_bracket_their_values() {
        let h = BandHistogram::new(1, 3.0);
        for &v in &[1e-5, 0.01, 0.37, 1.0, 2.999, 3.0, 100.0] {
            let b = h.bin(v);
            let mid = h.value(b);
            assert!(
                (mid - v).abs() <= v * 2f64.powi(-(BIN_BITS as i32)),
                "{v} → {mid}"
            );
        }
        assert_eq!(h.bin(0.0), 0);
        assert_eq!(h.bin(1e-300), 1);
        assert_eq!(h.bin(1e300), BandHistogram::bins() - 1);
    }

    #[test]
    fn histogram_percentiles_match_exact_order_statistics() {
        let mut h = BandHistogram::new(1, 10.0);
        let values: Vec<f64> = (1..=1000).map(|i| f64::from(i) * 0.01).collect();
        for &v in &values {
            let b = h.bin(v);
            h.counts[b] += 1;
        }
        let exact = distribution(&values);
        for (p, e) in [(5.0, exact.p5), (50.0, exact.p50), (95.0, exact.p95)] {
            let got = h.percentile(0, p);
            assert!(
                (got - e).abs() <= e * 2f64.powi(-(BIN_BITS as i32 + 1)) * 1.0001,
                "p{p}: {got} vs {e}"
            );
        }
    }

    #[test]
    fn subject_streams_do_not_depend_on_order() {
        let a: f64 = subject_rng(7, 123).random();
        let _: f64 = subject_rng(7, 5).random();
        let b: f64 = subject_rng(7, 123).random();
        assert_eq!(a, b);
        assert_ne!(a, subject_rng(8, 123).random::<f64>());
    }
}
