#!/bin/bash
# Lists /app at start (one line), then leaves a marker file in it: a
# restarted dyno must list no marker from its previous life.
echo "listing: $(ls -A /app | tr '\n' ' ')"
echo "life $$" >"/app/marker-$RANDOM" && echo "marker written"
exec sleep 100000
