//! PNG output of LaTeX-OCR samples for people to look at.

use std::path::Path;

use image::{GrayImage, Rgb, RgbImage};

use super::LatexSample;
use crate::bitmap::BinaryImage;
use crate::drawing::fill_rect;
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
    crate::drawing::gray_with_ink(image, false)
}

/// Writes [`to_gray`] as a PNG.
///
/// # Errors
/// [`DataError::Image`] if the file cannot be written.
pub fn write_png(image: &BinaryImage, path: &Path) -> Result<(), DataError> {
    crate::drawing::save_gray(&to_gray(image), path)
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

// The motif picture of `sparling motifs`: the overlay draws ink black; here the ink is faint
// so that the few active pixels (about one per symbol at the densities that matter) stand out,
// each as a square in the `tab20` colour of the symbol class its channel stands for, framed in
// black so that light colours stay visible on white.

const MOTIF_NOISE: [u8; 3] = [236, 236, 236];
const MOTIF_FAINT_INK: [u8; 3] = [170, 170, 170];
/// The formula under the activations: ink faint, noise fainter, one-pixel box outlines.
const MOTIF_STYLE: OverlayStyle = OverlayStyle {
    ink: MOTIF_FAINT_INK,
    noise: MOTIF_NOISE,
    paper: [255, 255, 255],
    thick_outlines: false,
};
const FRAME: [u8; 3] = [0, 0, 0];
/// Fill of a channel that stands for no class.
const UNASSIGNED: [u8; 3] = [0, 0, 0];

/// The sample upscaled by `scale`: background white, noise very light grey, formula ink faint
/// grey; every ground-truth box outlined (just outside the box) in its class colour; every
/// nonzero entry of `maps` (`[channels, H, W]` row-major, the sparse layer's output for this
/// sample) drawn as a framed square in the colour of `channel_classes[channel]`, black for a
/// channel that stands for no class. Where several channels fire on one pixel, the strongest is
/// drawn.
///
/// `maps` must hold `channels · H · W` values for the sample's `H × W` image; shorter input
/// draws only what it covers.
pub fn render_motif_activations(
    sample: &LatexSample,
    maps: &[f32],
    channels: usize,
    channel_classes: &[Option<usize>],
    scale: u32,
) -> RgbImage {
    let scale = scale.max(1);
    let (h, w) = (sample.clean.height(), sample.clean.width());
    let mut canvas = render_overlay_with(sample, scale, &MOTIF_STYLE);
    let plane = h * w;
    for pixel in 0..plane {
        let strongest = (0..channels)
            .filter_map(|c| maps.get(c * plane + pixel).map(|&v| (c, v)))
            .filter(|&(_, v)| v != 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((channel, _)) = strongest else {
            continue;
        };
        let fill = channel_classes
            .get(channel)
            .copied()
            .flatten()
            .map_or(UNASSIGNED, class_colour);
        let (x, y) = ((pixel % w) as u32 * scale, (pixel / w) as u32 * scale);
        fill_rect(&mut canvas, x, y, scale, scale, FRAME);
        if scale >= 3 {
            fill_rect(&mut canvas, x + 1, y + 1, scale - 2, scale - 2, fill);
        }
    }
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latex::LatexOcr;
    use crate::{Dataset, Split};

    #[test]
    fn active_pixels_take_their_channel_class_colour() -> Result<(), crate::DataError> {
        let sample = Dataset::new(LatexOcr::paper()?, Split::Test).get(0)?;
        let (h, w) = (sample.clean.height(), sample.clean.width());
        let channels = 3;
        let mut maps = vec![0f32; channels * h * w];
        // Channel 1 (class 13, the fraction bar) fires at (63, 150); channel 2 (no class) at
        // (5, 7); channel 0 fires weaker than channel 1 on the same pixel.
        maps[h * w + 63 * w + 150] = 2.0;
        maps[63 * w + 150] = 1.0;
        maps[2 * h * w + 5 * w + 7] = 0.5;
        let classes = [Some(4), Some(13), None];
        let scale = 4;
        let picture = render_motif_activations(&sample, &maps, channels, &classes, scale);
        assert_eq!(picture.dimensions(), (w as u32 * scale, h as u32 * scale));
        // The middle of an upscaled pixel: never on a box outline (they run along the edges).
        let centre = |r: usize, c: usize| {
            picture
                .get_pixel(c as u32 * scale + 2, r as u32 * scale + 2)
                .0
        };
        assert_eq!(centre(63, 150), class_colour(13));
        assert_eq!(picture.get_pixel(150 * scale, 63 * scale).0, FRAME);
        assert_eq!(centre(5, 7), UNASSIGNED);
        // The first box (test formula 0's fraction bar, columns 123..=236 of row 63) is
        // outlined one pixel above its top edge.
        let bar = &sample.symbols[0];
        assert_eq!(bar.class.id(), 13);
        let above = picture.get_pixel(bar.xmin as u32 * scale + 2, bar.ymin as u32 * scale - 1);
        assert_eq!(above.0, class_colour(13));
        // Ink away from activations is faint, noise lighter, background white.
        let ink = (0..h * w)
            .find(|&i| sample.clean.get(i / w, i % w) == Some(false))
            .expect("the formula has ink");
        assert_eq!(centre(ink / w, ink % w), MOTIF_FAINT_INK);
        let noise = (0..h * w)
            .find(|&i| {
                sample.clean.get(i / w, i % w) == Some(true)
                    && sample.image.get(i / w, i % w) == Some(false)
            })
            .expect("a quarter of the pixels are noise");
        assert_eq!(centre(noise / w, noise % w), MOTIF_NOISE);
        Ok(())
    }
}
