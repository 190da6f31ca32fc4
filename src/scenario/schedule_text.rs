//! `schedule = "15 mg q8h x 84 then 180 ug q24h x 28"`: the doses of a regimen as one line of
//! text, read the way mrgsolve's `ev_rx` reads its Rx strings (docs/references.md#mrgsolve).
//!
//! ```text
//! schedule := segment ("then" segment)*
//! segment  := AMOUNT UNIT [iv|oral] [over DURATION] [q INTERVAL] [x COUNT] [after DELAY]
//! ```
//!
//! docs/scenarios.md ("Schedule strings") documents the grammar and the timing. [`parse`] reads
//! the text and [`expand`] lays its segments out in time; both are pure and report a problem as
//! a [`TextError`] at a byte offset of the text, which `Validator::text_schedule` places in the
//! scenario file.

use super::delivery::MAX_INFUSION_H;
use super::raw::{DoseField, RawRegimen};
use super::*;
use crate::dosing::{DoseEvent, Periodic, Route, Schedule};
use crate::error::{suggest, InputError, InputErrorKind as K};
use crate::format::{fmt_limit, fmt_value};
use crate::units;
use toml::Spanned;

/// The example a hint shows when no better one is at hand.
const EXAMPLE: &str = "\"15 mg q8h x 84 then 180 ug q24h x 28\"";

/// The words that may follow the amount, in their order; `iv` and `oral` share the first place.
const CLAUSES: [&str; 6] = ["iv", "oral", "over", "q", "x", "after"];

/// The places of the words after the amount, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// `iv` or `oral`.
    Route,
    Over,
    Q,
    X,
    After,
}

impl Place {
    fn of(t: &Token) -> Option<Place> {
        Some(match CLAUSES.iter().position(|c| t.is(c))? {
            0 | 1 => Place::Route,
            2 => Place::Over,
            3 => Place::Q,
            4 => Place::X,
            _ => Place::After,
        })
    }

    /// What the place holds, for "given twice" messages.
    fn name(self) -> &'static str {
        match self {
            Place::Route => "route",
            Place::Over => "`over`",
            Place::Q => "`q`",
            Place::X => "`x`",
            Place::After => "`after`",
        }
    }
}

/// The order of a segment's words, as the hints state it.
const ORDER: &str = "`iv` or `oral`, `over` DURATION, `q` INTERVAL, `x` COUNT, `after` DELAY, in this order and each at most once";

/// One segment of a schedule string: a dose, how it is given, how often and when it starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Segment {
    /// Amount per dose (µg).
    pub amount_ug: f64,
    /// `iv` or `oral`, when the segment names one (otherwise the regimen's route, oral by default).
    pub route: Option<Route>,
    /// `over D`: each dose is a zero-order input lasting D (h).
    pub over_h: Option<f64>,
    /// `q I`: the dosing interval (h).
    pub interval_h: Option<f64>,
    /// `x N`: the number of doses (1 without `x`).
    pub count: u64,
    /// `after D`: delay before the segment's first dose (h, 0 without `after`).
    pub after_h: f64,
    /// Where its words are, for problems found across segments.
    words: Words,
}

/// The located words of one segment.
#[derive(Debug, Clone, PartialEq, Default)]
struct Words {
    then: Option<Word>,
    amount: Word,
    over: Option<Word>,
    q: Option<Word>,
    x: Option<Word>,
}

/// A word or clause of the text as written ("q 24 h"), with the byte offset of its start.
#[derive(Debug, Clone, PartialEq, Default)]
struct Word {
    at: usize,
    text: String,
}

impl Word {
    fn error(&self, problem: impl Into<String>, hint: impl Into<String>) -> TextError {
        TextError {
            offset: self.at,
            word: self.text.clone(),
            problem: problem.into(),
            hint: hint.into(),
        }
    }
}

/// A problem at one word of a schedule string.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TextError {
    /// Byte offset of the word in the text.
    pub offset: usize,
    /// The word or clause as written; empty when the text is empty.
    pub word: String,
    /// What is wrong.
    pub problem: String,
    /// The right form, with an example.
    pub hint: String,
}

impl Segment {
    fn dose(&self, time_h: f64) -> DoseEvent {
        DoseEvent {
            time_h,
            amount_ug: self.amount_ug,
            route: self.route.unwrap_or_default(),
            infusion_h: self.over_h.unwrap_or(0.0),
            reset: false,
        }
    }

    /// The value of one word after the amount, checked against its range.
    fn set(
        &mut self,
        place: Place,
        route: Route,
        value: f64,
        word: &Word,
    ) -> Result<(), TextError> {
        let out_of_range = |what: &str, hint: String| {
            word.error(
                format!("the {what} ({} h) is out of range", fmt_value(value)),
                hint,
            )
        };
        match place {
            Place::Route => self.route = Some(route),
            Place::Over => {
                if !(value > 0.0 && value <= MAX_INFUSION_H) {
                    return Err(out_of_range("input's duration", "a positive duration of at most 87660 h (10 years), e.g. \"over 2h\"; for a bolus leave `over` out".into()));
                }
                self.over_h = Some(value);
                self.words.over = Some(word.clone());
            }
            Place::Q => {
                let (lo, hi, why) = value_limits("interval").expect("intervals have limits");
                if !(lo..=hi).contains(&value) {
                    return Err(out_of_range(
                        "interval",
                        format!(
                            "a positive interval from {} to {} h ({why}), e.g. \"q24h\"",
                            fmt_limit(lo),
                            fmt_limit(hi)
                        ),
                    ));
                }
                self.interval_h = Some(value);
                self.words.q = Some(word.clone());
            }
            Place::X => {
                if !(value.fract() == 0.0 && (1.0..=MAX_DOSES as f64).contains(&value)) {
                    return Err(word.error(
                        format!("the number of doses ({}) is out of range", fmt_value(value)),
                        format!("a whole number of doses from 1 to {MAX_DOSES}, e.g. \"x 28\""),
                    ));
                }
                self.count = value as u64;
                self.words.x = Some(word.clone());
            }
            Place::After => {
                if !(0.0..=MAX_DURATION_H).contains(&value) {
                    return Err(out_of_range(
                        "delay",
                        "zero or a positive delay of at most 876000 h (100 years), e.g. \"after 12h\"".into(),
                    ));
                }
                self.after_h = value;
            }
        }
        Ok(())
    }

    /// True when the segment says how its doses are given (`iv`, `oral` or `over`).
    fn names_delivery(&self) -> bool {
        self.route.is_some() || self.over_h.is_some()
    }
}

/// Reads a schedule string into its segments, checking every word and limit: amounts,
/// intervals, durations and delays in range, at most [`MAX_DOSES`] doses, and an input no
/// longer than the interval of a single repeated segment (its schedule is periodic).
pub(super) fn parse(text: &str) -> Result<Vec<Segment>, TextError> {
    let tokens = lex(text);
    if tokens.is_empty() {
        return Err(TextError {
            offset: 0,
            word: String::new(),
            problem: "the schedule is empty".into(),
            hint: format!("write the doses, e.g. {EXAMPLE}"),
        });
    }
    let mut p = Parser { text, tokens, i: 0 };
    let mut segments = vec![p.segment(None)?];
    // A segment ends only at `then` or at the end of the text.
    while let Some(then) = p.next() {
        let then = p.word(then, then);
        segments.push(p.segment(Some(then))?);
    }
    let mut total = 0u64;
    for s in &segments {
        total += s.count;
        if total > MAX_DOSES {
            let w = s.words.x.as_ref().unwrap_or(&s.words.amount);
            return Err(w.error(
                format!("the schedule has {total} doses up to here, over the limit of {MAX_DOSES}"),
                format!(
                    "at most {MAX_DOSES} doses in one regimen: fewer doses, or several regimens"
                ),
            ));
        }
    }
    if let [s] = segments.as_slice() {
        if let (Some(q), Some(d), Some(w)) = (s.interval_h, s.over_h, &s.words.over) {
            if d > q {
                return Err(w.error(
                    format!("the input lasts longer than the dosing interval ({} h)", fmt_value(q)),
                    "an input no longer than the interval (one that lasts all of it is a continuous infusion): shorten `over`, or lengthen `q`",
                ));
            }
        }
    }
    Ok(segments)
}

/// The doses of the segments, the first starting at `start_h` plus its delay. One segment with
/// an interval is a repeated pattern (steady state is defined); anything else is a list of
/// doses. Each later segment starts one interval of the previous segment (none: 0) after that
/// segment's last dose, plus its own delay: the rule of mrgsolve's `ev_seq`.
pub(super) fn expand(segments: &[Segment], start_h: f64) -> Result<Schedule, TextError> {
    if let [s] = segments {
        if let Some(period_h) = s.interval_h {
            return Ok(Schedule::Periodic(Periodic {
                period_h,
                first_h: start_h + s.after_h,
                pattern: vec![s.dose(0.0)],
                periods: s.count as u32,
            }));
        }
    }
    let total: u64 = segments.iter().map(|s| s.count).sum();
    let mut doses: Vec<DoseEvent> = Vec::with_capacity(total as usize);
    let mut next_h = start_h;
    for s in segments {
        let first_h = next_h + s.after_h;
        let step_h = s.interval_h.unwrap_or(0.0);
        for j in 0..s.count {
            // i·step from the segment's start, as a periodic schedule expands (no drift).
            let t = first_h + j as f64 * step_h;
            if let Some(prev) = doses.last().filter(|d| t <= d.time_h) {
                let when = fmt_value(prev.time_h);
                return Err(match (j, &s.words.then) {
                    (0, Some(then)) => then.error(
                        format!("the segment after it starts at {when} h, the time of the previous dose"),
                        "after a segment without `q` the next one starts at its last dose: give that segment its interval (e.g. `q24h x 1`) or this one a delay (e.g. `after 24h`); two doses at one time are one dose of their sum",
                    ),
                    _ => s.words.q.as_ref().unwrap_or(&s.words.amount).error(
                        format!("two doses fall at one time ({when} h): the interval is too short for doses this late"),
                        "a longer interval",
                    ),
                });
            }
            doses.push(s.dose(t));
        }
        next_h = doses.last().map_or(first_h, |d| d.time_h) + step_h;
    }
    Ok(Schedule::Explicit { doses })
}

/// What a token of the text is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number(f64),
    /// A run of letters (µ and μ included): a unit or a keyword.
    Word,
    /// Any other character.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    at: usize,
    text: &'a str,
    kind: Kind,
}

impl Token<'_> {
    fn is(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }

    fn number(&self) -> Option<f64> {
        match self.kind {
            Kind::Number(x) => Some(x),
            _ => None,
        }
    }

    /// A word of the grammar (never a unit).
    fn is_keyword(&self) -> bool {
        self.is("then") || CLAUSES.iter().any(|c| self.is(c))
    }

    /// A word that may be a unit: letters that are not a keyword.
    fn is_unit_like(&self) -> bool {
        self.kind == Kind::Word && !self.is_keyword()
    }
}

/// Numbers, words and single other characters, with their byte offsets; whitespace separates
/// them but is not needed between a number and a word ("q24h", "180ug", "x28").
fn lex(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let (len, kind) = if let Some(len) = number_len(rest) {
            let x = rest[..len].parse().unwrap_or(f64::NAN);
            (len, Kind::Number(x))
        } else if c.is_alphabetic() {
            let len = rest
                .find(|c: char| !c.is_alphabetic())
                .unwrap_or(rest.len());
            (len, Kind::Word)
        } else {
            (c.len_utf8(), Kind::Other)
        };
        out.push(Token {
            at: i,
            text: &rest[..len],
            kind,
        });
        i += len;
    }
    out
}

/// Length of the number at the start of `s`: an optional sign, digits with an optional decimal
/// point, an optional exponent (`1.5e3`; an `e` without digits after it is left to a word).
fn number_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let start = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let mut i = digits(start);
    let mut n = i - start;
    if b.get(i) == Some(&b'.') {
        let j = digits(i + 1);
        n += j - i - 1;
        i = j;
    }
    if n == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let j = digits(i + 1 + sign);
        if j > i + 1 + sign {
            i = j;
        }
    }
    Some(i)
}

/// "; did you mean `mg`?" when `word` is close to one of `known`. Of equally close words the
/// one sharing the longest start with `word` wins ("mgg": `mg`, not `mcg`).
fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let lower = word.to_lowercase();
    let shared = |c: &str| {
        lower
            .chars()
            .zip(c.to_lowercase().chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let mut known: Vec<&str> = known.into_iter().collect();
    known.sort_by_key(|c| std::cmp::Reverse(shared(c)));
    suggest(word, known).map_or(String::new(), |s| format!("; did you mean `{s}`?"))
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token<'a>>,
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.i).copied()
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let t = self.peek();
        self.i += usize::from(t.is_some());
        t
    }

    /// The next token when it is a number.
    fn next_number(&mut self) -> Option<Token<'a>> {
        let t = self.peek().filter(|t| t.number().is_some());
        self.i += usize::from(t.is_some());
        t
    }

    /// The text from the start of `first` to the end of `last`, as written.
    fn word(&self, first: Token, last: Token) -> Word {
        Word {
            at: first.at,
            text: self.text[first.at..last.at + last.text.len()].to_string(),
        }
    }

    fn segment(&mut self, then: Option<Word>) -> Result<Segment, TextError> {
        let (amount_ug, amount) = self.amount(then.as_ref())?;
        let mut seg = Segment {
            amount_ug,
            route: None,
            over_h: None,
            interval_h: None,
            count: 1,
            after_h: 0.0,
            words: Words {
                then,
                amount,
                ..Words::default()
            },
        };
        let mut last: Option<(Place, Word)> = None;
        while let Some(t) = self.peek() {
            if t.is("then") {
                break;
            }
            self.i += 1;
            let Some(place) = Place::of(&t) else {
                return Err(self.stray(t));
            };
            let (value, word) = match place {
                Place::Route => (0.0, self.word(t, t)),
                Place::Over => self.duration(t, "over 2h")?,
                Place::Q => self.duration(t, "q24h")?,
                Place::X => self.count(t)?,
                Place::After => self.duration(t, "after 12h")?,
            };
            if let Some((p, prev)) = &last {
                if place == *p {
                    return Err(word.error(
                        format!(
                            "a second {} in one segment (the first is `{}`)",
                            place.name(),
                            prev.text
                        ),
                        format!(
                            "give each at most once; `then` starts another segment, e.g. {EXAMPLE}"
                        ),
                    ));
                }
                if place < *p {
                    return Err(word.error(
                        format!("must come before `{}`", prev.text),
                        format!("after the amount and its unit come {ORDER}, e.g. \"10 mg iv over 2h q24h x 7 after 12h\""),
                    ));
                }
            }
            let route = if t.is("iv") { Route::Iv } else { Route::Oral };
            seg.set(place, route, value, &word)?;
            last = Some((place, word));
        }
        let amount = &seg.words.amount.text;
        match (&seg.words.q, &seg.words.x) {
            (Some(q), None) => Err(q.error(
                "a repeated dose needs its number of doses",
                format!("say how many with `x`, e.g. \"{amount} {} x 28\"", q.text),
            )),
            (None, Some(x)) if seg.count > 1 => Err(x.error(
                "repeated doses need their interval",
                format!(
                    "give it with `q` before `x`, e.g. \"{amount} q24h {}\"",
                    x.text
                ),
            )),
            _ => Ok(seg),
        }
    }

    /// The amount and its mass unit that start a segment, in µg and as written.
    fn amount(&mut self, then: Option<&Word>) -> Result<(f64, Word), TextError> {
        let amount = match self.next() {
            Some(t) if t.number().is_some() => t,
            Some(t) => {
                let problem = if then.is_some() {
                    "a segment after `then` starts with its amount, a number"
                } else {
                    "a schedule starts with its amount, a number"
                };
                return Err(self.word(t, t).error(
                    problem,
                    format!("write the amount and its mass unit first, e.g. {EXAMPLE}"),
                ));
            }
            None => {
                let then = then.expect("a text with words, or a word after `then`");
                return Err(then.error(
                    "nothing follows `then`",
                    format!("write the next segment after it, or remove it, e.g. {EXAMPLE}"),
                ));
            }
        };
        let unit = match self.peek() {
            Some(u) if u.is_unit_like() => {
                self.i += 1;
                u
            }
            _ => {
                return Err(self.word(amount, amount).error(
                    format!("the amount {} has no unit", amount.text),
                    format!("write its mass unit after it: {}", units::MASS_UNITS_HELP),
                ))
            }
        };
        let Some(factor) = units::mass_unit_ug(unit.text) else {
            return Err(self.word(unit, unit).error(
                format!(
                    "not a mass unit{}",
                    did_you_mean(unit.text, units::mass_unit_names())
                ),
                format!("write the amount with {}", units::MASS_UNITS_HELP),
            ));
        };
        let word = self.word(amount, unit);
        // The same product as `dose = "15 mg"` (units::parse_mass_ug), so both give one dose.
        let amount_ug = amount.number().unwrap_or(f64::NAN) * factor;
        let (lo, hi, why) = value_limits("dose").expect("doses have limits");
        if !(lo..=hi).contains(&amount_ug) {
            return Err(word.error(
                format!("the amount ({} µg) is out of range", fmt_value(amount_ug)),
                format!(
                    "a positive amount from {} to {} µg ({why}), e.g. \"180 ug\"",
                    fmt_limit(lo),
                    fmt_limit(hi)
                ),
            ));
        }
        Ok((amount_ug, word))
    }

    /// `over`, `q` or `after` and its time: a number with an optional unit (hours without one).
    fn duration(&mut self, keyword: Token, example: &str) -> Result<(f64, Word), TextError> {
        let Some(number) = self.next_number() else {
            return Err(self.word(keyword, keyword).error(
                "needs a time after it",
                format!("write it as \"{example}\" (hours unless a unit follows: min, h, d or w)"),
            ));
        };
        let (factor, last) = match self.peek().filter(Token::is_unit_like) {
            Some(u) => {
                let factor = units::time_unit_h(u.text).ok_or_else(|| {
                    self.word(u, u).error(
                        format!("not a time unit{}", did_you_mean(u.text, units::time_unit_names())),
                        format!("write the time with min, h, d or w (hours when no unit is given), e.g. \"{example}\""),
                    )
                })?;
                self.i += 1;
                (factor, u)
            }
            None => (1.0, number),
        };
        let value = number.number().unwrap_or(f64::NAN) * factor;
        Ok((value, self.word(keyword, last)))
    }

    /// `x` and the number of doses.
    fn count(&mut self, keyword: Token) -> Result<(f64, Word), TextError> {
        let Some(number) = self.next_number() else {
            return Err(self.word(keyword, keyword).error(
                "needs the number of doses after it",
                "write it as \"x 28\" (28 doses)",
            ));
        };
        // "x 28 days", "x 28 doses": a unit where none belongs (other words are left to the
        // caller, which suggests the keyword meant).
        let unit = |u: &Token| {
            u.is_unit_like()
                && (units::time_unit_h(u.text).is_some()
                    || u.text.to_ascii_lowercase().starts_with("dose"))
        };
        if let Some(u) = self.peek().filter(unit) {
            return Err(self.word(u, u).error(
                "the number after `x` counts doses, without a unit",
                "write it as \"x 28\" (28 doses; 28 days of daily doses are \"q24h x 28\")",
            ));
        }
        Ok((
            number.number().unwrap_or(f64::NAN),
            self.word(keyword, number),
        ))
    }

    /// A token that has no place where it stands.
    fn stray(&self, t: Token) -> TextError {
        let w = self.word(t, t);
        match t.kind {
            Kind::Number(_) => w.error(
                "a number without the word that says what it is",
                "write \"q 24h\" (the interval), \"over 2h\" (an input's duration), \"x 28\" (the number of doses) or \"after 12h\" (a delay)",
            ),
            Kind::Word => w.error(
                format!(
                    "not a word of a schedule{}",
                    did_you_mean(t.text, CLAUSES.into_iter().chain(["then"]))
                ),
                format!("after the amount come {ORDER}; `then` starts the next segment, e.g. {EXAMPLE}"),
            ),
            Kind::Other if t.text == "," || t.text == ";" => w.error(
                "segments are joined by `then`",
                format!("e.g. {EXAMPLE}"),
            ),
            Kind::Other if t.text == "×" || t.text == "*" => w.error(
                "the number of doses is written with `x`",
                "e.g. \"180 ug q24h x 28\"",
            ),
            Kind::Other => w.error(
                "not part of a schedule",
                format!("after the amount come {ORDER}; `then` starts the next segment, e.g. {EXAMPLE}"),
            ),
        }
    }
}

impl Validator<'_> {
    /// The doses of a regimen written as a `schedule` string: refused with the keys it replaces,
    /// and with regimen-level delivery keys when the string says how its doses are given.
    pub(super) fn text_schedule(&self, r: &RawRegimen, text: &Spanned<String>) -> R<Schedule> {
        let dose_key = match r.dose.as_ref().map(|d| d.get_ref()) {
            Some(DoseField::List(_)) => "[[regimen.dose]]",
            _ => "dose",
        };
        for (key, present) in [
            ("dose_ug", r.dose_ug.as_ref().map(|x| x.span())),
            (dose_key, r.dose.as_ref().map(|x| x.span())),
            ("interval_h", r.interval_h.as_ref().map(|x| x.span())),
            ("interval", r.interval.as_ref().map(|x| x.span())),
            ("doses", r.doses.as_ref().map(|x| x.span())),
            ("until_h", r.until_h.as_ref().map(|x| x.span())),
            ("times_h", r.times_h.as_ref().map(|x| x.span())),
            ("days", r.days.as_ref().map(|x| x.span())),
            ("weekdays", r.weekdays.as_ref().map(|x| x.span())),
            ("food", r.food.as_ref().map(|x| x.span())),
        ] {
            if let Some(s) = present {
                let hint = match key {
                    "food" => "a food is dosed by `amount_g` or `servings` on its own schedule; `schedule` is for a supplement (`compound`): use one of them".to_string(),
                    "weekdays" => "a weekday schedule is a schedule of its own: give the doses with `weekdays` or with `schedule`, not both".to_string(),
                    _ => format!("`schedule` gives the amounts, times and number of the doses itself: remove `{key}`, or write the regimen without `schedule`"),
                };
                return Err(self.conflict(s, key, "schedule", &hint));
            }
        }
        let segments = parse(text.get_ref()).map_err(|e| self.text_error(text, e))?;
        if segments.iter().any(Segment::names_delivery) {
            for (key, present) in [
                ("route", r.route.as_ref().map(|x| x.span())),
                ("infusion_h", r.infusion_h.as_ref().map(|x| x.span())),
                ("rate_ug_per_h", r.rate_ug_per_h.as_ref().map(|x| x.span())),
            ] {
                if let Some(s) = present {
                    return Err(self.conflict(s, key, "schedule", "the schedule string says how its doses are given (`iv`, `oral`, `over`): say it once, in the string or with this key"));
                }
            }
        }
        if let (Some(skip), true) = (&r.skip_days, segments.len() > 1) {
            return Err(self.conflict(skip.span(), "skip_days", "schedule", "`skip_days` removes days from one repeated schedule, and a schedule with `then` is several: leave the days out with `after`, or use one segment"));
        }
        if let Some(m) = &r.meal_fat_g {
            if segments.iter().all(|s| s.route == Some(Route::Iv)) {
                return Err(self.conflict(m.span(), "meal_fat_g", "schedule", "the meal changes oral bioavailability, which an IV dose does not have; remove `meal_fat_g`"));
            }
        }
        let start_h = match &r.start_h {
            Some(s) => self.range("start_h", s, |x| x >= 0.0, "zero or a positive time in h")?,
            None => 0.0,
        };
        expand(&segments, start_h).map_err(|e| self.text_error(text, e))
    }

    /// `e` located at its word in the file. The value's span starts at its opening quote; when
    /// the file's text between the quotes is the value (no escapes, one line), the word is
    /// `offset` bytes past the quote, otherwise the error points at the value.
    fn text_error(&self, text: &Spanned<String>, e: TextError) -> InputError {
        let span = text.span();
        let written = self.text.get(span.start + 1..span.end.saturating_sub(1));
        let at = if written == Some(text.get_ref().as_str()) {
            span.start + 1 + e.offset
        } else {
            span.start
        };
        self.err(
            at..at,
            K::BadWord {
                key: "schedule".into(),
                word: e.word,
                problem: e.problem,
                hint: e.hint,
            },
        )
    }
}

#[cfg(test)]
mod tests;
