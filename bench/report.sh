#!/usr/bin/env bash
# `sfevents report api-usage` against DuckDB over the same archive of >= 10 million
# ApiTotalUsage rows: wall time, CPU time and peak RSS, side by side.
#
# 1. An archive: one `sfsim serve` publishes only ApiTotalUsage, daily files only (DAYS whole
#    days of ROWS_PER_HOUR rows an hour: 22 x 24 x 20,000 = 10,560,000 rows by default), and
#    `sfevents collect --interval daily --event-type ApiTotalUsage` archives them (raw CSV in
#    output/, NDJSON in events/, the ledger in state.db). Not timed.
# 2. The files are read once (`cat > /dev/null`) so that every timed run reads from the page
#    cache (dropping the caches is not possible here), then RUNS rounds, alternating the order:
#      sfevents   `sfevents report api-usage --format json --top 1000000` (every user in the
#                 per-user table, as asked; every other table is then complete too, e.g. one row
#                 per connected app); it reads the raw CSVs listed in state.db on all cores
#      sfevents-top15  the same with the default --top 15, as the report is normally run (the
#                 per-user table is checked to be complete: `omitted` must be 0)
#      duckdb     `python3 bench/report_duckdb.py`: read_csv over output/ApiTotalUsage_*.csv
#                 (all VARCHAR, header), the same per-user table, DuckDB's default threads
#      duckdb-full  the same with --full (per user, day, app, client, status and version in one
#                 pass: nearer to everything the api-usage report computes); FULL=0 skips it
#    each under /usr/bin/time -v (wall, user + sys, peak RSS of the process), with the 1-minute
#    load average before it (the machine may be shared: load above the core count means the
#    runs competed for the CPUs).
# 3. Checks: the CSV files of the glob are the files state.db lists; the per-user rows of
#    sfevents' JSON (`api_usage_per_user`) equal DuckDB's (`report_duckdb.py compare`), and
#    their calls add up to state.db's rows. The script exits 1 when a check fails.
# 4. NDJSON_RUNS (default 1) runs of sfevents over the NDJSON alone, as after retention removed
#    the raw CSV: a second archive folder holds a copy of state.db and a symlink to events/
#    but no output/, so the report falls back to the NDJSON. Its per-user table is checked too.
#
#   bench/report.sh                        # 10.56 M rows (~3 GB CSV + ~9 GB NDJSON), ~10 min + build
#   DAYS=2 ROWS_PER_HOUR=2000 RUNS=1 MIN_ROWS=0 bench/report.sh   # quick
#   ARCHIVE=/tmp/x KEEP=1 bench/report.sh  # reuse (or make and keep) an archive
#
# Knobs (environment): DAYS (22), ROWS_PER_HOUR (20000), MIN_ROWS (10000000; fewer rows fail
# the run unless MIN_ROWS=0), RUNS (3), NDJSON_RUNS (1), FULL (1), ARCHIVE (an archive to use
# as it is when it holds state.db; else made there), BENCH_DIR (scratch, default a fresh
# mktemp -d; removed at the end unless KEEP=1), NO_BUILD=1, RUN_TIMEOUT (seconds, default
# 3600), PYTHON (python3).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DAYS="${DAYS:-22}"
ROWS_PER_HOUR="${ROWS_PER_HOUR:-20000}"
MIN_ROWS="${MIN_ROWS:-10000000}"
RUNS="${RUNS:-3}"
NDJSON_RUNS="${NDJSON_RUNS:-1}"
FULL="${FULL:-1}"
PYTHON="${PYTHON:-python3}"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
DUCK="$ROOT/bench/report_duckdb.py"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_gnu_time
need "$PYTHON" || { echo "python3 is needed" >&2; exit 2; }
"$PYTHON" -c 'import duckdb' 2>/dev/null || {
  echo "DuckDB for Python is needed: pip install --break-system-packages duckdb" >&2; exit 2; }
need curl || { echo "curl is needed" >&2; exit 2; }

build_release

BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/sfevents-report.XXXXXX)}"
mkdir -p "$BENCH_DIR"
ARCHIVE="${ARCHIVE:-$BENCH_DIR/archive}"
SIM_PID=""
cleanup() {
  stop_sim
  if [[ "${KEEP:-0}" != 1 ]]; then
    rm -rf "$BENCH_DIR"
    [[ "$ARCHIVE" == "$BENCH_DIR"/* ]] || rm -rf "$ARCHIVE"
  else
    echo "kept $BENCH_DIR and $ARCHIVE" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# --- the archive (not timed) ---------------------------------------------------------------------
if [[ ! -f "$ARCHIVE/state.db" ]]; then
  SIM_OUT="$BENCH_DIR/sim"
  mkdir -p "$SIM_OUT"
  sim_serve "$BENCH_DIR/sim.stdout" "$BENCH_DIR/sim.stderr" --out "$SIM_OUT" \
    --seed 1 --days "$DAYS" --event-type ApiTotalUsage --no-hourly --no-late-files \
    --rows-per-hour "$ROWS_PER_HOUR-$ROWS_PER_HOUR" --records-per-hour 0-0
  echo "sfsim pid $SIM_PID at $SIM_URL; collecting $DAYS days x 24 h x $ROWS_PER_HOUR rows into $ARCHIVE ..." >&2
  t0=$(date +%s)
  nice -n 5 "$SFEVENTS" collect --config "$SIM_OUT/sfevents.toml" --output-dir "$ARCHIVE" --quiet \
    --interval daily --event-type ApiTotalUsage >"$BENCH_DIR/collect.stdout" 2>"$BENCH_DIR/collect.stderr" || {
      echo "sfevents collect failed:" >&2; tail -20 "$BENCH_DIR/collect.stderr" >&2; exit 1; }
  echo "collected in $(( $(date +%s) - t0 )) s" >&2
  stop_sim
else
  echo "using the archive in $ARCHIVE as it is" >&2
fi

# Files and rows from the ledger: "files rows csv_bytes ndjson_bytes", and the CSV list.
CSV_LIST="$BENCH_DIR/csv.list"
read -r N_FILES N_ROWS CSV_BYTES NDJSON_BYTES < <("$PYTHON" - "$ARCHIVE" "$CSV_LIST" <<'EOF'
import os, sqlite3, sys
root, listing = sys.argv[1:]
c = sqlite3.connect(f"file:{root}/state.db?mode=ro", uri=True)
rows = c.execute("SELECT csv_path, ndjson_path, rows FROM files WHERE event_type = 'ApiTotalUsage' "
                 "ORDER BY log_date").fetchall()
with open(listing, "w") as f:
    for csv, _, _ in rows:
        f.write(os.path.join(root, csv) + "\n")
size = lambda p: os.path.getsize(os.path.join(root, p)) if p and os.path.exists(os.path.join(root, p)) else 0
print(len(rows), sum(r[2] for r in rows), sum(size(r[0]) for r in rows), sum(size(r[1]) for r in rows))
EOF
)
CHECKS=()
FAILED=0
echo "archive: $N_FILES files, $N_ROWS rows, $CSV_BYTES bytes of CSV, $NDJSON_BYTES bytes of NDJSON" >&2
if (( N_ROWS < MIN_ROWS )); then
  CHECKS+=("FAIL: $N_ROWS rows in the archive, fewer than MIN_ROWS=$MIN_ROWS"); FAILED=1
fi
GLOB="$ARCHIVE/output/ApiTotalUsage_*.csv"
# shellcheck disable=SC2086
glob_list=$(ls -1 $GLOB | sort)
if [[ "$glob_list" == "$(sort "$CSV_LIST")" ]]; then
  CHECKS+=("OK: the glob output/ApiTotalUsage_*.csv matches the $N_FILES CSV files state.db lists")
else
  CHECKS+=("FAIL: the glob output/ApiTotalUsage_*.csv and state.db's files differ"); FAILED=1
fi

# The NDJSON-only archive: state.db copied, events/ linked, no output/.
ND_ARCHIVE="$BENCH_DIR/ndjson-only"
if (( NDJSON_RUNS > 0 )); then
  rm -rf "$ND_ARCHIVE"; mkdir -p "$ND_ARCHIVE"
  cp "$ARCHIVE"/state.db* "$ND_ARCHIVE"/
  ln -s "$ARCHIVE/events" "$ND_ARCHIVE/events"
fi

# --- the machine -------------------------------------------------------------------------------
commit="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
dirty="$(git status --short 2>/dev/null | wc -l)"
echo "# bench/report.sh: sfevents report api-usage vs DuckDB"
echo
echo "| | |"
echo "|---|---|"
echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
echo "| CPUs | $(nproc) (nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) |"
echo "| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
echo "| kernel | $(uname -r) |"
echo "| rustc | $(rustc --version 2>/dev/null || echo '?') |"
echo "| python | $("$PYTHON" -c 'import sys, duckdb; print(sys.version.split()[0], "duckdb", duckdb.__version__)') |"
echo "| git | commit $commit, $dirty uncommitted paths in the work tree (git status --short) |"
echo "| archive | $N_FILES daily ApiTotalUsage files, $N_ROWS rows, $CSV_BYTES bytes of CSV, $NDJSON_BYTES bytes of NDJSON |"
echo

# --- the timed runs ----------------------------------------------------------------------------
echo "warming the page cache: reading the CSV files once ..." >&2
xargs -a "$CSV_LIST" -d '\n' cat >/dev/null
RESULTS="$BENCH_DIR/results.tsv"   # round tool wall user sys rss_kib rc load
: >"$RESULTS"

# run_one ROUND TOOL
run_one() {
  local round="$1" tool="$2"
  local dir="$BENCH_DIR/r$round-$tool"
  rm -rf "$dir"; mkdir -p "$dir"
  local cmd=()
  case "$tool" in
    sfevents)
      cmd=("$SFEVENTS" report api-usage --output-dir "$ARCHIVE" --format json --top 1000000 --out "$dir/out.json") ;;
    sfevents-top15)
      cmd=("$SFEVENTS" report api-usage --output-dir "$ARCHIVE" --format json --out "$dir/out.json") ;;
    sfevents-ndjson)
      cmd=("$SFEVENTS" report api-usage --output-dir "$ND_ARCHIVE" --format json --top 1000000 --out "$dir/out.json") ;;
    duckdb)
      cmd=("$PYTHON" "$DUCK" --glob "$GLOB" --out "$dir/out.json") ;;
    duckdb-full)
      cmd=("$PYTHON" "$DUCK" --glob "$GLOB" --out "$dir/out.json" --full) ;;
  esac
  local rc=0 load
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "[round $round] $tool (load $load) ..." >&2
  nice -n 5 /usr/bin/time -v -o "$dir/time.txt" timeout "${RUN_TIMEOUT:-3600}" "${cmd[@]}" \
    >"$dir/stdout" 2>"$dir/stderr" || rc=$?
  [[ "$rc" == 0 ]] || { FAILED=1; echo "[round $round] $tool failed (exit $rc):" >&2; tail -5 "$dir/stderr" >&2; }
  local wall user sys rss
  wall=$(time_field "$dir/time.txt" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')
  user=$(time_field "$dir/time.txt" 'User time (seconds)')
  sys=$(time_field "$dir/time.txt" 'System time (seconds)')
  rss=$(time_field "$dir/time.txt" 'Maximum resident set size (kbytes)')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$tool" "$wall" "$user" "$sys" "$rss" "$rc" "$load" >>"$RESULTS"
  echo "[round $round] $tool: exit $rc, wall $wall, user $user s, sys $sys s, RSS $rss KiB" >&2
}

TOOLS=(sfevents sfevents-top15 duckdb)
[[ "$FULL" == 1 ]] && TOOLS+=(duckdb-full)
for round in $(seq 1 "$RUNS"); do
  order=("${TOOLS[@]}")
  if (( round % 2 == 0 )); then
    order=(); for ((i = ${#TOOLS[@]} - 1; i >= 0; i--)); do order+=("${TOOLS[$i]}"); done
  fi
  for tool in "${order[@]}"; do run_one "$round" "$tool"; done
done
if (( NDJSON_RUNS > 0 )); then
  echo "warming the page cache: reading the NDJSON files once ..." >&2
  find -L "$ND_ARCHIVE/events" -name '*.ndjson' -print0 | xargs -0 cat >/dev/null
  for round in $(seq 1 "$NDJSON_RUNS"); do run_one "$round" sfevents-ndjson; done
fi

# --- checks --------------------------------------------------------------------------------------
check_users() {   # check_users SFEVENTS_JSON DUCKDB_JSON LABEL
  local out rc=0
  out=$("$PYTHON" "$DUCK" compare "$1" "$2" 2>&1) || rc=$?
  if [[ "$rc" == 0 ]]; then CHECKS+=("$out ($3)"); else CHECKS+=("FAIL ($3): ${out//$'\n'/ }"); FAILED=1; fi
}
for round in $(seq 1 "$RUNS"); do
  check_users "$BENCH_DIR/r$round-sfevents/out.json" "$BENCH_DIR/r$round-duckdb/out.json" \
    "round $round: sfevents over the CSV vs DuckDB"
  check_users "$BENCH_DIR/r$round-sfevents-top15/out.json" "$BENCH_DIR/r$round-duckdb/out.json" \
    "round $round: sfevents --top 15 vs DuckDB"
  if [[ "$FULL" == 1 ]]; then
    check_users "$BENCH_DIR/r$round-sfevents/out.json" "$BENCH_DIR/r$round-duckdb-full/out.json" \
      "round $round: sfevents vs DuckDB --full"
  fi
done
for round in $(seq 1 "$NDJSON_RUNS"); do
  check_users "$BENCH_DIR/r$round-sfevents-ndjson/out.json" "$BENCH_DIR/r1-duckdb/out.json" \
    "round $round: sfevents over the NDJSON vs DuckDB over the CSV"
done
calls=$("$PYTHON" -c 'import json, sys; print(sum(r["calls"] for r in json.load(open(sys.argv[1]))["api_usage_per_user"]))' \
  "$BENCH_DIR/r1-sfevents/out.json" 2>/dev/null || echo '?')
if [[ "$calls" == "$N_ROWS" ]]; then
  CHECKS+=("OK: the per-user calls add up to state.db's $N_ROWS rows")
else
  CHECKS+=("FAIL: the per-user calls add up to $calls, state.db has $N_ROWS rows"); FAILED=1
fi

# --- tables --------------------------------------------------------------------------------------
"$PYTHON" - "$RESULTS" "$N_ROWS" "$CSV_BYTES" "$NDJSON_BYTES" <<'EOF'
import statistics, sys

NAMES = {
    "sfevents": "sfevents report api-usage --top 1000000 (raw CSV)",
    "sfevents-top15": "sfevents report api-usage, default --top 15 (raw CSV)",
    "duckdb": "DuckDB read_csv, per-user table",
    "duckdb-full": "DuckDB read_csv, per user/day/app/client/status/version",
    "sfevents-ndjson": "sfevents report api-usage --top 1000000 (NDJSON only)",
}
rows, csv_bytes, nd_bytes = (int(x) for x in sys.argv[2:5])


def wall_secs(s):
    secs = 0.0
    for part in s.split(":"):
        secs = secs * 60 + float(part)
    return secs


runs = []
with open(sys.argv[1]) as f:
    for line in f:
        rnd, tool, wall, user, sys_, rss, rc, load = line.rstrip("\n").split("\t")
        runs.append({"round": int(rnd), "tool": tool, "wall": wall_secs(wall or "0"),
                     "user": float(user or 0), "sys": float(sys_ or 0),
                     "cpu": float(user or 0) + float(sys_ or 0),
                     "rss": int(rss or 0) / 1024, "rc": rc, "load": load})

print(f"{rows:,} rows; CSV {csv_bytes:,} bytes, NDJSON {nd_bytes:,} bytes. CPU s = user + sys "
      "(time -v); MiB = 2^20 bytes; MB/s = 10^6 bytes of the files read per wall second.")
print()
print("| round | tool | load before | wall s | user s | sys s | CPU s | peak RSS MiB | exit |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for r in runs:
    print(f"| {r['round']} | {NAMES[r['tool']]} | {r['load']} | {r['wall']:.2f} | {r['user']:.2f} | {r['sys']:.2f} | "
          f"{r['cpu']:.2f} | {r['rss']:.1f} | {r['rc']} |")

med = {}
for tool in NAMES:
    rs = [r for r in runs if r["tool"] == tool and r["rc"] == "0"]
    if rs:
        med[tool] = {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "rss")}
        med[tool]["n"] = len(rs)
print()
print("Median per tool (successful runs):")
print()
print("| tool | runs | wall s | CPU s | peak RSS MiB | rows/s (wall) | MB/s (wall) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for tool, m in med.items():
    b = nd_bytes if tool == "sfevents-ndjson" else csv_bytes
    print(f"| {NAMES[tool]} | {m['n']} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['rss']:.1f} | "
          f"{rows / m['wall']:,.0f} | {b / 1e6 / m['wall']:,.0f} |")
print()
print("| ratio (medians) | wall | CPU | peak RSS | goal (wall) |")
print("|---|---:|---:|---:|---|")
for a, b in (("sfevents", "duckdb"), ("sfevents-top15", "duckdb"), ("sfevents", "duckdb-full"),
             ("sfevents-top15", "duckdb-full"), ("sfevents-ndjson", "sfevents")):
    if a in med and b in med:
        w = med[a]["wall"] / med[b]["wall"]
        goal = ("≤ 2x: " + ("met" if w <= 2 else "NOT met")) if b.startswith("duckdb") else "-"
        print(f"| {NAMES[a]} ÷ {NAMES[b]} | {w:.2f}x | {med[a]['cpu'] / med[b]['cpu']:.2f}x | "
              f"{med[a]['rss'] / med[b]['rss']:.2f}x | {goal} |")
EOF
echo
echo "Checks:"
echo
for c in "${CHECKS[@]}"; do echo "* $c"; done
exit "$FAILED"
