//! Scenario files: the TOML schema, and validation into the typed [`Scenario`] the simulator
//! runs. Every refusal is an [`InputError`] that names the line, column and key, says what was
//! expected and, for a misspelt key or name, what was probably meant.
//!
//! Parse from text with [`parse_str`]; [`load`] is the thin wrapper that reads a path and puts
//! it into the error.

pub mod case;
mod correlation;
pub mod dataset;
mod delivery;
mod document;
mod fit_keys;
mod food_week;
mod formulation;
mod meal;
mod nca_data;
mod observed;
mod observed_response;
mod params;
mod raw;
mod regimen;
mod response;
mod schedule_text;
pub mod spec;
mod structure;
mod study;

pub use spec::{
    FitSpec, PopulationSpec, ResidualSpec, ResponseSpec, SweepAxis, SweepParam, SweepSpec,
    UncertaintySpec, Weighting,
};
pub use study::{MAX_SUBJECTS, MAX_SWEEP_RUNS};

use crate::format::{fmt_limit, fmt_value};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::compound::{Compound, Evidence};
use crate::dosing::Schedule;
use crate::error::{suggest, InputError, InputErrorKind as K};
use crate::model::ode::OdeOptions;
use crate::model::{PkModel, SolverKind};
use crate::units::{self, ConcUnit};
use food_week::FoodWeekKeys;
pub use food_week::{FoodDose, DEFAULT_CLOCK_H};
pub use nca_data::{load_nca_data, parse_nca_data};
pub use observed::{attach_observed_csv, parse_observed_csv, Observation};
pub use observed_response::ObservedResponse;
use raw::RawScenario;

/// Most output rows (regimens × grid points) a run may produce: about 0.5 GB of CSV.
pub const MAX_OUTPUT_ROWS: u64 = 10_000_000;
/// Most intervals `auc_intervals_h` may list.
pub const MAX_AUC_INTERVALS: usize = 1000;
/// Most regimens one scenario may hold ([[regimen]] tables and dataset IDs together). Every
/// regimen is a curve, a comparison row, a panel and a column of timeseries.csv: at a
/// thousand the run takes about 15 s, mostly drawing; far beyond it the figures are
/// unreadable and memory grows without use. A [sweep] or [population] covers more.
pub const MAX_REGIMENS: usize = 1000;
/// Most doses one regimen may have.
pub const MAX_DOSES: u64 = 1_000_000;
/// Longest simulated span (h): 100 years.
pub const MAX_DURATION_H: f64 = 876_000.0;

/// Scale of the concentration axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisScale {
    /// Linear from zero (default).
    #[default]
    Linear,
    /// Logarithmic, for regimens of very different size in one figure.
    Log,
}

/// Figure options from the `[plot]` table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlotOptions {
    /// Title; default the scenario name.
    pub title: Option<String>,
    /// Concentration axis scale; default linear.
    pub y_scale: AxisScale,
    /// Concentration unit of the figure; default ng/mL.
    pub units: ConcUnit,
    /// Image width (px); default 1800.
    pub width_px: u32,
    /// Image height (px); default 1100.
    pub height_px: u32,
    /// Shade the span where every regimen is at ≥ 90 % of its steady-state trough; default off.
    pub shade_steady_state: bool,
    /// Print resolution (dpi); default 300 (text sizes are in points at `width_px / dpi`).
    pub dpi: u32,
    /// `title = false`: figures without title and subtitle, for a journal's figure frame.
    pub bare: bool,
    /// Figure formats; default PNG and SVG.
    #[serde(serialize_with = "formats_as_list")]
    pub formats: crate::plot::Formats,
}

fn formats_as_list<S: serde::Serializer>(
    f: &crate::plot::Formats,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(f.iter().map(crate::plot::Format::extension))
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            title: None,
            y_scale: AxisScale::Linear,
            units: ConcUnit::NgMl,
            width_px: 1800,
            height_px: 1100,
            shade_steady_state: false,
            dpi: crate::plot::DEFAULT_DPI,
            bare: false,
            formats: crate::plot::Formats::default(),
        }
    }
}

/// Where a resolved parameter value came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Provenance {
    /// "preset", "scenario" (set in the file), "formulation" (ka solved from a `formulation`'s
    /// published Tmax) or "cohort" (a `baseline` cohort's published level).
    pub origin: &'static str,
    /// Evidence tag of a preset value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Citation or derivation of a preset value; the file for an override.
    pub source: String,
}

/// Provenance of each parameter of a regimen, in the order of the summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ParamSources {
    pub ka_per_h: Provenance,
    pub half_life_h: Provenance,
    pub v_l: Provenance,
    pub f: Provenance,
    pub tlag_h: Provenance,
    pub baseline_ng_ml: Provenance,
    /// Two-compartment and saturable-absorption parameters, when the model has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q_l_per_h: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vp_l: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmax_ug_per_h: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub km_ug: Option<Provenance>,
}

/// One validated regimen.
#[derive(Debug, Clone, PartialEq)]
pub struct Regimen {
    /// Label shown in tables, CSV and legends (unique within the scenario).
    pub label: String,
    /// The compound preset the parameters start from.
    pub compound: Compound,
    /// Resolved model parameters (preset plus overrides).
    pub model: PkModel,
    /// Where each parameter came from.
    pub sources: ParamSources,
    /// The doses.
    pub schedule: Schedule,
    /// The food dosed, when the regimen doses a food rather than a supplement.
    pub food: Option<FoodDose>,
    /// `steady_state = true`: the run starts at the steady state of the periodic schedule
    /// (NONMEM's `SS=1`), as if it had been taken since long before t = 0.
    pub at_steady_state: bool,
}

/// Largest dataset file read (bytes).
pub const MAX_DATASET_BYTES: u64 = 200_000_000;

/// Largest scenario or validation case file read (bytes): far above any hand-written scenario
/// (the largest shipped one is a few kB), far below what would exhaust memory while parsing.
pub const MAX_SCENARIO_BYTES: u64 = 10_000_000;

/// Reads a regular file of at most `limit_bytes`. A FIFO, a device (`/dev/zero`,
/// `/dev/urandom`) or a socket is refused before it is opened for reading, since reading it
/// would block or never end; a file that grows past the limit while read is refused too. The
/// message names `what` and the limit.
pub fn read_regular(path: &Path, limit_bytes: u64, what: &str) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the {what}: {e}"))?;
    if meta.is_dir() {
        return Err(format!("the {what} is a directory; give a file"));
    }
    if !meta.is_file() {
        return Err(format!(
            "the {what} is not a regular file (a pipe, device or socket, which k2sim does not read: it could block or never end); give a file"
        ));
    }
    let too_big = || {
        format!(
            "the {what} has more than {} MB, the limit for it; is it the right file?",
            limit_bytes / 1_000_000
        )
    };
    if meta.len() > limit_bytes {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(limit_bytes + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read the {what}: {e}"))?;
    if bytes.len() as u64 > limit_bytes {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Where the files a scenario names (`observed_csv`, `dataset`) may be.
///
/// By default they must be under the folder of the scenario that names them (after
/// following symbolic links): a scenario received from someone else cannot make k2sim read
/// (and quote in an error, or copy into a shard) a file elsewhere on the system, such as
/// `../../etc/passwd` or `/home/me/.ssh/id_rsa`. `k2sim … --allow-outside` lifts the rule for
/// one run. A scenario on standard input names files under the working directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reach {
    /// Only files under the scenario's folder.
    #[default]
    ScenarioFolder,
    /// Any file the user can read (`--allow-outside`).
    Anywhere,
}

/// The path of `name`, a file named by the scenario in `base` (the scenario's folder), or why
/// it may not be read under `reach`.
pub fn named_file(base: &Path, name: &Path, reach: Reach) -> Result<PathBuf, String> {
    let path = base.join(name);
    if reach == Reach::Anywhere {
        return Ok(path);
    }
    let folder = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let inside = match path.canonicalize() {
        Ok(target) => target.starts_with(&folder),
        // Not there (reading it will say so): judge the name as written.
        Err(_) => {
            use std::path::Component as C;
            name.components()
                .all(|c| matches!(c, C::Normal(_) | C::CurDir))
        }
    };
    if inside {
        return Ok(path);
    }
    Err(format!(
        "`{}` is outside the folder of the scenario ({}); k2sim reads only files under the folder of the scenario that names them, so that a scenario from elsewhere cannot make it read other files\n  help: copy the file into {} (or a folder under it) and name it relative to the scenario, or pass --allow-outside to read it where it is",
        crate::format::terminal_safe(&name.display().to_string()),
        folder.display(),
        folder.display()
    ))
}

/// Longest excerpt of a data file's content an error quotes (characters).
pub const EXCERPT_CHARS: usize = 40;

/// What an error quotes of a cell or header it does not recognise: at most [`EXCERPT_CHARS`]
/// characters, control characters escaped (`\u{1b}`), and `…` when there was more. A file
/// that is not what the scenario says (a key file, a binary) is never echoed beyond this.
pub fn excerpt(text: &str) -> String {
    let head: String = text.chars().take(EXCERPT_CHARS).collect();
    let safe = crate::format::terminal_safe(&head).into_owned();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        format!("{safe}…")
    } else {
        safe
    }
}

/// `text` without a leading UTF-8 byte-order mark, which spreadsheet programs write at the
/// start of a "UTF-8 CSV" and which would otherwise stick to the first header cell. Every CSV
/// parser calls it first, so lines and columns count from the first visible character.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A validated scenario, ready to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Scenario name (title of outputs).
    pub name: String,
    /// Free text description.
    pub description: Option<String>,
    /// File it was read from, if any.
    pub source: Option<PathBuf>,
    /// Simulated span (h).
    pub duration_h: f64,
    /// Output grid step (h).
    pub step_h: f64,
    /// Solver selected by the file (the CLI may override it).
    pub solver: SolverKind,
    /// Tolerances of the ODE solver.
    pub ode: OdeOptions,
    /// Figure options.
    pub plot: PlotOptions,
    /// A concentration of interest (ng/mL), e.g. a detection limit or a target level: time
    /// above it is reported and the figures draw it. `None` when the scenario names none.
    pub threshold_ng_ml: Option<f64>,
    /// Caption of the figures, written into `<figure>.txt` beside each.
    pub caption: Option<String>,
    /// The regimens, in file order.
    pub regimens: Vec<Regimen>,
    /// Things the user should know that do not stop the run.
    pub warnings: Vec<String>,
    /// Virtual population, from `[population]`.
    pub population: Option<PopulationSpec>,
    /// Parameter sweep, from `[sweep]`.
    pub sweep: Option<SweepSpec>,
    /// Draws and seed of the uncertainty run, from `[uncertainty]` (its presence asks for one).
    pub uncertainty: Option<UncertaintySpec>,
    /// Carboxylation markers driven by the concentrations, from `[response]`.
    pub response: Option<ResponseSpec>,
    /// Measured concentrations, from `[[observed]]` rows and the `observed_csv` file.
    pub observed: Vec<Observation>,
    /// Measured marker changes, from `[[observed_response]]` rows (what `k2sim fit` fits
    /// response parameters to).
    pub observed_response: Vec<ObservedResponse>,
    /// `observed_csv` as written (relative to the scenario file); its rows are added to
    /// `observed` by [`load`].
    pub observed_csv: Option<PathBuf>,
    /// What `k2sim fit` estimates, from `[fit]`.
    pub fit: Option<FitSpec>,
    /// Intervals `[start_h, end_h]` (inside the run, start before end) whose AUC the `nca`
    /// object of `summary.json` reports, from `auc_intervals_h`; empty when none are asked for.
    pub auc_intervals_h: Vec<[f64; 2]>,
}

/// Reads and validates a scenario file, reading the files it names only under its folder
/// ([`Reach::ScenarioFolder`]). Errors carry the path.
pub fn load(path: &Path) -> Result<Scenario, InputError> {
    load_with(path, Reach::ScenarioFolder)
}

/// [`load`], with the files the scenario names read where `reach` allows.
pub fn load_with(path: &Path, reach: Reach) -> Result<Scenario, InputError> {
    let io = |message: String| InputError::io(path, message);
    if path.is_dir() {
        return Err(io("is a directory, not a scenario file; give a .toml file such as scenarios/mk7_daily.toml".into()));
    }
    if !path.exists() {
        return Err(io("cannot read the scenario file: No such file or directory (os error 2)\n  help: check the path; the shipped scenarios are in scenarios/, e.g. scenarios/mk7_daily.toml".into()));
    }
    let bytes = read_regular(path, MAX_SCENARIO_BYTES, "scenario file").map_err(|e| {
        let help = if e.contains("ermission denied") {
            "the file is not readable by you: check its permissions"
        } else if e.contains("regular file") || e.contains("MB") {
            "give the scenario as a .toml file, e.g. scenarios/mk7_daily.toml"
        } else {
            "check that the path names a readable file"
        };
        io(format!("{e}\n  help: {help}"))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let loc_text =
            String::from_utf8_lossy(e.as_bytes()[..e.utf8_error().valid_up_to()].as_ref())
                .into_owned();
        let mut err = InputError::at(
            &loc_text,
            Some(loc_text.len()..loc_text.len()),
            K::Io {
                message: "the file is not valid UTF-8 text; save it as UTF-8".into(),
            },
        );
        err.location.file = Some(path.to_path_buf());
        err
    })?;
    let default_name = path
        .file_stem()
        .map_or("scenario".to_string(), |s| s.to_string_lossy().into_owned());
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut scenario = from_text(&text, path, &dir, &default_name, reach)?;
    scenario.source = Some(path.to_path_buf());
    Ok(scenario)
}

/// Name under which a scenario read from standard input appears in messages.
pub const STDIN_LABEL: &str = "<stdin>";

/// Validates scenario text read from standard input (`k2sim run -`): errors name
/// [`STDIN_LABEL`] as the file, and files it names (a `dataset`, `observed_csv`) are read
/// relative to `cwd` (and under it, unless `reach` is [`Reach::Anywhere`]). The name
/// defaults to "stdin".
pub fn load_stdin_text(text: &str, cwd: &Path, reach: Reach) -> Result<Scenario, InputError> {
    from_text(text, Path::new(STDIN_LABEL), cwd, "stdin", reach)
}

/// Validates `text`, the content of `path`, reading the files it names from `dir`.
fn from_text(
    text: &str,
    path: &Path,
    dir: &Path,
    default_name: &str,
    reach: Reach,
) -> Result<Scenario, InputError> {
    let base = dir.to_path_buf();
    let read = move |name: &str| -> Result<(PathBuf, String), String> {
        let p = named_file(&base, Path::new(name), reach)?;
        let bytes = read_regular(&p, MAX_DATASET_BYTES, "dataset")
            .map_err(|e| format!("{}: {e}", p.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{} is not UTF-8 text; save it as UTF-8", p.display()))?;
        Ok((p, text))
    };
    let mut scenario = parse_with_files(text, default_name, Some(&read)).map_err(|mut e| {
        if let Some((_, at)) = e.named_by.as_deref_mut() {
            at.file.get_or_insert_with(|| path.to_path_buf());
        }
        if e.location.file.is_some() {
            e
        } else {
            e.in_file(path)
        }
    })?;
    attach_observed_csv(&mut scenario, dir, Some((text, path)), reach)?;
    Ok(scenario)
}

/// Parses and validates scenario text. `default_name` is used when the file has no `name`.
pub fn parse_str(text: &str, default_name: &str) -> Result<Scenario, InputError> {
    parse_with_files(text, default_name, None)
}

fn parse_str_empty(text: &str) -> Result<Scenario, InputError> {
    Err(InputError::at(
        text,
        Some(0..0),
        K::Missing {
            key: "regimen".into(),
            hint: "the file is empty; start from scenarios/mk7_daily.toml".into(),
        },
    ))
}

/// [`parse_str`] with a way to read the files the scenario names (a `dataset`): `files` gets
/// the name as written and returns the path it read and the text, or why not.
pub fn parse_with_files(
    text: &str,
    default_name: &str,
    files: Option<FileReader<'_>>,
) -> Result<Scenario, InputError> {
    if text.trim().is_empty() {
        return parse_str_empty(text);
    }
    let raw: RawScenario = toml::from_str(text).map_err(|e| from_toml_error(text, &e))?;
    Validator { text, files }.scenario(raw, default_name)
}

/// Turns a TOML or serde error into a located [`InputError`] with a suggestion where possible.
pub(crate) fn from_toml_error(text: &str, e: &toml::de::Error) -> InputError {
    let msg = e.message().trim().to_string();
    let span = e.span();
    let ticked = |s: &str| -> Vec<String> {
        s.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let kind = if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default().to_string();
        let expected = rest
            .split_once("expected")
            .map_or_else(Vec::new, |(_, list)| ticked(list));
        let suggestion = suggest(&key, expected.iter().map(String::as_str));
        K::UnknownKey {
            key,
            suggestion,
            expected,
        }
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default().to_string();
        K::Missing {
            hint: format!("add `{key} = ...` to this table"),
            key,
        }
    } else if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        let key = key_at(text, span.clone());
        let message = msg
            .replace("expected f64", "expected a number")
            .replace("expected i64", "expected a whole number")
            .replace("expected a sequence", "expected a list");
        let hint = if message.ends_with("expected a whole number") {
            format!("write a whole number without a decimal point or quotes, e.g. `{key} = 7`")
        } else if message.ends_with("expected a number") {
            format!("numbers are written bare, e.g. `{key} = 48`; for a quantity with a unit use the key without the unit suffix, e.g. `duration = \"2 d\"`")
        } else if message.ends_with("expected a string") {
            format!("text is written in quotes, e.g. `{key} = \"mk7\"`")
        } else if key == "regimen" {
            "each regimen is a [[regimen]] table; see scenarios/mk7_daily.toml".into()
        } else if message.ends_with("expected a list") {
            format!("a list is written in brackets, e.g. `{key} = [8, 13, 19]`")
        } else {
            "see docs/scenarios.md for the form of each key".into()
        };
        K::WrongType { key, message, hint }
    } else if msg.starts_with("duplicate key") {
        let key = key_at(text, span.clone());
        K::Syntax {
            message: format!(
                "key `{key}` is given twice in the same table{}\n  help: keep one of them",
                snippet(text, span.clone())
            ),
        }
    } else {
        let msg = msg.trim_end_matches(", expected nothing");
        K::Syntax {
            message: format!(
                "{msg}{}\n  help: check the quotes, brackets and `key = value` form on this line",
                snippet(text, span.clone())
            ),
        }
    };
    InputError::at(text, span, kind)
}

/// The line of `span` with a caret under its start, for syntax errors.
fn snippet(text: &str, span: Option<Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let loc = crate::error::Location::of_offset(text, span.start);
    let (Some(line), Some(col)) = (loc.line, loc.column) else {
        return String::new();
    };
    let content = text.lines().nth(line - 1).unwrap_or("");
    // Columns count characters; tabs are kept so the caret lines up under them, and control
    // characters are shown escaped, as the terminal will show them.
    let before: String = content.chars().take(col - 1).collect();
    let pad: String = crate::format::terminal_safe(&before)
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let content = crate::format::terminal_safe(content);
    format!("\n   |\n{line:>3}| {content}\n   | {pad}^")
}

/// The key on the line of `span`, for messages that do not name it.
fn key_at(text: &str, span: Option<Range<usize>>) -> String {
    let Some(span) = span else { return "?".into() };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    line.split_once('=').map_or_else(
        || line.trim().trim_matches(['[', ']']).to_string(),
        |(k, _)| k.trim().to_string(),
    )
}

struct Validator<'a> {
    text: &'a str,
    /// Reads a file named by the scenario (relative to it): the loader's I/O edge. `None` for
    /// text parsed on its own, which then cannot name a dataset.
    files: Option<FileReader<'a>>,
}

/// Reads a file a scenario names: the name as written → the path read and its text, or why
/// not.
pub type FileReader<'a> = &'a dyn Fn(&str) -> Result<(PathBuf, String), String>;

type R<T> = Result<T, InputError>;

impl Validator<'_> {
    fn err(&self, span: Range<usize>, kind: K) -> InputError {
        InputError::at(self.text, Some(span), kind)
    }

    fn range(
        &self,
        key: &str,
        v: &Spanned<f64>,
        ok: impl Fn(f64) -> bool,
        expected: &str,
    ) -> R<f64> {
        let x = *v.get_ref();
        if x.is_finite() && ok(x) {
            Ok(x)
        } else {
            Err(self.err(
                v.span(),
                K::OutOfRange {
                    key: key.into(),
                    value: fmt_value(x),
                    expected: expected.into(),
                },
            ))
        }
    }

    fn positive(&self, key: &str, v: &Spanned<f64>, unit: &str) -> R<f64> {
        match value_limits(key) {
            Some((lo, hi, why)) => self.range(
                key,
                v,
                |x| x >= lo && x <= hi,
                &format!(
                    "a positive number of {unit} from {} to {} ({why})",
                    fmt_limit(lo),
                    fmt_limit(hi)
                ),
            ),
            None => self.range(key, v, |x| x > 0.0, &format!("a positive number of {unit}")),
        }
    }

    fn conflict(&self, span: Range<usize>, key: &str, other: &str, hint: &str) -> InputError {
        self.err(
            span,
            K::Conflict {
                key: key.into(),
                other: other.into(),
                hint: hint.into(),
            },
        )
    }

    /// A value given either as a number under `num_key` or as text with a unit under `text_key`.
    fn either(
        &self,
        num: &Option<Spanned<f64>>,
        text: &Option<Spanned<String>>,
        (num_key, text_key): (&str, &str),
        parse: fn(&str) -> Result<f64, units::UnitError>,
        unit_help: &str,
        unit: &str,
    ) -> R<Option<(f64, Range<usize>)>> {
        match (num, text) {
            (Some(_), Some(t)) => Err(self.conflict(t.span(), text_key, num_key, &format!("give one of `{num_key}` (a number of {unit}) or `{text_key}` (text with a unit)"))),
            (Some(n), None) => Ok(Some((self.positive(num_key, n, unit)?, n.span()))),
            (None, Some(t)) => {
                let v = parse(t.get_ref()).map_err(|e| self.err(t.span(), K::BadQuantity {
                    key: text_key.into(),
                    text: format!("\"{}\" ({e})", t.get_ref()),
                    expected: unit_help.into(),
                }))?;
                let s = Spanned::new(t.span(), v);
                Ok(Some((self.positive(text_key, &s, unit)?, t.span())))
            }
            (None, None) => Ok(None),
        }
    }
}

/// Bounds of positive quantities beyond which the model's numbers would overflow or underflow
/// double precision (amounts × rates × times), with the reason shown to the user. They are far
/// outside physiology: doses from 1 pg to 1 kg, half-lives from 3.6 ms to 1000 years.
fn value_limits(key: &str) -> Option<(f64, f64, &'static str)> {
    Some(match key {
        "dose_ug" | "dose" => (1e-6, 1e9, "1 pg to 1 kg"),
        "interval_h" | "interval" | "step_h" | "step" => {
            (1e-6, MAX_DURATION_H, "3.6 ms to 100 years")
        }
        "ka_per_h" | "ke_per_h" => (1e-9, 1e7, "rates beyond these overflow the model"),
        "half_life_h" => (1e-6, 1e7, "3.6 ms to 1000 years"),
        "v_l" | "vp_l" => (1e-6, 1e9, "1 µL to a million m³"),
        "q_l_per_h" => (1e-9, 1e9, "flows beyond these overflow the model"),
        "vmax_ug_per_h" => (1e-9, 1e12, "rates beyond these overflow the model"),
        "km_ug" => (1e-9, 1e12, "1 fg to 1 t"),
        // Food doses: the amount times the food's K2 content must stay within the dose limits.
        "amount_g" => (1e-6, 1e5, "1 µg to 100 kg of food per dose"),
        "servings" => (1e-6, 1e4, "up to 10 000 servings per dose"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
