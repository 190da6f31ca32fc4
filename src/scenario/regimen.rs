//! One `[[regimen]]`: its compound, label and dose schedule (a regular interval, daily clock
//! times, weekday patterns and foods, or explicit doses).

use super::raw::{DoseField, RawDose, RawRegimen};
use super::*;
use crate::compound::{self, Compound};
use crate::dosing::{DoseEvent, Periodic, Schedule};
use crate::error::{suggest, InputError, InputErrorKind as K};
use crate::format::{fmt_amount, fmt_value};
use crate::units::{self};
use std::ops::Range;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn regimen(&self, r: RawRegimen, span: Range<usize>) -> R<Regimen> {
        let fw = FoodWeekKeys {
            food: r.food.as_ref(),
            amount_g: r.amount_g.as_ref(),
            servings: r.servings.as_ref(),
            weekdays: r.weekdays.as_ref(),
            weeks: r.weeks.as_ref(),
            at_clock_h: r.at_clock_h.as_ref(),
            skip_days: r.skip_days.as_ref(),
        };
        let food = self.food_dose(&fw)?;
        let compound = match &food {
            Some((f, _)) => self.food_compound(f, r.compound.as_ref())?,
            None => self.compound(&r, span.clone())?,
        };
        let (model, sources) = self.params(&compound, r.params.as_ref())?;
        let (model, sources) = self.structure(r.params.as_ref(), model, sources)?;
        let (model, sources) = self.meal_fat(r.meal_fat_g.as_ref(), &compound, model, sources)?;
        self.check_food_week_keys(
            &fw,
            &[
                ("interval_h", r.interval_h.as_ref().map(|x| x.span())),
                ("interval", r.interval.as_ref().map(|x| x.span())),
                ("times_h", r.times_h.as_ref().map(|x| x.span())),
                ("doses", r.doses.as_ref().map(|x| x.span())),
                ("until_h", r.until_h.as_ref().map(|x| x.span())),
                ("days", r.days.as_ref().map(|x| x.span())),
                ("start_h", r.start_h.as_ref().map(|x| x.span())),
            ],
            match r.dose.as_ref() {
                Some(d) if matches!(d.get_ref(), DoseField::List(_)) => Some(d.span()),
                _ => None,
            },
        )?;
        let schedule = self.schedule(&r, span.clone(), &fw, food.as_ref())?;
        let delivery = self.delivery(
            r.route.as_ref(),
            r.infusion_h.as_ref(),
            r.rate_ug_per_h.as_ref(),
        )?;
        let per_dose = match r.dose.as_ref().map(|d| d.get_ref()) {
            Some(DoseField::List(list)) => list
                .iter()
                .map(|d| {
                    let d = d.get_ref();
                    self.delivery(
                        d.route.as_ref(),
                        d.infusion_h.as_ref(),
                        d.rate_ug_per_h.as_ref(),
                    )
                })
                .collect::<R<Vec<_>>>()?,
            _ => Vec::new(),
        };
        if let (Some(_), Some(s)) = (&food, delivery.span()) {
            let key = delivery.infusion.as_ref().map_or("route", |i| i.1);
            return Err(self.conflict(s, key, "food", "a food is eaten: its doses are oral boluses; remove this key, or give the vitamin as a supplement (`compound`, `dose_ug`)"));
        }
        let iv = delivery
            .route
            .as_ref()
            .is_some_and(|r| r.0 == crate::dosing::Route::Iv);
        if let (true, Some(m)) = (iv, &r.meal_fat_g) {
            return Err(self.conflict(m.span(), "meal_fat_g", "route", "the meal changes oral bioavailability, which an IV dose does not have; remove `meal_fat_g`"));
        }
        let (model, sources) = self.formulation_and_baseline(
            &super::formulation::Choices {
                formulation: r.formulation.as_ref(),
                baseline: r.baseline.as_ref(),
                ka_set: r.params.as_ref().is_some_and(|p| p.ka_per_h.is_some()),
                baseline_set: r
                    .params
                    .as_ref()
                    .is_some_and(|p| p.baseline_ng_ml.is_some()),
                iv,
            },
            &compound,
            model,
            sources,
        )?;
        let schedule = self.deliver(schedule, &delivery, &per_dose)?;
        let schedule = self.skip_days(&fw, schedule)?;
        let at_steady_state = self.steady_start(r.steady_state.as_ref(), &schedule)?;

        let label = match &r.label {
            Some(l) if l.get_ref().trim().is_empty() => {
                return Err(self.err(
                    l.span(),
                    K::OutOfRange {
                        key: "label".into(),
                        value: "\"\"".into(),
                        expected: "a non-empty label".into(),
                    },
                ))
            }
            Some(l) => l.get_ref().trim().to_string(),
            None => match &food {
                Some((f, _)) => food_week::food_label(f, &schedule),
                None => default_label(
                    &compound,
                    &schedule,
                    r.schedule.as_ref().filter(|_| r.skip_days.is_none()),
                ),
            },
        };
        Ok(Regimen {
            label,
            compound,
            model,
            sources,
            schedule,
            food: food.map(|(f, _)| f),
            at_steady_state,
        })
    }

    pub(super) fn compound(&self, r: &RawRegimen, span: Range<usize>) -> R<Compound> {
        let c = r.compound.as_ref().ok_or_else(|| {
            self.err(
                span.clone(),
                K::Missing {
                    key: "compound".into(),
                    hint: format!(
                        "add `compound = \"mk7\"` to this [[regimen]]; presets: {}",
                        compound::ids().join(", ")
                    ),
                },
            )
        })?;
        let compound = compound::find(c.get_ref()).ok_or_else(|| {
            self.err(
                c.span(),
                K::UnknownName {
                    key: "compound".into(),
                    name: c.get_ref().clone(),
                    suggestion: suggest(c.get_ref(), compound::ids()),
                    known: compound::ids().iter().map(|s| s.to_string()).collect(),
                },
            )
        })?;
        Ok(compound)
    }

    /// The doses of a regimen: explicit, daily clock times, weekdays, an interval or one dose.
    pub(super) fn schedule(
        &self,
        r: &RawRegimen,
        span: Range<usize>,
        fw: &FoodWeekKeys,
        food: Option<&(FoodDose, Range<usize>)>,
    ) -> R<Schedule> {
        if let Some(text) = &r.schedule {
            return self.text_schedule(r, text);
        }
        // The amount per dose: `dose_ug`, or `dose` as text; `dose` may instead hold the list.
        let (dose_num, dose_text, dose_list) = match &r.dose {
            Some(d) => {
                let span = d.span();
                match d.get_ref() {
                    DoseField::Text(t) => (r.dose_ug.clone(), Some(Spanned::new(span, t.clone())), None),
                    &DoseField::Number(x) => {
                        return Err(self.err(span, K::BadQuantity {
                            key: "dose".into(),
                            text: format!("{} (no unit)", fmt_value(x)),
                            expected: format!("text with a unit, e.g. dose = \"{} µg\", or a number under `dose_ug`", fmt_value(x)),
                        }))
                    }
                    DoseField::List(list) => (r.dose_ug.clone(), None, Some((list, span))),
                }
            }
            None => (r.dose_ug.clone(), None, None),
        };
        let amount = self.either(
            &dose_num,
            &dose_text,
            ("dose_ug", "dose"),
            units::parse_mass_ug,
            units::MASS_UNITS_HELP,
            "µg",
        )?;
        // A food brings its own amount per dose.
        let amount = match (food, amount) {
            (Some(_), Some((_, s))) => {
                return Err(self.conflict(
                    s,
                    "dose_ug",
                    "food",
                    "a food regimen doses `amount_g` or `servings` of the food; remove the supplement dose",
                ))
            }
            (Some((f, s)), None) => Some((f.k2_ug, s.clone())),
            (None, a) => a,
        };
        let interval = self.either(
            &r.interval_h,
            &r.interval,
            ("interval_h", "interval"),
            units::parse_duration_h,
            units::TIME_UNITS_HELP,
            "hours",
        )?;

        let schedule = if let Some((list, list_span)) = dose_list {
            if let Some((_, s)) = amount {
                return Err(self.conflict(
                    s,
                    "dose_ug",
                    "[[regimen.dose]]",
                    "with explicit doses, give each amount inside its [[regimen.dose]] table",
                ));
            }
            for (key, present) in [
                ("interval_h", interval.as_ref().map(|i| i.1.clone())),
                ("times_h", r.times_h.as_ref().map(|t| t.span())),
                ("doses", r.doses.as_ref().map(|d| d.span())),
                ("until_h", r.until_h.as_ref().map(|d| d.span())),
                ("days", r.days.as_ref().map(|d| d.span())),
                ("start_h", r.start_h.as_ref().map(|d| d.span())),
            ] {
                if let Some(s) = present {
                    return Err(self.conflict(s, key, "[[regimen.dose]]", "explicit doses carry their own times (`at_h`); remove this key or the dose tables"));
                }
            }
            if let Some((_, s)) = food {
                return Err(self.conflict(
                    s.clone(),
                    "food",
                    "[[regimen.dose]]",
                    "explicit doses are supplement amounts; for a food use a schedule (`interval_h`, `times_h` or `weekdays`)",
                ));
            }
            self.explicit(list, list_span)?
        } else if fw.weekdays.is_some() {
            let (amount, _) = amount.ok_or_else(|| self.missing_dose(span.clone()))?;
            self.weekday_schedule(fw, amount, span.clone())?
        } else if let Some(times) = &r.times_h {
            let (amount, _) = amount.ok_or_else(|| self.missing_dose(span.clone()))?;
            for (key, present) in [
                ("interval_h", interval.as_ref().map(|i| i.1.clone())),
                ("doses", r.doses.as_ref().map(|d| d.span())),
                ("until_h", r.until_h.as_ref().map(|d| d.span())),
                ("start_h", r.start_h.as_ref().map(|d| d.span())),
            ] {
                if let Some(s) = present {
                    return Err(self.conflict(s, key, "times_h", "`times_h` gives clock times repeated every day for `days` days; use `interval_h` with `doses` instead for other schedules"));
                }
            }
            self.daily(times, r.days.as_ref(), amount, span.clone())?
        } else if let Some((interval_h, _)) = interval {
            let (amount, _) = amount.ok_or_else(|| self.missing_dose(span.clone()))?;
            if let Some(d) = &r.days {
                return Err(self.conflict(
                    d.span(),
                    "days",
                    "interval_h",
                    "`days` goes with `times_h`; with `interval_h` give `doses` or `until_h`",
                ));
            }
            let start_h = match &r.start_h {
                Some(s) => {
                    self.range("start_h", s, |x| x >= 0.0, "zero or a positive time in h")?
                }
                None => 0.0,
            };
            let periods = match (&r.doses, &r.until_h) {
                (Some(_), Some(u)) => {
                    return Err(self.conflict(
                        u.span(),
                        "until_h",
                        "doses",
                        "give the number of doses or the time of the last one, not both",
                    ))
                }
                (Some(n), None) => {
                    let x = *n.get_ref();
                    if x < 1 || x as u64 > MAX_DOSES {
                        return Err(self.err(
                            n.span(),
                            K::OutOfRange {
                                key: "doses".into(),
                                value: x.to_string(),
                                expected: format!("a whole number from 1 to {MAX_DOSES}"),
                            },
                        ));
                    }
                    x as u64
                }
                (None, Some(u)) => {
                    let until = self.range(
                        "until_h",
                        u,
                        |x| x >= start_h,
                        &format!("a time at or after start_h ({} h)", fmt_value(start_h)),
                    )?;
                    let n = ((until - start_h) / interval_h + 1e-9).floor() as u64 + 1;
                    if n > MAX_DOSES {
                        return Err(self.err(
                            u.span(),
                            K::OutOfRange {
                                key: "until_h".into(),
                                value: fmt_value(until),
                                expected: format!("a time giving at most {MAX_DOSES} doses"),
                            },
                        ));
                    }
                    n
                }
                (None, None) => return Err(self.err(
                    span.clone(),
                    K::Missing {
                        key: "doses".into(),
                        hint:
                            "add `doses = 28` (how many) or `until_h = 672` (time of the last dose)"
                                .into(),
                    },
                )),
            };
            Schedule::Periodic(Periodic {
                period_h: interval_h,
                first_h: start_h,
                pattern: vec![DoseEvent::oral(0.0, amount)],
                periods: periods as u32,
            })
        } else if let Some((amount, _)) = amount {
            // A lone dose: one dose at start_h.
            for (key, present) in [
                ("doses", r.doses.as_ref().map(|d| d.span())),
                ("until_h", r.until_h.as_ref().map(|d| d.span())),
                ("days", r.days.as_ref().map(|d| d.span())),
            ] {
                if let Some(s) = present {
                    return Err(self.err(s, K::Missing { key: "interval_h".into(), hint: format!("`{key}` needs a dosing interval: add `interval_h = 24` (or `times_h` for daily clock times)") }));
                }
            }
            let start_h = match &r.start_h {
                Some(s) => {
                    self.range("start_h", s, |x| x >= 0.0, "zero or a positive time in h")?
                }
                None => 0.0,
            };
            Schedule::Explicit {
                doses: vec![DoseEvent::oral(start_h, amount)],
            }
        } else {
            return Err(self.missing_dose(span));
        };
        Ok(schedule)
    }

    pub(super) fn missing_dose(&self, span: Range<usize>) -> InputError {
        self.err(span, K::Missing {
            key: "dose_ug".into(),
            hint: "give the amount per dose: `dose_ug = 180` or `dose = \"180 µg\"`, or explicit [[regimen.dose]] tables".into(),
        })
    }

    pub(super) fn daily(
        &self,
        times: &Spanned<Vec<Spanned<f64>>>,
        days: Option<&Spanned<i64>>,
        amount: f64,
        span: Range<usize>,
    ) -> R<Schedule> {
        let days = days.ok_or_else(|| {
            self.err(
                span,
                K::Missing {
                    key: "days".into(),
                    hint: "add `days = 28`: for how many days the daily times repeat".into(),
                },
            )
        })?;
        let n = *days.get_ref();
        if n < 1 || (n as u64).saturating_mul(times.get_ref().len() as u64) > MAX_DOSES {
            return Err(self.err(
                days.span(),
                K::OutOfRange {
                    key: "days".into(),
                    value: n.to_string(),
                    expected: format!(
                        "a whole number of days from 1, with at most {MAX_DOSES} doses in all"
                    ),
                },
            ));
        }
        if times.get_ref().is_empty() {
            return Err(self.err(
                times.span(),
                K::OutOfRange {
                    key: "times_h".into(),
                    value: "[]".into(),
                    expected: "at least one clock time, e.g. [8, 13, 19]".into(),
                },
            ));
        }
        let mut clock = Vec::new();
        for t in times.get_ref() {
            let x = self.range(
                "times_h",
                t,
                |x| (0.0..24.0).contains(&x),
                "clock times in hours from 0 up to (not including) 24",
            )?;
            if let Some(prev) = clock.last() {
                if x <= *prev {
                    return Err(self.err(
                        t.span(),
                        K::OutOfRange {
                            key: "times_h".into(),
                            value: fmt_value(x),
                            expected: format!(
                                "clock times in increasing order, each after the previous ({})",
                                fmt_value(*prev)
                            ),
                        },
                    ));
                }
            }
            clock.push(x);
        }
        let first = clock[0];
        let pattern = clock
            .iter()
            .map(|&t| DoseEvent::oral(t - first, amount))
            .collect();
        Ok(Schedule::Periodic(Periodic {
            period_h: 24.0,
            first_h: first,
            pattern,
            periods: n as u32,
        }))
    }

    pub(super) fn explicit(&self, list: &[Spanned<RawDose>], span: Range<usize>) -> R<Schedule> {
        if list.is_empty() {
            return Err(self.err(
                span,
                K::Missing {
                    key: "dose".into(),
                    hint: "add [[regimen.dose]] tables with `at_h` and `dose_ug`".into(),
                },
            ));
        }
        if list.len() as u64 > MAX_DOSES {
            return Err(self.err(
                span,
                K::OutOfRange {
                    key: "dose".into(),
                    value: list.len().to_string(),
                    expected: format!("at most {MAX_DOSES} doses"),
                },
            ));
        }
        let mut doses: Vec<DoseEvent> = Vec::with_capacity(list.len());
        for d in list {
            let dspan = d.span();
            let d = d.get_ref();
            let at = match (&d.at_h, &d.at) {
                (Some(a), None) => {
                    self.range("at_h", a, |x| x >= 0.0, "zero or a positive time in h")?
                }
                (None, Some(t)) => {
                    let x = units::parse_duration_h(t.get_ref()).map_err(|e| {
                        self.err(
                            t.span(),
                            K::BadQuantity {
                                key: "at".into(),
                                text: format!("\"{}\" ({e})", t.get_ref()),
                                expected: units::TIME_UNITS_HELP.into(),
                            },
                        )
                    })?;
                    self.range(
                        "at",
                        &Spanned::new(t.span(), x),
                        |x| x >= 0.0,
                        "zero or a positive time",
                    )?
                }
                (Some(_), Some(t)) => {
                    return Err(self.conflict(t.span(), "at", "at_h", "give the time once"))
                }
                (None, None) => {
                    return Err(self.err(
                        dspan,
                        K::Missing {
                            key: "at_h".into(),
                            hint: "each [[regimen.dose]] needs its time: `at_h = 0`".into(),
                        },
                    ))
                }
            };
            let (amount, _) = self
                .either(
                    &d.dose_ug,
                    &d.dose,
                    ("dose_ug", "dose"),
                    units::parse_mass_ug,
                    units::MASS_UNITS_HELP,
                    "µg",
                )?
                .ok_or_else(|| {
                    self.err(
                        dspan.clone(),
                        K::Missing {
                            key: "dose_ug".into(),
                            hint: "each [[regimen.dose]] needs its amount: `dose_ug = 180`".into(),
                        },
                    )
                })?;
            if let Some(prev) = doses.last() {
                if at <= prev.time_h {
                    let key_span = d
                        .at_h
                        .as_ref()
                        .map(|a| a.span())
                        .or(d.at.as_ref().map(|a| a.span()))
                        .unwrap_or(dspan);
                    let expected = if at == prev.time_h {
                        format!("a time after the previous dose ({} h); two doses at one time: write one dose of their sum", fmt_value(prev.time_h))
                    } else {
                        format!(
                            "doses in time order: after the previous dose at {} h",
                            fmt_value(prev.time_h)
                        )
                    };
                    return Err(self.err(
                        key_span,
                        K::OutOfRange {
                            key: "at_h".into(),
                            value: fmt_value(at),
                            expected,
                        },
                    ));
                }
            }
            doses.push(DoseEvent::oral(at, amount));
        }
        Ok(Schedule::Explicit { doses })
    }
}

/// "MK-7 180 µg every 24 h"; doses that do not repeat one pattern are named by their
/// `schedule` string when they have one ("MK-7 360 ug q24h x 7 then 180 ug q24h x 21").
fn default_label(c: &Compound, s: &Schedule, text: Option<&Spanned<String>>) -> String {
    let short = c.name.split_whitespace().next().unwrap_or(c.id);
    match s {
        Schedule::Periodic(p) => format!(
            "{short} {} {}",
            fmt_amount(p.pattern[0].amount_ug),
            if p.pattern.len() > 1 {
                format!("× {} daily", p.pattern.len())
            } else {
                format!("every {} h", fmt_value(p.period_h))
            }
        ),
        Schedule::Explicit { doses } => match text {
            Some(t) => format!(
                "{short} {}",
                t.get_ref().split_whitespace().collect::<Vec<_>>().join(" ")
            ),
            None => format!("{short} {} dose(s)", doses.len()),
        },
    }
}
