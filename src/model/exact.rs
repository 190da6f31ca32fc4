//! Exact solution: the states are propagated in closed form from one event or output time to
//! the next. Each step is a linear map whose coefficients depend only on the step length, so on a
//! uniform output grid they are computed once and reused.
//!
//! Two compartments (central c, peripheral p; k12 = Q/V, k21 = Q/Vp, k10 = ke) have the modes
//! α > β > 0, roots of λ² − (k10 + k12 + k21)·λ + k10·k21 (see [`PkModel::modes`]). Every
//! response is written through the stable kernels of this crate, never as a sum of terms
//! divided by differences of rates (which cancels when ka is close to α or β):
//!
//! ```text
//! c ← c·[w·e^{−αt} + (1−w)·e^{−βt}] + p·k21·K(α,β) + g·ka·[w·K(α,ka) + (1−w)·K(β,ka)]
//! p ← p·[w′·e^{−αt} + (1−w′)·e^{−βt}] + c·k12·K(α,β) + g·ka·k12·K3(ka,α,β)
//! ```
//!
//! with w = (α − k21)/(α − β) and w′ = (α − k10 − k12)/(α − β), both in [0, 1] (k21 and
//! k10 + k12 lie between β and α), K(a,b) = (e^{−bt} − e^{−at})/(a − b) ([`bateman_kernel`]) and
//! K3 the convolution of three exponentials ([`triple_kernel`]). The integral of c uses
//! [`bateman_kernel_integral`] the same way. These are the textbook biexponential solutions
//! (Gibaldi & Perrier, *Pharmacokinetics*, 2nd ed., 1982, ch. 2–3; the same model as NONMEM's
//! ADVAN4) written in a cancellation-free form.

use super::{
    bateman_kernel, bateman_kernel_integral, chain_kernel, one_minus_exp_over_x, span_max,
    span_min, PkModel, Propagator, SpanResult, State,
};
use crate::error::SimError;

/// Coefficients of the exact one-step map over a step of length `dt_h`. The peripheral ones
/// are zero for the one-compartment model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepMap {
    /// Step length (h) these coefficients are for.
    pub dt_h: f64,
    /// gut → gut: e^{-ka·dt}.
    pub gut_gut: f64,
    /// central → central: e^{-ke·dt} for one compartment.
    pub central_central: f64,
    /// gut → central: ka·(e^{-ke·dt} − e^{-ka·dt})/(ka − ke) for one compartment, limit form at
    /// ka = ke.
    pub gut_central: f64,
    /// ∫ central amount dt per unit of central at the start (h).
    pub auc_from_central_h: f64,
    /// ∫ central amount dt per unit of gut at the start (h).
    pub auc_from_gut_h: f64,
    /// peripheral → central.
    pub peripheral_central: f64,
    /// central → peripheral.
    pub central_peripheral: f64,
    /// peripheral → peripheral.
    pub peripheral_peripheral: f64,
    /// gut → peripheral.
    pub gut_peripheral: f64,
    /// ∫ central amount dt per unit of peripheral at the start (h).
    pub auc_from_peripheral_h: f64,
    /// Zero-order inputs running over the step: their columns (see [`RateColumns`]).
    pub rates: RateColumns,
}

/// The columns of a step map for the two input rates (states of rate zero): each is the
/// integral over the step of the column for a unit amount in the same compartment, that is the
/// same kernel with a zero rate appended ([`chain_kernel`]); the area columns append another.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RateColumns {
    /// gut ← gut rate (h): (1 − e^{−ka·dt})/ka.
    pub gut_from_gut_rate_h: f64,
    /// central ← gut rate (h).
    pub central_from_gut_rate_h: f64,
    /// central ← central rate (h).
    pub central_from_central_rate_h: f64,
    /// peripheral ← gut rate (h).
    pub peripheral_from_gut_rate_h: f64,
    /// peripheral ← central rate (h).
    pub peripheral_from_central_rate_h: f64,
    /// ∫ central amount dt per unit gut rate (h²).
    pub auc_from_gut_rate_h2: f64,
    /// ∫ central amount dt per unit central rate (h²).
    pub auc_from_central_rate_h2: f64,
}

impl RateColumns {
    /// The rate columns over a step of `dt_h` (first-order absorption).
    pub fn new(model: &PkModel, dt_h: f64) -> Self {
        let (ka, ke) = (model.ka_per_h, model.ke_per_h);
        let k = |rates: &[f64]| chain_kernel(rates, dt_h);
        let Some(modes) = model.modes() else {
            return Self {
                gut_from_gut_rate_h: k(&[ka, 0.0]),
                central_from_gut_rate_h: ka * k(&[ka, ke, 0.0]),
                central_from_central_rate_h: k(&[ke, 0.0]),
                peripheral_from_gut_rate_h: 0.0,
                peripheral_from_central_rate_h: 0.0,
                auc_from_gut_rate_h2: ka * k(&[ka, ke, 0.0, 0.0]),
                auc_from_central_rate_h2: k(&[ke, 0.0, 0.0]),
            };
        };
        let (k12, _) = model.k12_k21_per_h();
        let (a, b, w, wb) = (
            modes.alpha_per_h,
            modes.beta_per_h,
            modes.central_alpha_weight,
            modes.central_beta_weight,
        );
        let two = |extra: &[f64]| {
            let mut ra = vec![a];
            ra.extend_from_slice(extra);
            let mut rb = vec![b];
            rb.extend_from_slice(extra);
            w * k(&ra) + wb * k(&rb)
        };
        Self {
            gut_from_gut_rate_h: k(&[ka, 0.0]),
            central_from_gut_rate_h: ka * two(&[ka, 0.0]),
            central_from_central_rate_h: two(&[0.0]),
            peripheral_from_gut_rate_h: ka * k12 * k(&[ka, a, b, 0.0]),
            peripheral_from_central_rate_h: k12 * k(&[a, b, 0.0]),
            auc_from_gut_rate_h2: ka * two(&[ka, 0.0, 0.0]),
            auc_from_central_rate_h2: two(&[0.0, 0.0]),
        }
    }

    /// The amounts the running rates of `s` add over the step (µg).
    #[inline]
    fn add_to(&self, s: State, out: &mut State) {
        let (rg, rc) = (s.gut_rate_ug_per_h, s.central_rate_ug_per_h);
        out.gut_ug += self.gut_from_gut_rate_h * rg;
        out.central_ug += self.central_from_gut_rate_h * rg + self.central_from_central_rate_h * rc;
        out.peripheral_ug +=
            self.peripheral_from_gut_rate_h * rg + self.peripheral_from_central_rate_h * rc;
    }

    /// The area the running rates of `s` add over the step (µg·h).
    #[inline]
    fn auc_ug_h(&self, s: State) -> f64 {
        self.auc_from_gut_rate_h2 * s.gut_rate_ug_per_h
            + self.auc_from_central_rate_h2 * s.central_rate_ug_per_h
    }
}

impl StepMap {
    /// Coefficients for one step of `dt_h` hours (first-order absorption: the model must be
    /// linear; saturable absorption has no closed form).
    pub fn new(model: &PkModel, dt_h: f64) -> Self {
        let (ka, ke) = (model.ka_per_h, model.ke_per_h);
        let Some(modes) = model.modes() else {
            return Self {
                dt_h,
                gut_gut: (-ka * dt_h).exp(),
                central_central: (-ke * dt_h).exp(),
                gut_central: ka * bateman_kernel(ka, ke, dt_h),
                auc_from_central_h: dt_h * one_minus_exp_over_x(ke * dt_h),
                auc_from_gut_h: ka * bateman_kernel_integral(ka, ke, dt_h),
                peripheral_central: 0.0,
                central_peripheral: 0.0,
                peripheral_peripheral: 0.0,
                gut_peripheral: 0.0,
                auc_from_peripheral_h: 0.0,
                rates: RateColumns::default(),
            };
        };
        let (k12, k21) = model.k12_k21_per_h();
        let (a, b) = (modes.alpha_per_h, modes.beta_per_h);
        let (w, wb) = (modes.central_alpha_weight, modes.central_beta_weight);
        let (wp, wpb) = (modes.peripheral_alpha_weight, modes.peripheral_beta_weight);
        let (ea, eb) = ((-a * dt_h).exp(), (-b * dt_h).exp());
        let k_ab = bateman_kernel(a, b, dt_h);
        Self {
            dt_h,
            gut_gut: (-ka * dt_h).exp(),
            central_central: w * ea + wb * eb,
            gut_central: ka * (w * bateman_kernel(a, ka, dt_h) + wb * bateman_kernel(b, ka, dt_h)),
            auc_from_central_h: dt_h
                * (w * one_minus_exp_over_x(a * dt_h) + wb * one_minus_exp_over_x(b * dt_h)),
            auc_from_gut_h: ka
                * (w * bateman_kernel_integral(a, ka, dt_h)
                    + wb * bateman_kernel_integral(b, ka, dt_h)),
            peripheral_central: k21 * k_ab,
            central_peripheral: k12 * k_ab,
            peripheral_peripheral: wp * ea + wpb * eb,
            gut_peripheral: ka * k12 * triple_kernel(ka, a, b, dt_h),
            auc_from_peripheral_h: k21 * bateman_kernel_integral(a, b, dt_h),
            rates: RateColumns::default(),
        }
    }

    /// The same map with its rate columns filled in, for steps during which an input runs.
    pub fn with_rates(mut self, model: &PkModel) -> Self {
        self.rates = RateColumns::new(model, self.dt_h);
        self
    }

    /// Applies the map: the state after the step (the running rates carry over; a map built
    /// without [`StepMap::with_rates`] must only see states without them).
    #[inline]
    pub fn apply(&self, s: State) -> State {
        let mut out = State::amounts(
            self.gut_gut * s.gut_ug,
            self.central_central * s.central_ug
                + self.gut_central * s.gut_ug
                + self.peripheral_central * s.peripheral_ug,
            self.peripheral_peripheral * s.peripheral_ug
                + self.central_peripheral * s.central_ug
                + self.gut_peripheral * s.gut_ug,
        )
        .with_rates_of(s);
        if s.has_rates() {
            self.rates.add_to(s, &mut out);
        }
        out
    }

    /// [`StepMap::apply`] for the one-compartment model without running inputs (peripheral and
    /// rate terms are zero).
    #[inline]
    pub fn apply_one(&self, s: State) -> State {
        State::new(
            self.gut_gut * s.gut_ug,
            self.central_central * s.central_ug + self.gut_central * s.gut_ug,
        )
    }

    /// Integral of the central amount over the step (µg·h), starting from `s`.
    #[inline]
    pub fn auc_ug_h(&self, s: State) -> f64 {
        let amounts = self.auc_from_central_h * s.central_ug
            + self.auc_from_gut_h * s.gut_ug
            + self.auc_from_peripheral_h * s.peripheral_ug;
        if s.has_rates() {
            amounts + self.rates.auc_ug_h(s)
        } else {
            amounts
        }
    }
}

/// `∫_0^t K(a, b, t − s)·e^{−c·s} ds`, the response to a unit input through three first-order
/// steps in series: Σ_i e^{−λ_i·t}/Π_{j≠i}(λ_j − λ_i), symmetric in the rates. Computed as a
/// difference of two [`bateman_kernel`]s over the widest gap of rates, or, when all three rates
/// are within 1e-3/t of each other, by its expansion about their mean m:
/// t²/2·e^{−m·t}·(1 + t²·Σ(λ_i − m)²/24) (relative error below 1e-9).
pub fn triple_kernel(a: f64, b: f64, c: f64, t: f64) -> f64 {
    let mut r = [a, b, c];
    r.sort_by(f64::total_cmp);
    let (lo, mid, hi) = (r[0], r[1], r[2]);
    if (hi - lo) * t > 1e-3 {
        (bateman_kernel(lo, mid, t) - bateman_kernel(hi, mid, t)) / (hi - lo)
    } else {
        let m = (lo + mid + hi) / 3.0;
        let var = (lo - m).powi(2) + (mid - m).powi(2) + (hi - m).powi(2);
        0.5 * t * t * (-m * t).exp() * (1.0 + t * t * var / 24.0)
    }
}

/// dA_c/dt at `dt_h` after `s` and U = d²A_c/dt² + ka·dA_c/dt (the slope's part without the
/// gut's mode), for two compartments without running inputs; `None` otherwise. Taken from the
/// closed form, not from the state: ka·A_g − (k10 + k12)·A_c + k21·A_p cancels when k12·A_c
/// and k21·A_p are far larger than their difference (k21 = 1e9 /h beside a net slope of 1e-4
/// µg/h), and its sign is then noise. Here each term is of the size of the result or smaller:
/// the kernels' derivatives K′(a,b) = e^{−hi·t} − lo·K(a,b), and in U the factors (λ − ka) of
/// the modes multiply out the 1/(λ − ka) of the gut's response.
pub fn central_slopes_after(model: &PkModel, s: State, dt_h: f64) -> Option<(f64, f64)> {
    let modes = model.modes()?;
    if s.has_rates() {
        return None;
    }
    let (ka, t) = (model.ka_per_h, dt_h);
    let (_, k21) = model.k12_k21_per_h();
    let (a, b) = (modes.alpha_per_h, modes.beta_per_h);
    let (w, wb) = (modes.central_alpha_weight, modes.central_beta_weight);
    let (g, c, p) = (s.gut_ug, s.central_ug, s.peripheral_ug);
    let (ea, eb) = ((-a * t).exp(), (-b * t).exp());
    let dk = |x: f64, y: f64| {
        let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
        (-hi * t).exp() - lo * bateman_kernel(x, y, t)
    };
    let slope = c * (-a * w * ea - b * wb * eb)
        + p * k21 * dk(a, b)
        + g * ka * (w * dk(a, ka) + wb * dk(b, ka));
    // A_c = Σ A_λ·e^{−λt}; U = Σ_{λ = α, β} λ·(λ − ka)·A_λ·e^{−λt}.
    let pk = p * k21 / (a - b);
    let u = a * ea * ((a - ka) * (c * w - pk) - g * ka * w)
        + b * eb * ((b - ka) * (c * wb + pk) - g * ka * wb);
    Some((slope, u))
}

/// The state `dt_h` after `s` (no AUC: cheaper than a full [`StepMap`] for one compartment).
#[inline]
pub fn state_after(model: &PkModel, s: State, dt_h: f64) -> State {
    if s.has_rates() {
        return StepMap::new(model, dt_h).with_rates(model).apply(s);
    }
    if model.peripheral.is_some() {
        return StepMap::new(model, dt_h).apply(s);
    }
    let (ka, ke) = (model.ka_per_h, model.ke_per_h);
    State::new(
        (-ka * dt_h).exp() * s.gut_ug,
        (-ke * dt_h).exp() * s.central_ug + ka * bateman_kernel(ka, ke, dt_h) * s.gut_ug,
    )
}

/// Time after `s` at which the central amount peaks, in closed form (one compartment only):
/// A_c(τ) = (c + r)·e^{−ke·τ} − r·e^{−ka·τ} with r = g·ka/(ka − ke) has dA_c/dτ = 0 at
/// τ* = ln(ka·r / (ke·(c + r))) / (ka − ke). `None` when the rates are too close for the formula
/// to be well conditioned (the caller then brackets the root), when there is no peak ahead, or
/// for other models.
pub fn peak_after(model: &PkModel, s: State) -> Option<f64> {
    let (ka, ke) = (model.ka_per_h, model.ke_per_h);
    if !model.is_basic()
        || s.has_rates()
        || (ka - ke).abs() < 1e-4 * ka.max(ke)
        || s.gut_ug <= 0.0
        || ka * s.gut_ug <= ke * s.central_ug
    {
        return None;
    }
    let r = s.gut_ug * ka / (ka - ke);
    let arg = ka * r / (ke * (s.central_ug + r));
    let tau = arg.ln() / (ka - ke);
    (arg > 0.0 && tau.is_finite()).then_some(tau)
}

/// The two-compartment solution in modal form: x(t) = Σᵢ vᵢ·cᵢ·e^{−λᵢ·t} over the rates
/// (ka, α, β), with the eigenvectors vᵢ of the rate matrix and c = V⁻¹·x(0). Only used when the
/// rates are well apart (V well conditioned): then an evaluation costs three exponentials and
/// agrees with the step map to ~1e-12; otherwise the step map is used.
#[derive(Debug, Clone)]
struct Modal {
    rates: [f64; 3],
    v: nalgebra::Matrix3<f64>,
    v_inv: nalgebra::Matrix3<f64>,
}

impl Modal {
    fn new(model: &PkModel) -> Option<Self> {
        let modes = model.modes()?;
        let (k12, k21) = model.k12_k21_per_h();
        let ka = model.ka_per_h;
        let (a, b) = (modes.alpha_per_h, modes.beta_per_h);
        let gap = (ka - a).abs().min((ka - b).abs()).min(a - b);
        if gap <= 1e-3 * ka.max(a) {
            return None;
        }
        // A mode with a weight near 0 (k21 far above k10 + k12, or below) makes V nearly
        // singular: its inverse would carry errors far above the rounding of the step map.
        let (wp, wpb) = (modes.peripheral_alpha_weight, modes.peripheral_beta_weight);
        if modes
            .central_alpha_weight
            .min(modes.central_beta_weight)
            .min(wp)
            .min(wpb)
            < 1e-3
        {
            return None;
        }
        // Eigenvector of −ka (gut 1), and of −α, −β (no gut component); the peripheral entries
        // k10 + k12 − α and k10 + k12 − β as the weights times α − β (no cancellation).
        let d = (ka - a) * (ka - b);
        let g = a - b;
        let v = nalgebra::Matrix3::new(
            1.0,
            0.0,
            0.0,
            -ka * (ka - k21) / d,
            k21,
            k21,
            ka * k12 / d,
            -wp * g,
            wpb * g,
        );
        let v_inv = v.try_inverse()?;
        Some(Self {
            rates: [ka, a, b],
            v,
            v_inv,
        })
    }

    fn coefficients(&self, s: State) -> nalgebra::Vector3<f64> {
        self.v_inv * nalgebra::Vector3::new(s.gut_ug, s.central_ug, s.peripheral_ug)
    }

    fn state_at(&self, coef: &nalgebra::Vector3<f64>, t: f64) -> State {
        let e = nalgebra::Vector3::new(
            coef[0] * (-self.rates[0] * t).exp(),
            coef[1] * (-self.rates[1] * t).exp(),
            coef[2] * (-self.rates[2] * t).exp(),
        );
        let x = self.v * e;
        State::amounts(x[0], x[1], x[2])
    }
}

/// The closed-form propagator. Keeps the last step map, so a run of equal output steps costs a
/// few multiply-adds per point.
#[derive(Debug, Clone)]
pub struct ExactPropagator {
    model: PkModel,
    cached: Option<StepMap>,
    modal: Option<Box<Modal>>,
}

impl ExactPropagator {
    /// A propagator for `model`.
    pub fn new(model: PkModel) -> Self {
        Self {
            model,
            cached: None,
            modal: Modal::new(&model).map(Box::new),
        }
    }

    /// The step map over `dt_h`, with its rate columns when `rates` (an input runs).
    fn map_for(&mut self, dt_h: f64, rates: bool) -> StepMap {
        match self.cached {
            // Grid times are computed as i·step, so consecutive differences can differ in the
            // last bits; such a difference changes the result by far less than 1e-12 relative.
            Some(m)
                if (m.dt_h - dt_h).abs() <= 1e-13 * dt_h.max(1.0)
                    && (!rates || m.rates != RateColumns::default()) =>
            {
                m
            }
            _ => {
                let mut m = StepMap::new(&self.model, dt_h);
                if rates {
                    m = m.with_rates(&self.model);
                }
                self.cached = Some(m);
                m
            }
        }
    }
}

impl Propagator for ExactPropagator {
    fn model(&self) -> &PkModel {
        &self.model
    }

    fn state_after(&mut self, s: State, dt_h: f64) -> Result<State, SimError> {
        if !self.model.is_linear() {
            return Err(SimError::NoClosedForm { t_h: 0.0 });
        }
        Ok(state_after(&self.model, s, dt_h))
    }

    fn span(
        &mut self,
        start: State,
        t0_h: f64,
        t1_h: f64,
        sample_times_h: &[f64],
        samples: &mut Vec<State>,
    ) -> Result<SpanResult, SimError> {
        if !self.model.is_linear() {
            return Err(SimError::NoClosedForm { t_h: t0_h });
        }
        let mut state = start;
        let mut t = t0_h;
        let mut auc = 0.0;
        // The output loop is the hot path: the one-compartment map skips the peripheral terms.
        let rates = start.has_rates();
        let one = self.model.peripheral.is_none() && !rates;
        for &ts in sample_times_h {
            if ts > t {
                let m = self.map_for(ts - t, rates);
                if one {
                    auc +=
                        m.auc_from_central_h * state.central_ug + m.auc_from_gut_h * state.gut_ug;
                    state = m.apply_one(state);
                } else {
                    auc += m.auc_ug_h(state);
                    state = m.apply(state);
                }
                t = ts;
            }
            samples.push(state);
        }
        if t1_h > t {
            let mut m = StepMap::new(&self.model, t1_h - t);
            if rates {
                m = m.with_rates(&self.model);
            }
            auc += m.auc_ug_h(state);
            state = m.apply(state);
        }
        let model = self.model;
        let (max_central_ug, t_max_h) = match peak_after(&model, start) {
            // Closed form when it is well conditioned and the peak falls inside the span.
            Some(tau) if tau > 0.0 && t0_h + tau < t1_h => {
                (state_after(&model, start, tau).central_ug, t0_h + tau)
            }
            _ => match self.modal.as_ref().filter(|_| !rates) {
                // Two compartments: the peak search evaluates the state many times; the modal
                // form costs three exponentials per evaluation instead of a full step map.
                Some(modal) => {
                    let coef = modal.coefficients(start);
                    span_max(&model, start, state, t0_h, t1_h, &[], |tt| {
                        modal.state_at(&coef, tt - t0_h)
                    })
                }
                None => span_max(&model, start, state, t0_h, t1_h, &[], |tt| {
                    state_after(&model, start, tt - t0_h)
                }),
            },
        };
        let min_central_ug = span_min(&model, start, state, t0_h, t1_h, &[], |tt| {
            state_after(&model, start, tt - t0_h)
        });
        Ok(SpanResult {
            end: state,
            auc_central_ug_h: auc,
            max_central_ug,
            t_max_h,
            min_central_ug,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(ka: f64, ke: f64) -> PkModel {
        PkModel::new(ka, ke, 100.0, 1.0, 0.0, 0.0).unwrap()
    }

    #[test]
    fn single_dose_matches_bateman_function() {
        let m = model(1.2, 0.0096);
        let dose = 180.0;
        for &t in &[0.5, 4.0, 24.0, 240.0] {
            let s = StepMap::new(&m, t).apply(State::new(dose, 0.0));
            let textbook = dose * 1.2 / (1.2 - 0.0096) * ((-0.0096 * t).exp() - (-1.2 * t).exp());
            assert!((s.central_ug - textbook).abs() < 1e-12 * textbook);
        }
    }

    #[test]
    fn composing_steps_equals_one_long_step() {
        for &(ka, ke) in &[(1.2, 0.0096), (0.1, 0.1), (0.05, 0.4)] {
            let m = model(ka, ke);
            let start = State::new(100.0, 30.0);
            let one = StepMap::new(&m, 10.0);
            let half = StepMap::new(&m, 5.0);
            let s1 = one.apply(start);
            let mid = half.apply(start);
            let s2 = half.apply(mid);
            assert!((s1.central_ug - s2.central_ug).abs() < 1e-12 * s1.central_ug);
            let auc1 = one.auc_ug_h(start);
            let auc2 = half.auc_ug_h(start) + half.auc_ug_h(mid);
            assert!((auc1 - auc2).abs() < 1e-12 * auc1);
        }
    }

    #[test]
    fn mass_is_conserved_over_a_step() {
        // dosed = gut + central + eliminated, eliminated = ke · ∫central.
        let m = model(0.7, 0.2);
        let start = State::new(1000.0, 0.0);
        let step = StepMap::new(&m, 13.0);
        let end = step.apply(start);
        let eliminated = m.ke_per_h * step.auc_ug_h(start);
        assert!((end.gut_ug + end.central_ug + eliminated - 1000.0).abs() < 1e-10);
    }

    #[test]
    fn span_locates_the_analytic_peak() {
        let m = model(1.2, 0.0096);
        let mut p = ExactPropagator::new(m);
        let r = p
            .span(State::new(180.0, 0.0), 0.0, 24.0, &[], &mut Vec::new())
            .unwrap();
        let tmax = (1.2f64 / 0.0096).ln() / (1.2 - 0.0096);
        assert!((r.t_max_h - tmax).abs() < 1e-7, "{} vs {tmax}", r.t_max_h);
    }

    #[test]
    fn closed_form_peak_agrees_with_bracketed_root() {
        for &(ka, ke, g, c) in &[
            (1.2, 0.0096, 180.0, 500.0),
            (0.05, 0.35, 100.0, 3.0),
            (0.6, 0.1, 10.0, 0.0),
        ] {
            let m = PkModel::new(ka, ke, 10.0, 1.0, 0.0, 0.0).unwrap();
            let s = State::new(g, c);
            let tau = peak_after(&m, s).unwrap();
            let end = state_after(&m, s, 200.0);
            let (_, t) =
                crate::model::locate_max(&m, s, end, 0.0, 200.0, &[], |t| state_after(&m, s, t));
            assert!((tau - t).abs() < 1e-7, "ka={ka}: {tau} vs {t}");
        }
    }
}
