# The second tutorial, sourced by tutorial.sh after the first (it uses its helpers and the running VPC, agent and
# controller): Calico's AWS security-group integration, the way its users write it.
#   web       annotated aws.tigera.io/security-groups: ["pod-sg"]; pod-sg admits port 80 only from instance-sg
#   web-meta  the same, labelled aws.tigera.io/allow-metadata-access: "true"
#   plain     no annotation: the node's networking, behind the node's security group
#   typo      names a group that does not exist: no branch, and never the node's networking
#   instance  an EC2 instance in instance-sg outside the cluster (netns "instance", made by the fabric)
instance_ip=192.168.20.60 pod_sg=sg-0de0de0de0de02004 instance_sg=sg-0de0de0de0de02005
pod_ip() { api "/api/v1/namespaces/default/pods/$1" | jq -r '.status.podIP // empty'; }

step "5. Calico's way: the annotation aws.tigera.io/security-groups puts web in pod-sg (HTTP from instance-sg only)"
show kubectl apply -f "$demo/calico-pods.yaml"
for pod in web web-meta plain; do
  sandbox_add "$pod" >"$w/log/kubelet-$pod.log" 2>&1 & eval "add_${pod//-/_}=\$!"
done
for pod in web web-meta plain; do
  eval "wait \$add_${pod//-/_}" || fail "CNI ADD for $pod: $(cat "$w/log/cni-add-$pod.err")"
  report_running "$pod"
  mkdir -p "$w/www/$pod" && echo "hello from $pod" >"$w/www/$pod/index.html"
  ip netns exec "$pod" busybox httpd -f -p 80 -h "$w/www/$pod" & httpd_pids+=" $!"
done
wait_for 30 "web's annotation" has_eni web
show kubectl get pods web web-meta plain -o 'custom-columns=NAME:.metadata.name,IP:.status.podIP,SECURITY-GROUPS:.metadata.annotations.aws\.tigera\.io/security-groups,REQUESTS:.spec.containers[0].resources.requests'
echo "  the agent labels each branch pod with its groups, so NetworkPolicy can select pods by security group:"
has_sg_label() { api /api/v1/namespaces/default/pods/web | jq -e --arg k "sg.aws.tigera.io/$pod_sg" '.metadata.labels[$k] == ""'; }
wait_for 30 "web's sg.aws.tigera.io label" has_sg_label
show kubectl get pods -l "sg.aws.tigera.io/$pod_sg" --show-labels
echo "  only the agents write those labels (a forged one would steer NetworkPolicy), and a running pod's groups stay:"
refused kubectl --context user label pod plain "sg.aws.tigera.io/$instance_sg="
refused kubectl --context user annotate pod plain "aws.tigera.io/security-groups=[\"$pod_sg\"]"
echo "  typo names a group EC2 does not have: the agent refuses it with an event, and the CNI fails closed:"
typo_uid=$(api /api/v1/namespaces/default/pods/typo | jq -r .metadata.uid)
ip netns add typo
if driver add -netns /run/netns/typo -id typo-sandbox -args "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=typo;K8S_POD_INFRA_CONTAINER_ID=typo-sandbox;K8S_POD_UID=$typo_uid" \
  >"$w/log/cni-add-typo.json" 2>"$w/log/cni-add-typo.err"; then
  fail "typo was given networking: $(cat "$w/log/cni-add-typo.json")"
fi
echo "    kubelet: CNI ADD typo -> $(cat "$w/log/cni-add-typo.err")"
[ -z "$(ip -n typo -o link show | grep -v ': lo:' || true)$(ip -n typo -o addr show scope global)" ] || fail "typo's namespace has links or addresses after a refused ADD"
ip netns del typo
echo "    event: $(api /api/v1/namespaces/default/events | jq -r '[.items[] | select(.involvedObject.name == "typo" and .type == "Warning")][-1].message')"

step "6. From the EC2 instance ($instance_ip, in instance-sg): curl http://<pod>/"
web_ip=$(pod_ip web) plain_ip=$(pod_ip plain)
answer=$(ip netns exec instance curl -sS -m 10 "http://$web_ip/" 2>&1) || fail "the instance could not reach web: $answer"
echo "    web   ($web_ip): $answer   (admitted by pod-sg, on web's own branch ENI)"
if answer=$(ip netns exec instance curl -sS -m 5 "http://$plain_ip/" 2>&1); then fail "the instance reached plain ($answer)"; fi
echo "    plain ($plain_ip): $answer   (dropped by the node's security group)"

step "7. A NetworkPolicy that matches security groups: the controller adds the VPC's members of instance-sg"
show kubectl apply -f "$demo/match-security-groups.yaml"
wait_for 90 "the companion policy web-from-instances-sg" api /apis/networking.k8s.io/v1/namespaces/default/networkpolicies/web-from-instances-sg
show kubectl get networkpolicy
echo "  web-from-instances-sg (kept by the controller's leader; any NetworkPolicy engine enforces it):"
api /apis/networking.k8s.io/v1/namespaces/default/networkpolicies/web-from-instances-sg \
  | jq -c '{labels: .metadata.labels, owner: .metadata.ownerReferences[0].name, from: .spec.ingress[0].from, ports: .spec.ingress[0].ports}' | sed 's/^/    /'
api /apis/networking.k8s.io/v1/namespaces/default/networkpolicies/web-from-instances-sg \
  | jq -e --arg cidr "$instance_ip/32" '[.spec.ingress[].from[].ipBlock.cidr] | index($cidr)' >/dev/null \
  || fail "the companion policy does not admit the instance ($instance_ip/32)"

step "8. The instance metadata service (169.254.169.254, answered by the VPC) from the branch pods"
imds_from() {
  ip netns exec "$1" sh -c 'token=$(curl -sS -m 3 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token) &&
    curl -sS -m 3 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id'
}
if answer=$(imds_from web 2>&1); then fail "web reached the metadata service ($answer) though its access is Denied"; fi
echo "    web      (placed by the annotation: Denied by default): $answer"
answer=$(imds_from web-meta 2>&1) || fail "web-meta could not reach the metadata service: $answer"
echo "    web-meta (labelled allow-metadata-access=true): instance-id $answer"
show ip route show table "$((100 + $(jq -r .vlanId "$w/state/pods/$(api /api/v1/namespaces/default/pods/web | jq -r .metadata.uid).json")))"
show cli pods
show cli verify default/web
