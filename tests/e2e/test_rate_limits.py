"""Token buckets (docs/admission.md, "Rate limits"): per identity (API key
id, or user id for JWTs) and route class, in Redis, so atomic across gateway
replicas. Every limited response carries RateLimit-Limit/Remaining/Reset; a
refusal is 429 rate_limited with Retry-After >= 1. /healthz and /readyz need
no identity and are not limited.

These gateways run with the plans' real rates (no CODEINSIGHT_RATE_LIMIT_SCALE)
and every test uses fresh users, whose cached identities only these gateways
fill."""

import math
import threading
import time

import pytest

from tokens import assert_429, own_token, rate_headers

PLANS = {  # docs/admission.md
    "lite": {"submit": (20, 10), "read": (600, 100), "tokens": 200000},
    "pro": {"submit": (60, 20), "read": (600, 100), "tokens": 500000},
    "business": {"submit": (300, 60), "read": (600, 100), "tokens": 4000000},
}


@pytest.fixture(scope="module")
def rl_gw(harness):
    return harness.start_gateway(default=True)


def review(i, tag="rl"):
    return {"file_path": f"{tag}/f{i}.py", "file_content": f"x = {i}\n", "request_type": "review"}


def submit_until_refused(harness, key, max_tries, gateways=None, tag="rl"):
    """POST /review until a 429 (at most max_tries); returns (responses, elapsed s)."""
    out = []
    t0 = time.monotonic()
    for i in range(max_tries):
        gw = gateways[i % len(gateways)] if gateways else None
        resp = harness.http("POST", "/review", review(i, tag), auth=key, gateway=gw)
        out.append(resp)
        if resp[0] != 202:
            break
    return out, time.monotonic() - t0


@pytest.mark.parametrize("plan", ["lite", "pro", "business"])
def test_whoami_reports_the_plan_limits(harness, rl_gw, plan):
    _, _, key = harness.new_user(plan, tag=f"limits-{plan}")
    status, headers, me = harness.http("GET", "/whoami", auth=key)
    assert status == 200, me
    lim = me["limits"]
    per_min, burst = PLANS[plan]["submit"]
    assert (lim["submit"]["rate_per_min"], lim["submit"]["burst"]) == (per_min, burst), lim
    per_min, burst = PLANS[plan]["read"]
    assert (lim["read"]["rate_per_min"], lim["read"]["burst"]) == (per_min, burst), lim
    assert lim["tokens_per_month"] == PLANS[plan]["tokens"], lim
    assert lim["auth"]["burst"] >= 1 and lim["auth"]["rate_per_min"] > 0, lim
    assert rate_headers(headers)[0] == PLANS[plan]["read"][1]


def test_submit_burst_then_429(harness, rl_gw):
    email, user_id, key = harness.new_user("lite", tag="burst")
    per_min, burst = PLANS["lite"]["submit"]
    resps, elapsed = submit_until_refused(harness, key, burst + 6)
    accepted = [r for r in resps if r[0] == 202]
    refill = int(elapsed * per_min / 60)
    assert burst <= len(accepted) <= burst + refill, ([r[0] for r in resps], elapsed)
    remaining = []
    for r in accepted:
        limit, rem, reset = rate_headers(r[1])
        assert limit == burst, r[1]
        assert 0 <= reset <= burst * 60 / per_min + 1, r[1]
        remaining.append(rem)
    assert remaining[0] == burst - 1, remaining
    assert all(b < a for a, b in zip(remaining, remaining[1:])) or refill, remaining
    assert remaining[-1] == 0, remaining
    refused = resps[-1]
    body = assert_429(refused, limit=burst)
    assert int(refused[1]["Retry-After"]) <= 60 / per_min + 1, refused[1]
    assert "job_id" not in body
    # nothing was queued for the refused request
    assert harness.redis_int("ZCARD", f"jobs:{user_id}") == len(accepted)
    # reads have their own bucket
    assert harness.http("GET", "/whoami", auth=key)[0] == 200


def test_read_headers_count_down(harness, rl_gw):
    """Each read takes a token; the bucket gives one back every 100 ms (600
    a minute). So RateLimit-Remaining falls by one a request, less what the
    time between two requests refilled: exact on a quiet machine, and still
    true on one that stalls (a CI host once took over 100 ms a request)."""
    _, _, key = harness.new_user("lite", tag="reads")
    job_id = harness.submit(auth=key)
    per_s = PLANS["lite"]["read"][0] / 60
    seen, at = [], []
    for path in ("/whoami", "/jobs", f"/job/{job_id}", "/keys", "/jobs?limit=1"):
        t0 = time.monotonic()
        status, headers, body = harness.http("GET", path, auth=key)
        assert status == 200, (path, body)
        limit, rem, reset = rate_headers(headers)
        assert limit == PLANS["lite"]["read"][1], (path, headers)
        assert reset >= 1 or rem == limit, (path, headers)
        seen.append(rem)
        at.append((t0, time.monotonic()))
    assert seen[0] == PLANS["lite"]["read"][1] - 1, seen
    for i in range(1, len(seen)):
        # At most the refill of the longest time between the two takes.
        refill = math.ceil((at[i][1] - at[i - 1][0]) * per_s)
        assert seen[i] <= seen[i - 1] - 1 + refill, (seen, at)
        assert seen[i] < PLANS["lite"]["read"][1], seen
    # Over the whole run: one token a request, less the refill of its length
    # (on a quiet machine 50 ms: the count falls by at least 3 of 4).
    refill = math.ceil((at[-1][1] - at[0][0]) * per_s)
    assert seen[0] - seen[-1] >= len(seen) - 1 - refill, (seen, at)


def test_read_burst_then_429(harness, rl_gw):
    _, _, key = harness.new_user("lite", tag="readburst")
    burst = PLANS["lite"]["read"][1]
    refusals, lock, stop = [], threading.Lock(), threading.Event()

    def hammer():
        for _ in range(burst):
            if stop.is_set():
                return
            resp = harness.http("GET", "/whoami", auth=key)
            if resp[0] == 429:
                with lock:
                    refusals.append(resp)
                stop.set()
                return
            assert resp[0] == 200, resp
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert refusals, f"{4 * burst} reads without a 429"
    assert_429(refusals[0], limit=burst)


def test_buckets_are_per_identity(harness, rl_gw):
    email, user_id, key1 = harness.new_user("lite", tag="perkey")
    key2 = harness.issue_key(email, "second")
    burst = PLANS["lite"]["submit"][1]
    resps, _ = submit_until_refused(harness, key1, burst + 6, tag="k1")
    assert resps[-1][0] == 429
    # another key of the same user has a bucket of its own ...
    status, headers, body = harness.http("POST", "/review", review(0, "k2"), auth=key2)
    assert status == 202, body
    assert rate_headers(headers)[1] == burst - 1
    # ... and so has the user itself, through a JWT
    status, headers, body = harness.http("POST", "/review", review(0, "jwt"),
                                         auth=own_token(harness, user_id))
    assert status == 202, body
    assert rate_headers(headers)[1] == burst - 1


def test_limits_are_shared_by_replicas(harness, rl_gw):
    other = harness.start_gateway(default=False)
    _, user_id, key = harness.new_user("lite", tag="replicas")
    per_min, burst = PLANS["lite"]["submit"]
    resps, elapsed = submit_until_refused(harness, key, burst + 6, gateways=[rl_gw, other])
    accepted = sum(1 for r in resps if r[0] == 202)
    assert burst <= accepted <= burst + int(elapsed * per_min / 60), [r[0] for r in resps]
    assert_429(resps[-1], limit=burst)
    other.stop()


def test_auth_class_limits_key_management(harness, rl_gw):
    _, _, key = harness.new_user("lite", tag="authclass")
    me = harness.http("GET", "/whoami", auth=key)[2]
    burst, per_min = me["limits"]["auth"]["burst"], me["limits"]["auth"]["rate_per_min"]
    t0 = time.monotonic()
    statuses = []
    for i in range(burst + 4):
        status, headers, body = harness.http("POST", "/keys", {"name": f"k{i}"}, auth=key)
        statuses.append(status)
        if status == 201:
            harness.remember(body["key"])
            assert rate_headers(headers)[0] == burst
        else:
            assert_429((status, headers, body), limit=burst)
            break
    refill = int((time.monotonic() - t0) * per_min / 60)
    assert statuses[-1] == 429, statuses
    assert burst <= statuses.count(201) <= burst + refill, statuses


def test_health_routes_need_no_identity_and_are_not_limited(harness, rl_gw):
    for path, expect in (("/healthz", {"status": "ok"}), ("/readyz", None)):
        for _ in range(3):
            status, headers, body = harness.http("GET", path, auth=None)
            assert status == 200, (path, body)
            if expect is not None:
                assert body == expect
            for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
                         "Retry-After", "WWW-Authenticate"):
                assert headers.get(name) is None, (path, name, headers)
    # far more than any read burst: never limited
    for _ in range(PLANS["lite"]["read"][1] + 20):
        assert harness.http("GET", "/healthz", auth=None)[0] == 200
