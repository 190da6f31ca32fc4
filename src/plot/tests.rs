//! End-to-end tests of the concentration–time figures (prepare, layout, both outputs) on
//! closed-form PK curves; unit tests with no need of these fixtures sit with their code.

use plotters::style::RGBColor;

use super::geom::hits_curves;
use super::layout::{layouts, Layout, Metrics};
use super::legend::LegendPlace;
use super::prepare::Prepared;
use super::style::PALETTE;
use super::*;

/// Superposed one-compartment oral doses: C(t) = Σ A·(e^{−ke·τ} − e^{−ka·τ}), τ = t − tᵢ ≥ 0.
fn superposed(
    doses_h: &[f64],
    amp: f64,
    ka: f64,
    ke: f64,
    t_end_h: f64,
    dt_h: f64,
) -> Vec<(f64, f64)> {
    let n = (t_end_h / dt_h).round() as usize;
    (0..=n)
        .map(|i| {
            let t = i as f64 * dt_h;
            let c = doses_h
                .iter()
                .filter(|&&d| d <= t)
                .map(|&d| amp * ((-ke * (t - d)).exp() - (-ka * (t - d)).exp()))
                .sum();
            (t, c)
        })
        .collect()
}

fn mk7_figure() -> Figure {
    let doses: Vec<f64> = (0..28).map(|d| 8.0 + 24.0 * f64::from(d)).collect();
    let points = superposed(&doses, 0.6, 0.5, (2f64).ln() / 68.0, 28.0 * 24.0, 0.5);
    Figure {
        title: "MK-7 accumulation".into(),
        subtitle: Some("one-compartment model · exact solver".into()),
        y_label: "Serum MK-7 (ng/mL)".into(),
        series: vec![Series {
            label: "MK-7 180 µg once daily".into(),
            points,
        }],
        y_scale: YScale::Linear,
        dose_marks_h: vec![doses],
        ..Figure::default()
    }
}

fn mk4_figure() -> Figure {
    let doses = vec![8.0, 13.0, 19.0];
    let points = superposed(&doses, 250.0, 1.5, (2f64).ln() / 1.5, 24.0, 0.05);
    Figure {
        title: "MK-4 three times daily".into(),
        subtitle: None,
        y_label: "Serum MK-4 (ng/mL)".into(),
        series: vec![Series {
            label: "MK-4 15 mg ×3".into(),
            points,
        }],
        y_scale: YScale::Linear,
        dose_marks_h: vec![doses],
        ..Figure::default()
    }
}

/// The contents of the SVG's `<text>` elements (plotters writes each on its own line).
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(body.trim().to_string())
        })
        .collect()
}

fn decode(png: &[u8]) -> image::RgbImage {
    image::load_from_memory(png).expect("valid PNG").to_rgb8()
}

fn non_white(img: &image::RgbImage) -> usize {
    img.pixels().filter(|p| p.0 != [255, 255, 255]).count()
}

fn has_colour(img: &image::RgbImage, c: RGBColor) -> bool {
    img.pixels().any(|p| p.0 == [c.0, c.1, c.2])
}

#[test]
fn png_has_requested_size_and_content() {
    let opts = RenderOptions::default();
    let img = decode(&render_png(&mk7_figure(), &opts).unwrap());
    assert_eq!(img.dimensions(), (1800, 1100));
    assert!(
        non_white(&img) > 20_000,
        "only {} inked pixels",
        non_white(&img)
    );
    assert!(has_colour(&img, PALETTE[0]), "first series colour missing");
}

#[test]
fn small_png_still_renders() {
    let opts = RenderOptions {
        width_px: 900,
        height_px: 550,
        ..RenderOptions::default()
    };
    let img = decode(&render_png(&mk4_figure(), &opts).unwrap());
    assert_eq!(img.dimensions(), (900, 550));
    assert!(non_white(&img) > 5_000);
    assert!(has_colour(&img, PALETTE[0]));
}

#[test]
fn svg_contains_texts() {
    let svg = render_svg(&mk7_figure(), &RenderOptions::default()).unwrap();
    let texts = svg_texts(&svg);
    for needle in [
        "MK-7 accumulation",
        "one-compartment model · exact solver",
        "Serum MK-7 (ng/mL)",
        "Time (days)",
        "MK-7 180 µg once daily",
        "Dose",
    ] {
        assert!(
            texts.iter().any(|t| t == needle),
            "SVG lacks {needle:?}: {texts:?}"
        );
    }
    assert!(svg.contains("font-family=\"sans-serif\""));
    assert!(svg.starts_with("<svg width=\"152.40mm\" height=\"93.13mm\" viewBox=\"0 0 7200 4400\""));
    assert!(svg.contains("stroke-linejoin=\"round\""));
}

#[test]
fn short_runs_use_hours_and_clock_ticks() {
    let svg = render_svg(&mk4_figure(), &RenderOptions::default()).unwrap();
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "Time (h)"));
    for tick in ["0", "6", "12", "18", "24"] {
        assert!(
            texts.iter().any(|t| t == tick),
            "missing tick {tick}: {texts:?}"
        );
    }
}

#[test]
fn day_ticks_are_weekly_for_four_weeks() {
    let prep_fig = mk7_figure();
    let prep = Prepared::new(&prep_fig).unwrap();
    let layout = Layout::new(
        &prep,
        1800.0,
        1100.0,
        Metrics::new(1800.0, 1100.0, None),
        None,
    );
    let labels: Vec<_> = layout
        .x_ticks
        .iter()
        .filter_map(|(_, t)| t.label.clone())
        .collect();
    assert_eq!(labels, ["0", "7", "14", "21", "28"]);
    let hours = mk4_figure();
    let prep = Prepared::new(&hours).unwrap();
    let layout = Layout::new(
        &prep,
        1800.0,
        1100.0,
        Metrics::new(1800.0, 1100.0, None),
        None,
    );
    let labels: Vec<_> = layout
        .x_ticks
        .iter()
        .filter_map(|(_, t)| t.label.clone())
        .collect();
    assert_eq!(labels, ["0", "6", "12", "18", "24"]);
}

#[test]
fn linear_axis_starts_at_zero_with_headroom() {
    let fig = mk7_figure();
    let max = fig.series[0].points.iter().map(|p| p.1).fold(0.0, f64::max);
    let prep = Prepared::new(&fig).unwrap();
    assert_eq!(prep.y_lo, 0.0);
    assert!((prep.y_hi / max - 1.08).abs() < 1e-12);
}

#[test]
fn log_scale_tolerates_zeros_and_spans_decades() {
    let mut fig = mk7_figure();
    fig.y_scale = YScale::Log;
    // The first point is exactly 0 (before the first dose); add an explicit zero too.
    fig.series[0].points.push((673.0, 0.0));
    let prep = Prepared::new(&fig).unwrap();
    assert_eq!((prep.y_lo, prep.y_hi), (0.1, 10.0));
    let png = render_png(&fig, &RenderOptions::default()).unwrap();
    assert!(has_colour(&decode(&png), PALETTE[0]));
    let texts = svg_texts(&render_svg(&fig, &RenderOptions::default()).unwrap());
    for label in ["0.1", "1", "10"] {
        assert!(
            texts.iter().any(|t| t == label),
            "missing log label {label}"
        );
    }
}

#[test]
fn two_series_log_figure_shows_both_colours_and_a_clear_legend() {
    let mk7_doses: Vec<f64> = (0..28).map(|d| 8.0 + 24.0 * f64::from(d)).collect();
    let mk4_doses: Vec<f64> = (0..28)
        .flat_map(|d| [8.0, 14.0, 20.0].map(|h| h + 24.0 * f64::from(d)))
        .collect();
    let ln2 = std::f64::consts::LN_2;
    let fig = Figure {
        title: "Serum menaquinone".into(),
        subtitle: None,
        y_label: "Serum concentration (ng/mL)".into(),
        series: vec![
            Series {
                label: "MK-7".into(),
                points: superposed(&mk7_doses, 0.55, 0.45, ln2 / 68.0, 672.0, 0.5),
            },
            Series {
                label: "MK-4".into(),
                points: superposed(&mk4_doses, 280.0, 1.2, ln2 / 4.0, 672.0, 0.25),
            },
        ],
        y_scale: YScale::Log,
        dose_marks_h: vec![mk7_doses, mk4_doses],
        ..Figure::default()
    };
    let prep = Prepared::new(&fig).unwrap();
    assert_eq!((prep.y_lo, prep.y_hi), (0.1, 1000.0));
    let layout = Layout::new(
        &prep,
        1800.0,
        1100.0,
        Metrics::new(1800.0, 1100.0, None),
        None,
    );
    match &layout.legend_place {
        Some(LegendPlace::Inside(r)) => {
            assert!(!hits_curves(r, &layout.paths, &layout.dots))
        }
        Some(LegendPlace::Above { .. }) => {}
        None => panic!("no legend"),
    }
    // Different dose times: one coloured row of marks per series.
    assert_eq!(layout.marks.len(), 2);
    let img = decode(&render_png(&fig, &RenderOptions::default()).unwrap());
    assert!(has_colour(&img, PALETTE[0]) && has_colour(&img, PALETTE[1]));
}

#[test]
fn renders_are_deterministic() {
    let fig = mk7_figure();
    let opts = RenderOptions::default();
    assert_eq!(
        render_png(&fig, &opts).unwrap(),
        render_png(&fig, &opts).unwrap()
    );
    assert_eq!(
        render_svg(&fig, &opts).unwrap(),
        render_svg(&fig, &opts).unwrap()
    );
}

#[test]
fn empty_inputs_are_typed_errors() {
    let opts = RenderOptions::default();
    let empty = Figure::default();
    assert!(matches!(
        render_png(&empty, &opts),
        Err(PlotError::EmptyFigure)
    ));
    let mut no_points = mk7_figure();
    no_points.series.push(Series {
        label: "nothing".into(),
        points: vec![],
    });
    no_points.dose_marks_h.clear();
    assert!(matches!(
        render_svg(&no_points, &opts),
        Err(PlotError::EmptyFigure)
    ));
    let mut all_nan = mk7_figure();
    all_nan.series[0].points = vec![(f64::NAN, 1.0), (1.0, f64::NAN)];
    assert!(matches!(
        render_png(&all_nan, &opts),
        Err(PlotError::EmptyFigure)
    ));
}

#[test]
fn bad_sizes_and_mark_lists_are_rejected() {
    let fig = mk7_figure();
    for (w, h) in [(0, 1100), (1800, 0), (20_001, 1100), (1800, 30_000)] {
        let opts = RenderOptions {
            width_px: w,
            height_px: h,
            ..RenderOptions::default()
        };
        assert!(matches!(
            render_png(&fig, &opts),
            Err(PlotError::InvalidSize { width_px, height_px }) if width_px == w && height_px == h
        ));
        assert!(matches!(
            render_svg(&fig, &opts),
            Err(PlotError::InvalidSize { .. })
        ));
    }
    let mut marks = fig.clone();
    marks.dose_marks_h.push(vec![1.0]);
    assert!(matches!(
        render_svg(&marks, &RenderOptions::default()),
        Err(PlotError::DoseMarksMismatch {
            series: 1,
            dose_mark_sets: 2
        })
    ));
}

#[test]
fn nan_points_are_skipped_without_panic() {
    let mut fig = mk4_figure();
    let pts = &mut fig.series[0].points;
    pts[10].1 = f64::NAN;
    pts[200].0 = f64::INFINITY;
    pts.push((f64::NAN, f64::NAN));
    fig.dose_marks_h[0].push(f64::NAN);
    for scale in [YScale::Linear, YScale::Log] {
        fig.y_scale = scale;
        render_png(&fig, &RenderOptions::default()).unwrap();
        render_svg(&fig, &RenderOptions::default()).unwrap();
    }
}

#[test]
fn tiny_and_odd_figures_do_not_panic() {
    let single = Figure {
        title: "one point".into(),
        y_label: "C (ng/mL)".into(),
        series: vec![Series {
            label: "x".into(),
            points: vec![(3.0, 2.0)],
        }],
        ..Figure::default()
    };
    for (w, h) in [(1, 1), (10, 10), (60, 40), (3000, 200)] {
        let opts = RenderOptions {
            width_px: w,
            height_px: h,
            ..RenderOptions::default()
        };
        for fig in [&single, &mk4_figure()] {
            let img = decode(&render_png(fig, &opts).unwrap());
            assert_eq!(img.dimensions(), (w, h));
            render_svg(fig, &opts).unwrap();
        }
    }
    let huge = Figure {
        series: vec![Series {
            label: "extreme".into(),
            points: vec![(0.0, 1e-310), (1e300, f64::MAX), (2e300, 5e-324)],
        }],
        ..Figure::default()
    };
    for scale in [YScale::Linear, YScale::Log] {
        let fig = Figure {
            y_scale: scale,
            ..huge.clone()
        };
        render_png(&fig, &RenderOptions::default()).unwrap();
        render_svg(&fig, &RenderOptions::default()).unwrap();
    }
    let mut zeros = single.clone();
    zeros.series[0].points = vec![(0.0, 0.0), (1.0, 0.0)];
    zeros.y_scale = YScale::Log;
    render_png(&zeros, &RenderOptions::default()).unwrap();
}

#[test]
fn journal_figure_with_threshold_and_panels_reads_back() {
    let mut fig = two_series();
    fig.threshold = Some(Threshold {
        value: 2.0,
        label: "threshold 2 ng/mL".into(),
    });
    fig.shade = Some(Shade {
        from_h: 240.0,
        to_h: 672.0,
        label: "steady state (≥ 90 %)".into(),
    });
    let opts = Journal::Single.options();
    assert_eq!((opts.width_px, opts.height_px, opts.dpi), (1004, 756, 300));
    let png = render_png(&fig, &opts).unwrap();
    // pHYs right after IHDR: 11811 px/m = 300 dpi.
    assert_eq!(&png[37..41], b"pHYs");
    assert_eq!(u32::from_be_bytes(png[41..45].try_into().unwrap()), 11811);
    let img = decode(&png);
    assert_eq!(img.dimensions(), (1004, 756));
    assert!(has_colour(&img, PALETTE[0]) && has_colour(&img, PALETTE[1]));
    let svg = render_svg(&fig, &opts).unwrap();
    assert!(
        svg.starts_with("<svg width=\"85.01mm\" height=\"64.01mm\""),
        "{}",
        &svg[..80]
    );
    let texts = svg_texts(&svg);
    for needle in [
        "Serum concentration (ng/mL)",
        "Time (days)",
        "MK-7",
        "MK-4",
        "Dose",
        "threshold 2 ng/mL",
        "steady state (≥ 90 %)",
    ] {
        assert!(
            texts.iter().any(|t| t == needle),
            "SVG lacks {needle:?}: {texts:?}"
        );
    }
    // Small multiples: one concentration label for the stack, time labels once, both
    // series in their own panel, in their own colours and dashes.
    fig.panels = true;
    let small = RenderOptions {
        width_px: 500,
        height_px: 500,
        // A screen figure; at 300 dpi it would be 42 mm square.
        dpi: 100,
        ..RenderOptions::default()
    };
    let img = decode(&render_png(&fig, &small).unwrap());
    assert_eq!(img.dimensions(), (500, 500));
    assert!(non_white(&img) > 5_000);
    let texts = svg_texts(&render_svg(&fig, &small).unwrap());
    let count = |n: &str| texts.iter().filter(|t| *t == n).count();
    assert_eq!(count("Serum concentration (ng/mL)"), 1);
    assert_eq!(count("Time (days)"), 1);
    assert_eq!((count("MK-7"), count("MK-4")), (1, 1));
    assert_eq!(count("Dose"), 2);
    let subs = panel_figures(&fig);
    let preps = prepare(&fig, &subs).unwrap();
    let ls = layouts(&preps, 2000.0, 2000.0, None, false);
    assert_eq!(ls.len(), 2);
    assert_eq!(ls[0].plot.left, ls[1].plot.left, "panels line up");
    assert!((ls[0].plot.height() - ls[1].plot.height()).abs() < 1e-9);
    assert!(ls[0].plot.bottom < ls[1].plot.top);
    assert_eq!(
        (preps[0].x_lo_h, preps[0].x_hi_h),
        (preps[1].x_lo_h, preps[1].x_hi_h)
    );
}

pub(super) fn two_series() -> Figure {
    let mk7_doses: Vec<f64> = (0..28).map(|d| 8.0 + 24.0 * f64::from(d)).collect();
    let mk4_doses: Vec<f64> = (0..28).map(|d| 8.0 + 24.0 * f64::from(d)).collect();
    let ln2 = std::f64::consts::LN_2;
    Figure {
        title: "Two".into(),
        y_label: "Serum concentration (ng/mL)".into(),
        series: vec![
            Series {
                label: "MK-7".into(),
                points: superposed(&mk7_doses, 0.55, 0.45, ln2 / 68.0, 672.0, 2.0),
            },
            Series {
                label: "MK-4".into(),
                points: superposed(&mk4_doses, 2.0, 1.2, ln2 / 4.0, 672.0, 1.0),
            },
        ],
        dose_marks_h: vec![mk7_doses, mk4_doses],
        ..Figure::default()
    }
}

#[test]
fn span_threshold_is_three_days() {
    assert!(!time_axis_in_days(72.0));
    assert!(time_axis_in_days(72.5));
}

#[test]
fn a_limit_line_joins_the_threshold_and_extends_the_axis() {
    // Above every curve: the axis must reach it; named in the legend after the threshold.
    let mut fig = mk7_figure();
    fig.threshold = Some(Threshold {
        value: 2.0,
        label: "target trough 2 ng/mL".into(),
    });
    fig.limit = Some(Threshold {
        value: 9.0,
        label: "LLOQ 9 ng/mL".into(),
    });
    let prep = Prepared::new(&fig).unwrap();
    assert!(prep.y_hi >= 9.0, "axis top {}", prep.y_hi);
    let texts = svg_texts(&render_svg(&fig, &RenderOptions::default()).unwrap());
    let at = |s: &str| texts.iter().position(|t| t == s);
    let (thr, lim) = (at("target trough 2 ng/mL"), at("LLOQ 9 ng/mL"));
    assert!(thr.is_some() && lim > thr, "{texts:?}");
    render_png(&fig, &RenderOptions::default()).unwrap();
}

#[test]
fn markers_and_guides_follow_their_series_into_its_panel_and_the_legend() {
    let a = superposed(&[0.0], 10.0, 1.0, 0.1, 48.0, 1.0);
    let b = superposed(&[0.0], 1.0, 1.0, 0.2, 48.0, 1.0);
    let fig = Figure {
        series: vec![
            Series {
                label: "first".into(),
                points: a.clone(),
            },
            Series {
                label: "second".into(),
                points: b.clone(),
            },
        ],
        y_scale: YScale::Log,
        panels: true,
        guides: vec![Guide {
            series: 1,
            label: "slope of second".into(),
            points: vec![b[12], b[48]],
        }],
        markers: vec![
            Markers {
                series: 0,
                label: "peak of first".into(),
                shape: MarkerShape::Triangle,
                points: vec![a[2]],
            },
            Markers {
                series: 1,
                label: "used of second".into(),
                shape: MarkerShape::Disc,
                points: b[12..].to_vec(),
            },
        ],
        ..Figure::default()
    };
    let subs = super::prepare::panel_figures(&fig);
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].markers.len(), 1);
    assert_eq!(subs[0].markers[0].label, "peak of first");
    assert!(subs[0].guides.is_empty());
    assert_eq!(subs[1].guides.len(), 1);
    assert_eq!(
        (subs[1].guides[0].series, subs[1].markers[0].series),
        (0, 0)
    );
    let opts = RenderOptions {
        width_px: 900,
        height_px: 700,
        ..RenderOptions::default()
    };
    let svg = render_svg(&fig, &opts).unwrap();
    for label in ["slope of second", "peak of first", "used of second"] {
        assert_eq!(svg.matches(label).count(), 1, "{label}");
    }
}

#[test]
fn a_log_dose_axis_spans_whole_decades_and_places_values_by_their_logarithm() {
    let fig = Figure {
        series: vec![Series {
            label: "curve".into(),
            points: vec![(10.0, -5.0), (100.0, -30.0), (3000.0, -90.0)],
        }],
        x_scale: XScale::Log,
        x_unit: Some("µg/day".into()),
        x_label: Some("Daily dose".into()),
        ..Figure::default()
    };
    let prep = Prepared::new(&fig).unwrap();
    assert_eq!((prep.x_lo_h, prep.x_hi_h), (10.0, 10_000.0));
    assert!(!prep.days);
    // 100 µg/day sits a third of the way along three decades.
    assert_eq!(prep.transform((100.0, 1.0)), Some((2.0, 1.0)));
    assert_eq!(prep.transform((0.0, 1.0)), None);
    let layout = &layouts(std::slice::from_ref(&prep), 1200.0, 800.0, None, false)[0];
    let major: Vec<f64> = layout
        .x_ticks
        .iter()
        .filter(|(_, t)| !t.minor)
        .map(|(_, t)| t.value)
        .collect();
    assert_eq!(major, [10.0, 100.0, 1000.0, 10_000.0]);
    let xs: Vec<f64> = layout
        .x_ticks
        .iter()
        .filter(|(_, t)| !t.minor)
        .map(|(x, _)| *x)
        .collect();
    let gaps: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| (g - gaps[0]).abs() < 1e-9), "{gaps:?}");
    let svg = render_svg(&fig, &RenderOptions::default()).unwrap();
    assert!(svg.contains("Daily dose (µg/day)"));
}

#[test]
fn a_stack_draws_each_figure_with_its_own_label_on_one_time_axis() {
    // The serum level above, a marker's fall below: two vertical quantities, one time axis.
    let top = mk7_figure();
    let marker = Figure {
        title: "not drawn".into(),
        y_label: "dp-ucMGP, change (%)".into(),
        series: vec![Series {
            label: "MK-7 180 µg once daily".into(),
            points: (0..=672)
                .map(|h| (f64::from(h), -30.0 * (1.0 - (-f64::from(h) / 200.0).exp())))
                .collect(),
        }],
        ..Figure::default()
    };
    let fig = Figure {
        stack: vec![marker.clone()],
        ..top.clone()
    };
    let opts = RenderOptions::default();
    let texts = svg_texts(&render_svg(&fig, &opts).unwrap());
    for want in [
        "Serum MK-7 (ng/mL)",
        "dp-ucMGP, change (%)",
        "MK-7 accumulation",
    ] {
        assert_eq!(
            texts.iter().filter(|t| t.as_str() == want).count(),
            1,
            "{want}: {texts:?}"
        );
    }
    assert!(!texts.iter().any(|t| t == "not drawn"));
    // The time label once (under the last plot), the negative ticks of the marker's axis.
    assert_eq!(texts.iter().filter(|t| t.starts_with("Time")).count(), 1);
    assert!(texts.iter().any(|t| t == "−30" || t == "-30"), "{texts:?}");
    // Two plots, one above the other, sharing their left edge and the time range.
    let subs = vec![
        Figure {
            stack: Vec::new(),
            ..top
        },
        marker,
    ];
    let preps = prepare::prepare_stack(&subs).unwrap();
    let ls = layouts(&preps, 1800.0, 1100.0, None, true);
    assert_eq!(ls.len(), 2);
    assert_eq!(ls[0].plot.left, ls[1].plot.left);
    assert!(ls[0].plot.bottom < ls[1].plot.top);
    assert_eq!(preps[0].x_hi_h, preps[1].x_hi_h);
    assert!(ls[0].show_y_label && ls[1].show_y_label);
    // The PNG has ink in both halves.
    let img = decode(&render_png(&fig, &opts).unwrap());
    let (w, h) = img.dimensions();
    let half = |y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 != [255, 255, 255])
            .count()
    };
    assert!(half(0, h / 2) > 1000 && half(h / 2, h) > 1000);
}
