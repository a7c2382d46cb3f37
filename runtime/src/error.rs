//! The runtime's error type. Every variant displays as one line naming the file, input or step
//! and the cause.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: String },

    #[error("{}: not a shared object ({cause})", path.display())]
    NotSharedObject { path: PathBuf, cause: String },

    #[error("{}: cannot load: {cause}", path.display())]
    LoadFailed { path: PathBuf, cause: String },

    #[error("{}: not a kiln artifact (no {symbol} symbol)", path.display())]
    NoEntrySymbol { path: PathBuf, symbol: &'static str },

    #[error("{}: not a kiln artifact ({cause})", path.display())]
    NotArtifact { path: PathBuf, cause: String },

    #[error("{}: was built for ABI version {found}, this runtime reads {expected}", path.display())]
    AbiVersion { path: PathBuf, found: u32, expected: u32 },

    #[error("{}: malformed metadata JSON: {cause}", path.display())]
    Metadata { path: PathBuf, cause: String },

    #[error("{}: built for target {triple}, this host is {host}", path.display())]
    WrongHost { path: PathBuf, triple: String, host: String },

    #[error("{}: needs CPU features {} that this CPU lacks (built for {cpu})", path.display(), missing.join(", "))]
    MissingCpuFeatures { path: PathBuf, missing: Vec<String>, cpu: String },

    #[error("{}: needs CPU features {} that this runtime cannot check (built for {cpu})", path.display(), unknown.join(", "))]
    UnknownCpuFeatures { path: PathBuf, unknown: Vec<String>, cpu: String },

    #[error("{}: invalid artifact: {cause}", path.display())]
    InvalidArtifact { path: PathBuf, cause: String },

    #[error("cannot start the thread pool with {threads} threads: {cause}")]
    ThreadPool { threads: usize, cause: String },

    #[error("cannot allocate {bytes} bytes of run scratch memory")]
    Alloc { bytes: usize },

    #[error("expected {expected} inputs, got {got}")]
    InputCount { expected: usize, got: usize },

    #[error("expected {expected} outputs, got {got}")]
    OutputCount { expected: usize, got: usize },

    /// One or more inputs or outputs have the wrong dtype, shape or byte size; `details` lists
    /// each, e.g. `input 'x': expected f32[1,3], got f32[3]`, joined by "; ".
    #[error("{details}")]
    Mismatch { details: String },
}
