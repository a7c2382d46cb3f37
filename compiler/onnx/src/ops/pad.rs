//! Pad. Opset < 11: `pads` and `value` (float, default 0) are attributes. Opset >= 11: `pads`
//! is a constant input, `constant_value` an optional scalar input of the data's dtype; opset
//! 18 and later add the optional constant `axes` input (pads then list begins and ends for
//! those axes only). `mode`: constant (default), reflect, edge, and wrap (from opset 19).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::op::PadMode;
use kiln_ir::{Op, Tensor, ValueRef};

pub fn pad(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let ty = ctx.ty(x);
    let r = ty.rank();
    let mode_name = ctx.attr_string("mode", "constant")?;
    let mode = PadMode::from_name(&mode_name).ok_or_else(|| ctx.err(format!("unknown mode '{mode_name}'")))?;
    let (given, mut value) = if ctx.opset >= 11 {
        let pads = ctx.const_ints_input(1, "pads")?.ok_or_else(|| ctx.err("input 1 (pads) is required"))?;
        (pads, ctx.opt_input(2))
    } else {
        let pads = ctx.attr_ints("pads")?.ok_or_else(|| ctx.err("attribute 'pads' is required"))?;
        let v = ctx.attr_float("value", 0.0)?;
        let c = if v != 0.0 {
            let name = ctx.tmp_name("value");
            let t = Tensor::from_f64(&[], vec![v as f64]).map_err(|e| ctx.err(e))?;
            let c = ctx.add_constant(name, t);
            Some(ctx.emit_tmp(Op::Cast { to: ty.dtype }, &[c], "value_cast")?)
        } else {
            None
        };
        (pads, c)
    };
    let axes = match ctx.const_ints_input(3, "axes")? {
        Some(a) if ctx.opset >= 18 => ctx.axes(&a, r, "axes")?,
        _ => (0..r).collect(),
    };
    let n = axes.len();
    if given.len() != 2 * n {
        return Err(ctx.err(format!("pads {given:?} must have {} entries", 2 * n)));
    }
    let mut pads = vec![0i64; 2 * r];
    for (i, &a) in axes.iter().enumerate() {
        pads[a] = given[i];
        pads[a + r] = given[i + n];
    }
    if mode != PadMode::Constant {
        value = None;
    }
    let mut ins = vec![x];
    ins.extend(value);
    Ok(vec![ctx.emit_out(Op::Pad { pads, mode }, &ins)?])
}
