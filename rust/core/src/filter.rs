//! TODO: filter
