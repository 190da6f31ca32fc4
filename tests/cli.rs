//! The real binary on the shipped scenarios and on bad-input fixtures.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "0");
    c
}

fn shipped_scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
    v.sort();
    v
}

#[test]
fn every_shipped_scenario_runs_and_writes_its_outputs() {
    let scenarios = shipped_scenarios();
    assert!(scenarios.len() >= 3, "the three issue scenarios must ship");
    for s in scenarios {
        let out = tempfile::tempdir().unwrap();
        let assert = k2sim()
            .arg("run")
            .arg(&s)
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
        let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        assert!(
            stdout.contains("Cmax,ss (ng/mL)") && stdout.contains("wrote "),
            "{stdout}"
        );

        let csv = std::fs::read_to_string(out.path().join("timeseries.csv")).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("regimen,time_h,conc_ng_ml,conc_nmol_l"));
        let rows: Vec<&str> = lines.collect();
        assert!(
            rows.len() > 100,
            "{}: only {} rows",
            s.display(),
            rows.len()
        );
        for row in &rows {
            let f: Vec<&str> = row.rsplitn(4, ',').collect();
            for v in &f[..3] {
                let x: f64 = v
                    .parse()
                    .unwrap_or_else(|_| panic!("not a number in {row}"));
                assert!(x.is_finite() && x >= 0.0, "{row}");
            }
        }

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).unwrap())
                .unwrap();
        let regimens = json["regimens"].as_array().unwrap();
        let mut any_periodic = false;
        for r in regimens {
            for key in [
                "ka_per_h",
                "half_life_h",
                "v_l",
                "f",
                "tlag_h",
                "baseline_ng_ml",
            ] {
                assert!(r["params"][key].is_number(), "missing params.{key}");
            }
            for key in ["cmax_ng_ml", "tmax_h", "auc_0_t_ng_h_ml"] {
                assert!(r["metrics"][key].is_number(), "missing metrics.{key}");
            }
            // Steady-state metrics exist exactly for periodic schedules (not for explicit
            // doses or skipped days), and are then all numbers.
            let periodic = !r["metrics"]["tau_h"].is_null();
            any_periodic |= periodic;
            for key in [
                "cmax_ss_ng_ml",
                "cmin_ss_ng_ml",
                "cavg_ss_ng_ml",
                "auc_tau_ss_ng_h_ml",
                "accumulation_ratio",
                "fluctuation_pct",
                "t_90ss_h",
            ] {
                assert_eq!(
                    r["metrics"][key].is_number(),
                    periodic,
                    "metrics.{key} in {}",
                    s.display()
                );
            }
            assert_eq!(r["metrics"]["steady_state_reached"].is_boolean(), periodic);
        }

        // The figures: the overlay, the steady-state zoom when a regimen has a steady state,
        // and small multiples with several regimens; each PNG with its SVG and caption.
        let several = regimens.len() >= 2;
        let figures = 1 + usize::from(any_periodic) + usize::from(several);
        let mut pngs: Vec<PathBuf> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .collect();
        pngs.sort();
        let study_figures = pngs
            .iter()
            .filter(|p| {
                let n = p.file_stem().unwrap().to_string_lossy().into_owned();
                ["_population", "_lloq", "_sweep", "_heatmap"]
                    .iter()
                    .any(|suffix| n.ends_with(suffix))
                    // The response figures of `[response]`: one per marker (and its dose–response).
                    || n.contains("_response_")
                    || n.contains("_dose_response_")
            })
            .count();
        assert_eq!(pngs.len() - study_figures, figures, "{}", s.display());
        // The scenario's `[plot]` size (1800 × 1100 unless it says otherwise).
        let plot = k2sim::scenario::load(&s).unwrap().plot;
        for png in &pngs {
            let img = image::open(png).unwrap().to_rgb8();
            assert_eq!(img.dimensions().0, plot.width_px, "{}", png.display());
            assert!(img.dimensions().1 >= plot.height_px);
            let inked = img
                .pixels()
                .filter(|p| p.0.iter().any(|&c| c < 200))
                .count();
            assert!(inked > 10_000, "figure looks blank: {inked} dark pixels");
            let caption = std::fs::read_to_string(png.with_extension("txt")).unwrap();
            assert!(
                caption.contains("Model: one compartment")
                    || caption.contains("Model: one- and two-compartment models"),
                "{caption}"
            );
            assert!(
                (caption.contains("[derived]") || caption.contains("[set in scenario]"))
                    && caption.contains("known limits")
            );
            let svg = std::fs::read_to_string(png.with_extension("svg")).unwrap();
            // Concentration axes name their unit; the LLOQ figure's axis is a share, a marker's
            // axis its change from baseline.
            assert!(
                svg.contains("(ng/mL)")
                    || svg.contains("(nmol/L)")
                    || svg.contains("Samples below the LLOQ (%)")
                    || svg.contains("change from baseline (%)")
                    || svg.contains("at steady state, change (%)"),
                "{}",
                png.display()
            );
        }
        if several {
            let md = std::fs::read_to_string(out.path().join("comparison.md")).unwrap();
            assert!(
                md.contains("(reference)") && md.contains("÷ reference"),
                "{md}"
            );
            assert!(stdout.contains("| Cavg,ss |"), "{stdout}");
        }
        // Nothing but the outputs is left behind (no temporary files).
        // Study outputs: the population's three tables, its ribbon figure and, with an LLOQ,
        // the LLOQ figure; sweep.csv and the sweep's figure (curves for one axis, a heatmap
        // for two).
        let scenario = k2sim::scenario::load(&s).unwrap();
        let pop_files = scenario
            .population
            .as_ref()
            .map_or(0, |p| 3 + 3 + if p.lloq_ng_ml.is_some() { 3 } else { 0 });
        let sweep_files = scenario.sweep.as_ref().map_or(0, |sw| {
            let figure = sw.axes.len() == 2
                || (sw.axes.len() == 1 && sw.combinations() <= k2sim::study::sweep::MAX_CURVES);
            1 + if figure { 3 } else { 0 }
        });
        if scenario.sweep.as_ref().is_some_and(|sw| sw.axes.len() == 1) {
            let stem = k2sim::format::sanitize_file_stem(&scenario.name);
            let svg =
                std::fs::read_to_string(out.path().join(format!("{stem}_sweep.svg"))).unwrap();
            let caption =
                std::fs::read_to_string(out.path().join(format!("{stem}_sweep.txt"))).unwrap();
            assert!(
                svg.contains("Time (days)") && svg.contains("half-life 68 h\n"),
                "{stem}"
            );
            assert!(caption.contains("viridis"), "{caption}");
        }
        // timeseries.csv, dataset.csv, summary.json, report.html, the figures (PNG, SVG,
        // caption), the comparison (md, csv) with several regimens, and the study files.
        // With `[response]`: response.csv and each marker figure (over time and dose–response).
        let response_figures = pngs
            .iter()
            .filter(|p| {
                p.file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .contains("_response_")
            })
            .count();
        let response_files = if response_figures > 0 {
            1 + 3 * response_figures
        } else {
            0
        };
        let expected = 4
            + 3 * figures
            + if several { 2 } else { 0 }
            + pop_files
            + sweep_files
            + response_files;
        assert_eq!(outputs_in(out.path()), expected, "{}", s.display());
    }
}

#[test]
fn same_scenario_gives_byte_identical_outputs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    k2sim()
        .args(["run", "scenarios/mk4_vs_mk7.toml", "-q", "--out"])
        .arg(a.path())
        .assert()
        .success();
    k2sim()
        .args(["run", "scenarios/mk4_vs_mk7.toml", "-q", "--out"])
        .arg(b.path())
        .env("RAYON_NUM_THREADS", "1")
        .assert()
        .success();
    for entry in std::fs::read_dir(a.path()).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read(a.path().join(&name)).unwrap(),
            std::fs::read(b.path().join(&name)).unwrap(),
            "{name:?} differs"
        );
    }
}

#[test]
fn bad_inputs_give_their_exact_error_and_exit_code_2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 45, "the bad-input catalogue has shrunk");
    for f in fixtures {
        let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let expected = std::fs::read_to_string(f.with_extension("stderr"))
            .unwrap_or_else(|_| panic!("no .stderr beside {}", f.display()));
        let out = tempfile::tempdir().unwrap();
        let assert = k2sim()
            .arg("run")
            .arg(rel)
            .arg("--out")
            .arg(out.path())
            .assert()
            .code(2);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert_eq!(stderr, expected, "stderr of {}", rel.display());
        assert_eq!(outputs_in(out.path()), 0, "a failed run wrote files");
    }
}

/// Runs k2sim with `args` and checks its exit code and exact stderr.
fn exact_error(args: &[&str], code: i32, expected: &str) {
    let a = k2sim().args(args).assert().code(code);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert_eq!(err, expected, "stderr of k2sim {args:?}");
}

#[test]
fn bad_inputs_that_are_not_scenario_files() {
    // A missing file, a directory, an unknown option value and an option given twice: input
    // errors (exit code 2), each with its exact message.
    exact_error(
        &["run", "scenarios/nope.toml"],
        2,
        "error: scenarios/nope.toml: cannot read the scenario file: No such file or directory (os error 2)\n  help: check the path; the shipped scenarios are in scenarios/, e.g. scenarios/mk7_daily.toml\n",
    );
    exact_error(
        &["run", "scenarios"],
        2,
        "error: scenarios: is a directory, not a scenario file; give a .toml file such as scenarios/mk7_daily.toml\n",
    );
    exact_error(
        &["run", "scenarios/mk7_daily.toml", "--solver", "rk4"],
        2,
        "error: invalid value 'rk4' for '--solver <SOLVER>'\n  [possible values: exact, ode]\n\nFor more information, try '--help'.\n",
    );
    exact_error(
        &["run", "scenarios/mk7_daily.toml", "--out", "a", "--out", "b"],
        2,
        "error: the argument '--out <OUT>' cannot be used multiple times\n\nUsage: k2sim run [OPTIONS] <SCENARIOS>...\n\nFor more information, try '--help'.\n",
    );
    exact_error(
        &["run"],
        2,
        "error: the following required arguments were not provided:\n  <SCENARIOS>...\n\nUsage: k2sim run <SCENARIOS>...\n\nFor more information, try '--help'.\n",
    );
}

#[test]
fn unreadable_scenario_is_an_input_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("locked.toml");
    std::fs::copy("scenarios/mk7_daily.toml", &f).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&f).is_ok() {
        return; // running as root: permissions do not stop reading
    }
    let a = k2sim().arg("run").arg(&f).assert().code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert_eq!(
        err,
        format!("error: {}: cannot read the scenario file: Permission denied (os error 13)\n  help: the file is not readable by you: check its permissions\n", f.display())
    );
}

#[test]
fn unwritable_output_is_a_runtime_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain_file");
    std::fs::write(&file, "x").unwrap();
    let target = file.join("sub");
    let a = k2sim()
        .args(["run", "scenarios/mk7_daily.toml", "--out"])
        .arg(&target)
        .assert()
        .code(1);
    assert_eq!(
        String::from_utf8(a.get_output().stderr.clone()).unwrap(),
        format!("error: cannot write {}: Not a directory (os error 20)\n  help: check that this directory can be created and written, or choose another with --out DIR\n", target.display())
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

#[test]
fn compounds_lists_every_preset_with_sources() {
    let a = k2sim().arg("compounds").assert().success();
    let out = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    for id in [
        "mk4 —",
        "mk7 —",
        "k1 —",
        "Schurgers",
        "Morishita",
        "Konakion",
        "[derived]",
        "[assumed]",
        "range 68–96 h (sampled by --uncertainty)",
        "range 130–800 L (sampled by --uncertainty)",
        "range 1.5–3 h (sampled by --uncertainty)",
    ] {
        assert!(out.contains(id), "missing {id} in\n{out}");
    }
}

#[test]
fn compounds_json_holds_every_parameter_with_value_unit_source_and_range() {
    let a = k2sim().args(["compounds", "--json"]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let compounds = v["compounds"].as_array().unwrap();
    let ids: Vec<&str> = compounds
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mk4", "mk7", "k1"]);
    for c in compounds {
        let params = c["parameters"].as_object().unwrap();
        assert_eq!(params.len(), 6, "{}", c["id"]);
        for (name, p) in params {
            let value = p["value"].as_f64().unwrap();
            let (lo, hi) = (
                p["range"]["lo"].as_f64().unwrap(),
                p["range"]["hi"].as_f64().unwrap(),
            );
            assert!(lo <= value && value <= hi, "{} {name}", c["id"]);
            for key in ["evidence", "source", "unit"] {
                assert!(p[key].is_string(), "{} {name} lacks {key}", c["id"]);
            }
            assert!(p["range"]["sampled"].is_boolean());
        }
    }
    // The text and the data agree: MK-7's half-life 72 h within 68–96 h, sampled.
    let t = &compounds[1]["parameters"]["half_life_h"];
    assert_eq!(
        (t["value"].as_f64(), t["unit"].as_str()),
        (Some(72.0), Some("h"))
    );
    assert_eq!(
        (t["range"]["lo"].as_f64(), t["range"]["hi"].as_f64()),
        (Some(68.0), Some(96.0))
    );
    assert_eq!(t["range"]["sampled"].as_bool(), Some(true));
}

#[test]
fn help_of_every_subcommand_shows_a_worked_example() {
    for (cmd, example) in [
        ("run", "k2sim run scenarios/mk7_daily.toml"),
        ("compounds", "k2sim compounds\n"),
    ] {
        let a = k2sim().args([cmd, "--help"]).assert().success();
        let out = String::from_utf8(a.get_output().stdout.clone()).unwrap();
        assert!(
            out.contains(&format!("Example:\n  {example}")),
            "{cmd}: {out}"
        );
    }
}

#[test]
fn foods_lists_the_table_with_tags_and_source() {
    let a = k2sim().arg("foods").assert().success();
    let out = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    for needle in [
        "natto — ",
        "egg_yolk — ",
        "~1000 µg/100 g",
        "[secondary]",
        "[assumed]",
        "approximate",
        "Schurgers & Vermeer 2000",
    ] {
        assert!(out.contains(needle), "missing {needle} in\n{out}");
    }
}

#[test]
fn compare_runs_several_files_and_checks_its_reference() {
    let out = tempfile::tempdir().unwrap();
    let a = k2sim()
        .args([
            "compare",
            "scenarios/mk7_daily.toml",
            "scenarios/mk4_daily.toml",
            "--units",
            "nmol_l",
            "--threshold",
            "1",
            "--width",
            "600",
            "--height",
            "400",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("| Cavg,ss | nmol/L |"), "{stdout}");
    let md = std::fs::read_to_string(out.path().join("comparison.md")).unwrap();
    assert!(md.contains("time above threshold, whole run") && md.contains("threshold 1 ng/mL"));
    let csv = std::fs::read_to_string(out.path().join("comparison.csv")).unwrap();
    assert!(csv.starts_with("metric,unit,regimen,value,ratio_to_reference,reference\n"));
    let png = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_panels.png"))
        .unwrap();
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (600, 440));

    let a = k2sim()
        .args([
            "compare",
            "scenarios/mk7_daily.toml",
            "scenarios/mk4_daily.toml",
            "--reference",
            "MK-7 180 ug daily",
            "--out",
        ])
        .arg(out.path().join("x"))
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("did you mean \"MK-7 180 µg daily\"?"), "{err}");
}

#[test]
fn sensitivity_writes_its_table_and_tornado_figure() {
    let out = tempfile::tempdir().unwrap();
    k2sim()
        .args([
            "sensitivity",
            "scenarios/mk7_daily.toml",
            "-q",
            "--delta-pct",
            "20",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let stem = "MK-7_180_ug_once_daily_tornado";
    let img = image::open(out.path().join(format!("{stem}.png")))
        .unwrap()
        .to_rgb8();
    assert_eq!(img.dimensions(), (1004, 756));
    // Bars in Okabe–Ito blue (parameter lowered) and vermillion (raised).
    assert!(img.pixels().any(|p| p.0 == [0x00, 0x72, 0xB2]));
    assert!(img.pixels().any(|p| p.0 == [0xD5, 0x5E, 0x00]));
    let svg = std::fs::read_to_string(out.path().join(format!("{stem}.svg"))).unwrap();
    for label in [
        "Change of Cavg,ss (%)",
        "volume V/F (230.8 L)",
        "half-life (72 h)",
        "parameter −20 %",
        "parameter +20 %",
        "+25.0 %",
    ] {
        assert!(svg.contains(label), "{label} missing from the tornado SVG");
    }
    let caption = std::fs::read_to_string(out.path().join(format!("{stem}.txt"))).unwrap();
    assert!(caption.contains("(1 − 20 %)") && caption.contains("known limits"));
    assert!(out.path().join("sensitivity.csv").exists());
    // sensitivity.csv, the tornado (PNG, SVG, caption) and report.html.
    assert_eq!(outputs_in(out.path()), 5);
}

#[test]
fn command_line_mistakes_are_usage_errors_without_a_file_prefix() {
    // Error::Usage: exit code 2, the message names the option and the fix, and no
    // "<scenario>:" location is put in front (it was, before the layout renovation).
    exact_error(
        &["run", "scenarios/mk4_vs_mk7.toml", "--reference", "nope", "--out", "/nonexistent/x"],
        2,
        "error: --reference \"nope\" is not a regimen label\n  help: labels: MK-4 15 mg × 3 daily (45 mg/d) | MK-7 180 µg once daily\n",
    );
    exact_error(
        &["run", "scenarios/mk7_daily.toml", "--shard", "1/2"],
        2,
        "error: scenarios/mk7_daily.toml: --shard splits a [population] or [sweep], and this scenario has neither\n  help: run it without --shard\n",
    );
    exact_error(
        &["compare", "scenarios/mk7_daily.toml", "scenarios/mk7_daily.toml"],
        2,
        "error: scenarios/mk7_daily.toml: regimen label \"MK-7 180 µg daily\" is also used by an earlier scenario\n  help: labels name the columns and curves: give the regimens distinct `label`s\n",
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    // `k2sim compounds | head -0`: the pipe is closed before k2sim writes. Rust's print! would
    // panic with "failed printing to stdout: Broken pipe"; k2sim stops with exit 0 instead.
    let bin = env!("CARGO_BIN_EXE_k2sim");
    let mut child = std::process::Command::new(bin)
        .arg("compounds")
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
}

/// How many outputs `dir` holds, not counting the manifest that lists them.
fn outputs_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != ".k2sim-manifest")
        .count()
}
