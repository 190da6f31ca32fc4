//! Documentation that runs: the README and the chapters in `docs/`. Their scenario snippets
//! parse, their relative links resolve, the README's first run is the real output, the
//! troubleshooting table matches `tests/fixtures/bad/`, the README stays a front page, and its
//! test command is the one CI runs.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Longest the README may grow: a front page, with the rest in `docs/`.
const README_MAX_LINES: usize = 400;

/// Scenario snippets that must stay in the documentation, by file and `name`: the ones the
/// README carried before it was split into chapters, and those added since. A snippet that is
/// moved must be moved here too; one that disappears fails the test.
const SNIPPETS: [(&str, &str); 14] = [
    ("README.md", "MK-7 180 µg once daily"),
    ("docs/scenarios.md", "MK-7 180 µg once daily"),
    ("docs/scenarios.md", "Schedule strings"),
    ("docs/scenarios.md", "Foods, weekdays and skipped days"),
    ("docs/studies.md", "sweep example"),
    ("docs/studies.md", "population example"),
    ("docs/studies.md", "uncertainty example"),
    ("docs/response.md", "response example"),
    ("docs/validation.md", "MK-7 single dose, synthetic samples"),
    (
        "docs/validation.md",
        "Morishita 1981: MK-4 30 mg oral syrup",
    ),
    ("docs/model.md", "MK-4, two compartments"),
    ("docs/model.md", "MK-4, saturable absorption"),
    ("docs/nca.md", "MK-4 15 mg once, partial AUCs"),
    ("docs/scenarios.md", "MK-4 10 mg IV over 2 h"),
];

/// `README.md` and every `docs/*.md`, as paths relative to the repository. Subdirectories of
/// `docs/` (research notes) are not documentation of the program and are left out.
fn documents() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md"))
        .map(|p| format!("docs/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    docs.sort();
    docs.insert(0, "README.md".into());
    docs
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel))
        .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// A fenced code block: its info string (`toml`, `sh`, …), the line of its opening fence
/// (1-based) and its text.
struct Block {
    lang: String,
    line: usize,
    text: String,
}

/// The fenced blocks of a Markdown text and the lines outside them (with their numbers).
fn split_fences(md: &str) -> (Vec<Block>, Vec<(usize, &str)>) {
    let (mut blocks, mut prose) = (Vec::new(), Vec::new());
    let mut open: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block {
                    lang: info.trim().to_string(),
                    line: i + 1,
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some(b), None) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => prose.push((i + 1, line)),
        }
    }
    assert!(open.is_none(), "unclosed code fence");
    (blocks, prose)
}

#[test]
fn toml_blocks_in_the_readme_and_docs_are_valid_scenarios() {
    let mut found: HashSet<(String, String)> = HashSet::new();
    for doc in documents() {
        let (blocks, _) = split_fences(&read(&doc));
        for b in blocks.iter().filter(|b| b.lang == "toml") {
            let s = k2sim::scenario::parse_str(&b.text, "snippet").unwrap_or_else(|e| {
                panic!(
                    "{doc}: the toml block at line {} is not a valid scenario: {e}\n{}",
                    b.line, b.text
                )
            });
            assert!(
                !s.regimens.is_empty(),
                "{doc}:{}: snippet without regimens",
                b.line
            );
            found.insert((doc.clone(), s.name));
        }
    }
    for (doc, name) in SNIPPETS {
        assert!(
            found.contains(&(doc.to_string(), name.to_string())),
            "{doc} has no toml block named {name:?}: a documented snippet was lost or renamed \
             (if it moved, update SNIPPETS in tests/readme.rs)"
        );
    }
}

#[test]
fn readme_test_command_is_what_ci_runs() {
    let ci = read(".ci/run");
    let (blocks, _) = split_fences(&read("README.md"));
    let sh = blocks
        .iter()
        .find(|b| b.lang == "sh")
        .expect("README has no sh block");
    let commands: Vec<&str> = sh
        .text
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        commands,
        [
            "cargo run --release -- run scenarios/mk7_daily.toml",
            "cargo test"
        ],
        "the README's two commands changed"
    );
    for c in commands {
        assert!(
            ci.lines().any(|l| l.trim() == c),
            ".ci/run does not run the README's `{c}`"
        );
    }
}

#[test]
fn readme_is_a_front_page() {
    let n = read("README.md").lines().count();
    assert!(
        n <= README_MAX_LINES,
        "README.md has {n} lines, over {README_MAX_LINES}: move detail into a chapter in docs/"
    );
}

/// The README's first run is what `cargo run --release -- run scenarios/mk7_daily.toml`
/// prints, except the wall time and memory of the last line.
#[test]
fn readme_first_run_is_the_real_output() {
    let (blocks, _) = split_fences(&read("README.md"));
    let cmd = "$ cargo run --release -- run scenarios/mk7_daily.toml";
    let shown = blocks
        .iter()
        .find(|b| b.lang == "text" && b.text.starts_with(cmd))
        .expect("README has no first run (a text block starting with the main job)");
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("k2sim")
        .unwrap()
        .current_dir(dir.path())
        .args(["run", &format!("{ROOT}/scenarios/mk7_daily.toml")])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let comparable = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("done in ") && !l.starts_with("$ "))
            .map(|l| l.trim_end().to_string())
            .collect()
    };
    assert_eq!(
        comparable(&shown.text),
        comparable(&stdout),
        "README's first run is out of date: paste the output of `{}`",
        &cmd[2..]
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("done in "), "last line changed: {last}");
}

/// An error shown in the documentation (a text block starting with `error:
/// tests/fixtures/bad/NAME.toml`) is the start of that fixture's exact message.
#[test]
fn error_examples_are_the_real_messages() {
    let mut seen = 0;
    for doc in documents() {
        let (blocks, _) = split_fences(&read(&doc));
        for b in blocks.iter().filter(|b| b.lang == "text") {
            let Some(rest) = b.text.strip_prefix("error: tests/fixtures/bad/") else {
                continue;
            };
            let name = rest.split(".toml").next().unwrap();
            let stderr = read(&format!("tests/fixtures/bad/{name}.stderr"));
            assert!(
                stderr.starts_with(&b.text),
                "{doc}:{}: the error shown is not what {name}.toml gets:\n{}\nexpected the start of:\n{stderr}",
                b.line,
                b.text
            );
            seen += 1;
        }
    }
    assert!(
        seen >= 2,
        "expected error examples in README.md and docs/scenarios.md"
    );
}

/// GitHub's anchor for a heading: lower case, letters, digits, `-` and `_` kept, spaces made
/// `-`, everything else dropped; inline code and link syntax contribute their text.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file: heading slugs (repeats get `-1`, `-2`, …) and explicit
/// `<a id="…">` targets.
fn anchors(md: &str) -> HashSet<String> {
    let (_, prose) = split_fences(md);
    let mut out = HashSet::new();
    for (_, line) in prose {
        if let Some(h) = line.strip_prefix('#') {
            let text = h.trim_start_matches('#');
            if text.starts_with(' ') {
                let base = slug(&strip_link_syntax(text));
                let mut s = base.clone();
                let mut k = 1;
                while !out.insert(s.clone()) {
                    s = format!("{base}-{k}");
                    k += 1;
                }
            }
        }
        let mut rest = line;
        while let Some(i) = rest.find("id=\"") {
            rest = &rest[i + 4..];
            if let Some(j) = rest.find('"') {
                out.insert(rest[..j].to_string());
                rest = &rest[j..];
            }
        }
    }
    out
}

/// `[text](target)` → `text`, for heading slugs.
fn strip_link_syntax(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("](") {
        out.push_str(&rest[..i].replace('[', ""));
        let after = &rest[i + 2..];
        rest = after.find(')').map_or("", |j| &after[j + 1..]);
    }
    out.push_str(&rest.replace('[', ""));
    out
}

/// Targets of the Markdown links and images of a line, outside inline code.
fn link_targets(line: &str) -> Vec<String> {
    let mut prose = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            prose.push_str(part);
        }
    }
    let mut targets = Vec::new();
    let mut rest = prose.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let end = rest.find([')', ' ']).unwrap_or(rest.len());
        targets.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    targets
}

#[test]
fn relative_links_in_the_readme_and_docs_resolve() {
    let mut broken = Vec::new();
    for doc in documents() {
        let text = read(&doc);
        let (_, prose) = split_fences(&text);
        let dir = Path::new(&doc).parent().unwrap().to_path_buf();
        for (n, line) in prose {
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target.as_str(), None),
                };
                let rel: PathBuf = if file.is_empty() {
                    PathBuf::from(&doc)
                } else {
                    dir.join(file)
                };
                let path = Path::new(ROOT).join(&rel);
                if !path.exists() {
                    broken.push(format!("{doc}:{n}: {target} (no file {})", rel.display()));
                    continue;
                }
                if let Some(a) = anchor {
                    if path.extension().is_some_and(|x| x == "md") {
                        let md = std::fs::read_to_string(&path).unwrap();
                        if !anchors(&md).contains(a) {
                            broken.push(format!("{doc}:{n}: {target} (no anchor #{a})"));
                        }
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The troubleshooting table, made from `tests/fixtures/bad/`: one row per refused input with
/// its message and its fix. `UPDATE_README=1 cargo test --test readme` rewrites it in
/// `docs/troubleshooting.md`.
fn troubleshooting_table() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bad");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".stderr"))
        .collect();
    names.sort();
    let cell = |s: &str| s.trim().replace('|', "\\|");
    let mut out =
        String::from("| input (`tests/fixtures/bad/`) | message | fix |\n|---|---|---|\n");
    for n in names {
        let stderr = std::fs::read_to_string(format!("{dir}/{n}")).unwrap();
        let mut lines = stderr.lines();
        let first = lines.next().unwrap_or_default();
        // Drop "error: path:line:col: ".
        let message = first
            .split_once(".toml")
            .map_or(first, |(_, rest)| {
                rest.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit())
            })
            .trim();
        let help: Vec<&str> = lines
            .filter_map(|l| l.trim().strip_prefix("help: "))
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            n.trim_end_matches(".stderr"),
            cell(message),
            cell(&help.join(" "))
        ));
    }
    out
}

#[test]
fn troubleshooting_table_matches_the_fixtures() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/troubleshooting.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let (start, end) = (
        "<!-- troubleshooting:start -->\n",
        "<!-- troubleshooting:end -->",
    );
    let a = doc
        .find(start)
        .expect("docs/troubleshooting.md has no troubleshooting table")
        + start.len();
    let b = doc.find(end).unwrap();
    let table = troubleshooting_table();
    if std::env::var("UPDATE_README").is_ok() {
        std::fs::write(path, format!("{}{table}{}", &doc[..a], &doc[b..])).unwrap();
        return;
    }
    assert_eq!(
        &doc[a..b],
        table,
        "docs/troubleshooting.md is out of date: run UPDATE_README=1 cargo test --test readme"
    );
}
