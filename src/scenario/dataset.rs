//! NONMEM-style event datasets: `dataset = "events.csv"` turns each `ID` of a long table of
//! dose and observation records into a regimen (`ID <id>`) and its observed data, the way
//! NONMEM, mrgsolve and rxode2 read such a table. Pure: the file's text comes in, regimens and
//! observations go out; every refused cell is located (file, line, column) with its fix.
//!
//! Columns, matched case-insensitively (others are ignored and listed once):
//!
//! | column | meaning | default |
//! |---|---|---|
//! | `ID` | subject or regimen identifier (any text without commas) | required |
//! | `TIME` | h from the start of the run | required |
//! | `AMT` | dose amount (µg, or `dataset_amount_unit`) | 0 |
//! | `EVID` | 0 observation, 1 dose, 2 other (ignored), 3 reset, 4 reset and dose | 1 if `AMT` > 0, else 0 |
//! | `CMT` | 1 gut (oral), 2 central (IV); observations are of compartment 2 | 1 for doses, 2 for observations |
//! | `RATE` | zero-order rate (amount unit per h); −2: the duration is in `DUR`; 0 a bolus | 0 |
//! | `DUR` | duration of a zero-order input (h), with `RATE = -2` | — |
//! | `II`, `ADDL` | interdose interval (h) and number of additional doses | 0 |
//! | `SS` | 1: the dose starts at steady state (first dose record of an ID); 2: part of that pattern | 0 |
//! | `DV` | observed concentration (ng/mL); `.` or empty for none | — |
//! | `MDV` | 1: `DV` is missing (the row is not an observation) | 0 for observations |
//! | `BLQ` | 1: below the limit of quantification (kept out of residuals and fits, counted) | 0 |
//! | `LLOQ` | the limit (ng/mL), for information | — |
//! | `COMPOUND` | the preset of this ID (`mk4`, `mk7`, `k1`), over `dataset_compound` | — |
//!
//! An ID whose dose records all share one `II` > 0 and one `ADDL`, with their times inside the
//! first interval, is a repeated pattern (steady-state metrics are defined, and `SS = 1` on its
//! first record starts the run at steady state); any other ID's doses are explicit, ADDL
//! expanded exactly as NONMEM does (dose k at TIME + k·II).

use std::ops::Range;

use crate::dosing::{DoseEvent, Periodic, Route, Schedule};
use crate::error::{InputError, InputErrorKind as K};

/// Most records a dataset may have (each record is small; the limit bounds memory and time).
pub const MAX_RECORDS: usize = 2_000_000;

/// The columns k2sim reads.
const COLUMNS: [&str; 15] = [
    "ID", "TIME", "AMT", "EVID", "CMT", "RATE", "DUR", "II", "ADDL", "SS", "DV", "MDV", "BLQ",
    "LLOQ", "COMPOUND",
];

/// One ID of a dataset, in file order of first appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetId {
    /// The `ID` as written.
    pub id: String,
    /// `COMPOUND` of its records, when the column is there.
    pub compound: Option<String>,
    /// Its doses.
    pub schedule: Schedule,
    /// `SS = 1` on its first dose record.
    pub at_steady_state: bool,
    /// Observations (time h, concentration ng/mL), BLQ records left out.
    pub observations: Vec<(f64, f64)>,
    /// Observations marked below the limit of quantification.
    pub blq_count: usize,
}

/// A parsed dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The IDs, in order of first appearance.
    pub ids: Vec<DatasetId>,
    /// Columns present but not read.
    pub ignored_columns: Vec<String>,
    /// The latest record time, ADDL expanded (h).
    pub last_time_h: f64,
}

/// One ID's records while reading: doses, observations, BLQ count, compound.
type IdRecords = (Vec<DoseRecord>, Vec<(f64, f64)>, usize, Option<String>);

/// One dose record before grouping.
#[derive(Debug, Clone)]
struct DoseRecord {
    dose: DoseEvent,
    ii_h: f64,
    addl: u32,
    ss: u8,
    line_span: Range<usize>,
}

/// Parses dataset text; `amount_factor_ug` converts `AMT` and `RATE` to µg. Errors are located
/// in the dataset's text (set the file with [`InputError::in_file`]).
pub fn parse_dataset(text: &str, amount_factor_ug: f64) -> Result<Dataset, InputError> {
    let text = super::without_bom(text);
    let err = |span: Range<usize>, kind: K| InputError::at(text, Some(span), kind);
    let mut lines = text
        .split_inclusive('\n')
        .scan(0usize, |offset, line| {
            let start = *offset;
            *offset += line.len();
            Some((start, line.trim_end_matches(['\n', '\r'])))
        })
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((h0, header)) = lines.next() else {
        return Err(err(
            0..0,
            K::Missing {
                key: "ID".into(),
                hint:
                    "the dataset is empty; start it with a header such as `ID,TIME,AMT,EVID,CMT,DV`"
                        .into(),
            },
        ));
    };
    let cells = |start: usize, line: &str| -> Vec<(Range<usize>, String)> {
        let mut at = start;
        line.split(',')
            .map(|c| {
                let span = at..at + c.len();
                at += c.len() + 1;
                (span, c.trim().trim_matches('"').to_string())
            })
            .collect()
    };
    let head = cells(h0, header);
    let mut col: [Option<usize>; 15] = [None; 15];
    let mut ignored = Vec::new();
    for (i, (span, name)) in head.iter().enumerate() {
        let upper = name.to_ascii_uppercase();
        match COLUMNS.iter().position(|c| *c == upper) {
            Some(k) if col[k].is_none() => col[k] = Some(i),
            Some(_) => {
                return Err(err(
                    span.clone(),
                    K::Cell {
                        column: name.clone(),
                        problem: "a second column of this name".into(),
                        hint: "expected each column once".into(),
                    },
                ))
            }
            None => ignored.push(name.clone()),
        }
    }
    for (k, need) in [(0, "ID"), (1, "TIME")] {
        if col[k].is_none() {
            return Err(err(
                h0..h0 + header.len(),
                K::Missing {
                    key: need.into(),
                    hint: format!(
                        "a dataset needs the columns ID and TIME (h); the header has: {}",
                        head.iter()
                            .map(|c| c.1.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
            ));
        }
    }
    let mut order: Vec<String> = Vec::new();
    let mut per_id: std::collections::HashMap<String, IdRecords> = std::collections::HashMap::new();
    let mut last_time_h: f64 = 0.0;
    let mut last_time_of: std::collections::HashMap<String, f64> = std::collections::HashMap::new();
    for (n, (start, line)) in lines.enumerate() {
        if n >= MAX_RECORDS {
            return Err(err(
                start..start + line.len(),
                K::Cell {
                    column: "ID".into(),
                    problem: format!("record {}", n + 1),
                    hint: format!("expected at most {MAX_RECORDS} records per dataset: split it into several scenarios"),
                },
            ));
        }
        let row = cells(start, line);
        let cell =
            |k: usize| -> Option<&(Range<usize>, String)> { col[k].and_then(|i| row.get(i)) };
        let bad = |k: usize, hint: &str| -> InputError {
            let (span, v) = cell(k)
                .cloned()
                .unwrap_or((start..start + line.len(), String::new()));
            err(
                span,
                K::Cell {
                    column: COLUMNS[k].into(),
                    problem: if v.is_empty() {
                        "(empty)".into()
                    } else {
                        super::excerpt(&v)
                    },
                    hint: format!("expected {hint}"),
                },
            )
        };
        // A number, or None for an empty cell or NONMEM's "." (missing).
        let num = |k: usize, hint: &str| -> Result<Option<f64>, InputError> {
            match cell(k) {
                None => Ok(None),
                Some((_, v)) if v.is_empty() || v == "." => Ok(None),
                Some((_, v)) => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Some(x)),
                    _ => Err(bad(k, hint)),
                },
            }
        };
        let id = match cell(0) {
            Some((_, v)) if !v.is_empty() => v.clone(),
            _ => return Err(bad(0, "an identifier on every record")),
        };
        let time = num(1, "a time in h, zero or positive")?
            .filter(|t| *t >= 0.0)
            .ok_or_else(|| bad(1, "a time in h, zero or positive"))?;
        if let Some(&prev) = last_time_of.get(&id) {
            if time < prev {
                return Err(bad(
                    1,
                    &format!(
                        "records of one ID in time order (the previous record of ID {id} is at {prev} h); sort the file by ID and TIME"
                    ),
                ));
            }
        }
        last_time_of.insert(id.clone(), time);
        let amt = num(2, "a dose amount, zero or positive")?.unwrap_or(0.0);
        if amt < 0.0 {
            return Err(bad(2, "a dose amount, zero or positive"));
        }
        let evid = match num(
            3,
            "0 (observation), 1 (dose), 2 (other), 3 (reset) or 4 (reset and dose)",
        )? {
            None => {
                if amt > 0.0 {
                    1
                } else {
                    0
                }
            }
            Some(e) if e == e.trunc() && (0.0..=4.0).contains(&e) => e as u8,
            Some(_) => {
                return Err(bad(
                    3,
                    "0 (observation), 1 (dose), 2 (other), 3 (reset) or 4 (reset and dose)",
                ))
            }
        };
        let compound = cell(14).map(|c| c.1.clone()).filter(|c| !c.is_empty());
        let entry = per_id.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            (Vec::new(), Vec::new(), 0, None)
        });
        if let Some(c) = compound {
            match &entry.3 {
                Some(prev) if *prev != c => {
                    return Err(bad(
                        14,
                        &format!(
                            "one compound per ID (ID {id} has \"{prev}\" on an earlier record)"
                        ),
                    ))
                }
                _ => entry.3 = Some(c),
            }
        }
        last_time_h = last_time_h.max(time);
        match evid {
            2 => continue,
            0 => {
                if num(11, "0 or 1")?.unwrap_or(0.0) == 1.0 {
                    continue;
                }
                if let Some(c) = num(4, "2 (the central compartment)")? {
                    if c != 2.0 {
                        return Err(bad(
                            4,
                            "2 for an observation (k2sim observes the central compartment; the gut and the peripheral compartment are not sampled)",
                        ));
                    }
                }
                let Some(dv) = num(10, "a concentration in ng/mL, or . for none")? else {
                    continue;
                };
                if dv < 0.0 {
                    return Err(bad(10, "a concentration in ng/mL, zero or positive"));
                }
                if num(12, "0 or 1")?.unwrap_or(0.0) == 1.0 {
                    entry.2 += 1;
                    continue;
                }
                entry.1.push((time, dv));
            }
            _ => {
                let reset = evid >= 3;
                if evid == 3 {
                    entry.0.push(DoseRecord {
                        dose: DoseEvent {
                            reset: true,
                            ..DoseEvent::oral(time, 0.0)
                        },
                        ii_h: 0.0,
                        addl: 0,
                        ss: 0,
                        line_span: start..start + line.len(),
                    });
                    continue;
                }
                if amt <= 0.0 {
                    return Err(bad(2, "a positive amount on a dose record (EVID 1 or 4)"));
                }
                let route = match num(4, "1 (gut: oral) or 2 (central: IV)")? {
                    None => Route::Oral,
                    Some(1.0) => Route::Oral,
                    Some(2.0) => Route::Iv,
                    Some(_) => {
                        return Err(bad(
                            4,
                            "1 (gut: oral) or 2 (central: IV); dosing into the peripheral compartment (3) is not supported",
                        ))
                    }
                };
                let amount_ug = amt * amount_factor_ug;
                let infusion_h = match num(5, "a positive rate, 0 for a bolus, or -2 with the duration in DUR")? {
                    None => 0.0,
                    Some(0.0) => 0.0,
                    Some(r) if r > 0.0 => amount_ug / (r * amount_factor_ug),
                    Some(-2.0) => num(6, "a positive duration in h")?
                        .filter(|d| *d > 0.0)
                        .ok_or_else(|| bad(6, "a positive duration in h (RATE = -2 reads the duration here)"))?,
                    Some(_) => {
                        return Err(bad(
                            5,
                            "a positive rate, 0 for a bolus, or -2 with the duration in DUR (-1, a modelled rate, is not supported)",
                        ))
                    }
                };
                let ii_h = num(7, "an interval in h, zero or positive")?.unwrap_or(0.0);
                if ii_h < 0.0 {
                    return Err(bad(7, "an interval in h, zero or positive"));
                }
                let addl = match num(8, "a whole number of additional doses, 0 or more")? {
                    None => 0,
                    Some(a) if a >= 0.0 && a == a.trunc() && a <= 1e6 => a as u32,
                    Some(_) => {
                        return Err(bad(8, "a whole number of additional doses, 0 to 1000000"))
                    }
                };
                if addl > 0 && ii_h <= 0.0 {
                    return Err(bad(7, "a positive interval with ADDL > 0: the additional doses are II hours apart"));
                }
                let ss = match num(
                    9,
                    "0, 1 (start at steady state) or 2 (part of that pattern)",
                )? {
                    None => 0,
                    Some(v) if v == 0.0 || v == 1.0 || v == 2.0 => v as u8,
                    Some(_) => {
                        return Err(bad(
                            9,
                            "0, 1 (start at steady state) or 2 (part of that pattern)",
                        ))
                    }
                };
                if ss > 0 && ii_h <= 0.0 {
                    return Err(bad(
                        7,
                        "a positive interval with SS: steady state is that of doses II hours apart",
                    ));
                }
                last_time_h = last_time_h.max(time + f64::from(addl) * ii_h);
                entry.0.push(DoseRecord {
                    dose: DoseEvent {
                        route,
                        infusion_h,
                        reset,
                        ..DoseEvent::oral(time, amount_ug)
                    },
                    ii_h,
                    addl,
                    ss,
                    line_span: start..start + line.len(),
                });
            }
        }
    }
    let mut ids = Vec::with_capacity(order.len());
    for id in order {
        let (doses, observations, blq_count, compound) = per_id.remove(&id).unwrap_or_default();
        let (schedule, at_steady_state) = schedule_of(&doses).map_err(|(span, hint)| {
            err(
                span,
                K::Cell {
                    column: "SS".into(),
                    problem: format!("ID {id}"),
                    hint: format!("expected {hint}"),
                },
            )
        })?;
        ids.push(DatasetId {
            id,
            compound,
            schedule,
            at_steady_state,
            observations,
            blq_count,
        });
    }
    Ok(Dataset {
        ids,
        ignored_columns: ignored,
        last_time_h,
    })
}

/// The schedule of one ID's dose records: a repeated pattern when they form one (same II > 0
/// and ADDL, times within the first interval, no reset), else explicit doses with ADDL
/// expanded. `SS` is accepted on a pattern only.
fn schedule_of(doses: &[DoseRecord]) -> Result<(Schedule, bool), (Range<usize>, String)> {
    let Some(first) = doses.first() else {
        return Ok((Schedule::Explicit { doses: Vec::new() }, false));
    };
    let t0 = first.dose.time_h;
    let tau = first.ii_h;
    let pattern = tau > 0.0
        && doses.iter().all(|d| {
            d.ii_h == tau && d.addl == first.addl && !d.dose.reset && d.dose.time_h - t0 < tau
        })
        && doses.iter().skip(1).all(|d| d.ss != 1)
        && (first.ss == 1 || doses.iter().all(|d| d.ss == 0));
    if pattern {
        if doses.iter().any(|d| d.dose.infusion_h > tau) {
            let d = doses
                .iter()
                .find(|d| d.dose.infusion_h > tau)
                .map_or(0..0, |d| d.line_span.clone());
            return Err((
                d,
                format!("a zero-order input no longer than II ({tau} h) in a repeated pattern"),
            ));
        }
        return Ok((
            Schedule::Periodic(Periodic {
                period_h: tau,
                first_h: t0,
                pattern: doses
                    .iter()
                    .map(|d| d.dose.at(d.dose.time_h - t0))
                    .collect(),
                periods: first.addl + 1,
            }),
            first.ss == 1,
        ));
    }
    if let Some(d) = doses.iter().find(|d| d.ss != 0) {
        return Err((
            d.line_span.clone(),
            "SS = 1 only on the first dose record of an ID whose dose records form one repeated pattern (one II and ADDL, times within the first interval); SS = 2 only on the other records of that pattern".into(),
        ));
    }
    let mut out = Vec::new();
    for d in doses {
        for k in 0..=d.addl {
            out.push(d.dose.at(d.dose.time_h + f64::from(k) * d.ii_h));
        }
        if out.len() > MAX_RECORDS {
            return Err((
                d.line_span.clone(),
                format!("at most {MAX_RECORDS} doses per ID after ADDL"),
            ));
        }
    }
    out.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
    Ok((Schedule::Explicit { doses: out }, false))
}

/// The dataset keys of a scenario, read and turned into regimens and observations.
pub(super) struct DatasetRegimens {
    /// One regimen per ID, labelled `ID <id>`.
    pub regimens: Vec<super::Regimen>,
    /// Their observations.
    pub observed: Vec<super::Observation>,
    /// Notes for the run (ignored columns, BLQ records).
    pub warnings: Vec<String>,
    /// The latest record time (h).
    pub last_time_h: f64,
    /// The file read.
    pub path: std::path::PathBuf,
}

impl super::Validator<'_> {
    /// Reads `dataset` (with `dataset_compound` and `dataset_amount_unit`) when given.
    pub(super) fn dataset(
        &self,
        raw: &super::raw::RawScenario,
    ) -> super::R<Option<DatasetRegimens>> {
        use crate::compound;
        use crate::error::suggest;
        let Some(name) = &raw.dataset else {
            for (key, v) in [
                ("dataset_compound", raw.dataset_compound.as_ref()),
                ("dataset_amount_unit", raw.dataset_amount_unit.as_ref()),
            ] {
                if let Some(v) = v {
                    return Err(self.err(
                        v.span(),
                        K::Missing {
                            key: "dataset".into(),
                            hint: format!("`{key}` describes a dataset: add `dataset = \"events.csv\"` or remove `{key}`"),
                        },
                    ));
                }
            }
            return Ok(None);
        };
        let factor = match raw.dataset_amount_unit.as_ref() {
            None => 1.0,
            Some(u) => match u.get_ref().trim() {
                "ug" | "µg" | "mcg" => 1.0,
                "mg" => 1000.0,
                "ng" => 0.001,
                other => {
                    return Err(self.err(
                        u.span(),
                        K::UnknownName {
                            key: "dataset_amount_unit".into(),
                            name: other.into(),
                            suggestion: suggest(other, ["ug", "mg", "ng"]),
                            known: vec!["ug".into(), "mg".into(), "ng".into()],
                        },
                    ))
                }
            },
        };
        let default_compound = match raw.dataset_compound.as_ref() {
            None => None,
            Some(c) => Some(compound::find(c.get_ref()).ok_or_else(|| {
                self.err(
                    c.span(),
                    K::UnknownName {
                        key: "dataset_compound".into(),
                        name: c.get_ref().clone(),
                        suggestion: suggest(c.get_ref(), compound::ids()),
                        known: compound::ids().iter().map(|s| s.to_string()).collect(),
                    },
                )
            })?),
        };
        let Some(files) = self.files else {
            return Err(self.err(
                name.span(),
                K::Io {
                    message: "a dataset is read relative to the scenario file: run the scenario from a file (`k2sim run FILE.toml`)".into(),
                },
            ));
        };
        let (path, text) = files(name.get_ref().trim())
            .map_err(|message| self.err(name.span(), K::Io { message }))?;
        let data = parse_dataset(&text, factor).map_err(|e| {
            let at = crate::error::Location::of_line(self.text, name.span().start);
            e.in_file(path.clone()).named_by("dataset", at)
        })?;
        let mut warnings = Vec::new();
        if !data.ignored_columns.is_empty() {
            warnings.push(format!(
                "dataset {}: columns not read: {}",
                path.display(),
                data.ignored_columns.join(", ")
            ));
        }
        let mut regimens = Vec::new();
        let mut observed = Vec::new();
        for d in data.ids {
            let compound = match &d.compound {
                Some(c) => compound::find(c).ok_or_else(|| {
                    self.err(
                        name.span(),
                        K::UnknownName {
                            key: format!("COMPOUND of ID {} in {}", d.id, path.display()),
                            name: c.clone(),
                            suggestion: suggest(c, compound::ids()),
                            known: compound::ids().iter().map(|s| s.to_string()).collect(),
                        },
                    )
                })?,
                None => default_compound.clone().ok_or_else(|| {
                    self.err(
                        name.span(),
                        K::Missing {
                            key: "dataset_compound".into(),
                            hint: format!(
                                "ID {} of {} has no COMPOUND column value: add `dataset_compound = \"mk7\"` (or a COMPOUND column)",
                                d.id,
                                path.display()
                            ),
                        },
                    )
                })?,
            };
            let (model, sources) = self.params(&compound, None)?;
            let (model, sources) = self.structure(None, model, sources)?;
            let label = format!("ID {}", d.id);
            if d.blq_count > 0 {
                warnings.push(format!(
                    "{label}: {} observation(s) marked BLQ are kept out of residuals and fits",
                    d.blq_count
                ));
            }
            if d.schedule.dose_count() == 0 && d.observations.is_empty() {
                continue;
            }
            observed.extend(d.observations.iter().map(|&(t, c)| super::Observation {
                regimen: label.clone(),
                time_h: t,
                conc_ng_ml: c,
                subject: Some(d.id.clone()),
            }));
            regimens.push(super::Regimen {
                label,
                compound,
                model,
                sources,
                schedule: d.schedule,
                food: None,
                at_steady_state: d.at_steady_state,
            });
        }
        Ok(Some(DatasetRegimens {
            regimens,
            observed,
            warnings,
            last_time_h: data.last_time_h,
            path,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doses_and_observations_by_id_with_addl_expanded() {
        let d = parse_dataset(
            "ID,TIME,AMT,EVID,CMT,II,ADDL,DV,MDV,WT\n\
             1,0,180,1,1,24,27,.,1,70\n\
             1,4,0,0,2,0,0,0.72,0,70\n\
             2,0,500,1,2,0,0,.,1,80\n\
             2,12,500,1,2,0,0,.,1,80\n\
             2,13,0,0,2,0,0,1.5,0,80\n",
            1.0,
        )
        .unwrap();
        assert_eq!(d.ignored_columns, vec!["WT"]);
        assert_eq!(d.ids.len(), 2);
        let p = d.ids[0].schedule.periodic().unwrap();
        assert_eq!((p.period_h, p.first_h, p.periods), (24.0, 0.0, 28));
        assert_eq!(d.ids[0].observations, vec![(4.0, 0.72)]);
        let ev = d.ids[1].schedule.events();
        assert_eq!(ev.len(), 2);
        assert!(ev.iter().all(|e| e.route == Route::Iv));
        assert_eq!(d.last_time_h, 27.0 * 24.0);
    }

    #[test]
    fn rates_durations_units_and_steady_state() {
        let d = parse_dataset(
            "id,time,amt,rate,dur,ii,addl,ss,cmt\n\
             a,8,10,5,.,24,6,1,2\n\
             b,0,2,-2,4,0,0,0,1\n",
            1000.0,
        )
        .unwrap();
        let a = &d.ids[0];
        assert!(a.at_steady_state);
        let p = a.schedule.periodic().unwrap();
        // 10 mg at 5 mg/h: a 2 h IV infusion.
        assert_eq!(p.pattern[0].amount_ug, 10_000.0);
        assert_eq!(p.pattern[0].infusion_h, 2.0);
        assert_eq!(p.pattern[0].route, Route::Iv);
        let b = d.ids[1].schedule.events();
        assert_eq!((b[0].infusion_h, b[0].route), (4.0, Route::Oral));
    }

    #[test]
    fn refused_cells_name_line_column_and_value() {
        let e = parse_dataset("ID,TIME,AMT\n1,0,180\n1,x,0\n", 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("<scenario>:3:3: column `TIME`: x"), "{e}");
        let e = parse_dataset("ID,TIME,AMT,CMT\n1,0,180,3\n", 1.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column `CMT`: 3") && e.contains("peripheral"),
            "{e}"
        );
        let e = parse_dataset("ID,TIME,AMT\n1,5,180\n1,2,0\n", 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("time order"), "{e}");
        let e = parse_dataset("TIME,AMT\n0,1\n", 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`ID`"), "{e}");
    }
}
