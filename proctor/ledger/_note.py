"""Checkpoints in the transparency-log ecosystem's formats: a C2SP ``tlog-checkpoint`` in a C2SP ``signed-note``.

Existing log tooling (witnesses, monitors, ``sumdb``-style clients) reads these, so a proctor ledger's
checkpoint can be witnessed like any transparency log's. The note text is the origin (the key's name),
the tree size and the base64 RFC 6962 root; each signature line is an em dash, the key name and
base64(key ID || Ed25519 signature of the text), the key ID being the first four bytes of
SHA-256(name || 0x0A || 0x01 || public key). See c2sp.org/signed-note and c2sp.org/tlog-checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from proctor.errors import InputError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from proctor.ledger._checkpoint import Checkpoint

ED25519 = b"\x01"
DASH = "\u2014"


def origin(checkpoint: Checkpoint) -> str:
    """The log's origin line (and its key's name): the ledger's own id, so no two ledgers share one."""
    return f"proctor.ledger/{checkpoint.ledger}"


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """The tlog-checkpoint note text: origin, tree size, base64 root hash, each on its own line."""
    root = base64.b64encode(bytes.fromhex(checkpoint.root)).decode()
    return f"{origin(checkpoint)}\n{checkpoint.size}\n{root}\n"


def signed_checkpoint(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note, signed by ``key`` under the name ``origin(checkpoint)``."""
    return sign(checkpoint_text(checkpoint), origin(checkpoint), key)


def sign(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """``text`` (ending in a newline) as a signed note with one Ed25519 signature by ``name``."""
    _check_name(name)
    if not text.endswith("\n"):
        raise ValueError("a note's text ends in a newline")
    public = _public_bytes(key)
    signature = key_id(name, public) + key.sign(text.encode())
    return f"{text}\n{DASH} {name} {base64.b64encode(signature).decode()}\n"


def key_id(name: str, public: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    """The vkey a verifier is configured with: name+hex(key ID)+base64(0x01 || public key)."""
    return f"{name}+{key_id(name, public).hex()}+{base64.b64encode(ED25519 + public).decode()}"


def verify(note: str, vkey: str) -> str:
    """The note's text, if a signature in it by ``vkey`` verifies; InputError saying why not otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    name, identity, public = _parse_vkey(vkey)
    text, signatures = _split(note)
    found = False
    for signer, blob in signatures:
        if signer != name or blob[:4] != identity:
            continue  # another key's signature: ignored, as the spec requires
        found = True
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise InputError(
                f"the note's signature by {name} does not verify: its text was changed, or another key signed it"
            ) from None
    if not found:
        raise InputError(f"the note carries no signature by {name}")
    return text


def _split(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    if any(ord(c) < 0x20 and c != "\n" for c in note) or not note.endswith("\n"):
        raise InputError("not a signed note: control characters, or no final newline")
    text, blank, block = note.rpartition("\n\n")
    if not blank:
        raise InputError("not a signed note: no blank line before its signatures")
    signatures = []
    for line in block.splitlines():
        dash, _, rest = line.partition(" ")
        signer, _, encoded = rest.partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise InputError(f"not a signed note: a signature line that is not base64: {line[:80]!r}") from None
        if dash != DASH or not signer or len(blob) < 5:
            raise InputError(f"not a signed note: a malformed signature line: {line[:80]!r}")
        signatures.append((signer, blob))
    return text + "\n", signatures


def _parse_vkey(vkey: str) -> tuple[str, bytes, bytes]:
    name, identity, encoded = [*vkey.split("+", 2), "", ""][:3]  # base64 may hold "+": the key is the rest
    try:
        material = base64.b64decode(encoded, validate=True)
        identity_bytes = bytes.fromhex(identity)
    except ValueError:
        raise InputError(f"not a verifier key (name+hex id+base64 key): {vkey[:80]!r}") from None
    if len(identity_bytes) != 4 or material[:1] != ED25519 or len(material) != 33:
        raise InputError(f"not an Ed25519 verifier key (name+hex id+base64(0x01 || key)): {vkey[:80]!r}")
    if key_id(name, material[1:]) != identity_bytes:
        raise InputError(f"verifier key {vkey[:80]!r}: its id does not match its name and key")
    return name, identity_bytes, material[1:]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise ValueError(f"a key name is non-empty, without spaces or '+': {name!r}")


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
