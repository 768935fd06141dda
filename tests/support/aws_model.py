"""What AWS keeps and moto drops, kept by the fault proxy and echoed back like AWS does.

docs/moto.md section 7: where moto drops or mis-reports what AWS keeps, the test proxy behaves
like AWS (remembers the value, echoes it back) rather than the provider weakening its read-back.
This applies to every signed Auto Scaling request through the proxy, with no rule installed:

- MaxInstanceLifetime, DefaultInstanceWarmup: moto accepts them in CreateAutoScalingGroup and
  UpdateAutoScalingGroup but stores neither. Remembered per group and put into the group's member
  of DescribeAutoScalingGroups. MaxInstanceLifetime 0 ("no maximum") is echoed as 0;
  DefaultInstanceWarmup -1 (AWS: "remove the value you previously set") removes the element.
- CapacityRebalance, DefaultCooldown, TerminationPolicies: moto stores them on create but ignores
  them in UpdateAutoScalingGroup. The last updated value is remembered and replaces moto's.
- LifecycleHookSpecificationList in CreateAutoScalingGroup: ignored by moto. After moto created
  the group, one PutLifecycleHook per specification is sent to moto with the same credentials.
- PutLifecycleHook: moto drops NotificationTargetARN, RoleARN and NotificationMetadata and
  describes every hook with a made-up SQS queue `my-queue` and role. DescribeLifecycleHooks
  reports what was last put for each hook instead: the values sent, or no element if none was.
- DeleteAutoScalingGroup: AWS deletes the group's hooks and scaling policies, moto keeps them (a
  new group of the same name would inherit them); the proxy deletes them in moto and forgets the
  group's values.
- Scaling policies: moto keys them by policy name alone, so putting policy `cpu` on group B
  replaces group A's `cpu`; AWS names them per group. The proxy stores each in moto as
  `<group>::<name>` (PutScalingPolicy, DescribePolicies, DeletePolicy and ExecutePolicy requests,
  by name or ARN) and reports `<name>` again in answers. moto's PutScalingPolicy answers without
  the PolicyARN AWS returns: the proxy adds it. `Enabled` (AWS: default true, always described)
  is dropped by moto: remembered and described. moto describes every policy with an empty
  PredictiveScalingConfiguration: removed unless the policy is PredictiveScaling.
- Scheduled actions: moto keys them by action name alone (putting `end` on group B replaces
  group A's `end`) and keeps them when their group is deleted; AWS names them per group and
  deletes them with it. The proxy stores each in moto as `<group>::<name>`
  (PutScheduledUpdateGroupAction, DescribeScheduledActions, DeleteScheduledAction and
  BatchDeleteScheduledAction requests with a group), reports `<name>` again in answers, and
  deletes a group's actions with the group. moto never runs a scheduled action.
- SuspendProcesses, ResumeProcesses: moto fails with HTTP 500 for a group that does not exist;
  AWS answers ValidationError (`AutoScalingGroup name not found - null`), and so does the proxy.
- EnableMetricsCollection: moto replaces the group's metrics by those named (and enables none
  when none is named); AWS adds them (all metrics when none is named). DisableMetricsCollection
  is missing in moto (HTTP 500). The proxy answers both itself: it reads the group's metrics
  from moto and sets the AWS result with one EnableMetricsCollection call to moto.

This is AWS state, not a fault: like moto's own state (one account for every access key) it is
shared by all scopes and keyed by region and group name, not by access key.
"""

import io
import re
import sys
import threading
import uuid
from urllib.parse import parse_qsl, urlencode

MODELLED = frozenset(
    (
        "CreateAutoScalingGroup",
        "UpdateAutoScalingGroup",
        "DeleteAutoScalingGroup",
        "PutLifecycleHook",
        "DeleteLifecycleHook",
        "DescribeAutoScalingGroups",
        "DescribeLifecycleHooks",
        "PutScalingPolicy",
        "DescribePolicies",
        "DeletePolicy",
        "ExecutePolicy",
        "EnableMetricsCollection",
        "DisableMetricsCollection",
        "SuspendProcesses",
        "ResumeProcesses",
        "PutScheduledUpdateGroupAction",
        "DescribeScheduledActions",
        "DeleteScheduledAction",
        "BatchDeleteScheduledAction",
    )
)
# Answered by the proxy (with calls to moto) instead of being forwarded.
ANSWERED = (
    "EnableMetricsCollection",
    "DisableMetricsCollection",
    "SuspendProcesses",
    "ResumeProcesses",
)
# Passed on to moto once the group is known to exist.
PROCESS_ACTIONS = ("SuspendProcesses", "ResumeProcesses")
# What EnableMetricsCollection without Metrics enables, in AWS's order.
ALL_METRICS = (
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
    "GroupInServiceCapacity",
    "GroupPendingCapacity",
    "GroupStandbyCapacity",
    "GroupTerminatingCapacity",
    "GroupTotalCapacity",
    "WarmPoolDesiredCapacity",
    "WarmPoolWarmedCapacity",
    "WarmPoolPendingCapacity",
    "WarmPoolTerminatingCapacity",
    "WarmPoolTerminatedCapacity",
    "WarmPoolTotalCapacity",
    "GroupAndWarmPoolDesiredCapacity",
    "GroupAndWarmPoolTotalCapacity",
)
METRIC_PARAM = re.compile(r"Metrics\.member\.(\d+)$")
ENABLED_METRICS = re.compile(r"<EnabledMetrics>(.*?)</EnabledMetrics>", re.S)
METRIC = re.compile(r"<Metric>([^<]*)</Metric>")
NAMESPACE = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
# Scalar group settings moto drops, by the call that drops them.
DROPPED_ON_CREATE = ("MaxInstanceLifetime", "DefaultInstanceWarmup")
DROPPED_ON_UPDATE = DROPPED_ON_CREATE + ("CapacityRebalance", "DefaultCooldown")
# Hook fields moto drops (and replaces by made-up values for the two ARNs).
HOOK_FIELDS = ("NotificationTargetARN", "RoleARN", "NotificationMetadata")
HOOK_SPEC_FIELDS = (
    "LifecycleHookName",
    "LifecycleTransition",
    "NotificationMetadata",
    "HeartbeatTimeout",
    "DefaultResult",
    "NotificationTargetARN",
    "RoleARN",
)
HOOK_SPEC = re.compile(r"LifecycleHookSpecificationList\.member\.(\d+)\.(\w+)$")
TERMINATION_POLICY = re.compile(r"TerminationPolicies\.member\.(\d+)$")
GROUP_START = re.compile(r"(?=<member><AutoScalingGroupName>)")
HOOK_START = re.compile(r"(?=<member><LifecycleHookName>)")
GROUP_NAME = re.compile(r"<AutoScalingGroupName>([^<]*)</AutoScalingGroupName>")
HOOK_NAME = re.compile(r"<LifecycleHookName>([^<]*)</LifecycleHookName>")
POLICY_ARN = re.compile(r"<PolicyARN>([^<]*)</PolicyARN>")
POLICY_NAME = re.compile(r"<PolicyName>([^<]*)</PolicyName>")
POLICY_ARN_PARTS = re.compile(
    r"^arn:[^:]+:autoscaling:[^:]*:[^:]*:scalingPolicy:[^:]*:"
    r"autoScalingGroupName/(.*):policyName/(.*)$"
)
POLICY_NAME_PARAM = re.compile(r"PolicyNames\.member\.\d+$")
POLICY_ACTIONS = ("PutScalingPolicy", "DescribePolicies", "DeletePolicy", "ExecutePolicy")
# Separates group and policy (or scheduled action) name in the names moto stores.
POLICY_SEPARATOR = "::"
SCHEDULED_ACTIONS = (
    "PutScheduledUpdateGroupAction",
    "DescribeScheduledActions",
    "DeleteScheduledAction",
    "BatchDeleteScheduledAction",
)
SCHEDULED_NAME_PARAM = re.compile(r"ScheduledActionNames\.member\.\d+$")
SCHEDULED_ACTION_NAME = re.compile(r"<ScheduledActionName>([^<]*)</ScheduledActionName>")
INSTANCE_MEMBER = re.compile(r"<member><InstanceId>([^<]*)</InstanceId>.*?</member>", re.S)
LIFECYCLE_STATE = re.compile(r"<LifecycleState>[^<]*</LifecycleState>")


def xml_escape(text):
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def xml_unescape(text):
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def validation_error(message):
    return (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
        f"<Code>ValidationError</Code><Message>{xml_escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()


def set_element(block, name, inner):
    """`block` (one `<member>...</member>`) with its top-level element `name` holding `inner`
    (already XML), or without it if `inner` is None. A missing element is added at the end."""
    element = re.compile(rf"<{name}>.*?</{name}>|<{name}/>", re.S)
    if inner is None:
        return element.sub("", block, count=1)
    replacement = f"<{name}>{inner}</{name}>"
    if element.search(block):
        return element.sub(lambda _: replacement, block, count=1)
    end = block.rfind("</member>")
    return block[:end] + replacement + block[end:]


def map_members(text, container, start, transform):
    """Applies `transform` to each top-level `<member>` of `<container>` in `text`; `start`
    matches just before a top-level member (nested members begin differently)."""
    begin = text.find(f"<{container}>")
    end = text.rfind(f"</{container}>")
    if begin < 0 or end < 0:
        return text
    begin += len(container) + 2
    parts = start.split(text[begin:end])
    return text[:begin] + "".join(transform(part) if part else part for part in parts) + text[end:]


class AutoScalingModel:
    """The Auto Scaling state AWS keeps and moto drops (see the module doc)."""

    def __init__(self):
        self.lock = threading.Lock()
        # (region, group) -> {element: XML text or None (no element)}
        self.settings = {}
        # (region, group, hook) -> {field: value or None}
        self.hooks = {}
        # (region, group, policy) -> Enabled, "true" or "false"
        self.policies = {}

    @staticmethod
    def handles(call):
        return call.service == "autoscaling" and call.action in MODELLED

    def observe(self, call, status, data, send):
        """Records what a successful mutating `call` set (calling moto through `send(params)`
        where AWS does more than moto) or completes a describe answer; returns the body."""
        ok = 200 <= status < 300
        if call.action == "DescribeAutoScalingGroups" and ok:
            return self.describe_groups(call, data)
        if call.action == "DescribeLifecycleHooks" and ok:
            return self.describe_hooks(call, data)
        if call.action == "DescribePolicies" and ok:
            return self.describe_policies(call, data)
        if call.action in SCHEDULED_ACTIONS:
            return self.scheduled_answer(data)
        if not ok:
            return data
        group = call.params.get("AutoScalingGroupName")
        if group is None:
            return data
        key = (call.region, group)
        if call.action == "CreateAutoScalingGroup":
            self.created(call, key, send)
        elif call.action == "UpdateAutoScalingGroup":
            self.updated(call, key)
        elif call.action == "DeleteAutoScalingGroup":
            self.deleted(call, key, send)
        elif call.action == "PutLifecycleHook":
            self.put_hook(key, call.params)
        elif call.action == "DeleteLifecycleHook":
            with self.lock:
                self.hooks.pop(key + (call.params.get("LifecycleHookName"),), None)
        elif call.action == "PutScalingPolicy":
            return self.put_policy(call, key, data, send)
        elif call.action == "DeletePolicy":
            found = POLICY_ARN_PARTS.match(call.params.get("PolicyName", ""))
            policy = found.groups() if found else (group, call.params.get("PolicyName"))
            with self.lock:
                self.policies.pop((call.region,) + policy, None)
        return data

    @staticmethod
    def answers(call):
        return call.service == "autoscaling" and call.action in ANSWERED

    def answer(self, call, send):
        """(HTTP status, body) for a call the proxy answers itself (metrics collection,
        processes of a group that may not exist)."""
        group = call.params.get("AutoScalingGroupName", "")
        status, described = send(
            {
                "Action": "DescribeAutoScalingGroups",
                "Version": "2011-01-01",
                "AutoScalingGroupNames.member.1": group,
            }
        )
        if not 200 <= status < 300:
            return status, described
        described = described.decode("utf-8")
        if call.action in PROCESS_ACTIONS:
            if "<AutoScalingGroupName>" not in described:
                return 400, validation_error("AutoScalingGroup name not found - null")
            return send(dict(call.params))
        if "<AutoScalingGroupName>" not in described:
            return 400, validation_error(f"Group {group} not found")
        enabled = ENABLED_METRICS.search(described)
        current = [xml_unescape(m) for m in METRIC.findall(enabled.group(1) if enabled else "")]
        numbered = []
        for param, value in call.params.items():
            match = METRIC_PARAM.match(param)
            if match:
                numbered.append((int(match.group(1)), value))
        requested = [value for _, value in sorted(numbered)]
        if call.action == "EnableMetricsCollection":
            metrics = current + [m for m in requested or ALL_METRICS if m not in current]
        else:
            metrics = [m for m in current if requested and m not in requested]
        params = {
            "Action": "EnableMetricsCollection",
            "Version": "2011-01-01",
            "AutoScalingGroupName": group,
            "Granularity": call.params.get("Granularity", "1Minute"),
        }
        for index, metric in enumerate(metrics, 1):
            params[f"Metrics.member.{index}"] = metric
        status, body = send(params)
        if not 200 <= status < 300:
            return status, body
        return status, (
            f'<{call.action}Response xmlns="{NAMESPACE}"><ResponseMetadata>'
            f"<RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{call.action}Response>"
        ).encode()

    def prepare(self, call, environ):
        """Rewrites the request for moto where the proxy stores things under other names: a
        policy or scheduled action `<name>` of group `<group>` (or a policy's ARN) is
        `<group>::<name>` in moto."""
        if call.action not in POLICY_ACTIONS and call.action not in SCHEDULED_ACTIONS:
            return
        group = call.params.get("AutoScalingGroupName")

        def stored_scheduled(param, value):
            if group is None or not (
                param == "ScheduledActionName" or SCHEDULED_NAME_PARAM.match(param)
            ):
                return value
            return group + POLICY_SEPARATOR + value

        def stored(param, value):
            if call.action in SCHEDULED_ACTIONS:
                return stored_scheduled(param, value)
            if param != "PolicyName" and not (
                call.action == "DescribePolicies" and POLICY_NAME_PARAM.match(param)
            ):
                return value
            found = POLICY_ARN_PARTS.match(value)
            if found:
                return found.group(1) + POLICY_SEPARATOR + found.group(2)
            return value if group is None else group + POLICY_SEPARATOR + value

        stream = environ.get("wsgi.input")
        content_type = environ.get("CONTENT_TYPE", "")
        if stream is None or not ("form-urlencoded" in content_type or not content_type):
            return
        text = stream.read().decode("utf-8", "replace")
        pairs = [(k, stored(k, v)) for k, v in parse_qsl(text, keep_blank_values=True)]
        data = urlencode(pairs).encode()
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))

    def put_policy(self, call, key, data, send):
        name = call.params.get("PolicyName")
        if name is None:
            return data
        enabled = call.params.get("Enabled", "true").strip().lower()
        with self.lock:
            self.policies[key + (name,)] = "false" if enabled == "false" else "true"
        status, answer = send(
            {
                "Action": "DescribePolicies",
                "Version": "2011-01-01",
                "AutoScalingGroupName": key[1],
                "PolicyNames.member.1": key[1] + POLICY_SEPARATOR + name,
            }
        )
        found = POLICY_ARN.search(answer.decode("utf-8")) if 200 <= status < 300 else None
        text = data.decode("utf-8")
        if not found or "<PolicyARN>" in text:
            return data
        prefix = f":policyName/{xml_escape(key[1])}{POLICY_SEPARATOR}"
        arn = f"<PolicyARN>{found.group(1).replace(prefix, ':policyName/')}</PolicyARN>"
        if "<PutScalingPolicyResult/>" in text:
            result = f"<PutScalingPolicyResult>{arn}</PutScalingPolicyResult>"
            text = text.replace("<PutScalingPolicyResult/>", result)
        else:
            text = text.replace("<PutScalingPolicyResult>", f"<PutScalingPolicyResult>{arn}", 1)
        return text.encode("utf-8")

    def describe_policies(self, call, data):
        with self.lock:
            enabled = {k[1:]: v for k, v in self.policies.items() if k[0] == call.region}

        def complete(block):
            found = GROUP_NAME.search(block)
            if not found:
                return block
            prefix = found.group(1) + POLICY_SEPARATOR
            block = block.replace(f"<PolicyName>{prefix}", "<PolicyName>", 1)
            block = block.replace(f":policyName/{prefix}", ":policyName/", 1)
            name = POLICY_NAME.search(block)
            if name:
                key = (xml_unescape(found.group(1)), xml_unescape(name.group(1)))
                block = set_element(block, "Enabled", enabled.get(key, "true"))
            if "<PolicyType>PredictiveScaling</PolicyType>" not in block:
                block = block.replace("<PredictiveScalingConfiguration/>", "", 1)
            return block

        text = data.decode("utf-8")
        return map_members(text, "ScalingPolicies", GROUP_START, complete).encode("utf-8")

    def created(self, call, key, send):
        settings = {}
        for name in DROPPED_ON_CREATE:
            if name in call.params:
                settings[name] = self.setting_xml(name, call.params[name])
        specs = {}
        for param, value in call.params.items():
            found = HOOK_SPEC.match(param)
            if found and found.group(2) in HOOK_SPEC_FIELDS:
                specs.setdefault(int(found.group(1)), {})[found.group(2)] = value
        with self.lock:
            self.settings[key] = settings
            for hook_key in [k for k in self.hooks if k[:2] == key]:
                del self.hooks[hook_key]
        for index in sorted(specs):
            params = dict(specs[index], AutoScalingGroupName=key[1])
            status, answer = send(dict(params, Action="PutLifecycleHook", Version="2011-01-01"))
            if 200 <= status < 300:
                self.put_hook(key, params)
            else:
                message = f"fault_proxy: PutLifecycleHook {params}: {status} {answer!r}"
                print(message, file=sys.stderr)

    def updated(self, call, key):
        changed = {}
        for name in DROPPED_ON_UPDATE:
            if name in call.params:
                changed[name] = self.setting_xml(name, call.params[name])
        policies = sorted(
            (int(found.group(1)), value)
            for param, value in call.params.items()
            if (found := TERMINATION_POLICY.match(param))
        )
        if policies:
            changed["TerminationPolicies"] = "".join(
                f"<member>{xml_escape(value)}</member>" for _, value in policies
            )
        with self.lock:
            self.settings.setdefault(key, {}).update(changed)

    @staticmethod
    def scheduled_answer(data):
        """A scheduled-action answer with the names (and ARNs) moto stores as `<group>::<name>`
        reported as `<name>`."""
        text = data.decode("utf-8")

        def unprefixed(block):
            found = GROUP_NAME.search(block)
            if not found:
                return block
            return block.replace(found.group(1) + POLICY_SEPARATOR, "")

        parts = text.split("</member>")
        return "</member>".join(unprefixed(part) for part in parts).encode("utf-8")

    def deleted(self, call, key, send):
        # AWS deletes the group's scheduled actions with it; moto keeps them.
        status, answer = send(
            {
                "Action": "DescribeScheduledActions",
                "Version": "2011-01-01",
                "AutoScalingGroupName": key[1],
            }
        )
        if 200 <= status < 300:
            for name in SCHEDULED_ACTION_NAME.findall(answer.decode("utf-8")):
                send(
                    {
                        "Action": "DeleteScheduledAction",
                        "Version": "2011-01-01",
                        "AutoScalingGroupName": key[1],
                        "ScheduledActionName": xml_unescape(name),
                    }
                )
        with self.lock:
            self.settings.pop(key, None)
            hooks = [k for k in self.hooks if k[:2] == key]
            for hook_key in hooks:
                del self.hooks[hook_key]
            for policy_key in [k for k in self.policies if k[:2] == key]:
                del self.policies[policy_key]
        status, answer = send(
            {"Action": "DescribePolicies", "Version": "2011-01-01", "AutoScalingGroupName": key[1]}
        )
        if 200 <= status < 300:
            for name in POLICY_NAME.findall(answer.decode("utf-8")):
                params = {"Action": "DeletePolicy", "Version": "2011-01-01"}
                send(dict(params, PolicyName=xml_unescape(name)))
        for _, group, hook in hooks:
            send(
                {
                    "Action": "DeleteLifecycleHook",
                    "Version": "2011-01-01",
                    "AutoScalingGroupName": group,
                    "LifecycleHookName": hook,
                }
            )

    def put_hook(self, key, params):
        name = params.get("LifecycleHookName")
        if name is None:
            return
        with self.lock:
            self.hooks[key + (name,)] = {field: params.get(field) for field in HOOK_FIELDS}

    @staticmethod
    def setting_xml(name, value):
        if name == "DefaultInstanceWarmup" and value.strip() == "-1":
            return None
        if name == "CapacityRebalance":
            return "true" if value.strip().lower() == "true" else "false"
        return xml_escape(value)

    def describe_groups(self, call, data):
        with self.lock:
            settings = {
                group: dict(values)
                for (region, group), values in self.settings.items()
                if region == call.region
            }
        if not settings:
            return data

        def complete(block):
            found = GROUP_NAME.search(block)
            group = xml_unescape(found.group(1)) if found else None
            for name, inner in settings.get(group, {}).items():
                block = set_element(block, name, inner)
            return block

        text = data.decode("utf-8")
        return map_members(text, "AutoScalingGroups", GROUP_START, complete).encode("utf-8")

    def describe_hooks(self, call, data):
        with self.lock:
            hooks = {k[1:]: dict(v) for k, v in self.hooks.items() if k[0] == call.region}
        if not hooks:
            return data

        def complete(block):
            group, hook = GROUP_NAME.search(block), HOOK_NAME.search(block)
            if not group or not hook:
                return block
            fields = hooks.get((xml_unescape(group.group(1)), xml_unescape(hook.group(1))))
            if fields is None:
                return block
            for name, value in fields.items():
                block = set_element(block, name, None if value is None else xml_escape(value))
            return block

        text = data.decode("utf-8")
        return map_members(text, "LifecycleHooks", HOOK_START, complete).encode("utf-8")


def override_lifecycle_state(text, rule):
    """In a DescribeAutoScalingGroups body, the instances of the rule's group (all groups if it
    names none) not in `keep`, at most `instance_count` of them, report the rule's state."""

    def group(block):
        found = GROUP_NAME.search(block)
        if rule.group is not None and (not found or xml_unescape(found.group(1)) != rule.group):
            return block
        left = [rule.instance_count]

        def instance(member):
            if member.group(1) in rule.keep or left[0] == 0:
                return member.group(0)
            if left[0] is not None:
                left[0] -= 1
            state = f"<LifecycleState>{xml_escape(rule.state)}</LifecycleState>"
            return LIFECYCLE_STATE.sub(lambda _: state, member.group(0), count=1)

        return INSTANCE_MEMBER.sub(instance, block)

    return map_members(text, "AutoScalingGroups", GROUP_START, group)
