//! How the doses of a regimen are given: `route = "oral" | "iv"`, a zero-order input
//! (`infusion_h`, its duration, or `rate_ug_per_h`), and `steady_state = true` (the run starts
//! at the schedule's steady state, NONMEM's `SS=1`). On a `[[regimen]]` they apply to every
//! dose; on a `[[regimen.dose]]` to that dose, over the regimen's.

use super::*;
use crate::dosing::{DoseEvent, Route, Schedule};
use crate::error::{InputError, InputErrorKind as K};
use crate::format::fmt_value;
use std::ops::Range;
use toml::Spanned;

/// Longest zero-order input accepted (h): ten years, as the longest run.
pub(super) const MAX_INFUSION_H: f64 = 87_660.0;

/// The delivery keys of one table, checked.
#[derive(Debug, Clone, Default)]
pub(super) struct Delivery {
    /// `route`, with its place.
    pub route: Option<(Route, Range<usize>)>,
    /// The zero-order input, with the key it came from and its place.
    pub infusion: Option<(Infusion, &'static str, Range<usize>)>,
}

/// A zero-order input as written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Infusion {
    /// `infusion_h`: the duration (h).
    DurationH(f64),
    /// `rate_ug_per_h`: the rate (µg/h); the duration is the dose over it.
    RateUgPerH(f64),
}

impl Delivery {
    /// This table's keys, falling back to `outer`'s (a dose's over its regimen's).
    pub fn over(&self, outer: &Delivery) -> Delivery {
        Delivery {
            route: self.route.clone().or_else(|| outer.route.clone()),
            infusion: self.infusion.clone().or_else(|| outer.infusion.clone()),
        }
    }

    /// `dose` given this way.
    pub fn apply(&self, dose: DoseEvent) -> DoseEvent {
        DoseEvent {
            route: self.route.as_ref().map_or(dose.route, |r| r.0),
            infusion_h: match self.infusion {
                Some((Infusion::DurationH(d), ..)) => d,
                Some((Infusion::RateUgPerH(r), ..)) => dose.amount_ug / r,
                None => dose.infusion_h,
            },
            ..dose
        }
    }

    /// The place to point at for a problem with the zero-order input, or the route.
    pub fn span(&self) -> Option<Range<usize>> {
        self.infusion
            .as_ref()
            .map(|i| i.2.clone())
            .or_else(|| self.route.as_ref().map(|r| r.1.clone()))
    }
}

impl Validator<'_> {
    /// Checks the delivery keys of one table.
    pub(super) fn delivery(
        &self,
        route: Option<&Spanned<String>>,
        infusion_h: Option<&Spanned<f64>>,
        rate_ug_per_h: Option<&Spanned<f64>>,
    ) -> R<Delivery> {
        let route = match route {
            None => None,
            Some(r) => {
                let v = match r.get_ref().trim().to_ascii_lowercase().as_str() {
                    "oral" | "po" => Route::Oral,
                    "iv" | "intravenous" => Route::Iv,
                    _ => {
                        return Err(self.err(
                            r.span(),
                            K::UnknownName {
                                key: "route".into(),
                                name: r.get_ref().clone(),
                                suggestion: None,
                                known: vec!["oral".into(), "iv".into()],
                            },
                        ))
                    }
                };
                Some((v, r.span()))
            }
        };
        let infusion = match (infusion_h, rate_ug_per_h) {
            (Some(_), Some(r)) => {
                return Err(self.conflict(
                    r.span(),
                    "rate_ug_per_h",
                    "infusion_h",
                    "give the zero-order input once: its duration (`infusion_h`) or its rate (`rate_ug_per_h`)",
                ))
            }
            (Some(d), None) => Some((
                Infusion::DurationH(self.range(
                    "infusion_h",
                    d,
                    |x| x > 0.0 && x <= MAX_INFUSION_H,
                    "a positive duration in h, at most 87660 (10 years); for a bolus leave it out",
                )?),
                "infusion_h",
                d.span(),
            )),
            (None, Some(r)) => Some((
                Infusion::RateUgPerH(self.range(
                    "rate_ug_per_h",
                    r,
                    |x| x > 0.0,
                    "a positive rate in µg/h; for a bolus leave it out",
                )?),
                "rate_ug_per_h",
                r.span(),
            )),
            (None, None) => None,
        };
        Ok(Delivery { route, infusion })
    }

    /// The schedule with the regimen's delivery applied to every dose without its own, then
    /// checked: a zero-order input may not outlast the dosing interval of a repeated pattern
    /// (its steady state is defined period by period), nor run longer than ten years.
    pub(super) fn deliver(
        &self,
        schedule: Schedule,
        regimen: &Delivery,
        per_dose: &[Delivery],
    ) -> R<Schedule> {
        let how = |i: usize| per_dose.get(i).map_or(regimen.clone(), |p| p.over(regimen));
        let period_h = schedule.periodic().map(|p| p.period_h);
        let check = |i: usize, d: DoseEvent| -> R<DoseEvent> {
            let h = how(i);
            let d = h.apply(d);
            let limit = period_h.unwrap_or(MAX_INFUSION_H).min(MAX_INFUSION_H);
            if d.infusion_h > limit {
                let expected = match period_h {
                    Some(p) if p < MAX_INFUSION_H => format!(
                        "an input no longer than the dosing interval ({} h): shorten the infusion, or give the doses as [[regimen.dose]] tables",
                        fmt_value(p)
                    ),
                    _ => "an input of at most 87660 h (10 years)".into(),
                };
                return Err(self.infusion_error(&h, d, expected));
            }
            Ok(d)
        };
        Ok(match schedule {
            Schedule::Explicit { doses } => Schedule::Explicit {
                doses: doses
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| check(i, d))
                    .collect::<R<_>>()?,
            },
            Schedule::Periodic(mut p) => {
                p.pattern = p
                    .pattern
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| check(i, d))
                    .collect::<R<_>>()?;
                Schedule::Periodic(p)
            }
        })
    }

    fn infusion_error(&self, h: &Delivery, d: DoseEvent, expected: String) -> InputError {
        let (key, value) = match h.infusion {
            Some((Infusion::RateUgPerH(r), ..)) => (
                "rate_ug_per_h",
                format!(
                    "{} (a {} µg dose at this rate lasts {} h)",
                    fmt_value(r),
                    fmt_value(d.amount_ug),
                    fmt_value(d.infusion_h)
                ),
            ),
            _ => ("infusion_h", fmt_value(d.infusion_h)),
        };
        self.err(
            h.span().unwrap_or(0..0),
            K::OutOfRange {
                key: key.into(),
                value,
                expected,
            },
        )
    }

    /// `steady_state = true`: only for a repeated pattern.
    pub(super) fn steady_start(&self, key: Option<&Spanned<bool>>, schedule: &Schedule) -> R<bool> {
        match key {
            Some(k) if *k.get_ref() => {
                if schedule.periodic().is_none() {
                    return Err(self.err(
                        k.span(),
                        K::WrongType {
                            key: "steady_state".into(),
                            message: "this regimen's doses do not repeat a pattern (explicit doses, a schedule with `then`, or skipped days), so it has no steady state to start from".into(),
                            hint: "give the schedule with `interval_h` (or `times_h`, `weekdays`, or a `schedule` string of one segment), or remove `steady_state`".into(),
                        },
                    ));
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
