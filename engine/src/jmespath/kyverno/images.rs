//! `image_normalize`: an image reference in the canonical form Kyverno uses internally.
//!
//! Kyverno's `GetImageInfo`: a reference without a registry gets the default registry
//! (`docker.io`, Kyverno's default configuration, with registry mutation enabled) —
//! and nothing else: no `library/` is added, unlike Docker's own normalization. The
//! result is parsed with the distribution project's reference grammar and printed as
//! `registry/path@digest` when there is a digest (a tag next to it is dropped), else
//! `registry/path:tag` with `latest` as the default tag.

use std::sync::OnceLock;

use regex::Regex;

use super::{invalid, str_arg, strings::go_to_lower, Out, S};
use crate::document::Value;
use crate::jmespath::{Arg, Error, Function, Interp};

pub(super) const FUNCTIONS: &[Function] = &[Function {
    name: "image_normalize",
    params: &[S],
    variadic: false,
    returns: "string",
    doc: "an image reference with its default registry and tag (`nginx` is `docker.io/nginx:latest`)",
    call: image_normalize,
}];

/// Kyverno's default `defaultRegistry`.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// The reference grammar's cap on a repository name's length.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const NAME_COMPONENT: &str = "[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*";

fn domain() -> String {
    format!("{DOMAIN_COMPONENT}(?:\\.{DOMAIN_COMPONENT})*(?::[0-9]+)?")
}

/// distribution/reference's `ReferenceRegexp`: name, tag, digest.
fn reference_regex() -> &'static Option<Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        let name = format!("(?:{}/)?{NAME_COMPONENT}(?:/{NAME_COMPONENT})*", domain());
        let tag = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
        let digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
        Regex::new(&format!("^({name})(?::({tag}))?(?:@({digest}))?$")).ok()
    })
}

/// distribution/reference's `anchoredNameRegexp`: domain and path.
fn name_regex() -> &'static Option<Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!("^(?:({})/)?({NAME_COMPONENT}(?:/{NAME_COMPONENT})*)$", domain())).ok())
}

/// Kyverno's `addDefaultRegistry`: prefix the default registry unless the first path
/// element looks like a host (has `.` or `:`, is `localhost`, or has upper case).
fn add_default_registry(name: &str) -> String {
    match name.find('/') {
        Some(i) => {
            let first = name.get(..i).unwrap_or("");
            if !first.contains(['.', ':']) && first != "localhost" && go_to_lower(first) == first {
                format!("{DEFAULT_REGISTRY}/{name}")
            } else {
                name.to_string()
            }
        }
        None => format!("{DEFAULT_REGISTRY}/{name}"),
    }
}

/// go-digest's validation: only sha256, sha384 and sha512, with lowercase hex of the
/// right length.
fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else { return false };
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Kyverno's `GetImageInfo(image).String()`; `None` for a bad reference.
pub fn normalize(image: &str) -> Option<String> {
    let full = add_default_registry(image);
    let caps = reference_regex().as_ref()?.captures(&full)?;
    let name = caps.get(1)?.as_str();
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return None;
    }
    let tag = caps.get(2).map_or("", |m| m.as_str());
    let digest = caps.get(3).map_or("", |m| m.as_str());
    if !digest.is_empty() && !valid_digest(digest) {
        return None;
    }
    let parts = name_regex().as_ref()?.captures(name)?;
    let registry = parts.get(1).map_or("", |m| m.as_str());
    let path = parts.get(2)?.as_str();
    let base = if registry.is_empty() { path.to_string() } else { format!("{registry}/{path}") };
    Some(if !digest.is_empty() { format!("{base}@{digest}") } else { format!("{base}:{}", if tag.is_empty() { "latest" } else { tag }) })
}

fn image_normalize<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let image = str_arg("image_normalize", args, 0)?;
    let normalized = normalize(image).ok_or_else(|| invalid("image_normalize", "bad image: invalid reference format"))?;
    let mut out = Out::new(interp.arena(), "image_normalize");
    out.push_str(&normalized)?;
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};
    use super::*;

    #[test]
    fn kyverno_image_normalize_examples() {
        // Test_ImageNormalize (functions_test.go).
        for (input, want) in [
            ("nginx", "docker.io/nginx:latest"),
            ("docker.io/nginx", "docker.io/nginx:latest"),
            ("docker.io/library/nginx", "docker.io/library/nginx:latest"),
            ("ghcr.io/library/nginx", "ghcr.io/library/nginx:latest"),
            ("ghcr.io/nginx", "ghcr.io/nginx:latest"),
            ("ghcr.io/nginx:latest", "ghcr.io/nginx:latest"),
            ("ghcr.io/nginx:1.2", "ghcr.io/nginx:1.2"),
        ] {
            assert_eq!(run("image_normalize", &[&q(input)]), q(want), "{input}");
        }
        assert_eq!(run("image_normalize", &[&q("")]), "error: invalid-value");
    }

    #[test]
    fn kyverno_image_info_examples() {
        // Test_GetImageInfo and Test_addDefaultRegistry (pkg/utils/image/infos_test.go).
        let digest = "sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f";
        assert_eq!(normalize("nginx:v10.3").as_deref(), Some("docker.io/nginx:v10.3"));
        assert_eq!(normalize("docker.io/test/nginx:v10.3").as_deref(), Some("docker.io/test/nginx:v10.3"));
        assert_eq!(normalize("test/nginx").as_deref(), Some("docker.io/test/nginx:latest"));
        assert_eq!(normalize("localhost:4443/test/nginx").as_deref(), Some("localhost:4443/test/nginx:latest"));
        assert_eq!(normalize(&format!("docker.io/test/centos@{digest}")), Some(format!("docker.io/test/centos@{digest}")));
        assert_eq!(normalize(&format!("test/centos:7@{digest}")), Some(format!("docker.io/test/centos@{digest}")));
        assert_eq!(normalize("localhost/netd:v0.4.4-gke.0").as_deref(), Some("localhost/netd:v0.4.4-gke.0"));
        assert_eq!(normalize("myregistry.org/test/nginx:v10.3").as_deref(), Some("myregistry.org/test/nginx:v10.3"));
        assert_eq!(normalize("++"), None);
        // Not in Kyverno's tests.
        assert_eq!(normalize("NGINX"), None, "repository names are lower case");
        assert_eq!(normalize("Registry/nginx").as_deref(), Some("Registry/nginx:latest"), "upper case marks a host");
        assert_eq!(normalize("nginx@sha256:abc"), None);
        assert_eq!(normalize(&format!("nginx@{}", digest.to_uppercase().replace("SHA256", "sha256"))), None);
        assert_eq!(normalize(&format!("nginx@md5:{}", "a".repeat(32))), None);
        assert_eq!(normalize(&format!("{}:1", "a".repeat(300))), None);
        assert_eq!(normalize("nginx:"), None);
        assert_eq!(normalize(&format!("nginx:{}", "t".repeat(129))), None);
    }
}
