//! The streaming reader: rows parsed as the run needs them, a bounded window that puts them in
//! submit order, interned groups and constraints, and the counts of what was used and skipped.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::BufRead;

use super::formats::{self, Parsed, Problem};
use super::{TasksPerRow, TraceCounts, TraceSpec};
use crate::scenario::read::Diagnostic;

/// Longest line read, bytes: a longer one is a problem (and a file without newlines cannot
/// make the reader hold more than this).
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Most distinct (group, constraint) pairs a trace may have.
const MAX_KEYS: usize = 1_000_000;
/// Problems reported in full; the rest are counted.
const MAX_PROBLEMS: usize = 50;

/// One row, ready to submit: `count` tasks of this size at `submit_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TraceTask {
    /// Submit time, ms from the trace's time origin.
    pub submit_ms: u64,
    /// The row's position in the file (ties keep file order).
    seq: u64,
    /// Run time of each task, ms.
    pub run_ms: u64,
    /// CPU units of each task.
    pub cpu_units: u32,
    /// Memory of each task, MiB.
    pub memory_mib: u32,
    /// Tasks (after `tasks_per_row`).
    pub count: u64,
    /// The interned group and constraint ([`TraceReader::key`]); 0: none.
    pub key: u32,
}

/// Reads a trace row by row, in submit order, in bounded memory.
pub struct TraceReader {
    src: Box<dyn BufRead + Send>,
    spec: TraceSpec,
    buf: Vec<u8>,
    key: String,
    line_no: u64,
    eof: bool,
    heap: BinaryHeap<Reverse<TraceTask>>,
    last_submit: u64,
    keys: BTreeMap<String, u32>,
    key_list: Vec<String>,
    counts: TraceCounts,
    problems: Vec<(u64, Problem)>,
    problems_total: u64,
}

impl TraceReader {
    /// A reader over `src` in the spec's format.
    pub fn new(spec: &TraceSpec, src: Box<dyn BufRead + Send>) -> Self {
        TraceReader {
            src,
            spec: spec.clone(),
            buf: Vec::new(),
            key: String::new(),
            line_no: 0,
            eof: false,
            heap: BinaryHeap::new(),
            last_submit: 0,
            keys: BTreeMap::new(),
            key_list: vec![String::new()],
            counts: TraceCounts::default(),
            problems: Vec::new(),
            problems_total: 0,
        }
    }

    /// The next row in submit order, or `None` at the end of the trace.
    pub fn next_task(&mut self) -> Option<TraceTask> {
        let window = self.spec.reorder_rows.max(1) as usize;
        while !self.eof && self.heap.len() < window {
            self.read_row();
        }
        let Reverse(t) = self.heap.pop()?;
        self.last_submit = t.submit_ms;
        self.counts.rows_used += 1;
        self.counts.tasks += t.count;
        Some(t)
    }

    /// A row [`TraceReader::next_task`] gave whose last `left` tasks were not submitted
    /// (the run ended first).
    pub fn not_reached(&mut self, t: &TraceTask, left: u64) {
        self.counts.tasks -= left;
        if left == t.count {
            self.counts.rows_used -= 1;
            self.counts.after_end += 1;
        }
    }

    /// The group and the `memberOf` expression of an interned key.
    pub fn key(&self, k: u32) -> (Option<&str>, Option<&str>) {
        let s = self.key_list[k as usize].as_str();
        let (g, c) = s.split_once('\u{1f}').unwrap_or((s, ""));
        ((!g.is_empty()).then_some(g), (!c.is_empty()).then_some(c))
    }

    /// Number of interned keys (0 is none).
    pub fn keys(&self) -> usize {
        self.key_list.len()
    }

    /// The counts so far.
    pub fn counts(&self) -> &TraceCounts {
        &self.counts
    }

    /// The run is over: count the rows never reached (those in the window and the rest of the
    /// file, read to the end) and return the counts.
    pub fn finish(&mut self) -> TraceCounts {
        self.counts.after_end += self.heap.len() as u64;
        self.heap.clear();
        while !self.eof {
            self.read_row();
            self.counts.after_end += self.heap.len() as u64;
            self.heap.clear();
        }
        self.counts.clone()
    }

    /// Read one line into the window (or count it).
    fn read_row(&mut self) {
        let Some(line_no) = self.read_line() else {
            return;
        };
        let text = match std::str::from_utf8(&self.buf) {
            Ok(t) => t,
            Err(e) => {
                let at = e.valid_up_to();
                let good = String::from_utf8_lossy(&self.buf[..at]).chars().count();
                let value = format!("byte 0x{:02X}", self.buf[at]);
                self.problem(line_no, Problem::at(good + 1, "row", &value, "UTF-8 text"));
                return;
            }
        };
        let parsed = formats::parse(&self.spec, line_no, text, &mut self.key);
        match parsed {
            Parsed::Ignore => {}
            Parsed::Skip(r) => self.counts.skipped[r as usize] += 1,
            Parsed::Bad(p) => self.problem(line_no, p),
            Parsed::Row(r) => {
                let Some(key) = self.intern() else {
                    let p = Problem::at(
                        1,
                        "group",
                        "",
                        format!(
                            "at most {MAX_KEYS} distinct task groups and constraints in one trace"
                        ),
                    );
                    self.problem(line_no, p);
                    return;
                };
                let mut submit = r.submit_ms;
                if submit < self.last_submit {
                    let p = Problem::at(
                        1,
                        "submit time",
                        &format!("{} s", submit as f64 / 1000.0),
                        format!(
                            "rows in submit order, or at most reorder_rows = {} rows out of order (a row at {} s was already replayed); sort the file by submit time or raise reorder_rows",
                            self.spec.reorder_rows,
                            self.last_submit as f64 / 1000.0
                        ),
                    );
                    self.problem(line_no, p);
                    self.counts.malformed -= 1;
                    self.counts.late += 1;
                    submit = self.last_submit;
                }
                let count = match self.spec.tasks_per_row {
                    TasksPerRow::Count => r.count,
                    TasksPerRow::One => 1,
                };
                self.heap.push(Reverse(TraceTask {
                    submit_ms: submit,
                    seq: line_no,
                    run_ms: r.run_ms,
                    cpu_units: r.cpu_units,
                    memory_mib: r.memory_mib,
                    count,
                    key,
                }));
            }
        }
    }

    /// The interned id of the parsed row's key (`None`: too many).
    fn intern(&mut self) -> Option<u32> {
        if self.key.is_empty() {
            return Some(0);
        }
        if let Some(&k) = self.keys.get(self.key.as_str()) {
            return Some(k);
        }
        if self.key_list.len() > MAX_KEYS {
            return None;
        }
        let k = self.key_list.len() as u32;
        self.keys.insert(self.key.clone(), k);
        self.key_list.push(self.key.clone());
        Some(k)
    }

    /// Read the next line into `buf` (without its newline), at most [`MAX_LINE_BYTES`];
    /// `None` at the end of the input (or on a read error, recorded as a problem).
    fn read_line(&mut self) -> Option<u64> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.src.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.eof = true;
                    let line = self.line_no + 1;
                    let p = Problem::at(
                        1,
                        "file",
                        "",
                        format!("a readable file, but reading failed: {e}"),
                    );
                    self.problem(line, p);
                    return None;
                }
            };
            if chunk.is_empty() {
                self.eof = true;
                break;
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = MAX_LINE_BYTES.saturating_sub(self.buf.len());
            if take > room {
                too_long = true;
            }
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            self.src.consume(take);
            if done {
                break;
            }
        }
        if !any {
            return None;
        }
        self.line_no += 1;
        if too_long {
            let p = Problem::at(
                1,
                "row",
                "",
                format!("a line of at most {MAX_LINE_BYTES} bytes"),
            );
            self.problem(self.line_no, p);
            self.buf.clear();
        }
        while self.buf.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            self.buf.pop();
        }
        // A byte-order mark (files saved by some Windows tools) is not part of the first row.
        if self.line_no == 1 && self.buf.starts_with(b"\xef\xbb\xbf") {
            self.buf.drain(..3);
        }
        Some(self.line_no)
    }

    fn problem(&mut self, line: u64, p: Problem) {
        self.counts.malformed += 1;
        self.problems_total += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push((line, p));
        }
    }
}

/// The result of reading a whole trace before a run.
#[derive(Debug, Clone)]
pub struct TraceCheck {
    /// Rows used, skipped and malformed, as a run that reaches the end would count them.
    pub counts: TraceCounts,
    /// Every problem (the first 50 in full, then one line with the number left), each with
    /// the trace file, line, column, the scenario field `path`, the trace field, the value and
    /// what is allowed.
    pub problems: Vec<Diagnostic>,
}

/// Read a whole trace (streamed, in the memory a run uses) and report every malformed row and
/// every row further out of order than `reorder_rows`. `file` names the trace in messages and
/// `path` is the scenario field (`jobs[0].arrival`).
pub fn check(spec: &TraceSpec, src: Box<dyn BufRead + Send>, file: &str, path: &str) -> TraceCheck {
    let mut r = TraceReader::new(spec, src);
    while r.next_task().is_some() {}
    let mut problems: Vec<Diagnostic> = r
        .problems
        .iter()
        .map(|(line, p)| Diagnostic {
            file: file.to_string(),
            line: *line as usize,
            column: p.column,
            path: path.to_string(),
            message: format!("{} trace: {}", spec.format.name(), p.message()),
            from_set: None,
        })
        .collect();
    let more = r.problems_total - r.problems.len() as u64;
    if more > 0 {
        problems.push(Diagnostic {
            file: file.to_string(),
            line: 0,
            column: 0,
            path: path.to_string(),
            message: format!("{more} more malformed rows not shown"),
            from_set: None,
        });
    }
    TraceCheck {
        counts: r.counts.clone(),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{DEFAULT_REORDER_ROWS, SkipReason, TraceFormat};

    fn spec(window: u32) -> TraceSpec {
        TraceSpec {
            file: "t.csv".into(),
            format: TraceFormat::Csv,
            tasks_per_row: TasksPerRow::Count,
            memory_mib_per_unit: None,
            cpu_units_per_processor: 1024,
            memory_mib_per_processor: 2048,
            gpu_attribute: "gpu_model".into(),
            reorder_rows: window,
        }
    }

    fn reader(window: u32, text: &str) -> TraceReader {
        let src: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        TraceReader::new(&spec(window), src)
    }

    #[test]
    fn rows_come_in_submit_order_within_the_window() {
        let mut r = reader(
            10,
            "submit_s,cpu_units,memory_mib,duration_s\n5,1,1,1\n1,2,2,2,3,g\n\n3,3,3,3\n1,4,4,4,1,g\n",
        );
        let got: Vec<(u64, u32, u32)> = std::iter::from_fn(|| r.next_task())
            .map(|t| (t.submit_ms, t.cpu_units, t.key))
            .collect();
        // Equal times keep file order; both rows of group g share a key.
        assert_eq!(
            got,
            vec![(1000, 2, 1), (1000, 4, 1), (3000, 3, 0), (5000, 1, 0)]
        );
        assert_eq!(r.key(1), (Some("g"), None));
        let c = r.finish();
        assert_eq!((c.rows_used, c.tasks, c.malformed, c.late), (4, 6, 0, 0));
    }

    /// A trace saved with a byte-order mark reads as the same trace without it (the mark used
    /// to make the first row's first field an invisible error), header or not.
    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_row() {
        for text in [
            "5,1,1,1\n6,2,2,2\n",
            "submit_s,cpu_units,memory_mib,duration_s\n5,1,1,1\n",
        ] {
            let rows = |t: &str| {
                let mut r = reader(10, t);
                let got: Vec<(u64, u32)> = std::iter::from_fn(|| r.next_task())
                    .map(|t| (t.submit_ms, t.cpu_units))
                    .collect();
                (got, r.finish().malformed)
            };
            let plain = rows(text);
            assert_eq!(plain.1, 0);
            assert_eq!(rows(&format!("\u{feff}{text}")), plain);
        }
    }

    #[test]
    fn rows_out_of_order_beyond_the_window_are_reported() {
        let text = "5,1,1,1\n6,1,1,1\n1,1,1,1\n";
        let src: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let c = check(&spec(1), src, "t.csv", "jobs[0].arrival");
        assert_eq!(c.counts.late, 1);
        assert_eq!(
            c.problems[0].to_string(),
            "t.csv:3:1: jobs[0].arrival: csv trace: field submit time: got \"1 s\"; expected rows in submit order, or at most reorder_rows = 1 rows out of order (a row at 6 s was already replayed); sort the file by submit time or raise reorder_rows"
        );
        // With a window as large as the file, the same rows are simply sorted.
        let src: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        assert!(
            check(&spec(DEFAULT_REORDER_ROWS), src, "t.csv", "p")
                .problems
                .is_empty()
        );
    }

    #[test]
    fn every_problem_is_reported_and_skips_are_counted() {
        let mut text = String::from("1,1,1,1,0\n");
        for _ in 0..60 {
            text.push_str("x,1,1,1\n");
        }
        text.push_str("1,1,\u{0}\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"2,\xff,1,1\n");
        let src: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(bytes));
        let c = check(&spec(10), src, "t.csv", "p");
        assert_eq!(c.counts.skipped[SkipReason::NoTasks as usize], 1);
        assert_eq!(c.counts.malformed, 62);
        assert_eq!(c.problems.len(), 51);
        assert_eq!(c.problems[50].message, "12 more malformed rows not shown");
        assert_eq!(c.problems[0].line, 2);
    }

    #[test]
    fn a_line_without_end_is_bounded() {
        let bytes = vec![b'1'; 1 << 20];
        let src: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(bytes));
        let c = check(&spec(10), src, "t.csv", "p");
        assert_eq!(c.counts.malformed, 1);
        assert!(
            c.problems[0].message.contains("at most 65536 bytes"),
            "{:?}",
            c.problems
        );
    }

    #[test]
    fn rows_after_the_end_are_counted() {
        let mut r = reader(1, "1,1,1,1,2\n2,1,1,1\n3,1,1,1\n");
        let t = r.next_task().unwrap();
        r.not_reached(&t, 1);
        let c = r.finish();
        assert_eq!((c.rows_used, c.tasks, c.after_end), (1, 1, 2));
    }
}
