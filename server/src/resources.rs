//! Resource files for the CLI: YAML (or JSON) Kubernetes objects, one or more per file,
//! `kind: List` expanded.
//!
//! A malformed file is an error naming the file and the position; an object without
//! `kind` or `metadata.name` is an error naming the file and the document.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// One Kubernetes object read from a file.
#[derive(Clone, Debug)]
pub struct Resource {
    pub file: PathBuf,
    pub value: Value,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `metadata.namespace`, `default` when the file gives none.
    pub namespace: String,
}

impl Resource {
    /// Reads an object. Like Kyverno's CLI, an object without `metadata.namespace` gets
    /// `default` — every kind, cluster-scoped ones included, since the CLI has no
    /// discovery to tell them apart — so rules see the same object Kyverno's CLI shows them.
    pub fn from_value(file: &Path, mut value: Value) -> Result<Resource, String> {
        if let Some(Value::Mapping(meta)) = value.get_mut("metadata") {
            let missing = meta.get("namespace").and_then(Value::as_str).is_none_or(str::is_empty);
            if missing {
                meta.insert(Value::String("namespace".into()), Value::String("default".into()));
            }
        }
        let str_at = |v: &Value, path: &[&str]| -> String {
            let mut cur = v;
            for p in path {
                match cur.get(*p) {
                    Some(next) => cur = next,
                    None => return String::new(),
                }
            }
            cur.as_str().unwrap_or("").to_string()
        };
        let kind = str_at(&value, &["kind"]);
        if kind.is_empty() {
            return Err("a document has no `kind`".to_string());
        }
        let mut name = str_at(&value, &["metadata", "name"]);
        if name.is_empty() {
            name = str_at(&value, &["metadata", "generateName"]);
        }
        Ok(Resource {
            file: file.to_path_buf(),
            api_version: str_at(&value, &["apiVersion"]),
            namespace: str_at(&value, &["metadata", "namespace"]),
            kind,
            name,
            value,
        })
    }

    /// The namespace as the CLI reports it.
    pub fn display_namespace(&self) -> &str {
        &self.namespace
    }
}

/// A resource file that could not be read.
#[derive(Debug)]
pub struct ResourceError {
    pub file: PathBuf,
    pub message: String,
}

impl fmt::Display for ResourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

impl std::error::Error for ResourceError {}

/// Reads every resource in the given files and folders (folders: `*.yaml`, `*.yml`,
/// `*.json`, recursively, sorted).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Resource>, ResourceError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files).map_err(|e| ResourceError { file: p.clone(), message: format!("cannot read folder: {e}") })?;
        } else {
            files.push(p.clone());
        }
    }
    let mut out = Vec::new();
    for f in files {
        out.extend(load_file(&f)?);
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")) {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads the resources of one file.
pub fn load_file(file: &Path) -> Result<Vec<Resource>, ResourceError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| ResourceError { file: file.to_path_buf(), message: format!("cannot read file: {e}") })?;
    parse(file, &text)
}

/// Parses resources from text (multi-document YAML; JSON is YAML).
pub fn parse(file: &Path, text: &str) -> Result<Vec<Resource>, ResourceError> {
    let err = |message: String| ResourceError { file: file.to_path_buf(), message };
    let mut out = Vec::new();
    for (index, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = <Value as serde::Deserialize>::deserialize(de).map_err(|e| err(format!("invalid YAML: {e}")))?;
        if value.is_null() {
            continue;
        }
        let is_list = value.get("kind").and_then(Value::as_str).is_some_and(|k| k == "List" || k.ends_with("List"))
            && value.get("items").is_some_and(Value::is_sequence);
        let docs = if is_list { value.get("items").and_then(Value::as_sequence).cloned().unwrap_or_default() } else { vec![value] };
        for doc in docs {
            let r = Resource::from_value(file, doc).map_err(|m| err(format!("document {}: {m}", index + 1)))?;
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multiple_documents_and_lists() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: x}}\n";
        let r = parse(Path::new("r.yaml"), text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].name.as_str(), r[0].display_namespace()), ("a", "default"));
        assert_eq!((r[1].name.as_str(), r[1].display_namespace()), ("b", "x"));
    }

    #[test]
    fn malformed_files_name_the_file() {
        let e = parse(Path::new("bad.yaml"), "a: [1\n").unwrap_err();
        assert!(e.to_string().starts_with("bad.yaml: invalid YAML"), "{e}");
        let e = parse(Path::new("nokind.yaml"), "metadata: {name: x}\n").unwrap_err();
        assert!(e.to_string().contains("no `kind`"), "{e}");
    }
}
