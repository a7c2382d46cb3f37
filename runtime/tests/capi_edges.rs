//! C API edge cases called directly from Rust: NULL arguments, out-of-range indices, the
//! thread-local error message, NULL buffers, and a successful run through `kiln_model_run`.

mod support;

use kiln_runtime::capi::*;
use std::ffi::{c_void, CStr, CString};
use std::ptr;

fn last_error() -> String {
    // SAFETY: kiln_last_error returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(kiln_last_error()) }.to_string_lossy().into_owned()
}

#[test]
fn null_and_out_of_range_arguments() {
    unsafe {
        assert!(kiln_model_load(ptr::null(), 0).is_null());
        assert_eq!(last_error(), "kiln_model_load: path is NULL");
        let missing = CString::new("/nonexistent.so").expect("cstring");
        assert!(kiln_model_load(missing.as_ptr(), 0).is_null());
        assert!(last_error().starts_with("/nonexistent.so: cannot read:"), "{}", last_error());
        assert!(kiln_model_load(missing.as_ptr(), -1).is_null());
        assert_eq!(last_error(), "kiln_model_load: threads must be >= 0, got -1");
        assert_eq!(kiln_model_num_inputs(ptr::null()), 0);
        assert_eq!(last_error(), "kiln_model_num_inputs: model is NULL");
        assert_eq!(kiln_model_run(ptr::null(), ptr::null(), ptr::null()), -1);
        kiln_model_free(ptr::null_mut());
        let v = CStr::from_ptr(kiln_version()).to_string_lossy().into_owned();
        assert_eq!(v, format!("kiln-runtime {} (abi 1)", env!("CARGO_PKG_VERSION")));
        assert_eq!(kiln_abi_version(), 1);
    }
}

#[test]
fn signature_and_run() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let path = CString::new(so.to_str().expect("utf8 path")).expect("cstring");
    unsafe {
        let m = kiln_model_load(path.as_ptr(), 2);
        assert!(!m.is_null(), "{}", last_error());
        assert_eq!(kiln_model_num_inputs(m), 2);
        assert_eq!(kiln_model_num_outputs(m), 2);
        assert_eq!(CStr::from_ptr(kiln_model_input_name(m, 1)).to_str(), Ok("k"));
        assert_eq!(CStr::from_ptr(kiln_model_output_name(m, 0)).to_str(), Ok("z"));
        assert_eq!(kiln_model_input_dtype(m, 0), 0);
        assert_eq!(kiln_model_input_dtype(m, 1), 2);
        assert_eq!(kiln_model_input_rank(m, 0), 2);
        let shape = std::slice::from_raw_parts(kiln_model_input_shape(m, 0), 2);
        assert_eq!(shape, &[support::ROWS as i64, support::COLS as i64]);
        assert_eq!(kiln_model_output_rank(m, 1), 1);
        assert_eq!(*kiln_model_output_shape(m, 1), support::COLS as i64);

        assert!(kiln_model_input_name(m, 2).is_null());
        assert_eq!(last_error(), "kiln_model_input_name: input index 2 out of range (the model has 2)");
        assert_eq!(kiln_model_output_dtype(m, 9), -1);
        assert!(kiln_model_output_shape(m, 2).is_null());
        assert_eq!(kiln_model_output_rank(m, 2), 0);

        let x = support::input_x();
        let k = support::input_k();
        let mut z = vec![0f32; support::N];
        let mut w = vec![0i32; support::COLS];
        let ins = [x.as_ptr() as *const c_void, k.as_ptr() as *const c_void];
        let outs = [z.as_mut_ptr() as *mut c_void, w.as_mut_ptr() as *mut c_void];
        assert_eq!(kiln_model_run(m, ptr::null(), outs.as_ptr()), -1);
        assert_eq!(last_error(), "kiln_model_run: the input array is NULL");
        let with_null = [x.as_ptr() as *const c_void, ptr::null()];
        assert_eq!(kiln_model_run(m, with_null.as_ptr(), outs.as_ptr()), -1);
        assert_eq!(last_error(), "kiln_model_run: input 'k' is NULL");

        assert_eq!(kiln_model_run(m, ins.as_ptr(), outs.as_ptr()), 0, "{}", last_error());
        let (ez, ew) = support::expected();
        assert_eq!(z, ez);
        assert_eq!(w, ew);
        kiln_model_free(m);
    }
}

#[test]
fn errors_are_thread_local() {
    unsafe {
        assert!(kiln_model_load(ptr::null(), 0).is_null());
    }
    let other = std::thread::spawn(last_error).join().expect("thread");
    assert_eq!(other, "");
    assert_eq!(last_error(), "kiln_model_load: path is NULL");
}
