"""The client's address behind reverse proxies (gateway/forwarded.h,
CODEINSIGHT_TRUSTED_PROXIES): the per-address limits count the client the
trusted proxy names in X-Forwarded-For, never what a client writes there
itself, and never a header from a peer that is not a trusted proxy.

Loopback addresses stand in for the machines: the gateway here trusts
127.0.0.1 (the "proxy"); 127.0.0.2 is a client connecting directly."""

import json
import secrets

import pytest

from test_auth_login import LOGIN_ADDR_BURST, PASSWORD, login
from tokens import assert_429, assert_problem

PROXY = "127.0.0.1"
DIRECT = "127.0.0.2"


@pytest.fixture(scope="module")
def proxied(harness):
    gw = harness.start_gateway({"CODEINSIGHT_TRUSTED_PROXIES": f" {PROXY}/32, fd00::/8 "},
                               default=False)
    yield gw
    gw.stop()


def drain_login(harness, gw, headers, source=PROXY):
    """Wrong logins to fresh emails until the address bucket refuses;
    returns how many were let through."""
    tag = secrets.token_hex(4)
    for i in range(LOGIN_ADDR_BURST + 10):
        resp = login(harness, f"xff-{i}-{tag}@example.com", "wrong-password",
                     gateway=gw, headers=headers, source=source)
        if resp[0] == 429:
            assert_429(resp, limit=LOGIN_ADDR_BURST)
            return i
        assert_problem(resp, 401, "invalid_credentials")
    pytest.fail("the address bucket never refused")


def test_login_limit_counts_the_forwarded_client(harness, proxied):
    email, _, _ = harness.new_user(password=PASSWORD, tag="xff")
    first = {"X-Forwarded-For": "203.0.113.10"}
    assert drain_login(harness, proxied, first) >= LOGIN_ADDR_BURST
    assert harness.redis_cli("EXISTS", "rl:ip:203.0.113.10:login") == "1"
    assert_429(login(harness, email, PASSWORD, gateway=proxied, headers=first),
               limit=LOGIN_ADDR_BURST)
    # What that client writes left of its own address changes nothing: the
    # proxy appended the address it saw.
    spoof = {"X-Forwarded-For": "198.51.100.99, 203.0.113.10"}
    assert_429(login(harness, email, PASSWORD, gateway=proxied, headers=spoof),
               limit=LOGIN_ADDR_BURST)
    # Another client behind the same proxy has its own bucket, as does the
    # proxy itself (no header) ...
    status, _, body = login(harness, email, PASSWORD, gateway=proxied,
                            headers={"X-Forwarded-For": "203.0.113.11"})
    assert status == 200, body
    harness.remember(body["access_token"])
    # ... also when a second proxy hop in a trusted range wrote its own line.
    status, _, body = login(harness, email, PASSWORD, gateway=proxied,
                            headers={"X-Forwarded-For": "203.0.113.12, fd00::7"})
    assert status == 200, body
    harness.remember(body["access_token"])
    assert harness.redis_cli("EXISTS", "rl:ip:203.0.113.12:login") == "1"


def test_untrusted_peer_cannot_claim_an_address(harness, proxied):
    """A client connecting directly cannot borrow someone else's bucket,
    nor escape its own, by writing the header."""
    email, _, _ = harness.new_user(password=PASSWORD, tag="xff-direct")
    claim = {"X-Forwarded-For": f"203.0.113.{secrets.randbelow(200) + 20}"}
    assert drain_login(harness, proxied, claim, source=DIRECT) >= LOGIN_ADDR_BURST
    assert harness.redis_cli("EXISTS", f"rl:ip:{DIRECT}:login") == "1"
    assert harness.redis_cli("EXISTS", f"rl:ip:{claim['X-Forwarded-For']}:login") == "0"
    assert_429(login(harness, email, PASSWORD, gateway=proxied, source=DIRECT,
                     headers={"X-Forwarded-For": "203.0.113.250"}), limit=LOGIN_ADDR_BURST)
    harness.redis_cli("DEL", f"rl:ip:{DIRECT}:login")


def test_untrusted_forwarder_is_logged_once(harness):
    """A gateway without CODEINSIGHT_TRUSTED_PROXIES that gets the header
    says so once: it is most likely behind a proxy it does not know, and
    every client then shares the proxy's per-address buckets."""
    gw = harness.start_gateway({}, default=False)
    try:
        for i in range(3):
            login(harness, f"nobody-{i}@example.com", "wrong-password", gateway=gw,
                  headers={"X-Forwarded-For": "203.0.113.30"}, source=DIRECT)
        warned = [e for e in gw.logs() if e.get("event") == "forwarded_for_ignored"]
        assert len(warned) == 1, warned
        assert warned[0]["peer"] == DIRECT
        assert warned[0]["reason"] == "CODEINSIGHT_TRUSTED_PROXIES is empty"
        assert warned[0]["level"] == "warn"
    finally:
        gw.stop()
        harness.redis_cli("DEL", f"rl:ip:{DIRECT}:login")


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.internal", "10.0.0.1:80"])
def test_bad_setting_stops_the_gateway(harness, value):
    gw = harness.start_gateway({"CODEINSIGHT_TRUSTED_PROXIES": value}, wait=False,
                               default=False)
    try:
        assert gw.wait(10) != 0
        assert "CODEINSIGHT_TRUSTED_PROXIES" in gw.output()
        assert value in gw.output()
    finally:
        gw.stop()


ODD_HEADERS = {
    "many entries": (", ".join(["198.51.100.1"] * 400) + ", 203.0.113.40", "203.0.113.40"),
    "empty entries": ("203.0.113.41, " + ",".join([" "] * 3000), "203.0.113.41"),
    "not an address": ("x" * 6000, PROXY),
    # IPv6 clients count by their /64 (test_ipv6_clients_count_by_their_64)
    "broken entry": ("203.0.113.42, [::1, fd00:9::1", "fd00:9::/64"),
    "past 16 hops": (", ".join(f"fd00:{i}::1" for i in range(1, 40)), "fd00:24::/64"),
    "tabs": ("203.0.113.43\t,\t127.0.0.1", "203.0.113.43"),
}


@pytest.mark.parametrize("case", sorted(ODD_HEADERS))
def test_odd_headers_get_an_answer(harness, proxied, case):
    """Long, empty, broken or endless headers: an ordinary answer, and the
    attempt counted against the client the walk settles on (a broken entry
    or too many trusted hops: the last trusted hop)."""
    value, bucket = ODD_HEADERS[case]
    key = f"rl:ip:{bucket}:login"
    harness.redis_cli("DEL", key)
    resp = login(harness, f"odd-{secrets.token_hex(4)}@example.com", "wrong-password",
                 gateway=proxied, headers={"X-Forwarded-For": value})
    assert_problem(resp, 401, "invalid_credentials")
    assert harness.redis_cli("EXISTS", key) == "1"
    harness.redis_cli("DEL", key)


def test_ipv6_clients_count_by_their_64(harness, proxied):
    """One subscriber holds a whole /64: rotating through it does not escape
    the per-address limit; the next /64 is someone else."""
    email, _, _ = harness.new_user(password=PASSWORD, tag="xff-v6")
    bucket = "rl:ip:2001:db8:1:2::/64:login"
    harness.redis_cli("DEL", bucket)
    assert drain_login(harness, proxied, {"X-Forwarded-For": "2001:db8:1:2::a"}) \
        >= LOGIN_ADDR_BURST
    assert harness.redis_cli("EXISTS", bucket) == "1"
    assert_429(login(harness, email, PASSWORD, gateway=proxied,
                     headers={"X-Forwarded-For": "[2001:db8:1:2:ffff::9]:4433"}),
               limit=LOGIN_ADDR_BURST)
    status, _, body = login(harness, email, PASSWORD, gateway=proxied,
                            headers={"X-Forwarded-For": "2001:db8:1:3::a"})
    assert status == 200, body
    harness.remember(body["access_token"])
    harness.redis_cli("DEL", bucket)


def login_with_lines(gw, lines):
    """A wrong login whose X-Forwarded-For comes as one header line per entry."""
    body = json.dumps({"email": f"lines-{secrets.token_hex(4)}@example.com",
                       "password": "wrong-password"}).encode()
    wire = (b"POST /auth/login HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
            + b"Content-Length: %d\r\n" % len(body)
            + b"".join(b"X-Forwarded-For: %s\r\n" % v.encode() for v in lines)
            + b"Connection: close\r\n\r\n" + body)
    return gw.raw(wire, method="POST")


@pytest.mark.parametrize("hops, bucket", [
    (7, "203.0.113.52"),        # 9 lines: the client's is among the last 8 kept
    (8, "fd00:1::/64"),         # 10 lines: only the 8 trusted hops are kept
])
def test_header_on_several_lines(harness, proxied, hops, bucket):
    """Several X-Forwarded-For lines read as one list, in order; only the
    last 8 are kept, so a line further left is never read."""
    lines = ["203.0.113.51", "203.0.113.52"] + [f"fd00:{i}::1" for i in range(1, hops + 1)]
    key = f"rl:ip:{bucket}:login"
    harness.redis_cli("DEL", key)
    assert_problem(login_with_lines(proxied, lines), 401, "invalid_credentials")
    assert harness.redis_cli("EXISTS", key) == "1", lines
    harness.redis_cli("DEL", key)
