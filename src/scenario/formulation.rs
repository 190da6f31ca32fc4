//! `formulation = "capsule" | "tablet" | "food"` and `baseline = "none" | "japanese" |
//! "european"` on a regimen: the absorption solved from the formulation's published Tmax, and a
//! cohort's published endogenous level, each from [`crate::compound`] with its source.

use toml::Spanned;

use super::{ParamSources, Provenance, Validator, R};
use crate::compound::{cohort_baseline_ng_ml, formulation_tmax_h, ka_from_tmax, Compound};
use crate::compound::{COHORTS, FORMULATIONS};
use crate::error::InputErrorKind as K;
use crate::format::fmt_value;
use crate::model::{Absorption, PkModel};

/// The regimen keys this step reads.
pub(super) struct Choices<'a> {
    pub formulation: Option<&'a Spanned<String>>,
    pub baseline: Option<&'a Spanned<String>>,
    /// `ka_per_h` and `baseline_ng_ml` under `[regimen.params]`, which these keys replace.
    pub ka_set: bool,
    pub baseline_set: bool,
    /// The regimen is given IV.
    pub iv: bool,
}

impl Validator<'_> {
    /// Applies `formulation` (ka from the published Tmax at the regimen's half-life) and
    /// `baseline` (a cohort's published level) to a regimen's model.
    pub(super) fn formulation_and_baseline(
        &self,
        k: &Choices,
        compound: &Compound,
        mut model: PkModel,
        mut sources: ParamSources,
    ) -> R<(PkModel, ParamSources)> {
        if let Some(f) = k.formulation {
            let name = f.get_ref().trim().to_ascii_lowercase();
            if !FORMULATIONS.contains(&name.as_str()) {
                return Err(self.err(
                    f.span(),
                    K::UnknownName {
                        key: "formulation".into(),
                        name: f.get_ref().clone(),
                        suggestion: None,
                        known: FORMULATIONS.iter().map(|s| s.to_string()).collect(),
                    },
                ));
            }
            if k.ka_set {
                return Err(self.conflict(
                    f.span(),
                    "formulation",
                    "ka_per_h",
                    "the formulation sets ka from its published Tmax: keep one of them",
                ));
            }
            if k.iv {
                return Err(self.conflict(
                    f.span(),
                    "formulation",
                    "route",
                    "a formulation describes oral absorption, which an IV dose does not have; remove `formulation`",
                ));
            }
            if model.absorption != Absorption::FirstOrder || model.peripheral.is_some() {
                return Err(self.err(
                    f.span(),
                    K::OutOfRange {
                        key: "formulation".into(),
                        value: format!("\"{name}\""),
                        expected: "a one-compartment model with first-order absorption: the formulation's Tmax is solved for that model's ka; with another model set `ka_per_h` (or Vmax, Km) yourself".into(),
                    },
                ));
            }
            let Some(tmax) = formulation_tmax_h(compound.id, &name) else {
                let known: Vec<&str> = FORMULATIONS
                    .iter()
                    .copied()
                    .filter(|f| formulation_tmax_h(compound.id, f).is_some())
                    .collect();
                let known = if known.is_empty() {
                    "none: its absorption is known from a syrup only".to_string()
                } else {
                    known.join(", ")
                };
                return Err(self.err(
                    f.span(),
                    K::OutOfRange {
                        key: "formulation".into(),
                        value: format!("\"{name}\" with compound {}", compound.id),
                        expected: format!(
                            "a formulation with a published Tmax for {} ({known}); or set `ka_per_h` under [regimen.params]",
                            compound.id
                        ),
                    },
                ));
            };
            model.ka_per_h = ka_from_tmax(tmax.value, model.ke_per_h);
            sources.ka_per_h = Provenance {
                origin: "formulation",
                evidence: Some(crate::compound::Evidence::Derived),
                source: format!(
                    "formulation = \"{name}\": solved from Tmax {} h ({}) and the regimen's half-life",
                    fmt_value(tmax.value),
                    tmax.source
                ),
            };
        }
        if let Some(b) = k.baseline {
            let name = b.get_ref().trim().to_ascii_lowercase();
            if !COHORTS.contains(&name.as_str()) {
                return Err(self.err(
                    b.span(),
                    K::UnknownName {
                        key: "baseline".into(),
                        name: b.get_ref().clone(),
                        suggestion: None,
                        known: COHORTS.iter().map(|s| s.to_string()).collect(),
                    },
                ));
            }
            if k.baseline_set {
                return Err(self.conflict(
                    b.span(),
                    "baseline",
                    "baseline_ng_ml",
                    "`baseline` picks a cohort's published level, `baseline_ng_ml` sets one: keep one of them",
                ));
            }
            // Every compound has every cohort (tested in compound.rs).
            if let Some(level) = cohort_baseline_ng_ml(compound.id, &name) {
                model.baseline_ng_ml = level.value;
                sources.baseline_ng_ml = Provenance {
                    origin: "cohort",
                    evidence: Some(level.evidence),
                    source: format!("baseline = \"{name}\": {}", level.source),
                };
            }
        }
        Ok((model, sources))
    }
}
