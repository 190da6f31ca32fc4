//! Fitting response parameters (Imax, IC50, kout, the MK-4 potency) to measured marker changes,
//! `[[observed_response]]`, with the PK fixed at the scenario's values: the sequential PK-PD
//! approach (PK first, then the response through the fitted PK).
//!
//! The objective is Σ wᵢ·(obsᵢ − predᵢ)² on the change from baseline in percent, wᵢ = 1/seᵢ²
//! when the rows give the studies' standard errors (then taken as known: Cov = (JᵀWJ)⁻¹), else
//! wᵢ = 1 with Cov = s²·(JᵀJ)⁻¹, s² = SSR/(n − k). Imax is fitted on the logit scale (it lies in
//! (0, 1)), the other parameters on the log scale; standard errors come back to the parameter by
//! the delta method. A prediction is the marker's exact turnover solution on the run's output
//! grid, linear between grid points. Pure: no files, no printing.

use nalgebra::DVector;

use super::fit::{covariance, jacobian, levenberg_marquardt, Estimate, FitError, FitResult};
use super::fit::{LmOptions, SeBasis};
use crate::compound::Evidence;
use crate::engine::run::{run, RegimenResult};
use crate::error::SimError;
use crate::model::SolverKind;
use crate::response::{MarkerParam, MarkerPreset, ParamKey};
use crate::scenario::{FitSpec, Scenario, Weighting};

/// One marker observation at the optimum.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResponsePoint {
    pub regimen: String,
    pub marker: &'static str,
    pub time_h: f64,
    pub observed_pct: f64,
    pub predicted_pct: f64,
    /// The reported standard error, when the row gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub se_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// θ of a parameter value: logit for Imax, log otherwise.
fn to_theta(p: ParamKey, v: f64) -> f64 {
    match p {
        ParamKey::Imax => (v / (1.0 - v)).ln(),
        _ => v.ln(),
    }
}

/// The parameter value of θ, and its derivative dp/dθ.
fn from_theta(p: ParamKey, t: f64) -> (f64, f64) {
    match p {
        ParamKey::Imax => {
            let v = 1.0 / (1.0 + (-t).exp());
            (v, v * (1.0 - v))
        }
        _ => (t.exp(), t.exp()),
    }
}

/// The value of `y` at `t` on the grid `x` (ascending), linear between points.
fn interpolate(x: &[f64], y: &[f64], t: f64) -> f64 {
    let i = x.partition_point(|&v| v < t);
    if i == 0 {
        return y[0];
    }
    if i >= x.len() {
        return y[y.len() - 1];
    }
    let (x0, x1) = (x[i - 1], x[i]);
    if x1 == x0 {
        return y[i];
    }
    y[i - 1] + (t - x0) / (x1 - x0) * (y[i] - y[i - 1])
}

struct Problem<'a> {
    scenario: &'a Scenario,
    solver: SolverKind,
    params: &'a [MarkerParam],
    /// The PK run, once: the response does not feed back.
    pk: Vec<RegimenResult>,
    weights_sqrt: Vec<f64>,
}

impl Problem<'_> {
    fn presets(&self, theta: &DVector<f64>) -> Vec<MarkerPreset> {
        let spec = self
            .scenario
            .response
            .as_ref()
            .expect("validated: [response]");
        let mut presets = spec.presets.clone();
        for (mp, t) in self.params.iter().zip(theta.iter()) {
            if let Some(p) = presets.iter_mut().find(|p| p.marker == mp.marker) {
                p.set(
                    mp.param,
                    from_theta(mp.param, *t).0,
                    Evidence::Derived,
                    String::new(),
                );
            }
        }
        presets
    }

    /// Predicted change from baseline (%) of every observation, in scenario order.
    fn predictions(&self, theta: &DVector<f64>) -> Result<Vec<f64>, SimError> {
        let presets = self.presets(theta);
        let mut courses: Vec<(usize, &'static str, Vec<f64>)> = Vec::new();
        let mut out = Vec::with_capacity(self.scenario.observed_response.len());
        for o in &self.scenario.observed_response {
            let i = self
                .scenario
                .regimens
                .iter()
                .position(|r| r.label == o.regimen)
                .expect("validated: the regimen exists");
            let key = o.marker.key();
            if !courses.iter().any(|(j, m, _)| *j == i && *m == key) {
                let r = &self.pk[i];
                let p = presets
                    .iter()
                    .find(|p| p.marker == o.marker)
                    .expect("validated");
                let w = p
                    .equivalents_per_ng_ml(
                        r.regimen.compound.id,
                        r.regimen.compound.molar_mass_g_mol,
                    )
                    .expect("validated: the compound has data");
                let t = p.turnover();
                let values = crate::engine::response::levels(
                    &t,
                    w,
                    &r.trajectory,
                    r.params.baseline_ng_ml,
                    self.solver,
                )?;
                let pct = values
                    .iter()
                    .map(|v| 100.0 * (v / t.baseline - 1.0))
                    .collect();
                courses.push((i, key, pct));
            }
            let (_, _, pct) = courses
                .iter()
                .find(|(j, m, _)| *j == i && *m == key)
                .expect("just computed");
            out.push(interpolate(&self.pk[i].trajectory.time_h, pct, o.time_h));
        }
        Ok(out)
    }

    fn residuals(&self, theta: &DVector<f64>) -> Result<DVector<f64>, SimError> {
        let pred = self.predictions(theta)?;
        Ok(DVector::from_iterator(
            pred.len(),
            self.scenario
                .observed_response
                .iter()
                .zip(&pred)
                .zip(&self.weights_sqrt)
                .map(|((o, p), w)| w * (o.pct_change - p)),
        ))
    }
}

/// Fits `spec.response` to the scenario's `[[observed_response]]` rows.
pub fn fit_response(
    scenario: &Scenario,
    spec: &FitSpec,
    solver: SolverKind,
    opts: LmOptions,
    progress: super::Progress,
) -> Result<FitResult, FitError> {
    let obs = &scenario.observed_response;
    if obs.is_empty() {
        return Err(FitError::NoResponseObservations);
    }
    let k = spec.response.len();
    let n = obs.len();
    let known = obs.iter().all(|o| o.se_pct.is_some());
    if n < k {
        return Err(FitError::TooFewObservations { n, k });
    }
    // As many observations as parameters: an exact solve, with no residual to estimate errors
    // from unless the studies report them.
    let exact = n == k && !known;
    let response = scenario
        .response
        .as_ref()
        .ok_or(FitError::NoResponseObservations)?;
    let mut theta = DVector::zeros(k);
    let mut initial = Vec::with_capacity(k);
    for (c, mp) in spec.response.iter().enumerate() {
        let v = response
            .presets
            .iter()
            .find(|p| p.marker == mp.marker)
            .and_then(|p| p.get(mp.param))
            .unwrap_or(f64::NAN);
        let inside = v > 0.0 && (mp.param != ParamKey::Imax || v < 1.0);
        if !inside {
            return Err(FitError::StartOutside {
                name: mp.name(),
                value: v,
                expected: if mp.param == ParamKey::Imax {
                    "0 < Imax < 1 (it is fitted on the logit scale): set a start such as 0.9"
                } else {
                    "a positive value (it is fitted on the log scale)"
                },
            });
        }
        theta[c] = to_theta(mp.param, v);
        initial.push(v);
    }
    let pk = run(scenario, solver)?.regimens;
    let problem = Problem {
        scenario,
        solver,
        params: &spec.response,
        pk,
        weights_sqrt: obs
            .iter()
            .map(|o| o.se_pct.map_or(1.0, |s| 1.0 / s))
            .collect(),
    };
    let lm = levenberg_marquardt(&|t| problem.residuals(t), theta, opts, progress)?;
    let j = jacobian(&|t| problem.residuals(t), &lm.theta)?;
    let names: Vec<String> = spec.response.iter().map(|p| p.name()).collect();
    let (cov, correlation) = if exact {
        let nan = nalgebra::DMatrix::from_element(k, k, f64::NAN);
        let corr = (0..k)
            .map(|a| {
                (0..k)
                    .map(|b| if a == b { 1.0 } else { f64::NAN })
                    .collect()
            })
            .collect();
        (nan, corr)
    } else {
        covariance(&j, lm.objective, n, known, names.clone())?
    };
    let estimates = spec
        .response
        .iter()
        .enumerate()
        .map(|(c, mp)| {
            let (value, slope) = from_theta(mp.param, lm.theta[c]);
            let se = slope * cov[(c, c)].sqrt();
            Estimate {
                name: names[c].clone(),
                initial: initial[c],
                estimate: value,
                se,
                rse_pct: 100.0 * se / value,
            }
        })
        .collect();
    let pred = problem.predictions(&lm.theta)?;
    let response_points = obs
        .iter()
        .zip(pred)
        .map(|(o, p)| ResponsePoint {
            regimen: o.regimen.clone(),
            marker: o.marker.key(),
            time_h: o.time_h,
            observed_pct: o.pct_change,
            predicted_pct: p,
            se_pct: o.se_pct,
            source: o.source.clone(),
        })
        .collect();
    Ok(FitResult {
        estimates,
        correlation,
        objective: lm.objective,
        initial_objective: lm.initial_objective,
        n_observations: n,
        iterations: lm.iterations,
        converged: lm.converged,
        weighting: Weighting::Additive,
        se_basis: if known {
            SeBasis::ReportedSe
        } else if exact {
            SeBasis::NotEstimable
        } else {
            SeBasis::Residual
        },
        points: Vec::new(),
        response_points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_invert_and_interpolation_is_linear() {
        for (p, v) in [(ParamKey::Imax, 0.9), (ParamKey::Ic50Mk7NgMl, 6.0)] {
            let t = to_theta(p, v);
            let (back, slope) = from_theta(p, t);
            assert!((back - v).abs() < 1e-12);
            // dp/dθ by central difference.
            let h = 1e-6;
            let fd = (from_theta(p, t + h).0 - from_theta(p, t - h).0) / (2.0 * h);
            assert!((fd - slope).abs() < 1e-8, "{p:?}: {fd} vs {slope}");
        }
        let x = [0.0, 1.0, 3.0];
        let y = [10.0, 20.0, 0.0];
        assert_eq!(interpolate(&x, &y, 0.5), 15.0);
        assert_eq!(interpolate(&x, &y, 2.0), 10.0);
        assert_eq!(interpolate(&x, &y, 3.0), 0.0);
        assert_eq!(interpolate(&x, &y, 1.0), 20.0);
    }
}
