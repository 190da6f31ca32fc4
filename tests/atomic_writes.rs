//! Every command that writes replaces its outputs by rename, never in place: before the second
//! run, each output file gets a hard link elsewhere and its bytes are overwritten (through the
//! shared inode) with a marker. After the run the link must still hold the marker (the old
//! inode was left alone) and the output path must name a new inode with fresh bytes. A writer
//! that truncates and rewrites the file in place fails both checks; the bytes alone would not
//! tell, since a rerun writes the same bytes.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use assert_cmd::Command;

const MARK: &[u8] = b"old bytes, must survive\n";

fn k2sim(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .env("RAYON_NUM_THREADS", "1")
        .env_remove("SLURM_CPUS_PER_TASK");
    c
}

/// Runs `args` in `dir` twice; between the runs, hard-links every file of `out` (relative to
/// `dir`) that `keep` selects and marks it; after the second run checks each as described above.
/// Returns how many files were checked.
fn replaced_by_rename(dir: &Path, args: &[&str], out: &str, keep: impl Fn(&str) -> bool) -> usize {
    k2sim(dir).args(args).assert().success();
    let out = dir.join(out);
    let links = dir.join("links");
    std::fs::create_dir_all(&links).unwrap();
    let mut checked = Vec::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if !e.file_type().unwrap().is_file() || !keep(&name) {
            continue;
        }
        let fresh = std::fs::read(e.path()).unwrap();
        assert_ne!(fresh, MARK);
        let link = links.join(&name);
        std::fs::hard_link(e.path(), &link).unwrap();
        // Overwrite in place: the output and the link share this inode and these bytes.
        std::fs::write(e.path(), MARK).unwrap();
        let ino = std::fs::metadata(e.path()).unwrap().ino();
        checked.push((name, link, ino, fresh));
    }
    assert!(
        !checked.is_empty(),
        "{args:?}: no output file in {}",
        out.display()
    );
    k2sim(dir).args(args).assert().success();
    for (name, link, ino, fresh) in &checked {
        let path = out.join(name);
        assert_eq!(
            std::fs::read(link).unwrap(),
            MARK,
            "{args:?}: {name} was rewritten in place (its hard link changed)"
        );
        assert_ne!(
            std::fs::metadata(&path).unwrap().ino(),
            *ino,
            "{args:?}: {name} kept its inode"
        );
        assert_eq!(&std::fs::read(&path).unwrap(), fresh, "{args:?}: {name}");
    }
    checked.len()
}

/// Small figures: a debug build spends most of a run rasterising them.
const SMALL_FIGURES: &str = "[plot]\nwidth_px = 320\nheight_px = 200\n";

/// One regimen, one week, 2 h steps, small figures: fast in a debug build.
const SMALL: &str = r#"name = "small"
duration_h = 168
step_h = 2
[plot]
width_px = 320
height_px = 200
[[regimen]]
label = "MK-7"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 7
"#;

fn setup(extra: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), format!("{SMALL}{extra}")).unwrap();
    std::fs::write(
        tmp.path().join("t.toml"),
        SMALL
            .replace("name = \"small\"", "name = \"other\"")
            .replace("label = \"MK-7\"", "label = \"MK-7 twice\"")
            .replace("dose_ug = 180", "dose_ug = 360"),
    )
    .unwrap();
    tmp
}

fn any(_: &str) -> bool {
    true
}

#[test]
fn run_replaces_every_output_by_rename() {
    let t = setup("");
    let n = replaced_by_rename(t.path(), &["run", "s.toml", "-q", "--out", "o"], "o", any);
    assert!(n >= 4, "{n}");
}

#[test]
fn compare_replaces_every_output_by_rename() {
    let t = setup("");
    let args = ["compare", "s.toml", "t.toml", "-q", "--out", "o"];
    let n = replaced_by_rename(t.path(), &args, "o", any);
    assert!(n >= 6, "{n}");
}

#[test]
fn population_and_sweep_outputs_are_replaced_by_rename() {
    let t = setup(
        "[population]\nn = 20\nseed = 1\ncv_pct = { v_l = 30 }\n[sweep]\ndose_ug = [90, 180]\n",
    );
    let keep = |n: &str| n.starts_with("population") || n.starts_with("sweep");
    let n = replaced_by_rename(t.path(), &["run", "s.toml", "-q", "--out", "o"], "o", keep);
    assert!(n >= 4, "{n}");
}

#[test]
fn shard_files_and_merged_outputs_are_replaced_by_rename() {
    let t = setup("[population]\nn = 20\nseed = 1\ncv_pct = { v_l = 30 }\n");
    // --force: a valid shard is otherwise kept as it is (not rewritten at all).
    let args = [
        "run", "s.toml", "--shard", "1/1", "--force", "-q", "--out", "sh",
    ];
    assert_eq!(replaced_by_rename(t.path(), &args, "sh", any), 1);
    let args = ["merge", "sh", "-q", "--out", "m"];
    let n = replaced_by_rename(t.path(), &args, "m", any);
    assert!(n >= 4, "{n}");
}

#[test]
fn sensitivity_replaces_its_outputs_by_rename() {
    let t = setup("");
    let args = ["sensitivity", "s.toml", "-q", "--out", "o"];
    assert!(replaced_by_rename(t.path(), &args, "o", any) >= 2);
}

#[test]
fn fit_replaces_its_outputs_by_rename() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = tempfile::tempdir().unwrap();
    let dir = root.join("tests/fixtures/observed");
    std::fs::copy(dir.join("mk7_single.csv"), t.path().join("mk7_single.csv")).unwrap();
    let toml = std::fs::read_to_string(dir.join("mk7_single.toml")).unwrap();
    std::fs::write(
        t.path().join("mk7_single.toml"),
        format!("{toml}\n{SMALL_FIGURES}"),
    )
    .unwrap();
    let args = ["fit", "mk7_single.toml", "-q", "--out", "o"];
    assert!(replaced_by_rename(t.path(), &args, "o", any) >= 3);
}

#[test]
fn validate_replaces_its_outputs_by_rename() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("cases")).unwrap();
    std::fs::copy(
        root.join("validation/konakion_k1_half_life.toml"),
        t.path().join("cases/konakion_k1_half_life.toml"),
    )
    .unwrap();
    let args = [
        "validate",
        "--dir",
        "cases",
        "--no-figures",
        "-q",
        "--out",
        "o",
    ];
    assert!(replaced_by_rename(t.path(), &args, "o", any) >= 2);
}

#[test]
fn nca_replaces_its_outputs_by_rename() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("d.csv"),
        "id,time_h,conc_ng_ml\n1,0,0\n1,1,8\n1,2,10\n1,4,7\n1,8,4\n1,12,2.5\n1,24,0.6\n",
    )
    .unwrap();
    let args = [
        "nca", "d.csv", "-q", "--width", "320", "--height", "200", "--out", "o",
    ];
    assert!(replaced_by_rename(t.path(), &args, "o", any) >= 2);
}
