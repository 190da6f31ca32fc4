//! Validation cases: a scenario file plus a `[validation]` table naming the quantities a
//! published study reported, with the citation and a tolerance. Parsing lives here with the
//! scenario parser; `study::literature` evaluates a case, `report::validation` presents it.
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
//!                                   # (required by conc_at_h_ng_ml: the sampling time)
//! tolerance_pct = 30                # or tolerance_abs (in the unit of the quantity)
//! basis = "why this tolerance"
//! source = "Eisai, Morishita 1981 (R)"
//! role = "calibration"              # or "independent": was the preset derived from it?
//! expect = "fail"                   # the committed status; a test fails if a pass turns to fail
//! ```
//!
//! Pure: parsing returns located [`InputError`]s, evaluation returns numbers; the CLI writes.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{suggest, InputError, InputErrorKind as K};
use crate::format::fmt_value;
use crate::metric::Metric;

use super::Scenario;

/// A quantity a study reports, computed from a run the same way: a metric of the run (from the
/// [`Metric`] registry), or one of the quantities only validation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A metric of the run: Cmax, Tmax, AUC0–t (set `duration_h` to the study's window), or
    /// Cavg, Cmin, Cmax at steady state.
    Metric(Metric),
    /// AUC from 0 to infinity (ng·h/mL): AUC0–t plus the amount left in the body divided by
    /// the clearance (exact for linear elimination from the central compartment).
    Auc0InfNgHMl,
    /// The model's elimination half-life (h), ln 2 / ke.
    HalfLifeH,
    /// Apparent terminal half-life read off the simulated curve (h): least-squares slope of
    /// ln C over `window_h`, as a study would compute it from samples.
    TerminalHalfLifeH,
    /// Concentration at `at_h` (ng/mL), as a study's sample at that time: the output grid's
    /// value at a grid time (put `at_h` on the grid, a multiple of `step_h`), linear between
    /// the two neighbouring grid times otherwise. A sample at a dose time is the level just
    /// before the dose, as on every output grid.
    ConcAtHNgMl,
    /// Change of a carboxylation marker from its baseline at `at_h` (%; negative is a fall), as
    /// a trial reports it at a visit: needs the scenario's `[response]` with that marker.
    ResponsePctChangeAtH(crate::response::Marker),
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Quantity {
    /// The quantities a case can check, in the order of error messages.
    const ALL: [Quantity; 12] = [
        Quantity::Metric(Metric::CmaxNgMl),
        Quantity::Metric(Metric::TmaxH),
        Quantity::Metric(Metric::Auc0TNgHMl),
        Quantity::Auc0InfNgHMl,
        Quantity::Metric(Metric::CavgSsNgMl),
        Quantity::Metric(Metric::CminSsNgMl),
        Quantity::Metric(Metric::CmaxSsNgMl),
        Quantity::HalfLifeH,
        Quantity::TerminalHalfLifeH,
        Quantity::ConcAtHNgMl,
        Quantity::ResponsePctChangeAtH(crate::response::Marker::DpUcmgp),
        Quantity::ResponsePctChangeAtH(crate::response::Marker::Ucoc),
    ];

    /// Name as written in case files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Metric(m) => m.key(),
            Quantity::Auc0InfNgHMl => "auc_0_inf_ng_h_ml",
            Quantity::HalfLifeH => "half_life_h",
            Quantity::TerminalHalfLifeH => "terminal_half_life_h",
            Quantity::ConcAtHNgMl => "conc_at_h_ng_ml",
            Quantity::ResponsePctChangeAtH(crate::response::Marker::DpUcmgp) => {
                "dp_ucmgp_pct_change_at_h"
            }
            Quantity::ResponsePctChangeAtH(crate::response::Marker::Ucoc) => "ucoc_pct_change_at_h",
        }
    }

    /// Whether the quantity is a concentration (an observed point can be drawn).
    pub fn is_concentration(self) -> bool {
        matches!(self, Quantity::Metric(m) if m.label().1 == "ng/mL")
            || self == Quantity::ConcAtHNgMl
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

/// Reads a case file; its `observed_csv` is read where `reach` allows. Errors carry the path.
pub fn load_case(path: &Path, reach: super::Reach) -> Result<Case, InputError> {
    let text = super::read_regular(path, super::MAX_SCENARIO_BYTES, "validation case")
        .and_then(|b| {
            String::from_utf8(b)
                .map_err(|_| "the validation case is not UTF-8 text; save it as UTF-8".into())
        })
        .map_err(|e| InputError::io(path, e))?;
    let id = path
        .file_stem()
        .map_or("case".into(), |s| s.to_string_lossy().into_owned());
    let mut case = parse_case(&text, &id).map_err(|e| e.in_file(path))?;
    super::attach_observed_csv(
        &mut case.scenario,
        path.parent().unwrap_or(Path::new(".")),
        Some((&text, path)),
        reach,
    )?;
    case.scenario.source = Some(path.to_path_buf());
    Ok(case)
}

/// The validation cases of `validation/`, compiled into the binary so that `k2sim validate`
/// works from any directory: (file name, text), sorted by name. A test checks that this list
/// and the directory agree.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "aoun2017_hd_dp_ucmgp.toml",
        include_str!("../../validation/aoun2017_hd_dp_ucmgp.toml"),
    ),
    (
        "caluwe2014_hd_thrice_weekly.toml",
        include_str!("../../validation/caluwe2014_hd_thrice_weekly.toml"),
    ),
    (
        "dalmeijer2012_mk7_markers.toml",
        include_str!("../../validation/dalmeijer2012_mk7_markers.toml"),
    ),
    (
        "garber1999_k1_tablet.toml",
        include_str!("../../validation/garber1999_k1_tablet.toml"),
    ),
    (
        "ishii1995_mk4_fasting.toml",
        include_str!("../../validation/ishii1995_mk4_fasting.toml"),
    ),
    (
        "jiang2014_mk4_ucoc.toml",
        include_str!("../../validation/jiang2014_mk4_ucoc.toml"),
    ),
    (
        "kaytwo_mk4_iv.toml",
        include_str!("../../validation/kaytwo_mk4_iv.toml"),
    ),
    (
        "kaytwo_mk4_iv_levels.toml",
        include_str!("../../validation/kaytwo_mk4_iv_levels.toml"),
    ),
    (
        "knapen2013_2015_mk7_3y.toml",
        include_str!("../../validation/knapen2013_2015_mk7_3y.toml"),
    ),
    (
        "knapen2014_mk7_tablet.toml",
        include_str!("../../validation/knapen2014_mk7_tablet.toml"),
    ),
    (
        "konakion_k1_half_life.toml",
        include_str!("../../validation/konakion_k1_half_life.toml"),
    ),
    (
        "morishita1981_mk4_syrup.toml",
        include_str!("../../validation/morishita1981_mk4_syrup.toml"),
    ),
    (
        "natto_eaters_mk7.toml",
        include_str!("../../validation/natto_eaters_mk7.toml"),
    ),
    (
        "novotny2010_k1_kale.toml",
        include_str!("../../validation/novotny2010_k1_kale.toml"),
    ),
    (
        "ronn2016_mk7_ucoc.toml",
        include_str!("../../validation/ronn2016_mk7_ucoc.toml"),
    ),
    (
        "sato2012_mk4_mk7_nutritional.toml",
        include_str!("../../validation/sato2012_mk4_mk7_nutritional.toml"),
    ),
    (
        "schurgers2000_food_matrix.toml",
        include_str!("../../validation/schurgers2000_food_matrix.toml"),
    ),
    (
        "schurgers2007_mk7_plateau.toml",
        include_str!("../../validation/schurgers2007_mk7_plateau.toml"),
    ),
    (
        "schurgers2007_mk7_vs_k1.toml",
        include_str!("../../validation/schurgers2007_mk7_vs_k1.toml"),
    ),
    (
        "uematsu1996_mk4_meal_fat.toml",
        include_str!("../../validation/uematsu1996_mk4_meal_fat.toml"),
    ),
    (
        "westenfeld2012_hd_dp_ucmgp.toml",
        include_str!("../../validation/westenfeld2012_hd_dp_ucmgp.toml"),
    ),
];

/// The bundled cases, parsed; each names `validation/<file>` as its source. Bundled cases
/// cannot name an `observed_csv` file (there is no directory to read it from).
pub fn bundled_cases() -> Result<Vec<Case>, InputError> {
    BUNDLED
        .iter()
        .map(|(name, text)| {
            let path = Path::new("validation").join(name);
            let id = name.trim_end_matches(".toml");
            let mut case = parse_case(text, id).map_err(|e| e.in_file(&path))?;
            case.scenario.source = Some(path);
            Ok(case)
        })
        .collect()
}

/// Parses a case from text: the scenario, then its `[validation]` table.
pub fn parse_case(text: &str, id: &str) -> Result<Case, InputError> {
    let scenario = super::parse_str(text, id)?;
    let raw: RawFile = toml::from_str(text).map_err(|e| super::from_toml_error(text, &e))?;
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
    let names: Vec<&str> = Quantity::ALL.iter().map(|q| q.name()).collect();
    let quantity = Quantity::ALL
        .iter()
        .find(|x| x.name() == q.get_ref())
        .copied()
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
    // A marker's change from baseline is signed (a fall is negative); every other quantity is
    // a level, a time or a ratio, and positive.
    let signed = matches!(quantity, Quantity::ResponsePctChangeAtH(_));
    let positive_range = |v: &Spanned<Vec<f64>>, key: &str| -> Result<(f64, f64), InputError> {
        match v.get_ref().as_slice() {
            &[lo, hi] if lo.is_finite() && hi.is_finite() && (signed || lo >= 0.0) && lo < hi => {
                Ok((lo, hi))
            }
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
            if !(x.is_finite() && (x > 0.0 || signed)) {
                return Err(out_of_range(
                    o.span(),
                    "observed",
                    fmt_value(x),
                    "a positive observed value (a marker's change from baseline may be negative)",
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
    if matches!(quantity, Quantity::ResponsePctChangeAtH(_)) && at_h.is_none() {
        return Err(missing(
            "at_h",
            "a marker's change needs the visit time: `at_h = 2016` (12 weeks)",
        ));
    }
    if quantity == Quantity::ConcAtHNgMl && at_h.is_none() {
        return Err(missing(
            "at_h",
            "conc_at_h_ng_ml needs the sampling time: `at_h = 48`",
        ));
    }
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
