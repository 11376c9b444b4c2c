#!/usr/bin/env bash
# Context switches and system calls per request of one proxy under the harness's pinning: the
# harness's nginx backend and the proxy on CPU 1, wrk on CPU 0, 1,000 tokens round-robin.
#
# Usage: bench/switches.sh TARGET [SECONDS]     TARGET: memory | sqlite | postgres://... | nginx
# Env:   TOKENJAR_BIN (default .build/release/tokenjar), CONNS=32, TOKENS=1000,
#        BACKEND_POLICY=normal | batch (batch runs the backend under SCHED_BATCH, whose wake-ups
#        do not preempt the running task: an experiment, not the harness's setting).
# Needs nginx, wrk, perf (Debian: nginx wrk linux-perf) and permission to use perf on another
# process. Prints the proxy's req/s and p99, its CPU per request (perf task-clock), system calls
# and context switches per request, and each busy thread's voluntary and involuntary switches.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGET=${1:?usage: bench/switches.sh memory|sqlite|postgres://...|nginx [SECONDS]}
SECONDS_MEASURED=${2:-5}
BIN=${TOKENJAR_BIN:-$HERE/../.build/release/tokenjar}
CONNS=${CONNS:-32}
TOKENS=${TOKENS:-1000}
for tool in nginx wrk perf taskset; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y nginx wrk linux-perf)" >&2; exit 2; }
done
RUN=$(mktemp -d /tmp/tokenjar-switches.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$RUN"
}
trap cleanup EXIT
user_directive=""
[[ $(id -u) -eq 0 ]] && user_directive="user $(id -un) $(id -gn);"
render() {  # render TEMPLATE DEST: the harness's configuration on ports 18280 (backend) and 18283
    sed -e "s#@RUN@#$RUN#g" -e "s#@USER_DIRECTIVE@#$user_directive#" \
        -e "s#127.0.0.1:18080#127.0.0.1:18280#" -e "s#127.0.0.1:18081#127.0.0.1:18283#" "$1" > "$2"
}
mkdir -p "$RUN/backend/tmp" "$RUN/nginx/tmp" "$RUN/db"
render "$HERE/conf/backend.nginx.conf.in" "$RUN/backend/nginx.conf"
policy=()
[[ ${BACKEND_POLICY:-normal} == batch ]] && policy=(chrt --batch 0)
"${policy[@]}" taskset -c 1 nginx -p "$RUN/backend/" -c "$RUN/backend/nginx.conf" & PIDS+=($!)
if [[ $TARGET == nginx ]]; then
    render "$HERE/conf/proxy.nginx.conf.in" "$RUN/nginx/nginx.conf"
    taskset -c 1 nginx -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf" & master=$!; PIDS+=($master)
    sleep 1
    proxy=$(pgrep -P "$master" | head -1)
else
    store=$TARGET
    [[ $store == sqlite ]] && store="sqlite:$RUN/db/jars.db"
    [[ $store == memory ]] || export TOKENJAR_STORE_ENCRYPTION_KEYS=${TOKENJAR_STORE_ENCRYPTION_KEYS:-"1:$(head -c 32 /dev/urandom | base64)"}
    TOKENJAR_SERVER_EVENT_LOOPS=1 TOKENJAR_LOG_ACCESS_LOG=false TOKENJAR_SERVER_ADOPT_CLIENT_TOKENS=true \
        TOKENJAR_LOG_LEVEL=warning TOKENJAR_SESSIONS_MINT_RATE=0 \
        taskset -c 1 "$BIN" serve --listen 127.0.0.1:18283 --upstream http://127.0.0.1:18280 --store "$store" \
        > "$RUN/gateway.log" 2>&1 & proxy=$!; PIDS+=($proxy)
fi
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/18283) 2>/dev/null && break; sleep 0.1; done
threads() {  # "tid:name voluntary involuntary" for each thread of the proxy
    for task in /proc/"$proxy"/task/*; do
        printf '%s:%s %s %s\n' "$(basename "$task")" "$(tr -d ' ' < "$task/comm")" \
            "$(awk '/^voluntary_ctxt/ {print $2}' "$task/status")" "$(awk '/^nonvoluntary_ctxt/ {print $2}' "$task/status")"
    done | sort
}
cd "$HERE"
TOKENS=$TOKENS taskset -c 0 wrk -t1 -c"$CONNS" -d2s -s tokens.lua http://127.0.0.1:18283/ > /dev/null   # warm-up
TOKENS=$TOKENS taskset -c 0 wrk -t1 -c"$CONNS" -d$((SECONDS_MEASURED + 2))s --latency -s tokens.lua \
    http://127.0.0.1:18283/ > "$RUN/wrk.txt" & load=$!
sleep 1
threads > "$RUN/threads.before"
perf stat -x, -e task-clock,context-switches,raw_syscalls:sys_enter -p "$proxy" -o "$RUN/perf.csv" -- sleep "$SECONDS_MEASURED"
threads > "$RUN/threads.after"
wait "$load"
rate=$(awk '/^Requests\/sec/ {print $2}' "$RUN/wrk.txt")
requests=$(awk -v r="$rate" -v s="$SECONDS_MEASURED" 'BEGIN {print r * s}')
printf 'target %s: %s req/s, p99 %s\n' "$TARGET" "$rate" "$(awk '$1 == "99%" {print $2}' "$RUN/wrk.txt")"
awk -F, -v n="$requests" '
    $3 == "task-clock" { printf "CPU per request      %6.1f us\n", $1 * 1000 / n }
    $3 == "context-switches" { printf "context switches     %6.2f per request\n", $1 / n }
    $3 == "raw_syscalls:sys_enter" { printf "system calls         %6.2f per request\n", $1 / n }' "$RUN/perf.csv"
join "$RUN/threads.before" "$RUN/threads.after" | awk -v n="$requests" '
    { v = $4 - $2; nv = $5 - $3; if (v + nv > n / 1000) printf "  thread %-24s voluntary %.3f, involuntary %.3f per request\n", $1, v / n, nv / n }'
