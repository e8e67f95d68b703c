//! The JSON context: the document Kyverno's `{{ }}` expressions are evaluated against.
//!
//! ```text
//! { "request": { "operation", "object", "oldObject", "namespace", "userInfo",
//!                "roles", "clusterRoles", ... },
//!   "serviceAccountName", "serviceAccountNamespace",
//!   "images": { "containers": { NAME: {registry, path, name, tag, digest, ...} }, ... },
//!   <variables from the request (the CLI's values file)>,
//!   <context entries and foreach elements, newest first> }
//! ```
//!
//! Built lazily (only rules with variables need it), once per request, in the arena.
//! Context entries and `element`/`elementIndex` are *bindings* pushed and popped as rules
//! and foreach loops run; the root object is re-materialised (a slice of members, newest
//! binding first so that it shadows older ones) only when the bindings changed.

use bumpalo::collections::{String as BumpString, Vec as BumpVec};
use bumpalo::Bump;

use crate::document::{Member, Value};
use crate::request::{Operation, Request};

/// A variable supplied with the request, at a dotted path (`request.operation`,
/// `namespacefilters.data.exclude`): the CLI's values file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SuppliedVariable<'a> {
    /// Applies to every rule when `None`, else only to rules of this name (the caller
    /// evaluates one policy at a time, so the name is unambiguous).
    pub rule: Option<&'a str>,
    pub path: &'a str,
    pub value: Value<'a>,
    /// A `foreachValues` entry: `value` is a list, and each `foreach` element sees the
    /// item at its own index.
    pub per_element: bool,
}

/// The context document of one request.
#[derive(Debug)]
pub struct JsonContext<'a> {
    arena: &'a Bump,
    base: &'a [Member<'a>],
    bindings: BumpVec<'a, Member<'a>>,
    root: Option<Value<'a>>,
}

impl<'a> JsonContext<'a> {
    /// Builds the base document for `req`, with `variables` (those without a rule) merged
    /// in at their dotted paths. `with_images` adds `images` (parsing container images
    /// costs time, so the program asks for it only when an expression names it).
    pub fn new(arena: &'a Bump, req: &Request<'a>, variables: &[SuppliedVariable<'a>], with_images: bool) -> JsonContext<'a> {
        let mut request: BumpVec<'a, Member<'a>> = BumpVec::new_in(arena);
        // An admission review's request carries every AdmissionRequest field; keep them.
        if let Value::Object(members) = req.admission {
            request.extend(members.iter().copied().filter(|m| !matches!(m.key, "object" | "oldObject")));
        }
        let set = |request: &mut BumpVec<'a, Member<'a>>, key: &'a str, value: Value<'a>| match request.iter_mut().find(|m| m.key == key) {
            Some(m) => m.value = value,
            None => request.push(Member { key, value }),
        };
        // Kyverno reads `request.object` as the old object on DELETE.
        let object = if req.operation == Operation::Delete { req.old_object } else { req.object };
        set(&mut request, "operation", Value::Str(req.operation.as_str()));
        set(&mut request, "object", object);
        set(&mut request, "oldObject", req.old_object);
        set(&mut request, "namespace", Value::Str(req.namespace));
        // Kyverno serialises its RequestInfo with `omitempty`: empty fields are absent
        // (so `request.userInfo.groups` is `null`, not `[]`, without a user).
        let mut user = BumpVec::new_in(arena);
        if let Some(Value::Object(existing)) = req.admission.get("userInfo") {
            user.extend(existing.iter().copied());
        } else {
            if !req.user.username.is_empty() {
                user.push(Member { key: "username", value: Value::Str(req.user.username) });
            }
            if !req.user.groups.is_empty() {
                user.push(Member { key: "groups", value: Value::Array(req.user.groups) });
            }
        }
        set(&mut request, "userInfo", Value::Object(user.into_bump_slice()));
        if !req.user.roles.is_empty() {
            set(&mut request, "roles", Value::Array(req.user.roles));
        }
        if !req.user.cluster_roles.is_empty() {
            set(&mut request, "clusterRoles", Value::Array(req.user.cluster_roles));
        }

        let mut base: BumpVec<'a, Member<'a>> = BumpVec::new_in(arena);
        base.push(Member { key: "request", value: Value::Object(request.into_bump_slice()) });
        let (sa_namespace, sa_name) = service_account(req.user.username);
        base.push(Member { key: "serviceAccountName", value: Value::Str(sa_name) });
        base.push(Member { key: "serviceAccountNamespace", value: Value::Str(sa_namespace) });
        if with_images {
            base.push(Member { key: "images", value: images(arena, req.object) });
        }
        let mut root = Value::Object(base.into_bump_slice());
        for v in variables.iter().filter(|v| v.rule.is_none()) {
            root = set_path(arena, root, v.path, v.value);
        }
        let base = root.as_object().unwrap_or(&[]);
        JsonContext { arena, base, bindings: BumpVec::new_in(arena), root: None }
    }

    /// The root object: newest bindings first, then the base document.
    pub fn root(&mut self) -> Value<'a> {
        if let Some(r) = self.root {
            return r;
        }
        let mut members = BumpVec::with_capacity_in(self.bindings.len() + self.base.len(), self.arena);
        members.extend(self.bindings.iter().rev().copied());
        members.extend(self.base.iter().copied());
        let r = Value::Object(members.into_bump_slice());
        self.root = Some(r);
        r
    }

    /// Adds a top-level binding (a context entry, `element`, ...). A dotted name binds a
    /// nested path, merged with what the context already holds there.
    pub fn bind(&mut self, name: &'a str, value: Value<'a>) {
        match name.split_once('.') {
            None => self.bindings.push(Member { key: name, value }),
            Some((head, _)) => {
                // Merge into what the context holds under `head`.
                let current = self.root().get(head).unwrap_or(Value::Null);
                let wrapper: &'a [Member<'a>] = self.arena.alloc_slice_copy(&[Member { key: head, value: current }]);
                let merged = set_path(self.arena, Value::Object(wrapper), name, value);
                if let Some(v) = merged.get(head) {
                    self.bindings.push(Member { key: head, value: v });
                }
            }
        }
        self.root = None;
    }

    /// Replaces `request.object` (and `images`, when present) with a mutated object:
    /// Kyverno's `AddResource` after each mutate rule, so later rules read the result.
    pub fn set_object(&mut self, object: Value<'a>) {
        let mut base = BumpVec::with_capacity_in(self.base.len(), self.arena);
        for m in self.base {
            let value = match m.key {
                "request" => set_path(self.arena, m.value, "object", object),
                "images" => images(self.arena, object),
                _ => m.value,
            };
            base.push(Member { key: m.key, value });
        }
        self.base = base.into_bump_slice();
        self.root = None;
    }

    /// The number of bindings, to restore with [`JsonContext::reset`].
    pub fn mark(&self) -> usize {
        self.bindings.len()
    }

    pub fn reset(&mut self, mark: usize) {
        if self.bindings.len() != mark {
            self.bindings.truncate(mark);
            self.root = None;
        }
    }

    pub fn arena(&self) -> &'a Bump {
        self.arena
    }
}

/// `system:serviceaccount:NS:NAME` → (`NS`, `NAME`); anything else → (``, ``).
fn service_account(username: &str) -> (&str, &str) {
    let Some(rest) = username.strip_prefix("system:serviceaccount:") else {
        return ("", "");
    };
    let mut parts = rest.split(':');
    match (parts.next(), parts.next()) {
        (Some(ns), Some(name)) => (ns, name),
        _ => ("", ""),
    }
}

/// Sets `path` (dotted) in `root` to `value`, copying the objects along the way.
pub fn set_path<'a>(arena: &'a Bump, root: Value<'a>, path: &str, value: Value<'a>) -> Value<'a> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let members = root.as_object().unwrap_or(&[]);
    let existing = members.iter().find(|m| m.key == head).map(|m| m.value);
    let new_value = match rest {
        None => value,
        Some(r) => set_path(arena, existing.unwrap_or(Value::Null), r, value),
    };
    let mut out = BumpVec::with_capacity_in(members.len() + 1, arena);
    let mut replaced = false;
    for m in members {
        if m.key == head {
            out.push(Member { key: m.key, value: new_value });
            replaced = true;
        } else {
            out.push(*m);
        }
    }
    if !replaced {
        out.push(Member { key: arena.alloc_str(head), value: new_value });
    }
    Value::Object(out.into_bump_slice())
}

/// Kyverno's `images` variable: the containers' images, parsed, by container name.
fn images<'a>(arena: &'a Bump, object: Value<'a>) -> Value<'a> {
    let kind = object.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let spec = match kind {
        "Pod" => object.get("spec"),
        "CronJob" => object.pointer(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => object.pointer(&["spec", "template", "spec"]),
    };
    let Some(spec) = spec else {
        return Value::Object(&[]);
    };
    let mut groups = BumpVec::new_in(arena);
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(list) = spec.get(field).and_then(|v| v.as_array()) else { continue };
        let mut by_name = BumpVec::new_in(arena);
        for c in list {
            let (Some(name), Some(image)) = (c.get("name").and_then(|v| v.as_str()), c.get("image").and_then(|v| v.as_str())) else {
                continue;
            };
            if let Some(info) = ImageInfo::parse(image) {
                by_name.push(Member { key: name, value: info.to_value(arena) });
            }
        }
        if !by_name.is_empty() {
            groups.push(Member { key: field, value: Value::Object(by_name.into_bump_slice()) });
        }
    }
    Value::Object(groups.into_bump_slice())
}

/// A container image reference split as Kyverno's `ImageInfo` splits it. Every part is
/// a slice of the reference or a constant default, so that building the `images`
/// context variable asks nothing of the global heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageInfo<'s> {
    pub registry: &'s str,
    pub path: &'s str,
    pub name: &'s str,
    pub tag: &'s str,
    pub digest: &'s str,
}

/// Kyverno's registry for references without one.
const DEFAULT_REGISTRY: &str = "docker.io";
/// Kyverno's tag for references with neither tag nor digest.
const DEFAULT_TAG: &str = "latest";

impl<'s> ImageInfo<'s> {
    /// Parses `image` with Kyverno's defaults: a first path component without `.` or `:`
    /// (and not `localhost`, and all lower case) is not a registry, so `docker.io` is
    /// assumed; no tag and no digest means `latest`.
    pub fn parse(image: &'s str) -> Option<ImageInfo<'s>> {
        if image.is_empty() || image.contains(char::is_whitespace) {
            return None;
        }
        let names_registry = image.split_once('/').is_some_and(|(first, _)| {
            first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| !c.to_lowercase().eq([c]))
        });
        let (rest, digest) = image.split_once('@').unwrap_or((image, ""));
        let (registry, remainder) = if names_registry { rest.split_once('/')? } else { (DEFAULT_REGISTRY, rest) };
        // A tag is after the last ':' that follows the last '/'.
        let (path, tag) = match remainder.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, t),
            _ => (remainder, ""),
        };
        if path.is_empty() {
            return None;
        }
        let tag = if tag.is_empty() && digest.is_empty() { DEFAULT_TAG } else { tag };
        let name = path.rsplit('/').next().unwrap_or(path);
        Some(ImageInfo { registry, path, name, tag, digest })
    }

    /// Writes `registry/path[:tag][@digest]`, leaving out what is empty.
    fn write_reference(&self, out: &mut impl std::fmt::Write, with_digest: bool) -> std::fmt::Result {
        write!(out, "{}/{}", self.registry, self.path)?;
        if !self.tag.is_empty() {
            write!(out, ":{}", self.tag)?;
        }
        if with_digest && !self.digest.is_empty() {
            write!(out, "@{}", self.digest)?;
        }
        Ok(())
    }

    /// `registry/path:tag@digest`, leaving out what is empty.
    pub fn reference(&self) -> String {
        let mut s = String::new();
        let _ = self.write_reference(&mut s, true);
        s
    }

    fn to_value<'a>(self, arena: &'a Bump) -> Value<'a>
    where
        's: 'a,
    {
        let mut members = BumpVec::with_capacity_in(7, arena);
        let mut add = |k: &'a str, v: &'a str| {
            if !v.is_empty() || k == "name" || k == "path" {
                members.push(Member { key: k, value: Value::Str(v) });
            }
        };
        add("registry", self.registry);
        add("name", self.name);
        add("path", self.path);
        add("tag", self.tag);
        add("digest", self.digest);
        let mut reference = BumpString::new_in(arena);
        let _ = self.write_reference(&mut reference, true);
        add("reference", reference.into_bump_str());
        let mut with_tag = BumpString::new_in(arena);
        let _ = self.write_reference(&mut with_tag, false);
        members.push(Member { key: "referenceWithTag", value: Value::Str(with_tag.into_bump_str()) });
        Value::Object(members.into_bump_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_images_like_kyverno() {
        let i = ImageInfo::parse("nginx").unwrap();
        assert_eq!((i.registry, i.path, i.name, i.tag), ("docker.io", "nginx", "nginx", "latest"));
        let i = ImageInfo::parse("ghcr.io/org/app:1.2@sha256:abc").unwrap();
        assert_eq!((i.registry, i.path, i.name, i.tag, i.digest), ("ghcr.io", "org/app", "app", "1.2", "sha256:abc"));
        let i = ImageInfo::parse("localhost:5000/app").unwrap();
        assert_eq!((i.registry, i.path, i.tag), ("localhost:5000", "app", "latest"));
        assert_eq!(i.reference(), "localhost:5000/app:latest");
        // A first component with upper case is a registry, as in Kyverno.
        let i = ImageInfo::parse("Registry/app@sha256:abc").unwrap();
        assert_eq!((i.registry, i.path, i.tag, i.digest), ("Registry", "app", "", "sha256:abc"));
        assert_eq!(i.reference(), "Registry/app@sha256:abc");
        assert_eq!(ImageInfo::parse("a@b.c/x"), None);
        assert_eq!(ImageInfo::parse("nginx "), None);
    }

    #[test]
    fn set_path_merges() {
        let arena = Bump::new();
        let root = Value::Object(&[]);
        let root = set_path(&arena, root, "a.b", Value::Int(1));
        let root = set_path(&arena, root, "a.c", Value::Int(2));
        assert_eq!(root.to_string(), r#"{"a":{"b":1,"c":2}}"#);
    }

    #[test]
    fn bindings_shadow_and_reset() {
        let arena = Bump::new();
        let req = Request::for_object(Value::Object(&[]), Operation::Create);
        let mut ctx = JsonContext::new(&arena, &req, &[], false);
        let mark = ctx.mark();
        ctx.bind("element", Value::Int(1));
        ctx.bind("element", Value::Int(2));
        assert_eq!(ctx.root().get("element"), Some(Value::Int(2)));
        ctx.reset(mark);
        assert_eq!(ctx.root().get("element"), None);
        assert!(ctx.root().get("request").is_some());
    }
}
