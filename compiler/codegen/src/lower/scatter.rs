//! ScatterElements / ScatterND: one workgroup (updates to one target must apply in index
//! order) copies `data` to the output, then walks the updates in row-major order, computes each
//! target (indices wrapped and clamped as in `gather_elements::fix_index`) and stores the update
//! or combines it with the value there (`addf/addi`, `mulf/muli`, `maximumf/maxsi/maxui`,
//! `minimumf/minsi`; `maxui`/`minui` for unsigned).

use super::gather_elements::fix_index;
use crate::emit::{reg_ty, Kernel, Mem};
use crate::error::{CodegenError, Result};
use kiln_ir::op::ScatterReduction;
use kiln_ir::DType;

/// Which scatter: ScatterElements along an axis, or ScatterND.
#[derive(Clone, Copy)]
pub enum Kind {
    Elements { axis: usize },
    Nd,
}

pub fn lower(kind: Kind, reduction: ScatterReduction, k: &mut Kernel) -> Result<()> {
    let (data, ind, upd, o) = (k.param(0), k.param(1), k.param(2), k.param(3));
    let dt = data.dtype;
    if dt == DType::Bool && reduction != ScatterReduction::None {
        return Err(CodegenError::new("Scatter: reductions need numeric data"));
    }
    let n_upd: usize = upd.shape.iter().product();
    if data.shape.contains(&0) && n_upd > 0 {
        return Err(CodegenError::new("Scatter: updates into empty data"));
    }
    let part = k.begin_parallel(&[], &[]);
    let copy = k.loops(&data.shape, &[], &part);
    let v = k.b.load(&data, &copy.ivs);
    k.b.store(&v, &o, &copy.ivs);
    k.close(copy);

    let nest = k.loops(&upd.shape, &[], &part);
    let target = match kind {
        Kind::Elements { axis } => {
            let raw = k.b.load(&ind, &nest.ivs);
            let mut t = nest.ivs.clone();
            t[axis] = fix_index(k, &raw, ind.dtype, data.shape[axis]);
            t
        }
        Kind::Nd => {
            let q = ind.rank();
            let m = ind.shape[q - 1];
            let mut t = Vec::with_capacity(data.rank());
            for j in 0..m {
                let mut ii: Vec<String> = nest.ivs[..q - 1].to_vec();
                ii.push(k.b.idx(j as i64));
                let raw = k.b.load(&ind, &ii);
                t.push(fix_index(k, &raw, ind.dtype, data.shape[j]));
            }
            t.extend_from_slice(&nest.ivs[q - 1..]);
            t
        }
    };
    let u = k.b.load(&upd, &nest.ivs);
    let r = combine(k, reduction, &o, &target, &u, dt);
    k.b.store(&r, &o, &target);
    k.close(nest);
    k.end_parallel(part);
    Ok(())
}

fn combine(k: &mut Kernel, r: ScatterReduction, o: &Mem, at: &[String], u: &str, dt: DType) -> String {
    let float = dt.is_float();
    let unsigned = dt.is_unsigned();
    let name = match r {
        ScatterReduction::None => return u.to_string(),
        ScatterReduction::Add => {
            if float {
                "addf"
            } else {
                "addi"
            }
        }
        ScatterReduction::Mul => {
            if float {
                "mulf"
            } else {
                "muli"
            }
        }
        ScatterReduction::Max => {
            if float {
                "maximumf"
            } else if unsigned {
                "maxui"
            } else {
                "maxsi"
            }
        }
        ScatterReduction::Min => {
            if float {
                "minimumf"
            } else if unsigned {
                "minui"
            } else {
                "minsi"
            }
        }
    };
    let cur = k.b.load(o, at);
    k.b.op(format!("arith.{name} {cur}, {u} : {}", reg_ty(dt)))
}
