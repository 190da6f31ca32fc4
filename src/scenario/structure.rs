//! Validation of the model structure keys of `[regimen.params]`: a peripheral compartment
//! (`model = "two_compartment"` with `q_l_per_h`, `vp_l`) and saturable absorption
//! (`absorption = "michaelis_menten"` with `vmax_ug_per_h`, `km_ug`). Neither has a preset
//! value: the literature gives no human estimates to cite (see docs/model.md), so the scenario
//! supplies them and the summary says so.

use std::ops::Range;

use toml::Spanned;

use super::raw::RawParams;
use super::{ParamSources, Provenance, Validator, R};
use crate::error::{suggest, InputErrorKind as K};
use crate::model::PkModel;

use super::Regimen;
use crate::model::SolverKind;

const MODELS: [&str; 2] = ["one_compartment", "two_compartment"];
const ABSORPTIONS: [&str; 2] = ["first_order", "michaelis_menten"];

impl Validator<'_> {
    /// One of `known` at key `key`, or an error naming the nearest.
    fn pick<'k>(&self, key: &str, v: &Spanned<String>, known: &[&'k str]) -> R<&'k str> {
        let name = v.get_ref().trim();
        known.iter().copied().find(|k| *k == name).ok_or_else(|| {
            self.err(
                v.span(),
                K::UnknownName {
                    key: key.into(),
                    name: name.into(),
                    suggestion: suggest(name, known.iter().copied()),
                    known: known.iter().map(|k| k.to_string()).collect(),
                },
            )
        })
    }

    /// The value of a key that the chosen structure needs, or a "missing key" error at `at`.
    fn needed(
        &self,
        key: &str,
        v: Option<&Spanned<f64>>,
        unit: &str,
        at: Range<usize>,
        hint: &str,
    ) -> R<f64> {
        match v {
            Some(x) => self.positive(key, x, unit),
            None => Err(self.err(
                at,
                K::Missing {
                    key: key.into(),
                    hint: hint.into(),
                },
            )),
        }
    }

    /// A key given without the structure it belongs to.
    fn without(&self, key: &str, v: Option<&Spanned<f64>>, needs: &str, hint: &str) -> R<()> {
        match v {
            Some(x) => Err(self.err(
                x.span(),
                K::Missing {
                    key: needs.into(),
                    hint: format!("`{key}` {hint}"),
                },
            )),
            None => Ok(()),
        }
    }

    /// Applies `model` and `absorption` from `[regimen.params]` to `model`.
    pub(super) fn structure(
        &self,
        p: Option<&RawParams>,
        mut model: PkModel,
        mut sources: ParamSources,
    ) -> R<(PkModel, ParamSources)> {
        let Some(p) = p else {
            return Ok((model, sources));
        };
        let given = || Provenance {
            origin: "scenario",
            evidence: None,
            source: "set in the scenario file (no preset: see docs/model.md, Model extensions)"
                .into(),
        };
        let option = |e: crate::error::SimError, span: Range<usize>| {
            self.err(
                span,
                K::Invalid {
                    message: e.to_string(),
                },
            )
        };
        let kind = match &p.model {
            Some(m) => self.pick("model", m, &MODELS)?,
            None => "one_compartment",
        };
        if kind == "two_compartment" {
            let at = p.model.as_ref().map(Spanned::span).unwrap_or_default();
            let hint = "model = \"two_compartment\" needs the inter-compartmental clearance `q_l_per_h` (L/h) and the peripheral volume `vp_l` (L) under [regimen.params]";
            let q = self.needed("q_l_per_h", p.q_l_per_h.as_ref(), "L/h", at.clone(), hint)?;
            let vp = self.needed("vp_l", p.vp_l.as_ref(), "litres", at.clone(), hint)?;
            model = model.with_peripheral(q, vp).map_err(|e| option(e, at))?;
            sources.q_l_per_h = Some(given());
            sources.vp_l = Some(given());
        } else {
            let hint = "describes a peripheral compartment: add model = \"two_compartment\" under [regimen.params], or remove it";
            self.without("q_l_per_h", p.q_l_per_h.as_ref(), "model", hint)?;
            self.without("vp_l", p.vp_l.as_ref(), "model", hint)?;
        }
        let absorption = match &p.absorption {
            Some(a) => self.pick("absorption", a, &ABSORPTIONS)?,
            None => "first_order",
        };
        if absorption == "michaelis_menten" {
            let at = p.absorption.as_ref().map(Spanned::span).unwrap_or_default();
            if let Some(ka) = &p.ka_per_h {
                return Err(self.conflict(
                    ka.span(),
                    "ka_per_h",
                    "absorption",
                    "Michaelis–Menten absorption replaces ka (at small doses it acts as ka = vmax_ug_per_h / km_ug): remove ka_per_h",
                ));
            }
            let hint = "absorption = \"michaelis_menten\" needs the largest absorption rate `vmax_ug_per_h` (µg/h) and the gut amount at half of it, `km_ug` (µg), under [regimen.params]";
            let vmax = self.needed(
                "vmax_ug_per_h",
                p.vmax_ug_per_h.as_ref(),
                "µg/h",
                at.clone(),
                hint,
            )?;
            let km = self.needed("km_ug", p.km_ug.as_ref(), "µg", at.clone(), hint)?;
            model = model
                .with_michaelis_menten(vmax, km)
                .map_err(|e| option(e, at))?;
            sources.vmax_ug_per_h = Some(given());
            sources.km_ug = Some(given());
        } else {
            let hint = "sets saturable absorption: add absorption = \"michaelis_menten\" under [regimen.params], or remove it";
            self.without(
                "vmax_ug_per_h",
                p.vmax_ug_per_h.as_ref(),
                "absorption",
                hint,
            )?;
            self.without("km_ug", p.km_ug.as_ref(), "absorption", hint)?;
        }
        Ok((model, sources))
    }
}

impl Validator<'_> {
    /// Notes the regimens that the exact solver cannot solve: saturable absorption has no
    /// closed form, so those regimens are integrated by Dopri5 (the summary names the solver
    /// of each regimen).
    pub(super) fn note_solver(
        &self,
        chosen: SolverKind,
        regimens: &[Regimen],
        warnings: &mut Vec<String>,
    ) {
        if chosen != SolverKind::Exact {
            return;
        }
        for r in regimens.iter().filter(|r| !r.model.is_linear()) {
            warnings.push(format!(
                "regimen \"{}\" has Michaelis–Menten absorption, which has no closed form: it is integrated by Dopri5 (solver \"ode\")",
                r.label
            ));
        }
    }
}
