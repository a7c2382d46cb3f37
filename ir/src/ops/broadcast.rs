//! numpy broadcasting: the result shape of several operand shapes, whether one shape broadcasts
//! to another (unidirectional, as for Gemm's C or Expand), and the index map from a result
//! position to an operand position (shared with codegen, which lowers it to affine maps).

use crate::error::{IrError, Result};
use ndarray::{ArcArray, ArrayView, IxDyn};

/// The broadcast result of two shapes, or `None` when a dim pair is neither equal nor 1.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for (i, o) in out.iter_mut().enumerate() {
        // dims aligned from the right; missing leading dims are 1
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        *o = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// The broadcast result of all `shapes`, or an `IrError::Op` naming `op` and the shapes.
pub fn broadcast_all(op: &str, shapes: &[&[usize]]) -> Result<Vec<usize>> {
    let mut out: Vec<usize> = Vec::new();
    for s in shapes {
        out = broadcast_shapes(&out, s).ok_or_else(|| {
            IrError::op(
                op,
                format!(
                    "shapes {} do not broadcast",
                    shapes.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    }
    Ok(out)
}

/// Whether `from` broadcasts to exactly `to` (numpy rules, only `from` is stretched).
pub fn broadcasts_to(from: &[usize], to: &[usize]) -> bool {
    broadcast_shapes(from, to).as_deref() == Some(to)
}

/// The operand index read for result index `out_idx` when an operand of shape `in_shape` is
/// broadcast to the result: leading result dims are dropped, size-1 operand dims read index 0.
pub fn source_index(out_idx: &[usize], in_shape: &[usize]) -> Vec<usize> {
    let skip = out_idx.len() - in_shape.len();
    in_shape.iter().zip(&out_idx[skip..]).map(|(d, i)| if *d == 1 { 0 } else { *i }).collect()
}

/// A broadcast view of `a` with shape `to` (the caller has checked `broadcasts_to`).
pub fn view_as<'a, T>(op: &str, a: &'a ArcArray<T, IxDyn>, to: &[usize]) -> Result<ArrayView<'a, T, IxDyn>> {
    a.broadcast(IxDyn(to)).ok_or_else(|| IrError::Eval(format!("{op}: cannot broadcast {:?} to {to:?}", a.shape())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(broadcast_shapes(&[2, 1, 4], &[3, 1]), Some(vec![2, 3, 4]));
        assert_eq!(broadcast_shapes(&[], &[5]), Some(vec![5]));
        assert_eq!(broadcast_shapes(&[0], &[1]), Some(vec![0]));
        assert_eq!(broadcast_shapes(&[2, 3], &[3, 2]), None);
        assert!(broadcasts_to(&[3, 1], &[2, 3, 4]));
        assert!(!broadcasts_to(&[2, 3, 4], &[3, 1]));
        let e = broadcast_all("Add", &[&[2], &[3]]).unwrap_err();
        assert_eq!(e.to_string(), "Add: shapes [2], [3] do not broadcast");
    }

    #[test]
    fn index_map() {
        assert_eq!(source_index(&[1, 2, 3], &[3, 1]), vec![2, 0]);
        assert_eq!(source_index(&[1, 2], &[]), Vec::<usize>::new());
    }
}
