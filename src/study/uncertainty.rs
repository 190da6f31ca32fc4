//! Uncertainty a writer can print (`k2sim run --uncertainty`): every sampled preset parameter
//! drawn over its documented plausible range ([`crate::compound::Plausible`]), the scenario run
//! again for each draw, and each metric reported as the preset's value with the 5th, 50th and
//! 95th percentiles over the draws, flagged robust or uncertain.
//!
//! What is sampled, and how:
//! - the compound parameters `ka_per_h`, `half_life_h` and `v_l` whose range is marked
//!   sampled, each **log-uniformly** over its range and **independently** of the others (the
//!   ranges come from separate sources; no joint distribution is known);
//! - one value per compound and draw, shared by every regimen of that compound, so that a
//!   comparison of two MK-7 regimens sees the same uncertain MK-7 in both;
//! - only where the regimen takes the preset's value: a value the scenario sets is the user's
//!   choice and stays fixed; and only for one-compartment first-order models, whose
//!   parameters the ranges describe.
//!
//! Draw `k` uses its own random stream derived from (seed, k), so the results are the same for
//! any thread count. A metric is **robust** when (p95 − p5)/p50 ≤ [`ROBUST_MAX_WIDTH`]: it then
//! depends on well-known quantities only (e.g. the time to steady state depends on the
//! half-life alone), otherwise **uncertain**.

use rand::RngExt;
use rayon::prelude::*;

use crate::compound::{self, Plausible};
use crate::engine::run::run;
use crate::error::SimError;
use crate::metric::{Metric, Metrics};
use crate::model::{Absorption, ModelParam, SolverKind};
pub use crate::scenario::UncertaintySpec;
use crate::scenario::{Regimen, Scenario};

use super::population::subject_rng;

/// Widest relative 90 % interval, (p95 − p5)/p50, of a metric called robust.
pub const ROBUST_MAX_WIDTH: f64 = 0.4;
/// Most band times per regimen (the output grid is thinned evenly to at most this many).
pub const MAX_BAND_POINTS: usize = 800;

/// The parameters an uncertainty run may sample, in drawing order.
const SAMPLED: [ModelParam; 3] = [ModelParam::KaPerH, ModelParam::HalfLifeH, ModelParam::VL];

/// One sampled parameter of one compound.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SampledParam {
    /// Compound preset id.
    pub compound: &'static str,
    /// Scenario key of the parameter.
    pub param: &'static str,
    /// Range sampled (log-uniformly).
    pub lo: f64,
    pub hi: f64,
    /// Where the range comes from.
    pub basis: String,
}

/// The interval of one metric of one regimen.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MetricInterval {
    /// The metric.
    pub metric: Metric,
    /// Its value with the preset parameters (the run's own value).
    pub preset: f64,
    /// Percentiles over the draws.
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    /// (p95 − p5)/p50 ≤ [`ROBUST_MAX_WIDTH`].
    pub robust: bool,
}

/// The uncertainty of one regimen.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RegimenUncertainty {
    /// Regimen label.
    pub regimen: String,
    /// Parameters sampled for this regimen (scenario keys).
    pub sampled: Vec<&'static str>,
    /// Parameters with a sampled range that this regimen does not sample, and why.
    pub not_sampled: Vec<NotSampled>,
    /// One interval per metric the run defines (metrics undefined for the regimen are left out).
    pub metrics: Vec<MetricInterval>,
    /// The carboxylation markers of `[response]`: their change at the end of the run and at
    /// steady state (%), each with its interval over the draws.
    pub markers: Vec<MarkerInterval>,
    /// `(time_h, p5, p50, p95)` of the concentration (ng/mL), on the thinned output grid.
    #[serde(skip)]
    pub band: Vec<(f64, f64, f64, f64)>,
}

/// The interval of a marker's change (%; a fall is negative) over the draws.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MarkerInterval {
    /// The marker.
    pub marker: crate::response::Marker,
    /// `pct_change_at_end` or `pct_change_ss`.
    pub quantity: &'static str,
    pub preset: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    /// (p95 − p5)/|p50| ≤ [`ROBUST_MAX_WIDTH`].
    pub robust: bool,
}

/// A parameter with a sampled range that a regimen does not sample.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NotSampled {
    /// Scenario key of the parameter.
    pub param: &'static str,
    /// Why not.
    pub why: String,
}

/// The result of an uncertainty run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Uncertainty {
    /// Draws and seed.
    pub spec: UncertaintySpec,
    /// How the parameters were drawn.
    pub distribution: &'static str,
    /// Every parameter sampled, per compound.
    pub parameters: Vec<SampledParam>,
    /// Per regimen, in scenario order.
    pub regimens: Vec<RegimenUncertainty>,
}

/// The description of the sampling in `summary.json` and captions.
pub const DISTRIBUTION: &str = "each sampled parameter log-uniform over its plausible range (k2sim compounds), independently; one value per compound and draw, shared by its regimens; values set by the scenario stay fixed";

/// The sampled ranges of the compounds the scenario's regimens use, in preset order.
fn sampled_params(s: &Scenario) -> Vec<SampledParam> {
    let mut out = Vec::new();
    for c in compound::presets() {
        if !s.regimens.iter().any(|r| r.compound.id == c.id) {
            continue;
        }
        for p in SAMPLED {
            if let Some(Plausible {
                lo,
                hi,
                sampled: true,
                basis,
            }) = cited(&c, p).range.clone()
            {
                out.push(SampledParam {
                    compound: c.id,
                    param: p.key(),
                    lo,
                    hi,
                    basis,
                });
            }
        }
    }
    out
}

/// The preset value of a sampled parameter.
fn cited(c: &compound::Compound, p: ModelParam) -> &compound::Cited {
    match p {
        ModelParam::KaPerH => &c.ka_per_h,
        ModelParam::HalfLifeH => &c.half_life_h,
        _ => &c.v_l,
    }
}

/// Whether the regimen takes parameter `p` from its preset, or why not.
fn applies(r: &Regimen, p: ModelParam) -> Result<(), String> {
    if r.model.peripheral.is_some() || r.model.absorption != Absorption::FirstOrder {
        return Err("the preset ranges describe the one-compartment first-order model; this regimen's model is not one".into());
    }
    let origin = match p {
        ModelParam::KaPerH => r.sources.ka_per_h.origin,
        ModelParam::HalfLifeH => r.sources.half_life_h.origin,
        _ => r.sources.v_l.origin,
    };
    match origin {
        "preset" => Ok(()),
        "formulation" => {
            Err("set by the regimen's `formulation` (its published Tmax), so fixed".into())
        }
        _ => Err("set by the scenario, so fixed".into()),
    }
}

/// Draw `k`: one value per sampled parameter, in the order of `params`.
fn draw(spec: &UncertaintySpec, params: &[SampledParam], k: u64) -> Vec<f64> {
    let mut rng = subject_rng(spec.seed, k);
    params
        .iter()
        .map(|p| {
            let u: f64 = rng.random();
            p.lo * (p.hi / p.lo).powf(u)
        })
        .collect()
}

/// The scenario with draw `values` applied to every regimen that takes the preset's value.
fn scenario_with(
    s: &Scenario,
    params: &[SampledParam],
    values: &[f64],
) -> Result<Scenario, SimError> {
    let mut out = s.clone();
    // The response presets are solved in dose space through the PK: solve them again through
    // this draw's PK, so the published dose arms stay reproduced (docs/response.md).
    if let Some(spec) = &mut out.response {
        let cavg = |id: &str| -> Option<f64> {
            let c = crate::compound::find(id)?;
            let value = |key: &str, preset: f64| {
                params
                    .iter()
                    .zip(values)
                    .find(|(p, _)| p.compound == id && p.param == key)
                    .map_or(preset, |(_, v)| *v)
            };
            let t_half = value("half_life_h", c.half_life_h.value);
            let v = value("v_l", c.v_l.value);
            Some(1.0 / (std::f64::consts::LN_2 / t_half * v * 24.0))
        };
        if let (Some(c7), Some(c4)) = (cavg("mk7"), cavg("mk4")) {
            let mut presets = std::mem::take(&mut spec.presets);
            for p in &mut presets {
                if let Some(mut again) =
                    crate::response::preset_through(p.marker, spec.population, c7, c4)
                {
                    // What the scenario sets is not solved from the arms: it stays.
                    spec.apply_overrides(&mut again);
                    *p = again;
                }
            }
            spec.presets = presets;
        }
    }
    for r in &mut out.regimens {
        for (p, &v) in params.iter().zip(values) {
            let Some(mp) = ModelParam::from_key(p.param) else {
                continue;
            };
            if p.compound == r.compound.id && applies(r, mp).is_ok() {
                r.model = mp.set(&r.model, v)?;
            }
        }
    }
    Ok(out)
}

/// The `p`-quantile (0–1) of sorted values, linear between order statistics (R's type 7).
pub fn quantile_sorted(xs: &[f64], p: f64) -> f64 {
    match xs.len() {
        0 => f64::NAN,
        1 => xs[0],
        n => {
            let h = p * (n - 1) as f64;
            let i = (h.floor() as usize).min(n - 2);
            xs[i] + (h - i as f64) * (xs[i + 1] - xs[i])
        }
    }
}

/// p5, p50 and p95 of `xs` (sorted in place).
fn percentiles(xs: &mut [f64]) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (
        quantile_sorted(xs, 0.05),
        quantile_sorted(xs, 0.5),
        quantile_sorted(xs, 0.95),
    )
}

/// Whether an interval is narrow enough to call the metric robust.
pub fn is_robust(p5: f64, p50: f64, p95: f64) -> bool {
    p50.abs() > 0.0 && (p95 - p5) / p50.abs() <= ROBUST_MAX_WIDTH
}

/// A marker's change at the end of the run and at steady state (%).
type MarkerChange = (crate::response::Marker, f64, Option<f64>);

/// What one draw keeps of each regimen: its metrics, its thinned concentrations and its
/// markers' changes.
type DrawResult = Vec<(Metrics, Vec<f64>, Vec<MarkerChange>)>;

fn marker_changes(r: &crate::engine::run::RegimenResult) -> Vec<MarkerChange> {
    r.response
        .iter()
        .map(|c| (c.marker, c.pct_change_at_end, c.pct_change_ss))
        .collect()
}

/// Runs the uncertainty study of `s`: `spec.n` draws of the sampled parameters, each a whole
/// run of the scenario with `solver`, in parallel; `base` is the metrics of the preset run.
pub fn run_uncertainty(
    s: &Scenario,
    solver: SolverKind,
    spec: &UncertaintySpec,
    base: &[Metrics],
) -> Result<Uncertainty, SimError> {
    let params = sampled_params(s);
    let preset_run = run(s, solver)?;
    let grids: Vec<Vec<usize>> = preset_run
        .regimens
        .iter()
        .map(|r| thinned(r.trajectory.time_h.len()))
        .collect();
    let draws: Vec<DrawResult> = (0..spec.n)
        .into_par_iter()
        .map(|k| {
            let values = draw(spec, &params, k);
            let result = run(&scenario_with(s, &params, &values)?, solver)?;
            Ok(result
                .regimens
                .into_iter()
                .zip(&grids)
                .map(|(r, g)| {
                    let c = g.iter().map(|&i| r.trajectory.conc_ng_ml[i]).collect();
                    let m = marker_changes(&r);
                    (r.metrics, c, m)
                })
                .collect())
        })
        .collect::<Result<_, SimError>>()?;
    let regimens = s
        .regimens
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut sampled = Vec::new();
            let mut not_sampled = Vec::new();
            for p in params.iter().filter(|p| p.compound == r.compound.id) {
                let Some(mp) = ModelParam::from_key(p.param) else {
                    continue;
                };
                match applies(r, mp) {
                    Ok(()) => sampled.push(p.param),
                    Err(why) => not_sampled.push(NotSampled {
                        param: p.param,
                        why,
                    }),
                }
            }
            let metrics = Metric::ALL
                .iter()
                .filter_map(|&m| {
                    let preset = m.value(&base[i])?;
                    let mut xs: Vec<f64> = draws.iter().filter_map(|d| m.value(&d[i].0)).collect();
                    if xs.is_empty() {
                        return None;
                    }
                    let (p5, p50, p95) = percentiles(&mut xs);
                    Some(MetricInterval {
                        metric: m,
                        preset,
                        p5,
                        p50,
                        p95,
                        robust: is_robust(p5, p50, p95),
                    })
                })
                .collect();
            let markers = marker_changes(&preset_run.regimens[i])
                .into_iter()
                .enumerate()
                .flat_map(|(j, (marker, end, ss))| {
                    let pick = |which: usize| -> Vec<f64> {
                        draws
                            .iter()
                            .filter_map(|d| {
                                let x = d[i].2.get(j)?;
                                if which == 0 {
                                    Some(x.1)
                                } else {
                                    x.2
                                }
                            })
                            .collect()
                    };
                    [
                        ("pct_change_at_end", Some(end), 0),
                        ("pct_change_ss", ss, 1),
                    ]
                    .into_iter()
                    .filter_map(move |(quantity, preset, which)| {
                        let mut xs = pick(which);
                        if xs.is_empty() {
                            return None;
                        }
                        let (p5, p50, p95) = percentiles(&mut xs);
                        Some(MarkerInterval {
                            marker,
                            quantity,
                            preset: preset?,
                            p5,
                            p50,
                            p95,
                            robust: is_robust(p5, p50, p95),
                        })
                    })
                    .collect::<Vec<_>>()
                })
                .collect();
            let time = &preset_run.regimens[i].trajectory.time_h;
            let band = grids[i]
                .iter()
                .enumerate()
                .map(|(j, &g)| {
                    let mut xs: Vec<f64> = draws.iter().map(|d| d[i].1[j]).collect();
                    let (a, b, c) = percentiles(&mut xs);
                    (time[g], a, b, c)
                })
                .collect();
            RegimenUncertainty {
                regimen: r.label.clone(),
                sampled,
                not_sampled,
                metrics,
                markers,
                band,
            }
        })
        .collect();
    Ok(Uncertainty {
        spec: *spec,
        distribution: DISTRIBUTION,
        parameters: params,
        regimens,
    })
}

impl Uncertainty {
    /// The keys of the metrics that are robust, and of those that are uncertain, for every
    /// regimen: a metric is listed as robust only if it is robust in each regimen.
    pub fn split(&self) -> (Vec<Metric>, Vec<Metric>) {
        let mut robust = Vec::new();
        let mut uncertain = Vec::new();
        for m in Metric::ALL {
            let flags: Vec<bool> = self
                .regimens
                .iter()
                .filter_map(|r| r.metrics.iter().find(|i| i.metric == m).map(|i| i.robust))
                .collect();
            if flags.is_empty() {
                continue;
            }
            if flags.iter().all(|&f| f) {
                robust.push(m);
            } else {
                uncertain.push(m);
            }
        }
        (robust, uncertain)
    }
}

/// Indices of at most [`MAX_BAND_POINTS`] evenly spread points of a grid of `len`, always
/// including both ends.
fn thinned(len: usize) -> Vec<usize> {
    if len <= MAX_BAND_POINTS {
        return (0..len).collect();
    }
    let step = (len - 1).div_ceil(MAX_BAND_POINTS - 1);
    let mut v: Vec<usize> = (0..len).step_by(step).collect();
    if v.last() != Some(&(len - 1)) {
        v.push(len - 1);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&xs, 0.0), 1.0);
        assert_eq!(quantile_sorted(&xs, 0.5), 3.0);
        assert_eq!(quantile_sorted(&xs, 1.0), 5.0);
        // h = 0.05·4 = 0.2: 1 + 0.2·(2 − 1).
        assert!((quantile_sorted(&xs, 0.05) - 1.2).abs() < 1e-15);
        assert!((quantile_sorted(&xs, 0.95) - 4.8).abs() < 1e-15);
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
        assert!(quantile_sorted(&[], 0.3).is_nan());
    }

    #[test]
    fn robust_means_a_relative_interval_of_at_most_forty_percent() {
        assert!(is_robust(80.0, 100.0, 120.0));
        assert!(!is_robust(79.0, 100.0, 120.5));
        assert!(!is_robust(0.0, 0.0, 0.0));
    }

    #[test]
    fn thinning_keeps_both_ends_and_at_most_the_limit() {
        assert_eq!(thinned(5), vec![0, 1, 2, 3, 4]);
        for len in [801, 1000, 8065, 100_000] {
            let v = thinned(len);
            assert!(v.len() <= MAX_BAND_POINTS, "{len}: {}", v.len());
            assert_eq!((v[0], *v.last().unwrap()), (0, len - 1));
            assert!(v.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn draws_are_log_uniform_within_the_range_and_fixed_by_seed() {
        let p = SampledParam {
            compound: "mk7",
            param: "half_life_h",
            lo: 68.0,
            hi: 96.0,
            basis: String::new(),
        };
        let spec = UncertaintySpec { n: 4000, seed: 7 };
        let xs: Vec<f64> = (0..spec.n)
            .map(|k| draw(&spec, std::slice::from_ref(&p), k)[0])
            .collect();
        assert!(xs.iter().all(|&x| (68.0..=96.0).contains(&x)));
        // Log-uniform: ln x uniform on [ln 68, ln 96], so its mean is the log-midpoint and the
        // share below the geometric mean is one half (4000 draws: SE 0.008).
        let gm = (68.0f64 * 96.0).sqrt();
        let below = xs.iter().filter(|&&x| x < gm).count() as f64 / xs.len() as f64;
        assert!((below - 0.5).abs() < 0.03, "{below}");
        let mean_ln = xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64;
        assert!((mean_ln - gm.ln()).abs() < 0.005, "{mean_ln}");
        // The same seed and index, the same value.
        assert_eq!(
            draw(&spec, std::slice::from_ref(&p), 17),
            draw(&spec, std::slice::from_ref(&p), 17)
        );
    }
}
