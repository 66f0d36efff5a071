#!/usr/bin/env bash
# Runs every test tier: unit, host-kernel (root, throwaway namespaces) and micro-VM (real 802.1Q).
# Installs what it needs first (apt packages, the micro-VM kit, NuGet restore); re-runs reuse all of it.
#   ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Netlink]
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the kernel and micro-VM tiers need root (network namespaces, qemu with the host root over 9p)" >&2
  exit 1
fi

tools/install-prereqs.sh
dotnet restore Cni.sln
dotnet build Cni.sln -c Release --no-restore
dotnet publish src/CniPlugin -c Release --no-restore -o artifacts/bin

results=artifacts/test-results
rm -rf "$results"
status=0
dotnet test Cni.sln -c Release --no-build --results-directory "$results" --logger "trx" --logger "console;verbosity=normal" "$@" \
  || status=$?

# One closing line over every test project, counted from the TRX files the runners wrote.
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed)))
  skipped=$((skipped + $(get notExecuted)))
done
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" != 0 ] || [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
  exit 1
fi
