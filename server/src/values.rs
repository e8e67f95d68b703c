//! Kyverno CLI input files besides policies and resources: the values file
//! (`kind: Values`) and the user-info file (`kind: UserInfo`), both
//! `cli.kyverno.io/v1alpha1`.
//!
//! From the values file kyvm takes the operation of each request (`request.operation`,
//! per policy and resource or global), the labels of namespaces for `namespaceSelector`,
//! and the variables rules read: `globalValues`, per-resource values, per-rule values
//! (which also stand in for `configMap` and `apiCall` context entries) and per-rule
//! `foreachValues` (one value per `foreach` element).

use std::collections::BTreeMap;
use std::path::Path;

use kyvm_engine::Operation;
use serde::Deserialize;
use serde_yaml::Value;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValuesFile {
    #[serde(default)]
    pub policies: Vec<PolicyValues>,
    #[serde(default)]
    pub global_values: BTreeMap<String, Value>,
    #[serde(default)]
    pub namespace_selector: Vec<NamespaceLabels>,
    #[serde(default)]
    pub subresources: Vec<Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyValues {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub rules: Vec<NamedValues>,
    #[serde(default)]
    pub resources: Vec<NamedValues>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedValues {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub values: BTreeMap<String, Value>,
    /// Rules only: for each key, the value each `foreach` element sees, by index.
    #[serde(default)]
    pub foreach_values: BTreeMap<String, Vec<Value>>,
}

/// One variable from the values file, before it is copied into an evaluation arena.
#[derive(Clone, Copy, Debug)]
pub struct Variable<'v> {
    /// `Some` for per-rule values.
    pub rule: Option<&'v str>,
    pub path: &'v str,
    pub value: &'v Value,
    /// A `foreachValues` list.
    pub per_element: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct NamespaceLabels {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl ValuesFile {
    /// The operation for `policy` applied to the resource named `resource`: the resource's
    /// `request.operation` value, else the global one, else CREATE.
    pub fn operation(&self, policy: &str, resource: &str) -> Operation {
        let resource_value = self
            .policies
            .iter()
            .filter(|p| p.name == policy)
            .flat_map(|p| p.resources.iter())
            .find(|r| r.name == resource)
            .and_then(|r| r.values.get("request.operation"));
        let value = resource_value.or_else(|| self.global_values.get("request.operation"));
        value.and_then(Value::as_str).and_then(Operation::parse).unwrap_or(Operation::Create)
    }

    /// The variables for `policy` applied to the resource named `resource`, in the order
    /// they apply (later ones win): global values, the resource's values, then the
    /// policy's per-rule values and `foreachValues`.
    pub fn variables<'v>(&'v self, policy: &str, resource: &str) -> Vec<Variable<'v>> {
        let mut out: Vec<Variable<'v>> =
            self.global_values.iter().map(|(k, v)| Variable { rule: None, path: k, value: v, per_element: false }).collect();
        for p in self.policies.iter().filter(|p| p.name == policy) {
            for r in p.resources.iter().filter(|r| r.name == resource) {
                out.extend(r.values.iter().map(|(k, v)| Variable { rule: None, path: k, value: v, per_element: false }));
            }
            for rule in &p.rules {
                out.extend(rule.values.iter().map(|(k, v)| Variable { rule: Some(&rule.name), path: k, value: v, per_element: false }));
            }
        }
        out
    }

    /// The `foreachValues` of `policy`'s rules, as (rule, key, values).
    pub fn foreach_values<'v>(&'v self, policy: &str) -> impl Iterator<Item = (&'v str, &'v str, &'v [Value])> + 'v {
        let policy = policy.to_string();
        self.policies
            .iter()
            .filter(move |p| p.name == policy)
            .flat_map(|p| p.rules.iter())
            .flat_map(|r| r.foreach_values.iter().map(move |(k, v)| (r.name.as_str(), k.as_str(), v.as_slice())))
    }

    /// Labels of namespace `name`, when the file gives them.
    pub fn namespace_labels(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.namespace_selector.iter().find(|n| n.name == name).map(|n| &n.labels)
    }
}

/// `kind: UserInfo`: who makes the requests.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfoFile {
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub cluster_roles: Vec<String>,
    #[serde(default)]
    pub user_info: AdmissionUser,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AdmissionUser {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Reads a YAML file into `T`, with an error that names the file.
pub fn read_yaml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read file: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_per_resource_then_global() {
        let v: ValuesFile = serde_yaml::from_str(
            "policies:\n- name: p\n  resources:\n  - name: r1\n    values: {request.operation: UPDATE}\nglobalValues: {request.operation: DELETE}\n",
        )
        .unwrap();
        assert_eq!(v.operation("p", "r1"), Operation::Update);
        assert_eq!(v.operation("p", "r2"), Operation::Delete);
        assert_eq!(ValuesFile::default().operation("p", "r"), Operation::Create);
    }
}
