#!/usr/bin/env bash
# Installs the Debian 12 packages dynod needs to build, run and test.
# As root it runs apt-get; otherwise it prints the exact command and stops.
#   scripts/deps.sh          build, run and test dependencies
#   scripts/deps.sh --fuzz   also clang and its runtime, for `make fuzz`
#   scripts/deps.sh --test   also what the tests drive: Chromium (headless,
#                            for the log page's browser test; ~350 MB), socat,
#                            pebble (the ACME test CA), iproute2 (the
#                            network namespaces of tests/hosts), faketime
#                            (a host whose clock is off, test_curve.sh)
#   scripts/deps.sh --bench  also the peers benchmarks measure against:
#                            haproxy, nginx, wrk, rsyslog
set -euo pipefail

# libczmq-dev is on the design brief's list of required packages; nothing
# links it yet (the Makefile's PKGS leaves it out), but a fresh machine gets
# it so the first code that wants czmq builds without a new install step.
packages=(
    build-essential pkg-config
    libzmq3-dev libczmq-dev libmsgpack-dev libleveldb-dev libssl-dev
    libwebsockets-dev libjansson-dev libarchive-dev libyaml-dev git
    python3 procps iproute2 ca-certificates libcurl4-openssl-dev libhttp-parser-dev
)
case "${1:-}" in
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --test) packages+=(chromium socat pebble iproute2 faketime) ;;
    --bench) packages+=(haproxy nginx wrk rsyslog) ;;
esac

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing+=("$p") ;;
    esac
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages present"
    exit 0
fi

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages; run as root:" >&2
    echo "  apt-get update && $line" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
