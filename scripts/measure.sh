#!/usr/bin/env bash
# The README's performance figures, reproducibly: a throwaway etcd on loopback,
# monitor-serverd and one monitor-agentd (interval 10 s, the release build), and
# after SECONDS_TO_RUN (default 300) each daemon's RSS and peak RSS (VmRSS,
# VmHWM), CPU (utime+stime from /proc/PID/stat, as % of one core) and binary
# size, with RSS split into anonymous memory (the daemon's own data), the
# executable's resident pages and the shared libraries'. Everything runs from a temp dir and is cleaned up on exit.
#   scripts/measure.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
RUN=${1:-300}
WORK=$(mktemp -d /tmp/monitor-measure.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

CLIENT=$(free_port); PEER=$(free_port)
ENDPOINT=http://127.0.0.1:$CLIENT
etcd --name measure --data-dir "$WORK/etcd" --listen-client-urls "$ENDPOINT" --advertise-client-urls "$ENDPOINT" \
     --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
     --initial-cluster "measure=http://127.0.0.1:$PEER" >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s "$ENDPOINT/health" | grep -q true && break; sleep 0.1; done

printf '[Etcd]\nEndpoints=%s\nKeyPrefix=/measure\n[Agent]\nNodeName=m1\n' "$ENDPOINT" > "$WORK/monitor.conf"
MONITOR_LOG=stderr "$BIN/monitor-serverd" --config "$WORK/monitor.conf" 2>"$WORK/server.log" &
SERVER=$!; PIDS+=($SERVER)
MONITOR_LOG=stderr "$BIN/monitor-agentd" --config "$WORK/monitor.conf" 2>"$WORK/agent.log" &
AGENT=$!; PIDS+=($AGENT)

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
sleep 5 # start-up is not idle
a0=$(ticks $AGENT); s0=$(ticks $SERVER); t0=$(date +%s.%N)
sleep "$RUN"
a1=$(ticks $AGENT); s1=$(ticks $SERVER); t1=$(date +%s.%N)
grep -q "node m1 ALIVE" "$WORK/server.log" || { echo "the server never saw the agent:"; cat "$WORK/server.log"; exit 1; }

report() { # name pid ticks0 ticks1
    local rss hwm anon bin cpu size
    rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$2/status")
    anon=$(awk '/RssAnon/ {printf "%.1f", $2/1024}' "/proc/$2/status")
    # Resident pages of the executable itself (clean, file-backed, shared with the page cache).
    bin=$(awk -v exe="$1" '/^[0-9a-f]/ {name=$6} /^Rss:/ && name ~ exe"$" {kb+=$2} END {printf "%.1f", kb/1024}' "/proc/$2/smaps")
    hwm=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$2/status")
    cpu=$(awk -v a="$3" -v b="$4" -v hz="$hz" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.3f", 100 * (b - a) / hz / (t1 - t0)}')
    size=$(stat -c %s "$BIN/$1" | awk '{printf "%.1f", $1/1e6}')
    printf '%-16s RSS %5s MiB (anonymous %s, executable %s, shared libraries the rest)  peak %5s MiB  CPU %6s %% of a core over %s s  binary %5s MB\n' \
        "$1" "$rss" "$anon" "$bin" "$hwm" "$cpu" "$RUN" "$size"
}
report monitor-agentd $AGENT "$a0" "$a1"
report monitor-serverd $SERVER "$s0" "$s1"
