"""Checkpoints: a signed statement of (ledger, size, Merkle root, head hash) to anchor elsewhere.

A checkpoint inside the ledger file only catches edits that did not also rewrite it; a copy
kept somewhere else (an *anchor*: exported with ``proctor ledger checkpoint --export``, mailed,
committed, timestamped) is what catches a truncated file, an older copy put back, or a tail
rewritten and rehashed. Signatures are Ed25519 over the canonical JSON statement, with a key
kept outside the ledger; the statement names the ledger's id so a checkpoint cannot be
replayed against another ledger.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proctor._files import written_whole
from proctor.errors import InputError
from proctor.ledger._canonical import canonical

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_HEX64 = r"^[0-9a-f]{64}$"


class Checkpoint(BaseModel):
    """The ledger with id ``ledger`` had ``size`` entries, Merkle root ``root`` and head ``head``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ledger: str
    size: int = Field(ge=1)
    root: str = Field(pattern=_HEX64)
    head: str = Field(pattern=_HEX64)
    at: str
    public_key: str | None = Field(None, pattern=_HEX64)
    signature: str | None = Field(None, pattern=r"^[0-9a-f]{128}$")

    def statement(self) -> bytes:
        """The canonical bytes a signature covers."""
        return canonical({"ledger": self.ledger, "size": self.size, "root": self.root, "head": self.head, "at": self.at})

    def signed(self, key: Ed25519PrivateKey) -> Checkpoint:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        return self.model_copy(update={"public_key": public, "signature": key.sign(self.statement()).hex()})

    def signature_problem(self, trusted_key: str | None = None) -> str | None:
        """Why the signature does not hold, or None when it does (and is by ``trusted_key``, if given)."""
        if self.signature is None or self.public_key is None:
            return "unsigned"
        if trusted_key is not None and self.public_key != trusted_key:
            return f"signed by key {self.public_key[:16]}…, not the trusted key {trusted_key[:16]}…"
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key)).verify(bytes.fromhex(self.signature), self.statement())
        except InvalidSignature:
            return "bad signature: the statement was changed after signing, or signed by another key"
        return None


def read_anchor(path: Path) -> Checkpoint:
    """A checkpoint exported to ``path``; InputError naming the file and field when malformed."""
    try:
        return Checkpoint.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such anchor file") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise InputError(f"{path}: not a proctor checkpoint: field {field!r}: {first['msg']}") from None


def write_anchor(checkpoint: Checkpoint, path: Path) -> None:
    with written_whole(path) as partial:
        partial.write_text(checkpoint.model_dump_json(indent=2) + "\n", encoding="utf-8")


def generate_key(path: Path) -> str:
    """Write a new Ed25519 private key (PEM, mode 0600) to ``path``; return its public key (hex)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def load_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in ``path`` (PEM); InputError when missing or not such a key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise InputError(f"{path}: no such key file (create one with `proctor ledger keygen {path}`)") from None
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: holds a {type(key).__name__}, but checkpoints are signed with Ed25519 keys")
    return key
