#!/bin/busybox sh
# PID 1 of the micro-VM. Loads the modules, mounts the host's root read-only (9p tag hostroot) as the new root with
# fresh /proc /sys /dev and tmpfs on /tmp and /run, mounts the job folder (9p tag job) read-write at /run/job, runs
# /run/job/job.sh with bash inside the chroot, records the exit status, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
failed=""
for m in $(cat /modules/order); do
  insmod "/modules/$m" || { echo "microvm: insmod $m failed"; failed="$failed $m"; }
done
opts=trans=virtio,version=9p2000.L,msize=262144
# The host root and the checkout are read-only shares that do not change under a job: cache=loose keeps what the
# guest read in its page cache, so a binary's pages are fetched over 9p once, not at every page fault (kubectl,
# the .NET runtime and PostgreSQL were many times slower without it). The job folder stays uncached (live output).
if ! mount -t 9p -o "$opts,ro,cache=loose" hostroot /newroot; then
  echo "microvm: cannot mount the host root"; poweroff -f
fi
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/shm /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/run
mkdir -p /newroot/run/job /newroot/run/netns
# A checkout under /tmp or /run comes as its own share (run.sh), mounted back at its path over the fresh tmpfs.
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    branch_eni.repo=*)
      repo=${arg#branch_eni.repo=}
      mkdir -p "/newroot$repo"
      mount -t 9p -o "$opts,ro,cache=loose" repo "/newroot$repo" || echo "microvm: cannot mount the checkout at $repo" ;;
  esac
done
if ! mount -t 9p -o "$opts" job /newroot/run/job; then
  echo "microvm: cannot mount the job folder"; poweroff -f
fi
# A module that did not load would make tests fail in confusing ways later: report it, run.sh fails the job.
[ -n "$failed" ] && echo "$failed" > /newroot/run/job/modules-failed
ip link set lo up 2>/dev/null
echo "microvm: running job"
chroot /newroot /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/tmp TERM=dumb BRANCH_ENI_IN_VM=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
  /bin/bash -c 'cd /run/job && exec /bin/bash ./job.sh' \
  > /newroot/run/job/stdout 2> /newroot/run/job/stderr < /dev/null
rc=$?
echo "$rc" > /newroot/run/job/rc
echo "microvm: job exit $rc"
sync
umount /newroot/run/job
poweroff -f
