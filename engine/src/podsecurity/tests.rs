//! Message formats (upstream's `ForbiddenReason` / `ForbiddenDetail`), version selection,
//! violations and malformed pods.

use bumpalo::Bump;

use super::*;
use crate::limits::Limits;

/// `(check ID, reason, detail)` of every failure.
type Outcome = Vec<(&'static str, String, String)>;

fn run(level: Level, version: Version, pod: &str) -> Result<Outcome, Malformed> {
    let arena = Bump::new();
    let doc = crate::json::decode(pod.as_bytes(), &arena, &Limits::default()).expect("test pod is JSON");
    let report = evaluate(&arena, level, version, doc.get_or_null("metadata"), doc.get_or_null("spec"))?;
    Ok(report.failures.iter().map(|f| (f.control.id(), f.reason.to_string(), f.detail.to_string())).collect())
}

fn failures(level: Level, version: &str, pod: &str) -> Outcome {
    run(level, Version::parse(version).expect("version"), pod).expect("well-formed pod")
}

/// The one failure of `id`, as `(reason, detail)`.
fn failure(level: Level, version: &str, pod: &str, id: &str) -> (String, String) {
    let all = failures(level, version, pod);
    let found: Vec<_> = all.iter().filter(|f| f.0 == id).collect();
    assert_eq!(found.len(), 1, "{id} in {all:?}");
    (found[0].1.clone(), found[0].2.clone())
}

fn ids(level: Level, version: &str, pod: &str) -> Vec<&'static str> {
    failures(level, version, pod).into_iter().map(|f| f.0).collect()
}

fn pair(reason: &str, detail: &str) -> (String, String) {
    (reason.to_string(), detail.to_string())
}

const B: Level = Level::Baseline;
const R: Level = Level::Restricted;

/// A pod that passes restricted at every version, for tweaking.
const GOOD: &str = r#"{"metadata":{"name":"p"},"spec":{
  "securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
  "containers":[{"name":"c","image":"nginx","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}"#;

#[test]
fn the_good_pod_passes_everywhere() {
    for level in Level::ALL {
        for minor in 0..=40 {
            assert_eq!(run(level, Version::v1(minor), GOOD), Ok(vec![]), "{level}:v1.{minor}");
        }
        assert_eq!(run(level, Version::LATEST, GOOD), Ok(vec![]));
    }
}

#[test]
fn privileged_and_visiting_order() {
    let pod = r#"{"spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}],
                 "initContainers":[{"name":"i","securityContext":{"privileged":true}}],
                 "ephemeralContainers":[{"name":"e","securityContext":{"privileged":false}}]}}"#;
    assert_eq!(
        failure(B, "latest", pod, "privileged"),
        pair("privileged", r#"containers "i", "c" must not set securityContext.privileged=true"#)
    );
}

#[test]
fn allow_privilege_escalation() {
    let pod = r#"{"spec":{"containers":[{"name":"c"},{"name":"d","securityContext":{"allowPrivilegeEscalation":false}}]}}"#;
    assert_eq!(
        failure(R, "latest", pod, "allowPrivilegeEscalation"),
        pair("allowPrivilegeEscalation != false", r#"container "c" must set securityContext.allowPrivilegeEscalation=false"#)
    );
    // Defined from 1.8; Windows pods are exempt from 1.25.
    assert!(!ids(R, "v1.7", pod).contains(&"allowPrivilegeEscalation"));
    let windows = r#"{"spec":{"os":{"name":"windows"},"containers":[{"name":"c"}]}}"#;
    assert!(ids(R, "v1.24", windows).contains(&"allowPrivilegeEscalation"));
    assert!(!ids(R, "v1.25", windows).contains(&"allowPrivilegeEscalation"));
}

#[test]
fn capabilities() {
    let pod = r#"{"spec":{"containers":[
        {"name":"c","securityContext":{"capabilities":{"add":["NET_RAW","SYS_ADMIN","CHOWN"]}}},
        {"name":"d","securityContext":{"capabilities":{"add":["NET_RAW"]}}}]}}"#;
    assert_eq!(
        failure(B, "latest", pod, "capabilities_baseline"),
        pair(
            "non-default capabilities",
            r#"containers "c", "d" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add"#
        )
    );
    let pod = r#"{"spec":{"containers":[
        {"name":"c"},
        {"name":"d","securityContext":{"capabilities":{"drop":["ALL"],"add":["SYS_TIME","NET_BIND_SERVICE"]}}}]}}"#;
    assert_eq!(
        failure(R, "v1.22", pod, "capabilities_restricted"),
        pair(
            "unrestricted capabilities",
            r#"container "c" must set securityContext.capabilities.drop=["ALL"]; container "d" must not include "SYS_TIME" in securityContext.capabilities.add"#
        )
    );
    // Before 1.22 the restricted level runs the baseline capabilities check instead.
    assert!(ids(R, "v1.21", pod).contains(&"capabilities_baseline"));
    assert!(!ids(R, "v1.21", pod).contains(&"capabilities_restricted"));
}

#[test]
fn host_namespaces_paths_and_ports() {
    let pod = r#"{"spec":{"hostNetwork":true,"hostPID":false,"hostIPC":true,"containers":[
        {"name":"c","ports":[{"hostPort":9},{"containerPort":80},{"hostPort":10}]},
        {"name":"d","ports":[{"hostPort":10}]}],
        "volumes":[{"name":"a","hostPath":{"path":"/"}},{"name":"b","emptyDir":{}},{"name":"c","hostPath":{"path":"/x"}}]}}"#;
    assert_eq!(failure(B, "latest", pod, "hostNamespaces"), pair("host namespaces", "hostNetwork=true, hostIPC=true"));
    assert_eq!(failure(B, "latest", pod, "hostPorts"), pair("hostPort", r#"containers "c", "d" use hostPorts 10, 9"#));
    assert_eq!(failure(B, "latest", pod, "hostPathVolumes"), pair("hostPath volumes", r#"volumes "a", "c""#));
    let one = r#"{"spec":{"containers":[{"name":"c","ports":[{"hostPort":80}]}]}}"#;
    assert_eq!(failure(B, "latest", one, "hostPorts"), pair("hostPort", r#"container "c" uses hostPort 80"#));
}

#[test]
fn host_probes_and_lifecycle_hooks() {
    let pod = r#"{"spec":{
        "containers":[{"name":"c","livenessProbe":{"httpGet":{"host":"b.example","port":80}},
                       "lifecycle":{"preStop":{"tcpSocket":{"host":"a.example"}},"postStart":{"httpGet":{"host":""}}}}],
        "initContainers":[{"name":"i","readinessProbe":{"tcpSocket":{"host":"a.example"}}}]}}"#;
    assert_eq!(
        failure(B, "v1.34", pod, "hostProbesAndHostLifecycle"),
        pair("probe or lifecycle host", r#"containers "c", "i" use probe or lifecycle hosts "a.example", "b.example""#)
    );
    assert_eq!(ids(B, "v1.33", pod), Vec::<&str>::new());
}

#[test]
fn proc_mount_and_user_namespaces() {
    let pod = |host_users: &str| {
        format!(r#"{{"spec":{{{host_users}"containers":[{{"name":"c","securityContext":{{"procMount":"Unmasked"}}}}]}}}}"#)
    };
    let expected = pair("procMount", r#"container "c" must not set securityContext.procMount to "Unmasked""#);
    assert_eq!(failure(B, "latest", &pod(""), "procMount"), expected);
    // 1.35: baseline lets a pod in a user namespace unmask /proc; restricted does not.
    let userns = pod(r#""hostUsers":false,"#);
    assert_eq!(ids(B, "v1.34", &userns), ["procMount"]);
    assert_eq!(ids(B, "v1.35", &userns), Vec::<&str>::new());
    assert_eq!(failure(R, "v1.35", &userns, "procMount_restricted"), expected);
    assert!(!ids(R, "v1.35", &userns).contains(&"procMount"));
    assert_eq!(ids(B, "latest", &pod(r#""hostUsers":true,"#)), ["procMount"]);
}

#[test]
fn run_as_non_root_and_run_as_user() {
    let explicit = r#"{"spec":{"securityContext":{"runAsNonRoot":false,"runAsUser":0},"containers":[
        {"name":"c","securityContext":{"runAsNonRoot":false,"runAsUser":0}},{"name":"d"}]}}"#;
    assert_eq!(
        failure(R, "latest", explicit, "runAsNonRoot"),
        pair("runAsNonRoot != true", r#"pod and container "c" must not set securityContext.runAsNonRoot=false"#)
    );
    assert_eq!(failure(R, "latest", explicit, "runAsUser"), pair("runAsUser=0", r#"pod and container "c" must not set runAsUser=0"#));
    let implicit = r#"{"spec":{"containers":[{"name":"c"},{"name":"d","securityContext":{"runAsNonRoot":true}}]}}"#;
    assert_eq!(
        failure(R, "latest", implicit, "runAsNonRoot"),
        pair("runAsNonRoot != true", r#"pod or container "c" must set securityContext.runAsNonRoot=true"#)
    );
    // runAsUser is defined from 1.23; from 1.35 a pod in a user namespace is exempt from both.
    assert!(!ids(R, "v1.22", explicit).contains(&"runAsUser"));
    let userns = explicit.replace(r#""spec":{"#, r#""spec":{"hostUsers":false,"#);
    assert!(ids(R, "v1.34", &userns).contains(&"runAsNonRoot"));
    let latest = ids(R, "v1.35", &userns);
    assert!(!latest.contains(&"runAsNonRoot") && !latest.contains(&"runAsUser"), "{latest:?}");
}

#[test]
fn se_linux_options() {
    let pod = r#"{"spec":{"securityContext":{"seLinuxOptions":{"type":"spc_t"}},
        "containers":[{"name":"c","securityContext":{"seLinuxOptions":{"user":"u","level":"s0"}}}]}}"#;
    assert_eq!(
        failure(B, "latest", pod, "seLinuxOptions"),
        pair("seLinuxOptions", r#"pod and container "c" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set"#)
    );
    let role = r#"{"spec":{"securityContext":{"seLinuxOptions":{"role":"r"}}}}"#;
    assert_eq!(failure(B, "latest", role, "seLinuxOptions").1, "pod set forbidden securityContext.seLinuxOptions: role may not be set");
    // container_engine_t is allowed from 1.31.
    let engine = r#"{"spec":{"securityContext":{"seLinuxOptions":{"type":"container_engine_t"}}}}"#;
    assert_eq!(
        failure(B, "v1.30", engine, "seLinuxOptions").1,
        r#"pod set forbidden securityContext.seLinuxOptions: type "container_engine_t""#
    );
    assert_eq!(ids(B, "v1.31", engine), Vec::<&str>::new());
}

#[test]
fn se_linux_options_upstream_cases() {
    // The cases of upstream's check_seLinuxOptions_test.go (1.31 definition).
    let pod = r#"{"spec":{"securityContext":{"seLinuxOptions":{"type":"foo","user":"bar","role":"baz"}},"containers":[
        {"name":"a","securityContext":{"seLinuxOptions":{"type":"container_t"}}},
        {"name":"b","securityContext":{"seLinuxOptions":{"type":"container_init_t"}}},
        {"name":"c","securityContext":{"seLinuxOptions":{"type":"container_kvm_t"}}},
        {"name":"d","securityContext":{"seLinuxOptions":{"type":"container_engine_t"}}},
        {"name":"e","securityContext":{"seLinuxOptions":{"type":"bar"}}},
        {"name":"f","securityContext":{"seLinuxOptions":{"user":"bar"}}},
        {"name":"g","securityContext":{"seLinuxOptions":{"role":"baz"}}}]}}"#;
    assert_eq!(
        failure(B, "v1.31", pod, "seLinuxOptions").1,
        r#"pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set"#
    );
    let user = r#"{"spec":{"securityContext":{"seLinuxOptions":{"user":"bad"}}}}"#;
    assert_eq!(failure(B, "v1.31", user, "seLinuxOptions").1, "pod set forbidden securityContext.seLinuxOptions: user may not be set");
}

#[test]
fn app_armor_upstream_cases() {
    // The annotation case of upstream's check_appArmorProfile_test.go.
    let pod = r#"{"metadata":{"annotations":{
        "container.apparmor.security.beta.kubernetes.io/":"bogus",
        "container.apparmor.security.beta.kubernetes.io/a":"",
        "container.apparmor.security.beta.kubernetes.io/b":"runtime/default",
        "container.apparmor.security.beta.kubernetes.io/c":"localhost/",
        "container.apparmor.security.beta.kubernetes.io/d":"localhost/foo",
        "container.apparmor.security.beta.kubernetes.io/e":"unconfined",
        "container.apparmor.security.beta.kubernetes.io/f":"unknown"}}}"#;
    assert_eq!(
        failure(B, "latest", pod, "appArmorProfile"),
        pair(
            "forbidden AppArmor profiles",
            concat!(
                r#"annotations must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/="bogus"", "#,
                r#""container.apparmor.security.beta.kubernetes.io/e="unconfined"", "container.apparmor.security.beta.kubernetes.io/f="unknown"""#
            )
        )
    );
    let init = r#"{"spec":{"securityContext":{"appArmorProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"foo"}],
        "initContainers":[{"name":"bar","securityContext":{"appArmorProfile":{"type":"Unconfined"}}}]}}"#;
    assert_eq!(
        failure(B, "latest", init, "appArmorProfile"),
        pair("forbidden AppArmor profile", r#"container "bar" must not set AppArmor profile type to "Unconfined""#)
    );
}

#[test]
fn host_probes_forbid_every_host() {
    // Loopback addresses are hosts too (upstream's fixtures fail 127.0.0.1 and ::1).
    let pod = r#"{"spec":{"containers":[{"name":"a","livenessProbe":{"httpGet":{"host":"127.0.0.1"}},"readinessProbe":{"tcpSocket":{"host":"::1"}}}]}}"#;
    assert_eq!(
        failure(B, "latest", pod, "hostProbesAndHostLifecycle").1,
        r#"container "a" uses probe or lifecycle hosts "127.0.0.1", "::1""#
    );
}

#[test]
fn seccomp() {
    let pod = r#"{"spec":{"securityContext":{"seccompProfile":{"type":"Unconfined"}},"containers":[
        {"name":"c","securityContext":{"seccompProfile":{"type":"Unconfined"}}},
        {"name":"d","securityContext":{"seccompProfile":{}}}]}}"#;
    let expected =
        pair("seccompProfile", r#"pod and containers "c", "d" must not set securityContext.seccompProfile.type to "", "Unconfined""#);
    assert_eq!(failure(B, "v1.19", pod, "seccompProfile_baseline"), expected);
    assert_eq!(failure(R, "latest", pod, "seccompProfile_restricted"), expected);
    let implicit = r#"{"spec":{"containers":[{"name":"c"},{"name":"d","securityContext":{"seccompProfile":{"type":"Localhost"}}}]}}"#;
    assert_eq!(
        failure(R, "latest", implicit, "seccompProfile_restricted"),
        pair("seccompProfile", r#"pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#)
    );
    // Before 1.19, the alpha annotations.
    let annotations = r#"{"metadata":{"annotations":{
        "seccomp.security.alpha.kubernetes.io/pod":"unconfined",
        "container.seccomp.security.alpha.kubernetes.io/c":"unconfined",
        "container.seccomp.security.alpha.kubernetes.io/gone":"unconfined",
        "container.seccomp.security.alpha.kubernetes.io/d":"docker/default"}},
        "spec":{"containers":[{"name":"c"},{"name":"d"}]}}"#;
    assert_eq!(
        failure(B, "v1.18", annotations, "seccompProfile_baseline"),
        pair(
            "seccompProfile",
            r#"forbidden annotations container.seccomp.security.alpha.kubernetes.io/c="unconfined", seccomp.security.alpha.kubernetes.io/pod="unconfined""#
        )
    );
    assert_eq!(ids(B, "v1.19", annotations), Vec::<&str>::new());
    // Windows pods are exempt from the restricted check from 1.25, and it overrides the baseline one.
    let windows = r#"{"spec":{"os":{"name":"windows"},"securityContext":{"seccompProfile":{"type":"Unconfined"}}}}"#;
    assert_eq!(ids(R, "v1.24", windows), ["seccompProfile_restricted"]);
    assert_eq!(ids(R, "v1.25", windows), Vec::<&str>::new());
    assert_eq!(ids(B, "v1.25", windows), ["seccompProfile_baseline"]);
}

#[test]
fn sysctls_grow_with_versions() {
    let pod = |names: &[&str]| {
        let list: Vec<String> = names.iter().map(|n| format!(r#"{{"name":"{n}","value":"1"}}"#)).collect();
        format!(r#"{{"spec":{{"securityContext":{{"sysctls":[{}]}}}}}}"#, list.join(","))
    };
    let mixed = pod(&["a.b", "kernel.shm_rmid_forced", "net.ipv4.tcp_rmem", "a.b"]);
    assert_eq!(failure(B, "v1.31", &mixed, "sysctls"), pair("forbidden sysctls", "a.b, net.ipv4.tcp_rmem, a.b"));
    assert_eq!(failure(B, "v1.32", &mixed, "sysctls").1, "a.b, a.b");
    for (name, from) in [
        ("net.ipv4.ip_unprivileged_port_start", 0),
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_probes", 29),
        ("net.ipv4.tcp_wmem", 32),
        ("net.ipv4.tcp_notsent_lowat", 37),
        ("net.ipv4.tcp_slow_start_after_idle", 37),
    ] {
        let one = pod(&[name]);
        if from > 0 {
            assert_eq!(ids(B, &format!("v1.{}", from - 1), &one), ["sysctls"], "{name}");
        }
        assert_eq!(ids(B, &format!("v1.{from}"), &one), Vec::<&str>::new(), "{name}");
        assert_eq!(ids(B, "latest", &one), Vec::<&str>::new(), "{name}");
    }
}

#[test]
fn windows_host_process() {
    let pod = r#"{"spec":{"securityContext":{"windowsOptions":{"hostProcess":true}},
        "containers":[{"name":"c","securityContext":{"windowsOptions":{"hostProcess":true}}},{"name":"d"}]}}"#;
    assert_eq!(
        failure(B, "latest", pod, "windowsHostProcess"),
        pair("hostProcess", r#"pod and container "c" must not set securityContext.windowsOptions.hostProcess=true"#)
    );
}

#[test]
fn app_armor() {
    let pod = r#"{"metadata":{"annotations":{
        "container.apparmor.security.beta.kubernetes.io/c":"unconfined",
        "container.apparmor.security.beta.kubernetes.io/d":"localhost/custom",
        "other":"unconfined"}},
        "spec":{"securityContext":{"appArmorProfile":{"type":"Unconfined"}},
        "containers":[{"name":"c","securityContext":{"appArmorProfile":{"type":"Unconfined"}}},
                      {"name":"d","securityContext":{"appArmorProfile":{"type":"Localhost","localhostProfile":"x"}}}]}}"#;
    assert_eq!(
        failure(B, "v1.0", pod, "appArmorProfile"),
        pair(
            "forbidden AppArmor profiles",
            r#"pod and container "c" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/c="unconfined"""#
        )
    );
    let annotation = r#"{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/c":"a\"b"}}}"#;
    assert_eq!(
        failure(B, "latest", annotation, "appArmorProfile"),
        pair(
            "forbidden AppArmor profile",
            r#"annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/c="a\"b"""#
        )
    );
}

#[test]
fn restricted_volumes() {
    let pod = r#"{"spec":{"volumes":[{"name":"a","nfs":{"server":"s","path":"/"}},{"name":"b","hostPath":{"path":"/"}},
        {"name":"c"},{"name":"d","configMap":{"name":"x"},"hostPath":{"path":"/"}},{"name":"e","image":{"reference":"x"}},
        {"name":"f","unknownSource":{}}]}}"#;
    assert_eq!(
        failure(R, "v1.0", pod, "restrictedVolumes"),
        pair("restricted volume types", r#"volumes "a", "b" use restricted volume types "hostPath", "nfs""#)
    );
    // restrictedVolumes replaces hostPathVolumes at the restricted level.
    assert!(!ids(R, "latest", pod).contains(&"hostPathVolumes"));
    let one = r#"{"spec":{"volumes":[{"name":"a","gitRepo":{"repository":"r"}}]}}"#;
    assert_eq!(failure(R, "latest", one, "restrictedVolumes").1, r#"volume "a" uses restricted volume type "gitRepo""#);
}

#[test]
fn failures_come_in_upstream_order() {
    let pod = r#"{"spec":{"hostNetwork":true,"containers":[{"name":"c","securityContext":{"privileged":true,"runAsUser":0}}],
        "securityContext":{"sysctls":[{"name":"x"}]}}}"#;
    assert_eq!(
        ids(R, "latest", pod),
        [
            "hostNamespaces",
            "privileged",
            "sysctls",
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "runAsNonRoot",
            "runAsUser",
            "seccompProfile_restricted"
        ]
    );
    let arena = Bump::new();
    let doc = crate::json::decode(pod.as_bytes(), &arena, &Limits::default()).unwrap();
    let report = evaluate(&arena, Level::Baseline, Version::LATEST, Value::Null, doc.get_or_null("spec")).unwrap();
    let mut text = String::new();
    report.write_details(&mut text).unwrap();
    assert_eq!(
        text,
        r#"host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true), forbidden sysctls (x)"#
    );
    let mut text = String::new();
    report.write_reasons(&mut text).unwrap();
    assert_eq!(text, "host namespaces, privileged, forbidden sysctls");
}

#[test]
fn violations_say_where_and_what() {
    let pod = r#"{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/c":"unconfined"}},
        "spec":{"initContainers":[{"name":"i","image":"busybox"}],
        "containers":[{"name":"c","image":"nginx:1","ports":[{"containerPort":1},{"hostPort":80}],
                       "securityContext":{"capabilities":{"add":["NET_RAW"]}}}],
        "securityContext":{"sysctls":[{"name":"ok"},{"name":"kernel.shm_rmid_forced"},{"name":"bad"}]},
        "volumes":[{"name":"v","hostPath":{"path":"/"}}]}}"#;
    let arena = Bump::new();
    let doc = crate::json::decode(pod.as_bytes(), &arena, &Limits::default()).unwrap();
    let report = evaluate(&arena, Level::Baseline, Version::LATEST, doc.get_or_null("metadata"), doc.get_or_null("spec")).unwrap();
    let paths = |control: Control, wildcard: bool| -> Vec<String> {
        report
            .failure(control)
            .unwrap()
            .violations
            .iter()
            .map(|v| {
                let mut s = String::new();
                v.write_path(&mut s, wildcard).unwrap();
                s
            })
            .collect()
    };
    assert_eq!(paths(Control::CapabilitiesBaseline, false), ["spec.containers[0].securityContext.capabilities.add"]);
    assert_eq!(paths(Control::CapabilitiesBaseline, true), ["spec.containers[*].securityContext.capabilities.add"]);
    assert_eq!(paths(Control::HostPorts, false), ["spec.containers[0].ports[1].hostPort"]);
    assert_eq!(paths(Control::Sysctls, false), ["spec.securityContext.sysctls[0].name", "spec.securityContext.sysctls[2].name"]);
    assert_eq!(paths(Control::HostPathVolumes, true), ["spec.volumes[*].hostPath"]);
    assert_eq!(paths(Control::AppArmorProfile, false), ["metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]"]);

    let caps = report.failure(Control::CapabilitiesBaseline).unwrap().violations[0];
    let c = ContainerRef { kind: ContainerKind::Containers, index: 0, name: "c", image: "nginx:1" };
    assert_eq!(caps, Violation { at: Location::Container(c), field: Field::CapabilitiesAdd, value: Offending::Str("NET_RAW") });
    let apparmor = report.failure(Control::AppArmorProfile).unwrap().violations[0];
    assert_eq!(apparmor.at.container(), Some(c));
    let ports = report.failure(Control::HostPorts).unwrap().violations[0];
    assert_eq!(ports.value, Offending::Int(80));

    // The restricted-only checks name what is missing.
    let report = evaluate(&arena, Level::Restricted, Version::LATEST, doc.get_or_null("metadata"), doc.get_or_null("spec")).unwrap();
    let ape = report.failure(Control::AllowPrivilegeEscalation).unwrap();
    assert_eq!(ape.since, Version::v1(25));
    assert_eq!(ape.violations.len(), 2);
    assert_eq!(ape.violations[0].at.container().map(|c| (c.kind, c.name, c.image)), Some((ContainerKind::InitContainers, "i", "busybox")));
    assert_eq!(ape.violations[0].value, Offending::Unset);
}

#[test]
fn malformed_pods_are_reported_not_judged() {
    let bad = r#"{"spec":{"containers":[{"name":"c","securityContext":{"privileged":"yes"}}]}}"#;
    let err = run(B, Version::LATEST, bad).unwrap_err();
    assert_eq!(
        err,
        Malformed { scope: Scope::Container(ContainerKind::Containers), field: "securityContext.privileged", expected: "a boolean" }
    );
    assert_eq!(err.to_string(), "pod field spec.containers[*].securityContext.privileged must be a boolean");
    // The privileged level reads nothing.
    assert_eq!(run(Level::Privileged, Version::LATEST, bad), Ok(vec![]));
    assert!(run(B, Version::LATEST, r#"{"spec":[]}"#).is_err());
    assert!(run(B, Version::LATEST, r#"{"spec":{"containers":[{"ports":[{"hostPort":99999999999}]}]}}"#).is_err());
    assert!(run(R, Version::LATEST, r#"{"spec":{"volumes":[{"name":"v","nfs":"x"}]}}"#).is_err());
    // `null` is the zero value, and a `null` container is an empty one.
    assert_eq!(run(B, Version::LATEST, r#"{"metadata":null,"spec":{"hostNetwork":null,"containers":[null]}}"#), Ok(vec![]));
    // Whole numbers written as floats are integers.
    let float = r#"{"spec":{"containers":[{"name":"c","ports":[{"hostPort":80.0}]}]}}"#;
    assert_eq!(failure(B, "latest", float, "hostPorts").1, r#"container "c" uses hostPort 80"#);
}

#[test]
fn single_control_evaluation_ignores_level_and_overrides() {
    let pod = r#"{"spec":{"containers":[{"name":"c","securityContext":{"capabilities":{"add":["NET_RAW"]}}}]}}"#;
    let arena = Bump::new();
    let doc = crate::json::decode(pod.as_bytes(), &arena, &Limits::default()).unwrap();
    let spec = doc.get_or_null("spec");
    // capabilities_baseline is overridden at restricted:latest, but can still be run alone.
    assert!(!controls(Level::Restricted, Version::LATEST).contains(Control::CapabilitiesBaseline));
    let f = evaluate_control(&arena, Control::CapabilitiesBaseline, Version::LATEST, Value::Null, spec).unwrap().unwrap();
    assert_eq!(f.reason, "non-default capabilities");
    assert_eq!(evaluate_control(&arena, Control::CapabilitiesRestricted, Version::v1(21), Value::Null, spec), Ok(None));
    assert_eq!(evaluate_control(&arena, Control::Privileged, Version::LATEST, Value::Null, spec), Ok(None));
}
