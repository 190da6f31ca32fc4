//! The command line as a shell user meets it: completions, man pages, `--json` on stdout,
//! several scenarios and standard input, `--quiet`/`--verbose`, and the figure flags
//! (`--formats`, `--bare`, `--no-figures`, `[plot]` keys) with their bad values.

use std::path::Path;

use assert_cmd::Command;

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn stdout_of(args: &[&str]) -> String {
    let a = k2sim().args(args).assert().success();
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn stderr_of(args: &[&str], code: i32) -> String {
    let a = k2sim().args(args).assert().code(code);
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // Not the output manifest (`.k2sim-manifest`): it lists the set, it is not in it.
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn completions_for_every_shell_name_the_commands_and_an_unknown_shell_is_refused() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef k2sim"),
        ("fish", "complete -c k2sim"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let s = stdout_of(&["completions", shell]);
        assert!(s.contains(marker), "{shell}: no {marker:?}");
        for cmd in ["run", "compare", "validate", "nca", "merge"] {
            assert!(s.contains(cmd), "{shell} completion lacks {cmd}");
        }
        assert!(s.contains("formats"), "{shell} completion lacks --formats");
    }
    let err = stderr_of(&["completions", "tcsh"], 2);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
    assert!(err.contains("bash") && err.contains("powershell"), "{err}");
}

#[test]
fn man_pages_of_k2sim_and_of_a_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH k2sim 1"), "{}", &page[..200]);
    assert!(page.contains("completions") && page.contains("validate"));
    let run = stdout_of(&["man", "run"]);
    assert!(run.contains(".TH k2sim-run 1"));
    assert!(run.contains("formats") && run.contains("json"));
    let err = stderr_of(&["man", "runn"], 2);
    assert!(err.contains("`runn` is not a k2sim command"), "{err}");
    assert!(err.contains("run, merge"), "{err}");
}

#[test]
fn json_prints_the_summary_and_nothing_else() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let a = k2sim()
        .args(["run", "scenarios/mk7_daily.toml", "--json", "--out", o])
        .assert()
        .success();
    let stdout = a.get_output().stdout.clone();
    let printed: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(printed, file);
    assert!(a.get_output().stderr.is_empty());
    // compare takes it too.
    let cmp = tempfile::tempdir().unwrap();
    let s = stdout_of(&[
        "compare",
        "scenarios/mk7_daily.toml",
        "scenarios/mk4_daily.toml",
        "--json",
        "--out",
        cmp.path().to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["regimens"].as_array().unwrap().len(), 2);
}

#[test]
fn several_scenarios_each_get_a_folder_and_json_an_array() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let s = stdout_of(&[
        "run",
        "scenarios/mk7_daily.toml",
        "scenarios/mk4_daily.toml",
        "--out",
        o,
        "--json",
        "--no-figures",
    ]);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let names: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["scenario"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["MK-7 180 µg once daily", "MK-4 45 mg daily as 3 × 15 mg"]
    );
    assert_eq!(
        names_in(out.path()),
        ["MK-4_45_mg_daily_as_3_15_mg", "MK-7_180_ug_once_daily"]
    );
    // One shard of several scenarios, or stdin twice, make no sense.
    let err = stderr_of(
        &[
            "run",
            "scenarios/population_year.toml",
            "scenarios/mk7_daily.toml",
            "--shard",
            "1/2",
        ],
        2,
    );
    assert!(
        err.contains("--shard computes one part of one scenario"),
        "{err}"
    );
    let err = stderr_of(&["run", "-", "-"], 2);
    assert!(err.contains("more than once"), "{err}");
}

#[test]
fn a_scenario_on_standard_input_runs_and_its_errors_name_stdin() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mk7_daily.toml"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    k2sim()
        .args(["run", "-", "-q", "--out", out.path().to_str().unwrap()])
        .write_stdin(text.clone())
        .assert()
        .success()
        .stdout("");
    assert!(out.path().join("summary.json").is_file());
    // Same results as from the file.
    let file_out = tempfile::tempdir().unwrap();
    k2sim()
        .args(["run", "scenarios/mk7_daily.toml", "-q", "--out"])
        .arg(file_out.path())
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.path().join("timeseries.csv")).unwrap(),
        std::fs::read(file_out.path().join("timeseries.csv")).unwrap()
    );
    let a = k2sim()
        .args(["run", "-"])
        .write_stdin("duration_h = \"long\"\n")
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.starts_with("error: <stdin>:1:"), "{err}");
}

#[test]
fn quiet_prints_nothing_and_verbose_names_each_phase_on_stderr() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let a = k2sim()
        .args(["-q", "run", "scenarios/mk7_daily.toml", "--out", o])
        .assert()
        .success();
    assert!(a.get_output().stdout.is_empty() && a.get_output().stderr.is_empty());
    let a = k2sim()
        .args(["run", "scenarios/mk7_daily.toml", "--out", o, "--verbose"])
        .assert()
        .success();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    for phase in [
        "thread",
        "read scenarios/mk7_daily.toml",
        "simulated",
        "rendered",
        "wrote",
    ] {
        assert!(err.contains(phase), "--verbose lacks {phase:?}: {err}");
    }
    // The tables stay on stdout; no progress bar in a pipe.
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("Cavg"));
    assert!(!err.contains("left)"));
    let err = stderr_of(&["run", "scenarios/mk7_daily.toml", "-q", "-v"], 2);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn formats_bare_and_no_figures_choose_what_is_written() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    k2sim()
        .args(["run", "scenarios/mk7_daily.toml", "-q", "--out", o])
        .args(["--formats", "pdf,tiff", "--bare", "--journal", "single"])
        .assert()
        .success();
    let names = names_in(out.path());
    assert!(names.contains(&"MK-7_180_ug_once_daily.pdf".to_string()));
    assert!(names.contains(&"MK-7_180_ug_once_daily.tiff".to_string()));
    assert!(!names
        .iter()
        .any(|n| n.ends_with(".png") || n.ends_with(".svg")));
    let caption = std::fs::read_to_string(out.path().join("MK-7_180_ug_once_daily.txt")).unwrap();
    assert!(
        caption.contains("Size: 1004 × 756 px at 300 dpi (85.0 × 64.0 mm); PDF, TIFF."),
        "{caption}"
    );
    assert!(caption.contains("Bare figure"));
    let pdf = std::fs::read(out.path().join("MK-7_180_ug_once_daily.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));

    let none = tempfile::tempdir().unwrap();
    k2sim()
        .args([
            "run",
            "scenarios/mk7_daily.toml",
            "-q",
            "--no-figures",
            "--out",
        ])
        .arg(none.path())
        .assert()
        .success();
    // The tables and the report (without figures) stay.
    assert_eq!(
        names_in(none.path()),
        [
            "dataset.csv",
            "report.html",
            "summary.json",
            "timeseries.csv"
        ]
    );

    // Default PNGs say they are 300 dpi.
    let def = tempfile::tempdir().unwrap();
    k2sim()
        .args(["run", "scenarios/mk7_daily.toml", "-q", "--out"])
        .arg(def.path())
        .assert()
        .success();
    let png = std::fs::read(def.path().join("MK-7_180_ug_once_daily.png")).unwrap();
    assert_eq!(&png[37..41], b"pHYs");
    assert_eq!(u32::from_be_bytes(png[41..45].try_into().unwrap()), 11811);
}

#[test]
fn plot_keys_set_formats_resolution_and_framing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        "name = \"keys\"\nduration_h = 72\n[plot]\ntitle = false\ndpi = 600\nformats = [\"svg\", \"pdf\"]\n[[regimen]]\ncompound = \"mk4\"\ndose = \"15 mg\"\ninterval_h = 8\ndoses = 9\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    k2sim()
        .arg("run")
        .arg(&path)
        .args(["-q", "--out"])
        .arg(&out)
        .assert()
        .success();
    let names = names_in(&out);
    assert!(names.contains(&"keys.svg".to_string()) && names.contains(&"keys.pdf".to_string()));
    assert!(!names.contains(&"keys.png".to_string()));
    let svg = std::fs::read_to_string(out.join("keys.svg")).unwrap();
    // 1800 px at 600 dpi = 76.2 mm.
    assert!(svg.starts_with("<svg width=\"76.20mm\""), "{}", &svg[..60]);
    assert!(!svg.contains(">keys<"), "a bare figure has no title");
    // The option wins over the key.
    k2sim()
        .arg("run")
        .arg(&path)
        .args(["-q", "--formats", "png", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(names_in(&out).contains(&"keys.png".to_string()));
}

#[test]
fn bad_figure_options_are_located_errors() {
    for (args, needle) in [
        (
            vec!["--dpi", "0"],
            "invalid value '0' for '--dpi <DPI>': 0 is not in 50..=2400",
        ),
        (
            vec!["--formats", "png,gif"],
            "`gif` is not a figure format; the formats are png, svg, pdf and tiff",
        ),
        (vec!["--formats", "png,,svg"], "has an empty entry"),
        (vec!["--formats", "svg,svg"], "names svg twice"),
        (
            vec!["--no-figures", "--formats", "png"],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["run", "scenarios/mk7_daily.toml"];
        all.extend(args);
        let err = stderr_of(&all, 2);
        assert!(err.contains(needle), "{all:?}: {err}");
    }
}

#[test]
fn a_linear_compare_of_very_different_curves_hints_at_log() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let args = [
        "compare",
        "scenarios/mk7_daily.toml",
        "scenarios/mk4_daily.toml",
        "--units",
        "nmol_l",
        "--out",
        o,
    ];
    let a = k2sim().args(args).assert().success();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("hint: the peaks differ"), "{err}");
    assert!(err.contains("use --log"), "{err}");
    let a = k2sim().args(args).arg("--log").assert().success();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(!err.contains("hint:"), "{err}");
}

#[test]
fn every_drawing_command_takes_the_figure_options() {
    let out = tempfile::tempdir().unwrap();
    k2sim()
        .args([
            "sensitivity",
            "scenarios/mk7_daily.toml",
            "-q",
            "--formats",
            "pdf",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    assert!(out
        .path()
        .join("MK-7_180_ug_once_daily_tornado.pdf")
        .is_file());
    let fit = tempfile::tempdir().unwrap();
    k2sim()
        .args([
            "fit",
            "tests/fixtures/observed/mk7_single.toml",
            "-q",
            "--bare",
        ])
        .args(["--formats", "svg", "--dpi", "600", "--out"])
        .arg(fit.path())
        .assert()
        .success();
    let svg = std::fs::read_to_string(fit.path().join("fit_residuals.svg")).unwrap();
    // 1200 px at 600 dpi = 50.8 mm.
    assert!(svg.starts_with("<svg width=\"50.80mm\""), "{}", &svg[..40]);
    assert!(!fit.path().join("fit_residuals.png").exists());
}
