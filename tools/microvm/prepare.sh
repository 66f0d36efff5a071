#!/usr/bin/env bash
# Builds the micro-VM kit once and caches it: a Debian kernel (real 802.1Q, nftables) as the uncompressed ELF image
# qemu boots through its PVH entry, the modules the tests need in load order, and a busybox initramfs whose /init
# mounts this machine's root read-only over 9p and runs a job. Re-running with a kit present does nothing; a kit
# made by another version of this script or init.sh is rebuilt. Creates every folder it uses (the cache's parents
# too), so it works on a machine that never ran it. Needs: apt-get (for `apt-get download`), dpkg-deb,
# busybox-static, cpio, kmod (depmod), xz-utils, qemu-system-x86 — tools/install-prereqs.sh installs them.
set -euo pipefail

cache=${BRANCH_ENI_VM_CACHE:-${BRANCH_ENI_CACHE:-/var/cache/branch-eni}/vm}
kit="$cache/kit"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The initramfs embeds init.sh: a changed init means a new kit.
stamp="$(sha256sum "$here/init.sh" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"

kit_ready() { [ -f "$kit/ready" ] && [ "$(cat "$kit/ready")" = "$stamp" ]; }
kit_ready && exit 0

# The work folder, the lock and the new kit all live beside $cache, whose parents a fresh machine does not have
# (mktemp does not make them: issue 16).
mkdir -p "$(dirname "$cache")"
# One builder at a time: test.sh and demo.sh of two checkouts may start together; the second finds the kit ready.
exec {lock_fd}>"$cache.lock"
flock "$lock_fd"
kit_ready && exit 0

# Modules wanted inside the VM; their dependencies are resolved through depmod, so the list names only leaves.
# crc32c_generic first: libcrc32c only soft-depends on it, which modules.dep does not record.
wanted=(crc32c_generic virtio_pci 9pnet_virtio 9p 8021q veth dummy bridge af_packet
        nf_tables nft_ct nft_chain_nat nft_reject_inet nft_fib_inet nft_masq nf_conntrack)

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$pkg" ]; then
  echo "microvm: apt knows no linux-image-amd64; run 'apt-get update' first" >&2
  exit 1
fi

work=$(mktemp -d "$cache.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "microvm: fetching $pkg"
(cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "microvm: apt-get download $pkg failed" >&2; exit 1; }
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/root"
kver=${pkg#linux-image-}
moddir="$work/root/lib/modules/$kver"
depmod -b "$work/root" "$kver"

declare -A seen=()
order=()
resolve() {
  local name=${1//-/_} line path deps dep
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  # modules.dep lines: "kernel/net/8021q/8021q.ko: kernel/net/802/mrp.ko kernel/net/802/garp.ko ..."
  line=$(grep -E "(^|/)${name//_/[_-]}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" || true)
  if [ -z "$line" ]; then
    if grep -qE "(^|/)${name//_/[_-]}\.ko$" "$moddir/modules.builtin"; then return 0; fi
    echo "microvm: module $name is neither a module nor built into $kver" >&2
    exit 1
  fi
  path=${line%%:*}
  deps=${line#*:}
  for dep in $deps; do
    dep=$(basename "$dep"); resolve "${dep%%.ko*}"
  done
  order+=("$path")
}
for m in "${wanted[@]}"; do resolve "$m"; done

initrd="$work/initrd"
mkdir -p "$initrd"/{bin,dev,proc,sys,newroot,modules}
cp /bin/busybox "$initrd/bin/busybox"
file_type=$(head -c 4 /bin/busybox | od -An -c | tr -d ' ')
[ "$file_type" = '177ELF' ] || { echo "microvm: /bin/busybox is not an ELF binary" >&2; exit 1; }
: > "$initrd/modules/order"
for path in "${order[@]}"; do
  cp "$moddir/$path" "$initrd/modules/"
  basename "$path" >> "$initrd/modules/order"
done
cp "$here/init.sh" "$initrd/init"
chmod +x "$initrd/init"
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

# qemu boots an uncompressed ELF kernel through its PVH entry (the Xen PHYS32_ENTRY note), skipping the bzImage's
# real-mode setup and self-decompression, which TCG emulates slowly: with the same initramfs a boot to the job took
# 5.0 s from vmlinuz and 2.0 s from vmlinux (issue 16). Debian ships only the bzImage, so take the ELF image out of
# it as the kernel's scripts/extract-vmlinux does: try each compressor at each offset where its magic occurs and
# keep the first output that is an ELF image with that note.
has_pvh_entry() {
  # ELF magic, then a note named "Xen" of type 18 (XEN_ELFNOTE_PHYS32_ENTRY) with a 4- or 8-byte address: what
  # qemu looks for before it boots an ELF kernel.
  [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] \
    && LC_ALL=C grep -qaP '\x04\x00\x00\x00[\x04\x08]\x00\x00\x00\x12\x00\x00\x00Xen\x00' "$1"
}
extract_vmlinux() {
  local bz=$1 out=$2 entry magic tool offset
  for entry in '1f8b08:gzip -dc' 'fd377a585a00:xz -dc --single-stream' '28b52ffd:zstd -dcq' '425a68:bzip2 -dc' \
               '5d000000:xz -dc --format=lzma' '02214c18:lz4 -dc' '894c5a4f:lzop -dc'; do
    magic=${entry%%:*} tool=${entry#*:}
    command -v "${tool%% *}" >/dev/null || continue
    for offset in $(LC_ALL=C grep -obaP "$(sed 's/../\\x&/g' <<<"$magic")" "$bz" | cut -d: -f1); do
      # The payload is followed by the rest of the bzImage: decompressors complain about it, the output is whole.
      tail -c +$((offset + 1)) "$bz" | $tool >"$out" 2>/dev/null || true
      has_pvh_entry "$out" && return 0
    done
  done
  return 1
}
bzimage="$work/root/boot/vmlinuz-$kver"
if ! extract_vmlinux "$bzimage" "$work/vmlinux"; then
  echo "microvm: found no ELF kernel with a PVH entry inside $bzimage (a compression this script does not know?)" >&2
  exit 1
fi

rm -rf "$kit.new"
mkdir -p "$kit.new"
cp "$work/vmlinux" "$kit.new/vmlinux"
cp "$work/initramfs.gz" "$kit.new/initramfs.gz"
cp "$initrd/modules/order" "$kit.new/modules.order"
echo "$kver" > "$kit.new/kernel-version"
echo "$stamp" > "$kit.new/ready"
rm -rf "$kit"
mv "$kit.new" "$kit"
echo "microvm: kit ready ($kver, ${#order[@]} modules) in $kit"
