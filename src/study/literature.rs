//! The validation suite: scenarios that reproduce published human studies, each carrying the
//! quantities the study reported, with the citation and a tolerance, so that `k2sim validate`
//! can say where the model agrees with people's blood and where it does not.
//!
//! A case file is a scenario file (it runs with `k2sim run` as well) plus a `[validation]`
//! table:
//!
//! ```toml
//! [validation]
//! study = "Morishita 1981 (Eisai): menatetrenone 30 mg oral syrup"
//!
//! [[validation.check]]
//! quantity = "cmax_ng_ml"          # see [`Quantity`]
//! regimen = "MK-4 30 mg syrup"      # optional when the scenario has one regimen
//! observed = 325                    # or observed_range = [4, 14]
//! at_h = 3.7                        # optional: draw (at_h, observed) on the figure
//! tolerance_pct = 30                # or tolerance_abs (in the unit of the quantity)
//! basis = "why this tolerance"
//! source = "Eisai, Morishita 1981 (R)"
//! role = "calibration"              # or "independent": was the preset derived from it?
//! expect = "fail"                   # the committed status; a test fails if a pass turns to fail
//! ```
//!
//! Pure: parsing returns located [`InputError`]s, evaluation returns numbers; the CLI writes.

use crate::format::{fmt_value, sig};
use crate::model::SolverKind;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::engine::run::{self, RegimenResult, RunResult};
use crate::error::{suggest, InputError, InputErrorKind as K, SimError};
use crate::plot::{Figure, Series, YScale};
use crate::scenario::{self, Scenario};

/// A quantity a study reports, computed from a run the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Highest concentration of the run (ng/mL).
    CmaxNgMl,
    /// Time of that peak (h from the start of the run).
    TmaxH,
    /// AUC from 0 to the end of the run (ng·h/mL): set `duration_h` to the study's window.
    Auc0TNgHMl,
    /// AUC from 0 to infinity (ng·h/mL): AUC0–t plus the amount left in the body divided by
    /// the clearance (exact for linear elimination from the central compartment).
    Auc0InfNgHMl,
    /// Average concentration at steady state (ng/mL).
    CavgSsNgMl,
    /// Trough at steady state (ng/mL).
    CminSsNgMl,
    /// Peak at steady state (ng/mL).
    CmaxSsNgMl,
    /// The model's elimination half-life (h), ln 2 / ke.
    HalfLifeH,
    /// Apparent terminal half-life read off the simulated curve (h): least-squares slope of
    /// ln C over `window_h`, as a study would compute it from samples.
    TerminalHalfLifeH,
}

impl Quantity {
    const ALL: [(&'static str, Quantity); 9] = [
        ("cmax_ng_ml", Quantity::CmaxNgMl),
        ("tmax_h", Quantity::TmaxH),
        ("auc_0_t_ng_h_ml", Quantity::Auc0TNgHMl),
        ("auc_0_inf_ng_h_ml", Quantity::Auc0InfNgHMl),
        ("cavg_ss_ng_ml", Quantity::CavgSsNgMl),
        ("cmin_ss_ng_ml", Quantity::CminSsNgMl),
        ("cmax_ss_ng_ml", Quantity::CmaxSsNgMl),
        ("half_life_h", Quantity::HalfLifeH),
        ("terminal_half_life_h", Quantity::TerminalHalfLifeH),
    ];

    /// Name as written in case files and tables.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, q)| *q == self)
            .map_or("?", |(n, _)| n)
    }

    /// Whether the quantity is a concentration (an observed point can be drawn).
    pub fn is_concentration(self) -> bool {
        matches!(
            self,
            Quantity::CmaxNgMl | Quantity::CavgSsNgMl | Quantity::CminSsNgMl | Quantity::CmaxSsNgMl
        )
    }
}

/// How close the prediction must be.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Tolerance {
    /// Within ± this % of the observed value.
    Relative { pct: f64 },
    /// Within ± this amount (unit of the quantity) of the observed value.
    Absolute { value: f64 },
    /// Inside the observed range (the study reports a range, not a mean).
    Range { lo: f64, hi: f64 },
}

/// Was the preset derived from this observation (so agreement is by construction), or is the
/// check independent of the calibration?
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A preset parameter was derived from this number: the check guards the derivation.
    Calibration,
    /// Not used to set any parameter: a real test of the model.
    Independent,
}

/// One observed quantity with its tolerance and citation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    pub quantity: Quantity,
    /// Regimen label the quantity is read from.
    pub regimen: String,
    /// When set, the quantity is a ratio: regimen ÷ this regimen.
    pub relative_to: Option<String>,
    /// Observed value (midpoint of the range for a range).
    pub observed: f64,
    pub tolerance: Tolerance,
    /// Time of the observed point (h), to draw it on the figure.
    pub at_h: Option<f64>,
    /// Window of the terminal slope (h), for `terminal_half_life_h`.
    pub window_h: Option<(f64, f64)>,
    /// Why the tolerance is what it is.
    pub basis: String,
    /// Citation with its evidence tag (R/S/D).
    pub source: String,
    pub role: Role,
    /// Committed status: true when the case is expected to pass.
    pub expect_pass: bool,
}

impl Check {
    /// "cmax_ng_ml" or "cavg_ss_ng_ml ratio A ÷ B".
    pub fn describe(&self) -> String {
        match &self.relative_to {
            Some(b) => format!("{} ratio {} ÷ {}", self.quantity.name(), self.regimen, b),
            None => format!("{} ({})", self.quantity.name(), self.regimen),
        }
    }

    /// Observed value as written in tables.
    pub fn observed_text(&self) -> String {
        match self.tolerance {
            Tolerance::Range { lo, hi } => format!("{}–{}", fmt_value(lo), fmt_value(hi)),
            _ => fmt_value(self.observed),
        }
    }

    /// Tolerance as written in tables.
    pub fn tolerance_text(&self) -> String {
        match self.tolerance {
            Tolerance::Relative { pct } => format!("±{} %", fmt_value(pct)),
            Tolerance::Absolute { value } => format!("±{}", fmt_value(value)),
            Tolerance::Range { .. } => "within range".into(),
        }
    }

    /// Whether `predicted` is within the tolerance.
    pub fn passes(&self, predicted: f64) -> bool {
        if !predicted.is_finite() {
            return false;
        }
        match self.tolerance {
            Tolerance::Relative { pct } => {
                (predicted - self.observed).abs() <= pct / 100.0 * self.observed.abs()
            }
            Tolerance::Absolute { value } => (predicted - self.observed).abs() <= value,
            Tolerance::Range { lo, hi } => (lo..=hi).contains(&predicted),
        }
    }
}

/// A validation case: the scenario and its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// File stem, e.g. `morishita1981_mk4_syrup`.
    pub id: String,
    /// The study, as cited.
    pub study: String,
    pub scenario: Scenario,
    pub checks: Vec<Check>,
}

#[derive(Debug, Deserialize)]
struct RawFile {
    validation: Option<Spanned<RawValidation>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValidation {
    study: Option<Spanned<String>>,
    check: Option<Vec<Spanned<RawCheck>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    quantity: Option<Spanned<String>>,
    regimen: Option<Spanned<String>>,
    relative_to: Option<Spanned<String>>,
    observed: Option<Spanned<f64>>,
    observed_range: Option<Spanned<Vec<f64>>>,
    at_h: Option<Spanned<f64>>,
    window_h: Option<Spanned<Vec<f64>>>,
    tolerance_pct: Option<Spanned<f64>>,
    tolerance_abs: Option<Spanned<f64>>,
    basis: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
}

/// Reads a case file. Errors carry the path.
pub fn load_case(path: &Path) -> Result<Case, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::io(path, format!("cannot read the validation case: {e}")))?;
    let id = path
        .file_stem()
        .map_or("case".into(), |s| s.to_string_lossy().into_owned());
    let mut case = parse_case(&text, &id).map_err(|e| e.in_file(path))?;
    scenario::attach_observed_csv(&mut case.scenario, path.parent().unwrap_or(Path::new(".")))?;
    case.scenario.source = Some(path.to_path_buf());
    Ok(case)
}

/// Parses a case from text: the scenario, then its `[validation]` table.
pub fn parse_case(text: &str, id: &str) -> Result<Case, InputError> {
    let scenario = scenario::parse_str(text, id)?;
    let raw: RawFile = toml::from_str(text).map_err(|e| scenario::from_toml_error(text, &e))?;
    let err = |span: Range<usize>, kind: K| InputError::at(text, Some(span), kind);
    let Some(v) = raw.validation else {
        return Err(err(
            0..0,
            K::Missing {
                key: "validation".into(),
                hint: "a validation case needs a [validation] table with [[validation.check]] entries; see validation/morishita1981_mk4_syrup.toml".into(),
            },
        ));
    };
    let vspan = v.span();
    let v = v.into_inner();
    let study = v.study.map(|s| s.into_inner()).ok_or_else(|| {
        err(
            vspan.clone(),
            K::Missing {
                key: "validation.study".into(),
                hint: "name the study: `study = \"Schurgers et al. 2007, Blood 109:3279\"`".into(),
            },
        )
    })?;
    let raw_checks = v.check.unwrap_or_default();
    if raw_checks.is_empty() {
        return Err(err(
            vspan,
            K::Missing {
                key: "validation.check".into(),
                hint: "add at least one [[validation.check]] with `quantity` and `observed`".into(),
            },
        ));
    }
    let labels: Vec<&str> = scenario.regimens.iter().map(|r| r.label.as_str()).collect();
    let mut checks = Vec::new();
    for c in raw_checks {
        checks.push(check(text, &labels, c)?);
    }
    Ok(Case {
        id: id.to_string(),
        study,
        scenario,
        checks,
    })
}

fn check(text: &str, labels: &[&str], c: Spanned<RawCheck>) -> Result<Check, InputError> {
    let span = c.span();
    let c = c.into_inner();
    let err = |span: Range<usize>, kind: K| InputError::at(text, Some(span), kind);
    let missing = |key: &str, hint: &str| {
        err(
            span.clone(),
            K::Missing {
                key: key.into(),
                hint: hint.into(),
            },
        )
    };
    let out_of_range = |s: Range<usize>, key: &str, value: String, expected: &str| {
        err(
            s,
            K::OutOfRange {
                key: key.into(),
                value,
                expected: expected.into(),
            },
        )
    };
    let q = c.quantity.ok_or_else(|| {
        missing(
            "quantity",
            "add `quantity = \"cmax_ng_ml\"` (or tmax_h, auc_0_t_ng_h_ml, ...)",
        )
    })?;
    let names: Vec<&str> = Quantity::ALL.iter().map(|(n, _)| *n).collect();
    let quantity = Quantity::ALL
        .iter()
        .find(|(n, _)| *n == q.get_ref())
        .map(|(_, q)| *q)
        .ok_or_else(|| {
            err(
                q.span(),
                K::UnknownName {
                    key: "quantity".into(),
                    name: q.get_ref().clone(),
                    suggestion: suggest(q.get_ref(), names.iter().copied()),
                    known: names.iter().map(|s| s.to_string()).collect(),
                },
            )
        })?;
    let label = |s: &Spanned<String>, key: &str| -> Result<String, InputError> {
        if labels.contains(&s.get_ref().as_str()) {
            Ok(s.get_ref().clone())
        } else {
            Err(err(
                s.span(),
                K::UnknownName {
                    key: key.into(),
                    name: s.get_ref().clone(),
                    suggestion: suggest(s.get_ref(), labels.iter().copied()),
                    known: labels.iter().map(|s| s.to_string()).collect(),
                },
            ))
        }
    };
    let regimen = match &c.regimen {
        Some(r) => label(r, "regimen")?,
        None if labels.len() == 1 => labels[0].to_string(),
        None => {
            return Err(missing(
                "regimen",
                &format!(
                    "the scenario has several regimens: name one, e.g. `regimen = \"{}\"`",
                    labels[0]
                ),
            ))
        }
    };
    let relative_to = c
        .relative_to
        .as_ref()
        .map(|r| label(r, "relative_to"))
        .transpose()?;
    let positive_range = |v: &Spanned<Vec<f64>>, key: &str| -> Result<(f64, f64), InputError> {
        match v.get_ref().as_slice() {
            &[lo, hi] if lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo < hi => Ok((lo, hi)),
            other => Err(out_of_range(
                v.span(),
                key,
                format!("{other:?}"),
                "two numbers [low, high] with 0 ≤ low < high",
            )),
        }
    };
    let (observed, range) = match (&c.observed, &c.observed_range) {
        (Some(o), None) => {
            let x = *o.get_ref();
            if !(x.is_finite() && x > 0.0) {
                return Err(out_of_range(
                    o.span(),
                    "observed",
                    fmt_value(x),
                    "a positive observed value",
                ));
            }
            (x, None)
        }
        (None, Some(r)) => {
            let (lo, hi) = positive_range(r, "observed_range")?;
            (0.5 * (lo + hi), Some((lo, hi)))
        }
        (Some(_), Some(r)) => {
            return Err(err(
                r.span(),
                K::Conflict {
                    key: "observed_range".into(),
                    other: "observed".into(),
                    hint: "give a value with a tolerance, or the range the study reports".into(),
                },
            ))
        }
        (None, None) => {
            return Err(missing(
                "observed",
                "add `observed = 325` (the study's value) or `observed_range = [4, 14]`",
            ))
        }
    };
    let tolerance = match (range, &c.tolerance_pct, &c.tolerance_abs) {
        (Some((lo, hi)), None, None) => Tolerance::Range { lo, hi },
        (None, Some(p), None) => {
            let x = *p.get_ref();
            if !(x.is_finite() && x > 0.0 && x < 1000.0) {
                return Err(out_of_range(
                    p.span(),
                    "tolerance_pct",
                    fmt_value(x),
                    "a positive percentage of the observed value",
                ));
            }
            Tolerance::Relative { pct: x }
        }
        (None, None, Some(a)) => {
            let x = *a.get_ref();
            if !(x.is_finite() && x > 0.0) {
                return Err(out_of_range(
                    a.span(),
                    "tolerance_abs",
                    fmt_value(x),
                    "a positive amount in the unit of the quantity",
                ));
            }
            Tolerance::Absolute { value: x }
        }
        (None, None, None) => {
            return Err(missing(
                "tolerance_pct",
                "add `tolerance_pct = 30` or `tolerance_abs = 1.5`, and say why in `basis`",
            ))
        }
        _ => {
            let s = c
                .tolerance_abs
                .as_ref()
                .or(c.tolerance_pct.as_ref())
                .map_or(span.clone(), |s| s.span());
            return Err(err(
                s,
                K::Conflict {
                    key: "tolerance_abs".into(),
                    other: "tolerance_pct / observed_range".into(),
                    hint: "give one tolerance: a percentage, an amount, or the observed range"
                        .into(),
                },
            ));
        }
    };
    let at_h = match &c.at_h {
        Some(a) if !(a.get_ref().is_finite() && *a.get_ref() >= 0.0) => {
            return Err(out_of_range(
                a.span(),
                "at_h",
                fmt_value(*a.get_ref()),
                "zero or a positive time in h",
            ))
        }
        Some(a) => Some(*a.get_ref()),
        None => None,
    };
    let window_h = c
        .window_h
        .as_ref()
        .map(|w| positive_range(w, "window_h"))
        .transpose()?;
    if quantity == Quantity::TerminalHalfLifeH && window_h.is_none() {
        return Err(missing(
            "window_h",
            "terminal_half_life_h needs the sampling window: `window_h = [8, 24]`",
        ));
    }
    let text_of = |s: &Option<Spanned<String>>, key: &str, hint: &str| {
        s.as_ref()
            .map(|s| s.get_ref().trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing(key, hint))
    };
    let basis = text_of(
        &c.basis,
        "basis",
        "say why the tolerance is what it is: `basis = \"study SD ±25 %\"`",
    )?;
    let source = text_of(
        &c.source,
        "source",
        "cite the study with its tag: `source = \"Schurgers et al. 2007 (R)\"`",
    )?;
    let choice = |s: &Option<Spanned<String>>, key: &str, known: [&str; 2]| {
        let s = s.as_ref().ok_or_else(|| {
            missing(
                key,
                &format!("add `{key} = \"{}\"` or \"{}\"", known[0], known[1]),
            )
        })?;
        if known.contains(&s.get_ref().as_str()) {
            Ok(s.get_ref().as_str() == known[0])
        } else {
            Err(err(
                s.span(),
                K::UnknownName {
                    key: key.into(),
                    name: s.get_ref().clone(),
                    suggestion: suggest(s.get_ref(), known),
                    known: known.iter().map(|s| s.to_string()).collect(),
                },
            ))
        }
    };
    let role = if choice(&c.role, "role", ["calibration", "independent"])? {
        Role::Calibration
    } else {
        Role::Independent
    };
    let expect_pass = choice(&c.expect, "expect", ["pass", "fail"])?;
    Ok(Check {
        quantity,
        regimen,
        relative_to,
        observed,
        tolerance,
        at_h,
        window_h,
        basis,
        source,
        role,
        expect_pass,
    })
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outcome {
    pub case: String,
    pub check: Check,
    pub predicted: f64,
    pub pass: bool,
}

impl Outcome {
    /// A check that passed before (committed as `expect = "pass"`) and fails now.
    pub fn is_regression(&self) -> bool {
        self.check.expect_pass && !self.pass
    }
}

/// A case run: its simulation and the outcome of each check.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    pub case: Case,
    pub run: RunResult,
    pub outcomes: Vec<Outcome>,
}

/// Runs a case and evaluates its checks.
pub fn evaluate(case: &Case, solver: SolverKind) -> Result<CaseResult, SimError> {
    let run = run::run(&case.scenario, solver)?;
    let find = |label: &str| run.regimens.iter().find(|r| r.regimen.label == label);
    let mut outcomes = Vec::new();
    for c in &case.checks {
        let value = |label: &str| find(label).map_or(f64::NAN, |r| quantity_of(r, c));
        let mut predicted = value(&c.regimen);
        if let Some(b) = &c.relative_to {
            predicted /= value(b);
        }
        outcomes.push(Outcome {
            case: case.id.clone(),
            check: c.clone(),
            predicted,
            pass: c.passes(predicted),
        });
    }
    Ok(CaseResult {
        case: case.clone(),
        run,
        outcomes,
    })
}

/// The value of the check's quantity in one regimen's result (NaN when undefined, e.g. a
/// steady-state quantity of a schedule without one).
fn quantity_of(r: &RegimenResult, c: &Check) -> f64 {
    let m = &r.metrics;
    let model = &r.regimen.model;
    let nan = f64::NAN;
    match c.quantity {
        Quantity::CmaxNgMl => m.cmax_ng_ml,
        Quantity::TmaxH => m.tmax_h,
        Quantity::Auc0TNgHMl => m.auc_0_t_ng_h_ml,
        Quantity::Auc0InfNgHMl => {
            // Every amount still in the body (gut, central, peripheral) leaves through CL.
            let left = r.trajectory.end_state.total_ug();
            m.auc_0_t_ng_h_ml + left / (model.ke_per_h * model.v_l)
        }
        Quantity::CavgSsNgMl => m.cavg_ss_ng_ml.unwrap_or(nan),
        Quantity::CminSsNgMl => m.cmin_ss_ng_ml.unwrap_or(nan),
        Quantity::CmaxSsNgMl => m.cmax_ss_ng_ml.unwrap_or(nan),
        Quantity::HalfLifeH => model.half_life_h(),
        Quantity::TerminalHalfLifeH => {
            let (a, b) = c.window_h.unwrap_or((0.0, 0.0));
            terminal_half_life_h(
                &r.trajectory.time_h,
                &r.trajectory.conc_ng_ml,
                model.baseline_ng_ml,
                a,
                b,
            )
        }
    }
}

/// Half-life from the least-squares slope of ln(C − baseline) against time over `[from_h,
/// to_h]`, as computed from a study's samples. NaN with fewer than two usable points or a
/// slope that is not falling.
pub fn terminal_half_life_h(
    time_h: &[f64],
    conc_ng_ml: &[f64],
    baseline_ng_ml: f64,
    from_h: f64,
    to_h: f64,
) -> f64 {
    let pts: Vec<(f64, f64)> = time_h
        .iter()
        .zip(conc_ng_ml)
        .filter(|(t, c)| **t >= from_h && **t <= to_h && **c - baseline_ng_ml > 0.0)
        .map(|(t, c)| (*t, (c - baseline_ng_ml).ln()))
        .collect();
    if pts.len() < 2 {
        return f64::NAN;
    }
    let n = pts.len() as f64;
    let mt = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mt) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mt).powi(2)).sum();
    let slope = sxy / sxx;
    if slope < 0.0 {
        std::f64::consts::LN_2 / -slope
    } else {
        f64::NAN
    }
}

const HEADER: [&str; 9] = [
    "case",
    "quantity",
    "observed",
    "predicted",
    "tolerance",
    "result",
    "role",
    "expected",
    "source",
];

fn row(o: &Outcome) -> [String; 9] {
    [
        o.case.clone(),
        o.check.describe(),
        o.check.observed_text(),
        sig(o.predicted),
        o.check.tolerance_text(),
        if o.pass { "pass" } else { "FAIL" }.into(),
        match o.check.role {
            Role::Calibration => "calibration",
            Role::Independent => "independent",
        }
        .into(),
        if o.check.expect_pass { "pass" } else { "fail" }.into(),
        o.check.source.clone(),
    ]
}

/// The outcomes as a Markdown table, followed by each check's tolerance basis.
pub fn markdown(outcomes: &[Outcome]) -> String {
    let mut s = format!("| {} |\n", HEADER.join(" | "));
    s.push_str("|---|---|---:|---:|---|---|---|---|---|\n");
    for o in outcomes {
        let _ = writeln!(s, "| {} |", row(o).join(" | "));
    }
    s.push_str("\nTolerances:\n\n");
    for o in outcomes {
        let _ = writeln!(
            s,
            "- {} · {}: {}",
            o.case,
            o.check.describe(),
            o.check.basis
        );
    }
    s
}

/// The outcomes as CSV: one row per check, with the tolerance basis.
pub fn csv(outcomes: &[Outcome]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = HEADER.to_vec();
    header.push("basis");
    w.write_record(&header)?;
    for o in outcomes {
        let mut r: Vec<String> = row(o).to_vec();
        r[3] = if o.predicted.is_finite() {
            format!("{}", o.predicted)
        } else {
            String::new()
        };
        r.push(o.check.basis.clone());
        w.write_record(&r)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The outcomes as an aligned text table for the terminal.
pub fn text_table(outcomes: &[Outcome]) -> String {
    let cols = 6;
    let rows: Vec<Vec<String>> =
        std::iter::once(HEADER[..cols].iter().map(|s| s.to_string()).collect())
            .chain(outcomes.iter().map(|o| row(o)[..cols].to_vec()))
            .collect();
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        let _ = writeln!(s, "{}", line.join("  ").trim_end());
    }
    s
}

/// The predicted curves of a case with the observed points the study gives (a check with
/// `at_h` and a concentration), or `None` when it gives none.
pub fn figure(result: &CaseResult) -> Option<Figure> {
    let series: Vec<Series> = result
        .run
        .regimens
        .iter()
        .map(|r| Series {
            label: r.regimen.label.clone(),
            points: r
                .trajectory
                .time_h
                .iter()
                .copied()
                .zip(r.trajectory.conc_ng_ml.iter().copied())
                .collect(),
        })
        .collect();
    let observed: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            result
                .outcomes
                .iter()
                .filter(|o| o.check.regimen == s.label && o.check.relative_to.is_none())
                .filter(|o| o.check.quantity.is_concentration())
                .filter_map(|o| o.check.at_h.map(|t| (t, o.check.observed)))
                .chain(
                    result
                        .case
                        .scenario
                        .observed
                        .iter()
                        .filter(|o| o.regimen == s.label)
                        .map(|o| (o.time_h, o.conc_ng_ml)),
                )
                .collect()
        })
        .collect();
    if observed.iter().all(Vec::is_empty) {
        return None;
    }
    Some(Figure {
        title: result.case.scenario.name.clone(),
        subtitle: Some(format!(
            "lines: model ({} solver) · circles: observed, {}",
            result.run.solver.name(),
            result.case.study
        )),
        y_label: "Serum concentration (ng/mL)".into(),
        series,
        y_scale: YScale::Linear,
        observed,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = r#"
name = "one dose"
duration_h = 48
[[regimen]]
label = "A"
compound = "mk4"
dose = "30 mg"

[validation]
study = "test"
[[validation.check]]
quantity = "auc_0_inf_ng_h_ml"
observed = 1463
tolerance_pct = 1
basis = "the preset is derived from it"
source = "Morishita 1981 (R)"
role = "calibration"
expect = "pass"
"#;

    #[test]
    fn auc_to_infinity_recovers_the_calibration() {
        let case = parse_case(CASE, "t").unwrap();
        let r = evaluate(&case, SolverKind::Exact).unwrap();
        assert!((r.outcomes[0].predicted - 1463.0).abs() < 1e-6);
        assert!(r.outcomes[0].pass);
    }

    #[test]
    fn terminal_half_life_of_an_exponential() {
        let t: Vec<f64> = (0..50).map(f64::from).collect();
        let c: Vec<f64> = t.iter().map(|t| 3.0 + 10.0 * (-0.1 * t).exp()).collect();
        let h = terminal_half_life_h(&t, &c, 3.0, 10.0, 40.0);
        assert!((h - std::f64::consts::LN_2 / 0.1).abs() < 1e-9);
    }

    #[test]
    fn bad_keys_are_located() {
        let bad = CASE.replace(
            "quantity = \"auc_0_inf_ng_h_ml\"",
            "quantity = \"cmax_ngml\"",
        );
        let e = parse_case(&bad, "t").unwrap_err().to_string();
        assert!(e.starts_with("<scenario>:12:12:"), "{e}");
        assert!(e.contains("did you mean \"cmax_ng_ml\""), "{e}");
        let bad = CASE.replace("expect = \"pass\"", "expect = \"passes\"");
        let e = parse_case(&bad, "t").unwrap_err().to_string();
        assert!(e.contains("key `expect`") && e.contains("\"pass\""), "{e}");
        let bad = CASE.replace("tolerance_pct = 1", "tolerance_pc = 1");
        let e = parse_case(&bad, "t").unwrap_err().to_string();
        assert!(e.contains("tolerance_pct"), "{e}");
    }
}
