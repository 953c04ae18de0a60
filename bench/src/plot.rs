// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! SVG line charts of measured series, for benchmark reports: rate-distortion curves
//! (x = kbit/s on a log scale, y = dB), bandwidth over time (x = s, y = kbit/s), and the like.
//!
//! Text is written as SVG `<text>` elements and rendered by whatever shows the file, so no system
//! font is needed to write a chart. The legend sits beside the plot, never over the data.
//!
//! ```no_run
//! use pixelmeet_bench::plot::{line_chart, Series};
//!
//! let sent = Series {
//!     label: "sent".into(),
//!     points: vec![(0.0, 1800.0), (1.0, 900.0), (2.0, 310.0), (3.0, 290.0)],
//! };
//! line_chart(
//!     "bandwidth.svg".as_ref(),
//!     "netsim max-kbps=300",
//!     "time (s)",
//!     "rate (kbit/s)",
//!     &[sent],
//!     false,
//! )?;
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```

use std::ops::Range;
use std::path::Path;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::CoordTranslate;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Errors carry their context as text; they end up printed to a user.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// One named line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend.
    pub label: String,
    /// `(x, y)` points, joined in this order (sort them first for a curve over x).
    pub points: Vec<(f64, f64)>,
}

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scale {
    /// Equal differences take equal lengths.
    #[default]
    Linear,
    /// Equal ratios take equal lengths (rates over several decades, as in rate-distortion
    /// plots); every value on the axis must be above zero. Ticks at 1, 2 and 5 times powers of
    /// ten.
    Log,
}

/// Chart size in SVG pixels; viewers scale it.
const WIDTH: u32 = 960;
const HEIGHT: u32 = 560;
const FONT: &str = "sans-serif";
/// Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), darkest
/// first; their yellow is left out as it does not show on white.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];
/// Markers change shape as well as colour, so series stay apart in grey print.
const MARKER_SHAPES: usize = 4;
const MARKER_SIZE: i32 = 4;

/// Writes an SVG line chart to `path` (one line per series, with point markers when `markers`),
/// axes ranges fitted to the data with a margin, labelled axes, legend and title. Both axes are
/// linear; see [`line_chart_scaled`] for a log x axis.
///
/// Fails, writing nothing, when there is no series, no point at all, or a point that is not
/// finite; a series without points keeps its legend entry.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    markers: bool,
) -> Result<(), Error> {
    line_chart_scaled(
        path,
        title,
        x_label,
        y_label,
        Scale::Linear,
        series,
        markers,
    )
}

/// [`line_chart`] with the x axis on `x_scale`. With [`Scale::Log`], an x that is not above zero
/// is an error too.
pub fn line_chart_scaled(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    x_scale: Scale,
    series: &[Series],
    markers: bool,
) -> Result<(), Error> {
    // Check everything before the backend creates the file, so a bad call leaves no empty or
    // half-written chart behind.
    if series.is_empty() {
        return Err("no series to plot".into());
    }
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    if all().next().is_none() {
        return Err("no points to plot".into());
    }
    for s in series {
        if let Some(p) = s
            .points
            .iter()
            .find(|p| !p.0.is_finite() || !p.1.is_finite())
        {
            return Err(format!("series {:?}: point {p:?} is not finite", s.label).into());
        }
        if x_scale == Scale::Log {
            if let Some(p) = s.points.iter().find(|p| p.0 <= 0.0) {
                return Err(format!(
                    "series {:?}: point {p:?} cannot go on a log x axis (x <= 0)",
                    s.label
                )
                .into());
            }
        }
    }
    let x = Axis::fitted(x_scale, all().map(|p| p.0));
    let y = Axis::fitted(Scale::Linear, all().map(|p| p.1));
    draw(path, title, x_label, y_label, x, y, series, markers)
        .map_err(|e| format!("cannot write the chart {}: {e}", path.display()).into())
}

#[allow(clippy::too_many_arguments)]
fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    x: Axis,
    y: Axis,
    series: &[Series],
    markers: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 26))?;

    // The legend gets its own column right of the plot: wherever it went inside, some data
    // (RD curves rise to the right, a rate trace can be anywhere) could end up under it.
    // Text widths are estimated as SVG text is laid out by the viewer: plotters writes a font
    // size of `size / 1.24` px, and sans-serif averages under 0.6 em per character.
    let legend_font = 18;
    let longest = series
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0);
    let legend_width = (52 + longest as i32 * legend_font * 60 / 124 + 16).clamp(120, 420);
    let (plot_area, legend_area) = root.split_horizontally(WIDTH as i32 - legend_width);

    // Light grid lines: every integer mantissa on a log axis (log paper), otherwise about one
    // between labelled lines; plotters' default of up to ten per label is hard to read.
    let light = |a: &Axis| if a.scale == Scale::Log { 10 } else { 2 };
    let (x_light, y_light) = (light(&x), light(&y));
    let x_labels = if x.scale == Scale::Log { 16 } else { 10 };
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(12)
        .x_label_area_size(56)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(x_labels)
        .y_labels(10)
        .x_max_light_lines(x_light)
        .y_max_light_lines(y_light)
        .axis_desc_style((FONT, 20))
        .label_style((FONT, 17))
        .bold_line_style(RGBColor(200, 200, 200))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;

    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart.draw_series(LineSeries::new(
            s.points.iter().copied(),
            color.stroke_width(2),
        ))?;
        if markers {
            for &p in &s.points {
                draw_marker(chart.plotting_area(), p, i, color)?;
            }
        }
    }

    // Legend: one row per series, a stroke with the series' marker, then its label; the first
    // row level with the top of the plot (the chart's margin).
    let row_height = 28;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let y = 12 + row_height / 2 + i as i32 * row_height;
        legend_area.draw(&PathElement::new(
            vec![(4, y), (40, y)],
            color.stroke_width(2),
        ))?;
        if markers {
            draw_marker(&legend_area, (22, y), i, color)?;
        }
        legend_area.draw(&Text::new(
            s.label.as_str(),
            (48, y),
            (FONT, legend_font)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// Draws the marker of series number `index` at `at` (data coordinates of `area`).
fn draw_marker<DB, CT>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    index: usize,
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    CT: CoordTranslate,
    CT::From: Clone + 'static,
{
    let filled = color.filled();
    let m = MARKER_SIZE;
    match index % MARKER_SHAPES {
        0 => area.draw(&(EmptyElement::at(at) + Circle::new((0, 0), m, filled))),
        1 => area.draw(&(EmptyElement::at(at) + TriangleMarker::new((0, 0), m + 2, filled))),
        2 => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-m, -m), (m, m)], filled))),
        _ => area.draw(
            &(EmptyElement::at(at)
                + Polygon::new(
                    vec![(0, -m - 2), (m + 2, 0), (0, m + 2), (-m - 2, 0)],
                    filled,
                )),
        ),
    }
}

/// One axis: its scale and the value range it shows.
#[derive(Debug, Clone)]
struct Axis {
    scale: Scale,
    range: Range<f64>,
}

impl Axis {
    /// The range of `values` (finite, and above zero for a log scale; at least one) with 5 % of
    /// the span (on the axis's scale) added at each end, so no point sits on the frame.
    fn fitted(scale: Scale, values: impl Iterator<Item = f64>) -> Axis {
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let range = match scale {
            Scale::Linear => {
                let pad = if hi > lo {
                    (hi - lo) * 0.05
                } else {
                    // A single value (or a flat line): show it mid-axis with a readable span.
                    (lo.abs() * 0.05).max(1.0)
                };
                lo - pad..hi + pad
            }
            Scale::Log => {
                let f = if hi > lo { (hi / lo).powf(0.05) } else { 1.5 };
                lo / f..hi * f
            }
        };
        Axis { scale, range }
    }

    /// `v` on the axis's linear position scale.
    fn position(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log => v.ln(),
        }
    }

    fn linear_ticks<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        RangedCoordf64::from(self.range.clone()).key_points(hint)
    }

    /// Powers of ten in the range times each of `mantissas`, ascending.
    fn log_ticks(&self, mantissas: &[f64]) -> Vec<f64> {
        let Range { start, end } = self.range;
        let (first, last) = (start.log10().floor() as i32, end.log10().ceil() as i32);
        // Tolerance so 10^e * m computed in floating point still counts at the ends.
        let (lo, hi) = (start * (1.0 - 1e-9), end * (1.0 + 1e-9));
        (first..=last)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (
            self.position(self.range.start),
            self.position(self.range.end),
        );
        let t = (self.position(*value) - a) / (b - a);
        // `as` saturates, so a value far outside (or NaN, mapped to 0) cannot overflow.
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if self.scale == Scale::Linear {
            return self.linear_ticks(hint);
        }
        let max = hint.max_num_points();
        const ONE_TO_NINE: [f64; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        if hint.weight().allow_light_points() {
            // Grid lines at every integer mantissa, the usual log-paper look.
            let all = self.log_ticks(&ONE_TO_NINE);
            if all.len() <= max && all.len() >= 2 {
                return all;
            }
        }
        // Labelled ticks: 1-2-5 per decade, fewer when the range spans many decades, more when
        // it spans less than one; plain linear ticks for a range too narrow for any of those.
        let mut ticks = self.log_ticks(&[1.0, 2.0, 5.0]);
        if ticks.len() < 3 {
            let all = self.log_ticks(&ONE_TO_NINE);
            if all.len() <= max {
                ticks = all;
            }
        }
        if ticks.len() > max {
            ticks = self.log_ticks(&[1.0]);
            let step = ticks.len().div_ceil(max.max(1));
            ticks = ticks.into_iter().step_by(step.max(1)).collect();
        }
        if ticks.len() < 2 {
            ticks = self.linear_ticks(hint);
        }
        ticks
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(value: &f64) -> String {
        tick_label(*value)
    }
}

/// A tick value without float noise: 0.30000000000000004 -> "0.3", 2000.0 -> "2000".
fn tick_label(v: f64) -> String {
    if v != 0.0 && !(1e-4..1e7).contains(&v.abs()) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A path in the temporary directory unique to this process and test.
    fn temp_svg(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("pixelmeet-plot-{}-{name}.svg", std::process::id()))
    }

    fn series(label: &str, points: &[(f64, f64)]) -> Series {
        Series {
            label: label.into(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn writes_svg_with_title_axis_labels_and_legend() {
        for (name, scale) in [("linear", Scale::Linear), ("log", Scale::Log)] {
            let path = temp_svg(name);
            let result = line_chart_scaled(
                &path,
                "RD on carphone_qcif.y4m",
                "rate (kbit/s)",
                "mean Y-PSNR (dB)",
                scale,
                &[
                    series(
                        "x264 ultrafast",
                        &[(64.0, 28.9), (256.0, 35.9), (1024.0, 46.9)],
                    ),
                    series(
                        "pixeldiff <&>",
                        &[(76.0, 29.0), (319.0, 36.1), (1378.0, 47.6)],
                    ),
                    series("no points", &[]),
                ],
                true,
            );
            let svg = std::fs::read_to_string(&path);
            let _ = std::fs::remove_file(&path);
            result.unwrap();
            let svg = svg.unwrap();
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            for text in [
                "RD on carphone_qcif.y4m",
                "rate (kbit/s)",
                "mean Y-PSNR (dB)",
                "x264 ultrafast",
                "pixeldiff &lt;&amp;&gt;",
                "no points",
            ] {
                assert!(svg.contains(text), "{name}: {text:?} missing");
            }
            assert!(svg.contains("<text"), "{name}: no text elements");
            // Tick labels on the data's scale: both show 1000 kbit/s.
            assert!(
                svg.contains(">\n1000\n<") || svg.contains(">1000<"),
                "{name}: no tick 1000"
            );
        }
    }

    #[test]
    fn bad_input_is_an_error_and_writes_nothing() {
        let path = temp_svg("bad");
        let _ = std::fs::remove_file(&path);
        let chart = |s: &[Series], scale| line_chart_scaled(&path, "t", "x", "y", scale, s, true);
        assert!(chart(&[], Scale::Linear).is_err());
        assert!(chart(&[series("empty", &[])], Scale::Linear).is_err());
        for bad in [
            (f64::NAN, 1.0),
            (1.0, f64::INFINITY),
            (f64::NEG_INFINITY, 0.0),
        ] {
            let err = chart(&[series("s", &[(1.0, 2.0), bad])], Scale::Linear).unwrap_err();
            assert!(err.to_string().contains("not finite"), "{err}");
        }
        assert!(chart(&[series("s", &[(0.0, 1.0), (2.0, 3.0)])], Scale::Log).is_err());
        assert!(!path.exists());
        assert!(line_chart(
            Path::new("/nonexistent-dir/x.svg"),
            "t",
            "x",
            "y",
            &[series("s", &[(1.0, 2.0)])],
            false
        )
        .is_err());
    }

    #[test]
    fn a_single_point_still_makes_a_chart() {
        let path = temp_svg("single");
        let r = line_chart(
            &path,
            "one",
            "s",
            "kbit/s",
            &[series("a", &[(3.0, 0.0)])],
            false,
        );
        let svg = std::fs::read_to_string(&path);
        let _ = std::fs::remove_file(&path);
        r.unwrap();
        assert!(svg.unwrap().contains("kbit/s"));
    }

    #[test]
    fn fitted_axes_have_margins() {
        let a = Axis::fitted(Scale::Linear, [10.0, 30.0].into_iter());
        assert_eq!(a.range, 9.0..31.0);
        let l = Axis::fitted(Scale::Log, [10.0, 1000.0].into_iter());
        assert!((l.range.start - 10.0 / 100f64.powf(0.05)).abs() < 1e-9);
        assert!((l.range.end - 1000.0 * 100f64.powf(0.05)).abs() < 1e-9);
        let flat = Axis::fitted(Scale::Linear, [5.0, 5.0].into_iter());
        assert!(flat.range.start < 5.0 && flat.range.end > 5.0);
    }

    #[test]
    fn log_ticks_are_round_and_inside() {
        let axis = |lo: f64, hi: f64| Axis {
            scale: Scale::Log,
            range: lo..hi,
        };
        let bold = plotters::coord::ranged1d::BoldPoints(16);
        assert_eq!(
            axis(50.0, 12000.0).key_points(bold),
            vec![50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0]
        );
        // Within one decade: every integer mantissa.
        assert_eq!(
            axis(250.0, 750.0).key_points(plotters::coord::ranged1d::BoldPoints(16)),
            vec![300.0, 400.0, 500.0, 600.0, 700.0]
        );
        // Too narrow for those: linear ticks, still inside.
        let narrow = axis(310.0, 330.0).key_points(plotters::coord::ranged1d::BoldPoints(10));
        assert!(narrow.len() >= 2 && narrow.iter().all(|v| (310.0..=330.0).contains(v)));
        // Many decades: thinned powers of ten.
        let wide = axis(1e-3, 1e9).key_points(plotters::coord::ranged1d::BoldPoints(5));
        assert!(wide.len() <= 5 && wide.len() >= 2, "{wide:?}");
    }

    #[test]
    fn tick_labels_drop_float_noise() {
        assert_eq!(tick_label(0.1 + 0.2), "0.3");
        assert_eq!(tick_label(2000.0), "2000");
        assert_eq!(tick_label(-0.0), "0");
        assert_eq!(tick_label(-2.5), "-2.5");
        assert_eq!(tick_label(3e-7), "3.0e-7");
    }
}
