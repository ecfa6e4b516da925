#!/usr/bin/env bash
# Before and after, side by side in one run: the sfevents of BASE_REF (a commit, default
# ea333be, the last one before the crate split) against this work tree's, on the same
# machine, the same sfsim file and the same receiver. It answers "did this change cost CPU or
# memory?" for the two paths that matter: collecting one big LogFile and shipping its archive.
#
#   1. Release builds of both (BASE_REF in a git worktree sharing this target folder, so only
#      the workspace's own crates build twice); the base binary is copied aside.
#   2. sfsim (this tree's) serves one big daily ApiTotalUsage file of CSV_BYTES.
#   3. Collect, ROUNDS rounds, base and head alternating (order reversed every other round):
#      `sfevents collect --interval daily --event-type ApiTotalUsage --no-ship --quiet` under
#      /usr/bin/time -v. The raw CSVs must be byte-identical and the NDJSON line counts equal.
#   4. Ship, ROUNDS rounds alternating: each ships its own copy of the first archive to a fresh
#      Elasticsearch receiver (crates/receivers, `mode=ecs`); the receiver must hold exactly
#      the archive's events each time. The receiver's CPU is charged to nobody.
#   5. A table of every run, then the medians and the head/base ratios.
# The script fails when any count differs.
#
#   bench/regression.sh                          # 300 MB CSV, 2 rounds
#   CSV_BYTES=100000000 ROUNDS=1 bench/regression.sh   # quick
#
# Knobs: BASE_REF, CSV_BYTES (default 300000000), ROUNDS (default 2; collect rounds),
# SHIP_ROUNDS (default ROUNDS), BENCH_DIR, KEEP=1, COUNT=instructions.
#
# COUNT=instructions runs each measured command under valgrind's callgrind and compares
# instructions executed instead of CPU seconds: the same count for the same binary and input
# whatever else the machine is doing (CPU seconds on a shared 2-core machine vary by a factor
# of two with a compiler running beside them). Callgrind is some 50 times slower: use a small
# file (CSV_BYTES=20000000) and one round.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BASE_REF="${BASE_REF:-ea333be}"
CSV_BYTES="${CSV_BYTES:-300000000}"
ROUNDS="${ROUNDS:-2}"
SHIP_ROUNDS="${SHIP_ROUNDS:-$ROUNDS}"
SFSIM="$ROOT/target/release/sfsim"
RECEIVER="$ROOT/target/release/receivers"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_gnu_time
need curl || { echo "curl is needed" >&2; exit 2; }

BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/sfevents-regression.XXXXXX)}"
mkdir -p "$BENCH_DIR"
SIM_PID="" RPID=""
cleanup() {
  stop_sim
  [[ -n "$RPID" ]] && kill -KILL "$RPID" 2>/dev/null || true
  git -C "$ROOT" worktree remove --force "$BENCH_DIR/base-tree" 2>/dev/null || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$BENCH_DIR"; else echo "kept $BENCH_DIR" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. builds ---------------------------------------------------------------------------------
echo "building $BASE_REF and the work tree (release; flock /tmp/cargo.lock)..." >&2
git -C "$ROOT" worktree add --detach "$BENCH_DIR/base-tree" "$BASE_REF" >&2
(cd "$BENCH_DIR/base-tree" && CARGO_TARGET_DIR="$ROOT/target" flock /tmp/cargo.lock \
  cargo build --release -p sfevents >&2)
cp "$ROOT/target/release/sfevents" "$BENCH_DIR/sfevents-base"
flock /tmp/cargo.lock cargo build --release -p sfevents -p sfsim -p receivers >&2
cp "$ROOT/target/release/sfevents" "$BENCH_DIR/sfevents-head"
declare -A BIN=([base]="$BENCH_DIR/sfevents-base" [head]="$BENCH_DIR/sfevents-head")

commit="$(git rev-parse --short HEAD)"
dirty="$(git status --short | wc -l)"
echo "# bench/regression.sh: $BASE_REF (base) against the work tree (head)"
echo
echo "| | |"
echo "|---|---|"
echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
echo "| CPUs | $(nproc) (nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) |"
echo "| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
echo "| rustc | $(rustc --version) |"
echo "| head | commit $commit, $dirty uncommitted paths |"
echo "| file | ApiTotalUsage daily, --big-file-bytes $CSV_BYTES; $ROUNDS collect and $SHIP_ROUNDS ship round(s) |"
echo

# --- 2. sfsim ----------------------------------------------------------------------------------
SIM_OUT="$BENCH_DIR/sim"
mkdir -p "$SIM_OUT"
sim_serve "$BENCH_DIR/sim.stdout" "$BENCH_DIR/sim.stderr" --out "$SIM_OUT" \
  --seed 1 --days 2 --event-type ApiTotalUsage --no-hourly --no-late-files --rows-per-hour 1-1 \
  --big-file-bytes "$CSV_BYTES"

RESULTS="$BENCH_DIR/results.tsv"
: >"$RESULTS"
# measure STEP WHO ROUND TIMEFILE COUNT UNITS: appends one row (CPU from /usr/bin/time -v;
# with COUNT=instructions, the instructions callgrind counted, from TIMEFILE.vg).
measure() {
  local cpu wall rss instr=""
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$4")
  wall=$(time_field "$4" "Elapsed (wall clock) time (h:mm:ss or m:ss)")
  rss=$(time_field "$4" "Maximum resident set size (kbytes)")
  if [[ -f "$4.vg" ]]; then
    instr=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$4.vg" | head -1)
    [[ -n "$instr" ]] || { echo "no instruction count in $4.vg" >&2; exit 1; }
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$cpu" "$wall" "$rss" "$5" "$6" "$instr" >>"$RESULTS"
}
# prefix TIMEFILE: sets PREFIX, what goes before the measured command (callgrind, writing
# its count to TIMEFILE.vg, when COUNT=instructions).
prefix() {
  PREFIX=()
  if [[ "${COUNT:-cpu}" == instructions ]]; then
    PREFIX=(valgrind --tool=callgrind --log-file="$1.vg" --callgrind-out-file=/dev/null)
  fi
}

order() { if (( $1 % 2 )); then echo "base head"; else echo "head base"; fi; }
# Before each timed run: the previous run's dirty pages written out, so no run pays for the
# writeback of the one before it (seen: the second run of a round up to twice as slow).
settle() { sync; sleep 2; }

# --- 3. collect ----------------------------------------------------------------------------------
for round in $(seq 1 "$ROUNDS"); do
  for who in $(order "$round"); do
    dir="$BENCH_DIR/collect-$who-$round"
    settle
    prefix "$dir.time"
    /usr/bin/time -v -o "$dir.time" "${PREFIX[@]}" "${BIN[$who]}" collect --config "$SIM_OUT/sfevents.toml" \
      --output-dir "$dir" --quiet --interval daily --event-type ApiTotalUsage --no-ship
    lines=$(find "$dir/events" -name '*.ndjson' -exec cat {} + | wc -l)
    csv_bytes=$(find "$dir/output" -name '*.csv' -printf '%s\n' | awk '{ s += $1 } END { print s }')
    find "$dir/output" -name '*.csv' -exec sha256sum {} + | awk '{ print $1 }' | sort >"$dir.sha"
    measure collect "$who" "$round" "$dir.time" "$lines" "$csv_bytes"
    # Keep round 1's archives for shipping; later rounds' go at once (disk), before the
    # next run starts.
    (( round == 1 )) || rm -rf "$dir"
  done
  for who in base head; do
    cmp -s "$BENCH_DIR/collect-base-$round.sha" "$BENCH_DIR/collect-$who-$round.sha" \
      || { echo "round $round: the raw CSVs differ" >&2; exit 1; }
  done
done
stop_sim

# --- 4. ship -------------------------------------------------------------------------------------
receiver_start() {
  "$RECEIVER" elasticsearch --bind 127.0.0.1 --port 0 >"$BENCH_DIR/es.out" 2>"$BENCH_DIR/es.err" &
  RPID=$!
  URL=""
  for _ in $(seq 1 300); do
    URL=$(grep -m1 '^http' "$BENCH_DIR/es.out" 2>/dev/null || true)
    [[ -n "$URL" ]] && break
    sleep 0.1
  done
  [[ -n "$URL" ]] || { echo "the receiver did not start" >&2; cat "$BENCH_DIR/es.err" >&2; exit 1; }
  URL="${URL%/}"
}
for round in $(seq 1 "$SHIP_ROUNDS"); do
  for who in $(order "$round"); do
    # Each run ships its own copy (a ship moves the copy's position), made by its own binary.
    src="$BENCH_DIR/collect-$who-1"
    copy="$BENCH_DIR/ship-$who"
    rm -rf "$copy"; cp -a "$src" "$copy"
    events=$(find "$copy/events" -name '*.ndjson' -exec cat {} + | wc -l)
    receiver_start
    settle
    prefix "$copy.time"
    /usr/bin/time -v -o "$copy.time" "${PREFIX[@]}" "${BIN[$who]}" ship --output-dir "$copy" \
      --to "elasticsearch+$URL?name=bench&mode=ecs" >"$copy.out" 2>"$copy.err" \
      || { echo "$who ship failed:" >&2; cat "$copy.err" >&2; exit 1; }
    stored=$(curl -fsS "$URL/__receiver/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["created"])')
    kill -KILL "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=""
    [[ "$stored" == "$events" ]] || { echo "$who round $round: the receiver holds $stored of $events events" >&2; exit 1; }
    measure ship "$who" "$round" "$copy.time" "$events" "$events"
    rm -rf "$copy"
  done
done

# --- 5. the table --------------------------------------------------------------------------------
python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
def secs(w):
    t = 0.0
    for p in w.split(":"):
        t = t * 60 + float(p)
    return t
instr = any(r[8] for r in rows)
print("| step | build | round | CPU s | wall s | peak RSS MiB | events | per unit |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
per = {}
for step, who, rnd, cpu, wall, rss, count, units, ir in rows:
    cpu, units = float(cpu), float(units)
    work = float(ir) / 1e9 if instr else cpu   # G instructions, or CPU seconds
    what = "G instr" if instr else "CPU s"
    if step == "collect":
        unit = work / (units / 1e9)         # per GB of CSV
        label = f"{unit:.2f} {what}/GB"
    else:
        unit = work / units * 1e6           # per million events
        label = f"{unit:.2f} {what}/M events"
    per.setdefault((step, who), []).append((unit, int(rss) / 1024))
    print(f"| {step} | {who} | {rnd} | {cpu:.2f} | {secs(wall):.1f} | {int(rss)/1024:.1f} | {count} | {label} |")
counts = {}
for r in rows:
    counts.setdefault((r[0], r[2]), set()).add(r[6])
bad = [k for k, v in counts.items() if len(v) != 1]
print()
print("| step | base (median) | head (median) | head / base | peak RSS MiB base / head |")
print("|---|---:|---:|---:|---:|")
for step in ("collect", "ship"):
    if (step, "base") not in per or (step, "head") not in per:
        continue
    b = statistics.median(u for u, _ in per[(step, "base")])
    h = statistics.median(u for u, _ in per[(step, "head")])
    rb = max(r for _, r in per[(step, "base")])
    rh = max(r for _, r in per[(step, "head")])
    what = "G instr" if instr else "CPU s"
    unit = f"{what}/GB" if step == "collect" else f"{what}/M events"
    print(f"| {step} | {b:.2f} {unit} | {h:.2f} {unit} | {h / b:.3f} | {rb:.1f} / {rh:.1f} |")
if bad:
    print(f"counts differ between builds: {bad}", file=sys.stderr)
    sys.exit(1)
PY
