"""RFC 6962 / RFC 9162 Merkle trees over ledger entries: roots, inclusion and consistency proofs.

Leaf hash = SHA-256(0x00 ‖ payload), node hash = SHA-256(0x01 ‖ left ‖ right); the empty tree's
root is SHA-256 of nothing. Proof generation works on the list of leaf hashes; verification
follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step and returns False (never raises) on any
malformed, truncated or over-long proof. ``Frontier`` keeps the roots of the perfect subtrees
of a growing tree, so a writer computes each checkpoint's root in O(log n).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(payload: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + payload).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


_node = hashlib.sha256


def _aligned_height(size: int, count: int) -> int:
    """The largest h with 2**h <= count leaves that, after ``size`` leaves, form a perfect subtree."""
    height = count.bit_length() - 1
    if size:
        height = min(height, (size & -size).bit_length() - 1)  # 2**h must divide size
    return height


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    frontier = Frontier()
    frontier.extend(leaves)
    return frontier.root()


def _subtree(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return leaves[start]
    k = _split(end - start)
    return node_hash(_subtree(leaves, start, start + k), _subtree(leaves, start + k, end))


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) (RFC 6962 §2.1.1)."""
    if not 0 <= index < size <= len(leaves):
        raise ValueError(f"leaf {index} is outside a tree of size {size}")
    return _path(leaves, index, 0, size)


def _path(leaves: Sequence[bytes], index: int, start: int, end: int) -> list[bytes]:
    if end - start == 1:
        return []
    k = _split(end - start)
    if index < start + k:
        return [*_path(leaves, index, start, start + k), _subtree(leaves, start + k, end)]
    return [*_path(leaves, index, start + k, end), _subtree(leaves, start, start + k)]


def consistency_proof(leaves: Sequence[bytes], first: int, size: int) -> list[bytes]:
    """PROOF(first, D[size]) (RFC 6962 §2.1.2)."""
    if not 0 < first <= size <= len(leaves):
        raise ValueError(f"no consistency proof from size {first} to size {size}")
    return _subproof(leaves, first, 0, size, complete=True)


def _subproof(leaves: Sequence[bytes], m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
    if m == end - start:
        return [] if complete else [_subtree(leaves, start, end)]
    k = _split(end - start)
    if m <= k:
        return [*_subproof(leaves, m, start, start + k, complete=complete), _subtree(leaves, start + k, end)]
    return [*_subproof(leaves, m - k, start + k, end, complete=False), _subtree(leaves, start, start + k)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: whether ``proof`` places ``leaf`` at ``index`` in the tree with ``expected_root``."""
    if not 0 <= index < size or not _hashes(leaf, expected_root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(first: int, first_root: bytes, size: int, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether the tree of ``size`` with ``second_root`` extends the one of ``first``."""
    if not 0 <= first <= size or not _hashes(first_root, second_root, *proof):
        return False
    if first == size:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is itself a node of the second
        path.insert(0, first_root)
    fn, sn = first - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


def _hashes(*values: object) -> bool:
    return all(isinstance(v, bytes) and len(v) == 32 for v in values)


class Frontier:
    """The roots of the perfect subtrees of a growing tree: O(log n) state for its root."""

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[tuple[int, bytes]] = []  # (height, hash), tallest first

    def append(self, leaf: bytes) -> None:
        self._push(0, leaf)
        self.size += 1

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Append many leaves: each aligned run of 2**h leaves is hashed level by level into one
        peak, the same nodes ``append`` would make, without a Python call per node."""
        done = 0
        while done < len(leaves):
            height = _aligned_height(self.size, len(leaves) - done)
            level = leaves[done : done + (1 << height)]
            while len(level) > 1:
                level = [_node(b"\x01" + left + right).digest() for left, right in zip(level[::2], level[1::2], strict=True)]
            self._push(height, level[0])
            self.size += 1 << height
            done += 1 << height

    def copy(self) -> Frontier:
        twin = Frontier()
        twin.size, twin._peaks = self.size, list(self._peaks)
        return twin

    def _push(self, height: int, digest: bytes) -> None:
        while self._peaks and self._peaks[-1][0] == height:
            _, left = self._peaks.pop()
            height, digest = height + 1, node_hash(left, digest)
        self._peaks.append((height, digest))

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        digest = self._peaks[-1][1]
        for _, left in reversed(self._peaks[:-1]):
            digest = node_hash(left, digest)
        return digest
