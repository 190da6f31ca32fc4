//! Observed concentrations in a scenario: `[[observed]]` rows, or `observed_csv = "file.csv"`
//! with the header `time_h,conc_ng_ml[,regimen][,subject]` (path relative to the scenario
//! file). Every refusal is located: the scenario line for a row, the CSV line and column for a
//! CSV cell.

use crate::format::fmt_value;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::{Regimen, Scenario, Validator, R};
use crate::error::{suggest, InputError, InputErrorKind as K};

/// One measured concentration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Observation {
    /// Label of the regimen the subject took.
    pub regimen: String,
    /// Sampling time (h from the start of the run).
    pub time_h: f64,
    /// Measured serum concentration (ng/mL).
    pub conc_ng_ml: f64,
    /// Subject identifier, when the data give one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// An `[[observed]]` row as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObserved {
    pub time_h: Option<Spanned<f64>>,
    pub conc_ng_ml: Option<Spanned<f64>>,
    pub regimen: Option<Spanned<String>>,
    pub subject: Option<Spanned<String>>,
}

/// Checks shared by rows and CSV cells. `Err` carries (key, value, expected).
fn check_row(
    time_h: f64,
    conc_ng_ml: f64,
    duration_h: f64,
) -> Result<(), (&'static str, f64, String)> {
    if !(time_h.is_finite() && time_h >= 0.0 && time_h <= duration_h) {
        return Err((
            "time_h",
            time_h,
            format!(
                "a sampling time within the run, 0 to {} h (lengthen `duration_h` to predict later samples)",
                fmt_value(duration_h)
            ),
        ));
    }
    if !(conc_ng_ml.is_finite() && conc_ng_ml >= 0.0) {
        return Err((
            "conc_ng_ml",
            conc_ng_ml,
            "zero or a positive concentration in ng/mL".into(),
        ));
    }
    Ok(())
}

/// The regimen a row belongs to: the one named, or the only one.
pub(super) fn regimen_for(
    name: Option<&str>,
    regimens: &[Regimen],
) -> Result<String, (Option<String>, Vec<String>)> {
    let labels: Vec<String> = regimens.iter().map(|r| r.label.clone()).collect();
    match name {
        Some(n) if labels.iter().any(|l| l == n) => Ok(n.to_string()),
        Some(n) => Err((suggest(n, labels.iter().map(String::as_str)), labels)),
        None if labels.len() == 1 => Ok(labels[0].clone()),
        None => Err((None, labels)),
    }
}

impl Validator<'_> {
    /// Validates the `[[observed]]` rows against the regimens and the run's span.
    pub(super) fn observed(
        &self,
        rows: &[Spanned<RawObserved>],
        regimens: &[Regimen],
        duration_h: f64,
    ) -> R<Vec<Observation>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let span = row.span();
            let r = row.get_ref();
            let need = |v: Option<&Spanned<f64>>, key: &str, example: &str| {
                v.cloned().ok_or_else(|| {
                    self.err(
                        span.clone(),
                        K::Missing {
                            key: key.into(),
                            hint: format!("each [[observed]] row needs `{key}`, e.g. `{example}`"),
                        },
                    )
                })
            };
            let t = need(r.time_h.as_ref(), "time_h", "time_h = 4")?;
            let c = need(r.conc_ng_ml.as_ref(), "conc_ng_ml", "conc_ng_ml = 2.5")?;
            if let Err((key, value, expected)) = check_row(*t.get_ref(), *c.get_ref(), duration_h) {
                let at = if key == "time_h" { t.span() } else { c.span() };
                return Err(self.err(
                    at,
                    K::OutOfRange {
                        key: format!("observed.{key}"),
                        value: fmt_value(value),
                        expected,
                    },
                ));
            }
            let regimen = regimen_for(r.regimen.as_ref().map(|s| s.get_ref().as_str()), regimens)
                .map_err(|(suggestion, known)| match &r.regimen {
                    Some(n) => self.err(
                        n.span(),
                        K::UnknownName {
                            key: "observed.regimen".into(),
                            name: n.get_ref().clone(),
                            suggestion,
                            known,
                        },
                    ),
                    None => self.err(
                        span.clone(),
                        K::Missing {
                            key: "regimen".into(),
                            hint: format!(
                                "the scenario has several regimens: say which one this sample belongs to, e.g. `regimen = \"{}\"`",
                                known[0]
                            ),
                        },
                    ),
                })?;
            out.push(Observation {
                regimen,
                time_h: *t.get_ref(),
                conc_ng_ml: *c.get_ref(),
                subject: r.subject.as_ref().map(|s| s.get_ref().clone()),
            });
        }
        Ok(out)
    }
}

/// The columns `observed_csv` may have.
const CSV_COLUMNS: [&str; 4] = ["time_h", "conc_ng_ml", "regimen", "subject"];

/// Parses observation CSV text. Errors are located in the CSV text (line and column).
pub fn parse_observed_csv(
    text: &str,
    regimens: &[Regimen],
    duration_h: f64,
) -> Result<Vec<Observation>, InputError> {
    let text = super::without_bom(text);
    let err = |span: Range<usize>, kind: K| InputError::at(text, Some(span), kind);
    let mut lines = text
        .split_inclusive('\n')
        .scan(0usize, |offset, line| {
            let start = *offset;
            *offset += line.len();
            Some((start, line.trim_end_matches(['\n', '\r'])))
        })
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(err(
            0..0,
            K::Missing {
                key: "time_h".into(),
                hint: "the file is empty; start it with the header `time_h,conc_ng_ml` (optionally `,regimen,subject`)".into(),
            },
        ));
    };
    // Cells as (byte span, trimmed text); plain comma-separated values, no quoting.
    let cells = |start: usize, line: &str| -> Vec<(Range<usize>, String)> {
        let mut at = start;
        line.split(',')
            .map(|c| {
                let span = at..at + c.len();
                at += c.len() + 1;
                (span, c.trim().to_string())
            })
            .collect()
    };
    let head = cells(0, header);
    let mut col = [None; 4];
    for (span, name) in &head {
        match CSV_COLUMNS.iter().position(|c| c == name) {
            Some(i) if col[i].is_none() => col[i] = Some(span.start),
            Some(_) => {
                return Err(err(
                    span.clone(),
                    K::OutOfRange {
                        key: super::excerpt(name),
                        value: "a second column of this name".into(),
                        expected: "each column once".into(),
                    },
                ))
            }
            None => {
                return Err(err(
                    span.clone(),
                    K::UnknownKey {
                        key: super::excerpt(name),
                        suggestion: suggest(name, CSV_COLUMNS),
                        expected: CSV_COLUMNS.iter().map(|s| s.to_string()).collect(),
                    },
                ))
            }
        }
    }
    let index = |name: &str| head.iter().position(|(_, n)| n == name);
    for required in ["time_h", "conc_ng_ml"] {
        if index(required).is_none() {
            return Err(err(
                0..0,
                K::Missing {
                    key: required.into(),
                    hint: "the header must name `time_h` and `conc_ng_ml` (and may add `regimen`, `subject`)".into(),
                },
            ));
        }
    }
    let (ti, ci) = (
        index("time_h").unwrap_or(0),
        index("conc_ng_ml").unwrap_or(1),
    );
    let (ri, si) = (index("regimen"), index("subject"));
    let mut out = Vec::new();
    for (start, line) in lines {
        let row = cells(start, line);
        if row.len() != head.len() {
            return Err(err(
                start..start + line.len(),
                K::OutOfRange {
                    key: "row".into(),
                    value: format!("{} values", row.len()),
                    expected: format!("{} values, one per header column", head.len()),
                },
            ));
        }
        let number = |i: usize| -> Result<f64, InputError> {
            let (span, s) = &row[i];
            s.parse::<f64>().map_err(|_| {
                err(
                    span.clone(),
                    K::BadQuantity {
                        key: head[i].1.clone(),
                        text: format!("\"{}\"", super::excerpt(s)),
                        expected: "a number".into(),
                    },
                )
            })
        };
        let (t, c) = (number(ti)?, number(ci)?);
        if let Err((key, value, expected)) = check_row(t, c, duration_h) {
            let i = if key == "time_h" { ti } else { ci };
            return Err(err(
                row[i].0.clone(),
                K::OutOfRange {
                    key: key.into(),
                    value: fmt_value(value),
                    expected,
                },
            ));
        }
        let name = ri.map(|i| row[i].1.as_str()).filter(|s| !s.is_empty());
        let regimen = regimen_for(name, regimens).map_err(|(suggestion, known)| match (ri, name) {
            (Some(i), Some(n)) => err(
                row[i].0.clone(),
                K::UnknownName {
                    key: "regimen".into(),
                    name: super::excerpt(n),
                    suggestion,
                    known,
                },
            ),
            _ => err(
                start..start,
                K::Missing {
                    key: "regimen".into(),
                    hint: "the scenario has several regimens: add a `regimen` column naming each row's regimen".into(),
                },
            ),
        })?;
        out.push(Observation {
            regimen,
            time_h: t,
            conc_ng_ml: c,
            subject: si.map(|i| row[i].1.clone()).filter(|s| !s.is_empty()),
        });
    }
    Ok(out)
}

/// Reads the scenario's `observed_csv` (relative to `base_dir`, the scenario file's folder) and
/// appends its rows to the observations. Errors carry the CSV path and, given the scenario's
/// text and file in `named_in`, where `observed_csv` is written as a second location.
pub fn attach_observed_csv(
    scenario: &mut Scenario,
    base_dir: &Path,
    named_in: Option<(&str, &Path)>,
    reach: super::Reach,
) -> Result<(), InputError> {
    let Some(rel) = scenario.observed_csv.clone() else {
        return Ok(());
    };
    let named = |e: InputError| match named_in.and_then(|(t, f)| observed_csv_key(t, f)) {
        Some(at) => e.named_by("observed_csv", at),
        None => e,
    };
    let path: PathBuf = base_dir.join(&rel);
    let text = super::named_file(base_dir, &rel, reach)
        .and_then(|p| super::read_regular(&p, super::MAX_DATASET_BYTES, "observations file"))
        .and_then(|b| {
            String::from_utf8(b)
                .map_err(|_| "the observations file is not UTF-8 text; save it as UTF-8".into())
        })
        .map_err(|e| {
            named(InputError::io(
                &path,
                format!(
                    "cannot read the observations named by `observed_csv = \"{}\"` (relative to the scenario file): {}",
                    rel.display(),
                    e.strip_prefix("cannot read the observations file: ").unwrap_or(&e)
                ),
            ))
        })?;
    let rows = parse_observed_csv(&text, &scenario.regimens, scenario.duration_h)
        .map_err(|e| named(e.in_file(&path)))?;
    scenario.observed.extend(rows);
    Ok(())
}

/// Where the `observed_csv` key is written in the scenario `text` of `file` (its line, at the
/// key). The text has been validated already, so reading it again for one key cannot fail.
fn observed_csv_key(text: &str, file: &Path) -> Option<crate::error::Location> {
    #[derive(serde::Deserialize)]
    struct Key {
        observed_csv: Option<toml::Spanned<toml::Value>>,
    }
    let span = toml::from_str::<Key>(text).ok()?.observed_csv?.span();
    let mut at = crate::error::Location::of_line(text, span.start);
    at.file = Some(file.to_path_buf());
    Some(at)
}
