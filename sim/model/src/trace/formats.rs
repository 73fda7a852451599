//! One parser per trace format: a line of text to a row, a skip (with its reason), a line to
//! ignore (header, comment, blank) or a problem naming the column, field, value and what is
//! allowed. The mappings are documented in `docs/traces.md`.

use super::{SkipReason, TraceFormat, TraceSpec};

/// A usable row, per task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) submit_ms: u64,
    pub(super) run_ms: u64,
    pub(super) cpu_units: u32,
    pub(super) memory_mib: u32,
    /// Tasks the row stands for (before `tasks_per_row`).
    pub(super) count: u64,
}

/// What one line is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Parsed {
    /// A header, comment or blank line.
    Ignore,
    Row(Row),
    Skip(SkipReason),
    Bad(Problem),
}

/// A malformed row: where, which field, what was given and what is allowed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Problem {
    /// 1-based column, in characters.
    pub(super) column: usize,
    pub(super) field: &'static str,
    pub(super) value: String,
    pub(super) allowed: String,
}

impl Problem {
    pub(super) fn at(
        column: usize,
        field: &'static str,
        value: &str,
        allowed: impl Into<String>,
    ) -> Self {
        Problem {
            column,
            field,
            value: shown(value),
            allowed: allowed.into(),
        }
    }

    /// `field cpu_units: got "abc"; expected ...`.
    pub(super) fn message(&self) -> String {
        format!(
            "field {}: got \"{}\"; expected {}",
            self.field, self.value, self.allowed
        )
    }
}

/// A value as shown in a message: control characters escaped, at most 40 characters.
fn shown(v: &str) -> String {
    let mut s: String = v
        .chars()
        .take(40)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if v.chars().count() > 40 {
        s.push('…');
    }
    s
}

/// Largest time accepted, seconds (about 31 years; keeps milliseconds far from overflow).
const MAX_TIME_S: f64 = 1e9;
/// Largest count of tasks one row may stand for.
const MAX_COUNT: i64 = 10_000_000;
/// Largest task group name (ECS-DG task-groups.html).
const MAX_GROUP: usize = 255;

/// Split a line at `sep`, each field with its 1-based column.
fn split(line: &str, sep: char) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut col = 1;
    for f in line.split(sep) {
        out.push((col, f.trim()));
        col += f.chars().count() + 1;
    }
    out
}

/// Split a line at runs of whitespace, each field with its 1-based column.
fn split_ws(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut col_of_start = 0;
    for (col, (i, c)) in line.char_indices().enumerate() {
        match (c.is_whitespace(), start) {
            (false, None) => {
                start = Some(i);
                col_of_start = col + 1;
            }
            (true, Some(s)) => {
                out.push((col_of_start, &line[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((col_of_start, &line[s..]));
    }
    out
}

fn int(f: (usize, &str), field: &'static str, min: i64, max: i64) -> Result<i64, Problem> {
    match f.1.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(Problem::at(
            f.0,
            field,
            f.1,
            format!("an integer from {min} to {max}"),
        )),
    }
}

fn num(f: (usize, &str), field: &'static str, min: f64, max: f64) -> Result<f64, Problem> {
    match f.1.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= min && v <= max => Ok(v),
        _ => Err(Problem::at(
            f.0,
            field,
            f.1,
            format!("a number from {min} to {max}"),
        )),
    }
}

/// Seconds (possibly fractional) to milliseconds.
fn ms(s: f64) -> u64 {
    (s * 1000.0).round() as u64
}

/// Whether a name is safe as a task group or attribute value: letters, digits, `-`, `_`, `.`,
/// `:`, at most 255 characters.
fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_GROUP
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// Parse one line (`line_no` is 1-based). A group and a constraint go into `key` as
/// `GROUP\u{1f}CONSTRAINT` (either may be empty; both empty: none).
pub(super) fn parse(spec: &TraceSpec, line_no: u64, line: &str, key: &mut String) -> Parsed {
    key.clear();
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Parsed::Ignore;
    }
    let r = match spec.format {
        TraceFormat::Csv => csv(line_no, line, key),
        TraceFormat::AlibabaV2017BatchTask => v2017(spec, line_no, line, key),
        TraceFormat::AlibabaGpuV2023Pods => openb(spec, line_no, line, key),
        TraceFormat::Swf => swf(spec, line, key),
    };
    r.unwrap_or_else(Parsed::Bad)
}

/// `submit_s,cpu_units,memory_mib,duration_s[,count][,group]`; an optional header line
/// starting with `submit_s`; `#` comments.
fn csv(line_no: u64, line: &str, key: &mut String) -> Result<Parsed, Problem> {
    if line.starts_with('#') || (line_no == 1 && line.trim_start().starts_with("submit_s")) {
        return Ok(Parsed::Ignore);
    }
    let f = split(line, ',');
    if !(4..=6).contains(&f.len()) {
        return Err(Problem::at(
            1,
            "row",
            line,
            format!(
                "4 to 6 comma-separated fields (submit_s,cpu_units,memory_mib,duration_s[,count][,group]), not {}",
                f.len()
            ),
        ));
    }
    let submit = num(f[0], "submit_s", 0.0, MAX_TIME_S)?;
    let cpu = int(f[1], "cpu_units", 0, i64::from(u32::MAX))?;
    let mem = int(f[2], "memory_mib", 0, i64::from(u32::MAX))?;
    let dur = num(f[3], "duration_s", 0.0, MAX_TIME_S)?;
    let count = match f.get(4) {
        Some(c) if !c.1.is_empty() => int(*c, "count", 0, MAX_COUNT)?,
        _ => 1,
    };
    if let Some(g) = f.get(5).filter(|g| !g.1.is_empty()) {
        if !safe_name(g.1) {
            return Err(Problem::at(
                g.0,
                "group",
                g.1,
                "a task group of letters, digits, '-', '_', '.' and ':', at most 255 characters",
            ));
        }
        key.push_str(g.1);
        key.push('\u{1f}');
    }
    if count == 0 {
        return Ok(Parsed::Skip(SkipReason::NoTasks));
    }
    Ok(Parsed::Row(Row {
        submit_ms: ms(submit),
        run_ms: ms(dur),
        cpu_units: cpu as u32,
        memory_mib: mem as u32,
        count: count as u64,
    }))
}

/// Alibaba v2017 `batch_task`: `create_timestamp, modify_timestamp, job_id, task_id,
/// instance_num, status, plan_cpu, plan_mem`.
fn v2017(spec: &TraceSpec, line_no: u64, line: &str, key: &mut String) -> Result<Parsed, Problem> {
    if line_no == 1 && line.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Ok(Parsed::Ignore); // the third-party header
    }
    let f = split(line, ',');
    if f.len() != 8 {
        return Err(Problem::at(
            1,
            "row",
            line,
            format!(
                "8 comma-separated fields (create_timestamp,modify_timestamp,job_id,task_id,instance_num,status,plan_cpu,plan_mem), not {}",
                f.len()
            ),
        ));
    }
    let create = int(
        f[0],
        "create_timestamp",
        -(MAX_TIME_S as i64),
        MAX_TIME_S as i64,
    )?;
    let end = int(
        f[1],
        "modify_timestamp",
        -(MAX_TIME_S as i64),
        MAX_TIME_S as i64,
    )?;
    let job = int(f[2], "job_id", 0, i64::MAX)?;
    let count = int(f[4], "instance_num", 0, MAX_COUNT)?;
    let ran = match f[5].1 {
        "Terminated" | "Failed" => true,
        "Waiting" | "Running" | "Ready" | "Cancelled" => false,
        other => {
            return Err(Problem::at(
                f[5].0,
                "status",
                other,
                "one of Terminated, Failed, Waiting, Running, Ready, Cancelled",
            ));
        }
    };
    if !ran {
        return Ok(Parsed::Skip(SkipReason::NotRun));
    }
    if f[6].1.is_empty() || f[7].1.is_empty() {
        return Ok(Parsed::Skip(SkipReason::NoRequest));
    }
    let cpu = num(f[6], "plan_cpu", 0.0, 1e6)?;
    let mem = num(f[7], "plan_mem", 0.0, 1.0)?;
    if end < create {
        return Ok(Parsed::Skip(SkipReason::NoRunTime));
    }
    if end <= 0 {
        return Ok(Parsed::Skip(SkipReason::BeforeStart));
    }
    if count == 0 {
        return Ok(Parsed::Skip(SkipReason::NoTasks));
    }
    let per_unit = spec.memory_mib_per_unit.unwrap_or(0.0);
    let submit = create.max(0);
    key.push_str("job-");
    key.push_str(f[2].1.trim_start_matches('+'));
    key.push('\u{1f}');
    let _ = job;
    Ok(Parsed::Row(Row {
        submit_ms: submit as u64 * 1000,
        run_ms: (end - submit) as u64 * 1000,
        cpu_units: (cpu * 1024.0 / 100.0).round() as u32,
        memory_mib: (mem * per_unit).ceil().min(f64::from(u32::MAX)) as u32,
        count: count as u64,
    }))
}

/// The OpenB pod list's header, as the trace has it.
pub(super) const OPENB_HEADER: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";

/// Alibaba GPU v2023 (OpenB) pods: `name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec,
/// qos, pod_phase, creation_time, deletion_time, scheduled_time`, with a header.
fn openb(spec: &TraceSpec, line_no: u64, line: &str, key: &mut String) -> Result<Parsed, Problem> {
    if line_no == 1 {
        if line.trim() == OPENB_HEADER {
            return Ok(Parsed::Ignore);
        }
        return Err(Problem::at(
            1,
            "header",
            line,
            format!("the pod list's header \"{OPENB_HEADER}\""),
        ));
    }
    let f = split(line, ',');
    if f.len() != 11 {
        return Err(Problem::at(
            1,
            "row",
            line,
            format!(
                "11 comma-separated fields ({OPENB_HEADER}), not {}",
                f.len()
            ),
        ));
    }
    let cpu = int(f[1], "cpu_milli", 0, i64::from(u32::MAX))?;
    let mem = int(f[2], "memory_mib", 0, i64::from(u32::MAX))?;
    let gpus = int(f[3], "num_gpu", 0, 1024)?;
    let gpu_milli = int(f[4], "gpu_milli", 0, 1_024_000)?;
    let t = |i: usize, name| int(f[i], name, 0, MAX_TIME_S as i64);
    let created = t(8, "creation_time")?;
    let deleted = t(9, "deletion_time")?;
    match f[7].1 {
        "Running" | "Succeeded" | "Failed" | "Pending" => {}
        other => {
            return Err(Problem::at(
                f[7].0,
                "pod_phase",
                other,
                "one of Running, Succeeded, Failed, Pending",
            ));
        }
    }
    if f[10].1.is_empty() {
        return Ok(Parsed::Skip(SkipReason::NotRun));
    }
    let scheduled = t(10, "scheduled_time")?;
    if gpus > 0 || gpu_milli > 0 {
        key.push('\u{1f}');
        key.push_str("attribute:");
        key.push_str(&spec.gpu_attribute);
        let models: Vec<&str> = f[5].1.split('|').filter(|m| !m.is_empty()).collect();
        if models.is_empty() {
            key.push_str(" exists");
        } else {
            if let Some(m) = models.iter().find(|m| !safe_name(m)) {
                return Err(Problem::at(
                    f[5].0,
                    "gpu_spec",
                    m,
                    "GPU model names of letters, digits, '-', '_', '.' and ':', separated by '|'",
                ));
            }
            key.push_str(" in [");
            key.push_str(&models.join(", "));
            key.push(']');
        }
        let expr = key.trim_start_matches('\u{1f}');
        if ecsim_placement::Expr::parse(expr).is_err() {
            return Err(Problem::at(
                f[5].0,
                "gpu_spec",
                f[5].1,
                "GPU model names that make a valid memberOf expression",
            ));
        }
    }
    if deleted < scheduled {
        return Ok(Parsed::Skip(SkipReason::NoRunTime));
    }
    Ok(Parsed::Row(Row {
        submit_ms: created as u64 * 1000,
        run_ms: (deleted - scheduled) as u64 * 1000,
        cpu_units: (cpu as u64 * 1024).div_ceil(1000).min(u64::from(u32::MAX)) as u32,
        memory_mib: mem as u32,
        count: 1,
    }))
}

/// SWF: `;` comments, 18 whitespace-separated fields, `-1` for unknown.
fn swf(spec: &TraceSpec, line: &str, key: &mut String) -> Result<Parsed, Problem> {
    if line.trim_start().starts_with(';') {
        return Ok(Parsed::Ignore);
    }
    let f = split_ws(line);
    if f.len() != 18 {
        return Err(Problem::at(
            1,
            "row",
            line,
            format!(
                "18 whitespace-separated fields (the Standard Workload Format), not {}",
                f.len()
            ),
        ));
    }
    let job = int(f[0], "job_number", 0, i64::MAX)?;
    let submit = int(f[1], "submit_time", -1, MAX_TIME_S as i64)?;
    let run = num(f[3], "run_time", -1.0, MAX_TIME_S)?;
    let allocated = int(f[4], "allocated_processors", -1, MAX_COUNT)?;
    let used_kb = num(f[6], "used_memory", -1.0, 1e15)?;
    let requested = int(f[7], "requested_processors", -1, MAX_COUNT)?;
    let req_kb = num(f[9], "requested_memory", -1.0, 1e15)?;
    let _ = job;
    key.push_str("job-");
    key.push_str(f[0].1);
    key.push('\u{1f}');
    if submit < 0 {
        return Ok(Parsed::Skip(SkipReason::NoSubmitTime));
    }
    if run < 0.0 {
        return Ok(Parsed::Skip(SkipReason::NoRunTime));
    }
    let procs = if allocated > 0 { allocated } else { requested };
    if procs <= 0 {
        return Ok(Parsed::Skip(SkipReason::NoTasks));
    }
    let kb = if req_kb > 0.0 { req_kb } else { used_kb };
    let memory_mib = if kb > 0.0 {
        (kb / 1024.0).ceil().min(f64::from(u32::MAX)) as u32
    } else {
        spec.memory_mib_per_processor
    };
    Ok(Parsed::Row(Row {
        submit_ms: submit as u64 * 1000,
        run_ms: ms(run),
        cpu_units: spec.cpu_units_per_processor,
        memory_mib,
        count: procs as u64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{DEFAULT_REORDER_ROWS, TasksPerRow};

    fn spec(format: TraceFormat) -> TraceSpec {
        TraceSpec {
            file: "t".into(),
            format,
            tasks_per_row: TasksPerRow::Count,
            memory_mib_per_unit: Some(1000.0),
            cpu_units_per_processor: 1024,
            memory_mib_per_processor: 2048,
            gpu_attribute: "gpu_model".into(),
            reorder_rows: DEFAULT_REORDER_ROWS,
        }
    }

    fn one(format: TraceFormat, line_no: u64, line: &str) -> (Parsed, String) {
        let mut key = String::new();
        let p = parse(&spec(format), line_no, line, &mut key);
        (p, key)
    }

    #[test]
    fn generic_csv_rows_header_and_problems() {
        let (p, k) = one(
            TraceFormat::Csv,
            1,
            "submit_s,cpu_units,memory_mib,duration_s",
        );
        assert_eq!((p, k.as_str()), (Parsed::Ignore, ""));
        let (p, k) = one(TraceFormat::Csv, 2, "1.5,512,1024,60,3,etl");
        let row = Row {
            submit_ms: 1500,
            run_ms: 60_000,
            cpu_units: 512,
            memory_mib: 1024,
            count: 3,
        };
        assert_eq!((p, k.as_str()), (Parsed::Row(row), "etl\u{1f}"));
        let (p, _) = one(TraceFormat::Csv, 3, "10,abc,1024,60");
        let Parsed::Bad(b) = p else { panic!("{p:?}") };
        assert_eq!((b.column, b.field), (4, "cpu_units"));
        assert_eq!(
            b.message(),
            "field cpu_units: got \"abc\"; expected an integer from 0 to 4294967295"
        );
        let (p, _) = one(TraceFormat::Csv, 3, "-1,1,1,1");
        assert!(matches!(
            p,
            Parsed::Bad(Problem {
                field: "submit_s",
                ..
            })
        ));
        let (p, _) = one(TraceFormat::Csv, 3, "1,1,1,1,0");
        assert_eq!(p, Parsed::Skip(SkipReason::NoTasks));
        let (p, _) = one(TraceFormat::Csv, 3, "1,1,1,1,1,a\u{1b}b");
        let Parsed::Bad(b) = p else { panic!() };
        assert_eq!((b.field, b.value.as_str()), ("group", "a\\u{1b}b"));
        let (p, _) = one(TraceFormat::Csv, 3, "1,1,1");
        assert!(matches!(p, Parsed::Bad(Problem { field: "row", .. })));
    }

    #[test]
    fn alibaba_v2017_mapping() {
        // Real rows of batch_task (the third-party header, a Terminated task, a Waiting one).
        let h = "task_create_time, task_end_time, job_id, task_id,number_of_instances, status, number_of_cpus_requested_per_instance_in_the_task,normalized_memory_requested_per_instance_in_the_task";
        assert_eq!(
            one(TraceFormat::AlibabaV2017BatchTask, 1, h).0,
            Parsed::Ignore
        );
        let (p, k) = one(
            TraceFormat::AlibabaV2017BatchTask,
            2,
            "6459,6524,3,4,15740,Terminated,50,0.007956928",
        );
        let row = Row {
            submit_ms: 6_459_000,
            run_ms: 65_000,
            cpu_units: 512,
            memory_mib: 8,
            count: 15740,
        };
        assert_eq!((p, k.as_str()), (Parsed::Row(row), "job-3\u{1f}"));
        let (p, _) = one(
            TraceFormat::AlibabaV2017BatchTask,
            4,
            "6036,6046,4,7,393,Waiting,,",
        );
        assert_eq!(p, Parsed::Skip(SkipReason::NotRun));
        // Created before the trace began: submitted at 0 with the time left.
        let (p, _) = one(
            TraceFormat::AlibabaV2017BatchTask,
            5,
            "-100,50,9,1,1,Terminated,100,0.5",
        );
        let Parsed::Row(r) = p else { panic!() };
        assert_eq!(
            (r.submit_ms, r.run_ms, r.cpu_units, r.memory_mib),
            (0, 50_000, 1024, 500)
        );
        let (p, _) = one(
            TraceFormat::AlibabaV2017BatchTask,
            5,
            "-100,-50,9,1,1,Terminated,100,0.5",
        );
        assert_eq!(p, Parsed::Skip(SkipReason::BeforeStart));
        let (p, _) = one(
            TraceFormat::AlibabaV2017BatchTask,
            5,
            "100,50,9,1,1,Failed,100,0.5",
        );
        assert_eq!(p, Parsed::Skip(SkipReason::NoRunTime));
        let (p, _) = one(
            TraceFormat::AlibabaV2017BatchTask,
            5,
            "1,50,9,1,1,Done,100,0.5",
        );
        let Parsed::Bad(b) = p else { panic!() };
        assert_eq!((b.column, b.field), (12, "status"));
    }

    #[test]
    fn openb_pods_mapping() {
        assert_eq!(
            one(TraceFormat::AlibabaGpuV2023Pods, 1, OPENB_HEADER).0,
            Parsed::Ignore
        );
        assert!(matches!(
            one(TraceFormat::AlibabaGpuV2023Pods, 1, "a,b").0,
            Parsed::Bad(_)
        ));
        // Real rows of openb_pod_list_gpuspec33.csv.
        let (p, k) = one(
            TraceFormat::AlibabaGpuV2023Pods,
            2,
            "openb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960,427061",
        );
        let row = Row {
            submit_ms: 427_061_000,
            run_ms: 12_475_899_000,
            cpu_units: 6144,
            memory_mib: 12288,
            count: 1,
        };
        assert_eq!(
            (p, k.as_str()),
            (Parsed::Row(row), "\u{1f}attribute:gpu_model exists")
        );
        let (_, k) = one(
            TraceFormat::AlibabaGpuV2023Pods,
            2,
            "p,1000,1,1,1000,V100M16|V100M32,LS,Failed,1,5,2",
        );
        assert_eq!(k, "\u{1f}attribute:gpu_model in [V100M16, V100M32]");
        let (_, k) = one(
            TraceFormat::AlibabaGpuV2023Pods,
            2,
            "p,1000,1,0,0,,BE,Succeeded,1,5,2",
        );
        assert_eq!(k, "");
        let (p, _) = one(
            TraceFormat::AlibabaGpuV2023Pods,
            2,
            "p,1000,1,0,0,,BE,Pending,10001278,10001403,",
        );
        assert_eq!(p, Parsed::Skip(SkipReason::NotRun));
        let (p, _) = one(
            TraceFormat::AlibabaGpuV2023Pods,
            2,
            "p,1000,1,1,0,T4]x,BE,Running,1,5,2",
        );
        assert!(matches!(
            p,
            Parsed::Bad(Problem {
                field: "gpu_spec",
                ..
            })
        ));
    }

    #[test]
    fn swf_mapping() {
        assert_eq!(one(TraceFormat::Swf, 1, "; Version: 2.2").0, Parsed::Ignore);
        // Real rows of NASA-iPSC-1993-3.1-cln.swf.
        let (p, k) = one(
            TraceFormat::Swf,
            35,
            "    1        0     -1   1451  128     -1    -1   -1     -1    -1 -1   1   1  -1 -1 -1 -1 -1",
        );
        let row = Row {
            submit_ms: 0,
            run_ms: 1_451_000,
            cpu_units: 1024,
            memory_mib: 2048,
            count: 128,
        };
        assert_eq!((p, k.as_str()), (Parsed::Row(row), "job-1\u{1f}"));
        let (p, _) = one(
            TraceFormat::Swf,
            36,
            "2 10 -1 -1 4 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1",
        );
        assert_eq!(p, Parsed::Skip(SkipReason::NoRunTime));
        let (p, _) = one(
            TraceFormat::Swf,
            36,
            "2 10 -1 5 -1 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1",
        );
        assert_eq!(p, Parsed::Skip(SkipReason::NoTasks));
        // Requested memory (KB per processor) when given.
        let (p, _) = one(
            TraceFormat::Swf,
            36,
            "2 10 -1 5 2 -1 -1 -1 -1 4096 -1 1 1 -1 -1 -1 -1 -1",
        );
        let Parsed::Row(r) = p else { panic!() };
        assert_eq!((r.memory_mib, r.count), (4, 2));
        let (p, _) = one(
            TraceFormat::Swf,
            36,
            "2 x -1 5 2 -1 -1 -1 -1 4096 -1 1 1 -1 -1 -1 -1 -1",
        );
        let Parsed::Bad(b) = p else { panic!() };
        assert_eq!((b.column, b.field), (3, "submit_time"));
    }
}
