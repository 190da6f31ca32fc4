//! The turnover (indirect-response) model of a carboxylation marker and its two solutions.
//!
//! dR/dt = kin·(1 − I(Ceff(t))) − kout·R, I(C) = Imax·C/(IC50 + C), with kin set so that the
//! endogenous level alone holds R at its baseline: kin = kout·R0/(1 − I(Cendo)).
//!
//! The drive u(t) = kin·(1 − I(Ceff(t))) is known at the output times of the PK run. Between two
//! of them it is taken as linear, and the linear ODE is then integrated **exactly** over the
//! step: R(t+h) = R·e^(−kh) + u₀·(1 − e^(−kh))/k + (u₁ − u₀)/h·(h/k − (1 − e^(−kh))/k²). The
//! **Dopri5** path integrates the same ODE with the same interpolated drive numerically, as the
//! independent check (tested to agree to 1e-9 relative).

use ode_solvers::{dopri5::Dopri5, SVector, System};

/// The parameters of one marker's turnover model, in the units the drive uses.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Turnover {
    /// Baseline level R0 (the marker's unit).
    pub baseline: f64,
    /// First-order loss of the marker (1/h).
    pub kout_per_h: f64,
    /// Largest fractional inhibition of the marker's production (0–1).
    pub imax: f64,
    /// Effective concentration of half the largest inhibition (nmol/L, MK-7 equivalents).
    pub ic50_nmol_l: f64,
    /// Endogenous effective concentration (nmol/L, MK-7 equivalents).
    pub cendo_nmol_l: f64,
}

impl Turnover {
    /// Fractional inhibition of production at effective concentration `c_nmol_l`.
    pub fn inhibition(&self, c_nmol_l: f64) -> f64 {
        let c = c_nmol_l.max(0.0);
        self.imax * c / (self.ic50_nmol_l + c)
    }

    /// Production rate kin that holds R at its baseline under the endogenous level alone.
    pub fn kin(&self) -> f64 {
        self.kout_per_h * self.baseline / (1.0 - self.inhibition(self.cendo_nmol_l))
    }

    /// The steady level under a constant extra effective concentration `extra_nmol_l`.
    pub fn steady_level(&self, extra_nmol_l: f64) -> f64 {
        self.kin() * (1.0 - self.inhibition(self.cendo_nmol_l + extra_nmol_l)) / self.kout_per_h
    }

    /// The steady level under a periodic extra concentration: at periodic steady state the
    /// mean of R over a period is kin·(1 − ⟨I⟩)/kout, ⟨I⟩ the period mean of the inhibition.
    /// `profile` is one period of `(time_h, extra_nmol_l)`, ascending; trapezoids.
    pub fn periodic_mean_level(&self, profile: &[(f64, f64)]) -> Option<f64> {
        let span = profile.last()?.0 - profile.first()?.0;
        if span <= 0.0 {
            return None;
        }
        let mean_i = profile
            .windows(2)
            .map(|w| {
                let a = self.inhibition(self.cendo_nmol_l + w[0].1);
                let b = self.inhibition(self.cendo_nmol_l + w[1].1);
                0.5 * (a + b) * (w[1].0 - w[0].0)
            })
            .sum::<f64>()
            / span;
        Some(self.kin() * (1.0 - mean_i) / self.kout_per_h)
    }
}

/// R at each of `time_h` under the extra effective concentration `extra_nmol_l` (same
/// length), starting from the baseline at the first time: the exact solution for a drive
/// linear between the times.
pub fn solve_exact(p: &Turnover, time_h: &[f64], extra_nmol_l: &[f64]) -> Vec<f64> {
    let kin = p.kin();
    let k = p.kout_per_h;
    let u = |c: f64| kin * (1.0 - p.inhibition(p.cendo_nmol_l + c));
    let mut out = Vec::with_capacity(time_h.len());
    let Some(&c0) = extra_nmol_l.first() else {
        return out;
    };
    let mut r = p.baseline;
    let mut u0 = u(c0);
    out.push(r);
    for i in 1..time_h.len() {
        let h = time_h[i] - time_h[i - 1];
        let u1 = u(extra_nmol_l[i]);
        if h > 0.0 {
            let kh = k * h;
            // 1 − e^(−kh) without cancellation, and h/k − (1 − e^(−kh))/k² = (kh − (1 −
            // e^(−kh)))/k², by its series when kh is small.
            let one_minus = -(-kh).exp_m1();
            let ramp = if kh < 1e-4 {
                h * h * (0.5 - kh / 6.0 + kh * kh / 24.0)
            } else {
                (kh - one_minus) / (k * k)
            };
            r = r * (-kh).exp() + u0 * one_minus / k + (u1 - u0) / h * ramp;
        }
        u0 = u1;
        out.push(r);
    }
    out
}

type Vec1 = SVector<f64, 1>;

/// The turnover ODE over one step with a linear drive from `u0` at `t0` to `u1` at `t1`.
struct Rhs {
    k: f64,
    t0: f64,
    t1: f64,
    u0: f64,
    u1: f64,
}

impl System<f64, Vec1> for Rhs {
    fn system(&self, t: f64, y: &Vec1, dy: &mut Vec1) {
        let w = (t - self.t0) / (self.t1 - self.t0);
        dy[0] = self.u0 + w * (self.u1 - self.u0) - self.k * y[0];
    }
}

/// The same as [`solve_exact`], integrated with Dopri5 (rtol 1e-10) step by step.
pub fn solve_ode(p: &Turnover, time_h: &[f64], extra_nmol_l: &[f64]) -> Result<Vec<f64>, String> {
    let kin = p.kin();
    let u = |c: f64| kin * (1.0 - p.inhibition(p.cendo_nmol_l + c));
    let mut out = Vec::with_capacity(time_h.len());
    let Some(&c0) = extra_nmol_l.first() else {
        return Ok(out);
    };
    let mut r = p.baseline;
    let mut u0 = u(c0);
    out.push(r);
    for i in 1..time_h.len() {
        let (t0, t1) = (time_h[i - 1], time_h[i]);
        let u1 = u(extra_nmol_l[i]);
        if t1 > t0 {
            let rhs = Rhs {
                k: p.kout_per_h,
                t0,
                t1,
                u0,
                u1,
            };
            let atol = 1e-12 * p.baseline.abs().max(1e-300);
            let mut solver = Dopri5::from_param(
                rhs,
                t0,
                t1,
                t1 - t0,
                Vec1::new(r),
                1e-10,
                atol,
                0.9,
                0.04,
                0.2,
                10.0,
                t1 - t0,
                0.0,
                100_000,
                u32::MAX,
                ode_solvers::OutputType::Sparse,
            );
            solver
                .integrate()
                .map_err(|e| format!("the marker's turnover ODE failed at {t0} h: {e}"))?;
            let (_, ys) = solver.results().get();
            r = ys.last().map_or(r, |y| y[0]);
        }
        u0 = u1;
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Turnover {
        Turnover {
            baseline: 400.0,
            kout_per_h: 0.07 / 24.0,
            imax: 0.9,
            ic50_nmol_l: 15.0,
            cendo_nmol_l: 0.43,
        }
    }

    #[test]
    fn a_constant_drive_approaches_its_steady_level_as_one_exponential() {
        // Under a constant extra concentration c: R(t) = Rss + (R0 − Rss)·e^(−kout·t).
        let p = p();
        let c = 5.0;
        let t: Vec<f64> = (0..=200).map(|i| f64::from(i) * 12.0).collect();
        let mut extra = vec![c; t.len()];
        extra[0] = c; // the drive is on from t = 0
        let r = solve_exact(&p, &t, &extra);
        let rss = p.steady_level(c);
        for (ti, ri) in t.iter().zip(&r) {
            let want = rss + (p.baseline - rss) * (-p.kout_per_h * ti).exp();
            assert!((ri / want - 1.0).abs() < 1e-12, "{ti}: {ri} vs {want}");
        }
        // The endogenous level alone holds the baseline.
        let flat = solve_exact(&p, &t, &vec![0.0; t.len()]);
        assert!(flat.iter().all(|x| (x / p.baseline - 1.0).abs() < 1e-13));
    }

    #[test]
    fn exact_and_dopri5_agree_on_a_varying_drive() {
        let p = p();
        let t: Vec<f64> = (0..=400).map(|i| f64::from(i) * 1.5).collect();
        let extra: Vec<f64> = t.iter().map(|&x| 8.0 * (1.0 + (x / 9.0).sin())).collect();
        let a = solve_exact(&p, &t, &extra);
        let b = solve_ode(&p, &t, &extra).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x / y - 1.0).abs() < 1e-9, "{x} vs {y}");
        }
    }

    #[test]
    fn the_periodic_mean_of_a_constant_profile_is_the_steady_level() {
        let p = p();
        let prof = [(0.0, 3.0), (12.0, 3.0), (24.0, 3.0)];
        let m = p.periodic_mean_level(&prof).unwrap();
        assert!((m / p.steady_level(3.0) - 1.0).abs() < 1e-14);
        // Inhibition is concave in C: a swinging profile inhibits less than its mean.
        let swing = [(0.0, 1.0), (12.0, 5.0), (24.0, 1.0)];
        assert!(p.periodic_mean_level(&swing).unwrap() > p.steady_level(3.0));
    }
}
