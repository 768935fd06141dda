"""moto with a fault injector in front of it, in one process, for the end-to-end tests.

Usage: python fault_proxy.py [-H HOST] -p PORT

moto cannot make a call fail, slow down, or report anything but "InService, Healthy, healthy"
(STATUS.md, "moto lies"). This wraps moto's own WSGI application in a middleware that can, per rule:

- error:            answer with a service-shaped error instead of calling moto
                    (EC2: <Response><Errors>, RequestLimitExceeded/503 by default;
                    autoscaling and elbv2, "awsquery": <ErrorResponse>, Throttling/400;
                    CloudWatch: a CBOR or JSON map with __type and the x-amzn-query-error
                    header, Throttling/400);
- delay:            sleep before calling moto;
- rewrite:          substitute text (or regular expressions) in moto's response body;
- target_health:    in DescribeTargetHealth, report every target whose id is not in `keep`
                    with the given state, reason and description;
- failed_activity:  answer DescribeScalingActivities with one activity that started now, `Failed`
                    unless `status_code` says otherwise (`Cancelled`: a launch a hook abandoned);
- lifecycle_state:  in DescribeAutoScalingGroups, report the instances of `group` (all groups if
                    none is named) not in `keep`, at most `instance_count` of them, with the
                    LifecycleState `state` (e.g. Pending:Wait, Terminating:Wait, which moto never
                    enters: it has no lifecycle actions).

Any rule also takes `duration_ms`: it stops firing that long after it was added.

CloudWatch (service `monitoring`): the Rust SDK speaks Smithy RPC v2 CBOR
(POST /service/GraniteServiceVersion20100801/operation/<Op>), which moto does not parse. The proxy
asks moto the same in AWS JSON 1.0 and answers in CBOR, errors included (cbor_rpc.py). Rules and
counts see such a call as `monitoring:<Op>`; a rule's `params` match its top-level scalar members,
and a rewrite applies to moto's JSON answer before it is translated. Clients that send
CloudWatch's JSON protocol themselves reach moto untouched (an injected error answers them in
JSON).

Every rule and every call count is scoped by the SigV4 access key id of the request
(`Credential=<AKID>/<date>/<region>/<service>/aws4_request`). moto maps unknown access keys
to its one default account, so AWS state is shared while faults and counts stay per scenario.

Control API on the same port (never forwarded to moto):
  POST   /_fault            add a rule (JSON object, see Rule); answers {"id": n}
  GET    /_fault            list rules with how often each fired
  DELETE /_fault[?scope=S]  remove all rules, or those of one scope
  DELETE /_fault?id=N       remove one rule; answers {"removed": 0 or 1, "at": <unix time>}
  GET    /_calls            {"<scope>": {"<service>:<Action>": n}}
  GET    /_calls?scope=S&timeline=1
                            {"S": [[<unix time>, "<service>:<Action>", <answered by an error rule>], ...]}:
                            every counted call of the scope in arrival order (the benchmarks' rates)
  DELETE /_calls[?scope=S]  reset the counts and timelines, all or of one scope

Requests that match no rule are passed to moto untouched and its answer is returned as is,
except where moto drops or mis-reports what AWS keeps in Auto Scaling (MaxInstanceLifetime,
DefaultInstanceWarmup, settings changed by UpdateAutoScalingGroup, lifecycle hooks of
CreateAutoScalingGroup, hook notification targets, scaling policy names per group, metrics
collection): there the proxy remembers the values and answers as AWS does, for every signed
request, with no rule installed (aws_model.py).
"""

import argparse
import io
import json
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
import zlib
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode

# No __pycache__ in the source tree for the sibling module.
sys.dont_write_bytecode = True
import cbor_rpc
from aws_model import AutoScalingModel, override_lifecycle_state, xml_escape

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]*/([^/]*)/([^/]*)/aws4_request")
KINDS = ("error", "delay", "rewrite", "target_health", "failed_activity", "lifecycle_state")
# Kinds that change moto's answer rather than replace it.
TRANSFORMS = ("rewrite", "target_health", "lifecycle_state")
JSON_HEADERS = [("Content-Type", "application/json")]


class RuleError(ValueError):
    """A rule the control API refuses, with the reason for the client."""


class Rule:
    """One fault. Matching: scope (access key id; None = every signed request), service
    (credential-scope name: ec2, autoscaling, elasticloadbalancing, monitoring; None = any), actions
    (list of Action names; empty = any), params (form/query parameters that must be equal).
    Firing: with `probability`, at most `count` times (None = unlimited)."""

    def __init__(self, rule_id, spec):
        if not isinstance(spec, dict):
            raise RuleError("a rule is a JSON object")
        self.id = rule_id
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise RuleError(f"kind must be one of {', '.join(KINDS)}")
        self.scope = spec.get("scope")
        self.service = spec.get("service")
        actions = spec.get("actions") or []
        if isinstance(actions, str):
            actions = [actions]
        self.actions = [a for a in actions if a != "*"]
        # These two kinds only make sense for one action each.
        if self.kind == "target_health":
            self.actions = ["DescribeTargetHealth"]
        elif self.kind == "failed_activity":
            self.actions = ["DescribeScalingActivities"]
        elif self.kind == "lifecycle_state":
            self.actions = ["DescribeAutoScalingGroups"]
        self.params = spec.get("params") or {}
        self.probability = float(spec.get("probability", 1.0))
        if not 0.0 <= self.probability <= 1.0:
            raise RuleError("probability must be within [0, 1]")
        count = spec.get("count")
        self.remaining = None if count is None or int(count) < 0 else int(count)
        self.fired = 0
        duration_ms = spec.get("duration_ms")
        self.expires = None if duration_ms is None else time.monotonic() + int(duration_ms) / 1000
        self.spec = spec
        if self.kind == "delay":
            self.delay_ms = int(spec.get("delay_ms", 0))
        elif self.kind == "rewrite":
            self.substitutions = []
            for sub in spec.get("substitutions") or []:
                pattern = sub["pattern"] if sub.get("regex") else re.escape(sub["pattern"])
                self.substitutions.append((re.compile(pattern), sub.get("replacement", "")))
            if not self.substitutions:
                raise RuleError("a rewrite rule needs substitutions")
        elif self.kind == "target_health":
            self.keep = set(spec.get("keep") or [])
            self.state = spec.get("state", "unhealthy")
            self.reason = spec.get("reason")
            self.description = spec.get("description")
        elif self.kind == "lifecycle_state":
            self.group = spec.get("group")
            self.state = spec.get("state")
            if not isinstance(self.state, str) or not self.state:
                raise RuleError("a lifecycle_state rule needs a state, e.g. Pending:Wait")
            self.keep = set(spec.get("keep") or [])
            count = spec.get("instance_count")
            self.instance_count = None if count is None or int(count) < 0 else int(count)

    def matches(self, call):
        if self.scope is not None and self.scope != call.scope:
            return False
        if self.service is not None and self.service != call.service:
            return False
        if self.actions and call.action not in self.actions:
            return False
        return all(call.params.get(name) == value for name, value in self.params.items())

    def roll(self):
        """Whether the rule fires for a matching call (and counts it if so). Caller holds the lock."""
        if self.remaining == 0:
            return False
        if self.expires is not None and time.monotonic() >= self.expires:
            return False
        if self.probability < 1.0 and random.random() >= self.probability:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        self.fired += 1
        return True

    def describe(self):
        return dict(self.spec, id=self.id, fired=self.fired, remaining=self.remaining)


class Call:
    """What the middleware knows about one AWS request (`rpc`: its RPC v2 CBOR reading)."""

    def __init__(self, environ, body, rpc=None):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        found = CREDENTIAL.search(auth)
        self.scope = found.group(1) if found else None
        self.region = found.group(2) if found else None
        self.service = found.group(3) if found else None
        params = {}
        query = environ.get("QUERY_STRING", "")
        if query:
            params.update({k: v[0] for k, v in parse_qs(query).items()})
        content_type = environ.get("CONTENT_TYPE", "")
        self.json_protocol = rpc is None and "x-amz-json" in content_type
        if body and ("form-urlencoded" in content_type or not content_type):
            text = body.decode("utf-8", "replace")
            params.update({k: v[0] for k, v in parse_qs(text).items()})
        if rpc is not None:
            params.update(rpc.params)
        self.params = params
        self.action = (
            (rpc.operation if rpc is not None else None)
            or params.get("Action")
            or environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        )
        if not self.action:
            self.action = f"{environ.get('REQUEST_METHOD', '?')} {environ.get('PATH_INFO', '/')}"

    @property
    def key(self):
        return f"{self.service}:{self.action}"


def error_response(call, rule):
    """(status, body, headers) of an `error` rule's answer, in the protocol of the call."""
    if call.json_protocol:
        # AWS JSON 1.0/1.1 (CloudWatch from clients that prefer it): a JSON map with __type.
        code = rule.spec.get("code", "Throttling")
        status = int(rule.spec.get("status", 400))
        message = rule.spec.get("message", "Rate exceeded")
        kind = "Receiver" if status >= 500 else "Sender"
        headers = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-query-error", f"{code};{kind}"),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ]
        return status, json.dumps({"__type": code, "message": message}).encode(), headers
    if call.service == "ec2":
        code = rule.spec.get("code", "RequestLimitExceeded")
        status = int(rule.spec.get("status", 503))
        message = rule.spec.get("message", "Request limit exceeded.")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{xml_escape(code)}</Code>"
            f"<Message>{xml_escape(message)}</Message></Error></Errors>"
            f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
        )
    else:
        code = rule.spec.get("code", "Throttling")
        status = int(rule.spec.get("status", 400))
        message = rule.spec.get("message", "Rate exceeded")
        kind = "Receiver" if status >= 500 else "Sender"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{xml_escape(code)}</Code>"
            f"<Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
    return status, body.encode(), None


def failed_activity_response(call, rule):
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    group = call.params.get("AutoScalingGroupName", rule.spec.get("group", "unknown"))
    message = rule.spec.get(
        "status_message",
        "We currently do not have sufficient t3.micro capacity in the Availability Zone you "
        "requested (us-east-1a). Our system will be working on provisioning additional capacity. "
        "Launching EC2 instance failed.",
    )
    description = rule.spec.get(
        "description", f"Launching a new EC2 instance.  Status Reason: {message}"
    )
    body = (
        "<DescribeScalingActivitiesResponse><DescribeScalingActivitiesResult><Activities><member>"
        f"<ActivityId>{uuid.uuid4()}</ActivityId>"
        f"<AutoScalingGroupName>{xml_escape(group)}</AutoScalingGroupName>"
        f"<Description>{xml_escape(description)}</Description>"
        f"<Cause>At {now} an instance was started in response to a difference between desired "
        "and actual capacity.</Cause>"
        f"<StartTime>{now}</StartTime><EndTime>{now}</EndTime>"
        f"<StatusCode>{xml_escape(rule.spec.get('status_code', 'Failed'))}</StatusCode>"
        f"<StatusMessage>{xml_escape(message)}</StatusMessage>"
        "<Progress>100</Progress>"
        "</member></Activities></DescribeScalingActivitiesResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</DescribeScalingActivitiesResponse>"
    )
    return 200, body.encode()


TARGET_MEMBER = re.compile(r"<member><Target>.*?</TargetHealth>", re.S)
TARGET_ID = re.compile(r"<Target><Id>([^<]*)</Id>")
TARGET_HEALTH = re.compile(r"<TargetHealth>.*?</TargetHealth>", re.S)


def override_target_health(text, rule):
    def replace(member):
        block = member.group(0)
        found = TARGET_ID.search(block)
        if not found or found.group(1) in rule.keep:
            return block
        health = f"<State>{xml_escape(rule.state)}</State>"
        if rule.reason:
            health += f"<Reason>{xml_escape(rule.reason)}</Reason>"
        if rule.description:
            health += f"<Description>{xml_escape(rule.description)}</Description>"
        return TARGET_HEALTH.sub(lambda _: f"<TargetHealth>{health}</TargetHealth>", block)

    return TARGET_MEMBER.sub(replace, text)


def transformed(call, rules, data):
    text = data.decode("utf-8")
    for rule in rules:
        if rule.kind == "rewrite":
            for pattern, replacement in rule.substitutions:
                text = pattern.sub(replacement, text)
        elif rule.kind == "target_health" and call.action == "DescribeTargetHealth":
            text = override_target_health(text, rule)
        elif rule.kind == "lifecycle_state" and call.action == "DescribeAutoScalingGroups":
            text = override_lifecycle_state(text, rule)
    return text.encode("utf-8")


def finish(start_response, status, headers, data):
    """Answers with moto's status and headers for a body that may have changed."""
    fixed = []
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length":
            value = str(len(data))
        elif lower == "x-amz-crc32":
            value = str(zlib.crc32(data) & 0xFFFFFFFF)
        fixed.append((name, value))
    start_response(status, fixed)
    return [data]


class FaultMiddleware:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1
        self.calls = {}
        # Per scope: [time.time(), "<service>:<Action>", answered by an error rule] per call.
        self.timeline = {}
        self.model = AutoScalingModel()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_fault" or path.startswith("/_fault/"):
            return self.control_faults(environ, start_response)
        if path == "/_calls":
            return self.control_calls(environ, start_response)

        body = read_body(environ)
        try:
            rpc = cbor_rpc.parse(environ, body)
        except cbor_rpc.CborRequestError as err:
            status, headers, data = cbor_rpc.error_answer("SerializationException", str(err), 400)
            return respond(start_response, status, data, headers=headers)
        call = Call(environ, body, rpc)
        if rpc is not None:
            return self.translated(call, rpc, environ, start_response)
        if call.scope is None:
            return self.app(environ, start_response)

        fired = self.count_and_fire(call)

        delay = sum(rule.delay_ms for rule in fired if rule.kind == "delay")
        if delay:
            time.sleep(delay / 1000)
        for rule in fired:
            if rule.kind == "error":
                status, data, headers = error_response(call, rule)
                return respond(start_response, status, data, headers=headers)
            if rule.kind == "failed_activity":
                return respond(start_response, *failed_activity_response(call, rule))
        transforms = [rule for rule in fired if rule.kind in TRANSFORMS]
        modelled = self.model.handles(call)
        if not transforms and not modelled:
            # Untouched: moto's own status, headers and body bytes.
            return self.app(environ, start_response)
        if self.model.answers(call):
            status, data = self.model.answer(call, lambda params: self.send(environ, params))
            if transforms:
                data = transformed(call, transforms, data)
            return respond(start_response, status, data)
        if modelled:
            self.model.prepare(call, environ)
        status, headers, data = self.forward(environ)
        if modelled:
            code = int(status.split(" ", 1)[0])
            data = self.model.observe(call, code, data, lambda params: self.send(environ, params))
        if transforms:
            data = transformed(call, transforms, data)
        return finish(start_response, status, headers, data)

    def translated(self, call, rpc, environ, start_response):
        """An RPC v2 CBOR call: counted and faulted like the others, answered by moto in JSON."""
        fired = self.count_and_fire(call) if call.scope is not None else []
        delay = sum(rule.delay_ms for rule in fired if rule.kind == "delay")
        if delay:
            time.sleep(delay / 1000)
        for rule in fired:
            if rule.kind == "error":
                code = rule.spec.get("code", "Throttling")
                status = int(rule.spec.get("status", 400))
                message = rule.spec.get("message", "Rate exceeded")
                status, headers, data = cbor_rpc.error_answer(code, message, status)
                return respond(start_response, status, data, headers=headers)
        status, headers, data = self.forward(rpc.json_environ(environ))
        transforms = [rule for rule in fired if rule.kind in TRANSFORMS]
        if transforms:
            data = transformed(call, transforms, data)
        status, headers, data = rpc.answer(status, headers, data)
        return finish(start_response, status, headers, data)

    def count_and_fire(self, call):
        """Counts `call` and returns the rules that fire for it."""
        with self.lock:
            per_scope = self.calls.setdefault(call.scope, {})
            per_scope[call.key] = per_scope.get(call.key, 0) + 1
            fired = [rule for rule in self.rules if rule.matches(call) and rule.roll()]
            errored = any(rule.kind == "error" for rule in fired)
            self.timeline.setdefault(call.scope, []).append([time.time(), call.key, errored])
            return fired

    def forward(self, environ):
        """moto's answer to `environ`: (status line, headers, body bytes)."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: captured.setdefault("written", []).append(data)

        result = self.app(environ, capture)
        try:
            chunks = captured.pop("written", []) + list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return captured["status"], captured["headers"], b"".join(chunks)

    def send(self, environ, params):
        """Calls moto directly (not counted, no rules) with the credentials of `environ` and
        these form parameters; returns (HTTP status, body bytes)."""
        data = urlencode(params).encode()
        inner = dict(environ)
        inner.update(
            {
                "REQUEST_METHOD": "POST",
                "QUERY_STRING": "",
                "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
                "CONTENT_LENGTH": str(len(data)),
                "wsgi.input": io.BytesIO(data),
            }
        )
        inner.pop("HTTP_CONTENT_ENCODING", None)
        status, _, body = self.forward(inner)
        return int(status.split(" ", 1)[0]), body

    def control_faults(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        scope = query_param(environ, "scope")
        with self.lock:
            if method == "POST":
                try:
                    spec = json.loads(read_body(environ) or b"null")
                    rule = Rule(self.next_id, spec)
                except (ValueError, KeyError, TypeError, re.error) as err:
                    return respond_json(start_response, 400, {"error": str(err)})
                self.next_id += 1
                self.rules.append(rule)
                return respond_json(start_response, 200, {"id": rule.id})
            if method == "GET":
                listed = [r.describe() for r in self.rules if scope is None or r.scope == scope]
                return respond_json(start_response, 200, listed)
            if method == "DELETE":
                before = len(self.rules)
                rule_id = query_param(environ, "id")
                if rule_id is not None:
                    self.rules = [r for r in self.rules if str(r.id) != rule_id]
                else:
                    self.rules = [r for r in self.rules if scope is not None and r.scope != scope]
                removed = before - len(self.rules)
                return respond_json(start_response, 200, {"removed": removed, "at": time.time()})
        return respond_json(start_response, 405, {"error": f"{method} /_fault"})

    def control_calls(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        scope = query_param(environ, "scope")
        with self.lock:
            if method == "GET":
                if query_param(environ, "timeline") is not None:
                    if scope is None:
                        return respond_json(start_response, 200, self.timeline)
                    return respond_json(start_response, 200, {scope: self.timeline.get(scope, [])})
                if scope is None:
                    return respond_json(start_response, 200, self.calls)
                return respond_json(start_response, 200, {scope: self.calls.get(scope, {})})
            if method == "DELETE":
                if scope is None:
                    self.calls = {}
                    self.timeline = {}
                else:
                    self.calls.pop(scope, None)
                    self.timeline.pop(scope, None)
                return respond_json(start_response, 200, {})
        return respond_json(start_response, 405, {"error": f"{method} /_calls"})


def read_body(environ):
    """Reads the request body once and puts it back for moto, whatever its framing."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def query_param(environ, name):
    values = parse_qs(environ.get("QUERY_STRING", "")).get(name)
    return values[0] if values else None


def respond(start_response, status, data, content_type="text/xml", headers=None):
    """Answers `data` with `headers`, or just the content type, and its length."""
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}
    start_response(
        f"{status} {reason.get(status, 'Error')}",
        (headers or [("Content-Type", content_type)]) + [("Content-Length", str(len(data)))],
    )
    return [data]


def respond_json(start_response, status, value):
    return respond(start_response, status, json.dumps(value).encode(), "application/json")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()

    # Imported here so that --help answers without loading moto.
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    # As moto_server does: some services build URLs from it.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True
    app = FaultMiddleware(moto_app)
    run_simple(
        args.host,
        args.port,
        app,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
