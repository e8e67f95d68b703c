//! `validate.podSecurity` → a [`PodSecurityRule`]: level, version, the checks they
//! select, and the `exclude` entries with their image and value wildcards compiled.
//!
//! The checks Kyverno's policy validation makes are errors here too (`K0150`): a level
//! or version that does not parse, an unknown `controlName`, `images` missing on a
//! container-level control or given on a pod-level one, a restricted-only control in a
//! baseline rule, `restrictedField` without `values` or the other way round.

use kyvm_engine::podsecurity::{
    control_scope, controls_named, kyverno_controls, restricted_only, ControlScope, Exclusion, Level, PodSecurityRule, Version,
    CONTROL_NAMES,
};
use kyvm_engine::wildcard::Glob;
use serde_yaml::Value;

use crate::diag::Diagnostic;
use crate::source::{SourceDoc, YamlPath};

/// Lowers `validate.podSecurity` at `path`. Every problem is a diagnostic; `None` when
/// any was an error (the rule then reports `error`).
pub fn lower(doc: &SourceDoc, diags: &mut Vec<Diagnostic>, value: &Value, path: &YamlPath) -> Option<PodSecurityRule> {
    let mut ok = true;
    let mut error = |diags: &mut Vec<Diagnostic>, d: Diagnostic, at: &YamlPath| {
        diags.push(doc.locate(d, at));
        ok = false;
    };
    let Value::Mapping(map) = value else {
        error(diags, Diagnostic::error("K0150", "`podSecurity` must be a map").expected("{level, version, exclude}"), path);
        return None;
    };

    let level_text = map.get("level").and_then(Value::as_str).unwrap_or_default();
    let level = match Level::parse(level_text) {
        Ok(level) => level,
        Err(e) => {
            let d = Diagnostic::error("K0150", format!("invalid `podSecurity.level`: {e}"))
                .expected("privileged, baseline or restricted")
                .found(describe(map.get("level")));
            error(diags, d, &path.key("level"));
            Level::Restricted
        }
    };
    let version_text = map.get("version").and_then(Value::as_str).unwrap_or_default();
    // Kyverno reads an empty or missing version as `latest`.
    let version = if version_text.is_empty() { Ok(Version::LATEST) } else { Version::parse(version_text) };
    let version = match version {
        Ok(v) => v,
        Err(e) => {
            let d = Diagnostic::error("K0150", format!("invalid `podSecurity.version`: {e}"))
                .expected("latest or v1.N")
                .found(describe(map.get("version")));
            error(diags, d, &path.key("version"));
            Version::LATEST
        }
    };

    let mut exclusions = Vec::new();
    let epath = path.key("exclude");
    match map.get("exclude") {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(items)) => {
            for (i, item) in items.iter().enumerate() {
                let at = epath.index(i);
                match exclusion(level, item, &at) {
                    Ok(e) => exclusions.push(e),
                    Err(m) => {
                        let (d, where_) = *m;
                        error(diags, d, &where_)
                    }
                }
            }
        }
        Some(other) => {
            let d = Diagnostic::error("K0150", "`podSecurity.exclude` must be a list").found(describe(Some(other)));
            error(diags, d, &epath);
        }
    }

    ok.then(|| PodSecurityRule {
        level,
        version,
        label: format!("{level_text}:{version_text}").into(),
        controls: kyverno_controls(level, version),
        exclusions: exclusions.into(),
    })
}

/// A diagnostic and the YAML path it belongs to (boxed: the error path is rare).
type Misplaced = Box<(Diagnostic, YamlPath)>;

fn misplaced(d: Diagnostic, at: YamlPath) -> Misplaced {
    Box::new((d, at))
}

/// One `exclude` entry, or the diagnostic and where it belongs.
fn exclusion(level: Level, item: &Value, at: &YamlPath) -> Result<Exclusion, Misplaced> {
    let Value::Mapping(map) = item else {
        let d = Diagnostic::error("K0150", "an `exclude` entry must be a map")
            .expected("{controlName, images, restrictedField, values}")
            .found(describe(Some(item)));
        return Err(misplaced(d, at.clone()));
    };
    let name_path = at.key("controlName");
    let Some(name) = map.get("controlName").and_then(Value::as_str) else {
        return Err(misplaced(Diagnostic::error("K0102", "an `exclude` entry has no `controlName`").expected("controlName"), at.clone()));
    };
    let Some(controls) = controls_named(name) else {
        let d = Diagnostic::error("K0150", format!("unknown `controlName` {name:?}")).expected(CONTROL_NAMES.join(", "));
        return Err(misplaced(d, name_path));
    };
    let images = strings(map.get("images"), &at.key("images"))?;
    let values = strings(map.get("values"), &at.key("values"))?;
    let restricted_field = match map.get("restrictedField") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            let d = Diagnostic::error("K0100", "`restrictedField` must be a string").found(describe(Some(other)));
            return Err(misplaced(d, at.key("restrictedField")));
        }
    };
    match control_scope(name) {
        ControlScope::Container if images.is_empty() => {
            let d = Diagnostic::error("K0150", format!("exclude.images must be specified for the container level control {name:?}"))
                .expected("images: the container images the exclusion covers");
            return Err(misplaced(d, name_path));
        }
        ControlScope::Pod if !images.is_empty() => {
            let d = Diagnostic::error("K0150", format!("exclude.images must not be specified for the pod level control {name:?}"));
            return Err(misplaced(d, at.key("images")));
        }
        _ => {}
    }
    if level == Level::Baseline && restricted_only(name) {
        let d = Diagnostic::error("K0150", format!("control {name:?} is not part of the baseline level"))
            .help("Kyverno: Invalid control name defined at the given level");
        return Err(misplaced(d, name_path));
    }
    match (restricted_field, values.is_empty()) {
        (Some(_), true) => {
            return Err(misplaced(Diagnostic::error("K0102", "`restrictedField` needs `values`").expected("values"), at.clone()))
        }
        (None, false) => {
            return Err(misplaced(Diagnostic::error("K0102", "`values` needs `restrictedField`").expected("restrictedField"), at.clone()))
        }
        _ => {}
    }
    Ok(Exclusion {
        control_name: name.into(),
        controls,
        images: images.iter().map(|i| Glob::new(i)).collect(),
        restricted_field: restricted_field.map(Into::into),
        values: values.iter().map(|v| Glob::new(v)).collect(),
    })
}

/// A list of strings (missing or `null`: empty).
fn strings<'v>(value: Option<&'v Value>, at: &YamlPath) -> Result<Vec<&'v str>, Misplaced> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().ok_or_else(|| misplaced(Diagnostic::error("K0100", "expected a string").found(describe(Some(v))), at.index(i)))
            })
            .collect(),
        Some(other) => Err(misplaced(Diagnostic::error("K0100", "expected a list of strings").found(describe(Some(other))), at.clone())),
    }
}

fn describe(v: Option<&Value>) -> String {
    match v {
        None => "nothing".to_string(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => serde_yaml::to_string(other).map(|s| s.trim_end().to_string()).unwrap_or_else(|_| format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::compile_str;

    /// The K0150/K0102 diagnostics of a rule with this `podSecurity` body, as
    /// `(code, path, message)`.
    fn diagnostics(body: &str) -> Vec<(String, String, String)> {
        let policy = format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: p}}\nspec:\n  rules:\n  - name: r\n    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n    validate:\n      podSecurity: {body}\n"
        );
        let comp = compile_str("p.yaml", &policy);
        comp.diagnostics
            .iter()
            .filter(|d| d.code.starts_with("K01"))
            .map(|d| (d.code.to_string(), d.path.clone(), d.message.clone()))
            .collect()
    }

    fn single(body: &str) -> (String, String, String) {
        let mut d = diagnostics(body);
        assert_eq!(d.len(), 1, "{body}: {d:?}");
        d.remove(0)
    }

    #[test]
    fn a_valid_rule_compiles_without_diagnostics() {
        assert_eq!(diagnostics("{level: restricted, version: v1.25, exclude: [{controlName: Capabilities, images: [nginx]}]}"), []);
        assert_eq!(diagnostics("{level: baseline}"), [], "a missing version is latest");
    }

    #[test]
    fn level_and_version_are_checked() {
        let (code, path, _) = single("{level: strict, version: latest}");
        assert_eq!((code.as_str(), path.as_str()), ("K0150", "spec.rules[0].validate.podSecurity.level"));
        let (code, path, _) = single("{level: baseline, version: '1.25'}");
        assert_eq!((code.as_str(), path.as_str()), ("K0150", "spec.rules[0].validate.podSecurity.version"));
    }

    #[test]
    fn exclusions_are_validated_as_kyverno_does() {
        let at = "spec.rules[0].validate.podSecurity.exclude[0]";
        let (_, path, message) = single("{level: baseline, exclude: [{controlName: Privileged Containers}]}");
        assert_eq!(path, format!("{at}.controlName"));
        assert!(message.contains("must be specified for the container level control"), "{message}");
        let (_, path, message) = single("{level: baseline, exclude: [{controlName: Host Namespaces, images: [nginx]}]}");
        assert_eq!(path, format!("{at}.images"));
        assert!(message.contains("must not be specified for the pod level control"), "{message}");
        let (_, _, message) = single("{level: baseline, exclude: [{controlName: Volume Types}]}");
        assert!(message.contains("not part of the baseline level"), "{message}");
        let (_, _, message) = single("{level: baseline, exclude: [{controlName: privileged, images: [x]}]}");
        assert!(message.contains("unknown `controlName`"), "{message}");
        let (code, _, _) =
            single("{level: baseline, exclude: [{controlName: Sysctls, restrictedField: 'spec.securityContext.sysctls[*].name'}]}");
        assert_eq!(code, "K0102");
        let (code, _, _) = single("{level: baseline, exclude: [{controlName: Sysctls, values: [a]}]}");
        assert_eq!(code, "K0102");
        // Seccomp and Capabilities exist at both levels.
        assert_eq!(diagnostics("{level: baseline, exclude: [{controlName: Seccomp}]}"), []);
    }

    #[test]
    fn an_invalid_rule_reports_error() {
        let policy = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate:\n      podSecurity: {level: nope}\n";
        let comp = compile_str("p.yaml", policy);
        assert!(comp.has_errors());
        let asm = kyvm_engine::disasm::disassemble(&comp.program);
        assert!(asm.contains("rule_error") && asm.contains("invalid podSecurity"), "{asm}");
    }
}
