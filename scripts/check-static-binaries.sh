#!/bin/sh
# check-static-binaries.sh BINARY...: refuses (exit 1) a binary that links the Swift
# runtime or Foundation dynamically. Such a binary, built by a plain `swift build`,
# runs here (the toolchain is installed) but exits 127 on a node without it; only
# `make build` (--static-swift-stdlib) makes binaries fit to install.
set -eu

status=0
for binary in "$@"; do
    if [ ! -x "$binary" ]; then
        echo "error: $binary: missing; expected a binary built by 'make build'" >&2
        status=1
        continue
    fi
    # The libraries the binary asks the dynamic loader for (its DT_NEEDED entries).
    needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    swift_libs=$(printf '%s\n' "$needed" |
        grep -E '^(libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libXCTest)' || true)
    if [ -n "$swift_libs" ]; then
        echo "error: $binary links the Swift runtime dynamically ($(echo $swift_libs | tr ' ' ',')): it would not start on a node without the Swift toolchain; expected a static build: run 'make build' (swift build -c release --static-swift-stdlib), then install again" >&2
        status=1
    fi
done
exit $status
