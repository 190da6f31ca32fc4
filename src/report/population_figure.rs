//! The figures of a population as data, with their captions: the percentile ribbon (true
//! concentrations, and the observed ones when the population has an assay error) and the share
//! of samples below the LLOQ over time. Built from the merged histograms and counts only, so a
//! sharded and merged run draws the same bytes as an unsharded one.

use std::fmt::Write as _;

use crate::engine::run::RunResult;
use crate::format::{fmt4, fmt_hours_days, fmt_value};
use crate::plot::{Band, Figure, Series, Threshold};
use crate::scenario::{PopulationSpec, ResidualSpec, Scenario};
use crate::study::assay::lloq_summary;
use crate::study::population::{RegimenPopulation, BIN_BITS};
use crate::units::{ng_ml_to_nmol_l, ConcUnit};

use super::figure::concentration_figure;
use super::study::{detectable_phrase, lloq_sentence, RESIDUAL_MODEL};
use super::study_figure::{caption_head, caption_tail, title, version};

/// The percentile ribbon figure: per regimen the 5–95 % band (light), the 25–75 % band
/// (darker) and the median, from the merged histograms; the trough target as a dashed line.
/// With an assay error the 5–95 % band of the observed samples lies under them, lightest; an
/// LLOQ is a dotted line. Several regimens are drawn as small multiples (nested bands of several colours overlaid do
/// not read).
pub fn population_figure(
    scenario: &Scenario,
    result: &RunResult,
    spec: &PopulationSpec,
    pops: &[RegimenPopulation],
) -> Figure {
    let base = concentration_figure(scenario, result);
    let unit = scenario.plot.units;
    let molar = |label: &str| {
        result
            .regimens
            .iter()
            .find(|r| r.regimen.label == label)
            .map_or(1.0, |r| r.params.molar_mass_g_mol)
    };
    let conv = |c: f64, mm: f64| match unit {
        ConcUnit::NgMl => c,
        ConcUnit::NmolL => ng_ml_to_nmol_l(c, mm),
    };
    let several = pops.len() > 1;
    let mut series = Vec::new();
    let mut bands = Vec::new();
    for (i, p) in pops.iter().enumerate() {
        let mm = molar(&p.label);
        // The 5th, 25th, 50th, 75th and 95th percentiles of every band time, one pass each.
        let rows: Vec<Vec<f64>> = (0..p.band_times_h.len())
            .map(|t| p.histogram.percentiles(t, &[5.0, 25.0, 50.0, 75.0, 95.0]))
            .collect();
        let q = |t: usize, pct: f64| {
            let k = [5.0, 25.0, 50.0, 75.0, 95.0]
                .iter()
                .position(|&x| x == pct)
                .expect("one of the five");
            conv(rows[t][k], mm)
        };
        let times = &p.band_times_h;
        series.push(Series {
            label: if several {
                format!("{}: median", p.label)
            } else {
                "median".into()
            },
            points: (0..times.len()).map(|t| (times[t], q(t, 50.0))).collect(),
        });
        // The observed 5–95 % band first and lightest: it is the widest, and the opaque bands
        // of the true concentrations are drawn over it.
        if let Some(obs) = &p.observed {
            let rows: Vec<Vec<f64>> = (0..times.len())
                .map(|t| obs.percentiles(t, &[5.0, 95.0]))
                .collect();
            let o = |t: usize, pct: f64| conv(rows[t][usize::from(pct > 50.0)], mm);
            bands.push(Band {
                series: i,
                label: "5–95 % of observed samples (assay error)".into(),
                points: (0..times.len())
                    .map(|t| (times[t], o(t, 5.0), o(t, 95.0)))
                    .collect(),
                opacity: OBSERVED_TINT,
            });
        }
        for (lo, hi, tint) in [(5.0, 95.0, 0.2), (25.0, 75.0, 0.42)] {
            bands.push(Band {
                series: i,
                label: format!("{lo}–{hi} % of subjects"),
                points: (0..times.len())
                    .map(|t| (times[t], q(t, lo), q(t, hi)))
                    .collect(),
                opacity: tint,
            });
        }
    }
    let line = |t: f64, what: &str| match unit {
        ConcUnit::NgMl => Some(Threshold {
            value: t,
            label: format!("{what} {} ng/mL", fmt_value(t)),
        }),
        ConcUnit::NmolL => {
            // One line only when every regimen has the same compound (molar mass).
            let mm = molar(&pops.first()?.label);
            pops.iter()
                .all(|p| molar(&p.label) == mm)
                .then(|| Threshold {
                    value: ng_ml_to_nmol_l(t, mm),
                    label: format!(
                        "{what} {} nmol/L ({} ng/mL)",
                        fmt4(ng_ml_to_nmol_l(t, mm)),
                        fmt_value(t)
                    ),
                })
        }
    };
    let threshold = spec
        .target_trough_ng_ml
        .and_then(|t| line(t, "target trough"));
    let limit = spec.lloq_ng_ml.and_then(|t| line(t, "LLOQ"));
    Figure {
        title: format!("{} — population", title(scenario)),
        subtitle: Some(format!(
            "{} virtual subjects per regimen, seed {} · median and percentile bands{} · {} · k2sim {}",
            spec.n,
            spec.seed,
            spec.residual
                .map_or(String::new(), |r| format!(" · assay error {}", residual_text(&r))),
            crate::report::figure::solver_description(result),
            version()
        )),
        y_label: base.y_label,
        series,
        y_scale: base.y_scale,
        dose_marks_h: Vec::new(),
        threshold,
        shade: None,
        panels: several,
        stack: Vec::new(),
        x_label: None,
        series_styles: Vec::new(),
        bands,
        observed: Vec::new(),
        limit,
        x_unit: None,
        markers: Vec::new(),
        x_scale: crate::plot::XScale::Linear,
        guides: Vec::new(),
    }
}

/// Tint of the observed-samples band: lighter than the 5–95 % band of the true concentrations.
pub const OBSERVED_TINT: f64 = 0.1;

/// "15 % + 0.05 ng/mL": the residual error in words.
fn residual_text(r: &ResidualSpec) -> String {
    match (r.proportional_pct > 0.0, r.additive_ng_ml > 0.0) {
        (true, true) => format!(
            "{} % + {} ng/mL",
            fmt_value(r.proportional_pct),
            fmt_value(r.additive_ng_ml)
        ),
        (true, false) => format!("{} %", fmt_value(r.proportional_pct)),
        _ => format!("{} ng/mL", fmt_value(r.additive_ng_ml)),
    }
}

/// The LLOQ figure: per regimen the share of samples below the LLOQ over time (%), its legend
/// naming the time until which at least half of the samples are quantifiable; a dashed line at
/// 50 %. `None` without `lloq_ng_ml`.
pub fn lloq_figure(
    scenario: &Scenario,
    result: &RunResult,
    spec: &PopulationSpec,
    pops: &[RegimenPopulation],
) -> Option<Figure> {
    let lloq = spec.lloq_ng_ml?;
    let mut series = Vec::new();
    let mut marks = Vec::new();
    for p in pops {
        let l = lloq_summary(spec, p)?;
        let until = match l.detectable_until_h {
            Some(_) if l.detectable_at_end => "detectable to the end of the run".to_string(),
            Some(h) => format!("detectable until {}", fmt_hours_days(h)),
            None => "never detectable in half the samples".into(),
        };
        series.push(Series {
            label: format!("{}: {until}", p.label),
            points: p
                .band_times_h
                .iter()
                .zip(&l.frac_below)
                .map(|(&t, &f)| (t, 100.0 * f))
                .collect(),
        });
        marks.push(
            result
                .regimens
                .iter()
                .find(|r| r.regimen.label == p.label)
                .map_or_else(Vec::new, |r| r.dose_times_h.clone()),
        );
    }
    let on = match &spec.residual {
        Some(r) => format!("observed concentrations (assay error {})", residual_text(r)),
        None => "true concentrations (no assay error)".into(),
    };
    Some(Figure {
        title: format!("{} — samples below the LLOQ", title(scenario)),
        subtitle: Some(format!(
            "LLOQ {} ng/mL on {on} · {} virtual subjects per regimen, seed {} · k2sim {}",
            fmt_value(lloq),
            spec.n,
            spec.seed,
            version()
        )),
        y_label: "Samples below the LLOQ (%)".into(),
        series,
        y_scale: crate::plot::YScale::Linear,
        dose_marks_h: marks,
        threshold: Some(Threshold {
            value: 50.0,
            label: "half of the samples".into(),
        }),
        shade: None,
        limit: None,
        panels: false,
        stack: Vec::new(),
        x_label: None,
        series_styles: Vec::new(),
        bands: Vec::new(),
        markers: Vec::new(),
        x_scale: crate::plot::XScale::Linear,
        guides: Vec::new(),
        observed: Vec::new(),
        x_unit: None,
    })
}

/// Caption of the LLOQ figure.
pub fn lloq_caption(
    scenario: &Scenario,
    result: &RunResult,
    spec: &PopulationSpec,
    pops: &[RegimenPopulation],
    fig: &Figure,
    file_stem: &str,
    command: &str,
) -> String {
    let mut s = String::new();
    caption_head(&mut s, scenario, file_stem, &fig.title);
    let lloq = spec.lloq_ng_ml.unwrap_or(f64::NAN);
    let _ = writeln!(
        s,
        "\nShare of the virtual subjects' samples below the lower limit of quantification (LLOQ, {} ng/mL) at each time, every {} h: what a study sampling every subject at that time would report as below the limit (BLQ). Samples are {}. A regimen is detectable at a time when at least half of its samples are at or above the LLOQ (at or under the dashed 50 % line); the legend names the last such time. Values as in population_bands.csv (frac_below_lloq) and population_summary.json (lloq).",
        fmt_value(lloq),
        fmt_value(spec.band_step_h),
        match &spec.residual {
            Some(r) => format!("observed concentrations with assay error {}: {}", residual_text(r), RESIDUAL_MODEL),
            None => "the true concentrations of the model (no residual error)".into(),
        }
    );
    for p in pops {
        if let Some(l) = lloq_summary(spec, p) {
            let _ = writeln!(s, "{}: {}.", p.label, detectable_phrase(&l));
        }
    }
    let _ = writeln!(
        s,
        "Population: n = {} subjects per regimen, seed {}; variability and adherence as in the population figure's caption.",
        spec.n, spec.seed
    );
    caption_tail(&mut s, result, command);
    s
}

/// Caption of the population ribbon figure: what the bands are, the population's
/// specification (n, seed, CVs, correlations, adherence), the accuracy of the bands, the share
/// at the target, the model and the sources.
pub fn population_caption(
    scenario: &Scenario,
    result: &RunResult,
    spec: &PopulationSpec,
    pops: &[RegimenPopulation],
    fig: &Figure,
    file_stem: &str,
    command: &str,
) -> String {
    let mut s = String::new();
    caption_head(&mut s, scenario, file_stem, &fig.title);
    let _ = writeln!(
        s,
        "\nSimulated serum concentration in a virtual population{}: the median (line), the 25–75 % band (darker) and the 5–95 % band (lighter) of the subjects at each time, every {} h.",
        if pops.len() > 1 {
            ", one panel per regimen"
        } else {
            ""
        },
        fmt_value(spec.band_step_h)
    );
    if let Some(r) = &spec.residual {
        let _ = writeln!(
            s,
            "Lightest band: the 5–95 % range of the observed samples, the concentrations as an assay with a residual error of {} would measure them ({}).",
            residual_text(r),
            RESIDUAL_MODEL
        );
    }
    let _ = writeln!(s, "Axis: {}, linear time axis.", fig.y_label);
    if let Some(t) = &fig.threshold {
        let _ = writeln!(s, "Dashed grey line: {}.", t.label);
    }
    if let Some(t) = &fig.limit {
        let _ = writeln!(
            s,
            "Dotted grey line: {} (lower limit of quantification).",
            t.label
        );
    }
    let _ = writeln!(
        s,
        "\nPopulation: n = {} subjects per regimen, seed {} (subject i draws from a stream derived from the seed and i: the same for any thread count and shard split).",
        spec.n, spec.seed
    );
    if spec.cv_pct.is_empty() {
        let _ = writeln!(s, "Between-subject variability: none.");
    } else {
        let cvs: Vec<String> = spec
            .cv_pct
            .iter()
            .map(|(p, cv)| format!("{} {} %", p.key(), fmt_value(*cv)))
            .collect();
        let _ = writeln!(
            s,
            "Between-subject variability, log-normal around the regimen's parameters below (CV): {}.",
            cvs.join(", ")
        );
    }
    if spec.correlations.is_empty() {
        let _ = writeln!(s, "Correlations: none (independent log-parameters).");
    } else {
        let cs: Vec<String> = spec
            .correlations
            .iter()
            .map(|(a, b, r)| format!("{}–{} {}", a.key(), b.key(), fmt_value(*r)))
            .collect();
        let _ = writeln!(s, "Correlations of the log-parameters: {}.", cs.join(", "));
    }
    let _ = writeln!(
        s,
        "Adherence: each dose missed with probability {}; dose times jittered with SD {} h (normal, truncated at ±3 SD).",
        fmt_value(spec.miss_prob),
        fmt_value(spec.jitter_h)
    );
    let _ = writeln!(
        s,
        "Band accuracy: percentiles are read from histograms with {} bins per octave, within ±{:.2} % of the exact order statistic of the simulated subjects.",
        1u32 << BIN_BITS,
        100.0 / f64::from(1u32 << (BIN_BITS + 1))
    );
    if let Some(t) = spec.target_trough_ng_ml {
        for p in pops {
            let n = p.summary.subjects;
            let above = p.summary.trough_at_or_above_target.unwrap_or(0);
            if n > 0 {
                let _ = writeln!(
                    s,
                    "{}: {:.1} % of subjects have a trough (last dosing interval) ≥ {} ng/mL.",
                    p.label,
                    100.0 * above as f64 / n as f64,
                    fmt_value(t)
                );
            }
        }
    }
    for p in pops {
        if let Some(l) = lloq_summary(spec, p) {
            let _ = writeln!(s, "{}: {}.", p.label, lloq_sentence(&l));
        }
    }
    caption_tail(&mut s, result, command);
    s
}
