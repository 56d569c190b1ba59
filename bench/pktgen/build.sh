#!/usr/bin/env bash
# Builds pktgen-dpdk 23.06.1 (the newest release that builds against Debian's DPDK 22.11) from
# the tarball in ../shared/vendor, with Lua scripting and the project's patches
# (bench/pktgen/patches: Lua's meson dependency on DPDK; tolerate a port that cannot set its MTU,
# as memif cannot). The build is cached in target/pktgen/<hash of tarball and patches>: it is
# redone only when one of them changes. Prints the binary's path last.
#
#   bench/pktgen/build.sh [--vendor DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
VENDOR=../shared/vendor
[ "${1:-}" = "--vendor" ] && VENDOR=$2
TARBALL=$VENDOR/pktgen-dpdk-23.06.1.tar.gz
die() { echo "pktgen/build.sh: $*" >&2; exit 1; }
[ -f "$TARBALL" ] || die "$TARBALL is missing: the project's checkout needs ../shared beside it (or give --vendor DIR)."
[ "$(id -u)" -eq 0 ] || die "run as root (it installs the build's packages)."

# What the build needs: meson, ninja, libnuma, Lua 5.3; and the chart's matplotlib (Debian's).
PKGS=(meson ninja-build libnuma-dev liblua5.3-dev pkg-config libpcap-dev python3-matplotlib)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "pktgen/build.sh: installing ${missing[*]}" >&2
  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed."
fi

( cd "$VENDOR" && sha256sum -c --ignore-missing --quiet SHA256SUMS ) || die "$TARBALL does not match $VENDOR/SHA256SUMS."
KEY=$(cat "$TARBALL" bench/pktgen/patches/*.patch | sha256sum | cut -c1-16)
OUT=target/pktgen/$KEY
BIN=$OUT/build/app/pktgen
if [ ! -x "$BIN" ]; then
  rm -rf "$OUT"
  mkdir -p "$OUT"
  tar xzf "$TARBALL" -C "$OUT" --strip-components=1
  for p in bench/pktgen/patches/*.patch; do
    patch -d "$OUT" -p1 --quiet < "$p" || die "patch $p does not apply."
  done
  ( cd "$OUT" && meson setup build -Denable_lua=true -Denable-avx2=false >build.log 2>&1 && ninja -C build >>build.log 2>&1 ) \
    || { tail -30 "$OUT/build.log" >&2; die "the build failed (whole log: $OUT/build.log)."; }
  [ -x "$BIN" ] || die "the build produced no $BIN."
fi
# The Lua scripts run from the tree (Pktgen.lua is required from there).
echo "$(pwd)/$BIN"
