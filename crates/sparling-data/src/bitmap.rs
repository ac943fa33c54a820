//! Binary images, stored one byte per pixel (0 or 1), row-major.

use serde::{Deserialize, Serialize};

/// A `height × width` binary image, row-major, one `u8` (0 or 1) per pixel.
///
/// The model input is this image cast to `f32` 0/1 with no normalisation (as the authors'
/// `PixelArtDomainDataset` in `pixel_art/data/pixel_art_domain_dataset.py` does,
/// kavigupta/sparling-repro): see [`to_f32`](Self::to_f32) and [`extend_f32`](Self::extend_f32).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryImage {
    height: usize,
    width: usize,
    pixels: Vec<u8>,
}

impl BinaryImage {
    /// An all-zero image.
    #[must_use]
    pub fn zeros(height: usize, width: usize) -> Self {
        Self {
            height,
            width,
            pixels: vec![0; height * width],
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of columns.
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// The pixels, row-major, each 0 or 1.
    #[must_use]
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    pub(crate) fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.pixels
    }

    /// Pixel `(row, col)`, or `None` outside the image.
    #[must_use]
    pub fn get(&self, row: usize, col: usize) -> Option<bool> {
        if row >= self.height || col >= self.width {
            return None;
        }
        self.pixels.get(row * self.width + col).map(|&p| p != 0)
    }

    /// Number of pixels that are on.
    #[must_use]
    pub fn count_on(&self) -> usize {
        self.pixels.iter().filter(|&&p| p != 0).count()
    }

    /// The image as `f32` 0.0/1.0, row-major (`[H, W]`).
    #[must_use]
    pub fn to_f32(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.pixels.len());
        self.extend_f32(&mut out);
        out
    }

    /// Appends the image as `f32` 0.0/1.0 to `out`, for building `[N, H, W]` batches in place.
    pub fn extend_f32(&self, out: &mut Vec<f32>) {
        out.extend(self.pixels.iter().map(|&p| f32::from(p)));
    }

    /// Copies `rows × cols` of `src` (row-major) with its top-left corner at `(top, left)`,
    /// overwriting what is there, as numpy's `image[top:top+h, left:left+w] = stamp`.
    /// Parts outside the image are skipped (never happens for validated configs).
    pub(crate) fn paste(&mut self, src: &[u8], rows: usize, cols: usize, top: usize, left: usize) {
        for r in 0..rows {
            let y = top + r;
            if y >= self.height || left >= self.width {
                continue;
            }
            let n = cols.min(self.width - left);
            let dst = y * self.width + left;
            let s = r * cols;
            if let (Some(d), Some(s)) = (self.pixels.get_mut(dst..dst + n), src.get(s..s + n)) {
                d.copy_from_slice(s);
            }
        }
    }
}
