//! `k2sim validate` on the bundled suite: no check committed as passing may fail, and a
//! regression is reported with exit code 1.

use assert_cmd::Command;

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "0");
    c
}

#[test]
fn bundled_suite_has_no_regression_and_writes_its_tables() {
    let out = tempfile::tempdir().unwrap();
    let assert = k2sim()
        .args(["validate", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for case in [
        "morishita1981_mk4_syrup",
        "uematsu1996_mk4_meal_fat",
        "schurgers2007_mk7_vs_k1",
        "konakion_k1_half_life",
        "natto_eaters_mk7",
        "kaytwo_mk4_iv",
        "kaytwo_mk4_iv_levels",
        "sato2012_mk4_mk7_nutritional",
        "garber1999_k1_tablet",
        "novotny2010_k1_kale",
        "schurgers2000_food_matrix",
        "knapen2014_mk7_tablet",
        "schurgers2007_mk7_plateau",
        "ishii1995_mk4_fasting",
        "dalmeijer2012_mk7_markers",
        "westenfeld2012_hd_dp_ucmgp",
        "jiang2014_mk4_ucoc",
        "caluwe2014_hd_thrice_weekly",
        "aoun2017_hd_dp_ucmgp",
        "knapen2013_2015_mk7_3y",
        "ronn2016_mk7_ucoc",
    ] {
        assert!(stdout.contains(case), "{case} missing:\n{stdout}");
    }
    // The known misfit is reported as failing, not hidden.
    let cmax = stdout
        .lines()
        .find(|l| l.contains("cmax_ng_ml (MK-4 30 mg syrup)"))
        .unwrap();
    assert!(cmax.contains("325") && cmax.ends_with("FAIL"), "{cmax}");
    let md = std::fs::read_to_string(out.path().join("validation.md")).unwrap();
    assert!(md.starts_with("| case | quantity | observed | predicted | tolerance | result |"));
    let csv = std::fs::read_to_string(out.path().join("validation.csv")).unwrap();
    assert!(csv.starts_with(
        "case,quantity,observed,predicted,tolerance,result,kind,expected,source,basis\n"
    ));
    assert!(out.path().join("morishita1981_mk4_syrup.png").exists());
    // Each check has its kind, and the summary counts each kind apart: agreement by
    // construction is never reported as validation.
    let kinds: Vec<String> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap()[6].to_string())
        .collect();
    assert!(
        kinds
            .iter()
            .all(|k| *k == "calibration" || *k == "independent"),
        "{kinds:?}"
    );
    let independent = kinds.iter().filter(|k| **k == "independent").count();
    assert!(independent >= 8, "{independent} independent checks");
    assert!(
        stdout.contains("(calibration 26 of 26 pass, independent 7 of 27 pass;"),
        "{stdout}"
    );
}

#[test]
fn the_ode_solver_gives_the_same_verdicts() {
    let out = tempfile::tempdir().unwrap();
    k2sim()
        .args(["validate", "--no-figures", "--solver", "ode", "--out"])
        .arg(out.path())
        .assert()
        .success();
}

#[test]
fn a_check_that_passed_and_now_fails_is_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let case = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("validation/morishita1981_mk4_syrup.toml"),
    )
    .unwrap();
    // Pretend the Cmax had been passing.
    let case = case.replacen("expect = \"fail\"", "expect = \"pass\"", 1);
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    let assert = k2sim()
        .args(["validate", "--no-figures", "--dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.starts_with(
            "error: validation checks that passed now fail: case · cmax_ng_ml (MK-4 30 mg syrup)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_case_file_runs_as_a_scenario_too() {
    let out = tempfile::tempdir().unwrap();
    k2sim()
        .args(["run", "validation/natto_eaters_mk7.toml", "--out"])
        .arg(out.path())
        .assert()
        .success();
}

#[test]
fn validate_works_from_any_directory_with_the_compiled_in_cases() {
    // The bundled cases are compiled into the binary: run from an empty directory, the suite
    // and its tables are the same as from the repository root.
    let elsewhere = tempfile::tempdir().unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    k2sim()
        .args(["validate", "--no-figures", "--out"])
        .arg(a.path())
        .assert()
        .success();
    k2sim()
        .current_dir(elsewhere.path())
        .args(["validate", "--no-figures", "--out"])
        .arg(b.path())
        .assert()
        .success();
    for f in ["validation.md", "validation.csv"] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f}"
        );
    }
    // --dir still reads case files, and gives the same table for validation/.
    let c = tempfile::tempdir().unwrap();
    k2sim()
        .args(["validate", "--no-figures", "--dir", "validation", "--out"])
        .arg(c.path())
        .assert()
        .success();
    assert_eq!(
        std::fs::read(a.path().join("validation.csv")).unwrap(),
        std::fs::read(c.path().join("validation.csv")).unwrap()
    );
}

#[test]
fn the_compiled_in_cases_are_exactly_the_files_of_validation() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/validation");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    let bundled: Vec<String> = k2sim::scenario::case::BUNDLED
        .iter()
        .map(|(n, text)| {
            assert_eq!(
                std::fs::read_to_string(format!("{dir}/{n}")).unwrap(),
                *text,
                "{n}"
            );
            n.to_string()
        })
        .collect();
    assert_eq!(
        bundled, files,
        "add the new case to scenario::case::BUNDLED"
    );
}
