#!/bin/bash
# Exits at once with status 3: the crash back-off's case.
echo "crashing now"
exit 3
