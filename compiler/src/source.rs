//! Sources: files and folders of YAML, split into documents, with the position of every
//! node.
//!
//! First stage of the compiler. `serde_yaml` reads each document into a value (it is the
//! parser whose results the rest of the compiler sees); a second, event-level pass with
//! `yaml-rust2` records the line and column of every node under its YAML path, so that a
//! diagnostic found later, deep inside a pattern, can still point at `file:line:column`.
//! Positions are best effort: when the two parsers disagree on a document, its
//! diagnostics simply carry no position.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::diag::Diagnostic;

/// One segment of a YAML path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A path from a document's root: `spec.rules[1].validate.pattern`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct YamlPath(pub Vec<PathSeg>);

impl YamlPath {
    pub fn root() -> Self {
        YamlPath(Vec::new())
    }

    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(PathSeg::Key(k.to_string()));
        p
    }

    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(PathSeg::Index(i));
        p
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Index(n) => write!(f, "[{n}]")?,
                PathSeg::Key(k) => {
                    let plain = !k.is_empty() && !k.contains(['.', '[', ']', '"', ' ', '\t', '\n']);
                    if plain {
                        if i > 0 {
                            f.write_str(".")?;
                        }
                        f.write_str(k)?;
                    } else {
                        write!(f, "[{k:?}]")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Line and column of every node of one document, by YAML path (rendered).
#[derive(Clone, Debug, Default)]
pub struct Positions {
    by_path: HashMap<String, (u32, u32)>,
}

impl Positions {
    /// The position of the node at `path`, or of its nearest ancestor that has one.
    pub fn lookup(&self, path: &YamlPath) -> Option<(u32, u32)> {
        let mut p = path.clone();
        loop {
            if let Some(&pos) = self.by_path.get(&p.to_string()) {
                return Some(pos);
            }
            p.0.pop()?;
        }
    }
}

/// One YAML document of a source file.
#[derive(Clone, Debug)]
pub struct SourceDoc {
    pub file: String,
    /// 0-based position of the document in its file.
    pub index: usize,
    pub value: serde_yaml::Value,
    pub positions: Positions,
}

impl SourceDoc {
    /// A diagnostic located at `path` in this document.
    pub fn locate(&self, mut d: Diagnostic, path: &YamlPath) -> Diagnostic {
        d.file = self.file.clone();
        d.path = path.to_string();
        if let Some((line, column)) = self.positions.lookup(path) {
            d.line = line;
            d.column = column;
        }
        d
    }
}

/// Expands files and folders into the YAML files they hold (folders recursively, sorted,
/// skipping hidden entries below the given folder).
pub fn expand_paths(paths: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out, diags);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            let mut d = Diagnostic::error("K0002", "no such file or folder");
            d.file = p.display().to_string();
            diags.push(d);
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            let mut d = Diagnostic::error("K0002", format!("cannot read folder: {e}"));
            d.file = dir.display().to_string();
            diags.push(d);
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            walk(&p, out, diags);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

/// Reads a file and splits it into documents.
pub fn read_file(path: &Path, diags: &mut Vec<Diagnostic>) -> Vec<SourceDoc> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_documents(&file, &text, diags),
        Err(e) => {
            let mut d = Diagnostic::error("K0002", format!("cannot read file: {e}"));
            d.file = file;
            diags.push(d);
            Vec::new()
        }
    }
}

/// Splits YAML text into documents with positions. Empty documents are dropped.
pub fn parse_documents(file: &str, text: &str, diags: &mut Vec<Diagnostic>) -> Vec<SourceDoc> {
    let positions = index_positions(text);
    let mut docs = Vec::new();
    for (index, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = match <serde_yaml::Value as serde::Deserialize>::deserialize(de) {
            Ok(v) => v,
            Err(e) => {
                let mut d = Diagnostic::error("K0001", format!("invalid YAML: {}", strip_location(&e.to_string())));
                d.file = file.to_string();
                if let Some(loc) = e.location() {
                    d.line = loc.line() as u32;
                    d.column = loc.column() as u32;
                }
                diags.push(d);
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let positions = positions.get(index).cloned().unwrap_or_default();
        docs.push(SourceDoc { file: file.to_string(), index, value, positions });
    }
    docs
}

/// serde_yaml appends " at line L column C"; the diagnostic carries those separately.
fn strip_location(msg: &str) -> &str {
    match msg.find(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg),
        None => msg,
    }
}

/// Records the position of every node of every document.
fn index_positions(text: &str) -> Vec<Positions> {
    let mut recv = Indexer::default();
    let mut parser = Parser::new_from_str(text);
    if parser.load(&mut recv, true).is_err() {
        // Keep what was indexed before the error.
        if let Some(cur) = recv.current.take() {
            recv.docs.push(cur);
        }
    }
    recv.docs
}

#[derive(Debug)]
enum Frame {
    Map { key: Option<String> },
    Seq { next: usize },
}

#[derive(Default)]
struct Indexer {
    docs: Vec<Positions>,
    current: Option<Positions>,
    stack: Vec<Frame>,
    path: YamlPath,
}

impl Indexer {
    fn record(&mut self, path: &YamlPath, mark: Marker) {
        if let Some(cur) = self.current.as_mut() {
            cur.by_path.entry(path.to_string()).or_insert((mark.line() as u32, mark.col() as u32 + 1));
        }
    }

    /// Called for every node start. Returns the path of the node when it is a value
    /// (not a map key), after updating the enclosing frame.
    fn node(&mut self, key_text: Option<&str>, mark: Marker) -> Option<YamlPath> {
        match self.stack.last_mut() {
            None => Some(YamlPath::root()),
            Some(Frame::Seq { next }) => {
                let p = self.path.index(*next);
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { key }) => match key.take() {
                None => {
                    // This node is a key.
                    let k = key_text.unwrap_or("?").to_string();
                    let p = self.path.key(&k);
                    *key = Some(k);
                    self.record(&p, mark);
                    None
                }
                Some(k) => Some(self.path.key(&k)),
            },
        }
    }
}

impl MarkedEventReceiver for Indexer {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::DocumentStart => {
                self.current = Some(Positions::default());
                self.stack.clear();
                self.path = YamlPath::root();
            }
            Event::DocumentEnd => {
                if let Some(cur) = self.current.take() {
                    self.docs.push(cur);
                }
            }
            Event::Scalar(text, ..) => {
                if let Some(p) = self.node(Some(&text), mark) {
                    self.record(&p, mark);
                }
            }
            Event::Alias(_) => {
                if let Some(p) = self.node(Some("*alias"), mark) {
                    self.record(&p, mark);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                match self.node(None, mark) {
                    Some(p) => {
                        self.record(&p, mark);
                        self.path = p;
                    }
                    None => {
                        // A complex key: index below a placeholder.
                        self.path = self.path.key("?");
                    }
                }
                self.stack.push(if is_map { Frame::Map { key: None } } else { Frame::Seq { next: 0 } });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.path.0.pop();
                // The finished container was the value of its parent map's key.
                if let Some(Frame::Map { key }) = self.stack.last_mut() {
                    *key = None;
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_positions_by_path() {
        let text = "a: 1\nspec:\n  rules:\n  - name: x\n    match: {}\n---\nb: [1, 2]\n";
        let mut diags = Vec::new();
        let docs = parse_documents("f.yaml", text, &mut diags);
        assert!(diags.is_empty());
        assert_eq!(docs.len(), 2);
        let p = YamlPath::root().key("spec").key("rules").index(0).key("match");
        assert_eq!(p.to_string(), "spec.rules[0].match");
        assert_eq!(docs[0].positions.lookup(&p), Some((5, 5)));
        let p = YamlPath::root().key("b").index(1);
        assert_eq!(docs[1].positions.lookup(&p), Some((7, 8)));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let mut diags = Vec::new();
        parse_documents("f.yaml", "a: [1, 2\nb: 3\n", &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "K0001");
        assert!(diags[0].line > 0);
    }

    #[test]
    fn paths_quote_keys_with_dots() {
        let p = YamlPath::root().key("metadata").key("labels").key("app.kubernetes.io/name");
        assert_eq!(p.to_string(), "metadata.labels[\"app.kubernetes.io/name\"]");
    }
}
