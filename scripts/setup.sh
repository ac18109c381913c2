#!/usr/bin/env bash
# Installs the system packages the harness, the suites and the report tests need (Debian/Ubuntu), and starts dockerd.
set -euo pipefail
PACKAGES=(redis-server redis-sentinel redis-tools haproxy nftables iproute2 iptables procps chromium docker.io python3-redis)
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to install: ${PACKAGES[*]}" >&2; exit 2; fi
fi
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts packaged daemons on install where an init system runs; the harness starts its own, so stop those.
for svc in redis-server redis-sentinel haproxy; do
  if pgrep -x "${svc%-server}" >/dev/null 2>&1 || pgrep -f "/usr/bin/$svc" >/dev/null 2>&1; then
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  fi
done
# The Docker driver needs a running engine; start one when none answers (no systemd in CI containers).
if command -v dockerd >/dev/null 2>&1 && ! docker version >/dev/null 2>&1; then
  echo "setup: starting dockerd"
  $SUDO sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
  docker version >/dev/null 2>&1 || { echo "setup: dockerd did not answer, see /var/log/dockerd.log" >&2; exit 3; }
fi
echo "setup: ready"
