//! CloudWatch metric exports as a load: a request count per period turned into requests per
//! second, held over each period (CloudWatch periods are buckets).
//!
//! Two shapes, told apart by the first character that is not white space:
//! * **CSV** as the CloudWatch console's "Download as .csv" gives it: a header row, the
//!   timestamp in the first column and one value column per metric (fields may be quoted). An
//!   empty value cell is a period without a datapoint; lines starting with `#` are comments.
//! * **JSON** of `aws cloudwatch get-metric-data`: `MetricDataResults[].Timestamps[]` and
//!   `Values[]` (newest first, as the API answers; any order is accepted).
//!
//! Timestamps are UTC (`2024-03-04 09:00:00`, `2024-03-04T09:00:00Z`, or with an offset such as
//! `+00:00` or `-05:00`). Aggregation ([`rates`]): the earliest timestamp is simulated time 0;
//! the datapoint at `t` covers `[t, t + period)` at `value / period seconds` requests per second,
//! times `targets` for a per-target metric; a period without a datapoint (a gap) is 0 requests
//! ([`Gaps::Zero`], what an ELB `RequestCount` means by an absent datapoint) or the previous
//! period's rate ([`Gaps::Hold`]); after the last period the load is 0.

use super::Problems;
use super::requests::{RowProblem, timestamp_ms};
use crate::scenario::tree::{Kind, Node, Origin};

/// What a period without a datapoint means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gaps {
    /// No requests in that period.
    Zero,
    /// The previous period's rate.
    Hold,
}

/// How to read an export.
#[derive(Debug, Clone)]
pub struct Export<'a> {
    /// The CSV column header, or the JSON result's `Id` or `Label`; `None` when there is one.
    pub metric: Option<&'a str>,
    /// The metric's period, ms (whole seconds).
    pub period_ms: u64,
    /// Each value is multiplied by this (the number of targets of a per-target metric; else 1).
    pub targets: f64,
    /// What a missing period means.
    pub gaps: Gaps,
}

/// One datapoint as read: UTC ms, the value, and its line and column in the file.
type Datapoint = (i64, f64, usize, usize);

/// `s` cut to 40 characters with control characters escaped, for messages.
fn shown(s: &str) -> String {
    s.chars()
        .take(40)
        .collect::<String>()
        .escape_default()
        .to_string()
}

/// UTC ms of a CloudWatch timestamp: [`timestamp_ms`]'s forms, or with a `+HH:MM` / `-HH:MM`
/// offset after the time.
fn utc_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let time_at = s.find([' ', 'T'])?;
    if let Some(k) = s[time_at..].rfind(['+', '-']) {
        let (local, off) = s.split_at(time_at + k);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':').unwrap_or((&off[1..], "00"));
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        if h > 23 || m > 59 || !off[1..].bytes().all(|b| b.is_ascii_digit() || b == b':') {
            return None;
        }
        return Some(timestamp_ms(local)? - sign * (h * 60 + m) * 60_000);
    }
    timestamp_ms(s)
}

/// The fields of a CSV line with each one's 1-based character column; `None` for a quote left
/// open.
fn csv_fields(line: &str) -> Option<Vec<(String, usize)>> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    let mut col = 1;
    loop {
        let start = col;
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            col += 1;
            loop {
                let c = chars.next()?;
                col += 1;
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        col += 1;
                        field.push('"');
                    } else {
                        break;
                    }
                } else {
                    field.push(c);
                }
            }
        }
        while let Some(&c) = chars.peek() {
            if c == ',' {
                break;
            }
            field.push(c);
            chars.next();
            col += 1;
        }
        out.push((field.trim().to_string(), start));
        if chars.next().is_none() {
            return Some(out);
        }
        col += 1;
    }
}

/// The value column of a CSV export: `metric`'s, or the only one.
fn pick_column(header: &[(String, usize)], metric: Option<&str>) -> Result<usize, String> {
    let names: Vec<String> = header[1..]
        .iter()
        .map(|(h, _)| format!("\"{}\"", shown(h)))
        .collect();
    match metric {
        Some(m) => header[1..]
            .iter()
            .position(|(h, _)| h == m)
            .map(|k| k + 1)
            .ok_or_else(|| {
                format!(
                    "no column \"{}\"; the header has {}",
                    shown(m),
                    names.join(", ")
                )
            }),
        None if names.len() == 1 => Ok(1),
        None if names.is_empty() => {
            Err("expected a header of a timestamp column and a value column".to_string())
        }
        None => Err(format!(
            "{} value columns ({}); choose one with metric = \"...\"",
            names.len(),
            names.join(", ")
        )),
    }
}

/// The datapoints of a console CSV export.
fn read_csv(text: &str, metric: Option<&str>, p: &mut Problems) -> Vec<Datapoint> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let Some((hl, header)) = lines.next() else {
        return Vec::new();
    };
    let Some(header) = csv_fields(header) else {
        p.add(hl, 1, "header: a quote is not closed".to_string());
        return Vec::new();
    };
    let col = match pick_column(&header, metric) {
        Ok(c) => c,
        Err(e) => {
            p.add(hl, 1, format!("header: {e}"));
            return Vec::new();
        }
    };
    let mut points = Vec::new();
    for (n, line) in lines {
        let Some(f) = csv_fields(line) else {
            p.add(n, 1, "row: a quote is not closed".to_string());
            continue;
        };
        if f.len() != header.len() {
            p.add(
                n,
                1,
                format!(
                    "row: got {} fields; expected {} as in the header",
                    f.len(),
                    header.len()
                ),
            );
            continue;
        }
        let t = utc_ms(&f[0].0);
        if t.is_none() {
            p.add(
                n,
                f[0].1,
                format!(
                    "field timestamp: got \"{}\"; expected a UTC time such as 2024-03-04 09:00:00",
                    shown(&f[0].0)
                ),
            );
        }
        let (v, vc) = (&f[col].0, f[col].1);
        if v.is_empty() {
            continue;
        }
        match (t, v.parse::<f64>()) {
            (Some(t), Ok(x)) if x.is_finite() && x >= 0.0 => points.push((t, x, n, vc)),
            (_, Ok(x)) if x.is_finite() && x >= 0.0 => {}
            _ => p.add(
                n,
                vc,
                format!(
                    "field {}: got \"{}\"; expected a number from 0, or nothing",
                    shown(&header[col].0),
                    shown(v)
                ),
            ),
        }
    }
    points
}

/// Line and column of a JSON value (or 0, 0).
fn at(n: &Node) -> (usize, usize) {
    match &n.origin {
        Origin::At(_, l, c) => (*l as usize, *c as usize),
        _ => (0, 0),
    }
}

fn field<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    match &n.kind {
        Kind::Table(t) => t.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
        _ => None,
    }
}

fn text_of(n: Option<&Node>) -> Option<&str> {
    match n.map(|n| &n.kind) {
        Some(Kind::Str(s)) => Some(s),
        _ => None,
    }
}

/// The result of a `get-metric-data` answer to read: `metric`'s (by `Id` or `Label`), or the only
/// one.
fn pick_result<'n>(results: &'n [Node], metric: Option<&str>) -> Result<&'n Node, String> {
    let name = |r: &Node| {
        let id = text_of(field(r, "Id")).unwrap_or("");
        let label = text_of(field(r, "Label")).unwrap_or("");
        format!("\"{}\" (Label \"{}\")", shown(id), shown(label))
    };
    let names: Vec<String> = results.iter().map(name).collect();
    match metric {
        Some(m) => results
            .iter()
            .find(|r| text_of(field(r, "Id")) == Some(m) || text_of(field(r, "Label")) == Some(m))
            .ok_or_else(|| {
                format!(
                    "no result with Id or Label \"{}\"; the file has {}",
                    shown(m),
                    names.join(", ")
                )
            }),
        None if results.len() == 1 => Ok(&results[0]),
        None if results.is_empty() => Err("MetricDataResults is empty".to_string()),
        None => Err(format!(
            "{} results ({}); choose one with metric = \"...\"",
            names.len(),
            names.join(", ")
        )),
    }
}

/// The datapoints of a `get-metric-data` answer.
fn read_json(file: &str, text: &str, metric: Option<&str>, p: &mut Problems) -> Vec<Datapoint> {
    let root = match crate::scenario::ecs_json::json::parse(file, text) {
        Ok(n) => n,
        Err(d) => {
            p.add(d.line, d.column, d.message);
            return Vec::new();
        }
    };
    let Some(Kind::Array(results)) = field(&root, "MetricDataResults").map(|n| &n.kind) else {
        p.add(
            1,
            1,
            "expected the JSON of aws cloudwatch get-metric-data: an object with a MetricDataResults array".to_string(),
        );
        return Vec::new();
    };
    let r = match pick_result(results, metric) {
        Ok(r) => r,
        Err(e) => {
            let (l, c) = at(field(&root, "MetricDataResults").unwrap_or(&root));
            p.add(l, c, format!("field MetricDataResults: {e}"));
            return Vec::new();
        }
    };
    let list = |key: &str| match field(r, key).map(|n| &n.kind) {
        Some(Kind::Array(a)) => Some(a.as_slice()),
        _ => None,
    };
    let (Some(ts), Some(vs)) = (list("Timestamps"), list("Values")) else {
        let (l, c) = at(r);
        p.add(l, c, "expected Timestamps and Values arrays".to_string());
        return Vec::new();
    };
    if ts.len() != vs.len() {
        let (l, c) = at(field(r, "Values").unwrap_or(r));
        p.add(
            l,
            c,
            format!(
                "{} Timestamps but {} Values; expected one value per timestamp",
                ts.len(),
                vs.len()
            ),
        );
        return Vec::new();
    }
    let mut points = Vec::new();
    for (k, (t, v)) in ts.iter().zip(vs).enumerate() {
        let time = text_of(Some(t)).and_then(utc_ms);
        if time.is_none() {
            let (l, c) = at(t);
            p.add(
                l,
                c,
                format!(
                    "field Timestamps[{k}]: got {}; expected a UTC time such as \"2024-03-04T09:00:00Z\"",
                    shown(&t.kind.describe())
                ),
            );
        }
        let value = match v.kind {
            Kind::Int(i) if i >= 0 => Some(i as f64),
            Kind::Float(x) if x.is_finite() && x >= 0.0 => Some(x),
            _ => None,
        };
        match (time, value) {
            (Some(t), Some(x)) => {
                let (l, c) = at(v);
                points.push((t, x, l, c));
            }
            (_, Some(_)) => {}
            (_, None) => {
                let (l, c) = at(v);
                p.add(
                    l,
                    c,
                    format!(
                        "field Values[{k}]: got {}; expected a number from 0",
                        shown(&v.kind.describe())
                    ),
                );
            }
        }
    }
    points
}

/// Requests per second of a CloudWatch export (`file` names it in JSON positions): `(time ms,
/// rps)` points for a [`crate::load::Component::Held`] load, or every problem found (the first
/// 20, then a count), each with its 1-based line and column.
pub fn rates(file: &str, text: &str, ex: &Export<'_>) -> Result<Vec<(u64, f64)>, Vec<RowProblem>> {
    let mut p = Problems::default();
    if ex.period_ms == 0 {
        return Err(vec![(0, 0, "the period must be longer than 0".to_string())]);
    }
    let mut points = if text.trim_start().starts_with('{') {
        read_json(file, text, ex.metric, &mut p)
    } else {
        read_csv(text, ex.metric, &mut p)
    };
    if points.is_empty() && !p.any() {
        p.add(0, 0, "no datapoint in the file".to_string());
    }
    points.sort_by_key(|d| (d.0, d.2, d.3));
    let origin = points.first().map_or(0, |d| d.0);
    let period = ex.period_ms as i64;
    for w in points.windows(2) {
        if w[0].0 == w[1].0 {
            p.add(
                w[1].2,
                w[1].3,
                format!(
                    "a second datapoint for the timestamp of line {}; expected one per period",
                    w[0].2
                ),
            );
        }
    }
    for d in &points {
        if (d.0 - origin) % period != 0 {
            p.add(
                d.2,
                d.3,
                format!(
                    "the timestamp is {} s after the first, not a whole number of periods ({} s); is period right?",
                    (d.0 - origin) as f64 / 1000.0,
                    period / 1000
                ),
            );
        }
    }
    if p.any() {
        return Err(p.finish());
    }
    let secs = ex.period_ms as f64 / 1000.0;
    let mut out: Vec<(u64, f64)> = Vec::with_capacity(points.len() + 1);
    let mut end = 0u64;
    for d in &points {
        let t = (d.0 - origin) as u64;
        if t > end && ex.gaps == Gaps::Zero {
            out.push((end, 0.0));
        }
        out.push((t, d.1 / secs * ex.targets));
        end = t + ex.period_ms;
    }
    out.push((end, 0.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(gaps: Gaps) -> Export<'static> {
        Export {
            metric: None,
            period_ms: 60_000,
            targets: 1.0,
            gaps,
        }
    }

    #[test]
    fn timestamps_with_offsets_are_utc() {
        let base = utc_ms("2024-03-04 09:00:00").unwrap();
        assert_eq!(utc_ms("2024-03-04T09:00:00Z"), Some(base));
        assert_eq!(utc_ms("2024-03-04T09:00:00+00:00"), Some(base));
        assert_eq!(utc_ms("2024-03-04T10:00:00+01:00"), Some(base));
        assert_eq!(utc_ms("2024-03-04T04:00:00-05:00"), Some(base));
        assert_eq!(utc_ms("2024-03-04T04:00:00-5x"), None);
        assert_eq!(utc_ms("2024-03-04"), None);
    }

    #[test]
    fn quoted_csv_fields_keep_their_columns() {
        assert_eq!(
            csv_fields(r#""a,b",1,"say ""hi""""#).unwrap(),
            vec![
                ("a,b".to_string(), 1),
                ("1".to_string(), 7),
                ("say \"hi\"".to_string(), 9)
            ]
        );
        assert_eq!(csv_fields("\"open,1"), None);
    }

    /// A console CSV: a Sum of RequestCount per minute is value / 60 requests per second, held
    /// over each minute; an empty cell is a gap, 0 by default or the previous rate when held.
    #[test]
    fn console_csv_sums_become_held_rates() {
        let text = "\"Time\",\"RequestCount\"\n\
                    2024-03-04 09:00:00,600\n\
                    2024-03-04 09:01:00,1200\n\
                    2024-03-04 09:02:00,\n\
                    2024-03-04 09:03:00,300\n";
        assert_eq!(
            rates("f", text, &ex(Gaps::Zero)).unwrap(),
            vec![
                (0, 10.0),
                (60_000, 20.0),
                (120_000, 0.0),
                (180_000, 5.0),
                (240_000, 0.0)
            ]
        );
        assert_eq!(
            rates("f", text, &ex(Gaps::Hold)).unwrap(),
            vec![(0, 10.0), (60_000, 20.0), (180_000, 5.0), (240_000, 0.0)]
        );
        // Per target: times the number of targets.
        let per_target = Export {
            targets: 4.0,
            ..ex(Gaps::Zero)
        };
        assert_eq!(rates("f", text, &per_target).unwrap()[1], (60_000, 80.0));
    }

    #[test]
    fn several_csv_columns_need_a_metric() {
        let text = "Time,RequestCount,HTTPCode_Target_5XX_Count\n2024-03-04 09:00:00,60,1\n";
        let e = rates("f", text, &ex(Gaps::Zero)).unwrap_err();
        assert_eq!(e[0].0, 1);
        assert!(e[0].2.contains("choose one with metric"), "{e:?}");
        let pick = Export {
            metric: Some("HTTPCode_Target_5XX_Count"),
            ..ex(Gaps::Zero)
        };
        assert_eq!(rates("f", text, &pick).unwrap()[0], (0, 1.0 / 60.0));
    }

    /// get-metric-data answers newest first; the datapoints are sorted, the earliest is time 0.
    #[test]
    fn get_metric_data_json_is_read_newest_first() {
        let text = r#"{
    "MetricDataResults": [
        {
            "Id": "requests",
            "Label": "RequestCount",
            "Timestamps": ["2024-03-04T09:10:00+00:00", "2024-03-04T09:05:00+00:00", "2024-03-04T09:00:00+00:00"],
            "Values": [3000.0, 1500, 600.0],
            "StatusCode": "Complete"
        }
    ],
    "Messages": []
}"#;
        let five = Export {
            period_ms: 300_000,
            ..ex(Gaps::Zero)
        };
        assert_eq!(
            rates("f", text, &five).unwrap(),
            vec![(0, 2.0), (300_000, 5.0), (600_000, 10.0), (900_000, 0.0)]
        );
    }

    /// Every problem is reported with its line and column, none stops the reading.
    #[test]
    fn hostile_rows_are_all_located() {
        let text = "Time,RequestCount\n\
                    2024-03-04 09:00:00,60\n\
                    yesterday,60\n\
                    2024-03-04 09:01:00,lots\n\
                    2024-03-04 09:02:00,60,7\n\
                    2024-03-04 09:00:00,30\n\
                    2024-03-04 09:03:30,30\n\
                    2024-03-04 09:04:00,-1\n";
        let e = rates("f", text, &ex(Gaps::Zero)).unwrap_err();
        let at: Vec<(usize, usize)> = e.iter().map(|p| (p.0, p.1)).collect();
        assert_eq!(at, vec![(3, 1), (4, 21), (5, 1), (8, 21), (6, 21), (7, 21)]);
        assert!(e[0].2.contains("got \"yesterday\""), "{e:?}");
        assert!(e[1].2.contains("field RequestCount: got \"lots\""), "{e:?}");
        assert!(e[4].2.contains("timestamp of line 2"), "{e:?}");
        assert!(e[5].2.contains("210 s after the first"), "{e:?}");
        let json = "{\"MetricDataResults\": [{\"Id\": \"m\", \"Timestamps\": [\"x\"], \"Values\": [\"1\"]}]}";
        let e = rates("f", json, &ex(Gaps::Zero)).unwrap_err();
        assert_eq!((e[0].0, e[0].1), (1, 51));
        assert_eq!((e[1].0, e[1].1), (1, 68));
        let e = rates("f", "{\"MetricDataResults\": [", &ex(Gaps::Zero)).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(rates("f", "", &ex(Gaps::Zero)).unwrap_err()[0].0, 0);
        let many = "T,V\n".to_string() + &"bad,1\n".repeat(30);
        let e = rates("f", &many, &ex(Gaps::Zero)).unwrap_err();
        assert_eq!(e.len(), 21);
        assert_eq!(e[20].2, "10 more problems not shown");
    }
}
