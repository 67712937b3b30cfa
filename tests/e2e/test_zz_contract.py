"""Every response the e2e tests received this session (recorded by
tests/e2e/contract.py through the harness) keeps the API contract of
docs/openapi.yaml: documented status, content type and schema, strictly.
Runs after every other module (the name sorts last but one, before the log
scan of test_zz_secrets_in_logs.py).

Requests to routes that do not exist (404/405 tests) are not operations of
the document and are left out, and so are the few answers libmicrohttpd
gives itself before any route runs (no X-Request-Id: malformed HTTP);
test_openapi.py checks that the route table and the document name the same
operations.
"""

from __future__ import annotations

from contract import RECORDED, Contract, ContractError


def test_every_recorded_response_keeps_the_contract(harness, gateway):
    # This module's own requests: the check is never vacuous, even alone.
    for path in ("/healthz", "/whoami", "/jobs", "/job/not-a-uuid"):
        harness.http("GET", path)
    c = Contract()
    operations = c.operations()
    failures: list[str] = []
    checked = 0
    for method, path, status, headers, body in list(RECORDED):
        template = c.template_for(path)
        if template is None or (method.upper(), template) not in operations:
            continue
        if headers.get("X-Request-Id") is None:
            # Answered by libmicrohttpd itself (a malformed request line,
            # oversized headers, broken chunking): no route ran.
            continue
        checked += 1
        try:
            c.check(method, path, status, headers, body)
        except ContractError as exc:
            failures.append(str(exc))
    assert checked >= 4
    # One line per distinct failure, with how often it happened.
    distinct: dict[str, int] = {}
    for f in failures:
        distinct[f] = distinct.get(f, 0) + 1
    report = "\n".join(f"[{n}x] {f}" for f, n in sorted(distinct.items())[:40])
    assert not failures, f"{len(failures)} of {checked} responses break the contract:\n{report}"
