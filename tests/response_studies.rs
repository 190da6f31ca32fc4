//! Populations and sweeps on the response markers: each subject's marker change is the one a
//! single run with that subject's parameters gives, the shares of responders are counts of
//! those changes, the outputs are the same bytes for any thread count, and sweep rows carry the
//! marker changes of their run.

use assert_cmd::Command;
use k2sim::engine::run;
use k2sim::model::SolverKind;
use k2sim::response::Marker;
use k2sim::scenario;
use k2sim::study::{compute, Shard};

fn text(n: u32) -> String {
    format!(
        r#"name = "marker population"
duration = "8 weeks"
step_h = 2

[[regimen]]
label = "MK-7 180"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 56

[population]
n = {n}
seed = 7
cv_pct = {{ ka_per_h = 30, half_life_h = 40, v_l = 50 }}

[response]
markers = ["dp_ucmgp", "ucoc"]
"#
    )
}

#[test]
fn each_subject_changes_as_a_run_with_its_own_parameters() {
    let s = scenario::parse_str(&text(40), "t").unwrap();
    let study = compute(&s, SolverKind::Exact, Shard::WHOLE, &|_, _| {}).unwrap();
    let pop = &study.populations.as_ref().unwrap()[0];
    assert_eq!(pop.subjects.len(), 40);
    for sub in pop.subjects.iter().step_by(7) {
        let one = format!(
            "{}\n[regimen.params]\nka_per_h = {:e}\nhalf_life_h = {:e}\nv_l = {:e}\n",
            text(1).split("[population]").next().unwrap().trim_end(),
            sub.ka_per_h,
            sub.half_life_h,
            sub.v_l
        ) + "\n[response]\nmarkers = [\"dp_ucmgp\", \"ucoc\"]\n";
        let single = scenario::parse_str(&one, "one").unwrap();
        let r = run::run(&single, SolverKind::Exact).unwrap();
        for c in &r.regimens[0].response {
            let got = sub.pct_change_at_end(c.marker).unwrap();
            assert!(
                (got - c.pct_change_at_end).abs() < 1e-9,
                "subject {} {:?}: {got} vs {}",
                sub.subject,
                c.marker,
                c.pct_change_at_end
            );
        }
    }
    // Variability in the PK spreads the markers: a 50 % CV on V moves the fall by points.
    let falls: Vec<f64> = pop
        .subjects
        .iter()
        .map(|s| s.pct_change_at_end(Marker::DpUcmgp).unwrap())
        .collect();
    let (lo, hi) = falls
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(hi - lo > 5.0, "{lo} .. {hi}");
}

#[test]
fn responder_shares_count_the_subjects_and_bytes_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pop.toml");
    std::fs::write(&path, text(300)).unwrap();
    let out = |threads: &str| {
        let o = dir.path().join(format!("out{threads}"));
        Command::cargo_bin("k2sim")
            .unwrap()
            .env("RAYON_NUM_THREADS", threads)
            .args(["-q", "run", "--no-figures"])
            .arg(&path)
            .arg("--out")
            .arg(&o)
            .assert()
            .success();
        o
    };
    let (a, b) = (out("1"), out("3"));
    for f in ["population_subjects.csv", "population_summary.json"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    let csv = std::fs::read_to_string(a.join("population_subjects.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = head
        .iter()
        .position(|h| *h == "dp_ucmgp_pct_change_at_end")
        .unwrap();
    let falls: Vec<f64> = lines
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert_eq!(falls.len(), 300);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("population_summary.json")).unwrap()).unwrap();
    let reg = &json["regimens"][0];
    assert_eq!(
        reg["per_subject_walk"],
        "the response markers need each subject's whole course"
    );
    let m = &reg["response"]["dp_ucmgp"];
    assert_eq!(m["at_h"], 1344.0);
    for f in [10, 20, 30, 40, 50] {
        let n = falls.iter().filter(|&&x| x <= -f64::from(f)).count();
        let want = 100.0 * n as f64 / 300.0;
        let got = m["share_reduced_by_at_least_pct"][f.to_string()]
            .as_f64()
            .unwrap();
        assert!((got - want).abs() < 1e-12, "{f} %: {got} vs {want}");
    }
    // The shares fall with the threshold, and the median lies between the quartiles.
    let d = &m["pct_change_at_end"];
    assert!(d["p25"].as_f64() <= d["p50"].as_f64() && d["p50"].as_f64() <= d["p75"].as_f64());
}

#[test]
fn sweep_rows_carry_the_marker_changes_of_their_run() {
    let text = r#"name = "dose sweep with markers"
duration = "12 weeks"
step_h = 2

[[regimen]]
label = "MK-7"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 84

[sweep]
dose_ug = [90, 180, 360]

[response]
markers = ["dp_ucmgp"]
"#;
    let s = scenario::parse_str(text, "t").unwrap();
    let study = compute(&s, SolverKind::Exact, Shard::WHOLE, &|_, _| {}).unwrap();
    let rows = study.sweep_rows.unwrap();
    assert_eq!(rows.len(), 3);
    let mut last = 0.0;
    for r in &rows {
        let o = r.response[0];
        assert_eq!(o.marker, Marker::DpUcmgp);
        // A larger dose lowers the marker further.
        assert!(o.pct_change_at_end < last, "{o:?}");
        last = o.pct_change_at_end;
        // The same as a run at that dose.
        let one = text
            .replace("dose_ug = 180", &format!("dose_ug = {}", r.values[0]))
            .replace("[sweep]\ndose_ug = [90, 180, 360]\n", "");
        let single = scenario::parse_str(&one, "one").unwrap();
        let c = &run::run(&single, SolverKind::Exact).unwrap().regimens[0].response[0];
        assert!((c.pct_change_at_end - o.pct_change_at_end).abs() < 1e-12);
        assert_eq!(c.pct_change_ss, o.pct_change_ss);
    }
    // 180 µg/day at 12 weeks is the Dalmeijer calibration arm: −31 % within a point.
    assert!((rows[1].response[0].pct_change_at_end + 31.0).abs() < 1.0);
}

#[test]
fn sensitivity_reports_the_marker_changes_as_two_runs_give_them() {
    let text = r#"name = "marker sensitivity"
duration = "12 weeks"
step_h = 2

[[regimen]]
label = "MK-7"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 84

[response]
markers = ["dp_ucmgp", "ucoc"]
"#;
    use k2sim::model::ModelParam;
    use k2sim::scenario::SweepParam;
    use k2sim::study::sweep::{sensitivity, SensitivityMetric};
    let s = scenario::parse_str(text, "t").unwrap();
    let rows = sensitivity(
        &s,
        SolverKind::Exact,
        10.0,
        &[SweepParam::Model(ModelParam::VL)],
    )
    .unwrap();
    let v = s.regimens[0].model.v_l;
    let at = |factor: f64| {
        let t = text.replace(
            "doses = 84\n",
            &format!("doses = 84\n[regimen.params]\nv_l = {:e}\n", v * factor),
        );
        let one = scenario::parse_str(&t, "one").unwrap();
        run::run(&one, SolverKind::Exact).unwrap().regimens[0]
            .response
            .clone()
    };
    let (base, lo, hi) = (at(1.0), at(0.9), at(1.1));
    for m in [Marker::DpUcmgp, Marker::Ucoc] {
        let r = rows
            .iter()
            .find(|r| r.metric == SensitivityMetric::MarkerAtEnd(m))
            .unwrap();
        let pick = |v: &[k2sim::engine::response::MarkerCourse]| {
            v.iter().find(|c| c.marker == m).unwrap().pct_change_at_end
        };
        let (b, l, h) = (pick(&base), pick(&lo), pick(&hi));
        assert!((r.base - b).abs() < 1e-9 && (r.low - l).abs() < 1e-9 && (r.high - h).abs() < 1e-9);
        assert!((r.low_change_pct - (l / b - 1.0) * 100.0).abs() < 1e-9);
        // A smaller volume gives a higher level and a deeper fall: the fall grows.
        assert!(r.low_change_pct > 0.0 && r.high_change_pct < 0.0, "{r:?}");
        assert_eq!(r.metric.key(), format!("{}_pct_change_at_end", m.key()));
    }
}
