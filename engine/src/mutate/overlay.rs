//! `patchStrategicMerge` overlays: compiled form, instantiation and Kyverno's anchor
//! preprocessing.
//!
//! The compiler turns the overlay YAML into an [`Overlay`] whose map keys carry their
//! parsed [`Anchor`]. Per request, [`Overlay::instantiate`] substitutes variables into a
//! small mutable tree ([`Node`], in the arena) and [`prepare`] resolves the anchors
//! against the resource the way Kyverno's `preProcessPattern` does:
//!
//! - in a map, each `+(key)` is dropped when the resource has `key` and becomes a plain
//!   `key` otherwise; then every `<(key)` and then every `(key)` must be present in the
//!   resource and match it as a validate pattern, else the whole patch is void (a
//!   global condition that fails skips the rule, a conditional one skips the element or
//!   the rule); then plain keys are walked with the resource's value under them;
//! - in a list of maps, each element with anchors is tried against every resource
//!   element: where it holds, a copy without anchors and named after that resource
//!   element (`name`) is appended, which is how `(name): "*"` patches every container;
//!   the working copy is shared across resource elements, as in Kyverno, so an `+()`
//!   consumed by the first match stays consumed;
//! - finally every node that held only anchors is deleted, empty maps included.
//!
//! What remains is a plain patch for [`super::merge`].

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use crate::document::{Member, Value};
use crate::jmespath::{Env, Error};
use crate::template::{OnError, Template, ValueTemplate};

/// The anchor on an overlay key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    None,
    /// `+(key)`: add only when the resource has no such key.
    AddIfNotPresent,
    /// `(key)`: the patch applies only where the resource matches.
    Condition,
    /// `<(key)`: the rule applies only when the resource matches.
    Global,
    /// `=(key)`: dropped from the patch (validate-only semantics).
    Equality,
    /// `X(key)`: dropped from the patch.
    Negation,
    /// `^(key)`: dropped from the patch.
    Existence,
}

impl Anchor {
    /// Splits `key` into its anchor and bare name (Kyverno's anchor syntax: an optional
    /// modifier, then the name in parentheses).
    pub fn parse(key: &str) -> (Anchor, &str) {
        let modifier = |c: char, anchor: Anchor| key.strip_prefix(c).map(|rest| (anchor, rest));
        let (anchor, rest) = modifier('+', Anchor::AddIfNotPresent)
            .or_else(|| modifier('<', Anchor::Global))
            .or_else(|| modifier('=', Anchor::Equality))
            .or_else(|| modifier('X', Anchor::Negation))
            .or_else(|| modifier('^', Anchor::Existence))
            .unwrap_or((Anchor::Condition, key));
        match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            Some(name) if !name.is_empty() => (anchor, name),
            _ => (Anchor::None, key),
        }
    }

    /// Kyverno's `ContainsCondition`: every anchor but `+()`.
    pub fn is_condition_like(self) -> bool {
        !matches!(self, Anchor::None | Anchor::AddIfNotPresent)
    }

    /// The key as written, for messages and for anchors that reach the merge.
    pub fn render<'a>(self, arena: &'a Bump, name: &'a str) -> &'a str {
        let prefix = match self {
            Anchor::None => return name,
            Anchor::AddIfNotPresent => "+",
            Anchor::Condition => "",
            Anchor::Global => "<",
            Anchor::Equality => "=",
            Anchor::Negation => "X",
            Anchor::Existence => "^",
        };
        bumpalo::format!(in arena, "{}({})", prefix, name).into_bump_str()
    }
}

/// A compiled overlay.
#[derive(Debug)]
pub enum Overlay {
    /// A scalar (possibly templated).
    Leaf(ValueTemplate),
    Map(Vec<OverlayField>),
    List(Vec<Overlay>),
}

/// One key of an overlay map.
#[derive(Debug)]
pub struct OverlayField {
    pub anchor: Anchor,
    /// The bare key; it may hold variables (`container.apparmor.../{{element.name}}`).
    pub key: Template,
    pub value: Overlay,
}

/// The working tree of one application of an overlay.
#[derive(Clone, Debug)]
pub enum Node<'a> {
    Scalar(Value<'a>),
    Map(BumpVec<'a, Field<'a>>),
    List(BumpVec<'a, Node<'a>>),
}

#[derive(Clone, Debug)]
pub struct Field<'a> {
    pub anchor: Anchor,
    pub key: &'a str,
    pub value: Node<'a>,
}

impl Overlay {
    /// Substitutes variables: the tree the anchors are then resolved on.
    pub fn instantiate<'a>(&self, root: Value<'a>, env: &mut Env<'a>) -> Result<Node<'a>, Error> {
        Ok(match self {
            Overlay::Leaf(t) => Node::Scalar(t.evaluate(root, env, OnError::Fail)?),
            Overlay::Map(fields) => {
                let mut out = BumpVec::with_capacity_in(fields.len(), env.arena);
                for f in fields {
                    let key = match f.key.literal() {
                        Some(k) => env.arena.alloc_str(k),
                        None => f.key.evaluate_string(root, env)?,
                    };
                    // A key that only becomes an anchor after substitution is one.
                    let (anchor, key) = if f.anchor == Anchor::None { Anchor::parse(key) } else { (f.anchor, key) };
                    out.push(Field { anchor, key, value: f.value.instantiate(root, env)? });
                }
                Node::Map(out)
            }
            Overlay::List(items) => {
                let mut out = BumpVec::with_capacity_in(items.len(), env.arena);
                for item in items {
                    out.push(item.instantiate(root, env)?);
                }
                Node::List(out)
            }
        })
    }
}

/// Why a patch does not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmet {
    /// A `()` condition did not hold: the element (or the whole patch) is skipped.
    Condition,
    /// A `<()` condition did not hold: the rule is skipped.
    Global,
}

/// Resolves the anchors of `patch` against `resource` (Kyverno's `preProcessPattern`).
/// `Err` means the patch does not apply; the rule then changes nothing.
pub fn prepare<'a>(arena: &'a Bump, patch: &mut Node<'a>, resource: Value<'a>) -> Result<(), Unmet> {
    walk(arena, patch, Some(resource))?;
    if let Node::Map(fields) = patch {
        delete_condition_elements(fields);
    }
    Ok(())
}

fn walk<'a>(arena: &'a Bump, pattern: &mut Node<'a>, resource: Option<Value<'a>>) -> Result<(), Unmet> {
    match pattern {
        Node::Map(fields) => walk_map(arena, fields, resource),
        Node::List(items) => {
            if matches!(items.first(), Some(Node::Map(_))) {
                list_of_maps(arena, items, resource)
            } else {
                Ok(())
            }
        }
        Node::Scalar(_) => Ok(()),
    }
}

fn walk_map<'a>(arena: &'a Bump, fields: &mut BumpVec<'a, Field<'a>>, resource: Option<Value<'a>>) -> Result<(), Unmet> {
    add_if_not_present(fields, resource);
    check_conditions(arena, fields, resource, Anchor::Global).map_err(|_| Unmet::Global)?;
    check_conditions(arena, fields, resource, Anchor::Condition).map_err(|_| Unmet::Condition)?;
    for f in fields.iter_mut().filter(|f| f.anchor == Anchor::None) {
        let below = resource.and_then(|r| r.get(f.key));
        walk(arena, &mut f.value, below)?;
    }
    Ok(())
}

/// `+(key)`: dropped when the resource has the key, else a plain key. Returns how many
/// there were.
fn add_if_not_present<'a>(fields: &mut BumpVec<'a, Field<'a>>, resource: Option<Value<'a>>) -> usize {
    let mut count = 0;
    fields.retain_mut(|f| {
        if f.anchor != Anchor::AddIfNotPresent {
            return true;
        }
        count += 1;
        if resource.and_then(|r| r.get(f.key)).is_some() {
            false
        } else {
            f.anchor = Anchor::None;
            true
        }
    });
    count
}

/// Every field anchored `which` must be present in the resource and match it.
fn check_conditions<'a>(
    arena: &'a Bump,
    fields: &mut BumpVec<'a, Field<'a>>,
    resource: Option<Value<'a>>,
    which: Anchor,
) -> Result<(), ()> {
    for f in fields.iter_mut().filter(|f| f.anchor == which) {
        let Some(value) = resource.and_then(|r| r.get(f.key)) else {
            return Err(());
        };
        // A condition whose value adds keys is an add, not a check (Kyverno).
        if let Node::Map(inner) = &mut f.value {
            if add_if_not_present(inner, Some(value)) > 0 {
                continue;
            }
        }
        let pattern = to_value(arena, &f.value);
        if !super::pattern::matches(value, pattern) {
            return Err(());
        }
    }
    Ok(())
}

fn list_of_maps<'a>(arena: &'a Bump, items: &mut BumpVec<'a, Node<'a>>, resource: Option<Value<'a>>) -> Result<(), Unmet> {
    let resource_items: &[Value<'a>] = resource.and_then(|r| r.as_array()).unwrap_or(&[]);
    let original = items.len();
    for i in 0..original {
        let Some(element) = items.get(i) else { break };
        if !has_anchors(element, &|a| a != Anchor::None) {
            continue;
        }
        let global = has_anchors(element, &|a| a == Anchor::Global);
        let mut working = element.clone();
        let mut any_global_passed = false;
        let mut global_failed = false;
        for &item in resource_items {
            match walk(arena, &mut working, Some(item)) {
                Err(Unmet::Condition) => continue,
                Err(Unmet::Global) => {
                    global_failed = true;
                    continue;
                }
                Ok(()) => {}
            }
            if global {
                any_global_passed = true;
            } else if let Some(named) = named_after(&working, item) {
                items.push(named);
            }
        }
        if resource.is_none() {
            match walk(arena, &mut working, None) {
                Err(Unmet::Condition) => continue,
                Err(Unmet::Global) => return Err(Unmet::Global),
                Ok(()) => any_global_passed |= global,
            }
        }
        if !any_global_passed && global_failed {
            return Err(Unmet::Global);
        }
    }
    Ok(())
}

/// A copy of a list element that held for `item`, without its anchors and carrying the
/// resource element's `name` (the merge key Kyverno relies on). `None` when the element
/// has no name or nothing but anchors.
fn named_after<'a>(element: &Node<'a>, item: Value<'a>) -> Option<Node<'a>> {
    let name = item.get("name").filter(|n| !matches!(n, Value::Null | Value::Str("")))?;
    let mut copy = element.clone();
    if delete_anchors(&mut copy, true, false) {
        return None;
    }
    let Node::Map(fields) = &mut copy else { return None };
    match fields.iter_mut().find(|f| f.key == "name" && f.anchor == Anchor::None) {
        Some(f) => f.value = Node::Scalar(name),
        None => fields.push(Field { anchor: Anchor::None, key: "name", value: Node::Scalar(name) }),
    }
    Some(copy)
}

/// Kyverno's `hasAnchors`: a key anchored as `wanted` anywhere below, or a scalar that
/// reads as a condition anchor.
fn has_anchors(node: &Node<'_>, wanted: &dyn Fn(Anchor) -> bool) -> bool {
    match node {
        Node::Map(fields) => fields.iter().any(|f| wanted(f.anchor) || has_anchors(&f.value, wanted)),
        Node::List(items) => items.iter().any(|i| has_anchors(i, wanted)),
        Node::Scalar(Value::Str(s)) => Anchor::parse(s).0.is_condition_like(),
        Node::Scalar(_) => false,
    }
}

fn delete_condition_elements(fields: &mut BumpVec<'_, Field<'_>>) {
    fields.retain_mut(|f| {
        let delete_scalar = f.anchor.is_condition_like();
        !delete_anchors(&mut f.value, delete_scalar, false)
    });
}

/// Deletes anchors below `node`; true when the node itself must go (it held only
/// anchors, or is an empty map).
fn delete_anchors(node: &mut Node<'_>, delete_scalar: bool, traverse_maps: bool) -> bool {
    match node {
        Node::Map(fields) => delete_anchors_in_map(fields, traverse_maps),
        Node::List(items) => delete_anchors_in_list(items, traverse_maps),
        Node::Scalar(_) => delete_scalar,
    }
}

fn delete_anchors_in_map(fields: &mut BumpVec<'_, Field<'_>>, traverse_maps: bool) -> bool {
    let mut anchors_left = false;
    fields.retain_mut(|f| {
        if !f.anchor.is_condition_like() {
            return true;
        }
        let delete = delete_anchors(&mut f.value, true, traverse_maps);
        anchors_left |= !delete;
        !delete
    });
    if anchors_left {
        for f in fields.iter_mut().filter(|f| f.anchor.is_condition_like()) {
            f.anchor = Anchor::None;
        }
    }
    let mut keep_any = false;
    fields.retain_mut(|f| {
        let delete = delete_anchors(&mut f.value, false, traverse_maps);
        keep_any |= !delete;
        !delete
    });
    !keep_any
}

/// Deletes list elements that hold anchors (or only anchors below). Kyverno removes
/// them by their index in the list as it was before the first removal, so a second
/// removal lands one element further on; that is kept, for the same patches.
fn delete_anchors_in_list(items: &mut BumpVec<'_, Node<'_>>, traverse_maps: bool) -> bool {
    let was_empty = items.is_empty();
    let mut doomed = BumpVec::new_in(items.bump());
    for (i, element) in items.iter_mut().enumerate() {
        let delete = if has_anchors(element, &|a| a != Anchor::None) {
            !(traverse_maps && matches!(element, Node::Map(_))) || delete_anchors(element, true, traverse_maps)
        } else {
            delete_anchors(element, false, traverse_maps)
        };
        if delete {
            doomed.push(i);
        }
    }
    for i in doomed {
        if i < items.len() {
            items.remove(i);
        }
    }
    items.is_empty() && !was_empty
}

/// The tree as a document (keys keep their anchor syntax).
pub fn to_value<'a>(arena: &'a Bump, node: &Node<'a>) -> Value<'a> {
    match node {
        Node::Scalar(v) => *v,
        Node::Map(fields) => {
            let mut out = BumpVec::with_capacity_in(fields.len(), arena);
            out.extend(fields.iter().map(|f| Member { key: f.anchor.render(arena, f.key), value: to_value(arena, &f.value) }));
            Value::Object(out.into_bump_slice())
        }
        Node::List(items) => {
            let mut out = BumpVec::with_capacity_in(items.len(), arena);
            out.extend(items.iter().map(|i| to_value(arena, i)));
            Value::Array(out.into_bump_slice())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_anchors() {
        assert_eq!(Anchor::parse("+(a)"), (Anchor::AddIfNotPresent, "a"));
        assert_eq!(Anchor::parse("(name)"), (Anchor::Condition, "name"));
        assert_eq!(Anchor::parse("<(image)"), (Anchor::Global, "image"));
        assert_eq!(Anchor::parse("=(x)"), (Anchor::Equality, "x"));
        assert_eq!(Anchor::parse("X(x)"), (Anchor::Negation, "x"));
        assert_eq!(Anchor::parse("^(x)"), (Anchor::Existence, "x"));
        assert_eq!(Anchor::parse("name"), (Anchor::None, "name"));
        assert_eq!(Anchor::parse("()"), (Anchor::None, "()"));
        assert_eq!(Anchor::parse("X"), (Anchor::None, "X"));
    }
}
