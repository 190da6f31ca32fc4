//! What the charts that are not concentration–time figures (the heatmap and the tornado chart)
//! share: the title block, the bottom stack of tick labels and axis title, and the typographic
//! minus. They use the same fonts, metrics, painter and PNG/SVG back ends as the other figures,
//! so text sizes, strokes and print scaling match exactly.

use plotters::prelude::DrawingBackend;
use plotters::style::text_anchor::HPos;

use super::layout::{Metrics, ASCENT, DESCENT};
use super::paint::Painter;
use super::style::{fit_text, wrap_text, INK, SUBTITLE_INK};
use super::PlotError;

/// Title and subtitle at the top left, shrunk to fit the width; returns the y below them.
pub(super) fn header<DB: DrawingBackend>(
    p: &Painter<DB>,
    m: &Metrics,
    w: f64,
    title: &str,
    subtitle: Option<&str>,
) -> Result<f64, PlotError> {
    let avail = (w - 2.0 * m.pad).max(1.0);
    let mut y = m.pad;
    if !title.is_empty() {
        let (size, title) = fit_text(title, m.title, m.min_text, true, avail);
        p.text(
            &title,
            m.pad,
            y + ASCENT * size,
            HPos::Left,
            size,
            true,
            &INK,
        )?;
        y += (ASCENT + DESCENT) * size;
    }
    if let Some(sub) = subtitle.filter(|s| !s.is_empty()) {
        let (size, lines) = wrap_text(sub, m.subtitle, m.min_text, false, avail, 2);
        y += 0.25 * size;
        for line in &lines {
            p.text(
                line,
                m.pad,
                y + ASCENT * size,
                HPos::Left,
                size,
                false,
                &SUBTITLE_INK,
            )?;
            y += (ASCENT + DESCENT) * size;
        }
    }
    Ok(y + 0.6 * m.tick)
}

/// Vertical position of the x tick labels and the x axis title, from the bottom of the canvas:
/// (plot bottom, tick label baseline, axis title baseline).
pub(super) fn bottom_stack(m: &Metrics, h: f64) -> (f64, f64, f64) {
    let x_tick_line = m.tick_len + m.tick_gap + (ASCENT - 0.14) * m.tick;
    let bottom =
        h - m.pad - (ASCENT + DESCENT) * m.axis - m.label_gap - DESCENT * m.tick - x_tick_line;
    (bottom, bottom + x_tick_line, h - m.pad - DESCENT * m.axis)
}

/// A typographic minus sign in place of the hyphen.
pub(super) fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use crate::plot::{Heatmap, HeatmapPanel, RenderOptions, Tornado, TornadoBar, TornadoPanel};

    fn small() -> RenderOptions {
        RenderOptions {
            width_px: 600,
            height_px: 400,
            // A screen figure: at 300 dpi 600 px would be 51 mm wide, all 7 pt text.
            dpi: 100,
            ..RenderOptions::default()
        }
    }

    #[test]
    fn heatmap_and_tornado_render_their_labels() {
        let hm = Heatmap {
            title: "t".into(),
            x_label: "Half-life (h)".into(),
            y_label: "Dose (µg)".into(),
            x_ticks: vec!["72".into(), "84".into(), "96".into()],
            y_ticks: vec!["90".into(), "180".into()],
            panels: vec![HeatmapPanel {
                label: "a".into(),
                values: vec![1.0, 1.2, 1.4, 2.0, 2.4, f64::NAN],
            }],
            colour_label: "Cmin,ss (ng/mL)".into(),
            max_labelled_cells: 12,
            ..Heatmap::default()
        };
        let svg = hm.render_svg(&small()).unwrap();
        for text in ["Half-life (h)", "Dose (µg)", "Cmin,ss (ng/mL)", "2.40", "–"] {
            assert!(svg.contains(text), "{text} missing");
        }
        let png = hm.render_png(&small()).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (600, 400));
        // The top of the colour map appears (the largest cell, 2.4, is yellow).
        assert!(img.pixels().any(|p| p.0 == [0xfd, 0xe7, 0x25]));

        let tor = Tornado {
            title: "t".into(),
            x_label: "Change of Cavg,ss (%)".into(),
            low_label: "parameter −20 %".into(),
            high_label: "parameter +20 %".into(),
            panels: vec![TornadoPanel {
                label: "a".into(),
                bars: vec![
                    TornadoBar {
                        label: "volume V/F (230.8 L)".into(),
                        low_pct: 25.0,
                        high_pct: -16.7,
                    },
                    TornadoBar {
                        label: "absorption ka (1.22 /h)".into(),
                        low_pct: 0.0,
                        high_pct: 0.0,
                    },
                ],
            }],
            ..Tornado::default()
        };
        let svg = tor.render_svg(&small()).unwrap();
        for text in [
            "volume V/F (230.8 L)",
            "+25.0 %",
            "−16.7 %",
            "no effect",
            "parameter +20 %",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(Tornado::default().render_png(&small()).is_err());
    }
}
