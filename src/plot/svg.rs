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
    CURVES.with(|c| c.borrow_mut().clear());
    let painted = {
        let root = SVGBackend::with_string(&mut svg, (vw, vh)).into_drawing_area();
        paint(
            &root,
            drawing,
            print_scale(opts, SVG_UNITS_PER_PX),
            Flavor::Svg,
        )
    };
    let curves = CURVES.with(|c| std::mem::take(&mut *c.borrow_mut()));
    painted?;
    let svg = insert_curves(&svg, &curves);
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
    Ok(without_xml_controls(svg))
}

/// `svg` with the control characters XML 1.0 forbids (all but tab, newline and carriage
/// return; a label holding ESC made the file unreadable) written as Rust escapes (`\u{1b}`),
/// as the terminal output shows them. Only text from labels and names can hold them.
fn without_xml_controls(svg: String) -> String {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if !svg.contains(bad) {
        return svg;
    }
    let mut out = String::with_capacity(svg.len() + 16);
    for c in svg.chars() {
        if bad(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// SVG user units per output pixel: a quarter-pixel grid for plotters' integer coordinates.
const SVG_UNITS_PER_PX: u32 = 4;

/// One curve of an SVG figure, written as a single `<path>` (dashes as `stroke-dasharray`)
/// inside a `<g>` named after its series, so an editor recolours a curve with one click.
pub(super) struct SvgCurve {
    pub(super) label: String,
    pub(super) colour: RGBColor,
    pub(super) width: f64,
    /// Dash pattern in user units (empty: solid).
    pub(super) dashes: Vec<f64>,
    /// The curve's drawable pieces, in user units.
    pub(super) pieces: Vec<Vec<(f64, f64)>>,
    /// Isolated samples, drawn as discs of diameter `dot_w`.
    pub(super) dots: Vec<(f64, f64)>,
    pub(super) dot_w: f64,
}

thread_local! {
    /// The curves of the SVG being drawn on this thread, in drawing order. Drawing a figure
    /// never yields to rayon (nothing in `plot/` is parallel), so figures rendered in parallel
    /// on other threads cannot interleave with it.
    static CURVES: std::cell::RefCell<Vec<SvgCurve>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Colour of the 1 × 1 placeholder that marks where a curve goes in plotters' output (its x
/// is the curve's number); it is replaced by the curve's group before the SVG is returned.
const PLACEHOLDER_FILL: &str = "#FE01FE";

/// Records `curve` for the SVG being drawn and leaves a placeholder at its place in the
/// drawing order (under what is drawn later, over what came before).
pub(super) fn record_curve<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    curve: SvgCurve,
) -> Result<(), PlotError> {
    let k = CURVES.with(|c| {
        let mut c = c.borrow_mut();
        c.push(curve);
        c.len() - 1
    });
    area.draw_pixel((k as i32, 0), &RGBColor(0xFE, 0x01, 0xFE))
        .map_err(super::paint::draw_error)
}

/// Replaces every placeholder of `svg` by its curve's `<g>`.
fn insert_curves(svg: &str, curves: &[SvgCurve]) -> String {
    let mut out = String::with_capacity(svg.len() + curves.len() * 4096);
    let mut rest = svg;
    let needle = format!("fill=\"{PLACEHOLDER_FILL}\"/>\n");
    while let Some(end) = rest.find(&needle) {
        let start = rest[..end].rfind("<rect ").unwrap_or(end);
        let k: Option<usize> = rest[start..end]
            .split("x=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .and_then(|v| v.parse().ok());
        out.push_str(&rest[..start]);
        if let Some(c) = k.and_then(|k| curves.get(k).map(|c| (k, c))) {
            out.push_str(&curve_group(c.0, c.1));
        }
        rest = &rest[end + needle.len()..];
    }
    out.push_str(rest);
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number for path data: two decimals at most, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{:.2}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn curve_group(k: usize, c: &SvgCurve) -> String {
    use std::fmt::Write as _;
    let colour = format!("#{:02X}{:02X}{:02X}", c.colour.0, c.colour.1, c.colour.2);
    let label = xml_escape(&c.label);
    let mut g = format!(
        "<g id=\"curve-{}\" class=\"curve\" data-label=\"{label}\">\n<title>{label}</title>\n",
        k + 1
    );
    let mut d = String::new();
    for piece in c.pieces.iter().filter(|p| !p.is_empty()) {
        for (i, (x, y)) in piece.iter().enumerate() {
            let _ = write!(
                d,
                "{}{} {}",
                if i == 0 { "M" } else { " L" },
                num(*x),
                num(*y)
            );
        }
        d.push(' ');
    }
    if !d.is_empty() {
        let dash = if c.dashes.is_empty() {
            String::new()
        } else {
            let v: Vec<String> = c.dashes.iter().map(|v| num(*v)).collect();
            format!(" stroke-dasharray=\"{}\"", v.join(" "))
        };
        let _ = writeln!(
            g,
            "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{}\" stroke-linejoin=\"round\" stroke-linecap=\"round\"{dash}/>",
            d.trim_end(),
            num(c.width.round().max(1.0))
        );
    }
    for (x, y) in &c.dots {
        let _ = writeln!(
            g,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{colour}\"/>",
            num(*x),
            num(*y),
            num(c.dot_w / 2.0)
        );
    }
    g.push_str("</g>\n");
    g
}
