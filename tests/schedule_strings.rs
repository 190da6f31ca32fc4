//! `schedule = "180 ug q24h x 28"` strings: the same run as the keys they abbreviate, byte for
//! byte, segments joined by `then` at the times mrgsolve's `ev_rx` gives them, and the route and
//! zero-order input each segment names.

use std::path::Path;

use assert_cmd::Command;
use k2sim::dosing::{DoseEvent, Route, Schedule};
use k2sim::engine::run::run;
use k2sim::model::SolverKind;
use k2sim::scenario::parse_str;

/// Every output file of `k2sim run` on `toml`, by name.
fn outputs(toml: &str) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, toml).unwrap();
    let out = dir.path().join("out");
    // Run from the file's directory: the captions name the scenario file as given.
    Command::cargo_bin("k2sim")
        .unwrap()
        .current_dir(dir.path())
        .args(["run", "-q", "--out", "out", "scenario.toml"])
        .assert()
        .success();
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (name(&p), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn a_schedule_string_runs_byte_for_byte_as_its_keys() {
    // No labels: the default label of one repeated segment is that of the same keys.
    let head =
        "name = \"daily\"\nduration = \"35 d\"\nstep_h = 0.5\n[[regimen]]\ncompound = \"mk7\"\n";
    let text = outputs(&format!(
        "{head}schedule = \"180 ug q24h x 28\"\nstart_h = 8\n"
    ));
    let keys = outputs(&format!(
        "{head}dose_ug = 180\ninterval_h = 24\ndoses = 28\nstart_h = 8\n"
    ));
    let names: Vec<&str> = text.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"timeseries.csv"), "{names:?}");
    assert_eq!(
        names,
        keys.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in text.iter().zip(&keys) {
        assert!(a == b, "{name} differs between the string and the keys");
    }
}

#[test]
fn segments_after_then_start_one_interval_after_the_last_dose() {
    // 15 mg every 8 h, 3 doses: 0, 8, 16 h. The next segment starts one interval of the
    // previous (8 h) after its last dose: 16 + 8 = 24 h; then every 24 h, 2 doses: 24, 48 h.
    let s = parse_str(
        "duration = \"3 d\"\n[[regimen]]\ncompound = \"mk4\"\n\
         schedule = \"15 mg q8h x 3 then 180 ug q24h x 2\"\n",
        "t",
    )
    .unwrap();
    let r = &s.regimens[0];
    let doses: Vec<(f64, f64)> = r
        .schedule
        .events()
        .iter()
        .map(|d| (d.time_h, d.amount_ug))
        .collect();
    assert_eq!(
        doses,
        [
            (0.0, 15_000.0),
            (8.0, 15_000.0),
            (16.0, 15_000.0),
            (24.0, 180.0),
            (48.0, 180.0)
        ]
    );
    // Several segments repeat no single pattern: no steady state, and the string is the label.
    assert!(r.schedule.periodic().is_none());
    assert_eq!(r.label, "MK-4 15 mg q8h x 3 then 180 ug q24h x 2");
    let res = run(&s, SolverKind::Exact).unwrap();
    assert!(res.regimens[0].steady_state.is_none());
}

#[test]
fn iv_over_gives_the_infusion_of_the_route_keys() {
    let head =
        "duration = \"7 d\"\nstep_h = 0.25\n[[regimen]]\nlabel = \"a\"\ncompound = \"mk4\"\n";
    let text = parse_str(
        &format!("{head}schedule = \"10 mg iv over 2h q24h x 7\"\n"),
        "t",
    )
    .unwrap();
    let keys = parse_str(
        &format!(
            "{head}dose = \"10 mg\"\nroute = \"iv\"\ninfusion_h = 2\ninterval_h = 24\ndoses = 7\n"
        ),
        "t",
    )
    .unwrap();
    let Schedule::Periodic(p) = &text.regimens[0].schedule else {
        panic!("one repeated segment is periodic")
    };
    assert_eq!(
        p.pattern,
        [DoseEvent {
            route: Route::Iv,
            infusion_h: 2.0,
            ..DoseEvent::oral(0.0, 10_000.0)
        }]
    );
    assert_eq!(text.regimens[0].schedule, keys.regimens[0].schedule);
    let (a, b) = (
        run(&text, SolverKind::Exact).unwrap(),
        run(&keys, SolverKind::Exact).unwrap(),
    );
    assert_eq!(
        a.regimens[0].trajectory.conc_ng_ml,
        b.regimens[0].trajectory.conc_ng_ml
    );
    // The IV infusion peaks at its end, 2 h after a start; the string allows a steady start.
    assert_eq!(a.regimens[0].trajectory.tmax_h % 24.0, 2.0);
    let text_ss = parse_str(
        &format!("{head}schedule = \"10 mg iv over 2h q24h x 7\"\nsteady_state = true\n"),
        "t",
    )
    .unwrap();
    assert!(text_ss.regimens[0].at_steady_state);
}

#[test]
fn a_segment_names_its_own_route_and_the_regimen_keys_fill_in_the_rest() {
    let s = parse_str(
        "duration = \"3 d\"\n\
         [[regimen]]\nlabel = \"mixed\"\ncompound = \"mk4\"\n\
         schedule = \"10 mg iv over 1h then 15 mg oral q8h x 3 after 8h\"\n\
         [[regimen]]\nlabel = \"keys\"\ncompound = \"mk4\"\nroute = \"iv\"\ninfusion_h = 1\n\
         schedule = \"10 mg q12h x 4\"\n",
        "t",
    )
    .unwrap();
    let mixed = s.regimens[0].schedule.events();
    assert_eq!(
        mixed
            .iter()
            .map(|d| (d.time_h, d.route, d.infusion_h))
            .collect::<Vec<_>>(),
        [
            (0.0, Route::Iv, 1.0),
            (8.0, Route::Oral, 0.0),
            (16.0, Route::Oral, 0.0),
            (24.0, Route::Oral, 0.0)
        ]
    );
    let keys = s.regimens[1].schedule.events();
    assert!(keys
        .iter()
        .all(|d| d.route == Route::Iv && d.infusion_h == 1.0));
    assert_eq!(keys.len(), 4);
}
