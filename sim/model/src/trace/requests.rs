//! Per-request logs as a load: request timestamps counted per bin into requests per second.
//!
//! Format `azure-llm-inference` (Azure LLM inference trace 2023: header
//! `TIMESTAMP,ContextTokens,GeneratedTokens`, one row per request, `2023-11-16 18:17:03.9799600`
//! in UTC). The time origin is the first request's second (its timestamp with the fraction
//! dropped): that instant is simulated time 0. Each bin `[k x bin, (k + 1) x bin)` gives the
//! rate `requests in the bin / bin length in seconds`, placed at the bin's middle; the load is
//! linear between bins (as a `csv` component), the first bin's rate before its middle, and falls
//! to 0 at the end of the last bin (the last bin is divided by the whole bin even if the log ends
//! inside it).

/// A row that could not be read: 1-based line, 1-based column, message.
pub type RowProblem = (usize, usize, String);

/// Milliseconds since 1970-01-01 of `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC), or `None`.
pub(super) fn timestamp_ms(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once([' ', 'T'])?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let time = time.strip_suffix('Z').unwrap_or(time);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let (hh, mm, ss): (i64, i64, i64) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    if t.next().is_some() || hh > 23 || mm > 59 || ss > 60 || !(0..10_000).contains(&y) {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let ms_frac: i64 = format!("{frac:0<3}")[..3].parse().ok()?;
    // Days from 1970-01-01 (H. Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + ms_frac)
}

/// Requests per second per bin of an Azure LLM inference log: `(time ms, rps)` points for a
/// `Series` load component, or every row that could not be read (at most 20, then a count).
pub fn azure_llm_rates(text: &str, bin_ms: u64) -> Result<Vec<(u64, f64)>, Vec<RowProblem>> {
    let mut times = Vec::new();
    let mut problems = Vec::new();
    let mut bad = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (i == 0 && line.starts_with("TIMESTAMP")) {
            continue;
        }
        let ts = line.split(',').next().unwrap_or("");
        match timestamp_ms(ts) {
            Some(t) => times.push(t),
            None => {
                bad += 1;
                if problems.len() < 20 {
                    let shown: String = ts
                        .chars()
                        .take(40)
                        .collect::<String>()
                        .escape_default()
                        .to_string();
                    problems.push((
                        i + 1,
                        1,
                        format!("field TIMESTAMP: got \"{shown}\"; expected a time such as 2023-11-16 18:17:03.9799600"),
                    ));
                }
            }
        }
    }
    if bad > problems.len() {
        problems.push((
            0,
            0,
            format!("{} more rows not shown", bad - problems.len()),
        ));
    }
    if times.is_empty() && problems.is_empty() {
        problems.push((0, 0, "no request in the file".to_string()));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let origin = times.iter().min().expect("at least one") / 1000 * 1000;
    let mut counts: Vec<u64> = Vec::new();
    for t in times {
        let k = ((t - origin) as u64 / bin_ms) as usize;
        if counts.len() <= k {
            counts.resize(k + 1, 0);
        }
        counts[k] += 1;
    }
    let secs = bin_ms as f64 / 1000.0;
    let mut points: Vec<(u64, f64)> = counts
        .iter()
        .enumerate()
        .map(|(k, &n)| (k as u64 * bin_ms + bin_ms / 2, n as f64 / secs))
        .collect();
    points.push((counts.len() as u64 * bin_ms, 0.0));
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_milliseconds() {
        assert_eq!(timestamp_ms("1970-01-01 00:00:01.5"), Some(1500));
        assert_eq!(timestamp_ms("1970-01-01T00:00:02Z"), Some(2000));
        // 2023-11-16 is day 19,677 since the epoch.
        assert_eq!(
            timestamp_ms("2023-11-16 18:17:03.9799600"),
            Some(19_677 * 86_400_000 + (18 * 3600 + 17 * 60 + 3) * 1000 + 979)
        );
        assert_eq!(timestamp_ms("2023-13-01 00:00:00"), None);
        assert_eq!(timestamp_ms("yesterday"), None);
    }

    #[test]
    fn requests_are_counted_per_bin() {
        // Real rows of AzureLLMInferenceTrace_code.csv, then one a minute later.
        let text = "TIMESTAMP,ContextTokens,GeneratedTokens\n\
                    2023-11-16 18:17:03.9799600,4808,10\n\
                    2023-11-16 18:17:04.0319600,3180,8\n\
                    2023-11-16 18:17:04.0781490,110,27\n\
                    2023-11-16 18:18:05.0000000,1,1\n";
        let p = azure_llm_rates(text, 60_000).unwrap();
        // Origin 18:17:03: three requests in the first minute, one in the second.
        assert_eq!(
            p,
            vec![(30_000, 0.05), (90_000, 1.0 / 60.0), (120_000, 0.0)]
        );
        let e = azure_llm_rates("TIMESTAMP,a,b\nnot a time,1,2\n", 60_000).unwrap_err();
        assert_eq!(e[0].0, 2);
        assert!(
            e[0].2.starts_with("field TIMESTAMP: got \"not a time\""),
            "{e:?}"
        );
    }

    /// The shipped code-completion log: per-minute counts as a separate reading of the file
    /// gives them (63, 0, 0, 531, 183, 134 requests in the first six minutes; 58 minutes; 8,819
    /// requests in all).
    #[test]
    fn the_shipped_azure_log_counts_as_counted_elsewhere() {
        let text = include_str!(
            "../../../../scenarios/traces/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"
        );
        let p = azure_llm_rates(text, 60_000).unwrap();
        let per_min: Vec<u64> = p.iter().map(|(_, r)| (r * 60.0).round() as u64).collect();
        assert_eq!(per_min[..6], [63, 0, 0, 531, 183, 134]);
        assert_eq!(p.len(), 58 + 1);
        assert_eq!(per_min.iter().sum::<u64>(), 8819);
        assert_eq!(p.last(), Some(&(58 * 60_000, 0.0)));
    }
}
