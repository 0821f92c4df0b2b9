//! `HeaderReader`: one pass over an ASGI request's headers, for the security middleware and the HTTP
//! transport together. Marshalling only (which names matter is the facade's `WANTED_HEADERS`); it
//! replaces two Python loops that decoded every value of every request.

use pyo3::exceptions::PyTypeError;
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

/// One `(name, value)` item of `scope["headers"]`: a tuple, or a list as some servers send.
fn header_pair<'py>(
    pair: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let items = if let Ok(tuple) = pair.cast::<PyTuple>() {
        (tuple.len() == 2).then(|| (tuple.get_item(0), tuple.get_item(1)))
    } else if let Ok(list) = pair.cast::<PyList>() {
        (list.len() == 2).then(|| (list.get_item(0), list.get_item(1)))
    } else {
        None
    };
    let bytes = |item: PyResult<Bound<'py, PyAny>>| item.ok()?.cast_into::<PyBytes>().ok();
    items
        .and_then(|(name, value)| Some((bytes(name)?, bytes(value)?)))
        .ok_or_else(|| {
            PyTypeError::new_err("each request header must be a (name, value) pair of bytes")
        })
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
    /// `authorization` value in order (that name in any case: credentials are never missed), and
    /// every `mcp-*` header as `(name, value)` in order; values decoded as Latin-1. `TypeError`
    /// for an item that is not a `(name, value)` pair of `bytes`.
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
            let (name, value) = header_pair(&pair?)?;
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
