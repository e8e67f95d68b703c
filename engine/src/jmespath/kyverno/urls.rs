//! `is_external_url`, and the subset of Go's `net/url` parsing it (and X.509 URIs)
//! rest on.
//!
//! Kyverno parses the URL with `url.Parse`, takes `Hostname()`, and answers from the
//! address: an IP literal is external unless it is loopback or private (RFC 1918,
//! `fc00::/7`). A host *name* Kyverno resolves with the server's DNS and answers from
//! the addresses, failing when resolution fails. kyvm evaluates without network access,
//! so only `localhost` (always loopback) is answered; any other name is an
//! `invalid-value` error, the outcome Kyverno gives when a name does not resolve.

use std::net::{IpAddr, Ipv4Addr};

use super::{invalid, str_arg, S};
use crate::document::Value;
use crate::jmespath::{Arg, Error, Function, Interp};

pub(super) const FUNCTIONS: &[Function] = &[Function {
    name: "is_external_url",
    params: &[S],
    variadic: false,
    returns: "boolean",
    doc: "whether a URL's host is a public address (loopback and private addresses are not)",
    call: is_external_url,
}];

/// The parts of Go's `url.URL` that kyvm uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoUrl {
    pub scheme: String,
    pub opaque: String,
    pub has_user: bool,
    /// `host[:port]`, percent-decoded.
    pub host: String,
    /// Percent-decoded path.
    pub path: String,
    pub raw_query: String,
    /// Percent-decoded fragment.
    pub fragment: String,
}

impl GoUrl {
    /// Go's `URL.Hostname()`: the host without port and IPv6 brackets.
    pub fn hostname(&self) -> &str {
        let mut host = self.host.as_str();
        if let Some(colon) = host.rfind(':') {
            if valid_optional_port(host.get(colon..).unwrap_or("")) {
                host = host.get(..colon).unwrap_or("");
            }
        }
        host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
    }
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty() || port.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Host,
    Zone,
    Other,
}

fn unhex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Go's `shouldEscape` for host and zone text (the only modes it rejects bytes in).
fn allowed_in_host(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"".contains(&c)
}

/// Go's `unescape`.
fn unescape(s: &str, mode: Mode) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hi = unhex(*b.get(i + 1)?)?;
            let lo = unhex(*b.get(i + 2)?)?;
            // Hosts may %-encode only non-ASCII bytes (and %25 in a zone).
            if mode == Mode::Host && hi < 8 && s.get(i..i + 3) != Some("%25") {
                return None;
            }
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && !allowed_in_host(c) {
            return None;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Go's `parseHost`.
fn parse_host(host: &str) -> Option<String> {
    if host.starts_with('[') {
        let i = host.rfind(']')?;
        if !valid_optional_port(host.get(i + 1..)?) {
            return None;
        }
        if let Some(zone) = host.get(..i)?.find("%25") {
            let a = unescape(host.get(..zone)?, Mode::Host)?;
            let b = unescape(host.get(zone..i)?, Mode::Zone)?;
            let c = unescape(host.get(i..)?, Mode::Host)?;
            return Some(a + &b + &c);
        }
    } else if let Some(i) = host.rfind(':') {
        if !valid_optional_port(host.get(i..)?) {
            return None;
        }
    }
    unescape(host, Mode::Host)
}

/// Go's `url.Parse`, for what kyvm reads of it. `None` where Go errors.
pub fn parse_url(raw: &str) -> Option<GoUrl> {
    let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let mut url = GoUrl { fragment: unescape(frag, Mode::Other)?, ..GoUrl::default() };
    if u == "*" {
        url.path = "*".into();
        return Some(url);
    }
    // getScheme: letters, then letters, digits, + - . up to a colon.
    let mut rest = u;
    for (i, c) in u.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' => {
                if i == 0 {
                    return None;
                }
                url.scheme = u.get(..i)?.to_ascii_lowercase();
                rest = u.get(i + 1..)?;
                break;
            }
            _ => break,
        }
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        rest = rest.get(..rest.len() - 1)?;
    } else if let Some((r, q)) = rest.split_once('?') {
        url.raw_query = q.to_string();
        rest = r;
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_string();
            return Some(url);
        }
        if rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
            return None;
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = rest.get(2..)?;
        let (authority, path) = match authority_and_path.find('/') {
            Some(i) => (authority_and_path.get(..i)?, authority_and_path.get(i..)?),
            None => (authority_and_path, ""),
        };
        let host = match authority.rfind('@') {
            Some(i) => {
                let userinfo = authority.get(..i)?;
                if !userinfo.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c)) {
                    return None;
                }
                unescape(userinfo, Mode::Other)?;
                url.has_user = true;
                authority.get(i + 1..)?
            }
            None => authority,
        };
        url.host = parse_host(host)?;
        rest = path;
    }
    url.path = unescape(rest, Mode::Other)?;
    Some(url)
}

/// Go's `IsLoopback() || IsPrivate()`, IPv4-mapped IPv6 read as IPv4.
fn internal(ip: IpAddr) -> bool {
    let v4 = |a: Ipv4Addr| {
        let [x, y, ..] = a.octets();
        x == 127 || x == 10 || (x == 172 && (y & 0xf0) == 16) || (x == 192 && y == 168)
    };
    match ip {
        IpAddr::V4(a) => v4(a),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(m) => v4(m),
            None => a.is_loopback() || (a.octets().first().copied().unwrap_or(0) & 0xfe) == 0xfc,
        },
    }
}

fn is_external_url<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("is_external_url", args, 0)?;
    let url = parse_url(s).ok_or_else(|| invalid("is_external_url", "invalid URL"))?;
    let host = url.hostname();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Value::Bool(!internal(ip)));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.eq_ignore_ascii_case("localhost") {
        return Ok(Value::Bool(false));
    }
    Err(invalid("is_external_url", "host names are not resolved (no DNS in policy evaluation); use an IP address"))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};
    use super::*;

    #[test]
    fn ip_literals() {
        for (url, want) in [
            ("https://8.8.8.8/path", "true"),
            ("http://127.0.0.1:8080", "false"),
            ("http://10.1.2.3", "false"),
            ("http://172.16.0.1", "false"),
            ("http://172.32.0.1", "true"),
            ("http://192.168.1.1", "false"),
            ("http://[::1]:80/", "false"),
            ("http://[fd00::1]/", "false"),
            ("http://[2001:db8::1]/", "true"),
            ("http://[::ffff:10.0.0.1]/", "false"),
            ("http://169.254.169.254/", "true"),
            ("http://user:pass@1.1.1.1:443/x?y#z", "true"),
            ("http://localhost:8080", "false"),
        ] {
            assert_eq!(run("is_external_url", &[&q(url)]), want, "{url}");
        }
    }

    #[test]
    fn names_and_bad_urls_are_errors() {
        for url in ["https://example.com", "example.com", "", "http://[::1", "http://x:port/", "http://a b/", "1http://x", ":x"] {
            assert_eq!(run("is_external_url", &[&q(url)]), "error: invalid-value", "{url:?}");
        }
    }

    #[test]
    fn go_url_parsing() {
        let u = parse_url("HTTPS://user@Host.example:8443/a%20b?q=1#frag").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "Host.example:8443");
        assert_eq!(u.hostname(), "Host.example");
        assert_eq!(u.path, "/a b");
        assert_eq!(u.raw_query, "q=1");
        assert_eq!(u.fragment, "frag");
        assert!(u.has_user);
        assert_eq!(parse_url("mailto:a@b").unwrap().opaque, "a@b");
        assert_eq!(parse_url("/relative/path").unwrap().path, "/relative/path");
        assert!(parse_url("a:b/c").is_some_and(|u| u.scheme == "a"));
        assert!(parse_url("1a:b").is_none(), "first segment with a colon in a relative URL");
        assert!(parse_url("http://%41/").is_none(), "ASCII may not be %-encoded in a host");
    }
}
