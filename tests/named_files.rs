//! What a scenario may make k2sim read, quote and leave behind: the files it names stay under
//! its folder unless `--allow-outside`; an unrecognised cell is quoted as a short, escaped
//! excerpt; a scenario of more regimens than the stated limit is refused at the table that
//! passes it; and a run replaces every file of its previous set in `--out`, nothing else.

#![cfg(unix)]

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.env("RUST_BACKTRACE", "0")
        .timeout(Duration::from_secs(120));
    c
}

const OBSERVATIONS: &str = "time_h,conc_ng_ml\n2,1.5\n24,2.0\n";

fn scenario_naming(dir: &Path, observed_csv: &str) -> std::path::PathBuf {
    let s = dir.join("s.toml");
    std::fs::write(
        &s,
        format!(
            "name = \"named\"\nduration_h = 48\nstep_h = 1\n\nobserved_csv = \"{observed_csv}\"\n\n[[regimen]]\nlabel = \"MK-7\"\ncompound = \"mk7\"\ndose_ug = 180\n"
        ),
    )
    .unwrap();
    s
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

#[test]
fn a_file_outside_the_scenario_folder_is_refused_unless_allowed() {
    let root = tempfile::tempdir().unwrap();
    let sub = root.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let outside = root.path().join("obs.csv");
    std::fs::write(&outside, OBSERVATIONS).unwrap();
    std::fs::create_dir(sub.join("data")).unwrap();
    std::fs::write(sub.join("data/obs.csv"), OBSERVATIONS).unwrap();
    std::os::unix::fs::symlink(&outside, sub.join("link.csv")).unwrap();
    let out = root.path().join("out");
    let absolute = outside.display().to_string();
    for name in [
        "../obs.csv",
        absolute.as_str(),
        "link.csv",
        "data/../../obs.csv",
    ] {
        let s = scenario_naming(&sub, name);
        let a = k2sim()
            .arg("run")
            .arg(&s)
            .arg("--out")
            .arg(&out)
            .arg("-q")
            .assert()
            .code(2);
        let err = stderr_of(&a);
        assert!(
            err.contains("is outside the folder of the scenario"),
            "{name}: {err}"
        );
        assert!(err.contains("--allow-outside"), "{name}: {err}");
        // The scenario line that names the file is given.
        assert!(err.contains("named by `observed_csv` at"), "{name}: {err}");
        assert!(err.contains("s.toml:5:1"), "{name}: {err}");
        assert!(!out.exists(), "{name}: nothing is written");
        // Allowed, the same file is read.
        k2sim()
            .arg("run")
            .arg(&s)
            .arg("--out")
            .arg(&out)
            .args(["-q", "--allow-outside"])
            .assert()
            .success();
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        assert!(summary.contains("\"observed_ng_ml\": 1.5"), "{name}");
        std::fs::remove_dir_all(&out).unwrap();
    }
    // Under the folder (a subfolder, `./`) is read as before.
    for name in ["data/obs.csv", "./data/obs.csv"] {
        let s = scenario_naming(&sub, name);
        k2sim()
            .arg("run")
            .arg(&s)
            .arg("--out")
            .arg(&out)
            .arg("-q")
            .assert()
            .success();
    }
}

#[test]
fn a_dataset_outside_the_scenario_folder_is_refused_at_its_key() {
    let root = tempfile::tempdir().unwrap();
    let sub = root.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        root.path().join("d.csv"),
        "ID,TIME,AMT,DV,EVID\n1,0,180,.,1\n1,24,.,2.0,0\n",
    )
    .unwrap();
    let s = sub.join("s.toml");
    std::fs::write(
        &s,
        "name = \"d\"\nduration_h = 48\nstep_h = 1\ndataset_compound = \"mk7\"\ndataset = \"../d.csv\"\n",
    )
    .unwrap();
    let a = k2sim().arg("run").arg(&s).arg("-q").assert().code(2);
    let err = stderr_of(&a);
    assert!(err.contains("s.toml:5:"), "{err}");
    assert!(
        err.contains("is outside the folder of the scenario"),
        "{err}"
    );
    let out = root.path().join("out");
    k2sim()
        .arg("run")
        .arg(&s)
        .arg("--out")
        .arg(&out)
        .args(["-q", "--allow-outside"])
        .assert()
        .success();
}

#[test]
fn a_scenario_on_standard_input_names_files_under_the_working_directory() {
    let root = tempfile::tempdir().unwrap();
    let sub = root.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(root.path().join("obs.csv"), OBSERVATIONS).unwrap();
    std::fs::write(sub.join("obs.csv"), OBSERVATIONS).unwrap();
    let text = |name: &str| {
        format!("name = \"stdin\"\nduration_h = 48\nstep_h = 1\nobserved_csv = \"{name}\"\n[[regimen]]\nlabel = \"MK-7\"\ncompound = \"mk7\"\ndose_ug = 180\n")
    };
    let run = |name: &str| {
        k2sim()
            .current_dir(&sub)
            .args(["run", "-", "--out", "o", "-q"])
            .write_stdin(text(name))
            .assert()
    };
    run("obs.csv").success();
    let err = stderr_of(&run("../obs.csv").code(2));
    assert!(err.contains("<stdin>:4:1"), "{err}");
    assert!(err.contains("is outside the folder"), "{err}");
}

#[test]
fn an_unrecognised_cell_is_quoted_as_a_short_escaped_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    // A header that is not one: a long secret-looking line with an escape sequence.
    let secret = format!("\u{1b}[31m{}", "A".repeat(200));
    std::fs::write(dir.path().join("obs.csv"), format!("{secret},x\n1,2\n")).unwrap();
    let s = scenario_naming(dir.path(), "obs.csv");
    let a = k2sim().arg("run").arg(&s).arg("-q").assert().code(2);
    let err = stderr_of(&a);
    assert!(!err.contains('\u{1b}'), "no raw escape: {err:?}");
    assert!(err.contains("\\u{1b}[31m"), "{err}");
    assert!(
        !err.contains(&"A".repeat(40)),
        "at most 40 characters quoted: {err}"
    );
    assert!(err.contains(&format!("{}…", "A".repeat(35))), "{err}");
    // A bad number and an unknown regimen name are cut the same way.
    let long = "9".repeat(30) + &"x".repeat(100);
    std::fs::write(
        dir.path().join("obs.csv"),
        format!("time_h,conc_ng_ml,regimen\n1,{long},MK-7\n"),
    )
    .unwrap();
    let err = stderr_of(&k2sim().arg("run").arg(&s).arg("-q").assert().code(2));
    assert!(
        err.contains(&format!("{}{}…", "9".repeat(30), "x".repeat(10))),
        "{err}"
    );
    assert!(!err.contains(&"x".repeat(11)), "{err}");
    std::fs::write(
        dir.path().join("obs.csv"),
        format!("time_h,conc_ng_ml,regimen\n1,2,{}\n", "R".repeat(100)),
    )
    .unwrap();
    let err = stderr_of(&k2sim().arg("run").arg(&s).arg("-q").assert().code(2));
    assert!(!err.contains(&"R".repeat(41)), "{err}");
}

fn regimens(n: usize) -> String {
    let mut s = String::from("name = \"many\"\nduration_h = 24\nstep_h = 1\n");
    for i in 0..n {
        s.push_str(&format!(
            "\n[[regimen]]\nlabel = \"r{i}\"\ncompound = \"mk7\"\ndose_ug = 1\n"
        ));
    }
    s
}

#[test]
fn more_regimens_than_the_limit_are_refused_at_the_table_that_passes_it() {
    let limit = k2sim::scenario::MAX_REGIMENS;
    assert!(k2sim::scenario::parse_str(&regimens(limit), "many").is_ok());
    let text = regimens(limit + 1);
    let e = k2sim::scenario::parse_str(&text, "many")
        .unwrap_err()
        .to_string();
    // Each table is five lines after the three-line head: table k (from 0) starts at line
    // 5 + 5k, so the first one past the limit at 5 + 5·limit.
    let line = 5 + 5 * limit;
    assert!(e.starts_with(&format!("<scenario>:{line}:1:")), "{e}");
    assert!(
        e.contains(&format!("{} [[regimen]] tables", limit + 1)),
        "{e}"
    );
    assert!(e.contains(&format!("at most {limit} regimens")), "{e}");
    // Two tables of one label are still refused (a set of labels now, not a scan per table).
    let short = regimens(10).replace("label = \"r7\"", "label = \"r3\"");
    let e = k2sim::scenario::parse_str(&short, "x")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("<scenario>:41:9:"), "{e}");
    assert!(e.contains("\"r3\""), "{e}");
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_run_removes_the_files_of_its_previous_set_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let run = |args: &[&str]| {
        k2sim()
            .args(args)
            .arg("--out")
            .arg(&out)
            .arg("-q")
            .assert()
            .success();
    };
    run(&["run", "scenarios/mk4_vs_mk7.toml"]);
    let two = names_in(&out);
    assert!(two.contains(&"comparison.md".to_string()), "{two:?}");
    assert!(two.iter().any(|n| n.ends_with("_panels.png")), "{two:?}");
    // Another command's set in the same folder is not part of the run's.
    run(&["nca", "scenarios/observed_profile_nca.csv"]);
    let with_nca = names_in(&out);
    run(&["run", "scenarios/mk7_daily.toml", "--formats", "png"]);
    let one = names_in(&out);
    assert!(!one.contains(&"comparison.md".to_string()), "{one:?}");
    let of_run = |n: &&String| !n.starts_with("nca");
    assert!(
        !one.iter()
            .filter(of_run)
            .any(|n| n.ends_with("_panels.png") || n.ends_with(".svg")),
        "{one:?}"
    );
    assert!(
        one.contains(&"notes.txt".to_string()),
        "the user's file stays: {one:?}"
    );
    assert!(
        one.contains(&"MK-7_180_ug_once_daily.png".to_string()),
        "{one:?}"
    );
    // The other command's set stays whole.
    for n in with_nca.iter().filter(|n| !two.contains(n)) {
        assert!(one.contains(n), "{n} of `k2sim nca` stays: {one:?}");
    }
    let manifest = std::fs::read_to_string(out.join(".k2sim-manifest")).unwrap();
    assert!(
        manifest.lines().any(|l| l == "run summary.json"),
        "{manifest}"
    );
    assert!(
        manifest.lines().all(|l| !l.ends_with("comparison.md")),
        "{manifest}"
    );
    assert!(!manifest.contains("notes.txt"), "{manifest}");
    // A manifest line naming a file outside the folder is never acted on.
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    std::fs::write(
        out.join(".k2sim-manifest"),
        format!("{manifest}run ../victim.txt\nrun {}\n", victim.display()),
    )
    .unwrap();
    run(&["run", "scenarios/mk7_daily.toml", "--formats", "png"]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}
