//! `x509_decode`: a PEM certificate or certificate request as the object Kyverno
//! returns.
//!
//! Kyverno decodes the first PEM block (`CERTIFICATE` or `CERTIFICATE REQUEST`) with
//! Go's `crypto/x509`, requires an RSA key, replaces the key with `{N, E}` (N as a
//! decimal string) and returns Go's JSON encoding of the `x509.Certificate` or
//! `x509.CertificateRequest` struct: byte fields in base64, OIDs as arrays of numbers,
//! times in RFC 3339, names with Go's field names. This module parses the DER itself
//! (a small strict reader, no allocation beyond the result) and builds that object
//! field by field, in Go's field order. Numbers come out as JSON would decode them
//! (integers as integers; a serial number past `i64` as a float).

use ahash::AHashSet;
use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use super::encoding::{base64_encode_into, go_base64_decode};
use super::time::GoTime;
use super::urls::parse_url;
use super::{invalid, object, str_arg, S};
use crate::document::Value;
use crate::jmespath::{Arg, Error, Function, Interp};

pub(super) const FUNCTIONS: &[Function] = &[Function {
    name: "x509_decode",
    params: &[S],
    variadic: false,
    returns: "object",
    doc: "decodes a PEM certificate or certificate request (RSA keys) into Go's x509 object shape",
    call: x509_decode,
}];

fn x509_decode<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let name = "x509_decode";
    let input = str_arg(name, args, 0)?;
    super::charge_scan(interp, input.len())?;
    let block = pem_decode(input.as_bytes()).ok_or_else(|| invalid(name, "failed to decode PEM block"))?;
    let arena = interp.arena();
    let b = Builder { arena };
    match block.kind.as_slice() {
        b"CERTIFICATE" => b.certificate(&block.bytes).map_err(|e| invalid(name, e)),
        b"CERTIFICATE REQUEST" => b.request(&block.bytes).map_err(|e| invalid(name, e)),
        _ => Err(invalid(name, "PEM block neither contains a CERTIFICATE or CERTIFICATE REQUEST")),
    }
}

// ---------------------------------------------------------------------------------
// PEM (Go's encoding/pem.Decode).

struct PemBlock {
    kind: Vec<u8>,
    bytes: Vec<u8>,
}

/// Go's `getLine`: the first line without trailing spaces/tabs, and the rest.
fn get_line(data: &[u8]) -> (&[u8], &[u8]) {
    let (mut line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let line = data.get(..i).unwrap_or(&[]);
            (line.strip_suffix(b"\r").unwrap_or(line), data.get(i + 1..).unwrap_or(&[]))
        }
        None => (data, &[][..]),
    };
    while let Some((&last, init)) = line.split_last() {
        if last == b' ' || last == b'\t' {
            line = init;
        } else {
            break;
        }
    }
    (line, rest)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Go's `pem.Decode`: the first well-formed block.
fn pem_decode(data: &[u8]) -> Option<PemBlock> {
    const START: &[u8] = b"\n-----BEGIN ";
    const END: &[u8] = b"\n-----END ";
    const DASHES: &[u8] = b"-----";
    let mut rest = data;
    loop {
        if let Some(r) = rest.strip_prefix(b"-----BEGIN ") {
            rest = r;
        } else if let Some(i) = find(rest, START) {
            rest = rest.get(i + START.len()..)?;
        } else {
            return None;
        }
        let (type_line, r) = get_line(rest);
        rest = r;
        let Some(kind) = type_line.strip_suffix(DASHES) else { continue };
        // Headers: `key: value` lines.
        let mut has_headers = false;
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next) = get_line(rest);
            if !line.contains(&b':') {
                break;
            }
            has_headers = true;
            rest = next;
        }
        let (end_index, trailer_index) = if !has_headers && rest.starts_with(b"-----END ") {
            (0, END.len() - 1)
        } else {
            match find(rest, END) {
                Some(i) => (i, i + END.len()),
                None => continue,
            }
        };
        let trailer = rest.get(trailer_index..)?;
        let trailer_len = kind.len() + DASHES.len();
        if trailer.len() < trailer_len {
            continue;
        }
        let (end_line, after) = trailer.split_at(trailer_len);
        if !end_line.starts_with(kind) || !end_line.ends_with(DASHES) {
            continue;
        }
        if !get_line(after).0.is_empty() {
            continue;
        }
        let body: Vec<u8> = rest.get(..end_index)?.iter().copied().filter(|&b| b != b' ' && b != b'\t').collect();
        let Some(bytes) = go_base64_decode(&body) else { continue };
        return Some(PemBlock { kind: kind.to_vec(), bytes });
    }
}

// ---------------------------------------------------------------------------------
// DER.

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// Context-specific tag `n`, constructed or primitive.
const fn ctx(n: u8, constructed: bool) -> u8 {
    0x80 | if constructed { 0x20 } else { 0 } | n
}

#[derive(Clone, Copy)]
struct Tlv<'d> {
    tag: u8,
    content: &'d [u8],
    full: &'d [u8],
}

#[derive(Clone, Copy)]
struct Der<'d> {
    data: &'d [u8],
}

type R<T> = Result<T, &'static str>;
const MALFORMED: &str = "malformed certificate";

impl<'d> Der<'d> {
    fn new(data: &'d [u8]) -> Self {
        Der { data }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn peek(&self) -> Option<u8> {
        self.data.first().copied()
    }

    fn read(&mut self) -> R<Tlv<'d>> {
        let tag = *self.data.first().ok_or(MALFORMED)?;
        if tag & 0x1f == 0x1f {
            return Err(MALFORMED);
        }
        let first = *self.data.get(1).ok_or(MALFORMED)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(MALFORMED);
            }
            let bytes = self.data.get(2..2 + n).ok_or(MALFORMED)?;
            if bytes.first() == Some(&0) {
                return Err(MALFORMED);
            }
            let len = bytes.iter().fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            if len < 0x80 {
                return Err(MALFORMED);
            }
            (len, 2 + n)
        };
        let full = self.data.get(..header + len).ok_or(MALFORMED)?;
        let content = full.get(header..).ok_or(MALFORMED)?;
        self.data = self.data.get(header + len..).unwrap_or(&[]);
        Ok(Tlv { tag, content, full })
    }

    fn expect(&mut self, tag: u8) -> R<Tlv<'d>> {
        let t = self.read()?;
        if t.tag != tag {
            return Err(MALFORMED);
        }
        Ok(t)
    }

    fn optional(&mut self, tag: u8) -> R<Option<Tlv<'d>>> {
        if self.peek() == Some(tag) {
            return self.expect(tag).map(Some);
        }
        Ok(None)
    }
}

/// OID arcs (each within Go's `int`... and `asn1`'s 31-bit limit).
fn parse_oid(content: &[u8]) -> R<Vec<u32>> {
    let mut arcs = Vec::new();
    let mut v: u64 = 0;
    let mut first = true;
    if content.is_empty() || content.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(MALFORMED);
    }
    let mut start = true;
    for &b in content {
        if start && b == 0x80 {
            return Err(MALFORMED);
        }
        start = false;
        v = v << 7 | u64::from(b & 0x7f);
        if v > i32::MAX as u64 {
            return Err(MALFORMED);
        }
        if b & 0x80 == 0 {
            if first {
                let (a, b) = if v < 40 {
                    (0, v)
                } else if v < 80 {
                    (1, v - 40)
                } else {
                    (2, v - 80)
                };
                arcs.push(a as u32);
                arcs.push(b as u32);
                first = false;
            } else {
                arcs.push(v as u32);
            }
            v = 0;
            start = true;
        }
    }
    Ok(arcs)
}

/// A DER INTEGER's value when it fits an `i64`.
fn small_int(content: &[u8]) -> R<i64> {
    if content.is_empty() || content.len() > 8 {
        return Err(MALFORMED);
    }
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    let mut v: i64 = if negative { -1 } else { 0 };
    for &b in content {
        v = v << 8 | i64::from(b);
    }
    Ok(v)
}

/// A non-negative big-endian integer in decimal.
fn decimal(magnitude: &[u8]) -> String {
    let mut digits: Vec<u8> = magnitude.iter().copied().skip_while(|&b| b == 0).collect();
    if digits.is_empty() {
        return "0".into();
    }
    let mut out = Vec::new();
    while !digits.is_empty() {
        // Divide by 10^9, collecting the remainder.
        let mut rem: u64 = 0;
        let mut quotient = Vec::with_capacity(digits.len());
        for &d in &digits {
            let cur = rem << 8 | u64::from(d);
            let q = cur / 1_000_000_000;
            rem = cur % 1_000_000_000;
            if !(quotient.is_empty() && q == 0) {
                quotient.push(q as u8);
            }
        }
        digits = quotient;
        let chunk = format!("{rem:09}");
        out.push(chunk);
    }
    let mut s: String = out.iter().rev().map(String::as_str).collect();
    let trimmed = s.trim_start_matches('0').len();
    s = s.split_off(s.len() - trimmed.max(1).min(s.len()));
    if s.is_empty() {
        "0".into()
    } else {
        s
    }
}

/// BIT STRING content → (bytes, bit length); Go's `RightAlign` for the bytes.
fn bit_string(content: &[u8]) -> R<(Vec<u8>, usize)> {
    let (&unused, bytes) = content.split_first().ok_or(MALFORMED)?;
    if unused > 7 || (bytes.is_empty() && unused != 0) || bytes.last().is_some_and(|b| b & ((1u8 << unused) - 1) != 0) {
        return Err(MALFORMED);
    }
    let bit_len = bytes.len() * 8 - usize::from(unused);
    if unused == 0 || bytes.is_empty() {
        return Ok((bytes.to_vec(), bit_len));
    }
    let shift = unused;
    let mut out = Vec::with_capacity(bytes.len());
    let mut prev = 0u8;
    for (i, &b) in bytes.iter().enumerate() {
        out.push(if i == 0 { b >> shift } else { prev << (8 - shift) | b >> shift });
        prev = b;
    }
    Ok((out, bit_len))
}

/// Go's `parseASN1String` (Names hold only these).
fn asn1_string(tag: u8, content: &[u8]) -> R<String> {
    const BAD: &str = "invalid attribute value";
    match tag {
        // T61String: Go keeps the bytes as they are.
        0x14 => Ok(String::from_utf8_lossy(content).into_owned()),
        // PrintableString (plus `*` and `&`, which Go tolerates).
        0x13 => {
            if content.iter().all(|&b| b.is_ascii_alphanumeric() || b" '()+,-./:=?*&".contains(&b)) {
                Ok(String::from_utf8_lossy(content).into_owned())
            } else {
                Err(BAD)
            }
        }
        0x0c => String::from_utf8(content.to_vec()).map_err(|_| BAD),
        0x1e => {
            if !content.len().is_multiple_of(2) {
                return Err(BAD);
            }
            let mut units: Vec<u16> = content
                .chunks(2)
                .map(|c| u16::from(c.first().copied().unwrap_or(0)) << 8 | u16::from(c.get(1).copied().unwrap_or(0)))
                .collect();
            if units.last() == Some(&0) {
                units.pop();
            }
            String::from_utf16(&units).map_err(|_| BAD)
        }
        0x16 => {
            if content.is_ascii() {
                Ok(String::from_utf8_lossy(content).into_owned())
            } else {
                Err(BAD)
            }
        }
        0x12 => {
            if content.iter().all(|&b| b.is_ascii_digit() || b == b' ') {
                Ok(String::from_utf8_lossy(content).into_owned())
            } else {
                Err(BAD)
            }
        }
        _ => Err("unsupported string type"),
    }
}

/// UTCTime / GeneralizedTime as crypto/x509 reads them.
fn asn1_time(t: Tlv<'_>) -> R<GoTime> {
    const BAD: &str = "malformed validity";
    let s = core::str::from_utf8(t.content).map_err(|_| BAD)?;
    let parsed = match t.tag {
        UTC_TIME => {
            let p = super::time::parse("060102150405Z0700", s).or_else(|| super::time::parse("0601021504Z0700", s)).ok_or(BAD)?;
            // Two-digit years 50..99 are 1950..1999 (RFC 5280); Go's parser put 50..68 in 20xx.
            let year_2050 = super::time::parse("2006", "2050").ok_or(BAD)?;
            if p.unix_nanos + i128::from(p.offset) * 1_000_000_000 >= year_2050.unix_nanos {
                let shifted = super::time::parse("20060102150405Z0700", &format!("19{s}")).ok_or(BAD)?;
                if s.len() < 13 {
                    super::time::parse("200601021504Z0700", &format!("19{s}")).ok_or(BAD)?
                } else {
                    shifted
                }
            } else {
                p
            }
        }
        GENERALIZED_TIME => {
            // No fractions: Go reformats and compares.
            if s.contains(['.', ',']) {
                return Err(BAD);
            }
            super::time::parse("20060102150405Z0700", s).ok_or(BAD)?
        }
        _ => return Err(BAD),
    };
    Ok(parsed)
}

// ---------------------------------------------------------------------------------
// Object building.

struct Builder<'a> {
    arena: &'a Bump,
}

/// Go's `x509.SignatureAlgorithm` numbering.
fn signature_algorithm(alg: Tlv<'_>) -> R<i64> {
    let mut d = Der::new(alg.content);
    let oid = parse_oid(d.expect(OID)?.content)?;
    let rsa = |n: u32| oid == [1, 2, 840, 113_549, 1, 1, n];
    Ok(if rsa(2) {
        1
    } else if rsa(4) {
        2
    } else if rsa(5) || oid == [1, 3, 14, 3, 2, 29] {
        3
    } else if rsa(11) {
        4
    } else if rsa(12) {
        5
    } else if rsa(13) {
        6
    } else if oid == [1, 2, 840, 10040, 4, 3] {
        7
    } else if oid == [2, 16, 840, 1, 101, 3, 4, 3, 2] {
        8
    } else if oid == [1, 2, 840, 10045, 4, 1] {
        9
    } else if oid == [1, 2, 840, 10045, 4, 3, 2] {
        10
    } else if oid == [1, 2, 840, 10045, 4, 3, 3] {
        11
    } else if oid == [1, 2, 840, 10045, 4, 3, 4] {
        12
    } else if rsa(10) {
        // RSASSA-PSS: the hash in the parameters picks the algorithm.
        let params = d.read().ok();
        let hash = params.and_then(|p| {
            let mut pd = Der::new(p.content);
            let h = pd.optional(ctx(0, true)).ok()??;
            let mut hd = Der::new(h.content);
            let ai = hd.expect(SEQUENCE).ok()?;
            parse_oid(Der::new(ai.content).expect(OID).ok()?.content).ok()
        });
        match hash.as_deref() {
            Some([2, 16, 840, 1, 101, 3, 4, 2, 1]) => 13,
            Some([2, 16, 840, 1, 101, 3, 4, 2, 2]) => 14,
            Some([2, 16, 840, 1, 101, 3, 4, 2, 3]) => 15,
            _ => 0,
        }
    } else if oid == [1, 3, 101, 112] {
        16
    } else {
        0
    })
}

/// Go's `x509.PublicKeyAlgorithm` numbering.
fn public_key_algorithm(oid: &[u32]) -> i64 {
    match oid {
        [1, 2, 840, 113_549, 1, 1, 1] => 1,
        [1, 2, 840, 10040, 4, 1] => 2,
        [1, 2, 840, 10045, 2, 1] => 3,
        [1, 3, 101, 112] => 4,
        _ => 0,
    }
}

/// The pieces of a parsed SubjectAltName extension.
#[derive(Default)]
struct Sans<'a> {
    dns: Vec<Value<'a>>,
    email: Vec<Value<'a>>,
    ip: Vec<Value<'a>>,
    uri: Vec<Value<'a>>,
}

impl<'a> Builder<'a> {
    fn s(&self, s: &str) -> Value<'a> {
        Value::Str(self.arena.alloc_str(s))
    }

    fn b64(&self, bytes: &[u8]) -> Value<'a> {
        let mut out = bumpalo::collections::String::with_capacity_in(bytes.len().div_ceil(3) * 4, self.arena);
        base64_encode_into(bytes, &mut |b| out.push(char::from(b)));
        Value::Str(out.into_bump_str())
    }

    fn oid(&self, arcs: &[u32]) -> Value<'a> {
        let mut v = BumpVec::with_capacity_in(arcs.len(), self.arena);
        v.extend(arcs.iter().map(|&a| Value::Int(i64::from(a))));
        Value::Array(v.into_bump_slice())
    }

    /// A Go slice: `null` when empty (nil).
    fn list(&self, items: Vec<Value<'a>>) -> Value<'a> {
        if items.is_empty() {
            return Value::Null;
        }
        Value::Array(self.arena.alloc_slice_copy(&items))
    }

    fn time(&self, t: GoTime) -> Value<'a> {
        let mut s = bumpalo::collections::String::new_in(self.arena);
        let _ = t.write_rfc3339(&mut s);
        Value::Str(s.into_bump_str())
    }

    fn ip(&self, bytes: &[u8]) -> R<Value<'a>> {
        let addr: std::net::IpAddr = match bytes.len() {
            4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).map_err(|_| MALFORMED)?).into(),
            16 => {
                let v6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).map_err(|_| MALFORMED)?);
                v6.to_ipv4_mapped().map_or(v6.into(), Into::into)
            }
            _ => return Err("cannot parse IP address"),
        };
        Ok(self.s(&addr.to_string()))
    }

    /// Go's `pkix.Name` from an RDNSequence.
    fn name(&self, der: &[u8]) -> R<Value<'a>> {
        let mut fields: [Vec<Value<'a>>; 7] = Default::default(); // C, O, OU, L, ST, street, postal
        let (mut serial, mut cn) = ("".to_string(), "".to_string());
        let mut names = Vec::new();
        let mut rdns = Der::new(der);
        while !rdns.is_empty() {
            let set = rdns.expect(SET)?;
            let mut atvs = Der::new(set.content);
            while !atvs.is_empty() {
                let atv = atvs.expect(SEQUENCE)?;
                let mut d = Der::new(atv.content);
                let oid = parse_oid(d.expect(OID)?.content)?;
                let value = d.read()?;
                let text = asn1_string(value.tag, value.content)?;
                if let [2, 5, 4, n] = oid[..] {
                    let slot = match n {
                        3 => {
                            cn = text.clone();
                            None
                        }
                        5 => {
                            serial = text.clone();
                            None
                        }
                        6 => Some(0),
                        10 => Some(1),
                        11 => Some(2),
                        7 => Some(3),
                        8 => Some(4),
                        9 => Some(5),
                        17 => Some(6),
                        _ => None,
                    };
                    if let Some(f) = slot.and_then(|i| fields.get_mut(i)) {
                        f.push(self.s(&text));
                    }
                }
                names.push(object(self.arena, &[("Type", self.oid(&oid)), ("Value", self.s(&text))]));
            }
        }
        let [c, o, ou, l, st, street, postal] = fields;
        Ok(object(
            self.arena,
            &[
                ("Country", self.list(c)),
                ("Organization", self.list(o)),
                ("OrganizationalUnit", self.list(ou)),
                ("Locality", self.list(l)),
                ("Province", self.list(st)),
                ("StreetAddress", self.list(street)),
                ("PostalCode", self.list(postal)),
                ("SerialNumber", self.s(&serial)),
                ("CommonName", self.s(&cn)),
                ("Names", self.list(names)),
                ("ExtraNames", Value::Null),
            ],
        ))
    }

    /// The RSA key as Kyverno reports it: `{N: decimal string, E: number}`.
    fn rsa_key(&self, spki: Tlv<'_>) -> R<(i64, Value<'a>)> {
        let mut d = Der::new(spki.content);
        let alg = d.expect(SEQUENCE)?;
        let mut ad = Der::new(alg.content);
        let oid = parse_oid(ad.expect(OID)?.content)?;
        let algorithm = public_key_algorithm(&oid);
        if algorithm != 1 {
            return Err("certificate should use rsa algorithm");
        }
        if ad.read().map(|p| p.full) != Ok(&[0x05, 0x00][..]) {
            return Err("RSA key missing NULL parameters");
        }
        let (key, _) = bit_string(d.expect(BIT_STRING)?.content)?;
        let mut kd = Der::new(&key);
        let seq = kd.expect(SEQUENCE)?;
        let mut sd = Der::new(seq.content);
        let n = sd.expect(INTEGER)?.content;
        let e = small_int(sd.expect(INTEGER)?.content).map_err(|_| "failed to parse subject public key info")?;
        if n.first().is_none_or(|b| b & 0x80 != 0) || n.iter().all(|&b| b == 0) || e <= 0 || e > i64::from(i32::MAX) {
            return Err("failed to parse subject public key info");
        }
        Ok((algorithm, object(self.arena, &[("N", self.s(&decimal(n))), ("E", Value::Int(e))])))
    }

    /// Go's `parseSANExtension`.
    fn sans(&self, value: &[u8], out: &mut Sans<'a>) -> R<()> {
        let mut d = Der::new(value);
        let seq = d.expect(SEQUENCE)?;
        let mut names = Der::new(seq.content);
        while !names.is_empty() {
            let n = names.read()?;
            match n.tag {
                t if t == ctx(1, false) || t == ctx(2, false) => {
                    if !n.content.is_ascii() {
                        return Err("SAN is malformed");
                    }
                    let v = self.s(core::str::from_utf8(n.content).map_err(|_| MALFORMED)?);
                    if t == ctx(1, false) {
                        out.email.push(v);
                    } else {
                        out.dns.push(v);
                    }
                }
                t if t == ctx(6, false) => {
                    let text = core::str::from_utf8(n.content)
                        .ok()
                        .filter(|s| s.is_ascii())
                        .ok_or("SAN uniformResourceIdentifier is malformed")?;
                    out.uri.push(self.url(text)?);
                }
                t if t == ctx(7, false) => out.ip.push(self.ip(n.content)?),
                _ => {}
            }
        }
        Ok(())
    }

    /// Go's JSON for a `*url.URL`.
    fn url(&self, text: &str) -> R<Value<'a>> {
        let u = parse_url(text).ok_or("cannot parse URI")?;
        Ok(object(
            self.arena,
            &[
                ("Scheme", self.s(&u.scheme)),
                ("Opaque", self.s(&u.opaque)),
                ("User", if u.has_user { object(self.arena, &[]) } else { Value::Null }),
                ("Host", self.s(&u.host)),
                ("Path", self.s(&u.path)),
                ("RawPath", self.s("")),
                ("OmitHost", Value::Bool(false)),
                ("ForceQuery", Value::Bool(false)),
                ("RawQuery", self.s(&u.raw_query)),
                ("Fragment", self.s(&u.fragment)),
                ("RawFragment", self.s("")),
            ],
        ))
    }

    /// Extensions as `[{Id, Critical, Value}]`.
    fn extension(&self, e: Tlv<'_>) -> R<(Vec<u32>, bool, Vec<u8>, Value<'a>)> {
        let mut d = Der::new(e.content);
        let oid = parse_oid(d.expect(OID)?.content)?;
        let critical = match d.optional(BOOLEAN)? {
            Some(b) => match b.content {
                [0xff] => true,
                [0x00] => false,
                _ => return Err(MALFORMED),
            },
            None => false,
        };
        let value = d.expect(OCTET_STRING)?.content.to_vec();
        let obj = object(self.arena, &[("Id", self.oid(&oid)), ("Critical", Value::Bool(critical)), ("Value", self.b64(&value))]);
        Ok((oid, critical, value, obj))
    }

    fn certificate(&self, der: &[u8]) -> R<Value<'a>> {
        let mut outer = Der::new(der);
        let cert = outer.expect(SEQUENCE)?;
        if !outer.is_empty() {
            return Err("trailing data");
        }
        let mut c = Der::new(cert.content);
        let tbs = c.expect(SEQUENCE)?;
        let outer_alg = c.expect(SEQUENCE)?;
        let (signature, _) = bit_string(c.expect(BIT_STRING)?.content)?;

        let mut t = Der::new(tbs.content);
        let version = match t.optional(ctx(0, true))? {
            Some(v) => small_int(Der::new(v.content).expect(INTEGER)?.content)?,
            None => 0,
        };
        if !(0..=2).contains(&version) {
            return Err("invalid version");
        }
        let serial = t.expect(INTEGER)?.content;
        if serial.first().is_some_and(|b| b & 0x80 != 0) {
            return Err("negative serial number");
        }
        let inner_alg = t.expect(SEQUENCE)?;
        if inner_alg.full != outer_alg.full {
            return Err("inner and outer signature algorithm identifiers don't match");
        }
        let issuer = t.expect(SEQUENCE)?;
        let validity = t.expect(SEQUENCE)?;
        let mut vd = Der::new(validity.content);
        let not_before = asn1_time(vd.read()?)?;
        let not_after = asn1_time(vd.read()?)?;
        let subject = t.expect(SEQUENCE)?;
        let spki = t.expect(SEQUENCE)?;
        let (algorithm, public_key) = self.rsa_key(spki)?;
        if version > 0 {
            t.optional(ctx(1, false))?;
            t.optional(ctx(2, false))?;
        }
        let mut extensions = Vec::new();
        let mut parsed = Vec::new();
        let mut seen: AHashSet<Vec<u32>> = AHashSet::new();
        if version == 2 {
            if let Some(ext) = t.optional(ctx(3, true))? {
                let mut ed = Der::new(ext.content);
                let list = ed.expect(SEQUENCE)?;
                let mut ld = Der::new(list.content);
                while !ld.is_empty() {
                    let (oid, critical, value, obj) = self.extension(ld.expect(SEQUENCE)?)?;
                    if !seen.insert(oid.clone()) {
                        return Err("certificate contains duplicate extensions");
                    }
                    extensions.push(obj);
                    parsed.push((oid, critical, value));
                }
            }
        }

        let mut key_usage = 0i64;
        let (mut bc_valid, mut is_ca, mut max_path_len, mut max_path_len_zero) = (false, false, 0i64, false);
        let (mut ski, mut aki) = (Value::Null, Value::Null);
        let (mut eku, mut unknown_eku, mut unhandled) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ocsp, mut issuing, mut crldp, mut policies) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut sans = Sans::default();
        let mut nc_critical = false;
        let mut nc: [Vec<Value<'a>>; 8] = Default::default();
        for (oid, critical, value) in &parsed {
            let mut handled = true;
            match oid[..] {
                [2, 5, 29, 15] => {
                    // Go reads the bits left-aligned (`BitString.At`), not right-aligned.
                    let content = Der::new(value).expect(BIT_STRING)?.content;
                    let (_, len) = bit_string(content)?;
                    let bits = content.get(1..).unwrap_or(&[]);
                    for i in 0..9usize {
                        if i < len && bits.get(i / 8).is_some_and(|b| b >> (7 - i % 8) & 1 == 1) {
                            key_usage |= 1 << i;
                        }
                    }
                }
                [2, 5, 29, 19] => {
                    let seq = Der::new(value).expect(SEQUENCE)?;
                    let mut d = Der::new(seq.content);
                    is_ca = match d.optional(BOOLEAN)? {
                        Some(b) => b.content == [0xff],
                        None => false,
                    };
                    max_path_len = match d.optional(INTEGER)? {
                        Some(i) => small_int(i.content)?,
                        None => -1,
                    };
                    bc_valid = true;
                    max_path_len_zero = max_path_len == 0;
                }
                [2, 5, 29, 17] => {
                    self.sans(value, &mut sans)?;
                    handled = !(sans.dns.is_empty() && sans.email.is_empty() && sans.ip.is_empty() && sans.uri.is_empty());
                }
                [2, 5, 29, 30] => {
                    nc_critical = *critical;
                    handled = self.name_constraints(value, &mut nc)?;
                }
                [2, 5, 29, 31] => {
                    let seq = Der::new(value).expect(SEQUENCE)?;
                    let mut d = Der::new(seq.content);
                    while !d.is_empty() {
                        let dp = d.expect(SEQUENCE)?;
                        let mut dd = Der::new(dp.content);
                        let Some(name) = dd.optional(ctx(0, true))? else { continue };
                        let full = Der::new(name.content).expect(ctx(0, true))?;
                        let mut fd = Der::new(full.content);
                        while fd.peek() == Some(ctx(6, false)) {
                            crldp.push(self.s(&String::from_utf8_lossy(fd.read()?.content)));
                        }
                    }
                }
                [2, 5, 29, 35] => {
                    let seq = Der::new(value).expect(SEQUENCE)?;
                    if let Some(id) = Der::new(seq.content).optional(ctx(0, false))? {
                        aki = self.b64(id.content);
                    }
                }
                [2, 5, 29, 37] => {
                    let seq = Der::new(value).expect(SEQUENCE)?;
                    let mut d = Der::new(seq.content);
                    while !d.is_empty() {
                        let o = parse_oid(d.expect(OID)?.content)?;
                        match ext_key_usage(&o) {
                            Some(n) => eku.push(Value::Int(n)),
                            None => unknown_eku.push(self.oid(&o)),
                        }
                    }
                }
                [2, 5, 29, 14] => ski = self.b64(Der::new(value).expect(OCTET_STRING)?.content),
                [2, 5, 29, 32] => {
                    let seq = Der::new(value).expect(SEQUENCE)?;
                    let mut d = Der::new(seq.content);
                    while !d.is_empty() {
                        let info = d.expect(SEQUENCE)?;
                        policies.push(self.oid(&parse_oid(Der::new(info.content).expect(OID)?.content)?));
                    }
                }
                [2, 5, 29, _] => handled = false,
                [1, 3, 6, 1, 5, 5, 7, 1, 1] => {
                    let seq = Der::new(value).expect(SEQUENCE)?;
                    let mut d = Der::new(seq.content);
                    while !d.is_empty() {
                        let desc = d.expect(SEQUENCE)?;
                        let mut dd = Der::new(desc.content);
                        let method = parse_oid(dd.expect(OID)?.content)?;
                        if dd.peek() != Some(ctx(6, false)) {
                            continue;
                        }
                        let url = self.s(&String::from_utf8_lossy(dd.read()?.content));
                        match method[..] {
                            [1, 3, 6, 1, 5, 5, 7, 48, 1] => ocsp.push(url),
                            [1, 3, 6, 1, 5, 5, 7, 48, 2] => issuing.push(url),
                            _ => {}
                        }
                    }
                }
                _ => handled = false,
            }
            if *critical && !handled {
                unhandled.push(self.oid(oid));
            }
        }

        let serial_value = {
            let text = decimal(serial);
            match text.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Float(text.parse::<f64>().unwrap_or(f64::INFINITY)),
            }
        };
        let [pdns, edns, pip, eip, pemail, eemail, puri, euri] = nc;
        Ok(object(
            self.arena,
            &[
                ("Raw", self.b64(cert.full)),
                ("RawTBSCertificate", self.b64(tbs.full)),
                ("RawSubjectPublicKeyInfo", self.b64(spki.full)),
                ("RawSubject", self.b64(subject.full)),
                ("RawIssuer", self.b64(issuer.full)),
                ("Signature", self.b64(&signature)),
                ("SignatureAlgorithm", Value::Int(signature_algorithm(outer_alg)?)),
                ("PublicKeyAlgorithm", Value::Int(algorithm)),
                ("PublicKey", public_key),
                ("Version", Value::Int(version + 1)),
                ("SerialNumber", serial_value),
                ("Issuer", self.name(issuer.content)?),
                ("Subject", self.name(subject.content)?),
                ("NotBefore", self.time(not_before)),
                ("NotAfter", self.time(not_after)),
                ("KeyUsage", Value::Int(key_usage)),
                ("Extensions", self.list(extensions)),
                ("ExtraExtensions", Value::Null),
                ("UnhandledCriticalExtensions", self.list(unhandled)),
                ("ExtKeyUsage", self.list(eku)),
                ("UnknownExtKeyUsage", self.list(unknown_eku)),
                ("BasicConstraintsValid", Value::Bool(bc_valid)),
                ("IsCA", Value::Bool(is_ca)),
                ("MaxPathLen", Value::Int(max_path_len)),
                ("MaxPathLenZero", Value::Bool(max_path_len_zero)),
                ("SubjectKeyId", ski),
                ("AuthorityKeyId", aki),
                ("OCSPServer", self.list(ocsp)),
                ("IssuingCertificateURL", self.list(issuing)),
                ("DNSNames", self.list(sans.dns)),
                ("EmailAddresses", self.list(sans.email)),
                ("IPAddresses", self.list(sans.ip)),
                ("URIs", self.list(sans.uri)),
                ("PermittedDNSDomainsCritical", Value::Bool(nc_critical)),
                ("PermittedDNSDomains", self.list(pdns)),
                ("ExcludedDNSDomains", self.list(edns)),
                ("PermittedIPRanges", self.list(pip)),
                ("ExcludedIPRanges", self.list(eip)),
                ("PermittedEmailAddresses", self.list(pemail)),
                ("ExcludedEmailAddresses", self.list(eemail)),
                ("PermittedURIDomains", self.list(puri)),
                ("ExcludedURIDomains", self.list(euri)),
                ("CRLDistributionPoints", self.list(crldp)),
                ("PolicyIdentifiers", self.list(policies)),
            ],
        ))
    }

    /// Name constraints into (permitted, excluded) × (DNS, IP, email, URI); `false`
    /// when a constraint has a form Go does not handle.
    fn name_constraints(&self, value: &[u8], out: &mut [Vec<Value<'a>>; 8]) -> R<bool> {
        let seq = Der::new(value).expect(SEQUENCE)?;
        let mut d = Der::new(seq.content);
        let mut handled = true;
        for (tag, base) in [(ctx(0, true), 0usize), (ctx(1, true), 1usize)] {
            let Some(subtrees) = d.optional(tag)? else { continue };
            let mut sd = Der::new(subtrees.content);
            while !sd.is_empty() {
                let subtree = sd.expect(SEQUENCE)?;
                let name = Der::new(subtree.content).read()?;
                let text = || String::from_utf8_lossy(name.content).into_owned();
                let (slot, v) = match name.tag {
                    t if t == ctx(2, false) => (0, self.s(&text())),
                    t if t == ctx(7, false) => {
                        let half = name.content.len() / 2;
                        if half != 4 && half != 16 || !name.content.len().is_multiple_of(2) {
                            return Err("invalid IP constraint");
                        }
                        let (ip, mask) = name.content.split_at(half);
                        (2, object(self.arena, &[("IP", self.ip(ip)?), ("Mask", self.b64(mask))]))
                    }
                    t if t == ctx(1, false) => (4, self.s(&text())),
                    t if t == ctx(6, false) => (6, self.s(&text())),
                    _ => {
                        handled = false;
                        continue;
                    }
                };
                if let Some(list) = out.get_mut(slot + base) {
                    list.push(v);
                }
            }
        }
        Ok(handled)
    }

    fn request(&self, der: &[u8]) -> R<Value<'a>> {
        let mut outer = Der::new(der);
        let csr = outer.expect(SEQUENCE)?;
        let mut c = Der::new(csr.content);
        let info = c.expect(SEQUENCE)?;
        let alg = c.expect(SEQUENCE)?;
        let (signature, _) = bit_string(c.expect(BIT_STRING)?.content)?;
        let mut i = Der::new(info.content);
        let version = small_int(i.expect(INTEGER)?.content)?;
        let subject = i.expect(SEQUENCE)?;
        let spki = i.expect(SEQUENCE)?;
        let attrs = i.expect(ctx(0, true))?;
        let (algorithm, public_key) = self.rsa_key(spki)?;

        // Attributes as Go's AttributeTypeAndValueSET (those that do not fit are skipped),
        // and the extensions requested through extensionRequest.
        let mut attributes = Vec::new();
        let mut extensions = Vec::new();
        let mut ext_oids: AHashSet<Vec<u32>> = AHashSet::new();
        let mut sans = Sans::default();
        let mut ad = Der::new(attrs.content);
        while !ad.is_empty() {
            let attr = ad.expect(SEQUENCE)?;
            if let Some(a) = self.attribute(attr.content) {
                attributes.push(a);
            }
            let mut d = Der::new(attr.content);
            let Ok(oid) = d.expect(OID).and_then(|o| parse_oid(o.content)) else { continue };
            let Ok(values) = d.expect(SET) else { continue };
            if oid != [1, 2, 840, 113_549, 1, 9, 14] {
                continue;
            }
            let Ok(first) = Der::new(values.content).read() else { continue };
            if first.tag != SEQUENCE {
                return Err(MALFORMED);
            }
            let mut ed = Der::new(first.content);
            while !ed.is_empty() {
                let (eoid, _, value, obj) = self.extension(ed.expect(SEQUENCE)?)?;
                if eoid == [2, 5, 29, 17] {
                    self.sans(&value, &mut sans)?;
                }
                if !ext_oids.insert(eoid) {
                    return Err("certificate request contains duplicate requested extensions");
                }
                extensions.push(obj);
            }
        }
        Ok(object(
            self.arena,
            &[
                ("Raw", self.b64(csr.full)),
                ("RawTBSCertificateRequest", self.b64(info.full)),
                ("RawSubjectPublicKeyInfo", self.b64(spki.full)),
                ("RawSubject", self.b64(subject.full)),
                ("Version", Value::Int(version)),
                ("Signature", self.b64(&signature)),
                ("SignatureAlgorithm", Value::Int(signature_algorithm(alg)?)),
                ("PublicKeyAlgorithm", Value::Int(algorithm)),
                ("PublicKey", public_key),
                ("Subject", self.name(subject.content)?),
                ("Attributes", self.list(attributes)),
                ("Extensions", self.list(extensions)),
                ("ExtraExtensions", Value::Null),
                ("DNSNames", self.list(sans.dns)),
                ("EmailAddresses", self.list(sans.email)),
                ("IPAddresses", self.list(sans.ip)),
                ("URIs", self.list(sans.uri)),
            ],
        ))
    }

    /// One CSR attribute as `{Type, Value: [[{Type, Value}]]}`, or `None` when it does
    /// not have that shape (Go skips those, e.g. challengePassword).
    fn attribute(&self, content: &[u8]) -> Option<Value<'a>> {
        let mut d = Der::new(content);
        let oid = parse_oid(d.expect(OID).ok()?.content).ok()?;
        let values = d.expect(SET).ok()?;
        if !d.is_empty() {
            return None;
        }
        let mut sets = Vec::new();
        let mut vd = Der::new(values.content);
        while !vd.is_empty() {
            let seq = vd.expect(SEQUENCE).ok()?;
            let mut items = Vec::new();
            let mut sd = Der::new(seq.content);
            while !sd.is_empty() {
                let atv = sd.expect(SEQUENCE).ok()?;
                let mut ad = Der::new(atv.content);
                let t = parse_oid(ad.expect(OID).ok()?.content).ok()?;
                let v = ad.read().ok()?;
                items.push(object(self.arena, &[("Type", self.oid(&t)), ("Value", self.any(v)?)]));
            }
            sets.push(self.list(items).as_array().map_or(Value::Array(&[]), Value::Array));
        }
        Some(object(self.arena, &[("Type", self.oid(&oid)), ("Value", self.list(sets))]))
    }

    /// Go's `asn1` decoding into `interface{}`, then JSON.
    fn any(&self, v: Tlv<'_>) -> Option<Value<'a>> {
        Some(match v.tag {
            0x13 | 0x12 | 0x16 | 0x14 | 0x0c | 0x1e => self.s(&asn1_string(v.tag, v.content).ok()?),
            INTEGER => Value::Int(small_int(v.content).ok()?),
            OCTET_STRING => self.b64(v.content),
            OID => self.oid(&parse_oid(v.content).ok()?),
            BIT_STRING => {
                let (bytes, len) = bit_string(v.content).ok()?;
                object(self.arena, &[("Bytes", self.b64(&bytes)), ("BitLength", Value::Int(len as i64))])
            }
            UTC_TIME | GENERALIZED_TIME => self.time(asn1_time(v).ok()?),
            _ => Value::Null,
        })
    }
}

/// Go's `x509.ExtKeyUsage` numbering.
fn ext_key_usage(oid: &[u32]) -> Option<i64> {
    Some(match oid {
        [2, 5, 29, 37, 0] => 0,
        [1, 3, 6, 1, 5, 5, 7, 3, n @ 1..=9] => i64::from(*n),
        [1, 3, 6, 1, 4, 1, 311, 10, 3, 3] => 10,
        [2, 16, 840, 1, 113_730, 4, 1] => 11,
        [1, 3, 6, 1, 4, 1, 311, 2, 1, 22] => 12,
        [1, 3, 6, 1, 4, 1, 311, 61, 1, 1] => 13,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use bumpalo::Bump;

    use super::super::testing::{call, json, q, run};
    use super::*;

    // Certificates and expected objects from Kyverno's Test_x509Decode
    // (pkg/engine/jmespath/functions_test.go).
    const CERT1: &str = "-----BEGIN CERTIFICATE-----\nMIIC7TCCAdWgAwIBAgIBADANBgkqhkiG9w0BAQsFADAYMRYwFAYDVQQDDA0qLmt5\ndmVybm8uc3ZjMB4XDTIyMDExMTEzMjY0M1oXDTIzMDExMTE0MjY0M1owGDEWMBQG\nA1UEAwwNKi5reXZlcm5vLnN2YzCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoC\nggEBAMsAz85+yino+MmdKsVtHwNi3oAVjumzXHiLfUJK7xi5KU8B7goPHF/VCe/V\n7Y2c4afyfgY2ePw4LxSDkCYNgYwqjSwGIbcsqv5ZRazBdDxR09ri6PknNyBVGLi5\nRlPXIrGQ3psNuf55qwxJxLO31qCZuvktKY5YvuIR4JPmBhuSFXOnn0ZiQw8uxMcQ\n0QA2lz+PxWCVNk9q+31H5DH1oYZDLfU3mijIOA+AJGZbBb+ZwBmpVL0+2TXLxE74\nWowdKEV+WTsKojNTd0VwcuRKRKR/6ynXAAis21y1X7Ui9FJE6mDIylUD40WXOKGJ\n1lYY41kRnYhVhvXYN9JtNYdY3HsCAwEAAaNCMEAwDgYDVR0PAQH/BAQDAgKkMA8G\nA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFOnlASVD9fu3TAjptlW/gAXA4ql+MA0G\nCSqGSIb3DQEBCwUAA4IBAQCIpyRiChxp97crKfQ24Jt7z8P+AGpLf3sX4eL87ESa\n7QRoVJtXLmaut1pUEoYLQruKmh/0YFtZG9WxVgY6iuKbWnu7bOeMB/Ir+V/yrX3R\n+XvZOsuXiJnEbJiBW6lJzLldoW4f/71H+j1WD4tHpqmdMxq/sLqXfPIuc0/m0yFC\nn+ADBWGGB8Nn66vxtv+cT6p+RIVotXPQWbMilWp6pd5wSuB68FqrDwtYLNJtPwFs\n9MPVkuaJdYZ0eWd/rMcKD94Hgf89gvA0+qzMVFf+3BemXskjQRYy6CKsqoyC6jX4\nnhYjumAP/7psbzITsnpHtfCEEU+2JZwgM406aiMcsgLb\n-----END CERTIFICATE-----";
    const CERT1_JSON: &str = r#"{"Raw":"MIIC7TCCAdWgAwIBAgIBADANBgkqhkiG9w0BAQsFADAYMRYwFAYDVQQDDA0qLmt5dmVybm8uc3ZjMB4XDTIyMDExMTEzMjY0M1oXDTIzMDExMTE0MjY0M1owGDEWMBQGA1UEAwwNKi5reXZlcm5vLnN2YzCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAMsAz85+yino+MmdKsVtHwNi3oAVjumzXHiLfUJK7xi5KU8B7goPHF/VCe/V7Y2c4afyfgY2ePw4LxSDkCYNgYwqjSwGIbcsqv5ZRazBdDxR09ri6PknNyBVGLi5RlPXIrGQ3psNuf55qwxJxLO31qCZuvktKY5YvuIR4JPmBhuSFXOnn0ZiQw8uxMcQ0QA2lz+PxWCVNk9q+31H5DH1oYZDLfU3mijIOA+AJGZbBb+ZwBmpVL0+2TXLxE74WowdKEV+WTsKojNTd0VwcuRKRKR/6ynXAAis21y1X7Ui9FJE6mDIylUD40WXOKGJ1lYY41kRnYhVhvXYN9JtNYdY3HsCAwEAAaNCMEAwDgYDVR0PAQH/BAQDAgKkMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFOnlASVD9fu3TAjptlW/gAXA4ql+MA0GCSqGSIb3DQEBCwUAA4IBAQCIpyRiChxp97crKfQ24Jt7z8P+AGpLf3sX4eL87ESa7QRoVJtXLmaut1pUEoYLQruKmh/0YFtZG9WxVgY6iuKbWnu7bOeMB/Ir+V/yrX3R+XvZOsuXiJnEbJiBW6lJzLldoW4f/71H+j1WD4tHpqmdMxq/sLqXfPIuc0/m0yFCn+ADBWGGB8Nn66vxtv+cT6p+RIVotXPQWbMilWp6pd5wSuB68FqrDwtYLNJtPwFs9MPVkuaJdYZ0eWd/rMcKD94Hgf89gvA0+qzMVFf+3BemXskjQRYy6CKsqoyC6jX4nhYjumAP/7psbzITsnpHtfCEEU+2JZwgM406aiMcsgLb","RawTBSCertificate":"MIIB1aADAgECAgEAMA0GCSqGSIb3DQEBCwUAMBgxFjAUBgNVBAMMDSoua3l2ZXJuby5zdmMwHhcNMjIwMTExMTMyNjQzWhcNMjMwMTExMTQyNjQzWjAYMRYwFAYDVQQDDA0qLmt5dmVybm8uc3ZjMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAywDPzn7KKej4yZ0qxW0fA2LegBWO6bNceIt9QkrvGLkpTwHuCg8cX9UJ79XtjZzhp/J+BjZ4/DgvFIOQJg2BjCqNLAYhtyyq/llFrMF0PFHT2uLo+Sc3IFUYuLlGU9cisZDemw25/nmrDEnEs7fWoJm6+S0pjli+4hHgk+YGG5IVc6efRmJDDy7ExxDRADaXP4/FYJU2T2r7fUfkMfWhhkMt9TeaKMg4D4AkZlsFv5nAGalUvT7ZNcvETvhajB0oRX5ZOwqiM1N3RXBy5EpEpH/rKdcACKzbXLVftSL0UkTqYMjKVQPjRZc4oYnWVhjjWRGdiFWG9dg30m01h1jcewIDAQABo0IwQDAOBgNVHQ8BAf8EBAMCAqQwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQU6eUBJUP1+7dMCOm2Vb+ABcDiqX4=","RawSubjectPublicKeyInfo":"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAywDPzn7KKej4yZ0qxW0fA2LegBWO6bNceIt9QkrvGLkpTwHuCg8cX9UJ79XtjZzhp/J+BjZ4/DgvFIOQJg2BjCqNLAYhtyyq/llFrMF0PFHT2uLo+Sc3IFUYuLlGU9cisZDemw25/nmrDEnEs7fWoJm6+S0pjli+4hHgk+YGG5IVc6efRmJDDy7ExxDRADaXP4/FYJU2T2r7fUfkMfWhhkMt9TeaKMg4D4AkZlsFv5nAGalUvT7ZNcvETvhajB0oRX5ZOwqiM1N3RXBy5EpEpH/rKdcACKzbXLVftSL0UkTqYMjKVQPjRZc4oYnWVhjjWRGdiFWG9dg30m01h1jcewIDAQAB","RawSubject":"MBgxFjAUBgNVBAMMDSoua3l2ZXJuby5zdmM=","RawIssuer":"MBgxFjAUBgNVBAMMDSoua3l2ZXJuby5zdmM=","Signature":"iKckYgocafe3Kyn0NuCbe8/D/gBqS397F+Hi/OxEmu0EaFSbVy5mrrdaVBKGC0K7ipof9GBbWRvVsVYGOorim1p7u2znjAfyK/lf8q190fl72TrLl4iZxGyYgVupScy5XaFuH/+9R/o9Vg+LR6apnTMav7C6l3zyLnNP5tMhQp/gAwVhhgfDZ+ur8bb/nE+qfkSFaLVz0FmzIpVqeqXecErgevBaqw8LWCzSbT8BbPTD1ZLmiXWGdHlnf6zHCg/eB4H/PYLwNPqszFRX/twXpl7JI0EWMugirKqMguo1+J4WI7pgD/+6bG8yE7J6R7XwhBFPtiWcIDONOmojHLIC2w==","SignatureAlgorithm":4,"PublicKeyAlgorithm":1,"PublicKey":{"N":"25626776194299809103943925293022478779550111351090439168995035251396620593900589237452364135475983088162735720467798166985191488213022186077349821145857402701723499012699772423162550319145896535355752944351742979794245171828792388153331005254201525593934122190716637483002316913539755904599370968007653484768793099970920881706651907943367212661888776583428009130496820305182341702970575924538413569026902195901329094514102681440057150490032724791460671006772434362132998853498175356133386237155854830546292463707783883111067332118558636600306550854546869660051077649500890548685566726464348535891964886136890236394619","E":65537},"Version":3,"SerialNumber":0,"Issuer":{"Country":null,"Organization":null,"OrganizationalUnit":null,"Locality":null,"Province":null,"StreetAddress":null,"PostalCode":null,"SerialNumber":"","CommonName":"*.kyverno.svc","Names":[{"Type":[2,5,4,3],"Value":"*.kyverno.svc"}],"ExtraNames":null},"Subject":{"Country":null,"Organization":null,"OrganizationalUnit":null,"Locality":null,"Province":null,"StreetAddress":null,"PostalCode":null,"SerialNumber":"","CommonName":"*.kyverno.svc","Names":[{"Type":[2,5,4,3],"Value":"*.kyverno.svc"}],"ExtraNames":null},"NotBefore":"2022-01-11T13:26:43Z","NotAfter":"2023-01-11T14:26:43Z","KeyUsage":37,"Extensions":[{"Id":[2,5,29,15],"Critical":true,"Value":"AwICpA=="},{"Id":[2,5,29,19],"Critical":true,"Value":"MAMBAf8="},{"Id":[2,5,29,14],"Critical":false,"Value":"BBTp5QElQ/X7t0wI6bZVv4AFwOKpfg=="}],"ExtraExtensions":null,"UnhandledCriticalExtensions":null,"ExtKeyUsage":null,"UnknownExtKeyUsage":null,"BasicConstraintsValid":true,"IsCA":true,"MaxPathLen":-1,"MaxPathLenZero":false,"SubjectKeyId":"6eUBJUP1+7dMCOm2Vb+ABcDiqX4=","AuthorityKeyId":null,"OCSPServer":null,"IssuingCertificateURL":null,"DNSNames":null,"EmailAddresses":null,"IPAddresses":null,"URIs":null,"PermittedDNSDomainsCritical":false,"PermittedDNSDomains":null,"ExcludedDNSDomains":null,"PermittedIPRanges":null,"ExcludedIPRanges":null,"PermittedEmailAddresses":null,"ExcludedEmailAddresses":null,"PermittedURIDomains":null,"ExcludedURIDomains":null,"CRLDistributionPoints":null,"PolicyIdentifiers":null}"#;
    const CERT2: &str = "-----BEGIN CERTIFICATE-----\nMIIDSjCCAjKgAwIBAgIUWxmj40l+TDVJq98Xy7c6Leo3np8wDQYJKoZIhvcNAQEL\nBQAwPTELMAkGA1UEBhMCeHgxCjAIBgNVBAgTAXgxCjAIBgNVBAcTAXgxCjAIBgNV\nBAoTAXgxCjAIBgNVBAsTAXgwHhcNMTgwMjAyMTIzODAwWhcNMjMwMjAxMTIzODAw\nWjA9MQswCQYDVQQGEwJ4eDEKMAgGA1UECBMBeDEKMAgGA1UEBxMBeDEKMAgGA1UE\nChMBeDEKMAgGA1UECxMBeDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEB\nANHkqOmVf23KMXdaZU2eFUx1h4wb09JINBB8x/HL7UE0KFJcnOoVnNQB0gRukUop\niYCzrzMFyGWWmB/pAEKool+ZiI2uMy6mcYBDtOi4pOm7U0TQQMV6L/5Yfi65xRz3\nRTMd/tYAoFi4aCZbJAGjxU6UWNYDzTy8E/cP6ZnlNbVHRiA6/wHsoWcXtWTXYP5y\nn9cf7EWQi1hOBM4BWmOIyB1f6LEgQipZWMOMPPHO3hsuSBn0rk7jovSt5XTlbgRr\ntxqAJiNjJUykWzIF+lLnZCioippGv5vkdGvE83JoACXvZTUwzA+MLu49fkw3bweq\nkbhrer8kacjfGlw3aJN37eECAwEAAaNCMEAwDgYDVR0PAQH/BAQDAgEGMA8GA1Ud\nEwEB/wQFMAMBAf8wHQYDVR0OBBYEFKXcb52bv6oqnD+D9fTNFHZL8IWxMA0GCSqG\nSIb3DQEBCwUAA4IBAQADvKvv3ym0XAYwKxPLLl3Lc6sJYHDbTN0donduG7PXeb1d\nhuukJ2lfufUYp2IGSAxuLecTYeeByOVp1gaMb5LsIGt2BVDmlMMkiH29LUHsvbyi\n85CpJo7A5RJG6AWW2VBCiDjz5v8JFM6pMkBRFfXH+pwIge65CE+MTSQcfb1/aIIo\nQ226P7E/3uUGX4k4pDXG/O7GNvykF40v1DB5y7DDBTQ4JWiJfyGkT69TmdOGLFAm\njwxUjWyvEey4qJex/EGEm5RQcMv9iy7tba1wK7sykNGn5uDELGPGIIEAa5rIHm1F\nUFOZZVoELaasWS559wy8og39Eq21dDMynb8Bndn/\n-----END CERTIFICATE-----";
    const CSR: &str = "-----BEGIN CERTIFICATE REQUEST-----\nMIICvDCCAaQCAQAwdzELMAkGA1UEBhMCVVMxDTALBgNVBAgMBFV0YWgxDzANBgNV\nBAcMBkxpbmRvbjEWMBQGA1UECgwNRGlnaUNlcnQgSW5jLjERMA8GA1UECwwIRGln\naUNlcnQxHTAbBgNVBAMMFGV4YW1wbGUuZGlnaWNlcnQuY29tMIIBIjANBgkqhkiG\n9w0BAQEFAAOCAQ8AMIIBCgKCAQEA8+To7d+2kPWeBv/orU3LVbJwDrSQbeKamCmo\nwp5bqDxIwV20zqRb7APUOKYoVEFFOEQs6T6gImnIolhbiH6m4zgZ/CPvWBOkZc+c\n1Po2EmvBz+AD5sBdT5kzGQA6NbWyZGldxRthNLOs1efOhdnWFuhI162qmcflgpiI\nWDuwq4C9f+YkeJhNn9dF5+owm8cOQmDrV8NNdiTqin8q3qYAHHJRW28glJUCZkTZ\nwIaSR6crBQ8TbYNE0dc+Caa3DOIkz1EOsHWzTx+n0zKfqcbgXi4DJx+C1bjptYPR\nBPZL8DAeWuA8ebudVT44yEp82G96/Ggcf7F33xMxe0yc+Xa6owIDAQABoAAwDQYJ\nKoZIhvcNAQEFBQADggEBAB0kcrFccSmFDmxox0Ne01UIqSsDqHgL+XmHTXJwre6D\nhJSZwbvEtOK0G3+dr4Fs11WuUNt5qcLsx5a8uk4G6AKHMzuhLsJ7XZjgmQXGECpY\nQ4mC3yT3ZoCGpIXbw+iP3lmEEXgaQL0Tx5LFl/okKbKYwIqNiyKWOMj7ZR/wxWg/\nZDGRs55xuoeLDJ/ZRFf9bI+IaCUd1YrfYcHIl3G87Av+r49YVwqRDT0VDV7uLgqn\n29XI1PpVUNCPQGn9p/eX6Qo7vpDaPybRtA2R7XLKjQaF9oXWeCUqy1hvJac9QFO2\n97Ob1alpHPoZ7mWiEuJwjBPii6a9M9G30nUo39lBi1w=\n-----END CERTIFICATE REQUEST-----";

    fn decode(pem: &str) -> String {
        run("x509_decode", &[&q(pem)])
    }

    #[test]
    fn certificate_matches_kyverno() {
        let arena = Bump::new();
        let want = json(&arena, CERT1_JSON);
        let got = call(&arena, "x509_decode", &[Value::Str(CERT1)]).unwrap();
        assert_eq!(got.to_string(), want.to_string());
        // Base64-wrapped PEM, as Kyverno's test feeds through base64_decode.
        let wrapped = format!("{CERT1}\n");
        assert_eq!(decode(&wrapped), want.to_string());
    }

    #[test]
    fn certificate_with_subject_fields_and_big_serial() {
        let out = decode(CERT2);
        let serial = format!(r#""SerialNumber":{:?}"#, "520089955419326249038486015063014459614455897759".parse::<f64>().unwrap());
        for fragment in [
            serial.as_str(),
            r#""Country":["xx"],"Organization":["x"],"OrganizationalUnit":["x"],"Locality":["x"],"Province":["x"],"StreetAddress":null"#,
            r#""CommonName":"","Names":[{"Type":[2,5,4,6],"Value":"xx"},{"Type":[2,5,4,8],"Value":"x"},{"Type":[2,5,4,7],"Value":"x"},{"Type":[2,5,4,10],"Value":"x"},{"Type":[2,5,4,11],"Value":"x"}]"#,
            r#""NotBefore":"2018-02-02T12:38:00Z","NotAfter":"2023-02-01T12:38:00Z","KeyUsage":96"#,
            r#""SubjectKeyId":"pdxvnZu/qiqcP4P19M0UdkvwhbE=""#,
            r#""PublicKey":{"N":"26496562094779491076553211809422098021949952483515703281510813808490953126660362388109632773224118754702902108388229193869554055094778177099185065933983949693842239539154549752097759985799130804083586220803335221114269832081649712810220640441076536231140807229028981655981643835428138719795509959624793308640711388215921808921435203036357847686892066058381787405708754578605922703585581205444932036212009496723589206933777338978604488048677611723712498345752655171502746679687404543368933776929978831813434358099337112479727796701588293884856604804625411358577626503349165930794262171211166398339413648296787152727521","E":65537}"#,
        ] {
            assert!(out.contains(fragment), "missing {fragment} in {out}");
        }
    }

    #[test]
    fn certificate_request_matches_kyverno() {
        let out = decode(CSR);
        for fragment in [
            r#""Version":0"#,
            r#""SignatureAlgorithm":3,"PublicKeyAlgorithm":1"#,
            r#""E":65537"#,
            r#""Subject":{"Country":["US"],"Organization":["DigiCert Inc."],"OrganizationalUnit":["DigiCert"],"Locality":["Lindon"],"Province":["Utah"],"StreetAddress":null,"PostalCode":null,"SerialNumber":"","CommonName":"example.digicert.com""#,
            r#""Attributes":null,"Extensions":null,"ExtraExtensions":null,"DNSNames":null,"EmailAddresses":null,"IPAddresses":null,"URIs":null"#,
            r#""RawSubject":"MHcxCzAJBgNVBAYTAlVTMQ0wCwYDVQQIDARVdGFoMQ8wDQYDVQQHDAZMaW5kb24xFjAUBgNVBAoMDURpZ2lDZXJ0IEluYy4xETAPBgNVBAsMCERpZ2lDZXJ0MR0wGwYDVQQDDBRleGFtcGxlLmRpZ2ljZXJ0LmNvbQ==""#,
        ] {
            assert!(out.contains(fragment), "missing {fragment} in {out}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode("xyz"), "error: invalid-value");
        assert_eq!(decode("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"), "error: invalid-value");
        assert_eq!(decode("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"), "error: invalid-value");
        let truncated = CERT1.replace("gLb\n", "\n");
        assert_eq!(decode(&truncated), "error: invalid-value");
    }

    #[test]
    fn pem_skips_leading_text_and_bad_blocks() {
        let text = format!("junk\n-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n{CERT1}");
        assert!(decode(&text).starts_with("{\"Raw\""));
    }

    #[test]
    fn big_decimal() {
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0, 0]), "0");
        assert_eq!(decimal(&[1, 0]), "256");
        assert_eq!(decimal(&[0x3b, 0x9a, 0xca, 0x00]), "1000000000");
        assert_eq!(decimal(&[0xff; 16]), u128::MAX.to_string());
    }
}
