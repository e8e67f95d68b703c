//! Kyverno's `validate.podSecurity` rule over the check library: which checks a rule
//! runs, where the pod is in the resource, and which violations its `exclude` entries
//! exempt.
//!
//! ## Which checks run
//!
//! Each check of the level runs its definition for the version (the newest definition
//! at or below it; `latest` is the newest of all), as the upstream fixtures require. At
//! the restricted level the baseline checks that a restricted check overrides upstream
//! (`hostPathVolumes`, `capabilities_baseline`, `seccompProfile_baseline`, `procMount`)
//! still run, as in Kyverno, which evaluates `policy.DefaultChecks()` without upstream's
//! override table: the restricted check is stricter in each case, so the verdict is the
//! same, but a failing pod reports both checks and an exclusion names the control it
//! exempts (`Volume Types` does not exempt a `hostPath` volume).
//!
//! ## Where the pod is
//!
//! By the resource's `kind`, as Kyverno's `getSpec`: a Pod's own `metadata` and `spec`;
//! the pod template (`spec.template`) of a DaemonSet, Deployment, Job, StatefulSet,
//! ReplicaSet or ReplicationController; for a CronJob the template's `spec` with the
//! *job template's* `metadata` (`spec.jobTemplate.metadata`, Kyverno's choice). Any other
//! kind is an error.
//!
//! ## Exclusions
//!
//! An `exclude` entry exempts a violation of a check when the check belongs to the
//! entry's `controlName` and:
//! - with `images`: the violation is in a container whose image matches one of them
//!   (wildcards); violations of other containers, and pod-level ones, stay. Kyverno
//!   evaluates a pod that holds only the matching containers, so nothing leaks from one
//!   container to another.
//! - without `images`: the violation is pod-level (a pod field, a volume, an
//!   annotation). Kyverno evaluates the pod with its containers replaced by one empty
//!   container; kyvm does not exempt any container field this way (Kyverno's policy
//!   validation requires `images` for the container-level controls anyway).
//! - with `restrictedField`: the violation's field, list indexes written `[*]`
//!   (`spec.containers[*].securityContext.capabilities.add`), is that field; a volume's
//!   violations also answer to `spec.volumes[*]` and an annotation's to
//!   `metadata.annotations`.
//! - with `values`: every offending value of the violation matches one of them
//!   (wildcards); a violation with no value (a field that must be set and is not)
//!   passes this test, as in Kyverno.
//!
//! A check all of whose violations are exempted no longer fails the pod.

use bumpalo::collections::{String as BumpString, Vec as BumpVec};
use bumpalo::Bump;

use super::control::{Control, ControlSet};
use super::pod::Malformed;
use super::version::{Level, Version};
use super::{evaluate_controls, Failure, Location, Offending, Report, Violation};
use crate::document::Value;
use crate::wildcard::Glob;

/// A compiled `validate.podSecurity`.
#[derive(Clone, Debug, PartialEq)]
pub struct PodSecurityRule {
    pub level: Level,
    pub version: Version,
    /// `LEVEL:VERSION` as the policy writes them, for messages (`restricted:latest`).
    pub label: Box<str>,
    /// The checks the rule runs.
    pub controls: ControlSet,
    pub exclusions: Box<[Exclusion]>,
}

/// One `exclude` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Exclusion {
    /// As written (`Capabilities`).
    pub control_name: Box<str>,
    /// The checks the control name covers.
    pub controls: ControlSet,
    /// Empty: a pod-level exclusion.
    pub images: Box<[Glob]>,
    pub restricted_field: Option<Box<str>>,
    pub values: Box<[Glob]>,
}

/// Why a resource could not be evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodError {
    /// The kind has no pod (Kyverno: `could not find correct resource type`).
    NotAPod,
    /// A field of the pod has the wrong type (Go would not have decoded it).
    Malformed(Malformed),
}

impl core::fmt::Display for PodError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PodError::NotAPod => f.write_str("could not find correct resource type"),
            PodError::Malformed(m) => m.fmt(f),
        }
    }
}

/// The kinds whose pod template is at `spec.template`.
const TEMPLATE_KINDS: [&str; 6] = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"];

/// The pod's `metadata` and `spec` in `resource` (either may be `null`).
pub fn pod_of(resource: Value<'_>) -> Result<(Value<'_>, Value<'_>), PodError> {
    let kind = resource.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
    let at = |path: &[&str]| resource.pointer(path).unwrap_or(Value::Null);
    if kind == "Pod" {
        Ok((at(&["metadata"]), at(&["spec"])))
    } else if TEMPLATE_KINDS.contains(&kind) {
        Ok((at(&["spec", "template", "metadata"]), at(&["spec", "template", "spec"])))
    } else if kind == "CronJob" {
        Ok((at(&["spec", "jobTemplate", "metadata"]), at(&["spec", "jobTemplate", "spec", "template", "spec"])))
    } else {
        Err(PodError::NotAPod)
    }
}

/// The checks Kyverno runs for `level` at `version`: every check of the level that is
/// defined at the version, without upstream's restricted-over-baseline overrides (see
/// the module docs); nothing for `privileged`.
pub fn kyverno_controls(level: Level, version: Version) -> ControlSet {
    if level == Level::Privileged {
        return ControlSet::EMPTY;
    }
    Control::ALL.into_iter().filter(|c| c.level() <= level && c.definition(version).is_some()).collect()
}

impl PodSecurityRule {
    /// Evaluates the pod of `resource`: the failing checks left after exclusions.
    pub fn evaluate<'a>(&self, bump: &'a Bump, resource: Value<'a>) -> Result<Report<'a>, PodError> {
        let (metadata, spec) = pod_of(resource)?;
        let report = evaluate_controls(bump, self.controls, self.version, metadata, spec).map_err(PodError::Malformed)?;
        if report.allowed() || self.exclusions.is_empty() {
            return Ok(report);
        }
        let mut failures = BumpVec::new_in(bump);
        for failure in report.failures {
            let kept: BumpVec<'a, Violation<'a>> =
                BumpVec::from_iter_in(failure.violations.iter().filter(|v| !self.exempts(bump, failure.control, v)).copied(), bump);
            // A failure without violations cannot be matched field by field: only the
            // checks that list their violations can be exempted.
            if !kept.is_empty() || failure.violations.is_empty() {
                failures.push(Failure { violations: kept.into_bump_slice(), ..*failure });
            }
        }
        Ok(Report { failures: failures.into_bump_slice() })
    }

    fn exempts(&self, bump: &Bump, control: Control, v: &Violation<'_>) -> bool {
        self.exclusions.iter().any(|e| e.exempts(bump, control, v))
    }
}

impl Exclusion {
    /// Whether this entry exempts violation `v` of check `control`.
    pub fn exempts(&self, bump: &Bump, control: Control, v: &Violation<'_>) -> bool {
        if !self.controls.contains(control) {
            return false;
        }
        let covered = if self.images.is_empty() {
            matches!(v.at, Location::Pod | Location::Volume { .. } | Location::Annotation { .. })
        } else {
            match v.at {
                Location::Container(c) => self.images.iter().any(|g| g.is_match(c.image)),
                _ => false,
            }
        };
        if !covered {
            return false;
        }
        if let Some(field) = &self.restricted_field {
            if !restricted_field_matches(bump, v, field) {
                return false;
            }
        }
        self.values.is_empty() || offending_values(bump, v.value).iter().all(|value| self.values.iter().any(|g| g.is_match(value)))
    }
}

fn restricted_field_matches(bump: &Bump, v: &Violation<'_>, field: &str) -> bool {
    let short = match v.at {
        Location::Volume { .. } => "spec.volumes[*]",
        Location::Annotation { .. } => "metadata.annotations",
        _ => "",
    };
    if !short.is_empty() && field == short {
        return true;
    }
    let mut path = BumpString::new_in(bump);
    v.write_path(&mut path, true).is_ok() && path == field
}

/// The offending values as Kyverno's `extractBadValues` gives them: strings (an empty
/// one is no value), booleans and integers as text; none for an unset or set field.
fn offending_values<'a>(bump: &'a Bump, value: Offending<'a>) -> BumpVec<'a, &'a str> {
    let mut out = BumpVec::new_in(bump);
    match value {
        Offending::Str("") | Offending::Unset | Offending::Set => {}
        Offending::Str(s) => out.push(s),
        Offending::Bool(b) => out.push(if b { "true" } else { "false" }),
        Offending::Int(i) => out.push(bumpalo::format!(in bump, "{}", i).into_bump_str()),
    }
    out
}

/// Kyverno's `exclude[].controlName` values and the checks each covers.
pub const CONTROL_NAMES: [&str; 15] = [
    "HostProcess",
    "Host Namespaces",
    "Privileged Containers",
    "Capabilities",
    "HostPath Volumes",
    "Host Ports",
    "AppArmor",
    "SELinux",
    "/proc Mount Type",
    "Seccomp",
    "Sysctls",
    "Volume Types",
    "Privilege Escalation",
    "Running as Non-root",
    "Running as Non-root user",
];

/// How Kyverno's policy validation places a control name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlScope {
    /// `images` must be given.
    Container,
    /// `images` must not be given.
    Pod,
    /// Either.
    Both,
}

/// The checks a Kyverno control name covers; `None` for a name Kyverno does not accept.
pub fn controls_named(name: &str) -> Option<ControlSet> {
    if !CONTROL_NAMES.contains(&name) {
        return None;
    }
    Some(Control::ALL.into_iter().filter(|c| c.control_name() == name).collect())
}

/// Where a control name's exclusions apply (Kyverno's `PSS_container_level_control` and
/// `PSS_pod_level_control`).
pub fn control_scope(name: &str) -> ControlScope {
    match name {
        "Capabilities" | "Privileged Containers" | "Host Ports" | "/proc Mount Type" | "Privilege Escalation" => ControlScope::Container,
        "Host Namespaces" | "HostPath Volumes" | "Sysctls" | "AppArmor" | "Volume Types" => ControlScope::Pod,
        _ => ControlScope::Both,
    }
}

/// Whether a control name is only defined at the restricted level (Kyverno rejects it
/// in a baseline rule; `Seccomp` and `Capabilities` exist at both).
pub fn restricted_only(name: &str) -> bool {
    matches!(name, "Volume Types" | "Privilege Escalation" | "Running as Non-root" | "Running as Non-root user")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::limits::Limits;

    fn rule(level: Level, exclusions: Vec<Exclusion>) -> PodSecurityRule {
        PodSecurityRule {
            level,
            version: Version::LATEST,
            label: format!("{}:latest", level.as_str()).into(),
            controls: kyverno_controls(level, Version::LATEST),
            exclusions: exclusions.into(),
        }
    }

    fn exclusion(name: &str, images: &[&str], field: Option<&str>, values: &[&str]) -> Exclusion {
        Exclusion {
            control_name: name.into(),
            controls: controls_named(name).unwrap(),
            images: images.iter().map(|i| Glob::new(i)).collect(),
            restricted_field: field.map(Into::into),
            values: values.iter().map(|v| Glob::new(v)).collect(),
        }
    }

    fn failing_ids(rule: &PodSecurityRule, resource: &str) -> Vec<&'static str> {
        let bump = Bump::new();
        let doc = json::decode(resource.as_bytes(), &bump, &Limits::default()).unwrap();
        let report = rule.evaluate(&bump, doc).unwrap();
        report.failures.iter().map(|f| f.control.id()).collect()
    }

    const TWO_CAPS: &str = r#"{"kind":"Pod","spec":{"containers":[
        {"name":"a","image":"nginx:1","securityContext":{"capabilities":{"add":["NET_ADMIN"]}}},
        {"name":"b","image":"busybox:1","securityContext":{"capabilities":{"add":["NET_ADMIN"]}}}]}}"#;

    #[test]
    fn every_control_name_names_checks() {
        for name in CONTROL_NAMES {
            assert!(!controls_named(name).unwrap().is_empty(), "{name}");
        }
        assert_eq!(controls_named("Host Probes / Lifecycle Hooks"), None);
        assert_eq!(controls_named("capabilities"), None);
    }

    #[test]
    fn an_image_exclusion_covers_only_matching_containers() {
        let base = rule(Level::Baseline, vec![]);
        assert_eq!(failing_ids(&base, TWO_CAPS), ["capabilities_baseline"]);
        let nginx = rule(Level::Baseline, vec![exclusion("Capabilities", &["nginx*"], None, &[])]);
        assert_eq!(failing_ids(&nginx, TWO_CAPS), ["capabilities_baseline"], "container b still adds NET_ADMIN");
        let both = rule(Level::Baseline, vec![exclusion("Capabilities", &["nginx*", "busybox*"], None, &[])]);
        assert!(failing_ids(&both, TWO_CAPS).is_empty());
    }

    #[test]
    fn values_and_restricted_field_narrow_an_exclusion() {
        let field = "spec.containers[*].securityContext.capabilities.add";
        let ok = rule(Level::Baseline, vec![exclusion("Capabilities", &["*"], Some(field), &["NET_ADMIN"])]);
        assert!(failing_ids(&ok, TWO_CAPS).is_empty());
        let other_value = rule(Level::Baseline, vec![exclusion("Capabilities", &["*"], Some(field), &["SYS_ADMIN"])]);
        assert_eq!(failing_ids(&other_value, TWO_CAPS), ["capabilities_baseline"]);
        let other_field = rule(
            Level::Baseline,
            vec![exclusion("Capabilities", &["*"], Some("spec.initContainers[*].securityContext.capabilities.add"), &["*"])],
        );
        assert_eq!(failing_ids(&other_field, TWO_CAPS), ["capabilities_baseline"]);
    }

    #[test]
    fn a_pod_level_exclusion_does_not_cover_containers() {
        let pod =
            r#"{"kind":"Pod","spec":{"hostNetwork":true,"containers":[{"name":"a","image":"x","securityContext":{"privileged":true}}]}}"#;
        let ns = rule(Level::Baseline, vec![exclusion("Host Namespaces", &[], None, &[])]);
        assert_eq!(failing_ids(&ns, pod), ["privileged"]);
        let priv_pod_level = rule(Level::Baseline, vec![exclusion("Privileged Containers", &[], None, &[])]);
        assert_eq!(failing_ids(&priv_pod_level, pod), ["hostNamespaces", "privileged"]);
    }

    #[test]
    fn restricted_runs_the_overridden_baseline_checks_too() {
        let pod = r#"{"kind":"Pod","spec":{"volumes":[{"name":"h","hostPath":{"path":"/"}}],"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
            "containers":[{"name":"a","image":"x","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}"#;
        let r = rule(Level::Restricted, vec![]);
        assert_eq!(failing_ids(&r, pod), ["hostPathVolumes", "restrictedVolumes"]);
        let r = rule(Level::Restricted, vec![exclusion("Volume Types", &[], None, &[])]);
        assert_eq!(failing_ids(&r, pod), ["hostPathVolumes"]);
        let r = rule(Level::Restricted, vec![exclusion("Volume Types", &[], Some("spec.volumes[*].hostPath"), &["*"])]);
        assert_eq!(failing_ids(&r, pod), ["hostPathVolumes"]);
    }

    #[test]
    fn finds_the_pod_by_kind() {
        let bump = Bump::new();
        fn decode<'a>(s: &'a str, bump: &'a Bump) -> Value<'a> {
            json::decode(s.as_bytes(), bump, &Limits::default()).unwrap()
        }
        let deploy = decode(r#"{"kind":"Deployment","spec":{"template":{"metadata":{"name":"t"},"spec":{"hostPID":true}}}}"#, &bump);
        let (m, s) = pod_of(deploy).unwrap();
        assert_eq!(m.get("name").and_then(|n| n.as_str()), Some("t"));
        assert!(s.get("hostPID").is_some());
        let cron = decode(
            r#"{"kind":"CronJob","spec":{"jobTemplate":{"metadata":{"name":"job"},"spec":{"template":{"metadata":{"name":"pod"},"spec":{"hostIPC":true}}}}}}"#,
            &bump,
        );
        let (m, s) = pod_of(cron).unwrap();
        assert_eq!(m.get("name").and_then(|n| n.as_str()), Some("job"), "Kyverno reads the job template's metadata");
        assert!(s.get("hostIPC").is_some());
        assert_eq!(pod_of(decode(r#"{"kind":"Service"}"#, &bump)), Err(PodError::NotAPod));
    }
}
