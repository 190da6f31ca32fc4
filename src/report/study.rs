//! Writers for populations, sweeps and sensitivity: everything serialized to bytes (files are
//! created only by the CLI's one writer, `src/cli/write.rs`).

use crate::format::{fmt_hours_days, fmt_sig, fmt_time, fmt_value, opt_sig};
use crate::scenario::PopulationSpec;
use crate::scenario::SweepSpec;
use std::fmt::Write as _;

use crate::error::Error;

use crate::metric::Metric;
use crate::response::Marker;
use crate::study::assay::{lloq_summary, LloqSummary};
use crate::study::population::{
    BandHistogram, Distribution, RegimenPopulation, SubjectMetrics, BIN_BITS, PERCENTILES,
};
use crate::study::summary::SubjectFields;
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

/// `population_bands.csv`: per regimen and band time, the 5/25/50/75/95th percentiles; with a
/// residual error also those of the observed concentrations (`observed_p5_ng_ml`, …), and with
/// an LLOQ the share of samples below it (`frac_below_lloq`, 0–1).
pub fn bands_csv(spec: &PopulationSpec, pops: &[RegimenPopulation]) -> Result<Vec<u8>, Error> {
    let observed = pops.iter().any(|p| p.observed.is_some());
    let lloq: Vec<Option<LloqSummary>> = pops.iter().map(|p| lloq_summary(spec, p)).collect();
    let with_lloq = lloq.iter().any(Option::is_some);
    csv_bytes(
        |w| {
            let mut head = vec![
                "regimen",
                "time_h",
                "p5_ng_ml",
                "p25_ng_ml",
                "p50_ng_ml",
                "p75_ng_ml",
                "p95_ng_ml",
            ];
            if observed {
                head.extend([
                    "observed_p5_ng_ml",
                    "observed_p25_ng_ml",
                    "observed_p50_ng_ml",
                    "observed_p75_ng_ml",
                    "observed_p95_ng_ml",
                ]);
            }
            if with_lloq {
                head.push("frac_below_lloq");
            }
            w.write_record(&head)?;
            for (p, l) in pops.iter().zip(&lloq) {
                for (i, t) in p.band_times_h.iter().enumerate() {
                    let mut rec = vec![p.label.clone(), fmt_time(*t)];
                    // All five percentiles of a row in one pass over it.
                    rec.extend(
                        p.histogram
                            .percentiles(i, &PERCENTILES)
                            .into_iter()
                            .map(fmt_sig),
                    );
                    if observed {
                        match &p.observed {
                            Some(h) => {
                                rec.extend(h.percentiles(i, &PERCENTILES).into_iter().map(fmt_sig))
                            }
                            None => rec.extend(PERCENTILES.iter().map(|_| String::new())),
                        }
                    }
                    if with_lloq {
                        rec.push(
                            l.as_ref()
                                .map_or(String::new(), |l| fmt_sig(l.frac_below[i])),
                        );
                    }
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
    let fields = SubjectFields::of(pops.iter().flat_map(|p| &p.subjects));
    let mut w = SubjectsCsv::new(Vec::new(), &fields)?;
    for p in pops {
        w.rows(&p.label, &p.subjects)?;
    }
    w.finish()
}

/// `population_subjects.csv` written as its rows come: the header, then the rows of each
/// regimen in subject order, given in as many pieces as they come in (a merge streams them shard
/// by shard).
pub struct SubjectsCsv<W: std::io::Write> {
    w: csv::Writer<W>,
    fields: SubjectFields,
}

const SUBJECTS_CSV: &str = "population_subjects.csv";

fn subjects_csv_error(e: impl std::fmt::Display) -> Error {
    Error::serialize(SUBJECTS_CSV, e.to_string())
}

impl<W: std::io::Write> SubjectsCsv<W> {
    /// Writes the header: the Q and Vp columns only when some subject has a peripheral
    /// compartment, a marker's column only when some subject has its change (`fields`, of all
    /// regimens' subjects).
    pub fn new(out: W, fields: &SubjectFields) -> Result<Self, Error> {
        let mut w = Self::continuing(out, fields);
        let mut head = vec!["regimen", "subject", "ka_per_h", "half_life_h", "v_l", "f"];
        if fields.two_compartment {
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
        let marker_columns: Vec<String> = fields
            .markers
            .iter()
            .map(|m| format!("{}_pct_change_at_end", m.key()))
            .collect();
        head.extend(marker_columns.iter().map(String::as_str));
        w.w.write_record(&head).map_err(subjects_csv_error)?;
        Ok(w)
    }

    /// A writer of rows only, with the columns [`Self::new`] heads: for pieces of the file
    /// written apart and joined after the header.
    pub fn continuing(out: W, fields: &SubjectFields) -> Self {
        Self {
            w: csv::Writer::from_writer(out),
            fields: fields.clone(),
        }
    }

    /// Writes the rows of `subjects` of regimen `label`.
    pub fn rows(&mut self, label: &str, subjects: &[SubjectMetrics]) -> Result<(), Error> {
        for s in subjects {
            let mut row = vec![
                label.to_string(),
                s.subject.to_string(),
                fmt_sig(s.ka_per_h),
                fmt_sig(s.half_life_h),
                fmt_sig(s.v_l),
                fmt_sig(s.f),
            ];
            if self.fields.two_compartment {
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
            let markers = &self.fields.markers;
            row.extend(markers.iter().map(|m| opt_sig(s.pct_change_at_end(*m))));
            self.w.write_record(&row).map_err(subjects_csv_error)?;
        }
        Ok(())
    }

    /// Flushes the rows and gives back the destination.
    pub fn finish(self) -> Result<W, Error> {
        self.w.into_inner().map_err(subjects_csv_error)
    }
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
    subjects: u64,
    metrics: MetricDistributions,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_trough_ng_ml: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_trough_at_or_above_target_pct: Option<f64>,
    /// With `lloq_ng_ml`: what a study with that limit would see.
    #[serde(skip_serializing_if = "Option::is_none")]
    lloq: Option<LloqSummary>,
    /// Why the subjects took the per-subject walk rather than the batch kernel (same
    /// results, more time per subject); absent when the batch kernel served them.
    #[serde(skip_serializing_if = "Option::is_none")]
    per_subject_walk: Option<&'a str>,
    /// With `[response]`: per marker, the change at the end of the run across subjects.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    response: std::collections::BTreeMap<&'static str, MarkerPopSummary>,
}

/// A marker across the subjects of a regimen.
#[derive(serde::Serialize)]
struct MarkerPopSummary {
    /// When the change is read: the end of the run (h).
    at_h: f64,
    /// Change from baseline at `at_h` (%; negative is a fall), its percentiles and mean.
    pct_change_at_end: Distribution,
    /// Share of the subjects (%) whose marker fell by at least 10, 20, … 90 % at `at_h`.
    share_reduced_by_at_least_pct: std::collections::BTreeMap<String, f64>,
}

pub use crate::study::summary::RESPONDER_FALLS_PCT;

fn marker_summaries(
    p: &RegimenPopulation,
    at_h: f64,
) -> std::collections::BTreeMap<&'static str, MarkerPopSummary> {
    p.summary
        .markers
        .iter()
        .map(|m| {
            let share = RESPONDER_FALLS_PCT
                .iter()
                .zip(m.reduced_by_at_least)
                .map(|(&f, n)| (f.to_string(), 100.0 * n as f64 / m.subjects as f64))
                .collect();
            (
                m.marker.key(),
                MarkerPopSummary {
                    at_h,
                    pct_change_at_end: m.pct_change_at_end,
                    share_reduced_by_at_least_pct: share,
                },
            )
        })
        .collect()
}

#[derive(serde::Serialize)]
struct PopSummary<'a> {
    scenario: &'a str,
    spec: &'a PopulationSpec,
    band_accuracy: String,
    /// With `residual`: the error model, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    residual_model: Option<&'static str>,
    /// With `lloq_ng_ml`: what the LLOQ results mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    lloq_definition: Option<&'static str>,
    regimens: Vec<RegimenPopSummary<'a>>,
}

/// The residual error model, as summary.json and the caption state it.
pub const RESIDUAL_MODEL: &str = "observed = C + eps * sqrt((proportional_pct/100 * C)^2 + additive_ng_ml^2), eps standard normal, independent for every subject and band time (NONMEM's combined additive and proportional error; the same distribution as C * (1 + eps1 * proportional) + eps2 * additive); negative observations are kept for the LLOQ share and count as 0 in the observed percentiles";

/// What the LLOQ results mean, as summary.json states it.
pub const LLOQ_DEFINITION: &str = "frac_below_lloq (population_bands.csv): share of the samples at a band time below lloq_ng_ml, on the observed concentrations when there is a residual error, else on the true ones; detectable: at least half of the samples at or above the LLOQ; first_detectable_h and detectable_until_h: the first and last band times that are detectable";

fn pop_regimen_summary<'a>(
    spec: &PopulationSpec,
    duration_h: f64,
    p: &'a RegimenPopulation,
    per_subject_walk: Option<&'a str>,
) -> RegimenPopSummary<'a> {
    let sum = &p.summary;
    let share = sum
        .trough_at_or_above_target
        .map(|above| above as f64 / sum.subjects.max(1) as f64 * 100.0);
    RegimenPopSummary {
        per_subject_walk,
        label: &p.label,
        subjects: sum.subjects,
        metrics: MetricDistributions {
            cmax_ng_ml: sum.cmax_ng_ml,
            tmax_h: sum.tmax_h,
            c_trough_ng_ml: sum.c_trough_ng_ml,
            c_end_ng_ml: sum.c_end_ng_ml,
            auc_last_tau_ng_h_ml: sum.auc_last_tau_ng_h_ml,
        },
        target_trough_ng_ml: spec.target_trough_ng_ml,
        share_trough_at_or_above_target_pct: share,
        lloq: lloq_summary(spec, p),
        response: marker_summaries(p, duration_h),
    }
}

/// `population_summary.json`: the specification, the accuracy of the bands, and per regimen the
/// distribution of every per-subject metric and the share of subjects at the trough target.
///
/// `walk`, per regimen: why its subjects took the per-subject walk
/// ([`crate::study::population::per_subject_reason`]), `None` for the batch kernel.
pub fn population_summary_json(
    scenario_name: &str,
    spec: &PopulationSpec,
    duration_h: f64,
    pops: &[RegimenPopulation],
    walk: &[Option<&str>],
) -> Result<Vec<u8>, Error> {
    let s = PopSummary {
        scenario: scenario_name,
        spec,
        band_accuracy: format!(
            "percentile bands are read from histograms with {} bins per octave: within ±{:.2} % of the exact order statistic; metric distributions are exact",
            1u32 << BIN_BITS,
            100.0 / f64::from(1u32 << (BIN_BITS + 1))
        ),
        residual_model: spec.residual.map(|_| RESIDUAL_MODEL),
        lloq_definition: spec.lloq_ng_ml.map(|_| LLOQ_DEFINITION),
        regimens: pops
            .iter()
            .enumerate()
            .map(|(i, p)| pop_regimen_summary(spec, duration_h, p, walk.get(i).copied().flatten()))
            .collect(),
    };
    let mut v = serde_json::to_vec_pretty(&s)
        .map_err(|e| Error::serialize("population_summary.json", e))?;
    v.push(b'\n');
    Ok(v)
}

/// The population table printed after a run.
pub fn population_table(
    spec: &PopulationSpec,
    duration_h: f64,
    pops: &[RegimenPopulation],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "population: {} subjects per regimen, seed {}",
        spec.n, spec.seed
    );
    for p in pops {
        let s = pop_regimen_summary(spec, duration_h, p, None);
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
        if let Some(l) = &s.lloq {
            let _ = writeln!(out, "    {}", lloq_sentence(l));
        }
        for (key, m) in &s.response {
            let d = m.pct_change_at_end;
            let label = Marker::from_key(key).map_or(*key, Marker::label);
            let _ = writeln!(
                out,
                "    {:<26} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                format!("{label} change at end (%)"),
                d.p5,
                d.p25,
                d.p50,
                d.p75,
                d.p95
            );
            let at = |f: u32| m.share_reduced_by_at_least_pct.get(&f.to_string()).copied();
            if let (Some(a), Some(b), Some(c)) = (at(20), at(30), at(50)) {
                let _ = writeln!(
                    out,
                    "    {label} reduced by ≥ 20 / 30 / 50 % at {} days: {a:.1} / {b:.1} / {c:.1} % of subjects",
                    fmt_value(m.at_h / 24.0)
                );
            }
        }
    }
    out
}

/// "LLOQ 0.2 ng/mL (observed, with assay error): ≥ 50 % of samples quantifiable from 1 h,
/// detectable until 144 h (6 d)", as the printed table and the captions say it.
pub fn lloq_sentence(l: &LloqSummary) -> String {
    let on = if l.on_observed {
        "observed, with assay error"
    } else {
        "true concentrations"
    };
    format!(
        "LLOQ {} ng/mL ({on}): {}",
        fmt_value(l.lloq_ng_ml),
        detectable_phrase(l)
    )
}

/// "≥ 50 % of samples quantifiable from 1 h, detectable until 144 h (6 d)".
pub fn detectable_phrase(l: &LloqSummary) -> String {
    match (l.first_detectable_h, l.detectable_until_h) {
        (Some(a), Some(b)) if l.detectable_at_end => format!(
            "≥ 50 % of samples quantifiable from {} to the end of the run ({})",
            fmt_hours_days(a),
            fmt_hours_days(b)
        ),
        (Some(a), Some(b)) => format!(
            "≥ 50 % of samples quantifiable from {}, detectable until {}",
            fmt_hours_days(a),
            fmt_hours_days(b)
        ),
        _ => "never ≥ 50 % of samples quantifiable".into(),
    }
}

/// `sweep.csv`: one row per combination and regimen: the swept values, then every metric.
pub fn sweep_csv(spec: &SweepSpec, rows: &[SweepRow]) -> Result<Vec<u8>, Error> {
    csv_bytes(
        |w| {
            let mut head = vec!["combination".to_string()];
            head.extend(spec.axes.iter().map(|a| a.param.key().to_string()));
            head.push("regimen".into());
            head.extend(Metric::keys().map(str::to_string));
            // With `[response]`: two columns per marker that any row has.
            let markers: Vec<Marker> = Marker::ALL
                .into_iter()
                .filter(|m| {
                    rows.iter()
                        .any(|r| r.response.iter().any(|o| o.marker == *m))
                })
                .collect();
            for m in &markers {
                head.push(format!("{}_pct_change_at_end", m.key()));
                head.push(format!("{}_pct_change_ss", m.key()));
            }
            w.write_record(&head)?;
            for r in rows {
                let mut rec = vec![r.combination.to_string()];
                rec.extend(r.values.iter().map(|v| fmt_sig(*v)));
                rec.push(r.regimen.clone());
                rec.extend(Metric::ALL.iter().map(|m| opt_sig(m.value(&r.metrics))));
                for m in &markers {
                    let o = r.response.iter().find(|o| o.marker == *m);
                    rec.push(opt_sig(o.map(|o| o.pct_change_at_end)));
                    rec.push(opt_sig(o.and_then(|o| o.pct_change_ss)));
                }
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
