//! Fitting model parameters to a scenario's observations: weighted least squares by
//! Levenberg–Marquardt on nalgebra, in log-parameters so estimates stay positive.
//!
//! The objective is Σ wᵢ·(obsᵢ − predᵢ)², with wᵢ = 1 (`additive`) or 1/obsᵢ² (`proportional`,
//! a constant coefficient of variation; zero observations are refused). The fitted values are
//! shared by every regimen of the scenario (one subject or one pooled population). Standard
//! errors come from the Jacobian at the optimum: Cov(ln p) = s²·(JᵀJ)⁻¹ with s² = SSR/(n − k),
//! and SE(p) = p·SE(ln p) (delta method). Pure: no files, no printing.

use crate::model::AnyPropagator;
use crate::model::SolverKind;
use nalgebra::{DMatrix, DVector};

use crate::dosing::DoseEvent;
use crate::engine::input::largest_dose_ug;
use crate::engine::run::predict_at;
use crate::error::SimError;
use crate::model::ModelParam;
use crate::scenario::Scenario;
use crate::scenario::{FitSpec, Weighting};

/// One estimate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The parameter's key (`v_l`, `dp_ucmgp.imax`).
    pub name: String,
    /// Starting value: the scenario's (first regimen's) value.
    pub initial: f64,
    pub estimate: f64,
    /// Standard error (same unit as the parameter), delta method from the log scale.
    pub se: f64,
    /// Relative standard error, SE(ln p) × 100 (%).
    pub rse_pct: f64,
}

/// The result of a fit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitResult {
    pub estimates: Vec<Estimate>,
    /// Correlation of the estimates (log scale), row-major, k × k.
    pub correlation: Vec<Vec<f64>>,
    /// Weighted sum of squared residuals at the optimum.
    pub objective: f64,
    /// Objective at the starting values.
    pub initial_objective: f64,
    pub n_observations: usize,
    pub iterations: u32,
    /// True when the relative change of the objective or the step fell below 1e-12.
    pub converged: bool,
    pub weighting: Weighting,
    /// Where the standard errors come from.
    pub se_basis: SeBasis,
    /// Per observation, in scenario order: (regimen, time_h, observed, predicted).
    pub points: Vec<FitPoint>,
    /// Per marker observation of a response fit, in scenario order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_points: Vec<super::fit_response::ResponsePoint>,
}

/// The variance the standard errors rest on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeBasis {
    /// s² = SSR/(n − k) from the residuals: Cov = s²·(JᵀWJ)⁻¹.
    Residual,
    /// The observations' reported standard errors, taken as known: Cov = (JᵀWJ)⁻¹ with
    /// W = 1/se² (so a fit with as many observations as parameters still has errors).
    ReportedSe,
    /// As many observations as parameters and no reported errors: the fit is exact, and no
    /// standard error can be estimated (they are written as null).
    NotEstimable,
}

/// One observation at the optimum.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitPoint {
    pub regimen: String,
    pub time_h: f64,
    pub observed_ng_ml: f64,
    pub predicted_ng_ml: f64,
}

/// Why a fit cannot start or failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("the scenario has no observations: add [[observed]] rows or `observed_csv`")]
    NoObservations,
    #[error("{n} observations cannot determine {k} parameters: give more samples or fit fewer parameters")]
    TooFewObservations { n: usize, k: usize },
    #[error("proportional weighting divides by the observation, and the sample at {time_h} h is 0 ng/mL: use weighting = \"additive\" or drop the sample")]
    ZeroObservation { time_h: f64 },
    #[error("`{name}` starts at {value}: a log-scale fit needs a positive starting value; set it in [regimen.params]")]
    NonPositiveStart { name: &'static str, value: f64 },
    #[error("the scenario has no marker observations: add [[observed_response]] rows (regimen, marker, time_h, pct_change)")]
    NoResponseObservations,
    #[error("`{name}` starts at {value}; the fit needs {expected}: set it in [response.<marker>]")]
    StartOutside {
        name: String,
        value: f64,
        expected: &'static str,
    },
    #[error("the information matrix is singular at the optimum: the data cannot tell the parameters apart ({names}); fit fewer")]
    Singular { names: String },
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// Levenberg–Marquardt options. Defaults suit every test fixture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmOptions {
    /// Most iterations (default 200).
    pub max_iterations: u32,
    /// Relative tolerance on the objective and the step (default 1e-12).
    pub tolerance: f64,
}

impl Default for LmOptions {
    fn default() -> Self {
        Self {
            max_iterations: 200,
            tolerance: 1e-12,
        }
    }
}

/// Observations of one regimen: (regimen index, dose events, times, observed values).
type Group = (usize, Vec<DoseEvent>, Vec<f64>, Vec<f64>);

struct Problem<'a> {
    scenario: &'a Scenario,
    solver: SolverKind,
    params: &'a [ModelParam],
    /// Per regimen with observations: (index, events, times, observed).
    groups: Vec<Group>,
    weights_sqrt: Vec<f64>,
}

impl Problem<'_> {
    fn predictions(&self, theta: &DVector<f64>) -> Result<Vec<f64>, SimError> {
        let mut out = Vec::new();
        for (i, events, times, _) in &self.groups {
            let r = &self.scenario.regimens[*i];
            let mut m = r.model;
            for (p, t) in self.params.iter().zip(theta.iter()) {
                m = p.set(&m, t.exp())?;
            }
            let scale = largest_dose_ug(&m, events);
            let mut prop = AnyPropagator::new(m, self.solver, self.scenario.ode, scale);
            let pred = predict_at(&mut prop, r, events, times)?;
            out.extend(pred);
        }
        Ok(out)
    }

    fn observed(&self) -> impl Iterator<Item = f64> + '_ {
        self.groups.iter().flat_map(|g| g.3.iter().copied())
    }

    /// Weighted residuals √wᵢ·(obsᵢ − predᵢ).
    fn residuals(&self, theta: &DVector<f64>) -> Result<DVector<f64>, SimError> {
        let pred = self.predictions(theta)?;
        Ok(DVector::from_iterator(
            pred.len(),
            self.observed()
                .zip(&pred)
                .zip(&self.weights_sqrt)
                .map(|((o, p), w)| w * (o - p)),
        ))
    }
}

/// Fits `spec.params` to the scenario's observations, starting from the scenario's values
/// (those of the first regimen with observations).
pub fn fit(
    scenario: &Scenario,
    spec: &FitSpec,
    solver: SolverKind,
    opts: LmOptions,
) -> Result<FitResult, FitError> {
    fit_with_progress(scenario, spec, solver, opts, &|_, _| {})
}

/// [`fit`], calling `progress(iteration, max_iterations)` after each Levenberg–Marquardt step.
pub fn fit_with_progress(
    scenario: &Scenario,
    spec: &FitSpec,
    solver: SolverKind,
    opts: LmOptions,
    progress: super::Progress,
) -> Result<FitResult, FitError> {
    if !spec.response.is_empty() {
        return super::fit_response::fit_response(scenario, spec, solver, opts, progress);
    }
    if scenario.observed.is_empty() {
        return Err(FitError::NoObservations);
    }
    let k = spec.params.len();
    let n = scenario.observed.len();
    if n <= k {
        return Err(FitError::TooFewObservations { n, k });
    }
    let mut groups = Vec::new();
    for (i, r) in scenario.regimens.iter().enumerate() {
        let obs: Vec<_> = scenario
            .observed
            .iter()
            .filter(|o| o.regimen == r.label)
            .collect();
        if !obs.is_empty() {
            groups.push((
                i,
                r.schedule.events(),
                obs.iter().map(|o| o.time_h).collect::<Vec<_>>(),
                obs.iter().map(|o| o.conc_ng_ml).collect::<Vec<_>>(),
            ));
        }
    }
    let mut weights_sqrt = Vec::with_capacity(n);
    for g in &groups {
        for (t, o) in g.2.iter().zip(&g.3) {
            weights_sqrt.push(match spec.weighting {
                Weighting::Additive => 1.0,
                Weighting::Proportional if *o > 0.0 => 1.0 / o,
                Weighting::Proportional => return Err(FitError::ZeroObservation { time_h: *t }),
            });
        }
    }
    let start_model = scenario.regimens[groups[0].0].model;
    let mut theta = DVector::zeros(k);
    for (c, p) in spec.params.iter().enumerate() {
        let v = p.get(&start_model).unwrap_or(f64::NAN);
        if v.is_nan() || v <= 0.0 {
            return Err(FitError::NonPositiveStart {
                name: p.key(),
                value: v,
            });
        }
        theta[c] = v.ln();
    }
    let problem = Problem {
        scenario,
        solver,
        params: &spec.params,
        groups,
        weights_sqrt,
    };

    let lm = levenberg_marquardt(&|t| problem.residuals(t), theta, opts, progress)?;
    let j = jacobian(&|t| problem.residuals(t), &lm.theta)?;
    let names = spec.params.iter().map(|p| p.key().to_string()).collect();
    let (cov, correlation) = covariance(&j, lm.objective, n, false, names)?;
    let theta = lm.theta.clone();
    let estimates = spec
        .params
        .iter()
        .enumerate()
        .map(|(c, p)| {
            let value = theta[c].exp();
            let se_log = cov[(c, c)].max(0.0).sqrt();
            Estimate {
                name: p.key().to_string(),
                initial: p.get(&start_model).unwrap_or(f64::NAN),
                estimate: value,
                se: value * se_log,
                rse_pct: 100.0 * se_log,
            }
        })
        .collect();
    let pred = problem.predictions(&theta)?;
    let mut points = Vec::with_capacity(n);
    let mut it = pred.into_iter();
    for (i, _, times, obs) in &problem.groups {
        for (t, o) in times.iter().zip(obs) {
            points.push(FitPoint {
                regimen: scenario.regimens[*i].label.clone(),
                time_h: *t,
                observed_ng_ml: *o,
                predicted_ng_ml: it.next().unwrap_or(f64::NAN),
            });
        }
    }
    Ok(FitResult {
        estimates,
        correlation,
        objective: lm.objective,
        initial_objective: lm.initial_objective,
        n_observations: n,
        iterations: lm.iterations,
        converged: lm.converged,
        weighting: spec.weighting,
        se_basis: SeBasis::Residual,
        points,
        response_points: Vec::new(),
    })
}

/// The minimum Levenberg–Marquardt found.
pub(super) struct Lm {
    pub theta: DVector<f64>,
    pub objective: f64,
    pub initial_objective: f64,
    pub iterations: u32,
    pub converged: bool,
}

type Residuals<'a> = dyn Fn(&DVector<f64>) -> Result<DVector<f64>, SimError> + 'a;

/// Jacobian of the weighted residuals in θ, by central differences.
pub(super) fn jacobian(
    residuals: &Residuals<'_>,
    theta: &DVector<f64>,
) -> Result<DMatrix<f64>, SimError> {
    let base = residuals(theta)?;
    let mut j = DMatrix::zeros(base.len(), theta.len());
    for c in 0..theta.len() {
        let h = 1e-6 * theta[c].abs().max(1.0);
        let mut up = theta.clone();
        up[c] += h;
        let mut down = theta.clone();
        down[c] -= h;
        let d = (residuals(&up)? - residuals(&down)?) / (2.0 * h);
        j.set_column(c, &d);
    }
    Ok(j)
}

/// Minimises ‖r(θ)‖² from `theta` by Levenberg–Marquardt (Marquardt's diagonal scaling).
pub(super) fn levenberg_marquardt(
    residuals: &Residuals<'_>,
    mut theta: DVector<f64>,
    opts: LmOptions,
    progress: super::Progress,
) -> Result<Lm, SimError> {
    let k = theta.len();
    let mut r = residuals(&theta)?;
    let initial_objective = r.norm_squared();
    let mut obj = initial_objective;
    let mut lambda = 1e-3;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < opts.max_iterations {
        progress(u64::from(iterations), u64::from(opts.max_iterations));
        iterations += 1;
        let j = jacobian(residuals, &theta)?;
        let jtj = j.transpose() * &j;
        let g = j.transpose() * &r;
        let mut improved = false;
        // Inner loop: raise λ until a step lowers the objective.
        for _ in 0..40 {
            let mut a = jtj.clone();
            for d in 0..k {
                a[(d, d)] += lambda * jtj[(d, d)].max(1e-300);
            }
            // r = obs − pred, J = ∂r/∂θ: the Gauss–Newton step solves JᵀJ·δ = −Jᵀr.
            let Some(delta) = a.lu().solve(&(-&g)) else {
                lambda *= 10.0;
                continue;
            };
            let trial = &theta + &delta;
            // A step into a region the model refuses (e.g. absurd rates) is just a bad step.
            let Ok(r_trial) = residuals(&trial) else {
                lambda *= 10.0;
                continue;
            };
            let obj_trial = r_trial.norm_squared();
            if obj_trial.is_finite() && obj_trial <= obj {
                let small_step = delta.norm() <= opts.tolerance.sqrt() * (1.0 + theta.norm());
                let small_gain = obj - obj_trial <= opts.tolerance * obj.max(1e-300);
                theta = trial;
                r = r_trial;
                obj = obj_trial;
                lambda = (lambda / 10.0).max(1e-12);
                improved = true;
                if small_step || small_gain || obj == 0.0 {
                    converged = true;
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            // No step lowers the objective: a minimum to rounding.
            converged = true;
        }
        if converged {
            break;
        }
    }
    Ok(Lm {
        theta,
        objective: obj,
        initial_objective,
        iterations,
        converged,
    })
}

/// Covariance of θ at the optimum and the correlation matrix: (JᵀJ)⁻¹ scaled by
/// s² = SSR/(n − k), or unscaled when the weights are the observations' known variances.
pub(super) fn covariance(
    j: &DMatrix<f64>,
    objective: f64,
    n: usize,
    known_variance: bool,
    names: Vec<String>,
) -> Result<(DMatrix<f64>, Vec<Vec<f64>>), FitError> {
    let k = j.ncols();
    let inv = (j.transpose() * j)
        .try_inverse()
        .filter(|m| m.iter().all(|x| x.is_finite()))
        .ok_or_else(|| FitError::Singular {
            names: names.join(", "),
        })?;
    let cov = if known_variance {
        inv
    } else {
        inv * (objective / (n - k) as f64)
    };
    let correlation = (0..k)
        .map(|a| {
            (0..k)
                .map(|b| {
                    let d = (cov[(a, a)] * cov[(b, b)]).sqrt();
                    if d > 0.0 {
                        cov[(a, b)] / d
                    } else if a == b {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    Ok((cov, correlation))
}
