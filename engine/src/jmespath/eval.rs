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
//! [`ErrorKind::Limit`]. Recursion follows the node tree, whose height the parser bounded
//! (a function can apply only the expression references it was given, which are
//! children of its call); recursion over values (deep equality, JSON text) stops at
//! [`MAX_VALUE_DEPTH`].
//!
//! Speed: the hot paths — chains of fields, projections and filters whose right-hand
//! side is a field, comparisons with a field or a constant, function arguments — take
//! their operands in place instead of recursing, and pay the same steps as the general
//! path. Errors travel boxed, so that an evaluation result is no larger than a value.

use core::cmp::Ordering;

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use super::ast::{CompareOp, ConstId, Expression, Literal, Node, NodeId, Span};
use super::functions::{registry, Function, FunctionId};
use super::{type_name, Arg, Env, Error, ErrorKind, Interp, Types};
use crate::document::{Member, Value};

/// Deepest value that deep equality and JSON text will descend into. Decoded documents
/// are far shallower (see [`crate::Limits::max_depth`]); only values an expression nests
/// on purpose (`[@] | [@] | ...`) get here.
pub const MAX_VALUE_DEPTH: usize = 512;

/// Object members scanned, or string bytes compared, per step.
pub(crate) const SCAN_PER_STEP: usize = 64;

/// An error inside the evaluator: boxed, so that [`Res`] is the size of a [`Value`].
type Fail = Box<Error>;

/// A result inside the evaluator.
type Res<'a> = Result<Value<'a>, Fail>;

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
            exprefs: None,
            last_const: None,
            consts: None,
        };
        let result = ev.eval(self.root, input);
        env.steps_left = ev.steps;
        result.map_err(|e| *e)
    }
}

#[cold]
fn limit() -> Error {
    Error::new(ErrorKind::Limit, "evaluation step budget exhausted")
}

#[cold]
#[inline(never)]
fn limit_fail() -> Fail {
    Box::new(limit())
}

fn too_deep() -> Error {
    Error::new(ErrorKind::Limit, "value nested too deeply")
}

#[cold]
#[inline(never)]
fn fail(kind: ErrorKind, message: &'static str) -> Fail {
    Box::new(Error::new(kind, message))
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
    /// The arguments of the function being called: [`Interp::apply`] accepts only the
    /// expression references among them, so recursion always follows the node tree.
    exprefs: Option<Span>,
    /// Strings, arrays and objects of the expression's constants, copied into the arena
    /// on first use: the last one used, and a table by [`ConstId`] once a second one is
    /// (most expressions use one at most, and need no table).
    last_const: Option<(ConstId, Value<'a>)>,
    consts: Option<&'a mut [Option<Value<'a>>]>,
}

/// A comparison operand: a value, or a string constant compared in place.
#[derive(Clone, Copy)]
enum Operand<'e, 'a> {
    Value(Value<'a>),
    Str(&'e str),
}

impl<'e, 'a> Evaluator<'e, 'a> {
    #[inline(always)]
    fn step(&mut self) -> Result<(), Fail> {
        if self.steps == 0 {
            return Err(limit_fail());
        }
        self.steps -= 1;
        Ok(())
    }

    /// Pays `steps` (beyond the one a node costs).
    #[inline(always)]
    fn pay(&mut self, steps: u64) -> Result<(), Fail> {
        match self.steps.checked_sub(steps) {
            Some(left) => {
                self.steps = left;
                Ok(())
            }
            None => {
                self.steps = 0;
                Err(limit_fail())
            }
        }
    }

    fn eval(&mut self, id: NodeId, v: Value<'a>) -> Res<'a> {
        self.step()?;
        let expr = self.expr;
        let Some(node) = expr.node(id) else {
            return Err(fail(ErrorKind::InvalidValue, "expression reference to a missing node"));
        };
        // Leaves are answered here; everything else in functions of its own, so that
        // this dispatch stays small.
        match *node {
            Node::Current => Ok(v),
            Node::Field(name) => self.field(v, expr.name_bytes(name)),
            Node::Path(span) => self.path(span, v, 0),
            Node::Index(i) => Ok(index(v, i)),
            Node::Literal(c) => self.constant(c),
            Node::Chain(span) => self.chain(span, v),
            Node::Project { lhs, rhs } => self.project(lhs, rhs, v),
            Node::ProjectValues { lhs, rhs } => self.project_values(lhs, rhs, v),
            Node::Flatten(inner) => self.flatten(inner, v),
            Node::Filter { lhs, cond, rhs } => self.filter(lhs, cond, rhs, v),
            Node::Slice(index) => match (v, expr.slice(index)) {
                (Value::Array(items), Some(s)) => self.slice(items, s.start, s.stop, s.step),
                _ => Ok(Value::Null),
            },
            Node::MultiList(span) => self.multi_list(span, v),
            Node::MultiHash { entries, members } => self.multi_hash(entries, members, v),
            Node::Compare { op, lhs, rhs } => self.compare(op, lhs, rhs, v),
            Node::And(span) => self.logical(span, v, false),
            Node::Or(span) => self.logical(span, v, true),
            Node::Not(inner) => Ok(Value::Bool(!self.truthy(inner, v)?)),
            Node::Call { function, args } => self.call(function, args, v),
            Node::ExprRef(_) => Err(fail(ErrorKind::InvalidType, "an expression reference (`&expr`) is only valid as a function argument")),
        }
    }

    /// Each child applied to the previous one's result. Field steps, the bulk of every
    /// chain, are taken in place ([`Evaluator::field`] inlined by hand: this loop is the
    /// hottest code of the evaluator).
    #[inline(never)]
    fn chain(&mut self, span: Span, v: Value<'a>) -> Res<'a> {
        let expr = self.expr;
        let mut cur = v;
        for child in expr.children(span) {
            match expr.node(*child) {
                Some(Node::Field(name)) => {
                    self.step()?;
                    cur = match cur {
                        Value::Object(members) => {
                            if members.len() > SCAN_PER_STEP {
                                self.charge_scan(members.len())?;
                            }
                            lookup(members, expr.name_bytes(*name))
                        }
                        _ => Value::Null,
                    };
                }
                Some(Node::Path(span)) => cur = self.path(*span, cur, 0)?,
                Some(Node::Index(i)) => {
                    self.step()?;
                    cur = index(cur, *i);
                }
                _ => cur = self.eval(*child, cur)?,
            }
        }
        Ok(cur)
    }

    /// The member `name` of an object (null for anything else). The lookup scans the
    /// members, so a large object costs more than one step.
    #[inline(always)]
    fn field(&mut self, v: Value<'a>, name: &[u8]) -> Res<'a> {
        let Value::Object(members) = v else {
            return Ok(Value::Null);
        };
        if members.len() > SCAN_PER_STEP {
            self.charge_scan(members.len())?;
        }
        Ok(lookup(members, name))
    }

    /// The fields of a [`Node::Path`] applied in turn to `v`. Pays one step per field,
    /// as the chain of fields it replaces did, plus `extra` (the step of the node that
    /// a caller reads in place instead of through [`Evaluator::eval`]).
    #[inline]
    fn path(&mut self, span: Span, v: Value<'a>, extra: u64) -> Res<'a> {
        let names = self.expr.path(span);
        // Every field costs its step whatever it meets (a chain goes on through nulls),
        // so the whole path is paid up front.
        self.pay(names.len() as u64 + extra)?;
        let Some((last, init)) = names.split_last() else {
            return Ok(v);
        };
        let Value::Object(mut members) = v else {
            return Ok(Value::Null);
        };
        // The objects on the way are followed by their members alone.
        for name in init {
            if members.len() > SCAN_PER_STEP {
                self.charge_scan(members.len())?;
            }
            match find(members, name.as_bytes()) {
                Some(Value::Object(inner)) => members = inner,
                _ => return Ok(Value::Null),
            }
        }
        if members.len() > SCAN_PER_STEP {
            self.charge_scan(members.len())?;
        }
        Ok(lookup(members, last.as_bytes()))
    }

    /// `id` applied to `v`, as [`Evaluator::eval`] gives it and for the same steps, with
    /// fields and paths read in place.
    #[inline(always)]
    fn value(&mut self, id: NodeId, v: Value<'a>) -> Res<'a> {
        let expr = self.expr;
        match expr.node(id) {
            Some(Node::Path(span)) => self.path(*span, v, 1),
            Some(Node::Field(name)) => {
                self.step()?;
                self.field(v, expr.name_bytes(*name))
            }
            _ => self.eval(id, v),
        }
    }

    #[cold]
    #[inline(never)]
    fn charge_scan(&mut self, len: usize) -> Result<(), Fail> {
        self.pay((len / SCAN_PER_STEP) as u64)
    }

    /// `rhs` applied to `v`, with a step: fields and `@` in place, the rest through
    /// [`Evaluator::eval`].
    #[inline(always)]
    fn apply_rhs(&mut self, rhs: Rhs, v: Value<'a>) -> Res<'a> {
        match rhs {
            Rhs::Current => {
                self.step()?;
                Ok(v)
            }
            Rhs::Field(name) => {
                self.step()?;
                self.field(v, name)
            }
            Rhs::Path(span) => self.path(span, v, 1),
            Rhs::Node(id) => self.eval(id, v),
        }
    }

    /// How to apply a projection's right-hand side.
    #[inline(always)]
    fn rhs(&self, id: NodeId) -> Rhs<'e> {
        let expr = self.expr;
        match expr.node(id) {
            Some(Node::Current) => Rhs::Current,
            Some(Node::Field(name)) => Rhs::Field(expr.name_bytes(*name)),
            Some(Node::Path(span)) => Rhs::Path(*span),
            _ => Rhs::Node(id),
        }
    }

    /// `lhs[*] rhs`: applies `rhs` to each element of `lhs`, keeping the non-null
    /// results (null when `lhs` is not an array).
    #[inline(never)]
    fn project(&mut self, lhs: NodeId, rhs: NodeId, v: Value<'a>) -> Res<'a> {
        let Value::Array(items) = self.value(lhs, v)? else {
            return Ok(Value::Null);
        };
        let rhs = self.rhs(rhs);
        if let Rhs::Current = rhs {
            self.pay(items.len() as u64)?;
            if !items.iter().any(Value::is_null) {
                return Ok(Value::Array(items));
            }
            let mut out = BumpVec::with_capacity_in(items.len(), self.arena);
            out.extend(items.iter().filter(|v| !v.is_null()).copied());
            return Ok(Value::Array(out.into_bump_slice()));
        }
        let mut out = BumpVec::with_capacity_in(items.len(), self.arena);
        for item in items {
            let r = self.apply_rhs(rhs, *item)?;
            if !r.is_null() {
                out.push(r);
            }
        }
        Ok(Value::Array(out.into_bump_slice()))
    }

    /// `lhs.* rhs`: like [`Evaluator::project`] over the values of an object.
    #[inline(never)]
    fn project_values(&mut self, lhs: NodeId, rhs: NodeId, v: Value<'a>) -> Res<'a> {
        let Value::Object(members) = self.value(lhs, v)? else {
            return Ok(Value::Null);
        };
        let rhs = self.rhs(rhs);
        let mut out = BumpVec::with_capacity_in(members.len(), self.arena);
        for m in members {
            let r = self.apply_rhs(rhs, m.value)?;
            if !r.is_null() {
                out.push(r);
            }
        }
        Ok(Value::Array(out.into_bump_slice()))
    }

    /// `inner[]`: the array with nested arrays spliced in one level (null when `inner`
    /// is not an array).
    #[inline(never)]
    fn flatten(&mut self, inner: NodeId, v: Value<'a>) -> Res<'a> {
        let Value::Array(items) = self.value(inner, v)? else {
            return Ok(Value::Null);
        };
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
        self.pay(total as u64)?;
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

    /// `lhs[?cond] rhs`: the elements of `lhs` for which `cond` is truthy, projected
    /// through `rhs` (null when `lhs` is not an array).
    #[inline(never)]
    fn filter(&mut self, lhs: NodeId, cond: NodeId, rhs: NodeId, v: Value<'a>) -> Res<'a> {
        let Value::Array(items) = self.value(lhs, v)? else {
            return Ok(Value::Null);
        };
        let rhs = self.rhs(rhs);
        let current = matches!(rhs, Rhs::Current);
        // With a bare filter (`[?cond]`) the kept elements are often one contiguous run:
        // return it as a sub-slice, copying only once a second run starts.
        let mut run: Option<(usize, usize)> = None;
        let mut out: Option<BumpVec<'a, Value<'a>>> = None;
        for (i, item) in items.iter().enumerate() {
            if !self.truthy(cond, *item)? {
                continue;
            }
            let r = if current { *item } else { self.apply_rhs(rhs, *item)? };
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

    /// The truthiness of `id` applied to `v`, as [`Evaluator::eval`] then [`is_truthy`]
    /// would give it (the same steps), without building the value of a comparison or a
    /// negation.
    fn truthy(&mut self, id: NodeId, v: Value<'a>) -> Result<bool, Fail> {
        let expr = self.expr;
        match expr.node(id) {
            Some(Node::Compare { op, lhs, rhs }) => {
                self.step()?;
                Ok(self.compare_values(*op, *lhs, *rhs, v)? == Some(true))
            }
            Some(Node::Not(inner)) => {
                self.step()?;
                Ok(!self.truthy(*inner, v)?)
            }
            Some(Node::Field(name)) => {
                self.step()?;
                Ok(is_truthy(&self.field(v, expr.name_bytes(*name))?))
            }
            Some(Node::Path(span)) => Ok(is_truthy(&self.path(*span, v, 1)?)),
            _ => Ok(is_truthy(&self.eval(id, v)?)),
        }
    }

    /// `a && b && c` (the first falsy operand, else the last) or `a || b || c` (the
    /// first truthy operand, else the last).
    #[inline(never)]
    fn logical(&mut self, span: Span, v: Value<'a>, or: bool) -> Res<'a> {
        let mut last = Value::Null;
        for child in self.expr.children(span) {
            last = self.value(*child, v)?;
            if is_truthy(&last) == or {
                break;
            }
        }
        Ok(last)
    }

    #[inline(never)]
    fn slice(&mut self, items: &'a [Value<'a>], start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> Res<'a> {
        let step = i128::from(step.unwrap_or(1));
        if step == 0 {
            return Err(fail(ErrorKind::InvalidValue, "slice step cannot be 0"));
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
        self.pay(count as u64)?;
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
    fn multi_list(&mut self, span: Span, v: Value<'a>) -> Res<'a> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let expr = self.expr;
        let children = expr.children(span);
        let out = self.arena.alloc_slice_fill_copy(children.len(), Value::Null);
        for (slot, child) in out.iter_mut().zip(children) {
            *slot = self.value(*child, v)?;
        }
        Ok(Value::Array(out))
    }

    #[inline(never)]
    fn multi_hash(&mut self, span: Span, members: u32, v: Value<'a>) -> Res<'a> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let expr = self.expr;
        let out = self.arena.alloc_slice_fill_copy(members as usize, Member { key: "", value: Value::Null });
        for entry in expr.entries(span) {
            let value = self.value(entry.value, v)?;
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

    /// A constant as an arena value: scalars as they are, anything else copied on first
    /// use in this evaluation.
    #[inline]
    fn constant(&mut self, id: ConstId) -> Res<'a> {
        Ok(match self.expr.constant(id) {
            Some(Literal::Null) | None => Value::Null,
            Some(Literal::Bool(b)) => Value::Bool(*b),
            Some(Literal::Int(i)) => Value::Int(*i),
            Some(Literal::Float(f)) => Value::Float(*f),
            Some(lit) => self.materialized(id, lit),
        })
    }

    /// A string, array or object constant in the arena, copied once per evaluation.
    #[inline(never)]
    fn materialized(&mut self, id: ConstId, lit: &Literal) -> Value<'a> {
        if let Some((last, v)) = self.last_const {
            if last == id {
                return v;
            }
        }
        if let Some(Some(v)) = self.consts.as_deref().and_then(|table| table.get(id.0 as usize)) {
            let v = *v;
            self.last_const = Some((id, v));
            return v;
        }
        let arena = self.arena;
        let v = match lit {
            Literal::Str(s) => Value::Str(arena.alloc_str(s)),
            _ => materialize(lit, arena),
        };
        if let Some((last, previous)) = self.last_const.replace((id, v)) {
            // A second constant: from now on every one is kept in the table too.
            let count = self.expr.consts.len();
            let table = self.consts.get_or_insert_with(|| arena.alloc_slice_fill_copy(count, None));
            for (id, v) in [(last, previous), (id, v)] {
                if let Some(slot) = table.get_mut(id.0 as usize) {
                    *slot = Some(v);
                }
            }
        }
        v
    }

    /// A comparison operand. Constants and fields, the usual operands of a filter, are
    /// read in place.
    #[inline]
    fn operand(&mut self, id: NodeId, v: Value<'a>) -> Result<Operand<'e, 'a>, Fail> {
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
                    Some(lit @ (Literal::Array(_) | Literal::Object(_))) => self.materialized(*c, lit),
                }))
            }
            Some(Node::Field(name)) => {
                self.step()?;
                Ok(Operand::Value(self.field(v, expr.name_bytes(*name))?))
            }
            Some(Node::Path(span)) => Ok(Operand::Value(self.path(*span, v, 1)?)),
            _ => Ok(Operand::Value(self.eval(id, v)?)),
        }
    }

    #[inline]
    fn operands_equal(&mut self, l: Operand<'e, 'a>, r: Operand<'e, 'a>) -> Result<bool, Fail> {
        match (l, r) {
            (Operand::Value(a), Operand::Value(b)) => match (a, b) {
                (Value::Null, Value::Null) => Ok(true),
                (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
                (Value::Int(x), Value::Int(y)) => Ok(x == y),
                _ => Ok(equal(a, b, &mut self.steps)?),
            },
            (Operand::Str(a), Operand::Str(b)) => Ok(a == b),
            (Operand::Value(Value::Str(a)), Operand::Str(b)) | (Operand::Str(b), Operand::Value(Value::Str(a))) => {
                if a.len() > SCAN_PER_STEP {
                    self.pay((a.len().min(b.len()) / SCAN_PER_STEP) as u64)?;
                }
                Ok(a == b)
            }
            _ => Ok(false),
        }
    }

    #[inline(never)]
    fn compare(&mut self, op: CompareOp, lhs: NodeId, rhs: NodeId, v: Value<'a>) -> Res<'a> {
        Ok(match self.compare_values(op, lhs, rhs, v)? {
            Some(b) => Value::Bool(b),
            None => Value::Null,
        })
    }

    /// A comparison's result: `None` (null) for an ordering of anything but two numbers.
    fn compare_values(&mut self, op: CompareOp, lhs: NodeId, rhs: NodeId, v: Value<'a>) -> Result<Option<bool>, Fail> {
        let l = self.operand(lhs, v)?;
        let r = self.operand(rhs, v)?;
        Ok(match op {
            CompareOp::Eq => Some(self.operands_equal(l, r)?),
            CompareOp::Ne => Some(!self.operands_equal(l, r)?),
            _ => {
                let (Operand::Value(a), Operand::Value(b)) = (l, r) else {
                    return Ok(None);
                };
                compare_numbers(&a, &b).map(|ord| match op {
                    CompareOp::Lt => ord == Ordering::Less,
                    CompareOp::Le => ord != Ordering::Greater,
                    CompareOp::Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                })
            }
        })
    }

    /// A function argument: an expression reference as is, a field or constant in place,
    /// anything else evaluated.
    #[inline(always)]
    fn arg(&mut self, id: NodeId, v: Value<'a>) -> Result<Arg<'a>, Fail> {
        let expr = self.expr;
        match expr.node(id) {
            Some(Node::ExprRef(inner)) => {
                self.step()?;
                Ok(Arg::Expr(*inner))
            }
            Some(Node::Field(name)) => {
                self.step()?;
                Ok(Arg::Value(self.field(v, expr.name_bytes(*name))?))
            }
            Some(Node::Path(span)) => Ok(Arg::Value(self.path(*span, v, 1)?)),
            Some(Node::Literal(c)) => {
                self.step()?;
                Ok(Arg::Value(self.constant(*c)?))
            }
            Some(Node::Current) => {
                self.step()?;
                Ok(Arg::Value(v))
            }
            _ => Ok(Arg::Value(self.eval(id, v)?)),
        }
    }

    #[inline(never)]
    fn call(&mut self, function: FunctionId, span: Span, v: Value<'a>) -> Res<'a> {
        let Some(f) = registry().get(function) else {
            return Err(fail(ErrorKind::UnknownFunction, "unknown function"));
        };
        let ids = self.expr.children(span);
        if !f.accepts_arity(ids.len()) {
            return Err(Box::new(Error::new(ErrorKind::InvalidArity, format!("{}(): wrong number of arguments", f.name))));
        }
        // Arguments live on the stack for the usual arities, in the arena beyond.
        match *ids {
            [a] => {
                let args = [self.arg(a, v)?];
                self.invoke(f, span, &args)
            }
            [a, b] => {
                let args = [self.arg(a, v)?, self.arg(b, v)?];
                self.invoke(f, span, &args)
            }
            [a, b, c] => {
                let args = [self.arg(a, v)?, self.arg(b, v)?, self.arg(c, v)?];
                self.invoke(f, span, &args)
            }
            _ => {
                let mut args = BumpVec::with_capacity_in(ids.len(), self.arena);
                for id in ids {
                    args.push(self.arg(*id, v)?);
                }
                self.invoke(f, span, args.into_bump_slice())
            }
        }
    }

    /// Checks the arguments' types, calls `f` and pays for its result.
    #[inline(never)]
    fn invoke(&mut self, f: &'static Function, span: Span, args: &[Arg<'a>]) -> Res<'a> {
        for (i, arg) in args.iter().enumerate() {
            let Some(types) = f.param(i) else {
                return Err(Box::new(Error::new(ErrorKind::InvalidArity, format!("{}(): too many arguments", f.name))));
            };
            match arg {
                // Checking `array[number]` or `array[string]` reads every element.
                Arg::Value(Value::Array(items)) if types.0 & (Types::ARRAY_NUMBER.0 | Types::ARRAY_STRING.0) != 0 => {
                    self.pay(items.len() as u64)?;
                }
                // String functions read their arguments.
                Arg::Value(Value::Str(s)) => self.pay((s.len() / SCAN_PER_STEP) as u64)?,
                _ => {}
            }
            if !types.admits(arg) {
                let got = match arg {
                    Arg::Value(v) => type_name(v),
                    Arg::Expr(_) => "expression",
                };
                return Err(Box::new(Error::new(
                    ErrorKind::InvalidType,
                    format!("{}(): argument {} must be {}, got {got}", f.name, i + 1, types.describe()),
                )));
            }
        }
        let outer = self.exprefs.replace(span);
        let result = (f.call)(self, args);
        self.exprefs = outer;
        let result = result?;
        // A result costs its size, so that repeated doubling (`[@, @] | join('', @)`)
        // runs into the budget instead of memory.
        self.pay(cost_of(&result))?;
        Ok(result)
    }
}

/// How a projection or filter applies its right-hand side.
#[derive(Clone, Copy)]
enum Rhs<'e> {
    /// `@`: the element itself.
    Current,
    /// A field of the element.
    Field(&'e [u8]),
    /// A path of fields.
    Path(Span),
    /// Anything else.
    Node(NodeId),
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
        // Only an expression reference given to the function being called: applying
        // anything else could recurse without bound.
        let tree = self.expr;
        let given = self
            .exprefs
            .is_some_and(|span| tree.children(span).iter().any(|c| matches!(tree.node(*c), Some(Node::ExprRef(inner)) if *inner == expr)));
        if !given {
            return Err(Error::new(ErrorKind::InvalidValue, "a function applied an expression it was not given"));
        }
        self.eval(expr, input).map_err(|e| *e)
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
    match find(members, name) {
        Some(v) => *v,
        None => Value::Null,
    }
}

/// The member `name` of an object's members, in place.
#[inline(always)]
fn find<'a>(members: &'a [Member<'a>], name: &[u8]) -> Option<&'a Value<'a>> {
    members.iter().find(|m| key_eq(m.key, name)).map(|m| &m.value)
}

/// Key equality, checking the length and the first byte before calling `memcmp`: the
/// keys of one object mostly differ in one of them.
#[inline(always)]
fn key_eq(key: &str, name: &[u8]) -> bool {
    let key = key.as_bytes();
    if key.len() != name.len() || key.first() != name.first() {
        return false;
    }
    // Kubernetes keys are short: word compares beat a call to `memcmp`.
    if key.len() <= 16 {
        return short_eq(key, name);
    }
    key == name
}

/// Equality of two slices of the same length (at most 16), by at most two overlapping
/// 8-byte words, or bytes below 8.
#[inline(always)]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n >= 8 {
        let word = |s: &[u8], at: usize| s.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_ne_bytes);
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    if n >= 4 {
        let word = |s: &[u8], at: usize| s.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map(u32::from_ne_bytes);
        return word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4);
    }
    a == b
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
