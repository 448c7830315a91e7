#!/usr/bin/env bash
# A/B of `microvet serve` builds under wrk, interleaved: every build's server runs at once
# (ports PORT, PORT+1, ...), and each round runs every request type against every build,
# one after the other, so the machine's minute-to-minute speed changes hit all builds
# alike. Prints per build and request type the median and range over the rounds of req/s
# and of the server's CPU time per request (user + system, from /proc).
#
#   host/scripts/http-ab.sh SECONDS ROUNDS BIN_A BIN_B [BIN...]
#   PATHS="/v1/vet" host/scripts/http-ab.sh 3 8 /tmp/microvet-base target/release/microvet
#
# wrk -t1 -c16 (closed loop, one load-generator thread on the same machine). Paths under
# /v1/ are POSTed examples/hr-onboarding-helper.yaml.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=$1 ROUNDS=$2; shift 2
PORT=${PORT:-18890}
PATHS=${PATHS:-"/healthz /v1/vet?policy=none /v1/vet"}
HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
local f = assert(io.open("examples/hr-onboarding-helper.yaml", "r")); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/yaml"
LUA
i=0
for bin in "$@"; do
  "$bin" serve --listen "127.0.0.1:$((PORT + i))" --log-level warn >"$WORK/out$i" 2>"$WORK/err$i" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q listening "$WORK/out$i" 2>/dev/null && break; sleep 0.1; done
  wrk -t1 -c16 -d2s -s "$WORK/post.lua" "http://127.0.0.1:$((PORT + i))/v1/vet" >/dev/null
  i=$((i + 1))
done
for _ in $(seq "$ROUNDS"); do
  for path in $PATHS; do
    for j in "${!PIDS[@]}"; do
      script=(); case "$path" in /v1/*) script=(-s "$WORK/post.lua") ;; esac
      before=$(awk '{print $14 + $15}' "/proc/${PIDS[$j]}/stat")
      wrk -t1 -c16 -d"${SECS}s" ${script[@]+"${script[@]}"} "http://127.0.0.1:$((PORT + j))$path" >"$WORK/wrk"
      after=$(awk '{print $14 + $15}' "/proc/${PIDS[$j]}/stat")
      n=$(grep -oE '[0-9]+ requests in' "$WORK/wrk" | cut -d' ' -f1)
      rps=$(grep -oE 'Requests/sec: +[0-9.]+' "$WORK/wrk" | awk '{print $2}')
      echo "$j $path $rps $(( (after - before) * 1000000 / HZ )) $n" >>"$WORK/rows"
    done
  done
done
python3 - "$WORK/rows" "$@" <<'PY'
import collections, statistics as st, sys
rows, bins = sys.argv[1], sys.argv[2:]
d = collections.defaultdict(list)
order = []
for line in open(rows):
    parts = line.split()
    if len(parts) != 5 or int(parts[4]) == 0:  # a wrk run that failed or got no answer
        print(f"skipped a failed run: {line.strip()}", file=sys.stderr)
        continue
    j, path, rps, cpu_us, n = parts
    if path not in order:
        order.append(path)
    d[(int(j), path)].append((float(rps), int(cpu_us) / int(n)))
print("| build | request | req/s median [range] | server CPU µs/req median [range] |")
print("|---|---|---:|---:|")
for path in order:
    for j, b in enumerate(bins):
        r = [x[0] for x in d[(j, path)]]
        c = [x[1] for x in d[(j, path)]]
        print(f"| {b} | {path} | {st.median(r):.0f} [{min(r):.0f}–{max(r):.0f}] | {st.median(c):.1f} [{min(c):.1f}–{max(c):.1f}] |")
PY
