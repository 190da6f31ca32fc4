//! The percentile bands' estimator: a histogram of concentrations per band time, log-binned
//! with 2^BIN_BITS bins per octave read straight from the f64's exponent and mantissa bits (no
//! logarithm), so a percentile read from it is within ±1/2^(BIN_BITS+1) of the exact order
//! statistic (relative). Integer counts: any order of adding, any thread count, any sharding
//! gives the same histogram.

/// log2 of the number of histogram bins per octave of concentration.
pub const BIN_BITS: u32 = 8;
/// Octaves covered by the histogram below its top.
const OCTAVES: i32 = 32;

/// Histogram of concentrations at each band time.
#[derive(Debug, Clone, PartialEq)]
pub struct BandHistogram {
    /// Exponent (base 2) of the bottom of the log-binned range.
    pub exp_lo: i32,
    /// Counts, `bins()` per band time, band-time major.
    pub counts: Vec<u32>,
    /// Number of band times.
    pub times: usize,
}

impl BandHistogram {
    /// Bins per band time: one for ≤ 0, one for (0, 2^exp_lo), the log bins, one for overflow.
    pub const fn bins() -> usize {
        (OCTAVES as usize) << BIN_BITS | 3
    }

    /// An empty histogram whose top octave is 2^8 times `typical_max`.
    pub fn new(times: usize, typical_max_ng_ml: f64) -> Self {
        let top = if typical_max_ng_ml > 0.0 && typical_max_ng_ml.is_finite() {
            typical_max_ng_ml.log2().ceil() as i32 + 8
        } else {
            8
        };
        Self {
            exp_lo: top - OCTAVES,
            counts: vec![0; times * Self::bins()],
            times,
        }
    }

    /// The bin of a concentration: exponent and leading mantissa bits of the f64, no logarithm.
    #[inline]
    pub fn bin(&self, v: f64) -> usize {
        if v <= 0.0 || v.is_nan() {
            return 0;
        }
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
        let rel = exp - self.exp_lo;
        if rel < 0 {
            return 1;
        }
        if rel >= OCTAVES {
            return Self::bins() - 1;
        }
        let mant = ((bits >> (52 - BIN_BITS)) & ((1 << BIN_BITS) - 1)) as usize;
        2 + ((rel as usize) << BIN_BITS) + mant
    }

    /// The value a bin stands for: its midpoint (0 for the bottom two bins, the lower edge of
    /// the overflow bin).
    pub fn value(&self, bin: usize) -> f64 {
        if bin < 2 {
            return 0.0;
        }
        if bin == Self::bins() - 1 {
            return 2f64.powi(self.exp_lo + OCTAVES);
        }
        let k = bin - 2;
        let rel = (k >> BIN_BITS) as i32;
        let mant = (k & ((1 << BIN_BITS) - 1)) as f64;
        2f64.powi(self.exp_lo + rel) * (1.0 + (mant + 0.5) / f64::from(1u32 << BIN_BITS))
    }

    /// Adds another histogram of the same shape.
    pub fn merge(&mut self, other: &BandHistogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Nearest-rank percentile `p` (0–100) at band time `t`.
    pub fn percentile(&self, t: usize, p: f64) -> f64 {
        let row = &self.counts[t * Self::bins()..(t + 1) * Self::bins()];
        let total: u64 = row.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return f64::NAN;
        }
        let rank = ((p / 100.0 * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0u64;
        for (bin, &c) in row.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return self.value(bin);
            }
        }
        self.value(Self::bins() - 1)
    }
}

impl BandHistogram {
    /// Nearest-rank percentiles `ps` (0–100, ascending) at band time `t`, in one pass over the
    /// row: the same values as [`BandHistogram::percentile`] for each.
    pub fn percentiles(&self, t: usize, ps: &[f64]) -> Vec<f64> {
        let row = &self.counts[t * Self::bins()..(t + 1) * Self::bins()];
        let total: u64 = row.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return vec![f64::NAN; ps.len()];
        }
        let ranks: Vec<u64> = ps
            .iter()
            .map(|p| ((p / 100.0 * total as f64).ceil() as u64).clamp(1, total))
            .collect();
        let mut out = vec![self.value(Self::bins() - 1); ps.len()];
        let (mut seen, mut next) = (0u64, 0usize);
        for (bin, &c) in row.iter().enumerate() {
            if c == 0 {
                continue;
            }
            seen += u64::from(c);
            while next < ranks.len() && seen >= ranks[next] {
                out[next] = self.value(bin);
                next += 1;
            }
            if next == ranks.len() {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_percentiles_equal_the_single_ones() {
        let mut h = BandHistogram::new(2, 10.0);
        // Row 0: a skewed sample with ties; row 1 empty.
        for k in 0..997u32 {
            let v = 0.01 * f64::from(k % 331).powf(1.7) + if k % 7 == 0 { 0.0 } else { 0.5 };
            let b = h.bin(v);
            h.counts[b] += 1;
        }
        let ps = [0.0, 5.0, 25.0, 50.0, 50.0, 75.0, 95.0, 100.0];
        let got = h.percentiles(0, &ps);
        for (p, g) in ps.iter().zip(&got) {
            assert_eq!(*g, h.percentile(0, *p), "p{p}");
        }
        assert!(h.percentiles(1, &ps).iter().all(|x| x.is_nan()));
    }
}
