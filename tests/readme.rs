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
