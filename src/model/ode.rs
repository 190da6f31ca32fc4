//! Numerical path: the model integrated with Dopri5 (`ode_solvers`) from event to event,
//! restarting at each dose. Saturable (Michaelis–Menten) absorption has only this path; for the
//! linear models it is kept real and tested against the exact solution.
//!
//! The state is (gut, central, peripheral, ∫central); the integral of the central amount is
//! integrated as a state, so AUCs are as accurate as the amounts. The end state of every span is taken from the last accepted step, never from
//! the dense interpolant (see STACK-NOTES: dense output extrapolates the end point).

use ode_solvers::{
    continuous_output_model::ContinuousOutputModel, dopri5::Dopri5, SVector, System,
};

use super::{bracketed_root, span_max, span_min, PkModel, Propagator, SpanResult, State};
use crate::error::SimError;

/// Tolerances of the Dopri5 integrator.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OdeOptions {
    /// Relative tolerance. Default 1e-10, which keeps the ODE path within 1e-8 of the exact
    /// solution on the shipped scenarios.
    #[serde(default = "default_rtol")]
    pub rtol: f64,
    /// Absolute tolerance as a fraction of the largest bioavailable dose. Default 1e-12: amounts
    /// below a millionth of a millionth of a dose do not steer the step size.
    #[serde(default = "default_atol_rel")]
    pub atol_rel_dose: f64,
    /// Integrate each distinct dose-free span once (from a unit gut and a unit central amount)
    /// and superpose the two solutions for every span of that length. Exact for this linear
    /// model and about 10–100× faster on repeated dosing; `false` integrates every span from its
    /// own start state. Default true; ignored (always false) for saturable absorption, which is
    /// not linear.
    #[serde(default = "default_reuse")]
    pub reuse_spans: bool,
    /// Most Dopri5 steps between two events before the run fails with
    /// [`SimError::OdeFailed`]. Default 10 million: only a truly hopeless span fails.
    #[serde(default = "default_max_steps")]
    pub max_steps_per_span: u32,
}

fn default_max_steps() -> u32 {
    MAX_STEPS_PER_SPAN
}

fn default_reuse() -> bool {
    true
}

fn default_rtol() -> f64 {
    1e-10
}
fn default_atol_rel() -> f64 {
    1e-12
}

impl Default for OdeOptions {
    fn default() -> Self {
        Self {
            rtol: default_rtol(),
            atol_rel_dose: default_atol_rel(),
            reuse_spans: default_reuse(),
            max_steps_per_span: default_max_steps(),
        }
    }
}

type Vec3 = SVector<f64, 4>;

/// Step budget of one span between events.
const MAX_STEPS_PER_SPAN: u32 = 10_000_000;

/// Largest step budget a scenario may set: ten times the default, so a run that cannot finish
/// fails within minutes instead of appearing to hang.
pub const MAX_STEPS_PER_SPAN_LIMIT: u32 = 100_000_000;

struct Rhs {
    model: PkModel,
    /// The zero-order inputs running over the span (only the rate fields are read).
    rates: State,
}

impl System<f64, Vec3> for Rhs {
    fn system(&self, _t: f64, y: &Vec3, dy: &mut Vec3) {
        let d = self.model.derivative(state_of(y).with_rates_of(self.rates));
        dy[0] = d.gut_ug;
        dy[1] = d.central_ug;
        dy[2] = d.peripheral_ug;
        dy[3] = y[1];
    }
}

/// The Dopri5 propagator.
pub struct OdePropagator {
    model: PkModel,
    rtol: f64,
    atol_ug: f64,
    scale_ug: f64,
    reuse: bool,
    bases: Vec<Basis>,
    max_steps: u32,
    /// [`MAX_KEPT_STEPS`] (smaller in tests, so pieces are cheap to exercise).
    kept_steps: f64,
    /// Right-hand-side evaluations so far, for benchmarks and diagnostics.
    pub evaluations: u64,
}

impl OdePropagator {
    /// What to change when a span of `span_h` needs more steps than the budget. Only a linear
    /// model has a closed form: with saturable absorption `solver = "exact"` runs this same
    /// Dopri5 integration, so it is never suggested there.
    fn step_budget_hint(&self, span_h: f64) -> String {
        // The step is capped at 3/k (see `integrate`), so the span needs about k·span/3 steps;
        // ask for 20 % more, two significant digits, and at least twice the present budget.
        let needed = (span_h * self.model.fastest_rate_per_h() / 3.0).ceil();
        let x = (needed * 1.2).max(2.0 * f64::from(self.max_steps)).max(1.0);
        let unit = 10f64.powf(x.log10().floor() - 1.0).max(1.0);
        let want = (x / unit).ceil() * unit;
        let limit = f64::from(MAX_STEPS_PER_SPAN_LIMIT);
        let raise = format!(
            "raise `max_steps_per_span` under [ode] from {} to about {want:.0} (at most {MAX_STEPS_PER_SPAN_LIMIT})",
            self.max_steps
        );
        let out_of_reach = format!(
            "the span needs about {} steps, more than `max_steps_per_span` may allow ({MAX_STEPS_PER_SPAN_LIMIT})",
            crate::format::fmt_limit(needed)
        );
        match (self.model.is_linear(), want <= limit) {
            (true, true) => {
                format!("use solver = \"exact\" (the closed form of the same model), or {raise}")
            }
            (true, false) => format!(
                "use solver = \"exact\" (the closed form of the same model): {out_of_reach}"
            ),
            (false, true) => format!(
                "{raise}; solver = \"exact\" does not help (saturable absorption has no closed form and is integrated with Dopri5 too)"
            ),
            (false, false) => format!(
                "{out_of_reach}, and saturable absorption has no closed form (solver = \"exact\" integrates it with Dopri5 too): only a slower fastest rate (Vmax/Km is {:.4e} /h) or shorter spans between doses bring it within reach",
                self.model.absorption_rate_constant_per_h()
            ),
        }
    }

    /// What to change when Dopri5 fails other than by its step budget.
    fn tolerance_hint(&self) -> String {
        if self.model.is_linear() {
            "loosen `rtol` under [ode], or use solver = \"exact\" (the closed form of the same model)".into()
        } else {
            "loosen `rtol` or `atol_rel_dose` under [ode] (saturable absorption has no closed form, so solver = \"exact\" does not help)".into()
        }
    }

    /// A propagator for `model`; `dose_scale_ug` (the largest bioavailable dose) sets the
    /// absolute tolerance.
    pub fn new(model: PkModel, options: OdeOptions, dose_scale_ug: f64) -> Self {
        let scale = if dose_scale_ug > 0.0 {
            dose_scale_ug
        } else {
            1.0
        };
        Self {
            model,
            rtol: options.rtol,
            atol_ug: options.atol_rel_dose * scale,
            scale_ug: scale,
            reuse: options.reuse_spans && model.is_linear(),
            bases: Vec::new(),
            max_steps: options.max_steps_per_span,
            kept_steps: MAX_KEPT_STEPS,
            evaluations: 0,
        }
    }
}

/// An output sample. Amounts far below the absolute tolerance come out of Dopri5 with either
/// sign (e.g. −1e-13 µg where the true amount is 1e-240 µg); the true solution is never
/// negative, so printed samples are clipped at zero, a change below the tolerance.
fn sample_of(y: &Vec3) -> State {
    State::amounts(y[0].max(0.0), y[1].max(0.0), y[2].max(0.0))
}

/// The two amounts of an integrator state, as carried from span to span. Not clipped: Dopri5
/// conserves gut + central + eliminated exactly (a linear invariant), and clipping would break
/// the mass balance by up to the absolute tolerance.
fn state_of(y: &Vec3) -> State {
    State::amounts(y[0], y[1], y[2])
}

/// The integrator state for amounts `s` and a zero integral.
fn vec_of(s: State) -> Vec3 {
    Vec3::new(s.gut_ug, s.central_ug, s.peripheral_ug, 0.0)
}

impl Propagator for OdePropagator {
    fn model(&self) -> &PkModel {
        &self.model
    }

    fn state_after(&mut self, s: State, dt_h: f64) -> Result<State, SimError> {
        if s.is_zero() || dt_h <= 0.0 {
            return Ok(s);
        }
        self.within_budget(0.0, dt_h)?;
        let mut y = vec_of(s);
        for (a, b) in self.pieces(0.0, dt_h) {
            y = self.integrate(y, s, a, b)?.y_end;
        }
        Ok(state_of(&y).with_rates_of(s))
    }

    fn span(
        &mut self,
        start: State,
        t0_h: f64,
        t1_h: f64,
        sample_times_h: &[f64],
        samples: &mut Vec<State>,
    ) -> Result<SpanResult, SimError> {
        if start.is_zero() || t1_h <= t0_h {
            // Nothing in the body: the solution is identically the start state.
            samples.extend(sample_times_h.iter().map(|_| start));
            return Ok(SpanResult {
                end: start,
                auc_central_ug_h: 0.0,
                max_central_ug: start.central_ug,
                t_max_h: t0_h,
                min_central_ug: start.central_ug,
            });
        }
        self.within_budget(t0_h, t1_h)?;
        // Superposition combines unit amounts; a running input is integrated directly, and so
        // is a span too long to keep whole (its unit solutions could not be kept either).
        if self.reuse && !start.has_rates() && self.pieces(t0_h, t1_h).len() == 1 {
            return self.span_by_superposition(start, t0_h, t1_h, sample_times_h, samples);
        }
        let mut y = vec_of(start);
        let mut from = start;
        let mut max = (f64::NEG_INFINITY, t0_h);
        let mut min_central_ug = f64::INFINITY;
        let mut next_sample = 0;
        for (a, b) in self.pieces(t0_h, t1_h) {
            let sol = self.integrate(y, start, a, b)?;
            let at = |t: f64| -> Vec3 {
                if t >= b {
                    sol.y_end
                } else {
                    sol.dense.evaluate(t).unwrap_or(sol.y_end)
                }
            };
            let last = b >= t1_h;
            while let Some(&ts) = sample_times_h.get(next_sample) {
                if ts >= b && !last {
                    break;
                }
                samples.push(sample_of(&at(ts)).with_rates_of(start));
                next_sample += 1;
            }
            let to = state_of(&sol.y_end).with_rates_of(start);
            let state_at = |t: f64| state_of(&at(t)).with_rates_of(start);
            let piece_max = span_max(&self.model, from, to, a, b, &sol.steps_h, state_at);
            if piece_max.0 > max.0 {
                max = piece_max;
            }
            min_central_ug = min_central_ug.min(span_min(
                &self.model,
                from,
                to,
                a,
                b,
                &sol.steps_h,
                state_at,
            ));
            // The running AUC (the fourth component) carries on into the next piece.
            y = sol.y_end;
            from = to;
        }
        Ok(SpanResult {
            end: from,
            auc_central_ug_h: y[3],
            max_central_ug: max.0,
            t_max_h: max.1,
            min_central_ug,
        })
    }
}

/// Most Dopri5 steps one integration is expected to keep. Dopri5 keeps every accepted step (its
/// dense-output coefficients and the step list, about 200 bytes a step), so a span that needs
/// more (a fast rate over a long gap, e.g. ka = 1e6 /h over a day: 8e6 steps, 1.6 GB per unit
/// solution) is integrated in consecutive pieces of at most this many steps at the stability
/// limit, each dropped once its samples, extrema and end state are taken: about 200 MB
/// whatever the rates and the step budget.
const MAX_KEPT_STEPS: f64 = 1e6;

/// One Dopri5 integration: its dense output, accepted step ends and end state.
struct Solved {
    dense: ContinuousOutputModel<f64, Vec3>,
    steps_h: Vec<f64>,
    y_end: Vec3,
}

/// The solutions from a unit gut, a unit central and (two compartments) a unit peripheral amount
/// over a span of one length, sampled at given offsets: any start state's solution over such a
/// span is their combination.
struct Basis {
    span_h: f64,
    offsets_h: Vec<f64>,
    /// Per sample offset, the states from unit gut (`.0`), unit central (`.1`) and unit
    /// peripheral (`.2`, zero for one compartment).
    at_samples: Vec<(Vec3, Vec3, Vec3)>,
    from_gut: Solved,
    from_central: Solved,
    from_peripheral: Option<Solved>,
    /// At each accepted step end of the unit-gut solution (offset), the slope ka·A_g − ke·A_c of
    /// both unit solutions: the peak of any combination is bracketed without evaluating the
    /// dense output.
    probes: Vec<(f64, f64, f64)>,
    /// Two compartments: at each accepted step end of the three unit solutions (offset), the
    /// slope dA_c/dt of each: the sign changes of any combination are found without the dense
    /// output, which is then used only to refine them.
    probes_two: Vec<(f64, [f64; 3])>,
}

/// Most distinct spans kept; a schedule with more distinct gaps recomputes (still correct).
const MAX_BASES: usize = 64;

impl OdePropagator {
    /// The absolute tolerance of the integration as a concentration (ng/mL): amounts below it
    /// are not resolved relative to themselves.
    pub fn abs_tolerance_ng_ml(&self) -> f64 {
        self.atol_ug / self.model.v_l
    }

    /// The fewest steps a span can take: Dopri5's step is capped at 3/k, k the fastest rate
    /// (see `integrate`).
    fn min_steps(&self, span_h: f64) -> f64 {
        span_h * self.model.fastest_rate_per_h() / 3.0
    }

    /// Refuses a span that cannot be covered within `max_steps_per_span` before integrating
    /// any of it (it used to fill the budget first, gigabytes of steps, then fail).
    fn within_budget(&self, t0_h: f64, t1_h: f64) -> Result<(), SimError> {
        if self.min_steps(t1_h - t0_h) <= f64::from(self.max_steps) {
            return Ok(());
        }
        Err(self.out_of_steps(t0_h, t0_h, t1_h))
    }

    fn out_of_steps(&self, at_h: f64, t0_h: f64, t1_h: f64) -> SimError {
        let k = self.model.fastest_rate_per_h();
        SimError::OdeFailed {
            t_h: at_h,
            reason: format!(
                "more than {} steps between events at {t0_h} h and {t1_h} h: the fastest rate ({k:.4e} /h) limits Dopri5 to steps of about {:.1e} h (it is unstable beyond), so a tighter or looser rtol does not help",
                self.max_steps,
                3.3 / k
            ),
            hint: self.step_budget_hint(t1_h - t0_h),
        }
    }

    /// `[t0_h, t1_h]` cut into consecutive pieces of at most [`MAX_KEPT_STEPS`] steps at the
    /// stability limit; one piece for every span of an ordinary model.
    fn pieces(&self, t0_h: f64, t1_h: f64) -> Vec<(f64, f64)> {
        let n = (self.min_steps(t1_h - t0_h) / self.kept_steps)
            .ceil()
            .max(1.0);
        // `within_budget` bounds n by max_steps / MAX_KEPT_STEPS (at most 100).
        let n = n.min(1e4) as usize;
        let width = (t1_h - t0_h) / n as f64;
        (0..n)
            .map(|i| {
                let a = t0_h + i as f64 * width;
                let b = if i + 1 == n { t1_h } else { a + width };
                (a, b)
            })
            .collect()
    }

    fn integrate(
        &mut self,
        y0: Vec3,
        rates: State,
        t0_h: f64,
        t1_h: f64,
    ) -> Result<Solved, SimError> {
        let rhs = Rhs {
            model: self.model,
            rates,
        };
        // Defaults of Dopri5::new except three limits: the stiffness test is switched off (fast
        // absorption, ka ≫ ke, makes the system mildly stiff once the gut is empty; the explicit
        // method then takes stability-limited steps but stays accurate), the step budget per
        // span is raised from 1e5 to 1e7 (settable) so only a truly hopeless span reports
        // failure, and the largest step is capped at the stability limit (below).
        let (t0, t1) = (t0_h, t1_h);
        let mut solver = Dopri5::from_param(
            rhs,
            t0,
            t1,
            0.0,
            y0,
            self.rtol,
            self.atol_ug,
            0.9,
            0.04,
            0.2,
            10.0,
            // Largest step: inside Dopri5's stability region (|h·λ| ≲ 3.3 on the negative real
            // axis). Error control alone keeps it there only when the tolerances are tight
            // enough; with a loose `atol_rel_dose` and doses of very different size, a single
            // step far beyond it amplified the states by ~1e9 and broke the mass balance.
            (t1 - t0).min(3.0 / self.model.fastest_rate_per_h()),
            0.0,
            self.max_steps,
            u32::MAX,
            ode_solvers::OutputType::Continuous,
        );
        let mut dense = ContinuousOutputModel::default();
        let stats = solver
            .integrate_with_continuous_output_model(&mut dense)
            .map_err(|e| match e {
                ode_solvers::dop_shared::IntegrationError::MaxNumStepReached { x, .. } => {
                    self.out_of_steps(x, t0, t1)
                }
                other => SimError::OdeFailed {
                    t_h: t0,
                    reason: other.to_string(),
                    hint: self.tolerance_hint(),
                },
            })?;
        self.evaluations += u64::from(stats.num_eval);
        let (xs, ys) = solver.results().get();
        let (t_last, y_end) = match (xs.last(), ys.last()) {
            (Some(t), Some(y)) => (*t, *y),
            _ => {
                return Err(SimError::OdeFailed {
                    t_h: t0_h,
                    reason: "no step was taken".into(),
                    hint: self.tolerance_hint(),
                })
            }
        };
        if (t_last - t1_h).abs() > 1e-9 * t1_h.abs().max(1.0) {
            return Err(SimError::OdeFailed {
                t_h: t_last,
                reason: format!("integration stopped before the span end at {t1_h} h"),
                hint: self.tolerance_hint(),
            });
        }
        Ok(Solved {
            steps_h: xs.clone(),
            dense,
            y_end,
        })
    }

    /// Linear superposition of Dopri5 solutions (from a unit gut, a unit central and, for two
    /// compartments, a unit peripheral amount) integrated once per distinct span length and
    /// sampling pattern, then reused: every daily interval of a regimen shares one set. Each number still comes from Dopri5; only the
    /// linearity of the model (exact for this system) is used to combine them.
    fn span_by_superposition(
        &mut self,
        start: State,
        t0_h: f64,
        t1_h: f64,
        sample_times_h: &[f64],
        samples: &mut Vec<State>,
    ) -> Result<SpanResult, SimError> {
        let span_h = t1_h - t0_h;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * span_h.max(1.0);
        let found = self.bases.iter().position(|b| {
            close(b.span_h, span_h)
                && b.offsets_h.len() == sample_times_h.len()
                && b.offsets_h
                    .iter()
                    .zip(sample_times_h)
                    .all(|(o, t)| close(*o, t - t0_h))
        });
        let idx = match found {
            Some(i) => i,
            None => {
                let scale = self.scale_ug;
                let from_gut =
                    self.integrate(Vec3::new(scale, 0.0, 0.0, 0.0), State::ZERO, 0.0, span_h)?;
                let from_central =
                    self.integrate(Vec3::new(0.0, scale, 0.0, 0.0), State::ZERO, 0.0, span_h)?;
                let from_peripheral = match self.model.peripheral {
                    Some(_) => Some(self.integrate(
                        Vec3::new(0.0, 0.0, scale, 0.0),
                        State::ZERO,
                        0.0,
                        span_h,
                    )?),
                    None => None,
                };
                let offsets_h: Vec<f64> = sample_times_h.iter().map(|t| t - t0_h).collect();
                let eval = |s: &Solved, o: f64| {
                    if o >= span_h {
                        s.y_end
                    } else {
                        s.dense.evaluate(o).unwrap_or(s.y_end)
                    }
                };
                let at_samples = offsets_h
                    .iter()
                    .map(|&o| {
                        (
                            eval(&from_gut, o) / scale,
                            eval(&from_central, o) / scale,
                            from_peripheral
                                .as_ref()
                                .map_or(Vec3::zeros(), |p| eval(p, o) / scale),
                        )
                    })
                    .collect();
                let (ka, ke) = (self.model.ka_per_h, self.model.ke_per_h);
                // Used for the one-compartment model only (two compartments go through
                // model::turning_points).
                let slope = |y: &Vec3| (ka * y[0] - ke * y[1]) / scale;
                let probes = from_gut
                    .steps_h
                    .iter()
                    .map(|&o| {
                        (
                            o,
                            slope(&eval(&from_gut, o)),
                            slope(&eval(&from_central, o)),
                        )
                    })
                    .collect();
                let probes_two = match &from_peripheral {
                    Some(fp) => {
                        let mut at: Vec<f64> = from_gut
                            .steps_h
                            .iter()
                            .chain(&from_central.steps_h)
                            .chain(&fp.steps_h)
                            .copied()
                            .filter(|&o| o > 0.0 && o < span_h)
                            .collect();
                        at.sort_by(f64::total_cmp);
                        at.dedup();
                        let m = self.model;
                        let sl =
                            |sol: &Solved, o: f64| m.central_slope(state_of(&eval(sol, o))) / scale;
                        at.into_iter()
                            .map(|o| (o, [sl(&from_gut, o), sl(&from_central, o), sl(fp, o)]))
                            .collect()
                    }
                    None => Vec::new(),
                };
                if self.bases.len() >= MAX_BASES {
                    self.bases.clear();
                }
                self.bases.push(Basis {
                    span_h,
                    offsets_h,
                    at_samples,
                    from_gut,
                    from_central,
                    from_peripheral,
                    probes,
                    probes_two,
                });
                self.bases.len() - 1
            }
        };
        let b = &self.bases[idx];
        let scale = self.scale_ug;
        let two = b.from_peripheral.is_some();
        let combine = |g: &Vec3, c: &Vec3, p: &Vec3| -> Vec3 {
            let y = g * start.gut_ug + c * start.central_ug;
            if two {
                y + p * start.peripheral_ug
            } else {
                y
            }
        };
        for (g, c, p) in &b.at_samples {
            samples.push(sample_of(&combine(g, c, p)));
        }
        let y_end_p = b
            .from_peripheral
            .as_ref()
            .map_or(Vec3::zeros(), |p| p.y_end);
        let y_end = combine(&b.from_gut.y_end, &b.from_central.y_end, &y_end_p) / scale;
        let end = state_of(&y_end);
        let state_at = |t: f64| -> State {
            let o = t - t0_h;
            let ev = |s: &Solved| {
                if o >= span_h {
                    s.y_end
                } else {
                    s.dense.evaluate(o).unwrap_or(s.y_end)
                }
            };
            let p = b.from_peripheral.as_ref().map_or(Vec3::zeros(), ev);
            state_of(&(combine(&ev(&b.from_gut), &ev(&b.from_central), &p) / scale))
        };
        if two {
            // The slope at every step end from the precomputed unit slopes; each fall from
            // positive to negative brackets a maximum, refined on the dense output.
            let model = self.model;
            let slope_at = |sl: &[f64; 3]| {
                sl[0] * start.gut_ug + sl[1] * start.central_ug + sl[2] * start.peripheral_ug
            };
            let pairs: Vec<(f64, f64)> = std::iter::once((t0_h, model.central_slope(start)))
                .chain(b.probes_two.iter().map(|(o, sl)| (t0_h + o, slope_at(sl))))
                .chain(std::iter::once((t1_h, model.central_slope(end))))
                .collect();
            let tol = 1e-9 * (1.0 + t1_h.abs());
            let mut best = (start.central_ug, t0_h);
            for w in pairs.windows(2) {
                if w[0].1 > 0.0 && w[1].1 < 0.0 {
                    let t =
                        bracketed_root(|t| model.central_slope(state_at(t)), w[0].0, w[1].0, tol);
                    let v = state_at(t).central_ug;
                    if v > best.0 {
                        best = (v, t);
                    }
                }
            }
            if end.central_ug > best.0 {
                best = (end.central_ug, t1_h);
            }
            let (max_central_ug, t_max_h) = best;
            return Ok(SpanResult {
                end,
                auc_central_ug_h: y_end[3],
                max_central_ug,
                t_max_h,
                min_central_ug: start.central_ug.min(end.central_ug),
            });
        }
        // Bracket the peak between two probes from the precomputed slopes, then refine it on
        // the dense output inside that one step.
        let mut prev = 0.0;
        let falling = b.probes.iter().find(|(o, sg, sc)| {
            let f = sg * start.gut_ug + sc * start.central_ug < 0.0;
            if !f {
                prev = *o;
            }
            f
        });
        let bracket = match falling {
            Some(&(o, _, _)) => vec![t0_h + prev, t0_h + o],
            None => vec![t1_h],
        };
        let (max_central_ug, t_max_h) =
            span_max(&self.model, start, end, t0_h, t1_h, &bracket, state_at);
        Ok(SpanResult {
            end,
            auc_central_ug_h: y_end[3],
            max_central_ug,
            t_max_h,
            min_central_ug: start.central_ug.min(end.central_ug),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::exact::ExactPropagator;

    #[test]
    fn ode_span_agrees_with_exact_span() {
        let m = PkModel::new(1.2, 0.0096, 216.0, 1.0, 0.0, 0.0).unwrap();
        let start = State::new(180.0, 50.0);
        let times: Vec<f64> = (1..=24).map(f64::from).collect();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let re = ExactPropagator::new(m)
            .span(start, 0.0, 24.0, &times, &mut a)
            .unwrap();
        let mut ode = OdePropagator::new(m, OdeOptions::default(), 180.0);
        let ro = ode.span(start, 0.0, 24.0, &times, &mut b).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x.central_ug - y.central_ug).abs() < 1e-8 * re.max_central_ug);
        }
        assert!((re.auc_central_ug_h - ro.auc_central_ug_h).abs() < 1e-8 * re.auc_central_ug_h);
        assert!((re.max_central_ug - ro.max_central_ug).abs() < 1e-8 * re.max_central_ug);
        assert!((re.t_max_h - ro.t_max_h).abs() < 1e-4);
        assert!(ode.evaluations > 0);
    }

    #[test]
    fn a_span_too_long_to_keep_whole_is_integrated_in_pieces_that_agree_with_exact() {
        // ka = 2000 /h over 30 h: at least 2e4 steps at the stability limit, so with pieces of
        // at most 1e4 steps (1e6 outside tests, the same code) two pieces.
        let m = PkModel::new(2000.0, 0.0096, 216.0, 1.0, 0.0, 0.0).unwrap();
        let start = State::new(180.0, 50.0);
        let times: Vec<f64> = (0..30).map(|t| f64::from(t) + 0.25).collect();
        let mut ode = OdePropagator::new(m, OdeOptions::default(), 180.0);
        ode.kept_steps = 1e4;
        let pieces = ode.pieces(0.0, 30.0);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert_eq!((pieces[0].0, pieces[1].1), (0.0, 30.0));
        assert_eq!(pieces[0].1, pieces[1].0);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let re = ExactPropagator::new(m)
            .span(start, 0.0, 30.0, &times, &mut a)
            .unwrap();
        let ro = ode.span(start, 0.0, 30.0, &times, &mut b).unwrap();
        assert_eq!(
            b.len(),
            times.len(),
            "one sample per time, none twice at a piece edge"
        );
        for (x, y) in a.iter().zip(&b) {
            assert!((x.central_ug - y.central_ug).abs() < 1e-7 * re.max_central_ug);
        }
        let rel = |x: f64, y: f64| (x - y).abs() / y.abs();
        assert!(
            rel(ro.auc_central_ug_h, re.auc_central_ug_h) < 1e-7,
            "AUC carried over pieces"
        );
        assert!(rel(ro.end.central_ug, re.end.central_ug) < 1e-7);
        assert!(rel(ro.max_central_ug, re.max_central_ug) < 1e-7);
        assert!(rel(ro.min_central_ug, re.min_central_ug) < 1e-7);
        // A span the budget cannot cover is refused before any step is taken.
        let tight = OdeOptions {
            max_steps_per_span: 100,
            ..OdeOptions::default()
        };
        let mut ode = OdePropagator::new(m, tight, 180.0);
        match ode.span(start, 5.0, 35.0, &times, &mut Vec::new()) {
            Err(SimError::OdeFailed { t_h, reason, .. }) => {
                assert_eq!(t_h, 5.0);
                assert!(reason.contains("more than 100 steps"), "{reason}");
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert_eq!(ode.evaluations, 0);
    }
}
