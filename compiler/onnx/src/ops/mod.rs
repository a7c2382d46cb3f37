//! Op importers, one file per ONNX op family; `registry.rs` maps op types to them.

pub mod activation;
pub mod arg_reduce;
pub mod attention;
pub mod batch_norm;
pub mod cast;
pub mod constant;
pub mod control_if;
pub mod control_loop;
pub mod control_scan;
pub mod conv;
pub mod conv1d;
pub mod conv_transpose;
pub mod cumsum;
pub mod decomp;
pub mod einsum;
pub mod elementwise;
pub mod gather;
pub mod gather_elements;
pub mod gemm;
pub mod identity;
pub mod layer_norm;
pub mod log_softmax;
pub mod logical;
pub mod loss;
pub mod lp_pool;
pub mod lrn;
pub mod matmul;
pub mod mean;
pub mod norm;
pub mod one_hot;
pub mod pad;
pub mod pool;
pub mod quant;
pub mod range;
pub mod reduce;
pub mod resize;
pub mod resize_axis;
pub mod rnn;
pub mod rotary;
pub mod scatter;
pub mod shape_ops;
pub mod size;
pub mod slice;
pub mod softmax;
pub mod space_depth;
pub mod split;
pub mod tile;
pub mod topk;
pub mod trilu;
pub mod where_;
pub mod window;

/// numpy broadcast of two shapes, or `None` when they are incompatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let mut out = vec![0; r];
    for i in 0..r {
        let da = if i + a.len() >= r { a[i + a.len() - r] } else { 1 };
        let db = if i + b.len() >= r { b[i + b.len() - r] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Product of dims (element count).
pub fn product(dims: &[usize]) -> usize {
    dims.iter().product()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast() {
        assert_eq!(broadcast_shapes(&[2, 1, 3], &[4, 1]), Some(vec![2, 4, 3]));
        assert_eq!(broadcast_shapes(&[], &[5]), Some(vec![5]));
        assert_eq!(broadcast_shapes(&[2, 3], &[4, 3]), None);
    }
}
