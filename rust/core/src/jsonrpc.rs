//! TODO: jsonrpc
