#!/usr/bin/env python3
"""snapkeep: incremental, content-addressed backups of a directory tree.

    snapkeep init   REPO
    snapkeep backup REPO SOURCE [--exclude PATTERN]... [--label TEXT]
    snapkeep list   REPO
    snapkeep restore REPO SNAPSHOT TARGET [--only PATH]...
    snapkeep prune  REPO --keep-daily N --keep-weekly N
    snapkeep verify REPO [--sample PERCENT]

A repository holds chunks (zlib-compressed, named by their SHA-256) and one
JSON manifest per snapshot listing each file with its mode, mtime and chunk
list. Unchanged files (same size and mtime as in the previous snapshot)
reuse the previous chunk list without being read again.
"""

import argparse
import datetime as dt
import fnmatch
import hashlib
import json
import os
import random
import shutil
import stat
import sys
import tempfile
import time
import zlib

CHUNK_SIZE = 4 * 1024 * 1024
FORMAT_VERSION = 2
MANIFEST_DIR = "snapshots"
CHUNK_DIR = "chunks"
LOCK_NAME = "lock"
LOCK_STALE_S = 6 * 3600


class SnapError(Exception):
    """An error reported to the user without a traceback."""


# ---------------------------------------------------------------- repository

class Repo:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.chunks = os.path.join(self.root, CHUNK_DIR)
        self.snapshots = os.path.join(self.root, MANIFEST_DIR)

    @classmethod
    def init(cls, root):
        if os.path.exists(os.path.join(root, "config.json")):
            raise SnapError(f"{root} is already a repository")
        os.makedirs(os.path.join(root, CHUNK_DIR), exist_ok=True)
        os.makedirs(os.path.join(root, MANIFEST_DIR), exist_ok=True)
        with open(os.path.join(root, "config.json"), "w") as fh:
            json.dump({"version": FORMAT_VERSION, "chunk_size": CHUNK_SIZE,
                       "created": dt.datetime.utcnow().isoformat()}, fh)
        return cls(root)

    @classmethod
    def open(cls, root):
        try:
            with open(os.path.join(root, "config.json")) as fh:
                cfg = json.load(fh)
        except FileNotFoundError:
            raise SnapError(f"{root} is not a repository (run: snapkeep init {root})")
        if cfg.get("version") != FORMAT_VERSION:
            raise SnapError(f"repository format {cfg.get('version')} is not supported")
        return cls(root)

    # -- locking --

    def lock(self):
        path = os.path.join(self.root, LOCK_NAME)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            age = time.time() - os.stat(path).st_mtime
            if age < LOCK_STALE_S:
                raise SnapError(f"repository is locked ({path}, {age:.0f}s old)")
            os.remove(path)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)

    def unlock(self):
        try:
            os.remove(os.path.join(self.root, LOCK_NAME))
        except FileNotFoundError:
            pass

    # -- chunks --

    def chunk_path(self, digest):
        return os.path.join(self.chunks, digest[:2], digest)

    def has_chunk(self, digest):
        return os.path.exists(self.chunk_path(digest))

    def put_chunk(self, data):
        digest = hashlib.sha256(data).hexdigest()
        path = self.chunk_path(digest)
        if os.path.exists(path):
            return digest, 0
        os.makedirs(os.path.dirname(path), exist_ok=True)
        packed = zlib.compress(data, 6)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(packed)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return digest, len(packed)

    def get_chunk(self, digest):
        with open(self.chunk_path(digest), "rb") as fh:
            data = zlib.decompress(fh.read())
        if hashlib.sha256(data).hexdigest() != digest:
            raise SnapError(f"chunk {digest} is corrupt")
        return data

    # -- manifests --

    def snapshot_ids(self):
        try:
            names = os.listdir(self.snapshots)
        except FileNotFoundError:
            return []
        return sorted(n[:-5] for n in names if n.endswith(".json"))

    def load_manifest(self, snap_id):
        path = os.path.join(self.snapshots, snap_id + ".json")
        try:
            with open(path) as fh:
                return json.load(fh)
        except FileNotFoundError:
            raise SnapError(f"no snapshot {snap_id}")

    def save_manifest(self, manifest):
        snap_id = manifest["id"]
        path = os.path.join(self.snapshots, snap_id + ".json")
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(manifest, fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def latest(self):
        ids = self.snapshot_ids()
        return self.load_manifest(ids[-1]) if ids else None


# -------------------------------------------------------------------- backup

def excluded(rel, patterns):
    parts = rel.split(os.sep)
    for pat in patterns:
        if fnmatch.fnmatch(rel, pat) or any(fnmatch.fnmatch(p, pat) for p in parts):
            return True
    return False


def walk(source, patterns):
    """Yield (relative path, lstat result) for every entry under source."""
    for dirpath, dirnames, filenames in os.walk(source):
        rel_dir = os.path.relpath(dirpath, source)
        dirnames[:] = sorted(d for d in dirnames
                             if not excluded(os.path.normpath(os.path.join(rel_dir, d)), patterns))
        for name in sorted(filenames):
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if excluded(rel, patterns):
                continue
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue  # removed while we walked
            yield rel, st


def store_file(repo, path, stats):
    chunks = []
    with open(path, "rb") as fh:
        while True:
            data = fh.read(CHUNK_SIZE)
            if not data:
                break
            digest, written = repo.put_chunk(data)
            chunks.append(digest)
            stats["bytes_read"] += len(data)
            stats["bytes_written"] += written
            if written:
                stats["new_chunks"] += 1
    return chunks


def backup(repo, source, patterns, label=None, progress=None):
    source = os.path.abspath(source)
    if not os.path.isdir(source):
        raise SnapError(f"{source} is not a directory")
    previous = repo.latest()
    prev_files = {f["path"]: f for f in previous["files"]} if previous else {}
    stats = {"files": 0, "reused": 0, "bytes_read": 0, "bytes_written": 0, "new_chunks": 0,
             "skipped": 0}
    files = []
    started = time.time()
    for rel, st in walk(source, patterns):
        entry = {"path": rel, "mode": st.st_mode, "mtime": int(st.st_mtime), "size": st.st_size}
        if stat.S_ISLNK(st.st_mode):
            entry["link"] = os.readlink(os.path.join(source, rel))
        elif stat.S_ISREG(st.st_mode):
            old = prev_files.get(rel)
            if old and old["size"] == st.st_size and old["mtime"] == int(st.st_mtime) \
                    and all(repo.has_chunk(c) for c in old.get("chunks", [])):
                entry["chunks"] = old["chunks"]
                stats["reused"] += 1
            else:
                try:
                    entry["chunks"] = store_file(repo, os.path.join(source, rel), stats)
                except PermissionError:
                    stats["skipped"] += 1
                    continue
        else:
            continue  # sockets, devices, fifos
        files.append(entry)
        stats["files"] += 1
        if progress and stats["files"] % 500 == 0:
            progress(stats)
    now = dt.datetime.utcnow()
    manifest = {"id": now.strftime("%Y%m%dT%H%M%S"), "created": now.isoformat(),
                "source": source, "label": label, "files": files, "stats": stats,
                "seconds": round(time.time() - started, 1)}
    repo.save_manifest(manifest)
    return manifest


# ------------------------------------------------------------------- restore

def safe_join(root, rel):
    path = os.path.normpath(os.path.join(root, rel))
    if not path.startswith(root):
        raise SnapError(f"refusing to restore outside the target: {rel}")
    return path


def restore(repo, snap_id, target, only=()):
    manifest = repo.load_manifest(snap_id)
    target = os.path.abspath(target)
    os.makedirs(target, exist_ok=True)
    restored = 0
    for f in manifest["files"]:
        if only and not any(f["path"] == o or f["path"].startswith(o.rstrip("/") + "/")
                            for o in only):
            continue
        dest = safe_join(target, f["path"])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if "link" in f:
            if os.path.lexists(dest):
                os.remove(dest)
            os.symlink(f["link"], dest)
        else:
            with open(dest, "wb") as out:
                for digest in f["chunks"]:
                    out.write(repo.get_chunk(digest))
            os.chmod(dest, stat.S_IMODE(f["mode"]))
            os.utime(dest, (f["mtime"], f["mtime"]))
        restored += 1
    return restored


# --------------------------------------------------------------------- prune

def snapshot_time(snap_id):
    return dt.datetime.strptime(snap_id, "%Y%m%dT%H%M%S")


def choose_keep(snap_ids, keep_daily, keep_weekly):
    """The snapshots to keep: the newest of each of the last N days and weeks."""
    keep = set()
    days, weeks = {}, {}
    for sid in sorted(snap_ids, reverse=True):
        t = snapshot_time(sid)
        day = t.date()
        week = t.isocalendar()[:2]
        if day not in days and len(days) < keep_daily:
            days[day] = sid
        if week not in weeks and len(weeks) < keep_weekly:
            weeks[week] = sid
    keep.update(days.values())
    keep.update(weeks.values())
    if snap_ids:
        keep.add(max(snap_ids))  # never drop the newest
    return keep


def prune(repo, keep_daily, keep_weekly, dry_run=False):
    ids = repo.snapshot_ids()
    keep = choose_keep(ids, keep_daily, keep_weekly)
    drop = [s for s in ids if s not in keep]
    live = set()
    for sid in keep:
        for f in repo.load_manifest(sid)["files"]:
            live.update(f.get("chunks", []))
    removed_chunks = 0
    freed = 0
    if not dry_run:
        for sid in drop:
            os.remove(os.path.join(repo.snapshots, sid + ".json"))
    for sub in os.listdir(repo.chunks):
        subdir = os.path.join(repo.chunks, sub)
        for name in os.listdir(subdir):
            if name in live or name.endswith(".tmp"):
                continue
            path = os.path.join(subdir, name)
            freed += os.path.getsize(path)
            removed_chunks += 1
            if not dry_run:
                os.remove(path)
    return {"dropped": drop, "kept": sorted(keep), "chunks_removed": removed_chunks,
            "bytes_freed": freed}


# -------------------------------------------------------------------- verify

def verify(repo, sample_percent=100, rng=random.random):
    referenced = set()
    for sid in repo.snapshot_ids():
        for f in repo.load_manifest(sid)["files"]:
            referenced.update(f.get("chunks", []))
    missing, corrupt, checked = [], [], 0
    for digest in sorted(referenced):
        if not repo.has_chunk(digest):
            missing.append(digest)
            continue
        if rng() * 100 >= sample_percent:
            continue
        try:
            repo.get_chunk(digest)
        except (SnapError, zlib.error):
            corrupt.append(digest)
        checked += 1
    return {"referenced": len(referenced), "checked": checked, "missing": missing,
            "corrupt": corrupt}


# ----------------------------------------------------------------------- CLI

def human(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return f"{n} B"


def cmd_init(args):
    Repo.init(args.repo)
    print(f"initialized {args.repo}")


def cmd_backup(args):
    repo = Repo.open(args.repo)
    repo.lock()
    try:
        def progress(s):
            print(f"  {s['files']} files, {human(s['bytes_read'])} read", file=sys.stderr)
        m = backup(repo, args.source, args.exclude, args.label, progress)
    finally:
        repo.unlock()
    s = m["stats"]
    print(f"snapshot {m['id']}: {s['files']} files ({s['reused']} unchanged), "
          f"{human(s['bytes_written'])} new in {m['seconds']}s")
    if s["skipped"]:
        print(f"warning: {s['skipped']} unreadable files skipped", file=sys.stderr)


def cmd_list(args):
    repo = Repo.open(args.repo)
    for sid in repo.snapshot_ids():
        m = repo.load_manifest(sid)
        size = sum(f.get("size", 0) for f in m["files"])
        print(f"{sid}  {len(m['files']):>8} files  {human(size):>10}  {m.get('label') or ''}")


def cmd_restore(args):
    repo = Repo.open(args.repo)
    n = restore(repo, args.snapshot, args.target, args.only)
    print(f"restored {n} entries into {args.target}")


def cmd_prune(args):
    repo = Repo.open(args.repo)
    repo.lock()
    try:
        r = prune(repo, args.keep_daily, args.keep_weekly, args.dry_run)
    finally:
        repo.unlock()
    verb = "would drop" if args.dry_run else "dropped"
    print(f"{verb} {len(r['dropped'])} snapshots, {r['chunks_removed']} chunks "
          f"({human(r['bytes_freed'])})")


def cmd_verify(args):
    repo = Repo.open(args.repo)
    r = verify(repo, args.sample)
    print(f"{r['referenced']} chunks referenced, {r['checked']} checked")
    for d in r["missing"]:
        print(f"missing: {d}")
    for d in r["corrupt"]:
        print(f"corrupt: {d}")
    if r["missing"] or r["corrupt"]:
        raise SnapError("repository has errors")


def build_parser():
    ap = argparse.ArgumentParser(prog="snapkeep")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init")
    p.add_argument("repo")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("backup")
    p.add_argument("repo")
    p.add_argument("source")
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--label")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("list")
    p.add_argument("repo")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("restore")
    p.add_argument("repo")
    p.add_argument("snapshot")
    p.add_argument("target")
    p.add_argument("--only", action="append", default=[])
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("prune")
    p.add_argument("repo")
    p.add_argument("--keep-daily", type=int, default=7)
    p.add_argument("--keep-weekly", type=int, default=4)
    p.add_argument("--dry-run", action="store_true")
    p.set_defaults(func=cmd_prune)
    p = sub.add_parser("verify")
    p.add_argument("repo")
    p.add_argument("--sample", type=float, default=100.0)
    p.set_defaults(func=cmd_verify)
    return ap


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SnapError as e:
        print(f"snapkeep: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("snapkeep: interrupted", file=sys.stderr)
        return 130
    return 0


def copy_repo(src, dst):
    """Mirror a repository (for off-site copies): chunks first, then manifests."""
    src_repo, dst_repo = Repo.open(src), Repo(dst)
    os.makedirs(dst_repo.chunks, exist_ok=True)
    os.makedirs(dst_repo.snapshots, exist_ok=True)
    shutil.copy2(os.path.join(src, "config.json"), os.path.join(dst, "config.json"))
    copied = 0
    for sub in os.listdir(src_repo.chunks):
        for name in os.listdir(os.path.join(src_repo.chunks, sub)):
            if not dst_repo.has_chunk(name):
                os.makedirs(os.path.join(dst_repo.chunks, sub), exist_ok=True)
                shutil.copy2(os.path.join(src_repo.chunks, sub, name), dst_repo.chunk_path(name))
                copied += 1
    for sid in src_repo.snapshot_ids():
        shutil.copy2(os.path.join(src_repo.snapshots, sid + ".json"),
                     os.path.join(dst_repo.snapshots, sid + ".json"))
    return copied


if __name__ == "__main__":
    sys.exit(main())
