//! The correlations of `[population]` as a matrix: whether they form a valid correlation
//! matrix (positive definite, so the log-parameters can be drawn from it), and the range a
//! correlation may take given the ones before it, for the message that refuses it.

/// Smallest Cholesky pivot accepted. A matrix this close to singular would draw subjects
/// along a line, and the population's own factorisation (of the covariance, a scaled copy)
/// must not fail where this one passed by a rounding error.
const MIN_PIVOT: f64 = 1e-9;

/// A symmetric correlation matrix with a unit diagonal.
#[derive(Debug, Clone)]
pub(super) struct Correlations(Vec<Vec<f64>>);

impl Correlations {
    /// The identity of size `n`: no correlation.
    pub(super) fn independent(n: usize) -> Self {
        Self(
            (0..n)
                .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
                .collect(),
        )
    }

    /// Sets the correlation of `i` and `j`.
    pub(super) fn set(&mut self, i: usize, j: usize, rho: f64) {
        self.0[i][j] = rho;
        self.0[j][i] = rho;
    }

    /// True when the matrix is positive definite with every Cholesky pivot above
    /// [`MIN_PIVOT`].
    pub(super) fn is_valid(&self) -> bool {
        let n = self.0.len();
        let mut l = vec![vec![0.0; n]; n];
        for i in 0..n {
            for j in 0..=i {
                let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
                if i == j {
                    let pivot = self.0[i][i] - s;
                    if pivot.is_nan() || pivot <= MIN_PIVOT {
                        return false;
                    }
                    l[i][i] = pivot.sqrt();
                } else {
                    l[i][j] = (self.0[i][j] - s) / l[j][j];
                }
            }
        }
        true
    }

    /// The values the correlation of `i` and `j` may take with the others as they are, as
    /// `(lowest, highest)` rounded inward to three decimals; `None` when no value makes the
    /// matrix valid. The valid values form an interval (the valid matrices are a convex set):
    /// a scan finds a point inside, bisection its two ends.
    pub(super) fn allowed_range(&self, i: usize, j: usize) -> Option<(f64, f64)> {
        let valid_at = |rho: f64| {
            let mut m = self.clone();
            m.set(i, j, rho);
            m.is_valid()
        };
        let inside = (1..2000)
            .map(|k| -1.0 + f64::from(k) / 1000.0)
            .find(|&rho| valid_at(rho))?;
        let edge = |toward: f64| {
            let (mut ok, mut bad) = (inside, toward);
            for _ in 0..60 {
                let mid = 0.5 * (ok + bad);
                if valid_at(mid) {
                    ok = mid;
                } else {
                    bad = mid;
                }
            }
            ok
        };
        let (lo, hi) = (edge(-1.0), edge(1.0));
        let (lo, hi) = (
            (lo * 1000.0).ceil() / 1000.0,
            (hi * 1000.0).floor() / 1000.0,
        );
        // A sliver narrower than the rounding is shown as the point found.
        Some(if lo <= hi { (lo, hi) } else { (inside, inside) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_strong_correlations_need_a_strong_third() {
        // ρ12 = ρ13 = 0.9: ρ23 must lie in 0.81 ± 0.19, i.e. (0.62, 1); at 0 or −0.5 the
        // matrix is not positive definite although each pair alone is fine.
        let mut r = Correlations::independent(3);
        r.set(0, 1, 0.9);
        r.set(0, 2, 0.9);
        assert!(!r.is_valid());
        assert_eq!(r.allowed_range(1, 2), Some((0.621, 0.999)));
        r.set(1, 2, -0.5);
        assert!(!r.is_valid());
        r.set(1, 2, 0.7);
        assert!(r.is_valid());
    }

    #[test]
    fn a_single_pair_may_take_any_value_strictly_inside_minus_one_to_one() {
        let r = Correlations::independent(2);
        assert_eq!(r.allowed_range(0, 1), Some((-0.999, 0.999)));
    }

    #[test]
    fn no_value_fits_when_the_others_are_already_invalid() {
        // Parameters 0, 1, 2 are already inconsistent; the pair (2, 3) cannot mend that.
        let mut r = Correlations::independent(4);
        r.set(0, 1, 0.9);
        r.set(0, 2, 0.9);
        r.set(1, 2, -0.9);
        assert_eq!(r.allowed_range(2, 3), None);
    }
}
