#!/usr/bin/env bash
# Runs every test of antidote: unit tests, real-DPDK tests over vdevs, the lab end to end.
# Run as root on Debian 12; it runs scripts/setup.sh first (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test.sh: run as root: the tests drive DPDK and network namespaces." >&2; exit 1; }
bash scripts/setup.sh
# Whatever happens, leave no lab namespaces behind.
trap 'bash scripts/lab.sh down >/dev/null 2>&1 || true' EXIT
# The code's layout is rustfmt's (rustfmt.toml): a diff fails the run (skipped if rustfmt is missing).
if cargo fmt --version >/dev/null 2>&1; then cargo fmt --all --check; fi
cargo build --workspace --all-targets --locked
# The tests never read the machine's own /etc/antidote/antidote.toml (the package test installs
# one while others run): each names its configuration, or has none.
export ANTIDOTE_CONFIG=none
cargo nextest run --workspace --locked --no-fail-fast
# Fuzz every parser for a bounded time (FUZZ_SECONDS per target); any crash fails the run.
FUZZ_SECONDS=${FUZZ_SECONDS:-20} bash scripts/fuzz.sh
