//! `ScatterElements { axis, reduction }(data, indices, updates)` and
//! `ScatterND { reduction }(data, indices, updates)`: the output is a copy of `data` with each
//! update written (`none`) or combined (`add`, `mul`, `max`, `min`) into its target, in index
//! order (so with `none` a repeated target keeps the last update).
//! - Elements: indices and updates share one shape of the data's rank; update `i` goes to `i`
//!   with dim `axis` replaced by `indices[i]`.
//! - ND: with `m = indices.shape[-1]`, updates have shape `indices.shape[..q-1] ++
//!   data.shape[m..]`; update `[I.., R..]` goes to `data[indices[I.., 0..m], R..]`.
//!
//! Indices are i32/i64 (negative count from the end; out of range is an evaluation error);
//! data may have any dtype, but reductions other than `none` need a numeric one. Float max/min
//! propagate NaN.

use super::check;
use super::elem::{array_of, Elem, Float, Int};
use super::index::{fix_index, ravel, strides, unravel};
use crate::error::{IrError, Result};
use crate::op::ScatterReduction;
use crate::tensor::Tensor;
use crate::types::TensorType;
use crate::DType;
use ndarray::{ArcArray, IxDyn};

fn common(name: &str, reduction: ScatterReduction, inputs: &[TensorType]) -> Result<()> {
    check::count(name, inputs, 3, 3)?;
    let (data, idx, upd) = (&inputs[0], &inputs[1], &inputs[2]);
    if !idx.dtype.is_int() {
        return Err(IrError::op(name, format!("indices must be i32 or i64, got {}", idx.dtype)));
    }
    check::same_dtype(name, "data", data, "updates", upd)?;
    if reduction != ScatterReduction::None && data.dtype == DType::Bool {
        return Err(IrError::op(name, format!("reduction {} needs numeric data, got bool", reduction.name())));
    }
    Ok(())
}

pub fn infer_elements(axis: usize, reduction: ScatterReduction, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    const NAME: &str = "ScatterElements";
    common(NAME, reduction, inputs)?;
    let (data, idx, upd) = (&inputs[0], &inputs[1], &inputs[2]);
    check::axis(NAME, axis, data.rank())?;
    check::rank(NAME, "indices", idx, data.rank())?;
    if upd.shape != idx.shape {
        return Err(IrError::op(NAME, format!("updates {upd} and indices {idx} differ in shape")));
    }
    for d in 0..data.rank() {
        if d != axis && idx.shape[d] > data.shape[d] {
            return Err(IrError::op(NAME, format!("indices {idx} exceed data {data} on dim {d}")));
        }
    }
    Ok(vec![data.clone()])
}

pub fn infer_nd(reduction: ScatterReduction, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    const NAME: &str = "ScatterND";
    common(NAME, reduction, inputs)?;
    let (data, idx, upd) = (&inputs[0], &inputs[1], &inputs[2]);
    let q = idx.rank();
    let m = if q >= 1 { idx.shape[q - 1] } else { 0 };
    if q < 1 || m < 1 || m > data.rank() {
        return Err(IrError::op(NAME, format!("indices {idx} need a last dim in 1..={} for data {data}", data.rank())));
    }
    let mut want = idx.shape[..q - 1].to_vec();
    want.extend(&data.shape[m..]);
    if upd.shape != want {
        return Err(IrError::op(NAME, format!("updates must have shape {want:?}, got {upd}")));
    }
    Ok(vec![data.clone()])
}

/// Target flat positions in the data, one per update element (row-major update order).
fn targets_elements(axis: usize, data: &[usize], idx_shape: &[usize], idx: &[i64]) -> Result<Vec<usize>> {
    let st = strides(data);
    let mut out = Vec::with_capacity(idx.len());
    for (p, &i) in idx.iter().enumerate() {
        let mut pos = unravel(p, idx_shape);
        pos[axis] = fix_index("ScatterElements", i, data[axis])?;
        out.push(ravel(&pos, &st));
    }
    Ok(out)
}

fn targets_nd(data: &[usize], idx_shape: &[usize], idx: &[i64]) -> Result<Vec<usize>> {
    let st = strides(data);
    let m = idx_shape[idx_shape.len() - 1];
    let slice: usize = data[m..].iter().product();
    let mut out = Vec::with_capacity(idx.len() / m * slice);
    for tuple in idx.chunks(m) {
        let mut base = 0;
        for (j, &i) in tuple.iter().enumerate() {
            base += fix_index("ScatterND", i, data[j])? * st[j];
        }
        out.extend((0..slice).map(|r| base + r));
    }
    Ok(out)
}

fn float_combine<T: Float>(r: ScatterReduction) -> impl Fn(T, T) -> T {
    move |a: T, b: T| match r {
        ScatterReduction::None => b,
        ScatterReduction::Add => a + b,
        ScatterReduction::Mul => a * b,
        _ if a.is_nan() || b.is_nan() => T::from_f64(f64::NAN),
        ScatterReduction::Max => {
            if b > a {
                b
            } else {
                a
            }
        }
        ScatterReduction::Min => {
            if b < a {
                b
            } else {
                a
            }
        }
    }
}

fn int_combine<T: Int>(r: ScatterReduction) -> impl Fn(T, T) -> T {
    move |a: T, b: T| match r {
        ScatterReduction::None => b,
        ScatterReduction::Add => a.wrapping_add(b),
        ScatterReduction::Mul => a.wrapping_mul(b),
        ScatterReduction::Max => {
            if b > a {
                b
            } else {
                a
            }
        }
        ScatterReduction::Min => {
            if b < a {
                b
            } else {
                a
            }
        }
    }
}

fn apply<T: Elem>(data: &Tensor, updates: &Tensor, targets: &[usize], f: impl Fn(T, T) -> T) -> Result<Tensor> {
    let name = "Scatter";
    let mut out: Vec<T> = array_of::<T>(name, data)?.iter().copied().collect();
    for (u, &t) in array_of::<T>(name, updates)?.iter().zip(targets) {
        out[t] = f(out[t], *u);
    }
    let arr = ArcArray::from_shape_vec(IxDyn(data.shape()), out).map_err(|e| IrError::Eval(format!("{name}: {e}")))?;
    Ok(T::wrap(arr))
}

fn scatter(reduction: ScatterReduction, inputs: &[&Tensor], targets: &[usize]) -> Result<Tensor> {
    let (d, u) = (inputs[0], inputs[2]);
    crate::with_float_dtype!(d.dtype(), T => apply::<T>(d, u, targets, float_combine::<T>(reduction)),
        _ => crate::with_int_dtype!(d.dtype(), T => apply::<T>(d, u, targets, int_combine::<T>(reduction)),
            _ => apply::<bool>(d, u, targets, |_, b| b)))
}

pub fn eval_elements(axis: usize, reduction: ScatterReduction, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer_elements(axis, reduction, &check::types_of(inputs))?;
    let t = targets_elements(axis, inputs[0].shape(), inputs[1].shape(), &inputs[1].to_i64_vec()?)?;
    Ok(vec![scatter(reduction, inputs, &t)?])
}

pub fn eval_nd(reduction: ScatterReduction, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer_nd(reduction, &check::types_of(inputs))?;
    let t = targets_nd(inputs[0].shape(), inputs[1].shape(), &inputs[1].to_i64_vec()?)?;
    Ok(vec![scatter(reduction, inputs, &t)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_elements_onnx_examples() {
        // spec example 2: data [[1, 2, 3, 4, 5]], indices [[1, 3]], updates [[1.1, 2.1]], axis 1
        let data = Tensor::from_f32(&[1, 5], vec![1., 2., 3., 4., 5.]).unwrap();
        let idx = Tensor::from_i64(&[1, 2], vec![1, -2]).unwrap();
        let upd = Tensor::from_f32(&[1, 2], vec![1.1, 2.1]).unwrap();
        let r = eval_elements(1, ScatterReduction::None, &[&data, &idx, &upd]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 5], vec![1., 1.1, 3., 2.1, 5.]).unwrap());
        // repeated target with add: indices [[1, 1]] -> 2 + 1.1 + 2.1
        let idx = Tensor::from_i64(&[1, 2], vec![1, 1]).unwrap();
        let r = eval_elements(1, ScatterReduction::Add, &[&data, &idx, &upd]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 5], vec![1., 2. + 1.1 + 2.1, 3., 4., 5.]).unwrap());
        let r = eval_elements(1, ScatterReduction::None, &[&data, &idx, &upd]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 5], vec![1., 2.1, 3., 4., 5.]).unwrap());
        let bad = Tensor::from_i64(&[1, 2], vec![5, 0]).unwrap();
        assert!(eval_elements(1, ScatterReduction::None, &[&data, &bad, &upd]).is_err());
    }

    #[test]
    fn scatter_nd_onnx_examples() {
        // spec example 1: data [1..8], indices [[4], [3], [1], [7]], updates [9, 10, 11, 12]
        let data = Tensor::from_i32(&[8], (1..=8).collect()).unwrap();
        let idx = Tensor::from_i64(&[4, 1], vec![4, 3, 1, 7]).unwrap();
        let upd = Tensor::from_i32(&[4], vec![9, 10, 11, 12]).unwrap();
        let r = eval_nd(ScatterReduction::None, &[&data, &idx, &upd]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[8], vec![1, 11, 3, 10, 9, 6, 7, 12]).unwrap());
        let r = eval_nd(ScatterReduction::Mul, &[&data, &idx, &upd]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[8], vec![1, 22, 3, 40, 45, 6, 7, 96]).unwrap());
        // row slices: data [[1, 2], [3, 4]], indices [[1]], updates [[7, 8]] -> [[1, 2], [7, 8]]
        let data = Tensor::from_f64(&[2, 2], vec![1., 2., 3., 4.]).unwrap();
        let idx = Tensor::from_i32(&[1, 1], vec![1]).unwrap();
        let upd = Tensor::from_f64(&[1, 2], vec![7., 8.]).unwrap();
        let r = eval_nd(ScatterReduction::Max, &[&data, &idx, &upd]).unwrap();
        assert_eq!(r[0], Tensor::from_f64(&[2, 2], vec![1., 2., 7., 8.]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let d = TensorType::new(DType::F32, vec![2, 2]);
        let i = TensorType::new(DType::I64, vec![1, 2]);
        assert!(infer_elements(
            0,
            ScatterReduction::None,
            &[d.clone(), i.clone(), TensorType::new(DType::F32, vec![2])]
        )
        .is_err());
        assert!(
            infer_nd(ScatterReduction::None, &[d.clone(), TensorType::new(DType::I64, vec![1, 3]), d.clone()]).is_err()
        );
        let b = TensorType::new(DType::Bool, vec![2, 2]);
        let bu = TensorType::new(DType::Bool, vec![1, 2]);
        assert!(infer_elements(0, ScatterReduction::Add, &[b.clone(), i.clone(), bu.clone()]).is_err());
        assert!(infer_elements(0, ScatterReduction::None, &[b, i, bu]).is_ok());
    }
}
