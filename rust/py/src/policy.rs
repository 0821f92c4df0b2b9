//! Thin bindings over `pymcp_core::{glob, policy, filter}`: globs, compiled policies, bound
//! principals and bulk filtering. Hot calls take strings and return bools and small ints.

use std::borrow::Cow;

use pymcp_core::filter::allowed_indices;
use pymcp_core::glob;
use pymcp_core::policy as core;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyString, PyTuple};
use serde_json::{Map, Value};

pyo3::create_exception!(
    pymcp._core,
    PolicyError,
    PyValueError,
    "A policy (or a principal's claims) that cannot be loaded; the message is one line."
);

/// A `str` argument. A lone surrogate (not valid UTF-8) is read as one U+FFFD instead of
/// raising, so such a name still matches what `*`, `?` or `[!...]` would.
struct Text<'a>(Cow<'a, str>);

impl<'a> FromPyObject<'a, '_> for Text<'a> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, '_, PyAny>) -> PyResult<Self> {
        match Cow::<'a, str>::extract(ob) {
            Ok(text) => Ok(Text(text)),
            Err(_) => Ok(Text(Cow::Owned(lossy(&*ob.cast::<PyString>()?)?))),
        }
    }
}

/// The string with each lone surrogate replaced by U+FFFD, one for one.
fn lossy(text: &Bound<'_, PyString>) -> PyResult<String> {
    let encoded = text.call_method1("encode", ("utf-16-le", "surrogatepass"))?;
    let units = encoded
        .cast::<PyBytes>()?
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect::<Vec<u16>>();
    Ok(char::decode_utf16(units)
        .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

/// Many glob patterns matched in one pass.
#[pyclass(frozen, module = "pymcp._core")]
struct GlobSet {
    inner: glob::GlobSet,
}

#[pymethods]
impl GlobSet {
    #[new]
    fn new(patterns: Vec<PyBackedStr>) -> Self {
        GlobSet {
            inner: glob::GlobSet::new(&patterns),
        }
    }

    #[getter]
    fn patterns(&self) -> Vec<&str> {
        self.inner.globs().iter().map(glob::Glob::as_str).collect()
    }

    fn is_match(&self, name: Text<'_>) -> bool {
        self.inner.is_match(name.as_str())
    }

    fn matches(&self, name: Text<'_>) -> Vec<usize> {
        self.inner.matches(name.as_str())
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

/// `fnmatch.fnmatchcase(name, pattern)`, in Rust.
#[pyfunction]
fn fnmatchcase(name: Text<'_>, pattern: Text<'_>) -> bool {
    glob::fnmatchcase(name.as_str(), pattern.as_str())
}

/// A principal compiled against one policy (see `Policy.bind`).
#[pyclass(frozen, module = "pymcp._core")]
struct BoundPrincipal {
    inner: core::BoundPrincipal,
}

/// Why a request is allowed or denied.
#[pyclass(frozen, module = "pymcp._core")]
struct Explanation {
    #[pyo3(get)]
    allowed: bool,
    #[pyo3(get)]
    effect: &'static str,
    #[pyo3(get)]
    rule_index: Option<usize>,
    #[pyo3(get)]
    rule_id: Option<String>,
    #[pyo3(get)]
    default: bool,
    missing: Vec<String>,
    #[pyo3(get)]
    message: Option<String>,
}

#[pymethods]
impl Explanation {
    #[getter]
    fn missing_scopes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.missing)
    }
}

/// A compiled rule-based authorization policy.
#[pyclass(frozen, module = "pymcp._core")]
struct Policy {
    inner: core::Policy,
    anonymous: Py<BoundPrincipal>,
}

/// The where-attributes of `PolicyError`: class attributes default to `None`, a load error from
/// the core sets them on the instance.
const PLACE_ATTRIBUTES: [&str; 3] = ["rule_index", "rule_id", "key"];

fn load_error(py: Python<'_>, error: &core::PolicyError) -> PyErr {
    let raised = PolicyError::new_err(error.message().to_owned());
    let value = raised.value(py);
    let [index, id, key] = PLACE_ATTRIBUTES;
    let set = value
        .setattr(index, error.rule_index())
        .and_then(|()| value.setattr(id, error.rule_id()))
        .and_then(|()| value.setattr(key, error.key()));
    if let Err(failed) = set {
        return failed;
    }
    raised
}

fn text_of<'a>(value: &'a Bound<'_, PyAny>, what: &str) -> PyResult<&'a str> {
    if let Ok(text) = value.cast::<PyString>() {
        return text.to_str();
    }
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return std::str::from_utf8(bytes.as_bytes())
            .map_err(|_| PolicyError::new_err(format!("{what} is not valid UTF-8")));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{what} must be str or bytes"
    )))
}

impl Policy {
    fn check<'a>(
        &self,
        bound: &'a Bound<'_, BoundPrincipal>,
    ) -> PyResult<&'a core::BoundPrincipal> {
        let inner = &bound.get().inner;
        if inner.is_bound_to(&self.inner) {
            Ok(inner)
        } else {
            Err(PyValueError::new_err(
                "the principal was bound by another policy",
            ))
        }
    }
}

#[pymethods]
impl Policy {
    #[new]
    fn new(py: Python<'_>, config_json: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = text_of(config_json, "policy")?;
        let inner = core::Policy::from_json(text).map_err(|error| load_error(py, &error))?;
        let anonymous = Py::new(
            py,
            BoundPrincipal {
                inner: inner.anonymous().clone(),
            },
        )?;
        Ok(Policy { inner, anonymous })
    }

    #[getter]
    fn default_effect(&self) -> &'static str {
        self.inner.default_effect().as_str()
    }

    #[getter]
    fn hide_unauthorized_capabilities(&self) -> bool {
        self.inner.hide_unauthorized_capabilities()
    }

    #[getter]
    fn hide_unauthorized_tools(&self) -> bool {
        self.inner.hide_unauthorized_tools()
    }

    #[getter]
    fn groups_claim(&self) -> &str {
        self.inner.groups_claim()
    }

    #[getter]
    fn claim_names(&self) -> Vec<String> {
        self.inner.claim_names().to_vec()
    }

    #[getter]
    fn rule_ids(&self) -> Vec<Option<&str>> {
        (0..self.inner.rule_count())
            .map(|index| self.inner.rule_id(index))
            .collect()
    }

    #[getter]
    fn rule_effects(&self) -> Vec<&'static str> {
        (0..self.inner.rule_count())
            .filter_map(|index| self.inner.rule_effect(index).map(core::Effect::as_str))
            .collect()
    }

    /// The binding of an anonymous caller.
    #[getter]
    fn anonymous(&self, py: Python<'_>) -> Py<BoundPrincipal> {
        self.anonymous.clone_ref(py)
    }

    /// Compile a principal: `subject=None` is anonymous. `claims_json` is a JSON object holding
    /// (at least) the claims named by `claim_names`.
    #[pyo3(signature = (subject, roles = Vec::new(), scopes = Vec::new(), claims_json = None))]
    fn bind(
        &self,
        py: Python<'_>,
        subject: Option<&str>,
        roles: Vec<PyBackedStr>,
        scopes: Vec<PyBackedStr>,
        claims_json: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<BoundPrincipal>> {
        let Some(subject) = subject else {
            return Ok(self.anonymous.clone_ref(py));
        };
        let claims: Option<Map<String, Value>> = match claims_json {
            None => None,
            Some(value) => match serde_json::from_str(text_of(value, "claims")?) {
                Ok(Value::Object(map)) => Some(map),
                Ok(_) => return Err(PolicyError::new_err("claims must be a JSON object")),
                Err(error) => {
                    return Err(PolicyError::new_err(format!(
                        "claims are not valid JSON: {error}"
                    )))
                }
            },
        };
        let inner = self.inner.bind(subject, &roles, &scopes, claims.as_ref());
        Py::new(py, BoundPrincipal { inner })
    }

    /// Whether `method` (with `target`: tool / prompt name or resource uri) is allowed.
    #[pyo3(signature = (bound, method, target = None))]
    fn is_allowed(
        &self,
        bound: &Bound<'_, BoundPrincipal>,
        method: Text<'_>,
        target: Option<Text<'_>>,
    ) -> PyResult<bool> {
        let bound = self.check(bound)?;
        Ok(self
            .inner
            .decide(bound, method.as_str(), target.as_ref().map(Text::as_str))
            .allowed)
    }

    /// The deciding rule's index, or -1 when the default effect decided.
    #[pyo3(signature = (bound, method, target = None))]
    fn decide(
        &self,
        bound: &Bound<'_, BoundPrincipal>,
        method: Text<'_>,
        target: Option<Text<'_>>,
    ) -> PyResult<isize> {
        let bound = self.check(bound)?;
        let rule = self
            .inner
            .decide(bound, method.as_str(), target.as_ref().map(Text::as_str))
            .rule;
        Ok(rule.map_or(-1, |index| index as isize))
    }

    /// The decision with the deciding rule, the missing scopes and the denial message.
    #[pyo3(signature = (bound, method, target = None))]
    fn explain(
        &self,
        bound: &Bound<'_, BoundPrincipal>,
        method: Text<'_>,
        target: Option<Text<'_>>,
    ) -> PyResult<Explanation> {
        let bound = self.check(bound)?;
        let why = self
            .inner
            .explain(bound, method.as_str(), target.as_ref().map(Text::as_str));
        let effect = if why.allowed { "allow" } else { "deny" };
        Ok(Explanation {
            allowed: why.allowed,
            effect,
            rule_index: why.rule,
            rule_id: why
                .rule
                .and_then(|index| self.inner.rule_id(index))
                .map(str::to_owned),
            default: why.rule.is_none(),
            missing: why.missing_scopes,
            message: why.message,
        })
    }

    /// Whether some request with `method` would be allowed (for a method with a target: for
    /// some target).
    fn allows_any(&self, bound: &Bound<'_, BoundPrincipal>, method: Text<'_>) -> PyResult<bool> {
        let bound = self.check(bound)?;
        Ok(self.inner.allows_any(bound, method.as_str()))
    }

    /// The rules tried for one request up to the deciding one: `(index, outcome, reason)` with
    /// outcome `decided`, `method`, `target` or `conditions`.
    #[pyo3(signature = (bound, method, target = None))]
    fn trace(
        &self,
        bound: &Bound<'_, BoundPrincipal>,
        method: Text<'_>,
        target: Option<Text<'_>>,
    ) -> PyResult<Vec<(usize, &'static str, String)>> {
        let inner = if bound.as_ptr() == self.anonymous.as_ptr() {
            self.inner.anonymous()
        } else {
            self.check(bound)?
        };
        let steps = self
            .inner
            .trace(inner, method.as_str(), target.as_ref().map(Text::as_str));
        Ok(steps
            .into_iter()
            .map(|step| (step.rule, step.outcome.as_str(), step.reason))
            .collect())
    }

    /// Rules that can never decide: `(shadowed rule, the earlier rule that always decides first)`.
    fn shadowed(&self) -> Vec<(usize, usize)> {
        self.inner.shadowed()
    }

    /// Indexes of the `names` that `method` with that name as target would allow.
    fn filter(
        &self,
        bound: &Bound<'_, BoundPrincipal>,
        method: Text<'_>,
        names: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<usize>> {
        let bound = self.check(bound)?;
        let method = method.as_str();
        // Borrowing the UTF-8 the strings already hold is the fast path; names with lone
        // surrogates (which `PyBackedStr` refuses) are read lossily, as `Text` does.
        if let Ok(names) = names.extract::<Vec<PyBackedStr>>() {
            return Ok(allowed_indices(&self.inner, bound, method, &names));
        }
        let names: Vec<String> = names
            .extract::<Vec<Bound<'_, PyString>>>()?
            .iter()
            .map(lossy)
            .collect::<PyResult<_>>()?;
        Ok(allowed_indices(&self.inner, bound, method, &names))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let policy_error = m.py().get_type::<PolicyError>();
    for name in PLACE_ATTRIBUTES {
        policy_error.setattr(name, m.py().None())?;
    }
    m.add("PolicyError", policy_error)?;
    m.add_class::<GlobSet>()?;
    m.add_class::<BoundPrincipal>()?;
    m.add_class::<Explanation>()?;
    m.add_class::<Policy>()?;
    m.add_function(wrap_pyfunction!(fnmatchcase, m)?)?;
    Ok(())
}
