//! `Transpose { perm }`: output dim `i` is input dim `perm[i]` (any dtype).

use super::check;
use super::elem::{array_of, Elem};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;

const NAME: &str = "Transpose";

pub fn infer(perm: &[usize], inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    let mut seen = vec![false; x.rank()];
    if perm.len() != x.rank() || perm.iter().any(|p| *p >= x.rank() || std::mem::replace(&mut seen[*p], true)) {
        return Err(IrError::op(NAME, format!("perm {perm:?} is not a permutation of the {} dims of {x}", x.rank())));
    }
    let shape = perm.iter().map(|p| x.shape[*p]).collect();
    Ok(vec![TensorType::new(x.dtype, shape)])
}

pub fn eval(perm: &[usize], inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(perm, &check::types_of(inputs))?;
    let t = crate::with_any_dtype!(inputs[0].dtype(), T => transpose::<T>(perm, inputs[0])?);
    Ok(vec![t])
}

fn transpose<T: Elem>(perm: &[usize], x: &Tensor) -> Result<Tensor> {
    let a = array_of::<T>(NAME, x)?.view().permuted_axes(perm);
    Ok(T::wrap(a.as_standard_layout().into_owned().into_shared()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn permutes() {
        // [[[0, 1, 2], [3, 4, 5]]] shape [1, 2, 3], perm [2, 0, 1] -> [3, 1, 2]
        let x = Tensor::from_i32(&[1, 2, 3], (0..6).collect()).unwrap();
        let r = eval(&[2, 0, 1], &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[3, 1, 2], vec![0, 3, 1, 4, 2, 5]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let ty = TensorType::new(DType::F32, vec![2, 3]);
        assert_eq!(
            infer(&[0, 0], std::slice::from_ref(&ty)).unwrap_err().to_string(),
            "Transpose: perm [0, 0] is not a permutation of the 2 dims of f32[2,3]"
        );
        assert!(infer(&[0], std::slice::from_ref(&ty)).is_err());
        assert!(infer(&[0, 2], &[ty]).is_err());
    }
}
