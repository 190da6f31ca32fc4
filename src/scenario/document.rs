//! The scenario file's top level: name, duration and step, solver, `[ode]`, `[plot]`, the
//! regimens and the study tables, validated into a [`Scenario`].

use super::raw::RawScenario;
use super::*;
use crate::error::{suggest, InputErrorKind as K};
use crate::format::fmt_value;
use crate::model::ode::{OdeOptions, MAX_STEPS_PER_SPAN_LIMIT};
use crate::model::SolverKind;
use crate::units::{self, ConcUnit};
use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

impl Validator<'_> {
    pub(super) fn scenario(&self, raw: RawScenario, default_name: &str) -> R<Scenario> {
        let name = raw
            .name
            .as_ref()
            .map_or(default_name.to_string(), |n| n.get_ref().trim().to_string());
        if let Some(n) = &raw.name {
            if n.get_ref().trim().is_empty() {
                return Err(self.err(
                    n.span(),
                    K::OutOfRange {
                        key: "name".into(),
                        value: "\"\"".into(),
                        expected: "a non-empty name".into(),
                    },
                ));
            }
        }
        let dataset = self.dataset(&raw)?;
        // With a dataset, the run lasts to a day past its last record unless told otherwise.
        let from_data = dataset.as_ref().map(|d| (d.last_time_h + 24.0, 0..0));
        let (duration_h, dur_span) = self
            .either(
                &raw.duration_h,
                &raw.duration,
                ("duration_h", "duration"),
                units::parse_duration_h,
                units::TIME_UNITS_HELP,
                "hours",
            )?
            .or(from_data)
            .ok_or_else(|| {
                self.err(
                    0..0,
                    K::Missing {
                        key: "duration_h".into(),
                        hint:
                            "add `duration_h = 672` or `duration = \"28 d\"` at the top of the file"
                                .into(),
                    },
                )
            })?;
        if duration_h > MAX_DURATION_H {
            return Err(self.err(
                dur_span,
                K::OutOfRange {
                    key: "duration_h".into(),
                    value: fmt_value(duration_h),
                    expected: format!("at most {MAX_DURATION_H} h (100 years)"),
                },
            ));
        }
        let step = self.either(
            &raw.step_h,
            &raw.step,
            ("step_h", "step"),
            units::parse_duration_h,
            units::TIME_UNITS_HELP,
            "hours",
        )?;
        let step_h = match step {
            Some((s, span)) if s > duration_h => {
                return Err(self.err(
                    span,
                    K::OutOfRange {
                        key: "step_h".into(),
                        value: fmt_value(s),
                        expected: format!("at most the duration ({} h)", fmt_value(duration_h)),
                    },
                ))
            }
            Some((s, _)) => s,
            None => default_step_h(duration_h),
        };
        let solver = match &raw.solver {
            None => SolverKind::Exact,
            Some(s) => match s.get_ref().as_str() {
                "exact" => SolverKind::Exact,
                "ode" => SolverKind::Ode,
                other => {
                    return Err(self.err(
                        s.span(),
                        K::UnknownName {
                            key: "solver".into(),
                            name: other.into(),
                            suggestion: suggest(other, ["exact", "ode"]),
                            known: vec!["exact".into(), "ode".into()],
                        },
                    ))
                }
            },
        };
        let ode = match &raw.ode {
            None => OdeOptions::default(),
            Some(o) => self.ode(o.get_ref())?,
        };
        let plot = self.plot(raw.plot)?;
        let regs = match (raw.regimen, &dataset) {
            (None, Some(_)) => Spanned::new(0..0, Vec::new()),
            (r, _) => r.ok_or_else(|| {
            self.err(
                0..0,
                K::Missing {
                    key: "regimen".into(),
                    hint: "add at least one [[regimen]] table (or a `dataset`); see scenarios/mk7_daily.toml".into(),
                },
            )
        })?,
        };
        if regs.get_ref().is_empty() && dataset.is_none() {
            return Err(self.err(
                regs.span(),
                K::Missing {
                    key: "regimen".into(),
                    hint: "add at least one [[regimen]] table".into(),
                },
            ));
        }
        let too_many = |count: usize, span: std::ops::Range<usize>, key: &str, what: &str| {
            self.err(
                span,
                K::OutOfRange {
                    key: key.into(),
                    value: format!("{count} {what}"),
                    expected: format!(
                        "at most {} regimens in one scenario (split the regimens over several scenario files, or use a [sweep] or [population] for many variants of one)",
                        super::MAX_REGIMENS
                    ),
                },
            )
        };
        if regs.get_ref().len() > super::MAX_REGIMENS {
            let span = regs.get_ref()[super::MAX_REGIMENS].span();
            return Err(too_many(
                regs.get_ref().len(),
                span,
                "regimen",
                "[[regimen]] tables",
            ));
        }
        let mut regimens: Vec<Regimen> = Vec::new();
        let mut labels = std::collections::HashSet::new();
        let mut warnings = Vec::new();
        for r in regs.into_inner() {
            let span = r.span();
            let label_span = r
                .get_ref()
                .label
                .as_ref()
                .map_or(span.clone(), |l| l.span());
            let ss_span = r.get_ref().steady_state.as_ref().map(|k| k.span());
            let reg = self.regimen(r.into_inner(), span)?;
            if let Some(ss_span) = ss_span {
                self.earlier_doses(&reg, duration_h, ss_span, "steady_state")?;
            }
            if !labels.insert(reg.label.clone()) {
                return Err(self.err(
                    label_span,
                    K::OutOfRange {
                        key: "label".into(),
                        value: format!("\"{}\"", reg.label),
                        expected: "a label not used by another regimen (labels name the curves)"
                            .into(),
                    },
                ));
            }
            let late = reg
                .schedule
                .events()
                .iter()
                .filter(|e| e.time_h > duration_h)
                .count();
            if late > 0 {
                warnings.push(format!(
                    "regimen \"{}\": {late} of {} doses fall after the end of the run ({} h) and are not simulated",
                    reg.label, reg.schedule.dose_count(), fmt_value(duration_h)
                ));
            }
            regimens.push(reg);
        }
        let mut data_observed = Vec::new();
        if let Some(d) = dataset {
            warnings.extend(d.warnings);
            let named_at = raw.dataset.as_ref().map_or(0..0, |s| s.span());
            if regimens.len() + d.regimens.len() > super::MAX_REGIMENS {
                let what = format!(
                    "regimens ({} IDs in {})",
                    d.regimens.len(),
                    d.path.display()
                );
                return Err(too_many(
                    regimens.len() + d.regimens.len(),
                    named_at,
                    "dataset",
                    &what,
                ));
            }
            for reg in d.regimens {
                self.earlier_doses(&reg, duration_h, named_at.clone(), "dataset")?;
                if !labels.insert(reg.label.clone()) {
                    return Err(self.err(
                        raw.dataset.as_ref().map_or(0..0, |s| s.span()),
                        K::OutOfRange {
                            key: "dataset".into(),
                            value: format!("\"{}\"", reg.label),
                            expected: format!(
                                "IDs whose labels (`ID <id>`) no [[regimen]] uses ({})",
                                d.path.display()
                            ),
                        },
                    ));
                }
                regimens.push(reg);
            }
            let (inside, late): (Vec<_>, Vec<_>) =
                d.observed.into_iter().partition(|o| o.time_h <= duration_h);
            if !late.is_empty() {
                warnings.push(format!(
                    "dataset: {} observation(s) after the end of the run ({} h) are not used",
                    late.len(),
                    fmt_value(duration_h)
                ));
            }
            data_observed = inside;
        }
        if regimens.is_empty() {
            return Err(self.err(
                raw.dataset.as_ref().map_or(0..0, |s| s.span()),
                K::Missing {
                    key: "regimen".into(),
                    hint: "the dataset has no dose or observation record; add dose records (EVID 1) or [[regimen]] tables".into(),
                },
            ));
        }
        self.note_solver(solver, &regimens, &mut warnings);
        // In floating point first: a tiny step must not overflow the count.
        let points_f = (duration_h / step_h).floor() + 2.0;
        let points = if points_f < MAX_OUTPUT_ROWS as f64 {
            points_f as u64
        } else {
            MAX_OUTPUT_ROWS.saturating_add(1)
        };
        let rows: u64 = regimens
            .iter()
            .map(|r| points.saturating_add(2 * r.schedule.dose_count() as u64))
            .fold(0, u64::saturating_add);
        if rows > MAX_OUTPUT_ROWS {
            let span = raw
                .step_h
                .as_ref()
                .map(|s| s.span())
                .or(raw.step.as_ref().map(|s| s.span()))
                .unwrap_or(dur_span);
            let doses: u64 = regimens
                .iter()
                .map(|r| 2 * r.schedule.dose_count() as u64)
                .sum();
            let per_regimen = (MAX_OUTPUT_ROWS.saturating_sub(doses) / regimens.len() as u64)
                .saturating_sub(2)
                .max(1);
            let min_step = duration_h / per_regimen as f64;
            let suggested_step_h = [
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 168.0,
            ]
            .into_iter()
            .find(|&s| s >= min_step && s <= duration_h)
            .unwrap_or(duration_h);
            return Err(self.err(
                span,
                K::TooLarge {
                    key: if raw.step.is_some() { "step" } else { "step_h" }.into(),
                    rows,
                    bytes: rows * 48,
                    limit_rows: MAX_OUTPUT_ROWS,
                    suggested_step_h,
                },
            ));
        }
        let population = match raw.population {
            Some(p) => Some(self.population(p, step_h, duration_h, &regimens)?),
            None => None,
        };
        let response = match raw.response {
            Some(r) => Some(self.response(r, &regimens)?),
            None => None,
        };
        let uncertainty = match raw.uncertainty {
            Some(u) => Some(self.uncertainty(u)?),
            None => None,
        };
        let sweep = match raw.sweep {
            Some(sw) => Some(self.sweep(sw, &regimens)?),
            None => None,
        };
        let threshold_ng_ml = match &raw.threshold_ng_ml {
            Some(t) => Some(self.positive("threshold_ng_ml", t, "ng/mL")?),
            None => None,
        };
        let mut observed = match &raw.observed {
            Some(rows) => self.observed(rows, &regimens, duration_h)?,
            None => Vec::new(),
        };
        observed.extend(data_observed);
        let observed_csv = match &raw.observed_csv {
            Some(p) if p.get_ref().trim().is_empty() => {
                return Err(self.err(
                    p.span(),
                    K::OutOfRange {
                        key: "observed_csv".into(),
                        value: "\"\"".into(),
                        expected: "a CSV file name, relative to the scenario file".into(),
                    },
                ))
            }
            Some(p) => Some(PathBuf::from(p.get_ref().trim())),
            None => None,
        };
        let observed_response = match &raw.observed_response {
            Some(rows) => self.observed_response(rows, &regimens, duration_h, response.as_ref())?,
            None => Vec::new(),
        };
        let fit = match &raw.fit {
            Some(f) => Some(self.fit(f, &regimens, response.as_ref())?),
            None => None,
        };
        let auc_intervals_h = match &raw.auc_intervals_h {
            Some(a) => self.auc_intervals(a, duration_h)?,
            None => Vec::new(),
        };
        Ok(Scenario {
            auc_intervals_h,
            fit,
            observed,
            observed_response,
            observed_csv,
            threshold_ng_ml,
            caption: raw.caption.map(|c| c.into_inner().trim().to_string()),
            name,
            description: raw.description,
            source: None,
            duration_h,
            step_h,
            solver,
            ode,
            plot,
            regimens,
            warnings,
            population,
            sweep,
            uncertainty,
            response,
        })
    }

    /// `auc_intervals_h = [[0, 24], [0, 72]]`: pairs of hours, start before end, inside the run.
    /// A regimen that starts at steady state has also taken the doses of its earlier periods,
    /// including those between the start of the run and its first dose (`start_h` sets the
    /// phase): refuse a first dose so late, or an interval so short, that they would be more
    /// than [`MAX_DOSES`](super::MAX_DOSES) doses inside the run.
    fn earlier_doses(
        &self,
        reg: &Regimen,
        duration_h: f64,
        span: Range<usize>,
        key: &str,
    ) -> R<()> {
        let Some(p) = reg.schedule.periodic().filter(|_| reg.at_steady_state) else {
            return Ok(());
        };
        let periods = (p.first_h.min(duration_h) / p.period_h).floor();
        let earlier = periods * p.pattern.len() as f64;
        let limit = super::MAX_DOSES as f64 - reg.schedule.dose_count() as f64;
        if earlier > limit {
            return Err(self.err(
                span,
                K::WrongType {
                    key: key.into(),
                    message: format!(
                        "regimen \"{}\" starts at steady state, so it has also taken the doses of its earlier periods: its first dose at {} h every {} h puts {} doses of them inside the run, over the limit of {} doses in one regimen",
                        reg.label,
                        fmt_value(p.first_h),
                        fmt_value(p.period_h),
                        fmt_value(earlier),
                        super::MAX_DOSES
                    ),
                    hint: "start the regimen within one interval of the start of the run (a steady-state start needs only the phase of the doses), or remove `steady_state`".into(),
                },
            ));
        }
        Ok(())
    }

    fn auc_intervals(&self, raw: &Spanned<raw::RawIntervals>, duration_h: f64) -> R<Vec<[f64; 2]>> {
        const KEY: &str = "auc_intervals_h";
        const EXAMPLE: &str =
            "write each interval as [start_h, end_h] in hours, e.g. `auc_intervals_h = [[0, 24], [0, 72]]`";
        let wrong = |span: Range<usize>, message: String| {
            self.err(
                span,
                K::WrongType {
                    key: KEY.into(),
                    message,
                    hint: EXAMPLE.into(),
                },
            )
        };
        let list = match raw.get_ref() {
            raw::RawIntervals::List(l) => l,
            raw::RawIntervals::Other(what) => {
                return Err(wrong(
                    raw.span(),
                    format!("{what} is not a list of intervals"),
                ))
            }
        };
        if list.len() > MAX_AUC_INTERVALS {
            return Err(self.err(
                raw.span(),
                K::OutOfRange {
                    key: KEY.into(),
                    value: format!("{} intervals", list.len()),
                    expected: format!("at most {MAX_AUC_INTERVALS}"),
                },
            ));
        }
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            let number = |v: &toml::Value| match v {
                toml::Value::Integer(i) => Some(*i as f64),
                toml::Value::Float(x) => Some(*x),
                _ => None,
            };
            let pair = match item.get_ref() {
                toml::Value::Array(a) if a.len() == 2 => number(&a[0]).zip(number(&a[1])),
                _ => None,
            };
            let Some((a, b)) = pair else {
                return Err(wrong(
                    item.span(),
                    format!(
                        "`{}` is not an interval [start_h, end_h] of two numbers",
                        item.get_ref()
                    ),
                ));
            };
            let shown = format!("[{}, {}]", fmt_value(a), fmt_value(b));
            let out_of_range = |expected: String| {
                self.err(
                    item.span(),
                    K::OutOfRange {
                        key: KEY.into(),
                        value: shown.clone(),
                        expected,
                    },
                )
            };
            if !(a.is_finite() && b.is_finite()) || a >= b {
                return Err(out_of_range(
                    "an interval [start_h, end_h] with start_h before end_h, e.g. [0, 24]".into(),
                ));
            }
            if a < 0.0 || b > duration_h {
                return Err(out_of_range(format!(
                    "an interval inside the run, from 0 to {} h (lengthen `duration_h`, or end the interval earlier)",
                    fmt_value(duration_h)
                )));
            }
            out.push([a, b]);
        }
        Ok(out)
    }

    pub(super) fn plot(&self, raw: Option<raw::RawPlot>) -> R<PlotOptions> {
        let mut p = PlotOptions::default();
        let Some(raw) = raw else { return Ok(p) };
        match raw.title {
            Some(raw::RawTitle::Text(t)) => p.title = Some(t),
            Some(raw::RawTitle::Shown(shown)) => p.bare = !shown,
            None => {}
        }
        if let Some(d) = raw.dpi {
            let x = *d.get_ref();
            if !(50..=2400).contains(&x) {
                return Err(self.err(
                    d.span(),
                    K::OutOfRange {
                        key: "plot.dpi".into(),
                        value: x.to_string(),
                        expected: "a print resolution between 50 and 2400 dpi (journals ask for 300 to 600)".into(),
                    },
                ));
            }
            p.dpi = x as u32;
        }
        if let Some(list) = raw.formats {
            let mut set = crate::plot::Formats::EMPTY;
            for name in list.get_ref() {
                let f = crate::plot::Formats::parse_one(name.get_ref()).map_err(|_| {
                    self.err(
                        name.span(),
                        K::UnknownName {
                            key: "plot.formats".into(),
                            name: name.get_ref().clone(),
                            suggestion: suggest(name.get_ref(), ["png", "svg", "pdf", "tiff"]),
                            known: ["png", "svg", "pdf", "tiff"].map(String::from).to_vec(),
                        },
                    )
                })?;
                set = set.with(f);
            }
            if set.is_empty() {
                return Err(self.err(
                    list.span(),
                    K::OutOfRange {
                        key: "plot.formats".into(),
                        value: "[]".into(),
                        expected: "at least one of \"png\", \"svg\", \"pdf\", \"tiff\" (for no figures at all, use --no-figures)".into(),
                    },
                ));
            }
            p.formats = set;
        }
        p.shade_steady_state = raw.shade_steady_state.unwrap_or(false);
        if let Some(s) = raw.y_scale {
            p.y_scale = match s.get_ref().as_str() {
                "linear" => AxisScale::Linear,
                "log" => AxisScale::Log,
                other => {
                    return Err(self.err(
                        s.span(),
                        K::UnknownName {
                            key: "plot.y_scale".into(),
                            name: other.into(),
                            suggestion: suggest(other, ["linear", "log"]),
                            known: vec!["linear".into(), "log".into()],
                        },
                    ))
                }
            };
        }
        if let Some(u) = raw.units {
            p.units = match u.get_ref().as_str() {
                "ng_ml" => ConcUnit::NgMl,
                "nmol_l" => ConcUnit::NmolL,
                other => {
                    return Err(self.err(
                        u.span(),
                        K::UnknownName {
                            key: "plot.units".into(),
                            name: other.into(),
                            suggestion: suggest(other, ["ng_ml", "nmol_l"]),
                            known: vec!["ng_ml".into(), "nmol_l".into()],
                        },
                    ))
                }
            };
        }
        for (key, v, slot) in [
            ("plot.width_px", raw.width_px, &mut p.width_px),
            ("plot.height_px", raw.height_px, &mut p.height_px),
        ] {
            if let Some(v) = v {
                let x = *v.get_ref();
                if !(200..=10_000).contains(&x) {
                    return Err(self.err(
                        v.span(),
                        K::OutOfRange {
                            key: key.into(),
                            value: x.to_string(),
                            expected: "a size between 200 and 10000 pixels".into(),
                        },
                    ));
                }
                *slot = x as u32;
            }
        }
        Ok(p)
    }
}

/// `[ode]` as written, each value with its span so a bad one is pointed at (the table itself is
/// [`OdeOptions`]).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOde {
    rtol: Option<Spanned<f64>>,
    atol_rel_dose: Option<Spanned<f64>>,
    reuse_spans: Option<bool>,
    /// Read as i64 so that 0 and negative numbers reach the range check, not serde.
    max_steps_per_span: Option<Spanned<i64>>,
}

impl Validator<'_> {
    /// `[ode]`: tolerances inside the range where Dopri5 is meaningful in double precision, and a
    /// step budget of at least one step (0 would fail every run at its first span).
    fn ode(&self, raw: &RawOde) -> R<OdeOptions> {
        let mut v = OdeOptions::default();
        for (key, x, lo, hi, out) in [
            ("ode.rtol", &raw.rtol, 1e-14, 1e-2, &mut v.rtol),
            (
                "ode.atol_rel_dose",
                &raw.atol_rel_dose,
                1e-18,
                1e-2,
                &mut v.atol_rel_dose,
            ),
        ] {
            if let Some(x) = x {
                *out = self.range(
                    key,
                    x,
                    |x| (lo..=hi).contains(&x),
                    &format!("a tolerance between {lo:e} and {hi:e}"),
                )?;
            }
        }
        if let Some(r) = raw.reuse_spans {
            v.reuse_spans = r;
        }
        if let Some(m) = &raw.max_steps_per_span {
            let n = *m.get_ref();
            v.max_steps_per_span = u32::try_from(n)
                .ok()
                .filter(|&n| (1..=MAX_STEPS_PER_SPAN_LIMIT).contains(&n))
                .ok_or_else(|| {
                    self.err(
                        m.span(),
                        K::OutOfRange {
                            key: "ode.max_steps_per_span".into(),
                            value: n.to_string(),
                            expected: format!(
                                "a whole number of steps from 1 to {MAX_STEPS_PER_SPAN_LIMIT} (default {}); remove the key to use the default",
                                OdeOptions::default().max_steps_per_span
                            ),
                        },
                    )
                })?;
        }
        Ok(v)
    }
}

/// A step giving about 1000–2000 output points, from a list of round values.
pub(super) fn default_step_h(duration_h: f64) -> f64 {
    const NICE: [f64; 12] = [
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 12.0, 24.0,
    ];
    NICE.iter()
        .copied()
        .find(|s| duration_h / s <= 2000.0)
        .unwrap_or(duration_h / 2000.0)
}
