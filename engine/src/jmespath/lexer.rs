//! The JMESPath lexer: source text → tokens with byte spans.
//!
//! First stage of the JMESPath pipeline. A `logos` DFA recognises the punctuation,
//! identifiers and numbers; the three delimited forms (`"quoted identifier"`,
//! `'raw string'`, `` `json literal` ``) are scanned by a callback up to the first
//! unescaped closing delimiter, and their contents are decoded by the parser. Whitespace
//! is space, tab, carriage return and newline, as in the reference implementation.

use logos::Logos;

use super::{Error, ErrorKind};

/// A token. Its text is the source at its span.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n]+")]
pub enum Token {
    #[token(".")]
    Dot,
    #[token("*")]
    Star,
    /// `[]`, written without space.
    #[token("[]")]
    Flatten,
    /// `[?`, written without space.
    #[token("[?")]
    Filter,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token("@")]
    Current,
    #[token("&")]
    Expref,
    #[token("&&")]
    And,
    #[token("||")]
    Or,
    #[token("|")]
    Pipe,
    #[token("!")]
    Not,
    #[token("==")]
    Eq,
    #[token("!=")]
    Ne,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[regex("-?[0-9]+")]
    Number,
    #[regex("[A-Za-z_][A-Za-z0-9_]*")]
    Identifier,
    /// `"..."`, JSON string escapes.
    #[token("\"", |lex| delimited(lex, b'"'))]
    QuotedIdentifier,
    /// `'...'`, where only `\'` is an escape.
    #[token("'", |lex| delimited(lex, b'\''))]
    RawString,
    /// `` `...` ``, where `` \` `` is an escape and the rest is JSON.
    #[token("`", |lex| delimited(lex, b'`'))]
    Literal,
    /// End of input (added by [`tokenize`]).
    Eof,
}

/// Scans past the closing `delim`, skipping any character after a backslash.
fn delimited(lex: &mut logos::Lexer<'_, Token>, delim: u8) -> bool {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while let Some(&b) = rest.get(i) {
        if b == b'\\' {
            // The escaped character may be multi-byte; its continuation bytes are never
            // ASCII, so stepping over the first byte is enough to keep scanning.
            i += 2;
            continue;
        }
        if b == delim {
            // `delim` is ASCII, so `i + 1` is a character boundary.
            lex.bump(i + 1);
            return true;
        }
        i += 1;
    }
    false
}

/// A token and its byte range in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lexeme {
    pub token: Token,
    pub start: usize,
    pub end: usize,
}

/// Lexes the whole source, ending with [`Token::Eof`].
pub fn tokenize(src: &str) -> Result<Vec<Lexeme>, Error> {
    let mut out = Vec::with_capacity(src.len() / 2 + 1);
    let mut lex = Token::lexer(src);
    while let Some(tok) = lex.next() {
        let span = lex.span();
        match tok {
            Ok(token) => out.push(Lexeme { token, start: span.start, end: span.end }),
            Err(()) => {
                let what = match src.as_bytes().get(span.start) {
                    Some(b'"') => "unterminated quoted identifier",
                    Some(b'\'') => "unterminated raw string",
                    Some(b'`') => "unterminated JSON literal",
                    Some(b'=') => "expected `==`",
                    _ => "unexpected character",
                };
                return Err(Error::at(ErrorKind::Syntax, span.start, what));
            }
        }
    }
    out.push(Lexeme { token: Token::Eof, start: src.len(), end: src.len() });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Vec<Token> {
        tokenize(src).unwrap().into_iter().map(|l| l.token).collect()
    }

    #[test]
    fn lexes_punctuation_longest_first() {
        use Token::*;
        assert_eq!(tokens("a[]||b&&!c"), vec![Identifier, Flatten, Or, Identifier, And, Not, Identifier, Eof]);
        assert_eq!(tokens("[ ]"), vec![LBracket, RBracket, Eof]);
        assert_eq!(tokens("[?a<=`1`]"), vec![Filter, Identifier, Le, Literal, RBracket, Eof]);
        assert_eq!(tokens("foo[-1]"), vec![Identifier, LBracket, Number, RBracket, Eof]);
    }

    #[test]
    fn delimited_forms_skip_escapes() {
        let lx = tokenize(r#"'a\'b' "c\"d" `"e\`f`"#).unwrap();
        let spans: Vec<(Token, usize, usize)> = lx.iter().map(|l| (l.token, l.start, l.end)).collect();
        assert_eq!(spans[0], (Token::RawString, 0, 6));
        assert_eq!(spans[1], (Token::QuotedIdentifier, 7, 13));
        assert_eq!(spans[2], (Token::Literal, 14, 21));
    }

    #[test]
    fn rejects_unknown_and_unterminated() {
        for bad in ["a = b", "'abc", "\"abc", "`abc", "#", "a ^ b", "\\"] {
            assert_eq!(tokenize(bad).map(|_| ()).unwrap_err().kind, ErrorKind::Syntax, "{bad}");
        }
    }
}
