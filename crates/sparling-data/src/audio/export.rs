//! Audio export for people to look at or listen to: a clip as a 16-bit WAV, its spectrogram as
//! a PNG with the digit spans marked, and a spectrogram with motif activations.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::clip::SpokenDigit;
use super::spectrogram::Spectrogram;
use crate::drawing::{PALETTE, PAPER, draw_glyph, fill_rect};
use crate::error::{AudioError, DataError};

/// Pixels per frame horizontally.
const FRAME_PX: u32 = 2;
/// Pixels per mel band vertically.
const MEL_PX: u32 = 3;
/// Margin around everything.
const MARGIN: u32 = 8;
/// Height of a ground-truth bar.
const BAR_PX: u32 = 6;
/// Height of the digit glyphs (the DigitCircle stamps, 12 rows).
const GLYPH_PX: u32 = 12;
/// Height of one activation lane.
const LANE_PX: u32 = 8;
/// Colours of channels that have no digit assigned: matplotlib's `Set1` minus yellow, then
/// `Dark2`, so they do not read as `tab10` digit colours.
const CHANNEL_PALETTE: [[u8; 3]; 12] = [
    [228, 26, 28],
    [55, 126, 184],
    [77, 175, 74],
    [152, 78, 163],
    [255, 127, 0],
    [166, 86, 40],
    [247, 129, 191],
    [27, 158, 119],
    [217, 95, 2],
    [117, 112, 179],
    [231, 41, 138],
    [102, 166, 30],
];

/// Writes `audio` (in [−1, 1]; clipped beyond) as a mono 16-bit PCM WAV.
///
/// # Errors
/// [`AudioError::WriteWav`] naming the file.
pub fn write_wav(audio: &[f32], sample_rate: u32, path: &Path) -> Result<(), DataError> {
    let wrap = |source| AudioError::WriteWav {
        path: path.to_owned(),
        source,
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(wrap)?;
    {
        let mut samples = writer.get_i16_writer(audio.len() as u32);
        for &x in audio {
            // The inverse of reading (x / 32768), rounded and saturated.
            let v = (f64::from(x) * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16;
            samples.write_sample(v);
        }
        samples.flush().map_err(wrap)?;
    }
    writer.finalize().map_err(wrap)?;
    Ok(())
}

/// viridis, sampled at 0, 0.25, 0.5, 0.75, 1.
const VIRIDIS: [[f32; 3]; 5] = [
    [68.0, 1.0, 84.0],
    [59.0, 82.0, 139.0],
    [33.0, 145.0, 140.0],
    [94.0, 201.0, 98.0],
    [253.0, 231.0, 37.0],
];

fn viridis(t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    [0, 1, 2].map(|c| (a[c] + (b[c] - a[c]) * f).round() as u8)
}

fn grey(t: f32) -> [u8; 3] {
    // Faint: 235 (quiet) .. 120 (loud), so coloured activations stand out.
    let v = (235.0 - 115.0 * t.clamp(0.0, 1.0)).round() as u8;
    [v, v, v]
}

/// Canvas with the spectrogram (low frequencies at the bottom) drawn at the top, and room for
/// `extra` pixels below it.
fn spectrogram_canvas(spec: &Spectrogram, extra: u32, colour: fn(f32) -> [u8; 3]) -> RgbImage {
    let (frames, mels) = (spec.n_frames() as u32, spec.n_mels() as u32);
    let width = frames * FRAME_PX + 2 * MARGIN;
    let height = mels * MEL_PX + 2 * MARGIN + extra;
    let mut canvas = RgbImage::from_pixel(width, height, Rgb(PAPER));
    let (lo, hi) = spec.range();
    let span = if hi > lo { hi - lo } else { 1.0 };
    for t in 0..spec.n_frames() {
        for m in 0..spec.n_mels() {
            let v = spec.get(t, m).unwrap_or(lo);
            fill_rect(
                &mut canvas,
                MARGIN + t as u32 * FRAME_PX,
                MARGIN + (mels - 1 - m as u32) * MEL_PX,
                FRAME_PX,
                MEL_PX,
                colour((v - lo) / span),
            );
        }
    }
    canvas
}

/// Ground-truth bars at `y`, each in its digit's colour, with the digit drawn under its start.
fn draw_spans(canvas: &mut RgbImage, motifs: &[SpokenDigit], y: u32) {
    for m in motifs {
        let colour = PALETTE[usize::from(m.digit) % PALETTE.len()];
        let x = MARGIN + m.frames.start as u32 * FRAME_PX;
        let w = (m.frames.len() as u32 * FRAME_PX).max(1);
        fill_rect(canvas, x, y, w, BAR_PX, colour);
        // top = 0 makes draw_glyph put the glyph below `bottom`.
        draw_glyph(canvas, m.digit, x, 0, y + BAR_PX + 2, 1, colour);
    }
}

/// Height of the ground-truth strip under the spectrogram.
const SPANS_PX: u32 = 4 + BAR_PX + 2 + GLYPH_PX;

/// The spectrogram (viridis, 2 px per frame, 3 px per mel band, low frequencies at the
/// bottom) with each digit's frame span as a bar in its `tab10` colour underneath, labelled
/// with the digit.
#[must_use]
pub fn render_spectrogram(spec: &Spectrogram, motifs: &[SpokenDigit]) -> RgbImage {
    let mut canvas = spectrogram_canvas(spec, SPANS_PX, viridis);
    let below = MARGIN + spec.n_mels() as u32 * MEL_PX;
    draw_spans(&mut canvas, motifs, below + 4);
    canvas
}

/// Writes [`render_spectrogram`] as a PNG.
///
/// # Errors
/// [`DataError::Image`] if the file cannot be written.
pub fn write_spectrogram_png(
    spec: &Spectrogram,
    motifs: &[SpokenDigit],
    path: &Path,
) -> Result<(), DataError> {
    save(&render_spectrogram(spec, motifs), path)
}

/// The colour of motif channel `c`: its digit's `tab10` colour if `channel_digits[c]` is
/// `Some(d)`, black if it is `None` (a channel that stands for no digit), and a per-channel
/// colour if `channel_digits` does not cover `c` (pass `&[]` to colour by channel only).
#[must_use]
pub fn channel_colour(channel: usize, channel_digits: &[Option<u8>]) -> [u8; 3] {
    match channel_digits.get(channel) {
        Some(Some(d)) => PALETTE[usize::from(*d) % PALETTE.len()],
        Some(None) => [0, 0, 0],
        None => CHANNEL_PALETTE[channel % CHANNEL_PALETTE.len()],
    }
}

/// Motif activations over a spectrogram: the spectrogram in faint grey; every frame where a
/// channel is active (value > 0) marked by a full-height line in the channel's colour (see
/// [`channel_colour`]; the strongest channel wins a frame); the ground-truth spans below; then
/// one lane per channel whose bars are proportional to the activation (relative to that
/// channel's maximum).
///
/// `activations` is `[channels × n_frames]` row-major, e.g. the sparse layer's output for one
/// clip.
///
/// # Errors
/// [`AudioError::ShapeMismatch`] if `activations` is not `channels · n_frames` long.
pub fn render_motif_activations(
    spec: &Spectrogram,
    activations: &[f32],
    channels: usize,
    motifs: &[SpokenDigit],
    channel_digits: &[Option<u8>],
) -> Result<RgbImage, DataError> {
    let frames = spec.n_frames();
    if activations.len() != channels * frames {
        return Err(AudioError::ShapeMismatch {
            what: "motif activations [channels x frames]",
            expected: channels * frames,
            found: activations.len(),
        }
        .into());
    }
    let lanes = channels as u32 * (LANE_PX + 2);
    let mut canvas = spectrogram_canvas(spec, SPANS_PX + 6 + lanes, grey);
    let top = MARGIN;
    let spec_h = spec.n_mels() as u32 * MEL_PX;
    let row = |c: usize| &activations[c * frames..(c + 1) * frames];

    for t in 0..frames {
        let strongest = (0..channels)
            .filter(|&c| row(c)[t] > 0.0)
            .max_by(|&a, &b| row(a)[t].total_cmp(&row(b)[t]));
        if let Some(c) = strongest {
            let x = MARGIN + t as u32 * FRAME_PX;
            fill_rect(
                &mut canvas,
                x,
                top,
                FRAME_PX,
                spec_h,
                channel_colour(c, channel_digits),
            );
        }
    }
    let below = top + spec_h;
    draw_spans(&mut canvas, motifs, below + 4);

    let lanes_top = below + SPANS_PX + 6;
    for c in 0..channels {
        let y = lanes_top + c as u32 * (LANE_PX + 2);
        let colour = channel_colour(c, channel_digits);
        // A swatch in the left margin identifies the lane.
        fill_rect(&mut canvas, 1, y + 1, MARGIN - 2, LANE_PX - 2, colour);
        let max = row(c).iter().copied().fold(0f32, f32::max);
        if max <= 0.0 {
            continue;
        }
        for (t, &v) in row(c).iter().enumerate() {
            if v > 0.0 {
                let h = ((v / max) * LANE_PX as f32)
                    .ceil()
                    .clamp(1.0, LANE_PX as f32) as u32;
                let x = MARGIN + t as u32 * FRAME_PX;
                fill_rect(&mut canvas, x, y + LANE_PX - h, FRAME_PX, h, colour);
            }
        }
    }
    Ok(canvas)
}

fn save(canvas: &RgbImage, path: &Path) -> Result<(), DataError> {
    canvas.save(path).map_err(|source| DataError::Image {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Spectrogram, Vec<SpokenDigit>) {
        let (frames, mels) = (100, 8);
        let data = (0..frames * mels).map(|i| (i % 17) as f32 - 40.0).collect();
        let spec = Spectrogram::from_time_major(frames, mels, data).expect("shape");
        let motifs = vec![SpokenDigit {
            digit: 3,
            speaker: "ann".into(),
            file: "3_ann_0.wav".into(),
            start: 100,
            len: 500,
            frames: 10..30,
            augmentation: None,
        }];
        (spec, motifs)
    }

    #[test]
    fn wav_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("clip.wav");
        let audio = [0.0, 0.5, -1.0, 2.0, -0.25];
        write_wav(&audio, 8000, &path).expect("write");
        let mut r = hound::WavReader::open(&path).expect("open");
        assert_eq!(r.spec().sample_rate, 8000);
        let back: Vec<i16> = r.samples::<i16>().map(|s| s.expect("sample")).collect();
        assert_eq!(back, [0, 16_384, -32_768, 32_767, -8192]);
        let err = write_wav(&audio, 8000, &dir.path().join("no/such/dir.wav")).expect_err("bad");
        assert!(err.to_string().contains("dir.wav"));
    }

    #[test]
    fn spectrogram_png_marks_the_spans() {
        let (spec, motifs) = toy();
        let img = render_spectrogram(&spec, &motifs);
        assert_eq!(img.width(), 100 * FRAME_PX + 2 * MARGIN);
        assert_eq!(img.height(), 8 * MEL_PX + 2 * MARGIN + SPANS_PX);
        let bar_y = MARGIN + 8 * MEL_PX + 4;
        assert_eq!(img.get_pixel(MARGIN + 20 * FRAME_PX, bar_y).0, PALETTE[3]);
        assert_eq!(img.get_pixel(MARGIN + 50 * FRAME_PX, bar_y).0, PAPER);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("spec.png");
        write_spectrogram_png(&spec, &motifs, &path).expect("write");
        assert_eq!(
            image::open(&path).expect("read").to_rgb8().dimensions(),
            img.dimensions()
        );
    }

    #[test]
    fn activations_take_their_channel_colour() {
        let (spec, motifs) = toy();
        let mut act = vec![0.0; 3 * 100];
        act[15] = 2.0; // channel 0, frame 15
        act[100 + 60] = 1.0; // channel 1, frame 60
        act[200 + 60] = 0.5; // channel 2, frame 60: weaker, loses the frame
        let img =
            render_motif_activations(&spec, &act, 3, &motifs, &[Some(3), None]).expect("shape");
        let y = MARGIN + 1;
        assert_eq!(img.get_pixel(MARGIN + 15 * FRAME_PX, y).0, PALETTE[3]);
        assert_eq!(img.get_pixel(MARGIN + 60 * FRAME_PX, y).0, [0, 0, 0]);
        assert_eq!(channel_colour(2, &[Some(3), None]), CHANNEL_PALETTE[2]);
        let lane2 = MARGIN + 8 * MEL_PX + SPANS_PX + 6 + 2 * (LANE_PX + 2) + LANE_PX - 1;
        assert_eq!(
            img.get_pixel(MARGIN + 60 * FRAME_PX, lane2).0,
            CHANNEL_PALETTE[2]
        );
        assert!(render_motif_activations(&spec, &act[1..], 3, &motifs, &[]).is_err());
    }
}
