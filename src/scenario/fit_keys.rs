//! Validation of the `[fit]` table: which parameters `k2sim fit` estimates and how residuals
//! are weighted. Errors follow the validator's pattern (file:line:col, key, expected, fix).

use crate::model::ModelParam;
use crate::response::{MarkerParam, ParamKey};
use crate::scenario::{FitSpec, ResponseSpec, Weighting};
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
    pub(super) fn fit(
        &self,
        raw: &Spanned<RawFit>,
        regimens: &[Regimen],
        response: Option<&ResponseSpec>,
    ) -> R<FitSpec> {
        let response_names = MarkerParam::fittable_names();
        let names: Vec<&str> = ModelParam::FITTABLE
            .iter()
            .map(|p| p.key())
            .chain(response_names.iter().map(String::as_str))
            .collect();
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
        let mut response_params: Vec<MarkerParam> = Vec::new();
        for p in list.get_ref() {
            if let Some(mp) = MarkerParam::from_name(p.get_ref()).filter(|m| m.param.fittable()) {
                let here = |value: String, expected: String| {
                    self.err(
                        p.span(),
                        K::OutOfRange {
                            key: "fit.params".into(),
                            value,
                            expected,
                        },
                    )
                };
                let preset =
                    response.and_then(|r| r.presets.iter().find(|q| q.marker == mp.marker));
                let Some(preset) = preset else {
                    return Err(here(
                        format!("\"{}\" without that marker in [response]", p.get_ref()),
                        format!(
                            "a parameter of a modelled marker: add `[response] markers = [\"{}\"]`",
                            mp.marker.key()
                        ),
                    ));
                };
                if preset.get(mp.param).is_none() {
                    return Err(here(
                        format!("\"{}\"", p.get_ref()),
                        "a parameter the preset has (this population has no MK-4 potency)".into(),
                    ));
                }
                if mp.param == ParamKey::Mk4RelativePotency
                    && !regimens.iter().any(|r| r.compound.id == "mk4")
                {
                    return Err(here(
                        format!("\"{}\" with no MK-4 regimen", p.get_ref()),
                        "an MK-4 regimen whose response data can tell its potency".into(),
                    ));
                }
                if response_params.contains(&mp) {
                    return Err(here(
                        format!("\"{}\" twice", p.get_ref()),
                        "each parameter once".into(),
                    ));
                }
                response_params.push(mp);
                continue;
            }
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
        if let (Some(w), false) = (&raw.get_ref().weighting, response_params.is_empty()) {
            return Err(self.err(
                w.span(),
                K::OutOfRange {
                    key: "fit.weighting".into(),
                    value: format!("\"{}\" in a response fit", w.get_ref()),
                    expected: "no `weighting`: a response fit weights by each row's `se_pct` when the rows give it, else equally (changes in % have no level to be proportional to)".into(),
                },
            ));
        }
        if !params.is_empty() && !response_params.is_empty() {
            return Err(self.err(
                list.span(),
                K::OutOfRange {
                    key: "fit.params".into(),
                    value: "PK and response parameters together".into(),
                    expected: "one kind per fit: fit the PK to [[observed]] first, write its estimates into [regimen.params], then fit the response to [[observed_response]] with the PK fixed".into(),
                },
            ));
        }
        Ok(FitSpec {
            params,
            weighting: if response_params.is_empty() {
                weighting
            } else {
                Weighting::Additive
            },
            response: response_params,
        })
    }
}
