# monitor — build, install, test and demo.
#   make                 release build (.build/release)
#   make install         binaries, systemd units, /etc/monitor/monitor.conf (if absent)
#   make uninstall       removes exactly what install added (an edited config stays)
#   make check           the test suite (unit, integration against real etcd, systemd e2e as root)
#   make demo            etcd + server + two agents on loopback, in under a minute
#   make demo-systemd    the same cluster under real systemd in sandboxes (root)
#   make bench [N=1000]  N simulated agents against the real server; figures in bench.json

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/monitor
SYSCONFDIR ?= /etc
SWIFT      ?= swift

BINARIES   := monitor-agentd monitor-serverd monitorctl
UNITS      := monitor-agentd.service monitor-serverd.service
RELEASE    := .build/release
# Debian packages the build, the tests and the demo need.
DEB_PACKAGES := etcd-server etcd-client libsystemd-dev libcurl4-openssl-dev iproute2 systemd jq
# The Swift runtime and Foundation are linked in, so installed binaries run on
# nodes without the toolchain (they need only libc, libcurl and libsystemd).
RELEASE_FLAGS := -c release --static-swift-stdlib

# make bench: how many simulated nodes, and where the JSON results go.
N          ?= 1000
BENCH_JSON ?= bench.json

.PHONY: all build deps install uninstall check test e2e demo demo-systemd bench clean

all: build

# Only the shipped products: the test kits (which link XCTest) are built by `check`.
build: deps
	for p in $(BINARIES); do $(SWIFT) build $(RELEASE_FLAGS) --product $$p || exit 1; done

$(addprefix $(RELEASE)/,$(BINARIES)):
	$(MAKE) build

# Installs whatever of DEB_PACKAGES is missing (needs root and apt-get);
# a no-op when everything is there.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing missing packages:$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "error: run as root (or: sudo apt-get install$$missing)"; exit 1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

install: $(addprefix $(RELEASE)/,$(BINARIES))
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf.d
	install -m 0755 $(addprefix $(RELEASE)/,$(BINARIES)) $(DESTDIR)$(BINDIR)/
	for u in $(UNITS); do \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; \
	done
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf ]; then \
	    echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf"; \
	else \
	    install -m 0644 etc/monitor/monitor.conf $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

uninstall:
	-@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	    systemctl disable --now $(UNITS) 2>/dev/null; true; fi
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(BINARIES)) $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	rm -f $(DESTDIR)$(DOCDIR)/README.md
	-@rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(dir $(UNITDIR)) 2>/dev/null; true
	@# The config goes only if nobody edited it.
	@if cmp -s etc/monitor/monitor.conf $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf; \
	else \
	    [ ! -e $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf ] || echo "keeping edited $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf"; \
	fi
	-@rmdir $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf.d $(DESTDIR)$(SYSCONFDIR)/monitor 2>/dev/null; true
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

# The test command (CI runs this): Swift unit and integration tests against real
# etcd, then the systemd end-to-end scenario (root only; skipped with a message otherwise).
check: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) e2e

test: check

e2e: build
	bash tests/e2e/run.sh

demo: build
	bash scripts/demo.sh

demo-systemd: build
	bash tests/e2e/demo.sh

# The fleet-scale load test (see the README's "Fleet scale"): its own etcd on
# loopback, N simulated agents, the real monitor-serverd; TTL and interval 30 s.
bench: build
	$(SWIFT) build $(RELEASE_FLAGS) --product monitor-bench
	$(RELEASE)/monitor-bench --nodes $(N) --json $(BENCH_JSON)

clean:
	rm -rf .build
