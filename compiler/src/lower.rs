//! Lowering: model → IR.
//!
//! Patterns (`validate.pattern`, each `anyPattern` entry) become a [`Node`] tree in which
//! every map key's anchor is parsed and every map's entries are put in the order Kyverno
//! evaluates them; pattern strings are lexed into matchers. `match`/`exclude` blocks
//! become the engine's [`MatchSpec`]. Problems are reported as diagnostics with the
//! YAML path of the offending node; lowering always produces something, so one run
//! reports every problem.
//!
//! Kyverno's order inside a pattern map (`validateMap`): the conditional, existence,
//! equality and negation anchors first (we take them in sorted key order; Kyverno's map
//! iteration order is random), then the other keys in sorted order, except that global
//! anchors and keys whose value contains anchors are moved to the front (in reverse
//! sorted order, as Kyverno's `PushFront` leaves them).

use kyvm_engine::jmespath::ParseLimits;
use kyvm_engine::matcher::ValuePattern;
use kyvm_engine::matching::{FilterSet, KindSelector, LabelExpression, LabelOperator, LabelSelector, MatchSpec, ResourceFilter, Subject};
use kyvm_engine::request::Operation;
use kyvm_engine::template::{self, Template};
use kyvm_engine::wildcard::{self, Glob};
use serde_yaml::Value;

use crate::diag::Diagnostic;
use crate::lexer;
use crate::model;
use crate::source::{SourceDoc, YamlPath};

/// A pattern node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Map(MapNode),
    List(ListNode),
    Scalar(ValuePattern),
    /// A string leaf with `{{ }}` variables: the pattern is known after substitution.
    Dynamic(String),
}

impl Node {
    /// The number of [`Node::Dynamic`] leaves, in the order code generation meets them.
    pub fn dynamic_leaves(&self) -> usize {
        match self {
            Node::Dynamic(_) => 1,
            Node::Scalar(_) => 0,
            Node::Map(m) => m.dynamic_leaves(),
            Node::List(ListNode::OfMaps(m)) => m.dynamic_leaves(),
            Node::List(ListNode::Exists(maps)) => maps.iter().map(MapNode::dynamic_leaves).sum(),
            Node::List(ListNode::Nested(items)) => items.iter().map(Node::dynamic_leaves).sum(),
            Node::List(ListNode::Empty | ListNode::OfScalar(_)) => 0,
        }
    }
}

impl MapNode {
    fn dynamic_leaves(&self) -> usize {
        self.entries
            .iter()
            .map(|e| match (e.anchor, &e.value) {
                // Code generation does not descend into these.
                (Anchor::Negation, _) => 0,
                (Anchor::Existence, Node::List(ListNode::Exists(_))) => e.value.dynamic_leaves(),
                (Anchor::Existence, _) => 0,
                _ => e.value.dynamic_leaves(),
            })
            .sum()
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct MapNode {
    /// Anchor keys (as written) whose presence Kyverno records for this map: the
    /// conditional, existence and negation anchors, with the key they look up and
    /// whether it is a wildcard metadata key (looked up after expansion).
    pub noted: Vec<(String, String, bool)>,
    /// Entries in evaluation order.
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub anchor: Anchor,
    /// The key without anchor syntax.
    pub key: String,
    /// A wildcard key under `metadata.labels`/`annotations`, resolved at evaluation time.
    pub expand: bool,
    pub value: Node,
    pub path: YamlPath,
}

/// Kyverno's anchors on map keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// `key`
    None,
    /// `(key)`: if-then.
    Condition,
    /// `^(key)`: at least one list element matches.
    Existence,
    /// `=(key)`: checked only when present.
    Equality,
    /// `X(key)`: must be absent.
    Negation,
    /// `<(key)`: when it does not hold, the rule is skipped.
    Global,
}

impl Anchor {
    fn is_noted(self) -> bool {
        matches!(self, Anchor::Condition | Anchor::Existence | Anchor::Negation)
    }

    fn evaluated_first(self) -> bool {
        matches!(self, Anchor::Condition | Anchor::Existence | Anchor::Equality | Anchor::Negation)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ListNode {
    /// `[]`: Kyverno rejects it when it meets it.
    Empty,
    /// A list whose first element is a map: every element must match it (only the first
    /// pattern element counts, as in Kyverno).
    OfMaps(MapNode),
    /// A list whose first element is a scalar: every element must match it.
    OfScalar(ValuePattern),
    /// A list of lists: element by element.
    Nested(Vec<Node>),
    /// The list of an existence anchor `^(key)`: each map must match some element.
    Exists(Vec<MapNode>),
}

/// Splits a key into its anchor and bare key (Kyverno's `anchor.Parse`:
/// `^([+<=X^])?\((.+)\)$` after trimming spaces).
pub fn parse_anchor(raw: &str) -> (Option<char>, &str) {
    let t = raw.trim();
    fn inner(s: &str) -> Option<&str> {
        s.strip_prefix('(').and_then(|s| s.strip_suffix(')')).filter(|k| !k.is_empty())
    }
    if let Some(k) = inner(t) {
        return (Some('('), k);
    }
    let mut chars = t.chars();
    if let Some(m @ ('+' | '<' | '=' | 'X' | '^')) = chars.next() {
        if let Some(k) = inner(chars.as_str()) {
            return (Some(m), k);
        }
    }
    (None, raw)
}

/// Where a map sits, for Kyverno's `ExpandInMetadata`: the wildcard keys of the
/// `labels` and `annotations` maps directly under a `metadata` key are expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapContext {
    Plain,
    /// The value of a `metadata` key.
    Metadata,
    /// The value of `metadata.labels` or `metadata.annotations`.
    ExpandKeys,
}

/// Lowers a pattern, collecting diagnostics and the features it would need.
pub struct PatternLowering<'d> {
    pub doc: &'d SourceDoc,
    pub diags: &'d mut Vec<Diagnostic>,
    /// Set when a construct needs a feature not compiled yet (variables, references).
    pub unsupported: Vec<(String, YamlPath)>,
}

impl PatternLowering<'_> {
    pub fn node(&mut self, v: &Value, path: &YamlPath, ctx: MapContext) -> Node {
        match v {
            Value::Mapping(m) => Node::Map(self.map(m, path, ctx)),
            Value::Sequence(items) => Node::List(self.list(items, path)),
            Value::Tagged(t) => self.node(&t.value, path, ctx),
            Value::String(s) if template::has_variables(s) && !s.contains("$(") => match Template::compile(s, &ParseLimits::default()) {
                Ok(_) => Node::Dynamic(s.clone()),
                Err(e) => {
                    let d = Diagnostic::error("K0140", format!("invalid JMESPath in variable: {}", e.error))
                        .expected("a valid JMESPath expression between `{{` and `}}`")
                        .found(e.expression.clone());
                    self.diags.push(self.doc.locate(d, path));
                    self.unsupported.push(("an invalid variable".into(), path.clone()));
                    Node::Scalar(ValuePattern::Null)
                }
            },
            scalar => Node::Scalar(self.scalar(scalar, path)),
        }
    }

    pub fn scalar(&mut self, v: &Value, path: &YamlPath) -> ValuePattern {
        match v {
            Value::Null => ValuePattern::Null,
            Value::Bool(b) => ValuePattern::Bool(*b),
            Value::Number(n) => ValuePattern::Number(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => {
                self.check_string(s, path);
                // Kyverno's substitution turns escaped variables into literal text.
                if s.contains("\\{{") {
                    return lexer::value_pattern(&s.replace("\\{{", "{{"));
                }
                lexer::value_pattern(s)
            }
            Value::Tagged(t) => self.scalar(&t.value, path),
            Value::Mapping(_) | Value::Sequence(_) => ValuePattern::Null,
        }
    }

    fn check_string(&mut self, s: &str, path: &YamlPath) {
        if template::has_variables(s) && s.contains("$(") {
            self.unsupported.push(("variables mixed with `$( )` references in patterns".into(), path.clone()));
        } else if template::has_variables(s) {
            // Only reached for list elements: `[ "{{ x }}" ]`.
            self.unsupported.push(("variables (`{{ }}`) in pattern lists".into(), path.clone()));
        } else if s.contains("$(") {
            self.unsupported.push(("`$( )` references in patterns".into(), path.clone()));
        }
    }

    fn map(&mut self, m: &serde_yaml::Mapping, path: &YamlPath, ctx: MapContext) -> MapNode {
        let mut first: Vec<(String, Entry)> = Vec::new();
        let mut rest: Vec<(String, Entry, bool)> = Vec::new();
        let mut noted = Vec::new();
        for (k, v) in m {
            let raw = match k {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".into(),
                _ => {
                    let d = Diagnostic::error("K0100", "pattern map keys must be strings").expected("a string key").found("a complex key");
                    self.diags.push(self.doc.locate(d, path));
                    continue;
                }
            };
            let (marker, bare) = parse_anchor(&raw);
            let anchor = match marker {
                None => Anchor::None,
                Some('(') => Anchor::Condition,
                Some('^') => Anchor::Existence,
                Some('=') => Anchor::Equality,
                Some('X') => Anchor::Negation,
                Some('<') => Anchor::Global,
                // `+(key)` means nothing to a validate pattern: Kyverno looks the literal
                // key up, which is never present.
                Some(_) => {
                    let d = Diagnostic::warning("K0131", format!("add anchor `{raw}` has no effect in a validate pattern"))
                        .help("`+()` belongs in mutate overlays; here the key is matched literally");
                    self.diags.push(self.doc.locate(d, &path.key(&raw)));
                    Anchor::None
                }
            };
            let key = if anchor == Anchor::None { raw.clone() } else { bare.to_string() };
            if template::has_variables(&key) {
                self.unsupported.push(("variables (`{{ }}`) in pattern keys".into(), path.key(&raw)));
            }
            let child_path = path.key(&raw);
            let expand = ctx == MapContext::ExpandKeys && wildcard::contains_wildcard(&key);
            let child_ctx = match (ctx, bare) {
                (_, "metadata") => MapContext::Metadata,
                (MapContext::Metadata, "labels" | "annotations") => MapContext::ExpandKeys,
                _ => MapContext::Plain,
            };
            let value = match (anchor, v) {
                (Anchor::Existence, Value::Sequence(items)) if is_list_of_maps(v) => Node::List(ListNode::Exists(
                    items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, item)| item.as_mapping().map(|m| self.map(m, &child_path.index(i), MapContext::Plain)))
                        .collect(),
                )),
                _ => self.node(v, &child_path, child_ctx),
            };
            if anchor == Anchor::Existence && !is_list_of_maps(v) {
                let d = Diagnostic::error("K0130", format!("existence anchor `{raw}` needs a list of maps"))
                    .expected("a list whose elements are maps")
                    .found(describe(v));
                self.diags.push(self.doc.locate(d, &child_path));
            }
            if anchor.is_noted() {
                noted.push((raw.clone(), bare.to_string(), expand));
            }
            let entry = Entry { anchor, key, expand, value, path: child_path };
            if anchor.evaluated_first() {
                first.push((raw, entry));
            } else {
                let front = anchor == Anchor::Global || has_nested_anchors(v);
                rest.push((raw, entry, front));
            }
        }
        first.sort_by(|a, b| a.0.cmp(&b.0));
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        let mut entries: Vec<Entry> = first.into_iter().map(|(_, e)| e).collect();
        let fronted: Vec<Entry> = rest.iter().filter(|r| r.2).rev().map(|r| r.1.clone()).collect();
        entries.extend(fronted);
        entries.extend(rest.into_iter().filter(|r| !r.2).map(|r| r.1));
        noted.sort();
        noted.dedup();
        MapNode { noted, entries }
    }

    fn list(&mut self, items: &[Value], path: &YamlPath) -> ListNode {
        match items.first() {
            None => ListNode::Empty,
            Some(Value::Mapping(m)) => ListNode::OfMaps(self.map(m, &path.index(0), MapContext::Plain)),
            Some(Value::Sequence(_)) => {
                ListNode::Nested(items.iter().enumerate().map(|(i, v)| self.node(v, &path.index(i), MapContext::Plain)).collect())
            }
            Some(scalar) => ListNode::OfScalar(self.scalar(scalar, &path.index(0))),
        }
    }
}

fn is_list_of_maps(v: &Value) -> bool {
    v.as_sequence().is_some_and(|s| s.iter().all(|e| e.is_mapping()))
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Sequence(_) => "a list with non-map elements".into(),
        Value::Mapping(_) => "a map".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

/// Kyverno's `hasNestedAnchors`: any anchored key (other than `+()`) at any depth.
fn has_nested_anchors(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => m.iter().any(|(k, v)| {
            let anchored = k.as_str().is_some_and(|s| matches!(parse_anchor(s).0, Some('(' | '^' | '=' | 'X' | '<')));
            anchored || has_nested_anchors(v)
        }),
        Value::Sequence(items) => items.iter().any(has_nested_anchors),
        Value::Tagged(t) => has_nested_anchors(&t.value),
        _ => false,
    }
}

// ------------------------------------------------------------------ match / exclude

/// Lowers `match` and `exclude` to the engine's [`MatchSpec`].
pub fn match_spec(
    doc: &SourceDoc,
    matching: &model::MatchResources,
    exclude: Option<&model::MatchResources>,
    policy_namespace: Option<&str>,
    path: &YamlPath,
    diags: &mut Vec<Diagnostic>,
) -> MatchSpec {
    let start = diags.len();
    let spec = MatchSpec {
        matching: filter_set(matching, &path.key("match"), diags),
        exclude: exclude.filter(|e| !e.is_empty()).map(|e| filter_set(e, &path.key("exclude"), diags)),
        policy_namespace: policy_namespace.map(Into::into),
    };
    // The helpers below record only the path; locate their diagnostics in the document.
    for d in diags.iter_mut().skip(start) {
        let located = doc.locate(d.clone(), &parse_path(&d.path));
        *d = located;
    }
    spec
}

/// Parses a rendered [`YamlPath`] back.
pub fn parse_path(s: &str) -> YamlPath {
    use crate::source::PathSeg;
    let mut out = YamlPath::root();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            if let Some(r2) = r.strip_prefix('"') {
                let end = r2.find("\"]").unwrap_or(r2.len());
                out.0.push(PathSeg::Key(r2.get(..end).unwrap_or("").replace("\\\"", "\"")));
                rest = r2.get(end + 2..).unwrap_or("");
            } else {
                let end = r.find(']').unwrap_or(r.len());
                if let Ok(i) = r.get(..end).unwrap_or("").parse() {
                    out.0.push(PathSeg::Index(i));
                }
                rest = r.get(end + 1..).unwrap_or("");
            }
        } else {
            let r = rest.strip_prefix('.').unwrap_or(rest);
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.0.push(PathSeg::Key(r.get(..end).unwrap_or("").to_string()));
            rest = r.get(end..).unwrap_or("");
        }
    }
    out
}

fn filter_set(block: &model::MatchResources, path: &YamlPath, diags: &mut Vec<Diagnostic>) -> FilterSet {
    if let Some(any) = block.any.as_ref().filter(|a| !a.is_empty()) {
        return FilterSet::Any(
            any.iter().enumerate().map(|(i, f)| filter(f.resources.as_ref(), &f.user_info, &path.key("any").index(i), diags)).collect(),
        );
    }
    if let Some(all) = block.all.as_ref().filter(|a| !a.is_empty()) {
        return FilterSet::All(
            all.iter().enumerate().map(|(i, f)| filter(f.resources.as_ref(), &f.user_info, &path.key("all").index(i), diags)).collect(),
        );
    }
    FilterSet::Single(Box::new(filter(block.resources.as_ref(), &block.user_info, path, diags)))
}

fn filter(
    desc: Option<&model::ResourceDescription>,
    user: &model::UserInfo,
    path: &YamlPath,
    diags: &mut Vec<Diagnostic>,
) -> ResourceFilter {
    let mut f = ResourceFilter::default();
    let rpath = path.key("resources");
    if let Some(d) = desc {
        let globs = |v: &Option<Vec<String>>| -> Vec<Glob> { v.iter().flatten().map(|s| Glob::new(s)).collect() };
        f.kinds = d.kinds.iter().flatten().map(|k| KindSelector::parse(k)).collect();
        f.name = d.name.as_deref().filter(|n| !n.is_empty()).map(Glob::new);
        f.names = globs(&d.names);
        f.namespaces = globs(&d.namespaces);
        f.annotations = d.annotations.iter().flatten().map(|(k, v)| (Glob::new(k), Glob::new(v))).collect();
        f.selector = d.selector.as_ref().map(|s| label_selector(s, &rpath.key("selector"), diags));
        f.namespace_selector = d.namespace_selector.as_ref().map(|s| label_selector(s, &rpath.key("namespaceSelector"), diags));
        for (i, op) in d.operations.iter().flatten().enumerate() {
            match Operation::parse(op) {
                Some(o) => f.operations.push(o),
                None => {
                    let mut diag = Diagnostic::error("K0120", format!("unknown operation `{op}`"));
                    diag.path = rpath.key("operations").index(i).to_string();
                    diags.push(diag.expected("CREATE, UPDATE, DELETE or CONNECT").found(op.clone()));
                }
            }
        }
        f.has_description = !f.kinds.is_empty()
            || f.name.is_some()
            || !f.names.is_empty()
            || !f.namespaces.is_empty()
            || !f.annotations.is_empty()
            || f.selector.is_some()
            || f.namespace_selector.is_some()
            || !f.operations.is_empty();
    }
    f.roles = user.roles.iter().flatten().map(|s| s.as_str().into()).collect();
    f.cluster_roles = user.cluster_roles.iter().flatten().map(|s| s.as_str().into()).collect();
    for (i, s) in user.subjects.iter().flatten().enumerate() {
        let subject = match s.kind.as_str() {
            "ServiceAccount" => Some(Subject::ServiceAccount(Glob::new(&format!(
                "system:serviceaccount:{}:{}",
                s.namespace.as_deref().unwrap_or(""),
                s.name
            )))),
            "Group" => Some(Subject::Group(Glob::new(&s.name))),
            "User" => Some(Subject::User(Glob::new(&s.name))),
            other => {
                let mut diag = Diagnostic::error("K0120", format!("unknown subject kind `{other}`"));
                diag.path = path.key("subjects").index(i).key("kind").to_string();
                diags.push(diag.expected("ServiceAccount, Group or User").found(other.to_string()));
                None
            }
        };
        f.subjects.extend(subject);
    }
    f
}

fn label_selector(s: &model::LabelSelector, path: &YamlPath, diags: &mut Vec<Diagnostic>) -> LabelSelector {
    let mut out = LabelSelector {
        match_labels: s.match_labels.iter().flatten().map(|(k, v)| (k.as_str().into(), v.as_str().into())).collect(),
        match_expressions: Vec::new(),
    };
    for (i, e) in s.match_expressions.iter().flatten().enumerate() {
        let epath = path.key("matchExpressions").index(i);
        let operator = match e.operator.as_str() {
            "In" => LabelOperator::In,
            "NotIn" => LabelOperator::NotIn,
            "Exists" => LabelOperator::Exists,
            "DoesNotExist" => LabelOperator::DoesNotExist,
            other => {
                let mut d = Diagnostic::error("K0121", format!("unknown label selector operator `{other}`"));
                d.path = epath.key("operator").to_string();
                diags.push(d.expected("In, NotIn, Exists or DoesNotExist").found(other.to_string()));
                continue;
            }
        };
        let values: Vec<Box<str>> = e.values.iter().flatten().map(|v| v.as_str().into()).collect();
        let needs_values = matches!(operator, LabelOperator::In | LabelOperator::NotIn);
        if needs_values == values.is_empty() {
            let mut d =
                Diagnostic::error("K0121", format!("operator `{}` {} values", e.operator, if needs_values { "needs" } else { "takes no" }));
            d.path = epath.to_string();
            diags.push(d.help("Kubernetes rejects this selector; Kyverno never matches it"));
        }
        out.match_expressions.push(LabelExpression { key: e.key.as_str().into(), operator, values });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(yaml: &str) -> (Node, Vec<Diagnostic>) {
        let v: Value = serde_yaml::from_str(yaml).unwrap();
        let mut diags = Vec::new();
        let doc = SourceDoc { file: "t.yaml".into(), index: 0, value: Value::Null, positions: Default::default() };
        let node = PatternLowering { doc: &doc, diags: &mut diags, unsupported: Vec::new() }.node(&v, &YamlPath::root(), MapContext::Plain);
        (node, diags)
    }

    #[test]
    fn parses_rendered_paths() {
        let p = YamlPath::root().key("spec").key("rules").index(2).key("app.kubernetes.io/name").key("x");
        assert_eq!(parse_path(&p.to_string()), p);
    }

    #[test]
    fn parses_anchors_like_kyverno() {
        assert_eq!(parse_anchor("(name)"), (Some('('), "name"));
        assert_eq!(parse_anchor("=(securityContext)"), (Some('='), "securityContext"));
        assert_eq!(parse_anchor("X(hostPath)"), (Some('X'), "hostPath"));
        assert_eq!(parse_anchor("^(containers)"), (Some('^'), "containers"));
        assert_eq!(parse_anchor("<(image)"), (Some('<'), "image"));
        assert_eq!(parse_anchor("+(label)"), (Some('+'), "label"));
        assert_eq!(parse_anchor("()"), (None, "()"));
        assert_eq!(parse_anchor("name"), (None, "name"));
        assert_eq!(parse_anchor(" (a) "), (Some('('), "a"));
    }

    #[test]
    fn orders_entries_as_kyverno_evaluates_them() {
        let (node, _) = lower("{z: 1, a: 2, X(n): null, (c): x, b: {(d): y}, m: {=(e): 1}, <(g): 1}");
        let Node::Map(m) = node else { panic!() };
        let keys: Vec<&str> = m.entries.iter().map(|e| e.key.as_str()).collect();
        // anchors first (sorted by raw key), then fronted keys in reverse order, then the rest
        assert_eq!(keys, vec!["c", "n", "m", "b", "g", "a", "z"]);
        assert_eq!(m.noted, vec![("(c)".to_string(), "c".to_string(), false), ("X(n)".to_string(), "n".to_string(), false)]);
    }

    #[test]
    fn expands_wildcard_keys_only_under_metadata_labels() {
        let (node, _) = lower("{metadata: {labels: {app.*: x}}, spec: {labels: {a*: y}}}");
        let Node::Map(m) = node else { panic!() };
        let Node::Map(meta) = &m.entries[0].value else { panic!() };
        let Node::Map(labels) = &meta.entries[0].value else { panic!() };
        assert!(labels.entries[0].expand);
        let Node::Map(spec) = &m.entries[1].value else { panic!() };
        let Node::Map(sl) = &spec.entries[0].value else { panic!() };
        assert!(!sl.entries[0].expand);
    }

    #[test]
    fn existence_anchor_needs_list_of_maps() {
        let (_, diags) = lower("{^(containers): x}");
        assert_eq!(diags[0].code, "K0130");
    }
}
