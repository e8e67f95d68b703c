//! The function registry and JMESPath's standard functions.
//!
//! One static table holds every function kyvm knows: the JMESPath specification's
//! built-ins (here) and Kyverno's extensions ([`super::kyverno`]). The parser resolves a
//! call's name to a [`FunctionId`] and checks its arity once; the evaluator checks
//! argument types against [`Function::params`] before calling.
//!
//! The standard functions follow the specification and, where it is silent, go-jmespath
//! (what Kyverno runs): `to_string` writes Go's `encoding/json` text (sorted keys, `1`
//! for an integral float, `1e+21`), `to_number` reads what Go's `strconv.ParseFloat`
//! reads (keeping integers as `Int`), `contains` of a string and a non-string is false,
//! `sort_by`/`min_by`/`max_by` require the expression to give all numbers or all strings.
//! Integral results stay `Int` (`length`, `abs`/`sum` of integers, `ceil`, `floor`).
//!
//! For function authors: arguments arrive type-checked (`&expr` arguments as
//! [`Arg::Expr`], applied with [`Interp::apply`]); results go to [`Interp::arena`]. The
//! evaluator charges each call one step per element (or 16 bytes) of its result and one
//! per 64 bytes of string argument; work beyond that — scans, sorts, serialising nested
//! values — should be paid with [`Interp::charge`], as the functions here do, so that
//! the step budget bounds every evaluation.

use core::cmp::Ordering;
use core::fmt::Write as _;
use std::sync::OnceLock;

use ahash::AHashMap;
use bumpalo::collections::{String as BumpString, Vec as BumpVec};

use super::eval::{compare_numbers, equal, InterpMeter, Meter, MAX_VALUE_DEPTH, SCAN_PER_STEP};
use super::{type_name, Arg, Error, ErrorKind, Interp, NodeId, Types};
use crate::document::{Member, Value};

/// A function's implementation. Arguments have been type-checked against the
/// signature.
pub type FnImpl = for<'a> fn(&mut dyn Interp<'a>, &[Arg<'a>]) -> Result<Value<'a>, Error>;

/// An index into the [`registry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionId(pub u32);

/// A function's signature and implementation.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    /// Accepted types of each parameter.
    pub params: &'static [Types],
    /// The last parameter may repeat (one or more times).
    pub variadic: bool,
    /// The result type, for listings (`kyvm jp function`).
    pub returns: &'static str,
    /// One line on what it does.
    pub doc: &'static str,
    pub call: FnImpl,
}

impl core::fmt::Debug for Function {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.signature())
    }
}

impl Function {
    /// `name(type, type...) -> result`.
    pub fn signature(&self) -> String {
        let mut params: Vec<String> = self.params.iter().map(|t| t.describe()).collect();
        if self.variadic {
            if let Some(last) = params.last_mut() {
                last.push_str("...");
            }
        }
        format!("{}({}) -> {}", self.name, params.join(", "), self.returns)
    }

    /// Does `count` arguments fit the signature?
    pub fn accepts_arity(&self, count: usize) -> bool {
        if self.variadic {
            count >= self.params.len()
        } else {
            count == self.params.len()
        }
    }

    /// The accepted types of argument `index`.
    pub fn param(&self, index: usize) -> Option<Types> {
        match self.params.get(index) {
            Some(t) => Some(*t),
            None if self.variadic => self.params.last().copied(),
            None => None,
        }
    }
}

/// Every function, by name.
#[derive(Debug)]
pub struct Registry {
    functions: Vec<Function>,
    by_name: AHashMap<&'static str, FunctionId>,
}

impl Registry {
    /// A later function of the same name replaces an earlier one, so an extension can
    /// override a standard function.
    fn new(functions: Vec<Function>) -> Registry {
        let by_name = functions.iter().enumerate().map(|(i, f)| (f.name, FunctionId(i as u32))).collect();
        Registry { functions, by_name }
    }

    pub fn lookup(&self, name: &str) -> Option<FunctionId> {
        self.by_name.get(name).copied()
    }

    pub fn get(&self, id: FunctionId) -> Option<&Function> {
        self.functions.get(id.0 as usize)
    }

    /// Every function callable by name (not the ones replaced by a later function of the
    /// same name), sorted by name.
    pub fn all(&self) -> Vec<&Function> {
        let mut v: Vec<&Function> = self.by_name.values().filter_map(|id| self.get(*id)).collect();
        v.sort_by_key(|f| f.name);
        v
    }
}

/// The registry: JMESPath's standard functions and Kyverno's.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut all = standard();
        all.extend(super::kyverno::functions());
        Registry::new(all)
    })
}

const NUMBER: &[Types] = &[Types::NUMBER];
const ANY: &[Types] = &[Types::ANY];
const OBJECT: &[Types] = &[Types::OBJECT];
const STRING_STRING: &[Types] = &[Types::STRING, Types::STRING];
const ARRAY_NUMBER: &[Types] = &[Types::ARRAY_NUMBER];
const SORTABLE: &[Types] = &[Types::ARRAY_NUMBER.or(Types::ARRAY_STRING)];
const ARRAY_EXPREF: &[Types] = &[Types::ARRAY, Types::EXPREF];
const CONTAINS: &[Types] = &[Types::ARRAY.or(Types::STRING), Types::ANY];
const SIZED: &[Types] = &[Types::STRING.or(Types::ARRAY).or(Types::OBJECT)];
const REVERSIBLE: &[Types] = &[Types::STRING.or(Types::ARRAY)];

/// JMESPath's standard functions (the specification's built-ins).
pub fn standard() -> Vec<Function> {
    let f = |name, params, variadic, returns, doc, call| Function { name, params, variadic, returns, doc, call };
    vec![
        f("abs", NUMBER, false, "number", "The absolute value of a number.", abs),
        f("avg", ARRAY_NUMBER, false, "number", "The average of an array of numbers (null when empty).", avg),
        f("ceil", NUMBER, false, "number", "The smallest integer not below a number.", ceil),
        f(
            "contains",
            CONTAINS,
            false,
            "boolean",
            "Whether an array has an element equal to the value, or a string contains the substring.",
            contains,
        ),
        f("ends_with", STRING_STRING, false, "boolean", "Whether the string ends with the suffix.", ends_with),
        f("floor", NUMBER, false, "number", "The largest integer not above a number.", floor),
        f("join", &[Types::STRING, Types::ARRAY_STRING], false, "string", "The strings of an array joined by a separator.", join),
        f("keys", OBJECT, false, "array[string]", "The keys of an object.", keys),
        f("length", SIZED, false, "number", "The number of characters of a string, elements of an array or members of an object.", length),
        f("map", &[Types::EXPREF, Types::ARRAY], false, "array", "The expression applied to each element of an array.", map),
        f("max", SORTABLE, false, "number|string", "The largest number or string of an array (null when empty).", max),
        f("max_by", ARRAY_EXPREF, false, "any", "The element whose expression value is largest (null when empty).", max_by),
        f("merge", OBJECT, true, "object", "The objects merged left to right; later members win.", merge),
        f("min", SORTABLE, false, "number|string", "The smallest number or string of an array (null when empty).", min),
        f("min_by", ARRAY_EXPREF, false, "any", "The element whose expression value is smallest (null when empty).", min_by),
        f("not_null", ANY, true, "any", "The first argument that is not null (null if none).", not_null),
        f("reverse", REVERSIBLE, false, "string|array", "A string or array in reverse order.", reverse),
        f("sort", SORTABLE, false, "array", "An array of numbers or of strings in ascending order.", sort),
        f("sort_by", ARRAY_EXPREF, false, "array", "An array sorted (stably) by an expression's value.", sort_by),
        f("starts_with", STRING_STRING, false, "boolean", "Whether the string starts with the prefix.", starts_with),
        f("sum", ARRAY_NUMBER, false, "number", "The sum of an array of numbers (0 when empty).", sum),
        f("to_array", ANY, false, "array", "An array as is; any other value as a one-element array.", to_array),
        f("to_number", ANY, false, "number", "A number as is, a numeric string parsed; null otherwise.", to_number),
        f("to_string", ANY, false, "string", "A string as is; any other value as JSON text.", to_string),
        f("type", ANY, false, "string", "The JMESPath type name of a value.", type_of),
        f("values", OBJECT, false, "array", "The values of an object.", values),
    ]
}

/// Argument `i` as a value (null when missing or an expression reference).
pub fn value_arg<'a>(args: &[Arg<'a>], i: usize) -> Value<'a> {
    args.get(i).map_or(Value::Null, Arg::value)
}

/// Argument `i` as an expression reference.
pub fn expr_arg(args: &[Arg<'_>], i: usize, function: &str) -> Result<NodeId, Error> {
    match args.get(i) {
        Some(Arg::Expr(e)) => Ok(*e),
        _ => Err(Error::new(ErrorKind::InvalidType, format!("{function}(): argument {} must be an expression", i + 1))),
    }
}

fn array_arg<'a>(args: &[Arg<'a>], i: usize) -> &'a [Value<'a>] {
    value_arg(args, i).as_array().unwrap_or(&[])
}

fn str_arg<'a>(args: &[Arg<'a>], i: usize) -> &'a str {
    value_arg(args, i).as_str().unwrap_or("")
}

/// An integral float as `Int` when it fits, else as is.
fn integral(f: f64) -> Value<'static> {
    // -2^63 and 2^63: every float strictly between them truncates into i64.
    if f.is_finite() && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

fn as_f64(v: &Value<'_>) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Steps for sorting `n` elements: n·log2(n).
fn sort_cost(n: usize) -> u64 {
    (n as u64).saturating_mul(u64::from(usize::BITS - n.leading_zeros()))
}

fn abs<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(match value_arg(args, 0) {
        Value::Int(i) => i.checked_abs().map_or(Value::Float((i as f64).abs()), Value::Int),
        Value::Float(f) => Value::Float(f.abs()),
        other => other,
    })
}

fn avg<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let items = array_arg(args, 0);
    if items.is_empty() {
        return Ok(Value::Null);
    }
    let total: f64 = items.iter().map(as_f64).sum();
    Ok(Value::Float(total / items.len() as f64))
}

fn ceil<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(match value_arg(args, 0) {
        Value::Float(f) => integral(f.ceil()),
        other => other,
    })
}

fn floor<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(match value_arg(args, 0) {
        Value::Float(f) => integral(f.floor()),
        other => other,
    })
}

fn contains<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let needle = value_arg(args, 1);
    Ok(Value::Bool(match value_arg(args, 0) {
        Value::Str(s) => match needle {
            Value::Str(t) => {
                interp.charge((s.len() / 16) as u64)?;
                s.contains(t)
            }
            _ => false,
        },
        Value::Array(items) => {
            let mut meter = InterpMeter(interp);
            let mut found = false;
            for item in items {
                if equal(*item, needle, &mut meter)? {
                    found = true;
                    break;
                }
            }
            found
        }
        _ => false,
    }))
}

fn ends_with<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(Value::Bool(str_arg(args, 0).ends_with(str_arg(args, 1))))
}

fn starts_with<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(Value::Bool(str_arg(args, 0).starts_with(str_arg(args, 1))))
}

fn join<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let sep = str_arg(args, 0);
    let items = array_arg(args, 1);
    let strs = || items.iter().filter_map(Value::as_str);
    let len = strs().map(str::len).sum::<usize>() + sep.len() * items.len().saturating_sub(1);
    interp.charge((len / 16) as u64)?;
    let mut out = BumpString::with_capacity_in(len, interp.arena());
    for (i, s) in strs().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(s);
    }
    Ok(Value::Str(out.into_bump_str()))
}

fn keys<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let members = value_arg(args, 0).as_object().unwrap_or(&[]);
    Ok(Value::Array(interp.arena().alloc_slice_fill_iter(members.iter().map(|m| Value::Str(m.key)))))
}

fn values<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let members = value_arg(args, 0).as_object().unwrap_or(&[]);
    Ok(Value::Array(interp.arena().alloc_slice_fill_iter(members.iter().map(|m| m.value))))
}

fn length<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let n = match value_arg(args, 0) {
        Value::Str(s) => s.chars().count(),
        Value::Array(items) => items.len(),
        Value::Object(members) => members.len(),
        _ => 0,
    };
    Ok(Value::Int(n as i64))
}

fn map<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let expr = expr_arg(args, 0, "map")?;
    let items = array_arg(args, 1);
    let mut out = BumpVec::with_capacity_in(items.len(), interp.arena());
    for item in items {
        out.push(interp.apply(expr, *item)?);
    }
    Ok(Value::Array(out.into_bump_slice()))
}

/// Orders two numbers or two strings (the caller checked they are of one kind).
fn order(a: &Value<'_>, b: &Value<'_>) -> Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        _ => compare_numbers(a, b).unwrap_or(Ordering::Equal),
    }
}

/// The index of the first largest (`want` Greater) or smallest (Less) element.
fn extreme(items: &[Value<'_>], want: Ordering) -> Option<usize> {
    let mut best: Option<(usize, &Value<'_>)> = None;
    for (i, item) in items.iter().enumerate() {
        match best {
            Some((_, b)) if order(item, b) != want => {}
            _ => best = Some((i, item)),
        }
    }
    best.map(|(i, _)| i)
}

/// Steps for comparing the strings of `items` with each other about `rounds` times each.
fn string_cost(items: &[Value<'_>], rounds: u64) -> u64 {
    let bytes: usize = items.iter().filter_map(Value::as_str).map(str::len).sum();
    ((bytes / SCAN_PER_STEP) as u64).saturating_mul(rounds)
}

fn max<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let items = array_arg(args, 0);
    interp.charge(string_cost(items, 1))?;
    Ok(extreme(items, Ordering::Greater).and_then(|i| items.get(i)).copied().unwrap_or(Value::Null))
}

fn min<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let items = array_arg(args, 0);
    interp.charge(string_cost(items, 1))?;
    Ok(extreme(items, Ordering::Less).and_then(|i| items.get(i)).copied().unwrap_or(Value::Null))
}

/// The expression's value for each element: all numbers or all strings, else
/// `invalid-type`.
fn sort_keys<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>], function: &str) -> Result<BumpVec<'a, Value<'a>>, Error> {
    let expr = expr_arg(args, 1, function)?;
    let items = array_arg(args, 0);
    let mut keys = BumpVec::with_capacity_in(items.len(), interp.arena());
    let mut kind: Option<&'static str> = None;
    for item in items {
        let key = interp.apply(expr, *item)?;
        let this = match key {
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidType,
                    format!("{function}(): the expression must give numbers or strings, got {}", type_name(&other)),
                ))
            }
        };
        match kind {
            Some(k) if k != this => {
                return Err(Error::new(ErrorKind::InvalidType, format!("{function}(): the expression gave both numbers and strings")))
            }
            _ => kind = Some(this),
        }
        keys.push(key);
    }
    Ok(keys)
}

fn max_by<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let keys = sort_keys(interp, args, "max_by")?;
    interp.charge(string_cost(&keys, 1))?;
    Ok(extreme(&keys, Ordering::Greater).and_then(|i| array_arg(args, 0).get(i)).copied().unwrap_or(Value::Null))
}

fn min_by<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let keys = sort_keys(interp, args, "min_by")?;
    interp.charge(string_cost(&keys, 1))?;
    Ok(extreme(&keys, Ordering::Less).and_then(|i| array_arg(args, 0).get(i)).copied().unwrap_or(Value::Null))
}

/// Arrays up to this length are sorted by insertion (stable, no index table).
const SMALL_SORT: usize = 24;

/// Sorts `v` stably by insertion: quadratic, for [`SMALL_SORT`] elements at most.
fn insertion_sort<T: Copy>(v: &mut [T], greater: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 {
            match (v.get(j - 1), v.get(j)) {
                (Some(a), Some(b)) if greater(a, b) => v.swap(j - 1, j),
                _ => break,
            }
            j -= 1;
        }
    }
}

/// `items` reordered by `keys` (same length), stably, without touching the global heap
/// (small arrays by insertion, larger ones by `sort_unstable_by` on indices with the
/// index as tie-breaker).
fn sorted_by<'a>(interp: &mut dyn Interp<'a>, items: &'a [Value<'a>], keys: &[Value<'a>]) -> Result<Value<'a>, Error> {
    interp.charge(sort_cost(items.len()))?;
    interp.charge(string_cost(keys, u64::from(usize::BITS - items.len().leading_zeros())))?;
    let arena = interp.arena();
    if items.len() <= SMALL_SORT && keys.len() == items.len() {
        let pairs = arena.alloc_slice_fill_iter(keys.iter().copied().zip(items.iter().copied()));
        insertion_sort(pairs, |a, b| order(&a.0, &b.0) == Ordering::Greater);
        return Ok(Value::Array(arena.alloc_slice_fill_iter(pairs.iter().map(|p| p.1))));
    }
    let mut order_idx = BumpVec::from_iter_in(0..items.len(), arena);
    order_idx.sort_unstable_by(|&i, &j| match (keys.get(i), keys.get(j)) {
        (Some(a), Some(b)) => order(a, b).then(i.cmp(&j)),
        _ => i.cmp(&j),
    });
    let out = BumpVec::from_iter_in(order_idx.iter().filter_map(|&i| items.get(i).copied()), arena);
    Ok(Value::Array(out.into_bump_slice()))
}

fn sort<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let items = array_arg(args, 0);
    if items.len() <= SMALL_SORT {
        interp.charge(sort_cost(items.len()))?;
        interp.charge(string_cost(items, u64::from(usize::BITS - items.len().leading_zeros())))?;
        let out = interp.arena().alloc_slice_copy(items);
        insertion_sort(out, |a, b| order(a, b) == Ordering::Greater);
        return Ok(Value::Array(out));
    }
    sorted_by(interp, items, items)
}

fn sort_by<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let keys = sort_keys(interp, args, "sort_by")?;
    sorted_by(interp, array_arg(args, 0), &keys)
}

fn merge<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let objects = || args.iter().filter_map(|a| a.value().as_object());
    if let [Arg::Value(single)] = args {
        return Ok(*single);
    }
    let total = objects().map(<[Member<'a>]>::len).sum();
    let mut out: BumpVec<'a, Member<'a>> = BumpVec::with_capacity_in(total, interp.arena());
    for (i, members) in objects().enumerate() {
        if i == 0 {
            out.extend_from_slice(members);
            continue;
        }
        for m in members {
            interp.charge(1 + (out.len() / 8) as u64)?;
            match out.iter_mut().find(|o| o.key == m.key) {
                Some(o) => o.value = m.value,
                None => out.push(*m),
            }
        }
    }
    Ok(Value::Object(out.into_bump_slice()))
}

fn not_null<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(args.iter().map(Arg::value).find(|v| !v.is_null()).unwrap_or(Value::Null))
}

fn reverse<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let arena = interp.arena();
    Ok(match value_arg(args, 0) {
        Value::Str(s) => {
            let mut out = BumpString::with_capacity_in(s.len(), arena);
            out.extend(s.chars().rev());
            Value::Str(out.into_bump_str())
        }
        Value::Array(items) => Value::Array(BumpVec::from_iter_in(items.iter().rev().copied(), arena).into_bump_slice()),
        other => other,
    })
}

fn sum<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let items = array_arg(args, 0);
    let mut int: Option<i64> = Some(0);
    for item in items {
        int = match (int, item) {
            (Some(acc), Value::Int(i)) => acc.checked_add(*i),
            _ => None,
        };
    }
    if let Some(total) = int {
        return Ok(Value::Int(total));
    }
    // Left to right, as the reference implementation adds.
    Ok(Value::Float(items.iter().fold(0.0, |acc, v| acc + as_f64(v))))
}

fn to_array<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(match value_arg(args, 0) {
        Value::Array(items) => Value::Array(items),
        other => Value::Array(interp.arena().alloc_slice_copy(&[other])),
    })
}

fn to_number<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(match value_arg(args, 0) {
        v @ (Value::Int(_) | Value::Float(_)) => v,
        Value::Str(s) => parse_number(s),
        _ => Value::Null,
    })
}

/// A number in a string: an integer that fits `i64` stays one; anything Go's
/// `strconv.ParseFloat` reads as a finite number becomes a float; otherwise null.
pub fn parse_number(s: &str) -> Value<'static> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = s.parse::<i64>() {
            return Value::Int(i);
        }
    }
    // Rust and Go both read `1.`, `.5`, `+1`, `1e5`; reject the named non-finite forms
    // (`inf`, `NaN`) and overflow, which Go reports as errors or which JSON cannot hold.
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => Value::Float(f),
        _ => Value::Null,
    }
}

fn to_string<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    match value_arg(args, 0) {
        Value::Str(s) => Ok(Value::Str(s)),
        other => json_text(interp, other).map(Value::Str),
    }
}

fn type_of<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    Ok(Value::Str(type_name(&value_arg(args, 0))))
}

/// `v` as JSON text the way Go's `encoding/json` writes it (what Kyverno's `to_string`
/// returns): compact, object keys sorted, numbers in Go's shortest form (`1`, `1.5`,
/// `1e+21`, `1e-7`), `<`, `>`, `&`, U+2028 and U+2029 escaped. Allocated in the arena;
/// each node costs a step.
pub fn json_text<'a>(interp: &mut dyn Interp<'a>, v: Value<'a>) -> Result<&'a str, Error> {
    let arena = interp.arena();
    let mut out = BumpString::new_in(arena);
    write_json(&mut out, v, &mut InterpMeter(interp), 0)?;
    Ok(out.into_bump_str())
}

fn write_json<'a>(out: &mut BumpString<'a>, v: Value<'a>, meter: &mut dyn Meter, depth: usize) -> Result<(), Error> {
    meter.charge(1)?;
    if depth > MAX_VALUE_DEPTH {
        return Err(Error::new(ErrorKind::Limit, "value nested too deeply"));
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => write_go_float(out, f),
        Value::Str(s) => {
            meter.charge((s.len() / 16) as u64)?;
            write_go_string(out, s);
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, *item, meter, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            let arena = out.bump();
            let mut sorted = BumpVec::from_iter_in(members.iter(), arena);
            meter.charge(sort_cost(sorted.len()))?;
            sorted.sort_unstable_by(|a, b| a.key.cmp(b.key));
            out.push('{');
            for (i, m) in sorted.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(out, m.key);
                out.push(':');
                write_json(out, m.value, meter, depth + 1)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Go's `encoding/json` float format: `strconv` shortest digits, fixed notation for
/// magnitudes in [1e-6, 1e21), else exponent notation with at least one exponent digit
/// and an explicit sign (`1e+21`, `1.5e-7`). Non-finite numbers (which JSON cannot hold)
/// are written as `null`.
pub fn write_go_float(out: &mut impl core::fmt::Write, f: f64) {
    if !f.is_finite() {
        let _ = out.write_str("null");
        return;
    }
    let a = f.abs();
    if a == 0.0 || (1e-6..1e21).contains(&a) {
        // Rust's `Display` is the shortest round-trip form, never with an exponent.
        let _ = write!(out, "{f}");
        return;
    }
    let mut buf = crate::gofmt::StackStr::<40>::new();
    let _ = write!(buf, "{f:e}");
    let text = buf.as_str();
    match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => {
            let _ = write!(out, "{mantissa}e+{exp}");
        }
        _ => {
            let _ = out.write_str(text);
        }
    }
}

/// A JSON string the way Go's `encoding/json` escapes it (HTML-safe).
fn write_go_string(out: &mut BumpString<'_>, s: &str) {
    out.push('"');
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => Some(""),
            _ => None,
        };
        let Some(escape) = escape else { continue };
        out.push_str(s.get(run_start..i).unwrap_or(""));
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escape);
        }
        run_start = i + c.len_utf8();
    }
    out.push_str(s.get(run_start..).unwrap_or(""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go_float(f: f64) -> String {
        let mut s = String::new();
        write_go_float(&mut s, f);
        s
    }

    #[test]
    fn floats_format_like_go_encoding_json() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(1.2), "1.2");
        assert_eq!(go_float(-1.5), "-1.5");
        assert_eq!(go_float(0.0), "0");
        assert_eq!(go_float(1e20), "100000000000000000000");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1.5e300), "1.5e+300");
        assert_eq!(go_float(0.000001), "0.000001");
        assert_eq!(go_float(1e-7), "1e-7");
        assert_eq!(go_float(-2.5e-10), "-2.5e-10");
        assert_eq!(go_float(f64::NAN), "null");
    }

    #[test]
    fn strings_escape_like_go_encoding_json() {
        let arena = bumpalo::Bump::new();
        let mut out = BumpString::new_in(&arena);
        write_go_string(&mut out, "a\"b\\c\n<&>\u{1}\u{8}\u{2028}é😀");
        assert_eq!(out.as_str(), r#""a\"b\\c\n\u003c\u0026\u003e\u0001\b\u2028é😀""#);
    }

    #[test]
    fn numbers_parse_like_to_number() {
        assert_eq!(parse_number("4"), Value::Int(4));
        assert_eq!(parse_number("-4"), Value::Int(-4));
        assert_eq!(parse_number("1.0"), Value::Float(1.0));
        assert_eq!(parse_number("1e21"), Value::Float(1e21));
        assert_eq!(parse_number("99999999999999999999"), Value::Float(1e20));
        for bad in ["", "-", "abc", "1x", "inf", "NaN", "1e400", " 1"] {
            assert_eq!(parse_number(bad), Value::Null, "{bad:?}");
        }
    }

    #[test]
    fn every_standard_function_is_registered_once() {
        let names: Vec<&str> = standard().iter().map(|f| f.name).collect();
        assert_eq!(names.len(), 26);
        for name in names {
            assert!(registry().lookup(name).is_some(), "{name}");
        }
        let sig = registry().get(registry().lookup("merge").unwrap()).unwrap().signature();
        assert_eq!(sig, "merge(object...) -> object");
    }
}
