//! The HTML report of a run (`ecsim report OUT_DIR`, `ecsim run --report`) and of a sweep.
//!
//! Everything comes from the output files, given as text: the report can be made again later
//! from a folder. Columns are looked up by the names in [`crate::schema`], the same the writers
//! use. The page is self-contained: charts are embedded as `data:` SVG images, styles inline, no
//! network fetch. Every name that came from a scenario is HTML-escaped. A small script checks on
//! load that every image has a rendered size and that no script error occurred, and writes the
//! verdict into the page (`#selfcheck`), so a headless browser can verify it.
//!
//! [`run`] draws a run's page, [`sweep`] a sweep's; this module holds what both use.

use std::fmt::Write as _;

use crate::charts::{self, Chart};

pub mod compare;
pub mod explain;
pub mod input;
pub mod interactive;
pub mod run;
pub mod sweep;

pub use input::{MAX_FILE_BYTES, Problem, decode};
pub use run::{render_run, run_charts};
pub use sweep::render_sweep;

/// The most rows of an input table shown on a page (the rest are counted).
pub const MAX_TABLE_ROWS: usize = 1000;

/// The files of a run's output folder, as text (missing ones empty).
#[derive(Debug, Clone, Default)]
pub struct RunFiles {
    /// summary.json
    pub summary_json: String,
    /// metrics.csv
    pub metrics_csv: String,
    /// cost.csv
    pub cost_csv: String,
    /// scaling.csv
    pub scaling_csv: String,
    /// failures.csv
    pub failures_csv: String,
    /// deployments.csv
    pub deployments_csv: String,
    /// placements.csv (`run --explain`; empty when absent)
    pub placements_csv: String,
    /// decisions.csv (`run --explain`; empty when absent)
    pub decisions_csv: String,
    /// Problems found while reading the files (missing, too large, not UTF-8: see
    /// [`input::decode`]); listed with those the report finds.
    pub problems: Vec<Problem>,
}

/// The files `ecsim report` reads, by name.
pub const INPUT_FILES: [&str; 10] = [
    "summary.json",
    "metrics.csv",
    "cost.csv",
    "scaling.csv",
    "failures.csv",
    "deployments.csv",
    "aggregate.csv",
    "compare.csv",
    "placements.csv",
    "decisions.csv",
];

/// What `ecsim report` does with a folder's files, given as bytes by name (missing ones absent):
/// each decoded ([`decode`]; bytes past [`MAX_FILE_BYTES`] ignored), then a sweep report when
/// there is an `aggregate.csv` and no `summary.json`, else a run report. For tests and fuzzing.
pub fn render_folder(files: &[(&str, &[u8])]) -> Result<Rendered, Unusable> {
    let mut problems = Vec::new();
    let mut text = |name: &str| {
        files
            .iter()
            .find(|f| f.0 == name)
            .map_or(String::new(), |f| {
                let cap = usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX);
                let b = &f.1[..f.1.len().min(cap)];
                decode(name, b, f.1.len() > cap, &mut problems)
            })
    };
    let has = |name: &str| files.iter().any(|f| f.0 == name);
    if has("compare.csv") && !has("summary.json") {
        let c = text("compare.csv");
        return compare::render_compare("compare", &c, problems);
    }
    if has("aggregate.csv") && !has("summary.json") {
        let agg = text("aggregate.csv");
        return sweep::render_sweep_with("sweep", &agg, &[], problems);
    }
    let f = RunFiles {
        summary_json: text("summary.json"),
        metrics_csv: text("metrics.csv"),
        cost_csv: text("cost.csv"),
        scaling_csv: text("scaling.csv"),
        failures_csv: text("failures.csv"),
        deployments_csv: text("deployments.csv"),
        placements_csv: text("placements.csv"),
        decisions_csv: text("decisions.csv"),
        problems: Vec::new(),
    };
    render_run(&RunFiles { problems, ..f })
}

/// A chart in both formats.
pub struct RenderedChart {
    /// File stem, e.g. `tasks`.
    pub name: String,
    /// Title.
    pub title: String,
    /// SVG text.
    pub svg: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

impl RenderedChart {
    /// Draw `chart` as SVG and PNG; a failure is a problem, and no chart.
    fn new(
        name: String,
        title: &str,
        chart: &impl Chart,
        problems: &mut Vec<Problem>,
    ) -> Option<Self> {
        match (|| -> Result<Self, String> {
            Ok(RenderedChart {
                title: title.to_string(),
                svg: charts::svg(chart)?,
                png: charts::png(chart)?,
                name: name.clone(),
            })
        })() {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(Problem {
                    file: format!("charts/{name}"),
                    line: 0,
                    column: 0,
                    message: format!("could not draw: {}", crate::escape::excerpt(&e, 200)),
                });
                None
            }
        }
    }
}

/// The problems as a section of the page, if any.
fn problems_section(o: &mut String, problems: &[Problem]) {
    if problems.is_empty() {
        return;
    }
    let _ = write!(
        o,
        "<h2>Problems in the input</h2><p>{} problems; what they concern was left out of the charts and tables.</p><ul class=\"problems\">",
        problems.len()
    );
    for p in problems {
        let _ = write!(o, "<li><code>{}</code></li>", escape(&p.to_string()));
    }
    o.push_str("</ul>");
}

/// A rendered report.
pub struct Rendered {
    /// Charts.
    pub charts: Vec<RenderedChart>,
    /// The HTML page.
    pub html: String,
    /// Every problem found in the input, in file order; also listed on the page.
    pub problems: Vec<Problem>,
}

/// Why no report was made: nothing in the folder was usable. Holds every problem found.
#[derive(Debug, Clone)]
pub struct Unusable {
    /// What made the report impossible, then every problem found.
    pub reason: String,
    /// Every problem found in the input.
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Unusable {}

/// Escape text for HTML: [`crate::escape::html`] (control characters shown as `\u{..}`, then
/// `& < > " '` as entities).
pub fn escape(s: &str) -> String {
    crate::escape::html(s)
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(data.len().div_ceil(3) * 4);
    for ch in data.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= ch.len() {
                o.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

const STYLE: &str = "body{font-family:DejaVu Sans,Verdana,sans-serif;margin:24px auto;max-width:1040px;color:#222}\
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}\
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:12px 0}img{max-width:100%;height:auto;border:1px solid #eee}\
#selfcheck{color:#888;font-size:11px}\
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:130px}\
.card b{display:block;font-size:20px;font-variant-numeric:tabular-nums}.card span{font-size:12px;color:#555}\
.note{color:#555;font-size:13px}.wide{overflow-x:auto}";

const SELFCHECK: &str = "<script>\
window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));});\
window.addEventListener('load',function(){setTimeout(function(){var imgs=Array.prototype.slice.call(document.images);\
var bad=imgs.filter(function(i){var r=i.getBoundingClientRect();return !(i.complete&&i.naturalWidth>0&&r.width>0&&r.height>0);});\
var want=window.__ecsim?window.__ecsim.want:0;var got=window.__ecsimDrawn?window.__ecsimDrawn():0;\
var el=document.getElementById('selfcheck');\
el.setAttribute('data-charts',Array.prototype.map.call(document.querySelectorAll('.tchart canvas'),function(c){var r=c.getBoundingClientRect();return [r.left+scrollX,r.top+scrollY,r.width,r.height].map(Math.round).join(',');}).join(';'));\
el.textContent=(bad.length===0&&window.__errors.length===0&&got===want)?('page check: ok: '+got+' charts drawn, '+imgs.length+' images'):('page check: problems: '+(want-got)+' of '+want+' charts not drawn; '+bad.length+' images without size; errors: '+window.__errors.join('; '));},0);});\
</script>";

/// Whether a table cell holds a number (possibly formatted: `$1,234.56`, `12.5 %`, `3 m 20 s`):
/// such cells are right-aligned.
fn numeric_cell(v: &str) -> bool {
    let t = v.trim_start_matches(['-', '$']);
    t.starts_with(|c: char| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || " .,%$hmsdreq/-".contains(c))
}

/// A table of text cells; numbers right-aligned; at most [`MAX_TABLE_ROWS`] rows.
fn html_table<R: AsRef<[String]>>(o: &mut String, header: &[String], rows: &[R]) {
    o.push_str("<table><tr>");
    for h in header {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr>");
    for r in rows.iter().take(MAX_TABLE_ROWS) {
        let r = r.as_ref();
        o.push_str("<tr>");
        for v in r {
            let cls = if numeric_cell(v) { " class=\"n\"" } else { "" };
            let _ = write!(o, "<td{cls}>{}</td>", escape(v));
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>");
    if rows.len() > MAX_TABLE_ROWS {
        let _ = write!(
            o,
            "<p>{} more rows not shown.</p>",
            rows.len() - MAX_TABLE_ROWS
        );
    }
}

/// A chart embedded as an SVG `data:` image, with its caption.
fn figure(o: &mut String, c: &RenderedChart) {
    let _ = write!(
        o,
        "<figure><img alt=\"{}\" width=\"960\" height=\"420\" src=\"data:image/svg+xml;base64,{}\"><figcaption>{}</figcaption></figure>",
        escape(&c.title),
        base64(c.svg.as_bytes()),
        escape(&c.title)
    );
}

/// The whole page around `body`.
fn page(title: &str, body: &str) -> String {
    page_with(title, "", body)
}

/// The whole page around `body`, with `head` (scripts, styles) added to its `<head>`.
fn page_with(title: &str, head: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{STYLE}</style>{SELFCHECK}{head}</head><body>{body}<p id=\"selfcheck\">page check: not run</p></body></html>\n",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_base64() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    /// Reactions to load changes are a table in people's units; a first scaling at the change
    /// itself is flagged as no reaction.
    #[test]
    fn load_change_reactions_are_tabled() {
        let f = RunFiles {
            summary_json: "{\"scenario\": \"s\", \"service.web.load_change.0.at_ms\": 7200000, \"service.web.load_change.0.first_scaling_after_ms\": 0, \"service.web.load_change.0.tasks_running_after_ms\": 200000}\n".into(),
            ..RunFiles::default()
        };
        let r = render_run(&f).unwrap();
        assert!(r.html.contains("<h2>Reactions to load changes</h2>"));
        assert!(r.html.contains("2 h 00 m") && r.html.contains("3 m 20 s"));
        assert!(
            r.html.contains("0 ms (too soon to be a reaction)"),
            "{}",
            r.html
        );
    }

    /// A hostile service name from a scenario never reaches the page unescaped.
    #[test]
    fn hostile_names_are_escaped() {
        let evil = "<img src=x onerror=alert(1)>";
        let f = RunFiles {
            summary_json: format!(
                "{{\n  \"scenario\": \"{}\",\n  \"service.{evil}.tasks_lost\": 1\n}}\n",
                "s<b>"
            ),
            metrics_csv: format!(
                "time_ms,\"{evil}.desired\",\"{evil}.running\"\n0,1,0\n60000,1,1\n"
            ),
            ..RunFiles::default()
        };
        let r = render_run(&f).unwrap();
        assert!(
            !r.html.contains(evil) && !r.html.contains("<b>"),
            "unescaped name in the page"
        );
        assert!(r.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(
            r.charts
                .iter()
                .all(|c| c.png.starts_with(b"\x89PNG") && c.svg.starts_with("<svg"))
        );
    }
}
