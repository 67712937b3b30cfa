"""The API contract: checks a real HTTP response against docs/openapi.yaml.

``Contract.check(method, path, status, headers, body)`` finds the operation
(path template and method), the response for the status (exact code, then
``4XX``-style ranges, then ``default``), and checks that

- the status is documented for the operation;
- the Content-Type is one the response lists (a response without content
  must have an empty body);
- the body validates against the media type's schema (JSON Schema 2020-12,
  which OpenAPI 3.1 uses), with ``$ref`` resolved inside the document;
- *strictly*: an object schema that lists ``properties`` and says nothing of
  ``additionalProperties`` accepts no other member, so an undocumented
  member in a real response is a contract failure, not a silent pass;
- the headers the response documents as required are present.

Only Python's standard library plus python3-yaml and python3-jsonschema
(Debian packages installed by deploy/local/deps.sh).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from pathlib import Path
from typing import Any, Iterator, Optional

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "docs" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")


def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def _strict(node: Any) -> Any:
    """A copy where object schemas with properties forbid other members."""
    if isinstance(node, list):
        return [_strict(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out \
            and not any(k in out for k in ("allOf", "anyOf", "oneOf", "$ref")):
        out["additionalProperties"] = False
    return out


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    rx = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{rx}$")


class ContractError(AssertionError):
    pass


def _short(e: Any) -> str:
    """A validation error in one readable line: the offending members, not
    the whole instance."""
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        allowed = set(e.schema.get("properties", {}))
        return f"undocumented members {sorted(set(e.instance) - allowed)}"
    if e.context:                   # oneOf/anyOf: the closest branch's errors
        branches: dict[int, list] = {}
        for sub in e.context:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
        best = min(branches.values(), key=len)
        return f"{e.validator}, closest branch: " + "; ".join(
            f"/{'/'.join(str(p) for p in sub.absolute_path)}: {_short(sub)}" for sub in best[:4])
    return e.message[:300]


class Contract:
    def __init__(self, spec: Optional[dict] = None):
        self.spec = spec if spec is not None else load_spec()
        self.strict_spec = _strict(copy.deepcopy(self.spec))
        self.paths = [(_template_regex(t), t) for t in self.spec.get("paths", {})]
        # Longest literal templates first: /job/{id}/events before /job/{id}.
        self.paths.sort(key=lambda p: -len(p[1].replace("{", "").replace("}", "")))
        self.seen: set[tuple[str, str, str]] = set()   # (METHOD, template, status)

    # -- lookup --

    def template_for(self, path: str) -> Optional[str]:
        path = path.split("?", 1)[0]
        for rx, template in self.paths:
            if rx.match(path):
                return template
        return None

    def operations(self) -> set[tuple[str, str]]:
        """Every documented (METHOD, template)."""
        return {(m.upper(), t) for t, item in self.spec["paths"].items()
                for m in item if m in METHODS}

    def _deref(self, node: Any, spec: dict) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 16:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ContractError(f"external $ref {ref!r} is not supported")
            target: Any = spec
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
        return node

    def _response(self, op: dict, status: int, spec: dict) -> Optional[dict]:
        responses = op.get("responses", {})
        for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
            if key in responses:
                return self._deref(responses[key], spec)
        return None

    # -- the check --

    def check(self, method: str, path: str, status: int, headers: Any, body: Any) -> None:
        """Raises ContractError when the response breaks the contract. body is
        the parsed JSON (or the text / bytes when not JSON)."""
        where = f"{method} {path} -> {status}"
        template = self.template_for(path)
        if template is None:
            raise ContractError(f"{where}: path not documented")
        item = self.spec["paths"][template]
        op = item.get(method.lower())
        if op is None:
            raise ContractError(f"{where}: method not documented for {template}")
        spec = self.strict_spec
        strict_op = spec["paths"][template][method.lower()]
        resp = self._response(strict_op, status, spec)
        if resp is None:
            raise ContractError(f"{where}: status {status} not documented "
                                f"(documented: {sorted(op.get('responses', {}))})")
        self.seen.add((method.upper(), template, str(status)))

        for name, h in (resp.get("headers") or {}).items():
            h = self._deref(h, spec)
            if h.get("required") and headers.get(name) is None:
                raise ContractError(f"{where}: required header {name} missing")

        ctype = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        content = resp.get("content")
        if not content:
            if body not in (None, "", b""):
                raise ContractError(f"{where}: documented without a body, got {ctype} {body!r:.200}")
            return
        media = content.get(ctype)
        if media is None:           # a documented type with parameters
            media = next((v for k, v in content.items()
                          if k.split(";", 1)[0].strip().lower() == ctype), None)
        if media is None:
            raise ContractError(f"{where}: Content-Type {ctype!r} not documented "
                                f"(documented: {sorted(content)})")
        if ctype == "text/event-stream" and "x-event-data" in media:
            self._check_events(where, body, media["x-event-data"]["schema"], spec)
            return
        schema = media.get("schema")
        if schema is None:
            return
        if "json" in ctype and isinstance(body, (str, bytes)):
            try:
                body = json.loads(body)
            except ValueError as exc:
                raise ContractError(f"{where}: {ctype} body is not JSON: {exc}") from None
        self._validate(where, body, schema, spec)

    @staticmethod
    def _validate(where: str, value: Any, schema: dict, spec: dict) -> None:
        resolver = jsonschema.RefResolver(base_uri="", referrer=spec)
        validator = jsonschema.Draft202012Validator(schema, resolver=resolver)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [f"  at /{'/'.join(str(p) for p in e.absolute_path)}: {_short(e)}"
                     for e in errors[:8]]
            raise ContractError(f"{where}: body does not match the documented schema:\n"
                                + "\n".join(lines))

    def _check_events(self, where: str, body: Any, schema: dict, spec: dict) -> None:
        """A text/event-stream body: every event's data (its `data:` lines
        joined) is JSON that validates against the documented schema."""
        text = body.decode("utf-8") if isinstance(body, bytes) else str(body or "")
        for n, frame in enumerate(text.replace("\r\n", "\n").split("\n\n")):
            data = [line[5:].lstrip(" ") for line in frame.split("\n")
                    if line.startswith("data:")]
            if not data:
                continue
            try:
                value = json.loads("\n".join(data))
            except ValueError as exc:
                raise ContractError(f"{where}: event {n} data is not JSON: {exc}") from None
            self._validate(f"{where} (event {n})", value, schema, spec)


# -- every response of the session --

# (method, path, status, headers, body) of every response an e2e test got
# through the harness, in order; test_zz_contract.py checks them all.
RECORDED: list[tuple[str, str, int, Any, Any]] = []
RECORD_MAX = 100000


@contextlib.contextmanager
def another_release() -> Iterator[None]:
    """The responses received inside answer under another release's
    contract (a job a newer gateway queued with a request type this
    release does not know, shown by this one): they are not recorded."""
    n = len(RECORDED)
    try:
        yield
    finally:
        del RECORDED[n:]


def install_recorder(harness_mod: Any) -> None:
    """Wraps harness.raw_http (every request of http_request and
    Gateway.raw goes through it) to record the responses."""
    original = harness_mod.raw_http
    if getattr(original, "_contract_recorder", False):
        return

    def recording(host: str, port: int, wire: bytes, **kw: Any):
        resp = original(host, port, wire, **kw)
        if len(RECORDED) < RECORD_MAX:
            head = wire.split(b"\r\n", 1)[0].decode("latin-1", "replace").split(" ")
            if len(head) == 3:
                RECORDED.append((head[0], head[1], *resp))
        return resp

    recording._contract_recorder = True     # type: ignore[attr-defined]
    harness_mod.raw_http = recording
