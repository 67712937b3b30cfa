"""GET /jobs reads the hot copies of the caller's Redis index pipelined
(gateway/jobs.c recent_jobs: batches of JOBS_RECENT_SCAN ids, each read in a
few job_read_many round trips). Every reply must land on its own id: these
tests lay out 1,250 hand-written jobs whose type, status, owner and file
differ from one id to the next (hashes gone in the middle of a batch, some
of those persisted in PostgreSQL, an id of another owner, a read Redis
refuses, ids that name a stream entry next to ids that do not, a member
that is no job id), and compare every page of many walks with a model of
the listing (the behaviour before pipelining), field by field. A reply
given to the wrong id shows as a wrong type, status or file_path, a job
missing or one too many. The layout puts a page boundary exactly on a
batch boundary and a filter past JOBS_SCAN_MAX. Last, Redis drops the
connection in the middle of a page's reads: 200 with what was read before,
no crash."""

import json
import re

import pytest

from harness import STREAM_FAST, UUID_RE, job_entry_of

JOBS_RECENT_SCAN = 200      # gateway/jobs.c: ids of the Redis index read per batch
JOBS_SCAN_MAX = 1000        # gateway/jobs.c: ids one page reads at most
N = 1250                    # hand-written jobs, newest first: position p = 0..N-1
WRITE_CHUNK = 150           # jobs one EVAL writes (an argument stays under 128 KiB)
MAX_PAGES = 30              # pages one walk follows at most

# Positions (newest first) and what is there.
DEBUG = {0, 4, 5, 14, 15, 34, 35, 74, 75, 154, 155, 199, 200, 398, 399, 400, 401, 1099}
ARCHITECTURE = {1050, 1100}
GONE = {2, 100, 150, 201, 998}          # no hash, not in PostgreSQL: not listed
PERSISTED = {7, 60, 160, 205, 1050}        # no hash, a row in PostgreSQL: listed from there
FOREIGN = {9}                           # a hash of another user: not listed
REFUSED = {120}                         # "job:<id>" is no hash: Redis refuses its read
STATUSES = ["done", "queued", "running", "failed"]

ANY_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                         r"[0-9a-fA-F]{12}$")     # crypto_uuid_valid

# KEYS[1] the index; ARGV[1] [[id, [field, value, ...] or [] for no hash, or a
# string for a string key], ...]
WRITE_LUA = """
local jobs = cjson.decode(ARGV[1])
for _, j in ipairs(jobs) do
  if type(j[2]) == 'string' then redis.call('SET', 'job:' .. j[1], j[2])
  elseif #j[2] > 0 then redis.call('HSET', 'job:' .. j[1], unpack(j[2])) end
  redis.call('ZADD', KEYS[1], 0, j[1])
end
return #jobs
"""


@pytest.fixture(scope="module", autouse=True)
def _gw(gateway):
    return gateway


def job_id(p):
    """Ids sort as positions do (newest first). Every third one is a
    UUIDv4 (from before ids named stream entries: its hot copy is the hash
    alone, a 1-key read); the others name an entry no stream holds."""
    version = "4" if p % 3 == 1 else "7"
    return f"{0x00200000 + N - p:08x}-0000-{version}000-8000-{p:012x}"


def job_type(p):
    if p in DEBUG:
        return "debug"
    if p in ARCHITECTURE:
        return "architecture"
    return "stress" if p % 7 == 3 else "review"


def job_status(p):
    return STATUSES[p % 4]


def stamp(p, minute):
    return f"2026-01-{1 + p // 1000:02d}T{p // 60 % 24:02d}:{p % 60:02d}:{minute:02d}.000Z"


def doc(p, user_id, where):
    """What position p holds, as the model lists it."""
    done = job_status(p) in ("done", "failed")
    return {"job_id": job_id(p), "type": job_type(p), "status": job_status(p),
            "user_id": user_id, "file_path": f"{where}/{p}.py", "request_id": f"req-{p}",
            "created_at": stamp(p, 0), "started_at": stamp(p, 1) if job_status(p) != "queued"
            else None, "finished_at": stamp(p, 2) if done else None}


class Listing:
    """The jobs as Redis and PostgreSQL hold them, and a model of
    handle_jobs_list over them (gateway/jobs.c)."""

    def __init__(self, user_id, other_id, extra_members):
        self.user_id = user_id
        self.redis = {}             # job id -> its hot copy's view
        self.pg = {}                # job id -> its row's view
        for p in range(N):
            if p in GONE or p in REFUSED:
                continue
            if p in PERSISTED:
                self.pg[job_id(p)] = doc(p, user_id, "pg")
            else:
                self.redis[job_id(p)] = doc(p, other_id if p in FOREIGN else user_id, "r")
        self.members = sorted([job_id(p) for p in range(N)] + extra_members, reverse=True)

    @staticmethod
    def matches(v, status, typ):
        return (status is None or v["status"] == status) and (typ is None or v["type"] == typ)

    def page(self, cursor, status, typ, limit):
        """(jobs, next_cursor) as GET /jobs answers them."""
        want = limit + 1
        pg = sorted((v for v in self.pg.values() if v["user_id"] == self.user_id and
                     (cursor is None or v["job_id"] < cursor) and self.matches(v, status, typ)),
                    key=lambda v: v["job_id"], reverse=True)[:want]
        oldest = pg[-1]["job_id"] if len(pg) > limit else None
        matched, scanned, frm, capped = [], 0, cursor or "", False
        while True:
            if scanned >= JOBS_SCAN_MAX:
                capped = True
                break
            batch = [m for m in self.members if not frm or m < frm][:JOBS_RECENT_SCAN]
            valid, done = 0, False
            for m in batch:
                if not ANY_UUID_RE.match(m):
                    continue
                if oldest is not None and m < oldest:
                    done = True
                    break
                frm = m
                valid += 1
                v = self.redis.get(m)
                if v is not None and v["user_id"] == self.user_id and \
                        self.matches(v, status, typ):
                    matched.append(v)
                if len(matched) >= want:
                    done = True
                    break
            scanned += len(batch)
            if done or len(batch) < JOBS_RECENT_SCAN or valid == 0:
                break
        items = sorted(matched + pg, key=lambda v: v["job_id"], reverse=True)
        if capped:
            items = [v for v in items if v["job_id"] >= frm]
        items = items[:want]
        if len(items) > limit:
            return items[:limit], items[limit - 1]["job_id"]
        return items, frm if capped else None


def shown(job):
    return {k: job[k] for k in ("job_id", "type", "status", "user_id", "file_path",
                                "request_id", "created_at", "started_at", "finished_at")}


def write_jobs(harness, user_id, other_id, extra_members=()):
    """The hashes and the index as admission and the workers write them,
    the persisted rows as ci_job_save does."""
    jobs = []
    for p in range(N):
        fields = "not a hash" if p in REFUSED else []
        if p not in GONE and p not in PERSISTED and p not in REFUSED:
            d = doc(p, other_id if p in FOREIGN else user_id, "r")
            for k, v in d.items():
                if k != "job_id" and v is not None:
                    fields += [k, v]
        jobs.append([job_id(p), fields])
    for k in range(0, N, WRITE_CHUNK):
        chunk = jobs[k:k + WRITE_CHUNK]
        assert harness.redis_int("EVAL", WRITE_LUA, "1", f"jobs:{user_id}",
                                 json.dumps(chunk)) == len(chunk)
    for m in extra_members:
        harness.redis_cli("ZADD", f"jobs:{user_id}", "0", m)
    for p in sorted(PERSISTED):
        row = {k: v for k, v in doc(p, user_id, "pg").items() if v is not None}
        harness.psql("SELECT ci_job_save('" + json.dumps(row) + "'::jsonb)")


@pytest.fixture(scope="module")
def listing(harness):
    _, user_id, key = harness.new_user("business", tag="scan")
    _, other_id, _ = harness.new_user("business", tag="scan-other")
    # A member that is no job id, between positions 250 and 251 (admit.lua
    # never writes one; the scan skips it and counts it in its batch, so the
    # 1000th member is position 998).
    extra = [job_id(251)[:9] + "no-job"]
    write_jobs(harness, user_id, other_id, extra)
    return key, Listing(user_id, other_id, extra)


def walk(harness, key, model, query, limit):
    """Follows next_cursor (bounded), comparing each page with the model;
    returns the pages as (ids, next_cursor)."""
    params = dict(p.split("=") for p in query.split("&") if p)
    status, typ = params.get("status"), params.get("type")
    cursor, pages = None, []
    for _ in range(MAX_PAGES):
        q = f"/jobs?limit={limit}" + (f"&{query}" if query else "") + \
            (f"&cursor={cursor}" if cursor else "")
        code, _, body = harness.http("GET", q, auth=key)
        assert code == 200, (q, body)
        want_jobs, want_next = model.page(cursor, status, typ, limit)
        got = [shown(j) for j in body["jobs"]]
        assert [j["job_id"] for j in got] == [j["job_id"] for j in want_jobs], q
        assert got == want_jobs, q
        assert body["next_cursor"] == want_next, (q, body["next_cursor"], want_next)
        pages.append(([j["job_id"] for j in got], body["next_cursor"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return pages


@pytest.mark.parametrize("query,limit", [
    ("", 100), ("", 7), ("type=debug", 1), ("type=debug", 4), ("type=debug", 11),
    ("type=debug", 12), ("status=failed", 20), ("status=queued", 100),
    ("type=stress&status=done", 3), ("type=architecture", 5), ("type=review&status=running", 50),
])
def test_pages_match_the_model(harness, listing, query, limit):
    key, model = listing
    pages = walk(harness, key, model, query, limit)
    if len(pages) < MAX_PAGES:
        assert pages[-1][1] is None
    ids = [i for page, _ in pages for i in page]
    assert len(ids) == len(set(ids)), query


def test_a_cursor_in_upper_case_reads_the_same_page(harness, listing):
    """A cursor is a UUID in either case: the ids are stored lower-case and
    Redis compares bytes, so one in upper case read no job at all and ended
    the list (next_cursor null) before it was lower-cased."""
    key, model = listing
    code, _, first = harness.http("GET", "/jobs?limit=5", auth=key)
    assert code == 200 and first["next_cursor"], first
    pages = []
    for cursor in (first["next_cursor"], first["next_cursor"].upper()):
        code, _, body = harness.http("GET", f"/jobs?limit=5&cursor={cursor}", auth=key)
        assert code == 200, body
        pages.append(body)
    assert [j["job_id"] for j in pages[0]["jobs"]] == \
        [j["job_id"] for j in model.page(first["next_cursor"], None, None, 5)[0]]
    assert pages[1] == pages[0] and len(pages[0]["jobs"]) == 5, pages


def test_layout_reaches_the_boundaries(harness, listing):
    """The layout does what the model comparison relies on: these pages end
    where the batches do."""
    key, model = listing
    debug = sorted(DEBUG)
    # limit 12: the 12th debug job is the last id of the first batch, the
    # 13th the first of the second; the next page starts on the boundary.
    pages = walk(harness, key, model, "type=debug", 12)
    assert pages[0][0] == [job_id(p) for p in debug[:12]]
    assert debug[11] == JOBS_RECENT_SCAN - 1 and pages[0][1] == job_id(JOBS_RECENT_SCAN - 1)
    assert pages[1][0][0] == job_id(JOBS_RECENT_SCAN)
    # limit 11: the page fills (its 12th match) on the last id of the batch.
    pages = walk(harness, key, model, "type=debug", 11)
    assert pages[0][1] == job_id(debug[10])
    # Past JOBS_SCAN_MAX: the first page stops at the 1000th member (998:
    # one member is no job id), whose hash is gone, and drops the persisted
    # job older than it; the next page finds both.
    pages = walk(harness, key, model, "type=architecture", 5)
    assert JOBS_SCAN_MAX - 2 in GONE
    assert pages[0] == ([], job_id(JOBS_SCAN_MAX - 2)), pages[0]
    assert pages[1] == ([job_id(1050), job_id(1100)], None), pages[1]


def test_jobs_from_both_sources_in_one_page(harness, listing):
    """One unfiltered page of 100 holds hot copies and persisted rows in id
    order, without the gone ones or another owner's."""
    key, model = listing
    code, _, body = harness.http("GET", "/jobs?limit=100", auth=key)
    assert code == 200, body
    ids = [j["job_id"] for j in body["jobs"]]
    want = [job_id(p) for p in range(N) if p not in GONE | FOREIGN | REFUSED][:100]
    assert ids == want
    by_id = {j["job_id"]: j for j in body["jobs"]}
    for p in (7, 60):
        assert by_id[job_id(p)]["file_path"] == f"pg/{p}.py"
    for p in (8, 10, 11, 57, 58, 98, 99, 101):
        assert by_id[job_id(p)]["file_path"] == f"r/{p}.py"
        assert by_id[job_id(p)]["type"] == job_type(p)
        assert by_id[job_id(p)]["status"] == job_status(p)
    assert all(UUID_RE.match(i) for i in ids)


def test_queued_jobs_read_from_their_entries(harness, listing, gateway):
    """Real admissions (queued: their hot copy is the stream entry, a 2-key
    read) list next to hashes, in order; one whose entry is gone (taken and
    persisted elsewhere) is not listed from Redis."""
    _, uid, key = harness.new_user("business", tag="scan-queued")
    fields = {"debug": {"error_log": "ZeroDivisionError: division by zero\n"},
              "architecture": {"user_request": "a job queue"}}
    jobs = []
    for i, t in enumerate(["review", "debug", "review", "architecture", "review", "debug"]):
        jobs.append((harness.submit(file_path=f"q/{i}.py", file_content=f"q = {i}\n",
                                    request_type=t, auth=key, **fields.get(t, {})), t, i))
    # A hash between them, of another status.
    harness.redis_cli("HSET", f"job:{jobs[2][0]}", "type", "review", "status", "running",
                      "user_id", uid, "file_path", "q/2-running.py", "request_id", "r2",
                      "created_at", "2026-01-01T00:00:00.000Z",
                      "started_at", "2026-01-01T00:00:01.000Z")
    stream, eid = job_entry_of(jobs[4][0])
    assert stream == STREAM_FAST
    assert harness.redis_int("XDEL", stream, eid) == 1
    code, _, body = harness.http("GET", "/jobs", auth=key)
    assert code == 200, body
    got = [(j["job_id"], j["type"], j["status"], j["file_path"]) for j in body["jobs"]]
    want = []
    for jid, t, i in reversed(jobs):
        if i == 4:
            continue
        want.append((jid, t, "running" if i == 2 else "queued",
                     "q/2-running.py" if i == 2 else f"q/{i}.py"))
    assert got == want
    code, _, body = harness.http("GET", "/jobs?status=queued&type=debug", auth=key)
    assert [j["job_id"] for j in body["jobs"]] == [jobs[5][0], jobs[1][0]], body


DROP_JOBS = 450
DROP_AT = 100                           # its hot copy is larger than Redis lets a client owe
DROP_DEBUG = [10, 50, 150, 300]
OUTPUT_LIMIT = "normal 256kb 256kb 0"   # client-output-buffer-limit for the test
PADDING = 512 * 1024
PAD_LUA = "return redis.call('HSET', KEYS[1], 'padding', string.rep('x', tonumber(ARGV[1])))"


def output_limit_drops(harness):
    """Connections Redis closed for their output buffer, from its log."""
    log = harness.tmpdir / "redis" / "redis.log"
    return log.read_text(errors="replace").count("overcoming of output buffer limits")


def test_connection_dropped_in_the_middle_of_a_scan(harness, gateway):
    """Redis closes the gateway's connection half-way through a page's
    pipelined reads (a reply past the clients' output limit): the page is
    200 with the jobs read before, each its own, and jobs_list_partial is
    logged; nothing is read through a connection that was freed (ASan); the
    next request is served in full."""
    _, uid, key = harness.new_user("business", tag="scan-drop")

    def jid(p):
        return f"{0x00300000 + DROP_JOBS - p:08x}-0000-7000-8000-{p:012x}"

    jobs = [[jid(p), ["type", "debug" if p in DROP_DEBUG else "review", "status", "done",
                      "user_id", uid, "file_path", f"drop/{p}.py", "request_id", f"d-{p}",
                      "created_at", "2026-01-03T00:00:00.000Z",
                      "started_at", "2026-01-03T00:00:01.000Z",
                      "finished_at", "2026-01-03T00:00:02.000Z"]] for p in range(DROP_JOBS)]
    for k in range(0, DROP_JOBS, WRITE_CHUNK):
        chunk = jobs[k:k + WRITE_CHUNK]
        assert harness.redis_int("EVAL", WRITE_LUA, "1", f"jobs:{uid}",
                                 json.dumps(chunk)) == len(chunk)
    harness.redis_cli("EVAL", PAD_LUA, "1", f"job:{jid(DROP_AT)}", str(PADDING))
    debug = [jid(p) for p in DROP_DEBUG]

    saved = harness.redis_cli("CONFIG", "GET", "client-output-buffer-limit").splitlines()[1]
    drops = output_limit_drops(harness)
    harness.redis_cli("CONFIG", "SET", "client-output-buffer-limit", OUTPUT_LIMIT)
    try:
        code, _, body = harness.http("GET", "/jobs?type=debug&limit=5", auth=key)
    finally:
        harness.redis_cli("CONFIG", "SET", "client-output-buffer-limit", saved)
    assert code == 200, body
    assert output_limit_drops(harness) == drops + 1
    # At most what was read before the drop (the scan ends there), newest
    # first, each job its own.
    ids = [j["job_id"] for j in body["jobs"]]
    assert ids == debug[:len(ids)] and len(ids) <= DROP_DEBUG.index(150), ids
    for j in body["jobs"]:
        assert j["file_path"] == f"drop/{int(j['job_id'][-12:], 16)}.py", j
    assert gateway.alive()
    # The page may lack jobs only Redis holds: the gateway says so in its log.
    cut = gateway.wait_for_log("jobs_list_partial")
    assert cut["hot_copies_listed"] == len(ids) and cut.get("code"), cut
    code, _, body = harness.http("GET", "/jobs?type=debug&limit=5", auth=key)
    assert code == 200, body
    assert [j["job_id"] for j in body["jobs"]] == debug and body["next_cursor"] is None, body
