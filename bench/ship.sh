#!/usr/bin/env bash
# Shipping benchmark: events per second, CPU seconds per million events and peak RSS of
# `sfevents ship` to the Elasticsearch receiver (crates/receivers) on loopback.
#
#   1. sfsim serves one big daily ApiTotalUsage file (CSV_BYTES, default 400 MB, which makes an
#      NDJSON archive file of about 1.1 GB); `sfevents collect --no-ship` archives it.
#   2. `receivers elasticsearch` starts on 127.0.0.1 (documents kept in memory).
#   3. `sfevents ship --to elasticsearch+http://127.0.0.1:PORT?mode=MODE` runs under
#      /usr/bin/time -v; the receiver's CPU is read from /proc before and after.
#   4. Exits non-zero when `ship` fails, when the receiver holds a different number of events
#      than the archive has (each archived event is sent), or when any event was sent twice
#      (the receiver's 409 conflicts, a create of an _id it already holds, and updates, an
#      index of one).
#
#   bench/ship.sh
#   CSV_BYTES=100000000 MODE=agent bench/ship.sh
#
# Knobs: CSV_BYTES, MODE (ecs|agent, default ecs), MAX_BATCH_EVENTS (default 1000), IN_FLIGHT
# (default 2), NO_BUILD=1, KEEP=1, BENCH_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CSV_BYTES="${CSV_BYTES:-400000000}"
MODE="${MODE:-ecs}"
MAX_BATCH_EVENTS="${MAX_BATCH_EVENTS:-1000}"
IN_FLIGHT="${IN_FLIGHT:-2}"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
RECEIVER="$ROOT/target/release/receivers"

[[ -x /usr/bin/time ]] || { echo "installing GNU time" >&2; apt-get install -y time >/dev/null; }
if [[ "${NO_BUILD:-0}" != 1 ]]; then
  echo "building release binaries (flock /tmp/cargo.lock)..." >&2
  flock /tmp/cargo.lock cargo build --release -p sfevents -p sfsim -p receivers >&2
fi

BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/sfevents-ship.XXXXXX)}"
mkdir -p "$BENCH_DIR"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$BENCH_DIR"; else echo "kept $BENCH_DIR" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_secs() {
  local tck; tck=$(getconf CLK_TCK)
  awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"
}

# 1. The archive.
"$SFSIM" serve --bind 127.0.0.1 --port 0 --out "$BENCH_DIR/sim" --seed 1 --days 2 \
  --event-type ApiTotalUsage --no-hourly --no-late-files --rows-per-hour 1-1 \
  --big-file-bytes "$CSV_BYTES" >"$BENCH_DIR/sim.out" 2>"$BENCH_DIR/sim.err" &
PIDS+=($!)
for _ in $(seq 1 1200); do grep -q "^sfsim serving" "$BENCH_DIR/sim.out" 2>/dev/null && break; sleep 0.1; done
echo "collecting the archive: $(head -1 "$BENCH_DIR/sim.out")" >&2
"$SFEVENTS" collect --config "$BENCH_DIR/sim/sfevents.toml" --output-dir "$BENCH_DIR/archive" \
  --quiet --interval daily --event-type ApiTotalUsage --no-ship
kill -INT "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()
NDJSON_BYTES=$(find "$BENCH_DIR/archive/events" -name '*.ndjson' -printf '%s\n' | sort -n | tail -1)
EVENTS=$(find "$BENCH_DIR/archive/events" -name '*.ndjson' -exec cat {} + | wc -l)

# 2. The receiver.
"$RECEIVER" elasticsearch --bind 127.0.0.1 --port 0 >"$BENCH_DIR/es.out" 2>"$BENCH_DIR/es.err" &
RPID=$!; PIDS+=($RPID)
URL=""
for _ in $(seq 1 300); do URL=$(grep -m1 '^http' "$BENCH_DIR/es.out" 2>/dev/null || true); [[ -n "$URL" ]] && break; sleep 0.1; done
[[ -n "$URL" ]] || { echo "the receiver did not start" >&2; cat "$BENCH_DIR/es.err" >&2; exit 1; }
URL="${URL%/}"

# 3. Ship.
r0=$(cpu_secs "$RPID")
rc=0
/usr/bin/time -v -o "$BENCH_DIR/time.txt" "$SFEVENTS" ship --output-dir "$BENCH_DIR/archive" \
  --to "elasticsearch+$URL?name=bench&mode=$MODE&max_batch_events=$MAX_BATCH_EVENTS&in_flight=$IN_FLIGHT" \
  >"$BENCH_DIR/ship.out" 2>"$BENCH_DIR/ship.err" || rc=$?
r1=$(cpu_secs "$RPID")
read -r STORED CONFLICTS < <(curl -fsS "$URL/__receiver/stats" |
  python3 -c 'import json,sys; s = json.load(sys.stdin); print(s["created"], s["conflicts"] + s["updated"])')
[[ -n "${STORED:-}" && -n "${CONFLICTS:-}" ]] || { echo "cannot read the receiver's stats" >&2; exit 1; }

python3 - "$BENCH_DIR/time.txt" "$EVENTS" "$NDJSON_BYTES" "$r0" "$r1" "$rc" "$STORED" "$MODE" \
  "$MAX_BATCH_EVENTS" "$IN_FLIGHT" "$(cat "$BENCH_DIR/ship.out")" <<'PY'
import sys
t, events, nd, r0, r1, rc, stored, mode, batch, inflight, out = sys.argv[1:]
v = {}
for line in open(t):
    k, _, x = line.strip().rpartition(": ")
    v[k] = x
wall = 0.0
for part in v["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
    wall = wall * 60 + float(part)
cpu = float(v["User time (seconds)"]) + float(v["System time (seconds)"])
rss = int(v["Maximum resident set size (kbytes)"]) / 1024
events = int(events)
print(f"| mode | events | largest NDJSON file | wall s | events/s | sfevents CPU s | CPU s per million events | peak RSS MiB | receiver CPU s | stored | batch / in flight | exit |")
print(f"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
print(f"| {mode} | {events} | {int(nd)/1e9:.2f} GB | {wall:.1f} | {events/wall:,.0f} | {cpu:.1f} | {cpu/events*1e6:.1f} | {rss:.1f} | {float(r1)-float(r0):.1f} | {stored} | {batch} / {inflight} | {rc} |")
print()
print(out)
PY

failed=0
if [[ "$rc" != 0 ]]; then
  echo "FAIL: sfevents ship exited $rc" >&2; failed=1
fi
if [[ "$STORED" != "$EVENTS" ]]; then
  echo "FAIL: the receiver holds $STORED events; $EVENTS were archived and sent" >&2; failed=1
fi
if [[ "$CONFLICTS" != 0 ]]; then
  echo "FAIL: $CONFLICTS events were sent again (conflicts and updates at the receiver) in a run without faults" >&2
  failed=1
fi
exit "$failed"
