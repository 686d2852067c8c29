"""Webhook signing secrets sealed at rest (dispatch/webhooks/sealing.py): pure logic."""

import uuid

import pytest

from dispatch.webhooks import sealing, signing

KEY = "k" * 40


def test_a_sealed_secret_opens_with_the_same_key_and_organization_only():
    org = uuid.uuid4()
    secret = signing.new_secret()
    sealed = sealing.seal(KEY, org, secret)
    assert sealed.startswith(sealing.SEALED) and secret not in sealed
    assert sealing.seal(KEY, org, secret) != sealed  # a fresh nonce each time
    assert sealing.unseal(KEY, org, sealed) == secret
    with pytest.raises(sealing.CannotUnseal):
        sealing.unseal("another key" * 4, org, sealed)
    with pytest.raises(sealing.CannotUnseal):
        sealing.unseal(KEY, uuid.uuid4(), sealed)  # moved to another organization's row
    with pytest.raises(sealing.CannotUnseal):
        sealing.unseal(KEY, org, "garbage")


def test_a_secret_stored_in_clear_reads_as_it_is():
    secret = signing.new_secret()
    assert sealing.unseal(KEY, uuid.uuid4(), secret) == secret
