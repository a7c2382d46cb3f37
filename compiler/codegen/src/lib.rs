//! kiln codegen (TODO)
