//! A run's summary: `summary.json` written and read back with `serde_json` (one flat object,
//! keys in [`Summary::fields`] order, numbers with six decimals), and the few lines `ecsim run`
//! prints.

use std::fmt::Write as _;
use std::io;

use ecsim_model::record::{Summary, SummaryValue};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::value::RawValue;

use crate::units::{duration, thousands, usd_exact};

/// The file's name in an output folder.
pub const FILE: &str = "summary.json";

/// The summary's fields as one JSON object, in order.
struct Fields<'a>(&'a [(String, SummaryValue)]);

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, &Value(v))?;
        }
        map.end()
    }
}

struct Value<'a>(&'a SummaryValue);

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            SummaryValue::Str(v) => s.serialize_str(v),
            SummaryValue::Int(v) => s.serialize_u64(*v),
            // serde_json writes a value that is not finite as `null`.
            SummaryValue::Float(v) => s.serialize_f64(*v),
        }
    }
}

/// serde_json's pretty layout (two-space indent, one field per line), with every float written
/// with six decimals so that the file reads the same from run to run and in diffs.
struct SixDecimals(PrettyFormatter<'static>);

impl Formatter for SixDecimals {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        write!(w, "{v:.6}")
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `summary.json`: one flat object, keys in [`Summary::fields`] order, keys and strings
/// JSON-escaped, floats with six decimals (`null` when not finite), then a newline.
pub fn summary_json(s: &Summary) -> String {
    let fields = s.fields();
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, SixDecimals(PrettyFormatter::new()));
    Fields(&fields)
        .serialize(&mut ser)
        .expect("writing JSON to memory");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// A JSON object's members in file order, values as their JSON text.
struct Ordered<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Ordered<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<String, &'de RawValue>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// summary.json's fields in file order: strings unquoted, numbers (and `null`) as written.
/// An empty file has no fields; anything but one JSON object is an error.
pub fn read_summary(json: &str) -> Result<Vec<(String, String)>, String> {
    read_summary_at(json).map_err(|(_, _, e)| e)
}

/// [`read_summary`], with the error's line and column (1-based; 0 when unknown).
pub fn read_summary_at(json: &str) -> Result<Vec<(String, String)>, (u64, u64, String)> {
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    let at = |e: &serde_json::Error| (e.line() as u64, e.column() as u64);
    let Ordered(members) = serde_json::from_str(json).map_err(|e: serde_json::Error| {
        let (l, c) = at(&e);
        (l, c, format!("{FILE}: not a JSON object: {e}"))
    })?;
    members
        .into_iter()
        .map(|(k, raw)| {
            let text = raw.get();
            let value = if text.starts_with('"') {
                serde_json::from_str::<String>(text).map_err(|e| {
                    (
                        0,
                        0,
                        format!("{FILE}: {}: {e}", crate::escape::excerpt(&k, 60)),
                    )
                })?
            } else {
                text.to_string()
            };
            Ok((k, value))
        })
        .collect()
}

/// The few lines `ecsim run` prints.
pub fn summary_text(s: &Summary, output: &str) -> String {
    summary_text_with_objectives(s, &[], output)
}

/// The lines `ecsim run` prints, with the scenario's objectives met or missed.
pub fn summary_text_with_objectives(
    s: &Summary,
    outcomes: &[ecsim_model::objectives::Outcome],
    output: &str,
) -> String {
    let mut o = String::new();
    run_lines(&mut o, s);
    trace_lines(&mut o, s);
    scaling_lines(&mut o, s);
    recovery_lines(&mut o, s);
    cost_line(&mut o, s);
    crate::goals::goal_lines(&mut o, s);
    crate::goals::objective_lines(&mut o, outcomes);
    let _ = writeln!(o, "  events hash  {}", s.events_hash);
    let _ = writeln!(o, "  output       {output}");
    o
}

/// Time, tasks, waits, reservation, instances and clusters.
fn run_lines(o: &mut String, s: &Summary) {
    let _ = writeln!(o, "ecsim run: {} (seed {})", s.scenario, s.seed);
    let _ = writeln!(
        o,
        "  simulated    {} (stop: {}), {} events in {:.2} s wall",
        duration(s.sim_end_ms),
        s.stop_reason,
        thousands(s.events_processed),
        s.wall_ms as f64 / 1000.0
    );
    let _ = writeln!(
        o,
        "  tasks        {} created, {} started, {} completed, {} failed to place, {} never placed",
        thousands(s.tasks_created),
        thousands(s.tasks_started),
        thousands(s.tasks_completed),
        thousands(s.tasks_failed_to_place),
        thousands(s.tasks_never_placed)
    );
    if s.service_placement_failures > 0 || s.tasks_stopped_by_scheduler > 0 {
        let _ = writeln!(
            o,
            "  services     {} failed placement attempts, {} tasks stopped by scale-in",
            thousands(s.service_placement_failures),
            thousands(s.tasks_stopped_by_scheduler)
        );
    }
    let _ = writeln!(
        o,
        "  wait         mean {}, {}, max {} (creation to placement)",
        duration(s.mean_wait_ms.round() as u64),
        crate::goals::wait_percentiles(s),
        duration(s.max_wait_ms)
    );
    let _ = writeln!(
        o,
        "  reserved     CPU {:.1} %, memory {:.1} % (time-weighted over registered capacity)",
        s.mean_cpu_reserved_pct, s.mean_memory_reserved_pct
    );
    let _ = writeln!(
        o,
        "  instances    peak {}, {:.1} instance-hours",
        thousands(s.peak_instances),
        s.instance_hours
    );
    for c in &s.clusters {
        let _ = writeln!(
            o,
            "  cluster {:<12} {:.1} instances in use on average (peak {}), CPU {:.1} %, memory {:.1} % reserved",
            c.name,
            c.mean_instances_in_use,
            c.peak_instances_in_use,
            c.mean_cpu_reserved_pct,
            c.mean_memory_reserved_pct
        );
    }
}

/// What each trace job read: rows used, skipped by reason, never reached.
fn trace_lines(o: &mut String, s: &Summary) {
    for t in &s.traces {
        let c = &t.counts;
        let reasons: Vec<String> = ecsim_model::trace::SkipReason::ALL
            .iter()
            .filter(|r| c.skipped[**r as usize] > 0)
            .map(|r| {
                format!(
                    "{} {}",
                    thousands(c.skipped[*r as usize]),
                    r.key().replace('_', " ")
                )
            })
            .collect();
        let reasons = if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        };
        let bad = c.malformed + c.late;
        let bad = if bad > 0 {
            format!(
                ", {} malformed (the file changed after it was checked?)",
                thousands(bad)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  trace {:<14} {} rows used ({} tasks), {} skipped{reasons}, {} after the end{bad}",
            t.job,
            thousands(c.rows_used),
            thousands(c.tasks),
            thousands(c.skipped_total()),
            thousands(c.after_end),
        );
    }
}

/// Auto scaling, when the run has any.
fn scaling_lines(o: &mut String, s: &Summary) {
    let sc = &s.scaling;
    if sc.services.is_empty() && sc.instances_launched == 0 {
        return;
    }
    let _ = writeln!(
        o,
        "  scaling      {} service scaling actions, {} instances launched, {} terminated; {:.1} unserved request-minutes; {:.1} idle instance-hours",
        sc.scaling_actions,
        sc.instances_launched,
        sc.instances_terminated,
        sc.unserved_request_minutes,
        sc.idle_instance_hours
    );
    for svc in &sc.services {
        for (at, first, running) in &svc.load_changes {
            load_change_line(o, &svc.name, *at, *first, *running);
        }
    }
}

/// A service's reaction to a load change at `at`: its first scaling action and when the tasks
/// it asked for ran; flagged when the action came too soon to be a reaction.
fn load_change_line(o: &mut String, name: &str, at: u64, first: Option<u64>, running: Option<u64>) {
    let f = |v: Option<u64>| v.map_or("none".to_string(), duration);
    // Within [`REACTION_MIN_MS`] of the change no datapoint could have shown it: the action was
    // decided on data from before (a scheduled action, or an alarm already in ALARM).
    let note = if first.is_some_and(|f| f < REACTION_MIN_MS) {
        " (warning: too soon to be a reaction to this change; decided on data from before it)"
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "  {name:<12} load change at {}: first scaling after {}, tasks running after {}{note}",
        duration(at),
        f(first),
        f(running)
    );
}

/// A scaling action sooner than this after a load change cannot have been decided on a
/// datapoint that includes the change: a datapoint spans 1 minute, or 20 s at high
/// resolution, and has to close after the change.
pub const REACTION_MIN_MS: u64 = 20_000;

/// Failures, availability and deployments, when the run has any.
fn recovery_lines(o: &mut String, s: &Summary) {
    let r = &s.recovery;
    if r.failures.is_empty() && r.deployments.is_empty() && r.tasks_lost == 0 {
        return;
    }
    let recovered: Vec<u64> = r.failures.iter().filter_map(|f| f.2).collect();
    let _ = writeln!(
        o,
        "  failures     {} failures, {} tasks lost, {} recovered (longest {}); {:.1} unserved request-minutes during failures",
        r.failures.len(),
        r.tasks_lost,
        recovered.len(),
        duration(recovered.iter().copied().max().unwrap_or(0)),
        r.unserved_request_minutes_during_failures
    );
    for (name, a, m, lost, missing) in &r.services {
        let _ = writeln!(
            o,
            "  {name:<12} available {a:.2} % of the time (at least minimum healthy {m:.2} %), {lost} tasks lost, {missing:.1} task-minutes below desired"
        );
    }
    for (svc, id, state, dur) in &r.deployments {
        let d = dur.map_or("still running".to_string(), duration);
        let _ = writeln!(o, "  {svc:<12} deployment {id}: {state} after {d}");
    }
}

/// What the run cost, when it cost anything.
fn cost_line(o: &mut String, s: &Summary) {
    let c = &s.costs;
    if c.total.0 == 0 {
        return;
    }
    let _ = writeln!(
        o,
        "  cost         ${} total: EC2 ${} (idle ${}, Spot ${}), Fargate ${} (Spot ${}); ${:.4} per task-hour",
        usd_exact(c.total, 2),
        usd_exact(c.ec2, 2),
        usd_exact(c.ec2_idle, 2),
        usd_exact(c.ec2_spot, 2),
        usd_exact(c.fargate, 2),
        usd_exact(c.fargate_spot, 2),
        cost_per_task_hour(s)
    );
}

/// Total cost over task-hours, 0 without task-hours.
pub fn cost_per_task_hour(s: &Summary) -> f64 {
    let c = &s.costs;
    if c.task_hours > 0.0 {
        c.total.usd() / c.task_hours
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<(String, SummaryValue)> {
        vec![
            ("scenario".into(), SummaryValue::Str("a \"b\"\n".into())),
            ("seed".into(), SummaryValue::Int(7)),
            ("mean".into(), SummaryValue::Float(12.5)),
            ("nan".into(), SummaryValue::Float(f64::NAN)),
            (
                "service.x\": 0, \"y.cost_usd".into(),
                SummaryValue::Float(1.0 / 3.0),
            ),
        ]
    }

    fn json(fields: &[(String, SummaryValue)]) -> String {
        let mut out = Vec::new();
        let mut ser =
            serde_json::Serializer::with_formatter(&mut out, SixDecimals(PrettyFormatter::new()));
        Fields(fields).serialize(&mut ser).unwrap();
        out.push(b'\n');
        String::from_utf8(out).unwrap()
    }

    /// The layout summary.json has always had: two-space indent, six decimals, `null` for a value
    /// that is not finite; keys are escaped, so a hostile name cannot add a field.
    #[test]
    fn layout_and_escaping() {
        let text = json(&fields());
        assert_eq!(
            text,
            "{\n  \"scenario\": \"a \\\"b\\\"\\n\",\n  \"seed\": 7,\n  \"mean\": 12.500000,\n  \"nan\": null,\n  \"service.x\\\": 0, \\\"y.cost_usd\": 0.333333\n}\n"
        );
        let back = read_summary(&text).unwrap();
        assert_eq!(
            back,
            vec![
                ("scenario".to_string(), "a \"b\"\n".to_string()),
                ("seed".into(), "7".into()),
                ("mean".into(), "12.500000".into()),
                ("nan".into(), "null".into()),
                ("service.x\": 0, \"y.cost_usd".into(), "0.333333".into()),
            ]
        );
    }

    /// Issue 16: a scaling at the instant of a load change (a daily ramp had already put the
    /// alarm in ALARM) is flagged, not presented as a zero-second reaction.
    #[test]
    fn a_reaction_too_soon_is_flagged() {
        let mut o = String::new();
        load_change_line(&mut o, "web", 7_200_000, Some(0), Some(40_000));
        assert!(
            o.contains("first scaling after 0.000s") && o.contains("too soon"),
            "{o}"
        );
        let mut o = String::new();
        load_change_line(&mut o, "web", 7_200_000, Some(180_000), None);
        assert!(
            !o.contains("too soon") && o.contains("tasks running after none"),
            "{o}"
        );
    }

    #[test]
    fn reading_rejects_what_is_not_an_object() {
        assert_eq!(read_summary("  \n").unwrap(), Vec::new());
        assert!(read_summary("[1, 2]").unwrap_err().contains("summary.json"));
        assert!(read_summary("{\"a\": 1,").is_err());
    }
}
