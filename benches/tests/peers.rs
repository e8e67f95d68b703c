//! Equal work: on every payload of `data/peers/`, every peer engine of the `peers` bench
//! (regorus' interpreter and RVM, cel, the hand-written floor) gives kyvm's verdict per
//! rule set, and that verdict is the payload's expected one (the failing payloads fail
//! every rule set for kyvm); edited payloads fail exactly the rule sets they are meant to.

use kyvm_benches::peers::{self, Cel, Kyvm, RegoInterpreter, RegoRvm, Verdict, PAYLOADS, POLICIES, RESTRICTED};
use kyvm_engine::{Limits, Scratch};

fn show(v: &Verdict) -> String {
    POLICIES.iter().zip(v).map(|(p, pass)| format!("{p}: {}", if *pass { "pass" } else { "fail" })).collect::<Vec<_>>().join(", ")
}

#[test]
fn every_engine_gives_kyvms_verdict() {
    let kyvm = Kyvm::load().expect("kyvm compiles the six policies");
    assert!(!kyvm.program.rules.is_empty());
    let mut interpreter = RegoInterpreter::load().expect("regorus loads the Rego rule sets");
    let mut rvm = RegoRvm::load().expect("regorus compiles the Rego rule sets to RVM");
    let cel = Cel::load().expect("cel compiles the expressions");
    let mut scratch = Scratch::new(Limits::default());

    for payload in PAYLOADS {
        let name = payload.name;
        let want = kyvm.end_to_end(&mut scratch, payload.bytes).unwrap_or_else(|e| panic!("{name}: kyvm: {e}"));
        assert_eq!(
            want,
            payload.expected,
            "{name}: kyvm's verdict [{}] is not the expected one [{}]",
            show(&want),
            show(&payload.expected)
        );

        // eval_only of kyvm over a review decoded once.
        let doc = Scratch::new(Limits::default());
        let value = doc.decode_json(payload.bytes).expect("decodes");
        let req = kyvm_engine::Request::from_admission_review(value).expect("a request");
        assert_eq!(kyvm.eval_only(&mut scratch, &req).unwrap(), want, "{name}: kyvm eval_only");

        let check = |engine: &str, got: Result<Verdict, String>| {
            let got = got.unwrap_or_else(|e| panic!("{name}: {engine} failed: {e}"));
            assert_eq!(got, want, "{name}: {engine} gives [{}], kyvm [{}]", show(&got), show(&want));
        };
        check("regorus", interpreter.end_to_end(payload.bytes));
        check("regorus eval_only", interpreter.eval_only(peers::rego_input(payload.bytes).unwrap()));
        check("regorus_rvm", rvm.end_to_end(payload.bytes));
        check("regorus_rvm eval_only", rvm.eval_only(peers::rego_input(payload.bytes).unwrap()));
        check("cel", cel.end_to_end(payload.bytes));
        check("cel eval_only", cel.eval_only(&Cel::input(payload.bytes).unwrap()));
        check("floor", peers::floor_end_to_end(payload.bytes));
        check("floor eval_only", Ok(peers::floor_eval(&peers::floor_decode(payload.bytes).unwrap())));
    }
}

const PRIVILEGED: &str = "disallow-privileged-containers";
const NON_ROOT: &str = "require-run-as-nonroot";
const HOST_NAMESPACES: &str = "disallow-host-namespaces";
const REGISTRIES: &str = "restrict-image-registries";
const LABELS: &str = "require-labels";
const PSS: &str = POLICIES[RESTRICTED];

/// A passing payload changed in one place (or a few), and the rule sets that must fail.
struct Edit {
    base: &'static str,
    what: &'static str,
    replace: &'static [(&'static str, &'static str)],
    fails: &'static [&'static str],
}

const fn pod(what: &'static str, replace: &'static [(&'static str, &'static str)], fails: &'static [&'static str]) -> Edit {
    Edit { base: "pod-small-pass", what, replace, fails }
}

/// A container added in front of the small Pod's `web` (whose fields the edits change).
const ADD_CONTAINER: &str = "\"containers\":[";

const EDITS: &[Edit] = &[
    // One edit per rule set; the restricted profile covers the first three too.
    pod("a privileged container", &[("\"privileged\":false", "\"privileged\":true")], &[PRIVILEGED, PSS]),
    pod("runAsNonRoot: false", &[("\"runAsNonRoot\":true", "\"runAsNonRoot\":false")], &[NON_ROOT, PSS]),
    pod("hostIPC", &[("\"enableServiceLinks\":true", "\"enableServiceLinks\":true,\"hostIPC\":true")], &[HOST_NAMESPACES, PSS]),
    pod("an unknown registry", &[("eu.foo.io/shop/web", "eu.foo.io.evil.com/shop/web")], &[REGISTRIES]),
    pod("an empty name label", &[("\"app.kubernetes.io/name\":\"web\"", "\"app.kubernetes.io/name\":\"\"")], &[LABELS]),
    // One restricted control at a time.
    pod("allowPrivilegeEscalation: true", &[("\"allowPrivilegeEscalation\":false", "\"allowPrivilegeEscalation\":true")], &[PSS]),
    pod("allowPrivilegeEscalation unset", &[("\"allowPrivilegeEscalation\":false,", "")], &[PSS]),
    pod("runAsUser: 0 on the pod", &[("\"runAsNonRoot\":true,", "\"runAsNonRoot\":true,\"runAsUser\":0,")], &[PSS]),
    pod("runAsUser: 0 on the container", &[("\"privileged\":false", "\"privileged\":false,\"runAsUser\":0")], &[PSS]),
    pod("runAsUser: 1000", &[("\"privileged\":false", "\"privileged\":false,\"runAsUser\":1000")], &[]),
    pod("seccomp Unconfined", &[("\"type\":\"RuntimeDefault\"", "\"type\":\"Unconfined\"")], &[PSS]),
    pod("no seccomp profile", &[(",\"seccompProfile\":{\"type\":\"RuntimeDefault\"}", "")], &[PSS]),
    pod(
        "the seccomp profile on the container",
        &[
            (",\"seccompProfile\":{\"type\":\"RuntimeDefault\"}", ""),
            ("\"privileged\":false", "\"privileged\":false,\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"web.json\"}"),
        ],
        &[],
    ),
    pod(
        "a hostPath volume",
        &[("\"enableServiceLinks\":true", "\"enableServiceLinks\":true,\"volumes\":[{\"name\":\"logs\",\"hostPath\":{\"path\":\"/var/log\"}}]")],
        &[PSS],
    ),
    pod(
        "an nfs volume",
        &[("\"enableServiceLinks\":true", "\"enableServiceLinks\":true,\"volumes\":[{\"name\":\"data\",\"nfs\":{\"server\":\"nfs.local\",\"path\":\"/data\"}}]")],
        &[PSS],
    ),
    pod(
        "configMap and emptyDir volumes",
        &[(
            "\"enableServiceLinks\":true",
            "\"enableServiceLinks\":true,\"volumes\":[{\"name\":\"config\",\"configMap\":{\"name\":\"web\"}},{\"name\":\"tmp\",\"emptyDir\":{}}]",
        )],
        &[],
    ),
    pod("capabilities add SYS_ADMIN", &[("\"capabilities\":{\"drop\":[\"ALL\"]}", "\"capabilities\":{\"add\":[\"SYS_ADMIN\"],\"drop\":[\"ALL\"]}")], &[PSS]),
    pod("capabilities add CHOWN", &[("\"capabilities\":{\"drop\":[\"ALL\"]}", "\"capabilities\":{\"add\":[\"CHOWN\"],\"drop\":[\"ALL\"]}")], &[PSS]),
    pod(
        "capabilities add NET_BIND_SERVICE",
        &[("\"capabilities\":{\"drop\":[\"ALL\"]}", "\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\"],\"drop\":[\"ALL\"]}")],
        &[],
    ),
    pod("capabilities without drop ALL", &[("\"capabilities\":{\"drop\":[\"ALL\"]}", "\"capabilities\":{\"drop\":[\"NET_RAW\"]}")], &[PSS]),
    pod("no capabilities", &[(",\"capabilities\":{\"drop\":[\"ALL\"]}", "")], &[PSS]),
    // The Capabilities exclusion: an image matching `redis*` may add NET_RAW without
    // dropping ALL (its registry is not an allowed one); the same container from another
    // image may not; the exclusion covers no other control.
    pod(
        "a redis:7 container adding NET_RAW",
        &[(
            ADD_CONTAINER,
            "\"containers\":[{\"name\":\"cache\",\"image\":\"redis:7\",\"securityContext\":{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"add\":[\"NET_RAW\"]}}},",
        )],
        &[REGISTRIES],
    ),
    pod(
        "a ghcr.io/kyverno/test-nginx container adding SYS_ADMIN",
        &[(
            ADD_CONTAINER,
            "\"containers\":[{\"name\":\"nginx\",\"image\":\"ghcr.io/kyverno/test-nginx:latest\",\"securityContext\":{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}},",
        )],
        &[REGISTRIES],
    ),
    pod(
        "an eu.foo.io/library/redis:7 container adding NET_RAW",
        &[(
            ADD_CONTAINER,
            "\"containers\":[{\"name\":\"cache\",\"image\":\"eu.foo.io/library/redis:7\",\"securityContext\":{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"add\":[\"NET_RAW\"]}}},",
        )],
        &[PSS],
    ),
    pod(
        "a redis:7 container adding NET_RAW, web adding SYS_ADMIN",
        &[
            (
                ADD_CONTAINER,
                "\"containers\":[{\"name\":\"cache\",\"image\":\"redis:7\",\"securityContext\":{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"add\":[\"NET_RAW\"]}}},",
            ),
            ("\"capabilities\":{\"drop\":[\"ALL\"]}", "\"capabilities\":{\"add\":[\"SYS_ADMIN\"],\"drop\":[\"ALL\"]}"),
        ],
        &[REGISTRIES, PSS],
    ),
    pod(
        "a redis:7 container allowing privilege escalation",
        &[(
            ADD_CONTAINER,
            "\"containers\":[{\"name\":\"cache\",\"image\":\"redis:7\",\"securityContext\":{\"allowPrivilegeEscalation\":true,\"capabilities\":{\"drop\":[\"ALL\"]}}},",
        )],
        &[REGISTRIES, PSS],
    ),
    pod("a host port", &[("\"containerPort\":8080", "\"containerPort\":8080,\"hostPort\":8080")], &[PSS]),
    pod("host port 0", &[("\"containerPort\":8080", "\"containerPort\":8080,\"hostPort\":0")], &[]),
    pod(
        "an unsafe sysctl",
        &[("\"runAsNonRoot\":true,", "\"runAsNonRoot\":true,\"sysctls\":[{\"name\":\"kernel.msgmax\",\"value\":\"65536\"}],")],
        &[PSS],
    ),
    pod(
        "a safe sysctl",
        &[("\"runAsNonRoot\":true,", "\"runAsNonRoot\":true,\"sysctls\":[{\"name\":\"net.ipv4.tcp_keepalive_time\",\"value\":\"600\"}],")],
        &[],
    ),
    pod("procMount: Unmasked", &[("\"privileged\":false", "\"privileged\":false,\"procMount\":\"Unmasked\"")], &[PSS]),
    pod("procMount: Default", &[("\"privileged\":false", "\"privileged\":false,\"procMount\":\"Default\"")], &[]),
    pod("SELinux type spc_t", &[("\"privileged\":false", "\"privileged\":false,\"seLinuxOptions\":{\"type\":\"spc_t\"}")], &[PSS]),
    pod("SELinux user", &[("\"runAsNonRoot\":true,", "\"runAsNonRoot\":true,\"seLinuxOptions\":{\"user\":\"system_u\"},")], &[PSS]),
    pod(
        "SELinux type container_t and a level",
        &[("\"privileged\":false", "\"privileged\":false,\"seLinuxOptions\":{\"type\":\"container_t\",\"level\":\"s0:c123,c456\"}")],
        &[],
    ),
    pod(
        "an unconfined AppArmor annotation",
        &[("\"creationTimestamp\":null", "\"annotations\":{\"container.apparmor.security.beta.kubernetes.io/web\":\"unconfined\"},\"creationTimestamp\":null")],
        &[PSS],
    ),
    pod(
        "a localhost AppArmor annotation",
        &[("\"creationTimestamp\":null", "\"annotations\":{\"container.apparmor.security.beta.kubernetes.io/web\":\"localhost/web\"},\"creationTimestamp\":null")],
        &[],
    ),
    pod("an Unconfined AppArmor profile", &[("\"privileged\":false", "\"privileged\":false,\"appArmorProfile\":{\"type\":\"Unconfined\"}")], &[PSS]),
    pod("windowsOptions.hostProcess", &[("\"privileged\":false", "\"privileged\":false,\"windowsOptions\":{\"hostProcess\":true}")], &[PSS]),
    pod(
        "a liveness probe host",
        &[("\"imagePullPolicy\":\"IfNotPresent\"", "\"imagePullPolicy\":\"IfNotPresent\",\"livenessProbe\":{\"httpGet\":{\"host\":\"10.0.0.1\",\"path\":\"/healthz\",\"port\":8080}}")],
        &[PSS],
    ),
    pod(
        "a liveness probe without host",
        &[("\"imagePullPolicy\":\"IfNotPresent\"", "\"imagePullPolicy\":\"IfNotPresent\",\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080}}")],
        &[],
    ),
    // A pod in a user namespace (hostUsers: false) need not run as non-root for the
    // profile, but keeps the restricted /proc mount.
    pod(
        "hostUsers: false and runAsNonRoot: false",
        &[("\"runAsNonRoot\":true", "\"runAsNonRoot\":false"), ("\"enableServiceLinks\":true", "\"enableServiceLinks\":true,\"hostUsers\":false")],
        &[NON_ROOT],
    ),
    pod(
        "hostUsers: false and procMount: Unmasked",
        &[
            ("\"privileged\":false", "\"privileged\":false,\"procMount\":\"Unmasked\""),
            ("\"enableServiceLinks\":true", "\"enableServiceLinks\":true,\"hostUsers\":false"),
        ],
        &[PSS],
    ),
    // A Windows pod is exempt from the Linux-only restricted controls (allowPrivilegeEscalation,
    // seccomp, capabilities), not from the baseline ones, which Kyverno runs too.
    pod(
        "a Windows pod allowing privilege escalation",
        &[
            ("\"allowPrivilegeEscalation\":false", "\"allowPrivilegeEscalation\":true"),
            ("\"enableServiceLinks\":true", "\"enableServiceLinks\":true,\"os\":{\"name\":\"windows\"}"),
        ],
        &[],
    ),
    pod(
        "a Windows pod with seccomp Unconfined",
        &[
            ("\"type\":\"RuntimeDefault\"", "\"type\":\"Unconfined\""),
            ("\"enableServiceLinks\":true", "\"enableServiceLinks\":true,\"os\":{\"name\":\"windows\"}"),
        ],
        &[PSS],
    ),
    // The Deployment: the pod template's init container.
    Edit {
        base: "deployment-pass",
        what: "an init container allowing privilege escalation",
        replace: &[("\"allowPrivilegeEscalation\":false", "\"allowPrivilegeEscalation\":true")],
        fails: &[PSS],
    },
    Edit {
        base: "deployment-pass",
        what: "an init container adding NET_ADMIN",
        replace: &[("\"drop\":[\"ALL\"]", "\"add\":[\"NET_ADMIN\"],\"drop\":[\"ALL\"]")],
        fails: &[PSS],
    },
];

/// Each rule set fails alone, and each control of the restricted profile: a passing
/// payload changed in one place fails exactly the rule sets stated, for kyvm and for every
/// engine (so no engine passes a rule set by accident, nor fails one).
#[test]
fn each_rule_set_fails_alone() {
    let kyvm = Kyvm::load().unwrap();
    let mut interpreter = RegoInterpreter::load().unwrap();
    let mut rvm = RegoRvm::load().unwrap();
    let cel = Cel::load().unwrap();
    let mut scratch = Scratch::new(Limits::default());
    let mut failures = Vec::new();
    for edit in EDITS {
        let base = PAYLOADS.iter().find(|p| p.name == edit.base).expect("a payload");
        let mut edited = std::str::from_utf8(base.bytes).unwrap().to_string();
        for (from, to) in edit.replace {
            assert!(edited.contains(from), "{}: {from} not in {}", edit.what, edit.base);
            edited = edited.replacen(from, to, 1);
        }
        let bytes = edited.as_bytes();
        let mut want = peers::ALL_PASS;
        for fails in edit.fails {
            want[POLICIES.iter().position(|p| p == fails).expect("a policy")] = false;
        }
        let name = format!("{} with {}", edit.base, edit.what);
        for (engine, got) in [
            ("kyvm", kyvm.end_to_end(&mut scratch, bytes)),
            ("regorus", interpreter.end_to_end(bytes)),
            ("regorus_rvm", rvm.end_to_end(bytes)),
            ("cel", cel.end_to_end(bytes)),
            ("floor", peers::floor_end_to_end(bytes)),
        ] {
            match got {
                Ok(got) if got == want => {}
                Ok(got) => failures.push(format!("{name}: {engine} gives [{}], expected [{}]", show(&got), show(&want))),
                Err(e) => failures.push(format!("{name}: {engine} failed: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}
