//! The attribute table of the text format, one arm per op on each side: [`print_attrs`] gives
//! an op's attributes in their fixed printing order, [`build_op`] rebuilds the op from its text
//! name and the parsed `{key = value}` pairs (every attribute required, none unknown).

use super::num::{fmt_f32, parse_f32};
use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::op::{ArgOp, AttentionMask, BinaryOp, Op, PadMode, ReduceOp, ScatterReduction, UnaryOp};
use std::collections::BTreeMap;

fn list<T: ToString>(v: &[T]) -> String {
    format!("[{}]", v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", "))
}

/// The op's attributes as (key, value text), in printing order; empty for attribute-less ops.
pub fn print_attrs(op: &Op) -> Vec<(&'static str, String)> {
    match op {
        Op::Input { .. } | Op::Constant(_) | Op::Unary(_) | Op::Binary(_) | Op::Where | Op::MatMul => vec![],
        Op::Cast { to } => vec![("to", to.name().into())],
        Op::Gemm { alpha, beta, trans_a, trans_b } => vec![
            ("alpha", fmt_f32(*alpha)),
            ("beta", fmt_f32(*beta)),
            ("trans_a", trans_a.to_string()),
            ("trans_b", trans_b.to_string()),
        ],
        Op::Softmax { axis } => vec![("axis", axis.to_string())],
        Op::Attention { scale, mask } => {
            let mut a = vec![("scale", fmt_f32(*scale)), ("mask", mask.name().into())];
            if let AttentionMask::Where { fill } = mask {
                a.push(("fill", fmt_f32(*fill)));
            }
            a
        }
        Op::LayerNorm { axis, epsilon } | Op::RmsNorm { axis, epsilon } => {
            vec![("axis", axis.to_string()), ("epsilon", fmt_f32(*epsilon))]
        }
        Op::BatchNorm { epsilon } => vec![("epsilon", fmt_f32(*epsilon))],
        Op::Reduce { axes, keep_dims, .. } => vec![("axes", list(axes)), ("keep_dims", keep_dims.to_string())],
        Op::ArgReduce { axis, keep_dims, select_last_index, .. } => vec![
            ("axis", axis.to_string()),
            ("keep_dims", keep_dims.to_string()),
            ("select_last_index", select_last_index.to_string()),
        ],
        Op::TopK { k, axis, largest, sorted } => vec![
            ("k", k.to_string()),
            ("axis", axis.to_string()),
            ("largest", largest.to_string()),
            ("sorted", sorted.to_string()),
        ],
        Op::CumSum { axis, exclusive, reverse } | Op::CumProd { axis, exclusive, reverse } => {
            vec![("axis", axis.to_string()), ("exclusive", exclusive.to_string()), ("reverse", reverse.to_string())]
        }
        Op::GatherElements { axis } => vec![("axis", axis.to_string())],
        Op::GatherND { batch_dims } => vec![("batch_dims", batch_dims.to_string())],
        Op::ScatterElements { axis, reduction } => {
            vec![("axis", axis.to_string()), ("reduction", reduction.name().into())]
        }
        Op::ScatterND { reduction } => vec![("reduction", reduction.name().into())],
        Op::Pad { pads, mode } => vec![("pads", list(pads)), ("mode", mode.name().into())],
        Op::Reshape { shape } => vec![("shape", list(shape))],
        Op::Transpose { perm } => vec![("perm", list(perm))],
        Op::Concat { axis } => vec![("axis", axis.to_string())],
        Op::Split { axis, sizes } => vec![("axis", axis.to_string()), ("sizes", list(sizes))],
        Op::Slice { axes, starts, ends, steps } => {
            vec![("axes", list(axes)), ("starts", list(starts)), ("ends", list(ends)), ("steps", list(steps))]
        }
        Op::Gather { axis } => vec![("axis", axis.to_string())],
        Op::Expand { shape } => vec![("shape", list(shape))],
        Op::Conv { strides, pads, dilations, group } => vec![
            ("strides", list(strides)),
            ("pads", list(pads)),
            ("dilations", list(dilations)),
            ("group", group.to_string()),
        ],
        Op::Im2Col { kernel, strides, pads, dilations } | Op::MaxPool { kernel, strides, pads, dilations } => vec![
            ("kernel", list(kernel)),
            ("strides", list(strides)),
            ("pads", list(pads)),
            ("dilations", list(dilations)),
        ],
        Op::WinogradInput { pads } => vec![("pads", list(pads))],
        Op::WinogradOutput { out } => vec![("out", list(out))],
        Op::AvgPool { kernel, strides, pads, count_include_pad } => vec![
            ("kernel", list(kernel)),
            ("strides", list(strides)),
            ("pads", list(pads)),
            ("count_include_pad", count_include_pad.to_string()),
        ],
    }
}

/// A parsed attribute value: one word (number, bool, dtype) or a list of words.
#[derive(Clone, Debug)]
pub enum AttrVal {
    Word(String),
    List(Vec<String>),
}

/// The `{key = value}` pairs of one node, consumed by [`build_op`].
pub struct Attrs {
    pub line: usize,
    pub op: String,
    pub map: BTreeMap<String, AttrVal>,
}

impl Attrs {
    fn err(&self, msg: String) -> IrError {
        IrError::Parse { line: self.line, msg: format!("{}: {msg}", self.op) }
    }

    fn take(&mut self, key: &str) -> Result<AttrVal> {
        self.map.remove(key).ok_or_else(|| self.err(format!("missing attribute '{key}'")))
    }

    fn word(&mut self, key: &str) -> Result<String> {
        match self.take(key)? {
            AttrVal::Word(w) => Ok(w),
            AttrVal::List(_) => Err(self.err(format!("attribute '{key}' must be a single value, not a list"))),
        }
    }

    fn words(&mut self, key: &str) -> Result<Vec<String>> {
        match self.take(key)? {
            AttrVal::List(v) => Ok(v),
            AttrVal::Word(_) => Err(self.err(format!("attribute '{key}' must be a list [..]"))),
        }
    }

    fn conv<T>(&self, key: &str, w: &str, what: &str, f: impl Fn(&str) -> Option<T>) -> Result<T> {
        f(w).ok_or_else(|| self.err(format!("attribute '{key}': expected {what}, found '{w}'")))
    }

    fn usize(&mut self, key: &str) -> Result<usize> {
        let w = self.word(key)?;
        self.conv(key, &w, "a non-negative integer", |s| s.parse().ok())
    }

    fn f32(&mut self, key: &str) -> Result<f32> {
        let w = self.word(key)?;
        self.conv(key, &w, "a float", parse_f32)
    }

    fn bool(&mut self, key: &str) -> Result<bool> {
        let w = self.word(key)?;
        self.conv(key, &w, "true or false", |s| s.parse().ok())
    }

    fn dtype(&mut self, key: &str) -> Result<DType> {
        let w = self.word(key)?;
        self.conv(
            key,
            &w,
            "a dtype (f32, f64, f16, bf16, i8, i16, i32, i64, u8, u16, u32, u64, bool)",
            DType::from_name,
        )
    }

    fn scatter_reduction(&mut self) -> Result<ScatterReduction> {
        let w = self.word("reduction")?;
        self.conv("reduction", &w, "none, add, mul, max or min", ScatterReduction::from_name)
    }

    fn pad_mode(&mut self) -> Result<PadMode> {
        let w = self.word("mode")?;
        self.conv("mode", &w, "constant, reflect, edge or wrap", PadMode::from_name)
    }

    fn usizes(&mut self, key: &str) -> Result<Vec<usize>> {
        let ws = self.words(key)?;
        ws.iter().map(|w| self.conv(key, w, "a non-negative integer", |s| s.parse().ok())).collect()
    }

    fn i64s(&mut self, key: &str) -> Result<Vec<i64>> {
        let ws = self.words(key)?;
        ws.iter().map(|w| self.conv(key, w, "an integer", |s| s.parse().ok())).collect()
    }
}

/// Rebuild an op from its text name and attributes.
pub fn build_op(mut a: Attrs) -> Result<Op> {
    let unary = |u| Ok(Op::Unary(u));
    let binary = |b| Ok(Op::Binary(b));
    let op: Result<Op> = match a.op.as_str() {
        "Neg" => unary(UnaryOp::Neg),
        "Sqrt" => unary(UnaryOp::Sqrt),
        "Reciprocal" => unary(UnaryOp::Reciprocal),
        "Exp" => unary(UnaryOp::Exp),
        "Log" => unary(UnaryOp::Log),
        "Erf" => unary(UnaryOp::Erf),
        "Tanh" => unary(UnaryOp::Tanh),
        "Sigmoid" => unary(UnaryOp::Sigmoid),
        "Relu" => unary(UnaryOp::Relu),
        "Add" => binary(BinaryOp::Add),
        "Sub" => binary(BinaryOp::Sub),
        "Mul" => binary(BinaryOp::Mul),
        "Div" => binary(BinaryOp::Div),
        "Pow" => binary(BinaryOp::Pow),
        "Equal" => binary(BinaryOp::Equal),
        "Abs" => unary(UnaryOp::Abs),
        "Ceil" => unary(UnaryOp::Ceil),
        "Floor" => unary(UnaryOp::Floor),
        "Round" => unary(UnaryOp::Round),
        "Sign" => unary(UnaryOp::Sign),
        "Sin" => unary(UnaryOp::Sin),
        "Cos" => unary(UnaryOp::Cos),
        "Tan" => unary(UnaryOp::Tan),
        "Asin" => unary(UnaryOp::Asin),
        "Acos" => unary(UnaryOp::Acos),
        "Atan" => unary(UnaryOp::Atan),
        "Sinh" => unary(UnaryOp::Sinh),
        "Cosh" => unary(UnaryOp::Cosh),
        "Asinh" => unary(UnaryOp::Asinh),
        "Acosh" => unary(UnaryOp::Acosh),
        "Atanh" => unary(UnaryOp::Atanh),
        "IsNaN" => unary(UnaryOp::IsNaN),
        "Not" => unary(UnaryOp::Not),
        "Silu" => unary(UnaryOp::Silu),
        "Gelu" => unary(UnaryOp::Gelu),
        "GeluTanh" => unary(UnaryOp::GeluTanh),
        "Max" => binary(BinaryOp::Max),
        "Min" => binary(BinaryOp::Min),
        "Mod" => binary(BinaryOp::Mod),
        "Fmod" => binary(BinaryOp::Fmod),
        "Greater" => binary(BinaryOp::Greater),
        "Less" => binary(BinaryOp::Less),
        "GreaterOrEqual" => binary(BinaryOp::GreaterOrEqual),
        "LessOrEqual" => binary(BinaryOp::LessOrEqual),
        "And" => binary(BinaryOp::And),
        "Or" => binary(BinaryOp::Or),
        "Xor" => binary(BinaryOp::Xor),
        "BitShiftLeft" => binary(BinaryOp::BitShiftLeft),
        "BitShiftRight" => binary(BinaryOp::BitShiftRight),
        "Where" => Ok(Op::Where),
        "MatMul" => Ok(Op::MatMul),
        "Cast" => Ok(Op::Cast { to: a.dtype("to")? }),
        "Gemm" => Ok(Op::Gemm {
            alpha: a.f32("alpha")?,
            beta: a.f32("beta")?,
            trans_a: a.bool("trans_a")?,
            trans_b: a.bool("trans_b")?,
        }),
        "Softmax" => Ok(Op::Softmax { axis: a.usize("axis")? }),
        "Attention" => {
            let scale = a.f32("scale")?;
            let mask = match a.word("mask")?.as_str() {
                "none" => AttentionMask::None,
                "add" => AttentionMask::Add,
                "where" => AttentionMask::Where { fill: a.f32("fill")? },
                w => return Err(a.err(format!("mask: expected none, add or where, got '{w}'"))),
            };
            Ok(Op::Attention { scale, mask })
        }
        "LayerNorm" => Ok(Op::LayerNorm { axis: a.usize("axis")?, epsilon: a.f32("epsilon")? }),
        "RmsNorm" => Ok(Op::RmsNorm { axis: a.usize("axis")?, epsilon: a.f32("epsilon")? }),
        "BatchNorm" => Ok(Op::BatchNorm { epsilon: a.f32("epsilon")? }),
        "ReduceSum" | "ReduceMean" | "ReduceProd" | "ReduceMax" | "ReduceMin" => Ok(Op::Reduce {
            op: match a.op.as_str() {
                "ReduceSum" => ReduceOp::Sum,
                "ReduceMean" => ReduceOp::Mean,
                "ReduceProd" => ReduceOp::Prod,
                "ReduceMax" => ReduceOp::Max,
                _ => ReduceOp::Min,
            },
            axes: a.usizes("axes")?,
            keep_dims: a.bool("keep_dims")?,
        }),
        "ArgMax" | "ArgMin" => Ok(Op::ArgReduce {
            op: if a.op == "ArgMax" { ArgOp::Max } else { ArgOp::Min },
            axis: a.usize("axis")?,
            keep_dims: a.bool("keep_dims")?,
            select_last_index: a.bool("select_last_index")?,
        }),
        "TopK" => Ok(Op::TopK {
            k: a.usize("k")?,
            axis: a.usize("axis")?,
            largest: a.bool("largest")?,
            sorted: a.bool("sorted")?,
        }),
        "CumProd" => {
            Ok(Op::CumProd { axis: a.usize("axis")?, exclusive: a.bool("exclusive")?, reverse: a.bool("reverse")? })
        }
        "CumSum" => {
            Ok(Op::CumSum { axis: a.usize("axis")?, exclusive: a.bool("exclusive")?, reverse: a.bool("reverse")? })
        }
        "GatherElements" => Ok(Op::GatherElements { axis: a.usize("axis")? }),
        "GatherND" => Ok(Op::GatherND { batch_dims: a.usize("batch_dims")? }),
        "ScatterElements" => Ok(Op::ScatterElements { axis: a.usize("axis")?, reduction: a.scatter_reduction()? }),
        "ScatterND" => Ok(Op::ScatterND { reduction: a.scatter_reduction()? }),
        "Pad" => Ok(Op::Pad { pads: a.i64s("pads")?, mode: a.pad_mode()? }),
        "Reshape" => Ok(Op::Reshape { shape: a.usizes("shape")? }),
        "Transpose" => Ok(Op::Transpose { perm: a.usizes("perm")? }),
        "Concat" => Ok(Op::Concat { axis: a.usize("axis")? }),
        "Split" => Ok(Op::Split { axis: a.usize("axis")?, sizes: a.usizes("sizes")? }),
        "Slice" => Ok(Op::Slice {
            axes: a.usizes("axes")?,
            starts: a.i64s("starts")?,
            ends: a.i64s("ends")?,
            steps: a.i64s("steps")?,
        }),
        "Gather" => Ok(Op::Gather { axis: a.usize("axis")? }),
        "Expand" => Ok(Op::Expand { shape: a.usizes("shape")? }),
        "Conv" => Ok(Op::Conv {
            strides: a.usizes("strides")?,
            pads: a.usizes("pads")?,
            dilations: a.usizes("dilations")?,
            group: a.usize("group")?,
        }),
        "Im2Col" => Ok(Op::Im2Col {
            kernel: a.usizes("kernel")?,
            strides: a.usizes("strides")?,
            pads: a.usizes("pads")?,
            dilations: a.usizes("dilations")?,
        }),
        "WinogradInput" => Ok(Op::WinogradInput { pads: a.usizes("pads")? }),
        "WinogradOutput" => Ok(Op::WinogradOutput { out: a.usizes("out")? }),
        "MaxPool" => Ok(Op::MaxPool {
            kernel: a.usizes("kernel")?,
            strides: a.usizes("strides")?,
            pads: a.usizes("pads")?,
            dilations: a.usizes("dilations")?,
        }),
        "AvgPool" => Ok(Op::AvgPool {
            kernel: a.usizes("kernel")?,
            strides: a.usizes("strides")?,
            pads: a.usizes("pads")?,
            count_include_pad: a.bool("count_include_pad")?,
        }),
        "Input" => Err(a.err("graph inputs are declared in the graph header, not as nodes".into())),
        "Constant" => Err(a.err("constants are written `= Constant dense<[...]>`".into())),
        other => Err(IrError::Parse { line: a.line, msg: format!("unknown op '{other}'") }),
    };
    let op = op?;
    if let Some(k) = a.map.keys().next() {
        return Err(a.err(format!("unknown attribute '{k}'")));
    }
    Ok(op)
}
