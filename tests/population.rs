//! Populations, sweeps and shards: the science (zero variability reproduces the single run; the
//! batch kernel agrees with the general path; the drawn CVs and correlations are the ones asked)
//! and the guarantees (same bytes for any thread count; shards merge to the unsharded outputs).

use k2sim::model::ModelParam;
use k2sim::model::SolverKind;
use k2sim::scenario::PopulationSpec;
use std::path::Path;

use assert_cmd::Command;
use k2sim::scenario::parse_str;
use k2sim::study::population::{distribution, simulate_population};

const BASE: &str = "name = \"pop\"\nduration_h = 480\nstep_h = 1\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 20\n[regimen.params]\nka_per_h = 0.5\n";

fn spec(n: u64, cv: f64) -> PopulationSpec {
    PopulationSpec {
        n,
        seed: 3,
        cv_pct: if cv > 0.0 {
            vec![
                (ModelParam::KaPerH, cv),
                (ModelParam::HalfLifeH, cv),
                (ModelParam::VL, cv),
            ]
        } else {
            vec![]
        },
        correlations: vec![],
        miss_prob: 0.0,
        jitter_h: 0.0,
        target_trough_ng_ml: None,
        band_step_h: 1.0,
        residual: None,
        lloq_ng_ml: None,
    }
}

#[test]
fn without_variability_every_subject_is_the_typical_run() {
    let s = parse_str(BASE, "t").unwrap();
    let single = k2sim::engine::run::run(&s, SolverKind::Exact).unwrap();
    let m = &single.regimens[0].metrics;
    let pop = simulate_population(
        &spec(5, 0.0),
        &s.regimens[0],
        s.duration_h,
        s.step_h,
        SolverKind::Exact,
        s.ode,
        0..5,
        &|_| {},
    )
    .unwrap();
    for subj in &pop.subjects {
        assert!(
            (subj.cmax_ng_ml - m.cmax_ng_ml).abs() < 1e-12 * m.cmax_ng_ml,
            "{} vs {}",
            subj.cmax_ng_ml,
            m.cmax_ng_ml
        );
        assert!((subj.tmax_h - m.tmax_h).abs() < 1e-6);
        let last = *single.regimens[0].trajectory.conc_ng_ml.last().unwrap();
        assert!((subj.c_end_ng_ml - last).abs() < 1e-12 * last);
    }
    // Bands of identical subjects: every percentile is the curve itself (to the bin width).
    for (i, t) in pop.band_times_h.iter().enumerate() {
        let idx = single.regimens[0]
            .trajectory
            .time_h
            .iter()
            .position(|x| x == t)
            .unwrap();
        let c = single.regimens[0].trajectory.conc_ng_ml[idx];
        let p50 = pop.histogram.percentile(i, 50.0);
        assert!(
            (p50 - c).abs() <= c * 2f64.powi(-8) + 1e-9 * c.max(1e-300),
            "t={t}: {p50} vs {c}"
        );
    }
}

#[test]
fn batch_kernel_agrees_with_the_general_path() {
    // Jitter 1e-9 h forces the general per-subject path while moving doses negligibly.
    let s = parse_str(BASE, "t").unwrap();
    let batch = simulate_population(
        &spec(40, 30.0),
        &s.regimens[0],
        s.duration_h,
        s.step_h,
        SolverKind::Exact,
        s.ode,
        0..40,
        &|_| {},
    )
    .unwrap();
    let mut general_spec = spec(40, 30.0);
    general_spec.jitter_h = 1e-12;
    let general = simulate_population(
        &general_spec,
        &s.regimens[0],
        s.duration_h,
        s.step_h,
        SolverKind::Exact,
        s.ode,
        0..40,
        &|_| {},
    )
    .unwrap();
    let ode = simulate_population(
        &spec(40, 30.0),
        &s.regimens[0],
        s.duration_h,
        s.step_h,
        SolverKind::Ode,
        s.ode,
        0..40,
        &|_| {},
    )
    .unwrap();
    for ((a, b), c) in batch
        .subjects
        .iter()
        .zip(&general.subjects)
        .zip(&ode.subjects)
    {
        for (x, y, z, what) in [
            (a.cmax_ng_ml, b.cmax_ng_ml, c.cmax_ng_ml, "cmax"),
            (a.c_end_ng_ml, b.c_end_ng_ml, c.c_end_ng_ml, "c_end"),
            (
                a.c_trough_ng_ml,
                b.c_trough_ng_ml,
                c.c_trough_ng_ml,
                "trough",
            ),
            (
                a.auc_last_tau_ng_h_ml,
                b.auc_last_tau_ng_h_ml,
                c.auc_last_tau_ng_h_ml,
                "auc_last",
            ),
        ] {
            assert!(
                (x - y).abs() <= 1e-8 * x,
                "subject {} {what}: batch {x} vs general {y}",
                a.subject
            );
            assert!(
                (x - z).abs() <= 1e-6 * x,
                "subject {} {what}: batch {x} vs ode {z}",
                a.subject
            );
        }
    }
    assert_eq!(batch.histogram, general.histogram);
}

#[test]
fn drawn_parameters_have_the_asked_median_cv_and_correlation() {
    let s = parse_str(BASE, "t").unwrap();
    let mut sp = spec(20_000, 30.0);
    sp.correlations = vec![(ModelParam::HalfLifeH, ModelParam::VL, 0.5)];
    let short = parse_str(
        &BASE
            .replace("duration_h = 480", "duration_h = 2")
            .replace("doses = 20", "doses = 1"),
        "t",
    )
    .unwrap();
    let pop = simulate_population(
        &sp,
        &short.regimens[0],
        2.0,
        1.0,
        SolverKind::Exact,
        s.ode,
        0..20_000,
        &|_| {},
    )
    .unwrap();
    let typ = &s.regimens[0].model;
    let logs = |f: fn(&k2sim::study::population::SubjectMetrics) -> f64| {
        pop.subjects.iter().map(|x| f(x).ln()).collect::<Vec<f64>>()
    };
    let (lh, lv) = (logs(|x| x.half_life_h), logs(|x| x.v_l));
    let omega = (1.0f64 + 0.09).ln().sqrt();
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    };
    // 20 000 draws: the SD of a log-normal's log is known to about 0.5 %.
    assert!(
        (sd(&lh) / omega - 1.0).abs() < 0.03,
        "{} vs {omega}",
        sd(&lh)
    );
    let med = distribution(
        &pop.subjects
            .iter()
            .map(|x| x.half_life_h)
            .collect::<Vec<_>>(),
    )
    .p50;
    assert!(
        (med / typ.half_life_h() - 1.0).abs() < 0.02,
        "median half-life {med}"
    );
    let (mh, mv) = (
        lh.iter().sum::<f64>() / lh.len() as f64,
        lv.iter().sum::<f64>() / lv.len() as f64,
    );
    let cov = lh
        .iter()
        .zip(&lv)
        .map(|(a, b)| (a - mh) * (b - mv))
        .sum::<f64>()
        / (lh.len() - 1) as f64;
    let rho = cov / (sd(&lh) * sd(&lv));
    assert!((rho - 0.5).abs() < 0.03, "correlation {rho}");
}

#[test]
fn missed_doses_are_missed_at_the_asked_rate() {
    let s = parse_str(BASE, "t").unwrap();
    let mut sp = spec(2000, 0.0);
    sp.miss_prob = 0.25;
    let pop = simulate_population(
        &sp,
        &s.regimens[0],
        s.duration_h,
        s.step_h,
        SolverKind::Exact,
        s.ode,
        0..2000,
        &|_| {},
    )
    .unwrap();
    let taken: u32 = pop.subjects.iter().map(|x| x.doses_taken).sum();
    let rate = 1.0 - f64::from(taken) / (2000.0 * 20.0);
    assert!((rate - 0.25).abs() < 0.01, "{rate}");
    // Fewer doses, lower exposure: the median AUC over the last interval drops.
    let full = simulate_population(
        &spec(2000, 0.0),
        &s.regimens[0],
        s.duration_h,
        s.step_h,
        SolverKind::Exact,
        s.ode,
        0..2000,
        &|_| {},
    )
    .unwrap();
    let med = |p: &k2sim::study::population::RegimenPopulation| {
        distribution(
            &p.subjects
                .iter()
                .map(|x| x.auc_last_tau_ng_h_ml)
                .collect::<Vec<_>>(),
        )
        .p50
    };
    assert!(med(&pop) < med(&full));
}

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "0");
    c
}

const SMALL: &str = r#"
name = "small study"
duration_h = 240
step_h = 2
observed_csv = "obs.csv"
[[regimen]]
label = "MK-7"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 10
[[regimen]]
label = "MK-4"
compound = "mk4"
dose = "15 mg"
times_h = [8, 13, 19]
days = 10
[population]
n = 700
seed = 9
cv_pct = { ka_per_h = 30, half_life_h = 30, v_l = 30 }
correlations = [["half_life_h", "v_l", 0.2]]
miss_prob = 0.1
target_trough_ng_ml = 1.0
[sweep]
half_life_h = { from = 60, to = 90, steps = 4 }
dose_ug = [90, 180]
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
fn same_seed_same_bytes_for_any_thread_count_and_shards_merge_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("small.toml");
    std::fs::write(&scen, SMALL).unwrap();
    let obs = tmp.path().join("obs.csv");
    std::fs::write(
        &obs,
        "time_h,conc_ng_ml,regimen\n4,0.9,MK-7\n100,2.5,MK-7\n12,60,MK-4\n",
    )
    .unwrap();
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    k2sim()
        .arg("run")
        .arg(&scen)
        .arg("-q")
        .arg("--out")
        .arg(&one)
        .env("RAYON_NUM_THREADS", "1")
        .assert()
        .success();
    k2sim()
        .arg("run")
        .arg(&scen)
        .arg("-q")
        .arg("--out")
        .arg(&two)
        .env("RAYON_NUM_THREADS", "2")
        .assert()
        .success();
    let a = read_dir_sorted(&one);
    assert!(
        a.iter().any(|(n, _)| n == "population_bands.csv")
            && a.iter().any(|(n, _)| n == "sweep.csv")
            && a.iter().any(|(n, _)| n == "residuals.csv")
    );
    figures_read_back(&one);
    assert_eq!(
        a,
        read_dir_sorted(&two),
        "outputs differ between 1 and 2 threads"
    );

    // Three shards, run in scrambled order, merged: the same files as the unsharded run.
    let shards = tmp.path().join("shards");
    for k in [2, 3, 1] {
        k2sim()
            .arg("run")
            .arg(&scen)
            .args(["-q", "--shard", &format!("{k}/3"), "--out"])
            .arg(shards.join(k.to_string()))
            .assert()
            .success();
    }
    // The shards carry the observations: merging needs no other file.
    std::fs::remove_file(&obs).unwrap();
    let merged = tmp.path().join("merged");
    k2sim()
        .arg("merge")
        .arg(shards.join("3"))
        .arg(shards.join("1"))
        .arg(shards.join("2"))
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

    // An incomplete set is refused.
    let e = k2sim()
        .arg("merge")
        .arg(shards.join("1"))
        .arg(shards.join("3"))
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&e.get_output().stderr).contains("1 of 3 shards missing: 2\n"));
}

/// The study figures of `SMALL`: the ribbon (two regimens, so two panels and a taller figure)
/// with its bands in the regimen colours, and the heatmap with its axes and colour bar.
fn figures_read_back(dir: &Path) {
    let text = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let img = image::open(dir.join("small_study_population.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(img.dimensions(), (1800, 1760));
    // Okabe–Ito blue (MK-7) tinted 20 % and 42 % over white: the 5–95 % and 25–75 % bands;
    // vermillion (MK-4) likewise.
    for rgb in [
        [204, 227, 240],
        [148, 196, 223],
        [247, 223, 204],
        [237, 187, 148],
    ] {
        assert!(
            img.pixels().any(|p| p.0 == rgb),
            "band colour {rgb:?} missing"
        );
    }
    let svg = text("small_study_population.svg");
    for label in [
        "Serum concentration (ng/mL)",
        "Time (days)",
        "MK-7: median",
        "5–95 % of subjects",
        "25–75 % of subjects",
        "target trough 1 ng/mL",
    ] {
        assert!(svg.contains(label), "{label} missing from the ribbon SVG");
    }
    let caption = text("small_study_population.txt");
    for part in [
        "n = 700",
        "seed 9",
        "ka_per_h 30 %",
        "half_life_h–v_l 0.2",
        "probability 0.1",
        "±0.20 %",
        "[derived]",
    ] {
        assert!(caption.contains(part), "{part} missing from:\n{caption}");
    }
    let svg = text("small_study_heatmap.svg");
    for label in ["Half-life (h)", "Dose (µg)", "Cavg,ss (ng/mL)", "MK-4"] {
        assert!(svg.contains(label), "{label} missing from the heatmap SVG");
    }
}

#[test]
fn population_memory_stays_bounded() {
    // 20 000 subjects × 8761 hourly points would be 1.4 GB as an array; the run holds per-subject
    // metrics and histograms only. The binary reports its peak resident memory.
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("year.toml");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/population_year.toml"),
    )
    .unwrap();
    std::fs::write(&scen, text.replace("n = 10000", "n = 20000")).unwrap();
    let out = tmp.path().join("o");
    let a = k2sim()
        .arg("run")
        .arg(&scen)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("population_summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["regimens"][0]["subjects"], 20000);
    let mb: u64 = stdout
        .split("peak memory ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in the output:\n{stdout}"));
    // Histograms (one per worker, 1461 band times × 8195 bins × 4 B ≈ 48 MB each) and 20 000
    // subjects' metrics: well under 400 MB. The 1-million-subject figure is in benches/README.md.
    assert!(mb < 400, "peak memory {mb} MB");
}
