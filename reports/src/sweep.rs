//! Sweep tables: the one-row CSV file each sweep run is stored as, and `runs.csv` and
//! `aggregate.csv` built from those files (columns of [`crate::schema::runs`] and
//! [`crate::schema::aggregate`]).

use ecsim_model::record::{Summary, SummaryValue};

use crate::escape::csv_cell;
use crate::schema::{aggregate, runs as cols};

/// One finished sweep run, as read back from its file: column names and values, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRun {
    /// Grid point.
    pub point: usize,
    /// Replicate.
    pub replicate: u32,
    /// Columns: point, replicate, seed, the parameters, then the summary's fields.
    pub columns: Vec<String>,
    /// Values, as written.
    pub values: Vec<String>,
}

impl SweepRun {
    /// The value of a column, if the run has it.
    pub(crate) fn get(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .position(|x| x == column)
            .map(|i| self.values[i].as_str())
    }
}

fn into_bytes(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, csv::Error> {
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The one-row CSV a sweep run is stored as: `point`, `replicate`, `seed`, one column per
/// parameter (its value's label), then every summary field but `wall_ms` (which would make runs
/// differ from one machine or thread count to another).
pub fn sweep_run_csv(
    point: usize,
    replicate: u32,
    seed: u64,
    params: &[(String, String)],
    s: &Summary,
) -> Result<Vec<u8>, csv::Error> {
    let mut names: Vec<String> = cols::SCHEMA.columns.iter().map(|c| c.to_string()).collect();
    let mut vals: Vec<String> = vec![point.to_string(), replicate.to_string(), seed.to_string()];
    for (name, label) in params {
        names.push(cols::param_column(name));
        vals.push(label.clone());
    }
    for (k, v) in s.fields() {
        if k == "wall_ms" {
            continue;
        }
        names.push(k);
        vals.push(match v {
            SummaryValue::Str(x) => x,
            SummaryValue::Int(i) => i.to_string(),
            // No value (an empty cell) rather than NaN or infinity, which readers reject.
            SummaryValue::Float(f) if !f.is_finite() => String::new(),
            SummaryValue::Float(f) => format!("{f:.6}"),
        });
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(names.iter().map(|c| csv_cell(c).into_owned()))?;
    w.write_record(vals.iter().map(|c| csv_cell(c).into_owned()))?;
    into_bytes(w)
}

/// Read a run file back, checking it: one header and one row of the same width, starting with
/// `point`, `replicate` and `seed` (whole numbers); every column not holding text
/// ([`cols::is_text`]) a finite number or empty. A corrupt file is an error naming its line and
/// column, never a value averaged in.
pub fn read_sweep_run(bytes: &[u8]) -> Result<SweepRun, String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = r.records();
    let mut next = |missing: &str| -> Result<Vec<String>, String> {
        Ok(rows
            .next()
            .ok_or(missing)?
            .map_err(|e| e.to_string())?
            .iter()
            .map(String::from)
            .collect())
    };
    let columns = next("empty run file")?;
    let values = next("line 2: run file without a row")?;
    if next("").is_ok() {
        return Err("line 3: a run file has one header and one row, this one has more".into());
    }
    if columns.len() < 3
        || columns[0] != cols::POINT
        || columns[1] != cols::REPLICATE
        || columns[2] != cols::SEED
    {
        return Err(format!(
            "line 1: not a sweep run file (its header starts with {}, {}, {})",
            cols::POINT,
            cols::REPLICATE,
            cols::SEED
        ));
    }
    if columns.len() != values.len() {
        return Err(format!(
            "line 2: {} values for {} columns",
            values.len(),
            columns.len()
        ));
    }
    let bad = |c: &str, v: &str, what: &str| format!("line 2, column {c}: {v:?} is not {what}");
    let point = values[0]
        .parse()
        .map_err(|_| bad(cols::POINT, &values[0], "a grid point number"))?;
    let replicate = values[1]
        .parse()
        .map_err(|_| bad(cols::REPLICATE, &values[1], "a replicate number"))?;
    values[2]
        .parse::<u64>()
        .map_err(|_| bad(cols::SEED, &values[2], "a seed"))?;
    for (c, v) in columns.iter().zip(&values).skip(3) {
        if cols::is_text(c) || v.is_empty() {
            continue;
        }
        if !v.parse::<f64>().is_ok_and(f64::is_finite) {
            return Err(bad(c, v, "a finite number"));
        }
    }
    Ok(SweepRun {
        point,
        replicate,
        columns,
        values,
    })
}

/// `runs.csv` and `aggregate.csv` from finished runs (in any order): runs sorted by (point,
/// replicate); columns the union of the runs' columns in order of first appearance; per grid
/// point the mean, standard deviation and 95 % confidence interval (Student's t) of every numeric
/// column. Only the runs decide the bytes, so shards merged in any order give the same files.
pub fn sweep_tables(runs: &[SweepRun]) -> Result<(Vec<u8>, Vec<u8>), csv::Error> {
    let mut runs: Vec<&SweepRun> = runs.iter().collect();
    runs.sort_by_key(|r| (r.point, r.replicate));
    let columns = union_of_columns(&runs);
    let runs_csv = runs_table(&runs, &columns)?;
    let aggregate_csv = aggregate_table(&runs, &columns)?;
    Ok((runs_csv, aggregate_csv))
}

/// Every run's columns, in order of first appearance.
fn union_of_columns(runs: &[&SweepRun]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for r in runs {
        for c in &r.columns {
            if !columns.contains(c) {
                columns.push(c.clone());
            }
        }
    }
    columns
}

/// `runs.csv`: one row per run, empty where a run lacks a column.
fn runs_table(runs: &[&SweepRun], columns: &[String]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns.iter().map(|c| csv_cell(c).into_owned()))?;
    for r in runs {
        w.write_record(
            columns
                .iter()
                .map(|c| csv_cell(r.get(c).unwrap_or_default()).into_owned()),
        )?;
    }
    into_bytes(w)
}

/// The measured columns: every value a number, present in at least one run; identifiers and
/// hashes are not measurements, even when they parse as numbers.
fn measured<'a>(runs: &[&SweepRun], columns: &'a [String]) -> Vec<&'a String> {
    columns
        .iter()
        .filter(|c| !cols::NOT_MEASURED.contains(&c.as_str()) && !cols::is_text(c))
        .filter(|c| {
            let mut values = runs
                .iter()
                .filter_map(|r| r.get(c))
                .filter(|v| !v.is_empty());
            let any = values.clone().next().is_some();
            any && values.all(|v| v.parse::<f64>().is_ok_and(f64::is_finite))
        })
        .collect()
}

/// `aggregate.csv`: per grid point, its parameters, its number of runs and the statistics of
/// every measured column.
fn aggregate_table(runs: &[&SweepRun], columns: &[String]) -> Result<Vec<u8>, csv::Error> {
    let params: Vec<&String> = columns
        .iter()
        .filter(|c| cols::param_name(c).is_some())
        .collect();
    let numeric = measured(runs, columns);
    let mut header: Vec<String> = vec![aggregate::POINT.into()];
    header.extend(params.iter().map(|p| p.to_string()));
    header.push(aggregate::RUNS.into());
    for m in &numeric {
        header.extend(aggregate::STATS.map(|k| aggregate::stat_column(m, k)));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header.iter().map(|c| csv_cell(c).into_owned()))?;
    for group in runs.chunk_by(|a, b| a.point == b.point) {
        let mut row: Vec<String> = vec![group[0].point.to_string()];
        row.extend(
            params
                .iter()
                .map(|p| group[0].get(p).unwrap_or_default().to_string()),
        );
        row.push(group.len().to_string());
        for m in &numeric {
            row.extend(statistics(group, m));
        }
        w.write_record(row.iter().map(|c| csv_cell(c).into_owned()))?;
    }
    into_bytes(w)
}

/// Mean, standard deviation and 95 % interval of a column over a point's runs (empty without
/// values).
fn statistics(group: &[&SweepRun], column: &str) -> [String; 4] {
    let xs: Vec<f64> = group
        .iter()
        .filter_map(|r| r.get(column))
        .filter_map(|v| v.parse().ok())
        .collect();
    if xs.is_empty() {
        return Default::default();
    }
    let st = ecsim_model::sweep::stats(&xs);
    [st.mean, st.std, st.ci_low, st.ci_high].map(|v| format!("{v:.6}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_file(header: &str, row: &str) -> Vec<u8> {
        format!("{header}\n{row}\n").into_bytes()
    }

    /// Corrupt run files are rejected naming the line and column; good ones are read.
    #[test]
    fn corrupt_run_files_are_rejected() {
        let h = "point,replicate,seed,param.x,scenario,mean_cpu_reserved_pct";
        let ok = read_sweep_run(&run_file(h, "1,2,3,a,s,12.5")).unwrap();
        assert_eq!((ok.point, ok.replicate), (1, 2));
        assert!(
            read_sweep_run(&run_file(h, "1,2,3,a,s,")).is_ok(),
            "empty: no value"
        );
        for (row, want) in [
            (
                "1,2,3,a,s,NaN",
                "line 2, column mean_cpu_reserved_pct: \"NaN\" is not a finite number",
            ),
            ("1,2,3,a,s,inf", "\"inf\" is not a finite number"),
            ("1,2,3,a,s,twelve", "\"twelve\" is not a finite number"),
            ("x,2,3,a,s,1", "column point"),
            ("1,2,3,a,s", "line 2"),
            ("1,2,3,a,s,1,9", "line 2"),
        ] {
            let e = read_sweep_run(&run_file(h, row)).unwrap_err();
            assert!(e.contains(want), "{row}: {e}");
        }
        let e = read_sweep_run(b"point,replicate,seed,a\n1,2,3,4\n1,2,3,5\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        let e = read_sweep_run(b"a,b,c\n1,2,3\n").unwrap_err();
        assert!(e.contains("not a sweep run file"), "{e}");
    }
}
