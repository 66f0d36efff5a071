#!/bin/bash
# The debug commands against real 802.1Q plumbing in the micro-VM. The real CNI binary ($BIN) wires two branch pods in
# a "node" namespace whose trunk0 is a veth into "vpc"; the agent executable ($AGENT) then must verify them clean,
# name each deliberately broken piece, plan without changing anything in a dry run, remove exactly the orphans, and
# verify clean again once the broken pod is repaired.
set -u
BIN=${BIN:?}
AGENT=${AGENT:?}
S=/run/be-state
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "PASS: $*"; }

for n in node vpc green blue; do ip netns add $n; ip -n $n link set lo up; done
ip -n node link add trunk0 type veth peer name trunkpeer netns vpc
ip -n node link set trunk0 up; ip -n vpc link set trunkpeer up
ip netns exec node sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
# What the agent does once per node in strict mode: local delivery after the prio-10 iif rules.
ip -n node rule add pref 20 lookup local; ip -n node rule del pref 0 lookup local

mkdir -p $S/pods /run/job/conf /run/job/bin
cp $BIN /run/job/bin/branch-eni
TRUNK_MAC=$(ip -n node -j link show trunk0 | jq -r '.[0].address')
echo "{\"eniId\":\"eni-0abc\",\"macAddress\":\"$TRUNK_MAC\",\"linkName\":\"trunk0\"}" > $S/trunk.json
echo "{\"cniVersion\":\"1.0.0\",\"name\":\"branch-eni\",\"plugins\":[{\"type\":\"branch-eni\",\"stateDir\":\"$S\",\"enforcingMode\":\"strict\"}]}" > /run/job/conf/05-branch-eni.conflist
uid() { echo "0f1e2d3c-aaaa-bbbb-cccc-00000000000$1"; }
record() { # name vlan mac ip
  echo "{\"eniId\":\"eni-0f$2\",\"ifAddress\":\"$3\",\"privateIp\":\"$4\",\"ipv6Addr\":\"\",\"vlanId\":$2,\"subnetCidr\":\"10.77.0.0/16\",\"subnetV6Cidr\":\"\",\"associationID\":\"trunk-assoc-$2\",\"podNamespace\":\"default\",\"podName\":\"$1\",\"podUid\":\"$(uid $2)\"}" > $S/pods/$(uid $2).json
}
cni() { # command name vlan
  ip netns exec node env -i CNI_COMMAND=$1 CNI_CONTAINERID=ctr-$2 CNI_NETNS=/run/netns/$2 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
    CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$2;K8S_POD_UID=$(uid $3)" $BIN \
    <<< "{\"cniVersion\":\"1.0.0\",\"name\":\"branch-eni\",\"type\":\"branch-eni\",\"stateDir\":\"$S\",\"enforcingMode\":\"strict\",\"logFile\":\"/run/job/plugin.log\"}"
}
dbg() { "$AGENT" "$@" --netns /run/netns/node --state-dir $S --cni-conf-dir /run/job/conf --cni-bin-dir /run/job/bin --health-address 127.0.0.1:1; }
snap() { ip -n node -d link show | grep -v "^ *link/\|RX\|TX\|^ *[0-9]" ; ip -n node route show table all; ip -n node rule show; }

record green 7 0e:ee:16:bd:41:31 10.77.0.20
record blue 8 0e:ee:16:bd:41:32 10.77.0.21
a=$(cni ADD green 7) || fail "CNI ADD green: $a"
a=$(cni ADD blue 8) || fail "CNI ADD blue: $a"

out=$(dbg verify); rc=$?
echo "$out"
[ $rc = 0 ] || fail "verify of a correct node exited $rc"
echo "$out" | grep -qx "verify: OK (2 pods, strict mode from conflist)" || fail "verify summary: $out"
ok "verify passes on plumbing built by the real CNI"

echo "--- pods"
dbg pods | tee /run/job/pods.txt
dbg pods -o json > /run/job/pods.json || fail "pods -o json"
[ "$(jq -r '[.pods[] | .kernel] | join(",")' /run/job/pods.json)" = "ok,ok" ] || fail "pods kernel column: $(cat /run/job/pods.json)"
[ "$(jq -r '.pods[] | select(.name=="green") | .podNetns' /run/job/pods.json)" = /run/netns/green ] || fail "green's netns not found"
[ "$(jq -r '.pods[] | select(.name=="green") | .containerId' /run/job/pods.json)" = ctr-green ] || fail "green's owner"
[ "$(dbg status -o json | jq -r '.trunk.state + " " + (.vlanLinks|map(tostring)|join(","))')" = "up 7,8" ] || fail "status: $(dbg status)"
ok "pods and status show both pods, their namespaces and the trunk"

# Break it: a rule gone, a MAC changed, a route removed, a pod whose sandbox died without DEL, an orphan VLAN link.
VETH=$(jq -r '.pods[] | select(.name=="green") | .hostVeth' /run/job/pods.json)
ip -n node rule del pref 10 iif vlan.eth.7 lookup 107
ip -n node link set vlan.eth.7 address 0e:ee:16:bd:41:99
ip -n node route del default table 107
ip netns del blue
ip -n node link add link trunk0 name vlan.eth.9 type vlan id 9
ip -n node link set vlan.eth.9 alias ctr-stale up
ip -n node route add 10.77.0.1/32 dev vlan.eth.9 scope link table 109
ip -n node route add default via 10.77.0.1 dev vlan.eth.9 table 109
ip -n node rule add pref 10 iif vlan.eth.9 lookup 109

out=$(dbg verify); rc=$?
echo "$out"
[ $rc = 1 ] || fail "verify of a broken node exited $rc"
for line in \
  "default/green: rule prio 10 iif vlan.eth.7 lookup 107 is missing (strict mode)" \
  "default/green: vlan.eth.7 has MAC 0e:ee:16:bd:41:99, the record says 0e:ee:16:bd:41:31" \
  "default/green: table 107 lacks default via 10.77.0.1 dev vlan.eth.7" \
  "default/blue: host veth $(jq -r '.pods[] | select(.name=="blue") | .hostVeth' /run/job/pods.json) is missing" \
  "node: orphan link vlan.eth.9 (owner ctr-stale): no record has VLAN 9" \
  "node: orphan rule prio 10 iif vlan.eth.9 lookup 109: no record has VLAN 9" \
  "node: orphan link vlan.eth.8 (owner ctr-blue): default/blue (VLAN 8) has no host veth $(jq -r '.pods[] | select(.name=="blue") | .hostVeth' /run/job/pods.json): its sandbox is gone"; do
  echo "$out" | grep -qxF "$line" || fail "verify did not say: $line"
done
[ "$(dbg verify default/green -o json | jq '.differences | length')" = 3 ] || fail "verify green: $(dbg verify default/green)"
ok "verify names each broken piece and exits 1"

before=$(snap)
out=$(dbg cleanup --dry-run); rc=$?
echo "$out"
[ $rc = 0 ] || fail "cleanup --dry-run exited $rc"
[ "$(snap)" = "$before" ] || fail "cleanup --dry-run changed the node"
echo "$out" | grep -qxF "would remove link vlan.eth.9 (owner ctr-stale): no record has VLAN 9" || fail "dry run lacks vlan.eth.9"
echo "$out" | grep -qF "would remove link vlan.eth.8 (owner ctr-blue)" || fail "dry run lacks vlan.eth.8"
echo "$out" | grep -q "vlan.eth.7" && fail "dry run would touch the live vlan.eth.7"
ok "cleanup --dry-run prints the orphans and changes nothing"

out=$(dbg cleanup); rc=$?
echo "$out"
[ $rc = 0 ] || fail "cleanup exited $rc"
ip -n node link show vlan.eth.9 >/dev/null 2>&1 && fail "cleanup left vlan.eth.9"
ip -n node link show vlan.eth.8 >/dev/null 2>&1 && fail "cleanup left vlan.eth.8"
ip -n node rule show | grep -q "lookup 10[89]" && fail "cleanup left rules: $(ip -n node rule show)"
[ -z "$(ip -n node route show table 109)" ] || fail "cleanup left table 109"
ip -n node link show vlan.eth.7 >/dev/null 2>&1 || fail "cleanup removed the live vlan.eth.7"
[ "$(dbg cleanup)" = "cleanup: nothing to remove" ] || fail "a second cleanup found more"
ok "cleanup removes exactly the orphans"

# Repair green by hand, drop blue's record (the agent does after its cooldown): the node verifies clean.
ip -n node link set vlan.eth.7 address 0e:ee:16:bd:41:31
ip -n node route add default via 10.77.0.1 dev vlan.eth.7 table 107
ip -n node rule add pref 10 iif vlan.eth.7 lookup 107
rm $S/pods/$(uid 8).json
out=$(dbg verify); rc=$?
echo "$out"
[ $rc = 0 ] || fail "verify after cleanup and repair exited $rc"
d=$(cni DEL green 7) || fail "CNI DEL green: $d"
out=$(dbg verify); rc=$?
[ $rc = 1 ] && echo "$out" | grep -qF "default/green: no kernel plumbing" || fail "verify after DEL: $out"
ok "after cleanup and repair the node verifies clean"
echo ALL-DONE
