//! `[[task_definitions]]`: what a task reserves and how it behaves.

use ecsim_placement::{Constraint, HostPort};

use crate::dist::Dist;

/// Network mode of a task definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// Docker bridge: static host ports are reserved, dynamic ones (`host_port = 0`) are not.
    Bridge,
    /// Host networking: every container port is a static host port.
    Host,
    /// One ENI per task.
    Awsvpc,
    /// No networking.
    None,
}

/// A task definition, reduced to what placement and the scheduler need.
#[derive(Debug, Clone)]
pub struct TaskDefinition {
    /// `family`.
    pub family: String,
    /// CPU units reserved (task level, else the sum of containers).
    pub cpu_units: u32,
    /// Memory reserved, MiB (task level, else per container `memory_reservation` or `memory`).
    pub memory_mib: u32,
    /// Network mode.
    pub network_mode: NetworkMode,
    /// Static host ports of the containers (in `awsvpc` mode, the container ports, which are on
    /// the task's own ENI: see [`TaskDefinition::instance_ports`]).
    pub host_ports: Vec<HostPort>,
    /// Task definition constraints (`memberOf` only, as ECS allows).
    pub constraints: Vec<(String, Constraint)>,
    /// Task-level CPU, if given (Fargate requires it).
    pub task_cpu: Option<u32>,
    /// Task-level memory, if given (Fargate requires it).
    pub task_memory: Option<u32>,
    /// `runtime_platform.operating_system_family`.
    pub os: OsFamily,
    /// `runtime_platform.cpu_architecture`: `x86_64` or `arm64` (instance attribute spelling).
    pub architecture: Option<String>,
    /// Ephemeral storage, GB (Fargate: 20 included, up to 200).
    pub ephemeral_storage_gb: u32,
    /// Time from RUNNING to a crash (essential container exits), if tasks crash.
    pub time_to_failure: Option<Dist>,
    /// Probability that a task fails to start (PENDING to STOPPED, e.g. an image pull error).
    pub start_failure_probability: f64,
    /// SIGTERM to SIGKILL (`stopTimeout`), default 30 s, at most 120 s.
    pub stop_timeout_ms: u64,
    /// RUNNING to HEALTHY by the container health check (its start period plus one interval),
    /// if the task definition has one.
    pub health_check_ms: Option<u64>,
}

impl TaskDefinition {
    /// Host ports a task reserves on its instance: none in `awsvpc` mode, where each task has its
    /// own ENI (ecs-semantics 2.4, 2.5; ECS-DG `container-instance-eni.html`).
    pub fn instance_ports(&self) -> &[HostPort] {
        if self.network_mode == NetworkMode::Awsvpc {
            &[]
        } else {
            &self.host_ports
        }
    }
}

/// Operating system family: a task definition's `runtime_platform.operating_system_family`, and
/// an instance group's AMI family (its instances' `ecs.os-family` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsFamily {
    /// `LINUX`.
    Linux,
    /// `WINDOWS_SERVER_2019_FULL`.
    WindowsServer2019Full,
    /// `WINDOWS_SERVER_2019_CORE`.
    WindowsServer2019Core,
    /// `WINDOWS_SERVER_2022_FULL`.
    WindowsServer2022Full,
    /// `WINDOWS_SERVER_2022_CORE`.
    WindowsServer2022Core,
}

impl OsFamily {
    /// Whether it is a Windows Server family.
    pub fn is_windows(self) -> bool {
        self != OsFamily::Linux
    }

    /// The name ECS uses (`runtime_platform` value and `ecs.os-family` attribute).
    pub fn as_str(self) -> &'static str {
        match self {
            OsFamily::Linux => "LINUX",
            OsFamily::WindowsServer2019Full => "WINDOWS_SERVER_2019_FULL",
            OsFamily::WindowsServer2019Core => "WINDOWS_SERVER_2019_CORE",
            OsFamily::WindowsServer2022Full => "WINDOWS_SERVER_2022_FULL",
            OsFamily::WindowsServer2022Core => "WINDOWS_SERVER_2022_CORE",
        }
    }

    /// The `ecs.os-type` attribute: `linux` or `windows` (ECS-DG `cluster-query-language.html`).
    pub fn os_type(self) -> &'static str {
        if self.is_windows() {
            "windows"
        } else {
            "linux"
        }
    }
}
