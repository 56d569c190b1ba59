#!/usr/bin/env bash
# The soak (issue 24): the lab for a while with mixed traffic, a poisoner, a policy push every
# second and every fault once; then every frame and alert accounted for and memory flat.
#
#   scripts/soak.sh [--minutes M] [--plan a|b] [--bin PATH] [--out FILE]
#
# Default: 30 minutes, the release build, results to bench/out/soak.json. CI runs 3 minutes
# (tests/lab_soak.rs). What is checked: scripts/lab/soak.py. Needs root and scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=30 PLAN=a BIN= OUT=bench/out/soak.json
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --plan) PLAN="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "usage: scripts/soak.sh [--minutes M] [--plan a|b] [--bin PATH] [--out FILE]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "soak.sh: run as root (DPDK and the lab's namespaces)." >&2; exit 1; }
if [ -z "$BIN" ]; then
  cargo build --release -q -p antidote
  BIN=target/release/antidote
fi
WORK=$(mktemp -d /tmp/antidote-soak.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$OUT")"
/usr/bin/python3 scripts/lab/soak.py --bin "$BIN" --minutes "$MINUTES" --plan "$PLAN" --work "$WORK" --out "$OUT"
