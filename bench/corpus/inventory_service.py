"""Inventory service: stock levels, reservations and restock alerts.

Storage is SQLite; the HTTP layer (not in this module) calls the
InventoryService methods and maps the exceptions to status codes.
"""

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import sqlite3
import threading
import uuid

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    sku         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    on_hand     INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved    INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    reorder_at  INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
    id          TEXT PRIMARY KEY,
    sku         TEXT NOT NULL REFERENCES items (sku),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    order_ref   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('held', 'committed', 'released'))
);
CREATE INDEX IF NOT EXISTS reservations_expiry ON reservations (state, expires_at);
CREATE TABLE IF NOT EXISTS movements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sku         TEXT NOT NULL,
    delta       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    at          TEXT NOT NULL
);
"""

DEFAULT_HOLD = dt.timedelta(minutes=15)


class InventoryError(Exception):
    status = 400


class NotFound(InventoryError):
    status = 404


class OutOfStock(InventoryError):
    status = 409


@dataclasses.dataclass
class Item:
    sku: str
    name: str
    on_hand: int
    reserved: int
    reorder_at: int
    updated_at: str

    @property
    def available(self):
        return self.on_hand - self.reserved

    def to_json(self):
        d = dataclasses.asdict(self)
        d["available"] = self.available
        return d


def _now():
    return dt.datetime.now(dt.timezone.utc)


def _iso(t):
    return t.isoformat(timespec="seconds")


class InventoryService:
    def __init__(self, path=":memory:", hold=DEFAULT_HOLD, notifier=None):
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()
        self._hold = hold
        self._notifier = notifier or (lambda item: None)

    @contextlib.contextmanager
    def _tx(self):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    # -- items --

    def add_item(self, sku, name, on_hand=0, reorder_at=0):
        if not sku or len(sku) > 64:
            raise InventoryError("sku must be 1..64 characters")
        if on_hand < 0 or reorder_at < 0:
            raise InventoryError("quantities must not be negative")
        with self._tx() as db:
            try:
                db.execute(
                    "INSERT INTO items (sku, name, on_hand, reorder_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (sku, name, on_hand, reorder_at, _iso(_now())))
            except sqlite3.IntegrityError:
                raise InventoryError(f"sku {sku} already exists")
            self._movement(db, sku, on_hand, "initial")
        return self.get(sku)

    def get(self, sku):
        row = self._db.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            raise NotFound(f"no item {sku}")
        return Item(**dict(row))

    def search(self, text, limit=50):
        # LIKE with the user's text: % and _ in it act as wildcards
        rows = self._db.execute(
            "SELECT * FROM items WHERE name LIKE '%" + text + "%' ORDER BY sku LIMIT ?",
            (limit,)).fetchall()
        return [Item(**dict(r)) for r in rows]

    def adjust(self, sku, delta, reason):
        """Add (delta > 0) or remove (delta < 0) stock, e.g. a delivery or a count."""
        if delta == 0:
            return self.get(sku)
        with self._tx() as db:
            item = self._locked_item(db, sku)
            new = item.on_hand + delta
            if new < item.reserved:
                raise OutOfStock(f"{sku}: {item.reserved} reserved, cannot go to {new}")
            db.execute("UPDATE items SET on_hand = ?, updated_at = ? WHERE sku = ?",
                       (new, _iso(_now()), sku))
            self._movement(db, sku, delta, reason)
        item = self.get(sku)
        self._maybe_alert(item)
        return item

    def _locked_item(self, db, sku):
        row = db.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            raise NotFound(f"no item {sku}")
        return Item(**dict(row))

    def _movement(self, db, sku, delta, reason):
        db.execute("INSERT INTO movements (sku, delta, reason, at) VALUES (?, ?, ?, ?)",
                   (sku, delta, reason, _iso(_now())))

    def _maybe_alert(self, item):
        if item.reorder_at and item.available <= item.reorder_at:
            try:
                self._notifier(item)
            except Exception:  # the alert must never break a stock change
                log.exception("restock notifier failed for %s", item.sku)

    # -- reservations --

    def reserve(self, sku, quantity, order_ref):
        if quantity <= 0:
            raise InventoryError("quantity must be positive")
        rid = str(uuid.uuid4())
        expires = _now() + self._hold
        with self._tx() as db:
            item = self._locked_item(db, sku)
            if item.available < quantity:
                raise OutOfStock(f"{sku}: {item.available} available, {quantity} requested")
            db.execute("UPDATE items SET reserved = reserved + ?, updated_at = ? WHERE sku = ?",
                       (quantity, _iso(_now()), sku))
            db.execute(
                "INSERT INTO reservations (id, sku, quantity, order_ref, expires_at, state) "
                "VALUES (?, ?, ?, ?, ?, 'held')",
                (rid, sku, quantity, order_ref, _iso(expires)))
        self._maybe_alert(self.get(sku))
        return {"reservation_id": rid, "expires_at": _iso(expires)}

    def _reservation(self, db, rid):
        row = db.execute("SELECT * FROM reservations WHERE id = ?", (rid,)).fetchone()
        if row is None:
            raise NotFound(f"no reservation {rid}")
        return row

    def commit(self, rid):
        """The order shipped: the reserved units leave the stock."""
        with self._tx() as db:
            r = self._reservation(db, rid)
            if r["state"] == "committed":
                return
            if r["state"] != "held":
                raise InventoryError(f"reservation {rid} is {r['state']}")
            db.execute("UPDATE items SET on_hand = on_hand - ?, reserved = reserved - ?, "
                       "updated_at = ? WHERE sku = ?",
                       (r["quantity"], r["quantity"], _iso(_now()), r["sku"]))
            db.execute("UPDATE reservations SET state = 'committed' WHERE id = ?", (rid,))
            self._movement(db, r["sku"], -r["quantity"], f"order {r['order_ref']}")

    def release(self, rid):
        with self._tx() as db:
            r = self._reservation(db, rid)
            if r["state"] != "held":
                return False
            self._release_row(db, r)
            return True

    def _release_row(self, db, r):
        db.execute("UPDATE items SET reserved = reserved - ?, updated_at = ? WHERE sku = ?",
                   (r["quantity"], _iso(_now()), r["sku"]))
        db.execute("UPDATE reservations SET state = 'released' WHERE id = ?", (r["id"],))

    def expire_holds(self, now=None):
        """Release every hold past its expiry; returns how many were released."""
        now = now or _now()
        released = 0
        with self._tx() as db:
            rows = db.execute(
                "SELECT * FROM reservations WHERE state = 'held' AND expires_at <= ?",
                (_iso(now),)).fetchall()
            for r in rows:
                self._release_row(db, r)
                released += 1
        if released:
            log.info("released %d expired holds", released)
        return released

    # -- reports --

    def low_stock(self):
        rows = self._db.execute(
            "SELECT * FROM items WHERE reorder_at > 0 AND on_hand - reserved <= reorder_at "
            "ORDER BY on_hand - reserved").fetchall()
        return [Item(**dict(r)) for r in rows]

    def history(self, sku, since=None):
        q = "SELECT delta, reason, at FROM movements WHERE sku = ?"
        args = [sku]
        if since is not None:
            q += " AND at >= ?"
            args.append(_iso(since))
        q += " ORDER BY id"
        return [dict(r) for r in self._db.execute(q, args).fetchall()]

    def export_json(self, fh):
        items = [Item(**dict(r)).to_json()
                 for r in self._db.execute("SELECT * FROM items ORDER BY sku")]
        json.dump({"exported_at": _iso(_now()), "items": items}, fh, indent=2)

    def import_json(self, fh):
        doc = json.load(fh)
        count = 0
        for it in doc.get("items", []):
            try:
                self.add_item(it["sku"], it["name"], it["on_hand"], it.get("reorder_at", 0))
                count += 1
            except InventoryError as e:
                log.warning("skipped %s: %s", it.get("sku"), e)
        return count

    def close(self):
        self._db.close()


class RestockMailer:
    """Collects low-stock items and sends one digest per interval."""

    def __init__(self, send, interval=dt.timedelta(hours=1)):
        self._send = send
        self._interval = interval
        self._pending = {}
        self._last = None

    def __call__(self, item):
        self._pending[item.sku] = item
        now = _now()
        if self._last is None or now - self._last >= self._interval:
            self.flush(now)

    def flush(self, now=None):
        if not self._pending:
            return
        lines = [f"{i.sku} {i.name}: {i.available} left (reorder at {i.reorder_at})"
                 for i in sorted(self._pending.values(), key=lambda i: i.available)]
        self._send("Restock needed", "\n".join(lines))
        self._pending.clear()
        self._last = now or _now()
