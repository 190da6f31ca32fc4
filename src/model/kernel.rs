//! Cancellation-free kernels of the closed-form solutions: `(1 − e^{−x})/x` and the Bateman
//! function with its integral, accurate when two rates coincide or differ by orders of magnitude.

/// `(1 - e^{-x}) / x`, accurate for all `x >= 0` including 0 (value 1) and tiny `x`.
pub fn one_minus_exp_over_x(x: f64) -> f64 {
    if x.abs() < 1e-300 {
        1.0
    } else {
        -(-x).exp_m1() / x
    }
}

/// `(e^{-b·t} - e^{-a·t}) / (a - b)`, the response of the central compartment to a unit amount
/// in the gut (divided by ka). Symmetric in `a`, `b`; finite and accurate when `a == b` (then
/// `t·e^{-a·t}`), for flip-flop kinetics (`a < b`) and for large `|a - b|·t`.
pub fn bateman_kernel(a: f64, b: f64, t: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    t * (-lo * t).exp() * one_minus_exp_over_x((hi - lo) * t)
}

/// `∫_0^t (e^{-b·s} - e^{-a·s}) / (a - b) ds`, the integral of [`bateman_kernel`], computed without
/// catastrophic cancellation in every regime (small `a·t` by its series, close rates by a
/// divided-difference expansion, otherwise directly).
pub fn bateman_kernel_integral(a: f64, b: f64, t: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi * t <= 1.0 {
        // Σ_{n≥1} (-1)^{n+1} t^{n+1} h_{n-1}(hi, lo) / (n+1)!, with h the complete homogeneous
        // symmetric polynomial; all terms are built from non-negative numbers.
        let mut h = 1.0; // h_0
        let mut lo_pow = 1.0; // lo^(n-1)
        let mut t_pow = t * t; // t^(n+1)
        let mut fact = 2.0; // (n+1)!
        let mut sum = 0.0;
        for n in 1..60 {
            let term = t_pow * h / fact;
            if n % 2 == 1 {
                sum += term;
            } else {
                sum -= term;
            }
            if term <= 1e-17 * sum.abs() {
                break;
            }
            lo_pow *= lo;
            h = hi * h + lo_pow;
            t_pow *= t;
            fact *= (n + 2) as f64;
        }
        return sum;
    }
    let diff_t = (hi - lo) * t;
    if diff_t > 1e-3 {
        return t * (one_minus_exp_over_x(lo * t) - one_minus_exp_over_x(hi * t)) / (hi - lo);
    }
    // Close rates: t² · (J1(m) + J3(m)·h²/24) with J_k(x) = ∫_0^1 u^k e^{-x u} du, the derivatives
    // of (1 - e^{-x})/x up to sign, at the midpoint m (here m ≥ 0.5, where the upward recursion
    // for J_k is stable).
    let m = 0.5 * (hi + lo) * t;
    let e = (-m).exp();
    let j0 = (1.0 - e) / m;
    let j1 = (j0 - e) / m;
    let j2 = (2.0 * j1 - e) / m;
    let j3 = (3.0 * j2 - e) / m;
    t * t * (j1 + j3 * diff_t * diff_t / 24.0)
}
