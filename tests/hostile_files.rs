//! Files that are not files: a FIFO, a device and an oversized file as the scenario, a case, an
//! observations CSV or an NCA table are refused at once with the file named, never read until
//! memory runs out or blocked on forever.

#![cfg(unix)]

use std::time::{Duration, Instant};

use assert_cmd::Command;

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.env("RUST_BACKTRACE", "0")
        .timeout(Duration::from_secs(60));
    c
}

fn mkfifo(path: &std::path::Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_fifo_as_the_scenario_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("s.toml");
    if !mkfifo(&fifo) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let started = Instant::now();
    let a = k2sim().arg("run").arg(&fifo).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("not a regular file"), "{err}");
    assert!(err.contains("s.toml"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_device_as_the_scenario_or_the_nca_data_is_refused() {
    for args in [vec!["run", "/dev/zero"], vec!["nca", "/dev/urandom"]] {
        let a = k2sim().args(&args).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
}

#[test]
fn a_fifo_as_observed_csv_is_refused_with_the_scenario_still_named() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("obs.csv");
    if !mkfifo(&fifo) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let scen = dir.path().join("s.toml");
    std::fs::write(
        &scen,
        "duration = \"2 d\"\nobserved_csv = \"obs.csv\"\n\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\n",
    )
    .unwrap();
    let a = k2sim().arg("run").arg(&scen).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("not a regular file") && err.contains("obs.csv"),
        "{err}"
    );
}

#[test]
fn an_oversized_scenario_is_refused_by_its_stated_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(k2sim::scenario::MAX_SCENARIO_BYTES + 1).unwrap();
    let a = k2sim().arg("run").arg(&big).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("more than 10 MB"), "{err}");
}

/// `dir/name` with `text`, preceded by a UTF-8 byte-order mark when `bom`.
fn write_with_bom(dir: &std::path::Path, name: &str, text: &str, bom: bool) {
    let mut bytes = if bom {
        b"\xef\xbb\xbf".to_vec()
    } else {
        Vec::new()
    };
    bytes.extend_from_slice(text.as_bytes());
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Stdout of `k2sim args…` run in `dir` (success required), without the timing line.
fn stdout_in(dir: &std::path::Path, args: &[&str]) -> String {
    let a = k2sim().current_dir(dir).args(args).assert().success();
    String::from_utf8_lossy(&a.get_output().stdout)
        .lines()
        .filter(|l| !l.starts_with("done in "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_byte_order_mark_at_the_start_of_any_input_file_is_ignored() {
    // Spreadsheet programs save "UTF-8 CSV" with a BOM; it must not stick to the first header
    // cell (`\u{feff}time_h` was an unknown column) or hide a leading comment line.
    let read = |p: &str| std::fs::read_to_string(p).unwrap();
    let observed = read("tests/fixtures/observed/mk7_single.csv");
    let observed_toml = read("tests/fixtures/observed/mk7_single.toml");
    let dataset = format!("# a comment first\n{}", read("scenarios/mk7_dataset.csv"));
    let dataset_toml = read("scenarios/mk7_dataset.toml")
        .replace("dataset = \"mk7_dataset.csv\"", "dataset = \"d.csv\"");
    assert!(dataset_toml.contains("\"d.csv\""));
    let nca = format!(
        "# a comment first\n{}",
        read("scenarios/observed_profile_nca.csv")
    );
    let mut outputs = Vec::new();
    for bom in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_with_bom(d, "mk7_single.csv", &observed, bom);
        write_with_bom(d, "obs.toml", &observed_toml, bom);
        write_with_bom(d, "d.csv", &dataset, bom);
        write_with_bom(d, "ds.toml", &dataset_toml, bom);
        write_with_bom(d, "nca.csv", &nca, bom);
        outputs.push([
            stdout_in(d, &["run", "obs.toml", "--json", "--out", "o1"]),
            stdout_in(d, &["run", "ds.toml", "--json", "--out", "o2"]),
            stdout_in(d, &["nca", "nca.csv", "--no-figures", "--out", "o3"]),
        ]);
    }
    for (plain, bom) in outputs[0].iter().zip(&outputs[1]) {
        assert_eq!(plain, bom);
    }
}

/// True when `text` holds a character that would drive a terminal: a control character other
/// than newline and tab, or a bidirectional override.
fn drives_a_terminal(text: &str) -> bool {
    text.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t') || ('\u{202a}'..='\u{202e}').contains(&c)
    })
}

#[test]
fn control_characters_in_labels_and_names_are_escaped_on_the_terminal_and_in_captions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // TOML escapes put ESC, BEL, a C1 CSI and a right-to-left override into the name, the
    // caption and the labels.
    std::fs::write(
        d.join("s.toml"),
        r#"name = "evil\u001b]0;pwned\u0007 name"
duration_h = 48
caption = "cap\u001b[2J"

[[regimen]]
label = "A\u001b[31mred\u009b"
compound = "mk7"
dose_ug = 180

[[regimen]]
label = "B\u202eevil"
compound = "mk4"
dose_ug = 180
"#,
    )
    .unwrap();
    let a = k2sim()
        .current_dir(d)
        .args(["run", "s.toml", "--out", "o"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(!drives_a_terminal(&stdout), "{stdout:?}");
    assert!(stdout.contains(r"A\u{1b}[31mred\u{9b}") && stdout.contains(r"B\u{202e}evil"));
    let mut checked = 0;
    for e in std::fs::read_dir(d.join("o")).unwrap() {
        let p = e.unwrap().path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if ["txt", "svg", "html"].contains(&ext) {
            let text = std::fs::read_to_string(&p).unwrap();
            let controls = text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'));
            assert!(!controls, "{}", p.display());
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "captions, SVGs and the report were not written"
    );
    let caption = std::fs::read_to_string(d.join("o/evil_0_pwned_name.txt")).unwrap();
    assert!(caption.contains(r"cap\u{1b}[2J"), "{caption}");

    // Errors quote the user's text (a raw ESC inside a TOML string is a syntax error that
    // shows the line) and must escape it too, with the caret still under the character.
    std::fs::write(
        d.join("raw.toml"),
        "duration_h = 48\n[[regimen]]\nlabel = \"A\u{1b}[31mred\"\ncompound = \"mk\\u001b\"\ndose_ug = 180\n",
    )
    .unwrap();
    std::fs::write(
        d.join("name.toml"),
        "duration_h = 48\n[[regimen]]\ncompound = \"mk\\u001b[31m\"\ndose_ug = 180\n",
    )
    .unwrap();
    // clap quotes a refused option value as given, too.
    for (args, says) in [
        (
            ["run", "raw.toml", "--out", "o2"],
            "  3| label = \"A\\u{1b}[31mred\"\n   |           ^",
        ),
        (
            ["run", "name.toml", "--out", "o2"],
            "unknown name \"mk\\u{1b}[31m\"",
        ),
        (
            ["run", "name.toml", "--solver", "rk\u{7}4"],
            "invalid value 'rk\\u{7}4' for '--solver <SOLVER>'",
        ),
    ] {
        let a = k2sim().current_dir(d).args(args).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(!drives_a_terminal(&err), "{err:?}");
        assert!(err.contains(says), "{err}");
    }
}
