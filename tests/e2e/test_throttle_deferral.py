"""Soft throttle (docs/admission.md, docs/pipeline.md): a job admitted over
90% of its user's monthly budget has its model call deferred by
CODEINSIGHT_THROTTLE_COOLDOWN, unless the prompt cache can answer it; once
due, it goes back on the stream and the model is called."""

import datetime as dt
import math
import secrets

import pytest

from fakemodel import FakeModel, answer
from harness import wait_until

LITE_BUDGET = 200_000


def month():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


def estimate(nbytes):
    return math.ceil(nbytes / 4) + 1500 + 2048


@pytest.fixture(scope="module")
def fake(harness):
    f = FakeModel.start(harness.tmpdir / "logs", name="fake-llm-throttle")
    yield f
    f.stop()


def model_env(fake, cooldown):
    return {"CODEINSIGHT_LLM_PROVIDER": "anthropic",
            "CODEINSIGHT_LLM_BASE_URL": f"http://127.0.0.1:{fake.port}",
            "ANTHROPIC_API_KEY": "test-key-" + secrets.token_hex(8),
            "CODEINSIGHT_THROTTLE_COOLDOWN": str(cooldown)}


@pytest.fixture(scope="module")
def gw(harness, fake):
    env = model_env(fake, 3600)
    env.pop("ANTHROPIC_API_KEY")
    env["CODEINSIGHT_RATE_LIMIT_SCALE"] = "1000"
    return harness.start_gateway(env, default=True)


def throttled_user(harness, tag, content):
    """A lite user whose next review of `content` lands over 90%."""
    _, user_id, key = harness.new_user("lite", tag=tag)
    harness.psql(f"INSERT INTO token_charges (job_id, user_id, month, tokens) VALUES "
                 f"(gen_random_uuid(), '{user_id}', '{month()}', "
                 f"{LITE_BUDGET * 92 // 100 - estimate(len(content))})")
    harness.redis_cli("DEL", f"budget:{user_id}:{month()}")
    return key


def submit(harness, key, path, content):
    status, _, body = harness.http("POST", "/review", {"file_path": path, "file_content": content,
                                                       "request_type": "review"}, auth=key)
    assert status == 202, body
    assert any(w.startswith("soft_throttled") for w in body.get("warnings", [])), body
    return body["job_id"]


def test_deferred_then_called_when_due(harness, gw, fake):
    fake.reset()
    marker = "deferme_" + secrets.token_hex(4)
    content = f"# {marker}\nx = 1\n"
    fake.script([{"match": marker, "text": answer([], "Looked at it later."), "times": 5}])
    key = throttled_user(harness, "defer", content)
    # Cooldown 3 s: long enough to see the job parked, short enough to wait for.
    w = harness.start_worker("fast", model_env(fake, 3))
    job_id = submit(harness, key, "deferred.go", content)

    def parked():
        st, job = harness.get_job(job_id, auth=key)
        return job if st == 200 and job.get("deferred_until") else None
    job = wait_until(parked, timeout=20, interval=0.1, desc="job parked with deferred_until")
    assert job["status"] == "queued" and job["throttled"] is True, job
    assert fake.count(marker) == 0, "the model was called before the cooldown"
    assert harness.redis_int("ZCARD", "deferred:review_jobs") >= 1

    done = harness.poll_job(job_id, timeout=30, auth=key)
    assert done["status"] == "done" and done["throttled"] is True, done
    assert done["degraded"] is False and done["summary"] == "Looked at it later.", done
    assert fake.count(marker) == 1
    assert w.events("job_deferred", job_id=job_id)
    # Charged once, reservation released.
    assert harness.psql_int(f"SELECT count(*) FROM token_charges WHERE job_id = '{job_id}'") == 1
    harness.stop_workers()


def test_prompt_cache_answers_a_throttled_job_at_once(harness, gw, fake):
    fake.reset()
    marker = "cached_" + secrets.token_hex(4)
    content = f"# {marker}\ny = 2\n"
    fake.script([{"match": marker, "text": answer([], "From the model."), "times": 5}])
    w = harness.start_worker("fast", model_env(fake, 3600))
    # Warm the prompt cache with an unthrottled user (same path, same content).
    _, _, warm_key = harness.new_user("business", tag="warm")
    status, _, body = harness.http("POST", "/review", {"file_path": "same.go",
                                                       "file_content": content,
                                                       "request_type": "review"}, auth=warm_key)
    assert status == 202, body
    first = harness.poll_job(body["job_id"], auth=warm_key)
    assert first["cached"] is False and fake.count(marker) == 1, first

    key = throttled_user(harness, "cachehit", content)
    job_id = submit(harness, key, "same.go", content)
    job = harness.poll_job(job_id, timeout=30, auth=key)
    assert job["status"] == "done" and job["cached"] is True, job
    assert job["throttled"] is True and not job.get("deferred_until"), job
    assert fake.count(marker) == 1, "a cached answer must not reach the model"
    assert not w.events("job_deferred", job_id=job_id)
    harness.stop_workers()
