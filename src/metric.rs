//! The metric vocabulary, once: [`Metrics`] (the record the engine computes for every regimen)
//! and [`Metric`] (each reported metric's key, label, unit and value in that record). Sweeps,
//! sensitivity, their tables and figures, the run summary and the scenario's `[sweep] metric`
//! key all read this registry, so a new metric is one variant here plus its computation in
//! `engine/run.rs`.
//!
//! Ground floor rather than `engine/`: the scenario parser validates the metric names users
//! write (`[sweep] metric = "cavg_ss_ng_ml"`), and the scenario layer sits below the engine.
//! The record is plain data; nothing here computes.

/// Metrics of one regimen. Steady-state fields are `None` for schedules without a repeated
/// pattern.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Highest concentration of the run, located exactly (ng/mL).
    pub cmax_ng_ml: f64,
    /// Time of Cmax (h from the start of the run).
    pub tmax_h: f64,
    /// AUC from 0 to the end of the run, baseline included (ng·h/mL).
    pub auc_0_t_ng_h_ml: f64,
    /// Dosing interval of the repeated pattern (h).
    pub tau_h: Option<f64>,
    pub cmax_ss_ng_ml: Option<f64>,
    /// Time of Cmax,ss after the first dose of a steady-state period (h).
    pub tmax_ss_h: Option<f64>,
    /// Trough: lowest concentration over a steady-state period (ng/mL).
    pub cmin_ss_ng_ml: Option<f64>,
    pub cavg_ss_ng_ml: Option<f64>,
    pub auc_tau_ss_ng_h_ml: Option<f64>,
    /// AUCτ,ss / AUC(0–τ) of the first period, baseline excluded; `None` without a steady state
    /// or when the first period has no exposure (a lag of at least the interval).
    pub accumulation_ratio: Option<f64>,
    /// (Cmax,ss − Cmin,ss) / Cavg,ss × 100.
    pub fluctuation_pct: Option<f64>,
    /// Time from the first dose to the first pre-dose trough at ≥ 90 % of steady state (h).
    pub t_90ss_h: Option<f64>,
    /// Whether the simulated span contains that trough.
    pub steady_state_reached: Option<bool>,
    /// The last pre-dose trough inside the run, as % of the steady-state trough (baseline excluded).
    pub last_trough_pct_of_ss: Option<f64>,
}

/// A metric of [`Metrics`] that sweeps, sensitivity and figures can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    CmaxNgMl,
    TmaxH,
    Auc0TNgHMl,
    CmaxSsNgMl,
    TmaxSsH,
    CminSsNgMl,
    CavgSsNgMl,
    AucTauSsNgHMl,
    AccumulationRatio,
    FluctuationPct,
    T90ssH,
}

impl serde::Serialize for Metric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

impl Metric {
    /// Every metric, in the order of `sweep.csv` columns.
    pub const ALL: [Metric; 11] = [
        Metric::CmaxNgMl,
        Metric::TmaxH,
        Metric::Auc0TNgHMl,
        Metric::CmaxSsNgMl,
        Metric::TmaxSsH,
        Metric::CminSsNgMl,
        Metric::CavgSsNgMl,
        Metric::AucTauSsNgHMl,
        Metric::AccumulationRatio,
        Metric::FluctuationPct,
        Metric::T90ssH,
    ];

    /// The metrics a tornado chart reports.
    pub const SENSITIVITY: [Metric; 4] = [
        Metric::CavgSsNgMl,
        Metric::CminSsNgMl,
        Metric::CmaxSsNgMl,
        Metric::Auc0TNgHMl,
    ];

    /// Key as in `summary.json`, `sweep.csv` and scenario files.
    pub fn key(self) -> &'static str {
        match self {
            Metric::CmaxNgMl => "cmax_ng_ml",
            Metric::TmaxH => "tmax_h",
            Metric::Auc0TNgHMl => "auc_0_t_ng_h_ml",
            Metric::CmaxSsNgMl => "cmax_ss_ng_ml",
            Metric::TmaxSsH => "tmax_ss_h",
            Metric::CminSsNgMl => "cmin_ss_ng_ml",
            Metric::CavgSsNgMl => "cavg_ss_ng_ml",
            Metric::AucTauSsNgHMl => "auc_tau_ss_ng_h_ml",
            Metric::AccumulationRatio => "accumulation_ratio",
            Metric::FluctuationPct => "fluctuation_pct",
            Metric::T90ssH => "t_90ss_h",
        }
    }

    /// The metric named `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    /// Every key, for error messages.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(Metric::key)
    }

    /// Name and unit on figures.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Metric::CmaxNgMl => ("Cmax", "ng/mL"),
            Metric::TmaxH => ("Tmax", "h"),
            Metric::Auc0TNgHMl => ("AUC0–t", "ng·h/mL"),
            Metric::CmaxSsNgMl => ("Cmax,ss", "ng/mL"),
            Metric::TmaxSsH => ("Tmax,ss", "h"),
            Metric::CminSsNgMl => ("Cmin,ss trough", "ng/mL"),
            Metric::CavgSsNgMl => ("Cavg,ss", "ng/mL"),
            Metric::AucTauSsNgHMl => ("AUCτ,ss", "ng·h/mL"),
            Metric::AccumulationRatio => ("accumulation ratio", ""),
            Metric::FluctuationPct => ("peak–trough fluctuation", "%"),
            Metric::T90ssH => ("time to 90 % of steady state", "h"),
        }
    }

    /// The value in `m` (`None` for a steady-state metric of a schedule without one).
    pub fn value(self, m: &Metrics) -> Option<f64> {
        match self {
            Metric::CmaxNgMl => Some(m.cmax_ng_ml),
            Metric::TmaxH => Some(m.tmax_h),
            Metric::Auc0TNgHMl => Some(m.auc_0_t_ng_h_ml),
            Metric::CmaxSsNgMl => m.cmax_ss_ng_ml,
            Metric::TmaxSsH => m.tmax_ss_h,
            Metric::CminSsNgMl => m.cmin_ss_ng_ml,
            Metric::CavgSsNgMl => m.cavg_ss_ng_ml,
            Metric::AucTauSsNgHMl => m.auc_tau_ss_ng_h_ml,
            Metric::AccumulationRatio => m.accumulation_ratio,
            Metric::FluctuationPct => m.fluctuation_pct,
            Metric::T90ssH => m.t_90ss_h,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_name_fields_of_the_record() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_key(m.key()), Some(m));
        }
        // Each key is a field of the serialized record with the same value.
        let rec = Metrics {
            cmax_ng_ml: 1.0,
            tmax_h: 2.0,
            auc_0_t_ng_h_ml: 3.0,
            tau_h: Some(24.0),
            cmax_ss_ng_ml: Some(4.0),
            tmax_ss_h: Some(5.0),
            cmin_ss_ng_ml: Some(6.0),
            cavg_ss_ng_ml: Some(7.0),
            auc_tau_ss_ng_h_ml: Some(8.0),
            accumulation_ratio: Some(9.0),
            fluctuation_pct: Some(10.0),
            t_90ss_h: Some(11.0),
            steady_state_reached: Some(true),
            last_trough_pct_of_ss: Some(12.0),
        };
        let json = serde_json::to_value(rec).unwrap();
        for m in Metric::ALL {
            assert_eq!(json[m.key()].as_f64(), m.value(&rec), "{}", m.key());
        }
    }
}
