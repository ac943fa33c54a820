//! PNG export of DigitCircle for people to look at: the raw binary image, an upscaled overlay
//! with the ground-truth boxes and their digits, and a model's motif activations on it.

use std::path::Path;

use image::{GrayImage, Rgb, RgbImage};

use crate::bitmap::BinaryImage;
use crate::digit_circle::PlacedDigit;
use crate::drawing::{
    INK, PALETTE, PAPER, draw_glyph, fill_rect, gray_with_ink, outline_rect, save_gray,
};
use crate::error::DataError;

/// The image at its own resolution, ink (1) black on white (0).
#[must_use]
pub fn to_gray(image: &BinaryImage) -> GrayImage {
    gray_with_ink(image, true)
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
