#!/bin/sh
# install-debs.sh PACKAGE...: installs with apt-get whatever of the Debian packages
# is missing (needs root); a no-op, without root, when everything is there.
#
# etcd-server's package enables and starts its own etcd.service, which would hold
# 127.0.0.1:2379 on the machine that runs the tests and demos (they start their own
# etcd members on free ports). When this script is what installed etcd-server, it
# stops and disables that unit again; an etcd-server installed before is left alone.
set -eu

missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -n "$missing" ] || exit 0

echo "installing missing packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "error: installing$missing needs root (or: sudo apt-get install$missing)" >&2
    exit 1
fi
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing

case " $missing " in
*" etcd-server "*)
    if [ -d /run/systemd/system ]; then
        echo "stopping and disabling the etcd.service that etcd-server's package started (the tests start their own etcd)"
        systemctl disable --now etcd.service
    fi
    ;;
esac
case " $missing " in
*" prometheus "*)
    if [ -d /run/systemd/system ]; then
        echo "stopping and disabling the prometheus.service that prometheus' package started (the tests start their own)"
        systemctl disable --now prometheus.service prometheus-node-exporter.service 2>/dev/null || true
    fi
    ;;
esac
