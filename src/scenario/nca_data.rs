//! Measured concentrations for `k2sim nca`: a CSV file turned into one [`Subject`] per id, each
//! with its profile after one dose. Two forms, told apart by the header (names in any case):
//!
//! - the long table `id,time_h,conc_ng_ml[,dose_ug]`: one row per sample, time in h after the
//!   dose, concentration in ng/mL, the dose (µg) on any or all of the subject's rows;
//! - a NONMEM-style dataset with `ID`, `TIME` (h) and `DV` (ng/mL) and optionally `AMT` (µg),
//!   `EVID` and `MDV`, other columns ignored: rows with `EVID = 1` (or, without `EVID`, a
//!   positive `AMT`) are the dose, whose `TIME` becomes time 0; rows with `EVID = 0` and
//!   `MDV ≠ 1` are samples.
//!
//! A concentration written `0`, `BLQ` or `BQL` is below the limit of quantification (PKNCA's
//! 0); an empty cell, `NA` or `.` is a missing sample and is left out (PKNCA's `conc.na =
//! "drop"`), and counted. Lines starting with `#` are comments. Cells are plain
//! comma-separated values without quoting. Every refusal names the line, the column and the fix.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use crate::error::{suggest, InputError, InputErrorKind as K};
use crate::format::fmt_value;
use crate::nca::{Profile, Subject};

/// Columns of the long table, in their usual order.
const LONG_COLUMNS: [&str; 4] = ["id", "time_h", "conc_ng_ml", "dose_ug"];

/// Columns of a NONMEM-style dataset that `k2sim nca` reads (others are ignored).
const NONMEM_COLUMNS: [&str; 6] = ["ID", "TIME", "DV", "AMT", "EVID", "MDV"];

/// The help shown for a header that is neither form.
const FORMS_HELP: &str = "start the file with the header `id,time_h,conc_ng_ml` (and optionally `,dose_ug`), or give a NONMEM-style dataset with the columns ID, TIME and DV (and optionally AMT, EVID, MDV)";

/// One cell: its byte span in the text and its trimmed content.
type Cell = (Range<usize>, String);

/// A data line: its byte offset and cells.
struct Row {
    start: usize,
    cells: Vec<Cell>,
}

/// A sample or dose read from one row, before grouping by subject.
enum Record {
    /// A concentration at a time; `None` for a missing value.
    Sample {
        time_h: f64,
        time_span: Range<usize>,
        /// The time column's name as written, for messages.
        time_column: String,
        conc_ng_ml: Option<f64>,
    },
    /// The dose (µg) at a time (the long table has no dose time: 0).
    Dose {
        time_h: f64,
        amount_ug: f64,
        span: Range<usize>,
        /// The dose column's name as written.
        column: String,
        /// Whether the same dose may be written again on the subject's other rows (the long
        /// table); in a dataset a second dose row is a second dose.
        repeated: bool,
    },
}

/// Parses the CSV text of `k2sim nca` (either form, see the module) into subjects in the order
/// of their first row. Errors are located in the text (line and column).
pub fn parse_nca_data(text: &str) -> Result<Vec<Subject>, InputError> {
    let text = super::without_bom(text);
    let rows = rows(text);
    let Some((header, data)) = rows.split_first() else {
        return Err(InputError::at(
            text,
            Some(0..0),
            K::Invalid {
                message: format!("the file has no header and no rows\n  help: {FORMS_HELP}"),
            },
        ));
    };
    let lower: Vec<String> = header.cells.iter().map(|c| c.1.to_lowercase()).collect();
    let has = |name: &str| lower.iter().any(|h| h == name);
    let records = if has("time_h") || has("conc_ng_ml") {
        long_records(text, header, data)?
    } else if has("dv") && has("time") && has("id") {
        nonmem_records(text, header, data)?
    } else {
        let names: Vec<&str> = header.cells.iter().map(|c| c.1.as_str()).collect();
        return Err(InputError::at(
            text,
            Some(header.start..header.start),
            K::Invalid {
                message: format!(
                    "the header `{}` is neither the long table nor a NONMEM-style dataset\n  help: {FORMS_HELP}",
                    super::excerpt(&names.join(","))
                ),
            },
        ));
    };
    if records.is_empty() {
        return Err(InputError::at(
            text,
            Some(header.start..header.start),
            K::Invalid {
                message: "the header is not followed by any data row\n  help: add one row per sample, e.g. `S01,0,0` then `S01,1,4.2`".into(),
            },
        ));
    }
    group(text, records)
}

/// Reads and parses a data file for `k2sim nca`. Errors carry the path.
pub fn load_nca_data(path: &Path) -> Result<Vec<Subject>, InputError> {
    if path.is_dir() {
        return Err(InputError::io(
            path,
            "is a directory, not a data file; give a .csv file such as scenarios/observed_profile_nca.csv",
        ));
    }
    // A pipe or device would block or never end; a huge file is not a data table.
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() || meta.len() > super::MAX_DATASET_BYTES {
            let e = super::read_regular(path, super::MAX_DATASET_BYTES, "data file")
                .err()
                .unwrap_or_default();
            return Err(InputError::io(
                path,
                format!("{e}\n  help: give the data as a .csv file such as scenarios/observed_profile_nca.csv"),
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        let help = match e.kind() {
            std::io::ErrorKind::NotFound => {
                "check the path; an example is scenarios/observed_profile_nca.csv"
            }
            std::io::ErrorKind::InvalidData => "the file is not UTF-8 text; save it as UTF-8 CSV",
            _ => "check that the path names a readable file",
        };
        InputError::io(
            path,
            format!("cannot read the data file: {e}\n  help: {help}"),
        )
    })?;
    parse_nca_data(&text).map_err(|e| e.in_file(path))
}

/// The non-blank, non-comment lines with their cells (the caller has removed a byte-order mark).
fn rows(text: &str) -> Vec<Row> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let at = start;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let mut cells = Vec::new();
        let mut c0 = at;
        for c in line.split(',') {
            let lead = c.len() - c.trim_start().len();
            let span = c0 + lead..c0 + lead + c.trim().len();
            cells.push((span, c.trim().to_string()));
            c0 += c.len() + 1;
        }
        out.push(Row { start: at, cells });
    }
    out
}

fn cell_err(
    text: &str,
    span: Range<usize>,
    column: &str,
    problem: String,
    hint: String,
) -> InputError {
    InputError::at(
        text,
        Some(span),
        K::Cell {
            column: super::excerpt(column),
            problem,
            hint,
        },
    )
}

/// Column index of each name of `known` (matched case-insensitively), refusing repeats.
fn columns(
    text: &str,
    header: &Row,
    known: &[&str],
    strict: bool,
) -> Result<Vec<Option<usize>>, InputError> {
    let mut col = vec![None; known.len()];
    for (i, (span, name)) in header.cells.iter().enumerate() {
        match known.iter().position(|k| k.eq_ignore_ascii_case(name)) {
            Some(j) if col[j].is_some() => {
                return Err(cell_err(
                    text,
                    span.clone(),
                    name,
                    format!("`{name}` is named twice in the header"),
                    "keep one column of each name".into(),
                ))
            }
            Some(j) => col[j] = Some(i),
            None if strict => {
                let did = suggest(&name.to_lowercase(), known.iter().copied())
                    .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
                return Err(cell_err(
                    text,
                    span.clone(),
                    name,
                    format!("not a column of the long table{did}"),
                    format!(
                        "the columns are {} (dose_ug optional)",
                        LONG_COLUMNS.join(", ")
                    ),
                ));
            }
            None => {}
        }
    }
    Ok(col)
}

/// The cell of `row` in column `i`, refusing a row with too few cells.
fn cell<'r>(text: &str, header: &Row, row: &'r Row, i: usize) -> Result<&'r Cell, InputError> {
    row.cells.get(i).ok_or_else(|| {
        InputError::at(
            text,
            Some(row.start..row.start),
            K::Invalid {
                message: format!(
                    "row has {} values, the header {}\n  help: give one value per header column (an empty value is written as nothing between two commas)",
                    row.cells.len(),
                    header.cells.len()
                ),
            },
        )
    })
}

/// A number in a cell, or a located error with `hint`.
fn number(text: &str, c: &Cell, column: &str, hint: &str) -> Result<f64, InputError> {
    c.1.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| {
            cell_err(
                text,
                c.0.clone(),
                column,
                format!("\"{}\" is not a number", c.1),
                hint.into(),
            )
        })
}

/// Whether a cell is a missing value (empty, `NA` or `.`).
fn is_missing(s: &str) -> bool {
    s.is_empty() || s.eq_ignore_ascii_case("na") || s == "."
}

const TIME_HINT: &str = "write the time in hours after the dose as a number, e.g. 2.5";
const CONC_HINT: &str = "write the concentration in ng/mL as a number ≥ 0 (0, BLQ or BQL for a sample below the limit of quantification; empty, NA or . for a missing one)";
const DOSE_HINT: &str =
    "write the dose in µg as a positive number, e.g. 180 (or leave the cell empty)";

/// A concentration cell: a value ≥ 0, 0 for BLQ, `None` when missing.
fn conc(text: &str, c: &Cell, column: &str) -> Result<Option<f64>, InputError> {
    if is_missing(&c.1) {
        return Ok(None);
    }
    if c.1.eq_ignore_ascii_case("blq") || c.1.eq_ignore_ascii_case("bql") {
        return Ok(Some(0.0));
    }
    let x = number(text, c, column, CONC_HINT)?;
    if x < 0.0 {
        return Err(cell_err(
            text,
            c.0.clone(),
            column,
            format!("{} is negative", c.1),
            CONC_HINT.into(),
        ));
    }
    Ok(Some(x))
}

/// A time cell: a finite number (the sign is checked after the dose is known).
fn time(text: &str, c: &Cell, column: &str) -> Result<f64, InputError> {
    if is_missing(&c.1) {
        return Err(cell_err(
            text,
            c.0.clone(),
            column,
            "the time is empty".into(),
            TIME_HINT.into(),
        ));
    }
    number(text, c, column, TIME_HINT)
}

/// A dose cell: a positive amount.
fn dose(text: &str, c: &Cell, column: &str) -> Result<f64, InputError> {
    let x = number(text, c, column, DOSE_HINT)?;
    if x <= 0.0 {
        return Err(cell_err(
            text,
            c.0.clone(),
            column,
            format!("{} is not a positive dose", c.1),
            DOSE_HINT.into(),
        ));
    }
    Ok(x)
}

/// The records of the long table, as (id, id span, record).
fn long_records(
    text: &str,
    header: &Row,
    data: &[Row],
) -> Result<Vec<(String, Range<usize>, Record)>, InputError> {
    let col = columns(text, header, &LONG_COLUMNS, true)?;
    for (name, c) in LONG_COLUMNS.iter().zip(&col).take(3) {
        if c.is_none() {
            return Err(cell_err(
                text,
                header.start..header.start,
                name,
                format!(
                    "missing from the header `{}`",
                    super::excerpt(
                        &header
                            .cells
                            .iter()
                            .map(|c| c.1.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                ),
                "the long table needs the columns id, time_h and conc_ng_ml (and may add dose_ug)"
                    .into(),
            ));
        }
    }
    let (ii, ti, ci) = (
        col[0].unwrap_or(0),
        col[1].unwrap_or(1),
        col[2].unwrap_or(2),
    );
    let mut out = Vec::new();
    for row in data {
        if row.cells.len() > header.cells.len() {
            return Err(too_many(text, header, row));
        }
        let id = id_of(text, header, row, ii, "id")?;
        let t = cell(text, header, row, ti)?;
        let c = cell(text, header, row, ci)?;
        out.push((
            id.1.clone(),
            id.0.clone(),
            Record::Sample {
                time_h: time(text, t, &header.cells[ti].1)?,
                time_span: t.0.clone(),
                time_column: header.cells[ti].1.clone(),
                conc_ng_ml: conc(text, c, &header.cells[ci].1)?,
            },
        ));
        if let Some(di) = col[3] {
            let d = cell(text, header, row, di)?;
            if !is_missing(&d.1) {
                out.push((
                    id.1.clone(),
                    id.0.clone(),
                    Record::Dose {
                        time_h: 0.0,
                        amount_ug: dose(text, d, &header.cells[di].1)?,
                        span: d.0.clone(),
                        column: header.cells[di].1.clone(),
                        repeated: true,
                    },
                ));
            }
        }
    }
    Ok(out)
}

fn too_many(text: &str, header: &Row, row: &Row) -> InputError {
    InputError::at(
        text,
        Some(row.start..row.start),
        K::Invalid {
            message: format!(
                "row has {} values, the header {}\n  help: give one value per header column (values cannot contain commas)",
                row.cells.len(),
                header.cells.len()
            ),
        },
    )
}

/// The subject id of a row, refusing an empty one.
fn id_of<'r>(
    text: &str,
    header: &Row,
    row: &'r Row,
    i: usize,
    column: &str,
) -> Result<&'r Cell, InputError> {
    let c = cell(text, header, row, i)?;
    if c.1.is_empty() {
        return Err(cell_err(
            text,
            c.0.clone(),
            column,
            "the id is empty".into(),
            "give every row the id of its subject".into(),
        ));
    }
    Ok(c)
}

/// The records of a NONMEM-style dataset.
fn nonmem_records(
    text: &str,
    header: &Row,
    data: &[Row],
) -> Result<Vec<(String, Range<usize>, Record)>, InputError> {
    let col = columns(text, header, &NONMEM_COLUMNS, false)?;
    let name =
        |j: usize| col[j].map_or(NONMEM_COLUMNS[j].to_string(), |i| header.cells[i].1.clone());
    let (ii, ti, dvi) = (
        col[0].unwrap_or(0),
        col[1].unwrap_or(1),
        col[2].unwrap_or(2),
    );
    let mut out = Vec::new();
    for row in data {
        if row.cells.len() > header.cells.len() {
            return Err(too_many(text, header, row));
        }
        let id = id_of(text, header, row, ii, &name(0))?;
        let t = cell(text, header, row, ti)?;
        let flag = |j: usize| -> Result<Option<(f64, &Cell)>, InputError> {
            let Some(i) = col[j] else { return Ok(None) };
            let c = cell(text, header, row, i)?;
            if is_missing(&c.1) {
                return Ok(None);
            }
            Ok(Some((
                number(text, c, &name(j), &format!("write {} as a number", name(j)))?,
                c,
            )))
        };
        let amt = flag(3)?;
        let evid = flag(4)?;
        let mdv = flag(5)?;
        let is_dose = match evid {
            Some((1.0, _)) => true,
            Some((0.0, _)) => false,
            Some((e, c)) => {
                return Err(cell_err(
                    text,
                    c.0.clone(),
                    &name(4),
                    format!("{} is not an event k2sim nca reads", fmt_value(e)),
                    "EVID is 0 for a sample and 1 for the dose; remove other events (resets, other compartments) for a single-dose NCA".into(),
                ))
            }
            None => amt.is_some_and(|(a, _)| a > 0.0),
        };
        let time_h = time(text, t, &name(1))?;
        if is_dose {
            let Some((_, a)) = amt else {
                return Err(cell_err(
                    text,
                    row.start..row.start,
                    &name(3),
                    "the dose row has no amount".into(),
                    "give the dose in µg under AMT".into(),
                ));
            };
            out.push((
                id.1.clone(),
                id.0.clone(),
                Record::Dose {
                    time_h,
                    amount_ug: dose(text, a, &name(3))?,
                    span: a.0.clone(),
                    column: name(3),
                    repeated: false,
                },
            ));
        } else if !mdv.is_some_and(|(m, _)| m == 1.0) {
            let dv = cell(text, header, row, dvi)?;
            out.push((
                id.1.clone(),
                id.0.clone(),
                Record::Sample {
                    time_h,
                    time_span: t.0.clone(),
                    time_column: name(1),
                    conc_ng_ml: conc(text, dv, &name(2))?,
                },
            ));
        }
    }
    Ok(out)
}

/// The records grouped into subjects: one dose at most, times relative to it, sorted, with
/// no two samples at one time.
fn group(
    text: &str,
    records: Vec<(String, Range<usize>, Record)>,
) -> Result<Vec<Subject>, InputError> {
    struct Acc {
        dose: Option<(f64, f64, Range<usize>)>,
        samples: Vec<(f64, Range<usize>, Option<f64>)>,
        time_column: String,
    }
    let mut order: Vec<String> = Vec::new();
    let mut by_id: BTreeMap<String, Acc> = BTreeMap::new();
    let line_of = |span: &Range<usize>| {
        crate::error::Location::of_offset(text, span.start)
            .line
            .unwrap_or(0)
    };
    for (id, _, rec) in records {
        let acc = by_id.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            Acc {
                dose: None,
                samples: Vec::new(),
                time_column: String::new(),
            }
        });
        match rec {
            Record::Sample {
                time_h,
                time_span,
                time_column,
                conc_ng_ml,
            } => {
                acc.samples.push((time_h, time_span, conc_ng_ml));
                acc.time_column = time_column;
            }
            Record::Dose {
                time_h,
                amount_ug,
                span,
                column,
                repeated,
            } => match &acc.dose {
                // The long table may repeat the dose on every row.
                Some((_, a0, _)) if repeated && *a0 == amount_ug => {}
                Some((t0, a0, first)) => {
                    let what = if repeated {
                        format!(
                            "{} µg for id \"{id}\" differs from its dose of {} µg on line {}",
                            fmt_value(amount_ug),
                            fmt_value(*a0),
                            line_of(first)
                        )
                    } else {
                        format!(
                            "{} µg at {} h is a second dose for id \"{id}\" (the first is at {} h, line {})",
                            fmt_value(amount_ug),
                            fmt_value(time_h),
                            fmt_value(*t0),
                            line_of(first)
                        )
                    };
                    return Err(cell_err(
                        text,
                        span,
                        &column,
                        what,
                        "k2sim nca analyses one dose per subject (single-dose NCA): keep one dose, or give each dose's samples their own id".into(),
                    ));
                }
                None => acc.dose = Some((time_h, amount_ug, span)),
            },
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let Some(mut acc) = by_id.remove(&id) else {
            continue;
        };
        let t0 = acc.dose.as_ref().map_or(0.0, |d| d.0);
        for (t, span, _) in &mut acc.samples {
            *t -= t0;
            if *t < 0.0 {
                let (problem, hint) = if t0 == 0.0 {
                    (
                        format!("{} h is before the dose", fmt_value(*t)),
                        "times are hours after the dose (0 h): write the pre-dose sample at time 0 and leave out earlier ones".to_string(),
                    )
                } else {
                    (
                        format!(
                            "{} h is before the dose at {} h",
                            fmt_value(*t + t0),
                            fmt_value(t0)
                        ),
                        "k2sim nca reads the samples after the dose: give the pre-dose sample the dose's TIME, or set MDV = 1 on earlier rows".to_string(),
                    )
                };
                return Err(cell_err(
                    text,
                    span.clone(),
                    &acc.time_column,
                    problem,
                    hint,
                ));
            }
        }
        acc.samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in acc.samples.windows(2) {
            if w[1].0 == w[0].0 {
                let (first, second) = if w[0].1.start < w[1].1.start {
                    (&w[0].1, &w[1].1)
                } else {
                    (&w[1].1, &w[0].1)
                };
                return Err(cell_err(
                    text,
                    second.clone(),
                    &acc.time_column,
                    format!(
                        "a second sample at {} h for id \"{id}\" (the first is on line {})",
                        fmt_value(w[1].0 + t0),
                        line_of(first)
                    ),
                    "keep one sample per time, or give replicate samples their own id".into(),
                ));
            }
        }
        let missing = acc.samples.iter().filter(|s| s.2.is_none()).count();
        let (time_h, conc_ng_ml): (Vec<f64>, Vec<f64>) = acc
            .samples
            .iter()
            .filter_map(|s| s.2.map(|c| (s.0, c)))
            .unzip();
        let profile = Profile::new(time_h, conc_ng_ml).map_err(|e| {
            InputError::at(
                text,
                Some(0..0),
                K::Invalid {
                    message: format!("id \"{id}\": {e}\n  help: this is a bug in k2sim's reader; please report it with the file"),
                },
            )
        })?;
        out.push(Subject {
            id,
            profile,
            dose_ug: acc.dose.map(|d| d.1),
            missing_samples: missing,
        });
    }
    Ok(out)
}
