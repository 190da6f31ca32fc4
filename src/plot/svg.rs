//! SVG output: drawing on a grid finer than the output pixels, then giving the document its
//! physical size and round line joins.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{print_scale, validate_size};
use super::paint::{draw_error, DrawResult};
use super::style::ensure_fonts;
use super::{PlotError, RenderOptions};

/// The drawing surface of [`svg_with`].
type SvgArea<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Runs `draw(area, width, height, print scale)` on an SVG canvas four times finer than the
/// output size, then gives the document its size (in mm when a print resolution is set).
pub(super) fn svg_with(
    opts: &RenderOptions,
    draw: impl FnOnce(&SvgArea, f64, f64, Option<f64>) -> DrawResult,
) -> Result<String, PlotError> {
    validate_size(opts)?;
    ensure_fonts()?;
    let (w, h) = (opts.width_px, opts.height_px);
    let (vw, vh) = (w * SVG_UNITS_PER_PX, h * SVG_UNITS_PER_PX);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (vw, vh)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        draw(
            &root,
            f64::from(vw),
            f64::from(vh),
            print_scale(opts, SVG_UNITS_PER_PX),
        )?;
        root.present().map_err(draw_error)?;
    }
    // A print resolution gives the document its physical size; otherwise pixels.
    let (sw, sh) = match opts.dpi {
        Some(dpi) => {
            let mm = |v: u32| format!("{:.2}mm", f64::from(v) / f64::from(dpi) * 25.4);
            (mm(w), mm(h))
        }
        None => (w.to_string(), h.to_string()),
    };
    let svg = svg
        .replacen(
            &format!("<svg width=\"{vw}\" height=\"{vh}\""),
            &format!("<svg width=\"{sw}\" height=\"{sh}\""),
            1,
        )
        .replace(
            "<polyline fill=\"none\"",
            "<polyline fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\"",
        );
    Ok(svg)
}

/// SVG user units per output pixel: a quarter-pixel grid for plotters' integer coordinates.
const SVG_UNITS_PER_PX: u32 = 4;
