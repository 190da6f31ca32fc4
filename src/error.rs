//! Typed errors. The library returns these; the CLI maps them to exit codes (2 for bad input,
//! 1 for anything else) and prints them.

use std::fmt;
use std::path::PathBuf;

/// A failure of the numerical core. Carries the numbers involved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A model parameter is outside its meaningful range.
    #[error("parameter `{name}` = {value} is invalid: expected {expected}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    /// The ODE integrator could not meet its tolerance.
    #[error("the ODE solver failed at t = {} h: {reason}\n  help: {hint}", crate::format::fmt_value(*t_h))]
    OdeFailed {
        t_h: f64,
        reason: String,
        hint: String,
    },
    /// A population could not be set up.
    #[error("population: {reason}")]
    Population { reason: String },
    /// A steady state does not exist or could not be computed.
    #[error("steady state could not be computed: {reason}")]
    SteadyState { reason: String },
    /// A result broke an inequality every correct solution keeps (Cmin,ss ≤ Cavg,ss ≤ Cmax,ss,
    /// Cmax at least every grid value): the numbers are wrong, so none are reported.
    #[error("regimen \"{regimen}\": {low_name} = {} ng/mL came out above {high_name} = {} ng/mL, which no correct solution does: the concentrations lost their precision at these rates and are not reported\n  help: this is a bug in k2sim; please report it with the scenario file", crate::format::fmt_value(*low), crate::format::fmt_value(*high))]
    Inconsistent {
        regimen: String,
        low_name: &'static str,
        low: f64,
        high_name: &'static str,
        high: f64,
    },
    /// The exact solver was asked to solve a model without a closed form.
    #[error("the exact solver has no closed form for saturable (Michaelis–Menten) absorption (at t = {t_h} h)\n  help: use solver = \"ode\" in the scenario, or --solver ode")]
    NoClosedForm { t_h: f64 },
}

/// Where in an input file something is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Location {
    /// The file, when the input came from one.
    pub file: Option<PathBuf>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (characters), when known.
    pub column: Option<usize>,
}

impl Location {
    /// The 1-based line and column of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            file: None,
            line: Some(line),
            column: Some(column),
        }
    }
}

impl Location {
    /// The start of the line holding byte `offset` (its first non-blank character): where the
    /// key of a `key = value` line is written, given the value's offset.
    pub fn of_line(text: &str, offset: usize) -> Self {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let rest = &text[start..];
        Self::of_offset(
            text,
            start + rest.len() - rest.trim_start_matches([' ', '\t']).len(),
        )
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self
            .file
            .as_ref()
            .map_or("<scenario>".to_string(), |p| p.display().to_string());
        write!(f, "{file}")?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// What is wrong with an input.
#[derive(Debug, Clone, PartialEq)]
pub enum InputErrorKind {
    /// The file is not valid TOML.
    Syntax { message: String },
    /// A key we do not know, with the nearest known key and the full list.
    UnknownKey {
        key: String,
        suggestion: Option<String>,
        expected: Vec<String>,
    },
    /// A value of the wrong type, with how to write the right one.
    WrongType {
        key: String,
        message: String,
        hint: String,
    },
    /// A required key is missing.
    Missing { key: String, hint: String },
    /// A value out of its allowed range.
    OutOfRange {
        key: String,
        value: String,
        expected: String,
    },
    /// Two keys that cannot be given together.
    Conflict {
        key: String,
        other: String,
        hint: String,
    },
    /// A quantity whose unit did not parse.
    BadQuantity {
        key: String,
        text: String,
        expected: String,
    },
    /// A name (compound, solver, ...) that is not known.
    UnknownName {
        key: String,
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    /// The run would produce more output than memory allows.
    TooLarge {
        key: String,
        rows: u64,
        bytes: u64,
        limit_rows: u64,
        /// A round step (h) that keeps the run under the limit.
        suggested_step_h: f64,
    },
    /// A cell (or header name) of a data table that cannot be used: the column, what is
    /// wrong with the value, and how to write it.
    Cell {
        column: String,
        problem: String,
        hint: String,
    },
    /// A word of a compact text value (a `schedule` string) that does not fit its grammar:
    /// the word as written (empty for an empty text), what is wrong, and the right form.
    BadWord {
        key: String,
        word: String,
        problem: String,
        hint: String,
    },
    /// The file could not be read.
    Io { message: String },
    /// A value the model refuses as a whole (the message names the parameter and the range).
    Invalid { message: String },
}

/// A bad input, located in its file. Displayed as `file:line:col: key: problem` and a hint.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// Where the problem is.
    pub location: Location,
    /// What the problem is.
    pub kind: Box<InputErrorKind>,
    /// For a file named by another one (a scenario's `observed_csv` or `dataset`): the key
    /// that names it and where, shown as a second location.
    pub named_by: Option<Box<(String, Location)>>,
}

impl InputError {
    /// An error at a byte span of the source text.
    pub fn at(text: &str, span: Option<std::ops::Range<usize>>, kind: InputErrorKind) -> Self {
        let location = span.map_or_else(Location::default, |s| Location::of_offset(text, s.start));
        Self {
            location,
            kind: Box::new(kind),
            named_by: None,
        }
    }

    /// A file that could not be read (or listed): `message` says what and why, `path` is the file.
    pub fn io(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            location: Location::default(),
            kind: Box::new(InputErrorKind::Io {
                message: message.into(),
            }),
            named_by: None,
        }
        .in_file(path)
    }

    /// A read failure whose file is not known here; the caller attaches it with [`Self::in_file`].
    pub fn io_unlocated(message: impl Into<String>) -> Self {
        Self {
            location: Location::default(),
            kind: Box::new(InputErrorKind::Io {
                message: message.into(),
            }),
            named_by: None,
        }
    }

    /// Attaches the file path.
    pub fn in_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.location.file = Some(path.into());
        self
    }

    /// Records that the file of this error is named by `key` at `at` (in another file).
    pub fn named_by(mut self, key: &str, at: Location) -> Self {
        self.named_by = Some(Box::new((key.to_string(), at)));
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use InputErrorKind::*;
        write!(f, "{}: ", self.location)?;
        match self.kind.as_ref() {
            Syntax { message } => write!(f, "invalid TOML: {message}"),
            UnknownKey { key, suggestion, expected } => {
                write!(f, "unknown key `{key}`")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                if !expected.is_empty() {
                    write!(f, "\n  help: keys allowed here: {}", expected.join(", "))?;
                }
                Ok(())
            }
            WrongType { key, message, hint } => {
                write!(f, "key `{key}`: {message}\n  help: {hint}")
            }
            Missing { key, hint } => write!(f, "missing key `{key}`\n  help: {hint}"),
            OutOfRange { key, value, expected } => {
                write!(f, "key `{key}`: {value} is out of range\n  help: expected {expected}")
            }
            Conflict { key, other, hint } => {
                write!(f, "key `{key}` cannot be given together with `{other}`\n  help: {hint}")
            }
            BadQuantity { key, text, expected } => {
                write!(f, "key `{key}`: cannot read {text}\n  help: expected {expected}")
            }
            UnknownName { key, name, suggestion, known } => {
                write!(f, "key `{key}`: unknown name \"{name}\"")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean \"{s}\"?")?;
                }
                write!(f, "\n  help: known: {}", known.join(", "))
            }
            BadWord { key, word, problem, hint } => {
                write!(f, "key `{key}`: ")?;
                if !word.is_empty() {
                    write!(f, "at `{word}`: ")?;
                }
                write!(f, "{problem}\n  help: {hint}")
            }
            TooLarge { key, rows, bytes, limit_rows, suggested_step_h } => write!(
                f,
                "key `{key}`: the output grid would have {rows} rows (about {} MB), over the limit of {limit_rows} rows\n  help: increase the step, e.g. `step_h = {suggested_step_h}`, or shorten `duration_h`",
                bytes / 1_000_000
            ),
            Cell { column, problem, hint } => {
                write!(f, "column `{column}`: {problem}\n  help: {hint}")
            }
            Io { message } | Invalid { message } => write!(f, "{message}"),
        }?;
        if let Some((key, at)) = self.named_by.as_deref() {
            write!(f, "\n  note: the file is named by `{key}` at {at}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// Any error of k2sim: bad input (exit code 2) or a failure while running (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input is wrong; the message says where and how to fix it.
    #[error("{0}")]
    Input(#[from] InputError),
    /// A command-line mistake (an option that conflicts with the scenario or another option):
    /// the message names the option and the fix; no file location is prefixed.
    #[error("{message}")]
    Usage { message: String },
    /// The numerical core failed.
    #[error("{0}")]
    Sim(#[from] SimError),
    /// A figure could not be drawn.
    #[error("drawing a figure failed: {0}")]
    Plot(#[from] crate::plot::PlotError),
    /// A validation check committed as passing (`expect = "pass"`) fails now.
    #[error("validation checks that passed now fail: {what}\n  help: the model or a preset changed; fix it, or if the change is intended, set `expect = \"fail\"` in the case and say why in docs/validation.md")]
    Regression { what: String },
    /// An output could not be serialized (a bug, not the user's input or the disk).
    #[error("cannot serialize {what}: {message}\n  help: this is a bug in k2sim; please report it with the scenario file")]
    Serialize { what: String, message: String },
    /// Writing an output failed.
    #[error("cannot write {path}: {source}\n  help: check that this directory can be created and written, or choose another with --out DIR")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// A serialization failure of output `what` (a file name such as `summary.json`).
    pub fn serialize(what: impl Into<String>, e: impl std::fmt::Display) -> Self {
        Error::Serialize {
            what: what.into(),
            message: e.to_string(),
        }
    }

    /// The process exit code for this error: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Usage { .. } => 2,
            _ => 1,
        }
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = word.to_lowercase();
    let candidates: Vec<&str> = candidates.into_iter().collect();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
        .or_else(|| {
            // A longer spelling of a key, such as `at_hour` for `at_h`: the longest known key
            // of at least 3 characters that the word starts with.
            candidates
                .iter()
                .filter(|c| c.len() >= 3 && lower.starts_with(&c.to_lowercase()))
                .max_by_key(|c| c.len())
                .map(|c| c.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbé = 2\nc = 3";
        let loc = Location::of_offset(text, text.find("2").unwrap());
        assert_eq!((loc.line, loc.column), (Some(2), Some(6)));
    }

    #[test]
    fn suggestions_catch_typos_only() {
        let keys = ["dose_ug", "interval_h", "doses"];
        assert_eq!(suggest("dose_gu", keys).as_deref(), Some("dose_ug"));
        assert_eq!(suggest("intervall_h", keys).as_deref(), Some("interval_h"));
        assert_eq!(suggest("colour", keys), None);
        assert_eq!(
            suggest("at_hour", ["at_h", "at", "dose"]).as_deref(),
            Some("at_h")
        );
    }
}
