#!/usr/bin/env bash
# The rollout test app's release phase (the test adds `release: ./release.sh`
# to the Procfile): logs one line and exits with the status in the slug's
# RELEASE_EXIT file (0 when there is none).
status=$(cat RELEASE_EXIT 2>/dev/null || echo 0)
echo "release phase of $(cat VERSION 2>/dev/null) exiting $status"
exit "$status"
