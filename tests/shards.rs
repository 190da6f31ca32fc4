//! Shards you can trust: merge verifies every shard (checksum, version, scenario content,
//! subject and histogram counts) and names the offending file; identity is the scenario's
//! content, not its path; every missing shard is listed with its re-run command; a valid shard
//! is not computed twice; `--out` URLs are refused; Slurm's CPU count sets the threads.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use k2sim::study::ShardFile;

/// Two regimens, a population with an assay (observed histogram and LLOQ counts) and a sweep.
const SCENARIO: &str = r#"name = "shards"
duration_h = 240
step_h = 2
[[regimen]]
label = "MK-7"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 10
[[regimen]]
label = "MK-4"
compound = "mk4"
dose = "15 mg"
times_h = [8, 13, 19]
days = 10
[population]
n = 40
seed = 5
cv_pct = { ka_per_h = 30, half_life_h = 30, v_l = 30 }
residual = { proportional_pct = 15 }
lloq_ng_ml = 0.5
[sweep]
dose_ug = [90, 180, 360]
"#;

fn k2sim(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .env_remove("SLURM_CPUS_PER_TASK");
    c
}

/// A temporary folder holding `s.toml`.
fn setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    tmp
}

/// Runs shard `k` of `n` from `dir`, scenario spelled `scenario`, into `out` (relative to dir).
fn shard(dir: &Path, scenario: &str, k: u32, n: u32, out: &str) -> String {
    let o = k2sim(dir)
        .args([
            "run",
            scenario,
            "--shard",
            &format!("{k}/{n}"),
            "--out",
            out,
        ])
        .assert()
        .success();
    String::from_utf8_lossy(&o.get_output().stdout).into_owned()
}

fn shard_path(dir: &Path, k: u32, n: u32) -> PathBuf {
    dir.join(format!("shards/{k}/shard-{k}-of-{n}.json"))
}

fn all_shards(dir: &Path, n: u32) {
    for k in 1..=n {
        shard(dir, "s.toml", k, n, &format!("shards/{k}"));
    }
}

/// Merges `shards/*` (in folder order) and returns (exit code, stderr).
fn merge(dir: &Path, n: u32) -> (i32, String) {
    let mut c = k2sim(dir);
    c.arg("merge");
    for k in 1..=n {
        c.arg(format!("shards/{k}"));
    }
    let o = c.args(["-q", "--out", "merged"]).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Reads a shard as JSON, applies `edit`, writes it back; with `reseal`, recomputes the
/// checksum as a tool that knows the format would, so only the content checks can catch it.
fn tamper(path: &Path, reseal: bool, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut v);
    if reseal {
        let mut f: ShardFile = serde_json::from_value(v.clone()).unwrap();
        f.checksum = f.payload_checksum();
        v = serde_json::to_value(&f).unwrap();
    }
    std::fs::write(path, serde_json::to_vec(&v).unwrap()).unwrap();
}

fn read_dir_sorted(d: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_edited_value_fails_the_checksum_and_names_the_file() {
    let tmp = setup();
    let d = tmp.path();
    all_shards(d, 2);
    tamper(&shard_path(d, 2, 2), false, |v| {
        v["populations"][0]["subjects"][3]["cmax_ng_ml"] = serde_json::json!(99.5);
    });
    let (code, err) = merge(d, 2);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("error: shards/2/shard-2-of-2.json: fails its checksum"),
        "{err}"
    );
    assert!(
        err.contains("help: do not edit shard files; re-run this shard: k2sim run s.toml --shard 2/2 --out shards/2"),
        "{err}"
    );
}

#[test]
fn duplicated_subject_rows_are_refused_even_with_a_matching_checksum() {
    let tmp = setup();
    let d = tmp.path();
    all_shards(d, 2);
    let dup = |v: &mut serde_json::Value| {
        let rows = v["populations"][1]["subjects"].as_array_mut().unwrap();
        let again = rows[0].clone();
        rows.insert(1, again);
    };
    tamper(&shard_path(d, 1, 2), false, dup);
    let (code, err) = merge(d, 2);
    assert_eq!(code, 2);
    assert!(
        err.contains("shard-1-of-2.json: fails its checksum"),
        "{err}"
    );

    shard(d, "s.toml", 1, 2, "shards/1");
    tamper(&shard_path(d, 1, 2), true, dup);
    let (code, err) = merge(d, 2);
    assert_eq!(code, 2);
    assert!(
        err.contains("shard-1-of-2.json: regimen \"MK-4\": has 21 subject rows, expected 20 (subjects 0 to 19 of n = 40)"),
        "{err}"
    );

    // The same number of rows, one subject twice and one missing.
    shard(d, "s.toml", 1, 2, "shards/1");
    tamper(&shard_path(d, 1, 2), true, |v| {
        let rows = v["populations"][0]["subjects"].as_array_mut().unwrap();
        rows[5] = rows[4].clone();
    });
    let (code, err) = merge(d, 2);
    assert_eq!(code, 2);
    assert!(
        err.contains("regimen \"MK-7\": subject row 6 is subject 4, expected subject 5 (this shard holds subjects 0 to 19 of n = 40, in order, each once)"),
        "{err}"
    );
}

#[test]
fn an_emptied_histogram_is_refused() {
    let tmp = setup();
    let d = tmp.path();
    all_shards(d, 2);
    tamper(&shard_path(d, 2, 2), true, |v| {
        v["populations"][0]["counts"] = serde_json::json!([]);
    });
    let (code, err) = merge(d, 2);
    assert_eq!(code, 2);
    assert!(
        err.contains("shard-2-of-2.json: regimen \"MK-7\": the concentration histogram holds 0 values at 0 h, expected one per subject (20)"),
        "{err}"
    );
    // An emptied observed histogram, too. The resealed shard passes its checksum, but not the
    // content checks, so the run computes it again rather than keeping it.
    assert!(shard(d, "s.toml", 2, 2, "shards/2").starts_with("wrote "));
    tamper(&shard_path(d, 2, 2), true, |v| {
        v["populations"][1]["observed_counts"] = serde_json::json!([]);
    });
    let (_, err) = merge(d, 2);
    assert!(
        err.contains("regimen \"MK-4\": the observed histogram holds 0 values"),
        "{err}"
    );
}

#[test]
fn sweep_rows_and_versions_are_checked() {
    let tmp = setup();
    let d = tmp.path();
    all_shards(d, 2);
    tamper(&shard_path(d, 2, 2), true, |v| {
        v["sweep_rows"].as_array_mut().unwrap().pop();
    });
    let (_, err) = merge(d, 2);
    assert!(
        err.contains(
            "shard-2-of-2.json: has 3 sweep rows, expected 4 (combinations 1 to 2 × 2 regimens)"
        ),
        "{err}"
    );
    shard(d, "s.toml", 2, 2, "shards/2");
    tamper(&shard_path(d, 2, 2), false, |v| {
        v["k2sim_version"] = serde_json::json!("0.0.1");
    });
    let (_, err) = merge(d, 2);
    assert!(
        err.contains(&format!(
            "shard-2-of-2.json: was written by k2sim 0.0.1; this is k2sim {}\n  help: re-run the shards with this k2sim",
            env!("CARGO_PKG_VERSION")
        )),
        "{err}"
    );
}

#[test]
fn a_shard_of_other_scenario_content_is_refused() {
    let tmp = setup();
    let d = tmp.path();
    shard(d, "s.toml", 1, 2, "shards/1");
    std::fs::write(d.join("s.toml"), SCENARIO.replace("seed = 5", "seed = 6")).unwrap();
    shard(d, "s.toml", 2, 2, "shards/2");
    let (code, err) = merge(d, 2);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: shards/2/shard-2-of-2.json: comes from another scenario than shards/1/shard-1-of-2.json (scenario content fnv1a64:"),
        "{err}"
    );
    assert!(
        err.contains("help: merge the shards of one run only"),
        "{err}"
    );
}

#[test]
fn the_same_scenario_by_another_path_and_directory_merges_to_the_unsharded_bytes() {
    let tmp = setup();
    let d = tmp.path();
    let sub = d.join("elsewhere");
    std::fs::create_dir(&sub).unwrap();
    k2sim(d)
        .args(["run", "s.toml", "-q", "--out", "whole"])
        .assert()
        .success();
    // Shard 1 as the unsharded run spelled it (its command goes into the captions); shard 2
    // by an absolute path, shard 3 by `../s.toml` from another working directory.
    shard(d, "s.toml", 1, 3, "shards/1");
    let abs = d.join("s.toml");
    shard(d, abs.to_str().unwrap(), 2, 3, "shards/2");
    shard(&sub, "../s.toml", 3, 3, "../shards/3");
    let (code, err) = merge(d, 3);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        read_dir_sorted(&d.join("whole")),
        read_dir_sorted(&d.join("merged"))
    );
}

#[test]
fn merge_lists_every_missing_shard_with_its_command() {
    let tmp = setup();
    let d = tmp.path();
    shard(d, "s.toml", 1, 5, "shards/1");
    shard(d, "s.toml", 3, 5, "shards/3");
    let o = k2sim(d)
        .args(["merge", "shards/3", "shards/1", "--check"])
        .assert()
        .code(2);
    assert_eq!(
        String::from_utf8_lossy(&o.get_output().stderr),
        "error: merge: 3 of 5 shards missing: 2, 4, 5\n  help: re-run them, then merge again:\n    k2sim run s.toml --shard 2/5 --out shards/2\n    k2sim run s.toml --shard 4/5 --out shards/4\n    k2sim run s.toml --shard 5/5 --out shards/5\n"
    );
    // All shards in one folder: the commands write there.
    for k in [1, 4] {
        shard(d, "s.toml", k, 4, "flat");
    }
    let o = k2sim(d).args(["merge", "flat"]).assert().code(2);
    assert!(String::from_utf8_lossy(&o.get_output().stderr).contains(
        "2 of 4 shards missing: 2, 3\n  help: re-run them, then merge again:\n    k2sim run s.toml --shard 2/4 --out flat\n    k2sim run s.toml --shard 3/4 --out flat\n"
    ));
    for k in [2, 3] {
        shard(d, "s.toml", k, 4, "flat");
    }
    let o = k2sim(d)
        .args(["merge", "flat", "--check"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&o.get_output().stdout)
        .starts_with("all 4 shards present and valid"));
    assert!(!d.join("out").exists(), "--check wrote outputs");
}

#[test]
fn a_valid_shard_is_kept_and_force_or_damage_computes_it_again() {
    let tmp = setup();
    let d = tmp.path();
    assert!(shard(d, "s.toml", 1, 2, "shards/1").starts_with("wrote shards/1/shard-1-of-2.json"));
    let path = shard_path(d, 1, 2);
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    // By another spelling of the path: the content is what counts.
    let out = shard(d, "./s.toml", 1, 2, "shards/1");
    assert!(
        out.starts_with("kept shards/1/shard-1-of-2.json: a valid shard of this scenario and solver is already there (--force to compute it again)"),
        "{out}"
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before
    );
    let o = k2sim(d)
        .args([
            "run", "s.toml", "--shard", "1/2", "--out", "shards/1", "--force",
        ])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&o.get_output().stdout).starts_with("wrote "));
    // A damaged shard is not valid: computed again.
    tamper(&path, false, |v| {
        v["populations"][0]["subjects"][0]["v_l"] = serde_json::json!(1)
    });
    assert!(shard(d, "s.toml", 1, 2, "shards/1").starts_with("wrote "));
    // Another scenario content: computed again.
    std::fs::write(d.join("s.toml"), SCENARIO.replace("seed = 5", "seed = 7")).unwrap();
    assert!(shard(d, "s.toml", 1, 2, "shards/1").starts_with("wrote "));
}

#[test]
fn an_empty_shard_warns() {
    let tmp = setup();
    let d = tmp.path();
    let small = "name = \"few\"\nduration_h = 48\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 2\n[population]\nn = 3\n";
    std::fs::write(d.join("few.toml"), small).unwrap();
    let o = k2sim(d)
        .args(["run", "few.toml", "--shard", "1/5", "-q", "--out", "sh"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&o.get_output().stderr),
        "warning: shard 1/5 is empty: 3 subjects and 0 sweep combinations do not reach 5 shards; its file is written all the same, so that `merge` sees every shard\n  help: use at most 3 shards\n"
    );
    let o = k2sim(d)
        .args(["run", "few.toml", "--shard", "2/5", "-q", "--out", "sh"])
        .assert()
        .success();
    assert!(
        o.get_output().stderr.is_empty(),
        "shard 2/5 holds subject 0"
    );
}

#[test]
fn urls_as_output_are_refused() {
    let tmp = setup();
    let d = tmp.path();
    for args in [
        vec!["run", "s.toml", "--out", "s3://bucket/x"],
        vec!["merge", "shards", "--out", "gs://b/x"],
        vec![
            "compare",
            "s.toml",
            "s.toml",
            "--out",
            "https://example.org/x",
        ],
    ] {
        let o = k2sim(d).args(&args).assert().code(2);
        let err = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
        assert!(
            err.contains("is a URL; k2sim writes to a directory on a local or shared file system"),
            "{err}"
        );
        assert!(
            err.contains("help: give a path, e.g. --out results/run1"),
            "{err}"
        );
    }
    assert!(!d.join("s3:").exists() && !d.join("gs:").exists());
    // A colon without `//` is a path (as on any Unix).
    k2sim(d)
        .args(["run", "s.toml", "-q", "--shard", "1/9", "--out", "a:b"])
        .assert()
        .success();
}

#[test]
fn slurm_cpus_per_task_sets_the_threads_unless_rayon_num_threads_does() {
    let tmp = setup();
    let d = tmp.path();
    let run = |slurm: &str, rayon: Option<&str>| {
        let mut c = k2sim(d);
        c.args(["run", "s.toml", "--shard", "1/2", "--force", "--out", "sh"])
            .env("SLURM_CPUS_PER_TASK", slurm)
            .env_remove("RAYON_NUM_THREADS");
        if let Some(r) = rayon {
            c.env("RAYON_NUM_THREADS", r);
        }
        String::from_utf8_lossy(&c.assert().success().get_output().stdout).into_owned()
    };
    assert!(run("3", None).contains(" on 3 threads"));
    assert!(run("3", Some("1")).contains(" on 1 thread,"));
}

#[test]
fn a_shard_argument_out_of_range_says_why() {
    let dir = setup();
    for (arg, says) in [
        (
            "1/1000000000000",
            "N = 1000000000000 is too large: shard numbers go up to 4294967295",
        ),
        ("99999999999/3", "K = 99999999999 is too large"),
        ("/3", "K is missing"),
        ("1.5/3", "K = `1.5` is not a whole number"),
    ] {
        let a = k2sim(dir.path())
            .args(["run", "s.toml", "--shard", arg])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains(says), "--shard {arg}: {err}");
    }
}

/// A two-compartment regimen beside a one-compartment one, with a trough target and both
/// markers: the columns and summaries a merge reads from the shards pass by pass.
const RESPONSE_SCENARIO: &str = r#"name = "shards with markers"
duration_h = 168
step_h = 2
[[regimen]]
label = "MK-7"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 7
[[regimen]]
label = "MK-4 two compartments"
compound = "mk4"
dose = "15 mg"
times_h = [8, 13, 19]
days = 7
[regimen.params]
model = "two_compartment"
ka_per_h = 1.3
half_life_h = 1.35
v_l = 40
q_l_per_h = 17
vp_l = 227
[population]
n = 25
seed = 3
cv_pct = { ka_per_h = 30, half_life_h = 30, v_l = 30 }
target_trough_ng_ml = 0.5
[response]
markers = ["dp_ucmgp", "ucoc"]
"#;

#[test]
fn markers_and_two_compartments_merge_to_the_unsharded_bytes() {
    let tmp = setup();
    let d = tmp.path();
    std::fs::write(d.join("r.toml"), RESPONSE_SCENARIO).unwrap();
    k2sim(d)
        .args(["run", "r.toml", "-q", "--out", "whole"])
        .assert()
        .success();
    for k in 1..=3 {
        shard(d, "r.toml", k, 3, &format!("shards/{k}"));
    }
    let (code, err) = merge(d, 3);
    assert_eq!(code, 0, "{err}");
    let whole = read_dir_sorted(&d.join("whole"));
    let subjects = &whole
        .iter()
        .find(|(n, _)| n == "population_subjects.csv")
        .unwrap()
        .1;
    let head = String::from_utf8_lossy(subjects);
    let head = head.lines().next().unwrap();
    assert!(
        head.contains("q_l_per_h") && head.contains("ucoc_pct_change_at_end"),
        "{head}"
    );
    assert_eq!(whole, read_dir_sorted(&d.join("merged")));
}

#[test]
fn one_regimen_merges_to_the_unsharded_bytes_and_leaves_no_spill() {
    // With one regimen the merge's spilled rows file is population_subjects.csv itself (no
    // join); with two (the tests above) the pieces are joined regimen after regimen. Either
    // way the spill directory is gone afterwards: `read_dir_sorted` would fail on it.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let one = "name = \"one\"\nduration_h = 96\nstep_h = 2\n\
        [[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 4\n\
        [population]\nn = 25\nseed = 9\ncv_pct = { ka_per_h = 30, half_life_h = 30 }\n";
    std::fs::write(d.join("s.toml"), one).unwrap();
    k2sim(d)
        .args(["run", "s.toml", "-q", "--out", "whole"])
        .assert()
        .success();
    all_shards(d, 4);
    let (code, err) = merge(d, 4);
    assert_eq!(code, 0, "{err}");
    let merged = read_dir_sorted(&d.join("merged"));
    assert!(merged
        .iter()
        .any(|(n, b)| n == "population_subjects.csv"
            && String::from_utf8_lossy(b).lines().count() == 26));
    assert_eq!(read_dir_sorted(&d.join("whole")), merged);
}
