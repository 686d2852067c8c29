"""Loading evidence: per-load hash chains, photos, export and verification, through the API."""

import asyncio
import base64
import hashlib
import itertools
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from dispatch.app import create_app
from tests.conftest import ROOT
from tests.integration.test_fleet_loads import _driver, _vehicle
from tests.market_support import HAMBURG, create_site, iso, post_job
from tests.support import Account, add_member, bootstrap_org, problem, role_ids

# A valid 1x1 PNG, and another image (a different pixel) to tell files apart.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
WHEAT = {"kind": "bulk", "description": "wheat", "weight_kg": 24_000, "volume_m3": 30}
MILL_GATE = {"lat": 52.52001234567, "lon": 13.405}


@dataclass
class Scene:
    mill: Account  # the shipper (owns the origin site)
    staff: Account  # the mill's gate staff
    buyer: Account  # the consignee
    carrier: Account
    stranger: Account
    job: dict[str, Any]
    load: dict[str, Any]

    @property
    def evidence(self) -> str:
        return f"/loads/{self.load['id']}/evidence"


async def _scene(client: Any, settings: Any) -> Scene:
    """Mill -> buyer's shared yard, grabbed by a carrier, planned, confirmed, one load assigned."""
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    buyer = await bootstrap_org(client, settings, "Buyer", ["consignee"])
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    stranger = await bootstrap_org(client, settings, "Stranger", ["shipper", "consignee", "carrier"])
    staff = await add_member(client, mill, "gate_staff")
    site = await create_site(client, mill, "Mill gate")
    yard = await create_site(client, buyer, "Buyer yard", at=HAMBURG, shared=True)
    job = await post_job(
        client,
        mill,
        site["id"],
        cargo=WHEAT,
        pickup_from=iso(timedelta(hours=1)),
        pickup_until=iso(timedelta(hours=30)),
        destination_site_id=yard["id"],
    )
    assert (await client.post(f"/jobs/{job['id']}/grab", headers=carrier.headers)).status_code == 200
    await _vehicle(client, carrier, "B-HL 101")
    alice = await _driver(client, carrier, "Alice Driver")
    r = await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={})
    assert r.status_code == 201, r.text
    [load] = (await client.post(f"/jobs/{job['id']}/plan/confirm", headers=carrier.headers)).json()
    r = await client.put(
        f"/loads/{load['id']}/assignment", headers=carrier.headers, json={"driver_user_id": alice["user_id"]}
    )
    assert r.status_code == 200 and r.json()["status"] == "assigned", r.text
    return Scene(mill, staff, buyer, carrier, stranger, job, r.json())


async def _record(client: Any, scene: Scene, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(scene.evidence, headers=scene.staff.headers, json=body)
    assert r.status_code == 201, r.text
    record: dict[str, Any] = r.json()
    return record


async def _photo(client: Any, scene: Scene, content: bytes = PNG, **fields: str) -> dict[str, Any]:
    r = await client.post(
        f"{scene.evidence}/photos",
        headers=scene.staff.headers,
        files={"file": ("gate.png", content, "image/png")},
        data=fields,
    )
    assert r.status_code == 201, r.text
    record: dict[str, Any] = r.json()
    return record


def _photo_files(settings: Any) -> list[Path]:
    root = Path(settings.state_dir) / "evidence" / "photos"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _readme_hash(record: dict[str, Any]) -> str:
    """dispatch/evidence/README.md's recipe, with the standard library only."""
    position = record["position"]
    canonical = {
        "data": record["data"],
        "kind": record["kind"],
        "lat": None if position is None else f"{position['lat']:.7f}",
        "load_id": record["load_id"],
        "lon": None if position is None else f"{position['lon']:.7f}",
        "recorded_at": record["recorded_at"],
        "recorded_by": record["recorded_by"],
        "recorder_org_id": record["recorder_org_id"],
        "seq": record["seq"],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prev = bytes.fromhex(record["prev_hash"]) if record["prev_hash"] else bytes(32)
    return hashlib.sha256(prev + text.encode("utf-8")).hexdigest()


def _offline_verifier(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dispatch.evidence.verify", str(bundle), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


async def _verify(client: Any, scene: Scene, who: Account | None = None) -> dict[str, Any]:
    r = await client.get(f"{scene.evidence}/verify", headers=(who or scene.buyer).headers)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


REWRITE = """
UPDATE evidence_records SET data = $3::jsonb, prev_hash = $4, hash = $5 WHERE load_id = $1 AND seq = $2"""


async def _behind_the_api(db: asyncpg.Connection, sql: str, *args: Any) -> None:
    """A change with the append-only triggers bypassed, as the table's owner (or a superuser) could.
    DISABLE TRIGGER is transactional: the triggers are back on when this commits."""
    async with db.transaction():
        await db.execute("ALTER TABLE evidence_records DISABLE TRIGGER USER")
        await db.execute(sql, *args)
        await db.execute("ALTER TABLE evidence_records ENABLE TRIGGER USER")


# -- recording, listing, exporting -------------------------------------------------------------


async def test_a_loading_is_recorded_as_one_chain_that_exports_and_verifies(client, settings, db):
    scene = await _scene(client, settings)
    tare = await _record(
        client,
        scene,
        {"kind": "weighbridge_tare", "weight_kg": 14_220, "weighbridge_id": "WB-1", "position": MILL_GATE},
    )
    assert tare["seq"] == 1 and tare["prev_hash"] is None and len(tare["hash"]) == 64
    assert tare["recorded_by"] == scene.staff.user_id and tare["recorder_org_id"] == scene.mill.org_id
    assert tare["position"] == {"lat": 52.5200123, "lon": 13.405}  # stored to 7 decimals
    gross = await _record(
        client,
        scene,
        {"kind": "weighbridge_gross", "weight_kg": 38_180, "weighbridge_id": "WB-1", "ticket": "T-0815"},
    )
    assert gross["data"] == {
        "weight_kg": 38_180,
        "weighbridge_id": "WB-1",
        "ticket": "T-0815",
        "tare_kg": 14_220,
        "tare_seq": 1,
        "net_kg": 23_960,
    }
    assert gross["prev_hash"] == tare["hash"]
    await _record(client, scene, {"kind": "seal", "seal_numbers": ["SL-000123", "SL-000124"]})
    await _record(
        client,
        scene,
        {"kind": "sample", "sample_id": "S-17", "description": "moisture\t13.1 %", "retained_by": "QA lab"},
    )
    await _record(client, scene, {"kind": "note", "text": "Tarp checked.\nDriver: Straße frei ✓"})
    photo = await _photo(client, scene, caption="rear, sealed", lat="52.52", lon="13.405")
    sha256 = hashlib.sha256(PNG).hexdigest()
    assert photo["seq"] == 6 and photo["data"] == {
        "sha256": sha256,
        "size_bytes": len(PNG),
        "content_type": "image/png",
        "caption": "rear, sealed",
    }
    stored = Path(settings.state_dir) / "evidence" / "photos" / sha256[:2] / sha256
    assert stored.read_bytes() == PNG and _photo_files(settings) == [stored]
    # The same bytes again: a new record, one file.
    again = await _photo(client, scene)
    assert again["data"]["sha256"] == sha256 and _photo_files(settings) == [stored]

    listed = (await client.get(scene.evidence, headers=scene.carrier.headers)).json()
    assert [r["seq"] for r in listed] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["kind"] for r in listed] == [
        "weighbridge_tare",
        "weighbridge_gross",
        "seal",
        "sample",
        "note",
        "photo",
        "photo",
    ]
    assert all(r["recorded_by_name"] == "A Member" for r in listed)
    for previous, record in itertools.pairwise(listed):
        assert record["prev_hash"] == previous["hash"]

    r = await client.get(f"{scene.evidence}/export", headers=scene.buyer.headers)
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert bundle["format"] == "freight-dispatch.evidence.v1" and bundle["generated_at"].endswith("Z")
    assert bundle["records"] == listed and bundle["head"] == listed[-1]["hash"]
    assert bundle["load"] == {
        "id": scene.load["id"],
        "job_id": scene.job["id"],
        "job_reference": "PO-4711",
        "seq": 1,
        "status": "assigned",
        "vehicle_plate": "B-HL 101",
        "driver_name": "Alice Driver",
        "weight_kg": 24_000,
    }
    assert [(p["seq"], p["sha256"], p["url"]) for p in bundle["photos"]] == [
        (6, sha256, f"/evidence/photos/{sha256}"),
        (7, sha256, f"/evidence/photos/{sha256}"),
    ]
    assert bundle["verification"] == {
        "ok": True,
        "records": 7,
        "head": bundle["head"],
        "first_break": None,
        "breaks": [],
    }

    # Every party was told each new head, in the transaction that stored it.
    events = await db.fetch(
        "SELECT org_ids, data FROM events WHERE type = 'evidence.recorded' AND subject_id = $1 ORDER BY id",
        scene.load["id"],
    )
    announced = [json.loads(e["data"]) for e in events]
    assert [a["seq"] for a in announced] == [1, 2, 3, 4, 5, 6, 7]
    assert announced[-1]["head"] == bundle["head"] and announced[0]["head"] == tare["hash"]
    parties = {UUID(scene.mill.org_id), UUID(scene.buyer.org_id), UUID(scene.carrier.org_id)}
    assert all(set(e["org_ids"]) == parties for e in events)


async def test_the_readme_recipe_reproduces_every_hash_of_an_export(client, settings, tmp_path):
    scene = await _scene(client, settings)
    await _record(
        client, scene, {"kind": "weighbridge_tare", "weight_kg": 9_000, "weighbridge_id": "Brücke 2"}
    )
    await _record(
        client,
        scene,
        {
            "kind": "weighbridge_gross",
            "weight_kg": 33_000,
            "weighbridge_id": "Brücke 2",
            "position": MILL_GATE,
        },
    )
    await _record(client, scene, {"kind": "note", "text": 'quotes " and \\ and\r\nlines, ünïcödé, 中文'})
    await _photo(client, scene, lat="-0.00001", lon="0.00002")  # floats print differently per library
    bundle = (await client.get(f"{scene.evidence}/export", headers=scene.carrier.headers)).json()
    for record in bundle["records"]:
        assert _readme_hash(record) == record["hash"], record
    assert bundle["records"][-1]["position"] == {"lat": -0.00001, "lon": 0.00002}

    # The offline verifier agrees, and catches an edited bundle.
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    photos_dir = Path(settings.state_dir) / "evidence" / "photos"
    ok = await asyncio.to_thread(
        _offline_verifier, path, "--photos", str(photos_dir), "--head", bundle["records"][1]["hash"]
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    bundle["records"][1]["data"]["net_kg"] += 500
    path.write_text(json.dumps(bundle))
    bad = await asyncio.to_thread(_offline_verifier, path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert json.loads(bad.stdout)["first_break"]["seq"] == 2
    assert json.loads(bad.stdout)["first_break"]["code"] == "hash_mismatch"


async def test_concurrent_appends_make_one_gapless_chain(client, settings, db):
    scene = await _scene(client, settings)
    answers = await asyncio.gather(
        *[
            client.post(scene.evidence, headers=scene.staff.headers, json={"kind": "note", "text": f"n{i}"})
            for i in range(12)
        ]
    )
    assert [a.status_code for a in answers] == [201] * 12
    assert sorted(a.json()["seq"] for a in answers) == list(range(1, 13))
    result = await _verify(client, scene)
    assert result["ok"] is True and result["records"] == 12


async def test_an_appender_that_waited_for_the_load_extends_the_record_committed_meanwhile(
    server_factory, settings, db
):
    """The chain's end is read after the load's lock is granted (README "One appender at a time"): a post that
    waited for another appender's lock must extend the record that appender committed meanwhile,
    not the end its statement's snapshot saw before the wait."""
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        scene = await _scene(client, settings)
        first = await _record(client, scene, {"kind": "note", "text": "first"})
        load_id = UUID(scene.load["id"])
        behind = hashlib.sha256(b"another appender").digest()
        async with db.transaction():
            # Another appender: holds the load's lock (as LOAD_FOR_APPEND takes it) and adds record 2.
            await db.execute("SELECT id FROM loads WHERE id = $1 FOR NO KEY UPDATE", load_id)
            posting = asyncio.ensure_future(
                client.post(
                    scene.evidence, headers=scene.staff.headers, json={"kind": "note", "text": "third"}
                )
            )
            waiting = 0
            while not waiting and not posting.done():  # until the post waits for the lock
                await asyncio.sleep(0.05)
                waiting = await db.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            assert waiting == 1 and not posting.done()
            await db.execute(
                "INSERT INTO evidence_records (load_id, seq, kind, data, recorded_by, recorder_org_id,"
                " recorded_at, prev_hash, hash) VALUES ($1, 2, 'note', $2::jsonb, $3, $4, now(), $5, $6)",
                load_id,
                '{"text": "second"}',
                UUID(scene.staff.user_id),
                UUID(scene.staff.org_id),
                bytes.fromhex(first["hash"]),
                behind,
            )
        third = await posting
    assert third.status_code == 201, third.text
    assert third.json()["seq"] == 3 and third.json()["prev_hash"] == behind.hex()


# -- tampering ------------------------------------------------------------------------------------


async def test_changes_behind_the_api_are_reported_by_verify(client, settings, db):
    scene = await _scene(client, settings)
    await _photo(client, scene)  # seq 1
    await _record(client, scene, {"kind": "weighbridge_tare", "weight_kg": 14_000, "weighbridge_id": "WB-1"})
    await _record(client, scene, {"kind": "weighbridge_gross", "weight_kg": 38_000, "weighbridge_id": "WB-1"})
    await _record(client, scene, {"kind": "note", "text": "first"})
    await _record(client, scene, {"kind": "note", "text": "second"})
    load_id = UUID(scene.load["id"])
    assert (await _verify(client, scene))["ok"] is True
    original = {
        r["seq"]: r
        for r in await db.fetch(
            "SELECT seq, data::text AS data, hash FROM evidence_records WHERE load_id = $1", load_id
        )
    }

    # 1. The net weight of record 3 is raised by a tonne.
    await _behind_the_api(
        db,
        """UPDATE evidence_records SET data = jsonb_set(data, '{net_kg}', '25000')
           WHERE load_id = $1 AND seq = 3""",
        load_id,
    )
    result = await _verify(client, scene)
    assert result["ok"] is False
    assert result["first_break"]["seq"] == 3 and result["first_break"]["code"] == "hash_mismatch"
    assert "hash mismatch" in result["first_break"]["reason"]
    export = (await client.get(f"{scene.evidence}/export", headers=scene.carrier.headers)).json()
    assert export["verification"] == result
    await _behind_the_api(
        db,
        "UPDATE evidence_records SET data = $2::jsonb WHERE load_id = $1 AND seq = 3",
        load_id,
        original[3]["data"],
    )
    assert (await _verify(client, scene))["ok"] is True

    # 2. The photo file is altered on disk, then removed.
    [photo_file] = _photo_files(settings)
    photo_file.write_bytes(PNG + b"\x00")
    result = await _verify(client, scene)
    assert result["first_break"]["seq"] == 1 and result["first_break"]["code"] == "photo_altered"
    assert "altered" in result["first_break"]["reason"]
    sha256 = photo_file.name
    problem(await client.get(f"/evidence/photos/{sha256}", headers=scene.buyer.headers), 409, "photo_altered")
    photo_file.unlink()
    result = await _verify(client, scene)
    assert result["first_break"]["seq"] == 1 and result["first_break"]["code"] == "photo_missing"
    assert "missing" in result["first_break"]["reason"]
    problem(
        await client.get(f"/evidence/photos/{sha256}", headers=scene.buyer.headers), 404, "photo_file_missing"
    )
    photo_file.write_bytes(PNG)
    assert (await _verify(client, scene))["ok"] is True

    # 3. Records 4 and 5 are rewritten with every hash recomputed: the chain holds together, but no
    #    longer ends in the head hashes announced to the parties when they were recorded.
    rows = (await client.get(scene.evidence, headers=scene.mill.headers)).json()
    prev = rows[2]["hash"]
    for record in rows[3:]:
        record["data"] = {"text": record["data"]["text"] + " (edited)"}
        record["prev_hash"] = prev
        prev = record["hash"] = _readme_hash(record)
        await _behind_the_api(
            db,
            REWRITE,
            load_id,
            record["seq"],
            json.dumps(record["data"]),
            bytes.fromhex(record["prev_hash"]),
            bytes.fromhex(record["hash"]),
        )
    result = await _verify(client, scene)
    assert [b["code"] for b in result["breaks"]] == ["head_mismatch", "head_mismatch"]
    assert result["first_break"]["seq"] == 4
    for seq in (4, 5):
        await _behind_the_api(
            db,
            REWRITE,
            load_id,
            seq,
            original[seq]["data"],
            original[seq - 1]["hash"],
            original[seq]["hash"],
        )
    assert (await _verify(client, scene))["ok"] is True

    # 4. The last record is deleted: the chain is shorter than what was announced.
    await _behind_the_api(db, "DELETE FROM evidence_records WHERE load_id = $1 AND seq = 5", load_id)
    result = await _verify(client, scene)
    assert result["records"] == 4
    assert result["first_break"]["seq"] == 5 and result["first_break"]["code"] == "record_missing"

    # 5. A middle record is deleted: a gap.
    await _behind_the_api(db, "DELETE FROM evidence_records WHERE load_id = $1 AND seq = 3", load_id)
    result = await _verify(client, scene)
    assert result["first_break"]["seq"] == 3 and result["first_break"]["code"] == "seq_gap"
    assert "gap in seq" in result["first_break"]["reason"]


async def test_the_table_refuses_updates_deletes_and_foreign_links(client, settings, db):
    scene = await _scene(client, settings)
    first = await _record(client, scene, {"kind": "note", "text": "one"})
    await _record(client, scene, {"kind": "note", "text": "two"})
    load_id = UUID(scene.load["id"])
    with pytest.raises(asyncpg.RaiseError, match="evidence is append-only: UPDATE"):
        await db.execute("UPDATE evidence_records SET data = '{}' WHERE load_id = $1 AND seq = 1", load_id)
    with pytest.raises(asyncpg.RaiseError, match="evidence is append-only: DELETE"):
        await db.execute("DELETE FROM evidence_records WHERE load_id = $1", load_id)
    with pytest.raises(asyncpg.RaiseError, match="evidence is append-only: TRUNCATE"):
        await db.execute("TRUNCATE evidence_records")
    # An insert must extend the chain: the next seq, naming the last hash.
    insert = """
        INSERT INTO evidence_records (load_id, seq, kind, data, recorded_by, recorder_org_id, recorded_at,
                                      prev_hash, hash)
        VALUES ($1, $2, 'note', '{"text": "x"}', $3, $4, now(), $5, $6)"""
    with pytest.raises(asyncpg.RaiseError, match="does not extend the chain"):
        await db.execute(
            insert,
            load_id,
            3,
            UUID(scene.staff.user_id),
            UUID(scene.mill.org_id),
            bytes.fromhex(first["hash"]),
            bytes(32),
        )
    assert await db.fetchval("SELECT count(*) FROM evidence_records") == 2
    # A load with evidence cannot be deleted from under it either.
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute("DELETE FROM loads WHERE id = $1", load_id)


# -- refusals ---------------------------------------------------------------------------------


async def test_refusals_store_nothing(client, settings, db):
    scene = await _scene(client, settings)
    load_id = UUID(scene.load["id"])

    async def stored() -> tuple[int, int]:
        rows = await db.fetchval("SELECT count(*) FROM evidence_records WHERE load_id = $1", load_id)
        return rows, len(_photo_files(settings))

    note = {"kind": "note", "text": "hello"}
    # Parties who can see the load but are not its shipper; an outsider does not learn it exists.
    problem(
        await client.post(scene.evidence, headers=scene.carrier.headers, json=note), 403, "not_the_shipper"
    )
    problem(await client.post(scene.evidence, headers=scene.buyer.headers, json=note), 403, "not_the_shipper")
    problem(
        await client.post(scene.evidence, headers=scene.stranger.headers, json=note), 404, "load_not_found"
    )
    problem(
        await client.post(
            f"{scene.evidence}/photos",
            headers=scene.carrier.headers,
            files={"file": ("a.png", PNG, "image/png")},
        ),
        403,
        "not_the_shipper",
    )
    # The mill's members without evidence.record (a viewer), and API tokens (no person to name).
    viewer = await add_member(client, scene.mill, "viewer")
    problem(await client.post(scene.evidence, headers=viewer.headers, json=note), 403, "permission_missing")
    [gate_role] = await role_ids(client, scene.mill, "gate_staff")
    issued = (
        await client.post(
            f"/orgs/{scene.mill.org_id}/api-tokens",
            headers=scene.mill.headers,
            json={"name": "weighbridge", "role_id": gate_role},
        )
    ).json()
    token = {"Authorization": f"Bearer {issued['token']}"}
    problem(await client.post(scene.evidence, headers=token, json=note), 403, "user_required")
    assert await stored() == (0, 0)

    for body in (
        {"kind": "weighbridge_net", "weight_kg": 1, "weighbridge_id": "WB-1"},
        {"weight_kg": 1, "weighbridge_id": "WB-1"},
        {"kind": "weighbridge_tare", "weight_kg": -5, "weighbridge_id": "WB-1"},
        {"kind": "weighbridge_tare", "weight_kg": 100_001, "weighbridge_id": "WB-1"},
        {"kind": "weighbridge_tare", "weight_kg": 12.5, "weighbridge_id": "WB-1"},
        {"kind": "weighbridge_tare", "weight_kg": 9_000, "weighbridge_id": "WB-1", "operator": "me"},
        {"kind": "note", "text": "x" * 2001},
        {"kind": "note", "text": "bell \x07"},
        {"kind": "seal", "seal_numbers": []},
        {"kind": "seal", "seal_numbers": [f"S{i}" for i in range(21)]},
        {"kind": "seal", "seal_numbers": ["x" * 41]},
        {"kind": "note", "text": "far", "position": {"lat": 91, "lon": 0}},
    ):
        body_problem = problem(await client.post(scene.evidence, headers=scene.staff.headers, json=body), 400)
        assert body_problem["code"] == "validation_failed", body
    problem(
        await client.post(
            scene.evidence, headers=scene.staff.headers, json={"kind": "seal", "seal_numbers": ["A1", "A1"]}
        ),
        422,
        "duplicate_seal_numbers",
    )
    gross = {"kind": "weighbridge_gross", "weight_kg": 30_000, "weighbridge_id": "WB-1"}
    problem(await client.post(scene.evidence, headers=scene.staff.headers, json=gross), 422, "tare_missing")
    assert await stored() == (0, 0)

    # Photos: the content decides the type, not the name or the declared type.
    for content in (b"plain text, not a photo\n", b"", b"GIF89a\x01\x00\x01\x00"):
        problem(
            await client.post(
                f"{scene.evidence}/photos",
                headers=scene.staff.headers,
                files={"file": ("gate.png", content, "image/png")},
            ),
            415,
            "unsupported_photo_type",
        )
    for form in ({"lat": "52.5"}, {"lat": "95", "lon": "0"}, {"other": "x"}, {"caption": "x" * 201}):
        r = await client.post(
            f"{scene.evidence}/photos",
            headers=scene.staff.headers,
            files={"file": ("gate.png", PNG, "image/png")},
            data=form,
        )
        assert r.status_code == 400, (form, r.text)
    no_file = await client.post(
        f"{scene.evidence}/photos", headers=scene.staff.headers, files={"caption": (None, "no file")}
    )
    assert no_file.status_code == 400, no_file.text
    assert await stored() == (0, 0)
    assert not list((Path(settings.state_dir) / "evidence" / "photos" / ".staging").iterdir())

    # A gross below the tare, once there is a tare.
    await _record(client, scene, {"kind": "weighbridge_tare", "weight_kg": 31_000, "weighbridge_id": "WB-1"})
    problem(
        await client.post(scene.evidence, headers=scene.staff.headers, json=gross), 422, "gross_below_tare"
    )
    assert await stored() == (1, 0)

    # Once the truck has left, the evidence is sealed.
    await db.execute("UPDATE loads SET status = 'in_transit' WHERE id = $1", load_id)
    problem(
        await client.post(scene.evidence, headers=scene.staff.headers, json=note), 409, "load_not_loading"
    )
    problem(
        await client.post(
            f"{scene.evidence}/photos",
            headers=scene.staff.headers,
            files={"file": ("a.png", PNG, "image/png")},
        ),
        409,
        "load_not_loading",
    )
    assert await stored() == (1, 0)
    assert (await _verify(client, scene))["ok"] is True


async def test_a_photo_over_the_limit_is_refused_with_413(settings, db):
    small = msgspec.structs.replace(settings, max_photo_bytes=2048)
    async with AsyncTestClient(app=create_app(small)) as client:
        scene = await _scene(client, small)
        just_over = PNG + b"\x00" * (2049 - len(PNG))  # caught while storing
        far_over = PNG + b"\x00" * 100_000  # caught from Content-Length, before reading the body
        for content in (just_over, far_over):
            body = problem(
                await client.post(
                    f"{scene.evidence}/photos",
                    headers=scene.staff.headers,
                    files={"file": ("big.png", content, "image/png")},
                ),
                413,
                "photo_too_large",
            )
            assert body["max_bytes"] == 2048
        assert await db.fetchval("SELECT count(*) FROM evidence_records") == 0
        assert _photo_files(small) == []
        at_limit = PNG + b"\x00" * (2048 - len(PNG))
        record = await _photo(client, scene, at_limit)
        assert record["data"]["size_bytes"] == 2048
        # JPEG by its magic bytes, whatever the client calls it.
        r = await client.post(
            f"{scene.evidence}/photos",
            headers=scene.staff.headers,
            files={"file": ("x.bin", JPEG_HEAD, "application/octet-stream")},
        )
        assert r.status_code == 201 and r.json()["data"]["content_type"] == "image/jpeg", r.text


# -- reading ----------------------------------------------------------------------------------


async def test_parties_read_list_export_and_photos_and_strangers_get_404(client, settings):
    scene = await _scene(client, settings)
    await _record(client, scene, {"kind": "note", "text": "loaded"})
    photo = await _photo(client, scene)
    sha256 = photo["data"]["sha256"]
    for party in (scene.mill, scene.staff, scene.buyer, scene.carrier):
        assert len((await client.get(scene.evidence, headers=party.headers)).json()) == 2
        assert (await client.get(f"{scene.evidence}/export", headers=party.headers)).status_code == 200
        assert (await _verify(client, scene, party))["ok"] is True
        r = await client.get(f"/evidence/photos/{sha256}", headers=party.headers)
        assert r.status_code == 200 and r.content == PNG
        assert r.headers["content-type"] == "image/png" and r.headers["etag"] == f'"{sha256}"'
    for path in (scene.evidence, f"{scene.evidence}/export", f"{scene.evidence}/verify"):
        problem(await client.get(path, headers=scene.stranger.headers), 404, "load_not_found")
    problem(
        await client.get(f"/evidence/photos/{sha256}", headers=scene.stranger.headers), 404, "photo_not_found"
    )
    # The stranger holding the same bytes in its own evidence is no way in: nor is a made-up hash.
    problem(
        await client.get(f"/evidence/photos/{'0' * 64}", headers=scene.buyer.headers), 404, "photo_not_found"
    )
    problem(
        await client.get("/evidence/photos/not-a-hash", headers=scene.buyer.headers), 404, "photo_not_found"
    )
    problem(
        await client.get(f"/loads/{UUID(int=7)}/evidence", headers=scene.buyer.headers), 404, "load_not_found"
    )


@pytest.mark.server
async def test_a_chunked_upload_without_content_length_is_cut_off_with_413(server_factory, settings, db):
    """Without Content-Length nothing can be refused up front: the route's body ceiling (64 MiB) stops
    the stream, and below it the configured limit is applied to the stored file."""
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        scene = await _scene(client, settings)

        def chunked(zero_mib: int) -> Any:
            async def body() -> Any:
                yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n' + PNG
                for _ in range(zero_mib):
                    yield bytes(1 << 20)
                yield b"\r\n--b--\r\n"

            return body()

        headers = scene.staff.headers | {"Content-Type": "multipart/form-data; boundary=b"}
        for zero_mib in (11, 70):
            r = await client.post(f"{scene.evidence}/photos", headers=headers, content=chunked(zero_mib))
            assert "content-length" not in r.request.headers
            assert problem(r, 413, "photo_too_large")["max_bytes"] == settings.max_photo_bytes
        r = await client.post(f"{scene.evidence}/photos", headers=headers, content=chunked(1))
        assert r.status_code == 201, r.text
        assert await db.fetchval("SELECT count(*) FROM evidence_records") == 1
