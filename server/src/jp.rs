//! `kyvm jp`: Kyverno's JMESPath dialect on the command line.
//!
//! - `kyvm jp query [-i INPUT] [-q FILE] [EXPR...]` evaluates expressions over a JSON or
//!   YAML document (stdin when no input is given) and prints each result as JSON, the
//!   way `kyverno jp query` does (Go's `json.MarshalIndent`: sorted keys, two-space
//!   indent, HTML-safe escapes).
//! - `kyvm jp function [NAME...]` lists the functions with their signatures.
//!
//! Any error — unreadable input, a syntax error, a function's `invalid-type`,
//! `invalid-arity`, `invalid-value` or `unknown-function` — is one line on stderr and a
//! non-zero exit.

use std::io::Read;
use std::path::Path;

use bumpalo::Bump;
use kyvm_compiler::resource;
use kyvm_engine::document::{Member, Value};
use kyvm_engine::jmespath::{registry, Env, Expression, ParseLimits};
use kyvm_engine::template::write_go_json_string;
use kyvm_engine::{gofmt, json, Limits};

use crate::cli::{JpFunctionArgs, JpQueryArgs};
use crate::commands::{EXIT_BAD_INPUT, EXIT_FAILURES, EXIT_OK};

/// `kyvm jp query`.
pub fn query(args: JpQueryArgs) -> i32 {
    let mut expressions: Vec<String> = Vec::new();
    if let Some(file) = &args.query_file {
        match std::fs::read_to_string(file) {
            Ok(text) => expressions.push(text),
            Err(e) => {
                eprintln!("error: {}: cannot read query file: {e}", file.display());
                return EXIT_BAD_INPUT;
            }
        }
    }
    expressions.extend(args.expressions.iter().cloned());
    if expressions.is_empty() {
        eprintln!("error: no expression given (an argument or -q FILE)");
        return EXIT_BAD_INPUT;
    }
    let input = match read_input(args.input.as_deref()) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let arena = Bump::new();
    let document = match parse_document(&input, &arena) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut out = String::new();
    for text in &expressions {
        let expr = match Expression::parse(text.trim(), &ParseLimits::default()) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_FAILURES;
            }
        };
        let mut env = Env::new(&arena);
        match expr.evaluate(document, &mut env) {
            Ok(Value::Str(s)) if args.unquoted => out.push_str(s),
            Ok(v) => write_indented(&mut out, &v, 0),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_FAILURES;
            }
        }
        out.push('\n');
    }
    print!("{out}");
    EXIT_OK
}

/// `kyvm jp function`.
pub fn function(args: JpFunctionArgs) -> i32 {
    let functions = registry().all();
    let mut missing = Vec::new();
    for name in &args.names {
        if !functions.iter().any(|f| f.name == name) {
            missing.push(name.as_str());
        }
    }
    for f in functions.iter().filter(|f| args.names.is_empty() || args.names.iter().any(|n| n == f.name)) {
        println!("Name: {}", f.name);
        println!("  Signature: {}", f.signature());
        println!("  Description: {}", f.doc);
        println!();
    }
    if missing.is_empty() {
        EXIT_OK
    } else {
        eprintln!("error: unknown function(s): {}", missing.join(", "));
        EXIT_FAILURES
    }
}

fn read_input(path: Option<&Path>) -> Result<String, String> {
    match path {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read input: {e}", p.display())),
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read stdin: {e}"))?;
            Ok(text)
        }
    }
}

/// JSON first (exact numbers), then YAML.
fn parse_document<'a>(text: &str, arena: &'a Bump) -> Result<Value<'a>, String> {
    let text_in_arena = arena.alloc_str(text);
    if let Ok(v) = json::decode(text_in_arena.as_bytes(), arena, &Limits::default()) {
        return Ok(v);
    }
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| format!("input is neither JSON nor YAML: {e}"))?;
    Ok(resource::to_arena(&yaml, arena))
}

/// Go's `json.MarshalIndent(v, "", "  ")` of a decoded JSON value.
pub fn write_indented(out: &mut String, v: &Value<'_>, level: usize) {
    let pad = |out: &mut String, level: usize| {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            let _ = gofmt::format_json_float(*f, out);
        }
        Value::Str(s) => write_go_json_string(out, s),
        Value::Array([]) => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, level + 1);
                write_indented(out, item, level + 1);
            }
            pad(out, level);
            out.push(']');
        }
        Value::Object([]) => out.push_str("{}"),
        Value::Object(members) => {
            let mut sorted: Vec<&Member<'_>> = members.iter().collect();
            sorted.sort_by(|a, b| a.key.cmp(b.key));
            out.push('{');
            for (i, m) in sorted.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, level + 1);
                write_go_json_string(out, m.key);
                out.push_str(": ");
                write_indented(out, &m.value, level + 1);
            }
            pad(out, level);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_like_go() {
        let arena = Bump::new();
        let v = parse_document(r#"{"b":[1,2.5,{}],"a":"<x>"}"#, &arena).unwrap();
        let mut out = String::new();
        write_indented(&mut out, &v, 0);
        assert_eq!(out, "{\n  \"a\": \"\\u003cx\\u003e\",\n  \"b\": [\n    1,\n    2.5,\n    {}\n  ]\n}");
    }

    #[test]
    fn reads_yaml_input() {
        let arena = Bump::new();
        let v = parse_document("a: [x, 1]\n", &arena).unwrap();
        assert_eq!(v.to_string(), r#"{"a":["x",1]}"#);
    }
}
