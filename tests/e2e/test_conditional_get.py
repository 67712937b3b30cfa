"""Conditional polls of GET /job/:id (gateway/etag.h): every 200 carries a
strong ETag naming its bytes; a poll whose If-None-Match names it gets 304
Not Modified without a body, until the job's view changes (queued, running,
done), so a client polling a job or re-checking a finished one downloads
each state once. Each export has its own tag. A tag never bypasses the
checks before it: someone else's job is 404, an unknown format 400.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_conditional_get.py
"""

from __future__ import annotations

import re

from harness import assert_problem

TAG = re.compile(r'^"[0-9a-f]{32}"$')


def get(harness, jid: str, tag: str | None = None, fmt: str | None = None):
    path = f"/job/{jid}" + (f"?format={fmt}" if fmt else "")
    return harness.http("GET", path, headers={"If-None-Match": tag} if tag else None)


def test_a_poll_is_answered_304_until_the_job_changes(harness, gateway, clean_state):
    jid = harness.submit(file_path="etag/app.py", file_content="import os\n")
    status, headers, queued = get(harness, jid)
    assert status == 200 and queued["status"] == "queued", queued
    tag = headers.get("ETag")
    assert tag and TAG.match(tag), headers

    # Nothing changed: 304, the same tag, no body; each form of the list.
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        status, h304, body = get(harness, jid, header)
        assert (status, h304.get("ETag"), body) == (304, tag, ""), (header, status, body)
        assert h304.get("Content-Type") is None
    # Another tag, or a malformed list: the whole view.
    for header in ('"0123456789abcdef0123456789abcdef"', f"{tag} junk", tag[1:]):
        status, h200, body = get(harness, jid, header)
        assert (status, h200.get("ETag"), body) == (200, tag, queued), header

    # The job runs and finishes: the old tag no longer matches.
    harness.start_worker("fast")
    done = harness.poll_job(jid, timeout=30)
    assert done["status"] == "done", done
    status, headers, body = get(harness, jid, tag)
    assert status == 200 and body == done, (status, body)
    done_tag = headers.get("ETag")
    assert TAG.match(done_tag) and done_tag != tag
    status, _, body = get(harness, jid, done_tag)
    assert (status, body) == (304, "")


def test_each_export_has_its_own_tag(harness, gateway, clean_state):
    harness.start_worker("fast")
    jid = harness.submit(file_path="etag/run.sh", file_content="echo $1\n")
    assert harness.poll_job(jid, timeout=30)["status"] == "done"
    tags = {}
    for fmt in ("json", "sarif", "rdjson"):
        status, headers, body = get(harness, jid, fmt=fmt)
        assert status == 200 and TAG.match(headers.get("ETag") or ""), (fmt, headers)
        tags[fmt] = headers["ETag"]
        status, headers, body = get(harness, jid, tags[fmt], fmt=fmt)
        assert (status, headers.get("ETag"), body) == (304, tags[fmt], ""), fmt
    assert len(set(tags.values())) == 3, tags
    # The JSON view's tag does not stand for the SARIF log.
    status, _, body = get(harness, jid, tags["json"], fmt="sarif")
    assert status == 200 and body["version"] == "2.1.0"


def test_a_tag_bypasses_no_check(harness, gateway, clean_state):
    harness.start_worker("fast")
    jid = harness.submit(file_path="etag/x.py", file_content="x = 1\n")
    harness.poll_job(jid, timeout=30)
    _, headers, _ = get(harness, jid)
    tag = headers["ETag"]
    _, _, other = harness.new_user(plan="pro")
    assert_problem(harness.http("GET", f"/job/{jid}", headers={"If-None-Match": tag},
                                auth=other), 404, "job_not_found")
    assert_problem(harness.http("GET", f"/job/{jid}", headers={"If-None-Match": "*"},
                                auth=None), 401, "missing_credentials")
    assert_problem(get(harness, jid, tag, fmt="yaml"), 400, "invalid_field_value")
