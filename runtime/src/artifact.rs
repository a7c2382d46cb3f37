//! Opening a model library and reading its `KilnArtifact` descriptor, in the order the ABI
//! demands: ELF checks, dlopen, the entry symbol, magic and ABI version, and only then the
//! metadata JSON and the kernel and constant tables.

use crate::elf;
use crate::error::Error;
use crate::fresh_dlopen::{self, Registration};
use kiln_abi::{KernelFn, KilnArtifact, Metadata, ABI_VERSION, BUFFER_ALIGN, ENTRY_SYMBOL, MAGIC};
use libloading::Library;
use std::path::Path;

/// Largest metadata JSON accepted (a sanity bound against a garbage length field).
const MAX_METADATA_LEN: u64 = 1 << 30;

/// What the runtime keeps from a loaded artifact.
pub(crate) struct LoadedArtifact {
    pub library: Library,
    /// Dropped after `library` (see fresh_dlopen).
    pub registration: Registration,
    pub metadata: Metadata,
    pub kernels: Vec<KernelFn>,
    /// Addresses of the constant buffers (inside `library`'s image).
    pub constants: Vec<usize>,
}

type EntryFn = unsafe extern "C" fn() -> *const KilnArtifact;

pub(crate) fn open(path: &Path) -> Result<LoadedArtifact, Error> {
    elf::check_shared_object(path)?;
    let not_artifact = |cause: String| Error::NotArtifact { path: path.to_path_buf(), cause };

    let (library, registration) = fresh_dlopen::load(path)?;
    let symbol = format!("{ENTRY_SYMBOL}\0");
    // SAFETY: the ABI defines the symbol as `const kiln_artifact *kiln_artifact_v1(void)`.
    let entry: EntryFn = unsafe { library.get::<EntryFn>(symbol.as_bytes()) }
        .map(|s| *s)
        .map_err(|_| Error::NoEntrySymbol { path: path.to_path_buf(), symbol: ENTRY_SYMBOL })?;
    // SAFETY: calling the entry point as the ABI defines it.
    let desc = unsafe { entry() };
    if desc.is_null() {
        return Err(not_artifact(format!("{ENTRY_SYMBOL} returned NULL")));
    }
    if !(desc as usize).is_multiple_of(std::mem::align_of::<KilnArtifact>()) {
        return Err(not_artifact("the descriptor is misaligned".into()));
    }

    // SAFETY: `desc` is non-null and aligned; the first two u32 fields are read before anything
    // else so that a different layout is refused without touching its other fields.
    let (magic, version) =
        unsafe { (std::ptr::addr_of!((*desc).magic).read(), std::ptr::addr_of!((*desc).abi_version).read()) };
    if magic != MAGIC {
        return Err(not_artifact(format!("bad magic 0x{magic:08x}, expected 0x{MAGIC:08x} (\"KILN\")")));
    }
    if version != ABI_VERSION {
        return Err(Error::AbiVersion { path: path.to_path_buf(), found: version, expected: ABI_VERSION });
    }
    // SAFETY: magic and version match, so the descriptor has the version-1 layout.
    let desc = unsafe { &*desc };

    let metadata = read_metadata(path, desc)?;
    if metadata.abi_version != ABI_VERSION {
        return Err(Error::AbiVersion { path: path.to_path_buf(), found: metadata.abi_version, expected: ABI_VERSION });
    }
    let kernels = read_kernels(desc).map_err(not_artifact)?;
    let constants = read_constants(desc).map_err(not_artifact)?;
    Ok(LoadedArtifact { library, registration, metadata, kernels, constants })
}

fn read_metadata(path: &Path, desc: &KilnArtifact) -> Result<Metadata, Error> {
    let bad = |cause: String| Error::Metadata { path: path.to_path_buf(), cause };
    if desc.metadata_json.is_null() {
        return Err(bad("metadata pointer is NULL".into()));
    }
    if desc.metadata_len > MAX_METADATA_LEN {
        return Err(bad(format!("metadata length {} is implausible", desc.metadata_len)));
    }
    // SAFETY: non-null, length bounded; the ABI says it points at `metadata_len` bytes of JSON.
    let bytes = unsafe { std::slice::from_raw_parts(desc.metadata_json, desc.metadata_len as usize) };
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    Metadata::from_json(text).map_err(|e| bad(one_line(&e.to_string())))
}

fn read_kernels(desc: &KilnArtifact) -> Result<Vec<KernelFn>, String> {
    let n = table_len(desc.num_kernels, desc.kernels.is_null(), "kernel")?;
    if n == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: non-null table of `n` entries; read as Option so a NULL entry is not UB.
    let table = unsafe { std::slice::from_raw_parts(desc.kernels.cast::<Option<KernelFn>>(), n) };
    table.iter().enumerate().map(|(i, k)| k.ok_or_else(|| format!("kernel {i} is NULL"))).collect()
}

fn read_constants(desc: &KilnArtifact) -> Result<Vec<usize>, String> {
    let n = table_len(desc.num_constants, desc.constants.is_null(), "constant")?;
    if n == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: non-null table of `n` pointers.
    let table = unsafe { std::slice::from_raw_parts(desc.constants, n) };
    let mut out = Vec::with_capacity(n);
    for (i, &p) in table.iter().enumerate() {
        let addr = p as usize;
        if addr == 0 {
            return Err(format!("constant {i} is NULL"));
        }
        if !addr.is_multiple_of(BUFFER_ALIGN) {
            return Err(format!("constant {i} is not {BUFFER_ALIGN}-byte aligned"));
        }
        out.push(addr);
    }
    Ok(out)
}

fn table_len(count: u64, null: bool, what: &str) -> Result<usize, String> {
    if count > 1 << 24 {
        return Err(format!("{what} count {count} is implausible"));
    }
    if count > 0 && null {
        return Err(format!("{what} table is NULL but {count} {what}s are declared"));
    }
    Ok(count as usize)
}

/// Collapse a possibly multi-line message (dlerror, serde) onto one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
