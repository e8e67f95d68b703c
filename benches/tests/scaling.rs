//! The policy sets of the `scaling` benchmarks are what they claim: `loaded_set(n)` loads
//! n policies of which the same ones apply to the Pod, with the same results at every
//! size; `matching_rules_set(n)` gives n rules that all apply.

use kyvm_benches::peers::PAYLOADS;
use kyvm_benches::scaling::{self, PolicyDoc};
use kyvm_engine::{vm, Limits, Request, RuleStatus, Scratch};

/// (policy name, rule name, status) of every result kyvm gives for the review.
fn results(text: &str, review: &[u8]) -> (usize, Vec<(String, String, RuleStatus)>) {
    let c = kyvm_compiler::compile_str("set.yaml", text);
    assert!(!c.has_errors(), "{:?}", c.diagnostics.iter().filter(|d| d.is_error()).collect::<Vec<_>>());
    assert!(!c.diagnostics.iter().any(|d| d.code == "K0900" || d.code == "K0104"), "{:?}", c.diagnostics);
    let scratch = Scratch::new(Limits::default());
    let req = Request::from_admission_review(scratch.decode_json(review).unwrap()).unwrap();
    let eval = vm::evaluate(&c.program, &req, scratch.arena(), &scratch.limits).unwrap();
    let out = eval
        .results
        .iter()
        .map(|r| {
            let rule = c.program.rule(r.rule).unwrap();
            let policy = c.program.policy(rule.policy).unwrap();
            (policy.name.to_string(), rule.name.to_string(), r.status)
        })
        .collect();
    (c.policies.len(), out)
}

fn sets() -> (Vec<PolicyDoc>, Vec<PolicyDoc>, &'static [u8]) {
    let review = PAYLOADS[0].bytes;
    let matching = scaling::matching_policies().expect("the ten baseline policies");
    let others = scaling::non_matching_policies("Pod").expect("policies that leave the Pod alone");
    (matching, others, review)
}

#[test]
fn loaded_sets_apply_the_same_ten_policies() {
    let (matching, others, review) = sets();
    assert!(others.len() >= 50, "only {} non-matching policies", others.len());
    let (count, ten) = results(&scaling::loaded_set(10, &matching, &others), review);
    assert_eq!(count, 10);
    let applying: std::collections::BTreeSet<&str> = ten.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(applying.len(), 10, "every baseline policy applies to the Pod: {ten:?}");
    for n in [100, 1000] {
        let (count, got) = results(&scaling::loaded_set(n, &matching, &others), review);
        assert_eq!(count, n);
        assert_eq!(got, ten, "{n} loaded policies");
    }
    let (count, one) = results(&scaling::loaded_set(1, &matching, &others), review);
    assert_eq!(count, 1);
    assert_eq!(one, ten.iter().filter(|(p, _, _)| *p == ten[0].0).cloned().collect::<Vec<_>>());
}

#[test]
fn matching_rule_sets_apply_every_rule() {
    let (matching, _, review) = sets();
    for n in [10, 100, 1000] {
        let (_, got) = results(&scaling::matching_rules_set(n, &matching), review);
        assert_eq!(got.len(), n, "{n} matching rules");
        assert!(got.iter().all(|(_, _, s)| *s != RuleStatus::Error), "{got:?}");
    }
}

#[test]
fn every_classic_source_compiles_as_one_set() {
    let sources = scaling::classic_sources().unwrap();
    let c = scaling::compile_sources(&sources);
    assert!(c.policies.len() > 100, "{} policies", c.policies.len());
}
