//! The `pymcp._core` extension module: thin, frozen wrappers over `pymcp-core`.
//! Each submodule adds its classes and functions; errors map to exceptions subclassing `ValueError`.

use pyo3::prelude::*;

mod jsonrpc;
mod policy;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    policy::register(m)?;
    jsonrpc::register(m)?;
    Ok(())
}
