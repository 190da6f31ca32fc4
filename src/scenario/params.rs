//! `[regimen.params]`: a regimen's model parameters, each from the compound preset or the
//! scenario file, with its provenance.

use super::raw::RawParams;
use super::*;
use crate::compound::{self, Compound};
use crate::error::{InputError, InputErrorKind as K};
use crate::model::{PkModel, LN_2};

impl Validator<'_> {
    pub(super) fn params(&self, c: &Compound, p: Option<&RawParams>) -> R<(PkModel, ParamSources)> {
        let preset = |cited: &compound::Cited| Provenance {
            origin: "preset",
            evidence: Some(cited.evidence),
            source: cited.source.clone(),
        };
        let over = || Provenance {
            origin: "scenario",
            evidence: None,
            source: "set in the scenario file".into(),
        };
        let mut ka = c.ka_per_h.value;
        let mut half = c.half_life_h.value;
        let mut v = c.v_l.value;
        let mut f = c.f.value;
        let mut tlag = c.tlag_h.value;
        let mut base = c.baseline_ng_ml.value;
        let mut src = ParamSources {
            ka_per_h: preset(&c.ka_per_h),
            half_life_h: preset(&c.half_life_h),
            v_l: preset(&c.v_l),
            f: preset(&c.f),
            tlag_h: preset(&c.tlag_h),
            baseline_ng_ml: preset(&c.baseline_ng_ml),
            q_l_per_h: None,
            vp_l: None,
            vmax_ug_per_h: None,
            km_ug: None,
        };
        if let Some(p) = p {
            if let Some(x) = &p.ka_per_h {
                ka = self.positive("ka_per_h", x, "1/h")?;
                src.ka_per_h = over();
            }
            match (&p.half_life_h, &p.ke_per_h) {
                (Some(_), Some(k)) => {
                    return Err(self.conflict(
                        k.span(),
                        "ke_per_h",
                        "half_life_h",
                        "they say the same thing (ke = ln 2 / half-life): keep one",
                    ))
                }
                (Some(h), None) => {
                    half = self.positive("half_life_h", h, "hours")?;
                    src.half_life_h = over();
                }
                (None, Some(k)) => {
                    half = LN_2 / self.positive("ke_per_h", k, "1/h")?;
                    src.half_life_h = Provenance {
                        origin: "scenario",
                        evidence: None,
                        source: "ln 2 / ke_per_h set in the scenario file".into(),
                    };
                }
                (None, None) => {}
            }
            if let Some(x) = &p.v_l {
                v = self.positive("v_l", x, "litres")?;
                src.v_l = over();
            }
            if let Some(x) = &p.f {
                f = self.range(
                    "f",
                    x,
                    |x| x > 0.0 && x <= 1000.0,
                    "a positive bioavailability factor (1 = as the preset)",
                )?;
                src.f = over();
            }
            if let Some(x) = &p.tlag_h {
                tlag = self.range(
                    "tlag_h",
                    x,
                    |x| (0.0..=MAX_DURATION_H).contains(&x),
                    "zero or a positive lag in h, at most 100 years",
                )?;
                src.tlag_h = over();
            }
            if let Some(x) = &p.baseline_ng_ml {
                base = self.range(
                    "baseline_ng_ml",
                    x,
                    |x| (0.0..=1e9).contains(&x),
                    "zero or a positive concentration in ng/mL, at most 1e9",
                )?;
                src.baseline_ng_ml = over();
            }
        }
        // Values are checked above; this can only fail on a preset bug, reported the same way.
        let model = PkModel::new(ka, LN_2 / half, v, f, tlag, base).map_err(|e| {
            InputError::at(
                self.text,
                None,
                K::Invalid {
                    message: e.to_string(),
                },
            )
        })?;
        Ok((model, src))
    }
}
