//! kiln runtime (TODO)
