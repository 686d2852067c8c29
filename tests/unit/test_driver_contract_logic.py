"""The driver contract's pure parts: load numbers, the driver's state, app version headers."""

import re
from uuid import UUID

import pytest
import semver
from hypothesis import assume, given
from hypothesis import strategies as st

from dispatch.gate.assignments import _state
from dispatch.gate.inbox import SWAP_TEMPLATES, TEMPLATES, _placeholders
from dispatch.loads.service import load_number
from dispatch.settings import Settings, SettingsError
from driver_api.versions import MAX_LENGTH, PATTERN

JOB = UUID("41732677-eb1e-4f2e-9838-ea636d1f5df7")


def test_a_load_is_numbered_by_its_jobs_reference_or_id_and_its_sequence():
    assert load_number("PO-4711", JOB, 2) == "PO-4711/2"
    assert load_number(" PO-4711 ", JOB, 2) == "PO-4711/2"
    assert load_number(None, JOB, 1) == load_number("  ", JOB, 1) == "41732677/1"


def test_the_drivers_state_splits_the_gate_by_the_ticket():
    assert _state("at_gate", "waiting") == "waiting"
    assert _state("at_gate", "called") == "called"
    assert _state("loading", "loading") == "loading"
    # Loading complete moves the ticket on; the load stays `loading` until the trip starts.
    assert _state("loading", "loaded") == "loaded"
    assert _state("at_gate", None) == "waiting"
    for status in ("assigned", "booked", "in_transit", "arrived", "received", "cancelled"):
        assert _state(status, None) == status


def test_every_message_template_names_its_params():
    assert {kind: _placeholders(t) for kind, (_, t) in TEMPLATES.items()} == {
        "dock_call": ["dock", "load_number"],
        "dispatcher": ["text"],
        "no_show": ["site", "load_number"],
        "load_withdrawn": ["load_number", "site"],
    }
    assert all(key == f"app.message.{kind}" for kind, (key, _) in TEMPLATES.items())


def test_every_swap_message_names_the_load_and_the_truck_it_is_about():
    assert {kind: sorted(_placeholders(t)) for kind, (_, t) in SWAP_TEMPLATES.items()} == {
        "load_assigned": ["load_number", "plate"],
        "load_unassigned": ["load_number"],
        "truck_changed": ["load_number", "plate"],
        "swap_approved": ["load_number", "plate"],
        "swap_refused": ["load_number", "plate"],
    }
    assert all(key == f"app.message.{kind}" for kind, (key, _) in SWAP_TEMPLATES.items())


@given(st.from_regex(PATTERN, fullmatch=True))
def test_what_the_documented_pattern_takes_is_a_semantic_version(version):
    # What the header may hold is the pattern AND at most MAX_LENGTH characters (the guard checks
    # the length first). Beyond it the two may differ: python-semver refuses anything over 255
    # characters, which a 263-character match of the pattern once showed (a slow shrink, too). A
    # well-formed header over the limit is refused 400 (test_driver_contract.py: "9" * 70 + ".0.0").
    assume(len(version) <= MAX_LENGTH)
    assert semver.Version.is_valid(version)


@pytest.mark.parametrize(
    "bad", ["2.1", "v2.1.0", "02.1.0", "2.1.0-", "2.1.0+", "2.1.0-01", "\u0662.\u0661.\u0660"]
)
def test_the_pattern_refuses_what_is_not_a_semantic_version(bad):
    assert re.fullmatch(PATTERN, bad) is None


def test_the_minimum_app_version_setting(tmp_path):
    env = {"DISPATCH_STATE_DIR": str(tmp_path)}
    assert Settings.from_env(env).driver_app_min_version is None
    got = Settings.from_env(env | {"DISPATCH_DRIVER_APP_MIN_VERSION": " 2.1.0-rc.1 "})
    assert got.driver_app_min_version == "2.1.0-rc.1"
    with pytest.raises(SettingsError, match="DISPATCH_DRIVER_APP_MIN_VERSION must be a semantic version"):
        Settings.from_env(env | {"DISPATCH_DRIVER_APP_MIN_VERSION": "2.1"})
