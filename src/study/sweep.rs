//! Parameter sweeps and one-at-a-time sensitivity: every combination of a grid of model or
//! dosing parameters simulated in parallel (rayon), results in grid order whatever the thread
//! count.

use crate::metric::{Metric, Metrics};
use crate::model::SolverKind;
use rayon::prelude::*;

use crate::dosing::Schedule;
use crate::engine::run::run;
use crate::engine::sim::Trajectory;
use crate::error::SimError;
use crate::scenario::{Regimen, Scenario};
use crate::scenario::{SweepParam, SweepSpec};

/// A regimen with one parameter set to `value`, its model checked again.
pub fn with_param(r: &Regimen, param: SweepParam, value: f64) -> Result<Regimen, SimError> {
    let mut out = r.clone();
    match param {
        SweepParam::Model(p) => out.model = p.set(&r.model, value)?,
        SweepParam::DoseUg => match &mut out.schedule {
            Schedule::Periodic(p) => p.pattern.iter_mut().for_each(|d| d.amount_ug = value),
            Schedule::Explicit { doses } => doses.iter_mut().for_each(|d| d.amount_ug = value),
        },
        SweepParam::IntervalH => match &mut out.schedule {
            Schedule::Periodic(p) if p.pattern.len() == 1 => {
                // An infusion keeps its duration; it may not outlast the new interval.
                if p.pattern[0].infusion_h > value {
                    return Err(SimError::InvalidParameter {
                        name: "interval_h",
                        value,
                        expected: "an interval at least as long as the regimen's infusion",
                    });
                }
                p.period_h = value
            }
            _ => {
                return Err(SimError::InvalidParameter {
                    name: "interval_h",
                    value,
                    expected: "a regimen given with interval_h (a single dose per period)",
                })
            }
        },
    }
    Ok(out)
}

/// One row of `sweep.csv`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepRow {
    /// Index of the combination (row-major).
    pub combination: usize,
    /// Values of the swept parameters, in axis order.
    pub values: Vec<f64>,
    /// Regimen label.
    pub regimen: String,
    /// Metrics of that regimen under these values.
    pub metrics: Metrics,
    /// With `[response]`: each marker's change under these values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response: Vec<MarkerOutcome>,
}

/// A marker's change in one sweep combination.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MarkerOutcome {
    pub marker: crate::response::Marker,
    /// Change from baseline at the end of the run (%).
    pub pct_change_at_end: f64,
    /// Change at the response's steady state (%), when the regimen has one.
    pub pct_change_ss: Option<f64>,
}

/// Most combinations whose curves a 1-D sweep figure shows.
pub const MAX_CURVES: usize = 24;

/// The scenario with the swept values of one combination applied.
pub fn scenario_at(
    scenario: &Scenario,
    spec: &SweepSpec,
    values: &[f64],
) -> Result<Scenario, SimError> {
    let mut s = scenario.clone();
    for r in s.regimens.iter_mut() {
        if spec.regimen.as_ref().is_none_or(|l| *l == r.label) {
            for (axis, &v) in spec.axes.iter().zip(values) {
                *r = with_param(r, axis.param, v)?;
            }
        }
    }
    Ok(s)
}

/// One curve of a 1-D sweep: the swept value, the regimen label, the trajectory.
pub type SweepCurve = (f64, String, Trajectory);

/// Curves of a 1-D sweep for its figure: per value, per regimen, the trajectory. `None` for
/// sweeps of more than one axis or more than [`MAX_CURVES`] values.
pub fn sweep_curves(
    scenario: &Scenario,
    spec: &SweepSpec,
    solver: SolverKind,
) -> Result<Option<Vec<SweepCurve>>, SimError> {
    if spec.axes.len() != 1 || spec.combinations() > MAX_CURVES {
        return Ok(None);
    }
    let per: Vec<Vec<SweepCurve>> = (0..spec.combinations())
        .into_par_iter()
        .map(|c| {
            let values = spec.combination(c);
            let r = run(&scenario_at(scenario, spec, &values)?, solver)?;
            Ok(r.regimens
                .into_iter()
                .map(|rr| (values[0], rr.regimen.label.clone(), rr.trajectory))
                .collect())
        })
        .collect::<Result<_, SimError>>()?;
    Ok(Some(per.into_iter().flatten().collect()))
}

/// Runs combinations `range` of the sweep (all of them for an unsharded run). `progress(done)` is
/// called as combinations finish.
pub fn run_sweep(
    scenario: &Scenario,
    spec: &SweepSpec,
    solver: SolverKind,
    range: std::ops::Range<usize>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<SweepRow>, SimError> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let per_combo: Vec<Vec<SweepRow>> = range
        .into_par_iter()
        .map(|c| {
            let values = spec.combination(c);
            let result = run(&scenario_at(scenario, spec, &values)?, solver)?;
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            Ok(result
                .regimens
                .into_iter()
                .map(|rr| SweepRow {
                    combination: c,
                    values: values.clone(),
                    regimen: rr.regimen.label.clone(),
                    metrics: rr.metrics,
                    response: rr
                        .response
                        .iter()
                        .map(|c| MarkerOutcome {
                            marker: c.marker,
                            pct_change_at_end: c.pct_change_at_end,
                            pct_change_ss: c.pct_change_ss,
                        })
                        .collect(),
                })
                .collect())
        })
        .collect::<Result<_, SimError>>()?;
    Ok(per_combo.into_iter().flatten().collect())
}

/// What a sensitivity row measures: a PK metric, or a marker's change at the end of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensitivityMetric {
    Pk(Metric),
    /// The marker's change from baseline at the end of the run (%), with `[response]`.
    MarkerAtEnd(crate::response::Marker),
}

impl SensitivityMetric {
    /// Key in `sensitivity.csv`: the metric's, or `<marker>_pct_change_at_end`.
    pub fn key(self) -> &'static str {
        use crate::response::Marker;
        match self {
            SensitivityMetric::Pk(m) => m.key(),
            SensitivityMetric::MarkerAtEnd(Marker::DpUcmgp) => "dp_ucmgp_pct_change_at_end",
            SensitivityMetric::MarkerAtEnd(Marker::Ucoc) => "ucoc_pct_change_at_end",
        }
    }
}

impl PartialEq<Metric> for SensitivityMetric {
    fn eq(&self, m: &Metric) -> bool {
        matches!(self, SensitivityMetric::Pk(x) if x == m)
    }
}

impl serde::Serialize for SensitivityMetric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl std::fmt::Display for SensitivityMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

/// One bar of a tornado chart: a metric's response to one parameter moved by ±δ.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SensitivityRow {
    pub regimen: String,
    pub param: SweepParam,
    pub metric: SensitivityMetric,
    pub base: f64,
    pub low: f64,
    pub high: f64,
    /// Change of the metric with the parameter at (1 − δ) × its value (%).
    pub low_change_pct: f64,
    /// Change of the metric with the parameter at (1 + δ) × its value (%).
    pub high_change_pct: f64,
}

/// One-at-a-time sensitivity of every regimen: each parameter of `params` moved to (1 ± δ) × its
/// value, the others fixed. Rows are in regimen, parameter, metric order.
pub fn sensitivity(
    scenario: &Scenario,
    solver: SolverKind,
    delta_pct: f64,
    params: &[SweepParam],
) -> Result<Vec<SensitivityRow>, SimError> {
    sensitivity_with_progress(scenario, solver, delta_pct, params, &|_, _| {})
}

/// [`sensitivity`], calling `progress(done, total)` after each (regimen, parameter) pair.
pub fn sensitivity_with_progress(
    scenario: &Scenario,
    solver: SolverKind,
    delta_pct: f64,
    params: &[SweepParam],
    progress: super::Progress,
) -> Result<Vec<SensitivityRow>, SimError> {
    let base = run(scenario, solver)?;
    let jobs: Vec<(usize, SweepParam)> = (0..scenario.regimens.len())
        .flat_map(|i| params.iter().map(move |&p| (i, p)))
        .collect();
    let total = jobs.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let per_job: Vec<Vec<SensitivityRow>> = jobs
        .par_iter()
        .map(|&(i, p)| {
            let rows = sensitivity_job(scenario, solver, delta_pct, &base, i, p);
            progress(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            rows
        })
        .collect::<Result<_, SimError>>()?;
    Ok(per_job.into_iter().flatten().collect())
}

/// The rows of one (regimen `i`, parameter `p`) pair: the metrics with `p` lowered and raised.
fn sensitivity_job(
    scenario: &Scenario,
    solver: SolverKind,
    delta_pct: f64,
    base: &crate::engine::run::RunResult,
    i: usize,
    p: SweepParam,
) -> Result<Vec<SensitivityRow>, SimError> {
    let r = &scenario.regimens[i];
    let Some(v0) = p.value_in(r) else {
        return Ok(Vec::new());
    };
    if v0 == 0.0 {
        return Ok(Vec::new());
    }
    let moved = |factor: f64| -> Result<crate::engine::run::RegimenResult, SimError> {
        let mut s = scenario.clone();
        s.regimens = vec![with_param(r, p, v0 * factor)?];
        Ok(run(&s, solver)?.regimens.remove(0))
    };
    let (lo, hi) = (
        moved(1.0 - delta_pct / 100.0)?,
        moved(1.0 + delta_pct / 100.0)?,
    );
    let row = |metric, b: f64, l: f64, h: f64| SensitivityRow {
        regimen: r.label.clone(),
        param: p,
        metric,
        base: b,
        low: l,
        high: h,
        low_change_pct: (l / b - 1.0) * 100.0,
        high_change_pct: (h / b - 1.0) * 100.0,
    };
    let b = &base.regimens[i];
    let mut rows: Vec<SensitivityRow> = Metric::SENSITIVITY
        .iter()
        .filter_map(|&metric| {
            let v = metric.value(&b.metrics)?;
            let (l, h) = (metric.value(&lo.metrics)?, metric.value(&hi.metrics)?);
            Some(row(SensitivityMetric::Pk(metric), v, l, h))
        })
        .collect();
    // The markers' change at the end of the run, relative to its value (a fall of 30 % that
    // becomes 27 % is a −10 % change of the fall).
    for c in &b.response {
        let at = |x: &crate::engine::run::RegimenResult| {
            x.response
                .iter()
                .find(|d| d.marker == c.marker)
                .map(|d| d.pct_change_at_end)
        };
        if let (Some(l), Some(h)) = (at(&lo), at(&hi)) {
            if c.pct_change_at_end != 0.0 {
                let m = SensitivityMetric::MarkerAtEnd(c.marker);
                rows.push(row(m, c.pct_change_at_end, l, h));
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelParam, LN_2};
    use crate::scenario::SweepAxis;

    fn spec() -> SweepSpec {
        SweepSpec {
            axes: vec![
                SweepAxis {
                    param: SweepParam::Model(ModelParam::HalfLifeH),
                    values: vec![72.0, 84.0, 96.0],
                },
                SweepAxis {
                    param: SweepParam::DoseUg,
                    values: vec![90.0, 180.0],
                },
            ],
            regimen: None,
            metric: Metric::CavgSsNgMl,
        }
    }

    #[test]
    fn combinations_are_row_major() {
        let s = spec();
        assert_eq!(s.combinations(), 6);
        assert_eq!(s.combination(0), vec![72.0, 90.0]);
        assert_eq!(s.combination(1), vec![72.0, 180.0]);
        assert_eq!(s.combination(5), vec![96.0, 180.0]);
    }

    #[test]
    fn sweep_metrics_follow_the_formula() {
        // Cavg,ss = F·D/(ke·V·τ): linear in dose and in half-life.
        let sc = crate::scenario::parse_str("duration_h = 240\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 10\n", "t").unwrap();
        let rows = run_sweep(&sc, &spec(), SolverKind::Exact, 0..6, &|_| {}).unwrap();
        assert_eq!(rows.len(), 6);
        let v = sc.regimens[0].model.v_l;
        for r in &rows {
            let (th, dose) = (r.values[0], r.values[1]);
            let expected = dose / (LN_2 / th * v * 24.0);
            let got = r.metrics.cavg_ss_ng_ml.unwrap();
            assert!(
                (got - expected).abs() < 1e-9 * expected,
                "{got} vs {expected}"
            );
        }
    }

    #[test]
    fn tornado_of_volume_is_inverse() {
        // Cavg ∝ 1/V: −10 % volume → +11.1 %, +10 % → −9.09 %.
        let sc = crate::scenario::parse_str("duration_h = 240\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 10\n", "t").unwrap();
        let rows = sensitivity(
            &sc,
            SolverKind::Exact,
            10.0,
            &[SweepParam::Model(ModelParam::VL)],
        )
        .unwrap();
        let cavg = rows
            .iter()
            .find(|r| r.metric == Metric::CavgSsNgMl)
            .unwrap();
        assert!((cavg.low_change_pct - (1.0 / 0.9 - 1.0) * 100.0).abs() < 1e-9);
        assert!((cavg.high_change_pct - (1.0 / 1.1 - 1.0) * 100.0).abs() < 1e-9);
    }
}
