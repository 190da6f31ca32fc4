//! The parameters of a marker preset by name: read, set from a scenario's `[response.<marker>]`
//! table or from a fit, each with the range a value must lie in.
//!
//! The ranges are the physical limits of the turnover model, widened to what any published
//! population could need (docs/response.md § Parameters): a value outside them is a typo, not
//! a different population.

use super::{Marker, MarkerPreset};
use crate::compound::{Cited, Evidence};

/// A parameter of a marker preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKey {
    /// Baseline level (the marker's unit).
    Baseline,
    /// Loss rate of the marker (1/day).
    KoutPerDay,
    /// Endogenous MK-7-equivalent level (ng/mL MK-7).
    CendoNgMl,
    /// Largest inhibition of production (0–1).
    Imax,
    /// MK-7 concentration of half the largest inhibition (ng/mL).
    Ic50Mk7NgMl,
    /// Molar potency of MK-4 relative to MK-7.
    Mk4RelativePotency,
}

impl ParamKey {
    /// Every parameter, in the order of tables.
    pub const ALL: [ParamKey; 6] = [
        ParamKey::Baseline,
        ParamKey::KoutPerDay,
        ParamKey::CendoNgMl,
        ParamKey::Imax,
        ParamKey::Ic50Mk7NgMl,
        ParamKey::Mk4RelativePotency,
    ];

    /// Key in scenario files (`[response.dp_ucmgp] imax = 0.9`).
    pub fn key(self) -> &'static str {
        match self {
            ParamKey::Baseline => "baseline",
            ParamKey::KoutPerDay => "kout_per_day",
            ParamKey::CendoNgMl => "cendo_ng_ml",
            ParamKey::Imax => "imax",
            ParamKey::Ic50Mk7NgMl => "ic50_mk7_ng_ml",
            ParamKey::Mk4RelativePotency => "mk4_relative_potency",
        }
    }

    /// The parameter with key `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The values a scenario may set, `(low, high, inclusive high)`: Imax is a fraction of the
    /// production (above 1 the production would turn negative); rates and levels are positive
    /// and bounded by what no population reaches.
    pub fn range(self) -> (f64, f64) {
        match self {
            ParamKey::Baseline => (1e-6, 1e6),
            // t½ from 10 min to 19 years.
            ParamKey::KoutPerDay => (1e-4, 100.0),
            ParamKey::CendoNgMl => (0.0, 1e3),
            ParamKey::Imax => (1e-6, 1.0),
            ParamKey::Ic50Mk7NgMl => (1e-6, 1e6),
            ParamKey::Mk4RelativePotency => (1e-8, 1e3),
        }
    }

    /// What the parameter is, for error messages.
    pub fn what(self) -> &'static str {
        match self {
            ParamKey::Baseline => "the marker's level before the first dose, in its unit",
            ParamKey::KoutPerDay => "the marker's loss rate in 1/day (t½ = 0.693/kout)",
            ParamKey::CendoNgMl => "the endogenous MK-7-equivalent level in ng/mL",
            ParamKey::Imax => {
                "the largest fraction of the marker's production the vitamin inhibits"
            }
            ParamKey::Ic50Mk7NgMl => "the MK-7 level of half the largest inhibition, in ng/mL",
            ParamKey::Mk4RelativePotency => "the molar potency of MK-4 with MK-7 = 1",
        }
    }

    /// Whether `value` lies in [`ParamKey::range`].
    pub fn admits(self, value: f64) -> bool {
        let (lo, hi) = self.range();
        value.is_finite() && value >= lo && value <= hi
    }

    /// Whether a log-scale fit can estimate it (the level itself does not move a % change).
    pub fn fittable(self) -> bool {
        !matches!(self, ParamKey::Baseline | ParamKey::CendoNgMl)
    }
}

/// A parameter of one marker: `dp_ucmgp.imax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct MarkerParam {
    pub marker: Marker,
    pub param: ParamKey,
}

impl MarkerParam {
    /// `marker.param`, the name in `[fit] params`.
    pub fn name(self) -> String {
        format!("{}.{}", self.marker.key(), self.param.key())
    }

    /// The parameter named `marker.param`.
    pub fn from_name(name: &str) -> Option<Self> {
        let (m, p) = name.split_once('.')?;
        Some(Self {
            marker: Marker::from_key(m)?,
            param: ParamKey::from_key(p)?,
        })
    }

    /// Every name `[fit] params` accepts for the response.
    pub fn fittable_names() -> Vec<String> {
        Marker::ALL
            .into_iter()
            .flat_map(|marker| {
                ParamKey::ALL
                    .into_iter()
                    .filter(|p| p.fittable())
                    .map(move |param| MarkerParam { marker, param }.name())
            })
            .collect()
    }
}

impl MarkerPreset {
    /// The parameter `p`, `None` for an MK-4 potency the preset does not have.
    pub fn get(&self, p: ParamKey) -> Option<f64> {
        Some(match p {
            ParamKey::Baseline => self.baseline.value,
            ParamKey::KoutPerDay => self.kout_per_day.value,
            ParamKey::CendoNgMl => self.cendo_ng_ml.value,
            ParamKey::Imax => self.imax.value,
            ParamKey::Ic50Mk7NgMl => self.ic50_mk7_ng_ml.value,
            ParamKey::Mk4RelativePotency => self.mk4_relative_potency.as_ref()?.value,
        })
    }

    /// Sets the parameter `p` to `value`, citing `source` with tag `evidence`.
    pub fn set(&mut self, p: ParamKey, value: f64, evidence: Evidence, source: String) {
        let c = Cited {
            value,
            evidence,
            source,
            range: None,
        };
        match p {
            ParamKey::Baseline => self.baseline = c,
            ParamKey::KoutPerDay => self.kout_per_day = c,
            ParamKey::CendoNgMl => self.cendo_ng_ml = c,
            ParamKey::Imax => self.imax = c,
            ParamKey::Ic50Mk7NgMl => self.ic50_mk7_ng_ml = c,
            ParamKey::Mk4RelativePotency => self.mk4_relative_potency = Some(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{preset, Population};

    #[test]
    fn names_round_trip_and_set_is_read_back() {
        for name in MarkerParam::fittable_names() {
            assert_eq!(MarkerParam::from_name(&name).unwrap().name(), name);
        }
        assert_eq!(MarkerParam::fittable_names().len(), 8);
        assert!(MarkerParam::from_name("dp_ucmgp").is_none());
        assert!(MarkerParam::from_name("k1.imax").is_none());
        let mut p = preset(Marker::DpUcmgp, Population::Healthy).unwrap();
        for (i, k) in ParamKey::ALL.into_iter().enumerate() {
            let v = 0.5 + i as f64 * 0.01;
            p.set(k, v, Evidence::Assumed, "test".into());
            assert_eq!(p.get(k), Some(v), "{k:?}");
        }
        assert!(ParamKey::Imax.admits(1.0) && !ParamKey::Imax.admits(1.0 + 1e-12));
        assert!(!ParamKey::KoutPerDay.admits(f64::NAN) && !ParamKey::Ic50Mk7NgMl.admits(0.0));
        assert!(ParamKey::CendoNgMl.admits(0.0));
    }
}
