//! The layering of `src/`, checked: each layer imports only layers below it, so there is no
//! import cycle between modules and a new concept has one home. The table below is the
//! architecture (see `docs/architecture.md`); a change that needs an upward import must either
//! move code to the right layer or add it to [`ALLOWED_UPWARD`] with its reason.
//!
//! Also checked: the presentation layer (`report/`) never builds a propagator or runs a
//! simulation, and no source file is over [`MAX_LINES`] lines without a reason at its top.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every top-level module of `src/` and its floor. A module may import modules of lower
/// floors only. Modules on one floor may not import each other (that is how cycles hide).
const LAYERS: &[(&str, u32)] = &[
    // Ground floor: vocabulary and leaf utilities. `plot` draws figures from its own types and
    // imports nothing from the crate.
    ("plot", 0),
    ("units", 0),
    ("format", 0),
    ("dosing", 0),
    ("metric", 0),
    // Non-compartmental analysis: pure functions on (time, concentration) samples.
    ("nca", 0),
    ("error", 1),
    ("compound", 1),
    ("foods", 2),
    ("meal_fat", 2),
    // Carboxylation-marker models: cited presets and turnover solutions on concentrations.
    ("response", 2),
    ("model", 3),
    ("scenario", 4),
    ("engine", 5),
    ("study", 6),
    ("report", 7),
    ("cli", 8),
    ("main", 9),
];

/// Upward imports that are allowed, as (importing module, imported module, reason). Empty: the
/// layout has none.
const ALLOWED_UPWARD: &[(&str, &str, &str)] = &[];

/// Longest source file without a reason (a `//! Long file:` line near its top).
const MAX_LINES: usize = 800;

/// Words that mean building a propagator or simulating, which presentation never does.
const SIMULATING: &[&str] = &[
    "Propagator",
    "simulate(",
    "simulate_from(",
    "engine::run::run(",
    "run::run(",
    "steady_profiles(",
    "sweep_curves(",
    "run_sweep(",
    "simulate_population(",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to: `src/engine/run.rs` -> `engine`, `src/units.rs` ->
/// `units`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a file without comments (line comments, doc comments; block comments are not
/// used in `src/`) and, when `code_only`, without its `#[cfg(test)]` part.
fn code(text: &str, code_only: bool) -> String {
    let text = if code_only {
        text.split("#[cfg(test)]").next().unwrap_or_default()
    } else {
        text
    };
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") {
                ""
            } else {
                // A trailing comment; "//" inside a string literal is rare enough here.
                l.split(" // ").next().unwrap_or(l)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate modules a piece of code names: `crate::x`, `k2sim::x` and the members of
/// `use crate::{x, y::z}` groups.
fn imported_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for root in ["crate::", "k2sim::"] {
        let mut rest = code;
        while let Some(i) = rest.find(root) {
            // Not part of a longer identifier (e.g. `my_crate::`).
            let before = rest[..i].chars().next_back();
            rest = &rest[i + root.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = matching_brace(group);
                for item in split_top(&group[..end]) {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != "self" {
                        out.push(name);
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        }
    }
    out
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    s.len()
}

fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Every layering violation in `files` (path, source text): "file: module imports module".
fn violations(files: &[(PathBuf, String)]) -> Vec<String> {
    let floor: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut out = Vec::new();
    for (path, text) in files {
        let from = module_of(path);
        if from == "lib" {
            continue;
        }
        let Some(&f) = floor.get(from.as_str()) else {
            out.push(format!(
                "{}: module `{from}` is not in LAYERS",
                path.display()
            ));
            continue;
        };
        let mut seen = Vec::new();
        for to in imported_modules(&code(text, false)) {
            if to == from || seen.contains(&to) {
                continue;
            }
            seen.push(to.clone());
            let Some(&t) = floor.get(to.as_str()) else {
                out.push(format!(
                    "{}: imports `{to}`, which is not in LAYERS",
                    path.display()
                ));
                continue;
            };
            let allowed = ALLOWED_UPWARD
                .iter()
                .any(|(a, b, _)| *a == from && *b == to);
            if t >= f && !allowed {
                out.push(format!(
                    "{}: `{from}` (floor {f}) imports `{to}` (floor {t})",
                    path.display()
                ));
            }
        }
    }
    out
}

fn sources() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

#[test]
fn every_layer_imports_only_layers_below_it() {
    let v = violations(&sources());
    assert!(v.is_empty(), "layering violations:\n{}", v.join("\n"));
}

#[test]
fn every_module_of_src_has_a_floor() {
    let floor: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    for (path, _) in sources() {
        let m = module_of(&path);
        assert!(
            m == "lib" || floor.contains_key(m.as_str()),
            "{}: add module `{m}` to LAYERS",
            path.display()
        );
    }
}

#[test]
fn the_checker_catches_an_upward_import_and_a_cycle() {
    // The test can fail: a model file that imports the engine, and two ground-floor modules
    // that import each other, are both reported.
    let files = vec![
        (
            src().join("model/x.rs"),
            "use crate::engine::run::run;\nfn f() {}".to_string(),
        ),
        (
            src().join("units.rs"),
            "use crate::{dosing::Schedule, format};".to_string(),
        ),
        (
            src().join("dosing.rs"),
            "pub fn f() -> crate::units::ConcUnit { todo!() }".to_string(),
        ),
        // Comments do not count.
        (
            src().join("compound.rs"),
            "/// See [`crate::engine`].\n// crate::report\nfn g() {}".to_string(),
        ),
    ];
    let v = violations(&files);
    assert_eq!(v.len(), 4, "{v:#?}");
    assert!(v[0].contains("`model` (floor 3) imports `engine` (floor 5)"));
    assert!(v
        .iter()
        .any(|l| l.contains("`units` (floor 0) imports `dosing`")));
    assert!(v
        .iter()
        .any(|l| l.contains("`units` (floor 0) imports `format`")));
    assert!(v
        .iter()
        .any(|l| l.contains("`dosing` (floor 0) imports `units`")));
}

#[test]
fn presentation_never_simulates() {
    for (path, text) in sources() {
        if module_of(&path) != "report" {
            continue;
        }
        let code = code(&text, true);
        for word in SIMULATING {
            assert!(
                !code.contains(word),
                "{}: presentation code uses `{word}`; compute it in engine/ or study/ and pass the result in",
                path.display()
            );
        }
    }
}

#[test]
fn no_source_file_is_long_without_a_reason() {
    for (path, text) in sources() {
        let lines = text.lines().count();
        let reason = text
            .lines()
            .take(30)
            .any(|l| l.starts_with("//! Long file:"));
        assert!(
            lines <= MAX_LINES || reason,
            "{}: {lines} lines; split it by job, or say why it is one file in a `//! Long file:` line at its top",
            path.display()
        );
    }
}

#[test]
fn the_library_never_prints() {
    // Terminal output belongs to the binary (src/cli/, src/main.rs).
    for (path, text) in sources() {
        if matches!(module_of(&path).as_str(), "cli" | "main") {
            continue;
        }
        let code = code(&text, true);
        for word in ["println!", "eprintln!", "print!(", "eprint!("] {
            assert!(
                !code.contains(word),
                "{}: library code uses `{word}`",
                path.display()
            );
        }
    }
}
