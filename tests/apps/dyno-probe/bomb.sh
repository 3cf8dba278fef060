#!/bin/bash
# A fork bomb: forks sleepers without end. Its dyno's pids.max stops it:
# then each fork fails and bash says `fork: retry: Resource temporarily
# unavailable` on stderr (and tries again).
echo "bomb started"
while :; do
    sleep 1000 &
done
