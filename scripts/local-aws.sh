#!/usr/bin/env bash
# The embedded AWS for trying the provider by hand: moto on 127.0.0.1, its PID in .local-aws/.
#
#   eval "$(scripts/local-aws.sh start)"   start moto (port $LOCAL_AWS_PORT, default 5000) and
#                                          export what Terraform and the provider need: test
#                                          credentials, AWS_ENDPOINT_URL, the default VPC's
#                                          subnets as TF_VAR_subnet_ids, .venv/bin on PATH
#                                          (Terraform 1.0.3)
#   scripts/local-aws.sh stop              stop it (by the recorded PID)
#
# Progress goes to stderr; only the export lines go to stdout, so `eval` sees nothing else. On
# failure stdout says `false`, so the `eval` fails too instead of leaving a shell that would
# talk to whatever AWS account its credentials reach.
set -euo pipefail
command="${1:-}"
on_exit() {
  local status=$?
  if [[ $status -ne 0 && $command == start ]]; then echo false; fi
}
trap on_exit EXIT

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state_dir="$repo_root/.local-aws"
pid_file="$state_dir/moto.pid"
port="${LOCAL_AWS_PORT:-5000}"
venv="${IMMUTABLE_VENV:-$repo_root/.venv}"

running_pid() {
  [[ -s "$pid_file" ]] || return 1
  local pid
  pid=$(<"$pid_file")
  kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

case "${1:-}" in
  start)
    "$repo_root/scripts/setup-venv.sh" >&2
    mkdir -p "$state_dir"
    if pid=$(running_pid); then
      printf 'moto already running (pid %s)\n' "$pid" >&2
    else
      # moto inside the fault proxy, with no fault installed: it speaks CloudWatch's CBOR
      # protocol (what the SDKs send; moto does not parse it) and holds what moto drops where
      # AWS keeps it.
      "$venv/bin/python" "$repo_root/tests/support/fault_proxy.py" -H 127.0.0.1 -p "$port" >"$state_dir/moto.log" 2>&1 &
      printf '%s\n' "$!" >"$pid_file"
    fi
    endpoint="http://127.0.0.1:$port"
    # Wait for moto, then read the default VPC's subnets (moto creates them on first use).
    subnet_ids=$("$venv/bin/python" - "$endpoint" "$(<"$pid_file")" <<'PY'
import json, os, sys, time, urllib.request
import boto3

endpoint, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
            break
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        port = endpoint.rsplit(":", 1)[1]
        sys.exit(f"moto exited before answering (is port {port} in use? then "
                 f"export LOCAL_AWS_PORT=<another port> and start again); see .local-aws/moto.log")
    if time.monotonic() > deadline:
        sys.exit("moto did not answer within 60 s; see .local-aws/moto.log")
    time.sleep(0.1)
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
print(json.dumps(sorted(s["SubnetId"] for s in subnets)[:2]))
PY
)
    printf 'moto is up at %s (pid %s); stop it with scripts/local-aws.sh stop\n' "$endpoint" "$(<"$pid_file")" >&2
    cat <<EXPORTS
export PATH='$venv/bin':"\$PATH"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL='$endpoint' AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1
export TF_VAR_subnet_ids='$subnet_ids'
EXPORTS
    ;;
  stop)
    if pid=$(running_pid); then
      kill "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      printf 'moto stopped (pid %s)\n' "$pid" >&2
    else
      printf 'moto is not running\n' >&2
    fi
    rm -f -- "$pid_file"
    ;;
  *)
    # shellcheck disable=SC2016 # the usage shows the command literally
    printf 'usage: eval "$(scripts/local-aws.sh start)" | scripts/local-aws.sh stop\n' >&2
    exit 2
    ;;
esac
