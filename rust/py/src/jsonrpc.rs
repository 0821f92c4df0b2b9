//! `MessageClassifier`: a decoded JSON body (orjson's Python objects) → the facade's message
//! objects. `pymcp_core::jsonrpc` holds the rules; the facade's own dataclasses are filled in
//! directly (their frozen `__init__` would cost as much as the decoding itself).
//!
//! Decoding stays with orjson: it builds Python objects about twice as fast as jiter does, and the
//! rules read only a few top-level members, so a separate validation pass costs the same at any size.

use pymcp_core::jsonrpc::{self as rules, Body, JsonValue, Kind, Member, Message, Outcome};
use pymcp_core::nesting::{check_nesting, Nested, Shape, Violation};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyType};
use pyo3::{ffi, intern};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MessageClassifier>()?;
    m.add_function(wrap_pyfunction!(nesting_violation, m)?)?;
    Ok(())
}

/// A node of decoded `params`, borrowed from its container without refcounting: the walk runs no
/// Python code (and allocates no Python object), so nothing can change or free a node under it.
#[derive(Clone, Copy)]
struct Node<'a, 'py>(Borrowed<'a, 'py, PyAny>);

// Exact types only, as orjson decodes them (a subclass is not JSON and holds no containers here),
// checked by comparing type pointers: a failed `cast_exact` would also refcount the type for its
// error, two calls into libpython under abi3.
impl<'a, 'py> Node<'a, 'py> {
    fn as_list(&self) -> Option<Borrowed<'a, 'py, PyList>> {
        // SAFETY: exactly a list.
        self.0
            .is_exact_instance_of::<PyList>()
            .then(|| unsafe { self.0.cast_unchecked() })
    }

    fn is_dict(&self) -> bool {
        self.0.is_exact_instance_of::<PyDict>()
    }

    fn is_container(&self) -> bool {
        self.0.is_exact_instance_of::<PyList>() || self.is_dict()
    }

    /// SAFETY: `item` is a live object held by a container that outlives 'a.
    unsafe fn borrowed(py: Python<'py>, item: *mut ffi::PyObject) -> Self {
        Node(unsafe { Borrowed::from_ptr(py, item) })
    }
}

impl Nested for Node<'_, '_> {
    fn shape(&self) -> Shape {
        if let Some(list) = self.as_list() {
            Shape::Array(list.len())
        } else if self.is_dict() {
            Shape::Object
        } else {
            Shape::Scalar
        }
    }

    fn push_nested(&self, nested: &mut Vec<Self>) {
        let (py, container) = (self.0.py(), self.0.as_ptr());
        if let Some(list) = self.as_list() {
            for index in 0..list.len() {
                // SAFETY: a list and an index within it (the list cannot change during the walk),
                // so the borrowed item is never null; the GIL is held.
                let item =
                    unsafe { Node::borrowed(py, ffi::PyList_GetItem(container, index as _)) };
                if item.is_container() {
                    nested.push(item);
                }
            }
        } else if self.is_dict() {
            // `PyDict_Next` reads the members in place (`dict.values()` would build a list).
            let (mut position, mut key, mut value) =
                (0, std::ptr::null_mut(), std::ptr::null_mut());
            // SAFETY: a dict, unchanged during the walk; its values are borrowed; the GIL is held.
            while unsafe { ffi::PyDict_Next(container, &mut position, &mut key, &mut value) } != 0 {
                let value = unsafe { Node::borrowed(py, value) };
                if value.is_container() {
                    nested.push(value);
                }
            }
        }
    }
}

/// What is wrong with the shape of decoded `params`: 0 when nothing, -1 when containers nest deeper
/// than `max_depth`, else the length of the shallowest array longer than `max_array`.
#[pyfunction]
fn nesting_violation(params: Bound<'_, PyAny>, max_depth: usize, max_array: usize) -> i64 {
    match check_nesting(Node(params.as_borrowed()), max_depth, max_array) {
        Ok(()) => 0,
        Err(Violation::TooDeep) => -1,
        Err(Violation::ArrayTooLong(length)) => i64::try_from(length).unwrap_or(i64::MAX),
    }
}

/// A decoded JSON value as the validation rules see it (only JSON's Python types occur).
struct Value<'py>(Bound<'py, PyAny>);

impl JsonValue for Value<'_> {
    fn kind(&self) -> Kind {
        let value = &self.0;
        if value.is_none() {
            Kind::Null
        } else if value.is_instance_of::<PyBool>() {
            Kind::Bool
        } else if value.is_instance_of::<PyInt>() {
            Kind::Integer
        } else if value.is_instance_of::<PyFloat>() {
            Kind::Float
        } else if value.is_instance_of::<PyString>() {
            Kind::String
        } else if value.is_instance_of::<PyList>() {
            Kind::Array
        } else if value.is_instance_of::<PyDict>() {
            Kind::Object
        } else {
            Kind::Null // not a JSON type: never a valid member
        }
    }

    fn member(&self, member: Member) -> Option<Self> {
        let py = self.0.py();
        let key = match member {
            Member::Jsonrpc => intern!(py, "jsonrpc"),
            Member::Id => intern!(py, "id"),
            Member::Method => intern!(py, "method"),
            Member::Params => intern!(py, "params"),
            Member::Result => intern!(py, "result"),
            Member::Error => intern!(py, "error"),
            Member::Code => intern!(py, "code"),
            Member::Message => intern!(py, "message"),
        };
        // A `str` key never raises on lookup: an error here could only be out-of-memory.
        let dict = self.0.cast::<PyDict>().ok()?;
        dict.get_item(key).ok().flatten().map(Value)
    }

    fn is_str(&self, expected: &str) -> bool {
        self.0
            .cast::<PyString>()
            .is_ok_and(|s| s.to_str().is_ok_and(|s| s == expected))
    }

    fn fits_i64(&self) -> bool {
        self.0.extract::<i64>().is_ok()
    }
}

/// Classifies decoded bodies into the facade's message classes (`pymcp.protocol.jsonrpc`).
#[pyclass(frozen, module = "pymcp._core")]
pub struct MessageClassifier {
    request: Py<PyType>,
    notification: Py<PyType>,
    response: Py<PyType>,
    invalid_message: Py<PyType>,
    error: Py<PyType>,
}

/// Only plain Python classes (heap types deriving directly from `object`) can be filled in
/// without their `__init__`: their instances hold nothing but attributes.
fn plain_class(class: &Bound<'_, PyType>) -> PyResult<Py<PyType>> {
    let py = class.py();
    let base = class.getattr(intern!(py, "__base__"))?;
    // SAFETY: `class` is a live type object and the GIL is held.
    let flags = unsafe { ffi::PyType_GetFlags(class.as_type_ptr()) };
    if !base.is(py.get_type::<PyAny>()) || flags & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
        return Err(PyTypeError::new_err(format!(
            "message class `{}` must be a Python class deriving directly from `object`",
            class.name()?
        )));
    }
    Ok(class.clone().unbind())
}

/// An instance of `class` with `fields` set, bypassing `__init__` (and a frozen `__setattr__`).
fn instance<'py>(
    class: &Bound<'py, PyType>,
    fields: &[(&Bound<'py, PyString>, &Bound<'py, PyAny>)],
) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    // SAFETY: `class` is a plain Python class (checked in `MessageClassifier::new`), for which
    // `object.__new__` does nothing more than this allocation; the GIL is held.
    let object = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyType_GenericAlloc(class.as_type_ptr(), 0))?
    };
    for (name, value) in fields {
        // SAFETY: all three pointers come from live `Bound` objects; the call does not steal them.
        if unsafe { ffi::PyObject_GenericSetAttr(object.as_ptr(), name.as_ptr(), value.as_ptr()) }
            < 0
        {
            return Err(PyErr::fetch(py));
        }
    }
    Ok(object)
}

impl MessageClassifier {
    fn build<'py>(
        &self,
        py: Python<'py>,
        message: Message<Value<'py>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let none = py.None().into_bound(py);
        let value = |v: Option<Value<'py>>| v.map_or_else(|| none.clone(), |v| v.0);
        let (id, method, params, result, error) = (
            intern!(py, "id"),
            intern!(py, "method"),
            intern!(py, "params"),
            intern!(py, "result"),
            intern!(py, "error"),
        );
        match message {
            Message::Request {
                id: request_id,
                method: name,
                params: args,
            } => instance(
                self.request.bind(py),
                &[
                    (id, &request_id.0),
                    (method, &name.0),
                    (params, &value(args)),
                ],
            ),
            Message::Notification {
                method: name,
                params: args,
            } => instance(
                self.notification.bind(py),
                &[(method, &name.0), (params, &value(args))],
            ),
            Message::Response {
                id: response_id,
                outcome,
            } => {
                let (ok, failure) = match outcome {
                    Outcome::Result(v) => (v.0, none.clone()),
                    Outcome::Error(v) => (none.clone(), v.0),
                };
                instance(
                    self.response.bind(py),
                    &[(id, &response_id.0), (result, &ok), (error, &failure)],
                )
            }
            Message::Invalid {
                id: bad_id,
                message,
            } => {
                let mcp_error = self
                    .error
                    .bind(py)
                    .call1((rules::INVALID_REQUEST, message))?;
                instance(
                    self.invalid_message.bind(py),
                    &[(id, &value(bad_id)), (error, &mcp_error)],
                )
            }
        }
    }
}

#[pymethods]
impl MessageClassifier {
    #[new]
    fn new(
        request: &Bound<'_, PyType>,
        notification: &Bound<'_, PyType>,
        response: &Bound<'_, PyType>,
        invalid_message: &Bound<'_, PyType>,
        error: &Bound<'_, PyType>,
    ) -> PyResult<Self> {
        Ok(Self {
            request: plain_class(request)?,
            notification: plain_class(notification)?,
            response: plain_class(response)?,
            invalid_message: plain_class(invalid_message)?,
            error: error.clone().unbind(),
        })
    }

    /// One message, an invalid message, or a list of them for a batch (a JSON array).
    fn classify<'py>(
        &self,
        py: Python<'py>,
        body: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let elements = |v: Value<'py>| match v.0.cast_into::<PyList>() {
            Ok(list) => list.iter().map(Value).collect(),
            Err(_) => Vec::new(),
        };
        match rules::classify_body(Value(body), elements) {
            Body::Single(message) => self.build(py, message),
            Body::Batch(messages) => {
                let built = messages
                    .into_iter()
                    .map(|m| self.build(py, m))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, built)?.into_any())
            }
        }
    }
}
