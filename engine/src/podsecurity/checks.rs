//! The checks themselves, one function per upstream check (and per behaviour change
//! between its versioned definitions). Each returns upstream's `ForbiddenReason` and
//! `ForbiddenDetail`, formatted as upstream formats them, plus the violations behind
//! them.
//!
//! Upstream lists containers in visiting order (init containers, containers, ephemeral
//! containers) and keeps values in sorted sets; which of the two each list is follows the
//! upstream check, and is noted where it is not obvious.

use core::fmt::Write;

use bumpalo::collections::{String as BumpString, Vec as BumpVec};
use bumpalo::Bump;

use super::control::Control;
use super::pod::{Doc, Scope};
use super::text::{plural, push_containers, push_join, push_join_quote, sort_unique, write_go_quoted, Joiner};
use super::version::Version;
use super::{Action, Failure, Field, Handler, Location, Offending, Violation};
use crate::document::{Member, Value};

pub(super) struct Cx<'a, 'd> {
    pub bump: &'a Bump,
    pub doc: &'d Doc<'a>,
}

impl<'a> Cx<'a, '_> {
    fn vec<T>(&self) -> BumpVec<'a, T> {
        BumpVec::new_in(self.bump)
    }

    fn string(&self) -> BumpString<'a> {
        BumpString::new_in(self.bump)
    }
}

/// A failing check before it is labelled with its control.
struct Outcome<'a> {
    reason: &'a str,
    detail: BumpString<'a>,
    violations: BumpVec<'a, Violation<'a>>,
}

/// Runs the definition of `control` whose minimum version is `since`.
pub(super) fn run<'a>(cx: &Cx<'a, '_>, control: Control, since: Version) -> Option<Failure<'a>> {
    let minor = since.minor().unwrap_or(u32::MAX);
    let d = cx.doc;
    let outcome = match control {
        Control::AppArmorProfile => app_armor_profile(cx),
        Control::CapabilitiesBaseline => capabilities_baseline(cx),
        Control::HostNamespaces => host_namespaces(cx),
        Control::HostPathVolumes => host_path_volumes(cx),
        Control::HostPorts => host_ports(cx),
        Control::HostProbesAndHostLifecycle => host_probes_and_lifecycle(cx),
        Control::Privileged => privileged(cx),
        // 1.35: a pod in a user namespace may unmask /proc (baseline only).
        Control::ProcMount if minor >= 35 && d.in_user_namespace() => None,
        Control::ProcMount | Control::ProcMountRestricted => proc_mount(cx),
        Control::SeLinuxOptions => se_linux_options(cx, minor >= 31),
        Control::SeccompProfileBaseline if minor >= 19 => seccomp_baseline(cx),
        Control::SeccompProfileBaseline => seccomp_baseline_annotations(cx),
        Control::Sysctls => sysctls(cx, minor),
        Control::WindowsHostProcess => windows_host_process(cx),
        // 1.25: Windows pods are exempt (the API forbids these Linux fields for them).
        Control::AllowPrivilegeEscalation | Control::CapabilitiesRestricted | Control::SeccompProfileRestricted
            if minor >= 25 && d.is_windows() =>
        {
            None
        }
        Control::AllowPrivilegeEscalation => allow_privilege_escalation(cx),
        Control::CapabilitiesRestricted => capabilities_restricted(cx),
        Control::SeccompProfileRestricted => seccomp_restricted(cx),
        Control::RestrictedVolumes => restricted_volumes(cx),
        // 1.35: a pod in a user namespace is not root on the host.
        Control::RunAsNonRoot | Control::RunAsUser if minor >= 35 && d.in_user_namespace() => None,
        Control::RunAsNonRoot => run_as_non_root(cx),
        Control::RunAsUser => run_as_user(cx),
    }?;
    Some(Failure {
        control,
        since,
        reason: outcome.reason,
        detail: outcome.detail.into_bump_str(),
        violations: outcome.violations.into_bump_slice(),
    })
}

fn violation<'a>(at: Location<'a>, field: Field, value: Offending<'a>) -> Violation<'a> {
    Violation { at, field, value }
}

// ---------------------------------------------------------------------------------------
// Baseline.

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn app_armor_profile<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    const PROFILE: &str = "securityContext.appArmorProfile";
    const TYPE: &str = "securityContext.appArmorProfile.type";
    let allowed = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut bad_values = cx.vec();
    let mut pod_bad = false;
    if let Some(profile) = d.object(Scope::Spec, d.sc, "appArmorProfile", PROFILE) {
        let t = d.text(Scope::Spec, Some(profile), "type", TYPE).unwrap_or("");
        if !allowed(t) {
            pod_bad = true;
            bad_values.push(t);
            violations.push(violation(Location::Pod, Field::AppArmorProfileType, Offending::Str(t)));
        }
    }
    let mut containers = cx.vec();
    for c in d.containers() {
        if let Some(profile) = d.object(c.scope, c.sc, "appArmorProfile", PROFILE) {
            let t = d.text(c.scope, Some(profile), "type", TYPE).unwrap_or("");
            if !allowed(t) {
                containers.push(c.at.name);
                bad_values.push(t);
                violations.push(violation(Location::Container(c.at), Field::AppArmorProfileType, Offending::Str(t)));
            }
        }
    }
    let mut annotations = cx.vec();
    for m in d.annotations {
        let Some(container) = m.key.strip_prefix(APPARMOR_ANNOTATION_PREFIX) else { continue };
        let Some(value) = d.annotation_value(m.value) else { continue };
        if value.is_empty() || value == "runtime/default" || value.starts_with("localhost/") {
            continue;
        }
        annotations.push(annotation_text(cx, m.key, value));
        let at = Location::Annotation { key: m.key, container: d.container_named(container) };
        violations.push(violation(at, Field::Annotation, Offending::Str(value)));
    }
    if violations.is_empty() {
        return None;
    }
    sort_unique(&mut bad_values);
    annotations.sort_unstable();
    let mut detail = cx.string();
    let mut setters = Joiner::new(" and ");
    if pod_bad {
        setters.next(&mut detail);
        detail.push_str("pod");
    }
    if !containers.is_empty() {
        setters.next(&mut detail);
        push_containers(&mut detail, &containers);
    }
    if !annotations.is_empty() {
        setters.next(&mut detail);
        detail.push_str(plural(annotations.len(), "annotation", "annotations"));
    }
    // The annotations (already `key="value"`) follow the sorted profile types.
    bad_values.extend(annotations.iter().copied());
    detail.push_str(" must not set AppArmor profile type to ");
    push_join_quote(&mut detail, &bad_values);
    let reason = plural(bad_values.len(), "forbidden AppArmor profile", "forbidden AppArmor profiles");
    Some(Outcome { reason, detail, violations })
}

/// `fmt.Sprintf("%s=%q", key, value)`.
fn annotation_text<'a>(cx: &Cx<'a, '_>, key: &str, value: &str) -> &'a str {
    let mut s = cx.string();
    s.push_str(key);
    s.push('=');
    // Writing into an arena string cannot fail.
    let _ = write_go_quoted(&mut s, value);
    s.into_bump_str()
}

const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

const CAPABILITIES: &str = "securityContext.capabilities";
const CAPABILITIES_ADD: &str = "securityContext.capabilities.add";
const CAPABILITIES_DROP: &str = "securityContext.capabilities.drop";

fn capabilities_baseline<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut containers = cx.vec();
    let mut capabilities = cx.vec();
    for c in d.containers() {
        let Some(caps) = d.object(c.scope, c.sc, "capabilities", CAPABILITIES) else { continue };
        let mut bad = false;
        for item in d.list(c.scope, Some(caps), "add", CAPABILITIES_ADD) {
            let Some(cap) = d.element_text(c.scope, *item, CAPABILITIES_ADD) else { continue };
            if !BASELINE_CAPABILITIES.contains(&cap) {
                bad = true;
                capabilities.push(cap);
                violations.push(violation(Location::Container(c.at), Field::CapabilitiesAdd, Offending::Str(cap)));
            }
        }
        if bad {
            containers.push(c.at.name);
        }
    }
    if containers.is_empty() {
        return None;
    }
    sort_unique(&mut capabilities);
    let mut detail = cx.string();
    push_containers(&mut detail, &containers);
    detail.push_str(" must not include ");
    push_join_quote(&mut detail, &capabilities);
    detail.push_str(" in securityContext.capabilities.add");
    Some(Outcome { reason: "non-default capabilities", detail, violations })
}

fn host_namespaces<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut detail = cx.string();
    let mut list = Joiner::new(", ");
    for (key, field, text) in [
        ("hostNetwork", Field::HostNetwork, "hostNetwork=true"),
        ("hostPID", Field::HostPid, "hostPID=true"),
        ("hostIPC", Field::HostIpc, "hostIPC=true"),
    ] {
        if d.flag(Scope::Spec, Some(d.spec), key, key) == Some(true) {
            list.next(&mut detail);
            detail.push_str(text);
            violations.push(violation(Location::Pod, field, Offending::Bool(true)));
        }
    }
    if violations.is_empty() {
        return None;
    }
    Some(Outcome { reason: "host namespaces", detail, violations })
}

fn host_path_volumes<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut volumes = cx.vec();
    for volume in d.volumes() {
        if d.object(Scope::Volume, Some(volume.v), "hostPath", "hostPath").is_some() {
            volumes.push(volume.name);
            let at = Location::Volume { index: volume.index, name: volume.name };
            violations.push(violation(at, Field::VolumeSource("hostPath"), Offending::Set));
        }
    }
    if volumes.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    detail.push_str(plural(volumes.len(), "volume", "volumes"));
    detail.push(' ');
    push_join_quote(&mut detail, &volumes);
    Some(Outcome { reason: "hostPath volumes", detail, violations })
}

fn host_ports<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut containers = cx.vec();
    // A set of strings: sorted as text ("10" before "9"), as upstream's `sets.String`.
    let mut ports = cx.vec();
    for c in d.containers() {
        let mut bad = false;
        for (index, port) in d.list(c.scope, Some(c.v), "ports", "ports").iter().enumerate() {
            let Some(port) = d.element_object(c.scope, *port, "ports") else { continue };
            let Some(host_port) = d.int32(c.scope, Some(port), "hostPort", "ports.hostPort") else { continue };
            if host_port != 0 {
                bad = true;
                let mut text = cx.string();
                let _ = write!(text, "{host_port}");
                ports.push(text.into_bump_str());
                violations.push(violation(Location::Container(c.at), Field::HostPort { port: index }, Offending::Int(host_port)));
            }
        }
        if bad {
            containers.push(c.at.name);
        }
    }
    if containers.is_empty() {
        return None;
    }
    sort_unique(&mut ports);
    let mut detail = cx.string();
    push_containers(&mut detail, &containers);
    detail.push(' ');
    detail.push_str(plural(containers.len(), "uses", "use"));
    detail.push(' ');
    detail.push_str(plural(ports.len(), "hostPort", "hostPorts"));
    detail.push(' ');
    push_join(&mut detail, &ports, ", ");
    Some(Outcome { reason: "hostPort", detail, violations })
}

/// Where a probe or lifecycle handler may name a host, with the field paths involved.
struct HostSite {
    handler: Handler,
    action: Action,
    handler_field: &'static str,
    action_field: &'static str,
    host_field: &'static str,
}

const fn site(
    handler: Handler,
    action: Action,
    handler_field: &'static str,
    action_field: &'static str,
    host_field: &'static str,
) -> HostSite {
    HostSite { handler, action, handler_field, action_field, host_field }
}

const HOST_SITES: [HostSite; 10] = [
    site(Handler::LivenessProbe, Action::HttpGet, "livenessProbe", "livenessProbe.httpGet", "livenessProbe.httpGet.host"),
    site(Handler::LivenessProbe, Action::TcpSocket, "livenessProbe", "livenessProbe.tcpSocket", "livenessProbe.tcpSocket.host"),
    site(Handler::ReadinessProbe, Action::HttpGet, "readinessProbe", "readinessProbe.httpGet", "readinessProbe.httpGet.host"),
    site(Handler::ReadinessProbe, Action::TcpSocket, "readinessProbe", "readinessProbe.tcpSocket", "readinessProbe.tcpSocket.host"),
    site(Handler::StartupProbe, Action::HttpGet, "startupProbe", "startupProbe.httpGet", "startupProbe.httpGet.host"),
    site(Handler::StartupProbe, Action::TcpSocket, "startupProbe", "startupProbe.tcpSocket", "startupProbe.tcpSocket.host"),
    site(Handler::PostStart, Action::HttpGet, "lifecycle.postStart", "lifecycle.postStart.httpGet", "lifecycle.postStart.httpGet.host"),
    site(
        Handler::PostStart,
        Action::TcpSocket,
        "lifecycle.postStart",
        "lifecycle.postStart.tcpSocket",
        "lifecycle.postStart.tcpSocket.host",
    ),
    site(Handler::PreStop, Action::HttpGet, "lifecycle.preStop", "lifecycle.preStop.httpGet", "lifecycle.preStop.httpGet.host"),
    site(Handler::PreStop, Action::TcpSocket, "lifecycle.preStop", "lifecycle.preStop.tcpSocket", "lifecycle.preStop.tcpSocket.host"),
];

fn host_probes_and_lifecycle<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    // Both are sets here (upstream's only check that dedups container names).
    let mut containers = cx.vec();
    let mut hosts = cx.vec();
    for c in d.containers() {
        let lifecycle = d.object(c.scope, Some(c.v), "lifecycle", "lifecycle");
        let before = violations.len();
        for s in &HOST_SITES {
            let handler = match s.handler {
                Handler::PostStart => d.object(c.scope, lifecycle, "postStart", s.handler_field),
                Handler::PreStop => d.object(c.scope, lifecycle, "preStop", s.handler_field),
                _ => d.object(c.scope, Some(c.v), s.handler_field, s.handler_field),
            };
            let action_key = match s.action {
                Action::HttpGet => "httpGet",
                Action::TcpSocket => "tcpSocket",
            };
            let action = d.object(c.scope, handler, action_key, s.action_field);
            match d.text(c.scope, action, "host", s.host_field) {
                Some(host) if !host.is_empty() => {
                    hosts.push(host);
                    let field = Field::ProbeHost { handler: s.handler, action: s.action };
                    violations.push(violation(Location::Container(c.at), field, Offending::Str(host)));
                }
                _ => {}
            }
        }
        if violations.len() > before {
            containers.push(c.at.name);
        }
    }
    if containers.is_empty() {
        return None;
    }
    sort_unique(&mut containers);
    sort_unique(&mut hosts);
    let mut detail = cx.string();
    push_containers(&mut detail, &containers);
    detail.push(' ');
    detail.push_str(plural(containers.len(), "uses", "use"));
    detail.push(' ');
    detail.push_str(plural(hosts.len(), "probe or lifecycle host", "probe or lifecycle hosts"));
    detail.push(' ');
    push_join_quote(&mut detail, &hosts);
    Some(Outcome { reason: "probe or lifecycle host", detail, violations })
}

fn privileged<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut containers = cx.vec();
    for c in d.containers() {
        if d.flag(c.scope, c.sc, "privileged", "securityContext.privileged") == Some(true) {
            containers.push(c.at.name);
            violations.push(violation(Location::Container(c.at), Field::Privileged, Offending::Bool(true)));
        }
    }
    if containers.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    push_containers(&mut detail, &containers);
    detail.push_str(" must not set securityContext.privileged=true");
    Some(Outcome { reason: "privileged", detail, violations })
}

fn proc_mount<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut containers = cx.vec();
    let mut types = cx.vec();
    for c in d.containers() {
        let Some(t) = d.text(c.scope, c.sc, "procMount", "securityContext.procMount") else { continue };
        if t != "Default" {
            containers.push(c.at.name);
            types.push(t);
            violations.push(violation(Location::Container(c.at), Field::ProcMount, Offending::Str(t)));
        }
    }
    if containers.is_empty() {
        return None;
    }
    sort_unique(&mut types);
    let mut detail = cx.string();
    push_containers(&mut detail, &containers);
    detail.push_str(" must not set securityContext.procMount to ");
    push_join_quote(&mut detail, &types);
    Some(Outcome { reason: "procMount", detail, violations })
}

/// What `seLinuxOptions` found wrong across the pod and its containers.
struct SeLinuxFindings<'a> {
    types: BumpVec<'a, &'a str>,
    set_user: bool,
    set_role: bool,
    violations: BumpVec<'a, Violation<'a>>,
}

impl<'a> SeLinuxFindings<'a> {
    /// Checks one `seLinuxOptions`; `true` when it is acceptable.
    fn check(&mut self, d: &Doc<'a>, scope: Scope, options: Value<'a>, at: Location<'a>, engine_type_allowed: bool) -> bool {
        const TYPE: &str = "securityContext.seLinuxOptions.type";
        const USER: &str = "securityContext.seLinuxOptions.user";
        const ROLE: &str = "securityContext.seLinuxOptions.role";
        let mut ok = true;
        let t = d.text(scope, Some(options), "type", TYPE).unwrap_or("");
        let allowed =
            matches!(t, "" | "container_t" | "container_init_t" | "container_kvm_t") || (engine_type_allowed && t == "container_engine_t");
        if !allowed {
            ok = false;
            self.types.push(t);
            self.violations.push(violation(at, Field::SeLinuxType, Offending::Str(t)));
        }
        let user = d.text(scope, Some(options), "user", USER).unwrap_or("");
        if !user.is_empty() {
            ok = false;
            self.set_user = true;
            self.violations.push(violation(at, Field::SeLinuxUser, Offending::Str(user)));
        }
        let role = d.text(scope, Some(options), "role", ROLE).unwrap_or("");
        if !role.is_empty() {
            ok = false;
            self.set_role = true;
            self.violations.push(violation(at, Field::SeLinuxRole, Offending::Str(role)));
        }
        ok
    }
}

/// `container_engine_t` is allowed from 1.31.
fn se_linux_options<'a>(cx: &Cx<'a, '_>, engine_type_allowed: bool) -> Option<Outcome<'a>> {
    const OPTIONS: &str = "securityContext.seLinuxOptions";
    let d = cx.doc;
    let mut found = SeLinuxFindings { types: cx.vec(), set_user: false, set_role: false, violations: cx.vec() };
    let mut pod_bad = false;
    if let Some(options) = d.object(Scope::Spec, d.sc, "seLinuxOptions", OPTIONS) {
        pod_bad = !found.check(d, Scope::Spec, options, Location::Pod, engine_type_allowed);
    }
    let mut containers = cx.vec();
    for c in d.containers() {
        if let Some(options) = d.object(c.scope, c.sc, "seLinuxOptions", OPTIONS) {
            if !found.check(d, c.scope, options, Location::Container(c.at), engine_type_allowed) {
                containers.push(c.at.name);
            }
        }
    }
    if !pod_bad && containers.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    let mut setters = Joiner::new(" and ");
    if pod_bad {
        setters.next(&mut detail);
        detail.push_str("pod");
    }
    if !containers.is_empty() {
        setters.next(&mut detail);
        push_containers(&mut detail, &containers);
    }
    detail.push_str(" set forbidden securityContext.seLinuxOptions: ");
    let mut data = Joiner::new("; ");
    sort_unique(&mut found.types);
    if !found.types.is_empty() {
        data.next(&mut detail);
        detail.push_str(plural(found.types.len(), "type", "types"));
        detail.push(' ');
        push_join_quote(&mut detail, &found.types);
    }
    if found.set_user {
        data.next(&mut detail);
        detail.push_str("user may not be set");
    }
    if found.set_role {
        data.next(&mut detail);
        detail.push_str("role may not be set");
    }
    Some(Outcome { reason: "seLinuxOptions", detail, violations: found.violations })
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// Before 1.19 the seccomp profile was set by alpha annotations.
fn seccomp_baseline_annotations<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let valid = |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut forbidden = cx.vec();
    if let Some(m) = d.annotations.iter().find(|m| m.key == SECCOMP_POD_ANNOTATION) {
        if let Some(value) = d.annotation_value(m.value).filter(|v| !valid(v)) {
            forbidden.push(annotation_text(cx, m.key, value));
            violations.push(violation(Location::Annotation { key: m.key, container: None }, Field::Annotation, Offending::Str(value)));
        }
    }
    for c in d.containers() {
        let named = |m: &&Member<'a>| m.key.strip_prefix(SECCOMP_CONTAINER_ANNOTATION_PREFIX) == Some(c.at.name);
        let Some(m) = d.annotations.iter().find(named) else { continue };
        if let Some(value) = d.annotation_value(m.value).filter(|v| !valid(v)) {
            forbidden.push(annotation_text(cx, m.key, value));
            let at = Location::Annotation { key: m.key, container: Some(c.at) };
            violations.push(violation(at, Field::Annotation, Offending::Str(value)));
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    sort_unique(&mut forbidden);
    let mut detail = cx.string();
    detail.push_str("forbidden ");
    detail.push_str(plural(forbidden.len(), "annotation", "annotations"));
    detail.push(' ');
    push_join(&mut detail, &forbidden, ", ");
    Some(Outcome { reason: "seccompProfile", detail, violations })
}

const SECCOMP_PROFILE: &str = "securityContext.seccompProfile";
const SECCOMP_TYPE: &str = "securityContext.seccompProfile.type";

fn valid_seccomp(t: &str) -> bool {
    t == "Localhost" || t == "RuntimeDefault"
}

/// The seccomp fields as `check_seccompProfile_*` reads them.
struct Seccomp<'a> {
    violations: BumpVec<'a, Violation<'a>>,
    bad_values: BumpVec<'a, &'a str>,
    /// The pod set a bad type.
    pod_bad: bool,
    /// The pod set a good type.
    pod_set: bool,
    /// Containers that set a bad type.
    explicit: BumpVec<'a, &'a str>,
    /// Containers that set no profile, with no good pod-level one to inherit.
    implicit: BumpVec<'a, &'a str>,
}

fn read_seccomp<'a>(cx: &Cx<'a, '_>, record_implicit: bool) -> Seccomp<'a> {
    let d = cx.doc;
    let mut s =
        Seccomp { violations: cx.vec(), bad_values: cx.vec(), pod_bad: false, pod_set: false, explicit: cx.vec(), implicit: cx.vec() };
    if let Some(profile) = d.object(Scope::Spec, d.sc, "seccompProfile", SECCOMP_PROFILE) {
        let t = d.text(Scope::Spec, Some(profile), "type", SECCOMP_TYPE).unwrap_or("");
        if valid_seccomp(t) {
            s.pod_set = true;
        } else {
            s.pod_bad = true;
            s.bad_values.push(t);
            s.violations.push(violation(Location::Pod, Field::SeccompProfileType, Offending::Str(t)));
        }
    }
    for c in d.containers() {
        match d.object(c.scope, c.sc, "seccompProfile", SECCOMP_PROFILE) {
            Some(profile) => {
                let t = d.text(c.scope, Some(profile), "type", SECCOMP_TYPE).unwrap_or("");
                if !valid_seccomp(t) {
                    s.explicit.push(c.at.name);
                    s.bad_values.push(t);
                    s.violations.push(violation(Location::Container(c.at), Field::SeccompProfileType, Offending::Str(t)));
                }
            }
            None if record_implicit && !s.pod_set => {
                s.implicit.push(c.at.name);
                s.violations.push(violation(Location::Container(c.at), Field::SeccompProfileType, Offending::Unset));
            }
            None => {}
        }
    }
    s
}

/// `{setters} must not set securityContext.seccompProfile.type to {values}`, when the pod
/// or a container set a bad type.
fn seccomp_explicit_detail<'a>(cx: &Cx<'a, '_>, s: &mut Seccomp<'a>) -> Option<BumpString<'a>> {
    if !s.pod_bad && s.explicit.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    let mut setters = Joiner::new(" and ");
    if s.pod_bad {
        setters.next(&mut detail);
        detail.push_str("pod");
    }
    if !s.explicit.is_empty() {
        setters.next(&mut detail);
        push_containers(&mut detail, &s.explicit);
    }
    sort_unique(&mut s.bad_values);
    detail.push_str(" must not set securityContext.seccompProfile.type to ");
    push_join_quote(&mut detail, &s.bad_values);
    Some(detail)
}

fn seccomp_baseline<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let mut s = read_seccomp(cx, false);
    let detail = seccomp_explicit_detail(cx, &mut s)?;
    Some(Outcome { reason: "seccompProfile", detail, violations: s.violations })
}

/// Each version's allowed sysctls: a name is allowed from the version on its row.
const SYSCTLS: [(&str, u32); 14] = [
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

/// The sysctls allowed by the definition with minimum version `v1.since`.
pub(super) fn sysctl_allowed(name: &str, since: u32) -> bool {
    SYSCTLS.iter().any(|(allowed, from)| *from <= since && *allowed == name)
}

fn sysctls<'a>(cx: &Cx<'a, '_>, since: u32) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    // A list, not a set: a repeated name is repeated.
    let mut names = cx.vec();
    for (index, item) in d.list(Scope::Spec, d.sc, "sysctls", "securityContext.sysctls").iter().enumerate() {
        let Some(sysctl) = d.element_object(Scope::Spec, *item, "securityContext.sysctls") else { continue };
        let name = d.text(Scope::Spec, Some(sysctl), "name", "securityContext.sysctls.name").unwrap_or("");
        if !sysctl_allowed(name, since) {
            names.push(name);
            violations.push(violation(Location::Pod, Field::Sysctl { index }, Offending::Str(name)));
        }
    }
    if names.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    push_join(&mut detail, &names, ", ");
    Some(Outcome { reason: "forbidden sysctls", detail, violations })
}

fn windows_host_process<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    const OPTIONS: &str = "securityContext.windowsOptions";
    const HOST_PROCESS: &str = "securityContext.windowsOptions.hostProcess";
    let d = cx.doc;
    let mut violations = cx.vec();
    let host_process = |scope: Scope, sc: Option<Value<'a>>| {
        let options = d.object(scope, sc, "windowsOptions", OPTIONS);
        d.flag(scope, options, "hostProcess", HOST_PROCESS) == Some(true)
    };
    let pod_bad = host_process(Scope::Spec, d.sc);
    if pod_bad {
        violations.push(violation(Location::Pod, Field::WindowsHostProcess, Offending::Bool(true)));
    }
    let mut containers = cx.vec();
    for c in d.containers() {
        if host_process(c.scope, c.sc) {
            containers.push(c.at.name);
            violations.push(violation(Location::Container(c.at), Field::WindowsHostProcess, Offending::Bool(true)));
        }
    }
    if violations.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    let mut setters = Joiner::new(" and ");
    if pod_bad {
        setters.next(&mut detail);
        detail.push_str("pod");
    }
    if !containers.is_empty() {
        setters.next(&mut detail);
        push_containers(&mut detail, &containers);
    }
    detail.push_str(" must not set securityContext.windowsOptions.hostProcess=true");
    Some(Outcome { reason: "hostProcess", detail, violations })
}

// ---------------------------------------------------------------------------------------
// Restricted.

fn allow_privilege_escalation<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut containers = cx.vec();
    for c in d.containers() {
        let value = d.flag(c.scope, c.sc, "allowPrivilegeEscalation", "securityContext.allowPrivilegeEscalation");
        if value != Some(false) {
            containers.push(c.at.name);
            let value = value.map_or(Offending::Unset, Offending::Bool);
            violations.push(violation(Location::Container(c.at), Field::AllowPrivilegeEscalation, value));
        }
    }
    if containers.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    push_containers(&mut detail, &containers);
    detail.push_str(" must set securityContext.allowPrivilegeEscalation=false");
    Some(Outcome { reason: "allowPrivilegeEscalation != false", detail, violations })
}

fn capabilities_restricted<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut missing_drop_all = cx.vec();
    let mut adding_forbidden = cx.vec();
    let mut forbidden = cx.vec();
    for c in d.containers() {
        let Some(caps) = d.object(c.scope, c.sc, "capabilities", CAPABILITIES) else {
            missing_drop_all.push(c.at.name);
            violations.push(violation(Location::Container(c.at), Field::CapabilitiesDrop, Offending::Unset));
            continue;
        };
        let dropped_all = d
            .list(c.scope, Some(caps), "drop", CAPABILITIES_DROP)
            .iter()
            .any(|v| d.element_text(c.scope, *v, CAPABILITIES_DROP) == Some("ALL"));
        if !dropped_all {
            missing_drop_all.push(c.at.name);
            violations.push(violation(Location::Container(c.at), Field::CapabilitiesDrop, Offending::Unset));
        }
        let mut adds = false;
        for item in d.list(c.scope, Some(caps), "add", CAPABILITIES_ADD) {
            let Some(cap) = d.element_text(c.scope, *item, CAPABILITIES_ADD) else { continue };
            if cap != "NET_BIND_SERVICE" {
                adds = true;
                forbidden.push(cap);
                violations.push(violation(Location::Container(c.at), Field::CapabilitiesAdd, Offending::Str(cap)));
            }
        }
        if adds {
            adding_forbidden.push(c.at.name);
        }
    }
    if violations.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    let mut parts = Joiner::new("; ");
    if !missing_drop_all.is_empty() {
        parts.next(&mut detail);
        push_containers(&mut detail, &missing_drop_all);
        detail.push_str(r#" must set securityContext.capabilities.drop=["ALL"]"#);
    }
    if !adding_forbidden.is_empty() {
        sort_unique(&mut forbidden);
        parts.next(&mut detail);
        push_containers(&mut detail, &adding_forbidden);
        detail.push_str(" must not include ");
        push_join_quote(&mut detail, &forbidden);
        detail.push_str(" in securityContext.capabilities.add");
    }
    Some(Outcome { reason: "unrestricted capabilities", detail, violations })
}

/// The volume sources the restricted level allows.
const ALLOWED_VOLUME_SOURCES: [&str; 9] =
    ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"];

/// The other volume sources, in upstream's order of precedence when naming a volume's type.
const RESTRICTED_VOLUME_SOURCES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn restricted_volumes<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let d = cx.doc;
    let mut violations = cx.vec();
    let mut volumes = cx.vec();
    let mut types = cx.vec();
    for volume in d.volumes() {
        let set = |key: &'static str| d.object(Scope::Volume, Some(volume.v), key, key).is_some();
        if ALLOWED_VOLUME_SOURCES.into_iter().any(set) {
            continue;
        }
        // A volume with no source at all is an `emptyDir` once the API server has applied
        // its defaults, which is how upstream's fixtures (and admission) see it.
        let Some(kind) = RESTRICTED_VOLUME_SOURCES.into_iter().find(|k| set(k)) else { continue };
        volumes.push(volume.name);
        types.push(kind);
        let at = Location::Volume { index: volume.index, name: volume.name };
        violations.push(violation(at, Field::VolumeSource(kind), Offending::Str(kind)));
    }
    if volumes.is_empty() {
        return None;
    }
    sort_unique(&mut types);
    let mut detail = cx.string();
    detail.push_str(plural(volumes.len(), "volume", "volumes"));
    detail.push(' ');
    push_join_quote(&mut detail, &volumes);
    detail.push(' ');
    detail.push_str(plural(volumes.len(), "uses", "use"));
    detail.push(' ');
    detail.push_str(plural(types.len(), "restricted volume type", "restricted volume types"));
    detail.push(' ');
    push_join_quote(&mut detail, &types);
    Some(Outcome { reason: "restricted volume types", detail, violations })
}

fn run_as_non_root<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    const FIELD: &str = "securityContext.runAsNonRoot";
    let d = cx.doc;
    let mut violations = cx.vec();
    let pod = d.flag(Scope::Spec, d.sc, "runAsNonRoot", FIELD);
    if pod == Some(false) {
        violations.push(violation(Location::Pod, Field::RunAsNonRoot, Offending::Bool(false)));
    }
    let mut explicit = cx.vec();
    let mut implicit = cx.vec();
    for c in d.containers() {
        match d.flag(c.scope, c.sc, "runAsNonRoot", FIELD) {
            Some(true) => {}
            Some(false) => {
                explicit.push(c.at.name);
                violations.push(violation(Location::Container(c.at), Field::RunAsNonRoot, Offending::Bool(false)));
            }
            None if pod != Some(true) => {
                implicit.push(c.at.name);
                violations.push(violation(Location::Container(c.at), Field::RunAsNonRoot, Offending::Unset));
            }
            None => {}
        }
    }
    let mut detail = cx.string();
    if pod == Some(false) || !explicit.is_empty() {
        let mut setters = Joiner::new(" and ");
        if pod == Some(false) {
            setters.next(&mut detail);
            detail.push_str("pod");
        }
        if !explicit.is_empty() {
            setters.next(&mut detail);
            push_containers(&mut detail, &explicit);
        }
        detail.push_str(" must not set securityContext.runAsNonRoot=false");
    } else if !implicit.is_empty() {
        detail.push_str("pod or ");
        push_containers(&mut detail, &implicit);
        detail.push_str(" must set securityContext.runAsNonRoot=true");
    } else {
        return None;
    }
    Some(Outcome { reason: "runAsNonRoot != true", detail, violations })
}

fn run_as_user<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    const FIELD: &str = "securityContext.runAsUser";
    let d = cx.doc;
    let mut violations = cx.vec();
    let pod_bad = d.int(Scope::Spec, d.sc, "runAsUser", FIELD) == Some(0);
    if pod_bad {
        violations.push(violation(Location::Pod, Field::RunAsUser, Offending::Int(0)));
    }
    let mut containers = cx.vec();
    for c in d.containers() {
        if d.int(c.scope, c.sc, "runAsUser", FIELD) == Some(0) {
            containers.push(c.at.name);
            violations.push(violation(Location::Container(c.at), Field::RunAsUser, Offending::Int(0)));
        }
    }
    if violations.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    let mut setters = Joiner::new(" and ");
    if pod_bad {
        setters.next(&mut detail);
        detail.push_str("pod");
    }
    if !containers.is_empty() {
        setters.next(&mut detail);
        push_containers(&mut detail, &containers);
    }
    detail.push_str(" must not set runAsUser=0");
    Some(Outcome { reason: "runAsUser=0", detail, violations })
}

fn seccomp_restricted<'a>(cx: &Cx<'a, '_>) -> Option<Outcome<'a>> {
    let mut s = read_seccomp(cx, true);
    if let Some(detail) = seccomp_explicit_detail(cx, &mut s) {
        return Some(Outcome { reason: "seccompProfile", detail, violations: s.violations });
    }
    if s.implicit.is_empty() {
        return None;
    }
    let mut detail = cx.string();
    detail.push_str("pod or ");
    push_containers(&mut detail, &s.implicit);
    detail.push_str(r#" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#);
    Some(Outcome { reason: "seccompProfile", detail, violations: s.violations })
}
