//! Measured marker changes in a scenario: `[[observed_response]]` rows, the data `k2sim fit`
//! fits response parameters to (docs/response.md § Fitting the response).
//!
//! ```toml
//! [[observed_response]]
//! regimen = "MK-7 180 µg daily"   # optional with one regimen
//! marker = "dp_ucmgp"
//! time_h = 2016                   # 12 weeks
//! pct_change = -31                # change of the group mean from baseline (%)
//! se_pct = 4.2                    # optional: its standard error (percentage points)
//! source = "Dalmeijer 2012"       # optional, printed in the fit report
//! ```

use crate::format::fmt_value;
use toml::Spanned;

use super::observed::regimen_for;
use super::{Regimen, ResponseSpec, Validator, R};
use crate::error::{suggest, InputErrorKind as K};
use crate::response::Marker;

/// One measured change of a marker from its baseline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ObservedResponse {
    /// Label of the regimen the group took.
    pub regimen: String,
    pub marker: Marker,
    /// Sampling time (h from the start of the run).
    pub time_h: f64,
    /// Change of the marker from baseline (%; negative is a fall).
    pub pct_change: f64,
    /// Standard error of `pct_change` (percentage points), when the study gives one.
    pub se_pct: Option<f64>,
    /// Where the number was read.
    pub source: Option<String>,
}

/// An `[[observed_response]]` row as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObservedResponse {
    pub regimen: Option<Spanned<String>>,
    pub marker: Option<Spanned<String>>,
    pub time_h: Option<Spanned<f64>>,
    pub pct_change: Option<Spanned<f64>>,
    pub se_pct: Option<Spanned<f64>>,
    pub source: Option<Spanned<String>>,
}

impl Validator<'_> {
    /// Validates the rows against the regimens, the run's span and the `[response]` markers.
    pub(super) fn observed_response(
        &self,
        rows: &[Spanned<RawObservedResponse>],
        regimens: &[Regimen],
        duration_h: f64,
        response: Option<&ResponseSpec>,
    ) -> R<Vec<ObservedResponse>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let span = row.span();
            let r = row.get_ref();
            let missing = |key: &str, example: &str| {
                self.err(
                    span.clone(),
                    K::Missing {
                        key: format!("observed_response.{key}"),
                        hint: format!(
                            "each [[observed_response]] row needs `{key}`, e.g. `{example}`"
                        ),
                    },
                )
            };
            let Some(spec) = response else {
                return Err(missing(
                    "[response]",
                    "[response] markers = [\"dp_ucmgp\"]: the markers the rows measure",
                ));
            };
            let m = r
                .marker
                .as_ref()
                .ok_or_else(|| missing("marker", "marker = \"dp_ucmgp\""))?;
            let chosen: Vec<&str> = spec.presets.iter().map(|p| p.marker.key()).collect();
            let marker = Marker::from_key(m.get_ref().trim())
                .filter(|mk| chosen.contains(&mk.key()))
                .ok_or_else(|| {
                    self.err(
                        m.span(),
                        K::UnknownName {
                            key: "observed_response.marker".into(),
                            name: m.get_ref().clone(),
                            suggestion: suggest(m.get_ref(), chosen.iter().copied()),
                            known: chosen.iter().map(|s| s.to_string()).collect(),
                        },
                    )
                })?;
            let t = r
                .time_h
                .as_ref()
                .ok_or_else(|| missing("time_h", "time_h = 2016"))?;
            let range = |key: &str, at: &Spanned<f64>, expected: String| {
                self.err(
                    at.span(),
                    K::OutOfRange {
                        key: format!("observed_response.{key}"),
                        value: fmt_value(*at.get_ref()),
                        expected,
                    },
                )
            };
            let time_h = *t.get_ref();
            if !(time_h.is_finite() && time_h > 0.0 && time_h <= duration_h) {
                return Err(range(
                    "time_h",
                    t,
                    format!(
                        "a time after the first dose and within the run, up to {} h (lengthen `duration` to fit later samples)",
                        fmt_value(duration_h)
                    ),
                ));
            }
            let c = r
                .pct_change
                .as_ref()
                .ok_or_else(|| missing("pct_change", "pct_change = -31"))?;
            let pct_change = *c.get_ref();
            if !(pct_change.is_finite() && pct_change > -100.0 && pct_change <= 1000.0) {
                return Err(range(
                    "pct_change",
                    c,
                    "a change from baseline in %, above −100 (a marker cannot vanish) and at most 1000".into(),
                ));
            }
            let se_pct = match &r.se_pct {
                Some(s) if !(s.get_ref().is_finite() && *s.get_ref() > 0.0) => {
                    return Err(range(
                        "se_pct",
                        s,
                        "a positive standard error in percentage points".into(),
                    ))
                }
                Some(s) => Some(*s.get_ref()),
                None => None,
            };
            let regimen = regimen_for(r.regimen.as_ref().map(|s| s.get_ref().as_str()), regimens)
                .map_err(|(suggestion, known)| match &r.regimen {
                Some(n) => self.err(
                    n.span(),
                    K::UnknownName {
                        key: "observed_response.regimen".into(),
                        name: n.get_ref().clone(),
                        suggestion,
                        known,
                    },
                ),
                None => missing("regimen", &format!("regimen = \"{}\"", known[0])),
            })?;
            out.push(ObservedResponse {
                regimen,
                marker,
                time_h,
                pct_change,
                se_pct,
                source: r.source.as_ref().map(|s| s.get_ref().trim().to_string()),
            });
        }
        // Reported standard errors weight the fit and fix its covariance: all or none.
        let with_se = rows.iter().any(|r| r.get_ref().se_pct.is_some());
        if let Some(without) = rows
            .iter()
            .find(|r| with_se && r.get_ref().se_pct.is_none())
        {
            return Err(self.err(
                without.span(),
                K::Missing {
                    key: "observed_response.se_pct".into(),
                    hint: "another row gives `se_pct`: give it on every row (the fit then weights by 1/se² and takes the reported errors as known) or on none (equal weights, errors from the residuals)".into(),
                },
            ));
        }
        Ok(out)
    }
}
