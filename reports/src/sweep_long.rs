//! `aggregate_long.csv`: a sweep's chosen metrics in long form, one row per (point, metric,
//! statistic), with the paired difference of each point against the first (point 0).
//!
//! Run `r` of every point has the same seed (common random numbers), so the difference
//! `x[p][r] - x[0][r]` is paired: its interval is the t interval of those differences, often
//! much narrower than the two points' own intervals suggest.

use ecsim_model::sweep::stats;

use crate::escape::csv_cell;
use crate::sweep::SweepRun;

/// The file's name in a sweep folder.
pub const FILE: &str = "aggregate_long.csv";

/// `aggregate_long.csv` for `metrics` (a metric no run has is left out): per grid point and
/// metric, `n`, `mean`, `std`, `ci95_low`, `ci95_high`, and against point 0 (pairs of runs with
/// the same replicate) `diff_mean`, `diff_ci95_low`, `diff_ci95_high`.
pub fn aggregate_long(runs: &[SweepRun], metrics: &[String]) -> Result<Vec<u8>, csv::Error> {
    let mut runs: Vec<&SweepRun> = runs.iter().collect();
    runs.sort_by_key(|r| (r.point, r.replicate));
    let value = |r: &SweepRun, m: &str| r.get(m).and_then(|v| v.parse::<f64>().ok());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["point", "metric", "statistic", "value"])?;
    let base: Vec<&SweepRun> = runs.iter().copied().filter(|r| r.point == 0).collect();
    for group in runs.chunk_by(|a, b| a.point == b.point) {
        let point = group[0].point.to_string();
        for m in metrics {
            let xs: Vec<f64> = group.iter().filter_map(|r| value(r, m)).collect();
            if xs.is_empty() {
                continue;
            }
            let s = stats(&xs);
            let mut rows = vec![
                ("n", s.n as f64),
                ("mean", s.mean),
                ("std", s.std),
                ("ci95_low", s.ci_low),
                ("ci95_high", s.ci_high),
            ];
            let diffs: Vec<f64> = group
                .iter()
                .filter_map(|r| {
                    let b = base.iter().find(|b| b.replicate == r.replicate)?;
                    Some(value(r, m)? - value(b, m)?)
                })
                .collect();
            if !diffs.is_empty() {
                let d = stats(&diffs);
                rows.extend([
                    ("diff_mean", d.mean),
                    ("diff_ci95_low", d.ci_low),
                    ("diff_ci95_high", d.ci_high),
                ]);
            }
            for (stat, v) in rows {
                let cells = [
                    point.clone(),
                    m.clone(),
                    stat.to_string(),
                    format!("{v:.6}"),
                ];
                w.write_record(cells.iter().map(|c| csv_cell(c).into_owned()))?;
            }
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(point: usize, replicate: u32, x: f64) -> SweepRun {
        let bytes = format!("point,replicate,seed,m\n{point},{replicate},7,{x}\n");
        crate::sweep::read_sweep_run(bytes.as_bytes()).unwrap()
    }

    /// Paired differences: point 1 is point 0 plus 2 on every seed, whatever the seed's own
    /// level, so its difference is exactly 2 with a zero-width interval.
    #[test]
    fn paired_differences_against_point_zero() {
        let runs = vec![
            run(0, 0, 10.0),
            run(0, 1, 20.0),
            run(0, 2, 30.0),
            run(1, 0, 12.0),
            run(1, 1, 22.0),
            run(1, 2, 32.0),
        ];
        let text = String::from_utf8(aggregate_long(&runs, &["m".to_string()]).unwrap()).unwrap();
        assert!(text.starts_with("point,metric,statistic,value\n"), "{text}");
        assert!(text.contains("1,m,diff_mean,2.000000\n"), "{text}");
        assert!(text.contains("1,m,diff_ci95_low,2.000000\n"), "{text}");
        assert!(text.contains("0,m,mean,20.000000\n"), "{text}");
        // The unpaired interval of point 1 is wide: 22 +- 24.8.
        assert!(text.contains("1,m,ci95_low,-2.841"), "{text}");
        assert!(!text.contains(",other,"));
    }
}
