//! Thin bindings over `pymcp_core::tokens`: SHA-256, and the token map's constant-time table.

use pymcp_core::tokens as core;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TokenTable>()?;
    m.add_function(wrap_pyfunction!(sha256, m)?)?;
    Ok(())
}

/// The SHA-256 digest of `data` (32 bytes).
#[pyfunction]
fn sha256<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &core::sha256(data))
}

/// The SHA-256 digests of a token map's tokens, in its order.
#[pyclass(frozen, module = "pymcp._core")]
pub struct TokenTable(core::TokenTable);

#[pymethods]
impl TokenTable {
    #[new]
    fn new(digests: Vec<Vec<u8>>) -> PyResult<Self> {
        let digests = digests
            .into_iter()
            .enumerate()
            .map(|(index, digest)| {
                <[u8; 32]>::try_from(digest.as_slice()).map_err(|_| {
                    PyValueError::new_err(format!(
                        "digest {index} has {} bytes, not the 32 of SHA-256",
                        digest.len()
                    ))
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Self(core::TokenTable::new(digests)))
    }

    /// The index of the entry whose digest is the SHA-256 of `token` (the last, if repeated), or -1;
    /// every entry is compared, in constant time.
    fn find(&self, token: &[u8]) -> isize {
        self.0
            .find(token)
            .and_then(|index| isize::try_from(index).ok())
            .unwrap_or(-1)
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }
}
