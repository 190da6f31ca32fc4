//! Non-compartmental analysis (NCA) of one concentration–time profile with PKNCA's default
//! rules (PKNCA, `docs/references.md`; the rules and where k2sim departs from them:
//! `docs/nca.md`): BLQ cleaning, AUC and AUMC by linear-up/log-down
//! trapezoids, λz from the best adjusted R² over the last points after Tmax, and the parameters
//! derived from them. A value that cannot be computed is a [`Missing`] reason, never NaN.
//!
//! Ground floor: pure functions on a [`Profile`] (time in h after the dose, concentration in
//! ng/mL, dose in µg); it imports nothing from the crate.

use std::borrow::Cow;

mod auc;
mod half_life;
#[cfg(test)]
mod tests;

pub use auc::{auc_between, auc_last, aumc_last};
pub use half_life::{lambda_z, LambdaZ};

/// How each segment between two samples is integrated (PKNCA option `auc.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AucMethod {
    /// Linear trapezoid where the concentration rises or stays, log trapezoid where it falls
    /// to a positive value (PKNCA "lin up/log down", its default).
    #[default]
    LinUpLogDown,
    /// Linear trapezoid everywhere (PKNCA "linear").
    Linear,
}

/// What is done with a BLQ concentration (written as 0, as PKNCA does) at one position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlqAction {
    /// Kept as 0.
    Keep,
    /// Removed with its time.
    Drop,
}

/// BLQ handling by position (PKNCA option `conc.blq`, default `first = "keep", middle =
/// "drop", last = "keep"`). "First" is up to the first positive concentration, "last" from the
/// last positive one on, "middle" between them. With every value BLQ, all count as first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BlqRule {
    /// Before the first positive concentration (default: keep; the pre-dose 0 anchors the AUC).
    pub first: BlqAction,
    /// Between the first and the last positive concentration (default: drop).
    pub middle: BlqAction,
    /// After the last positive concentration (default: keep; AUClast ignores it anyway).
    pub last: BlqAction,
}

impl Default for BlqRule {
    fn default() -> Self {
        Self {
            first: BlqAction::Keep,
            middle: BlqAction::Drop,
            last: BlqAction::Keep,
        }
    }
}

/// The options of one NCA, PKNCA's defaults unless changed (PKNCA.options()).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NcaOptions {
    /// Segment integration (default linear-up/log-down).
    pub auc_method: AucMethod,
    /// BLQ handling (default keep first, drop middle, keep last).
    pub blq: BlqRule,
    /// Fewest points of a λz regression (PKNCA `min.hl.points`, default 3).
    pub min_hl_points: usize,
    /// Regressions whose adjusted R² is within this of the best count as equally good, and
    /// the one with the most points wins (PKNCA `adj.r.squared.factor`, default 1e-4).
    pub adj_r_squared_factor: f64,
    /// Whether the sample at Tmax may be in the λz regression (PKNCA
    /// `allow.tmax.in.half.life`, default false).
    pub allow_tmax_in_half_life: bool,
}

impl Default for NcaOptions {
    fn default() -> Self {
        Self {
            auc_method: AucMethod::LinUpLogDown,
            blq: BlqRule::default(),
            min_hl_points: 3,
            adj_r_squared_factor: 1e-4,
            allow_tmax_in_half_life: false,
        }
    }
}

/// Why a value of an NCA is missing. Values that depend on a missing one carry its reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Missing {
    /// The profile has no samples.
    #[error("no samples")]
    NoData,
    /// An area needs two samples.
    #[error("only one sample: an area needs two or more")]
    OneSample,
    /// No sample at the dose (time 0), so the AUC has no start.
    #[error("no sample at the dose (0 h; the first is at {first_h} h): PKNCA does not extrapolate back to the dose; add the pre-dose sample at time 0")]
    NoSampleAtDose {
        /// Time of the first sample (h).
        first_h: f64,
    },
    /// Every concentration is BLQ (0).
    #[error("every concentration is BLQ (0)")]
    AllBlq,
    /// Fewer points after Tmax than a λz regression needs.
    #[error("{n} positive sample(s) after Tmax; λz needs at least {min} (PKNCA min.hl.points)")]
    TooFewPoints {
        /// Positive samples after Tmax.
        n: usize,
        /// The least number the options allow.
        min: usize,
    },
    /// The concentrations are all equal.
    #[error("every positive concentration is the same: no slope")]
    NoVariability,
    /// No regression of the last points has a positive λz within the tolerance of the best.
    #[error("no terminal phase: no regression of the last points with λz > 0 is within the adjusted R² tolerance of the best one")]
    NoTerminalPhase,
    /// The dose is not known.
    #[error("no dose given: CL/F and Vz/F need it (a dose_ug column)")]
    NoDose,
    /// An area that a ratio divides by is zero.
    #[error("{what} is 0, so the ratio is undefined")]
    ZeroArea {
        /// The area ("AUClast", "AUCinf,obs").
        what: &'static str,
    },
    /// A value this one needs is missing.
    #[error("{what} is missing: {why}")]
    Needs {
        /// The value needed ("λz", "AUCinf,obs").
        what: &'static str,
        /// Why it is missing.
        why: Box<Missing>,
    },
}

impl Missing {
    /// This reason, as the reason of a value that needs `what`.
    pub fn needs(what: &'static str, why: &Missing) -> Self {
        // A chain names only the first missing value, not every step to it.
        match why {
            Missing::Needs { .. } => why.clone(),
            _ => Missing::Needs {
                what,
                why: Box::new(why.clone()),
            },
        }
    }
}

/// A value of an NCA, or why it is missing.
pub type Value = Result<f64, Missing>;

/// Why a profile is refused: bad data that a reader should have located and refused first.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// Times and concentrations differ in number.
    #[error("{times} times but {concs} concentrations")]
    Lengths { times: usize, concs: usize },
    /// A time is not finite or before the dose.
    #[error("sample {index}: time {time_h} h is not a finite time at or after the dose (0 h)")]
    Time { index: usize, time_h: f64 },
    /// Times do not increase.
    #[error("sample {index}: time {time_h} h does not follow {previous_h} h; times must increase")]
    Order {
        index: usize,
        time_h: f64,
        previous_h: f64,
    },
    /// A concentration is negative or not finite.
    #[error(
        "sample {index}: concentration {conc_ng_ml} ng/mL is not a finite value ≥ 0 (0 means BLQ)"
    )]
    Conc { index: usize, conc_ng_ml: f64 },
}

/// One concentration–time profile after one dose at time 0: increasing times (h), and
/// concentrations (ng/mL), 0 meaning below the limit of quantification (BLQ). The default is
/// the empty profile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    time_h: Vec<f64>,
    conc_ng_ml: Vec<f64>,
}

impl Profile {
    /// A profile from its samples; refuses unequal lengths, times that are not finite, before 0
    /// or not increasing, and concentrations that are negative or not finite.
    pub fn new(time_h: Vec<f64>, conc_ng_ml: Vec<f64>) -> Result<Self, ProfileError> {
        if time_h.len() != conc_ng_ml.len() {
            return Err(ProfileError::Lengths {
                times: time_h.len(),
                concs: conc_ng_ml.len(),
            });
        }
        for (i, (&t, &c)) in time_h.iter().zip(&conc_ng_ml).enumerate() {
            if !(t.is_finite() && t >= 0.0) {
                return Err(ProfileError::Time {
                    index: i,
                    time_h: t,
                });
            }
            if i > 0 && t <= time_h[i - 1] {
                return Err(ProfileError::Order {
                    index: i,
                    time_h: t,
                    previous_h: time_h[i - 1],
                });
            }
            if !(c.is_finite() && c >= 0.0) {
                return Err(ProfileError::Conc {
                    index: i,
                    conc_ng_ml: c,
                });
            }
        }
        Ok(Self { time_h, conc_ng_ml })
    }

    /// Sampling times (h after the dose).
    pub fn time_h(&self) -> &[f64] {
        &self.time_h
    }

    /// Concentrations (ng/mL; 0 is BLQ).
    pub fn conc_ng_ml(&self) -> &[f64] {
        &self.conc_ng_ml
    }

    /// The samples left after the BLQ rule (this profile itself when none is dropped), and
    /// how many were dropped.
    pub fn cleaned(&self, rule: &BlqRule) -> (Cow<'_, Profile>, usize) {
        let (t, c) = (&self.time_h, &self.conc_ng_ml);
        let positive = |i: &usize| c[*i] > 0.0;
        let (tfirst, tlast) = match (
            (0..c.len()).find(positive),
            (0..c.len()).rev().find(positive),
        ) {
            (Some(a), Some(b)) => (t[a], t[b]),
            // Every value BLQ: all of them count as "first" (PKNCA's sentinel).
            _ => {
                let last = t.last().copied().unwrap_or(0.0);
                (last, f64::INFINITY)
            }
        };
        let keep = |i: usize| -> bool {
            if c[i] > 0.0 {
                return true;
            }
            let action = if t[i] <= tfirst {
                rule.first
            } else if t[i] < tlast {
                rule.middle
            } else {
                rule.last
            };
            action == BlqAction::Keep
        };
        let dropped = (0..c.len()).filter(|&i| !keep(i)).count();
        if dropped == 0 {
            return (Cow::Borrowed(self), 0);
        }
        let kept = || (0..c.len()).filter(|&i| keep(i));
        (
            Cow::Owned(Profile {
                time_h: kept().map(|i| t[i]).collect(),
                conc_ng_ml: kept().map(|i| c[i]).collect(),
            }),
            dropped,
        )
    }

    /// Index of the last positive concentration.
    fn last_positive(&self) -> Option<usize> {
        self.conc_ng_ml.iter().rposition(|&c| c > 0.0)
    }
}

/// One subject's data for an NCA: the profile after one dose, as a reader found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// The subject's id, as written.
    pub id: String,
    /// Samples after the dose (missing values left out).
    pub profile: Profile,
    /// The dose (µg), when the data give it.
    pub dose_ug: Option<f64>,
    /// Samples without a concentration (empty or NA), left out as PKNCA's `conc.na = "drop"`.
    pub missing_samples: usize,
}

/// Highest concentration (ng/mL) and its first time (h), as PKNCA `cmax`, `tmax`
/// (`first.tmax = TRUE`). Every value BLQ: Cmax is 0 and Tmax missing.
pub fn cmax_tmax(p: &Profile) -> (Value, Value) {
    let c = p.conc_ng_ml();
    let Some(&first) = c.first() else {
        return (Err(Missing::NoData), Err(Missing::NoData));
    };
    let max = c.iter().copied().fold(first, f64::max);
    if max <= 0.0 {
        return (Ok(0.0), Err(Missing::AllBlq));
    }
    let i = c.iter().position(|&x| x == max).unwrap_or(0);
    (Ok(max), Ok(p.time_h()[i]))
}

/// Time (h) and value (ng/mL) of the last positive concentration, as PKNCA `tlast` and
/// `clast.obs`. Every value BLQ: Tlast missing and Clast 0.
pub fn tlast_clast(p: &Profile) -> (Value, Value) {
    if p.conc_ng_ml().is_empty() {
        return (Err(Missing::NoData), Err(Missing::NoData));
    }
    match p.last_positive() {
        Some(i) => (Ok(p.time_h()[i]), Ok(p.conc_ng_ml()[i])),
        None => (Err(Missing::AllBlq), Ok(0.0)),
    }
}

/// Every parameter of a single-dose NCA over [0, ∞), PKNCA's names in comments.
#[derive(Debug, Clone, PartialEq)]
pub struct Nca {
    /// `cmax` (ng/mL).
    pub cmax_ng_ml: Value,
    /// `tmax` (h).
    pub tmax_h: Value,
    /// `tlast` (h).
    pub tlast_h: Value,
    /// `clast.obs` (ng/mL).
    pub clast_obs_ng_ml: Value,
    /// `auclast` (ng·h/mL).
    pub auclast_ng_h_ml: Value,
    /// `aumclast` (ng·h²/mL).
    pub aumclast_ng_h2_ml: Value,
    /// `lambda.z` and the regression behind it.
    pub lambda_z: Result<LambdaZ, Missing>,
    /// `aucinf.obs` = AUClast + Clast,obs/λz (ng·h/mL).
    pub aucinf_obs_ng_h_ml: Value,
    /// `aumcinf.obs` = AUMClast + Clast·Tlast/λz + Clast/λz² (ng·h²/mL).
    pub aumcinf_obs_ng_h2_ml: Value,
    /// `mrt.last` = AUMClast/AUClast (h).
    pub mrt_last_h: Value,
    /// `mrt.obs` = AUMCinf,obs/AUCinf,obs (h); after an oral dose it includes absorption.
    pub mrt_obs_h: Value,
    /// `cl.obs` = dose/AUCinf,obs: CL/F after an oral dose (L/h).
    pub cl_f_l_per_h: Value,
    /// `vz.obs` = CL/F / λz: Vz/F after an oral dose (L).
    pub vz_f_l: Value,
    /// BLQ samples dropped by the BLQ rule (by default those between positive values).
    pub blq_dropped: usize,
}

/// The NCA of `p` after one dose of `dose_ug` (µg; `None` when unknown) at time 0.
pub fn nca(p: &Profile, dose_ug: Option<f64>, o: &NcaOptions) -> Nca {
    let (clean, blq_dropped) = p.cleaned(&o.blq);
    // Cmax and Tmax are read from the samples as given (dropping BLQ values cannot change them).
    let (cmax, tmax) = cmax_tmax(p);
    let (tlast, clast) = tlast_clast(&clean);
    let auclast = auc_last(&clean, o.auc_method);
    let aumclast = aumc_last(&clean, o.auc_method);
    let lz = lambda_z(&clean, o);
    let all_blq = clean.last_positive().is_none() && !clean.conc_ng_ml().is_empty();
    // PKNCA: with every value BLQ the AU(M)C to infinity is 0, whatever λz.
    let extrapolated = |last: &Value, tail: &dyn Fn(f64, f64, f64) -> f64, what| -> Value {
        if all_blq {
            return last.clone();
        }
        let last = last.clone().map_err(|e| Missing::needs(what, &e))?;
        let l = lz.as_ref().map_err(|e| Missing::needs("λz", e))?;
        let (tl, cl) = (tlast.clone()?, clast.clone()?);
        Ok(last + tail(l.lambda_z_per_h, tl, cl))
    };
    let aucinf = extrapolated(&auclast, &|k, _, cl| cl / k, "AUClast");
    let aumcinf = extrapolated(
        &aumclast,
        &|k, tl, cl| cl * tl / k + cl / (k * k),
        "AUMClast",
    );
    let ratio = |num: &Value, den: &Value, what: &'static str| -> Value {
        let d = den.clone().map_err(|e| Missing::needs(what, &e))?;
        if d <= 0.0 {
            return Err(Missing::ZeroArea { what });
        }
        Ok(num.clone()? / d)
    };
    let mrt_last = ratio(&aumclast, &auclast, "AUClast");
    let mrt_obs = ratio(&aumcinf, &aucinf, "AUCinf,obs");
    let cl_f = match dose_ug {
        None => Err(Missing::NoDose),
        Some(d) => ratio(&Ok(d), &aucinf, "AUCinf,obs"),
    };
    let vz_f = match (&cl_f, &lz) {
        (Ok(cl), Ok(l)) => Ok(cl / l.lambda_z_per_h),
        (Err(e), _) => Err(Missing::needs("CL/F", e)),
        (_, Err(e)) => Err(Missing::needs("λz", e)),
    };
    Nca {
        cmax_ng_ml: cmax,
        tmax_h: tmax,
        tlast_h: tlast,
        clast_obs_ng_ml: clast,
        auclast_ng_h_ml: auclast,
        aumclast_ng_h2_ml: aumclast,
        lambda_z: lz,
        aucinf_obs_ng_h_ml: aucinf,
        aumcinf_obs_ng_h2_ml: aumcinf,
        mrt_last_h: mrt_last,
        mrt_obs_h: mrt_obs,
        cl_f_l_per_h: cl_f,
        vz_f_l: vz_f,
        blq_dropped,
    }
}
