//! `ecsim import`: ECS JSON files to a complete, commented scenario. The values are the same
//! ones a scenario's `file = "..."` gives (one mapping); what ECS does not say (how long to
//! run, the load, instance types of capacity providers, step scaling alarms, jobs' run times)
//! is a placeholder marked `# PLACEHOLDER` for the user to edit.

use super::cluster::Instance;
use super::document::{self, Item, stem};
use super::scaling::{Resource, Scaling};
use crate::scenario::read::{Diagnostic, NameRule};
use crate::scenario::tree::{Kind, Node, Origin};

/// The scenario written by an import.
#[derive(Debug)]
pub struct Imported {
    /// The scenario's TOML text.
    pub toml: String,
    /// Warnings: fields not modelled, template expressions, unknown fields.
    pub warnings: Vec<Diagnostic>,
}

/// The first line of every scenario `ecsim import` writes: how the CLI knows it may replace
/// the file.
pub const HEADER: &str = "# Written by `ecsim import`";

/// Container instances of one kind: an instance group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// The instance's facts (type, OS, architecture, registered size, custom attributes).
    pub kind: Instance,
    /// Availability Zones, in first-seen order.
    pub zones: Vec<String>,
    /// How many.
    pub count: usize,
}

impl GroupSpec {
    /// The custom instance type's name for instances that do not say their type.
    pub fn custom_type(&self) -> String {
        format!("registered-{}cpu-{}mib", self.kind.cpu, self.kind.memory)
    }

    /// The group as a `[[clusters.instance_groups]]` entry.
    pub fn node(&self, name: &str, origin: &Origin) -> Node {
        let s = |v: &str| Node {
            kind: Kind::Str(v.into()),
            origin: origin.clone(),
        };
        let mut t = vec![("name".to_string(), origin.clone(), s(name))];
        let ty = self
            .kind
            .instance_type
            .clone()
            .unwrap_or_else(|| self.custom_type());
        t.push(("instance_type".into(), origin.clone(), s(&ty)));
        t.push((
            "count".into(),
            origin.clone(),
            Node {
                kind: Kind::Int(self.count as i64),
                origin: origin.clone(),
            },
        ));
        if !self.zones.is_empty() {
            let z = self.zones.iter().map(|z| s(z)).collect();
            t.push((
                "availability_zones".into(),
                origin.clone(),
                Node {
                    kind: Kind::Array(z),
                    origin: origin.clone(),
                },
            ));
        }
        if self.kind.windows {
            t.push((
                "os_family".into(),
                origin.clone(),
                s("WINDOWS_SERVER_2022_FULL"),
            ));
        }
        if !self.kind.attributes.is_empty() {
            let a = self
                .kind
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), origin.clone(), s(v)))
                .collect();
            t.push((
                "attributes".into(),
                origin.clone(),
                Node {
                    kind: Kind::Table(a),
                    origin: origin.clone(),
                },
            ));
        }
        Node {
            kind: Kind::Table(t),
            origin: origin.clone(),
        }
    }
}

/// Container instances grouped by kind, in first-seen order.
pub fn group_instances(list: &[Instance]) -> Vec<GroupSpec> {
    let mut groups: Vec<GroupSpec> = Vec::new();
    for i in list {
        let mut kind = i.clone();
        kind.zone = None;
        let g = match groups.iter_mut().position(|g| g.kind == kind) {
            Some(p) => &mut groups[p],
            None => {
                groups.push(GroupSpec {
                    kind,
                    zones: Vec::new(),
                    count: 0,
                });
                groups.last_mut().expect("pushed")
            }
        };
        g.count += 1;
        if let Some(z) = &i.zone
            && !g.zones.contains(z)
        {
            g.zones.push(z.clone());
        }
    }
    groups
}

/// Import ECS JSON files, given as (name, text). `name` is the scenario's name. Every file's
/// problems are reported (`Err`) before anything is written.
pub fn import(
    files: &[(String, String)],
    name: &str,
) -> Result<Imported, (Vec<Diagnostic>, Vec<Diagnostic>)> {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut b = Builder::default();
    for (file, text) in files {
        let doc = document::read(file, text);
        warnings.extend(doc.notes.warnings);
        errors.extend(doc.notes.errors);
        for item in doc.items {
            b.add(item, &stem(file));
        }
    }
    if errors.is_empty() && b.task_definitions.is_empty() && b.services.is_empty() {
        let holds: Vec<&str> = b.held.clone();
        errors.push(Diagnostic {
            file: files.first().map(|f| f.0.clone()).unwrap_or_default(),
            line: 1,
            column: 1,
            path: String::new(),
            message: format!("no task definition or service among the files (they hold {}): a scenario needs something to run; import them together with the task definitions and services they are for", if holds.is_empty() { "nothing ecsim can use".to_string() } else { holds.join(", ") }),
            from_set: None,
        });
    }
    if !errors.is_empty() {
        return Err((errors, warnings));
    }
    Ok(Imported {
        toml: b.write(name, files),
        warnings,
    })
}

#[derive(Default)]
struct Builder {
    task_definitions: Vec<Node>,
    services: Vec<Node>,
    clusters: Vec<Node>,
    groups: Vec<Node>,
    fargate_providers: Vec<String>,
    instances: Vec<Instance>,
    scaling: Vec<(Resource, Scaling)>,
    /// Custom instance types for container instances that do not say their type.
    custom_types: Vec<(String, i64, i64)>,
    /// Scaling targets and policies of services that were not imported.
    dropped: Vec<String>,
    /// What the files hold, in words.
    held: Vec<&'static str>,
    /// Task definitions whose `requiresCompatibilities` is FARGATE alone.
    fargate_families: Vec<String>,
}

fn get<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    match &n.kind {
        Kind::Table(t) => t.iter().find(|e| e.0 == key).map(|e| &e.2),
        _ => None,
    }
}

fn get_str(n: &Node, key: &str) -> Option<String> {
    match &get(n, key)?.kind {
        Kind::Str(s) => Some(s.clone()),
        _ => None,
    }
}

fn set(n: &mut Node, key: &str, v: Kind) {
    if let Kind::Table(t) = &mut n.kind {
        let node = Node {
            kind: v,
            origin: n.origin.clone(),
        };
        match t.iter_mut().find(|e| e.0 == key) {
            Some(e) => e.2 = node,
            None => t.push((key.into(), n.origin.clone(), node)),
        }
    }
}

/// A name that follows ECS's rule, made from a file name.
fn ecs_name(s: &str) -> String {
    let n: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(255)
        .collect();
    if n.is_empty() { "imported".into() } else { n }
}

impl Builder {
    fn add(&mut self, item: Item, stem: &str) {
        if !self.held.contains(&item.what()) {
            self.held.push(item.what());
        }
        match item {
            Item::TaskDefinition(mut n, fargate_only) => {
                if get_str(&n, "family").is_none() {
                    set(&mut n, "family", Kind::Str(ecs_name(stem)));
                }
                if fargate_only && let Some(f) = get_str(&n, "family") {
                    self.fargate_families.push(f);
                }
                self.task_definitions.push(n);
            }
            Item::Service(n) => self.services.push(n),
            Item::Cluster(n) => self.clusters.push(n),
            Item::Provider(Some(g), _) => self.groups.push(g),
            Item::Provider(None, name) => self.fargate_providers.push(name),
            Item::Instances(list, _) => self.instances.extend(list),
            Item::Scaling(r, s) => self.scaling.push((r, s)),
        }
    }
}

/// A comment before a key: `(path, text)`.
type Comments = Vec<(String, String)>;

const PLACEHOLDER: &str = "PLACEHOLDER: ";

impl Builder {
    fn write(mut self, name: &str, files: &[(String, String)]) -> String {
        let mut c: Comments = Vec::new();
        self.complete_task_definitions(&mut c);
        let clusters = self.cluster_nodes(&mut c);
        self.attach_scaling(&mut c);
        let mut out = String::new();
        out.push_str(HEADER);
        out.push_str(" from:\n");
        for (f, _) in files {
            out.push_str(&format!("#   {}\n", comment_text(f)));
        }
        out.push_str("# Values marked PLACEHOLDER are not in ECS JSON: a simulation needs them, so check each one.\n");
        out.push_str("# Field reference: docs/scenario.md; what is read from ECS JSON: docs/ecs-json.md.\n\n");
        out.push_str("schema_version = 1\n");
        out.push_str(&format!("name = {}\n\n", toml_str(name)));
        out.push_str("[simulation]\n");
        out.push_str(&format!(
            "# {PLACEHOLDER}how long to simulate\nduration = \"2h\"\n"
        ));
        let has_jobs = self.services.is_empty();
        if !self.dropped.is_empty() {
            out.push_str(&format!(
                "\n# Left out: scaling for services not among the imported files: {}\n",
                comment_text(&self.dropped.join(", "))
            ));
        }
        for (name, cpu, mem) in &self.custom_types {
            out.push_str("\n[[instance_types]]\n");
            out.push_str("# The container instances do not say their EC2 type: a type with their registered CPU and memory.\n");
            out.push_str(&format!(
                "name = {}\ncpu_units = {cpu}\nmemory_mib = {mem}\nregistered_memory_mib = {mem}\n",
                toml_str(name)
            ));
            out.push_str(&format!(
                "# {PLACEHOLDER}the On-Demand price, USD per hour\nprice_per_hour_usd = 0\n"
            ));
        }
        write_list(&mut out, "clusters", &clusters, &c);
        write_list(&mut out, "task_definitions", &self.task_definitions, &c);
        write_list(&mut out, "services", &self.services, &c);
        if has_jobs {
            let jobs = self.job_nodes(&mut c);
            write_list(&mut out, "jobs", &jobs, &c);
        }
        out
    }

    /// Task definitions that services name but no file gave: placeholders.
    fn complete_task_definitions(&mut self, c: &mut Comments) {
        for (i, s) in self.services.iter_mut().enumerate() {
            let family = match get_str(s, "task_definition") {
                Some(f) => f,
                None => {
                    let f = self
                        .task_definitions
                        .first()
                        .and_then(|t| get_str(t, "family"))
                        .unwrap_or_else(|| "app".into());
                    set(s, "task_definition", Kind::Str(f.clone()));
                    c.push((
                        format!("services[{i}].task_definition"),
                        format!("{PLACEHOLDER}the service's JSON names no task definition"),
                    ));
                    f
                }
            };
            if get(s, "desired_count").is_none()
                && get_str(s, "scheduling_strategy").as_deref() != Some("DAEMON")
            {
                set(s, "desired_count", Kind::Int(1));
                c.push((
                    format!("services[{i}].desired_count"),
                    format!("{PLACEHOLDER}the service's JSON gives no desired count"),
                ));
            }
            if !self
                .task_definitions
                .iter()
                .any(|t| get_str(t, "family").as_deref() == Some(&family))
            {
                let k = self.task_definitions.len();
                let origin = s.origin.clone();
                let fargate = get_str(s, "launch_type").as_deref() == Some("FARGATE")
                    || matches!(get(s, "capacity_provider_strategy").map(|n| &n.kind), Some(Kind::Array(a)) if a.iter().any(|x| get_str(x, "capacity_provider").is_some_and(|p| p.starts_with("FARGATE"))));
                let mode = if fargate {
                    "\nnetwork_mode = \"awsvpc\""
                } else {
                    ""
                };
                let td = toml_node(
                    &format!(
                        "family = {}\ncpu = 256\nmemory = 512{mode}\ncontainers = [{{ name = \"app\", memory = 512 }}]",
                        toml_str(&family)
                    ),
                    &origin,
                );
                c.push((format!("task_definitions[{k}]"), format!("{PLACEHOLDER}task definition \"{family}\" was not among the imported files: its size is a guess")));
                self.task_definitions.push(td);
            }
        }
    }

    /// The clusters, with the instance groups of what was imported (on the first).
    fn cluster_nodes(&mut self, c: &mut Comments) -> Vec<Node> {
        let mut clusters = self.cluster_list();
        let mut named = provider_names(&clusters);
        // Providers the services' and the clusters' strategies use must be associated too.
        for n in clusters.iter().chain(&self.services) {
            for key in [
                "capacity_provider_strategy",
                "default_capacity_provider_strategy",
            ] {
                if let Some(Kind::Array(items)) = get(n, key).map(|x| &x.kind) {
                    for p in items.iter().filter_map(|i| get_str(i, "capacity_provider")) {
                        if !named.contains(&p) {
                            named.push(p);
                        }
                    }
                }
            }
        }
        let groups = self.group_list(&named, c);
        self.place_groups(&mut clusters, groups, &named, c);
        clusters
    }

    /// The imported clusters, and one for each cluster a service names that was not imported.
    fn cluster_list(&mut self) -> Vec<Node> {
        let mut clusters = std::mem::take(&mut self.clusters);
        for s in &self.services {
            if let Some(cl) = get_str(s, "cluster")
                && !clusters
                    .iter()
                    .any(|x| get_str(x, "name").as_deref() == Some(&cl))
            {
                clusters.push(toml_node(&format!("name = {}", toml_str(&cl)), &s.origin));
            }
        }
        if clusters.is_empty() {
            clusters.push(toml_node("name = \"default\"", &Origin::Unknown));
        }
        clusters
    }

    /// Instance groups: container instances, then capacity providers (described or only
    /// named by a cluster), with placeholders for what ECS JSON does not say.
    fn group_list(&mut self, named: &[String], c: &mut Comments) -> Vec<Node> {
        // Groups: container instances, then capacity providers, go to the first cluster.
        let mut groups: Vec<Node> = group_instances(&self.instances)
            .iter()
            .enumerate()
            .map(|(i, g)| g.node(&format!("instances-{}", i + 1), &Origin::Unknown))
            .collect();
        let custom: Vec<(String, i64, i64)> = group_instances(&self.instances)
            .iter()
            .filter(|g| g.kind.instance_type.is_none())
            .map(|g| (g.custom_type(), g.kind.cpu, g.kind.memory))
            .collect();
        let mut providers = std::mem::take(&mut self.groups);
        for n in named {
            if n != "FARGATE"
                && n != "FARGATE_SPOT"
                && !providers
                    .iter()
                    .any(|g| get_str(g, "capacity_provider").as_deref() == Some(n))
            {
                providers.push(toml_node(
                    &format!(
                        "name = {0}\ncapacity_provider = {0}",
                        toml_str(&ecs_name(n))
                    ),
                    &Origin::Unknown,
                ));
            }
        }
        let first_group = groups.len();
        for mut g in providers {
            // ECS JSON describes the provider, not its Auto Scaling group.
            let managed = get(&g, "managed_scaling").is_some();
            set(&mut g, "instance_type", Kind::Str(self.placeholder_type()));
            set(&mut g, "count", Kind::Int(2));
            if managed {
                set(&mut g, "max_size", Kind::Int(10));
            }
            groups.push(g);
        }
        for (k, g) in groups.iter().enumerate().skip(first_group) {
            let managed = get(g, "managed_scaling").is_some();
            c.push((
                format!("clusters[0].instance_groups[{k}].instance_type"),
                format!("{PLACEHOLDER}the Auto Scaling group's instance type (not in ECS JSON)"),
            ));
            c.push((
                format!("clusters[0].instance_groups[{k}].count"),
                format!("{PLACEHOLDER}the group's desired capacity at the start"),
            ));
            if managed {
                c.push((
                    format!("clusters[0].instance_groups[{k}].max_size"),
                    format!("{PLACEHOLDER}the Auto Scaling group's maximum size"),
                ));
            }
        }
        if groups.is_empty() {
            let fargate_only = !self.services.is_empty()
                && self
                    .services
                    .iter()
                    .all(|s| get_str(s, "launch_type").as_deref() == Some("FARGATE"));
            let count = if fargate_only { 0 } else { 3 };
            groups.push(toml_node(&format!("name = \"default\"\ninstance_type = {}\ncount = {count}\navailability_zones = [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]", toml_str(&self.placeholder_type())), &Origin::Unknown));
            c.push(("clusters[0].instance_groups[0]".into(), format!("{PLACEHOLDER}no container instances or capacity providers were imported: the cluster's EC2 capacity is a guess")));
        }
        self.custom_types = custom;
        groups
    }

    /// The groups go to the first cluster, with the providers it lists; other clusters get a
    /// placeholder group.
    fn place_groups(
        &self,
        clusters: &mut [Node],
        mut groups: Vec<Node>,
        named: &[String],
        c: &mut Comments,
    ) {
        for (i, cl) in clusters.iter_mut().enumerate() {
            if i == 0 {
                if let Kind::Table(t) = &mut cl.kind {
                    t.push((
                        "instance_groups".into(),
                        Origin::Unknown,
                        Node {
                            kind: Kind::Array(std::mem::take(&mut groups)),
                            origin: Origin::Unknown,
                        },
                    ));
                }
                let mut listed: Vec<String> = named.to_vec();
                for f in &self.fargate_providers {
                    if !listed.contains(f) {
                        listed.push(f.clone());
                    }
                }
                if !listed.is_empty() {
                    set(
                        cl,
                        "capacity_providers",
                        Kind::Array(
                            listed
                                .iter()
                                .map(|s| Node {
                                    kind: Kind::Str(s.clone()),
                                    origin: Origin::Unknown,
                                })
                                .collect(),
                        ),
                    );
                }
            } else if get(cl, "instance_groups").is_none() {
                set(cl, "instance_type", Kind::Str(self.placeholder_type()));
                set(cl, "count", Kind::Int(3));
                c.push((
                    format!("clusters[{i}].instance_type"),
                    format!("{PLACEHOLDER}this cluster's instances were not imported"),
                ));
            }
        }
    }

    fn attach_scaling(&mut self, c: &mut Comments) {
        let scaling = std::mem::take(&mut self.scaling);
        let names: Vec<Option<String>> = self.services.iter().map(|s| get_str(s, "name")).collect();
        let mut per_service: Vec<Vec<Scaling>> = vec![Vec::new(); self.services.len()];
        for (r, s) in scaling {
            let idx = match &r.service {
                Some(n) => names.iter().position(|x| x.as_deref() == Some(n)),
                None => None,
            }
            .or((self.services.len() == 1).then_some(0));
            match idx {
                Some(i) => per_service[i].push(s),
                None => self.dropped.push(r.service.unwrap_or_default()),
            }
        }
        for (i, list) in per_service.into_iter().enumerate() {
            if !list.is_empty() {
                self.auto_scaling(i, list, c);
            }
        }
    }

    /// Service `i`'s `auto_scaling` from its targets and policies, with placeholders for the
    /// bounds, step scaling alarms and the load the policies need.
    fn auto_scaling(&mut self, i: usize, list: Vec<Scaling>, c: &mut Comments) {
        let p = format!("services[{i}]");
        let origin = self.services[i].origin.clone();
        let mut a: Vec<(String, Origin, Node)> = Vec::new();
        let (mut tt, mut ss) = (Vec::new(), Vec::new());
        for s in list {
            match s {
                Scaling::Target(Node {
                    kind: Kind::Table(t),
                    ..
                }) => {
                    for e in t {
                        a.retain(|x| x.0 != e.0);
                        a.push(e);
                    }
                }
                Scaling::Target(_) => {}
                Scaling::TargetTracking(n) => tt.push(n),
                Scaling::StepScaling(n) => ss.push(n),
            }
        }
        let desired = match get(&self.services[i], "desired_count").map(|n| &n.kind) {
            Some(Kind::Int(d)) => *d,
            _ => 1,
        };
        if !a.iter().any(|e| e.0 == "min_capacity") {
            a.push((
                "min_capacity".into(),
                origin.clone(),
                Node {
                    kind: Kind::Int(desired.min(1)),
                    origin: origin.clone(),
                },
            ));
            c.push((
                format!("{p}.auto_scaling.min_capacity"),
                format!("{PLACEHOLDER}no scalable target was imported"),
            ));
        }
        if !a.iter().any(|e| e.0 == "max_capacity") {
            a.push((
                "max_capacity".into(),
                origin.clone(),
                Node {
                    kind: Kind::Int((desired * 4).max(4)),
                    origin: origin.clone(),
                },
            ));
            c.push((
                format!("{p}.auto_scaling.max_capacity"),
                format!("{PLACEHOLDER}no scalable target was imported"),
            ));
        }
        for (j, s) in ss.iter_mut().enumerate() {
            let up = step_direction_up(s);
            let alarm = if up {
                "{ metric = \"CPUUtilization\", comparison = \">=\", threshold = 75 }"
            } else {
                "{ metric = \"CPUUtilization\", comparison = \"<=\", threshold = 25 }"
            };
            if let Kind::Table(t) = &mut s.kind {
                let n = toml_node(&format!("alarm = {alarm}"), &origin);
                if let Kind::Table(mut x) = n.kind {
                    t.append(&mut x);
                }
            }
            c.push((format!("{p}.auto_scaling.step_scaling[{j}].alarm"), format!("{PLACEHOLDER}the CloudWatch alarm that triggers this policy is not in Application Auto Scaling's JSON: give its metric, comparison and threshold")));
        }
        if !tt.is_empty() {
            a.push((
                "target_tracking".into(),
                origin.clone(),
                Node {
                    kind: Kind::Array(tt),
                    origin: origin.clone(),
                },
            ));
        }
        if !ss.is_empty() {
            a.push((
                "step_scaling".into(),
                origin.clone(),
                Node {
                    kind: Kind::Array(ss),
                    origin: origin.clone(),
                },
            ));
        }
        set(&mut self.services[i], "auto_scaling", Kind::Table(a));
        if get(&self.services[i], "load").is_none() {
            let l = toml_node(
                "load = { components = [{ type = \"constant\", rps = 500 }], requests_per_task = 100 }",
                &origin,
            );
            if let (Kind::Table(t), Kind::Table(mut x)) = (&mut self.services[i].kind, l.kind) {
                t.append(&mut x);
            }
            c.push((format!("{p}.load"), format!("{PLACEHOLDER}the requests offered to the service (ECS does not know them); scaling policies act on the metrics it drives")));
        }
    }
}

/// Whether a step scaling policy scales out (its steps add capacity).
fn step_direction_up(s: &Node) -> bool {
    match get(s, "steps").map(|n| &n.kind) {
        Some(Kind::Array(steps)) => steps.iter().any(
            |st| matches!(get(st, "adjustment").map(|n| &n.kind), Some(Kind::Int(a)) if *a > 0),
        ),
        _ => true,
    }
}

impl Builder {
    /// Without services, each task definition runs as a job of standalone tasks.
    fn job_nodes(&self, c: &mut Comments) -> Vec<Node> {
        self.task_definitions
            .iter()
            .enumerate()
            .filter_map(|(i, td)| {
                let family = get_str(td, "family")?;
                let fargate = self.fargate_families.contains(&family);
                let launch = if fargate { "\nlaunch_type = \"FARGATE\"" } else { "" };
                c.push((format!("jobs[{i}].arrival"), format!("{PLACEHOLDER}when tasks of this definition are started (ECS JSON does not say)")));
                c.push((format!("jobs[{i}].run_time"), format!("{PLACEHOLDER}how long each task runs")));
                Some(toml_node(&format!("name = {0}\ntask_definition = {0}\narrival = {{ type = \"poisson\", rate_per_s = 0.05, count = 100 }}\nrun_time = {{ dist = \"exponential\", mean = \"5m\" }}\non_no_capacity = \"wait\"{launch}", toml_str(&family)), &td.origin))
            })
            .collect()
    }
}

/// A snippet of TOML as a table node, every value marked as coming from `origin`.
fn toml_node(src: &str, origin: &Origin) -> Node {
    let mut n = crate::scenario::tree::parse(src).expect("a valid snippet");
    fn mark(n: &mut Node, o: &Origin) {
        n.origin = o.clone();
        match &mut n.kind {
            Kind::Table(t) => t.iter_mut().for_each(|e| {
                e.1 = o.clone();
                mark(&mut e.2, o)
            }),
            Kind::Array(a) => a.iter_mut().for_each(|x| mark(x, o)),
            _ => {}
        }
    }
    mark(&mut n, origin);
    n
}

/// Text made safe for one comment line.
fn comment_text(s: &str) -> String {
    crate::scenario::read::escape_controls(s)
}

/// A TOML basic string.
pub fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key as TOML writes it: bare when it can be, else quoted.
fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml_str(k)
    }
}

/// A value inline.
fn inline(n: &Node) -> String {
    match &n.kind {
        Kind::Str(s) => toml_str(s),
        Kind::Int(i) => i.to_string(),
        Kind::Float(f) => format!("{f:?}"),
        Kind::Bool(b) => b.to_string(),
        Kind::Datetime(d) => d.clone(),
        Kind::Array(a) => format!("[{}]", a.iter().map(inline).collect::<Vec<_>>().join(", ")),
        Kind::Table(t) if t.is_empty() => "{}".into(),
        Kind::Table(t) => format!(
            "{{ {} }}",
            t.iter()
                .map(|(k, _, v)| format!("{} = {}", toml_key(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn comment_for(c: &Comments, path: &str, out: &mut String) {
    for (p, text) in c {
        if p == path {
            out.push_str(&format!("# {}\n", comment_text(text)));
        }
    }
}

/// Whether a value is written as its own section: a table with arrays of tables in it, or an
/// array of tables with more than a few keys.
fn is_section_array(n: &Node) -> bool {
    matches!(&n.kind, Kind::Array(a) if !a.is_empty() && a.iter().all(|x| matches!(x.kind, Kind::Table(_))))
}

/// `[[key]]` entries.
fn write_list(out: &mut String, key: &str, list: &[Node], c: &Comments) {
    for (i, n) in list.iter().enumerate() {
        out.push_str(&format!("\n[[{key}]]\n"));
        let path = format!("{key}[{i}]");
        comment_for(c, &path, out);
        write_table(out, key, &path, n, c);
    }
}

fn write_table(out: &mut String, header: &str, path: &str, n: &Node, c: &Comments) {
    let Kind::Table(t) = &n.kind else { return };
    let sub = |k: &str, v: &Node| {
        matches!(
            k,
            "instance_groups" | "target_tracking" | "step_scaling" | "auto_scaling"
        ) && (is_section_array(v) || matches!(v.kind, Kind::Table(_)))
    };
    for (k, _, v) in t {
        if sub(k, v) {
            continue;
        }
        comment_for(c, &format!("{path}.{k}"), out);
        match &v.kind {
            Kind::Array(a) if is_section_array(v) && a.len() > 1 => {
                out.push_str(&format!("{} = [\n", toml_key(k)));
                for x in a {
                    out.push_str(&format!("  {},\n", inline(x)));
                }
                out.push_str("]\n");
            }
            _ => out.push_str(&format!("{} = {}\n", toml_key(k), inline(v))),
        }
    }
    for (k, _, v) in t {
        if !sub(k, v) {
            continue;
        }
        let h = format!("{header}.{k}");
        let p = format!("{path}.{k}");
        match &v.kind {
            Kind::Array(a) => {
                for (j, x) in a.iter().enumerate() {
                    out.push_str(&format!("\n[[{h}]]\n"));
                    let pj = format!("{p}[{j}]");
                    comment_for(c, &pj, out);
                    write_table(out, &h, &pj, x, c);
                }
            }
            _ => {
                out.push_str(&format!("\n[{h}]\n"));
                comment_for(c, &p, out);
                write_table(out, &h, &p, v, c);
            }
        }
    }
}

/// Whether `name` can be a scenario name.
pub fn valid_name(name: &str) -> bool {
    NameRule::Folder.check(name).is_ok()
}

fn int_of(n: &Node, key: &str) -> Option<i64> {
    match get(n, key)?.kind {
        Kind::Int(i) => Some(i),
        _ => None,
    }
}

impl Builder {
    /// The smallest shipped x86_64 instance type that holds every imported task (m5.large if
    /// that does): the placeholder for EC2 capacity ECS JSON does not describe.
    fn placeholder_type(&self) -> String {
        let (mut cpu, mut mem) = (0i64, 0i64);
        for td in &self.task_definitions {
            let containers: &[Node] = match get(td, "containers").map(|n| &n.kind) {
                Some(Kind::Array(a)) => a,
                _ => &[],
            };
            let c = int_of(td, "cpu")
                .unwrap_or_else(|| containers.iter().filter_map(|c| int_of(c, "cpu")).sum());
            let m = int_of(td, "memory").unwrap_or_else(|| {
                containers
                    .iter()
                    .filter_map(|c| int_of(c, "memory_reservation").or_else(|| int_of(c, "memory")))
                    .sum()
            });
            cpu = cpu.max(c);
            mem = mem.max(m);
        }
        let mut types: Vec<_> = crate::catalog::builtin()
            .into_iter()
            .filter(|t| t.architecture == "x86_64")
            .filter(|t| {
                i64::from(t.cpu_units) >= cpu
                    && i64::from(t.registered_memory_mib(false, None, 0)) >= mem
            })
            .collect();
        types.sort_by_key(|t| (t.name != "m5.large", t.cpu_units, t.memory_mib));
        types
            .first()
            .map_or_else(|| "m5.large".into(), |t| t.name.clone())
    }
}

/// Capacity providers the clusters list.
fn provider_names(clusters: &[Node]) -> Vec<String> {
    clusters
        .iter()
        .flat_map(|cl| match get(cl, "capacity_providers").map(|n| &n.kind) {
            Some(Kind::Array(a)) => a
                .iter()
                .filter_map(|x| {
                    if let Kind::Str(s) = &x.kind {
                        Some(s.clone())
                    } else {
                        None
                    }
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_instances_grouped_by_kind() {
        assert_eq!(toml_str("a\"b\\c\n\u{1b}"), "\"a\\\"b\\\\c\\n\\u001B\"");
        let parsed =
            crate::scenario::tree::parse(&format!("k = {}", toml_str("x\"\u{7f}y"))).unwrap();
        assert!(
            format!("{parsed:?}").contains("x\\\"\\u{7f}y"),
            "{parsed:?}"
        );
        let i = |ty: &str, zone: &str| Instance {
            instance_type: Some(ty.into()),
            zone: Some(zone.into()),
            windows: false,
            arm64: false,
            cpu: 2048,
            memory: 7680,
            attributes: Vec::new(),
        };
        let g = group_instances(&[
            i("m5.large", "a"),
            i("c5.large", "a"),
            i("m5.large", "b"),
            i("m5.large", "a"),
        ]);
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[0].count, g[0].zones.clone()),
            (3, vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(g[1].count, 1);
    }
}
