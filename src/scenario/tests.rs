use super::document::default_step_h;
use super::*;
use crate::dosing::DoseEvent;

const ISSUE_EXAMPLE: &str = r#"
name = "MK-7 180 µg once daily"
duration_h = 672          # also accept duration = "28 d"
step_h = 0.5              # output grid

[[regimen]]
label = "MK-7 180 µg daily"
compound = "mk7"
dose_ug = 180             # also accept dose = "180 µg" / "15 mg"
interval_h = 24
doses = 28                # number of doses; or until_h
start_h = 8               # time of the first dose

[[regimen]]
label = "MK-4 3 × 15 mg daily"
compound = "mk4"
dose_ug = 15000
times_h = [8, 13, 19]     # daily clock times (split doses); repeats every 24 h
days = 28

[regimen.params]          # overrides of the preset, per regimen
half_life_h = 7

[[regimen]]
label = "custom schedule"
compound = "mk7"
[[regimen.dose]]           # explicit doses, any times and amounts
at_h = 0
dose_ug = 360
[[regimen.dose]]
at_h = 30.5
dose_ug = 180
"#;

fn parse(text: &str) -> Result<Scenario, InputError> {
    parse_str(text, "test")
}

fn error_text(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn the_issue_example_parses_as_written() {
    let s = parse(ISSUE_EXAMPLE).unwrap();
    assert_eq!(s.duration_h, 672.0);
    assert_eq!(s.step_h, 0.5);
    assert_eq!(s.regimens.len(), 3);
    let mk7 = &s.regimens[0];
    assert_eq!(mk7.schedule.dose_count(), 28);
    assert_eq!(mk7.schedule.events()[0].time_h, 8.0);
    let mk4 = &s.regimens[1];
    assert_eq!(mk4.schedule.dose_count(), 84);
    assert_eq!(mk4.sources.half_life_h.origin, "scenario");
    assert_eq!(mk4.sources.v_l.origin, "preset");
    let custom = &s.regimens[2];
    assert_eq!(custom.schedule.events()[1], DoseEvent::oral(30.5, 180.0));
    assert!(custom.schedule.periodic().is_none());
}

#[test]
fn quantities_with_units_are_accepted() {
    let s = parse("duration = \"28 d\"\n[[regimen]]\ncompound = \"mk4\"\ndose = \"15 mg\"\ninterval = \"8 h\"\nuntil_h = 24\n").unwrap();
    assert_eq!(s.duration_h, 672.0);
    let p = s.regimens[0].schedule.periodic().unwrap();
    assert_eq!(
        (p.period_h, p.periods, p.pattern[0].amount_ug),
        (8.0, 4, 15_000.0)
    );
    assert_eq!(s.regimens[0].label, "MK-4 15 mg every 8 h");
}

#[test]
fn misspelt_key_is_located_with_a_suggestion() {
    let msg = error_text("duration_h = 24\n[[regimen]]\ncompound = \"mk7\"\ndose_gu = 180\n");
    assert!(
        msg.starts_with("<scenario>:4:1: unknown key `dose_gu`; did you mean `dose_ug`?"),
        "{msg}"
    );
}

#[test]
fn both_half_life_and_ke_is_a_conflict() {
    let msg = error_text("duration_h = 24\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 1\n[regimen.params]\nhalf_life_h = 70\nke_per_h = 0.01\n");
    assert!(
        msg.contains(":7:12: key `ke_per_h` cannot be given together with `half_life_h`"),
        "{msg}"
    );
}

#[test]
fn impossible_values_are_refused_with_their_place() {
    let cases = [
        ("duration_h = 24\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = -5\n", ":4:11: key `dose_ug`: -5 is out of range"),
        ("duration_h = 24\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = nan\n", ":4:11: key `dose_ug`: NaN is out of range"),
        ("duration_h = 24\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 5\ninterval_h = 0\ndoses = 2\n", ":5:14: key `interval_h`: 0 is out of range"),
        ("duration_h = 24\nstep_h = 48\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 5\n", ":2:10: key `step_h`: 48 is out of range"),
        ("duration_h = 24\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 5\n[regimen.params]\nv_l = 0\n", ":6:7: key `v_l`: 0 is out of range"),
        ("duration_h = 24\n[[regimen]]\ncompound = \"mk77\"\ndose_ug = 5\n", "unknown name \"mk77\"; did you mean \"mk7\"?"),
        ("duration_h = 24\n[[regimen]]\ncompound = \"mk7\"\ndose = \"15 mgg\"\n", ":4:8: key `dose`: cannot read \"15 mgg\""),
        ("duration_h = 1e9\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 5\n", "key `duration_h`"),
        ("duration_h = 87600\nstep_h = 0.001\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 5\n", "over the limit of 10000000 rows"),
        ("duration_h = 24\n[[regimen]]\ncompound = \"mk7\"\n[[regimen.dose]]\nat_h = 5\ndose_ug = 1\n[[regimen.dose]]\nat_h = 2\ndose_ug = 1\n", ":8:8: key `at_h`: 2 is out of range\n  help: expected doses in time order"),
        ("duration_h = \"24\"\n", "key `duration_h`: invalid type"),
        ("", "missing key `regimen`"),
    ];
    for (text, want) in cases {
        let msg = error_text(text);
        assert!(
            msg.contains(want),
            "input:\n{text}\nwanted: {want}\ngot: {msg}"
        );
    }
}

#[test]
fn late_doses_give_a_warning() {
    let s = parse("duration_h = 48\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 5\n").unwrap();
    assert_eq!(s.warnings.len(), 1);
    assert!(s.warnings[0].contains("2 of 5 doses"), "{}", s.warnings[0]);
}

#[test]
fn default_step_is_round() {
    assert_eq!(default_step_h(672.0), 0.5);
    assert_eq!(default_step_h(24.0), 0.025);
    assert_eq!(default_step_h(8760.0), 6.0);
}

/// Each parameter's limits, at the edges the range message states (the peripheral flow has its
/// own: 1e-9 to 1e9 L/h; without it the two-compartment model would take any positive flow).
#[test]
fn two_compartment_flow_has_its_stated_limits() {
    let text = |q: &str| {
        format!("duration_h = 24\n[[regimen]]\ncompound = \"mk4\"\ndose_ug = 5\n[regimen.params]\nmodel = \"two_compartment\"\nq_l_per_h = {q}\nvp_l = 10\n")
    };
    assert!(parse(&text("1e9")).is_ok());
    let msg = error_text(&text("1e10"));
    assert!(
        msg.contains(":7:13: key `q_l_per_h`: 10000000000 is out of range"),
        "{msg}"
    );
    assert!(msg.contains("1e-9 to 1e9"), "{msg}");
}

/// The caret line of a syntax error keeps the tabs before the column (so the caret lines up
/// under them) and puts a space under every other character: here a tab and `k = ` before the
/// bad value's first character.
#[test]
fn the_caret_lines_up_under_tabs() {
    let text = "duration_h = 24\n\tk = x\n";
    let at = text.find('x').unwrap();
    let s = snippet(text, Some(at..at + 1));
    assert_eq!(s, "\n   |\n  2| \tk = x\n   | \t    ^");
}

/// A file of exactly the size limit is read; one byte more is refused with the limit named.
#[test]
fn a_file_of_exactly_the_size_limit_is_read() {
    let dir = std::env::temp_dir().join(format!("k2sim-read-regular-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ten.txt");
    std::fs::write(&path, b"0123456789").unwrap();
    assert_eq!(read_regular(&path, 10, "file").unwrap(), b"0123456789");
    let err = read_regular(&path, 9, "file").unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(err.contains("the limit for it"), "{err}");
}
