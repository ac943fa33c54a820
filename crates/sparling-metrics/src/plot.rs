//! SVG pictures of results: the channel-by-class confusion matrix and training curves
//! (accuracy and density against samples). Plain numbers in, files out.

use std::path::Path;

use plotters::prelude::*;

use crate::confusion::ConfusionMatrix;
use crate::error::MetricsError;

fn plot_error(path: &Path) -> impl Fn(String) -> MetricsError + '_ {
    move |message| MetricsError::Plot {
        path: path.to_owned(),
        message,
    }
}

/// The confusion matrix as a heat map (rows: true classes then "none"; columns: channels then
/// "none"), each row scaled to its own maximum so that a one-class-per-channel model shows one
/// dark cell per row, with the counts written in the cells. `class_names` label the rows.
///
/// # Errors
/// [`MetricsError::Plot`] if the file cannot be written.
pub fn confusion_svg(
    matrix: &ConfusionMatrix,
    class_names: &[String],
    title: &str,
    path: &Path,
) -> Result<(), MetricsError> {
    let err = plot_error(path);
    let (rows, cols) = (matrix.num_classes() + 1, matrix.num_channels() + 1);
    let cell = 44u32;
    let (left, top) = (70u32, 60u32);
    let size = (
        left + cell * cols as u32 + 20,
        top + cell * rows as u32 + 20,
    );
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let text = |s: &str, x: u32, y: u32, size: u32| {
        root.draw(&Text::new(
            s.to_owned(),
            (x as i32, y as i32),
            ("sans-serif", size).into_font().color(&BLACK),
        ))
        .map_err(|e| err(e.to_string()))
    };
    text(title, 10, 8, 16)?;
    text("channel →", left, 28, 12)?;
    let class_label = |r: usize| match class_names.get(r) {
        Some(name) if r + 1 < rows => name.clone(),
        _ if r + 1 < rows => r.to_string(),
        _ => "none".to_owned(),
    };
    for r in 0..rows {
        let truth = (r + 1 < rows).then_some(r);
        let row_max = (0..cols)
            .map(|c| matrix.get(truth, (c + 1 < cols).then_some(c)))
            .max()
            .unwrap_or(0)
            .max(1);
        text(
            &class_label(r),
            10,
            top + r as u32 * cell + cell / 2 - 6,
            13,
        )?;
        for c in 0..cols {
            let n = matrix.get(truth, (c + 1 < cols).then_some(c));
            let shade = 1.0 - n as f64 / row_max as f64;
            let grey = (255.0 * (0.15 + 0.85 * shade)) as u8;
            let (x, y) = (left + c as u32 * cell, top + r as u32 * cell);
            root.draw(&Rectangle::new(
                [(x as i32, y as i32), ((x + cell) as i32, (y + cell) as i32)],
                RGBColor(grey, grey, 255).filled(),
            ))
            .map_err(|e| err(e.to_string()))?;
            if r == 0 {
                let label = if c + 1 < cols {
                    format!("#{c}")
                } else {
                    "none".into()
                };
                text(&label, x + 6, top - 16, 12)?;
            }
            if n > 0 {
                let colour = if shade < 0.5 { WHITE } else { BLACK };
                root.draw(&Text::new(
                    n.to_string(),
                    (x as i32 + 3, (y + cell / 2) as i32 - 5),
                    ("sans-serif", 10).into_font().color(&colour),
                ))
                .map_err(|e| err(e.to_string()))?;
            }
        }
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// One training run's validation history for [`training_curves_svg`].
#[derive(Clone, Debug, Default)]
pub struct Curves {
    /// `(samples, validation accuracy in [0, 1])`.
    pub accuracy: Vec<(f64, f64)>,
    /// `(samples, density)`, density > 0.
    pub density: Vec<(f64, f64)>,
}

/// Two panels over training samples: validation accuracy (top) and density on a log scale
/// (bottom), with an optional horizontal reference density (e.g. the paper's evaluation
/// density).
///
/// # Errors
/// [`MetricsError::Plot`] if the file cannot be written or there is nothing to plot.
pub fn training_curves_svg(
    curves: &Curves,
    title: &str,
    reference_density: Option<(f64, &str)>,
    path: &Path,
) -> Result<(), MetricsError> {
    let err = plot_error(path);
    let x_max = curves
        .accuracy
        .iter()
        .chain(&curves.density)
        .map(|p| p.0)
        .fold(1.0, f64::max);
    let densities = curves
        .density
        .iter()
        .map(|p| p.1)
        .chain(reference_density.map(|r| r.0));
    let (d_min, d_max) = densities.fold((1.0f64, 1e-12f64), |(lo, hi), d| (lo.min(d), hi.max(d)));
    if d_min <= 0.0 {
        return Err(err("densities must be positive".into()));
    }
    let root = SVGBackend::new(path, (760, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let root = root
        .titled(title, ("sans-serif", 18))
        .map_err(|e| err(e.to_string()))?;
    let (upper, lower) = root.split_vertically(290);

    let mut acc = ChartBuilder::on(&upper)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..x_max, 0.0..1.0)
        .map_err(|e| err(e.to_string()))?;
    acc.configure_mesh()
        .y_desc("val exact match")
        .x_label_formatter(&|x| format!("{:.0}k", x / 1e3))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    acc.draw_series(LineSeries::new(curves.accuracy.iter().copied(), &BLUE))
        .map_err(|e| err(e.to_string()))?;

    let mut den = ChartBuilder::on(&lower)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..x_max, (d_min * 0.7..d_max * 1.4).log_scale())
        .map_err(|e| err(e.to_string()))?;
    den.configure_mesh()
        .y_desc("density")
        .x_desc("training samples")
        .x_label_formatter(&|x| format!("{:.0}k", x / 1e3))
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    den.draw_series(LineSeries::new(curves.density.iter().copied(), &RED))
        .map_err(|e| err(e.to_string()))?
        .label("density")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    if let Some((d, label)) = reference_density {
        den.draw_series(LineSeries::new(
            [(0.0, d), (x_max, d)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| err(e.to_string()))?
        .label(label)
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    }
    den.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

/// Validation accuracy against training samples for several runs in one chart (a recipe
/// search's learning curves). `runs` pairs a legend label with `(samples, accuracy in [0, 1])`.
///
/// # Errors
/// [`MetricsError::Plot`] if the file cannot be written.
pub fn accuracy_comparison_svg(
    runs: &[(String, Vec<(f64, f64)>)],
    title: &str,
    path: &Path,
) -> Result<(), MetricsError> {
    let err = plot_error(path);
    let x_max = runs
        .iter()
        .flat_map(|(_, points)| points.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..x_max, 0.0..1.0)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .y_desc("val exact match")
        .x_desc("training samples")
        .x_label_formatter(&|x| format!("{:.0}k", x / 1e3))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (i, (label, points)) in runs.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    finish_with_legend(chart, root, SeriesLabelPosition::UpperLeft, &err)
}

/// One labelled mark per point, `x` on a log scale (a density), `y` a percentage: the
/// motif error of each method against the density it measured. Points with a non-positive or
/// non-finite `x` or a non-finite `y` are left out.
///
/// # Errors
/// [`MetricsError::Plot`] if the file cannot be written.
pub fn labelled_scatter_svg(
    points: &[(String, f64, f64)],
    x_desc: &str,
    y_desc: &str,
    title: &str,
    path: &Path,
) -> Result<(), MetricsError> {
    let err = plot_error(path);
    let shown: Vec<&(String, f64, f64)> = points
        .iter()
        .filter(|(_, x, y)| x.is_finite() && *x > 0.0 && y.is_finite())
        .collect();
    let (x_min, x_max) = shown
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, x, _)| {
            (lo.min(*x), hi.max(*x))
        });
    let (x_min, x_max) = if x_min.is_finite() {
        (x_min / 2.0, x_max * 2.0)
    } else {
        (1e-5, 1.0)
    };
    let y_max = shown.iter().map(|p| p.2).fold(1.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0e}"))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (i, (label, x, y)) in shown.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        chart
            .draw_series(std::iter::once(Circle::new((*x, *y), 5, colour.filled())))
            .map_err(|e| err(e.to_string()))?
            .label(label.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
    }
    finish_with_legend(chart, root, SeriesLabelPosition::UpperRight, &err)
}

/// Draw the legend of `chart` at `position` and write the picture.
fn finish_with_legend<'a, X: Ranged, Y: Ranged>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    root: DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    position: SeriesLabelPosition,
    err: &impl Fn(String) -> MetricsError,
) -> Result<(), MetricsError> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motif::{Categorized, SiteOutcome};

    #[test]
    fn pictures_are_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut m = ConfusionMatrix::new(2, 3);
        m.add(&Categorized {
            sites: vec![
                SiteOutcome {
                    class: 0,
                    channel: Some(1),
                },
                SiteOutcome {
                    class: 1,
                    channel: None,
                },
            ],
            false_positives: vec![0, 0, 4],
        })
        .expect("valid");
        let curves = dir.path().join("curves.svg");
        let runs = vec![
            ("a".to_string(), vec![(0.0, 0.0), (10.0, 0.5)]),
            ("b".to_string(), vec![(0.0, 0.1), (20.0, 0.9)]),
        ];
        accuracy_comparison_svg(&runs, "recipes", &curves).expect("svg");
        assert!(
            std::fs::read_to_string(&curves)
                .expect("read")
                .contains("recipes")
        );
        let scatter = dir.path().join("methods.svg");
        let points = vec![
            ("sparling".to_string(), 5e-5, 1.2),
            ("l1".to_string(), 0.04, 47.8),
            ("not drawn".to_string(), 0.0, 3.0),
        ];
        labelled_scatter_svg(&points, "density", "CE (%)", "methods", &scatter).expect("svg");
        let svg = std::fs::read_to_string(&scatter).expect("read");
        assert!(svg.contains("sparling") && svg.contains("l1") && !svg.contains("not drawn"));
        let path = dir.path().join("confusion.svg");
        confusion_svg(&m, &["zero".into(), "one".into()], "test", &path).expect("svg");
        let svg = std::fs::read_to_string(&path).expect("read");
        assert!(
            svg.contains("zero") && svg.contains("#2") && svg.contains("\n4\n"),
            "{svg}"
        );

        let curves = Curves {
            accuracy: vec![(0.0, 0.0), (1e4, 0.5), (2e4, 0.9)],
            density: vec![(0.0, 0.5), (1e4, 0.375), (2e4, 1e-4)],
        };
        let path = dir.path().join("curves.svg");
        training_curves_svg(&curves, "run", Some((5e-5, "paper")), &path).expect("svg");
        assert!(
            std::fs::read_to_string(&path)
                .expect("read")
                .contains("paper")
        );
        let bad = Curves {
            density: vec![(0.0, 0.0)],
            ..Curves::default()
        };
        assert!(matches!(
            training_curves_svg(&bad, "run", None, &path),
            Err(MetricsError::Plot { .. })
        ));
    }
}
