//! What every output format checks and scales the same way: the size limits and the print scale
//! of text and strokes.

use super::{PlotError, RenderOptions, MAX_SIDE_PX};

/// Scale of text and strokes needed for print legibility at `opts.dpi` on a canvas `factor`
/// times the output size: tick labels at 7 pt (34 px at the reference scale 1).
pub(super) fn print_scale(opts: &RenderOptions, factor: u32) -> Option<f64> {
    opts.dpi
        .map(|dpi| f64::from(dpi) * f64::from(factor) / 72.0 * 7.0 / 34.0)
}

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
