#!/usr/bin/env bash
# config_loop.sh APP OUT: a workload for the test bed (run inside a host
# whose credentials point at the broker). Sets WL_1=v1, WL_2=v2, ... on APP,
# one `dyno config:set` at a time, until OUT.stop exists. Each one the CLI
# acknowledged (exit 0) is appended to OUT.acked as `WL_i=vi`, each other
# one to OUT.failed as `WL_i rc=N` (not acknowledged: it may or may not
# have been applied). Not a test itself (tests/run.sh runs test_*.sh).
set -u
app=$1 out=$2
i=0
: >"$out.acked"
: >"$out.failed"
while [ ! -e "$out.stop" ]; do
    i=$((i + 1))
    timeout -k 2 40 "${DYNO:-dyno}" config:set "WL_$i=v$i" -a "$app" >/dev/null 2>>"$out.err"
    rc=$?
    if [ "$rc" = 0 ]; then
        echo "WL_$i=v$i" >>"$out.acked"
    else
        echo "WL_$i rc=$rc" >>"$out.failed"
    fi
done
echo "done" >"$out.done"
