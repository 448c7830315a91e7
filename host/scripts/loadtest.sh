#!/usr/bin/env bash
# HTTP load test of `microvet serve` on 127.0.0.1 with oha (`cargo install oha --locked`):
# fresh-instance mode vs warm-pool mode side by side, at several concurrency levels, then
# the decision log (fsync vs no fsync), then latency at 80% of the measured peak.
#
#   cargo build --release -p microvet
#   host/scripts/loadtest.sh [SECONDS_PER_RUN] [MANIFEST]
#   WRK_ONLY=1 host/scripts/loadtest.sh 5     # only the wrk table (HTTP ceiling vs vet)
#   PIN=1 host/scripts/loadtest.sh 8          # server on CPU 0 (one worker, one vet thread),
#                                             # load generator on CPU 1: the server's own
#                                             # peak per core and its tail at 50-80 % of it
#
# A measurement, not a test: not run in CI. The load generator runs on the same machine
# and takes part of its CPUs; the server's own CPU time per request is printed as well
# (from /proc), which is what a dedicated machine would be bound by.
set -euo pipefail

cd "$(dirname "$0")/../.."
SECS=${1:-10}
MANIFEST=${2:-examples/hr-onboarding-helper.yaml}
BIN=${BIN:-target/release/microvet}
PORT=${PORT:-18787}
URL="http://127.0.0.1:$PORT/v1/vet"
LEVELS=${LEVELS:-"1 8 32 128"}
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 2; }
[ -x "$BIN" ] || { echo "$BIN not found: cargo build --release -p microvet" >&2; exit 2; }

# PIN=1: the server on CPU 0 and the load generator on CPU 1 (taskset), so the load
# generator never takes the server's core and the tail shows the server's own queueing.
SRV=() GEN=() SRV_ARGS=()
if [ -n "${PIN:-}" ]; then
  SRV=(taskset -c 0) GEN=(taskset -c 1) SRV_ARGS=(--workers 1 --vet-threads 1)
fi

SERVER=
start() { # args for `microvet serve`
  ${SRV[@]+"${SRV[@]}"} "$BIN" serve ${SRV_ARGS[@]+"${SRV_ARGS[@]}"} --listen "127.0.0.1:$PORT" --log-level warn "$@" >"$WORK/out" 2>"$WORK/err" &
  SERVER=$!
  for _ in $(seq 100); do grep -q listening "$WORK/out" 2>/dev/null && break; sleep 0.1; done
  # Warm up (instances, caches, connections).
  oha -z 2s -c 8 -m POST -D "$MANIFEST" --no-tui --output-format json "$URL" >/dev/null
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

# run LABEL OHA_ARGS...: one oha run, one result row
run() {
  local label=$1; shift
  local before after
  before=$(cpu_ticks)
  ${GEN[@]+"${GEN[@]}"} oha -z "${SECS}s" -m POST -D "$MANIFEST" --no-tui --output-format json "$@" "$URL" >"$WORK/r.json"
  after=$(cpu_ticks)
  python3 - "$label" "$WORK/r.json" "$before" "$after" "$(getconf CLK_TCK)" <<'EOF'
import json, sys
label, path, before, after, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
d = json.load(open(path))
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
n = sum(codes.values())
ok = codes.get("200", 0)
cpu = (after - before) / hz
print(f"| {label} | {s['requestsPerSec']:.0f} | {p['p50']*1e3:.2f} | {p['p99']*1e3:.2f} | "
      f"{(cpu / n * 1e6) if n else 0:.0f} | {ok}/{n} |", flush=True)
EOF
}

# Group commit: entries per batch and time per write + flush + sync_data.
log_stats() {
  curl -s "http://127.0.0.1:$PORT/metrics" | python3 -c '
import sys
m = {l.split()[0]: float(l.split()[1]) for l in sys.stdin if l.startswith("microvet_decision_log")}
a, b, t = m["microvet_decision_log_appends_total"], m["microvet_decision_log_batches_total"], m["microvet_decision_log_write_seconds_total"]
print(f"|   ({a:.0f} entries in {b:.0f} batches: {a/b:.1f} per batch, {t/b*1e3:.3f} ms per write+sync) | | | | | |")'
}

header() {
  echo
  echo "### $1"
  echo
  echo "| run | req/s | p50 ms | p99 ms | server CPU µs/req | 200s |"
  echo "|---|---:|---:|---:|---:|---:|"
}

echo "# microvet serve load test: $(date -u +%FT%TZ), $(nproc) CPUs, ${SECS}s per run, $(wc -c <"$MANIFEST") byte manifest"
echo "# $(oha --version)"

# mode LABEL SERVER_ARGS...: every concurrency level, then a rate-limited run at 80% of
# the peak just measured (same server; FRACTIONS="25 50 80" for more rates), with oha's
# latency correction (no coordinated omission: latency counts from when each request was
# due).
mode() {
  local label=$1; shift
  start "$@"
  : >"$WORK/rows"
  for c in $LEVELS; do run "$label, -c $c" -c "$c" | tee -a "$WORK/rows"; done
  local peak rate pct
  peak=$(awk -F'|' '{gsub(/ /, "", $3); if ($3 + 0 > m) m = $3 + 0} END {print m}' "$WORK/rows")
  for pct in ${FRACTIONS:-80}; do
    rate=$((peak * pct / 100))
    run "$label, $pct% of $peak: -q $rate -c 16" -c 16 -q "$rate" --latency-correction
  done
  if [ -n "${LOG:-}" ]; then log_stats; fi
  stop
}

# wrk_run LABEL PATH WRK_ARGS...: one closed-loop wrk run (lighter than oha: C, epoll, one
# thread), one result row. Paths under /v1/ are POSTed the manifest.
wrk_run() {
  local label=$1 path=$2; shift 2
  local before after script=()
  case "$path" in /v1/*) script=(-s "$WORK/post.lua") ;; esac
  before=$(cpu_ticks)
  ${GEN[@]+"${GEN[@]}"} wrk -t1 -d "${SECS}s" --latency ${script[@]+"${script[@]}"} "$@" "http://127.0.0.1:$PORT$path" >"$WORK/wrk.txt"
  after=$(cpu_ticks)
  python3 - "$label" "$WORK/wrk.txt" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import re, sys
label, path, before, after, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t = open(path).read()
def ms(v):
    n, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
n = int(re.search(r"(\d+) requests in", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
bad = int(bad.group(1)) if bad else 0
p50 = ms(re.search(r"\n\s+50%\s+(\S+)", t).group(1))
p99 = ms(re.search(r"\n\s+99%\s+(\S+)", t).group(1))
cpu = (after - before) / hz
print(f"| {label} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {(cpu / n * 1e6) if n else 0:.0f} | {n - bad}/{n} |", flush=True)
PY
}

# The HTTP ceiling on this machine, side by side with the vet: the same server, load
# generator and connections, but requests that do no vet (GET /healthz; and the same
# manifest POSTed to an unknown policy, which reads the body and answers 404 before any
# vet). A vet's throughput is bounded by these.
if command -v wrk >/dev/null; then
  cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
local f = assert(io.open(os.getenv("LOADTEST_MANIFEST"), "r")); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/yaml"
LUA
  export LOADTEST_MANIFEST="$MANIFEST"
  header "wrk (closed loop, one load-generator thread): the HTTP ceiling vs a warm vet"
  start --instances warm
  wrk_run "GET /healthz (no vet), -c 16" /healthz -c 16
  wrk_run "POST the manifest to an unknown policy (404, no vet: 0 200s expected), -c 16" "/v1/vet?policy=none" -c 16
  for c in 1 8 16 32; do wrk_run "POST /v1/vet warm, -c $c" /v1/vet -c "$c"; done
  stop
else
  echo "(wrk not found: apt-get install wrk for the ceiling table)"
fi
[ -z "${WRK_ONLY:-}" ] || exit 0

if [ -n "${PIN:-}" ]; then
  header "one core for the server (taskset -c 0, --workers 1 --vet-threads 1), one for oha"
  LEVELS="1 4 8 16" FRACTIONS="50 65 80" mode "warm, pinned" --instances warm
  exit 0
fi

header "fresh instance per request vs warm pool vs warm pool + decision log (fsync)"
mode fresh --instances fresh
FRACTIONS="25 50 65 80" mode warm --instances warm
LOG="$WORK/decisions.jsonl"
mode "warm + log" --decision-log "$LOG"
echo
"$BIN" log verify "$LOG" | sed 's/^/    /'
rm -f "$LOG"

header "decision log without sync_data (to measure the fsync; not for production)"
mode "warm + log, no fsync" --decision-log "$LOG" --decision-log-no-sync
