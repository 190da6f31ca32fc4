//! The painter: text on its baseline, lines, polylines, rectangles and polygons, drawn the same
//! on the bitmap and the SVG backend despite their differences; and cutting lines into dashes.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform, RGBAColor, RGBColor};

use super::layout::Rect;
use super::style::{INK, SIZE_PER_EM};
use super::PlotError;

/// Backend quirks that the drawing code must compensate for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    /// plotters' ab_glyph rasterizer puts the baseline half a font size below a top anchor and
    /// builds thick polylines as one self-intersecting polygon (holes at sharp peaks).
    Bitmap,
    /// The SVG backend writes `dy="0.76em"` for a top anchor, with `font-size = size / 1.24`.
    Svg,
}

impl Flavor {
    /// Distance from a top anchor down to the baseline, as a fraction of the layout size.
    fn baseline_drop(self) -> f64 {
        match self {
            Flavor::Bitmap => 0.5,
            // `dy="0.76em"` of a font of `size / SIZE_PER_EM` px per em (see `backend_size`).
            Flavor::Svg => 0.76 / SIZE_PER_EM,
        }
    }

    /// The size to hand the backend for a layout size (`style::SIZE_PER_EM` units), so that
    /// both outputs set the same em: the bitmap takes it as it is; the SVG backend writes
    /// `font-size = size / 1.24`, which is 6 % smaller than the bitmap's em unless scaled.
    fn backend_size(self, size: f64) -> f64 {
        match self {
            Flavor::Bitmap => size,
            Flavor::Svg => size / SIZE_PER_EM * 1.24,
        }
    }
}

/// Draws on one area of one backend, compensating for that backend's [`Flavor`].
pub(super) struct Painter<'a, DB: DrawingBackend> {
    pub(super) area: &'a DrawingArea<DB, Shift>,
    pub(super) flavor: Flavor,
}

fn px(v: f64) -> i32 {
    // `as` saturates and maps NaN to 0: off-canvas geometry is harmless, never a panic.
    v.round() as i32
}

fn stroke(w: f64) -> u32 {
    w.round().max(1.0) as u32
}

/// What every drawing step returns; the first failure stops the figure.
pub(super) type DrawResult = Result<(), PlotError>;

impl<DB: DrawingBackend> Painter<'_, DB> {
    /// Horizontal text whose baseline is at `baseline`, aligned on `x` as `align` says.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn text(
        &self,
        s: &str,
        x: f64,
        baseline: f64,
        align: HPos,
        size: f64,
        bold: bool,
        colour: &RGBColor,
    ) -> DrawResult {
        let style = if bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let ts = TextStyle::from(FontDesc::new(
            FontFamily::SansSerif,
            self.flavor.backend_size(size),
            style,
        ))
        .pos(Pos::new(align, VPos::Top))
        .color(colour);
        let y = baseline - self.flavor.baseline_drop() * size;
        self.area
            .draw(&Text::new(s.to_string(), (px(x), px(y)), ts))
            .map_err(draw_error)
    }

    /// Text reading upwards, centred on `centre_y`, its baseline on the vertical `baseline_x`.
    pub(super) fn vertical_text(
        &self,
        s: &str,
        baseline_x: f64,
        centre_y: f64,
        size: f64,
    ) -> DrawResult {
        let ts = TextStyle::from(FontDesc::new(
            FontFamily::SansSerif,
            self.flavor.backend_size(size),
            FontStyle::Normal,
        ))
        .pos(Pos::new(HPos::Center, VPos::Top))
        .color(&INK)
        .transform(FontTransform::Rotate270);
        // In the rotated frame "down" points right, so the baseline drop moves the anchor left.
        let x = baseline_x - self.flavor.baseline_drop() * size;
        self.area
            .draw(&Text::new(s.to_string(), (px(x), px(centre_y)), ts))
            .map_err(draw_error)
    }

    pub(super) fn segment(
        &self,
        a: (f64, f64),
        b: (f64, f64),
        colour: &RGBColor,
        width: f64,
    ) -> DrawResult {
        let style = colour.stroke_width(stroke(width));
        self.area
            .draw(&PathElement::new(
                vec![(px(a.0), px(a.1)), (px(b.0), px(b.1))],
                style,
            ))
            .map_err(draw_error)
    }

    /// A thick polyline with round joins and caps.
    pub(super) fn polyline(&self, pts: &[(f64, f64)], colour: &RGBColor, width: f64) -> DrawResult {
        self.polylines(&[pts.to_vec()], colour, width)
    }

    /// Several thick polylines of one colour (e.g. the dashes of one curve), round joins and
    /// caps; a piece of zero length is a round dot.
    pub(super) fn polylines(
        &self,
        pieces: &[Vec<(f64, f64)>],
        colour: &RGBColor,
        width: f64,
    ) -> DrawResult {
        match self.flavor {
            Flavor::Svg => {
                for pts in pieces {
                    let mut ipts: Vec<(i32, i32)> =
                        pts.iter().map(|p| (px(p.0), px(p.1))).collect();
                    ipts.dedup();
                    if ipts.is_empty() {
                        continue;
                    }
                    if ipts.len() == 1 {
                        let r = stroke(width / 2.0);
                        self.area
                            .draw(&Circle::new(ipts[0], r, colour.filled()))
                            .map_err(draw_error)?;
                        continue;
                    }
                    self.area
                        .draw(&PathElement::new(ipts, colour.stroke_width(stroke(width))))
                        .map_err(draw_error)?;
                }
                Ok(())
            }
            Flavor::Bitmap => self.coverage_polylines(pieces, colour, width),
        }
    }

    /// Open circles of one series centred on `centres`: a white disc of radius `r` under a
    /// ring of `colour` and width `ring_w` on the same radius, so a curve through a point
    /// leaves it readable.
    ///
    /// On a bitmap every disc of the series is painted first and every ring after (one
    /// coverage buffer each, the larger coverage where marks overlap, one blend per pixel),
    /// with the coverage computed from the distance to the true circle: a mark costs its
    /// own few hundred pixels, never a pass over the canvas, so 10⁵ observations draw in a
    /// fraction of a second. The SVG gets one `<circle>` element per disc and per ring.
    pub(super) fn open_circles(
        &self,
        centres: &[(f64, f64)],
        r: f64,
        ring_w: f64,
        colour: &RGBColor,
    ) -> DrawResult {
        let centres: Vec<(f64, f64)> = centres
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        if self.flavor == Flavor::Svg {
            for &(x, y) in &centres {
                self.area
                    .draw(&Circle::new((px(x), px(y)), stroke(r), WHITE.filled()))
                    .map_err(draw_error)?;
                self.area
                    .draw(&Circle::new(
                        (px(x), px(y)),
                        stroke(r),
                        colour.stroke_width(stroke(ring_w)),
                    ))
                    .map_err(draw_error)?;
            }
            return Ok(());
        }
        let half = (ring_w / 2.0).max(0.5);
        let disc = |d: f64| (r + 0.5 - d).clamp(0.0, 1.0);
        let ring = |d: f64| (half + 0.5 - (d - r).abs()).clamp(0.0, 1.0);
        self.coverage_marks(&centres, r + half + 1.0, disc, &WHITE)?;
        self.coverage_marks(&centres, r + half + 1.0, ring, colour)
    }

    /// Paints marks whose coverage at a pixel is `coverage(distance from its centre)`, each
    /// within `reach` of its centre, into one buffer (the larger coverage where marks overlap)
    /// and blends `colour` once per covered pixel.
    ///
    /// Centres are placed to 1/8 pixel (an invisible shift of at most 1/16 pixel), so a mark is
    /// one of 64 stamps computed once: a mark costs a `max` per pixel of its square.
    fn coverage_marks(
        &self,
        centres: &[(f64, f64)],
        reach: f64,
        coverage: impl Fn(f64) -> f64,
        colour: &RGBColor,
    ) -> DrawResult {
        const SUB: f64 = 8.0;
        let (cw, ch) = self.area.dim_in_pixel();
        if centres.is_empty() || cw == 0 || ch == 0 {
            return Ok(());
        }
        let (cw, ch) = (i64::from(cw), i64::from(ch));
        // A stamp spans pixels base − half ..= base + half around the centre's pixel `base`.
        let half = reach.ceil() as i64 + 1;
        let side = (2 * half + 1) as usize;
        let mut stamps: Vec<Option<Vec<u8>>> = vec![None; (SUB * SUB) as usize];
        let stamp = |fx: i64, fy: i64| -> Vec<u8> {
            let (ox, oy) = (fx as f64 / SUB, fy as f64 / SUB);
            let mut s = vec![0u8; side * side];
            for (j, row) in s.chunks_mut(side).enumerate() {
                let dy = (j as i64 - half) as f64 + 0.5 - oy;
                for (i, cell) in row.iter_mut().enumerate() {
                    let dx = (i as i64 - half) as f64 + 0.5 - ox;
                    *cell = (coverage((dx * dx + dy * dy).sqrt()) * 255.0 + 0.5) as u8;
                }
            }
            s
        };
        let mut buffer = vec![0u8; (cw * ch) as usize];
        let (mut lo, mut hi) = (usize::MAX, 0usize);
        for &(cx, cy) in centres {
            // Off-canvas or absurd centres: `as` saturates, and the clipping below skips them.
            let (qx, qy) = ((cx * SUB).round() as i64, (cy * SUB).round() as i64);
            let (bx, by) = (qx.div_euclid(SUB as i64), qy.div_euclid(SUB as i64));
            let (fx, fy) = (qx.rem_euclid(SUB as i64), qy.rem_euclid(SUB as i64));
            let (xa, xb) = ((bx - half).max(0), (bx + half).min(cw - 1));
            let (ya, yb) = ((by - half).max(0), (by + half).min(ch - 1));
            if xa > xb || ya > yb {
                continue;
            }
            let s = stamps[(fy * SUB as i64 + fx) as usize].get_or_insert_with(|| stamp(fx, fy));
            for y in ya..=yb {
                let srow = ((y - by + half) as usize) * side;
                let from = srow + (xa - bx + half) as usize;
                let src = &s[from..from + (xb - xa + 1) as usize];
                let at = (y * cw + xa) as usize;
                for (d, &c) in buffer[at..at + src.len()].iter_mut().zip(src) {
                    *d = (*d).max(c);
                }
                lo = lo.min(at);
                hi = hi.max(at + src.len());
            }
        }
        for (i, &c) in buffer.iter().enumerate().take(hi).skip(lo.min(hi)) {
            if c == 0 {
                continue;
            }
            let (x, y) = (i as i64 % cw, i as i64 / cw);
            self.area
                .draw_pixel((x as i32, y as i32), &colour.mix(f64::from(c) / 255.0))
                .map_err(draw_error)?;
        }
        Ok(())
    }

    /// Rasterizes polylines by distance to their segments, with a one-pixel soft edge.
    ///
    /// plotters' own thick lines are integer quads (ragged on steep, short segments) and its
    /// whole-path polygon leaves holes where a spiky PK curve folds over itself. Taking the
    /// maximum coverage per pixel over all segments and blending each pixel once gives round
    /// joins, no seams and no darker overlaps (also where dashes meet), independent of how
    /// densely the curve is sampled.
    fn coverage_polylines(
        &self,
        pieces: &[Vec<(f64, f64)>],
        colour: &RGBColor,
        width: f64,
    ) -> DrawResult {
        let (cw, ch) = self.area.dim_in_pixel();
        let r = (width / 2.0).max(0.5);
        let reach = r + 1.0;
        let finite: Vec<Vec<(f64, f64)>> = pieces
            .iter()
            .map(|p| {
                p.iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect::<Vec<_>>()
            })
            .filter(|p| !p.is_empty())
            .collect();
        if finite.is_empty() || cw == 0 || ch == 0 {
            return Ok(());
        }
        let all = || finite.iter().flatten();
        let clamp_x = |v: f64| v.clamp(0.0, f64::from(cw - 1)) as usize;
        let clamp_y = |v: f64| v.clamp(0.0, f64::from(ch - 1)) as usize;
        let x0 = clamp_x(all().map(|p| p.0).fold(f64::INFINITY, f64::min) - reach);
        let x1 = clamp_x(all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max) + reach);
        let y0 = clamp_y(all().map(|p| p.1).fold(f64::INFINITY, f64::min) - reach);
        let y1 = clamp_y(all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max) + reach);
        let bw = x1 - x0 + 1;
        let mut coverage = vec![0u8; bw * (y1 - y0 + 1)];

        let segments = finite.iter().flat_map(|pts| {
            let v: Vec<((f64, f64), (f64, f64))> = if pts.len() == 1 {
                vec![(pts[0], pts[0])]
            } else {
                pts.windows(2).map(|s| (s[0], s[1])).collect()
            };
            v
        });
        for (a, b) in segments {
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len2 = dx * dx + dy * dy;
            let sx0 = clamp_x(a.0.min(b.0) - reach);
            let sx1 = clamp_x(a.0.max(b.0) + reach);
            let sy0 = clamp_y(a.1.min(b.1) - reach);
            let sy1 = clamp_y(a.1.max(b.1) + reach);
            for y in sy0..=sy1 {
                let cy = y as f64 + 0.5;
                let row = (y - y0) * bw;
                for x in sx0..=sx1 {
                    let cx = x as f64 + 0.5;
                    let t = if len2 > 0.0 {
                        (((cx - a.0) * dx + (cy - a.1) * dy) / len2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let (qx, qy) = (a.0 + t * dx - cx, a.1 + t * dy - cy);
                    let d = (qx * qx + qy * qy).sqrt();
                    let c = ((r + 0.5 - d).clamp(0.0, 1.0) * 255.0).round() as u8;
                    let cell = &mut coverage[row + x - x0];
                    *cell = (*cell).max(c);
                }
            }
        }
        for (i, &c) in coverage.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let (x, y) = (x0 + i % bw, y0 + i / bw);
            let ink = colour.mix(f64::from(c) / 255.0);
            self.area
                .draw_pixel((x as i32, y as i32), &ink)
                .map_err(draw_error)?;
        }
        Ok(())
    }

    pub(super) fn fill_rect(&self, r: &Rect, colour: RGBAColor) -> DrawResult {
        self.area
            .draw(&Rectangle::new(
                [(px(r.left), px(r.top)), (px(r.right), px(r.bottom))],
                colour.filled(),
            ))
            .map_err(draw_error)
    }

    /// Rectangle outline as four filled bands centred on the edges: the SVG backend ignores
    /// the stroke width of a rectangle, and bands give square corners in both backends.
    pub(super) fn stroke_rect(&self, r: &Rect, colour: &RGBColor, width: f64) -> DrawResult {
        let h = stroke(width) as f64 / 2.0;
        let ink = colour.to_rgba();
        for band in [
            Rect {
                left: r.left - h,
                top: r.top - h,
                right: r.right + h,
                bottom: r.top + h,
            },
            Rect {
                left: r.left - h,
                top: r.bottom - h,
                right: r.right + h,
                bottom: r.bottom + h,
            },
            Rect {
                left: r.left - h,
                top: r.top - h,
                right: r.left + h,
                bottom: r.bottom + h,
            },
            Rect {
                left: r.right - h,
                top: r.top - h,
                right: r.right + h,
                bottom: r.bottom + h,
            },
        ] {
            self.fill_rect(&band, ink)?;
        }
        Ok(())
    }

    /// A filled polygon (any simple outline), e.g. a band.
    pub(super) fn polygon(&self, pts: &[(f64, f64)], fill: RGBAColor) -> DrawResult {
        let mut ipts: Vec<(i32, i32)> = pts.iter().map(|p| (px(p.0), px(p.1))).collect();
        ipts.dedup();
        self.area
            .draw(&Polygon::new(ipts, fill.filled()))
            .map_err(draw_error)
    }

    /// Upward triangle with its base centred on (`x`, `base_y`).
    pub(super) fn triangle(
        &self,
        x: f64,
        base_y: f64,
        w: f64,
        h: f64,
        colour: &RGBColor,
    ) -> DrawResult {
        let pts = vec![
            (px(x - w / 2.0), px(base_y)),
            (px(x + w / 2.0), px(base_y)),
            (px(x), px(base_y - h)),
        ];
        self.area
            .draw(&Polygon::new(pts, colour.filled()))
            .map_err(draw_error)
    }
}

/// Cuts a polyline into dashes: `pattern` gives on and off lengths in pixels, starting with
/// "on"; an "on" length of 0 makes a dot. An empty pattern is a solid line.
pub(super) fn dash_path(path: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    if pattern.is_empty() || pattern.iter().sum::<f64>() <= 0.0 || path.len() < 2 {
        return vec![path.to_vec()];
    }
    let mut out = Vec::new();
    let mut cur: Vec<(f64, f64)> = vec![path[0]];
    let (mut k, mut on) = (0usize, true);
    let mut left = pattern[0];
    for seg in path.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut pos = 0.0;
        while len - pos >= left {
            pos += left;
            let f = if len > 0.0 { pos / len } else { 0.0 };
            let p = (a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1));
            if on {
                cur.push(p);
                out.push(std::mem::take(&mut cur));
            } else {
                cur = vec![p];
            }
            on = !on;
            k = (k + 1) % pattern.len();
            left = pattern[k];
            if left == 0.0 && !on {
                // A zero-length gap cannot stall the walk; zero-length dashes (dots) are fine.
                left = f64::EPSILON;
            }
        }
        left -= len - pos;
        if on {
            cur.push(b);
        }
    }
    if on && !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A backend failure as a [`PlotError::Draw`], keeping the backend's own message.
pub(super) fn draw_error<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> PlotError {
    PlotError::Draw {
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_circles_are_white_inside_ringed_in_colour_and_cost_their_own_pixels() {
        let (w, h) = (120u32, 80u32);
        let mut buf = vec![0u8; (w * h * 3) as usize];
        {
            let area = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            area.fill(&RGBColor(0, 0, 0)).unwrap();
            let p = Painter {
                area: &area,
                flavor: Flavor::Bitmap,
            };
            let blue = RGBColor(0, 0, 255);
            // Two circles, one half off the canvas (clipped, not a panic), and non-finite
            // centres (skipped).
            let centres = [(30.25, 40.0), (118.0, 5.0), (f64::NAN, 3.0), (1e300, 1.0)];
            p.open_circles(&centres, 10.0, 2.0, &blue).unwrap();
        }
        let at = |x: u32, y: u32| {
            let i = ((y * w + x) * 3) as usize;
            (buf[i], buf[i + 1], buf[i + 2])
        };
        assert_eq!(at(30, 40), (255, 255, 255), "the centre is white");
        assert_eq!(at(30, 45), (255, 255, 255));
        // Pixel centres within 0.5 px of the ring's radius (10 px): the series colour.
        assert_eq!(at(40, 40), (0, 0, 255), "d = 10.26 px");
        assert_eq!(at(30, 30), (0, 0, 255), "d = 9.50 px");
        // Half a pixel more: the soft edge, blue over white inside, over black outside.
        let inner = at(30, 31);
        assert!(
            inner.0 == inner.1 && inner.0 > 0 && inner.2 == 255,
            "{inner:?}"
        );
        let outer = at(30, 29);
        assert!(outer.0 == 0 && outer.2 > 0 && outer.2 < 255, "{outer:?}");
        // Beyond the ring's outer edge (r + width/2 + 1/2 px): untouched.
        assert_eq!(at(30, 27), (0, 0, 0));
        assert_eq!(at(43, 40), (0, 0, 0));
        assert_eq!(at(60, 40), (0, 0, 0));
        // The clipped circle still draws what is on the canvas.
        assert_eq!(at(118, 5), (255, 255, 255));
    }

    #[test]
    fn dashes_cut_a_line_into_the_pattern() {
        let pieces = dash_path(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], &[4.0, 2.0]);
        // 20 px of path: dashes [0,4], [6,10], [12,16], [18,20] along the path.
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces[1], vec![(6.0, 0.0), (10.0, 0.0)]);
        assert_eq!(pieces[2], vec![(10.0, 2.0), (10.0, 6.0)]);
        let dots = dash_path(&[(0.0, 0.0), (10.0, 0.0)], &[0.0, 5.0]);
        assert_eq!(dots.len(), 3);
        assert!(dots.iter().all(|d| d.len() == 2 && d[0] == d[1]));
        assert_eq!(dash_path(&[(0.0, 0.0), (1.0, 1.0)], &[]).len(), 1);
    }
}
