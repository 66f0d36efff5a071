#!/usr/bin/env bash
# The "security groups for pods" tutorial, live. Runs as root on a kernel with 802.1Q (demo.sh starts it inside
# the micro-VM) and plays every part around the real agent and the real CNI binary:
#   the VPC         branch-eni-sandbox (EC2, IMDSv2, Kubernetes API) with its fabric: a "vpc" router namespace,
#                   the node's ENIs as links, branch associations as VLAN sub-interfaces, security groups as nftables
#   the RDS         PostgreSQL in namespace "rds" behind the db-sg security group
#   the node        this namespace: the agent (branch-eni-agent run) and, as kubelet, the libcni driver running the
#                   conflist the agent installed; each pod's sandbox is a network namespace
#   the user        kubectl with the sandbox's kubeconfig
#   the cluster     branch-eni-controller: the admission webhooks (resource request injected, pod-eni annotation guarded)
#   the second tutorial tools/demo/calico.sh (sourced after step 4): Calico's security-group annotation, labels, metadata access
#   usage: tutorial.sh REPO BIN_DIR SANDBOX_EXE     (BIN_DIR: branch-eni, branch-eni-agent, branch-eni-controller, libcni-driver)
# DEMO_KEEP=1 keeps everything up after step 8 until /run/demo/stop exists (see demo.sh --keep).
set -euo pipefail
repo=$1 bin=$2 sandbox_exe=$3
demo=$repo/tools/demo
w=/run/demo
node_instance=i-0de0de0de0de03001
rds_ip=192.168.20.50
t0=$(date +%s)

step() { printf '\n\033[1m[%3ss] %s\033[0m\n' "$(($(date +%s) - t0))" "$*"; }
show() { printf '  $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/    /'; }
# refused COMMAND...: shows a command that must fail (an admission webhook's denial) and what it said.
refused() {
  local out
  printf '  $ %s\n' "$*"
  if out=$("$@" 2>&1); then fail "not refused: $* -> $out"; fi
  echo "$out" | sed 's/^/    /'
}
fail() {
  printf '\nFAILED: %s\n' "$*" >&2
  for f in "$w"/log/*.log; do [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 25 "$f" >&2; }; done
  exit 1
}
# wait_for SECONDS WHAT COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local limit=$1 what=$2; shift 2
  local start=$(date +%s)
  local deadline=$((start + limit))
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || fail "timed out after ${limit}s waiting for $what"
    sleep 0.5
  done
  (($(date +%s) - start < 5)) || echo "  (waited $(($(date +%s) - start)) s for $what)"
}

cleanup() {
  set +e
  [ -n "${httpd_pids:-}" ] && kill $httpd_pids 2>/dev/null
  [ -n "${agent_pid:-}" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  [ -n "${controller_pid:-}" ] && kill -TERM "$controller_pid" 2>/dev/null && wait "$controller_pid" 2>/dev/null
  [ -n "${pg_bin:-}" ] && ip netns exec rds runuser -u postgres -- "$pg_bin/pg_ctl" -D "$w/pg" -m immediate stop >/dev/null 2>&1
  [ -n "${sandbox_pid:-}" ] && kill -TERM "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
}
trap cleanup EXIT
trap 'fail "line $LINENO: a command failed"' ERR

mkdir -p "$w"/{sandbox,state,log,cache,cni/net.d,cni/bin}
cd /  # postgres runs as its own user, which may not enter the job's folder
export KUBECONFIG=$w/sandbox/kubeconfig
ip link set lo up
sysctl -qw net.ipv4.ip_forward=1
mountpoint -q /dev/shm || { mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm; }

step "1. The VPC: EC2, IMDS and the Kubernetes API (branch-eni-sandbox), and the network fabric that plays the VPC"
ip netns add vpc
ip netns add rds
ip netns add instance
"$sandbox_exe" --state-dir "$w/sandbox" --seed "$demo/seed.json" --fabric-router /run/netns/vpc --fabric-node "$node_instance" \
  >"$w/log/sandbox.log" 2>&1 &
sandbox_pid=$!
wait_for 120 "the sandbox's endpoints.json" test -s "$w/sandbox/endpoints.json"
ec2=$(jq -r .ec2 "$w/sandbox/endpoints.json") imds=$(jq -r .imds "$w/sandbox/endpoints.json") admin=$(jq -r .admin "$w/sandbox/endpoints.json")
wait_for 30 "the node's primary ENI (ens5)" ip link show ens5
wait_for 30 "the RDS host" ip -n rds addr show dev eth0
show kubectl get nodes -o wide
echo "  security groups (seeded as in the tutorial; the fabric turns them into nftables rules in the vpc namespace):"
curl -sf "$admin/ec2/state" | jq -r '.securityGroups[] | "    \(.id)  \(.name)  inbound: \(if .ingress == [] then "none" else (.ingress | map("\(.protocol) \(.fromPort)-\(.toPort) from \(.sourceGroupIds + .cidrs | join(","))") | join("; ")) end)"'
show ip -br addr show dev ens5

step "   The \"RDS\" database: PostgreSQL at $rds_ip (ENI in db-sg, namespace rds)"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
mkdir -p "$w/pg-run" && chown postgres: "$w/pg-run"
# initdb is slow under emulation: demo.sh makes the data directory on the host once (PG_TEMPLATE, a tar of it).
if [ -n "${PG_TEMPLATE:-}" ] && [ -s "$PG_TEMPLATE" ]; then
  tar -C "$w" -xf "$PG_TEMPLATE" && mv "$w/pgdata" "$w/pg"
else
  mkdir -p "$w/pg" && chown postgres: "$w/pg"
  runuser -u postgres -- "$pg_bin/initdb" --no-sync -D "$w/pg" -U postgres -A trust >"$w/log/initdb.log" 2>&1 || fail "initdb"
  echo "host all all 0.0.0.0/0 trust" >>"$w/pg/pg_hba.conf"
fi
# Started in the background; step 4 waits for it. Small settings: the VM has little memory and emulated CPUs.
ip netns exec rds runuser -u postgres -- "$pg_bin/pg_ctl" -D "$w/pg" -l "$w/pg-run/postgres.log" \
  -o "-c listen_addresses=$rds_ip -k $w/pg-run -c shared_buffers=16MB -c max_connections=20" start >/dev/null \
  || fail "postgres did not start: $(cat "$w/pg-run/postgres.log")"
echo "    postgres is starting on $rds_ip:5432"

step "2. The node agent (branch-eni-agent run): trunk ENI, capacity, CNI installed once healthy"
# The agent runs as the agents' service account (the kubeconfig's "agent" context): the validating webhook lets only
# that identity write the pod-eni annotation.
sed 's/^current-context: .*/current-context: agent/' "$KUBECONFIG" >"$w/agent.kubeconfig"
grep -q '^current-context: agent$' "$w/agent.kubeconfig" || fail "the sandbox kubeconfig has no current-context line to point at the agent"
env KUBECONFIG="$w/agent.kubeconfig" ENABLE_POD_ENI=true ENABLE_SG_ANNOTATION=true CLUSTER_NAME=demo NODE_NAME=node-1 \
  AWS_EC2_METADATA_SERVICE_ENDPOINT="$imds" BRANCH_ENI_EC2_ENDPOINT="$ec2" AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=demo \
  BRANCH_ENI_STATE_DIR="$w/state" BRANCH_ENI_CNI_BIN_DIR="$w/cni/bin" BRANCH_ENI_CNI_CONF_DIR="$w/cni/net.d" \
  BRANCH_ENI_CNI_BINARY="$bin/branch-eni" BRANCH_ENI_CNI_DELEGATE_FILE="$demo/delegate.json" \
  BRANCH_ENI_COOLDOWN_SECONDS=30 AWS_VPC_K8S_PLUGIN_LOG_FILE="$w/log/plugin.log" DISABLE_TCP_EARLY_DEMUX=true \
  "$bin/branch-eni-agent" run >"$w/log/agent.log" 2>&1 &
agent_pid=$!
conflist=$w/cni/net.d/05-branch-eni.conflist
cli() {
  env BRANCH_ENI_STATE_DIR="$w/state" BRANCH_ENI_CNI_BIN_DIR="$w/cni/bin" BRANCH_ENI_CNI_CONF_DIR="$w/cni/net.d" NODE_NAME=node-1 \
    "$bin/branch-eni-agent" "$@"
}
wait_for 90 "the agent to install the CNI conflist" test -s "$conflist"
show kubectl get node node-1 -o 'jsonpath=pod-eni capacity: {.status.capacity.vpc\.amazonaws\.com/pod-eni}{"\n"}has-trunk-attached: {.metadata.labels.vpc\.amazonaws\.com/has-trunk-attached}{"\n"}'
trunk_link=$(jq -r .linkName "$w/state/trunk.json")
show ip -br link show dev "$trunk_link"
echo "  the conflist kubelet will use ($conflist):"
jq -c '.plugins[0] | {type, enforcingMode, delegate: .delegate.type}' "$conflist" | sed 's/^/    /'

step "   The cluster controller (branch-eni-controller): admission webhooks with a CA and certificate it makes itself"
show kubectl apply -f "$repo/packaging/base/webhooks.yaml"
# ENABLE_SG_ANNOTATION as on the agents; EC2 (the emulator) for the security-group members of companion NetworkPolicies.
env ENABLE_SG_ANNOTATION=true BRANCH_ENI_EC2_ENDPOINT="$ec2" AWS_REGION=us-west-2 AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=demo \
  "$bin/branch-eni-controller" run --webhook-address 127.0.0.1:9443 --webhook-url https://127.0.0.1:9443 --health-address 127.0.0.1:8081 \
  >"$w/log/controller.log" 2>&1 &
controller_pid=$!
ca_bundle() { kubectl get mutatingwebhookconfiguration branch-eni -o 'jsonpath={.webhooks[0].clientConfig.caBundle}' | grep -q .; }
wait_for 90 "the controller's readiness" curl -sf http://127.0.0.1:8081/readyz
wait_for 60 "the controller's CA in the webhook configurations" ca_bundle
show kubectl get mutatingwebhookconfiguration branch-eni -o 'jsonpath={range .webhooks[*]}{.name}: {.clientConfig.url}, failurePolicy {.failurePolicy}, caBundle {.clientConfig.caBundle}{"\n"}{end}'

step "3. A SecurityGroupPolicy for role=backend with access-db, then the green (backend) and red (frontend) pods"
show kubectl apply -f "$demo/security-group-policy.yaml"
show kubectl get sgp -o wide
echo "  the validating webhook: only the node agents write vpc.amazonaws.com/pod-eni, so a pod cannot claim a branch:"
refused kubectl apply -f "$demo/forged-pod.yaml"
show kubectl apply -f "$demo/pods.yaml"
# Polling goes straight to the API (curl): kubectl takes seconds per call under emulation.
api() { curl -sf -H "Authorization: Bearer $(awk '/token:/ {print $2; exit}' "$KUBECONFIG")" "$(jq -r .kubernetes "$w/sandbox/endpoints.json")$1" "${@:2}"; }
pod_eni() { api "/api/v1/namespaces/default/pods/$1" | jq -r '.metadata.annotations["vpc.amazonaws.com/pod-eni"] // empty'; }
# Like kubelet, this one creates each pod's sandbox as soon as the pod exists, before the agent has had time to
# allocate green's branch ENI: the CNI must not hand green to the delegate (the node's security groups). It decides
# from the agent's decision record, waits inside ADD for green's branch, and answers error 11 if it does not come in
# time, upon which kubelet retries. Like containerd, it passes IgnoreUnknown=1 for the K8S_* args.
driver() { "$bin/libcni-driver" "$@" -conflist "$conflist" -cni-path "$w/cni/bin:/usr/lib/cni" -cache-dir "$w/cache" -ifname eth0; }
sandbox_add() {
  local pod=$1 uid attempt
  uid=$(api "/api/v1/namespaces/default/pods/$pod" | jq -r .metadata.uid)
  ip netns add "$pod"
  for attempt in 1 2 3 4 5 6; do
    if driver add -netns "/run/netns/$pod" -id "$pod-sandbox" -args "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod;K8S_POD_INFRA_CONTAINER_ID=$pod-sandbox;K8S_POD_UID=$uid" \
      >"$w/log/cni-add-$pod.json" 2>"$w/log/cni-add-$pod.err"; then
      return 0
    fi
    echo "  kubelet: CNI ADD $pod failed (attempt $attempt), retrying: $(cat "$w/log/cni-add-$pod.err")"
    sleep 2
  done
  return 1
}
# As kubelet does once the sandbox is up: report the pod running at its address (READY, STATUS and IP in kubectl).
report_running() {
  local pod=$1 uid
  uid=$(api "/api/v1/namespaces/default/pods/$pod" | jq -r .metadata.uid)
  echo "  kubelet: CNI ADD $pod -> $(jq -r '.ips[0].address' "$w/log/cni-add-$pod.json")   (agent's decision: $(jq -c '{branch, reason}' "$w/state/decisions/$uid.json"))"
  api "/api/v1/namespaces/default/pods/$pod" | jq -c --arg ip "$(jq -r '.ips[0].address | sub("/.*"; "")' "$w/log/cni-add-$pod.json")" \
    --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{status: {phase: "Running", podIP: $ip, podIPs: [{ip: $ip}], containerStatuses:
      [.spec.containers[] | {name, image, imageID: "", ready: true, started: true, restartCount: 0, state: {running: {startedAt: $now}}}]}}' \
    | api "/api/v1/namespaces/default/pods/$pod/status" -X PATCH -H 'Content-Type: application/merge-patch+json' --data-binary @- >/dev/null
}
for pod in green red; do
  sandbox_add "$pod" & eval "add_$pod=\$!"
done
wait "$add_green" || fail "CNI ADD for green: $(cat "$w/log/cni-add-green.err")"
wait "$add_red" || fail "CNI ADD for red: $(cat "$w/log/cni-add-red.err")"
for pod in green red; do
  uid=$(api "/api/v1/namespaces/default/pods/$pod" | jq -r .metadata.uid)
  report_running "$pod"
done
has_eni() { [ -n "$(pod_eni "$1")" ]; }
wait_for 30 "green's annotation (the agent writes it right after the record the CNI used)" has_eni green
echo "  green's annotation: $(pod_eni green)"
show kubectl get pods -o wide
echo "  the mutating webhook gave green (selected by the policy) the branch ENI resource, and red nothing:"
show kubectl get pods green red -o 'custom-columns=NAME:.metadata.name,REQUESTS:.spec.containers[0].resources.requests,LIMITS:.spec.containers[0].resources.limits'
echo "  nor can a user give an existing pod one (the agent, as system:serviceaccount:kube-system:branch-eni, did green's):"
refused kubectl --context user annotate pod red "vpc.amazonaws.com/pod-eni=$(pod_eni green)"
show ip -d -br link show type vlan
show ip netns exec green ip -br addr show dev eth0

step "4. From the pods: psql -h $rds_ip -c 'select 1'"
wait_for 120 "postgres in the rds namespace" ip netns exec rds "$pg_bin/pg_isready" -q -h "$rds_ip"
psql_from() { ip netns exec "$1" env PGCONNECT_TIMEOUT="$2" psql -h "$rds_ip" -U postgres -At -c 'select 1'; }
echo "  green (branch ENI in access-db):"
answer=$(psql_from green 20 2>&1) || fail "green could not reach the database: $answer"
[ "$answer" = 1 ] || fail "green got '$answer' instead of 1"
echo "    select 1 -> $answer   (admitted by db-sg)"
echo "  red (node's networking, node security group):"
if answer=$(psql_from red 5 2>&1); then fail "red reached the database ($answer): security groups are not enforced"; fi
echo "    $answer   (dropped by db-sg: red is not in access-db)"
echo "  db-sg drops counted by the VPC: $(ip netns exec vpc nft list chain inet vpc_security_groups to_eni_0db0db0db0db04002 | grep -o 'packets [0-9]*')"
echo "  the on-call view of the node (the agent binary's debug commands; they read the kernel and the records):"
show cli status
show cli pods
show cli verify
show cli verify default/green -o json

source "$demo/calico.sh"

if [ "${DEMO_KEEP:-0}" = 1 ]; then
  step "Kept running: a shell inside the VM on this terminal; leave it (exit) to delete the pods and check for leaks"
  cat >"$w/shellrc" <<RC
export KUBECONFIG=$KUBECONFIG PATH=$bin:\$PATH PS1='branch-eni-demo# ' TERM=vt100 PAGER=cat PSQL_PAGER=cat
echo "try: kubectl get pods,sgp -A; kubectl get pod green -o yaml; ip netns exec green psql -h $rds_ip -U postgres"
echo "     ip netns exec red psql -h $rds_ip -U postgres; branch-eni-agent pods --state-dir $w/state; ip -n vpc -br link"
RC
  sleep 2 # let demo.sh relay the output above before the shell's prompt appears on the console
  setsid bash --rcfile "$w/shellrc" -i <>/dev/ttyS0 >&0 2>&0 || true
fi

step "9. Delete the pods: kubelet's CNI DEL, then the branch ENIs go after the agent's cooldown (30 s here)"
kill $httpd_pids 2>/dev/null; httpd_pids=
show kubectl delete pod green red web web-meta plain typo --wait=false
for pod in green red web web-meta plain; do
  driver del -netns "/run/netns/$pod" -id "$pod-sandbox" -args "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod;K8S_POD_INFRA_CONTAINER_ID=$pod-sandbox" || fail "CNI DEL for $pod"
  ip netns del "$pod"
done
branches() { curl -sf "$admin/ec2/state" | jq '[.networkInterfaces[] | select(.interfaceType == "branch")] | length'; }
no_branches() { [ "$(branches)" = 0 ]; }
wait_for 150 "the branch ENIs to be deleted from EC2" no_branches
echo "  branch ENIs left in EC2: $(branches)"
leftovers=$( { ip -d -br link show type vlan; ip rule | grep -E '^(10|512|1536):'; ip route show table all | grep -E 'table (1[0-9][0-9]|[2-9][0-9][0-9]|[0-9]{4})\b'; find "$w/state/pods" "$w/state/decisions" -type f 2>/dev/null; } || true)
[ -z "$leftovers" ] || fail "left in the node's kernel or records: $leftovers"
wait_for 10 "the fabric to remove the VLAN sub-interface" sh -c "! ip -n vpc -br link show type vlan | grep -q ."
echo "  node kernel: no VLAN links, no pod rules or tables, no records; VPC: no VLAN sub-interfaces"
no_sg_labels() { [ "$(api /api/v1/pods | jq '[.items[].metadata.labels // {} | keys[] | select(startswith("sg.aws.tigera.io/"))] | length')" = 0 ]; }
no_sg_labels || fail "sg.aws.tigera.io labels left on pods"
show cli cleanup --dry-run

step "Done in $(($(date +%s) - t0)) s: green reached the database through its own branch ENI, red timed out; the instance reached web, not plain; nothing leaked"
