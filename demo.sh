#!/usr/bin/env bash
# The main job. Until the full tutorial demo lands (issue: "The README's main command"), it does the part that exists
# for real: builds the native CNI binary, boots the micro-VM (a Debian kernel with 802.1Q, since this machine's
# kernel has none), and there creates a trunk-like parent link and a branch VLAN link the way a branch pod gets one,
# shows the kernel's own report of it, and asks the CNI binary which spec versions it speaks.
set -euo pipefail
cd "$(dirname "$0")"
step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then echo "demo.sh: needs root (qemu, network namespaces)" >&2; exit 1; fi
step "prerequisites (apt packages, micro-VM kernel kit)"
tools/install-prereqs.sh
step "building the native CNI binary branch-eni"
dotnet publish src/CniPlugin -c Release -o artifacts/bin -v quiet -nologo | grep -v '^\s*$' || true
cni=$PWD/artifacts/bin/branch-eni

job=$(mktemp -d /var/tmp/branch-eni-demo.XXXXXX)
trap 'rm -rf "$job"' EXIT
cat > "$job/job.sh" <<JOB
set -euo pipefail
echo "kernel in the VM: \$(uname -r)"
ip netns add node
ip netns add vpc
# The trunk ENI: one veth pair, node side 'trunk', far side in the 'vpc' namespace.
ip link add trunk netns node type veth peer name trunk-far netns vpc
ip -n node link set trunk up; ip -n vpc link set trunk-far up
# Branch ENI on VLAN 1 (MAC = the branch ENI's), as the CNI builds it.
ip -n node link add link trunk name vlan.eth.1 address 0e:ee:16:bd:41:31 type vlan id 1
ip -n node link set vlan.eth.1 up
ip -n node addr add 192.168.19.148/32 dev vlan.eth.1
ip -n vpc link add link trunk-far name trunk-far.1 type vlan id 1
ip -n vpc addr add 192.168.0.1/19 dev trunk-far.1
ip -n vpc link set trunk-far.1 up
ip -n node route add 192.168.0.1/32 dev vlan.eth.1 scope link
echo; echo "--- ip -d link show vlan.eth.1 (node namespace)"
ip -n node -d link show vlan.eth.1
echo; echo "--- ping across VLAN 1 (node vlan.eth.1 -> vpc gateway 192.168.0.1)"
ip netns exec node ping -c 2 -W 2 -I vlan.eth.1 192.168.0.1
echo; echo "--- branch-eni VERSION"
echo '{"cniVersion":"1.1.0"}' | CNI_COMMAND=VERSION $cni
JOB
step "booting the micro-VM (qemu TCG) and building a branch VLAN link"
tools/microvm/run.sh "$job" 240
step "done: 802.1Q link built and used on a real kernel; the full tutorial demo is still to come"
