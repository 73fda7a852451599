//! Number formatting shared by the tables and the terminal texts: exact dollars, durations and
//! thousands separators.

use ecsim_model::pricing::{Money, UNITS_PER_USD};

/// An exact amount as decimal dollars with `places` decimals (rounded half up), without going
/// through floating point.
pub fn usd_exact(m: Money, places: u32) -> String {
    let scale = 10u128.pow(places);
    let per = UNITS_PER_USD / scale;
    let q = (m.0 + per / 2) / per;
    format!(
        "{}.{:0width$}",
        q / scale,
        q % scale,
        width = places as usize
    )
}

/// A simulated duration for people: `1h 02m 03s`, `2m 03s` or `3.250s`.
pub(crate) fn duration(ms: u64) -> String {
    let (h, m, sec) = (ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60);
    if h > 0 {
        format!("{h}h {m:02}m {sec:02}s")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

/// An integer with `,` between groups of three digits.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_dollars() {
        assert_eq!(usd_exact(Money(UNITS_PER_USD * 126 / 100), 2), "1.26");
        assert_eq!(usd_exact(Money(UNITS_PER_USD / 200), 2), "0.01");
        assert_eq!(usd_exact(Money(UNITS_PER_USD / 200 - 1), 2), "0.00");
        assert_eq!(usd_exact(Money(UNITS_PER_USD * 3 + 7), 9), "3.000000000");
    }

    #[test]
    fn durations_and_thousands() {
        assert_eq!(duration(3_723_000), "1h 02m 03s");
        assert_eq!(duration(123_000), "2m 03s");
        assert_eq!(duration(3_250), "3.250s");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
