//! Tokenizer of the IR text format: sigil names (`%x`, `@g`, quoted forms), strings, words
//! (identifiers and numbers: `[A-Za-z0-9_.+-]+`) and punctuation; `//` comments to end of line.

use crate::error::{IrError, Result};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// `%name` or `%"name"`.
    Value(String),
    /// `@name` or `@"name"`.
    Global(String),
    /// `"text"`.
    Str(String),
    /// An identifier or a number.
    Word(String),
    /// One of `( ) { } [ ] < > , : =`.
    Punct(char),
}

impl Tok {
    /// How the token is named in "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Value(n) => format!("value %{n}"),
            Tok::Global(n) => format!("@{n}"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Word(w) => format!("'{w}'"),
            Tok::Punct(c) => format!("'{c}'"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

pub fn lex(text: &str) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    let mut it = text.chars().peekable();
    let mut line = 1;
    let err = |line, msg: String| IrError::Parse { line, msg };
    while let Some(&c) = it.peek() {
        match c {
            '\n' => {
                line += 1;
                it.next();
            }
            c if c.is_whitespace() => {
                it.next();
            }
            '/' => {
                it.next();
                if it.peek() != Some(&'/') {
                    return Err(err(line, "unexpected '/' (comments start with //)".into()));
                }
                while it.peek().is_some_and(|c| *c != '\n') {
                    it.next();
                }
            }
            '%' | '@' => {
                it.next();
                let name = if it.peek() == Some(&'"') {
                    it.next();
                    string(&mut it, line)?
                } else {
                    let mut s = String::new();
                    while let Some(&c) = it.peek().filter(|c| is_name_char(**c)) {
                        s.push(c);
                        it.next();
                    }
                    if s.is_empty() {
                        return Err(err(line, format!("expected a name after '{c}'")));
                    }
                    s
                };
                out.push(Token { tok: if c == '%' { Tok::Value(name) } else { Tok::Global(name) }, line });
            }
            '"' => {
                it.next();
                let s = string(&mut it, line)?;
                out.push(Token { tok: Tok::Str(s), line });
            }
            '(' | ')' | '{' | '}' | '[' | ']' | '<' | '>' | ',' | ':' | '=' => {
                it.next();
                out.push(Token { tok: Tok::Punct(c), line });
            }
            c if is_word_char(c) => {
                let mut s = String::new();
                while let Some(&c) = it.peek().filter(|c| is_word_char(**c)) {
                    s.push(c);
                    it.next();
                }
                out.push(Token { tok: Tok::Word(s), line });
            }
            c => return Err(err(line, format!("unexpected character {c:?}"))),
        }
    }
    Ok(out)
}

/// The rest of a quoted string after its opening `"`, unescaped.
fn string(it: &mut std::iter::Peekable<std::str::Chars<'_>>, line: usize) -> Result<String> {
    let err = |msg: &str| IrError::Parse { line, msg: msg.to_string() };
    let mut s = String::new();
    loop {
        match it.next() {
            None | Some('\n') => return Err(err("unterminated string")),
            Some('"') => return Ok(s),
            Some('\\') => match it.next() {
                Some('"') => s.push('"'),
                Some('\\') => s.push('\\'),
                Some('n') => s.push('\n'),
                Some('t') => s.push('\t'),
                Some('u') => {
                    if it.next() != Some('{') {
                        return Err(err("expected '{' after \\u"));
                    }
                    let mut hex = String::new();
                    loop {
                        match it.next() {
                            Some('}') => break,
                            Some(c) if c.is_ascii_hexdigit() && hex.len() < 6 => hex.push(c),
                            _ => return Err(err("bad \\u{...} escape")),
                        }
                    }
                    let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    s.push(c.ok_or_else(|| err("bad \\u{...} escape"))?);
                }
                _ => return Err(err("unknown escape (use \\\\, \\\", \\n, \\t or \\u{..})")),
            },
            Some(c) => s.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = lex("%a: f32[1,2] = Add(%\"x/y\", %b) // note\n{eps = -1e-5}").unwrap();
        let toks: Vec<Tok> = t.iter().map(|t| t.tok.clone()).collect();
        assert_eq!(toks[0], Tok::Value("a".into()));
        assert_eq!(toks[2], Tok::Word("f32".into()));
        assert_eq!(toks[11], Tok::Value("x/y".into()));
        assert_eq!(t.last().unwrap().line, 2);
        assert_eq!(toks[toks.len() - 2], Tok::Word("-1e-5".into()));
        assert!(lex("\"open").is_err());
        assert!(lex("$").is_err());
    }
}
