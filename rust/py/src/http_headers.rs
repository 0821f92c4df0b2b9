//! `HeaderReader`: one pass over an ASGI request's headers, for the security middleware and the HTTP
//! transport together. Marshalling only (which names matter is the facade's `WANTED_HEADERS`); it
//! replaces two Python loops that decoded every value of every request.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFrozenSet, PyList, PyString, PyTuple};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<HeaderReader>()?;
    Ok(())
}

/// Reads `scope["headers"]` (lowercase names, as ASGI requires).
#[pyclass(frozen, module = "pymcp._core")]
pub struct HeaderReader {
    wanted: Py<PyFrozenSet>,
}

/// `bytes` as `str`, one character per byte (what `bytes.decode("latin-1")` gives).
fn latin1<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyString>> {
    let length = isize::try_from(bytes.len()).unwrap_or(isize::MAX);
    // SAFETY: the pointer and length describe `bytes`, alive for the call; the GIL is held.
    unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyUnicode_DecodeLatin1(bytes.as_ptr().cast(), length, std::ptr::null()),
        )
        .map(|s| s.cast_into_unchecked())
    }
}

#[pymethods]
impl HeaderReader {
    #[new]
    fn new(wanted: Bound<'_, PyFrozenSet>) -> Self {
        Self {
            wanted: wanted.unbind(),
        }
    }

    /// `(wanted, authorization, mcp)`: the last value of each wanted header by name, every
    /// `authorization` value in order (that name in any case: credentials are never missed), and every `mcp-*` header as `(name, value)` in order; values
    /// decoded as Latin-1. Pairs that are not two `bytes` are skipped (a server never sends them).
    fn read<'py>(
        &self,
        py: Python<'py>,
        headers: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyList>, Bound<'py, PyList>)> {
        let wanted = self.wanted.bind(py);
        let found = PyDict::new(py);
        let authorization = PyList::empty(py);
        let mcp = PyList::empty(py);
        for pair in headers.try_iter()? {
            let pair = pair?;
            let Ok(pair) = pair.cast::<PyTuple>() else {
                continue;
            };
            if pair.len() != 2 {
                continue;
            }
            let (Ok(name), Ok(value)) = (
                pair.get_borrowed_item(0)?
                    .cast::<PyBytes>()
                    .map(|b| b.to_owned()),
                pair.get_borrowed_item(1)?
                    .cast::<PyBytes>()
                    .map(|b| b.to_owned()),
            ) else {
                continue;
            };
            let name_bytes = name.as_bytes();
            if name_bytes.eq_ignore_ascii_case(b"authorization") {
                authorization.append(latin1(py, value.as_bytes())?)?;
            } else if name_bytes.starts_with(b"mcp-") {
                mcp.append((latin1(py, name_bytes)?, latin1(py, value.as_bytes())?))?;
            }
            if wanted.contains(&name)? {
                found.set_item(&name, latin1(py, value.as_bytes())?)?;
            }
        }
        Ok((found, authorization, mcp))
    }
}
