//! `[simulation]`, `[settings]` and `[fargate]`.

use super::prelude::*;
use crate::scenario::RunTaskRate;

pub(super) fn read_simulation(cx: &mut Cx<'_>, root: &mut Tbl<'_>) -> Option<SimulationSettings> {
    let mut s = SimulationSettings {
        duration_ms: None,
        metrics_period_ms: 60_000,
        max_events: 2_000_000_000,
        max_time_ms: 366 * 86_400_000,
        max_waiting_tasks: 1_000_000,
        metrics_resolution_ms: 60_000,
        metrics_publish_delay_ms: 0,
    };
    let Some(node) = root.get("simulation") else {
        return Some(s);
    };
    let mut t = cx.table(node, "simulation")?;
    s.duration_ms = t.opt(cx, "duration", |cx, n, p| {
        let d = cx.duration(n, p)?;
        if d == 0 {
            cx.error(&n.origin, p, "got 0s; expected a positive duration");
            return None;
        }
        Some(d)
    });
    if let Some(p) = t.opt(cx, "metrics_period", |cx, n, p| {
        let d = cx.duration(n, p)?;
        if d < 1000 {
            cx.error(&n.origin, p, "expected at least 1s");
            return None;
        }
        Some(d)
    }) {
        s.metrics_period_ms = p;
    }
    if let Some(m) = t.opt(cx, "max_events", |cx, n, p| cx.int(n, p, 1, i64::MAX)) {
        s.max_events = m as u64;
    }
    if let Some(m) = t.opt(cx, "max_waiting_tasks", |cx, n, p| {
        cx.int(n, p, 1, i64::MAX)
    }) {
        s.max_waiting_tasks = m as u64;
    }
    if let Some(m) = t.opt(cx, "max_time", |cx, n, p| cx.duration(n, p)) {
        s.max_time_ms = m;
    }
    if let Some(r) = t.opt(cx, "metrics_resolution", |cx, n, p| {
        let d = cx.duration(n, p)?;
        if d != 60_000 && d != 20_000 {
            cx.error(
                &n.origin,
                p,
                "expected \"1m\" (standard resolution) or \"20s\"",
            );
            return None;
        }
        Some(d)
    }) {
        s.metrics_resolution_ms = r;
    }
    if let Some(d) = t.opt(cx, "metrics_publish_delay", |cx, n, p| cx.duration(n, p)) {
        s.metrics_publish_delay_ms = d;
    }
    t.finish(cx);
    Some(s)
}

pub(super) fn read_settings(cx: &mut Cx<'_>, root: &mut Tbl<'_>) -> Option<Settings> {
    let mut s = Settings {
        os_memory_overhead_pct: None,
        tie_break: TieBreak::Random,
        task_start_delay: Dist::Fixed(0),
        task_stop_time: None,
        run_task_default_strategy: default_service_strategy(),
        agent_version: "1.90.0".into(),
        run_task_rate: Some(RunTaskRate::default()),
        awsvpc_trunking: false,
        awsvpc_trunking_at_ms: 0,
        trunk_eni_delay: Dist::Fixed(5_000),
        az_rebalancing_interval_ms: 60_000,
        service_placement_retry_ms: 60_000,
    };
    let Some(node) = root.get("settings") else {
        return Some(s);
    };
    let mut t = cx.table(node, "settings")?;
    let mut ok = true;
    if let Some(v) = t.opt(cx, "os_memory_overhead_pct", |cx, n, p| {
        cx.number(n, p, 0.0, 50.0)
    }) {
        s.os_memory_overhead_pct = Some(v);
    }
    if let Some(v) = t.opt(cx, "tie_break", |cx, n, p| cx.choice(n, p, TIE_BREAK)) {
        s.tie_break = v;
    }
    if t.has("task_start_delay") {
        match t.opt(cx, "task_start_delay", read_dist) {
            Some(d) => s.task_start_delay = d,
            None => ok = false,
        }
    }
    if t.has("task_stop_time") {
        match t.opt(cx, "task_stop_time", read_stop_time) {
            Some(d) => s.task_stop_time = d,
            None => ok = false,
        }
    }
    if t.has("run_task_default_strategy") {
        match t.opt(cx, "run_task_default_strategy", |cx, n, p| {
            read_strategies(cx, n, p)
        }) {
            Some(d) => s.run_task_default_strategy = d,
            None => ok = false,
        }
    }
    if let Some(v) = t.opt(cx, "agent_version", |cx, n, p| cx.string(n, p)) {
        s.agent_version = v;
    }
    if let Some(v) = t.opt(cx, "awsvpc_trunking", |cx, n, p| cx.boolean(n, p)) {
        s.awsvpc_trunking = v;
    }
    if let Some(v) = t.opt(cx, "awsvpc_trunking_at", |cx, n, p| cx.duration(n, p)) {
        s.awsvpc_trunking_at_ms = v;
    }
    if t.has("trunk_eni_delay") {
        match t.opt(cx, "trunk_eni_delay", read_dist) {
            Some(d) => s.trunk_eni_delay = d,
            None => ok = false,
        }
    }
    if let Some(v) = t.opt(cx, "service_placement_retry", |cx, n, p| cx.duration(n, p)) {
        s.service_placement_retry_ms = v;
    }
    if let Some(v) = t.opt(cx, "az_rebalancing_interval", |cx, n, p| cx.duration(n, p)) {
        s.az_rebalancing_interval_ms = v.max(1);
    }
    read_run_task_rate(cx, &mut t, &mut s);
    t.finish(cx);
    ok.then_some(s)
}

/// `run_task_rate_limit`, `run_task_calls_per_s`, `run_task_burst`.
fn read_run_task_rate(cx: &mut Cx<'_>, t: &mut Tbl<'_>, s: &mut Settings) {
    let mut rate = RunTaskRate::default();
    if let Some(v) = t.opt(cx, "run_task_calls_per_s", |cx, n, p| {
        cx.number(n, p, 0.001, 1e6)
    }) {
        rate.calls_per_s = v;
    }
    if let Some(v) = t.opt(cx, "run_task_burst", |cx, n, p| cx.u32(n, p, 1, 1_000_000)) {
        rate.burst = v;
    }
    let on = t
        .opt(cx, "run_task_rate_limit", |cx, n, p| cx.boolean(n, p))
        .unwrap_or(true);
    s.run_task_rate = on.then_some(rate);
}

pub(super) fn read_fargate(cx: &mut Cx<'_>, root: &mut Tbl<'_>) -> Option<FargateSettings> {
    let mut s = FargateSettings::default();
    let Some(node) = root.get("fargate") else {
        return Some(s);
    };
    let mut t = cx.table(node, "fargate")?;
    let mut ok = true;
    for (key, slot) in [
        ("provisioning_delay", &mut s.provisioning_delay),
        ("image_pull_delay", &mut s.image_pull_delay),
    ] {
        if t.has(key) {
            match t.opt(cx, key, read_dist) {
                Some(d) => *slot = d,
                None => ok = false,
            }
        }
    }
    if let Some(b) = t.opt(cx, "launch_rate_limit", |cx, n, p| cx.boolean(n, p)) {
        s.launch_rate_limit = b;
    }
    if let Some(b) = t.opt(cx, "launch_burst", |cx, n, p| cx.u32(n, p, 1, 1_000_000)) {
        s.launch_burst = b;
    }
    if let Some(r) = t.opt(cx, "launch_refill_per_s", |cx, n, p| {
        cx.number(n, p, 0.001, 1e6)
    }) {
        s.launch_refill_per_s = r;
    }
    t.finish(cx);
    ok.then_some(s)
}

/// `task_stop_time`: `"stop_timeout"` (the whole stop timeout: `None`), or a duration or a
/// distribution.
fn read_stop_time(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Option<Dist>> {
    if matches!(&n.kind, Kind::Str(s) if s == "stop_timeout") {
        return Some(None);
    }
    read_dist(cx, n, p).map(Some)
}
