//! `[[actions]]`: scripted UpdateService calls.

use super::prelude::*;

pub(super) fn read_action(
    cx: &mut Cx<'_>,
    mut t: Tbl<'_>,
    services: &[&str],
    defs: &[&str],
) -> Option<Action> {
    let at = t.req(cx, "at", "a time such as \"30m\"", |cx, n, p| {
        cx.duration(n, p)
    });
    let ty = t.req(
        cx,
        "type",
        "\"set_desired_count\" or \"deploy\"",
        |cx, n, p| cx.choice(n, p, ACTION),
    );
    let s = t.req(cx, "service", "a service name", |cx, n, p| {
        resolve(cx, n, p, services, "service")
    });
    let kind = match ty {
        Some(ActionType::SetDesiredCount) => {
            let d = t.req(cx, "desired_count", "a number of tasks", |cx, n, p| {
                cx.u32(n, p, 0, 10_000_000)
            });
            match (s, d) {
                (Some(service), Some(desired_count)) => Some(ActionKind::SetDesiredCount {
                    service,
                    desired_count,
                }),
                _ => None,
            }
        }
        Some(ActionType::Deploy) => {
            let d = t.req(
                cx,
                "task_definition",
                "the new task definition family",
                |cx, n, p| resolve(cx, n, p, defs, "task definition"),
            );
            match (s, d) {
                (Some(service), Some(task_definition)) => Some(ActionKind::Deploy {
                    service,
                    task_definition,
                }),
                _ => None,
            }
        }
        None => None,
    };
    t.finish(cx);
    Some(Action {
        at_ms: at?,
        kind: kind?,
    })
}
