//! Code generation: rule plans and pattern IR → VM instructions.
//!
//! A rule is a *block* ([`Block`]): optional context loading and preconditions, then one
//! check (a pattern, `anyPattern`, `deny`, `foreach` declarations, or an `error` for a
//! feature not compiled). A `foreach` body is a block too; bodies are emitted after the
//! block that runs them, so each block's code is one straight run ending in an outcome.
//!
//! Each pattern node is emitted with the address of its *fault handler*: the nearest
//! place where Kyverno's recursive validator would catch an error raised inside it. The
//! handler of a whole pattern is the rule's `PatternFailed` (or `AnyPatternFailed`);
//! conditional and global anchors, lists of maps and existence anchors install their own.
//! `depth` is the static number of path segments of the current frame, which is what a
//! recovering handler restores.

use std::collections::HashMap;

use kyvm_engine::ids::{AnchorSlot, ContextId, ForEachId, RuleId};
use kyvm_engine::inst::{FaultKind, Inst, Reason};
use kyvm_engine::jmespath::ParseLimits;
use kyvm_engine::matcher::{StringPattern, Term, ValuePattern};
use kyvm_engine::program::{Label, ProgramBuilder, SourceSpan, UNBOUND};
use kyvm_engine::rule::ForEach;
use kyvm_engine::template::Template;

use crate::check::{Block, Check};
use crate::lower::{Anchor, Entry, ListNode, MapNode, Node};
use crate::mutate::MutationPlan;
use crate::source::YamlPath;
use kyvm_engine::mutate::{MutateForEach, Mutation};

/// Emits the code of one rule's patterns.
pub struct PatternCodegen<'b> {
    pub builder: &'b mut ProgramBuilder,
    pub file: String,
    /// Anchor key (as written) → bookkeeping slot, for the whole rule.
    pub slots: HashMap<String, AnchorSlot>,
}

impl PatternCodegen<'_> {
    pub fn slot_count(&self) -> u32 {
        self.slots.len() as u32
    }

    fn span(&mut self, path: &YamlPath) {
        self.builder.set_span(SourceSpan { file: self.file.as_str().into(), path: path.to_string().into(), line: 0, column: 0 });
    }

    /// A rule's block, then the `foreach` bodies it (transitively) runs.
    pub fn rule_block(&mut self, rule: RuleId, block: Block) {
        let mut bodies = Vec::new();
        self.block(rule, block, &mut bodies);
        while let Some((id, body)) = bodies.pop() {
            let entry = self.builder.here();
            if let Some(f) = self.builder.foreach_mut(id) {
                f.body = entry;
            }
            self.block(rule, body, &mut bodies);
        }
    }

    /// One block; the bodies of its `foreach` declarations are queued in `bodies`.
    fn block(&mut self, rule: RuleId, block: Block, bodies: &mut Vec<(ForEachId, Block)>) {
        if block.uses_context {
            let first: ContextId = self.builder.next_context_id();
            let count = block.context.len() as u32;
            for entry in block.context {
                self.builder.context_entry(entry);
            }
            self.builder.emit(Inst::LoadContext { first, count });
        }
        if let Some(set) = block.preconditions {
            let set = self.builder.condition_set(set);
            self.builder.emit(Inst::Preconditions { set });
        }
        match block.check {
            Check::Pattern(node, path) => self.pattern(rule, &node, &path),
            Check::AnyPattern(alternatives) => self.any_pattern(rule, &alternatives),
            Check::Deny(set) => {
                let set = self.builder.condition_set(set);
                self.builder.emit(Inst::Deny { set });
            }
            Check::ForEach(list) => {
                for f in list {
                    let spec = self.builder.foreach(ForEach {
                        list: f.list,
                        element_scope: f.element_scope,
                        nesting: f.nesting,
                        body: kyvm_engine::ids::Addr(u32::MAX),
                    });
                    self.builder.emit(Inst::ForEachList { spec });
                    bodies.push((spec, *f.body));
                }
                self.builder.emit(Inst::ForEachVerdict);
            }
            Check::PodSecurity(rule_check, path) => {
                self.span(&path);
                let check = self.builder.pod_security(rule_check);
                let name = self.builder.rule_name(rule);
                let pass = self.builder.string(&format!("Validation rule '{name}' passed."));
                self.builder.emit(Inst::PodSecurity { check, pass });
            }
            Check::Mutate(plan, path) => {
                self.span(&path);
                let mutation = self.mutation(plan);
                let mutation = self.builder.mutation(mutation);
                self.builder.emit(Inst::Mutate { mutation });
            }
            Check::Generate(generate, path) => {
                self.span(&path);
                let generate = self.builder.generate(*generate);
                self.builder.emit(Inst::Generate { generate });
            }
            Check::Error(message) => {
                let message = self.builder.string(&message);
                self.builder.emit(Inst::RuleError { rule, message });
            }
        }
    }

    /// A mutation plan with its context entries and conditions registered.
    fn mutation(&mut self, plan: MutationPlan) -> Mutation {
        match plan {
            MutationPlan::StrategicMerge(o) => Mutation::StrategicMerge(o),
            MutationPlan::JsonPatch(p) => Mutation::JsonPatch(p),
            MutationPlan::ForEach(list) => Mutation::ForEach(
                list.into_iter()
                    .map(|f| {
                        let first = self.builder.next_context_id();
                        let count = f.context.len() as u32;
                        for entry in f.context {
                            self.builder.context_entry(entry);
                        }
                        let preconditions = f.preconditions.map(|c| self.builder.condition_set(c));
                        MutateForEach {
                            list: f.list,
                            descending: f.descending,
                            nesting: f.nesting,
                            context: (first, count),
                            preconditions,
                            body: self.mutation(f.body),
                        }
                    })
                    .collect(),
            ),
        }
    }

    /// Substitutes the pattern's variables, when it has any.
    fn resolve_templates(&mut self, root: &Node) {
        let count = root.dynamic_leaves() as u32;
        if count > 0 {
            let first = self.builder.next_template_id();
            self.builder.emit(Inst::ResolveTemplates { first, count });
        }
    }

    /// A dynamic leaf's template, in the slot `ResolveTemplates` fills.
    fn dynamic(&mut self, source: &str) -> kyvm_engine::ids::TemplateId {
        // Lowering checked that it compiles; a failure here still yields a template
        // (literal), never a panic.
        let template = Template::compile(source, &ParseLimits::default())
            .unwrap_or_else(|_| Template { source: source.into(), kind: kyvm_engine::template::TemplateKind::Literal(source.into()) });
        self.builder.template(template)
    }

    /// `validate.pattern`: pass, or the rule-level handler decides the result.
    pub fn pattern(&mut self, rule: RuleId, root: &Node, path: &YamlPath) {
        self.span(path);
        self.builder.emit(Inst::BeginPattern);
        self.resolve_templates(root);
        let failed = self.builder.new_label();
        self.node(root, 0, failed, path);
        self.builder.emit(Inst::PatternPassed { rule });
        self.builder.bind(failed);
        self.builder.emit(Inst::PatternFailed { rule });
    }

    /// `validate.anyPattern`: the first entry that matches passes the rule.
    pub fn any_pattern(&mut self, rule: RuleId, alternatives: &[(Node, YamlPath)]) {
        for (index, (root, path)) in alternatives.iter().enumerate() {
            self.span(path);
            self.builder.emit(Inst::BeginPattern);
            self.resolve_templates(root);
            let failed = self.builder.new_label();
            self.node(root, 0, failed, path);
            self.builder.emit(Inst::AnyPatternPassed { rule, index: index as u32 });
            self.builder.bind(failed);
            self.builder.emit(Inst::AnyPatternFailed { index: index as u32 });
        }
        self.builder.emit(Inst::AnyPatternDone { rule });
    }

    fn node(&mut self, node: &Node, depth: u32, handler: Label, path: &YamlPath) {
        match node {
            Node::Scalar(p) => {
                let pattern = self.builder.pattern(p.clone());
                self.builder.emit_with_label(Inst::CheckValue { pattern, on_fault: UNBOUND }, handler);
            }
            Node::Dynamic(source) => {
                let value = self.dynamic(source);
                self.builder.emit_with_label(Inst::CheckDynamic { value, on_fault: UNBOUND }, handler);
            }
            Node::Map(m) => {
                self.builder.emit_with_label(Inst::ExpectObject { on_fault: UNBOUND }, handler);
                self.map(m, depth, handler);
            }
            Node::List(l) => {
                self.builder.emit_with_label(Inst::ExpectArray { on_fault: UNBOUND }, handler);
                self.list(l, depth, handler, path);
            }
        }
    }

    fn map(&mut self, m: &MapNode, depth: u32, handler: Label) {
        for (raw, bare, expand) in &m.noted {
            let next = AnchorSlot(self.slots.len() as u32);
            let slot = *self.slots.entry(raw.clone()).or_insert(next);
            let key = self.builder.key(bare, *expand);
            self.builder.emit(Inst::NoteAnchor { slot, key });
        }
        for entry in &m.entries {
            self.span(&entry.path);
            self.entry(entry, depth, handler);
        }
    }

    fn entry(&mut self, e: &Entry, depth: u32, handler: Label) {
        let key = self.builder.key(&e.key, e.expand);
        match e.anchor {
            Anchor::None => match &e.value {
                // `key: "*"`: present and not null (Kyverno's default handler special case).
                Node::Scalar(ValuePattern::Str(sp)) if is_star(sp) => {
                    self.builder.emit_with_label(Inst::RequireField { key, on_fault: UNBOUND }, handler);
                }
                Node::Scalar(p) => {
                    let pattern = self.builder.pattern(p.clone());
                    self.builder.emit_with_label(Inst::CheckField { key, pattern, on_fault: UNBOUND }, handler);
                }
                Node::Dynamic(source) => {
                    let value = self.dynamic(source);
                    self.builder.emit_with_label(Inst::CheckFieldDynamic { key, value, on_fault: UNBOUND }, handler);
                }
                value => {
                    self.builder.emit(Inst::EnterField { key });
                    self.node(value, depth + 1, handler, &e.path);
                    self.builder.emit(Inst::Leave);
                }
            },
            Anchor::Equality => {
                let skip = self.builder.new_label();
                self.builder.emit_with_label(Inst::JumpIfAbsent { key, target: UNBOUND }, skip);
                self.builder.emit(Inst::EnterField { key });
                self.node(&e.value, depth + 1, handler, &e.path);
                self.builder.emit(Inst::Leave);
                self.builder.bind(skip);
            }
            Anchor::Condition => {
                self.builder.emit_with_label(Inst::SkipIfAbsent { key, on_fault: UNBOUND }, handler);
                self.builder.emit(Inst::EnterField { key });
                let caught = self.builder.new_label();
                let done = self.builder.new_label();
                self.node(&e.value, depth + 1, caught, &e.path);
                self.builder.emit(Inst::Leave);
                self.builder.emit_with_label(Inst::Jump { target: UNBOUND }, done);
                self.builder.bind(caught);
                self.builder.emit_with_label(Inst::Convert { kind: FaultKind::ConditionalSkip, on_fault: UNBOUND }, handler);
                self.builder.bind(done);
            }
            Anchor::Global => {
                let done = self.builder.new_label();
                self.builder.emit_with_label(Inst::JumpIfAbsent { key, target: UNBOUND }, done);
                self.builder.emit(Inst::EnterField { key });
                let caught = self.builder.new_label();
                self.node(&e.value, depth + 1, caught, &e.path);
                self.builder.emit(Inst::Leave);
                self.builder.emit_with_label(Inst::Jump { target: UNBOUND }, done);
                self.builder.bind(caught);
                self.builder.emit_with_label(Inst::Convert { kind: FaultKind::GlobalSkip, on_fault: UNBOUND }, handler);
                self.builder.bind(done);
            }
            Anchor::Negation => {
                self.builder.emit_with_label(Inst::FailIfPresent { key, on_fault: UNBOUND }, handler);
            }
            Anchor::Existence => self.existence(e, key, depth, handler),
        }
    }

    /// `^(key)`: every map of the pattern list must be matched by some element.
    fn existence(&mut self, e: &Entry, key: kyvm_engine::ids::KeyId, depth: u32, handler: Label) {
        let absent = self.builder.new_label();
        self.builder.emit_with_label(Inst::JumpIfAbsent { key, target: UNBOUND }, absent);
        self.builder.emit(Inst::EnterField { key });
        self.builder.emit_with_label(Inst::ExpectArray { on_fault: UNBOUND }, handler);
        let maps: Option<&[MapNode]> = match &e.value {
            Node::List(ListNode::Exists(maps)) => Some(maps),
            Node::List(ListNode::Empty) => Some(&[]),
            _ => None,
        };
        match maps {
            Some(maps) => {
                let list_depth = depth + 1;
                for m in maps {
                    self.builder.emit(Inst::ForEachStart);
                    let head = self.builder.new_label();
                    let none = self.builder.new_label();
                    let caught = self.builder.new_label();
                    let found = self.builder.new_label();
                    self.builder.bind(head);
                    self.builder.emit_with_label(Inst::ForEachNext { done: UNBOUND }, none);
                    self.builder.emit_with_label(Inst::ExpectObject { on_fault: UNBOUND }, caught);
                    self.map(m, list_depth + 1, caught);
                    self.builder.emit(Inst::Leave);
                    self.builder.emit_with_label(Inst::Jump { target: UNBOUND }, found);
                    self.builder.bind(caught);
                    self.builder.emit_with_label(Inst::Retry { depth: list_depth, target: UNBOUND }, head);
                    self.builder.bind(none);
                    self.builder.emit_with_label(
                        Inst::Raise { kind: FaultKind::Fail, reason: Reason::ExistenceNotFound, on_fault: UNBOUND },
                        handler,
                    );
                    self.builder.bind(found);
                }
            }
            None => {
                self.builder
                    .emit_with_label(Inst::Raise { kind: FaultKind::Fail, reason: Reason::ExistenceNotList, on_fault: UNBOUND }, handler);
            }
        }
        self.builder.emit(Inst::Leave);
        self.builder.bind(absent);
    }

    fn list(&mut self, l: &ListNode, depth: u32, handler: Label, path: &YamlPath) {
        match l {
            ListNode::Empty => {
                self.builder
                    .emit_with_label(Inst::Raise { kind: FaultKind::Fail, reason: Reason::EmptyListPattern, on_fault: UNBOUND }, handler);
            }
            // Only built under an existence anchor, which `existence` handles.
            ListNode::Exists(_) => {
                self.builder.emit_with_label(
                    Inst::Raise { kind: FaultKind::Invalid, reason: Reason::ExistenceNotList, on_fault: UNBOUND },
                    handler,
                );
            }
            ListNode::OfScalar(p) => {
                let pattern = self.builder.pattern(p.clone());
                self.builder.emit_with_label(Inst::CheckValue { pattern, on_fault: UNBOUND }, handler);
            }
            ListNode::OfMaps(m) => {
                self.builder.emit(Inst::ForEachStart);
                let head = self.builder.new_label();
                let end = self.builder.new_label();
                let caught = self.builder.new_label();
                self.builder.bind(head);
                self.builder.emit_with_label(Inst::ForEachNext { done: UNBOUND }, end);
                self.builder.emit_with_label(Inst::ExpectObject { on_fault: UNBOUND }, caught);
                self.map(m, depth + 1, caught);
                self.builder.emit(Inst::ForEachApplied);
                self.builder.emit_with_label(Inst::Jump { target: UNBOUND }, head);
                self.builder.bind(caught);
                self.builder.emit_with_labels(Inst::ForEachCatch { depth, next: UNBOUND, on_fault: UNBOUND }, head, handler);
                self.builder.bind(end);
                self.builder.emit_with_label(Inst::ForEachEnd { on_fault: UNBOUND }, handler);
            }
            ListNode::Nested(items) => {
                self.builder.emit_with_label(Inst::ExpectMinLen { len: items.len() as u32, on_fault: UNBOUND }, handler);
                self.builder.emit(Inst::ForEachStart);
                for (i, item) in items.iter().enumerate() {
                    let caught = self.builder.new_label();
                    let next = self.builder.new_label();
                    self.builder.emit(Inst::EnterIndex { index: i as u32 });
                    self.node(item, depth + 1, caught, &path.index(i));
                    self.builder.emit(Inst::ForEachApplied);
                    self.builder.emit_with_label(Inst::Jump { target: UNBOUND }, next);
                    self.builder.bind(caught);
                    self.builder.emit_with_labels(Inst::ForEachCatch { depth, next: UNBOUND, on_fault: UNBOUND }, next, handler);
                    self.builder.bind(next);
                }
                self.builder.emit_with_label(Inst::ForEachEnd { on_fault: UNBOUND }, handler);
            }
        }
    }
}

/// Is the pattern exactly `"*"`?
fn is_star(sp: &StringPattern) -> bool {
    &*sp.raw == "*" && matches!(sp.alternatives.as_slice(), [t] if matches!(t.as_slice(), [Term::Compare { .. }]))
}
