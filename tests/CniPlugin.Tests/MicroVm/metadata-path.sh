#!/bin/bash
# Metadata access on the full branch path in the micro-VM (real 802.1Q), through the published binary ($BIN).
# "node" runs the plugin; its trunk0 is a veth into "vpc", whose trunkpeer.7 is VLAN 7 (gateway 10.77.0.1). The vpc
# namespace answers 169.254.169.254:80 (a static file server standing in for IMDS) and so does the node's own main
# table (node-imds, a different answer), which a branch pod must never reach. Per mode: a Denied record gets
# `unreachable 169.254.169.254/32` in table 107 and no answer; an Allowed record and a record without the field reach
# the VPC's answer through VLAN 7; CHECK notices the route removed or added behind its back; DEL leaves nothing.
set -u
BIN=${BIN:?}
S=/run/be-state
UIDG=0f1e2d3c-aaaa-bbbb-cccc-000000000007
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "PASS: $*"; }

for n in node vpc imds; do ip netns add $n; ip -n $n link set lo up; done
ip -n node link add trunk0 type veth peer name trunkpeer netns vpc
ip -n node link set trunk0 up; ip -n vpc link set trunkpeer up
ip -n vpc link add link trunkpeer name trunkpeer.7 type vlan id 7; ip -n vpc link set trunkpeer.7 up
ip -n vpc addr add 10.77.0.1/24 dev trunkpeer.7
ip -n vpc neigh add 10.77.0.20 lladdr 0e:ee:16:bd:41:31 dev trunkpeer.7 nud permanent
ip -n vpc addr add 169.254.169.254/32 dev lo
# The node's own metadata path (main table): a host "imds" behind node-imds, answering something else.
ip -n node link add node-imds type veth peer name eth0 netns imds
ip -n node link set node-imds up; ip -n imds link set eth0 up
ip -n imds addr add 169.254.169.254/32 dev eth0; ip -n imds route add 10.77.0.0/16 dev eth0
ip -n node route add 169.254.169.254/32 dev node-imds
ip netns exec node sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
serve() { # netns answer
  mkdir -p /run/job/www-$1/latest/meta-data; echo -n "$2" > /run/job/www-$1/latest/meta-data/instance-id
  (cd /run/job/www-$1 && ip netns exec $1 python3 -m http.server 80 --bind 169.254.169.254 >/run/job/http-$1.log 2>&1 &)
}
serve vpc i-0vpcanswer; serve imds i-0nodeanswer
for _ in $(seq 100); do ip netns exec vpc curl -sf -m 1 http://169.254.169.254/latest/meta-data/instance-id >/dev/null && break; sleep 0.2; done
for _ in $(seq 100); do ip netns exec imds curl -sf -m 1 http://169.254.169.254/latest/meta-data/instance-id >/dev/null && break; sleep 0.2; done

mkdir -p $S/pods
TRUNK_MAC=$(ip -n node -j link show trunk0 | jq -r '.[0].address')
echo "{\"eniId\":\"eni-0abc\",\"macAddress\":\"$TRUNK_MAC\",\"linkName\":\"trunk0\"}" > $S/trunk.json
record() { # metadataAccess ("" = no field)
  local field=""; [ -n "$1" ] && field=",\"metadataAccess\":\"$1\""
  echo "{\"eniId\":\"eni-0f1\",\"ifAddress\":\"0e:ee:16:bd:41:31\",\"privateIp\":\"10.77.0.20\",\"ipv6Addr\":\"\",\"vlanId\":7,\"subnetCidr\":\"10.77.0.0/24\",\"subnetV6Cidr\":\"\",\"associationID\":\"trunk-assoc-1\",\"podNamespace\":\"default\",\"podName\":\"green\",\"podUid\":\"$UIDG\"$field}" > $S/pods/$UIDG.json
}
cni() { # command mode containerid [prevResult]
  local prev=""; [ -n "${4:-}" ] && prev=",\"prevResult\":$4"
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"type\":\"branch-eni\",\"stateDir\":\"$S\",\"enforcingMode\":\"$2\",\"logFile\":\"/run/job/plugin.log\"$prev}" |
    ip netns exec node env -i CNI_COMMAND=$1 CNI_CONTAINERID=$3 CNI_NETNS=/run/netns/green CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
      CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=green;K8S_POD_UID=$UIDG" $BIN
}
snap() { ip -n node -d link show; ip -n node addr show; ip -n node route show table all; ip -n node rule show; }
unchanged() { for _ in $(seq 30); do [ "$(snap)" = "$before" ] && return 0; sleep 0.1; done; diff <(echo "$before") <(snap); return 1; }
fetch() { ip netns exec green curl -s -m 4 http://169.254.169.254/latest/meta-data/instance-id; }

before=$(snap)
i=0
for mode in strict standard; do
  if [ $mode = strict ]; then ip -n node rule add pref 20 lookup local; ip -n node rule del pref 0 lookup local; before=$(snap); fi
  for access in Denied Allowed ""; do
    i=$((i+1)); cid=ctr-md-$i; label=${access:-absent}
    ip netns add green
    record "$access"
    out=$(cni ADD $mode $cid) || fail "ADD $mode $label: $out"
    table=$(ip -n node route show table 107)
    if [ "$access" = Denied ]; then
      echo "$table" | grep -q "^unreachable 169.254.169.254 " || fail "$mode Denied: table 107 lacks the deny route: $table"
      got=$(fetch); rc=$?
      [ $rc != 0 ] || fail "$mode Denied: the pod fetched '$got' from 169.254.169.254"
      ip netns exec green ping -c 1 -W 3 10.77.0.1 >/dev/null || fail "$mode Denied: the pod lost the VPC too"
      ok "$mode Denied: unreachable route in table 107, no metadata (curl exit $rc), the VPC still reachable"
      ip -n node route del unreachable 169.254.169.254/32 table 107
      c=$(cni CHECK $mode $cid "$out") && fail "$mode Denied: CHECK passed without the deny route"
      echo "$c" | grep -q "lacks unreachable 169.254.169.254/32" || fail "$mode Denied: CHECK did not name the route: $c"
      ip -n node route add unreachable 169.254.169.254/32 table 107
    else
      echo "$table" | grep -q 169.254.169.254 && fail "$mode $label: table 107 has a metadata route: $table"
      got=$(fetch) || fail "$mode $label: the pod cannot fetch the instance id"
      [ "$got" = i-0vpcanswer ] || fail "$mode $label: the pod got '$got', not the VPC's answer"
      ok "$mode $label: no deny route, the pod fetches the VPC's instance id through VLAN 7"
      ip -n node route add unreachable 169.254.169.254/32 table 107
      c=$(cni CHECK $mode $cid "$out") && fail "$mode $label: CHECK passed with a deny route added behind its back"
      echo "$c" | grep -q "has unreachable 169.254.169.254/32" || fail "$mode $label: CHECK did not name the route: $c"
      ip -n node route del unreachable 169.254.169.254/32 table 107
    fi
    c=$(cni CHECK $mode $cid "$out") || fail "$mode $label: CHECK of the restored layout: $c"
    ok "$mode $label: CHECK notices the deny route changed behind its back"
    d=$(cni DEL $mode $cid "$out") || fail "DEL $mode $label: $d"
    unchanged || fail "$mode $label: DEL left the node changed"
    ip netns del green
    ok "$mode $label: DEL leaves nothing"
  done
done

# The VLAN link goes first (the trunk vanished): DEL from prevResult alone still removes the device-less route.
ip netns add green
record Denied
out=$(cni ADD strict ctr-gone) || fail "ADD for the VLAN-gone case: $out"
ip -n node link del vlan.eth.7
ip -n node route show table 107 | grep -q "^unreachable 169.254.169.254" || fail "the deny route went with the VLAN link"
d=$(cni DEL strict ctr-gone "$out") || fail "DEL with the VLAN gone: $d"
ip netns del green
unchanged || fail "DEL with the VLAN gone left the deny route"
ok "DEL with the vlan link gone removes the deny route"
echo ALL-DONE
