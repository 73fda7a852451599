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
    /// Colour group: series of one service share a colour and differ by line style.
    pub group: usize,
    /// Drawn thin (a secondary measure of its group, e.g. pending tasks).
    pub thin: bool,
}

impl Series {
    /// A solid line of its own colour group.
    pub fn new(name: String, points: Vec<(f64, f64)>, group: usize) -> Series {
        Series {
            name,
            points,
            dashed: false,
            group,
            thin: false,
        }
    }
}

/// What a line chart's y axis measures: it sets tick labels and hover values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YUnit {
    /// Whole things (tasks, instances): integer ticks only.
    Count,
    /// Percent.
    Percent,
    /// US dollars.
    Usd,
    /// Any other quantity (requests per second).
    Number,
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
    /// Event markers: (hours, kind) for scaling actions, failures, deployments, alarms; drawn
    /// as ticks in a lane under the plot, at most one per pixel and kind.
    pub markers: Vec<(f64, &'static str)>,
    /// What the y axis measures.
    pub unit: YUnit,
    /// Areas shaded between two series (upper, lower), e.g. demand above served requests:
    /// (index of the upper series, index of the lower, legend name).
    pub shade: Vec<(usize, usize, String)>,
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

/// Okabe and Ito's colour-blind-safe palette (black left out), then Tableau's darker tones:
/// neighbouring groups never share a hue.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(148, 103, 189),
];

/// Width of the legend column right of the plot.
const LEGEND_W: u32 = 230;
/// Height of the event lane under a time chart (when it has events).
const LANE_H: u32 = 62;

/// The palette colour of a group, as a CSS hex colour (for the HTML charts).
pub fn palette_hex(group: usize) -> String {
    let c = PALETTE[group % PALETTE.len()];
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

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
        "scaling" => RGBColor(0, 158, 115),
        "failure" => RGBColor(214, 39, 40),
        "deployment" => RGBColor(148, 103, 189),
        "alarm" => RGBColor(230, 159, 0),
        _ => RGBColor(127, 127, 127),
    }
}

/// How a marker kind is named in a legend.
pub fn marker_label(kind: &str) -> &str {
    match kind {
        "scaling" => "scaling actions",
        "failure" => "failures",
        "deployment" => "deployments",
        "alarm" => "alarms",
        other => other,
    }
}

fn hours_label(x: &f64) -> String {
    let total_min = (x * 60.0).round() as i64;
    format!("{}:{:02}", total_min / 60, total_min % 60)
}

/// A y tick label in the chart's unit; `None` for a tick that should have no label (a
/// fractional tick on a count axis).
fn y_tick(unit: YUnit, y: f64) -> String {
    match unit {
        YUnit::Count if (y - y.round()).abs() > 1e-9 => String::new(),
        YUnit::Count => crate::human::number(y.round()),
        YUnit::Percent => format!("{} %", crate::human::number((y * 10.0).round() / 10.0)),
        YUnit::Usd if y.abs() >= 10.0 => format!("${}", crate::human::number(y.round())),
        YUnit::Usd => format!("${y:.2}"),
        YUnit::Number => crate::human::number(y),
    }
}

/// Each marker kind in first-seen order with its x positions, thinned to one per pixel column
/// (`columns` across `x0..x1`), and how many markers it had before thinning.
fn thin_markers(
    markers: &[(f64, &'static str)],
    (x0, x1): (f64, f64),
    columns: f64,
) -> Vec<(&'static str, Vec<f64>, usize)> {
    let mut kinds: Vec<(&'static str, Vec<f64>, usize)> = Vec::new();
    let mut last: Vec<i64> = Vec::new();
    for &(x, kind) in markers {
        let Some(x) = fin(x).filter(|x| (x0..=x1).contains(x)) else {
            continue;
        };
        let k = match kinds.iter().position(|k| k.0 == kind) {
            Some(k) => k,
            None => {
                kinds.push((kind, Vec::new(), 0));
                last.push(i64::MIN);
                kinds.len() - 1
            }
        };
        kinds[k].2 += 1;
        let col = ((x - x0) / (x1 - x0).max(1e-12) * columns) as i64;
        if col != last[k] {
            last[k] = col;
            kinds[k].1.push(x);
        }
    }
    for k in &mut kinds {
        k.1.sort_by(f64::total_cmp);
        k.1.dedup_by(|a, b| {
            ((*a - x0) / (x1 - x0) * columns) as i64 == ((*b - x0) / (x1 - x0) * columns) as i64
        });
    }
    kinds
}

/// One legend entry: a sample line (solid, dashed, thin or a filled box) and its text.
enum Swatch {
    Line {
        color: RGBColor,
        dashed: bool,
        width: u32,
    },
    Fill(RGBColor),
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    top: i32,
    bottom: i32,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let row = 18;
    let fits = usize::try_from((bottom - top) / row).unwrap_or(0).max(1);
    let shown = if entries.len() > fits {
        fits - 1
    } else {
        entries.len()
    };
    let font = ("sans-serif", 12).into_font().color(&RGBColor(40, 40, 40));
    for (i, (sw, name)) in entries.iter().take(shown).enumerate() {
        let y = top + row * i as i32 + row / 2;
        match *sw {
            Swatch::Line {
                color,
                dashed,
                width,
            } => {
                if dashed {
                    for k in 0..3 {
                        area.draw(&PathElement::new(
                            vec![(8 + k * 9, y), (13 + k * 9, y)],
                            color.stroke_width(width),
                        ))
                        .map_err(|e| e.to_string())?;
                    }
                } else {
                    area.draw(&PathElement::new(
                        vec![(8, y), (30, y)],
                        color.stroke_width(width),
                    ))
                    .map_err(|e| e.to_string())?;
                }
            }
            Swatch::Fill(color) => {
                area.draw(&Rectangle::new([(8, y - 5), (30, y + 5)], color.filled()))
                    .map_err(|e| e.to_string())?;
            }
        }
        area.draw(&Text::new(
            crate::escape::excerpt(name, 30),
            (36, y - 7),
            font.clone(),
        ))
        .map_err(|e| e.to_string())?;
    }
    if shown < entries.len() {
        let y = top + row * shown as i32 + 2;
        area.draw(&Text::new(
            format!("+ {} more (see report.html)", entries.len() - shown),
            (8, y),
            font,
        ))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `c` mixed with white: `f` = 0 is white, 1 is `c`.
fn lighten(c: RGBColor, f: f64) -> RGBColor {
    let m = |v: u8| (255.0 - (255.0 - f64::from(v)) * f).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// The colour and stroke of a series.
fn series_style(s: &Series) -> (RGBColor, u32) {
    (
        PALETTE[s.group % PALETTE.len()],
        if s.thin || s.dashed { 1 } else { 2 },
    )
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
    let body = root
        .titled(&text(&c.title), ("sans-serif", 20))
        .map_err(|e| e.to_string())?;
    let (body_w, body_h) = body.dim_in_pixel();
    let (plot_area, legend_area) = body.split_horizontally(body_w.saturating_sub(LEGEND_W));
    let plot_columns = f64::from(body_w.saturating_sub(LEGEND_W + 100).max(50));
    let lanes = thin_markers(&c.markers, (x_min, x_max), plot_columns);
    let lane_h = if lanes.is_empty() {
        0
    } else {
        LANE_H.min(body_h / 3)
    };
    let (main_area, lane_area) = plot_area.split_vertically(body_h - lane_h);
    let y_labels = match c.unit {
        YUnit::Count => ((y_max - y_min).min(100.0).ceil() as usize + 1).clamp(2, 10),
        _ => 10,
    };
    let mut chart = ChartBuilder::on(&main_area)
        .margin(8)
        .margin_right(16)
        .x_label_area_size(if lanes.is_empty() { 40 } else { 22 })
        .y_label_area_size(78)
        .build_cartesian_2d(x_min..x_max, y_min..y_max)
        .map_err(|e| e.to_string())?;
    let unit = c.unit;
    let y_fmt = move |y: &f64| y_tick(unit, *y);
    let mut mesh = chart.configure_mesh();
    mesh.y_desc(text(&c.y_label))
        .y_labels(y_labels)
        .x_label_formatter(&hours_label)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(WHITE);
    if lanes.is_empty() {
        mesh.x_desc("simulated time (h:mm)");
    }
    mesh.draw().map_err(|e| e.to_string())?;
    let mut legend = draw_lines(&mut chart, c, series)?;
    if !lanes.is_empty() {
        draw_lanes(&lane_area, &lanes, (x_min, x_max), &mut legend)?;
    }
    let (_, lane_top) = lane_area.get_base_pixel();
    let (_, body_top) = body.get_base_pixel();
    let lane_top = lane_top - body_top;
    draw_legend(
        &legend_area,
        &legend,
        10,
        if lanes.is_empty() {
            body_h as i32
        } else {
            lane_top
        },
    )?;
    root.present().map_err(|e| e.to_string())
}

/// A line chart's shaded areas and lines, with their legend entries.
fn draw_lines<DB: DrawingBackend>(
    chart: &mut XyContext<'_, DB>,
    c: &LineChart,
    series: Vec<Vec<(f64, f64)>>,
) -> Result<Vec<(Swatch, String)>, String>
where
    DB::ErrorType: 'static,
{
    let mut legend: Vec<(Swatch, String)> = Vec::new();
    for (upper, lower, name) in &c.shade {
        let (Some(u), Some(l)) = (series.get(*upper), series.get(*lower)) else {
            continue;
        };
        let color = RGBColor(214, 39, 40);
        let mut poly: Vec<(f64, f64)> = u.clone();
        poly.extend(l.iter().rev());
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly,
                color.mix(0.22).filled(),
            )))
            .map_err(|e| e.to_string())?;
        legend.push((Swatch::Fill(RGBColor(242, 180, 180)), text(name)));
    }
    for (s, pts) in c.series.iter().zip(series) {
        let (color, width) = series_style(s);
        let style = color.stroke_width(width);
        if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(pts, 6, 4, style))
                .map_err(|e| e.to_string())?;
        } else {
            chart
                .draw_series(LineSeries::new(pts, style))
                .map_err(|e| e.to_string())?;
        }
        legend.push((
            Swatch::Line {
                color,
                dashed: s.dashed,
                width: if s.thin { 1 } else { 2 },
            },
            text(&s.name),
        ));
    }
    Ok(legend)
}

/// The event lane under a time chart: one row per marker kind, a tick per event (thinned to
/// one per pixel), the kind's name and count in the legend column beside it.
fn draw_lanes<DB: DrawingBackend>(
    lane: &DrawingArea<DB, Shift>,
    lanes: &[(&'static str, Vec<f64>, usize)],
    (x_min, x_max): (f64, f64),
    legend: &mut Vec<(Swatch, String)>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let n = lanes.len() as f64;
    let mut chart = ChartBuilder::on(lane)
        .margin(8)
        .margin_top(0)
        .margin_right(16)
        .x_label_area_size(22)
        .y_label_area_size(78)
        .build_cartesian_2d(x_min..x_max, 0.0..n)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_x_mesh()
        .y_labels(0)
        .x_desc("simulated time (h:mm); the ticks above mark events")
        .x_label_formatter(&|_: &f64| String::new())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 13))
        .draw()
        .map_err(|e| e.to_string())?;
    for (row, (kind, xs, count)) in lanes.iter().enumerate() {
        let color = marker_color(kind);
        let y0 = n - row as f64 - 0.85;
        let y1 = n - row as f64 - 0.15;
        chart
            .draw_series(
                xs.iter()
                    .map(|&x| PathElement::new(vec![(x, y0), (x, y1)], color.stroke_width(1))),
            )
            .map_err(|e| e.to_string())?;
        legend.push((
            Swatch::Line {
                color,
                dashed: false,
                width: 2,
            },
            format!("{}: {count}", marker_label(kind)),
        ));
    }
    Ok(())
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
    let body = root
        .titled(&text(&c.title), ("sans-serif", 20))
        .map_err(|e| e.to_string())?;
    let (body_w, body_h) = body.dim_in_pixel();
    // Names that do not fit under their bar are numbered, and listed beside the chart.
    let per_bar = f64::from(body_w.saturating_sub(LEGEND_W + 100)) / n as f64;
    let longest = c
        .bars
        .iter()
        .map(|b| b.0.chars().count())
        .max()
        .unwrap_or(0);
    let numbered = longest as f64 * 7.5 > per_bar;
    let (plot, legend_area) = if numbered {
        body.split_horizontally(body_w.saturating_sub(LEGEND_W))
    } else {
        body.split_horizontally(body_w)
    };
    let labels: Vec<String> = c
        .bars
        .iter()
        .enumerate()
        .map(|(k, b)| {
            if numbered {
                (k + 1).to_string()
            } else {
                text(&b.0)
            }
        })
        .collect();
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(78)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), bottom..top)
        .map_err(|e| e.to_string())?;
    let yd = crate::human::decimals_for_step((top - bottom) / 10.0);
    let num = move |v: &f64| crate::human::fixed(*v, yd);
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
        .y_label_formatter(&num)
        .y_desc(text(&c.y_label))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| e.to_string())?;
    let legend = draw_bar_marks(&mut chart, &bars, c)?;
    if numbered {
        draw_legend(&legend_area, &legend, 10, body_h as i32)?;
    }
    root.present().map_err(|e| e.to_string())
}

/// The bars (mean) and their intervals, with their legend entries (`N: name`).
fn draw_bar_marks<DB: DrawingBackend>(
    chart: &mut XyContext<'_, DB>,
    bars: &[(f64, f64, f64)],
    c: &BarChart,
) -> Result<Vec<(Swatch, String)>, String>
where
    DB::ErrorType: 'static,
{
    let mut legend = Vec::new();
    for (k, b) in bars.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let x = k as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, b.0)],
                lighten(color, 0.4).filled(),
            )))
            .map_err(|e| e.to_string())?;
        // The interval, drawn over the bar in black (none for a single value).
        if b.1 < b.2 {
            let ink = RGBColor(30, 30, 30).stroke_width(2);
            chart
                .draw_series([
                    PathElement::new(vec![(x - 0.3, b.0), (x + 0.3, b.0)], color.stroke_width(3)),
                    PathElement::new(vec![(x, b.1), (x, b.2)], ink),
                    PathElement::new(vec![(x - 0.08, b.1), (x + 0.08, b.1)], ink),
                    PathElement::new(vec![(x - 0.08, b.2), (x + 0.08, b.2)], ink),
                ])
                .map_err(|e| e.to_string())?;
        }
        legend.push((
            Swatch::Fill(lighten(color, 0.4)),
            format!("{}: {}", k + 1, text(&c.bars[k].0)),
        ));
    }
    Ok(legend)
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
        // From 0 when that keeps the differences visible; else around the data, so intervals
        // of a few percent are not squashed flat.
        let span = (y_hi - y_lo).max(y_hi.abs() * 0.02);
        let y0 = if y_lo >= 0.0 && y_lo < 0.5 * y_hi {
            0.0
        } else {
            y_lo - span * 0.15
        };
        let y1 = if y_hi > y0 {
            y_hi + span * 0.15
        } else {
            y0 + 1.0
        };
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
    }
    // Hollow points first, then the error bars over them, so a short interval stays visible.
    chart
        .draw_series(
            pts.iter()
                .map(|p| Circle::new((p.0, p.1), 4, color.stroke_width(2))),
        )
        .map_err(|e| e.to_string())?;
    if !line {
        chart
            .draw_series(
                pts.iter()
                    .map(|p| ErrorBar::new_vertical(p.0, p.2, p.1, p.3, color.stroke_width(2), 14)),
            )
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn draw_xy<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &XyChart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let ((x0, x1), (y0, y1)) = xy_ranges(c);
    let body = root
        .titled(&text(&c.title), ("sans-serif", 20))
        .map_err(|e| e.to_string())?;
    let (body_w, body_h) = body.dim_in_pixel();
    let (plot, legend_area) = body.split_horizontally(body_w.saturating_sub(LEGEND_W));
    let mut chart = ChartBuilder::on(&plot)
        .margin(8)
        .margin_right(16)
        .x_label_area_size(40)
        .y_label_area_size(78)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    let (xd, yd) = (
        crate::human::decimals_for_step((x1 - x0) / 10.0),
        crate::human::decimals_for_step((y1 - y0) / 10.0),
    );
    let x_fmt = move |v: &f64| crate::human::fixed(*v, xd);
    let y_fmt = move |v: &f64| crate::human::fixed(*v, yd);
    chart
        .configure_mesh()
        .x_desc(text(&c.x_label))
        .y_desc(text(&c.y_label))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| e.to_string())?;
    let mut legend = Vec::new();
    for (k, b) in c.bands.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        draw_band(&mut chart, b, color, c.line)?;
        legend.push((
            Swatch::Line {
                color,
                dashed: false,
                width: 3,
            },
            text(&b.name),
        ));
    }
    draw_legend(&legend_area, &legend, 10, body_h as i32)?;
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
