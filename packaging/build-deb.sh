#!/usr/bin/env bash
# Builds the Debian package: target/deb/antidote_VERSION_ARCH.deb, with dpkg-deb.
#   the binary (release build)             /usr/bin/antidote
#   the systemd unit                       /lib/systemd/system/antidote.service
#   the configuration (a conffile)         /etc/antidote/antidote.toml
#   the shipped policies and profiles      /usr/share/antidote/{policies,hw-profiles}/
#   man pages, shell completions, docs     /usr/share/man/man1, bash/zsh/fish, /usr/share/doc/antidote
#   logrotate, hugepages at boot           /etc/logrotate.d/antidote, /etc/sysctl.d/antidote.conf
# Usage: packaging/build-deb.sh [--bin PATH] [--out DIR]
#   --bin: package this binary as it is (default: build target/release/antidote first)
#   --out: where the .deb goes (default: target/deb)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="" OUT=target/deb
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "build-deb.sh: unknown argument $1 (--bin PATH, --out DIR)" >&2; exit 2 ;;
  esac
done
if [ -z "$BIN" ]; then
  cargo build --release --locked -p antidote
  BIN=target/release/antidote
fi
[ -x "$BIN" ] || { echo "build-deb.sh: no $BIN: build it first (cargo build --release)" >&2; exit 1; }
VERSION=$("$BIN" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)
PKG=$OUT/antidote_${VERSION}_${ARCH}
rm -rf "$PKG" && mkdir -p "$PKG/DEBIAN"
inst() { install -D -m "$1" "$2" "$PKG/$3"; }

inst 0755 "$BIN" usr/bin/antidote
strip --strip-debug "$PKG/usr/bin/antidote"
inst 0644 packaging/antidote.service lib/systemd/system/antidote.service
inst 0644 packaging/antidote.toml etc/antidote/antidote.toml
inst 0644 packaging/logrotate etc/logrotate.d/antidote
inst 0644 packaging/sysctl.conf etc/sysctl.d/antidote.conf
for f in policies/*.policy; do inst 0644 "$f" "usr/share/antidote/$f"; done
for f in hw-profiles/*.toml hw-profiles/README.md; do inst 0644 "$f" "usr/share/antidote/$f"; done
for f in README.md docs/*.md; do inst 0644 "$f" "usr/share/doc/antidote/$(basename "$f")"; done
mkdir -p "$PKG/usr/share/man/man1"
"$BIN" man "$PKG/usr/share/man/man1"
gzip -9n "$PKG"/usr/share/man/man1/*.1
"$BIN" completions bash | install -D -m 0644 /dev/stdin "$PKG/usr/share/bash-completion/completions/antidote"
"$BIN" completions zsh | install -D -m 0644 /dev/stdin "$PKG/usr/share/zsh/vendor-completions/_antidote"
"$BIN" completions fish | install -D -m 0644 /dev/stdin "$PKG/usr/share/fish/vendor_completions.d/antidote.fish"
cat > "$PKG/usr/share/doc/antidote/copyright" <<'EOT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: antidote
Files: *
Copyright: the antidote authors
License: see the project's repository
EOT

# What the binary needs at run time: the packages that hold the shared libraries it names. DPDK
# is linked in (dataplane/dpdk/build.rs), drivers included; a binary built with
# ANTIDOTE_DPDK_LINK=shared names DPDK's shared libraries instead, and loads its drivers as
# plugins: the usual ones are recommended then.
DEPENDS=$(objdump -p "$BIN" | awk '$1 == "NEEDED" {print $2}' | while read -r lib; do
  dpkg -S "*/$lib" 2>/dev/null | head -1 | cut -d: -f1
done | sort -u | paste -sd, | sed 's/,/, /g')
[ -n "$DEPENDS" ] || { echo "build-deb.sh: could not tell which packages hold the libraries $BIN needs (objdump -p, dpkg -S)" >&2; exit 1; }
RECOMMENDS="dpdk, logrotate"
if objdump -p "$BIN" | grep -q 'NEEDED.*librte_eal'; then
  RECOMMENDS="dpdk, librte-mempool-ring23, librte-net-af-packet23, librte-net-pcap23, librte-net-i40e23, librte-net-ixgbe23, librte-net-ice23, librte-net-mlx5-23, logrotate"
fi

cat > "$PKG/DEBIAN/control" <<EOT
Package: antidote
Version: $VERSION
Architecture: $ARCH
Maintainer: antidote developers <antidote@localhost>
Section: net
Priority: optional
Depends: $DEPENDS
Recommends: $RECOMMENDS
Installed-Size: $(du -sk "$PKG" | cut -f1)
Description: inline protection against LLMNR, NBT-NS and mDNS poisoning
 A DPDK appliance that sits in the wire between port pairs, in poll mode,
 and stops name-resolution poisoning (Responder; MITRE ATT&CK T1557.001):
 it learns who owns which name, sends canary queries, holds first answers
 while their sender is probed, drops poisoned answers and alerts in ECS.
EOT
( cd "$PKG" && find etc -type f | sed 's|^|/|' ) > "$PKG/DEBIAN/conffiles"

cat > "$PKG/DEBIAN/postinst" <<'EOT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    install -d -m 0700 /var/lib/antidote
    install -d -m 0750 /var/log/antidote
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null 2>&1 || true
        sysctl -q -p /etc/sysctl.d/antidote.conf >/dev/null 2>&1 || true
    fi
    if [ ! -e /etc/antidote/profile.toml ]; then
        echo "antidote: write /etc/antidote/profile.toml (examples in /usr/share/antidote/hw-profiles), check with"
        echo "antidote: \`antidote preflight\`, then \`systemctl enable --now antidote\` (docs: /usr/share/doc/antidote/operations.md)"
    fi
fi
exit 0
EOT
cat > "$PKG/DEBIAN/prerm" <<'EOT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    systemctl stop antidote.service >/dev/null 2>&1 || true
    systemctl disable antidote.service >/dev/null 2>&1 || true
fi
exit 0
EOT
cat > "$PKG/DEBIAN/postrm" <<'EOT'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
    rm -rf /var/lib/antidote /var/log/antidote
    rmdir /etc/antidote 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
EOT
chmod 0755 "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/prerm" "$PKG/DEBIAN/postrm"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$PKG.deb" >/dev/null
echo "$PKG.deb"
