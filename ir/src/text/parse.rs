//! Text -> graph. Builds with `Graph::add_raw` + `push_input_node`, checks every node's declared
//! types against shape inference as it goes (errors name the line), then runs the verifier.

use super::attrs::{build_op, AttrVal, Attrs};
use super::lex::{lex, Tok, Token};
use super::num::{parse_bf16, parse_f16, parse_f32, parse_f64};
use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::graph::{Graph, GraphOutput, ValueInfo, ValueRef};
use crate::op::Op;
use crate::tensor::Tensor;
use crate::types::TensorType;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Parse IR text (see docs/ir.md); `IrError::Parse { line, .. }` on malformed text or a node
/// whose declared types do not match inference, `IrError::Verify` if the verifier rejects it.
pub fn parse(text: &str) -> Result<Graph> {
    let mut p = Parser { toks: lex(text)?, i: 0, values: HashMap::new() };
    let g = p.graph()?;
    crate::verify::verify(&g)?;
    Ok(g)
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    values: HashMap<String, ValueRef>,
}

impl Parser {
    fn line(&self) -> usize {
        self.toks.get(self.i).or(self.toks.last()).map_or(1, |t| t.line)
    }

    fn err(&self, msg: impl Into<String>) -> IrError {
        IrError::Parse { line: self.line(), msg: msg.into() }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn found(&self) -> String {
        self.peek().map_or("end of text".into(), Tok::describe)
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).map(|t| t.tok.clone());
        self.i += 1;
        t
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn punct(&mut self, c: char) -> Result<()> {
        if !self.is_punct(c) {
            return Err(self.err(format!("expected '{c}', found {}", self.found())));
        }
        self.i += 1;
        Ok(())
    }

    fn word(&mut self, what: &str) -> Result<String> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.err(format!("expected {what}, found {}", self.found()))),
        }
    }

    fn keyword(&mut self, k: &str) -> Result<()> {
        if self.peek() != Some(&Tok::Word(k.into())) {
            return Err(self.err(format!("expected '{k}', found {}", self.found())));
        }
        self.i += 1;
        Ok(())
    }

    fn value_name(&mut self) -> Result<String> {
        match self.peek() {
            Some(Tok::Value(n)) => {
                let n = n.clone();
                self.i += 1;
                Ok(n)
            }
            _ => Err(self.err(format!("expected a value name like %x, found {}", self.found()))),
        }
    }

    /// `dtype[d0,d1,...]`
    fn ty(&mut self) -> Result<TensorType> {
        let w = self.word("a type like f32[1,4]")?;
        let dtype = DType::from_name(&w)
            .ok_or_else(|| self.err(format!("unknown dtype '{w}' (expected f32, f64, i32, i64 or bool)")))?;
        self.punct('[')?;
        let mut shape = Vec::new();
        while !self.is_punct(']') {
            if !shape.is_empty() {
                self.punct(',')?;
            }
            let d = self.word("a dimension")?;
            shape.push(d.parse().map_err(|_| self.err(format!("bad dimension '{d}'")))?);
        }
        let bytes = shape.iter().try_fold(dtype.size_bytes(), |n: usize, d: &usize| n.checked_mul(*d));
        if bytes.is_none_or(|b| b > isize::MAX as usize) {
            return Err(self.err(format!("type {w}{shape:?} is too large to address")));
        }
        self.punct(']')?;
        Ok(TensorType::new(dtype, shape))
    }

    /// Record a new value name, rejecting duplicates.
    fn define(&mut self, name: &str, v: ValueRef, line: usize) -> Result<()> {
        if self.values.insert(name.to_string(), v).is_some() {
            return Err(IrError::Parse { line, msg: format!("value %{name} is defined twice") });
        }
        Ok(())
    }

    fn use_value(&self, name: &str) -> Result<ValueRef> {
        self.values.get(name).copied().ok_or_else(|| self.err(format!("value %{name} is not defined before this use")))
    }

    fn graph(&mut self) -> Result<Graph> {
        self.keyword("graph")?;
        let name = match self.bump() {
            Some(Tok::Global(n)) => n,
            _ => {
                self.i -= 1;
                return Err(self.err(format!("expected the graph name like @main, found {}", self.found())));
            }
        };
        let mut g = Graph::new(name);
        self.punct('(')?;
        while !self.is_punct(')') {
            if !g.inputs().is_empty() {
                self.punct(',')?;
            }
            let line = self.line();
            let name = self.value_name()?;
            self.punct(':')?;
            let ty = self.ty()?;
            let n = g.add_raw(Op::Input { index: g.inputs().len() }, &[], vec![ValueInfo { name: name.clone(), ty }]);
            g.push_input_node(n);
            self.define(&name, ValueRef::new(n, 0), line)?;
        }
        self.punct(')')?;
        self.punct('{')?;
        loop {
            match self.peek() {
                Some(Tok::Value(_)) => self.node(&mut g)?,
                Some(Tok::Word(w)) if w == "return" => break,
                _ => {
                    return Err(self
                        .err(format!("expected a node `%name: type = Op(...)` or `return`, found {}", self.found())))
                }
            }
        }
        self.i += 1;
        let mut outs = Vec::new();
        while !self.is_punct('}') {
            if !outs.is_empty() {
                self.punct(',')?;
            }
            let v = self.value_name()?;
            let value = self.use_value(&v)?;
            let name = if self.peek() == Some(&Tok::Word("as".into())) {
                self.i += 1;
                match self.bump() {
                    Some(Tok::Str(s)) => s,
                    _ => {
                        self.i -= 1;
                        return Err(
                            self.err(format!("expected the output name as a \"string\", found {}", self.found()))
                        );
                    }
                }
            } else {
                v
            };
            outs.push(GraphOutput { name, value });
        }
        self.punct('}')?;
        if self.peek().is_some() {
            return Err(self.err(format!("expected end of text after the graph's '}}', found {}", self.found())));
        }
        g.set_outputs(outs);
        Ok(g)
    }

    /// `%a: T, %b: T = Op(%x, %y) {k = v, ...}` or `%c: T = Constant dense<[...]>`.
    fn node(&mut self, g: &mut Graph) -> Result<()> {
        let line = self.line();
        let mut outs = Vec::new();
        loop {
            let name = self.value_name()?;
            self.punct(':')?;
            let ty = self.ty()?;
            outs.push(ValueInfo { name, ty });
            if !self.is_punct(',') {
                break;
            }
            self.i += 1;
        }
        self.punct('=')?;
        let op_name = self.word("an op name")?;
        let (op, args) = if op_name == "Constant" {
            if outs.len() != 1 {
                return Err(IrError::Parse { line, msg: "Constant has exactly one result".into() });
            }
            (Op::Constant(Arc::new(self.constant(&outs[0].ty)?)), vec![])
        } else {
            self.punct('(')?;
            let mut args = Vec::new();
            while !self.is_punct(')') {
                if !args.is_empty() {
                    self.punct(',')?;
                }
                let v = self.value_name()?;
                args.push(self.use_value(&v)?);
            }
            self.punct(')')?;
            let map = if self.is_punct('{') { self.attrs()? } else { BTreeMap::new() };
            let op = build_op(Attrs { line, op: op_name.clone(), map })?;
            let in_tys: Vec<TensorType> = args.iter().map(|v| g.value_type(*v).clone()).collect();
            let inferred = crate::ops::infer(&op, &in_tys).map_err(|e| IrError::Parse { line, msg: e.to_string() })?;
            let declared: Vec<TensorType> = outs.iter().map(|o| o.ty.clone()).collect();
            if inferred != declared {
                let show = |v: &[TensorType]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
                return Err(IrError::Parse {
                    line,
                    msg: format!(
                        "{op_name}: declared result types ({}) differ from inferred ({})",
                        show(&declared),
                        show(&inferred)
                    ),
                });
            }
            (op, args)
        };
        let names: Vec<String> = outs.iter().map(|o| o.name.clone()).collect();
        let n = g.add_raw(op, &args, outs);
        for (port, name) in names.iter().enumerate() {
            self.define(name, ValueRef::new(n, port), line)?;
        }
        Ok(())
    }

    /// `{key = value, key = [v, ...]}`
    fn attrs(&mut self) -> Result<BTreeMap<String, AttrVal>> {
        self.punct('{')?;
        let mut map = BTreeMap::new();
        while !self.is_punct('}') {
            if !map.is_empty() {
                self.punct(',')?;
            }
            let line = self.line();
            let key = self.word("an attribute name")?;
            self.punct('=')?;
            let val = if self.is_punct('[') {
                self.i += 1;
                let mut v = Vec::new();
                while !self.is_punct(']') {
                    if !v.is_empty() {
                        self.punct(',')?;
                    }
                    v.push(self.word("a list element")?);
                }
                self.i += 1;
                AttrVal::List(v)
            } else {
                AttrVal::Word(self.word("an attribute value")?)
            };
            if map.insert(key.clone(), val).is_some() {
                return Err(IrError::Parse { line, msg: format!("attribute '{key}' is given twice") });
            }
        }
        self.i += 1;
        Ok(map)
    }

    /// `dense<[e, ...]>` or `splat<e>` for a constant of type `ty`.
    fn constant(&mut self, ty: &TensorType) -> Result<Tensor> {
        let line = self.line();
        let kind = self.word("dense<...> or splat<...>")?;
        self.punct('<')?;
        let n = ty.num_elements();
        let (words, splat) = match kind.as_str() {
            "splat" => (vec![self.word("the splat element")?], true),
            "dense" => {
                if self.peek() == Some(&Tok::Word("elided".into())) {
                    return Err(self.err(
                        "constant data was elided by the printer (PrintOptions::elide_constants_over); this text cannot be parsed",
                    ));
                }
                self.punct('[')?;
                let mut v = Vec::new();
                while !self.is_punct(']') {
                    if !v.is_empty() {
                        self.punct(',')?;
                    }
                    v.push(self.word("a constant element")?);
                }
                self.i += 1;
                if v.len() != n {
                    return Err(IrError::Parse {
                        line,
                        msg: format!("dense<...> has {} elements, {ty} needs {n}", v.len()),
                    });
                }
                (v, false)
            }
            other => return Err(self.err(format!("expected dense<...> or splat<...>, found '{other}'"))),
        };
        self.punct('>')?;
        let bad = |w: &str| IrError::Parse { line, msg: format!("'{w}' is not a {} value", ty.dtype) };
        // one parsed element per word; a splat's single element is repeated n times
        macro_rules! elems {
            ($f:expr) => {{
                let v = words.iter().map(|w| $f(w.as_str()).ok_or_else(|| bad(w))).collect::<Result<Vec<_>>>()?;
                if splat {
                    vec![v[0]; n]
                } else {
                    v
                }
            }};
        }
        let shape = &ty.shape;
        match ty.dtype {
            DType::F32 => Tensor::from_f32(shape, elems!(parse_f32)),
            DType::F64 => Tensor::from_f64(shape, elems!(parse_f64)),
            DType::I32 => Tensor::from_i32(shape, elems!(|w: &str| w.parse().ok())),
            DType::I64 => Tensor::from_i64(shape, elems!(|w: &str| w.parse().ok())),
            DType::Bool => Tensor::from_bool(shape, elems!(|w: &str| w.parse().ok())),
            DType::F16 => Tensor::from_vec(shape, elems!(parse_f16)),
            DType::BF16 => Tensor::from_vec(shape, elems!(parse_bf16)),
            DType::I8 => Tensor::from_vec(shape, elems!(|w: &str| w.parse::<i8>().ok())),
            DType::I16 => Tensor::from_vec(shape, elems!(|w: &str| w.parse::<i16>().ok())),
            DType::U8 => Tensor::from_vec(shape, elems!(|w: &str| w.parse::<u8>().ok())),
            DType::U16 => Tensor::from_vec(shape, elems!(|w: &str| w.parse::<u16>().ok())),
            DType::U32 => Tensor::from_vec(shape, elems!(|w: &str| w.parse::<u32>().ok())),
            DType::U64 => Tensor::from_vec(shape, elems!(|w: &str| w.parse::<u64>().ok())),
        }
    }
}
