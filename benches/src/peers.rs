//! The rule sets, payloads and engines of the `peers` bench and of its equal-work test
//! (`tests/peers.rs`): five Kyverno policies stated for kyvm (the policy YAML), for
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

/// The five rule sets, in the order of a [`Verdict`].
pub const POLICIES: [&str; 5] =
    ["disallow-privileged-containers", "require-run-as-nonroot", "disallow-host-namespaces", "restrict-image-registries", "require-labels"];

/// Pass (`true`) or fail per policy of [`POLICIES`]. A policy whose rules do not match
/// the resource passes.
pub type Verdict = [bool; 5];

/// All five policies pass.
pub const ALL_PASS: Verdict = [true; 5];

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
    payload!("pod-small-fail", [false; 5]),
    payload!("pod-large-pass", ALL_PASS),
    payload!("pod-large-fail", [false; 5]),
    payload!("deployment-pass", ALL_PASS),
    payload!("deployment-fail", [false; 5]),
];

/// `benches/peers/`: the Rego, CEL and Kyverno sources of the rule sets.
pub fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The Kyverno policy files of the five rule sets: four from the conformance corpus and
/// `disallow-host-namespaces`, which the corpus lacks, from `peers/kyverno/`.
pub fn kyverno_policy_files() -> Vec<PathBuf> {
    let root = crate::conformance_dir().join("kyverno-policies");
    vec![
        root.join("pod-security/baseline/disallow-privileged-containers/disallow-privileged-containers.yaml"),
        root.join("pod-security/restricted/require-run-as-nonroot/require-run-as-nonroot.yaml"),
        peers_dir().join("kyverno/disallow-host-namespaces.yaml"),
        root.join("best-practices/restrict-image-registries/restrict-image-registries.yaml"),
        root.join("best-practices/require-labels/require-labels.yaml"),
    ]
}

fn policy_index(name: &str) -> Option<usize> {
    POLICIES.iter().position(|p| *p == name)
}

// ---------------------------------------------------------------------------------------
// kyvm
// ---------------------------------------------------------------------------------------

/// The five policies compiled by kyvm.
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
        for policy in POLICIES {
            let file = dir.join(format!("{policy}.cel"));
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

/// The fields of an AdmissionReview the five rule sets read.
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
}

#[derive(Deserialize)]
pub struct FloorLabels<'a> {
    #[serde(rename = "app.kubernetes.io/name")]
    pub name: Option<&'a str>,
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
    pub security_context: Option<FloorSecurityContext>,
    #[serde(rename = "hostPID")]
    pub host_pid: Option<bool>,
    #[serde(rename = "hostIPC")]
    pub host_ipc: Option<bool>,
    pub host_network: Option<bool>,
    /// A controller's pod template.
    #[serde(borrow)]
    pub template: Option<Box<FloorObject<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorContainer<'a> {
    pub image: Option<&'a str>,
    pub security_context: Option<FloorSecurityContext>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorSecurityContext {
    pub privileged: Option<bool>,
    pub run_as_non_root: Option<bool>,
}

/// Decode the review into the typed structs.
pub fn floor_decode(bytes: &[u8]) -> Result<FloorReview<'_>, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{e}"))
}

pub fn floor_end_to_end(bytes: &[u8]) -> Result<Verdict, String> {
    let review = floor_decode(bytes)?;
    Ok(floor_eval(&review))
}

/// The five rule sets over a decoded review.
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
            // The autogen patterns all require spec.template.
            None => return [false; 5],
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

    [privileged, pod_level || container_level, host, registries, labels]
}
