"""pytest wiring for the Code Insight end-to-end tests.

Fixtures:
  harness      (session)  Harness: private Redis + PostgreSQL, migrations run.
  gateway      (module)   a Gateway on a free port, the default target of
                          harness.http(), with every plan's rates scaled by
                          GATEWAY_RATE_SCALE percent: the modules that use it
                          poll and submit far faster than any plan allows and
                          are not about rate limits (tests of limits start
                          their own gateway, with fresh users).
  clean_state  (function) stops workers, FLUSHALL + TRUNCATE jobs/findings/
                          token_charges (users and API keys stay).
Every response a test gets through the harness is recorded
(tests/e2e/contract.py) and checked against docs/openapi.yaml at the end
(test_zz_contract.py).
Every module starts with no gateway/worker running, empty Redis and no jobs
(autouse `_module_isolation`). The session's default user and its API key
(harness.default_key, sent by harness.http() unless auth= is given) exist for
the whole session.

Env: CODEINSIGHT_BUILD_DIR (default build/), CODEINSIGHT_E2E_KEEP=1 keeps the
temp dir (it is also kept, and its path printed, when a test failed).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import contract  # noqa: E402
import harness as harness_mod  # noqa: E402
from harness import Harness  # noqa: E402

# Every response the tests get is kept and checked against docs/openapi.yaml
# by test_zz_contract.py, after every other module.
contract.install_recorder(harness_mod)


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM to the runner -> KeyboardInterrupt, so fixtures are torn down.
    if threading.current_thread() is threading.main_thread():
        def _on_term(signum, frame):  # noqa: ARG001
            raise KeyboardInterrupt("SIGTERM")
        signal.signal(signal.SIGTERM, _on_term)


@pytest.fixture(scope="session")
def harness(request: pytest.FixtureRequest) -> Harness:
    h = Harness()
    # Registered before start() so a failed start still tears down what began.
    request.addfinalizer(h.teardown)
    h.start()
    return h


@pytest.fixture(scope="module", autouse=True)
def _module_isolation(harness: Harness):
    harness.stop_procs()
    harness.ensure_services()
    harness.reset_state()
    yield
    harness.stop_procs()


# Percent applied to every plan's rates and bursts on the `gateway` fixture.
GATEWAY_RATE_SCALE = "10000"


@pytest.fixture(scope="module")
def gateway(harness: Harness, _module_isolation) -> harness_mod.Gateway:
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": GATEWAY_RATE_SCALE},
                                 default=True)


@pytest.fixture
def fake(fake_server):
    """The module's fake model vendor (a module defines fake_server), reset:
    no script, the default answer, no request log."""
    fake_server.reset()
    return fake_server


@pytest.fixture
def clean_state(harness: Harness) -> Harness:
    harness.stop_workers()
    harness.reset_state()
    return harness


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep = outcome.get_result()
    h = harness_mod._current
    if h is None or not rep.failed:
        return
    h.failed = True
    if rep.when in ("setup", "call"):
        for p in h.module_procs:
            state = "running" if p.alive() else f"exited {p.returncode}"
            rep.sections.append((f"e2e {p.name} [{state}] {p.log_path}", p.tail(40)))


def pytest_terminal_summary(terminalreporter) -> None:
    h = harness_mod._current
    if h is not None and h.tmpdir is not None and (h.failed or h.keep_tmp) and h.tmpdir.exists():
        terminalreporter.write_line(f"e2e: logs and state kept in {h.tmpdir}")
