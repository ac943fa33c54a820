//! `sparling motifs`: pictures of what each motif channel of a trained model fires on.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::module::Module;
use burn::prelude::*;
use clap::Args;
use sparling_data::audio::export::render_motif_activations;
use sparling_data::digit_circle::export::{ActivePixel, render_activations};
use sparling_data::latex::LatexOcr;
use sparling_data::{Dataset, DigitCircle, DigitCircleConfig, LatexConfig, Split, SymbolClass};
use sparling_metrics::confusion_svg;
use sparling_models::SparlingModel;
use sparling_models::config::{AudioDomainConfig, DomainConfig};
use sparling_models::evaluation::{EVAL_BATCH_SIZE, motif_confusion};
use sparling_models::inference::motif_maps_host;
use sparling_models::task::Task;

use super::run_dir::{ModelArgs, open};
use super::{audio_sequence, usage};

/// `sparling motifs`.
#[derive(Debug, Args)]
pub struct MotifsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Number of motif-evaluation images (or audio clips) to draw.
    #[arg(long, default_value_t = 8)]
    count: usize,
    /// Samples used to assign each channel to a class (as the run's CE does: Hungarian for
    /// DigitCircle, each channel's majority class for audio and LaTeX) and for the matrix.
    #[arg(long, default_value_t = 500)]
    confusion_samples: usize,
    /// Upscaling factor of the PNGs (image domains; audio pictures have a fixed size).
    #[arg(long, default_value_t = 5)]
    scale: u32,
    /// Output directory (created): `motifs-NNN.png` and `confusion.svg`.
    #[arg(long)]
    out: PathBuf,
}

/// Run `sparling motifs`.
///
/// # Errors
/// Usage errors (exit code 2) for bad values; runtime errors otherwise.
pub fn run(args: &MotifsArgs) -> anyhow::Result<()> {
    if args.count == 0 || args.confusion_samples == 0 || !(1..=16).contains(&args.scale) {
        return usage(format!(
            "--count {}, --confusion-samples {}, --scale {}: counts must be at least 1 and the \
             scale within 1..=16",
            args.count, args.confusion_samples, args.scale
        ));
    }
    let opened = open(&args.model)?;
    let task = opened.task.as_ref();
    let model = opened.checkpoint.model.clone().valid();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating --out {}", args.out.display()))?;

    let one_to_one = task.motif_protocol().hungarian;
    let (confusion, _) = motif_confusion(
        &model,
        task,
        args.confusion_samples,
        EVAL_BATCH_SIZE,
        &opened.device,
    )?;
    let channel_classes = confusion.channel_classes(one_to_one);
    let channel_digits: Vec<Option<u8>> = channel_classes
        .iter()
        .map(|d| d.and_then(|d| u8::try_from(d).ok()))
        .collect();
    let names = class_names(&opened.config.domain, confusion.num_classes());
    let title = format!(
        "motif-eval, {} samples, density {:.3e}: true {} (rows) x channel",
        args.confusion_samples,
        opened.checkpoint.selected.density,
        match opened.config.domain {
            DomainConfig::Latex(_) => "symbol",
            _ => "digit",
        }
    );
    confusion_svg(&confusion, &names, &title, &args.out.join("confusion.svg"))?;

    let pictures = Pictures {
        model: &model,
        task,
        device: &opened.device,
        channel_digits: &channel_digits,
        channel_classes: &channel_classes,
        count: args.count,
        out: &args.out,
    };
    match &opened.config.domain {
        DomainConfig::DigitCircle(domain) => pictures.digit_circle(domain, args.scale)?,
        DomainConfig::Audio(domain) => pictures.audio(domain)?,
        DomainConfig::Latex(domain) => pictures.latex(domain, args.scale)?,
    }
    println!(
        "channel -> class ({}): {}",
        if one_to_one { "Hungarian" } else { "majority" },
        assignment(&channel_classes, &names)
    );
    print!("{confusion}");
    println!(
        "wrote {} pictures and confusion.svg to {}",
        args.count,
        args.out.display()
    );
    Ok(())
}

/// What the per-domain pictures need.
struct Pictures<'a> {
    model: &'a SparlingModel,
    task: &'a dyn Task,
    device: &'a Device,
    /// Per channel, the digit it stands for (digit domains' renderers).
    channel_digits: &'a [Option<u8>],
    /// Per channel, the class it stands for.
    channel_classes: &'a [Option<usize>],
    count: usize,
    out: &'a Path,
}

/// Pictures are drawn this many at a time, so memory does not grow with `--count`.
const CHUNK: usize = 16;

impl Pictures<'_> {
    /// `(first index, length)` of each chunk of the `count` pictures.
    fn chunks(&self) -> impl Iterator<Item = (usize, usize)> + use<> {
        let count = self.count;
        (0..count)
            .step_by(CHUNK)
            .map(move |start| (start, CHUNK.min(count - start)))
    }

    /// Motif maps `[len, channels, H, W]` of motif-eval samples `start..start + len`.
    fn maps(&self, start: usize, len: usize) -> anyhow::Result<(Vec<f32>, [usize; 4])> {
        let batch = self.task.batch(Split::MotifEval, start as u64, len)?;
        let inputs = Tensor::from_data(TensorData::new(batch.inputs, batch.shape), self.device);
        Ok(motif_maps_host(self.model, inputs)?)
    }

    /// Writes picture `i` as `motifs-NNN.png`.
    fn save(&self, i: usize, picture: &image::RgbImage) -> anyhow::Result<()> {
        let path = self.out.join(format!("motifs-{i:03}.png"));
        picture
            .save(&path)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The images upscaled, active pixels coloured by channel, true boxes outlined.
    fn digit_circle(&self, domain: &DigitCircleConfig, scale: u32) -> anyhow::Result<()> {
        let data = Dataset::new(DigitCircle::new(domain.clone())?, Split::MotifEval);
        for (start, len) in self.chunks() {
            let samples = data.batch(start as u64, len)?;
            let (maps, [_, channels, h, w]) = self.maps(start, len)?;
            for (k, sample) in samples.iter().enumerate() {
                let map = &maps[k * channels * h * w..(k + 1) * channels * h * w];
                let active: Vec<ActivePixel> = map
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(j, _)| ActivePixel {
                        channel: j / (h * w),
                        row: j / w % h,
                        col: j % w,
                    })
                    .collect();
                let picture = render_activations(
                    &sample.image,
                    &sample.motifs,
                    &active,
                    self.channel_digits,
                    scale,
                );
                self.save(start + k, &picture)?;
            }
        }
        Ok(())
    }

    /// The spectrograms, active frames coloured by channel, the true digit spans below, and one
    /// activation lane per channel.
    fn audio(&self, domain: &AudioDomainConfig) -> anyhow::Result<()> {
        let data = Dataset::new(audio_sequence(domain)?, Split::MotifEval);
        for (start, len) in self.chunks() {
            let samples = data.batch(start as u64, len)?;
            // [len, channels, frames, 1]: each sample's slice is [channels x frames].
            let (maps, [_, channels, frames, w]) = self.maps(start, len)?;
            let size = channels * frames * w;
            for (k, sample) in samples.iter().enumerate() {
                let picture = render_motif_activations(
                    &sample.spectrogram()?,
                    &maps[k * size..(k + 1) * size],
                    channels,
                    &sample.motifs,
                    self.channel_digits,
                )?;
                self.save(start + k, &picture)?;
            }
        }
        Ok(())
    }

    /// The formulas upscaled (ink faint), true boxes outlined in their class colour, active
    /// pixels as squares in the colour of the class their channel stands for.
    fn latex(&self, domain: &LatexConfig, scale: u32) -> anyhow::Result<()> {
        let data = Dataset::new(LatexOcr::new(domain.clone())?, Split::MotifEval);
        for (start, len) in self.chunks() {
            let samples = data.batch(start as u64, len)?;
            let (maps, [_, channels, h, w]) = self.maps(start, len)?;
            let size = channels * h * w;
            for (k, sample) in samples.iter().enumerate() {
                let picture = sparling_data::latex::export::render_motif_activations(
                    sample,
                    &maps[k * size..(k + 1) * size],
                    channels,
                    self.channel_classes,
                    scale,
                );
                self.save(start + k, &picture)?;
            }
        }
        Ok(())
    }
}

/// Row labels of the confusion matrix: the digits, or LaTeX's symbol names (`FRACBAR` for the
/// fraction bar).
fn class_names(domain: &DomainConfig, classes: usize) -> Vec<String> {
    (0..classes)
        .map(|d| match domain {
            DomainConfig::Latex(_) => {
                SymbolClass::from_id(d).map_or_else(|| d.to_string(), |c| c.name().to_string())
            }
            _ => d.to_string(),
        })
        .collect()
}

fn assignment(channel_classes: &[Option<usize>], names: &[String]) -> String {
    channel_classes
        .iter()
        .enumerate()
        .map(|(c, d)| match d.and_then(|d| names.get(d)) {
            Some(name) => format!("#{c}->{name}"),
            None => format!("#{c}->-"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
