//! NONMEM-style datasets: a run's `dataset.csv` read back reproduces its concentrations, ADDL
//! and II expand as NONMEM does, and dataset observations become residuals.

use std::path::{Path, PathBuf};

use k2sim::engine::run::{run, RunResult};
use k2sim::model::SolverKind;
use k2sim::report::dataset::dataset_csv;
use k2sim::scenario::load;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("k2sim-dataset-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_file(p: &Path) -> RunResult {
    let s = load(p).unwrap_or_else(|e| panic!("{e}"));
    run(&s, SolverKind::Exact).unwrap()
}

/// Runs `scenario`, writes its dataset.csv, reads it back under the same duration and step,
/// and checks every regimen's concentrations agree (to the 10 significant digits of the
/// export's times and amounts) and the steady-state metrics survive.
fn round_trip(scenario: &str, duration: &str, step_h: f64) {
    let dir = tmp(scenario.replace('/', "_").as_str());
    let a = run_file(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(scenario)
            .as_path(),
    );
    std::fs::write(dir.join("dataset.csv"), dataset_csv(&a).unwrap()).unwrap();
    let toml = format!("duration = \"{duration}\"\nstep_h = {step_h}\ndataset = \"dataset.csv\"\n");
    std::fs::write(dir.join("back.toml"), toml).unwrap();
    let b = run_file(&dir.join("back.toml"));
    assert_eq!(a.regimens.len(), b.regimens.len(), "{scenario}");
    for (i, (ra, rb)) in a.regimens.iter().zip(&b.regimens).enumerate() {
        assert_eq!(rb.regimen.label, format!("ID {}", i + 1));
        assert_eq!(ra.regimen.at_steady_state, rb.regimen.at_steady_state);
        assert!(
            ra.trajectory.time_h == rb.trajectory.time_h,
            "{scenario}: the grids differ"
        );
        let top = ra.trajectory.cmax_ng_ml;
        for (x, y) in ra
            .trajectory
            .conc_ng_ml
            .iter()
            .zip(&rb.trajectory.conc_ng_ml)
        {
            assert!(
                (x - y).abs() <= 1e-9 * top,
                "{scenario} {}: {x} vs {y}",
                ra.regimen.label
            );
        }
        assert_eq!(
            ra.steady_state.is_some(),
            rb.steady_state.is_some(),
            "{scenario}: the repeated pattern survives"
        );
        if let (Some(x), Some(y)) = (ra.steady_state, rb.steady_state) {
            assert!((x.cavg_ss_ng_ml - y.cavg_ss_ng_ml).abs() <= 1e-9 * x.cavg_ss_ng_ml);
        }
        // The observation records are the predictions: residuals vanish to the export's digits.
        assert_eq!(rb.residuals.len(), ra.trajectory.time_h.len());
        for r in &rb.residuals {
            assert!(r.residual_ng_ml.abs() <= 1e-8 * top, "{r:?}");
        }
    }
}

#[test]
fn exported_datasets_read_back_to_the_same_concentrations() {
    round_trip("scenarios/mk7_steady_state_start.toml", "28 d", 0.5);
    round_trip("scenarios/mk4_iv_infusion.toml", "36 h", 0.05);
    round_trip("scenarios/mk4_vs_mk7.toml", "28 d", 0.25);
    round_trip("scenarios/natto_vs_capsule.toml", "6 weeks", 0.5);
}

#[test]
fn addl_expands_as_nonmem_and_observations_become_residuals() {
    // ID 1: 180 µg at 8 h plus 3 additional doses every 24 h (8, 32, 56, 80 h): a repeated
    // pattern. ID 2: 1 mg IV at 0 and, from a second record, 2 additional doses 12 h apart
    // from 24 h (24, 36, 48): explicit doses. One BLQ observation is counted, not used.
    let dir = tmp("addl");
    std::fs::write(
        dir.join("events.csv"),
        "ID,TIME,AMT,EVID,CMT,II,ADDL,DV,MDV,BLQ,COMPOUND,WT\n\
         1,8,180,1,1,24,3,.,1,0,mk7,70\n\
         1,12,0,0,2,0,0,0.9,0,0,mk7,70\n\
         2,0,1,1,2,0,0,.,1,0,mk4,81\n\
         2,6,0,0,2,0,0,0.01,0,1,mk4,81\n\
         2,24,1,1,2,12,2,.,1,0,mk4,81\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.toml"),
        "duration_h = 96\nstep_h = 1\ndataset = \"events.csv\"\ndataset_amount_unit = \"mg\"\n",
    )
    .unwrap();
    let s = load(&dir.join("s.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("columns not read: WT")),
        "{:?}",
        s.warnings
    );
    assert!(s
        .warnings
        .iter()
        .any(|w| w.contains("ID 2: 1 observation(s) marked BLQ")));
    let times = |i: usize| -> Vec<f64> {
        s.regimens[i]
            .schedule
            .events()
            .iter()
            .map(|e| e.time_h)
            .collect()
    };
    assert_eq!(times(0), vec![8.0, 32.0, 56.0, 80.0]);
    assert_eq!(times(1), vec![0.0, 24.0, 36.0, 48.0]);
    assert!(s.regimens[0].schedule.periodic().is_some());
    // mg: 180 mg of MK-7 in this made-up table, 1 mg IV of MK-4.
    assert_eq!(s.regimens[0].schedule.events()[0].amount_ug, 180_000.0);
    assert_eq!(s.regimens[1].compound.id, "mk4");
    let r = run(&s, SolverKind::Exact).unwrap();
    assert_eq!(r.regimens[0].residuals.len(), 1);
    assert_eq!(r.regimens[1].residuals.len(), 0);
    assert_eq!(r.regimens[0].residuals[0].observed_ng_ml, 0.9);
}

#[test]
fn dataset_errors_name_the_file_line_and_column() {
    let dir = tmp("errors");
    std::fs::write(dir.join("bad.csv"), "ID,TIME,AMT,RATE\n1,0,180,-1\n").unwrap();
    std::fs::write(
        dir.join("s.toml"),
        "duration_h = 48\ndataset = \"bad.csv\"\ndataset_compound = \"mk7\"\n",
    )
    .unwrap();
    let e = load(&dir.join("s.toml")).unwrap_err().to_string();
    assert!(e.contains("bad.csv:2:9: column `RATE`: -1"), "{e}");
    assert!(e.contains("modelled rate"), "{e}");
    // A missing compound points at the scenario's key.
    std::fs::write(dir.join("ok.csv"), "ID,TIME,AMT\n1,0,180\n").unwrap();
    std::fs::write(
        dir.join("t.toml"),
        "duration_h = 48\ndataset = \"ok.csv\"\n",
    )
    .unwrap();
    let e = load(&dir.join("t.toml")).unwrap_err().to_string();
    assert!(
        e.contains("t.toml:2:11: missing key `dataset_compound`"),
        "{e}"
    );
}
