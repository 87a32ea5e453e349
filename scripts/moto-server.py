"""moto's server, with the AWS services moto lacks emulated from botocore's
published API models.

    python moto-server.py -H 127.0.0.1 -p 0     # the arguments of moto_server

Every request is signed with SigV4; its credential scope names the service.
Requests for a service below go to its emulation, everything else to moto.
An emulated service checks each request against the service's model (the
operation is found by method and URI; query parameters, path labels and
body members must be the operation's input members, required members must
be present, enumerations and types must hold) and answers a request the real
service would refuse with the service's `ValidationException`, printing the
violation on stderr. An operation of the model the emulation does not
implement answers `NotImplemented`. Neither is ever a success, so a test of
a call the specification would refuse fails.

Answers are written from the operation's output shape (timestamps in the
shape's format), so they are what the real service would send.

Emulated, each for one account, per region:
- IAM Access Analyzer (`access-analyzer`), which moto lacks: CreateAnalyzer,
  GetAnalyzer, ListAnalyzers, DeleteAnalyzer. Not modelled: archive rules,
  findings, policy checks and generation; tags are only stored.
- Security Hub (`securityhub`), whose refusals moto sends in a form the AWS
  SDKs cannot read: EnableSecurityHub, DescribeHub, DisableSecurityHub. Not
  modelled: standards, controls, findings, members.
- Amazon Macie (`macie2`), whose timestamps moto sends without a time zone:
  EnableMacie, GetMacieSession, UpdateMacieSession, DisableMacie. Not
  modelled: jobs, findings, classification, members.
- EBS snapshot block public access, three EC2 actions moto lacks:
  GetSnapshotBlockPublicAccessState, EnableSnapshotBlockPublicAccess,
  DisableSnapshotBlockPublicAccess (state per region; never managed by a
  declarative policy).
- The default KMS key of EBS encryption by default, which moto lacks:
  GetEbsDefaultKmsKeyId, ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId
  (per region; `alias/aws/ebs` until changed; the key named is not looked
  up in KMS). Every other EC2 action goes to moto.
"""

import datetime
import io
import json
import re
import sys
import threading
import time
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

import botocore.loaders
import moto.server

ACCOUNT = "123456789012"


class Violation(Exception):
    """A request the service's model forbids."""


def check(shape, value, path, model):
    """Raises Violation when `value` does not fit `shape` of `model`."""
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, dict):
            raise Violation(f"{path}: expected an object")
        members = shape.get("members", {})
        for key, item in value.items():
            if key not in members:
                raise Violation(f"{path}.{key}: not a member of the input")
            check(model["shapes"][members[key]["shape"]], item, f"{path}.{key}", model)
        for key in shape.get("required", []):
            if key not in value:
                raise Violation(f"{path}.{key}: required")
    elif kind == "list":
        if not isinstance(value, list):
            raise Violation(f"{path}: expected a list")
        for i, item in enumerate(value):
            check(model["shapes"][shape["member"]["shape"]], item, f"{path}[{i}]", model)
    elif kind == "map":
        if not isinstance(value, dict):
            raise Violation(f"{path}: expected a map")
        for key, item in value.items():
            check(model["shapes"][shape["value"]["shape"]], item, f"{path}.{key}", model)
    elif kind == "string":
        if not isinstance(value, str):
            raise Violation(f"{path}: expected a string")
        if "enum" in shape and value not in shape["enum"]:
            raise Violation(f"{path}: {value!r} is not one of {shape['enum']}")
        if len(value) < shape.get("min", 0) or len(value) > shape.get("max", len(value)):
            raise Violation(f"{path}: length out of bounds")
        if "pattern" in shape and not re.fullmatch(shape["pattern"], value):
            raise Violation(f"{path}: {value!r} does not match {shape['pattern']}")
    elif kind in ("integer", "long"):
        if isinstance(value, str):
            if not re.fullmatch(r"-?[0-9]+", value):
                raise Violation(f"{path}: {value!r} is not an integer")
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise Violation(f"{path}: expected an integer")
        if value < shape.get("min", value) or value > shape.get("max", value):
            raise Violation(f"{path}: {value} out of bounds")
    elif kind == "boolean":
        if value not in (True, False, "true", "false"):
            raise Violation(f"{path}: expected a boolean")


def serialize(shape, value, model):
    """`value` as the wire form of `shape`: timestamps in the shape's format
    (rest-json's default is epoch seconds), members the shape does not have
    left out."""
    kind = shape["type"]
    if kind == "structure":
        members = shape.get("members", {})
        return {
            key: serialize(model["shapes"][members[key]["shape"]], item, model)
            for key, item in value.items()
            if key in members and item is not None
        }
    if kind == "list":
        return [serialize(model["shapes"][shape["member"]["shape"]], item, model) for item in value]
    if kind == "map":
        return {key: serialize(model["shapes"][shape["value"]["shape"]], item, model) for key, item in value.items()}
    if kind == "timestamp":
        if shape.get("timestampFormat") == "iso8601":
            return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value
    return value


class RestJsonService:
    """One rest-json service: its model and the handlers of the operations
    it implements, each taking (region, input) and returning the output."""

    def __init__(self, name, handlers):
        self.model = botocore.loaders.create_loader().load_service_model(name, "service-2")
        self.handlers = handlers
        self.routes = []
        for op in self.model["operations"].values():
            uri = op["http"]["requestUri"].split("?")[0]
            pattern = re.sub(r"\{([^}+]+)\+\}", r"(?P<\1>.+)", uri)
            pattern = re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", pattern)
            self.routes.append((op["http"]["method"], re.compile(pattern + "$"), op))

    def input_of(self, op, labels, query, body):
        """The operation's input from the request, checked against its model."""
        shape = self.model["shapes"][op["input"]["shape"]] if "input" in op else {"members": {}}
        members = shape.get("members", {})
        by_location = {}
        for name, member in members.items():
            if "location" in member:
                by_location[(member["location"], member.get("locationName", name))] = name
        value = {}
        for key, item in labels.items():
            name = by_location.get(("uri", key))
            if name is None:
                raise Violation(f"path label {key} is not in the model")
            value[name] = unquote(item)
        for key, items in query.items():
            name = by_location.get(("querystring", key))
            if name is None:
                raise Violation(f"query parameter {key!r} is not an input of {op['name']}")
            value[name] = items[0]
        if body:
            try:
                document = json.loads(body)
            except ValueError as error:
                raise Violation(f"the body is not JSON: {error}") from error
            for key, item in document.items():
                if key not in members or "location" in members[key]:
                    raise Violation(f"body member {key!r} is not an input of {op['name']}")
                value[key] = item
        check({**shape, "type": "structure"}, value, op["name"], self.model)
        return value

    def __call__(self, environ, start_response, region):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        match = next(
            ((op, m) for verb, regex, op in self.routes if verb == method and (m := regex.match(path))),
            None,
        )
        try:
            if match is None:
                raise Violation(f"{method} {path} is no operation of the model")
            op, found = match
            value = self.input_of(op, found.groupdict(), query, body)
            handler = self.handlers.get(op["name"])
            if handler is None:
                return self.error(start_response, 501, "NotImplemented", f"{op['name']} is not emulated")
            status, output = handler(region, value)
            if status >= 400:
                code, message = output
                return self.error(start_response, status, code, message)
            if "output" in op:
                output = serialize(self.model["shapes"][op["output"]["shape"]], output, self.model)
            return self.respond(start_response, status, output)
        except Violation as violation:
            print(f"SPEC VIOLATION ({self.model['metadata']['serviceId']}): {violation}", file=sys.stderr, flush=True)
            return self.error(start_response, 400, "ValidationException", str(violation))
        except KeyError as missing:
            return self.error(start_response, 404, "ResourceNotFoundException", f"{missing} not found")

    @staticmethod
    def respond(start_response, status, output):
        data = json.dumps(output).encode()
        start_response(f"{status} OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    @staticmethod
    def error(start_response, status, code, message):
        data = json.dumps({"message": message}).encode()
        start_response(
            f"{status} ERROR",
            [("Content-Type", "application/json"), ("X-Amzn-ErrorType", code), ("Content-Length", str(len(data)))],
        )
        return [data]


class Ec2Actions:
    """Some actions of EC2's query protocol; the others go to moto."""

    def __init__(self, handlers):
        self.model = botocore.loaders.create_loader().load_service_model("ec2", "service-2")
        self.handlers = handlers

    def input_of(self, op, form):
        shape = self.model["shapes"][op["input"]["shape"]] if "input" in op else {"members": {}}
        members = shape.get("members", {})
        names = {m.get("queryName") or name: name for name, m in members.items()}
        value = {}
        for key, items in form.items():
            if key in ("Action", "Version"):
                continue
            if key not in names:
                raise Violation(f"parameter {key!r} is not an input of {op['name']}")
            value[names[key]] = items[0]
        check({**shape, "type": "structure"}, value, op["name"], self.model)
        return value

    def __call__(self, environ, start_response, region, moto_app):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        form = parse_qs(body.decode(), keep_blank_values=True)
        action = form.get("Action", [""])[0]
        if action not in self.handlers:
            environ["wsgi.input"] = io.BytesIO(body)
            return moto_app(environ, start_response)
        op = self.model["operations"][action]
        try:
            output = self.handlers[action](region, self.input_of(op, form))
        except Violation as violation:
            print(f"SPEC VIOLATION (EC2): {violation}", file=sys.stderr, flush=True)
            return self.error(start_response, "InvalidParameterValue", str(violation))
        members = self.model["shapes"][op["output"]["shape"]]["members"]
        fields = "".join(
            f"<{members[k].get('locationName', k)}>{escape(str(v))}</{members[k].get('locationName', k)}>"
            for k, v in output.items()
            if k in members
        )
        data = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>parapet-emulated</requestId>{fields}</{action}Response>"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
        return [data]

    @staticmethod
    def error(start_response, code, message):
        data = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error></Errors><RequestID>parapet-emulated</RequestID></Response>"
        ).encode()
        start_response("400 Bad Request", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
        return [data]


class SnapshotBlockPublicAccess:
    """The state of each region; unblocked until enabled."""

    def __init__(self):
        self.states = {}

    def get(self, region, value):
        return {"State": self.states.get(region, "unblocked"), "ManagedBy": "account"}

    def enable(self, region, value):
        if value["State"] == "unblocked":
            raise Violation("unblocked is not a valid state to enable")
        self.states[region] = value["State"]
        return {"State": value["State"]}

    def disable(self, region, value):
        self.states[region] = "unblocked"
        return {"State": "unblocked"}


class EbsDefaultKmsKey:
    """The key of each region; the AWS managed key until changed."""

    DEFAULT = "alias/aws/ebs"

    def __init__(self):
        self.keys = {}

    def get(self, region, value):
        return {"KmsKeyId": self.keys.get(region, self.DEFAULT)}

    def modify(self, region, value):
        self.keys[region] = value["KmsKeyId"]
        return {"KmsKeyId": value["KmsKeyId"]}

    def reset(self, region, value):
        self.keys.pop(region, None)
        return {"KmsKeyId": self.DEFAULT}


class AccessAnalyzer:
    """The analyzers of each region."""

    def __init__(self):
        self.lock = threading.Lock()
        self.analyzers = {}

    def summary(self, region, name):
        return self.analyzers[(region, name)]

    def create(self, region, value):
        name = value["analyzerName"]
        with self.lock:
            if (region, name) in self.analyzers:
                return 409, ("ConflictException", f"analyzer {name} exists")
            self.analyzers[(region, name)] = {
                "arn": f"arn:aws:access-analyzer:{region}:{ACCOUNT}:analyzer/{name}",
                "name": name,
                "type": value["type"],
                "createdAt": time.time(),
                "status": "ACTIVE",
                "tags": value.get("tags", {}),
            }
        return 200, {"arn": self.analyzers[(region, name)]["arn"]}

    def get(self, region, value):
        return 200, {"analyzer": self.summary(region, value["analyzerName"])}

    def list(self, region, value):
        found = [a for (r, _), a in sorted(self.analyzers.items()) if r == region]
        if "type" in value:
            found = [a for a in found if a["type"] == value["type"]]
        return 200, {"analyzers": found}

    def delete(self, region, value):
        with self.lock:
            del self.analyzers[(region, value["analyzerName"])]
        return 200, {}


class SecurityHub:
    """The hub of each region where the account is subscribed."""

    def __init__(self):
        self.hubs = {}

    def enable(self, region, value):
        if region in self.hubs:
            return 409, ("ResourceConflictException", "Account is already subscribed to Security Hub")
        self.hubs[region] = {
            "HubArn": f"arn:aws:securityhub:{region}:{ACCOUNT}:hub/default",
            "SubscribedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "AutoEnableControls": True,
            "ControlFindingGenerator": value.get("ControlFindingGenerator", "SECURITY_CONTROL"),
        }
        return 200, {}

    def describe(self, region, value):
        if region not in self.hubs:
            return 401, ("InvalidAccessException", f"Account {ACCOUNT} is not subscribed to AWS Security Hub")
        return 200, self.hubs[region]

    def disable(self, region, value):
        if self.hubs.pop(region, None) is None:
            return 401, ("InvalidAccessException", f"Account {ACCOUNT} is not subscribed to AWS Security Hub")
        return 200, {}


class Macie:
    """The Macie session of each region where Macie is enabled."""

    NOT_ENABLED = (403, ("AccessDeniedException", "Macie is not enabled."))

    def __init__(self):
        self.sessions = {}

    def enable(self, region, value):
        if region in self.sessions:
            return 409, ("ConflictException", "Macie is already enabled.")
        now = time.time()
        self.sessions[region] = {
            "createdAt": now,
            "updatedAt": now,
            "findingPublishingFrequency": value.get("findingPublishingFrequency", "FIFTEEN_MINUTES"),
            "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie",
            "status": value.get("status", "ENABLED"),
        }
        return 200, {}

    def get(self, region, value):
        return (200, self.sessions[region]) if region in self.sessions else self.NOT_ENABLED

    def update(self, region, value):
        if region not in self.sessions:
            return self.NOT_ENABLED
        self.sessions[region].update({k: v for k, v in value.items() if k in ("status", "findingPublishingFrequency")})
        self.sessions[region]["updatedAt"] = time.time()
        return 200, {}

    def disable(self, region, value):
        return (200, {}) if self.sessions.pop(region, None) is not None else self.NOT_ENABLED


def emulated():
    snapshots = SnapshotBlockPublicAccess()
    ebs_key = EbsDefaultKmsKey()
    analyzer = AccessAnalyzer()
    hub = SecurityHub()
    macie = Macie()
    return {
        "ec2": Ec2Actions(
            {
                "GetSnapshotBlockPublicAccessState": snapshots.get,
                "EnableSnapshotBlockPublicAccess": snapshots.enable,
                "DisableSnapshotBlockPublicAccess": snapshots.disable,
                "GetEbsDefaultKmsKeyId": ebs_key.get,
                "ModifyEbsDefaultKmsKeyId": ebs_key.modify,
                "ResetEbsDefaultKmsKeyId": ebs_key.reset,
            }
        ),
        "securityhub": RestJsonService(
            "securityhub",
            {"EnableSecurityHub": hub.enable, "DescribeHub": hub.describe, "DisableSecurityHub": hub.disable},
        ),
        "macie2": RestJsonService(
            "macie2",
            {
                "EnableMacie": macie.enable,
                "GetMacieSession": macie.get,
                "UpdateMacieSession": macie.update,
                "DisableMacie": macie.disable,
            },
        ),
        "access-analyzer": RestJsonService(
            "accessanalyzer",
            {
                "CreateAnalyzer": analyzer.create,
                "GetAnalyzer": analyzer.get,
                "ListAnalyzers": analyzer.list,
                "DeleteAnalyzer": analyzer.delete,
            },
        )
    }


SCOPE = re.compile(r"Credential=[^/]+/[0-9]+/([^/]+)/([^/]+)/aws4_request")


class WithEmulations:
    """moto's application, with the emulated services in front of it."""

    def __init__(self, *args, **kwargs):
        self.moto = DISPATCHER(*args, **kwargs)
        self.services = emulated()

    def __setattr__(self, name, value):
        if name in ("moto", "services"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.moto, name, value)

    def __call__(self, environ, start_response):
        scope = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope and scope.group(2) == "ec2":
            return self.services["ec2"](environ, start_response, scope.group(1), self.moto)
        if scope and scope.group(2) in self.services:
            return self.services[scope.group(2)](environ, start_response, scope.group(1))
        return self.moto(environ, start_response)


DISPATCHER = moto.server.DomainDispatcherApplication
moto.server.DomainDispatcherApplication = WithEmulations

if __name__ == "__main__":
    moto.server.main(sys.argv[1:])
