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
    wanted: Vec<Wanted>,
}

/// A wanted header name, prepared once for every request.
struct Wanted {
    /// Compared in Rust with each request's names (which are then never hashed).
    name: Box<[u8]>,
    /// The dict key: equal to the request's name, its hash cached after the first request.
    key: Py<PyBytes>,
    /// The name decoded, for an `mcp-*` header's `(name, value)`.
    text: Py<PyString>,
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

/// The contents of a `bytes` object in one call into libpython (`as_bytes` makes two under abi3).
fn contents<'a>(bytes: Borrowed<'a, '_, PyBytes>) -> &'a [u8] {
    let mut data = std::ptr::null_mut();
    let mut length = 0;
    // SAFETY: `bytes` is a `bytes` object (so the call cannot fail), alive for 'a, and its
    // contents never change; the GIL is held.
    unsafe {
        let status = ffi::PyBytes_AsStringAndSize(bytes.as_ptr(), &mut data, &mut length);
        debug_assert_eq!(status, 0);
        std::slice::from_raw_parts(data.cast::<u8>(), length as usize)
    }
}

/// The `(name, value)` of one item of `scope["headers"]`, borrowed from the tuple (no refcounting).
fn header_pair<'a, 'py>(
    pair: &'a Bound<'py, PyTuple>,
) -> Option<(Borrowed<'a, 'py, PyBytes>, Borrowed<'a, 'py, PyBytes>)> {
    if pair.len() != 2 {
        return None;
    }
    let bytes = |index| {
        let item = pair.get_borrowed_item(index).ok()?;
        // The exact type first: a pointer comparison (under abi3 the subclass check is a call).
        item.cast_exact::<PyBytes>()
            .or_else(|_| item.cast::<PyBytes>())
            .ok()
    };
    Some((bytes(0)?, bytes(1)?))
}

/// The error for an item that is not a `(name, value)` pair of `bytes`.
fn malformed() -> PyErr {
    PyTypeError::new_err("each request header must be a (name, value) pair of bytes")
}

/// What `read` returns, filled one header at a time.
struct Head<'py> {
    found: Bound<'py, PyDict>,
    authorization: Bound<'py, PyList>,
    mcp: Bound<'py, PyList>,
}

#[pymethods]
impl HeaderReader {
    #[new]
    fn new(wanted: Bound<'_, PyFrozenSet>) -> PyResult<Self> {
        // Anything but `bytes` in `wanted` never equals a header name: left out.
        let wanted = wanted
            .iter()
            .filter_map(|key| key.cast_into::<PyBytes>().ok())
            .map(|key| {
                Ok(Wanted {
                    name: Box::from(key.as_bytes()),
                    text: latin1(key.py(), key.as_bytes())?.unbind(),
                    key: key.unbind(),
                })
            })
            .collect::<PyResult<_>>()?;
        Ok(Self { wanted })
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
        let head = Head {
            found: PyDict::new(py),
            authorization: PyList::empty(py),
            mcp: PyList::empty(py),
        };
        let read_item = |item: Bound<'py, PyAny>| {
            let copy;
            let pair = match item
                .cast_exact::<PyTuple>()
                .or_else(|_| item.cast::<PyTuple>())
            {
                Ok(tuple) => tuple,
                // A list item (some servers send them) is read through a tuple copy of it.
                Err(_) => {
                    copy = item.cast::<PyList>().map_err(|_| malformed())?.to_tuple();
                    &copy
                }
            };
            let (name, value) = header_pair(pair).ok_or_else(malformed)?;
            self.add(&head, contents(name), contents(value))
        };
        // ASGI servers send a list: read by index, without a Python iterator object.
        if let Ok(list) = headers.cast_exact::<PyList>() {
            list.iter().try_for_each(read_item)?;
        } else {
            for item in headers.try_iter()? {
                read_item(item?)?;
            }
        }
        Ok((head.found, head.authorization, head.mcp))
    }
}

impl HeaderReader {
    /// One header into `head`; its value is decoded once, the same `str` in every place it goes.
    fn add(&self, head: &Head<'_>, name: &[u8], value: &[u8]) -> PyResult<()> {
        let py = head.found.py();
        let wanted = self.wanted.iter().find(|wanted| *wanted.name == *name);
        let authorization = name.eq_ignore_ascii_case(b"authorization");
        let mcp = !authorization && name.starts_with(b"mcp-");
        if wanted.is_none() && !authorization && !mcp {
            return Ok(());
        }
        let value = latin1(py, value)?;
        if authorization {
            head.authorization.append(&value)?;
        } else if mcp {
            let name = match wanted {
                Some(wanted) => wanted.text.bind(py).clone(),
                None => latin1(py, name)?,
            };
            head.mcp.append((name, &value))?;
        }
        if let Some(wanted) = wanted {
            head.found.set_item(wanted.key.bind(py), value)?;
        }
        Ok(())
    }
}
