#!/usr/bin/env bash
# The built-in rule pack over an archive of at least MIN_ROWS events, side by side in one run
# with DuckDB running pySigma's SQL for the pack's single-event rules (the ones its backend can
# convert), on the same machine and the same archive.
#
#   1. sfsim serves DAYS days of ROWS_PER_HOUR rows an hour of each of TYPES (EventLogFile);
#      `sfevents collect --interval daily` archives them (skipped when the archive is there).
#   2. `sfevents detect --format ndjson` (the whole pack: detections, correlations, new_value,
#      baseline) under /usr/bin/time -v, RUNS times: CPU s, events/s per CPU second, peak RSS.
#   3. DuckDB (crates/sfevents/tests/sigma_tools/duckdb_oracle.py in the venv scripts/test
#      installs): every record's fields flattened into a table per dataset, then each
#      convertible single-event rule's query; under /usr/bin/time -v, once.
#   4. For each rule both ran, the events each selected must be the same, or the script fails.
#
#   bench/detect.sh                              # 10 M rows
#   DAYS=1 ROWS_PER_HOUR=2000 MIN_ROWS=0 bench/detect.sh   # quick
#
#   5. With LIVE=1: what the live rules add to a collect. The same org (LIVE_DAYS days) collected
#      into fresh archives, alternately without and with `[detections] enabled = true`, LIVE_RUNS
#      times each; the archived events must be equal in number.
#
# Knobs: DAYS (6), ROWS_PER_HOUR (14000), TYPES (Login API RestApi URI ApiTotalUsage), MIN_ROWS
# (10000000), RUNS (2), BENCH_DIR, KEEP (0: the archives, about 19 GB at the defaults, are
# removed at the end; 1: kept, and the next run reuses the archive), SFEVENTS_SIGMA_VENV,
# LIVE (0), LIVE_DAYS (1), LIVE_RUNS (3).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DAYS="${DAYS:-6}"
ROWS_PER_HOUR="${ROWS_PER_HOUR:-14000}"
TYPES="${TYPES:-Login API RestApi URI ApiTotalUsage}"
MIN_ROWS="${MIN_ROWS:-10000000}"
RUNS="${RUNS:-2}"
BENCH_DIR="${BENCH_DIR:-/tmp/sfevents-detect-bench}"
VENV="${SFEVENTS_SIGMA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sfevents/sigma-venv}"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
ORACLE="$ROOT/crates/sfevents/tests/sigma_tools/duckdb_oracle.py"

. "$ROOT/bench/lib.sh"
ensure_gnu_time
[[ -x "$VENV/bin/python" ]] || { echo "no Sigma venv at $VENV: run scripts/test once (it installs sigma-cli, pysigma-backend-duckdb and duckdb there)" >&2; exit 2; }
need curl || { echo "curl is needed" >&2; exit 2; }

echo "building (release; flock /tmp/cargo.lock)..." >&2
flock /tmp/cargo.lock cargo build --release -p sfevents -p sfsim >&2
mkdir -p "$BENCH_DIR"
ARCHIVE="$BENCH_DIR/archive"
SIM_PID=""
KEEP="${KEEP:-0}"
# The archives are large (about 19 GB with LIVE=1): gone at the end unless KEEP=1, so a
# benchmark never leaves a disk full behind it.
cleanup() {
  stop_sim
  [[ "$KEEP" == 1 ]] || rm -rf "$ARCHIVE" "$BENCH_DIR"/live-on "$BENCH_DIR"/live-off "$BENCH_DIR/alerts.ndjson"
}
trap cleanup EXIT

# --- 1. the archive ------------------------------------------------------------------------------
rows() { find "$ARCHIVE/events" -name '*.ndjson' -exec cat {} + 2>/dev/null | wc -l; }
if [[ ! -f "$ARCHIVE/state.db" ]]; then
  type_args=(); for t in $TYPES; do type_args+=(--event-type "$t"); done
  sim_serve "$BENCH_DIR/sim.stdout" "$BENCH_DIR/sim.stderr" --out "$BENCH_DIR/sim" --seed 11 \
    --days "$DAYS" "${type_args[@]}" --no-hourly --no-late-files \
    --rows-per-hour "$ROWS_PER_HOUR-$ROWS_PER_HOUR" --records-per-hour 0-0
  echo "collecting $DAYS days x 24 h x $ROWS_PER_HOUR rows of: $TYPES ..." >&2
  "$SFEVENTS" collect --config "$BENCH_DIR/sim/sfevents.toml" --output-dir "$ARCHIVE" --quiet \
    --interval daily --no-ship >&2
  stop_sim
fi
EVENTS=$(rows)
(( EVENTS >= MIN_ROWS )) || { echo "the archive holds $EVENTS events, fewer than MIN_ROWS=$MIN_ROWS" >&2; exit 1; }
BYTES=$(find "$ARCHIVE/events" -name '*.ndjson' -printf '%s\n' | awk '{ s += $1 } END { print s }')

echo "# bench/detect.sh"
echo
echo "| | |"
echo "|---|---|"
echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
echo "| CPUs | $(nproc) (nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) |"
echo "| commit | $(git rev-parse --short HEAD), $(git status --short | wc -l) uncommitted paths |"
echo "| archive | $EVENTS events, $BYTES bytes of NDJSON ($TYPES; $DAYS days x $ROWS_PER_HOUR rows an hour) |"
echo "| duckdb | $("$VENV/bin/python" -c 'import duckdb; print(duckdb.__version__)') (pySigma DuckDB backend 0.1.4) |"
echo

# --- 2. sfevents ---------------------------------------------------------------------------------
printf '| tool | run | what | CPU s | wall s | peak RSS MiB | events/s per CPU s |\n|---|---:|---|---:|---:|---:|---:|\n'
cpu_of() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$1"; }
line() {
  local cpu wall rss
  cpu=$(cpu_of "$4"); wall=$(time_field "$4" "Elapsed (wall clock) time (h:mm:ss or m:ss)")
  rss=$(time_field "$4" "Maximum resident set size (kbytes)")
  printf '| %s | %s | %s | %s | %s | %.1f | %s |\n' "$1" "$2" "$3" "$cpu" "$wall" "$(echo "$rss / 1024" | bc -l)" \
    "$(python3 -c "print(f'{$EVENTS / max($cpu, 0.01):,.0f}')")"
}
for run in $(seq 1 "$RUNS"); do
  sync; sleep 2
  /usr/bin/time -v -o "$BENCH_DIR/detect.time" "$SFEVENTS" detect --output-dir "$ARCHIVE" \
    --format ndjson --quiet >"$BENCH_DIR/alerts.ndjson"
  line sfevents "$run" "the whole pack ($("$SFEVENTS" rules list 2>&1 >/dev/null | sed 's/ rule.*//') rules)" "$BENCH_DIR/detect.time"
done

# --- 3. DuckDB -----------------------------------------------------------------------------------
PACK="$BENCH_DIR/pack"; rm -rf "$PACK"; cp -r "$ROOT/crates/detections/rules" "$PACK"
sync; sleep 2
/usr/bin/time -v -o "$BENCH_DIR/duckdb.time" "$VENV/bin/python" "$ORACLE" --archive "$ARCHIVE" \
  --rules "$PACK" --out "$BENCH_DIR/duckdb.json"
COMPARED=$(python3 -c "import json; print(sum(1 for e in json.load(open('$BENCH_DIR/duckdb.json'))['rules'] if e.get('status') == 'compared'))")
line duckdb 1 "load + $COMPARED single-event rules" "$BENCH_DIR/duckdb.time"
echo

# --- 4. the same events --------------------------------------------------------------------------
python3 - "$BENCH_DIR/duckdb.json" "$BENCH_DIR/alerts.ndjson" <<'PY'
import collections, json, sys
oracle = json.load(open(sys.argv[1]))["rules"]
seen = collections.defaultdict(set)
for line in open(sys.argv[2]):
    a = json.loads(line)
    seen[a["rule"]["id"]].update(a["events"]["ids"])
bad, matched = [], 0
for e in oracle:
    if e.get("status") != "compared":
        continue
    duck = set(e["ids"])
    ours = seen.get(e["id"], set())
    matched += bool(duck)
    if duck != ours:
        bad.append(f'{e["name"]}: DuckDB {len(duck)}, sfevents {len(ours)}')
print(f"Same events for every single-event rule both ran ({matched} of them matched something).")
if bad:
    print("differ: " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
PY

# --- 5. what the live rules add to a collect ------------------------------------------------------
[[ "${LIVE:-0}" == 1 ]] || exit 0
LIVE_DAYS="${LIVE_DAYS:-1}"; LIVE_RUNS="${LIVE_RUNS:-3}"
type_args=(); for t in $TYPES; do type_args+=(--event-type "$t"); done
sim_serve "$BENCH_DIR/live-sim.stdout" "$BENCH_DIR/live-sim.stderr" --out "$BENCH_DIR/live-sim" --seed 12 \
  --days "$LIVE_DAYS" "${type_args[@]}" --no-hourly --no-late-files \
  --rows-per-hour "$ROWS_PER_HOUR-$ROWS_PER_HOUR" --records-per-hour 0-0
cp "$BENCH_DIR/live-sim/sfevents.toml" "$BENCH_DIR/live-off.toml"
{ cat "$BENCH_DIR/live-sim/sfevents.toml"; printf '\n[detections]\nenabled = true\n'; } >"$BENCH_DIR/live-on.toml"
echo
printf '| collect | run | CPU s | wall s | peak RSS MiB | events | alerts |\n|---|---:|---:|---:|---:|---:|---:|\n'
declare -A CPU_SUM=([off]=0 [on]=0)
declare -A COUNT=()
for run in $(seq 1 "$LIVE_RUNS"); do
  for mode in off on; do
    dir="$BENCH_DIR/live-$mode"; rm -rf "$dir"; sync; sleep 2
    /usr/bin/time -v -o "$dir.time" "$SFEVENTS" collect --config "$BENCH_DIR/live-$mode.toml" \
      --output-dir "$dir" --quiet --interval daily --no-ship
    n=$(find "$dir/events" -name '*.ndjson' -not -path '*/events/alert/*' -exec cat {} + | wc -l)
    a=$(find "$dir/events" -path '*/events/alert/*' -name '*.ndjson' -exec cat {} + 2>/dev/null | wc -l)
    COUNT[$mode]=$n
    cpu=$(cpu_of "$dir.time")
    CPU_SUM[$mode]=$(echo "${CPU_SUM[$mode]} + $cpu" | bc -l)
    printf '| rules %s | %s | %s | %s | %.1f | %s | %s |\n' "$mode" "$run" "$cpu" \
      "$(time_field "$dir.time" "Elapsed (wall clock) time (h:mm:ss or m:ss)")" \
      "$(echo "$(time_field "$dir.time" "Maximum resident set size (kbytes)") / 1024" | bc -l)" "$n" "$a"
  done
  [[ "${COUNT[off]}" == "${COUNT[on]}" ]] || { echo "the archives differ: ${COUNT[off]} and ${COUNT[on]} events" >&2; exit 1; }
done
stop_sim
echo
python3 -c "off, on = ${CPU_SUM[off]}, ${CPU_SUM[on]}; print(f'Live rules add {100 * (on - off) / off:.1f} % to the collect CPU ({on:.2f} against {off:.2f} CPU s over $LIVE_RUNS runs each).')"
