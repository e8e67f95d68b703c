//! Match and exclude: which rules apply to a request.
//!
//! Two layers. [`Dispatch`] is a table from resource kind to the rules that can match it
//! (plus the rules whose kinds are wildcards), so a request only looks at rules that can
//! apply to it and cost grows with matching rules, not with loaded policies. Then each
//! candidate's [`MatchSpec`] — Kyverno's `match` and `exclude` blocks, with `any`, `all`
//! or the legacy single-filter form — is checked as residual predicates over names,
//! namespaces, labels, annotations, namespace labels, operations and user information.
//!
//! Semantics follow Kyverno's `MatchesResourceDescription`: inside one filter every
//! stated clause must hold (lists are alternatives); `match.any` needs one filter,
//! `match.all` every filter; `exclude.any` excludes when one filter holds,
//! `exclude.all` when all do. User-info clauses of `match` are ignored when the request
//! carries no user information at all.

use ahash::AHashMap;

use crate::document::Value;
use crate::ids::RuleId;
use crate::request::{Operation, Request};
use crate::wildcard::Glob;

/// A rule's compiled `match` and `exclude`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchSpec {
    pub matching: FilterSet,
    /// `None` when the rule has no `exclude`.
    pub exclude: Option<FilterSet>,
    /// For a namespaced `Policy`: resources must be in this namespace.
    pub policy_namespace: Option<Box<str>>,
}

/// `any`, `all`, or the legacy single filter (`match.resources` plus top-level user info).
#[derive(Clone, Debug, PartialEq)]
pub enum FilterSet {
    Any(Vec<ResourceFilter>),
    All(Vec<ResourceFilter>),
    Single(Box<ResourceFilter>),
}

impl Default for FilterSet {
    fn default() -> Self {
        FilterSet::Single(Box::default())
    }
}

/// One resource filter: a `ResourceDescription` and a `UserInfo` block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceFilter {
    pub kinds: Vec<KindSelector>,
    pub name: Option<Glob>,
    pub names: Vec<Glob>,
    pub namespaces: Vec<Glob>,
    pub annotations: Vec<(Glob, Glob)>,
    pub selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub operations: Vec<Operation>,
    pub roles: Vec<Box<str>>,
    pub cluster_roles: Vec<Box<str>>,
    pub subjects: Vec<Subject>,
    /// True when any `ResourceDescription` clause was given (even an empty list written
    /// out counts as absent, as in Kyverno).
    pub has_description: bool,
}

impl ResourceFilter {
    fn has_user_info(&self) -> bool {
        !self.roles.is_empty() || !self.cluster_roles.is_empty() || !self.subjects.is_empty()
    }

    fn is_empty(&self) -> bool {
        !self.has_description && !self.has_user_info()
    }
}

/// A parsed kind selector: `Pod`, `v1/Pod`, `apps/v1/Deployment`, `Pod/exec`, `*`,
/// `*/*`, `networking.k8s.io/v1/Ingress` (Kyverno's `ParseKindSelector`).
#[derive(Clone, Debug, PartialEq)]
pub struct KindSelector {
    pub group: Glob,
    pub version: Glob,
    pub kind: Glob,
    /// `None`: any subresource (a plain `Pod` also matches `Pod/exec`).
    pub subresource: Option<Glob>,
    /// The selector as written, for listings.
    pub text: Box<str>,
}

impl KindSelector {
    pub fn parse(text: &str) -> KindSelector {
        let mut parts: Vec<&str> = text.split('/').collect();
        if let Some(last) = parts.pop() {
            parts.extend(last.split('.'));
        }
        let is_version = |s: &str| s == "*" || is_version_name(s);
        let (g, v, k, s) = match parts.as_slice() {
            [k] => ("*", "*", *k, ""),
            ["*", "*"] => ("*", "*", "*", "*"),
            ["*", sub] if sub.to_lowercase() == *sub => ("*", "*", "*", *sub),
            [v, k] if is_version(v) => ("*", *v, *k, ""),
            [k, sub] => ("*", "*", *k, *sub),
            [v, k, sub] if is_version(v) => ("*", *v, *k, *sub),
            [g, v, k] => (*g, *v, *k, ""),
            [g, v, k, sub] => (*g, *v, *k, *sub),
            _ => ("", "", "", ""),
        };
        KindSelector {
            group: Glob::new(g),
            version: Glob::new(v),
            kind: Glob::new(k),
            subresource: if s.is_empty() { None } else { Some(Glob::new(s)) },
            text: text.into(),
        }
    }

    pub fn matches(&self, req: &Request<'_>) -> bool {
        if !(self.group.is_match(req.group) && self.version.is_match(req.version) && self.kind.is_match(req.kind)) {
            return false;
        }
        match &self.subresource {
            None => true,
            Some(sub) => {
                sub.is_match(req.subresource)
                    // Kyverno matches ephemeral containers of Pods even when only Pods are named.
                    || (req.group.is_empty() && req.version == "v1" && req.kind == "Pod" && req.subresource == "ephemeralcontainers")
            }
        }
    }

    /// The exact kind name when it has no wildcard (the dispatch key).
    pub fn exact_kind(&self) -> Option<&str> {
        match &self.kind {
            Glob::Exact(k) => Some(k),
            _ => None,
        }
    }
}

/// `v1`, `v2beta1`, `v1alpha3`.
fn is_version_name(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let tail = rest.get(digits..).unwrap_or("");
    if tail.is_empty() {
        return true;
    }
    let tail = tail.strip_prefix("alpha").or_else(|| tail.strip_prefix("beta"));
    matches!(tail, Some(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
}

/// A Kubernetes label selector, with Kyverno's wildcard extension of `matchLabels`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector {
    pub match_labels: Vec<(Box<str>, Box<str>)>,
    pub match_expressions: Vec<LabelExpression>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LabelExpression {
    pub key: Box<str>,
    pub operator: LabelOperator,
    pub values: Vec<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Does the label set (a document object of strings, or `null`) satisfy the selector?
    pub fn matches(&self, labels: Value<'_>) -> bool {
        let members = labels.as_object().unwrap_or(&[]);
        let label = |key: &str| members.iter().find(|m| m.key == key).and_then(|m| m.value.as_str());
        for (key, value) in &self.match_labels {
            let wild = crate::wildcard::contains_wildcard(key) || crate::wildcard::contains_wildcard(value);
            if wild {
                let any = members
                    .iter()
                    .any(|m| crate::wildcard::matches(key, m.key) && m.value.as_str().is_some_and(|v| crate::wildcard::matches(value, v)));
                if any {
                    continue;
                }
                // Kyverno replaces the wildcards it could not expand with '0'.
                let key0 = key.replace(['*', '?'], "0");
                let value0 = value.replace(['*', '?'], "0");
                if label(&key0) != Some(value0.as_str()) {
                    return false;
                }
            } else if label(key) != Some(&**value) {
                return false;
            }
        }
        self.match_expressions.iter().all(|e| {
            let have = label(&e.key);
            match e.operator {
                LabelOperator::In => have.is_some_and(|v| e.values.iter().any(|w| **w == *v)),
                LabelOperator::NotIn => have.is_none_or(|v| !e.values.iter().any(|w| **w == *v)),
                LabelOperator::Exists => have.is_some(),
                LabelOperator::DoesNotExist => have.is_none(),
            }
        })
    }
}

/// An RBAC subject of a `match`/`exclude` user-info clause.
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    /// `system:serviceaccount:NAMESPACE:NAME`, wildcards allowed.
    ServiceAccount(Glob),
    Group(Glob),
    User(Glob),
}

impl Subject {
    fn matches(&self, req: &Request<'_>) -> bool {
        match self {
            Subject::ServiceAccount(g) | Subject::User(g) => g.is_match(req.user.username),
            Subject::Group(g) => req.user.group_names().any(|group| g.is_match(group)),
        }
    }
}

impl ResourceFilter {
    /// True when every stated clause holds (Kyverno's `doesResourceMatchConditionBlock`
    /// returning no errors). `ignore_user_info` drops the user-info clauses.
    pub fn holds(&self, req: &Request<'_>, ignore_user_info: bool) -> bool {
        if !self.kinds.is_empty() && !self.kinds.iter().any(|k| k.matches(req)) {
            return false;
        }
        if let Some(name) = &self.name {
            if !name.is_match(req.name) {
                return false;
            }
        }
        if !self.names.is_empty() && !self.names.iter().any(|n| n.is_match(req.name)) {
            return false;
        }
        if !self.namespaces.is_empty() {
            let ns = if req.kind == "Namespace" { req.name } else { req.namespace };
            if !self.namespaces.iter().any(|n| n.is_match(ns)) {
                return false;
            }
        }
        if !self.annotations.is_empty() {
            let actual = req.annotations();
            let members = actual.as_object().unwrap_or(&[]);
            let all = self
                .annotations
                .iter()
                .all(|(k, v)| members.iter().any(|m| k.is_match(m.key) && m.value.as_str().is_some_and(|s| v.is_match(s))));
            if !all {
                return false;
            }
        }
        if let Some(sel) = &self.selector {
            if !sel.matches(req.labels()) {
                return false;
            }
        }
        if let Some(sel) = &self.namespace_selector {
            if req.kind != "Namespace" && !req.kind.is_empty() && !sel.matches(req.namespace_labels) {
                return false;
            }
        }
        if !self.operations.is_empty() && !self.operations.contains(&req.operation) {
            return false;
        }
        if !ignore_user_info {
            if !self.roles.is_empty() && !req.user.role_names().any(|r| self.roles.iter().any(|w| **w == *r)) {
                return false;
            }
            if !self.cluster_roles.is_empty() && !req.user.cluster_role_names().any(|r| self.cluster_roles.iter().any(|w| **w == *r)) {
                return false;
            }
            if !self.subjects.is_empty() && !self.subjects.iter().any(|s| s.matches(req)) {
                return false;
            }
        }
        true
    }

    /// A `match` filter: an empty filter never matches ("match cannot be empty").
    fn includes(&self, req: &Request<'_>) -> bool {
        let ignore_user_info = req.user.is_empty();
        let effective_empty = !self.has_description && (ignore_user_info || !self.has_user_info());
        !effective_empty && self.holds(req, ignore_user_info)
    }

    /// An `exclude` filter: an empty filter excludes nothing.
    fn excludes(&self, req: &Request<'_>) -> bool {
        !self.is_empty() && self.holds(req, false)
    }
}

impl MatchSpec {
    /// Does the rule apply to the request?
    pub fn applies(&self, req: &Request<'_>) -> bool {
        if let Some(ns) = &self.policy_namespace {
            if **ns != *req.namespace {
                return false;
            }
        }
        let included = match &self.matching {
            FilterSet::Any(filters) => filters.iter().any(|f| f.includes(req)),
            FilterSet::All(filters) => filters.iter().all(|f| f.includes(req)),
            FilterSet::Single(f) => f.includes(req),
        };
        if !included {
            return false;
        }
        let excluded = match &self.exclude {
            None => false,
            Some(FilterSet::Any(filters)) => filters.iter().any(|f| f.excludes(req)),
            // Kyverno: excluded when every filter excludes (an empty list excludes nothing).
            Some(FilterSet::All(filters)) => !filters.is_empty() && filters.iter().all(|f| f.excludes(req)),
            Some(FilterSet::Single(f)) => f.excludes(req),
        };
        !excluded
    }

    /// Exact kind names this spec can match, or `None` when it may match any kind.
    pub fn dispatch_kinds(&self) -> Option<Vec<&str>> {
        fn filter_kinds(f: &ResourceFilter) -> Option<Vec<&str>> {
            if f.kinds.is_empty() {
                return None;
            }
            f.kinds.iter().map(KindSelector::exact_kind).collect()
        }
        match &self.matching {
            FilterSet::Single(f) => filter_kinds(f),
            FilterSet::Any(filters) => {
                let mut all = Vec::new();
                for f in filters {
                    all.extend(filter_kinds(f)?);
                }
                Some(all)
            }
            // Every filter must hold: any one filter with kinds bounds the candidates.
            FilterSet::All(filters) => filters.iter().find_map(filter_kinds),
        }
    }
}

/// Kind → candidate rules, in rule order.
#[derive(Clone, Debug, Default)]
pub struct Dispatch {
    by_kind: AHashMap<Box<str>, Vec<RuleId>>,
    any_kind: Vec<RuleId>,
}

impl Dispatch {
    pub fn insert(&mut self, rule: RuleId, kinds: Option<Vec<&str>>) {
        match kinds {
            None => self.any_kind.push(rule),
            Some(kinds) => {
                for kind in kinds {
                    let list = self.by_kind.entry(kind.into()).or_default();
                    if list.last() != Some(&rule) {
                        list.push(rule);
                    }
                }
            }
        }
    }

    /// Candidate rules for `kind`, in ascending rule order (policy order, then rule order),
    /// without allocating: a merge of the kind's list and the wildcard list.
    pub fn candidates<'d>(&'d self, kind: &str) -> Candidates<'d> {
        let by_kind = self.by_kind.get(kind).map(Vec::as_slice).unwrap_or(&[]);
        Candidates { a: by_kind, b: &self.any_kind }
    }

    pub fn kinds(&self) -> impl Iterator<Item = (&str, &[RuleId])> {
        self.by_kind.iter().map(|(k, v)| (&**k, v.as_slice()))
    }

    pub fn any_kind(&self) -> &[RuleId] {
        &self.any_kind
    }
}

/// Iterator over the merge of two ascending rule lists.
#[derive(Debug)]
pub struct Candidates<'d> {
    a: &'d [RuleId],
    b: &'d [RuleId],
}

impl Iterator for Candidates<'_> {
    type Item = RuleId;

    fn next(&mut self) -> Option<RuleId> {
        match (self.a.first(), self.b.first()) {
            (Some(&x), Some(&y)) => {
                if x <= y {
                    self.a = self.a.get(1..).unwrap_or(&[]);
                    if x == y {
                        self.b = self.b.get(1..).unwrap_or(&[]);
                    }
                    Some(x)
                } else {
                    self.b = self.b.get(1..).unwrap_or(&[]);
                    Some(y)
                }
            }
            (Some(&x), None) => {
                self.a = self.a.get(1..).unwrap_or(&[]);
                Some(x)
            }
            (None, Some(&y)) => {
                self.b = self.b.get(1..).unwrap_or(&[]);
                Some(y)
            }
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kind_selectors_like_kyverno() {
        let k = |s: &str| {
            let k = KindSelector::parse(s);
            (k.group.to_string(), k.version.to_string(), k.kind.to_string(), k.subresource.map(|g| g.to_string()))
        };
        let any = "\"*\"".to_string();
        assert_eq!(k("Pod"), (any.clone(), any.clone(), "\"Pod\"".into(), None));
        assert_eq!(k("v1/Pod"), (any.clone(), "\"v1\"".into(), "\"Pod\"".into(), None));
        assert_eq!(k("Pod/exec"), (any.clone(), any.clone(), "\"Pod\"".into(), Some("\"exec\"".into())));
        assert_eq!(k("apps/v1/Deployment"), ("\"apps\"".into(), "\"v1\"".into(), "\"Deployment\"".into(), None));
        assert_eq!(k("networking.k8s.io/v1/Ingress"), ("\"networking.k8s.io\"".into(), "\"v1\"".into(), "\"Ingress\"".into(), None));
        assert_eq!(k("*/*"), (any.clone(), any.clone(), any.clone(), Some(any.clone())));
        assert_eq!(k("v1/Pod.status"), (any.clone(), "\"v1\"".into(), "\"Pod\"".into(), Some("\"status\"".into())));
    }

    #[test]
    fn candidates_merge_in_rule_order() {
        let mut d = Dispatch::default();
        d.insert(RuleId(0), Some(vec!["Pod"]));
        d.insert(RuleId(1), None);
        d.insert(RuleId(2), Some(vec!["Pod", "Deployment"]));
        d.insert(RuleId(3), None);
        let got: Vec<u32> = d.candidates("Pod").map(|r| r.0).collect();
        assert_eq!(got, vec![0, 1, 2, 3]);
        let got: Vec<u32> = d.candidates("Service").map(|r| r.0).collect();
        assert_eq!(got, vec![1, 3]);
    }
}
