"""C2SP signed notes and tlog-checkpoints, held to the specifications' own examples."""

from __future__ import annotations

import pytest

from proctor.errors import InputError
from proctor.ledger._note import key_id, sign, verifier_key, verify

# c2sp.org/signed-note, "Verifier keys: Example": this vkey verifies this note.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_the_specifications_example_note_verifies_with_its_verifier_key():
    assert verify(SPEC_NOTE, SPEC_VKEY) == "This is an example message.\n"


def test_a_changed_text_an_unknown_key_or_a_forged_id_fails():
    with pytest.raises(InputError, match="does not verify"):
        verify(SPEC_NOTE.replace("example message", "example massage"), SPEC_VKEY)
    other = SPEC_VKEY.replace("example.com/foo", "example.com/bar")
    with pytest.raises(InputError, match="id does not match"):
        verify(SPEC_NOTE, other)
    with pytest.raises(InputError, match="not a signed note"):
        verify("no blank line\n\u2014 example.com/foo AAAA\n", SPEC_VKEY)


def test_notes_this_module_signs_verify_and_carry_the_recommended_key_id():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    note = sign("proctor.ledger/x\n3\nAAAA\n", "proctor.ledger/x", key)
    vkey = verifier_key("proctor.ledger/x", public)
    assert verify(note, vkey) == "proctor.ledger/x\n3\nAAAA\n"
    assert vkey.split("+")[1] == key_id("proctor.ledger/x", public).hex()
    # the spec's example key's id is the recommended one: SHA-256(name || 0x0A || 0x01 || key)[:4]
    import base64

    assert key_id("example.com/foo", base64.b64decode("AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")[1:]).hex() == "530d903a"
