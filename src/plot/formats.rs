//! The file formats a figure is written as: PNG and TIFF from one raster, SVG, and PDF from the
//! SVG with the bundled fonts embedded. [`render_files`] renders exactly the formats asked for.

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::style::{FONT_BOLD, FONT_REGULAR};
use super::{PlotError, RenderOptions};

/// One output format of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// PNG, 8-bit RGB, with the print resolution in its `pHYs` chunk.
    Png,
    /// SVG with the document's size in mm; text drawn by the viewer in a sans-serif face.
    Svg,
    /// PDF 1.7 from the SVG, one page of the figure's size, DejaVu Sans embedded and subset.
    Pdf,
    /// TIFF, 8-bit RGB, LZW-compressed, with the print resolution (journals that ask for TIFF).
    Tiff,
}

impl Format {
    /// Every format, in the order files are written.
    pub const ALL: [Format; 4] = [Format::Png, Format::Svg, Format::Pdf, Format::Tiff];

    /// File extension without the dot, also the name in `--formats`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
            Format::Pdf => "pdf",
            Format::Tiff => "tiff",
        }
    }
}

/// A set of output formats; the default is PNG and SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats(u8);

impl Default for Formats {
    fn default() -> Self {
        Formats::EMPTY.with(Format::Png).with(Format::Svg)
    }
}

impl Formats {
    /// No format (figures are skipped).
    pub const EMPTY: Formats = Formats(0);

    fn bit(f: Format) -> u8 {
        1 << (f as u8)
    }

    /// The set with `f` added.
    pub fn with(self, f: Format) -> Formats {
        Formats(self.0 | Self::bit(f))
    }

    /// Whether `f` is in the set.
    pub fn contains(self, f: Format) -> bool {
        self.0 & Self::bit(f) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The formats in writing order.
    pub fn iter(self) -> impl Iterator<Item = Format> {
        Format::ALL.into_iter().filter(move |f| self.contains(*f))
    }

    /// "PNG, SVG": for captions.
    pub fn list_upper(self) -> String {
        self.iter()
            .map(|f| f.extension().to_uppercase())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Parses one format name (`png`, `svg`, `pdf`, `tiff` or `tif`), case-insensitive.
    pub fn parse_one(name: &str) -> Result<Format, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            "pdf" => Ok(Format::Pdf),
            "tiff" | "tif" => Ok(Format::Tiff),
            other => Err(format!(
                "`{other}` is not a figure format; the formats are png, svg, pdf and tiff"
            )),
        }
    }

    /// Parses a comma-separated list, e.g. `png,svg,pdf`: at least one name, no repeats.
    pub fn parse_list(text: &str) -> Result<Formats, String> {
        let mut set = Formats::EMPTY;
        for part in text.split(',') {
            if part.trim().is_empty() {
                return Err(format!(
                    "`{text}` has an empty entry; list formats separated by commas, e.g. png,svg,pdf"
                ));
            }
            let f = Self::parse_one(part)?;
            if set.contains(f) {
                return Err(format!("`{text}` names {} twice", f.extension()));
            }
            set = set.with(f);
        }
        Ok(set)
    }
}

impl fmt::Display for Formats {
    /// `png,svg`: the form `--formats` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.iter().map(Format::extension).collect();
        f.write_str(&names.join(","))
    }
}

/// Something that can be drawn as a figure: the concentration–time [`super::Figure`], the
/// [`super::Heatmap`] and the [`super::Tornado`].
pub trait Render {
    /// The RGB raster (3 bytes per pixel, row by row) of exactly `width_px` × `height_px`.
    fn rgb(&self, opts: &RenderOptions) -> Result<Vec<u8>, PlotError>;
    /// The SVG document.
    fn svg(&self, opts: &RenderOptions) -> Result<String, PlotError>;
}

/// Renders `r` in every format of `opts.formats`, as `(extension, bytes)` in writing order.
/// The raster is drawn once for PNG and TIFF, the SVG once for SVG and PDF.
pub fn render_files(
    r: &impl Render,
    opts: &RenderOptions,
) -> Result<Vec<(&'static str, Vec<u8>)>, PlotError> {
    let f = opts.formats;
    let raster = if f.contains(Format::Png) || f.contains(Format::Tiff) {
        Some(r.rgb(opts)?)
    } else {
        None
    };
    let svg = if f.contains(Format::Svg) || f.contains(Format::Pdf) {
        Some(r.svg(opts)?)
    } else {
        None
    };
    let mut out = Vec::new();
    for format in f.iter() {
        let bytes = match (format, &raster, &svg) {
            (Format::Png, Some(rgb), _) => super::raster::encode_png(rgb, opts)?,
            (Format::Tiff, Some(rgb), _) => encode_tiff(rgb, opts)?,
            (Format::Svg, _, Some(s)) => s.clone().into_bytes(),
            (Format::Pdf, _, Some(s)) => svg_to_pdf(s)?,
            _ => unreachable!("the raster and the SVG are drawn for the formats that need them"),
        };
        out.push((format.extension(), bytes));
    }
    Ok(out)
}

fn encode_error(what: &str, e: impl fmt::Display) -> PlotError {
    PlotError::Encode {
        message: format!("{what}: {e}"),
    }
}

/// An LZW-compressed RGB TIFF with the print resolution in dots per inch.
fn encode_tiff(rgb: &[u8], opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
    use tiff::encoder::{colortype::RGB8, compression::Lzw, Rational, TiffEncoder};
    use tiff::tags::ResolutionUnit;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut buf).map_err(|e| encode_error("TIFF", e))?;
        let mut image = enc
            .new_image_with_compression::<RGB8, _>(opts.width_px, opts.height_px, Lzw)
            .map_err(|e| encode_error("TIFF", e))?;
        image.resolution(ResolutionUnit::Inch, Rational { n: opts.dpi, d: 1 });
        image.write_data(rgb).map_err(|e| encode_error("TIFF", e))?;
    }
    Ok(buf.into_inner())
}

/// The bundled fonts for usvg, with `sans-serif` (what plotters writes) mapped to DejaVu Sans;
/// without that mapping every text element would silently vanish from the PDF.
pub(super) fn usvg_options() -> &'static svg2pdf::usvg::Options<'static> {
    static OPTIONS: OnceLock<svg2pdf::usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = svg2pdf::usvg::fontdb::Database::new();
        db.load_font_data(FONT_REGULAR.to_vec());
        db.load_font_data(FONT_BOLD.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        svg2pdf::usvg::Options {
            dpi: USVG_DPI,
            font_family: "DejaVu Sans".into(),
            fontdb: Arc::new(db),
            ..Default::default()
        }
    })
}

/// The resolution at which usvg turns the SVG's mm into its pixels; the PDF page takes the
/// same, so a 152.4 mm wide SVG gives a 152.4 mm wide page.
const USVG_DPI: f32 = 96.0;

/// The PDF of an SVG document written by this module: one page of the document's size (its
/// `width`/`height` in mm), text as embedded, subset DejaVu Sans.
fn svg_to_pdf(svg: &str) -> Result<Vec<u8>, PlotError> {
    let tree = svg2pdf::usvg::Tree::from_str(svg, usvg_options())
        .map_err(|e| encode_error("PDF (reading the SVG)", e))?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: USVG_DPI },
    )
    .map_err(|e| encode_error("PDF", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_lists_parse_and_print_back() {
        let f = Formats::parse_list("PNG, svg,pdf,tif").unwrap();
        assert_eq!(f.to_string(), "png,svg,pdf,tiff");
        assert_eq!(f.list_upper(), "PNG, SVG, PDF, TIFF");
        assert_eq!(Formats::default().to_string(), "png,svg");
        assert!(Formats::parse_list("png,jpg")
            .unwrap_err()
            .contains("png, svg, pdf and tiff"));
        assert!(Formats::parse_list("png,,svg")
            .unwrap_err()
            .contains("empty"));
        assert!(Formats::parse_list("svg,svg")
            .unwrap_err()
            .contains("twice"));
        assert!(Formats::parse_list("").is_err());
    }
}
