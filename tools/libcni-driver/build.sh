#!/usr/bin/env bash
# Builds the libcni driver against Debian's packaged libcni (GOPATH mode, no module downloads) into $1. Its Go build
# cache lives under $BRANCH_ENI_CACHE (go makes the folder and its parents itself).
#   tools/libcni-driver/build.sh OUTPUT
set -euo pipefail
out=${1:?usage: build.sh OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/libcni-driver"
cp "$here/main.go" "$gopath/src/libcni-driver/"
cd "$gopath/src/libcni-driver"
GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="${GOCACHE:-${BRANCH_ENI_CACHE:-/var/cache/branch-eni}/go-build}" GOFLAGS= \
  go build -o "$out" .
