//! The dose walk's one noun: an [`Input`] is what a dose does to the state at one instant —
//! an amount entering a compartment (a bolus) or a zero-order rate starting or stopping (an
//! infusion, or an oral zero-order release). Every walk over doses (the run, the steady-state
//! map and profile, time above a threshold) builds its inputs here:
//!
//! | dose | input(s) |
//! |---|---|
//! | oral bolus D at t | F·D into the gut at t + tlag |
//! | IV bolus D at t | D into the central compartment at t (no F, no lag) |
//! | oral zero-order release of D over d h at t | F·D/d µg/h into the gut from t + tlag to t + tlag + d |
//! | IV infusion of D over d h at t | D/d µg/h into the central compartment from t to t + d |
//!
//! The population batch kernel (`study::population`) applies the same `F × amount at
//! t + tlag` in its structure-of-arrays loop for plain oral boluses, and hands every other dose
//! to the per-subject walk.

use crate::dosing::{DoseEvent, Periodic, Route};
use crate::model::{PkModel, State};

/// The compartment an input enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The gut (absorption depot).
    Gut,
    /// The central compartment.
    Central,
}

/// What happens at one instant: `amount_ug` enters `entry`, and the zero-order rate into it
/// changes by `rate_ug_per_h` (positive at an infusion's start, negative at its end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input {
    /// When (h).
    pub time_h: f64,
    /// The compartment.
    pub entry: Entry,
    /// Amount entering at once (µg; F applied for oral doses).
    pub amount_ug: f64,
    /// Change of the running zero-order rate (µg/h; F applied for oral doses).
    pub rate_ug_per_h: f64,
    /// Empties the body (amounts and running rates) before anything else at this instant.
    pub reset: bool,
}

impl Input {
    /// The inputs of one dose under `model`: one for a bolus, a start and a stop for a
    /// zero-order input.
    pub fn of_dose(model: &PkModel, dose: &DoseEvent) -> impl Iterator<Item = Input> + use<> {
        let (entry, t, amount) = match dose.route {
            Route::Oral => (
                Entry::Gut,
                dose.time_h + model.tlag_h,
                model.f * dose.amount_ug,
            ),
            Route::Iv => (Entry::Central, dose.time_h, dose.amount_ug),
        };
        let reset = dose.reset.then_some(Input {
            time_h: dose.time_h,
            entry: Entry::Central,
            amount_ug: 0.0,
            rate_ug_per_h: 0.0,
            reset: true,
        });
        // The rate over the infusion as the times represent it, (t + d) − t, which differs
        // from d by the rounding of t + d: the propagator delivers rate × ((t + d) − t), so this
        // is the whole dose. An infusion shorter than the rounding of its start (d under about
        // 1e-16·t) is a bolus.
        let span = (t + dose.infusion_h) - t;
        let (first, second) = if span > 0.0 {
            let rate = amount / span;
            (
                Input::rate(t, entry, rate),
                Some(Input::rate(t + dose.infusion_h, entry, -rate)),
            )
        } else {
            (
                Input {
                    time_h: t,
                    entry,
                    amount_ug: amount,
                    rate_ug_per_h: 0.0,
                    reset: false,
                },
                None,
            )
        };
        reset
            .into_iter()
            .chain(std::iter::once(first))
            .chain(second)
    }

    fn rate(time_h: f64, entry: Entry, rate_ug_per_h: f64) -> Self {
        Input {
            time_h,
            entry,
            amount_ug: 0.0,
            rate_ug_per_h,
            reset: false,
        }
    }

    /// Adds the amount and the rate change to the state. A rate that returns to zero within
    /// rounding (starts and stops of overlapping infusions) is set to exactly zero, so the
    /// faster paths for spans without inputs apply again.
    pub fn apply(&self, s: &mut State) {
        if self.reset {
            *s = State::ZERO;
            return;
        }
        let (amount, rate) = match self.entry {
            Entry::Gut => (&mut s.gut_ug, &mut s.gut_rate_ug_per_h),
            Entry::Central => (&mut s.central_ug, &mut s.central_rate_ug_per_h),
        };
        *amount += self.amount_ug;
        if self.rate_ug_per_h != 0.0 {
            *rate += self.rate_ug_per_h;
            if rate.abs() <= 1e-12 * self.rate_ug_per_h.abs() {
                *rate = 0.0;
            }
        }
    }
}

/// The inputs of `events`, ascending in time (stable: inputs of the same instant keep the order
/// of their doses), inputs at the same instant into the same compartment merged into one.
pub fn absorption_inputs(model: &PkModel, events: &[DoseEvent]) -> Vec<Input> {
    let mut v: Vec<Input> = events
        .iter()
        .flat_map(|e| Input::of_dose(model, e))
        .collect();
    v.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
    merged(v)
}

/// Inputs (ascending in time) with those at the same instant and compartment summed into one.
fn merged(inputs: impl IntoIterator<Item = Input>) -> Vec<Input> {
    let mut out: Vec<Input> = Vec::new();
    for i in inputs {
        // Never merged across a reset, which acts before what follows it at its instant.
        match out
            .iter_mut()
            .rev()
            .take_while(|l| l.time_h == i.time_h && !l.reset)
            .find(|l| l.entry == i.entry && !i.reset)
        {
            Some(last) => {
                last.amount_ug += i.amount_ug;
                last.rate_ug_per_h += i.rate_ug_per_h;
            }
            None => out.push(i),
        }
    }
    out
}

/// The inputs of one period of `p`, with times as offsets from the period's first dose,
/// ascending, in `[0, τ)`: an input pushed past the period's end (by a lag, or an infusion's
/// end) wraps to the next period, which at steady state is the same thing. Simultaneous inputs
/// merged. The rates running at the period's start are [`period_start_rates`].
pub fn period_inputs(model: &PkModel, p: &Periodic) -> Vec<Input> {
    let tau = p.period_h;
    let mut v: Vec<Input> = p
        .pattern
        .iter()
        .flat_map(|d| wrapped_inputs(model, d, tau).map(|(i, _)| i))
        .collect();
    v.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
    merged(v)
}

/// The inputs of one dose of a pattern wrapped into `[0, τ)`, each with whether it wrapped. An
/// infusion's end is placed from its wrapped start (start + d, less τ if past the period), so
/// the wrap decision and the event times come from one computation; d = τ (a continuous
/// infusion) ends exactly where the next one starts.
fn wrapped_inputs(
    model: &PkModel,
    d: &DoseEvent,
    tau: f64,
) -> impl Iterator<Item = (Input, bool)> + use<> {
    let infusion_h = d.infusion_h;
    let mut start_offset = None;
    Input::of_dose(model, d).map(move |i| match start_offset {
        None => {
            let t = i.time_h.rem_euclid(tau);
            start_offset = Some(t);
            (Input { time_h: t, ..i }, false)
        }
        Some(s) => {
            let (t, wrapped) = if infusion_h >= tau {
                (s, true)
            } else if s + infusion_h >= tau {
                (s + infusion_h - tau, true)
            } else {
                (s + infusion_h, false)
            };
            (Input { time_h: t, ..i }, wrapped)
        }
    })
}

/// The zero-order rates running at the start of a steady-state period of `p` (before any of
/// its own inputs at offset 0): the infusions of earlier periods that have not ended, that is
/// those whose end wrapped into this period. Infusions must not be longer than τ (scenario
/// checks say so).
pub fn period_start_rates(model: &PkModel, p: &Periodic) -> State {
    let mut s = State::ZERO;
    for d in p.pattern.iter().filter(|d| !d.is_bolus()) {
        for (i, wrapped) in wrapped_inputs(model, d, p.period_h) {
            if wrapped && i.rate_ug_per_h < 0.0 {
                Input {
                    rate_ug_per_h: -i.rate_ug_per_h,
                    ..i
                }
                .apply(&mut s);
            }
        }
    }
    s
}

/// [`period_inputs`] repeated over `[0, window_h]`, with their offsets from the first period's
/// first dose.
pub fn inputs_over(model: &PkModel, p: &Periodic, window_h: f64) -> Vec<Input> {
    let one = period_inputs(model, p);
    let mut out = Vec::new();
    let mut k = 0.0;
    while k * p.period_h <= window_h {
        out.extend(
            one.iter()
                .map(|i| Input {
                    time_h: i.time_h + k * p.period_h,
                    ..*i
                })
                .filter(|i| i.time_h <= window_h),
        );
        k += 1.0;
    }
    out
}

/// Whole numbers below this are exact in an `f64`, and so is adding 1 to them.
const EXACT_COUNT: f64 = 4_503_599_627_370_496.0; // 2^52

/// The inputs still to come in `[t0_h, end_h]` from the doses of the periods before the first
/// one of `p` (a regimen that starts at steady state has taken them): a lag or an infusion
/// reaching past the first dose, and the doses of earlier periods after `t0_h` when the first
/// dose comes later. Inputs after `end_h` cannot change the run and are not made, so the walk
/// back starts at the last period whose input lands by `end_h`. Absolute times, ascending.
pub fn inputs_from_before(model: &PkModel, p: &Periodic, t0_h: f64, end_h: f64) -> Vec<Input> {
    let mut v = Vec::new();
    for d in &p.pattern {
        for i in Input::of_dose(model, d) {
            let base_h = p.first_h + i.time_h;
            // The first period back whose input lands at or before end_h.
            let first_j = if base_h - p.period_h > end_h {
                ((base_h - end_h) / p.period_h).ceil()
            } else {
                1.0
            };
            if first_j < EXACT_COUNT {
                // Each time from the period count, as the schedule computes its doses.
                let mut j = first_j;
                loop {
                    let t = base_h - j * p.period_h;
                    if t < t0_h {
                        break;
                    }
                    if t <= end_h {
                        v.push(Input { time_h: t, ..i });
                    }
                    j += 1.0;
                }
            } else {
                // A first dose so far away (10^17 h) that adding 1 to the period count no
                // longer changes it. The inputs come at times ≡ base_h (mod τ); the remainder
                // of floating-point division is exact, so the last of them at or before end_h
                // is found without a walk (one from a rounded jump could stall: far enough
                // out, subtracting τ no longer changes the number).
                let phase_h = base_h % p.period_h;
                let mut t = end_h - (end_h - phase_h).rem_euclid(p.period_h);
                while t >= t0_h {
                    v.push(Input { time_h: t, ..i });
                    t -= p.period_h;
                }
            }
        }
    }
    v.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
    merged(v)
}

/// The largest bolus or infused amount of `events` entering the body (µg), which sets the ODE's
/// absolute tolerance.
pub fn largest_dose_ug(model: &PkModel, events: &[DoseEvent]) -> f64 {
    events
        .iter()
        .map(|d| match d.route {
            Route::Oral => model.f * d.amount_ug,
            Route::Iv => d.amount_ug,
        })
        .fold(0.0, f64::max)
}

/// The largest input amount (µg) of `inputs`, rates counted over one hour: the scale of a walk
/// that sees inputs only.
pub fn largest_ug(inputs: &[Input]) -> f64 {
    inputs
        .iter()
        .map(|i| i.amount_ug.max(i.rate_ug_per_h.abs()))
        .fold(0.0, f64::max)
}

/// The inputs of the first period of `p` given to an empty body, offsets from its first dose in
/// `[0, τ)`: as [`period_inputs`], but what a lag or an infusion pushes past the period's end
/// is not wrapped (it belongs to the next period, and no earlier period exists).
pub fn first_period_inputs(model: &PkModel, p: &Periodic) -> Vec<Input> {
    let mut v: Vec<Input> = p
        .pattern
        .iter()
        .flat_map(|d| Input::of_dose(model, d))
        .filter(|i| i.time_h < p.period_h)
        .collect();
    v.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
    merged(v)
}

/// `inputs` (ascending) together with [`inputs_from_before`] in `[t0_h, end_h]`: everything a
/// regimen that has been taken since long before `t0_h` still delivers from then on to `end_h`.
pub fn with_inputs_from_before(
    model: &PkModel,
    p: &Periodic,
    t0_h: f64,
    end_h: f64,
    inputs: Vec<Input>,
) -> Vec<Input> {
    let mut v = inputs_from_before(model, p, t0_h, end_h);
    v.extend(inputs);
    v.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
    merged(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::DoseEvent;

    fn daily(first_h: f64, period_h: f64) -> Periodic {
        Periodic {
            period_h,
            first_h,
            pattern: vec![DoseEvent::oral(0.0, 100.0)],
            periods: 3,
        }
    }

    fn times(v: &[Input]) -> Vec<f64> {
        v.iter().map(|i| i.time_h).collect()
    }

    /// A first dose at 100 h every 24 h with a 2 h lag and F = 0.5: the earlier periods' doses
    /// enter at 102 − 24·j, i.e. 78, 54, 30 and 6 h, each 50 µg; with the run ending at 60 h the
    /// ones after it are not made.
    #[test]
    fn earlier_periods_land_between_the_start_and_the_end() {
        let m = PkModel::new(1.0, 0.1, 10.0, 0.5, 2.0, 0.0).unwrap();
        let p = daily(100.0, 24.0);
        let all = inputs_from_before(&m, &p, 0.0, 1000.0);
        assert_eq!(times(&all), [6.0, 30.0, 54.0, 78.0]);
        assert!(all
            .iter()
            .all(|i| i.amount_ug == 50.0 && i.entry == Entry::Gut));
        assert_eq!(
            times(&inputs_from_before(&m, &p, 0.0, 60.0)),
            [6.0, 30.0, 54.0]
        );
        assert_eq!(
            times(&inputs_from_before(&m, &p, 0.0, 54.0)),
            [6.0, 30.0, 54.0]
        );
        assert_eq!(times(&inputs_from_before(&m, &p, 10.0, 53.9)), [30.0]);
        assert!(inputs_from_before(&m, &p, 0.0, 5.9).is_empty());
    }

    /// Found by the long generated-input run (session 9): a steady-state regimen whose first
    /// dose is 6.9·10¹⁷ h away walked 2.9·10¹⁶ periods back to t = 0 (past 2^53 the period
    /// count stops changing when 1 is added) and allocated until killed. Now only the inputs
    /// inside the run are made: one per period between 0 and 672 h (28 of them, 24 h apart,
    /// whatever phase the rounding of 6.9·10¹⁷ gives).
    #[test]
    fn a_first_dose_far_past_the_run_makes_only_the_inputs_inside_it() {
        let m = PkModel::new(1.0, 0.1, 10.0, 1.0, 0.0, 0.0).unwrap();
        let p = daily(693_249_133_010_611_182.0, 24.0);
        let v = inputs_from_before(&m, &p, 0.0, 672.0);
        assert!((28..=29).contains(&v.len()), "{} inputs", v.len());
        assert!(v.iter().all(|i| (0.0..=672.0).contains(&i.time_h)));
        for w in v.windows(2) {
            assert_eq!(w[1].time_h - w[0].time_h, 24.0);
        }
        // Below 2^53 h the times are whole numbers of hours, exact: the jump by the period
        // count lands on the periods themselves.
        let p = daily(24.0 * 1.0e14, 24.0);
        let v = inputs_from_before(&m, &p, 0.0, 672.0);
        assert_eq!(
            times(&v),
            (0..=28).map(|k| 24.0 * k as f64).collect::<Vec<_>>()
        );
    }

    /// A first dose at 1e300 h: a rounded jump back lands ~1e284 h off, where subtracting
    /// 24 h changes nothing, so a walk from it never ends. The exact remainder gives one input
    /// per period inside the run, 24 h apart.
    #[test]
    fn a_first_dose_at_the_edge_of_the_floats_ends() {
        let m = PkModel::new(1.0, 0.1, 10.0, 1.0, 0.0, 0.0).unwrap();
        for first_h in [1e300, 1e33, f64::MAX] {
            let v = inputs_from_before(&m, &daily(first_h, 24.0), 0.0, 672.0);
            assert!(
                (28..=29).contains(&v.len()),
                "{first_h}: {} inputs",
                v.len()
            );
            assert!(v.iter().all(|i| (0.0..=672.0).contains(&i.time_h)));
            for w in v.windows(2) {
                assert_eq!(w[1].time_h - w[0].time_h, 24.0);
            }
        }
    }

    /// Inputs at one time into one compartment become one: amounts add (10 + 5 µg) and rate
    /// changes add (+3 − 1 µg/h); another compartment or a reset keeps its own.
    #[test]
    fn coincident_inputs_add() {
        let bolus = |t, entry, a| Input {
            time_h: t,
            entry,
            amount_ug: a,
            rate_ug_per_h: 0.0,
            reset: false,
        };
        let v = merged([
            bolus(1.0, Entry::Gut, 10.0),
            bolus(1.0, Entry::Gut, 5.0),
            Input::rate(1.0, Entry::Gut, 3.0),
            Input::rate(1.0, Entry::Gut, -1.0),
            bolus(1.0, Entry::Central, 7.0),
            bolus(2.0, Entry::Gut, 4.0),
        ]);
        assert_eq!(v.len(), 3);
        assert_eq!((v[0].amount_ug, v[0].rate_ug_per_h), (15.0, 2.0));
        assert_eq!((v[1].entry, v[1].amount_ug), (Entry::Central, 7.0));
        assert_eq!((v[2].time_h, v[2].amount_ug), (2.0, 4.0));
    }
}
