//! Mutation (`vm::mutate`) over the shared corpus's mutate policies and generated
//! Kubernetes objects: the properties the mutation webhook's answer rests on.
//!
//! The policies are every `ClusterPolicy`/`Policy` with a `mutate` rule in the classic
//! folders of `../shared/conformance/kyverno-policies` (read in place; folders ending in
//! `-cel`, `-vpol`, `-mpol`, `-gpol` skipped): about 35 files, each compiled once, alone,
//! with no error and no `K0900` (`corpus_mutate_policies_compile`). The objects are
//! generated Pods, Deployments, Jobs, CronJobs, Namespaces, ConfigMaps and the custom
//! kinds a few policies match (`ExternalSecret`, Kasten's `Policy`), with containers
//! named from a small set (a quarter of the Pods keep colliding names), images with and
//! without registry, tag or digest, optional security contexts, resources, env and
//! mounts, hostPath and projected `kube-api-access-*` volumes, tolerations, affinity,
//! labels and annotations with `/` (and `~`) in their keys: the shapes the corpus's
//! anchors, conditions and `foreach` lists look at.
//!
//! - `mutation_patch_reproduces_the_mutated_object` (property A, every policy): the
//!   JSON Patch `diff(original, mutated)` applied to the original gives the mutated
//!   object; printed with `write_patch` it is a JSON list of operations, and that text,
//!   applied to the original by a small independent JSON Patch implementation over
//!   serde_json (what the API server does with the webhook's answer), gives the mutated
//!   object too. A run in which no rule reports `pass` (nor `error`, see below) leaves
//!   the object unchanged.
//! - `mutation_is_idempotent` (property B): mutating the mutated object changes
//!   nothing (its patch is empty, no rule reports `pass`). [`NOT_IDEMPOTENT`] lists the
//!   corpus policies that Kyverno does not make idempotent either, each with the reason
//!   and the exact change a second run must be limited to (repeated appends, or a
//!   repeated prefix); for those the second run must also pass property A. So must it
//!   for Pods whose containers share a name (Kubernetes rejects them; merges by name
//!   then mix the containers up, see the test).
//! - `a_rule_that_errors_changes_nothing`: a `foreach` rule that fails at a later
//!   element discards the changes of the earlier ones, as Kyverno does (found by
//!   property A).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use kyvm_engine::patch::{apply, diff, same_data, write_patch, Op};
use kyvm_engine::vm::{self, Mutated};
use kyvm_engine::{Limits, Operation, Program, Request, RuleStatus, Value};
use kyvm_tests::corpus::{file_name, sorted_entries};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value as J};

// ---------------------------------------------------------------------------------------
// The corpus's mutate policies.

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/kyverno-policies")
}

/// One compiled policy file, named by its path under the corpus (`other/add-labels/add-labels.yaml`).
struct Policy {
    name: String,
    program: Program,
}

/// YAML files under `dir`, skipping folders whose name starts with `.` (the
/// `.kyverno-test/` and `.chainsaw-test/` suites).
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for path in sorted_entries(dir) {
        if path.is_dir() {
            if !file_name(&path).starts_with('.') {
                yaml_files(&path, out);
            }
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(path);
        }
    }
}

/// A `ClusterPolicy` or `Policy` document with a rule that has `mutate:`.
fn has_mutate_rule(text: &str) -> bool {
    serde_yaml::Deserializer::from_str(text).any(|doc| {
        let Ok(doc) = serde_yaml::Value::deserialize(doc) else { return false };
        let kind = doc.get("kind").and_then(|k| k.as_str());
        let rules = doc.get("spec").and_then(|s| s.get("rules")).and_then(|r| r.as_sequence());
        matches!(kind, Some("ClusterPolicy" | "Policy")) && rules.is_some_and(|rules| rules.iter().any(|r| r.get("mutate").is_some()))
    })
}

fn discover() -> Vec<PathBuf> {
    let root = corpus_dir();
    let mut out = Vec::new();
    for folder in sorted_entries(&root) {
        let name = file_name(&folder);
        if !folder.is_dir() || name.starts_with('.') || ["-cel", "-vpol", "-mpol", "-gpol"].iter().any(|s| name.ends_with(s)) {
            continue;
        }
        let mut files = Vec::new();
        yaml_files(&folder, &mut files);
        out.extend(files.into_iter().filter(|f| std::fs::read_to_string(f).is_ok_and(|t| has_mutate_rule(&t))));
    }
    out
}

/// Every mutate policy of the corpus, compiled once (each file alone, so that a failure
/// names its policy).
fn policies() -> &'static [Policy] {
    static POLICIES: OnceLock<Vec<Policy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let root = corpus_dir();
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for file in discover() {
            let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
            let comp = kyvm_compiler::compile_paths(std::slice::from_ref(&file));
            for d in comp.diagnostics.iter().filter(|d| d.is_error() || d.code == "K0900") {
                bad.push(format!("{name}: {} {}: {}", d.code, d.path, d.message));
            }
            out.push(Policy { name, program: comp.program });
        }
        assert!(bad.is_empty(), "mutate policies that do not compile cleanly:\n{}", bad.join("\n"));
        out
    })
}

#[test]
fn corpus_mutate_policies_compile() {
    let policies = policies();
    // About 35 files; fewer means the corpus moved or discovery broke.
    assert!(policies.len() >= 30, "found only {} mutate policies under {}", policies.len(), corpus_dir().display());
    for p in policies {
        assert!(!p.program.rules.is_empty(), "{}: no rules compiled", p.name);
    }
    for (name, _) in NOT_IDEMPOTENT {
        assert!(policies.iter().any(|p| p.name == *name), "NOT_IDEMPOTENT names {name}, which is not a corpus mutate policy");
    }
}

// ---------------------------------------------------------------------------------------
// Policies that are not idempotent by design (in Kyverno too).

/// What a second run of a non-idempotent policy may change, and nothing else.
#[derive(Clone, Copy, Debug)]
enum Repeat {
    /// Only `add` operations at the end of an existing array (`.../-` or `-1`
    /// appends, applied again).
    Appends,
    /// Only `replace` operations turning a string `s` into `prefix-s`.
    Prefix(&'static str),
}

const NOT_IDEMPOTENT: &[(&str, Repeat)] = &[
    // `add` to `/spec/containers/{{elementIndex}}/env/-` with no guard: every run appends
    // another K8S_IMAGE variable.
    ("other/add-image-as-env-var/add-image-as-env-var.yaml", Repeat::Appends),
    // `add` to `.../capabilities/add/-`, guarded only on `capabilities.drop`: every run
    // appends SETFCAP and SETUID again.
    ("psp-migration/add-capabilities/add-capabilities.yaml", Repeat::Appends),
    // `add` to `.../nodeSelectorTerms/-1/matchExpressions/-1`: `-1` on `add` appends
    // (Kyverno's negative indices count from the array with the new element), with no guard.
    ("other/add-node-affinity/add-node-affinity.yaml", Repeat::Appends),
    // Guarded by an annotation the patch does not change: every run appends the
    // `vault-secret` volume and mount again.
    ("other/add-volume-deployment/add-volume-deployment.yaml", Repeat::Appends),
    // `remoteRef.key` becomes `prefix-{{element.remoteRef.key}}`, unguarded: every run
    // adds another `prefix-`.
    ("external-secret-operator/add-external-secret-prefix/add-external-secret-prefix.yaml", Repeat::Prefix("prefix-")),
];

fn repeat_of(policy: &str) -> Option<Repeat> {
    NOT_IDEMPOTENT.iter().find(|(name, _)| *name == policy).map(|(_, r)| *r)
}

// ---------------------------------------------------------------------------------------
// Generated objects.

fn select<T: Clone + std::fmt::Debug + 'static>(items: &[T]) -> impl Strategy<Value = T> {
    prop::sample::select(items.to_vec())
}

fn object(entries: Vec<(&str, Option<J>)>) -> J {
    J::Object(entries.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect())
}

fn string_map(keys: &'static [&'static str], values: &'static [&'static str], max: usize) -> BoxedStrategy<J> {
    prop::collection::btree_map(select(keys), select(values), 0..max)
        .prop_map(|m| J::Object(m.into_iter().map(|(k, v)| (k.to_string(), J::from(v))).collect()))
        .boxed()
}

/// A map in which each key is present one time in three, with one of its own values:
/// the label or annotation a policy's condition looks for comes up often enough.
fn keyed_map(entries: &'static [(&'static str, &'static [&'static str])]) -> BoxedStrategy<J> {
    let values: Vec<_> = entries.iter().map(|(_, values)| prop::option::weighted(0.35, select(values))).collect();
    values
        .prop_map(move |values| {
            J::Object(entries.iter().zip(values).filter_map(|((k, _), v)| v.map(|v| (k.to_string(), J::from(v)))).collect())
        })
        .boxed()
}

const LABELS: &[(&str, &[&str])] = &[
    ("app", &["web", "api"]),
    ("app.kubernetes.io/name", &["checkout"]),
    ("env", &["test", "production"]),
    ("foo", &["bar", "baz"]),
    ("corp.org/can-use-serviceaccount", &["true"]),
    ("pod-security.kubernetes.io/enforce", &["restricted", "privileged"]),
];
const ANNOTATIONS: &[(&str, &[&str])] = &[
    ("inject-certs", &["enabled", "disabled"]),
    ("vault.hashicorp.com/agent-inject", &["true", "false"]),
    ("vault.k8s.corp.net/inject", &["enabled", "disabled"]),
    ("container.apparmor.security.beta.kubernetes.io/app", &["runtime/default", "unconfined"]),
    ("karpenter.sh/do-not-evict", &["true"]),
    ("request.autoscaling.kubecost.com/enabled", &["false"]),
    ("example.com/owner~team", &["platform"]),
];
const CONTAINER_NAMES: &[&str] = &["app", "web", "sidecar", "init"];
const VOLUME_NAMES: &[&str] = &["data", "host-logs", "kube-api-access-x7k2p", "config", "token"];
const QUANTITIES: &[&str] = &["100m", "1", "250m", "64Mi", "1Gi", "2Gi"];

fn image() -> BoxedStrategy<J> {
    let registry = prop::option::of(select(&["docker.io", "ghcr.io", "corp.reg.com", "localhost:5000", "my-registry.io"]));
    let repo = select(&["nginx", "library/busybox", "org/app", "team/log4j-app"]);
    let reference =
        prop::option::of(select(&[":1.25", ":latest", "@sha256:4e3f0e9b1a4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"]));
    (registry, repo, reference)
        .prop_map(|(reg, repo, reference)| {
            let mut s = String::new();
            if let Some(reg) = reg {
                s.push_str(reg);
                s.push('/');
            }
            s.push_str(repo);
            s.push_str(reference.unwrap_or(""));
            J::from(s)
        })
        .boxed()
}

fn security_context() -> BoxedStrategy<J> {
    let caps = || select(&["ALL", "SETFCAP", "SETUID", "NET_ADMIN"]);
    (
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(caps(), 0..3)),
        prop::option::of(prop::collection::vec(caps(), 0..2)),
    )
        .prop_map(|(privileged, escalation, non_root, drop, add)| {
            let capabilities =
                (drop.is_some() || add.is_some()).then(|| object(vec![("drop", drop.map(|d| json!(d))), ("add", add.map(|a| json!(a)))]));
            object(vec![
                ("privileged", privileged.map(J::from)),
                ("allowPrivilegeEscalation", escalation.map(J::from)),
                ("runAsNonRoot", non_root.map(J::from)),
                ("capabilities", capabilities),
            ])
        })
        .boxed()
}

fn resources() -> BoxedStrategy<J> {
    let keys: &'static [&'static str] = &["cpu", "memory", "ephemeral-storage"];
    (prop::option::of(string_map(keys, QUANTITIES, 3)), prop::option::of(string_map(keys, QUANTITIES, 3)))
        .prop_map(|(limits, requests)| object(vec![("limits", limits), ("requests", requests)]))
        .boxed()
}

fn container() -> BoxedStrategy<J> {
    let env = prop::collection::vec(
        (select(&["A", "LOG4J_FORMAT_MSG_NO_LOOKUPS", "K8S_IMAGE"]), select(&["1", "true", "x"]))
            .prop_map(|(n, v)| json!({"name": n, "value": v})),
        0..3,
    );
    let mounts = prop::collection::vec(
        (select(VOLUME_NAMES), select(&["/data", "/var/log", "/var/run/secrets/kubernetes.io/serviceaccount"]))
            .prop_map(|(n, p)| json!({"name": n, "mountPath": p})),
        0..3,
    );
    (
        select(CONTAINER_NAMES),
        image(),
        prop::option::of(select(&["Always", "IfNotPresent", "Never"])),
        prop::option::of(security_context()),
        prop::option::of(resources()),
        prop::option::of(env),
        prop::option::of(mounts),
    )
        .prop_map(|(name, image, pull, sc, res, env, mounts)| {
            object(vec![
                ("name", Some(J::from(name))),
                ("image", Some(image)),
                ("imagePullPolicy", pull.map(J::from)),
                ("securityContext", sc),
                ("resources", res),
                ("env", env.map(J::Array)),
                ("volumeMounts", mounts.map(J::Array)),
            ])
        })
        .boxed()
}

fn volume() -> BoxedStrategy<J> {
    let host = json!({"hostPath": {"path": "/var/log", "type": "Directory"}});
    let projected = json!({"projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}});
    let empty = json!({"emptyDir": {}});
    let config = json!({"configMap": {"name": "settings"}});
    // Mostly the usual pairs, sometimes a name with an unexpected source.
    let usual = select(&[("kube-api-access-x7k2p", 1u8), ("host-logs", 0), ("data", 2), ("config", 3), ("token", 1)]);
    let odd = (select(VOLUME_NAMES), 0..4u8);
    prop_oneof![3 => usual, 1 => odd]
        .prop_map(move |(name, source)| {
            let mut v = [&host, &projected, &empty, &config][usize::from(source)].clone();
            v["name"] = J::from(name);
            v
        })
        .boxed()
}

fn toleration() -> BoxedStrategy<J> {
    select(&["org.com/role", "node.kubernetes.io/not-ready", "dedicated"])
        .prop_map(|key| json!({"key": key, "operator": "Exists", "effect": "NoSchedule"}))
        .boxed()
}

fn affinity() -> BoxedStrategy<J> {
    prop::collection::vec(
        prop::collection::vec(select(&["zone", "zone_weight", "kubernetes.io/arch"]), 1..3)
            .prop_map(|keys| json!({"matchExpressions": keys.iter().map(|k| json!({"key": k, "operator": "Exists"})).collect::<Vec<_>>()})),
        1..3,
    )
    .prop_map(|terms| json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}))
    .boxed()
}

fn pod_spec() -> BoxedStrategy<J> {
    let containers = (
        prop::collection::vec(container(), 1..4),
        prop::option::of(prop::collection::vec(container(), 0..3)),
        prop::option::of(prop::collection::vec(container(), 1..2)),
    );
    let pod_sc = prop::option::of(
        (prop::option::of(any::<bool>()), prop::option::of(select(&[0i64, 1000, 65534])))
            .prop_map(|(non_root, user)| object(vec![("runAsNonRoot", non_root.map(J::from)), ("runAsUser", user.map(J::from))])),
    );
    let scheduling = (
        prop::option::of(prop::collection::vec(toleration(), 0..3)),
        prop::option::of(select(&["ClusterFirst", "Default", "None", "ClusterFirstWithHostNet"])),
        prop::option::of(string_map(&["foo", "disktype"], &["bar", "ssd"], 2)),
        prop::option::of(affinity()),
        prop::option::of(select(&[0i64, 1000])),
        prop::option::of(select(&["runc", "gvisor"])),
    );
    let volumes = prop::option::of(prop::collection::vec(volume(), 0..4));
    let pull_secrets = prop::option::of(select(&["my-secret", "other"]).prop_map(|n| json!([{"name": n}])));
    // Kubernetes wants the names of a Pod's containers unique: three Pods in four have
    // that, the others keep their collisions (the engine must still patch them consistently).
    let unique = prop::bool::weighted(0.75);
    (containers, pod_sc, scheduling, volumes, pull_secrets, unique)
        .prop_map(
            |(
                (mut containers, mut init, mut ephemeral),
                sc,
                (tolerations, dns, node_selector, affinity, priority, runtime),
                volumes,
                pull,
                unique,
            )| {
                if unique {
                    let mut seen: Vec<String> = Vec::new();
                    for c in containers.iter_mut().chain(init.iter_mut().flatten()).chain(ephemeral.iter_mut().flatten()) {
                        let name = c["name"].as_str().unwrap_or_default().to_string();
                        let mut fresh = name.clone();
                        let mut n = 1;
                        while seen.contains(&fresh) {
                            n += 1;
                            fresh = format!("{name}-{n}");
                        }
                        c["name"] = J::from(fresh.clone());
                        seen.push(fresh);
                    }
                }
                object(vec![
                    ("containers", Some(J::Array(containers))),
                    ("initContainers", init.map(J::Array)),
                    ("ephemeralContainers", ephemeral.map(J::Array)),
                    ("securityContext", sc),
                    ("tolerations", tolerations.map(J::Array)),
                    ("dnsPolicy", dns.map(J::from)),
                    ("nodeSelector", node_selector),
                    ("affinity", affinity),
                    ("priority", priority.map(J::from)),
                    ("runtimeClassName", runtime.map(J::from)),
                    ("volumes", volumes.map(J::Array)),
                    ("imagePullSecrets", pull),
                ])
            },
        )
        .boxed()
}

/// `metadata`: a name, maybe a namespace, labels and annotations.
fn metadata() -> BoxedStrategy<J> {
    (
        select(&["web", "api-7d9f8", "job-1"]),
        prop::option::of(select(&["default", "team-a"])),
        prop::option::of(keyed_map(LABELS)),
        prop::option::of(keyed_map(ANNOTATIONS)),
    )
        .prop_map(|(name, ns, labels, annotations)| {
            object(vec![("name", Some(J::from(name))), ("namespace", ns.map(J::from)), ("labels", labels), ("annotations", annotations)])
        })
        .boxed()
}

fn template() -> BoxedStrategy<J> {
    (prop::option::of(metadata()), pod_spec())
        .prop_map(|(meta, spec)| {
            let meta = meta.map(|mut m| {
                if let J::Object(o) = &mut m {
                    o.remove("name");
                    o.remove("namespace");
                }
                m
            });
            object(vec![("metadata", meta), ("spec", Some(spec))])
        })
        .boxed()
}

/// A Kubernetes-ish object of one of the kinds the corpus's mutate policies match.
fn k8s_object() -> BoxedStrategy<J> {
    let owner = prop::option::of(Just(json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": "1"}])));
    prop_oneof![
        4 => (metadata(), pod_spec()).prop_map(|(m, s)| json!({"apiVersion": "v1", "kind": "Pod", "metadata": m, "spec": s})),
        2 => (metadata(), template(), 1..4i64).prop_map(|(m, t, replicas)| json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": m,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": t}})),
        1 => (metadata(), template(), owner, prop::option::of(select(&[100i64, 900]))).prop_map(|(mut m, t, owner, ttl)| {
            if let (J::Object(o), Some(owner)) = (&mut m, owner) {
                o.insert("ownerReferences".into(), owner);
            }
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": m,
                   "spec": object(vec![("template", Some(t)), ("ttlSecondsAfterFinished", ttl.map(J::from))])})
        }),
        1 => (metadata(), template()).prop_map(|(m, t)| json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": m,
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": t}}}})),
        1 => prop::option::of(keyed_map(LABELS)).prop_map(|labels| json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": object(vec![("name", Some(J::from("team-a"))), ("labels", labels)])})),
        1 => metadata().prop_map(|m| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": m, "data": {"k": "v"}})),
        1 => (metadata(), prop::collection::vec((select(&["db", "api", "db/pass"]), prop::option::of(select(&["password", "token"]))), 0..3))
            .prop_map(|(m, data)| {
                let data: Vec<J> = data.into_iter().enumerate().map(|(i, (key, property))| json!({
                    "secretKey": format!("s{i}"),
                    "remoteRef": object(vec![("key", Some(J::from(key))), ("property", property.map(J::from))])})).collect();
                json!({"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret", "metadata": m,
                       "spec": {"refreshInterval": "1h", "data": data}})
            }),
        1 => (metadata(), select(&["@hourly", "@daily"])).prop_map(|(m, frequency)| json!({
            "apiVersion": "config.kio.kasten.io/v1alpha1", "kind": "Policy", "metadata": m,
            "spec": {"frequency": frequency, "retention": {"hourly": 48, "daily": 7}, "actions": [{"action": "backup"}]}})),
    ]
    .boxed()
}

/// The Pod spec of a Pod, or of a Deployment's, Job's or CronJob's template.
fn pod_spec_of(obj: &J) -> Option<&J> {
    [&obj["spec"]["template"]["spec"], &obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
        .into_iter()
        .find(|s| s.is_object())
        .or_else(|| (obj["kind"] == "Pod").then_some(&obj["spec"]))
}

/// No two containers (of any sort) share a name, as Kubernetes requires.
fn unique_container_names(obj: &J) -> bool {
    let Some(spec) = pod_spec_of(obj) else { return true };
    let mut names: Vec<&str> = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec[*k].as_array())
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let all = names.len();
    names.sort_unstable();
    names.dedup();
    names.len() == all
}

// ---------------------------------------------------------------------------------------
// An independent JSON Patch over serde_json, for the printed patch: what the API server
// does with the webhook's answer (add, remove, replace; the ops `diff` emits).

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn apply_text_patch(mut doc: J, patch: &[J]) -> Result<J, String> {
    for op in patch {
        let name = op["op"].as_str().ok_or("op without a name")?;
        let path = op["path"].as_str().ok_or("op without a path")?;
        let mut tokens: Vec<String> = match path.strip_prefix('/') {
            Some(rest) => rest.split('/').map(unescape).collect(),
            None if path.is_empty() => Vec::new(),
            None => return Err(format!("bad path {path}")),
        };
        let Some(last) = tokens.pop() else {
            match name {
                "add" | "replace" => doc = op["value"].clone(),
                _ => return Err(format!("{name} of the root")),
            }
            continue;
        };
        let mut parent = &mut doc;
        for t in &tokens {
            parent = match parent {
                J::Object(o) => o.get_mut(t),
                J::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                _ => None,
            }
            .ok_or_else(|| format!("{path}: no {t}"))?;
        }
        match (name, parent) {
            ("add", J::Object(o)) | ("replace", J::Object(o)) => {
                if name == "replace" && !o.contains_key(&last) {
                    return Err(format!("replace of missing {path}"));
                }
                o.insert(last, op["value"].clone());
            }
            ("remove", J::Object(o)) => {
                o.remove(&last).ok_or_else(|| format!("remove of missing {path}"))?;
            }
            ("add", J::Array(a)) => {
                let i = if last == "-" { a.len() } else { last.parse::<usize>().map_err(|e| format!("{path}: {e}"))? };
                if i > a.len() {
                    return Err(format!("add past the end: {path}"));
                }
                a.insert(i, op["value"].clone());
            }
            ("replace", J::Array(a)) => {
                let slot = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)).ok_or_else(|| format!("replace of missing {path}"))?;
                *slot = op["value"].clone();
            }
            ("remove", J::Array(a)) => {
                let i = last.parse::<usize>().map_err(|e| format!("{path}: {e}"))?;
                if i >= a.len() {
                    return Err(format!("remove of missing {path}"));
                }
                a.remove(i);
            }
            (name, _) => return Err(format!("{name} at {path}: not supported here or not a container")),
        }
    }
    Ok(doc)
}

// ---------------------------------------------------------------------------------------
// The properties.

fn to_json(v: Value<'_>) -> J {
    serde_json::from_str(&v.to_string()).expect("an arena document prints as JSON")
}

fn decode<'a>(bump: &'a Bump, v: &J) -> Value<'a> {
    let text = bump.alloc_str(&v.to_string());
    kyvm_engine::json::decode(text.as_bytes(), bump, &Limits::default()).expect("serde_json output decodes")
}

fn run<'a>(policy: &'a Policy, object: Value<'a>, bump: &'a Bump) -> Mutated<'a> {
    let req = Request::for_object(object, Operation::Create);
    vm::mutate(&policy.program, &req, bump, &Limits::default()).unwrap_or_else(|e| panic!("{}: engine error {e:?}", policy.name))
}

fn results(policy: &Policy, m: &Mutated<'_>) -> String {
    m.results
        .iter()
        .map(|r| {
            let rule = policy.program.rule(r.rule).map(|m| m.name.to_string()).unwrap_or_default();
            format!("{rule}: {:?} {}", r.status, r.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Property A for one mutation of `from` into `to`: the diff reproduces `to`, in the
/// arena and as printed JSON text.
fn check_patch<'a>(policy: &Policy, bump: &'a Bump, from: Value<'a>, to: Value<'a>) -> Result<(), TestCaseError> {
    let mut ops = BumpVec::new_in(bump);
    diff(bump, from, to, &mut ops);
    let patched = apply(bump, from, &ops).map_err(|e| TestCaseError::fail(format!("{}: the diff does not apply: {e}", policy.name)))?;
    prop_assert!(same_data(patched, to), "{}: diff applied gives {patched}, mutated is {to}", policy.name);

    let mut text = String::new();
    write_patch(&mut text, &ops).expect("write_patch");
    let parsed: J =
        serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{}: patch is not JSON ({e}): {text}", policy.name)))?;
    let items = parsed.as_array().ok_or_else(|| TestCaseError::fail(format!("{}: patch is not a list: {text}", policy.name)))?;
    prop_assert_eq!(items.len(), ops.len());
    for item in items {
        prop_assert!(matches!(item["op"].as_str(), Some("add" | "remove" | "replace")), "{}: odd op {item}", policy.name);
        prop_assert!(item["path"].is_string(), "{}: op without path {item}", policy.name);
    }
    let by_text = apply_text_patch(to_json(from), items).map_err(|e| TestCaseError::fail(format!("{}: {e}\npatch {text}", policy.name)))?;
    prop_assert_eq!(&by_text, &to_json(to), "{}: the printed patch gives another object\npatch {}", policy.name, text);
    Ok(())
}

/// The second run of a [`NOT_IDEMPOTENT`] policy changed only what `repeat` allows.
fn check_repeat<'a>(policy: &Policy, repeat: Repeat, bump: &'a Bump, first: Value<'a>, second: Value<'a>) -> Result<(), TestCaseError> {
    let mut ops = BumpVec::new_in(bump);
    diff(bump, first, second, &mut ops);
    for op in ops.iter() {
        let ok = match (repeat, op) {
            (Repeat::Appends, Op::Add { path, .. }) => {
                // `diff` adds an array's new tail at indices from the old length on.
                let (last, parent) = path.tokens.split_last().expect("not the root");
                let old = kyvm_engine::patch::get(first, &kyvm_engine::patch::Pointer { tokens: parent });
                matches!((old, last.parse::<usize>()), (Some(Value::Array(items)), Ok(i)) if i >= items.len())
            }
            (Repeat::Prefix(prefix), Op::Replace { path, value }) => {
                let old = kyvm_engine::patch::get(first, path);
                matches!((old, value), (Some(Value::Str(old)), Value::Str(new)) if new.strip_prefix(prefix) == Some(old))
            }
            _ => false,
        };
        prop_assert!(ok, "{}: a second run may only repeat its {repeat:?}, but did {op:?}", policy.name);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mutation_patch_reproduces_the_mutated_object(obj in k8s_object()) {
        for policy in policies() {
            let bump = Bump::new();
            let original = decode(&bump, &obj);
            let m = run(policy, original, &bump);
            // Only `pass` changes the object; a rule that errors changes nothing.
            let changed = m.results.iter().any(|r| r.status == RuleStatus::Pass);
            if !changed {
                prop_assert!(same_data(original, m.object), "{}: no rule passed, yet the object changed: {}", policy.name, results(policy, &m));
            }
            check_patch(policy, &bump, original, m.object)?;
        }
    }

    #[test]
    fn mutation_is_idempotent(obj in k8s_object()) {
        // Containers sharing a name (Kubernetes rejects such Pods) make merges by name
        // and per-element `foreach` values interfere: a `foreach` element whose own value
        // is null patches its namesakes too (set-karpenter-non-cpu-limits deletes the
        // `requests.memory` another container with the same name had). There only
        // property A is required of the second run.
        let strict = unique_container_names(&obj);
        for policy in policies() {
            let bump = Bump::new();
            let original = decode(&bump, &obj);
            let first = run(policy, original, &bump);
            let second = run(policy, first.object, &bump);
            match repeat_of(&policy.name) {
                None if strict => {
                    prop_assert!(
                        same_data(first.object, second.object),
                        "{}: not idempotent\nobject  {}\nfirst   {} ({})\nsecond  {} ({})",
                        policy.name, obj, first.object, results(policy, &first), second.object, results(policy, &second)
                    );
                    prop_assert!(
                        !second.results.iter().any(|r| r.status == RuleStatus::Pass),
                        "{}: a second run reports pass: {}", policy.name, results(policy, &second)
                    );
                }
                None => check_patch(policy, &bump, first.object, second.object)?,
                Some(repeat) => {
                    check_patch(policy, &bump, first.object, second.object)?;
                    check_repeat(policy, repeat, &bump, first.object, second.object)?;
                }
            }
        }
    }
}

/// A rule that reports `error` leaves the resource as it was: Kyverno discards the
/// patches of a rule that fails, including those of `foreach` elements that succeeded
/// before the failing one. Found by property A with the corpus's add-capabilities
/// policy (an `add` to `/spec/containers/{{elementIndex}}/...` past the end for an
/// element counted among init containers).
#[test]
fn a_rule_that_errors_changes_nothing() {
    let policy = "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: partial-foreach
spec:
  rules:
  - name: label-per-container
    match:
      any:
      - resources:
          kinds: [Pod]
    mutate:
      foreach:
      - list: request.object.spec.containers
        patchesJson6902: |-
          - op: test
            path: /spec/containers/{{elementIndex}}/name
            value: app
          - op: add
            path: /metadata/labels/patched-{{elementIndex}}
            value: \"yes\"
";
    let comp = kyvm_compiler::compile_str("partial-foreach.yaml", policy);
    assert!(comp.diagnostics.is_empty(), "{:?}", comp.diagnostics);
    let bump = Bump::new();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "app", "image": "nginx"}, {"name": "other", "image": "nginx"}]}});
    let original = decode(&bump, &pod);
    let req = Request::for_object(original, Operation::Create);
    let m = vm::mutate(&comp.program, &req, &bump, &Limits::default()).expect("mutate");
    assert_eq!(m.results.len(), 1);
    assert_eq!(m.results[0].status, RuleStatus::Error, "{}", m.results[0].message);
    assert!(same_data(original, m.object), "the failed rule changed the Pod: {}", m.object);
}
