//! Validation of the regimen keys for foods (`food`, `amount_g`, `servings`), weekday
//! schedules (`weekdays`, `weeks`, `at_clock_h`) and skipped days (`skip_days`). Kept apart
//! from the core validator so each concept reads in one place; the errors follow the same
//! pattern (file:line:col, key, what was expected, how to fix it).

use crate::format::fmt_value;
use std::ops::Range;

use toml::Spanned;

use super::{Validator, R};
use crate::compound::{self, Compound};
use crate::dosing::{day_of, Schedule, WEEKDAYS};
use crate::error::{suggest, InputErrorKind as K};
use crate::foods::{self, Food};

/// Default clock time of weekday doses (h): breakfast.
pub const DEFAULT_CLOCK_H: f64 = 8.0;

/// A regimen that doses a food: which food and how much per dose.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FoodDose {
    /// The food, with its cited content.
    pub food: Food,
    /// Grams eaten per dose.
    pub amount_g: f64,
    /// Servings per dose, when the scenario gave `servings`.
    pub servings: Option<f64>,
    /// K2 per dose (µg), from the food table.
    pub k2_ug: f64,
}

/// The raw keys this module validates, borrowed from a regimen table.
pub(super) struct FoodWeekKeys<'r> {
    pub food: Option<&'r Spanned<String>>,
    pub amount_g: Option<&'r Spanned<f64>>,
    pub servings: Option<&'r Spanned<f64>>,
    pub weekdays: Option<&'r Spanned<Vec<Spanned<String>>>>,
    pub weeks: Option<&'r Spanned<i64>>,
    pub at_clock_h: Option<&'r Spanned<f64>>,
    pub skip_days: Option<&'r Spanned<Vec<Spanned<i64>>>>,
}

impl Validator<'_> {
    /// `food` with `amount_g` or `servings`, or nothing; the span points at `food`.
    pub(super) fn food_dose(&self, k: &FoodWeekKeys) -> R<Option<(FoodDose, Range<usize>)>> {
        let Some(name) = k.food else {
            for (key, v) in [("amount_g", k.amount_g), ("servings", k.servings)] {
                if let Some(v) = v {
                    return Err(self.err(
                        v.span(),
                        K::Missing {
                            key: "food".into(),
                            hint: format!(
                                "`{key}` is an amount of food: add `food = \"natto\"` (see `k2sim foods`), or give a supplement dose with `dose_ug`"
                            ),
                        },
                    ));
                }
            }
            return Ok(None);
        };
        let food = foods::find(name.get_ref()).ok_or_else(|| {
            self.err(
                name.span(),
                K::UnknownName {
                    key: "food".into(),
                    name: name.get_ref().clone(),
                    suggestion: suggest(name.get_ref(), foods::ids()),
                    known: foods::ids().iter().map(|s| s.to_string()).collect(),
                },
            )
        })?;
        let (amount_g, servings) = match (k.amount_g, k.servings) {
            (Some(_), Some(s)) => {
                return Err(self.conflict(
                    s.span(),
                    "servings",
                    "amount_g",
                    "give the amount once: grams (`amount_g`) or servings (`servings`)",
                ))
            }
            (Some(g), None) => (self.positive("amount_g", g, "grams")?, None),
            (None, Some(s)) => {
                let n = self.positive("servings", s, "servings")?;
                (n * food.serving_g.value, Some(n))
            }
            (None, None) => {
                return Err(self.err(
                    name.span(),
                    K::Missing {
                        key: "amount_g".into(),
                        hint: format!(
                            "say how much {} per dose: `amount_g = {}` (grams) or `servings = 1` (one serving: {})",
                            food.id,
                            fmt_value(food.serving_g.value),
                            food.serving_name
                        ),
                    },
                ))
            }
        };
        let k2_ug = food.k2_ug(amount_g);
        Ok(Some((
            FoodDose {
                food,
                amount_g,
                servings,
                k2_ug,
            },
            name.span(),
        )))
    }

    /// The compound of a food regimen: the food's, and a `compound` key must agree with it.
    pub(super) fn food_compound(
        &self,
        dose: &FoodDose,
        given: Option<&Spanned<String>>,
    ) -> R<Compound> {
        if let Some(c) = given {
            let same = compound::find(c.get_ref()).is_some_and(|c| c.id == dose.food.compound_id);
            if !same {
                return Err(self.conflict(
                    c.span(),
                    "compound",
                    "food",
                    &format!(
                        "{} is modelled as {} (see `k2sim foods`); remove `compound` or make it \"{}\"",
                        dose.food.id, dose.food.compound_id, dose.food.compound_id
                    ),
                ));
            }
        }
        // The food table maps every food to a preset (tested), so this lookup cannot fail.
        Ok(compound::find(dose.food.compound_id).expect("food maps to a preset"))
    }

    /// Refuses the new schedule keys where they do not belong, before any schedule is built.
    /// `others` are the keys of the other schedule forms present in the regimen, with spans.
    pub(super) fn check_food_week_keys(
        &self,
        k: &FoodWeekKeys,
        others: &[(&str, Option<Range<usize>>)],
        dose_list: Option<Range<usize>>,
    ) -> R<()> {
        if k.weekdays.is_none() {
            for (key, v) in [
                ("weeks", k.weeks.map(|w| w.span())),
                ("at_clock_h", k.at_clock_h.map(|w| w.span())),
            ] {
                if let Some(s) = v {
                    return Err(self.err(
                        s,
                        K::Missing {
                            key: "weekdays".into(),
                            hint: format!("`{key}` goes with a weekday schedule: add `weekdays = [\"mon\", \"thu\"]`"),
                        },
                    ));
                }
            }
        } else {
            for (key, span) in others {
                if let Some(s) = span {
                    return Err(self.conflict(
                        s.clone(),
                        key,
                        "weekdays",
                        "a weekday schedule repeats every week for `weeks` weeks at `at_clock_h`; remove this key (every other day is `interval_h = 48`)",
                    ));
                }
            }
        }
        if let (Some(list), Some(skip)) = (dose_list, k.skip_days) {
            let _ = list;
            return Err(self.conflict(
                skip.span(),
                "skip_days",
                "[[regimen.dose]]",
                "with explicit doses, leave out the doses you skip",
            ));
        }
        Ok(())
    }

    /// The weekday schedule: `weekdays` (names), `weeks` (count) and `at_clock_h` (default 8).
    pub(super) fn weekday_schedule(
        &self,
        k: &FoodWeekKeys,
        amount_ug: f64,
        span: Range<usize>,
    ) -> R<Schedule> {
        let Some(names) = k.weekdays else {
            unreachable!("called with weekdays present")
        };
        if names.get_ref().is_empty() {
            return Err(self.err(
                names.span(),
                K::OutOfRange {
                    key: "weekdays".into(),
                    value: "[]".into(),
                    expected: "at least one day, e.g. [\"mon\", \"thu\"]".into(),
                },
            ));
        }
        let mut days: Vec<u8> = Vec::new();
        for n in names.get_ref() {
            let text = n.get_ref().trim().to_lowercase();
            let short: String = text.chars().take(3).collect();
            let idx = WEEKDAYS
                .iter()
                .position(|w| *w == short && (text.len() == 3 || full_name(w) == text))
                .ok_or_else(|| {
                    self.err(
                        n.span(),
                        K::UnknownName {
                            key: "weekdays".into(),
                            name: n.get_ref().clone(),
                            suggestion: suggest(&text, WEEKDAYS),
                            known: WEEKDAYS.iter().map(|s| s.to_string()).collect(),
                        },
                    )
                })? as u8;
            if days.contains(&idx) {
                return Err(self.err(
                    n.span(),
                    K::OutOfRange {
                        key: "weekdays".into(),
                        value: format!("\"{}\"", n.get_ref()),
                        expected: "each day once (two doses on one day: use a larger amount)"
                            .into(),
                    },
                ));
            }
            days.push(idx);
        }
        days.sort_unstable();
        let weeks = k.weeks.ok_or_else(|| {
            self.err(
                span,
                K::Missing {
                    key: "weeks".into(),
                    hint: "add `weeks = 4`: for how many weeks the weekdays repeat".into(),
                },
            )
        })?;
        let n = *weeks.get_ref();
        if n < 1 || (n as u64).saturating_mul(days.len() as u64) > super::MAX_DOSES {
            return Err(self.err(
                weeks.span(),
                K::OutOfRange {
                    key: "weeks".into(),
                    value: n.to_string(),
                    expected: format!(
                        "a whole number of weeks from 1, with at most {} doses in all",
                        super::MAX_DOSES
                    ),
                },
            ));
        }
        let clock = match k.at_clock_h {
            Some(c) => self.range(
                "at_clock_h",
                c,
                |x| (0.0..24.0).contains(&x),
                "a clock time in hours from 0 up to (not including) 24",
            )?,
            None => DEFAULT_CLOCK_H,
        };
        Ok(Schedule::weekly(&days, clock, amount_ug, n as u32))
    }

    /// Applies `skip_days` to a periodic schedule (the result is explicit). A lone dose cannot
    /// skip days, and every listed day must hold a dose, so an off-by-one is caught.
    pub(super) fn skip_days(&self, k: &FoodWeekKeys, schedule: Schedule) -> R<Schedule> {
        let Some(list) = k.skip_days else {
            return Ok(schedule);
        };
        if schedule.periodic().is_none() {
            return Err(self.conflict(
                list.span(),
                "skip_days",
                "a single dose",
                "`skip_days` removes days from a repeated schedule (`interval_h`, `times_h` or `weekdays`)",
            ));
        }
        let events = schedule.events();
        let mut days: Vec<u32> = Vec::new();
        for d in list.get_ref() {
            let x = *d.get_ref();
            let has_dose = x >= 0 && events.iter().any(|e| i64::from(day_of(e.time_h)) == x);
            if !has_dose {
                let dosed: Vec<u32> = {
                    let mut v: Vec<u32> = events.iter().map(|e| day_of(e.time_h)).collect();
                    v.dedup();
                    v
                };
                let shown: Vec<String> = dosed.iter().take(8).map(|d| d.to_string()).collect();
                return Err(self.err(
                    d.span(),
                    K::OutOfRange {
                        key: "skip_days".into(),
                        value: x.to_string(),
                        expected: format!(
                            "a day with a dose (day 0 is the first day, t = 0–24 h); this schedule doses on days {}{}",
                            shown.join(", "),
                            if dosed.len() > 8 { ", …" } else { "" }
                        ),
                    },
                ));
            }
            days.push(x as u32);
        }
        let skipped = schedule.skipping_days(&days);
        if skipped.dose_count() == 0 {
            return Err(self.err(
                list.span(),
                K::OutOfRange {
                    key: "skip_days".into(),
                    value: format!("{} days", days.len()),
                    expected: "fewer skipped days than dosing days: at least one dose must remain"
                        .into(),
                },
            ));
        }
        Ok(skipped)
    }
}

fn full_name(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

/// "natto 40 g twice a week" style default label of a food regimen.
pub(super) fn food_label(dose: &FoodDose, schedule: &Schedule) -> String {
    let amount = match dose.servings {
        Some(n) => format!(
            "{} serving{}",
            fmt_value(n),
            if n == 1.0 { "" } else { "s" }
        ),
        None => format!("{} g", fmt_value(dose.amount_g)),
    };
    let when = match schedule.periodic() {
        Some(p) if p.period_h == crate::dosing::WEEK_H => match p.pattern.len() {
            1 => "once a week".to_string(),
            2 => "twice a week".to_string(),
            n => format!("{n} times a week"),
        },
        Some(p) if p.period_h == 24.0 && p.pattern.len() == 1 => "daily".to_string(),
        Some(p) => format!("every {} h", fmt_value(p.period_h)),
        None => format!("{} meals", schedule.dose_count()),
    };
    format!("{} {amount} {when}", dose.food.id.replace('_', " "))
}

#[cfg(test)]
mod tests {
    use crate::scenario::parse_str;

    /// The error for `text` after a `duration_h` line (so regimen lines start at line 2).
    fn err(text: &str) -> String {
        parse_str(&format!("duration_h = 48\n{text}"), "t")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn natto_twice_a_week_expands_to_the_right_doses() {
        let s = parse_str(
            "duration = \"4 weeks\"\n[[regimen]]\nfood = \"natto\"\nservings = 1\nweekdays = [\"thu\", \"mon\"]\nweeks = 4\n",
            "t",
        )
        .unwrap();
        let r = &s.regimens[0];
        assert_eq!(r.compound.id, "mk7");
        assert_eq!(r.label, "natto 1 serving twice a week");
        let ev = r.schedule.events();
        assert_eq!(ev.len(), 8);
        assert_eq!(
            ev.iter().map(|e| e.time_h).take(4).collect::<Vec<_>>(),
            vec![8.0, 80.0, 176.0, 248.0]
        );
        assert!(ev.iter().all(|e| e.amount_ug == 400.0));
        assert_eq!(r.schedule.periodic().unwrap().period_h, 168.0);
        let f = r.food.as_ref().unwrap();
        assert_eq!((f.amount_g, f.servings), (40.0, Some(1.0)));
    }

    #[test]
    fn food_by_grams_with_clock_and_daily_interval() {
        let s = parse_str(
            "duration_h = 96\n[[regimen]]\nfood = \"egg yolk\"\namount_g = 34\ninterval_h = 24\ndoses = 4\nstart_h = 7\n",
            "t",
        )
        .unwrap();
        let r = &s.regimens[0];
        assert_eq!(r.compound.id, "mk4");
        // 34 g at the middle of 15–32 µg/100 g.
        assert!((r.schedule.events()[0].amount_ug - 34.0 * 23.5 / 100.0).abs() < 1e-12);
        let s = parse_str(
            "duration_h = 336\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\nweekdays = [\"Saturday\"]\nweeks = 2\nat_clock_h = 19.5\n",
            "t",
        )
        .unwrap();
        let times: Vec<f64> = s.regimens[0]
            .schedule
            .events()
            .iter()
            .map(|e| e.time_h)
            .collect();
        assert_eq!(times, vec![5.0 * 24.0 + 19.5, 12.0 * 24.0 + 19.5]);
    }

    #[test]
    fn skipped_days_apply_to_supplements_and_foods() {
        let s = parse_str(
            "duration_h = 240\n[[regimen]]\ncompound = \"mk7\"\ndose_ug = 180\ninterval_h = 24\ndoses = 10\nstart_h = 8\nskip_days = [3, 7]\n[[regimen]]\nfood = \"natto\"\namount_g = 40\ntimes_h = [8]\ndays = 10\nskip_days = [0]\n",
            "t",
        )
        .unwrap();
        let a = &s.regimens[0].schedule;
        assert_eq!(a.dose_count(), 8);
        assert!(a.periodic().is_none());
        assert!(!a
            .events()
            .iter()
            .any(|e| e.time_h == 80.0 || e.time_h == 176.0));
        assert_eq!(s.regimens[1].schedule.events()[0].time_h, 32.0);
    }

    #[test]
    fn bad_food_and_week_keys_are_located_with_a_fix() {
        let e = err("[[regimen]]\nfood = \"nato\"\namount_g = 40\ninterval_h = 24\ndoses = 2\n");
        assert!(
            e.starts_with(
                "<scenario>:3:8: key `food`: unknown name \"nato\"; did you mean \"natto\"?"
            ),
            "{e}"
        );
        let e = err("[[regimen]]\nfood = \"natto\"\ncompound = \"mk4\"\nservings = 1\ninterval_h = 24\ndoses = 2\n");
        assert!(
            e.contains("4:12: key `compound` cannot be given together with `food`"),
            "{e}"
        );
        let e = err("[[regimen]]\nfood = \"natto\"\ninterval_h = 24\ndoses = 2\n");
        assert!(
            e.contains("missing key `amount_g`") && e.contains("servings = 1"),
            "{e}"
        );
        let e = err("[[regimen]]\nfood = \"natto\"\ndose_ug = 5\nservings = 1\ninterval_h = 24\ndoses = 2\n");
        assert!(
            e.contains("`dose_ug` cannot be given together with `food`"),
            "{e}"
        );
        let e = err("[[regimen]]\ncompound = \"mk7\"\ndose_ug = 1\nweekdays = [\"mon\", \"thurs\"]\nweeks = 2\n");
        assert!(
            e.contains("5:20: key `weekdays`: unknown name \"thurs\"; did you mean \"thu\"?"),
            "{e}"
        );
        let e = err("[[regimen]]\ncompound = \"mk7\"\ndose_ug = 1\nweekdays = [\"mon\"]\n");
        assert!(e.contains("missing key `weeks`"), "{e}");
        let e = err("[[regimen]]\ncompound = \"mk7\"\ndose_ug = 1\nweekdays = [\"mon\"]\nweeks = 2\ninterval_h = 24\n");
        assert!(
            e.contains("7:14: key `interval_h` cannot be given together with `weekdays`"),
            "{e}"
        );
        let e = err(
            "[[regimen]]\ncompound = \"mk7\"\ndose_ug = 1\ninterval_h = 24\ndoses = 2\nweeks = 2\n",
        );
        assert!(e.contains("missing key `weekdays`"), "{e}");
        let e = err("[[regimen]]\ncompound = \"mk7\"\ndose_ug = 1\nweekdays = [\"mon\"]\nweeks = 2\nskip_days = [1]\n");
        assert!(
            e.contains("7:14: key `skip_days`: 1 is out of range")
                && e.contains("doses on days 0, 7"),
            "{e}"
        );
        let e = err("[[regimen]]\ncompound = \"mk7\"\ndose_ug = 1\nskip_days = [0]\n");
        assert!(
            e.contains("`skip_days` cannot be given together with `a single dose`"),
            "{e}"
        );
        let e = err("[[regimen]]\ncompound = \"mk7\"\ndose_ug = 1\ninterval_h = 24\ndoses = 1\nskip_days = [0]\n");
        assert!(e.contains("at least one dose must remain"), "{e}");
        let e = err("[[regimen]]\ncompound = \"mk7\"\namount_g = 1\ninterval_h = 24\ndoses = 1\n");
        assert!(e.contains("missing key `food`"), "{e}");
    }
}
