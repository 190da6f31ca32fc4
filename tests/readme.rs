//! Documentation that runs: the scenario snippets of the README and of the chapters in
//! `docs/` parse, the troubleshooting table matches `tests/fixtures/bad/`, and the README's test
//! command is the one CI runs.

use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

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
        }
    }
}

#[test]
fn readme_test_command_is_what_ci_runs() {
    let ci = read(".ci/run");
    assert!(ci.lines().any(|l| l.trim() == "cargo test"));
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
