//! PNG output of LaTeX-OCR samples for people to look at.

use std::path::Path;

use image::{GrayImage, Rgb, RgbImage};

use super::LatexSample;
use crate::bitmap::BinaryImage;
use crate::error::DataError;

/// matplotlib's `tab20`, one colour per symbol class id.
const CLASS_COLOURS: [[u8; 3]; 20] = [
    [31, 119, 180],
    [174, 199, 232],
    [255, 127, 14],
    [255, 187, 120],
    [44, 160, 44],
    [152, 223, 138],
    [214, 39, 40],
    [255, 152, 150],
    [148, 103, 189],
    [197, 176, 213],
    [140, 86, 75],
    [196, 156, 148],
    [227, 119, 194],
    [247, 182, 210],
    [127, 127, 127],
    [199, 199, 199],
    [188, 189, 34],
    [219, 219, 141],
    [23, 190, 207],
    [158, 218, 229],
];

/// The colour of symbol class `id` in overlays (`tab20`).
#[must_use]
pub fn class_colour(id: usize) -> [u8; 3] {
    CLASS_COLOURS[id % CLASS_COLOURS.len()]
}

/// A LaTeX-domain image (1 = white background, 0 = ink or noise) as greyscale.
#[must_use]
pub fn to_gray(image: &BinaryImage) -> GrayImage {
    crate::export::gray_with_ink(image, false)
}

/// Writes [`to_gray`] as a PNG.
///
/// # Errors
/// [`DataError::Image`] if the file cannot be written.
pub fn write_png(image: &BinaryImage, path: &Path) -> Result<(), DataError> {
    crate::export::save_gray(&to_gray(image), path)
}

/// How [`render_overlay_with`] draws a formula under its boxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverlayStyle {
    /// Formula ink (pixels inked in the clean render).
    pub ink: [u8; 3],
    /// Noise pixels (ink in the noisy image only).
    pub noise: [u8; 3],
    /// Background.
    pub paper: [u8; 3],
    /// Outline the boxes two pixels thick at scale 3 and more (else always one pixel).
    pub thick_outlines: bool,
}

/// The style of [`render_overlay`]: ink black, noise light grey, thick outlines.
pub const OVERLAY_STYLE: OverlayStyle = OverlayStyle {
    ink: [20, 20, 20],
    noise: [215, 215, 215],
    paper: [255, 255, 255],
    thick_outlines: true,
};

/// The sample upscaled by `scale`: formula ink black, noise light grey, and every ground-truth
/// box outlined in its class colour, just outside the box so the outline does not hide ink.
#[must_use]
pub fn render_overlay(sample: &LatexSample, scale: u32) -> RgbImage {
    render_overlay_with(sample, scale, &OVERLAY_STYLE)
}

/// [`render_overlay`] in another style (the motif pictures draw the ink faint, so that the
/// activations drawn over it stand out).
#[must_use]
pub fn render_overlay_with(sample: &LatexSample, scale: u32, style: &OverlayStyle) -> RgbImage {
    let scale = scale.max(1);
    let (h, w) = (sample.clean.height() as u32, sample.clean.width() as u32);
    let mut canvas = RgbImage::from_fn(w * scale, h * scale, |x, y| {
        let (r, c) = ((y / scale) as usize, (x / scale) as usize);
        let ink = sample.clean.get(r, c) == Some(false);
        let noise = sample.image.get(r, c) == Some(false);
        Rgb(if ink {
            style.ink
        } else if noise {
            style.noise
        } else {
            style.paper
        })
    });
    let (cw, ch) = (w * scale, h * scale);
    let thickness = 1 + u32::from(style.thick_outlines && scale >= 3);
    for b in &sample.symbols {
        let colour = Rgb(class_colour(b.class.id()));
        // Outline just outside the box.
        for t in 1..=thickness {
            let x0 = (b.xmin as u32 * scale).saturating_sub(t);
            let y0 = (b.ymin as u32 * scale).saturating_sub(t);
            let x1 = ((b.xmax as u32 + 1) * scale + t - 1).min(cw - 1);
            let y1 = ((b.ymax as u32 + 1) * scale + t - 1).min(ch - 1);
            for x in x0..=x1 {
                canvas.put_pixel(x, y0, colour);
                canvas.put_pixel(x, y1, colour);
            }
            for y in y0..=y1 {
                canvas.put_pixel(x0, y, colour);
                canvas.put_pixel(x1, y, colour);
            }
        }
    }
    canvas
}

/// Writes [`render_overlay`] as a PNG.
///
/// # Errors
/// [`DataError::Image`] if the file cannot be written.
pub fn write_overlay_png(sample: &LatexSample, scale: u32, path: &Path) -> Result<(), DataError> {
    render_overlay(sample, scale)
        .save(path)
        .map_err(|source| DataError::Image {
            path: path.to_owned(),
            source,
        })
}
