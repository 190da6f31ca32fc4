//! Generated input: arbitrary bytes, random documents built from the schema's keys with random
//! values of random types, and mutations of the shipped scenarios. None may panic; each is either
//! refused with an [`InputError`] or runs to a result whose concentrations and metrics are finite
//! and non-negative, whose outputs contain no NaN or infinity, and whose mass balance holds.
//!
//! 48 cases per property by default (CI, debug build); set `PROPTEST_CASES` for a long search:
//! `PROPTEST_CASES=200000 cargo test --release --test robustness`.

use k2sim::engine::run::RunResult;
use k2sim::error::{InputError, SimError};
use k2sim::model::SolverKind;
use k2sim::scenario::{self, Scenario};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// Largest run (output rows) the exact solver is asked to do here: bigger valid scenarios are
/// only validated, to keep a debug-build test run short.
const MAX_ROWS_TO_RUN: u64 = 50_000;

fn rows(s: &Scenario) -> u64 {
    let points = (s.duration_h / s.step_h) as u64 + 2;
    s.regimens
        .iter()
        .map(|r| points + 2 * r.schedule.dose_count() as u64)
        .sum()
}

/// The ODE path is stability-limited at about 3.3/max(ka, ke) h per step: only ask it for runs
/// of a bounded number of steps.
fn ode_is_cheap(s: &Scenario) -> bool {
    rows(s) <= 5_000
        && s.regimens.iter().all(|r| {
            let k = r.model.fastest_rate_per_h();
            k * s.duration_h <= 2e4 && r.schedule.dose_count() <= 500
        })
}

fn check_result(s: &Scenario, r: &RunResult) -> Result<(), TestCaseError> {
    for reg in &r.regimens {
        let tr = &reg.trajectory;
        prop_assert!(
            tr.conc_ng_ml.iter().all(|c| c.is_finite() && *c >= 0.0),
            "{}: a concentration is negative or not finite",
            reg.regimen.label
        );
        let m = &reg.metrics;
        for (name, x) in [
            ("cmax", Some(m.cmax_ng_ml)),
            ("tmax", Some(m.tmax_h)),
            ("auc", Some(m.auc_0_t_ng_h_ml)),
            ("cmax_ss", m.cmax_ss_ng_ml),
            ("cmin_ss", m.cmin_ss_ng_ml),
            ("cavg_ss", m.cavg_ss_ng_ml),
            ("auc_tau_ss", m.auc_tau_ss_ng_h_ml),
            ("accumulation", m.accumulation_ratio),
            ("fluctuation", m.fluctuation_pct),
            ("t90", m.t_90ss_h),
            ("last_trough_pct", m.last_trough_pct_of_ss),
        ] {
            if let Some(x) = x {
                prop_assert!(x.is_finite() && x >= -1e-9, "{name} = {x}");
            }
        }
        let b = &reg.mass_balance;
        // What was in the body at a steady-state start, plus what entered, is in the body at
        // the end or eliminated.
        let body = b.gut_ug + b.central_ug + b.peripheral_ug.unwrap_or(0.0) + b.eliminated_ug;
        let input = b.absorbed_input_ug + b.initial_body_ug.unwrap_or(0.0);
        prop_assert!(
            (body - input).abs() <= 1e-9 * input,
            "{}: mass balance {body} vs {input} ({} entered)",
            reg.regimen.label,
            b.absorbed_input_ug
        );
    }
    // The writers print only finite numbers: every number of the CSV parses as finite, and
    // the JSON (where serde_json writes NaN as null) has null only for absent steady states.
    let csv = k2sim::report::tables::timeseries_csv(r).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    for row in reader.records() {
        let row = row.unwrap();
        for field in row.iter().skip(1) {
            prop_assert!(
                field.parse::<f64>().is_ok_and(f64::is_finite),
                "CSV field {field:?}"
            );
        }
    }
    let json: serde_json::Value =
        serde_json::from_slice(&k2sim::report::tables::summary_json(s, r, None).unwrap()).unwrap();
    check_no_null(&json, "")?;
    Ok(())
}

fn check_no_null(v: &serde_json::Value, key: &str) -> Result<(), TestCaseError> {
    const MAY_BE_NULL: &[&str] = &[
        "tau_h",
        "cmax_ss_ng_ml",
        "tmax_ss_h",
        "cmin_ss_ng_ml",
        "cavg_ss_ng_ml",
        "auc_tau_ss_ng_h_ml",
        "accumulation_ratio",
        "fluctuation_pct",
        "t_90ss_h",
        "steady_state_reached",
        "last_trough_pct_of_ss",
        "evidence",
        // A food dose given by weight has no serving count (and the reverse).
        "servings",
        // Saturable absorption has no first-order ka.
        "ka_per_h",
        // The `nca` object: a value the grid cannot give is null, and `nca.missing` says why
        // (no λz without three points after Tmax, no dosing interval with one dose, ...).
        "tlast_h",
        "lambda_z_per_h",
        "half_life_h",
        "r_squared",
        "adj_r_squared",
        "lambda_z_n_points",
        "lambda_z_time_first_h",
        "span_ratio",
        "aucinf_obs_ng_h_ml",
        "aumcinf_obs_ng_h2_ml",
        "mrt_last_h",
        "mrt_obs_h",
        "cl_f_l_per_h",
        "vz_f_l",
        "dosing_interval",
        "swing_pct",
        "auc_ng_h_ml",
        // A marker's time to half its steady-state change: none without a steady state or
        // when the run ends first (engine::response).
        "t_50pct_effect_h",
        // A marker's period-mean change at steady state: none without a steady state
        // (engine::response::MarkerCourse).
        "pct_change_ss",
    ];
    match v {
        serde_json::Value::Null => {
            prop_assert!(MAY_BE_NULL.contains(&key), "summary.json: `{key}` is null")
        }
        serde_json::Value::Array(a) => {
            for x in a {
                check_no_null(x, key)?;
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                check_no_null(x, k)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Parses `text`; if it is valid and small enough, runs it with both solvers and checks the
/// results. An ODE failure must be the typed `OdeFailed`, never a panic or a wrong number.
fn exercise(text: &str) -> Result<Option<Scenario>, TestCaseError> {
    // With `K2SIM_ROBUSTNESS_LAST=FILE`, each input is written to FILE before it is tried, so
    // a batch the kernel kills (out of memory: no panic, no shrinking) leaves its input behind.
    if let Some(path) = std::env::var_os("K2SIM_ROBUSTNESS_LAST") {
        let _ = std::fs::write(path, text);
    }
    let s = match scenario::parse_str(text, "generated") {
        Ok(s) => s,
        Err(e) => {
            check_input_error(&e)?;
            tally("refused-located");
            return Ok(None);
        }
    };
    prop_assert!(!s.regimens.is_empty());
    prop_assert!(rows(&s) <= scenario::MAX_OUTPUT_ROWS);
    if rows(&s) > MAX_ROWS_TO_RUN {
        tally("valid-not-run");
        return Ok(Some(s));
    }
    // Saturable absorption is integrated by Dopri5 even under the exact solver: only run it
    // when that is cheap, and accept the typed failures of the numerical path.
    let nonlinear = s.regimens.iter().any(|r| !r.model.is_linear());
    if nonlinear && !ode_is_cheap(&s) {
        tally("valid-not-run");
        return Ok(Some(s));
    }
    let exact = k2sim::engine::run::run(&s, SolverKind::Exact);
    match &exact {
        Ok(r) => {
            check_result(&s, r)?;
            tally("ran-exact");
        }
        Err(SimError::OdeFailed { .. } | SimError::SteadyState { .. }) if nonlinear => {
            tally("typed-failure");
        }
        Err(e) => prop_assert!(false, "the exact solver failed: {e}"),
    }
    if ode_is_cheap(&s) {
        match k2sim::engine::run::run(&s, SolverKind::Ode) {
            Ok(r) => {
                check_result(&s, &r)?;
                tally("ran-ode");
            }
            Err(SimError::OdeFailed { .. }) => tally("typed-failure"),
            Err(SimError::SteadyState { .. }) if nonlinear => tally("typed-failure"),
            Err(e) => prop_assert!(false, "the ODE solver failed untyped: {e}"),
        }
    }
    Ok(Some(s))
}

/// With `K2SIM_ROBUSTNESS_TALLY=FILE`, appends what became of an input (`refused-located`,
/// `valid-not-run`, `ran-exact`, `ran-ode`, `typed-failure`) to FILE, one word a line, for the
/// counts of a long run (`tests/long_run.sh`). Without it, nothing.
fn tally(outcome: &str) {
    use std::io::Write as _;
    if let Some(path) = std::env::var_os("K2SIM_ROBUSTNESS_TALLY") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{outcome}");
        }
    }
}

fn check_input_error(e: &InputError) -> Result<(), TestCaseError> {
    let msg = e.to_string();
    prop_assert!(!msg.is_empty());
    // Every error from a document is located in it.
    prop_assert!(e.location.line.is_some(), "an error without a line: {msg}");
    Ok(())
}

// --- random documents from the schema ----------------------------------------------------------

/// A TOML value of a random type.
fn any_value() -> BoxedStrategy<String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        prop::sample::select(vec![
            "0",
            "-0",
            "1",
            "-1",
            "24",
            "28",
            "1e308",
            "-1e308",
            "1e-320",
            "nan",
            "inf",
            "-inf",
            "+nan",
            "0.5",
            "1e9",
            "9223372036854775807",
            "-9223372036854775808"
        ])
        .prop_map(str::to_string),
        (-40.0f64..40.0).prop_map(|e| format!("{:e}", e.exp())),
        any::<bool>().prop_map(|b| b.to_string()),
        quantity(),
        "[a-z0-9 µ._-]{0,12}".prop_map(|s| format!("{s:?}")),
        prop::collection::vec(-5.0f64..30.0, 0..5).prop_map(|v| format!("{v:?}")),
        Just("{}".to_string()),
        Just("[[1, 2], \"x\"]".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
    ]
    .boxed()
}

/// A quantity with a unit, sometimes a bad one.
fn quantity() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "0", "-1", "0.5", "1", "15", "180", "1e3", "1e9", "1e300", "nan", "inf", ".", "1e", "",
        ]),
        prop::sample::select(vec![
            "ng",
            "µg",
            "ug",
            "mcg",
            "mg",
            "g",
            "kg",
            "mgg",
            "min",
            "h",
            "d",
            "week",
            "years",
            "",
            "fortnights",
            " h",
            "µ",
        ]),
    )
        .prop_map(|(n, u)| format!("\"{n} {u}\""))
}

/// The `good` names, and when `noisy` a few `bad` ones among them.
fn names(noisy: bool, good: &[&'static str], bad: &[&'static str]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = good.repeat(3);
    if noisy {
        v.extend_from_slice(bad);
    }
    v
}

/// Mostly a well-typed value for `key`, sometimes anything.
fn value_for(key: &'static str, noisy: bool) -> BoxedStrategy<String> {
    let num = |lo: f64, hi: f64| -> BoxedStrategy<String> {
        // Log-uniform over [lo, hi], written as TOML floats.
        (lo.ln()..hi.ln())
            .prop_map(|x| format!("{:e}", x.exp()))
            .boxed()
    };
    let typed: BoxedStrategy<String> = match key {
        "name" | "label" | "description" | "title" => "[A-Za-z0-9 ./µ_-]{1,20}"
            .prop_map(|s| format!("{s:?}"))
            .boxed(),
        "compound" => {
            prop::sample::select(names(noisy, &["mk4", "mk7", "k1"], &["mk77", "MK7", ""]))
                .prop_map(|s| format!("{s:?}"))
                .boxed()
        }
        "solver" => prop::sample::select(names(noisy, &["exact", "ode"], &["rk4"]))
            .prop_map(|s| format!("{s:?}"))
            .boxed(),
        "y_scale" => prop::sample::select(names(noisy, &["linear", "log"], &["lin"]))
            .prop_map(|s| format!("{s:?}"))
            .boxed(),
        "units" => prop::sample::select(names(noisy, &["ng_ml", "nmol_l"], &["mg"]))
            .prop_map(|s| format!("{s:?}"))
            .boxed(),
        "width_px" | "height_px" => (0i64..12_000).prop_map(|i| i.to_string()).boxed(),
        "doses" | "days" => (-2i64..60).prop_map(|i| i.to_string()).boxed(),
        // A duration and a step that fits it: 1 to 20000 output points.
        "grid" => (0.0f64..11.5, 0.0f64..9.9)
            .prop_map(|(d, n)| {
                let (d, n) = (d.exp(), n.exp());
                format!("duration_h = {d:e}\nstep_h = {:e}\n", d / n)
            })
            .boxed(),
        "duration_h" => num(1e-2, 1e5),
        "step_h" => num(1e-3, 1e3),
        "interval_h" => num(1e-2, 1e3),
        "until_h" | "start_h" | "at_h" | "tlag_h" => num(1e-3, 1e3),
        "dose_ug" => num(1e-6, 1e10),
        "ka_per_h" | "ke_per_h" => num(1e-7, 1e7),
        "q_l_per_h" => num(1e-10, 1e10),
        "vp_l" => num(1e-7, 1e10),
        "vmax_ug_per_h" | "km_ug" => num(1e-10, 1e13),
        "model" => prop::sample::select(names(
            noisy,
            &["one_compartment", "two_compartment"],
            &["two"],
        ))
        .prop_map(|s| format!("{s:?}"))
        .boxed(),
        "absorption" => {
            prop::sample::select(names(noisy, &["first_order", "michaelis_menten"], &["mm"]))
                .prop_map(|s| format!("{s:?}"))
                .boxed()
        }
        "half_life_h" => num(1e-3, 1e6),
        "v_l" => num(1e-7, 1e10),
        "f" => num(1e-3, 2e3),
        "baseline_ng_ml" => num(1e-3, 1e3),
        "rtol" | "atol_rel_dose" => num(1e-20, 1.0),
        "times_h" => prop::collection::vec(0.0f64..25.0, 0..5)
            .prop_map(|mut v| {
                v.sort_by(f64::total_cmp);
                format!("{v:?}")
            })
            .boxed(),
        "dose" | "duration" | "step" | "interval" | "at" => quantity().boxed(),
        _ => any_value(),
    };
    if noisy {
        prop_oneof![20 => typed, 1 => any_value()].boxed()
    } else {
        typed
    }
}

/// `key = value` lines: each key of `likely` with probability 0.85 (always when not `noisy`),
/// and when `noisy` each of `rare` with 0.06 and sometimes a misspelt key.
fn table(
    likely: &'static [&'static str],
    rare: &'static [&'static str],
    noisy: bool,
) -> BoxedStrategy<String> {
    let entry = |k: &'static str, p: f64| {
        prop::option::weighted(
            p,
            value_for(k, noisy).prop_map(move |v| {
                if k == "grid" {
                    v
                } else {
                    format!("{k} = {v}\n")
                }
            }),
        )
        .boxed()
    };
    let (p_likely, p_rare, p_typo) = if noisy {
        (0.85, 0.06, 0.04)
    } else {
        (0.999, 0.001, 0.001)
    };
    let entries: Vec<BoxedStrategy<Option<String>>> = likely
        .iter()
        .map(|&k| entry(k, p_likely))
        .chain(rare.iter().map(|&k| entry(k, p_rare)))
        .collect();
    (entries, prop::option::weighted(p_typo, "[a-z_]{1,10}"))
        .prop_map(|(lines, typo)| {
            let mut s: String = lines.into_iter().flatten().collect();
            if let Some(t) = typo {
                s.push_str(&format!("{t} = 1\n"));
            }
            s
        })
        .boxed()
}

/// Keys that belong together in one regimen (one way of writing a schedule), and the others.
const SHAPES: &[(&[&str], &[&str])] = &[
    (
        &[
            "label",
            "compound",
            "dose_ug",
            "interval_h",
            "doses",
            "start_h",
        ],
        &["dose", "interval", "until_h", "times_h", "days"],
    ),
    (
        &["compound", "dose", "interval", "until_h"],
        &[
            "label",
            "dose_ug",
            "interval_h",
            "doses",
            "start_h",
            "times_h",
            "days",
        ],
    ),
    (
        &["label", "compound", "dose", "times_h", "days"],
        &["dose_ug", "interval_h", "doses", "until_h", "start_h"],
    ),
    (
        &["compound", "dose_ug", "start_h"],
        &["label", "dose", "interval_h", "doses", "days"],
    ),
    (
        &["label", "compound"],
        &["dose_ug", "interval_h", "times_h", "start_h"],
    ),
];
const TOP_LIKELY: &[&str] = &["name", "grid", "solver"];
const TOP_RARE: &[&str] = &["description", "duration_h", "duration", "step_h", "step"];
const PARAMS_LIKELY: &[&str] = &["ka_per_h", "half_life_h", "v_l"];
const PARAMS_RARE: &[&str] = &["ke_per_h", "f", "tlag_h", "baseline_ng_ml"];
/// Model extensions: a peripheral compartment, saturable absorption (with the core keys rare).
const TWO_CMT_LIKELY: &[&str] = &["model", "q_l_per_h", "vp_l"];
const MM_LIKELY: &[&str] = &["absorption", "vmax_ug_per_h", "km_ug"];
const EXT_RARE: &[&str] = &["half_life_h", "v_l", "ka_per_h", "model", "absorption"];
const DOSE_LIKELY: &[&str] = &["at_h", "dose_ug"];
const DOSE_RARE: &[&str] = &["at", "dose"];
const PLOT: &[&str] = &["title", "y_scale", "units", "width_px", "height_px"];
const ODE: &[&str] = &["rtol", "atol_rel_dose"];

fn regimen_table(noisy: bool) -> impl Strategy<Value = String> {
    (0..SHAPES.len())
        .prop_flat_map(move |k| {
            let explicit = k == SHAPES.len() - 1;
            (
                table(SHAPES[k].0, SHAPES[k].1, noisy),
                prop::option::weighted(
                    0.4,
                    prop_oneof![
                        4 => table(PARAMS_LIKELY, PARAMS_RARE, noisy),
                        1 => table(TWO_CMT_LIKELY, EXT_RARE, noisy),
                        1 => table(MM_LIKELY, EXT_RARE, noisy),
                    ],
                ),
                prop::collection::vec(
                    table(DOSE_LIKELY, DOSE_RARE, noisy),
                    if explicit { 1..6 } else { 0..1 },
                ),
            )
        })
        .prop_map(|(body, params, doses)| {
            let mut s = String::from("[[regimen]]\n");
            s.push_str(&body);
            if let Some(p) = params {
                s.push_str("[regimen.params]\n");
                s.push_str(&p);
            }
            for d in doses {
                s.push_str("[[regimen.dose]]\n");
                s.push_str(&d);
            }
            s
        })
}

/// A document from the schema: half of them clean (every value well typed, one way of writing
/// each schedule), half noisy (stray keys, typos, values of other types).
fn document() -> impl Strategy<Value = String> {
    any::<bool>().prop_flat_map(document_with)
}

fn document_with(noisy: bool) -> impl Strategy<Value = String> {
    (
        table(TOP_LIKELY, TOP_RARE, noisy),
        prop::option::weighted(0.2, table(ODE, &[], noisy)),
        prop::option::weighted(0.2, table(PLOT, &[], noisy)),
        prop::collection::vec(regimen_table(noisy), if noisy { 0..4 } else { 1..4 }),
    )
        .prop_map(|(top, ode, plot, regimens)| {
            let mut s = top;
            if let Some(o) = ode {
                s.push_str("[ode]\n");
                s.push_str(&o);
            }
            if let Some(p) = plot {
                s.push_str("[plot]\n");
                s.push_str(&p);
            }
            for r in regimens {
                s.push_str(&r);
            }
            s
        })
}

// --- mutations of the shipped scenarios --------------------------------------------------------

fn shipped() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v.iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    ReplaceNumber { nth: usize, with: String },
    DuplicateLine { nth: usize },
    DropLine { nth: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (
            any::<usize>(),
            prop_oneof!["[\\[\\]=\"#\n.,{}0-9a-z -]{1,6}", any_value()]
        )
            .prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), any_value()).prop_map(|(nth, with)| Mutation::ReplaceNumber { nth, with }),
        any::<usize>().prop_map(|nth| Mutation::DuplicateLine { nth }),
        any::<usize>().prop_map(|nth| Mutation::DropLine { nth }),
    ]
}

fn char_floor(s: &str, i: usize) -> usize {
    let mut i = i % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match m {
        Mutation::Delete { at, len } => {
            let a = char_floor(text, *at);
            let b = char_floor(text, (a + len).min(text.len()));
            let b = b.max(a);
            format!("{}{}", &text[..a], &text[b..])
        }
        Mutation::Insert { at, text: ins } => {
            let a = char_floor(text, *at);
            format!("{}{ins}{}", &text[..a], &text[a..])
        }
        Mutation::ReplaceNumber { nth, with } => {
            // The nth run of digits (and dots) is replaced by the value.
            let spans: Vec<(usize, usize)> = {
                let b = text.as_bytes();
                let mut v = Vec::new();
                let mut i = 0;
                while i < b.len() {
                    if b[i].is_ascii_digit() {
                        let s = i;
                        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                            i += 1;
                        }
                        v.push((s, i));
                    } else {
                        i += 1;
                    }
                }
                v
            };
            if spans.is_empty() {
                return text.to_string();
            }
            let (a, b) = spans[nth % spans.len()];
            format!("{}{with}{}", &text[..a], &text[b..])
        }
        Mutation::DuplicateLine { nth } => {
            let k = nth % lines.len();
            let mut v = lines.clone();
            v.insert(k, lines[k]);
            v.join("\n")
        }
        Mutation::DropLine { nth } => {
            let k = nth % lines.len();
            let mut v = lines.clone();
            v.remove(k);
            v.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        exercise(&text)?;
    }

    #[test]
    fn arbitrary_text_near_toml_never_panics(text in "[\\[\\]=\"'#\n.,{}0-9a-z_ µ+-]{0,300}") {
        exercise(&text)?;
    }

    #[test]
    fn documents_from_the_schema_are_refused_or_run_cleanly(doc in document()) {
        exercise(&doc)?;
    }

    #[test]
    fn mutated_shipped_scenarios_are_refused_or_run_cleanly(
        which in any::<usize>(),
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let all = shipped();
        let mut text = all[which % all.len()].clone();
        for m in &muts {
            text = apply(&text, m);
        }
        exercise(&text)?;
    }
}

#[test]
fn generated_documents_are_often_valid() {
    // The generator must reach the simulator, not only the validator: count valid documents.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = document();
    let valid = (0..300)
        .filter(|_| {
            let doc = strategy.new_tree(&mut runner).unwrap().current();
            match scenario::parse_str(&doc, "g") {
                Ok(_) => true,
                Err(e) => {
                    if std::env::var("SHOW_ERRORS").is_ok() {
                        eprintln!("{e}");
                    }
                    false
                }
            }
        })
        .count();
    assert!(
        valid >= 30,
        "only {valid} of 300 generated documents are valid"
    );
}
