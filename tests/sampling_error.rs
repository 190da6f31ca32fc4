//! Population statistics against their distributions, with tolerances from the sampling error:
//! every bound is 4 standard errors computed from n (a false failure about once in 16 000 per
//! check; the seeds are fixed, so a run is reproducible), at CVs of 10, 30 and 100 %. At
//! 100 % a wrong variance formula (ω = CV instead of ω² = ln(1 + CV²): 1.0 against 0.833) is
//! 20 standard errors away, so it cannot hide inside the band as it can at 30 %.
//!
//! The model: one oral dose (or a daily schedule), F·D·ka/(V·(ka − ke))·(e^(−ke·t) − e^(−ka·t)),
//! no baseline. With variability on V only, every concentration of a subject is the typical
//! one times V_typ/V = e^(−η), η ~ N(0, ω²), so its percentiles, mean and the share above a
//! level are known in closed form.

use k2sim::model::{ModelParam, SolverKind};
use k2sim::report::study::population_summary_json;
use k2sim::scenario::{parse_str, PopulationSpec, Scenario};
use k2sim::study::population::{distribution, simulate_population, RegimenPopulation};

/// One 100 µg dose, 48 h, hourly: ka 1.2/h, ke 0.03/h, V 10 L, F 0.5, no baseline.
const ONE_DOSE: &str = r#"name = "pop"
duration_h = 48
step_h = 1
[[regimen]]
compound = "mk7"
dose_ug = 100
[regimen.params]
ka_per_h = 1.2
ke_per_h = 0.03
v_l = 10
f = 0.5
tlag_h = 0
baseline_ng_ml = 0
"#;

fn spec(n: u64, seed: u64, cv_pct: Vec<(ModelParam, f64)>) -> PopulationSpec {
    PopulationSpec {
        n,
        seed,
        cv_pct,
        correlations: vec![],
        miss_prob: 0.0,
        jitter_h: 0.0,
        target_trough_ng_ml: None,
        band_step_h: 1.0,
        residual: None,
        lloq_ng_ml: None,
    }
}

fn simulate(s: &Scenario, sp: &PopulationSpec) -> RegimenPopulation {
    simulate_population(
        sp,
        &s.regimens[0],
        s.duration_h,
        s.step_h,
        SolverKind::Exact,
        s.ode,
        0..sp.n,
        &|_| {},
    )
    .unwrap()
}

/// ω = √ln(1 + CV²): the SD of the log of a log-normal with coefficient of variation CV.
fn omega(cv_pct: f64) -> f64 {
    (1.0 + (cv_pct / 100.0).powi(2)).ln().sqrt()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn var(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

#[track_caller]
fn within(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got} vs {want}, |diff| {} > {tol} (4 standard errors)",
        (got - want).abs()
    );
}

const CVS: [f64; 3] = [10.0, 30.0, 100.0];

#[test]
fn drawn_parameters_have_log_normal_moments_within_sampling_error() {
    let s = parse_str(ONE_DOSE, "pop").unwrap();
    let n = 4000;
    let typ_t = s.regimens[0].model.half_life_h();
    let typ_ka = s.regimens[0].model.ka_per_h;
    for (k, cv) in CVS.into_iter().enumerate() {
        let sp = spec(
            n,
            11 + k as u64,
            vec![(ModelParam::HalfLifeH, cv), (ModelParam::KaPerH, cv)],
        );
        let pop = simulate(&s, &sp);
        let w = omega(cv);
        let nf = n as f64;
        for (name, typ, values) in [
            (
                "half_life_h",
                typ_t,
                pop.subjects
                    .iter()
                    .map(|x| x.half_life_h)
                    .collect::<Vec<_>>(),
            ),
            (
                "ka_per_h",
                typ_ka,
                pop.subjects.iter().map(|x| x.ka_per_h).collect::<Vec<_>>(),
            ),
        ] {
            let logs: Vec<f64> = values.iter().map(|x| (x / typ).ln()).collect();
            // log X/X_typ ~ N(0, ω²): mean 0 with SE ω/√n; sample variance ω² with SE
            // ω²·√(2/(n − 1)).
            within(
                mean(&logs),
                0.0,
                4.0 * w / nf.sqrt(),
                &format!("{name} CV {cv}: log mean"),
            );
            within(
                var(&logs),
                w * w,
                4.0 * w * w * (2.0 / (nf - 1.0)).sqrt(),
                &format!("{name} CV {cv}: log variance"),
            );
            // E[X] = X_typ·e^(ω²/2) = X_typ·√(1 + CV²); SD[X] = X_typ·CV·√(1 + CV²).
            let c = cv / 100.0;
            let (m, sd) = (typ * (1.0 + c * c).sqrt(), typ * c * (1.0 + c * c).sqrt());
            within(
                mean(&values),
                m,
                4.0 * sd / nf.sqrt(),
                &format!("{name} CV {cv}: mean"),
            );
            // The median is the typical value: the sample median's SE is ω·√(π/2)/√n on the
            // log scale.
            let med = distribution(&values).p50;
            within(
                (med / typ).ln(),
                0.0,
                4.0 * w * (std::f64::consts::FRAC_PI_2 / nf).sqrt(),
                &format!("{name} CV {cv}: median"),
            );
        }
    }
}

#[test]
fn correlations_of_the_log_parameters_are_within_sampling_error() {
    let s = parse_str(ONE_DOSE, "pop").unwrap();
    let n = 4000;
    for (k, (cv, rho)) in [(30.0, 0.5), (100.0, 0.5), (100.0, -0.7), (10.0, 0.8)]
        .into_iter()
        .enumerate()
    {
        let mut sp = spec(
            n,
            21 + k as u64,
            vec![
                (ModelParam::HalfLifeH, cv),
                (ModelParam::VL, cv),
                (ModelParam::KaPerH, cv),
            ],
        );
        sp.correlations = vec![(ModelParam::HalfLifeH, ModelParam::VL, rho)];
        let pop = simulate(&s, &sp);
        let logs = |f: fn(&k2sim::study::population::SubjectMetrics) -> f64| {
            pop.subjects.iter().map(|x| f(x).ln()).collect::<Vec<f64>>()
        };
        let (lh, lv, lk) = (
            logs(|x| x.half_life_h),
            logs(|x| x.v_l),
            logs(|x| x.ka_per_h),
        );
        let r = |a: &[f64], b: &[f64]| {
            let (ma, mb) = (mean(a), mean(b));
            let cov = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - ma) * (y - mb))
                .sum::<f64>()
                / (a.len() - 1) as f64;
            cov / (var(a) * var(b)).sqrt()
        };
        // Fisher's z = atanh(r) is normal with SE 1/√(n − 3).
        let se = 1.0 / (n as f64 - 3.0).sqrt();
        let what = format!("CV {cv}, ρ {rho}");
        within(r(&lh, &lv).atanh(), f64::atanh(rho), 4.0 * se, &what);
        within(
            r(&lh, &lk).atanh(),
            0.0,
            4.0 * se,
            &format!("{what}: t½–ka"),
        );
        within(r(&lv, &lk).atanh(), 0.0, 4.0 * se, &format!("{what}: V–ka"));
        // The correlation does not change the marginals: V keeps its log variance ω².
        let w = omega(cv);
        within(
            var(&lv),
            w * w,
            4.0 * w * w * (2.0 / (n as f64 - 1.0)).sqrt(),
            &format!("{what}: V log variance"),
        );
    }
}

#[test]
fn missed_dose_rates_are_within_binomial_error() {
    // 30 daily doses, 500 subjects: 15 000 independent Bernoulli draws per rate, SE
    // √(p(1 − p)/15 000), e.g. 0.0024 at p = 0.1.
    let text = ONE_DOSE
        .replace("duration_h = 48", "duration_h = 720")
        .replace("step_h = 1", "step_h = 24")
        .replace(
            "dose_ug = 100",
            "dose_ug = 100\ninterval_h = 24\ndoses = 30",
        );
    let s = parse_str(&text, "pop").unwrap();
    for (k, p) in [0.02, 0.1, 0.5, 0.9].into_iter().enumerate() {
        let mut sp = spec(500, 31 + k as u64, vec![(ModelParam::VL, 30.0)]);
        sp.band_step_h = 24.0;
        sp.miss_prob = p;
        let pop = simulate(&s, &sp);
        let doses = 500.0 * 30.0;
        let taken: u32 = pop.subjects.iter().map(|x| x.doses_taken).sum();
        let missed = 1.0 - f64::from(taken) / doses;
        within(
            missed,
            p,
            4.0 * (p * (1.0 - p) / doses).sqrt(),
            &format!("miss rate {p}"),
        );
        // Per subject the count missed is Binomial(30, p): its variance 30·p·(1 − p) has SE
        // about σ²·√(2/(n − 1)) (near normal at these sizes; 6 SE allows for the kurtosis).
        let per: Vec<f64> = pop
            .subjects
            .iter()
            .map(|x| 30.0 - f64::from(x.doses_taken))
            .collect();
        let v = 30.0 * p * (1.0 - p);
        let kurt_factor = (2.0 + (1.0 - 6.0 * p * (1.0 - p)) / v).sqrt();
        within(
            var(&per),
            v,
            4.0 * v * kurt_factor / (500.0f64).sqrt(),
            &format!("miss count variance {p}"),
        );
    }
}

/// Standard normal quantiles for the reported percentiles 5, 25, 50, 75, 95.
const Z: [(f64, f64); 5] = [
    (5.0, -1.644_853_626_951_472_2),
    (25.0, -0.674_489_750_196_081_8),
    (50.0, 0.0),
    (75.0, 0.674_489_750_196_081_8),
    (95.0, 1.644_853_626_951_472_2),
];

#[test]
fn percentile_bands_and_metric_distributions_are_within_sampling_error() {
    let s = parse_str(ONE_DOSE, "pop").unwrap();
    let n = 4000u64;
    let nf = n as f64;
    let (ka, ke, v, f, d) = (1.2f64, 0.03f64, 10.0f64, 0.5f64, 100.0f64);
    let c_typ = |t: f64| f * d * ka / (v * (ka - ke)) * ((-ke * t).exp() - (-ka * t).exp());
    // Peak of one dose at ln(ka/ke)/(ka − ke) = ln 40/1.17 = 3.1529 h.
    let tmax = (ka / ke).ln() / (ka - ke);
    for (k, cv) in CVS.into_iter().enumerate() {
        let w = omega(cv);
        let mut sp = spec(n, 41 + k as u64, vec![(ModelParam::VL, cv)]);
        // The share of subjects whose trough (the level at 48 h, the lowest of the last 24 h)
        // is at or above T = C_typ(48)·e^(−ω·z₇₅) is P(−η ≥ −ω·z₇₅) = 75 %.
        sp.target_trough_ng_ml = Some(c_typ(48.0) * (-w * Z[3].1).exp());
        let pop = simulate(&s, &sp);
        // A percentile q of C(t) = C_typ(t)·e^(−η) is C_typ(t)·e^(ω·z_q). A sample quantile's
        // SE on the log scale is ω·√(q(1 − q)/n)/φ(z_q); the bands add the histogram's ±2^-8.
        let se_log = |q: f64, z: f64| {
            let phi = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
            w * (q / 100.0 * (1.0 - q / 100.0) / nf).sqrt() / phi
        };
        for (i, t) in pop
            .band_times_h
            .iter()
            .enumerate()
            .filter(|(_, t)| [2.0, 6.0, 30.0].contains(*t))
        {
            for (q, z) in Z {
                let got = pop.histogram.percentile(i, q);
                within(
                    (got / c_typ(*t)).ln(),
                    w * z,
                    4.0 * se_log(q, z) + 2f64.powi(-8),
                    &format!("CV {cv}: p{q} at {t} h"),
                );
            }
        }
        // Metric distributions of population_summary.json: Cmax and the trough scale the same
        // way (Tmax is unchanged, V does not move the peak's time), and their mean is
        // C·E[e^(−η)] = C·e^(ω²/2) with SD C·√(e^(2ω²) − e^(ω²)).
        let json: serde_json::Value = serde_json::from_slice(
            &population_summary_json("pop", &sp, 0.0, std::slice::from_ref(&pop), &[None]).unwrap(),
        )
        .unwrap();
        let r = &json["regimens"][0];
        assert_eq!(r["subjects"], n);
        for (key, c) in [("cmax_ng_ml", c_typ(tmax)), ("c_trough_ng_ml", c_typ(48.0))] {
            let dist = &r["metrics"][key];
            for (q, z) in Z {
                let got = dist[format!("p{q}")].as_f64().unwrap();
                // Exact order statistics: no histogram term.
                within(
                    (got / c).ln(),
                    w * z,
                    4.0 * se_log(q, z),
                    &format!("CV {cv}: {key} p{q}"),
                );
            }
            let sd = c * ((2.0 * w * w).exp() - (w * w).exp()).sqrt();
            within(
                dist["mean"].as_f64().unwrap(),
                c * (w * w / 2.0).exp(),
                4.0 * sd / nf.sqrt(),
                &format!("CV {cv}: {key} mean"),
            );
        }
        let tm = &r["metrics"]["tmax_h"];
        within(tm["p5"].as_f64().unwrap(), tmax, 1e-6, "tmax p5");
        within(tm["p95"].as_f64().unwrap(), tmax, 1e-6, "tmax p95");
        // Share at target: binomial, SE √(0.75·0.25/n) = 0.68 % at n = 4000.
        let share = r["share_trough_at_or_above_target_pct"].as_f64().unwrap();
        within(
            share,
            75.0,
            400.0 * (0.75 * 0.25 / nf).sqrt(),
            &format!("CV {cv}: share at target"),
        );
    }
}

#[test]
fn dose_time_jitter_has_the_asked_sd() {
    // One dose at 10 h, jitter SD 1.5 h, clamped at ±3 SD. Tmax is located exactly, so each
    // subject's shift is Tmax − 10 − ln(ka/ke)/(ka − ke). A standard normal clamped at ±3 has
    // variance (2Φ(3) − 1) − 6φ(3) + 9·2(1 − Φ(3)) = 0.997300 − 0.026591 + 0.024298 = 0.995007.
    let text = ONE_DOSE.replace("dose_ug = 100", "dose_ug = 100\nstart_h = 10");
    let s = parse_str(&text, "pop").unwrap();
    let n = 2000;
    let mut sp = spec(n, 51, vec![(ModelParam::VL, 30.0)]);
    sp.jitter_h = 1.5;
    let pop = simulate(&s, &sp);
    let tmax = (1.2f64 / 0.03).ln() / 1.17;
    let shift: Vec<f64> = pop
        .subjects
        .iter()
        .map(|x| x.tmax_h - 10.0 - tmax)
        .collect();
    let v: f64 = 1.5 * 1.5 * 0.995_007;
    let nf = n as f64;
    within(mean(&shift), 0.0, 4.0 * v.sqrt() / nf.sqrt(), "jitter mean");
    within(
        var(&shift),
        v,
        4.0 * v * (2.0 / (nf - 1.0)).sqrt(),
        "jitter variance",
    );
    let widest = shift.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(widest <= 4.5 + 1e-6, "clamped at 3 SD: {widest}");
}

#[test]
fn metric_distributions_are_exact_nearest_rank_percentiles() {
    // 20 values 1, 2, …, 20 in scrambled order: the nearest-rank percentile p is the
    // ⌈p/100·20⌉-th smallest, so p5 = 1st = 1, p25 = 5th = 5, p50 = 10th = 10, p75 = 15th = 15,
    // p95 = 19th = 19; the mean is 10.5. Non-finite values are left out.
    let mut v: Vec<f64> = (1..=20).map(|i| f64::from((i * 7) % 20 + 1)).collect();
    v.push(f64::NAN);
    v.push(f64::INFINITY);
    let d = distribution(&v);
    assert_eq!(
        [d.p5, d.p25, d.p50, d.p75, d.p95, d.mean],
        [1.0, 5.0, 10.0, 15.0, 19.0, 10.5]
    );
    // One value is every percentile; none is NaN.
    let one = distribution(&[3.0]);
    assert_eq!([one.p5, one.p95, one.mean], [3.0, 3.0, 3.0]);
    assert!(distribution(&[]).p50.is_nan());
}
