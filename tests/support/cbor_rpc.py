"""Smithy RPC v2 CBOR in front of moto, which only speaks AWS JSON 1.0 for these services.

The Rust SDK calls CloudWatch with Smithy RPC v2 CBOR: POST
/service/GraniteServiceVersion20100801/operation/<Op>, header `smithy-protocol: rpc-v2-cbor`, a
CBOR body, timestamps as CBOR tag 1 (epoch seconds), errors as a CBOR map with `__type`. AWS
accepts that and the JSON protocol alike; moto 5.2.5 only parses JSON. This module turns such a
request into the JSON request AWS would take for the same operation (POST / with
`X-Amz-Target: GraniteServiceVersion20100801.<Op>`) and moto's JSON answer, success or error,
back into the CBOR answer AWS gives. botocore's service model says which members are timestamps,
blobs, numbers: JSON has no types for the first two and does not tell 1 from 1.0.
"""

import base64
import io
import json
import math
import re
import uuid
from datetime import datetime, timezone

import cbor2

PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
# Smithy service shape name (the JSON protocol's target prefix) -> botocore service name.
SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}
CBOR_HEADERS = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]

_models = {}


class CborRequestError(ValueError):
    """A request body that is not the CBOR map the operation takes."""


def service_model(name):
    """botocore's model of service `name`, loaded once."""
    model = _models.get(name)
    if model is None:
        import botocore.session

        model = botocore.session.get_session().get_service_model(name)
        _models[name] = model
    return model


class CborRequest:
    """One RPC v2 CBOR call: the service's target prefix, the operation and the decoded input."""

    def __init__(self, target, operation, body):
        self.target = target
        self.operation = operation
        self.model = service_model(SERVICES[target])
        try:
            self.operation_model = self.model.operation_model(operation)
        except Exception:  # botocore's OperationNotFoundError and friends
            self.operation_model = None
        try:
            value = cbor2.loads(body) if body else {}
        except Exception as err:  # cbor2 raises several error types for bad input
            raise CborRequestError(f"the body is not CBOR: {err}") from None
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise CborRequestError("the body is not a CBOR map")
        self.input = value

    @property
    def params(self):
        """Top-level scalar members as strings, for fault rules' `params` matching."""
        return {
            k: str(v) for k, v in self.input.items() if isinstance(k, str) and isinstance(v, (str, int, float))
        }

    def json_environ(self, environ):
        """A copy of `environ` that asks moto the same with the JSON protocol."""
        shape = self.operation_model.input_shape if self.operation_model else None
        data = json.dumps(to_json(self.input, shape)).encode()
        inner = dict(environ)
        inner.update(
            {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/",
                "QUERY_STRING": "",
                "CONTENT_TYPE": "application/x-amz-json-1.0",
                "CONTENT_LENGTH": str(len(data)),
                "HTTP_X_AMZ_TARGET": f"{self.target}.{self.operation}",
                "wsgi.input": io.BytesIO(data),
            }
        )
        for name in ("HTTP_SMITHY_PROTOCOL", "HTTP_ACCEPT", "HTTP_CONTENT_ENCODING"):
            inner.pop(name, None)
        return inner

    def answer(self, status, headers, data):
        """moto's JSON answer as AWS's CBOR answer: (status line, headers, body)."""
        code = int(status.split(" ", 1)[0])
        kept = [
            (name, value)
            for name, value in headers
            if name.lower() not in ("content-type", "content-length", "x-amz-crc32")
        ]
        try:
            value = json.loads(data) if data.strip() else {}
        except ValueError:
            value = None
        if not isinstance(value, dict):
            # Not JSON: moto failed in a way of its own; say so in the protocol's error shape.
            text = data.decode("utf-8", "replace")[:500]
            return status, kept + CBOR_HEADERS, error_body("InternalFailure", f"moto: {text}")
        if code >= 300:
            error_type = value.get("__type") or "InternalFailure"
            message = value.get("message") or value.get("Message") or ""
            return status, kept + CBOR_HEADERS, error_body(error_type, message)
        shape = self.operation_model.output_shape if self.operation_model else None
        return status, kept + CBOR_HEADERS, cbor2.dumps(to_cbor(value, shape))

def parse(environ, body):
    """The RPC v2 CBOR call `environ` makes to a translated service, or None for anything else.
    Raises CborRequestError for such a call whose body cannot be read."""
    if environ.get("REQUEST_METHOD") != "POST":
        return None
    found = PATH.match(environ.get("PATH_INFO", ""))
    if not found or found.group(1) not in SERVICES:
        return None
    return CborRequest(found.group(1), found.group(2), body)


def error_answer(code, message, status):
    """An error answer of the proxy's own: (status, headers, body), query-compatible like AWS's
    (the SDK takes the code from `x-amzn-query-error`, else from `__type`)."""
    kind = "Receiver" if status >= 500 else "Sender"
    headers = CBOR_HEADERS + [
        ("x-amzn-query-error", f"{code};{kind}"),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    return status, headers, error_body(code, message)


def error_body(error_type, message):
    return cbor2.dumps({"__type": error_type, "message": message})


def epoch_seconds(value):
    """A timestamp from JSON (epoch number or ISO 8601 text) or CBOR (datetime) as seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    return None


def to_cbor(value, shape):
    """A JSON-protocol value as the RPC v2 CBOR value of `shape` (None: as it is)."""
    if value is None:
        return None
    kind = shape.type_name if shape is not None else None
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: to_cbor(v, members.get(k)) for k, v in value.items() if v is not None}
    if kind == "list" and isinstance(value, list):
        return [to_cbor(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: to_cbor(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        seconds = epoch_seconds(value)
        return value if seconds is None else cbor2.CBORTag(1, seconds)
    if kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value)
        except ValueError:
            return value.encode()
    if kind in ("double", "float"):
        if isinstance(value, str):
            special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
            return special.get(value, value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    if kind in ("integer", "long", "short", "byte") and isinstance(value, float) and value.is_integer():
        return int(value)
    if shape is None and isinstance(value, dict):
        return {k: to_cbor(v, None) for k, v in value.items() if v is not None}
    if shape is None and isinstance(value, list):
        return [to_cbor(v, None) for v in value]
    return value


def to_json(value, shape):
    """A decoded RPC v2 CBOR value as the JSON-protocol value of `shape` (None: by its type)."""
    if value is None:
        return None
    if isinstance(value, cbor2.CBORTag) and value.tag == 1:
        value = value.value
    kind = shape.type_name if shape is not None else None
    if isinstance(value, dict):
        members = shape.members if kind == "structure" else None
        inner = shape.value if kind == "map" else None
        return {
            str(k): to_json(v, members.get(k) if members is not None else inner)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [to_json(v, shape.member if kind == "list" else None) for v in value]
    if isinstance(value, datetime) or kind == "timestamp":
        seconds = epoch_seconds(value)
        return value if seconds is None else seconds
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value
