//! Linking: `cc -shared -o model.so model.o -lm` in a temporary directory, read back as bytes.

use crate::error::{CodegenError, Result};
use std::process::Command;

pub fn link_shared(object: &[u8]) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir().map_err(|e| CodegenError::new(format!("link: cannot create a temp dir: {e}")))?;
    let obj = dir.path().join("model.o");
    let so = dir.path().join("model.so");
    std::fs::write(&obj, object)
        .map_err(|e| CodegenError::new(format!("link: cannot write {}: {e}", obj.display())))?;
    let out = Command::new("cc")
        .arg("-shared")
        .arg("-o")
        .arg(&so)
        .arg(&obj)
        .arg("-lm")
        .output()
        .map_err(|e| CodegenError::new(format!("link: cannot run cc: {e}")))?;
    if !out.status.success() {
        return Err(CodegenError::new(format!("link: cc -shared failed: {}", String::from_utf8_lossy(&out.stderr))));
    }
    std::fs::read(&so).map_err(|e| CodegenError::new(format!("link: cannot read {}: {e}", so.display())))
}
