//! Simulated time: integer milliseconds since the start of the run.

use std::fmt;

/// An instant of simulated time, in milliseconds since the run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(u64);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time, for "no limit".
    pub const MAX: SimTime = SimTime(u64::MAX);
    /// From milliseconds.
    pub const fn from_ms(ms: u64) -> SimTime {
        SimTime(ms)
    }
    /// Milliseconds since the start.
    pub const fn ms(self) -> u64 {
        self.0
    }
    /// This instant plus a duration in milliseconds, saturating at [`SimTime::MAX`].
    pub const fn plus_ms(self, ms: u64) -> SimTime {
        SimTime(self.0.saturating_add(ms))
    }
    /// Milliseconds from `earlier` to this instant. Time never runs backwards: an `earlier` that
    /// is later is a bug and panics.
    pub fn since(self, earlier: SimTime) -> u64 {
        self.0
            .checked_sub(earlier.0)
            .expect("an earlier instant is not later")
    }
    /// Milliseconds from `earlier` to this instant, or 0 if `earlier` is later.
    pub const fn saturating_since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// A duration string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parse a human duration: one or more `<number><unit>` parts, unit `ms`, `s`, `m`, `h` or `d`
/// (`"90s"`, `"15m"`, `"1h30m"`, `"2.5h"`). Fractions are allowed where the result is a whole
/// number of milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<u64, DurationError> {
    let bad = || {
        DurationError(format!(
            "'{s}' is not a duration; write a number and a unit (ms, s, m, h, d), e.g. 90s, 15m, 1h30m"
        ))
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut rest = t;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_end == 0 {
            return Err(bad());
        }
        let (num, tail) = rest.split_at(num_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_end);
        let mult: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        let part = if let Some((whole, frac)) = num.split_once('.') {
            let whole: u64 = if whole.is_empty() {
                0
            } else {
                whole.parse().map_err(|_| bad())?
            };
            if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let scale = 10u64.pow(frac.len() as u32);
            let frac_n: u64 = frac.parse().map_err(|_| bad())?;
            let f = frac_n.checked_mul(mult).ok_or_else(bad)?;
            if f % scale != 0 {
                return Err(DurationError(format!(
                    "'{s}' is not a whole number of milliseconds"
                )));
            }
            whole
                .checked_mul(mult)
                .and_then(|w| w.checked_add(f / scale))
                .ok_or_else(bad)?
        } else {
            num.parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(mult))
                .ok_or_else(bad)?
        };
        total = total.checked_add(part).ok_or_else(bad)?;
        rest = next;
    }
    Ok(total)
}

/// Format milliseconds as the largest units that divide it: `1h30m`, `90s`, `250ms`, `0s`.
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("90s"), Ok(90_000));
        assert_eq!(parse_duration_ms("15m"), Ok(900_000));
        assert_eq!(parse_duration_ms("24h"), Ok(86_400_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("2.5h"), Ok(9_000_000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("0s"), Ok(0));
        for bad in ["", "90", "h", "5 parsecs", "-5s", "1.5ms", "1..5s"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(90_000), "1m30s");
        assert_eq!(
            parse_duration_ms(&format_duration(93_784_005)),
            Ok(93_784_005)
        );
    }
}
