//! Validation of the `[population]`, `[sweep]` and `[uncertainty]` tables.

use crate::format::fmt_value;
use crate::model::ModelParam;
use crate::scenario::{PopulationSpec, ResidualSpec, UncertaintySpec};
use crate::scenario::{SweepAxis, SweepParam, SweepSpec};
use std::ops::Range;

use toml::Spanned;

use super::raw::{RawAxis, RawPopulation, RawResidual, RawSweep, RawUncertainty};
use super::{Regimen, Validator, R};
use crate::error::{suggest, InputErrorKind as K};
use crate::metric::Metric;

/// Most subjects a population may have.
pub const MAX_SUBJECTS: u64 = 10_000_000;
/// Largest proportional residual error (% CV): at 200 % a third of the normal model's
/// observations are negative, and it no longer describes an assay.
pub const MAX_PROPORTIONAL_PCT: f64 = 200.0;
/// Largest additive residual error and LLOQ (ng/mL): far above any vitamin K level, so a
/// larger value is a unit mistake (pg/mL, nmol/L) rather than an assay.
pub const MAX_ASSAY_NG_ML: f64 = 10_000.0;
/// Most simulations (combinations × regimens) one sweep may run.
pub const MAX_SWEEP_RUNS: u64 = 200_000;

/// Most draws of an uncertainty run (each a whole run of the scenario).
pub const MAX_UNCERTAINTY_DRAWS: u64 = 100_000;

impl Validator<'_> {
    /// `[uncertainty]`: `n` draws (default 1000) and `seed` (default 1).
    pub(super) fn uncertainty(&self, raw: Spanned<RawUncertainty>) -> R<UncertaintySpec> {
        let u = raw.into_inner();
        let mut spec = UncertaintySpec::default();
        if let Some(n) = &u.n {
            let v = *n.get_ref();
            if v < 1 || v as u64 > MAX_UNCERTAINTY_DRAWS {
                return Err(self.err(
                    n.span(),
                    K::OutOfRange {
                        key: "uncertainty.n".into(),
                        value: v.to_string(),
                        expected: format!(
                            "a whole number of draws from 1 to {MAX_UNCERTAINTY_DRAWS} (1000 gives the 5–95 % interval 50 draws at each end)"
                        ),
                    },
                ));
            }
            spec.n = v as u64;
        }
        if let Some(s) = &u.seed {
            let v = *s.get_ref();
            if v < 0 {
                return Err(self.err(
                    s.span(),
                    K::OutOfRange {
                        key: "uncertainty.seed".into(),
                        value: v.to_string(),
                        expected: "a whole number ≥ 0".into(),
                    },
                ));
            }
            spec.seed = v as u64;
        }
        Ok(spec)
    }

    pub(super) fn population(
        &self,
        raw: Spanned<RawPopulation>,
        step_h: f64,
        duration_h: f64,
        regimens: &[Regimen],
    ) -> R<PopulationSpec> {
        let span = raw.span();
        let p = raw.into_inner();
        let n = p.n.as_ref().ok_or_else(|| {
            self.err(
                span.clone(),
                K::Missing {
                    key: "population.n".into(),
                    hint: "add `n = 1000`: the number of virtual subjects".into(),
                },
            )
        })?;
        let nv = *n.get_ref();
        if nv < 1 || nv as u64 > MAX_SUBJECTS {
            return Err(self.err(
                n.span(),
                K::OutOfRange {
                    key: "population.n".into(),
                    value: nv.to_string(),
                    expected: format!("a whole number of subjects from 1 to {MAX_SUBJECTS}"),
                },
            ));
        }
        let seed = match &p.seed {
            Some(s) if *s.get_ref() < 0 => {
                return Err(self.err(
                    s.span(),
                    K::OutOfRange {
                        key: "population.seed".into(),
                        value: s.get_ref().to_string(),
                        expected: "a whole number ≥ 0".into(),
                    },
                ))
            }
            Some(s) => *s.get_ref() as u64,
            None => 1,
        };
        let mut cv_pct = Vec::new();
        if let Some(cv) = &p.cv_pct {
            let c = cv.get_ref();
            for (param, v) in [
                (ModelParam::KaPerH, &c.ka_per_h),
                (ModelParam::HalfLifeH, &c.half_life_h),
                (ModelParam::VL, &c.v_l),
                (ModelParam::F, &c.f),
                (ModelParam::QLPerH, &c.q_l_per_h),
                (ModelParam::VpL, &c.vp_l),
            ] {
                if let Some(v) = v {
                    let x = self.range(
                        &format!("population.cv_pct.{}", param.key()),
                        v,
                        |x| (0.0..=300.0).contains(&x),
                        "a coefficient of variation in % from 0 to 300",
                    )?;
                    let saturable = regimens.iter().find(|r| !r.model.is_linear());
                    if let (ModelParam::KaPerH, true, Some(r)) = (param, x > 0.0, saturable) {
                        return Err(self.err(
                            v.span(),
                            K::OutOfRange {
                                key: "population.cv_pct.ka_per_h".into(),
                                value: format!("{} with regimen \"{}\"", fmt_value(x), r.label),
                                expected: "no ka variability: that regimen has Michaelis–Menten absorption, which has no ka (remove the key or set it to 0)".into(),
                            },
                        ));
                    }
                    let one = regimens.iter().find(|r| r.model.peripheral.is_none());
                    if let (ModelParam::QLPerH | ModelParam::VpL, true, Some(r)) =
                        (param, x > 0.0, one)
                    {
                        return Err(self.err(
                            v.span(),
                            K::OutOfRange {
                                key: format!("population.cv_pct.{}", param.key()),
                                value: format!("{} with regimen \"{}\"", fmt_value(x), r.label),
                                expected: "every regimen with model = \"two_compartment\": that regimen has no peripheral compartment (remove the key or set it to 0)".into(),
                            },
                        ));
                    }
                    if x > 0.0 {
                        cv_pct.push((param, x));
                    }
                }
            }
        }
        let mut correlations = Vec::new();
        let mut matrix = super::correlation::Correlations::independent(cv_pct.len());
        let mut last = None;
        if let Some(list) = &p.correlations {
            for c in list.get_ref() {
                let (a, b, rho) = c.get_ref();
                let known: Vec<&str> = ModelParam::BETWEEN_SUBJECTS
                    .iter()
                    .map(|p| p.key())
                    .collect();
                let param = |name: &str| {
                    ModelParam::from_key(name)
                        .filter(|p| ModelParam::BETWEEN_SUBJECTS.contains(p))
                        .ok_or_else(|| {
                            self.err(
                                c.span(),
                                K::UnknownName {
                                    key: "population.correlations".into(),
                                    name: name.into(),
                                    suggestion: suggest(name, known.iter().copied()),
                                    known: known.iter().map(|s| s.to_string()).collect(),
                                },
                            )
                        })
                };
                let (pa, pb) = (param(a)?, param(b)?);
                if pa == pb || !(rho.is_finite() && rho.abs() < 1.0) {
                    return Err(self.err(c.span(), K::OutOfRange { key: "population.correlations".into(), value: format!("[\"{a}\", \"{b}\", {}]", fmt_value(*rho)), expected: "two different parameters and a correlation strictly between −1 and 1".into() }));
                }
                for q in [pa, pb] {
                    if !cv_pct.iter().any(|(x, _)| *x == q) {
                        return Err(self.err(c.span(), K::Missing { key: format!("population.cv_pct.{}", q.key()), hint: format!("a correlation needs variability on both parameters: add `{} = 30` to cv_pct", q.key()) }));
                    }
                }
                let index = |q: ModelParam| cv_pct.iter().position(|(x, _)| *x == q).unwrap_or(0);
                let (i, j) = (index(pa), index(pb));
                let written =
                    |a: &str, b: &str, rho: f64| format!("[\"{a}\", \"{b}\", {}]", fmt_value(rho));
                if let Some(&(_, _, first)) = correlations
                    .iter()
                    .find(|(x, y, _)| (*x, *y) == (pa, pb) || (*x, *y) == (pb, pa))
                {
                    return Err(self.err(c.span(), K::OutOfRange { key: "population.correlations".into(), value: written(a, b, *rho), expected: format!("each pair once; this pair is already correlated {} above: keep one of them", fmt_value(first)) }));
                }
                matrix.set(i, j, *rho);
                last = Some((c.span(), i, j, written(a, b, *rho)));
                correlations.push((pa, pb, *rho));
            }
        }
        // Each pair can be valid on its own and the set still not be a correlation matrix
        // (0.9, 0.9 and −0.5 among three parameters); the last one is shown with its range.
        if let Some((span, i, j, value)) = last.filter(|_| !matrix.is_valid()) {
            let others: Vec<String> = correlations[..correlations.len() - 1]
                .iter()
                .map(|(x, y, r)| format!("[\"{}\", \"{}\", {}]", x.key(), y.key(), fmt_value(*r)))
                .collect();
            let expected = match matrix.allowed_range(i, j) {
                Some((lo, hi)) => format!(
                    "a correlation from {} to {} for this pair, given the others ({}): together they must form a valid correlation matrix (positive definite); or change the others",
                    fmt_value(lo),
                    fmt_value(hi),
                    others.join(", ")
                ),
                None => format!(
                    "correlations that form a valid correlation matrix (positive definite); no value of this pair does with the others ({}): lower some of them",
                    others.join(", ")
                ),
            };
            return Err(self.err(
                span,
                K::OutOfRange {
                    key: "population.correlations".into(),
                    value,
                    expected,
                },
            ));
        }
        let miss_prob = match &p.miss_prob {
            Some(v) => self.range(
                "population.miss_prob",
                v,
                |x| (0.0..1.0).contains(&x),
                "a probability from 0 up to (not including) 1",
            )?,
            None => 0.0,
        };
        let jitter_h = match &p.jitter_h {
            Some(v) => self.range(
                "population.jitter_h",
                v,
                |x| (0.0..=24.0).contains(&x),
                "a standard deviation in hours from 0 to 24",
            )?,
            None => 0.0,
        };
        let target_trough_ng_ml = match &p.target_trough_ng_ml {
            Some(v) => Some(self.positive("population.target_trough_ng_ml", v, "ng/mL")?),
            None => None,
        };
        // Default band spacing: the output step, coarsened to at most 2000 band times.
        let default_band = {
            let k = ((duration_h / step_h) / 2000.0).ceil().max(1.0);
            k * step_h
        };
        let band_step_h = match &p.band_step_h {
            Some(v) => {
                let x = self.positive("population.band_step_h", v, "hours")?;
                let k = x / step_h;
                if (k - k.round()).abs() > 1e-9 || x > duration_h {
                    return Err(self.err(
                        v.span(),
                        K::OutOfRange {
                            key: "population.band_step_h".into(),
                            value: fmt_value(x),
                            expected: format!(
                                "a whole multiple of step_h ({} h), at most the duration",
                                fmt_value(step_h)
                            ),
                        },
                    ));
                }
                if duration_h / x > 20_000.0 {
                    return Err(self.err(
                        v.span(),
                        K::OutOfRange {
                            key: "population.band_step_h".into(),
                            value: fmt_value(x),
                            expected: format!(
                                "a spacing giving at most 20000 band times (at least {} h)",
                                fmt_value(duration_h / 20_000.0)
                            ),
                        },
                    ));
                }
                x
            }
            None => default_band,
        };
        let residual = match &p.residual {
            Some(r) => Some(self.residual(r)?),
            None => None,
        };
        let lloq_ng_ml = match &p.lloq_ng_ml {
            Some(v) => Some(self.range(
                "population.lloq_ng_ml",
                v,
                |x| x > 0.0 && x <= MAX_ASSAY_NG_ML,
                &format!(
                    "a positive limit of quantification in ng/mL, at most {} (e.g. `lloq_ng_ml = 0.2`)",
                    fmt_value(MAX_ASSAY_NG_ML)
                ),
            )?),
            None => None,
        };
        Ok(PopulationSpec {
            n: nv as u64,
            seed,
            cv_pct,
            correlations,
            miss_prob,
            jitter_h,
            target_trough_ng_ml,
            band_step_h,
            residual,
            lloq_ng_ml,
        })
    }

    /// `residual = { proportional_pct, additive_ng_ml }`: each ≥ 0, at least one > 0.
    fn residual(&self, raw: &Spanned<RawResidual>) -> R<ResidualSpec> {
        let r = raw.get_ref();
        let proportional_pct = match &r.proportional_pct {
            Some(v) => self.range(
                "population.residual.proportional_pct",
                v,
                |x| (0.0..=MAX_PROPORTIONAL_PCT).contains(&x),
                &format!(
                    "a proportional error from 0 to {} (its SD as % of the concentration: 15 for 15 %)",
                    fmt_value(MAX_PROPORTIONAL_PCT)
                ),
            )?,
            None => 0.0,
        };
        let additive_ng_ml = match &r.additive_ng_ml {
            Some(v) => self.range(
                "population.residual.additive_ng_ml",
                v,
                |x| (0.0..=MAX_ASSAY_NG_ML).contains(&x),
                &format!(
                    "an additive error (SD in ng/mL) from 0 to {}",
                    fmt_value(MAX_ASSAY_NG_ML)
                ),
            )?,
            None => 0.0,
        };
        if proportional_pct == 0.0 && additive_ng_ml == 0.0 {
            return Err(self.err(
                raw.span(),
                K::OutOfRange {
                    key: "population.residual".into(),
                    value: "0 % + 0 ng/mL".into(),
                    expected: "an error with a part above zero: `proportional_pct = 15` (% of the concentration) and/or `additive_ng_ml = 0.05`; for no assay error remove `residual`".into(),
                },
            ));
        }
        Ok(ResidualSpec {
            proportional_pct,
            additive_ng_ml,
        })
    }

    pub(super) fn sweep(&self, raw: Spanned<RawSweep>, regimens: &[Regimen]) -> R<SweepSpec> {
        let span = raw.span();
        let s = raw.into_inner();
        let target = match &s.regimen {
            Some(l) => {
                if !regimens.iter().any(|r| r.label == *l.get_ref()) {
                    let labels: Vec<&str> = regimens.iter().map(|r| r.label.as_str()).collect();
                    return Err(self.err(
                        l.span(),
                        K::UnknownName {
                            key: "sweep.regimen".into(),
                            name: l.get_ref().clone(),
                            suggestion: suggest(l.get_ref(), labels.iter().copied()),
                            known: labels.iter().map(|s| s.to_string()).collect(),
                        },
                    ));
                }
                Some(l.get_ref().clone())
            }
            None => None,
        };
        let mut axes = Vec::new();
        for (param, axis) in [
            (SweepParam::Model(ModelParam::KaPerH), s.ka_per_h),
            (SweepParam::Model(ModelParam::HalfLifeH), s.half_life_h),
            (SweepParam::Model(ModelParam::VL), s.v_l),
            (SweepParam::Model(ModelParam::F), s.f),
            (SweepParam::Model(ModelParam::TlagH), s.tlag_h),
            (
                SweepParam::Model(ModelParam::BaselineNgMl),
                s.baseline_ng_ml,
            ),
            (SweepParam::DoseUg, s.dose_ug),
            (SweepParam::IntervalH, s.interval_h),
            (SweepParam::Model(ModelParam::QLPerH), s.q_l_per_h),
            (SweepParam::Model(ModelParam::VpL), s.vp_l),
            (SweepParam::Model(ModelParam::VmaxUgPerH), s.vmax_ug_per_h),
            (SweepParam::Model(ModelParam::KmUg), s.km_ug),
        ] {
            let Some(axis) = axis else { continue };
            let aspan = axis.span();
            let values = self.axis_values(param, axis.into_inner(), aspan.clone())?;
            if let Some(r) = regimens
                .iter()
                .filter(|r| target.as_ref().is_none_or(|t| *t == r.label))
                .find(|r| param.value_in(r).is_none())
            {
                let needs = match param {
                    SweepParam::IntervalH => "regimens given with interval_h",
                    SweepParam::Model(ModelParam::QLPerH) | SweepParam::Model(ModelParam::VpL) => {
                        "regimens with model = \"two_compartment\""
                    }
                    SweepParam::Model(ModelParam::VmaxUgPerH)
                    | SweepParam::Model(ModelParam::KmUg) => {
                        "regimens with absorption = \"michaelis_menten\""
                    }
                    _ => "regimens with first-order absorption (saturable absorption has no ka)",
                };
                return Err(self.err(
                    aspan,
                    K::OutOfRange {
                        key: format!("sweep.{}", param.key()),
                        value: format!("regimen \"{}\"", r.label),
                        expected: format!(
                            "{needs}; set `regimen = \"label\"` in [sweep] to sweep only such a regimen"
                        ),
                    },
                ));
            }
            axes.push(SweepAxis { param, values });
        }
        if axes.is_empty() {
            return Err(self.err(span, K::Missing { key: "sweep.<parameter>".into(), hint: "name at least one parameter to vary, e.g. `half_life_h = { from = 72, to = 96, steps = 7 }` or `dose_ug = [90, 180, 360]`".into() }));
        }
        let metric = match &s.metric {
            Some(m) => Metric::from_key(m.get_ref()).ok_or_else(|| {
                self.err(
                    m.span(),
                    K::UnknownName {
                        key: "sweep.metric".into(),
                        name: m.get_ref().clone(),
                        suggestion: suggest(m.get_ref(), Metric::keys()),
                        known: Metric::keys().map(str::to_string).collect(),
                    },
                )
            })?,
            None => Metric::CavgSsNgMl,
        };
        let spec = SweepSpec {
            axes,
            regimen: target,
            metric,
        };
        let combos = spec.combinations() as u64;
        // Every regimen is simulated for every combination (untargeted ones as a reference).
        let runs = combos * regimens.len() as u64;
        if runs > MAX_SWEEP_RUNS {
            return Err(self.err(span, K::OutOfRange {
                key: "sweep".into(),
                value: format!("{combos} combinations × {} regimens = {runs} simulations", regimens.len()),
                expected: format!(
                    "at most {MAX_SWEEP_RUNS} simulations (this sweep would take roughly {} s on 2 cores and write about {} MB of sweep.csv); use fewer steps, or split it with --shard",
                    runs / 4000,
                    runs * 400 / 1_000_000
                ),
            }));
        }
        Ok(spec)
    }

    fn axis_values(&self, param: SweepParam, axis: RawAxis, span: Range<usize>) -> R<Vec<f64>> {
        let key = format!("sweep.{}", param.key());
        let values = match axis {
            RawAxis::List(v) => v,
            RawAxis::Range(r) => {
                if r.steps < 1 || r.steps > 100_000 {
                    return Err(self.err(
                        span,
                        K::OutOfRange {
                            key: format!("{key}.steps"),
                            value: r.steps.to_string(),
                            expected: "a whole number of values from 1 to 100000".into(),
                        },
                    ));
                }
                if !(r.from.is_finite() && r.to.is_finite())
                    || (r.steps > 1 && r.from == r.to)
                    || (r.steps == 1 && r.from != r.to)
                {
                    return Err(self.err(
                        span,
                        K::OutOfRange {
                            key: key.clone(),
                            value: format!("from {} to {}", fmt_value(r.from), fmt_value(r.to)),
                            expected: "a range with from ≠ to (or steps = 1 with from = to)".into(),
                        },
                    ));
                }
                if r.log && (r.from <= 0.0 || r.to <= 0.0) {
                    return Err(self.err(
                        span,
                        K::OutOfRange {
                            key: key.clone(),
                            value: format!("from {} to {}", fmt_value(r.from), fmt_value(r.to)),
                            expected: "positive ends for a log-spaced range".into(),
                        },
                    ));
                }
                let n = r.steps as usize;
                (0..n)
                    .map(|i| {
                        let f = if n == 1 {
                            0.0
                        } else {
                            i as f64 / (n - 1) as f64
                        };
                        if r.log {
                            (r.from.ln() + f * (r.to.ln() - r.from.ln())).exp()
                        } else {
                            r.from + f * (r.to - r.from)
                        }
                    })
                    .collect()
            }
        };
        if values.is_empty() {
            return Err(self.err(
                span,
                K::OutOfRange {
                    key,
                    value: "[]".into(),
                    expected: "at least one value".into(),
                },
            ));
        }
        for &v in &values {
            let ok = v.is_finite() && (v > 0.0 || (param.zero_allowed() && v == 0.0));
            if !ok {
                let expected = if param.zero_allowed() {
                    "values ≥ 0"
                } else {
                    "positive values"
                };
                return Err(self.err(
                    span,
                    K::OutOfRange {
                        key,
                        value: fmt_value(v),
                        expected: expected.into(),
                    },
                ));
            }
        }
        Ok(values)
    }
}
