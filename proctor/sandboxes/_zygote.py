"""The in-sandbox half of the namespace backend: a fork server that never holds task data.

Run by the launcher as root: ``python -I -S _zygote.py CONTROL_FD``; the configuration comes
as the first message on the control socket, so that no job can read it from /proc/1/cmdline.
Standard library only, because site-packages is not visible inside the sandbox.

Setup, in this order (the order is the security argument):

1. As root, in a new mount namespace: build a root file system that holds only the configured
   read-only binds, a minimal /dev and mount points, and ``pivot_root`` into it.
2. Drop to a real unprivileged host uid *before* creating the user namespace (a user namespace
   made by root keeps root's host identity for file access), then unshare user, mount, PID,
   network, IPC and UTS namespaces together. The launcher writes the uid/gid maps: inside uid 0
   maps to host uid U, inside uid 1000 (the candidate) to host uid U+1.
3. Fork: the child is PID 1 of the new PID namespace and becomes the fork server. If it dies,
   the kernel kills every job below it; it exits when the launcher's control socket closes.

Per job, the fork server only forks, into a fresh PID namespace (``fork_into_new_pid_namespace``);
the child, the job's init (PID 1), reads the job from the job socket itself, so the fork
server's memory (which every child inherits) never holds a job's data. Init unshares fresh
mount, IPC and UTS namespaces (and a network namespace when configured), mounts a fresh /proc,
size-capped tmpfs on the work directory, /tmp and /dev/shm, writes the files and forks the
candidate (PID 2) in a session of its own, as uid 1000 without capabilities, with
no_new_privs, rlimits, a Landlock scope on abstract Unix sockets (where the kernel has one,
instead of a network namespace per job) and a seccomp filter. When the candidate exits, init
kills everything left in the namespace and reports the status. Modules the launcher preloads
(``Sandbox.preload``) are loaded by the fork server itself, at start or on an "M" message read
in order with the "F" requests, so every job forked afterwards finds them imported.

Messages from the sandbox to the launcher are JSON only; the launcher never unpickles them.
Every message has a type here (``ServerConfig``, ``JobSpec``, ``JobReport``), written by one side and
read by the other under it; the launcher checks a report's types before trusting any field, since
what comes out of a job's namespace is not its to vouch for.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import gc
import json
import os
import platform
import resource
import signal
import socket
import stat
import struct
import sys
import types
from collections.abc import Callable
from typing import NamedTuple, TypedDict, cast

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 0x1, 0x2, 0x4
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 38
SECCOMP_MODE_FILTER = 2
LANDLOCK_CREATE_RULESET, LANDLOCK_RESTRICT_SELF = 444, 446  # the same on every architecture
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 0x1
LANDLOCK_SCOPES_SOCKETS = 6  # the first ABI with scopes

SYSCALLS = {"x86_64": {"pivot_root": 155, "mount_setattr": 442}, "aarch64": {"pivot_root": 41, "mount_setattr": 442}}

INNER_ROOT_UID = 0
CANDIDATE_UID = 1000
WORKDIR = "/work"
CHUNK = 65536
PRELOAD = (
    "typing",
    "math",
    "re",
    "collections",
    "itertools",
    "functools",
    "heapq",
    "bisect",
    "string",
    "copy",
    "random",
    "statistics",
    "fractions",
    "decimal",
    "datetime",
    "operator",
    "hashlib",
    "dataclasses",
)
MAX_MESSAGE = 256 * 1024 * 1024

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.syscall.restype = ctypes.c_long


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


class _LandlockRulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


# ---------------------------------------------------------------- the protocol


class ServerConfig(TypedDict):
    """The launcher's first message: how to build the sandbox's root, and how to run every job."""

    uid: int  # host uid of the fork server; the candidate runs as uid + 1
    binds: list[list[str]]  # [host source, target] pairs, bound read-only
    symlinks: list[list[str]]  # [link target, path] pairs
    masks: list[str]  # directories hidden under an empty read-only tmpfs
    files: dict[str, str]  # path -> text (/etc/passwd, /etc/group)
    netns_per_job: bool
    scope_sockets: bool  # Landlock-scope every candidate's abstract Unix sockets
    seccomp: str  # the BPF program, base64 ("" for none)
    modules: dict[str, str]  # name -> source, loaded before the first job (Sandbox.preload)


class JobSpec(TypedDict):
    """One job, sent to its init over the job socket (never seen by the fork server)."""

    command: list[str]
    warm: bool  # run the command's Python in this forked interpreter
    files: dict[str, str]  # path in the work directory -> base64 content
    stdin: str  # base64
    env: dict[str, str]
    collect: list[str]
    disk_bytes: int
    output_bytes: int
    rlimits: list[tuple[int, int, int]]  # (resource, soft, hard); lists after JSON


class JobReport(TypedDict):
    """What a job's init reports when the candidate has ended: its wait status and collected files."""

    status: int
    files: dict[str, str]  # path -> base64 content


class JobSettings(NamedTuple):
    """What every job's init needs of the server's configuration, decoded once."""

    netns_per_job: bool
    scope_sockets: bool
    seccomp: bytes


class BecomeCandidate(BaseException):
    """Unwinds a candidate process to the top of the script, where it runs the job's Python."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__()
        self.argv = argv


# ---------------------------------------------------------------- system calls


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _syscall_number(name: str) -> int:
    table = SYSCALLS.get(platform.machine())
    if table is None:
        raise OSError(f"unsupported architecture {platform.machine()}")
    return table[name]


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    def encode(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    _check(_libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)), f"mount {target}")


def umount(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    number = _syscall_number("pivot_root")
    _check(_libc.syscall(number, new_root.encode(), put_old.encode()), "pivot_root")


def make_read_only(path: str, recursive: bool = True, attrs: int = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) -> None:
    """Set mount attributes on ``path`` and, by default, every mount below it (Linux 5.12+)."""
    attr = _MountAttr(attr_set=attrs)
    flags = AT_RECURSIVE if recursive else 0
    number = _syscall_number("mount_setattr")
    result = _libc.syscall(number, AT_FDCWD, path.encode(), flags, ctypes.byref(attr), ctypes.sizeof(attr))
    _check(0 if result == 0 else -1, f"mount_setattr {path}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing or disabled."""
    version = _libc.syscall(LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(version), 0)


def scope_abstract_sockets() -> None:
    """Landlock (ABI 6+): this process and its children cannot connect to abstract Unix sockets
    made outside their own domain, so concurrent jobs sharing a network namespace cannot talk
    through them. Needs no_new_privs."""
    attr = _LandlockRulesetAttr(scoped=LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET)
    ruleset = _libc.syscall(LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    _check(0 if ruleset >= 0 else -1, "landlock_create_ruleset")
    try:
        _check(_libc.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def install_seccomp(program: bytes) -> None:
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


# ---------------------------------------------------------------- messages


def send_message(sock: socket.socket, obj: object, fds: tuple[int, ...] = ()) -> None:
    """Send JSON over a SEQPACKET socket: a header (with any fds), then chunks."""
    data = json.dumps(obj).encode()
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))] if fds else []
    sock.sendmsg([b"J" + struct.pack("!Q", len(data))], ancillary)
    for start in range(0, len(data), CHUNK):
        sock.send(data[start : start + CHUNK])


def receive_message(sock: socket.socket, limit: int = MAX_MESSAGE) -> tuple[object, list[int]]:
    """Receive what ``send_message`` sent; raise EOFError when the peer is gone."""
    header, ancillary, _, _ = sock.recvmsg(9, socket.CMSG_SPACE(struct.calcsize("8i")))
    fds = received_fds(ancillary)
    if len(header) != 9 or header[:1] != b"J":
        raise EOFError("peer closed or sent a malformed header")
    (size,) = struct.unpack("!Q", header[1:])
    if size > limit:
        raise EOFError(f"message of {size} bytes exceeds the {limit}-byte limit")
    body = bytearray()
    while len(body) < size:
        chunk = sock.recv(min(CHUNK, size - len(body)))
        if not chunk:
            raise EOFError("peer closed mid-message")
        body += chunk
    return json.loads(body), fds


def received_fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            fds.extend(struct.unpack(f"{usable // 4}i", data[:usable]))
    return fds


def send_pid(sock: socket.socket, tag: bytes) -> None:
    """Send ``tag`` with our credentials; the kernel translates the pid into the launcher's view."""
    creds = struct.pack("iII", os.getpid(), os.getuid(), os.getgid())
    sock.sendmsg([tag], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])


# ---------------------------------------------------------------- the root file system


def _make_mount_point(path: str, is_dir: bool) -> None:
    os.makedirs(path if is_dir else os.path.dirname(path), mode=0o755, exist_ok=True)
    if not is_dir and not os.path.exists(path):
        with open(path, "wb"):
            pass


def _bind_read_only(source: str, target: str) -> None:
    _make_mount_point(target, os.path.isdir(source))
    mount(source, target, None, MS_BIND | MS_REC)
    make_read_only(target)


def _build_dev(root: str) -> None:
    dev = root + "/dev"
    os.makedirs(dev, mode=0o755)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")
    for name in ("null", "zero", "full", "random", "urandom"):
        _make_mount_point(f"{dev}/{name}", is_dir=False)
        mount(f"/oldroot/dev/{name}", f"{dev}/{name}", None, MS_BIND)
        make_read_only(f"{dev}/{name}", recursive=False, attrs=MOUNT_ATTR_NOSUID)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{dev}/{name}")
    os.makedirs(f"{dev}/shm", mode=0o755)
    make_read_only(dev, recursive=False)


def build_root(config: ServerConfig) -> None:
    """As root in a fresh mount namespace: assemble the sandbox's root and pivot into it."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
    os.mkdir("/tmp/newroot")
    os.mkdir("/tmp/oldroot")
    pivot_root("/tmp", "/tmp/oldroot")
    os.chdir("/")
    root = "/newroot"
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for source, target in config["binds"]:
        _bind_read_only("/oldroot" + source, root + target)
    for target, link in config["symlinks"]:
        os.makedirs(os.path.dirname(root + link), mode=0o755, exist_ok=True)
        os.symlink(target, root + link)
    for path in config["masks"]:
        if os.path.isdir(root + path):
            mount("tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0755")
    for path, content in config["files"].items():
        os.makedirs(os.path.dirname(root + path), mode=0o755, exist_ok=True)
        with open(root + path, "w") as handle:
            handle.write(content)
    _build_dev(root)
    for path in ("/proc", WORKDIR, "/tmp"):
        os.makedirs(root + path, mode=0o755, exist_ok=True)
    # A visible procfs must exist in the namespace for the jobs' own /proc mounts to be allowed;
    # each job mounts a fresh one over it, and this copy stays locked underneath.
    mount("/oldroot/proc", root + "/proc", None, MS_BIND | MS_REC)
    umount("/oldroot")
    os.chdir(root)
    pivot_root(".", ".")
    umount(".")
    os.chdir("/")
    make_read_only("/", recursive=False)


def drop_to_unprivileged(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


# ---------------------------------------------------------------- the fork server


def preload() -> None:
    """Import the standard modules candidates use most, once, so that no job pays for them.

    Only the standard library is visible here, and importing holds no job data. ``random``
    is re-seeded in every candidate (``become_candidate``), or all jobs would share one stream.
    """
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass


def load_modules(modules: dict[str, str]) -> None:
    """Load the launcher's preloaded modules (``Sandbox.preload``), in order, before any job.

    They come from the launcher, never from a job; one that fails stops the server with an
    error naming it, since jobs would otherwise import a module that is not there.
    """
    for name, source in modules.items():
        module = types.ModuleType(name)
        module.__file__ = f"{name}.py"
        sys.modules[name] = module
        try:
            exec(compile(source, module.__file__, "exec", dont_inherit=True), module.__dict__)  # not this file's __future__ flags
        except Exception as exc:  # noqa: BLE001  (whatever it raised, the server must not start)
            del sys.modules[name]
            raise OSError(f"cannot preload module {name}: {type(exc).__name__}: {exc}") from None


def serve(control: socket.socket, config: ServerConfig) -> None:
    """Fork one job init per "F" request, load the modules of an "M" one; return only in a candidate
    process (via BecomeCandidate)."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # reap jobs and orphans automatically
    settings = JobSettings(config["netns_per_job"], config["scope_sockets"], base64.b64decode(config["seccomp"]))
    preload()
    load_modules(config["modules"])
    gc.freeze()  # children's collections then skip (and do not copy-on-write) the server's objects
    own_pid_namespace = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    control.send(b"READY")
    while True:
        try:
            message, ancillary, _, _ = control.recvmsg(16, socket.CMSG_SPACE(struct.calcsize("i")))
        except InterruptedError:
            continue
        fds = received_fds(ancillary)
        if not message:
            os._exit(0)
        if message == b"M" and len(fds) == 1:
            load_modules(cast(dict[str, str], json.loads(_read_all(fds[0]))))
            gc.freeze()
        elif message == b"F" and len(fds) == 1 and _forked_job(own_pid_namespace):
            os.close(own_pid_namespace)
            control.close()
            _run_child(functools.partial(job_init, fds[0], settings))
        for fd in fds:
            os.close(fd)  # a job that could not be forked: its launcher sees the socket close


def _read_all(fd: int) -> bytes:
    chunks = [os.read(fd, CHUNK)]
    while chunks[-1]:
        chunks.append(os.read(fd, CHUNK))
    return b"".join(chunks)


def _forked_job(own_pid_namespace: int) -> bool:
    """True in the job's init; False in the fork server, also when no job could be forked."""
    try:
        return fork_into_new_pid_namespace(own_pid_namespace) == 0
    except OSError as exc:  # out of namespaces or processes: this job fails, the server goes on
        os.write(2, f"proctor fork server: cannot start a job: {exc}\n".encode())
        return False


def fork_into_new_pid_namespace(own: int) -> int:
    """Fork a child that is PID 1 of a fresh PID namespace; this process stays in its own.

    unshare(CLONE_NEWPID) moves only the children to come, so the fork server unshares, forks,
    and points its children back at its own namespace (``own``: an fd of /proc/self/ns/pid).
    One fork per job instead of a fork that unshares and forks again.
    """
    unshare(CLONE_NEWPID)
    child = -1
    try:
        child = os.fork()
    finally:
        if child != 0 and _libc.setns(own, CLONE_NEWPID) != 0:  # in the fork server, forked or not
            os._exit(1)  # stuck making PID 1s in the old namespace: the launcher starts a new server
    return child


def _run_child(body: Callable[[], None]) -> None:
    """Run ``body`` in a forked child; any failure ends the child, never the parent's loop."""
    try:
        body()
    except BecomeCandidate:
        raise
    except BaseException as exc:  # noqa: BLE001  (a child must never return into the loop)
        try:
            os.write(2, f"proctor sandbox child: {exc}\n".encode())
        finally:
            os._exit(125)
    os._exit(0)


def _mount_job_filesystems(spec: JobSpec) -> None:
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    size = spec["disk_bytes"]
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"size={size},mode=1777")
    mount("tmpfs", WORKDIR, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0755,uid={CANDIDATE_UID},gid={CANDIDATE_UID}")


def _write_files(files: dict[str, str]) -> None:
    """Write the job's files into its workdir, owned by the candidate (os calls: no walk, few objects)."""
    made = {WORKDIR}
    for path, encoded in files.items():
        full = os.path.join(WORKDIR, path)
        _make_owned_dirs(os.path.dirname(full), made)
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            data = memoryview(base64.b64decode(encoded))
            while data:  # a short write (the size cap reached) ends in ENOSPC on the next one
                data = data[os.write(fd, data) :]
            os.fchown(fd, CANDIDATE_UID, CANDIDATE_UID)
        finally:
            os.close(fd)


def _make_owned_dirs(directory: str, made: set[str]) -> None:
    if directory in made:
        return
    _make_owned_dirs(os.path.dirname(directory), made)
    try:
        os.mkdir(directory, 0o755)
    except FileExistsError:
        pass
    os.lchown(directory, CANDIDATE_UID, CANDIDATE_UID)
    made.add(directory)


def _stdin_fd(data: str) -> int:
    fd = os.memfd_create("stdin")
    os.write(fd, base64.b64decode(data))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def job_init(fd: int, settings: JobSettings) -> None:
    """PID 1 of the job: set up, run the candidate, kill what is left, report."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sock = socket.socket(fileno=fd)
    send_pid(sock, b"P")  # the launcher puts us in the job's cgroups (meanwhile we unshare), then sends the job
    flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS
    if settings.netns_per_job:
        flags |= CLONE_NEWNET
    unshare(flags)
    message, fds = receive_message(sock)
    spec = cast(JobSpec, message)  # from the launcher, over a socket only it and this init hold
    _mount_job_filesystems(spec)
    socket.sethostname("sandbox")
    _write_files(spec["files"])
    stdin = _stdin_fd(spec["stdin"])
    pid = os.fork()
    if pid == 0:
        sock.close()
        become_candidate(spec, [stdin, *fds], settings)
    for fd in (stdin, *fds):
        os.close(fd)
    status = _wait_for(pid)
    _kill_everything_else()
    drop_to_unprivileged(CANDIDATE_UID)  # collect with the candidate's own rights, no more
    report: JobReport = {"status": status, "files": _collect(spec["collect"], spec["output_bytes"])}
    send_message(sock, report)


def _wait_for(pid: int) -> int:
    while True:
        try:
            reaped, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        if reaped == pid:
            return status


def _kill_everything_else() -> None:
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        return
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def _collect(paths: list[str], limit: int) -> dict[str, str]:
    found = {}
    for path in paths:
        try:
            fd = os.open(os.path.join(WORKDIR, path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and info.st_size <= limit:
                found[path] = base64.b64encode(os.read(fd, limit + 1)[:limit]).decode()
        finally:
            os.close(fd)
    return found


def become_candidate(spec: JobSpec, fds: list[int], settings: JobSettings) -> None:
    """In the candidate process: shed every privilege, then exec or run the job's Python."""
    os.setsid()
    for target, fd in enumerate(fds):  # stdin, stdout, stderr and, when given, the channel (3)
        os.dup2(fd, target)
    os.closerange(len(fds), 65536)
    for kind, soft, hard in spec["rlimits"]:
        resource.setrlimit(kind, (soft, hard))
    drop_to_unprivileged(CANDIDATE_UID)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if settings.scope_sockets:
        scope_abstract_sockets()
    if settings.seccomp:
        install_seccomp(settings.seccomp)
    os.chdir(WORKDIR)
    os.environ.clear()
    os.environ.update(spec["env"])
    argv = spec["command"]
    if spec["warm"]:
        if "random" in sys.modules:
            sys.modules["random"].seed()  # the fork server's state is every job's otherwise
        raise BecomeCandidate(argv)
    for signum in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    try:
        os.execvpe(argv[0], argv, dict(os.environ))
    except OSError as exc:
        os.write(2, f"cannot execute {argv[0]!r}: {exc.strerror}\n".encode())
    os._exit(127)


# ---------------------------------------------------------------- the candidate's Python


def run_python(argv: list[str]) -> None:
    """Run ``python SCRIPT|-c CODE|-m MODULE [args]`` in this (forked, warm) interpreter."""
    args = argv[1:]
    stdlib = [p for p in sys.path if p]
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = __builtins__
    if args and args[0] == "-m":
        import runpy

        sys.argv = ["-m", *args[2:]]
        sys.path[:] = [os.getcwd(), *stdlib]
        runpy._run_module_as_main(args[1])  # type: ignore[attr-defined]  # what `python -m` does
        return
    if args and args[0] == "-c":
        sys.argv, filename, source = ["-c", *args[2:]], "<string>", args[1].encode()
        sys.path[:] = ["", *stdlib]
    else:
        sys.argv, filename = list(args), args[0]
        sys.path[:] = [os.path.dirname(os.path.abspath(filename)), *stdlib]
        main.__file__ = filename
        with open(filename, "rb") as handle:
            source = handle.read()
    sys.modules["__main__"] = main
    exec(compile(source, filename, "exec", dont_inherit=True), main.__dict__)  # plain Python: not this file's __future__ flags


def start(config: ServerConfig, control: socket.socket) -> None:
    """Build the root, drop privileges, enter the namespaces and serve (see the module doc)."""
    build_root(config)
    drop_to_unprivileged(config["uid"])
    unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
    control.send(b"MAP")
    if control.recv(16) != b"MAPPED":
        os._exit(1)
    child = os.fork()
    if child != 0:
        control.close()
        _, status = os.waitpid(child, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the launcher kills the outer process on close
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    serve(control, config)


def run_candidate(argv: list[str]) -> None:
    """Run the job's Python, then exit the way ``Py_FinalizeEx`` would, minus module teardown.

    What a program can observe of a normal exit happens: the exit status (including
    ``SystemExit`` codes and 1 after an uncaught exception's traceback), non-daemon threads
    joined, atexit handlers run, stdio flushed (status 120 if that fails). Tearing down the
    modules of a forked interpreter costs ~9 ms per job and is not observable, so it is skipped.
    """
    try:
        run_python(argv)
        code = 0
    except SystemExit as exc:
        code = _system_exit_code(exc)
    except BaseException as exc:  # noqa: BLE001  (report it exactly as the interpreter would)
        sys.excepthook(type(exc), exc, _candidate_frames(exc.__traceback__))
        code = 1
    _finish(code)


def _system_exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _candidate_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return tb


def _finish(code: int) -> None:
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()  # join non-daemon threads
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120
    os._exit(code)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    message, _ = receive_message(control)
    config = cast(ServerConfig, message)  # from the launcher that started this process
    try:
        start(config, control)
    except BecomeCandidate as become:
        del message, config, control  # nothing of the launcher's message stays reachable from the candidate
        run_candidate(become.argv)
    except OSError as exc:
        try:
            control.send(f"ERROR {exc}".encode()[:4000])
        finally:
            os._exit(1)


if __name__ == "__main__":
    main()
