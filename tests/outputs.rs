//! Outputs under interruption and hostile names, with the real binary: a run killed partway
//! (SIGKILL, SIGINT, SIGTERM) leaves the earlier outputs byte-identical or the complete new set,
//! never a mixture, and no staging directory once cleaned up; no scenario name can make k2sim
//! write outside the output directory it was given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const STAGING_PREFIX: &str = k2sim::report::STAGING_PREFIX;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_k2sim"))
}

fn k2sim(args: &[&std::ffi::OsStr]) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "0")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Every file of `dir` (not staging directories) and its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn staging_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(STAGING_PREFIX))
        .collect()
}

fn run_ok(scenario: &Path, out: &Path) {
    let st = k2sim(&[
        "run".as_ref(),
        scenario.as_os_str(),
        "-q".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
    .status()
    .unwrap();
    assert!(st.success(), "k2sim run {} failed", scenario.display());
}

/// A run long enough to interrupt in a debug build: two regimens over two years, 0.25 h steps.
const BIG: &str = "name = \"big run\"\nduration = \"2 years\"\nstep_h = 0.25\n\
[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 730\n\
[[regimen]]\ncompound = \"mk4\"\ndose = \"15 mg\"\ntimes_h = [8, 13, 19]\ndays = 730\n";

#[test]
fn an_interrupted_run_leaves_the_old_outputs_or_the_complete_new_set() {
    let work = tempfile::tempdir().unwrap();
    let big = work.path().join("big.toml");
    std::fs::write(&big, BIG).unwrap();
    // The complete new sets, for comparison: the big run (killed while computing) and a quick
    // one (killed while its staged set is held before commit).
    let quick = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mk4_daily.toml");
    let reference = work.path().join("reference");
    run_ok(&big, &reference);
    let big_set = files(&reference);
    let reference = work.path().join("reference_quick");
    run_ok(&quick, &reference);
    let quick_set = files(&reference);
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mk7_daily.toml");
    let old_dir = work.path().join("old");
    run_ok(&small, &old_dir);
    let old_set = files(&old_dir);

    // Kills at delays spread over the run, while computing and, with the binary told to hold
    // its staged set for 1.5 s before committing, while the new set is on disk but not yet
    // committed. Each outcome must keep the invariant; no timing is asserted.
    let delays_ms = [300, 2000];
    for signal in ["KILL", "INT", "TERM"] {
        for (delay, pause) in delays_ms
            .iter()
            .map(|&d| (d, 0))
            .chain([(0, 1500), (700, 1500)])
        {
            let out = work.path().join(format!("out_{signal}_{delay}_{pause}"));
            std::fs::create_dir(&out).unwrap();
            for (name, bytes) in &old_set {
                std::fs::write(out.join(name), bytes).unwrap();
            }
            let (scenario, new_set) = if pause > 0 {
                (&quick, &quick_set)
            } else {
                (&big, &big_set)
            };
            let mut child = k2sim(&[
                "run".as_ref(),
                scenario.as_os_str(),
                "-q".as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
            ])
            .env("K2SIM_TEST_PAUSE_BEFORE_COMMIT_MS", pause.to_string())
            .spawn()
            .unwrap();
            if pause > 0 {
                // Wait until the staged set is on disk, then kill `delay` ms into the pause.
                while staging_dirs(&out)
                    .iter()
                    .all(|d| !out.join(d).join("summary.json").exists())
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            std::thread::sleep(Duration::from_millis(delay));
            let _ = Command::new("kill")
                .args([format!("-{signal}"), child.id().to_string()])
                .status();
            let status = child.wait().unwrap();
            let after = files(&out);
            // Old files not in the new set stay; every file of the new set is either all old
            // or all new.
            let all_old = after == old_set;
            let all_new = new_set.iter().all(|(n, b)| after.get(n) == Some(b));
            assert!(
                all_old || all_new,
                "SIG{signal} after {delay} ms ({status}): a mixture of old and new outputs"
            );
            if signal != "KILL" {
                assert!(
                    status.success() || status.code() == Some(130),
                    "SIG{signal} after {delay} ms: {status}"
                );
                assert_eq!(
                    staging_dirs(&out),
                    Vec::<String>::new(),
                    "SIG{signal} after {delay} ms"
                );
            }
            eprintln!(
                "SIG{signal} after {delay} ms (pause {pause}): {}, staging left: {:?}",
                if all_old { "old set" } else { "new set" },
                staging_dirs(&out)
            );
            if signal == "KILL" && !staging_dirs(&out).is_empty() {
                // The next run cleans up whatever a killed run left behind.
                run_ok(&small, &out);
                assert_eq!(staging_dirs(&out), Vec::<String>::new());
            }
        }
    }
}

#[test]
fn hostile_names_cannot_write_outside_the_output_directory() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    for (i, name) in [
        "../../escaped",
        "/tmp/absolute",
        "..",
        "a/../../b",
        "name\\u0000with nul",
        "",
    ]
    .iter()
    .enumerate()
    {
        let label = format!("../label{i}/../../x");
        let text = format!(
            "name = \"{name}\"\nduration_h = 48\n[[regimen]]\nlabel = \"{label}\"\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 2\n"
        );
        let scenario = work.path().join(format!("s{i}.toml"));
        std::fs::write(&scenario, text).unwrap();
        // Without --out: the output directory is out/<sanitised name> under the working dir.
        let st = Command::new(bin())
            .current_dir(&cwd)
            .args(["run".as_ref(), scenario.as_os_str(), "-q".as_ref()])
            .env("RUST_BACKTRACE", "0")
            .status()
            .unwrap();
        // Runs, or is refused as bad input (an empty name): never anything else.
        assert!(st.success() || st.code() == Some(2), "{name:?}: {st}");
    }
    // Only `out/` appeared in the working directory, with one plain directory per scenario, and
    // nothing beside the scenarios and `cwd/` in the temporary directory.
    let top: Vec<String> = std::fs::read_dir(&cwd)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(top, vec!["out".to_string()]);
    for e in std::fs::read_dir(cwd.join("out")).unwrap() {
        let e = e.unwrap();
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !n.is_empty(),
            "{n:?}"
        );
        for f in std::fs::read_dir(e.path()).unwrap() {
            assert!(f.unwrap().path().is_file());
        }
    }
    let beside: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !(n.starts_with('s') && n.ends_with(".toml")) && n != "cwd")
        .collect();
    assert_eq!(beside, Vec::<String>::new());
}
