//! Builds the figures of a run as data ([`crate::plot::Figure`]); drawing is in [`crate::plot`],
//! files in the CLI.

use crate::plot::{Figure, Series, YScale};
use crate::run::RunResult;
use crate::scenario::{AxisScale, Scenario};
use crate::units::{ng_ml_to_nmol_l, ConcUnit};

/// The concentration–time figure: one line per regimen, dose marks, title and model note.
pub fn concentration_figure(scenario: &Scenario, result: &RunResult) -> Figure {
    let unit = scenario.plot.units;
    let compounds: Vec<&str> = {
        let mut v: Vec<&str> = result
            .regimens
            .iter()
            .map(|r| {
                r.regimen
                    .compound
                    .name
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
            })
            .collect();
        v.dedup();
        v
    };
    let what = if compounds.len() == 1 {
        format!("Serum {}", compounds[0])
    } else {
        "Serum concentration".to_string()
    };
    let series = result
        .regimens
        .iter()
        .map(|r| {
            let mm = r.params.molar_mass_g_mol;
            let points = r
                .trajectory
                .time_h
                .iter()
                .zip(&r.trajectory.conc_ng_ml)
                .map(|(&t, &c)| {
                    (
                        t,
                        if unit == ConcUnit::NmolL {
                            ng_ml_to_nmol_l(c, mm)
                        } else {
                            c
                        },
                    )
                })
                .collect();
            Series {
                label: r.regimen.label.clone(),
                points,
            }
        })
        .collect();
    Figure {
        title: scenario
            .plot
            .title
            .clone()
            .unwrap_or_else(|| scenario.name.clone()),
        subtitle: Some(format!(
            "One-compartment model, first-order absorption · {} solver · k2sim {}",
            result.solver.name(),
            env!("CARGO_PKG_VERSION")
        )),
        y_label: format!("{what} ({})", unit.label()),
        series,
        y_scale: match scenario.plot.y_scale {
            AxisScale::Linear => YScale::Linear,
            AxisScale::Log => YScale::Log,
        },
        dose_marks_h: result
            .regimens
            .iter()
            .map(|r| r.dose_times_h.clone())
            .collect(),
    }
}
