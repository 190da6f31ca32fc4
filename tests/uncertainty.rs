//! `k2sim run --uncertainty`: the preset parameters drawn over their plausible ranges. Tested
//! against closed forms (with only V/F sampled, Cavg,ss = D/(CL·τ) at the quantiles of V/F;
//! with only the half-life, the accumulation ratio AUCτ,ss/AUC(0–τ) of the oral model), for what is and is not
//! sampled, for thread-count invariance, and on every shipped scenario.

use std::path::Path;

use assert_cmd::Command;
use k2sim::engine::run::run;
use k2sim::metric::Metric;
use k2sim::model::SolverKind;
use k2sim::scenario::{self, Scenario, UncertaintySpec};
use k2sim::study::uncertainty::{run_uncertainty, Uncertainty, ROBUST_MAX_WIDTH};

fn uncertainty(s: &Scenario, n: u64) -> Uncertainty {
    let base: Vec<_> = run(s, SolverKind::Exact)
        .unwrap()
        .regimens
        .iter()
        .map(|r| r.metrics)
        .collect();
    run_uncertainty(s, SolverKind::Exact, &UncertaintySpec { n, seed: 3 }, &base).unwrap()
}

fn interval(u: &Uncertainty, regimen: usize, m: Metric) -> (f64, f64, f64, f64, bool) {
    let i = u.regimens[regimen]
        .metrics
        .iter()
        .find(|i| i.metric == m)
        .unwrap();
    (i.preset, i.p5, i.p50, i.p95, i.robust)
}

/// The q-quantile of a log-uniform variable on [lo, hi].
fn log_uniform_quantile(lo: f64, hi: f64, q: f64) -> f64 {
    lo * (hi / lo).powf(q)
}

const MK7_DAILY_FIXED_KA_HALF_LIFE: &str = r#"
duration = "8 weeks"
step_h = 1

[[regimen]]
label = "MK-7 fixed ka and t½"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 56

[regimen.params]
ka_per_h = 1.2
half_life_h = 72
"#;

#[test]
fn with_only_the_volume_sampled_cavg_follows_its_quantiles() {
    let s = scenario::parse_str(MK7_DAILY_FIXED_KA_HALF_LIFE, "u").unwrap();
    let u = uncertainty(&s, 4000);
    let r = &u.regimens[0];
    assert_eq!(r.sampled, ["v_l"]);
    let fixed: Vec<&str> = r.not_sampled.iter().map(|n| n.param).collect();
    assert_eq!(fixed, ["ka_per_h", "half_life_h"]);
    assert!(r
        .not_sampled
        .iter()
        .all(|n| n.why.contains("set by the scenario")));
    // Cavg,ss = D/(ke·V·τ) falls with V: its 5th percentile is at V's 95th, and so on. With
    // 4000 draws the quantile of u has SE √(0.05·0.95/4000) = 0.0034, which moves V by
    // ln(800/130)·0.0034 = 0.6 %: 3 % is five SE.
    let ke = std::f64::consts::LN_2 / 72.0;
    let cavg = |v: f64| 180.0 / (ke * v * 24.0);
    let (preset, p5, p50, p95, robust) = interval(&u, 0, Metric::CavgSsNgMl);
    let v_preset = k2sim::compound::find("mk7").unwrap().v_l.value;
    assert!((preset / cavg(v_preset) - 1.0).abs() < 1e-9);
    for (got, q) in [(p5, 0.95), (p50, 0.5), (p95, 0.05)] {
        let want = cavg(log_uniform_quantile(130.0, 800.0, q));
        assert!((got / want - 1.0).abs() < 0.03, "q {q}: {got} vs {want}");
    }
    assert!(!robust, "V/F spans 130–800 L: Cavg cannot be robust");
    // The accumulation ratio does not depend on V at all: every draw gives the preset value.
    let (preset, p5, _, p95, robust) = interval(&u, 0, Metric::AccumulationRatio);
    assert!((p5 / preset - 1.0).abs() < 1e-9 && (p95 / preset - 1.0).abs() < 1e-9);
    assert!(robust);
}

#[test]
fn with_only_the_half_life_sampled_accumulation_follows_its_formula() {
    let text = MK7_DAILY_FIXED_KA_HALF_LIFE
        .replace("half_life_h = 72", "v_l = 230")
        .replace("ka_per_h = 1.2", "ka_per_h = 1.2\nf = 1");
    let s = scenario::parse_str(&text, "u").unwrap();
    let u = uncertainty(&s, 4000);
    assert_eq!(u.regimens[0].sampled, ["half_life_h"]);
    // k2sim's accumulation ratio is AUCτ,ss / AUC(0–τ) of the first dose. For the oral
    // one-compartment model AUCτ,ss = F·D/(V·ke) and AUC(0–τ) = F·D/V · ka/(ka − ke) ·
    // [(1 − e^(−ke·τ))/ke − (1 − e^(−ka·τ))/ka], so R depends on ka (fixed, 1.2 /h) and ke only,
    // and rises with t½ (68–96 h). Quantile SE of u 0.0034 moves t½ by ln(96/68)·0.0034 =
    // 0.12 %; R moves less than t½: 1 % is ample and still tight.
    let r = |t_half: f64| {
        let (ka, ke, tau) = (1.2, std::f64::consts::LN_2 / t_half, 24.0);
        let first =
            ka / (ka - ke) * ((1.0 - (-ke * tau).exp()) / ke - (1.0 - (-ka * tau).exp()) / ka);
        (1.0 / ke) / first
    };
    let (_, p5, p50, p95, robust) = interval(&u, 0, Metric::AccumulationRatio);
    for (got, q) in [(p5, 0.05), (p50, 0.5), (p95, 0.95)] {
        let want = r(log_uniform_quantile(68.0, 96.0, q));
        assert!((got / want - 1.0).abs() < 0.01, "q {q}: {got} vs {want}");
    }
    // (p95 − p5)/p50 of R over 68–96 h is about 0.3: robust, as it depends on t½ alone.
    assert!((p95 - p5) / p50 < ROBUST_MAX_WIDTH && robust);
}

#[test]
fn two_regimens_of_one_compound_share_each_draw() {
    // The same MK-7 in both regimens: 360 µg daily is exactly twice 180 µg daily in every
    // draw (the model is linear), so the ratio of their percentiles is exactly 2.
    let text = r#"
duration = "6 weeks"
step_h = 1

[[regimen]]
label = "180"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 42

[[regimen]]
label = "360"
compound = "mk7"
dose_ug = 360
interval_h = 24
doses = 42
"#;
    let s = scenario::parse_str(text, "u").unwrap();
    let u = uncertainty(&s, 300);
    assert_eq!(u.parameters.len(), 3, "{:?}", u.parameters);
    for m in [Metric::CavgSsNgMl, Metric::CminSsNgMl, Metric::Auc0TNgHMl] {
        let a = interval(&u, 0, m);
        let b = interval(&u, 1, m);
        for (x, y) in [(a.1, b.1), (a.2, b.2), (a.3, b.3)] {
            assert!((y / x - 2.0).abs() < 1e-9, "{m}: {x} vs {y}");
        }
    }
}

#[test]
fn the_preset_run_of_mk7_has_robust_timing_and_uncertain_levels() {
    let s = scenario::load(Path::new("scenarios/mk7_daily.toml")).unwrap();
    let u = uncertainty(&s, 400);
    let (robust, uncertain) = u.split();
    assert!(robust.contains(&Metric::AccumulationRatio), "{robust:?}");
    assert!(robust.contains(&Metric::T90ssH), "{robust:?}");
    for m in [Metric::CavgSsNgMl, Metric::CminSsNgMl, Metric::CmaxSsNgMl] {
        assert!(
            uncertain.contains(&m),
            "{m} should be uncertain: {uncertain:?}"
        );
        let (preset, p5, _, p95, _) = interval(&u, 0, m);
        assert!(p5 < preset && preset < p95, "{m}: {p5} {preset} {p95}");
    }
    // The band holds the 5–95 % of the concentration at each time.
    let band = &u.regimens[0].band;
    assert!(!band.is_empty());
    assert!(band.iter().all(|&(_, lo, mid, hi)| lo <= mid && mid <= hi));
}

#[test]
fn every_shipped_scenario_runs_with_uncertainty() {
    let mut names = Vec::new();
    for e in std::fs::read_dir("scenarios").unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let s = scenario::load(&p).unwrap();
            let u = uncertainty(&s, 12);
            assert_eq!(u.regimens.len(), s.regimens.len(), "{}", p.display());
            names.push(p);
        }
    }
    assert!(names.len() >= 10, "{names:?}");
}

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "0");
    c
}

#[test]
fn the_flag_writes_the_intervals_the_same_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("u.toml");
    std::fs::write(
        &scen,
        "duration = \"3 weeks\"\nstep_h = 2\n\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 21\n\n[uncertainty]\nn = 64\nseed = 9\n",
    )
    .unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "3"] {
        let out = dir.path().join(format!("out{threads}"));
        k2sim()
            .env("RAYON_NUM_THREADS", threads)
            .args(["run", "-q", "--uncertainty"])
            .arg(&scen)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        outs.push(out);
    }
    let csv = std::fs::read_to_string(outs[0].join("uncertainty.csv")).unwrap();
    assert_eq!(
        csv,
        std::fs::read_to_string(outs[1].join("uncertainty.csv")).unwrap()
    );
    assert!(
        csv.starts_with("regimen,metric,preset,p5,p50,p95,flag\n"),
        "{csv}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outs[0].join("summary.json")).unwrap()).unwrap();
    let u = &summary["uncertainty"];
    assert_eq!(u["spec"]["n"], 64);
    assert_eq!(u["spec"]["seed"], 9);
    let m = &u["regimens"][0]["metrics"];
    assert!(m
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["metric"] == "cavg_ss_ng_ml" && x["p5"].as_f64() < x["p95"].as_f64()));
    let caption = std::fs::read_dir(&outs[0])
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "txt")
                && !p.to_string_lossy().contains("steady_state")
        })
        .unwrap();
    let text = std::fs::read_to_string(caption).unwrap();
    assert!(
        text.contains("Robust (90 % interval within ±20 % of its median):"),
        "{text}"
    );
    assert!(text.contains("Uncertain: "), "{text}");
}
