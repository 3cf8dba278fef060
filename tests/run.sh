#!/usr/bin/env bash
# Runs every test: the unit runner, each integration script, the multi-host
# test bed (tests/hosts, docs/testbed.md), the browser
# tests (headless Chromium), and the fuzz corpus replay. Each part prints `ok NAME` or `FAIL NAME: why` per test;
# this script counts them and ends with `N passed, N failed`.
#
# Environment (set by `make test`): DYNOD_BIN (folder with dynod and dyno),
# UNIT_RUNNER (path), FUZZ_REPLAY (space-separated replay binaries).
set -u
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp -d /tmp/dynod-tests.XXXXXX)
passed=0
failed=0

tally() {   # tally NAME FILE: count ok/FAIL lines of one part
    local p f
    p=$(grep -c '^ok ' "$2" || true)
    f=$(grep -c '^FAIL ' "$2" || true)
    passed=$((passed + p))
    failed=$((failed + f))
    grep '^FAIL ' "$2" | sed 's/^/  /'
    echo "$1: $p passed, $f failed"
}

run_part() {   # run_part NAME TIMEOUT CMD...: a part that dies counts as one failure
    local name=$1 limit=$2
    shift 2
    local out="$log/$(echo "$name" | tr '/ ' '__').log"
    timeout -k 10 "$limit" "$@" >"$out" 2>"$out.err"
    local rc=$?
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
        echo "FAIL $name: exited with status $rc (stderr in $out.err)" >>"$out"
        tail -n 20 "$out.err" | sed 's/^/    /'
    fi
    tally "$name" "$out"
}

if [ -n "${UNIT_RUNNER:-}" ]; then
    run_part unit 300 "$UNIT_RUNNER"
fi
for t in "$here"/integration/*.sh; do
    [ -e "$t" ] || continue
    [ "$(basename "$t")" = lib.sh ] && continue
    run_part "integration/$(basename "$t" .sh)" 300 bash "$t"
done
for t in "$here"/hosts/test_*.sh; do     # the multi-host test bed (root: network namespaces)
    [ -e "$t" ] || continue
    run_part "hosts/$(basename "$t" .sh)" 240 bash "$t"
done
for t in "$here"/browser/*.sh; do
    [ -e "$t" ] || continue
    run_part "browser/$(basename "$t" .sh)" 300 bash "$t"
done
for r in ${FUZZ_REPLAY:-}; do
    name=$(basename "$r")
    target=${name#fuzz-}
    run_part "$name" 300 "$r" "$here/fuzz/corpus/$target"
done

if [ -n "${SANITIZER_LOG_DIR:-}" ]; then
    out="$log/sanitizer.log"
    reports=$(find "$SANITIZER_LOG_DIR" -type f 2>/dev/null | sort)
    if [ -z "$reports" ]; then
        echo "ok sanitizer-clean" >"$out"
    else
        echo "FAIL sanitizer-clean: $(echo "$reports" | wc -l) report(s) in $SANITIZER_LOG_DIR" >"$out"
        head -n 30 $(echo "$reports" | head -n 1) | sed 's/^/    /'
    fi
    tally sanitizer "$out"
fi

echo "logs in $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
