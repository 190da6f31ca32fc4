//! The README's scenario snippets must parse: documentation that runs.

#[test]
fn toml_blocks_in_the_readme_are_valid_scenarios() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(!blocks.is_empty());
    for b in blocks {
        let s = k2sim::scenario::parse_str(b, "readme")
            .unwrap_or_else(|e| panic!("README snippet fails: {e}\n{b}"));
        assert!(!s.regimens.is_empty());
    }
}

#[test]
fn readme_test_command_is_what_ci_runs() {
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(ci.lines().any(|l| l.trim() == "cargo test"));
}

/// The README's troubleshooting table, made from `tests/fixtures/bad/`: one row per refused
/// input with its message and its fix. `UPDATE_README=1 cargo test --test readme` rewrites it.
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
fn readme_troubleshooting_table_matches_the_fixtures() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (start, end) = (
        "<!-- troubleshooting:start -->\n",
        "<!-- troubleshooting:end -->",
    );
    let a = readme
        .find(start)
        .expect("README has no troubleshooting table")
        + start.len();
    let b = readme.find(end).unwrap();
    let table = troubleshooting_table();
    if std::env::var("UPDATE_README").is_ok() {
        std::fs::write(path, format!("{}{table}{}", &readme[..a], &readme[b..])).unwrap();
        return;
    }
    assert_eq!(
        &readme[a..b],
        table,
        "README troubleshooting table is out of date: run UPDATE_README=1 cargo test --test readme"
    );
}
