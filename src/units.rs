//! Quantities written as text in scenario files ("15 mg", "28 d") and the molar masses used to
//! convert ng/mL into nmol/L.
//!
//! Everything inside k2sim is held in one unit per dimension: micrograms for amounts, hours for
//! time, litres for volume, ng/mL (= µg/L) for concentration. Parsing converts at the edge.

use std::fmt;

/// Why a quantity string did not parse. Carries the offending text so the caller can locate it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// No number at the start of the text.
    #[error("`{text}` does not start with a number")]
    NoNumber { text: String },
    /// A number was found but its unit is not one we know.
    #[error("unknown unit `{unit}` in `{text}`")]
    UnknownUnit { text: String, unit: String },
    /// The text had a number but no unit; we refuse to guess.
    #[error("`{text}` has no unit")]
    MissingUnit { text: String },
}

/// A mass unit and its factor to micrograms.
const MASS_UNITS_UG: &[(&str, f64)] = &[
    ("ng", 1e-3),
    ("µg", 1.0),
    ("μg", 1.0), // Greek mu (U+03BC) as well as the micro sign (U+00B5)
    ("ug", 1.0),
    ("mcg", 1.0),
    ("mg", 1e3),
    ("g", 1e6),
];

/// A time unit and its factor to hours.
const TIME_UNITS_H: &[(&str, f64)] = &[
    ("min", 1.0 / 60.0),
    ("h", 1.0),
    ("hr", 1.0),
    ("hour", 1.0),
    ("hours", 1.0),
    ("d", 24.0),
    ("day", 24.0),
    ("days", 24.0),
    ("w", 168.0),
    ("wk", 168.0),
    ("week", 168.0),
    ("weeks", 168.0),
    ("y", 8766.0), // a Julian year, 365.25 d
    ("year", 8766.0),
    ("years", 8766.0),
];

/// The units accepted for amounts, as a sentence for error messages.
pub const MASS_UNITS_HELP: &str = "ng, µg (or ug, mcg), mg or g, e.g. \"180 µg\" or \"15 mg\"";
/// The units accepted for durations, as a sentence for error messages.
pub const TIME_UNITS_HELP: &str = "min, h, d, week(s) or year(s), e.g. \"72 h\" or \"28 d\"";

fn split_number(text: &str) -> Result<(f64, &str), UnitError> {
    let trimmed = text.trim();
    let end = trimmed
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E' | '_')))
        .map_or(trimmed.len(), |(i, _)| i);
    // "e" may begin a unit only if no digit follows; numbers such as "1e3" are rare enough in
    // doses that we accept the simple scan and let the number parse decide.
    let (num, rest) = trimmed.split_at(end);
    let value: f64 = num
        .replace('_', "")
        .parse()
        .map_err(|_| UnitError::NoNumber {
            text: text.to_string(),
        })?;
    Ok((value, rest.trim()))
}

fn parse_with(text: &str, table: &[(&str, f64)]) -> Result<f64, UnitError> {
    let (value, unit) = split_number(text)?;
    if unit.is_empty() {
        return Err(UnitError::MissingUnit {
            text: text.to_string(),
        });
    }
    factor(table, unit)
        .map(|factor| value * factor)
        .ok_or_else(|| UnitError::UnknownUnit {
            text: text.to_string(),
            unit: unit.to_string(),
        })
}

fn factor(table: &[(&str, f64)], unit: &str) -> Option<f64> {
    table
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
        .map(|(_, factor)| *factor)
}

/// The factor from mass unit `unit` (`"mg"`, case-insensitive) to micrograms, if it is one.
pub fn mass_unit_ug(unit: &str) -> Option<f64> {
    factor(MASS_UNITS_UG, unit)
}

/// The factor from time unit `unit` (`"d"`, case-insensitive) to hours, if it is one.
pub fn time_unit_h(unit: &str) -> Option<f64> {
    factor(TIME_UNITS_H, unit)
}

/// The names of the mass units, for "did you mean" suggestions.
pub fn mass_unit_names() -> impl Iterator<Item = &'static str> {
    MASS_UNITS_UG.iter().map(|(name, _)| *name)
}

/// The names of the time units, for "did you mean" suggestions.
pub fn time_unit_names() -> impl Iterator<Item = &'static str> {
    TIME_UNITS_H.iter().map(|(name, _)| *name)
}

/// Parses an amount such as `"180 µg"` or `"15 mg"` into micrograms.
pub fn parse_mass_ug(text: &str) -> Result<f64, UnitError> {
    parse_with(text, MASS_UNITS_UG)
}

/// Parses a duration such as `"28 d"` or `"72 h"` into hours.
pub fn parse_duration_h(text: &str) -> Result<f64, UnitError> {
    parse_with(text, TIME_UNITS_H)
}

/// Concentration unit for output tables and figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcUnit {
    /// ng/mL, identical to µg/L (the model's own unit).
    #[default]
    NgMl,
    /// nmol/L, through the compound's molar mass.
    NmolL,
}

impl ConcUnit {
    /// Label for axes and table headers.
    pub fn label(self) -> &'static str {
        match self {
            ConcUnit::NgMl => "ng/mL",
            ConcUnit::NmolL => "nmol/L",
        }
    }
}

impl fmt::Display for ConcUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Converts ng/mL to nmol/L: ng/mL = µg/L, divided by g/mol gives µmol/L; × 1000 gives nmol/L.
pub fn ng_ml_to_nmol_l(conc_ng_ml: f64, molar_mass_g_mol: f64) -> f64 {
    conc_ng_ml * 1000.0 / molar_mass_g_mol
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masses_convert_to_micrograms() {
        assert_eq!(parse_mass_ug("180 µg").unwrap(), 180.0);
        assert_eq!(parse_mass_ug("180µg").unwrap(), 180.0);
        assert_eq!(parse_mass_ug("180 ug").unwrap(), 180.0);
        assert_eq!(parse_mass_ug("180 mcg").unwrap(), 180.0);
        assert_eq!(parse_mass_ug("15 mg").unwrap(), 15_000.0);
        assert_eq!(parse_mass_ug("0.5 g").unwrap(), 500_000.0);
        assert_eq!(parse_mass_ug("250 ng").unwrap(), 0.25);
        assert_eq!(parse_mass_ug("180 μg").unwrap(), 180.0, "Greek mu");
    }

    #[test]
    fn durations_convert_to_hours() {
        assert_eq!(parse_duration_h("28 d").unwrap(), 672.0);
        assert_eq!(parse_duration_h("72 h").unwrap(), 72.0);
        assert_eq!(parse_duration_h("2 weeks").unwrap(), 336.0);
        assert_eq!(parse_duration_h("30 min").unwrap(), 0.5);
    }

    #[test]
    fn bad_quantities_say_what_is_wrong() {
        assert_eq!(
            parse_mass_ug("15 mgg"),
            Err(UnitError::UnknownUnit {
                text: "15 mgg".into(),
                unit: "mgg".into()
            })
        );
        assert_eq!(
            parse_mass_ug("15"),
            Err(UnitError::MissingUnit { text: "15".into() })
        );
        assert_eq!(
            parse_mass_ug("mg"),
            Err(UnitError::NoNumber { text: "mg".into() })
        );
        assert!(parse_duration_h("3 fortnights").is_err());
    }

    #[test]
    fn molar_conversion_matches_reference_table() {
        // docs/references.md (molar masses): 1 ng/mL MK-7 = 1.541 nmol/L (649.02 g/mol).
        assert!((ng_ml_to_nmol_l(1.0, 649.02) - 1.541).abs() < 5e-4);
        assert!((ng_ml_to_nmol_l(1.0, 444.66) - 2.249).abs() < 5e-4);
    }
}
