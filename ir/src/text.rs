//! IR text format: printer and parser (TODO)
