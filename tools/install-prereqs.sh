#!/usr/bin/env bash
# Installs what the build and every test tier need on a fresh Debian 12 machine with the .NET 10 SDK, then the
# micro-VM kit. Idempotent and quick when everything is present (no apt-get update unless a package is missing).
set -euo pipefail

# command -> Debian package providing it
declare -A need=(
  [qemu-system-x86_64]=qemu-system-x86 [busybox]=busybox-static [cpio]=cpio [ip]=iproute2 [nft]=nftables
  [depmod]=kmod [strace]=strace [clang]=clang [dpkg-deb]=dpkg [gzip]=gzip [ping]=iputils-ping [go]=golang-go [kubectl]=kubernetes-client
  [xz]=xz-utils [jq]=jq [curl]=curl [nsenter]=util-linux [runuser]=util-linux [psql]=postgresql-client
)
# files -> package (plugins and headers have no command on PATH)
declare -A need_files=(
  [/usr/lib/cni/ptp]=containernetworking-plugins [/usr/include/zlib.h]=zlib1g-dev
  [/usr/share/gocode/src/github.com/containernetworking/cni/libcni]=golang-github-appc-cni-dev
)

missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
for file in "${!need_files[@]}"; do
  [ -e "$file" ] || missing+=("${need_files[$file]}")
done
# The demo's "RDS": a PostgreSQL server of any version (the client package alone also fills /usr/lib/postgresql).
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
# kubectl is on this project's machine image; Debian 12 has no package for it, so it is only reported.
filtered=()
for pkg in "${missing[@]}"; do
  if [ "$pkg" = kubernetes-client ]; then echo "prereqs: kubectl not found (needed by the sandbox's kubectl tests)" >&2; else filtered+=("$pkg"); fi
done

if [ ${#filtered[@]} -gt 0 ]; then
  echo "prereqs: installing ${filtered[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${filtered[@]}" >/dev/null
fi

# apt-get download needs package lists; a machine that never ran apt-get update has none.
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
  apt-get update -qq
fi
"$(dirname "$0")/microvm/prepare.sh"
