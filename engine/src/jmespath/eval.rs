//! Evaluation of an [`Expression`] over arena documents, and JMESPath's value rules
//! (truthiness, equality, ordering).
//!
//! Last stage of the JMESPath pipeline. The evaluator walks the node table directly:
//! field access, indexing, comparisons and filters return values that already exist
//! (pointers into the document) and allocate nothing; only new arrays, objects and
//! strings (projections, multi-selects, function results, constants the first time they
//! are used) go to the caller's arena — never to the global heap.
//!
//! Bounds: every node visited costs one step of [`Env::steps_left`], and so does every
//! element a projection, flatten or slice copies, every node a deep comparison visits and
//! every element of a function's result; at zero evaluation stops with
//! [`ErrorKind::Limit`]. Recursion follows the node tree, whose height the parser bounded;
//! recursion over values (deep equality, JSON text) stops at [`MAX_VALUE_DEPTH`].

use core::cmp::Ordering;

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use super::ast::{CompareOp, ConstId, Expression, Literal, Node, NodeId, Span};
use super::functions::{registry, FunctionId};
use super::{type_name, Arg, Env, Error, ErrorKind, Interp, Types};
use crate::document::{Member, Value};

/// Deepest value that deep equality and JSON text will descend into. Decoded documents
/// are far shallower (see [`crate::Limits::max_depth`]); only values an expression nests
/// on purpose (`[@] | [@] | ...`) get here.
pub const MAX_VALUE_DEPTH: usize = 512;

/// Object members scanned, or string bytes compared, per step.
pub(crate) const SCAN_PER_STEP: usize = 64;

/// Arguments passed without touching the arena.
const INLINE_ARGS: usize = 8;

impl Expression {
    /// Evaluates the expression against `input`.
    ///
    /// New values are allocated in `env.arena`. Steps are taken from `env.steps_left`,
    /// which holds what is left afterwards (on error too).
    pub fn evaluate<'a>(&self, input: Value<'a>, env: &mut Env<'a>) -> Result<Value<'a>, Error> {
        let mut ev = Evaluator {
            expr: self,
            arena: env.arena,
            steps: env.steps_left,
            now: env.now_unix_nanos,
            depth: 0,
            max_depth: self.height.saturating_add(2),
            consts: None,
        };
        let result = ev.eval(self.root, input);
        env.steps_left = ev.steps;
        result
    }
}

#[cold]
fn limit() -> Error {
    Error::new(ErrorKind::Limit, "evaluation step budget exhausted")
}

fn too_deep() -> Error {
    Error::new(ErrorKind::Limit, "value nested too deeply")
}

/// Something that pays for work in steps.
pub(crate) trait Meter {
    fn charge(&mut self, steps: u64) -> Result<(), Error>;
}

impl Meter for u64 {
    #[inline]
    fn charge(&mut self, steps: u64) -> Result<(), Error> {
        match self.checked_sub(steps) {
            Some(left) => {
                *self = left;
                Ok(())
            }
            None => {
                *self = 0;
                Err(limit())
            }
        }
    }
}

/// Pays through a function's [`Interp`].
pub(crate) struct InterpMeter<'i, 'a>(pub &'i mut dyn Interp<'a>);

impl Meter for InterpMeter<'_, '_> {
    fn charge(&mut self, steps: u64) -> Result<(), Error> {
        self.0.charge(steps)
    }
}

/// The state of one evaluation; functions see it as [`Interp`].
struct Evaluator<'e, 'a> {
    expr: &'e Expression,
    arena: &'a Bump,
    steps: u64,
    now: Option<i128>,
    /// Current recursion depth of [`Evaluator::eval`], bounded by the tree height
    /// (a guard against function implementations that apply the wrong node).
    depth: u32,
    max_depth: u32,
    /// Constants copied into the arena, by [`ConstId`], filled on first use.
    consts: Option<BumpVec<'a, Option<Value<'a>>>>,
}

/// A comparison operand: a value, or a string constant compared in place.
#[derive(Clone, Copy)]
enum Operand<'e, 'a> {
    Value(Value<'a>),
    Str(&'e str),
}

impl<'e, 'a> Evaluator<'e, 'a> {
    #[inline(always)]
    fn step(&mut self) -> Result<(), Error> {
        if self.steps == 0 {
            return Err(limit());
        }
        self.steps -= 1;
        Ok(())
    }

    fn eval(&mut self, id: NodeId, v: Value<'a>) -> Result<Value<'a>, Error> {
        self.step()?;
        if self.depth >= self.max_depth {
            return Err(Error::new(ErrorKind::Limit, "evaluation nested too deeply"));
        }
        self.depth += 1;
        let result = self.eval_node(id, v);
        self.depth -= 1;
        result
    }

    fn eval_node(&mut self, id: NodeId, v: Value<'a>) -> Result<Value<'a>, Error> {
        let expr = self.expr;
        let Some(node) = expr.node(id) else {
            return Err(Error::new(ErrorKind::InvalidValue, "expression reference to a missing node"));
        };
        match *node {
            Node::Current => Ok(v),
            Node::Field(name) => self.field(v, expr.name_bytes(name)),
            Node::Index(i) => Ok(index(v, i)),
            Node::Literal(c) => self.constant(c),
            Node::Chain(span) => self.chain(span, v),
            Node::Project { lhs, rhs } => match self.eval(lhs, v)? {
                Value::Array(items) => self.project(items, rhs),
                _ => Ok(Value::Null),
            },
            Node::ProjectValues { lhs, rhs } => match self.eval(lhs, v)? {
                Value::Object(members) => self.project_values(members, rhs),
                _ => Ok(Value::Null),
            },
            Node::Flatten(inner) => match self.eval(inner, v)? {
                Value::Array(items) => self.flatten(items),
                _ => Ok(Value::Null),
            },
            Node::Filter { lhs, cond, rhs } => match self.eval(lhs, v)? {
                Value::Array(items) => self.filter(items, cond, rhs),
                _ => Ok(Value::Null),
            },
            Node::Slice(index) => match (v, expr.slice(index)) {
                (Value::Array(items), Some(s)) => self.slice(items, s.start, s.stop, s.step),
                _ => Ok(Value::Null),
            },
            Node::MultiList(span) => self.multi_list(span, v),
            Node::MultiHash { entries, members } => self.multi_hash(entries, members, v),
            Node::Compare { op, lhs, rhs } => self.compare(op, lhs, rhs, v),
            Node::And(span) => {
                let mut last = Value::Null;
                for child in expr.children(span) {
                    last = self.eval(*child, v)?;
                    if !is_truthy(&last) {
                        break;
                    }
                }
                Ok(last)
            }
            Node::Or(span) => {
                let mut last = Value::Null;
                for child in expr.children(span) {
                    last = self.eval(*child, v)?;
                    if is_truthy(&last) {
                        break;
                    }
                }
                Ok(last)
            }
            Node::Not(inner) => Ok(Value::Bool(!is_truthy(&self.eval(inner, v)?))),
            Node::Call { function, args } => self.call(function, args, v),
            Node::ExprRef(_) => {
                Err(Error::new(ErrorKind::InvalidType, "an expression reference (`&expr`) is only valid as a function argument"))
            }
        }
    }

    /// Each child applied to the previous one's result. Field steps, the bulk of every
    /// chain, are taken in place ([`Evaluator::field`] inlined by hand: this loop is the
    /// hottest code of the evaluator).
    #[inline(never)]
    fn chain(&mut self, span: Span, v: Value<'a>) -> Result<Value<'a>, Error> {
        let expr = self.expr;
        let mut cur = v;
        for child in expr.children(span) {
            if let Some(Node::Field(name)) = expr.node(*child) {
                if self.steps == 0 {
                    return Err(limit());
                }
                self.steps -= 1;
                cur = match cur {
                    Value::Object(members) => {
                        if members.len() > SCAN_PER_STEP {
                            self.charge_scan(members.len())?;
                        }
                        lookup(members, expr.name_bytes(*name))
                    }
                    _ => Value::Null,
                };
            } else {
                cur = self.eval(*child, cur)?;
            }
        }
        Ok(cur)
    }

    /// The member `name` of an object (null for anything else). The lookup scans the
    /// members, so a large object costs more than one step.
    #[inline(always)]
    fn field(&mut self, v: Value<'a>, name: &[u8]) -> Result<Value<'a>, Error> {
        let Value::Object(members) = v else {
            return Ok(Value::Null);
        };
        if members.len() > SCAN_PER_STEP {
            self.charge_scan(members.len())?;
        }
        Ok(lookup(members, name))
    }

    #[cold]
    #[inline(never)]
    fn charge_scan(&mut self, len: usize) -> Result<(), Error> {
        self.steps.charge((len / SCAN_PER_STEP) as u64)
    }

    fn is_current(&self, id: NodeId) -> bool {
        matches!(self.expr.node(id), Some(Node::Current))
    }

    /// Applies `rhs` to each element, keeping the non-null results.
    #[inline(never)]
    fn project(&mut self, items: &'a [Value<'a>], rhs: NodeId) -> Result<Value<'a>, Error> {
        if self.is_current(rhs) {
            self.steps.charge(items.len() as u64)?;
            if !items.iter().any(Value::is_null) {
                return Ok(Value::Array(items));
            }
            let mut out = BumpVec::with_capacity_in(items.len(), self.arena);
            out.extend(items.iter().filter(|v| !v.is_null()).copied());
            return Ok(Value::Array(out.into_bump_slice()));
        }
        let mut out = BumpVec::with_capacity_in(items.len(), self.arena);
        for item in items {
            let r = self.eval(rhs, *item)?;
            if !r.is_null() {
                out.push(r);
            }
        }
        Ok(Value::Array(out.into_bump_slice()))
    }

    #[inline(never)]
    fn project_values(&mut self, members: &'a [Member<'a>], rhs: NodeId) -> Result<Value<'a>, Error> {
        let current = self.is_current(rhs);
        let mut out = BumpVec::with_capacity_in(members.len(), self.arena);
        for m in members {
            let r = if current {
                self.step()?;
                m.value
            } else {
                self.eval(rhs, m.value)?
            };
            if !r.is_null() {
                out.push(r);
            }
        }
        Ok(Value::Array(out.into_bump_slice()))
    }

    #[inline(never)]
    fn flatten(&mut self, items: &'a [Value<'a>]) -> Result<Value<'a>, Error> {
        let mut total = 0usize;
        let mut nested = false;
        for item in items {
            match item {
                Value::Array(inner) => {
                    nested = true;
                    total += inner.len();
                }
                _ => total += 1,
            }
        }
        self.steps.charge(total as u64)?;
        if !nested {
            return Ok(Value::Array(items));
        }
        let mut out = BumpVec::with_capacity_in(total, self.arena);
        for item in items {
            match item {
                Value::Array(inner) => out.extend_from_slice(inner),
                other => out.push(*other),
            }
        }
        Ok(Value::Array(out.into_bump_slice()))
    }

    #[inline(never)]
    fn filter(&mut self, items: &'a [Value<'a>], cond: NodeId, rhs: NodeId) -> Result<Value<'a>, Error> {
        let current = self.is_current(rhs);
        // With a bare filter (`[?cond]`) the kept elements are often one contiguous run:
        // return it as a sub-slice, copying only once a second run starts.
        let mut run: Option<(usize, usize)> = None;
        let mut out: Option<BumpVec<'a, Value<'a>>> = None;
        for (i, item) in items.iter().enumerate() {
            if !is_truthy(&self.eval(cond, *item)?) {
                continue;
            }
            let r = if current { *item } else { self.eval(rhs, *item)? };
            if r.is_null() {
                continue;
            }
            if let Some(out) = out.as_mut() {
                out.push(r);
                continue;
            }
            match run {
                None if current => run = Some((i, i + 1)),
                Some((start, end)) if current && end == i => run = Some((start, i + 1)),
                _ => {
                    let mut vec = BumpVec::with_capacity_in(items.len(), self.arena);
                    if let Some((start, end)) = run {
                        vec.extend_from_slice(items.get(start..end).unwrap_or(&[]));
                    }
                    vec.push(r);
                    out = Some(vec);
                }
            }
        }
        Ok(Value::Array(match (out, run) {
            (Some(out), _) => out.into_bump_slice(),
            (None, Some((start, end))) => items.get(start..end).unwrap_or(&[]),
            (None, None) => &[],
        }))
    }

    #[inline(never)]
    fn slice(&mut self, items: &'a [Value<'a>], start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> Result<Value<'a>, Error> {
        let step = i128::from(step.unwrap_or(1));
        if step == 0 {
            return Err(Error::new(ErrorKind::InvalidValue, "slice step cannot be 0"));
        }
        let len = items.len() as i128;
        // Python's slice.indices().
        let (lower, upper) = if step < 0 { (-1, len - 1) } else { (0, len) };
        let clamp = |bound: Option<i64>, default: i128| match bound {
            None => default,
            Some(b) => {
                let b = i128::from(b);
                let b = if b < 0 { b + len } else { b };
                b.clamp(lower, upper)
            }
        };
        let start = clamp(start, if step < 0 { upper } else { lower });
        let stop = clamp(stop, if step < 0 { lower } else { upper });
        let count = if step > 0 {
            if stop > start {
                (stop - start + step - 1) / step
            } else {
                0
            }
        } else if start > stop {
            (start - stop + (-step) - 1) / (-step)
        } else {
            0
        };
        self.steps.charge(count as u64)?;
        if step == 1 {
            let (s, e) = (start as usize, (start + count) as usize);
            return Ok(Value::Array(items.get(s..e).unwrap_or(&[])));
        }
        let mut out = BumpVec::with_capacity_in(count as usize, self.arena);
        let mut i = start;
        for _ in 0..count {
            if let Some(item) = usize::try_from(i).ok().and_then(|i| items.get(i)) {
                out.push(*item);
            }
            i += step;
        }
        Ok(Value::Array(out.into_bump_slice()))
    }

    #[inline(never)]
    fn multi_list(&mut self, span: Span, v: Value<'a>) -> Result<Value<'a>, Error> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let expr = self.expr;
        let children = expr.children(span);
        let mut out = BumpVec::with_capacity_in(children.len(), self.arena);
        for child in children {
            out.push(self.eval(*child, v)?);
        }
        Ok(Value::Array(out.into_bump_slice()))
    }

    #[inline(never)]
    fn multi_hash(&mut self, span: Span, members: u32, v: Value<'a>) -> Result<Value<'a>, Error> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let expr = self.expr;
        let out = self.arena.alloc_slice_fill_copy(members as usize, Member { key: "", value: Value::Null });
        for entry in expr.entries(span) {
            let value = self.eval(entry.value, v)?;
            let key = match self.constant(entry.key)? {
                Value::Str(s) => s,
                _ => "",
            };
            if let Some(slot) = out.get_mut(entry.slot as usize) {
                *slot = Member { key, value };
            }
        }
        Ok(Value::Object(out))
    }

    /// A constant as an arena value, copied on first use in this evaluation.
    fn constant(&mut self, id: ConstId) -> Result<Value<'a>, Error> {
        let expr = self.expr;
        let lit = match expr.constant(id) {
            Some(Literal::Null) | None => return Ok(Value::Null),
            Some(Literal::Bool(b)) => return Ok(Value::Bool(*b)),
            Some(Literal::Int(i)) => return Ok(Value::Int(*i)),
            Some(Literal::Float(f)) => return Ok(Value::Float(*f)),
            Some(lit) => lit,
        };
        let arena = self.arena;
        let cache = self.consts.get_or_insert_with(|| BumpVec::from_iter_in(core::iter::repeat_n(None, expr.consts.len()), arena));
        let Some(slot) = cache.get_mut(id.0 as usize) else {
            return Ok(Value::Null);
        };
        if let Some(v) = slot {
            return Ok(*v);
        }
        let v = materialize(lit, arena);
        *slot = Some(v);
        Ok(v)
    }

    /// A comparison operand. Constants and fields, the usual operands of a filter, are
    /// read in place.
    #[inline]
    fn operand(&mut self, id: NodeId, v: Value<'a>) -> Result<Operand<'e, 'a>, Error> {
        let expr = self.expr;
        match expr.node(id) {
            Some(Node::Literal(c)) => {
                self.step()?;
                Ok(Operand::Value(match expr.constant(*c) {
                    Some(Literal::Str(s)) => return Ok(Operand::Str(s)),
                    Some(Literal::Null) | None => Value::Null,
                    Some(Literal::Bool(b)) => Value::Bool(*b),
                    Some(Literal::Int(i)) => Value::Int(*i),
                    Some(Literal::Float(f)) => Value::Float(*f),
                    Some(Literal::Array(_) | Literal::Object(_)) => self.constant(*c)?,
                }))
            }
            Some(Node::Field(name)) => {
                self.step()?;
                Ok(Operand::Value(self.field(v, expr.name_bytes(*name))?))
            }
            _ => Ok(Operand::Value(self.eval(id, v)?)),
        }
    }

    fn operands_equal(&mut self, l: Operand<'e, 'a>, r: Operand<'e, 'a>) -> Result<bool, Error> {
        match (l, r) {
            (Operand::Value(a), Operand::Value(b)) => equal(a, b, &mut self.steps),
            (Operand::Str(a), Operand::Str(b)) => Ok(a == b),
            (Operand::Value(Value::Str(a)), Operand::Str(b)) | (Operand::Str(b), Operand::Value(Value::Str(a))) => {
                if a.len() > SCAN_PER_STEP {
                    self.steps.charge((a.len().min(b.len()) / SCAN_PER_STEP) as u64)?;
                }
                Ok(a == b)
            }
            _ => Ok(false),
        }
    }

    #[inline(never)]
    fn compare(&mut self, op: CompareOp, lhs: NodeId, rhs: NodeId, v: Value<'a>) -> Result<Value<'a>, Error> {
        let l = self.operand(lhs, v)?;
        let r = self.operand(rhs, v)?;
        Ok(match op {
            CompareOp::Eq => Value::Bool(self.operands_equal(l, r)?),
            CompareOp::Ne => Value::Bool(!self.operands_equal(l, r)?),
            _ => {
                let (Operand::Value(a), Operand::Value(b)) = (l, r) else {
                    return Ok(Value::Null);
                };
                match compare_numbers(&a, &b) {
                    Some(ord) => Value::Bool(match op {
                        CompareOp::Lt => ord == Ordering::Less,
                        CompareOp::Le => ord != Ordering::Greater,
                        CompareOp::Gt => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }),
                    None => Value::Null,
                }
            }
        })
    }

    fn arg(&mut self, id: NodeId, v: Value<'a>) -> Result<Arg<'a>, Error> {
        if let Some(Node::ExprRef(inner)) = self.expr.node(id) {
            self.step()?;
            return Ok(Arg::Expr(*inner));
        }
        Ok(Arg::Value(self.eval(id, v)?))
    }

    #[inline(never)]
    fn call(&mut self, function: FunctionId, span: Span, v: Value<'a>) -> Result<Value<'a>, Error> {
        let Some(f) = registry().get(function) else {
            return Err(Error::new(ErrorKind::UnknownFunction, "unknown function"));
        };
        let expr = self.expr;
        let ids = expr.children(span);
        if !f.accepts_arity(ids.len()) {
            return Err(Error::new(ErrorKind::InvalidArity, format!("{}(): wrong number of arguments", f.name)));
        }
        let mut inline = [Arg::Value(Value::Null); INLINE_ARGS];
        let args: &[Arg<'a>] = if ids.len() <= INLINE_ARGS {
            for (slot, id) in inline.iter_mut().zip(ids) {
                *slot = self.arg(*id, v)?;
            }
            inline.get(..ids.len()).unwrap_or(&[])
        } else {
            let mut out = BumpVec::with_capacity_in(ids.len(), self.arena);
            for id in ids {
                out.push(self.arg(*id, v)?);
            }
            out.into_bump_slice()
        };
        for (i, arg) in args.iter().enumerate() {
            let Some(types) = f.param(i) else {
                return Err(Error::new(ErrorKind::InvalidArity, format!("{}(): too many arguments", f.name)));
            };
            match arg {
                // Checking `array[number]` or `array[string]` reads every element.
                Arg::Value(Value::Array(items)) if types.0 & (Types::ARRAY_NUMBER.0 | Types::ARRAY_STRING.0) != 0 => {
                    self.steps.charge(items.len() as u64)?;
                }
                // String functions read their arguments.
                Arg::Value(Value::Str(s)) => self.steps.charge((s.len() / SCAN_PER_STEP) as u64)?,
                _ => {}
            }
            if !types.admits(arg) {
                let got = match arg {
                    Arg::Value(v) => type_name(v),
                    Arg::Expr(_) => "expression",
                };
                return Err(Error::new(
                    ErrorKind::InvalidType,
                    format!("{}(): argument {} must be {}, got {got}", f.name, i + 1, types.describe()),
                ));
            }
        }
        let result = (f.call)(self, args)?;
        // A result costs its size, so that repeated doubling (`[@, @] | join('', @)`)
        // runs into the budget instead of memory.
        self.steps.charge(cost_of(&result))?;
        Ok(result)
    }
}

/// What a function result costs: one step per element or member, one per 16 bytes of
/// string.
fn cost_of(v: &Value<'_>) -> u64 {
    match v {
        Value::Array(items) => items.len() as u64,
        Value::Object(members) => members.len() as u64,
        Value::Str(s) => (s.len() / 16) as u64,
        _ => 0,
    }
}

impl<'a> Interp<'a> for Evaluator<'_, 'a> {
    fn arena(&self) -> &'a Bump {
        self.arena
    }

    fn apply(&mut self, expr: NodeId, input: Value<'a>) -> Result<Value<'a>, Error> {
        self.eval(expr, input)
    }

    fn now_unix_nanos(&self) -> i128 {
        match self.now {
            Some(now) => now,
            None => system_now_unix_nanos(),
        }
    }

    fn charge(&mut self, steps: u64) -> Result<(), Error> {
        self.steps.charge(steps)
    }
}

/// The system clock, in nanoseconds since the Unix epoch (negative before it).
pub fn system_now_unix_nanos() -> i128 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// Copies a constant into the arena (recursion bounded by the parser's literal depth).
fn materialize<'a>(lit: &Literal, arena: &'a Bump) -> Value<'a> {
    match lit {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(i) => Value::Int(*i),
        Literal::Float(f) => Value::Float(*f),
        Literal::Str(s) => Value::Str(arena.alloc_str(s)),
        Literal::Array(items) => Value::Array(BumpVec::from_iter_in(items.iter().map(|i| materialize(i, arena)), arena).into_bump_slice()),
        Literal::Object(members) => Value::Object(
            BumpVec::from_iter_in(members.iter().map(|(k, v)| Member { key: arena.alloc_str(k), value: materialize(v, arena) }), arena)
                .into_bump_slice(),
        ),
    }
}

/// The member `name` of an object's members, or null.
#[inline(always)]
fn lookup<'a>(members: &'a [Member<'a>], name: &[u8]) -> Value<'a> {
    for m in members {
        if key_eq(m.key, name) {
            return m.value;
        }
    }
    Value::Null
}

/// Key equality, checking the length and the first byte before calling `memcmp`: the
/// keys of one object mostly differ in one of them.
#[inline(always)]
fn key_eq(key: &str, name: &[u8]) -> bool {
    let key = key.as_bytes();
    key.len() == name.len() && key.first() == name.first() && key == name
}

/// Element `i` of an array (negative: from the end); null for anything else.
#[inline]
fn index<'a>(v: Value<'a>, i: i64) -> Value<'a> {
    let Value::Array(items) = v else {
        return Value::Null;
    };
    let at = if i < 0 { (items.len() as i64).checked_add(i).and_then(|j| usize::try_from(j).ok()) } else { usize::try_from(i).ok() };
    at.and_then(|j| items.get(j)).copied().unwrap_or(Value::Null)
}

/// JMESPath truthiness: `false`, `null`, `""`, `[]` and `{}` are false; everything else
/// (including `0`) is true.
pub fn is_truthy(v: &Value<'_>) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Str(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
        Value::Int(_) | Value::Float(_) => true,
    }
}

/// The ordering of two numbers, compared exactly across `Int` and `Float`; `None` when
/// either is not a number (or is NaN).
pub fn compare_numbers(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => int_float_cmp(*x, *y),
        (Value::Float(x), Value::Int(y)) => int_float_cmp(*y, *x).map(Ordering::reverse),
        _ => None,
    }
}

fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63 is exactly representable; every i64 is below it and at or above -2^63.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    // `t` is integral and within i64's range here, so the cast is exact.
    match i.cmp(&(t as i64)) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - t)),
        ord => Some(ord),
    }
}

/// JMESPath equality: deep, with objects compared as maps and numbers by value (`1 ==
/// 1.0`). Each container node visited, and each 64 bytes of string compared, costs a
/// step of `meter`.
#[inline]
pub(crate) fn equal<M: Meter + ?Sized>(a: Value<'_>, b: Value<'_>, meter: &mut M) -> Result<bool, Error> {
    match (a, b) {
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => equal_at(a, b, meter, 0),
        _ => scalar_equal(a, b, meter),
    }
}

/// Equality of two values of which at most one is a container.
#[inline]
fn scalar_equal<M: Meter + ?Sized>(a: Value<'_>, b: Value<'_>, meter: &mut M) -> Result<bool, Error> {
    Ok(match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => {
            if x.len() > SCAN_PER_STEP {
                meter.charge((x.len().min(y.len()) / SCAN_PER_STEP) as u64)?;
            }
            x == y
        }
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => compare_numbers(&a, &b) == Some(Ordering::Equal),
        _ => false,
    })
}

fn equal_at<M: Meter + ?Sized>(a: Value<'_>, b: Value<'_>, meter: &mut M, depth: usize) -> Result<bool, Error> {
    meter.charge(1)?;
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    Ok(match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            if core::ptr::eq(x, y) {
                return Ok(true);
            }
            for (p, q) in x.iter().zip(y) {
                if !equal_at(*p, *q, meter, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            if core::ptr::eq(x, y) {
                return Ok(true);
            }
            // Members usually come in the same order; fall back to lookups when not.
            let same_order = x.iter().zip(y).all(|(p, q)| p.key == q.key);
            for (i, p) in x.iter().enumerate() {
                let other = if same_order {
                    y.get(i).map(|m| m.value)
                } else {
                    if y.len() > SCAN_PER_STEP {
                        meter.charge((y.len() / SCAN_PER_STEP) as u64)?;
                    }
                    y.iter().find(|m| m.key == p.key).map(|m| m.value)
                };
                match other {
                    Some(q) if equal_at(p.value, q, meter, depth + 1)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        _ => scalar_equal(a, b, meter)?,
    })
}

/// JMESPath equality for function implementations, paid for through `interp`.
pub fn values_equal<'a>(interp: &mut dyn Interp<'a>, a: Value<'a>, b: Value<'a>) -> Result<bool, Error> {
    equal(a, b, &mut InterpMeter(interp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jmespath::ParseLimits;

    fn eval_with(expr: &str, doc: &str, steps: u64) -> Result<String, Error> {
        let arena = Bump::new();
        let input = crate::json::decode(doc.as_bytes(), &arena, &crate::Limits::default()).unwrap();
        let e = Expression::parse(expr, &ParseLimits::default())?;
        let mut env = Env::new(&arena);
        env.steps_left = steps;
        e.evaluate(input, &mut env).map(|v| v.to_string())
    }

    fn eval(expr: &str, doc: &str) -> Result<String, Error> {
        eval_with(expr, doc, 1_000_000)
    }

    #[test]
    fn chains_projections_and_pipes() {
        let doc = r#"{"a":[{"b":1},{"b":2},{"c":3}],"o":{"x":{"b":5},"y":{"b":6}}}"#;
        assert_eq!(eval("a[*].b", doc).unwrap(), "[1,2]");
        assert_eq!(eval("a[*].b | [0]", doc).unwrap(), "1");
        assert_eq!(eval("a[].b[0]", doc).unwrap(), "[]");
        assert_eq!(eval("o.*.b", doc).unwrap(), "[5,6]");
        assert_eq!(eval("a[?b > `1`].b", doc).unwrap(), "[2]");
        assert_eq!(eval("a[1:].b", doc).unwrap(), "[2]");
        assert_eq!(eval("a[::-1][0]", doc).unwrap(), "[]");
        assert_eq!(eval("a[::-1] | [0]", doc).unwrap(), r#"{"c":3}"#);
        assert_eq!(eval("{n: a[0].b, m: `[1, {\"k\": null}]`}", doc).unwrap(), r#"{"n":1,"m":[1,{"k":null}]}"#);
    }

    #[test]
    fn filters_return_existing_runs_without_copying() {
        let arena = Bump::new();
        let doc = crate::json::decode(br#"[1, 2, 3, 4, 5]"#, &arena, &crate::Limits::default()).unwrap();
        let e = Expression::parse("[?@ > `2`]", &ParseLimits::default()).unwrap();
        let mut env = Env::new(&arena);
        let before = arena.allocated_bytes();
        let out = e.evaluate(doc, &mut env).unwrap();
        assert_eq!(arena.allocated_bytes(), before);
        let (Value::Array(all), Value::Array(kept)) = (doc, out) else { panic!() };
        assert!(core::ptr::eq(&all[2], &kept[0]));
        assert_eq!(eval("[?@ != `3`]", "[1,2,3,4,5]").unwrap(), "[1,2,4,5]");
    }

    #[test]
    fn string_constants_compare_without_allocating() {
        let arena = Bump::new();
        let doc = crate::json::decode(br#"[{"n":"a"},{"n":"b"}]"#, &arena, &crate::Limits::default()).unwrap();
        let e = Expression::parse("[?n == 'b'] | [0].n", &ParseLimits::default()).unwrap();
        let mut env = Env::new(&arena);
        let before = arena.allocated_bytes();
        assert_eq!(e.evaluate(doc, &mut env).unwrap(), Value::Str("b"));
        assert_eq!(arena.allocated_bytes(), before);
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(eval("`1` == `1.0`", "null").unwrap(), "true");
        assert_eq!(eval("`[1, {\"a\": 2}]` == `[1.0, {\"a\": 2.0}]`", "null").unwrap(), "true");
        assert_eq!(eval("`9007199254740993` > `9007199254740992.0`", "null").unwrap(), "true");
        assert_eq!(eval("'a' < 'b'", "null").unwrap(), "null");
        assert_eq!(eval(r#"`{"a":1,"b":2}` == `{"b":2,"a":1}`"#, "null").unwrap(), "true");
    }

    #[test]
    fn step_budget_is_enforced() {
        let err = eval_with("[@, @] | [@, @] | [@, @] | [][][]", "[1]", 10).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Limit);
        // Doubling a value many times runs out of steps, not memory.
        let doubling = format!("`[1]`{}", " | [@, @][]".repeat(60));
        assert_eq!(eval_with(&doubling, "null", 1_000_000).unwrap_err().kind, ErrorKind::Limit);
        let dag = format!("(`1`{d}) == (`1.0`{d})", d = " | [@, @]".repeat(60));
        assert_eq!(eval_with(&dag, "null", 1_000_000).unwrap_err().kind, ErrorKind::Limit);
    }

    #[test]
    fn deep_values_stop_at_the_value_depth_limit() {
        let deep = format!("(`1`{d}) == (`1.0`{d})", d = " | [@]".repeat(MAX_VALUE_DEPTH + 10));
        let limits = ParseLimits { max_length: 1 << 20, max_depth: 128 };
        let arena = Bump::new();
        let e = Expression::parse(&deep, &limits).unwrap();
        let err = e.evaluate(Value::Null, &mut Env::new(&arena)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Limit);
    }

    #[test]
    fn expression_references_are_not_values() {
        assert_eq!(eval("&a", "{}").unwrap_err().kind, ErrorKind::InvalidType);
    }
}
