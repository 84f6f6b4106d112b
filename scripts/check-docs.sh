#!/bin/bash
# check-docs.sh MONITORCTL MANPAGE...: the man pages render without a groff or man
# warning, and the completion scripts MONITORCTL generates (what `make install`
# installs) load: bash always (and completes the subcommands), zsh and fish when
# those shells are installed. Prints "ok - ..." per check; exit 1 on any failure.
set -u
monitorctl=$1
shift
failed=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }

for page in "$@"; do
    # man(1) as a reader runs it (tbl, the page's width) and groff directly, both
    # with every warning on; any output on stderr is a finding.
    out=$( { LC_ALL=C.UTF-8 MANWIDTH=80 man -l --warnings=w "$page" >/dev/null; groff -t -man -ww -z "$page"; } 2>&1)
    if [ -z "$out" ]; then ok "man -l --warnings=w $page: no warning"
    else printf '%s\n' "$out" | sed 's/^/# /'; not_ok "man -l --warnings=w $page: no warning"; fi
done

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for shell in bash zsh fish; do
    "$monitorctl" --generate-completion-script "$shell" >"$dir/$shell" ||
        not_ok "$monitorctl --generate-completion-script $shell"
done

# bash: load the script, then ask its completion function what follows "monitorctl ".
words=$(bash --norc -c '
    source "$1" || exit 1
    complete -p monitorctl >/dev/null || exit 1
    COMP_LINE="monitorctl "; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(monitorctl ""); COMP_CWORD=1
    _monitorctl monitorctl "" monitorctl
    printf "%s\n" "${COMPREPLY[@]}"' bash "$dir/bash" 2>&1)
if grep -qx status <<<"$words" && grep -qx config <<<"$words" && grep -qx watch <<<"$words"; then
    ok "bash completion loads and completes 'monitorctl ' with the subcommands"
else
    printf '%s\n' "$words" | sed 's/^/# /'
    not_ok "bash completion loads and completes 'monitorctl ' with the subcommands"
fi

for shell in zsh fish; do
    if ! command -v "$shell" >/dev/null; then
        echo "ok - $shell completion: $shell not installed, not checked # SKIP"
    elif out=$("$shell" -n "$dir/$shell" 2>&1) && [ -z "$out" ]; then
        ok "$shell -n: the $shell completion script parses"
    else
        printf '%s\n' "$out" | sed 's/^/# /'
        not_ok "$shell -n: the $shell completion script parses"
    fi
done
exit $failed
