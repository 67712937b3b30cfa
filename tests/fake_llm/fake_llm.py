#!/usr/bin/python3
"""Fake LLM vendor server for Code Insight tests and benchmarks.

Python 3.11 standard library only (asyncio streams, no http.server).  One
process, one port, speaking three wire formats plus a JSON control API:

  POST /v1/messages               Anthropic Messages API
  POST /v1/chat/completions       OpenAI chat completions
  POST /api/v1/chat/completions   OpenRouter (OpenAI format, optional `cost`)

  POST /_control/reset            clear scripts, default, request log, stats
  POST /_control/script           append steps: a JSON list, or {"steps":[...]}
                                  (add "replace": true to drop queued steps)
  POST /_control/default          set the step used when no scripted step fits
  GET  /_control/requests[?since=SEQ]  recorded API requests, in arrival order
  GET  /_control/stats            counters, in-flight and its high-water mark
  GET  /_control/health           {"ok": true}

Run:  /usr/bin/python3 tests/fake_llm/fake_llm.py --port 0 [--host 127.0.0.1]
Once listening it prints one JSON line {"event":"fake_llm_ready","port":N} on
stdout; with --verbose, one JSON line per API request after it is answered.

A step (JSON object; every key optional, unknown keys are rejected):
  match        substring that must occur in the request body (raw text, or
               the decoded system/message text) for the step to be used
  api          "anthropic" | "openai" | "openrouter": only that API matches
  times        how many requests this step answers (default 1)
  status       HTTP status (default 200, or the fault's status)
  latency_ms   wait before answering (default 0)
  text         assistant text; a non-string is sent as its JSON encoding
  usage        object merged over the computed usage
  cost         OpenRouter only: usage.cost
  stop_reason  Anthropic stop_reason (default "end_turn"); OpenAI
               finish_reason is derived ("max_tokens" -> "length", else "stop")
  fault        "429" | "529" | "500" | "400" | "401" | "spend_limit" |
               "timeout" (read the request, never answer until the client
               closes) | "truncated" (headers with the full Content-Length,
               half the body, then close) | "non_json" (200 text/html) |
               "refusal" (200, a complete reply without text: Anthropic
               content [] and stop_reason "refusal"; OpenAI content null,
               "refusal" set, finish_reason "stop"; usage as for a text)
  retry_after  seconds for the retry-after header (429 default 1)

Requests to the API routes are matched against the queued steps in order; the
first step that fits is used (and its `times` decremented), otherwise the
default step.  Everything is bounded: header size, body size, idle keep-alive
time and how long a "timeout" fault holds the connection (--max-hang-s).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import http
import json
import os
import random
import resource
import signal
import string
import subprocess
import sys
import time
from typing import Any, Optional
from urllib.parse import parse_qs, urlsplit

DEFAULT_TEXT = '{"findings":[],"summary":"No issues found."}'
DEFAULT_STEP: dict[str, Any] = {"latency_ms": 0, "text": DEFAULT_TEXT}  # status 200

FAULTS = {"429", "529", "500", "400", "401", "timeout", "truncated", "non_json", "spend_limit",
          "refusal"}
APIS = {"anthropic", "openai", "openrouter"}
STEP_KEYS = {"match", "api", "times", "status", "latency_ms", "text", "usage", "cost",
             "stop_reason", "fault", "retry_after"}

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024

API_ROUTES = {
    "/v1/messages": "anthropic",
    "/v1/chat/completions": "openai",
    "/api/v1/chat/completions": "openrouter",
}

_ALNUM = string.ascii_letters + string.digits


def _rand_id(prefix: str, n: int = 24) -> str:
    return prefix + "".join(random.choices(_ALNUM, k=n))


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _http_date() -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())


def _rfc3339(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    __slots__ = ("method", "target", "path", "query", "version", "headers", "body",
                 "keep_alive")

    def __init__(self) -> None:
        self.method = ""
        self.target = ""
        self.path = ""
        self.query: dict[str, list[str]] = {}
        self.version = "HTTP/1.1"
        self.headers: dict[str, str] = {}
        self.body = b""
        self.keep_alive = True


def validate_step(step: Any, *, default: bool = False) -> dict[str, Any]:
    if not isinstance(step, dict):
        raise ValueError("a step must be a JSON object")
    unknown = set(step) - STEP_KEYS
    if unknown:
        raise ValueError(f"unknown step keys: {sorted(unknown)}")
    out = dict(step)
    if "fault" in out and out["fault"] is not None:
        out["fault"] = str(out["fault"])
        if out["fault"] not in FAULTS:
            raise ValueError(f"fault must be one of {sorted(FAULTS)}")
    if "status" in out and out["status"] is not None:
        if not isinstance(out["status"], int) or not 100 <= out["status"] <= 599:
            raise ValueError("status must be an integer 100..599")
    for k in ("latency_ms", "retry_after"):
        if k in out and out[k] is not None:
            if not isinstance(out[k], (int, float)) or isinstance(out[k], bool) or out[k] < 0:
                raise ValueError(f"{k} must be a non-negative number")
    if "times" in out:
        if not isinstance(out["times"], int) or isinstance(out["times"], bool) or out["times"] < 1:
            raise ValueError("times must be a positive integer")
    if "match" in out and out["match"] is not None and not isinstance(out["match"], str):
        raise ValueError("match must be a string")
    if "api" in out and out["api"] is not None and out["api"] not in APIS:
        raise ValueError(f"api must be one of {sorted(APIS)}")
    if "usage" in out and out["usage"] is not None and not isinstance(out["usage"], dict):
        raise ValueError("usage must be an object")
    if "text" in out and out["text"] is not None and not isinstance(out["text"], str):
        out["text"] = json.dumps(out["text"], separators=(",", ":"))
    if default:
        out.pop("match", None)
        out.pop("times", None)
    else:
        out.setdefault("times", 1)
    return out


def request_text(body: Any) -> str:
    """All prompt text of an Anthropic or OpenAI request body."""
    parts: list[str] = []

    def content(c: Any) -> None:
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list):
            for b in c:
                if isinstance(b, str):
                    parts.append(b)
                elif isinstance(b, dict) and isinstance(b.get("text"), str):
                    parts.append(b["text"])

    if isinstance(body, dict):
        content(body.get("system"))
        msgs = body.get("messages")
        if isinstance(msgs, list):
            for m in msgs:
                if isinstance(m, dict):
                    content(m.get("content"))
    return "\n".join(parts)


class FakeLLM:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.verbose = bool(args.verbose)
        self.server: Optional[asyncio.base_events.Server] = None
        self.port = 0
        self.nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
        self._conn_tasks: set[asyncio.Task] = set()
        self.reset()

    # ------------------------------------------------------------ state
    def reset(self) -> None:
        self.script: list[dict[str, Any]] = []
        self.default: dict[str, Any] = dict(DEFAULT_STEP)
        self.log: list[dict[str, Any]] = []
        self.seq = 0
        self.started = time.time()
        self.stats: dict[str, Any] = {
            "requests_total": 0,
            "by_api": {a: 0 for a in sorted(APIS)},
            "by_status": {},
            "by_fault": {},
            "scripted": 0,
            "defaulted": 0,
            "client_gave_up": 0,
            "bad_requests": 0,
            "not_found": 0,
        }
        cur_in = getattr(self, "in_flight", 0)
        cur_conn = getattr(self, "conn_open", 0)
        self.in_flight = cur_in
        self.max_in_flight = cur_in
        self.conn_open = cur_conn
        self.max_conn_open = cur_conn
        self.conn_total = 0

    def pick_step(self, api: str, raw: str, text: str) -> tuple[dict[str, Any], bool]:
        for i, st in enumerate(self.script):
            if st.get("api") and st["api"] != api:
                continue
            m = st.get("match")
            if m and m not in raw and m not in text:
                continue
            st["times"] -= 1
            if st["times"] <= 0:
                del self.script[i]
            return st, True
        return self.default, False

    def stats_view(self) -> dict[str, Any]:
        out = json.loads(json.dumps(self.stats))
        out.update({
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "connections_open": self.conn_open,
            "max_connections_open": self.max_conn_open,
            "connections_total": self.conn_total,
            "script_remaining": sum(s["times"] for s in self.script),
            "logged_requests": len(self.log),
            "uptime_s": round(time.time() - self.started, 3),
            "limits": {"backlog": self.args.backlog, "nofile_soft": self.nofile[0],
                       "nofile_hard": self.nofile[1]},
        })
        return out

    # ------------------------------------------------------------ HTTP I/O
    async def read_request(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> Optional[Request]:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"),
                                          timeout=self.args.idle_timeout)
        except asyncio.IncompleteReadError as e:
            if e.partial.strip():
                raise HttpError(400, "incomplete request head")
            return None
        except asyncio.LimitOverrunError:
            raise HttpError(431, "request head too large")
        except asyncio.TimeoutError:
            return None
        if len(head) > MAX_HEADER_BYTES:
            raise HttpError(431, "request head too large")
        lines = head.decode("latin-1").split("\r\n")
        while lines and lines[0] == "":  # tolerate stray CRLF between requests
            lines.pop(0)
        if not lines:
            return None
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HttpError(400, "malformed request line")
        req = Request()
        req.method, req.target, req.version = parts
        sp = urlsplit(req.target)
        req.path = sp.path or "/"
        req.query = parse_qs(sp.query)
        for line in lines[1:]:
            if not line:
                continue
            if ":" not in line or line[0] in " \t":
                raise HttpError(400, "malformed header line")
            k, v = line.split(":", 1)
            k = k.strip().lower()
            v = v.strip()
            req.headers[k] = f"{req.headers[k]}, {v}" if k in req.headers else v
        conn = req.headers.get("connection", "").lower()
        if req.version == "HTTP/1.0":
            req.keep_alive = "keep-alive" in conn
        else:
            req.keep_alive = "close" not in conn

        te = req.headers.get("transfer-encoding", "").lower()
        cl = req.headers.get("content-length")
        chunked = "chunked" in te
        if te and not chunked:
            raise HttpError(501, "unsupported transfer-encoding")
        length = 0
        if not chunked and cl is not None:
            try:
                length = int(cl)
                if length < 0:
                    raise ValueError
            except ValueError:
                raise HttpError(400, "bad content-length")
            if length > MAX_BODY_BYTES:
                raise HttpError(413, "request body too large")
        if chunked and cl is not None:
            req.keep_alive = False  # RFC 9112 6.3: ambiguous framing -> close after
        if (chunked or length > 0) and "100-continue" in req.headers.get("expect", "").lower() \
                and req.version == "HTTP/1.1":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        t = self.args.body_timeout
        try:
            if chunked:
                req.body = await asyncio.wait_for(self._read_chunked(reader), timeout=t)
            elif length:
                req.body = await asyncio.wait_for(reader.readexactly(length), timeout=t)
        except asyncio.IncompleteReadError:
            raise ConnectionResetError("client closed mid-body")
        except asyncio.TimeoutError:
            raise HttpError(408, "request body timeout")
        return req

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        buf = bytearray()
        for _ in range(1_000_000):
            line = await reader.readuntil(b"\r\n")
            size_s = line[:-2].split(b";", 1)[0].strip()
            try:
                size = int(size_s, 16)
            except ValueError:
                raise HttpError(400, "bad chunk size")
            if size == 0:
                for _ in range(1000):  # trailers
                    tl = await reader.readuntil(b"\r\n")
                    if tl == b"\r\n":
                        return bytes(buf)
                raise HttpError(400, "too many trailers")
            if len(buf) + size > MAX_BODY_BYTES:
                raise HttpError(413, "request body too large")
            buf += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise HttpError(400, "bad chunk terminator")
        raise HttpError(400, "too many chunks")

    @staticmethod
    def build_response(status: int, body: bytes, ctype: str, headers: dict[str, str],
                       keep_alive: bool, content_length: Optional[int] = None) -> bytes:
        lines = [f"HTTP/1.1 {status} {_reason(status)}",
                 f"Date: {_http_date()}",
                 f"Content-Type: {ctype}",
                 f"Content-Length: {len(body) if content_length is None else content_length}",
                 f"Connection: {'keep-alive' if keep_alive else 'close'}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def handle_conn(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conn_tasks.add(task)
        self.conn_open += 1
        self.conn_total += 1
        self.max_conn_open = max(self.max_conn_open, self.conn_open)
        try:
            for _ in range(self.args.max_requests_per_conn):
                try:
                    req = await self.read_request(reader, writer)
                except HttpError as e:
                    self.stats["bad_requests"] += 1
                    body = json.dumps({"error": {"type": "http_error", "message": e.message}})
                    writer.write(self.build_response(e.status, body.encode(),
                                                     "application/json", {}, False))
                    await writer.drain()
                    break
                if req is None:
                    break
                keep = await self.dispatch(req, reader, writer)
                if not keep or not req.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                OSError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug here must not take the server down
            import traceback
            traceback.print_exc(file=sys.stderr)
        finally:
            self.conn_open -= 1
            try:
                writer.close()
            except Exception:
                pass
            if task is not None:
                self._conn_tasks.discard(task)

    # ------------------------------------------------------------ routing
    async def dispatch(self, req: Request, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> bool:
        if req.path.startswith("/_control/"):
            status, obj = self.control(req)
            body = json.dumps(obj).encode()
            writer.write(self.build_response(status, body, "application/json", {},
                                             req.keep_alive))
            await writer.drain()
            return True
        api = API_ROUTES.get(req.path)
        if api is None:
            self.stats["not_found"] += 1
            body = json.dumps({"error": {"type": "not_found_error",
                                         "message": f"no route for {req.method} {req.path}"}})
            writer.write(self.build_response(404, body.encode(), "application/json", {},
                                             req.keep_alive))
            await writer.drain()
            return True
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self.handle_api(api, req, reader, writer)
        finally:
            self.in_flight -= 1

    def control(self, req: Request) -> tuple[int, Any]:
        name = req.path[len("/_control/"):].rstrip("/")
        if req.method == "GET" and name == "health":
            return 200, {"ok": True, "port": self.port}
        if req.method == "GET" and name == "stats":
            return 200, self.stats_view()
        if req.method == "GET" and name == "requests":
            since = 0
            try:
                since = int(req.query.get("since", ["0"])[0])
            except ValueError:
                return 400, {"error": "since must be an integer"}
            return 200, {"requests": [r for r in self.log if r["seq"] > since],
                         "count": len(self.log)}
        if req.method != "POST":
            return (405 if name in ("reset", "script", "default", "health", "stats",
                                    "requests") else 404), {"error": "no such control route"}
        if name == "reset":
            self.reset()
            return 200, {"ok": True}
        try:
            payload = json.loads(req.body or b"null")
        except ValueError:
            return 400, {"error": "body is not JSON"}
        try:
            if name == "script":
                replace = False
                if isinstance(payload, dict) and "steps" in payload:
                    replace = bool(payload.get("replace", False))
                    payload = payload["steps"]
                if not isinstance(payload, list):
                    raise ValueError("script must be a list of steps or {\"steps\": [...]}")
                if len(payload) > 100_000:
                    raise ValueError("too many steps")
                steps = [validate_step(s) for s in payload]
                if replace:
                    self.script = []
                self.script.extend(steps)
                return 200, {"ok": True, "queued": sum(s["times"] for s in self.script)}
            if name == "default":
                step = validate_step(payload if payload is not None else {}, default=True)
                merged = dict(DEFAULT_STEP)
                merged.update(step)
                self.default = merged
                return 200, {"ok": True, "default": self.default}
        except ValueError as e:
            return 400, {"error": str(e)}
        return 404, {"error": "no such control route"}

    # ------------------------------------------------------------ LLM APIs
    def _record(self, api: str, req: Request, body: Any) -> dict[str, Any]:
        self.seq += 1
        rec = {
            "seq": self.seq,
            "api": api,
            "method": req.method,
            "path": req.target,
            "headers": dict(req.headers),
            "body": body,
            "arrived_at": time.time(),
            "status": None,
            "fault": None,
        }
        if body is None:
            rec["body_text"] = req.body.decode("utf-8", "replace")
        if len(self.log) < self.args.max_log:
            self.log.append(rec)
        return rec

    async def handle_api(self, api: str, req: Request, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> bool:
        t0 = time.monotonic()
        parsed: Any = None
        parse_ok = True
        try:
            parsed = json.loads(req.body) if req.body else None
        except ValueError:
            parse_ok = False
        rec = self._record(api, req, parsed if parse_ok else None)
        self.stats["requests_total"] += 1
        self.stats["by_api"][api] += 1
        raw = req.body.decode("utf-8", "replace")
        ptext = request_text(parsed)

        rid = _rand_id("req_", 24)
        headers: dict[str, str] = {}
        if api == "anthropic":
            headers["request-id"] = rid
            headers["anthropic-organization-id"] = "00000000-0000-4000-8000-00000000fa4e"
        else:
            headers["x-request-id"] = rid
            if api == "openai":
                headers["openai-organization"] = "fake-llm"
                headers["openai-version"] = "2020-10-01"

        # Protocol-level validation comes first, like the real services.
        status, err = self.validate(api, req, parsed, parse_ok)
        step: dict[str, Any]
        if status:
            step = {"status": status, "_err": err}
            fault = None
        else:
            step, scripted = self.pick_step(api, raw, ptext)
            self.stats["scripted" if scripted else "defaulted"] += 1
            fault = step.get("fault")
        rec["fault"] = fault
        if fault:
            self.stats["by_fault"][fault] = self.stats["by_fault"].get(fault, 0) + 1

        latency = float(step.get("latency_ms") or 0) / 1000.0
        if latency > 0:
            await asyncio.sleep(latency)

        keep = req.keep_alive
        if fault == "timeout":
            rec["status"] = 0
            await self._hang(reader)
            self.stats["client_gave_up"] += 1
            self._log_line(rec, t0, None)
            return False

        model = parsed.get("model") if isinstance(parsed, dict) else None
        model = model if isinstance(model, str) else "unknown-model"
        ctype = "application/json"
        if "_err" in step:
            code = step["status"]
            body = self.error_body(api, code, step["_err"][0], step["_err"][1])
        elif fault == "non_json":
            code = step.get("status") or 200
            ctype = "text/html; charset=utf-8"
            body = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
                    b"<body><center><h1>502 Bad Gateway</h1></center><hr>"
                    b"<center>cloudflare</center></body></html>\n")
        elif fault in (None, "truncated", "refusal") and (step.get("status") or 200) < 300:
            code = step.get("status") or 200
            body = self.success_body(api, model, parsed, step, rid)
            headers.update(self.ratelimit_headers(api, ok=True))
        else:
            code, body = self.fault_body(api, fault, step, headers)
        rec["status"] = code
        self.stats["by_status"][str(code)] = self.stats["by_status"].get(str(code), 0) + 1

        if fault == "truncated":
            resp = self.build_response(code, b"", ctype, headers, False,
                                       content_length=len(body))
            writer.write(resp + body[: len(body) // 2])
            await writer.drain()
            self._log_line(rec, t0, code)
            return False
        writer.write(self.build_response(code, body, ctype, headers, keep))
        await writer.drain()
        self._log_line(rec, t0, code)
        return keep

    async def _hang(self, reader: asyncio.StreamReader) -> None:
        deadline = time.monotonic() + self.args.max_hang_s
        for _ in range(10_000_000):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                data = await asyncio.wait_for(reader.read(65536), timeout=left)
            except (asyncio.TimeoutError, ConnectionError, OSError):
                return
            if not data:
                return

    def _log_line(self, rec: dict[str, Any], t0: float, status: Optional[int]) -> None:
        if not self.verbose:
            return
        line = {"event": "request", "seq": rec["seq"], "api": rec["api"],
                "method": rec["method"], "path": rec["path"], "status": status,
                "fault": rec["fault"], "ms": round((time.monotonic() - t0) * 1000, 1)}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()

    def validate(self, api: str, req: Request, parsed: Any,
                 parse_ok: bool) -> tuple[int, Optional[tuple[str, str]]]:
        if req.method != "POST":
            return 405, ("invalid_request_error", f"Method {req.method} not allowed")
        if api == "anthropic":
            key = req.headers.get("x-api-key", "")
            if not self.args.no_auth_check:
                if not key:
                    return 401, ("authentication_error", "x-api-key header is required")
                if self.args.api_key and key != self.args.api_key:
                    return 401, ("authentication_error", "invalid x-api-key")
                if not req.headers.get("anthropic-version"):
                    return 400, ("invalid_request_error", "anthropic-version: header is required")
        else:
            auth = req.headers.get("authorization", "")
            if not self.args.no_auth_check:
                if not auth.startswith("Bearer ") or not auth[7:].strip():
                    return 401, ("invalid_request_error",
                                 "You didn't provide an API key. You need to provide your API key "
                                 "in an Authorization header using Bearer auth "
                                 "(i.e. Authorization: Bearer YOUR_KEY).")
                if self.args.api_key and auth[7:].strip() != self.args.api_key:
                    return 401, ("invalid_request_error", "Incorrect API key provided.")
        if not parse_ok or not isinstance(parsed, dict):
            return 400, ("invalid_request_error",
                         "There was an error parsing the body of your request: "
                         "expected a JSON object")
        if not isinstance(parsed.get("model"), str) or not parsed["model"]:
            return 400, ("invalid_request_error", "model: Field required")
        msgs = parsed.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return 400, ("invalid_request_error", "messages: Field required")
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or "role" not in m or "content" not in m:
                return 400, ("invalid_request_error", f"messages.{i}: role and content required")
            roles = {"user", "assistant"} if api == "anthropic" else \
                {"system", "user", "assistant", "developer", "tool"}
            if m["role"] not in roles:
                return 400, ("invalid_request_error",
                             f"messages.{i}.role: Input should be one of {sorted(roles)}")
        if api == "anthropic":
            mt = parsed.get("max_tokens")
            if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
                return 400, ("invalid_request_error", "max_tokens: Field required")
        if parsed.get("stream") is True:
            return 400, ("invalid_request_error", "stream: the fake LLM server does not stream")
        return 0, None

    # ------------------------------------------------------------ bodies
    def computed_usage(self, api: str, parsed: Any, text: str) -> dict[str, Any]:
        inp = max(1, len(request_text(parsed)) // 4)
        out = len(text) // 4
        if api == "anthropic":
            return {"input_tokens": inp, "output_tokens": out,
                    "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        return {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out,
                "prompt_tokens_details": {"cached_tokens": 0}}

    def success_body(self, api: str, model: str, parsed: Any, step: dict[str, Any],
                     rid: str) -> bytes:
        text = step.get("text")
        text = DEFAULT_TEXT if text is None else text
        usage = self.computed_usage(api, parsed, text)
        override = step.get("usage")
        if override:
            usage.update(override)
            if api != "anthropic" and "total_tokens" not in override:
                usage["total_tokens"] = int(usage.get("prompt_tokens", 0)) + \
                    int(usage.get("completion_tokens", 0))
        refused = step.get("fault") == "refusal"
        stop = step.get("stop_reason") or ("refusal" if refused else "end_turn")
        if api == "anthropic":
            obj = {"id": _rand_id("msg_01", 22), "type": "message", "role": "assistant",
                   "model": model,
                   "content": [] if refused else [{"type": "text", "text": text}],
                   "stop_reason": stop, "stop_sequence": None, "usage": usage}
        else:
            if api == "openrouter" and step.get("cost") is not None:
                usage["cost"] = step["cost"]
            finish = "length" if stop in ("max_tokens", "length") else "stop"
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if refused:
                message = {"role": "assistant", "content": None,
                           "refusal": "I'm sorry, I can't help with that."}
            obj = {"id": ("gen-" if api == "openrouter" else "chatcmpl-") + _rand_id("", 29),
                   "object": "chat.completion", "created": int(time.time()), "model": model,
                   "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                   "usage": usage}
        return json.dumps(obj).encode()

    def ratelimit_headers(self, api: str, ok: bool, retry_after: float = 0) -> dict[str, str]:
        reset = _rfc3339(time.time() + (retry_after or 1))
        if api == "anthropic":
            return {"anthropic-ratelimit-requests-limit": "4000",
                    "anthropic-ratelimit-requests-remaining": "3999" if ok else "0",
                    "anthropic-ratelimit-requests-reset": reset,
                    "anthropic-ratelimit-tokens-limit": "400000",
                    "anthropic-ratelimit-tokens-remaining": "399000" if ok else "0",
                    "anthropic-ratelimit-tokens-reset": reset}
        secs = f"{int(retry_after or 1)}s"
        return {"x-ratelimit-limit-requests": "10000",
                "x-ratelimit-remaining-requests": "9999" if ok else "0",
                "x-ratelimit-reset-requests": secs,
                "x-ratelimit-limit-tokens": "2000000",
                "x-ratelimit-remaining-tokens": "1999000" if ok else "0",
                "x-ratelimit-reset-tokens": secs}

    @staticmethod
    def error_body(api: str, status: int, etype: str, message: str) -> bytes:
        if api == "anthropic":
            return json.dumps({"type": "error", "error": {"type": etype, "message": message}}
                              ).encode()
        code: Any = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status)
        if etype == "insufficient_quota":
            code = "insufficient_quota"
        if api == "openrouter":
            code = status
        return json.dumps({"error": {"message": message, "type": etype, "param": None,
                                     "code": code}}).encode()

    def fault_body(self, api: str, fault: Optional[str], step: dict[str, Any],
                   headers: dict[str, str]) -> tuple[int, bytes]:
        ant = api == "anthropic"
        ra = step.get("retry_after")
        if fault == "429":
            code = step.get("status") or 429
            ra = 1 if ra is None else ra
            etype, msg = ("rate_limit_error",
                          "This request would exceed your organization's rate limit of 50 "
                          "requests per minute. For details, refer to: "
                          "https://docs.anthropic.com/en/api/rate-limits.") if ant else \
                ("requests", "Rate limit reached for requests per min (RPM): Limit 500, "
                 "Used 500, Requested 1. Please try again in 1s.")
            headers.update(self.ratelimit_headers(api, ok=False, retry_after=ra))
        elif fault == "spend_limit":
            code = step.get("status") or 429
            regain = (_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=30)).strftime(
                "%Y-%m-%d at 00:00 UTC")
            etype, msg = ("rate_limit_error",
                          "You have reached your specified API usage limits. "
                          f"You will regain access on {regain}.") if ant else \
                ("insufficient_quota", "You exceeded your current quota, please check your "
                 "plan and billing details. You have reached your specified API usage limits.")
            if ant:
                headers.update(self.ratelimit_headers(api, ok=False, retry_after=ra or 0))
        elif fault == "529":
            code = step.get("status") or 529
            etype, msg = ("overloaded_error", "Overloaded") if ant else \
                ("server_error", "The server is overloaded. Please try again later.")
        elif fault == "500":
            code = step.get("status") or 500
            etype, msg = ("api_error", "Internal server error") if ant else \
                ("server_error", "The server had an error while processing your request. "
                 "Sorry about that!")
        elif fault == "400":
            code = step.get("status") or 400
            etype, msg = ("invalid_request_error",
                          "prompt is too long: 250000 tokens > 200000 maximum") if ant else \
                ("invalid_request_error", "This model's maximum context length is 128000 "
                 "tokens. However, your messages resulted in 250000 tokens.")
        elif fault == "401":
            code = step.get("status") or 401
            etype, msg = ("authentication_error", "invalid x-api-key") if ant else \
                ("invalid_request_error", "Incorrect API key provided: sk-****. You can find "
                 "your API key at https://platform.openai.com/account/api-keys.")
        else:  # plain non-2xx status without a fault
            code = int(step.get("status") or 500)
            etype = {400: "invalid_request_error", 401: "authentication_error",
                     403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                     429: "rate_limit_error", 529: "overloaded_error"}.get(code, "api_error")
            if not ant and etype not in ("invalid_request_error",):
                etype = {429: "requests"}.get(code, "server_error")
            msg = f"scripted status {code}"
            if code == 429:
                ra = 1 if ra is None else ra
                headers.update(self.ratelimit_headers(api, ok=False, retry_after=ra))
        if ra is not None:
            headers["retry-after"] = str(int(ra) if float(ra).is_integer() else ra)
        if code == 529 and ant:
            headers["x-should-retry"] = "true"
        return code, self.error_body(api, code, etype, msg)

    # ------------------------------------------------------------ lifecycle
    async def serve(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # before "ready": a prompt TERM is clean
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        self.server = await asyncio.start_server(
            self.handle_conn, host=self.args.host, port=self.args.port,
            backlog=self.args.backlog, limit=MAX_HEADER_BYTES, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]
        sys.stdout.write(json.dumps({"event": "fake_llm_ready", "port": self.port}) + "\n")
        sys.stdout.flush()
        async with self.server:
            await stop.wait()
            self.server.close()
            for t in list(self._conn_tasks):
                t.cancel()
            if self._conn_tasks:
                await asyncio.wait(list(self._conn_tasks), timeout=2)


def raise_nofile() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, hard
    for cand in (target, 1 << 20, 65536, 8192, 4096):
        if cand <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(cand, target), hard))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# ---------------------------------------------------------------- self-test
async def _selftest_client(port: int, n: int, latency_ms: int, deadline_s: float) -> dict:
    async def ctl(method: str, path: str, obj: Any = None) -> Any:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        body = b"" if obj is None else json.dumps(obj).encode()
        w.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        data = await asyncio.wait_for(r.read(), 10)
        w.close()
        return json.loads(data.split(b"\r\n\r\n", 1)[1])

    await ctl("POST", "/_control/reset")
    await ctl("POST", "/_control/default", {"latency_ms": latency_ms})
    payload = json.dumps({"model": "claude-test", "max_tokens": 64,
                          "messages": [{"role": "user", "content": "review me"}]}).encode()
    req = (b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: k\r\n"
           b"anthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n"
           b"Connection: close\r\nContent-Length: " + str(len(payload)).encode() +
           b"\r\n\r\n" + payload)

    async def one() -> int:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        try:
            w.write(req)
            await w.drain()
            data = await r.read()
            return int(data.split(b" ", 2)[1]) if data else 0
        finally:
            w.close()

    t0 = time.monotonic()
    results = await asyncio.wait_for(
        asyncio.gather(*(one() for _ in range(n)), return_exceptions=True), deadline_s)
    elapsed = time.monotonic() - t0
    stats = await ctl("GET", "/_control/stats")
    ok = sum(1 for x in results if x == 200)
    return {"event": "self_test", "connections": n, "latency_ms": latency_ms, "ok": ok,
            "errors": n - ok, "elapsed_s": round(elapsed, 2),
            "max_in_flight": stats["max_in_flight"],
            "max_connections_open": stats["max_connections_open"]}


def self_test(n: int, latency_ms: int, deadline_s: float) -> int:
    raise_nofile()
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        port = json.loads(line)["port"]
        res = asyncio.run(_selftest_client(port, n, latency_ms, deadline_s))
    except Exception as e:  # report, never hang
        res = {"event": "self_test", "error": repr(e), "ok": 0, "connections": n,
               "max_in_flight": 0}
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    print(json.dumps(res))
    return 0 if res.get("ok") == n and res.get("max_in_flight", 0) >= n else 1


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description="Fake Anthropic/OpenAI/OpenRouter server")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--verbose", action="store_true", help="one JSON line per API request")
    p.add_argument("--backlog", type=int, default=4096, help="listen backlog (>=1024)")
    p.add_argument("--api-key", default="", help="require exactly this key (default: any)")
    p.add_argument("--no-auth-check", action="store_true",
                   help="do not require x-api-key/anthropic-version/Authorization")
    p.add_argument("--idle-timeout", type=float, default=120.0,
                   help="seconds a keep-alive connection may idle between requests")
    p.add_argument("--body-timeout", type=float, default=60.0,
                   help="seconds to receive a request body")
    p.add_argument("--max-hang-s", type=float, default=600.0,
                   help="upper bound on how long a 'timeout' fault holds a connection")
    p.add_argument("--max-log", type=int, default=200_000,
                   help="most requests kept in the request log")
    p.add_argument("--max-requests-per-conn", type=int, default=100_000)
    p.add_argument("--self-test", type=int, metavar="N", default=0,
                   help="start a server subprocess, open N concurrent slow requests, "
                        "print the result as JSON and exit (0 = pass)")
    p.add_argument("--self-test-latency-ms", type=int, default=2000)
    p.add_argument("--self-test-deadline-s", type=float, default=60.0)
    args = p.parse_args(argv)
    args.backlog = max(1024, args.backlog)
    if args.self_test:
        return self_test(args.self_test, args.self_test_latency_ms, args.self_test_deadline_s)
    raise_nofile()
    app = FakeLLM(args)
    try:
        asyncio.run(app.serve())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
