//! Kubernetes strategic merge of a prepared patch into a resource, as Kyverno runs it
//! (kustomize's kyaml merge, lists appended).
//!
//! - Maps merge key by key; the resource's keys keep their order and new keys follow in
//!   the patch's order. A `null` in the patch deletes the key; `$patch: delete` deletes
//!   the map (or, in a list, the element with that merge key); `$patch: replace` makes
//!   the patch's map replace the resource's.
//! - Lists merge by their merge key where Kubernetes declares one
//!   (`x-kubernetes-patch-merge-key`): containers, init and ephemeral containers,
//!   volumes, imagePullSecrets, env, resourceClaims and schedulingGates by `name`;
//!   volumeMounts by `mountPath`, volumeDevices by `devicePath`, hostAliases by `ip`,
//!   container ports by `containerPort`, Service ports by `port`,
//!   topologySpreadConstraints by `topologyKey`, ownerReferences by `uid`, conditions
//!   by `type`. Matching elements merge in place, new ones go before the resource's
//!   (kustomize's `Prepend` direction, which Kyverno uses). Every other
//!   list of a built-in kind is replaced by the patch's, as Kubernetes does.
//! - Kinds Kubernetes does not define (custom resources) have no schema: a list whose
//!   elements all carry `name` merges by `name`, any other list is replaced (kyaml's
//!   inference).
//!
//! Nothing is written in place: changed containers are rebuilt in the arena, unchanged
//! subtrees are shared with the resource.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use crate::document::{Member, Value};
use crate::patch::same_data;

/// Merges `patch` into `resource`.
pub fn strategic_merge<'a>(arena: &'a Bump, resource: Value<'a>, patch: Value<'a>) -> Value<'a> {
    let api_version = resource.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let schema = Schema { built_in: !group.contains('.') || group.ends_with(".k8s.io") };
    schema.merge(arena, resource, patch, "").unwrap_or(Value::Object(&[]))
}

/// What the merge knows of the resource's types.
#[derive(Clone, Copy)]
struct Schema {
    /// A kind Kubernetes defines: merge keys come from its API, not from inference.
    built_in: bool,
}

const DIRECTIVE: &str = "$patch";

impl Schema {
    /// `None` when the patch deletes the node.
    fn merge<'a>(self, arena: &'a Bump, dest: Value<'a>, src: Value<'a>, field: &str) -> Option<Value<'a>> {
        match src {
            Value::Object(members) => {
                match directive(members) {
                    Some("delete") => return None,
                    Some("replace") => return Some(Value::Object(without_directives(arena, members))),
                    _ => {}
                }
                let base = dest.as_object().unwrap_or(&[]);
                Some(self.merge_map(arena, base, members, field))
            }
            Value::Array(items) => {
                let base = dest.as_array().unwrap_or(&[]);
                Some(self.merge_list(arena, base, items, field))
            }
            scalar => Some(scalar),
        }
    }

    /// `owner` is the field that holds the map (for a list element, the list's field).
    fn merge_map<'a>(self, arena: &'a Bump, dest: &'a [Member<'a>], src: &'a [Member<'a>], owner: &str) -> Value<'a> {
        let mut out: BumpVec<'a, Member<'a>> = BumpVec::with_capacity_in(dest.len() + src.len(), arena);
        out.extend_from_slice(dest);
        let mut changed = false;
        for m in src.iter().filter(|m| !m.key.starts_with('$')) {
            let at = out.iter().position(|d| d.key == m.key);
            let merged = if m.value.is_null() {
                None
            } else {
                let current = at.and_then(|i| out.get(i)).map_or(Value::Null, |d| d.value);
                // A container's ports merge by `containerPort`, a Service's by `port`.
                let is_container = matches!(owner, "containers" | "initContainers" | "ephemeralContainers");
                let field = if m.key == "ports" && is_container { "containers.ports" } else { m.key };
                self.merge(arena, current, m.value, field)
            };
            match (at, merged) {
                (Some(i), Some(v)) => {
                    if let Some(slot) = out.get_mut(i) {
                        if !same_data(slot.value, v) {
                            slot.value = v;
                            changed = true;
                        }
                    }
                }
                (Some(i), None) => {
                    out.remove(i);
                    changed = true;
                }
                (None, Some(v)) => {
                    out.push(Member { key: m.key, value: v });
                    changed = true;
                }
                (None, None) => {}
            }
        }
        if changed {
            Value::Object(out.into_bump_slice())
        } else {
            Value::Object(dest)
        }
    }

    fn merge_list<'a>(self, arena: &'a Bump, dest: &'a [Value<'a>], src: &'a [Value<'a>], field: &str) -> Value<'a> {
        let replace = src.iter().any(|v| v.as_object().is_some_and(|m| directive(m) == Some("replace")));
        let key = if replace { None } else { self.merge_key(field, dest, src) };
        let Some(key) = key else {
            let mut out = BumpVec::with_capacity_in(src.len(), arena);
            for item in src.iter().filter(|v| v.as_object().is_none_or(|m| directive(m).is_none())) {
                out.extend(self.merge(arena, Value::Null, *item, field));
            }
            return Value::Array(out.into_bump_slice());
        };
        let id = |v: &Value<'a>| v.get(key).filter(|k| !k.is_null());
        let mut out: BumpVec<'a, Value<'a>> = BumpVec::with_capacity_in(dest.len() + src.len(), arena);
        // New elements go first, in the patch's order (kustomize merges with
        // `ListIncreaseDirection: Prepend`); then the resource's, merged in place.
        let is_new = |s: &Value<'a>| id(s).is_none_or(|sk| !dest.iter().any(|d| id(d).is_some_and(|k| same_data(sk, k))));
        for s in src.iter().filter(|s| is_new(s)) {
            out.extend(self.merge(arena, Value::Null, *s, field));
        }
        for d in dest {
            let found = id(d).and_then(|k| src.iter().position(|s| id(s).is_some_and(|sk| same_data(sk, k))));
            match found {
                Some(j) => {
                    let s = src.get(j).copied().unwrap_or(Value::Null);
                    out.extend(self.merge(arena, *d, s, field));
                }
                None => out.push(*d),
            }
        }
        Value::Array(out.into_bump_slice())
    }

    /// The list's merge key, if it has one.
    fn merge_key(self, field: &str, dest: &[Value<'_>], src: &[Value<'_>]) -> Option<&'static str> {
        if self.built_in {
            return match field {
                "containers"
                | "initContainers"
                | "ephemeralContainers"
                | "volumes"
                | "imagePullSecrets"
                | "env"
                | "resourceClaims"
                | "schedulingGates" => Some("name"),
                "volumeMounts" => Some("mountPath"),
                "volumeDevices" => Some("devicePath"),
                "hostAliases" => Some("ip"),
                "containers.ports" => Some("containerPort"),
                "ports" => Some("port"),
                "topologySpreadConstraints" => Some("topologyKey"),
                "ownerReferences" => Some("uid"),
                "conditions" => Some("type"),
                _ => None,
            };
        }
        let named = |items: &[Value<'_>]| !items.is_empty() && items.iter().all(|v| v.get("name").is_some());
        (named(src) || named(dest)).then_some("name")
    }
}

fn directive<'a>(members: &[Member<'a>]) -> Option<&'a str> {
    members.iter().find(|m| m.key == DIRECTIVE).and_then(|m| m.value.as_str())
}

fn without_directives<'a>(arena: &'a Bump, members: &'a [Member<'a>]) -> &'a [Member<'a>] {
    if !members.iter().any(|m| m.key.starts_with('$')) {
        return members;
    }
    let mut out = BumpVec::with_capacity_in(members.len(), arena);
    out.extend(members.iter().filter(|m| !m.key.starts_with('$')).copied());
    out.into_bump_slice()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::decode;
    use crate::limits::Limits;

    fn merged(resource: &str, patch: &str) -> String {
        let arena = Bump::new();
        let limits = Limits::default();
        let r = decode(resource.as_bytes(), &arena, &limits).unwrap();
        let p = decode(patch.as_bytes(), &arena, &limits).unwrap();
        strategic_merge(&arena, r, p).to_string()
    }

    #[test]
    fn containers_merge_by_name_and_new_ones_come_first() {
        let pod = r#"{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","image":"x"}]}}"#;
        let patch = r#"{"spec":{"containers":[{"name":"a","imagePullPolicy":"Always"},{"name":"b","image":"y"}]}}"#;
        assert_eq!(
            merged(pod, patch),
            r#"{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"b","image":"y"},{"name":"a","image":"x","imagePullPolicy":"Always"}]}}"#
        );
    }

    #[test]
    fn lists_without_merge_key_are_replaced_and_null_deletes() {
        let pod = r#"{"apiVersion":"v1","kind":"Pod","spec":{"tolerations":[{"key":"a"}],"x":1}}"#;
        let patch = r#"{"spec":{"tolerations":[{"key":"b"}],"x":null}}"#;
        assert_eq!(merged(pod, patch), r#"{"apiVersion":"v1","kind":"Pod","spec":{"tolerations":[{"key":"b"}]}}"#);
    }

    #[test]
    fn patch_directives() {
        let pod = r#"{"apiVersion":"v1","kind":"Pod","spec":{"volumes":[{"name":"a","emptyDir":{}},{"name":"b"}],"c":{"d":1,"e":2}}}"#;
        let patch = r#"{"spec":{"volumes":[{"name":"a","$patch":"delete"}],"c":{"$patch":"replace","f":3}}}"#;
        assert_eq!(merged(pod, patch), r#"{"apiVersion":"v1","kind":"Pod","spec":{"volumes":[{"name":"b"}],"c":{"f":3}}}"#);
    }

    #[test]
    fn custom_kinds_infer_name_as_the_merge_key() {
        let cr = r#"{"apiVersion":"example.com/v1","kind":"Thing","spec":{"items":[{"name":"a","v":1}],"tags":["x"]}}"#;
        let patch = r#"{"spec":{"items":[{"name":"a","v":2}],"tags":["y"]}}"#;
        assert_eq!(
            merged(cr, patch),
            r#"{"apiVersion":"example.com/v1","kind":"Thing","spec":{"items":[{"name":"a","v":2}],"tags":["y"]}}"#
        );
    }
}
