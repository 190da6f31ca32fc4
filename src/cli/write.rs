//! The one file writer: a complete set of outputs is staged in a directory inside the output
//! directory, synced, then renamed into place, so a failed or interrupted run never leaves a
//! half-written or mixed set over a good one. Ctrl-C, SIGTERM and SIGHUP wait for it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use k2sim::error::Error;
use k2sim::report::STAGING_PREFIX;

/// Held while outputs are being written. The signal handler takes it before exiting, so an
/// interrupt never lands between writing the new set and cleaning up after it.
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// On Ctrl-C, SIGTERM or SIGHUP: exit with 130 at once while computing (nothing is on disk yet),
/// or right after the output set is committed or cleaned up if writing has begun. Earlier
/// outputs are thus never left half-replaced and no staging directory is left behind.
pub fn on_interrupt() {
    let _writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    eprintln!(
        "error: interrupted; outputs are as they were before this run, or the complete new set"
    );
    std::process::exit(130);
}

/// Name of the file in an output directory that lists, per command, the files of the last set
/// that command wrote there (`<command> <file name>` per line).
pub const MANIFEST: &str = ".k2sim-manifest";

/// Writes a file or files into `dir` beside what is there (a shard beside the other shards):
/// each is replaced only by a complete new version, and nothing else in `dir` is touched.
/// Returns the paths written, in the order of `files`.
pub fn write_set(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, Error> {
    write(dir, None, files, &[])
}

/// Writes the complete output set of `command` (`run`, `fit`, …) into `dir`: the files there
/// are replaced only by a complete new set, and the files of `command`'s previous set in `dir`
/// that the new set does not have (the comparison and panel figures of a run that had two
/// regimens, before one with one) are removed after it is in place. Which files those are is
/// read from the [`MANIFEST`]; a file k2sim did not list there (the user's own, or one an older
/// k2sim wrote) is never removed. Returns the paths written, in the order of `files`.
pub fn replace_set(
    dir: &Path,
    command: &str,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<PathBuf>, Error> {
    write(dir, Some(command), files, &[])
}

/// [`replace_set`] with some files already written whole in a [`Spill`] of `dir`: a file of
/// `files` whose name `moved` lists is the spilled file, renamed into the set (its bytes in
/// `files` are not written; they are a placeholder, empty).
pub fn replace_set_moving(
    dir: &Path,
    command: &str,
    files: &[(String, Vec<u8>)],
    moved: &[(String, PathBuf)],
) -> Result<Vec<PathBuf>, Error> {
    write(dir, Some(command), files, moved)
}

/// A directory inside an output directory for outputs too large to hold in memory, written
/// before the set is staged (a merge's `population_subjects.csv` at 10⁷ subjects is 1.3 GB): it
/// is on the output directory's file system, so a file in it joins the set by a rename
/// ([`replace_set_moving`]). Dropped, it is removed; a killed run's is removed by the next run
/// into the directory, as its staging directory is.
#[derive(Debug)]
pub struct Spill {
    dir: PathBuf,
    /// The output directory, when this spill created it: removed again if it is still empty
    /// when the spill goes (a run that failed leaves no new empty directory).
    created: Option<PathBuf>,
}

impl Spill {
    /// Creates `out`'s spill directory (and `out`, if needed).
    pub fn new(out: &Path) -> Result<Self, Error> {
        let created = (!out.exists()).then(|| out.to_path_buf());
        std::fs::create_dir_all(out).map_err(write_err(out))?;
        remove_stale_staging(out);
        let dir = out.join(format!("{STAGING_PREFIX}{}-spill", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(write_err(&dir))?;
        }
        std::fs::create_dir(&dir).map_err(write_err(out))?;
        Ok(Self { dir, created })
    }

    /// The path of a file `name` in the spill directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(out) = &self.created {
            // Fails, as it should, unless the directory is empty.
            let _ = std::fs::remove_dir(out);
        }
    }
}

fn write(
    dir: &Path,
    command: Option<&str>,
    files: &[(String, Vec<u8>)],
    moved: &[(String, PathBuf)],
) -> Result<Vec<PathBuf>, Error> {
    // Ctrl-C or SIGTERM waits until the set is committed or cleaned up (see `on_interrupt`).
    let _writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    let mut staged = stage(dir, files, moved)?;
    if let Some(command) = command {
        staged.track(command)?;
    }
    // For the interruption tests only (tests/outputs.rs): hold the staged set for a while, so
    // that a signal lands between staging and commit.
    if let Some(ms) = std::env::var("K2SIM_TEST_PAUSE_BEFORE_COMMIT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    staged.commit()
}

/// A set of outputs written and synced into a staging directory inside its output directory,
/// not yet visible. Dropped without [`Staged::commit`], it removes the staging directory.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    staging: PathBuf,
    names: Vec<String>,
    /// Files of the previous set to remove once the new one is in place, and whether a new
    /// manifest is staged.
    stale: Vec<String>,
    manifest: bool,
}

/// First line of a manifest: a file without it is not k2sim's and lists nothing.
const MANIFEST_HEAD: &str = "# k2sim output manifest 1: the files each command last wrote here";

/// The entries of a manifest's text: (command, file name), skipping lines that are not one
/// and names that are not a plain file name of `dir`; nothing unless the text starts with
/// [`MANIFEST_HEAD`] (a file of that name that k2sim did not write).
fn manifest_entries(text: &str) -> Vec<(String, String)> {
    let mut lines = text.lines();
    if lines.next() != Some(MANIFEST_HEAD) {
        return Vec::new();
    }
    lines
        .filter_map(|l| l.split_once(' '))
        .filter(|(c, n)| !c.is_empty() && plain_name(n))
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect()
}

/// A file name that stays in its directory: no separator, no `..`, not hidden (so neither the
/// manifest nor a staging directory).
fn plain_name(n: &str) -> bool {
    !n.is_empty() && !n.starts_with('.') && !n.contains(['/', '\\', '\0'])
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Write {
        path: path.clone(),
        source,
    }
}

/// Writes and syncs every file into a staging directory inside `dir` (created if needed),
/// after removing staging directories that killed runs left there; a file `moved` names is
/// renamed in from where it is instead (a [`Spill`] of `dir`). On failure (a full disk,
/// permissions) the staging directory is removed and `dir` is as it was.
fn stage(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    moved: &[(String, PathBuf)],
) -> Result<Staged, Error> {
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    remove_stale_staging(dir);
    let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(write_err(&staging))?;
    }
    std::fs::create_dir(&staging).map_err(write_err(dir))?;
    let staged = Staged {
        dir: dir.to_path_buf(),
        staging,
        names: files.iter().map(|(n, _)| n.clone()).collect(),
        stale: Vec::new(),
        manifest: false,
    };
    for (name, bytes) in files {
        let err = write_err(&dir.join(name));
        let to = staged.staging.join(name);
        if let Some((_, from)) = moved.iter().find(|(n, _)| n == name) {
            std::fs::rename(from, &to).map_err(&err)?;
            std::fs::File::open(&to)
                .and_then(|f| f.sync_all())
                .map_err(&err)?;
            continue;
        }
        let mut f = std::fs::File::create(to).map_err(&err)?;
        f.write_all(bytes).map_err(&err)?;
        f.sync_all().map_err(&err)?;
    }
    Ok(staged)
}

impl Staged {
    /// Makes the set `command`'s: stages the new manifest (the other commands' entries kept,
    /// less the names this set now writes) and notes which files of `command`'s previous set
    /// to remove at commit.
    fn track(&mut self, command: &str) -> Result<(), Error> {
        let old = std::fs::read_to_string(self.dir.join(MANIFEST)).unwrap_or_default();
        let new_names: std::collections::HashSet<&str> =
            self.names.iter().map(String::as_str).collect();
        let entries = manifest_entries(&old);
        let kept: Vec<&(String, String)> = entries
            .iter()
            .filter(|(c, n)| c != command && !new_names.contains(n.as_str()))
            .collect();
        self.stale = entries
            .iter()
            .filter(|(c, n)| {
                c == command && !new_names.contains(n.as_str()) && !kept.iter().any(|(_, k)| k == n)
            })
            .map(|(_, n)| n.clone())
            .collect();
        let mut text = format!("{MANIFEST_HEAD}\n");
        for (c, n) in kept {
            text.push_str(&format!("{c} {n}\n"));
        }
        for n in self.names.iter().filter(|n| plain_name(n)) {
            text.push_str(&format!("{command} {n}\n"));
        }
        let path = self.staging.join(MANIFEST);
        let err = write_err(&self.dir.join(MANIFEST));
        let mut f = std::fs::File::create(&path).map_err(&err)?;
        f.write_all(text.as_bytes()).map_err(&err)?;
        f.sync_all().map_err(&err)?;
        self.manifest = true;
        Ok(())
    }

    /// Renames every staged file over its old version (renames within one directory are atomic
    /// and take microseconds) and removes the staging directory.
    pub fn commit(self) -> Result<Vec<PathBuf>, Error> {
        let mut written = Vec::with_capacity(self.names.len());
        for name in &self.names {
            let to = self.dir.join(name);
            std::fs::rename(self.staging.join(name), &to).map_err(write_err(&to))?;
            written.push(to);
        }
        // The new set is in place: remove what only the previous set had (regular files only),
        // then put the new manifest in place. Killed in between, the old manifest still lists
        // what is left, and the next run removes it.
        for name in &self.stale {
            let p = self.dir.join(name);
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
                let _ = std::fs::remove_file(&p);
            }
        }
        if self.manifest {
            let to = self.dir.join(MANIFEST);
            std::fs::rename(self.staging.join(MANIFEST), &to).map_err(write_err(&to))?;
        }
        // Make the renames durable; not every platform can open a directory for syncing.
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(written)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

/// Removes staging directories in `dir` left by runs that no longer exist (killed before they
/// could clean up). Where process liveness cannot be checked (no `/proc`), every other
/// process's staging directory is taken as stale.
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id().to_string();
    let proc_fs = Path::new("/proc/self").exists();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else {
            continue;
        };
        // `<pid>` (a staging directory) or `<pid>-spill` (a [`Spill`]).
        let pid = rest.split('-').next().unwrap_or(rest);
        let alive = proc_fs && Path::new("/proc").join(pid).exists();
        if pid != me && !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_replaces_the_old_set_and_cleans_up_after_killed_runs() {
        let dir = tempfile::tempdir().unwrap();
        let set = |tag: &str| -> Vec<(String, Vec<u8>)> {
            ["a.csv", "b.json"]
                .iter()
                .map(|n| (n.to_string(), format!("{tag} {n}").into_bytes()))
                .collect()
        };
        write_set(dir.path(), &set("old")).unwrap();
        // A staging directory of a process that no longer exists (pid beyond the kernel's
        // maximum), as a SIGKILL during writing leaves it.
        let stale = dir.path().join(format!("{STAGING_PREFIX}4294967295"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("a.csv"), "partial").unwrap();
        let written = write_set(dir.path(), &set("new")).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(
            std::fs::read(dir.path().join("a.csv")).unwrap(),
            b"new a.csv"
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_failed_set_leaves_the_old_files_and_no_staging() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), &[("a.csv".into(), b"old".to_vec())]).unwrap();
        // A file name that cannot be created fails the staging step after one good file.
        let bad = vec![
            ("a.csv".to_string(), b"new".to_vec()),
            ("no/such/dir.csv".to_string(), b"x".to_vec()),
        ];
        assert!(write_set(dir.path(), &bad).is_err());
        assert_eq!(std::fs::read(dir.path().join("a.csv")).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_one_file_set_replaces_and_leaves_no_temp_file() {
        // The one writer also serves single files (fit, validate and shard outputs): it was a
        // separate `write_atomic` before, which a mutation run showed could write in place
        // unnoticed; the set writer's staging is what this test pins.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        let one = |bytes: &[u8]| write_set(dir.path(), &[("a.txt".into(), bytes.to_vec())]);
        one(b"one").unwrap();
        one(b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A directory that cannot be created (its parent is a file) fails cleanly.
        let blocked = dir.path().join("a.txt").join("sub");
        assert!(write_set(&blocked, &[("a.txt".into(), b"x".to_vec())]).is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
    }

    #[test]
    fn a_spilled_file_joins_the_set_by_a_rename_and_the_spill_goes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A dead process's spill directory is removed; this process's is kept while in use.
        let dead = d.join(format!("{STAGING_PREFIX}4294967295-spill"));
        std::fs::create_dir(&dead).unwrap();
        let spill = Spill::new(d).unwrap();
        assert!(!dead.exists());
        let big = spill.path("big.csv");
        std::fs::write(&big, "spilled").unwrap();
        let ino = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        let spilled_ino = ino(&big);
        let files = vec![
            ("a.txt".to_string(), b"a".to_vec()),
            ("big.csv".to_string(), Vec::new()),
        ];
        let moved = vec![("big.csv".to_string(), big.clone())];
        let written = replace_set_moving(d, "run", &files, &moved).unwrap();
        assert_eq!(written, vec![d.join("a.txt"), d.join("big.csv")]);
        // The spilled bytes, not the placeholder, and the very file (renamed, not copied).
        assert_eq!(std::fs::read(d.join("big.csv")).unwrap(), b"spilled");
        assert_eq!(ino(&d.join("big.csv")), spilled_ino);
        let manifest = std::fs::read_to_string(d.join(MANIFEST)).unwrap();
        assert!(manifest.contains("run big.csv\n"), "{manifest}");
        drop(spill);
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [MANIFEST, "a.txt", "big.csv"]);
    }
}
