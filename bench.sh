#!/usr/bin/env bash
# Prints the benchmark table (ratios against references measured in the same run) and records it in
# docs/benchmarks.md. Exits 3 when a measurement misses its aim.
set -euo pipefail
cd "$(dirname "$0")"
tools/install-prereqs.sh
dotnet build bench/Bench -c Release -v quiet -nologo
dotnet publish src/CniPlugin -c Release -o artifacts/bin -v quiet -nologo >/dev/null
# An empty native-AOT program: the VM rows' measure of a bare C# process start.
dotnet publish bench/EmptyAot -c Release -o artifacts/bench/empty-aot -v quiet -nologo >/dev/null
# The agent rows run the shipped native-AOT agent.
dotnet publish src/NodeAgent -c Release -r linux-x64 -o artifacts/bench/agent -v quiet -nologo >/dev/null
# The cluster rows run the shipped native-AOT controller too.
dotnet publish src/Controller -c Release -r linux-x64 -o artifacts/bench/controller -v quiet -nologo >/dev/null
mkdir -p docs
exec dotnet bench/Bench/bin/Release/net10.0/branch-eni-bench.dll --write docs/benchmarks.md "$@"
