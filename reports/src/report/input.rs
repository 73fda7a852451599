//! The report's input, treated as hostile: every file of an output folder may be truncated,
//! edited, corrupted or replaced. Rows of the wrong width, values that are not finite numbers,
//! bad UTF-8 and files over [`MAX_FILE_BYTES`] are [`Problem`]s with file, line and column; the
//! report draws what is valid and lists the problems (see [`super::render_run`]).

use std::collections::HashMap;
use std::fmt;

use crate::escape::excerpt;

/// The most bytes read of one input file (256 MiB): the rest is ignored and reported as a
/// problem. Bounds the memory and time `ecsim report` takes on an endless or enormous file.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The most problems listed per file; the rest are counted in one last problem.
pub const MAX_PROBLEMS_PER_FILE: usize = 50;

/// Something wrong in an input file. `line` 0 means the whole file; `column` 0 the whole line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file's name within the folder, e.g. `metrics.csv`.
    pub file: String,
    /// 1-based line, or 0.
    pub line: u64,
    /// 1-based column (a CSV field, or a byte/character for JSON and UTF-8), or 0.
    pub column: u64,
    /// What is wrong and what the report did about it; any file content in it is escaped
    /// with [`crate::escape::visible`].
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.file, self.message),
            (l, 0) => write!(f, "{}:{l}: {}", self.file, self.message),
            (l, c) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
        }
    }
}

/// The problems of one file, at most [`MAX_PROBLEMS_PER_FILE`] listed.
pub(crate) struct Problems<'a> {
    file: &'a str,
    out: &'a mut Vec<Problem>,
    listed: usize,
    more: u64,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(file: &'a str, out: &'a mut Vec<Problem>) -> Self {
        Problems {
            file,
            out,
            listed: 0,
            more: 0,
        }
    }

    pub(crate) fn add(&mut self, line: u64, column: u64, message: String) {
        if self.listed < MAX_PROBLEMS_PER_FILE {
            self.listed += 1;
            self.out.push(Problem {
                file: self.file.to_string(),
                line,
                column,
                message,
            });
        } else {
            self.more += 1;
        }
    }
}

impl Drop for Problems<'_> {
    fn drop(&mut self) {
        if self.more > 0 {
            self.out.push(Problem {
                file: self.file.to_string(),
                line: 0,
                column: 0,
                message: format!("{} more problems not listed", self.more),
            });
        }
    }
}

/// A file's bytes as text: every invalid UTF-8 sequence is a problem (line, byte column) and
/// reads as U+FFFD; `truncated` (the file was longer than [`MAX_FILE_BYTES`]) is one too.
pub fn decode(file: &str, bytes: &[u8], truncated: bool, problems: &mut Vec<Problem>) -> String {
    let mut p = Problems::new(file, problems);
    if truncated {
        p.add(
            0,
            0,
            format!(
                "larger than {} MiB: only the first {} MiB read",
                MAX_FILE_BYTES >> 20,
                MAX_FILE_BYTES >> 20
            ),
        );
    }
    let mut text = String::with_capacity(bytes.len());
    let (mut line, mut line_start) = (1u64, 0usize);
    let mut at = 0usize;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        for (i, b) in valid.bytes().enumerate() {
            if b == b'\n' {
                line += 1;
                line_start = at + i + 1;
            }
        }
        text.push_str(valid);
        at += valid.len();
        let bad = chunk.invalid();
        if !bad.is_empty() {
            p.add(
                line,
                (at - line_start + 1) as u64,
                format!("not UTF-8 (byte {:#04x}); read as \u{fffd}", bad[0]),
            );
            text.push('\u{fffd}');
            at += bad.len();
        }
    }
    text
}

/// A CSV row with the line it starts on.
pub(crate) struct Row {
    pub(crate) line: u64,
    pub(crate) cells: Vec<String>,
}

/// A CSV file read back as text: its header and the rows as wide as the header. Rows of another
/// width are problems and left out.
pub(crate) struct Csv {
    pub(crate) file: &'static str,
    pub(crate) header: Vec<String>,
    index: HashMap<String, usize>,
    pub(crate) rows: Vec<Row>,
    /// Cells checked by [`Csv::check_numbers`] that are not finite numbers: (row, column).
    bad: std::collections::HashSet<(usize, usize)>,
}

impl Csv {
    /// Parse `text` (the contents of `file`), reporting rows of the wrong width.
    pub(crate) fn parse(file: &'static str, text: &str, problems: &mut Vec<Problem>) -> Csv {
        let mut p = Problems::new(file, problems);
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut header: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        let mut first = true;
        let mut rec = csv::StringRecord::new();
        loop {
            match r.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    p.add(line, 0, format!("not CSV: {e}; row left out"));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                    continue;
                }
            }
            let line = rec.position().map_or(0, |p| p.line());
            if first {
                first = false;
                header = rec.iter().map(String::from).collect();
                continue;
            }
            if rec.len() != header.len() {
                p.add(
                    line,
                    0,
                    format!(
                        "{} fields where the header has {}; row left out",
                        rec.len(),
                        header.len()
                    ),
                );
                continue;
            }
            rows.push(Row {
                line,
                cells: rec.iter().map(String::from).collect(),
            });
        }
        let mut index = HashMap::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            index.entry(h.clone()).or_insert(i);
        }
        Csv {
            file,
            header,
            index,
            rows,
            bad: Default::default(),
        }
    }

    /// Index of a column (the first of that name).
    pub(crate) fn col(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Report every cell of `columns` that is not a finite number (an empty cell is allowed
    /// where `allow_empty`); [`Csv::num`] then reads it as missing.
    pub(crate) fn check_numbers(
        &mut self,
        columns: &[usize],
        allow_empty: bool,
        problems: &mut Vec<Problem>,
    ) {
        let mut p = Problems::new(self.file, problems);
        for (ri, r) in self.rows.iter().enumerate() {
            for &c in columns {
                let Some(v) = r.cells.get(c) else { continue };
                if v.is_empty() && allow_empty {
                    continue;
                }
                if finite(v).is_none() && self.bad.insert((ri, c)) {
                    let what = match v.trim().parse::<f64>() {
                        Ok(x) if x.is_nan() => "not a number (NaN)",
                        Ok(_) => "not finite",
                        Err(_) if v.is_empty() => "empty",
                        Err(_) => "not a number",
                    };
                    p.add(
                        r.line,
                        c as u64 + 1,
                        format!(
                            "{}: {what}: \"{}\"; value left out",
                            excerpt(&self.header[c], 60),
                            excerpt(v, 40)
                        ),
                    );
                }
            }
        }
    }

    /// Row `ri`'s cell in column `c` as a finite number, if it is one.
    pub(crate) fn num(&self, ri: usize, c: usize) -> Option<f64> {
        if self.bad.contains(&(ri, c)) {
            return None;
        }
        self.rows
            .get(ri)
            .and_then(|r| r.cells.get(c))
            .and_then(|v| finite(v))
    }

    /// Row `ri`'s cell in column `c`, empty if there is none.
    pub(crate) fn text(&self, ri: usize, c: usize) -> &str {
        self.rows
            .get(ri)
            .and_then(|r| r.cells.get(c))
            .map_or("", String::as_str)
    }
}

/// `s` as a finite number.
pub(crate) fn finite(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_utf8_is_reported_with_line_and_column() {
        let mut p = Vec::new();
        let t = decode("m.csv", b"a,b\n1,\xff2\n\xc3", false, &mut p);
        assert_eq!(t, "a,b\n1,\u{fffd}2\n\u{fffd}");
        let s: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("m.csv:2:3: not UTF-8"), "{s:?}");
        assert!(s[1].starts_with("m.csv:3:1: not UTF-8"), "{s:?}");
    }

    #[test]
    fn widths_and_numbers_are_checked() {
        let mut p = Vec::new();
        let mut c = Csv::parse(
            "x.csv",
            "t,v\n1,2\n3\n4,NaN\n5,inf\n6,abc,7\n8,-1e999\n9,\n",
            &mut p,
        );
        c.check_numbers(&[0, 1], false, &mut p);
        let s: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        assert_eq!(c.rows.len(), 5);
        assert_eq!(c.num(0, 1), Some(2.0));
        assert_eq!(c.num(1, 1), None);
        for want in [
            "x.csv:3: 1 fields where the header has 2",
            "x.csv:6: 3 fields",
            "x.csv:4:2: v: not a number (NaN)",
            "x.csv:5:2: v: not finite",
            "x.csv:7:2: v: not finite",
            "x.csv:8:2: v: empty",
        ] {
            assert!(s.iter().any(|x| x.starts_with(want)), "{want} in {s:?}");
        }
    }

    #[test]
    fn problems_are_capped_per_file() {
        let mut p = Vec::new();
        let text = "a\n".to_string() + &"x\n".repeat(200);
        let mut c = Csv::parse("f.csv", &text, &mut p);
        c.check_numbers(&[0], false, &mut p);
        assert_eq!(p.len(), MAX_PROBLEMS_PER_FILE + 1);
        assert_eq!(
            p.last().unwrap().to_string(),
            "f.csv: 150 more problems not listed"
        );
    }
}
