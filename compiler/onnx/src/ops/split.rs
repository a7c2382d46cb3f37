//! Split along `axis` (default 0). Sizes: the `split` attribute (opset < 13) or constant input
//! (opset >= 13); else `num_outputs` (opset >= 18, chunks of ceil(d/n), the last one smaller);
//! else an equal split into as many parts as the node has outputs.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn split(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let axis = ctx.axis(ctx.attr_int("axis", 0)?, shape.len(), "axis")?;
    let d = shape[axis];
    let given = if ctx.opset >= 13 { ctx.const_ints_input(1, "split")? } else { ctx.attr_ints("split")? };
    let n_out = ctx.node.output.len();
    let sizes: Vec<usize> = match given {
        Some(s) if !s.is_empty() => {
            let mut sizes = Vec::with_capacity(s.len());
            for v in &s {
                match usize::try_from(*v) {
                    Ok(v) => sizes.push(v),
                    Err(_) => return Err(ctx.err(format!("split {s:?} has a negative size"))),
                }
            }
            if sizes.iter().sum::<usize>() != d {
                return Err(ctx.err(format!("split {s:?} does not sum to the axis {axis} extent {d}")));
            }
            sizes
        }
        _ => {
            let num = match ctx.attr_int_opt("num_outputs")? {
                Some(k) if ctx.opset >= 18 => {
                    let k = usize::try_from(k).ok().filter(|k| *k > 0);
                    let Some(k) = k else {
                        return Err(ctx.err("num_outputs must be positive"));
                    };
                    if k != n_out {
                        return Err(ctx.err(format!("num_outputs is {k} but the node has {n_out} outputs")));
                    }
                    let chunk = d.div_ceil(k);
                    let sizes: Vec<usize> = (0..k).map(|i| chunk.min(d.saturating_sub(i * chunk))).collect();
                    return emit(ctx, x, axis, sizes);
                }
                _ => n_out,
            };
            if d.checked_rem(num) != Some(0) {
                return Err(ctx.err(format!("cannot split extent {d} of axis {axis} equally into {num} outputs")));
            }
            vec![d / num; num]
        }
    };
    if sizes.len() != n_out {
        return Err(ctx.err(format!("split gives {} parts but the node has {n_out} outputs", sizes.len())));
    }
    emit(ctx, x, axis, sizes)
}

fn emit(ctx: &mut NodeCtx<'_>, x: ValueRef, axis: usize, sizes: Vec<usize>) -> Result<Vec<ValueRef>> {
    let names: Vec<String> = (0..sizes.len()).map(|i| ctx.out_name(i)).collect();
    ctx.emit(Op::Split { axis, sizes }, &[x], &names)
}
