//! `cargo xtask diagnose --run DIR`: what kind of mistakes a model makes on the validation set.
//!
//! Exact match alone hides whether a model fails to recognise the symbols or to order them, which
//! is what a recipe search needs to know. This decodes the validation split and splits the
//! errors into: wrong set of symbols, right set in the wrong order (of which: a rotation of the
//! right cycle, or the reverse cycle), and accuracy per output position.

use burn::module::Module;
use clap::Args;
use sparling_data::Split;
use sparling_models::checkpoint::{RunDir, open_checkpoint};
use sparling_models::inference::{Prediction, predict};

/// `cargo xtask diagnose`.
#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Run directory.
    #[arg(long)]
    run: std::path::PathBuf,
    /// Model trained at this density (default: the lowest reached).
    #[arg(long)]
    density: Option<f64>,
    /// Validation samples to decode.
    #[arg(long, default_value_t = 500)]
    samples: usize,
    /// Decode with the model in training mode (BatchNorm on batch statistics, thresholds from
    /// each batch): a large gap to the default eval mode points at stale running statistics.
    #[arg(long)]
    train_mode: bool,
}

/// Run `cargo xtask diagnose`.
///
/// # Errors
/// A missing run or checkpoint, or model errors.
pub fn run(args: &DiagnoseArgs) -> anyhow::Result<()> {
    let dir = RunDir::new(&args.run);
    let Some(config) = dir.read_config()? else {
        anyhow::bail!("{}: no config.toml", args.run.display());
    };
    let plain = burn::prelude::Device::flex();
    let device = if args.train_mode {
        plain.autodiff()
    } else {
        plain
    };
    let opened = open_checkpoint(&dir, args.density, &config, &device)?;
    let selected = &opened.selected;
    let model = if args.train_mode {
        opened.model.clone()
    } else {
        opened.model.clone().valid()
    };
    let task = config.domain.task()?;
    let pairs = predict(
        &model,
        task.as_ref(),
        Split::Val,
        args.samples,
        50,
        config.training.val_max_length,
        &device,
    )?;
    println!(
        "checkpoint {} (density {:.3e}, {} samples)\n",
        selected.dir.display(),
        selected.density,
        selected.samples
    );
    print!("{}", Diagnosis::of(&pairs));
    Ok(())
}

/// Error breakdown of a set of predictions.
#[derive(Debug, Default, PartialEq)]
struct Diagnosis {
    total: usize,
    exact: usize,
    same_set: usize,
    rotation: usize,
    reversed: usize,
    right_length: usize,
    /// `(correct, total)` per output position.
    positions: Vec<(usize, usize)>,
    /// `(exact, right set, total)` per reference length.
    lengths: std::collections::BTreeMap<usize, (usize, usize, usize)>,
}

impl Diagnosis {
    fn of(pairs: &[Prediction]) -> Self {
        let mut d = Diagnosis {
            total: pairs.len(),
            ..Diagnosis::default()
        };
        for (p, t) in pairs {
            d.exact += usize::from(p == t);
            d.right_length += usize::from(p.len() == t.len());
            let (mut ps, mut ts) = (p.clone(), t.clone());
            ps.sort_unstable();
            ts.sort_unstable();
            let by_length = d.lengths.entry(t.len()).or_default();
            by_length.0 += usize::from(p == t);
            by_length.1 += usize::from(ps == ts);
            by_length.2 += 1;
            if ps == ts && p != t {
                d.same_set += 1;
                d.rotation += usize::from(is_rotation(p, t));
                let reversed: Vec<u32> = t.iter().rev().copied().collect();
                d.reversed += usize::from(is_rotation(p, &reversed));
            }
            for (i, want) in t.iter().enumerate() {
                if d.positions.len() <= i {
                    d.positions.push((0, 0));
                }
                d.positions[i].1 += 1;
                d.positions[i].0 += usize::from(p.get(i) == Some(want));
            }
        }
        d
    }
}

fn is_rotation(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len()
        && (0..b.len()).any(|k| a.iter().zip(b.iter().cycle().skip(k)).all(|(x, y)| x == y))
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
        let wrong = self.total - self.exact;
        writeln!(
            f,
            "exact match            {:6.2} %",
            pct(self.exact, self.total)
        )?;
        writeln!(
            f,
            "right length           {:6.2} %",
            pct(self.right_length, self.total)
        )?;
        writeln!(
            f,
            "right set, wrong order {:6.2} % of all ({:.1} % of the errors)",
            pct(self.same_set, self.total),
            pct(self.same_set, wrong)
        )?;
        writeln!(
            f,
            "  a rotation           {:6.2} %",
            pct(self.rotation, self.total)
        )?;
        writeln!(
            f,
            "  the reverse cycle    {:6.2} %",
            pct(self.reversed, self.total)
        )?;
        writeln!(
            f,
            "wrong set              {:6.2} %",
            pct(wrong - self.same_set, self.total)
        )?;
        for (len, (exact, set, n)) in &self.lengths {
            writeln!(
                f,
                "{len} symbols: exact {:6.2} %, right set {:6.2} %, ordered right when the set is right {:6.2} % ({n} samples)",
                pct(*exact, *n),
                pct(*set, *n),
                pct(*exact, *set)
            )?;
        }
        for (i, (ok, n)) in self.positions.iter().enumerate() {
            writeln!(f, "position {i}: {:6.2} % of {n}", pct(*ok, *n))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_split_by_kind() {
        let pairs: Vec<Prediction> = vec![
            (vec![1, 2, 3], vec![1, 2, 3]),       // exact
            (vec![2, 3, 1], vec![1, 2, 3]),       // rotation
            (vec![1, 3, 2, 4], vec![1, 2, 3, 4]), // same set, neither rotation nor reverse
            (vec![1, 4, 3, 2], vec![1, 2, 3, 4]), // reverse cycle
            (vec![1, 2], vec![1, 2, 5]),          // wrong set
        ];
        let d = Diagnosis::of(&pairs);
        assert_eq!(
            (d.exact, d.same_set, d.rotation, d.reversed, d.right_length),
            (1, 3, 1, 1, 4)
        );
        assert_eq!(d.positions[0], (4, 5));
        assert_eq!(d.positions[3], (1, 2));
    }
}
