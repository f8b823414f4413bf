//! Charts: series of (x, mean, 95 % CI) with a paper's points beside them,
//! drawn with plotters to PNG and SVG.
//!
//! The font is embedded (DejaVu Sans through `ab_glyph`), so drawing needs
//! no system font and gives the same bytes on every machine. Log axes are
//! drawn as linear axes over log-transformed values with ticks at whole
//! powers, which keeps one coordinate type for every chart.

use crate::files::{commit, temporary_beside, write_atomic};
use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

/// How an axis maps values to positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scale {
    #[default]
    Linear,
    /// Ticks at powers of two (network sizes 2^k).
    Log2,
    /// Ticks at powers of ten.
    Log10,
}

impl Scale {
    pub fn parse(text: &str) -> Option<Scale> {
        match text {
            "linear" => Some(Scale::Linear),
            "log2" => Some(Scale::Log2),
            "log10" | "log" => Some(Scale::Log10),
            _ => None,
        }
    }
    fn forward(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log2 => v.max(f64::MIN_POSITIVE).log2(),
            Scale::Log10 => v.max(f64::MIN_POSITIVE).log10(),
        }
    }
    fn backward(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log2 => v.exp2(),
            Scale::Log10 => 10f64.powf(v),
        }
    }
    /// Whether a value can be drawn on this axis at all.
    fn admits(self, v: f64) -> bool {
        v.is_finite() && (self == Scale::Linear || v > 0.0)
    }
}

/// One point of our measurement: the mean over seeds and its 95 % CI.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanPoint {
    pub x: f64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

/// One curve: our points, the paper's points and an optional acceptance band.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<MeanPoint>,
    /// The paper's points (x, y), drawn as markers in the series' colour.
    pub reference: Vec<(f64, f64)>,
    /// The acceptance band (x, low, high), drawn as dashed bounds.
    pub band: Vec<(f64, f64, f64)>,
}

/// A chart's verdict against its acceptance bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
}

/// A whole chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub series: Vec<Series>,
    /// What the reference markers are, in the legend (e.g. "paper").
    pub reference_label: String,
    pub verdict: Option<Verdict>,
}

/// Pixel size of one chart.
pub const CHART_SIZE: (u32, u32) = (960, 600);

/// The series colours, distinguishable and print-safe.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Registers the embedded font once per process.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded fonts are valid TrueType; a failure here would be a
        // broken build of the dejavu crate, and text would then be missing
        // from the images rather than the run failing.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Something drawn into an area of any backend.
pub trait Picture {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Charts stacked vertically.
struct Stack<'a>(&'a [Chart]);

impl Picture for Stack<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let panels = area.split_evenly((self.0.len().max(1), 1));
        for (chart, panel) in self.0.iter().zip(panels.iter()) {
            draw_chart(chart, panel)?;
        }
        Ok(())
    }
}

/// Draws `charts` stacked vertically into `stem.png` and `stem.svg`.
pub fn save_charts(stem: &Path, charts: &[Chart]) -> Result<()> {
    let size = (CHART_SIZE.0, CHART_SIZE.1 * charts.len().max(1) as u32);
    save_picture(stem, size, &Stack(charts))
}

/// Renders one picture twice, to `stem.svg` and `stem.png`, each written
/// atomically.
pub fn save_picture<P: Picture>(stem: &Path, size: (u32, u32), picture: &P) -> Result<()> {
    register_fonts();
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        area.fill(&WHITE).map_err(plot_error)?;
        picture.draw(&area)?;
        area.present().map_err(plot_error)?;
    }
    write_atomic(&stem.with_extension("svg"), svg.as_bytes())?;
    let png = stem.with_extension("png");
    // The bitmap encoder picks the format from the extension.
    let temporary = temporary_beside(&png, ".tmp.png")?;
    let written = (|| -> Result<()> {
        let area = BitMapBackend::new(&temporary, size).into_drawing_area();
        area.fill(&WHITE).map_err(plot_error)?;
        picture.draw(&area)?;
        area.present().map_err(plot_error)?;
        Ok(())
    })();
    commit(&temporary, &png, written)
}

pub(crate) fn plot_error<E: std::fmt::Debug>(error: E) -> anyhow::Error {
    anyhow!("drawing failed: {error:?}")
}

/// The axis range over transformed values, padded, with tick positions.
struct Axis {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

fn axis(scale: Scale, values: impl Iterator<Item = f64>, include_zero: bool) -> Axis {
    let values: Vec<f64> = values.filter(|v| scale.admits(*v)).map(|v| scale.forward(v)).collect();
    let (mut low, mut high) =
        values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
    if !low.is_finite() {
        (low, high) = (0.0, 1.0);
    }
    if include_zero && scale == Scale::Linear {
        low = low.min(0.0);
    }
    if high - low < 1e-12 {
        let pad = if low.abs() > 1e-12 { low.abs() * 0.1 } else { 1.0 };
        (low, high) = (low - pad, high + pad);
    }
    match scale {
        Scale::Linear => {
            let step = nice_step((high - low) / 6.0);
            let pad = (high - low) * 0.04;
            let (low, high) = (if low == 0.0 { 0.0 } else { low - pad }, high + pad);
            let first = (low / step).ceil() as i64;
            let last = (high / step).floor() as i64;
            let ticks = (first..=last).map(|k| k as f64 * step).collect();
            Axis { range: low..high, ticks }
        }
        Scale::Log2 | Scale::Log10 => {
            let (low, high) = (low.floor() - 0.25, high.ceil() + 0.25);
            let (first, last) = (low.ceil() as i64, high.floor() as i64);
            let every = ((last - first) / 12 + 1).max(1);
            let ticks = (first..=last).filter(|k| (k - first) % every == 0).map(|k| k as f64).collect();
            Axis { range: low..high, ticks }
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw * 0.999).unwrap_or(10.0 * power)
}

/// A tick label: the real value of a transformed position.
fn tick_label(scale: Scale, v: f64) -> String {
    let real = scale.backward(v);
    match scale {
        Scale::Log2 if (1.0..1e6).contains(&real) => format!("{}", real.round()),
        Scale::Log2 => format!("2^{}", v.round()),
        Scale::Log10 if (-3.0..=4.0).contains(&v) => format_number(real),
        Scale::Log10 => format!("1e{}", v.round()),
        Scale::Linear => format_number(real),
    }
}

/// A short decimal: no trailing zeros, no `-0`.
pub fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let text = if v.abs() >= 1e5 || v.abs() < 1e-4 {
        format!("{v:.2e}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        let text = format!("{v:.digits$}");
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
    };
    if text == "-0" { "0".into() } else { text }
}

/// A linear axis over (possibly log-transformed) values with our own ticks.
#[derive(Clone, Debug)]
struct Ticked {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = (value - self.range.start) / (self.range.end - self.range.start);
        limit.0 + ((limit.1 - limit.0) as f64 * share).round() as i32
    }
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

type Coord = Cartesian2d<Ticked, Ticked>;

/// Draws one chart into `area`.
pub fn draw_chart<DB: DrawingBackend>(chart: &Chart, area: &DrawingArea<DB, Shift>) -> Result<()> {
    let (xs, ys) = (chart.x_scale, chart.y_scale);
    let x_axis = axis(
        xs,
        chart.series.iter().flat_map(|s| {
            s.points.iter().map(|p| p.x).chain(s.reference.iter().map(|r| r.0)).chain(s.band.iter().map(|b| b.0))
        }),
        false,
    );
    let y_axis = axis(
        ys,
        chart.series.iter().flat_map(|s| {
            s.points
                .iter()
                .flat_map(|p| [p.low, p.mean, p.high])
                .chain(s.reference.iter().map(|r| r.1))
                .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
        }),
        true,
    );
    // Confidence bounds of non-negative quantities stop at zero.
    let non_negative =
        chart.series.iter().all(|s| s.points.iter().all(|p| p.mean >= 0.0) && s.reference.iter().all(|r| r.1 >= 0.0));
    let y_axis = if non_negative && ys == Scale::Linear && y_axis.range.start < 0.0 {
        Axis { range: 0.0..y_axis.range.end, ticks: y_axis.ticks.into_iter().filter(|t| *t >= 0.0).collect() }
    } else {
        y_axis
    };
    let mut context = ChartBuilder::on(area)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(52)
        .y_label_area_size(80)
        .build_cartesian_2d(
            Ticked { range: x_axis.range.clone(), ticks: x_axis.ticks.clone() },
            Ticked { range: y_axis.range.clone(), ticks: y_axis.ticks.clone() },
        )
        .map_err(plot_error)?;
    let x_format = move |v: &f64| tick_label(xs, *v);
    let y_format = move |v: &f64| tick_label(ys, *v);
    context
        .configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(plot_error)?;
    let (x_range, y_range) = (x_axis.range, y_axis.range);
    let clamp = move |x: f64, y: f64| -> Option<(f64, f64)> {
        if !xs.admits(x) || !ys.admits(y) {
            return None;
        }
        let (x, y) = (xs.forward(x), ys.forward(y));
        Some((x.clamp(x_range.start, x_range.end), y.clamp(y_range.start, y_range.end)))
    };
    for (index, series) in chart.series.iter().enumerate() {
        draw_series(&mut context, index, series, &chart.reference_label, &clamp)?;
    }
    if chart.series.iter().any(|s| !s.band.is_empty()) {
        let gray = RGBColor(90, 90, 90);
        context
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
            .map_err(plot_error)?
            .label("acceptance band (dashed)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 6, y), (x + 10, y), (x + 16, y), (x + 20, y)], gray.stroke_width(1))
            });
    }
    context
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .draw()
        .map_err(plot_error)?;
    if let Some(verdict) = chart.verdict {
        let (text, color) = match verdict {
            Verdict::Pass => ("PASS", RGBColor(30, 140, 50)),
            Verdict::Fail => ("FAIL", RGBColor(200, 30, 30)),
        };
        let (width, _) = area.dim_in_pixel();
        let style = TextStyle::from(("sans-serif", 24).into_font().style(FontStyle::Bold)).color(&color);
        area.draw(&Text::new(text, (width as i32 - 90, 14), style)).map_err(plot_error)?;
    }
    Ok(())
}

fn draw_series<DB: DrawingBackend>(
    context: &mut ChartContext<DB, Coord>,
    index: usize,
    series: &Series,
    reference_label: &str,
    clamp: &dyn Fn(f64, f64) -> Option<(f64, f64)>,
) -> Result<()> {
    let color = PALETTE[index % PALETTE.len()];
    let mut points = series.points.clone();
    points.sort_by(|a, b| a.x.total_cmp(&b.x));
    // The 95 % confidence band: the low bounds forward, the high ones back.
    let polygon: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| clamp(p.x, p.low))
        .chain(points.iter().rev().filter_map(|p| clamp(p.x, p.high)))
        .collect();
    if points.len() > 1 && polygon.len() >= 4 {
        context.draw_series(std::iter::once(Polygon::new(polygon, color.mix(0.18).filled()))).map_err(plot_error)?;
    }
    let means: Vec<(f64, f64)> = points.iter().filter_map(|p| clamp(p.x, p.mean)).collect();
    let has_interval = points.iter().any(|p| p.high > p.low);
    let legend = if has_interval { format!("{} (mean, 95% CI)", series.label) } else { series.label.clone() };
    context
        .draw_series(LineSeries::new(means.clone(), color.stroke_width(2)))
        .map_err(plot_error)?
        .label(legend)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    // Markers where they stay readable; a long time series is a line.
    if means.len() <= 60 {
        context.draw_series(means.iter().map(|p| Circle::new(*p, 4, color.filled()))).map_err(plot_error)?;
    }
    // Error bars for single points or sparse curves, where a band says little.
    for p in &points {
        if let (Some(low), Some(high)) = (clamp(p.x, p.low), clamp(p.x, p.high))
            && high.1 > low.1
        {
            context
                .draw_series(std::iter::once(PathElement::new(vec![low, high], color.stroke_width(1))))
                .map_err(plot_error)?;
        }
    }
    if !series.band.is_empty() {
        let mut band = series.band.clone();
        band.sort_by(|a, b| a.0.total_cmp(&b.0));
        for bound in [band.iter().map(|b| (b.0, b.1)).collect::<Vec<_>>(), band.iter().map(|b| (b.0, b.2)).collect()] {
            let line: Vec<(f64, f64)> = bound.iter().filter_map(|(x, y)| clamp(*x, *y)).collect();
            if line.len() == 1 {
                let (x, y) = line[0];
                let half = 0.02 * (x.abs() + 1.0);
                context
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x - half, y), (x + half, y)],
                        color.stroke_width(2),
                    )))
                    .map_err(plot_error)?;
            } else {
                context.draw_series(DashedLineSeries::new(line, 6, 4, color.stroke_width(1))).map_err(plot_error)?;
            }
        }
    }
    if !series.reference.is_empty() {
        let markers: Vec<(f64, f64)> = series.reference.iter().filter_map(|(x, y)| clamp(*x, *y)).collect();
        let label = if reference_label.is_empty() { "paper".to_string() } else { reference_label.to_string() };
        context
            .draw_series(markers.iter().map(|p| Cross::new(*p, 6, color.stroke_width(2))))
            .map_err(plot_error)?
            .label(format!("{} ({label})", series.label))
            .legend(move |(x, y)| Cross::new((x + 10, y), 6, color.stroke_width(2)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_numbers_inside_the_range() {
        let a = axis(Scale::Linear, [0.3, 7.9].into_iter(), true);
        assert_eq!(a.range.start, 0.0);
        assert!(a.range.end > 7.9);
        assert_eq!(a.ticks, [0.0, 2.0, 4.0, 6.0, 8.0]);
    }

    #[test]
    fn log2_ticks_are_whole_powers_labelled_by_value() {
        let a = axis(Scale::Log2, [8.0, 16384.0].into_iter(), true);
        assert_eq!(a.ticks.first(), Some(&3.0));
        assert_eq!(a.ticks.last(), Some(&14.0));
        assert_eq!(tick_label(Scale::Log2, 10.0), "1024");
        assert_eq!(tick_label(Scale::Log10, -2.0), "0.01");
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(0.0451), "0.0451");
        assert_eq!(format_number(3.3712), "3.371");
        assert_eq!(format_number(1234567.0), "1.23e6");
    }
}

#[cfg(test)]
mod drawing_tests {
    use super::*;

    fn sample() -> Chart {
        let points = |scale: f64| {
            [128.0, 256.0, 512.0, 1024.0]
                .iter()
                .map(|&x: &f64| {
                    let mean = scale * x.log2() / 2.0;
                    MeanPoint { x, mean, low: mean - 0.1, high: mean + 0.1 }
                })
                .collect()
        };
        Chart {
            title: "Path length".into(),
            x_label: "Number of nodes".into(),
            y_label: "Hops".into(),
            x_scale: Scale::Log2,
            y_scale: Scale::Linear,
            series: vec![
                Series {
                    label: "chord".into(),
                    points: points(1.0),
                    reference: vec![(128.0, 3.39), (1024.0, 4.9)],
                    band: vec![(128.0, 3.29, 3.49)],
                },
                Series { label: "other".into(), points: points(1.2), ..Series::default() },
            ],
            reference_label: "SIGCOMM 2001".into(),
            verdict: Some(Verdict::Pass),
        }
    }

    #[test]
    fn a_chart_is_written_as_png_and_svg_with_its_labels_and_the_same_bytes_twice() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a");
        let second = dir.path().join("b");
        save_charts(&first, &[sample()]).unwrap();
        save_charts(&second, &[sample()]).unwrap();
        let png = std::fs::read(first.with_extension("png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(png, std::fs::read(second.with_extension("png")).unwrap());
        let svg = std::fs::read_to_string(first.with_extension("svg")).unwrap();
        for text in ["Path length", "Number of nodes", "Hops", "1024", "chord (SIGCOMM 2001)", "PASS"] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["a.png", "a.svg", "b.png", "b.svg"]);
    }

    #[test]
    fn a_picture_into_a_missing_directory_fails_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        assert!(save_charts(&dir.path().join("missing").join("a"), &[sample()]).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
