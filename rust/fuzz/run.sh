#!/usr/bin/env bash
# Run every parser's fuzz target for a bounded time.
#
#   rust/fuzz/run.sh [SECONDS_PER_TARGET]     (default 60)
#
# With cargo-fuzz and a nightly toolchain (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`) this runs libFuzzer on rust/fuzz/fuzz_targets/{glob,policy,jsonrpc}.rs;
# corpora and crashes stay under rust/fuzz/{corpus,artifacts} (git-ignored).
# Without them it runs the stable-Rust property test over the same entry points
# (rust/core/tests/never_panics.rs), with the case count scaled to the time asked for.
set -euo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."

if cargo +nightly fuzz --version >/dev/null 2>&1; then
  for target in glob policy jsonrpc; do
    echo "fuzzing $target for ${seconds}s"
    cargo +nightly fuzz run --fuzz-dir rust/fuzz "$target" -- -max_total_time="$seconds"
  done
else
  echo "cargo-fuzz or nightly missing: running the stable property test instead" >&2
  PYMCP_FUZZ_CASES="$((seconds * 20000))" PYMCP_FUZZ_SEED="$(date +%s)" \
    cargo test --release -p pymcp-core --test never_panics
fi
