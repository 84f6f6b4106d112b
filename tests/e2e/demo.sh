#!/bin/bash
# make demo-systemd: the monitor cluster under real systemd, as an operator sees it.
#
# Boots three sandboxed nodes (lib.sh: real systemd as PID 1, own host name, own
# network namespace on a bridge), installs Debian's etcd and monitor with
# `make install`, and walks through the scenario of tests/e2e/run.sh while printing
# what an operator would type and see: systemctl status, journalctl excerpts,
# monitorctl status. Tears everything down at the end (and on Ctrl-C or any error).
# Needs root; exit status 0 when every step showed what it should.
set -u
set -o pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "make demo-systemd boots real systemd in namespaces and needs root (sudo make demo-systemd)."
    echo "Without root, 'make demo' shows the same cluster as plain processes."
    exit 1
fi
e2e_lock "${BASH_SOURCE[0]}" "$@"
e2e_require_tools
e2e_binaries_present || e2e_die "release binaries missing in $E2E_REPO/.build/release: run make first"

PROBLEMS=0
# step TITLE: a section header.
if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD='' PLAIN=''; fi
step() { printf '\n%s=== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
# say TEXT: narration.
say() { printf '%s\n' "$*" | fold -s -w 88 | sed 's/^/  /'; }
# expect DESCRIPTION CMD...: the demo's own check, shown only when it fails.
expect() {
    local d=$1
    shift
    "$@" && return 0
    printf '  !! expected: %s\n' "$d"
    PROBLEMS=$((PROBLEMS + 1))
    return 1
}
# journal NODE UNIT N [CURSOR]: the last N lines of the unit's journal (after CURSOR).
journal() {
    local node=$1 unit=$2 n=$3 cursor=${4:-}
    printf '\n[root@%s ~]# journalctl -u %s -n %s\n' "$node" "$unit" "$n"
    if [ -n "$cursor" ]; then
        e2e_journal_text "$node" "$unit" "$cursor" | tail -n "$n" | e2e_indent
    else
        e2e_exec "$node" journalctl -u "$unit" --no-pager -n "$n" | e2e_indent
    fi
}

e2e_init
START=$SECONDS
M=$E2E_MASTER
W1=${E2E_WORKERS[0]}
W2=${E2E_WORKERS[1]}

step "1. Three nodes, each a real systemd in its own namespaces"
say "master, worker1 and worker2 boot systemd as PID 1 over copy-on-write views of this \
host's root; each has its own host name and its own network namespace, wired by a veth \
into a bridge ($E2E_SUBNET.0/24). Nothing they write reaches the host."
e2e_boot_cluster || e2e_die "the nodes did not boot"
for n in "$M" "$W1" "$W2"; do
    printf '  %-8s %s  %s\n' "$n" "${E2E_IP[$n]}" "$(e2e_exec "$n" systemctl is-system-running)"
done
e2e_show "$W1" hostname

step "2. master: Debian's etcd, with TLS, client certificates and authentication"
e2e_start_etcd || e2e_die "etcd did not start on master"
e2e_show "$M" cat /etc/default/etcd
e2e_show "$M" systemctl status etcd --no-pager -n 0
e2e_show "$W1" etcdctl endpoint status -w table

step "3. make install on every node, /etc/monitor pointing at master's etcd"
for n in "$M" "$W1" "$W2"; do
    E2E_MAKE_SILENT=--no-print-directory e2e_install "$n" >"$E2E_TMP/install-$n.log" 2>&1 || {
        cat "$E2E_TMP/install-$n.log"
        e2e_die "make install failed on $n"
    }
done
UNITDIR=$(dirname "$(e2e_unit_prop "$M" monitor-agentd.service FragmentPath)")
printf '\n[root@%s ~]# make -C %s install\n' "$W1" "$E2E_REPO"
e2e_indent <"$E2E_TMP/install-$W1.log"
e2e_show "$W1" cat /etc/monitor/monitor.conf.d/10-cluster.conf
say "etcd users with least privilege (monitorctl auth setup, auth add-node), delivered by LoadCredential=:"
e2e_etcd_users >"$E2E_TMP/etcd-users.log" 2>&1 || { cat "$E2E_TMP/etcd-users.log"; e2e_die "monitorctl auth failed"; }
e2e_indent <"$E2E_TMP/etcd-users.log"
e2e_show "$W1" cat /etc/systemd/system/monitor-agentd.service.d/50-etcd-credentials.conf

step "4. Start the units"
e2e_show "$M" systemctl start monitor-serverd
e2e_show "$W1" systemctl start monitor-agentd
e2e_show "$W2" systemctl start monitor-agentd
both_alive() { e2e_server_saw "$W1" ALIVE && e2e_server_saw "$W2" ALIVE; }
expect "worker1 and worker2 ALIVE on master" e2e_wait_for 15 both_alive
sleep 0.5
e2e_show "$M" systemctl status monitor-serverd --no-pager
e2e_show "$W1" systemctl status monitor-agentd --no-pager -n 3
printf '\n[root@%s ~]# journalctl -u monitor-serverd -o json | jq ... (the ALIVE records)\n' "$M"
e2e_journal_json "$M" monitor-serverd | e2e_select '.EVENT == "ALIVE"' |
    jq -c '{MESSAGE, NODE, EVENT, STATE, PRIORITY, SYSLOG_IDENTIFIER, MESSAGE_ID}' | e2e_indent
if e2e_exec "$M" monitorctl status --help >/dev/null 2>&1; then
    e2e_show "$M" monitorctl status
fi

step "5. Retune worker1 live through etcd"
c=$(e2e_cursor "$W1")
e2e_show "$M" etcdctl put "/monitor/config/$W1" '{"interval": 2, "metrics": ["cpu","memory"]}'
applied() {
    e2e_journal_json "$W1" monitor-agentd "$c" | e2e_select '.EVENT == "CONFIG_APPLIED"' >/dev/null
}
expect "config applied on worker1" e2e_wait_for 5 applied
journal "$W1" monitor-agentd 3
say "Its heartbeat key is now written every 2 s (etcdctl watch for 7 s, the \"ts\" of each put):"
printf '\n[root@%s ~]# timeout 7 etcdctl watch /monitor/heartbeat/%s -w json | jq .ts\n' "$W1" "$W1"
e2e_exec_t 12 "$W1" timeout 7 etcdctl watch "/monitor/heartbeat/$W1" -w json |
    jq -r '.Events[]?.kv.value | @base64d | fromjson | .ts' |
    awk '{ printf "    ts %.3f%s\n", $1, (NR > 1 ? sprintf("   (+%.2f s)", $1 - prev) : ""); prev = $1 }'
e2e_show "$W1" systemctl show -p StatusText monitor-agentd

step "6. Edit /etc/monitor and reload, without a restart"
pid=$(e2e_unit_prop "$W1" monitor-agentd MainPID)
printf '# written by the demo\n[Log]\nLevel=debug\n' |
    e2e_write "$W1" /etc/monitor/monitor.conf.d/20-debug.conf
e2e_show "$W1" cat /etc/monitor/monitor.conf.d/20-debug.conf
c=$(e2e_cursor "$W1")
e2e_show "$W1" systemctl reload monitor-agentd
sleep 4.5
journal "$W1" monitor-agentd 5 "$c"
e2e_show "$W1" systemctl show -p MainPID -p NRestarts monitor-agentd
expect "same MainPID after reload" test "$(e2e_unit_prop "$W1" monitor-agentd MainPID)" = "$pid"

step "7. Stop worker2's agent cleanly: LEFT, not DEAD"
c=$(e2e_cursor "$M")
e2e_show "$W2" systemctl stop monitor-agentd
expect "worker2 LEFT on master" e2e_wait_for 3 e2e_server_saw "$W2" LEFT "$c"
journal "$M" monitor-serverd 3 "$c"
e2e_show "$W2" systemctl status monitor-agentd --no-pager -n 0

step "8. A hung agent is restarted by the watchdog"
c=$(e2e_cursor "$M")
e2e_show "$W2" systemctl start monitor-agentd
expect "worker2 ALIVE again" e2e_wait_for 10 e2e_server_saw "$W2" ALIVE "$c"
cw=$(e2e_cursor "$W2")
cm=$(e2e_cursor "$M")
e2e_show "$W2" systemctl kill --signal=SIGSTOP monitor-agentd
say "The agent is frozen: its lease expires (master reports DEAD), and within \
WatchdogSec=$(e2e_unit_prop "$W2" monitor-agentd WatchdogUSec) systemd notices the \
missing WATCHDOG=1 and restarts it..."
restarted() { [ "$(e2e_unit_prop "$W2" monitor-agentd NRestarts)" -gt 0 ]; }
expect "NRestarts goes up" e2e_wait_for 45 restarted
expect "worker2 ALIVE after the restart" e2e_wait_for 15 e2e_server_saw "$W2" ALIVE "$cm"
sleep 1
journal "$W2" monitor-agentd 20 "$cw"
e2e_show "$W2" systemctl show -p NRestarts monitor-agentd
journal "$M" monitor-serverd 6 "$cm"

step "9. Cut worker1 off the network"
c=$(e2e_cursor "$M")
printf '\n[host]# ip -n %s-hub link set v-%s down\n' "$E2E_ID" "$W1"
e2e_link "$W1" down
t0=$(e2e_now_us)
expect "worker1 DEAD on master" e2e_wait_for 20 e2e_server_saw "$W1" DEAD "$c"
ms=$(e2e_ms_between "$t0" "$(e2e_now_us)")
say "master reported worker1 DEAD about $(e2e_secs "$ms") s after the cut (its lease expired)."
journal "$M" monitor-serverd 3 "$c"
if e2e_exec "$M" monitorctl status --help >/dev/null 2>&1; then
    e2e_show "$M" monitorctl status
fi
c=$(e2e_cursor "$M")
printf '\n[host]# ip -n %s-hub link set v-%s up\n' "$E2E_ID" "$W1"
e2e_link "$W1" up
expect "worker1 ALIVE again" e2e_wait_for 30 e2e_server_saw "$W1" ALIVE "$c"
journal "$M" monitor-serverd 3 "$c"
e2e_show "$M" systemctl status monitor-serverd --no-pager -n 0

step "10. Hardening"
e2e_show "$M" systemd-analyze verify "$UNITDIR/monitor-agentd.service" \
    "$UNITDIR/monitor-serverd.service"
for u in monitor-agentd monitor-serverd; do
    printf '\n[root@%s ~]# systemd-analyze security %s | tail -1\n' "$M" "$u"
    e2e_exec "$M" systemd-analyze security --no-pager "$u.service" | tail -n 1 | e2e_indent
done

step "11. make uninstall"
for n in "$W1" "$W2" "$M"; do
    e2e_exec "$n" make --no-print-directory -C "$E2E_REPO" uninstall PREFIX=/usr/local >"$E2E_TMP/uninstall-$n.log" 2>&1 ||
        { PROBLEMS=$((PROBLEMS + 1)); echo "  !! make uninstall failed on $n"; }
done
printf '\n[root@%s ~]# make -C %s uninstall\n' "$W1" "$E2E_REPO"
e2e_indent <"$E2E_TMP/uninstall-$W1.log"
e2e_show "$W1" systemctl daemon-reload
e2e_show "$W1" systemctl status monitor-agentd --no-pager

step "12. Tear down"
e2e_teardown
say "All nodes powered off, namespaces, cgroups and temp files removed \
($((SECONDS - START)) s in all)."
if [ "$PROBLEMS" -gt 0 ]; then
    echo "$PROBLEMS step(s) did not show what they should (marked !! above)."
    exit 1
fi
