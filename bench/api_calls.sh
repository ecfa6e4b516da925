#!/usr/bin/env bash
# API calls per cycle and per day, per sfevents source, for a given freshness.
#
# Starts sfsim (local Salesforce simulator) on 127.0.0.1 with a fresh --out folder, then:
#   1. catch-up: one `sfevents collect` of LoginEvent, SetupAuditTrail, LoginHistory and
#      EventLogFile (Login) with --backfill-days 1; its API calls are recorded.
#   2. steady state, real time: one `sfevents run` per source, alone, one after another, for
#      RUN_SECS seconds each (--object-every OBJECT_EVERY, or --elf-every ELF_EVERY with
#      --event-type Login), stopped with SIGTERM. Cycles and per-cycle api_calls come from the
#      JSON log ("cycle done"), totals from sfsim's /__sim/state before and after.
#   3. steady state at longer intervals, simulated time: sfsim's clock is advanced by F minutes
#      (F = 1, 5, 15, 60, each twice) and `sfevents collect` runs once with SFEVENTS_NOW set to
#      the simulator's clock. That is one cycle at freshness F, without waiting F minutes.
#   4. pages: a second sfsim with --page-size-cap PAGE_CAP (default 10) and PAGE_RPH (200-300)
#      records per hour; catch-up, then cycles at +1, +1, +5, +15 min: the pages per cycle show
#      that each query re-reads the look-back, which costs pages once it holds many rows.
#   5. first-run backfill: the default 180 days of `collect --object LoginEvent --object
#      LogoutEvent --object SetupAuditTrail` on a sparse org (2 days of SPARSE_RPH records an
#      hour) and on a dense one (1 day of DENSE_RPH), with query requests per object from
#      sfsim's own counter, beside what fixed 60-minute windows cost (4,320 queries).
#      BACKFILL_ONLY=1 runs only this section.
# bench/api_calls_report.py turns the logs into the tables of BENCHMARKS.md.
#
#   bench/api_calls.sh
#
# Knobs (environment): RUN_SECS (default 75), OBJECT_EVERY (5), ELF_EVERY (30),
# RECORDS_PER_HOUR (20-60, sfsim --records-per-hour), PAGE_CAP (10), PAGE_RPH (200-300),
# SPARSE_RPH (0-2), DENSE_RPH (800-1200), NO_BUILD=1 (skip cargo build),
# BENCH_DIR (scratch, default a fresh mktemp -d; removed at the end unless KEEP=1).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
cd "$ROOT"
RUN_SECS="${RUN_SECS:-75}"
OBJECT_EVERY="${OBJECT_EVERY:-5}"
ELF_EVERY="${ELF_EVERY:-30}"
RECORDS_PER_HOUR="${RECORDS_PER_HOUR:-20-60}"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
REPORT="$ROOT/bench/api_calls_report.py"
OBJECTS=(LoginEvent SetupAuditTrail LoginHistory)

command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 2; }

if [[ "${NO_BUILD:-0}" != 1 ]]; then
  echo "building release binaries (flock /tmp/cargo.lock)..." >&2
  flock /tmp/cargo.lock cargo build --release -p sfevents -p sfsim >&2
fi

BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/sfevents-apicalls.XXXXXX)}"
mkdir -p "$BENCH_DIR"
SIM_PID=""
SFE_PID=""
# stop_pid PID SIGNAL: signal, wait up to 30 s, then SIGKILL.
stop_pid() {
  local pid="$1" sig="$2"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$SFE_PID" TERM
  stop_pid "$SIM_PID" INT
  wait 2>/dev/null || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$BENCH_DIR"; else echo "kept $BENCH_DIR" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- sfsim -------------------------------------------------------------------------------
# start_sim NAME ARGS...: starts sfsim with a fresh --out folder, waits until it answers.
start_sim() {
  local name="$1"; shift
  SIM_OUT="$BENCH_DIR/$name"
  mkdir -p "$SIM_OUT"
  sim_serve "$BENCH_DIR/$name.stdout" "$BENCH_DIR/$name.stderr" --out "$SIM_OUT" --days "${SIM_DAYS:-1}" "$@"
  echo "sfsim pid $SIM_PID: $(head -1 "$BENCH_DIR/$name.stdout")" >&2
}
sim_calls() { curl -fsS "$SIM_URL/__sim/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_calls"])'; }
# The simulator's clock as RFC 3339: sfsim writes +0000, which SFEVENTS_NOW does not accept (it
# would silently fall back to the real clock).
sim_now() {
  curl -fsS "$SIM_URL/__sim/state" | python3 -c 'import json,sys,datetime; n=json.load(sys.stdin)["now"]; print(datetime.datetime.strptime(n, "%Y-%m-%dT%H:%M:%S.%f%z").isoformat(timespec="milliseconds"))'
}

if [[ "${BACKFILL_ONLY:-0}" != 1 ]]; then
start_sim sim --records-per-hour "$RECORDS_PER_HOUR"
CONFIG="$SIM_OUT/sfevents.toml"
ARCHIVE="$BENCH_DIR/archive"
RESULTS="$BENCH_DIR/results.tsv"   # phase  name  sim_before  sim_after  rc  log  stdout
: >"$RESULTS"
curl -fsS "$SIM_URL/__sim/state" >"$BENCH_DIR/sim_state_start.json"

ALL_SOURCES=()
for o in "${OBJECTS[@]}"; do ALL_SOURCES+=(--object "$o"); done
ALL_SOURCES+=(--event-type Login)

# --- 1. catch-up -----------------------------------------------------------------------
echo "catch-up: sfevents collect ${ALL_SOURCES[*]} --backfill-days 1" >&2
b=$(sim_calls); rc=0
timeout 900 "$SFEVENTS" --log-format json collect --config "$CONFIG" --output-dir "$ARCHIVE" \
  --backfill-days 1 "${ALL_SOURCES[@]}" \
  >"$BENCH_DIR/catchup.stdout" 2>"$BENCH_DIR/catchup.log" || rc=$?
a=$(sim_calls)
printf 'catchup\tall\t%s\t%s\t%s\tcatchup.log\tcatchup.stdout\n' "$b" "$a" "$rc" >>"$RESULTS"
echo "  sfsim api_calls $b -> $a (exit $rc): $(head -1 "$BENCH_DIR/catchup.stdout")" >&2

# --- 2. steady state, real time: one source per run ----------------------------------------
for src in "${OBJECTS[@]}" EventLogFile; do
  if [[ "$src" == EventLogFile ]]; then
    args=(--event-type Login --elf-every "$ELF_EVERY")
  else
    args=(--object "$src" --object-every "$OBJECT_EVERY")
  fi
  echo "run: $src (${args[*]}) for ${RUN_SECS}s" >&2
  b=$(sim_calls); rc=0
  "$SFEVENTS" --log-format json run --config "$CONFIG" --output-dir "$ARCHIVE" --backfill-days 1 \
    "${args[@]}" >"$BENCH_DIR/run_$src.stdout" 2>"$BENCH_DIR/run_$src.log" &
  SFE_PID=$!
  sleep "$RUN_SECS"
  kill -TERM "$SFE_PID" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$SFE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SFE_PID" 2>/dev/null || true
  wait "$SFE_PID" || rc=$?
  SFE_PID=""
  a=$(sim_calls)
  printf 'run\t%s\t%s\t%s\t%s\trun_%s.log\trun_%s.stdout\n' "$src" "$b" "$a" "$rc" "$src" "$src" >>"$RESULTS"
  echo "  sfsim api_calls $b -> $a (exit $rc), $(grep -c '"cycle done"' "$BENCH_DIR/run_$src.log" || true) cycles" >&2
done

# --- 3. one cycle at freshness F, in simulated time -----------------------------------------
# The collector's clock (SFEVENTS_NOW) follows the simulator's, so this must come last.
i=0
for f in 1 1 5 5 15 15 60 60; do
  i=$((i + 1))
  curl -fsS -X POST -H 'Content-Type: application/json' \
    -d "{\"advance_secs\": $((f * 60))}" "$SIM_URL/__sim/clock" >/dev/null
  now=$(sim_now)
  b=$(sim_calls); rc=0
  SFEVENTS_NOW="$now" timeout 300 "$SFEVENTS" --log-format json collect --config "$CONFIG" \
    --output-dir "$ARCHIVE" --backfill-days 1 "${ALL_SOURCES[@]}" \
    >"$BENCH_DIR/warp_$i.stdout" 2>"$BENCH_DIR/warp_$i.log" || rc=$?
  a=$(sim_calls)
  printf 'warp\t%s\t%s\t%s\t%s\twarp_%s.log\twarp_%s.stdout\n' "$f" "$b" "$a" "$rc" "$i" "$i" >>"$RESULTS"
  echo "  +${f} min (sim now $now): sfsim api_calls $b -> $a (exit $rc)" >&2
done

stop_pid "$SIM_PID" INT
wait "$SIM_PID" 2>/dev/null || true
SIM_PID=""

# --- 4. what the look-back costs in pages --------------------------------------------------
# A second simulator caps pages at PAGE_CAP rows (instead of 2000) with PAGE_RPH records per
# hour: a cycle's pages then show how many rows each query re-reads, look-back included.
PAGE_CAP="${PAGE_CAP:-10}"
PAGE_RPH="${PAGE_RPH:-200-300}"
start_sim sim_pages --records-per-hour "$PAGE_RPH" --page-size-cap "$PAGE_CAP"
CONFIG="$SIM_OUT/sfevents.toml"
ARCHIVE="$BENCH_DIR/archive_pages"
i=0
for f in 0 1 1 5 15; do
  i=$((i + 1))
  if [[ "$f" != 0 ]]; then
    curl -fsS -X POST -H 'Content-Type: application/json' \
      -d "{\"advance_secs\": $((f * 60))}" "$SIM_URL/__sim/clock" >/dev/null
  fi
  now=$(sim_now)
  b=$(sim_calls); rc=0
  SFEVENTS_NOW="$now" timeout 300 "$SFEVENTS" --log-format json collect --config "$CONFIG" \
    --output-dir "$ARCHIVE" --backfill-days 1 --object LoginEvent --object LoginHistory \
    >"$BENCH_DIR/pages_$i.stdout" 2>"$BENCH_DIR/pages_$i.log" || rc=$?
  a=$(sim_calls)
  printf 'pages\t%s\t%s\t%s\t%s\tpages_%s.log\tpages_%s.stdout\n' "$f" "$b" "$a" "$rc" "$i" "$i" >>"$RESULTS"
  echo "  page cap $PAGE_CAP, +${f} min: sfsim api_calls $b -> $a (exit $rc)" >&2
done
stop_pid "$SIM_PID" INT
wait "$SIM_PID" 2>/dev/null || true
SIM_PID=""

python3 "$REPORT" "$BENCH_DIR" "$RUN_SECS" "$OBJECT_EVERY" "$ELF_EVERY" "$RECORDS_PER_HOUR" "$PAGE_CAP" "$PAGE_RPH"
fi

# --- 5. first-run backfill: queries per object ------------------------------------------------
SPARSE_RPH="${SPARSE_RPH:-0-2}"
DENSE_RPH="${DENSE_RPH:-800-1200}"
BACKFILL_OBJECTS=(LoginEvent LogoutEvent SetupAuditTrail)
echo
echo "### First-run backfill (180 days, the default): queries per object"
echo
echo "| org | object | events archived | queries (sfsim) | pages of 2,000 | queries with fixed 60-minute windows | wall s | exit |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for kind in sparse dense; do
  if [[ "$kind" == sparse ]]; then days=2; rph="$SPARSE_RPH"; else days=1; rph="$DENSE_RPH"; fi
  SIM_DAYS=$days start_sim "backfill_$kind" --records-per-hour "$rph"
  CONFIG="$SIM_OUT/sfevents.toml"
  ARCHIVE="$BENCH_DIR/archive_backfill_$kind"
  args=()
  for o in "${BACKFILL_OBJECTS[@]}"; do args+=(--object "$o"); done
  now=$(sim_now); rc=0
  t0=$(date +%s.%N)
  SFEVENTS_NOW="$now" timeout 1800 "$SFEVENTS" --log-format json collect --config "$CONFIG" \
    --output-dir "$ARCHIVE" "${args[@]}" >"$BENCH_DIR/backfill_$kind.stdout" 2>"$BENCH_DIR/backfill_$kind.log" || rc=$?
  t1=$(date +%s.%N)
  curl -fsS "$SIM_URL/__sim/state" >"$BENCH_DIR/backfill_$kind.state.json"
  stop_pid "$SIM_PID" INT
  wait "$SIM_PID" 2>/dev/null || true
  SIM_PID=""
  python3 - "$BENCH_DIR/backfill_$kind.state.json" "$ARCHIVE/state.db" "$kind, $days day(s) of $rph records/h" \
    "$t0" "$t1" "$rc" "${BACKFILL_OBJECTS[@]}" <<'PY'
import json, math, sqlite3, sys
state, db, label = sys.argv[1], sys.argv[2], sys.argv[3]
wall, rc, objects = float(sys.argv[5]) - float(sys.argv[4]), sys.argv[6], sys.argv[7:]
st = json.load(open(state))
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
for o in objects:
    events = c.execute("SELECT COALESCE(SUM(events), 0) FROM source_stats WHERE source = ?", (o,)).fetchone()[0]
    q = st["objects"].get(o, {}).get("query_requests", "?")
    pages = math.ceil(events / 2000) if events else 0
    # SetupAuditTrail is read in one query by (CreatedDate, Id) in every version; the event
    # objects took one 60-minute window per query (4,320 for 180 days) plus extra pages.
    fixed = "1 + pages" if o == "SetupAuditTrail" else "4,320"
    print(f"| {label} | {o} | {events} | {q} | {pages} | {fixed} | {wall:.1f} | {rc} |")
PY
done
