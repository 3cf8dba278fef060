#!/usr/bin/env bash
# Serves this folder over HTTP on $PORT (python3's stdlib server: the one
# tool besides bash this app needs).
set -eu
echo "shell-app web listening on ${PORT:-5000}"
exec python3 -m http.server "${PORT:-5000}" --bind 0.0.0.0
