#!/usr/bin/env bash
# Regenerates the type reference in docs/protocol.md from `dynod protocol`
# (run after changing messages/msg_types.c; a test checks they match).
set -euo pipefail
cd "$(dirname "$0")/.."
bin/dynod protocol > build/protocol.gen.md
python3 - <<'PY'
doc = open('docs/protocol.md').read()
gen = open('build/protocol.gen.md').read()
b, e = '<!-- BEGIN GENERATED: dynod protocol -->', '<!-- END GENERATED -->'
i, j = doc.index(b) + len(b), doc.index(e)
open('docs/protocol.md', 'w').write(doc[:i] + '\n' + gen + doc[j:])
PY
