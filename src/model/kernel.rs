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

/// Most rates [`chain_kernel`] takes: a gut, two disposition modes and two integrals.
pub const MAX_CHAIN: usize = 5;

/// The response of the last of `rates.len()` first-order steps in series to a unit amount in the
/// first: the convolution of e^{−λᵢ·t} over the rates, Σᵢ e^{−λᵢ·t}/Πⱼ≠ᵢ(λⱼ − λᵢ) when they are
/// distinct. A rate of zero is an integral (∫₀ᵗ of the response of the other rates), so the
/// response to a zero-order input, and its area, are this kernel with one or two zeros appended:
/// an infusion is the integral of the bolus kernel.
///
/// One rate is e^{−λ·t}; two are [`bateman_kernel`]. Three or more, when their spread is
/// wide ((largest − smallest)·t > 1), are divided over the widest gap,
/// (K(all but the largest) − K(all but the smallest))/(largest − smallest), which cancels by
/// less than a factor e; otherwise they are summed as the series about their mean m (from the
/// divided differences of powers, h_k the complete homogeneous symmetric polynomial of the
/// offsets dᵢ = λᵢ − m):
///
/// ```text
/// K = e^{−m·t} · tⁿ⁻¹ · Σ_k (−t)ᵏ·h_k(d)/(n − 1 + k)!
/// ```
///
/// whose terms fall as (max|dᵢ|·t)ᵏ/k!, so 30 terms reach rounding. Rates must be non-negative
/// and at most [`MAX_CHAIN`] of them.
pub fn chain_kernel(rates: &[f64], t: f64) -> f64 {
    let n = rates.len();
    debug_assert!((1..=MAX_CHAIN).contains(&n));
    let mut r = [0.0; MAX_CHAIN];
    r[..n].copy_from_slice(rates);
    let r = &mut r[..n];
    r.sort_by(f64::total_cmp);
    sorted_chain(r, t)
}

fn sorted_chain(r: &[f64], t: f64) -> f64 {
    let n = r.len();
    match n {
        0 => 0.0,
        1 => (-r[0] * t).exp(),
        2 => bateman_kernel(r[1], r[0], t),
        _ if (r[n - 1] - r[0]) * t > 1.0 => {
            (sorted_chain(&r[..n - 1], t) - sorted_chain(&r[1..], t)) / (r[n - 1] - r[0])
        }
        _ => clustered_chain(r, t),
    }
}

/// The series of [`chain_kernel`] about the mean rate, for rates within 1/t of each other.
fn clustered_chain(r: &[f64], t: f64) -> f64 {
    const TERMS: usize = 30;
    let n = r.len();
    let m = r.iter().sum::<f64>() / n as f64;
    // h[k] = h_k(d₁..d_j), built one offset at a time: h_k(..d_j) = h_k(..d_{j−1}) + d_j·h_{k−1}(..d_j).
    let mut h = [0.0; TERMS];
    h[0] = 1.0;
    for &x in r {
        let d = (x - m) * t;
        for k in 1..TERMS {
            h[k] += d * h[k - 1];
        }
    }
    // Σ_k (−1)ᵏ·h_k(d·t)/(n − 1 + k)!, with 1/(n − 1)! taken out of the sum.
    let mut sum: f64 = 0.0;
    let mut inv_fact = 1.0; // (n − 1)!/(n − 1 + k)!
    for (k, &hk) in h.iter().enumerate() {
        if k > 0 {
            inv_fact /= (n - 1 + k) as f64;
        }
        // No early exit: with offsets symmetric about the mean every odd h_k is zero, so a
        // small term does not mean the rest are.
        sum += if k % 2 == 0 { hk } else { -hk } * inv_fact;
    }
    let fact: f64 = (1..n).map(|k| k as f64).product();
    (-m * t).exp() * t.powi(n as i32 - 1) / fact * sum
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    /// One convolution step by quadrature: K(λ₁..λₙ)(t) = ∫₀ᵗ K(λ₁..λₙ₋₁)(t − s)·e^{−λₙ·s} ds,
    /// composite Simpson over the kernel of one rate fewer (checked on its own at n = 2, 3).
    fn by_quadrature(rates: &[f64], t: f64) -> f64 {
        let (head, last) = rates.split_at(rates.len() - 1);
        let n = 4000;
        let h = t / n as f64;
        let f = |s: f64| chain_kernel(head, t - s) * (-last[0] * s).exp();
        let mut sum = f(0.0) + f(t);
        for i in 1..n {
            sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(i as f64 * h);
        }
        sum * h / 3.0
    }

    /// The textbook partial-fraction form for distinct rates: Σᵢ e^{−λᵢ·t}/Πⱼ≠ᵢ(λⱼ − λᵢ).
    fn partial_fractions(rates: &[f64], t: f64) -> f64 {
        rates
            .iter()
            .enumerate()
            .map(|(i, &li)| {
                let den: f64 = rates
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, &lj)| lj - li)
                    .product();
                (-li * t).exp() / den
            })
            .sum()
    }

    #[test]
    fn chain_matches_the_two_and_three_rate_kernels_and_zero_rates_are_integrals() {
        for &(a, b, t) in &[(1.2, 0.0096, 24.0), (0.3, 0.3, 5.0), (40.0, 0.01, 2.0)] {
            assert_eq!(chain_kernel(&[a, b], t), bateman_kernel(a, b, t));
            let integral = bateman_kernel_integral(a, b, t);
            let k = chain_kernel(&[a, b, 0.0], t);
            assert!(
                (k - integral).abs() <= 1e-12 * integral,
                "{a} {b} {t}: {k} vs {integral}"
            );
        }
        // ∫₀ᵗ e^{−k·s} ds = (1 − e^{−k·t})/k, and ∫₀ᵗ of that = (t − (1 − e^{−k·t})/k)/k.
        let (k, t) = (0.099f64, 10.0f64);
        let one = (1.0 - (-k * t).exp()) / k;
        assert!((chain_kernel(&[k, 0.0], t) - one).abs() < 1e-14 * one);
        let two = (t - one) / k;
        assert!((chain_kernel(&[k, 0.0, 0.0], t) - two).abs() < 1e-12 * two);
        // All rates zero: t^(n−1)/(n−1)!.
        assert!((chain_kernel(&[0.0, 0.0, 0.0, 0.0], 3.0) - 27.0 / 6.0).abs() < 1e-14);
    }

    #[test]
    fn chain_matches_partial_fractions_for_well_separated_rates() {
        for rates in [
            &[2.0, 0.5, 0.05, 0.0][..],
            &[1.3, 0.4, 0.1],
            &[3.0, 1.0, 0.2, 0.0, 0.01],
        ] {
            for &t in &[0.7, 5.0, 40.0] {
                let k = chain_kernel(rates, t);
                let p = partial_fractions(rates, t);
                assert!(
                    (k - p).abs() <= 1e-10 * p.abs(),
                    "{rates:?} t={t}: {k} vs {p}"
                );
            }
        }
    }

    #[test]
    fn chain_agrees_with_quadrature_in_every_regime() {
        let cases: &[&[f64]] = &[
            &[1.2, 0.0096, 0.0, 0.0],
            &[0.574, 0.9, 0.05, 0.0],
            &[0.574, 0.9, 0.05, 0.0, 0.0],
            &[0.3, 0.3, 0.3, 0.0],
            &[0.9758, 0.9758, 0.0, 0.0], // symmetric offsets: every odd term of the series is zero
            &[0.3, 0.3001, 0.2999, 0.3],
            &[5.0, 0.2, 0.2, 0.0],
            &[0.02, 0.35, 1.5, 0.0],
        ];
        for rates in cases {
            for &t in &[0.5, 6.0, 30.0] {
                let k = chain_kernel(rates, t);
                let q = by_quadrature(rates, t);
                assert!(
                    (k - q).abs() <= 1e-9 * q.abs(),
                    "{rates:?} t={t}: {k} vs {q}"
                );
            }
        }
    }

    #[test]
    fn chain_is_continuous_across_the_expansion_boundary() {
        for &gap in &[0.999e-4, 1.001e-4] {
            let r = [0.3, 0.3 + gap, 0.0 + 0.3 - gap, 0.3];
            let k = chain_kernel(&r, 10.0);
            let q = by_quadrature(&r, 10.0);
            assert!((k - q).abs() <= 1e-9 * q, "{gap}: {k} vs {q}");
        }
    }
}
