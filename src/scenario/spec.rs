//! The study specifications a scenario carries, validated: `[population]`, `[sweep]` and
//! `[fit]`. They live with the parser (the engines import them, never the other way round).

use crate::dosing::Schedule;
use crate::metric::Metric;
use crate::model::ModelParam;

use super::Regimen;

/// The `[population]` table, validated.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PopulationSpec {
    /// Number of subjects.
    pub n: u64,
    /// Seed of the random streams; subject i draws from a stream derived from (seed, i).
    pub seed: u64,
    /// Between-subject coefficient of variation (%) of each varying parameter, log-normal.
    pub cv_pct: Vec<(ModelParam, f64)>,
    /// Correlations between the log-parameters (each pair once).
    pub correlations: Vec<(ModelParam, ModelParam, f64)>,
    /// Probability that a subject misses any given dose.
    pub miss_prob: f64,
    /// Standard deviation of the dose-time jitter (h), normal, truncated to ±3 SD.
    pub jitter_h: f64,
    /// Trough target: the summary reports the share of subjects at or above it (ng/mL).
    pub target_trough_ng_ml: Option<f64>,
    /// Spacing of the percentile-band times (h), a multiple of the scenario step.
    pub band_step_h: f64,
    /// Assay (residual) error of the "observed" concentrations; `None`: no observed bands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residual: Option<ResidualSpec>,
    /// Lower limit of quantification (ng/mL): the share of samples below it is reported per
    /// band time, on the observed concentrations when `residual` is given, else on the true ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lloq_ng_ml: Option<f64>,
}

/// The `[population] residual` table, validated: the combined additive and proportional
/// residual error model in its NONMEM form,
/// C_obs = C + ε·√((prop·C)² + add²), ε ~ N(0, 1) independent for every subject and sample
/// time. The same distribution as C·(1 + ε₁·prop) + ε₂·add with independent ε₁, ε₂
/// (docs/references.md#residual-error).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ResidualSpec {
    /// Proportional part: SD as % of the concentration (a CV), 0–200.
    pub proportional_pct: f64,
    /// Additive part: SD in ng/mL, ≥ 0.
    pub additive_ng_ml: f64,
}

impl ResidualSpec {
    /// SD of an observation of true concentration `c_ng_ml` (ng/mL).
    #[inline]
    pub fn sd_ng_ml(&self, c_ng_ml: f64) -> f64 {
        let p = self.proportional_pct / 100.0 * c_ng_ml;
        (p * p + self.additive_ng_ml * self.additive_ng_ml).sqrt()
    }
}

/// A parameter a sweep or a sensitivity run can vary: a model parameter, or the dose or the
/// dosing interval of the regimen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepParam {
    /// A parameter of the regimen's model.
    Model(ModelParam),
    /// Every dose of the regimen (µg).
    DoseUg,
    /// The dosing interval (h) of a regimen given with `interval_h`.
    IntervalH,
}

impl serde::Serialize for SweepParam {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl SweepParam {
    /// All, in the order of `sweep.csv` columns.
    pub const ALL: [SweepParam; 12] = [
        SweepParam::Model(ModelParam::KaPerH),
        SweepParam::Model(ModelParam::HalfLifeH),
        SweepParam::Model(ModelParam::VL),
        SweepParam::Model(ModelParam::F),
        SweepParam::Model(ModelParam::TlagH),
        SweepParam::Model(ModelParam::BaselineNgMl),
        SweepParam::DoseUg,
        SweepParam::IntervalH,
        SweepParam::Model(ModelParam::QLPerH),
        SweepParam::Model(ModelParam::VpL),
        SweepParam::Model(ModelParam::VmaxUgPerH),
        SweepParam::Model(ModelParam::KmUg),
    ];

    /// Key as written in scenario files and CSV headers.
    pub fn key(self) -> &'static str {
        match self {
            SweepParam::Model(p) => p.key(),
            SweepParam::DoseUg => "dose_ug",
            SweepParam::IntervalH => "interval_h",
        }
    }

    /// Label and unit on a figure axis.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            SweepParam::Model(p) => p.label(),
            SweepParam::DoseUg => ("dose", "µg"),
            SweepParam::IntervalH => ("dosing interval τ", "h"),
        }
    }

    /// Whether zero is an allowed value (lag and baseline may be zero; the rest must be positive).
    pub fn zero_allowed(self) -> bool {
        matches!(self, SweepParam::Model(p) if p.zero_allowed())
    }

    /// The value of this parameter in a regimen (`None` for a parameter the regimen does not
    /// have: an interval of a pattern of several doses, Q and Vp of one compartment, ka of
    /// saturable absorption, Vmax and Km of first-order absorption).
    pub fn value_in(self, r: &Regimen) -> Option<f64> {
        match self {
            SweepParam::Model(p) => p.get(&r.model),
            SweepParam::DoseUg => Some(r.schedule.events().first()?.amount_ug),
            SweepParam::IntervalH => match &r.schedule {
                Schedule::Periodic(p) if p.pattern.len() == 1 => Some(p.period_h),
                _ => None,
            },
        }
    }
}

/// One swept parameter and its values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SweepAxis {
    pub param: SweepParam,
    pub values: Vec<f64>,
}

/// The `[sweep]` table, validated.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SweepSpec {
    /// The axes, in file order; the last varies fastest.
    pub axes: Vec<SweepAxis>,
    /// Only the regimen with this label is varied (all regimens when `None`).
    pub regimen: Option<String>,
    /// Metric of the 2-D heatmap.
    pub metric: Metric,
}

impl SweepSpec {
    /// Number of combinations.
    pub fn combinations(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Values of combination `index` (row-major, last axis fastest).
    pub fn combination(&self, mut index: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.axes.len()];
        for (k, axis) in self.axes.iter().enumerate().rev() {
            out[k] = axis.values[index % axis.values.len()];
            index /= axis.values.len();
        }
        out
    }
}

/// Residual weighting of the least-squares objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// wᵢ = 1/obsᵢ²: errors proportional to the level (default; concentrations span decades).
    #[default]
    Proportional,
    /// wᵢ = 1: errors of constant size.
    Additive,
}

/// What to fit, from the scenario's `[fit]` table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitSpec {
    /// PK parameters to estimate, distinct, in the order given (fitted to `[[observed]]`).
    pub params: Vec<ModelParam>,
    /// Response parameters to estimate (fitted to `[[observed_response]]` with the PK fixed);
    /// a fit takes either PK or response parameters, never both.
    pub response: Vec<crate::response::MarkerParam>,
    /// Default proportional.
    pub weighting: Weighting,
}

/// The `[uncertainty]` table, validated: how many parameter sets an uncertainty run draws over
/// the presets' plausible ranges, and from which seed (`crate::study::uncertainty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct UncertaintySpec {
    /// Number of draws (parameter sets), each a whole run of the scenario.
    pub n: u64,
    /// Seed of the random streams; draw k uses a stream derived from (seed, k).
    pub seed: u64,
}

impl Default for UncertaintySpec {
    /// 1000 draws from seed 1: the 5th and 95th percentiles then rest on 50 draws each.
    fn default() -> Self {
        Self { n: 1000, seed: 1 }
    }
}

/// The `[response]` table, validated: which markers to model, in which population, with the
/// preset of each marker (`crate::response`). Every regimen's compound has data for every
/// marker (checked).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResponseSpec {
    /// The population preset.
    pub population: crate::response::Population,
    /// One preset per marker, in the order asked, with `overrides` applied.
    pub presets: Vec<crate::response::MarkerPreset>,
    /// Parameters the scenario sets in `[response.<marker>]`, in file order.
    pub overrides: Vec<(crate::response::MarkerParam, f64)>,
}

impl ResponseSpec {
    /// Sets the scenario's own values on `preset` (after a preset was solved again).
    pub fn apply_overrides(&self, preset: &mut crate::response::MarkerPreset) {
        for (mp, v) in &self.overrides {
            if mp.marker == preset.marker {
                preset.set(
                    mp.param,
                    *v,
                    crate::compound::Evidence::Assumed,
                    format!(
                        "set in the scenario: [response.{}] {} = {v}",
                        mp.marker.key(),
                        mp.param.key()
                    ),
                );
            }
        }
    }
}
