//! `dataset.csv`: the run as a NONMEM-style event table, which mrgsolve's `data_set()`, rxode2
//! and NONMEM read (NONMEM with `COMPOUND=DROP` in `$INPUT`), and which `dataset = "…"` reads
//! back (`scenario::dataset`): importing a run's export reproduces its concentrations.
//!
//! One ID per regimen (1, 2, … in the run's order; `summary.json` lists the labels in the same
//! order). Dose records: a repeated pattern as one record per dose of the pattern with `II` (the
//! period) and `ADDL` (periods − 1), `SS = 1` on the first when the run starts at steady state
//! (`SS = 2` on the pattern's other doses); explicit doses one record each. `CMT` 1 for oral, 2
//! for IV doses; `RATE` (µg/h) for zero-order inputs. Observation records: every output time
//! with `DV` the model's concentration (ng/mL, baseline included), `EVID = 0`, `MDV = 0`,
//! `CMT = 2`. At a dose's own time the observation comes first: it is the level just before
//! the dose, as in `timeseries.csv`. Units: TIME h, AMT µg, RATE µg/h, DV ng/mL.

use crate::dosing::{DoseEvent, Route, Schedule};
use crate::engine::run::RunResult;
use crate::error::Error;
use crate::format::{fmt_sig, fmt_time};

/// The columns, in order.
pub const COLUMNS: [&str; 12] = [
    "ID", "TIME", "AMT", "EVID", "CMT", "RATE", "II", "ADDL", "SS", "DV", "MDV", "COMPOUND",
];

/// `dataset.csv` of a run.
pub fn dataset_csv(result: &RunResult) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::serialize("dataset.csv", e);
    w.write_record(COLUMNS).map_err(csv_err)?;
    for (i, r) in result.regimens.iter().enumerate() {
        let id = (i + 1).to_string();
        let compound = r.regimen.compound.id;
        // (time, order at equal times: 0 observation, 1 dose, record)
        let mut rows: Vec<(f64, u8, [String; 12])> = Vec::new();
        let dose_row = |d: &DoseEvent, ii: f64, addl: u32, ss: u8| -> [String; 12] {
            let rate = if d.is_bolus() {
                "0".to_string()
            } else {
                fmt_sig(d.amount_ug / d.infusion_h)
            };
            [
                id.clone(),
                fmt_time(d.time_h),
                fmt_sig(d.amount_ug),
                match (d.reset, d.amount_ug > 0.0) {
                    (false, _) => "1",
                    (true, true) => "4",
                    (true, false) => "3",
                }
                .into(),
                if d.route == Route::Iv { "2" } else { "1" }.into(),
                rate,
                fmt_time(ii),
                addl.to_string(),
                ss.to_string(),
                ".".into(),
                "1".into(),
                compound.into(),
            ]
        };
        match &r.regimen.schedule {
            Schedule::Periodic(p) => {
                for (k, d) in p.pattern.iter().enumerate() {
                    let ss = match (r.regimen.at_steady_state, k) {
                        (false, _) => 0,
                        (true, 0) => 1,
                        (true, _) => 2,
                    };
                    let at = d.at(p.first_h + d.time_h);
                    rows.push((at.time_h, 1, dose_row(&at, p.period_h, p.periods - 1, ss)));
                }
            }
            Schedule::Explicit { doses } => {
                for d in doses {
                    rows.push((d.time_h, 1, dose_row(d, 0.0, 0, 0)));
                }
            }
        }
        for (t, c) in r.trajectory.time_h.iter().zip(&r.trajectory.conc_ng_ml) {
            rows.push((
                *t,
                0,
                [
                    id.clone(),
                    fmt_time(*t),
                    "0".into(),
                    "0".into(),
                    "2".into(),
                    "0".into(),
                    "0".into(),
                    "0".into(),
                    "0".into(),
                    fmt_sig(*c),
                    "0".into(),
                    compound.into(),
                ],
            ));
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (_, _, row) in rows {
            w.write_record(&row).map_err(csv_err)?;
        }
    }
    w.into_inner()
        .map_err(|e| Error::serialize("dataset.csv", e.to_string()))
}
