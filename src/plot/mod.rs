//! Concentration–time figures as PNG and SVG bytes, drawn with plotters.
//!
//! The module is pure: a [`Figure`] goes in, bytes or a string come out; it never touches the
//! file system and never prints. Writing the bytes to disk (atomically) is the caller's job.
//!
//! The layout is computed here rather than by plotters' `ChartBuilder` because a journal figure
//! needs things the builder does not give: tick steps that respect days and hours, labels that
//! provably do not overlap, a legend placed where it hides no curve, and text placed on its
//! baseline identically in the bitmap and the SVG backend (the two anchor text differently).
//!
//! Fonts: DejaVu Sans (regular and bold) is compiled in and registered with plotters' `ab_glyph`
//! renderer under the family `sans-serif`, so rendering needs no system font and no fontconfig.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform, RGBAColor, RGBColor};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// One line on a figure: a labelled concentration–time curve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend text, e.g. `"MK-7 180 µg once daily"`.
    pub label: String,
    /// `(time_h, conc)` pairs: time in hours, concentration in the unit named by
    /// [`Figure::y_label`]. Points with a non-finite coordinate are not drawn; the line is broken
    /// there rather than bridged, so a gap in the data stays visible.
    pub points: Vec<(f64, f64)>,
}

/// Scale of the concentration axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YScale {
    /// Linear axis from 0 with about 8 % headroom above the highest value (default).
    #[default]
    Linear,
    /// Base-10 axis spanning whole decades, from the decade above the highest value down to
    /// the decade below the lowest value after each curve's first peak (at most four decades
    /// below the maximum). Values ≤ 0 cannot be shown and are left out.
    Log,
}

/// A complete figure: title, axes and one or more series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figure {
    /// Bold heading at the top left.
    pub title: String,
    /// Smaller grey line under the title, e.g. `"one-compartment model · exact solver"`.
    pub subtitle: Option<String>,
    /// Concentration axis label with its unit, e.g. `"Serum MK-7 (ng/mL)"`.
    pub y_label: String,
    /// The curves, drawn in order with the Okabe–Ito palette (colours repeat after eight).
    pub series: Vec<Series>,
    /// Linear or logarithmic concentration axis.
    pub y_scale: YScale,
    /// Dose times in hours, one list per series in the same order as [`Figure::series`]
    /// (or an empty outer vector for no marks). Drawn as small triangles in the series colour
    /// along the bottom of the plot area, one row per series; narrower triangles, or thin
    /// ticks, when doses are dense. When every series is dosed at the same times, one neutral
    /// grey row serves them all. The legend gains a "Dose" key whenever a mark is shown.
    pub dose_marks_h: Vec<Vec<f64>>,
    /// A horizontal reference line (a detection limit, a target level), drawn dashed in grey
    /// with its label at the right end. The concentration axis is extended to include it.
    pub threshold: Option<Threshold>,
    /// A shaded time window (e.g. where steady state holds), labelled at its top.
    pub shade: Option<Shade>,
    /// Small multiples: one panel per series, stacked, each with its own concentration axis
    /// and a shared time axis (for regimens of very different scale). Default: one overlay.
    pub panels: bool,
    /// Time axis title without its unit, e.g. `"Time since dose"`; the unit, "(h)" or
    /// "(days)", is appended as the span decides. Default `"Time"`.
    pub x_label: Option<String>,
    /// Observed (measured) points, one list per series in the same order as
    /// [`Figure::series`] (or an empty outer vector for none), drawn as open circles in the
    /// series colour over the curves. The concentration axis is extended to include them.
    pub observed: Vec<Vec<(f64, f64)>>,
    /// Unit of a horizontal axis that is not time, e.g. `"ng/mL"` for observed against
    /// predicted: the axis is then labelled `x_label (x_unit)` and never switched to days.
    pub x_unit: Option<String>,
    /// Colour and dash of each series, overriding the Okabe–Ito palette and the dash cycle
    /// (e.g. a sequential colour map for curves ordered by a swept value). Empty (default):
    /// the palette; otherwise one style per series.
    pub series_styles: Vec<SeriesStyle>,
    /// Filled bands (e.g. percentile ribbons) drawn under the curves in the colour of the
    /// series they belong to, in order, each named in the legend after the series.
    pub bands: Vec<Band>,
}

/// Colour and dash of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeriesStyle {
    /// sRGB colour of the line.
    pub rgb: [u8; 3],
    /// Index into the dash cycle (0 solid, 1 dashed, 2 dotted, 3 dash-dot, 4 long dash).
    pub dash: usize,
}

/// A filled band between two curves sampled at the same times, e.g. the 5–95 % range of a
/// population.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Band {
    /// Index of the series whose colour (and panel) the band takes.
    pub series: usize,
    /// Legend text, e.g. `"5–95 % of subjects"`.
    pub label: String,
    /// `(time_h, low, high)` in the units of the concentration axis; non-finite rows are
    /// skipped.
    pub points: Vec<(f64, f64, f64)>,
    /// Strength of the tint over white (0–1). The fill is opaque, so the legend key shows
    /// exactly the colour on the plot: nest bands from the widest in, each a stronger tint.
    pub opacity: f64,
}

/// A horizontal reference line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Threshold {
    /// Position, in the concentration unit of the figure.
    pub value: f64,
    /// Label drawn above the right end of the line, e.g. `"threshold 1 ng/mL"`.
    pub label: String,
}

/// A shaded window of the time axis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shade {
    /// Start (h).
    pub from_h: f64,
    /// End (h).
    pub to_h: f64,
    /// Label drawn at the top left of the window, e.g. `"steady state (≥ 90 %)"`.
    pub label: String,
}

/// Line dash patterns by series index, in multiples of the line width (on, off, on, off …):
/// solid, dashed, dotted, dash-dot, long dash. With the Okabe–Ito colours they keep curves
/// apart in black-and-white print and for readers who cannot tell the colours apart.
const DASHES: [&[f64]; 5] = [
    &[],
    &[5.0, 2.6],
    &[0.0, 2.2],
    &[7.0, 2.4, 0.0, 2.4],
    &[11.0, 3.2],
];

fn series_dash(index: usize) -> &'static [f64] {
    DASHES[index % DASHES.len()]
}

/// Output size of a rendered figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    /// Width in pixels (SVG: user units). Default 1800. Fonts and strokes scale with it.
    pub width_px: u32,
    /// Height in pixels (SVG: user units). Default 1100.
    pub height_px: u32,
    /// Print resolution (dots per inch), when the figure is meant for print at a known size.
    /// It is recorded in the PNG (`pHYs`) and gives the SVG a physical size in mm, and text is
    /// set at least 7 pt (tick labels) to 10 pt (title) at that resolution, so it stays legible
    /// however small the figure is printed. `None` (default): sizes follow the pixel width.
    pub dpi: Option<u32>,
}

impl Default for RenderOptions {
    /// 1800 × 1100 px: a full-width journal figure at about 250 dpi.
    fn default() -> Self {
        Self {
            width_px: 1800,
            height_px: 1100,
            dpi: None,
        }
    }
}

/// Journal column widths at 300 dpi: single column about 85 mm, double column about 175 mm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Journal {
    /// 85 mm wide (1004 px at 300 dpi), 4:3.
    Single,
    /// 175 mm wide (2067 px at 300 dpi), about 16:9.
    Double,
}

impl Journal {
    /// Render options of the preset: 300 dpi, width from the column, height from the aspect.
    pub fn options(self) -> RenderOptions {
        let (w_mm, h_mm) = match self {
            Journal::Single => (85.0, 64.0),
            Journal::Double => (175.0, 100.0),
        };
        let px = |mm: f64| (mm / 25.4 * 300.0).round() as u32;
        RenderOptions {
            width_px: px(w_mm),
            height_px: px(h_mm),
            dpi: Some(300),
        }
    }
}

/// Largest accepted width or height, in pixels. A bigger RGB buffer (over 1.2 GB at the limit)
/// is almost certainly a unit mistake rather than a wish.
pub const MAX_SIDE_PX: u32 = 20_000;

/// Why a figure could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Width or height is 0 or larger than [`MAX_SIDE_PX`].
    #[error(
        "figure size {width_px} x {height_px} px is invalid: each side must be between 1 and {MAX_SIDE_PX} px"
    )]
    InvalidSize {
        /// Requested width in pixels.
        width_px: u32,
        /// Requested height in pixels.
        height_px: u32,
    },
    /// The figure has no series, a series has no points, or no point anywhere is finite.
    #[error("nothing to plot: the figure needs at least one series, and every series at least one finite (time, concentration) point")]
    EmptyFigure,
    /// `dose_marks_h` is neither empty nor one list per series.
    #[error("the figure has {series} series but {dose_mark_sets} lists of dose marks: give one list per series, in the same order, or none")]
    DoseMarksMismatch {
        /// Number of series in the figure.
        series: usize,
        /// Number of dose-mark lists given.
        dose_mark_sets: usize,
    },
    /// A bundled font could not be parsed (a corrupted build, not a user error).
    #[error("the bundled font {face} could not be loaded")]
    Font {
        /// File name of the font face.
        face: &'static str,
    },
    /// The plotting backend failed while drawing.
    #[error("drawing the figure failed: {message}")]
    Draw {
        /// The backend's description of the failure.
        message: String,
    },
    /// The PNG encoder failed.
    #[error("encoding the PNG failed: {message}")]
    Encode {
        /// The encoder's description of the failure.
        message: String,
    },
}

/// Renders `fig` as PNG bytes of exactly `opts.width_px` × `opts.height_px` pixels (8-bit RGB).
///
/// The same figure and options always give the same bytes. Curves are anti-aliased by their
/// own rasterizer; in addition, up to 8 megapixels the figure is drawn at twice the size and
/// averaged down, because plotters does not anti-alias polygons (the dose triangles).
pub fn render_png(fig: &Figure, opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
    validate_size(opts)?;
    let subs = panel_figures(fig);
    let preps = prepare(fig, &subs)?;
    png_with(opts, |root, w, h, print_u| {
        for (prep, layout) in preps.iter().zip(&layouts(&preps, w, h, print_u)) {
            draw_figure(root, prep, layout, Flavor::Bitmap)?;
        }
        Ok(())
    })
}

/// The drawing surface of [`png_with`].
type BitmapArea<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Runs `draw(area, width, height, print scale)` on a white canvas (twice the output size up to
/// 8 megapixels, then averaged down) and encodes the PNG, with the print resolution recorded.
fn png_with(
    opts: &RenderOptions,
    draw: impl FnOnce(&BitmapArea, f64, f64, Option<f64>) -> DrawResult,
) -> Result<Vec<u8>, PlotError> {
    validate_size(opts)?;
    ensure_fonts()?;
    let (w, h) = (opts.width_px, opts.height_px);
    let factor: u32 = if u64::from(w) * u64::from(h) <= 8_000_000 {
        2
    } else {
        1
    };
    let (cw, ch) = (w * factor, h * factor);
    let mut canvas = vec![255u8; cw as usize * ch as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut canvas, (cw, ch)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        draw(
            &root,
            f64::from(cw),
            f64::from(ch),
            print_scale(opts, factor),
        )?;
        root.present().map_err(draw_error)?;
    }
    let rgb = if factor == 1 {
        canvas
    } else {
        downsample(&canvas, cw as usize, ch as usize, factor as usize)
    };

    let mut png = Vec::new();
    {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        use image::ImageEncoder;
        // Figures are mostly flat rows: the "Up" filter compresses them as well as adaptive
        // filtering (within 2 %) at a third of the cost.
        PngEncoder::new_with_quality(&mut png, CompressionType::Default, FilterType::Up)
            .write_image(&rgb, w, h, image::ColorType::Rgb8)
            .map_err(|e| PlotError::Encode {
                message: e.to_string(),
            })?;
    }
    if let Some(dpi) = opts.dpi {
        png = with_phys(&png, dpi);
    }
    Ok(png)
}

/// Inserts a `pHYs` chunk (pixels per metre) after the 33-byte signature and IHDR chunk, so
/// that layout programs place the figure at its print size.
fn with_phys(png: &[u8], dpi: u32) -> Vec<u8> {
    const HEAD: usize = 8 + 25;
    if png.len() < HEAD || &png[12..16] != b"IHDR" {
        return png.to_vec();
    }
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    chunk.extend_from_slice(b"pHYs");
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.push(1); // unit: metre
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..HEAD]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[HEAD..]);
    out
}

/// CRC-32 (ISO-HDLC, as PNG uses), bitwise: a few bytes per figure need no table.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Scale of text and strokes needed for print legibility at `opts.dpi` on a canvas `factor`
/// times the output size: tick labels at 7 pt (34 px at the reference scale 1).
fn print_scale(opts: &RenderOptions, factor: u32) -> Option<f64> {
    opts.dpi
        .map(|dpi| f64::from(dpi) * f64::from(factor) / 72.0 * 7.0 / 34.0)
}

/// Renders `fig` as an SVG document of `opts.width_px` × `opts.height_px` user units.
///
/// Text is emitted as `<text font-family="sans-serif">` and drawn by the viewer; the layout
/// assumes DejaVu Sans metrics, which are at least as wide as common sans-serif faces, so labels
/// do not collide with a narrower font either. The same figure always gives the same string.
///
/// plotters writes integer coordinates, which makes a smooth curve visibly wobble when the
/// SVG is enlarged; the figure is therefore drawn on a grid four times finer, and the document
/// declares its size in pixels with a matching `viewBox`. Polylines get round joins and caps,
/// so the sharp trough at a dose does not end in a miter spike.
pub fn render_svg(fig: &Figure, opts: &RenderOptions) -> Result<String, PlotError> {
    validate_size(opts)?;
    let subs = panel_figures(fig);
    let preps = prepare(fig, &subs)?;
    svg_with(opts, |root, w, h, print_u| {
        for (prep, layout) in preps.iter().zip(&layouts(&preps, w, h, print_u)) {
            draw_figure(root, prep, layout, Flavor::Svg)?;
        }
        Ok(())
    })
}

/// The drawing surface of [`svg_with`].
type SvgArea<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Runs `draw(area, width, height, print scale)` on an SVG canvas four times finer than the
/// output size, then gives the document its size (in mm when a print resolution is set).
fn svg_with(
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

/// Whether a time axis spanning `span_h` hours is labelled in days rather than hours:
/// true when the span exceeds 72 h (3 days), where hour ticks would run into the hundreds.
pub fn time_axis_in_days(span_h: f64) -> bool {
    span_h > 72.0
}

mod chart;
pub use chart::{viridis, Heatmap, HeatmapPanel, Tornado, TornadoBar, TornadoPanel};

// ---------------------------------------------------------------------------------------------
// Fonts, palette, small helpers
// ---------------------------------------------------------------------------------------------

const FONT_REGULAR: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));
const FONT_BOLD: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans-Bold.ttf"
));

/// Registers the bundled faces once per process; plotters keeps them in a global table.
fn ensure_fonts() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), &'static str>> = OnceLock::new();
    let outcome = REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_REGULAR)
            .map_err(|_| "DejaVuSans.ttf")?;
        plotters::style::register_font("sans-serif", FontStyle::Bold, FONT_BOLD)
            .map_err(|_| "DejaVuSans-Bold.ttf")?;
        Ok(())
    });
    outcome.map_err(|face| PlotError::Font { face })
}

/// Okabe & Ito (2008) colour-blind-safe palette, in their recommended order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x00, 0x00, 0x00), // black
];

fn series_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Colour of series `i` of a prepared figure: its own style, or the palette.
fn colour_of(prep: &Prepared, i: usize) -> RGBColor {
    match prep.fig.series_styles.get(i) {
        Some(st) => RGBColor(st.rgb[0], st.rgb[1], st.rgb[2]),
        None => series_colour(i + prep.style_base),
    }
}

/// Dash pattern of series `i` of a prepared figure.
fn dash_of(prep: &Prepared, i: usize) -> &'static [f64] {
    match prep.fig.series_styles.get(i) {
        Some(st) => series_dash(st.dash),
        None => series_dash(i + prep.style_base),
    }
}

/// A band's fill as it looks on white, opaque: for the legend key.
fn band_key_colour(c: RGBColor, opacity: f64) -> RGBAColor {
    let mix = |v: u8| (255.0 - opacity * (255.0 - f64::from(v))).round() as u8;
    RGBAColor(mix(c.0), mix(c.1), mix(c.2), 1.0)
}

const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
const TICK_INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
const SUBTITLE_INK: RGBColor = RGBColor(0x5F, 0x5F, 0x5F);
const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
const LEGEND_BORDER: RGBColor = RGBColor(0xB4, 0xB4, 0xB4);
const DOSE_KEY: RGBColor = RGBColor(0x55, 0x55, 0x55);
const THRESHOLD_INK: RGBColor = RGBColor(0x4D, 0x4D, 0x4D);
/// Dash of the threshold line, in multiples of the axis stroke.
const THRESHOLD_DASH: [f64; 2] = [4.0, 2.5];
const SHADE: RGBAColor = RGBAColor(0x00, 0x00, 0x00, 0.055);
/// The shade as it looks on white, for the legend key (drawn opaque on the legend's ground).
const SHADE_KEY: RGBAColor = RGBAColor(0xF1, 0xF1, 0xF1, 1.0);

fn validate_size(opts: &RenderOptions) -> Result<(), PlotError> {
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

fn draw_error<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> PlotError {
    PlotError::Draw {
        message: e.to_string(),
    }
}

/// Box-filter reduction by an integer factor: exact, fast and deterministic.
fn downsample(src: &[u8], w: usize, h: usize, factor: usize) -> Vec<u8> {
    let (ow, oh) = (w / factor, h / factor);
    let n = (factor * factor) as u32;
    let mut out = vec![0u8; ow * oh * 3];
    for oy in 0..oh {
        for ox in 0..ow {
            let mut acc = [0u32; 3];
            for dy in 0..factor {
                let row = (oy * factor + dy) * w;
                for dx in 0..factor {
                    let i = (row + ox * factor + dx) * 3;
                    acc[0] += u32::from(src[i]);
                    acc[1] += u32::from(src[i + 1]);
                    acc[2] += u32::from(src[i + 2]);
                }
            }
            let o = (oy * ow + ox) * 3;
            for c in 0..3 {
                out[o + c] = ((acc[c] + n / 2) / n) as u8;
            }
        }
    }
    out
}

/// Width in pixels of `text` set in DejaVu Sans at plotters size `size`.
fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::SansSerif, size, style)
        .box_size(text)
        .map(|(w, _)| f64::from(w))
        // Fonts are registered before any layout; a failure here cannot happen, and an
        // estimate keeps layout total rather than threading an error through every measure.
        .unwrap_or(0.6 * size * text.chars().count() as f64)
}

// ---------------------------------------------------------------------------------------------
// Data preparation: ranges of the axes
// ---------------------------------------------------------------------------------------------

/// The figure checked and reduced to what the layout needs: the ranges of both axes.
#[derive(Clone)]
struct Prepared<'a> {
    fig: &'a Figure,
    /// Time axis range in hours.
    x_lo_h: f64,
    x_hi_h: f64,
    /// Time axis labelled in days.
    days: bool,
    /// Concentration axis range in data units (for log: whole decades).
    y_lo: f64,
    y_hi: f64,
    log: bool,
    /// Index of the first series in the whole figure (a panel's series keeps its colour and
    /// dash), and the panel's place: (index, count); (0, 1) for an overlay.
    style_base: usize,
    panel: (usize, usize),
}

/// One single-series figure per panel for a small-multiples figure; empty for an overlay.
fn panel_figures(fig: &Figure) -> Vec<Figure> {
    if !fig.panels || fig.series.len() < 2 {
        return Vec::new();
    }
    fig.series
        .iter()
        .enumerate()
        .map(|(i, s)| Figure {
            title: if i == 0 {
                fig.title.clone()
            } else {
                String::new()
            },
            subtitle: if i == 0 { fig.subtitle.clone() } else { None },
            y_label: fig.y_label.clone(),
            series: vec![s.clone()],
            y_scale: fig.y_scale,
            dose_marks_h: fig
                .dose_marks_h
                .get(i)
                .map_or_else(Vec::new, |m| vec![m.clone()]),
            threshold: fig.threshold.clone(),
            shade: fig.shade.clone(),
            panels: false,
            x_label: fig.x_label.clone(),
            observed: fig
                .observed
                .get(i)
                .map_or_else(Vec::new, |o| vec![o.clone()]),
            x_unit: fig.x_unit.clone(),
            series_styles: fig
                .series_styles
                .get(i)
                .map_or_else(Vec::new, |st| vec![*st]),
            bands: fig
                .bands
                .iter()
                .filter(|b| b.series == i)
                .map(|b| Band {
                    series: 0,
                    ..b.clone()
                })
                .collect(),
        })
        .collect()
}

/// The figure prepared for layout: itself, or its panels sharing the whole figure's time axis.
fn prepare<'a>(fig: &'a Figure, subs: &'a [Figure]) -> Result<Vec<Prepared<'a>>, PlotError> {
    let whole = Prepared::new(fig)?;
    if subs.is_empty() {
        return Ok(vec![whole]);
    }
    subs.iter()
        .enumerate()
        .map(|(i, f)| {
            let mut p = Prepared::new(f)?;
            p.x_lo_h = whole.x_lo_h;
            p.x_hi_h = whole.x_hi_h;
            p.days = whole.days;
            p.style_base = i;
            p.panel = (i, subs.len());
            Ok(p)
        })
        .collect()
}

/// Lays out an overlay, or the panels of a small-multiples figure: equal plot heights, a
/// shared left edge, the title on top, time labels under the last panel only, and one
/// concentration label for the whole stack.
fn layouts(preps: &[Prepared], w: f64, h: f64, print_u: Option<f64>) -> Vec<Layout> {
    let m = Metrics::new(w, h, print_u);
    if preps.len() == 1 {
        return vec![Layout::new(&preps[0], w, h, m, None)];
    }
    let n = preps.len() as f64;
    let first = Layout::build(&preps[0], w, h, m, None, false);
    let top = first.plot.top;
    let bottom = first.plot.bottom;
    let gap = 1.6 * m.tick;
    let ph = ((bottom - top - (n - 1.0) * gap) / n).max(1.0);
    let spec = |i: usize, min_left: f64| PanelSpec {
        top: top + i as f64 * (ph + gap),
        bottom: top + i as f64 * (ph + gap) + ph,
        first: i == 0,
        last: i + 1 == preps.len(),
        min_left,
        y_label_span: (top, bottom),
    };
    let pass = |min_left: f64| -> Vec<Layout> {
        preps
            .iter()
            .enumerate()
            .map(|(i, p)| Layout::new(p, w, h, m, Some(spec(i, min_left))))
            .collect()
    };
    let left = pass(0.0).iter().map(|l| l.plot.left).fold(0.0, f64::max);
    pass(left)
}

/// Where a panel sits on the canvas and which parts it draws.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PanelSpec {
    top: f64,
    bottom: f64,
    /// The first panel draws the title and the concentration label.
    first: bool,
    /// The last panel draws the time tick labels and the time label.
    last: bool,
    /// Left edge of every plot area, so the panels line up.
    min_left: f64,
    /// Vertical extent of the whole stack, for the shared concentration label.
    y_label_span: (f64, f64),
}

impl<'a> Prepared<'a> {
    fn new(fig: &'a Figure) -> Result<Self, PlotError> {
        if fig.series.is_empty() {
            return Err(PlotError::EmptyFigure);
        }
        if !fig.dose_marks_h.is_empty() && fig.dose_marks_h.len() != fig.series.len() {
            return Err(PlotError::DoseMarksMismatch {
                series: fig.series.len(),
                dose_mark_sets: fig.dose_marks_h.len(),
            });
        }
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        if fig
            .series
            .iter()
            .any(|s| !s.points.iter().any(|p| finite(&p)))
        {
            return Err(PlotError::EmptyFigure);
        }
        let all = || {
            fig.series
                .iter()
                .flat_map(|s| s.points.iter())
                .chain(fig.observed.iter().flatten())
                .filter(finite)
        };

        let t_min = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let t_max = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        // Simulations start at time 0; a first sample a little later should not shift the
        // origin, but a window late in a long run (days 20–28) should not waste the axis on 0.
        let mut x_lo = if t_min >= 0.0 && t_min <= 0.1 * t_max {
            0.0
        } else {
            t_min
        };
        let mut x_hi = t_max;
        if x_hi - x_lo <= f64::EPSILON * x_hi.abs().max(1.0) {
            x_lo -= 1.0;
            x_hi += 1.0;
        }
        let days = fig.x_unit.is_none() && time_axis_in_days(x_hi - x_lo);

        let log = fig.y_scale == YScale::Log;
        let thr = fig
            .threshold
            .as_ref()
            .map(|t| t.value)
            .filter(|v| v.is_finite() && (!log || *v > 0.0));
        let band_values = || {
            fig.bands
                .iter()
                .flat_map(|b| b.points.iter())
                .filter(|p| p.0.is_finite() && p.1.is_finite() && p.2.is_finite())
                .flat_map(|p| [p.1, p.2])
        };
        let (y_lo, y_hi) = if log {
            let (mut lo, mut hi) = log_range(fig);
            let band_max = band_values().fold(f64::NEG_INFINITY, f64::max);
            if band_max * 1.08 > hi {
                hi = 10f64.powi((band_max * 1.08).log10().ceil().clamp(-300.0, 300.0) as i32);
            }
            if let Some(t) = thr {
                if t < lo {
                    lo = 10f64.powi(t.log10().floor().clamp(-300.0, 299.0) as i32);
                }
                if t * 1.08 > hi {
                    hi = 10f64.powi((t * 1.08).log10().ceil().clamp(-300.0, 300.0) as i32);
                }
            }
            (lo, hi)
        } else {
            let y_min = all()
                .map(|p| p.1)
                .chain(thr)
                .chain(band_values())
                .fold(f64::INFINITY, f64::min);
            let y_max = all()
                .map(|p| p.1)
                .chain(thr)
                .chain(band_values())
                .fold(f64::NEG_INFINITY, f64::max);
            let lo = if y_min < 0.0 { y_min * 1.08 } else { 0.0 };
            let hi = if y_max > 0.0 { y_max * 1.08 } else { 0.0 };
            // Headroom must not overflow to infinity near f64::MAX.
            let hi = if hi.is_finite() { hi } else { y_max };
            if hi - lo > 0.0 {
                (lo, hi)
            } else {
                (lo, lo + 1.0)
            }
        };
        Ok(Self {
            fig,
            x_lo_h: x_lo,
            x_hi_h: x_hi,
            days,
            y_lo,
            y_hi,
            log,
            style_base: 0,
            panel: (0, 1),
        })
    }

    /// Axis value of a data point: `None` where it cannot be drawn (non-finite, or ≤ 0 on log).
    fn transform(&self, (t, y): (f64, f64)) -> Option<(f64, f64)> {
        if !t.is_finite() || !y.is_finite() {
            return None;
        }
        if self.log {
            (y > 0.0).then(|| (t, y.log10()))
        } else {
            Some((t, y))
        }
    }

    fn y_lo_t(&self) -> f64 {
        if self.log {
            self.y_lo.log10()
        } else {
            self.y_lo
        }
    }

    fn y_hi_t(&self) -> f64 {
        if self.log {
            self.y_hi.log10()
        } else {
            self.y_hi
        }
    }
}

/// Whole-decade range for a log axis.
///
/// Top: the decade above the highest value (with the same 8 % headroom as the linear axis).
/// Bottom: the decade below the lowest value worth showing, but no lower than max/10⁴. After
/// the first dose a curve rises from zero through arbitrarily small values, which would drag
/// the floor to the limit and squeeze the interesting part; so for a series that peaks and
/// falls, its values before the first peak do not set the floor (the rise then enters from the
/// bottom edge, as usual on log plots). A series that only rises keeps two decades below its
/// maximum.
fn log_range(fig: &Figure) -> (f64, f64) {
    let positive = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite() && p.1 > 0.0;
    let y_max = fig
        .series
        .iter()
        .flat_map(|s| s.points.iter())
        .chain(fig.observed.iter().flatten())
        .filter(|p| positive(p))
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    if !y_max.is_finite() {
        // Nothing positive to show: an empty but well-formed axis.
        return (1.0, 10.0);
    }
    let mut floor = f64::INFINITY;
    for s in &fig.series {
        let ys: Vec<f64> = s
            .points
            .iter()
            .filter(|p| positive(p))
            .map(|p| p.1)
            .collect();
        let Some(s_max) = ys.iter().copied().reduce(f64::max) else {
            continue;
        };
        let first_fall = ys.windows(2).position(|w| w[1] < w[0]);
        let s_min = match first_fall {
            Some(i) => ys[i..].iter().copied().fold(f64::INFINITY, f64::min),
            None => ys
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .max(s_max / 100.0),
        };
        floor = floor.min(s_min);
    }
    let floor = floor.max(y_max / 1e4);
    // Exponents are clamped to what f64 holds, so absurd data cannot make an endless axis.
    let e_lo = floor.log10().floor().clamp(-300.0, 299.0) as i32;
    let e_hi = ((y_max * 1.08).log10().ceil().clamp(-300.0, 300.0) as i32).max(e_lo + 1);
    (10f64.powi(e_lo), 10f64.powi(e_hi))
}

// ---------------------------------------------------------------------------------------------
// Ticks
// ---------------------------------------------------------------------------------------------

/// A tick on an axis, in that axis' display units (days, hours, or concentration).
#[derive(Debug, Clone, PartialEq)]
struct Tick {
    value: f64,
    label: Option<String>,
    /// Minor ticks are shorter and get no grid line (log axes only).
    minor: bool,
}

/// Candidate time steps: whole days and weeks for a regimen over days, clock-friendly
/// divisions of a day for hours, and 1-2-5 steps beyond those.
fn time_steps(days: bool) -> Vec<f64> {
    let mut steps: Vec<f64> = Vec::new();
    for k in -3..=0 {
        for m in [1.0, 2.0, 5.0] {
            steps.push(m * 10f64.powi(k));
        }
    }
    steps.retain(|&s| s < 1.0);
    if days {
        steps.extend([1.0, 2.0, 7.0, 14.0, 28.0]);
        steps.extend(one_two_five(1..=6).filter(|&s| s >= 50.0));
    } else {
        steps.extend([1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0]);
        steps.extend(one_two_five(1..=6).filter(|&s| s >= 50.0));
    }
    steps
}

fn one_two_five(decades: std::ops::RangeInclusive<i32>) -> impl Iterator<Item = f64> {
    decades.flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
}

/// Decimals needed to print multiples of `step` exactly (1 → 0, 0.5 → 1, 0.25 → 2).
fn decimals_for(step: f64) -> usize {
    for d in 0..=6 {
        let scaled = step * 10f64.powi(d);
        if (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0) {
            return d as usize;
        }
    }
    6
}

fn format_tick(value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    // "-0" and "-0.0" come from rounding tiny negative noise; print the zero plainly.
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Multiples of `step` within `[lo, hi]`, labelled with the step's decimals.
fn linear_ticks(lo: f64, hi: f64, step: f64) -> Vec<Tick> {
    let decimals = decimals_for(step);
    let eps = step * 1e-9;
    let first = ((lo - eps) / step).ceil();
    let last = ((hi + eps) / step).floor();
    // Only degenerate ranges (near f64::MAX, or a step of 0) get here with too many ticks.
    if !(first.is_finite() && last.is_finite() && last - first <= 1000.0) {
        return Vec::new();
    }
    (first as i64..=last as i64)
        .map(|i| {
            let value = i as f64 * step;
            Tick {
                value,
                label: Some(format_tick(value, decimals)),
                minor: false,
            }
        })
        .collect()
}

/// Picks the step whose tick count is closest to five (ties: fewer ticks) among the steps
/// whose labels keep a clear gap; `fits(step, ticks)` is that test. If no step fits (a tiny
/// figure), the largest candidate is used.
fn choose_ticks(lo: f64, hi: f64, steps: &[f64], fits: impl Fn(f64, &[Tick]) -> bool) -> Vec<Tick> {
    let span = hi - lo;
    let mut best: Option<(f64, Vec<Tick>)> = None;
    for &step in steps {
        let intervals = span / step;
        if !(1.0..=12.0).contains(&intervals) {
            continue;
        }
        let ticks = linear_ticks(lo, hi, step);
        if ticks.len() < 2 || !fits(step, &ticks) {
            continue;
        }
        let score = (intervals - 5.0).abs();
        if best.as_ref().is_none_or(|(b, _)| score <= *b) {
            best = Some((score, ticks));
        }
    }
    best.map(|(_, t)| t).unwrap_or_else(|| {
        let step = steps
            .iter()
            .copied()
            .find(|&s| span / s <= 1.0)
            .unwrap_or(span);
        linear_ticks(lo, hi, step)
    })
}

/// Steps for a linear concentration axis: 1, 2, 5 × 10ᵏ, and 2.5 × 10ᵏ where it still gives
/// whole numbers (25, 250, …) so labels never carry a lone extra decimal.
fn concentration_steps(span: f64) -> Vec<f64> {
    let top = span.log10().ceil().clamp(-300.0, 300.0) as i32;
    let mut steps = Vec::new();
    for k in (top - 3)..=(top + 1) {
        for m in [1.0, 2.0, 2.5, 5.0] {
            if m == 2.5 && k < 1 {
                continue;
            }
            steps.push(m * 10f64.powi(k));
        }
    }
    steps
}

const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

/// Decade label: plain decimals (0.001 … 10000), or a power of ten when `powers` is set — for
/// a whole axis at once, because "0.001" next to "10⁻⁴" reads as two different scales.
fn decade_label(exp: i32, powers: bool) -> String {
    if !powers {
        format_tick(10f64.powi(exp), exp.min(0).unsigned_abs() as usize)
    } else {
        let digits: String = exp
            .unsigned_abs()
            .to_string()
            .chars()
            .filter_map(|c| c.to_digit(10).map(|d| SUPERSCRIPT[d as usize]))
            .collect();
        format!("10{}{}", if exp < 0 { "⁻" } else { "" }, digits)
    }
}

/// Log-axis ticks: labelled decades (every other one when decades are crowded), unlabelled
/// minor ticks at 2–9 when there is room, and labelled 2 and 5 when only one decade is shown.
fn log_ticks(lo: f64, hi: f64, decade_px: f64, label_h: f64) -> Vec<Tick> {
    let e_lo = lo.log10().round() as i32;
    let e_hi = hi.log10().round() as i32;
    // Label every decade when two label heights fit, else every second (or n-th) one.
    let every = ((2.0 * label_h / decade_px).ceil().clamp(1.0, 1000.0)) as i32;
    let powers = e_lo < -3 || e_hi > 4;
    let single = e_hi - e_lo <= 1 && !powers;
    let mut ticks = Vec::new();
    for e in e_lo..=e_hi {
        let base = 10f64.powi(e);
        ticks.push(Tick {
            value: base,
            label: ((e - e_lo) % every == 0).then(|| decade_label(e, powers)),
            minor: false,
        });
        if e == e_hi || decade_px < 40.0 {
            continue;
        }
        for m in 2..=9 {
            let labelled = single && (m == 2 || m == 5);
            let value = f64::from(m) * base;
            ticks.push(Tick {
                value,
                label: labelled.then(|| format_tick(value, e.min(0).unsigned_abs() as usize)),
                minor: !labelled,
            });
        }
    }
    ticks
}

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn width(&self) -> f64 {
        self.right - self.left
    }
    fn height(&self) -> f64 {
        self.bottom - self.top
    }
    fn grow(&self, by: f64) -> Rect {
        Rect {
            left: self.left - by,
            top: self.top - by,
            right: self.right + by,
            bottom: self.bottom + by,
        }
    }
}

/// Font sizes (plotters units) and stroke widths (px), all proportional to the figure size.
#[derive(Debug, Clone, Copy)]
struct Metrics {
    title: f64,
    subtitle: f64,
    axis: f64,
    tick: f64,
    legend: f64,
    pad: f64,
    tick_len: f64,
    tick_gap: f64,
    label_gap: f64,
    series_w: f64,
    axis_w: f64,
    grid_w: f64,
    border_w: f64,
    mark_h: f64,
    mark_w: f64,
}

impl Metrics {
    /// Sizes are set for an 1800 px wide figure and scaled by `u`: the width ratio, limited by
    /// the height ratio so a very wide, short figure keeps room for its plot.
    ///
    /// `print_u`, when given, is a floor on the scale that keeps text legible at print size.
    fn new(w: f64, h: f64, print_u: Option<f64>) -> Self {
        let u = (w / 1800.0).min(h / 900.0).max(print_u.unwrap_or(0.0));
        let font = |px: f64| (px * u).max(1.0);
        Self {
            title: font(48.0),
            subtitle: font(33.0),
            axis: font(40.0), // 2.2 % of 1800 px
            tick: font(34.0), // 1.9 %
            legend: font(33.0),
            pad: 30.0 * u,
            tick_len: 12.0 * u,
            tick_gap: 9.0 * u,
            label_gap: 18.0 * u,
            series_w: 3.0 * u,
            axis_w: 2.0 * u,
            grid_w: 1.5 * u,
            border_w: 1.5 * u,
            mark_h: 17.0 * u,
            mark_w: 15.0 * u,
        }
    }
}

/// Where the legend goes: inside the plot area in a corner free of curves, or, when every
/// corner would hide data, in a row between the subtitle and the plot.
#[derive(Debug, Clone, PartialEq)]
enum LegendPlace {
    Inside(Rect),
    Above { top: f64 },
}

/// One legend entry: a series line or the dose-mark key.
struct LegendEntry {
    label: String,
    key: LegendKey,
}

enum LegendKey {
    Line(RGBColor, &'static [f64]),
    DoseMark,
    Threshold,
    Shade,
    Band(RGBAColor),
}

/// Dose marks of one series, as pixel x positions, in their own row above the time axis.
struct MarkRow {
    colour: RGBColor,
    xs: Vec<f64>,
    /// Triangle base width: narrowed to keep dense doses apart; `None` when even narrow
    /// triangles would merge, and the doses are drawn as thin ticks.
    triangle_w: Option<f64>,
    base_y: f64,
}

/// Everything needed to draw, in canvas pixels.
struct Layout {
    m: Metrics,
    title_size: f64,
    subtitle_size: f64,
    y_label_size: f64,
    title_baseline: f64,
    subtitle_baseline: f64,
    plot: Rect,
    x_ticks: Vec<(f64, Tick)>,
    y_ticks: Vec<(f64, Tick)>,
    x_label: String,
    /// Parts a panel of a small-multiples figure leaves to its neighbours.
    show_title: bool,
    show_x_labels: bool,
    show_y_label: bool,
    y_label_centre: f64,
    /// Threshold line: its y (px).
    threshold: Option<f64>,
    /// Shaded window (named in the legend).
    shade: Option<Rect>,
    x_tick_baseline: f64,
    x_label_baseline: f64,
    y_label_baseline: f64,
    /// Per series: polylines in pixels, already clipped to the plot area.
    paths: Vec<Vec<Vec<(f64, f64)>>>,
    /// Per series: isolated points (no drawable neighbour) to show as dots.
    dots: Vec<Vec<(f64, f64)>>,
    /// Per series: observed points in pixels, inside the plot area.
    observed: Vec<Vec<(f64, f64)>>,
    /// Filled bands, in drawing order.
    bands: Vec<BandPx>,
    marks: Vec<MarkRow>,
    legend: Vec<LegendEntry>,
    /// `None` only while [`Layout::build`] finds no free corner; [`Layout::new`] then lays the
    /// figure out again with the legend above the plot.
    legend_place: Option<LegendPlace>,
    /// A panel's legend found no free corner and sits over the data.
    legend_over_data: bool,
    /// Every row of dose marks is drawn as ticks, so the legend key is a tick too.
    dose_key_tick: bool,
    legend_grid: LegendGrid,
}

/// Text geometry, measured in the bitmap font (DejaVu Sans as rasterized by ab_glyph) and
/// expressed as fractions of the plotters font size.
const ASCENT: f64 = 0.80;
const DESCENT: f64 = 0.22;
/// Half the height of digits and capitals: added to a tick position to centre a label on it.
const HALF_CAP: f64 = 0.31;

impl Layout {
    fn new(prep: &Prepared, w: f64, h: f64, m: Metrics, panel: Option<PanelSpec>) -> Self {
        let inside = Self::build(prep, w, h, m, panel, false);
        if inside.legend_over_data && !prep.log {
            // A panel has no room above its plot: raise its concentration axis until the
            // legend fits in a corner above the data, if that costs less than half the height.
            let (_, bh) = legend_box_size(&inside.legend, m.legend);
            let room = bh + 2.0 * 18.0 * (m.legend / 33.0) + m.series_w + 8.0 * (m.legend / 33.0);
            let need = room / inside.plot.height().max(1.0);
            if need < 0.5 {
                let mut raised = prep.clone();
                raised.y_hi = prep.y_lo + (prep.y_hi - prep.y_lo) / (1.0 - need);
                let l = Self::build(&raised, w, h, m, panel, false);
                if !l.legend_over_data {
                    return l;
                }
            }
            return inside;
        }
        if inside.legend_place.is_some() {
            return inside;
        }
        Self::build(prep, w, h, m, panel, true)
    }

    /// Lays the figure out. With `above` false the legend goes into the first inside corner
    /// that hides no curve, or nowhere (`legend_place` is `None`) if every corner would.
    /// A panel has no room above its plot: its legend takes the upper right corner then.
    fn build(
        prep: &Prepared,
        w: f64,
        h: f64,
        m: Metrics,
        panel: Option<PanelSpec>,
        above: bool,
    ) -> Self {
        let fig = prep.fig;
        let show_title = panel.is_none_or(|p| p.first);
        let show_x_labels = panel.is_none_or(|p| p.last);

        // Title and subtitle shrink to fit rather than run off the canvas.
        let avail = (w - 2.0 * m.pad).max(1.0);
        let fit = |text: &str, size: f64, bold: bool| {
            let tw = text_width(text, size, bold);
            if tw > avail {
                (size * avail / tw).max(size * 0.5)
            } else {
                size
            }
        };
        let title_size = fit(&fig.title, m.title, true);
        let subtitle_size = fig
            .subtitle
            .as_deref()
            .map_or(m.subtitle, |s| fit(s, m.subtitle, false));

        // --- vertical stack from the top ---
        let mut y = m.pad;
        let mut title_baseline = y;
        if !fig.title.is_empty() {
            title_baseline = y + ASCENT * title_size;
            y += (ASCENT + DESCENT) * title_size;
        }
        let mut subtitle_baseline = y;
        if fig.subtitle.as_deref().is_some_and(|s| !s.is_empty()) {
            y += 0.25 * subtitle_size;
            subtitle_baseline = y + ASCENT * subtitle_size;
            y += (ASCENT + DESCENT) * subtitle_size;
        }
        y += 0.6 * m.tick;

        let legend = legend_entries(prep);
        let row_h = ROW_H * m.legend;
        let legend_grid = if above {
            legend_grid(&legend, m.legend, avail)
        } else {
            LegendGrid::default()
        };
        let above_top = y;
        if above {
            y += legend_grid.rows as f64 * row_h + 0.4 * m.tick;
        }
        let top = panel.map_or(y + HALF_CAP * m.tick, |p| p.top);

        let x_tick_line = m.tick_len + m.tick_gap + (ASCENT - 0.14) * m.tick;
        let bottom = panel.map_or(
            h - m.pad - (ASCENT + DESCENT) * m.axis - m.label_gap - DESCENT * m.tick - x_tick_line,
            |p| p.bottom,
        );
        let bottom = bottom.max(top + 1.0);

        // --- y ticks (depend only on the height) ---
        let plot_h = bottom - top;
        let (y_lo_t, y_hi_t) = (prep.y_lo_t(), prep.y_hi_t());
        let y_ticks_raw = if prep.log {
            let decades = (y_hi_t - y_lo_t).max(1.0);
            log_ticks(prep.y_lo, prep.y_hi, plot_h / decades, m.tick)
        } else {
            let span = prep.y_hi - prep.y_lo;
            let steps = concentration_steps(span);
            // Labels need 2.2 label heights per step so they read as separate lines.
            choose_ticks(prep.y_lo, prep.y_hi, &steps, |step, _| {
                step / span * plot_h >= 2.2 * 0.63 * m.tick
            })
        };
        let y_label_w = y_ticks_raw
            .iter()
            .filter_map(|t| t.label.as_deref())
            .map(|l| text_width(l, m.tick, false))
            .fold(0.0, f64::max);

        // The y label shrinks only if longer than the plot (or the stack of panels) is tall.
        let (label_top, label_bottom) = panel.map_or((top, bottom), |p| p.y_label_span);
        let y_label_size = {
            let tw = text_width(&fig.y_label, m.axis, false);
            let room = label_bottom - label_top;
            if tw > room {
                (m.axis * room / tw).max(m.axis * 0.5)
            } else {
                m.axis
            }
        };
        let y_label_baseline = m.pad + ASCENT * m.axis;
        let left =
            m.pad + (ASCENT + DESCENT) * m.axis + m.label_gap + y_label_w + m.tick_gap + m.tick_len;
        let left = panel.map_or(left, |p| left.max(p.min_left));

        // --- x ticks ---
        let unit = if prep.days { 24.0 } else { 1.0 };
        let (x_lo, x_hi) = (prep.x_lo_h / unit, prep.x_hi_h / unit);
        let hi_label_w = text_width(&format_tick(x_hi, 0), m.tick, false);
        let right = (w - m.pad - 0.5 * hi_label_w).max(left + 1.0);
        let plot_w = right - left;
        let steps = time_steps(prep.days);
        let x_ticks_raw = choose_ticks(x_lo, x_hi, &steps, |step, ticks| {
            let widest = ticks
                .iter()
                .filter_map(|t| t.label.as_deref())
                .map(|l| text_width(l, m.tick, false))
                .fold(0.0, f64::max);
            step / (x_hi - x_lo) * plot_w >= widest + 1.2 * m.tick
        });

        let plot = Rect {
            left,
            top,
            right,
            bottom,
        };
        let frame = Frame {
            plot,
            x_lo: prep.x_lo_h,
            x_hi: prep.x_hi_h,
            y_lo: y_lo_t,
            y_hi: y_hi_t,
        };
        let x_ticks = x_ticks_raw
            .into_iter()
            .map(|t| (frame.px(t.value * unit), t))
            .collect();
        let y_ticks = y_ticks_raw
            .into_iter()
            .map(|t| {
                let v = if prep.log { t.value.log10() } else { t.value };
                (frame.py(v), t)
            })
            .collect();

        let x_tick_baseline = bottom + x_tick_line;
        let x_label_baseline = h - m.pad - DESCENT * m.axis;

        // --- curves in pixels ---
        let mut paths = Vec::with_capacity(fig.series.len());
        let mut dots = Vec::with_capacity(fig.series.len());
        for s in &fig.series {
            let (p, d) = series_paths(prep, &frame, &s.points);
            paths.push(p);
            dots.push(d);
        }
        let observed: Vec<Vec<(f64, f64)>> = fig
            .observed
            .iter()
            .map(|pts| {
                pts.iter()
                    .filter_map(|&p| prep.transform(p))
                    .filter(|p| {
                        p.0 >= frame.x_lo
                            && p.0 <= frame.x_hi
                            && p.1 >= frame.y_lo
                            && p.1 <= frame.y_hi
                    })
                    .map(|p| (frame.px(p.0), frame.py(p.1)))
                    .collect()
            })
            .collect();

        let bands: Vec<BandPx> = fig
            .bands
            .iter()
            .filter_map(|b| band_px(prep, &frame, b))
            .collect();

        // --- dose marks, one row per series that has marks in range ---
        let mut marks = Vec::new();
        let row_step = m.mark_h + 5.0 * (m.mark_h / 17.0);
        let mut rows: Vec<(RGBColor, Vec<f64>)> = fig
            .dose_marks_h
            .iter()
            .enumerate()
            .map(|(i, times)| {
                let mut ts: Vec<f64> = times
                    .iter()
                    .copied()
                    .filter(|t| t.is_finite() && *t >= prep.x_lo_h && *t <= prep.x_hi_h)
                    .collect();
                ts.sort_by(f64::total_cmp);
                (colour_of(prep, i), ts)
            })
            .collect();
        // Series dosed at the same times share one neutral row: identical coloured rows
        // stacked up would only repeat themselves and eat into the plot.
        if rows.len() > 1 && rows.windows(2).all(|w| w[0].1 == w[1].1) {
            rows.truncate(1);
            rows[0].0 = DOSE_KEY;
        }
        for (colour, times) in rows {
            if times.is_empty() {
                continue;
            }
            let xs: Vec<f64> = times.iter().map(|&t| frame.px(t)).collect();
            let min_gap = xs
                .windows(2)
                .map(|p| p[1] - p[0])
                .fold(f64::INFINITY, f64::min);
            marks.push(MarkRow {
                colour,
                triangle_w: {
                    let fit = m.mark_w.min(0.75 * min_gap);
                    (fit >= 0.4 * m.mark_w).then_some(fit)
                },
                base_y: bottom - m.axis_w - 3.0 * (m.mark_h / 17.0) - marks.len() as f64 * row_step,
                xs,
            });
        }
        let marks_top = marks.last().map_or(bottom, |r| r.base_y - m.mark_h);
        let dose_key_tick = !marks.is_empty() && marks.iter().all(|r| r.triangle_w.is_none());

        // --- threshold line and shaded window ---
        // Both are named in the legend: a label on the line or in the band would sit on the
        // curves, which cross them by design.
        let threshold = fig.threshold.as_ref().and_then(|t| {
            let v = if prep.log {
                (t.value > 0.0).then(|| t.value.log10())?
            } else {
                t.value
            };
            let y = frame.py(v);
            (y >= top - 0.5 && y <= bottom + 0.5).then_some(y)
        });
        let shade = fig.shade.as_ref().and_then(|sh| {
            let a = frame.px(sh.from_h.max(prep.x_lo_h));
            let b = frame.px(sh.to_h.min(prep.x_hi_h));
            (b > a && sh.from_h.is_finite() && sh.to_h.is_finite()).then_some(Rect {
                left: a,
                top,
                right: b,
                bottom,
            })
        });
        let threshold_path: Vec<Vec<Vec<(f64, f64)>>> = threshold
            .map(|y| vec![vec![(left, y), (right, y)]])
            .into_iter()
            .collect();

        // --- legend ---
        let mut legend_over_data = false;
        let legend_place = if above && panel.is_none() {
            Some(LegendPlace::Above { top: above_top })
        } else {
            let (bw, bh) = legend_box_size(&legend, m.legend);
            let inset = 18.0 * (m.legend / 33.0);
            let lower_bottom = marks_top - inset;
            let candidates = [
                // Upper left first: accumulating PK curves rise to the right.
                (left + inset, top + inset),
                (right - inset - bw, top + inset),
                (right - inset - bw, lower_bottom - bh),
                (left + inset, lower_bottom - bh),
            ];
            let clearance = m.series_w + 8.0 * (m.legend / 33.0);
            candidates
                .iter()
                .map(|&(x, y)| Rect {
                    left: x,
                    top: y,
                    right: x + bw,
                    bottom: y + bh,
                })
                .find(|r| {
                    let g = r.grow(clearance);
                    r.left >= left
                        && r.right <= right
                        && r.top >= top
                        && r.bottom <= bottom
                        && !hits_curves(&g, &paths, &dots)
                        && !hits_curves(&g, &[], &observed)
                        && !hits_curves(&g, &threshold_path, &[])
                        && !bands.iter().any(|b| b.hits(&g))
                })
                .map(LegendPlace::Inside)
                .or_else(|| {
                    // A panel has no room above: the upper right corner, over the curves.
                    legend_over_data = true;
                    panel.map(|_| {
                        let (x, y) = candidates[1];
                        LegendPlace::Inside(Rect {
                            left: x,
                            top: y,
                            right: x + bw,
                            bottom: y + bh,
                        })
                    })
                })
        };

        Self {
            m,
            title_size,
            subtitle_size,
            y_label_size,
            title_baseline,
            subtitle_baseline,
            plot,
            x_ticks,
            y_ticks,
            x_label: format!(
                "{} ({})",
                fig.x_label.as_deref().unwrap_or("Time"),
                fig.x_unit
                    .as_deref()
                    .unwrap_or(if prep.days { "days" } else { "h" })
            ),
            show_title,
            show_x_labels,
            show_y_label: panel.is_none_or(|p| p.first),
            y_label_centre: (label_top + label_bottom) / 2.0,
            threshold,
            shade,
            x_tick_baseline,
            x_label_baseline,
            y_label_baseline,
            paths,
            dots,
            observed,
            bands,
            marks,
            legend,
            legend_place,
            legend_over_data: legend_over_data && panel.is_some(),
            dose_key_tick,
            legend_grid,
        }
    }
}

/// Linear map from axis values (hours; concentration or its log10) to canvas pixels.
struct Frame {
    plot: Rect,
    x_lo: f64,
    x_hi: f64,
    y_lo: f64,
    y_hi: f64,
}

impl Frame {
    fn px(&self, t: f64) -> f64 {
        self.plot.left + (t - self.x_lo) / (self.x_hi - self.x_lo) * self.plot.width()
    }
    fn py(&self, v: f64) -> f64 {
        self.plot.bottom - (v - self.y_lo) / (self.y_hi - self.y_lo) * self.plot.height()
    }
}

/// Liang–Barsky: the part of segment `a`–`b` inside the box, as parameters `0 ≤ t0 ≤ t1 ≤ 1`.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    lo: (f64, f64),
    hi: (f64, f64),
) -> Option<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, a.0 - lo.0),
        (dx, hi.0 - a.0),
        (-dy, a.1 - lo.1),
        (dy, hi.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((t0, t1))
}

/// Turns one series into pixel polylines clipped to the axis ranges, broken at points that
/// cannot be drawn, plus the isolated drawable points that have no segment of their own.
#[allow(clippy::type_complexity)]
fn series_paths(
    prep: &Prepared,
    frame: &Frame,
    points: &[(f64, f64)],
) -> (Vec<Vec<(f64, f64)>>, Vec<(f64, f64)>) {
    let lo = (frame.x_lo, frame.y_lo);
    let hi = (frame.x_hi, frame.y_hi);
    let to_px = |p: (f64, f64)| (frame.px(p.0), frame.py(p.1));
    let tp: Vec<Option<(f64, f64)>> = points.iter().map(|&p| prep.transform(p)).collect();

    let mut paths = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let flush = |current: &mut Vec<(f64, f64)>, paths: &mut Vec<Vec<(f64, f64)>>| {
        if current.len() >= 2 {
            paths.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    for pair in tp.windows(2) {
        let (Some(a), Some(b)) = (pair[0], pair[1]) else {
            flush(&mut current, &mut paths);
            continue;
        };
        let Some((t0, t1)) = clip_segment(a, b, lo, hi) else {
            flush(&mut current, &mut paths);
            continue;
        };
        let at = |t: f64| (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
        if t0 > 0.0 || current.is_empty() {
            flush(&mut current, &mut paths);
            current.push(to_px(at(t0)));
        }
        current.push(to_px(at(t1)));
        if t1 < 1.0 {
            flush(&mut current, &mut paths);
        }
    }
    flush(&mut current, &mut paths);

    let inside = |p: (f64, f64)| p.0 >= lo.0 && p.0 <= hi.0 && p.1 >= lo.1 && p.1 <= hi.1;
    let dots = (0..tp.len())
        .filter_map(|i| {
            let p = tp[i]?;
            let lonely =
                (i == 0 || tp[i - 1].is_none()) && tp.get(i + 1).is_none_or(Option::is_none);
            (lonely && inside(p)).then(|| to_px(p))
        })
        .collect();
    (paths, dots)
}

/// A band in pixels: its outline as one polygon and its columns for hit tests.
struct BandPx {
    fill: RGBAColor,
    polygon: Vec<(f64, f64)>,
    /// (x, top y, bottom y) at each sample.
    columns: Vec<(f64, f64, f64)>,
}

impl BandPx {
    fn hits(&self, r: &Rect) -> bool {
        self.columns.iter().any(|&(x, top, bottom)| {
            x >= r.left && x <= r.right && top <= r.bottom && bottom >= r.top
        })
    }
}

/// A band's polygon clamped to the axis ranges (values ≤ 0 on a log axis sit on its floor).
fn band_px(prep: &Prepared, frame: &Frame, b: &Band) -> Option<BandPx> {
    let (lo, hi) = (prep.y_lo_t(), prep.y_hi_t());
    let axis = |v: f64| -> f64 {
        let t = if prep.log {
            if v > 0.0 {
                v.log10()
            } else {
                lo
            }
        } else {
            v
        };
        frame.py(t.clamp(lo, hi))
    };
    let columns: Vec<(f64, f64, f64)> = b
        .points
        .iter()
        .filter(|p| {
            p.0.is_finite()
                && p.1.is_finite()
                && p.2.is_finite()
                && p.0 >= prep.x_lo_h
                && p.0 <= prep.x_hi_h
        })
        .map(|&(t, l, h)| (frame.px(t), axis(h.max(l)), axis(l.min(h))))
        .collect();
    if columns.len() < 2 {
        return None;
    }
    let polygon = columns
        .iter()
        .map(|c| (c.0, c.1))
        .chain(columns.iter().rev().map(|c| (c.0, c.2)))
        .collect();
    Some(BandPx {
        fill: band_key_colour(colour_of(prep, b.series), b.opacity.clamp(0.0, 1.0)),
        polygon,
        columns,
    })
}

fn hits_curves(r: &Rect, paths: &[Vec<Vec<(f64, f64)>>], dots: &[Vec<(f64, f64)>]) -> bool {
    let lo = (r.left, r.top);
    let hi = (r.right, r.bottom);
    let inside = |p: &(f64, f64)| p.0 >= lo.0 && p.0 <= hi.0 && p.1 >= lo.1 && p.1 <= hi.1;
    paths.iter().flatten().any(|path| {
        path.windows(2)
            .any(|s| clip_segment(s[0], s[1], lo, hi).is_some())
    }) || dots.iter().flatten().any(inside)
}

fn legend_entries(prep: &Prepared) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = prep
        .fig
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendEntry {
            label: s.label.clone(),
            key: LegendKey::Line(colour_of(prep, i), dash_of(prep, i)),
        })
        .collect();
    entries.extend(prep.fig.bands.iter().map(|b| LegendEntry {
        label: b.label.clone(),
        key: LegendKey::Band(band_key_colour(colour_of(prep, b.series), b.opacity)),
    }));
    let any_marks = prep
        .fig
        .dose_marks_h
        .iter()
        .flatten()
        .any(|t| t.is_finite() && *t >= prep.x_lo_h && *t <= prep.x_hi_h);
    if any_marks {
        entries.push(LegendEntry {
            label: "Dose".to_string(),
            key: LegendKey::DoseMark,
        });
    }
    if let Some(t) = &prep.fig.threshold {
        entries.push(LegendEntry {
            label: t.label.clone(),
            key: LegendKey::Threshold,
        });
    }
    if let Some(sh) = &prep.fig.shade {
        entries.push(LegendEntry {
            label: sh.label.clone(),
            key: LegendKey::Shade,
        });
    }
    entries
}

/// Legend proportions, as multiples of the legend font size.
const KEY_LEN: f64 = 2.6;
const KEY_GAP: f64 = 0.5;
const BOX_PAD_X: f64 = 0.6;
const BOX_PAD_Y: f64 = 0.4;
const ROW_H: f64 = 1.45;
const ITEM_GAP: f64 = 1.6;

fn entry_width(e: &LegendEntry, size: f64) -> f64 {
    (KEY_LEN + KEY_GAP) * size + text_width(&e.label, size, false)
}

fn legend_box_size(entries: &[LegendEntry], size: f64) -> (f64, f64) {
    let widest = entries
        .iter()
        .map(|e| entry_width(e, size))
        .fold(0.0, f64::max);
    (
        widest + 2.0 * BOX_PAD_X * size,
        entries.len() as f64 * ROW_H * size + 2.0 * BOX_PAD_Y * size,
    )
}

/// Positions of the legend entries above the plot, relative to its top-left corner.
#[derive(Debug, Clone, Default, PartialEq)]
struct LegendGrid {
    /// Per entry: horizontal offset and row index.
    slots: Vec<(f64, usize)>,
    rows: usize,
    width: f64,
}

/// One line of entries when they fit in `avail`; otherwise equal-width columns, so that the
/// rows line up like a table instead of drifting with label lengths.
fn legend_grid(entries: &[LegendEntry], size: f64, avail: f64) -> LegendGrid {
    let widths: Vec<f64> = entries.iter().map(|e| entry_width(e, size)).collect();
    let gap = ITEM_GAP * size;
    let one_line = widths.iter().sum::<f64>() + gap * widths.len().saturating_sub(1) as f64;
    if one_line <= avail || entries.len() <= 1 {
        let mut x = 0.0;
        let slots = widths
            .iter()
            .map(|w| {
                let slot = (x, 0);
                x += w + gap;
                slot
            })
            .collect();
        return LegendGrid {
            slots,
            rows: usize::from(!entries.is_empty()),
            width: one_line,
        };
    }
    let col_w = widths.iter().copied().fold(0.0, f64::max) + gap;
    let cols = (((avail + gap) / col_w).floor() as usize).clamp(1, entries.len());
    let rows = entries.len().div_ceil(cols);
    LegendGrid {
        slots: (0..entries.len())
            .map(|i| ((i % cols) as f64 * col_w, i / cols))
            .collect(),
        rows,
        width: cols as f64 * col_w - gap,
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

/// Backend quirks that the drawing code must compensate for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// plotters' ab_glyph rasterizer puts the baseline half a font size below a top anchor and
    /// builds thick polylines as one self-intersecting polygon (holes at sharp peaks).
    Bitmap,
    /// The SVG backend writes `dy="0.76em"` for a top anchor, with `font-size = size / 1.24`.
    Svg,
}

impl Flavor {
    /// Distance from a top anchor down to the baseline, as a fraction of the font size.
    fn baseline_drop(self) -> f64 {
        match self {
            Flavor::Bitmap => 0.5,
            Flavor::Svg => 0.76 / 1.24,
        }
    }
}

struct Painter<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    flavor: Flavor,
}

fn px(v: f64) -> i32 {
    // `as` saturates and maps NaN to 0: off-canvas geometry is harmless, never a panic.
    v.round() as i32
}

fn stroke(w: f64) -> u32 {
    w.round().max(1.0) as u32
}

type DrawResult = Result<(), PlotError>;

impl<DB: DrawingBackend> Painter<'_, DB> {
    /// Horizontal text whose baseline is at `baseline`, aligned on `x` as `align` says.
    #[allow(clippy::too_many_arguments)]
    fn text(
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
        let ts = TextStyle::from(FontDesc::new(FontFamily::SansSerif, size, style))
            .pos(Pos::new(align, VPos::Top))
            .color(colour);
        let y = baseline - self.flavor.baseline_drop() * size;
        self.area
            .draw(&Text::new(s.to_string(), (px(x), px(y)), ts))
            .map_err(draw_error)
    }

    /// Text reading upwards, centred on `centre_y`, its baseline on the vertical `baseline_x`.
    fn vertical_text(&self, s: &str, baseline_x: f64, centre_y: f64, size: f64) -> DrawResult {
        let ts = TextStyle::from(FontDesc::new(
            FontFamily::SansSerif,
            size,
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

    fn segment(&self, a: (f64, f64), b: (f64, f64), colour: &RGBColor, width: f64) -> DrawResult {
        let style = colour.stroke_width(stroke(width));
        self.area
            .draw(&PathElement::new(
                vec![(px(a.0), px(a.1)), (px(b.0), px(b.1))],
                style,
            ))
            .map_err(draw_error)
    }

    /// A thick polyline with round joins and caps.
    fn polyline(&self, pts: &[(f64, f64)], colour: &RGBColor, width: f64) -> DrawResult {
        self.polylines(&[pts.to_vec()], colour, width)
    }

    /// Several thick polylines of one colour (e.g. the dashes of one curve), round joins and
    /// caps; a piece of zero length is a round dot.
    fn polylines(&self, pieces: &[Vec<(f64, f64)>], colour: &RGBColor, width: f64) -> DrawResult {
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

    fn fill_rect(&self, r: &Rect, colour: RGBAColor) -> DrawResult {
        self.area
            .draw(&Rectangle::new(
                [(px(r.left), px(r.top)), (px(r.right), px(r.bottom))],
                colour.filled(),
            ))
            .map_err(draw_error)
    }

    /// Rectangle outline as four filled bands centred on the edges: the SVG backend ignores
    /// the stroke width of a rectangle, and bands give square corners in both backends.
    fn stroke_rect(&self, r: &Rect, colour: &RGBColor, width: f64) -> DrawResult {
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
    fn polygon(&self, pts: &[(f64, f64)], fill: RGBAColor) -> DrawResult {
        let mut ipts: Vec<(i32, i32)> = pts.iter().map(|p| (px(p.0), px(p.1))).collect();
        ipts.dedup();
        self.area
            .draw(&Polygon::new(ipts, fill.filled()))
            .map_err(draw_error)
    }

    /// Upward triangle with its base centred on (`x`, `base_y`).
    fn triangle(&self, x: f64, base_y: f64, w: f64, h: f64, colour: &RGBColor) -> DrawResult {
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
fn dash_path(path: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
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

fn draw_figure<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    prep: &Prepared,
    l: &Layout,
    flavor: Flavor,
) -> DrawResult {
    let p = Painter { area, flavor };
    let m = &l.m;
    let plot = &l.plot;

    // The shaded window under everything.
    if let Some(band) = &l.shade {
        p.fill_rect(band, SHADE)?;
    }

    // Grid first, so everything else sits on top of it.
    for (y, t) in l.y_ticks.iter().filter(|(_, t)| !t.minor) {
        if (*y - plot.bottom).abs() > 0.5 && t.value != prep.y_lo {
            p.segment((plot.left, *y), (plot.right, *y), &GRID, m.grid_w)?;
        }
    }
    for (x, _) in &l.x_ticks {
        if (*x - plot.left).abs() > 0.5 {
            p.segment((*x, plot.top), (*x, plot.bottom), &GRID, m.grid_w)?;
        }
    }

    // Bands over the grid, under every line.
    for b in &l.bands {
        p.polygon(&b.polygon, b.fill)?;
    }

    // The threshold line under the curves, dashed and grey like a grid line that matters.
    if let Some(y) = l.threshold {
        let pattern: Vec<f64> = THRESHOLD_DASH.iter().map(|k| k * m.axis_w).collect();
        p.polylines(
            &dash_path(&[(plot.left, y), (plot.right, y)], &pattern),
            &THRESHOLD_INK,
            m.axis_w,
        )?;
    }

    // Dose marks under the curves: a curve passing a mark stays readable.
    for row in &l.marks {
        for &x in &row.xs {
            if let Some(tw) = row.triangle_w {
                p.triangle(x, row.base_y, tw, m.mark_h, &row.colour)?;
            } else {
                p.segment(
                    (x, row.base_y),
                    (x, row.base_y - m.mark_h),
                    &row.colour,
                    m.axis_w,
                )?;
            }
        }
    }

    for (i, (paths, dots)) in l.paths.iter().zip(&l.dots).enumerate() {
        let colour = colour_of(prep, i);
        let pattern: Vec<f64> = dash_of(prep, i).iter().map(|k| k * m.series_w).collect();
        let pieces: Vec<Vec<(f64, f64)>> = paths
            .iter()
            .flat_map(|pt| dash_path(pt, &pattern))
            .collect();
        p.polylines(&pieces, &colour, m.series_w)?;
        for &d in dots {
            // An isolated sample has no segment; show it as a dot a little wider than the line.
            p.polyline(&[d, d], &colour, 2.4 * m.series_w)?;
        }
    }

    // Observed points over the curves: open circles (a white disc, then the ring), so a
    // curve passing through a point leaves it readable.
    for (i, pts) in l.observed.iter().enumerate() {
        let colour = series_colour(i + prep.style_base);
        let r = 4.5 * m.series_w;
        for &(x, y) in pts {
            let ring: Vec<(f64, f64)> = (0..=32)
                .map(|k| {
                    let a = f64::from(k) / 32.0 * std::f64::consts::TAU;
                    (x + r * a.cos(), y + r * a.sin())
                })
                .collect();
            p.polyline(&[(x, y), (x, y)], &WHITE, 2.0 * r)?;
            p.polyline(&ring, &colour, m.series_w)?;
        }
    }

    // Axes: left and bottom only; a closed box adds ink without information.
    let half = m.axis_w / 2.0;
    p.segment(
        (plot.left, plot.top),
        (plot.left, plot.bottom + half),
        &INK,
        m.axis_w,
    )?;
    p.segment(
        (plot.left - half, plot.bottom),
        (plot.right, plot.bottom),
        &INK,
        m.axis_w,
    )?;
    for (x, t) in &l.x_ticks {
        p.segment(
            (*x, plot.bottom),
            (*x, plot.bottom + m.tick_len),
            &INK,
            m.axis_w,
        )?;
        if let Some(label) = t.label.as_ref().filter(|_| l.show_x_labels) {
            p.text(
                label,
                *x,
                l.x_tick_baseline,
                HPos::Center,
                m.tick,
                false,
                &TICK_INK,
            )?;
        }
    }
    for (y, t) in &l.y_ticks {
        let len = if t.minor {
            0.55 * m.tick_len
        } else {
            m.tick_len
        };
        p.segment((plot.left - len, *y), (plot.left, *y), &INK, m.axis_w)?;
        if let Some(label) = &t.label {
            let x = plot.left - m.tick_len - m.tick_gap;
            p.text(
                label,
                x,
                *y + HALF_CAP * m.tick,
                HPos::Right,
                m.tick,
                false,
                &TICK_INK,
            )?;
        }
    }

    // Axis labels, centred on the plot area (the y label on the whole stack of panels).
    let centre_x = (plot.left + plot.right) / 2.0;
    if l.show_x_labels {
        p.text(
            &l.x_label,
            centre_x,
            l.x_label_baseline,
            HPos::Center,
            m.axis,
            false,
            &INK,
        )?;
    }
    if l.show_y_label {
        p.vertical_text(
            &prep.fig.y_label,
            l.y_label_baseline,
            l.y_label_centre,
            l.y_label_size,
        )?;
    }

    // Title and subtitle, aligned with the left edge of the figure's content.
    if l.show_title && !prep.fig.title.is_empty() {
        p.text(
            &prep.fig.title,
            m.pad,
            l.title_baseline,
            HPos::Left,
            l.title_size,
            true,
            &INK,
        )?;
    }
    if let Some(sub) = prep.fig.subtitle.as_deref().filter(|s| !s.is_empty()) {
        p.text(
            sub,
            m.pad,
            l.subtitle_baseline,
            HPos::Left,
            l.subtitle_size,
            false,
            &SUBTITLE_INK,
        )?;
    }

    draw_legend(&p, l)
}

fn draw_legend<DB: DrawingBackend>(p: &Painter<DB>, l: &Layout) -> DrawResult {
    let m = &l.m;
    let size = m.legend;
    let entry = |e: &LegendEntry, x: f64, centre_y: f64| -> DrawResult {
        match e.key {
            LegendKey::Line(c, dash) => {
                let pattern: Vec<f64> = dash.iter().map(|k| k * m.series_w).collect();
                p.polylines(
                    &dash_path(&[(x, centre_y), (x + KEY_LEN * size, centre_y)], &pattern),
                    &c,
                    m.series_w,
                )?
            }
            LegendKey::Shade => {
                let r = Rect {
                    left: x,
                    top: centre_y - 0.45 * size,
                    right: x + KEY_LEN * size,
                    bottom: centre_y + 0.45 * size,
                };
                p.fill_rect(&r, SHADE_KEY)?;
            }
            LegendKey::Band(c) => {
                let r = Rect {
                    left: x,
                    top: centre_y - 0.45 * size,
                    right: x + KEY_LEN * size,
                    bottom: centre_y + 0.45 * size,
                };
                p.fill_rect(&r, c)?;
            }
            LegendKey::Threshold => {
                let pattern: Vec<f64> = THRESHOLD_DASH.iter().map(|k| k * m.axis_w).collect();
                p.polylines(
                    &dash_path(&[(x, centre_y), (x + KEY_LEN * size, centre_y)], &pattern),
                    &THRESHOLD_INK,
                    m.axis_w,
                )?
            }
            LegendKey::DoseMark if l.dose_key_tick => {
                let cx = x + KEY_LEN * size / 2.0;
                let base = centre_y + m.mark_h / 2.0;
                p.segment((cx, base), (cx, base - m.mark_h), &DOSE_KEY, m.axis_w)?
            }
            LegendKey::DoseMark => p.triangle(
                x + KEY_LEN * size / 2.0,
                centre_y + m.mark_h / 2.0,
                m.mark_w,
                m.mark_h,
                &DOSE_KEY,
            )?,
        }
        let tx = x + (KEY_LEN + KEY_GAP) * size;
        // Legend labels mix cases; centring on half the x-height looks centred to the eye.
        p.text(
            &e.label,
            tx,
            centre_y + 0.27 * size,
            HPos::Left,
            size,
            false,
            &INK,
        )
    };
    match &l.legend_place {
        None => {}
        Some(LegendPlace::Inside(r)) => {
            p.fill_rect(r, RGBAColor(255, 255, 255, 0.88))?;
            p.stroke_rect(r, &LEGEND_BORDER, m.border_w)?;
            for (i, e) in l.legend.iter().enumerate() {
                let cy = r.top + BOX_PAD_Y * size + (i as f64 + 0.5) * ROW_H * size;
                entry(e, r.left + BOX_PAD_X * size, cy)?;
            }
        }
        Some(LegendPlace::Above { top }) => {
            // Aligned with the plot's left edge when it fits there, else with the margin.
            let grid = &l.legend_grid;
            let x0 = if l.plot.left + grid.width <= l.plot.right {
                l.plot.left
            } else {
                m.pad
            };
            for (e, &(dx, row)) in l.legend.iter().zip(&grid.slots) {
                entry(e, x0 + dx, top + (row as f64 + 0.5) * ROW_H * size)?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
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
            dpi: None,
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
        assert!(svg.starts_with("<svg width=\"1800\" height=\"1100\" viewBox=\"0 0 7200 4400\""));
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
    fn log_floor_is_limited_to_four_decades_below_max() {
        let fig = Figure {
            series: vec![Series {
                label: "steep".into(),
                points: vec![(0.0, 500.0), (1.0, 1e-9), (2.0, 1e-12)],
            }],
            y_scale: YScale::Log,
            ..Figure::default()
        };
        let prep = Prepared::new(&fig).unwrap();
        assert_eq!((prep.y_lo, prep.y_hi), (0.01, 1000.0));
    }

    #[test]
    fn decade_labels() {
        assert_eq!(decade_label(-2, false), "0.01");
        assert_eq!(decade_label(0, false), "1");
        assert_eq!(decade_label(3, false), "1000");
        assert_eq!(decade_label(6, true), "10⁶");
        assert_eq!(decade_label(-5, true), "10⁻⁵");
        assert_eq!(decade_label(0, true), "10⁰");
        let labels: Vec<_> = log_ticks(1e-4, 10.0, 200.0, 34.0)
            .into_iter()
            .filter_map(|t| t.label)
            .collect();
        assert_eq!(labels, ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹"]);
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
                dpi: None,
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
                dpi: None,
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
        assert_eq!(
            (opts.width_px, opts.height_px, opts.dpi),
            (1004, 756, Some(300))
        );
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
            dpi: None,
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
        let ls = layouts(&preps, 2000.0, 2000.0, None);
        assert_eq!(ls.len(), 2);
        assert_eq!(ls[0].plot.left, ls[1].plot.left, "panels line up");
        assert!((ls[0].plot.height() - ls[1].plot.height()).abs() < 1e-9);
        assert!(ls[0].plot.bottom < ls[1].plot.top);
        assert_eq!(
            (preps[0].x_lo_h, preps[0].x_hi_h),
            (preps[1].x_lo_h, preps[1].x_hi_h)
        );
    }

    fn two_series() -> Figure {
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
}
