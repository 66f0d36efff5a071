#!/bin/bash
# Branch-pod CNI ADD/DEL (strict) in the micro-VM, side by side in one boot (run by BranchCniBench.cs):
#   ours  - the published branch-eni binary ($BIN), node records + trunkInterface, so no API is used;
#   go    - Debian's Go vlan plugin with static IPAM on the same trunk (less work: no veth, no tables, no rules);
#   floor - `ip -batch` doing the kernel writes of our ADD (node side, plus one `ip -n pod -batch` for the pod side,
#           since ip cannot switch namespace within one batch) and of our DEL (node side only).
# Each method does N ADDs then N DELs, one fresh pod namespace per pod, ROUNDS times, methods interleaved per round;
# each round first times N VERSION calls of ours, of the Go plugin and of an empty native-AOT program (bare starts).
# Everything timed runs inside the "node" namespace (one `ip netns exec`), so each CNI call is one fork+exec from bash.
# Executables and libraries are staged on tmpfs first (see below).
# Prints `BENCH <method>-<add|del> <round> <count> <elapsed ns>` per block, then `PEAK <method>-add <kB>`; the clock is the kernel's monotonic
# "now" from /proc/timer_list, read with bash builtins (no process start inside the timed span).
set -u
BIN=${BIN:?}
EMPTY=${EMPTY:?} # an empty native-AOT program (bench/EmptyAot)
N=${N:-10}
ROUNDS=${ROUNDS:-3}
S=/run/bench-state
fail() { echo "FAIL: $*"; exit 1; }

if [ "${1:-}" != inner ]; then
  ip netns add node; ip netns add vpc
  ip -n node link set lo up
  ip -n node link add trunk0 type veth peer name trunkpeer netns vpc
  ip -n node link set trunk0 up; ip -n vpc link set trunkpeer up
  ip netns exec node sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  mkdir -p $S/pods
  for k in $(seq 1 "$N"); do
    u=0f1e2d3c-aaaa-bbbb-cccc-0000000002$(printf %02d "$k")
    echo "{\"eniId\":\"eni-0f$k\",\"ifAddress\":\"0e:ee:16:bd:42:$(printf %02x "$k")\",\"privateIp\":\"10.77.1.$k\",\"ipv6Addr\":\"\",\"vlanId\":$((k + 10)),\"subnetCidr\":\"10.77.0.0/16\",\"subnetV6Cidr\":\"\",\"associationID\":\"trunk-assoc-$k\",\"podNamespace\":\"default\",\"podName\":\"p$k\",\"podUid\":\"$u\"}" > $S/pods/$u.json
  done
  # The VM's root is a 9p share, so an exec's first page faults go to the host: that measures 9p, not the plugins. A
  # node runs them from local disk in the page cache; copy every executable and shared library the timed calls load
  # onto tmpfs and bind-mount each over its own path (the same for every method). OpenSSL, which ours dlopened for
  # SHA-1 before it had its own, is staged too so older binaries compare under the same conditions.
  ssl=$(readlink -f /usr/lib/x86_64-linux-gnu/libssl.so.3)
  for f in $( { printf '%s\n' "$BIN" "$EMPTY" /usr/lib/cni/vlan /usr/lib/cni/static /usr/bin/ip "$ssl"; ldd "$BIN" "$EMPTY" /usr/bin/ip "$ssl" | grep -o '/[^ :]*'; } \
      | xargs -n1 readlink -f | sort -u); do
    mkdir -p "/tmp/stage$(dirname "$f")"; cp "$f" "/tmp/stage$f"
    mount --bind "/tmp/stage$f" "$f" || fail "cannot stage $f"
  done
  exec ip netns exec node /bin/bash "$(readlink -f "$0")" inner
fi

# Monotonic nanoseconds into $MONO without starting a process.
mono() {
  local line
  while read -r line; do
    if [[ $line == "now at "* ]]; then line=${line#now at }; MONO=${line%% *}; return 0; fi
  done < /proc/timer_list
  fail "no 'now at' in /proc/timer_list"
}
mono
T0=0
start() { mono; T0=$MONO; }
stop() { mono; echo "BENCH $1 $2 $N $((MONO - T0))"; }

podnet() { for k in $(seq 1 "$N"); do ip netns add p$k || fail "netns p$k"; done; }
rmpodnet() { for k in $(seq 1 "$N"); do ip netns del p$k; done; }
empty() { # nothing of any method left on the node
  [ -z "$(ip -d link show type vlan)" ] && [ -z "$(ip -o link show type veth | grep -v trunk0)" ] \
    && [ -z "$(ip rule show | grep -v -E 'lookup (local|main|default)')" ]
}
arguments() { echo "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p$1;K8S_POD_UID=0f1e2d3c-aaaa-bbbb-cccc-0000000002$(printf %02d "$1")"; }

mkdir -p /tmp/b
OURCONF='{"cniVersion":"1.0.0","name":"pods","type":"branch-eni","stateDir":"'$S'","trunkInterface":"trunk0","enforcingMode":"strict","logFile":"/tmp/plugin.log"}'
echo "$OURCONF" > /tmp/b/ours.json
for k in $(seq 1 "$N"); do
  v=$((k + 10))
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"vl\",\"type\":\"vlan\",\"master\":\"trunk0\",\"vlanId\":$v,\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.77.1.$k/16\",\"gateway\":\"10.77.0.1\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.77.0.1\"}]}}" > /tmp/b/go$k.json
  veth=vlan$(echo -n "default.p$k" | sha1sum | cut -c1-11); t=$((100 + v)); hmac=0e:aa:00:00:00:$(printf %02x "$k")
  cat > /tmp/b/floor-node$k <<EOF
link add $veth mtu 9001 address $hmac type veth peer name eth0 mtu 9001 netns p$k
link set $veth alias CID
link set $veth up
link add link trunk0 name vlan.eth.$v address 0e:ee:16:bd:42:$(printf %02x "$k") type vlan id $v
link set vlan.eth.$v alias CID
link set vlan.eth.$v up
route replace 10.77.0.1/32 dev vlan.eth.$v scope link table $t
route replace default via 10.77.0.1 dev vlan.eth.$v table $t
route replace 10.77.1.$k/32 dev $veth scope link table $t
rule add prio 10 iif vlan.eth.$v table $t
rule add prio 10 iif $veth table $t
EOF
  cat > /tmp/b/floor-pod$k <<EOF
address add 10.77.1.$k/32 dev eth0
link set eth0 up
route add 169.254.1.1/32 dev eth0 scope link
route add default via 169.254.1.1 dev eth0
neighbour add 169.254.1.1 lladdr $hmac dev eth0 nud permanent
EOF
  cat > /tmp/b/floor-del$k <<EOF
rule del prio 10 iif vlan.eth.$v table $t
rule del prio 10 iif $veth table $t
link del $veth
link del vlan.eth.$v
EOF
done

# The node's policy routing after ADD, for proving the floor wrote what ours wrote.
layout() { ip rule show; ip -4 route show table all | grep -E 'table 1[0-9][0-9]' | sed 's/ linkdown//' | sort; }

for r in $(seq 1 "$ROUNDS"); do
  # Bare process start here (VERSION): what any call of each plugin costs before it does its own work.
  for m in ours go empty; do
    b=$BIN; [ $m = go ] && b=/usr/lib/cni/vlan; [ $m = empty ] && b=$EMPTY
    start
    for k in $(seq 1 "$N"); do CNI_COMMAND=VERSION "$b" < /tmp/b/ours.json > /tmp/b/ver.json || fail "$m VERSION"; done
    stop $m-version $r
  done

  # ours
  podnet
  start
  for k in $(seq 1 "$N"); do
    CNI_COMMAND=ADD CNI_CONTAINERID=c$r-$k CNI_NETNS=/run/netns/p$k CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
      CNI_ARGS="$(arguments $k)" "$BIN" < /tmp/b/ours.json > /tmp/b/out$k.json || fail "ours ADD $k: $(cat /tmp/b/out$k.json)"
  done
  stop ours-add $r
  [ "$(ip -d link show type vlan | grep -c 'vlan protocol 802.1Q')" = "$N" ] || fail "ours: not $N vlan links"
  oursLayout=$(layout; ip -n p1 -4 route show; ip -n p1 -4 -o addr show dev eth0 | awk '{print $4}')
  for k in $(seq 1 "$N"); do
    jq -c --slurpfile p /tmp/b/out$k.json '. + {prevResult: $p[0]}' /tmp/b/ours.json > /tmp/b/del$k.json || fail "prevResult $k"
  done
  start
  for k in $(seq 1 "$N"); do
    CNI_COMMAND=DEL CNI_CONTAINERID=c$r-$k CNI_NETNS=/run/netns/p$k CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
      CNI_ARGS="$(arguments $k)" "$BIN" < /tmp/b/del$k.json > /tmp/b/dout$k.json || fail "ours DEL $k: $(cat /tmp/b/dout$k.json)"
  done
  stop ours-del $r
  empty || fail "ours DEL left something: $(ip -d link; ip rule)"
  rmpodnet

  # Go vlan + static
  podnet
  start
  for k in $(seq 1 "$N"); do
    CNI_COMMAND=ADD CNI_CONTAINERID=g$r-$k CNI_NETNS=/run/netns/p$k CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
      /usr/lib/cni/vlan < /tmp/b/go$k.json > /tmp/b/gout$k.json || fail "go ADD $k: $(cat /tmp/b/gout$k.json)"
  done
  stop go-add $r
  ip -n p1 -d link show eth0 | grep -q "vlan protocol 802.1Q id 11" || fail "go: p1 has no vlan eth0"
  start
  for k in $(seq 1 "$N"); do
    CNI_COMMAND=DEL CNI_CONTAINERID=g$r-$k CNI_NETNS=/run/netns/p$k CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
      /usr/lib/cni/vlan < /tmp/b/go$k.json > /tmp/b/gdout$k.json || fail "go DEL $k: $(cat /tmp/b/gdout$k.json)"
  done
  stop go-del $r
  ip -n p1 link show eth0 >/dev/null 2>&1 && fail "go DEL left eth0 in p1"
  rmpodnet

  # ip -batch floor
  podnet
  start
  for k in $(seq 1 "$N"); do
    ip -batch /tmp/b/floor-node$k || fail "floor node batch $k"
    ip -n p$k -batch /tmp/b/floor-pod$k || fail "floor pod batch $k"
  done
  stop floor-add $r
  floorLayout=$(layout; ip -n p1 -4 route show; ip -n p1 -4 -o addr show dev eth0 | awk '{print $4}')
  [ "$floorLayout" = "$oursLayout" ] || fail "the floor's layout differs from ours: $(diff <(echo "$oursLayout") <(echo "$floorLayout"))"
  start
  for k in $(seq 1 "$N"); do
    ip -batch /tmp/b/floor-del$k || fail "floor DEL batch $k"
  done
  stop floor-del $r
  empty || fail "floor DEL left something"
  rmpodnet
done
# Peak resident memory of one ADD each (not timed): GNU time's %M is the child's ru_maxrss in kB (for the Go plugin
# this includes the static IPAM process it runs).
ip netns add p1 || fail "netns p1"
env CNI_COMMAND=ADD CNI_CONTAINERID=m1 CNI_NETNS=/run/netns/p1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni CNI_ARGS="$(arguments 1)" \
  /usr/bin/time -o /tmp/b/peak -f "PEAK ours-add %M" "$BIN" < /tmp/b/ours.json > /tmp/b/out1.json || fail "ours peak ADD: $(cat /tmp/b/out1.json)"
cat /tmp/b/peak
jq -c --slurpfile p /tmp/b/out1.json '. + {prevResult: $p[0]}' /tmp/b/ours.json > /tmp/b/del1.json || fail "prevResult"
CNI_COMMAND=DEL CNI_CONTAINERID=m1 CNI_NETNS=/run/netns/p1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni CNI_ARGS="$(arguments 1)" \
  "$BIN" < /tmp/b/del1.json > /tmp/b/dout1.json || fail "ours peak DEL: $(cat /tmp/b/dout1.json)"
env CNI_COMMAND=ADD CNI_CONTAINERID=m2 CNI_NETNS=/run/netns/p1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
  /usr/bin/time -o /tmp/b/peak -f "PEAK go-add %M" /usr/lib/cni/vlan < /tmp/b/go1.json > /tmp/b/gout1.json || fail "go peak ADD: $(cat /tmp/b/gout1.json)"
cat /tmp/b/peak
CNI_COMMAND=DEL CNI_CONTAINERID=m2 CNI_NETNS=/run/netns/p1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
  /usr/lib/cni/vlan < /tmp/b/go1.json > /tmp/b/gdout1.json || fail "go peak DEL: $(cat /tmp/b/gdout1.json)"
ip netns del p1
echo ALL-DONE
