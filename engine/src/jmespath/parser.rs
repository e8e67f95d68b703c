//! The JMESPath parser: tokens → [`Expression`].
//!
//! A Pratt parser with the reference implementation's binding powers, so that
//! projections stop where JMESPath says they do (`foo[*].bar | [0]` indexes the projected
//! list, `foo[*].bar[0]` each element). It builds the flat node table directly:
//! sub-expressions, index expressions and pipes become one n-ary chain, `&&` and `||`
//! runs one n-ary node, and the identity steps the grammar implies (`[0]` is `@[0]`) are
//! dropped. Function names are resolved against the [`registry`](super::registry()) and
//! their arity checked here, so evaluation never looks a name up.
//!
//! Bounds: the source length, the parser's own recursion and the height of the node
//! tree (which bounds evaluation recursion) are all checked against [`ParseLimits`], so
//! no input — 100k `(` or a 10k-step `a.*.b.*` chain — can overflow the stack.

use bumpalo::Bump;

use super::ast::{CompareOp, ConstId, Expression, HashEntry, Literal, Name, Node, NodeId, Slice, Span};
use super::functions::{registry, FunctionId};
use super::lexer::{tokenize, Lexeme, Token};
use super::{Error, ErrorKind, ParseLimits};
use crate::document::Value;
use crate::limits::Limits;

/// Projections stop at tokens that bind less tightly than this.
const PROJECTION_STOP: u8 = 10;

/// The reference implementation's binding powers (0: the token never continues an
/// expression).
fn binding_power(t: Token) -> u8 {
    match t {
        Token::Pipe => 1,
        Token::Or => 2,
        Token::And => 3,
        Token::Eq | Token::Ne | Token::Lt | Token::Le | Token::Gt | Token::Ge => 5,
        Token::Flatten => 9,
        Token::Star => 20,
        Token::Filter => 21,
        Token::Dot => 40,
        Token::Not => 45,
        Token::LBrace => 50,
        Token::LBracket => 55,
        Token::LParen => 60,
        _ => 0,
    }
}

fn describe(t: Token) -> &'static str {
    match t {
        Token::Dot => "`.`",
        Token::Star => "`*`",
        Token::Flatten => "`[]`",
        Token::Filter => "`[?`",
        Token::LBracket => "`[`",
        Token::RBracket => "`]`",
        Token::LBrace => "`{`",
        Token::RBrace => "`}`",
        Token::LParen => "`(`",
        Token::RParen => "`)`",
        Token::Comma => "`,`",
        Token::Colon => "`:`",
        Token::Current => "`@`",
        Token::Expref => "`&`",
        Token::And => "`&&`",
        Token::Or => "`||`",
        Token::Pipe => "`|`",
        Token::Not => "`!`",
        Token::Eq => "`==`",
        Token::Ne => "`!=`",
        Token::Lt => "`<`",
        Token::Le => "`<=`",
        Token::Gt => "`>`",
        Token::Ge => "`>=`",
        Token::Number => "a number",
        Token::Identifier => "an identifier",
        Token::QuotedIdentifier => "a quoted identifier",
        Token::RawString => "a raw string",
        Token::Literal => "a JSON literal",
        Token::Eof => "the end of the expression",
    }
}

impl Expression {
    /// Parses `src`, resolving function names and checking their arity.
    ///
    /// Errors: `syntax`, `unknown-function`, `invalid-arity`, and `limit` when the source
    /// is longer than [`ParseLimits::max_length`] or nests deeper than
    /// [`ParseLimits::max_depth`].
    pub fn parse(src: &str, limits: &ParseLimits) -> Result<Expression, Error> {
        if src.len() > limits.max_length {
            return Err(Error::new(ErrorKind::Limit, format!("expression longer than {} bytes", limits.max_length)));
        }
        let tokens = tokenize(src)?;
        let mut p = Parser {
            src,
            tokens,
            pos: 0,
            depth: 0,
            limits: *limits,
            nodes: Vec::new(),
            heights: Vec::new(),
            names: Vec::new(),
            consts: Vec::new(),
            slices: Vec::new(),
            scratch: Bump::new(),
            deferred: None,
        };
        let root = p.expression(0)?;
        let end = p.peek_lexeme();
        if end.token != Token::Eof {
            return Err(Error::at(ErrorKind::Syntax, end.start, format!("unexpected {}", describe(end.token))));
        }
        if let Some(e) = p.deferred.take() {
            return Err(e);
        }
        Ok(p.finish(src, root))
    }
}

/// A node under construction: list-bearing nodes own their list until [`Parser::finish`]
/// moves it into the shared child table.
enum PNode {
    Done(Node),
    Chain(Vec<NodeId>),
    MultiList(Vec<NodeId>),
    MultiHash(Vec<HashEntry>, u32),
    And(Vec<NodeId>),
    Or(Vec<NodeId>),
    Call(FunctionId, Vec<NodeId>),
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Lexeme>,
    pos: usize,
    /// Current recursion depth of [`Parser::expression`].
    depth: usize,
    limits: ParseLimits,
    nodes: Vec<PNode>,
    /// Height of each node's subtree (chains count once).
    heights: Vec<u32>,
    names: Vec<Box<str>>,
    consts: Vec<Literal>,
    slices: Vec<Slice>,
    /// Decoding space for JSON literals and quoted identifiers.
    scratch: Bump,
    /// The first function-resolution error, reported if the syntax is valid.
    deferred: Option<Error>,
}

impl<'s> Parser<'s> {
    fn peek_lexeme(&self) -> Lexeme {
        let end = self.src.len();
        self.tokens.get(self.pos).copied().unwrap_or(Lexeme { token: Token::Eof, start: end, end })
    }

    fn peek(&self) -> Token {
        self.peek_at(0)
    }

    fn peek_at(&self, k: usize) -> Token {
        self.tokens.get(self.pos + k).map_or(Token::Eof, |l| l.token)
    }

    fn advance(&mut self) -> Lexeme {
        let l = self.peek_lexeme();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        l
    }

    fn unexpected(&self, expected: &str) -> Error {
        let l = self.peek_lexeme();
        Error::at(ErrorKind::Syntax, l.start, format!("expected {expected}, found {}", describe(l.token)))
    }

    fn expect(&mut self, t: Token) -> Result<Lexeme, Error> {
        if self.peek() == t {
            Ok(self.advance())
        } else {
            Err(self.unexpected(describe(t)))
        }
    }

    fn too_deep(&self) -> Error {
        Error::at(ErrorKind::Limit, self.peek_lexeme().start, format!("expression nested deeper than {} levels", self.limits.max_depth))
    }

    fn height(&self, id: NodeId) -> u32 {
        self.heights.get(id.0 as usize).copied().unwrap_or(0)
    }

    /// Adds a node whose children are `children`.
    fn add(&mut self, node: PNode, children: &[NodeId]) -> Result<NodeId, Error> {
        let height = 1 + children.iter().map(|c| self.height(*c)).max().unwrap_or(0);
        if height as usize > self.limits.max_depth {
            return Err(self.too_deep());
        }
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        self.heights.push(height);
        Ok(id)
    }

    fn leaf(&mut self, node: Node) -> Result<NodeId, Error> {
        self.add(PNode::Done(node), &[])
    }

    fn is_current(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(id.0 as usize), Some(PNode::Done(Node::Current)))
    }

    /// Raises the height of `id` to cover a newly appended child.
    fn grow(&mut self, id: NodeId, child: NodeId) -> Result<(), Error> {
        let h = self.height(child) + 1;
        if h as usize > self.limits.max_depth {
            return Err(self.too_deep());
        }
        if let Some(slot) = self.heights.get_mut(id.0 as usize) {
            *slot = (*slot).max(h);
        }
        Ok(())
    }

    /// `left` then `right`: a sub-expression, index expression or pipe.
    fn chain(&mut self, left: NodeId, right: NodeId) -> Result<NodeId, Error> {
        if self.is_current(left) {
            return Ok(right);
        }
        if self.is_current(right) {
            return Ok(left);
        }
        // Splice a right-hand chain in (composition is associative); its node is left
        // unreferenced in the table.
        let items = match self.nodes.get_mut(right.0 as usize) {
            Some(PNode::Chain(items)) => core::mem::take(items),
            _ => vec![right],
        };
        if let Some(PNode::Chain(existing)) = self.nodes.get_mut(left.0 as usize) {
            existing.extend_from_slice(&items);
            for item in items {
                self.grow(left, item)?;
            }
            return Ok(left);
        }
        let mut all = Vec::with_capacity(items.len() + 1);
        all.push(left);
        all.extend_from_slice(&items);
        let children = all.clone();
        self.add(PNode::Chain(all), &children)
    }

    /// `left && right` or `left || right`, merged into an n-ary node.
    fn logical(&mut self, left: NodeId, right: NodeId, and: bool) -> Result<NodeId, Error> {
        let take = |node: Option<&mut PNode>| match (node, and) {
            (Some(PNode::And(items)), true) | (Some(PNode::Or(items)), false) => Some(core::mem::take(items)),
            _ => None,
        };
        let items = take(self.nodes.get_mut(right.0 as usize)).unwrap_or_else(|| vec![right]);
        match self.nodes.get_mut(left.0 as usize) {
            Some(PNode::And(existing)) if and => existing.extend_from_slice(&items),
            Some(PNode::Or(existing)) if !and => existing.extend_from_slice(&items),
            _ => {
                let mut all = vec![left];
                all.extend_from_slice(&items);
                let children = all.clone();
                let node = if and { PNode::And(all) } else { PNode::Or(all) };
                return self.add(node, &children);
            }
        }
        for item in items {
            self.grow(left, item)?;
        }
        Ok(left)
    }

    fn expression(&mut self, rbp: u8) -> Result<NodeId, Error> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(self.too_deep());
        }
        let result = self.expression_inner(rbp);
        self.depth -= 1;
        result
    }

    fn expression_inner(&mut self, rbp: u8) -> Result<NodeId, Error> {
        let token = self.advance();
        let mut left = self.nud(token)?;
        loop {
            let t = self.peek();
            if rbp >= binding_power(t) {
                return Ok(left);
            }
            let token = self.advance();
            left = self.led(token, left)?;
        }
    }

    /// A token that starts an expression.
    fn nud(&mut self, lexeme: Lexeme) -> Result<NodeId, Error> {
        match lexeme.token {
            Token::Literal => {
                let lit = self.json_literal(lexeme)?;
                self.constant(lit)
            }
            Token::RawString => {
                let inner = self.src.get(lexeme.start + 1..lexeme.end - 1).unwrap_or("");
                let text = inner.replace("\\'", "'");
                self.constant(Literal::Str(text.into()))
            }
            Token::Identifier => {
                let text = self.src.get(lexeme.start..lexeme.end).unwrap_or("");
                if self.peek() == Token::LParen {
                    return self.call(text, lexeme.start);
                }
                let name = self.intern(text);
                self.leaf(Node::Field(name))
            }
            Token::QuotedIdentifier => {
                if self.peek() == Token::LParen {
                    return Err(Error::at(ErrorKind::Syntax, lexeme.start, "function names cannot be quoted"));
                }
                let text = self.quoted_identifier(lexeme)?;
                let name = self.intern(&text);
                self.leaf(Node::Field(name))
            }
            Token::Star => {
                let current = self.leaf(Node::Current)?;
                let rhs = if self.peek() == Token::RBracket { self.leaf(Node::Current)? } else { self.projection_rhs(20)? };
                self.add(PNode::Done(Node::ProjectValues { lhs: current, rhs }), &[current, rhs])
            }
            Token::Filter => {
                let current = self.leaf(Node::Current)?;
                self.filter(current)
            }
            Token::LBrace => self.multi_hash(),
            Token::LParen => {
                let inner = self.expression(0)?;
                self.expect(Token::RParen)?;
                Ok(inner)
            }
            Token::Flatten => {
                let current = self.leaf(Node::Current)?;
                self.flatten(current)
            }
            Token::Not => {
                let operand = self.expression(binding_power(Token::Not))?;
                self.add(PNode::Done(Node::Not(operand)), &[operand])
            }
            Token::LBracket => match self.peek() {
                Token::Number | Token::Colon => {
                    let current = self.leaf(Node::Current)?;
                    self.index_expression(current)
                }
                Token::Star if self.peek_at(1) == Token::RBracket => {
                    self.advance();
                    self.advance();
                    let current = self.leaf(Node::Current)?;
                    self.project(current, 20)
                }
                _ => self.multi_list(),
            },
            Token::Current => self.leaf(Node::Current),
            Token::Expref => {
                let inner = self.expression(0)?;
                self.add(PNode::Done(Node::ExprRef(inner)), &[inner])
            }
            other => Err(Error::at(ErrorKind::Syntax, lexeme.start, format!("unexpected {}", describe(other)))),
        }
    }

    /// A token that continues the expression `left`.
    fn led(&mut self, lexeme: Lexeme, left: NodeId) -> Result<NodeId, Error> {
        match lexeme.token {
            Token::Dot => {
                if self.peek() == Token::Star {
                    self.advance();
                    let rhs = self.projection_rhs(binding_power(Token::Dot))?;
                    self.add(PNode::Done(Node::ProjectValues { lhs: left, rhs }), &[left, rhs])
                } else {
                    let right = self.dot_rhs(binding_power(Token::Dot))?;
                    self.chain(left, right)
                }
            }
            Token::Pipe => {
                let right = self.expression(binding_power(Token::Pipe))?;
                self.chain(left, right)
            }
            Token::Or => {
                let right = self.expression(binding_power(Token::Or))?;
                self.logical(left, right, false)
            }
            Token::And => {
                let right = self.expression(binding_power(Token::And))?;
                self.logical(left, right, true)
            }
            Token::Eq | Token::Ne | Token::Lt | Token::Le | Token::Gt | Token::Ge => {
                let op = match lexeme.token {
                    Token::Eq => CompareOp::Eq,
                    Token::Ne => CompareOp::Ne,
                    Token::Lt => CompareOp::Lt,
                    Token::Le => CompareOp::Le,
                    Token::Gt => CompareOp::Gt,
                    _ => CompareOp::Ge,
                };
                let right = self.expression(binding_power(lexeme.token))?;
                self.add(PNode::Done(Node::Compare { op, lhs: left, rhs: right }), &[left, right])
            }
            Token::Filter => self.filter(left),
            Token::Flatten => self.flatten(left),
            Token::LBracket => {
                if matches!(self.peek(), Token::Number | Token::Colon) {
                    self.index_expression(left)
                } else {
                    self.expect(Token::Star)?;
                    self.expect(Token::RBracket)?;
                    self.project(left, 20)
                }
            }
            Token::LParen => Err(Error::at(ErrorKind::Syntax, lexeme.start, "only an identifier can be called as a function")),
            other => Err(Error::at(ErrorKind::Syntax, lexeme.start, format!("unexpected {}", describe(other)))),
        }
    }

    /// `left[*]` and friends: a list projection whose right-hand side follows.
    fn project(&mut self, left: NodeId, rbp: u8) -> Result<NodeId, Error> {
        let rhs = self.projection_rhs(rbp)?;
        self.add(PNode::Done(Node::Project { lhs: left, rhs }), &[left, rhs])
    }

    /// `left[]`: flatten, then project.
    fn flatten(&mut self, left: NodeId) -> Result<NodeId, Error> {
        let flat = self.add(PNode::Done(Node::Flatten(left)), &[left])?;
        self.project(flat, binding_power(Token::Flatten))
    }

    /// After `left[?`: the condition, `]`, and the projected right-hand side.
    fn filter(&mut self, left: NodeId) -> Result<NodeId, Error> {
        let cond = self.expression(0)?;
        self.expect(Token::RBracket)?;
        let rhs =
            if self.peek() == Token::Flatten { self.leaf(Node::Current)? } else { self.projection_rhs(binding_power(Token::Filter))? };
        self.add(PNode::Done(Node::Filter { lhs: left, cond, rhs }), &[left, cond, rhs])
    }

    /// What a projection applies to each element: nothing (a token that stops
    /// projections), a bracket expression, a filter, or `.` and a dot right-hand side.
    fn projection_rhs(&mut self, rbp: u8) -> Result<NodeId, Error> {
        let t = self.peek();
        if binding_power(t) < PROJECTION_STOP {
            return self.leaf(Node::Current);
        }
        match t {
            Token::LBracket | Token::Filter => self.expression(rbp),
            Token::Dot => {
                self.advance();
                self.dot_rhs(rbp)
            }
            _ => Err(self.unexpected("`.`, `[` or the end of the projection")),
        }
    }

    /// After `.`: an identifier, `*`, a function call, `[a, b]` or `{k: v}`.
    fn dot_rhs(&mut self, rbp: u8) -> Result<NodeId, Error> {
        match self.peek() {
            Token::Identifier | Token::QuotedIdentifier | Token::Star => self.expression(rbp),
            Token::LBracket => {
                self.advance();
                self.multi_list()
            }
            Token::LBrace => {
                self.advance();
                self.multi_hash()
            }
            _ => Err(self.unexpected("an identifier, `*`, `[` or `{` after `.`")),
        }
    }

    /// After `[` followed by a number or `:`: an index or a slice (projected).
    fn index_expression(&mut self, left: NodeId) -> Result<NodeId, Error> {
        if self.peek() == Token::Colon || self.peek_at(1) == Token::Colon {
            let mut parts: [Option<i64>; 3] = [None; 3];
            let mut index = 0usize;
            loop {
                match self.peek() {
                    Token::RBracket => break,
                    Token::Colon => {
                        index += 1;
                        if index >= 3 {
                            return Err(self.unexpected("`]` (a slice has at most two `:`)"));
                        }
                        self.advance();
                    }
                    Token::Number => {
                        let l = self.advance();
                        if let Some(slot) = parts.get_mut(index) {
                            *slot = Some(self.number(l));
                        }
                    }
                    _ => return Err(self.unexpected("a number, `:` or `]` in a slice")),
                }
            }
            self.expect(Token::RBracket)?;
            let [start, stop, step] = parts;
            let slice_index = self.slices.len() as u32;
            self.slices.push(Slice { start, stop, step });
            let slice = self.leaf(Node::Slice(slice_index))?;
            let sliced = self.chain(left, slice)?;
            self.project(sliced, 20)
        } else {
            let l = self.expect(Token::Number)?;
            let index = self.leaf(Node::Index(self.number(l)))?;
            self.expect(Token::RBracket)?;
            self.chain(left, index)
        }
    }

    /// A number token, saturated to `i64` (beyond that every index is out of range
    /// anyway).
    fn number(&self, l: Lexeme) -> i64 {
        let text = self.src.get(l.start..l.end).unwrap_or("0");
        text.parse::<i64>().unwrap_or(if text.starts_with('-') { i64::MIN } else { i64::MAX })
    }

    /// After `[` (not an index or slice): `[a, b, ...]`.
    fn multi_list(&mut self) -> Result<NodeId, Error> {
        let mut items = Vec::new();
        loop {
            items.push(self.expression(0)?);
            if self.peek() == Token::RBracket {
                break;
            }
            self.expect(Token::Comma)?;
        }
        self.expect(Token::RBracket)?;
        let children = items.clone();
        self.add(PNode::MultiList(items), &children)
    }

    /// After `{`: `{key: value, ...}`.
    fn multi_hash(&mut self) -> Result<NodeId, Error> {
        let mut entries: Vec<HashEntry> = Vec::new();
        // Distinct keys in order of first appearance, to give repeated keys one slot.
        let mut slots: ahash::AHashMap<String, u32> = ahash::AHashMap::new();
        loop {
            let l = self.peek_lexeme();
            let key = match l.token {
                Token::Identifier => self.src.get(l.start..l.end).unwrap_or("").to_owned(),
                Token::QuotedIdentifier => self.quoted_identifier(l)?,
                _ => return Err(self.unexpected("an identifier as a key")),
            };
            self.advance();
            self.expect(Token::Colon)?;
            let value = self.expression(0)?;
            let next = slots.len() as u32;
            let slot = *slots.entry(key.clone()).or_insert(next);
            let key = self.const_id(Literal::Str(key.into()));
            entries.push(HashEntry { key, value, slot });
            match self.peek() {
                Token::Comma => {
                    self.advance();
                }
                Token::RBrace => {
                    self.advance();
                    break;
                }
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
        let children: Vec<NodeId> = entries.iter().map(|e| e.value).collect();
        self.add(PNode::MultiHash(entries, slots.len() as u32), &children)
    }

    /// After a function name (the current token is `(`): the arguments.
    fn call(&mut self, name: &str, at: usize) -> Result<NodeId, Error> {
        self.expect(Token::LParen)?;
        let mut args = Vec::new();
        if self.peek() == Token::RParen {
            self.advance();
        } else {
            loop {
                args.push(self.expression(0)?);
                match self.peek() {
                    Token::Comma => {
                        self.advance();
                    }
                    Token::RParen => {
                        self.advance();
                        break;
                    }
                    _ => return Err(self.unexpected("`,` or `)`")),
                }
            }
        }
        // A bad name or arity is reported once the whole expression has parsed, so that
        // a syntax error anywhere takes precedence (as it does in the reference
        // implementations, which resolve functions at run time).
        let registry = registry();
        let Some(id) = registry.lookup(name) else {
            self.defer(Error::at(ErrorKind::UnknownFunction, at, format!("unknown function {name}()")));
            return self.leaf(Node::Current);
        };
        if let Some(f) = registry.get(id) {
            if !f.accepts_arity(args.len()) {
                let expected = if f.variadic { format!("at least {}", f.params.len()) } else { f.params.len().to_string() };
                self.defer(Error::at(ErrorKind::InvalidArity, at, format!("{name}() takes {expected} argument(s), got {}", args.len())));
                return self.leaf(Node::Current);
            }
        }
        let children = args.clone();
        self.add(PNode::Call(id, args), &children)
    }

    fn defer(&mut self, error: Error) {
        if self.deferred.is_none() {
            self.deferred = Some(error);
        }
    }

    fn intern(&mut self, text: &str) -> Name {
        let id = Name(self.names.len() as u32);
        self.names.push(text.into());
        id
    }

    fn const_id(&mut self, lit: Literal) -> ConstId {
        let id = ConstId(self.consts.len() as u32);
        self.consts.push(lit);
        id
    }

    fn constant(&mut self, lit: Literal) -> Result<NodeId, Error> {
        let id = self.const_id(lit);
        self.leaf(Node::Literal(id))
    }

    /// Decodes a `"quoted identifier"` as a JSON string.
    fn quoted_identifier(&mut self, l: Lexeme) -> Result<String, Error> {
        let text = self.src.get(l.start..l.end).unwrap_or("");
        let limits = Limits { max_depth: 1, max_document_bytes: text.len(), ..Limits::default() };
        self.scratch.reset();
        match crate::json::decode(text.as_bytes(), &self.scratch, &limits) {
            Ok(Value::Str(s)) => Ok(s.to_owned()),
            _ => Err(Error::at(ErrorKind::Syntax, l.start, "invalid quoted identifier")),
        }
    }

    /// Decodes a `` `json` `` literal.
    fn json_literal(&mut self, l: Lexeme) -> Result<Literal, Error> {
        let inner = self.src.get(l.start + 1..l.end - 1).unwrap_or("");
        let text = inner.replace("\\`", "`");
        let limits = Limits { max_depth: self.limits.max_depth, max_document_bytes: text.len(), ..Limits::default() };
        self.scratch.reset();
        match crate::json::decode(text.as_bytes(), &self.scratch, &limits) {
            Ok(v) => Ok(to_literal(v)),
            Err(e) if e.kind == crate::json::DecodeErrorKind::TooDeep => Err(self.too_deep()),
            Err(_) => Err(Error::at(ErrorKind::Syntax, l.start, "invalid JSON literal")),
        }
    }

    /// Moves the nodes into their final, flat form, lowering runs of fields in chains to
    /// [`Node::Path`]s.
    fn finish(mut self, src: &str, root: NodeId) -> Expression {
        let mut children: Vec<NodeId> = Vec::new();
        let mut entries: Vec<HashEntry> = Vec::new();
        let mut paths: Vec<Box<str>> = Vec::new();
        let span_of = |items: &[NodeId], children: &mut Vec<NodeId>| {
            let span = Span { start: children.len() as u32, len: items.len() as u32 };
            children.extend_from_slice(items);
            span
        };
        // A chain's runs of two or more fields become path nodes, appended to the table;
        // a chain that is one run becomes a path itself.
        let field_name = |nodes: &[PNode], names: &[Box<str>], id: NodeId| match nodes.get(id.0 as usize) {
            Some(PNode::Done(Node::Field(name))) => names.get(name.0 as usize).cloned(),
            _ => None,
        };
        let mut extra: Vec<Node> = Vec::new();
        let base = self.nodes.len();
        for i in 0..self.nodes.len() {
            let Some(PNode::Chain(items)) = self.nodes.get(i) else { continue };
            let mut lowered: Vec<NodeId> = Vec::with_capacity(items.len());
            let mut run: Vec<Box<str>> = Vec::new();
            let flush = |run: &mut Vec<Box<str>>, lowered: &mut Vec<NodeId>, paths: &mut Vec<Box<str>>, extra: &mut Vec<Node>| {
                if run.len() < 2 {
                    return false;
                }
                let span = Span { start: paths.len() as u32, len: run.len() as u32 };
                paths.append(run);
                lowered.push(NodeId((base + extra.len()) as u32));
                extra.push(Node::Path(span));
                true
            };
            let mut run_ids: Vec<NodeId> = Vec::new();
            for id in items {
                match field_name(&self.nodes, &self.names, *id) {
                    Some(name) => {
                        run.push(name);
                        run_ids.push(*id);
                    }
                    None => {
                        if !flush(&mut run, &mut lowered, &mut paths, &mut extra) {
                            lowered.append(&mut run_ids);
                        }
                        run.clear();
                        run_ids.clear();
                        lowered.push(*id);
                    }
                }
            }
            if !flush(&mut run, &mut lowered, &mut paths, &mut extra) {
                lowered.append(&mut run_ids);
            }
            run_ids.clear();
            let replacement = match lowered.as_slice() {
                [only] => (only.0 as usize).checked_sub(base).and_then(|k| extra.get(k)).copied().map(PNode::Done),
                _ => None,
            };
            if let Some(slot) = self.nodes.get_mut(i) {
                *slot = replacement.unwrap_or(PNode::Chain(lowered));
            }
        }
        let nodes: Vec<Node> = self
            .nodes
            .into_iter()
            .map(|n| match n {
                PNode::Done(node) => node,
                PNode::Chain(items) => Node::Chain(span_of(&items, &mut children)),
                PNode::MultiList(items) => Node::MultiList(span_of(&items, &mut children)),
                PNode::And(items) => Node::And(span_of(&items, &mut children)),
                PNode::Or(items) => Node::Or(span_of(&items, &mut children)),
                PNode::Call(function, items) => Node::Call { function, args: span_of(&items, &mut children) },
                PNode::MultiHash(items, members) => {
                    let span = Span { start: entries.len() as u32, len: items.len() as u32 };
                    entries.extend_from_slice(&items);
                    Node::MultiHash { entries: span, members }
                }
            })
            .chain(extra)
            .collect();
        let height = self.heights.get(root.0 as usize).copied().unwrap_or(0);
        Expression {
            source: src.into(),
            nodes: nodes.into(),
            root,
            children: children.into(),
            entries: entries.into(),
            names: self.names.into(),
            paths: paths.into(),
            consts: self.consts.into(),
            slices: self.slices.into(),
            height,
        }
    }
}

/// An owned copy of a decoded literal (recursion bounded by the decoder's depth limit).
fn to_literal(v: Value<'_>) -> Literal {
    match v {
        Value::Null => Literal::Null,
        Value::Bool(b) => Literal::Bool(b),
        Value::Int(i) => Literal::Int(i),
        Value::Float(f) => Literal::Float(f),
        Value::Str(s) => Literal::Str(s.into()),
        Value::Array(items) => Literal::Array(items.iter().map(|i| to_literal(*i)).collect()),
        Value::Object(members) => Literal::Object(members.iter().map(|m| (Box::from(m.key), to_literal(m.value))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Expression, Error> {
        Expression::parse(src, &ParseLimits::default())
    }

    fn kind(src: &str) -> Option<ErrorKind> {
        parse(src).err().map(|e| e.kind)
    }

    #[test]
    fn field_paths_are_recognised() {
        let e = parse("request.object.metadata.name").unwrap();
        assert_eq!(e.as_field_path(), Some(vec!["request", "object", "metadata", "name"]));
        assert_eq!(parse("foo").unwrap().as_field_path(), Some(vec!["foo"]));
        assert_eq!(parse(r#"a."b c""#).unwrap().as_field_path(), Some(vec!["a", "b c"]));
        assert_eq!(parse("a.b[0]").unwrap().as_field_path(), None);
        assert_eq!(parse("a[*].b").unwrap().as_field_path(), None);
        assert_eq!(parse("@").unwrap().as_field_path(), None);
        assert_eq!(parse("a.b").unwrap().source(), "a.b");
    }

    #[test]
    fn long_chains_do_not_deepen_the_tree() {
        let src = (0..5000).map(|i| format!("f{i}")).collect::<Vec<_>>().join(".");
        let e = parse(&src).unwrap();
        assert!(e.height <= 2, "height {}", e.height);
        let src = (0..5000).map(|i| format!("f{i}")).collect::<Vec<_>>().join(" | ");
        assert!(parse(&src).unwrap().height <= 2);
        let src = (0..5000).map(|i| format!("f{i}")).collect::<Vec<_>>().join(" && ");
        assert!(parse(&src).unwrap().height <= 2);
        let src = format!("a{}", "[0]".repeat(5000));
        assert!(parse(&src).unwrap().height <= 2);
    }

    #[test]
    fn deep_nesting_is_a_limit_error_not_a_stack_overflow() {
        for src in [
            "(".repeat(100_000),
            "[".repeat(100_000),
            "{a:".repeat(30_000),
            "!".repeat(100_000),
            "&".repeat(100_000),
            format!("a{}", ".*.b".repeat(10_000)),
            format!("a{}", "[]".repeat(30_000)),
            format!("a{}", " == a".repeat(10_000)),
            format!("{}a{}", "(".repeat(200), ")".repeat(200)),
            format!("a{}", "[?b".repeat(20_000)),
        ] {
            let limits = ParseLimits { max_length: 1 << 20, max_depth: 128 };
            let err = Expression::parse(&src, &limits).unwrap_err();
            assert!(matches!(err.kind, ErrorKind::Limit | ErrorKind::Syntax), "{err}");
        }
        assert_eq!(kind(&"a".repeat(70_000)), Some(ErrorKind::Limit));
    }

    #[test]
    fn json_literals_are_bounded_by_the_depth_limit() {
        let deep = format!("`{}1{}`", "[".repeat(200), "]".repeat(200));
        assert_eq!(kind(&deep), Some(ErrorKind::Limit));
        assert_eq!(kind("`[1, 2`"), Some(ErrorKind::Syntax));
        assert_eq!(kind("``"), Some(ErrorKind::Syntax));
        assert_eq!(kind("`foo`"), Some(ErrorKind::Syntax));
        let e = parse(r#"`{"a": [1, 2.5, "x\`y"]}`"#).unwrap();
        assert!(matches!(e.constant(ConstId(0)), Some(Literal::Object(_))));
    }

    #[test]
    fn functions_are_resolved_at_parse_time() {
        assert_eq!(kind("nope(@)"), Some(ErrorKind::UnknownFunction));
        assert_eq!(kind("abs(@, @)"), Some(ErrorKind::InvalidArity));
        assert_eq!(kind("not_null()"), Some(ErrorKind::InvalidArity));
        assert_eq!(kind("length(@"), Some(ErrorKind::Syntax));
        assert_eq!(kind("length(@,)"), Some(ErrorKind::Syntax));
        assert_eq!(kind("length(@ @)"), Some(ErrorKind::Syntax));
        assert!(parse("merge(@, @, @)").is_ok());
    }

    #[test]
    fn syntax_errors_carry_an_offset() {
        let e = parse("foo.[0]").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.offset, Some(5));
        assert_eq!(kind(""), Some(ErrorKind::Syntax));
        assert_eq!(kind("foo bar"), Some(ErrorKind::Syntax));
    }
}
