//! The reference population workload of issue 3, and the floor it is measured against.
//!
//! Workload (scenarios/population_year.toml): MK-7 180 µg every 24 h for 365 doses from t = 0,
//! hourly output over 0..8760 h, typical ka 0.5 /h, half-life 72 h, V 300 L, 30 % log-normal CV
//! on ka, half-life and V; per-subject Cmax (exact), trough at 8760 h and AUC of the last 24 h;
//! n = 10 000. One subject-step = one subject advanced by one output point (8761 per subject).
//!
//! `floor`: the bare propagation of the two states over the grid, scalar, one subject at a time
//! (a few multiply-adds per step): the hardware floor the kernel is compared with.
//!
//! Run: `cargo bench --bench population`. Criterion reports time per 10 000 subjects; divide by
//! 87.61 million subject-steps for ns per subject-step (benches/README.md has the figures).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use k2sim::model::exact::StepMap;
use k2sim::model::SolverKind;
use k2sim::study::population::simulate_population;
use std::hint::black_box;

const N: u64 = 10_000;
const STEPS: u64 = 8761;

fn scenario(band_step_h: f64) -> k2sim::scenario::Scenario {
    let text = std::fs::read_to_string("scenarios/population_year.toml").unwrap();
    let text = text.replace("band_step_h = 6", &format!("band_step_h = {band_step_h}"));
    k2sim::scenario::parse_str(&text, "population_year").unwrap()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// The floor: each subject's two states over the hourly grid with daily doses, nothing else.
fn floor(maps: &[StepMap], dose_ug: f64) -> f64 {
    let mut sink = 0.0;
    for m in maps {
        let (mut g, mut c) = (0.0f64, 0.0f64);
        for k in 0..STEPS as usize {
            let g0 = g;
            g = m.gut_gut * g0;
            c = m.central_central * c + m.gut_central * g0;
            if k % 24 == 0 {
                g += dose_ug;
            }
        }
        sink += c;
    }
    sink
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("population_year_10000");
    g.throughput(Throughput::Elements(N * STEPS));
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(8));

    // The same subjects' step maps as the kernel draws (the floor needs only their coefficients).
    let s = scenario(8760.0);
    let m = s.regimens[0].model;
    let maps: Vec<StepMap> = (0..N)
        .map(|i| {
            let f = 1.0 + 1e-6 * i as f64;
            let mm = k2sim::model::PkModel::new(
                m.ka_per_h * f,
                m.ke_per_h / f,
                m.v_l * f,
                1.0,
                0.0,
                0.0,
            )
            .unwrap();
            StepMap::new(&mm, 1.0)
        })
        .collect();
    g.bench_function("floor_1_thread", |b| {
        b.iter(|| floor(black_box(&maps), 180.0))
    });

    for (name, band) in [
        ("kernel_metrics_only", 8760.0),
        ("kernel_hourly_bands", 1.0),
    ] {
        let s = scenario(band);
        let spec = s.population.clone().unwrap();
        for threads in [1, 2] {
            let p = pool(threads);
            g.bench_function(format!("{name}_{threads}_thread"), |b| {
                b.iter(|| {
                    p.install(|| {
                        simulate_population(
                            &spec,
                            &s.regimens[0],
                            s.duration_h,
                            s.step_h,
                            SolverKind::Exact,
                            s.ode,
                            0..N,
                            &|_| {},
                        )
                        .unwrap()
                    })
                })
            });
        }
    }
    g.finish();

    // The ODE path on a slice of the same population (it is ~100× slower; 200 subjects).
    let mut g = c.benchmark_group("population_year_ode_200");
    g.throughput(Throughput::Elements(200 * STEPS));
    g.sample_size(10);
    let s = scenario(8760.0);
    let spec = s.population.clone().unwrap();
    let ode = k2sim::model::ode::OdeOptions {
        rtol: 1e-8,
        ..Default::default()
    };
    let p = pool(1);
    g.bench_function("ode_rtol_1e-8_1_thread", |b| {
        b.iter(|| {
            p.install(|| {
                simulate_population(
                    &spec,
                    &s.regimens[0],
                    s.duration_h,
                    s.step_h,
                    SolverKind::Ode,
                    ode,
                    0..200,
                    &|_| {},
                )
                .unwrap()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
