//! Utilisation series as a load: a machine's CPU (or memory) utilisation over time replayed as
//! requests per second, `utilisation % / 100 x rps_at_100_pct`.
//!
//! Two formats:
//! * **`bitbrains`**: one VM of the GWA-T-12 Bitbrains trace (TU Delft Grid Workloads Archive):
//!   a header row, fields separated by `;` (a tab after it is white space). `Timestamp [ms]`
//!   holds Unix **seconds** despite its name. The CPU column is `CPU usage [%]` (the dataset's
//!   own percentage of `CPU capacity provisioned [MHZ]`, equal to `CPU usage [MHZ]` divided by it
//!   in the real files); memory is `Memory usage [KB]` / `Memory capacity provisioned [KB]`.
//!   Columns are found by their header names, so the other columns may be in any order.
//! * **`alibaba-v2018-machine-usage`**: Alibaba cluster-trace-v2018 `machine_usage`, no header,
//!   nine columns `machine_id, time_stamp, cpu_util_percent, mem_util_percent, mem_gps, mkpi,
//!   net_in, net_out, disk_io_percent`, all machines in one file; only the rows of `machine` are
//!   used. An empty `cpu_util_percent` (or `mem_util_percent`) is a missing sample: the row is
//!   skipped and the previous sample holds.
//!
//! Aggregation ([`rates`]): the earliest sample is simulated time 0; each sample's rate holds
//! until the next sample (a step, as a `cloudwatch` period; a gap in the series holds the last
//! sample); the last sample holds for the series' median interval between samples, then the
//! load is 0. Rows may come in any order (they are sorted); two samples at the same time are an
//! error, as is a utilisation outside 0-100 % (a measurement error, not a load to clamp).

use std::collections::BTreeSet;

use super::Problems;
use super::requests::RowProblem;
use crate::scenario::read::shown;

/// The formats of a utilisation series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageFormat {
    /// One VM's file of the GWA-T-12 Bitbrains trace.
    Bitbrains,
    /// Alibaba cluster-trace-v2018 `machine_usage` (one machine's rows).
    AlibabaV2018MachineUsage,
}

impl UsageFormat {
    /// Every format with the name a scenario gives it.
    pub const ALL: [(&'static str, UsageFormat); 2] = [
        ("bitbrains", UsageFormat::Bitbrains),
        (
            "alibaba-v2018-machine-usage",
            UsageFormat::AlibabaV2018MachineUsage,
        ),
    ];
}

/// Which utilisation the series replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageColumn {
    /// CPU utilisation.
    Cpu,
    /// Memory utilisation.
    Memory,
}

/// How to read a series.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// The file's format.
    pub format: UsageFormat,
    /// Alibaba v2018: the machine whose rows are read (required there).
    pub machine: Option<&'a str>,
    /// CPU or memory.
    pub column: UsageColumn,
    /// Requests per second that 100 % utilisation stands for.
    pub rps_at_100_pct: f64,
}

/// One sample as read: seconds, percent, and its line and column in the file.
type Sample = (u64, f64, usize, usize);

/// Timestamps above this many seconds are refused (the year 2286 in Unix seconds; keeps every
/// time in ms far inside `u64`).
const MAX_SECONDS: u64 = 10_000_000_000;

/// Machines named in the message when `machine` is not in the file.
const MACHINES_SHOWN: usize = 5;

/// Whole seconds from 0 to [`MAX_SECONDS`] written as plain digits (no sign, no exponent), or a
/// message naming the field.
fn seconds(field: &str, s: &str, what: &str) -> Result<u64, String> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match s.parse::<u64>() {
        Ok(v) if digits && v <= MAX_SECONDS => Ok(v),
        _ => Err(format!(
            "field {field}: got {}; expected {what}, whole seconds from 0 to {MAX_SECONDS}",
            shown(s)
        )),
    }
}

/// A percentage from 0 to 100, or a message naming the field.
fn percent(field: &str, s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "field {field}: got {}; expected a utilisation from 0 to 100 (percent)",
            shown(s)
        )),
    }
}

/// The most fields a line of either format may have (Bitbrains has 11, v2018 9): a line with
/// more is refused by its count before anything is built for it, so a long line of separators
/// costs no memory.
const MAX_FIELDS: usize = 64;

/// The fields of a line split at `sep`, each trimmed, with the 1-based character column where
/// its text starts; `Err(count)` without splitting when there are more than [`MAX_FIELDS`].
fn fields(line: &str, sep: char) -> Result<Vec<(&str, usize)>, usize> {
    let count = line.matches(sep).count() + 1;
    if count > MAX_FIELDS {
        return Err(count);
    }
    let mut col = 1;
    Ok(line
        .split(sep)
        .map(|f| {
            let lead = f.chars().take_while(|c| c.is_whitespace()).count();
            let out = (f.trim(), col + lead);
            col += f.chars().count() + 1;
            out
        })
        .collect())
}

/// The lines of a file that hold something: (1-based line number, text without `\r`).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// Bitbrains columns by header name.
const BB_TIME: &str = "Timestamp [ms]";
const BB_CPU: &str = "CPU usage [%]";
const BB_MEM_CAP: &str = "Memory capacity provisioned [KB]";
const BB_MEM: &str = "Memory usage [KB]";

/// The samples of a Bitbrains VM file.
fn read_bitbrains(text: &str, column: UsageColumn, p: &mut Problems) -> Vec<Sample> {
    let mut rows = lines(text);
    let Some((hl, header)) = rows.next() else {
        return Vec::new();
    };
    let header = match fields(header, ';') {
        Ok(h) => h,
        Err(count) => {
            p.add(
                hl,
                1,
                format!(
                    "header: got {count} ';'-separated fields; expected the Bitbrains header (11 fields)"
                ),
            );
            return Vec::new();
        }
    };
    let find = |name: &str| header.iter().position(|(h, _)| *h == name);
    let wanted: &[&str] = match column {
        UsageColumn::Cpu => &[BB_TIME, BB_CPU],
        UsageColumn::Memory => &[BB_TIME, BB_MEM_CAP, BB_MEM],
    };
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|n| find(n).is_none())
        .collect();
    if !missing.is_empty() {
        p.add(
            hl,
            1,
            format!(
                "header: no column {}; expected the Bitbrains header (fields separated by ';', such as \"{BB_TIME};\tCPU cores;\t...;\t{BB_CPU};\t...\")",
                missing
                    .iter()
                    .map(|m| format!("\"{m}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return Vec::new();
    }
    let col = |name: &str| find(name).expect("checked above");
    let mut out = Vec::new();
    for (n, line) in rows {
        let f = match fields(line, ';') {
            Ok(f) if f.len() == header.len() => f,
            _ => {
                p.add(
                    n,
                    1,
                    format!(
                        "row: got {} ';'-separated fields; expected {} as in the header",
                        line.matches(';').count() + 1,
                        header.len()
                    ),
                );
                continue;
            }
        };
        let (ts, tc) = f[col(BB_TIME)];
        let t = seconds(BB_TIME, ts, "Unix time (the column holds seconds)")
            .map_err(|e| p.add(n, tc, e))
            .ok();
        let value = match column {
            UsageColumn::Cpu => {
                let (v, vc) = f[col(BB_CPU)];
                percent(BB_CPU, v).map(|x| (x, vc)).map_err(|e| (vc, e))
            }
            UsageColumn::Memory => memory_pct(&f[col(BB_MEM_CAP)], &f[col(BB_MEM)]),
        };
        match (t, value) {
            (Some(t), Ok((x, vc))) => out.push((t, x, n, vc)),
            (_, Err((vc, e))) => p.add(n, vc, e),
            (None, Ok(_)) => {}
        }
    }
    out
}

/// Bitbrains memory use in percent of the capacity, or (column, message).
fn memory_pct(cap: &(&str, usize), used: &(&str, usize)) -> Result<(f64, usize), (usize, String)> {
    let c = match cap.0.parse::<f64>() {
        Ok(c) if c.is_finite() && c > 0.0 => c,
        _ => {
            return Err((
                cap.1,
                format!(
                    "field {BB_MEM_CAP}: got {}; expected a number above 0",
                    shown(cap.0)
                ),
            ));
        }
    };
    match used.0.parse::<f64>() {
        Ok(u) if (0.0..=c).contains(&u) => Ok((100.0 * u / c, used.1)),
        _ => Err((
            used.1,
            format!(
                "field {BB_MEM}: got {}; expected a number from 0 to the capacity provisioned ({})",
                shown(used.0),
                cap.0
            ),
        )),
    }
}

/// v2018 `machine_usage`'s columns.
const V2018_COLUMNS: &str = "machine_id,time_stamp,cpu_util_percent,mem_util_percent,mem_gps,mkpi,net_in,net_out,disk_io_percent";

/// The samples of one machine of an Alibaba v2018 `machine_usage` file. Every row must have the
/// nine columns; only `machine`'s rows are read further.
fn read_alibaba_v2018(
    text: &str,
    machine: &str,
    column: UsageColumn,
    p: &mut Problems,
) -> Vec<Sample> {
    let (k, name) = match column {
        UsageColumn::Cpu => (2, "cpu_util_percent"),
        UsageColumn::Memory => (3, "mem_util_percent"),
    };
    let mut machines: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    // Whether any row is the machine's (all of them may have an empty value in the column).
    let mut seen = false;
    for (n, line) in lines(text) {
        let f = match fields(line, ',') {
            Ok(f) if f.len() == 9 => f,
            _ => {
                p.add(
                    n,
                    1,
                    format!(
                        "expected 9 comma-separated columns ({V2018_COLUMNS}), got {}",
                        line.matches(',').count() + 1
                    ),
                );
                continue;
            }
        };
        if f[0].0 != machine {
            machines.insert(f[0].0);
            continue;
        }
        seen = true;
        let t = seconds("time_stamp", f[1].0, "time from the trace's start")
            .map_err(|e| p.add(n, f[1].1, e))
            .ok();
        let (v, vc) = f[k];
        if v.is_empty() {
            continue;
        }
        match (t, percent(name, v)) {
            (Some(t), Ok(x)) => out.push((t, x, n, vc)),
            (_, Err(e)) => p.add(n, vc, e),
            (None, Ok(_)) => {}
        }
    }
    if out.is_empty() && !p.any() && seen {
        p.add(
            0,
            0,
            format!(
                "every row of machine {} has an empty {name}; expected at least two samples",
                shown(machine)
            ),
        );
    } else if out.is_empty() && !p.any() {
        let shown_names: Vec<String> = machines
            .iter()
            .take(MACHINES_SHOWN)
            .map(|m| shown(m))
            .collect();
        let more = machines.len().saturating_sub(MACHINES_SHOWN);
        p.add(
            0,
            0,
            format!(
                "no sample of machine {}; the file has {}{}",
                shown(machine),
                if machines.is_empty() {
                    "no other machine".to_string()
                } else {
                    shown_names.join(", ")
                },
                if more > 0 {
                    format!(" and {more} more machines")
                } else {
                    String::new()
                }
            ),
        );
    }
    out
}

/// Requests per second of a utilisation series: `(time ms, rps)` points for a
/// [`crate::load::Component::Held`] load, or every problem found (the first 20, then a count),
/// each with its 1-based line and column (0, 0 for the whole file).
pub fn rates(text: &str, s: &Series<'_>) -> Result<Vec<(u64, f64)>, Vec<RowProblem>> {
    // A byte-order mark (files saved by some Windows tools) is not part of the first field.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\r') && !text.contains('\n') {
        return Err(vec![(
            1,
            1,
            "the file's lines end in CR alone (old Mac line ends); expected LF or CRLF line ends"
                .to_string(),
        )]);
    }
    let mut p = Problems::default();
    let mut samples = match (s.format, s.machine) {
        (UsageFormat::Bitbrains, _) => read_bitbrains(text, s.column, &mut p),
        (UsageFormat::AlibabaV2018MachineUsage, Some(m)) => {
            read_alibaba_v2018(text, m, s.column, &mut p)
        }
        (UsageFormat::AlibabaV2018MachineUsage, None) => {
            return Err(vec![(0, 0, "a machine is required".to_string())]);
        }
    };
    samples.sort_by_key(|d| (d.0, d.2));
    for w in samples.windows(2) {
        if w[0].0 == w[1].0 {
            p.add(
                w[1].2,
                w[1].3,
                format!(
                    "a second sample for the time of line {}; expected one per time",
                    w[0].2
                ),
            );
        }
    }
    if samples.len() < 2 && !p.any() {
        p.add(
            0,
            0,
            format!(
                "{} sample(s) in the file; at least two are needed (the interval between them is how long the last one holds)",
                samples.len()
            ),
        );
    }
    if p.any() {
        return Err(p.finish());
    }
    let origin = samples[0].0;
    let mut intervals: Vec<u64> = samples.windows(2).map(|w| w[1].0 - w[0].0).collect();
    intervals.sort_unstable();
    // The median; for an even count the shorter of the middle two (whole seconds, no average).
    let last_holds = intervals[(intervals.len() - 1) / 2];
    let scale = s.rps_at_100_pct / 100.0;
    let mut out: Vec<(u64, f64)> = samples
        .iter()
        .map(|d| ((d.0 - origin) * 1000, d.1 * scale))
        .collect();
    let end = samples[samples.len() - 1].0 - origin + last_holds;
    out.push((end * 1000, 0.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Component;

    fn series(format: UsageFormat, machine: Option<&str>, column: UsageColumn) -> Series<'_> {
        Series {
            format,
            machine,
            column,
            rps_at_100_pct: 400.0,
        }
    }

    const BB: &str = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\tDisk write throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork transmitted throughput [KB/s]\n";

    /// The first rows of Bitbrains GWA-T-12 Rnd 2013-7/1.csv (Shen, van Beek, Iosup, CCGrid
    /// 2015): `CPU usage [%]` x 400 / 100 requests per second from the first sample (time 0), held
    /// until the next; the last holds for the median interval (300 s), then 0.
    #[test]
    fn bitbrains_cpu_percent_becomes_held_rates() {
        let text = format!(
            "{BB}1372629804;\t2;\t5851.9989;\t87.7799835;\t1.5;\t8218624.0;\t1034592.8;\t160.86666666666667;\t21.733333333333334;\t0.26666666666666666;\t1.4666666666666666\n\
             1372630104;\t2;\t5851.9989;\t29.259994499999998;\t0.5;\t8218624.0;\t458575.4666666667;\t0.0;\t2.3333333333333335;\t0.2;\t1.0\n\
             1372630404;\t2;\t5851.9989;\t27.309328199999996;\t0.4666666666666666;\t8218624.0;\t184548.0;\t32.06666666666667;\t4.2;\t0.13333333333333333;\t1.0666666666666667\n"
        );
        let cpu = rates(
            &text,
            &series(UsageFormat::Bitbrains, None, UsageColumn::Cpu),
        )
        .unwrap();
        assert_eq!(cpu.len(), 4);
        assert_eq!(cpu[0], (0, 6.0));
        assert_eq!(cpu[1], (300_000, 2.0));
        assert_eq!(cpu[2].0, 600_000);
        assert!((cpu[2].1 - 0.4666666666666666 * 4.0).abs() < 1e-12);
        assert_eq!(cpu[3], (900_000, 0.0));
        let held = Component::Held { points: cpu };
        assert_eq!(
            (held.at(299_999), held.at(300_000), held.at(900_000)),
            (6.0, 2.0, 0.0)
        );
        // Memory: usage / capacity provisioned.
        let mem = rates(
            &text,
            &series(UsageFormat::Bitbrains, None, UsageColumn::Memory),
        )
        .unwrap();
        assert!((mem[0].1 - 1034592.8 / 8218624.0 * 400.0).abs() < 1e-9);
    }

    /// Intervals differ (the real files have 299, 300, 301 s and a 30-hour gap): each sample
    /// holds until the next, the last for the median interval; rows in any order are sorted.
    #[test]
    fn irregular_samples_hold_until_the_next() {
        let row = |t: u64, pct: f64| {
            format!("{t};\t2;\t5851.9989;\t0;\t{pct};\t8218624.0;\t0;\t0;\t0;\t0;\t0\n")
        };
        let text = format!(
            "{BB}{}{}{}{}",
            row(1000, 10.0),
            row(1301, 20.0),
            row(7000, 50.0),
            row(1600, 30.0)
        );
        let r = rates(
            &text,
            &series(UsageFormat::Bitbrains, None, UsageColumn::Cpu),
        )
        .unwrap();
        assert_eq!(
            r,
            vec![
                (0, 40.0),
                (301_000, 80.0),
                (600_000, 120.0),
                (6_000_000, 200.0),
                (6_301_000, 0.0)
            ]
        );
    }

    /// Alibaba v2018 machine_usage (rows written for ecsim in the trace's format): only the
    /// chosen machine's rows; its first sample is time 0; an empty value is a missing sample.
    #[test]
    fn alibaba_v2018_reads_one_machine() {
        let text = "m_1,100,41,92,,,43.04,33.08,5\n\
                    m_2,100,10,50,,,1,1,1\n\
                    m_1,110,43,93,,,43.04,33.08,5\n\
                    m_1,130,,94,,,43.05,33.08,5\n\
                    m_1,140,50,95,,,43.05,33.08,3\n";
        let cpu = rates(
            text,
            &series(
                UsageFormat::AlibabaV2018MachineUsage,
                Some("m_1"),
                UsageColumn::Cpu,
            ),
        )
        .unwrap();
        assert_eq!(
            cpu,
            vec![(0, 164.0), (10_000, 172.0), (40_000, 200.0), (50_000, 0.0)]
        );
        let mem = rates(
            text,
            &series(
                UsageFormat::AlibabaV2018MachineUsage,
                Some("m_1"),
                UsageColumn::Memory,
            ),
        )
        .unwrap();
        assert_eq!(mem[2], (30_000, 376.0));
        let e = rates(
            text,
            &series(
                UsageFormat::AlibabaV2018MachineUsage,
                Some("m_9"),
                UsageColumn::Cpu,
            ),
        )
        .unwrap_err();
        assert_eq!(
            e,
            vec![(
                0,
                0,
                "no sample of machine \"m_9\"; the file has \"m_1\", \"m_2\"".to_string()
            )]
        );
    }

    /// A timestamp is plain digits: a sign or an exponent, which `u64::from_str` or a float
    /// parse would take, is refused with the field named (review finding).
    #[test]
    fn timestamps_are_plain_digits() {
        for bad in ["+7", "1e2", "-0", " 7", "0x10", ""] {
            let e = seconds("timestamp", bad, "a time").unwrap_err();
            assert!(e.contains("whole seconds"), "{bad:?}: {e}");
        }
        assert_eq!(seconds("timestamp", "007", "a time"), Ok(7));
        assert_eq!(
            seconds("timestamp", "10000000000", "a time"),
            Ok(MAX_SECONDS)
        );
        assert!(seconds("timestamp", "10000000001", "a time").is_err());
    }

    /// Review findings: a byte-order mark is not part of the first field (it used to turn the
    /// first v2018 row into another machine's, silently shifting the series, and to hide the
    /// Bitbrains header); a line of thousands of separators is refused by its count; a machine
    /// whose every value is empty is named as such, not as absent.
    #[test]
    fn bom_long_lines_and_empty_machines() {
        fn ali(m: &str) -> Series<'_> {
            series(
                UsageFormat::AlibabaV2018MachineUsage,
                Some(m),
                UsageColumn::Cpu,
            )
        }
        let text = "m_a,0,50,1,,,1,1,1\nm_a,600,10,1,,,1,1,1\nm_a,1200,20,1,,,1,1,1\n";
        let plain = rates(text, &ali("m_a")).unwrap();
        assert_eq!(plain[0], (0, 200.0));
        assert_eq!(
            rates(&format!("\u{feff}{text}"), &ali("m_a")).unwrap(),
            plain
        );
        let bb = format!(
            "{BB}1372629804;\t2;\t5851.9989;\t87.78;\t1.5;\t8218624.0;\t1034592.8;\t0;\t0;\t0;\t0\n1372630104;\t2;\t5851.9989;\t29.26;\t0.5;\t8218624.0;\t458575.5;\t0;\t0;\t0;\t0\n"
        );
        let cpu = series(UsageFormat::Bitbrains, None, UsageColumn::Cpu);
        assert_eq!(
            rates(&format!("\u{feff}{bb}"), &cpu).unwrap(),
            rates(&bb, &cpu).unwrap()
        );
        let long = format!("{text}{}\n", ",".repeat(100_000));
        let e = rates(&long, &ali("m_a")).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].2.ends_with("got 100001"), "{e:?}");
        let long = format!("{bb}{}\n", ";".repeat(100_000));
        let e = rates(&long, &cpu).unwrap_err();
        assert!(
            e[0].2.starts_with("row: got 100001 ';'-separated fields"),
            "{e:?}"
        );
        let cr = text.replace('\n', "\r");
        assert!(
            rates(&cr, &ali("m_a")).unwrap_err()[0]
                .2
                .contains("CR alone")
        );
        let empty = "m_a,0,,1,,,1,1,1\nm_a,600,,1,,,1,1,1\nm_b,0,5,1,,,1,1,1\n";
        assert_eq!(
            rates(empty, &ali("m_a")).unwrap_err(),
            vec![(
                0,
                0,
                "every row of machine \"m_a\" has an empty cpu_util_percent; expected at least two samples"
                    .to_string()
            )]
        );
    }

    /// Every problem is reported with its line and column; none stops the reading.
    #[test]
    fn hostile_rows_are_all_located() {
        let text = "m_1,100,41,92,,,1,1,5\n\
                    m_1,soon,41,92,,,1,1,5\n\
                    m_1,120,140,92,,,1,1,5\n\
                    m_1,130,-1,92,,,1,1,5\n\
                    m_1,140,NaN,92,,,1,1,5\n\
                    m_1,150\n\
                    m_1,100,42,92,,,1,1,5\n\
                    m_1,99999999999,42,92,,,1,1,5\n";
        let e = rates(
            text,
            &series(
                UsageFormat::AlibabaV2018MachineUsage,
                Some("m_1"),
                UsageColumn::Cpu,
            ),
        )
        .unwrap_err();
        let at: Vec<(usize, usize)> = e.iter().map(|p| (p.0, p.1)).collect();
        assert_eq!(
            at,
            vec![(2, 5), (3, 9), (4, 9), (5, 9), (6, 1), (8, 5), (7, 9)]
        );
        assert!(
            e[0].2.starts_with("field time_stamp: got \"soon\""),
            "{e:?}"
        );
        assert!(
            e[1].2.contains(
                "field cpu_util_percent: got \"140\"; expected a utilisation from 0 to 100"
            ),
            "{e:?}"
        );
        assert!(
            e[4].2.contains("expected 9 comma-separated columns"),
            "{e:?}"
        );
        assert!(e[6].2.contains("time of line 1"), "{e:?}");
        // Bitbrains: a wrong header names the missing column; bad fields are located.
        let e = rates(
            "time;cpu\n1;2\n",
            &series(UsageFormat::Bitbrains, None, UsageColumn::Cpu),
        )
        .unwrap_err();
        assert_eq!((e[0].0, e[0].1), (1, 1));
        assert!(
            e[0].2
                .contains("no column \"Timestamp [ms]\", \"CPU usage [%]\""),
            "{e:?}"
        );
        let text = format!(
            "{BB}1;\t2;\t5851.9989;\t0;\t101;\t8218624.0;\t0;\t0;\t0;\t0;\t0\n\
             2;\t2;\t5851.9989;\t0;\t1;\t0;\t0;\t0;\t0;\t0;\t0\n\
             3;\t2\n"
        );
        let e = rates(
            &text,
            &series(UsageFormat::Bitbrains, None, UsageColumn::Cpu),
        )
        .unwrap_err();
        assert_eq!((e[0].0, e[0].1), (2, 21));
        assert!(e[0].2.contains("CPU usage [%]: got \"101\""), "{e:?}");
        assert_eq!((e[1].0, e[1].1), (4, 1));
        let e = rates(
            &text,
            &series(UsageFormat::Bitbrains, None, UsageColumn::Memory),
        )
        .unwrap_err();
        assert_eq!((e[0].0, e[0].1), (3, 24));
        assert!(e[0].2.contains("expected a number above 0"), "{e:?}");
        // Empty, one sample, too many problems.
        assert_eq!(
            rates("", &series(UsageFormat::Bitbrains, None, UsageColumn::Cpu)).unwrap_err()[0].0,
            0
        );
        let one = format!("{BB}1;\t2;\t5851.9989;\t0;\t1;\t8218624.0;\t0;\t0;\t0;\t0;\t0\n");
        let e = rates(
            &one,
            &series(UsageFormat::Bitbrains, None, UsageColumn::Cpu),
        )
        .unwrap_err();
        assert!(e[0].2.starts_with("1 sample(s)"), "{e:?}");
        let many = "m_1,x,1,1,,,1,1,1\n".repeat(30);
        let e = rates(
            &many,
            &series(
                UsageFormat::AlibabaV2018MachineUsage,
                Some("m_1"),
                UsageColumn::Cpu,
            ),
        )
        .unwrap_err();
        assert_eq!(e.len(), 21);
        assert_eq!(e[20].2, "10 more problems not shown");
    }
}
