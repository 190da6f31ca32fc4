//! Validation of `meal_fat_g` on a regimen: every dose of the regimen is taken with a meal of
//! this much fat, and MK-4's bioavailability follows [`crate::meal_fat::mk4_f_rel`].

use crate::format::fmt_value;
use toml::Spanned;

use super::{ParamSources, Provenance, Validator, R};
use crate::compound::{Compound, Evidence};
use crate::error::InputErrorKind as K;
use crate::meal_fat::mk4_f_rel;
use crate::model::PkModel;

impl Validator<'_> {
    /// Multiplies F by the meal-fat factor when `meal_fat_g` is given (MK-4 only).
    pub(super) fn meal_fat(
        &self,
        fat: Option<&Spanned<f64>>,
        compound: &Compound,
        mut model: PkModel,
        mut sources: ParamSources,
    ) -> R<(PkModel, ParamSources)> {
        let Some(fat) = fat else {
            return Ok((model, sources));
        };
        let g = self.range(
            "meal_fat_g",
            fat,
            |x| (0.0..=500.0).contains(&x),
            "grams of fat in the meal taken with each dose, 0 to 500",
        )?;
        if compound.id != "mk4" {
            return Err(self.err(
                fat.span(),
                K::OutOfRange {
                    key: "meal_fat_g".into(),
                    value: format!("{} with compound {}", fmt_value(g), compound.id),
                    expected: "an MK-4 regimen: the meal-fat relation is calibrated on menatetrenone only (Uematsu 1996); for other compounds set a relative `f` under [regimen.params]".into(),
                },
            ));
        }
        let f_rel = mk4_f_rel(g);
        model.f *= f_rel;
        sources.f = Provenance {
            origin: "scenario",
            evidence: Some(Evidence::Derived),
            source: format!(
                "× {:.3} for a meal with {} g fat: AUC0–24 against meal fat (Uematsu et al. 1996, R), interpolated and normalised to the preset's fed state (D)",
                f_rel,
                fmt_value(g)
            ),
        };
        Ok((model, sources))
    }
}
