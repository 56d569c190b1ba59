#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine for antidote: packages, hugepages, hugetlbfs.
# Idempotent. Fails loudly: any step that fails stops the script with a message.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "setup.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run me as root (sudo scripts/setup.sh): I install packages and reserve hugepages."

PKGS=(
  # DPDK 22.11 LTS and what bindgen needs to read its headers
  dpdk dpdk-dev libdpdk-dev pkg-config libclang-dev clang build-essential
  # lab network and real peers
  iproute2 iputils-ping procps psmisc ethtool
  samba samba-common-bin smbclient
  # the lab's legitimate software (LLMNR, mDNS, DHCP server and client) and the real Responder's
  # Python dependencies
  llmnrd avahi-daemon avahi-utils dbus-daemon dnsmasq-base busybox python3-netifaces python3-pyasn1 python3-venv
  tcpdump tshark python3-scapy curl socat
  # CA store for https webhooks; openssl makes the tests' certificates
  ca-certificates openssl
  # the Debian package's test: its unit checked by systemd-analyze (systemd does not run), its
  # logrotate file by logrotate, its completions by bash-completion
  systemd logrotate bash-completion
  # a real syslog receiver for the alert sinks' test (run in a namespace of the test's own)
  rsyslog
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  # tshark asks whether non-root users may capture; answer no, non-interactively.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -q || die "apt-get update failed: check the machine's access to the Debian mirror."
  # No daemon the packages bring may start on the host (avahi-daemon, llmnrd, smbd, nmbd would
  # answer on the host's own interfaces): the lab starts them inside its namespaces.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || { rm -f /usr/sbin/policy-rc.d; die "apt-get install failed for: ${missing[*]}"; }
  rm -f /usr/sbin/policy-rc.d
fi
# Samba's daemons are started by the lab when it needs them, inside namespaces; never on the host.
for svc in smbd nmbd samba-ad-dc winbind avahi-daemon avahi-daemon.socket llmnrd; do
  systemctl disable --now "$svc" >/dev/null 2>&1 || true
  pkill -x "$svc" >/dev/null 2>&1 || true
done

# The real Responder (the adversary, run only in the lab's namespaces) needs aioquic from PyPI:
# a venv that sees Debian's netifaces and pyasn1 (../shared/vendor/README.md).
VENV=target/lab/responder-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import netifaces, aioquic" >/dev/null 2>&1; then
  rm -rf "$VENV"
  mkdir -p target/lab
  /usr/bin/python3 -m venv --system-site-packages "$VENV" || die "could not create the Responder venv at $VENV."
  "$VENV/bin/pip" install -q aioquic || die "pip install aioquic failed: check the machine's access to PyPI."
fi

# npm, for the alerts' check against ECS's own field definitions (@elastic/ecs, fetched by
# `npm pack` at test time): whatever node the machine has, else Debian's.
if ! command -v npm >/dev/null 2>&1; then
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm; } || die "apt-get install npm failed."
fi

pkg-config --atleast-version=22.11 libdpdk || die "libdpdk 22.11 or newer not found by pkg-config after install."

# 2 MiB hugepages: 1024 x 2 MiB = 2 GiB, enough for the benchmark profiles.
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
want=${ANTIDOTE_HUGEPAGES:-1024}
if [ "$(cat "$HP")" -lt "$want" ]; then
  echo "$want" > "$HP" || die "could not reserve $want hugepages of 2 MiB."
fi
got=$(cat "$HP")
[ "$got" -ge 64 ] || die "only $got hugepages of 2 MiB could be reserved; free memory and retry."
mkdir -p /dev/hugepages
if ! mountpoint -q /dev/hugepages; then
  mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages || die "could not mount hugetlbfs at /dev/hugepages."
fi

# Rust tools the tests use.
if ! command -v cargo-nextest >/dev/null 2>&1 && ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest || die "cargo install cargo-nextest failed."
fi

echo "setup.sh: ready (DPDK $(pkg-config --modversion libdpdk), $got hugepages of 2 MiB at /dev/hugepages)."
