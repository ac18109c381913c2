#!/usr/bin/env bash
# Runs Redis's own Sentinel test suite (tests/sentinel, as ./runtest-sentinel does: 5 Sentinels, 5 Redis) with
# Debian's redis-sentinel and with the reference Sentinel, over real redis-server instances (or, with
# SENTINEL_SUITE_REDIS=reference, over reference servers), and prints passed/failed tests side by side.
#   npm run compat:sentinel-suite -- /path/to/redis-7.0.15-source
#   SENTINEL_SUITE_KINDS="ref" runs only the reference Sentinel; SENTINEL_SUITE_LOGS=dir keeps the full outputs;
#   SENTINEL_SUITE_UNITS="12 13" runs only the units whose names contain those patterns (the runner's --single).
# The source tree is not part of this project (nothing is downloaded): unpack Redis 7.0.15's tarball anywhere.
set -euo pipefail

usage() { echo "usage: npm run compat:sentinel-suite -- REDIS_SOURCE_DIR" >&2; exit 2; }
[ $# -ge 1 ] || usage
src=$(cd "$1" && pwd) || usage
[ -f "$src/tests/sentinel/run.tcl" ] || { echo "sentinel-suite: $src/tests/sentinel/run.tcl not found (not a Redis source tree)" >&2; exit 2; }
command -v tclsh >/dev/null || { echo "sentinel-suite: tclsh not found; install it with: apt-get install -y tcl" >&2; exit 2; }
command -v redis-sentinel >/dev/null || { echo "sentinel-suite: redis-sentinel not found; run scripts/setup.sh" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
refsentinel="$root/dist/reference-server/bin/redis-ref-sentinel.js"
refserver="$root/dist/reference-server/bin/redis-ref-server.js"
[ -f "$refsentinel" ] || { echo "sentinel-suite: $refsentinel not built; run npm run build" >&2; exit 2; }
kinds=${SENTINEL_SUITE_KINDS:-"real ref"}
redis_kind=${SENTINEL_SUITE_REDIS:-redis}

work=$(mktemp -d /tmp/sentinel-suite-XXXXXX)
cleanup() {
  # The suite kills its instances itself; whatever a killed run left behind is found by its pid files.
  for f in "$work"/*/tests/tmp/*/*.pid "$work"/*/tests/sentinel/tmp/*/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A private copy of the tree per kind, with src/redis-server and src/redis-sentinel pointing at what runs.
prepare() { # kind -> tree
  local kind=$1 tree="$work/$1"
  mkdir -p "$tree/src"
  cp -r "$src/tests" "$tree/tests"
  for f in runtest-sentinel; do cp "$src/$f" "$tree/$f"; done
  ln -s "$(command -v redis-cli)" "$tree/src/redis-cli"
  if [ "$redis_kind" = reference ]; then
    printf '#!/bin/sh\nexec node --max-semi-space-size=2 %s "$@"\n' "$refserver" >"$tree/src/redis-server"
    chmod +x "$tree/src/redis-server"
  else
    ln -s "$(command -v redis-server)" "$tree/src/redis-server"
  fi
  if [ "$kind" = ref ]; then
    # The runner execs src/redis-sentinel and expects nothing on stderr: exec the reference Sentinel directly.
    printf '#!/bin/sh\nexec node --max-semi-space-size=2 %s "$@"\n' "$refsentinel" >"$tree/src/redis-sentinel"
    chmod +x "$tree/src/redis-sentinel"
  else
    ln -s "$(command -v redis-sentinel)" "$tree/src/redis-sentinel"
  fi
  echo "$tree"
}

declare -A ok err
for kind in $kinds; do
  tree=$(prepare "$kind")
  log="$work/$kind.log"
  single=()
  for u in ${SENTINEL_SUITE_UNITS:-}; do single+=(--single "$u"); done
  (cd "$tree" && timeout 3000 tclsh tests/sentinel/run.tcl "${single[@]}" >"$log" 2>&1) || true
  sed 's/\x1b\[[0-9;]*m//g' "$log" >"$log.txt"
  # Each test prints "HH:MM:SS> (unit) name: OK" or "...: FAILED: reason", then skips the rest of its unit.
  ok[$kind]=$(grep -cE ': OK$' "$log.txt" || true)
  err[$kind]=$(grep -cE 'FAILED' "$log.txt" || true)
done

printf '%-22s %10s %10s\n' 'Sentinel' 'ok' 'err'
for kind in $kinds; do printf '%-22s %10s %10s\n' "$([ "$kind" = ref ] && echo reference || echo redis-sentinel)" "${ok[$kind]}" "${err[$kind]}"; done
echo "(Redis instances: $redis_kind)"
for kind in $kinds; do
  echo
  echo "Not passing with $([ "$kind" = ref ] && echo 'the reference Sentinel' || echo redis-sentinel):"
  grep -E 'FAILED|Testing unit' "$work/$kind.log.txt" | grep -B1 FAILED | grep -v '^--' | sed 's/^/  /' | head -60 || true
done
if [ -n "${SENTINEL_SUITE_LOGS:-}" ]; then
  mkdir -p "$SENTINEL_SUITE_LOGS" && cp "$work"/*.log.txt "$SENTINEL_SUITE_LOGS"/ && echo "Full outputs: $SENTINEL_SUITE_LOGS"
fi
