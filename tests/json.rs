//! The arena JSON decoder against serde_json, the reference.
//!
//! kyvm decodes every admission request with its own decoder (word-at-a-time string
//! scanning, shared member stacks), so it is held to serde_json here: on generated
//! documents, printed compactly and pretty, both must decode to the same data; on
//! arbitrary text (mutated documents, random bytes) both must agree on accept versus
//! reject. The one intended difference is duplicate keys, which both resolve to the last
//! value, so documents are generated with distinct keys per object.

use bumpalo::Bump;
use kyvm_engine::json::decode;
use kyvm_engine::{Limits, Value};
use proptest::prelude::*;
use serde_json::Value as J;

/// Data equality, numbers compared by value (kyvm keeps integers apart from floats;
/// serde_json's `Number` does too, with u64 beyond i64 as its own case).
fn same(got: &Value<'_>, want: &J) -> bool {
    match (got, want) {
        (Value::Null, J::Null) => true,
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Int(a), J::Number(b)) => b.as_i64() == Some(*a),
        (Value::Float(a), J::Number(b)) => b.as_f64() == Some(*a),
        (Value::Str(a), J::String(b)) => a == b,
        (Value::Array(a), J::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Object(a), J::Object(b)) => a.len() == b.len() && a.iter().all(|m| b.get(m.key).is_some_and(|w| same(&m.value, w))),
        _ => false,
    }
}

/// Strings that exercise the scanner: escapes, control characters (escaped when
/// printed), multi-byte UTF-8, and runs long enough to cross 8-byte words.
fn string() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z]{0,20}", "[ -~]{0,40}", "[\u{0}-\u{1f}\"\\\\a\u{e9}\u{1F600}]{0,24}", "\\PC{0,16}",]
}

fn number() -> impl Strategy<Value = J> {
    prop_oneof![
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(J::from),
        (-1000i64..1000).prop_map(J::from),
    ]
}

fn document() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![Just(J::Null), any::<bool>().prop_map(J::Bool), number(), string().prop_map(J::String)];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(J::Array),
            // A map collects distinct keys: duplicates are the one intended difference.
            prop::collection::btree_map(string(), inner, 0..8).prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

fn kyvm_accepts(text: &[u8]) -> bool {
    let arena = Bump::new();
    decode(text, &arena, &Limits::default()).is_ok()
}

fn serde_accepts(text: &[u8]) -> bool {
    serde_json::from_slice::<J>(text).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decodes_what_serde_json_decodes(doc in document(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) }.unwrap();
        let arena = Bump::new();
        let got = decode(text.as_bytes(), &arena, &Limits::default());
        prop_assert!(got.is_ok(), "rejected {text}: {:?}", got.err());
        let got = got.unwrap();
        prop_assert!(same(&got, &doc), "{text}\n decoded as {got}");
    }

    #[test]
    fn accepts_and_rejects_with_serde_json(doc in document(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut text = serde_json::to_string(&doc).unwrap().into_bytes();
        // One byte overwritten or the document truncated: mostly invalid, sometimes not.
        let at = cut.index(text.len() + 1);
        if at < text.len() && byte % 2 == 0 {
            text[at] = byte;
        } else {
            text.truncate(at);
        }
        prop_assert_eq!(kyvm_accepts(&text), serde_accepts(&text), "{}", String::from_utf8_lossy(&text));
    }

    #[test]
    fn random_bytes_never_panic_and_agree(text in prop::collection::vec(prop::sample::select(b"{}[]\",:\\ 0123456789.eE+-truefalsn\x01\xc3\xa9".to_vec()), 0..64)) {
        prop_assert_eq!(kyvm_accepts(&text), serde_accepts(&text), "{}", String::from_utf8_lossy(&text));
    }
}

/// An object written with repeated keys (which `serde_json::Value` cannot hold), as
/// text: both decoders must keep the last value of each key.
fn object_with_repeats() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["a", "b", "ab", "ba", "axb", "ayb", ""]);
    let leaf = prop_oneof![(-5i64..5).prop_map(|i| i.to_string()), Just("null".to_string()), Just("\"s\"".to_string())];
    let pairs = prop::collection::vec((key.clone(), leaf.clone()), 0..10);
    (pairs, prop::collection::vec((key, leaf), 0..4)).prop_map(|(outer, inner)| {
        let body = |pairs: &[(&str, String)]| pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(",");
        let nested = format!("{{{}}}", body(&inner));
        let mut all = outer;
        all.push(("nested", nested));
        format!("{{{}}}", body(&all))
    })
}

proptest! {
    #[test]
    fn repeated_keys_keep_the_last_value(text in object_with_repeats()) {
        let want: J = serde_json::from_str(&text).expect("serde_json reads repeated keys");
        let arena = Bump::new();
        let got = decode(text.as_bytes(), &arena, &Limits::default());
        prop_assert!(got.is_ok(), "{text}");
        let got = got.unwrap();
        prop_assert!(same(&got, &want), "{text}\n decoded as {got}");
    }
}
