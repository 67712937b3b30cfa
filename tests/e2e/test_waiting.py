"""Waiting threads (gateway/offload.h, docs/operations.md "Request threads"):
the routes that wait on I/O run on their own threads, so a request stuck on
PostgreSQL never holds up the request threads; past the waiting queue's
bound the gateway answers 503 server_busy at once; a client that hangs up
while its request waits costs nothing.

Waiting is made deterministic by a lock: a psql session holds an ACCESS
EXCLUSIVE lock on api_keys, so every GET /keys waits on PostgreSQL until
the test commits. The gateway under test has one request thread, one
waiting thread and room for two queued requests.

    /usr/bin/python3 -m pytest -q tests/e2e/test_waiting.py
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from harness import wait_until

WAIT_QUEUE = 2


@pytest.fixture(scope="module")
def wgw(harness, _module_isolation):
    return harness.start_gateway({"CODEINSIGHT_HTTP_THREADS": "1",
                                  "CODEINSIGHT_HTTP_WAIT_THREADS": "1",
                                  "CODEINSIGHT_HTTP_WAIT_QUEUE": str(WAIT_QUEUE),
                                  "CODEINSIGHT_RATE_LIMIT_SCALE": "1000000"})


def one_thread_gateway(harness):
    """A gateway of its own with one request and one waiting thread, warm."""
    gw = harness.start_gateway({"CODEINSIGHT_HTTP_THREADS": "1",
                                "CODEINSIGHT_HTTP_WAIT_THREADS": "1",
                                "CODEINSIGHT_RATE_LIMIT_SCALE": "1000000"})
    warm(gw)
    return gw


@contextlib.contextmanager
def keys_locked(harness):
    """Holds an ACCESS EXCLUSIVE lock on api_keys until the block ends."""
    env = dict(os.environ, PGPASSWORD=harness.pg_password, PGCONNECT_TIMEOUT="5")
    p = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                          "-p", str(harness.pg_port), "-U", "codeinsight", "-d", "codeinsight"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    try:
        p.stdin.write("BEGIN;\nLOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE;\n"
                      "SELECT 'locked';\n")
        p.stdin.flush()
        assert "locked" in p.stdout.readline() + p.stdout.readline() + p.stdout.readline()
        yield
    finally:
        p.communicate("COMMIT;\n", timeout=30)


def waiting_gauge(gw) -> int:
    status, _, text = gw.http("GET", "/metrics", auth=None, timeout=5)
    assert status == 200, status
    m = re.search(r"^codeinsight_http_requests_waiting (\d+)", text, re.M)
    assert m, "no codeinsight_http_requests_waiting gauge"
    return int(m.group(1))


def wait_lock_waiters(harness, n: int) -> None:
    """Until n sessions wait on a lock: that many requests are running on
    a waiting thread (and not just queued for one)."""
    wait_until(lambda: harness.psql_int("SELECT count(*) FROM pg_stat_activity "
                                        "WHERE wait_event_type = 'Lock'") == n,
               timeout=20, interval=0.05, desc=f"{n} queries waiting on the lock")


def warm(gw):
    """The caller's identity read once (Redis and this gateway's copy): a
    fill from api_keys would wait on the lock too."""
    status, _, body = gw.http("GET", "/whoami", timeout=10)
    assert status == 200, body


def test_one_request_thread_starts_without_a_warning(wgw):
    """CODEINSIGHT_HTTP_THREADS=1 (deploy/k8s/gateway.yaml) is the daemon's
    own thread, not a pool of one, which libmicrohttpd would ignore with a
    warning at every start."""
    warm(wgw)
    assert "http_server_warning" not in wgw.output(), wgw.tail()


def test_waiting_routes_do_not_hold_up_request_threads(harness, wgw):
    warm(wgw)
    queued = harness.submit(file_path="q.py", file_content="q = 1\n", gateway=wgw)
    with concurrent.futures.ThreadPoolExecutor(WAIT_QUEUE + 1) as ex:
        with keys_locked(harness):
            # One on the waiting thread (stuck on the lock), two queued.
            stuck = [ex.submit(wgw.http, "GET", "/keys", timeout=60)]
            wait_lock_waiters(harness, 1)
            stuck += [ex.submit(wgw.http, "GET", "/keys", timeout=60)
                      for _ in range(WAIT_QUEUE)]
            wait_until(lambda: waiting_gauge(wgw) == WAIT_QUEUE, timeout=20, interval=0.05,
                       desc=f"{WAIT_QUEUE} requests queued for the waiting thread")
            assert not any(f.done() for f in stuck), [f.result() for f in stuck if f.done()]

            # The only request thread still answers: a probe, and a poll
            # of a job Redis holds.
            status, _, body = wgw.http("GET", "/healthz", auth=None, timeout=5)
            assert status == 200, body
            status, _, body = wgw.http("GET", f"/job/{queued}", timeout=5)
            assert status == 200 and body["status"] == "queued", body
            # A poll of a job Redis does not hold needs PostgreSQL: a
            # waiting thread's work, never the request thread's.
            status, _, body = wgw.http("GET", "/job/01a2019b-0000-7000-8000-000000000000",
                                       timeout=5)
            assert status == 503 and body["code"] == "server_busy", body
            # So is an event stream's.
            status, _, body = wgw.http("GET", "/job/01a2019b-0000-7000-8000-000000000001/events",
                                       timeout=5)
            assert status == 503 and body["code"] == "server_busy", body

            # The queue is full: the next waiting request is refused at once.
            status, headers, body = wgw.http("GET", "/usage", timeout=5)
            assert status == 503, body
            assert headers.get("Content-Type", "").startswith("application/problem+json")
            assert body["code"] == "server_busy", body
            assert headers.get("Retry-After") == "1", headers
            assert "busy" in body["detail"], body
            assert not any(f.done() for f in stuck)

        # Lock released: every queued request is answered, nothing lost.
        for f in stuck:
            status, _, body = f.result(timeout=30)
            assert status == 200, body
            assert isinstance(body["keys"], list), body
    assert waiting_gauge(wgw) == 0
    refused = [r for r in wgw.events("http_request") if r.get("code") == "server_busy"]
    assert [r["path"] for r in refused] == ["/job/01a2019b-0000-7000-8000-000000000000",
                                            "/job/01a2019b-0000-7000-8000-000000000001/events",
                                            "/usage"], refused
    # Once the waiting thread is free, that poll is answered (404), and the
    # stream too.
    status, _, body = wgw.http("GET", "/job/01a2019b-0000-7000-8000-000000000000", timeout=5)
    assert status == 404 and body["code"] == "job_not_found", body
    status, _, body = wgw.http("GET", "/job/01a2019b-0000-7000-8000-000000000001/events",
                               timeout=5)
    assert status == 404 and body["code"] == "job_not_found", body


def test_client_gone_while_waiting(harness, wgw):
    """Clients that hang up while their request waits: the waiting thread
    finishes, the connection is resumed and closed, the held response is
    dropped; the gateway goes on serving."""
    wire = (f"GET /keys HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {harness.default_key}\r\n\r\n").encode()
    warm(wgw)
    before = len([r for r in wgw.events("http_request") if r.get("path") == "/keys"])
    with keys_locked(harness):
        for i in range(WAIT_QUEUE + 1):
            s = socket.create_connection(("127.0.0.1", wgw.port), timeout=5)
            s.sendall(wire)
            s.close()
            if i == 0:
                wait_lock_waiters(harness, 1)
        wait_until(lambda: waiting_gauge(wgw) == WAIT_QUEUE, timeout=20, interval=0.05,
                   desc="the abandoned requests queued")
    # Each one ends with an access line once its waiting thread is done.
    wait_until(lambda: len([r for r in wgw.events("http_request")
                            if r.get("path") == "/keys"]) >= before + WAIT_QUEUE + 1,
               timeout=20, desc="access lines of the abandoned requests")
    assert wgw.alive(), wgw.tail()
    assert waiting_gauge(wgw) == 0
    status, _, body = wgw.http("GET", "/keys", timeout=10)
    assert status == 200, body


def test_a_request_during_shutdown_is_refused_not_crashed(harness, _module_isolation):
    """SIGTERM while a waiting thread is stuck on PostgreSQL: the gateway
    drains, and a request sent meanwhile on a keep-alive connection is
    answered 503 server_busy (logged: shutting down) by the stopped pools, which
    stay allocated until the HTTP server has stopped (they were freed
    first: an ASan build showed a use-after-free in offload_submit). The
    gateway then exits 0, the stuck request answered."""
    gw = one_thread_gateway(harness)
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=60)
    body = json.dumps({"file_path": "a.py", "file_content": "import os\n",
                       "request_type": "review"})
    hdr = {"Authorization": f"Bearer {harness.default_key}", "Content-Type": "application/json"}
    conn.request("POST", "/review", body, hdr)
    first = conn.getresponse()
    first.read()
    assert first.status == 202, first.status
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        with keys_locked(harness):
            stuck = ex.submit(gw.http, "GET", "/keys", timeout=60)
            wait_lock_waiters(harness, 1)
            gw.send_signal(signal.SIGTERM)
            time.sleep(5.5)     # past the drain's 5 s: the pools are being stopped
            conn.request("POST", "/review", body, hdr)
            late = conn.getresponse()
            data = json.loads(late.read())
            assert late.status == 503 and data["code"] == "server_busy", (late.status, data)
            assert late.getheader("Retry-After"), late.getheaders()
        # Answered: 200 once the lock is released, or, should that come
        # after the pools' 2 s (a slow machine), given up with 503
        # (test_a_query_given_up_at_shutdown_is_answered_503).
        status, _, got = stuck.result(timeout=30)
        assert status == 200 or (status == 503 and got["code"] == "database_unavailable"), got
    conn.close()
    assert gw.wait(30) == 0, gw.tail()
    # 5xx details are generic; the log says why.
    assert "this server is shutting down" in gw.output(), gw.tail()


def test_shutdown_is_bounded_while_a_request_is_stuck_on_postgres(harness, _module_isolation):
    """docs/operations.md, "Stopping": on SIGTERM the gateway "lets requests
    in progress finish (up to 5 s), exits 0" (deploy/k8s/gateway.yaml says
    the same, inside a 30 s termination grace that also holds a 5 s preStop).
    A request stuck on PostgreSQL (a lock here; a hung or partitioned server
    in production) must not hold the exit past that bound: the drain is
    5 s, the resumed requests' drain 2 s more; 12 s is generous."""
    gw = one_thread_gateway(harness)
    bound_s = 12
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        with keys_locked(harness):
            stuck = ex.submit(gw.http, "GET", "/keys", timeout=90)
            wait_lock_waiters(harness, 1)
            t0 = time.monotonic()
            gw.send_signal(signal.SIGTERM)
            try:
                gw.wait(bound_s)
            except subprocess.TimeoutExpired:
                pass
            took = time.monotonic() - t0
            still_running = gw.alive()
        # The lock is gone: a gateway still waiting on it can exit now.
        with contextlib.suppress(Exception):
            stuck.result(timeout=30)
    with contextlib.suppress(subprocess.TimeoutExpired):
        gw.wait(30)
    assert not still_running, (
        f"gateway still running {took:.1f}s after SIGTERM while one request waited on "
        f"PostgreSQL (documented: requests in progress get up to 5 s):\n{gw.tail()}")


def test_a_query_given_up_at_shutdown_is_answered_503(harness, _module_isolation):
    """The request whose query is still waiting on PostgreSQL when the
    pools' grace is over (gateway/server.c, stop_pools) is answered 503
    database_unavailable, the server was asked to cancel the query (its
    session no longer waits on the lock, which the test still holds), one
    line says so, and the gateway exits 0 well inside the documented ~10 s."""
    gw = one_thread_gateway(harness)
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        with keys_locked(harness):
            stuck = ex.submit(gw.http, "GET", "/keys", timeout=60)
            wait_lock_waiters(harness, 1)
            t0 = time.monotonic()
            gw.send_signal(signal.SIGTERM)
            status, headers, body = stuck.result(timeout=30)
            answered = time.monotonic() - t0
            assert status == 503, (status, body, gw.tail())
            assert headers.get("Content-Type", "").startswith("application/problem+json")
            assert body["code"] == "database_unavailable", body
            # Not before the drain (5 s) and the pools' grace (2 s) are over.
            assert 6.5 <= answered <= 10, (answered, gw.tail())
            wait_lock_waiters(harness, 0)
            assert gw.wait(10) == 0, gw.tail()
    cancelled = gw.events("shutdown_queries_cancelled")
    assert len(cancelled) == 1, gw.tail()
    assert cancelled[0]["queries"] == 1 and cancelled[0]["threads_left"] == 0, cancelled
    assert [r["status"] for r in gw.events("http_request", path="/keys")] == [503], gw.tail()
