"""Helpers of the bench's token phase: the BPE cross-check (bench/run.py
bpe_reductions, which runs bench/bpe_count.mjs with the npm tokenizers
deploy/local/deps.sh installs) and the one-line change of the diff reviews.

    /usr/bin/python3 -m pytest -q tests/bench
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import run as R  # noqa: E402

BRAIN = "You review code. Report real defects, worst first, as JSON.\n" * 40
SRC = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(30))
ENCODINGS = {"claude_legacy", "o200k_base"}


def test_counts_and_reductions_add_up():
    # The prompt is the bare source: what it saves is exactly the brain.
    out = R.bpe_reductions(BRAIN, [("a.py", SRC, [SRC])])
    assert "skipped" not in out, out
    assert set(out["encodings"]) == ENCODINGS
    for enc, e in out["encodings"].items():
        f = out["per_file"]["a.py"][enc]
        brain = e["brain_tokens"]
        assert 0 < brain < len(BRAIN)
        assert f["naive_tokens"] == brain + f["input_tokens"]
        assert e["aggregate_reduction_pct"] == round(100 * brain / f["naive_tokens"], 1)


def test_requests_of_one_file_are_summed():
    one = R.bpe_reductions(BRAIN, [("a.py", SRC, [SRC])])
    two = R.bpe_reductions(BRAIN, [("a.py", SRC, [SRC, SRC])])
    for enc in ENCODINGS:
        assert two["per_file"]["a.py"][enc]["input_tokens"] == \
            2 * one["per_file"]["a.py"][enc]["input_tokens"]


def test_line_number_prefixes_cost_tokens():
    # What the cross-check is for: characters / 4 charges "12|" as one
    # token per line at most; BPE tokenizers charge the number and the bar.
    numbered = "".join(f"{n}|{line}\n" for n, line in enumerate(SRC.splitlines(), 1) if line)
    out = R.bpe_reductions(BRAIN, [("plain", SRC, [SRC]), ("numbered", SRC, [numbered])])
    lines = sum(1 for line in SRC.splitlines() if line)
    for enc in ENCODINGS:
        plain = out["per_file"]["plain"][enc]["input_tokens"]
        num = out["per_file"]["numbered"][enc]["input_tokens"]
        assert num - plain >= lines, (enc, plain, num)


def test_missing_node_is_a_stated_skip(monkeypatch):
    monkeypatch.setattr(R.shutil, "which", lambda _name: None)
    out = R.bpe_reductions(BRAIN, [("a.py", SRC, [SRC])])
    assert out == {"skipped": "node not found (run `make deps`)"}


def test_one_line_added_copies_the_middle_line():
    src = "a\nb\n\n\nc\nd\ne\n"
    new = R.one_line_added(src)
    assert new == "a\nb\n\n\nc\nc\nd\ne\n"         # the middle line, 4, is blank: 5 is copied
    diff = R.unified_diff("corpus-diff/x.txt", src, new)
    assert diff.startswith("--- a/corpus-diff/x.txt\n+++ b/corpus-diff/x.txt\n@@ "), diff
    body = [ln for ln in diff.splitlines()[3:] if ln[:1] in "+-"]
    assert body == ["+c"], diff


def test_one_line_added_on_a_file_without_final_newline():
    assert R.one_line_added("x = 1\ny = 2") == "x = 1\ny = 2\ny = 2"
    assert R.one_line_added("only") == "only\nonly"
    assert R.one_line_added("") == "\n"
