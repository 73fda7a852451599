//! CloudWatch-style datapoints of a service, and alarm evaluation over them.
//!
//! Each sample adds to the current datapoint; at each resolution boundary the datapoint is
//! closed: the average CPU and memory utilisation over the samples that had running tasks
//! (missing when none did: ECS publishes nothing for a service without tasks),
//! `RequestCountPerTarget` (requests served in the period per average running task) and the
//! average `RunningTaskCount`.

use super::{AlarmState, evaluate_alarm};
use crate::load::LoadSample;
use crate::scenario::{AlarmDef, ServiceMetric, Statistic};

#[derive(Debug, Default, Clone, Copy)]
struct Acc {
    samples: u32,
    cpu_sum: f64,
    cpu_n: u32,
    mem_sum: f64,
    served_req: f64,
    running_sum: f64,
}

/// One service's datapoint series, one value per resolution period. Only the most recent
/// datapoints are kept, as many as its alarms can look at (see [`Series::new`]), so that a long
/// run keeps the memory of a short one.
#[derive(Debug, Default, Clone)]
pub(crate) struct Series {
    acc: Acc,
    cpu: Vec<Option<f64>>,
    mem: Vec<Option<f64>>,
    rpt: Vec<Option<f64>>,
    running: Vec<Option<f64>>,
    /// Datapoints dropped from the front: the vectors start at this period.
    first: usize,
    /// How many of the newest datapoints must stay (0: all of them).
    keep: usize,
    /// The last closed `RequestCountPerTarget`.
    pub(crate) last_rpt: Option<f64>,
}

/// The closed datapoints of one metric that are still kept, `values[0]` being period `first`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window<'a> {
    pub(crate) values: &'a [Option<f64>],
    pub(crate) first: usize,
}

impl Series {
    /// A series whose evaluations never look further back than `keep` datapoints before the
    /// newest closed one (alarm ranges plus the publication delay, from the caller); 0 keeps
    /// every datapoint.
    pub(crate) fn new(keep: usize) -> Series {
        Series {
            keep,
            ..Series::default()
        }
    }

    /// Add one sample taken `dt_s` seconds after the previous one.
    pub(crate) fn add(&mut self, smp: &LoadSample, running: u32, dt_s: f64) {
        let a = &mut self.acc;
        a.samples += 1;
        if let (Some(c), Some(m)) = (smp.cpu_pct, smp.memory_pct) {
            a.cpu_sum += c;
            a.mem_sum += m;
            a.cpu_n += 1;
        }
        a.served_req += smp.served_rps * dt_s;
        a.running_sum += f64::from(running);
    }

    /// Close the current datapoint.
    pub(crate) fn close(&mut self) {
        let a = std::mem::take(&mut self.acc);
        let avg_running = if a.samples > 0 {
            a.running_sum / f64::from(a.samples)
        } else {
            0.0
        };
        self.cpu
            .push((a.cpu_n > 0).then(|| a.cpu_sum / f64::from(a.cpu_n)));
        self.mem
            .push((a.cpu_n > 0).then(|| a.mem_sum / f64::from(a.cpu_n)));
        self.last_rpt = (avg_running > 0.0).then(|| a.served_req / avg_running);
        self.rpt.push(self.last_rpt);
        self.running.push(Some(avg_running));
        // Drop old datapoints in batches of `keep` (amortised constant work per datapoint).
        if self.keep > 0 && self.cpu.len() >= 2 * self.keep {
            let drop = self.cpu.len() - self.keep;
            for v in [
                &mut self.cpu,
                &mut self.mem,
                &mut self.rpt,
                &mut self.running,
            ] {
                v.drain(..drop);
            }
            self.first += drop;
        }
    }

    /// The kept closed datapoints of a metric.
    pub(crate) fn of(&self, m: ServiceMetric) -> Window<'_> {
        let values = match m {
            ServiceMetric::CpuUtilization => &self.cpu,
            ServiceMetric::MemoryUtilization => &self.mem,
            ServiceMetric::RequestCountPerTarget => &self.rpt,
            ServiceMetric::RunningTaskCount => &self.running,
        };
        Window {
            values,
            first: self.first,
        }
    }
}

/// How many datapoints an alarm's evaluation reads before the newest visible one: its range of
/// `N + 2` periods of `period / resolution` datapoints each (see [`eval`]).
pub(crate) fn alarm_reach(def: &AlarmDef, res_ms: u64) -> usize {
    let k = (def.period_ms / res_ms).max(1) as usize;
    (def.evaluation_periods + 2) * k
}

/// A statistic over a period's values (`None` when there are none).
pub(crate) fn aggregate(stat: Statistic, vals: &[f64]) -> Option<f64> {
    if vals.is_empty() {
        return None;
    }
    Some(match stat {
        Statistic::Average => vals.iter().sum::<f64>() / vals.len() as f64,
        Statistic::Sum => vals.iter().sum(),
        Statistic::Maximum => vals.iter().copied().fold(f64::MIN, f64::max),
        Statistic::Minimum => vals.iter().copied().fold(f64::MAX, f64::min),
        Statistic::SampleCount => vals.len() as f64,
    })
}

/// Evaluate an alarm on a datapoint series of which the first `visible` are published; returns
/// the new state and the period values of the evaluation range (`N + 2` periods), oldest first.
/// The window must hold every datapoint of that range that exists (see [`alarm_reach`]).
pub(crate) fn eval(
    def: &AlarmDef,
    series: Window<'_>,
    visible: usize,
    res_ms: u64,
    current: AlarmState,
) -> (AlarmState, Vec<Option<f64>>) {
    let k = (def.period_ms / res_ms).max(1) as usize;
    let range = def.evaluation_periods + 2;
    let mut values = Vec::with_capacity(range);
    for j in 0..range {
        let back = (range - j) * k;
        let Some(start) = visible.checked_sub(back) else {
            values.push(None);
            continue;
        };
        debug_assert!(start >= series.first, "an alarm reads a dropped datapoint");
        let at = start.saturating_sub(series.first);
        let slice: Vec<f64> = series
            .values
            .get(at..at + k)
            .map(|s| s.iter().flatten().copied().collect())
            .unwrap_or_default();
        values.push(aggregate(def.statistic, &slice));
    }
    let slots: Vec<Option<bool>> = values
        .iter()
        .map(|v| v.map(|x| def.comparison.breaches(x, def.threshold)))
        .collect();
    (
        evaluate_alarm(
            &slots,
            def.datapoints_to_alarm,
            def.evaluation_periods,
            def.treat_missing,
            current,
        ),
        values,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaling::{Comparison, TreatMissing};

    fn alarm(periods: usize, m: usize, threshold: f64) -> AlarmDef {
        AlarmDef {
            metric: ServiceMetric::CpuUtilization,
            statistic: Statistic::Average,
            period_ms: 60_000,
            evaluation_periods: periods,
            datapoints_to_alarm: m,
            comparison: Comparison::GreaterThan,
            threshold,
            treat_missing: TreatMissing::Missing,
        }
    }

    #[test]
    fn an_alarm_sees_only_published_datapoints() {
        // Three breaching minutes, but only two are visible yet: not in ALARM (3 of 3).
        let s = vec![Some(90.0), Some(90.0), Some(90.0)];
        let a = alarm(3, 3, 70.0);
        let w = Window {
            values: &s,
            first: 0,
        };
        let (st, _) = eval(&a, w, 2, 60_000, AlarmState::Ok);
        assert_ne!(st, AlarmState::Alarm);
        let (st, vals) = eval(&a, w, 3, 60_000, AlarmState::Ok);
        assert_eq!(st, AlarmState::Alarm);
        assert_eq!(vals, vec![None, None, Some(90.0), Some(90.0), Some(90.0)]);
    }

    #[test]
    fn periods_longer_than_the_resolution_aggregate_their_datapoints() {
        // 20-second datapoints, a 1-minute alarm period: each period averages three.
        let s: Vec<Option<f64>> = [60.0, 90.0, 90.0, 90.0, 90.0, 90.0]
            .into_iter()
            .map(Some)
            .collect();
        let w = Window {
            values: &s,
            first: 0,
        };
        let (_, vals) = eval(&alarm(1, 1, 70.0), w, 6, 20_000, AlarmState::Ok);
        assert_eq!(vals, vec![None, Some(80.0), Some(90.0)]);
    }

    #[test]
    fn a_datapoint_without_running_tasks_is_missing_not_zero() {
        let mut s = Series::default();
        s.add(&LoadSample::default(), 0, 10.0);
        s.close();
        assert_eq!(s.of(ServiceMetric::CpuUtilization).values, &[None]);
        assert_eq!(s.of(ServiceMetric::RunningTaskCount).values, &[Some(0.0)]);
    }

    #[test]
    fn a_trimmed_series_evaluates_like_the_whole_one() {
        // Five 2-minute periods at 1-minute resolution reach 14 datapoints back; two more for a
        // publication delay. Over a day, the trimmed series keeps at most twice that.
        let a = AlarmDef {
            period_ms: 120_000,
            ..alarm(5, 3, 50.0)
        };
        let keep = alarm_reach(&a, 60_000) + 2;
        let (mut whole, mut trimmed) = (Series::new(0), Series::new(keep));
        let mut state = (AlarmState::InsufficientData, AlarmState::InsufficientData);
        for minute in 0..1440usize {
            let cpu = ((minute * 37) % 100) as f64;
            let smp = LoadSample {
                cpu_pct: Some(cpu),
                memory_pct: Some(cpu / 2.0),
                ..LoadSample::default()
            };
            for s in [&mut whole, &mut trimmed] {
                s.add(&smp, 1, 60.0);
                s.close();
            }
            let visible = (minute + 1).saturating_sub(2);
            let w = eval(
                &a,
                whole.of(ServiceMetric::CpuUtilization),
                visible,
                60_000,
                state.0,
            );
            let t = eval(
                &a,
                trimmed.of(ServiceMetric::CpuUtilization),
                visible,
                60_000,
                state.1,
            );
            assert_eq!(w, t, "minute {minute}");
            state = (w.0, t.0);
            assert!(trimmed.of(ServiceMetric::CpuUtilization).values.len() < 2 * keep);
        }
        assert_eq!(whole.of(ServiceMetric::CpuUtilization).values.len(), 1440);
    }
}
