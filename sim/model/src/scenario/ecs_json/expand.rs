//! `file = "..."` in `[[task_definitions]]`, `[[services]]`, `[services.auto_scaling]` (and its
//! `target_tracking` / `step_scaling` entries), `[[clusters]]` and `[[clusters.instance_groups]]`:
//! the entry becomes the JSON's values with the TOML's fields on top (a TOML field replaces the
//! JSON's whole value of that key).

use super::cluster::Instance;
use super::document::{self, Item};
use super::scaling::Scaling;
use crate::scenario::FileReader;
use crate::scenario::read::Cx;
use crate::scenario::tree::{Kind, Node, Origin};

type Entries = Vec<(String, Origin, Node)>;

/// Expand every `file` key of the scenario tree `root` (see the module doc). `scenario` is the
/// scenario file as given: JSON files are named relative to its folder in messages.
pub(crate) fn expand(
    cx: &mut Cx<'_>,
    root: &mut Node,
    scenario: &str,
    read_file: Option<FileReader<'_>>,
) {
    let Kind::Table(top) = &mut root.kind else {
        return;
    };
    let x = Expander {
        scenario,
        read_file,
    };
    for (key, _, section) in top.iter_mut() {
        let Kind::Array(list) = &mut section.kind else {
            continue;
        };
        for (i, entry) in list.iter_mut().enumerate() {
            let path = format!("{key}[{i}]");
            match key.as_str() {
                "task_definitions" => x.entry(cx, entry, &path, Want::TaskDefinition),
                "services" => {
                    x.entry(cx, entry, &path, Want::Service);
                    x.auto_scaling(cx, entry, &path);
                }
                "clusters" => {
                    x.entry(cx, entry, &path, Want::Cluster);
                    x.groups(cx, entry, &path);
                }
                _ => {}
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Want {
    TaskDefinition,
    Service,
    Cluster,
    Group,
    TargetTracking,
    StepScaling,
}

impl Want {
    fn what(self) -> &'static str {
        match self {
            Want::TaskDefinition => "task definition",
            Want::Service => "service",
            Want::Cluster => "cluster",
            Want::Group => "capacity provider",
            Want::TargetTracking => "target tracking policy",
            Want::StepScaling => "step scaling policy",
        }
    }
    /// The key that names an entry of this kind, to choose among several in one file.
    fn name_key(self) -> &'static str {
        match self {
            Want::TaskDefinition => "family",
            _ => "name",
        }
    }
}

struct Expander<'a> {
    scenario: &'a str,
    read_file: Option<FileReader<'a>>,
}

impl Expander<'_> {
    /// The JSON file names of a `file` value (a string or an array of strings), each read and
    /// mapped. `None` after reporting a problem.
    fn documents(&self, cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Vec<document::Document>> {
        let names: Vec<(String, Origin)> = match &n.kind {
            Kind::Str(s) if !s.is_empty() => vec![(s.clone(), n.origin.clone())],
            Kind::Array(a)
                if !a.is_empty()
                    && a.iter()
                        .all(|x| matches!(&x.kind, Kind::Str(s) if !s.is_empty())) =>
            {
                a.iter()
                    .map(|x| match &x.kind {
                        Kind::Str(s) => (s.clone(), x.origin.clone()),
                        _ => unreachable!("checked"),
                    })
                    .collect()
            }
            other => {
                cx.error(&n.origin, path, format!("got {}; expected an ECS JSON file name relative to the scenario (or an array of them)", other.describe()));
                return None;
            }
        };
        let Some(read) = self.read_file else {
            cx.error(
                &n.origin,
                path,
                "ECS JSON files can only be read when the scenario is loaded from a file",
            );
            return None;
        };
        let mut docs = Vec::new();
        let mut ok = true;
        for (name, origin) in names {
            match cx.read_named(Some(read), &origin, path, "ECS JSON file", &name) {
                None => ok = false,
                Some(text) => {
                    let shown = shown_path(self.scenario, &name);
                    let doc = document::read(&shown, &text);
                    cx.warnings.extend(doc.notes.warnings.iter().cloned());
                    if !doc.notes.errors.is_empty() {
                        cx.diags.extend(doc.notes.errors.iter().cloned());
                        ok = false;
                    }
                    docs.push(doc);
                }
            }
        }
        ok.then_some(docs)
    }

    /// Expand `file` in one entry, for the wanted kind.
    fn entry(&self, cx: &mut Cx<'_>, entry: &mut Node, path: &str, want: Want) {
        let Kind::Table(entries) = &mut entry.kind else {
            return;
        };
        let Some(pos) = entries.iter().position(|e| e.0 == "file") else {
            return;
        };
        let (_, key_origin, file) = entries.remove(pos);
        let fpath = format!("{path}.file");
        let Some(docs) = self.documents(cx, &file, &fpath) else {
            return;
        };
        let items: Vec<Item> = docs.into_iter().flat_map(|d| d.items).collect();
        let found: Vec<&'static str> = items.iter().map(Item::what).collect();
        // A cluster's container instances (from any of its files) become its instance groups.
        let mut instances: Vec<Instance> = Vec::new();
        let mut instances_origin = key_origin.clone();
        for i in &items {
            if let (Item::Instances(list, o), Want::Cluster) = (i, want) {
                instances.extend(list.iter().cloned());
                instances_origin = o.clone();
            }
        }
        let candidates: Vec<Node> = items
            .into_iter()
            .filter_map(|i| candidate(i, want))
            .collect();
        let chosen = if candidates.is_empty() && !instances.is_empty() {
            Some(Node {
                kind: Kind::Table(Vec::new()),
                origin: key_origin.clone(),
            })
        } else {
            choose(cx, candidates, entries, want, &key_origin, &fpath, &found)
        };
        if let Some(Node {
            kind: Kind::Table(mut base),
            ..
        }) = chosen
        {
            if !instances.is_empty()
                && let Kind::Table(groups) = groups_of(&instances, &instances_origin).kind
            {
                merge_under(&mut base, groups);
            }
            merge_under(entries, base);
        }
    }

    /// `file` in `[services.auto_scaling]` and in its policy entries.
    fn auto_scaling(&self, cx: &mut Cx<'_>, svc: &mut Node, path: &str) {
        let Kind::Table(entries) = &mut svc.kind else {
            return;
        };
        let service_name = entries
            .iter()
            .find(|e| e.0 == "name")
            .and_then(|e| match &e.2.kind {
                Kind::Str(s) => Some(s.clone()),
                _ => None,
            });
        let Some((_, _, asn)) = entries.iter_mut().find(|e| e.0 == "auto_scaling") else {
            return;
        };
        let apath = format!("{path}.auto_scaling");
        for (key, want) in [
            ("target_tracking", Want::TargetTracking),
            ("step_scaling", Want::StepScaling),
        ] {
            if let Kind::Table(a) = &mut asn.kind
                && let Some((_, _, list)) = a.iter_mut().find(|e| e.0 == key)
                && let Kind::Array(list) = &mut list.kind
            {
                for (j, p) in list.iter_mut().enumerate() {
                    self.entry(cx, p, &format!("{apath}.{key}[{j}]"), want);
                }
            }
        }
        let Kind::Table(a) = &mut asn.kind else {
            return;
        };
        let Some(pos) = a.iter().position(|e| e.0 == "file") else {
            return;
        };
        let (_, key_origin, file) = a.remove(pos);
        let fpath = format!("{apath}.file");
        let Some(docs) = self.documents(cx, &file, &fpath) else {
            return;
        };
        let mut base: Entries = Vec::new();
        let (mut tt, mut ss) = (Vec::new(), Vec::new());
        let mut others = Vec::new();
        for item in docs.into_iter().flat_map(|d| d.items) {
            let Item::Scaling(r, s) = item else {
                others.push(item.what());
                continue;
            };
            if let (Some(want), Some(have)) = (&service_name, &r.service)
                && want != have
            {
                continue;
            }
            match s {
                Scaling::Target(Node {
                    kind: Kind::Table(t),
                    ..
                }) => merge_under(&mut base, t),
                Scaling::Target(_) => {}
                Scaling::TargetTracking(n) => tt.push(n),
                Scaling::StepScaling(n) => ss.push(n),
            }
        }
        if tt.is_empty() && ss.is_empty() && base.is_empty() {
            cx.error(&key_origin, &fpath, format!("no scalable target or scaling policy for this service in the file (it holds {})", list_or_nothing(&others)));
            return;
        }
        for (key, list) in [("target_tracking", tt), ("step_scaling", ss)] {
            if !list.is_empty() {
                base.push((
                    key.into(),
                    key_origin.clone(),
                    Node {
                        kind: Kind::Array(list),
                        origin: key_origin.clone(),
                    },
                ));
            }
        }
        merge_under(a, base);
    }

    /// `file` in `[[clusters.instance_groups]]` entries (capacity providers).
    fn groups(&self, cx: &mut Cx<'_>, cluster: &mut Node, path: &str) {
        let Kind::Table(entries) = &mut cluster.kind else {
            return;
        };
        if let Some((_, _, list)) = entries.iter_mut().find(|e| e.0 == "instance_groups")
            && let Kind::Array(list) = &mut list.kind
        {
            for (j, g) in list.iter_mut().enumerate() {
                self.entry(cx, g, &format!("{path}.instance_groups[{j}]"), Want::Group);
            }
        }
    }
}

/// The item as an entry of the wanted kind, if it is one.
fn candidate(item: Item, want: Want) -> Option<Node> {
    match (item, want) {
        (Item::TaskDefinition(n, _), Want::TaskDefinition)
        | (Item::Service(n), Want::Service)
        | (Item::Cluster(n), Want::Cluster)
        | (Item::Provider(Some(n), _), Want::Group)
        | (Item::Scaling(_, Scaling::TargetTracking(n)), Want::TargetTracking)
        | (Item::Scaling(_, Scaling::StepScaling(n)), Want::StepScaling) => Some(n),
        _ => None,
    }
}

/// Container instances as a cluster fragment: one instance group per kind of instance.
fn groups_of(list: &[Instance], origin: &Origin) -> Node {
    let groups = super::import::group_instances(list)
        .into_iter()
        .enumerate()
        .map(|(i, g)| g.node(&format!("instances-{}", i + 1), origin))
        .collect();
    Node {
        kind: Kind::Table(vec![(
            "instance_groups".into(),
            origin.clone(),
            Node {
                kind: Kind::Array(groups),
                origin: origin.clone(),
            },
        )]),
        origin: origin.clone(),
    }
}

/// The one candidate, or the one the TOML names; an error otherwise.
fn choose(
    cx: &mut Cx<'_>,
    mut candidates: Vec<Node>,
    toml: &Entries,
    want: Want,
    origin: &Origin,
    path: &str,
    found: &[&str],
) -> Option<Node> {
    let key = want.name_key();
    let named = |n: &Node| match &n.kind {
        Kind::Table(t) => t.iter().find(|e| e.0 == key).and_then(|e| match &e.2.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => None,
        }),
        _ => None,
    };
    let wanted = toml
        .iter()
        .find(|e| e.0 == key)
        .and_then(|e| match &e.2.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => None,
        });
    match candidates.len() {
        0 => {
            cx.error(
                origin,
                path,
                format!(
                    "no {} in the file (it holds {})",
                    want.what(),
                    list_or_nothing(found)
                ),
            );
            None
        }
        1 => candidates.pop(),
        _ => {
            let names: Vec<String> = candidates.iter().filter_map(named).collect();
            match wanted.and_then(|w| {
                candidates
                    .into_iter()
                    .find(|c| named(c).as_deref() == Some(&w))
            }) {
                Some(c) => Some(c),
                None => {
                    cx.error(origin, path, format!("the file holds {} {}s ({}); choose one with {key} = \"...\" beside file", names.len(), want.what(), names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")));
                    None
                }
            }
        }
    }
}

fn list_or_nothing(found: &[&str]) -> String {
    if found.is_empty() {
        "nothing ecsim can use".into()
    } else {
        found.join(", ")
    }
}

/// Put `base`'s keys under `top`: a key `top` has keeps `top`'s value.
fn merge_under(top: &mut Entries, base: Entries) {
    let mut out: Entries = base
        .into_iter()
        .filter(|(k, _, _)| !top.iter().any(|t| &t.0 == k))
        .collect();
    out.append(top);
    *top = out;
}

/// A JSON file's name as shown in messages: relative to the scenario's folder.
fn shown_path(scenario: &str, name: &str) -> String {
    let p = std::path::Path::new(name);
    if p.is_absolute() {
        return name.to_string();
    }
    match std::path::Path::new(scenario).parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join(p).display().to_string(),
        _ => name.to_string(),
    }
}
