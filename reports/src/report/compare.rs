//! A comparison's report (`ecsim report` on a folder `ecsim compare` wrote), from
//! `compare.csv`: the variants' cost and use side by side, in the style of a run's page.
//!
//! Columns are read by name, so columns added to `compare.csv` later show in the table without
//! a change here; charts are drawn for the measures named in [`CHARTED`] that the file has.
//! The file is hostile like every input ([`super::input`]).

use std::fmt::Write as _;

use super::input::{Csv, Problem};
use super::{
    Rendered, RenderedChart, Unusable, escape, figure, html_table, page, problems_section,
};
use crate::charts::BarChart;
use crate::human;
use crate::schema::compare as col;

/// The measures drawn as one bar per variant, with their titles.
pub const CHARTED: [(&str, &str); 4] = [
    (col::COST_TOTAL_USD, "Total cost per variant"),
    (
        col::PAID_CAPACITY_USED_PCT,
        "Share of the bill that paid for reserved capacity",
    ),
    (col::MEAN_WAIT_MS, "Mean wait for placement"),
    (col::PEAK_INSTANCES, "Peak container instances"),
];

/// A measure per variant as bars (no interval: one run per variant).
fn bars(c: &Csv, names: usize, column: &str, title: &str) -> Option<BarChart> {
    let vc = c.col(column)?;
    let scale = human::Unit::of(column).chart_scale();
    let bars: Vec<(String, f64, f64, f64)> = (0..c.rows.len())
        .filter_map(|r| {
            let v = c.num(r, vc)? * scale;
            Some((c.text(r, names).to_string(), v, v, v))
        })
        .collect();
    if bars.is_empty() || bars.iter().all(|b| b.1 == 0.0) {
        return None;
    }
    Some(BarChart {
        title: title.to_string(),
        y_label: human::Unit::of(column).axis().to_string(),
        bars,
    })
}

/// Render a comparison's charts and page from its `compare.csv`; an error ([`Unusable`]) when
/// the file has no variant.
pub fn render_compare(
    name: &str,
    compare_csv: &str,
    mut problems: Vec<Problem>,
) -> Result<Rendered, Unusable> {
    let mut c = Csv::parse(col::FILE, compare_csv, &mut problems);
    let Some(names) = c.col(col::VARIANT) else {
        return Err(Unusable {
            reason: format!(
                "{}: no {} column: nothing to report",
                col::FILE,
                col::VARIANT
            ),
            problems,
        });
    };
    if c.rows.is_empty() {
        return Err(Unusable {
            reason: format!("{}: no variant: nothing to report", col::FILE),
            problems,
        });
    }
    let numeric: Vec<usize> = CHARTED.iter().filter_map(|(m, _)| c.col(m)).collect();
    c.check_numbers(&numeric, true, &mut problems);
    let mut charts = Vec::new();
    for (m, title) in CHARTED {
        if let Some(chart) = bars(&c, names, m, title) {
            let stem = m
                .trim_end_matches("_usd")
                .trim_end_matches("_pct")
                .replace('_', "-");
            charts.extend(RenderedChart::new(stem, title, &chart, &mut problems));
        }
    }
    let mut b = String::new();
    let _ = write!(b, "<h1>ecsim compare: {}</h1>", escape(name));
    let _ = write!(
        b,
        "<p>{} variants of one workload on the same seed (common random numbers: every variant sees the same arrivals and run times).</p>",
        c.rows.len()
    );
    let cost = c.col(col::COST_TOTAL_USD);
    let cheapest = cost.and_then(|vc| {
        (0..c.rows.len())
            .filter_map(|r| Some((r, c.num(r, vc)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    });
    if let (Some((r, v)), Some(vc)) = (cheapest, cost) {
        let first = c.num(0, vc).unwrap_or(v);
        let _ = write!(
            b,
            "<div class=\"cards\"><div class=\"card\"><b>{}</b><span>cheapest: {}</span></div><div class=\"card\"><b>{}</b><span>less than {} (the first variant)</span></div></div>",
            escape(&human::usd(v)),
            escape(c.text(r, names)),
            escape(&human::usd(first - v)),
            escape(c.text(0, names))
        );
    }
    problems_section(&mut b, &problems);
    b.push_str("<h2>Variants</h2>");
    let header: Vec<String> = c
        .header
        .iter()
        .map(|h| match h.as_str() {
            col::VARIANT | col::DESCRIPTION => h.clone(),
            _ => human::short_label(h),
        })
        .collect();
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .zip(&c.header)
                .map(|(v, h)| human::value(h, v))
                .collect()
        })
        .collect();
    b.push_str("<div class=\"wide\">");
    html_table(&mut b, &header, &rows);
    b.push_str("</div><h2>Charts</h2>");
    for ch in &charts {
        figure(&mut b, ch);
    }
    b.push_str("<p class=\"note\">Each variant's <code>summary.json</code> and <code>cost.csv</code> are under <code>variants/NAME/</code>.</p>");
    Ok(Rendered {
        charts,
        html: page(&format!("ecsim compare: {name}"), &b),
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compare_page_formats_numbers_and_escapes_names() {
        let csv = "variant,description,cost_total_usd,paid_capacity_used_pct,mean_wait_ms\n\
                   a<b>,x,73.734,16.5,438000\nfargate,y,12.51,100,5000\n";
        let r = render_compare("cmp<i>", csv, Vec::new()).unwrap();
        assert!(r.html.contains("$73.73") && r.html.contains("7 m 18 s"));
        assert!(r.html.contains("a&lt;b&gt;") && !r.html.contains("a<b>"));
        assert!(!r.html.contains("cmp<i>"));
        assert!(r.html.contains("cheapest: fargate"));
        assert_eq!(r.charts.len(), 3);
        assert!(render_compare("x", "variant\n", Vec::new()).is_err());
    }
}
