//! Equal work: on every payload of `data/peers/`, every peer engine of the `peers` bench
//! (regorus' interpreter and RVM, cel, the hand-written floor) gives kyvm's verdict per
//! rule set, and that verdict is the payload's expected one (the failing payloads fail
//! every rule set for kyvm).

use kyvm_benches::peers::{self, Cel, Kyvm, RegoInterpreter, RegoRvm, Verdict, PAYLOADS, POLICIES};
use kyvm_engine::{Limits, Scratch};

fn show(v: &Verdict) -> String {
    POLICIES.iter().zip(v).map(|(p, pass)| format!("{p}: {}", if *pass { "pass" } else { "fail" })).collect::<Vec<_>>().join(", ")
}

#[test]
fn every_engine_gives_kyvms_verdict() {
    let kyvm = Kyvm::load().expect("kyvm compiles the five policies");
    assert!(!kyvm.program.rules.is_empty());
    let mut interpreter = RegoInterpreter::load().expect("regorus loads the Rego rule sets");
    let mut rvm = RegoRvm::load().expect("regorus compiles the Rego rule sets to RVM");
    let cel = Cel::load().expect("cel compiles the expressions");
    let mut scratch = Scratch::new(Limits::default());

    for payload in PAYLOADS {
        let name = payload.name;
        let want = kyvm.end_to_end(&mut scratch, payload.bytes).unwrap_or_else(|e| panic!("{name}: kyvm: {e}"));
        assert_eq!(
            want,
            payload.expected,
            "{name}: kyvm's verdict [{}] is not the expected one [{}]",
            show(&want),
            show(&payload.expected)
        );

        // eval_only of kyvm over a review decoded once.
        let doc = Scratch::new(Limits::default());
        let value = doc.decode_json(payload.bytes).expect("decodes");
        let req = kyvm_engine::Request::from_admission_review(value).expect("a request");
        assert_eq!(kyvm.eval_only(&mut scratch, &req).unwrap(), want, "{name}: kyvm eval_only");

        let check = |engine: &str, got: Result<Verdict, String>| {
            let got = got.unwrap_or_else(|e| panic!("{name}: {engine} failed: {e}"));
            assert_eq!(got, want, "{name}: {engine} gives [{}], kyvm [{}]", show(&got), show(&want));
        };
        check("regorus", interpreter.end_to_end(payload.bytes));
        check("regorus eval_only", interpreter.eval_only(peers::rego_input(payload.bytes).unwrap()));
        check("regorus_rvm", rvm.end_to_end(payload.bytes));
        check("regorus_rvm eval_only", rvm.eval_only(peers::rego_input(payload.bytes).unwrap()));
        check("cel", cel.end_to_end(payload.bytes));
        check("cel eval_only", cel.eval_only(&Cel::input(payload.bytes).unwrap()));
        check("floor", peers::floor_end_to_end(payload.bytes));
        check("floor eval_only", Ok(peers::floor_eval(&peers::floor_decode(payload.bytes).unwrap())));
    }
}

/// Each rule set fails alone: a passing payload changed in one place fails that rule set
/// only, for every engine (so no engine passes a rule set by accident).
#[test]
fn each_rule_set_fails_alone() {
    let kyvm = Kyvm::load().unwrap();
    let mut interpreter = RegoInterpreter::load().unwrap();
    let mut rvm = RegoRvm::load().unwrap();
    let cel = Cel::load().unwrap();
    let mut scratch = Scratch::new(Limits::default());
    let base = std::str::from_utf8(PAYLOADS[0].bytes).unwrap();
    // One edit per rule set, on the small passing Pod.
    let edits: [(&str, &str); 5] = [
        ("\"privileged\":false", "\"privileged\":true"),
        ("\"runAsNonRoot\":true", "\"runAsNonRoot\":false"),
        ("\"enableServiceLinks\":true", "\"enableServiceLinks\":true,\"hostIPC\":true"),
        ("eu.foo.io/shop/web", "eu.foo.io.evil.com/shop/web"),
        ("\"app.kubernetes.io/name\":\"web\"", "\"app.kubernetes.io/name\":\"\""),
    ];
    for (i, (from, to)) in edits.iter().enumerate() {
        assert!(base.contains(from), "{from} not in the small Pod");
        let edited = base.replacen(from, to, 1);
        let bytes = edited.as_bytes();
        let mut want = peers::ALL_PASS;
        want[i] = false;
        let name = format!("pod-small-pass with {to}");
        let got = kyvm.end_to_end(&mut scratch, bytes).unwrap();
        assert_eq!(got, want, "{name}: kyvm gives [{}]", show(&got));
        for (engine, got) in [
            ("regorus", interpreter.end_to_end(bytes)),
            ("regorus_rvm", rvm.end_to_end(bytes)),
            ("cel", cel.end_to_end(bytes)),
            ("floor", peers::floor_end_to_end(bytes)),
        ] {
            let got = got.unwrap_or_else(|e| panic!("{name}: {engine} failed: {e}"));
            assert_eq!(got, want, "{name}: {engine} gives [{}], kyvm [{}]", show(&got), show(&want));
        }
    }
}
