"""Mutation fuzzing of the running gateway over HTTP: valid requests to each
route with a body or a query, and the request headers the gateway reads,
edited at random (tests/e2e/mutate.py) with a fixed seed, so a failure
repeats. Every answer must be a client error or a success, never a 5xx;
an error answered by the gateway is problem+json with a code; the gateway
stays up and healthy. The count is bounded (ROUNDS_PER_ROUTE per route),
and so is each request's time.

The run `make test` makes is fixed; a longer search by hand (against the
ASan build, say) sets CODEINSIGHT_FUZZ_SEED and CODEINSIGHT_FUZZ_ROUNDS:
    CODEINSIGHT_BUILD_DIR=build/asan CODEINSIGHT_FUZZ_SEED=7 \
    CODEINSIGHT_FUZZ_ROUNDS=2000 python3 -m pytest -q tests/e2e/test_fuzz_http.py"""

import json
import os
import random

import pytest

from mutate import mutate

ROUNDS_PER_ROUTE = int(os.environ.get("CODEINSIGHT_FUZZ_ROUNDS") or 150)
SEED = int(os.environ.get("CODEINSIGHT_FUZZ_SEED") or 20261122)
assert 1 <= ROUNDS_PER_ROUTE <= 100_000, "CODEINSIGHT_FUZZ_ROUNDS: 1..100000"

JOB = "0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

BODIES = {
    "/review": [
        {"file_path": "src/app.py", "file_content": "import os\nprint(os.getcwd())\n"},
        {"request_type": "debug", "file_path": "app/main.py", "file_content": "print(1/0)\n",
         "error_log": "Traceback (most recent call last):\n  File \"app/main.py\", line 1\n"
                      "ZeroDivisionError: division by zero\n",
         "cursor_context": {"line": 1, "end_line": 1}},
        {"request_type": "review", "file_path": "lib/a.c",
         "file_content": "int f(void)\n{\n\treturn 2;\n}\n",
         "diff": "--- a/lib/a.c\n+++ b/lib/a.c\n@@ -1,4 +1,4 @@\n int f(void)\n {\n"
                 "-\treturn 1;\n+\treturn 2;\n }\n", "language": "c", "repo_id": "acme/shop"},
        {"request_type": "debug", "file_path": "app/main.py", "file_content": "print(1/0)\n",
         "error_log": "E", "files": [{"path": "app/util.py", "content": "x = 1\n"}],
         "run": {"runner": "python", "args": ["-v"]}},
        {"request_type": "architecture", "user_request": "A URL shortener", "stack": "C",
         "scale": "10k rps", "db": "postgres", "file_tree": "src/\n  main.c\n"},
        {"request_type": "stress", "base_url": "http://127.0.0.1:9", "rate": 20, "duration_s": 2,
         "requests": [{"method": "GET", "path": "/items", "weight": 3}]},
    ],
    "/apply-fix": [{"job_id": JOB, "finding_id": "f1", "base_sha256": SHA, "approve": True}],
    "/auth/login": [{"email": "nobody@example.com", "password": "not the password"}],
    "/keys": [{"name": "ci key"}],
}

QUERIES = [f"/job/{JOB}?format=sarif", "/jobs?limit=5&status=done&type=review",
           f"/jobs?cursor={JOB}", "/audit?limit=3", "/usage", "/stats"]


def check(resp, what):
    status, headers, data = resp
    assert status < 500, f"{what}: {status} {data!r}"
    if status >= 400 and isinstance(data, dict):
        assert data.get("code"), f"{what}: {status} without a code: {data!r}"
        assert (headers.get("content-type") or "").startswith("application/problem+json"), what


@pytest.mark.parametrize("route", sorted(BODIES))
def test_mutated_bodies(harness, gateway, route):
    rnd = random.Random(f"{SEED}{route}")
    seeds = [json.dumps(b).encode() for b in BODIES[route]]
    answered = set()
    for i in range(ROUNDS_PER_ROUTE):
        raw = mutate(rnd, rnd.choice(seeds))
        resp = harness.http("POST", route, raw=raw, timeout=10)
        check(resp, f"{route} #{i} {raw[:120]!r}")
        answered.add(resp[0])
    # The edits reach past the JSON parser: some mutants are still accepted
    # or refused for their content, not their syntax.
    assert len(answered) >= 2, answered
    assert gateway.alive() and gateway.healthy()


def test_mutated_paths_and_queries(harness, gateway):
    rnd = random.Random(SEED)
    for i in range(ROUNDS_PER_ROUTE * 2):
        path = mutate(rnd, rnd.choice(QUERIES).encode())
        # A request line holds no raw space, CR or LF; the rest goes as is.
        path = b"/" + bytes(c for c in path.lstrip(b"/") if c not in b" \r\n")
        wire = b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" \
               + b"Authorization: Bearer " + harness.default_key.encode() + b"\r\n\r\n"
        try:
            resp = gateway.raw(wire, timeout=10)
        except (ConnectionError, OSError) as e:  # a closed connection is a refusal too
            resp = (400, None, repr(e))
        check(resp, f"GET #{i} {path[:120]!r}")
    assert gateway.alive() and gateway.healthy()


HEADERS = {"Authorization": None, "Content-Type": "application/json; charset=utf-8",
           "Idempotency-Key": "fuzz-key-0001",
           "X-Request-Id": "0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69", "Last-Event-ID": "1-0"}


def test_mutated_headers(harness, gateway):
    rnd = random.Random(f"{SEED}headers")
    body = json.dumps(BODIES["/review"][0]).encode()
    for i in range(ROUNDS_PER_ROUTE * 2):
        name = rnd.choice(sorted(HEADERS))
        seed = (HEADERS[name] or "Bearer " + harness.default_key).encode()
        # A header value holds no CR, LF or NUL on the wire.
        value = bytes(c for c in mutate(rnd, seed) if c not in b"\r\n\x00")
        path = b"/review" if name != "Last-Event-ID" else \
            f"/job/{JOB}/events".encode()
        head = (b"POST " if path == b"/review" else b"GET ") + path + b" HTTP/1.1\r\n" \
            + b"Host: x\r\nConnection: close\r\n"
        if name != "Authorization":
            head += b"Authorization: Bearer " + harness.default_key.encode() + b"\r\n"
        head += name.encode() + b": " + value + b"\r\n"
        if path == b"/review":
            if name != "Content-Type":
                head += b"Content-Type: application/json\r\n"
            head += b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        else:
            head += b"\r\n"
        try:
            resp = gateway.raw(head, timeout=10)
        except (ConnectionError, OSError) as e:
            resp = (400, None, repr(e))
        check(resp, f"{name} #{i} {value[:120]!r}")
    assert gateway.alive() and gateway.healthy()
