#!/usr/bin/env bash
# Debian packages the integration tests and benchmarks need (real sshd test hosts, ansible-* oracles, daemons).
# Idempotent: does nothing when every package is installed; otherwise one `apt-get update`, then one install.
# Add packages to PKGS (one place). Needs root when something is missing.
set -euo pipefail

PKGS=(
  # test hosts (test/support/testhosts.ts): sshd per host, sudo inside, links/namespaces, password hashing
  openssh-server openssh-client sudo iproute2 util-linux openssl
  # password logins from tests and ansible
  sshpass
  # oracles and daemons used by integration tests
  ansible-core python3-jinja2 haproxy keepalived chrony
  # ISO builds
  xorriso
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then missing+=("$p"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing ${missing[*]}; run this script as root (it uses apt-get)" >&2
  exit 1
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# keep maintainer scripts from starting the machine's own daemons (a machine-wide sshd on :22, haproxy, …):
# the tests start their own instances. policy-rc.d is removed again only if we created it.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-test-deps: done"
