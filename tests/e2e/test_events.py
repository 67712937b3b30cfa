"""GET /job/:id/events end to end (docs/events.md): the live text/event-stream
of a job's status changes and pipeline steps, over real HTTP against the real
gateway and worker, Redis, PostgreSQL and the fake model.

Jobs are held "queued" by not running a worker until the streams are open,
so nothing here depends on timing: every wait is bounded by a deadline, and
no assertion is about how long something took.

    /usr/bin/python3 -m pytest -q tests/e2e/test_events.py
"""

from __future__ import annotations

import asyncio
import calendar
import http.client
import json
import re
import resource
import secrets
import signal
import time
import uuid
from typing import Any, Callable, Optional

import pytest

from fakemodel import anthropic_env, module_fake
from harness import STREAM_FAST, wait_until

ANTHROPIC_KEY = "sk-ant-e2e-" + secrets.token_urlsafe(24)
STEPS = ["queued", "running", "linted", "model_called", "done"]
ID_RE = re.compile(r"^\d+-\d+$")
READ_TIMEOUT = 30           # seconds any one read may wait
STREAM_DEADLINE = 60        # seconds a whole stream may take


# ------------------------------------------------------------------ helpers --

def parse_stream(text: str) -> tuple[list[dict], list[str], Optional[str]]:
    """(events [{id, event, data}], comments, retry) of a text/event-stream body."""
    events, comments, retry = [], [], None
    for block in text.split("\n\n"):
        ev: dict[str, Any] = {}
        for line in block.split("\n"):
            if line == "":
                continue
            if line.startswith(":"):
                comments.append(line[1:].strip())
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "retry":
                retry = value
            elif field == "data":
                ev["data"] = ev["data"] + "\n" + value if "data" in ev else value
            else:
                ev[field] = value
        if ev:
            if "data" in ev:
                ev["json"] = json.loads(ev["data"])
            events.append(ev)
    return events, comments, retry


class Stream:
    """One GET /job/:id/events read with http.client (it decodes chunks)."""

    def __init__(self, gw, job_id: str, key: Optional[str], last_id: Optional[str] = None,
                 query: str = ""):
        self.conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=READ_TIMEOUT)
        headers = {"Accept": "text/event-stream"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        self.conn.request("GET", f"/job/{job_id}/events{query}", headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.text = ""
        self.closed = False

    def read(self, stop: Optional[Callable[["Stream"], bool]] = None,
             deadline_s: float = STREAM_DEADLINE) -> "Stream":
        """Reads lines until the body ends, or until stop(self) is true."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            line = self.resp.readline()
            if not line:
                self.closed = True
                break
            self.text += line.decode()
            if line == b"\n" and stop is not None and stop(self):
                break
        return self

    @property
    def events(self) -> list[dict]:
        return parse_stream(self.text)[0]

    @property
    def comments(self) -> list[str]:
        return parse_stream(self.text)[1]

    def types(self) -> list[str]:
        return [e["event"] for e in self.events]

    def close(self) -> None:
        # The response holds the socket's file object too.
        self.resp.close()
        self.conn.close()


def ids_increase(events: list[dict]) -> bool:
    keys = [tuple(int(p) for p in e["id"].split("-")) for e in events]
    return all(ID_RE.match(e["id"]) for e in events) and keys == sorted(set(keys))


def problem(gw, path: str, key: Any, headers: Optional[dict] = None) -> tuple[int, Any]:
    status, _, data = gw.http("GET", path, headers=headers, auth=key)
    return status, data


# ----------------------------------------------------------------- fixtures --

@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-events", (ANTHROPIC_KEY,)) as f:
        yield f


@pytest.fixture(scope="module")
def egw(harness, fake_server):
    """The module's gateway: heartbeats every second, rates out of the way."""
    return harness.start_gateway({**anthropic_env(fake_server),
                                  "CODEINSIGHT_RATE_LIMIT_SCALE": "1000000",
                                  "CODEINSIGHT_SSE_HEARTBEAT_S": "1"}, default=True)


@pytest.fixture
def fresh(harness, egw, fake_server):
    """No worker, empty Redis, no jobs; the fake answers with no findings."""
    harness.reset_state()
    fake_server.reset()
    return harness


def start_worker(harness, fake_server):
    return harness.start_worker("fast", {**anthropic_env(fake_server),
                                         "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                                         "CODEINSIGHT_READ_BLOCK_MS": "200"})


def submit(harness, tag: str = "") -> str:
    # A shell script: shellcheck is the quickest linter to run.
    return harness.submit(file_path=f"run{tag}.sh",
                          file_content=f"#!/bin/sh\necho {secrets.token_hex(8)} $1\n")


# -------------------------------------------------------------------- tests --

def test_live_steps_in_order_then_close(fresh, egw, fake_server):
    job = submit(fresh)
    s = Stream(egw, job, fresh.default_key)
    assert s.status == 200
    assert s.resp.getheader("Content-Type") == "text/event-stream"
    assert s.resp.getheader("Cache-Control") == "no-store"
    assert s.resp.getheader("X-Accel-Buffering") == "no"
    # The stream is open before any worker runs: the rest arrives live.
    s.read(stop=lambda st: "queued" in st.types(), deadline_s=READ_TIMEOUT)
    assert s.types() == ["queued"]
    start_worker(fresh, fake_server)
    s.read()
    s.close()
    assert s.closed, f"the stream did not end: {s.text[-500:]}"
    events, _, retry = parse_stream(s.text)
    assert [e["event"] for e in events] == STEPS, s.text
    assert retry is not None and int(retry) > 0
    assert events[0]["id"] == "0-1"
    assert ids_increase(events), [e["id"] for e in events]
    for e in events:
        assert e["json"]["type"] == e["event"]
        assert e["json"]["job_id"] == job
        assert isinstance(e["json"]["at"], str) and e["json"]["at"].endswith("Z")
    by = {e["event"]: e["json"] for e in events}
    assert by["queued"]["status"] == "queued"
    assert by["running"]["status"] == "running" and by["running"]["attempt"] == 1
    assert by["linted"]["linters"] == ["shellcheck"]
    assert isinstance(by["linted"]["findings"], int)
    assert by["model_called"]["cached"] is False and by["model_called"]["tokens"] > 0
    assert by["done"]["status"] == "done"
    assert fresh.get_job(job)[1]["status"] == "done"

    # Last-Event-ID resumes with exactly the later events.
    running_id = events[1]["id"]
    r = Stream(egw, job, fresh.default_key, last_id=running_id).read()
    r.close()
    assert r.status == 200 and r.closed
    assert [(e["id"], e["event"]) for e in r.events] == \
           [(e["id"], e["event"]) for e in events[2:]]
    # The same through the query string (clients that cannot set headers).
    q = Stream(egw, job, fresh.default_key, query=f"?last_event_id={events[3]['id']}").read()
    q.close()
    assert [e["event"] for e in q.events] == ["done"]
    # A client that has the final event is told to stop reconnecting.
    d = Stream(egw, job, fresh.default_key, last_id=events[-1]["id"])
    assert d.status == 204
    d.close()


def test_heartbeats_while_waiting(fresh, egw, fake_server):
    job = submit(fresh)
    s = Stream(egw, job, fresh.default_key)
    assert s.status == 200
    # CODEINSIGHT_SSE_HEARTBEAT_S=1: comments keep an idle stream alive.
    s.read(stop=lambda st: st.comments.count("heartbeat") >= 2, deadline_s=20)
    assert s.comments.count("heartbeat") >= 2, s.text
    assert s.types() == ["queued"]
    assert not s.closed
    start_worker(fresh, fake_server)
    s.read()
    s.close()
    assert s.closed and s.types() == STEPS


def test_finished_job_history_then_close(fresh, egw, fake_server):
    start_worker(fresh, fake_server)
    job = submit(fresh)
    fresh.poll_job(job, timeout=STREAM_DEADLINE)
    s = Stream(egw, job, fresh.default_key).read()
    s.close()
    assert s.status == 200 and s.closed
    assert s.types() == STEPS
    assert ids_increase(s.events)


def test_failed_job_ends_with_failed(fresh, egw, fake_server):
    # A queue entry the worker cannot use is recorded as failed.
    job = str(uuid.uuid4())
    fresh.redis_cli("HSET", f"job:{job}", "type", "review", "status", "queued",
                    "user_id", fresh.default_user_id, "created_at", "2026-01-01T00:00:00.000Z")
    fresh.redis_cli("XADD", STREAM_FAST, "*", "job_id", job, "type", "review")
    s = Stream(egw, job, fresh.default_key)
    assert s.status == 200
    s.read(stop=lambda st: "queued" in st.types(), deadline_s=READ_TIMEOUT)
    start_worker(fresh, fake_server)
    s.read()
    s.close()
    assert s.closed
    assert s.types()[0] == "queued" and s.types()[-1] == "failed", s.text
    last = s.events[-1]["json"]
    assert last["status"] == "failed" and "malformed" in last["error"]


def test_job_only_in_postgresql(fresh, egw, fake_server):
    start_worker(fresh, fake_server)
    job = submit(fresh)
    fresh.poll_job(job, timeout=STREAM_DEADLINE)
    fresh.redis_cli("DEL", f"job:{job}", f"jobev:{job}")
    s = Stream(egw, job, fresh.default_key).read()
    s.close()
    assert s.status == 200 and s.closed
    assert s.types() == ["done"], s.text
    final = s.events[0]
    assert final["json"]["status"] == "done" and final["json"]["job_id"] == job
    assert ID_RE.match(final["id"]) and final["id"] != "0-1"
    again = Stream(egw, job, fresh.default_key, last_id=final["id"])
    assert again.status == 204
    assert again.resp.getheader("Content-Type") is None
    again.close()


def test_hot_job_whose_events_are_gone(fresh, egw, fake_server):
    """A finished job still in Redis whose event stream is gone (trimmed,
    or lost with a Redis failover): the stream is its end, built from the
    hot copy (after the queued event every stream starts with), then
    closes; asked again after that end, nothing (204)."""
    start_worker(fresh, fake_server)
    job = submit(fresh)
    fresh.poll_job(job, timeout=STREAM_DEADLINE)
    assert fresh.redis_cli("DEL", f"jobev:{job}") == "1"
    s = Stream(egw, job, fresh.default_key).read()
    s.close()
    assert s.status == 200 and s.closed
    assert s.types() == ["queued", "done"], s.text
    assert ids_increase(s.events), s.text
    final = s.events[-1]
    assert final["json"]["status"] == "done" and final["json"]["job_id"] == job, final
    again = Stream(egw, job, fresh.default_key, last_id=final["id"])
    assert again.status == 204, again.status
    again.close()


def finished_ms(harness, job: str) -> int:
    view = harness.poll_job(job, timeout=STREAM_DEADLINE)
    at = view["finished_at"]
    whole, _, frac = at.rstrip("Z").partition(".")
    secs = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int((frac + "000")[:3])


def test_job_only_in_postgresql_after_an_event_of_its_last_millisecond(fresh, egw, fake_server):
    # The client saw an event stamped in the millisecond the job finished,
    # then lost the connection; the hot copy expired meanwhile. The final
    # event built from PostgreSQL must still follow that id.
    start_worker(fresh, fake_server)
    job = submit(fresh)
    ms = finished_ms(fresh, job)
    fresh.redis_cli("DEL", f"job:{job}", f"jobev:{job}")
    for seen in (f"{ms}-7", f"{ms + 40}-0", "99999999999999-3"):
        s = Stream(egw, job, fresh.default_key, last_id=seen).read()
        s.close()
        assert s.status == 200 and s.closed, (seen, s.status)
        assert s.types() == ["done"], (seen, s.text)
        after = [int(p) for p in seen.split("-")]
        got = [int(p) for p in s.events[0]["id"].split("-")]
        assert got > after, (seen, s.events[0]["id"])
        again = Stream(egw, job, fresh.default_key, last_id=s.events[0]["id"])
        assert again.status == 204, seen
        again.close()


def test_a_future_last_event_id_still_ends_with_the_job(fresh, egw, fake_server):
    # The client claims an id after every event the job will have: nothing
    # is sent, but the stream ends when the job does, not never.
    job = submit(fresh)
    s = Stream(egw, job, fresh.default_key, last_id="99999999999999-0")
    assert s.status == 200
    start_worker(fresh, fake_server)
    fresh.poll_job(job, timeout=STREAM_DEADLINE)
    s.read(deadline_s=READ_TIMEOUT)
    s.close()
    assert s.closed, s.text
    assert s.types() == [], s.text
    again = Stream(egw, job, fresh.default_key, last_id="99999999999999-0")
    assert again.status == 204
    again.close()


def test_the_greatest_last_event_id_does_not_stall_catching_up(fresh, egw, fake_server):
    """Last-Event-ID 2^64-1-2^64-1 (the greatest id): after the gateway's
    subscription drops, catching up skips that stream (nothing can follow
    it; Redis refuses it as an exclusive start, which failed the catch-up
    of every stream, retried each second, for as long as it stayed open)
    and the others are caught up; the stream still ends with its job."""
    greatest = "18446744073709551615-18446744073709551615"
    job, other = submit(fresh, "a"), submit(fresh, "b")
    s = Stream(egw, job, fresh.default_key, last_id=greatest)
    assert s.status == 200
    t = Stream(egw, other, fresh.default_key)
    t.read(stop=lambda st: "queued" in st.types(), deadline_s=READ_TIMEOUT)
    failed = len(egw.events("events_catchup_failed"))
    assert int(fresh.redis_cli("CLIENT", "KILL", "TYPE", "pubsub")) >= 1
    wait_until(lambda: len(egw.events("events_catchup")) >= 1, timeout=READ_TIMEOUT,
               desc="the catch-up after the subscription dropped")
    start_worker(fresh, fake_server)
    s.read(deadline_s=READ_TIMEOUT)
    t.read(deadline_s=READ_TIMEOUT)
    s.close()
    t.close()
    assert s.closed and s.types() == [], s.text
    assert t.closed and t.types() == STEPS, t.text
    assert len(egw.events("events_catchup_failed")) == failed


def test_debug_doctor_steps(fresh, egw):
    status, _, data = egw.http("POST", "/review", {
        "request_type": "debug", "file_path": "stats.py",
        "file_content": "def mean(xs):\n    return sum(xs) / len(xs)\n\nprint(mean([]))\n",
        "error_log": "ZeroDivisionError: division by zero", "run": {"runner": "python"}})
    assert status == 202, data
    job = data["job_id"]
    s = Stream(egw, job, fresh.default_key)
    s.read(stop=lambda st: "queued" in st.types(), deadline_s=READ_TIMEOUT)
    # Without a model: reproduced in the sandbox, nothing to verify.
    fresh.start_worker("heavy", {"CODEINSIGHT_LLM_PROVIDER": "offline",
                                 "CODEINSIGHT_READ_BLOCK_MS": "200"})
    s.read()
    s.close()
    assert s.closed
    assert s.types() == ["queued", "running", "linted", "reproduced", "model_called", "done"], \
        s.text
    by = {e["event"]: e["json"] for e in s.events}
    assert by["reproduced"]["reproduced"] is True
    assert by["model_called"]["degraded"] is True
    assert by["model_called"]["degraded_reason"].startswith("offline")
    assert ids_increase(s.events)


def test_catch_up_after_the_subscription_drops(fresh, egw):
    job = submit(fresh)
    s = Stream(egw, job, fresh.default_key)
    s.read(stop=lambda st: "queued" in st.types(), deadline_s=READ_TIMEOUT)
    # An event stored but never published, as if it had been published while
    # the gateway's subscriber was away: only the catch-up can deliver it.
    data = json.dumps({"type": "done", "job_id": job, "status": "done",
                       "at": "2026-01-01T00:00:00.000Z"})
    entry = fresh.redis_cli("XADD", f"jobev:{job}", "*", "type", "done", "data", data)
    assert int(fresh.redis_cli("CLIENT", "KILL", "TYPE", "pubsub")) >= 1
    s.read()
    s.close()
    assert s.closed and s.types() == ["queued", "done"], s.text
    assert s.events[-1]["id"] == entry
    assert egw.wait_for_log("events_catchup", timeout=READ_TIMEOUT)


def test_a_stream_outlives_a_redis_restart(fresh, egw, fake_server):
    """Redis stopped and started again under an open stream: the stream
    stays open on heartbeats meanwhile, and once the gateway has
    resubscribed (catching up on what was stored while it was away) it
    carries the job's steps to done, in order, none lost or sent twice."""
    job = submit(fresh)
    s = Stream(egw, job, fresh.default_key)
    s.read(stop=lambda st: "queued" in st.types(), deadline_s=READ_TIMEOUT)
    fresh.stop_redis()
    try:
        beats = len(s.comments)
        s.read(stop=lambda st: len(st.comments) >= beats + 2, deadline_s=READ_TIMEOUT)
        assert not s.closed and len(s.comments) >= beats + 2, s.text
    finally:
        fresh.start_redis()
    start_worker(fresh, fake_server)
    s.read()
    s.close()
    assert s.closed and s.types() == STEPS, s.text
    assert ids_increase(s.events), s.text
    assert egw.alive()


def test_refusals(fresh, egw):
    job = submit(fresh)
    _, _, other_key = fresh.new_user(plan="business", tag="ev")
    status, body = problem(egw, f"/job/{job}/events", other_key)
    assert status == 404 and body["code"] == "job_not_found"
    status, body = problem(egw, "/job/not-a-job/events", fresh.default_key)
    assert status == 404 and body["code"] == "job_not_found"
    status, body = problem(egw, f"/job/{uuid.uuid4()}/events", fresh.default_key)
    assert status == 404 and body["code"] == "job_not_found"
    status, body = problem(egw, f"/job/{job}/events", None)
    assert status == 401 and body["code"] == "missing_credentials"
    status, body = problem(egw, f"/job/{job}/events", fresh.default_key,
                           {"Last-Event-ID": "yesterday"})
    assert status == 400 and body["code"] == "invalid_field_value"
    assert body["field"] == "Last-Event-ID"
    status, _, _ = egw.http("POST", f"/job/{job}/events", {}, auth=fresh.default_key)
    assert status == 405


def test_caps_per_user_and_per_process(harness, fresh, fake_server):
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "1000000",
                                "CODEINSIGHT_SSE_HEARTBEAT_S": "1",
                                "CODEINSIGHT_SSE_MAX_SUBSCRIBERS": "3",
                                "CODEINSIGHT_SSE_MAX_PER_USER": "2"}, default=False)
    _, _, key_b = harness.new_user(plan="business", tag="evb")
    job_a = submit(harness)
    status, _, data = gw.http("POST", "/review", {"file_path": "b.sh", "request_type": "review",
                                                  "file_content": "echo b\n"}, auth=key_b)
    assert status == 202
    job_b = data["job_id"]
    open_ = [Stream(gw, job_a, harness.default_key), Stream(gw, job_a, harness.default_key)]
    assert [s.status for s in open_] == [200, 200]
    status, body = problem(gw, f"/job/{job_a}/events", harness.default_key)
    assert status == 429 and body["code"] == "too_many_streams"
    open_.append(Stream(gw, job_b, key_b))
    assert open_[-1].status == 200
    status, body = problem(gw, f"/job/{job_b}/events", key_b)
    assert status == 503 and body["code"] == "subscribers_full"
    assert "event streams" in body["detail"] and "internal error" not in body["detail"], body
    for s in open_:
        s.close()
    # Closed streams are noticed at the next write (a heartbeat) and freed.

    def reopened() -> bool:
        s = Stream(gw, job_b, key_b)
        s.close()
        return s.status == 200
    wait_until(reopened, timeout=60, interval=0.5)


def test_shutdown_ends_streams(harness, fresh, fake_server):
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "1000000"}, default=False)
    job = submit(harness)
    streams = [Stream(gw, job, harness.default_key) for _ in range(3)]
    for s in streams:
        s.read(stop=lambda st: "queued" in st.types(), deadline_s=READ_TIMEOUT)
    gw.send_signal(signal.SIGTERM)
    for s in streams:
        s.read(deadline_s=READ_TIMEOUT)
        s.close()
        assert s.closed and s.types() == ["queued"]
    assert gw.wait(30) == 0


# ------------------------------------------------------- 5,000 subscribers --

N_SUBSCRIBERS = 5000
N_JOBS = 20
CONNECT_PARALLEL = 200


def threads_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))


def dechunk(raw: bytes) -> tuple[bytes, bool]:
    """The body of a chunked response, and whether its last chunk arrived."""
    body, pos = b"", 0
    while True:
        eol = raw.find(b"\r\n", pos)
        if eol < 0:
            return body, False
        size = int(raw[pos:eol].split(b";")[0], 16)
        if size == 0:
            return body, True
        body += raw[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2


async def subscriber(port: int, key: str, job: str, sem: asyncio.Semaphore,
                     opened: list, go: asyncio.Event) -> tuple[int, bytes]:
    """Opens one stream, reports it open once its queued event arrived, then
    reads to the end. Returns (status, raw response)."""
    async with sem:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port),
                                                READ_TIMEOUT)
        writer.write((f"GET /job/{job}/events HTTP/1.1\r\nHost: t\r\n"
                      f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n")
                     .encode())
        await writer.drain()
        raw = b""
        while b"event: queued" not in raw:
            chunk = await asyncio.wait_for(reader.read(65536), READ_TIMEOUT)
            if not chunk:
                break
            raw += chunk
    opened.append(1)
    await go.wait()
    while True:
        chunk = await asyncio.wait_for(reader.read(65536), STREAM_DEADLINE)
        if not chunk:
            break
        raw += chunk
    writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else 0
    return status, raw


def test_5000_concurrent_subscribers(harness, fresh, fake_server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = N_SUBSCRIBERS + 512
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {need}: cannot open the connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(need * 2, hard)), hard))
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "1000000",
                                "CODEINSIGHT_SSE_MAX_PER_USER": str(N_SUBSCRIBERS),
                                "CODEINSIGHT_LOG_LEVEL": "warn"}, default=False)
    jobs = [submit(harness, str(i)) for i in range(N_JOBS)]
    assert gw.http("GET", "/healthz", auth=None)[0] == 200
    threads_before = threads_of(gw.pid)

    async def run() -> list:
        sem = asyncio.Semaphore(CONNECT_PARALLEL)
        opened: list = []
        go = asyncio.Event()
        tasks = [asyncio.create_task(subscriber(gw.port, harness.default_key, jobs[i % N_JOBS],
                                                sem, opened, go))
                 for i in range(N_SUBSCRIBERS)]
        deadline = time.monotonic() + 240
        while len(opened) < N_SUBSCRIBERS and time.monotonic() < deadline:
            if any(t.done() and t.exception() for t in tasks):
                break
            await asyncio.sleep(0.2)
        assert len(opened) == N_SUBSCRIBERS, f"only {len(opened)} streams opened"
        # Every stream is open and waiting: the process holds them all at once.
        status, _, metrics = await asyncio.to_thread(gw.http, "GET", "/metrics", auth=None)
        assert status == 200
        m = re.search(r"^codeinsight_sse_subscribers (\d+)", metrics, re.M)
        assert m and int(m.group(1)) == N_SUBSCRIBERS, metrics[:2000]
        # Waiting streams are not requests in progress.
        m = re.search(r"^codeinsight_http_requests_in_flight (\d+)", metrics, re.M)
        assert m and int(m.group(1)) < 10, metrics[:2000]
        assert (await asyncio.to_thread(gw.http, "GET", "/healthz", auth=None))[0] == 200
        assert threads_of(gw.pid) == threads_before, "a thread per connection?"
        await asyncio.to_thread(start_worker, harness, fake_server)
        go.set()
        return await asyncio.wait_for(asyncio.gather(*tasks), 300)

    results = asyncio.run(run())
    bad = 0
    for status, raw in results:
        head, _, rest = raw.partition(b"\r\n\r\n")
        body, complete = dechunk(rest)
        events, _, _ = parse_stream(body.decode())
        if not (status == 200 and complete and [e["event"] for e in events] == STEPS):
            bad += 1
    assert bad == 0, f"{bad} of {N_SUBSCRIBERS} streams did not end with the final event"
    assert threads_of(gw.pid) == threads_before


# ------------------------------------------------------------------ metrics --

def sse_events_total(gw) -> float:
    status, _, text = gw.http("GET", "/metrics", auth=None)
    assert status == 200
    m = re.search(r"^codeinsight_sse_events_total (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def test_sse_events_total_counts_only_events_sent(fresh, egw, fake_server):
    """codeinsight_sse_events_total is "job events queued to those streams
    (one per stream)" (docs/operations.md). A stream whose Last-Event-ID is
    after every event of its job is sent none of them: the counter must not
    move for it."""
    job = submit(fresh)
    s = Stream(egw, job, fresh.default_key, last_id="99999999999999-0")
    assert s.status == 200
    before = sse_events_total(egw)
    start_worker(fresh, fake_server)
    fresh.poll_job(job, timeout=STREAM_DEADLINE)
    s.read(deadline_s=READ_TIMEOUT)
    s.close()
    assert s.closed and s.types() == [], s.text
    assert sse_events_total(egw) - before == 0, \
        "events counted as queued to a stream that was sent none"


def test_sse_events_total_counts_events_caught_up(fresh, egw):
    """An event delivered by the catch-up after the subscription dropped
    was queued to the stream like any other: it is counted."""
    job = submit(fresh)
    s = Stream(egw, job, fresh.default_key)
    s.read(stop=lambda st: "queued" in st.types(), deadline_s=READ_TIMEOUT)
    before = sse_events_total(egw)
    data = json.dumps({"type": "done", "job_id": job, "status": "done",
                       "at": "2026-01-01T00:00:00.000Z"})
    fresh.redis_cli("XADD", f"jobev:{job}", "*", "type", "done", "data", data)
    assert int(fresh.redis_cli("CLIENT", "KILL", "TYPE", "pubsub")) >= 1
    s.read()
    s.close()
    assert s.closed and s.types() == ["queued", "done"], s.text
    assert sse_events_total(egw) - before == 1, "the caught-up event was not counted"
