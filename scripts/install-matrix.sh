#!/usr/bin/env bash
# Install the built wheel as a user would: into a fresh virtualenv for every CPython 3.11+ on this machine,
# with no Rust toolchain on PATH, then import it and run the README quick start over HTTP and stdio
# (tests/server/test_quickstart.py, against the installed wheel, not the source tree).
# Usage: scripts/install-matrix.sh dist/pymcp_kit-*.whl
set -euo pipefail
cd "$(dirname "$0")/.."
wheel=$(realpath "$1")
uv=$(realpath .tools/uv/bin/uv)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Versions of the test tools from the lock file, so the matrix tests the wheel, not new tool releases.
"$uv" export --frozen --all-groups --no-hashes --no-emit-project --format requirements-txt -q \
  -o "$work/constraints.txt"

find_python() {  # the first working interpreter for one minor version, or nothing
  local minor=$1 candidate
  for candidate in "$(command -v "python$minor" || true)" /usr/bin/python"$minor" /usr/local/bin/python"$minor" \
      "$HOME"/.pyenv/versions/"$minor".*/bin/python"$minor"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
}

# No cargo, rustc or rustup: a wheel that needed building from source would fail here.
clean_path=$(tr ':' '\n' <<<"$PATH" | grep -v -e '\.cargo' -e '\.rustup' -e '/\.venv/' | paste -sd: -)
tested=()
for minor in 3.11 3.12 3.13 3.14; do
  python=$(find_python "$minor")
  [ -n "$python" ] || continue
  venv="$work/py$minor"
  "$python" -m venv "$venv"
  # shellcheck disable=SC2016  # the inner script takes its values as arguments
  env PATH="$venv/bin:$clean_path" bash -c '
    set -euo pipefail
    ! command -v cargo >/dev/null && ! command -v rustc >/dev/null
    pip install -q --disable-pip-version-check --only-binary pymcp-kit -c "$1" "$2" \
      pytest pytest-asyncio pytest-timeout pytest-benchmark hypothesis mcp jsonschema
    cd "$3"  # a folder without the source tree: `import pymcp` must find the installed wheel
    python -c "import pymcp, pymcp._core as core; assert pymcp.__version__ == core.__version__; print(\"pymcp\", pymcp.__version__, \"on\", __import__(\"sys\").version.split()[0])"
    pymcp --version
  ' _ "$work/constraints.txt" "$wheel" "$work"
  env PATH="$venv/bin:$clean_path" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    --rootdir "$PWD" -c pyproject.toml --import-mode=importlib tests/server/test_quickstart.py
  tested+=("$minor")
done
[ ${#tested[@]} -gt 0 ] || { echo "install-matrix: no CPython 3.11+ found" >&2; exit 1; }
echo "install-matrix: the wheel installs and serves the quick start on CPython ${tested[*]}"
