//! Observed data in scenarios: `[[observed]]` rows and `observed_csv`, residuals, located errors.

use assert_cmd::Command;
use k2sim::engine::run;
use k2sim::model::SolverKind;
use k2sim::scenario::{self, parse_observed_csv};

const BASE: &str = r#"name = "obs"
duration_h = 48
step_h = 0.5

[[regimen]]
label = "MK-4 15 mg"
compound = "mk4"
dose = "15 mg"
"#;

#[test]
fn residuals_are_zero_for_samples_of_the_model_itself() {
    // Observations taken off the model at off-grid times give residuals at rounding level:
    // predictions are made at the sampling times, not interpolated from the grid.
    let s = scenario::parse_str(BASE, "obs").unwrap();
    let r = run::run(&s, SolverKind::Exact).unwrap();
    let times = [0.3, 1.7, 3.33, 12.25, 47.9];
    let m = r.regimens[0].regimen.model;
    let conc: Vec<f64> = times
        .iter()
        .map(|&t| {
            let (ka, ke) = (m.ka_per_h, m.ke_per_h);
            15_000.0 / m.v_l * ka / (ka - ke) * ((-ke * t).exp() - (-ka * t).exp())
        })
        .collect();
    let mut text = BASE.to_string();
    for (t, c) in times.iter().zip(&conc) {
        text.push_str(&format!("\n[[observed]]\ntime_h = {t}\nconc_ng_ml = {c}\n"));
    }
    let s = scenario::parse_str(&text, "obs").unwrap();
    assert_eq!(s.observed.len(), 5);
    for solver in [SolverKind::Exact, SolverKind::Ode] {
        let r = run::run(&s, solver).unwrap();
        let res = &r.regimens[0].residuals;
        assert_eq!(res.len(), 5);
        for (x, t) in res.iter().zip(times) {
            assert_eq!(x.time_h, t);
            assert!(x.residual_ng_ml.abs() < 1e-7 * x.observed_ng_ml, "{x:?}");
        }
    }
}

fn err(text: &str) -> String {
    scenario::parse_str(text, "obs").unwrap_err().to_string()
}

#[test]
fn bad_rows_are_located() {
    let e = err(&format!("{BASE}\n[[observed]]\ntime_h = 4\n"));
    assert_eq!(
        e,
        "<scenario>:10:1: missing key `conc_ng_ml`\n  help: each [[observed]] row needs `conc_ng_ml`, e.g. `conc_ng_ml = 2.5`"
    );
    let e = err(&format!(
        "{BASE}\n[[observed]]\ntime_h = 50\nconc_ng_ml = 1\n"
    ));
    assert!(
        e.starts_with("<scenario>:11:10: key `observed.time_h`: 50 is out of range\n  help: expected a sampling time within the run, 0 to 48 h"),
        "{e}"
    );
    let e = err(&format!(
        "{BASE}\n[[observed]]\ntime_h = 5\nconc_ng_ml = 1\nregimen = \"MK-4 15mg\"\n"
    ));
    assert!(
        e.starts_with("<scenario>:13:11: key `observed.regimen`: unknown name \"MK-4 15mg\"; did you mean \"MK-4 15 mg\"?"),
        "{e}"
    );
    let e = err(&format!(
        "{BASE}\n[[observed]]\ntime_h = 5\nconc_ng_ml = 1\nconc = 2\n"
    ));
    assert!(e.contains("unknown key `conc`"), "{e}");
}

#[test]
fn csv_errors_name_line_and_column() {
    let s = scenario::parse_str(BASE, "obs").unwrap();
    let e = parse_observed_csv("time_h,conc_ng_ml\n1,2\n3,x\n", &s.regimens, 48.0)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "<scenario>:3:3: key `conc_ng_ml`: cannot read \"x\"\n  help: expected a number"
    );
    let e = parse_observed_csv("time_h,conc_ngml\n1,2\n", &s.regimens, 48.0)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("<scenario>:1:8: unknown key `conc_ngml`; did you mean `conc_ng_ml`?"),
        "{e}"
    );
    let e = parse_observed_csv("time_h,conc_ng_ml\n1,2,3\n", &s.regimens, 48.0)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("<scenario>:2:1: key `row`: 3 values"), "{e}");
    let rows = parse_observed_csv(
        "subject,conc_ng_ml,time_h\r\na,2,1\r\n\r\nb,3,2\r\n",
        &s.regimens,
        48.0,
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].subject.as_deref(), Some("b"));
    assert_eq!((rows[1].time_h, rows[1].conc_ng_ml), (2.0, 3.0));
}

#[test]
fn csv_path_is_relative_to_the_scenario_and_outputs_carry_residuals() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/observed/mk7_single.toml"
    );
    let s = scenario::load(std::path::Path::new(fixture)).unwrap();
    assert_eq!(s.observed.len(), 15, "1 inline row + 14 CSV rows");
    let out = Command::cargo_bin("k2sim")
        .unwrap()
        .args(["run", fixture, "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("residual RMS (ng/mL)"), "{stdout}");
    let csv = std::fs::read_to_string(dir.path().join("residuals.csv")).unwrap();
    assert!(csv.starts_with(
        "regimen,subject,time_h,observed_ng_ml,predicted_ng_ml,residual_ng_ml\nMK-7 1 mg,s1,36,2.9,"
    ));
    let json = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
    assert!(json.contains("\"residual_ng_ml\""));

    // A missing CSV is named with the path it was looked for at.
    let text = std::fs::read_to_string(fixture)
        .unwrap()
        .replace("mk7_single.csv", "missing.csv");
    let p = dir.path().join("s.toml");
    std::fs::write(&p, text).unwrap();
    let e = scenario::load(&p).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: cannot read the observations named by `observed_csv = \"missing.csv\"`",
            dir.path().join("missing.csv").display()
        )),
        "{e}"
    );
}

#[test]
fn meal_fat_scales_mk4_only_and_is_located() {
    let fed = format!("{BASE}meal_fat_g = 8.8\n");
    let s = scenario::parse_str(&fed, "obs").unwrap();
    let f = s.regimens[0].model.f;
    assert!((f - k2sim::meal_fat::mk4_f_rel(8.8)).abs() < 1e-15 && f < 1.0);
    assert_eq!(
        s.regimens[0].sources.f.evidence,
        Some(k2sim::compound::Evidence::Derived)
    );
    let e = err(&fed.replace("mk4", "mk7"));
    assert!(
        e.starts_with("<scenario>:9:14: key `meal_fat_g`: 8.8 with compound mk7 is out of range"),
        "{e}"
    );
    let e = err(&format!("{BASE}meal_fat_g = -1\n"));
    assert!(
        e.starts_with("<scenario>:9:14: key `meal_fat_g`: -1 is out of range"),
        "{e}"
    );
}

#[test]
fn an_error_in_a_named_csv_also_names_the_scenario_line_that_names_it() {
    // The CSV's own line and column first, then where the scenario names the file.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // `observed_csv` on line 5, above the regimen.
    std::fs::write(
        d.join("s.toml"),
        BASE.replacen(
            "[[regimen]]",
            "observed_csv = \"obs.csv\"\n\n[[regimen]]",
            1,
        ),
    )
    .unwrap();
    std::fs::write(d.join("obs.csv"), "time_h,conc_ng_ml\n1,2\n3,x\n").unwrap();
    let err = |args: &[&str]| {
        let a = Command::cargo_bin("k2sim")
            .unwrap()
            .current_dir(d)
            .args(args)
            .assert()
            .code(2);
        String::from_utf8(a.get_output().stderr.clone()).unwrap()
    };
    assert_eq!(
        err(&["run", "s.toml", "--out", "o"]),
        "error: obs.csv:3:3: key `conc_ng_ml`: cannot read \"x\"\n  help: expected a number\n  note: the file is named by `observed_csv` at s.toml:5:1\n"
    );
    std::fs::remove_file(d.join("obs.csv")).unwrap();
    let missing = err(&["run", "s.toml", "--out", "o"]);
    assert!(
        missing.ends_with("\n  note: the file is named by `observed_csv` at s.toml:5:1\n"),
        "{missing}"
    );
    // A NONMEM-style dataset likewise.
    std::fs::write(
        d.join("d.toml"),
        "duration_h = 48\ndataset = \"d.csv\"\ndataset_compound = \"mk7\"\n",
    )
    .unwrap();
    std::fs::write(d.join("d.csv"), "ID,TIME,AMT,EVID\n1,0,180,1\n1,x,180,1\n").unwrap();
    let e = err(&["run", "d.toml", "--out", "o"]);
    assert!(
        e.starts_with("error: d.csv:3:3: ")
            && e.ends_with("\n  note: the file is named by `dataset` at d.toml:2:1\n"),
        "{e}"
    );
}
