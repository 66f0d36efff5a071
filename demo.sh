#!/usr/bin/env bash
# The main job: the "security groups for pods" tutorial, live, on this machine (tools/demo/tutorial.sh tells the
# story). Builds the real CNI binary, the real agent, the emulated VPC (sandbox + fabric) and a kubelet stand-in
# (Debian's libcni), then runs the tutorial inside the micro-VM, since this machine's kernel has no 802.1Q.
#   ./demo.sh          run it end to end; exit status 0 only if every step worked
#   ./demo.sh --keep   after the pods have tried the database, open a shell inside the VM (kubectl is set up);
#                      leaving that shell deletes the pods and checks nothing leaked
set -euo pipefail
cd "$(dirname "$0")"
keep=0
case "${1:-}" in
  "") ;;
  --keep) keep=1 ;;
  -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
  *) echo "demo.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
step() { printf '\n==> %s\n' "$*"; }
if [ "$(id -u)" != 0 ]; then echo "demo.sh: needs root (qemu, network namespaces)" >&2; exit 1; fi

step "prerequisites (apt packages, micro-VM kernel kit)"
tools/install-prereqs.sh
step "building: the CNI binary branch-eni, the agent branch-eni-agent, the controller branch-eni-controller (native AOT), the sandbox, the libcni kubelet driver"
quiet() { "$@" -v quiet -nologo 2>&1 | grep -Ev '^\s*$|^\s*Determining projects|^\s*All projects are up-to-date' || true; }
quiet dotnet publish src/CniPlugin -c Release -o artifacts/bin
quiet dotnet publish src/NodeAgent -c Release -r linux-x64 -o artifacts/agent
quiet dotnet publish src/Controller -c Release -r linux-x64 -o artifacts/controller
quiet dotnet build src/Sandbox -c Release
mkdir -p artifacts/demo
[ -x artifacts/demo/libcni-driver ] && [ artifacts/demo/libcni-driver -nt tools/libcni-driver/main.go ] \
  || tools/libcni-driver/build.sh "$PWD/artifacts/demo/libcni-driver"
for exe in artifacts/bin/branch-eni artifacts/agent/branch-eni-agent artifacts/controller/branch-eni-controller artifacts/demo/libcni-driver src/Sandbox/bin/Release/net10.0/branch-eni-sandbox; do
  [ -x "$exe" ] || { echo "demo.sh: $exe was not built" >&2; exit 1; }
done
ln -sf "$PWD/artifacts/bin/branch-eni" "$PWD/artifacts/agent/branch-eni-agent" "$PWD/artifacts/controller/branch-eni-controller" artifacts/demo/

# The database's data directory, made once natively (initdb is slow under emulation) and packed in one file, which
# the VM unpacks in a second (copying ~1,000 small files over 9p takes far longer).
pg_template=${BRANCH_ENI_CACHE:-/var/cache/branch-eni}/demo/pgdata.tar
if [ ! -s "$pg_template" ]; then
  step "initdb for the demo's PostgreSQL (once)"
  pg_dir=$(mktemp -d /var/tmp/branch-eni-pg.XXXXXX)
  chown postgres: "$pg_dir"
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  (cd / && runuser -u postgres -- "$pg_bin/initdb" --no-sync --wal-segsize=1 -D "$pg_dir/pgdata" -U postgres -A trust >/dev/null)
  echo "host all all 0.0.0.0/0 trust" >>"$pg_dir/pgdata/pg_hba.conf"
  mkdir -p "$(dirname "$pg_template")"
  tar -C "$pg_dir" -cf "$pg_template.tmp" pgdata && mv "$pg_template.tmp" "$pg_template"
  rm -rf "$pg_dir"
fi

job=$(mktemp -d /var/tmp/branch-eni-demo.XXXXXX)
trap 'rm -rf "$job"' EXIT
cat >"$job/job.sh" <<JOB
DEMO_KEEP=$keep PG_TEMPLATE=$pg_template exec bash "$PWD/tools/demo/tutorial.sh" "$PWD" "$PWD/artifacts/demo" "$PWD/src/Sandbox/bin/Release/net10.0/branch-eni-sandbox"
JOB
step "booting the micro-VM (qemu TCG, Debian kernel with 802.1Q) and running the tutorial in it"
console=()
[ "$keep" = 1 ] && console=(BRANCH_ENI_VM_CONSOLE=stdio)
env BRANCH_ENI_VM_FOLLOW=1 BRANCH_ENI_VM_CPUS=2 BRANCH_ENI_VM_MEMORY=2048 "${console[@]}" tools/microvm/run.sh "$job" 900
