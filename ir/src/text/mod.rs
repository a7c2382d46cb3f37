//! The kiln IR text format: an MLIR-like, line-per-node form that round-trips exactly
//! (`parse(&print(&g)) == g`, `print(&parse(t)?) == t` for canonical text). The grammar is in
//! docs/ir.md.
//!
//! - [`lex`]: tokens with line numbers.
//! - [`attrs`]: the per-op attribute table (printing order and parsing), one place per op.
//! - [`print`] / [`parse`]: graph to text and back.

mod attrs;
mod lex;
mod num;
mod parse;
mod print;

pub use parse::parse;
pub use print::{print, print_with};

/// Printer settings. The default prints everything (text that round-trips).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrintOptions {
    /// Constants with more elements than this print as `dense<elided N elements>` (for
    /// snapshots and logs; such text does not parse). `None` prints every element.
    pub elide_constants_over: Option<usize>,
}

/// Whether `name` prints bare after `%` / `@` (else it is quoted).
pub(crate) fn is_bare_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `"..."` with `\\`, `\"`, `\n`, `\t` and `\u{..}` escapes for other control characters.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value or graph name after its sigil: bare when possible, else quoted.
pub(crate) fn name(sigil: char, name: &str) -> String {
    if is_bare_name(name) {
        format!("{sigil}{name}")
    } else {
        format!("{sigil}{}", quote(name))
    }
}
