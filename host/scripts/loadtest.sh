#!/usr/bin/env bash
# HTTP load test of `microvet serve` on 127.0.0.1 with oha (`cargo install oha --locked`):
# fresh-instance mode vs warm-pool mode side by side, at several concurrency levels, then
# the decision log (fsync vs no fsync), then latency at 80% of the measured peak.
#
#   cargo build --release -p microvet
#   host/scripts/loadtest.sh [SECONDS_PER_RUN] [MANIFEST]
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

SERVER=
start() { # args for `microvet serve`
  "$BIN" serve --listen "127.0.0.1:$PORT" --log-level warn "$@" >"$WORK/out" 2>"$WORK/err" &
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
  oha -z "${SECS}s" -m POST -D "$MANIFEST" --no-tui --output-format json "$@" "$URL" >"$WORK/r.json"
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
