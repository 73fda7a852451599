//! Numbers and field names for people: `$1,234.56`, `12.5 %`, `3 m 20 s`, `1,234`, and
//! "cluster mixed: CPU fragmentation (%)" for `cluster.mixed.cpu_fragmentation_pct`.
//!
//! The unit comes from the field name's suffix, the convention every output table follows
//! (`_usd`, `_pct`, `_ms`, `_hours`, `_rps`); anything else is a plain number.

/// What a field measures, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// US dollars (`_usd`).
    Usd,
    /// Percent (`_pct`).
    Percent,
    /// Milliseconds of simulated time (`_ms`), shown as a duration.
    Millis,
    /// Hours (`_hours`).
    Hours,
    /// Requests per second (`_rps`).
    Rps,
    /// Anything else: a count or a plain number.
    Plain,
}

impl Unit {
    /// The unit of a field, from its suffix.
    pub fn of(field: &str) -> Unit {
        let last = field.rsplit('.').next().unwrap_or(field);
        if last.ends_with("_usd") {
            Unit::Usd
        } else if last.ends_with("_pct") {
            Unit::Percent
        } else if last.ends_with("_ms") {
            Unit::Millis
        } else if last.ends_with("_hours") {
            Unit::Hours
        } else if last.ends_with("_rps") {
            Unit::Rps
        } else {
            Unit::Plain
        }
    }

    /// How an axis in this unit is titled (durations are charted in minutes).
    pub fn axis(self) -> &'static str {
        match self {
            Unit::Usd => "US dollars",
            Unit::Percent => "percent",
            Unit::Millis => "minutes",
            Unit::Hours => "hours",
            Unit::Rps => "requests per second",
            Unit::Plain => "",
        }
    }

    /// The factor from the field's value to the charted value (ms to minutes).
    pub fn chart_scale(self) -> f64 {
        if self == Unit::Millis {
            1.0 / 60_000.0
        } else {
            1.0
        }
    }
}

/// An integer part with `,` between groups of three digits, sign kept.
fn grouped(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    let mut out = String::new();
    if v < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A number with `decimals` decimals and thousands separators.
pub fn fixed(v: f64, decimals: usize) -> String {
    grouped(v, decimals)
}

/// The decimals that tell ticks `step` apart (0 for a step of 1 or more).
pub fn decimals_for_step(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) || step >= 1.0 {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(9)
    }
}

/// A number: integers with thousands separators, others with up to 3 significant decimals.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return grouped(v, 0);
    }
    let a = v.abs();
    let decimals = if a >= 100.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    grouped(v, decimals)
}

/// Dollars: `$1,234.56`; amounts under a dollar keep 4 decimals (`$0.0673`).
pub fn usd(v: f64) -> String {
    let d = if v.abs() < 1.0 && v != 0.0 { 4 } else { 2 };
    let s = grouped(v.abs(), d);
    if v < 0.0 {
        format!("-${s}")
    } else {
        format!("${s}")
    }
}

/// A percentage: `12.5 %`.
pub fn percent(v: f64) -> String {
    format!("{} %", grouped(v, 1))
}

/// A duration in milliseconds: `3 m 20 s`, `2 h 05 m`, `4.2 s`, `350 ms`.
pub fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return ms.to_string();
    }
    let neg = if ms < 0.0 { "-" } else { "" };
    let ms = ms.abs();
    let s = (ms / 1000.0).round() as u64;
    let text = if ms < 1000.0 {
        format!("{} ms", ms.round())
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if s < 3600 {
        format!("{} m {:02} s", s / 60, s % 60)
    } else if s < 86_400 * 2 {
        format!("{} h {:02} m", s / 3600, (s / 60) % 60)
    } else {
        format!("{} d {:02} h", s / 86_400, (s / 3600) % 24)
    };
    format!("{neg}{text}")
}

/// A field's value for people, by its unit; text that is not a number is returned as it is.
pub fn value(field: &str, raw: &str) -> String {
    let Ok(v) = raw.trim().parse::<f64>() else {
        return raw.to_string();
    };
    if !v.is_finite() || raw.trim().is_empty() {
        return raw.to_string();
    }
    match Unit::of(field) {
        Unit::Usd => usd(v),
        Unit::Percent => percent(v),
        Unit::Millis => duration_ms(v),
        Unit::Hours => format!("{} h", grouped(v, 1)),
        Unit::Rps => format!("{} req/s", number(v)),
        Unit::Plain => number(v),
    }
}

/// Words of a field name for people: `_` to spaces, acronyms upper-case.
fn words(s: &str) -> String {
    s.split('_')
        .map(|w| match w {
            "cpu" => "CPU".to_string(),
            "az" => "AZ".to_string(),
            "ec2" => "EC2".to_string(),
            "pct" | "usd" | "ms" | "rps" => String::new(),
            _ => w.to_string(),
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A field name for people without its unit (for table headers over formatted values):
/// `cost_total_usd` gives "cost total", `cluster.web.mean_instances_in_use` "cluster web: mean
/// instances in use".
pub fn short_label(field: &str) -> String {
    let parts: Vec<&str> = field.split('.').collect();
    match parts.as_slice() {
        [] => String::new(),
        [one] => words(one),
        [head @ .., last] => format!("{}: {}", head.join(" "), words(last)),
    }
}

/// A field name for people: `cluster.mixed.cpu_fragmentation_pct` gives
/// "cluster mixed: CPU fragmentation (percent)"; `cost_total_usd` "cost total (US dollars)".
pub fn label(field: &str) -> String {
    let parts: Vec<&str> = field.split('.').collect();
    let (scope, last) = match parts.as_slice() {
        [] => (String::new(), ""),
        [one] => (String::new(), *one),
        [head @ .., last] => (head.join(" "), *last),
    };
    let unit = Unit::of(field).axis();
    let mut out = if scope.is_empty() {
        words(last)
    } else {
        format!("{scope}: {}", words(last))
    };
    if !unit.is_empty() {
        out.push_str(&format!(" ({unit})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(usd(1234.5678), "$1,234.57");
        assert_eq!(usd(0.06734), "$0.0673");
        assert_eq!(percent(12.4567), "12.5 %");
        assert_eq!(duration_ms(200_000.0), "3 m 20 s");
        assert_eq!(duration_ms(398_857.63), "6 m 39 s");
        assert_eq!(duration_ms(7_500_000.0), "2 h 05 m");
        assert_eq!(duration_ms(4_200.0), "4.2 s");
        assert_eq!(number(1_000_000.0), "1,000,000");
        assert_eq!(number(47.210572), "47.21");
        assert_eq!(number(-1234.5), "-1,234.5");
        assert_eq!(value("mean_wait_ms", "398857.630137"), "6 m 39 s");
        assert_eq!(value("cost_total_usd", "1.15"), "$1.15");
        assert_eq!(value("mean_cpu_reserved_pct", "47.210572"), "47.2 %");
        assert_eq!(value("scenario", "<b>"), "<b>");
        assert_eq!(value("tasks_created", "NaN"), "NaN");
    }

    #[test]
    fn labels_for_people() {
        assert_eq!(
            label("cluster.mixed.cpu_fragmentation_pct"),
            "cluster mixed: CPU fragmentation (percent)"
        );
        assert_eq!(label("cost_total_usd"), "cost total (US dollars)");
        assert_eq!(
            label("service.web.load_change.0.tasks_running_after_ms"),
            "service web load_change 0: tasks running after (minutes)"
        );
    }
}
