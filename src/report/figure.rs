//! Builds the figures of a run as data ([`crate::plot::Figure`]); drawing is in [`crate::plot`],
//! files in the CLI. Also writes the plain-text caption that goes beside each figure.

use crate::format::{fmt_amount, fmt_value, lower_first};
use std::fmt::Write as _;

use crate::engine::run::{RegimenResult, RunResult};
use crate::engine::steady_profile::SteadyProfiles;
use crate::model::PkModel;
use crate::plot::{Band, Figure, RenderOptions, Series, Shade, Threshold, YScale};
use crate::report::tables::evidence_tag;
use crate::scenario::{AxisScale, Provenance, Scenario};
use crate::study::uncertainty::Uncertainty;
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
            "{} · {} · k2sim {}{}",
            model_description(result),
            solver_description(result),
            env!("CARGO_PKG_VERSION"),
            if result.regimens.iter().any(|r| !r.residuals.is_empty()) {
                " · circles: observed"
            } else {
                ""
            }
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
        threshold: threshold(scenario, result),
        shade: if scenario.plot.shade_steady_state {
            steady_state_window(result)
        } else {
            None
        },
        panels: false,
        stack: Vec::new(),
        x_label: None,
        observed: if result.regimens.iter().any(|r| !r.residuals.is_empty()) {
            result
                .regimens
                .iter()
                .map(|r| {
                    let mm = r.params.molar_mass_g_mol;
                    r.residuals
                        .iter()
                        .map(|o| {
                            let c = o.observed_ng_ml;
                            (
                                o.time_h,
                                if unit == ConcUnit::NmolL {
                                    ng_ml_to_nmol_l(c, mm)
                                } else {
                                    c
                                },
                            )
                        })
                        .collect()
                })
                .collect()
        } else {
            Vec::new()
        },
        limit: None,
        x_unit: None,
        series_styles: Vec::new(),
        bands: Vec::new(),
        markers: Vec::new(),
        x_scale: crate::plot::XScale::Linear,
        guides: Vec::new(),
    }
}

/// Which figure of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureKind {
    /// All regimens over the run, overlaid.
    Overlay,
    /// One panel per regimen, shared time axis.
    Panels,
    /// One dosing interval at steady state, regimens overlaid.
    SteadyState,
    /// A carboxylation marker's change from baseline over the run, regimens overlaid.
    Response,
    /// A marker's change at steady state against the daily dose, per compound.
    DoseResponse,
}

/// A figure to render, with the file-name suffix it is written under.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureSpec {
    /// What the figure shows.
    pub kind: FigureKind,
    /// Appended to the file stem with `_` ("" for the main figure).
    pub suffix: &'static str,
    /// The figure data.
    pub figure: Figure,
    /// Regimens left out of the figure, with the reason (for the caption).
    pub omitted: Vec<(String, &'static str)>,
    /// A paragraph the caption adds (e.g. what the uncertainty bands are).
    pub note: Option<String>,
}

impl FigureSpec {
    /// Render options for this figure from the run's: panels get taller with their number.
    pub fn render(&self, base: &RenderOptions) -> RenderOptions {
        let n = self.figure.series.len() as f64;
        let scale = match self.kind {
            FigureKind::Panels => (0.55 * n).max(1.0),
            // A stack: each figure gets most of a figure's height.
            _ => (0.55 * (1 + self.figure.stack.len()) as f64).max(1.0),
        };
        RenderOptions {
            height_px: ((f64::from(base.height_px) * scale).round() as u32)
                .min(crate::plot::MAX_SIDE_PX),
            ..*base
        }
    }
}

/// Concentration in the figure's unit.
/// Ratio of the highest to the lowest regimen peak above which one linear axis flattens the
/// smaller curves onto the dose marks (5 % of the height or less).
pub const SCALE_HINT_RATIO: f64 = 20.0;

/// A hint when the overlay is on a linear axis and the regimens' peaks (in the figure's unit)
/// differ by more than [`SCALE_HINT_RATIO`]: use a log axis or the panels figure.
pub fn scale_hint(scenario: &Scenario, result: &RunResult) -> Option<String> {
    if scenario.plot.y_scale == AxisScale::Log || result.regimens.len() < 2 {
        return None;
    }
    let peaks: Vec<(&str, f64)> = result
        .regimens
        .iter()
        .map(|r| {
            let mm = r.params.molar_mass_g_mol;
            let peak = r
                .trajectory
                .conc_ng_ml
                .iter()
                .map(|&c| in_unit(scenario.plot.units, c, mm))
                .fold(0.0, f64::max);
            (r.regimen.label.as_str(), peak)
        })
        .collect();
    let hi = peaks.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let lo = peaks.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    if lo.1.is_nan() || lo.1 <= 0.0 || hi.1 / lo.1 <= SCALE_HINT_RATIO {
        return None;
    }
    Some(format!(
        "the peaks differ {:.0}-fold (\"{}\" against \"{}\"): on one linear axis the smaller curve lies flat on the dose marks; use --log (or [plot] y_scale = \"log\"), or read the _panels figure, where each regimen has its own axis",
        hi.1 / lo.1,
        hi.0,
        lo.0
    ))
}

fn in_unit(unit: ConcUnit, c_ng_ml: f64, molar_mass: f64) -> f64 {
    match unit {
        ConcUnit::NgMl => c_ng_ml,
        ConcUnit::NmolL => ng_ml_to_nmol_l(c_ng_ml, molar_mass),
    }
}

/// The threshold line in the figure's unit. In nmol/L a mass threshold sits at a different
/// height for each compound, so with mixed compounds no single line is drawn.
fn threshold(scenario: &Scenario, result: &RunResult) -> Option<Threshold> {
    let t = scenario.threshold_ng_ml?;
    match scenario.plot.units {
        ConcUnit::NgMl => Some(Threshold {
            value: t,
            label: format!("threshold {} ng/mL", fmt_value(t)),
        }),
        ConcUnit::NmolL => {
            let mm = result.regimens.first()?.params.molar_mass_g_mol;
            result
                .regimens
                .iter()
                .all(|r| r.params.molar_mass_g_mol == mm)
                .then(|| {
                    let v = ng_ml_to_nmol_l(t, mm);
                    Threshold {
                        value: v,
                        label: format!(
                            "threshold {} nmol/L ({} ng/mL)",
                            crate::format::fmt4(v),
                            fmt_value(t)
                        ),
                    }
                })
        }
    }
}

/// The span of the run where every regimen's pre-dose trough is at ≥ 90 % of its steady
/// state: from the latest such time to the end. `None` if any regimen has no steady state or
/// does not reach it within the run.
pub fn steady_state_window(result: &RunResult) -> Option<Shade> {
    let mut from: f64 = 0.0;
    let mut end: f64 = f64::INFINITY;
    for r in &result.regimens {
        let p = r.regimen.schedule.periodic()?;
        if r.metrics.steady_state_reached != Some(true) {
            return None;
        }
        from = from.max(p.first_h + r.params.tlag_h + r.metrics.t_90ss_h?);
        end = end.min(r.trajectory.time_h.last().copied()?);
    }
    (end > from).then(|| Shade {
        from_h: from,
        to_h: end,
        label: "steady state (≥ 90 %)".into(),
    })
}

/// The steady-state zoom: one dosing interval (the longest of the regimens) at steady state,
/// from the model's periodic steady state, time since the period's first dose on the x axis.
/// Regimens without steady state are left out (and named in the caption). `None` if no
/// regimen has one.
pub fn steady_state_figure(
    scenario: &Scenario,
    result: &RunResult,
    profiles: &SteadyProfiles,
) -> Option<FigureSpec> {
    let periodic: Vec<(&RegimenResult, &Vec<(f64, f64)>)> = result
        .regimens
        .iter()
        .zip(&profiles.per_regimen)
        .filter_map(|(r, p)| Some((r, p.as_ref()?)))
        .collect();
    if periodic.is_empty() {
        return None;
    }
    let window = profiles.window_h;
    let unit = scenario.plot.units;
    let mut series = Vec::new();
    let mut marks = Vec::new();
    for (r, profile) in &periodic {
        let p = r
            .regimen
            .schedule
            .periodic()
            .expect("a steady state is periodic");
        let mm = r.params.molar_mass_g_mol;
        let points = profile
            .iter()
            .map(|&(t, c)| (t, in_unit(unit, c, mm)))
            .collect();
        series.push(Series {
            label: r.regimen.label.clone(),
            points,
        });
        let mut m = Vec::new();
        let mut k = 0.0;
        while k * p.period_h <= window {
            m.extend(
                p.pattern
                    .iter()
                    .map(|d| d.time_h + k * p.period_h)
                    // The next period's first dose at the right edge would be cut in half.
                    .filter(|&t| t < window - 1e-9),
            );
            k += 1.0;
        }
        marks.push(m);
    }
    let multi = periodic.iter().any(|(r, _)| {
        r.regimen
            .schedule
            .periodic()
            .is_some_and(|p| p.pattern.len() > 1)
    });
    let omitted = result
        .regimens
        .iter()
        .filter(|r| r.regimen.schedule.periodic().is_none())
        .map(|r| {
            (
                r.regimen.label.clone(),
                "no steady state (explicit doses or skipped days)",
            )
        })
        .collect();
    let base = concentration_figure(scenario, result);
    Some(FigureSpec {
        kind: FigureKind::SteadyState,
        suffix: "steady_state",
        figure: Figure {
            title: format!("{} — at steady state", base.title),
            subtitle: Some(format!(
                "One dosing interval ({}) at the model's periodic steady state · k2sim {}",
                if window > 72.0 {
                    format!("{} days", fmt_value(window / 24.0))
                } else {
                    format!("{} h", fmt_value(window))
                },
                env!("CARGO_PKG_VERSION")
            )),
            y_label: base.y_label,
            series,
            y_scale: base.y_scale,
            dose_marks_h: marks,
            threshold: base.threshold,
            shade: None,
            panels: false,
            stack: Vec::new(),
            x_label: Some(if multi {
                "Time since the first dose of the period".into()
            } else {
                "Time since dose".into()
            }),
            observed: Vec::new(),
            limit: None,
            x_unit: None,
            series_styles: Vec::new(),
            bands: Vec::new(),
            markers: Vec::new(),
            x_scale: crate::plot::XScale::Linear,
            guides: Vec::new(),
        },
        omitted,
        note: None,
    })
}

/// Every figure of a run: the overlay; small multiples when there are two or more regimens;
/// the steady-state zoom when a regimen has a steady state.
pub fn figures(
    scenario: &Scenario,
    result: &RunResult,
    profiles: &SteadyProfiles,
    uncertainty: Option<&Uncertainty>,
) -> Vec<FigureSpec> {
    let mut overlay = concentration_figure(scenario, result);
    let note = uncertainty.map(|u| {
        overlay.bands = uncertainty_bands(scenario, result, u);
        uncertainty_note(u)
    });
    let mut out = vec![FigureSpec {
        kind: FigureKind::Overlay,
        suffix: "",
        figure: overlay.clone(),
        omitted: Vec::new(),
        note: note.clone(),
    }];
    if result.regimens.len() >= 2 {
        out.push(FigureSpec {
            kind: FigureKind::Panels,
            suffix: "panels",
            figure: Figure {
                panels: true,
                ..overlay
            },
            omitted: Vec::new(),
            note,
        });
    }
    if let Some(ss) = steady_state_figure(scenario, result, profiles) {
        out.push(ss);
    }
    out.extend(crate::report::response_figure::response_figures(
        scenario, result,
    ));
    out
}

/// The 5–95 % band of each regimen's concentration over the uncertainty draws, in the
/// figure's unit, tinted in the regimen's colour.
pub fn uncertainty_bands(scenario: &Scenario, result: &RunResult, u: &Uncertainty) -> Vec<Band> {
    let unit = scenario.plot.units;
    u.regimens
        .iter()
        .zip(&result.regimens)
        .enumerate()
        .filter(|(_, (ru, _))| !ru.sampled.is_empty())
        .map(|(i, (ru, r))| {
            let mm = r.params.molar_mass_g_mol;
            Band {
                series: i,
                label: "5–95 % over the preset ranges".to_string(),
                points: ru
                    .band
                    .iter()
                    .map(|&(t, lo, _, hi)| (t, in_unit(unit, lo, mm), in_unit(unit, hi, mm)))
                    .collect(),
                opacity: 0.18,
            }
        })
        .collect()
}

/// What the uncertainty bands are and which metrics they leave robust, for the captions.
pub fn uncertainty_note(u: &Uncertainty) -> String {
    let (robust, uncertain) = u.split();
    let names = |ms: &[crate::metric::Metric]| {
        if ms.is_empty() {
            "none".to_string()
        } else {
            ms.iter().map(|m| m.key()).collect::<Vec<_>>().join(", ")
        }
    };
    let params: Vec<String> = u
        .parameters
        .iter()
        .map(|p| {
            format!(
                "{} {} {}–{}",
                p.compound,
                p.param,
                crate::format::short(p.lo),
                crate::format::short(p.hi)
            )
        })
        .collect();
    format!(
        "Shaded bands: 5–95 % of the concentration over {} draws (seed {}) of the preset parameters over their plausible ranges ({}; {}). Robust (90 % interval within ±20 % of its median): {}. Uncertain: {}. Every interval: uncertainty.csv and summary.json.",
        u.spec.n,
        u.spec.seed,
        if params.is_empty() { "none sampled".to_string() } else { params.join(", ") },
        crate::study::uncertainty::DISTRIBUTION,
        names(&robust),
        names(&uncertain)
    )
}

fn source_line(name: &str, value: String, p: &Provenance) -> String {
    format!(
        "    {name:<15} {value:<14} [{}] {}\n",
        if p.origin == "scenario" {
            "set in scenario"
        } else {
            evidence_tag(p.evidence)
        },
        p.source
    )
}

/// The plain-text caption written beside a figure (`<figure>.txt`): what it shows, the model,
/// every parameter with its value, evidence tag and source, and the command that made it, so
/// the figure can be cited honestly.
pub fn caption_text(
    scenario: &Scenario,
    result: &RunResult,
    spec: &FigureSpec,
    file_stem: &str,
    command: &str,
) -> String {
    let fig = &spec.figure;
    let mut s = String::new();
    let _ = writeln!(s, "Figure {file_stem}: {}", fig.title);
    if let Some(c) = &scenario.caption {
        let _ = writeln!(s, "\n{c}");
    }
    let what = match spec.kind {
        FigureKind::Overlay => "Simulated serum concentration over the run, one line per regimen (colour and line style).",
        FigureKind::Panels => "Simulated serum concentration over the run, one panel per regimen, each with its own concentration axis and a shared time axis.",
        FigureKind::DoseResponse => "Modelled change of a carboxylation marker at steady state against the daily dose, one line per compound, on a logarithmic dose axis (docs/response.md). The marker, not a clinical outcome.",
        FigureKind::Response => "Top: the simulated serum concentration that drives the marker. Bottom: the modelled change of a carboxylation marker from its baseline over the run, one line per regimen (the same colour in both panels): a turnover model driven by the simulated serum concentration (docs/response.md). The marker, not a clinical outcome: no trial has shown that moving it prevents fractures, calcification or events.",
        FigureKind::SteadyState => "One dosing interval at steady state, regimens overlaid; x axis: time since the period's first dose. Computed from the model's periodic steady state (fixed point of the one-period map), not cut from the run; regimens with shorter intervals are continued periodically over the longest interval.",
    };
    let _ = writeln!(s, "\n{what}");
    let _ = writeln!(
        s,
        "Axis: {}, {} scale.{}",
        fig.y_label,
        if fig.y_scale == YScale::Log {
            "logarithmic"
        } else {
            "linear"
        },
        if fig.dose_marks_h.is_empty() {
            ""
        } else {
            " Triangles (or ticks) on the time axis mark doses taken."
        }
    );
    if let Some(t) = &fig.threshold {
        let _ = writeln!(s, "Dashed grey line: {}.", t.label);
    } else if scenario.threshold_ng_ml.is_some() {
        let _ = writeln!(
            s,
            "The threshold of {} ng/mL is not drawn: in nmol/L it differs by compound.",
            fmt_value(scenario.threshold_ng_ml.unwrap_or_default())
        );
    }
    if let Some(sh) = &fig.shade {
        let _ = writeln!(
            s,
            "Shaded: from {} h on, every regimen's pre-dose trough is at ≥ 90 % of its steady state.",
            fmt_value(sh.from_h)
        );
    }
    for (label, why) in &spec.omitted {
        let _ = writeln!(s, "Not shown: {label} ({why}).");
    }
    if let Some(note) = &spec.note {
        let _ = writeln!(s, "{note}");
    }
    s.push_str(&model_sentence(result));
    let _ = writeln!(
        s,
        "Tags: measured (primary source), secondary (quoted by reviews), derived (computed by k2sim from measured numbers), assumed."
    );
    s.push_str(&regimens_text(result));
    let _ = writeln!(s, "Made with: {command}");
    s
}

/// The "Regimens and parameters" section of a caption: per regimen its schedule, food, every
/// parameter with its value, evidence tag and source, and its known limits; then the molar
/// masses. Shared by every figure's caption.
pub fn regimens_text(result: &RunResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nRegimens and parameters:");
    for r in &result.regimens {
        let reg = &r.regimen;
        let _ = writeln!(
            s,
            "  {} — {}; {}; {} doses, {} in all",
            reg.label,
            reg.compound.name,
            reg.schedule.describe(),
            reg.schedule.dose_count(),
            fmt_amount(reg.schedule.total_ug())
        );
        if let Some(f) = &reg.food {
            let _ = writeln!(
                s,
                "    food: {} g {} per dose = {} K2 [{}] {}",
                fmt_value(f.amount_g),
                f.food.name,
                fmt_amount(f.k2_ug),
                evidence_tag(Some(f.food.k2_ug_per_100g.evidence)),
                f.food.k2_ug_per_100g.source
            );
            let _ = writeln!(
                s,
                "    food compound: {} [{}] {}",
                f.food.compound_id,
                evidence_tag(Some(f.food.compound.evidence)),
                f.food.compound.source
            );
        }
        let p = &r.params;
        let src = &reg.sources;
        if let Some(ka) = p.ka_per_h {
            s.push_str(&source_line(
                "ka_per_h",
                format!("{ka:.4} /h"),
                &src.ka_per_h,
            ));
        }
        s.push_str(&source_line(
            "half_life_h",
            format!("{} h", fmt_value(p.half_life_h)),
            &src.half_life_h,
        ));
        s.push_str(&source_line(
            "v_l (V/F)",
            format!("{:.1} L", p.v_l),
            &src.v_l,
        ));
        s.push_str(&source_line("f", fmt_value(p.f), &src.f));
        s.push_str(&source_line(
            "tlag_h",
            format!("{} h", fmt_value(p.tlag_h)),
            &src.tlag_h,
        ));
        s.push_str(&source_line(
            "baseline_ng_ml",
            format!("{} ng/mL", fmt_value(p.baseline_ng_ml)),
            &src.baseline_ng_ml,
        ));
        for (key, value, src) in [
            (
                "q_l_per_h",
                p.q_l_per_h.map(|x| format!("{} L/h", fmt_value(x))),
                &src.q_l_per_h,
            ),
            (
                "vp_l",
                p.vp_l.map(|x| format!("{} L", fmt_value(x))),
                &src.vp_l,
            ),
            (
                "vmax_ug_per_h",
                p.vmax_ug_per_h.map(|x| format!("{} µg/h", fmt_value(x))),
                &src.vmax_ug_per_h,
            ),
            (
                "km_ug",
                p.km_ug.map(|x| format!("{} µg", fmt_value(x))),
                &src.km_ug,
            ),
        ] {
            if let (Some(v), Some(src)) = (value, src) {
                s.push_str(&source_line(key, v, src));
            }
        }
        if let (Some(a), Some(b)) = (p.alpha_half_life_h, p.terminal_half_life_h) {
            let _ = writeln!(
                s,
                "    two compartments: t½ alpha {} h, terminal t½ {} h (derived from ke, V, Q, Vp)",
                fmt_value(a),
                fmt_value(b)
            );
        }
        let _ = writeln!(s, "    known limits: {}", reg.compound.notes);
    }
    let _ = writeln!(
        s,
        "\nMolar masses for nmol/L: MK-4 444.66, MK-7 649.02, K1 450.71 g/mol."
    );
    s
}

/// "One-compartment model, first-order absorption", or the mix of models of a run's regimens.
pub fn model_description(result: &RunResult) -> String {
    models_description(result.regimens.iter().map(|r| &r.regimen.model))
}

/// "One-compartment model, first-order absorption", or the mix of `models`.
pub fn models_description<'a>(models: impl Iterator<Item = &'a PkModel>) -> String {
    let models: Vec<&PkModel> = models.collect();
    let (one, two) = (
        models.iter().any(|m| m.peripheral.is_none()),
        models.iter().any(|m| m.peripheral.is_some()),
    );
    let (first, mm) = (
        models.iter().any(|m| m.is_linear()),
        models.iter().any(|m| !m.is_linear()),
    );
    let compartments = match (one, two) {
        (true, true) => "One- and two-compartment models",
        (false, true) => "Two-compartment model",
        _ => "One-compartment model",
    };
    let absorption = match (first, mm) {
        (true, true) => "first-order and saturable (Michaelis–Menten) absorption",
        (false, true) => "saturable (Michaelis–Menten) absorption",
        _ => "first-order absorption",
    };
    format!("{compartments}, {absorption}")
}

/// The caption's model sentence: structure, equations in words, solver, version.
pub fn model_sentence(result: &RunResult) -> String {
    let basic = result.regimens.iter().all(|r| r.regimen.model.is_basic());
    let model = if basic {
        "one compartment, first-order absorption".to_string()
    } else {
        lower_first(&model_description(result))
    };
    format!(
        "\nModel: {model}, linear elimination; C = A_c/V + baseline. Solver: {} (k2sim {}).\n",
        solver_name(result),
        env!("CARGO_PKG_VERSION")
    )
}

/// "exact solver", or "exact solver (ode for saturable absorption)".
pub fn solver_description(result: &RunResult) -> String {
    format!("{} solver", solver_name(result))
}

/// The run's solver, noting regimens that fell back to Dopri5: "exact (ode for saturable
/// absorption)".
pub fn solver_name(result: &RunResult) -> String {
    let models = result.regimens.iter().map(|r| &r.regimen.model);
    solver_name_for(result.solver, models)
}

/// [`solver_name`] for `solver` asked for on `models`.
pub fn solver_name_for<'a>(
    solver: crate::model::SolverKind,
    mut models: impl Iterator<Item = &'a PkModel>,
) -> String {
    if models.any(|m| crate::model::solver_used(m, solver) != solver) {
        format!("{} (ode for saturable absorption)", solver.name())
    } else {
        solver.name().to_string()
    }
}
