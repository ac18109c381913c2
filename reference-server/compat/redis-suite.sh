#!/usr/bin/env bash
# Runs units of Redis's own test suite (external-server mode) against Debian's redis-server and the reference
# server, a fresh server per unit, and prints passed/failed tests side by side.
#   npm run compat:redis-suite -- /path/to/redis-7.0.15-source [unit ...]
#   REDIS_SUITE_LOGS=dir keeps each unit's full output there (ref-unit_multi.log.txt, real-...) for reading failures.
# The source tree is not part of this project (nothing is downloaded): unpack Redis 7.0.15's tarball anywhere.
set -euo pipefail

usage() { echo "usage: npm run compat:redis-suite -- REDIS_SOURCE_DIR [unit/type/list ...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
src=$(cd "$1" && pwd) || usage
shift
[ -f "$src/tests/test_helper.tcl" ] || { echo "redis-suite: $src/tests/test_helper.tcl not found (not a Redis source tree)" >&2; exit 2; }
command -v tclsh >/dev/null || { echo "redis-suite: tclsh not found; install it with: apt-get install -y tcl" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis-suite: redis-server not found; run scripts/setup.sh" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
ref="$root/dist/reference-server/bin/redis-ref-server.js"
[ -f "$ref" ] || { echo "redis-suite: $ref not built; run npm run build" >&2; exit 2; }

# The units that cover what the reference server implements; streams, scripting, ACL and AOF have none.
units=("$@")
[ ${#units[@]} -gt 0 ] || units=(unit/type/string unit/type/incr unit/type/list unit/type/hash unit/type/set unit/type/zset
  unit/keyspace unit/expire unit/dump unit/multi unit/protocol unit/info-command unit/introspection unit/scan unit/quit
  unit/other unit/sort unit/bitops unit/bitfield unit/geo unit/hyperloglog)

work=$(mktemp -d /tmp/redis-suite-XXXXXX)
# Units run in subshells: each server's pid is kept in a file, so Ctrl-C stops whichever is running.
cleanup() {
  for f in "$work"/srv-*/pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The suite expects src/redis-server and src/redis-cli next to its tests: link Debian's into a private copy.
mkdir -p "$work/redis/src"
cp -r "$src/tests" "$work/redis/tests"
for b in redis-server redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
  command -v "$b" >/dev/null && ln -s "$(command -v "$b")" "$work/redis/src/$b"
done

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

run_unit() { # kind unit -> "ok err"
  local kind=$1 unit=$2 port dir pid log
  port=$(free_port)
  dir=$(mktemp -d "$work/srv-XXXX")
  if [ "$kind" = ref ]; then
    (cd "$dir" && exec node --max-semi-space-size=2 "$ref" --port "$port" --bind 127.0.0.1 --save '' --enable-debug-command yes --dir "$dir" >"$dir/log" 2>&1) &
  else
    (cd "$dir" && exec redis-server --port "$port" --bind 127.0.0.1 --save '' --enable-debug-command yes --dir "$dir" >"$dir/log" 2>&1) &
  fi
  pid=$!
  echo "$pid" >"$dir/pid"
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  log="$work/${kind}-$(echo "$unit" | tr / _).log"
  (cd "$work/redis" && timeout 600 tclsh tests/test_helper.tcl --host 127.0.0.1 --port "$port" --single "$unit" \
    --durable --tags -slow --baseport $((port + 1000)) >"$log" 2>&1) || true
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
  # Each failure is listed twice (as it happens, and in the summary after "***"): count the first.
  local clean="$log.txt"
  sed 's/\x1b\[[0-9;]*m//g' "$log" >"$clean"
  if [ "$kind" = ref ]; then grep -E '^\[(err|exception)\]:' "$clean" | sort -u | head -40 >"$work/failed-$(echo "$unit" | tr / _)" || true; fi
  echo "$(grep -cE '^\[ok\]:' "$clean" || true) $(grep -cE '^\[(err|exception)\]:' "$clean" || true)"
}

printf '%-24s %16s %16s\n' unit 'redis-server' 'reference'
for u in "${units[@]}"; do
  read -r rok rerr < <(run_unit real "$u")
  read -r fok ferr < <(run_unit ref "$u")
  printf '%-24s %7s ok %3s err %7s ok %3s err\n' "$u" "$rok" "$rerr" "$fok" "$ferr"
done
echo
echo "Failures on the reference server:"
cat "$work"/failed-* 2>/dev/null | sed 's/^/  /' || true
if [ -n "${REDIS_SUITE_LOGS:-}" ]; then
  mkdir -p "$REDIS_SUITE_LOGS" && cp "$work"/*.log.txt "$REDIS_SUITE_LOGS"/ && echo "Full outputs: $REDIS_SUITE_LOGS"
fi
