//! The CLI's evaluation driver: compiled policies × resource files → rule outcomes.
//!
//! Shared by `kyvm apply` and `kyvm test`. Each resource is converted once into the
//! scratch arena; each policy is evaluated with the request facts the test inputs give
//! it (operation from the values file, namespace labels, user info), and the results are
//! copied out as owned [`Outcome`]s for printing and comparison.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use kyvm_compiler::{resource, Compilation};
use kyvm_engine::context::SuppliedVariable;
use kyvm_engine::document::{Member, Value};
use kyvm_engine::ids::PolicyId;
use kyvm_engine::patch::same_data;
use kyvm_engine::program::{FailureAction, Program, RuleKind};
use kyvm_engine::request::{Request, UserInfo};
use kyvm_engine::{vm, EngineError, RuleResult, RuleStatus, Scratch};

use crate::resources::Resource;
use crate::values::{UserInfoFile, ValuesFile};

/// Inputs besides policies and resources.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    pub values: Option<&'a ValuesFile>,
    pub user: Option<&'a UserInfoFile>,
    /// Resources `generate.clone` rules may copy (the test's `cloneSourceResource`).
    pub clone_sources: &'a [serde_yaml::Value],
}

/// One rule's result for one resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub policy: String,
    pub rule: String,
    pub kind: RuleKind,
    pub action: FailureAction,
    pub status: RuleStatus,
    pub message: String,
}

/// Everything the policies did to one resource.
#[derive(Clone, Debug, Default)]
pub struct ResourceRun {
    /// Mutate results first (policy order), then validate results.
    pub outcomes: Vec<Outcome>,
    /// The object after each policy's mutations, by policy name, for every policy with
    /// mutate rules (Kyverno's per-policy `patchedResource`).
    pub patched: Vec<(String, serde_yaml::Value)>,
    /// The object after all mutations, when any rule changed it.
    pub mutated: Option<serde_yaml::Value>,
    /// Resources `generate` rules built: (policy, rule, resource).
    pub generated: Vec<(String, String, serde_yaml::Value)>,
}

/// Applies every policy of `comp` to one resource the way Kyverno's CLI does: every
/// policy's mutations first, in policy order, each on the result of the previous; then
/// every policy's validations on the mutated resource.
pub fn evaluate_resource(
    comp: &Compilation,
    res: &Resource,
    inputs: Inputs<'_>,
    scratch: &mut Scratch,
) -> Result<ResourceRun, EngineError> {
    scratch.reset();
    let limits = scratch.limits;
    let arena = scratch.arena();
    let original = resource::to_arena(&res.value, arena);
    let namespace_labels = inputs.values.and_then(|v| v.namespace_labels(&res.namespace)).map(|labels| {
        let mut members = BumpVec::with_capacity_in(labels.len(), arena);
        for (k, v) in labels {
            members.push(Member { key: arena.alloc_str(k), value: Value::Str(arena.alloc_str(v)) });
        }
        Value::Object(members.into_bump_slice())
    });
    let strings = |items: &[String]| -> &[Value<'_>] {
        let mut out = BumpVec::with_capacity_in(items.len(), arena);
        out.extend(items.iter().map(|s| Value::Str(arena.alloc_str(s))));
        out.into_bump_slice()
    };
    let user = inputs
        .user
        .map(|u| UserInfo {
            username: arena.alloc_str(&u.user_info.username),
            groups: strings(&u.user_info.groups),
            roles: strings(&u.roles),
            cluster_roles: strings(&u.cluster_roles),
        })
        .unwrap_or_default();
    let program = &comp.program;
    let clone_sources: &[Value<'_>] = {
        let mut out = BumpVec::with_capacity_in(inputs.clone_sources.len(), arena);
        out.extend(inputs.clone_sources.iter().map(|v| resource::to_arena(v, arena)));
        out.into_bump_slice()
    };
    let make_request = |object, policy: &str| {
        let operation = inputs.values.map(|v| v.operation(policy, &res.name)).unwrap_or(kyvm_engine::Operation::Create);
        let mut req = Request::for_object(object, operation);
        if operation != kyvm_engine::Operation::Create {
            req.old_object = object;
        }
        if let Some(labels) = namespace_labels {
            req.namespace_labels = labels;
        }
        req.user = user;
        req.clone_sources = clone_sources;
        if let Some(values) = inputs.values {
            req.variables = supplied_variables(values, policy, &res.name, arena);
        }
        req
    };
    let mut run = ResourceRun::default();
    let mut object = original;
    for (index, policy) in program.policies.iter().enumerate() {
        let id = PolicyId(index as u32);
        let mutates = program.rules.iter().any(|r| r.policy == id && r.kind == RuleKind::Mutate);
        if !mutates {
            continue;
        }
        let req = make_request(object, &policy.name);
        let mutated = vm::mutate_policy(program, id, &req, arena, &limits)?;
        collect(program, &policy.name, mutated.results.iter(), &mut run.outcomes);
        object = mutated.object;
        run.patched.push((policy.name.to_string(), resource::from_arena(&object)));
    }
    if !same_data(original, object) {
        run.mutated = Some(resource::from_arena(&object));
    }
    for (index, policy) in program.policies.iter().enumerate() {
        let req = make_request(object, &policy.name);
        let eval = vm::evaluate_policy(program, PolicyId(index as u32), &req, arena, &limits)?;
        collect(program, &policy.name, eval.results.iter(), &mut run.outcomes);
        for (rule, resource) in eval.generated.iter() {
            let rule = program.rule(*rule).map_or_else(String::new, |r| r.name.to_string());
            run.generated.push((policy.name.to_string(), rule, resource::from_arena(resource)));
        }
    }
    Ok(run)
}

/// Copies rule results out of the arena.
fn collect<'r>(program: &Program, policy: &str, results: impl Iterator<Item = &'r RuleResult<'r>>, out: &mut Vec<Outcome>) {
    for r in results {
        let Some(rule) = program.rule(r.rule) else { continue };
        out.push(Outcome {
            policy: policy.to_string(),
            rule: rule.name.to_string(),
            kind: rule.kind,
            action: rule.action,
            status: r.status,
            message: r.message.to_string(),
        });
    }
}

/// The values file's variables for one policy and resource, in the evaluation arena.
fn supplied_variables<'a>(values: &ValuesFile, policy: &str, resource_name: &str, arena: &'a Bump) -> &'a [SuppliedVariable<'a>] {
    let mut out = BumpVec::new_in(arena);
    for v in values.variables(policy, resource_name) {
        out.push(SuppliedVariable {
            rule: v.rule.map(|r| &*arena.alloc_str(r)),
            path: arena.alloc_str(v.path),
            value: resource::to_arena(v.value, arena),
            per_element: false,
        });
    }
    for (rule, key, items) in values.foreach_values(policy) {
        let mut list = BumpVec::with_capacity_in(items.len(), arena);
        list.extend(items.iter().map(|i| resource::to_arena(i, arena)));
        out.push(SuppliedVariable {
            rule: Some(arena.alloc_str(rule)),
            path: arena.alloc_str(key),
            value: Value::Array(list.into_bump_slice()),
            per_element: true,
        });
    }
    out.into_bump_slice()
}
