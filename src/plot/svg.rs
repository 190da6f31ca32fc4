//! SVG output: drawing on a grid finer than the output pixels, then giving the document its
//! physical size and round line joins.

use plotters::prelude::*;

use super::canvas::{paint, print_scale, validate_size, Drawing};
use super::paint::Flavor;
use super::style::ensure_fonts;
use super::{PlotError, RenderOptions};

/// Draws `drawing` on an SVG canvas four times finer than the output size, then gives the
/// document its size (in mm when a print resolution is set).
pub(super) fn render(drawing: &impl Drawing, opts: &RenderOptions) -> Result<String, PlotError> {
    validate_size(opts)?;
    ensure_fonts()?;
    let (w, h) = (opts.width_px, opts.height_px);
    let (vw, vh) = (w * SVG_UNITS_PER_PX, h * SVG_UNITS_PER_PX);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (vw, vh)).into_drawing_area();
        paint(
            &root,
            drawing,
            print_scale(opts, SVG_UNITS_PER_PX),
            Flavor::Svg,
        )?;
    }
    // The print resolution gives the document its physical size.
    let mm = |v: u32| format!("{:.2}mm", f64::from(v) / f64::from(opts.dpi.max(1)) * 25.4);
    let (sw, sh) = (mm(w), mm(h));
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
