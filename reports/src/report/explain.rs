//! The explanations of a run on its report page: `placements.csv` and `decisions.csv` (written
//! by `ecsim run --explain`), when the folder has them.
//!
//! Both files can be large (a row per placement attempt), so the page shows a bounded part:
//! of `placements.csv` the first [`EXPLAIN_ROWS`] rows and then up to [`EXPLAIN_ROWS`] failed
//! attempts of the rest; of `decisions.csv` the first [`EXPLAIN_ROWS`] rows of each kind (at
//! most [`MAX_KINDS`] kinds); each with a note of the total. The files are read as a stream:
//! only the rows shown are kept, each cell cut at [`MAX_CELL_CHARS`]. A task's cells link its
//! placement to its decisions and back: the first row shown of task `N` in each table has the
//! anchor `placement-N` or `decision-N`, and the task cell of every row links to the other
//! table's anchor when that table shows the task. Everything from the files is HTML-escaped;
//! an anchor is made only of a task id that is all digits.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::escape;
use super::input::{Problem, Problems};
use crate::escape::excerpt;
use crate::human;
use crate::schema::{decisions, placements};

/// The most rows shown of each part (first rows, later failures, each decision kind).
pub const EXPLAIN_ROWS: usize = 200;

/// The most decision kinds shown (a hostile file could have a kind per row).
pub const MAX_KINDS: usize = 16;

/// The most characters of a cell shown (the rest is cut, marked `...`): bounds the page
/// whatever the files hold.
pub const MAX_CELL_CHARS: usize = 2000;

/// The rows of one explanation file kept for the page.
struct Kept {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    total: u64,
}

/// Read `text` as CSV, keeping the rows `keep` accepts (given the row and the header); rows
/// not as wide as the header are problems. `None` when the file is empty.
fn read(
    file: &'static str,
    text: &str,
    problems: &mut Vec<Problem>,
    mut keep: impl FnMut(&[String], &csv::StringRecord) -> bool,
) -> Option<Kept> {
    if text.trim().is_empty() {
        return None;
    }
    let mut p = Problems::new(file, problems);
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut header: Vec<String> = Vec::new();
    let (mut rows, mut total) = (Vec::new(), 0u64);
    for (k, rec) in r.records().enumerate() {
        let line = k as u64 + 1;
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                p.add(
                    line,
                    0,
                    format!("not CSV ({}); left out", escape(&e.to_string())),
                );
                continue;
            }
        };
        if header.is_empty() {
            header = rec.iter().map(str::to_string).collect();
            continue;
        }
        if rec.len() != header.len() {
            p.add(
                line,
                0,
                format!(
                    "{} fields, the header has {}; left out",
                    rec.len(),
                    header.len()
                ),
            );
            continue;
        }
        total += 1;
        if keep(&header, &rec) {
            rows.push(rec.iter().map(|v| excerpt(v, MAX_CELL_CHARS)).collect());
        }
    }
    Some(Kept {
        header,
        rows,
        total,
    })
}

/// The column named `name`, if the header has it.
fn col(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name)
}

/// A task id usable in an anchor: digits only.
fn task_id(v: &str) -> Option<&str> {
    (!v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit())).then_some(v)
}

/// The task ids in a table's task column.
fn tasks_in(k: &Kept, column: &str) -> BTreeSet<String> {
    let Some(c) = col(&k.header, column) else {
        return BTreeSet::new();
    };
    k.rows
        .iter()
        .filter_map(|r| task_id(&r[c]).map(str::to_string))
        .collect()
}

/// One table: the task column links to `link` anchors of the tasks in `linked`; the first row
/// of each task gets the anchor `<anchor>-<task>`.
fn table(b: &mut String, k: &Kept, anchor: &str, link: &str, linked: &BTreeSet<String>) {
    let task_col = col(&k.header, "task");
    b.push_str("<table><tr>");
    for h in &k.header {
        let _ = write!(b, "<th>{}</th>", escape(h));
    }
    b.push_str("</tr>");
    let mut anchored = BTreeSet::new();
    for r in &k.rows {
        let id = task_col.and_then(|c| task_id(&r[c]));
        match id {
            Some(t) if anchored.insert(t.to_string()) => {
                let _ = write!(b, "<tr id=\"{anchor}-{t}\">");
            }
            _ => b.push_str("<tr>"),
        }
        for (c, (v, h)) in r.iter().zip(&k.header).enumerate() {
            let text = escape(&human::value(h, v));
            match id {
                Some(t) if Some(c) == task_col && linked.contains(t) => {
                    let _ = write!(b, "<td class=\"n\"><a href=\"#{link}-{t}\">{text}</a></td>");
                }
                _ => {
                    let _ = write!(b, "<td>{text}</td>");
                }
            }
        }
        b.push_str("</tr>");
    }
    b.push_str("</table>");
}

/// The placements and decisions sections, when the folder has the files.
pub(super) fn section(
    b: &mut String,
    placements_csv: &str,
    decisions_csv: &str,
    problems: &mut Vec<Problem>,
) {
    let (mut seen, mut failures) = (0usize, 0usize);
    let p = read(placements::SCHEMA.file, placements_csv, problems, |h, r| {
        let failed = col(h, placements::FAILURE).is_some_and(|c| !r[c].is_empty());
        // The first rows, then failed attempts only.
        seen += 1;
        if seen <= EXPLAIN_ROWS {
            return true;
        }
        if failed && failures < EXPLAIN_ROWS {
            failures += 1;
            return true;
        }
        false
    });
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let d = read(decisions::SCHEMA.file, decisions_csv, problems, |h, r| {
        let kind = col(h, decisions::KIND).map_or("", |c| &r[c]);
        let known = per_kind.len();
        match per_kind.get_mut(kind) {
            Some(n) if *n < EXPLAIN_ROWS => {
                *n += 1;
                true
            }
            Some(_) => false,
            None if known < MAX_KINDS => {
                per_kind.insert(kind.to_string(), 1);
                true
            }
            None => false,
        }
    });
    let none = BTreeSet::new();
    let p_tasks = p
        .as_ref()
        .map_or_else(BTreeSet::new, |k| tasks_in(k, placements::TASK));
    let d_tasks = d
        .as_ref()
        .map_or_else(BTreeSet::new, |k| tasks_in(k, decisions::TASK));
    if let Some(k) = &p {
        let _ = write!(
            b,
            "<h2>Placements explained</h2><p class=\"note\">placements.csv: {} placement attempts; shown: the first {} and {failures} failed attempts of the rest. A task's number links to the decisions about it.</p>",
            k.total,
            k.total.min(EXPLAIN_ROWS as u64)
        );
        table(
            b,
            k,
            "placement",
            "decision",
            if d.is_some() { &d_tasks } else { &none },
        );
    }
    if let Some(k) = &d {
        let _ = write!(
            b,
            "<h2>Decisions explained</h2><p class=\"note\">decisions.csv: {} decisions; shown: the first {EXPLAIN_ROWS} of each kind ({}). A task's number links to its placement.</p>",
            k.total,
            escape(&per_kind.keys().cloned().collect::<Vec<_>>().join(", "))
        );
        table(
            b,
            k,
            "decision",
            "placement",
            if p.is_some() { &p_tasks } else { &none },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P_HEAD: &str = "time_ms,task,service,job,cluster,candidates,not_active,removed_agent,removed_cpu,removed_memory,removed_ports,removed_eni,removed_distinct_instance,removed_member_of,feasible,strategy,tiers,tie,chosen,failure\n";

    /// The page keeps the first rows and later failures only, says how many there were, and
    /// escapes every name; a task id that is not all digits makes no anchor.
    #[test]
    fn explanations_are_bounded_linked_and_escaped() {
        let mut p = String::from(P_HEAD);
        for k in 0..1000 {
            let failure = if k % 100 == 99 { "RESOURCE:CPU" } else { "" };
            let chosen = if failure.is_empty() { "i-1" } else { "" };
            let _ = writeln!(
                p,
                "{k},{k},\"<b>web\",,c,3,0,0,0,0,0,0,0,0,3,,,3,{chosen},{failure}"
            );
        }
        let d = "time_ms,kind,subject,task,chosen,reason,details\n0,scale_in,\"<script>\",5,i-1,strategy,a=1\n0,stop,s,\"1\\\" onclick=\\\"x\",i-1,instance_draining,\n";
        let mut b = String::new();
        let mut problems = Vec::new();
        section(&mut b, &p, d, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(b.contains("1000 placement attempts; shown: the first 200 and 8 failed attempts"));
        assert_eq!(b.matches("<tr id=\"placement-").count(), 208);
        assert!(!b.contains("<b>") && !b.contains("<script>"));
        assert!(b.contains("&lt;b&gt;web") && b.contains("&lt;script&gt;"));
        // Task 5 is in both tables: linked both ways.
        assert!(b.contains("<a href=\"#decision-5\">") && b.contains("<a href=\"#placement-5\">"));
        assert!(!b.contains("onclick=\""));
    }

    /// A cell longer than the bound is cut.
    #[test]
    fn long_cells_are_cut() {
        let d = format!(
            "time_ms,kind,subject,task,chosen,reason,details\n0,stop,s,1,i,r,{}\n",
            "x".repeat(100_000)
        );
        let (mut b, mut problems) = (String::new(), Vec::new());
        section(&mut b, "", &d, &mut problems);
        assert!(b.len() < 10_000, "{}", b.len());
        assert!(b.contains(&format!("{}...", "x".repeat(MAX_CELL_CHARS))));
    }

    /// Without the files there is no section; a row of the wrong width is a problem.
    #[test]
    fn missing_files_add_nothing_and_bad_rows_are_problems() {
        let mut b = String::new();
        let mut problems = Vec::new();
        section(&mut b, "", "", &mut problems);
        assert!(b.is_empty() && problems.is_empty());
        let d = "time_ms,kind,subject,task,chosen,reason,details\n0,stop\n";
        section(&mut b, "", d, &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            (problems[0].file.as_str(), problems[0].line),
            ("decisions.csv", 2)
        );
        assert!(b.contains("decisions.csv: 0 decisions"));
    }
}
