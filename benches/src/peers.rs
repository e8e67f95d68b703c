//! The rule sets, payloads and engines of the `peers` bench and of its equal-work test
//! (`tests/peers.rs`): six Kyverno policies stated for kyvm (the policy YAML), for
//! regorus (Rego, run by its interpreter and by its RVM bytecode VM), for the `cel` crate
//! (ValidatingAdmissionPolicy-style expressions over `object`) and in hand-written Rust
//! (the floor). Every engine answers a [`Verdict`]: pass or fail per policy.
//!
//! Each engine has an `end_to_end` function (AdmissionReview bytes in, verdict out, with
//! the engine's own JSON → input conversion) and an `eval_only` function over an input
//! prepared once.

use std::path::PathBuf;
use std::sync::Arc;

use cel::common::value::{CowVal, Val};

use kyvm_engine::verdict::Evaluation;
use kyvm_engine::{vm, Program, Request, RuleStatus, Scratch};
use serde::Deserialize;

/// The six rule sets, in the order of a [`Verdict`] (the policy names of the YAML).
pub const POLICIES: [&str; 6] = [
    "disallow-privileged-containers",
    "require-run-as-nonroot",
    "disallow-host-namespaces",
    "restrict-image-registries",
    "require-labels",
    "podsecurity-subrule-restricted-capabilities",
];

/// The index in [`POLICIES`] of the Pod Security Standards restricted profile
/// (`validate.podSecurity`, level `restricted`, version `latest`, the `Capabilities`
/// control exempt for the images `ghcr.io/kyverno/test-nginx*` and `redis*`).
pub const RESTRICTED: usize = 5;

/// The CEL file of each rule set in `peers/cel/`, in the order of [`POLICIES`].
const CEL_FILES: [&str; 6] = [
    "disallow-privileged-containers",
    "require-run-as-nonroot",
    "disallow-host-namespaces",
    "restrict-image-registries",
    "require-labels",
    "pod-security-restricted",
];

/// Pass (`true`) or fail per policy of [`POLICIES`]. A policy whose rules do not match
/// the resource passes.
pub type Verdict = [bool; 6];

/// All six policies pass.
pub const ALL_PASS: Verdict = [true; 6];

/// All six policies fail.
pub const ALL_FAIL: Verdict = [false; 6];

/// One AdmissionReview of `data/peers/`.
#[derive(Clone, Copy, Debug)]
pub struct Payload {
    pub name: &'static str,
    pub bytes: &'static [u8],
    /// The verdict every engine must give: all pass for `-pass` payloads, all fail for
    /// `-fail` ones (each rule set has a rule that fails).
    pub expected: Verdict,
}

macro_rules! payload {
    ($name:literal, $expected:expr) => {
        Payload { name: $name, bytes: include_bytes!(concat!("../data/peers/", $name, ".json")), expected: $expected }
    };
}

/// The six payloads: a small Pod, a large Pod and a Deployment, each passing and failing.
pub const PAYLOADS: [Payload; 6] = [
    payload!("pod-small-pass", ALL_PASS),
    payload!("pod-small-fail", ALL_FAIL),
    payload!("pod-large-pass", ALL_PASS),
    payload!("pod-large-fail", ALL_FAIL),
    payload!("deployment-pass", ALL_PASS),
    payload!("deployment-fail", ALL_FAIL),
];

/// `benches/peers/`: the Rego, CEL and Kyverno sources of the rule sets.
pub fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The Kyverno policy files of the six rule sets: five from the conformance corpus and
/// `disallow-host-namespaces`, which the corpus lacks, from `peers/kyverno/`.
pub fn kyverno_policy_files() -> Vec<PathBuf> {
    let root = crate::conformance_dir().join("kyverno-policies");
    vec![
        root.join("pod-security/baseline/disallow-privileged-containers/disallow-privileged-containers.yaml"),
        root.join("pod-security/restricted/require-run-as-nonroot/require-run-as-nonroot.yaml"),
        peers_dir().join("kyverno/disallow-host-namespaces.yaml"),
        root.join("best-practices/restrict-image-registries/restrict-image-registries.yaml"),
        root.join("best-practices/require-labels/require-labels.yaml"),
        root.join("pod-security/subrule/restricted/restricted-exclude-capabilities/restricted-exclude-capabilities.yaml"),
    ]
}

fn policy_index(name: &str) -> Option<usize> {
    POLICIES.iter().position(|p| *p == name)
}

// ---------------------------------------------------------------------------------------
// kyvm
// ---------------------------------------------------------------------------------------

/// The six policies compiled by kyvm.
pub struct Kyvm {
    pub program: Program,
    /// For each rule of `program`, its policy's index in [`POLICIES`].
    rule_policy: Vec<usize>,
}

impl Kyvm {
    pub fn load() -> Result<Kyvm, String> {
        let files = kyverno_policy_files();
        let compilation = kyvm_compiler::compile_paths(&files);
        if compilation.has_errors() || compilation.diagnostics.iter().any(|d| d.code == "K0900") {
            return Err(format!("the peers' policies do not compile cleanly: {:?}", compilation.diagnostics));
        }
        let program = compilation.program;
        let mut rule_policy = Vec::with_capacity(program.rules.len());
        for rule in &program.rules {
            let policy = program.policy(rule.policy).ok_or("rule without policy")?;
            rule_policy.push(policy_index(&policy.name).ok_or_else(|| format!("unexpected policy {}", policy.name))?);
        }
        Ok(Kyvm { program, rule_policy })
    }

    /// The verdict of an evaluation: a policy fails when any of its rules fails.
    pub fn verdict(&self, eval: &Evaluation<'_>) -> Result<Verdict, String> {
        let mut verdict = ALL_PASS;
        for r in eval.results.iter() {
            match r.status {
                RuleStatus::Fail => verdict[self.rule_policy[r.rule.index()]] = false,
                RuleStatus::Error => return Err(format!("rule error: {}", r.message)),
                _ => {}
            }
        }
        Ok(verdict)
    }

    /// Reset, decode, build the request, evaluate.
    pub fn end_to_end(&self, scratch: &mut Scratch, bytes: &[u8]) -> Result<Verdict, String> {
        scratch.reset();
        let value = scratch.decode_json(bytes).map_err(|e| format!("{e:?}"))?;
        let req = Request::from_admission_review(value).ok_or("not an AdmissionReview with a request")?;
        let eval = vm::evaluate(&self.program, &req, scratch.arena(), &scratch.limits).map_err(|e| format!("{e:?}"))?;
        self.verdict(&eval)
    }

    /// Evaluate a request decoded beforehand (in another scratch).
    pub fn eval_only(&self, scratch: &mut Scratch, req: &Request<'_>) -> Result<Verdict, String> {
        scratch.reset();
        let eval = vm::evaluate(&self.program, req, scratch.arena(), &scratch.limits).map_err(|e| format!("{e:?}"))?;
        self.verdict(&eval)
    }
}

// ---------------------------------------------------------------------------------------
// regorus: interpreter and RVM
// ---------------------------------------------------------------------------------------

/// The Rego entry point: the set of the names of the failing policies.
pub const REGO_ENTRY_POINT: &str = "data.kyvm.peers.failing";

fn rego_engine() -> Result<regorus::Engine, String> {
    let mut engine = regorus::Engine::new();
    let dir = peers_dir().join("rego");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rego"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        engine.add_policy(file.display().to_string(), text).map_err(|e| format!("{e}"))?;
    }
    Ok(engine)
}

/// The verdict of the `failing` set.
fn rego_verdict(value: &regorus::Value) -> Result<Verdict, String> {
    let mut verdict = ALL_PASS;
    if *value == regorus::Value::Undefined {
        return Ok(verdict);
    }
    let set = value.as_set().map_err(|e| format!("`failing` is not a set: {e} ({value})"))?;
    for name in set.iter() {
        let name = name.as_string().map_err(|e| format!("{e}"))?;
        verdict[policy_index(name).ok_or_else(|| format!("unknown policy {name}"))?] = false;
    }
    Ok(verdict)
}

/// regorus' JSON → `regorus::Value` (its own parser over serde_json).
pub fn rego_input(bytes: &[u8]) -> Result<regorus::Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{e}"))?;
    regorus::Value::from_json_str(text).map_err(|e| format!("{e}"))
}

/// The Rego rule sets in regorus' tree-walking interpreter.
#[derive(Clone)]
pub struct RegoInterpreter {
    engine: regorus::Engine,
}

impl RegoInterpreter {
    pub fn load() -> Result<RegoInterpreter, String> {
        let mut engine = rego_engine()?;
        // Parse and prepare once, so that the first review does not pay for it.
        engine.set_input(regorus::Value::new_object());
        engine.eval_rule(REGO_ENTRY_POINT.to_string()).map_err(|e| format!("{e}"))?;
        Ok(RegoInterpreter { engine })
    }

    pub fn end_to_end(&mut self, bytes: &[u8]) -> Result<Verdict, String> {
        let input = rego_input(bytes)?;
        self.eval_only(input)
    }

    pub fn eval_only(&mut self, input: regorus::Value) -> Result<Verdict, String> {
        self.engine.set_input(input);
        let value = self.engine.eval_rule(REGO_ENTRY_POINT.to_string()).map_err(|e| format!("{e}"))?;
        rego_verdict(&value)
    }
}

/// The Rego rule sets compiled to RVM bytecode and run by `regorus::rvm::RegoVM`.
pub struct RegoRvm {
    vm: regorus::rvm::RegoVM,
}

impl RegoRvm {
    pub fn load() -> Result<RegoRvm, String> {
        let mut engine = rego_engine()?;
        let entry: regorus::Rc<str> = REGO_ENTRY_POINT.into();
        let compiled = engine.compile_with_entrypoint(&entry).map_err(|e| format!("{e}"))?;
        let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, &[REGO_ENTRY_POINT])
            .map_err(|e| format!("{e}"))?;
        let mut vm = regorus::rvm::RegoVM::new();
        vm.load_program(program);
        Ok(RegoRvm { vm })
    }

    pub fn end_to_end(&mut self, bytes: &[u8]) -> Result<Verdict, String> {
        let input = rego_input(bytes)?;
        self.eval_only(input)
    }

    pub fn eval_only(&mut self, input: regorus::Value) -> Result<Verdict, String> {
        self.vm.set_input(input);
        let value = self.vm.execute().map_err(|e| format!("{e}"))?;
        rego_verdict(&value)
    }
}

// ---------------------------------------------------------------------------------------
// cel
// ---------------------------------------------------------------------------------------

/// The kinds Kyverno's autogen covers with the pod template at `spec.template`.
const CONTROLLERS: [&str; 6] = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"];

/// The CEL expressions (true = pass), compiled in their Pod form and in the autogen form
/// for pod controllers.
pub struct Cel {
    pod: Vec<cel::Program>,
    controller: Vec<cel::Program>,
    /// The standard library, built once and shared by every evaluation's context.
    env: Arc<cel::Env>,
}

/// Kyverno's CEL autogen for controllers with a pod template: the Pod's `spec` and
/// `metadata` are read from `object.spec.template`.
fn cel_autogen(expr: &str) -> String {
    expr.replace("object.spec", "object.spec.template.spec").replace("object.metadata", "object.spec.template.metadata")
}

/// The CEL input: `request.object` of the review in the interpreter's own value
/// representation (`Box<dyn Val>`), with the request's kind. Binding a `cel::Value` to a
/// context converts it to that representation, deeply, on every binding; a prepared
/// `CelInput` is bound by reference through a [`cel::context::VariableResolver`].
pub struct CelInput {
    pub kind: String,
    pub object: Box<dyn Val>,
}

impl cel::context::VariableResolver for CelInput {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        (variable == "object").then(|| CowVal::Borrowed(&*self.object))
    }
}

impl Cel {
    pub fn load() -> Result<Cel, String> {
        let dir = peers_dir().join("cel");
        let mut pod = Vec::new();
        let mut controller = Vec::new();
        for name in CEL_FILES {
            let file = dir.join(format!("{name}.cel"));
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let text = text.trim();
            pod.push(cel::Program::compile(text).map_err(|e| format!("{}: {e}", file.display()))?);
            controller.push(cel::Program::compile(&cel_autogen(text)).map_err(|e| format!("{}: {e}", file.display()))?);
        }
        Ok(Cel { pod, controller, env: Arc::new(cel::Env::stdlib()) })
    }

    /// serde_json → `cel::Value` → `Box<dyn Val>` of `request.object`.
    pub fn input(bytes: &[u8]) -> Result<CelInput, String> {
        let mut review: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("{e}"))?;
        let request = review.get_mut("request").ok_or("no request")?;
        let kind = request.pointer("/kind/kind").and_then(|k| k.as_str()).unwrap_or_default().to_string();
        let object = request.get_mut("object").map(serde_json::Value::take).unwrap_or_default();
        let object = cel::to_value(object).map_err(|e| format!("{e}"))?;
        let object: Box<dyn Val> = object.try_into().map_err(|e| format!("{e:?}"))?;
        Ok(CelInput { kind, object })
    }

    pub fn end_to_end(&self, bytes: &[u8]) -> Result<Verdict, String> {
        let input = Cel::input(bytes)?;
        self.eval_only(&input)
    }

    pub fn eval_only(&self, input: &CelInput) -> Result<Verdict, String> {
        let programs = if input.kind == "Pod" {
            &self.pod
        } else if CONTROLLERS.contains(&input.kind.as_str()) {
            &self.controller
        } else {
            return Ok(ALL_PASS);
        };
        let mut ctx = cel::Context::with_env(self.env.clone());
        ctx.set_variable_resolver(input);
        let mut verdict = ALL_PASS;
        for (i, program) in programs.iter().enumerate() {
            match program.execute(&ctx) {
                Ok(cel::Value::Bool(pass)) => verdict[i] = pass,
                Ok(other) => return Err(format!("{}: not a bool: {other:?}", POLICIES[i])),
                Err(e) => return Err(format!("{}: {e}", POLICIES[i])),
            }
        }
        Ok(verdict)
    }
}

// ---------------------------------------------------------------------------------------
// The floor: hand-written Rust over typed serde
// ---------------------------------------------------------------------------------------

/// The fields of an AdmissionReview the six rule sets read.
#[derive(Deserialize)]
pub struct FloorReview<'a> {
    #[serde(borrow)]
    pub request: FloorRequest<'a>,
}

#[derive(Deserialize)]
pub struct FloorRequest<'a> {
    #[serde(borrow)]
    pub kind: FloorKind<'a>,
    #[serde(borrow)]
    pub object: Option<FloorObject<'a>>,
}

#[derive(Deserialize)]
pub struct FloorKind<'a> {
    pub kind: &'a str,
}

/// A Pod, or a pod template, or a controller (whose `spec.template` is read).
#[derive(Deserialize)]
pub struct FloorObject<'a> {
    #[serde(borrow)]
    pub metadata: Option<FloorMetadata<'a>>,
    #[serde(borrow)]
    pub spec: Option<FloorSpec<'a>>,
}

#[derive(Deserialize)]
pub struct FloorMetadata<'a> {
    #[serde(borrow)]
    pub labels: Option<FloorLabels<'a>>,
    #[serde(borrow)]
    pub annotations: Option<FloorAnnotations<'a>>,
}

#[derive(Deserialize)]
pub struct FloorLabels<'a> {
    #[serde(rename = "app.kubernetes.io/name")]
    pub name: Option<&'a str>,
}

/// The annotation key prefix of the AppArmor beta annotations.
const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// Of the annotations, only the values of the AppArmor ones (`null` is `""`); the other
/// values are skipped.
pub struct FloorAnnotations<'a> {
    pub app_armor: Vec<&'a str>,
}

/// A map key classified as it is read (an escaped key needs no borrow).
struct KeyIs<F>(F);

impl<'de, F: FnOnce(&str) -> bool> serde::de::DeserializeSeed<'de> for KeyIs<F> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        struct Classify<F>(F);
        impl<F: FnOnce(&str) -> bool> serde::de::Visitor<'_> for Classify<F> {
            type Value = bool;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map key")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
                Ok((self.0)(key))
            }
        }
        d.deserialize_str(Classify(self.0))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for FloorAnnotations<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Annotations<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Annotations<'a> {
            type Value = FloorAnnotations<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("annotations")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut app_armor = Vec::new();
                while let Some(is_app_armor) = map.next_key_seed(KeyIs(|k: &str| k.starts_with(APPARMOR_ANNOTATION_PREFIX)))? {
                    if is_app_armor {
                        app_armor.push(map.next_value::<Option<&'de str>>()?.unwrap_or(""));
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(FloorAnnotations { app_armor })
            }
        }
        d.deserialize_map(Annotations(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorSpec<'a> {
    #[serde(borrow)]
    pub containers: Option<Vec<FloorContainer<'a>>>,
    #[serde(borrow)]
    pub init_containers: Option<Vec<FloorContainer<'a>>>,
    #[serde(borrow)]
    pub ephemeral_containers: Option<Vec<FloorContainer<'a>>>,
    #[serde(borrow)]
    pub security_context: Option<FloorSecurityContext<'a>>,
    #[serde(rename = "hostPID")]
    pub host_pid: Option<bool>,
    #[serde(rename = "hostIPC")]
    pub host_ipc: Option<bool>,
    pub host_network: Option<bool>,
    pub host_users: Option<bool>,
    #[serde(borrow)]
    pub os: Option<FloorOs<'a>>,
    pub volumes: Option<Vec<FloorVolume>>,
    /// A controller's pod template.
    #[serde(borrow)]
    pub template: Option<Box<FloorObject<'a>>>,
}

#[derive(Deserialize)]
pub struct FloorOs<'a> {
    pub name: Option<&'a str>,
}

/// The volume sources the restricted profile allows. (The floor states the profile on its
/// own, as every peer does, rather than borrowing the lists of kyvm's engine.)
const ALLOWED_VOLUME_SOURCES: [&str; 9] =
    ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"];

/// The volume sources it forbids (`hostPath` among them, which the baseline forbids too).
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

/// Which kinds of source a volume sets (to a value other than `null`); the sources
/// themselves are skipped.
#[derive(Default)]
pub struct FloorVolume {
    pub host_path: bool,
    pub allowed_source: bool,
    pub restricted_source: bool,
}

impl<'de> Deserialize<'de> for FloorVolume {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Clone, Copy, PartialEq)]
        enum Source {
            HostPath,
            Allowed,
            Restricted,
            Other,
        }
        struct SourceKey;
        impl<'de> serde::de::DeserializeSeed<'de> for SourceKey {
            type Value = Source;
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Source, D::Error> {
                struct Classify;
                impl serde::de::Visitor<'_> for Classify {
                    type Value = Source;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a volume field")
                    }
                    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Source, E> {
                        Ok(if key == "hostPath" {
                            Source::HostPath
                        } else if ALLOWED_VOLUME_SOURCES.contains(&key) {
                            Source::Allowed
                        } else if RESTRICTED_VOLUME_SOURCES.contains(&key) {
                            Source::Restricted
                        } else {
                            Source::Other
                        })
                    }
                }
                d.deserialize_str(Classify)
            }
        }
        struct Volume;
        impl<'de> serde::de::Visitor<'de> for Volume {
            type Value = FloorVolume;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a volume")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<FloorVolume, M::Error> {
                let mut volume = FloorVolume::default();
                while let Some(source) = map.next_key_seed(SourceKey)? {
                    let set = map.next_value::<Option<serde::de::IgnoredAny>>()?.is_some();
                    match source {
                        Source::HostPath => {
                            volume.host_path |= set;
                            volume.restricted_source |= set;
                        }
                        Source::Allowed => volume.allowed_source |= set,
                        Source::Restricted => volume.restricted_source |= set,
                        Source::Other => {}
                    }
                }
                Ok(volume)
            }
        }
        d.deserialize_map(Volume)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorContainer<'a> {
    pub image: Option<&'a str>,
    #[serde(borrow)]
    pub security_context: Option<FloorSecurityContext<'a>>,
    pub ports: Option<Vec<FloorPort>>,
    #[serde(borrow)]
    pub liveness_probe: Option<FloorHandler<'a>>,
    #[serde(borrow)]
    pub readiness_probe: Option<FloorHandler<'a>>,
    #[serde(borrow)]
    pub startup_probe: Option<FloorHandler<'a>>,
    #[serde(borrow)]
    pub lifecycle: Option<FloorLifecycle<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorPort {
    pub host_port: Option<i64>,
}

/// A probe or a lifecycle handler: the hosts of its actions.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorHandler<'a> {
    #[serde(borrow)]
    pub http_get: Option<FloorHost<'a>>,
    #[serde(borrow)]
    pub tcp_socket: Option<FloorHost<'a>>,
}

#[derive(Deserialize)]
pub struct FloorHost<'a> {
    pub host: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorLifecycle<'a> {
    #[serde(borrow)]
    pub post_start: Option<FloorHandler<'a>>,
    #[serde(borrow)]
    pub pre_stop: Option<FloorHandler<'a>>,
}

/// A pod's or a container's `securityContext` (`sysctls` is a pod field).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorSecurityContext<'a> {
    pub privileged: Option<bool>,
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    pub allow_privilege_escalation: Option<bool>,
    #[serde(borrow)]
    pub capabilities: Option<FloorCapabilities<'a>>,
    pub proc_mount: Option<&'a str>,
    #[serde(borrow)]
    pub seccomp_profile: Option<FloorProfile<'a>>,
    #[serde(borrow)]
    pub app_armor_profile: Option<FloorProfile<'a>>,
    #[serde(borrow)]
    pub se_linux_options: Option<FloorSeLinuxOptions<'a>>,
    pub windows_options: Option<FloorWindowsOptions>,
    #[serde(borrow)]
    pub sysctls: Option<Vec<FloorSysctl<'a>>>,
}

#[derive(Deserialize)]
pub struct FloorCapabilities<'a> {
    #[serde(borrow)]
    pub add: Option<Vec<&'a str>>,
    #[serde(borrow)]
    pub drop: Option<Vec<&'a str>>,
}

/// A seccomp or AppArmor profile.
#[derive(Deserialize)]
pub struct FloorProfile<'a> {
    #[serde(rename = "type")]
    pub kind: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct FloorSeLinuxOptions<'a> {
    #[serde(rename = "type")]
    pub kind: Option<&'a str>,
    pub user: Option<&'a str>,
    pub role: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorWindowsOptions {
    pub host_process: Option<bool>,
}

#[derive(Deserialize)]
pub struct FloorSysctl<'a> {
    pub name: Option<&'a str>,
}

/// Decode the review into the typed structs.
pub fn floor_decode(bytes: &[u8]) -> Result<FloorReview<'_>, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{e}"))
}

pub fn floor_end_to_end(bytes: &[u8]) -> Result<Verdict, String> {
    let review = floor_decode(bytes)?;
    Ok(floor_eval(&review))
}

/// The six rule sets over a decoded review.
pub fn floor_eval(review: &FloorReview<'_>) -> Verdict {
    let request = &review.request;
    let Some(object) = &request.object else {
        return ALL_PASS;
    };
    let pod = if request.kind.kind == "Pod" {
        object
    } else if CONTROLLERS.contains(&request.kind.kind) {
        match object.spec.as_ref().and_then(|s| s.template.as_deref()) {
            Some(template) => template,
            // The autogen patterns all require spec.template; podSecurity reads an empty
            // pod, which passes.
            None => {
                let mut verdict = ALL_FAIL;
                verdict[RESTRICTED] = true;
                return verdict;
            }
        }
    } else {
        return ALL_PASS;
    };
    let spec = pod.spec.as_ref();
    let containers = spec.and_then(|s| s.containers.as_deref());
    let all = || {
        spec.into_iter()
            .flat_map(|s| [&s.containers, &s.init_containers, &s.ephemeral_containers].into_iter().flatten().flat_map(|v| v.iter()))
    };

    let privileged = containers.is_some() && all().all(|c| c.security_context.as_ref().and_then(|s| s.privileged) != Some(true));

    let run_as_non_root = |c: &FloorContainer<'_>| c.security_context.as_ref().and_then(|s| s.run_as_non_root);
    let pod_level = spec.and_then(|s| s.security_context.as_ref()).and_then(|s| s.run_as_non_root) == Some(true)
        && containers.is_some()
        && all().all(|c| matches!(run_as_non_root(c), None | Some(true)));
    let container_level = containers.is_some() && all().all(|c| run_as_non_root(c) == Some(true));

    let host = spec.is_some_and(|s| s.host_pid != Some(true) && s.host_ipc != Some(true) && s.host_network != Some(true));

    let registries =
        containers.is_some() && all().all(|c| c.image.is_some_and(|i| i.starts_with("eu.foo.io/") || i.starts_with("bar.io/")));

    let labels = pod.metadata.as_ref().and_then(|m| m.labels.as_ref()).and_then(|l| l.name).is_some_and(|n| !n.is_empty());

    let restricted = match spec {
        Some(spec) => floor_restricted(pod.metadata.as_ref(), spec),
        None => true,
    };

    [privileged, pod_level || container_level, host, registries, labels, restricted]
}

/// The sysctls of the baseline profile (policy version latest).
const SAFE_SYSCTLS: [&str; 14] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

/// The capabilities the baseline profile lets a container add.
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

/// The Pod Security Standards restricted profile (version latest) over a pod's metadata
/// and spec, as Kyverno runs it (every baseline control, then the restricted ones), with
/// the `Capabilities` control exempt for the images `ghcr.io/kyverno/test-nginx*` and
/// `redis*`.
fn floor_restricted(metadata: Option<&FloorMetadata<'_>>, spec: &FloorSpec<'_>) -> bool {
    const NO_CONTEXT: &FloorSecurityContext<'static> = &FloorSecurityContext {
        privileged: None,
        run_as_non_root: None,
        run_as_user: None,
        allow_privilege_escalation: None,
        capabilities: None,
        proc_mount: None,
        seccomp_profile: None,
        app_armor_profile: None,
        se_linux_options: None,
        windows_options: None,
        sysctls: None,
    };
    // Linux-only controls do not apply to a Windows pod; a pod in a user namespace is not
    // root on the host.
    let windows = spec.os.as_ref().and_then(|os| os.name) == Some("windows");
    let user_namespace = spec.host_users == Some(false);
    let pod = spec.security_context.as_ref().unwrap_or(NO_CONTEXT);

    let host_process = |sc: &FloorSecurityContext<'_>| sc.windows_options.as_ref().and_then(|w| w.host_process) == Some(true);
    let profile_ok = |p: &Option<FloorProfile<'_>>| p.as_ref().is_none_or(|p| matches!(p.kind, Some("RuntimeDefault" | "Localhost")));
    let se_linux_ok = |o: &Option<FloorSeLinuxOptions<'_>>| {
        o.as_ref().is_none_or(|o| {
            matches!(o.kind.unwrap_or(""), "" | "container_t" | "container_init_t" | "container_kvm_t" | "container_engine_t")
                && o.user.unwrap_or("").is_empty()
                && o.role.unwrap_or("").is_empty()
        })
    };
    let no_host = |h: &Option<FloorHandler<'_>>| {
        h.as_ref().is_none_or(|h| [&h.http_get, &h.tcp_socket].into_iter().flatten().all(|a| a.host.unwrap_or("").is_empty()))
    };

    // Host Namespaces.
    if spec.host_network == Some(true) || spec.host_pid == Some(true) || spec.host_ipc == Some(true) {
        return false;
    }
    // The pod's HostProcess, AppArmor, SELinux, Seccomp (a type that is set), Sysctls.
    if host_process(pod) || !profile_ok(&pod.app_armor_profile) || !se_linux_ok(&pod.se_linux_options) || !profile_ok(&pod.seccomp_profile)
    {
        return false;
    }
    if !pod.sysctls.iter().flatten().all(|s| SAFE_SYSCTLS.contains(&s.name.unwrap_or(""))) {
        return false;
    }
    // Running as Non-root, Running as Non-root user.
    if !user_namespace && (pod.run_as_non_root == Some(false) || pod.run_as_user == Some(0)) {
        return false;
    }
    // AppArmor annotations.
    let annotations = metadata.and_then(|m| m.annotations.as_ref()).map_or(&[][..], |a| &a.app_armor[..]);
    if !annotations.iter().all(|v| v.is_empty() || *v == "runtime/default" || v.starts_with("localhost/")) {
        return false;
    }
    // HostPath Volumes, Volume Types (a volume with no source is an emptyDir once defaulted).
    if !spec.volumes.iter().flatten().all(|v| !v.host_path && (v.allowed_source || !v.restricted_source)) {
        return false;
    }

    let containers = [&spec.init_containers, &spec.containers, &spec.ephemeral_containers].into_iter().flatten().flatten();
    let pod_seccomp = pod.seccomp_profile.is_some();
    containers.into_iter().all(|c| {
        let sc = c.security_context.as_ref().unwrap_or(NO_CONTEXT);
        let exempt = c.image.is_some_and(|i| i.starts_with("ghcr.io/kyverno/test-nginx") || i.starts_with("redis"));
        let capabilities = exempt
            || match &sc.capabilities {
                None => windows,
                Some(caps) => {
                    let add = caps.add.as_deref().unwrap_or_default();
                    let drop = caps.drop.as_deref().unwrap_or_default();
                    add.iter().all(|a| BASELINE_CAPABILITIES.contains(a))
                        && (windows || (drop.contains(&"ALL") && add.iter().all(|a| *a == "NET_BIND_SERVICE")))
                }
            };
        // Host Ports; Host Probes / Lifecycle Hooks.
        c.ports.iter().flatten().all(|p| matches!(p.host_port, None | Some(0)))
            && no_host(&c.liveness_probe)
            && no_host(&c.readiness_probe)
            && no_host(&c.startup_probe)
            && c.lifecycle.as_ref().is_none_or(|l| no_host(&l.post_start) && no_host(&l.pre_stop))
            // HostProcess, Privileged Containers, AppArmor, SELinux, /proc Mount Type.
            && !host_process(sc)
            && sc.privileged != Some(true)
            && profile_ok(&sc.app_armor_profile)
            && se_linux_ok(&sc.se_linux_options)
            && matches!(sc.proc_mount, None | Some("Default"))
            // Seccomp: the container's type, or else (restricted, not on Windows) the pod's.
            && if sc.seccomp_profile.is_some() { profile_ok(&sc.seccomp_profile) } else { windows || pod_seccomp }
            // Privilege Escalation.
            && (windows || sc.allow_privilege_escalation == Some(false))
            // Running as Non-root: the container's value, or else the pod's; Running as Non-root user.
            && (user_namespace || (sc.run_as_non_root.unwrap_or(pod.run_as_non_root == Some(true)) && sc.run_as_user != Some(0)))
            && capabilities
    })
}
