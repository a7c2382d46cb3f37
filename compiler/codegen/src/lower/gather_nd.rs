//! GatherND(data, indices) with `b` batch dims and index depth `m = indices.shape[-1]`: one
//! loop nest over the output `[B.., I.., R..]`, reading the `m` index components at
//! `indices[B.., I.., j]`, each wrapped and clamped into its data dim (see
//! `gather_elements::fix_index`), then `data[B.., components.., R..]`.

use super::gather_elements::fix_index;
use crate::emit::Kernel;
use crate::error::{CodegenError, Result};

pub fn lower(batch_dims: usize, k: &mut Kernel) -> Result<()> {
    let (data, ind, o) = (k.param(0), k.param(1), k.param(2));
    let (b, q) = (batch_dims, ind.rank());
    let m = ind.shape[q - 1];
    if data.shape.contains(&0) && o.shape.iter().product::<usize>() > 0 {
        return Err(CodegenError::new("GatherND: gathering from empty data"));
    }
    let nest = k.parallel_loops(&o.shape, &[]);
    let mut di: Vec<String> = nest.ivs[..b].to_vec();
    for j in 0..m {
        let mut ii: Vec<String> = nest.ivs[..q - 1].to_vec();
        ii.push(k.b.idx(j as i64));
        let raw = k.b.load(&ind, &ii);
        di.push(fix_index(k, &raw, ind.dtype, data.shape[b + j]));
    }
    di.extend_from_slice(&nest.ivs[q - 1..]);
    let v = k.b.load(&data, &di);
    k.b.store(&v, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}
