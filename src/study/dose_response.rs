//! The dose–response of the carboxylation markers: for each marker of the scenario's
//! `[response]` and each compound its regimens use, the change at steady state under one daily
//! dose, over a log-spaced grid of doses. Each point is a run of the engine (two daily doses;
//! the steady state comes from the periodic fixed point, not from the run's length), so every
//! curve is computed, never drawn by hand.

use rayon::prelude::*;

use crate::dosing::{DoseEvent, Periodic, Schedule};
use crate::engine::run::run;
use crate::error::SimError;
use crate::model::SolverKind;
use crate::response::Marker;
use crate::scenario::Scenario;

/// Doses per curve.
pub const DOSES_PER_CURVE: usize = 25;

/// One curve: a marker's steady-state change against the daily dose of one compound.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DoseResponseCurve {
    pub marker: Marker,
    /// Compound preset id.
    pub compound: &'static str,
    /// `(dose_ug_per_day, pct_change_ss)`, doses ascending.
    pub points: Vec<(f64, f64)>,
}

/// The daily-dose span of a compound's curve (µg/day): supplements to pharmacological doses.
fn span(compound: &str) -> (f64, f64) {
    match compound {
        "mk4" => (100.0, 100_000.0),
        _ => (10.0, 3000.0),
    }
}

/// The curves of `s` (none without `[response]`), with `solver`. A compound's curve starts from
/// its first regimen in the scenario, so its parameters (overrides, formulation) are kept; only
/// the schedule is replaced by one oral dose a day.
pub fn dose_response(s: &Scenario, solver: SolverKind) -> Result<Vec<DoseResponseCurve>, SimError> {
    let Some(spec) = &s.response else {
        return Ok(Vec::new());
    };
    let mut templates = Vec::new();
    for r in &s.regimens {
        if !templates
            .iter()
            .any(|t: &&crate::scenario::Regimen| t.compound.id == r.compound.id)
        {
            templates.push(r);
        }
    }
    let jobs: Vec<(usize, f64)> = templates
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            let (lo, hi) = span(t.compound.id);
            (0..DOSES_PER_CURVE).map(move |k| {
                let f = k as f64 / (DOSES_PER_CURVE - 1) as f64;
                (i, lo * (hi / lo).powf(f))
            })
        })
        .collect();
    let results: Vec<Vec<(Marker, Option<f64>)>> = jobs
        .par_iter()
        .map(|&(i, dose)| {
            let mut reg = templates[i].clone();
            reg.label = format!("{} µg/day", dose);
            reg.at_steady_state = false;
            reg.food = None;
            reg.schedule = Schedule::Periodic(Periodic {
                period_h: 24.0,
                first_h: 0.0,
                pattern: vec![DoseEvent::oral(0.0, dose)],
                periods: 2,
            });
            let one = Scenario {
                regimens: vec![reg],
                duration_h: 48.0,
                step_h: 1.0,
                population: None,
                sweep: None,
                uncertainty: None,
                observed: Vec::new(),
                ..s.clone()
            };
            let r = run(&one, solver)?;
            Ok(r.regimens[0]
                .response
                .iter()
                .map(|c| (c.marker, c.pct_change_ss))
                .collect())
        })
        .collect::<Result<_, SimError>>()?;
    let mut curves = Vec::new();
    for p in &spec.presets {
        for (i, t) in templates.iter().enumerate() {
            let points: Vec<(f64, f64)> = jobs
                .iter()
                .zip(&results)
                .filter(|((j, _), _)| *j == i)
                .filter_map(|((_, dose), res)| {
                    res.iter()
                        .find(|(m, _)| *m == p.marker)
                        .and_then(|(_, v)| v.map(|v| (*dose, v)))
                })
                .collect();
            if !points.is_empty() {
                curves.push(DoseResponseCurve {
                    marker: p.marker,
                    compound: t.compound.id,
                    points,
                });
            }
        }
    }
    Ok(curves)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_fall_with_the_dose_and_pass_through_the_calibration() {
        let s = crate::scenario::parse_str(
            "duration = \"1 week\"\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 7\n\n[response]\nmarkers = [\"dp_ucmgp\"]\n",
            "d",
        )
        .unwrap();
        let curves = dose_response(&s, SolverKind::Exact).unwrap();
        assert_eq!(curves.len(), 1);
        let c = &curves[0];
        assert_eq!((c.marker, c.compound), (Marker::DpUcmgp, "mk7"));
        assert_eq!(c.points.len(), DOSES_PER_CURVE);
        assert!(c
            .points
            .windows(2)
            .all(|w| w[1].0 > w[0].0 && w[1].1 < w[0].1));
        // Log-linear interpolation at 180 µg/day: the calibration arm, −31 % (within the
        // daily swing's effect and the grid's curvature).
        let i = c.points.iter().position(|p| p.0 > 180.0).unwrap();
        let (a, b) = (c.points[i - 1], c.points[i]);
        let w = (180f64.ln() - a.0.ln()) / (b.0.ln() - a.0.ln());
        let at = a.1 + w * (b.1 - a.1);
        assert!((at + 31.0).abs() < 1.0, "{at}");
    }
}
