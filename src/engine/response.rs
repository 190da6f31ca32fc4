//! The carboxylation markers of a regimen: the scenario's `[response]` presets driven by the
//! regimen's simulated concentration (its supplement part, baseline excluded), on the run's
//! output grid, with the steady state from the periodic steady-state course.

use crate::compound::Cited;
use crate::engine::sim::Trajectory;
use crate::error::SimError;
use crate::model::SolverKind;
use crate::response::turnover::{solve_exact, solve_ode};
use crate::response::{Marker, MarkerPreset};

/// One marker of one regimen over the run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MarkerCourse {
    pub marker: Marker,
    pub unit: &'static str,
    /// Level before the first dose (the preset's baseline).
    pub baseline: f64,
    /// The level at each output time of the run's trajectory.
    #[serde(skip)]
    pub values: Vec<f64>,
    /// Level at the end of the run.
    pub value_at_end: f64,
    /// Change from baseline at the end of the run (%; negative is a fall).
    pub pct_change_at_end: f64,
    /// Change of the period-mean level at the response's steady state under the regimen's
    /// periodic steady state (%); `None` without a steady state.
    pub pct_change_ss: Option<f64>,
    /// First time the change reaches half its steady-state change (h, linear between output
    /// times); `None` without a steady state or when the run ends first.
    pub t_50pct_effect_h: Option<f64>,
    /// Every parameter with its unit, evidence and source.
    pub params: Vec<ResponseParam>,
}

/// One cited parameter of a marker.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResponseParam {
    pub name: &'static str,
    pub unit: &'static str,
    #[serde(flatten)]
    pub cited: Cited,
}

/// The marker courses of a regimen of compound `id` (molar mass `mm`) whose trajectory is
/// `traj` with PK baseline `pk_baseline_ng_ml`; `ss_profile` is one period of the steady-state
/// concentration `(time_h, conc_ng_ml)` (baseline included) when the regimen has one.
pub fn marker_courses(
    presets: &[MarkerPreset],
    id: &str,
    mm: f64,
    traj: &Trajectory,
    pk_baseline_ng_ml: f64,
    ss_profile: Option<&[(f64, f64)]>,
    solver: SolverKind,
) -> Result<Vec<MarkerCourse>, SimError> {
    presets
        .iter()
        .filter_map(|p| p.equivalents_per_ng_ml(id, mm).map(|w| (p, w)))
        .map(|(p, w)| {
            let t = p.turnover();
            let values = levels(&t, w, traj, pk_baseline_ng_ml, solver)?;
            let pct = |v: f64| 100.0 * (v / t.baseline - 1.0);
            let value_at_end = values.last().copied().unwrap_or(t.baseline);
            let pct_change_ss = ss_profile.and_then(|prof| {
                let extra: Vec<(f64, f64)> = prof
                    .iter()
                    .map(|&(ti, c)| (ti, w * (c - pk_baseline_ng_ml).max(0.0)))
                    .collect();
                t.periodic_mean_level(&extra).map(pct)
            });
            let t_50pct_effect_h = pct_change_ss.and_then(|ss| {
                let half = 0.5 * ss;
                let reached = |v: f64| {
                    if half < 0.0 {
                        pct(v) <= half
                    } else {
                        pct(v) >= half
                    }
                };
                let i = values.iter().position(|&v| reached(v))?;
                if i == 0 {
                    return Some(traj.time_h[0]);
                }
                let (a, b) = (pct(values[i - 1]), pct(values[i]));
                let (t0, t1) = (traj.time_h[i - 1], traj.time_h[i]);
                Some(if b == a {
                    t1
                } else {
                    t0 + (half - a) / (b - a) * (t1 - t0)
                })
            });
            Ok(MarkerCourse {
                marker: p.marker,
                unit: p.marker.unit(),
                baseline: t.baseline,
                value_at_end,
                pct_change_at_end: pct(value_at_end),
                pct_change_ss,
                t_50pct_effect_h,
                params: p
                    .parameters()
                    .into_iter()
                    .map(|(name, unit, c)| ResponseParam {
                        name,
                        unit,
                        cited: c.clone(),
                    })
                    .collect(),
                values,
            })
        })
        .collect()
}

/// The marker's level at each output time of `traj` under turnover `t`, the supplement part of
/// the concentration weighted by `w` (MK-7-equivalent nmol/L per ng/mL).
pub fn levels(
    t: &crate::response::Turnover,
    w: f64,
    traj: &Trajectory,
    pk_baseline_ng_ml: f64,
    solver: SolverKind,
) -> Result<Vec<f64>, SimError> {
    levels_on(
        t,
        w,
        &traj.time_h,
        &traj.conc_ng_ml,
        pk_baseline_ng_ml,
        solver,
    )
}

/// [`levels`] on a course given as times (h, ascending) and concentrations (ng/mL).
pub fn levels_on(
    t: &crate::response::Turnover,
    w: f64,
    time_h: &[f64],
    conc_ng_ml: &[f64],
    pk_baseline_ng_ml: f64,
    solver: SolverKind,
) -> Result<Vec<f64>, SimError> {
    let extra: Vec<f64> = conc_ng_ml
        .iter()
        .map(|c| w * (c - pk_baseline_ng_ml).max(0.0))
        .collect();
    Ok(match solver {
        SolverKind::Exact => solve_exact(t, time_h, &extra),
        SolverKind::Ode => solve_ode(t, time_h, &extra).map_err(|reason| SimError::OdeFailed {
            t_h: 0.0,
            reason,
            hint: "use solver = \"exact\" (the exact solution of the same turnover model)".into(),
        })?,
    })
}

/// The change (%) of each marker at the end of a course `(time_h, conc_ng_ml, pk_baseline)` of
/// compound `c`, in [`Marker::ALL`] order; `None` for a marker not modelled.
pub fn changes_at_end(
    presets: &[MarkerPreset],
    c: &crate::compound::Compound,
    (time_h, conc_ng_ml, pk_baseline_ng_ml): (&[f64], &[f64], f64),
    solver: SolverKind,
) -> Result<[Option<f64>; 2], SimError> {
    let mut out = [None; 2];
    for p in presets {
        let Some(w) = p.equivalents_per_ng_ml(c.id, c.molar_mass_g_mol) else {
            continue;
        };
        let t = p.turnover();
        let levels = levels_on(&t, w, time_h, conc_ng_ml, pk_baseline_ng_ml, solver)?;
        let i = Marker::ALL.iter().position(|m| *m == p.marker).unwrap_or(0);
        out[i] = levels.last().map(|v| 100.0 * (v / t.baseline - 1.0));
    }
    Ok(out)
}
