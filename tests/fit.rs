//! `k2sim fit` on synthetic data generated with known parameters: exact recovery without noise,
//! recovery within a few standard errors with seeded noise, located errors for `[fit]`.

use assert_cmd::Command;
use k2sim::engine::run;
use k2sim::model::SolverKind;
use k2sim::scenario;
use k2sim::study::fit::{self, LmOptions};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

const TRUTH: (f64, f64, f64) = (0.9, 60.0, 250.0); // ka_per_h, half_life_h, v_l
const TIMES: [f64; 14] = [
    0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 24.0, 48.0, 72.0, 96.0, 120.0, 168.0,
];

fn head(params: &str, weighting: &str) -> String {
    format!(
        r#"name = "synthetic"
duration_h = 168
step_h = 1

[[regimen]]
label = "MK-7 1 mg"
compound = "mk7"
dose = "1 mg"
{params}
[fit]
params = ["ka_per_h", "half_life_h", "v_l"]
weighting = "{weighting}"
"#
    )
}

/// The model's concentrations at TIMES under the true parameters.
fn truth_at_times() -> Vec<f64> {
    let (ka, t, v) = TRUTH;
    let text = head(
        &format!("[regimen.params]\nka_per_h = {ka}\nhalf_life_h = {t}\nv_l = {v}\n"),
        "additive",
    );
    let mut s = scenario::parse_str(&text, "t").unwrap();
    for &t in &TIMES {
        s.observed.push(scenario::Observation {
            regimen: "MK-7 1 mg".into(),
            time_h: t,
            conc_ng_ml: 1.0,
            subject: None,
        });
    }
    let r = run::run(&s, SolverKind::Exact).unwrap();
    r.regimens[0]
        .residuals
        .iter()
        .map(|x| x.predicted_ng_ml)
        .collect()
}

/// A scenario starting from the preset (ka 1.22, 72 h, 230.8 L) with the given observations.
fn with_observations(conc: &[f64], weighting: &str) -> scenario::Scenario {
    let mut text = head("", weighting);
    for (t, c) in TIMES.iter().zip(conc) {
        text.push_str(&format!(
            "\n[[observed]]\ntime_h = {t}\nconc_ng_ml = {c:e}\n"
        ));
    }
    scenario::parse_str(&text, "t").unwrap()
}

fn estimates(s: &scenario::Scenario) -> fit::FitResult {
    fit::fit(
        s,
        s.fit.as_ref().unwrap(),
        SolverKind::Exact,
        LmOptions::default(),
    )
    .unwrap()
}

#[test]
fn noise_free_data_give_back_the_truth() {
    let conc = truth_at_times();
    for w in ["proportional", "additive"] {
        let r = estimates(&with_observations(&conc, w));
        assert!(r.converged);
        let truth = [TRUTH.0, TRUTH.1, TRUTH.2];
        for (e, t) in r.estimates.iter().zip(truth) {
            assert!(
                (e.estimate - t).abs() < 1e-6 * t,
                "{w} {}: {} vs {t}",
                e.name,
                e.estimate
            );
        }
        assert!(r.objective < 1e-16, "{}", r.objective);
    }
    // The ODE path finds the same optimum.
    let s = with_observations(&conc, "proportional");
    let r = fit::fit(
        &s,
        s.fit.as_ref().unwrap(),
        SolverKind::Ode,
        LmOptions::default(),
    )
    .unwrap();
    assert!((r.estimates[1].estimate - TRUTH.1).abs() < 1e-5 * TRUTH.1);
}

#[test]
fn noisy_data_recover_the_truth_within_three_standard_errors() {
    let conc = truth_at_times();
    let truth = [TRUTH.0, TRUTH.1, TRUTH.2];
    for seed in [1u64, 2, 3, 4] {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        // Proportional noise: 10 % CV, log-normal.
        let noisy: Vec<f64> = conc
            .iter()
            .map(|c| {
                let z: f64 = rng.sample(StandardNormal);
                c * (0.1 * z).exp()
            })
            .collect();
        let r = estimates(&with_observations(&noisy, "proportional"));
        assert!(r.converged, "seed {seed}");
        for (e, t) in r.estimates.iter().zip(truth) {
            assert!(
                e.se > 0.0 && e.se < 0.5 * t,
                "seed {seed} {}: SE {}",
                e.name,
                e.se
            );
            assert!(
                (e.estimate - t).abs() <= 3.0 * e.se,
                "seed {seed} {}: {} ± {} vs truth {t}",
                e.name,
                e.estimate,
                e.se
            );
        }
        // The correlation matrix is symmetric with a unit diagonal.
        for a in 0..3 {
            assert!((r.correlation[a][a] - 1.0).abs() < 1e-12);
            for b in 0..3 {
                assert!((r.correlation[a][b] - r.correlation[b][a]).abs() < 1e-12);
                assert!(r.correlation[a][b].abs() <= 1.0 + 1e-12);
            }
        }
    }
    // Additive noise of 0.1 ng/mL with additive weighting.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let noisy: Vec<f64> = conc
        .iter()
        .map(|c| {
            let z: f64 = rng.sample(StandardNormal);
            (c + 0.1 * z).max(0.0)
        })
        .collect();
    let r = estimates(&with_observations(&noisy, "additive"));
    for (e, t) in r.estimates.iter().zip(truth) {
        assert!(
            (e.estimate - t).abs() <= 3.0 * e.se,
            "{}: {} ± {}",
            e.name,
            e.estimate,
            e.se
        );
    }
}

#[test]
fn the_fitted_scenario_reads_back_with_the_estimates() {
    let conc = truth_at_times();
    let s = with_observations(&conc, "proportional");
    let r = estimates(&s);
    let original = head("", "proportional");
    let text = k2sim::report::fit::fitted_scenario_toml(&original, &s, &r).unwrap();
    let back = scenario::parse_str(&text, "t").unwrap();
    let m = back.regimens[0].model;
    assert_eq!(m.ka_per_h, r.estimates[0].estimate);
    assert!((m.half_life_h() - r.estimates[1].estimate).abs() < 1e-9);
    assert_eq!(m.v_l, r.estimates[2].estimate);
}

#[test]
fn fit_keys_are_checked_where_they_are_written() {
    let e = |params: &str, weighting: &str| {
        let text =
            head("", weighting).replace(r#"params = ["ka_per_h", "half_life_h", "v_l"]"#, params);
        scenario::parse_str(&text, "t").unwrap_err().to_string()
    };
    let msg = e(r#"params = ["ka_per_h", "halflife_h"]"#, "additive");
    assert!(
        msg.starts_with("<scenario>:11:23: key `fit.params`: unknown name \"halflife_h\"; did you mean \"half_life_h\"?"),
        "{msg}"
    );
    let msg = e(r#"params = ["v_l", "v_l"]"#, "additive");
    assert!(msg.contains("\"v_l\" twice"), "{msg}");
    let msg = e(r#"params = ["v_l"]"#, "aditive");
    assert!(msg.contains("did you mean \"additive\""), "{msg}");
}

#[test]
fn cli_fit_writes_report_figures_and_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let a = Command::cargo_bin("k2sim")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["fit", "tests/fixtures/observed/mk7_single.toml", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("| half_life_h |") && stdout.contains("converged"),
        "{stdout}"
    );
    for f in [
        "fit.md",
        "fit.json",
        "MK-7_single_dose_synthetic_samples_fitted.toml",
        "fit_observed_vs_predicted.png",
        "fit_residuals.svg",
        "fit_curves.png",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    // A scenario without [fit] is bad input (exit code 2).
    Command::cargo_bin("k2sim")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "0")
        .args(["fit", "scenarios/mk7_daily.toml", "--out"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr("error: scenarios/mk7_daily.toml: has no [fit] table\n  help: add `[fit]` with `params = [\"ka_per_h\", \"half_life_h\", \"v_l\"]` (and optionally `weighting = \"additive\"`)\n");
}

/// A two-compartment regimen sampled densely over a week; `params` goes into `[fit]`.
fn two_compartment_text(model_params: &str, fit_params: &str) -> String {
    format!(
        r#"name = "synthetic, two compartments"
duration_h = 168
step_h = 1

[[regimen]]
label = "MK-4 15 mg"
compound = "mk4"
dose = "15 mg"
[regimen.params]
model = "two_compartment"
{model_params}
[fit]
params = {fit_params}
weighting = "proportional"
"#
    )
}

#[test]
fn noise_free_two_compartment_data_give_back_q_and_vp() {
    let times = [
        0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 24.0, 36.0, 48.0, 72.0, 96.0, 120.0,
    ];
    let truth = "ka_per_h = 1.3\nhalf_life_h = 1.35\nv_l = 40.0\nq_l_per_h = 17.0\nvp_l = 227.0\n";
    let mut s = scenario::parse_str(&two_compartment_text(truth, "[\"v_l\"]"), "t").unwrap();
    for &t in &times {
        s.observed.push(scenario::Observation {
            regimen: "MK-4 15 mg".into(),
            time_h: t,
            conc_ng_ml: 1.0,
            subject: None,
        });
    }
    let conc: Vec<f64> = run::run(&s, SolverKind::Exact).unwrap().regimens[0]
        .residuals
        .iter()
        .map(|x| x.predicted_ng_ml)
        .collect();
    // Start 30–50 % off in every fitted parameter.
    let start = "ka_per_h = 1.3\nhalf_life_h = 2.0\nv_l = 60.0\nq_l_per_h = 10.0\nvp_l = 150.0\n";
    let mut text =
        two_compartment_text(start, "[\"half_life_h\", \"v_l\", \"q_l_per_h\", \"vp_l\"]");
    for (t, c) in times.iter().zip(&conc) {
        text.push_str(&format!(
            "\n[[observed]]\ntime_h = {t}\nconc_ng_ml = {c:e}\n"
        ));
    }
    let s = scenario::parse_str(&text, "t").unwrap();
    let r = estimates(&s);
    for (e, t) in r.estimates.iter().zip([1.35, 40.0, 17.0, 227.0]) {
        assert!(
            (e.estimate - t).abs() < 1e-5 * t,
            "{}: {} vs {t}",
            e.name,
            e.estimate
        );
    }
    // A parameter the model does not have is refused where it is written.
    let err = scenario::parse_str(&two_compartment_text(start, "[\"vmax_ug_per_h\"]"), "t")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("needs absorption = \"michaelis_menten\""),
        "{err}"
    );
    assert!(
        err.starts_with("<scenario>:18:11: key `fit.params`"),
        "{err}"
    );
}

#[test]
fn noise_free_saturable_absorption_data_give_back_vmax_and_km() {
    let text = |vmax: f64, km: f64| {
        format!(
            r#"name = "synthetic, saturable absorption"
duration_h = 48
step_h = 1
[[regimen]]
label = "MK-4 45 mg"
compound = "mk4"
dose = "45 mg"
[regimen.params]
absorption = "michaelis_menten"
vmax_ug_per_h = {vmax}
km_ug = {km}
[fit]
params = ["vmax_ug_per_h", "km_ug"]
"#
        )
    };
    let times = [
        1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 24.0, 36.0, 48.0,
    ];
    let mut truth = scenario::parse_str(&text(3000.0, 5000.0), "t").unwrap();
    for &t in &times {
        truth.observed.push(scenario::Observation {
            regimen: "MK-4 45 mg".into(),
            time_h: t,
            conc_ng_ml: 1.0,
            subject: None,
        });
    }
    // Dopri5 computes the data (saturable absorption has no closed form).
    let conc: Vec<f64> = run::run(&truth, SolverKind::Exact).unwrap().regimens[0]
        .residuals
        .iter()
        .map(|x| x.predicted_ng_ml)
        .collect();
    let mut s = scenario::parse_str(&text(2000.0, 8000.0), "t").unwrap();
    for (&t, &c) in times.iter().zip(&conc) {
        s.observed.push(scenario::Observation {
            regimen: "MK-4 45 mg".into(),
            time_h: t,
            conc_ng_ml: c,
            subject: None,
        });
    }
    let r = estimates(&s);
    for (e, t) in r.estimates.iter().zip([3000.0, 5000.0]) {
        assert!(
            (e.estimate - t).abs() < 1e-5 * t,
            "{}: {} vs {t}",
            e.name,
            e.estimate
        );
    }
}
