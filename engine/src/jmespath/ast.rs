//! The parsed form of an expression: a flat node table.
//!
//! Second stage of the JMESPath pipeline (after [`super::lexer`], built by
//! [`super::parser`], walked by [`super::eval`]). An [`Expression`] owns every node in one
//! table addressed by [`NodeId`]; lists of children (chains, multi-selects, function
//! arguments, `&&`/`||` operands) live in a side table, identifiers in a name table,
//! and JSON literals as owned [`Literal`] trees. Nothing in it borrows from the source or
//! from a request, so one parsed expression serves every thread.
//!
//! Sequences that JMESPath evaluates left to right by feeding each result to the next
//! step — sub-expressions `a.b`, index expressions `a[0]` and pipes `a | b` — are one
//! n-ary [`Node::Chain`]: evaluation iterates instead of recursing, so a chain of a
//! thousand fields costs no stack. Runs of plain fields (`request.object.metadata`, the
//! bulk of Kyverno's expressions) are lowered further to one [`Node::Path`] whose names
//! are read straight from a table.

use super::functions::FunctionId;

/// A node of an [`Expression`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub u32);

/// A constant of an [`Expression`]: a JSON literal, a raw string or a multi-select hash
/// key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConstId(pub u32);

/// An identifier: an index into the expression's name table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Name(pub(crate) u32);

/// A run of the expression's child table (node ids), pair table (hash entries) or path
/// table (field names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

/// Comparators of a comparison expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// The bounds of a slice `[start:stop:step]`; a missing part is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Slice {
    pub start: Option<i64>,
    pub stop: Option<i64>,
    pub step: Option<i64>,
}

/// A JSON literal (`` `...` ``) or raw string (`'...'`), owned by the expression.
/// Evaluation copies strings, arrays and objects into the request arena the first time
/// they are needed (once per evaluation); scalars need no copy.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Array(Box<[Literal]>),
    Object(Box<[(Box<str>, Literal)]>),
}

/// One entry of a multi-select hash `{key: value}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HashEntry {
    /// The key, a string constant.
    pub key: ConstId,
    pub value: NodeId,
    /// The member's position in the result: a repeated key keeps the position of its
    /// first occurrence (and the value of its last), resolved by the parser.
    pub slot: u32,
}

/// One node of the table. Each variant says which syntax produces it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node {
    /// `@`, and the implicit right-hand side of a projection with nothing after it
    /// (`foo[*]`): the current value.
    Current,
    /// `foo`, `"foo"`: the member of an object (null for anything else).
    Field(Name),
    /// `a.b.c`: a run of two or more fields, each applied to the previous one's result.
    /// The parser lowers chains of fields (and runs of fields inside chains) to this
    /// node, whose names sit back to back in the expression's path table, so that
    /// evaluation walks them without visiting a node per field; it pays the steps of
    /// the fields it replaces.
    Path(Span),
    /// `[2]`, `[-1]`: an array element, negative from the end (null when out of range or
    /// not an array).
    Index(i64),
    /// `[start:stop:step]`: a sub-array (null when not an array; a zero step is
    /// `invalid-value`). The bounds are in the expression's slice table; the parser always
    /// wraps the node in a [`Node::Project`].
    Slice(u32),
    /// `a.b`, `a[0]`, `a | b`: each child applied to the previous child's result, left to
    /// right (the parser flattens nested sub-expressions, index expressions and pipes into
    /// one chain).
    Chain(Span),
    /// `lhs[*] rhs`, `lhs[] rhs`, `lhs[a:b] rhs`: evaluates `lhs`; when it is an array,
    /// applies `rhs` to each element and collects the non-null results.
    Project { lhs: NodeId, rhs: NodeId },
    /// `lhs.* rhs`, `* rhs`: like [`Node::Project`] over the values of an object.
    ProjectValues { lhs: NodeId, rhs: NodeId },
    /// `lhs[]`: the array with nested arrays spliced in one level (the parser wraps it in
    /// a [`Node::Project`]).
    Flatten(NodeId),
    /// `lhs[?cond] rhs`: the elements of the array `lhs` for which `cond` is truthy,
    /// projected through `rhs`.
    Filter { lhs: NodeId, cond: NodeId, rhs: NodeId },
    /// `[a, b]` (after an expression: `x.[a, b]`): an array of each child's value (null
    /// on a null input).
    MultiList(Span),
    /// `{k: a, "j": b}`: an object of each key's value (null on a null input). The
    /// entries are in the expression's hash-entry table; `members` is the number of
    /// distinct keys.
    MultiHash { entries: Span, members: u32 },
    /// `` `json` ``, `'raw'`: a constant.
    Literal(ConstId),
    /// `a == b`, `a != b`, `a < b`, ...: deep equality, or an ordering of two numbers
    /// (null for anything else).
    Compare { op: CompareOp, lhs: NodeId, rhs: NodeId },
    /// `a && b && c`: the first falsy operand, else the last.
    And(Span),
    /// `a || b || c`: the first truthy operand, else the last.
    Or(Span),
    /// `!a`: the negated truthiness of `a`.
    Not(NodeId),
    /// `name(arg, ...)`: a function call; the function was resolved and its arity checked
    /// by the parser.
    Call { function: FunctionId, args: Span },
    /// `&expr`: an expression reference, only meaningful as a function argument.
    ExprRef(NodeId),
}

/// A parsed expression: immutable, `Send + Sync`, evaluated with
/// [`Expression::evaluate`](super::eval).
#[derive(Debug)]
pub struct Expression {
    pub(crate) source: Box<str>,
    pub(crate) nodes: Box<[Node]>,
    pub(crate) root: NodeId,
    /// Children of chains, multi-select lists, calls, `&&` and `||`.
    pub(crate) children: Box<[NodeId]>,
    /// Entries of multi-select hashes.
    pub(crate) entries: Box<[HashEntry]>,
    /// Every identifier, by [`Name`].
    pub(crate) names: Box<[Box<str>]>,
    /// The field names of [`Node::Path`] nodes, back to back.
    pub(crate) paths: Box<[Box<str>]>,
    pub(crate) consts: Box<[Literal]>,
    pub(crate) slices: Box<[Slice]>,
    /// Height of the node tree (chains count once), which bounds evaluation recursion
    /// (the parser checks it against [`super::ParseLimits::max_depth`]; kept for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) height: u32,
}

impl Expression {
    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The root node.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// A node of the table.
    #[inline]
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.0 as usize)
    }

    /// Every node, in creation order (for printing; unreachable nodes may appear).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The text of an identifier.
    #[inline]
    pub fn name(&self, name: Name) -> &str {
        self.names.get(name.0 as usize).map_or("", |n| n)
    }

    /// The bytes of an identifier (the hot path of field lookups).
    #[inline]
    pub(crate) fn name_bytes(&self, name: Name) -> &[u8] {
        self.names.get(name.0 as usize).map_or(&[], |n| n.as_bytes())
    }

    /// The field names of a [`Node::Path`].
    #[inline]
    pub fn path(&self, span: Span) -> &[Box<str>] {
        let start = span.start as usize;
        self.paths.get(start..start + span.len as usize).unwrap_or(&[])
    }

    /// The children of a chain, multi-select list, call, `&&` or `||`.
    #[inline]
    pub fn children(&self, span: Span) -> &[NodeId] {
        let start = span.start as usize;
        self.children.get(start..start + span.len as usize).unwrap_or(&[])
    }

    /// The entries of a multi-select hash.
    pub fn entries(&self, span: Span) -> &[HashEntry] {
        let start = span.start as usize;
        self.entries.get(start..start + span.len as usize).unwrap_or(&[])
    }

    /// A constant.
    pub fn constant(&self, id: ConstId) -> Option<&Literal> {
        self.consts.get(id.0 as usize)
    }

    /// The bounds of a [`Node::Slice`].
    pub fn slice(&self, index: u32) -> Option<&Slice> {
        self.slices.get(index as usize)
    }

    /// The field names of a pure chain of identifiers such as
    /// `request.object.metadata.name` (`None` for anything else). The compiler lowers
    /// these to plain field loads.
    pub fn as_field_path(&self) -> Option<Vec<&str>> {
        match self.node(self.root)? {
            Node::Field(name) => Some(vec![self.name(*name)]),
            Node::Path(span) => Some(self.path(*span).iter().map(|n| &**n).collect()),
            Node::Chain(span) => {
                let mut out = Vec::new();
                for id in self.children(*span) {
                    match self.node(*id)? {
                        Node::Field(name) => out.push(self.name(*name)),
                        Node::Path(span) => out.extend(self.path(*span).iter().map(|n| &**n)),
                        _ => return None,
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_is_send_sync_and_nodes_are_small() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Expression>();
        assert!(core::mem::size_of::<Node>() <= 16);
    }
}
