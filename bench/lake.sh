#!/usr/bin/env bash
# The lake output's cost, side by side in one run with pyarrow on the same file: one large
# ApiTotalUsage EventLogFile to zstd Parquet.
#
#   1. sfsim serves one big daily ApiTotalUsage file (CSV_BYTES, default 256 MB);
#      `sfevents collect --no-ship` archives it (raw CSV kept, NDJSON, state.db).
#   2. sfevents: `sfevents ship --to 'file:///BENCH_DIR/lake-sfevents?name=lake'` (the lake
#      output: the archive's NDJSON to Hive-partitioned Parquet, zstd, typed, sorted by time)
#      under /usr/bin/time -f '%U %S %M %e'.
#   3. pyarrow: `bench/lake.py pyarrow` reads the same archived CSV(s) with
#      pyarrow.csv.read_csv (newlines_in_values=True: values hold quoted line breaks) and writes
#      each with pyarrow.parquet.write_table(compression='zstd'), under the same /usr/bin/time
#      (the Python process, import of pyarrow included).
#   4. DuckDB over each lake: the per-user API calls (SELECT USER_ID, count(*) ... GROUP BY 1
#      ORDER BY 2 DESC LIMIT 10), once to warm up, then QUERY_RUNS times timed (median).
#
# Reports CPU s per GB of CSV (user + sys; GB = 1e9 bytes of CSV as archived), Parquet bytes per
# GB of CSV, peak RSS, and DuckDB's query time, with the issue's goals (CPU within 1.5x pyarrow's,
# files no larger than pyarrow's + 10%, the query over our files as fast as over pyarrow's).
# Exits non-zero when a step fails, when the two lakes' row counts differ (or differ from the
# archive's), or when the per-user counts differ between the lakes.
#
#   bench/lake.sh
#   CSV_BYTES=1000000000 bench/lake.sh     # 1 GB of CSV
#
# Knobs: CSV_BYTES (default 256000000), QUERY_RUNS (5), SHIP_SETTINGS (extra query settings of
# the lake URL, e.g. '&max_batch_bytes=268435456'), NO_BUILD=1, KEEP=1, BENCH_DIR,
# SFEVENTS_LAKE_VENV (the lake venv scripts/test makes, with pyarrow and duckdb).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CSV_BYTES="${CSV_BYTES:-256000000}"
QUERY_RUNS="${QUERY_RUNS:-5}"
SHIP_SETTINGS="${SHIP_SETTINGS:-}"
VENV="${SFEVENTS_LAKE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sfevents/lake-venv}"
PY="$VENV/bin/python"
HELPER="$ROOT/bench/lake.py"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_gnu_time
"$PY" -c 'import pyarrow, duckdb' 2>/dev/null || {
  echo "no lake venv with pyarrow and duckdb at $VENV: run scripts/test once (it makes it) or set SFEVENTS_LAKE_VENV" >&2
  exit 2
}
need curl || { echo "curl is needed" >&2; exit 2; }
build_release

BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/sfevents-lake.XXXXXX)}"
mkdir -p "$BENCH_DIR"
SIM_PID=""
cleanup() {
  stop_sim
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$BENCH_DIR"; else echo "kept $BENCH_DIR" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the machine and the command ---------------------------------------------------------------
bench_header "bench/lake.sh: one big ApiTotalUsage file to zstd Parquet, sfevents' lake output and pyarrow"
echo "| command | CSV_BYTES=$CSV_BYTES QUERY_RUNS=$QUERY_RUNS${SHIP_SETTINGS:+ SHIP_SETTINGS='$SHIP_SETTINGS'} bench/lake.sh |"
machine_rows
echo "| python | $("$PY" -c 'import sys, pyarrow, duckdb; print(sys.version.split()[0], "pyarrow", pyarrow.__version__, "duckdb", duckdb.__version__)') |"
git_row
echo

# --- 1. the archive ----------------------------------------------------------------------------
SIM_OUT="$BENCH_DIR/sim"
ARCHIVE="$BENCH_DIR/archive"
mkdir -p "$SIM_OUT"
# --days 2: the big file is the daily file of the oldest day (see bench/cpu.sh); yesterday's
# 24-row daily file may come along, and both writers convert every CSV the archive holds.
sim_serve "$BENCH_DIR/sim.stdout" "$BENCH_DIR/sim.stderr" --out "$SIM_OUT" \
  --seed 1 --days 2 --event-type ApiTotalUsage --no-hourly --no-late-files --rows-per-hour 1-1 \
  --big-file-bytes "$CSV_BYTES"
echo "collecting the archive from $SIM_URL ..." >&2
"$SFEVENTS" collect --config "$SIM_OUT/sfevents.toml" --output-dir "$ARCHIVE" --quiet \
  --interval daily --event-type ApiTotalUsage --no-ship
stop_sim

# The archived CSVs and the rows state.db counts.
mapfile -t CSVS < <("$PY" - "$ARCHIVE/state.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for (p,) in c.execute("SELECT csv_path FROM files WHERE csv_path IS NOT NULL ORDER BY bytes DESC"):
    print(p)
EOF
)
[[ ${#CSVS[@]} -gt 0 ]] || { echo "the archive holds no CSV" >&2; exit 1; }
CSV_PATHS=()
for c in "${CSVS[@]}"; do CSV_PATHS+=("$ARCHIVE/$c"); done
CSV_TOTAL=$(stat -c %s "${CSV_PATHS[@]}" | awk '{ s += $1 } END { printf "%.0f\n", s }')
ARCHIVED_ROWS=$("$PY" - "$ARCHIVE/state.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(c.execute("SELECT sum(rows) FROM files").fetchone()[0])
EOF
)
NDJSON_TOTAL=$(find "$ARCHIVE" -name '*.ndjson' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
echo "archive: ${#CSV_PATHS[@]} CSV file(s), $CSV_TOTAL bytes of CSV, $NDJSON_TOTAL bytes of NDJSON, $ARCHIVED_ROWS rows" >&2

# --- 2 and 3. the two writers ------------------------------------------------------------------
FAILED=0
# timed NAME CMD...: runs CMD under /usr/bin/time; "user sys maxrss_kib wall" in BENCH_DIR/NAME.time.
timed() {
  local name="$1"; shift
  sync
  echo "running $name: $*" >&2
  if ! /usr/bin/time -f '%U %S %M %e' -o "$BENCH_DIR/$name.time" "$@" \
    >"$BENCH_DIR/$name.stdout" 2>"$BENCH_DIR/$name.stderr"; then
    echo "FAIL: $name exited non-zero:" >&2; tail -5 "$BENCH_DIR/$name.stderr" >&2
    FAILED=1
  fi
}
LAKE_SF="$BENCH_DIR/lake-sfevents"
LAKE_PA="$BENCH_DIR/lake-pyarrow"
timed sfevents "$SFEVENTS" ship --output-dir "$ARCHIVE" --quiet \
  --to "file://$LAKE_SF?name=lake$SHIP_SETTINGS"
timed pyarrow "$PY" "$HELPER" pyarrow "$LAKE_PA" "${CSV_PATHS[@]}"
[[ "$FAILED" == 0 ]] || exit 1

# --- 4. DuckDB over both lakes -----------------------------------------------------------------
"$PY" "$HELPER" query "$QUERY_RUNS" \
  "sfevents=$LAKE_SF/sfevents/v1/**/*.parquet" "pyarrow=$LAKE_PA/*.parquet" >"$BENCH_DIR/query.json"

# --- the report --------------------------------------------------------------------------------
"$PY" - "$BENCH_DIR" "$CSV_TOTAL" "$NDJSON_TOTAL" "$ARCHIVED_ROWS" <<'EOF'
import json, statistics, sys

bench, csv_bytes, ndjson_bytes, archived = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
q = json.load(open(f"{bench}/query.json"))
gb = csv_bytes / 1e9
rows = {}
print(f"CSV: {csv_bytes} bytes ({gb:.3f} GB), {archived} rows; the archive's NDJSON, which sfevents "
      f"ships from: {ndjson_bytes} bytes ({ndjson_bytes / csv_bytes:.2f}x the CSV).")
print("CPU s = user + sys (/usr/bin/time -f '%U %S %M'); GB = 10^9 bytes of CSV; MiB = 2^20 bytes.")
print(f"Query: DuckDB {q['duckdb']}, per-user API calls (SELECT USER_ID, count(*) ... GROUP BY 1 "
      f"ORDER BY 2 DESC, 1 LIMIT 10), median of {len(q['sfevents']['seconds'])} warm runs.")
print()
print("| writer | rows | files | Parquet bytes | user s | sys s | CPU s | CPU s per GB of CSV | Parquet bytes per GB of CSV | peak RSS MiB | wall s | query ms (median) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
m = {}
for name in ("sfevents", "pyarrow"):
    user, sys_, rss, wall = open(f"{bench}/{name}.time").read().split()[-4:]
    cpu = float(user) + float(sys_)
    r = q[name]
    ms = statistics.median(r["seconds"]) * 1000
    m[name] = {"cpu_gb": cpu / gb, "bytes_gb": r["bytes"] / gb, "ms": ms}
    rows[name] = r["rows"]
    label = "sfevents ship --to file:// (lake output)" if name == "sfevents" else "pyarrow read_csv + write_table (zstd)"
    print(f"| {label} | {r['rows']} | {r['files']} | {r['bytes']} | {float(user):.2f} | {float(sys_):.2f} | "
          f"{cpu:.2f} | {cpu / gb:.2f} | {r['bytes'] / gb:,.0f} | {int(rss) / 1024:.1f} | {float(wall):.2f} | {ms:.1f} |")
print()
ok = lambda c: "met" if c else "NOT met"
cpu_r = m["sfevents"]["cpu_gb"] / m["pyarrow"]["cpu_gb"]
size_r = m["sfevents"]["bytes_gb"] / m["pyarrow"]["bytes_gb"]
q_r = m["sfevents"]["ms"] / m["pyarrow"]["ms"]
print("| ratio (sfevents ÷ pyarrow) | value | goal (issue 20) |")
print("|---|---:|---|")
print(f"| CPU s per GB of CSV | {cpu_r:.2f}x | ≤ 1.5x: {ok(cpu_r <= 1.5)} |")
print(f"| Parquet bytes per GB of CSV | {size_r:.2f}x | ≤ 1.1x: {ok(size_r <= 1.1)} |")
print(f"| DuckDB query time | {q_r:.2f}x | ≤ 1x: {ok(q_r <= 1.0)} |")
print()
print("Top users (sfevents' lake):", ", ".join(f"{u} {n}" for u, n in q["sfevents"]["top"][:3]), "...")
fail = []
if rows["sfevents"] != rows["pyarrow"]:
    fail.append(f"FAIL: the lakes' row counts differ: sfevents {rows['sfevents']}, pyarrow {rows['pyarrow']}")
if rows["sfevents"] != archived:
    fail.append(f"FAIL: sfevents' lake holds {rows['sfevents']} rows, the archive {archived}")
if q["sfevents"]["top"] != q["pyarrow"]["top"]:
    fail.append(f"FAIL: the per-user counts differ: sfevents {q['sfevents']['top']}, pyarrow {q['pyarrow']['top']}")
print()
for f in fail:
    print(f)
if not fail:
    print(f"OK: both lakes hold {rows['sfevents']} rows (= the archive's), with the same per-user counts.")
sys.exit(1 if fail else 0)
EOF
