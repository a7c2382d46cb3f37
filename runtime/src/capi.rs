//! The C API (`runtime/include/kiln.h`): an opaque `kiln_model` wrapping [`Model`], with names
//! and shapes pre-converted to C types, a thread-local last-error message, and `catch_unwind`
//! around every entry point so no panic crosses the FFI boundary.

use crate::dtype::DType;
use crate::error::Error;
use crate::model::Model;
use crate::tensor::TensorInfo;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// `kiln_model` in kiln.h.
pub struct KilnModel {
    model: Model,
    inputs: Vec<CTensorInfo>,
    outputs: Vec<CTensorInfo>,
}

struct CTensorInfo {
    name: CString,
    dtype: DType,
    shape: Vec<i64>,
}

impl CTensorInfo {
    fn new(info: &TensorInfo) -> CTensorInfo {
        let bytes: Vec<u8> = info.name.bytes().filter(|&b| b != 0).collect();
        CTensorInfo {
            name: CString::new(bytes).unwrap_or_default(),
            dtype: info.dtype,
            shape: info.shape.iter().map(|&d| d as i64).collect(),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_error(msg: &str) {
    let bytes: Vec<u8> = msg.bytes().filter(|&b| b != 0).collect();
    let c = CString::new(bytes).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Run `f`, turning a panic into `on_panic` plus an error message.
fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        set_error("internal error: the kiln runtime panicked");
        on_panic
    })
}

/// The message of the last failed call on this thread ("" if none). Valid until the next kiln
/// call on this thread.
#[no_mangle]
pub extern "C" fn kiln_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The runtime version, e.g. "kiln-runtime 0.1.0 (abi 1)". Static storage.
#[no_mangle]
pub extern "C" fn kiln_version() -> *const c_char {
    static VERSION: &str = concat!("kiln-runtime ", env!("CARGO_PKG_VERSION"), " (abi 1)\0");
    VERSION.as_ptr().cast()
}

/// The artifact ABI version this runtime reads.
#[no_mangle]
pub extern "C" fn kiln_abi_version() -> u32 {
    kiln_abi::ABI_VERSION
}

/// Load a model; NULL on error (see `kiln_last_error`). `threads` 0 = one per CPU.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn kiln_model_load(path: *const c_char, threads: c_int) -> *mut KilnModel {
    guard(ptr::null_mut(), || {
        if path.is_null() {
            set_error("kiln_model_load: path is NULL");
            return ptr::null_mut();
        }
        if threads < 0 {
            set_error(&format!("kiln_model_load: threads must be >= 0, got {threads}"));
            return ptr::null_mut();
        }
        // SAFETY: non-null NUL-terminated string (caller contract).
        let path = unsafe { CStr::from_ptr(path) };
        let Ok(path) = path.to_str() else {
            set_error("kiln_model_load: path is not UTF-8");
            return ptr::null_mut();
        };
        match Model::load_with_threads(path, threads as usize) {
            Ok(model) => {
                let inputs = model.inputs().iter().map(CTensorInfo::new).collect();
                let outputs = model.outputs().iter().map(CTensorInfo::new).collect();
                Box::into_raw(Box::new(KilnModel { model, inputs, outputs }))
            }
            Err(e) => {
                set_error(&e.to_string());
                ptr::null_mut()
            }
        }
    })
}

/// Free a model (NULL is a no-op).
///
/// # Safety
/// `model` is NULL or from `kiln_model_load`, not yet freed, and not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn kiln_model_free(model: *mut KilnModel) {
    guard((), || {
        if !model.is_null() {
            // SAFETY: created by Box::into_raw in kiln_model_load (caller contract).
            drop(unsafe { Box::from_raw(model) });
        }
    })
}

/// # Safety
/// `model` is NULL or a live model.
unsafe fn model_ref<'a>(model: *const KilnModel, func: &str) -> Option<&'a KilnModel> {
    // SAFETY: caller contract.
    let m = unsafe { model.as_ref() };
    if m.is_none() {
        set_error(&format!("{func}: model is NULL"));
    }
    m
}

/// # Safety
/// `model` is NULL or a live model.
unsafe fn tensor<'a>(model: *const KilnModel, output: bool, i: usize, func: &str) -> Option<&'a CTensorInfo> {
    // SAFETY: caller contract.
    let m = unsafe { model_ref(model, func) }?;
    let (list, what) = if output { (&m.outputs, "output") } else { (&m.inputs, "input") };
    let t = list.get(i);
    if t.is_none() {
        set_error(&format!("{func}: {what} index {i} out of range (the model has {})", list.len()));
    }
    t
}

macro_rules! signature_fns {
    ($num:ident, $name:ident, $dtype:ident, $rank:ident, $shape:ident, $output:expr, $field:ident) => {
        /// Number of inputs/outputs (0 if `model` is NULL).
        ///
        /// # Safety
        /// `model` is NULL or a live model.
        #[no_mangle]
        pub unsafe extern "C" fn $num(model: *const KilnModel) -> usize {
            guard(0, || unsafe { model_ref(model, stringify!($num)) }.map_or(0, |m| m.$field.len()))
        }

        /// Name (NUL-terminated, owned by the model), or NULL when out of range.
        ///
        /// # Safety
        /// `model` is NULL or a live model.
        #[no_mangle]
        pub unsafe extern "C" fn $name(model: *const KilnModel, i: usize) -> *const c_char {
            guard(ptr::null(), || {
                unsafe { tensor(model, $output, i, stringify!($name)) }.map_or(ptr::null(), |t| t.name.as_ptr())
            })
        }

        /// dtype code (KILN_F32 = 0, ...), or -1 when out of range.
        ///
        /// # Safety
        /// `model` is NULL or a live model.
        #[no_mangle]
        pub unsafe extern "C" fn $dtype(model: *const KilnModel, i: usize) -> c_int {
            guard(-1, || unsafe { tensor(model, $output, i, stringify!($dtype)) }.map_or(-1, |t| t.dtype.code()))
        }

        /// Rank, or 0 when out of range.
        ///
        /// # Safety
        /// `model` is NULL or a live model.
        #[no_mangle]
        pub unsafe extern "C" fn $rank(model: *const KilnModel, i: usize) -> usize {
            guard(0, || unsafe { tensor(model, $output, i, stringify!($rank)) }.map_or(0, |t| t.shape.len()))
        }

        /// Dims (`rank` of them, owned by the model), or NULL when out of range. A scalar's
        /// shape pointer is non-NULL with rank 0.
        ///
        /// # Safety
        /// `model` is NULL or a live model.
        #[no_mangle]
        pub unsafe extern "C" fn $shape(model: *const KilnModel, i: usize) -> *const i64 {
            guard(ptr::null(), || {
                unsafe { tensor(model, $output, i, stringify!($shape)) }.map_or(ptr::null(), |t| t.shape.as_ptr())
            })
        }
    };
}

signature_fns!(
    kiln_model_num_inputs,
    kiln_model_input_name,
    kiln_model_input_dtype,
    kiln_model_input_rank,
    kiln_model_input_shape,
    false,
    inputs
);
signature_fns!(
    kiln_model_num_outputs,
    kiln_model_output_name,
    kiln_model_output_dtype,
    kiln_model_output_rank,
    kiln_model_output_shape,
    true,
    outputs
);

/// Run the model. `inputs[i]` / `outputs[i]` point at dense row-major buffers sized from the
/// declared shapes; the caller owns them. Returns 0 on success, -1 on error (see
/// `kiln_last_error`). Safe to call from several threads at once on one model.
///
/// # Safety
/// `model` is NULL or live; `inputs`/`outputs` are NULL or arrays of num_inputs/num_outputs
/// pointers, each valid for its tensor's byte size; outputs do not overlap anything else.
#[no_mangle]
pub unsafe extern "C" fn kiln_model_run(
    model: *const KilnModel,
    inputs: *const *const c_void,
    outputs: *const *mut c_void,
) -> c_int {
    guard(-1, || {
        // SAFETY: caller contract.
        let Some(m) = (unsafe { model_ref(model, "kiln_model_run") }) else {
            return -1;
        };
        let plan = &m.model.plan;
        // SAFETY: caller contract on the arrays.
        let ins = match unsafe { pointer_array(inputs.cast(), &plan.input_bytes, &m.inputs, "input") } {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        // SAFETY: caller contract on the arrays.
        let outs = match unsafe { pointer_array(outputs.cast(), &plan.output_bytes, &m.outputs, "output") } {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        let outs: Vec<*mut u8> = outs.into_iter().map(|p| p.cast_mut()).collect();
        // SAFETY: counts match the plan and the caller guarantees the buffer sizes.
        match unsafe { m.model.execute_raw(&ins, &outs) } {
            Ok(()) => 0,
            Err(e) => fail(e),
        }
    })
}

fn fail(e: Error) -> c_int {
    set_error(&e.to_string());
    -1
}

/// Read `sizes.len()` buffer pointers from `array`; NULL entries are allowed only for empty
/// tensors (they become a dangling aligned pointer).
///
/// # Safety
/// `array` is NULL or points at `sizes.len()` pointers.
unsafe fn pointer_array(
    array: *const *const u8,
    sizes: &[usize],
    infos: &[CTensorInfo],
    what: &str,
) -> Result<Vec<*const u8>, Error> {
    if sizes.is_empty() {
        return Ok(Vec::new());
    }
    if array.is_null() {
        return Err(Error::Mismatch { details: format!("kiln_model_run: the {what} array is NULL") });
    }
    // SAFETY: caller contract.
    let raw = unsafe { std::slice::from_raw_parts(array, sizes.len()) };
    let mut null = Vec::new();
    let mut out = Vec::with_capacity(raw.len());
    for ((&p, &n), info) in raw.iter().zip(sizes).zip(infos) {
        if p.is_null() && n > 0 {
            null.push(format!("{what} '{}' is NULL", info.name.to_string_lossy()));
        }
        out.push(if p.is_null() { ptr::NonNull::<u8>::dangling().as_ptr().cast_const() } else { p });
    }
    if !null.is_empty() {
        return Err(Error::Mismatch { details: format!("kiln_model_run: {}", null.join("; ")) });
    }
    Ok(out)
}
