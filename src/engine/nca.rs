//! Non-compartmental analysis of a simulated regimen, as a study would compute it from samples
//! at the output grid: PKNCA's default rules ([`crate::nca`]) applied to the curve of
//! `timeseries.csv`, baseline included (as in measured data), beside the exact model value of
//! AUC0–∞; the last dosing interval's Ctrough, Cmin, Cmax and swing; and the partial AUCs the
//! scenario's `auc_intervals_h` asks for. Pure: it reads a [`RegimenResult`].

use std::collections::BTreeMap;

use crate::engine::run::RegimenResult;
use crate::nca::{self, NcaOptions, Profile, Value};

/// The `nca` object of a regimen in `summary.json` (PKNCA's names with units; `None` is JSON
/// `null`, and `missing` then says why).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RegimenNca {
    /// AUC from 0 to Tlast, linear-up/log-down on the grid (PKNCA `auclast`, ng·h/mL).
    pub auclast_ng_h_ml: Option<f64>,
    /// AUClast + Clast/λz (PKNCA `aucinf.obs`, ng·h/mL): the grid's estimate of AUC0–∞.
    pub aucinf_obs_ng_h_ml: Option<f64>,
    /// The exact AUC0–∞ of the model (ng·h/mL) above the baseline for the bioavailable amount
    /// that entered within the run (`mass_balance.absorbed_input_ug`, doses after the end left
    /// out): F·dose/CL = absorbed input/(ke·V), the value `aucinf_obs_ng_h_ml` estimates when the
    /// baseline is 0.
    pub aucinf_model_ng_h_ml: Option<f64>,
    /// Area under t·C from 0 to Tlast (PKNCA `aumclast`, ng·h²/mL).
    pub aumclast_ng_h2_ml: Option<f64>,
    /// AUMClast + Clast·Tlast/λz + Clast/λz² (PKNCA `aumcinf.obs`, ng·h²/mL).
    pub aumcinf_obs_ng_h2_ml: Option<f64>,
    /// AUMClast/AUClast (PKNCA `mrt.last`, h).
    pub mrt_last_h: Option<f64>,
    /// AUMCinf,obs/AUCinf,obs (PKNCA `mrt.obs`, h), from time 0, absorption included.
    pub mrt_obs_h: Option<f64>,
    /// Time of the last positive concentration (PKNCA `tlast`, h).
    pub tlast_h: Option<f64>,
    /// The concentration at Tlast (PKNCA `clast.obs`, ng/mL).
    pub clast_obs_ng_ml: Option<f64>,
    /// Terminal rate constant from the best adjusted R² (PKNCA `lambda.z`, 1/h).
    pub lambda_z_per_h: Option<f64>,
    /// ln 2/λz (PKNCA `half.life`, h).
    pub half_life_h: Option<f64>,
    /// R² of the λz regression (PKNCA `r.squared`).
    pub r_squared: Option<f64>,
    /// Adjusted R² of the λz regression (PKNCA `adj.r.squared`).
    pub adj_r_squared: Option<f64>,
    /// Points in the λz regression (PKNCA `lambda.z.n.points`).
    pub lambda_z_n_points: Option<usize>,
    /// First time in the λz regression (PKNCA `lambda.z.time.first`, h).
    pub lambda_z_time_first_h: Option<f64>,
    /// The regression's span over the half-life (PKNCA `span.ratio`).
    pub span_ratio: Option<f64>,
    /// Every dose taken within the run over AUCinf,obs: CL/F (PKNCA `cl.obs`, L/h).
    pub cl_f_l_per_h: Option<f64>,
    /// CL/F over λz: Vz/F (PKNCA `vz.obs`, L).
    pub vz_f_l: Option<f64>,
    /// The last dosing interval, between the last two dose times of the run.
    pub dosing_interval: Option<DosingInterval>,
    /// AUCs over the scenario's `auc_intervals_h`, in their order; absent when it has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auc_intervals: Vec<PartialAuc>,
    /// Why each `null` value above is missing, by key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, String>,
    /// What the reader should know about these values (a baseline in the curve).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The PKNCA parameters of one dosing interval (its start and end included), from the grid.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DosingInterval {
    /// The second-to-last dose time of the run (h).
    pub start_h: f64,
    /// The last dose time of the run (h).
    pub end_h: f64,
    /// Highest concentration in the interval (PKNCA `cmax`, ng/mL).
    pub cmax_ng_ml: f64,
    /// Lowest concentration in the interval (PKNCA `cmin`, ng/mL).
    pub cmin_ng_ml: f64,
    /// The concentration at the end of the interval, just before the last dose (PKNCA
    /// `ctrough`, ng/mL): the pre-dose trough, which is not `cmin_ng_ml` when the lowest level
    /// falls elsewhere (a lag time, an uneven schedule, a run not yet at steady state).
    pub ctrough_ng_ml: f64,
    /// 100·(Cmax − Cmin)/Cmin (PKNCA `swing`, %); `None` when Cmin is 0.
    pub swing_pct: Option<f64>,
}

/// The AUC over one requested interval (PKNCA `aucint.last`: ends interpolated on the grid).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PartialAuc {
    pub start_h: f64,
    pub end_h: f64,
    /// The AUC (ng·h/mL); `None` when the interval ends after the regimen's run (a regimen of
    /// a shorter scenario in `k2sim compare`), or for an empty grid.
    pub auc_ng_h_ml: Option<f64>,
}

/// Records `v` under `key`: its value, or `None` and the reason in `missing`.
fn take(missing: &mut BTreeMap<String, String>, key: &str, v: Value) -> Option<f64> {
    match v {
        Ok(x) if x.is_finite() => Some(x),
        Ok(x) => {
            missing.insert(key.into(), format!("the value is not finite ({x})"));
            None
        }
        Err(e) => {
            missing.insert(key.into(), e.to_string());
            None
        }
    }
}

/// The NCA of one simulated regimen on its output grid, with PKNCA's default options, and the
/// AUCs over `auc_intervals_h` (each `[start, end]` inside the run, as the scenario validated).
pub fn regimen_nca(r: &RegimenResult, auc_intervals_h: &[[f64; 2]]) -> RegimenNca {
    let o = NcaOptions::default();
    let tr = &r.trajectory;
    let mut missing = BTreeMap::new();
    let mut notes = Vec::new();
    // Solver round-off below zero counts as 0 (BLQ); the exact solver gives none.
    let conc: Vec<f64> = tr.conc_ng_ml.iter().map(|c| c.max(0.0)).collect();
    let profile = Profile::new(tr.time_h.clone(), conc).unwrap_or_else(|e| {
        notes.push(format!("no NCA: the output grid is not a profile ({e})"));
        Profile::default()
    });
    let end_h = tr.time_h.last().copied().unwrap_or(0.0);
    let m = &r.regimen.model;
    // The dose given within the run, as given (F not applied, as PKNCA's dose): an oral dose
    // once its absorption has started (dose + lag), an IV dose at its time, an infusion for
    // the part delivered before the end.
    let events = r.regimen.schedule.events();
    let resets = events.iter().any(|e| e.reset);
    let dose_in_run: f64 = events
        .iter()
        .map(|e| {
            let start = match e.route {
                crate::dosing::Route::Oral => e.time_h + m.tlag_h,
                crate::dosing::Route::Iv => e.time_h,
            };
            if start > end_h {
                0.0
            } else if e.is_bolus() {
                e.amount_ug
            } else {
                e.amount_ug * ((end_h - start) / e.infusion_h).min(1.0)
            }
        })
        .sum();
    // CL/F and Vz/F from the dose need a run that starts empty and keeps what it is given.
    let dose_based = !r.regimen.at_steady_state && !resets;
    let n = nca::nca(&profile, dose_based.then_some(dose_in_run), &o);
    let dose_reason = (!dose_based).then_some(if resets {
        "the run resets the body (dataset EVID 3/4): the dose does not relate to the area"
    } else {
        "the run starts at steady state: the area includes what earlier doses left in the body"
    });
    let (lz_value, lz_err) = match &n.lambda_z {
        Ok(l) => (Some(*l), None),
        Err(e) => (None, Some(e.to_string())),
    };
    if let Some(e) = &lz_err {
        for key in [
            "lambda_z_per_h",
            "half_life_h",
            "r_squared",
            "adj_r_squared",
            "lambda_z_n_points",
            "lambda_z_time_first_h",
            "span_ratio",
        ] {
            missing.insert(key.into(), e.clone());
        }
    }
    if m.baseline_ng_ml > 0.0 {
        notes.push(format!(
            "the curve includes the baseline of {} ng/mL, as measured data would: λz, AUCinf,obs, CL/F and Vz/F include it, while aucinf_model_ng_h_ml is the dose-derived part alone",
            crate::format::fmt_value(m.baseline_ng_ml)
        ));
    }
    // Everything that enters (and what is in the body at the start) is eliminated from the
    // central compartment at ke: ∫A_c dt = amount/ke, with one or two compartments.
    let aucinf_model = if resets {
        Err(
            "the run resets the body (dataset EVID 3/4): what is removed is not eliminated"
                .to_string(),
        )
    } else {
        Ok(
            (r.mass_balance.absorbed_input_ug + r.mass_balance.initial_body_ug.unwrap_or(0.0))
                / (m.ke_per_h * m.v_l),
        )
    };
    let clean = profile.cleaned(&o.blq).0;
    let auc_intervals = auc_intervals_h
        .iter()
        .enumerate()
        .map(|(i, &[a, b])| {
            let key = format!("auc_intervals[{i}]");
            // The scenario checked the interval against its own run; a regimen compared from
            // a shorter scenario (`k2sim compare`) may end earlier.
            let auc = if b > end_h {
                missing.insert(
                    key,
                    format!(
                        "the interval ends after this regimen's run ({} h)",
                        crate::format::fmt_value(end_h)
                    ),
                );
                None
            } else {
                take(
                    &mut missing,
                    &key,
                    nca::auc_between(&clean, a, b, o.auc_method),
                )
            };
            PartialAuc {
                start_h: a,
                end_h: b,
                auc_ng_h_ml: auc,
            }
        })
        .collect();
    let dosing_interval = match last_interval(r, &profile) {
        Ok(d) => {
            if d.swing_pct.is_none() {
                missing.insert(
                    "dosing_interval.swing_pct".into(),
                    "Cmin is 0 in the interval, so the swing is infinite (PKNCA gives Inf)".into(),
                );
            }
            Some(d)
        }
        Err(why) => {
            missing.insert("dosing_interval".into(), why);
            None
        }
    };
    let mut out = RegimenNca {
        auclast_ng_h_ml: take(&mut missing, "auclast_ng_h_ml", n.auclast_ng_h_ml),
        aucinf_obs_ng_h_ml: take(&mut missing, "aucinf_obs_ng_h_ml", n.aucinf_obs_ng_h_ml),
        aucinf_model_ng_h_ml: match aucinf_model {
            Ok(v) => take(&mut missing, "aucinf_model_ng_h_ml", Ok(v)),
            Err(why) => {
                missing.insert("aucinf_model_ng_h_ml".into(), why);
                None
            }
        },
        aumclast_ng_h2_ml: take(&mut missing, "aumclast_ng_h2_ml", n.aumclast_ng_h2_ml),
        aumcinf_obs_ng_h2_ml: take(&mut missing, "aumcinf_obs_ng_h2_ml", n.aumcinf_obs_ng_h2_ml),
        mrt_last_h: take(&mut missing, "mrt_last_h", n.mrt_last_h),
        mrt_obs_h: take(&mut missing, "mrt_obs_h", n.mrt_obs_h),
        tlast_h: take(&mut missing, "tlast_h", n.tlast_h),
        clast_obs_ng_ml: take(&mut missing, "clast_obs_ng_ml", n.clast_obs_ng_ml),
        lambda_z_per_h: lz_value.map(|l| l.lambda_z_per_h),
        half_life_h: lz_value.map(|l| l.half_life_h),
        r_squared: lz_value.map(|l| l.r_squared),
        adj_r_squared: lz_value.map(|l| l.adj_r_squared),
        lambda_z_n_points: lz_value.map(|l| l.n_points),
        lambda_z_time_first_h: lz_value.map(|l| l.time_first_h),
        span_ratio: lz_value.map(|l| l.span_ratio),
        cl_f_l_per_h: take(&mut missing, "cl_f_l_per_h", n.cl_f_l_per_h),
        vz_f_l: take(&mut missing, "vz_f_l", n.vz_f_l),
        dosing_interval,
        auc_intervals,
        missing,
        notes,
    };
    if let Some(why) = dose_reason {
        for key in ["cl_f_l_per_h", "vz_f_l"] {
            out.missing.insert(key.into(), why.into());
        }
    }
    out
}

/// Cmax, Cmin, Ctrough and swing between the last two distinct dose times of the run, or why
/// there is no such interval.
fn last_interval(r: &RegimenResult, p: &Profile) -> Result<DosingInterval, String> {
    let mut times = r.dose_times_h.clone();
    times.dedup();
    let [.., start_h, end_h] = times[..] else {
        return Err(match times.len() {
            0 => "no dose within the run".into(),
            _ => "a single dose time within the run: no dosing interval".into(),
        });
    };
    let (t, c) = (p.time_h(), p.conc_ng_ml());
    // Dose times are on the grid (to the grid's 1e-9 merging of nearly equal times).
    let near = |x: f64| (x - 1e-9 * x.abs().max(1.0), x + 1e-9 * x.abs().max(1.0));
    let (lo, _) = near(start_h);
    let (end_lo, end_hi) = near(end_h);
    let inside: Vec<(f64, f64)> = t
        .iter()
        .zip(c)
        .filter(|(&ti, _)| ti >= lo && ti <= end_hi)
        .map(|(&ti, &ci)| (ti, ci))
        .collect();
    let ctrough = inside
        .iter()
        .rev()
        .find(|(ti, _)| *ti >= end_lo)
        .map(|&(_, ci)| ci)
        .ok_or_else(|| format!("the dose time {end_h} h is not on the output grid"))?;
    let cmax = inside.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let cmin = inside.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    Ok(DosingInterval {
        start_h,
        end_h,
        cmax_ng_ml: cmax,
        cmin_ng_ml: cmin,
        ctrough_ng_ml: ctrough,
        swing_pct: (cmin > 0.0).then(|| 100.0 * (cmax - cmin) / cmin),
    })
}
