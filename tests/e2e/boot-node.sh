#!/bin/bash
# Boots a real systemd as PID 1 of private namespaces over a copy-on-write view of
# the host's root: one sandboxed "node" of the end-to-end tests. Started by lib.sh
# (e2e_node_boot) with setsid so it outlives the caller's shell; never run by hand.
#
#   boot-node.sh stage1 DIR CGROUP NETNS
#
# stage1 runs on the host: it moves itself into its own cgroup (so the node's
# systemd gets a cgroup subtree of its own instead of the host's root), then enters
# the node's network namespace and creates new mount, cgroup, UTS, IPC and PID
# namespaces. stage2 runs as PID 1 of the new PID namespace: it builds the node's
# root, pivots into it and execs systemd.
#
# Differences from the plain recipe (rbind of the host's /dev and /sys), which let the
# node's systemd change the host: it remounted the host's /sys/fs/cgroup tmpfs
# read-only, created nodes and links in the host's /dev, and systemd-sysctl wrote
# global sysctls. Here the node gets its own /dev (a tmpfs with a few bound device
# nodes and its own devpts), its own sysfs (read-only, of its network namespace), its
# own cgroup2 mount (rooted at its cgroup by the cgroup namespace) and a read-only
# /proc/sys (except /proc/sys/net, which belongs to its network namespace).
set -eu

stage=$1
D=$2
R=$D/root

case $stage in
stage1)
    cgroup=$3 netns=$4
    echo $$ >"$D/stage1.pid"
    echo $$ >"/sys/fs/cgroup/unified/$cgroup/cgroup.procs"
    exec nsenter --net="/run/netns/$netns" -- \
        unshare --mount --propagation private --cgroup --uts --ipc --pid --fork \
        --kill-child -- /bin/bash "$0" stage2 "$D"
    ;;
stage2)
    mount -t overlay overlay -o "lowerdir=/,upperdir=$D/upper,workdir=$D/work" "$R"

    # /dev: a private tmpfs, like a container's.
    mount -t tmpfs -o mode=755,nosuid,size=16m tmpfs "$R/dev"
    for n in null zero full random urandom tty; do
        touch "$R/dev/$n"
        mount --bind "/dev/$n" "$R/dev/$n"
    done
    mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue" "$R/dev/hugepages"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$R/dev/pts"
    ln -s pts/ptmx "$R/dev/ptmx"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
    ln -s /proc/self/fd "$R/dev/fd"
    ln -s /proc/self/fd/0 "$R/dev/stdin"
    ln -s /proc/self/fd/1 "$R/dev/stdout"
    ln -s /proc/self/fd/2 "$R/dev/stderr"

    # /proc of the new PID namespace; global sysctls read-only.
    mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
    mount --bind "$R/proc/sys" "$R/proc/sys"
    mount -o remount,bind,ro "$R/proc/sys"
    mount --bind "$R/proc/sys/net" "$R/proc/sys/net"
    mount -o remount,bind,rw "$R/proc/sys/net"
    if [ -e "$R/proc/sysrq-trigger" ]; then
        mount --bind "$R/proc/sysrq-trigger" "$R/proc/sysrq-trigger"
        mount -o remount,bind,ro "$R/proc/sysrq-trigger"
    fi

    # sysfs of the node's network namespace, read-only; cgroup2 rooted at our cgroup.
    mount -t sysfs -o nosuid,nodev,noexec sysfs "$R/sys"
    mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$R/sys/fs/cgroup"
    mount -o remount,bind,ro,nosuid,nodev,noexec "$R/sys"

    mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp"

    # The checkout to `make install` from, read-only at the same path: the fresh
    # /tmp above would otherwise hide a checkout that lives under /tmp (CI's clone).
    if [ -n "${E2E_REPO:-}" ] && [ -d "$E2E_REPO" ]; then
        mkdir -p "$R$E2E_REPO"
        mount --bind "$E2E_REPO" "$R$E2E_REPO"
        mount -o remount,bind,ro "$R$E2E_REPO"
    fi

    # pivot_root, not chroot: the kernel refuses user namespaces (PrivateUsers=) to
    # a chrooted process. The host's root is detached from the node's mount table.
    cd "$R"
    pivot_root . .
    umount -l .
    # Shared propagation inside the node, as systemd sets it up on a host (and
    # systemd-nspawn in a container; with container= set, systemd leaves it to
    # the manager). Without it, LoadCredential= fails: systemd mounts each
    # service's credentials in a child mount namespace and moves them to
    # /run/credentials/UNIT, which only propagates back to a shared /run; the
    # service found an empty root-owned directory. The namespace was made with
    # private propagation, so these new peer groups never reach the host.
    mount --make-rshared /
    exec /usr/bin/env -i container=other \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /lib/systemd/systemd --system --unit=basic.target
    ;;
*)
    echo "usage: $0 stage1 DIR CGROUP NETNS" >&2
    exit 2
    ;;
esac
