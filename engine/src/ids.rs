//! Typed indices into a [`Program`](crate::program::Program)'s tables.
//!
//! Every cross-reference in compiled code is one of these newtypes, so an index into the
//! string pool can never be used as a code address. The VM checks every one of them
//! before use: a bad index is an engine error, never a panic.

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id!(
    /// An instruction address in [`Program::code`](crate::program::Program::code).
    Addr
);
id!(
    /// A string in the constant pool (keys, messages).
    StrId
);
id!(
    /// A map key in [`Program::keys`](crate::program::Program::keys).
    KeyId
);
id!(
    /// A compiled [`ValuePattern`](crate::matcher::ValuePattern).
    PatternId
);
id!(
    /// A compiled [`MatchSpec`](crate::matching::MatchSpec).
    MatchId
);
id!(
    /// A rule in [`Program::rules`](crate::program::Program::rules), in policy order.
    RuleId
);
id!(
    /// A policy in [`Program::policies`](crate::program::Program::policies).
    PolicyId
);
id!(
    /// A slot of the per-pattern anchor bookkeeping (one per distinct anchor key).
    AnchorSlot
);
id!(
    /// A compiled [`Template`](crate::template::Template): a string with `{{ }}` variables.
    TemplateId
);
id!(
    /// A [`ConditionSet`](crate::rule::ConditionSet): `preconditions` or `deny.conditions`.
    CondId
);
id!(
    /// A [`ContextEntry`](crate::rule::ContextEntry) of a rule or a `foreach`.
    ContextId
);
id!(
    /// A [`ForEach`](crate::rule::ForEach) declaration of `validate.foreach`.
    ForEachId
);
id!(
    /// A compiled `validate.podSecurity`
    /// ([`PodSecurityRule`](crate::podsecurity::PodSecurityRule)).
    PodSecurityId
);
id!(
    /// A compiled [`Mutation`](crate::mutate::Mutation) (`mutate` rules).
    MutationId
);
id!(
    /// A compiled [`Generate`](crate::generate::Generate) (`generate` rules).
    GenerateId
);
