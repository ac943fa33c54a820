//! Drawing helpers the domains' pictures share: the digit palette, paper colour, greyscale
//! PNGs, rectangles and digit glyphs. Each domain's pictures are in its own `export` module
//! ([`crate::digit_circle::export`], [`crate::audio::export`], [`crate::latex::export`]).

use std::path::Path;

use image::{GrayImage, Luma, Rgb, RgbImage};

use crate::bitmap::BinaryImage;
use crate::digit_circle::digit_stamps;
use crate::error::DataError;

/// Colour of each digit's box and glyph (matplotlib's `tab10`).
pub const PALETTE: [[u8; 3]; 10] = [
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
/// Ink of a glyph or image drawn in full strength.
pub(crate) const INK: [u8; 3] = [30, 30, 30];
/// Background of every picture.
pub const PAPER: [u8; 3] = [250, 250, 250];

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

pub(crate) fn outline_rect(
    canvas: &mut RgbImage,
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    t: u32,
    colour: [u8; 3],
) {
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
