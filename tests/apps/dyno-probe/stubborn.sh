#!/bin/bash
# Ignores SIGTERM: stopping it needs the SIGKILL after the grace (R12).
trap 'echo "got SIGTERM, ignoring it"' TERM
echo "stubborn started"
while :; do sleep 0.2; done
