//! `k2sim fit` of response parameters to `[[observed_response]]` rows, the PK fixed: exact
//! recovery of known parameters, the two standard-error bases against each other by hand, the
//! shipped derivations, the fitted scenario read back, and located errors.

use assert_cmd::Command;
use k2sim::engine::run;
use k2sim::model::SolverKind;
use k2sim::scenario;
use k2sim::study::fit::{self, LmOptions, SeBasis};

/// Two MK-7 arms for 12 weeks with dp-ucMGP, `extra` appended (response tables, fit, rows).
fn scenario_text(extra: &str) -> String {
    format!(
        r#"name = "response fit"
duration = "12 weeks"
step_h = 1

[[regimen]]
label = "low"
compound = "mk7"
dose_ug = 100
interval_h = 24
doses = 84

[[regimen]]
label = "high"
compound = "mk7"
dose_ug = 400
interval_h = 24
doses = 84

[response]
markers = ["dp_ucmgp"]
population = "healthy"
{extra}
"#
    )
}

const DAYS: [f64; 4] = [14.0, 28.0, 56.0, 84.0];

/// The % change of dp-ucMGP at DAYS under Imax 0.8, IC50 5 ng/mL, kout 0.1 /day.
fn truth() -> Vec<(String, f64, f64)> {
    let s = scenario::parse_str(
        &scenario_text(
            "[response.dp_ucmgp]\nimax = 0.8\nic50_mk7_ng_ml = 5.0\nkout_per_day = 0.1\n",
        ),
        "t",
    )
    .unwrap();
    let r = run::run(&s, SolverKind::Exact).unwrap();
    let mut out = Vec::new();
    for reg in &r.regimens {
        let c = &reg.response[0];
        for d in DAYS {
            let i = reg
                .trajectory
                .time_h
                .iter()
                .position(|&t| t == d * 24.0)
                .unwrap();
            out.push((
                reg.regimen.label.clone(),
                d * 24.0,
                100.0 * (c.values[i] / c.baseline - 1.0),
            ));
        }
    }
    out
}

fn rows(obs: &[(String, f64, f64)], se: Option<f64>) -> String {
    obs.iter()
        .map(|(r, t, p)| {
            format!(
                "\n[[observed_response]]\nregimen = \"{r}\"\nmarker = \"dp_ucmgp\"\ntime_h = {t}\npct_change = {p:e}\n{}",
                se.map_or(String::new(), |s| format!("se_pct = {s}\n"))
            )
        })
        .collect()
}

fn fit_of(text: &str) -> fit::FitResult {
    let s = scenario::parse_str(text, "t").unwrap();
    fit::fit(
        &s,
        s.fit.as_ref().unwrap(),
        SolverKind::Exact,
        LmOptions::default(),
    )
    .unwrap()
}

#[test]
fn known_imax_ic50_and_kout_are_recovered_from_the_preset_start() {
    let obs = truth();
    // The time course (4 times per arm) is what makes kout identifiable.
    let text = scenario_text(&format!(
        "[fit]\nparams = [\"dp_ucmgp.imax\", \"dp_ucmgp.ic50_mk7_ng_ml\", \"dp_ucmgp.kout_per_day\"]\n{}",
        rows(&obs, None)
    ));
    let r = fit_of(&text);
    assert!(r.converged);
    for (e, want) in r.estimates.iter().zip([0.8, 5.0, 0.1]) {
        assert!(
            (e.estimate / want - 1.0).abs() < 1e-5,
            "{}: {} vs {want}",
            e.name,
            e.estimate
        );
        // Started at the preset: Imax 0.8956, IC50 6.048, kout 0.07.
        assert!((e.initial / want - 1.0).abs() > 0.05, "{}", e.name);
    }
    assert_eq!(r.se_basis, SeBasis::Residual);
    for p in &r.response_points {
        assert!((p.observed_pct - p.predicted_pct).abs() < 1e-4, "{p:?}");
    }
}

#[test]
fn reported_and_residual_standard_errors_differ_by_sigma_over_s() {
    // One parameter, equal weights: SE(θ)² = s²/ΣJ² with s² = SSR/(n − 1) from the residuals,
    // or σ²/ΣJ² when every row reports se = σ. Same optimum, so the ratio is σ/s exactly.
    let mut obs = truth();
    for (i, o) in obs.iter_mut().enumerate() {
        o.2 += if i % 2 == 0 { 1.5 } else { -1.0 }; // not a model curve any more
    }
    let fit_text = "[fit]\nparams = [\"dp_ucmgp.ic50_mk7_ng_ml\"]\n";
    let a = fit_of(&scenario_text(&format!("{fit_text}{}", rows(&obs, None))));
    let b = fit_of(&scenario_text(&format!(
        "{fit_text}{}",
        rows(&obs, Some(2.0))
    )));
    assert_eq!(a.se_basis, SeBasis::Residual);
    assert_eq!(b.se_basis, SeBasis::ReportedSe);
    let (ea, eb) = (&a.estimates[0], &b.estimates[0]);
    assert!((ea.estimate / eb.estimate - 1.0).abs() < 1e-7);
    let s = (a.objective / (obs.len() - 1) as f64).sqrt();
    assert!(
        ((eb.se / ea.se) - 2.0 / s).abs() < 1e-4 * (2.0 / s),
        "{} / {} vs 2/{s}",
        eb.se,
        ea.se
    );
    // The weighted objective is the equal-weight one over σ².
    assert!((b.objective * 4.0 / a.objective - 1.0).abs() < 1e-7);
    // SE of IC50 by hand from a numerical derivative of the prediction: SE = s·p/√ΣJ², on the
    // log scale J = ∂pred/∂ln p.
    let base = a
        .response_points
        .iter()
        .map(|p| p.predicted_pct)
        .collect::<Vec<_>>();
    let h: f64 = 1e-4;
    let shifted = {
        let text = scenario_text(&format!(
            "[response.dp_ucmgp]\nic50_mk7_ng_ml = {}\n{fit_text}{}",
            ea.estimate * h.exp(),
            rows(&obs, None)
        ));
        let mut s2 = scenario::parse_str(&text, "t").unwrap();
        s2.fit.as_mut().unwrap().response.clear();
        let r = run::run(&s2, SolverKind::Exact).unwrap();
        obs.iter()
            .map(|(reg, t, _)| {
                let rr = r.regimens.iter().find(|x| &x.regimen.label == reg).unwrap();
                let c = &rr.response[0];
                let i = rr.trajectory.time_h.iter().position(|x| x == t).unwrap();
                100.0 * (c.values[i] / c.baseline - 1.0)
            })
            .collect::<Vec<_>>()
    };
    let sum_j2: f64 = base
        .iter()
        .zip(&shifted)
        .map(|(b, s)| ((s - b) / h).powi(2))
        .sum();
    let se_hand = s * ea.estimate / sum_j2.sqrt();
    assert!(
        (ea.se / se_hand - 1.0).abs() < 1e-3,
        "{} vs {se_hand}",
        ea.se
    );
}

#[test]
fn the_shipped_derivations_fit_as_documented() {
    // Dalmeijer: 4 rows, 4 parameters, exact; at 12 weeks the markers are within 1 % of their
    // steady state, so the fit lands next to the presets solved at steady state.
    let text = std::fs::read_to_string("scenarios/fit_response_dalmeijer2012.toml").unwrap();
    let r = fit_of(&text);
    assert_eq!(r.se_basis, SeBasis::NotEstimable);
    assert!(r.estimates.iter().all(|e| e.se.is_nan()));
    for p in &r.response_points {
        assert!((p.observed_pct - p.predicted_pct).abs() < 1e-6, "{p:?}");
    }
    for e in &r.estimates {
        assert!(
            (e.estimate / e.initial - 1.0).abs() < 0.01,
            "{}: {} vs {}",
            e.name,
            e.estimate,
            e.initial
        );
    }
    // Westenfeld: one parameter, two rows, residual SE.
    let text = std::fs::read_to_string("scenarios/fit_response_westenfeld2012.toml").unwrap();
    let r = fit_of(&text);
    assert_eq!(r.se_basis, SeBasis::Residual);
    let e = &r.estimates[0];
    assert!(e.se.is_finite() && e.se > 0.0 && e.rse_pct < 50.0, "{e:?}");
    // At 6 weeks the marker has not reached its steady state, so the fitted IC50 is lower (more
    // potent) than the preset solved at steady state.
    assert!(e.estimate < e.initial, "{e:?}");
}

#[test]
fn the_cli_writes_a_fitted_scenario_that_reproduces_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit");
    Command::cargo_bin("k2sim")
        .unwrap()
        .args([
            "-q",
            "fit",
            "scenarios/fit_response_westenfeld2012.toml",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("fit.json")).unwrap()).unwrap();
    assert_eq!(json["se_basis"], "residual");
    let est = json["estimates"][0]["estimate"].as_f64().unwrap();
    let points = json["response_points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for f in [
        "fit.md",
        "fit_curves_dp_ucmgp.png",
        "fit_observed_vs_predicted.svg",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let fitted = std::fs::read_to_string(
        out.join("Westenfeld_2012_haemodialysis_dp-ucMGP_potency_by_fit_fitted.toml"),
    )
    .or_else(|_| {
        let f = std::fs::read_dir(&out)
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().ends_with("_fitted.toml"))
            .unwrap();
        std::fs::read_to_string(f.path())
    })
    .unwrap();
    let s = scenario::parse_str(&fitted, "fitted").unwrap();
    let spec = s.response.as_ref().unwrap();
    assert!((spec.presets[0].ic50_mk7_ng_ml.value / est - 1.0).abs() < 1e-12);
    assert_eq!(spec.presets[0].imax.value, 1.0);
    let r = run::run(&s, SolverKind::Exact).unwrap();
    for (p, reg) in points.iter().zip(&r.regimens) {
        let c = &reg.response[0];
        let i = reg
            .trajectory
            .time_h
            .iter()
            .position(|&t| t == 1008.0)
            .unwrap();
        let pct = 100.0 * (c.values[i] / c.baseline - 1.0);
        assert!((pct - p["predicted_pct"].as_f64().unwrap()).abs() < 1e-9);
    }
}

#[test]
fn response_fit_inputs_are_refused_where_they_are_written() {
    let err = |extra: &str| {
        scenario::parse_str(&scenario_text(extra), "t")
            .unwrap_err()
            .to_string()
    };
    let row = "\n[[observed_response]]\nregimen = \"low\"\nmarker = \"dp_ucmgp\"\ntime_h = 100\npct_change = -10\n";
    for (extra, want) in [
        (
            "[fit]\nparams = [\"ucoc.imax\"]\n",
            "without that marker in [response]",
        ),
        (
            "[fit]\nparams = [\"dp_ucmgp.imax\", \"v_l\"]\n",
            "PK and response parameters together",
        ),
        (
            "[fit]\nparams = [\"dp_ucmgp.imax\"]\nweighting = \"proportional\"\n",
            "in a response fit",
        ),
        (
            "[fit]\nparams = [\"dp_ucmgp.mk4_relative_potency\"]\n",
            "no MK-4 regimen",
        ),
        ("[response.ucoc]\nimax = 0.5\n", "not in `markers`"),
        (
            "[response.dp_ucmgp]\nimax = 1.5\n",
            "response.dp_ucmgp.imax",
        ),
        ("[response.dp_ucmgp]\nic50 = 1\n", "unknown"),
        (
            &format!("{row}se_pct = 2\n{row}"),
            "observed_response.se_pct",
        ),
        (&row.replace("dp_ucmgp", "ucoc"), "observed_response.marker"),
        (&row.replace("100", "9999"), "observed_response.time_h"),
        (&row.replace("-10", "-100"), "observed_response.pct_change"),
        (&row.replace("low", "lo"), "observed_response.regimen"),
    ] {
        let e = err(extra);
        assert!(e.contains(want), "{extra}\n→ {e}");
        // Located: `<scenario>:LINE:COL:`.
        let line = e.split(':').nth(1).and_then(|l| l.parse::<usize>().ok());
        assert!(line.is_some_and(|l| l > 0), "{e}");
    }
}
