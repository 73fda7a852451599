//! Tests of [`CsvSink`]: row formats, and write errors surfacing for every table.

use super::*;
use ecsim_model::pricing::{Money, UNITS_PER_USD};
use ecsim_model::record::{ClusterSample, EventKind, ServiceSample};

#[test]
fn csv_rows_quote_hostile_names_and_keep_columns() {
    let mut sink = CsvSink::new(Some(Vec::new()), Some(Vec::new()), None, None);
    sink.begin(&RunHeader {
        clusters: &["c1"],
        services: &["web,\"x\""],
        load_services: &[],
        providers: &[],
    });
    sink.event(&EventRecord {
        time_ms: 5,
        kind: EventKind::Task,
        task: Some(7),
        service: "web,\"x\"",
        job: "",
        instance: "i-1",
        from: "PENDING",
        to: "RUNNING",
        reason: "",
    });
    sink.metrics(&MetricsRow {
        time_ms: 60_000,
        instances_launching: 0,
        instances_active: 2,
        instances_draining: 0,
        instances_stopped: 0,
        tasks_provisioning: 0,
        tasks_pending: 0,
        tasks_running: 1,
        tasks_stopping: 0,
        cpu_reserved_pct: 12.5,
        memory_reserved_pct: 1.0 / 3.0,
        clusters: &[ClusterSample {
            instances_in_use: 2,
            cpu_reserved_pct: 12.5,
            memory_reserved_pct: 1.0 / 3.0,
        }],
        services: &[ServiceSample {
            desired: 2,
            running: 1,
            pending: 0,
            provisioning: 1,
            stopping: 0,
        }],
        loads: &[],
        providers: &[],
    });
    let w = sink.into_writers().unwrap();
    let ev = String::from_utf8(w.events.unwrap()).unwrap();
    assert_eq!(
        ev,
        "time_ms,kind,entity,service,job,instance,from,to,reason\n5,task,7,\"web,\"\"x\"\"\",,i-1,PENDING,RUNNING,\n"
    );
    let me = String::from_utf8(w.metrics.unwrap()).unwrap();
    assert!(
        me.ends_with("60000,0,2,0,0,0,0,1,0,12.500,0.333,2,12.500,0.333,2,1,0,1,0\n"),
        "{me}"
    );
    assert!(
        me.starts_with("time_ms,") && me.contains("\"web,\"\"x\"\".desired\""),
        "{me}"
    );
}

/// A writer that accepts `limit` bytes, then fails like a full disk.
#[derive(Debug, Default)]
struct Limited {
    bytes: Vec<u8>,
    limit: Option<usize>,
}

impl Write for Limited {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Some(limit) = self.limit
            && self.bytes.len() + b.len() > limit
        {
            return Err(std::io::Error::other("no space left on device"));
        }
        self.bytes.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The seven tables, in the order [`sink_with`] takes their limits.
const TABLES: [&str; 7] = [
    "events.csv",
    "metrics.csv",
    "tasks.csv",
    "cost.csv",
    "scaling.csv",
    "failures.csv",
    "deployments.csv",
];

fn sink_with(limits: [Option<usize>; 7]) -> CsvSink<Limited> {
    let w = |k: usize| Limited {
        bytes: Vec::new(),
        limit: limits[k],
    };
    CsvSink::new(Some(w(0)), Some(w(1)), Some(w(2)), Some(w(3)))
        .with_scaling(w(4))
        .with_recovery(w(5), w(6))
}

/// One record of every kind, `n` times.
fn feed(sink: &mut CsvSink<Limited>, n: usize) {
    sink.begin(&RunHeader {
        clusters: &["c"],
        services: &["web"],
        load_services: &[],
        providers: &[],
    });
    for k in 0..n as u64 {
        sink.event(&EventRecord {
            time_ms: k,
            kind: EventKind::Instance,
            task: None,
            service: "",
            job: "",
            instance: "i-1",
            from: "ACTIVE",
            to: "DRAINING",
            reason: "",
        });
        sink.metrics(&MetricsRow {
            time_ms: k,
            instances_launching: 0,
            instances_active: 1,
            instances_draining: 0,
            instances_stopped: 0,
            tasks_provisioning: 0,
            tasks_pending: 0,
            tasks_running: 1,
            tasks_stopping: 0,
            cpu_reserved_pct: 50.0,
            memory_reserved_pct: 25.0,
            clusters: &[ClusterSample::default()],
            services: &[ServiceSample::default()],
            loads: &[],
            providers: &[],
        });
        sink.task(&TaskRow {
            task_id: k,
            task_definition: "web",
            service: "web",
            job: "",
            group: "service:web",
            cluster: "c",
            instance: "i-1",
            availability_zone: "a",
            created_ms: 0,
            pending_ms: Some(1),
            running_ms: None,
            stopped_ms: None,
            wait_ms: 1,
            outcome: "running_at_end",
            reason: "",
        });
        sink.cost(&CostRow {
            hour_start_ms: k,
            scope: "total",
            name: "",
            cost: Money(UNITS_PER_USD),
        });
        sink.scaling(&ScalingRecord {
            time_ms: k,
            kind: "alarm",
            name: "high",
            target: "web",
            from: "OK",
            to: "ALARM",
            reason: "",
        });
        sink.failure(&FailureRow {
            time_ms: k,
            kind: "instance_failure",
            target: "i-1",
            tasks_lost: 1,
            services: "web",
            recovered_after_ms: Some(5),
        });
        sink.deployment(&DeploymentRow {
            service: "web",
            deployment_id: 1,
            task_definition: "web:2",
            from_task_definition: "web:1",
            started_ms: k,
            ended_ms: Some(k + 10),
            state: "COMPLETED",
            failed_tasks: 0,
            reason: "",
        });
    }
}

/// A table whose writer fails when it is flushed at the end (small files sit in the buffer until
/// then): `finish` and `into_writers` report it, naming the file.
#[test]
fn a_failed_flush_of_any_table_is_reported() {
    for (k, file) in TABLES.iter().enumerate() {
        for into_writers in [false, true] {
            let mut limits = [None; 7];
            limits[k] = Some(0);
            let mut sink = sink_with(limits);
            feed(&mut sink, 1);
            let err = if into_writers {
                sink.into_writers().map(|_| ()).unwrap_err()
            } else {
                sink.finish().unwrap_err()
            };
            assert_eq!(err.file, *file);
            let msg = err.to_string();
            assert!(msg.contains(file) && msg.contains("no space left"), "{msg}");
        }
    }
}

/// A table whose writer fails in the middle of the run: the first error is kept, nothing more
/// is written to it, and `finish` reports it.
#[test]
fn a_failed_write_during_the_run_is_reported() {
    for (k, file) in TABLES.iter().enumerate() {
        let mut limits = [None; 7];
        limits[k] = Some(100);
        let mut sink = sink_with(limits);
        // Enough rows to overflow the 64 KiB buffer of every table.
        feed(&mut sink, 3_000);
        let err = sink.finish().unwrap_err();
        assert_eq!(err.file, *file, "{err}");
    }
}

/// Without errors, every table is flushed to its writer.
#[test]
fn every_table_is_flushed() {
    let mut sink = sink_with([None; 7]);
    feed(&mut sink, 2);
    let w = sink.into_writers().unwrap();
    let tables = [
        w.events,
        w.metrics,
        w.tasks,
        w.cost,
        w.scaling,
        w.failures,
        w.deployments,
    ];
    for (t, file) in tables.into_iter().zip(TABLES) {
        let text = String::from_utf8(t.unwrap().bytes).unwrap();
        assert_eq!(text.lines().count(), 3, "{file}: {text}");
    }
}
