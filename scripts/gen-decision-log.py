#!/usr/bin/env python3
"""Write a valid hash-chained decision log of about SIZE bytes (for `microvet log verify`
measurements): gen-decision-log.py OUT SIZE_BYTES [FILLER_LINES_OF_{}]"""
import hashlib
import json
import sys

out, size = sys.argv[1], int(sys.argv[2])
prev = "0" * 64
written = 0
seq = 0
with open(out, "wb", buffering=1 << 20) as f:
    while written < size:
        seq += 1
        line = json.dumps(
            {
                "seq": seq,
                "time": "2026-05-01T09:30:00.123Z",
                "request_id": f"0123456789ab-{seq:08x}",
                "kind": "manifest",
                "policy": "default",
                "policy_sha256": "ab" * 32,
                "manifest_sha256": hashlib.sha256(str(seq).encode()).hexdigest(),
                "decision": "remediate",
                "score": seq % 101,
                "rules": ["MV-OAUTH-003", "MV-DATA-001", "MV-LIFE-001"],
                "engine": "microvet 0.1.0",
                "prev": prev,
            },
            separators=(",", ":"),
        ).encode()
        prev = hashlib.sha256(line).hexdigest()
        f.write(line + b"\n")
        written += len(line) + 1
print(f"{out}: {seq} lines, {written} bytes, head {prev}")
