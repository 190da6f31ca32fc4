//! Validation of the `[fit]` table: which parameters `k2sim fit` estimates and how residuals
//! are weighted. Errors follow the validator's pattern (file:line:col, key, expected, fix).

use crate::model::ModelParam;
use crate::scenario::{FitSpec, Weighting};
use toml::Spanned;

use super::{Regimen, Validator, R};
use crate::error::{suggest, InputErrorKind as K};

/// `[fit]` as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFit {
    pub params: Option<Spanned<Vec<Spanned<String>>>>,
    pub weighting: Option<Spanned<String>>,
}

impl Validator<'_> {
    pub(super) fn fit(&self, raw: &Spanned<RawFit>, regimens: &[Regimen]) -> R<FitSpec> {
        let names: Vec<&str> = ModelParam::FITTABLE.iter().map(|p| p.key()).collect();
        let list = raw.get_ref().params.as_ref().ok_or_else(|| {
            self.err(
                raw.span(),
                K::Missing {
                    key: "fit.params".into(),
                    hint: "name the parameters to estimate: `params = [\"ka_per_h\", \"half_life_h\", \"v_l\"]`".into(),
                },
            )
        })?;
        if list.get_ref().is_empty() {
            return Err(self.err(
                list.span(),
                K::OutOfRange {
                    key: "fit.params".into(),
                    value: "[]".into(),
                    expected: format!("at least one of {}", names.join(", ")),
                },
            ));
        }
        let mut params = Vec::new();
        for p in list.get_ref() {
            let Some(&param) = ModelParam::FITTABLE.iter().find(|q| q.key() == p.get_ref()) else {
                return Err(self.err(
                    p.span(),
                    K::UnknownName {
                        key: "fit.params".into(),
                        name: p.get_ref().clone(),
                        suggestion: suggest(p.get_ref(), names.iter().copied()),
                        known: names.iter().map(|s| s.to_string()).collect(),
                    },
                ));
            };
            if let Some(r) = regimens.iter().find(|r| !param.applies_to(&r.model)) {
                let needs = match param {
                    ModelParam::QLPerH | ModelParam::VpL => "model = \"two_compartment\"",
                    ModelParam::VmaxUgPerH | ModelParam::KmUg => {
                        "absorption = \"michaelis_menten\""
                    }
                    _ => "first-order absorption (Michaelis–Menten absorption has no ka)",
                };
                return Err(self.err(
                    p.span(),
                    K::OutOfRange {
                        key: "fit.params".into(),
                        value: format!("\"{}\" with regimen \"{}\"", p.get_ref(), r.label),
                        expected: format!(
                            "a parameter every regimen has: fitted values are shared by all regimens, and this one needs {needs}"
                        ),
                    },
                ));
            }
            if params.contains(&param) {
                return Err(self.err(
                    p.span(),
                    K::OutOfRange {
                        key: "fit.params".into(),
                        value: format!("\"{}\" twice", p.get_ref()),
                        expected: "each parameter once".into(),
                    },
                ));
            }
            params.push(param);
        }
        let weighting = match &raw.get_ref().weighting {
            None => Weighting::default(),
            Some(w) => match w.get_ref().as_str() {
                "proportional" => Weighting::Proportional,
                "additive" => Weighting::Additive,
                other => {
                    return Err(self.err(
                        w.span(),
                        K::UnknownName {
                            key: "fit.weighting".into(),
                            name: other.into(),
                            suggestion: suggest(other, ["proportional", "additive"]),
                            known: vec!["proportional".into(), "additive".into()],
                        },
                    ))
                }
            },
        };
        Ok(FitSpec { params, weighting })
    }
}
