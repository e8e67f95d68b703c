//! Shared helpers for kyvm's cross-crate test suites.
//!
//! - [`reference`]: a naive tree-walking evaluator of Kyverno's `validate.pattern`, the
//!   other side of the differential tests against the compiled VM.
//! - [`eval`]: compile a policy and evaluate one resource, the way the CLI does.

pub mod reference;

pub mod eval {
    use kyvm_compiler::compile_str;
    use kyvm_engine::{vm, Limits, Operation, Request, RuleStatus, Scratch};

    /// One rule result, owned.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Result {
        pub rule: String,
        pub status: RuleStatus,
        pub message: String,
    }

    /// Compiles `policy_yaml` (which must compile without errors) and evaluates
    /// `resource_yaml` with operation CREATE.
    pub fn run(policy_yaml: &str, resource_yaml: &str) -> Vec<Result> {
        run_with(policy_yaml, resource_yaml, Operation::Create)
    }

    /// Like [`run`], with another operation; as in the CLI, the resource is also the
    /// old object of an UPDATE or DELETE.
    pub fn run_with(policy_yaml: &str, resource_yaml: &str, operation: Operation) -> Vec<Result> {
        let comp = compile_str("policy.yaml", policy_yaml);
        assert!(!comp.has_errors(), "policy does not compile: {:#?}", comp.diagnostics);
        let resource: serde_yaml::Value = serde_yaml::from_str(resource_yaml).expect("resource YAML");
        let scratch = Scratch::new(Limits::default());
        let object = kyvm_compiler::resource::to_arena(&resource, scratch.arena());
        let mut req = Request::for_object(object, operation);
        if operation != Operation::Create {
            req.old_object = object;
        }
        let eval = vm::evaluate(&comp.program, &req, scratch.arena(), &scratch.limits).expect("evaluation");
        eval.results
            .iter()
            .map(|r| Result {
                rule: comp.program.rule(r.rule).map(|m| m.name.to_string()).unwrap_or_default(),
                status: r.status,
                message: r.message.to_string(),
            })
            .collect()
    }
}
