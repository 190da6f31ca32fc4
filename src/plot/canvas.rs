//! What every output format shares: the [`Drawing`] a figure implements once for all backends,
//! the white canvas it is painted on, the size limits, and the print scale of text and strokes.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::paint::{draw_error, DrawResult, Flavor};
use super::{PlotError, RenderOptions, MAX_SIDE_PX};

/// A figure's drawing sequence, written once and generic over the plotters backend, so that the
/// PNG and the SVG of a figure cannot drift apart; the outputs only choose the canvas.
pub(super) trait Drawing {
    /// Draws on `area`, a canvas of `w` × `h` pixels; `print_u` is the floor on the scale of
    /// text and strokes for print, and `flavor` names the backend's quirks.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        w: f64,
        h: f64,
        print_u: Option<f64>,
        flavor: Flavor,
    ) -> DrawResult;
}

/// Fills `root` white, draws `drawing` on all of it and flushes the backend.
pub(super) fn paint<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    drawing: &impl Drawing,
    print_u: Option<f64>,
    flavor: Flavor,
) -> DrawResult {
    root.fill(&WHITE).map_err(draw_error)?;
    let (w, h) = root.dim_in_pixel();
    drawing.draw(root, f64::from(w), f64::from(h), print_u, flavor)?;
    root.present().map_err(draw_error)
}

/// Scale of text and strokes needed for print legibility at `opts.dpi` on a canvas `factor`
/// times the output size. The reference scale 1 sets tick labels at 7 pt at 300 dpi (see
/// `layout::Metrics`), so the floor is the resolution's ratio to 300 dpi.
pub(super) fn print_scale(opts: &RenderOptions, factor: u32) -> Option<f64> {
    Some(f64::from(opts.dpi) / f64::from(super::DEFAULT_DPI) * f64::from(factor))
}

/// Rejects a side of 0 or over [`MAX_SIDE_PX`] before any canvas is allocated.
pub(super) fn validate_size(opts: &RenderOptions) -> Result<(), PlotError> {
    let ok = |v: u32| (1..=MAX_SIDE_PX).contains(&v);
    if ok(opts.width_px) && ok(opts.height_px) {
        Ok(())
    } else {
        Err(PlotError::InvalidSize {
            width_px: opts.width_px,
            height_px: opts.height_px,
        })
    }
}
