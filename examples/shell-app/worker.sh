#!/usr/bin/env bash
# A background worker: one log line every 5 seconds.
set -eu
n=0
while :; do
    n=$((n + 1))
    echo "shell-app worker tick $n"
    sleep 5
done
