//! Convs whose weights are constants: reading their parts (for the passes that fold per-channel
//! maps or merge branches into the weights) and building the rewritten Conv.

use crate::rewrite::{add_float_const, add_op, const_f64};
use crate::PassError;
use kiln_ir::{DType, Graph, NodeIndex, Op, ValueRef};

/// A Conv whose weight (and bias, when present) are float constants.
pub struct ConstConv {
    pub node: NodeIndex,
    pub x: ValueRef,
    pub w_shape: Vec<usize>,
    pub w: Vec<f64>,
    pub b: Option<Vec<f64>>,
    pub strides: Vec<usize>,
    pub pads: Vec<usize>,
    pub dilations: Vec<usize>,
    pub group: usize,
}

impl ConstConv {
    /// Output channels (dim 0 of `w`).
    pub fn out_channels(&self) -> usize {
        self.w_shape[0]
    }

    /// The bias, zeros when absent.
    pub fn bias_or_zero(&self) -> Vec<f64> {
        self.b.clone().unwrap_or_else(|| vec![0.0; self.out_channels()])
    }
}

/// The parts of Conv node `n` when its weight and bias are constants, else why not.
pub fn const_conv(g: &Graph, n: NodeIndex) -> Result<ConstConv, String> {
    let Op::Conv { strides, pads, dilations, group } = &g.node(n).op else {
        return Err("not a Conv".into());
    };
    let ins = g.inputs_of(n);
    let Some((w_shape, w)) = const_f64(g, ins[1]) else {
        return Err(format!("the Conv weight '%{}' is not a constant", g.value_name(ins[1])));
    };
    let b = match ins.get(2) {
        None => None,
        Some(b) => match const_f64(g, *b) {
            Some((_, data)) => Some(data),
            None => return Err(format!("the Conv bias '%{}' is not a constant", g.value_name(*b))),
        },
    };
    Ok(ConstConv {
        node: n,
        x: ins[0],
        w_shape,
        w,
        b,
        strides: strides.clone(),
        pads: pads.clone(),
        dilations: dilations.clone(),
        group: *group,
    })
}

/// Add `Conv(x, w, b)` with the given attributes and constant weights (dtype `dt`); its output is
/// named after `hint`, the constants `hint.w` / `hint.b`.
#[allow(clippy::too_many_arguments)]
pub fn add_const_conv(
    g: &mut Graph,
    pass: &str,
    hint: &str,
    dt: DType,
    x: ValueRef,
    op: Op,
    w_shape: &[usize],
    w: Vec<f64>,
    b: Option<Vec<f64>>,
) -> Result<ValueRef, PassError> {
    let wv = add_float_const(g, pass, &format!("{hint}.w"), dt, w_shape, w)?;
    let mut ins = vec![x, wv];
    if let Some(b) = b {
        ins.push(add_float_const(g, pass, &format!("{hint}.b"), dt, &[w_shape[0]], b)?);
    }
    add_op(g, pass, op, &ins, hint)
}
