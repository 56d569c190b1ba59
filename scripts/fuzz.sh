#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time on a copy of its seed corpus, built with
# debug assertions and overflow checks, each input within a time limit; fails on any crash,
# assertion, overflow or timeout, and on a target name it does not know. FUZZ_SECONDS sets the
# time per target (default 20).
#   scripts/fuzz.sh            # all targets
#   scripts/fuzz.sh frame dns  # some
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-20}
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
# cargo-fuzz passes nightly-only flags (-Zsanitizer); the stable toolchain accepts them this way.
export RUSTC_BOOTSTRAP=1
WORK=$(mktemp -d /tmp/antidote-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failed=()
run_dir() { # dir target...
  local dir=$1; shift
  # -a: debug assertions and overflow checks on (the optimised build turns them off).
  ( cd "$dir" && cargo fuzz build -O -a >/dev/null 2>&1 ) || ( cd "$dir" && cargo fuzz build -O -a )
  for t in "$@"; do
    mkdir -p "$WORK/$t"
    [ -d "$dir/corpus/$t" ] && cp -r "$dir/corpus/$t/." "$WORK/$t/"
    echo "fuzz: $t for ${SECS}s"
    if ! ( cd "$dir" && cargo fuzz run -O -a "$t" "$WORK/$t" -- -max_total_time="$SECS" -max_len=2048 -timeout=10 \
          -artifact_prefix="$WORK/$t-" > "$WORK/$t.log" 2>&1 ); then
      echo "fuzz: $t FOUND A CRASH:"; tail -40 "$WORK/$t.log"; failed+=("$t")
      mkdir -p fuzz-artifacts && cp "$WORK/$t-"* fuzz-artifacts/ 2>/dev/null || true
    else
      grep -E "^#[0-9]+.*(DONE|pulse)" "$WORK/$t.log" | tail -1 || true
    fi
  done
}
all_wire=(frame dns nbns l2l3l4 http_ntlm smb2 ssrp triage)
all_policy=()
[ -d policy-lang/fuzz ] && all_policy=(parse_compile)
want=("$@")
for t in "${want[@]}"; do
  [[ " ${all_wire[*]} ${all_policy[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target named $t (targets: ${all_wire[*]} ${all_policy[*]})" >&2; exit 2; }
done
pick() { local out=(); for t in "$@"; do if [ ${#want[@]} -eq 0 ] || [[ " ${want[*]} " == *" $t "* ]]; then out+=("$t"); fi; done; echo "${out[@]:-}"; }
w=$(pick "${all_wire[@]}"); [ -n "$w" ] && run_dir dataplane/wire/fuzz $w
if [ ${#all_policy[@]} -gt 0 ]; then p=$(pick "${all_policy[@]}"); [ -n "$p" ] && run_dir policy-lang/fuzz $p; fi
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz: crashes in: ${failed[*]} (inputs in fuzz-artifacts/)"; exit 1; fi
echo "fuzz: no crash"
