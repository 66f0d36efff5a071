#!/usr/bin/env bash
# Runs JOBDIR/job.sh as root inside the micro-VM and waits for it.
#   usage: tools/microvm/run.sh JOBDIR [TIMEOUT_SECONDS]
# Inside, the job sees this machine's whole root read-only at the same paths (so built binaries just work), fresh
# tmpfs on /tmp and /run, and JOBDIR read-write at /run/job (its working directory). Afterwards JOBDIR holds
# stdout, stderr, rc and console.log. This script relays the job's stdout/stderr and exits with its status; when
# the VM gives no status (boot failure, timeout) it prints the console's tail and exits 125.
set -euo pipefail

job=$(cd "${1:?usage: run.sh JOBDIR [TIMEOUT_SECONDS]}" && pwd)
timeout_s=${2:-300}
kit=${BRANCH_ENI_VM_CACHE:-${BRANCH_ENI_CACHE:-/var/cache/branch-eni}/vm}/kit
# A kit from before the PVH boot has only vmlinuz: prepare.sh (which test.sh and demo.sh run first) rebuilds it.
if [ ! -f "$kit/ready" ] || [ ! -f "$kit/vmlinux" ]; then
  echo "microvm: no current kit in $kit; run tools/microvm/prepare.sh" >&2
  exit 125
fi
[ -f "$job/job.sh" ] || { echo "microvm: $job/job.sh is missing" >&2; exit 125; }
rm -f "$job/rc" "$job/stdout" "$job/stderr" "$job/console.log" "$job/modules-failed"

# At most BRANCH_ENI_VM_SLOTS VMs at once machine-wide (default 2, one per core): test projects run in parallel, and
# TCG guests starved of CPU miss their timeouts. The job's timeout starts once it holds a slot.
slots=${BRANCH_ENI_VM_SLOTS:-2}
# /var/lock is a link to /run/lock, which systemd-tmpfiles makes at boot; a container or a minimal machine may not
# have it (issue 16: nothing we rely on may be assumed to exist).
locks=$(readlink -f /var/lock)
mkdir -p "$locks"
waited=0
while :; do
  for ((i = 0; i < slots; i++)); do
    exec {slot_fd}>"$locks/branch-eni-vm.slot$i"
    if flock -n "$slot_fd"; then break 2; fi
    exec {slot_fd}>&-
  done
  if ((waited >= 1800)); then echo "microvm: no VM slot free after ${waited}s" >&2; exit 125; fi
  sleep 1; waited=$((waited + 1))
done

# The guest mounts fresh tmpfs on /tmp and /run, which would hide a checkout living there (CI may clone into /tmp):
# share such a checkout again at its own path, read-only.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
extra=()
append="console=ttyS0 quiet loglevel=3 panic=-1"
case "$repo" in
  /tmp/*|/run/*)
    extra=(-virtfs "local,path=$repo,mount_tag=repo,security_model=none,readonly=on,multidevs=remap")
    append="$append branch_eni.repo=$repo" ;;
esac

# BRANCH_ENI_VM_FOLLOW=1 relays the job's stdout while it runs (progress output) instead of afterwards;
# BRANCH_ENI_VM_CONSOLE=stdio puts the serial console on this terminal (a job may open a shell on /dev/ttyS0).
follow=${BRANCH_ENI_VM_FOLLOW:-0}
serial=("file:$job/console.log") qemu_in=/dev/null qemu_out=$job/qemu.log
if [ "${BRANCH_ENI_VM_CONSOLE:-}" = stdio ]; then
  serial=(stdio) qemu_in=/dev/stdin qemu_out=/dev/stdout follow=1
fi
if [ "$follow" = 1 ]; then
  : >"$job/stdout"
  tail -n +1 -F "$job/stdout" 2>/dev/null &
  tail_pid=$!
fi

# KVM is present on these machines but is kvm_pvm, which runs only PVM-aware guest kernels fast: TCG only.
# -kernel vmlinux (an ELF image) boots through qemu's PVH entry: about 2 s to the job instead of 5 s (prepare.sh).
timeout -k 5 "$timeout_s" qemu-system-x86_64 \
  -accel tcg -cpu max -m "${BRANCH_ENI_VM_MEMORY:-1024}" -smp "${BRANCH_ENI_VM_CPUS:-1}" \
  -display none -monitor none -serial "${serial[@]}" -no-reboot -nic none \
  -kernel "$kit/vmlinux" -initrd "$kit/initramfs.gz" \
  -append "$append" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$job,mount_tag=job,security_model=none,multidevs=remap" "${extra[@]}" \
  <"$qemu_in" >"$qemu_out" 2>&1 || true

if [ "$follow" = 1 ]; then
  sleep 0.5; kill "$tail_pid" 2>/dev/null || true; wait "$tail_pid" 2>/dev/null || true
elif [ -f "$job/stdout" ]; then
  cat "$job/stdout"
fi
[ -f "$job/stderr" ] && cat "$job/stderr" >&2
if [ -s "$job/modules-failed" ]; then
  echo "microvm: kernel modules failed to load:$(cat "$job/modules-failed"); console tail:" >&2
  tail -n 40 "$job/console.log" >&2
  exit 125
fi
if [ ! -s "$job/rc" ]; then
  echo "microvm: the VM returned no exit status (timeout ${timeout_s}s or boot failure); console tail:" >&2
  tail -n 40 "$job/console.log" >&2 2>/dev/null || true
  cat "$job/qemu.log" >&2 2>/dev/null || true
  exit 125
fi
exit "$(cat "$job/rc")"
