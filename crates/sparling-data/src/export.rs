//! PNG export for people to look at: the raw binary image, and an upscaled overlay with the
//! ground-truth boxes and their digits. The audio domain's WAV and spectrogram export is in
//! [`crate::audio::export`].

use std::path::Path;

use image::{GrayImage, Luma, Rgb, RgbImage};

use crate::bitmap::BinaryImage;
use crate::digit_circle::{PlacedDigit, digit_stamps};
use crate::error::DataError;

/// Colour of each digit's box and glyph (matplotlib's `tab10`).
pub(crate) const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];
const INK: [u8; 3] = [30, 30, 30];
pub(crate) const PAPER: [u8; 3] = [250, 250, 250];

/// The image at its own resolution, ink (1) black on white (0).
#[must_use]
pub fn to_gray(image: &BinaryImage) -> GrayImage {
    gray_with_ink(image, true)
}

/// `image` as greyscale: pixels whose value is `ink` black, all others white. The domains
/// differ in polarity (DigitCircle marks ink with 1, LaTeX with 0).
pub(crate) fn gray_with_ink(image: &BinaryImage, ink: bool) -> GrayImage {
    let (w, h) = (image.width() as u32, image.height() as u32);
    GrayImage::from_fn(w, h, |x, y| {
        let black = image.get(y as usize, x as usize) == Some(ink);
        Luma([if black { 0 } else { 255 }])
    })
}

/// Saves a greyscale picture as PNG, naming the file in the error.
pub(crate) fn save_gray(gray: &GrayImage, path: &Path) -> Result<(), DataError> {
    gray.save(path).map_err(|source| DataError::Image {
        path: path.to_owned(),
        source,
    })
}

/// Writes [`to_gray`] as a PNG.
///
/// # Errors
/// [`DataError::Image`] if the file cannot be written.
pub fn write_png(image: &BinaryImage, path: &Path) -> Result<(), DataError> {
    save_gray(&to_gray(image), path)
}

/// The image upscaled by `scale` on a margin, with each ground-truth box outlined in its
/// digit's colour and the digit drawn (from its own stamp, at half the scale) above the box,
/// or below it when there is no room.
#[must_use]
pub fn render_overlay(image: &BinaryImage, motifs: &[PlacedDigit], scale: u32) -> RgbImage {
    overlay_with_ink(image, motifs, scale, INK)
}

/// Ink of the image under motif activations: light, so the activations stand out.
const FAINT_INK: [u8; 3] = [200, 200, 200];

/// A motif activation to draw: `channel` fired at `(row, col)` of the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivePixel {
    /// Motif channel.
    pub channel: usize,
    /// Row in image pixels.
    pub row: usize,
    /// Column in image pixels.
    pub col: usize,
}

/// The ground-truth overlay of [`render_overlay`] (image ink faint) with every active motif
/// pixel drawn as a square in the colour of the digit its channel stands for
/// (`channel_digits[channel]`, e.g. from the Hungarian assignment), or black for a channel
/// that stands for no digit. A model whose channels each found one digit shows squares in the
/// colour of the box they sit in.
#[must_use]
pub fn render_activations(
    image: &BinaryImage,
    motifs: &[PlacedDigit],
    active: &[ActivePixel],
    channel_digits: &[Option<u8>],
    scale: u32,
) -> RgbImage {
    let scale = scale.max(1);
    let mut canvas = overlay_with_ink(image, motifs, scale, FAINT_INK);
    let margin = 8 * scale;
    let inset = u32::from(scale >= 3);
    for p in active {
        let colour = channel_digits
            .get(p.channel)
            .copied()
            .flatten()
            .map_or([0, 0, 0], |d| PALETTE[usize::from(d) % PALETTE.len()]);
        fill_rect(
            &mut canvas,
            margin + p.col as u32 * scale + inset,
            margin + p.row as u32 * scale + inset,
            scale - 2 * inset,
            scale - 2 * inset,
            colour,
        );
    }
    canvas
}

fn overlay_with_ink(
    image: &BinaryImage,
    motifs: &[PlacedDigit],
    scale: u32,
    ink: [u8; 3],
) -> RgbImage {
    let scale = scale.max(1);
    let margin = 8 * scale;
    let (w, h) = (image.width() as u32, image.height() as u32);
    let mut canvas =
        RgbImage::from_pixel(w * scale + 2 * margin, h * scale + 2 * margin, Rgb(PAPER));
    for y in 0..h {
        for x in 0..w {
            if image.get(y as usize, x as usize).unwrap_or(false) {
                fill_rect(
                    &mut canvas,
                    margin + x * scale,
                    margin + y * scale,
                    scale,
                    scale,
                    ink,
                );
            }
        }
    }
    for motif in motifs {
        let colour = PALETTE[usize::from(motif.digit) % PALETTE.len()];
        let x0 = margin + motif.cols.start as u32 * scale;
        let y0 = margin + motif.rows.start as u32 * scale;
        let bw = motif.cols.len() as u32 * scale;
        let bh = motif.rows.len() as u32 * scale;
        outline_rect(&mut canvas, x0, y0, bw, bh, (scale / 2).max(1), colour);
        draw_glyph(
            &mut canvas,
            motif.digit,
            x0,
            y0,
            y0 + bh,
            (scale / 2).max(1),
            colour,
        );
    }
    canvas
}

/// Writes [`render_overlay`] as a PNG.
///
/// # Errors
/// [`DataError::Image`] if the file cannot be written.
pub fn write_overlay_png(
    image: &BinaryImage,
    motifs: &[PlacedDigit],
    scale: u32,
    path: &Path,
) -> Result<(), DataError> {
    render_overlay(image, motifs, scale)
        .save(path)
        .map_err(|source| DataError::Image {
            path: path.to_owned(),
            source,
        })
}

/// Fills the `w × h` rectangle at `(x, y)`, clipped to the canvas.
pub fn fill_rect(canvas: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, colour: [u8; 3]) {
    let x_end = (x + w).min(canvas.width());
    let y_end = (y + h).min(canvas.height());
    for yy in y..y_end {
        for xx in x..x_end {
            canvas.put_pixel(xx, yy, Rgb(colour));
        }
    }
}

fn outline_rect(canvas: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, t: u32, colour: [u8; 3]) {
    fill_rect(canvas, x, y, w, t, colour);
    fill_rect(canvas, x, (y + h).saturating_sub(t), w, t, colour);
    fill_rect(canvas, x, y, t, h, colour);
    fill_rect(canvas, (x + w).saturating_sub(t), y, t, h, colour);
}

/// Draws the digit's stamp (ink only) at `scale`, above `top` if it fits, else below `bottom`.
pub(crate) fn draw_glyph(
    canvas: &mut RgbImage,
    digit: u8,
    left: u32,
    top: u32,
    bottom: u32,
    scale: u32,
    colour: [u8; 3],
) {
    let Some(stamp) = digit_stamps().ok().and_then(|s| s.get(digit)) else {
        return;
    };
    let gh = stamp.height() as u32 * scale;
    let y0 = if top >= gh { top - gh } else { bottom };
    // A paper-coloured backing keeps the glyph legible on top of the noise.
    let gw = stamp.width() as u32 * scale;
    fill_rect(canvas, left, y0, gw, gh, PAPER);
    for (i, &p) in stamp.pixels().iter().enumerate() {
        if p != 0 {
            let (r, c) = ((i / stamp.width()) as u32, (i % stamp.width()) as u32);
            fill_rect(
                canvas,
                left + c * scale,
                y0 + r * scale,
                scale,
                scale,
                colour,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digit_circle::DigitCircle;

    #[test]
    fn writes_readable_pngs() {
        let g = DigitCircle::paper().expect("paper config");
        let s = g.sample_seed(0);
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = dir.path().join("plain.png");
        let overlay = dir.path().join("overlay.png");
        write_png(&s.image, &plain).expect("write plain");
        write_overlay_png(&s.image, &s.motifs, 4, &overlay).expect("write overlay");
        let back = image::open(&plain).expect("read back").to_luma8();
        assert_eq!(back.dimensions(), (100, 100));
        let black = back.pixels().filter(|p| p.0[0] == 0).count();
        assert_eq!(black, s.image.count_on());
        let ov = image::open(&overlay).expect("read back").to_rgb8();
        assert_eq!(ov.dimensions(), (464, 464));
        assert!(write_png(&s.image, &dir.path().join("missing/dir/x.png")).is_err());
    }

    #[test]
    fn activations_take_their_channel_colour() {
        let g = DigitCircle::paper().expect("paper config");
        let s = g.sample_seed(0);
        let m = &s.motifs[0];
        let (row, col) = (m.rows.start + 6, m.cols.start + 2);
        let active = [
            ActivePixel {
                channel: 1,
                row,
                col,
            },
            ActivePixel {
                channel: 0,
                row: 0,
                col: 0,
            },
        ];
        let canvas = render_activations(&s.image, &s.motifs, &active, &[None, Some(m.digit)], 4);
        let margin = 32;
        let at = |r: usize, c: usize| {
            canvas
                .get_pixel(margin + c as u32 * 4 + 2, margin + r as u32 * 4 + 2)
                .0
        };
        assert_eq!(at(row, col), PALETTE[usize::from(m.digit)]);
        assert_eq!(at(0, 0), [0, 0, 0]);
    }
}
