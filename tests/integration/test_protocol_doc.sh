#!/usr/bin/env bash
# test_protocol_doc - docs/protocol.md must not drift from the type table.
#
# Checks that the text between the GENERATED markers in docs/protocol.md is
# exactly what `dynod protocol` prints, and that every type in the table
# (messages/msg_types.c) has a `### \`name\`` heading in the document.
# Self-contained: starts no broker and needs nothing but the dynod binary.
#
# Environment: DYNOD_BIN, the folder holding dynod (default: bin/ of this
# checkout).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${DYNOD_BIN:-$here/../../bin}
doc=$root/docs/protocol.md
table=$root/messages/msg_types.c
begin='<!-- BEGIN GENERATED: dynod protocol -->'
end='<!-- END GENERATED -->'
failed=0

tmp=$(mktemp -d /tmp/dynod-protocol-doc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {   # fail NAME WHY [DETAIL-FILE]
    echo "FAIL $1: $2"
    [ -n "${3:-}" ] && sed 's/^/    /' "$3"
    failed=1
}

# 1. The generated section equals `dynod protocol`.
name=protocol-doc-matches-type-table
if [ ! -x "$bin/dynod" ]; then
    fail "$name" "no dynod binary at $bin/dynod (set DYNOD_BIN)"
elif ! "$bin/dynod" protocol >"$tmp/want" 2>"$tmp/err"; then
    fail "$name" "'dynod protocol' failed" "$tmp/err"
elif [ ! -f "$doc" ]; then
    fail "$name" "$doc is missing"
elif [ "$(grep -cxF "$begin" "$doc")" != 1 ] || [ "$(grep -cxF "$end" "$doc")" != 1 ]; then
    fail "$name" "docs/protocol.md needs exactly one '$begin' line and one '$end' line"
else
    awk -v b="$begin" -v e="$end" '$0 == e { f = 0 } f { print } $0 == b { f = 1 }' "$doc" >"$tmp/have"
    if cmp -s "$tmp/want" "$tmp/have"; then
        echo "ok $name"
    else
        diff -u --label "dynod protocol" --label "docs/protocol.md" "$tmp/want" "$tmp/have" >"$tmp/diff"
        tail -n +3 "$tmp/diff" | grep '^[-+]' >"$tmp/changed"    # skip the ---/+++ header
        changed=$(wc -l <"$tmp/changed")
        first=$(head -n 1 "$tmp/changed" | cut -c1-100)
        head -n 40 "$tmp/diff" >"$tmp/diff.head"
        fail "$name" "$changed lines differ, first: $first (regenerate with: dynod protocol)" "$tmp/diff.head"
    fi
fi

# 2. Every type in the table has a heading.
name=protocol-doc-heading-per-type
if [ ! -f "$table" ] || [ ! -f "$doc" ]; then
    fail "$name" "need $table and $doc"
else
    sed -n 's/^ *{ *MSG_TYPE_[A-Z_]*, *"\([^"]*\)".*/\1/p' "$table" "${table%.c}_hosts.c" >"$tmp/types"
    missing=
    while read -r type; do
        grep -qxF "### \`$type\`" "$doc" || missing="$missing $type"
    done <"$tmp/types"
    count=$(wc -l <"$tmp/types")
    generated=$(grep -c "^### \`" "$tmp/want" 2>/dev/null || true)
    if [ "$count" -eq 0 ]; then
        fail "$name" "found no MSG_TYPE_ rows in $table"
    elif [ -n "$missing" ]; then
        fail "$name" "no '### \`name\`' heading for:$missing"
    elif [ -s "$tmp/want" ] && [ "$generated" -ne "$count" ]; then
        fail "$name" "the table has $count types but 'dynod protocol' prints $generated headings"
    else
        echo "ok $name"
    fi
fi

exit $failed
