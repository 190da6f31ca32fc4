//! Validation of the `[response]` table: known markers, a known population, and data for every
//! marker in that population and for every regimen's compound.

use toml::Spanned;

use super::raw::RawResponse;
use super::{Regimen, ResponseSpec, Validator, R};
use crate::error::InputErrorKind as K;
use crate::response::{preset, Marker, MarkerParam, ParamKey, Population};

impl Validator<'_> {
    pub(super) fn response(
        &self,
        raw: Spanned<RawResponse>,
        regimens: &[Regimen],
    ) -> R<ResponseSpec> {
        let span = raw.span();
        let r = raw.into_inner();
        let markers = r.markers.as_ref().ok_or_else(|| {
            self.err(
                span.clone(),
                K::Missing {
                    key: "response.markers".into(),
                    hint: "add `markers = [\"dp_ucmgp\", \"ucoc\"]`: the carboxylation markers to model".into(),
                },
            )
        })?;
        let known = || Marker::ALL.iter().map(|m| m.key().to_string()).collect();
        let mut chosen: Vec<Marker> = Vec::new();
        for m in markers.get_ref() {
            let Some(marker) = Marker::from_key(m.get_ref().trim()) else {
                return Err(self.err(
                    m.span(),
                    K::UnknownName {
                        key: "response.markers".into(),
                        name: m.get_ref().clone(),
                        suggestion: None,
                        known: known(),
                    },
                ));
            };
            if chosen.contains(&marker) {
                return Err(self.err(
                    m.span(),
                    K::OutOfRange {
                        key: "response.markers".into(),
                        value: format!("\"{}\" twice", marker.key()),
                        expected: "each marker once".into(),
                    },
                ));
            }
            chosen.push(marker);
        }
        if chosen.is_empty() {
            return Err(self.err(
                markers.span(),
                K::OutOfRange {
                    key: "response.markers".into(),
                    value: "[]".into(),
                    expected: "at least one of \"dp_ucmgp\", \"ucoc\"".into(),
                },
            ));
        }
        let population = match &r.population {
            None => Population::Healthy,
            Some(p) => Population::from_key(p.get_ref().trim()).ok_or_else(|| {
                self.err(
                    p.span(),
                    K::UnknownName {
                        key: "response.population".into(),
                        name: p.get_ref().clone(),
                        suggestion: None,
                        known: Population::ALL
                            .iter()
                            .map(|p| p.key().to_string())
                            .collect(),
                    },
                )
            })?,
        };
        let place = r.population.as_ref().map_or(markers.span(), |p| p.span());
        let mut presets = Vec::new();
        for (m, raw_m) in chosen.iter().zip(markers.get_ref()) {
            let Some(pre) = preset(*m, population) else {
                return Err(self.err(
                    place.clone(),
                    K::OutOfRange {
                        key: "response.population".into(),
                        value: format!("\"{}\" with marker {}", population.key(), m.key()),
                        expected: format!(
                            "a population with published {} data: {}",
                            m.label(),
                            Population::ALL
                                .iter()
                                .filter(|p| preset(*m, **p).is_some())
                                .map(|p| p.key())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                ));
            };
            for reg in regimens {
                let c = &reg.compound;
                if pre
                    .equivalents_per_ng_ml(c.id, c.molar_mass_g_mol)
                    .is_none()
                {
                    return Err(self.err(
                        raw_m.span(),
                        K::OutOfRange {
                            key: "response.markers".into(),
                            value: format!("\"{}\" with regimen \"{}\" ({})", m.key(), reg.label, c.id),
                            expected: format!(
                                "regimens of compounds whose {} response has published data (mk7, mk4); remove the marker or the {} regimen",
                                m.label(),
                                c.id
                            ),
                        },
                    ));
                }
            }
            presets.push(pre);
        }
        let mut overrides = Vec::new();
        for (marker, table) in [(Marker::DpUcmgp, &r.dp_ucmgp), (Marker::Ucoc, &r.ucoc)] {
            let Some(table) = table else { continue };
            let key = |p: ParamKey| format!("response.{}.{}", marker.key(), p.key());
            if !chosen.contains(&marker) {
                return Err(self.err(
                    table.span(),
                    K::OutOfRange {
                        key: format!("response.{}", marker.key()),
                        value: "a table for a marker not in `markers`".into(),
                        expected: format!(
                            "parameters of a modelled marker: add \"{}\" to `response.markers` or remove [response.{}]",
                            marker.key(),
                            marker.key()
                        ),
                    },
                ));
            }
            for (p, v) in table.get_ref().given() {
                if !p.admits(*v.get_ref()) {
                    let (lo, hi) = p.range();
                    return Err(self.err(
                        v.span(),
                        K::OutOfRange {
                            key: key(p),
                            value: crate::format::fmt_value(*v.get_ref()),
                            expected: format!(
                                "{} to {}: {} (the preset has {})",
                                crate::format::fmt_value(lo),
                                crate::format::fmt_value(hi),
                                p.what(),
                                presets
                                    .iter()
                                    .find(|q| q.marker == marker)
                                    .and_then(|q| q.get(p))
                                    .map_or("none".into(), |x| format!("{x:.4}"))
                            ),
                        },
                    ));
                }
                overrides.push((MarkerParam { marker, param: p }, *v.get_ref()));
            }
        }
        let spec = ResponseSpec {
            population,
            presets,
            overrides,
        };
        let presets = spec
            .presets
            .iter()
            .cloned()
            .map(|mut p| {
                spec.apply_overrides(&mut p);
                p
            })
            .collect();
        Ok(ResponseSpec { presets, ..spec })
    }
}
