#!/usr/bin/env bash
# Records a journal fixture: runs tests/journals/NAME/scenario.sh against a
# fresh `dynod up` (own data dir, free ports, isolated config), stops it,
# and stores the journal under tests/journals/NAME/journal/ (LevelDB
# files, without LOCK and LOG). See docs/replay.md.
#   tests/journals/record.sh NAME
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
name=${1:?usage: record.sh NAME}
scenario=$here/$name/scenario.sh
[ -f "$scenario" ] || { echo "record.sh: no $scenario" >&2; exit 2; }
t=$(mktemp -d)
trap 'kill "$up" 2>/dev/null; wait "$up" 2>/dev/null; rm -rf "$t"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export XDG_CONFIG_HOME=$t/config DYNOD_USER=fixture@example.com
bp=$(port)
"$root/bin/dynod" up --data "$t/data" --broker-port "$bp" --http-port "$(port)" \
    --https-port "$(port)" --logs-port "$(port)" >"$t/up.out" 2>"$t/up.err" &
up=$!
for _ in $(seq 200); do grep -q '^dynod ready:' "$t/up.out" && break; sleep 0.1; done
grep -q '^dynod ready:' "$t/up.out" || { cat "$t/up.err" >&2; exit 1; }
export DYNOD_BROKER=tcp://127.0.0.1:$bp PATH=$root/bin:$PATH EXAMPLES=$root/examples
mkdir -p "$t/work" && (cd "$t/work" && bash -e "$scenario")
kill -TERM "$up"; wait "$up" || true
rm -rf "${here:?}/$name/journal"
mkdir -p "$here/$name/journal"
for f in "$t/data/journal"/*; do
    case $(basename "$f") in LOCK|LOG|LOG.old) ;; *) cp "$f" "$here/$name/journal/" ;; esac
done
echo "recorded $(ls "$here/$name/journal" | wc -l) files into tests/journals/$name/journal"
