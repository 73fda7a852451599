//! What an ECS JSON file holds: every shape of issue 13 recognised, CloudFormation templates
//! included, and files that hold no definition rejected with the reason.

use super::cluster::{self, Instance};
use super::json;
use super::obj::{Notes, Obj, diag};
use super::scaling::{self, Resource, Scaling};
use super::{service, task_definition};
use crate::scenario::tree::{Kind, Node, Origin};

/// One definition found in a file, mapped onto the scenario's fields.
#[derive(Debug, Clone)]
pub enum Item {
    /// A `[[task_definitions]]` entry (a bare `containerDefinitions` array has no `family`),
    /// and whether it requires Fargate alone.
    TaskDefinition(Node, bool),
    /// A `[[services]]` entry.
    Service(Node),
    /// A `[[clusters]]` entry (name, capacity providers, default strategy).
    Cluster(Node),
    /// A capacity provider: an instance group fragment, or `None` for FARGATE/FARGATE_SPOT;
    /// and its name.
    Provider(Option<Node>, String),
    /// Container instances.
    Instances(Vec<Instance>, Origin),
    /// A scalable target or a scaling policy, and the service it is for.
    Scaling(Resource, Scaling),
}

impl Item {
    /// What the item is, in words.
    pub fn what(&self) -> &'static str {
        match self {
            Item::TaskDefinition(..) => "a task definition",
            Item::Service(_) => "a service",
            Item::Cluster(_) => "a cluster",
            Item::Provider(..) => "a capacity provider",
            Item::Instances(..) => "container instances",
            Item::Scaling(_, Scaling::Target(_)) => "a scalable target",
            Item::Scaling(..) => "a scaling policy",
        }
    }
}

/// A file read: what it holds, and the warnings and errors found.
#[derive(Debug)]
pub struct Document {
    /// The definitions, in file order.
    pub items: Vec<Item>,
    /// Warnings and errors.
    pub notes: Notes,
}

/// Read ECS JSON text. `file` names it in positions; `stem` names a bare configuration.
pub fn read(file: &str, src: &str) -> Document {
    let mut notes = Notes::default();
    let mut items = Vec::new();
    match json::parse(file, src) {
        Err(d) => notes.errors.push(d),
        Ok(root) => {
            let stem = stem(file);
            shapes(&root, &stem, &mut items, &mut notes);
            if items.is_empty() && notes.errors.is_empty() {
                notes.errors.push(diag(&root.origin, "", "no task definition, service, cluster, capacity provider, container instance, scalable target or scaling policy found in this file"));
            }
        }
    }
    Document { items, notes }
}

/// The file's name without folders and extension: names a bare configuration.
pub fn stem(file: &str) -> String {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    base.strip_suffix(".json").unwrap_or(base).to_string()
}

fn keys(n: &Node) -> Vec<String> {
    match &n.kind {
        Kind::Table(t) => t.iter().map(|(k, _, _)| super::obj::camel(k)).collect(),
        _ => Vec::new(),
    }
}

fn field<'n>(n: &'n Node, name: &str) -> Option<&'n Node> {
    match &n.kind {
        Kind::Table(t) => t
            .iter()
            .find(|(k, _, _)| super::obj::camel(k) == name)
            .map(|e| &e.2),
        _ => None,
    }
}

fn each(n: &Node) -> &[Node] {
    match &n.kind {
        Kind::Array(a) => a,
        _ => &[],
    }
}

/// Recognise the shape of a document (or of a wrapper's content).
fn shapes(root: &Node, stem: &str, items: &mut Vec<Item>, notes: &mut Notes) {
    if let Kind::Array(list) = &root.kind {
        // Terraform's container_definitions: a bare array of container definitions.
        let all_containers = !list.is_empty()
            && list.iter().all(|c| {
                matches!(c.kind, Kind::Table(_))
                    && (field(c, "image").is_some() || field(c, "name").is_some())
            });
        if all_containers {
            items.push(Item::TaskDefinition(
                task_definition::map_containers(list, &root.origin, notes),
                false,
            ));
        } else {
            notes.error(&root.origin, "", "an array that is not a list of container definitions (each an object with a name and an image)");
        }
        return;
    }
    let k = keys(root);
    let has = |name: &str| k.iter().any(|x| x == name);
    let path = "";
    if has("examples") && has("version") {
        notes.error(&root.origin, path, "a botocore examples file (example requests and responses of many API operations), not a definition ecsim can use; copy the input or output you want into a file of its own");
    } else if has("resources")
        && (has("aWSTemplateFormatVersion")
            || matches!(
                field(root, "resources").map(|r| &r.kind),
                Some(Kind::Table(_))
            ))
    {
        super::cloudformation::read(root, items, notes);
    } else if let Some(td) =
        field(root, "taskDefinition").filter(|t| matches!(t.kind, Kind::Table(_)))
    {
        wrapper_rest(root, &["taskDefinition", "tags"], notes);
        push(
            task_definition::map(td, "taskDefinition", notes)
                .map(|(n, f)| Item::TaskDefinition(n, f)),
            items,
        );
    } else if has("containerDefinitions") || has("family") {
        push(
            task_definition::map(root, path, notes).map(|(n, f)| Item::TaskDefinition(n, f)),
            items,
        );
    } else if let Some(list) = field(root, "services") {
        wrapper_rest(root, &["services", "failures"], notes);
        for (i, s) in each(list).iter().enumerate() {
            push(
                service::map(s, &format!("services[{i}]"), notes).map(Item::Service),
                items,
            );
        }
    } else if let Some(s) = field(root, "service") {
        push(service::map(s, "service", notes).map(Item::Service), items);
    } else if has("serviceName") {
        push(service::map(root, path, notes).map(Item::Service), items);
    } else {
        cluster_shapes(root, stem, &has, items, notes);
    }
}

/// Clusters, capacity providers and container instances; else the scaling shapes.
fn cluster_shapes(
    root: &Node,
    stem: &str,
    has: &dyn Fn(&str) -> bool,
    items: &mut Vec<Item>,
    notes: &mut Notes,
) {
    let path = "";
    if let Some(list) = field(root, "clusters") {
        wrapper_rest(root, &["clusters", "failures"], notes);
        for (i, c) in each(list).iter().enumerate() {
            push(
                cluster::map_cluster(c, &format!("clusters[{i}]"), notes).map(Item::Cluster),
                items,
            );
        }
    } else if let Some(c) = field(root, "cluster") {
        push(
            cluster::map_cluster(c, "cluster", notes).map(Item::Cluster),
            items,
        );
    } else if has("clusterName") {
        push(
            cluster::map_cluster(root, path, notes).map(Item::Cluster),
            items,
        );
    } else if let Some(list) = field(root, "capacityProviders")
        .filter(|l| each(l).iter().all(|x| matches!(x.kind, Kind::Table(_))))
    {
        wrapper_rest(root, &["capacityProviders", "failures", "nextToken"], notes);
        for (i, c) in each(list).iter().enumerate() {
            push(
                cluster::map_provider(c, &format!("capacityProviders[{i}]"), notes)
                    .map(|(g, n)| Item::Provider(g, n)),
                items,
            );
        }
    } else if let Some(c) = field(root, "capacityProvider") {
        push(
            cluster::map_provider(c, "capacityProvider", notes).map(|(g, n)| Item::Provider(g, n)),
            items,
        );
    } else if has("autoScalingGroupProvider") {
        push(
            cluster::map_provider(root, path, notes).map(|(g, n)| Item::Provider(g, n)),
            items,
        );
    } else if let Some(list) = field(root, "containerInstances") {
        wrapper_rest(root, &["containerInstances", "failures"], notes);
        let found: Vec<Instance> = each(list)
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                cluster::map_instance(c, &format!("containerInstances[{i}]"), notes)
            })
            .collect();
        if !found.is_empty() {
            items.push(Item::Instances(found, list.origin.clone()));
        }
    } else {
        scaling_shapes(root, stem, has, items, notes);
    }
}

fn scaling_shapes(
    root: &Node,
    stem: &str,
    has: &dyn Fn(&str) -> bool,
    items: &mut Vec<Item>,
    notes: &mut Notes,
) {
    let policy = |n: &Node, p: &str, notes: &mut Notes| {
        scaling::map_policy(n, p, stem, notes).map(|(r, s)| Item::Scaling(r, s))
    };
    if let Some(list) = field(root, "scalingPolicies") {
        wrapper_rest(root, &["scalingPolicies", "nextToken"], notes);
        for (i, s) in each(list).iter().enumerate() {
            let p = format!("{}[{i}]", key_as_written(root, "scalingPolicies"));
            push(policy(s, &p, notes), items);
        }
    } else if let Some(list) = field(root, "scalableTargets") {
        wrapper_rest(root, &["scalableTargets", "nextToken"], notes);
        for (i, s) in each(list).iter().enumerate() {
            let p = format!("{}[{i}]", key_as_written(root, "scalableTargets"));
            push(
                scaling::map_target(s, &p, notes).map(|(r, s)| Item::Scaling(r, s)),
                items,
            );
        }
    } else if has("targetTrackingScalingPolicyConfiguration")
        || has("stepScalingPolicyConfiguration")
        || has("targetValue")
        || has("stepAdjustments")
        || has("predictiveScalingPolicyConfiguration")
    {
        push(policy(root, "", notes), items);
    } else if has("minCapacity") || has("maxCapacity") {
        push(
            scaling::map_target(root, "", notes).map(|(r, s)| Item::Scaling(r, s)),
            items,
        );
    } else if has("tasks") {
        notes.error(&root.origin, "", "a RunTask or DescribeTasks output: it describes tasks that ran, not a definition ecsim can use; import their task definition (aws ecs describe-task-definition) instead");
    } else {
        let mut k: Vec<String> = match &root.kind {
            Kind::Table(t) => t.iter().map(|(k, _, _)| k.clone()).collect(),
            _ => Vec::new(),
        };
        k.truncate(8);
        notes.error(&root.origin, "", format!("not an ECS definition ecsim knows (top-level keys: {}); expected a task definition, service, cluster, capacity provider, container instances, scalable target or scaling policy (see docs/ecs-json.md)", k.join(", ")));
    }
}

fn key_as_written(n: &Node, name: &str) -> String {
    match &n.kind {
        Kind::Table(t) => t
            .iter()
            .find(|(k, _, _)| super::obj::camel(k) == name)
            .map_or(name.to_string(), |e| e.0.clone()),
        _ => name.to_string(),
    }
}

/// Warn about keys beside a wrapper's content other than those expected.
fn wrapper_rest(root: &Node, expected: &[&str], notes: &mut Notes) {
    if let Some(mut o) = Obj::new(root, "", notes) {
        o.ignore(expected);
        o.finish(notes);
    }
}

fn push(item: Option<Item>, items: &mut Vec<Item>) {
    if let Some(i) = item {
        items.push(i);
    }
}
