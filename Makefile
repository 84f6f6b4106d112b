# monitor — build, install, test, package and demo.
#   make                 release build (.build/release; needs only the build packages)
#   make install         binaries, units, man pages, completions, journal catalog,
#                        /etc/monitor/monitor.conf (if absent); PREFIX, DESTDIR
#   make install-strip   the same with stripped binaries
#   make uninstall       removes exactly what install added (an edited config stays)
#   make deb             Debian packages in dist/ (dpkg-buildpackage; lintian-checked)
#   make check           the test suite (unit, integration against real etcd, systemd e2e as root)
#   make demo            etcd + server + two agents on loopback, in under a minute
#   make demo-systemd    the same cluster under real systemd in sandboxes (root)
#   make bench [N=1000]  N simulated agents against the real server; figures in bench.json

PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
CATALOGDIR  ?= $(PREFIX)/lib/systemd/catalog
DOCDIR      ?= $(PREFIX)/share/doc/monitor
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SYSCONFDIR  ?= /etc
SWIFT       ?= swift
INSTALL_PROGRAM ?= install -m 0755

BINARIES   := monitor-agentd monitor-serverd monitorctl
UNITS      := monitor-agentd.service monitor-serverd.service
MANPAGES   := man/monitorctl.1 man/monitor.conf.5 man/monitor-agentd.8 man/monitor-serverd.8
RELEASE    := .build/release
# Debian packages, by who needs them. `make` needs only BUILD_PACKAGES; check, demo,
# e2e and bench add TEST_PACKAGES; deb adds DEB_TOOLS (e2e builds the packages too).
BUILD_PACKAGES := libsystemd-dev libcurl4-openssl-dev libmicrohttpd-dev zlib1g-dev
TEST_PACKAGES  := etcd-server etcd-client iproute2 systemd jq man-db groff-base prometheus chromium curl
DEB_TOOLS      := debhelper lintian dpkg-dev fakeroot
# The Swift runtime and Foundation are linked in, so installed binaries run on
# nodes without the toolchain (they need only libc, libcurl, libsystemd and, for
# monitor-serverd, libmicrohttpd and zlib: system libraries, linked dynamically).
RELEASE_FLAGS := -c release --static-swift-stdlib
# Written by `build` after the static release build of every binary: install
# depends on it, so a source newer than the last static build rebuilds first.
STATIC_STAMP := .build/static-release.stamp
SOURCES    := Package.swift $(shell find Sources -type f 2>/dev/null)

# make deb: what dpkg-buildpackage writes into dist/ (ignored by git).
DEB_VERSION := $(shell dpkg-parsechangelog -S Version 2>/dev/null)
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEBS := $(foreach p,monitor-agent monitor-server monitorctl,dist/$(p)_$(DEB_VERSION)_$(DEB_ARCH).deb) \
        dist/monitor-common_$(DEB_VERSION)_all.deb
# debian/'s own files, not what a package build leaves there.
DEB_INPUTS := $(shell find debian -type f ! -path 'debian/tmp/*' ! -path 'debian/.debhelper/*' \
                ! -path 'debian/monitor-*/*' ! -path 'debian/monitorctl/*' ! -name files \
                ! -name '*.substvars' ! -name '*.debhelper*' ! -name debhelper-build-stamp 2>/dev/null) \
              $(MANPAGES) systemd/monitor-agentd.service systemd/monitor-serverd.service \
              systemd/monitor.catalog etc/monitor/monitor.conf README.md Makefile

# make bench: how many simulated nodes, and where the JSON results go.
N          ?= 1000
BENCH_JSON ?= bench.json

.PHONY: all build build-deps test-deps deb-deps install install-strip uninstall check \
        check-docs test e2e deb debs demo demo-systemd bench clean

all: build

# Only the shipped products: the test kits (which link XCTest) are built by `check`.
# SwiftPM decides what is out of date; the stamp records that this static build ran.
build: build-deps
	for p in $(BINARIES); do $(SWIFT) build $(RELEASE_FLAGS) --product $$p || exit 1; done
	@touch $(STATIC_STAMP)

$(STATIC_STAMP): $(SOURCES)
	$(MAKE) build

# Each installs whatever of its packages is missing (needs root and apt-get); a
# no-op when everything is there.
build-deps:
	@scripts/install-debs.sh $(BUILD_PACKAGES)

test-deps: build-deps
	@scripts/install-debs.sh $(TEST_PACKAGES)

deb-deps: build-deps
	@scripts/install-debs.sh $(DEB_TOOLS)

deps: test-deps deb-deps

install: $(STATIC_STAMP)
	scripts/check-static-binaries.sh $(addprefix $(RELEASE)/,$(BINARIES))
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CATALOGDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf.d
	$(INSTALL_PROGRAM) $(addprefix $(RELEASE)/,$(BINARIES)) $(DESTDIR)$(BINDIR)/
	for u in $(UNITS); do \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; \
	done
	sed -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/monitor.catalog > $(DESTDIR)$(CATALOGDIR)/monitor.catalog
	chmod 0644 $(DESTDIR)$(CATALOGDIR)/monitor.catalog
	for m in $(MANPAGES); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done
	@# Generated from the binary being installed, so they always match its commands.
	@# bash-completion sources the file: a "#!" line would only mislead (lintian).
	$(RELEASE)/monitorctl --generate-completion-script bash | sed '1{/^#!/d}' > $(DESTDIR)$(BASHCOMPDIR)/monitorctl
	$(RELEASE)/monitorctl --generate-completion-script zsh > $(DESTDIR)$(ZSHCOMPDIR)/_monitorctl
	$(RELEASE)/monitorctl --generate-completion-script fish > $(DESTDIR)$(FISHCOMPDIR)/monitorctl.fish
	chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/monitorctl $(DESTDIR)$(ZSHCOMPDIR)/_monitorctl \
	    $(DESTDIR)$(FISHCOMPDIR)/monitorctl.fish
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf ]; then \
	    echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf"; \
	else \
	    install -m 0644 etc/monitor/monitor.conf $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@if [ -z "$(DESTDIR)" ] && command -v journalctl >/dev/null; then journalctl --update-catalog; fi

# As automake's: install, with the symbol tables stripped from the binaries.
install-strip:
	$(MAKE) INSTALL_PROGRAM="install -m 0755 -s" install

uninstall:
	-@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	    systemctl disable --now $(UNITS) 2>/dev/null; true; fi
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(BINARIES)) $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	rm -f $(DESTDIR)$(CATALOGDIR)/monitor.catalog $(DESTDIR)$(DOCDIR)/README.md
	rm -f $(foreach m,$(MANPAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/monitorctl $(DESTDIR)$(ZSHCOMPDIR)/_monitorctl \
	    $(DESTDIR)$(FISHCOMPDIR)/monitorctl.fish
	@# Directories only when empty: other software may share them.
	-@rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CATALOGDIR) $(DESTDIR)$(dir $(UNITDIR)) \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(dir $(BASHCOMPDIR)) $(DESTDIR)$(ZSHCOMPDIR) \
	    $(DESTDIR)$(dir $(ZSHCOMPDIR)) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(dir $(FISHCOMPDIR)) 2>/dev/null; true
	@# The config goes only if nobody edited it.
	@if cmp -s etc/monitor/monitor.conf $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf; \
	else \
	    [ ! -e $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf ] || echo "keeping edited $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf"; \
	fi
	-@rmdir $(DESTDIR)$(SYSCONFDIR)/monitor/monitor.conf.d $(DESTDIR)$(SYSCONFDIR)/monitor 2>/dev/null; true
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@if [ -z "$(DESTDIR)" ] && command -v journalctl >/dev/null; then journalctl --update-catalog; fi

# The test command (CI runs this): Swift unit and integration tests against real
# etcd, the man pages and completions, then the systemd end-to-end scenario (root
# only; skipped with a message otherwise).
check: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) check-docs
	$(MAKE) e2e

test: check

# Every man page renders without a groff warning; the completion scripts the
# installed monitorctl generates load in their shells (zsh and fish when present).
check-docs: $(STATIC_STAMP)
	scripts/check-docs.sh $(RELEASE)/monitorctl $(MANPAGES)

# Serialized with every other e2e run on this machine by tests/e2e/run.sh itself.
e2e: test-deps deb-deps build
	bash tests/e2e/run.sh

# dpkg-buildpackage in this tree (debian/rules calls this Makefile's static build,
# up to date after `make`), output to dist/, then lintian at the error level. The
# packages are rebuilt only when a binary was relinked or a packaged file changed.
deb: deb-deps $(STATIC_STAMP)
	@$(MAKE) --no-print-directory debs

debs: $(DEBS)

$(DEBS) &: $(addprefix $(RELEASE)/,$(BINARIES)) $(DEB_INPUTS)
	mkdir -p dist
	rm -f dist/*.deb dist/*.buildinfo dist/*.changes
	dpkg-buildpackage -b -uc -us --no-pre-clean \
	    --buildinfo-file=dist/monitor_$(DEB_VERSION)_$(DEB_ARCH).buildinfo \
	    --changes-file=dist/monitor_$(DEB_VERSION)_$(DEB_ARCH).changes \
	    --buildinfo-option=-udist --changes-option=-udist
	lintian --fail-on error $(DEBS)

demo: test-deps build
	bash scripts/demo.sh

demo-systemd: test-deps build
	bash tests/e2e/demo.sh

# The fleet-scale load test (see the README's "Fleet scale"): its own etcd on
# loopback, N simulated agents, the real monitor-serverd; TTL and interval 30 s.
bench: test-deps build
	$(SWIFT) build $(RELEASE_FLAGS) --product monitor-bench
	$(RELEASE)/monitor-bench --nodes $(N) --json $(BENCH_JSON)

clean:
	rm -rf .build dist
