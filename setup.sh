#!/usr/bin/env bash
# Installs the Debian packages Apiary needs (only the missing ones), then
# configures and builds into build/. Safe to run again: quick when all is there.
set -euo pipefail
cd "$(dirname "$0")"

packages=(
    build-essential meson ninja-build pkg-config
    clang llvm llvm-dev libclang-rt-dev
    libbpf-dev libelf-dev zlib1g-dev bpftool iproute2
    libz3-dev libsqlite3-dev libcmocka-dev libpcap-dev libjson-c-dev libssl-dev
    afl++ chromium
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: missing packages and not root; run as root or install: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

if [[ ! -f build/build.ninja ]]; then
    meson setup build --buildtype=debugoptimized
fi
ninja -C build
