#!/usr/bin/env bash
# The README's performance figures, reproducibly: a throwaway etcd on loopback,
# monitor-serverd and one monitor-agentd (interval 10 s, the release build), and
# after SECONDS_TO_RUN (default 300) each daemon's RSS and peak RSS (VmRSS,
# VmHWM), CPU (utime+stime from /proc/PID/stat, as % of one core) and binary
# size, with RSS split into anonymous memory (the daemon's own data), the
# executable's resident pages and the shared libraries'. CPU also in ms per minute
# from each thread's /proc/PID/task/TID/schedstat (nanoseconds: clock ticks are too coarse for an idle
# daemon). Everything runs from a temp dir and is cleaned up on exit.
#   scripts/measure.sh [seconds]
# Environment: TLS=1 runs etcd as production does (TLS, client certificates
# required, authentication on) and the daemons with the users `monitorctl auth`
# creates; TTL=SECONDS sets the agent's [Agent] LeaseTTLSec (default 5).
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
TLS=${TLS:-0}
SCHEME=http; TLS_ARGS=(); CURL_TLS=()
if [ "$TLS" = 1 ]; then
    scripts/make-test-pki.sh "$WORK/pki"
    SCHEME=https
    TLS_ARGS=(--cert-file "$WORK/pki/etcd.pem" --key-file "$WORK/pki/etcd.key"
              --trusted-ca-file "$WORK/pki/ca.pem" --client-cert-auth)
    CURL_TLS=(--cacert "$WORK/pki/ca.pem" --cert "$WORK/pki/client.pem" --key "$WORK/pki/client-key.pem")
fi
ENDPOINT=$SCHEME://127.0.0.1:$CLIENT
etcd --name measure --data-dir "$WORK/etcd" --listen-client-urls "$ENDPOINT" --advertise-client-urls "$ENDPOINT" \
     --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
     --initial-cluster "measure=http://127.0.0.1:$PEER" "${TLS_ARGS[@]}" >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s "${CURL_TLS[@]}" "$ENDPOINT/health" | grep -q true && break; sleep 0.1; done

printf '[Etcd]\nEndpoints=%s\nKeyPrefix=/measure\n[Agent]\nNodeName=m1\nLeaseTTLSec=%s\n' "$ENDPOINT" "${TTL:-5}" \
    > "$WORK/monitor.conf"
if [ "$TLS" = 1 ]; then
    # etcd's root user, authentication on, then monitor's roles and users as an
    # operator makes them (README, "Securing etcd").
    ctl=(env ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINT" --cacert "$WORK/pki/ca.pem"
         --cert "$WORK/pki/client.pem" --key "$WORK/pki/client-key.pem")
    head -c 18 /dev/urandom | base64 >"$WORK/root.password"
    chmod 0600 "$WORK/root.password"
    "${ctl[@]}" user add "root:$(cat "$WORK/root.password")" >/dev/null
    "${ctl[@]}" user grant-role root root >/dev/null
    "${ctl[@]}" auth enable >/dev/null
    mctl=("$BIN/monitorctl" --endpoints "$ENDPOINT" --cacert "$WORK/pki/ca.pem" --cert "$WORK/pki/client.pem"
          --key "$WORK/pki/client-key.pem" --user root --password-file "$WORK/root.password")
    MONITOR_CONFIG=$WORK/monitor.conf "${mctl[@]}" auth setup --output-dir "$WORK" >/dev/null
    MONITOR_CONFIG=$WORK/monitor.conf "${mctl[@]}" auth add-node m1 --output "$WORK/m1.password" >/dev/null
    printf '[Etcd]\nCAFile=pki/ca.pem\nCertFile=pki/client.pem\nKeyFile=pki/client-key.pem\n' >>"$WORK/monitor.conf"
    printf 'Username=monitor-node-m1\nPasswordFile=m1.password\n' >>"$WORK/monitor.conf"
    printf '[Server]\nEtcdUsername=monitor-server\nEtcdPasswordFile=monitor-server.password\n' >>"$WORK/monitor.conf"
fi
MONITOR_LOG=stderr "$BIN/monitor-serverd" --config "$WORK/monitor.conf" 2>"$WORK/server.log" &
SERVER=$!; PIDS+=($SERVER)
MONITOR_LOG=stderr "$BIN/monitor-agentd" --config "$WORK/monitor.conf" 2>"$WORK/agent.log" &
AGENT=$!; PIDS+=($AGENT)

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Every thread's (/proc/PID/schedstat is the main thread's alone); the daemons'
# threads live as long as they do.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%d", ns}'; }
hz=$(getconf CLK_TCK)
sleep 5 # start-up is not idle
a0=$(ticks $AGENT); s0=$(ticks $SERVER); t0=$(date +%s.%N)
an0=$(cpu_ns $AGENT); sn0=$(cpu_ns $SERVER)
sleep "$RUN"
a1=$(ticks $AGENT); s1=$(ticks $SERVER); t1=$(date +%s.%N)
an1=$(cpu_ns $AGENT); sn1=$(cpu_ns $SERVER)
grep -q "node m1 ALIVE" "$WORK/server.log" || { echo "the server never saw the agent:"; cat "$WORK/server.log"; exit 1; }

report() { # name pid ticks0 ticks1 ns0 ns1
    local rss hwm anon bin cpu size
    rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$2/status")
    anon=$(awk '/RssAnon/ {printf "%.1f", $2/1024}' "/proc/$2/status")
    # Resident pages of the executable itself (clean, file-backed, shared with the page cache).
    bin=$(awk -v exe="$1" '/^[0-9a-f]/ {name=$6} /^Rss:/ && name ~ exe"$" {kb+=$2} END {printf "%.1f", kb/1024}' "/proc/$2/smaps")
    hwm=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$2/status")
    cpu=$(awk -v a="$3" -v b="$4" -v hz="$hz" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.3f", 100 * (b - a) / hz / (t1 - t0)}')
    msmin=$(awk -v a="$5" -v b="$6" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e6 / ((t1 - t0) / 60)}')
    size=$(stat -c %s "$BIN/$1" | awk '{printf "%.1f", $1/1e6}')
    printf '%-16s RSS %5s MiB (anonymous %s, executable %s, shared libraries the rest)  peak %5s MiB  CPU %6s %% of a core over %s s (%s ms/min)  binary %5s MB\n' \
        "$1" "$rss" "$anon" "$bin" "$hwm" "$cpu" "$RUN" "$msmin" "$size"
}
echo "etcd: $ENDPOINT$([ "$TLS" = 1 ] && echo " (TLS, client certificates, authentication)"); agent LeaseTTLSec=${TTL:-5}, interval 10 s"
report monitor-agentd $AGENT "$a0" "$a1" "$an0" "$an1"
report monitor-serverd $SERVER "$s0" "$s1" "$sn0" "$sn1"
