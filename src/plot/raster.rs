//! PNG output: drawing on a bitmap (supersampled, then averaged down), encoding, and the `pHYs`
//! chunk that records the print resolution.

use plotters::prelude::*;

use super::canvas::{paint, print_scale, validate_size, Drawing};
use super::paint::Flavor;
use super::style::ensure_fonts;
use super::{PlotError, RenderOptions};

/// Draws `drawing` on a white canvas (twice the output size up to 8 megapixels, then averaged
/// down) and encodes the PNG, with the print resolution recorded.
pub(super) fn render(drawing: &impl Drawing, opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
    encode_png(&rgb(drawing, opts)?, opts)
}

/// Draws `drawing` on a white canvas (twice the output size up to 8 megapixels, then averaged
/// down): 8-bit RGB, row by row.
pub(super) fn rgb(drawing: &impl Drawing, opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
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
        paint(&root, drawing, print_scale(opts, factor), Flavor::Bitmap)?;
    }
    Ok(if factor == 1 {
        canvas
    } else {
        downsample(&canvas, cw as usize, ch as usize, factor as usize)
    })
}

/// The PNG of an RGB raster of `opts`' size, with the print resolution recorded (`pHYs`).
pub(super) fn encode_png(rgb: &[u8], opts: &RenderOptions) -> Result<Vec<u8>, PlotError> {
    let (w, h) = (opts.width_px, opts.height_px);
    let mut png = Vec::new();
    {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        use image::ImageEncoder;
        // Figures are mostly flat rows: the "Up" filter compresses them as well as adaptive
        // filtering (within 2 %) at a third of the cost. The fast deflate level: the seed
        // command's three PNGs take 359 KB instead of 144 KB, and its CPU time falls from 153
        // to 115 ms (deflate was a quarter of it; benches/README.md, issue #14).
        PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Up)
            .write_image(rgb, w, h, image::ColorType::Rgb8)
            .map_err(|e| PlotError::Encode {
                message: e.to_string(),
            })?;
    }
    Ok(with_phys(&png, opts.dpi))
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
