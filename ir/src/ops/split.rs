//! `Split { axis, sizes }`: one output per entry of `sizes`, consecutive pieces along `axis`
//! (any dtype); the sizes must sum to the input's extent along `axis`.

use super::check;
use super::elem::{array_of, Elem};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{Axis, Slice};

const NAME: &str = "Split";

pub fn infer(axis: usize, sizes: &[usize], inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    check::axis(NAME, axis, x.rank())?;
    if sizes.is_empty() {
        return Err(IrError::op(NAME, "sizes must not be empty"));
    }
    let total = sizes.iter().try_fold(0usize, |t, s| t.checked_add(*s));
    if total != Some(x.shape[axis]) {
        let total = total.map_or("more than the address space".to_string(), |t| t.to_string());
        return Err(IrError::op(
            NAME,
            format!("sizes {sizes:?} sum to {total}, but {x} has {} along axis {axis}", x.shape[axis]),
        ));
    }
    Ok(sizes
        .iter()
        .map(|s| {
            let mut shape = x.shape.clone();
            shape[axis] = *s;
            TensorType::new(x.dtype, shape)
        })
        .collect())
}

pub fn eval(axis: usize, sizes: &[usize], inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(axis, sizes, &check::types_of(inputs))?;
    crate::with_any_dtype!(inputs[0].dtype(), T => split::<T>(axis, sizes, inputs[0]))
}

fn split<T: Elem>(axis: usize, sizes: &[usize], x: &Tensor) -> Result<Vec<Tensor>> {
    let a = array_of::<T>(NAME, x)?;
    let mut start = 0;
    let mut out = Vec::with_capacity(sizes.len());
    for s in sizes {
        let piece = a.slice_axis(Axis(axis), Slice::from(start..start + s));
        out.push(T::wrap(piece.as_standard_layout().into_owned().into_shared()));
        start += s;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn pieces() {
        let x = Tensor::from_i64(&[2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap();
        let r = eval(1, &[1, 2], &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i64(&[2, 1], vec![1, 4]).unwrap());
        assert_eq!(r[1], Tensor::from_i64(&[2, 2], vec![2, 3, 5, 6]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let ty = TensorType::new(DType::F32, vec![2, 3]);
        assert_eq!(
            infer(1, &[1, 1], std::slice::from_ref(&ty)).unwrap_err().to_string(),
            "Split: sizes [1, 1] sum to 2, but f32[2,3] has 3 along axis 1"
        );
        assert!(infer(1, &[], std::slice::from_ref(&ty)).is_err());
        assert!(infer(2, &[3], &[ty]).is_err());
    }
}
