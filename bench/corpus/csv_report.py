"""Monthly sales report: reads order exports (CSV) and writes a summary.

Usage: python csv_report.py orders-2024-*.csv --out report.csv
"""

import argparse
import csv
import datetime
import os
import sys
from collections import defaultdict
from decimal import Decimal, InvalidOperation

REQUIRED_COLUMNS = ("order_id", "placed_at", "region", "sku", "quantity", "unit_price")


class ReportError(Exception):
    """A problem with an input file that stops the report."""


def parse_row(row, line_no):
    """Validate one CSV row and return (date, region, sku, qty, amount)."""
    try:
        placed = datetime.datetime.strptime(row["placed_at"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ReportError(f"line {line_no}: bad timestamp {row['placed_at']!r}")
    try:
        qty = int(row["quantity"])
        price = Decimal(row["unit_price"])
    except (ValueError, InvalidOperation):
        raise ReportError(f"line {line_no}: bad quantity or price")
    if qty < 0:
        raise ReportError(f"line {line_no}: negative quantity")
    region = row["region"].strip().upper() or "UNKNOWN"
    return placed.date(), region, row["sku"].strip(), qty, qty * price


def read_orders(path):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ReportError(f"{path}: missing columns {', '.join(missing)}")
        seen = set()
        for line_no, row in enumerate(reader, start=2):
            if row["order_id"] in seen:
                continue
            seen.add(row["order_id"])
            yield parse_row(row, line_no)


def summarize(rows):
    by_region = defaultdict(lambda: {"orders": 0, "units": 0, "revenue": Decimal(0)})
    by_sku = defaultdict(int)
    first = last = None
    for day, region, sku, qty, amount in rows:
        bucket = by_region[region]
        bucket["orders"] += 1
        bucket["units"] += qty
        bucket["revenue"] += amount
        by_sku[sku] += qty
        first = day if first is None or day < first else first
        last = day if last is None or day > last else last
    return by_region, by_sku, first, last


def top_skus(by_sku, n=10):
    return sorted(by_sku.items(), key=lambda kv: kv[1], reverse=True)[:n]


def write_report(out_path, by_region, by_sku, first, last):
    tmp = out_path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["period", f"{first} .. {last}"])
        w.writerow([])
        w.writerow(["region", "orders", "units", "revenue", "avg_order"])
        for region in sorted(by_region):
            b = by_region[region]
            avg = b["revenue"] / b["orders"]
            w.writerow([region, b["orders"], b["units"], f"{b['revenue']:.2f}", f"{avg:.2f}"])
        w.writerow([])
        w.writerow(["sku", "units"])
        for sku, units in top_skus(by_sku):
            w.writerow([sku, units])
    os.replace(tmp, out_path)


def chain(paths):
    for p in paths:
        yield from read_orders(p)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--out", default="report.csv")
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args(argv)

    try:
        by_region, by_sku, first, last = summarize(chain(args.inputs))
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    if first is None:
        print("no orders found", file=sys.stderr)
        return 1
    write_report(args.out, by_region, by_sku, first, last)
    total = sum(b["revenue"] for b in by_region.values())
    print(f"{len(by_region)} regions, {sum(by_sku.values())} units, revenue {total:.2f}")
    return 0


def compare_months(current, previous):
    """Percent change of revenue per region between two summaries."""
    changes = {}
    for region, cur in current.items():
        prev = previous.get(region)
        if prev is None:
            changes[region] = None
            continue
        changes[region] = (cur["revenue"] - prev["revenue"]) / prev["revenue"] * 100
    return changes


def format_changes(changes):
    lines = []
    for region, pct in sorted(changes.items()):
        if pct is None:
            lines.append(f"{region:<12} new")
        else:
            arrow = "up" if pct >= 0 else "down"
            lines.append(f"{region:<12} {arrow} {abs(pct):.1f}%")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
