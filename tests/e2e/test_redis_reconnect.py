"""A worker's Redis connections while Redis cannot serve it: a master
demoted to a replica by a failover (READONLY: every write refused, so the
worker drops the connection to reach the new master, common/kv_async.c), or
an endpoint that takes connections and closes them (a proxy or a Service in
front of a Redis that is down), or a master that refuses writes while it
lacks replicas (NOREPLICAS: XREADGROUP is a write). Each reconnection waits longer than the one
before (capped exponential backoff with jitter, KV_BACKOFF_MIN_MS to
KV_BACKOFF_MAX_MS), until a connection serves a command again; and the
worker logs the change of state once, not every attempt.

The worker talks to a Redis of this module's own (no password, no
persistence), so that every connection it receives is the worker's. Counts
are asserted over a window, with a wide margin either way: the backoff
allows at most 8 connections each in WINDOW_S, where the worker made some
10 a second each before."""

from __future__ import annotations

import select
import socket
import subprocess
import threading
import time

import pytest

from harness import free_port, wait_until

WINDOW_S = 10
# The worker's connections that send commands: "commands" and "reader"
# (its cancellation subscription is a third, which a replica serves).
COMMAND_CONNS = 2
COMMAND_CONN_NAMES = ("commands", "reader")
# At most this many connections a second in all, where the backoff makes
# (8 each in WINDOW_S) fewer than 3.
RATE_MAX = 4
STATE_EVENTS = ("redis_connected", "redis_disconnected", "redis_connect_failed")


class PrivateRedis:
    def __init__(self, tmpdir) -> None:
        self.port = free_port()
        self.dir = tmpdir
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.cli("PING", check=False) == "PONG", 10, 0.05,
                   desc=f"redis-server on {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def cli(self, *args, check: bool = True) -> str:
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port),
                            *[str(a) for a in args]], capture_output=True, text=True, timeout=15)
        if check and r.returncode != 0:
            raise RuntimeError(f"redis-cli {args}: {r.stdout}{r.stderr}")
        return r.stdout.strip()

    def calls_refused(self, command: str) -> int:
        """command's calls Redis refused or failed (INFO commandstats)."""
        for line in self.cli("INFO", "commandstats").splitlines():
            if line.startswith(f"cmdstat_{command}:"):
                stats = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split(","))
                return int(stats.get("rejected_calls", 0)) + int(stats.get("failed_calls", 0))
        return 0

    def connections_received(self) -> int:
        for line in self.cli("INFO", "stats").splitlines():
            if line.startswith("total_connections_received:"):
                return int(line.split(":", 1)[1])
        raise AssertionError("no total_connections_received in INFO stats")


@pytest.fixture
def redis(harness, tmp_path):
    r = PrivateRedis(tmp_path)
    r.start()
    try:
        yield r
    finally:
        r.stop()


def state_lines(w) -> int:
    return sum(len(w.events(e)) for e in STATE_EVENTS)


def said_by(w, conn: str) -> tuple[int, int]:
    """The lines conn logged so far: that it serves, and that it does not."""
    return (len(w.events("redis_connected", conn=conn)),
            sum(len(w.events(e, conn=conn)) for e in STATE_EVENTS[1:]))


def start_worker(harness, redis):
    w = harness.start_worker("fast", {"REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
                                      "CODEINSIGHT_READ_BLOCK_MS": "200"})
    wait_until(lambda: redis.cli("GET", "answers:review_jobs"), 15, 0.05,
               desc="the worker's answers published")
    return w


def test_a_demoted_redis_is_not_reconnected_to_in_a_loop(harness, redis):
    w = start_worker(harness, redis)
    dead = free_port()
    lines = state_lines(w)
    before = redis.connections_received()
    redis.cli("REPLICAOF", "127.0.0.1", dead)
    try:
        time.sleep(WINDOW_S)
        made = redis.connections_received() - before - 1    # - this INFO's own
        logged = state_lines(w) - lines
    finally:
        redis.cli("REPLICAOF", "NO", "ONE")
    assert made <= RATE_MAX * WINDOW_S, (made, w.tail())
    # Each connection says it lost its master once, and may say it serves
    # again (a replica answers the reads among its commands): not once an
    # attempt.
    assert logged <= 2 * COMMAND_CONNS, (logged, w.tail())
    # A master again: the worker's connections are back (within the
    # backoff's cap), and it says so.
    back = len(w.events("redis_connected", conn="reader"))
    wait_until(lambda: len(w.events("redis_connected", conn="reader")) > back, 15, 0.1,
               desc="the reader connected again")
    assert w.alive()


def test_an_endpoint_that_drops_every_connection_is_not_hammered(harness, redis):
    w = start_worker(harness, redis)
    redis.stop()
    lines = state_lines(w)
    accepted = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", redis.port))
        srv.listen(64)
        srv.settimeout(0.2)
        stop = time.monotonic() + WINDOW_S

        def serve():
            while time.monotonic() < stop:
                try:
                    c, _ = srv.accept()
                except socket.timeout:
                    continue
                accepted.append(1)
                c.close()
        t = threading.Thread(target=serve)
        t.start()
        t.join(WINDOW_S + 5)
    logged = state_lines(w) - lines
    conns = COMMAND_CONNS + 1           # the subscription too, here
    assert len(accepted) <= RATE_MAX * WINDOW_S, (len(accepted), w.tail())
    assert logged <= conns, (logged, w.tail())
    # Redis back: the worker serves again, without a restart.
    redis.start()
    wait_until(lambda: redis.cli("GET", "answers:review_jobs"), 15, 0.05,
               desc="the worker's answers published after Redis came back")
    assert w.alive()


def resp_commands(buf: bytes) -> tuple[list[list[bytes]], bytes]:
    """The whole RESP commands at the start of buf, and what is left."""
    cmds = []
    while buf.startswith(b"*"):
        end = buf.find(b"\r\n")
        if end < 0:
            break
        n, at, args = int(buf[1:end]), end + 2, []
        for _ in range(n):
            end = buf.find(b"\r\n", at)
            if end < 0 or not buf.startswith(b"$", at):
                return cmds, buf
            size = int(buf[at + 1:end])
            if len(buf) < end + 2 + size + 2:
                return cmds, buf
            args.append(buf[end + 2:end + 2 + size])
            at = end + 2 + size + 2
        if len(args) < n:
            break
        cmds.append(args)
        buf = buf[at:]
    return cmds, buf


def serve_demoted(srv: socket.socket, until: float, accepted: list) -> None:
    """A demoted master as a connection meets it: the first command of each
    connection is answered (null: a read that found nothing, as GET or a
    blocked XREADGROUP's timeout answer it), every later one is refused
    with READONLY; a SUBSCRIBE is confirmed (a replica serves it)."""
    conns: dict[socket.socket, list] = {}
    try:
        while time.monotonic() < until:
            ready, _, _ = select.select([srv, *conns], [], [], 0.1)
            for s in ready:
                if s is srv:
                    c, _ = srv.accept()
                    conns[c] = [b"", 0]
                    accepted.append(1)
                    continue
                data = s.recv(65536)
                if not data:
                    del conns[s]
                    s.close()
                    continue
                state = conns[s]
                cmds, state[0] = resp_commands(state[0] + data)
                out = b""
                for args in cmds:
                    state[1] += 1
                    if args[0].upper() == b"SUBSCRIBE":
                        ch = args[1]
                        out += b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(ch), ch)
                    elif state[1] == 1:
                        out += b"*-1\r\n"
                    else:
                        out += b"-READONLY You can't write against a read only replica.\r\n"
                if out:
                    s.sendall(out)
    finally:
        for c in conns:
            c.close()


def test_a_demoted_redis_answering_reads_first_is_not_reconnected_to_in_a_loop(harness,
                                                                               redis):
    """A connection to a demoted master may have a read answered (served)
    before a write is refused: that answer does not make the connection one
    that served, so the backoff goes on growing (common/kv_async.c: the
    READONLY reply clears served, and marks the connection dropping, whose
    later answers do not count). Were the backoff reset by the read, each
    connection would be made again within 100 ms: some 10 a second each.
    Nor does the log take that answer for a master again: once a
    connection was dropped for READONLY, the next is said to serve only
    when it has answered two commands, so the attempts that follow are
    silent, where each said redis_connected and then redis_disconnected."""
    w = start_worker(harness, redis)
    redis.stop()
    lines = state_lines(w)
    said = {c: said_by(w, c) for c in COMMAND_CONN_NAMES}
    accepted: list = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", redis.port))
        srv.listen(64)
        t = threading.Thread(target=serve_demoted,
                             args=(srv, time.monotonic() + WINDOW_S, accepted))
        t.start()
        t.join(WINDOW_S + 5)
    logged = state_lines(w) - lines
    assert len(accepted) <= RATE_MAX * WINDOW_S, (len(accepted), w.tail())
    assert logged <= 2 * RATE_MAX * WINDOW_S, (logged, w.tail())
    # Each command connection says at most once that it serves (the first
    # connection to the endpoint after the outage, which has a command
    # answered) and once that it lost its master; the attempts after that
    # are silent, the first answer of each connection not taken for a
    # master again. Before, each attempt said both (12 lines in 13
    # connections).
    for conn in COMMAND_CONN_NAMES:
        up, down = (now - before for now, before in zip(said_by(w, conn), said[conn]))
        assert up <= 1 and down <= 2, (conn, up, down, w.tail())
    redis.start()
    wait_until(lambda: redis.cli("GET", "answers:review_jobs"), 15, 0.05,
               desc="the worker's answers published after Redis came back")
    assert w.alive()


# Reads refused before the log is looked at: some 10 s of them at the tick's
# 4 a second, where the worker logged each.
REFUSED_READS = 40


def test_refused_reads_are_logged_once(harness, redis):
    """A master short of the replicas min-replicas-to-write asks for (a
    failover under way, a replica lost) refuses every write, XREADGROUP
    included, on a connection that stays up: the worker's reads fail at
    each tick. It says so once, when they start failing, and once when
    they are served again, with how many failed and for how long. Before,
    consumer_read_failed was logged at each refused read (4 a second a
    worker)."""
    w = start_worker(harness, redis)
    failed = len(w.events("consumer_read_failed"))
    refused = redis.calls_refused("xreadgroup")
    redis.cli("CONFIG", "SET", "min-replicas-to-write", "1")
    try:
        wait_until(lambda: redis.calls_refused("xreadgroup") >= refused + REFUSED_READS, 60,
                   0.1, desc=f"{REFUSED_READS} reads refused")
    finally:
        redis.cli("CONFIG", "SET", "min-replicas-to-write", "0")
    lines = w.events("consumer_read_failed")[failed:]
    assert len(lines) == 1, (len(lines), w.tail())
    assert "NOREPLICAS" in lines[0]["detail"], lines[0]
    recovered = w.wait_for_log("consumer_read_recovered", timeout=15)
    assert recovered["failures"] >= REFUSED_READS, recovered
    assert recovered["duration_ms"] > 0, recovered
    assert len(w.events("consumer_read_recovered")) == 1, w.tail()
    assert w.alive()


# Refused XGROUP CREATE calls before the log is looked at (one per tick).
REFUSED_GROUPS = 20


def test_refused_group_creation_and_publication_are_logged_once(harness, redis):
    """A worker that starts while its master refuses writes cannot create
    its consumer group (retried at each tick) nor publish its answer
    versions (retried with each heartbeat): one line each when that starts,
    one each when it is served again. Before, each attempt logged
    consumer_group_failed or answers_publish_failed."""
    redis.cli("CONFIG", "SET", "min-replicas-to-write", "1")
    try:
        refused = redis.calls_refused("xgroup|create")
        w = harness.start_worker("fast", {"REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
                                          "CODEINSIGHT_READ_BLOCK_MS": "200"})
        wait_until(lambda: redis.calls_refused("xgroup|create") >= refused + REFUSED_GROUPS,
                   60, 0.1, desc=f"{REFUSED_GROUPS} group creations refused")
        wait_until(lambda: redis.calls_refused("set") >= 2, 30, 0.1,
                   desc="two publications refused")
    finally:
        redis.cli("CONFIG", "SET", "min-replicas-to-write", "0")
    for failed, recovered in (("consumer_group_failed", "consumer_group_recovered"),
                              ("answers_publish_failed", "answers_publish_recovered")):
        lines = w.events(failed)
        assert len(lines) == 1, (failed, len(lines), w.tail())
        assert "NOREPLICAS" in lines[0]["detail"], lines[0]
        done = w.wait_for_log(recovered, timeout=30)
        assert done["failures"] >= 1 and done["duration_ms"] > 0, done
        assert len(w.events(recovered)) == 1, w.tail()
    assert w.alive()
