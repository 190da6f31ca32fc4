//! Figures of populations, sweeps and sensitivity as data (drawing is in [`crate::plot`], files
//! in the CLI), and the plain-text captions written beside them; the population's own figures
//! are in [`super::population_figure`].
//!
//! Every figure here is built from merged results only (percentile histograms, sweep rows,
//! sensitivity rows) or recomputed from the scenario, so a sharded and merged run draws the
//! same bytes as an unsharded one.

use crate::format::{fmt4, fmt_amount, fmt_value, sanitize_file_stem, short, with_unit};
use crate::scenario::{SweepParam, SweepSpec};
use std::collections::HashMap;
use std::fmt::Write as _;

use crate::engine::run::RunResult;
use crate::error::Error;
use crate::metric::Metric;
use crate::plot::{
    viridis, Figure, Heatmap, HeatmapPanel, RenderOptions, Series, SeriesStyle, Tornado,
    TornadoBar, TornadoPanel,
};
use crate::report::figure::{concentration_figure, regimens_text};
use crate::report::population_figure::{
    lloq_caption, lloq_figure, population_caption, population_figure,
};
use crate::report::FileSet;
use crate::scenario::Scenario;
use crate::study::sweep::{SensitivityRow, SweepCurve, SweepRow};
use crate::study::StudyResult;
use crate::units::{ng_ml_to_nmol_l, ConcUnit};

/// Largest grid (columns and rows) whose values are printed in the heatmap cells.
pub const MAX_LABELLED_CELLS: usize = 12;

/// "Half-life (h)": a capitalised name with its unit in parentheses (none when unitless).
fn axis_title(name: &str, unit: &str) -> String {
    let mut c = name.chars();
    let cap = c
        .next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default();
    if unit.is_empty() {
        cap
    } else {
        format!("{cap} ({unit})")
    }
}

pub(super) fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

pub(super) fn title(scenario: &Scenario) -> String {
    scenario
        .plot
        .title
        .clone()
        .unwrap_or_else(|| scenario.name.clone())
}

/// The 1-D sweep figure: one curve per swept value (and regimen), coloured by the value on the
/// viridis map (dark = smallest), regimens told apart by dash. `None` when the sweep has no
/// curves (not 1-D, or too many values; see [`crate::study::sweep::sweep_curves`], which the
/// caller runs: presentation never simulates).
pub fn sweep_figure(
    scenario: &Scenario,
    result: &RunResult,
    spec: &SweepSpec,
    curves: &[SweepCurve],
) -> Option<Figure> {
    let axis = spec.axes.first().filter(|_| spec.axes.len() == 1)?;
    if curves.is_empty() {
        return None;
    }
    let base = concentration_figure(scenario, result);
    let (name, unit) = axis.param.label();
    let mut sorted = axis.values.clone();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    let rank = |v: f64| sorted.iter().position(|&s| s == v).unwrap_or(0);
    let labels: Vec<&str> = result
        .regimens
        .iter()
        .map(|r| r.regimen.label.as_str())
        .collect();
    let several = labels.len() > 1;
    let mut series = Vec::new();
    let mut styles = Vec::new();
    let mut marks = Vec::new();
    for (value, label, traj) in curves {
        let k = labels.iter().position(|l| l == label).unwrap_or(0);
        let rr = &result.regimens[k];
        let mm = rr.params.molar_mass_g_mol;
        let points = traj
            .time_h
            .iter()
            .zip(&traj.conc_ng_ml)
            .map(|(&t, &c)| {
                (
                    t,
                    match scenario.plot.units {
                        ConcUnit::NgMl => c,
                        ConcUnit::NmolL => ng_ml_to_nmol_l(c, mm),
                    },
                )
            })
            .collect();
        series.push(Series {
            label: if several {
                format!("{label}, {name} {}", with_unit(*value, unit))
            } else {
                format!("{name} {}", with_unit(*value, unit))
            },
            points,
        });
        // The light yellow end of viridis is too faint for a line on white: stop at 0.85.
        let t = if sorted.len() > 1 {
            0.85 * rank(*value) as f64 / (sorted.len() - 1) as f64
        } else {
            0.0
        };
        styles.push(SeriesStyle {
            rgb: viridis(t),
            dash: k,
        });
        marks.push(rr.dose_times_h.clone());
    }
    // The dosing interval moves the doses: no marks then (one row per curve would not read).
    let dose_marks_h = if axis.param == SweepParam::IntervalH {
        Vec::new()
    } else {
        marks
    };
    Some(Figure {
        title: format!("{} — {name} sweep", title(scenario)),
        subtitle: Some(format!(
            "{} from {} to {} ({} values; dark = smallest) · {} · k2sim {}",
            name,
            with_unit(sorted[0], unit),
            with_unit(sorted[sorted.len() - 1], unit),
            sorted.len(),
            crate::report::figure::solver_description(result),
            version()
        )),
        y_label: base.y_label,
        series,
        y_scale: base.y_scale,
        dose_marks_h,
        threshold: base.threshold,
        shade: None,
        panels: false,
        stack: Vec::new(),
        x_label: None,
        series_styles: styles,
        bands: Vec::new(),
        markers: Vec::new(),
        x_scale: crate::plot::XScale::Linear,
        guides: Vec::new(),
        observed: Vec::new(),
        limit: None,
        x_unit: None,
    })
}

/// The heatmap of the sweep's metric over a 2-D grid: columns the first swept parameter, rows
/// the second, one panel per swept regimen. `None` unless the sweep has exactly two axes.
pub fn sweep_heatmap(scenario: &Scenario, spec: &SweepSpec, rows: &[SweepRow]) -> Option<Heatmap> {
    let [xa, ya] = spec.axes.as_slice() else {
        return None;
    };
    let by: HashMap<(usize, &str), &SweepRow> = rows
        .iter()
        .map(|r| ((r.combination, r.regimen.as_str()), r))
        .collect();
    let ny = ya.values.len();
    let (mn, _) = spec.metric.label();
    let (mu, molar) = heatmap_unit(scenario, spec.metric);
    let panels: Vec<HeatmapPanel> = scenario
        .regimens
        .iter()
        .filter(|r| spec.regimen.as_ref().is_none_or(|l| *l == r.label))
        .map(|reg| HeatmapPanel {
            label: reg.label.clone(),
            values: (0..ny)
                .flat_map(|r| (0..xa.values.len()).map(move |c| c * ny + r))
                .map(|combo| {
                    by.get(&(combo, reg.label.as_str()))
                        .and_then(|row| spec.metric.value(&row.metrics))
                        .map(|v| {
                            if molar {
                                crate::units::ng_ml_to_nmol_l(v, reg.compound.molar_mass_g_mol)
                            } else {
                                v
                            }
                        })
                        .unwrap_or(f64::NAN)
                })
                .collect(),
        })
        .collect();
    if panels.is_empty() {
        return None;
    }
    let (xn, xu) = xa.param.label();
    let (yn, yu) = ya.param.label();
    Some(Heatmap {
        title: format!("{} — {mn} over {xn} × {yn}", title(scenario)),
        subtitle: Some(format!(
            "{} combinations · {} · k2sim {}{}",
            spec.combinations(),
            crate::format::lower_first(&crate::report::figure::models_description(
                scenario.regimens.iter().map(|r| &r.model)
            )),
            version(),
            if panels.len() == 1 {
                format!(" · {}", panels[0].label)
            } else {
                String::new()
            }
        )),
        x_label: axis_title(xn, xu),
        y_label: axis_title(yn, yu),
        x_ticks: xa.values.iter().map(|&v| short(v)).collect(),
        y_ticks: ya.values.iter().map(|&v| short(v)).collect(),
        panels,
        colour_label: axis_title(mn, mu),
        max_labelled_cells: MAX_LABELLED_CELLS,
    })
}

/// The metric a tornado chart shows: Cavg,ss when the rows have it, else AUC0–t.
pub fn tornado_metric(rows: &[SensitivityRow]) -> Metric {
    if rows.iter().any(|r| r.metric == Metric::CavgSsNgMl) {
        Metric::CavgSsNgMl
    } else {
        Metric::Auc0TNgHMl
    }
}

/// The tornado chart of `k2sim sensitivity`: per regimen, the change of [`tornado_metric`]
/// with each parameter at (1 − δ) and (1 + δ) × its value, largest effect on top. `None` when
/// there are no rows of that metric.
pub fn tornado(scenario: &Scenario, rows: &[SensitivityRow], delta_pct: f64) -> Option<Tornado> {
    let metric = tornado_metric(rows);
    let panels: Vec<TornadoPanel> = scenario
        .regimens
        .iter()
        .filter_map(|reg| {
            let mut mine: Vec<&SensitivityRow> = rows
                .iter()
                .filter(|r| r.regimen == reg.label && r.metric == metric)
                .collect();
            if mine.is_empty() {
                return None;
            }
            // Largest effect first; ties keep the parameter order (a stable sort).
            let effect = |r: &SensitivityRow| r.low_change_pct.abs().max(r.high_change_pct.abs());
            mine.sort_by(|a, b| effect(b).total_cmp(&effect(a)));
            Some(TornadoPanel {
                label: reg.label.clone(),
                bars: mine
                    .iter()
                    .map(|r| {
                        let (name, unit) = r.param.label();
                        let v = r.param.value_in(reg).unwrap_or(f64::NAN);
                        let value = match r.param {
                            SweepParam::DoseUg => fmt_amount(v),
                            _ if unit.is_empty() => short(v),
                            _ => format!("{} {unit}", short(v)),
                        };
                        TornadoBar {
                            label: format!("{name} ({value})"),
                            low_pct: r.low_change_pct,
                            high_pct: r.high_change_pct,
                        }
                    })
                    .collect(),
            })
        })
        .collect();
    if panels.is_empty() {
        return None;
    }
    let (mn, _) = metric.label();
    let d = fmt_value(delta_pct);
    Some(Tornado {
        title: format!("{} — sensitivity of {mn} to ±{d} %", title(scenario)),
        subtitle: Some(format!(
            "One parameter at a time, the others at their values · {} · k2sim {}",
            crate::format::lower_first(&crate::report::figure::models_description(
                scenario.regimens.iter().map(|r| &r.model)
            )),
            version()
        )),
        x_label: format!("Change of {mn} (%)"),
        low_label: format!("parameter −{d} %"),
        high_label: format!("parameter +{d} %"),
        panels,
    })
}

/// What every study caption ends with: the model, the regimens with their sources, and the
/// command.
pub(super) fn caption_tail(s: &mut String, result: &RunResult, command: &str) {
    s.push_str(&crate::report::figure::model_sentence(result));
    let _ = writeln!(
        s,
        "Tags: measured (primary source), secondary (quoted by reviews), derived (computed by k2sim from measured numbers), assumed."
    );
    s.push_str(&regimens_text(result));
    let _ = writeln!(s, "Made with: {command}");
}

pub(super) fn caption_head(s: &mut String, scenario: &Scenario, file_stem: &str, title: &str) {
    let _ = writeln!(s, "Figure {file_stem}: {title}");
    if let Some(c) = &scenario.caption {
        let _ = writeln!(s, "\n{c}");
    }
}

/// Caption of the 1-D sweep figure.
pub fn sweep_caption(
    scenario: &Scenario,
    result: &RunResult,
    spec: &SweepSpec,
    fig: &Figure,
    file_stem: &str,
    command: &str,
) -> String {
    let mut s = String::new();
    caption_head(&mut s, scenario, file_stem, &fig.title);
    if let Some(axis) = spec.axes.first() {
        let (name, unit) = axis.param.label();
        let values: Vec<String> = axis.values.iter().map(|&v| with_unit(v, unit)).collect();
        let _ = writeln!(
            s,
            "\nSimulated serum concentration over the run, one curve per value of the {name} ({}: {}), coloured on the viridis scale from dark purple (smallest) to green-yellow (largest){}; every other parameter as listed below{}.",
            axis.param.key(),
            values.join(", "),
            if result.regimens.len() > 1 {
                "; regimens told apart by line style"
            } else {
                ""
            },
            spec.regimen
                .as_ref()
                .map_or(String::new(), |l| format!("; only {l} is varied"))
        );
    }
    let _ = writeln!(
        s,
        "Axis: {}, linear time axis. Triangles (or ticks) on the time axis mark doses taken.",
        fig.y_label
    );
    if let Some(t) = &fig.threshold {
        let _ = writeln!(s, "Dashed grey line: {}.", t.label);
    }
    caption_tail(&mut s, result, command);
    s
}

/// The unit of the heatmap's metric and whether it is converted: concentrations and AUCs follow
/// the scenario's figure unit (nmol/L through each regimen's molar mass); other metrics keep
/// theirs.
fn heatmap_unit(scenario: &Scenario, metric: Metric) -> (&'static str, bool) {
    let (_, mu) = metric.label();
    let molar =
        scenario.plot.units == crate::units::ConcUnit::NmolL && (mu == "ng/mL" || mu == "ng·h/mL");
    match (molar, mu) {
        (true, "ng/mL") => ("nmol/L", true),
        (true, _) => ("nmol·h/L", true),
        (false, u) => (u, false),
    }
}

/// Caption of the 2-D sweep heatmap.
pub fn heatmap_caption(
    scenario: &Scenario,
    result: &RunResult,
    spec: &SweepSpec,
    hm: &Heatmap,
    file_stem: &str,
    command: &str,
) -> String {
    let mut s = String::new();
    caption_head(&mut s, scenario, file_stem, &hm.title);
    let (mn, _) = spec.metric.label();
    let (mu, molar) = heatmap_unit(scenario, spec.metric);
    let _ = writeln!(
        s,
        "\n{mn}{} ({}, from the model's steady state or the run as summary.json defines it) for every combination of {} (columns: {}) and {} (rows: {}){}. Colour: viridis from the lowest (dark purple) to the highest value (yellow), one scale for all panels; {}grey cells have no value (e.g. no steady state). Values as in sweep.csv{}.",
        if mu.is_empty() {
            String::new()
        } else {
            format!(" in {mu}")
        },
        spec.metric.key(),
        spec.axes[0].param.key(),
        hm.x_ticks.join(", "),
        spec.axes[1].param.key(),
        hm.y_ticks.join(", "),
        if hm.panels.len() > 1 {
            "; one panel per regimen"
        } else {
            ""
        },
        if hm.x_ticks.len() <= hm.max_labelled_cells && hm.y_ticks.len() <= hm.max_labelled_cells {
            "cell values printed to 3 significant digits; "
        } else {
            ""
        },
        if molar {
            " (there in ng/mL; converted with each compound's molar mass)"
        } else {
            ""
        }
    );
    caption_tail(&mut s, result, command);
    s
}

/// Caption of the tornado chart.
pub fn tornado_caption(
    scenario: &Scenario,
    result: &RunResult,
    rows: &[SensitivityRow],
    delta_pct: f64,
    file_stem: &str,
    command: &str,
) -> String {
    let mut s = String::new();
    let metric = tornado_metric(rows);
    let (mn, mu) = metric.label();
    caption_head(
        &mut s,
        scenario,
        file_stem,
        &format!(
            "{} — sensitivity of {mn} to ±{} %",
            title(scenario),
            fmt_value(delta_pct)
        ),
    );
    let d = fmt_value(delta_pct);
    let _ = writeln!(
        s,
        "\nOne-at-a-time sensitivity: each parameter set to (1 − {d} %) and (1 + {d} %) × its value (in brackets), the others unchanged; bars show the change of {mn} ({metric}, {mu}) from its value at the listed parameters, in %, blue for the parameter lowered and vermillion for it raised; sorted by the larger of the two effects. Parameters that are 0 (lag, baseline) cannot be scaled and are left out. Values as in sensitivity.csv."
    );
    for r in rows.iter().filter(|r| r.metric == metric) {
        let _ = writeln!(
            s,
            "  {}, {}: base {} {mu}; −{d} %: {} {mu} ({:+.3} %); +{d} %: {} {mu} ({:+.3} %)",
            r.regimen,
            r.param.key(),
            fmt4(r.base),
            fmt4(r.low),
            r.low_change_pct,
            fmt4(r.high),
            r.high_change_pct
        );
    }
    caption_tail(&mut s, result, command);
    s
}

/// Render options for a figure of `panels` stacked panels: taller with their number, as the
/// run's small multiples.
fn taller(base: &RenderOptions, panels: usize, per_panel: f64) -> RenderOptions {
    let scale = (per_panel * panels as f64).max(1.0);
    RenderOptions {
        height_px: ((f64::from(base.height_px) * scale).round() as u32)
            .min(crate::plot::MAX_SIDE_PX),
        ..*base
    }
}

/// The figures of a study as named bytes: `<stem>_population.*` for a population,
/// `<stem>_sweep.*` for a 1-D sweep (its `curves`, simulated by the caller), `<stem>_heatmap.*`
/// for a 2-D sweep; each a PNG, an SVG and a `.txt` caption.
pub fn study_figure_files(
    scenario: &Scenario,
    result: &RunResult,
    study: &StudyResult,
    curves: Option<&[SweepCurve]>,
    render: &RenderOptions,
    command: &str,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let stem = sanitize_file_stem(&scenario.name);
    let mut files = FileSet::new();
    if let (Some(spec), Some(pops)) = (&scenario.population, &study.populations) {
        if !pops.is_empty() {
            let fig = population_figure(scenario, result, spec, pops);
            let opts = taller(render, pops.len(), 0.8);
            let name = format!("{stem}_population");
            let caption = population_caption(scenario, result, spec, pops, &fig, &name, command);
            files.push_rendered(&name, &fig, &opts, Some(caption))?;
            if let Some(fig) = lloq_figure(scenario, result, spec, pops) {
                let name = format!("{stem}_lloq");
                let caption = lloq_caption(scenario, result, spec, pops, &fig, &name, command);
                files.push_rendered(&name, &fig, render, Some(caption))?;
            }
        }
    }
    if let (Some(spec), Some(rows)) = (&scenario.sweep, &study.sweep_rows) {
        if let Some(curves) = curves {
            if let Some(fig) = sweep_figure(scenario, result, spec, curves) {
                let name = format!("{stem}_sweep");
                let caption = sweep_caption(scenario, result, spec, &fig, &name, command);
                files.push_rendered(&name, &fig, render, Some(caption))?;
            }
        }
        if let Some(hm) = sweep_heatmap(scenario, spec, rows) {
            let name = format!("{stem}_heatmap");
            let caption = heatmap_caption(scenario, result, spec, &hm, &name, command);
            files.push_rendered(&name, &hm, render, Some(caption))?;
        }
    }
    Ok(files.into_vec())
}

/// The tornado figure of `k2sim sensitivity` as named bytes (`<stem>_tornado.*`); empty when
/// the rows hold no metric to show.
pub fn tornado_files(
    scenario: &Scenario,
    result: &RunResult,
    rows: &[SensitivityRow],
    delta_pct: f64,
    render: &RenderOptions,
    command: &str,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let Some(t) = tornado(scenario, rows, delta_pct) else {
        return Ok(Vec::new());
    };
    let stem = sanitize_file_stem(&scenario.name);
    let name = format!("{stem}_tornado");
    let opts = taller(render, t.panels.len(), 0.6);
    let caption = tornado_caption(scenario, result, rows, delta_pct, &name, command);
    let mut files = FileSet::new();
    files.push_rendered(&name, &t, &opts, Some(caption))?;
    Ok(files.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heatmaps_follow_the_figure_unit() {
        let text = |units: &str| {
            format!(
                r#"name = "h"
duration = "4 d"
step_h = 1
[[regimen]]
label = "mk7"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 4
[plot]
units = "{units}"
[sweep]
half_life_h = [60, 90]
dose_ug = [90, 180]
metric = "cavg_ss_ng_ml"
"#
            )
        };
        let values = |units: &str| {
            let s = crate::scenario::parse_str(&text(units), "t").unwrap();
            let spec = s.sweep.clone().unwrap();
            let rows = crate::study::sweep::run_sweep(
                &s,
                &spec,
                crate::model::SolverKind::Exact,
                0..4,
                &|_| {},
            )
            .unwrap();
            let hm = sweep_heatmap(&s, &spec, &rows).unwrap();
            (hm.panels[0].values.clone(), hm.colour_label)
        };
        let (ng, ng_label) = values("ng_ml");
        let (nmol, nmol_label) = values("nmol_l");
        assert_eq!(ng_label, "Cavg,ss (ng/mL)");
        assert_eq!(nmol_label, "Cavg,ss (nmol/L)");
        for (a, b) in ng.iter().zip(&nmol) {
            assert!(
                (b - a * 1000.0 / 649.02).abs() < 1e-12 * b,
                "{a} ng/mL vs {b} nmol/L"
            );
        }
    }
}
