//! The LaTeX picture of `sparling motifs`: a formula with the pixels where motif channels fire.
//!
//! `sparling-data`'s overlay draws ink black; here the ink is faint so that the few active
//! pixels (about one per symbol at the densities that matter) stand out, each as a square in the
//! `tab20` colour of the symbol class its channel stands for, framed in black so that light
//! colours stay visible on white.

use image::RgbImage;
use sparling_data::LatexSample;
use sparling_data::export::fill_rect;
use sparling_data::latex::export::{OverlayStyle, class_colour, render_overlay_with};

const NOISE: [u8; 3] = [236, 236, 236];
const FAINT_INK: [u8; 3] = [170, 170, 170];
/// The formula under the activations: ink faint, noise fainter, one-pixel box outlines.
const STYLE: OverlayStyle = OverlayStyle {
    ink: FAINT_INK,
    noise: NOISE,
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
pub fn render(
    sample: &LatexSample,
    maps: &[f32],
    channels: usize,
    channel_classes: &[Option<usize>],
    scale: u32,
) -> RgbImage {
    let scale = scale.max(1);
    let (h, w) = (sample.clean.height(), sample.clean.width());
    let mut canvas = render_overlay_with(sample, scale, &STYLE);
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
    use sparling_data::latex::LatexOcr;
    use sparling_data::{Dataset, Split};

    use super::*;

    #[test]
    fn active_pixels_take_their_channel_class_colour() -> Result<(), sparling_data::DataError> {
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
        let picture = render(&sample, &maps, channels, &classes, scale);
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
        assert_eq!(centre(ink / w, ink % w), FAINT_INK);
        let noise = (0..h * w)
            .find(|&i| {
                sample.clean.get(i / w, i % w) == Some(true)
                    && sample.image.get(i / w, i % w) == Some(false)
            })
            .expect("a quarter of the pixels are noise");
        assert_eq!(centre(noise / w, noise % w), NOISE);
        Ok(())
    }
}
