"""Seeded random edits of a valid input, for the fuzz tests
(test_fuzz_http.py, test_model_pipeline.py): a byte replaced, a JSON or
diff token inserted, a range deleted or repeated, the end cut off."""

import random

TOKENS = [b"\\u0000", b"\\ud800", b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"null",
          b"1e999", b"-0", b"\xc3", b"\xff", b"\x00", b"\x1f", b"%00", b"../", b"\n",
          b"@@ -1 +1 @@\n", b"99999999999999999999"]


def mutate(rnd: random.Random, data: bytes) -> bytes:
    """1 to 4 edits of data."""
    b = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        at = rnd.randint(0, len(b))
        kind = rnd.randrange(5)
        if kind == 0 and b:
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif kind == 1:
            b[at:at] = rnd.choice(TOKENS)
        elif kind == 2:
            del b[at:at + rnd.randint(1, 16)]
        elif kind == 3:
            b[at:at] = b[at:at + rnd.randint(1, 32)]
        else:
            del b[at:]
    return bytes(b)
