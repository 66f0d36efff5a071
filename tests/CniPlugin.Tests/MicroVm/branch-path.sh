#!/bin/bash
# The full branch path in the micro-VM (real 802.1Q), driven through the published binary ($BIN).
# A simulated VPC of namespaces: "node" runs the plugin; its trunk0 is a veth into "vpc", which holds trunkpeer.7
# (VLAN 7, the branch subnet's gateway 10.77.0.1) and routes to a service host "svc". Untagged node traffic is
# routed by vpc table 200, which does not know the service: only VLAN 7 (the branch ENI's security groups) reaches it.
set -u
BIN=${BIN:?}
S=/run/be-state
UIDG=0f1e2d3c-aaaa-bbbb-cccc-000000000007
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "PASS: $*"; }
q() { "$@" >/dev/null 2>&1; }

for n in node vpc svc; do ip netns add $n; ip -n $n link set lo up; done
ip -n node link add trunk0 type veth peer name trunkpeer netns vpc
ip -n node link set trunk0 up; ip -n vpc link set trunkpeer up
ip -n node addr add 10.50.0.2/24 dev trunk0; ip -n node route add default via 10.50.0.1
ip -n vpc addr add 10.50.0.1/24 dev trunkpeer
ip -n vpc link add link trunkpeer name trunkpeer.7 type vlan id 7; ip -n vpc link set trunkpeer.7 up
ip -n vpc addr add 10.77.0.1/24 dev trunkpeer.7
# The VPC knows each ENI's MAC; it never ARPs for a branch IP.
ip -n vpc neigh add 10.77.0.20 lladdr 0e:ee:16:bd:41:31 dev trunkpeer.7 nud permanent
ip -n vpc link add svcgw type veth peer name eth0 netns svc
ip -n vpc addr add 10.99.0.1/24 dev svcgw; ip -n vpc link set svcgw up
ip -n svc addr add 10.99.0.10/24 dev eth0; ip -n svc link set eth0 up; ip -n svc route add default via 10.99.0.1
ip -n vpc route add 10.213.0.0/16 via 10.50.0.2
ip -n vpc rule add iif trunkpeer lookup 200 prio 100
ip -n vpc route add 10.50.0.0/24 dev trunkpeer table 200
ip -n vpc route add 10.213.0.0/16 via 10.50.0.2 table 200
ip -n vpc route add unreachable default table 200
ip netns exec vpc sysctl -qw net.ipv4.ip_forward=1
ip netns exec node sysctl -qw net.ipv4.ip_forward=1
# No IPv6 on the node: its link-local chatter (ND, MLD) on vlan.eth.N would blur the tagged-packet counts below.
ip netns exec node sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

mkdir -p $S/pods
TRUNK_MAC=$(ip -n node -j link show trunk0 | jq -r '.[0].address')
echo "{\"eniId\":\"eni-0abc\",\"macAddress\":\"$TRUNK_MAC\",\"linkName\":\"trunk0\"}" > $S/trunk.json
record() { # uid name vlan mac ip
  echo "{\"eniId\":\"eni-0f$3\",\"ifAddress\":\"$4\",\"privateIp\":\"$5\",\"ipv6Addr\":\"\",\"vlanId\":$3,\"subnetCidr\":\"10.77.0.0/16\",\"subnetV6Cidr\":\"\",\"associationID\":\"trunk-assoc-$3\",\"podNamespace\":\"default\",\"podName\":\"$2\",\"podUid\":\"$1\"}" > $S/pods/$1.json
}
echo "{\"eniId\":\"eni-0f1\",\"ifAddress\":\"0e:ee:16:bd:41:31\",\"privateIp\":\"10.77.0.20\",\"ipv6Addr\":\"\",\"vlanId\":7,\"subnetCidr\":\"10.77.0.0/24\",\"subnetV6Cidr\":\"\",\"associationID\":\"trunk-assoc-1\",\"podNamespace\":\"default\",\"podName\":\"green\",\"podUid\":\"$UIDG\"}" > $S/pods/$UIDG.json

conf() { # version mode [prevResult]
  local dv=""; [ "$1" = 1.1.0 ] && dv='"cniVersion":"1.0.0",'
  local prev=""; [ -n "${3:-}" ] && prev=",\"prevResult\":$3"
  echo "{\"cniVersion\":\"$1\",\"name\":\"pods\",\"type\":\"branch-eni\",\"stateDir\":\"$S\",\"enforcingMode\":\"$2\",\"logFile\":\"/run/job/plugin.log\",\"logLevel\":\"debug\",\"delegate\":{$dv\"type\":\"ptp\",\"ipMasq\":false,\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.213.1.0/24\",\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"/tmp/ipam\"}}$prev}"
}
cni() { # command version mode containerid netns podname uid [prevResult]
  conf "$2" "$3" "${8:-}" | ip netns exec node env -i CNI_COMMAND=$1 CNI_CONTAINERID=$4 CNI_NETNS=$5 CNI_IFNAME=eth0 \
    CNI_PATH=/usr/lib/cni CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$6;K8S_POD_UID=$7" $BIN
}
snap() { ip -n node -d link show; ip -n node addr show; ip -n node route show table all; ip -n node rule show; }
showdiff() { echo "$before" > /tmp/before.txt; snap > /tmp/after.txt; diff /tmp/before.txt /tmp/after.txt; }
# Link state settles asynchronously (carrier, "linkdown" on routes): compare for up to 3 s before calling it a change.
unchanged() { for _ in $(seq 30); do [ "$(snap)" = "$before" ] && return 0; sleep 0.1; done; return 1; }
rx7() { ip -n vpc -s -j link show trunkpeer.7 | jq '.[0].stats64.rx.packets'; }

# ADD, CHECK, traffic, DEL, DEL for every spec version in both modes; the node must end as it began.
before=$(snap)
i=0
for mode in strict standard; do
  for ver in 0.3.1 0.4.0 1.0.0 1.1.0; do
    i=$((i+1)); cid=ctr-green-$i
    ip netns add green
    out=$(cni ADD $ver $mode $cid /run/netns/green green $UIDG) || fail "ADD $mode $ver: $out"
    [ "$(echo "$out" | jq -r .cniVersion)" = $ver ] || fail "ADD $mode $ver answered $(echo "$out" | jq -r .cniVersion)"
    [ "$(echo "$out" | jq -r '.interfaces[2].name')" = vlan.eth.7 ] || fail "result lacks the vlan link: $out"
    ip -n node -d link show vlan.eth.7 | grep -q "vlan protocol 802.1Q id 7" || fail "vlan.eth.7 is not 802.1Q id 7"
    ip -n node -d link show vlan.eth.7 | grep -q "alias $cid" || fail "vlan.eth.7 lacks its owner alias"
    r0=$(rx7)
    q ip netns exec green ping -c 2 -W 3 10.99.0.10 || fail "$mode $ver: the branch pod cannot reach the service"
    r1=$(rx7)
    [ "$r1" -ge $((r0 + 2)) ] || fail "$mode $ver: the pod's packets did not arrive tagged VLAN 7 ($r0 -> $r1)"
    if [ $ver != 0.3.1 ]; then
      c=$(cni CHECK $ver $mode $cid /run/netns/green green $UIDG "$out") || fail "CHECK $mode $ver: $c"
      q ip -n node rule del prio $([ $mode = strict ] && echo 10 || echo 1536) table 107
      c=$(cni CHECK $ver $mode $cid /run/netns/green green $UIDG "$out") && fail "CHECK $mode $ver passed with a rule missing"
      echo "$c" | grep -q "lookup 107 is missing ($mode mode)" || fail "CHECK did not name the missing rule: $c"
    fi
    # 1.1.0: the netns is already gone when DEL comes (the runtime removed it first).
    [ $ver = 1.1.0 ] && ip netns del green
    d=$(cni DEL $ver $mode $cid /run/netns/green green $UIDG "$out") || fail "DEL $mode $ver: $d"
    d=$(cni DEL $ver $mode $cid /run/netns/green green $UIDG "$out") || fail "second DEL $mode $ver: $d"
    unchanged || { showdiff; fail "$mode $ver: DEL left the node changed"; }
    [ $ver = 1.1.0 ] || ip netns del green
    ok "$mode $ver add check traffic tagged del del"
  done
done

# A branch pod and a delegated pod on the same node: the delegated one reaches the network, not the service.
ip netns add green; ip netns add red
# What the agent writes for a pod of its node that no policy selects: without it the plugin refuses to delegate.
mkdir -p $S/decisions
echo '{"podUid":"0f1e2d3c-aaaa-bbbb-cccc-0000000000ee","podNamespace":"default","podName":"red","branch":false,"reason":"no SecurityGroupPolicy selects it"}' > $S/decisions/0f1e2d3c-aaaa-bbbb-cccc-0000000000ee.json
g=$(cni ADD 1.0.0 strict ctr-g /run/netns/green green $UIDG) || fail "ADD green: $g"
r=$(cni ADD 1.0.0 strict ctr-r /run/netns/red red 0f1e2d3c-aaaa-bbbb-cccc-0000000000ee) || fail "ADD red: $r"
echo "$r" | jq -r '.ips[0].address' | grep -q '^10.213.1.' || fail "red was not delegated: $r"
q ip netns exec green ping -c 1 -W 3 10.99.0.10 || fail "green cannot reach the service"
r0=$(rx7)
q ip netns exec red ping -c 1 -W 3 10.50.0.1 || fail "the delegated pod cannot reach the network"
q ip netns exec red ping -c 2 -W 2 10.99.0.10 && fail "the delegated pod reached the VLAN-only service"
[ "$(rx7)" = "$r0" ] || fail "the delegated pod's packets went onto VLAN 7"
ok "delegated pod reaches the network but not the VLAN-only service"
# The trunk vanishing (and its VLAN links with it) does not make DEL fail.
cni DEL 1.0.0 strict ctr-r /run/netns/red red 0f1e2d3c-aaaa-bbbb-cccc-0000000000ee "$r" >/dev/null || fail "DEL red"
ip -n node link set trunk0 down
ip -n node link del vlan.eth.7
d=$(cni DEL 1.0.0 strict ctr-g /run/netns/green green $UIDG "$g") || fail "DEL with the VLAN gone: $d"
ip -n node link set trunk0 up; ip -n node route replace default via 10.50.0.1
unchanged || { showdiff; fail "DEL with the VLAN gone left something"; }
ip netns del green; ip netns del red
ok "DEL with the vlan link gone"

# 20 pods at once (kubelet runs sandboxes in parallel): every ADD then every DEL succeeds and nothing is left.
for k in $(seq 1 20); do
  u=0f1e2d3c-aaaa-bbbb-cccc-0000000001$(printf %02d $k)
  record $u p$k $((k + 10)) 0e:ee:16:bd:42:$(printf %02x $k) 10.77.1.$k
  ip netns add p$k
done
for k in $(seq 1 20); do
  u=0f1e2d3c-aaaa-bbbb-cccc-0000000001$(printf %02d $k)
  (cni ADD 1.0.0 strict c$k /run/netns/p$k p$k $u > /run/job/add$k.json 2>&1; echo $? > /run/job/add$k.rc) &
done
wait
for k in $(seq 1 20); do [ "$(cat /run/job/add$k.rc)" = 0 ] || fail "parallel ADD $k: $(cat /run/job/add$k.json)"; done
[ "$(ip -n node -d link show type vlan | grep -c 'vlan protocol 802.1Q')" = 20 ] || fail "not 20 vlan links"
[ "$(ip -n node rule show | grep -c 'lookup 1[1-3][0-9]')" = 40 ] || fail "not 40 rules: $(ip -n node rule show)"
for k in $(seq 1 20); do
  u=0f1e2d3c-aaaa-bbbb-cccc-0000000001$(printf %02d $k)
  (cni DEL 1.0.0 strict c$k /run/netns/p$k p$k $u "$(cat /run/job/add$k.json)" > /run/job/del$k.json 2>&1; echo $? > /run/job/del$k.rc) &
done
wait
for k in $(seq 1 20); do [ "$(cat /run/job/del$k.rc)" = 0 ] || fail "parallel DEL $k: $(cat /run/job/del$k.json)"; done
unchanged || { showdiff; fail "parallel ADD/DEL left something"; }
for k in $(seq 1 20); do ip netns del p$k; done
ok "20 parallel ADDs then DELs leave nothing"
# GC (1.1.0): the plumbing of containers outside cni.dev/valid-attachments goes, the valid one stays.
ip netns add green; ip netns add p1
record 0f1e2d3c-aaaa-bbbb-cccc-000000000101 p1 11 0e:ee:16:bd:42:01 10.77.1.1
g=$(cni ADD 1.1.0 strict ctr-stale /run/netns/green green $UIDG) || fail "ADD for GC: $g"
k=$(cni ADD 1.1.0 strict ctr-kept /run/netns/p1 p1 0f1e2d3c-aaaa-bbbb-cccc-000000000101) || fail "ADD kept: $k"
gcconf=$(conf 1.1.0 strict | jq -c '. + {"cni.dev/valid-attachments":[{"containerID":"ctr-kept","ifname":"eth0"}]}')
echo "$gcconf" | ip netns exec node env -i CNI_COMMAND=GC CNI_PATH=/usr/lib/cni $BIN || fail "GC failed"
ip -n node link show vlan.eth.7 >/dev/null 2>&1 && fail "GC left the stale vlan.eth.7"
ip -n node rule show | grep -q 'lookup 107' && fail "GC left the stale rules of table 107"
ip -n node -d link show vlan.eth.11 | grep -q 'alias ctr-kept' || fail "GC removed the valid container's vlan.eth.11"
gcconf=$(conf 1.1.0 strict | jq -c '. + {"cni.dev/attachments":[]}')
echo "$gcconf" | ip netns exec node env -i CNI_COMMAND=GC CNI_PATH=/usr/lib/cni $BIN || fail "GC with cni.dev/attachments failed"
unchanged || { showdiff; fail "GC with no valid attachments left something"; }
ip netns del green; ip netns del p1
ok "GC removes exactly the containers outside the valid set"

# A real runtime library drives the binary: libcni (Debian's, built at test time) ADD, CHECK, DEL, DEL, with its
# result cache providing prevResult, exactly as containerd does.
if [ -n "${LIBCNI:-}" ]; then
  ip netns add green
  conf 1.0.0 strict | jq -c '{cniVersion:"1.0.0", name:"pods", plugins:[del(.cniVersion, .name)]}' > /tmp/pods.conflist
  lc() { ip netns exec node $LIBCNI $1 -conflist /tmp/pods.conflist -cni-path "$(dirname $BIN):/usr/lib/cni" -netns /run/netns/green \
    -id ctr-libcni -ifname eth0 -args "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=green;K8S_POD_UID=$UIDG" -cache-dir /tmp/libcni-cache; }
  a=$(lc add 2>&1) || fail "libcni add: $a"
  echo "$a" | jq -e '.interfaces[2].name == "vlan.eth.7"' >/dev/null || fail "libcni result lacks vlan.eth.7: $a"
  q ip netns exec green ping -c 1 -W 3 10.99.0.10 || fail "libcni-added pod cannot reach the service"
  c=$(lc check 2>&1) || fail "libcni check: $c"
  d=$(lc del 2>&1) || fail "libcni del: $d"
  d=$(lc del 2>&1) || fail "libcni second del: $d"
  unchanged || { showdiff; fail "libcni ADD/DEL left something"; }
  ip netns del green
  ok "libcni add check del del"
fi
echo ALL-DONE
