# shellcheck shell=bash
# Library of the end-to-end tests: sandboxed "nodes" that run a real systemd as PID 1
# over a copy-on-write view of the host's root, each in its own network namespace
# with a veth into a bridge, plus the helpers run.sh and demo.sh share.
# Sourced, never run. Needs root. Nothing it starts outlives e2e_teardown, which the
# caller installs as an EXIT trap (e2e_init does it).
#
# Layout of one run (E2E_ID = mon-e2e-<pid of the harness>):
#   network namespaces  $E2E_ID-hub (bridge br0), $E2E_ID-<node> (eth0 = veth into br0)
#   cgroup              /sys/fs/cgroup/unified/$E2E_ID-<node> (the node's cgroup root)
#   temp dir            /tmp/$E2E_ID.XXXXXX/<node>/{upper,work,root,boot.log}
# The host's /etc, /usr and units are never written: every change a node makes lands
# in its overlay's upper directory, deleted at teardown.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO=${E2E_REPO:-$(cd "$E2E_DIR/../.." && pwd)}   # the checkout to install from
export E2E_REPO   # boot-node.sh binds it into every node
E2E_ID=mon-e2e-$$
E2E_SUBNET=10.77.0
E2E_TMP=
E2E_NODES=()            # booted (or half-booted) nodes, in boot order
declare -A E2E_IP=()    # node -> address on the bridge
E2E_BG_PIDS=()          # host processes the harness started besides the nodes
E2E_WATCHER=            # pid of the watcher that cleans up if the harness is SIGKILLed
E2E_NETNS_CREATED=0     # whether /run/netns was created by us (removed if empty)
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-60}

E2E_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Units a sandboxed node must not run: they would touch the host's kernel state
# (sysctls, binfmt, modules, udev, clock) or are useless in a sandbox.
E2E_MASKED_UNITS=(
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
    systemd-udev-trigger.service systemd-udev-settle.service
    systemd-sysctl.service systemd-binfmt.service systemd-modules-load.service
    proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount
    kmod-static-nodes.service systemd-random-seed.service systemd-pstore.service
    systemd-timesyncd.service timers.target
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
    sys-fs-fuse-connections.mount
)

# ---------------------------------------------------------------------------
# Output

e2e_note() { printf '# %s\n' "$*"; }
e2e_die() { printf 'Bail out! %s\n' "$*"; exit 1; }

# Prints a command's output indented, for diagnostics and the demo.
e2e_indent() { sed 's/^/    /'; }

# ---------------------------------------------------------------------------
# One run at a time

# Every run removes the nodes of runs whose harness is gone (e2e_cleanup_stale), and
# two runs on one machine share the bridge subnet: concurrent runs would destroy each
# other. Callers hold this lock (`flock /tmp/monitor-e2e.lock make e2e`); scripts
# that are run directly take it through e2e_lock.
E2E_LOCK=${E2E_LOCK:-/tmp/monitor-e2e.lock}

# e2e_lock_held_by_ancestor: whether a process above this one (a caller's
# `flock $E2E_LOCK ...`) holds the lock. Taking it again from here would wait for
# that caller forever: flock(2) locks belong to an open file, not to a process tree.
e2e_lock_held_by_ancestor() {
    local inode holders p
    inode=$(stat -c %i "$E2E_LOCK" 2>/dev/null) || return 1
    # /proc/locks: "1: FLOCK  ADVISORY  WRITE <pid> <maj>:<min>:<inode> 0 EOF";
    # waiters have "->" in the second field and are not holders.
    holders=$(awk -v ino="$inode" '$2 == "FLOCK" { n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks)
    [ -n "$holders" ] || return 1
    p=$$
    while [ -n "$p" ] && [ "$p" -gt 1 ]; do
        grep -qx "$p" <<<"$holders" && return 0
        p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    done
    return 1
}

# e2e_lock SCRIPT ARGS...: re-executes SCRIPT under `flock $E2E_LOCK` unless this
# process tree already holds the lock; says whom it waits for.
e2e_lock() {
    local script=$1
    shift
    e2e_lock_held_by_ancestor && return 0
    if ! flock -n "$E2E_LOCK" true; then
        e2e_note "waiting for $E2E_LOCK: another end-to-end run is in progress"
    fi
    exec flock "$E2E_LOCK" bash "$script" "$@"
}

# ---------------------------------------------------------------------------
# Set-up and teardown

# e2e_require_root: exits 0 with a skip message when not root.
e2e_require_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: the end-to-end tests boot real systemd in namespaces and need root" \
             "(run: sudo make check); skipped, not failed."
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
    fi
}

# e2e_require_tools: every tool the harness needs, or a clear failure.
e2e_require_tools() {
    local missing=() t
    for t in ip nsenter unshare setsid chroot jq timeout make etcd etcdctl \
             systemd-analyze mount /lib/systemd/systemd; do
        command -v "$t" >/dev/null 2>&1 || [ -x "$t" ] || missing+=("$t")
    done
    grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || missing+=(overlayfs)
    [ -d /sys/fs/cgroup/unified ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
        missing+=("cgroup2 (/sys/fs/cgroup/unified)")
    [ ${#missing[@]} -eq 0 ] || e2e_die "missing: ${missing[*]}"
}

# The cgroup2 directory under which nodes get their cgroup.
e2e_cgroup2_root() {
    if [ -d /sys/fs/cgroup/unified ]; then echo /sys/fs/cgroup/unified
    else echo /sys/fs/cgroup; fi
}

# e2e_init: temp dir, traps, the hub namespace with its bridge.
e2e_init() {
    e2e_cleanup_stale
    E2E_TMP=$(mktemp -d "/tmp/$E2E_ID.XXXXXX")
    trap e2e_teardown EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    # If the harness itself is killed with SIGKILL (no trap runs), this watcher tears
    # its nodes down within a second or two; a normal teardown stops it first.
    [ -d /run/netns ] || E2E_NETNS_CREATED=1
    (
        trap '' INT TERM HUP
        while kill -0 $$ 2>/dev/null; do sleep 1; done
        e2e_cleanup_stale
        e2e_remove_run_netns
    ) </dev/null >/dev/null 2>&1 &
    E2E_WATCHER=$!
    ip netns add "$E2E_ID-hub"
    ip -n "$E2E_ID-hub" link set lo up
    ip -n "$E2E_ID-hub" link add br0 type bridge stp_state 0 forward_delay 0
    ip -n "$E2E_ID-hub" link set br0 up
}

# Leftovers of earlier runs whose harness process is gone (killed with SIGKILL, so its
# trap never ran): their nodes, namespaces and cgroups. Only names with our prefix.
e2e_cleanup_stale() {
    local ns pid d cg
    cg=$(e2e_cgroup2_root)
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^mon-e2e-[0-9]*-' || true); do
        pid=${ns#mon-e2e-}; pid=${pid%%-*}
        kill -0 "$pid" 2>/dev/null && continue
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    for d in "$cg"/mon-e2e-*-*; do
        [ -d "$d" ] || continue
        pid=${d##*/mon-e2e-}; pid=${pid%%-*}
        kill -0 "$pid" 2>/dev/null && continue
        e2e_kill_cgroup "$d"
        e2e_remove_cgroup "$d"
    done
    for d in /tmp/mon-e2e-*.*; do
        [ -d "$d" ] || continue
        pid=${d##*/mon-e2e-}; pid=${pid%%.*}
        kill -0 "$pid" 2>/dev/null && continue
        grep -q " $d/" /proc/self/mountinfo 2>/dev/null && continue
        rm -rf --one-file-system "$d"
    done
}

# Kills every process in a cgroup subtree (the kernel's cgroup.kill when available).
e2e_kill_cgroup() {
    local d=$1
    [ -d "$d" ] || return 0
    if [ -e "$d/cgroup.kill" ]; then
        echo 1 >"$d/cgroup.kill" 2>/dev/null || true
    else
        find "$d" -name cgroup.procs -print0 | xargs -0 -r cat 2>/dev/null |
            xargs -r kill -KILL 2>/dev/null
    fi
}

# /run/netns, when `ip netns add` created it for us and it is empty again.
e2e_remove_run_netns() {
    if [ "$E2E_NETNS_CREATED" = 1 ] && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
        umount /run/netns 2>/dev/null
        rmdir /run/netns 2>/dev/null
    fi
    return 0
}

# Removes a cgroup subtree once its processes are gone (they may take a moment to
# exit after SIGKILL); complains if it cannot.
e2e_remove_cgroup() {
    local d=$1 i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        [ -d "$d" ] || return 0
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -d "$d" ] && sleep 0.3
    done
    [ -d "$d" ] || return 0
    echo "# could not remove cgroup $d" >&2
    return 1
}

# e2e_teardown: stops everything the harness started, in reverse order. Safe to call
# twice and after any partial set-up.
e2e_teardown() {
    local rc=$? node pid i cg deadline
    trap - EXIT INT TERM HUP
    set +e
    [ -n "${E2E_TMP:-}" ] || return "$rc"
    # SIGKILL: the watcher ignores INT, TERM and HUP.
    [ -n "$E2E_WATCHER" ] && kill -KILL "$E2E_WATCHER" 2>/dev/null && wait "$E2E_WATCHER" 2>/dev/null
    E2E_WATCHER=
    for pid in "${E2E_BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    # Orderly shutdown of every node first (in parallel), then a hard deadline.
    for node in "${E2E_NODES[@]}"; do
        pid=$(e2e_node_pid "$node" 2>/dev/null) || continue
        timeout 10 nsenter -t "$pid" -a -r -w systemctl poweroff --no-block \
            >/dev/null 2>&1 &
        i=$!
        E2E_BG_PIDS+=("$i")
    done
    for pid in "${E2E_BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    deadline=$((SECONDS + 20))
    for node in "${E2E_NODES[@]}"; do
        pid=$(cat "$E2E_TMP/$node/systemd.pid" 2>/dev/null) || continue
        while [ -d "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
        if [ -d "/proc/$pid" ]; then
            echo "# teardown: $node did not power off in time, killing it" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    cg=$(e2e_cgroup2_root)
    for node in "${E2E_NODES[@]}"; do
        pid=$(cat "$E2E_TMP/$node/stage1.pid" 2>/dev/null) && kill -KILL "$pid" 2>/dev/null
        e2e_kill_cgroup "$cg/$E2E_ID-$node"
    done
    sleep 0.2
    for node in "${E2E_NODES[@]}"; do
        e2e_remove_cgroup "$cg/$E2E_ID-$node"
        ip netns del "$E2E_ID-$node" 2>/dev/null
    done
    ip netns del "$E2E_ID-hub" 2>/dev/null
    e2e_remove_run_netns
    # The overlays were mounted only in the nodes' mount namespaces, gone with them.
    if grep -q " $E2E_TMP/" /proc/self/mountinfo; then
        echo "# teardown: $E2E_TMP still has mounts; left in place" >&2
    else
        rm -rf --one-file-system "$E2E_TMP"
    fi
    E2E_TMP=
    return "$rc"
}

# ---------------------------------------------------------------------------
# Nodes

# e2e_plan NODE...: the cluster's nodes and their addresses ($E2E_SUBNET.10, .11, ...),
# known before any boots so each node's /etc/hosts names them all.
e2e_plan() {
    local i=10 node
    for node in "$@"; do E2E_IP[$node]=$E2E_SUBNET.$i; i=$((i + 1)); done
}

# e2e_node_boot NODE: creates the node's network namespace (its planned address on
# eth0, a veth into the hub's bridge) and boots its systemd in the background;
# e2e_node_wait waits for it.
e2e_node_boot() {
    local node=$1 ip d cg n
    ip=${E2E_IP[$node]:?node $node is not in e2e_plan}
    d=$E2E_TMP/$node
    E2E_NODES+=("$node")

    ip netns add "$E2E_ID-$node"
    ip -n "$E2E_ID-hub" link add "v-$node" type veth peer name eth0 netns "$E2E_ID-$node"
    ip -n "$E2E_ID-hub" link set "v-$node" master br0 up
    ip -n "$E2E_ID-$node" link set lo up
    ip -n "$E2E_ID-$node" addr add "$ip/24" dev eth0
    ip -n "$E2E_ID-$node" link set eth0 up

    mkdir -p "$d/upper/etc/systemd/system" "$d/upper/etc/systemd/journald.conf.d" \
             "$d/work" "$d/root"
    echo "$node" >"$d/upper/etc/hostname"
    # A machine id of its own: its own journal, no copy-up of the host's journal files.
    tr -d '-' </proc/sys/kernel/random/uuid >"$d/upper/etc/machine-id"
    {
        echo "127.0.0.1 localhost"
        echo "::1 localhost ip6-localhost ip6-loopback"
        for n in "${!E2E_IP[@]}"; do echo "${E2E_IP[$n]} $n"; done
    } >"$d/upper/etc/hosts"
    printf '[Journal]\nStorage=volatile\nReadKMsg=no\nRuntimeMaxUse=32M\n' \
        >"$d/upper/etc/systemd/journald.conf.d/e2e.conf"
    for n in "${E2E_MASKED_UNITS[@]}"; do
        ln -sf /dev/null "$d/upper/etc/systemd/system/$n"
    done

    cg=$(e2e_cgroup2_root)/$E2E_ID-$node
    mkdir -p "$cg"
    setsid /bin/bash "$E2E_DIR/boot-node.sh" stage1 "$d" "$E2E_ID-$node" "$E2E_ID-$node" \
        >"$d/boot.log" 2>&1 </dev/null &
}

# e2e_node_pid NODE: host PID of the node's systemd (PID 1 of its PID namespace).
e2e_node_pid() {
    local d=$E2E_TMP/$1 s p
    if [ -s "$d/systemd.pid" ]; then
        p=$(cat "$d/systemd.pid")
        [ -d "/proc/$p" ] && { echo "$p"; return 0; }
        return 1
    fi
    [ -s "$d/stage1.pid" ] || return 1
    s=$(cat "$d/stage1.pid")
    p=$(awk '{print $1}' "/proc/$s/task/$s/children" 2>/dev/null)
    [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] || return 1
    echo "$p" >"$d/systemd.pid"
    echo "$p"
}

# e2e_node_wait NODE [TIMEOUT]: waits until the node's systemd has booted.
e2e_node_wait() {
    local node=$1 t=${2:-60} deadline state
    deadline=$((SECONDS + t))
    until e2e_node_pid "$node" >/dev/null; do
        if [ $SECONDS -ge $deadline ] || { [ -s "$E2E_TMP/$node/stage1.pid" ] &&
               ! [ -d "/proc/$(cat "$E2E_TMP/$node/stage1.pid")" ]; }; then
            e2e_note "$node: systemd did not start:"
            e2e_indent <"$E2E_TMP/$node/boot.log"
            return 1
        fi
        sleep 0.1
    done
    # Until systemd listens on its private socket, systemctl fails at once.
    state=
    while [ -z "$state" ] && [ $SECONDS -lt $deadline ]; do
        state=$(e2e_exec_t $((deadline - SECONDS > 1 ? deadline - SECONDS : 1)) "$node" \
                systemctl is-system-running --wait 2>/dev/null)
        [ -n "$state" ] || sleep 0.2
    done
    case $state in
        running) return 0 ;;
        degraded)
            e2e_note "$node: boot degraded; failed units:"
            e2e_exec "$node" systemctl --failed --no-legend | e2e_indent
            return 0 ;;
        *)  e2e_note "$node: boot did not finish (state '$state')"
            e2e_indent <"$E2E_TMP/$node/boot.log" | tail -30
            return 1 ;;
    esac
}

# e2e_exec NODE CMD...: runs CMD inside the node (its namespaces, root and cwd) with
# a clean environment, bounded by E2E_CMD_TIMEOUT seconds.
e2e_exec() { e2e_exec_t "$E2E_CMD_TIMEOUT" "$@"; }

# e2e_exec_t SECONDS NODE CMD...
e2e_exec_t() {
    local t=$1 node=$2 pid
    shift 2
    pid=$(e2e_node_pid "$node") || { echo "e2e_exec: node $node is not running" >&2; return 125; }
    timeout -k 5 $((t + 5)) nsenter -t "$pid" -a -r -w \
        /usr/bin/env -i PATH="$E2E_PATH" LANG=C.UTF-8 HOME=/root TERM=dumb \
        SYSTEMD_PAGER= SYSTEMD_COLORS=0 SYSTEMD_URLIFY=0 COLUMNS=160 "${E2E_ETCDCTL_ENV[@]}" \
        /usr/bin/timeout -k 2 "$t" "$@"
}

# e2e_write NODE PATH [MODE]: writes stdin to PATH inside the node (through its
# overlay: the upper directory must not be written while mounted). Created 0600
# and then given MODE, so a secret is never readable by others on the way.
e2e_write() {
    # shellcheck disable=SC2016 # expanded by the node's sh
    e2e_exec "$1" /bin/sh -c 'mkdir -p "$(dirname "$1")" && (umask 077 && cat >"$1") && chmod "$2" "$1"' \
        sh "$2" "${3:-0644}"
}

# e2e_sh NODE 'shell code': the same through sh -c.
e2e_sh() { local node=$1; shift; e2e_exec "$node" /bin/sh -c "$*"; }

# ---------------------------------------------------------------------------
# Network

# e2e_link NODE up|down: the node's cable (its veth end in the hub).
e2e_link() { ip -n "$E2E_ID-hub" link set "v-$1" "$2"; }

# ---------------------------------------------------------------------------
# Waiting and checks

# e2e_wait_for SECONDS CMD...: polls CMD (every 0.25 s) until it succeeds; fails after
# SECONDS.
e2e_wait_for() {
    local t=$1 deadline
    shift
    deadline=$(( $(date +%s%N) / 1000000 + t * 1000 ))
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
        sleep 0.25
    done
}

E2E_PASSED=0
E2E_FAILED=0
E2E_SKIPPED=0
E2E_FAILURES=()

e2e_ok() { E2E_PASSED=$((E2E_PASSED + 1)); echo "ok - $*"; }
e2e_not_ok() { E2E_FAILED=$((E2E_FAILED + 1)); E2E_FAILURES+=("$*"); echo "not ok - $*"; }
e2e_skip() { E2E_SKIPPED=$((E2E_SKIPPED + 1)); echo "ok - $* # SKIP"; }

# e2e_check DESCRIPTION CMD...: one check line from CMD's exit status.
e2e_check() {
    local desc=$1
    shift
    if "$@"; then e2e_ok "$desc"; else e2e_not_ok "$desc"; fi
}

e2e_summary() {
    local line="$E2E_PASSED passed, $E2E_FAILED failed"
    [ "$E2E_SKIPPED" -gt 0 ] && line+=", $E2E_SKIPPED skipped"
    echo "$line"
    [ "$E2E_FAILED" -eq 0 ]
}

# ---------------------------------------------------------------------------
# The monitor cluster: master (etcd + monitor-serverd), worker1 and worker2
# (monitor-agentd), each installed with `make install` inside its node.

E2E_MASTER=master
E2E_WORKERS=(worker1 worker2)

# The release binaries `make install` copies; built once on the host.
e2e_binaries_present() {
    local b
    for b in monitor-agentd monitor-serverd monitorctl; do
        [ -x "$E2E_REPO/.build/release/$b" ] || return 1
    done
}

e2e_etcd_url() { echo "https://${E2E_IP[$E2E_MASTER]}:2379"; }

# etcdctl's settings inside the nodes (e2e_exec passes them): master's etcd, its CA,
# the client certificate, and from `auth enable` on etcd's root user. The nodes'
# copies live in /root/e2e-etcd; a throwaway password, made per run.
E2E_ETCDCTL_ENV=()
E2E_ETCDCTL_DIR=/root/e2e-etcd

# e2e_etcdctl NODE ARGS...: etcdctl on NODE against the master's etcd, over the bridge.
e2e_etcdctl() {
    local node=$1
    shift
    e2e_exec "$node" etcdctl --dial-timeout=2s --command-timeout=5s "$@"
}
# e2e_boot_cluster: the three nodes, booted in parallel.
e2e_boot_cluster() {
    local n
    e2e_plan "$E2E_MASTER" "${E2E_WORKERS[@]}"
    for n in "$E2E_MASTER" "${E2E_WORKERS[@]}"; do e2e_node_boot "$n"; done
    for n in "$E2E_MASTER" "${E2E_WORKERS[@]}"; do e2e_node_wait "$n" 60 || return 1; done
}

# e2e_start_etcd: Debian's etcd-server on master (apt-get install is a no-op there:
# the nodes share the host's packages), as production runs it: listening on its
# bridge address with TLS, client certificates required, authentication on. The
# CA, etcd's certificate and a client certificate come from
# scripts/make-test-pki.sh (made per run, never committed); every node gets the
# client certificate and etcd's root password for etcdctl.
e2e_start_etcd() {
    local ip=${E2E_IP[$E2E_MASTER]} pki=$E2E_TMP/pki n f
    e2e_exec "$E2E_MASTER" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-download etcd-server etcd-client >/dev/null || return 1
    "$E2E_REPO/scripts/make-test-pki.sh" "$pki" "IP:$ip" "DNS:$E2E_MASTER" || return 1
    head -c 18 /dev/urandom | base64 >"$pki/root.password"
    for f in ca.pem etcd.pem etcd.key; do
        e2e_write "$E2E_MASTER" "/etc/etcd/pki/$f" 0600 <"$pki/$f" || return 1
    done
    e2e_exec "$E2E_MASTER" chown -R etcd:etcd /etc/etcd/pki || return 1
    for n in "$E2E_MASTER" "${E2E_WORKERS[@]}"; do
        for f in ca.pem client.pem client-key.pem root.password; do
            e2e_write "$n" "$E2E_ETCDCTL_DIR/$f" 0600 <"$pki/$f" || return 1
        done
    done
    e2e_write "$E2E_MASTER" /etc/default/etcd <<EOT || return 1
# written by tests/e2e: a one-member cluster on master's bridge address, TLS and
# client certificates on the client port (the peer port stays plain: one member)
ETCD_LISTEN_CLIENT_URLS=https://$ip:2379,https://127.0.0.1:2379
ETCD_ADVERTISE_CLIENT_URLS=https://$ip:2379
ETCD_CERT_FILE=/etc/etcd/pki/etcd.pem
ETCD_KEY_FILE=/etc/etcd/pki/etcd.key
ETCD_TRUSTED_CA_FILE=/etc/etcd/pki/ca.pem
ETCD_CLIENT_CERT_AUTH=true
ETCD_LISTEN_PEER_URLS=http://$ip:2380
ETCD_INITIAL_ADVERTISE_PEER_URLS=http://$ip:2380
ETCD_INITIAL_CLUSTER=$E2E_MASTER=http://$ip:2380
ETCD_INITIAL_CLUSTER_STATE=new
ETCD_INITIAL_CLUSTER_TOKEN=$E2E_ID
EOT
    E2E_ETCDCTL_ENV=(ETCDCTL_API=3 "ETCDCTL_ENDPOINTS=$(e2e_etcd_url)" "ETCDCTL_CACERT=$E2E_ETCDCTL_DIR/ca.pem"
                     "ETCDCTL_CERT=$E2E_ETCDCTL_DIR/client.pem" "ETCDCTL_KEY=$E2E_ETCDCTL_DIR/client-key.pem")
    e2e_exec "$E2E_MASTER" systemctl start etcd.service || return 1
    e2e_wait_for 20 e2e_etcdctl "$E2E_MASTER" endpoint health || return 1
    # etcd's root user, then authentication on (etcdctl refuses a user while it is off).
    e2e_etcdctl "$E2E_MASTER" user add root --new-user-password="$(cat "$pki/root.password")" >/dev/null &&
        e2e_etcdctl "$E2E_MASTER" user grant-role root root >/dev/null &&
        e2e_etcdctl "$E2E_MASTER" auth enable >/dev/null || return 1
    E2E_ETCDCTL_ENV+=("ETCDCTL_USER=root:$(cat "$pki/root.password")")
}

# e2e_etcd_users: monitor's roles and users made with `monitorctl auth` on master
# (after its make install) as an operator makes them, and each node's secrets
# delivered: the client key and its etcd password in /etc/monitor (0600, root),
# handed to the DynamicUser= units by LoadCredential= drop-ins. master's monitorctl
# uses monitor-admin; the agents their node users; every monitor-serverd (master's,
# and worker1's standby) monitor-server through [Server] EtcdUsername.
E2E_SECRETS=()
e2e_etcd_users() {
    local m=$E2E_MASTER n out=/root/e2e-etcd/users unit
    local ctl=(monitorctl --cacert "$E2E_ETCDCTL_DIR/ca.pem" --cert "$E2E_ETCDCTL_DIR/client.pem"
               --key "$E2E_ETCDCTL_DIR/client-key.pem" --user root --password-file "$E2E_ETCDCTL_DIR/root.password")
    e2e_exec "$m" "${ctl[@]}" auth setup --output-dir "$out" || return 1
    for n in "${E2E_WORKERS[@]}"; do
        e2e_exec "$m" "${ctl[@]}" auth add-node "$n" --output "$out/$n.password" || return 1
    done
    e2e_exec "$m" cat "$out/monitor-admin.password" | e2e_write "$m" /etc/monitor/etcd-password 0600 || return 1
    for n in "${E2E_WORKERS[@]}"; do
        e2e_exec "$m" cat "$out/$n.password" | e2e_write "$n" /etc/monitor/etcd-password 0600 || return 1
    done
    for n in "$m" "${E2E_WORKERS[0]}"; do
        e2e_exec "$m" cat "$out/monitor-server.password" | e2e_write "$n" /etc/monitor/server-password 0600 ||
            return 1
    done
    for n in "$m" "${E2E_WORKERS[@]}"; do
        E2E_SECRETS+=("$(e2e_exec "$n" cat /etc/monitor/etcd-password)")
        printf '[Service]\nLoadCredential=client-key.pem:/etc/monitor/client-key.pem\nLoadCredential=etcd-password:/etc/monitor/etcd-password\n' |
            e2e_write "$n" /etc/systemd/system/monitor-agentd.service.d/50-etcd-credentials.conf || return 1
        printf '[Service]\nLoadCredential=client-key.pem:/etc/monitor/client-key.pem\nLoadCredential=server-password:/etc/monitor/server-password\n' |
            e2e_write "$n" /etc/systemd/system/monitor-serverd.service.d/50-etcd-credentials.conf || return 1
        e2e_exec "$n" systemctl daemon-reload || return 1
    done
    E2E_SECRETS+=("$(e2e_exec "$m" cat /etc/monitor/server-password)")
}

# e2e_drop_credentials NODE: removes the units' credential drop-ins (before an
# uninstall, which must leave nothing of monitor's behind).
e2e_drop_credentials() {
    e2e_exec "$1" rm -rf /etc/systemd/system/monitor-agentd.service.d /etc/systemd/system/monitor-serverd.service.d
}

# e2e_install NODE: `make install` from the repository inside the node, and the
# node's settings: a drop-in pointing at master's etcd.
e2e_install() {
    local node=$1
    # shellcheck disable=SC2086 # E2E_MAKE_SILENT: make options, or nothing at all
    e2e_exec "$node" make ${E2E_MAKE_SILENT--s} -C "$E2E_REPO" install PREFIX=/usr/local ||
        return 1
    e2e_point_at_etcd "$node"
}

# The packages `make deb` wrote (it keeps only the current version in dist/).
e2e_deb() { local f; for f in "$E2E_REPO"/dist/"$1"_*.deb; do [ -f "$f" ] && echo "$f"; done; }

# e2e_install_deb NODE PACKAGE...: the packages from dist/ with apt-get, as a fleet
# installs them (their dependencies are the host's packages, so nothing is fetched;
# not --no-download, which makes apt-get refuse local .deb files), and the same
# settings drop-in as e2e_install.
e2e_install_deb() {
    local node=$1 p f debs=()
    shift
    for p in "$@"; do
        f=$(e2e_deb "$p")
        [ -n "$f" ] || { echo "no $p package in $E2E_REPO/dist (make deb)" >&2; return 1; }
        debs+=("$f")
    done
    e2e_exec "$node" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${debs[@]}" ||
        return 1
    e2e_point_at_etcd "$node"
}

# e2e_point_at_etcd NODE: the node's settings drop-in naming master's etcd, its CA
# and the client certificate (README, "Securing etcd"), and the key beside it. A
# relative KeyFile and PasswordFile are the units' credentials, and the files in
# /etc/monitor for monitorctl.
e2e_point_at_etcd() {
    local node=$1 user=monitor-node-$1 f
    [ "$node" = "$E2E_MASTER" ] && user=monitor-admin
    for f in ca.pem client.pem; do e2e_write "$node" "/etc/monitor/$f" 0644 <"$E2E_TMP/pki/$f" || return 1; done
    e2e_write "$node" /etc/monitor/client-key.pem 0600 <"$E2E_TMP/pki/client-key.pem" || return 1
    e2e_write "$node" /etc/monitor/monitor.conf.d/10-cluster.conf <<EOT
# written by tests/e2e
[Etcd]
Endpoints=$(e2e_etcd_url)
CAFile=/etc/monitor/ca.pem
CertFile=/etc/monitor/client.pem
KeyFile=client-key.pem
Username=$user
PasswordFile=etcd-password

[Server]
EtcdUsername=monitor-server
EtcdPasswordFile=server-password
EOT
}

# e2e_journal_json NODE UNIT [CURSOR]: the unit's journal as JSON lines (its own
# records and systemd's about it), only what follows CURSOR if given. After a cursor
# the unit is selected with jq, not with journalctl -u or FIELD= matches: systemd
# 252's journalctl returns nothing for --after-cursor combined with matches when the
# cursor's own entry does not match them (three checks missed their records that way
# once master's etcd ran with TLS).
e2e_journal_json() {
    local node=$1 unit=$2 cursor=${3:-}
    [[ $unit == *.* ]] || unit=$unit.service
    if [ -z "$cursor" ]; then
        e2e_exec "$node" journalctl -u "$unit" -o json --no-pager
        return
    fi
    e2e_exec "$node" journalctl -o json --no-pager --after-cursor="$cursor" |
        jq -c --arg u "$unit" 'select(._SYSTEMD_UNIT == $u or .UNIT == $u or .OBJECT_SYSTEMD_UNIT == $u)'
}

# e2e_journal_text NODE UNIT [CURSOR]: the same, one MESSAGE per line.
e2e_journal_text() { e2e_journal_json "$@" | jq -r '.MESSAGE | strings'; }

# e2e_select JQ_CONDITION: the JSON lines of stdin for which the condition holds;
# fails when there is none.
e2e_select() { jq -c "select($1)" | grep .; }

# e2e_server_saw NODE EVENT [CURSOR]: master's monitor-serverd logged EVENT for NODE
# (fields EVENT=..., NODE=...), after CURSOR if given.
e2e_server_saw() {
    e2e_journal_json "$E2E_MASTER" monitor-serverd "${3:-}" |
        e2e_select ".EVENT == \"$2\" and .NODE == \"$1\"" >/dev/null
}

# e2e_cursor NODE: the node's journal cursor now (to look only at what follows).
e2e_cursor() {
    e2e_exec "$1" journalctl -n 1 -o json --no-pager | jq -r '.__CURSOR'
}

# e2e_unit_prop NODE UNIT PROPERTY: one `systemctl show` value.
e2e_unit_prop() {
    e2e_exec "$1" systemctl show -p "$3" --value "$2"
}

# e2e_now_us: wall clock in microseconds (the nodes share the host's clock, so it
# compares with journal __REALTIME_TIMESTAMPs).
e2e_now_us() { date +%s%6N; }

# e2e_first_ts NODE UNIT CURSOR JQ_CONDITION: __REALTIME_TIMESTAMP of the first
# journal record of UNIT after CURSOR ("" = from the start) for which the condition
# holds; fails when there is none.
e2e_first_ts() {
    local ts
    ts=$(e2e_journal_json "$1" "$2" "$3" | e2e_select "$4" | head -n 1 |
         jq -r '.__REALTIME_TIMESTAMP // empty')
    [ -n "$ts" ] && echo "$ts"
}

# e2e_ms_between US1 US2: milliseconds from US1 to US2.
e2e_ms_between() { echo $(( ($2 - $1) / 1000 )); }

# e2e_secs MS: "4.25" from 4250.
e2e_secs() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }

# e2e_quote ARGS...: the arguments as a shell command line, quoted where needed.
e2e_quote() {
    local a out=()
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=("$a")
        else out+=("'${a//\'/\'\\\'\'}'"); fi
    done
    echo "${out[*]}"
}

# e2e_show NODE CMD...: prints the command as an operator would type it on NODE, then
# its output, indented (for the demo and for diagnostics).
e2e_show() {
    local node=$1
    shift
    printf '\n[root@%s ~]# %s\n' "$node" "$(e2e_quote "$@")"
    e2e_exec "$node" "$@" 2>&1 | e2e_indent
    return "${PIPESTATUS[0]}"
}

# e2e_diag NODE UNIT: the unit's state and last journal lines, as "# " diagnostics.
e2e_diag() {
    {
        e2e_exec "$1" systemctl status "$2" --no-pager -n 0
        e2e_exec "$1" journalctl -u "$2" --no-pager -n 15
    } 2>&1 | sed "s/^/# [$1] /"
}

# e2e_host_fingerprint: what of the host the harness must leave as it found it.
e2e_host_fingerprint() {
    local p
    for p in /usr/local/bin/monitor-agentd /usr/local/bin/monitor-serverd \
             /usr/local/bin/monitorctl /usr/local/lib/systemd/system/monitor-agentd.service \
             /usr/local/lib/systemd/system/monitor-serverd.service /etc/monitor \
             /etc/systemd/system/monitor-agentd.service /etc/systemd/system/monitor-serverd.service \
             /usr/bin/monitor-agentd /lib/systemd/system/monitor-agentd.service \
             /usr/local/lib/systemd/catalog/monitor.catalog /usr/local/share/man/man1/monitorctl.1; do
        [ -e "$p" ] && echo "exists $p"
    done
    md5sum /etc/default/etcd /etc/hostname /etc/hosts /etc/machine-id \
        /var/lib/systemd/catalog/database 2>/dev/null
    ls /etc/systemd/system /dev /sys/fs/cgroup 2>/dev/null
    ip netns list 2>/dev/null | grep "^$E2E_ID" || true
    ls -d "/sys/fs/cgroup/unified/$E2E_ID"-* 2>/dev/null || true
    findmnt -rn -o TARGET,FSTYPE,OPTIONS / /sys/fs/cgroup /dev /proc 2>/dev/null
}
