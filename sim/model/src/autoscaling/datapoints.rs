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

/// One service's datapoint series, one value per resolution period.
#[derive(Debug, Default, Clone)]
pub(crate) struct Series {
    acc: Acc,
    cpu: Vec<Option<f64>>,
    mem: Vec<Option<f64>>,
    rpt: Vec<Option<f64>>,
    running: Vec<Option<f64>>,
    /// The last closed `RequestCountPerTarget`.
    pub(crate) last_rpt: Option<f64>,
}

impl Series {
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
    }

    /// The closed datapoints of a metric.
    pub(crate) fn of(&self, m: ServiceMetric) -> &[Option<f64>] {
        match m {
            ServiceMetric::CpuUtilization => &self.cpu,
            ServiceMetric::MemoryUtilization => &self.mem,
            ServiceMetric::RequestCountPerTarget => &self.rpt,
            ServiceMetric::RunningTaskCount => &self.running,
        }
    }
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
pub(crate) fn eval(
    def: &AlarmDef,
    series: &[Option<f64>],
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
        let slice: Vec<f64> = series
            .get(start..start + k)
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
        let (st, _) = eval(&a, &s, 2, 60_000, AlarmState::Ok);
        assert_ne!(st, AlarmState::Alarm);
        let (st, vals) = eval(&a, &s, 3, 60_000, AlarmState::Ok);
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
        let (_, vals) = eval(&alarm(1, 1, 70.0), &s, 6, 20_000, AlarmState::Ok);
        assert_eq!(vals, vec![None, Some(80.0), Some(90.0)]);
    }

    #[test]
    fn a_datapoint_without_running_tasks_is_missing_not_zero() {
        let mut s = Series::default();
        s.add(&LoadSample::default(), 0, 10.0);
        s.close();
        assert_eq!(s.of(ServiceMetric::CpuUtilization), &[None]);
        assert_eq!(s.of(ServiceMetric::RunningTaskCount), &[Some(0.0)]);
    }
}
