"""What deploy/local/services.sh leaves on disk for the Redis it starts (the
harness's, as `make run`'s): readable by its user alone, since the append-
only file holds queued code and job results."""

import stat


def test_redis_data_is_private(harness, gateway):
    # One write, so that the append-only files certainly exist.
    harness.redis_cli("SET", "e2e:private", "x")
    root = harness.tmpdir / "redis"
    paths = [root, *root.rglob("*")]
    assert any(p.name.startswith("appendonly") for p in paths), [p.name for p in paths]
    loose = [f"{p} {stat.filemode(p.stat().st_mode)}" for p in paths
             if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]
    assert not loose, loose
