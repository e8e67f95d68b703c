//! Running `mutate` rules: [`mutate`] applies every matching mutate rule in policy and
//! rule order, each to the resource the previous one left, and returns the mutated
//! object (the JSON Patch is [`crate::patch::diff`] of the two).
//!
//! A rule reports `pass` when it changed the resource and `skip` when it did not (a
//! condition anchor that did not hold, an `+()` on a key already there, a patch that
//! sets what is already set), as Kyverno does; `error` when a variable does not resolve
//! or the patch cannot be applied. After a change the JSON context's `request.object`
//! is the mutated object, for the rules (and `foreach` elements) that follow.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use super::{object_names, run_candidates, Outcome, Vm};
use crate::document::Value;
use crate::ids::{Addr, MutationId, PolicyId};
use crate::limits::Limits;
use crate::mutate::{merge, overlay, MutateForEach, Mutation};
use crate::patch::same_data;
use crate::program::{Program, RuleKind, RuleMeta};
use crate::request::{Operation, Request};
use crate::verdict::{EngineError, EngineErrorKind, RuleResult, RuleStatus};

/// What [`mutate`] produced.
#[derive(Debug)]
pub struct Mutated<'a> {
    /// One result per mutate rule that applied, in policy and rule order.
    pub results: BumpVec<'a, RuleResult<'a>>,
    /// The object after every rule; the request's object when nothing changed.
    pub object: Value<'a>,
    pub steps: u64,
}

/// Applies every matching mutate rule of `program` to `req.object`.
pub fn mutate<'a>(program: &'a Program, req: &Request<'a>, arena: &'a Bump, limits: &Limits) -> Result<Mutated<'a>, EngineError> {
    mutate_observed(program, req, arena, limits, |_| true, |_| {})
}

/// [`mutate`] over the mutate rules `wanted` keeps, calling `policy_done` after each
/// policy that ran (see [`super::evaluate_observed`]).
pub fn mutate_observed<'a>(
    program: &'a Program,
    req: &Request<'a>,
    arena: &'a Bump,
    limits: &Limits,
    wanted: impl Fn(&RuleMeta) -> bool,
    policy_done: impl FnMut(PolicyId),
) -> Result<Mutated<'a>, EngineError> {
    let (eval, object) = run_candidates(program, req, arena, limits, |rule| rule.kind == RuleKind::Mutate && wanted(rule), policy_done)?;
    Ok(Mutated { results: eval.results, object, steps: eval.steps })
}

/// Like [`mutate`], for the rules of one policy (the CLI, whose test values can give each
/// policy its own operation).
pub fn mutate_policy<'a>(
    program: &'a Program,
    policy: PolicyId,
    req: &Request<'a>,
    arena: &'a Bump,
    limits: &Limits,
) -> Result<Mutated<'a>, EngineError> {
    let (eval, object) =
        run_candidates(program, req, arena, limits, |rule| rule.kind == RuleKind::Mutate && rule.policy == policy, |_| {})?;
    Ok(Mutated { results: eval.results, object, steps: eval.steps })
}

/// A mutation's effect: the new resource, or why it could not be made.
type Applied<'a> = Result<Value<'a>, &'a str>;

impl<'a> Vm<'a> {
    /// `Inst::Mutate`: one rule's mutation, decided.
    pub(super) fn mutate(&mut self, rule: &'a RuleMeta, id: MutationId, pc: Addr) -> Result<Option<Outcome<'a>>, EngineError> {
        // Kyverno does not mutate a resource being deleted.
        if self.req.operation == Operation::Delete {
            return Ok(None);
        }
        let bad = EngineError { kind: EngineErrorKind::BadProgram, pc };
        let mutation = self.program.mutations.get(id.index()).ok_or(bad)?;
        let before = self.req.object;
        let after = match self.apply(rule, mutation, before, pc)? {
            Ok(after) => after,
            Err(message) => {
                // A rule that errors changes nothing, not even what its first `foreach`
                // elements did (Kyverno keeps only a passing rule's patches).
                if !same_data(self.req.object, before) {
                    self.set_object(before);
                }
                return Ok(Some(Outcome::new(RuleStatus::Error, message)));
            }
        };
        if same_data(before, after) {
            let message = if matches!(mutation, Mutation::ForEach(_)) { "0 elements processed" } else { "no patches applied" };
            return Ok(Some(Outcome::new(RuleStatus::Skip, message)));
        }
        self.set_object(after);
        Ok(Some(Outcome::new(RuleStatus::Pass, self.mutated_message(after))))
    }

    /// The mutated object becomes what later rules see.
    fn set_object(&mut self, object: Value<'a>) {
        self.req.object = object;
        if let Some(ctx) = &mut self.context {
            ctx.set_object(object);
        }
    }

    /// Kyverno's success message: `mutated KIND/NAME in namespace NS`.
    fn mutated_message(&self, object: Value<'a>) -> &'a str {
        let (kind, namespace, name) = object_names(object);
        if namespace.is_empty() {
            bumpalo::format!(in self.arena, "mutated {}/{}", kind, name).into_bump_str()
        } else {
            bumpalo::format!(in self.arena, "mutated {}/{} in namespace {}", kind, name, namespace).into_bump_str()
        }
    }

    /// Applies `mutation` to `resource`.
    fn apply(&mut self, rule: &'a RuleMeta, mutation: &'a Mutation, resource: Value<'a>, pc: Addr) -> Result<Applied<'a>, EngineError> {
        match mutation {
            Mutation::StrategicMerge(overlay) => {
                let (root, mut env) = self.eval_env();
                let node = overlay.instantiate(root, &mut env);
                self.charge(&env, pc)?;
                let mut node = match node {
                    Ok(n) => n,
                    Err(e) => return Ok(Err(self.error("variable substitution failed", &e.message))),
                };
                self.steps = self.steps.saturating_add(1);
                if overlay::prepare(self.arena, &mut node, resource).is_err() {
                    // A condition did not hold: Kyverno patches with `{}`.
                    return Ok(Ok(resource));
                }
                let patch = overlay::to_value(self.arena, &node);
                Ok(Ok(merge::strategic_merge(self.arena, resource, patch)))
            }
            Mutation::JsonPatch(patch) => {
                let (root, mut env) = self.eval_env();
                let result = patch.apply(root, &mut env, resource);
                self.charge(&env, pc)?;
                Ok(result.map_err(|e| self.error("failed to patch resource", &e.message)))
            }
            Mutation::ForEach(list) => self.foreach(rule, list, resource, pc),
        }
    }

    /// `mutate.foreach`: each declaration mutates the resource the previous one left.
    fn foreach(
        &mut self,
        rule: &'a RuleMeta,
        list: &'a [MutateForEach],
        resource: Value<'a>,
        pc: Addr,
    ) -> Result<Applied<'a>, EngineError> {
        let mut current = resource;
        for fe in list {
            let (root, mut env) = self.eval_env();
            let items = fe.list.evaluate(root, &mut env);
            self.charge(&env, pc)?;
            let items = match items {
                Ok(Value::Array(items)) => items,
                Ok(other) => core::slice::from_ref(self.arena.alloc(other)),
                Err(e) => {
                    let message = bumpalo::format!(in self.arena, "failed to evaluate list {}: {}", fe.list.source(), e.message);
                    return Ok(Err(message.into_bump_str()));
                }
            };
            let after = match self.elements(rule, fe, items, current, pc)? {
                Ok(after) => after,
                Err(message) => return Ok(Err(message)),
            };
            if !same_data(current, after) {
                current = after;
                self.set_object(current);
            }
        }
        Ok(Ok(current))
    }

    /// One declaration over its elements (Kyverno's `mutateElements`).
    fn elements(
        &mut self,
        rule: &'a RuleMeta,
        fe: &'a MutateForEach,
        items: &'a [Value<'a>],
        resource: Value<'a>,
        pc: Addr,
    ) -> Result<Applied<'a>, EngineError> {
        let bad = EngineError { kind: EngineErrorKind::BadProgram, pc };
        let names = self.element_names(fe.nesting);
        let outer_index = self.element_index;
        let mut current = resource;
        let count = items.len();
        for step in 0..count {
            let index = if fe.descending { count - 1 - step } else { step };
            let Some(&element) = items.get(index) else { break };
            if element.is_null() {
                continue;
            }
            let mark = self.bind_element(names, element, index);
            self.element_index = Some(index as u32);
            let outcome = self.element(rule, fe, current, pc, bad);
            self.element_index = outer_index;
            self.context_mut().reset(mark);
            match outcome? {
                Ok(after) => {
                    if !same_data(current, after) {
                        current = after;
                        self.set_object(current);
                    }
                }
                Err(message) => return Ok(Err(message)),
            }
        }
        Ok(Ok(current))
    }

    /// One element: its context, its preconditions, then the body.
    fn element(
        &mut self,
        rule: &'a RuleMeta,
        fe: &'a MutateForEach,
        resource: Value<'a>,
        pc: Addr,
        bad: EngineError,
    ) -> Result<Applied<'a>, EngineError> {
        let (first, count) = fe.context;
        if let Err(e) = self.load_context(rule, first, count, pc)? {
            return Ok(Err(self.error("failed to load context", &e.message)));
        }
        if let Some(set) = fe.preconditions {
            let set = self.program.condition_sets.get(set.index()).ok_or(bad)?;
            let (root, mut env) = self.eval_env();
            let result = set.evaluate(root, &mut env);
            self.charge(&env, pc)?;
            match result {
                Ok(o) if o.holds => {}
                Ok(_) => return Ok(Ok(resource)),
                Err(e) => return Ok(Err(self.error("failed to evaluate preconditions", &e.message))),
            }
        }
        self.apply(rule, &fe.body, resource, pc)
    }

    fn error(&self, what: &str, cause: &str) -> &'a str {
        bumpalo::format!(in self.arena, "{}: {}", what, cause).into_bump_str()
    }
}
