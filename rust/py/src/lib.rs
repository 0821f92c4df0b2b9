//! The `pymcp._core` extension module: thin, frozen wrappers over `pymcp-core`.
//! Each submodule adds its classes and functions; errors map to exceptions subclassing `ValueError`.

use pyo3::prelude::*;

mod http_headers;
mod jsonrpc;
mod policy;
mod tokens;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", python_version(env!("CARGO_PKG_VERSION")))?;
    policy::register(m)?;
    jsonrpc::register(m)?;
    http_headers::register(m)?;
    tokens::register(m)?;
    Ok(())
}

/// The crate's SemVer version in PEP 440 form, as maturin writes it into the wheel's metadata
/// (`1.0.0-dev.0` → `1.0.0.dev0`, `1.0.0-rc.1` → `1.0.0rc1`), so Python and Rust report one version.
fn python_version(semver: &str) -> String {
    let Some((release, pre)) = semver.split_once('-') else {
        return semver.to_owned();
    };
    let (label, number) = pre.split_once('.').unwrap_or((pre, "0"));
    let label = match label {
        "alpha" | "a" => "a",
        "beta" | "b" => "b",
        "rc" => "rc",
        "dev" => ".dev",
        other => return format!("{release}+{other}.{number}"),
    };
    format!("{release}{label}{number}")
}
