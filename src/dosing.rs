//! Dose schedules: regimens expanded into sorted dose events, keeping the periodic structure
//! that steady-state metrics need.

/// Where a dose enters the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// By mouth (default): into the gut, after the absorption lag, its bioavailable fraction F.
    #[default]
    Oral,
    /// Intravenous: into the central compartment at the dose time, all of it (F and the
    /// absorption lag do not apply).
    Iv,
}

impl Route {
    /// True for the default route (not written to outputs, which then stay as before).
    pub fn is_oral(&self) -> bool {
        *self == Route::Oral
    }

    /// The name used in scenario files: `oral` or `iv`.
    pub fn key(&self) -> &'static str {
        match self {
            Route::Oral => "oral",
            Route::Iv => "iv",
        }
    }
}

/// One dose as given (before bioavailability and lag are applied): a bolus, or a zero-order
/// input over `infusion_h` hours (an IV infusion, or an oral zero-order release into the gut).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DoseEvent {
    /// Time the dose is taken, or its infusion starts (h from the start of the simulation).
    pub time_h: f64,
    /// Amount given (µg); an infusion delivers it at `amount_ug / infusion_h` µg/h.
    pub amount_ug: f64,
    /// Where it goes.
    #[serde(skip_serializing_if = "Route::is_oral")]
    pub route: Route,
    /// Duration of the zero-order input (h); 0 for a bolus.
    #[serde(skip_serializing_if = "is_bolus")]
    pub infusion_h: f64,
    /// The body is emptied at this time, before the dose (a NONMEM dataset's EVID 3 or 4);
    /// with `amount_ug` 0 the event is a reset only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

fn is_bolus(infusion_h: &f64) -> bool {
    *infusion_h == 0.0
}

impl DoseEvent {
    /// An oral bolus of `amount_ug` at `time_h`.
    pub const fn oral(time_h: f64, amount_ug: f64) -> Self {
        Self {
            time_h,
            amount_ug,
            route: Route::Oral,
            infusion_h: 0.0,
            reset: false,
        }
    }

    /// The same dose at another time.
    pub const fn at(self, time_h: f64) -> Self {
        Self { time_h, ..self }
    }

    /// True for an instantaneous dose.
    pub fn is_bolus(&self) -> bool {
        self.infusion_h == 0.0
    }

    /// True for the plain oral bolus (what the population batch kernel serves).
    pub fn is_oral_bolus(&self) -> bool {
        self.route == Route::Oral && self.is_bolus()
    }
}

/// A pattern of doses repeated every `period_h`, `periods` times, starting at `first_h`.
///
/// "180 µg every 24 h" has one dose per period; "15 mg at 8, 13 and 19 h every day" has three,
/// at offsets 0, 5 and 11 h from the first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Periodic {
    /// Length of one repetition (h), the dosing interval τ.
    pub period_h: f64,
    /// Time of the first dose of the first period (h).
    pub first_h: f64,
    /// Doses of one period, `time_h` relative to the period start (0 for the first), ascending,
    /// all in `[0, period_h)`.
    pub pattern: Vec<DoseEvent>,
    /// Number of periods given.
    pub periods: u32,
}

/// The doses of one regimen.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Schedule {
    /// A repeated pattern: steady state is defined.
    Periodic(Periodic),
    /// Doses at arbitrary times: no steady state.
    Explicit {
        /// The doses, ascending in time.
        doses: Vec<DoseEvent>,
    },
}

impl Schedule {
    /// Every dose, in time order.
    pub fn events(&self) -> Vec<DoseEvent> {
        match self {
            Schedule::Explicit { doses } => doses.clone(),
            Schedule::Periodic(p) => {
                let mut out = Vec::with_capacity(p.pattern.len() * p.periods as usize);
                for k in 0..p.periods {
                    let start = p.first_h + f64::from(k) * p.period_h;
                    out.extend(p.pattern.iter().map(|d| d.at(start + d.time_h)));
                }
                out
            }
        }
    }

    /// The periodic structure, when there is one.
    pub fn periodic(&self) -> Option<&Periodic> {
        match self {
            Schedule::Periodic(p) => Some(p),
            Schedule::Explicit { .. } => None,
        }
    }

    /// Number of doses.
    pub fn dose_count(&self) -> usize {
        match self {
            Schedule::Explicit { doses } => doses.len(),
            Schedule::Periodic(p) => p.pattern.len() * p.periods as usize,
        }
    }

    /// Total amount taken (µg).
    pub fn total_ug(&self) -> f64 {
        match self {
            Schedule::Explicit { doses } => doses.iter().map(|d| d.amount_ug).sum(),
            Schedule::Periodic(p) => {
                p.pattern.iter().map(|d| d.amount_ug).sum::<f64>() * f64::from(p.periods)
            }
        }
    }

    /// Doses of `amount_ug` on the given weekdays at `clock_h`, for `weeks` weeks: a periodic
    /// schedule with a period of one week (168 h), so steady state is defined. The week starts
    /// on Monday at t = 0; `weekdays` are 0 (Monday) to 6 (Sunday), distinct and ascending, and
    /// `clock_h` is in `[0, 24)`.
    pub fn weekly(weekdays: &[u8], clock_h: f64, amount_ug: f64, weeks: u32) -> Schedule {
        let first = f64::from(weekdays.first().copied().unwrap_or(0)) * 24.0;
        Schedule::Periodic(Periodic {
            period_h: WEEK_H,
            first_h: first + clock_h,
            pattern: weekdays
                .iter()
                .map(|&d| DoseEvent::oral(f64::from(d) * 24.0 - first, amount_ug))
                .collect(),
            periods: weeks,
        })
    }

    /// The same doses without those taken on `days`, where day `d` covers `[24·d, 24·d + 24)` h
    /// (day 0 is the first day, as on the figures' time axis). The result is explicit: a
    /// schedule with gaps has no repeated pattern, hence no steady state.
    pub fn skipping_days(&self, days: &[u32]) -> Schedule {
        Schedule::Explicit {
            doses: self
                .events()
                .into_iter()
                .filter(|e| !days.contains(&day_of(e.time_h)))
                .collect(),
        }
    }

    /// "every 24 h", "3 doses every 24 h" or "12 doses at set times", for tables, with how
    /// the doses are given when not by mouth at once ("IV", "2 h infusion", "IV, 2 h infusion").
    pub fn describe(&self) -> String {
        let how = self.delivery();
        let when = self.describe_times();
        if how.is_empty() {
            when
        } else {
            format!("{when}, {how}")
        }
    }

    /// How the doses are given, when not all oral boluses: "IV", "2 h infusion", "IV, 2 h
    /// infusion", or "mixed routes" when they differ.
    fn delivery(&self) -> String {
        let ev = self.events();
        let Some(first) = ev.first() else {
            return String::new();
        };
        if ev
            .iter()
            .any(|d| d.route != first.route || d.infusion_h != first.infusion_h)
        {
            return "mixed routes".into();
        }
        let mut parts = Vec::new();
        if first.route == Route::Iv {
            parts.push("IV".to_string());
        }
        if !first.is_bolus() {
            parts.push(format!(
                "{} h {}",
                first.infusion_h,
                if first.route == Route::Iv {
                    "infusion"
                } else {
                    "zero-order release"
                }
            ));
        }
        parts.join(", ")
    }

    fn describe_times(&self) -> String {
        match self {
            Schedule::Periodic(p) if p.period_h == WEEK_H => format!(
                "{} dose{} a week × {} weeks",
                p.pattern.len(),
                if p.pattern.len() == 1 { "" } else { "s" },
                p.periods
            ),
            Schedule::Periodic(p) if p.pattern.len() == 1 => {
                format!("every {} h × {}", p.period_h, p.periods)
            }
            Schedule::Periodic(p) => format!(
                "{} doses every {} h × {}",
                p.pattern.len(),
                p.period_h,
                p.periods
            ),
            Schedule::Explicit { doses } if doses.len() == 1 => "1 dose".into(),
            Schedule::Explicit { doses } => format!("{} doses at set times", doses.len()),
        }
    }
}

/// Length of a week (h): the period of weekday schedules.
pub const WEEK_H: f64 = 168.0;

/// Weekday names as written in scenario files, Monday first (the week starts at t = 0).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The day number of time `t_h`: day `d` covers `[24·d, 24·d + 24)` h.
pub fn day_of(t_h: f64) -> u32 {
    (t_h / 24.0).floor().max(0.0) as u32
}

/// The output grid of one regimen: `0, step, 2·step, … , duration` together with every dose time
/// and every absorption start (dose + lag) inside the span, so that troughs and the onset of
/// absorption are sampled exactly. Ascending, without duplicates.
pub fn output_grid_h(duration_h: f64, step_h: f64, events: &[DoseEvent], tlag_h: f64) -> Vec<f64> {
    // Computed as i·step (not by accumulation) so the grid has no drift.
    let n = (duration_h / step_h + 1e-9).floor() as usize;
    let mut grid: Vec<f64> = (0..=n).map(|i| i as f64 * step_h).collect();
    if grid.last().is_some_and(|&t| t < duration_h) {
        grid.push(duration_h);
    }
    for e in events {
        for t in [e.time_h, e.time_h + tlag_h] {
            if t <= duration_h {
                grid.push(t);
            }
        }
    }
    grid.sort_by(f64::total_cmp);
    grid.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs().max(1.0));
    grid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_pattern_expands_in_order() {
        let s = Schedule::Periodic(Periodic {
            period_h: 24.0,
            first_h: 8.0,
            pattern: vec![
                DoseEvent::oral(0.0, 15_000.0),
                DoseEvent::oral(5.0, 15_000.0),
                DoseEvent::oral(11.0, 15_000.0),
            ],
            periods: 2,
        });
        let times: Vec<f64> = s.events().iter().map(|e| e.time_h).collect();
        assert_eq!(times, vec![8.0, 13.0, 19.0, 32.0, 37.0, 43.0]);
        assert_eq!(s.dose_count(), 6);
        assert_eq!(s.total_ug(), 90_000.0);
    }

    #[test]
    fn twice_a_week_expands_to_mondays_and_thursdays() {
        let s = Schedule::weekly(&[0, 3], 8.0, 400.0, 2);
        let times: Vec<f64> = s.events().iter().map(|e| e.time_h).collect();
        // Monday 08:00 and Thursday 08:00 of weeks 0 and 1.
        assert_eq!(times, vec![8.0, 80.0, 176.0, 248.0]);
        assert_eq!(s.periodic().unwrap().period_h, 168.0);
        assert_eq!(s.describe(), "2 doses a week × 2 weeks");
        // A week starting later than Monday keeps its weekdays.
        let s = Schedule::weekly(&[2, 5, 6], 19.5, 1.0, 1);
        let times: Vec<f64> = s.events().iter().map(|e| e.time_h).collect();
        assert_eq!(times, vec![67.5, 139.5, 163.5]);
        assert!(s
            .periodic()
            .unwrap()
            .pattern
            .iter()
            .all(|d| d.time_h >= 0.0 && d.time_h < 168.0));
    }

    #[test]
    fn skipped_days_remove_exactly_their_doses() {
        let daily = Schedule::Periodic(Periodic {
            period_h: 24.0,
            first_h: 8.0,
            pattern: vec![DoseEvent::oral(0.0, 1.0), DoseEvent::oral(11.0, 1.0)],
            periods: 5,
        });
        let s = daily.skipping_days(&[0, 3]);
        let times: Vec<f64> = s.events().iter().map(|e| e.time_h).collect();
        assert_eq!(times, vec![32.0, 43.0, 56.0, 67.0, 104.0, 115.0]);
        assert!(s.periodic().is_none());
        assert_eq!(day_of(23.999), 0);
        assert_eq!(day_of(24.0), 1);
    }

    #[test]
    fn grid_contains_doses_and_lagged_starts() {
        let events = [DoseEvent::oral(8.25, 1.0)];
        let g = output_grid_h(24.0, 1.0, &events, 0.5);
        assert!(g.contains(&8.25) && g.contains(&8.75));
        assert_eq!(g.first(), Some(&0.0));
        assert_eq!(g.last(), Some(&24.0));
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(g.len(), 25 + 2);
    }

    #[test]
    fn grid_ends_at_duration_when_step_does_not_divide_it() {
        let g = output_grid_h(10.0, 3.0, &[], 0.0);
        assert_eq!(g, vec![0.0, 3.0, 6.0, 9.0, 10.0]);
    }
}
