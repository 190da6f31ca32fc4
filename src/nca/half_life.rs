//! The terminal rate constant λz as PKNCA's `pk.calc.half.life` chooses it by default: a
//! log-linear least-squares fit of ln C on t for the last 3, 4, … positive samples after Tmax;
//! of the fits with λz > 0 whose adjusted R² is within `adj_r_squared_factor` of the best
//! adjusted R² (of all fits), the one with the most points.

use super::{Missing, NcaOptions, Profile};

/// The λz regression PKNCA selects, with its diagnostics (PKNCA names in comments).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LambdaZ {
    /// `lambda.z`: minus the slope of ln C against t (1/h).
    pub lambda_z_per_h: f64,
    /// `r.squared` of the regression.
    pub r_squared: f64,
    /// `adj.r.squared` = 1 − (1 − R²)·(n − 1)/(n − 2).
    pub adj_r_squared: f64,
    /// `lambda.z.n.points`.
    pub n_points: usize,
    /// `lambda.z.time.first`: the first time in the regression (h).
    pub time_first_h: f64,
    /// `lambda.z.time.last`: the last, which is Tlast (h).
    pub time_last_h: f64,
    /// `clast.pred`: the regression line at Tlast (ng/mL).
    pub clast_pred_ng_ml: f64,
    /// `half.life` = ln 2/λz (h).
    pub half_life_h: f64,
    /// `span.ratio`: the regression's time span over the half-life.
    pub span_ratio: f64,
}

/// One candidate regression over the last `n` points.
#[derive(Debug, Clone, Copy)]
struct Fit {
    n: usize,
    slope: f64,
    intercept: f64,
    r_squared: f64,
    adj_r_squared: f64,
    time_first_h: f64,
}

/// Adjusted R² of a fit of `n` points (NaN for n ≤ 2, as PKNCA's NA).
fn adjusted(r_squared: f64, n: usize) -> f64 {
    if n <= 2 {
        return f64::NAN;
    }
    let n = n as f64;
    1.0 - (1.0 - r_squared) * (n - 1.0) / (n - 2.0)
}

/// Calls `each` with every regression of the last `min`, `min + 1`, … points of `pts` (t, C),
/// by running centred sums from the end (Welford's update): O(n), no storage, and without the
/// cancellation of raw sums of t² at late times. Deterministic, so two passes see the same fits.
fn for_each_fit<'a>(
    pts: impl DoubleEndedIterator<Item = (&'a f64, &'a f64)>,
    min: usize,
    mut each: impl FnMut(Fit),
) {
    let (mut n, mut mx, mut my, mut sxx, mut syy, mut sxy) = (0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (&x, &c) in pts.rev() {
        let y = c.ln();
        n += 1;
        let k = n as f64;
        let dx = x - mx;
        mx += dx / k;
        let dy = y - my;
        my += dy / k;
        sxx += dx * (x - mx);
        syy += dy * (y - my);
        sxy += dx * (y - my);
        if n < min {
            continue;
        }
        let slope = sxy / sxx;
        // R² = 1 − SSres/SStot = Sxy²/(Sxx·Syy); 0/0 (all ln C equal) is NaN, as in PKNCA.
        let r_squared = if syy > 0.0 {
            (sxy * sxy / (sxx * syy)).min(1.0)
        } else {
            f64::NAN
        };
        each(Fit {
            n,
            slope,
            intercept: my - slope * mx,
            r_squared,
            adj_r_squared: adjusted(r_squared, n),
            time_first_h: x,
        });
    }
}

/// λz of a profile already cleaned of BLQ values, chosen by PKNCA's default rule (see the
/// module). Zero concentrations are left out of the regression; so is Tmax unless
/// `allow_tmax_in_half_life`.
pub fn lambda_z(p: &Profile, o: &NcaOptions) -> Result<LambdaZ, Missing> {
    let (t, c) = (p.time_h(), p.conc_ng_ml());
    let positive = || t.iter().zip(c).filter(|(_, &ci)| ci > 0.0);
    let Some((_, &first)) = positive().next() else {
        return Err(if t.is_empty() {
            Missing::NoData
        } else {
            Missing::AllBlq
        });
    };
    if positive().nth(1).is_some() && positive().all(|(_, &ci)| ci == first) {
        return Err(Missing::NoVariability);
    }
    let cmax = positive().map(|(_, &ci)| ci).fold(0.0, f64::max);
    let tmax = positive()
        .find(|(_, &ci)| ci == cmax)
        .map_or(0.0, |(&ti, _)| ti);
    let tlast = positive().next_back().map_or(0.0, |(&ti, _)| ti);
    let after =
        || positive().filter(|(&ti, _)| ti > tmax || (o.allow_tmax_in_half_life && ti == tmax));
    let n_after = after().count();
    let min = o.min_hl_points.max(2);
    if n_after < min {
        return Err(Missing::TooFewPoints { n: n_after, min });
    }
    // The best adjusted R² over every fit, including those with λz ≤ 0 (a well-fitting
    // rising or flat tail can thus leave no acceptable fit, as in PKNCA).
    let mut best = f64::NEG_INFINITY;
    for_each_fit(after(), min, |f| {
        if f.adj_r_squared > best {
            best = f.adj_r_squared;
        }
    });
    // With two points allowed and only two there, adjusted R² is undefined: PKNCA takes the
    // fit if its slope is negative.
    let two_only = min == 2 && n_after == 2;
    // Fits come in order of more points, so the last acceptable one has the most.
    let mut chosen: Option<Fit> = None;
    for_each_fit(after(), min, |f| {
        if -f.slope > 0.0 && (two_only || f.adj_r_squared > best - o.adj_r_squared_factor) {
            chosen = Some(f);
        }
    });
    let chosen = chosen.ok_or(Missing::NoTerminalPhase)?;
    let lambda = -chosen.slope;
    let half_life_h = std::f64::consts::LN_2 / lambda;
    Ok(LambdaZ {
        lambda_z_per_h: lambda,
        r_squared: chosen.r_squared,
        adj_r_squared: chosen.adj_r_squared,
        n_points: chosen.n,
        time_first_h: chosen.time_first_h,
        time_last_h: tlast,
        clast_pred_ng_ml: (chosen.intercept + chosen.slope * tlast).exp(),
        half_life_h,
        span_ratio: (tlast - chosen.time_first_h) / half_life_h,
    })
}
