"""Runs last (file order): the session's processes left nothing behind in
/dev/shm. libmongoc, which the worker links, maps a segment named after the
process before main() and removes it only at a clean exit; the worker
removes the name at start, so a worker killed outright leaves none
(worker/mongo_sink.h). A size-limited /dev/shm (64 MB in a Docker
container) would otherwise fill up with every worker killed."""

import os

from harness import shm_segments


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def test_no_shared_memory_left_behind(harness):
    assert not any(p.alive() for p in harness.procs)
    left = [n for n in set(shm_segments()) - harness.shm_before
            if not alive(int(n.split("-", 1)[1]))]
    assert not left, f"left in /dev/shm by processes gone: {sorted(left)}"
