//! The figure of `k2sim nca`, one per subject: the measured profile on a log axis, the λz
//! regression PKNCA chose drawn over the samples it used, and Cmax and Clast marked; and its
//! caption. Built as data ([`crate::plot::Figure`]); drawing is in [`crate::plot`].

use std::fmt::Write as _;

use crate::format::{fmt_value, sanitize_file_stem, short};
use crate::nca::{LambdaZ, Nca, NcaOptions, Subject};
use crate::plot::{Figure, Guide, MarkerShape, Markers, Series, YScale};
use crate::report::study_figure::version;

/// The samples after PKNCA's BLQ cleaning, as the NCA used them. A BLQ 0 has no place on a
/// log axis: the line breaks there, but a pre-dose 0 still starts the time axis at the dose.
fn cleaned_samples(s: &Subject, o: &NcaOptions) -> Vec<(f64, f64)> {
    let (clean, _) = s.profile.cleaned(&o.blq);
    clean
        .time_h()
        .iter()
        .zip(clean.conc_ng_ml())
        .map(|(t, c)| (*t, *c))
        .collect()
}

/// The samples of the λz regression: the positive cleaned samples from its first time on.
fn lambda_z_samples(samples: &[(f64, f64)], lz: &LambdaZ) -> Vec<(f64, f64)> {
    samples
        .iter()
        .copied()
        .filter(|(t, _)| *t >= lz.time_first_h && *t <= lz.time_last_h)
        .collect()
}

/// The regression line ln C = ln Clast,pred − λz (t − Tlast) at the ends of its span: two
/// points draw it exactly, as a straight line on the log axis.
fn lambda_z_line(lz: &LambdaZ) -> Vec<(f64, f64)> {
    let at = |t: f64| {
        (
            t,
            lz.clast_pred_ng_ml * (-lz.lambda_z_per_h * (t - lz.time_last_h)).exp(),
        )
    };
    vec![at(lz.time_first_h), at(lz.time_last_h)]
}

/// The figure of one subject, or `None` when no sample is positive (nothing to draw on a log
/// axis; the caption and `nca.md` say so).
pub fn nca_figure(source: &str, s: &Subject, n: &Nca, o: &NcaOptions) -> Option<Figure> {
    let cleaned = cleaned_samples(s, o);
    let samples: Vec<(f64, f64)> = cleaned.iter().copied().filter(|p| p.1 > 0.0).collect();
    if samples.is_empty() {
        return None;
    }
    let mut markers = Vec::new();
    let mut guides = Vec::new();
    let mut note = String::new();
    match &n.lambda_z {
        Ok(lz) => {
            guides.push(Guide {
                series: 0,
                label: format!(
                    "λz fit: t½ {} h, adj. R² {}",
                    short(lz.half_life_h),
                    adj_r2(lz.adj_r_squared)
                ),
                points: lambda_z_line(lz),
            });
            markers.push(Markers {
                series: 0,
                label: format!(
                    "used for λz ({} samples from {} h)",
                    lz.n_points,
                    short(lz.time_first_h)
                ),
                shape: MarkerShape::Disc,
                points: lambda_z_samples(&samples, lz),
            });
        }
        Err(why) => {
            let _ = write!(note, " · no λz: {why}");
        }
    }
    if let (Ok(c), Ok(t)) = (&n.cmax_ng_ml, &n.tmax_h) {
        markers.push(Markers {
            series: 0,
            label: format!("Cmax {} ng/mL at {} h", short(*c), short(*t)),
            shape: MarkerShape::Triangle,
            points: vec![(*t, *c)],
        });
    }
    if let (Ok(c), Ok(t)) = (&n.clast_obs_ng_ml, &n.tlast_h) {
        markers.push(Markers {
            series: 0,
            label: format!("Clast {} ng/mL at {} h", short(*c), short(*t)),
            shape: MarkerShape::Square,
            points: vec![(*t, *c)],
        });
    }
    let dose = s
        .dose_ug
        .map_or(String::new(), |d| format!(" after {} µg", fmt_value(d)));
    Some(Figure {
        title: format!("{} — non-compartmental analysis", s.id),
        subtitle: Some(format!(
            "{source}{dose} · PKNCA default rules · k2sim {}{note}",
            version()
        )),
        y_label: "Concentration (ng/mL)".to_string(),
        x_label: Some("Time after dose".to_string()),
        y_scale: YScale::Log,
        series: vec![Series {
            label: format!("{} measured", s.id),
            points: cleaned,
        }],
        dose_marks_h: vec![vec![0.0]],
        observed: vec![samples],
        markers,
        guides,
        ..Figure::default()
    })
}

/// An adjusted R² with four decimals (0.9987), or "–" when undefined.
fn adj_r2(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "–".to_string()
    }
}

/// The file stem of each subject's figure, `nca_<id>`, unique within the set even on a file
/// system that ignores case: an id that sanitises to a stem already taken gets its position
/// in the file (`nca_<id>_<k>`, k from 1).
pub fn figure_stems(subjects: &[Subject]) -> Vec<String> {
    let mut taken = std::collections::BTreeSet::new();
    subjects
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let base = format!("nca_{}", sanitize_file_stem(&s.id));
            let mut stem = base.clone();
            let mut extra = k + 1;
            while !taken.insert(stem.to_lowercase()) {
                stem = format!("{base}_{extra}");
                extra += 1;
            }
            stem
        })
        .collect()
}

/// The caption beside a subject's figure (`nca_<id>.txt`): what is drawn and the regression's
/// numbers, so the figure can be read without `nca.md`.
pub fn nca_caption(stem: &str, s: &Subject, n: &Nca, o: &NcaOptions, command: &str) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "Figure {stem}: {} — non-compartmental analysis\n", s.id);
    let _ = writeln!(
        c,
        "Measured concentrations of {} (circles, joined by a line) on a logarithmic axis, after PKNCA's BLQ cleaning (keep before the first positive value, drop between, keep after; BLQ values are 0 and cannot be drawn on a log axis).",
        s.id
    );
    let zeros = s.profile.conc_ng_ml().iter().filter(|c| **c == 0.0).count();
    if zeros > 0 {
        let _ = writeln!(
            c,
            "Not drawn: {zeros} sample(s) at 0 (BLQ or pre-dose). The triangle on the time axis marks the dose, at 0 h."
        );
    } else {
        let _ = writeln!(c, "The triangle on the time axis marks the dose, at 0 h.");
    }
    if s.missing_samples > 0 {
        let _ = writeln!(
            c,
            "Left out: {} sample(s) without a concentration (PKNCA conc.na = \"drop\").",
            s.missing_samples
        );
    }
    match &n.lambda_z {
        Ok(lz) => {
            let _ = writeln!(
                c,
                "Dashed dark line: the λz regression of ln C on t that PKNCA's rules choose (the most points among the fits of the last ≥ {} samples after Tmax{} whose adjusted R² is within {} of the best): λz = {} 1/h, t½ = {} h, R² = {}, adjusted R² = {}, {} samples from {} h to {} h, span ratio {}. Filled circles: the samples it used.",
                o.min_hl_points,
                if o.allow_tmax_in_half_life { ", Tmax allowed" } else { "" },
                o.adj_r_squared_factor,
                short(lz.lambda_z_per_h),
                short(lz.half_life_h),
                adj_r2(lz.r_squared),
                adj_r2(lz.adj_r_squared),
                lz.n_points,
                short(lz.time_first_h),
                short(lz.time_last_h),
                short(lz.span_ratio),
            );
        }
        Err(why) => {
            let _ = writeln!(c, "No λz line: {why}.");
        }
    }
    if let (Ok(cm), Ok(t)) = (&n.cmax_ng_ml, &n.tmax_h) {
        let _ = writeln!(
            c,
            "Triangle: Cmax = {} ng/mL at Tmax = {} h.",
            short(*cm),
            short(*t)
        );
    }
    if let (Ok(cl), Ok(t)) = (&n.clast_obs_ng_ml, &n.tlast_h) {
        let _ = writeln!(
            c,
            "Square: Clast = {} ng/mL at Tlast = {} h.",
            short(*cl),
            short(*t)
        );
    }
    let _ = writeln!(
        c,
        "Every value of the subject, and why any is missing: nca.md."
    );
    let _ = writeln!(c, "Made with: {command}");
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nca::{nca, Profile};

    fn subject(id: &str, t: &[f64], c: &[f64]) -> Subject {
        Subject {
            id: id.to_string(),
            profile: Profile::new(t.to_vec(), c.to_vec()).unwrap(),
            dose_ug: Some(1000.0),
            missing_samples: 0,
        }
    }

    /// A one-compartment oral profile, ka 3 /h, ke 0.1 /h: after Tmax (1.2 h) the samples, from
    /// 4 h on, are an exact exponential (to 1e-5), so the drawn λz line must pass through them.
    fn oral(t: f64) -> f64 {
        let (ka, ke) = (3.0, 0.1);
        50.0 * ka / (ka - ke) * ((-ke * t).exp() - (-ka * t).exp())
    }

    #[test]
    fn the_line_goes_through_the_samples_it_was_fitted_to_and_they_are_the_filled_ones() {
        let t = [0.0, 0.5, 1.0, 4.0, 8.0, 24.0, 36.0, 48.0, 72.0];
        let c: Vec<f64> = t.iter().map(|&t| oral(t)).collect();
        let s = subject("A", &t, &c);
        let o = NcaOptions::default();
        let n = nca(&s.profile, s.dose_ug, &o);
        let lz = n.lambda_z.clone().unwrap();
        let fig = nca_figure("data.csv", &s, &n, &o).unwrap();
        assert_eq!(fig.y_scale, YScale::Log);
        let line = &fig.guides[0].points;
        assert_eq!(line.len(), 2);
        assert_eq!((line[0].0, line[1].0), (lz.time_first_h, lz.time_last_h));
        assert_eq!(line[1].1, lz.clast_pred_ng_ml);
        // The exact exponential: both ends on the samples, slope −ke.
        for &(tt, cc) in line {
            assert!(
                (cc / oral(tt) - 1.0).abs() < 1e-4,
                "{tt} h: {cc} vs {}",
                oral(tt)
            );
        }
        let slope = (line[1].1 / line[0].1).ln() / (line[1].0 - line[0].0);
        assert!((slope + 0.1).abs() < 1e-4, "{slope}");
        // Filled: exactly the regression's samples, the last n.
        let used = &fig.markers[0];
        assert_eq!(used.shape, MarkerShape::Disc);
        assert_eq!(used.points.len(), lz.n_points);
        let last: Vec<(f64, f64)> = t[t.len() - lz.n_points..]
            .iter()
            .zip(&c[c.len() - lz.n_points..])
            .map(|(a, b)| (*a, *b))
            .collect();
        assert_eq!(used.points, last);
        // Cmax (triangle) at Tmax, Clast (square) at the last sample.
        let (cmax, tmax) = (n.cmax_ng_ml.clone().unwrap(), n.tmax_h.clone().unwrap());
        assert_eq!(fig.markers[1].shape, MarkerShape::Triangle);
        assert_eq!(fig.markers[1].points, [(tmax, cmax)]);
        assert_eq!(fig.markers[2].shape, MarkerShape::Square);
        assert_eq!(fig.markers[2].points, [(72.0, c[8])]);
        // The pre-dose 0 starts the axis at the dose but draws no circle.
        assert_eq!(fig.series[0].points[0], (0.0, 0.0));
        assert!(fig.observed[0].iter().all(|p| p.1 > 0.0));
        assert_eq!(fig.observed[0].len(), t.len() - 1);
    }

    #[test]
    fn a_profile_without_a_positive_value_has_no_figure() {
        let s = subject("Z", &[0.0, 1.0], &[0.0, 0.0]);
        let o = NcaOptions::default();
        let n = nca(&s.profile, None, &o);
        assert!(nca_figure("d.csv", &s, &n, &o).is_none());
    }

    #[test]
    fn stems_stay_unique_when_ids_sanitise_or_fold_alike() {
        let t = [0.0, 1.0];
        let c = [0.0, 1.0];
        let ids = ["a b", "a_b", "A_B", "c"];
        let subjects: Vec<Subject> = ids.iter().map(|id| subject(id, &t, &c)).collect();
        assert_eq!(
            figure_stems(&subjects),
            ["nca_a_b", "nca_a_b_2", "nca_A_B_3", "nca_c"]
        );
    }
}
