"""Metrics and queue insight: GET /metrics on the gateway (public) and on a
worker's own listener (CODEINSIGHT_METRICS_PORT) are valid Prometheus text
(promtool) whose counters move with the traffic; GET /queue/info and
GET /stats (operators: test_operators.py) describe the streams and the system."""

import json
import re
import secrets
import shutil
import subprocess

import pytest

from fakemodel import FakeModel, answer, finding
from harness import (GROUP_FAST, PY_CLEAN, REPO_ROOT, STREAM_FAST, STREAM_HEAVY, assert_problem,
                     free_port, http_request, wait_until)

PROM_CTYPE = "text/plain; version=0.0.4; charset=utf-8"
STREAMS = (STREAM_FAST, STREAM_HEAVY)
QUEUE_KEYS = {"stream", "pool", "group", "group_exists", "length", "pending", "lag",
              "oldest_pending_id", "oldest_pending_age_s", "dead_letters", "deferred",
              "consumers_total", "consumers_active", "consumers", "completed_by_minute",
              "completed_in_window", "window_s", "completed_per_min", "rate_per_worker_per_s",
              "recommended_workers"}

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(_LABEL.findall(m.group(2) or ""))
        key = (m.group(1), labels)
        assert key not in out, f"duplicate series {line!r}"
        out[key] = float(m.group(3))
    return out


def value(samples, name, **labels):
    """The sample with exactly these labels, or None."""
    return samples.get((name, frozenset(labels.items())))


def scrape_gateway(harness, **kw):
    status, headers, text = harness.http("GET", "/metrics", auth=None, **kw)
    assert status == 200, text
    assert headers.get("Content-Type") == PROM_CTYPE, headers
    assert isinstance(text, str)
    return text


def scrape_worker(port, path="/metrics"):
    status, headers, text = http_request("127.0.0.1", port, "GET", path)
    return status, headers, text


def promtool_check(text):
    """promtool check metrics on text (stdin); skipped when not installed."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (make deps installs the prometheus package)")
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, f"promtool check metrics failed:\n{r.stdout}{r.stderr}\n---\n{text}"


def requests_202(samples):
    return value(samples, "codeinsight_http_requests_total", route="/review", method="POST",
                 status="202") or 0


def queue_info(harness):
    status, _, body = harness.http("GET", "/queue/info")
    assert status == 200, body
    assert set(body) >= {"target_drain_s", "streams"}, body
    assert set(body["streams"]) == set(STREAMS), body
    for name, s in body["streams"].items():
        missing = QUEUE_KEYS - s.keys()
        assert not missing, f"{name} lacks {missing}: {s!r}"
        assert s["stream"] == name
        for k in ("length", "pending", "dead_letters", "deferred", "consumers_total",
                  "consumers_active", "recommended_workers", "completed_in_window"):
            assert isinstance(s[k], int) and s[k] >= 0, (k, s)
        assert s["lag"] is None or (isinstance(s["lag"], int) and s["lag"] >= 0), s
        assert len(s["completed_by_minute"]) == 5, s
        assert isinstance(s["consumers"], list), s
    return body


def test_metrics_is_public_the_rest_is_not(harness, gateway):
    status, headers, text = harness.http("GET", "/metrics", auth=None)
    assert status == 200, text
    assert headers.get("Content-Type") == PROM_CTYPE
    assert "# TYPE codeinsight_http_requests_total counter" in text or \
        "codeinsight_admissions_total" in text, text
    for path in ("/queue/info", "/stats"):
        assert_problem(harness.http("GET", path, auth=None), 401, "missing_credentials")
        assert_problem(harness.http("GET", path, auth="ci_live_" + "x" * 32), 401,
                       "invalid_api_key")
    assert_problem(harness.http("POST", "/metrics", auth=None), 405, "method_not_allowed")


def test_gateway_exposition_passes_promtool(harness, gateway, clean_state):
    harness.submit(file_path="p.py", file_content=PY_CLEAN)
    harness.http("GET", "/nope")
    text = scrape_gateway(harness)
    promtool_check(text)
    samples = parse(text)
    # Queue gauges read from Redis at scrape time, for both streams.
    assert value(samples, "codeinsight_queue_read_ok") == 1
    assert value(samples, "codeinsight_stream_length", stream=STREAM_FAST) == 1
    assert value(samples, "codeinsight_stream_length", stream=STREAM_HEAVY) == 0
    for s in STREAMS:
        assert value(samples, "codeinsight_dead_letters", stream=s) == 0
        assert value(samples, "codeinsight_deferred_jobs", stream=s) == 0
        assert value(samples, "codeinsight_stream_pending", stream=s) == 0
    # Unmatched paths are one series, not one per path.
    assert value(samples, "codeinsight_http_requests_total", route="unmatched", method="GET",
                 status="404") >= 1
    assert not any("/nope" in dict(labels).get("route", "") for _, labels in samples)
    # Histograms: +Inf bucket == count.
    inf = value(samples, "codeinsight_http_request_duration_seconds_bucket", route="/review",
                method="POST", le="+Inf")
    assert inf is not None and inf == value(
        samples, "codeinsight_http_request_duration_seconds_count", route="/review",
        method="POST")


def test_head_is_counted_as_head(harness, gateway):
    def count(samples, method):
        return value(samples, "codeinsight_http_requests_total", route="/openapi.json",
                     method=method, status="200") or 0

    before = parse(scrape_gateway(harness))
    status, headers, body = harness.http("HEAD", "/openapi.json", auth=None)
    assert status == 200, body
    after = parse(scrape_gateway(harness))
    # A HEAD served by the GET route is its own series, not a GET.
    assert count(after, "HEAD") == count(before, "HEAD") + 1
    assert count(after, "GET") == count(before, "GET")


def test_counters_queue_info_and_worker_metrics(harness, gateway, clean_state):
    n = 4
    before = parse(scrape_gateway(harness))
    admitted0 = value(before, "codeinsight_admissions_total", outcome="admitted") or 0
    ids = [harness.submit(file_path=f"m_{i}.py", file_content=PY_CLEAN) for i in range(n)]

    # Counted when each request completes: bounded wait for the last one.
    after = wait_until(lambda: (lambda s: s if requests_202(s) == requests_202(before) + n
                                else None)(parse(scrape_gateway(harness))),
                       timeout=5, desc=f"{n} more 202s on POST /review")
    assert value(after, "codeinsight_admissions_total", outcome="admitted") == admitted0 + n
    assert value(after, "codeinsight_stream_length", stream=STREAM_FAST) == n

    # No worker: the backlog waits, nothing is in progress, someone is needed.
    info = queue_info(harness)
    fast = info["streams"][STREAM_FAST]
    assert fast["length"] == n and fast["pending"] == 0, fast
    assert fast["group_exists"] is False and fast["consumers"] == [], fast
    assert fast["recommended_workers"] >= 1, fast
    assert info["streams"][STREAM_HEAVY]["length"] == 0
    assert info["streams"][STREAM_HEAVY]["recommended_workers"] == 0
    assert info["target_drain_s"] == 60

    port = free_port()
    worker = harness.start_worker("fast", {"CODEINSIGHT_METRICS_PORT": port})
    worker.wait_for_log("metrics_listening", port=port)
    jobs = harness.poll_jobs(ids, timeout=120)
    assert all(j["status"] == "done" for j in jobs.values()), jobs
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)

    # The worker's own listener: counters moved, valid exposition.
    status, headers, text = scrape_worker(port)
    assert status == 200 and headers.get("Content-Type") == PROM_CTYPE, (status, text)
    promtool_check(text)
    ws = parse(text)
    assert value(ws, "codeinsight_jobs_total", type="review", outcome="done") == n, text
    for outcome in ("failed", "degraded", "dead", "deferred", "cancelled"):
        assert value(ws, "codeinsight_jobs_total", type="review", outcome=outcome) == 0
    assert value(ws, "codeinsight_job_duration_seconds_count", type="review") == n
    assert value(ws, "codeinsight_jobs_in_flight") == 0
    assert value(ws, "codeinsight_reclaimed_total") == 0
    assert value(ws, "codeinsight_dead_lettered_total") == 0
    # Offline: no model call, no token, no cost; the series exist at zero.
    assert value(ws, "codeinsight_model_calls_in_flight") == 0
    for kind in ("input", "output", "cache_read", "cache_write"):
        assert value(ws, "codeinsight_model_tokens_total", kind=kind) == 0
    assert value(ws, "codeinsight_model_cost_usd_total") == 0
    # Gateway-only metrics are not the worker's business.
    assert not any(name.startswith("codeinsight_http_") for name, _ in ws)
    assert scrape_worker(port, "/other")[0] == 404
    # Liveness: its loop ticks every 250 ms, so the last beat is recent.
    status, headers, live = scrape_worker(port, "/livez")
    assert status == 200 and headers.get("Content-Type") == "application/json", (status, live)
    assert live["status"] == "ok" and 0 <= live["beat_age_ms"] <= 30000, live
    # The image's HEALTHCHECK asks the same: exit 0 while live, 1 when
    # nothing answers, 2 without a listener to ask (deploy/docker).
    def check_live(port_value):
        env = harness.child_env({"CODEINSIGHT_METRICS_PORT": str(port_value)})
        return subprocess.run([str(harness.binary("codeinsight-worker")), "--check-live"],
                              env=env, capture_output=True, text=True, timeout=30)
    r = check_live(port)
    assert r.returncode == 0, r
    r = check_live(free_port())
    assert r.returncode == 1 and "/livez" in r.stderr, r
    r = check_live(0)
    assert r.returncode == 2 and "CODEINSIGHT_METRICS_PORT is 0" in r.stderr, r

    # Drained: nothing waits; the completions were counted for the drain rate.
    info = queue_info(harness)
    fast = info["streams"][STREAM_FAST]
    assert fast["length"] == 0 and fast["pending"] == 0, fast
    assert fast["oldest_pending_id"] is None and fast["oldest_pending_age_s"] is None, fast
    assert fast["completed_in_window"] == n, fast
    assert fast["consumers_active"] >= 1, fast
    assert worker.consumer in [c["name"] for c in fast["consumers"]], fast
    assert fast["rate_per_worker_per_s"] > 0, fast
    assert fast["recommended_workers"] == 0, fast
    samples = parse(scrape_gateway(harness))
    assert value(samples, "codeinsight_stream_length", stream=STREAM_FAST) == 0
    assert value(samples, "codeinsight_stream_pending", stream=STREAM_FAST) == 0


def test_check_live_needs_only_the_metrics_listener(harness):
    """The image's HEALTHCHECK (codeinsight-worker --check-live) asks the
    worker's /livez and nothing else: it needs CODEINSIGHT_METRICS_PORT
    (and _BIND), not DATABASE_URL, REDIS_URL or any setting the worker
    itself needs, and judges none of those (the worker did, at start)."""
    port = free_port()
    worker = harness.start_worker("fast", {"CODEINSIGHT_METRICS_PORT": port})
    worker.wait_for_log("metrics_listening", port=port)

    def check_live(env):
        return subprocess.run([str(harness.binary("codeinsight-worker")), "--check-live"],
                              env=env, capture_output=True, text=True, timeout=30)
    r = check_live({"CODEINSIGHT_METRICS_PORT": str(port)})
    assert r.returncode == 0, r
    r = check_live({"CODEINSIGHT_METRICS_PORT": str(port), "DATABASE_URL": "",
                    "CODEINSIGHT_JOB_TTL": "-1", "CODEINSIGHT_LLM_PRICES": "garbage"})
    assert r.returncode == 0, r
    # Its own settings are still judged, each by name.
    for env, name in [({"CODEINSIGHT_METRICS_PORT": "metrics"}, "CODEINSIGHT_METRICS_PORT"),
                      ({"CODEINSIGHT_METRICS_PORT": str(port),
                        "CODEINSIGHT_METRICS_BIND": "localhost"}, "CODEINSIGHT_METRICS_BIND")]:
        r = check_live(env)
        assert r.returncode == 2 and name in r.stdout + r.stderr, r
    r = check_live({})
    assert r.returncode == 2 and "CODEINSIGHT_METRICS_PORT is 0" in r.stderr, r
    assert worker.alive()


def test_queue_info_pending_dead_letters_and_deferred(harness, gateway, clean_state):
    # An entry delivered to a consumer and not acknowledged, by hand.
    harness.redis_cli("XGROUP", "CREATE", STREAM_FAST, GROUP_FAST, "0", "MKSTREAM")
    entry = harness.redis_cli("XADD", STREAM_FAST, "*", "probe", "1")
    harness.redis_cli("XREADGROUP", "GROUP", GROUP_FAST, "probe-consumer", "COUNT", "1",
                      "STREAMS", STREAM_FAST, ">")
    harness.redis_cli("XADD", f"{STREAM_FAST}:dead", "*", "job_id", "x")
    harness.redis_cli("ZADD", f"deferred:{STREAM_HEAVY}", "1", "some-job")

    info = queue_info(harness)
    fast, heavy = info["streams"][STREAM_FAST], info["streams"][STREAM_HEAVY]
    assert fast["length"] == 1 and fast["pending"] == 1, fast
    assert fast["lag"] == 0, fast
    assert fast["oldest_pending_id"] == entry, fast
    assert 0 <= fast["oldest_pending_age_s"] < 60, fast
    assert [c["name"] for c in fast["consumers"]] == ["probe-consumer"], fast
    assert fast["consumers"][0]["pending"] == 1 and fast["consumers"][0]["active"] is True
    assert fast["consumers_active"] == 1 and fast["dead_letters"] == 1, fast
    assert fast["recommended_workers"] >= 1, fast
    # Nothing queued, but a deferred job needs a worker to put it back.
    assert heavy["length"] == 0 and heavy["deferred"] == 1, heavy
    assert heavy["recommended_workers"] == 1, heavy

    samples = parse(scrape_gateway(harness))
    assert value(samples, "codeinsight_stream_pending", stream=STREAM_FAST) == 1
    assert value(samples, "codeinsight_stream_lag", stream=STREAM_FAST) == 0
    assert value(samples, "codeinsight_dead_letters", stream=STREAM_FAST) == 1
    assert value(samples, "codeinsight_deferred_jobs", stream=STREAM_HEAVY) == 1

    # An undelivered entry deleted (as job_defer.lua and XDEL after XACK do
    # when entries finish out of order): Redis can no longer tell the lag,
    # so the gauge is omitted rather than wrong.
    gone = harness.redis_cli("XADD", STREAM_FAST, "*", "probe", "2")
    harness.redis_cli("XADD", STREAM_FAST, "*", "probe", "3")
    harness.redis_cli("XDEL", STREAM_FAST, gone)
    fast = queue_info(harness)["streams"][STREAM_FAST]
    assert fast["lag"] is None and fast["length"] == 2 and fast["pending"] == 1, fast
    samples = parse(scrape_gateway(harness))
    assert value(samples, "codeinsight_stream_lag", stream=STREAM_FAST) is None
    assert value(samples, "codeinsight_stream_length", stream=STREAM_FAST) == 2


def test_stats_shape(harness, gateway, clean_state):
    port = free_port()
    harness.start_worker("fast", {"CODEINSIGHT_METRICS_PORT": port})
    ids = [harness.submit(file_path=f"s_{i}.py", file_content=PY_CLEAN) for i in range(2)]
    harness.poll_jobs(ids, timeout=120)
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    status, _, body = harness.http("GET", "/stats", auth=harness.operator_key())
    assert status == 200, body
    assert re.match(r"^\d{4}-\d{2}$", body["month"]), body
    jobs = body["jobs"]
    assert jobs["total"] == 2, body
    assert jobs["by_status"] == {"queued": 0, "running": 0, "done": 2, "failed": 0,
                                 "cancelled": 0}, body
    assert jobs["by_type"] == {"review": 2, "debug": 0, "architecture": 0, "stress": 0}, body
    assert jobs["by_type_status"]["review"]["done"] == 2, body
    assert set(jobs["by_type_status"]) == {"review", "debug", "architecture", "stress"}, body
    users = harness.psql_int("SELECT count(*) FROM users")
    keys = harness.psql_int("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL")
    assert body["users"] == users and body["api_keys_active"] == keys, body
    assert isinstance(body["tokens_this_month"], int) and body["tokens_this_month"] >= 0
    assert isinstance(body["cost_usd_this_month"], (int, float))
    assert set(body["queue"]) == set(STREAMS), body
    for s in body["queue"].values():
        assert set(s) >= {"length", "pending", "lag", "dead_letters", "deferred"}, s
        assert s["length"] == 0 and s["pending"] == 0, s


def test_metrics_survive_redis_outage(harness, gateway, clean_state):
    harness.submit(file_path="o.py", file_content=PY_CLEAN)
    assert value(parse(scrape_gateway(harness)), "codeinsight_stream_length",
                 stream=STREAM_FAST) == 1
    harness.stop_redis()
    try:
        text = scrape_gateway(harness)
        promtool_check(text)
        samples = parse(text)
        assert value(samples, "codeinsight_queue_read_ok") == 0
        assert not any(name.startswith("codeinsight_stream_") for name, _ in samples), text
        assert_problem(harness.http("GET", "/queue/info"), 503, "redis_unavailable")
    finally:
        harness.start_redis()
    samples = wait_until(lambda: (lambda s: s if value(s, "codeinsight_queue_read_ok") == 1
                                  else None)(parse(scrape_gateway(harness))),
                         timeout=10, desc="queue gauges back after Redis restarted")
    assert value(samples, "codeinsight_stream_length", stream=STREAM_FAST) is not None


def go_src(tag: str) -> str:
    """A Go file (no linter runs for Go) carrying tag, so the fake model can
    tell jobs apart."""
    return f"package svc\n\n// {tag}\nfunc Value(xs []int) int {{\n\treturn xs[0] + len(xs)\n}}\n"


def test_model_metrics(harness, gateway, clean_state):
    """Model calls by outcome, latency, tokens, cost and the prompt cache,
    against the fake model; admissions answered by the result cache."""
    key = "sk-ant-e2e-" + secrets.token_urlsafe(24)
    harness.remember(key)
    fake = FakeModel.start(harness.tmpdir / "fake-llm-metrics", name="fake-llm-metrics")
    try:
        ok_tag, bad_tag = "m" + secrets.token_hex(6), "m" + secrets.token_hex(6)
        # Three fixes: new lines that apply, a diff that does not, new lines
        # that end with line 4 again (a neighbour copied as context).
        findings = [
            finding(5, "xs[0] panics on an empty slice.",
                    "\tif len(xs) == 0 {\n\t\treturn 0\n\t}\n\treturn xs[0] + len(xs)\n"),
            finding(4, "A diff against another file.",
                    "--- a/a.go\n+++ b/a.go\n@@ -9 +9 @@\n-x\n+y\n"),
            finding(3, "The comment does not say what Value returns.",
                    "// Value: the first element plus the length.\nfunc Value(xs []int) int {\n"),
        ]
        fake.script([{"match": ok_tag, "text": answer(findings, "Fine."),
                      "usage": {"input_tokens": 1_000_000, "output_tokens": 200_000,
                                "cache_creation_input_tokens": 100_000,
                                "cache_read_input_tokens": 500_000}},
                     {"match": bad_tag, "fault": "401", "times": 10}])
        port = free_port()
        harness.start_worker("fast", {
            "CODEINSIGHT_METRICS_PORT": port, "CODEINSIGHT_LLM_PROVIDER": "anthropic",
            "CODEINSIGHT_LLM_BASE_URL": fake.base_url, "ANTHROPIC_API_KEY": key,
            "CODEINSIGHT_LLM_TIMEOUT_MS": "5000", "CODEINSIGHT_BREAKER_THRESHOLD": "1000"})
        before = parse(scrape_gateway(harness))

        first = harness.poll_job(harness.submit(file_path="a.go", file_content=go_src(ok_tag)))
        assert first["status"] == "done" and first["degraded"] is False, first
        # Same prompt, different submission: the prompt cache answers.
        second = harness.poll_job(harness.submit(file_path="a.go", file_content=go_src(ok_tag),
                                                 error_log="unrelated\n"))
        assert second["cached"] is True, second
        third = harness.poll_job(harness.submit(file_path="b.go", file_content=go_src(bad_tag)))
        assert third["degraded"] is True, third
        # The first submission again: the gateway's result cache answers.
        wait_until(lambda: harness.redis_cli("--scan", "--pattern", "rcache:*"), timeout=10,
                   desc="a result-cache entry")
        status, headers, _ = harness.http("POST", "/review", {
            "file_path": "a.go", "file_content": go_src(ok_tag), "request_type": "review"})
        assert status == 200 and headers.get("X-Cache") == "hit", status

        status, _, text = scrape_worker(port)
        assert status == 200, text
        promtool_check(text)
        ws = parse(text)
        assert value(ws, "codeinsight_model_calls_total", provider="anthropic",
                     outcome="ok") == 1, text
        assert value(ws, "codeinsight_model_calls_total", provider="anthropic",
                     outcome="client_error") == 1, text
        # The outcomes that did not happen read 0 (present from the start,
        # so that an alert on increase() sees the first one).
        for outcome in ("rate_limited", "server_error", "timeout", "unreachable", "malformed",
                        "no_text", "spend_limit", "circuit_open", "refused", "error"):
            assert value(ws, "codeinsight_model_calls_total", provider="anthropic",
                         outcome=outcome) == 0, (outcome, text)
        assert value(ws, "codeinsight_model_call_duration_seconds_count",
                     provider="anthropic") == 2
        assert value(ws, "codeinsight_model_calls_in_flight") == 0
        tokens = {k: value(ws, "codeinsight_model_tokens_total", kind=k)
                  for k in ("input", "output", "cache_write", "cache_read")}
        assert tokens == {"input": 1_000_000, "output": 200_000, "cache_write": 100_000,
                          "cache_read": 500_000}, tokens
        # $3/M in, $15/M out, $3.75/M cache write, $0.30/M cache read
        assert value(ws, "codeinsight_model_cost_usd_total") == pytest.approx(6.525, abs=1e-6)
        assert value(ws, "codeinsight_prompt_cache_lookups_total", result="hit") == 1
        assert value(ws, "codeinsight_prompt_cache_lookups_total", result="miss") == 2
        # The model's answer validated twice (its call, then the prompt cache).
        fixes = {(f, o): value(ws, "codeinsight_model_fixes_total", form=f, outcome=o)
                 for f, o in (("lines", "kept"), ("lines", "redacted"),
                              ("lines", "repeats_neighbour"), ("lines", "misplaced"),
                              ("lines", "unchanged"),
                              ("lines", "invalid"), ("diff", "kept"),
                              ("diff", "does_not_apply"), ("diff", "redacted"),
                              ("diff", "outside_lines"), ("lines", "unseen_lines"),
                              ("diff", "unseen_lines"))}
        assert fixes == {("lines", "kept"): 2, ("lines", "redacted"): 0,
                         ("lines", "repeats_neighbour"): 2, ("lines", "misplaced"): 0,
                         ("lines", "unchanged"): 0,
                         ("lines", "invalid"): 0, ("diff", "kept"): 0,
                         ("diff", "does_not_apply"): 2, ("diff", "redacted"): 0,
                         ("diff", "outside_lines"): 0, ("lines", "unseen_lines"): 0,
                         ("diff", "unseen_lines"): 0}, fixes
        assert [(f["line"], bool(f.get("fix"))) for f in first["findings"]] == \
            [(3, False), (4, False), (5, True)], first
        assert value(ws, "codeinsight_jobs_total", type="review", outcome="done") == 2
        assert value(ws, "codeinsight_jobs_total", type="review", outcome="degraded") == 1

        after = wait_until(
            lambda: (lambda s: s if value(s, "codeinsight_admissions_total", outcome="cached")
                     == (value(before, "codeinsight_admissions_total", outcome="cached") or 0) + 1
                     else None)(parse(scrape_gateway(harness))),
            timeout=5, desc="one cached admission")
        assert value(after, "codeinsight_admissions_total", outcome="admitted") == \
            value(before, "codeinsight_admissions_total", outcome="admitted") + 3
    finally:
        fake.stop()


ALERT_RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yaml"
# Labels Prometheus adds to every scraped series, and the histogram's own.
SCRAPE_LABELS = {"instance", "job", "le"}


def test_alert_rules_read_what_is_exposed(harness, gateway, clean_state):
    """Every metric deploy/prometheus/alerts.yaml reads is one the gateway or
    a worker exposes (it has a TYPE line), and every label the rules match
    or group by is one its samples carry: a metric or label renamed in the
    code cannot leave an alert that silently never fires. (promtool checks
    the rules' syntax and their behaviour: tests/deploy/test_alerts.py.)"""
    import yaml
    port = free_port()
    # A worker with a model and a MongoDB history (neither answers: the job
    # ends degraded, its history write fails) exposes their metrics too.
    harness.start_worker("fast", {
        "CODEINSIGHT_METRICS_PORT": port, "CODEINSIGHT_LLM_PROVIDER": "anthropic",
        "CODEINSIGHT_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "ANTHROPIC_API_KEY": "sk-ant-e2e-unused", "CODEINSIGHT_LLM_MAX_ATTEMPTS": "1",
        "CODEINSIGHT_MONGO_URL": f"mongodb://127.0.0.1:{free_port()}/"})
    harness.poll_job(harness.submit(file_path="a.py", file_content="import os\n"))
    families, labels_of = set(), {}
    status, _, worker_text = scrape_worker(port)
    assert status == 200, worker_text
    for text in (scrape_gateway(harness), worker_text):
        families |= {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
        for name, labels in parse(text):
            labels_of.setdefault(name, set()).update(k for k, _ in labels)
    rules = yaml.safe_load(ALERT_RULES.read_text())["groups"][0]["rules"]
    assert len(rules) >= 10, rules
    for rule in rules:
        expr, alert = rule["expr"], rule["alert"]
        refs = re.findall(r"\b(codeinsight_[a-z_]+)(\{[^}]*\})?", expr)
        assert refs, (alert, expr)
        for name, matchers in refs:
            family = name if name in families else re.sub(r"_(bucket|sum|count)$", "", name)
            assert family in families, f"{alert} reads {name}, which nothing exposes"
            used = set(re.findall(r"([a-z_]+)\s*(?:=~|!~|!=|=)", matchers))
            if name in labels_of:           # it has samples: their labels are known
                assert used <= labels_of[name] | SCRAPE_LABELS, (alert, name, used,
                                                                 labels_of[name])
        grouped = {x.strip() for g in re.findall(r"\bby \(([^)]*)\)", expr) for x in g.split(",")}
        for label in grouped - SCRAPE_LABELS:
            assert any(label in labels_of.get(n, set()) for n, _ in refs), (alert, label)
