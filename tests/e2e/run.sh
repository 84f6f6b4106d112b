#!/bin/bash
# shellcheck disable=SC2016 # checks given to eval as strings expand when they run
# End-to-end test of monitor under real systemd (make check, as root).
#
# Boots three sandboxed nodes (real systemd as PID 1, own host name, own network
# namespace with a veth into a bridge): master runs Debian's etcd.service and
# monitor-serverd, worker1 and worker2 run monitor-agentd pointed at master's etcd.
# master and worker1 install with `make install`, worker2 with the Debian packages
# (`make deb`, built here once and reused while up to date) as a fleet would; all
# driven with systemctl and read back with journalctl, as an operator would.
# One run at a time on a machine: the script re-executes itself under
# `flock /tmp/monitor-e2e.lock` unless its caller holds that lock already. Prints one line per check
# ("ok - ..." / "not ok - ..."), "# ..." diagnostics, and finally "N passed, N failed".
# Exit status 0 only if every check passed. Not root: a skip message, exit 0.
# Every wait is bounded; everything started is stopped by a trap (lib.sh).
set -u
set -o pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
e2e_lock "${BASH_SOURCE[0]}" "$@"
e2e_require_tools

# The checks below have to go on after a failed one; a failed foundation (no nodes, no
# etcd, no install) ends the run early.
bail() {
    e2e_not_ok "$1"
    echo "Bail out! $1"
    e2e_teardown
    e2e_summary
    exit 1
}

if ! e2e_binaries_present; then
    e2e_not_ok "release binaries in $E2E_REPO/.build/release (run make first)"
    e2e_summary
    exit 1
fi

# The packages worker2 installs: built once, reused while the binaries and the
# packaged files are unchanged.
deb_start=$SECONDS
if make -s -C "$E2E_REPO" deb >"/tmp/monitor-e2e-deb.$$.log" 2>&1; then
    e2e_note "make deb: $((SECONDS - deb_start)) s ($(cd "$E2E_REPO/dist" && ls ./*.deb | tr '\n' ' '))"
    rm -f "/tmp/monitor-e2e-deb.$$.log"
else
    sed 's/^/# /' "/tmp/monitor-e2e-deb.$$.log"
    rm -f "/tmp/monitor-e2e-deb.$$.log"
    e2e_not_ok "make deb (dpkg-buildpackage, lintian --fail-on error)"
    e2e_summary
    exit 1
fi

HOST_BEFORE=$(e2e_host_fingerprint)
e2e_init
START=$SECONDS
M=$E2E_MASTER
W1=${E2E_WORKERS[0]}
W2=${E2E_WORKERS[1]}

# --- nodes --------------------------------------------------------------------------
e2e_note "booting $M, $W1, $W2: real systemd in namespaces over copy-on-write roots"
e2e_boot_cluster || bail "three nodes boot real systemd (systemctl is-system-running)"
ETCD=$(e2e_etcd_url)
e2e_ok "three nodes boot real systemd as PID 1 ($((SECONDS - START)) s)"

names_ok() {
    local n
    for n in "$M" "$W1" "$W2"; do [ "$(e2e_exec "$n" hostname)" = "$n" ] || return 1; done
}
e2e_check "each node has its own host name ($M, $W1, $W2)" names_ok

# --- etcd ---------------------------------------------------------------------------
e2e_start_etcd || { e2e_diag "$M" etcd.service; bail "Debian's etcd.service starts on $M"; }
e2e_check "$M: Debian's etcd.service is active, serving $ETCD" \
    test "$(e2e_exec "$M" systemctl is-active etcd.service)" = active
reach_etcd() { e2e_etcdctl "$W1" endpoint health && e2e_etcdctl "$W2" endpoint health; }
e2e_check "$W1 and $W2 reach master's etcd over the bridge (etcdctl endpoint health, TLS)" \
    e2e_wait_for 10 reach_etcd
# As production runs it: no plain HTTP, no client without a certificate, no request
# without a user.
etcd_locked_ok() {
    local out
    ! e2e_exec "$W1" etcdctl --endpoints="http://${E2E_IP[$M]}:2379" --dial-timeout=2s --command-timeout=3s \
        get /x >/dev/null 2>&1 || return 1
    ! e2e_exec "$W1" env -u ETCDCTL_CERT -u ETCDCTL_KEY etcdctl --dial-timeout=2s --command-timeout=3s \
        get /x >/dev/null 2>&1 || return 1
    out=$(e2e_exec "$W1" env -u ETCDCTL_USER etcdctl --dial-timeout=2s --command-timeout=3s get /x 2>&1)
    # etcd 3.4 says "permission denied" for a certificate without a user, others "user name is empty".
    grep -Eq "user name is empty|permission denied" <<<"$out" || { printf '%s\n' "$out" | sed 's/^/# /'; return 1; }
    e2e_etcdctl "$W1" get /x >/dev/null
}
e2e_check "$M's etcd: TLS only, client certificate required, authentication on (plain HTTP, no certificate or no user: refused)" \
    etcd_locked_ok

# --- make install -------------------------------------------------------------------
installed_ok() {
    local n=$1 u path
    for u in monitor-agentd monitor-serverd; do
        path=$(e2e_unit_prop "$n" "$u.service" FragmentPath)
        [ "$(e2e_unit_prop "$n" "$u.service" LoadState)" = loaded ] || return 1
        [ "$(e2e_unit_prop "$n" "$u.service" NeedDaemonReload)" = no ] || return 1
        case $path in /usr/local/lib/systemd/system/*|/etc/systemd/system/*) ;; *) return 1 ;; esac
        e2e_unit_prop "$n" "$u.service" ExecStart | grep -q "path=/usr/local/bin/$u " || return 1
    done
    e2e_exec "$n" test -x /usr/local/bin/monitor-agentd -a -x /usr/local/bin/monitor-serverd \
        -a -x /usr/local/bin/monitorctl -a -f /etc/monitor/monitor.conf || return 1
    # Man pages, completions and the journal catalog, where man, the shells and
    # journalctl look for them.
    e2e_exec "$n" man -w monitorctl monitor.conf monitor-agentd monitor-serverd >/dev/null || return 1
    e2e_exec "$n" test -f /usr/local/share/bash-completion/completions/monitorctl \
        -a -f /usr/local/share/zsh/site-functions/_monitorctl \
        -a -f /usr/local/share/fish/vendor_completions.d/monitorctl.fish || return 1
    # grep reads all of it: with pipefail, an early exit (-q) would SIGPIPE journalctl.
    e2e_exec "$n" journalctl --list-catalog | grep ' monitor: Node @NODE@ is DEAD' >/dev/null
}
for n in "$M" "$W1"; do
    if e2e_install "$n" >"$E2E_TMP/install-$n.log" 2>&1 && installed_ok "$n"; then
        UNITDIR=$(dirname "$(e2e_unit_prop "$n" monitor-agentd.service FragmentPath)")
        e2e_ok "$n: make install (binaries in /usr/local/bin, units in $UNITDIR running them, loaded by daemon-reload; man pages, completions, catalog)"
    else
        sed "s/^/# [$n] /" "$E2E_TMP/install-$n.log"
        bail "$n: make install"
    fi
done
# worker2 as a fleet installs: the packages, enabled but not started (dh_installsystemd
# --no-start), the settings file a conffile.
deb_installed_ok() {
    local n=$1
    [ "$(e2e_unit_prop "$n" monitor-agentd.service LoadState)" = loaded ] || return 1
    e2e_unit_prop "$n" monitor-agentd.service ExecStart | grep -q "path=/usr/bin/monitor-agentd " || return 1
    [ "$(e2e_exec "$n" systemctl is-enabled monitor-agentd.service)" = enabled ] || return 1
    [ "$(e2e_exec "$n" systemctl is-active monitor-agentd.service)" = inactive ] || return 1
    e2e_exec "$n" dpkg-query -W -f='${Conffiles}' monitor-common | grep -q '^ /etc/monitor/monitor.conf ' ||
        return 1
    e2e_exec "$n" test -x /usr/bin/monitor-agentd -a ! -e /usr/local/bin/monitor-agentd
}
if e2e_install_deb "$W2" monitor-common monitor-agent >"$E2E_TMP/install-$W2.log" 2>&1 &&
   deb_installed_ok "$W2"; then
    e2e_ok "$W2: apt-get install monitor-common and monitor-agent .debs (/usr/bin; unit enabled, not started; /etc/monitor/monitor.conf a conffile)"
else
    sed "s/^/# [$W2] /" "$E2E_TMP/install-$W2.log"
    bail "$W2: apt-get install of the monitor-agent package"
fi

# --- etcd users: least privilege per node --------------------------------------------
users_ok() {
    local roles users r
    roles=$(e2e_etcdctl "$M" role list) && users=$(e2e_etcdctl "$M" user list) || return 1
    for r in monitor-server monitor-admin "monitor-node-$W1" "monitor-node-$W2"; do
        grep -qx "$r" <<<"$roles" && grep -qx "$r" <<<"$users" || return 1
    done
    e2e_unit_prop "$W1" monitor-agentd DropInPaths | grep -q 50-etcd-credentials.conf &&
        e2e_unit_prop "$W1" monitor-serverd DropInPaths | grep -q 50-etcd-credentials.conf &&
        e2e_unit_prop "$W2" monitor-agentd DropInPaths | grep -q 50-etcd-credentials.conf
}
if e2e_etcd_users >"$E2E_TMP/etcd-users.log" 2>&1 && users_ok; then
    e2e_ok "monitorctl auth setup / add-node on $M (as etcd's root): roles and users for the server, the admin, $W1 and $W2; passwords and key in /etc/monitor (0600), handed to the units by LoadCredential= drop-ins"
    sed 's/^/# /' "$E2E_TMP/etcd-users.log"
else
    sed 's/^/# /' "$E2E_TMP/etcd-users.log"
    bail "monitorctl auth setup / add-node on $M, credentials delivered to the nodes"
fi

# --- hardening ----------------------------------------------------------------------
verify_out=$(e2e_exec "$M" systemd-analyze verify "$UNITDIR/monitor-agentd.service" \
    "$UNITDIR/monitor-serverd.service" 2>&1)
verify_rc=$?
if [ $verify_rc -eq 0 ] && [ -z "$verify_out" ]; then
    e2e_ok "systemd-analyze verify: both units clean"
else
    printf '%s\n' "$verify_out" | sed 's/^/# /'
    e2e_not_ok "systemd-analyze verify: both units clean (exit $verify_rc)"
fi
for u in monitor-agentd monitor-serverd; do
    score=$(e2e_exec "$M" systemd-analyze security --no-pager "$u.service" |
            sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
    if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        e2e_ok "systemd-analyze security $u.service: exposure $score (<= 2.0)"
    else
        e2e_exec "$M" systemd-analyze security --no-pager "$u.service" | grep '✗' | sed 's/^/# /'
        e2e_not_ok "systemd-analyze security $u.service: exposure ${score:-?} (<= 2.0)"
    fi
done

# --- start --------------------------------------------------------------------------
e2e_exec "$M" systemctl start monitor-serverd.service
e2e_exec "$W1" systemctl start monitor-agentd.service
e2e_exec "$W2" systemctl start monitor-agentd.service
for nu in "$M monitor-serverd" "$W1 monitor-agentd" "$W2 monitor-agentd"; do
    read -r n u <<<"$nu"
    if [ "$(e2e_exec "$n" systemctl is-active "$u")" = active ] &&
       [ "$(e2e_unit_prop "$n" "$u" Type)" = notify ] &&
       [ -n "$(e2e_unit_prop "$n" "$u" StatusText)" ]; then
        e2e_ok "$n: systemctl is-active $u = active (Type=notify: READY=1 arrived; STATUS set)"
    else
        e2e_diag "$n" "$u"
        e2e_not_ok "$n: systemctl is-active $u = active (Type=notify: READY=1 arrived; STATUS set)"
    fi
done

# --- journal: ALIVE with structured fields --------------------------------------------
alive_fields_ok() {
    e2e_journal_json "$M" monitor-serverd | e2e_select ".EVENT == \"ALIVE\" and .NODE == \"$1\"" |
        head -n 1 | jq -e --arg n "$1" '
        .NODE == $n and .EVENT == "ALIVE" and .SYSLOG_IDENTIFIER == "monitor-serverd"
        and (.PRIORITY | test("^[0-7]$")) and (.MESSAGE_ID | test("^[0-9a-f]{32}$"))
        and (.MESSAGE | contains($n + " ALIVE"))
        and .CODE_FILE == "MonitorServer/ServerDaemon.swift" and (.CODE_LINE | test("^[0-9]+$"))
        and (.CODE_FUNC | length > 0)' >/dev/null
}
for n in "$W1" "$W2"; do
    e2e_wait_for 15 e2e_server_saw "$n" ALIVE
    e2e_check "journalctl -u monitor-serverd -o json on $M: $n ALIVE (NODE, EVENT, PRIORITY, SYSLOG_IDENTIFIER, MESSAGE_ID, CODE_FILE/LINE/FUNC)" \
        alive_fields_ok "$n"
done
e2e_journal_json "$M" monitor-serverd | e2e_select '.EVENT == "ALIVE"' | head -n 1 |
    jq -c '{MESSAGE, NODE, EVENT, STATE, PRIORITY, SYSLOG_IDENTIFIER, MESSAGE_ID, CODE_FILE, CODE_LINE, CODE_FUNC}' |
    sed 's/^/# /'

status_shows_summary() {
    e2e_exec "$M" systemctl status monitor-serverd --no-pager -n 0 |
        grep -Eq 'Status: "2 nodes: 2 alive"'
}
e2e_check "systemctl status monitor-serverd shows STATUS= \"2 nodes: 2 alive\"" \
    e2e_wait_for 10 status_shows_summary
e2e_exec "$M" systemctl status monitor-serverd --no-pager -n 0 | grep 'Status:' | sed 's/^ */# /'

# Least privilege at work: worker1's own etcd user (the agent's credentials) may read
# its config but not write worker2's heartbeat, nor any config key.
as_node() { # NODE ETCDCTL-ARGS...: etcdctl on NODE as that node's etcd user
    local n=$1
    shift
    e2e_exec "$n" sh -c 'ETCDCTL_USER="monitor-node-$1:$(cat /etc/monitor/etcd-password)" &&
        export ETCDCTL_USER && shift && exec etcdctl --dial-timeout=2s --command-timeout=3s "$@"' sh "$n" "$@"
}
node_rights_ok() {
    local out
    as_node "$W1" get "/monitor/config/$W1" >/dev/null || return 1
    out=$(as_node "$W1" put "/monitor/heartbeat/$W2" forged 2>&1) && return 1
    grep -q "permission denied" <<<"$out" || { printf '%s\n' "$out" | sed 's/^/# /'; return 1; }
    out=$(as_node "$W1" put "/monitor/config/$W1" '{"interval": 1}' 2>&1) && return 1
    grep -q "permission denied" <<<"$out"
}
e2e_check "$W1's etcd user may read its config key, but not write $W2's heartbeat or its own config (permission denied)" \
    node_rights_ok

# The hardened agent still reads /proc/stat, meminfo, diskstats and net/dev: its
# heartbeat (default config: every metric) carries all six figures.
metrics_ok() {
    e2e_etcdctl "$W2" get "/monitor/heartbeat/$W2" --print-value-only | jq -e '
        (.metrics | keys) as $k
        | (["cpu", "memory", "disk read", "disk write", "net in", "net out"] - $k) == []
        and ([.metrics[]] | all(type == "number")) and .memory_total_bytes > 0' >/dev/null
}
# The first round (with rates) comes about a second after the start.
e2e_check "hardened agent reads /proc (stat, meminfo, diskstats, net/dev): $W2's heartbeat has all six metrics" \
    e2e_wait_for 10 metrics_ok

# --- live config --------------------------------------------------------------------
c=$(e2e_cursor "$W1")
e2e_etcdctl "$M" put "/monitor/config/$W1" '{"interval": 2, "metrics": ["cpu","memory"]}' >/dev/null
config_applied() {
    e2e_journal_json "$W1" monitor-agentd "$c" |
        e2e_select '.EVENT == "CONFIG_APPLIED" and (.MESSAGE | test("interval 10s -> 2s"))' >/dev/null
}
if e2e_wait_for 5 config_applied; then
    e2e_ok "etcdctl put /monitor/config/$W1: journalctl -u monitor-agentd on $W1 shows the config applied"
    e2e_journal_json "$W1" monitor-agentd "$c" | e2e_select '.EVENT == "CONFIG_APPLIED"' |
        jq -r '"# " + .MESSAGE'
else
    e2e_diag "$W1" monitor-agentd
    e2e_not_ok "etcdctl put /monitor/config/$W1: journalctl -u monitor-agentd on $W1 shows the config applied"
fi
e2e_check "$W1: STATUS= says interval 2s" \
    e2e_wait_for 5 eval '[[ "$(e2e_unit_prop "$W1" monitor-agentd StatusText)" == *"interval 2s"* ]]'

# Rounds: watch the heartbeat key for 9 s and look at the "ts" of each put.
gaps=$(e2e_exec_t 15 "$W1" timeout 9 etcdctl watch "/monitor/heartbeat/$W1" -w json |
       jq -r '.Events[]?.kv.value | @base64d | fromjson | .ts' |
       awk 'NR > 1 { printf "%.2f ", $1 - prev } { prev = $1 }')
rounds_ok() {
    local g n=0
    for g in $gaps; do
        awk -v g="$g" 'BEGIN { exit !(g >= 1.5 && g <= 2.5) }' || return 1
        n=$((n + 1))
    done
    [ $n -ge 3 ]
}
e2e_check "$W1's heartbeat rounds now come every 2 s (gaps between puts: ${gaps:-none}s)" rounds_ok
e2e_check "$W1's heartbeat carries only the configured metrics [cpu, memory]" \
    eval 'e2e_etcdctl "$W1" get "/monitor/heartbeat/$W1" --print-value-only |
          jq -e "(.metrics | keys) == [\"cpu\", \"memory\"]" >/dev/null'

# --- systemctl reload ---------------------------------------------------------------
pid_before=$(e2e_unit_prop "$W1" monitor-agentd MainPID)
c=$(e2e_cursor "$W1")
printf '# written by tests/e2e\n[Log]\nLevel=debug\n\n[Agent]\nLeaseTTLSec=6\n' |
    e2e_write "$W1" /etc/monitor/monitor.conf.d/20-e2e.conf
if e2e_exec "$W1" systemctl reload monitor-agentd &&
   [ "$(e2e_unit_prop "$W1" monitor-agentd MainPID)" = "$pid_before" ] &&
   [ "$(e2e_unit_prop "$W1" monitor-agentd NRestarts)" = 0 ] &&
   [ "$(e2e_exec "$W1" systemctl is-active monitor-agentd)" = active ]; then
    e2e_ok "$W1: systemctl reload monitor-agentd after editing /etc/monitor: same MainPID $pid_before, no restart"
else
    e2e_diag "$W1" monitor-agentd
    e2e_not_ok "$W1: systemctl reload monitor-agentd after editing /etc/monitor: same MainPID, no restart"
fi
# A broken settings file: ExecReload= checks it first, so the reload fails, the
# journal (and so systemctl status) says why, and the agent keeps running.
printf '[Agent]\nLeaseTTLSec=abc\n' | e2e_write "$W1" /etc/monitor/monitor.conf.d/30-broken.conf
if ! e2e_exec "$W1" systemctl reload monitor-agentd >/dev/null 2>&1 &&
   e2e_exec "$W1" systemctl status monitor-agentd --no-pager -n 20 2>&1 | grep -q 'LeaseTTLSec="abc": expected' &&
   [ "$(e2e_unit_prop "$W1" monitor-agentd MainPID)" = "$pid_before" ] &&
   [ "$(e2e_exec "$W1" systemctl is-active monitor-agentd)" = active ]; then
    e2e_ok "$W1: systemctl reload with a broken drop-in fails, systemctl status names file:line, the agent keeps running"
else
    e2e_diag "$W1" monitor-agentd
    e2e_not_ok "$W1: systemctl reload with a broken drop-in fails, systemctl status names file:line, the agent keeps running"
fi
e2e_exec "$W1" rm -f /etc/monitor/monitor.conf.d/30-broken.conf
debug_rounds() {
    e2e_journal_json "$W1" monitor-agentd "$c" |
        e2e_select '.EVENT == "ROUND" and .PRIORITY == "7"' >/dev/null
}
e2e_check "$W1: new [Log] Level=debug in force (debug ROUND records in the journal)" \
    e2e_wait_for 6 debug_rounds
lease_ttl_6() {
    local lease
    # Not through jq: lease IDs exceed 2^53 and would lose digits as doubles.
    lease=$(e2e_etcdctl "$W1" get "/monitor/heartbeat/$W1" -w json | grep -o '"lease":[0-9]*' |
            cut -d: -f2)
    [ -n "$lease" ] || return 1
    e2e_etcdctl "$W1" lease timetolive "$(printf '%x' "$lease")" | grep -q 'granted with TTL(6s)'
}
e2e_check "$W1: new [Agent] LeaseTTLSec=6 in force (heartbeat lease granted with TTL 6s)" \
    e2e_wait_for 6 lease_ttl_6

# --- systemctl stop: LEFT -----------------------------------------------------------
c=$(e2e_cursor "$M")
t0=$(e2e_now_us)
e2e_exec "$W2" systemctl stop monitor-agentd
if e2e_wait_for 3 e2e_server_saw "$W2" LEFT "$c"; then
    ms=$(e2e_ms_between "$t0" "$(e2e_first_ts "$M" monitor-serverd "$c" ".EVENT == \"LEFT\" and .NODE == \"$W2\"")")
    if [ "$ms" -lt 1000 ]; then
        e2e_ok "systemctl stop monitor-agentd on $W2: $M reports $W2 LEFT ${ms} ms later (< 1 s)"
    else
        e2e_diag "$W2" monitor-agentd
        e2e_not_ok "systemctl stop monitor-agentd on $W2: $M reports $W2 LEFT ${ms} ms later (< 1 s)"
    fi
else
    e2e_diag "$M" monitor-serverd
    e2e_diag "$W2" monitor-agentd
    e2e_not_ok "systemctl stop monitor-agentd on $W2: $M reports $W2 LEFT within 1 s"
fi
state=$(e2e_exec "$W2" systemctl is-active monitor-agentd)
result=$(e2e_unit_prop "$W2" monitor-agentd Result)
e2e_check "$W2: monitor-agentd is $state, not failed (Result=$result)" \
    test "$state" = inactive -a "$result" = success

# --- watchdog -----------------------------------------------------------------------
c=$(e2e_cursor "$M")
e2e_exec "$W2" systemctl start monitor-agentd
e2e_check "$W2: systemctl start monitor-agentd brings it back ALIVE on $M" \
    e2e_wait_for 10 e2e_server_saw "$W2" ALIVE "$c"
cm=$(e2e_cursor "$M")
cw=$(e2e_cursor "$W2")
restarts_before=$(e2e_unit_prop "$W2" monitor-agentd NRestarts)
watchdog_sec=$(e2e_unit_prop "$W2" monitor-agentd WatchdogUSec | awk '{
    t = 0
    for (i = 1; i <= NF; i++) { v = $i
        if (v ~ /min$/) { sub(/min$/, "", v); t += v * 60 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); t += v / 1000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); t += v } }
    printf "%d", (t > 0 ? t + 0.999 : 30) }')
t0=$(e2e_now_us)
e2e_exec "$W2" systemctl kill --signal=SIGSTOP monitor-agentd
e2e_note "SIGSTOP sent to $W2's agent; waiting for the watchdog (WatchdogSec=${watchdog_sec}s)"
restarted() { [ "$(e2e_unit_prop "$W2" monitor-agentd NRestarts)" -gt "$restarts_before" ]; }
if e2e_wait_for $((watchdog_sec + 20)) restarted; then
    ms=$(e2e_ms_between "$t0" "$(e2e_now_us)")
    e2e_ok "hung agent on $W2 (SIGSTOP) restarted by the watchdog: NRestarts $restarts_before -> $(e2e_unit_prop "$W2" monitor-agentd NRestarts) after $(e2e_secs "$ms") s"
else
    e2e_diag "$W2" monitor-agentd
    e2e_not_ok "hung agent on $W2 (SIGSTOP) restarted by the watchdog (NRestarts goes up)"
fi
watchdog_logged() {
    local log
    log=$(e2e_journal_text "$W2" monitor-agentd "$cw")
    grep -q "Watchdog timeout" <<<"$log" && grep -q "Failed with result 'watchdog'" <<<"$log"
}
e2e_check "$W2's journal: \"Watchdog timeout\", \"Failed with result 'watchdog'\"" watchdog_logged
# SIGABRT (systemd's WatchdogSignal) must end the hung daemon at once; if it survives
# it (e.g. the Swift runtime's backtracer catching SIGABRT), it runs on for
# TimeoutAbortSec until SIGKILL, and re-registers meanwhile.
e2e_check "$W2: the watchdog's SIGABRT ends the hung agent at once (no SIGKILL after TimeoutAbortSec)" \
    eval '! e2e_journal_text "$W2" monitor-agentd "$cw" |
          grep "stop-watchdog.* timed out" >/dev/null'
e2e_check "$M reports the hung $W2 DEAD (its lease expired)" e2e_server_saw "$W2" DEAD "$cm"
back_after_restart() {
    local started last ts
    # 39f53479...: systemd's "Started <unit>" message.
    started=$(e2e_first_ts "$W2" monitor-agentd "$cw" \
              '.MESSAGE_ID == "39f53479d3a045ac8e11786248231fbf"') || return 1
    last=$(e2e_journal_json "$M" monitor-serverd "$cm" |
           e2e_select ".NODE == \"$W2\" and (.EVENT == \"ALIVE\" or .EVENT == \"DEAD\"
                       or .EVENT == \"LEFT\" or .EVENT == \"STALE\")" | tail -n 1 | jq -r .EVENT)
    [ "$last" = ALIVE ] || return 1
    # ...and the heartbeat it sees is the restarted agent's.
    ts=$(e2e_etcdctl "$W2" get "/monitor/heartbeat/$W2" --print-value-only |
         jq -r '.ts * 1000000 | floor')
    [ -n "$ts" ] && [ "$ts" -gt "$started" ]
}
e2e_check "$M reports $W2 ALIVE again after the restart" e2e_wait_for 15 back_after_restart

# --- network cut --------------------------------------------------------------------
ttl=6
c=$(e2e_cursor "$M")
t0=$(e2e_now_us)
e2e_link "$W1" down
e2e_note "$W1's link is down (ip link set v-$W1 down in the hub namespace)"
if e2e_wait_for $((ttl + 10)) e2e_server_saw "$W1" DEAD "$c"; then
    ms=$(e2e_ms_between "$t0" "$(e2e_first_ts "$M" monitor-serverd "$c" ".EVENT == \"DEAD\" and .NODE == \"$W1\"")")
    if [ "$ms" -ge $((ttl * 1000 / 2)) ] && [ "$ms" -le $(((ttl + 4) * 1000)) ]; then
        e2e_ok "$W1 cut off the network: $M reports it DEAD after $(e2e_secs "$ms") s (lease TTL ${ttl}s)"
    else
        e2e_not_ok "$W1 cut off the network: $M reports it DEAD after $(e2e_secs "$ms") s, expected about the TTL (${ttl}s)"
    fi
else
    e2e_diag "$M" monitor-serverd
    e2e_not_ok "$W1 cut off the network: $M reports it DEAD after the TTL"
fi
c=$(e2e_cursor "$M")
t0=$(e2e_now_us)
e2e_link "$W1" up
if e2e_wait_for 30 e2e_server_saw "$W1" ALIVE "$c"; then
    ms=$(e2e_ms_between "$t0" "$(e2e_first_ts "$M" monitor-serverd "$c" ".EVENT == \"ALIVE\" and .NODE == \"$W1\"")")
    e2e_ok "link restored: $M reports $W1 ALIVE again after $(e2e_secs "$ms") s"
else
    e2e_diag "$W1" monitor-agentd
    e2e_not_ok "link restored: $M reports $W1 ALIVE again"
fi

# --- two servers: an elected leader, a standby that takes over ------------------------
# worker1 runs a second monitor-serverd against master's etcd (its settings already
# point there). master's server leads; SIGKILL it and worker1's leads once master's
# election lease (ElectionTTLSec, 10 s) runs out; systemd restarts master's, which
# then follows; a clean stop of worker1's hands the lead back at once.
server_event() { # NODE EVENT [CURSOR]
    e2e_journal_json "$1" monitor-serverd "${3:-}" | e2e_select ".EVENT == \"$2\"" >/dev/null
}
cw1=$(e2e_cursor "$W1")
e2e_exec "$W1" systemctl start monitor-serverd.service
e2e_check "$W1: a second monitor-serverd starts as a standby (journal: \"standby: the leader is $M\")" \
    e2e_wait_for 10 eval 'e2e_journal_text "$W1" monitor-serverd "$cw1" |
                          grep "standby: the leader is $M" >/dev/null'
standby_status() {
    e2e_exec "$W1" systemctl status monitor-serverd --no-pager -n 0 | grep -q "Status: \"standby, leader is $M"
}
e2e_check "systemctl status monitor-serverd on $W1: STATUS=\"standby, leader is $M ...\"" e2e_wait_for 10 standby_status
cm=$(e2e_cursor "$M")
cw1=$(e2e_cursor "$W1")
t0=$(e2e_now_us)
e2e_exec "$M" systemctl kill -s KILL monitor-serverd.service
if e2e_wait_for 16 server_event "$W1" LEADING "$cw1"; then
    ms=$(e2e_ms_between "$t0" "$(e2e_first_ts "$W1" monitor-serverd "$cw1" '.EVENT == "LEADING"')")
    e2e_ok "systemctl kill -s KILL monitor-serverd on $M: $W1's server leads after $(e2e_secs "$ms") s (election TTL 10 s)"
else
    e2e_diag "$W1" monitor-serverd
    e2e_not_ok "systemctl kill -s KILL monitor-serverd on $M: $W1's server leads within the election TTL"
fi
e2e_check "$M's restarted server follows: its journal shows \"standby: the leader is $W1\"" \
    e2e_wait_for 15 eval 'e2e_journal_text "$M" monitor-serverd "$cm" |
                          grep "standby: the leader is $W1" >/dev/null'
ctl_leader=$(e2e_exec "$M" monitorctl status -o json 2>/dev/null | jq -r '.leader.server // empty')
e2e_check "monitorctl status on $M names the leader: $W1 (got '${ctl_leader}')" eval '[ "$ctl_leader" = "$W1" ]'
cm=$(e2e_cursor "$M")
t0=$(e2e_now_us)
e2e_exec "$W1" systemctl stop monitor-serverd.service
if e2e_wait_for 5 server_event "$M" LEADING "$cm" &&
   ms=$(e2e_ms_between "$t0" "$(e2e_first_ts "$M" monitor-serverd "$cm" '.EVENT == "LEADING"')") &&
   [ "$ms" -lt 1000 ]; then
    e2e_ok "systemctl stop monitor-serverd on $W1 (it resigns): $M's server leads again after $(e2e_secs "$ms") s"
else
    e2e_diag "$M" monitor-serverd
    e2e_diag "$W1" monitor-serverd
    e2e_not_ok "systemctl stop monitor-serverd on $W1: $M's server leads again at once (under 1 s; took ${ms:-?} ms)"
fi

# --- journalctl -x: the message catalog ---------------------------------------------
# The HTTP listener inside the hardened unit (ProcSubset=pid, DynamicUser, the
# syscall filter): /healthz and /metrics on the default 127.0.0.1:9732, read with
# bash's /dev/tcp (no curl needed on the node).
http_get() { # http_get NODE PATH: the whole answer, headers included
    e2e_exec "$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/9732 && printf 'GET $2 HTTP/1.0\r\n\r\n' >&3 && cat <&3" 2>/dev/null
}
listener_ok() {
    local health metrics
    health=$(http_get "$M" /healthz) && metrics=$(http_get "$M" /metrics) || return 1
    printf '%s\n' "$metrics" >"$E2E_TMP/metrics.txt"
    grep -q '^HTTP/1.[01] 200' <<<"$health" && grep -q "^monitor_node_up{node=\"$W1\"} 1" <<<"$metrics" &&
        grep -q '^process_start_time_seconds ' <<<"$metrics" && grep -q '^monitor_server_leader 1' <<<"$metrics"
}
if e2e_wait_for 10 listener_ok; then
    e2e_ok "$M: monitor-serverd under its hardened unit serves /healthz (200) and /metrics ($W1 up, process metrics) on 127.0.0.1:9732"
else
    sed 's/^/# /' "$E2E_TMP/metrics.txt" 2>/dev/null | head -20
    e2e_not_ok "$M: monitor-serverd under its hardened unit serves /healthz (200) and /metrics on 127.0.0.1:9732"
fi

# The DEAD record of the network cut, explained by monitor.catalog (installed by make
# install, which ran journalctl --update-catalog), with @NODE@ filled in.
catalog_shown() {
    local out
    out=$(e2e_exec "$M" journalctl -x -u monitor-serverd --no-pager -o short)
    printf '%s\n' "$out" >"$E2E_TMP/journal-x.txt"
    grep -q "Subject: Node $W1 is DEAD (lease expired)" <<<"$out" &&
        grep -q "etcd confirms" <<<"$out" && grep -q "Defined-By: monitor" <<<"$out"
}
if catalog_shown; then
    e2e_ok "journalctl -x -u monitor-serverd on $M: $W1's DEAD record shows its catalog entry (subject, what to do)"
    grep -m 1 -A 4 "Subject: Node $W1 is DEAD" "$E2E_TMP/journal-x.txt" | sed 's/^/# /'
else
    tail -n 20 "$E2E_TMP/journal-x.txt" | sed 's/^/# /'
    e2e_not_ok "journalctl -x -u monitor-serverd on $M: $W1's DEAD record shows its catalog entry"
fi

# --- monitorctl ---------------------------------------------------------------------
if e2e_exec "$M" monitorctl status --help >/dev/null 2>&1; then
    ctl_out=$(e2e_exec "$M" monitorctl status 2>&1)
    rc=$?
    printf '%s\n' "$ctl_out" | sed 's/^/# /'
    e2e_check "monitorctl status on $M: $W1 and $W2 alive (exit $rc)" eval '[ $rc -eq 0 ] &&
        grep -Eq "^$W1 +alive" <<<"$ctl_out" && grep -Eq "^$W2 +alive" <<<"$ctl_out"'
else
    e2e_skip "monitorctl status (not available)"
fi

# --- secrets ----------------------------------------------------------------------
# No etcd password of monitor's in any journal of any node (every unit, systemd's own
# lines included) nor in any process's arguments.
secrets_absent() {
    local n secret
    for n in "$M" "$W1" "$W2"; do
        e2e_exec "$n" journalctl -o json --no-pager >"$E2E_TMP/journal-all-$n.json" || return 1
        e2e_exec "$n" ps -eo args >>"$E2E_TMP/journal-all-$n.json" || return 1
        for secret in "${E2E_SECRETS[@]}"; do
            [ -n "$secret" ] || return 1
            if grep -qF -- "$secret" "$E2E_TMP/journal-all-$n.json"; then
                echo "# a password of monitor's is in $n's journal or process list"
                return 1
            fi
        done
    done
}
e2e_check "no password of monitor's (${#E2E_SECRETS[@]} checked) in any node's journal or process arguments" secrets_absent

# --- make uninstall -----------------------------------------------------------------
uninstall_ok() {
    local n=$1 c out
    c=$(e2e_cursor "$n")
    e2e_exec "$n" make -s -C "$E2E_REPO" uninstall PREFIX=/usr/local >"$E2E_TMP/uninstall-$n.log" 2>&1 ||
        return 1
    e2e_exec "$n" sh -c '! ls /usr/local/bin/monitor-agentd /usr/local/bin/monitor-serverd \
        /usr/local/bin/monitorctl '"$UNITDIR"'/monitor-agentd.service \
        '"$UNITDIR"'/monitor-serverd.service /usr/local/lib/systemd/catalog/monitor.catalog \
        /usr/local/share/man/man1/monitorctl.1 /usr/local/share/man/man5/monitor.conf.5 \
        /usr/local/share/bash-completion/completions/monitorctl 2>/dev/null' || return 1
    ! e2e_exec "$n" journalctl --list-catalog | grep ' monitor: ' >/dev/null || return 1
    out=$(e2e_exec "$n" systemctl daemon-reload 2>&1) || return 1
    [ -z "$out" ] || return 1
    [ "$(e2e_unit_prop "$n" monitor-agentd LoadState)" = not-found ] || return 1
    [ "$(e2e_unit_prop "$n" monitor-serverd LoadState)" = not-found ] || return 1
    # Nothing from systemd at warning or worse since the uninstall began.
    # Left out: "Got notification message from PID N, but reception is disabled":
    # a datagram the stopping agent sent (STOPPING=1, STATUS=) that systemd read
    # only after the package's unit was gone; harmless, and seen at random.
    ! e2e_exec "$n" journalctl -o json --no-pager --after-cursor="$c" |
        e2e_select '.SYSLOG_IDENTIFIER == "systemd" and (.PRIORITY | tonumber) <= 4
                    and (.MESSAGE | contains("but reception is disabled") | not)' |
        jq -r '"# [warning] " + .MESSAGE'
}
# worker2: the packages purged, the settings file (a conffile) with them.
purge_ok() {
    local n=$1 c out
    c=$(e2e_cursor "$n")
    e2e_exec "$n" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q monitor-agent monitor-common \
        >"$E2E_TMP/uninstall-$n.log" 2>&1 || return 1
    e2e_exec "$n" sh -c '! ls /usr/bin/monitor-agentd /lib/systemd/system/monitor-agentd.service \
        /etc/monitor/monitor.conf 2>/dev/null' || return 1
    out=$(e2e_exec "$n" systemctl daemon-reload 2>&1) || return 1
    [ -z "$out" ] || return 1
    [ "$(e2e_unit_prop "$n" monitor-agentd LoadState)" = not-found ] || return 1
    # Left out: "Got notification message from PID N, but reception is disabled":
    # a datagram the stopping agent sent (STOPPING=1, STATUS=) that systemd read
    # only after the package's unit was gone; harmless, and seen at random.
    ! e2e_exec "$n" journalctl -o json --no-pager --after-cursor="$c" |
        e2e_select '.SYSLOG_IDENTIFIER == "systemd" and (.PRIORITY | tonumber) <= 4
                    and (.MESSAGE | contains("but reception is disabled") | not)' |
        jq -r '"# [warning] " + .MESSAGE'
}
# The drop-in this harness wrote is not the package's: purge leaves it (and so /etc/monitor).
e2e_exec "$W2" rm -f /etc/monitor/monitor.conf.d/10-cluster.conf
for n in "$M" "$W1" "$W2"; do e2e_drop_credentials "$n"; done
if purge_ok "$W2"; then
    e2e_ok "$W2: apt-get purge monitor-agent monitor-common removes binary, unit and /etc/monitor/monitor.conf; daemon-reload is clean"
else
    sed "s/^/# [$W2] /" "$E2E_TMP/uninstall-$W2.log"
    e2e_not_ok "$W2: apt-get purge monitor-agent monitor-common removes binary, unit and /etc/monitor/monitor.conf"
fi
for n in "$W1" "$M"; do
    if uninstall_ok "$n"; then
        e2e_ok "$n: make uninstall removes units, binaries, man pages, completions and the catalog; systemctl daemon-reload is clean"
    else
        sed "s/^/# [$n] /" "$E2E_TMP/uninstall-$n.log"
        e2e_not_ok "$n: make uninstall removes units and binaries; systemctl daemon-reload is clean"
    fi
done

# --- teardown -----------------------------------------------------------------------
e2e_teardown
HOST_AFTER=$(e2e_host_fingerprint)
if [ "$HOST_BEFORE" = "$HOST_AFTER" ]; then
    e2e_ok "teardown complete; the host's /etc, /usr/local, /dev, cgroups and mounts are as before"
else
    diff <(echo "$HOST_BEFORE") <(echo "$HOST_AFTER") | sed 's/^/# /'
    e2e_not_ok "teardown complete; the host's /etc, /usr/local, /dev, cgroups and mounts are as before"
fi
e2e_note "total $((SECONDS - START)) s"
e2e_summary
