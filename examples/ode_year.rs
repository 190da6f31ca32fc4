//! Profiling aid: one subject, one year of daily doses, hourly output, ODE path, repeated.
//! `NO_REUSE=1` integrates every span from its own start; `MM=1` uses saturable absorption
//! (Vmax 100 µg/h, Km 200 µg; never reuses spans); `TWO=1` adds a peripheral compartment.
use k2sim::dosing::DoseEvent;
use k2sim::engine::sim::simulate;
use k2sim::model::ode::{OdeOptions, OdePropagator};
use k2sim::model::PkModel;

fn main() {
    let mut m = PkModel::new(0.5, std::f64::consts::LN_2 / 72.0, 300.0, 1.0, 0.0, 0.0).unwrap();
    if std::env::var("MM").is_ok() {
        m = m.with_michaelis_menten(100.0, 200.0).unwrap();
    }
    if std::env::var("TWO").is_ok() {
        m = m.with_peripheral(20.0, 300.0).unwrap();
    }
    let events: Vec<DoseEvent> = (0..365)
        .map(|i| DoseEvent::oral(24.0 * f64::from(i), 180.0))
        .collect();
    let grid: Vec<f64> = (0..=8760).map(f64::from).collect();
    let opts = OdeOptions {
        rtol: 1e-8,
        reuse_spans: std::env::var("NO_REUSE").is_err(),
        ..OdeOptions::default()
    };
    let t = std::time::Instant::now();
    let mut evals = 0;
    for _ in 0..20 {
        let mut p = OdePropagator::new(m, opts, 180.0);
        let tr = simulate(&mut p, &events, &grid).unwrap();
        std::hint::black_box(tr);
        evals += p.evaluations;
    }
    let per = t.elapsed().as_secs_f64() / 20.0;
    println!(
        "{:.2} ms per year, {:.0} ns per point, {} rhs evaluations per year",
        per * 1e3,
        per * 1e9 / 8761.0,
        evals / 20
    );
}
