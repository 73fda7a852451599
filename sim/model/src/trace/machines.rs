//! Machine capacities from a trace: Alibaba cluster-trace-v2018 `machine_meta`, as instance
//! groups of a cluster.
//!
//! Format `alibaba-v2018-machine-meta`: no header, seven columns `machine_id, time_stamp,
//! failure_domain_1, failure_domain_2, cpu_num, mem_size, status`. Each distinct `machine_id`
//! counts once, with the `cpu_num` and `mem_size` of its first row in the file (a machine has a
//! row per status change; its later rows are counted as repeats). `status` is not used: every
//! machine the file lists is one instance. Machines of the same (`cpu_num`, `mem_size`) form one
//! shape, in order of first appearance. `mem_size` is normalised, 0 to 100 (100 = the largest
//! machine), so its MiB come from a scale the scenario gives.

use std::collections::BTreeSet;

use super::requests::RowProblem;

/// Problems reported in full; the rest are counted in one last problem.
const MAX_PROBLEMS: usize = 20;

/// Machines of one shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MachineShape {
    /// Cores.
    pub cpu_num: u32,
    /// Normalised memory, 0 (excluded) to 100.
    pub mem_size: f64,
    /// Machines of this shape.
    pub count: u32,
}

/// What a `machine_meta` file gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MachineMeta {
    /// The shapes, in order of first appearance.
    pub shapes: Vec<MachineShape>,
    /// Rows read.
    pub rows: u64,
    /// Distinct machines (the sum of the shapes' counts).
    pub machines: u32,
}

/// Read a `machine_meta` file: its shapes, or every malformed row (1-based line and column,
/// what was given, what is allowed; at most 20, then a count).
pub fn alibaba_v2018(text: &str) -> Result<MachineMeta, Vec<RowProblem>> {
    let mut out = MachineMeta::default();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut problems = Vec::new();
    let mut bad = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        match row(line) {
            Err((col, msg)) => {
                bad += 1;
                if problems.len() < MAX_PROBLEMS {
                    problems.push((i + 1, col, msg));
                }
            }
            Ok((machine, cpu_num, mem_size)) => {
                out.rows += 1;
                if !seen.insert(machine) {
                    continue;
                }
                out.machines += 1;
                let n = out.shapes.len();
                match out
                    .shapes
                    .iter_mut()
                    .find(|s| s.cpu_num == cpu_num && s.mem_size == mem_size)
                {
                    Some(s) => s.count += 1,
                    None if n < MAX_SHAPES => out.shapes.push(MachineShape {
                        cpu_num,
                        mem_size,
                        count: 1,
                    }),
                    None => {
                        bad += 1;
                        if problems.len() < MAX_PROBLEMS {
                            problems.push((
                                i + 1,
                                1,
                                format!("more than {MAX_SHAPES} distinct (cpu_num, mem_size) shapes; ecsim makes an instance group of each"),
                            ));
                        }
                    }
                }
            }
        }
    }
    if bad > MAX_PROBLEMS {
        let last = problems.last().map_or(0, |p| p.0);
        problems.push((
            last,
            1,
            format!("and {} more malformed rows", bad - MAX_PROBLEMS),
        ));
    }
    if out.machines == 0 && problems.is_empty() {
        problems.push((1, 1, "no machine rows; expected at least one".into()));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(out)
}

/// Most distinct shapes (instance groups) a file may give.
pub const MAX_SHAPES: usize = 1000;

/// One row: (machine id, cpu_num, mem_size), or (1-based column, message).
fn row(line: &str) -> Result<(&str, u32, f64), (usize, String)> {
    let fields = super::split_row(
        line,
        "machine_id,time_stamp,failure_domain_1,failure_domain_2,cpu_num,mem_size,status",
    )?;
    let col = |f: usize| super::field_column(&fields, f);
    let shown = |s: &str| crate::scenario::read::escape_controls(s);
    let machine = fields[0].trim();
    if machine.is_empty() {
        return Err((1, "machine_id: empty; expected a machine id".into()));
    }
    let ts = fields[1].trim();
    if ts.parse::<u64>().is_err() {
        return Err((
            col(1),
            format!(
                "time_stamp: got \"{}\"; expected whole seconds from the trace's start",
                shown(ts)
            ),
        ));
    }
    let c = fields[4].trim();
    let cpu_num = match c.parse::<u32>() {
        Ok(v) if (1..=1024).contains(&v) => v,
        _ => {
            return Err((
                col(4),
                format!("cpu_num: got \"{}\"; expected cores, 1 to 1024", shown(c)),
            ));
        }
    };
    let m = fields[5].trim();
    let mem_size = match m.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 100.0 => v,
        _ => {
            return Err((
                col(5),
                format!(
                    "mem_size: got \"{}\"; expected normalised memory above 0, at most 100",
                    shown(m)
                ),
            ));
        }
    };
    Ok((machine, cpu_num, mem_size))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Rows in the layout of Alibaba cluster-trace-v2018 machine_meta.csv (schema: alibaba/
    // clusterdata cluster-trace-v2018 schema.txt), written for this test.
    const ROWS: &str = "m_1,0,219,17,96,100,USING\nm_1,148984,219,17,96,100,USING\n\
        m_2,0,9,9,64,50,USING\nm_3,0,9,9,96,100,IMPORT_INSTALLING\nm_2,700,9,9,96,100,USING\n";

    #[test]
    fn each_machine_counts_once_with_its_first_row_in_shapes_of_first_appearance() {
        let m = alibaba_v2018(ROWS).unwrap();
        assert_eq!(m.rows, 5);
        assert_eq!(m.machines, 3);
        let got: Vec<(u32, f64, u32)> = m
            .shapes
            .iter()
            .map(|s| (s.cpu_num, s.mem_size, s.count))
            .collect();
        assert_eq!(got, vec![(96, 100.0, 2), (64, 50.0, 1)]);
    }

    #[test]
    fn malformed_rows_are_located_every_one() {
        let text = "m_1,0,1,1,96,100,USING\nm_2,x,1,1,96,100,USING\nm_3,0,1,1,0,100,USING\n\
            m_4,0,1,1,96,101,USING\nm_5,0,1\n,0,1,1,96,100,USING\n";
        let p = alibaba_v2018(text).unwrap_err();
        let at: Vec<(usize, usize)> = p.iter().map(|x| (x.0, x.1)).collect();
        assert_eq!(at, vec![(2, 5), (3, 11), (4, 14), (5, 1), (6, 1)]);
        assert!(p[0].2.contains("got \"x\""), "{}", p[0].2);
        assert!(p[2].2.contains("at most 100"), "{}", p[2].2);
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert!(alibaba_v2018("\n").is_err());
    }
}
