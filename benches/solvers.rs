//! One subject, one year of daily dosing, hourly output: both solvers.
//!
//! Run: `cargo bench --bench solvers`. Throughput is reported per output point (8761 points),
//! so criterion's "elem/s" converts directly to ns per output point.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use k2sim::dosing::DoseEvent;
use k2sim::engine::sim::simulate;
use k2sim::model::exact::ExactPropagator;
use k2sim::model::ode::{OdeOptions, OdePropagator};
use k2sim::model::PkModel;
use k2sim::model::SolverKind;
use k2sim::scenario;
use std::hint::black_box;

/// The reference subject: MK-7 180 µg every 24 h for 365 doses from t = 0, ka 0.5 /h,
/// half-life 72 h, V 300 L, hourly output over 0..8760 h.
fn year_of_daily_doses() -> (PkModel, Vec<DoseEvent>, Vec<f64>) {
    let m = PkModel::new(0.5, std::f64::consts::LN_2 / 72.0, 300.0, 1.0, 0.0, 0.0).unwrap();
    let events = (0..365)
        .map(|i| DoseEvent::oral(24.0 * f64::from(i), 180.0))
        .collect();
    let grid = (0..=8760).map(f64::from).collect();
    (m, events, grid)
}

fn bench_solvers(c: &mut Criterion) {
    let (m, events, grid) = year_of_daily_doses();
    let mut g = c.benchmark_group("one_subject_year_hourly");
    g.throughput(Throughput::Elements(grid.len() as u64));
    g.bench_function("exact", |b| {
        b.iter(|| {
            simulate(
                &mut ExactPropagator::new(m),
                black_box(&events),
                black_box(&grid),
            )
            .unwrap()
        })
    });
    g.bench_function("ode_rtol_1e-10", |b| {
        b.iter(|| {
            simulate(
                &mut OdePropagator::new(m, OdeOptions::default(), 180.0),
                black_box(&events),
                black_box(&grid),
            )
            .unwrap()
        })
    });
    let loose = OdeOptions {
        rtol: 1e-8,
        ..OdeOptions::default()
    };
    g.bench_function("ode_rtol_1e-8", |b| {
        b.iter(|| {
            simulate(
                &mut OdePropagator::new(m, loose, 180.0),
                black_box(&events),
                black_box(&grid),
            )
            .unwrap()
        })
    });
    // The model extensions on the same year: a peripheral compartment (Q 20 L/h, Vp 300 L)
    // in closed form and by Dopri5, and saturable absorption (Vmax 100 µg/h, Km 200 µg), which
    // only Dopri5 solves and which cannot reuse spans (nonlinear).
    let two = m.with_peripheral(20.0, 300.0).unwrap();
    g.bench_function("two_compartment_exact", |b| {
        b.iter(|| {
            simulate(
                &mut ExactPropagator::new(two),
                black_box(&events),
                black_box(&grid),
            )
            .unwrap()
        })
    });
    g.bench_function("two_compartment_ode", |b| {
        b.iter(|| {
            simulate(
                &mut OdePropagator::new(two, OdeOptions::default(), 180.0),
                black_box(&events),
                black_box(&grid),
            )
            .unwrap()
        })
    });
    let mm = m.with_michaelis_menten(100.0, 200.0).unwrap();
    g.bench_function("michaelis_menten_ode", |b| {
        b.iter(|| {
            simulate(
                &mut OdePropagator::new(mm, OdeOptions::default(), 180.0),
                black_box(&events),
                black_box(&grid),
            )
            .unwrap()
        })
    });
    g.finish();
}

/// The shipped scenario end to end in the library (parse excluded): what `k2sim run` computes.
fn bench_scenario(c: &mut Criterion) {
    let s = scenario::load(std::path::Path::new("scenarios/mk4_vs_mk7.toml")).unwrap();
    let mut g = c.benchmark_group("scenario_mk4_vs_mk7");
    for solver in [SolverKind::Exact, SolverKind::Ode] {
        g.bench_function(solver.name(), |b| {
            b.iter(|| k2sim::engine::run::run(black_box(&s), solver).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench_solvers, bench_scenario
}
criterion_main!(benches);
