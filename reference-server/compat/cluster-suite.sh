#!/usr/bin/env bash
# Runs Redis's own Cluster test suite (tests/cluster, as ./runtest-cluster does: 20 cluster-enabled instances) with
# Debian's redis-server and with the reference server, and prints passed/failed tests side by side, per unit.
#   npm run compat:cluster-suite -- /path/to/redis-7.0.15-source
#   CLUSTER_SUITE_KINDS="ref" runs only the reference server ("real ref" by default); "mixed" runs every test on
#   clusters of both: instance N is redis-server when N is even and the reference server when N is odd, so masters,
#   replicas, voters and failovers cross kinds; CLUSTER_SUITE_LOGS=dir keeps the full outputs;
#   CLUSTER_SUITE_UNITS="00-base 04-resharding" runs only those units (run.tcl's --single, a substring of the name);
#   CLUSTER_SUITE_BASE_PORT (35000) moves the instances' ports (bus ports 10000 above) off the Sentinel suite's 30000;
#   CLUSTER_SUITE_NO_LUA=1 has units 04 and 10 write with RPUSH where they EVAL a script that does only that RPUSH (for
#   a server without Lua; the tests about scripts themselves are left as they are).
# The source tree is not part of this project (nothing is downloaded): unpack Redis 7.0.15's tarball anywhere.
set -euo pipefail

usage() { echo "usage: npm run compat:cluster-suite -- REDIS_SOURCE_DIR" >&2; exit 2; }
[ $# -ge 1 ] || usage
src=$(cd "$1" && pwd) || usage
[ -f "$src/tests/cluster/run.tcl" ] || { echo "cluster-suite: $src/tests/cluster/run.tcl not found (not a Redis source tree)" >&2; exit 2; }
command -v tclsh >/dev/null || { echo "cluster-suite: tclsh not found; install it with: apt-get install -y tcl" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "cluster-suite: redis-server not found; run scripts/setup.sh" >&2; exit 2; }
command -v redis-cli >/dev/null || { echo "cluster-suite: redis-cli not found; run scripts/setup.sh" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
refserver="$root/dist/reference-server/bin/redis-ref-server.js"
[ -f "$refserver" ] || { echo "cluster-suite: $refserver not built; run npm run build" >&2; exit 2; }
kinds=${CLUSTER_SUITE_KINDS:-"real ref"}
for kind in $kinds; do
  case "$kind" in real|ref|mixed) ;; *) echo "cluster-suite: CLUSTER_SUITE_KINDS: unknown kind \"$kind\" (real, ref or mixed)" >&2; exit 2 ;; esac
done
base_port=${CLUSTER_SUITE_BASE_PORT:-35000}
single=()
for unit in ${CLUSTER_SUITE_UNITS:-}; do single+=(--single "$unit"); done
# Keeping the logs keeps the instances' folders too (the runner removes them otherwise).
[ -n "${CLUSTER_SUITE_LOGS:-}" ] && single+=(--dont-clean)

work=$(mktemp -d /tmp/cluster-suite-XXXXXX)
cleanup() {
  # The suite kills its instances itself; whatever a killed run left behind is found by the pids its wrapper recorded
  # (only processes still working inside that tree: a recorded pid may since belong to someone else).
  for f in "$work"/*/pids/*; do
    [ -f "$f" ] || continue
    local pid tree
    pid=$(basename "$f"); tree=$(dirname "$(dirname "$f")")
    case "$(readlink "/proc/$pid/cwd" 2>/dev/null)" in "$tree"/*) kill -9 "$pid" 2>/dev/null || true ;; esac
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A private copy of the tree per kind, with src/redis-server pointing at what runs (src/redis-cli is Debian's).
prepare() { # kind -> tree
  local kind=$1 tree="$work/$1" program
  mkdir -p "$tree/src" "$tree/pids"
  cp -r "$src/tests" "$tree/tests"
  # instances.tcl starts every suite's instances from port 30000: a restart would lose its port to another suite.
  sed -i "s/^set ::redis_base_port 30000$/set ::redis_base_port $base_port/" "$tree/tests/instances.tcl"
  grep -q "^set ::redis_base_port $base_port$" "$tree/tests/instances.tcl" || { echo "cluster-suite: could not set the base port in tests/instances.tcl" >&2; exit 2; }
  if [ -n "${CLUSTER_SUITE_NO_LUA:-}" ]; then
    for unit in 04-resharding 10-manual-failover; do
      sed -i 's/\$cluster eval {redis.call("rpush",KEYS\[1\],ARGV\[1\])} 1 \$key \$ele/$cluster rpush $key $ele/' "$tree/tests/cluster/tests/$unit.tcl"
      ! grep -q 'cluster eval' "$tree/tests/cluster/tests/$unit.tcl" || { echo "cluster-suite: could not replace the EVAL in $unit" >&2; exit 2; }
    done
  fi
  rm -rf "$tree/tests/cluster/tmp" && mkdir -p "$tree/tests/cluster/tmp"
  cp "$src/runtest-cluster" "$tree/runtest-cluster"
  ln -s "$(command -v redis-cli)" "$tree/src/redis-cli"
  local ref="node --max-semi-space-size=2 $refserver" real
  real=$(command -v redis-server)
  # The runner execs src/redis-server and expects nothing on stderr; the wrapper records its pid (kept by exec).
  # Its first argument is the instance's config, redis_N/redis.conf: a mixed tree picks the program by N's parity.
  case "$kind" in
    ref) program="$ref" ;;
    real) program="$real" ;;
    mixed) program='$(n=${1#redis_}; n=${n%%/*}; if [ $((n % 2)) -eq 1 ]; then echo "'"$ref"'"; else echo "'"$real"'"; fi)' ;;
  esac
  printf '#!/bin/sh\n: >"%s/pids/$$"\nexec %s "$@"\n' "$tree" "$program" >"$tree/src/redis-server"
  chmod +x "$tree/src/redis-server"
  echo "$tree"
}

declare -A ok err
for kind in $kinds; do
  tree=$(prepare "$kind")
  log="$work/$kind.log"
  (cd "$tree" && timeout 5400 tclsh tests/cluster/run.tcl "${single[@]}" >"$log" 2>&1) || true
  sed 's/\x1b\[[0-9;]*m//g' "$log" >"$log.txt"
  # Per unit: "unit ok failed". A failed assertion prints the test's line with FAILED and, once its unit is left, a
  # bare "FAILED: caught an error in the test"; a bare one alone (an error outside any test) or an aborted run counts.
  awk 'function flush() { if (u != "") print u, o, (tf > 0 ? tf : sf) }
       /^Testing unit: / { flush(); u = $3; o = 0; tf = 0; sf = 0; next }
       /: OK$/ { o++ }
       /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]> .*FAILED/ { tf++; next }
       /^FAILED/ || /^WARNING: Aborting the test/ { sf++ }
       END { flush() }' "$log.txt" >"$work/$kind.units"
  ok[$kind]=$(awk '{ s += $2 } END { print s + 0 }' "$work/$kind.units")
  err[$kind]=$(awk '{ s += $3 } END { print s + 0 }' "$work/$kind.units")
done

name() { case "$1" in ref) echo reference ;; mixed) echo mixed ;; *) echo redis-server ;; esac; }
printf '%-32s' 'Server'; printf '%10s %10s\n' ok failed
for kind in $kinds; do printf '%-32s%10s %10s\n' "$(name "$kind")" "${ok[$kind]}" "${err[$kind]}"; done
[ -z "${CLUSTER_SUITE_NO_LUA:-}" ] || echo "(CLUSTER_SUITE_NO_LUA: units 04 and 10 write with RPUSH instead of an EVAL of it)"
echo
printf '%-32s' 'Unit'; for kind in $kinds; do printf '%26s' "$(name "$kind") ok/failed"; done; echo
units=$(for kind in $kinds; do cut -d' ' -f1 "$work/$kind.units"; done | sort -u)
for unit in $units; do
  printf '%-32s' "$unit"
  for kind in $kinds; do
    printf '%26s' "$(awk -v u="$unit" '$1 == u { print $2 "/" $3; found = 1 } END { if (!found) print "-" }' "$work/$kind.units")"
  done
  echo
done
for kind in $kinds; do
  echo
  echo "Not passing with $(name "$kind"):"
  grep -E 'FAILED|Testing unit' "$work/$kind.log.txt" | grep -B1 FAILED | grep -v '^--' | sed 's/^/  /' | head -60 || true
done
if [ -n "${CLUSTER_SUITE_LOGS:-}" ]; then
  mkdir -p "$CLUSTER_SUITE_LOGS" && cp "$work"/*.log.txt "$CLUSTER_SUITE_LOGS"/
  # Each instance's own log (the last unit's run of it), as redis_N.log per kind.
  for kind in $kinds; do
    mkdir -p "$CLUSTER_SUITE_LOGS/$kind"
    for f in "$work/$kind"/tests/cluster/tmp/redis_*/log.txt; do
      [ -f "$f" ] && cp "$f" "$CLUSTER_SUITE_LOGS/$kind/$(basename "$(dirname "$f")").log"
    done
  done
  echo "Full outputs: $CLUSTER_SUITE_LOGS"
fi
