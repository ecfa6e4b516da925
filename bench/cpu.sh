#!/usr/bin/env bash
# CPU cost per GB of one big LogFile, side by side in one run: sfevents, a plain Python collector
# (bench/python_collector.py: requests + csv.DictReader + json.dumps per row) and curl's copy.
#
# One sfsim on 127.0.0.1 serves one big daily ApiTotalUsage file (plus, depending on the time
# of day, yesterday's 24-row daily file). Each round runs, one after another, under
# /usr/bin/time -v:
#   sfevents     `sfevents collect --interval daily --event-type ApiTotalUsage --quiet
#                --archive-compression none` (gzip on the wire, raw CSV + plain NDJSON, state.db,
#                fsyncs)
#   sfevents-zstd  the same with `--archive-compression zstd`, the default since 2026-12-07
#                (the NDJSON as <id>.ndjson.zst)
#   python       `python3 bench/python_collector.py` (gzip on the wire, raw CSV + NDJSON)
#   curl raw     `curl -o FILE` of the big file's LogFile, no Accept-Encoding (the raw byte copy)
#   curl gzip    the same with `--compressed` (gzip on the wire, as sfevents and requests get it)
# The order is reversed every other round. Token grants and the file listing used by curl are
# made outside the timed runs.
#
# Per run: CPU s = user + sys from time -v; CPU s per GB (GB = 1e9 bytes of CSV as archived);
# MB/s per core = CSV MB / CPU s; wall s; peak RSS MiB; sfsim's CPU s during the run (from
# /proc/<pid>/stat); the archive's bytes on disk (apparent sizes of the raw CSV and NDJSON files,
# plain or .zst; state.db, logs and spool not counted) per byte of CSV. Then a summary with the
# median per tool and the ratios.
# Round 1 also checks correctness: the CSVs of both sfevents, python and both curls have the
# same sha256, and sfevents, sfevents-zstd (read with `zstd -dc`) and python wrote the same
# number of NDJSON lines (= state.db rows); the zstd archive must hold .ndjson.zst files.
# Each tool's output is deleted right after its row is measured (1 GB of CSV makes ~3 GB of
# NDJSON per collector).
#
#   bench/cpu.sh
#   BIG_FILE_BYTES=100000000 ROUNDS=1 bench/cpu.sh      # quick
#
# Knobs (environment): BIG_FILE_BYTES (default 1000000000), ROUNDS (default 2), EVENT_TYPE
# (default ApiTotalUsage), BENCH_DIR (scratch, default a fresh mktemp -d; removed at the end
# unless KEEP=1), NO_BUILD=1 (skip the cargo build), RUN_TIMEOUT (seconds per run, default 3600),
# PYTHON (default python3), TOOLS (default "sfevents sfevents-zstd python curl-raw curl-gzip").
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIG_FILE_BYTES="${BIG_FILE_BYTES:-1000000000}"
ROUNDS="${ROUNDS:-2}"
EVENT_TYPE="${EVENT_TYPE:-ApiTotalUsage}"
PYTHON="${PYTHON:-python3}"
API="64.0"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
PYCOL="$ROOT/bench/python_collector.py"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_gnu_time
ensure_zstd
need "$PYTHON" || { echo "python3 is needed" >&2; exit 2; }
"$PYTHON" -c 'import requests' 2>/dev/null || {
  echo "the Python collector needs requests: apt-get install python3-requests" >&2; exit 2; }
need curl || { echo "curl is needed" >&2; exit 2; }

build_release

BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/sfevents-cpu.XXXXXX)}"
mkdir -p "$BENCH_DIR"
SIM_PID=""
cleanup() {
  stop_sim
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$BENCH_DIR"; else echo "kept $BENCH_DIR" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Copies, so that every run uses the same build even if target/ is rebuilt meanwhile.
mkdir -p "$BENCH_DIR/bin"
cp "$SFSIM" "$SFEVENTS" "$BENCH_DIR/bin/"
SFSIM="$BENCH_DIR/bin/sfsim" SFEVENTS="$BENCH_DIR/bin/sfevents"

# --- the machine -----------------------------------------------------------------------------
bench_header "bench/cpu.sh: CPU per GB of one big LogFile (sfevents, Python collector, curl)"
echo "| command | BIG_FILE_BYTES=$BIG_FILE_BYTES ROUNDS=$ROUNDS bench/cpu.sh |"
machine_rows
load_row
echo "| python | $("$PYTHON" -c 'import sys, requests, urllib3; print(sys.version.split()[0], "requests", requests.__version__, "urllib3", urllib3.__version__)') |"
echo "| curl | $(curl --version | head -1 | cut -d' ' -f1-2) |"
echo "| zstd | $(zstd --version 2>&1 | sed -n 's/.* \(v[0-9][0-9.]*\).*/zstd \1/p' | head -1) (the CLI, reading the .zst archive back) |"
git_row
echo "| file | $EVENT_TYPE daily, --big-file-bytes $BIG_FILE_BYTES, $ROUNDS round(s) |"
echo

# --- sfsim -------------------------------------------------------------------------------------
SIM_OUT="$BENCH_DIR/sim"
mkdir -p "$SIM_OUT"
# --days 2, not 1: the big file is the daily file of the OLDEST day, published 02:00-02:30 UTC
# the next day (see BENCHMARKS.md, note 2). Yesterday's 24-row daily file may come along; the
# collectors take it too (their byte counts include it), curl copies only the big file.
sim_serve "$BENCH_DIR/sim.stdout" "$BENCH_DIR/sim.stderr" --out "$SIM_OUT" \
  --seed 1 --days 2 --event-type "$EVENT_TYPE" --no-hourly --no-late-files --rows-per-hour 1-1 \
  --big-file-bytes "$BIG_FILE_BYTES"
echo "sfsim pid $SIM_PID at $SIM_URL: $(head -1 "$BENCH_DIR/sim.stdout")" >&2

# sim_api token | sim_api bigfile: a password-grant token ("TOKEN INSTANCE_URL"), or the largest
# daily file of EVENT_TYPE ("ID LOGFILELENGTH"). Not part of any timed run.
sim_api() {
  "$PYTHON" - "$1" "$SIM_OUT/credentials.json" "$EVENT_TYPE" "$API" <<'EOF'
import json, sys, urllib.parse, urllib.request
what, creds, event_type, api = sys.argv[1:]
with open(creds) as f:
    c = json.load(f)
form = urllib.parse.urlencode({
    "grant_type": "password", "client_id": c["client_id"], "client_secret": c["client_secret"],
    "username": c["username"], "password": c["password"] + c["security_token"],
}).encode()
with urllib.request.urlopen(c["login_url"] + "/services/oauth2/token", form, timeout=600) as r:
    tok = json.load(r)
if what == "token":
    print(tok["access_token"], tok["instance_url"])
    sys.exit(0)
q = urllib.parse.quote(
    f"SELECT Id, LogFileLength FROM EventLogFile WHERE EventType = '{event_type}' "
    "AND Interval = 'Daily'")
req = urllib.request.Request(f"{tok['instance_url']}/services/data/v{api}/query?q={q}",
                             headers={"Authorization": "Bearer " + tok["access_token"]})
with urllib.request.urlopen(req, timeout=600) as r:
    recs = json.load(r)["records"]
big = max(recs, key=lambda r: r["LogFileLength"])
print(big["Id"], int(big["LogFileLength"]))
EOF
}

# The listing computes and caches LogFileLength in sfsim, outside the timed runs.
BIG_ID="" BIG_LEN=""
read -r BIG_ID BIG_LEN < <(sim_api bigfile) || true
[[ -n "$BIG_ID" ]] || { echo "no daily $EVENT_TYPE file listed by sfsim" >&2; exit 1; }
echo "big file $BIG_ID, LogFileLength $BIG_LEN" >&2
echo "Big file: \`$BIG_ID\`, LogFileLength $BIG_LEN bytes."
echo

# --- one timed run ---------------------------------------------------------------------------
RESULTS="$BENCH_DIR/results.tsv"   # round tool bytes rows wall user sys rss_kib sim_cpu rc archive_bytes
: >"$RESULTS"
CHECKS=()
FAILED=0
declare -A SHA=()
declare -A LINES=()
declare -A ROWS1=()
ZST_FILES=0


# run_one ROUND TOOL CHECK(0|1)
run_one() {
  local round="$1" tool="$2" check="$3"
  local dir="$BENCH_DIR/r$round-$tool"
  rm -rf "$dir"; mkdir -p "$dir/out"
  local cmd=() token="" inst=""
  case "$tool" in
    sfevents|sfevents-zstd)
      cmd=("$SFEVENTS" collect --config "$SIM_OUT/sfevents.toml" --output-dir "$dir/out" --quiet
           --interval daily --event-type "$EVENT_TYPE")
      # Each form named, whichever is the default (zstd since 2026-12-07).
      if [[ "$tool" == sfevents-zstd ]]; then cmd+=(--archive-compression zstd)
      else cmd+=(--archive-compression none); fi ;;
    python)
      cmd=("$PYTHON" "$PYCOL" --credentials "$SIM_OUT/credentials.json" --out "$dir/out"
           --event-type "$EVENT_TYPE" --interval Daily --api-version "$API") ;;
    curl-raw|curl-gzip)
      read -r token inst < <(sim_api token)
      cmd=(curl -sS --fail -o "$dir/out/$BIG_ID.csv" -H "Authorization: Bearer $token")
      [[ "$tool" == curl-gzip ]] && cmd+=(--compressed)
      cmd+=("$inst/services/data/v$API/sobjects/EventLogFile/$BIG_ID/LogFile") ;;
  esac
  sync   # the previous run's dirty pages are not written back during this one
  local rc=0 sim0 sim1
  echo "[round $round] $tool ..." >&2
  sim0=$(cpu_secs "$SIM_PID")
  /usr/bin/time -v -o "$dir/time.txt" timeout "${RUN_TIMEOUT:-3600}" "${cmd[@]}" \
    >"$dir/stdout" 2>"$dir/stderr" || rc=$?
  sim1=$(cpu_secs "$SIM_PID")
  [[ "$rc" == 0 ]] || { FAILED=1; echo "[round $round] $tool failed (exit $rc):" >&2; tail -5 "$dir/stderr" >&2; }

  # Bytes and rows as the tool reports them; the CSV of the big file for the checks.
  local bytes=0 rows="-" csv="" ndjson_lines="-"
  case "$tool" in
    sfevents|sfevents-zstd)
      if [[ -f "$dir/out/state.db" ]]; then
        read -r bytes rows csv < <("$PYTHON" - "$dir/out/state.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
b, r = c.execute("SELECT bytes, rows FROM runs ORDER BY id DESC LIMIT 1").fetchone()
p = c.execute("SELECT csv_path FROM files ORDER BY bytes DESC LIMIT 1").fetchone()
print(b, r, p[0] if p else "-")
EOF
        )
        csv="$dir/out/$csv"
      fi ;;
    python)
      read -r _ _ rows _ bytes _ < "$dir/stdout" || true
      csv="$(find "$dir/out" -name "$BIG_ID.csv" | head -1)" ;;
    curl-*)
      csv="$dir/out/$BIG_ID.csv"
      bytes=$(stat -c %s "$csv" 2>/dev/null || echo 0) ;;
  esac
  # The archive on disk: raw CSV + NDJSON (plain or .zst), whoever wrote it.
  local abytes
  abytes=$(archive_bytes "$dir/out")
  if [[ "$check" == 1 && "$rc" == 0 ]]; then
    SHA[$tool]=$( { sha256sum "$csv" 2>/dev/null || echo '?'; } | cut -c1-64)
    if [[ "$tool" == sfevents* || "$tool" == python ]]; then
      LINES[$tool]=$(ndjson_lines "$dir/out")
      ROWS1[$tool]="$rows"
    fi
    if [[ "$tool" == sfevents-zstd ]]; then
      ZST_FILES=$(find "$dir/out" -name '*.ndjson.zst' | wc -l)
    fi
  fi
  rm -rf "$dir/out"

  local wall user sys rss
  wall=$(time_field "$dir/time.txt" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')
  user=$(time_field "$dir/time.txt" 'User time (seconds)')
  sys=$(time_field "$dir/time.txt" 'System time (seconds)')
  rss=$(time_field "$dir/time.txt" 'Maximum resident set size (kbytes)')
  local sim_cpu
  sim_cpu=$(awk -v a="$sim0" -v b="$sim1" 'BEGIN { printf "%.2f", b - a }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$round" "$tool" "${bytes:-0}" "${rows:--}" "$wall" "$user" "$sys" "$rss" "$sim_cpu" "$rc" "${abytes:-0}" >>"$RESULTS"
  echo "[round $round] $tool: exit $rc, $bytes bytes, user $user s, sys $sys s, wall $wall, RSS $rss KiB, sfsim $sim_cpu s, archive $abytes bytes" >&2
}

read -r -a TOOLS <<<"${TOOLS:-sfevents sfevents-zstd python curl-raw curl-gzip}"
for round in $(seq 1 "$ROUNDS"); do
  order=("${TOOLS[@]}")
  if (( round % 2 == 0 )); then
    order=(); for ((i = ${#TOOLS[@]} - 1; i >= 0; i--)); do order+=("${TOOLS[$i]}"); done
  fi
  for tool in "${order[@]}"; do
    run_one "$round" "$tool" "$([[ $round == 1 ]] && echo 1 || echo 0)"
  done
done
sim_total=$(cpu_secs "$SIM_PID")
stop_sim

# --- correctness (round 1) ---------------------------------------------------------------------
# Every tool of the run against the first one's CSV (curl raw when it ran); every collector's
# NDJSON lines against sfevents' (state.db's rows for both sfevents).
same_sha=1 sha_line="CSV sha256 of the big file:" ref_sha=""
for t in "${TOOLS[@]}"; do
  [[ -z "$ref_sha" ]] && ref_sha="${SHA[curl-raw]:-${SHA[$t]:-x}}"
  sha_line+=" $t ${SHA[$t]:-?},"
  [[ -n "${SHA[$t]:-}" && "${SHA[$t]}" == "$ref_sha" ]] || same_sha=0
done
sha_line="${sha_line%,}"
if [[ "$same_sha" == 1 ]]; then CHECKS+=("OK: $sha_line (all equal)"); else CHECKS+=("FAIL: $sha_line"); FAILED=1; fi
same_lines=1 lines_line="NDJSON lines:" ref_lines=""
for t in sfevents sfevents-zstd python; do
  [[ " ${TOOLS[*]} " == *" $t "* ]] || continue
  [[ -z "$ref_lines" ]] && ref_lines="${LINES[$t]:-x}"
  case "$t" in
    sfevents) lines_line+=" sfevents ${LINES[$t]:-?} (state.db rows ${ROWS1[$t]:-?})," ;;
    sfevents-zstd) lines_line+=" sfevents-zstd ${LINES[$t]:-?} (zstd -dc; state.db rows ${ROWS1[$t]:-?}; $ZST_FILES .ndjson.zst files)," ;;
    python) lines_line+=" python ${LINES[$t]:-?} (its count ${ROWS1[$t]:-?})," ;;
  esac
  [[ -n "${LINES[$t]:-}" && "${LINES[$t]}" != "?" && "${LINES[$t]}" == "$ref_lines" && "${LINES[$t]}" == "${ROWS1[$t]:-y}" ]] || same_lines=0
done
[[ " ${TOOLS[*]} " != *" sfevents-zstd "* || "$ZST_FILES" -gt 0 ]] || same_lines=0
lines_line="${lines_line%,}"
if [[ "$same_lines" == 1 ]]; then CHECKS+=("OK: $lines_line (equal)"); else CHECKS+=("FAIL: $lines_line"); FAILED=1; fi

# --- tables ------------------------------------------------------------------------------------
"$PYTHON" - "$RESULTS" "$sim_total" <<'EOF'
import statistics, sys

NAMES = {
    "sfevents": "sfevents collect --archive-compression none",
    "sfevents-zstd": "sfevents collect --archive-compression zstd (the default)",
    "python": "Python (requests + csv.DictReader + json.dumps)",
    "curl-raw": "curl (raw copy, no gzip)",
    "curl-gzip": "curl --compressed (gzip on the wire)",
}


def wall_secs(s):
    secs = 0.0
    for part in s.split(":"):
        secs = secs * 60 + float(part)
    return secs


runs = []
with open(sys.argv[1]) as f:
    for line in f:
        rnd, tool, nbytes, rows, wall, user, sys_, rss, sim, rc, abytes = line.rstrip("\n").split("\t")
        cpu = float(user or 0) + float(sys_ or 0)
        nbytes = int(nbytes or 0)
        runs.append({
            "round": int(rnd), "tool": tool, "bytes": nbytes, "rows": rows,
            "wall": wall_secs(wall or "0"), "user": float(user or 0), "sys": float(sys_ or 0),
            "cpu": cpu, "cpu_gb": cpu / (nbytes / 1e9) if nbytes else float("nan"),
            "mbps_core": nbytes / 1e6 / cpu if cpu else float("nan"),
            "rss": int(rss or 0) / 1024, "sim": float(sim) if sim not in ("", "?") else float("nan"),
            "rc": rc, "abytes": int(abytes or 0),
            "aratio": int(abytes or 0) / nbytes if nbytes else float("nan"),
        })

print("MB = 10^6 bytes, GB = 10^9 bytes of CSV (as archived, gzip removed), MiB = 2^20 bytes. "
      "CPU s = user + sys of the tool's process tree (time -v). MB/s per core = CSV MB / CPU s. "
      "sfsim CPU s = the server's CPU during the run (generating the CSV, and gzip when asked). "
      "Archive bytes = the raw CSV and NDJSON files the tool left (plain or .zst; apparent sizes; "
      "state.db, logs and spool not counted); per CSV byte = archive bytes / CSV bytes.")
print()
print("| round | tool | CSV bytes | rows | wall s | user s | sys s | CPU s | CPU s per GB | MB/s per core | peak RSS MiB | sfsim CPU s | archive bytes | archive bytes per CSV byte | exit |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in runs:
    print(f"| {r['round']} | {NAMES[r['tool']]} | {r['bytes']} | {r['rows']} | {r['wall']:.2f} | "
          f"{r['user']:.2f} | {r['sys']:.2f} | {r['cpu']:.2f} | {r['cpu_gb']:.2f} | "
          f"{r['mbps_core']:.1f} | {r['rss']:.1f} | {r['sim']:.2f} | {r['abytes']} | "
          f"{r['aratio']:.3f} | {r['rc']} |")

med = {}
for tool in NAMES:
    rs = [r for r in runs if r["tool"] == tool and r["rc"] == "0"]
    if rs:
        med[tool] = {k: statistics.median(r[k] for r in rs)
                     for k in ("cpu_gb", "mbps_core", "wall", "rss", "sim", "cpu", "aratio")}
        med[tool]["n"] = len(rs)

print()
print("Median per tool (successful runs):")
print()
print("| tool | runs | CPU s per GB | MB/s per core | wall s | peak RSS MiB | sfsim CPU s | archive bytes per CSV byte |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for tool, m in med.items():
    print(f"| {NAMES[tool]} | {m['n']} | {m['cpu_gb']:.2f} | {m['mbps_core']:.1f} | "
          f"{m['wall']:.2f} | {m['rss']:.1f} | {m['sim']:.2f} | {m['aratio']:.3f} |")


def ratio(a, b):
    if a in med and b in med and med[b]["cpu_gb"] > 0:
        return med[a]["cpu_gb"] / med[b]["cpu_gb"]
    return float("nan")


ok = lambda c: "met" if c else "NOT met"
print()
print("| ratio (median CPU s per GB) | value | goal |")
print("|---|---:|---|")
for sf in ("sfevents", "sfevents-zstd"):
    if sf not in med:
        continue
    py_sf = ratio("python", sf)
    sf_raw = ratio(sf, "curl-raw")
    sf_gz = ratio(sf, "curl-gzip")
    rss = med[sf]["rss"]
    ar = med[sf]["aratio"]
    print(f"| Python ÷ {sf} | {py_sf:.1f}x | ≥ 15x: {ok(py_sf >= 15)} |")
    print(f"| {sf} ÷ curl (raw) | {sf_raw:.2f}x | ≤ 2.5x: {ok(sf_raw <= 2.5)} |")
    print(f"| {sf} ÷ curl --compressed | {sf_gz:.2f}x | (for reference) |")
    print(f"| {sf} archive bytes per CSV byte (raw CSV + NDJSON) | {ar:.3f} | ≤ 1.2: {ok(ar <= 1.2)} |")
    print(f"| {sf} peak RSS | {rss:.1f} MiB ({rss * 1048576 / 1e6:.1f} MB) | < 50 MB: {ok(rss * 1048576 < 50e6)} |")
if "python" in med:
    print(f"| Python archive bytes per CSV byte (for reference) | {med['python']['aratio']:.3f} | |")
print()
print(f"sfsim used {float(sys.argv[2]):.1f} CPU s in total, including start-up and the listing.")
EOF
echo
echo "Checks (round 1):"
echo
for c in "${CHECKS[@]}"; do echo "* $c"; done
exit "$FAILED"
