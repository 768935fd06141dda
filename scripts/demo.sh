#!/usr/bin/env bash
# The main job on the embedded AWS: build the provider, start moto on a loopback port, apply
# examples/quickstart, change the fleet's image, show the create-before-destroy replacement plan,
# lint that plan with immutable-lint (clean) and a plan that updates an instance in place (exit 1),
# roll the new image out as a canary (half the fleet, then all of it, each step assessed against
# a CloudWatch alarm), then roll out a bad release whose alarm fires during the canary step: it
# is rolled back while the previous generation keeps serving. Destroy, stop moto.
#
# Nothing leaves this machine: Terraform loads the provider from target/debug through
# dev_overrides (no `terraform init`, no registry), and every AWS call goes to moto on 127.0.0.1,
# run inside tests/support/fault_proxy.py, which speaks CloudWatch's CBOR protocol (the SDKs'
# choice, which moto does not parse) and holds what moto drops where AWS keeps it.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

new_image_id="ami-03cf127a" # a second AMI that moto ships
bad_image_id="ami-1812c061" # a third one: the bad release
provider_dir="${CARGO_TARGET_DIR:-$repo_root/target}/debug"
venv="$repo_root/.venv"
python="$venv/bin/python"

if [[ -t 2 ]]; then
  banner() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  banner() { printf '\n==> %s\n' "$*" >&2; }
fi

banner "Setting up .venv (Terraform 1.0.3 and moto)"
scripts/setup-venv.sh

banner "Building terraform-provider-immutable and immutable-lint"
cargo build -p terraform-provider-immutable -p immutable-lint
if [[ ! -x "$provider_dir/terraform-provider-immutable" ]]; then
  printf 'error: %s was not built\n' "$provider_dir/terraform-provider-immutable" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/immutable-demo.XXXXXX")
moto_pid=""
cleanup() {
  local status=$?
  if [[ -n "$moto_pid" ]] && kill -0 "$moto_pid" 2>/dev/null; then
    printf '\n==> Stopping moto (pid %s)\n' "$moto_pid" >&2
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s "$work/moto.log" ]]; then
    printf '\nLast lines of the moto log:\n' >&2
    tail -n 20 "$work/moto.log" >&2 || true
  fi
  rm -rf -- "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
endpoint="http://127.0.0.1:$port"

banner "Starting moto on $endpoint"
"$python" tests/support/fault_proxy.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
"$python" - "$endpoint" "$moto_pid" <<'PY'
import os, sys, time, urllib.request
endpoint, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("moto exited before answering")
    time.sleep(0.1)
sys.exit("moto did not answer within 60 s")
PY
printf 'moto is up (pid %s)\n' "$moto_pid" >&2

# The environment of every terraform run: our CLI config, moto, static test credentials, and no
# way to reach anything else (no profiles, no instance metadata service, no version check).
cat >"$work/cli.tfrc" <<EOF
disable_checkpoint = true

provider_installation {
  dev_overrides {
    "registry.terraform.io/immutable-infra/immutable" = "$provider_dir"
  }
}
EOF
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1
export TF_INPUT=0
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="$endpoint"
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$work/no-aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$work/no-aws-credentials"

# Prints the Auto Scaling groups and launch templates moto holds, with their instances' images.
show_aws() {
  "$python" - <<'PY'
import os
import boto3

kwargs = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
asg = boto3.client("autoscaling", **kwargs)
ec2 = boto3.client("ec2", **kwargs)
groups = asg.describe_auto_scaling_groups()["AutoScalingGroups"]
if not groups:
    print("  (no Auto Scaling groups)")
for group in groups:
    tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
    template = group.get("LaunchTemplate", {}).get("LaunchTemplateId", "-")
    print(f"  ASG {group['AutoScalingGroupName']}: desired {group['DesiredCapacity']} "
          f"(min {group['MinSize']}, max {group['MaxSize']}), launch template {template}, "
          f"generation {tags.get('immutable:generation', '-')}")
    ids = [i["InstanceId"] for i in group.get("Instances", [])]
    if ids:
        reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
        for instance in (i for r in reservations for i in r["Instances"]):
            print(f"    {instance['InstanceId']}  {instance['ImageId']}  "
                  f"{instance['InstanceType']}  {instance['State']['Name']}")
templates = ec2.describe_launch_templates()["LaunchTemplates"]
names = ", ".join(t["LaunchTemplateName"] for t in templates) or "(none)"
print(f"  launch templates: {names}")
PY
}

subnet_ids=$("$python" - <<'PY'
import json, os
import boto3

ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
print(json.dumps(sorted(s["SubnetId"] for s in subnets)[:2]))
PY
)
export TF_VAR_subnet_ids="$subnet_ids"

# The alarm that judges rollouts: on AWS, the load balancer's 5xx count for the fleet's target
# group. moto never evaluates alarms from metrics; the demo sets its state as CloudWatch would.
set_alarm() {
  "$python" - "$1" "$2" <<'PY'
import os, sys
import boto3

cloudwatch = boto3.client("cloudwatch", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
state, reason = sys.argv[1], sys.argv[2]
if not cloudwatch.describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"]:
    cloudwatch.put_metric_alarm(
        AlarmName="web-5xx", Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue=state, StateReason=reason)
print(f"  alarm web-5xx: {state} ({reason})")
PY
}
set_alarm OK "Threshold Crossed: no datapoints were greater than or equal to the threshold (1.0)" >&2
export TF_VAR_alarm_names='["web-5xx"]'

# The provider's progress lines (steps, health, alarms, assessment) from a TF_LOG_PROVIDER=INFO log.
progress() {
  sed -nE 's/^.*provider\.terraform-provider-immutable: (web: .*|gate failed for .*|creating new fleet generation .*): [@a-z_]+=.*$/  \1/p' "$1" | cut -c1-160 >&2
}

cp -R examples/quickstart "$work/quickstart"
cd "$work/quickstart"
terraform="$venv/bin/terraform"
color=()
[[ -t 1 ]] || color=(-no-color)

banner "terraform apply examples/quickstart (subnets $subnet_ids)"
"$terraform" apply -auto-approve -input=false "${color[@]}"

banner "AWS now (moto)"
show_aws

banner "Changing image_id to $new_image_id: the replacement plan"
"$terraform" plan -input=false "${color[@]}" -var "image_id=$new_image_id" -out=replace.tfplan >/dev/null
"$terraform" show "${color[@]}" replace.tfplan

banner "immutable-lint on that plan: a gated create-before-destroy replacement is clean"
"$terraform" show -json replace.tfplan >replace.plan.json
"$provider_dir/immutable-lint" --source . replace.plan.json

banner "immutable-lint on a plan that updates an aws_instance in place (examples/linter): exit 1"
lint_status=0
"$provider_dir/immutable-lint" "$repo_root/examples/linter/in-place-update.plan.json" || lint_status=$?
if [[ $lint_status -ne 1 ]]; then
  printf 'error: expected immutable-lint to exit 1 on an in-place update, got %s\n' "$lint_status" >&2
  exit 1
fi

banner "terraform apply replace.tfplan: a canary, 1 of 2 instances first, judged by alarm web-5xx"
TF_LOG_PROVIDER=INFO "$terraform" apply -input=false -no-color replace.tfplan >"$work/canary-apply.log" 2>&1 || {
  cat "$work/canary-apply.log" >&2
  exit 1
}
progress "$work/canary-apply.log"
grep -E '^(Apply complete|immutable_fleet.web: (Creation|Destruction) complete)' "$work/canary-apply.log" >&2

banner "AWS now (moto): one fleet, on $new_image_id"
show_aws

banner "A bad release ($bad_image_id): its 5xx alarm fires during the canary step"
TF_LOG_PROVIDER=INFO "$terraform" apply -auto-approve -input=false -no-color \
  -var "image_id=$bad_image_id" >"$work/bad-apply.log" 2>&1 &
apply_pid=$!
# Watch moto while the apply runs: once the canary takes traffic (its generation is being
# assessed), the alarm fires, as CloudWatch would on the load balancer's 5xx count. The previous
# generation is sampled throughout: it never drops below its 2 serving instances.
"$python" - "$work/bad-apply.log" <<'PY'
import os, re, sys, time
import boto3

log = sys.argv[1]
kwargs = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
asg = boto3.client("autoscaling", **kwargs)
cloudwatch = boto3.client("cloudwatch", **kwargs)
fired, lowest, samples, previous = None, None, 0, None
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    groups = asg.describe_auto_scaling_groups()["AutoScalingGroups"]
    states = {g["AutoScalingGroupName"]: {t["Key"]: t["Value"] for t in g.get("Tags", [])}.get("immutable:state") for g in groups}
    for group in groups:
        if states[group["AutoScalingGroupName"]] == "serving":
            previous = group["AutoScalingGroupName"]
            serving = sum(1 for i in group["Instances"] if i["LifecycleState"] == "InService")
            lowest = serving if lowest is None else min(lowest, serving)
            samples += 1
    with open(log, errors="replace") as f:
        assessing = re.search(r"step 1/2 \(50%\): .*assess", f.read()) is not None
    if assessing and fired is None:
        cloudwatch.set_alarm_state(
            AlarmName="web-5xx", StateValue="ALARM",
            StateReason="Threshold Crossed: 1 out of the last 1 datapoints [37.0] was greater than or equal to the threshold (1.0).",
        )
        print("  the canary serves 5xx errors: alarm web-5xx is now in ALARM")
        fired = time.monotonic()
    if fired is not None and not any(s == "gating" for s in states.values()):
        print(f"  the canary was gone {time.monotonic() - fired:.1f} s after the alarm fired")
        print(f"  previous generation {previous}: at least {lowest} InService instance(s) in all {samples} samples")
        sys.exit(0)
    time.sleep(0.2)
sys.exit("the canary never reached its assessment, or was never rolled back")
PY
apply_status=0
wait "$apply_pid" || apply_status=$?
progress "$work/bad-apply.log"
sed -n '/^Error: /,/apply again/p' "$work/bad-apply.log" >&2
if [[ $apply_status -eq 0 ]]; then
  printf 'error: the apply of the bad release succeeded; its alarm should have rolled it back\n' >&2
  exit 1
fi
set_alarm OK "Threshold Crossed: no datapoints were greater than or equal to the threshold (1.0)" >&2

banner "AWS now (moto): the bad generation is gone, the previous one still serves $new_image_id"
show_aws

banner "terraform destroy"
"$terraform" destroy -auto-approve -input=false "${color[@]}" -var "image_id=$new_image_id"

banner "AWS now (moto)"
show_aws

banner "Done"
