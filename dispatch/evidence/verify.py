"""Verify an exported evidence bundle offline, without the service or its database.

    python -m dispatch.evidence.verify bundle.json [--photos DIR] [--head HEX ...]

Recomputes every record's hash from the bundle (README.md's recipe), checks the links and seq,
optionally checks photo files in DIR (named `<sha256>`, or `<first 2 hex>/<sha256>` as the service
stores them), and checks that each head hash given with --head (for instance the one carried by the
`evidence.recorded` event you received at departure) is still the hash of some record in the chain.
Prints the result as JSON; exits 0 when the bundle holds together, 1 when it does not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from dispatch.evidence import chain, photos


def _record(r: dict[str, Any]) -> chain.Record:
    position = r.get("position")
    return chain.Record(
        load_id=UUID(r["load_id"]),
        seq=r["seq"],
        kind=r["kind"],
        data=r["data"],
        recorded_by=UUID(r["recorded_by"]),
        recorder_org_id=UUID(r["recorder_org_id"]),
        recorded_at=r["recorded_at"],
        lon=None if position is None else position["lon"],
        lat=None if position is None else position["lat"],
        prev_hash=None if r.get("prev_hash") is None else bytes.fromhex(r["prev_hash"]),
        hash=bytes.fromhex(r["hash"]),
    )


def verify_bundle(
    bundle: dict[str, Any], photos_dir: Path | None = None, heads: Sequence[str] = ()
) -> dict[str, Any]:
    records = [_record(r) for r in bundle["records"]]
    breaks = list(chain.find_breaks(records))
    head = records[-1].hash.hex() if records else None
    if bundle.get("head") != head:
        breaks.append(
            chain.Break(len(records), "head_mismatch", "the bundle's head is not its last record's hash")
        )
    if photos_dir is not None:
        for r in bundle["records"]:
            if r["kind"] != "photo":
                continue
            sha256 = r["data"]["sha256"]
            candidates = [photos_dir / sha256, photos_dir / sha256[:2] / sha256]
            actual = next((h for c in candidates if (h := photos.file_sha256(c)) is not None), None)
            if actual is None:
                breaks.append(chain.Break(r["seq"], "photo_missing", f"photo file missing: {sha256}"))
            elif actual != sha256:
                breaks.append(chain.Break(r["seq"], "photo_altered", f"photo file altered: {sha256}"))
    hashes = {rec.hash.hex(): rec.seq for rec in records}
    for announced in heads:
        if announced.lower() not in hashes:
            breaks.append(
                chain.Break(
                    len(records), "head_mismatch", f"the announced head {announced} is no record's hash"
                )
            )
    breaks.sort(key=lambda b: b.seq)
    found = [{"seq": b.seq, "code": b.code, "reason": b.reason} for b in breaks]
    return {
        "ok": not found,
        "records": len(records),
        "head": head,
        "first_break": found[0] if found else None,
        "breaks": found,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dispatch.evidence.verify", description="Verify an exported evidence bundle offline."
    )
    parser.add_argument("bundle", type=Path, help="the JSON from GET /loads/{load}/evidence/export")
    parser.add_argument("--photos", type=Path, help="a directory holding the photo files")
    parser.add_argument("--head", action="append", default=[], help="a head hash announced earlier (hex)")
    args = parser.parse_args(argv)
    try:
        bundle = msgspec.json.decode(args.bundle.read_bytes())
        result = verify_bundle(bundle, args.photos, args.head)
    except (OSError, msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
        print(f"cannot read the bundle: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(result)).decode() + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
