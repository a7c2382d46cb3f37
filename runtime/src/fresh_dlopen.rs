//! `dlopen` that never hands back a stale library. glibc returns the already-loaded image when a
//! path is opened again while an earlier handle is alive, even if the file at that path was since
//! replaced (e.g. recompiled). This module remembers the file identity (device, inode) behind
//! every live load per path; when the file at a path differs from a still-loaded one, it loads a
//! private temporary copy instead, so each `Model` runs the code that was on disk when it loaded.

use crate::artifact::one_line;
use crate::error::Error;
use libloading::Library;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

type FileId = (u64, u64);

/// Live loads: path -> (file identity, number of live handles).
static LIVE: Mutex<Option<HashMap<PathBuf, (FileId, usize)>>> = Mutex::new(None);

fn live() -> MutexGuard<'static, Option<HashMap<PathBuf, (FileId, usize)>>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_path: &Path) -> Option<FileId> {
    None
}

/// Keeps a path's live-load count; dropping it releases the count.
pub(crate) struct Registration {
    key: Option<PathBuf>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut guard = live();
        let map = guard.get_or_insert_with(HashMap::new);
        if let Some(entry) = map.get_mut(&key) {
            entry.1 -= 1;
            if entry.1 == 0 {
                map.remove(&key);
            }
        }
    }
}

fn dlopen(path: &Path, shown: &Path) -> Result<Library, Error> {
    // A bare file name would send the loader searching the library path: name it relative.
    let path = if path.as_os_str().as_encoded_bytes().contains(&b'/') {
        path.to_path_buf()
    } else {
        Path::new(".").join(path)
    };
    // SAFETY: loading a library runs its initializers; a kiln artifact has none beyond the C
    // runtime's, and the caller checked it is a complete shared object for this machine.
    unsafe { Library::new(&path) }
        .map_err(|e| Error::LoadFailed { path: shown.to_path_buf(), cause: one_line(&e.to_string()) })
}

/// Load `path`, bypassing the loader's cache when it holds a different file under that path.
pub(crate) fn load(path: &Path) -> Result<(Library, Registration), Error> {
    let (Some(id), Ok(key)) = (file_id(path), std::fs::canonicalize(path)) else {
        return Ok((dlopen(path, path)?, Registration { key: None }));
    };
    let mut guard = live();
    let map = guard.get_or_insert_with(HashMap::new);
    match map.get_mut(&key) {
        Some(entry) if entry.0 != id => {
            drop(guard);
            Ok((load_private_copy(path)?, Registration { key: None }))
        }
        Some(entry) => {
            let lib = dlopen(path, path)?;
            entry.1 += 1;
            Ok((lib, Registration { key: Some(key) }))
        }
        None => {
            let lib = dlopen(path, path)?;
            map.insert(key.clone(), (id, 1));
            Ok((lib, Registration { key: Some(key) }))
        }
    }
}

/// Copy `path` to a unique temporary file, load it, and delete the file (the mapping stays).
fn load_private_copy(path: &Path) -> Result<Library, Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let copy = std::env::temp_dir().join(format!("kiln-{}-{n}-{name}", std::process::id()));
    std::fs::copy(path, &copy).map_err(|e| Error::LoadFailed {
        path: path.to_path_buf(),
        cause: format!("cannot copy to {}: {e}", copy.display()),
    })?;
    let lib = dlopen(&copy, path);
    let _ = std::fs::remove_file(&copy);
    lib
}
