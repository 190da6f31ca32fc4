//! Writers for populations, sweeps and sensitivity: everything serialized to bytes (files are
//! created only by the CLI's one writer, `src/cli/write.rs`).

use crate::format::{fmt_sig, fmt_time, opt_sig};
use crate::scenario::PopulationSpec;
use crate::scenario::SweepSpec;
use std::fmt::Write as _;

use crate::error::Error;

use crate::metric::Metric;
use crate::study::population::{
    distribution, BandHistogram, Distribution, RegimenPopulation, BIN_BITS, PERCENTILES,
};
use crate::study::sweep::{SensitivityRow, SweepRow};

fn csv_bytes(
    rows: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
    name: &str,
) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: String| Error::serialize(name, e);
    rows(&mut w).map_err(|e| err(e.to_string()))?;
    w.into_inner().map_err(|e| err(e.to_string()))
}

/// `population_bands.csv`: per regimen and band time, the 5/25/50/75/95th percentiles.
pub fn bands_csv(pops: &[RegimenPopulation]) -> Result<Vec<u8>, Error> {
    csv_bytes(
        |w| {
            w.write_record([
                "regimen",
                "time_h",
                "p5_ng_ml",
                "p25_ng_ml",
                "p50_ng_ml",
                "p75_ng_ml",
                "p95_ng_ml",
            ])?;
            for p in pops {
                for (i, t) in p.band_times_h.iter().enumerate() {
                    let mut rec = vec![p.label.clone(), fmt_time(*t)];
                    rec.extend(
                        PERCENTILES
                            .iter()
                            .map(|&q| fmt_sig(p.histogram.percentile(i, q))),
                    );
                    w.write_record(&rec)?;
                }
            }
            Ok(())
        },
        "population_bands.csv",
    )
}

/// `population_subjects.csv`: one row per regimen and subject.
pub fn subjects_csv(pops: &[RegimenPopulation]) -> Result<Vec<u8>, Error> {
    // Q and Vp columns only when some subject has a peripheral compartment.
    let two = pops
        .iter()
        .any(|p| p.subjects.iter().any(|s| s.q_l_per_h.is_some()));
    csv_bytes(
        |w| {
            let mut head = vec!["regimen", "subject", "ka_per_h", "half_life_h", "v_l", "f"];
            if two {
                head.extend(["q_l_per_h", "vp_l"]);
            }
            head.extend([
                "doses_taken",
                "cmax_ng_ml",
                "tmax_h",
                "c_trough_ng_ml",
                "c_end_ng_ml",
                "auc_last_tau_ng_h_ml",
            ]);
            w.write_record(&head)?;
            for p in pops {
                for s in &p.subjects {
                    let mut row = vec![
                        p.label.clone(),
                        s.subject.to_string(),
                        fmt_sig(s.ka_per_h),
                        fmt_sig(s.half_life_h),
                        fmt_sig(s.v_l),
                        fmt_sig(s.f),
                    ];
                    if two {
                        row.extend([opt_sig(s.q_l_per_h), opt_sig(s.vp_l)]);
                    }
                    row.extend([
                        s.doses_taken.to_string(),
                        fmt_sig(s.cmax_ng_ml),
                        fmt_time(s.tmax_h),
                        fmt_sig(s.c_trough_ng_ml),
                        fmt_sig(s.c_end_ng_ml),
                        fmt_sig(s.auc_last_tau_ng_h_ml),
                    ]);
                    w.write_record(&row)?;
                }
            }
            Ok(())
        },
        "population_subjects.csv",
    )
}

#[derive(serde::Serialize)]
struct MetricDistributions {
    cmax_ng_ml: Distribution,
    tmax_h: Distribution,
    c_trough_ng_ml: Distribution,
    c_end_ng_ml: Distribution,
    auc_last_tau_ng_h_ml: Distribution,
}

#[derive(serde::Serialize)]
struct RegimenPopSummary<'a> {
    label: &'a str,
    subjects: usize,
    metrics: MetricDistributions,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_trough_ng_ml: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_trough_at_or_above_target_pct: Option<f64>,
}

#[derive(serde::Serialize)]
struct PopSummary<'a> {
    scenario: &'a str,
    spec: &'a PopulationSpec,
    band_accuracy: String,
    regimens: Vec<RegimenPopSummary<'a>>,
}

fn pop_regimen_summary<'a>(
    spec: &PopulationSpec,
    p: &'a RegimenPopulation,
) -> RegimenPopSummary<'a> {
    let get = |f: fn(&crate::study::population::SubjectMetrics) -> f64| {
        distribution(&p.subjects.iter().map(f).collect::<Vec<_>>())
    };
    let share = spec.target_trough_ng_ml.map(|t| {
        let above = p.subjects.iter().filter(|s| s.c_trough_ng_ml >= t).count();
        above as f64 / p.subjects.len().max(1) as f64 * 100.0
    });
    RegimenPopSummary {
        label: &p.label,
        subjects: p.subjects.len(),
        metrics: MetricDistributions {
            cmax_ng_ml: get(|s| s.cmax_ng_ml),
            tmax_h: get(|s| s.tmax_h),
            c_trough_ng_ml: get(|s| s.c_trough_ng_ml),
            c_end_ng_ml: get(|s| s.c_end_ng_ml),
            auc_last_tau_ng_h_ml: get(|s| s.auc_last_tau_ng_h_ml),
        },
        target_trough_ng_ml: spec.target_trough_ng_ml,
        share_trough_at_or_above_target_pct: share,
    }
}

/// `population_summary.json`: the specification, the accuracy of the bands, and per regimen the
/// distribution of every per-subject metric and the share of subjects at the trough target.
pub fn population_summary_json(
    scenario_name: &str,
    spec: &PopulationSpec,
    pops: &[RegimenPopulation],
) -> Result<Vec<u8>, Error> {
    let s = PopSummary {
        scenario: scenario_name,
        spec,
        band_accuracy: format!(
            "percentile bands are read from histograms with {} bins per octave: within ±{:.2} % of the exact order statistic; metric distributions are exact",
            1u32 << BIN_BITS,
            100.0 / f64::from(1u32 << (BIN_BITS + 1))
        ),
        regimens: pops.iter().map(|p| pop_regimen_summary(spec, p)).collect(),
    };
    let mut v = serde_json::to_vec_pretty(&s)
        .map_err(|e| Error::serialize("population_summary.json", e))?;
    v.push(b'\n');
    Ok(v)
}

/// The population table printed after a run.
pub fn population_table(spec: &PopulationSpec, pops: &[RegimenPopulation]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "population: {} subjects per regimen, seed {}",
        spec.n, spec.seed
    );
    for p in pops {
        let s = pop_regimen_summary(spec, p);
        let _ = writeln!(out, "  {}", p.label);
        let _ = writeln!(
            out,
            "    {:<26} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "metric", "p5", "p25", "median", "p75", "p95"
        );
        for (name, d) in [
            ("Cmax (ng/mL)", s.metrics.cmax_ng_ml),
            ("trough, last interval", s.metrics.c_trough_ng_ml),
            ("C at end (ng/mL)", s.metrics.c_end_ng_ml),
            ("AUC last interval", s.metrics.auc_last_tau_ng_h_ml),
        ] {
            let _ = writeln!(
                out,
                "    {name:<26} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>10.4}",
                d.p5, d.p25, d.p50, d.p75, d.p95
            );
        }
        if let (Some(t), Some(sh)) = (s.target_trough_ng_ml, s.share_trough_at_or_above_target_pct)
        {
            let _ = writeln!(out, "    trough ≥ {t} ng/mL: {sh:.1} % of subjects");
        }
    }
    out
}

/// `sweep.csv`: one row per combination and regimen: the swept values, then every metric.
pub fn sweep_csv(spec: &SweepSpec, rows: &[SweepRow]) -> Result<Vec<u8>, Error> {
    csv_bytes(
        |w| {
            let mut head = vec!["combination".to_string()];
            head.extend(spec.axes.iter().map(|a| a.param.key().to_string()));
            head.push("regimen".into());
            head.extend(Metric::keys().map(str::to_string));
            w.write_record(&head)?;
            for r in rows {
                let mut rec = vec![r.combination.to_string()];
                rec.extend(r.values.iter().map(|v| fmt_sig(*v)));
                rec.push(r.regimen.clone());
                rec.extend(Metric::ALL.iter().map(|m| opt_sig(m.value(&r.metrics))));
                w.write_record(&rec)?;
            }
            Ok(())
        },
        "sweep.csv",
    )
}

/// `sensitivity.csv`: the tornado chart as a table.
pub fn sensitivity_csv(rows: &[SensitivityRow], delta_pct: f64) -> Result<Vec<u8>, Error> {
    csv_bytes(
        |w| {
            w.write_record([
                "regimen",
                "parameter",
                "metric",
                "base",
                "low",
                "high",
                "low_change_pct",
                "high_change_pct",
                "delta_pct",
            ])?;
            for r in rows {
                w.write_record([
                    r.regimen.clone(),
                    r.param.key().into(),
                    r.metric.key().into(),
                    fmt_sig(r.base),
                    fmt_sig(r.low),
                    fmt_sig(r.high),
                    fmt_sig(r.low_change_pct),
                    fmt_sig(r.high_change_pct),
                    fmt_sig(delta_pct),
                ])?;
            }
            Ok(())
        },
        "sensitivity.csv",
    )
}

/// Histogram sanity for callers that want to check a merged result.
pub fn histogram_total(h: &BandHistogram, t: usize) -> u64 {
    h.counts[t * BandHistogram::bins()..(t + 1) * BandHistogram::bins()]
        .iter()
        .map(|&c| u64::from(c))
        .sum()
}
