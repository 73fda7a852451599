//! Charts as SVG text and PNG bytes, with a bundled font (DejaVu Sans, `assets/`), so they render
//! the same on any machine without system font libraries.
//!
//! Safe on any input: every text (title, labels, legend) is shown through
//! [`crate::escape::visible`] and cut to [`MAX_TEXT`] characters, because plotters' SVG backend
//! escapes `< > & " '` but writes control characters as they are, which XML forbids; values that
//! are not finite are left out and the rest clamped to +-[`LIMIT`], so every axis range is finite,
//! holds every point drawn, and is never empty (an infinite range made plotters loop forever).

use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A line on a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (e.g. a desired count).
    pub dashed: bool,
}

/// A line chart over simulated time (hours), with event markers.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title.
    pub title: String,
    /// Y axis label (the x axis is simulated time).
    pub y_label: String,
    /// Lines.
    pub series: Vec<Series>,
    /// Vertical markers: (hours, kind) for scaling actions, failures, deployments, alarms.
    pub markers: Vec<(f64, &'static str)>,
    /// Y axis in dollars.
    pub money: bool,
}

/// Bars with 95 % error bars (one per grid point or variant).
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Title.
    pub title: String,
    /// Y axis label.
    pub y_label: String,
    /// (label, mean, low, high).
    pub bars: Vec<(String, f64, f64, f64)>,
}

/// A group of points on an x/y chart, each with a 95 % interval on y.
#[derive(Debug, Clone)]
pub struct Band {
    /// Legend name.
    pub name: String,
    /// (x, mean, low, high), sorted by x.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Means against a numeric x with shaded confidence bands (`line`), or as points with vertical
/// error bars (`!line`, e.g. cost against utilisation, one group per strategy).
#[derive(Debug, Clone)]
pub struct XyChart {
    /// Title.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Groups.
    pub bands: Vec<Band>,
    /// Join the points and shade the band; else points with error bars.
    pub line: bool,
}

const W: u32 = 960;
const H: u32 = 420;

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The largest magnitude drawn; larger values are clamped to it.
pub const LIMIT: f64 = 1e300;

/// The most characters of a text drawn on a chart.
pub const MAX_TEXT: usize = 120;

/// A text as drawn: control characters visible, at most [`MAX_TEXT`] characters.
fn text(s: &str) -> String {
    crate::escape::excerpt(s, MAX_TEXT)
}

/// A finite value clamped to +-[`LIMIT`]; `None` for NaN and infinities.
fn fin(v: f64) -> Option<f64> {
    v.is_finite().then(|| v.clamp(-LIMIT, LIMIT))
}

/// An axis range from the lowest and highest value: finite, non-empty, padded by `pad` (a
/// fraction of the span), from 0 when every value is positive.
fn axis(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return (0.0, 1.0);
    }
    let lo = lo.min(0.0);
    let span = hi - lo;
    if span <= 1e-9 * hi.abs().max(lo.abs()).max(1.0) {
        return (lo, lo + lo.abs().max(1.0));
    }
    (
        if lo < 0.0 { lo - span * pad } else { 0.0 },
        hi + span * pad,
    )
}

fn marker_color(kind: &str) -> RGBColor {
    match kind {
        "scaling" => RGBColor(44, 160, 44),
        "failure" => RGBColor(214, 39, 40),
        "deployment" => RGBColor(148, 103, 189),
        "alarm" => RGBColor(255, 127, 14),
        _ => RGBColor(127, 127, 127),
    }
}

fn hours_label(x: &f64) -> String {
    let total_min = (x * 60.0).round() as i64;
    format!("{}:{:02}", total_min / 60, total_min % 60)
}

fn draw_line<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &LineChart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let series: Vec<Vec<(f64, f64)>> = c
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter_map(|p| Some((fin(p.0)?, fin(p.1)?)))
                .collect()
        })
        .collect();
    let xs = || series.iter().flatten().map(|p| p.0);
    let ys = || series.iter().flatten().map(|p| p.1);
    let x_min = xs().fold(0.0f64, f64::min);
    let x_max = xs().fold(0.0f64, f64::max).max(1.0 / 60.0);
    let (x_min, x_max) = if x_min < 0.0 {
        axis(x_min, x_max, 0.0)
    } else {
        (0.0, x_max)
    };
    let (y_min, y_max) = axis(
        ys().fold(0.0f64, f64::min),
        ys().fold(0.0f64, f64::max),
        0.08,
    );
    let y_max = if y_max <= 0.0 { 1.0 } else { y_max };
    let mut chart = ChartBuilder::on(&root)
        .caption(text(&c.title), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x_min..x_max, y_min..y_max)
        .map_err(|e| e.to_string())?;
    let money = c.money;
    chart
        .configure_mesh()
        .x_desc("simulated time (h:mm)")
        .y_desc(text(&c.y_label))
        .x_label_formatter(&hours_label)
        .y_label_formatter(&move |y: &f64| {
            if money {
                format!("${y:.2}")
            } else if *y >= 100.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.1}")
            }
        })
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| e.to_string())?;
    let mut legend_kinds: Vec<&str> = Vec::new();
    for &(x, kind) in &c.markers {
        let Some(x) = fin(x).filter(|x| (x_min..=x_max).contains(x)) else {
            continue;
        };
        let color = marker_color(kind);
        let s = chart
            .draw_series(LineSeries::new(
                vec![(x, y_min.max(0.0)), (x, y_max)],
                color.mix(0.35).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        if !legend_kinds.contains(&kind) {
            legend_kinds.push(kind);
            s.label(kind).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.mix(0.6).stroke_width(2))
            });
        }
    }
    for (k, (s, pts)) in c.series.iter().zip(series).enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let style = color.stroke_width(if s.dashed { 1 } else { 2 });
        let drawn = if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(pts, 6, 4, style))
                .map_err(|e| e.to_string())?
        } else {
            chart
                .draw_series(LineSeries::new(pts, style))
                .map_err(|e| e.to_string())?
        };
        drawn.label(text(&s.name)).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
        });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 12))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

fn draw_bars<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &BarChart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = c.bars.len().max(1);
    let bars: Vec<(f64, f64, f64)> = c
        .bars
        .iter()
        .map(|b| {
            let m = fin(b.1).unwrap_or(0.0);
            (m, fin(b.2).unwrap_or(m), fin(b.3).unwrap_or(m))
        })
        .collect();
    let lo = bars.iter().map(|b| b.0.min(b.1)).fold(0.0f64, f64::min);
    let hi = bars.iter().map(|b| b.0.max(b.2)).fold(0.0f64, f64::max);
    let (bottom, top) = axis(lo, hi, 0.12);
    let labels: Vec<String> = c.bars.iter().map(|b| text(&b.0)).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(text(&c.title), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), bottom..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(text(&c.y_label))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, b) in bars.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let x = k as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, b.0)],
                color.mix(0.75).filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(ErrorBar::new_vertical(
                x,
                b.1,
                b.0,
                b.2,
                BLACK.stroke_width(2),
                14,
            )))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

/// The x and y ranges of an x/y chart: x padded on both sides, y from 0 (or below the lowest
/// value) to above the highest; (0, 1) when there is nothing finite to show.
fn xy_ranges(c: &XyChart) -> ((f64, f64), (f64, f64)) {
    let all = || {
        c.bands
            .iter()
            .flat_map(|b| b.points.iter())
            .filter_map(clamped)
    };
    let (mut x0, mut x1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
        (a.0.min(p.0), a.1.max(p.0))
    });
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    let pad = if x1 - x0 > 1e-9 * x0.abs().max(x1.abs()).max(1.0) {
        (x1 - x0) * 0.06
    } else {
        x0.abs().max(1.0) * 0.1
    };
    let ys = || all().flat_map(|p| [p.1, p.2, p.3]);
    let y_lo = ys().fold(f64::INFINITY, f64::min);
    let y_hi = ys().fold(f64::NEG_INFINITY, f64::max);
    let y = if !y_lo.is_finite() {
        (0.0, 1.0)
    } else {
        let y0 = if y_lo >= 0.0 { 0.0 } else { y_lo * 1.1 };
        let y1 = if y_hi > y0 { y_hi * 1.1 } else { y0 + 1.0 };
        if y1 - y0 > 1e-9 * y0.abs().max(y1.abs()).max(1.0) {
            (y0, y1)
        } else {
            (y0, y0 + y0.abs().max(1.0))
        }
    };
    ((x0 - pad, x1 + pad), y)
}

/// A point of an x/y chart with x and mean finite (clamped), and its interval clamped (the mean
/// where not finite).
fn clamped(p: &(f64, f64, f64, f64)) -> Option<(f64, f64, f64, f64)> {
    let (x, m) = (fin(p.0)?, fin(p.1)?);
    Some((x, m, fin(p.2).unwrap_or(m), fin(p.3).unwrap_or(m)))
}

type XyContext<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One group of an x/y chart: a shaded band and a line, or error bars; then its points.
fn draw_band<DB: DrawingBackend>(
    chart: &mut XyContext<'_, DB>,
    b: &Band,
    color: RGBColor,
    line: bool,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let pts: Vec<(f64, f64, f64, f64)> = b.points.iter().filter_map(clamped).collect();
    if line {
        let mut poly: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.3)).collect();
        poly.extend(pts.iter().rev().map(|p| (p.0, p.2)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly,
                color.mix(0.18).filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
    } else {
        chart
            .draw_series(
                pts.iter()
                    .map(|p| ErrorBar::new_vertical(p.0, p.2, p.1, p.3, color.stroke_width(2), 10)),
            )
            .map_err(|e| e.to_string())?;
    }
    chart
        .draw_series(
            pts.iter()
                .map(|p| Circle::new((p.0, p.1), 4, color.filled())),
        )
        .map_err(|e| e.to_string())?
        .label(text(&b.name))
        .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
    Ok(())
}

fn draw_xy<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &XyChart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let ((x0, x1), (y0, y1)) = xy_ranges(c);
    let mut chart = ChartBuilder::on(&root)
        .caption(text(&c.title), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(text(&c.x_label))
        .y_desc(text(&c.y_label))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, b) in c.bands.iter().enumerate() {
        draw_band(&mut chart, b, PALETTE[k % PALETTE.len()], c.line)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 12))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    /// Draw onto `root`.
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static;
}

impl Chart for LineChart {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        draw_line(root, self)
    }
}

impl Chart for BarChart {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        draw_bars(root, self)
    }
}

impl Chart for XyChart {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        draw_xy(root, self)
    }
}

/// A chart as SVG text.
pub fn svg(c: &impl Chart) -> Result<String, String> {
    register_font();
    let mut out = String::new();
    c.draw(SVGBackend::with_string(&mut out, (W, H)).into_drawing_area())?;
    Ok(out)
}

/// A chart as PNG bytes.
pub fn png(c: &impl Chart) -> Result<Vec<u8>, String> {
    register_font();
    let mut buf = vec![0u8; (W * H * 3) as usize];
    c.draw(BitMapBackend::with_buffer(&mut buf, (W, H)).into_drawing_area())?;
    encode_png(buf)
}

fn encode_png(rgb: Vec<u8>) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&rgb, W, H, image::ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(out)
}
