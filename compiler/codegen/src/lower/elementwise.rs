//! The shared elementwise loop nest: `out[i] = f(in_0[i'], in_1[i''], ...)` over the output
//! shape with numpy broadcasting of every input (broadcast dims read index 0).

use crate::emit::{broadcast_index, Builder, Kernel};

/// Emit the nest over parameter `out`'s shape, loading inputs `ins` and storing `f(values)`.
pub fn map(k: &mut Kernel, ins: &[usize], out: usize, f: &mut dyn FnMut(&mut Builder, &[String]) -> String) {
    let o = k.param(out);
    let nest = k.parallel_loops(&o.shape, &[]);
    let zero = k.b.idx(0);
    let mut vals = Vec::new();
    for &i in ins {
        let m = k.param(i);
        let idx = broadcast_index(&nest.ivs, &m.shape, &o.shape, &zero);
        vals.push(k.b.load(&m, &idx));
    }
    let r = f(&mut k.b, &vals);
    k.b.store(&r, &o, &nest.ivs);
    k.close(nest);
}
