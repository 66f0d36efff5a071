#!/bin/bash
# The fabric's 169.254.169.254 in the micro-VM (real 802.1Q): the sandbox ($SANDBOX, with --fabric-router) plays the
# VPC for this namespace (the node). The node's primary ENI fetches its instance id with IMDSv2 through the VPC; then
# a trunk and a branch ENI (VLAN 7) are made through the EC2 API, the real CNI ($BIN) wires a branch pod, and the pod
# fetches the same instance id when its record says Allowed, and gets nothing when it says Denied.
set -u
BIN=${BIN:?}; SANDBOX=${SANDBOX:?}; SEED=${SEED:?}
w=/run/job; S=/run/be-state
node=i-0de0de0de0de03001 subnet=subnet-0de0de0de0de01001
fail() { echo "FAIL: $*"; echo "--- sandbox log"; tail -n 40 $w/sandbox.log; exit 1; }
ok() { echo "PASS: $*"; }
wait_for() { local n=$1; shift; for _ in $(seq $((n * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
imds() { # [netns]: IMDSv2, as the SDKs do it: PUT a token, GET with it
  local run=(); [ -n "${1:-}" ] && run=(ip netns exec "$1")
  local token
  token=$("${run[@]}" curl -sf -m 5 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token) || return 1
  "${run[@]}" curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id
}

ip link set lo up
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns add vpc
"$SANDBOX" --state-dir $w/sb --seed "$SEED" --fabric-router /run/netns/vpc --fabric-node $node > $w/sandbox.log 2>&1 &
wait_for 240 test -s $w/sb/endpoints.json || fail "the sandbox did not start"
ec2=$(jq -r .ec2 $w/sb/endpoints.json); admin=$(jq -r .admin $w/sb/endpoints.json)
wait_for 60 ip link show ens5 || fail "the fabric did not build ens5"
wait_for 30 grep -q "instance metadata of $node" $w/sandbox.log || fail "the fabric does not serve 169.254.169.254"

got=$(imds) || fail "the node cannot fetch its instance id through the VPC"
[ "$got" = $node ] || fail "the node got '$got'"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' http://169.254.169.254/latest/meta-data/instance-id)
[ "$code" = 401 ] || fail "a GET without a token answered $code, not 401 (IMDSv2)"
ok "the node's ENI fetches its instance id from 169.254.169.254 through the VPC (IMDSv2)"

call() { curl -sf -m 10 "$ec2/" -d "Version=2016-11-15&$1"; }
field() { grep -o "<$1>[^<]*" | head -n 1 | cut -d'>' -f2; }
trunk=$(call "Action=CreateNetworkInterface&SubnetId=$subnet&InterfaceType=trunk&SecurityGroupId.1=sg-0de0de0de0de02001" | field networkInterfaceId)
[ -n "$trunk" ] || fail "CreateNetworkInterface trunk"
call "Action=AttachNetworkInterface&NetworkInterfaceId=$trunk&InstanceId=$node&DeviceIndex=1" >/dev/null || fail "AttachNetworkInterface"
branch=$(call "Action=CreateNetworkInterface&SubnetId=$subnet&SecurityGroupId.1=sg-0de0de0de0de02002" | field networkInterfaceId)
[ -n "$branch" ] || fail "CreateNetworkInterface branch"
call "Action=AssociateTrunkInterface&BranchInterfaceId=$branch&TrunkInterfaceId=$trunk&VlanId=7" >/dev/null || fail "AssociateTrunkInterface"
wait_for 30 ip link show ens6 || fail "the fabric did not build the trunk link ens6"
ip link set ens6 up
wait_for 30 sh -c "ip -n vpc link show | grep -q '^[0-9]*: v7-'" || fail "the fabric did not build VLAN 7"
state=$(curl -sf "$admin/ec2/state")
bmac=$(echo "$state" | jq -r --arg id "$branch" '.networkInterfaces[] | select(.id == $id) | .macAddress')
bip=$(echo "$state" | jq -r --arg id "$branch" '.networkInterfaces[] | select(.id == $id) | .privateIp')
tmac=$(ip -j link show ens6 | jq -r '.[0].address')

mkdir -p $S/pods
echo "{\"eniId\":\"$trunk\",\"macAddress\":\"$tmac\",\"linkName\":\"ens6\"}" > $S/trunk.json
uid=0f1e2d3c-aaaa-bbbb-cccc-000000000007
record() { echo "{\"eniId\":\"$branch\",\"ifAddress\":\"$bmac\",\"privateIp\":\"$bip\",\"ipv6Addr\":\"\",\"vlanId\":7,\"subnetCidr\":\"192.168.0.0/19\",\"subnetV6Cidr\":\"\",\"associationID\":\"trunk-assoc-7\",\"podNamespace\":\"default\",\"podName\":\"web\",\"podUid\":\"$uid\",\"metadataAccess\":\"$1\"}" > $S/pods/$uid.json; }
cni() { # command containerid [prevResult]
  local prev=""; [ -n "${3:-}" ] && prev=",\"prevResult\":$3"
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"type\":\"branch-eni\",\"stateDir\":\"$S\",\"enforcingMode\":\"strict\",\"logFile\":\"$w/plugin.log\"$prev}" |
    env -i CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=/run/netns/web CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
      CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_UID=$uid" $BIN
}

for access in Allowed Denied; do
  ip netns add web
  record $access
  out=$(cni ADD ctr-$access) || fail "CNI ADD $access: $out"
  ip netns exec web ping -c 1 -W 5 192.168.0.1 >/dev/null || fail "$access: the pod cannot reach its subnet gateway"
  if [ $access = Allowed ]; then
    got=$(imds web) || fail "Allowed: the branch pod cannot fetch the instance id through the fabric"
    [ "$got" = $node ] || fail "Allowed: the pod got '$got', not the node's instance $node"
    ok "an Allowed branch pod fetches its node's instance id through the VPC (VLAN 7)"
  else
    got=$(imds web) && fail "Denied: the branch pod fetched '$got'"
    ok "a Denied branch pod gets nothing from 169.254.169.254"
  fi
  d=$(cni DEL ctr-$access "$out") || fail "CNI DEL $access: $d"
  ip netns del web
done
ip route show table 107 | grep -q . && fail "table 107 is not empty after DEL: $(ip route show table 107)"
echo ALL-DONE
