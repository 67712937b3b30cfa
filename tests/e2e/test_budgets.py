"""Monthly token budgets (docs/admission.md, "Token budgets"): the estimate
reserved at admission, the 90% soft throttle, degradation past 100% (never a
refusal), the Redis counter rebuilt from the PostgreSQL ledger, the race of
64 concurrent submissions against a budget that fits exactly 10 model jobs,
and the worker's reconciliation (once per job, even when a job runs twice).

Months are calendar months in UTC; a test that straddles midnight at the end
of a month may fail once."""

import datetime as dt
import json
import math
import re
import secrets
import threading

import pytest

from fakemodel import EMPTY_ANSWER, anthropic_env, module_fake
from harness import GROUP_FAST, STREAM_FAST, wait_until

ANTHROPIC_KEY = "sk-ant-e2e-" + secrets.token_urlsafe(24)

LITE_BUDGET = 200_000
TEMPLATE_OVERHEAD = 1500
MAX_TOKENS = {"review": 2048, "debug": 4096, "architecture": 8192}
WARNING_RE = re.compile(r'^299 codeinsight ".+"$')


# A diff whose new side is the debug case's file_content ("d" * 401).
DEBUG_DIFF = "@@ -0,0 +1 @@\n+" + "d" * 401 + "\n\\ No newline at end of file\n"


# Model calls a job may make: a debug job's CODEINSIGHT_DEBUG_FIX_ATTEMPTS
# (default 2) rounds, one otherwise.
ROUNDS = {"debug": 2}


def estimate(request_type, nbytes):
    """ceil(bytes/4) of file + diff + error log, + 1,500, + the task's
    max_tokens, for each model call the job may make."""
    return ROUNDS.get(request_type, 1) * (math.ceil(nbytes / 4) + TEMPLATE_OVERHEAD +
                                          MAX_TOKENS[request_type])


def month():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


@pytest.fixture(scope="module")
def budget_gw(harness):
    # Rates scaled 10x (lite submit burst 100): the budget, not the bucket,
    # is what these tests exercise.
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "1000",
                                  "CODEINSIGHT_THROTTLE_COOLDOWN": "0"}, default=True)


def usage(harness, key):
    status, _, me = harness.http("GET", "/whoami", auth=key)
    assert status == 200, me
    assert me["usage"]["month"] == month(), me
    return me


def post(harness, key, body, headers=None):
    return harness.http("POST", "/review", body, headers=headers, auth=key, timeout=30)


def hot(harness, job_id, field):
    """A field of the job's hot copy: its stream entry while it is queued,
    its hash once a worker took it (the entry first: the hash is written
    from it)."""
    entry = harness.queued_entry(job_id)
    if entry is not None:
        return entry.get(field, "")
    return harness.redis_cli("HGET", f"job:{job_id}", field)


def review_body(path, content):
    return {"file_path": path, "file_content": content, "request_type": "review"}


def warnings_of(body):
    w = body.get("warnings", [])
    assert isinstance(w, list) and all(isinstance(x, str) for x in w), body
    return w


# ---- the estimate -----------------------------------------------------------

def test_estimate_reserved_at_admission(harness, budget_gw):
    _, user_id, key = harness.new_user("lite", tag="estimate")
    cases = [
        ({"file_path": "e.py", "file_content": "\u00e9" * 3, "request_type": "review"}, 6),
        ({"file_path": "d.py", "file_content": "d" * 401, "diff": DEBUG_DIFF,
          "error_log": "E" * 33, "request_type": "debug"}, 401 + len(DEBUG_DIFF) + 33),
        # architecture: what the model reads is the request, not a file
        ({"file_path": "a.py", "file_content": "f" * 50, "user_request": "a" * 1001,
          "request_type": "architecture"}, 1001),
    ]
    total = 0
    for body, nbytes in cases:
        status, headers, resp = post(harness, key, body)
        assert status == 202, resp
        assert warnings_of(resp) == [] and headers.get("Warning") is None, resp
        total += estimate(body["request_type"], nbytes)
        me = usage(harness, key)
        assert me["usage"]["tokens_reserved"] == total, (body["request_type"], me["usage"])
        assert me["usage"]["tokens_used"] == 0
        assert hot(harness, resp["job_id"], "throttled") == "0"
        assert hot(harness, resp["job_id"], "degraded") == "0"
    assert harness.redis_cli("HGET", f"budget:{user_id}:{month()}", "reserved") == str(total)


# ---- soft throttle ----------------------------------------------------------

def test_soft_throttle_above_90_percent(harness, budget_gw):
    _, user_id, key = harness.new_user("lite", tag="soft")
    est = estimate("review", 400)
    harness.precharge(user_id, 178_000)                # 178,000 + 3,648 = 90.8%
    status, headers, body = post(harness, key, review_body("soft.txt", "s" * 400))
    assert status == 202, body
    w = warnings_of(body)
    assert len(w) == 1 and w[0].startswith("soft_throttled"), body
    assert "degraded" not in w[0]
    assert WARNING_RE.match(headers.get("Warning") or ""), headers
    job_id = body["job_id"]
    assert hot(harness, job_id, "throttled") == "1"
    assert hot(harness, job_id, "degraded") == "0"
    status, job = harness.get_job(job_id, auth=key)
    assert status == 200, job
    assert job["throttled"] is True and job["degraded"] is False, job
    assert job["degraded_reason"] is None, job
    me = usage(harness, key)
    assert me["usage"]["tokens_used"] == 178_000      # rebuilt from the ledger
    assert me["usage"]["tokens_reserved"] == est      # reserved although throttled
    assert me["soft_throttled"] is True, me


def test_just_below_90_percent_is_admitted_normally(harness, budget_gw):
    _, user_id, key = harness.new_user("lite", tag="ninety")
    est = estimate("review", 400)
    harness.precharge(user_id, LITE_BUDGET * 90 // 100 - est - 1)   # lands one below 180,000
    status, headers, body = post(harness, key, review_body("ninety.txt", "n" * 400))
    assert status == 202, body
    assert warnings_of(body) == [] and headers.get("Warning") is None, (body, headers)
    assert hot(harness, body["job_id"], "throttled") == "0"


def test_exactly_90_percent_is_soft_throttled(harness, budget_gw):
    """The issue says "≥ 90% used: soft throttle": landing on 90% exactly throttles."""
    _, user_id, key = harness.new_user("lite", tag="ninety-exact")
    est = estimate("review", 400)
    harness.precharge(user_id, LITE_BUDGET * 90 // 100 - est)   # lands on 180,000 exactly
    status, headers, body = post(harness, key, review_body("ninety-x.txt", "n" * 400))
    assert status == 202, body
    w = warnings_of(body)
    assert len(w) == 1 and w[0].startswith("soft_throttled"), body
    assert hot(harness, body["job_id"], "throttled") == "1"


def test_exactly_100_percent_is_not_degraded(harness, budget_gw):
    _, user_id, key = harness.new_user("lite", tag="hundred")
    est = estimate("review", 400)
    harness.precharge(user_id, LITE_BUDGET - est)
    status, _, body = post(harness, key, review_body("full.txt", "f" * 400))
    assert status == 202, body
    w = warnings_of(body)
    assert len(w) == 1 and w[0].startswith("soft_throttled"), body
    assert hot(harness, body["job_id"], "degraded") == "0"
    # one token more would exceed the budget: degraded, nothing reserved
    status, headers, body = post(harness, key, review_body("over.txt", "o"))
    assert status == 202, body
    w = warnings_of(body)
    assert len(w) == 1 and w[0].startswith("degraded"), body
    assert WARNING_RE.match(headers.get("Warning") or ""), headers
    assert usage(harness, key)["usage"]["tokens_reserved"] == est


def test_degraded_is_never_refused(harness, budget_gw):
    _, user_id, key = harness.new_user("lite", tag="broke")
    harness.precharge(user_id, LITE_BUDGET * 3)        # far over the budget
    for kind in ("review", "debug", "architecture"):
        body = {"file_path": f"broke.{kind}.py", "file_content": "x = 1\n", "request_type": kind,
                "error_log": "E: boom\n", "user_request": "a cache"}
        status, headers, resp = post(harness, key, body)
        assert status == 202, resp
        assert [w.split(":")[0] for w in warnings_of(resp)] == ["degraded"], resp
        assert WARNING_RE.match(headers.get("Warning") or ""), headers
        job_id = resp["job_id"]
        assert hot(harness, job_id, "degraded") == "1"
        assert hot(harness, job_id, "degraded_reason") == "budget_exhausted"
        status, job = harness.get_job(job_id, auth=key)
        assert job["degraded"] is True and job["degraded_reason"] == "budget_exhausted", job
    me = usage(harness, key)
    assert me["usage"]["tokens_reserved"] == 0, me
    assert me["usage"]["tokens_used"] == LITE_BUDGET * 3, me
    assert me["degraded"] is True, me


def test_degraded_jobs_end_without_the_model(harness, budget_gw):
    """Past its budget a job is never sent to the model, however it is
    configured: a review ends with its linters' findings, a Debug Doctor job
    with the root cause its trace shows, and an architecture job, which has
    no static fallback, fails saying why. None of them is charged."""
    _, user_id, key = harness.new_user("lite", tag="degraded-run")
    harness.precharge(user_id, LITE_BUDGET * 2)
    m = "degraded_" + secrets.token_hex(4)
    trace = ('Traceback (most recent call last):\n'
             '  File "app.py", line 3, in <module>\n'
             '    print(1 / 0)\n'
             'ZeroDivisionError: division by zero\n')
    bodies = {
        "review": review_body("app.py", f"import os\n# {m}\nprint(1)\n"),
        "debug": {"file_path": "app.py", "file_content": f"# {m}\n\nprint(1 / 0)\n",
                  "request_type": "debug", "error_log": trace},
        "architecture": {"file_path": "design.md", "file_content": "", "request_type":
                         "architecture", "user_request": f"A URL shortener {m}"},
    }
    with module_fake(harness, "budget-fake", [ANTHROPIC_KEY]) as fake:
        env = {**anthropic_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
               "CODEINSIGHT_READ_BLOCK_MS": "200"}
        harness.start_worker("fast", env)
        harness.start_worker("heavy", env)
        try:
            jobs = {}
            for kind, body in bodies.items():
                status, _, resp = post(harness, key, body)
                assert status == 202 and warnings_of(resp)[0].startswith("degraded"), resp
                jobs[kind] = harness.poll_job(resp["job_id"], auth=key, timeout=60)
            assert fake.count(m) == 0, "a job past its budget asked the model"
        finally:
            harness.stop_workers()
    review, debug, arch = jobs["review"], jobs["debug"], jobs["architecture"]
    assert review["status"] == "done" and review["degraded_reason"] == "budget_exhausted", review
    assert {(f["source"], f["rule_id"]) for f in review["findings"]} >= {("lint:flake8", "F401")}
    assert all(f["source"] != "model" for f in review["findings"]), review["findings"]
    assert debug["status"] == "done" and debug["degraded_reason"] == "budget_exhausted", debug
    assert debug["root_cause"] == "ZeroDivisionError: division by zero at app.py:3 in <module>"
    assert debug["fix"] is None and debug["explanation"] is None, debug
    assert arch["status"] == "failed", arch
    assert arch["error"] == ("needs a model: the architecture generator has no static fallback "
                             "(budget_exhausted)"), arch
    for job in jobs.values():
        tokens = harness.psql_int(f"SELECT COALESCE(sum(tokens), 0) FROM token_charges "
                                  f"WHERE job_id = '{job['job_id']}'")
        assert tokens == 0, job


# ---- a counter lost while jobs run ------------------------------------------

def test_a_counter_lost_while_jobs_run(harness, budget_gw):
    """Redis loses a user's counter while a job of theirs asks the model, and
    their next submission rebuilds it from the ledger. The job that ran
    through the loss releases nothing from the new counter, which never held
    its reservation (the reservations of the jobs admitted since stay
    whole), and its charge, saved to the ledger, is read from there again
    rather than added: counted neither twice nor never (lib/budget.lua)."""
    _, user_id, key = harness.new_user("lite", tag="lost-counter")
    harness.precharge(user_id, 1000)
    m = "lost_counter_" + secrets.token_hex(4)
    body_a = review_body("a.py", f"# {m}_a\n" + "a = 1\n" * 200)
    body_c = review_body("c.py", f"# {m}_c\nc = 1\n")
    est_c = estimate("review", len(body_c["file_content"]))
    counter = f"budget:{user_id}:{month()}"

    def ledger_sum():
        return harness.psql_int(f"SELECT COALESCE(sum(tokens), 0) FROM token_charges "
                                f"WHERE user_id = '{user_id}' AND month = '{month()}'")

    with module_fake(harness, "budget-lost", [ANTHROPIC_KEY]) as fake:
        fake.script([{"match": f"{m}_a", "latency_ms": 4000, "text": EMPTY_ANSWER, "times": 10},
                     {"match": f"{m}_c", "latency_ms": 15000, "text": EMPTY_ANSWER,
                      "times": 10}])
        env = {**anthropic_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
               "CODEINSIGHT_READ_BLOCK_MS": "200"}
        harness.start_worker("fast", env)
        try:
            status, _, a = post(harness, key, body_a)
            assert status == 202, a
            wait_until(lambda: fake.count(f"{m}_a") >= 1, timeout=30, desc="job a at the model")
            harness.redis_cli("DEL", counter)             # Redis lost it
            status, _, c = post(harness, key, body_c)     # rebuilt from the ledger
            assert status == 202, c
            assert harness.redis_cli("HGET", counter, "used") == "1000"
            assert usage(harness, key)["usage"]["tokens_reserved"] == est_c

            job_a = harness.poll_job(a["job_id"], auth=key, timeout=60)
            assert job_a["status"] == "done", job_a
            assert fake.count(f"{m}_c") == 1 and \
                harness.poll_job(c["job_id"], until=("running",), auth=key)
            me = usage(harness, key)["usage"]
            assert me["tokens_reserved"] == est_c, me     # c's, whole
            assert me["tokens_used"] == ledger_sum() > 1000, me

            job_c = harness.poll_job(c["job_id"], auth=key, timeout=60)
            assert job_c["status"] == "done", job_c
            me = usage(harness, key)["usage"]
            assert me == {**me, "tokens_reserved": 0, "tokens_used": ledger_sum()}, me
            # The next admission reads 'used' from the ledger again.
            status, _, d = post(harness, key, review_body("d.py", f"# {m}_d\n"))
            assert status == 202, d
            assert harness.redis_cli("HGET", counter, "used") == str(ledger_sum())
            assert harness.redis_int("HEXISTS", counter, "stale") == 0
            harness.poll_job(d["job_id"], auth=key, timeout=60)
        finally:
            harness.stop_workers()


# ---- the race, and reconciliation ---------------------------------------------

RACE_N = 64
RACE_FIT = 10
RACE_CONTENT = "r" * 400     # no newline: the stream entry is re-added verbatim below


@pytest.fixture(scope="module")
def race(harness, budget_gw):
    """64 concurrent submissions by a user whose budget fits exactly 10."""
    email, user_id, key = harness.new_user("lite", tag="race")
    est = estimate("review", len(RACE_CONTENT))
    pre = LITE_BUDGET - RACE_FIT * est
    harness.precharge(user_id, pre)
    results = [None] * RACE_N
    barrier = threading.Barrier(RACE_N)

    def one(i):
        body = review_body(f"race/f{i:02d}.txt", RACE_CONTENT)
        try:
            barrier.wait(30)
            results[i] = post(harness, key, body)
        except Exception as e:  # noqa: BLE001 - reported by the test
            results[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(RACE_N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return {"user_id": user_id, "key": key, "est": est, "pre": pre, "results": results}


def test_race_admits_exactly_what_fits(harness, race):
    res = race["results"]
    errors = [r for r in res if not isinstance(r, tuple)]
    assert not errors, errors[:3]
    assert [r[0] for r in res] == [202] * RACE_N, [(r[0], r[2]) for r in res if r[0] != 202][:3]
    model, degraded = [], []
    for status, headers, body in res:
        w = warnings_of(body)
        if any("degraded" in x for x in w):
            assert len(w) == 1 and w[0].startswith("degraded"), body
            assert WARNING_RE.match(headers.get("Warning") or ""), headers
            degraded.append(body["job_id"])
        else:
            model.append((body["job_id"], w, headers.get("Warning")))
    assert len(model) == RACE_FIT, f"{len(model)} admitted with a model, {len(degraded)} degraded"
    assert len(degraded) == RACE_N - RACE_FIT
    # Over 90% from the 5th model job on (163,520 + 5 x 3,648 = 181,760).
    est, pre = race["est"], race["pre"]
    want_throttled = sum(1 for k in range(1, RACE_FIT + 1)
                         if pre + k * est > LITE_BUDGET * 0.9)
    throttled = [m for m in model if m[1]]
    assert len(throttled) == want_throttled, model
    for job_id, w, warning in model:
        if w:
            assert len(w) == 1 and w[0].startswith("soft_throttled"), w
            assert WARNING_RE.match(warning or ""), warning
        else:
            assert warning is None, warning
        assert hot(harness, job_id, "degraded") == "0"
        assert hot(harness, job_id, "throttled") == ("1" if w else "0")
    for job_id in degraded:
        assert hot(harness, job_id, "degraded") == "1"
        assert hot(harness, job_id, "degraded_reason") == "budget_exhausted"
    race["model"] = [m[0] for m in model]
    race["degraded"] = degraded


def test_race_reservations(harness, race):
    me = usage(harness, race["key"])
    assert me["usage"]["tokens_reserved"] == RACE_FIT * race["est"], me["usage"]
    assert me["usage"]["tokens_used"] == race["pre"], me["usage"]   # rebuilt from the ledger
    assert me["soft_throttled"] is True, me
    counter = f"budget:{race['user_id']}:{month()}"
    assert harness.redis_cli("HGET", counter, "used") == str(race["pre"])
    assert harness.redis_cli("HGET", counter, "reserved") == str(RACE_FIT * race["est"])


def stream_entry(harness, job_id):
    """The fields of the review_jobs entry of job_id (before a worker ran),
    with the job id among them: put back under a new entry id, as a
    deferred job is (job_defer.lua), it is the same job."""
    fields = harness.queued_entry(job_id)
    assert fields is not None, f"no stream entry for {job_id}"
    return [x for kv in fields.items() for x in kv] + ["job_id", job_id]


def ledger(harness, user_id):
    return {r[0]: int(r[1]) for r in harness.psql_rows(
        f"SELECT job_id, tokens FROM token_charges WHERE user_id = '{user_id}' "
        f"AND month = '{month()}'")}


def test_reconciled_once_per_job(harness, race):
    assert "model" in race, "test_race_admits_exactly_what_fits did not run"
    key, user_id = race["key"], race["user_id"]
    all_jobs = race["model"] + race["degraded"]
    rerun = race["model"][0]
    entry = stream_entry(harness, rerun)       # before the worker acknowledges it

    worker = harness.start_worker("fast", {"CODEINSIGHT_THROTTLE_COOLDOWN": "0"})
    jobs = harness.poll_jobs(all_jobs, timeout=120, auth=key)
    assert {j["status"] for j in jobs.values()} == {"done"}, \
        {k: (v["status"], v["error"]) for k, v in jobs.items() if v["status"] != "done"}
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST, timeout=20)
    for jid in race["degraded"]:
        assert jobs[jid]["degraded"] is True and jobs[jid]["degraded_reason"] == "budget_exhausted"

    rows = ledger(harness, user_id)
    assert set(all_jobs) <= set(rows), f"{len(set(all_jobs) - set(rows))} jobs without a charge"
    assert len(rows) == RACE_N + 1, len(rows)          # + the pre-charge row
    n = harness.psql_int("SELECT count(*) FROM token_charges WHERE job_id IN (" +
                         ",".join(f"'{j}'" for j in all_jobs) + ")")
    assert n == RACE_N
    for jid in race["degraded"]:
        assert rows[jid] == 0, (jid, rows[jid])       # no model, no tokens
    me = usage(harness, key)
    assert me["usage"]["tokens_reserved"] == 0, me["usage"]
    assert me["usage"]["tokens_used"] == sum(rows.values()), (me["usage"], sum(rows.values()))

    # The same job delivered again (its entry queued again): not processed a
    # second time (job_start.lua finds it finished), not charged again.
    before = dict(rows)
    harness.redis_cli("EVAL", "return redis.call('XADD', KEYS[1], '*', "
                      "unpack(cjson.decode(ARGV[1])))", "1", STREAM_FAST, json.dumps(entry))
    wait_until(lambda: worker.events("job_already_finished", job_id=rerun), timeout=30,
               desc="the re-queued job retired")
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST, timeout=20)
    assert len(worker.events("job_done", job_id=rerun)) == 1
    assert ledger(harness, user_id) == before
    me = usage(harness, key)
    assert me["usage"]["tokens_reserved"] == 0, me["usage"]
    assert me["usage"]["tokens_used"] == sum(before.values()), me["usage"]
    assert worker.alive()
