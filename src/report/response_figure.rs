//! The figures of `[response]`: per marker, its change from baseline over the run, one line per
//! regimen, with the marker's cited parameters in the caption.

use std::fmt::Write as _;

use crate::engine::run::RunResult;
use crate::format::short;
use crate::plot::{Figure, Series, Threshold, YScale};
use crate::report::figure::{FigureKind, FigureSpec};
use crate::response::Marker;
use crate::scenario::Scenario;

/// File-name suffix of a marker's figure.
fn suffix(m: Marker) -> &'static str {
    match m {
        Marker::DpUcmgp => "response_dp_ucmgp",
        Marker::Ucoc => "response_ucoc",
    }
}

/// One figure per marker of the scenario's `[response]`.
pub fn response_figures(scenario: &Scenario, result: &RunResult) -> Vec<FigureSpec> {
    let Some(spec) = &scenario.response else {
        return Vec::new();
    };
    spec.presets
        .iter()
        .filter_map(|pre| {
            let m = pre.marker;
            let mut note = String::new();
            let series: Vec<Series> = result
                .regimens
                .iter()
                .filter_map(|r| {
                    let c = r.response.iter().find(|c| c.marker == m)?;
                    let _ = write!(
                        note,
                        "{}: {} at the end of the run{}{}. ",
                        r.regimen.label,
                        pct(c.pct_change_at_end),
                        c.pct_change_ss
                            .map_or(String::new(), |s| format!(", {} at steady state", pct(s))),
                        c.t_50pct_effect_h.map_or(String::new(), |t| format!(
                            ", half of it after {} days",
                            short(t / 24.0)
                        )),
                    );
                    Some(Series {
                        label: r.regimen.label.clone(),
                        points: r
                            .trajectory
                            .time_h
                            .iter()
                            .zip(&c.values)
                            .map(|(&t, &v)| (t, 100.0 * (v / c.baseline - 1.0)))
                            .collect(),
                    })
                })
                .collect();
            if series.is_empty() {
                return None;
            }
            let _ = write!(
                note,
                "\nParameters ({} population):",
                spec.population.key()
            );
            for (name, unit, p) in pre.parameters() {
                let _ = write!(
                    note,
                    "\n    {name:<22} {:<10} {unit:<16} [{}] {}",
                    short(p.value),
                    p.evidence.tag(),
                    p.source
                );
            }
            let marker_figure = Figure {
                    title: format!("{} — {}", scenario.name, m.label()),
                    subtitle: Some(format!(
                        "turnover model driven by serum concentration · {} population · baseline {} {} · k2sim {}",
                        spec.population.key(),
                        short(pre.baseline.value),
                        m.unit(),
                        env!("CARGO_PKG_VERSION")
                    )),
                    y_label: format!("{}, change (%)", m.label()),
                    series,
                    threshold: Some(Threshold {
                        value: 0.0,
                        label: "baseline".into(),
                    }),
                    dose_marks_h: Vec::new(),
                    ..Figure::default()
                };
            // The serum level that drives the marker, in a panel above it on the same time axis.
            // Peaks that differ more than a linear axis can show (MK-4 mg against MK-7 µg) put
            // it on a log axis; dose marks would only hide the curves at this scale.
            let pk = crate::report::figure::concentration_figure(scenario, result);
            let wide = crate::report::figure::scale_hint(scenario, result).is_some();
            let figure = Figure {
                title: marker_figure.title.clone(),
                subtitle: marker_figure.subtitle.clone(),
                stack: vec![marker_figure],
                shade: None,
                dose_marks_h: Vec::new(),
                y_scale: if wide { YScale::Log } else { pk.y_scale },
                ..pk
            };
            Some(FigureSpec {
                kind: FigureKind::Response,
                suffix: suffix(m),
                figure,
                omitted: Vec::new(),
                note: Some(note),
            })
        })
        .collect()
}

/// A signed percentage, "−31 %".
fn pct(v: f64) -> String {
    let s = format!("{v:+.1} %");
    s.replace('-', "−")
}

/// File-name suffix of a marker's dose–response figure.
fn dose_suffix(m: Marker) -> &'static str {
    match m {
        Marker::DpUcmgp => "dose_response_dp_ucmgp",
        Marker::Ucoc => "dose_response_ucoc",
    }
}

/// One dose–response figure per marker: the change at steady state against the daily dose,
/// MK-7 and MK-4 on one logarithmic dose axis, with the published points of the population
/// (open circles) and their sources in the caption.
pub fn dose_response_figures(
    scenario: &Scenario,
    curves: &[crate::study::dose_response::DoseResponseCurve],
) -> Vec<FigureSpec> {
    let Some(spec) = &scenario.response else {
        return Vec::new();
    };
    let healthy = spec.population == crate::response::Population::Healthy;
    spec.presets
        .iter()
        .filter_map(|pre| {
            let m = pre.marker;
            let mine: Vec<_> = curves.iter().filter(|c| c.marker == m).collect();
            if mine.is_empty() {
                return None;
            }
            let name = |id: &str| match id {
                "mk4" => "MK-4",
                "mk7" => "MK-7",
                other => other,
            }
            .to_string();
            let mut note = String::from("Open circles: published group changes");
            if !healthy {
                note.push_str(" (none drawn: the published points are of healthy adults)");
            }
            note.push(':');
            let mut observed = Vec::new();
            for c in &mine {
                let pts: Vec<(f64, f64)> = crate::response::PUBLISHED_HEALTHY
                    .iter()
                    .filter(|p| healthy && p.marker == m && p.compound == c.compound)
                    .map(|p| {
                        let _ = write!(
                            note,
                            " {} {} µg/day {} ({}, {});",
                            name(p.compound),
                            short(p.dose_ug_per_day),
                            pct(p.pct_change),
                            p.source,
                            if p.calibration { "calibration" } else { "independent" }
                        );
                        (p.dose_ug_per_day, p.pct_change)
                    })
                    .collect();
                observed.push(pts);
            }
            note.push_str(" Lines: the model's change of the period-mean level at steady state under one oral dose a day, each point a run of the engine; MK-4 below milligram doses extrapolates its 30 mg PK (docs/science.md).");
            Some(FigureSpec {
                kind: FigureKind::DoseResponse,
                suffix: dose_suffix(m),
                figure: Figure {
                    title: format!("{} — {}: dose–response", scenario.name, m.label()),
                    subtitle: Some(format!(
                        "steady state under one daily dose · {} population · k2sim {}",
                        spec.population.key(),
                        env!("CARGO_PKG_VERSION")
                    )),
                    y_label: format!("{} at steady state, change (%)", m.label()),
                    x_label: Some("Daily dose".into()),
                    x_unit: Some("µg/day".into()),
                    x_scale: crate::plot::XScale::Log,
                    series: mine
                        .iter()
                        .map(|c| Series {
                            label: name(c.compound),
                            points: c.points.clone(),
                        })
                        .collect(),
                    observed,
                    threshold: Some(Threshold {
                        value: 0.0,
                        label: "baseline".into(),
                    }),
                    ..Figure::default()
                },
                omitted: Vec::new(),
                note: Some(note),
            })
        })
        .collect()
}
