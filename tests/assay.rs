//! Assay error and the limit of quantification of a population (`[population] residual`,
//! `lloq_ng_ml`): the residual SD the observed bands carry is the one asked (within sampling
//! error), the share below the LLOQ is the normal probability it must be, the true bands do not
//! move, and the outputs are the same bytes for any thread count and any split into shards.

use std::path::Path;

use assert_cmd::Command;
use k2sim::model::SolverKind;
use k2sim::scenario::{parse_str, Scenario};
use k2sim::study::assay::{lloq_summary, residual_eps};
use k2sim::study::population::{simulate_population, BandHistogram, RegimenPopulation};

/// Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf: absolute error ≤ 1.5e-7, far
/// below the binomial tolerances used here).
fn phi(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// A scenario of identical subjects (no between-subject variability): every subject's true
/// concentration is the typical run's, so the observed spread is the residual error alone.
fn identical(n: u64, population_extra: &str, duration_h: u32, band_step_h: u32) -> Scenario {
    let text = format!(
        "name = \"assay\"\nduration_h = {duration_h}\nstep_h = 1\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 2\n[population]\nn = {n}\nseed = 11\nband_step_h = {band_step_h}\n{population_extra}\n"
    );
    parse_str(&text, "t").unwrap()
}

fn run(s: &Scenario, jitter_h: f64) -> RegimenPopulation {
    let mut spec = s.population.clone().unwrap();
    spec.jitter_h = jitter_h;
    simulate_population(
        &spec,
        &s.regimens[0],
        s.duration_h,
        s.step_h,
        SolverKind::Exact,
        s.ode,
        0..spec.n,
        &|_| {},
    )
    .unwrap()
}

/// The typical subject's concentration at each band time of `p`.
fn true_conc(s: &Scenario, p: &RegimenPopulation) -> Vec<f64> {
    let single = k2sim::engine::run::run(s, SolverKind::Exact).unwrap();
    let tr = &single.regimens[0].trajectory;
    p.band_times_h
        .iter()
        .map(|t| tr.conc_ng_ml[tr.time_h.iter().position(|x| x == t).unwrap()])
        .collect()
}

/// Mean and SD of band time `t` of a histogram, from the bin values (each within ±0.2 % of
/// the values it holds).
fn moments(h: &BandHistogram, t: usize) -> (f64, f64, u64) {
    let row = &h.counts[t * BandHistogram::bins()..(t + 1) * BandHistogram::bins()];
    let n: u64 = row.iter().map(|&c| u64::from(c)).sum();
    let mean = row
        .iter()
        .enumerate()
        .map(|(b, &c)| h.value(b) * f64::from(c))
        .sum::<f64>()
        / n as f64;
    let var = row
        .iter()
        .enumerate()
        .map(|(b, &c)| (h.value(b) - mean).powi(2) * f64::from(c))
        .sum::<f64>()
        / (n - 1) as f64;
    (mean, var.sqrt(), n)
}

#[test]
fn observed_bands_carry_the_asked_residual_sd() {
    // Proportional only, additive only, and both: with identical subjects the observed values
    // at a band time are C + ε·σ(C), σ(C) = √((prop·C)² + add²). 20 000 samples per time: the
    // sample SD has a standard error of σ/√(2n) = 0.5 % of σ, the mean one of σ/√n.
    let n = 20_000u64;
    for (prop, add) in [(15.0, 0.0), (0.0, 0.05), (15.0, 0.05)] {
        let s = identical(
            n,
            &format!("residual = {{ proportional_pct = {prop}, additive_ng_ml = {add} }}"),
            48,
            6,
        );
        let p = run(&s, 0.0);
        let obs = p.observed.as_ref().expect("observed bands");
        let c = true_conc(&s, &p);
        for (t, &ct) in c.iter().enumerate().skip(1) {
            let sigma = ((prop / 100.0 * ct).powi(2) + add * add).sqrt();
            // Negative observations (ε < −5: 3e-7 of them) would fall into the ≤ 0 bin.
            assert!(ct > 5.0 * sigma, "C = {ct} too close to 0 for this check");
            let (mean, sd, count) = moments(obs, t);
            assert_eq!(count, n);
            let se_sd = sigma / (2.0 * n as f64).sqrt();
            assert!(
                (sd - sigma).abs() < 4.0 * se_sd,
                "prop {prop} %, add {add}: t = {} h, SD {sd} vs {sigma} (4 SE = {})",
                p.band_times_h[t],
                4.0 * se_sd
            );
            // Mean: sampling error plus the bins' ±0.2 % midpoints.
            let tol = 4.0 * sigma / (n as f64).sqrt() + 2f64.powi(-9) * ct;
            assert!(
                (mean - ct).abs() < tol,
                "prop {prop} %, add {add}: t = {} h, mean {mean} vs {ct}",
                p.band_times_h[t]
            );
        }
    }
}

#[test]
fn residual_draws_are_standard_normal_and_their_own_stream() {
    let v: Vec<f64> = (0..200_000u64)
        .map(|k| residual_eps(3, k / 400, k % 400))
        .collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(mean.abs() < 4.0 / n.sqrt(), "mean {mean}");
    assert!((var - 1.0).abs() < 4.0 * (2.0 / n).sqrt(), "variance {var}");
    // Neighbouring subjects and times are uncorrelated.
    let lag = |d: usize| {
        v.iter()
            .zip(&v[d..])
            .map(|(a, b)| (a - mean) * (b - mean))
            .sum::<f64>()
            / (n - d as f64)
            / var
    };
    for d in [1, 400] {
        assert!(lag(d).abs() < 4.0 / n.sqrt(), "lag {d}: {}", lag(d));
    }
    assert_eq!(residual_eps(3, 10, 20), residual_eps(3, 10, 20));
    assert_ne!(residual_eps(3, 10, 20), residual_eps(4, 10, 20));
    assert_ne!(residual_eps(3, 10, 20), residual_eps(3, 20, 10));
}

#[test]
fn lloq_share_is_the_normal_probability_below_the_limit() {
    // Identical subjects, additive error only: at a band time with true concentration C the
    // share below the LLOQ is Φ((LLOQ − C)/add); the count is binomial around it.
    let (n, add, lloq) = (20_000u64, 0.05, 0.3);
    let s = identical(
        n,
        &format!("residual = {{ additive_ng_ml = {add} }}\nlloq_ng_ml = {lloq}"),
        240,
        6,
    );
    let p = run(&s, 0.0);
    let l = lloq_summary(s.population.as_ref().unwrap(), &p).unwrap();
    assert!(l.on_observed);
    let c = true_conc(&s, &p);
    let mut intermediate = 0;
    for (t, &ct) in c.iter().enumerate() {
        let expected = phi((lloq - ct) / add);
        let tol = 4.0 * (expected * (1.0 - expected) / n as f64).sqrt() + 1e-6;
        assert!(
            (l.frac_below[t] - expected).abs() <= tol,
            "t = {} h, C = {ct}: share below {} vs Φ = {expected}",
            p.band_times_h[t],
            l.frac_below[t]
        );
        if (0.05..0.95).contains(&expected) {
            intermediate += 1;
        }
    }
    assert!(intermediate >= 3, "the check must cross the limit");
    // t = 0: C = 0, every sample below (Φ(6) = 1 − 1e-9).
    assert_eq!(l.frac_below[0], 1.0);
    // Detectable until the last band time with C ≥ LLOQ (share below ≤ 1/2 ⇔ C ≥ LLOQ here,
    // up to the binomial noise of the band time nearest the crossing).
    let last_above = c.iter().rposition(|&x| x >= lloq).unwrap();
    let until = l.detectable_until_h.unwrap();
    assert!(
        (until - p.band_times_h[last_above]).abs() <= 6.0,
        "detectable until {until} h, C ≥ LLOQ until {} h",
        p.band_times_h[last_above]
    );
    assert!(!l.detectable_at_end);
}

#[test]
fn lloq_without_residual_counts_true_concentrations() {
    let lloq = 0.3;
    let s = identical(50, &format!("lloq_ng_ml = {lloq}"), 240, 6);
    let p = run(&s, 0.0);
    assert!(p.observed.is_none());
    let l = lloq_summary(s.population.as_ref().unwrap(), &p).unwrap();
    assert!(!l.on_observed);
    let c = true_conc(&s, &p);
    for (t, &ct) in c.iter().enumerate() {
        assert!((ct - lloq).abs() > 1e-6, "pick an LLOQ away from C = {ct}");
        assert_eq!(
            l.frac_below[t],
            if ct < lloq { 1.0 } else { 0.0 },
            "t = {t}"
        );
    }
    let first = c.iter().position(|&x| x >= lloq).unwrap();
    let last = c.iter().rposition(|&x| x >= lloq).unwrap();
    assert_eq!(l.first_detectable_h, Some(p.band_times_h[first]));
    assert_eq!(l.detectable_until_h, Some(p.band_times_h[last]));
}

#[test]
fn assay_error_leaves_the_true_population_alone_and_both_kernels_agree() {
    let text = |extra: &str| {
        format!(
            "name = \"a\"\nduration_h = 120\nstep_h = 1\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 5\n[population]\nn = 300\nseed = 4\ncv_pct = {{ ka_per_h = 30, half_life_h = 30, v_l = 30 }}\n{extra}\n"
        )
    };
    let plain = parse_str(&text(""), "t").unwrap();
    let assay = parse_str(
        &text("residual = { proportional_pct = 20, additive_ng_ml = 0.1 }\nlloq_ng_ml = 1.5"),
        "t",
    )
    .unwrap();
    let a = run(&plain, 0.0);
    let b = run(&assay, 0.0);
    // The residual streams are separate: subjects and true bands are unchanged.
    assert_eq!(a.subjects, b.subjects);
    assert_eq!(a.histogram, b.histogram);
    assert!(a.observed.is_none() && a.below_lloq.is_none());
    assert_ne!(b.observed.as_ref().unwrap(), &b.histogram);
    // The general path (forced by a negligible jitter) draws the same errors at the same
    // (subject, time): the same observed histogram and LLOQ counts.
    let g = run(&assay, 1e-12);
    assert_eq!(g.observed, b.observed);
    assert_eq!(g.below_lloq, b.below_lloq);
}

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "0");
    c
}

/// Two regimens, one on the batch kernel and one (lag off the grid) on the per-subject path;
/// a target trough and an LLOQ, so the ribbon has both lines.
const STUDY: &str = r#"
name = "assay study"
duration_h = 120
step_h = 2
[[regimen]]
label = "batch"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 5
[[regimen]]
label = "general"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 5
[regimen.params]
tlag_h = 0.5
[population]
n = 700
seed = 5
cv_pct = { ka_per_h = 30, half_life_h = 25, v_l = 30 }
miss_prob = 0.1
target_trough_ng_ml = 1.5
residual = { proportional_pct = 15, additive_ng_ml = 0.05 }
lloq_ng_ml = 1.0
"#;

fn read_dir_sorted(d: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn observed_bands_and_lloq_counts_are_the_same_bytes_for_any_threads_and_shards() {
    let s = parse_str(STUDY, "t").unwrap();
    let spec = s.population.as_ref().unwrap();
    let uses = |i: usize| {
        k2sim::study::population::uses_batch_kernel(
            spec,
            &s.regimens[i],
            s.duration_h,
            s.step_h,
            SolverKind::Exact,
        )
    };
    assert!(uses(0) && !uses(1), "one regimen on each path");

    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("study.toml");
    std::fs::write(&scen, STUDY).unwrap();
    let out = |name: &str, threads: &str, extra: &[&str]| {
        let dir = tmp.path().join(name);
        k2sim()
            .arg("run")
            .arg(&scen)
            .arg("-q")
            .args(extra)
            .arg("--out")
            .arg(&dir)
            .env("RAYON_NUM_THREADS", threads)
            .assert()
            .success();
        dir
    };
    let one = out("one", "1", &[]);
    let a = read_dir_sorted(&one);
    assert_eq!(
        a,
        read_dir_sorted(&out("two", "2", &[])),
        "outputs differ between 1 and 2 threads"
    );

    let text = |name: &str| std::fs::read_to_string(one.join(name)).unwrap();
    let bands = text("population_bands.csv");
    assert!(bands.starts_with("regimen,time_h,p5_ng_ml,p25_ng_ml,p50_ng_ml,p75_ng_ml,p95_ng_ml,observed_p5_ng_ml,observed_p25_ng_ml,observed_p50_ng_ml,observed_p75_ng_ml,observed_p95_ng_ml,frac_below_lloq\n"));
    // t = 0: nothing absorbed, every sample below the LLOQ.
    assert!(bands.lines().nth(1).unwrap().ends_with(",1"), "{bands}");
    let summary: serde_json::Value =
        serde_json::from_str(&text("population_summary.json")).unwrap();
    assert_eq!(summary["spec"]["residual"]["proportional_pct"], 15.0);
    assert_eq!(summary["spec"]["lloq_ng_ml"], 1.0);
    for r in 0..2 {
        let l = &summary["regimens"][r]["lloq"];
        assert_eq!(l["on_observed"], true);
        assert!(l["detectable_until_h"].is_number(), "{l}");
    }
    let svg = text("assay_study_population.svg");
    for label in [
        "5–95 % of observed samples (assay error)",
        "target trough 1.5 ng/mL",
        "LLOQ 1 ng/mL",
    ] {
        assert!(svg.contains(label), "{label} missing from the ribbon SVG");
    }
    let svg = text("assay_study_lloq.svg");
    for label in [
        "Samples below the LLOQ (%)",
        "batch: detectable",
        "half of the samples",
    ] {
        assert!(svg.contains(label), "{label} missing from the LLOQ SVG");
    }
    let caption = text("assay_study_lloq.txt");
    assert!(caption.contains("15 % + 0.05 ng/mL"), "{caption}");

    // Three shards in scrambled order, merged: the unsharded bytes, LLOQ figure included.
    let shards = tmp.path().join("shards");
    for k in [3, 1, 2] {
        k2sim()
            .arg("run")
            .arg(&scen)
            .args(["-q", "--shard", &format!("{k}/3"), "--out"])
            .arg(shards.join(k.to_string()))
            .assert()
            .success();
    }
    let merged = tmp.path().join("merged");
    k2sim()
        .arg("merge")
        .arg(shards.join("2"))
        .arg(shards.join("3"))
        .arg(shards.join("1"))
        .arg("-q")
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(
        a,
        read_dir_sorted(&merged),
        "merged shards differ from the unsharded run"
    );
}
