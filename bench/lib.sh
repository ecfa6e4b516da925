# Shared by the bench scripts (sourced): tool checks, the release build, the machine header,
# starting and stopping sfsim and the Elasticsearch receiver, a process's CPU so far, and reading
# /usr/bin/time -v output. Expects ROOT and BENCH_DIR where noted.

need() { command -v "$1" >/dev/null 2>&1; }

# GNU time gives peak RSS; Debian's `time` package.
ensure_gnu_time() {
  if [[ ! -x /usr/bin/time ]]; then
    echo "installing GNU time (/usr/bin/time)" >&2
    apt-get install -y time >/dev/null
  fi
}

# build_release [-p CRATE ...]: release builds of sfevents and sfsim, and of the crates named
# (`build_release -p receivers` adds the test receivers), unless NO_BUILD=1; one cargo at a time
# on this machine.
build_release() {
  if [[ "${NO_BUILD:-0}" != 1 ]]; then
    echo "building release binaries (flock /tmp/cargo.lock)..." >&2
    flock /tmp/cargo.lock cargo build --release -p sfevents -p sfsim "$@" >&2
  fi
}

# bench_scratch NAME: BENCH_DIR (as given, else a fresh /tmp/sfevents-NAME.XXXXXX), removed at
# exit unless KEEP=1, with sfsim and the Elasticsearch receiver stopped; and copies of sfsim,
# sfevents and the receivers under BENCH_DIR/bin, so that every run of the bench uses the same
# build even if target/ is rebuilt meanwhile (SFSIM, SFEVENTS and RECEIVER point at them).
bench_scratch() {
  BENCH_DIR="${BENCH_DIR:-$(mktemp -d "/tmp/sfevents-$1.XXXXXX")}"
  mkdir -p "$BENCH_DIR/bin"
  SIM_PID="" RECEIVER_PID=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  cp "$SFSIM" "$SFEVENTS" "$RECEIVER" "$BENCH_DIR/bin/"
  SFSIM="$BENCH_DIR/bin/sfsim" SFEVENTS="$BENCH_DIR/bin/sfevents" RECEIVER="$BENCH_DIR/bin/receivers"
}

bench_cleanup() {
  stop_sim
  es_receiver_stop
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$BENCH_DIR"; else echo "kept $BENCH_DIR" >&2; fi
}

# bench_header TITLE: the start of a bench's Markdown header, "# TITLE" and an empty two-column
# table, then the rows of machine_rows. The script adds its own rows (command, tool versions),
# then git_row and an empty line.
bench_header() {
  echo "# $1"
  echo
  echo "| | |"
  echo "|---|---|"
}

# machine_rows: the table rows that describe the machine, the same in every bench: date, CPUs
# (nproc and the model), memory, kernel, rustc.
machine_rows() {
  echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
  echo "| CPUs | $(nproc) (nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) |"
  echo "| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
  echo "| kernel | $(uname -r) |"
  echo "| rustc | $(rustc --version 2>/dev/null || echo '?') |"
}

# git_row: the commit measured and how many paths of the work tree differ from it.
git_row() {
  local commit dirty
  commit="$(git -C "${ROOT:-.}" rev-parse --short HEAD 2>/dev/null || echo '?')"
  dirty="$(git -C "${ROOT:-.}" status --short 2>/dev/null | wc -l)"
  echo "| git | commit $commit, $dirty uncommitted paths in the work tree (git status --short) |"
}

# cpu_secs PID: CPU seconds (user + sys, all threads) the process has used so far, or "?".
cpu_secs() {
  local tck; tck=$(getconf CLK_TCK)
  awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo "?"
}

# es_receiver_start STDOUT STDERR [ARGS...]: starts `receivers elasticsearch` (RECEIVER, the
# release binary by default) on a free loopback port with ARGS, sets RECEIVER_PID and, once it
# answers GET /, RECEIVER_URL (no trailing slash). Fails after 30 s.
es_receiver_start() {
  local stdout="$1" stderr="$2"; shift 2
  "${RECEIVER:-$ROOT/target/release/receivers}" elasticsearch --bind 127.0.0.1 --port 0 "$@" \
    >"$stdout" 2>"$stderr" &
  RECEIVER_PID=$!
  RECEIVER_URL=""
  local url=""
  for _ in $(seq 1 300); do
    if ! kill -0 "$RECEIVER_PID" 2>/dev/null; then
      echo "the Elasticsearch receiver exited early:" >&2; cat "$stderr" >&2; exit 1
    fi
    url=$(grep -m1 '^http' "$stdout" 2>/dev/null || true)
    if [[ -n "$url" ]] && curl -fsS -o /dev/null "${url%/}/"; then
      RECEIVER_URL="${url%/}"
      return 0
    fi
    sleep 0.1
  done
  echo "the Elasticsearch receiver did not start in 30 s:" >&2; cat "$stderr" >&2; exit 1
}

# es_receiver_stop: stops the receiver of RECEIVER_PID (SIGINT, then SIGKILL after 5 s).
es_receiver_stop() {
  if [[ -n "${RECEIVER_PID:-}" ]] && kill -0 "$RECEIVER_PID" 2>/dev/null; then
    kill -INT "$RECEIVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$RECEIVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RECEIVER_PID" 2>/dev/null || true
    wait "$RECEIVER_PID" 2>/dev/null || true
  fi
  RECEIVER_PID=""
}

# sim_serve STDOUT STDERR ARGS...: starts `sfsim serve` on a free loopback port with ARGS
# (--out among them), sets SIM_PID, and waits (up to 120 s) for its URL in SIM_URL and for
# GET /services/data/ to answer.
sim_serve() {
  local stdout="$1" stderr="$2"; shift 2
  "$SFSIM" serve --bind 127.0.0.1 --port 0 "$@" >"$stdout" 2>"$stderr" &
  SIM_PID=$!
  SIM_URL=""
  for _ in $(seq 1 1200); do
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
      echo "sfsim exited early:" >&2; cat "$stderr" >&2; exit 1
    fi
    SIM_URL=$(sed -n 's#^sfsim serving \(http://127\.0\.0\.1:[0-9]*\).*#\1#p' "$stdout" | head -1)
    if [[ -n "$SIM_URL" ]] && curl -fsS -o /dev/null "$SIM_URL/services/data/"; then
      break
    fi
    sleep 0.1
  done
  [[ -n "$SIM_URL" ]] || { echo "sfsim did not start in 120 s" >&2; exit 1; }
}

# Stops the sfsim of SIM_PID: SIGINT, then SIGKILL after 5 s.
stop_sim() {
  if [[ -n "${SIM_PID:-}" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
    kill -INT "$SIM_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
  SIM_PID=""
}

# time_field FILE NAME: one field of /usr/bin/time -v output.
time_field() { sed -n "s/^[[:space:]]*$2: //p" "$1" | head -1; }

# ensure_zstd: the zstd CLI (Debian's `zstd` package), which reads compressed event files
# (`<id>.ndjson.zst`, archive_compression = "zstd") as one stream: `zstd -dc` skips the row index.
ensure_zstd() {
  if ! need zstd; then
    echo "installing zstd (the CLI)" >&2
    apt-get install -y zstd >/dev/null
  fi
}

# load_row: a header row with the load average now (the machine may be shared).
load_row() {
  echo "| load average at the start | $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; the machine may be shared) |"
}

# archive_bytes DIR: bytes (apparent sizes) of the archive's data files under DIR: raw CSV and
# NDJSON, plain or compressed (*.csv, *.ndjson, *.ndjson.zst, ...); state.db, logs and the
# spool are not counted.
archive_bytes() {
  find "$1" -path '*/.spool' -prune -o -type f \( -name '*.csv' -o -name '*.ndjson' -o -name '*.ndjson.*' \) \
    -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# ndjson_lines DIR: lines of every NDJSON file under DIR, plain (*.ndjson) and zstd-compressed
# (*.ndjson.zst, read with `zstd -dc`; see ensure_zstd).
ndjson_lines() {
  local plain zst
  plain=$(find "$1" -name '*.ndjson' -print0 | xargs -0 -r cat | wc -l) || { echo "?"; return 0; }
  zst=$(find "$1" -name '*.ndjson.zst' -print0 | xargs -0 -r zstd -dcq | wc -l) || { echo "?"; return 0; }
  echo $((plain + zst))
}

# peak_rss_mib PID: the process's peak resident set so far (VmHWM) in MiB, or "?".
peak_rss_mib() {
  awk '/^VmHWM:/ { printf "%.0f", $2 / 1024; found = 1 } END { if (!found) print "?" }' "/proc/$1/status" 2>/dev/null || echo "?"
}
