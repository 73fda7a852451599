//! Progress on stderr while `run` and `compare` work: simulated time, events per second and an
//! estimated time left, redrawn on one line, only when stderr is a terminal and not with `-q`
//! (nothing in pipes or logs). The model reports through [`ecsim_model::sim::Progress`]; this is
//! the CLI's side, the only one that touches stderr and the clock.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the line is redrawn at most.
const REDRAW: Duration = Duration::from_millis(200);

/// The progress of one or more runs in parallel (compare's variants), drawn as one line.
pub struct Line {
    shown: bool,
    started: Instant,
    state: Mutex<State>,
}

struct State {
    last_draw: Option<Instant>,
    /// Per run: (simulated ms, end ms if known, events).
    runs: Vec<(u64, Option<u64>, u64)>,
    drew: bool,
}

/// Whether progress goes to stderr: a terminal, and not quiet.
pub fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

fn hms(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s / 60) % 60)
    } else {
        format!("{}m {:02}s", s / 60, s % 60)
    }
}

/// Wall time left, for people: `<1 s`, `12 s`, `3m 05s`.
fn eta(secs: f64) -> String {
    if secs < 1.0 {
        "<1 s".into()
    } else if secs < 60.0 {
        format!("{secs:.0} s")
    } else {
        hms((secs * 1000.0) as u64)
    }
}

impl Line {
    /// A progress line for `runs` runs; drawn only if `shown`.
    pub fn new(shown: bool, runs: usize) -> Line {
        Line {
            shown,
            started: Instant::now(),
            state: Mutex::new(State {
                last_draw: None,
                runs: vec![(0, None, 0); runs],
                drew: false,
            }),
        }
    }

    /// The reporter of run `k`.
    pub fn run(&self, k: usize) -> RunProgress<'_> {
        RunProgress { line: self, k }
    }

    fn update(&self, k: usize, now_ms: u64, end_ms: Option<u64>, events: u64) {
        if !self.shown {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = st.runs.get_mut(k) {
            *r = (now_ms, end_ms, events);
        }
        let now = Instant::now();
        if st.last_draw.is_some_and(|t| now - t < REDRAW) {
            return;
        }
        st.last_draw = Some(now);
        st.drew = true;
        let text = describe(&st.runs, now - self.started);
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[2K{text}");
        let _ = e.flush();
    }

    /// Clear the line (before the summary is printed).
    pub fn finish(&self) {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.shown && st.drew {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K");
            let _ = e.flush();
        }
    }
}

/// The line's text: simulated time (of the end, with a percentage), events per second, ETA.
fn describe(runs: &[(u64, Option<u64>, u64)], wall: Duration) -> String {
    let events: u64 = runs.iter().map(|r| r.2).sum();
    let secs = wall.as_secs_f64().max(1e-3);
    let rate = events as f64 / secs;
    let rate = if rate >= 1e6 {
        format!("{:.1} M events/s", rate / 1e6)
    } else {
        format!("{:.0} k events/s", rate / 1e3)
    };
    let fraction = {
        let known: Vec<f64> = runs
            .iter()
            .filter_map(|r| {
                r.1.filter(|&e| e > 0)
                    .map(|e| (r.0 as f64 / e as f64).min(1.0))
            })
            .collect();
        (known.len() == runs.len() && !known.is_empty())
            .then(|| known.iter().sum::<f64>() / known.len() as f64)
    };
    let slowest = runs.iter().map(|r| r.0).min().unwrap_or(0);
    let what = if runs.len() == 1 {
        "simulated".to_string()
    } else {
        format!("{} variants, slowest at", runs.len())
    };
    match (fraction, runs.first().and_then(|r| r.1)) {
        (Some(f), Some(end)) if f > 0.0 => {
            let left = secs * (1.0 - f) / f;
            format!(
                "  {what} {} of {} ({:.0} %), {rate}, about {} left",
                hms(slowest),
                hms(end),
                f * 100.0,
                eta(left)
            )
        }
        _ => format!(
            "  {what} {}, {} events, {rate}",
            hms(slowest),
            ecsim_reports::human::number(events as f64)
        ),
    }
}

/// One run's reporter.
pub struct RunProgress<'a> {
    line: &'a Line,
    k: usize,
}

impl ecsim_model::sim::Progress for RunProgress<'_> {
    fn update(&mut self, now_ms: u64, end_ms: Option<u64>, events: u64) {
        self.line.update(self.k, now_ms, end_ms, events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_far_and_how_long() {
        let t = describe(
            &[(3_600_000, Some(7_200_000), 1_000_000)],
            Duration::from_secs(2),
        );
        assert_eq!(
            t,
            "  simulated 1h 00m of 2h 00m (50 %), 500 k events/s, about 2 s left"
        );
        let t = describe(&[(60_000, None, 2_000_000)], Duration::from_secs(1));
        assert_eq!(t, "  simulated 1m 00s, 2,000,000 events, 2.0 M events/s");
    }
}
