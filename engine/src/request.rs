//! The request: what one evaluation is about.
//!
//! A [`Request`] is a view over a decoded document: the object under review and the
//! admission facts Kyverno matches rules on (group/version/kind, subresource, operation,
//! name, namespace, the namespace's labels, the requesting user). The webhook builds it
//! from an `admission.k8s.io/v1` AdmissionReview; the CLI builds it from a resource file
//! plus the test's values and user-info files. Nothing here copies the object.

use crate::context::SuppliedVariable;
use crate::document::Value;

/// An admission operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Operation> {
        match s {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// The requesting user, as the match `subjects`, `roles` and `clusterRoles` see it.
/// Lists are document arrays of strings (non-strings are ignored).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UserInfo<'a> {
    pub username: &'a str,
    pub groups: &'a [Value<'a>],
    pub roles: &'a [Value<'a>],
    pub cluster_roles: &'a [Value<'a>],
}

impl<'a> UserInfo<'a> {
    /// Kyverno ignores the user-info clauses of `match` blocks when it has no user
    /// information at all (the CLI without a user-info file).
    pub fn is_empty(&self) -> bool {
        self.username.is_empty() && self.groups.is_empty() && self.roles.is_empty() && self.cluster_roles.is_empty()
    }

    pub fn group_names(&self) -> impl Iterator<Item = &'a str> + 'a {
        strings(self.groups)
    }

    pub fn role_names(&self) -> impl Iterator<Item = &'a str> + 'a {
        strings(self.roles)
    }

    pub fn cluster_role_names(&self) -> impl Iterator<Item = &'a str> + 'a {
        strings(self.cluster_roles)
    }
}

fn strings<'a>(items: &'a [Value<'a>]) -> impl Iterator<Item = &'a str> + 'a {
    items.iter().filter_map(Value::as_str)
}

/// One evaluation's subject.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Request<'a> {
    /// The resource the rules check: the new object, or the old one for DELETE.
    pub object: Value<'a>,
    /// The object before an UPDATE or DELETE; `null` otherwise.
    pub old_object: Value<'a>,
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    /// `""`, or a subresource such as `exec`, `status`, `ephemeralcontainers`.
    pub subresource: &'a str,
    pub operation: Operation,
    pub name: &'a str,
    pub namespace: &'a str,
    /// Labels of the request's namespace (an object), or `null` when unknown.
    pub namespace_labels: Value<'a>,
    pub user: UserInfo<'a>,
    pub dry_run: bool,
    /// The AdmissionReview's `request` object (every AdmissionRequest field, for
    /// `{{ request.* }}`), or `null` when the request was not built from a review.
    pub admission: Value<'a>,
    /// Variables supplied with the request: the CLI's values file. Empty for the webhook.
    pub variables: &'a [SuppliedVariable<'a>],
    /// What a context entry that needs cluster data (`configMap`, `apiCall`, ...) sees.
    pub external_data: ExternalData,
    /// Resources a `generate.clone` may copy (the CLI's `cloneSourceResource`).
    pub clone_sources: &'a [Value<'a>],
}

/// Where the data of `configMap`, `apiCall`, `imageRegistry` and `globalReference`
/// context entries comes from. kyvm does not call the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExternalData {
    /// From [`Request::variables`]; an entry without a value is absent, as in Kyverno's
    /// CLI (`kyverno apply` and `kyverno test`).
    #[default]
    Supplied,
    /// Nowhere: a rule whose entry has no supplied value reports `error`.
    Unavailable,
}

impl<'a> Request<'a> {
    /// A request for a bare object, as the CLI applies policies to resource files:
    /// group, version, kind, name and namespace come from the object itself.
    pub fn for_object(object: Value<'a>, operation: Operation) -> Request<'a> {
        let api_version = object.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
        let (group, version) = split_api_version(api_version);
        let metadata = object.get_or_null("metadata");
        let mut name = metadata.get("name").and_then(|v| v.as_str()).unwrap_or("");
        if name.is_empty() {
            name = metadata.get("generateName").and_then(|v| v.as_str()).unwrap_or("");
        }
        Request {
            object,
            old_object: Value::Null,
            group,
            version,
            kind: object.get("kind").and_then(|v| v.as_str()).unwrap_or(""),
            subresource: "",
            operation,
            name,
            namespace: metadata.get("namespace").and_then(|v| v.as_str()).unwrap_or(""),
            namespace_labels: Value::Null,
            user: UserInfo::default(),
            dry_run: false,
            admission: Value::Null,
            variables: &[],
            external_data: ExternalData::Supplied,
            clone_sources: &[],
        }
    }

    /// The request inside an `admission.k8s.io/v1` AdmissionReview (`review.request`).
    /// Returns `None` when the review has no request or no kind.
    pub fn from_admission_review(review: Value<'a>) -> Option<Request<'a>> {
        let req = review.get("request")?;
        let kind = req.get("kind")?;
        let str_of = |v: Value<'a>, key: &str| v.get(key).and_then(|x| x.as_str()).unwrap_or("");
        let operation = Operation::parse(str_of(req, "operation"))?;
        let object = req.get_or_null("object");
        let old_object = req.get_or_null("oldObject");
        let user = req.get_or_null("userInfo");
        let array = |v: Value<'a>, key: &str| v.get(key).and_then(|x| x.as_array()).unwrap_or(&[]);
        Some(Request {
            object: if operation == Operation::Delete && object.is_null() { old_object } else { object },
            old_object,
            group: str_of(kind, "group"),
            version: str_of(kind, "version"),
            kind: str_of(kind, "kind"),
            subresource: str_of(req, "subResource"),
            operation,
            name: str_of(req, "name"),
            namespace: str_of(req, "namespace"),
            namespace_labels: Value::Null,
            user: UserInfo { username: str_of(user, "username"), groups: array(user, "groups"), roles: &[], cluster_roles: &[] },
            dry_run: matches!(req.get("dryRun"), Some(Value::Bool(true))),
            admission: req,
            variables: &[],
            external_data: ExternalData::Unavailable,
            clone_sources: &[],
        })
    }

    /// Labels of the object under review (`metadata.labels`), or `null`.
    pub fn labels(&self) -> Value<'a> {
        self.object.get_or_null("metadata").get_or_null("labels")
    }

    /// Annotations of the object under review (`metadata.annotations`), or `null`.
    pub fn annotations(&self) -> Value<'a> {
        self.object.get_or_null("metadata").get_or_null("annotations")
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}
