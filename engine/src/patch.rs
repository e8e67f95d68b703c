//! JSON Pointer (RFC 6901) and JSON Patch (RFC 6902) over arena documents: applying a
//! patch, and computing the patch from one document to another.
//!
//! Mutation works on the same read-only [`Value`] trees as validation. A change never
//! writes into a document: it rebuilds the containers on the path to the changed node in
//! the arena and shares every other subtree with the original, so a patch to one label
//! of a large Pod copies a handful of small slices. That sharing also makes [`diff`]
//! cheap: two subtrees that are the same slice are equal without being walked.
//!
//! - [`Pointer`]: a parsed JSON Pointer (`/spec/containers/0/image`, `~0` and `~1`
//!   escapes).
//! - [`Op`], [`apply`]: the six operations with RFC 6902's rules (`add` replaces an
//!   object member and inserts into an array, `-` appends, `remove`/`replace` need the
//!   target, `move` cannot move a node into itself, `test` compares as JSON data).
//! - [`diff`]: a deterministic patch from one document to another: members removed in
//!   the old document's order, changed members patched in place, members added in the
//!   new document's order; arrays element by element, then the tail added or removed
//!   from the end. Applying it to the old document gives the new one; the diff of a
//!   document with itself is empty.
//! - [`write_patch`]: the patch as JSON text (what the webhook base64-encodes).

use core::fmt;

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use crate::document::{write_json_string, Member, Value};

/// A parsed JSON Pointer: its reference tokens, unescaped. The empty pointer is the
/// whole document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pointer<'a> {
    pub tokens: &'a [&'a str],
}

impl<'a> Pointer<'a> {
    pub const ROOT: Pointer<'static> = Pointer { tokens: &[] };

    /// Parses `text` (`""` or `/a/b~1c`); tokens without escapes borrow from `text`.
    pub fn parse(bump: &'a Bump, text: &'a str) -> Result<Pointer<'a>, PatchError> {
        if text.is_empty() {
            return Ok(Pointer { tokens: &[] });
        }
        let rest = text.strip_prefix('/').ok_or(PatchError::BadPointer)?;
        let mut tokens = BumpVec::new_in(bump);
        for raw in rest.split('/') {
            tokens.push(unescape(bump, raw)?);
        }
        Ok(Pointer { tokens: tokens.into_bump_slice() })
    }

    /// `self` is a proper prefix of `other`.
    fn is_proper_prefix_of(&self, other: &Pointer<'_>) -> bool {
        self.tokens.len() < other.tokens.len() && self.tokens.iter().zip(other.tokens).all(|(a, b)| a == b)
    }
}

impl fmt::Display for Pointer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in self.tokens {
            f.write_str("/")?;
            write_token(f, t)?;
        }
        Ok(())
    }
}

fn write_token(out: &mut impl fmt::Write, token: &str) -> fmt::Result {
    for c in token.chars() {
        match c {
            '~' => out.write_str("~0")?,
            '/' => out.write_str("~1")?,
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

fn unescape<'a>(bump: &'a Bump, raw: &'a str) -> Result<&'a str, PatchError> {
    if !raw.contains('~') {
        return Ok(raw);
    }
    let mut out = bumpalo::collections::String::with_capacity_in(raw.len(), bump);
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return Err(PatchError::BadPointer),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out.into_bump_str())
}

/// One JSON Patch operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op<'a> {
    Add { path: Pointer<'a>, value: Value<'a> },
    Remove { path: Pointer<'a> },
    Replace { path: Pointer<'a>, value: Value<'a> },
    Move { from: Pointer<'a>, path: Pointer<'a> },
    Copy { from: Pointer<'a>, path: Pointer<'a> },
    Test { path: Pointer<'a>, value: Value<'a> },
}

impl Op<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Add { .. } => "add",
            Op::Remove { .. } => "remove",
            Op::Replace { .. } => "replace",
            Op::Move { .. } => "move",
            Op::Copy { .. } => "copy",
            Op::Test { .. } => "test",
        }
    }
}

/// Why a patch could not be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchError {
    /// A pointer that is not `""` and does not start with `/`, or a bad `~` escape.
    BadPointer,
    /// The target (or, for `add`, its parent) does not exist.
    NotFound,
    /// An array index that is not a number, or out of range.
    BadIndex,
    /// A pointer goes through a value that is not an object or an array.
    NotAContainer,
    /// `move` into a child of the moved node.
    MoveIntoItself,
    /// A `test` whose value differs.
    TestFailed,
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PatchError::BadPointer => "invalid JSON pointer",
            PatchError::NotFound => "the path does not exist",
            PatchError::BadIndex => "invalid array index",
            PatchError::NotAContainer => "the path goes through a value that is not an object or an array",
            PatchError::MoveIntoItself => "cannot move a value into one of its children",
            PatchError::TestFailed => "test operation failed",
        })
    }
}

impl std::error::Error for PatchError {}

/// The node at `pointer`, if any.
pub fn get<'a>(doc: Value<'a>, pointer: &Pointer<'_>) -> Option<Value<'a>> {
    let mut cur = doc;
    for token in pointer.tokens {
        cur = match cur {
            Value::Object(members) => members.iter().find(|m| m.key == *token)?.value,
            Value::Array(items) => *items.get(array_index(token)?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// An array index token: decimal digits without a leading zero (RFC 6901).
fn array_index(token: &str) -> Option<usize> {
    let well_formed = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) && (token == "0" || !token.starts_with('0'));
    if well_formed {
        token.parse().ok()
    } else {
        None
    }
}

/// An array index token, negative ones counted from the end when `options` allow: `-1`
/// is the last element, and for an `add` the position after it (as in the JSON Patch
/// library Kyverno uses, which counts from `len + 1` there).
fn element_index(token: &str, len: usize, options: ApplyOptions, adding: bool) -> Option<usize> {
    match token.strip_prefix('-') {
        Some(back) if options.negative_indices => {
            let end = if adding { len + 1 } else { len };
            end.checked_sub(array_index(back).filter(|n| *n > 0)?)
        }
        _ => array_index(token),
    }
}

/// A token that addresses an array position (`-`, an index, or a negative index).
fn is_index_token(token: &str) -> bool {
    token == "-" || array_index(token.strip_prefix('-').unwrap_or(token)).is_some()
}

/// The container an `add` creates for a missing parent: an array when the next token
/// addresses a position.
fn empty_parent(rest: &[&str]) -> Value<'static> {
    if rest.first().is_some_and(|t| is_index_token(t)) {
        Value::Array(&[])
    } else {
        Value::Object(&[])
    }
}

/// What to do at the end of a pointer.
#[derive(Clone, Copy)]
enum Edit<'a> {
    Add(Value<'a>),
    Remove,
    Replace(Value<'a>),
}

/// Departures from strict RFC 6902 that Kyverno asks of its JSON Patch library.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// `-1` is the last array element (`-n` counts from the end).
    pub negative_indices: bool,
    /// `remove` of a path that does not exist changes nothing.
    pub allow_missing_remove: bool,
    /// `add` creates missing parent objects (arrays when the next token is an index).
    pub create_parents: bool,
}

impl ApplyOptions {
    /// Kyverno's `patchesJson6902` options.
    pub const KYVERNO: ApplyOptions = ApplyOptions { negative_indices: true, allow_missing_remove: true, create_parents: true };
}

/// Applies `ops` in order; the first that fails stops the patch.
pub fn apply<'a>(bump: &'a Bump, doc: Value<'a>, ops: &[Op<'a>]) -> Result<Value<'a>, PatchError> {
    apply_with(bump, doc, ops, ApplyOptions::default())
}

/// [`apply`] with `options`.
pub fn apply_with<'a>(bump: &'a Bump, doc: Value<'a>, ops: &[Op<'a>], options: ApplyOptions) -> Result<Value<'a>, PatchError> {
    let mut doc = doc;
    for op in ops {
        doc = apply_one(bump, doc, op, options)?;
    }
    Ok(doc)
}

fn apply_one<'a>(bump: &'a Bump, doc: Value<'a>, op: &Op<'a>, options: ApplyOptions) -> Result<Value<'a>, PatchError> {
    let edit = |doc: Value<'a>, tokens: &[&str], change: Edit<'a>| edit(bump, doc, tokens, change, options);
    match *op {
        Op::Add { path, value } => edit(doc, path.tokens, Edit::Add(value)),
        Op::Remove { path } => match edit(doc, path.tokens, Edit::Remove) {
            Err(PatchError::NotFound) if options.allow_missing_remove => Ok(doc),
            other => other,
        },
        Op::Replace { path, value } => edit(doc, path.tokens, Edit::Replace(value)),
        Op::Move { from, path } => {
            if from == path {
                return get(doc, &from).map(|_| doc).ok_or(PatchError::NotFound);
            }
            if from.is_proper_prefix_of(&path) {
                return Err(PatchError::MoveIntoItself);
            }
            let value = get(doc, &from).ok_or(PatchError::NotFound)?;
            let doc = edit(doc, from.tokens, Edit::Remove)?;
            edit(doc, path.tokens, Edit::Add(value))
        }
        Op::Copy { from, path } => {
            let value = get(doc, &from).ok_or(PatchError::NotFound)?;
            edit(doc, path.tokens, Edit::Add(value))
        }
        Op::Test { path, value } => {
            let found = get(doc, &path).ok_or(PatchError::NotFound)?;
            if same_data(found, value) {
                Ok(doc)
            } else {
                Err(PatchError::TestFailed)
            }
        }
    }
}

/// Rebuilds `node` with `change` applied at `tokens`, sharing everything off the path.
fn edit<'a>(bump: &'a Bump, node: Value<'a>, tokens: &[&str], change: Edit<'a>, options: ApplyOptions) -> Result<Value<'a>, PatchError> {
    let last = match tokens {
        // The whole document.
        [] => {
            return match change {
                Edit::Add(v) | Edit::Replace(v) => Ok(v),
                Edit::Remove => Ok(Value::Null),
            }
        }
        [last] => *last,
        [first, rest @ ..] => {
            return match node {
                Value::Object(members) => match members.iter().position(|m| m.key == *first) {
                    Some(i) => {
                        let member = *members.get(i).ok_or(PatchError::NotFound)?;
                        let child = edit(bump, member.value, rest, change, options)?;
                        Ok(Value::Object(replaced(bump, members, i, Member { key: member.key, value: child })))
                    }
                    None if options.create_parents && matches!(change, Edit::Add(_)) => {
                        let child = edit(bump, empty_parent(rest), rest, change, options)?;
                        let key = bump.alloc_str(first);
                        Ok(Value::Object(inserted(bump, members, members.len(), Member { key, value: child })))
                    }
                    None => Err(PatchError::NotFound),
                },
                Value::Array(items) => match element_index(first, items.len(), options, false).filter(|i| *i < items.len()) {
                    Some(i) => {
                        let item = *items.get(i).ok_or(PatchError::NotFound)?;
                        let child = edit(bump, item, rest, change, options)?;
                        Ok(Value::Array(replaced(bump, items, i, child)))
                    }
                    // `-`, `-1` or one past the end, on a path being created: a new element.
                    None if options.create_parents
                        && matches!(change, Edit::Add(_))
                        && (matches!(*first, "-" | "-1") || array_index(first) == Some(items.len())) =>
                    {
                        let child = edit(bump, empty_parent(rest), rest, change, options)?;
                        Ok(Value::Array(inserted(bump, items, items.len(), child)))
                    }
                    None if array_index(first).is_none() && !options.negative_indices => Err(PatchError::BadIndex),
                    None => Err(PatchError::NotFound),
                },
                _ => Err(PatchError::NotAContainer),
            };
        }
    };
    match node {
        Value::Object(members) => {
            let at = members.iter().position(|m| m.key == last);
            match (change, at) {
                (Edit::Add(value) | Edit::Replace(value), Some(i)) => {
                    let key = members.get(i).map_or("", |m| m.key);
                    Ok(Value::Object(replaced(bump, members, i, Member { key, value })))
                }
                (Edit::Add(value), None) => {
                    let key = bump.alloc_str(last);
                    Ok(Value::Object(inserted(bump, members, members.len(), Member { key, value })))
                }
                (Edit::Remove, Some(i)) => Ok(Value::Object(removed(bump, members, i))),
                (Edit::Remove | Edit::Replace(_), None) => Err(PatchError::NotFound),
            }
        }
        Value::Array(items) => {
            let index = match (last, change) {
                ("-", Edit::Add(_)) => items.len(),
                ("-", _) => return Err(PatchError::BadIndex),
                _ => element_index(last, items.len(), options, matches!(change, Edit::Add(_))).ok_or(PatchError::BadIndex)?,
            };
            match change {
                Edit::Add(v) if index <= items.len() => Ok(Value::Array(inserted(bump, items, index, v))),
                Edit::Add(_) => Err(PatchError::BadIndex),
                Edit::Replace(v) if index < items.len() => Ok(Value::Array(replaced(bump, items, index, v))),
                Edit::Remove if index < items.len() => Ok(Value::Array(removed(bump, items, index))),
                Edit::Replace(_) | Edit::Remove => Err(PatchError::NotFound),
            }
        }
        _ => Err(PatchError::NotAContainer),
    }
}

/// A copy of `items` with element `i` replaced (unchanged when `i` is out of range).
fn replaced<'a, T: Copy>(bump: &'a Bump, items: &[T], i: usize, item: T) -> &'a [T] {
    let out = bump.alloc_slice_copy(items);
    if let Some(slot) = out.get_mut(i) {
        *slot = item;
    }
    out
}

/// A copy of `items` with `item` inserted before index `i` (appended past the end).
fn inserted<'a, T: Copy>(bump: &'a Bump, items: &[T], i: usize, item: T) -> &'a [T] {
    let (before, after) = items.split_at(i.min(items.len()));
    let mut out = BumpVec::with_capacity_in(items.len() + 1, bump);
    out.extend_from_slice(before);
    out.push(item);
    out.extend_from_slice(after);
    out.into_bump_slice()
}

/// A copy of `items` without element `i`.
fn removed<'a, T: Copy>(bump: &'a Bump, items: &[T], i: usize) -> &'a [T] {
    let mut out = BumpVec::with_capacity_in(items.len().saturating_sub(1), bump);
    out.extend(items.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, item)| *item));
    out.into_bump_slice()
}

/// JSON data equality: numbers by value (`1` equals `1.0`), objects as unordered sets of
/// members, arrays in order. Shared slices are equal without a walk.
pub fn same_data(a: Value<'_>, b: Value<'_>) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => x as f64 == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            core::ptr::eq(x, y) || (x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_data(*p, *q)))
        }
        (Value::Object(x), Value::Object(y)) => {
            core::ptr::eq(x, y)
                || (x.len() == y.len() && x.iter().all(|m| y.iter().find(|n| n.key == m.key).is_some_and(|n| same_data(m.value, n.value))))
        }
        _ => false,
    }
}

/// Appends to `out` a patch that turns `from` into `to` (see the module docs). Paths
/// are built in `bump`.
pub fn diff<'a>(bump: &'a Bump, from: Value<'a>, to: Value<'a>, out: &mut BumpVec<'a, Op<'a>>) {
    let mut path = BumpVec::new_in(bump);
    diff_at(bump, from, to, &mut path, out);
}

fn pointer<'a>(bump: &'a Bump, path: &[&'a str], last: Option<&'a str>) -> Pointer<'a> {
    let mut tokens = BumpVec::with_capacity_in(path.len() + 1, bump);
    tokens.extend_from_slice(path);
    tokens.extend(last);
    Pointer { tokens: tokens.into_bump_slice() }
}

fn index_token(bump: &Bump, i: usize) -> &str {
    bumpalo::format!(in bump, "{}", i).into_bump_str()
}

fn diff_at<'a>(bump: &'a Bump, from: Value<'a>, to: Value<'a>, path: &mut BumpVec<'a, &'a str>, out: &mut BumpVec<'a, Op<'a>>) {
    if same_data(from, to) {
        return;
    }
    match (from, to) {
        (Value::Object(old), Value::Object(new)) => {
            for m in old {
                match new.iter().find(|n| n.key == m.key) {
                    None => out.push(Op::Remove { path: pointer(bump, path, Some(m.key)) }),
                    Some(n) => {
                        path.push(m.key);
                        diff_at(bump, m.value, n.value, path, out);
                        path.pop();
                    }
                }
            }
            for n in new {
                if !old.iter().any(|m| m.key == n.key) {
                    out.push(Op::Add { path: pointer(bump, path, Some(n.key)), value: n.value });
                }
            }
        }
        (Value::Array(old), Value::Array(new)) => {
            let common = old.len().min(new.len());
            for (i, (a, b)) in old.iter().zip(new.iter()).enumerate() {
                path.push(index_token(bump, i));
                diff_at(bump, *a, *b, path, out);
                path.pop();
            }
            // Removals from the end, so that each index is valid when applied.
            for i in (common..old.len()).rev() {
                out.push(Op::Remove { path: pointer(bump, path, Some(index_token(bump, i))) });
            }
            for (i, item) in new.iter().enumerate().skip(common) {
                out.push(Op::Add { path: pointer(bump, path, Some(index_token(bump, i))), value: *item });
            }
        }
        _ => out.push(Op::Replace { path: pointer(bump, path, None), value: to }),
    }
}

/// Writes `ops` as a JSON Patch document: `[{"op":"add","path":"/a","value":1}]`.
pub fn write_patch(out: &mut impl fmt::Write, ops: &[Op<'_>]) -> fmt::Result {
    out.write_char('[')?;
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write!(out, "{{\"op\":\"{}\"", op.name())?;
        match op {
            Op::Move { from, .. } | Op::Copy { from, .. } => {
                out.write_str(",\"from\":")?;
                write_json_string(out, &from.to_string())?;
            }
            _ => {}
        }
        let path = match op {
            Op::Add { path, .. }
            | Op::Remove { path }
            | Op::Replace { path, .. }
            | Op::Move { path, .. }
            | Op::Copy { path, .. }
            | Op::Test { path, .. } => path,
        };
        out.write_str(",\"path\":")?;
        write_json_string(out, &path.to_string())?;
        match op {
            Op::Add { value, .. } | Op::Replace { value, .. } | Op::Test { value, .. } => write!(out, ",\"value\":{value}")?,
            _ => {}
        }
        out.write_char('}')?;
    }
    out.write_char(']')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::limits::Limits;

    fn doc<'a>(bump: &'a Bump, text: &'a str) -> Value<'a> {
        json::decode(text.as_bytes(), bump, &Limits::default()).expect("json")
    }

    fn ptr<'a>(bump: &'a Bump, text: &'a str) -> Pointer<'a> {
        Pointer::parse(bump, text).expect("pointer")
    }

    /// Applies one op to `before` and returns the result as compact JSON, or the error.
    fn run(before: &str, op: impl for<'a> Fn(&'a Bump) -> Op<'a>) -> String {
        let bump = Bump::new();
        let d = doc(&bump, bump.alloc_str(before));
        match apply(&bump, d, &[op(&bump)]) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn pointers_parse_and_print_with_escapes() {
        let bump = Bump::new();
        let p = ptr(&bump, "/a~1b/m~0n/0");
        assert_eq!(p.tokens, ["a/b", "m~n", "0"]);
        assert_eq!(p.to_string(), "/a~1b/m~0n/0");
        assert_eq!(ptr(&bump, "").tokens.len(), 0);
        assert_eq!(Pointer::parse(&bump, "a"), Err(PatchError::BadPointer));
        assert_eq!(Pointer::parse(&bump, "/a~2"), Err(PatchError::BadPointer));
    }

    #[test]
    fn rfc6902_operations() {
        // The examples of RFC 6902, appendix A.
        assert_eq!(run(r#"{"foo":"bar"}"#, |b| Op::Add { path: ptr(b, "/baz"), value: Value::Str("qux") }), r#"{"foo":"bar","baz":"qux"}"#);
        assert_eq!(
            run(r#"{"foo":["bar","baz"]}"#, |b| Op::Add { path: ptr(b, "/foo/1"), value: Value::Str("qux") }),
            r#"{"foo":["bar","qux","baz"]}"#
        );
        assert_eq!(run(r#"{"baz":"qux","foo":"bar"}"#, |b| Op::Remove { path: ptr(b, "/baz") }), r#"{"foo":"bar"}"#);
        assert_eq!(run(r#"{"foo":["bar","qux","baz"]}"#, |b| Op::Remove { path: ptr(b, "/foo/1") }), r#"{"foo":["bar","baz"]}"#);
        assert_eq!(
            run(r#"{"baz":"qux","foo":"bar"}"#, |b| Op::Replace { path: ptr(b, "/baz"), value: Value::Str("boo") }),
            r#"{"baz":"boo","foo":"bar"}"#
        );
        assert_eq!(
            run(r#"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#, |b| Op::Move {
                from: ptr(b, "/foo/waldo"),
                path: ptr(b, "/qux/thud")
            }),
            r#"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#
        );
        assert_eq!(
            run(r#"{"foo":["all","grass","cows","eat"]}"#, |b| Op::Move { from: ptr(b, "/foo/1"), path: ptr(b, "/foo/3") }),
            r#"{"foo":["all","cows","eat","grass"]}"#
        );
        assert_eq!(
            run(r#"{"baz":"qux","foo":["a",2,"c"]}"#, |b| Op::Test { path: ptr(b, "/foo/1"), value: Value::Float(2.0) }),
            r#"{"baz":"qux","foo":["a",2,"c"]}"#
        );
        assert_eq!(
            run(r#"{"baz":"qux"}"#, |b| Op::Test { path: ptr(b, "/baz"), value: Value::Str("bar") }),
            "error: test operation failed"
        );
        assert_eq!(
            run(r#"{"foo":"bar"}"#, |b| Op::Add { path: ptr(b, "/baz/bat"), value: Value::Str("qux") }),
            "error: the path does not exist"
        );
        assert_eq!(run(r#"{"foo":[1]}"#, |b| Op::Add { path: ptr(b, "/foo/-"), value: Value::Int(2) }), r#"{"foo":[1,2]}"#);
        assert_eq!(run(r#"{"foo":[1]}"#, |b| Op::Add { path: ptr(b, "/foo/2"), value: Value::Int(2) }), "error: invalid array index");
        assert_eq!(run(r#"{"foo":[1]}"#, |b| Op::Add { path: ptr(b, "/foo/01"), value: Value::Int(2) }), "error: invalid array index");
        assert_eq!(
            run(r#"{"a":{"b":1}}"#, |b| Op::Move { from: ptr(b, "/a"), path: ptr(b, "/a/b/c") }),
            "error: cannot move a value into one of its children"
        );
        assert_eq!(run(r#"{"a":{"b":1}}"#, |b| Op::Copy { from: ptr(b, "/a"), path: ptr(b, "/c") }), r#"{"a":{"b":1},"c":{"b":1}}"#);
        assert_eq!(run(r#"{"a":1}"#, |b| Op::Replace { path: ptr(b, "/b"), value: Value::Int(2) }), "error: the path does not exist");
        assert_eq!(run(r#"{"a":1}"#, |b| Op::Add { path: ptr(b, "/a~1b"), value: Value::Int(2) }), r#"{"a":1,"a/b":2}"#);
    }

    #[test]
    fn untouched_subtrees_are_shared() {
        let bump = Bump::new();
        let d = doc(&bump, r#"{"metadata":{"labels":{"a":"1"}},"spec":{"containers":[{"name":"c"}]}}"#);
        let patched = apply(&bump, d, &[Op::Add { path: ptr(&bump, "/metadata/labels/b"), value: Value::Str("2") }]).unwrap();
        let (Some(Value::Object(old)), Some(Value::Object(new))) = (d.get("spec"), patched.get("spec")) else { panic!() };
        assert!(core::ptr::eq(old, new), "spec is shared, not copied");
    }

    #[test]
    fn diff_then_apply_gives_the_target() {
        let bump = Bump::new();
        let a = doc(&bump, r#"{"a":1,"b":[1,2,3],"c":{"d":"x","e":null},"f~/":true}"#);
        let b = doc(&bump, r#"{"b":[1,5],"c":{"d":"y","g":[1]},"h":{"i":1},"f~/":false}"#);
        let mut ops = BumpVec::new_in(&bump);
        diff(&bump, a, b, &mut ops);
        let mut text = String::new();
        write_patch(&mut text, &ops).unwrap();
        assert_eq!(
            text,
            r#"[{"op":"remove","path":"/a"},{"op":"replace","path":"/b/1","value":5},{"op":"remove","path":"/b/2"},{"op":"replace","path":"/c/d","value":"y"},{"op":"remove","path":"/c/e"},{"op":"add","path":"/c/g","value":[1]},{"op":"replace","path":"/f~0~1","value":false},{"op":"add","path":"/h","value":{"i":1}}]"#
        );
        let patched = apply(&bump, a, &ops).unwrap();
        assert!(same_data(patched, b), "{patched}");
        let mut none = BumpVec::new_in(&bump);
        diff(&bump, b, b, &mut none);
        assert!(none.is_empty());
    }
}
