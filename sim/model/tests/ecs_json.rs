//! ECS JSON (issue 13): every shape and quirk of real files, `file = "..."` in a scenario, and
//! `import` giving the same results as the JSON named from a scenario.
//!
//! The committed excerpts under `tests/data/ecs-json/` (see SOURCES.md there) carry the key
//! cases; the whole reference folder `../shared/data/taskdefs` is used when present.

use std::path::{Path, PathBuf};

use ecsim_model::scenario::{self, LoadOptions, Scenario, ecs_json};
use ecsim_model::sim::{self, RunOptions};

fn data(name: &str) -> (String, String) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ecs-json")
        .join(name);
    (name.to_string(), std::fs::read_to_string(&p).unwrap())
}

fn doc(name: &str, text: &str) -> ecs_json::Document {
    ecs_json::read(name, text)
}

fn warnings(d: &ecs_json::Document) -> Vec<String> {
    d.notes.warnings.iter().map(|w| w.to_string()).collect()
}

/// Load a scenario whose `file = "..."` names are looked up in `files`.
fn load(src: &str, files: &[(String, String)]) -> Result<Scenario, String> {
    let reader = |name: &str| {
        files
            .iter()
            .find(|f| f.0 == name)
            .map(|f| f.1.clone())
            .ok_or_else(|| format!("{name}: no such file"))
    };
    let opts = LoadOptions {
        read_file: Some(&reader),
        ..LoadOptions::default()
    };
    scenario::load_with("s.toml", src, &opts).map_err(|e| e.to_string())
}

fn run_hash(sc: &Scenario) -> String {
    let (summary, _) = sim::run(
        sc,
        RunOptions {
            seed: sc.seed,
            check_invariants: true,
        },
        ecsim_model::record::NullSink,
    );
    summary.events_hash.clone()
}

const BASE: &str = "schema_version = 1\nname = \"t\"\n[simulation]\nduration = \"1h\"\n[[clusters]]\nname = \"default\"\ninstance_type = \"m5.xlarge\"\ncount = 3\n";

#[test]
fn fargate_sizes_as_strings_and_containers_with_only_memory_reservation() {
    // newrelic (firelens examples): "cpu": "1 vcpu", "memory": "2 gb"; cloudwatch-ec2: only
    // memoryReservation on its containers (ECS-DG task_definition_parameters.html).
    let files = [
        data("newrelic-fargate-taskdef.json"),
        data("cloudwatch-ec2-taskdef.json"),
    ];
    let src = format!(
        "{BASE}[[task_definitions]]\nfile = \"newrelic-fargate-taskdef.json\"\n[[task_definitions]]\nfile = \"cloudwatch-ec2-taskdef.json\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"firelens-example-cloudwatch\"\narrival = {{ type = \"list\", at = [\"0s\"] }}\nrun_time = \"1m\"\n"
    );
    let sc = load(&src, &files).unwrap();
    let nr = &sc.task_definitions[0];
    assert_eq!((nr.cpu_units, nr.memory_mib), (1024, 2048));
    let cw = &sc.task_definitions[1];
    assert_eq!(cw.memory_mib, 150, "the soft limits 50 + 100 are reserved");
}

#[test]
fn wrappers_windows_memberof_and_gpu() {
    let d = doc("d.json", &data("describe-task-definition-output.json").1);
    assert!(
        matches!(d.items[..], [ecs_json::Item::TaskDefinition(..)]),
        "the taskDefinition wrapper"
    );
    assert!(d.notes.errors.is_empty(), "{:?}", d.notes.errors);

    let files = [
        data("webserver-fargate-windows-taskdef.json"),
        data("vt1-3xlarge-memberOf-taskdef.json"),
        data("gpu-taskdef.json"),
    ];
    let src = format!(
        "{BASE}[[task_definitions]]\nfile = \"webserver-fargate-windows-taskdef.json\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"windows-simple-iis-2019-core\"\nlaunch_type = \"FARGATE\"\narrival = {{ type = \"list\", at = [\"0s\"] }}\nrun_time = \"1m\"\n"
    );
    let sc = load(&src, &files).unwrap();
    assert!(
        sc.task_definitions[0].os.is_windows(),
        "runtimePlatform WINDOWS_SERVER_2019_CORE"
    );

    let vt1 = doc("vt1.json", &files[1].1);
    let scenario::ecs_json::Item::TaskDefinition(n, _) = &vt1.items[0] else {
        panic!()
    };
    let text = format!("{n:?}");
    assert!(
        text.contains("attribute:ecs.instance-type == vt1.3xlarge"),
        "memberOf kept: {text}"
    );

    let gpu = doc("gpu-taskdef.json", &files[2].1);
    let w = warnings(&gpu);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("gpu-taskdef.json:9:10: containerDefinitions[0].resourceRequirements[0]: not modelled, ignored: resource requirement GPU = 2"), "{w:?}");
}

#[test]
fn network_modes_and_host_ports() {
    // ECS-DG task_definition_parameters.html: in bridge mode hostPort 0 or absent is dynamic.
    let td = r#"{"family": "b", "networkMode": "bridge", "containerDefinitions": [
        {"name": "a", "image": "x", "memory": 128, "portMappings": [{"containerPort": 80, "hostPort": 0}, {"containerPort": 81}, {"containerPort": 82, "hostPort": 8082}]}]}"#;
    let host = r#"{"family": "h", "networkMode": "host", "containerDefinitions": [{"name": "a", "memory": 128, "portMappings": [{"containerPort": 80}]}]}"#;
    let files = [
        ("b.json".to_string(), td.to_string()),
        ("h.json".to_string(), host.to_string()),
    ];
    let src = format!(
        "{BASE}[[task_definitions]]\nfile = \"b.json\"\n[[task_definitions]]\nfile = \"h.json\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"b\"\narrival = {{ type = \"list\", at = [\"0s\"] }}\nrun_time = \"1m\"\n"
    );
    let sc = load(&src, &files).unwrap();
    assert_eq!(
        sc.task_definitions[0].host_ports.len(),
        1,
        "only 8082 is static"
    );
    assert_eq!(
        sc.task_definitions[1].host_ports.len(),
        1,
        "host mode reserves the container port"
    );
}

#[test]
fn templates_placeholders_unknown_fields_and_syntax_errors() {
    // ecspresso: template expressions in string fields; the TOML completes what they leave out.
    let td = r#"{
  "family": "{{ must_env `FAMILY` }}",
  "cpu": "256", "memory": "512", "networkMode": "awsvpc",
  "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
  "containerDefinitions": [{"name": "app", "image": "{{ env `IMAGE` }}", "cpuShares": 3}]
}"#;
    let files = [("td.json".to_string(), td.to_string())];
    let src = format!(
        "{BASE}[[task_definitions]]\nfile = \"td.json\"\nfamily = \"app\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"app\"\nlaunch_type = \"FARGATE\"\narrival = {{ type = \"list\", at = [\"0s\"] }}\nrun_time = \"1m\"\n"
    );
    let sc = load(&src, &files).unwrap();
    let w: Vec<String> = sc.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with(
            "td.json:2:13: family: \"{{ must_env `FAMILY` }}\" is a template expression"
        ),
        "{w:?}"
    );
    assert!(
        w[1].starts_with(
            "td.json:5:74: containerDefinitions[0].cpuShares: unknown field \"cpuShares\""
        ),
        "{w:?}"
    );
    // The image (a template too) is ignored silently: it does not affect scheduling.

    let bad = [(
        "td.json".to_string(),
        "{\n  \"family\": \"x\",\n  \"cpu\": 256\n  \"memory\": 512\n}".to_string(),
    )];
    let err = load(
        &format!("{BASE}[[task_definitions]]\nfile = \"td.json\"\n"),
        &bad,
    )
    .unwrap_err();
    assert!(
        err.contains("error: td.json:4:3: JSON syntax: expected ',' or '}', found '\"'"),
        "{err}"
    );

    // A value the scenario rejects is reported where the JSON has it.
    let big = [("td.json".to_string(), "{\"family\": \"x\",\n \"cpu\": \"999 vcpu\", \"memory\": 512, \"containerDefinitions\": []}".to_string())];
    let err = load(&format!("{BASE}[[task_definitions]]\nfile = \"td.json\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"x\"\narrival = {{ type = \"list\", at = [\"0s\"] }}\nrun_time = \"1m\"\n"), &big).unwrap_err();
    assert!(err.contains("td.json:2:9: task_definitions[0].cpu: got the integer 1022976; expected an integer from 128 to 196608"), "{err}");
}

#[test]
fn scaling_policies_capacity_providers_and_container_instances() {
    let d = doc(
        "p.json",
        &data("describe-scaling-policies-ecs-output.json").1,
    );
    assert_eq!(d.items.len(), 2);
    assert!(
        d.notes.errors.is_empty() && d.notes.warnings.is_empty(),
        "{:?}",
        d.notes
    );
    let sqs = doc(
        "sqs.json",
        &data("ecs-sqs-backlog-per-task-metric-math-config.json").1,
    );
    assert!(sqs.items.is_empty());
    assert!(
        warnings(&sqs)[0].contains("not modelled, policy left out: a customized metric"),
        "{:?}",
        warnings(&sqs)
    );
    let cp = doc(
        "cp.json",
        &data("describe-capacity-providers-output.json").1,
    );
    assert_eq!(
        cp.items.len(),
        3,
        "one Auto Scaling group provider, FARGATE and FARGATE_SPOT"
    );
    let ci = doc(
        "ci.json",
        &data("describe-container-instances-output.json").1,
    );
    let ecs_json::Item::Instances(list, _) = &ci.items[0] else {
        panic!("{:?}", ci.items)
    };
    assert_eq!((list.len(), list[0].cpu, list[0].memory), (1, 2048, 3955));

    // A step scaling policy from JSON, its alarm from the TOML (CloudWatch holds it).
    let files = [data("step-scaling-config.json"), ("td.json".to_string(), r#"{"family": "w", "containerDefinitions": [{"name": "a", "cpu": 256, "memory": 512}]}"#.to_string())];
    let src = format!(
        "{BASE}[[task_definitions]]\nfile = \"td.json\"\n[[services]]\nname = \"w\"\ntask_definition = \"w\"\ndesired_count = 2\nload = {{ components = [{{ type = \"constant\", rps = 300 }}] }}\n[services.auto_scaling]\nmin_capacity = 1\nmax_capacity = 6\n[[services.auto_scaling.step_scaling]]\nfile = \"step-scaling-config.json\"\nname = \"out\"\nalarm = {{ metric = \"CPUUtilization\", comparison = \">=\", threshold = 70 }}\n"
    );
    let sc = load(&src, &files).unwrap();
    let a = sc.services[0].auto_scaling.as_ref().unwrap();
    assert_eq!(a.step_scaling.len(), 1);
    assert_eq!(
        a.step_scaling[0].steps.len(),
        3,
        "0-15: +1, 15-25: +2, 25-: +3"
    );
}

#[test]
fn cloudformation_and_terraform_shapes() {
    let cfn = r#"{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {
      "Td": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Family": "cfn", "Cpu": "512", "Memory": "1 GB",
             "NetworkMode": "awsvpc", "RequiresCompatibilities": ["FARGATE"],
             "ContainerDefinitions": [{"Name": "a", "Image": {"Fn::Sub": "${AWS::AccountId}.dkr.ecr/app"}}]}},
      "Svc": {"Type": "AWS::ECS::Service", "Properties": {"ServiceName": "web", "TaskDefinition": {"Ref": "Td"},
             "DesiredCount": 3, "LaunchType": "FARGATE", "Cluster": {"Ref": "Cluster"}}},
      "Target": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {"MinCapacity": 2, "MaxCapacity": 9,
             "ResourceId": "service/default/web", "ScalableDimension": "ecs:service:DesiredCount", "ServiceNamespace": "ecs"}}
    }}"#;
    let d = doc("t.json", cfn);
    assert!(d.notes.errors.is_empty(), "{:?}", d.notes.errors);
    assert_eq!(d.items.len(), 3);
    let w = warnings(&d);
    assert!(
        w.iter().any(|w| w
            .contains("Svc.Properties.Cluster: a CloudFormation Ref that ecsim does not evaluate")),
        "{w:?}"
    );
    let im = ecs_json::import(&[("t.json".into(), cfn.into())], "cfn").unwrap();
    let sc = scenario::load("cfn.toml", &im.toml, &[]).unwrap();
    assert_eq!(sc.services[0].desired_count, 3);
    assert_eq!(sc.task_definitions[0].memory_mib, 1024);

    // Terraform's container_definitions: a bare array; the family comes from the scenario.
    let tf = r#"[{"name": "app", "image": "nginx", "cpu": 128, "memoryReservation": 256}]"#;
    let files = [("containers.json".to_string(), tf.to_string())];
    let src = format!(
        "{BASE}[[task_definitions]]\nfile = \"containers.json\"\nfamily = \"tf\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"tf\"\narrival = {{ type = \"list\", at = [\"0s\"] }}\nrun_time = \"1m\"\n"
    );
    let sc = load(&src, &files).unwrap();
    assert_eq!(
        (
            sc.task_definitions[0].cpu_units,
            sc.task_definitions[0].memory_mib
        ),
        (128, 256)
    );
}

/// The shipped example's files, and its scenario.
fn example() -> (PathBuf, Vec<(String, String)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/ecs-json");
    let files = [
        "sample-fargate-taskdef.json",
        "service.json",
        "ecs-target-tracking-cpu75-config.json",
    ]
    .iter()
    .map(|f| (f.to_string(), std::fs::read_to_string(dir.join(f)).unwrap()))
    .collect();
    (dir, files)
}

#[test]
fn an_import_runs_as_the_json_named_from_a_scenario() {
    let (_, files) = example();
    let im = ecs_json::import(&files, "imported").unwrap();
    assert!(im.toml.starts_with(ecs_json::import::HEADER), "{}", im.toml);
    let imported = scenario::load("imported.toml", &im.toml, &[]).unwrap();
    // The same JSON named from a scenario, with the import's placeholders written beside it.
    let by_file = "schema_version = 1\nname = \"imported\"\n[simulation]\nduration = \"2h\"\n\
        [[clusters]]\nname = \"default\"\n[[clusters.instance_groups]]\nname = \"default\"\ninstance_type = \"m5.large\"\ncount = 0\navailability_zones = [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]\n\
        [[task_definitions]]\nfile = \"sample-fargate-taskdef.json\"\n\
        [[services]]\nfile = \"service.json\"\nload = { components = [{ type = \"constant\", rps = 500 }], requests_per_task = 100 }\n\
        [services.auto_scaling]\nmin_capacity = 1\nmax_capacity = 8\n\
        [[services.auto_scaling.target_tracking]]\nfile = \"ecs-target-tracking-cpu75-config.json\"\nname = \"ecs-target-tracking-cpu75-config\"\n";
    let direct = load(by_file, &files).unwrap();
    assert_eq!(
        run_hash(&imported),
        run_hash(&direct),
        "the written TOML gives the JSON's results\n{}",
        im.toml
    );
    // And the written TOML reads back to itself: importing is stable.
    assert_eq!(ecs_json::import(&files, "imported").unwrap().toml, im.toml);
}

/// Every JSON file of the reference folder imports, or is refused with a reason that names it.
#[test]
fn every_reference_file_imports_or_is_refused_with_a_reason() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/taskdefs");
    if !dir.is_dir() {
        eprintln!(
            "skipped: {} is absent (the shared reference data is not part of a clone); the committed excerpts carry the key cases",
            dir.display()
        );
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 30, "{} files", files.len());
    let (mut imported, mut refused) = (0, 0);
    for f in &files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        match ecs_json::import(&[(name.clone(), text)], "t") {
            Ok(im) => match scenario::load("t.toml", &im.toml, &[]) {
                Ok(sc) => {
                    let _ = run_hash(&sc);
                    imported += 1;
                }
                // A definition ecsim reads but that does not make a runnable scenario alone
                // (no memory at all; a Fargate size AWS does not sell; a type ecsim lacks).
                Err(e) => {
                    assert!(e.to_string().contains("problem"), "{name}: {e}");
                    refused += 1;
                }
            },
            Err((errors, _)) => {
                assert!(!errors.is_empty());
                for e in &errors {
                    assert!(e.file == name && !e.message.is_empty(), "{name}: {e}");
                }
                refused += 1;
            }
        }
    }
    eprintln!("{imported} imported, {refused} refused with a reason");
    assert!(imported >= 15, "{imported} imported");
}

#[test]
fn clusters_and_capacity_providers_from_files() {
    // describe-capacity-providers (aws-cli example): MyCapacityProvider with managed scaling at
    // targetCapacity 100, steps 1 to 1000; the TOML gives the Auto Scaling group's type and size.
    // describe-container-instances: one instance registering 2048 CPU units and 3955 MiB, which
    // does not say its type: the scenario defines the type the import would name.
    let files = [
        data("describe-capacity-providers-output.json"),
        data("describe-container-instances-output.json"),
        ("td.json".to_string(), r#"{"family": "web", "containerDefinitions": [{"name": "a", "cpu": 512, "memory": 1024}]}"#.to_string()),
    ];
    let src = "schema_version = 1\nname = \"t\"\n[simulation]\nduration = \"1h\"\n\
        [[instance_types]]\nname = \"registered-2048cpu-3955mib\"\ncpu_units = 2048\nmemory_mib = 3955\nregistered_memory_mib = 3955\nprice_per_hour_usd = 0.05\n\
        [[clusters]]\nname = \"main\"\nfile = \"describe-container-instances-output.json\"\n\
        [[clusters]]\nname = \"asg\"\ncapacity_providers = [\"FARGATE\"]\n\
        [[clusters.instance_groups]]\nfile = \"describe-capacity-providers-output.json\"\ninstance_type = \"m5.large\"\ncount = 1\nmax_size = 4\n\
        [[task_definitions]]\nfile = \"td.json\"\n\
        [[services]]\nname = \"web\"\ncluster = \"asg\"\ntask_definition = \"web\"\ndesired_count = 3\ncapacity_provider_strategy = [{ capacity_provider = \"MyCapacityProvider\", weight = 1 }]\n";
    let sc = load(src, &files).unwrap();
    let main = &sc.clusters[0];
    assert_eq!(main.groups.len(), 1);
    assert_eq!(main.groups[0].count, 1, "one container instance");
    let asg = &sc.clusters[1].groups[0];
    assert_eq!(asg.name, "MyCapacityProvider");
    let ms = asg
        .managed_scaling
        .as_ref()
        .expect("managedScaling ENABLED");
    assert_eq!(
        (ms.target_capacity, ms.maximum_scaling_step_size),
        (100.0, 1000)
    );
    let _ = run_hash(&sc);
}

#[test]
fn a_describe_clusters_output_with_several_clusters_is_chosen_from_by_name() {
    let clusters = r#"{"clusters": [
        {"clusterName": "a", "capacityProviders": ["FARGATE"]},
        {"clusterName": "b", "capacityProviders": ["FARGATE_SPOT"], "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}
    ], "failures": []}"#;
    let files = [
        ("c.json".to_string(), clusters.to_string()),
        ("td.json".to_string(), r#"{"family": "w", "networkMode": "awsvpc", "cpu": "256", "memory": "512", "containerDefinitions": [{"name": "a"}]}"#.to_string()),
    ];
    let job = "[[task_definitions]]\nfile = \"td.json\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"w\"\narrival = { type = \"list\", at = [\"0s\"] }\nrun_time = \"1m\"\n";
    let head = "schema_version = 1\nname = \"t\"\n[[clusters]]\nfile = \"c.json\"\ninstance_type = \"m5.large\"\ncount = 0\n";
    let err = load(&format!("{head}{job}"), &files).unwrap_err();
    assert!(err.contains("clusters[0].file: the file holds 2 clusters (\"a\", \"b\"); choose one with name = \"...\" beside file"), "{err}");
    let sc = load(&format!("{head}name = \"b\"\n{job}"), &files).unwrap();
    assert_eq!(sc.clusters[0].name, "b");
    let _ = run_hash(&sc);
}

#[test]
fn a_mixed_import_of_every_kind_runs() {
    let svc = r#"{"serviceName": "web-app", "cluster": "default", "taskDefinition": "arn:aws:ecs:us-west-2:123456789012:task-definition/web:4",
        "desiredCount": 4, "capacityProviderStrategy": [{"capacityProvider": "MyCapacityProvider", "weight": 1}],
        "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "MEMORY"}],
        "placementConstraints": [{"type": "distinctInstance"}],
        "deploymentConfiguration": {"maximumPercent": 150, "minimumHealthyPercent": 50, "deploymentCircuitBreaker": {"enable": true, "rollback": false}},
        "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/x/1", "containerName": "a", "containerPort": 80}],
        "healthCheckGracePeriodSeconds": 30}"#;
    let files = vec![
        data("describe-capacity-providers-output.json"),
        data("describe-container-instances-output.json"),
        data("describe-scaling-policies-ecs-output.json"),
        ("svc.json".to_string(), svc.to_string()),
        ("td.json".to_string(), r#"{"family": "web", "containerDefinitions": [{"name": "a", "cpu": 256, "memoryReservation": 256, "portMappings": [{"containerPort": 80, "hostPort": 0}]}]}"#.to_string()),
    ];
    let im = ecs_json::import(&files, "mixed").unwrap();
    assert_eq!(im.toml.matches("# PLACEHOLDER").count(), 10, "{}", im.toml);
    let sc =
        scenario::load("mixed.toml", &im.toml, &[]).unwrap_or_else(|e| panic!("{e}\n{}", im.toml));
    let c = &sc.clusters[0];
    assert_eq!(
        c.groups.len(),
        2,
        "the container instance, the capacity provider's group"
    );
    assert!(c.groups[1].managed_scaling.is_some());
    let s = &sc.services[0];
    assert_eq!(
        (
            s.desired_count,
            s.maximum_percent,
            s.minimum_healthy_percent
        ),
        (4, 150, 50)
    );
    assert!(s.circuit_breaker.is_some() && s.load_balancer_check_ms.is_some());
    assert_eq!(s.health_check_grace_ms, 30_000);
    let a = s.auto_scaling.as_ref().unwrap();
    assert_eq!(a.step_scaling.len(), 2, "scale out at +200 %, in at -50 %");
    let _ = run_hash(&sc);
}
