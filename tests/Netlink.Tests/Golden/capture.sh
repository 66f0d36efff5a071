#!/bin/bash
# Regenerates iproute2.txt: for each command, the bytes of the last netlink request `ip` sends, captured with
# strace inside throwaway namespaces. Run as root: tests/Netlink.Tests/Golden/capture.sh > iproute2.txt
# Line format: name <TAB> command <TAB> hex. Sequence and port id are masked by the test, nothing else.
# The peer namespace is opened by ip as fd 4 (IFLA_NET_NS_FD); the golden test encodes fd 4 too.
set -euo pipefail
A=nl-golden-$RANDOM$RANDOM; B=$A-b
ip netns add $A; ip netns add $B
trap 'ip netns del $A; ip netns del $B' EXIT
ip -n $A link add d0 type veth peer name d1        # index 2 and 3 in the fresh namespace
ip -n $A link add m0 type veth peer name m1         # moved by link-netns
ip -n $A link add x0 type veth peer name x1         # deleted by link-del
ip -n $A link set d0 up; ip -n $A link set d1 up
ip -n $A addr add 10.9.0.1/24 dev d0
ip -n $A -6 addr add 2001:db8::1/64 dev d0 nodad

cap() { # name, the nlmsg_type to keep (the last request of that type; "18f": the first), then the ip arguments
  local name=$1 type=$2; shift 2
  local hex
  hex=$(strace -f -e trace=sendmsg,sendto -e write=all -xx -s 4096 ip -n $A "$@" 2>&1 >/dev/null |
        awk '/^(sendmsg|sendto)/ {if (buf != "") print buf; buf=""}
             /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] / {for (i=3;i<=18;i++) if ($i ~ /^[0-9a-f][0-9a-f]$/) buf=buf $i}
             END {if (buf != "") print buf}' |
        python3 -c 'import sys; first=sys.argv[1].endswith("f"); t=int(sys.argv[1].rstrip("f")); m=[l.strip() for l in sys.stdin if l.strip() and int.from_bytes(bytes.fromhex(l.strip()[8:12]),"little")==t]; k=m[0] if first else m[-1] if m else ""; print(k[:2*int.from_bytes(bytes.fromhex(k[0:8]),"little")] if k else "")' "$type" || true)
  printf '%s\t%s\t%s\n' "$name" "ip $*" "$hex"
}

cap veth-add          16  link add v0 mtu 1400 address 02:00:00:00:00:01 type veth peer name p0 mtu 1400 address 02:00:00:00:00:02 netns $B
cap veth-add-minimal  16  link add v1 type veth peer name p1
cap vlan-add          16  link add link d0 name vlan.eth.7 address 02:00:00:00:00:07 mtu 1500 type vlan id 7
cap vlan-add-netns    16  link add link d0 name vlan.eth.9 netns $B type vlan id 9
cap link-up           16  link set dev d0 up
cap link-down         16  link set dev d0 down
cap link-mtu          16  link set dev d0 mtu 1300
cap link-mac          16  link set dev d0 address 02:00:00:00:00:aa
cap link-name         16  link set dev d0 name renamed0
ip -n $A link set dev renamed0 name d0
cap link-netns        16  link set dev m0 netns $B
cap link-alias        16  link set dev d0 alias owner:abc123
cap link-del          17  link del dev x0
cap link-get-name     18f -d link show dev d0
cap link-get          18  -d link show dev d0
cap link-dump         18  -d link show
cap addr-add-v4       20  addr add 10.1.2.3/24 dev d0
cap addr-add-v6       20  addr add 2001:db8:1::5/64 dev d0 scope link nodad
cap addr-del-v4       21  addr del 10.1.2.3/24 dev d0
cap addr-dump         22  addr show
cap route-add-link    24  route add 169.254.1.1/32 dev d0 scope link
cap route-add-gw      24  route add default via 169.254.1.1 dev d0
cap route-add-table   24  route add default via 10.9.0.254 dev d0 table 107
cap route-add-full    24  route add 10.7.0.0/16 via 10.9.0.254 dev d0 src 10.9.0.1 proto static metric 50 onlink table 1000
cap route-replace     24  route replace 10.8.0.5 dev d0 table 107 scope link
cap route-add-v6      24  -6 route add 2001:db8:2::/48 via fe80::1 dev d0 table 107
cap route-del         25  route del 10.8.0.5 dev d0 table 107
cap route-add-unreachable 24  route add unreachable 169.254.169.254/32 table 107
cap route-replace-unreachable 24  route replace unreachable 169.254.169.254/32 table 107
cap route-del-unreachable 25  route del unreachable 169.254.169.254/32 table 107
cap route-dump        26  -4 route show table all
cap rule-add-iif      32  rule add priority 10 iif vlan.eth.7 table 107
cap rule-add-from     32  rule add priority 1536 from 10.1.2.3 table 107
cap rule-add-to-main  32  rule add priority 512 to 10.1.2.3 table main
cap rule-add-full     32  rule add priority 77 oif d0 from 10.0.0.0/8 to 10.1.0.0/16 fwmark 0x10/0xff table 1000
cap rule-add-v6       32  -6 rule add priority 20 from 2001:db8::/64 table 300
cap rule-del          33  rule del priority 10 iif vlan.eth.7 table 107
cap rule-dump         34  rule show
cap neigh-add         28  neigh add 169.254.1.1 lladdr 02:00:00:00:00:01 dev d0 nud permanent
cap neigh-replace-v6  28  neigh replace 2001:db8::9 lladdr 02:00:00:00:00:09 dev d0 nud permanent
cap neigh-del         29  neigh del 169.254.1.1 dev d0
cap neigh-dump        30  neigh show
