//! `sparling motifs`: pictures of what each motif channel of a trained model fires on.

use std::path::PathBuf;

use anyhow::Context;
use burn::module::Module;
use burn::prelude::*;
use clap::Args;
use sparling_data::export::{ActivePixel, render_activations};
use sparling_data::{Dataset, DigitCircle, Split};
use sparling_metrics::confusion_svg;
use sparling_models::checkpoint::load_model;
use sparling_models::config::DomainConfig;
use sparling_models::evaluation::motif_confusion;
use sparling_models::inference::motif_maps_host;

use super::run_dir::{ModelArgs, open};
use super::usage;

/// `sparling motifs`.
#[derive(Debug, Args)]
pub struct MotifsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Number of motif-evaluation images to draw.
    #[arg(long, default_value_t = 8)]
    count: usize,
    /// Images used to assign each channel to a digit (Hungarian, as CE) and for the matrix.
    #[arg(long, default_value_t = 500)]
    confusion_samples: usize,
    /// Upscaling factor of the PNGs.
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
    let DomainConfig::DigitCircle(domain) = &opened.config.domain;
    let generator = DigitCircle::new(domain.clone())?;
    let task = opened.config.domain.task()?;
    let model = load_model(&opened.config, &opened.checkpoint.dir, &opened.device)?.valid();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating --out {}", args.out.display()))?;

    let (confusion, _) = motif_confusion(
        &model,
        task.as_ref(),
        args.confusion_samples,
        50,
        &opened.device,
    )?;
    let channel_digits: Vec<Option<u8>> = confusion
        .channel_classes(true)
        .into_iter()
        .map(|d| d.and_then(|d| u8::try_from(d).ok()))
        .collect();
    let names: Vec<String> = (0..confusion.num_classes())
        .map(|d| d.to_string())
        .collect();
    let title = format!(
        "motif-eval, {} images, density {:.3e}: true digit (rows) x channel",
        args.confusion_samples, opened.checkpoint.density
    );
    confusion_svg(&confusion, &names, &title, &args.out.join("confusion.svg"))?;

    let samples = Dataset::new(generator, Split::MotifEval).batch(0, args.count)?;
    let batch = task.batch(Split::MotifEval, 0, args.count)?;
    let inputs = Tensor::from_data(TensorData::new(batch.inputs, batch.shape), &opened.device);
    let (maps, [_, channels, h, w]) = motif_maps_host(&model, inputs)?;
    for (i, sample) in samples.iter().enumerate() {
        let map = &maps[i * channels * h * w..(i + 1) * channels * h * w];
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
            &channel_digits,
            args.scale,
        );
        let path = args.out.join(format!("motifs-{i:03}.png"));
        picture
            .save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "channel -> digit (Hungarian): {}",
        assignment(&channel_digits)
    );
    print!("{confusion}");
    println!(
        "wrote {} pictures and confusion.svg to {}",
        args.count,
        args.out.display()
    );
    Ok(())
}

fn assignment(channel_digits: &[Option<u8>]) -> String {
    channel_digits
        .iter()
        .enumerate()
        .map(|(c, d)| match d {
            Some(d) => format!("#{c}->{d}"),
            None => format!("#{c}->-"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
