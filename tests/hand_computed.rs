//! Every reported metric of a run and of a comparison pinned by a case computed by hand.
//!
//! Each expected value below comes from a closed form written out in the comment next to it and
//! evaluated here with plain `f64` arithmetic, never through k2sim's own kernels, so a slip in
//! the code that two solvers share (a period shift, a wrong average, a dropped baseline term)
//! breaks these tests. The closed solution is exact to rounding, so the tolerances are relative
//! 1e-9 unless a comment says otherwise; every plausible slip moves a value by more than 1e-3.
//!
//! Notation: D dose (µg), F bioavailability, V volume (L), ka, ke (1/h), τ interval (h),
//! r_e = e^(−ke·τ), r_a = e^(−ka·τ), A = F·D·ka/(V·(ka − ke)) (ng/mL), b the baseline (ng/mL).
//! One dose: C(t) = A·(e^(−ke·t) − e^(−ka·t)). Superposition of n doses τ apart, t after the
//! last: C(t) = A·(e^(−ke·t)·S_e(n) − e^(−ka·t)·S_a(n)), S_x(n) = (1 − r_x^n)/(1 − r_x); at
//! steady state S_x = 1/(1 − r_x).

use k2sim::engine::compare::{compare, CompareOptions};
use k2sim::engine::run::{run, RunResult};
use k2sim::model::SolverKind;
use k2sim::scenario::parse_str;
use k2sim::units::ConcUnit;

const D: f64 = 100.0;
const F: f64 = 0.5;
const V: f64 = 10.0;
const KA: f64 = 1.2;
const KE: f64 = 0.03;
const TAU: f64 = 24.0;
const B: f64 = 0.2;
const N: u32 = 10;
const END: f64 = 240.0;

/// Two regimens of 10 doses 24 h apart, a run of 240 h: an oral one with a baseline, and IV
/// boluses without one (the near-bolus limit made exact).
const SCENARIO: &str = r#"
name = "hand"
duration_h = 240
step_h = 1
threshold_ng_ml = 12
[[regimen]]
label = "oral"
compound = "mk7"
dose_ug = 100
interval_h = 24
doses = 10
start_h = 0
[regimen.params]
ka_per_h = 1.2
ke_per_h = 0.03
v_l = 10
f = 0.5
tlag_h = 0
baseline_ng_ml = 0.2
[[regimen]]
label = "iv"
compound = "mk7"
route = "iv"
dose_ug = 100
interval_h = 24
doses = 10
start_h = 0
[regimen.params]
ke_per_h = 0.03
v_l = 10
baseline_ng_ml = 0
"#;

fn result(solver: SolverKind) -> RunResult {
    let s = parse_str(SCENARIO, "hand").unwrap();
    run(&s, solver).unwrap()
}

#[track_caller]
fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: got {got}, want {want} (relative error {:e})",
        (got - want).abs() / want.abs()
    );
}

fn re() -> f64 {
    (-KE * TAU).exp()
}
fn ra() -> f64 {
    (-KA * TAU).exp()
}
fn amp() -> f64 {
    F * D * KA / (V * (KA - KE))
}
/// S_x(n) = 1 + r + … + r^(n−1).
fn geo(r: f64, n: u32) -> f64 {
    (1.0 - r.powi(n as i32)) / (1.0 - r)
}

/// Oral: every metric of summary.json from its closed form.
fn check_oral(r: &RunResult, rel: f64) {
    let m = &r.regimens[0].metrics;
    let (re, ra, a) = (re(), ra(), amp());
    // Steady state: C_ss(t) = A·(e^(−ke·t)/(1 − r_e) − e^(−ka·t)/(1 − r_a)) + b. Its peak is where
    // ke·e^(−ke·t)/(1 − r_e) = ka·e^(−ka·t)/(1 − r_a): t* = ln(ka·(1 − r_e)/(ke·(1 − r_a)))/(ka − ke)
    // = ln(1.2·0.51325/0.03)/1.17 = ln 20.530/1.17 = 2.5828 h.
    let tmax_ss = (KA * (1.0 - re) / (KE * (1.0 - ra))).ln() / (KA - KE);
    close(tmax_ss, 2.5828, 1e-4, "tmax_ss by hand");
    let css = |t: f64| a * ((-KE * t).exp() / (1.0 - re) - (-KA * t).exp() / (1.0 - ra)) + B;
    close(m.tmax_ss_h.unwrap(), tmax_ss, 1e-6, "tmax_ss_h");
    close(m.cmax_ss_ng_ml.unwrap(), css(tmax_ss), rel, "cmax_ss_ng_ml");
    // Trough: the pre-dose level C_ss(τ) = C_ss(0) = A·(r_e/(1 − r_e) − r_a/(1 − r_a)) + b.
    let cmin = a * (re / (1.0 - re) - ra / (1.0 - ra)) + B;
    close(css(TAU), cmin, 1e-12, "trough by hand");
    close(m.cmin_ss_ng_ml.unwrap(), cmin, rel, "cmin_ss_ng_ml");
    // AUCτ,ss = F·D/(ke·V) + b·τ = 50/0.3 + 4.8 = 171.4667; Cavg,ss = AUCτ,ss/τ = 7.1444.
    let auc_tau = F * D / (KE * V) + B * TAU;
    close(auc_tau, 171.466_666_7, 1e-9, "auc_tau by hand");
    close(
        m.auc_tau_ss_ng_h_ml.unwrap(),
        auc_tau,
        rel,
        "auc_tau_ss_ng_h_ml",
    );
    close(
        m.cavg_ss_ng_ml.unwrap(),
        auc_tau / TAU,
        rel,
        "cavg_ss_ng_ml",
    );
    // Fluctuation (Cmax,ss − Cmin,ss)/Cavg,ss·100, with the baseline in Cavg (it cancels in the
    // numerator only): dividing by Cavg without baseline would be 2.8 % higher.
    let fl = (css(tmax_ss) - cmin) / (auc_tau / TAU) * 100.0;
    close(m.fluctuation_pct.unwrap(), fl, rel, "fluctuation_pct");
    // Accumulation: AUCτ,ss/AUC(0–τ) of the first dose, baseline excluded; the first period's
    // AUC is A·((1 − r_e)/ke − (1 − r_a)/ka).
    let first = a * ((1.0 - re) / KE - (1.0 - ra) / KA);
    close(
        m.accumulation_ratio.unwrap(),
        (F * D / (KE * V)) / first,
        rel,
        "accumulation_ratio",
    );
    // Pre-dose trough after n periods: C_n = A·(r_e·S_e(n) − r_a·S_a(n)), as a fraction of the
    // steady-state trough ≈ 1 − r_e^n: n = 3 → 0.885, n = 4 → 0.944 (r_e = 0.48675). The first
    // period at ≥ 90 % is the 4th: t_90ss = 4·24 = 96 h (a one-period shift gives 72 or 120).
    let trough_n = |n: u32| a * (re * geo(re, n) - ra * geo(ra, n));
    let frac = |n: u32| trough_n(n) / (cmin - B);
    assert!(frac(3) < 0.89 && frac(4) > 0.94, "{} {}", frac(3), frac(4));
    assert_eq!(m.t_90ss_h, Some(96.0), "t_90ss_h");
    assert_eq!(m.tau_h, Some(TAU));
    // Reached: the 4th trough (t = 96 h) lies inside the 240 h run.
    assert_eq!(m.steady_state_reached, Some(true));
    // The last pre-dose trough in the run is the one before the 10th dose (t = 216 h), after 9
    // periods: 100·C_9/C_ss = 100·(1 − r_e^9) to 1e-12 here = 99.85 %.
    close(
        m.last_trough_pct_of_ss.unwrap(),
        100.0 * frac(N - 1),
        rel,
        "last_trough_pct_of_ss",
    );
    // Cmax of the run: after the 10th dose (t = 216 h), C(t) = A·(e^(−ke·t)·S_e(10) −
    // e^(−ka·t)·S_a(10)) + b, peak at t* = ln(ka·S_a(10)/(ke·S_e(10)))/(ka − ke).
    let (se, sa) = (geo(re, N), geo(ra, N));
    let t_star = (KA * sa / (KE * se)).ln() / (KA - KE);
    let c_last = |t: f64| a * ((-KE * t).exp() * se - (-KA * t).exp() * sa) + B;
    close(m.tmax_h, 216.0 + t_star, 1e-7, "tmax_h");
    close(m.cmax_ng_ml, c_last(t_star), rel, "cmax_ng_ml");
    // AUC over the run: the sum over doses k = 0..9 of A·((1 − e^(−ke·T_k))/ke −
    // (1 − e^(−ka·T_k))/ka), T_k = 240 − 24·k, plus b·240 (dropping b would lose 48 ng·h/mL).
    let auc: f64 = (0..N)
        .map(|k| {
            let t = END - TAU * f64::from(k);
            a * ((1.0 - (-KE * t).exp()) / KE - (1.0 - (-KA * t).exp()) / KA)
        })
        .sum::<f64>()
        + B * END;
    close(m.auc_0_t_ng_h_ml, auc, rel, "auc_0_t_ng_h_ml");
}

/// IV boluses, no baseline: C0 = D/V = 10 ng/mL; at steady state Cmax,ss = C0/(1 − r_e),
/// Cmin,ss = C0·r_e/(1 − r_e), Cavg,ss = D/(V·ke·τ), so fluctuation = 100·ke·τ = 72 % and the
/// accumulation ratio is exactly 1/(1 − r_e).
fn check_iv(r: &RunResult, rel: f64) {
    let m = &r.regimens[1].metrics;
    let (re, c0) = (re(), D / V);
    close(m.cmax_ss_ng_ml.unwrap(), c0 / (1.0 - re), rel, "iv cmax_ss");
    close(c0 / (1.0 - re), 19.483_7, 1e-5, "iv cmax_ss by hand");
    close(
        m.cmin_ss_ng_ml.unwrap(),
        c0 * re / (1.0 - re),
        rel,
        "iv cmin_ss",
    );
    close(
        m.cavg_ss_ng_ml.unwrap(),
        D / (V * KE * TAU),
        rel,
        "iv cavg_ss",
    );
    close(
        m.auc_tau_ss_ng_h_ml.unwrap(),
        D / (V * KE),
        rel,
        "iv auc_tau",
    );
    close(
        m.fluctuation_pct.unwrap(),
        100.0 * KE * TAU,
        rel,
        "iv fluctuation",
    );
    close(
        m.accumulation_ratio.unwrap(),
        1.0 / (1.0 - re),
        rel,
        "iv accumulation",
    );
    assert_eq!(m.tmax_ss_h, Some(0.0));
    // Troughs: C_n/C_ss = 1 − r_e^n exactly: 0.885 at n = 3, 0.944 at n = 4.
    assert_eq!(m.t_90ss_h, Some(96.0));
    close(
        m.last_trough_pct_of_ss.unwrap(),
        100.0 * (1.0 - re.powi(9)),
        rel,
        "iv last trough",
    );
    // Cmax of the run is right after the 10th dose: C0·S_e(10) at 216 h.
    close(m.cmax_ng_ml, c0 * geo(re, N), rel, "iv cmax");
    close(m.tmax_h, 216.0, 1e-12, "iv tmax");
    let auc: f64 = (0..N)
        .map(|k| c0 * (1.0 - (-KE * (END - TAU * f64::from(k))).exp()) / KE)
        .sum();
    close(m.auc_0_t_ng_h_ml, auc, rel, "iv auc_0_t");
}

#[test]
fn run_metrics_match_their_closed_forms_under_the_exact_solver() {
    let r = result(SolverKind::Exact);
    check_oral(&r, 1e-9);
    check_iv(&r, 1e-9);
}

#[test]
fn run_metrics_match_their_closed_forms_under_dopri5() {
    // Dopri5 at the default tolerances (1e-10 relative) agrees with the closed forms to 1e-6.
    let r = result(SolverKind::Ode);
    check_oral(&r, 1e-6);
    check_iv(&r, 1e-6);
}

#[test]
fn steady_state_not_reached_when_the_run_stops_before_the_90_pct_trough() {
    // Three doses: t_90ss is still 96 h (the fourth trough), which the run never sees; the last
    // trough in the run is after two periods, 100·(1 − r_e²) = 76.31 % for the IV boluses.
    let text = SCENARIO
        .replace("doses = 10", "doses = 3")
        .replace("duration_h = 240", "duration_h = 72");
    let s = parse_str(&text, "hand").unwrap();
    let r = run(&s, SolverKind::Exact).unwrap();
    let m = &r.regimens[1].metrics;
    assert_eq!(m.t_90ss_h, Some(96.0));
    assert_eq!(m.steady_state_reached, Some(false));
    close(
        m.last_trough_pct_of_ss.unwrap(),
        100.0 * (1.0 - re().powi(2)),
        1e-9,
        "last trough",
    );
    close(100.0 * (1.0 - re().powi(2)), 76.307, 1e-4, "by hand");
}

#[test]
fn comparison_rows_match_their_closed_forms() {
    let s = parse_str(SCENARIO, "hand").unwrap();
    let r = run(&s, SolverKind::Exact).unwrap();
    let opts = CompareOptions {
        threshold_ng_ml: s.threshold_ng_ml,
        ode: s.ode,
        ..Default::default()
    };
    let c = compare(&r, &opts).unwrap();
    let row = |k: &str| {
        c.rows
            .iter()
            .find(|x| x.key == k)
            .unwrap_or_else(|| panic!("no row {k}"))
    };
    let (re, c0) = (re(), D / V);
    // Mean dose: 100 µg per 24 h.
    assert_eq!(
        row("dose_per_day_ug").values,
        vec![Some(100.0), Some(100.0)]
    );
    assert_eq!(row("tau_h").values, vec![Some(24.0), Some(24.0)]);
    // Cavg,ss: oral F·D/(ke·V·τ) + b = 7.1444, IV D/(ke·V·τ) = 13.8889; the ratio to the
    // reference (the first regimen) is 13.8889/7.1444 = 1.9440.
    let (cav_oral, cav_iv) = (F * D / (KE * V * TAU) + B, D / (KE * V * TAU));
    let cavg = row("cavg_ss_ng_ml");
    close(cavg.values[0].unwrap(), cav_oral, 1e-9, "cavg oral");
    close(cavg.values[1].unwrap(), cav_iv, 1e-9, "cavg iv");
    close(
        cavg.ratios[1].unwrap(),
        cav_iv / cav_oral,
        1e-9,
        "cavg ratio",
    );
    assert_eq!(cavg.ratios[0], Some(1.0));
    close(
        row("auc_tau_ss_ng_ml_h").values[1].unwrap(),
        D / (V * KE),
        1e-9,
        "auc_tau row",
    );
    close(
        row("cmax_ss_ng_ml").values[1].unwrap(),
        c0 / (1.0 - re),
        1e-9,
        "cmax_ss row",
    );
    close(
        row("cmin_ss_ng_ml").values[1].unwrap(),
        c0 * re / (1.0 - re),
        1e-9,
        "cmin_ss row",
    );
    close(
        row("fluctuation_pct").values[1].unwrap(),
        72.0,
        1e-9,
        "fluctuation row",
    );
    close(
        row("accumulation_ratio").values[1].unwrap(),
        1.0 / (1.0 - re),
        1e-9,
        "accumulation row",
    );
    // Rows whose ratio means nothing have none.
    assert_eq!(row("tau_h").ratios, vec![None, None]);
    // t_90ss = 96 h > 3 days: shown in days, 4 d.
    assert_eq!(row("t_90ss_d").values, vec![Some(4.0), Some(4.0)]);
    close(
        row("cmax_ng_ml").values[1].unwrap(),
        c0 * geo(re, N),
        1e-9,
        "cmax row",
    );
    // Time above 12 ng/mL, IV: after the k-th dose (k = 1..10) the peak is P_k = C0·S_e(k) and
    // the level falls as P_k·e^(−ke·t), above 12 for ln(P_k/12)/ke h when P_k > 12 (every
    // trough P_k·r_e < 9.49 is below 12). P_1 = 10 never is. At steady state:
    // ln(19.4837/12)/0.03 = 16.156 h per τ, 67.32 % of τ.
    let thr = 12.0;
    let run_h: f64 = (1..=N)
        .map(|k| c0 * geo(re, k))
        .filter(|&p| p > thr)
        .map(|p| (p / thr).ln() / KE)
        .sum();
    close(
        row("time_above_run_d").values[1].unwrap() * 24.0,
        run_h,
        1e-7,
        "time above, run",
    );
    // The reference (oral, below 12 ng/mL throughout) spends 0 h above: no ratio to it.
    assert_eq!(row("time_above_run_d").values[0], Some(0.0));
    assert_eq!(row("time_above_run_d").ratios, vec![None, None]);
    close(
        row("time_above_run_pct").values[1].unwrap(),
        100.0 * run_h / END,
        1e-7,
        "share of the run above",
    );
    let ss_h = (c0 / (1.0 - re) / thr).ln() / KE;
    close(ss_h, 16.156, 1e-4, "time above at ss by hand");
    close(
        row("time_above_ss_h_per_tau").values[1].unwrap(),
        ss_h,
        1e-7,
        "time above per tau",
    );
    close(
        row("time_above_ss_pct_of_tau").values[1].unwrap(),
        100.0 * ss_h / TAU,
        1e-7,
        "share of tau above",
    );
    // nmol/L: × 1000/649.02 (MK-7, docs/references.md); ratios unchanged.
    let n = compare(
        &r,
        &CompareOptions {
            units: ConcUnit::NmolL,
            ..opts
        },
    )
    .unwrap();
    let rn = n.rows.iter().find(|x| x.key == "cavg_ss_nmol_l").unwrap();
    close(
        rn.values[1].unwrap(),
        cav_iv * 1000.0 / 649.02,
        1e-9,
        "cavg nmol/L",
    );
    close(
        rn.ratios[1].unwrap(),
        cav_iv / cav_oral,
        1e-9,
        "ratio nmol/L",
    );
    // Units as the table prints them.
    assert_eq!(cavg.unit, "ng/mL");
    assert_eq!(rn.unit, "nmol/L");
    assert_eq!(row("auc_tau_ss_ng_ml_h").unit, "ng/mL·h");
    assert_eq!(row("fluctuation_pct").unit, "%");
    assert_eq!(row("t_90ss_d").unit, "d");
}

/// One oral dose, no baseline, 240 h on a 0.05 h grid (so the trapezoids of the rise are within
/// 1e-4 of the exact area).
const SINGLE: &str = r#"
name = "single"
duration_h = 240
step_h = 0.05
[[regimen]]
label = "one dose"
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

#[test]
fn nca_of_a_single_dose_matches_the_model() {
    let s = parse_str(SINGLE, "single").unwrap();
    let r = run(&s, SolverKind::Exact).unwrap();
    let n = k2sim::engine::nca::regimen_nca(&r.regimens[0], &[[0.0, 24.0]]);
    // Far after the peak the level is e^(−ke·t) alone, so λz = ke = 0.03/h and t½ = ln 2/0.03 =
    // 23.105 h. PKNCA's rule takes the most points within 1e-4 of the best adjusted R², and
    // those reach back to about 10 h after the dose, where the absorption term is still 1e-5
    // of the level: λz comes out 7e-5 low, so the tolerance is 1e-3 (log10 instead of ln, or
    // a half-life of ln 2·λz, would be off by factors).
    close(n.lambda_z_per_h.unwrap(), KE, 1e-3, "lambda_z");
    close(
        n.half_life_h.unwrap(),
        std::f64::consts::LN_2 / KE,
        1e-3,
        "half-life",
    );
    close(
        std::f64::consts::LN_2 / KE,
        23.104_906,
        1e-7,
        "half-life by hand",
    );
    // AUC0–∞ of the model: F·D/(ke·V) = 50/0.3 = 166.667 (exact); AUCinf,obs from the grid.
    close(
        n.aucinf_model_ng_h_ml.unwrap(),
        500.0 / 3.0,
        1e-12,
        "aucinf_model",
    );
    // The extrapolated tail Clast/λz is 0.1 % of it, so λz's 7e-5 moves AUCinf,obs by 1e-7.
    close(
        n.aucinf_obs_ng_h_ml.unwrap(),
        500.0 / 3.0,
        1e-4,
        "aucinf_obs",
    );
    // CL/F = D/AUCinf = ke·V/F = 0.6 L/h; Vz/F = CL/F/λz = V/F = 20 L.
    close(n.cl_f_l_per_h.unwrap(), KE * V / F, 1e-4, "cl_f");
    close(n.vz_f_l.unwrap(), V / F, 1e-3, "vz_f");
    // MRT0–∞ of first-order absorption into one compartment: 1/ka + 1/ke = 0.8333 + 33.333 =
    // 34.1667 h (mean absorption time plus mean residence time).
    close(n.mrt_obs_h.unwrap(), 1.0 / KA + 1.0 / KE, 1e-4, "mrt_obs");
    // Tlast, Clast: the end of the run, C(240) = A·(e^(−7.2) − e^(−288)) = 0.03821 ng/mL.
    close(n.tlast_h.unwrap(), 240.0, 0.0, "tlast");
    let a = amp();
    close(
        n.clast_obs_ng_ml.unwrap(),
        a * (-KE * 240.0).exp(),
        1e-9,
        "clast",
    );
    // AUC over [0, 24]: A·((1 − e^(−0.72))/ke − (1 − e^(−28.8))/ka) = 8.3423·... = 142.61.
    let want = a * ((1.0 - (-KE * 24.0).exp()) / KE - (1.0 - (-KA * 24.0f64).exp()) / KA);
    close(
        n.auc_intervals[0].auc_ng_h_ml.unwrap(),
        want,
        1e-4,
        "auc 0-24",
    );
    // One dose: no dosing interval.
    assert!(n.dosing_interval.is_none());
}

#[test]
fn nca_dosing_interval_of_the_last_period_matches_superposition() {
    // The oral regimen (baseline 0.2): the interval between the last two doses, 192–216 h. Its
    // pre-dose level at 216 h (Ctrough, after 9 doses) is A·(r_e·S_e(9) − r_a·S_a(9)) + b; its
    // lowest level (Cmin) is the pre-dose level at its start, 192 h, after 8 doses (the levels
    // still rise from period to period); swing = 100·(Cmax − Cmin)/Cmin.
    let r = result(SolverKind::Exact);
    let n = k2sim::engine::nca::regimen_nca(&r.regimens[0], &[]);
    let d = n.dosing_interval.unwrap();
    assert_eq!((d.start_h, d.end_h), (192.0, 216.0));
    let (re, ra, a) = (re(), ra(), amp());
    let trough = |n: u32| a * (re * geo(re, n) - ra * geo(ra, n)) + B;
    close(d.ctrough_ng_ml, trough(9), 1e-9, "ctrough");
    close(d.cmin_ng_ml, trough(8), 1e-9, "cmin");
    // Cmax on the 1 h grid: after the 9th dose (192 h), at the grid hour nearest the peak
    // t* = ln(ka·S_a(9)/(ke·S_e(9)))/(ka − ke) ≈ 2.5 h: the larger of 2 h and 3 h.
    let c = |t: f64| a * ((-KE * t).exp() * geo(re, 9) - (-KA * t).exp() * geo(ra, 9)) + B;
    let cmax = c(2.0).max(c(3.0));
    close(d.cmax_ng_ml, cmax, 1e-9, "cmax of the interval");
    close(
        d.swing_pct.unwrap(),
        100.0 * (cmax - trough(8)) / trough(8),
        1e-9,
        "swing",
    );
}

#[test]
fn response_to_a_constant_level_follows_the_turnover_closed_form() {
    use k2sim::engine::response::marker_courses;
    use k2sim::engine::sim::Trajectory;
    use k2sim::model::State;
    use k2sim::response::{preset, Marker, Population};
    // A constant MK-7 level c from t = 0 (no PK baseline) for 2000 h on a 1 h grid. The drive
    // is then constant, so R(t) = R_ss + (R0 − R_ss)·e^(−kout·t), with
    // R_ss/R0 = (1 − I(Cendo + x))/(1 − I(Cendo)), I(c) = Imax·c/(IC50 + c), x = c·1000/649.02
    // nmol/L: the change at steady state is 100·(R_ss/R0 − 1), at the end that times
    // (1 − e^(−kout·2000)), and half of it is reached at ln 2/kout.
    let p = preset(Marker::DpUcmgp, Population::Healthy).unwrap();
    let c = 3.0;
    let time_h: Vec<f64> = (0..=2000).map(f64::from).collect();
    let traj = Trajectory {
        conc_ng_ml: vec![c; time_h.len()],
        time_h,
        cmax_ng_ml: c,
        tmax_h: 0.0,
        auc_0_t_ng_h_ml: c * 2000.0,
        absorbed_input_ug: 0.0,
        end_state: State::ZERO,
        eliminated_ug: 0.0,
    };
    let profile = [(0.0, c), (12.0, c), (24.0, c)];
    for solver in [SolverKind::Exact, SolverKind::Ode] {
        let m = marker_courses(
            std::slice::from_ref(&p),
            "mk7",
            649.02,
            &traj,
            0.0,
            Some(&profile),
            solver,
        )
        .unwrap();
        let m = &m[0];
        let nmol = |ng: f64| ng * 1000.0 / 649.02;
        let (imax, ic50) = (p.imax.value, nmol(p.ic50_mk7_ng_ml.value));
        let inh = |x: f64| imax * x / (ic50 + x);
        let endo = nmol(p.cendo_ng_ml.value);
        let ratio = (1.0 - inh(endo + nmol(c))) / (1.0 - inh(endo));
        let kout = p.kout_per_day.value / 24.0;
        let ss = 100.0 * (ratio - 1.0);
        assert!(ss < -5.0, "a visible fall: {ss}");
        close(m.pct_change_ss.unwrap(), ss, 1e-9, "pct_change_ss");
        close(
            m.pct_change_at_end,
            ss * (1.0 - (-kout * 2000.0).exp()),
            1e-8,
            "pct_change_at_end",
        );
        close(m.baseline, p.baseline.value, 0.0, "baseline");
        // Linear interpolation between hourly values of a curve with time constant 1/kout
        // (tens of hours) is late by < kout·h²/8 relative: well below 1e-3 h.
        let t50 = std::f64::consts::LN_2 / kout;
        let got = m.t_50pct_effect_h.unwrap();
        assert!((got - t50).abs() < 1e-3, "t_50pct_effect_h {got} vs {t50}");
    }
}

#[test]
fn sweep_rows_and_sweep_csv_carry_each_combination_s_closed_form() {
    use k2sim::metric::Metric;
    use k2sim::scenario::SweepParam;
    use k2sim::study::sweep::{run_sweep, sensitivity};
    // Two axes (dose 50/200 µg, V 5/20 L) over the oral regimen: Cavg,ss = F·D/(ke·V·τ) + b
    // and AUCτ,ss = F·D/(ke·V) + b·τ for each combination, e.g. D = 200, V = 5: 100/3.6 + 0.2
    // = 27.978 ng/mL.
    let text = SCENARIO
        .split("[[regimen]]\nlabel = \"iv\"")
        .next()
        .unwrap()
        .to_string()
        + "[sweep]\ndose_ug = [50, 200]\nv_l = [5, 20]\n";
    let s = parse_str(&text, "hand").unwrap();
    let spec = s.sweep.clone().unwrap();
    let rows = run_sweep(
        &s,
        &spec,
        SolverKind::Exact,
        0..spec.combinations(),
        &|_| {},
    )
    .unwrap();
    assert_eq!(rows.len(), 4);
    let csv = String::from_utf8(k2sim::report::study::sweep_csv(&spec, &rows).unwrap()).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |k: &str| head.iter().position(|h| *h == k).unwrap();
    for (row, line) in rows.iter().zip(lines) {
        let value = |p: SweepParam| {
            let k = spec.axes.iter().position(|a| a.param == p).unwrap();
            row.values[k]
        };
        let (d, v) = (
            value(SweepParam::DoseUg),
            value(SweepParam::Model(k2sim::model::ModelParam::VL)),
        );
        let cavg = F * d / (KE * v * TAU) + B;
        close(row.metrics.cavg_ss_ng_ml.unwrap(), cavg, 1e-9, "sweep cavg");
        let cells: Vec<&str> = line.split(',').collect();
        let cell = |k: &str| cells[col(k)].parse::<f64>().unwrap();
        close(cell("cavg_ss_ng_ml"), cavg, 1e-8, "sweep.csv cavg");
        close(
            cell("auc_tau_ss_ng_h_ml"),
            cavg * TAU,
            1e-8,
            "sweep.csv auc_tau",
        );
        close(cell("dose_ug"), d, 0.0, "sweep.csv dose");
        close(cell("v_l"), v, 0.0, "sweep.csv v_l");
        assert_eq!(cell("t_90ss_h"), 96.0, "t_90ss does not depend on D or V");
    }
    // Sensitivity ±10 %: the dose part of Cavg,ss is ∝ D/V, the baseline fixed, so
    // Cavg(1.1·D)/Cavg − 1 = 0.1·c/(c + b) with c = F·D/(ke·V·τ) = 6.9444: +9.7278 %; V × 0.9
    // gives (1/0.9 − 1)·c/(c + b) = +10.809 %.
    let rows = sensitivity(
        &s,
        SolverKind::Exact,
        10.0,
        &[
            SweepParam::DoseUg,
            SweepParam::Model(k2sim::model::ModelParam::VL),
        ],
    )
    .unwrap();
    let c = F * D / (KE * V * TAU);
    let find = |p: SweepParam| {
        rows.iter()
            .find(|r| r.param == p && r.metric == Metric::CavgSsNgMl)
            .unwrap()
    };
    let dose = find(SweepParam::DoseUg);
    close(dose.high_change_pct, 10.0 * c / (c + B), 1e-9, "dose +10 %");
    close(dose.low_change_pct, -10.0 * c / (c + B), 1e-9, "dose −10 %");
    let vol = find(SweepParam::Model(k2sim::model::ModelParam::VL));
    close(
        vol.low_change_pct,
        100.0 * (1.0 / 0.9 - 1.0) * c / (c + B),
        1e-9,
        "V −10 %",
    );
    close(
        vol.high_change_pct,
        100.0 * (1.0 / 1.1 - 1.0) * c / (c + B),
        1e-9,
        "V +10 %",
    );
    close(vol.base, c + B, 1e-9, "base");
}

#[test]
fn comparison_of_unequal_intervals_and_explicit_doses() {
    // IV boluses, no baseline: 100 µg every 24 h, 200 µg every 48 h, and 100 µg at 0, 24 and
    // 48 h as an explicit list, over 240 h. Mean doses: 100, 100 and 300 µg/240 h·24 = 30 µg/day.
    // Cavg,ss = D/(ke·V·τ) is 13.889 ng/mL for both periodic ones (ratio 1); AUCτ,ss ratios
    // exist only over equal intervals, so the 48 h regimen has none; the explicit list has no
    // steady state at all.
    let text = r#"
name = "intervals"
duration_h = 240
step_h = 1
threshold_ng_ml = 12
[[regimen]]
label = "q24"
compound = "mk7"
route = "iv"
dose_ug = 100
interval_h = 24
doses = 10
[regimen.params]
ke_per_h = 0.03
v_l = 10
baseline_ng_ml = 0
[[regimen]]
label = "q48"
compound = "mk7"
route = "iv"
dose_ug = 200
interval_h = 48
doses = 5
[regimen.params]
ke_per_h = 0.03
v_l = 10
baseline_ng_ml = 0
[[regimen]]
label = "three"
compound = "mk7"
route = "iv"
[[regimen.dose]]
at_h = 0
dose_ug = 100
[[regimen.dose]]
at_h = 24
dose_ug = 100
[[regimen.dose]]
at_h = 48
dose_ug = 100
[regimen.params]
ke_per_h = 0.03
v_l = 10
baseline_ng_ml = 0
"#;
    let s = parse_str(text, "intervals").unwrap();
    let r = run(&s, SolverKind::Exact).unwrap();
    let c = compare(
        &r,
        &CompareOptions {
            threshold_ng_ml: s.threshold_ng_ml,
            ode: s.ode,
            ..Default::default()
        },
    )
    .unwrap();
    let row = |k: &str| c.rows.iter().find(|x| x.key == k).unwrap();
    let dose = row("dose_per_day_ug");
    assert_eq!(dose.values[..2], [Some(100.0), Some(100.0)]);
    close(dose.values[2].unwrap(), 30.0, 1e-12, "explicit mean dose");
    close(dose.ratios[2].unwrap(), 0.3, 1e-12, "explicit dose ratio");
    let cavg = row("cavg_ss_ng_ml");
    close(
        cavg.values[1].unwrap(),
        200.0 / (KE * V * 48.0),
        1e-9,
        "q48 cavg",
    );
    close(cavg.ratios[1].unwrap(), 1.0, 1e-9, "cavg ratio");
    assert_eq!(cavg.values[2], None);
    assert_eq!(cavg.ratios[2], None);
    let auc = row("auc_tau_ss_ng_ml_h");
    assert_eq!(auc.ratios[0], Some(1.0));
    assert_eq!(auc.ratios[1], None, "AUCτ over 48 h against 24 h");
    close(
        auc.values[1].unwrap(),
        200.0 / (V * KE),
        1e-9,
        "q48 auc_tau",
    );
    // Time above 12 ng/mL at steady state: ln(Cmax,ss/12)/ke per τ; its share of τ compares
    // across intervals, the hours per τ do not. q48: Cmax,ss = 20/(1 − e^(−1.44)) = 26.46.
    let per = row("time_above_ss_h_per_tau");
    let h48 = (20.0 / (1.0 - (-KE * 48.0f64).exp()) / 12.0).ln() / KE;
    close(per.values[1].unwrap(), h48, 1e-7, "q48 hours above per tau");
    assert_eq!(per.ratios[1], None);
    let h24 = (10.0 / (1.0 - re()) / 12.0).ln() / KE;
    let pct = row("time_above_ss_pct_of_tau");
    close(
        pct.ratios[1].unwrap(),
        (h48 / 48.0) / (h24 / 24.0),
        1e-7,
        "share ratio",
    );
    // A named reference: ratios to the 48 h regimen, mean doses 100/100 = 1 and 30/100 = 0.3.
    let by = compare(
        &r,
        &CompareOptions {
            reference: Some("q48".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by.reference, 1);
    let dose = by.rows.iter().find(|x| x.key == "dose_per_day_ug").unwrap();
    assert_eq!(dose.ratios[1], Some(1.0));
    close(dose.ratios[2].unwrap(), 0.3, 1e-12, "ratio to q48");
    let auc = by
        .rows
        .iter()
        .find(|x| x.key == "auc_tau_ss_ng_ml_h")
        .unwrap();
    assert_eq!(auc.ratios[0], None, "AUCτ over 24 h against 48 h");
    assert_eq!(auc.ratios[1], Some(1.0));
}

#[test]
fn comparison_rows_of_the_markers_are_the_regimens_courses() {
    use k2sim::response::Marker;
    // The change of dp-ucMGP at the end and at steady state, and the time to half of it, as
    // the comparison reports them: the regimen's own course (its values are checked against
    // the turnover closed form above), the time in days when it exceeds 3 days.
    let text =
        format!("{SCENARIO}[response]\nmarkers = [\"dp_ucmgp\"]\npopulation = \"healthy\"\n");
    let text = text
        .replace("duration_h = 240", "duration_h = 2400")
        .replace("doses = 10", "doses = 100");
    let s = parse_str(&text, "hand").unwrap();
    let r = run(&s, SolverKind::Exact).unwrap();
    let c = compare(&r, &CompareOptions::default()).unwrap();
    let k = Marker::DpUcmgp.key();
    let row = |key: String| c.rows.iter().find(|x| x.key == key).unwrap();
    for (i, reg) in r.regimens.iter().enumerate() {
        let course = &reg.response[0];
        assert_eq!(course.marker, Marker::DpUcmgp);
        assert_eq!(
            row(format!("{k}_pct_change_at_end")).values[i],
            Some(course.pct_change_at_end)
        );
        assert_eq!(
            row(format!("{k}_pct_change_ss")).values[i],
            course.pct_change_ss
        );
        let t50 = course.t_50pct_effect_h.unwrap();
        assert!(t50 > 72.0, "{t50}");
        close(
            row(format!("{k}_t_50pct_effect_d")).values[i].unwrap(),
            t50 / 24.0,
            1e-12,
            "t50 in days",
        );
    }
    // The change is a fall, larger for the larger Cavg (IV here).
    let ss = row(format!("{k}_pct_change_ss"));
    assert!(ss.values[1].unwrap() < ss.values[0].unwrap() && ss.values[0].unwrap() < 0.0);
    close(
        ss.ratios[1].unwrap(),
        ss.values[1].unwrap() / ss.values[0].unwrap(),
        1e-12,
        "ratio",
    );
}

/// IV boluses of 100 µg into 10 L, ke 0.03/h, every 24 h from `start_h`: the troughs are
/// C0·r_e·S_e(n), their fraction of steady state exactly 1 − r_e^n.
fn iv_scenario(doses: u32, duration_h: f64, start_h: f64) -> String {
    format!(
        r#"
name = "iv"
duration_h = {duration_h}
step_h = 1
[[regimen]]
label = "iv"
compound = "mk7"
route = "iv"
dose_ug = 100
interval_h = 24
doses = {doses}
start_h = {start_h}
[regimen.params]
ke_per_h = 0.03
v_l = 10
baseline_ng_ml = 0
"#
    )
}

#[test]
fn the_last_trough_counts_only_periods_that_start_inside_the_run() {
    // 20 doses, a 240 h run: the doses at 0, 24, …, 240 h fall inside it (11 periods start),
    // so the last pre-dose trough seen is the one at 240 h, after 10 periods: 100·(1 − r_e^10)
    // = 99.924 %. With all 20 periods it would be 100·(1 − r_e^19).
    let s = parse_str(&iv_scenario(20, 240.0, 0.0), "iv").unwrap();
    let r = run(&s, SolverKind::Exact).unwrap();
    let reg = &r.regimens[0];
    close(
        reg.metrics.last_trough_pct_of_ss.unwrap(),
        100.0 * (1.0 - re().powi(10)),
        1e-12,
        "last trough",
    );
    assert_eq!(reg.metrics.steady_state_reached, Some(true));
    // Dose marks: only the doses inside the run.
    let marks: Vec<f64> = (0..=10).map(|k| 24.0 * f64::from(k)).collect();
    assert_eq!(reg.dose_times_h, marks);
    // IV doses into a volume the scenario gives: no note about the preset's V/F.
    assert!(reg.notes.is_empty(), "{:?}", reg.notes);
    // A run shorter than one interval: one period, no pre-dose trough inside it.
    let s = parse_str(&iv_scenario(20, 12.0, 0.0), "iv").unwrap();
    let m = run(&s, SolverKind::Exact).unwrap().regimens[0].metrics;
    assert_eq!(m.last_trough_pct_of_ss, None);
    assert_eq!(m.steady_state_reached, Some(false));
    assert_eq!(m.t_90ss_h, Some(96.0));
}

#[test]
fn steady_state_is_reached_only_when_its_trough_falls_inside_the_run() {
    // First dose at 8 h: the 90 % trough is the 4th, at 8 + 96 = 104 h. A run of 104 h holds
    // it; one of 103.5 h does not, although 10 doses are scheduled.
    // The periods that start inside the run, ⌊(duration − 8)/24⌋ + 1 (at most 10), set the last
    // trough seen: after 4, 3 and 9 periods.
    for (duration, reached, last) in [(104.0, true, 4), (103.5, false, 3), (250.0, true, 9)] {
        let s = parse_str(&iv_scenario(10, duration, 8.0), "iv").unwrap();
        let m = run(&s, SolverKind::Exact).unwrap().regimens[0].metrics;
        assert_eq!(m.t_90ss_h, Some(96.0), "{duration}");
        assert_eq!(m.steady_state_reached, Some(reached), "{duration} h");
        close(
            m.last_trough_pct_of_ss.unwrap(),
            100.0 * (1.0 - re().powi(last)),
            1e-12,
            &format!("last trough, {duration} h"),
        );
    }
    // Four doses: the 90 % trough would be the pre-dose level before a 5th dose, which is never
    // taken, however long the run; with five doses it is the level before the 5th.
    for (doses, reached) in [(4, false), (3, false), (5, true)] {
        let s = parse_str(&iv_scenario(doses, 240.0, 0.0), "iv").unwrap();
        let m = run(&s, SolverKind::Exact).unwrap().regimens[0].metrics;
        assert_eq!(m.t_90ss_h, Some(96.0));
        assert_eq!(m.steady_state_reached, Some(reached), "{doses} doses");
    }
    // An oral lag delays the trough too: first dose at 8 h, lag 0.5 h, so the 4th trough is at
    // 104.5 h; a run of 104.25 h holds three periods and misses it.
    let oral = |duration: f64| {
        SCENARIO
            .split("[[regimen]]\nlabel = \"iv\"")
            .next()
            .unwrap()
            .replace("duration_h = 240", &format!("duration_h = {duration}"))
            .replace("start_h = 0", "start_h = 8")
            .replace("tlag_h = 0", "tlag_h = 0.5")
    };
    // Pre-dose level after n periods, the absorption of dose k starting 0.5 h after it:
    // A·Σₖ₌₁ⁿ (e^(−ke·(24k − 0.5)) − e^(−ka·(24k − 0.5))); periods in the run
    // ⌊(duration − 8.5)/24⌋ + 1: 4, 5 and 10, so the last trough is after 3, 4 and 9.
    let (re, ra) = (re(), ra());
    let trough = |n: u32| (0.5 * KE).exp() * re * geo(re, n) - (0.5 * KA).exp() * ra * geo(ra, n);
    let trough_ss = (0.5 * KE).exp() * re / (1.0 - re) - (0.5 * KA).exp() * ra / (1.0 - ra);
    for (duration, reached, last) in [(104.25, false, 3), (104.5, true, 4), (250.0, true, 9)] {
        let s = parse_str(&oral(duration), "hand").unwrap();
        let m = run(&s, SolverKind::Exact).unwrap().regimens[0].metrics;
        assert_eq!(m.t_90ss_h, Some(96.0), "{duration}");
        assert_eq!(m.steady_state_reached, Some(reached), "oral, {duration} h");
        close(
            m.last_trough_pct_of_ss.unwrap(),
            100.0 * trough(last) / trough_ss,
            1e-9,
            &format!("oral last trough, {duration} h"),
        );
    }
}

#[test]
fn iv_doses_into_the_preset_volume_say_so() {
    let text = "name = \"n\"\nduration_h = 48\nstep_h = 1\n[[regimen]]\nlabel = \"a\"\ncompound = \"mk7\"\nroute = \"iv\"\ndose_ug = 100\n[[regimen]]\nlabel = \"b\"\ncompound = \"mk7\"\ndose_ug = 100\n";
    let s = parse_str(text, "n").unwrap();
    let r = run(&s, SolverKind::Exact).unwrap();
    assert_eq!(r.regimens[0].notes.len(), 1, "{:?}", r.regimens[0].notes);
    assert!(r.regimens[0].notes[0].starts_with("IV doses go into the preset's volume"));
    assert!(
        r.regimens[1].notes.is_empty(),
        "oral: {:?}",
        r.regimens[1].notes
    );
}

#[test]
fn residuals_are_observed_minus_the_closed_form() {
    // Observations at 30, 2 and 5 h (file order kept; 2.525 h is off the 0.05 h grid) against
    // C(t) = A·(e^(−ke·t) − e^(−ka·t)): e.g. C(2) = 5.1282·(0.94176 − 0.09072) = 4.3644 ng/mL.
    let text = format!(
        "{SINGLE}[[observed]]\ntime_h = 30\nconc_ng_ml = 2.0\n[[observed]]\ntime_h = 2\nconc_ng_ml = 4.0\n[[observed]]\ntime_h = 5\nconc_ng_ml = 5.0\n[[observed]]\ntime_h = 2.525\nconc_ng_ml = 4.5\n"
    );
    let s = parse_str(&text, "single").unwrap();
    let r = run(&s, SolverKind::Exact).unwrap();
    let res = &r.regimens[0].residuals;
    let a = amp();
    let c = |t: f64| a * ((-KE * t).exp() - (-KA * t).exp());
    close(c(2.0), 4.3644, 1e-4, "C(2) by hand");
    let want = [(30.0, 2.0), (2.0, 4.0), (5.0, 5.0), (2.525, 4.5)];
    assert_eq!(res.len(), want.len());
    for (got, (t, obs)) in res.iter().zip(want) {
        assert_eq!(got.time_h, t);
        close(
            got.predicted_ng_ml,
            c(t),
            1e-9,
            &format!("predicted at {t} h"),
        );
        close(
            got.residual_ng_ml,
            obs - c(t),
            1e-9,
            &format!("residual at {t} h"),
        );
    }
}

#[test]
fn two_compartment_half_lives_are_the_roots_of_the_rate_matrix() {
    // k10 = 0.1/h, k12 = Q/V = 2/10 = 0.2/h, k21 = Q/Vp = 2/20 = 0.1/h: α, β = ½·(Σ ± √(Σ² −
    // 4·k10·k21)) with Σ = 0.4: √0.12 = 0.34641, α = 0.37321/h, β = 0.026795/h; t½α = ln 2/α =
    // 1.8573 h, t½β = 25.869 h.
    let text = "name = \"two\"\nduration_h = 48\nstep_h = 1\n[[regimen]]\nlabel = \"two\"\ncompound = \"mk7\"\ndose_ug = 100\n[regimen.params]\nmodel = \"two_compartment\"\nke_per_h = 0.1\nv_l = 10\nq_l_per_h = 2\nvp_l = 20\n";
    let s = parse_str(text, "two").unwrap();
    let p = run(&s, SolverKind::Exact).unwrap().regimens[0].params;
    let disc = (0.4f64 * 0.4 - 4.0 * 0.1 * 0.1).sqrt();
    let (alpha, beta) = ((0.4 + disc) / 2.0, (0.4 - disc) / 2.0);
    close(alpha, 0.373_205, 1e-5, "alpha by hand");
    let ln2 = std::f64::consts::LN_2;
    close(
        p.alpha_half_life_h.unwrap(),
        ln2 / alpha,
        1e-9,
        "alpha half-life",
    );
    close(
        p.terminal_half_life_h.unwrap(),
        ln2 / beta,
        1e-9,
        "terminal half-life",
    );
    close(ln2 / beta, 25.869, 1e-4, "terminal half-life by hand");
    close(p.half_life_h, ln2 / 0.1, 1e-12, "half_life_h is ln 2/ke");
    assert_eq!((p.q_l_per_h, p.vp_l), (Some(2.0), Some(20.0)));
}

#[test]
fn saturable_absorption_far_below_km_is_first_order() {
    // Michaelis–Menten absorption, Vmax/(Km + A_g)·A_g, with Km = 10⁶ µg ≫ the 50 µg in the
    // gut: the rate is ka·A_g·(1 − A_g/Km + …) with ka = Vmax/Km = 1.2/h, within 5e-5 of first
    // order. Every metric is then the first-order closed form to 1e-3, through the nonlinear
    // path: Dopri5, Newton's method for the fixed point and the period walk for t_90ss.
    let text = SCENARIO
        .split("[[regimen]]\nlabel = \"iv\"")
        .next()
        .unwrap()
        .replace(
            "ka_per_h = 1.2\n",
            "absorption = \"michaelis_menten\"\nvmax_ug_per_h = 1200000\nkm_ug = 1000000\n",
        );
    let s = parse_str(&text, "hand").unwrap();
    assert!(!s.regimens[0].model.is_linear());
    let r = run(&s, SolverKind::Ode).unwrap();
    let m = &r.regimens[0].metrics;
    let (re, ra, a) = (re(), ra(), amp());
    let tmax_ss = (KA * (1.0 - re) / (KE * (1.0 - ra))).ln() / (KA - KE);
    let css = |t: f64| a * ((-KE * t).exp() / (1.0 - re) - (-KA * t).exp() / (1.0 - ra)) + B;
    let cmin = a * (re / (1.0 - re) - ra / (1.0 - ra)) + B;
    let auc_tau = F * D / (KE * V) + B * TAU;
    let rel = 1e-3;
    close(m.cmax_ss_ng_ml.unwrap(), css(tmax_ss), rel, "MM cmax_ss");
    close(m.tmax_ss_h.unwrap(), tmax_ss, rel, "MM tmax_ss");
    close(m.cmin_ss_ng_ml.unwrap(), cmin, rel, "MM cmin_ss");
    close(m.auc_tau_ss_ng_h_ml.unwrap(), auc_tau, rel, "MM auc_tau");
    close(m.cavg_ss_ng_ml.unwrap(), auc_tau / TAU, rel, "MM cavg");
    let fl = (css(tmax_ss) - cmin) / (auc_tau / TAU) * 100.0;
    close(m.fluctuation_pct.unwrap(), fl, rel, "MM fluctuation");
    let first = a * ((1.0 - re) / KE - (1.0 - ra) / KA);
    close(
        m.accumulation_ratio.unwrap(),
        (F * D / (KE * V)) / first,
        rel,
        "MM accumulation",
    );
    assert_eq!(m.t_90ss_h, Some(96.0), "MM t_90ss");
    assert_eq!(m.steady_state_reached, Some(true));
    let trough_n = |n: u32| a * (re * geo(re, n) - ra * geo(ra, n));
    close(
        m.last_trough_pct_of_ss.unwrap(),
        100.0 * trough_n(N - 1) / (cmin - B),
        rel,
        "MM last trough",
    );
    let (se, sa) = (geo(re, N), geo(ra, N));
    let t_star = (KA * sa / (KE * se)).ln() / (KA - KE);
    let c_last = |t: f64| a * ((-KE * t).exp() * se - (-KA * t).exp() * sa) + B;
    close(m.cmax_ng_ml, c_last(t_star), rel, "MM cmax");
    close(m.tmax_h, 216.0 + t_star, 1e-4, "MM tmax");
}

#[test]
fn a_lag_longer_than_the_interval_shifts_the_approach_by_one_period() {
    // Lag 30 h, τ 24 h: each dose starts absorbing 6 h into the next period, so the first
    // period sees nothing and the steady state is the lag-free one shifted by 30 h. Its peak is
    // 6 + 2.5828 h after a period's first dose; its lowest level is the lag-free trough; Cavg
    // and the fluctuation are unchanged. The pre-dose level at period start n·τ holds the doses
    // absorbed for 18, 42, … h: C_n = A·(e^(−18·ke)·S_e(n − 1) − e^(−18·ka)·S_a(n − 1)), a
    // fraction ≈ 1 − r_e^(n−1) of steady state: 90 % first at n = 5, t_90ss = 120 h (96 h
    // without the lag, the one-period shift a missed wrap would give).
    let text = SCENARIO
        .split("[[regimen]]\nlabel = \"iv\"")
        .next()
        .unwrap()
        .replace("tlag_h = 0", "tlag_h = 30");
    let s = parse_str(&text, "hand").unwrap();
    for solver in [SolverKind::Exact, SolverKind::Ode] {
        let rel = if solver == SolverKind::Exact {
            1e-9
        } else {
            1e-6
        };
        let m = run(&s, solver).unwrap().regimens[0].metrics;
        let (re, ra, a) = (re(), ra(), amp());
        let t_star = (KA * (1.0 - re) / (KE * (1.0 - ra))).ln() / (KA - KE);
        let css = |t: f64| a * ((-KE * t).exp() / (1.0 - re) - (-KA * t).exp() / (1.0 - ra)) + B;
        close(m.tmax_ss_h.unwrap(), 6.0 + t_star, 1e-6, "lagged tmax_ss");
        close(m.cmax_ss_ng_ml.unwrap(), css(t_star), rel, "lagged cmax_ss");
        close(m.cmin_ss_ng_ml.unwrap(), css(TAU), rel, "lagged cmin_ss");
        let cavg = F * D / (KE * V * TAU) + B;
        close(m.cavg_ss_ng_ml.unwrap(), cavg, rel, "lagged cavg");
        close(
            m.fluctuation_pct.unwrap(),
            (css(t_star) - css(TAU)) / cavg * 100.0,
            rel,
            "lagged fluctuation",
        );
        assert_eq!(m.t_90ss_h, Some(120.0), "{solver:?}");
        // The run holds the periods starting by 240 − 30 = 210 h: 9 of them, so the last
        // trough is after 8 periods, 7 doses absorbed.
        let c_n = |n: u32| {
            a * ((-KE * 18.0).exp() * geo(re, n - 1) - (-KA * 18.0f64).exp() * geo(ra, n - 1))
        };
        let c_ss = a * ((-KE * 18.0).exp() / (1.0 - re) - (-KA * 18.0f64).exp() / (1.0 - ra));
        assert!(c_n(4) / c_ss < 0.89 && c_n(5) / c_ss > 0.94);
        close(
            m.last_trough_pct_of_ss.unwrap(),
            100.0 * c_n(8) / c_ss,
            rel,
            "lagged last trough",
        );
        assert_eq!(m.steady_state_reached, Some(true));
    }
}

#[test]
fn saturable_absorption_with_slow_elimination_finds_the_fixed_point() {
    // As above (Km ≫ the gut amount, so first order with ka = 1.2/h), but ke = 0.0005/h: one
    // period removes only 1 − e^(−0.012) = 1.2 % of the body's amount, so repeating the period
    // map would need thousands of periods; Newton's method with the map's Jacobian needs a few
    // steps, and a wrong Jacobian cannot reach the fixed point in its 60. Cavg,ss =
    // F·D/(ke·V·τ) + b = 50/0.12 + 0.2 = 416.87 ng/mL; the trough and peak by the closed form.
    let ke = 0.0005;
    let text = SCENARIO
        .split("[[regimen]]\nlabel = \"iv\"")
        .next()
        .unwrap()
        .replace(
            "ka_per_h = 1.2\n",
            "absorption = \"michaelis_menten\"\nvmax_ug_per_h = 1200000\nkm_ug = 1000000\n",
        )
        .replace("ke_per_h = 0.03", "ke_per_h = 0.0005");
    let s = parse_str(&text, "hand").unwrap();
    let r = run(&s, SolverKind::Ode).unwrap();
    let reg = &r.regimens[0];
    assert!(reg.notes.is_empty(), "{:?}", reg.notes);
    let m = &reg.metrics;
    let (re, ra) = ((-ke * TAU).exp(), ra());
    let a = F * D * KA / (V * (KA - ke));
    let cavg = F * D / (ke * V * TAU) + B;
    close(cavg, 416.866_667, 1e-7, "cavg by hand");
    close(m.cavg_ss_ng_ml.unwrap(), cavg, 1e-3, "slow MM cavg");
    let cmin = a * (re / (1.0 - re) - ra / (1.0 - ra)) + B;
    close(m.cmin_ss_ng_ml.unwrap(), cmin, 1e-3, "slow MM cmin");
    let t = (KA * (1.0 - re) / (ke * (1.0 - ra))).ln() / (KA - ke);
    let cmax = a * ((-ke * t).exp() / (1.0 - re) - (-KA * t).exp() / (1.0 - ra)) + B;
    close(m.cmax_ss_ng_ml.unwrap(), cmax, 1e-3, "slow MM cmax");
}

#[test]
fn a_lag_that_carries_one_dose_of_the_pattern_into_the_next_period() {
    // Doses at 0 and 12 h of each day, lag 18 h: absorption starts at 18 h (same period) and
    // 30 h (6 h into the next), so the first period ends holding the second dose in the gut, and
    // at steady state absorption starts every 12 h, at offsets 6 and 18 h. The pre-dose level at
    // day n holds 2n − 1 absorbed doses, 6, 18, 30, … h old: C_n = A·(e^(−6·ke)·S′_e(2n − 1) −
    // e^(−6·ka)·S′_a(2n − 1)), S′ with r′ = e^(−12·k); at steady state S′ = 1/(1 − r′). As a
    // fraction ≈ 1 − e^(−0.36·(2n − 1)): 0.835 at day 3, 0.920 at day 4, so t_90ss = 96 h. The
    // run holds 10 days: the last trough is after 9.
    let text = SCENARIO
        .split("[[regimen]]\nlabel = \"iv\"")
        .next()
        .unwrap()
        .replace(
            "interval_h = 24\ndoses = 10\nstart_h = 0\n",
            "times_h = [0, 12]\ndays = 10\n",
        )
        .replace("tlag_h = 0", "tlag_h = 18");
    let s = parse_str(&text, "hand").unwrap();
    let a = amp();
    let (r_e, r_a) = ((-KE * 12.0).exp(), (-KA * 12.0f64).exp());
    let (w_e, w_a) = ((-KE * 6.0).exp(), (-KA * 6.0f64).exp());
    let c_n = |n: u32| a * (w_e * geo(r_e, 2 * n - 1) - w_a * geo(r_a, 2 * n - 1));
    let c_ss = a * (w_e / (1.0 - r_e) - w_a / (1.0 - r_a));
    assert!(c_n(3) / c_ss < 0.85 && c_n(4) / c_ss > 0.91);
    for solver in [SolverKind::Exact, SolverKind::Ode] {
        let rel = if solver == SolverKind::Exact {
            1e-9
        } else {
            1e-6
        };
        let m = run(&s, solver).unwrap().regimens[0].metrics;
        assert_eq!(m.tau_h, Some(24.0));
        assert_eq!(m.t_90ss_h, Some(96.0), "{solver:?}");
        close(
            m.last_trough_pct_of_ss.unwrap(),
            100.0 * c_n(9) / c_ss,
            rel,
            "wrapped last trough",
        );
        // Cavg,ss: two doses per 24 h.
        close(
            m.cavg_ss_ng_ml.unwrap(),
            2.0 * F * D / (KE * V * TAU) + B,
            rel,
            "wrapped cavg",
        );
    }
}

#[test]
fn saturable_absorption_last_trough_of_a_short_run() {
    // Three doses of the near-first-order saturable model: the last trough in the run is after
    // 2 periods, 100·C_2/C_ss with C_n = A·(r_e·S_e(n) − r_a·S_a(n)) = 76.3 % (the 3rd would
    // give 88.5 %).
    let text = SCENARIO
        .split("[[regimen]]\nlabel = \"iv\"")
        .next()
        .unwrap()
        .replace(
            "ka_per_h = 1.2\n",
            "absorption = \"michaelis_menten\"\nvmax_ug_per_h = 1200000\nkm_ug = 1000000\n",
        )
        .replace("doses = 10", "doses = 3")
        .replace("duration_h = 240", "duration_h = 72");
    let s = parse_str(&text, "hand").unwrap();
    let m = run(&s, SolverKind::Ode).unwrap().regimens[0].metrics;
    let (re, ra, a) = (re(), ra(), amp());
    let trough_n = |n: u32| a * (re * geo(re, n) - ra * geo(ra, n));
    let trough_ss = a * (re / (1.0 - re) - ra / (1.0 - ra));
    close(
        m.last_trough_pct_of_ss.unwrap(),
        100.0 * trough_n(2) / trough_ss,
        1e-3,
        "MM last trough of 3 doses",
    );
    assert_eq!(m.t_90ss_h, Some(96.0));
    assert_eq!(m.steady_state_reached, Some(false));
}

/// The single-dose peak time ln(ka/ke)/(ka − ke) near ka = ke, where the code switches to the
/// series ln(r)/(r − 1) = 1 − (r − 1)/2 + (r − 1)²/3 − … (r = ka/ke): at r − 1 = 4e-7 and
/// ke = 0.1 /h, tmax = 10·(1 − 2e-7 + 5.3e-14) h = 9.999998 h; at ka = ke the limit 1/ke = 10 h;
/// and just outside the series (r − 1 = 2e-6) the log form, evaluated here with ln_1p.
/// A slip in the series (its half) moves the value by 6e-6 h, far beyond the 1e-10 allowed.
#[test]
fn peak_time_near_equal_rates_follows_the_series() {
    use k2sim::compound::tmax_single_dose_h;
    let ke = 0.1;
    assert_eq!(tmax_single_dose_h(ke, ke), 10.0);
    let t = tmax_single_dose_h(ke * (1.0 + 4e-7), ke);
    assert!((t - 9.999_998).abs() < 1e-10, "{t}");
    let x: f64 = 2e-6;
    let t = tmax_single_dose_h(ke * (1.0 + x), ke);
    let expected = x.ln_1p() / x / ke;
    assert!((t - expected).abs() < 1e-9, "{t} vs {expected}");
}

/// The convolution of three exponentials K3(t) = Σ_i e^(−λ_i·t) / Π_{j≠i}(λ_j − λ_i) (the gut
/// to peripheral path of two compartments) where the rates nearly coincide and the code uses
/// its series about their mean: λ = 1, 1.0002, 1.0004 /h at t = 2 h ((λ_max − λ_min)·t = 8e-4).
/// The sum is evaluated here term by term: each term is about 6e6, the sum 0.27, so rounding
/// leaves about 1e-9 of it; the series is good to 1e-9 too. Near the limit t²/2·e^(−m·t) with
/// m the mean rate: 2·e^(−2.0004) = 0.2706; a wrong mean or a wrong exponent moves it by 10 %
/// or more.
#[test]
fn three_nearly_equal_rates_convolve_as_their_sum_of_exponentials() {
    use k2sim::model::exact::triple_kernel;
    let (t, l) = (2.0_f64, [1.0_f64, 1.0002, 1.0004]);
    let mut sum = 0.0;
    for i in 0..3 {
        let den: f64 = (0..3).filter(|&j| j != i).map(|j| l[j] - l[i]).product();
        sum += (-l[i] * t).exp() / den;
    }
    let k = triple_kernel(l[0], l[1], l[2], t);
    assert!(((k - sum) / sum).abs() < 1e-7, "{k} vs {sum}");
    assert!(((k - 2.0 * (-2.0004_f64).exp()) / k).abs() < 1e-6, "{k}");
    // Symmetric in the rates.
    assert_eq!(triple_kernel(l[2], l[0], l[1], t), k);
}

/// A run that ends before the single dose's peak: Cmax is the concentration at the end, not the
/// peak the curve would reach later. One oral dose of 100 µg at 0 h, F = 0.5, V = 10 L,
/// ka = 0.5 /h, ke = 0.05 /h: the peak would come at ln(ka/ke)/(ka − ke) = 5.12 h, but the run
/// ends at 1 h, so Cmax = A·(e^(−ke) − e^(−ka)) with A = F·D·ka/(V·(ka − ke)) = 50/9 ng/mL:
/// 1.9225 ng/mL at Tmax = 1 h (the peak beyond the end would be 3.7 ng/mL).
#[test]
fn a_run_that_ends_before_the_peak_has_its_end_as_cmax() {
    let s = parse_str(
        r#"
duration_h = 1
step_h = 0.25
[[regimen]]
compound = "mk7"
dose_ug = 100
[regimen.params]
ka_per_h = 0.5
ke_per_h = 0.05
v_l = 10
f = 0.5
"#,
        "hand",
    )
    .unwrap();
    let a = 0.5 * 100.0 * 0.5 / (10.0 * 0.45);
    let want = a * ((-0.05_f64).exp() - (-0.5_f64).exp());
    for solver in [SolverKind::Exact, SolverKind::Ode] {
        let m = &run(&s, solver).unwrap().regimens[0].metrics;
        close(m.cmax_ng_ml, want, 1e-6, "cmax before the peak");
        close(m.tmax_h, 1.0, 1e-9, "tmax at the end");
    }
}
