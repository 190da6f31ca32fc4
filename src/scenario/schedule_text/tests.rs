//! The schedule-string parser against hand-written expectations: every form of the grammar,
//! the timing of segments, and each refusal with the offset of its word.

use super::*;

/// Amount, route, over, q, count and after of each segment.
type Plain = (f64, Option<Route>, Option<f64>, Option<f64>, u64, f64);

fn plain(text: &str) -> Vec<Plain> {
    parse(text)
        .unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
        .into_iter()
        .map(|s| {
            (
                s.amount_ug,
                s.route,
                s.over_h,
                s.interval_h,
                s.count,
                s.after_h,
            )
        })
        .collect()
}

/// The offset and word of the error of `text`, and its problem.
fn error(text: &str) -> (usize, String, String) {
    let e = parse(text).and_then(|s| expand(&s, 0.0)).expect_err(text);
    (e.offset, e.word, e.problem)
}

fn times(text: &str, start_h: f64) -> Vec<(f64, f64)> {
    let s = expand(&parse(text).unwrap(), start_h).unwrap();
    s.events().iter().map(|d| (d.time_h, d.amount_ug)).collect()
}

#[test]
fn the_forms_of_the_grammar() {
    assert_eq!(
        plain("180 ug q24h x 28"),
        [(180.0, None, None, Some(24.0), 28, 0.0)]
    );
    assert_eq!(
        plain("15 mg q8h x 84 then 180 ug q24h x 28"),
        [
            (15_000.0, None, None, Some(8.0), 84, 0.0),
            (180.0, None, None, Some(24.0), 28, 0.0)
        ]
    );
    assert_eq!(
        plain("10 mg iv over 2h q24h x 7 after 12h"),
        [(10_000.0, Some(Route::Iv), Some(2.0), Some(24.0), 7, 12.0)]
    );
    assert_eq!(
        plain("15 mg oral over 30 min"),
        [(15_000.0, Some(Route::Oral), Some(0.5), None, 1, 0.0)]
    );
    assert_eq!(plain("250 ng"), [(0.25, None, None, None, 1, 0.0)]);
    assert_eq!(plain("0.5 g x 1"), [(500_000.0, None, None, None, 1, 0.0)]);
    assert_eq!(
        plain("1.5e3 ug after 2"),
        [(1500.0, None, None, None, 1, 2.0)]
    );
}

#[test]
fn units_spacing_and_case_do_not_matter() {
    let daily = [(180.0, None, None, Some(24.0), 28, 0.0)];
    for text in [
        "180 ug q24h x 28",
        "180ug q24h x28",
        "  180   µg\tq 24 h   x 28 ",
        "180 μg q 24 x 28",
        "180 mcg q1d x 28",
        "180 MCG Q24H X 28",
        "180 Ug q 1 day x 28",
        "0.18 mg q1440min x 28",
    ] {
        assert_eq!(plain(text), daily, "{text:?}");
    }
    assert_eq!(plain("1 mg q1w x 4")[0].3, Some(168.0));
    assert_eq!(plain("1 mg q 2 d x 4")[0].3, Some(48.0));
    assert_eq!(
        plain("15 MG Q8H X 3 THEN 180 ug q24h x 2").len(),
        2,
        "`then` in capitals"
    );
    assert_eq!(plain("15 mg IV OVER 2 H")[0].1, Some(Route::Iv));
}

#[test]
fn segments_follow_each_other_as_in_mrgsolve() {
    // 15 mg at 0, 8, 16 h; the next segment one interval (8 h) after the last dose: 24 h,
    // then 24 + 24 = 48 h.
    assert_eq!(
        times("15 mg q8h x 3 then 180 ug q24h x 2", 0.0),
        [
            (0.0, 15_000.0),
            (8.0, 15_000.0),
            (16.0, 15_000.0),
            (24.0, 180.0),
            (48.0, 180.0)
        ]
    );
    // mrgsolve's own example "100 then 50 q 24 after 12": a single dose has no interval,
    // so the next segment starts at it, plus its delay: 0, then 12 and 36 h.
    assert_eq!(
        times("100 ug then 50 ug q24h x 2 after 12", 0.0),
        [(0.0, 100.0), (12.0, 50.0), (36.0, 50.0)]
    );
    // The first segment starts at start_h plus its own delay.
    assert_eq!(
        times("100 ug q12h x 2 after 2h then 50 ug", 8.0),
        [(10.0, 100.0), (22.0, 100.0), (34.0, 50.0)]
    );
}

#[test]
fn one_repeated_segment_is_periodic() {
    let s = expand(&parse("180 ug q24h x 28 after 1h").unwrap(), 8.0).unwrap();
    assert_eq!(
        s,
        Schedule::Periodic(Periodic {
            period_h: 24.0,
            first_h: 9.0,
            pattern: vec![DoseEvent::oral(0.0, 180.0)],
            periods: 28,
        })
    );
    let lone = expand(&parse("180 ug").unwrap(), 8.0).unwrap();
    assert_eq!(
        lone,
        Schedule::Explicit {
            doses: vec![DoseEvent::oral(8.0, 180.0)]
        }
    );
    let two = expand(&parse("180 ug q24h x 2 then 90 ug").unwrap(), 0.0).unwrap();
    assert!(two.periodic().is_none());
}

#[test]
fn every_dose_carries_its_segments_delivery() {
    let s = expand(
        &parse("10 mg iv over 2h q12h x 2 then 15 mg oral").unwrap(),
        0.0,
    )
    .unwrap();
    let ev = s.events();
    assert_eq!(ev.len(), 3);
    assert!(ev[..2]
        .iter()
        .all(|d| d.route == Route::Iv && d.infusion_h == 2.0));
    assert_eq!(ev[2], DoseEvent::oral(24.0, 15_000.0));
}

#[test]
fn errors_point_at_the_offending_word() {
    let cases: &[(&str, usize, &str, &str)] = &[
        ("", 0, "", "empty"),
        ("   ", 0, "", "empty"),
        ("q24h x 28", 0, "q", "starts with its amount"),
        ("180 q24h x 28", 0, "180", "has no unit"),
        ("180", 0, "180", "has no unit"),
        ("15 mgg q8h x 3", 3, "mgg", "did you mean `mg`?"),
        ("0 ug q24h x 2", 0, "0 ug", "out of range"),
        ("-5 mg", 0, "-5 mg", "out of range"),
        ("2000 g", 0, "2000 g", "out of range"),
        ("180 ug q24h", 7, "q24h", "needs its number of doses"),
        ("180 ug q 24 h", 7, "q 24 h", "needs its number of doses"),
        ("180 ug x 3", 7, "x 3", "need their interval"),
        ("180 ug q0h x 2", 7, "q0h", "interval (0 h) is out of range"),
        ("180 ug q-24h x 2", 7, "q-24h", "out of range"),
        ("180 ug q x 2", 7, "q", "needs a time"),
        ("180 ug q24 hrs x 2", 11, "hrs", "not a time unit"),
        ("180 ug q24h x 0", 12, "x 0", "out of range"),
        ("180 ug q24h x 2.5", 12, "x 2.5", "out of range"),
        ("180 ug q24h x", 12, "x", "needs the number of doses"),
        ("180 ug q24h x 28 days", 17, "days", "without a unit"),
        ("180 ug q24h x 28 doses", 17, "doses", "without a unit"),
        ("180 ug x 28 q24h", 12, "q24h", "must come before `x 28`"),
        ("180 ug q24h q12h x 2", 12, "q12h", "a second `q`"),
        ("180 ug iv oral", 10, "oral", "a second route"),
        ("180 ug daily", 7, "daily", "not a word of a schedule"),
        (
            "180 ug q24h x 2 thn 90 ug",
            16,
            "thn",
            "did you mean `then`?",
        ),
        ("180 ug q24h x 2, 90 ug", 15, ",", "joined by `then`"),
        (
            "15 mg q8h x 3 then daily",
            19,
            "daily",
            "after `then` starts with its amount",
        ),
        ("15 mg q8h x 3 then", 14, "then", "nothing follows `then`"),
    ];
    for &(text, offset, word, problem) in cases {
        let (o, w, p) = error(text);
        assert_eq!((o, w.as_str()), (offset, word), "{text:?}: {p}");
        assert!(p.contains(problem), "{text:?}: {p:?} lacks {problem:?}");
    }
}

#[test]
fn limits_across_segments_point_at_their_word() {
    // A count over the limit, alone or in sum.
    let (o, w, p) = error("1 ug q1h x 1000001");
    assert_eq!((o, w.as_str()), (9, "x 1000001"), "{p}");
    let (o, w, p) = error("1 ug q1h x 600000 then 1 ug q1h x 500000");
    assert_eq!((o, w.as_str()), (32, "x 500000"));
    assert!(p.contains("1100000 doses"), "{p}");
    // An input longer than the interval of a periodic schedule; fine across segments.
    let (o, w, p) = error("10 mg iv over 14h q12h x 10");
    assert_eq!((o, w.as_str()), (9, "over 14h"));
    assert!(p.contains("longer than the dosing interval (12 h)"), "{p}");
    assert!(parse("10 mg iv over 14h q12h x 2 then 5 mg").is_ok());
    let (_, w, p) = error("10 mg iv over 100000h");
    assert_eq!(w, "over 100000h", "{p}");
    // A segment that would start at the previous dose.
    let (o, w, p) = error("360 ug then 180 ug q24h x 3");
    assert_eq!((o, w.as_str()), (7, "then"));
    assert!(p.contains("starts at 0 h"), "{p}");
    assert!(parse("360 ug then 180 ug q24h x 3 after 24h").is_ok());
    // A negative delay.
    let (o, w, _) = error("180 ug after -1h");
    assert_eq!((o, w.as_str()), (7, "after -1h"));
}

#[test]
fn numbers_are_read_as_written() {
    assert_eq!(number_len("24h"), Some(2));
    assert_eq!(number_len("1.5e3ug"), Some(5));
    assert_eq!(number_len("2e"), Some(1), "an e without digits is a word");
    assert_eq!(number_len("-0.5 "), Some(4));
    assert_eq!(number_len(".5"), Some(2));
    assert_eq!(number_len("."), None);
    assert_eq!(number_len("x"), None);
    let words: Vec<&str> = lex("q24hx28 µg").iter().map(|t| t.text).collect();
    assert_eq!(words, ["q", "24", "hx", "28", "µg"]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A well-formed segment from the grammar, and its number of doses.
    fn segment() -> impl Strategy<Value = (String, u64)> {
        (
            1u32..1000,
            prop::sample::select(vec!["ng", "ug", "µg", "mcg", "mg"]),
            prop::sample::select(vec!["", " iv", " oral", " IV"]),
            prop::option::of(1u32..6),
            prop::option::of((1u32..48, 1u64..30)),
            prop::option::of(0u32..48),
            prop::sample::select(vec!["", " ", "  "]),
        )
            .prop_map(|(amount, unit, route, over, q, after, gap)| {
                let mut s = format!("{amount}{gap}{unit}{route}");
                // An input no longer than the interval, so that a lone segment is accepted.
                if let (Some(o), Some((q, _))) = (over, q) {
                    s += &format!(" over {}h", o.min(q));
                } else if let Some(o) = over {
                    s += &format!(" over{gap}{o} h");
                }
                let count = q.map_or(1, |(_, n)| n);
                if let Some((q, n)) = q {
                    s += &format!(" q{gap}{q}h x{gap}{n}");
                }
                if let Some(a) = after {
                    s += &format!(" after {}", a + 1);
                }
                (s, count)
            })
    }

    proptest! {
        #[test]
        fn any_text_is_read_or_refused_at_a_word_of_it(text in "[0-9a-zA-Zµ ., ×+-]{0,40}") {
            match parse(&text) {
                Ok(segments) => {
                    if let Ok(s) = expand(&segments, 0.0) {
                        let ev = s.events();
                        prop_assert!(ev.windows(2).all(|w| w[0].time_h < w[1].time_h));
                        prop_assert!(ev.iter().all(|d| d.amount_ug > 0.0 && d.time_h >= 0.0));
                    }
                }
                Err(e) => {
                    prop_assert!(e.offset <= text.len() && text.is_char_boundary(e.offset));
                    prop_assert!(text[e.offset..].starts_with(&e.word), "{e:?}");
                }
            }
        }

        #[test]
        fn strings_from_the_grammar_are_read_with_their_doses(
            segs in prop::collection::vec(segment(), 1..4),
        ) {
            let text = segs.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(" then ");
            let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e:?}")))?;
            prop_assert_eq!(parsed.len(), segs.len());
            let doses: u64 = segs.iter().map(|(_, n)| n).sum();
            // A segment without a delay after one without an interval would start at that
            // segment's dose: refused at its `then`; every other string expands.
            match expand(&parsed, 0.0) {
                Ok(s) => prop_assert_eq!(s.dose_count() as u64, doses),
                Err(e) => prop_assert!(e.word == "then", "{text:?}: {e:?}"),
            }
        }
    }
}
