//! What the summary reports of a regimen's subjects: the exact distribution of each per-subject
//! metric, the share at the trough target and, with `[response]`, each marker's change and its
//! responder counts.
//!
//! The summary is folded one column at a time ([`SubjectColumn`]): a whole run folds the columns
//! of the subjects it holds, a merge of shards folds each column read in a pass over the shard
//! files, holding that one column only (8 bytes per subject). Both go through
//! [`SubjectSummary::add_column`], so a merge gives the bytes of an unsharded run.

use crate::response::Marker;
use crate::study::population::SubjectMetrics;

/// The falls (%) whose shares of subjects are reported.
pub const RESPONDER_FALLS_PCT: [u32; 9] = [10, 20, 30, 40, 50, 60, 70, 80, 90];

/// Percentiles and mean of a per-subject metric.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Distribution {
    pub p5: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub mean: f64,
}

/// Exact nearest-rank percentiles of `values`, and their mean.
pub fn distribution(values: &[f64]) -> Distribution {
    distribution_of(values.to_vec())
}

/// [`distribution`] of values it may reorder, without a copy of them.
pub fn distribution_of(mut v: Vec<f64>) -> Distribution {
    v.retain(|x| x.is_finite());
    // Unstable is the same order as stable here: values equal under `total_cmp` have the same
    // bits. It needs no buffer, where a stable sort takes half the values again.
    v.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| {
        if v.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    };
    // Summed in ascending order, as always: the mean's last bits depend on the order.
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    Distribution {
        p5: q(5.0),
        p25: q(25.0),
        p50: q(50.0),
        p75: q(75.0),
        p95: q(95.0),
        mean,
    }
}

/// A per-subject value the summary folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectColumn {
    CmaxNgMl,
    TmaxH,
    CTroughNgMl,
    CEndNgMl,
    AucLastTauNgHMl,
    /// A marker's change from baseline at the end of the run (%), where modelled.
    PctChangeAtEnd(Marker),
}

impl SubjectColumn {
    /// The columns of the summary: the five metrics, then the change of each of `markers`.
    pub fn all(markers: &[Marker]) -> Vec<Self> {
        let mut c = vec![
            Self::CmaxNgMl,
            Self::TmaxH,
            Self::CTroughNgMl,
            Self::CEndNgMl,
            Self::AucLastTauNgHMl,
        ];
        c.extend(markers.iter().map(|&m| Self::PctChangeAtEnd(m)));
        c
    }

    /// The subject's value, `None` for a marker it does not model.
    pub fn value(self, s: &SubjectMetrics) -> Option<f64> {
        match self {
            Self::CmaxNgMl => Some(s.cmax_ng_ml),
            Self::TmaxH => Some(s.tmax_h),
            Self::CTroughNgMl => Some(s.c_trough_ng_ml),
            Self::CEndNgMl => Some(s.c_end_ng_ml),
            Self::AucLastTauNgHMl => Some(s.auc_last_tau_ng_h_ml),
            Self::PctChangeAtEnd(m) => s.pct_change_at_end(m),
        }
    }
}

/// Which optional values the subjects carry: the peripheral compartment's parameters and the
/// markers' changes. They decide the columns of `population_subjects.csv` and of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectFields {
    /// Some subject has `q_l_per_h` (a two-compartment model).
    pub two_compartment: bool,
    /// The markers some subject has a change of, in the order of [`Marker::ALL`].
    pub markers: Vec<Marker>,
}

impl SubjectFields {
    /// The fields of `subjects`.
    pub fn of<'a>(subjects: impl IntoIterator<Item = &'a SubjectMetrics>) -> Self {
        let mut f = Self::default();
        for s in subjects {
            f.add(s);
        }
        f
    }

    /// Takes in the fields of one more subject.
    pub fn add(&mut self, s: &SubjectMetrics) {
        self.two_compartment |= s.q_l_per_h.is_some();
        for m in Marker::ALL {
            if s.pct_change_at_end(m).is_some() {
                self.add_marker(m);
            }
        }
    }

    /// The fields of either.
    pub fn union(&mut self, other: &Self) {
        self.two_compartment |= other.two_compartment;
        for &m in &other.markers {
            self.add_marker(m);
        }
    }

    fn add_marker(&mut self, m: Marker) {
        if !self.markers.contains(&m) {
            self.markers.push(m);
            // `Marker::ALL` is in declaration order, which is `Ord`'s.
            self.markers.sort();
        }
    }
}

/// A marker across the subjects of a regimen that model it.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkerSummary {
    pub marker: Marker,
    /// Subjects with a value (every subject, when the regimen models the marker).
    pub subjects: u64,
    /// Change from baseline at the end of the run (%; negative is a fall).
    pub pct_change_at_end: Distribution,
    /// Subjects whose marker fell by at least each of [`RESPONDER_FALLS_PCT`].
    pub reduced_by_at_least: [u64; RESPONDER_FALLS_PCT.len()],
}

/// The summary of a regimen's subjects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubjectSummary {
    /// Number of subjects.
    pub subjects: u64,
    pub cmax_ng_ml: Distribution,
    pub tmax_h: Distribution,
    pub c_trough_ng_ml: Distribution,
    pub c_end_ng_ml: Distribution,
    pub auc_last_tau_ng_h_ml: Distribution,
    /// With a trough target: the subjects whose trough is at or above it.
    pub trough_at_or_above_target: Option<u64>,
    /// The markers the subjects model, in the order their columns were added.
    pub markers: Vec<MarkerSummary>,
    target_trough_ng_ml: Option<f64>,
}

impl SubjectSummary {
    /// An empty summary of `subjects` subjects, for [`Self::add_column`].
    pub fn new(subjects: u64, target_trough_ng_ml: Option<f64>) -> Self {
        Self {
            subjects,
            target_trough_ng_ml,
            ..Self::default()
        }
    }

    /// The summary of subjects held in memory.
    pub fn of(subjects: &[SubjectMetrics], target_trough_ng_ml: Option<f64>) -> Self {
        let all = |c: SubjectColumn| -> Result<Vec<f64>, std::convert::Infallible> {
            Ok(subjects.iter().filter_map(|m| c.value(m)).collect())
        };
        match Self::folded(
            subjects.len() as u64,
            target_trough_ng_ml,
            &Marker::ALL,
            all,
        ) {
            Ok(s) => s,
            Err(never) => match never {},
        }
    }

    /// The summary of `subjects` subjects folded one column at a time: `column(c)` gives the
    /// values of column `c` (of the five metrics, then the change of each of `markers`) for
    /// the subjects that have one, in subject order; only one column is held at a time.
    pub fn folded<E>(
        subjects: u64,
        target_trough_ng_ml: Option<f64>,
        markers: &[Marker],
        mut column: impl FnMut(SubjectColumn) -> Result<Vec<f64>, E>,
    ) -> Result<Self, E> {
        let mut s = Self::new(subjects, target_trough_ng_ml);
        for c in SubjectColumn::all(markers) {
            s.add_column(c, column(c)?);
        }
        Ok(s)
    }

    /// Folds in column `c`: its values for every subject that has one, in subject order.
    pub fn add_column(&mut self, c: SubjectColumn, values: Vec<f64>) {
        let slot = match c {
            SubjectColumn::CmaxNgMl => &mut self.cmax_ng_ml,
            SubjectColumn::TmaxH => &mut self.tmax_h,
            SubjectColumn::CTroughNgMl => {
                self.trough_at_or_above_target = self
                    .target_trough_ng_ml
                    .map(|t| values.iter().filter(|&&v| v >= t).count() as u64);
                &mut self.c_trough_ng_ml
            }
            SubjectColumn::CEndNgMl => &mut self.c_end_ng_ml,
            SubjectColumn::AucLastTauNgHMl => &mut self.auc_last_tau_ng_h_ml,
            SubjectColumn::PctChangeAtEnd(marker) => {
                // A marker no subject models has no summary.
                if !values.is_empty() {
                    let reduced_by_at_least = RESPONDER_FALLS_PCT
                        .map(|f| values.iter().filter(|&&x| x <= -f64::from(f)).count() as u64);
                    self.markers.push(MarkerSummary {
                        marker,
                        subjects: values.len() as u64,
                        pct_change_at_end: distribution_of(values),
                        reduced_by_at_least,
                    });
                }
                return;
            }
        };
        *slot = distribution_of(values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_and_ascending_mean() {
        let d = distribution(&[5.0, f64::NAN, 1.0, 4.0, 2.0, 3.0]);
        assert_eq!(
            (d.p5, d.p25, d.p50, d.p75, d.p95),
            (1.0, 2.0, 3.0, 4.0, 5.0)
        );
        assert_eq!(d.mean, 3.0);
        assert!(distribution(&[]).p50.is_nan());
    }
}
