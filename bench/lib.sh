# Shared by the bench scripts (sourced): tool checks, the release build, starting and stopping
# sfsim, and reading /usr/bin/time -v output. Expects ROOT and BENCH_DIR where noted.

need() { command -v "$1" >/dev/null 2>&1; }

# GNU time gives peak RSS; Debian's `time` package.
ensure_gnu_time() {
  if [[ ! -x /usr/bin/time ]]; then
    echo "installing GNU time (/usr/bin/time)" >&2
    apt-get install -y time >/dev/null
  fi
}

# Release builds of sfevents and sfsim, unless NO_BUILD=1; one cargo at a time on this machine.
build_release() {
  if [[ "${NO_BUILD:-0}" != 1 ]]; then
    echo "building release binaries (flock /tmp/cargo.lock)..." >&2
    flock /tmp/cargo.lock cargo build --release -p sfevents -p sfsim >&2
  fi
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
