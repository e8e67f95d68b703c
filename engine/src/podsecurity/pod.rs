//! Typed reads of the pod straight from the arena document.
//!
//! Upstream's checks read a decoded `corev1.PodSpec`; this reads the same fields from the
//! [`Value`] tree with Go's decoding rules: a missing member and an explicit `null` are
//! both the zero value (a nil pointer, `false`, `""`, `0`, an empty list), a `null`
//! element of a list of objects is a zero-valued object, and unknown members are ignored.
//! A member of the wrong JSON type is something Go would refuse to decode: it reads as
//! the zero value and is remembered as [`Malformed`], which the evaluation reports
//! instead of a verdict.

use core::cell::Cell;
use core::fmt;

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use super::{ContainerKind, ContainerRef};
use crate::document::{Member, Value};

/// Where a malformed field sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `metadata.…`
    Metadata,
    /// `spec.…`
    Spec,
    /// `spec.<kind>[*].…`
    Container(ContainerKind),
    /// `spec.volumes[*].…`
    Volume,
}

/// A field the checks read has a JSON type its Go field cannot hold (upstream would fail
/// to decode the pod). It names the field and the expected type, never the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Malformed {
    pub scope: Scope,
    /// The field below the scope (`securityContext.privileged`), empty for the scope
    /// itself (a container that is not an object).
    pub field: &'static str,
    /// `an object`, `a list`, `a boolean`, `a string`, `an integer`.
    pub expected: &'static str,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = match self.scope {
            Scope::Metadata => "metadata",
            Scope::Spec => "spec",
            Scope::Container(ContainerKind::InitContainers) => "spec.initContainers[*]",
            Scope::Container(ContainerKind::Containers) => "spec.containers[*]",
            Scope::Container(ContainerKind::EphemeralContainers) => "spec.ephemeralContainers[*]",
            Scope::Volume => "spec.volumes[*]",
        };
        let dot = if self.field.is_empty() { "" } else { "." };
        write!(f, "pod field {scope}{dot}{} must be {}", self.field, self.expected)
    }
}

impl std::error::Error for Malformed {}

#[derive(Clone, Copy)]
enum Want {
    Object,
    List,
    Bool,
    Str,
    Int,
    Int32,
}

impl Want {
    fn describe(self) -> &'static str {
        match self {
            Want::Object => "an object",
            Want::List => "a list",
            Want::Bool => "a boolean",
            Want::Str => "a string",
            Want::Int => "an integer",
            Want::Int32 => "a 32-bit integer",
        }
    }
}

const EMPTY_OBJECT: Value<'static> = Value::Object(&[]);

/// One container, as the checks visit it.
#[derive(Clone, Copy)]
pub(super) struct Container<'a> {
    pub at: ContainerRef<'a>,
    pub scope: Scope,
    pub v: Value<'a>,
    /// `securityContext`, when set.
    pub sc: Option<Value<'a>>,
}

/// One volume.
#[derive(Clone, Copy)]
pub(super) struct Volume<'a> {
    pub index: usize,
    pub name: &'a str,
    pub v: Value<'a>,
}

/// The pod under evaluation.
pub(super) struct Doc<'a> {
    error: Cell<Option<Malformed>>,
    pub spec: Value<'a>,
    pub annotations: &'a [Member<'a>],
    /// `spec.securityContext`, when set.
    pub sc: Option<Value<'a>>,
    /// Every container, read once (name, image, `securityContext`): each check walks
    /// this list instead of looking the fields up again.
    containers: &'a [Container<'a>],
    volumes: &'a [Value<'a>],
}

impl<'a> Doc<'a> {
    pub fn new(bump: &'a Bump, metadata: Value<'a>, spec: Value<'a>) -> Doc<'a> {
        let mut doc = Doc { error: Cell::new(None), spec: EMPTY_OBJECT, annotations: &[], sc: None, containers: &[], volumes: &[] };
        let metadata = doc.element_object(Scope::Metadata, metadata, "").unwrap_or(EMPTY_OBJECT);
        doc.spec = doc.element_object(Scope::Spec, spec, "").unwrap_or(EMPTY_OBJECT);
        doc.annotations =
            doc.object(Scope::Metadata, Some(metadata), "annotations", "annotations").and_then(|a| a.as_object()).unwrap_or(&[]);
        doc.sc = doc.object(Scope::Spec, Some(doc.spec), "securityContext", "securityContext");
        let spec = Some(doc.spec);
        let groups = [
            (ContainerKind::InitContainers, doc.list(Scope::Spec, spec, "initContainers", "initContainers")),
            (ContainerKind::Containers, doc.list(Scope::Spec, spec, "containers", "containers")),
            (ContainerKind::EphemeralContainers, doc.list(Scope::Spec, spec, "ephemeralContainers", "ephemeralContainers")),
        ];
        let count = groups.iter().map(|(_, items)| items.len()).sum();
        let mut containers = BumpVec::with_capacity_in(count, bump);
        for (kind, items) in groups {
            for (index, v) in items.iter().enumerate() {
                let scope = Scope::Container(kind);
                let Some(v) = doc.element_object(scope, *v, "") else {
                    continue;
                };
                let name = doc.text(scope, Some(v), "name", "name").unwrap_or("");
                let image = doc.text(scope, Some(v), "image", "image").unwrap_or("");
                let sc = doc.object(scope, Some(v), "securityContext", "securityContext");
                containers.push(Container { at: ContainerRef { kind, index, name, image }, scope, v, sc });
            }
        }
        doc.containers = containers.into_bump_slice();
        doc.volumes = doc.list(Scope::Spec, Some(doc.spec), "volumes", "volumes");
        doc
    }

    /// The first malformed field met so far.
    pub fn error(&self) -> Option<Malformed> {
        self.error.get()
    }

    fn note(&self, scope: Scope, field: &'static str, want: Want) {
        if self.error.get().is_none() {
            self.error.set(Some(Malformed { scope, field, expected: want.describe() }));
        }
    }

    fn member(&self, scope: Scope, parent: Option<Value<'a>>, key: &str, field: &'static str, want: Want) -> Option<Value<'a>> {
        let v = parent?.get(key)?;
        match (want, v) {
            (_, Value::Null) => None,
            (Want::Object, Value::Object(_))
            | (Want::List, Value::Array(_))
            | (Want::Bool, Value::Bool(_))
            | (Want::Str, Value::Str(_)) => Some(v),
            (Want::Int, Value::Int(_)) => Some(v),
            // A whole number written with a fraction or an exponent (YAML tooling does this).
            (Want::Int, Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e18 => Some(Value::Int(f as i64)),
            _ => {
                self.note(scope, field, want);
                None
            }
        }
    }

    /// An object member (a pointer to a struct): `None` when absent or `null`.
    pub fn object(&self, scope: Scope, parent: Option<Value<'a>>, key: &str, field: &'static str) -> Option<Value<'a>> {
        self.member(scope, parent, key, field, Want::Object)
    }

    /// A list member; empty when absent or `null`.
    pub fn list(&self, scope: Scope, parent: Option<Value<'a>>, key: &str, field: &'static str) -> &'a [Value<'a>] {
        self.member(scope, parent, key, field, Want::List).and_then(|v| v.as_array()).unwrap_or(&[])
    }

    /// A boolean member (a `*bool`): `None` when absent or `null`.
    pub fn flag(&self, scope: Scope, parent: Option<Value<'a>>, key: &str, field: &'static str) -> Option<bool> {
        match self.member(scope, parent, key, field, Want::Bool) {
            Some(Value::Bool(b)) => Some(b),
            _ => None,
        }
    }

    /// A string member: `None` when absent or `null` (a `*string` is nil then; a plain
    /// `string` reads as `""`).
    pub fn text(&self, scope: Scope, parent: Option<Value<'a>>, key: &str, field: &'static str) -> Option<&'a str> {
        self.member(scope, parent, key, field, Want::Str).and_then(|v| v.as_str())
    }

    /// An integer member: `None` when absent or `null`.
    pub fn int(&self, scope: Scope, parent: Option<Value<'a>>, key: &str, field: &'static str) -> Option<i64> {
        match self.member(scope, parent, key, field, Want::Int) {
            Some(Value::Int(i)) => Some(i),
            _ => None,
        }
    }

    /// An `int32` member: `None` when absent or `null`; out of range is malformed.
    pub fn int32(&self, scope: Scope, parent: Option<Value<'a>>, key: &str, field: &'static str) -> Option<i64> {
        let i = self.int(scope, parent, key, field)?;
        if i32::try_from(i).is_err() {
            self.note(scope, field, Want::Int32);
            return None;
        }
        Some(i)
    }

    /// An element of a list of objects: `null` is a zero-valued object.
    pub fn element_object(&self, scope: Scope, v: Value<'a>, field: &'static str) -> Option<Value<'a>> {
        match v {
            Value::Object(_) => Some(v),
            Value::Null => Some(EMPTY_OBJECT),
            _ => {
                self.note(scope, field, Want::Object);
                None
            }
        }
    }

    /// An element of a list of strings: `null` is `""`.
    pub fn element_text(&self, scope: Scope, v: Value<'a>, field: &'static str) -> Option<&'a str> {
        match v {
            Value::Str(s) => Some(s),
            Value::Null => Some(""),
            _ => {
                self.note(scope, field, Want::Str);
                None
            }
        }
    }

    /// An annotation value (a `map[string]string` entry: `null` is `""`).
    pub fn annotation_value(&self, v: Value<'a>) -> Option<&'a str> {
        self.element_text(Scope::Metadata, v, "annotations")
    }

    /// `spec.os.name == "windows"`.
    pub fn is_windows(&self) -> bool {
        let os = self.object(Scope::Spec, Some(self.spec), "os", "os");
        self.text(Scope::Spec, os, "name", "os.name") == Some("windows")
    }

    /// `spec.hostUsers` is explicitly `false`: the pod runs in a user namespace.
    pub fn in_user_namespace(&self) -> bool {
        self.flag(Scope::Spec, Some(self.spec), "hostUsers", "hostUsers") == Some(false)
    }

    /// Every container in upstream's visiting order: init containers, containers,
    /// ephemeral containers.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + '_ {
        self.containers.iter().copied()
    }

    /// The first container named `name`, in visiting order.
    pub fn container_named(&self, name: &str) -> Option<ContainerRef<'a>> {
        self.containers().find(|c| c.at.name == name).map(|c| c.at)
    }

    /// Every volume, in order.
    pub fn volumes(&self) -> impl Iterator<Item = Volume<'a>> + '_ {
        self.volumes.iter().enumerate().filter_map(move |(index, v)| {
            let v = self.element_object(Scope::Volume, *v, "")?;
            let name = self.text(Scope::Volume, Some(v), "name", "name").unwrap_or("");
            Some(Volume { index, name, v })
        })
    }
}
