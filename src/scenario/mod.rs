//! Scenario files: the TOML schema, and validation into the typed [`Scenario`] the simulator
//! runs. Every refusal is an [`InputError`] that names the line, column and key, says what was
//! expected and, for a misspelt key or name, what was probably meant.
//!
//! Parse from text with [`parse_str`]; [`load`] is the thin wrapper that reads a path and puts
//! it into the error.

mod fit_keys;
mod food_week;
mod meal;
mod observed;
mod raw;
pub mod spec;
mod structure;
mod study;

pub use spec::{FitSpec, PopulationSpec, SweepAxis, SweepParam, SweepSpec, Weighting};
pub use study::{MAX_SUBJECTS, MAX_SWEEP_RUNS};

use crate::format::{fmt_amount, fmt_limit, fmt_value};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::compound::{self, Compound, Evidence};
use crate::dosing::{DoseEvent, Periodic, Schedule};
use crate::error::{suggest, InputError, InputErrorKind as K};
use crate::model::ode::OdeOptions;
use crate::model::{PkModel, SolverKind, LN_2};
use crate::units::{self, ConcUnit};
use food_week::FoodWeekKeys;
pub use food_week::{FoodDose, DEFAULT_CLOCK_H};
pub use observed::{attach_observed_csv, parse_observed_csv, Observation};
use raw::{DoseField, RawDose, RawParams, RawRegimen, RawScenario};

/// Most output rows (regimens × grid points) a run may produce: about 0.5 GB of CSV.
pub const MAX_OUTPUT_ROWS: u64 = 10_000_000;
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
        }
    }
}

/// Where a resolved parameter value came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Provenance {
    /// "preset" or "scenario".
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
    /// Measured concentrations, from `[[observed]]` rows and the `observed_csv` file.
    pub observed: Vec<Observation>,
    /// `observed_csv` as written (relative to the scenario file); its rows are added to
    /// `observed` by [`load`].
    pub observed_csv: Option<PathBuf>,
    /// What `k2sim fit` estimates, from `[fit]`.
    pub fit: Option<FitSpec>,
}

/// Reads and validates a scenario file. Errors carry the path.
pub fn load(path: &Path) -> Result<Scenario, InputError> {
    let io = |message: String| InputError::io(path, message);
    if path.is_dir() {
        return Err(io("is a directory, not a scenario file; give a .toml file such as scenarios/mk7_daily.toml".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        let help = match e.kind() {
            std::io::ErrorKind::NotFound => "check the path; the shipped scenarios are in scenarios/, e.g. scenarios/mk7_daily.toml",
            std::io::ErrorKind::PermissionDenied => "the file is not readable by you: check its permissions",
            _ => "check that the path names a readable file",
        };
        io(format!("cannot read the scenario file: {e}\n  help: {help}"))
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
    let mut scenario = parse_str(&text, &default_name).map_err(|e| e.in_file(path))?;
    attach_observed_csv(&mut scenario, path.parent().unwrap_or(Path::new(".")))?;
    scenario.source = Some(path.to_path_buf());
    Ok(scenario)
}

/// Parses and validates scenario text. `default_name` is used when the file has no `name`.
pub fn parse_str(text: &str, default_name: &str) -> Result<Scenario, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::at(
            text,
            Some(0..0),
            K::Missing {
                key: "regimen".into(),
                hint: "the file is empty; start from scenarios/mk7_daily.toml".into(),
            },
        ));
    }
    let raw: RawScenario = toml::from_str(text).map_err(|e| from_toml_error(text, &e))?;
    Validator { text }.scenario(raw, default_name)
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
            "see the README's \"Scenario files\" section for the form of each key".into()
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
    // Columns count characters; tabs are kept so the caret lines up under them.
    let pad: String = content
        .chars()
        .take(col - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
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
}

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

    fn scenario(&self, raw: RawScenario, default_name: &str) -> R<Scenario> {
        let name = raw
            .name
            .as_ref()
            .map_or(default_name.to_string(), |n| n.get_ref().trim().to_string());
        if let Some(n) = &raw.name {
            if n.get_ref().trim().is_empty() {
                return Err(self.err(
                    n.span(),
                    K::OutOfRange {
                        key: "name".into(),
                        value: "\"\"".into(),
                        expected: "a non-empty name".into(),
                    },
                ));
            }
        }
        let (duration_h, dur_span) = self
            .either(
                &raw.duration_h,
                &raw.duration,
                ("duration_h", "duration"),
                units::parse_duration_h,
                units::TIME_UNITS_HELP,
                "hours",
            )?
            .ok_or_else(|| {
                self.err(
                    0..0,
                    K::Missing {
                        key: "duration_h".into(),
                        hint:
                            "add `duration_h = 672` or `duration = \"28 d\"` at the top of the file"
                                .into(),
                    },
                )
            })?;
        if duration_h > MAX_DURATION_H {
            return Err(self.err(
                dur_span,
                K::OutOfRange {
                    key: "duration_h".into(),
                    value: fmt_value(duration_h),
                    expected: format!("at most {MAX_DURATION_H} h (100 years)"),
                },
            ));
        }
        let step = self.either(
            &raw.step_h,
            &raw.step,
            ("step_h", "step"),
            units::parse_duration_h,
            units::TIME_UNITS_HELP,
            "hours",
        )?;
        let step_h = match step {
            Some((s, span)) if s > duration_h => {
                return Err(self.err(
                    span,
                    K::OutOfRange {
                        key: "step_h".into(),
                        value: fmt_value(s),
                        expected: format!("at most the duration ({} h)", fmt_value(duration_h)),
                    },
                ))
            }
            Some((s, _)) => s,
            None => default_step_h(duration_h),
        };
        let solver = match &raw.solver {
            None => SolverKind::Exact,
            Some(s) => match s.get_ref().as_str() {
                "exact" => SolverKind::Exact,
                "ode" => SolverKind::Ode,
                other => {
                    return Err(self.err(
                        s.span(),
                        K::UnknownName {
                            key: "solver".into(),
                            name: other.into(),
                            suggestion: suggest(other, ["exact", "ode"]),
                            known: vec!["exact".into(), "ode".into()],
                        },
                    ))
                }
            },
        };
        let ode = match &raw.ode {
            None => OdeOptions::default(),
            Some(o) => {
                let v = *o.get_ref();
                for (key, x, lo, hi) in [
                    ("ode.rtol", v.rtol, 1e-14, 1e-2),
                    ("ode.atol_rel_dose", v.atol_rel_dose, 1e-18, 1e-2),
                ] {
                    if !(x.is_finite() && (lo..=hi).contains(&x)) {
                        return Err(self.err(
                            o.span(),
                            K::OutOfRange {
                                key: key.into(),
                                value: fmt_value(x),
                                expected: format!("a tolerance between {lo:e} and {hi:e}"),
                            },
                        ));
                    }
                }
                v
            }
        };
        let plot = self.plot(raw.plot)?;
        let regs = raw.regimen.ok_or_else(|| {
            self.err(
                0..0,
                K::Missing {
                    key: "regimen".into(),
                    hint: "add at least one [[regimen]] table; see scenarios/mk7_daily.toml".into(),
                },
            )
        })?;
        if regs.get_ref().is_empty() {
            return Err(self.err(
                regs.span(),
                K::Missing {
                    key: "regimen".into(),
                    hint: "add at least one [[regimen]] table".into(),
                },
            ));
        }
        let mut regimens: Vec<Regimen> = Vec::new();
        let mut warnings = Vec::new();
        for r in regs.into_inner() {
            let span = r.span();
            let label_span = r
                .get_ref()
                .label
                .as_ref()
                .map_or(span.clone(), |l| l.span());
            let reg = self.regimen(r.into_inner(), span)?;
            if regimens.iter().any(|o| o.label == reg.label) {
                return Err(self.err(
                    label_span,
                    K::OutOfRange {
                        key: "label".into(),
                        value: format!("\"{}\"", reg.label),
                        expected: "a label not used by another regimen (labels name the curves)"
                            .into(),
                    },
                ));
            }
            let late = reg
                .schedule
                .events()
                .iter()
                .filter(|e| e.time_h > duration_h)
                .count();
            if late > 0 {
                warnings.push(format!(
                    "regimen \"{}\": {late} of {} doses fall after the end of the run ({} h) and are not simulated",
                    reg.label, reg.schedule.dose_count(), fmt_value(duration_h)
                ));
            }
            regimens.push(reg);
        }
        self.note_solver(solver, &regimens, &mut warnings);
        // In floating point first: a tiny step must not overflow the count.
        let points_f = (duration_h / step_h).floor() + 2.0;
        let points = if points_f < MAX_OUTPUT_ROWS as f64 {
            points_f as u64
        } else {
            MAX_OUTPUT_ROWS.saturating_add(1)
        };
        let rows: u64 = regimens
            .iter()
            .map(|r| points.saturating_add(2 * r.schedule.dose_count() as u64))
            .fold(0, u64::saturating_add);
        if rows > MAX_OUTPUT_ROWS {
            let span = raw
                .step_h
                .as_ref()
                .map(|s| s.span())
                .or(raw.step.as_ref().map(|s| s.span()))
                .unwrap_or(dur_span);
            let doses: u64 = regimens
                .iter()
                .map(|r| 2 * r.schedule.dose_count() as u64)
                .sum();
            let per_regimen = (MAX_OUTPUT_ROWS.saturating_sub(doses) / regimens.len() as u64)
                .saturating_sub(2)
                .max(1);
            let min_step = duration_h / per_regimen as f64;
            let suggested_step_h = [
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 168.0,
            ]
            .into_iter()
            .find(|&s| s >= min_step && s <= duration_h)
            .unwrap_or(duration_h);
            return Err(self.err(
                span,
                K::TooLarge {
                    key: if raw.step.is_some() { "step" } else { "step_h" }.into(),
                    rows,
                    bytes: rows * 48,
                    limit_rows: MAX_OUTPUT_ROWS,
                    suggested_step_h,
                },
            ));
        }
        let population = match raw.population {
            Some(p) => Some(self.population(p, step_h, duration_h, &regimens)?),
            None => None,
        };
        let sweep = match raw.sweep {
            Some(sw) => Some(self.sweep(sw, &regimens)?),
            None => None,
        };
        let threshold_ng_ml = match &raw.threshold_ng_ml {
            Some(t) => Some(self.positive("threshold_ng_ml", t, "ng/mL")?),
            None => None,
        };
        let observed = match &raw.observed {
            Some(rows) => self.observed(rows, &regimens, duration_h)?,
            None => Vec::new(),
        };
        let observed_csv = match &raw.observed_csv {
            Some(p) if p.get_ref().trim().is_empty() => {
                return Err(self.err(
                    p.span(),
                    K::OutOfRange {
                        key: "observed_csv".into(),
                        value: "\"\"".into(),
                        expected: "a CSV file name, relative to the scenario file".into(),
                    },
                ))
            }
            Some(p) => Some(PathBuf::from(p.get_ref().trim())),
            None => None,
        };
        let fit = match &raw.fit {
            Some(f) => Some(self.fit(f, &regimens)?),
            None => None,
        };
        Ok(Scenario {
            fit,
            observed,
            observed_csv,
            threshold_ng_ml,
            caption: raw.caption.map(|c| c.into_inner().trim().to_string()),
            name,
            description: raw.description,
            source: None,
            duration_h,
            step_h,
            solver,
            ode,
            plot,
            regimens,
            warnings,
            population,
            sweep,
        })
    }

    fn plot(&self, raw: Option<raw::RawPlot>) -> R<PlotOptions> {
        let mut p = PlotOptions::default();
        let Some(raw) = raw else { return Ok(p) };
        p.title = raw.title;
        p.shade_steady_state = raw.shade_steady_state.unwrap_or(false);
        if let Some(s) = raw.y_scale {
            p.y_scale = match s.get_ref().as_str() {
                "linear" => AxisScale::Linear,
                "log" => AxisScale::Log,
                other => {
                    return Err(self.err(
                        s.span(),
                        K::UnknownName {
                            key: "plot.y_scale".into(),
                            name: other.into(),
                            suggestion: suggest(other, ["linear", "log"]),
                            known: vec!["linear".into(), "log".into()],
                        },
                    ))
                }
            };
        }
        if let Some(u) = raw.units {
            p.units = match u.get_ref().as_str() {
                "ng_ml" => ConcUnit::NgMl,
                "nmol_l" => ConcUnit::NmolL,
                other => {
                    return Err(self.err(
                        u.span(),
                        K::UnknownName {
                            key: "plot.units".into(),
                            name: other.into(),
                            suggestion: suggest(other, ["ng_ml", "nmol_l"]),
                            known: vec!["ng_ml".into(), "nmol_l".into()],
                        },
                    ))
                }
            };
        }
        for (key, v, slot) in [
            ("plot.width_px", raw.width_px, &mut p.width_px),
            ("plot.height_px", raw.height_px, &mut p.height_px),
        ] {
            if let Some(v) = v {
                let x = *v.get_ref();
                if !(200..=10_000).contains(&x) {
                    return Err(self.err(
                        v.span(),
                        K::OutOfRange {
                            key: key.into(),
                            value: x.to_string(),
                            expected: "a size between 200 and 10000 pixels".into(),
                        },
                    ));
                }
                *slot = x as u32;
            }
        }
        Ok(p)
    }

    fn regimen(&self, r: RawRegimen, span: Range<usize>) -> R<Regimen> {
        let fw = FoodWeekKeys {
            food: r.food.as_ref(),
            amount_g: r.amount_g.as_ref(),
            servings: r.servings.as_ref(),
            weekdays: r.weekdays.as_ref(),
            weeks: r.weeks.as_ref(),
            at_clock_h: r.at_clock_h.as_ref(),
            skip_days: r.skip_days.as_ref(),
        };
        let food = self.food_dose(&fw)?;
        let compound = match &food {
            Some((f, _)) => self.food_compound(f, r.compound.as_ref())?,
            None => self.compound(&r, span.clone())?,
        };
        let (model, sources) = self.params(&compound, r.params.as_ref())?;
        let (model, sources) = self.structure(r.params.as_ref(), model, sources)?;
        let (model, sources) = self.meal_fat(r.meal_fat_g.as_ref(), &compound, model, sources)?;
        self.check_food_week_keys(
            &fw,
            &[
                ("interval_h", r.interval_h.as_ref().map(|x| x.span())),
                ("interval", r.interval.as_ref().map(|x| x.span())),
                ("times_h", r.times_h.as_ref().map(|x| x.span())),
                ("doses", r.doses.as_ref().map(|x| x.span())),
                ("until_h", r.until_h.as_ref().map(|x| x.span())),
                ("days", r.days.as_ref().map(|x| x.span())),
                ("start_h", r.start_h.as_ref().map(|x| x.span())),
            ],
            match r.dose.as_ref() {
                Some(d) if matches!(d.get_ref(), DoseField::List(_)) => Some(d.span()),
                _ => None,
            },
        )?;
        let schedule = self.schedule(&r, span.clone(), &fw, food.as_ref())?;
        let schedule = self.skip_days(&fw, schedule)?;

        let label = match &r.label {
            Some(l) if l.get_ref().trim().is_empty() => {
                return Err(self.err(
                    l.span(),
                    K::OutOfRange {
                        key: "label".into(),
                        value: "\"\"".into(),
                        expected: "a non-empty label".into(),
                    },
                ))
            }
            Some(l) => l.get_ref().trim().to_string(),
            None => match &food {
                Some((f, _)) => food_week::food_label(f, &schedule),
                None => default_label(&compound, &schedule),
            },
        };
        Ok(Regimen {
            label,
            compound,
            model,
            sources,
            schedule,
            food: food.map(|(f, _)| f),
        })
    }

    fn compound(&self, r: &RawRegimen, span: Range<usize>) -> R<Compound> {
        let c = r.compound.as_ref().ok_or_else(|| {
            self.err(
                span.clone(),
                K::Missing {
                    key: "compound".into(),
                    hint: format!(
                        "add `compound = \"mk7\"` to this [[regimen]]; presets: {}",
                        compound::ids().join(", ")
                    ),
                },
            )
        })?;
        let compound = compound::find(c.get_ref()).ok_or_else(|| {
            self.err(
                c.span(),
                K::UnknownName {
                    key: "compound".into(),
                    name: c.get_ref().clone(),
                    suggestion: suggest(c.get_ref(), compound::ids()),
                    known: compound::ids().iter().map(|s| s.to_string()).collect(),
                },
            )
        })?;
        Ok(compound)
    }

    /// The doses of a regimen: explicit, daily clock times, weekdays, an interval or one dose.
    fn schedule(
        &self,
        r: &RawRegimen,
        span: Range<usize>,
        fw: &FoodWeekKeys,
        food: Option<&(FoodDose, Range<usize>)>,
    ) -> R<Schedule> {
        // The amount per dose: `dose_ug`, or `dose` as text; `dose` may instead hold the list.
        let (dose_num, dose_text, dose_list) = match &r.dose {
            Some(d) => {
                let span = d.span();
                match d.get_ref() {
                    DoseField::Text(t) => (r.dose_ug.clone(), Some(Spanned::new(span, t.clone())), None),
                    &DoseField::Number(x) => {
                        return Err(self.err(span, K::BadQuantity {
                            key: "dose".into(),
                            text: format!("{} (no unit)", fmt_value(x)),
                            expected: format!("text with a unit, e.g. dose = \"{} µg\", or a number under `dose_ug`", fmt_value(x)),
                        }))
                    }
                    DoseField::List(list) => (r.dose_ug.clone(), None, Some((list, span))),
                }
            }
            None => (r.dose_ug.clone(), None, None),
        };
        let amount = self.either(
            &dose_num,
            &dose_text,
            ("dose_ug", "dose"),
            units::parse_mass_ug,
            units::MASS_UNITS_HELP,
            "µg",
        )?;
        // A food brings its own amount per dose.
        let amount = match (food, amount) {
            (Some(_), Some((_, s))) => {
                return Err(self.conflict(
                    s,
                    "dose_ug",
                    "food",
                    "a food regimen doses `amount_g` or `servings` of the food; remove the supplement dose",
                ))
            }
            (Some((f, s)), None) => Some((f.k2_ug, s.clone())),
            (None, a) => a,
        };
        let interval = self.either(
            &r.interval_h,
            &r.interval,
            ("interval_h", "interval"),
            units::parse_duration_h,
            units::TIME_UNITS_HELP,
            "hours",
        )?;

        let schedule = if let Some((list, list_span)) = dose_list {
            if let Some((_, s)) = amount {
                return Err(self.conflict(
                    s,
                    "dose_ug",
                    "[[regimen.dose]]",
                    "with explicit doses, give each amount inside its [[regimen.dose]] table",
                ));
            }
            for (key, present) in [
                ("interval_h", interval.as_ref().map(|i| i.1.clone())),
                ("times_h", r.times_h.as_ref().map(|t| t.span())),
                ("doses", r.doses.as_ref().map(|d| d.span())),
                ("until_h", r.until_h.as_ref().map(|d| d.span())),
                ("days", r.days.as_ref().map(|d| d.span())),
                ("start_h", r.start_h.as_ref().map(|d| d.span())),
            ] {
                if let Some(s) = present {
                    return Err(self.conflict(s, key, "[[regimen.dose]]", "explicit doses carry their own times (`at_h`); remove this key or the dose tables"));
                }
            }
            if let Some((_, s)) = food {
                return Err(self.conflict(
                    s.clone(),
                    "food",
                    "[[regimen.dose]]",
                    "explicit doses are supplement amounts; for a food use a schedule (`interval_h`, `times_h` or `weekdays`)",
                ));
            }
            self.explicit(list, list_span)?
        } else if fw.weekdays.is_some() {
            let (amount, _) = amount.ok_or_else(|| self.missing_dose(span.clone()))?;
            self.weekday_schedule(fw, amount, span.clone())?
        } else if let Some(times) = &r.times_h {
            let (amount, _) = amount.ok_or_else(|| self.missing_dose(span.clone()))?;
            for (key, present) in [
                ("interval_h", interval.as_ref().map(|i| i.1.clone())),
                ("doses", r.doses.as_ref().map(|d| d.span())),
                ("until_h", r.until_h.as_ref().map(|d| d.span())),
                ("start_h", r.start_h.as_ref().map(|d| d.span())),
            ] {
                if let Some(s) = present {
                    return Err(self.conflict(s, key, "times_h", "`times_h` gives clock times repeated every day for `days` days; use `interval_h` with `doses` instead for other schedules"));
                }
            }
            self.daily(times, r.days.as_ref(), amount, span.clone())?
        } else if let Some((interval_h, _)) = interval {
            let (amount, _) = amount.ok_or_else(|| self.missing_dose(span.clone()))?;
            if let Some(d) = &r.days {
                return Err(self.conflict(
                    d.span(),
                    "days",
                    "interval_h",
                    "`days` goes with `times_h`; with `interval_h` give `doses` or `until_h`",
                ));
            }
            let start_h = match &r.start_h {
                Some(s) => {
                    self.range("start_h", s, |x| x >= 0.0, "zero or a positive time in h")?
                }
                None => 0.0,
            };
            let periods = match (&r.doses, &r.until_h) {
                (Some(_), Some(u)) => {
                    return Err(self.conflict(
                        u.span(),
                        "until_h",
                        "doses",
                        "give the number of doses or the time of the last one, not both",
                    ))
                }
                (Some(n), None) => {
                    let x = *n.get_ref();
                    if x < 1 || x as u64 > MAX_DOSES {
                        return Err(self.err(
                            n.span(),
                            K::OutOfRange {
                                key: "doses".into(),
                                value: x.to_string(),
                                expected: format!("a whole number from 1 to {MAX_DOSES}"),
                            },
                        ));
                    }
                    x as u64
                }
                (None, Some(u)) => {
                    let until = self.range(
                        "until_h",
                        u,
                        |x| x >= start_h,
                        &format!("a time at or after start_h ({} h)", fmt_value(start_h)),
                    )?;
                    let n = ((until - start_h) / interval_h + 1e-9).floor() as u64 + 1;
                    if n > MAX_DOSES {
                        return Err(self.err(
                            u.span(),
                            K::OutOfRange {
                                key: "until_h".into(),
                                value: fmt_value(until),
                                expected: format!("a time giving at most {MAX_DOSES} doses"),
                            },
                        ));
                    }
                    n
                }
                (None, None) => return Err(self.err(
                    span.clone(),
                    K::Missing {
                        key: "doses".into(),
                        hint:
                            "add `doses = 28` (how many) or `until_h = 672` (time of the last dose)"
                                .into(),
                    },
                )),
            };
            Schedule::Periodic(Periodic {
                period_h: interval_h,
                first_h: start_h,
                pattern: vec![DoseEvent {
                    time_h: 0.0,
                    amount_ug: amount,
                }],
                periods: periods as u32,
            })
        } else if let Some((amount, _)) = amount {
            // A lone dose: one dose at start_h.
            for (key, present) in [
                ("doses", r.doses.as_ref().map(|d| d.span())),
                ("until_h", r.until_h.as_ref().map(|d| d.span())),
                ("days", r.days.as_ref().map(|d| d.span())),
            ] {
                if let Some(s) = present {
                    return Err(self.err(s, K::Missing { key: "interval_h".into(), hint: format!("`{key}` needs a dosing interval: add `interval_h = 24` (or `times_h` for daily clock times)") }));
                }
            }
            let start_h = match &r.start_h {
                Some(s) => {
                    self.range("start_h", s, |x| x >= 0.0, "zero or a positive time in h")?
                }
                None => 0.0,
            };
            Schedule::Explicit {
                doses: vec![DoseEvent {
                    time_h: start_h,
                    amount_ug: amount,
                }],
            }
        } else {
            return Err(self.missing_dose(span));
        };
        Ok(schedule)
    }

    fn missing_dose(&self, span: Range<usize>) -> InputError {
        self.err(span, K::Missing {
            key: "dose_ug".into(),
            hint: "give the amount per dose: `dose_ug = 180` or `dose = \"180 µg\"`, or explicit [[regimen.dose]] tables".into(),
        })
    }

    fn daily(
        &self,
        times: &Spanned<Vec<Spanned<f64>>>,
        days: Option<&Spanned<i64>>,
        amount: f64,
        span: Range<usize>,
    ) -> R<Schedule> {
        let days = days.ok_or_else(|| {
            self.err(
                span,
                K::Missing {
                    key: "days".into(),
                    hint: "add `days = 28`: for how many days the daily times repeat".into(),
                },
            )
        })?;
        let n = *days.get_ref();
        if n < 1 || (n as u64).saturating_mul(times.get_ref().len() as u64) > MAX_DOSES {
            return Err(self.err(
                days.span(),
                K::OutOfRange {
                    key: "days".into(),
                    value: n.to_string(),
                    expected: format!(
                        "a whole number of days from 1, with at most {MAX_DOSES} doses in all"
                    ),
                },
            ));
        }
        if times.get_ref().is_empty() {
            return Err(self.err(
                times.span(),
                K::OutOfRange {
                    key: "times_h".into(),
                    value: "[]".into(),
                    expected: "at least one clock time, e.g. [8, 13, 19]".into(),
                },
            ));
        }
        let mut clock = Vec::new();
        for t in times.get_ref() {
            let x = self.range(
                "times_h",
                t,
                |x| (0.0..24.0).contains(&x),
                "clock times in hours from 0 up to (not including) 24",
            )?;
            if let Some(prev) = clock.last() {
                if x <= *prev {
                    return Err(self.err(
                        t.span(),
                        K::OutOfRange {
                            key: "times_h".into(),
                            value: fmt_value(x),
                            expected: format!(
                                "clock times in increasing order, each after the previous ({})",
                                fmt_value(*prev)
                            ),
                        },
                    ));
                }
            }
            clock.push(x);
        }
        let first = clock[0];
        let pattern = clock
            .iter()
            .map(|&t| DoseEvent {
                time_h: t - first,
                amount_ug: amount,
            })
            .collect();
        Ok(Schedule::Periodic(Periodic {
            period_h: 24.0,
            first_h: first,
            pattern,
            periods: n as u32,
        }))
    }

    fn explicit(&self, list: &[Spanned<RawDose>], span: Range<usize>) -> R<Schedule> {
        if list.is_empty() {
            return Err(self.err(
                span,
                K::Missing {
                    key: "dose".into(),
                    hint: "add [[regimen.dose]] tables with `at_h` and `dose_ug`".into(),
                },
            ));
        }
        if list.len() as u64 > MAX_DOSES {
            return Err(self.err(
                span,
                K::OutOfRange {
                    key: "dose".into(),
                    value: list.len().to_string(),
                    expected: format!("at most {MAX_DOSES} doses"),
                },
            ));
        }
        let mut doses: Vec<DoseEvent> = Vec::with_capacity(list.len());
        for d in list {
            let dspan = d.span();
            let d = d.get_ref();
            let at = match (&d.at_h, &d.at) {
                (Some(a), None) => {
                    self.range("at_h", a, |x| x >= 0.0, "zero or a positive time in h")?
                }
                (None, Some(t)) => {
                    let x = units::parse_duration_h(t.get_ref()).map_err(|e| {
                        self.err(
                            t.span(),
                            K::BadQuantity {
                                key: "at".into(),
                                text: format!("\"{}\" ({e})", t.get_ref()),
                                expected: units::TIME_UNITS_HELP.into(),
                            },
                        )
                    })?;
                    self.range(
                        "at",
                        &Spanned::new(t.span(), x),
                        |x| x >= 0.0,
                        "zero or a positive time",
                    )?
                }
                (Some(_), Some(t)) => {
                    return Err(self.conflict(t.span(), "at", "at_h", "give the time once"))
                }
                (None, None) => {
                    return Err(self.err(
                        dspan,
                        K::Missing {
                            key: "at_h".into(),
                            hint: "each [[regimen.dose]] needs its time: `at_h = 0`".into(),
                        },
                    ))
                }
            };
            let (amount, _) = self
                .either(
                    &d.dose_ug,
                    &d.dose,
                    ("dose_ug", "dose"),
                    units::parse_mass_ug,
                    units::MASS_UNITS_HELP,
                    "µg",
                )?
                .ok_or_else(|| {
                    self.err(
                        dspan.clone(),
                        K::Missing {
                            key: "dose_ug".into(),
                            hint: "each [[regimen.dose]] needs its amount: `dose_ug = 180`".into(),
                        },
                    )
                })?;
            if let Some(prev) = doses.last() {
                if at <= prev.time_h {
                    let key_span = d
                        .at_h
                        .as_ref()
                        .map(|a| a.span())
                        .or(d.at.as_ref().map(|a| a.span()))
                        .unwrap_or(dspan);
                    let expected = if at == prev.time_h {
                        format!("a time after the previous dose ({} h); two doses at one time: write one dose of their sum", fmt_value(prev.time_h))
                    } else {
                        format!(
                            "doses in time order: after the previous dose at {} h",
                            fmt_value(prev.time_h)
                        )
                    };
                    return Err(self.err(
                        key_span,
                        K::OutOfRange {
                            key: "at_h".into(),
                            value: fmt_value(at),
                            expected,
                        },
                    ));
                }
            }
            doses.push(DoseEvent {
                time_h: at,
                amount_ug: amount,
            });
        }
        Ok(Schedule::Explicit { doses })
    }

    fn params(&self, c: &Compound, p: Option<&RawParams>) -> R<(PkModel, ParamSources)> {
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

/// A step giving about 1000–2000 output points, from a list of round values.
fn default_step_h(duration_h: f64) -> f64 {
    const NICE: [f64; 12] = [
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 12.0, 24.0,
    ];
    NICE.iter()
        .copied()
        .find(|s| duration_h / s <= 2000.0)
        .unwrap_or(duration_h / 2000.0)
}

fn default_label(c: &Compound, s: &Schedule) -> String {
    let short = c.name.split_whitespace().next().unwrap_or(c.id);
    match s {
        Schedule::Periodic(p) => format!(
            "{short} {} {}",
            fmt_amount(p.pattern[0].amount_ug),
            if p.pattern.len() > 1 {
                format!("× {} daily", p.pattern.len())
            } else {
                format!("every {} h", fmt_value(p.period_h))
            }
        ),
        Schedule::Explicit { doses } => format!("{short} {} dose(s)", doses.len()),
    }
}

#[cfg(test)]
mod tests;
