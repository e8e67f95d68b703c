//! The Kubernetes Pod Security Standards, as the in-tree `pod-security-admission` library
//! (`k8s.io/pod-security-admission/policy`) defines them: every check, every versioned
//! definition, upstream's `ForbiddenReason` / `ForbiddenDetail` text, evaluated straight
//! from the arena document.
//!
//! Kyverno's `validate.podSecurity` runs these checks: [`PodSecurityRule`] (the `rule`
//! submodule) is the compiled rule — which checks, where the pod is in the resource, and
//! the `exclude` entries — and the VM formats Kyverno's messages from its report.
//!
//! ```text
//!  (metadata, spec) ──► evaluate(bump, level, version) ──► Report: [Failure]
//!                                                            control, reason, detail,
//!                                                            [Violation]: where, field, value
//! ```
//!
//! - [`Level`] and [`Version`] (`v1.0` … `latest`); [`controls`] is the set of checks a
//!   level runs at a version (cheap: a bitset computed from static tables).
//! - [`Control`]: one per upstream check ID, with its level, its versioned definitions
//!   ([`Control::definition`] picks the one a version runs) and the baseline check a
//!   restricted one overrides.
//! - [`evaluate`] / [`evaluate_controls`] / [`evaluate_control`]: run checks over a pod.
//!   A [`Failure`] carries upstream's reason and detail strings and the [`Violation`]s
//!   behind them: which container (by kind, index, name and image), volume, annotation or
//!   pod-level field, and the offending value, so that exclusions can be matched without
//!   re-running a check.
//!
//! ## Semantics
//!
//! Versions resolve as upstream's registry does: `latest` and any version newer than the
//! newest definition ([`Version::NEWEST_DEFINED`]) are clamped to it, and each check runs
//! its newest definition at or below the resolved version; a check with no such
//! definition is not run. At the restricted level, a restricted check that is defined at
//! the version replaces the baseline check it overrides (`restrictedVolumes` replaces
//! `hostPathVolumes`, `capabilities_restricted` `capabilities_baseline`,
//! `seccompProfile_restricted` `seccompProfile_baseline`, `procMount_restricted`
//! `procMount`). Failures come in upstream's order: baseline checks sorted by ID, then
//! restricted checks sorted by ID.
//!
//! Checks visit containers as upstream does: `initContainers`, then `containers`, then
//! `ephemeralContainers`. The document is read with Go's decoding rules (see the `pod`
//! submodule): absent and `null` are the zero value; a field of the wrong JSON type makes
//! the evaluation return [`Malformed`] (upstream would not have decoded the pod). One
//! API-server default is applied because upstream's fixtures assume it: a volume with no
//! source is an `emptyDir`.
//!
//! Nothing here touches the global heap on the pass path: a passing pod takes only the
//! list of its containers (read once, shared by every check) from the caller's
//! [`Bump`], and a failing one its messages and violations too. (Quoting a non-ASCII annotation value for a message builds a
//! Unicode class matcher once per process.)

mod checks;
mod control;
mod pod;
mod rule;
mod text;
mod version;

use core::fmt;

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use crate::document::Value;

pub use control::{controls, Control, ControlSet};
pub use pod::{Malformed, Scope};
pub use rule::{
    control_scope, controls_named, kyverno_controls, pod_of, restricted_only, ControlScope, Exclusion, PodError, PodSecurityRule,
    CONTROL_NAMES,
};
pub use version::{Level, ParseError, Version};

/// The three lists of containers in a pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerKind {
    InitContainers,
    Containers,
    EphemeralContainers,
}

impl ContainerKind {
    /// The pod spec field: `initContainers`, `containers`, `ephemeralContainers`.
    pub const fn field(self) -> &'static str {
        match self {
            ContainerKind::InitContainers => "initContainers",
            ContainerKind::Containers => "containers",
            ContainerKind::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// A container of the pod: which list, where in it, its name and image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContainerRef<'a> {
    pub kind: ContainerKind,
    pub index: usize,
    pub name: &'a str,
    pub image: &'a str,
}

/// Where a violation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Location<'a> {
    /// A pod-level field: `spec.<field>`.
    Pod,
    /// A field of a container: `spec.<kind>[<index>].<field>`.
    Container(ContainerRef<'a>),
    /// A field of a volume: `spec.volumes[<index>].<field>`.
    Volume { index: usize, name: &'a str },
    /// `metadata.annotations[<key>]`; `container` is the container the annotation is
    /// about, when the key names one that exists.
    Annotation { key: &'a str, container: Option<ContainerRef<'a>> },
}

impl<'a> Location<'a> {
    /// The container the violation belongs to, if any (for image-based exclusions).
    pub fn container(&self) -> Option<ContainerRef<'a>> {
        match *self {
            Location::Container(c) => Some(c),
            Location::Annotation { container, .. } => container,
            Location::Pod | Location::Volume { .. } => None,
        }
    }
}

/// A probe or lifecycle handler (the host probes / lifecycle hooks check).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Handler {
    LivenessProbe,
    ReadinessProbe,
    StartupProbe,
    PostStart,
    PreStop,
}

impl Handler {
    /// The field path of the handler in a container: `livenessProbe`,
    /// `lifecycle.postStart`, ...
    pub const fn path(self) -> &'static str {
        match self {
            Handler::LivenessProbe => "livenessProbe",
            Handler::ReadinessProbe => "readinessProbe",
            Handler::StartupProbe => "startupProbe",
            Handler::PostStart => "lifecycle.postStart",
            Handler::PreStop => "lifecycle.preStop",
        }
    }
}

/// The action of a handler that can name a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    HttpGet,
    TcpSocket,
}

impl Action {
    pub const fn field(self) -> &'static str {
        match self {
            Action::HttpGet => "httpGet",
            Action::TcpSocket => "tcpSocket",
        }
    }
}

/// The restricted field a violation is about, relative to its [`Location`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// `hostNetwork` (pod).
    HostNetwork,
    /// `hostPID` (pod).
    HostPid,
    /// `hostIPC` (pod).
    HostIpc,
    /// `securityContext.privileged`.
    Privileged,
    /// `securityContext.capabilities.add`.
    CapabilitiesAdd,
    /// `securityContext.capabilities.drop` (restricted: must include `ALL`).
    CapabilitiesDrop,
    /// A volume source: `hostPath`, `nfs`, ... (volume).
    VolumeSource(&'static str),
    /// `ports[<port>].hostPort`.
    HostPort { port: usize },
    /// `securityContext.appArmorProfile.type`.
    AppArmorProfileType,
    /// `securityContext.seLinuxOptions.type`.
    SeLinuxType,
    /// `securityContext.seLinuxOptions.user`.
    SeLinuxUser,
    /// `securityContext.seLinuxOptions.role`.
    SeLinuxRole,
    /// `securityContext.procMount`.
    ProcMount,
    /// `securityContext.seccompProfile.type`.
    SeccompProfileType,
    /// `securityContext.sysctls[<index>].name` (pod).
    Sysctl { index: usize },
    /// `securityContext.windowsOptions.hostProcess`.
    WindowsHostProcess,
    /// `<handler>.<action>.host`.
    ProbeHost { handler: Handler, action: Action },
    /// `securityContext.allowPrivilegeEscalation`.
    AllowPrivilegeEscalation,
    /// `securityContext.runAsNonRoot`.
    RunAsNonRoot,
    /// `securityContext.runAsUser`.
    RunAsUser,
    /// The annotation itself ([`Location::Annotation`]).
    Annotation,
}

impl Field {
    /// Writes the field path below its location; list indexes as `[*]` when `wildcard`.
    pub fn write_path(&self, out: &mut impl fmt::Write, wildcard: bool) -> fmt::Result {
        let index = |out: &mut dyn fmt::Write, i: usize| if wildcard { out.write_str("[*]") } else { write!(out, "[{i}]") };
        match *self {
            Field::HostNetwork => out.write_str("hostNetwork"),
            Field::HostPid => out.write_str("hostPID"),
            Field::HostIpc => out.write_str("hostIPC"),
            Field::Privileged => out.write_str("securityContext.privileged"),
            Field::CapabilitiesAdd => out.write_str("securityContext.capabilities.add"),
            Field::CapabilitiesDrop => out.write_str("securityContext.capabilities.drop"),
            Field::VolumeSource(source) => out.write_str(source),
            Field::HostPort { port } => {
                out.write_str("ports")?;
                index(out, port)?;
                out.write_str(".hostPort")
            }
            Field::AppArmorProfileType => out.write_str("securityContext.appArmorProfile.type"),
            Field::SeLinuxType => out.write_str("securityContext.seLinuxOptions.type"),
            Field::SeLinuxUser => out.write_str("securityContext.seLinuxOptions.user"),
            Field::SeLinuxRole => out.write_str("securityContext.seLinuxOptions.role"),
            Field::ProcMount => out.write_str("securityContext.procMount"),
            Field::SeccompProfileType => out.write_str("securityContext.seccompProfile.type"),
            Field::Sysctl { index: i } => {
                out.write_str("securityContext.sysctls")?;
                index(out, i)?;
                out.write_str(".name")
            }
            Field::WindowsHostProcess => out.write_str("securityContext.windowsOptions.hostProcess"),
            Field::ProbeHost { handler, action } => write!(out, "{}.{}.host", handler.path(), action.field()),
            Field::AllowPrivilegeEscalation => out.write_str("securityContext.allowPrivilegeEscalation"),
            Field::RunAsNonRoot => out.write_str("securityContext.runAsNonRoot"),
            Field::RunAsUser => out.write_str("securityContext.runAsUser"),
            Field::Annotation => Ok(()),
        }
    }
}

/// The value that made a field fail, where upstream compares one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Offending<'a> {
    /// The field must be set and is not (`allowPrivilegeEscalation`, `runAsNonRoot`, a
    /// restricted seccomp profile, `capabilities.drop` without `ALL`).
    Unset,
    /// The field must not be set at all (`hostPath`).
    Set,
    Bool(bool),
    Int(i64),
    Str(&'a str),
}

/// One offending field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Violation<'a> {
    pub at: Location<'a>,
    pub field: Field,
    pub value: Offending<'a>,
}

impl Violation<'_> {
    /// Writes the full field path: `spec.containers[0].securityContext.privileged`,
    /// `spec.volumes[1].hostPath`, `metadata.annotations[key]`; with `wildcard`, list
    /// indexes are `[*]` (the form of Kyverno's `restrictedField`).
    pub fn write_path(&self, out: &mut impl fmt::Write, wildcard: bool) -> fmt::Result {
        let index = |out: &mut dyn fmt::Write, i: usize| if wildcard { out.write_str("[*]") } else { write!(out, "[{i}]") };
        match self.at {
            Location::Pod => out.write_str("spec.")?,
            Location::Container(c) => {
                write!(out, "spec.{}", c.kind.field())?;
                index(out, c.index)?;
                out.write_char('.')?;
            }
            Location::Volume { index: i, .. } => {
                out.write_str("spec.volumes")?;
                index(out, i)?;
                out.write_char('.')?;
            }
            Location::Annotation { key, .. } => return write!(out, "metadata.annotations[{key}]"),
        }
        self.field.write_path(out, wildcard)
    }
}

/// A check that did not allow the pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure<'a> {
    pub control: Control,
    /// The minimum version of the definition that ran.
    pub since: Version,
    /// Upstream's `ForbiddenReason` (`allowPrivilegeEscalation != false`).
    pub reason: &'a str,
    /// Upstream's `ForbiddenDetail` (`container "c" must set
    /// securityContext.allowPrivilegeEscalation=false`).
    pub detail: &'a str,
    /// Every offending field behind the failure, in the check's visiting order.
    pub violations: &'a [Violation<'a>],
}

/// The failing checks of one evaluation, in upstream's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report<'a> {
    pub failures: &'a [Failure<'a>],
}

impl<'a> Report<'a> {
    /// No check failed.
    pub fn allowed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The failure of `control`, if it failed.
    pub fn failure(&self, control: Control) -> Option<&Failure<'a>> {
        self.failures.iter().find(|f| f.control == control)
    }

    /// Upstream's aggregate `ForbiddenReason()`: the reasons joined with `, `.
    pub fn write_reasons(&self, out: &mut impl fmt::Write) -> fmt::Result {
        for (i, f) in self.failures.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            out.write_str(f.reason)?;
        }
        Ok(())
    }

    /// Upstream's aggregate `ForbiddenDetail()`: `reason (detail), reason (detail)`, as
    /// Kubernetes prints after `violates PodSecurity "restricted:latest": `.
    pub fn write_details(&self, out: &mut impl fmt::Write) -> fmt::Result {
        for (i, f) in self.failures.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            out.write_str(f.reason)?;
            if !f.detail.is_empty() {
                write!(out, " ({})", f.detail)?;
            }
        }
        Ok(())
    }
}

/// Evaluates a pod (its `metadata` and `spec`, either may be `null`) against `level` at
/// `version`, as upstream's `EvaluatePod` does. `privileged` returns an empty report
/// without reading the pod.
pub fn evaluate<'a>(bump: &'a Bump, level: Level, version: Version, metadata: Value<'a>, spec: Value<'a>) -> Result<Report<'a>, Malformed> {
    evaluate_controls(bump, controls(level, version), version, metadata, spec)
}

/// Runs the given checks, each at its definition for `version` (a check not defined at
/// `version` is skipped). A compiled rule can compute its [`ControlSet`] once with
/// [`controls`] (and remove excluded controls from it).
pub fn evaluate_controls<'a>(
    bump: &'a Bump,
    set: ControlSet,
    version: Version,
    metadata: Value<'a>,
    spec: Value<'a>,
) -> Result<Report<'a>, Malformed> {
    if set.is_empty() {
        return Ok(Report::default());
    }
    let doc = pod::Doc::new(bump, metadata, spec);
    let cx = checks::Cx { bump, doc: &doc };
    let mut failures = BumpVec::new_in(bump);
    for control in set.iter() {
        if let Some(since) = control.definition(version) {
            failures.extend(checks::run(&cx, control, since));
        }
    }
    match doc.error() {
        Some(e) => Err(e),
        None => Ok(Report { failures: failures.into_bump_slice() }),
    }
}

/// Runs one check at its definition for `version`, whatever the level and overrides
/// (`Ok(None)`: it allows the pod, or is not defined at `version`).
pub fn evaluate_control<'a>(
    bump: &'a Bump,
    control: Control,
    version: Version,
    metadata: Value<'a>,
    spec: Value<'a>,
) -> Result<Option<Failure<'a>>, Malformed> {
    let one: ControlSet = core::iter::once(control).collect();
    let report = evaluate_controls(bump, one, version, metadata, spec)?;
    Ok(report.failures.first().copied())
}

#[cfg(test)]
mod tests;
