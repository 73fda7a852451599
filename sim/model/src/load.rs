//! Load on services: requests per second over time, and what tasks do with it.
//!
//! # The load model
//! A service's demand is the sum of its components (constant, daily cycle, ramp, step, spike, a
//! CSV time series), times `1 + noise` where the noise is normal with standard deviation
//! `noise_pct` percent, drawn from the service's own seeded stream at every sample. Running
//! tasks share the demand evenly (a load balancer's round robin); each serves at most
//! `requests_per_task` per second and the rest is **unserved**. A task's utilisation, in percent
//! of what it reserves (ECS-DG `cloudwatch-metrics.html`: utilisation is measured against the task
//! definition's reservation and can exceed 100 % when containers may burst), is
//! `base + per_rps x requests per second it serves`, capped at `max`.

/// One additive part of a demand curve.
#[derive(Debug, Clone, PartialEq)]
pub enum Component {
    /// The same rate at all times.
    Constant {
        /// Requests per second.
        rps: f64,
    },
    /// A daily cosine between a trough and a peak, peaking at `peak_at_ms` into each day.
    Daily {
        /// Lowest rate.
        trough_rps: f64,
        /// Highest rate.
        peak_rps: f64,
        /// Time of day of the peak, ms.
        peak_at_ms: u64,
    },
    /// `from_rps` before `start`, linear to `to_rps` at `end`, `to_rps` after.
    Ramp {
        /// Start.
        start_ms: u64,
        /// End.
        end_ms: u64,
        /// Rate before.
        from_rps: f64,
        /// Rate after.
        to_rps: f64,
    },
    /// Adds `rps` from `at` on.
    Step {
        /// When.
        at_ms: u64,
        /// Added rate (may be negative).
        rps: f64,
    },
    /// Adds `rps` during `[start, start + length)`.
    Spike {
        /// Start.
        start_ms: u64,
        /// Length.
        length_ms: u64,
        /// Added rate.
        rps: f64,
    },
    /// Piecewise-linear through `(time ms, rps)` points, holding the first and last values.
    Series {
        /// Points, sorted by time.
        points: Vec<(u64, f64)>,
    },
    /// Steps through `(time ms, rps)` points: each point's rate holds from its time until the
    /// next point's (a CloudWatch period is a bucket); the first rate before it, the last after.
    Held {
        /// Points, sorted by time.
        points: Vec<(u64, f64)>,
    },
}

impl Component {
    /// The rate at time `t`.
    pub fn at(&self, t: u64) -> f64 {
        match self {
            Component::Constant { rps } => *rps,
            Component::Daily {
                trough_rps,
                peak_rps,
                peak_at_ms,
            } => {
                let day = 86_400_000.0;
                let phase = ((t as f64 - *peak_at_ms as f64) / day) * std::f64::consts::TAU;
                trough_rps + (peak_rps - trough_rps) * (1.0 + phase.cos()) / 2.0
            }
            Component::Ramp {
                start_ms,
                end_ms,
                from_rps,
                to_rps,
            } => {
                if t <= *start_ms {
                    *from_rps
                } else if t >= *end_ms {
                    *to_rps
                } else {
                    from_rps
                        + (to_rps - from_rps) * (t - start_ms) as f64 / (end_ms - start_ms) as f64
                }
            }
            Component::Step { at_ms, rps } => {
                if t >= *at_ms {
                    *rps
                } else {
                    0.0
                }
            }
            Component::Spike {
                start_ms,
                length_ms,
                rps,
            } => {
                if t >= *start_ms && t < start_ms + length_ms {
                    *rps
                } else {
                    0.0
                }
            }
            Component::Series { points } => {
                let k = points.partition_point(|p| p.0 <= t);
                match (k.checked_sub(1).map(|i| points[i]), points.get(k)) {
                    (None, Some(p)) => p.1,
                    (Some(p), None) => p.1,
                    (Some(a), Some(b)) => a.1 + (b.1 - a.1) * (t - a.0) as f64 / (b.0 - a.0) as f64,
                    (None, None) => 0.0,
                }
            }
            Component::Held { points } => {
                let k = points.partition_point(|p| p.0 <= t);
                points.get(k.saturating_sub(1)).map_or(0.0, |p| p.1)
            }
        }
    }

    /// Times at which this component changes level abruptly or starts changing: the "load
    /// changes" the summary reports reaction times for.
    pub fn changes(&self) -> Vec<u64> {
        match self {
            Component::Step { at_ms, .. } => vec![*at_ms],
            Component::Spike {
                start_ms,
                length_ms,
                ..
            } => vec![*start_ms, start_ms + length_ms],
            Component::Ramp { start_ms, .. } => vec![*start_ms],
            _ => Vec::new(),
        }
    }
}

/// A service's load and how its tasks respond to it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadModel {
    /// Summed components.
    pub components: Vec<Component>,
    /// Multiplicative noise, percent (standard deviation).
    pub noise_pct: f64,
    /// Requests per second one task can serve.
    pub requests_per_task: f64,
    /// CPU utilisation when idle, percent of the reservation.
    pub cpu_base_pct: f64,
    /// CPU utilisation added per request per second a task serves.
    pub cpu_pct_per_rps: f64,
    /// CPU utilisation cap.
    pub cpu_max_pct: f64,
    /// Memory utilisation when idle, percent.
    pub memory_base_pct: f64,
    /// Memory utilisation added per request per second a task serves.
    pub memory_pct_per_rps: f64,
    /// Memory utilisation cap.
    pub memory_max_pct: f64,
}

/// What a service does with its demand at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadSample {
    /// Offered requests per second.
    pub demand_rps: f64,
    /// Served requests per second.
    pub served_rps: f64,
    /// Requests per second no task could serve.
    pub unserved_rps: f64,
    /// Per-task CPU utilisation, percent (None without running tasks).
    pub cpu_pct: Option<f64>,
    /// Per-task memory utilisation, percent.
    pub memory_pct: Option<f64>,
}

impl LoadModel {
    /// Demand at `t` before noise.
    pub fn demand(&self, t: u64) -> f64 {
        self.components
            .iter()
            .map(|c| c.at(t))
            .sum::<f64>()
            .max(0.0)
    }

    /// Split `demand` over `running` tasks.
    pub fn serve(&self, demand: f64, running: u32) -> LoadSample {
        let capacity = f64::from(running) * self.requests_per_task;
        let served = demand.min(capacity);
        let per_task = if running > 0 {
            served / f64::from(running)
        } else {
            0.0
        };
        let (cpu, mem) = if running > 0 {
            (
                Some((self.cpu_base_pct + self.cpu_pct_per_rps * per_task).min(self.cpu_max_pct)),
                Some(
                    (self.memory_base_pct + self.memory_pct_per_rps * per_task)
                        .min(self.memory_max_pct),
                ),
            )
        } else {
            (None, None)
        };
        LoadSample {
            demand_rps: demand,
            served_rps: served,
            unserved_rps: demand - served,
            cpu_pct: cpu,
            memory_pct: mem,
        }
    }

    /// Times of abrupt load changes, sorted.
    pub fn changes(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.components.iter().flat_map(|c| c.changes()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_and_serving() {
        let m = LoadModel {
            components: vec![
                Component::Constant { rps: 100.0 },
                Component::Spike {
                    start_ms: 1000,
                    length_ms: 1000,
                    rps: 900.0,
                },
                Component::Ramp {
                    start_ms: 0,
                    end_ms: 10_000,
                    from_rps: 0.0,
                    to_rps: 50.0,
                },
            ],
            noise_pct: 0.0,
            requests_per_task: 100.0,
            cpu_base_pct: 5.0,
            cpu_pct_per_rps: 0.9,
            cpu_max_pct: 100.0,
            memory_base_pct: 40.0,
            memory_pct_per_rps: 0.3,
            memory_max_pct: 100.0,
        };
        assert_eq!(m.demand(0), 100.0);
        assert_eq!(m.demand(1500), 100.0 + 900.0 + 7.5);
        assert_eq!(m.demand(2000), 110.0);
        assert_eq!(m.changes(), vec![0, 1000, 2000]);
        let s = m.serve(1000.0, 4);
        assert_eq!(
            (s.served_rps, s.unserved_rps, s.cpu_pct, s.memory_pct),
            (400.0, 600.0, Some(95.0), Some(70.0))
        );
        let s = m.serve(100.0, 4);
        assert_eq!(s.cpu_pct, Some(5.0 + 0.9 * 25.0));
        assert_eq!(
            m.serve(50.0, 0).cpu_pct,
            None,
            "no tasks, no CPUUtilization datapoint"
        );
        let daily = Component::Daily {
            trough_rps: 10.0,
            peak_rps: 110.0,
            peak_at_ms: 14 * 3_600_000,
        };
        assert!((daily.at(14 * 3_600_000) - 110.0).abs() < 1e-9);
        assert!((daily.at(2 * 3_600_000) - 10.0).abs() < 1e-9);
        let series = Component::Series {
            points: vec![(0, 10.0), (60_000, 70.0)],
        };
        assert_eq!((series.at(30_000), series.at(120_000)), (40.0, 70.0));
        let held = Component::Held {
            points: vec![(0, 10.0), (60_000, 70.0), (120_000, 0.0)],
        };
        assert_eq!(
            (
                held.at(0),
                held.at(59_999),
                held.at(60_000),
                held.at(500_000)
            ),
            (10.0, 10.0, 70.0, 0.0)
        );
    }
}
