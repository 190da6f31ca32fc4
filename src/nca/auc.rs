//! Areas under the curve (AUC) and under the first-moment curve (AUMC), segment by segment as
//! PKNCA integrates them (its `choose_interval_method` and `auc_integrate`): a segment is
//! skipped when both ends are 0, integrated as a log trapezoid when the concentration falls to a
//! positive value (linear-up/log-down), linearly otherwise, and nothing is added after Tlast.

use super::{AucMethod, Missing, Profile, Value};

/// How one segment between two samples is integrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Zero,
    Linear,
    Log,
}

fn segment(c1: f64, c2: f64, m: AucMethod) -> Segment {
    if c1 == 0.0 && c2 == 0.0 {
        Segment::Zero
    } else if m == AucMethod::LinUpLogDown && c2 < c1 && c2 != 0.0 {
        Segment::Log
    } else {
        Segment::Linear
    }
}

/// ln(c2/c1) without the rounding of the quotient: for nearly equal values (a flat stretch of a
/// dense simulated grid) ln(c2/c1) would lose most of its digits.
/// Far apart (a factor over 2), the difference of the logarithms, which stays finite when the
/// quotient would round to 0 (a tail level of 1e-300 ng/mL after a dose: ln_1p(−1) = −∞, and
/// the moment integral became ∞·0 = NaN).
fn log_ratio(c1: f64, c2: f64) -> f64 {
    if c2 < 0.5 * c1 || c2 > 2.0 * c1 {
        c2.ln() - c1.ln()
    } else {
        ((c2 - c1) / c1).ln_1p()
    }
}

/// g(L) = (e^L·(L − 1) + 1)/L² = Σ_{n≥0} (n + 1)·Lⁿ/(n + 2)!, by its series for |L| < 0.5
/// (17 terms: the first left out is below 1e-16 of the sum) and in closed form beyond, where the
/// numerator no longer cancels.
fn moment_factor(l: f64) -> f64 {
    if l.abs() < 0.5 {
        let (mut sum, mut power, mut fact) = (0.0, 1.0, 2.0);
        for n in 0..17 {
            sum += (n as f64 + 1.0) * power / fact;
            power *= l;
            fact *= n as f64 + 3.0;
        }
        sum
    } else {
        (l.exp() * (l - 1.0) + 1.0) / (l * l)
    }
}

/// ∫ of one segment: C (moment = false) or t·C (moment = true).
fn integral(t1: f64, t2: f64, c1: f64, c2: f64, m: AucMethod, moment: bool) -> f64 {
    let dt = t2 - t1;
    match (segment(c1, c2, m), moment) {
        (Segment::Zero, _) => 0.0,
        (Segment::Linear, false) => dt * (c1 + c2) / 2.0,
        (Segment::Linear, true) => dt * (c1 * t1 + c2 * t2) / 2.0,
        (Segment::Log, false) => dt * (c2 - c1) / log_ratio(c1, c2),
        (Segment::Log, true) => {
            // PKNCA writes Δt·(c2·t2 − c1·t1)/L − Δt²·(c2 − c1)/L², L = ln(c2/c1), whose two
            // terms cancel for small |L|. The same integral is t1·AUC + c1·Δt²·g(L), which
            // does not (see `moment_factor`).
            let l = log_ratio(c1, c2);
            let auc = dt * (c2 - c1) / l;
            t1 * auc + c1 * dt * dt * moment_factor(l)
        }
    }
}

/// The area from the first sample to Tlast of a cleaned profile, PKNCA's checks first.
fn area_last(p: &Profile, m: AucMethod, moment: bool) -> Value {
    let (t, c) = (p.time_h(), p.conc_ng_ml());
    match t.len() {
        0 => return Err(Missing::NoData),
        1 => return Err(Missing::OneSample),
        _ => {}
    }
    // Every value BLQ: the area is 0 (PKNCA), before the check of the start.
    let Some(last) = p.last_positive() else {
        return Ok(0.0);
    };
    if t[0] > 0.0 {
        return Err(Missing::NoSampleAtDose { first_h: t[0] });
    }
    Ok((0..last)
        .map(|i| integral(t[i], t[i + 1], c[i], c[i + 1], m, moment))
        .sum())
}

/// AUClast (ng·h/mL) of a profile already cleaned of BLQ values (PKNCA `auclast`): from the
/// dose (a sample at 0 h is required) to the last positive concentration.
pub fn auc_last(p: &Profile, m: AucMethod) -> Value {
    area_last(p, m, false)
}

/// AUMClast (ng·h²/mL), the area under t·C to Tlast (PKNCA `aumclast`).
pub fn aumc_last(p: &Profile, m: AucMethod) -> Value {
    area_last(p, m, true)
}

/// The concentration at `x` (h) inside the samples: a sample's value, or interpolated on its
/// segment by the segment's rule (linear, or log-linear on a falling segment); 0 after Tlast, as
/// PKNCA's `interp.extrap.conc` gives for AUClast.
fn conc_at(p: &Profile, x: f64, m: AucMethod) -> f64 {
    let (t, c) = (p.time_h(), p.conc_ng_ml());
    let Some(last) = p.last_positive() else {
        return 0.0;
    };
    if x > t[last] {
        return 0.0;
    }
    let i = t.partition_point(|&ti| ti < x);
    if i < t.len() && t[i] == x {
        return c[i];
    }
    // t[i - 1] < x < t[i]; i ≥ 1 because x is not before the first sample.
    let (t1, t2, c1, c2) = (t[i - 1], t[i], c[i - 1], c[i]);
    let frac = (x - t1) / (t2 - t1);
    match segment(c1, c2, m) {
        Segment::Zero => 0.0,
        Segment::Linear => c1 + frac * (c2 - c1),
        Segment::Log => c1 * (frac * log_ratio(c1, c2)).exp(),
    }
}

/// The AUC (ng·h/mL) from `start_h` to `end_h` of a cleaned profile, with the concentrations at
/// both ends interpolated when they fall between samples (PKNCA `aucint.last`). `start_h` must
/// not be before the first sample and must be before `end_h`.
pub fn auc_between(p: &Profile, start_h: f64, end_h: f64, m: AucMethod) -> Value {
    let t = p.time_h();
    let Some(&first) = t.first() else {
        return Err(Missing::NoData);
    };
    if start_h < first {
        return Err(Missing::NoSampleAtDose { first_h: first });
    }
    let mut times = vec![start_h];
    let mut concs = vec![conc_at(p, start_h, m)];
    for (&ti, &ci) in t.iter().zip(p.conc_ng_ml()) {
        if ti > start_h && ti < end_h {
            times.push(ti);
            concs.push(ci);
        }
    }
    if end_h > start_h {
        times.push(end_h);
        concs.push(conc_at(p, end_h, m));
    }
    let part = Profile {
        time_h: times,
        conc_ng_ml: concs,
    };
    let Some(last) = part.last_positive() else {
        return Ok(0.0);
    };
    Ok((0..last)
        .map(|i| {
            integral(
                part.time_h[i],
                part.time_h[i + 1],
                part.conc_ng_ml[i],
                part.conc_ng_ml[i + 1],
                m,
                false,
            )
        })
        .sum())
}
