#!/bin/sh
# The bundle hash is the bundle's identity: the same spec and sources in two
# other places (one deeper), compiled from another working directory, must
# hash the same. coverage-clean takes one enforcer from its own directory
# and one through "../coverage-violation/".
# usage: hash_portable.sh APIARY_CHECK BUNDLES_DIR
set -eu
check=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") bundles=$2
work=$(mktemp -d /tmp/apiary-hash-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/a" "$work/b/x/y"
cp -r "$bundles" "$work/a/bundles"
cp -r "$bundles" "$work/b/x/y/bundles"
hash_of() { sed -n 's/.*"hash": *"\([0-9a-f]*\)".*/\1/p' "$1/apiary.json" | head -1; }
"$check" "$work/a/bundles/coverage-clean/bundle.spec" --out "$work/out-a" --quiet
(cd "$work/b/x" && "$check" y/bundles/coverage-clean/bundle.spec --out "$work/out-b" --quiet)
a=$(hash_of "$work/out-a") b=$(hash_of "$work/out-b")
echo "hash here:  $a"
echo "hash there: $b"
[ -n "$a" ] || { echo "FAIL: no bundle hash in apiary.json"; exit 1; }
[ "$a" = "$b" ] || { echo "FAIL: the same bundle hashes differently in another place"; exit 1; }
echo "PASS: same bundle, same hash, wherever it is"
