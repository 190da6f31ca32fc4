//! Hand-computed NCA cases. Each states the arithmetic it checks, so a wrong rule (log-down on a
//! rising segment, Tmax in the λz regression, R² instead of adjusted R², the BLQ rule) fails.

use super::*;

const LN2: f64 = std::f64::consts::LN_2;

fn profile(t: &[f64], c: &[f64]) -> Profile {
    Profile::new(t.to_vec(), c.to_vec()).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// t = 0, 1, 2, 3, 4 h; C = 0, 8, 4, 2, 1 ng/mL: a linear rise to Tmax = 1 h, then halving
/// every hour (λz = ln 2 exactly).
fn halving() -> Profile {
    profile(&[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 8.0, 4.0, 2.0, 1.0])
}

#[test]
fn auc_is_linear_up_and_log_down() {
    // [0, 1] rises: linear, 1·(0 + 8)/2 = 4. The falling segments are log trapezoids,
    // Δt·(c2 − c1)/ln(c2/c1): 1·(−4)/ln(1/2) = 4/ln 2, then 2/ln 2 and 1/ln 2.
    // AUClast = 4 + 7/ln 2 = 14.098865286...
    let p = halving();
    let auc = auc_last(&p, AucMethod::LinUpLogDown).unwrap();
    assert!(close(auc, 4.0 + 7.0 / LN2, 1e-14), "{auc}");
    // All linear: 4 + 6 + 3 + 1.5 = 14.5.
    let lin = auc_last(&p, AucMethod::Linear).unwrap();
    assert!(close(lin, 14.5, 1e-15), "{lin}");
    // A log trapezoid on the rising segment 0 → 8 would be infinite or NaN; on a rising
    // segment between positive values it differs from the linear one: C = 4, 6 over 1 h gives
    // 5 linearly and 2/ln 1.5 = 4.93 as a log trapezoid.
    let up = profile(&[0.0, 1.0, 2.0], &[0.0, 4.0, 6.0]);
    let a = auc_last(&up, AucMethod::LinUpLogDown).unwrap();
    assert!(close(a, 2.0 + 5.0, 1e-15), "{a}");
}

#[test]
fn aumc_and_the_parameters_derived_from_it() {
    // AUMC: [0, 1] is the trapezoid on t·C, 1·(0·0 + 8·1)/2 = 4. On [1, 4] C = 8·e^(−k(t − 1)),
    // k = ln 2, and the log trapezoid is exact: ∫ t·C = 8·∫₀³ (u + 1)·e^(−ku) du
    // = 8·[(1 − e^(−3k))/k + (1 − e^(−3k)(1 + 3k))/k²] = 4/k + 7/k².
    let p = halving();
    let n = nca(&p, Some(100.0), &NcaOptions::default());
    let k = LN2;
    let aumclast = n.aumclast_ng_h2_ml.clone().unwrap();
    assert!(
        close(aumclast, 4.0 + 4.0 / k + 7.0 / (k * k), 1e-13),
        "{aumclast}"
    );
    // λz from the three points after Tmax, 4, 2, 1 at 2, 3, 4 h: exactly ln 2.
    let lz = n.lambda_z.clone().unwrap();
    assert!(close(lz.lambda_z_per_h, k, 1e-14), "{lz:?}");
    assert_eq!(lz.n_points, 3);
    assert_eq!((lz.time_first_h, lz.time_last_h), (2.0, 4.0));
    assert!(close(lz.half_life_h, 1.0, 1e-14));
    assert!(close(lz.span_ratio, 2.0, 1e-14));
    assert!(close(lz.clast_pred_ng_ml, 1.0, 1e-14));
    // AUCinf,obs = AUClast + Clast/λz = 4 + 7/k + 1/k = 4 + 8/k.
    let aucinf = n.aucinf_obs_ng_h_ml.clone().unwrap();
    assert!(close(aucinf, 4.0 + 8.0 / k, 1e-14), "{aucinf}");
    // AUMCinf,obs = AUMClast + Clast·Tlast/λz + Clast/λz² = 4 + 8/k + 8/k².
    let aumcinf = n.aumcinf_obs_ng_h2_ml.clone().unwrap();
    assert!(close(aumcinf, 4.0 + 8.0 / k + 8.0 / (k * k), 1e-13));
    assert!(close(n.mrt_obs_h.clone().unwrap(), aumcinf / aucinf, 1e-15));
    assert!(close(
        n.mrt_last_h.clone().unwrap(),
        aumclast / (4.0 + 7.0 / k),
        1e-14
    ));
    // CL/F = dose/AUCinf (µg over ng·h/mL is L/h); Vz/F = CL/F / λz.
    let cl = n.cl_f_l_per_h.clone().unwrap();
    assert!(close(cl, 100.0 / aucinf, 1e-15));
    assert!(close(n.vz_f_l.clone().unwrap(), cl / k, 1e-15));
    assert_eq!(n.cmax_ng_ml, Ok(8.0));
    assert_eq!(n.tmax_h, Ok(1.0));
    assert_eq!(
        (n.tlast_h.clone(), n.clast_obs_ng_ml.clone()),
        (Ok(4.0), Ok(1.0))
    );
    // Without a dose, CL/F and Vz/F are missing, and say why.
    let no_dose = nca(&p, None, &NcaOptions::default());
    assert_eq!(no_dose.cl_f_l_per_h, Err(Missing::NoDose));
    assert!(no_dose
        .vz_f_l
        .unwrap_err()
        .to_string()
        .contains("CL/F is missing: no dose given"));
}

#[test]
fn tmax_is_not_in_the_lambda_z_regression() {
    // Tmax (1 h, 8 ng/mL) lies on the same exponential as the points after it, so with Tmax
    // allowed the 4-point fit is exact too and, having more points, is chosen.
    let p = halving();
    let lz = lambda_z(&p, &NcaOptions::default()).unwrap();
    assert_eq!((lz.n_points, lz.time_first_h), (3, 2.0));
    let with_tmax = NcaOptions {
        allow_tmax_in_half_life: true,
        ..NcaOptions::default()
    };
    let lz = lambda_z(&p, &with_tmax).unwrap();
    assert_eq!((lz.n_points, lz.time_first_h), (4, 1.0));
}

#[test]
fn lambda_z_recovers_the_rate_of_exact_exponential_data() {
    // C = 10·e^(−0.1234·t) sampled every 0.5 h over 48 h, once from 0 h and once from 1000 h
    // (late times test the centred sums): every regression is exact and the longest, all
    // points after Tmax, is chosen.
    for t0 in [0.0, 1000.0] {
        let t: Vec<f64> = (0..=96).map(|i| t0 + 0.5 * i as f64).collect();
        let c: Vec<f64> = t
            .iter()
            .map(|x| 10.0 * (-0.1234 * (x - t0)).exp())
            .collect();
        let lz = lambda_z(&profile(&t, &c), &NcaOptions::default()).unwrap();
        assert!(
            (lz.lambda_z_per_h - 0.1234).abs() <= 1e-12 * 0.1234,
            "t0 {t0}: {lz:?}"
        );
        assert_eq!(lz.n_points, 96);
    }
}

/// After Tmax (8 ng/mL at 2 h), C = 10·e^(−0.2·t) at 4, 6, 8, 10 and 12 h with one sample
/// multiplied by `1 + eps`. The adjusted R² values below were computed separately (Python,
/// ordinary least squares, R² = 1 − SSres/SStot).
fn perturbed(index: usize, eps: f64) -> Profile {
    let t: [f64; 7] = [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0];
    let mut c: Vec<f64> = t.iter().map(|x| 10.0 * (-0.2 * x).exp()).collect();
    c[0] = 0.0;
    c[1] = 8.0;
    c[2 + index] *= 1.0 + eps;
    profile(&t, &c)
}

#[test]
fn lambda_z_takes_the_most_points_within_the_adjusted_r2_tolerance() {
    let o = NcaOptions::default();
    // The 6 h sample 1 % high: the last 3 points fit exactly (adjusted R² 1); 4 points give
    // 0.99994513, 5 points 0.99994253, both within 1e-4 of 1: the 5-point fit is chosen.
    let lz = lambda_z(&perturbed(1, 0.01), &o).unwrap();
    assert_eq!(lz.n_points, 5);
    assert!(
        close(lz.lambda_z_per_h, 0.20049751654265843, 1e-12),
        "{lz:?}"
    );
    assert!(close(lz.adj_r_squared, 0.99994253345139, 1e-10));
    assert!(close(lz.r_squared, 0.9999569000885424, 1e-10));
    // 2 % high: 0.99978586 and 0.99977354, outside the tolerance: the exact 3-point fit.
    let lz = lambda_z(&perturbed(1, 0.02), &o).unwrap();
    assert_eq!(lz.n_points, 3);
    assert!(close(lz.lambda_z_per_h, 0.2, 1e-12));
    // The 4 h sample 3 % high: the last 4 points are exact, 5 give 0.99971724: 4 points.
    let lz = lambda_z(&perturbed(0, 0.03), &o).unwrap();
    assert_eq!(lz.n_points, 4);
    assert!(close(lz.lambda_z_per_h, 0.2, 1e-12));
    // A wider tolerance takes the 5 points again.
    let wide = NcaOptions {
        adj_r_squared_factor: 1e-3,
        ..o
    };
    assert_eq!(lambda_z(&perturbed(0, 0.03), &wide).unwrap().n_points, 5);
}

#[test]
fn the_tolerance_is_on_adjusted_not_plain_r2() {
    // The 6 h sample 1.4 % high. Adjusted R²: 1 (3 points), 0.99989351 (4), 0.99988804 (5):
    // only the 3-point fit is within 1e-4 of the best. Plain R² would be 1, 0.99992901 and
    // 0.99991603, all within 1e-4, and would choose 5 points.
    let lz = lambda_z(&perturbed(1, 0.014), &NcaOptions::default()).unwrap();
    assert_eq!(lz.n_points, 3);
    assert!(close(lz.adj_r_squared, 1.0, 1e-12));
}

#[test]
fn lambda_z_missing_values_say_why() {
    let o = NcaOptions::default();
    // Two points after Tmax.
    let p = profile(&[0.0, 1.0, 2.0, 3.0], &[0.0, 8.0, 4.0, 2.0]);
    assert_eq!(
        lambda_z(&p, &o),
        Err(Missing::TooFewPoints { n: 2, min: 3 })
    );
    let n = nca(&p, Some(1.0), &o);
    assert_eq!(
        n.aucinf_obs_ng_h_ml.unwrap_err().to_string(),
        "λz is missing: 2 positive sample(s) after Tmax; λz needs at least 3 (PKNCA min.hl.points)"
    );
    // AUClast does not need λz.
    assert!(n.auclast_ng_h_ml.is_ok());
    // A tail that rises after Tmax: the only regression has λz < 0.
    let p = profile(&[0.0, 2.0, 3.0, 4.0, 5.0], &[0.0, 8.0, 2.0, 2.1, 2.2]);
    assert_eq!(lambda_z(&p, &o), Err(Missing::NoTerminalPhase));
    // All positive concentrations equal.
    let p = profile(&[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 3.0, 3.0, 3.0, 3.0]);
    assert_eq!(lambda_z(&p, &o), Err(Missing::NoVariability));
}

#[test]
fn blq_first_values_are_kept_and_anchor_the_auc() {
    // C = 0, 0, 4, 2, 1, 0.5 at 0…5 h: both zeros precede the first positive value ("first",
    // kept). [0, 1] adds nothing (both 0), [1, 2] is linear 0 → 4: 2; then 2/ln 2 + 1/ln 2 +
    // 0.5/ln 2. Dropping them would leave no sample at the dose and no AUC.
    let p = profile(
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        &[0.0, 0.0, 4.0, 2.0, 1.0, 0.5],
    );
    let n = nca(&p, None, &NcaOptions::default());
    assert!(close(n.auclast_ng_h_ml.unwrap(), 2.0 + 3.5 / LN2, 1e-14));
    assert_eq!(n.blq_dropped, 0);
}

#[test]
fn blq_middle_values_are_dropped() {
    // C = 0, 4, 0, 2, 1, 0.5 at 0…5 h: the 0 at 2 h lies between positive values and is
    // dropped, so 4 → 2 falls over [1, 3]: 2·(−2)/ln(1/2) = 4/ln 2. AUClast = 2 + 4/ln 2 +
    // 1/ln 2 + 0.5/ln 2. Keeping it would give 2 + 2 + 1 + 1/ln 2 + 0.5/ln 2.
    let p = profile(
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        &[0.0, 4.0, 0.0, 2.0, 1.0, 0.5],
    );
    let n = nca(&p, None, &NcaOptions::default());
    assert!(close(
        n.auclast_ng_h_ml.clone().unwrap(),
        2.0 + 5.5 / LN2,
        1e-14
    ));
    assert_eq!(n.blq_dropped, 1);
    // λz from 2, 1, 0.5 at 3, 4, 5 h (the dropped zero is not a point).
    let lz = n.lambda_z.unwrap();
    assert_eq!(lz.n_points, 3);
    assert!(close(lz.lambda_z_per_h, LN2, 1e-14));
}

#[test]
fn blq_last_values_are_kept_but_end_nothing() {
    // C = 0, 4, 2, 1, 0, 0 at 0…5 h: Tlast is 3 h (Clast 1); the trailing zeros stay but
    // AUClast stops at Tlast: 2 + 2/ln 2 + 1/ln 2. Two positive points after Tmax: no λz.
    let p = profile(
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        &[0.0, 4.0, 2.0, 1.0, 0.0, 0.0],
    );
    let n = nca(&p, None, &NcaOptions::default());
    assert_eq!(
        (n.tlast_h.clone(), n.clast_obs_ng_ml.clone()),
        (Ok(3.0), Ok(1.0))
    );
    assert!(close(n.auclast_ng_h_ml.unwrap(), 2.0 + 3.0 / LN2, 1e-14));
    assert_eq!(n.lambda_z, Err(Missing::TooFewPoints { n: 2, min: 3 }));
    assert_eq!(n.blq_dropped, 0);
}

#[test]
fn every_value_blq_and_other_edge_profiles() {
    let o = NcaOptions::default();
    let p = profile(&[0.0, 1.0, 2.0], &[0.0, 0.0, 0.0]);
    let n = nca(&p, Some(10.0), &o);
    // As PKNCA: Cmax 0, no Tmax or Tlast, Clast 0, every area 0, no λz, no ratio.
    assert_eq!(n.cmax_ng_ml, Ok(0.0));
    assert_eq!(n.tmax_h, Err(Missing::AllBlq));
    assert_eq!(n.tlast_h, Err(Missing::AllBlq));
    assert_eq!(n.clast_obs_ng_ml, Ok(0.0));
    assert_eq!(n.auclast_ng_h_ml, Ok(0.0));
    assert_eq!(n.aucinf_obs_ng_h_ml, Ok(0.0));
    assert_eq!(n.lambda_z, Err(Missing::AllBlq));
    assert_eq!(
        n.cl_f_l_per_h,
        Err(Missing::ZeroArea { what: "AUCinf,obs" })
    );
    // One sample: no area.
    let one = nca(&profile(&[0.0], &[1.0]), None, &o);
    assert_eq!(one.auclast_ng_h_ml, Err(Missing::OneSample));
    // No sample at the dose: PKNCA gives no AUC rather than extrapolating back.
    let late = nca(
        &profile(&[1.0, 2.0, 3.0, 4.0], &[8.0, 4.0, 2.0, 1.0]),
        None,
        &o,
    );
    assert_eq!(
        late.auclast_ng_h_ml,
        Err(Missing::NoSampleAtDose { first_h: 1.0 })
    );
    assert!(late.lambda_z.is_ok());
    assert!(late
        .aucinf_obs_ng_h_ml
        .unwrap_err()
        .to_string()
        .starts_with("AUClast is missing: no sample at the dose"));
}

#[test]
fn profiles_refuse_bad_samples() {
    assert!(matches!(
        Profile::new(vec![0.0, 1.0], vec![1.0]),
        Err(ProfileError::Lengths { .. })
    ));
    assert!(matches!(
        Profile::new(vec![0.0, 1.0, 1.0], vec![1.0, 2.0, 3.0]),
        Err(ProfileError::Order { index: 2, .. })
    ));
    assert!(matches!(
        Profile::new(vec![-1.0], vec![1.0]),
        Err(ProfileError::Time { index: 0, .. })
    ));
    assert!(matches!(
        Profile::new(vec![0.0], vec![-0.1]),
        Err(ProfileError::Conc { index: 0, .. })
    ));
}

#[test]
fn partial_aucs_interpolate_their_ends_by_the_segment_rule() {
    let p = halving();
    let m = AucMethod::LinUpLogDown;
    // On samples: [0, 2] = 4 + 4/ln 2.
    let a = auc_between(&p, 0.0, 2.0, m).unwrap();
    assert!(close(a, 4.0 + 4.0 / LN2, 1e-14), "{a}");
    // [0.5, 1.5]: C(0.5) = 4 on the rising (linear) segment, C(1.5) = 8·2^(−1/2) on the
    // falling (log-linear) one. Linear part 0.5·(4 + 8)/2 = 3; log part
    // 0.5·(C(1.5) − 8)/ln(C(1.5)/8) = 8·(1 − 2^(−1/2))/ln 2.
    let a = auc_between(&p, 0.5, 1.5, m).unwrap();
    let expected = 3.0 + 8.0 * (1.0 - 0.5f64.sqrt()) / LN2;
    assert!(close(a, expected, 1e-14), "{a} vs {expected}");
    // The whole profile equals AUClast; after Tlast nothing is added.
    assert!(close(
        auc_between(&p, 0.0, 4.0, m).unwrap(),
        auc_last(&p, m).unwrap(),
        1e-15
    ));
    let tail = profile(&[0.0, 1.0, 2.0, 3.0], &[0.0, 4.0, 2.0, 0.0]);
    assert!(close(
        auc_between(&tail, 0.0, 3.0, m).unwrap(),
        2.0 + 2.0 / LN2,
        1e-14
    ));
}

#[test]
fn the_aumc_of_a_nearly_flat_log_segment_keeps_its_digits() {
    // C falls by 1e-10 relative over [100, 101] h: the moment integral is ∫ t·C ≈ C·100.5
    // (to 1e-10); PKNCA's formula as written loses about 1e-10/ε of its digits there.
    let c1 = 2.0;
    let c2 = c1 * (1.0 - 1e-10);
    let p = profile(&[0.0, 100.0, 101.0], &[c1, c1, c2]);
    // [0, 100] is flat (linear): 100·(0 + 100·2)/2 = 10000.
    let a = aumc_last(&p, AucMethod::LinUpLogDown).unwrap() - 10_000.0;
    assert!(close(a, 2.0 * 100.5, 1e-9), "{a}");
    // A steep segment agrees with PKNCA's form: Δt·(c2·t2 − c1·t1)/L − Δt²·(c2 − c1)/L².
    let (t1, t2, c1, c2) = (1.0f64, 3.0f64, 5.0f64, 1.0f64);
    let l = (c2 / c1).ln();
    let pknca = (t2 - t1) * (c2 * t2 - c1 * t1) / l - (t2 - t1).powi(2) * (c2 - c1) / (l * l);
    let p = profile(&[0.0, t1, t2], &[c1, c1, c2]);
    let a = aumc_last(&p, AucMethod::LinUpLogDown).unwrap() - 1.0 * (c1 * t1) / 2.0;
    assert!(close(a, pknca, 1e-13), "{a} vs {pknca}");
}

#[test]
fn a_tail_far_below_the_last_level_has_finite_areas() {
    // C falls from 1e-3 to 1e-300 ng/mL over 856 h (a 2 h half-life sampled once at the end):
    // the quotient 1e-297 rounds (c2 − c1)/c1 to −1, where ln_1p gave −∞ and the moment ∞·0.
    // Log trapezoid with L = ln(1e-297) = −683.9: AUC = Δt·(c2 − c1)/L ≈ 856·1e-3/683.9, and
    // AUMC = t1·AUC + c1·Δt²·g(L) with g(L) ≈ −(L − 1)·e^L/L² + 1/L² ≈ 1/L².
    let p = profile(&[0.0, 1.0, 857.0], &[0.0, 1e-3, 1e-300]);
    let l = (1e-300f64).ln() - (1e-3f64).ln();
    let auc_tail = 856.0 * (1e-300 - 1e-3) / l;
    let auc = auc_last(&p, AucMethod::LinUpLogDown).unwrap();
    assert!(close(auc, 0.5e-3 + auc_tail, 1e-13), "{auc}");
    let aumc = aumc_last(&p, AucMethod::LinUpLogDown).unwrap();
    let want = 0.5e-3 + auc_tail + 1e-3 * 856.0 * 856.0 / (l * l) * (1.0 + 1e-300);
    assert!(
        aumc.is_finite() && close(aumc, want, 1e-10),
        "{aumc} vs {want}"
    );
}
