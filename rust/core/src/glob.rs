//! TODO: glob
