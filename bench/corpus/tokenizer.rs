//! A tokenizer for the query language of the log search service:
//!
//!     level:error AND (service:"api gateway" OR status>=500) NOT path:/health*
//!
//! Produces a flat list of tokens with byte spans for error messages.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Ident(String),
    Str(String),
    Number(f64),
    Colon,
    Op(CmpOp),
    And,
    Or,
    Not,
    LParen,
    RParen,
    Wildcard(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, PartialEq)]
pub struct LexError {
    pub message: String,
    pub at: usize,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.at)
    }
}

impl std::error::Error for LexError {}

pub struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'@'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/' | b'@')
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer { src, bytes: src.as_bytes(), pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek2(&self) -> Option<u8> {
        self.bytes.get(self.pos + 1).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn err(&self, message: impl Into<String>, at: usize) -> LexError {
        LexError { message: message.into(), at }
    }

    fn string(&mut self) -> Result<TokenKind, LexError> {
        let start = self.pos;
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string", start)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(TokenKind::Str(out));
                }
                Some(b'\\') => {
                    let esc = self.peek2().ok_or_else(|| self.err("dangling escape", self.pos))?;
                    out.push(match esc {
                        b'n' => '\n',
                        b't' => '\t',
                        b'"' => '"',
                        b'\\' => '\\',
                        other => return Err(self.err(format!("unknown escape \\{}", other as char), self.pos)),
                    });
                    self.pos += 2;
                }
                Some(_) => {
                    // copy one UTF-8 character
                    let ch = self.src[self.pos..].chars().next().unwrap();
                    out.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
    }

    fn number(&mut self) -> Result<TokenKind, LexError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || c == b'.' || c == b'e' || c == b'E' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..self.pos];
        text.parse::<f64>()
            .map(TokenKind::Number)
            .map_err(|_| self.err(format!("bad number {:?}", text), start))
    }

    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        let mut wildcard = false;
        while let Some(c) = self.peek() {
            if is_ident_char(c) {
                self.pos += 1;
            } else if c == b'*' || c == b'?' {
                wildcard = true;
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..self.pos];
        if wildcard {
            return TokenKind::Wildcard(text.to_string());
        }
        match text {
            "AND" | "and" => TokenKind::And,
            "OR" | "or" => TokenKind::Or,
            "NOT" | "not" => TokenKind::Not,
            _ => TokenKind::Ident(text.to_string()),
        }
    }

    fn op(&mut self) -> Option<CmpOp> {
        let (op, len) = match (self.peek()?, self.peek2()) {
            (b'>', Some(b'=')) => (CmpOp::Ge, 2),
            (b'<', Some(b'=')) => (CmpOp::Le, 2),
            (b'!', Some(b'=')) => (CmpOp::Ne, 2),
            (b'>', _) => (CmpOp::Gt, 1),
            (b'<', _) => (CmpOp::Lt, 1),
            (b'=', _) => (CmpOp::Eq, 1),
            _ => return None,
        };
        self.pos += len;
        Some(op)
    }

    pub fn next_token(&mut self) -> Result<Option<Token>, LexError> {
        self.skip_ws();
        let start = self.pos;
        let c = match self.peek() {
            None => return Ok(None),
            Some(c) => c,
        };
        let kind = match c {
            b'(' => {
                self.pos += 1;
                TokenKind::LParen
            }
            b')' => {
                self.pos += 1;
                TokenKind::RParen
            }
            b':' => {
                self.pos += 1;
                TokenKind::Colon
            }
            b'"' => self.string()?,
            b'-' | b'0'..=b'9' => self.number()?,
            b'>' | b'<' | b'=' | b'!' => match self.op() {
                Some(op) => TokenKind::Op(op),
                None => return Err(self.err("unexpected '!'", start)),
            },
            c if is_ident_start(c) || c == b'*' || c == b'/' => self.word(),
            _ => {
                let ch = self.src[start..].chars().next().unwrap();
                return Err(self.err(format!("unexpected character {:?}", ch), start));
            }
        };
        Ok(Some(Token { kind, start, end: self.pos }))
    }
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, LexError> {
    let mut lx = Lexer::new(src);
    let mut out = Vec::new();
    let mut depth: i32 = 0;
    while let Some(tok) = lx.next_token()? {
        match tok.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => {
                depth -= 1;
                if depth < 0 {
                    return Err(LexError { message: "unbalanced ')'".into(), at: tok.start });
                }
            }
            _ => {}
        }
        out.push(tok);
    }
    if depth != 0 {
        return Err(LexError { message: "unclosed '('".into(), at: src.len() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn field_and_string() {
        assert_eq!(
            kinds(r#"service:"api gateway""#),
            vec![TokenKind::Ident("service".into()), TokenKind::Colon, TokenKind::Str("api gateway".into())]
        );
    }

    #[test]
    fn comparison() {
        assert_eq!(
            kinds("status>=500"),
            vec![TokenKind::Ident("status".into()), TokenKind::Op(CmpOp::Ge), TokenKind::Number(500.0)]
        );
    }

    #[test]
    fn unbalanced() {
        assert!(tokenize("(a OR b").is_err());
        assert!(tokenize("a)").is_err());
    }
}
