//! One model parameter as a noun: its key in scenario files and CSV headers, its label and unit
//! for figures, and a `get`/`set` pair where `set` re-validates the whole model. Fits, sweeps,
//! sensitivity and populations all name parameters through [`ModelParam`].

use super::{Absorption, PkModel, LN_2};
use crate::error::SimError;

/// A parameter of a [`PkModel`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ModelParam {
    /// Absorption rate constant (1/h), first-order absorption.
    KaPerH,
    /// Elimination half-life (h).
    HalfLifeH,
    /// Apparent volume V/F (L).
    VL,
    /// Relative bioavailability.
    F,
    /// Absorption lag (h).
    TlagH,
    /// Endogenous baseline concentration (ng/mL).
    BaselineNgMl,
    /// Inter-compartmental clearance (L/h), two-compartment models.
    QLPerH,
    /// Peripheral volume (L), two-compartment models.
    VpL,
    /// Largest absorption rate (µg/h), Michaelis–Menten absorption.
    VmaxUgPerH,
    /// Gut amount at half the largest rate (µg), Michaelis–Menten absorption.
    KmUg,
}

impl ModelParam {
    /// Every parameter.
    pub const ALL: [ModelParam; 10] = [
        ModelParam::KaPerH,
        ModelParam::HalfLifeH,
        ModelParam::VL,
        ModelParam::F,
        ModelParam::TlagH,
        ModelParam::BaselineNgMl,
        ModelParam::QLPerH,
        ModelParam::VpL,
        ModelParam::VmaxUgPerH,
        ModelParam::KmUg,
    ];

    /// The parameters `k2sim fit` can estimate, in the order of its error messages (the
    /// baseline is an input, not an estimate).
    pub const FITTABLE: [ModelParam; 9] = [
        ModelParam::KaPerH,
        ModelParam::HalfLifeH,
        ModelParam::VL,
        ModelParam::F,
        ModelParam::TlagH,
        ModelParam::QLPerH,
        ModelParam::VpL,
        ModelParam::VmaxUgPerH,
        ModelParam::KmUg,
    ];

    /// The parameters that can vary between subjects, in the order of the per-subject CSV.
    pub const BETWEEN_SUBJECTS: [ModelParam; 6] = [
        ModelParam::KaPerH,
        ModelParam::HalfLifeH,
        ModelParam::VL,
        ModelParam::F,
        ModelParam::QLPerH,
        ModelParam::VpL,
    ];

    /// Key as written in scenario files and CSV headers.
    pub fn key(self) -> &'static str {
        match self {
            ModelParam::KaPerH => "ka_per_h",
            ModelParam::HalfLifeH => "half_life_h",
            ModelParam::VL => "v_l",
            ModelParam::F => "f",
            ModelParam::TlagH => "tlag_h",
            ModelParam::BaselineNgMl => "baseline_ng_ml",
            ModelParam::QLPerH => "q_l_per_h",
            ModelParam::VpL => "vp_l",
            ModelParam::VmaxUgPerH => "vmax_ug_per_h",
            ModelParam::KmUg => "km_ug",
        }
    }

    /// The parameter named `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }

    /// Label and unit on a figure axis.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            ModelParam::KaPerH => ("absorption rate ka", "1/h"),
            ModelParam::HalfLifeH => ("half-life", "h"),
            ModelParam::VL => ("volume V/F", "L"),
            ModelParam::F => ("relative bioavailability F", ""),
            ModelParam::TlagH => ("lag time", "h"),
            ModelParam::BaselineNgMl => ("baseline", "ng/mL"),
            ModelParam::QLPerH => ("inter-compartmental clearance Q/F", "L/h"),
            ModelParam::VpL => ("peripheral volume Vp/F", "L"),
            ModelParam::VmaxUgPerH => ("absorption Vmax", "µg/h"),
            ModelParam::KmUg => ("absorption Km", "µg"),
        }
    }

    /// Whether zero is an allowed value (lag and baseline may be zero; the rest must be positive).
    pub fn zero_allowed(self) -> bool {
        matches!(self, ModelParam::TlagH | ModelParam::BaselineNgMl)
    }

    /// Whether `m` has this parameter: a peripheral compartment for Q and Vp, saturable
    /// absorption for Vmax and Km, first-order absorption for ka.
    pub fn applies_to(self, m: &PkModel) -> bool {
        match self {
            ModelParam::QLPerH | ModelParam::VpL => m.peripheral.is_some(),
            ModelParam::VmaxUgPerH | ModelParam::KmUg => !m.is_linear(),
            ModelParam::KaPerH => m.is_linear(),
            _ => true,
        }
    }

    /// The value in `m`, `None` where `m` does not have the parameter ([`Self::applies_to`]).
    pub fn get(self, m: &PkModel) -> Option<f64> {
        if !self.applies_to(m) {
            return None;
        }
        Some(match self {
            ModelParam::KaPerH => m.ka_per_h,
            ModelParam::HalfLifeH => m.half_life_h(),
            ModelParam::VL => m.v_l,
            ModelParam::F => m.f,
            ModelParam::TlagH => m.tlag_h,
            ModelParam::BaselineNgMl => m.baseline_ng_ml,
            ModelParam::QLPerH => m.peripheral?.q_l_per_h,
            ModelParam::VpL => m.peripheral?.vp_l,
            ModelParam::VmaxUgPerH | ModelParam::KmUg => match m.absorption {
                Absorption::MichaelisMenten {
                    vmax_ug_per_h,
                    km_ug,
                } => {
                    if self == ModelParam::KmUg {
                        km_ug
                    } else {
                        vmax_ug_per_h
                    }
                }
                Absorption::FirstOrder => return None,
            },
        })
    }

    /// `m` with this parameter set to `value`, every parameter checked again. A parameter the
    /// model does not have (Q of one compartment, Vmax of first-order absorption) is an error;
    /// ka of a saturable model is stored but unused.
    pub fn set(self, m: &PkModel, value: f64) -> Result<PkModel, SimError> {
        let mut out = *m;
        match self {
            ModelParam::KaPerH => out.ka_per_h = value,
            ModelParam::HalfLifeH => out.ke_per_h = LN_2 / value,
            ModelParam::VL => out.v_l = value,
            ModelParam::F => out.f = value,
            ModelParam::TlagH => out.tlag_h = value,
            ModelParam::BaselineNgMl => out.baseline_ng_ml = value,
            ModelParam::QLPerH | ModelParam::VpL | ModelParam::VmaxUgPerH | ModelParam::KmUg => {
                match (self, &mut out.peripheral, &mut out.absorption) {
                    (ModelParam::QLPerH, Some(p), _) => p.q_l_per_h = value,
                    (ModelParam::VpL, Some(p), _) => p.vp_l = value,
                    (
                        ModelParam::VmaxUgPerH,
                        _,
                        Absorption::MichaelisMenten { vmax_ug_per_h, .. },
                    ) => *vmax_ug_per_h = value,
                    (ModelParam::KmUg, _, Absorption::MichaelisMenten { km_ug, .. }) => {
                        *km_ug = value
                    }
                    _ => {
                        return Err(SimError::InvalidParameter {
                            name: self.key(),
                            value,
                            expected: "a regimen whose model has this parameter",
                        })
                    }
                }
            }
        }
        out.checked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_set_revalidates() {
        for p in ModelParam::ALL {
            assert_eq!(ModelParam::from_key(p.key()), Some(p));
        }
        let m = PkModel::new(1.0, LN_2 / 72.0, 230.0, 1.0, 0.0, 0.0).unwrap();
        let m2 = ModelParam::HalfLifeH.set(&m, 96.0).unwrap();
        assert!((ModelParam::HalfLifeH.get(&m2).unwrap() - 96.0).abs() < 1e-12);
        assert_eq!(ModelParam::VL.get(&m2), Some(230.0));
        // Re-validation: a negative volume is refused, not stored.
        assert!(ModelParam::VL.set(&m, -1.0).is_err());
        // A parameter the model lacks.
        assert_eq!(ModelParam::QLPerH.get(&m), None);
        assert!(ModelParam::QLPerH.set(&m, 1.0).is_err());
    }
}
