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
//!
//! This file holds the public types and entry points; each submodule has one job: `style`
//! (fonts, colours, dashes), `prepare` (axis ranges), `ticks`, `layout`, `legend` and `geom`
//! (where things go, in pixels), `paint` (the painter), `draw` (a figure's drawing sequence),
//! `canvas`, `raster` and `svg` (the outputs), and `heatmap` and `tornado` for the charts that
//! are not concentration–time figures, with what they share in `chart`.

mod canvas;
mod chart;
mod draw;
mod formats;
mod geom;
mod heatmap;
mod layout;
mod legend;
mod paint;
mod prepare;
mod raster;
mod style;
mod svg;
mod ticks;
mod tornado;

#[cfg(test)]
mod print_tests;
#[cfg(test)]
mod tests;

pub use formats::{render_files, Format, Formats, Render};
pub use heatmap::{viridis, Heatmap, HeatmapPanel};
pub use tornado::{Tornado, TornadoBar, TornadoPanel};

use canvas::validate_size;
use draw::Panels;
use prepare::{panel_figures, prepare, prepare_stack};

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

/// Scale of the horizontal axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XScale {
    /// Linear (default): time, in hours or days as the span decides.
    #[default]
    Linear,
    /// Base-10 over whole decades, for a quantity that is not time (e.g. a dose spanning µg to
    /// tens of mg); needs `x_unit`. Values ≤ 0 are not drawn.
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
    /// A limit line (a limit of quantification or detection) besides the threshold: drawn
    /// dotted in the threshold's grey and named in the legend after it, so a figure can show
    /// a target and a limit at once. The concentration axis is extended to include it.
    pub limit: Option<Threshold>,
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
    /// Linear or logarithmic horizontal axis.
    pub x_scale: XScale,
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
    /// Filled or outlined markers on chosen points (the samples a λz regression used, Cmax),
    /// drawn over the observed points and named in the legend. The axes include them.
    pub markers: Vec<Markers>,
    /// Thin dashed dark lines tied to a series (a fitted terminal slope), drawn over the
    /// curves and named in the legend. The axes include them.
    pub guides: Vec<Guide>,
    /// Figures stacked under this one on the same time axis, each with its own vertical axis,
    /// label, curves and legend (e.g. the serum level above, a marker's change below); the
    /// plot areas share their left edge and only the last draws the time labels. Their titles
    /// are not drawn. Default: none.
    pub stack: Vec<Figure>,
}

/// The shape of a set of [`Markers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarkerShape {
    /// A disc filled in the series colour, the size of an observed circle (it fills one).
    #[default]
    Disc,
    /// An upward triangle outlined in dark ink around the point.
    Triangle,
    /// A square outlined in dark ink around the point.
    Square,
}

/// Markers of one shape on points of one series (its colour and panel).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Markers {
    /// Index of the series the markers belong to.
    pub series: usize,
    /// Legend text, e.g. `"used for λz (5 samples)"`.
    pub label: String,
    /// Their shape.
    pub shape: MarkerShape,
    /// `(time_h, conc)` of each marker; non-finite points (and ≤ 0 on a log axis) are skipped.
    pub points: Vec<(f64, f64)>,
}

/// A thin dashed dark line tied to one series (its panel), e.g. a fitted terminal slope.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Guide {
    /// Index of the series the line belongs to.
    pub series: usize,
    /// Legend text, e.g. `"λz fit: t½ 7.1 h"`.
    pub label: String,
    /// `(time_h, conc)` along the line; a non-finite point breaks it.
    pub points: Vec<(f64, f64)>,
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

/// Output size, print resolution, formats and framing of a rendered figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    /// Width in pixels (SVG: user units). Default 1800.
    pub width_px: u32,
    /// Height in pixels (SVG: user units). Default 1100.
    pub height_px: u32,
    /// Print resolution (dots per inch), default 300: the figure's physical size is
    /// `width_px / dpi` inches. It is recorded in the PNG (`pHYs`) and the TIFF, gives the SVG
    /// and the PDF their size in mm, and sets the text in points at that size: tick labels,
    /// legend and subtitle at least 7 pt, axis titles 8 pt, the title 10 pt (more on a figure
    /// wider than 1800 px at 300 dpi, which scales up as a whole).
    pub dpi: u32,
    /// Only what goes inside a journal's figure frame: no title and no subtitle (the caption
    /// file still names the figure).
    pub bare: bool,
    /// The files a figure is written as (default PNG and SVG).
    pub formats: Formats,
}

impl Default for RenderOptions {
    /// 1800 × 1100 px at 300 dpi: 152 × 93 mm, a full-width journal figure.
    fn default() -> Self {
        Self {
            width_px: 1800,
            height_px: 1100,
            dpi: DEFAULT_DPI,
            bare: false,
            formats: Formats::default(),
        }
    }
}

/// The print resolution of a figure unless one is asked for (dots per inch).
pub const DEFAULT_DPI: u32 = 300;

impl RenderOptions {
    /// Physical size in millimetres at [`RenderOptions::dpi`].
    pub fn size_mm(&self) -> (f64, f64) {
        let mm = |px: u32| f64::from(px) / f64::from(self.dpi.max(1)) * 25.4;
        (mm(self.width_px), mm(self.height_px))
    }

    /// "1800 × 1100 px at 300 dpi (152.4 × 93.1 mm); PNG, SVG": for caption files.
    pub fn size_note(&self) -> String {
        let (w, h) = self.size_mm();
        format!(
            "{} × {} px at {} dpi ({w:.1} × {h:.1} mm); {}",
            self.width_px,
            self.height_px,
            self.dpi,
            self.formats.list_upper()
        )
    }
}

/// Journal column widths at 300 dpi: single column about 85 mm, double column about 175 mm.
// clap is a CLI crate, out of place here, but cli.rs parses `--journal` straight into this
// type; moving the derive to a CLI-side enum needs a change outside `plot/`.
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
            dpi: 300,
            ..RenderOptions::default()
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
    with_panels(fig, opts, |panels| raster::render(panels, opts))
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
    with_panels(fig, opts, |panels| svg::render(panels, opts))
}

/// Checks the size, prepares `fig` (or its panels) and hands it to one output. The size comes
/// first, so a bad size is reported even for an empty figure. A bare figure loses its title
/// and subtitle.
fn with_panels<T>(
    fig: &Figure,
    opts: &RenderOptions,
    output: impl FnOnce(&Panels) -> Result<T, PlotError>,
) -> Result<T, PlotError> {
    validate_size(opts)?;
    let bare;
    let fig = if opts.bare {
        bare = Figure {
            title: String::new(),
            subtitle: None,
            ..fig.clone()
        };
        &bare
    } else {
        fig
    };
    if !fig.stack.is_empty() {
        let mut subs = vec![Figure {
            stack: Vec::new(),
            ..fig.clone()
        }];
        subs.extend(fig.stack.iter().map(|f| Figure {
            title: String::new(),
            subtitle: None,
            stack: Vec::new(),
            ..f.clone()
        }));
        let preps = prepare_stack(&subs)?;
        return output(&Panels(&preps, true));
    }
    let subs = panel_figures(fig);
    let preps = prepare(fig, &subs)?;
    output(&Panels(&preps, false))
}

impl Render for Figure {
    fn rgb(&self, opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
        with_panels(self, opts, |panels| raster::rgb(panels, opts))
    }

    fn svg(&self, opts: &RenderOptions) -> Result<String, PlotError> {
        render_svg(self, opts)
    }
}

/// Whether a time axis spanning `span_h` hours is labelled in days rather than hours:
/// true when the span exceeds 72 h (3 days), where hour ticks would run into the hundreds.
pub fn time_axis_in_days(span_h: f64) -> bool {
    span_h > 72.0
}
