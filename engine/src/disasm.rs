//! Disassembler: the printable form of a [`Program`] (`kyvm compile --emit asm`).
//!
//! One line per instruction — address, mnemonic, operands with constants resolved, and
//! the YAML path the instruction was compiled from — under a header per policy and rule.
//! Golden tests read this form to see what the compiler did.

use core::fmt::Write;

use crate::ids::{KeyId, PatternId, RuleId, StrId, TemplateId};
use crate::inst::Inst;
use crate::matching::{FilterSet, MatchSpec};
use crate::podsecurity::PodSecurityRule;
use crate::program::Program;

/// Renders the whole program.
pub fn disassemble(program: &Program) -> String {
    let mut out = String::new();
    for (rule_index, rule) in program.rules.iter().enumerate() {
        let policy = program.policy(rule.policy);
        let end = program.rules.get(rule_index + 1).map_or(program.code.len(), |r| r.entry.index());
        if policy.is_some_and(|p| p.first_rule as usize == rule_index) {
            if let Some(p) = policy {
                let _ = writeln!(out, "; policy {} (applyRules: {:?}, background: {})", p.name, p.apply_rules, p.background);
            }
        }
        let _ = write!(out, "; rule {} [{}, {}]", rule.name, rule.kind.as_str(), rule.action.as_str());
        if let Some(origin) = &rule.autogen {
            let _ = write!(out, " autogen from {}", origin.rule);
        }
        if let Some(spec) = program.matches.get(rule.matching.index()) {
            let _ = write!(out, " match {}", describe_match(spec));
        }
        out.push('\n');
        for addr in rule.entry.index()..end {
            let Some(inst) = program.code.get(addr) else {
                break;
            };
            let mut line = format!("{addr:05}  {:<20}{}", inst.mnemonic(), operands(program, inst));
            if let Some(span) = program.code_spans.get(addr).and_then(|&i| program.spans.get(i as usize)) {
                if !span.path.is_empty() {
                    while line.len() < 72 {
                        line.push(' ');
                    }
                    let _ = write!(line, " ; {}", span.path);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if let Inst::PodSecurity { check, .. } = inst {
                if let Some(ps) = program.pod_security.get(check.index()) {
                    pod_security_checks(&mut out, ps);
                }
            }
        }
    }
    out
}

fn describe_match(spec: &MatchSpec) -> String {
    let kinds = |set: &FilterSet| -> String {
        let filters: Vec<&crate::matching::ResourceFilter> = match set {
            FilterSet::Any(f) | FilterSet::All(f) => f.iter().collect(),
            FilterSet::Single(f) => vec![f],
        };
        let names: Vec<&str> = filters.iter().flat_map(|f| f.kinds.iter().map(|k| &*k.text)).collect();
        if names.is_empty() {
            "*".into()
        } else {
            names.join(",")
        }
    };
    let mut s = format!("kinds={}", kinds(&spec.matching));
    if let Some(ex) = &spec.exclude {
        let _ = write!(s, " exclude(kinds={})", kinds(ex));
    }
    s
}

/// The operand line of a `pod_security` instruction: level, version, exclusions.
fn pod_security(ps: &PodSecurityRule) -> String {
    let mut out = format!("{} ({} checks", ps.label, ps.controls.len());
    if !ps.exclusions.is_empty() {
        let _ = write!(out, ", {} exclusions", ps.exclusions.len());
    }
    out.push(')');
    out
}

/// The checks a `pod_security` instruction runs, each at the definition its version
/// selects, and its exclusions: one comment line each under the instruction.
fn pod_security_checks(out: &mut String, ps: &PodSecurityRule) {
    for control in ps.controls.iter() {
        let since = control.definition(ps.version).map_or_else(|| "-".to_string(), |v| v.to_string());
        let _ = writeln!(out, "       ;   check {:<28} {:<8} {}", control.id(), since, control.control_name());
    }
    for e in ps.exclusions.iter() {
        let _ = write!(out, "       ;   exclude {:?}", &*e.control_name);
        let ids: Vec<&str> = e.controls.iter().map(|c| c.id()).collect();
        let _ = write!(out, " [{}]", ids.join(", "));
        if e.images.is_empty() {
            out.push_str(" pod-level");
        } else {
            let images: Vec<String> = e.images.iter().map(|g| format!("{g}")).collect();
            let _ = write!(out, " images=[{}]", images.join(", "));
        }
        if let Some(field) = &e.restricted_field {
            let _ = write!(out, " field={field}");
        }
        if !e.values.is_empty() {
            let values: Vec<String> = e.values.iter().map(|g| format!("{g}")).collect();
            let _ = write!(out, " values=[{}]", values.join(", "));
        }
        out.push('\n');
    }
}

fn string(program: &Program, id: StrId) -> String {
    program.string(id).map_or_else(|| format!("<bad string {id}>"), |s| format!("{s:?}"))
}

fn key(program: &Program, id: KeyId) -> String {
    match program.keys.get(id.index()) {
        Some(k) if k.expand.is_some() => format!("{:?} (first matching)", k.name),
        Some(k) => format!("{:?}", k.name),
        None => format!("<bad key {id}>"),
    }
}

fn pattern(program: &Program, id: PatternId) -> String {
    program.patterns.get(id.index()).map_or_else(|| format!("<bad pattern {id}>"), |p| p.to_string())
}

fn template(program: &Program, id: TemplateId) -> String {
    program.template(id).map_or_else(|| format!("<bad template {id}>"), |t| format!("{:?}", t.source))
}

fn rule(program: &Program, id: RuleId) -> String {
    program.rule(id).map_or_else(|| format!("<bad rule {id}>"), |r| r.name.to_string())
}

fn operands(program: &Program, inst: &Inst) -> String {
    match *inst {
        Inst::CheckMatch { spec } => format!("#{spec}"),
        Inst::BeginPattern | Inst::End | Inst::Leave | Inst::ForEachStart | Inst::ForEachApplied => String::new(),
        Inst::PatternPassed { rule: r } | Inst::PatternFailed { rule: r } | Inst::AnyPatternDone { rule: r } => rule(program, r),
        Inst::AnyPatternPassed { rule: r, index } => format!("{} [{index}]", rule(program, r)),
        Inst::AnyPatternFailed { index } => format!("[{index}]"),
        Inst::RuleError { rule: r, message } => {
            format!("{} {}", rule(program, r), string(program, message))
        }
        Inst::EnterField { key: k } => key(program, k),
        Inst::EnterIndex { index } => format!("{index}"),
        Inst::ExpectObject { on_fault } | Inst::ExpectArray { on_fault } => {
            format!("fault->{on_fault}")
        }
        Inst::ExpectMinLen { len, on_fault } => format!("{len} fault->{on_fault}"),
        Inst::CheckValue { pattern: p, on_fault } => format!("{} fault->{on_fault}", pattern(program, p)),
        Inst::CheckField { key: k, pattern: p, on_fault } => format!("{} {} fault->{on_fault}", key(program, k), pattern(program, p)),
        Inst::RequireField { key: k, on_fault } | Inst::SkipIfAbsent { key: k, on_fault } | Inst::FailIfPresent { key: k, on_fault } => {
            format!("{} fault->{on_fault}", key(program, k))
        }
        Inst::NoteAnchor { slot, key: k } => format!("slot{slot} {}", key(program, k)),
        Inst::JumpIfAbsent { key: k, target } => format!("{} ->{target}", key(program, k)),
        Inst::Raise { kind, reason, on_fault } => format!("{} ({}) fault->{on_fault}", kind.name(), reason.describe()),
        Inst::Convert { kind, on_fault } => format!("{} fault->{on_fault}", kind.name()),
        Inst::Retry { depth, target } => format!("depth={depth} ->{target}"),
        Inst::Jump { target } => format!("->{target}"),
        Inst::ForEachNext { done } => format!("done->{done}"),
        Inst::ForEachCatch { depth, next, on_fault } => format!("depth={depth} skip->{next} fault->{on_fault}"),
        Inst::ForEachEnd { on_fault } => format!("fault->{on_fault}"),
        Inst::LoadContext { first, count } => {
            let names: Vec<&str> = (first.0..first.0.saturating_add(count))
                .map(|i| program.contexts.get(i as usize).map_or("<bad context>", |c| &*c.name))
                .collect();
            format!("[{}]", names.join(", "))
        }
        Inst::Preconditions { set } | Inst::Deny { set } => format!("conditions#{set}"),
        Inst::ResolveTemplates { first, count } => format!("templates#{first}..+{count}"),
        Inst::CheckDynamic { value, on_fault } => format!("{} fault->{on_fault}", template(program, value)),
        Inst::CheckFieldDynamic { key: k, value, on_fault } => {
            format!("{} {} fault->{on_fault}", key(program, k), template(program, value))
        }
        Inst::ForEachList { spec } => match program.foreach.get(spec.index()) {
            Some(f) => format!("{:?} body->{}", f.list.source(), f.body),
            None => format!("<bad foreach {spec}>"),
        },
        Inst::ForEachVerdict => String::new(),
        Inst::PodSecurity { check, pass: _ } => match program.pod_security.get(check.index()) {
            Some(ps) => pod_security(ps),
            None => format!("<bad podSecurity {check}>"),
        },
        Inst::Generate { generate } => match program.generates.get(generate.index()) {
            Some(g) => format!(
                "{} {} {}{}",
                g.kind.source,
                g.name.source,
                if matches!(g.source, crate::generate::GenerateSource::Data(_)) { "data" } else { "clone" },
                if g.synchronize { " synchronize" } else { "" }
            ),
            None => format!("<bad generate {generate}>"),
        },
        Inst::Mutate { mutation } => match program.mutations.get(mutation.index()) {
            Some(m) => mutation_summary(m),
            None => format!("<bad mutation {mutation}>"),
        },
    }
}

/// One line for a mutation: its kind and size.
fn mutation_summary(m: &crate::mutate::Mutation) -> String {
    use crate::mutate::{JsonPatch, Mutation};
    match m {
        Mutation::StrategicMerge(_) => "patchStrategicMerge".to_string(),
        Mutation::JsonPatch(JsonPatch::Ops(ops)) => format!("patchesJson6902 ({} operations)", ops.len()),
        Mutation::JsonPatch(JsonPatch::Text(_)) => "patchesJson6902 (read after substitution)".to_string(),
        Mutation::ForEach(items) => {
            let lists: Vec<String> = items.iter().map(|f| format!("{:?}", f.list.source())).collect();
            format!("foreach {}", lists.join(", "))
        }
    }
}
