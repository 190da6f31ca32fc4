//! The scenario file as written: serde structs that keep the byte span of every value, so the
//! validator can point at the line and column of a bad value.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub duration_h: Option<Spanned<f64>>,
    pub duration: Option<Spanned<String>>,
    pub step_h: Option<Spanned<f64>>,
    pub step: Option<Spanned<String>>,
    pub solver: Option<Spanned<String>>,
    pub ode: Option<Spanned<super::document::RawOde>>,
    pub plot: Option<RawPlot>,
    pub threshold_ng_ml: Option<Spanned<f64>>,
    pub caption: Option<Spanned<String>>,
    pub regimen: Option<Spanned<Vec<Spanned<RawRegimen>>>>,
    pub population: Option<Spanned<RawPopulation>>,
    pub sweep: Option<Spanned<RawSweep>>,
    pub uncertainty: Option<Spanned<RawUncertainty>>,
    pub response: Option<Spanned<RawResponse>>,
    /// Read by `k2sim validate` (crate::study::literature); a case file still runs as a scenario, so
    /// the scenario only accepts the table here.
    #[allow(dead_code)]
    pub validation: Option<serde::de::IgnoredAny>,
    /// Measured concentrations (scenario/observed.rs).
    pub observed: Option<Vec<Spanned<super::observed::RawObserved>>>,
    pub observed_csv: Option<Spanned<String>>,
    /// Measured marker changes, for `k2sim fit` of response parameters
    /// (scenario/observed_response.rs).
    pub observed_response: Option<Vec<Spanned<super::observed_response::RawObservedResponse>>>,
    /// What `k2sim fit` estimates (scenario/fit_keys.rs).
    pub fit: Option<Spanned<super::fit_keys::RawFit>>,
    /// A NONMEM-style event dataset, relative to the scenario file (scenario/dataset.rs).
    pub dataset: Option<Spanned<String>>,
    /// The preset of the dataset's IDs without a COMPOUND column.
    pub dataset_compound: Option<Spanned<String>>,
    /// Unit of the dataset's AMT and RATE: "ug" (default), "mg" or "ng".
    pub dataset_amount_unit: Option<Spanned<String>>,
    /// Partial AUCs of the `nca` object of summary.json, as `[[start_h, end_h], …]`.
    pub auc_intervals_h: Option<Spanned<RawIntervals>>,
}

/// `auc_intervals_h` as written: the list, each element with its span, or what was written
/// instead, so the validator can say what to write.
#[derive(Debug)]
pub enum RawIntervals {
    List(Vec<Spanned<toml::Value>>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for RawIntervals {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawIntervals;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of [start_h, end_h] pairs such as [[0, 24], [0, 72]]")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawIntervals, E> {
                Ok(RawIntervals::Other("a true/false value"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawIntervals, E> {
                Ok(RawIntervals::Other("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawIntervals, E> {
                Ok(RawIntervals::Other("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawIntervals, E> {
                Ok(RawIntervals::Other("a number"))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<RawIntervals, E> {
                Ok(RawIntervals::Other("text"))
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawIntervals, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(RawIntervals::Other("a table"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawIntervals, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<Spanned<toml::Value>>()? {
                    out.push(x);
                }
                Ok(RawIntervals::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[plot] title`: a text, or whether to draw one.
#[derive(Debug)]
pub enum RawTitle {
    Text(String),
    Shown(bool),
}

impl<'de> Deserialize<'de> for RawTitle {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawTitle;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a title in quotes, or false for figures without title and subtitle")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawTitle, E> {
                Ok(RawTitle::Text(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawTitle, E> {
                Ok(RawTitle::Shown(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlot {
    /// The title text, or `false` for a bare figure (no title or subtitle; `true`: the
    /// default title).
    pub title: Option<RawTitle>,
    pub dpi: Option<Spanned<i64>>,
    pub formats: Option<Spanned<Vec<Spanned<String>>>>,
    pub y_scale: Option<Spanned<String>>,
    pub units: Option<Spanned<String>>,
    pub width_px: Option<Spanned<i64>>,
    pub height_px: Option<Spanned<i64>>,
    pub shade_steady_state: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegimen {
    pub label: Option<Spanned<String>>,
    pub compound: Option<Spanned<String>>,
    pub dose_ug: Option<Spanned<f64>>,
    /// Either a quantity (`dose = "15 mg"`) or explicit doses (`[[regimen.dose]]`).
    pub dose: Option<Spanned<DoseField>>,
    pub interval_h: Option<Spanned<f64>>,
    pub interval: Option<Spanned<String>>,
    pub doses: Option<Spanned<i64>>,
    pub until_h: Option<Spanned<f64>>,
    pub start_h: Option<Spanned<f64>>,
    pub times_h: Option<Spanned<Vec<Spanned<f64>>>>,
    pub days: Option<Spanned<i64>>,
    /// A compact schedule string, "180 ug q24h x 28" (scenario/schedule_text.rs).
    pub schedule: Option<Spanned<String>>,
    pub food: Option<Spanned<String>>,
    pub amount_g: Option<Spanned<f64>>,
    pub servings: Option<Spanned<f64>>,
    pub weekdays: Option<Spanned<Vec<Spanned<String>>>>,
    pub weeks: Option<Spanned<i64>>,
    pub at_clock_h: Option<Spanned<f64>>,
    pub skip_days: Option<Spanned<Vec<Spanned<i64>>>>,
    pub params: Option<RawParams>,
    /// Fat of the meal taken with each dose (g), MK-4 only (scenario/meal.rs).
    pub meal_fat_g: Option<Spanned<f64>>,
    /// "oral" (default) or "iv" (scenario/delivery.rs).
    pub route: Option<Spanned<String>>,
    /// Duration of a zero-order input per dose (h).
    pub infusion_h: Option<Spanned<f64>>,
    /// Rate of a zero-order input (µg/h).
    pub rate_ug_per_h: Option<Spanned<f64>>,
    /// Start the run at the schedule's steady state (NONMEM SS=1).
    pub steady_state: Option<Spanned<bool>>,
    /// "capsule" | "tablet" | "food": ka from the published Tmax (scenario/formulation.rs).
    pub formulation: Option<Spanned<String>>,
    /// "none" | "japanese" | "european": a cohort's published endogenous level.
    pub baseline: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParams {
    pub ka_per_h: Option<Spanned<f64>>,
    pub half_life_h: Option<Spanned<f64>>,
    pub ke_per_h: Option<Spanned<f64>>,
    pub v_l: Option<Spanned<f64>>,
    pub f: Option<Spanned<f64>>,
    pub tlag_h: Option<Spanned<f64>>,
    pub baseline_ng_ml: Option<Spanned<f64>>,
    /// "one_compartment" (default) or "two_compartment" (scenario/structure.rs).
    pub model: Option<Spanned<String>>,
    pub q_l_per_h: Option<Spanned<f64>>,
    pub vp_l: Option<Spanned<f64>>,
    /// "first_order" (default) or "michaelis_menten".
    pub absorption: Option<Spanned<String>>,
    pub vmax_ug_per_h: Option<Spanned<f64>>,
    pub km_ug: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDose {
    pub at_h: Option<Spanned<f64>>,
    pub at: Option<Spanned<String>>,
    pub dose_ug: Option<Spanned<f64>>,
    pub dose: Option<Spanned<String>>,
    pub route: Option<Spanned<String>>,
    pub infusion_h: Option<Spanned<f64>>,
    pub rate_ug_per_h: Option<Spanned<f64>>,
}

/// `dose` in a regimen: a quantity string, a bare number (refused later: it needs a unit), or
/// the list of `[[regimen.dose]]` tables.
#[derive(Debug)]
pub enum DoseField {
    Text(String),
    Number(f64),
    List(Vec<Spanned<RawDose>>),
}

impl<'de> Deserialize<'de> for DoseField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DoseField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a quantity such as \"180 µg\" or a list of [[regimen.dose]] tables")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DoseField, E> {
                Ok(DoseField::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DoseField, E> {
                Ok(DoseField::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DoseField, E> {
                Ok(DoseField::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DoseField, E> {
                Ok(DoseField::Number(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DoseField, A::Error> {
                let mut out = Vec::new();
                while let Some(d) = seq.next_element::<Spanned<RawDose>>()? {
                    out.push(d);
                }
                Ok(DoseField::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `["half_life_h", "v_l", 0.3]`.
pub type Correlation = (String, String, f64);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    pub n: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
    pub cv_pct: Option<Spanned<RawCv>>,
    pub correlations: Option<Spanned<Vec<Spanned<Correlation>>>>,
    pub miss_prob: Option<Spanned<f64>>,
    pub jitter_h: Option<Spanned<f64>>,
    pub target_trough_ng_ml: Option<Spanned<f64>>,
    pub band_step_h: Option<Spanned<f64>>,
    /// Assay error of the observed concentrations (scenario/study.rs).
    pub residual: Option<Spanned<RawResidual>>,
    pub lloq_ng_ml: Option<Spanned<f64>>,
}

/// `residual = { proportional_pct = 15, additive_ng_ml = 0.05 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResidual {
    pub proportional_pct: Option<Spanned<f64>>,
    pub additive_ng_ml: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCv {
    pub ka_per_h: Option<Spanned<f64>>,
    pub half_life_h: Option<Spanned<f64>>,
    pub v_l: Option<Spanned<f64>>,
    pub f: Option<Spanned<f64>>,
    pub q_l_per_h: Option<Spanned<f64>>,
    pub vp_l: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub ka_per_h: Option<Spanned<RawAxis>>,
    pub half_life_h: Option<Spanned<RawAxis>>,
    pub v_l: Option<Spanned<RawAxis>>,
    pub f: Option<Spanned<RawAxis>>,
    pub tlag_h: Option<Spanned<RawAxis>>,
    pub baseline_ng_ml: Option<Spanned<RawAxis>>,
    pub dose_ug: Option<Spanned<RawAxis>>,
    pub interval_h: Option<Spanned<RawAxis>>,
    pub q_l_per_h: Option<Spanned<RawAxis>>,
    pub vp_l: Option<Spanned<RawAxis>>,
    pub vmax_ug_per_h: Option<Spanned<RawAxis>>,
    pub km_ug: Option<Spanned<RawAxis>>,
    pub regimen: Option<Spanned<String>>,
    pub metric: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRange {
    pub from: f64,
    pub to: f64,
    pub steps: i64,
    #[serde(default)]
    pub log: bool,
}

/// A swept parameter's values: a list `[90, 180, 360]` or a range `{ from, to, steps }`.
#[derive(Debug)]
pub enum RawAxis {
    List(Vec<f64>),
    Range(RawRange),
}

impl<'de> Deserialize<'de> for RawAxis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawAxis;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of values such as [90, 180, 360] or a range such as { from = 72, to = 96, steps = 7 }")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawAxis, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<f64>()? {
                    out.push(x);
                }
                Ok(RawAxis::List(out))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawAxis, A::Error> {
                RawRange::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawAxis::Range)
            }
        }
        d.deserialize_any(V)
    }
}

/// `[uncertainty]`: draws and seed of `k2sim run --uncertainty` (scenario/study.rs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUncertainty {
    pub n: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
}

/// `[response]`: the carboxylation markers to model (scenario/response.rs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResponse {
    pub markers: Option<Spanned<Vec<Spanned<String>>>>,
    pub population: Option<Spanned<String>>,
    /// Parameters set in the scenario, replacing the preset's (`[response.dp_ucmgp]`).
    pub dp_ucmgp: Option<Spanned<RawMarkerParams>>,
    pub ucoc: Option<Spanned<RawMarkerParams>>,
}

/// `[response.<marker>]` as written: any of the preset's parameters (crate::response::ParamKey).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMarkerParams {
    pub baseline: Option<Spanned<f64>>,
    pub kout_per_day: Option<Spanned<f64>>,
    pub cendo_ng_ml: Option<Spanned<f64>>,
    pub imax: Option<Spanned<f64>>,
    pub ic50_mk7_ng_ml: Option<Spanned<f64>>,
    pub mk4_relative_potency: Option<Spanned<f64>>,
}

impl RawMarkerParams {
    /// The parameters given, with their spans.
    pub fn given(&self) -> Vec<(crate::response::ParamKey, &Spanned<f64>)> {
        use crate::response::ParamKey as P;
        [
            (P::Baseline, &self.baseline),
            (P::KoutPerDay, &self.kout_per_day),
            (P::CendoNgMl, &self.cendo_ng_ml),
            (P::Imax, &self.imax),
            (P::Ic50Mk7NgMl, &self.ic50_mk7_ng_ml),
            (P::Mk4RelativePotency, &self.mk4_relative_potency),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }
}
