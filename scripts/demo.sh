#!/usr/bin/env bash
# make demo: a throwaway 3-member etcd on loopback, monitor-serverd and two
# agents, then the lab's demonstration: both ALIVE, a live retune, a clean stop
# (LEFT), a crash (DEAD), and `monitorctl endpoints` before and after the etcd
# leader is killed. Everything runs from a temp dir and is cleaned up on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
export ETCDCTL_API=3 MONITOR_LOG=stderr
WORK=$(mktemp -d /tmp/monitor-demo.XXXXXX)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() {
    # Ask the kernel for a free port; fall back to a random high one.
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + RANDOM % 20000))
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_for() { # wait_for FILE TEXT TIMEOUT_S
    local deadline=$((SECONDS + $3))
    until grep -q -- "$2" "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { echo "timed out waiting for '$2' in $1"; exit 1; }
        sleep 0.1
    done
}
show() { grep -- "$2" "$1" | sed "s/^/   $3 /"; }

# Three members, as the lab's cluster; fast elections keep the failover step short.
CLUSTER=""; ENDPOINTS=""; ETCD_PIDS=()
for i in 0 1 2; do
    CLIENTS[$i]=http://127.0.0.1:$(free_port); PEERS[$i]=http://127.0.0.1:$(free_port)
    CLUSTER+="${CLUSTER:+,}m$i=${PEERS[$i]}"; ENDPOINTS+="${ENDPOINTS:+,}${CLIENTS[$i]}"
done
ETCDCTL="etcdctl --endpoints=$ENDPOINTS"
HTTP=$(free_port)

step "a 3-member etcd on $ENDPOINTS (data in $WORK/m0..m2)"
for i in 0 1 2; do
    etcd --name "m$i" --data-dir "$WORK/m$i" --listen-client-urls "${CLIENTS[$i]}" --advertise-client-urls "${CLIENTS[$i]}" \
         --listen-peer-urls "${PEERS[$i]}" --initial-advertise-peer-urls "${PEERS[$i]}" \
         --initial-cluster "$CLUSTER" --initial-cluster-token monitor-demo \
         --heartbeat-interval 50 --election-timeout 500 --log-level error >"$WORK/m$i.log" 2>&1 &
    PIDS+=($!); ETCD_PIDS[$i]=$!
done
for _ in $(seq 50); do $ETCDCTL endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
$ETCDCTL endpoint health 2>&1 | sed 's/^/   /'

for name in server worker1 worker2; do
    cat >"$WORK/$name.conf" <<CONF
[Etcd]
Endpoints=$ENDPOINTS
[Agent]
NodeName=$([ "$name" = server ] || echo "$name")
LeaseTTLSec=3
[Server]
Listen=127.0.0.1:$HTTP
CONF
done

step "initial config for worker1 (the lab's step 2)"
$ETCDCTL put /monitor/config/worker1 '{"interval": 5, "metrics": ["cpu", "memory", "disk", "net"]}'

step "monitor-serverd, then two agents"
"$BIN/monitor-serverd" --config "$WORK/server.conf" 2>"$WORK/server.log" & PIDS+=($!); SERVER=$!
wait_for "$WORK/server.log" "watching from" 10
"$BIN/monitor-agentd" --config "$WORK/worker1.conf" 2>"$WORK/worker1.log" & PIDS+=($!); W1=$!
"$BIN/monitor-agentd" --config "$WORK/worker2.conf" 2>"$WORK/worker2.log" & PIDS+=($!); W2=$!
wait_for "$WORK/server.log" "node worker1 ALIVE" 10
wait_for "$WORK/server.log" "node worker2 ALIVE" 10
show "$WORK/server.log" "ALIVE" "[server]"
show "$WORK/worker1.log" "registered\|config applied" "[worker1]"

sleep 1.5
step "the heartbeat values in etcd"
$ETCDCTL get --prefix /monitor/heartbeat/ | sed 's/^/   /'
if "$BIN/monitorctl" status --help >/dev/null 2>&1; then
    step "monitorctl status"
    "$BIN/monitorctl" status --config "$WORK/server.conf" | sed 's/^/   /' || true
fi

step "the fleet page and Prometheus' /metrics"
echo "   fleet page: http://127.0.0.1:$HTTP/   (live; /api/fleet, /healthz)"
echo "   curl -s http://127.0.0.1:$HTTP/metrics | grep monitor_node_up"
curl -s "http://127.0.0.1:$HTTP/metrics" | grep monitor_node_up | sed 's/^/   /'

step "retune worker1 live: interval 2 s"
T0=$(date +%s.%N)
$ETCDCTL put /monitor/config/worker1 '{"interval": 2, "metrics": ["cpu", "memory"]}'
wait_for "$WORK/worker1.log" "interval 5s -> 2s" 5
show "$WORK/worker1.log" "interval 5s -> 2s" "[worker1]"
echo "   worker1's heartbeat puts over the next 7 s (one per round):"
timeout 7 $ETCDCTL watch /monitor/heartbeat/worker1 2>/dev/null \
    | grep --line-buffered '"ts"' | while read -r line; do
        printf '   %s  put, interval %s\n' "$(date +%T.%N | cut -c1-12)" "$(sed 's/.*"interval":\([0-9.]*\).*/\1/' <<<"$line")s"
    done || true

step "stop worker2 cleanly (SIGTERM): LEFT at once"
T0=$(date +%s%N)
kill -TERM "$W2"
wait_for "$WORK/server.log" "node worker2 LEFT" 5
echo "   seen by the server after $(( ($(date +%s%N) - T0) / 1000000 )) ms (polling this log every 100 ms)"
show "$WORK/server.log" "LEFT" "[server]"

step "kill worker1 (SIGKILL): DEAD once its 3 s lease expires"
T0=$(date +%s%N)
kill -KILL "$W1"
wait "$W1" 2>/dev/null || true
wait_for "$WORK/server.log" "node worker1 DEAD" 10
echo "   seen by the server after $(( ($(date +%s%N) - T0) / 1000000 )) ms"
show "$WORK/server.log" "DEAD" "[server]"
sleep 0.5 # the listener's view is refreshed at most every 0.25 s
echo "   curl -s http://127.0.0.1:$HTTP/metrics | grep monitor_node_up"
curl -s "http://127.0.0.1:$HTTP/metrics" | grep monitor_node_up | sed 's/^/   /'
if "$BIN/monitorctl" status --help >/dev/null 2>&1; then
    step "monitorctl status"
    "$BIN/monitorctl" status --config "$WORK/server.conf" | sed 's/^/   /' || true
fi

step "monitorctl endpoints: which etcd member leads (the lab's exercise)"
CTL=("$BIN/monitorctl" --config "$WORK/server.conf")
"${CTL[@]}" endpoints --health | sed 's/^/   /' || true
LEADER=$("${CTL[@]}" endpoints -o json | jq -r '.endpoints | to_entries[] | select(.value.is_leader) | .key')
step "kill the etcd leader (member m$LEADER, SIGKILL): a new one is elected"
T0=$(date +%s%N)
kill -KILL "${ETCD_PIDS[$LEADER]}"
wait "${ETCD_PIDS[$LEADER]}" 2>/dev/null || true
# endpoints exits 2 while a member is down: only the leader field matters here.
until { "${CTL[@]}" endpoints -o json || true; } | jq -e '.leader != null' >/dev/null; do
    [ $(( ($(date +%s%N) - T0) / 1000000000 )) -lt 10 ] || { echo "   no new leader within 10 s"; break; }
    sleep 0.1
done
echo "   new leader after $(( ($(date +%s%N) - T0) / 1000000 )) ms (polling every 100 ms)"
# pipefail: the pipeline's status is monitorctl's.
"${CTL[@]}" endpoints --health | sed 's/^/   /' && rc=0 || rc=$?
echo "   monitorctl endpoints exits $rc: a member is down"
echo "   the fleet is still readable through the two members left:"
"${CTL[@]}" status --no-headers | sed 's/^/   /' || true

step "done: stopping the server and etcd, removing $WORK"
kill -TERM "$SERVER"
