//! CloudFormation templates (JSON): `AWS::ECS::TaskDefinition`, `AWS::ECS::Service`,
//! `AWS::ECS::Cluster`, `AWS::ECS::CapacityProvider` and `AWS::ApplicationAutoScaling::*`
//! resources, whose properties are the API's fields in PascalCase. A `Ref` to another resource
//! of the template becomes that resource's name; other intrinsic functions (`Fn::Sub`,
//! `Fn::Join`, parameters) are not evaluated: the field is left out with a warning.

use super::document::Item;
use super::obj::{Notes, Obj};
use super::{cluster, scaling, service, task_definition};
use crate::scenario::tree::{Kind, Node};

/// Read the resources of a template.
pub fn read(root: &Node, items: &mut Vec<Item>, notes: &mut Notes) {
    let Some(mut t) = Obj::new(root, "", notes) else {
        return;
    };
    t.ignore(&[
        "aWSTemplateFormatVersion",
        "description",
        "parameters",
        "outputs",
        "conditions",
        "mappings",
        "metadata",
        "transform",
    ]);
    let Some((_, res)) = t.get("resources") else {
        return;
    };
    t.finish(notes);
    let Kind::Table(entries) = &res.kind else {
        notes.error(&res.origin, "Resources", "expected an object of resources");
        return;
    };
    let names = resource_names(entries);
    for (id, _, r) in entries {
        let ty = field_str(r, "Type").unwrap_or_default();
        let Some(props) = field(r, "Properties") else {
            continue;
        };
        let path = format!("Resources.{id}.Properties");
        let props = resolve(props, &path, &names, notes).unwrap_or_else(|| props.clone());
        let item = resource_item(&ty, id, &props, &path, &names, notes);
        if let Some(i) = item {
            items.push(i);
        }
    }
}

/// The item of one resource, by its type.
fn resource_item(
    ty: &str,
    id: &str,
    props: &Node,
    path: &str,
    names: &[(String, String)],
    notes: &mut Notes,
) -> Option<Item> {
    match ty {
        "AWS::ECS::TaskDefinition" => {
            let mut td = task_definition::map(props, path, notes);
            // A task definition without Family is named after its logical id by CloudFormation.
            if let Some((
                Node {
                    kind: Kind::Table(t),
                    ..
                },
                _,
            )) = &mut td
                && !t.iter().any(|e| e.0 == "family")
            {
                let name = names
                    .iter()
                    .find(|n| n.0 == *id)
                    .map(|n| n.1.clone())
                    .unwrap_or_default();
                t.insert(
                    0,
                    (
                        "family".into(),
                        props.origin.clone(),
                        Node {
                            kind: Kind::Str(name),
                            origin: props.origin.clone(),
                        },
                    ),
                );
            }
            td.map(|(n, f)| Item::TaskDefinition(n, f))
        }
        "AWS::ECS::Service" => {
            let mut svc = service::map(props, path, notes);
            if let Some(Node {
                kind: Kind::Table(t),
                ..
            }) = &mut svc
                && !t.iter().any(|e| e.0 == "name")
            {
                t.insert(
                    0,
                    (
                        "name".into(),
                        props.origin.clone(),
                        Node {
                            kind: Kind::Str(id.to_string()),
                            origin: props.origin.clone(),
                        },
                    ),
                );
            }
            svc.map(Item::Service)
        }
        "AWS::ECS::Cluster" => cluster::map_cluster(props, path, notes).map(Item::Cluster),
        "AWS::ECS::CapacityProvider" => cluster::map_provider(&with_name(props, id), path, notes)
            .map(|(g, n)| Item::Provider(g, n)),
        "AWS::ApplicationAutoScaling::ScalableTarget" => {
            scaling::map_target(props, path, notes).map(|(r, s)| Item::Scaling(r, s))
        }
        "AWS::ApplicationAutoScaling::ScalingPolicy" => {
            scaling::map_policy(props, path, id, notes).map(|(r, s)| Item::Scaling(r, s))
        }
        _ => None,
    }
}

fn field<'n>(n: &'n Node, name: &str) -> Option<&'n Node> {
    match &n.kind {
        Kind::Table(t) => t.iter().find(|(k, _, _)| k == name).map(|e| &e.2),
        _ => None,
    }
}

fn field_str(n: &Node, name: &str) -> Option<String> {
    match &field(n, name)?.kind {
        Kind::Str(s) => Some(s.clone()),
        _ => None,
    }
}

/// A capacity provider resource named after its logical id when it has no Name.
fn with_name(props: &Node, id: &str) -> Node {
    let mut p = props.clone();
    if let Kind::Table(t) = &mut p.kind
        && !t.iter().any(|e| e.0 == "Name")
    {
        t.insert(
            0,
            (
                "Name".into(),
                props.origin.clone(),
                Node {
                    kind: Kind::Str(id.into()),
                    origin: props.origin.clone(),
                },
            ),
        );
    }
    p
}

/// Each resource's logical id and the name a `Ref` to it stands for in ecsim: its Family,
/// ClusterName, ServiceName or Name when given as a string, else the logical id.
fn resource_names(
    entries: &[(String, crate::scenario::tree::Origin, Node)],
) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(id, _, r)| {
            let named = field(r, "Properties").and_then(|p| {
                ["Family", "ClusterName", "ServiceName", "Name"]
                    .iter()
                    .find_map(|k| field_str(p, k))
            });
            (id.clone(), named.unwrap_or_else(|| id.clone()))
        })
        .collect()
}

/// The value with intrinsic functions resolved: `{"Ref": "Id"}` of a resource becomes its
/// name; anything else that is a function is left out (`None`) with a warning.
fn resolve(n: &Node, path: &str, names: &[(String, String)], notes: &mut Notes) -> Option<Node> {
    match &n.kind {
        Kind::Table(t) if t.len() == 1 && (t[0].0 == "Ref" || t[0].0.starts_with("Fn::")) => {
            if t[0].0 == "Ref"
                && let Kind::Str(id) = &t[0].2.kind
                && let Some((_, name)) = names.iter().find(|x| x.0 == *id)
            {
                return Some(Node {
                    kind: Kind::Str(name.clone()),
                    origin: n.origin.clone(),
                });
            }
            notes.warn(&n.origin, path, format!("a CloudFormation {} that ecsim does not evaluate (only a Ref to a resource of this template is): left out; give the value in the scenario", t[0].0));
            None
        }
        Kind::Table(t) => Some(Node {
            kind: Kind::Table(
                t.iter()
                    .filter_map(|(k, o, v)| {
                        resolve(v, &format!("{path}.{k}"), names, notes)
                            .map(|v| (k.clone(), o.clone(), v))
                    })
                    .collect(),
            ),
            origin: n.origin.clone(),
        }),
        Kind::Array(a) => Some(Node {
            kind: Kind::Array(
                a.iter()
                    .enumerate()
                    .filter_map(|(i, v)| resolve(v, &format!("{path}[{i}]"), names, notes))
                    .collect(),
            ),
            origin: n.origin.clone(),
        }),
        _ => Some(n.clone()),
    }
}
