//! Print size measured in the rendered outputs, not read from constants: glyph heights in the
//! PNG (anti-aliased ink weighted by its coverage) and in the SVG as usvg lays it out (the
//! outlines a viewer or the PDF draws), each turned into points at the figure's print size
//! through the bundled font's own glyph bounds. Plus the files of every format: resolution,
//! compression, page size, embedded fonts, and the bare framing.

use ab_glyph::{Font, FontRef};
use svg2pdf::usvg;

use super::canvas::print_scale;
use super::layout::{layouts, MIN_TEXT_PT};
use super::prepare::{panel_figures, prepare};
use super::style::{text_width, FONT_BOLD, FONT_REGULAR};
use super::tests::two_series;
use super::*;

/// Ink height of `text` in ems: from the lowest to the highest outline point of its glyphs.
fn ink_em(text: &str, bold: bool) -> f64 {
    let font = FontRef::try_from_slice(if bold { FONT_BOLD } else { FONT_REGULAR }).unwrap();
    let upem = f64::from(font.units_per_em().unwrap());
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for c in text.chars() {
        if let Some(o) = font.outline(font.glyph_id(c)) {
            lo = lo.min(f64::from(o.bounds.min.y.min(o.bounds.max.y)));
            hi = hi.max(f64::from(o.bounds.max.y.max(o.bounds.min.y)));
        }
    }
    (hi - lo) / upem
}

/// A journal figure with every kind of text: title, subtitle, axis titles, ticks, legend,
/// threshold.
fn journal_figure() -> (Figure, RenderOptions) {
    let mut fig = two_series();
    fig.title = "MK-7 against MK-4, 28 days".into();
    fig.subtitle = Some("one-compartment model · exact solver".into());
    fig.threshold = Some(Threshold {
        value: 2.0,
        label: "threshold 2 ng/mL".into(),
    });
    (fig, Journal::Single.options())
}

/// Every text element of an SVG with its glyphs' height in px at 96 dpi, as usvg lays it out
/// (rotated text measured across its baseline). usvg keeps the outlines in the document's
/// user units (the viewBox, four per output pixel); `scale` turns them into px at 96 dpi.
fn svg_text_heights(svg: &str) -> (usvg::Tree, Vec<(String, bool, f64)>) {
    fn walk(g: &usvg::Group, out: &mut Vec<(String, bool, f64)>) {
        for n in g.children() {
            match n {
                usvg::Node::Group(g) => walk(g, out),
                usvg::Node::Text(t) => {
                    let s: String = t.chunks().iter().map(|c| c.text().to_string()).collect();
                    let bold = t.chunks()[0].spans()[0].font().weight() >= 600;
                    let flat = t.flattened();
                    let bb = flat.abs_bounding_box();
                    let tf = flat.abs_transform();
                    let rotated = tf.kx.abs() > tf.sx.abs() || tf.ky.abs() > tf.sy.abs();
                    let h = if rotated { bb.width() } else { bb.height() };
                    out.push((s, bold, f64::from(h)));
                }
                _ => {}
            }
        }
    }
    let tree = usvg::Tree::from_str(svg, super::formats::usvg_options()).unwrap();
    let mut out = Vec::new();
    walk(tree.root(), &mut out);
    let view_w: f64 = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .and_then(|v| v.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let scale = f64::from(tree.size().width()) / view_w;
    for t in &mut out {
        t.2 *= scale;
    }
    (tree, out)
}

#[test]
fn every_svg_text_is_at_least_7_pt_at_the_journal_size() {
    let (fig, opts) = journal_figure();
    let svg = render_svg(&fig, &opts).unwrap();
    let (tree, texts) = svg_text_heights(&svg);
    // usvg sizes the 85.01 mm document at 96 px per inch.
    assert!((f64::from(tree.size().width()) - 85.01 / 25.4 * 96.0).abs() < 0.05);
    let mut seen = Vec::new();
    for (text, bold, h) in &texts {
        let ink = ink_em(text, *bold);
        if ink < 0.3 {
            continue; // a dash or a dot: too flat to measure an em from
        }
        let pt = h / ink * 72.0 / 96.0;
        assert!(pt >= MIN_TEXT_PT - 0.02, "{text:?} is {pt:.2} pt");
        seen.push((text.clone(), pt));
    }
    let pt_of = |needle: &str| seen.iter().find(|(t, _)| t == needle).map(|s| s.1);
    // The title at 10 pt, the axis titles at 8, ticks and legend at 7: measured, ±2 %.
    for (needle, want) in [
        ("MK-7 against MK-4, 28 days", 10.0),
        ("Time (days)", 8.0),
        ("Serum concentration (ng/mL)", 8.0),
        ("14", 7.0),
        ("MK-7", 7.0),
        ("threshold 2 ng/mL", 7.0),
    ] {
        let pt = pt_of(needle).unwrap_or_else(|| panic!("{needle} not drawn: {seen:?}"));
        assert!(
            (pt - want).abs() < 0.02 * want,
            "{needle}: {pt:.2} pt, want {want}"
        );
    }
}

/// Height in px of the anti-aliased ink in a box of `img`: per row the darkest pixel's
/// coverage of `ink` over white, summed, so partly covered edge rows count by their share.
fn ink_rows(img: &image::RgbImage, x: (u32, u32), y: (u32, u32), ink: u8) -> f64 {
    (y.0..y.1)
        .map(|row| {
            (x.0..x.1)
                .map(|col| {
                    let p = img.get_pixel(col, row);
                    let lum = f64::from(p[0].min(p[1]).min(p[2]));
                    ((255.0 - lum) / (255.0 - f64::from(ink))).clamp(0.0, 1.0)
                })
                .fold(0.0, f64::max)
        })
        .sum()
}

#[test]
fn png_tick_labels_measure_7_pt_at_the_journal_size() {
    let (fig, opts) = journal_figure();
    let img = image::load_from_memory(&render_png(&fig, &opts).unwrap())
        .unwrap()
        .to_rgb8();
    // The raster is drawn at twice the size and averaged down: lay it out the same way.
    let subs = panel_figures(&fig);
    let preps = prepare(&fig, &subs).unwrap();
    let (w2, h2) = (
        2.0 * f64::from(opts.width_px),
        2.0 * f64::from(opts.height_px),
    );
    let l = &layouts(&preps, w2, h2, print_scale(&opts, 2), false)[0];
    let right = (l.plot.left - l.m.tick_len - l.m.tick_gap) / 2.0;
    let mut measured = 0;
    for (y, tick) in &l.y_ticks {
        let Some(label) = tick.label.as_deref() else {
            continue;
        };
        let wide = text_width(label, l.m.tick, false) / 2.0;
        let xs = ((right - wide - 3.0) as u32, (right + 1.0) as u32);
        let ys = (
            (y / 2.0 - 0.6 * l.m.tick) as u32,
            (y / 2.0 + 0.4 * l.m.tick) as u32,
        );
        let h = ink_rows(&img, xs, ys, 0x33);
        let pt = h / ink_em(label, false) * 72.0 / f64::from(opts.dpi);
        // Sub-pixel ink heights: within 0.15 pt of the 7 pt the layout sets.
        assert!(
            (pt - MIN_TEXT_PT).abs() < 0.15,
            "tick {label:?}: {pt:.2} pt"
        );
        measured += 1;
    }
    assert!(measured >= 3, "only {measured} tick labels measured");
}

#[test]
fn every_format_carries_its_print_size() {
    let (fig, mut opts) = journal_figure();
    opts.formats = Formats::parse_list("png,svg,pdf,tiff").unwrap();
    let files = render_files(&fig, &opts).unwrap();
    let exts: Vec<_> = files.iter().map(|f| f.0).collect();
    assert_eq!(exts, ["png", "svg", "pdf", "tiff"]);
    let bytes = |e: &str| &files.iter().find(|f| f.0 == e).unwrap().1;
    // PNG: pHYs right after IHDR, 11811 px/m = 300 dpi.
    let png = bytes("png");
    assert_eq!(&png[37..41], b"pHYs");
    assert_eq!(u32::from_be_bytes(png[41..45].try_into().unwrap()), 11811);
    // TIFF: LZW (5), 300 px per inch, the same pixels as the PNG.
    let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes("tiff"))).unwrap();
    use tiff::tags::Tag;
    assert_eq!(dec.get_tag_u32(Tag::Compression).unwrap(), 5);
    assert_eq!(dec.get_tag_u32(Tag::ResolutionUnit).unwrap(), 2);
    assert_eq!(dec.get_tag_u32_vec(Tag::XResolution).unwrap(), vec![300, 1]);
    let tiff::decoder::DecodingResult::U8(pixels) = dec.read_image().unwrap() else {
        panic!("8-bit TIFF expected");
    };
    let from_png = image::load_from_memory(png).unwrap().to_rgb8().into_raw();
    assert!(pixels == from_png, "TIFF and PNG pixels differ");
    // PDF: one page 85.01 × 64.01 mm (in points), DejaVu Sans embedded as a font file.
    let pdf = String::from_utf8_lossy(bytes("pdf"));
    assert!(pdf.starts_with("%PDF-"));
    let mb = pdf.split("/MediaBox [").nth(1).unwrap();
    let nums: Vec<f64> = mb
        .split(']')
        .next()
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let mm = |pt: f64| pt / 72.0 * 25.4;
    assert!((mm(nums[2] - nums[0]) - 85.01).abs() < 0.05, "{nums:?}");
    assert!((mm(nums[3] - nums[1]) - 64.01).abs() < 0.05, "{nums:?}");
    assert!(pdf.contains("DejaVuSans") && pdf.contains("/FontFile2"));
}

#[test]
fn a_bare_figure_keeps_only_what_is_inside_the_frame() {
    let (fig, mut opts) = journal_figure();
    opts.bare = true;
    let (_, texts) = svg_text_heights(&render_svg(&fig, &opts).unwrap());
    let texts: Vec<_> = texts.into_iter().map(|t| t.0).collect();
    assert!(!texts
        .iter()
        .any(|t| t.contains("against") || t.contains("exact solver")));
    assert!(texts.iter().any(|t| t == "Time (days)") && texts.iter().any(|t| t == "MK-4"));
    // The plot gains the height the title and subtitle took.
    let subs = panel_figures(&fig);
    let with_title = layouts(
        &prepare(&fig, &subs).unwrap(),
        1004.0,
        756.0,
        Some(1.0),
        false,
    );
    let bare_fig = Figure {
        title: String::new(),
        subtitle: None,
        ..fig.clone()
    };
    let subs = panel_figures(&bare_fig);
    let bare = layouts(
        &prepare(&bare_fig, &subs).unwrap(),
        1004.0,
        756.0,
        Some(1.0),
        false,
    );
    assert!(bare[0].plot.height() > with_title[0].plot.height() + 40.0);
}

#[test]
fn each_svg_curve_is_one_path_in_a_group_named_after_its_series() {
    let (mut fig, opts) = journal_figure();
    fig.series[1].label = "MK-4 <45 mg> & \"3×\"".into();
    let svg = render_svg(&fig, &opts).unwrap();
    let groups: Vec<&str> = svg.split("<g id=\"curve-").skip(1).collect();
    assert_eq!(groups.len(), 2, "one group per series");
    assert!(groups[0].starts_with("1\" class=\"curve\" data-label=\"MK-7\""));
    assert!(groups[1].contains("<title>MK-4 &lt;45 mg&gt; &amp; &quot;3×&quot;</title>"));
    for (i, g) in groups.iter().enumerate() {
        let g = &g[..g.find("</g>").unwrap()];
        assert_eq!(g.matches("<path ").count(), 1, "curve {i}: one path");
        assert_eq!(g.matches("<polyline").count(), 0);
        // The first series is solid, the second dashed (5 and 2.6 line widths) by the viewer.
        assert_eq!(g.contains("stroke-dasharray"), i == 1, "curve {i}");
    }
    // The line is 3 px at scale 1 (the 7 pt floor at 300 dpi), 12 user units: 5 and 2.6 widths.
    assert!(groups[1].contains("stroke-width=\"12\""));
    assert!(groups[1].contains("stroke-dasharray=\"60 31.2\""));
    // The PDF draws the same curves (usvg reads the dashes).
    let pdf = render_files(
        &fig,
        &RenderOptions {
            formats: Formats::parse_list("pdf").unwrap(),
            ..opts
        },
    )
    .unwrap();
    assert!(pdf[0].1.starts_with(b"%PDF-"));
}

#[test]
fn panel_legends_that_would_cover_data_go_into_a_column_beside_the_plots() {
    // Curves that zigzag over the whole plot leave no free corner, even with a raised axis.
    let zigzag = |amp: f64| -> Vec<(f64, f64)> {
        (0..=400)
            .map(|i| (f64::from(i), if i % 2 == 0 { 0.0 } else { amp }))
            .collect()
    };
    let fig = Figure {
        title: "zigzag".into(),
        y_label: "Serum (ng/mL)".into(),
        series: vec![
            Series {
                label: "first regimen".into(),
                points: zigzag(3.0),
            },
            Series {
                label: "second regimen".into(),
                points: zigzag(1.0),
            },
            Series {
                label: "third regimen".into(),
                points: zigzag(2.0),
            },
        ],
        dose_marks_h: vec![vec![0.0, 100.0]; 3],
        threshold: Some(Threshold {
            value: 0.5,
            label: "threshold 0.5 ng/mL".into(),
        }),
        panels: true,
        ..Figure::default()
    };
    let subs = panel_figures(&fig);
    let preps = prepare(&fig, &subs).unwrap();
    // Three short panels: raising an axis far enough for a four-line legend would cost more
    // than half of each panel's height.
    let ls = layouts(&preps, 1800.0, 900.0, Some(1.0), false);
    for l in &ls {
        let Some(super::legend::LegendPlace::Inside(r)) = &l.legend_place else {
            panic!("a panel legend is a box");
        };
        assert!(
            r.left > l.plot.right,
            "legend {r:?} is over plot {:?}",
            l.plot
        );
        assert!(r.right <= 1800.0);
        assert_eq!(
            l.plot.right, ls[0].plot.right,
            "the panels keep one time axis"
        );
    }
    // In a narrow figure a column would take over a third of the width: one legend for the
    // stack goes above it, every entry once, the regimens first.
    let narrow = layouts(&preps, 1004.0, 756.0, Some(1.0), false);
    let Some(super::legend::LegendPlace::Above { top }) = narrow[0].legend_place else {
        panic!("the first panel carries the shared legend above the stack");
    };
    assert!(narrow[1..].iter().all(|l| l.legend_place.is_none()));
    let labels: Vec<&str> = narrow[0].legend.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        &labels[..3],
        ["first regimen", "second regimen", "third regimen"]
    );
    assert_eq!(labels.iter().filter(|l| **l == "Dose").count(), 1);
    let rows = narrow[0].legend_grid.rows as f64;
    let legend_bottom = top + rows * super::legend::ROW_H * narrow[0].m.legend;
    assert!(
        narrow.iter().all(|l| l.plot.top >= legend_bottom),
        "a plot under the legend"
    );
    // Renders in both outputs.
    render_png(&fig, &RenderOptions::default()).unwrap();
    render_svg(&fig, &RenderOptions::default()).unwrap();
}

#[test]
fn a_long_subtitle_wraps_onto_a_second_line_before_it_is_cut() {
    use super::style::{size_of_pt, text_width, wrap_text};
    let s = size_of_pt(7.0);
    let text = "scenarios/observed_profile_nca.csv after 15000 µg · PKNCA default rules · no λz: 2 positive sample(s) after Tmax";
    let avail = 0.7 * text_width(text, s, false);
    let (size, lines) = wrap_text(text, s, s, false, avail, 2);
    assert_eq!(size, s);
    assert_eq!(lines.len(), 2);
    // Every word kept, in order (a separator at the break is dropped).
    assert_eq!(
        lines.join(" ").replace(" · ", " "),
        text.replace(" · ", " ")
    );
    assert!(lines.iter().all(|l| text_width(l, s, false) <= avail));
    assert!(!lines[0].ends_with('·') && !lines[1].starts_with('·'));
    // Too long even for two lines: the second is cut with "…".
    let (_, cut) = wrap_text(text, s, s, false, 0.3 * text_width(text, s, false), 2);
    assert_eq!(cut.len(), 2);
    assert!(cut[1].ends_with('…'));
    // Short text stays one line at its size.
    assert_eq!(
        wrap_text("short", s, s, false, avail, 2),
        (s, vec!["short".to_string()])
    );
}
