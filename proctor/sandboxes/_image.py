"""``proctor sandbox build``: a minimal image holding this machine's Python, made without a registry.

The root file system is assembled from the host: the interpreter's prefix (without installed
packages, tests and GUI modules), the shared libraries it and its extension modules link,
``/bin/sh``, ``git`` where the host has it (repository tasks apply patches with it, in the
sandbox), and a passwd file with the unprivileged ``sandbox`` user; then ``docker import``.
"""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

from proctor.errors import SandboxUnavailable
from proctor.sandboxes._namespace import GROUP, PASSWD, _python_prefix, python_executable

TOOLS = ("/usr/bin/git",)  # host programs jobs may run, with their libraries, where the host has them
SKIPPED = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data"}
IMAGE_PYTHON = "/usr/local/bin/python3"


def default_tag() -> str:
    return f"proctor-sandbox:py{platform.python_version()}"


def _linked_libraries(binaries: list[str]) -> set[str]:
    found: set[str] = set()
    for binary in binaries:
        output = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False).stdout
        for line in output.splitlines():
            parts = line.split()
            path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0] if parts and parts[0].startswith("/") else ""
            if path.startswith("/"):
                found.add(path)
    return found


def _prefix_files(prefix: Path) -> Iterator[Path]:
    for directory, subdirs, names in os.walk(prefix):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED and not d.startswith("config-")]
        for name in names:
            yield Path(directory, name)


def _add_path(tar: tarfile.TarFile, path: str, seen: set[str]) -> None:
    """Add ``path`` (and, for a symlink, what it points to), creating parent directories."""
    if path in seen:
        return
    seen.add(path)
    parent = os.path.dirname(path)
    if parent != "/":
        _add_path(tar, parent, seen)
    info = tar.gettarinfo(path, arcname=path.lstrip("/"))
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if info.isdir():
        info.mode = 0o755
        tar.addfile(info)
    elif info.issym():
        tar.addfile(info)
        _add_path(tar, os.path.realpath(path), seen)
    else:
        with open(path, "rb") as handle:
            tar.addfile(info, handle)


def _add_text(tar: tarfile.TarFile, path: str, text: str, mode: int = 0o644) -> None:
    data = text.encode()
    info = tarfile.TarInfo(path.lstrip("/"))
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, path: str, mode: int) -> None:
    info = tarfile.TarInfo(path.lstrip("/"))
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def root_filesystem() -> bytes:
    """The image's root file system as an uncompressed tar archive."""
    prefix = Path(_python_prefix())
    python = python_executable()
    files = [str(p) for p in _prefix_files(prefix)]
    tools = [tool for tool in TOOLS if os.path.exists(tool)]
    libraries = _linked_libraries([python, "/bin/sh", *tools, *[f for f in files if f.endswith(".so")]])
    buffer = io.BytesIO()
    seen: set[str] = set()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted({*files, *libraries, *tools, python, os.path.realpath("/bin/sh")}):
            _add_path(tar, path, seen)
        if "/bin" not in seen:
            _add_dir(tar, "/bin", 0o755)
        sh = tarfile.TarInfo("bin/sh")
        sh.type, sh.linkname = tarfile.SYMTYPE, os.path.realpath("/bin/sh")
        tar.addfile(sh)
        for directory in ("/usr", "/usr/local", "/usr/local/bin", "/etc"):
            if directory not in seen:
                _add_dir(tar, directory, 0o755)
        link = tarfile.TarInfo(IMAGE_PYTHON.lstrip("/"))
        link.type, link.linkname = tarfile.SYMTYPE, python
        tar.addfile(link)
        _add_text(tar, "/etc/passwd", PASSWD)
        _add_text(tar, "/etc/group", GROUP)
        for directory, mode in (("/work", 0o755), ("/tmp", 0o1777), ("/proc", 0o755), ("/dev", 0o755)):
            _add_dir(tar, directory, mode)
    return buffer.getvalue()


def build_image(tag: str | None = None, progress: Callable[[str], None] = lambda _: None) -> str:
    """Build and import the image; return its tag. Raises SandboxUnavailable without an engine."""
    from proctor.sandboxes._docker import engine

    tag = tag or default_tag()
    client = engine()
    progress(f"assembling a root file system from {_python_prefix()} (Python {sys.version.split()[0]})")
    archive = root_filesystem()
    progress(f"importing {len(archive) / 2**20:.0f} MiB as {tag}")
    repository, _, version = tag.partition(":")
    changes = ["USER 1000:1000", "WORKDIR /work", "ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8"]
    try:
        client.api.import_image_from_data(archive, repository=repository, tag=version or "latest", changes=changes)
    except Exception as exc:
        raise SandboxUnavailable(f"docker could not import the image: {exc}") from exc
    return tag
