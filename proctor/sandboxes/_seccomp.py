"""The seccomp filter installed in every namespace-sandbox candidate, built with libseccomp.

Defence in depth behind the namespaces: a candidate has no capabilities, but the kernel's
namespace, mount, tracing, BPF and keyring interfaces are its largest attack surface, and no
honest solution needs them. Denied calls fail with EPERM (clone3 with ENOSYS, so that libc
falls back to clone, whose namespace flags can be inspected). Other architectures' system call
tables are killed outright by libseccomp's default bad-arch action.

Sockets: only ``AF_UNIX`` may be created. Every other family is refused (EAFNOSUPPORT, as if the
kernel lacked it): netlink messages queued on a job's own sockets are not charged to its memory
cgroup (a job pinned 1 GiB under a 64 MiB limit) and ``NETLINK_USERSOCK`` carries data between
jobs sharing a network namespace; packet, INET and the rest offer nothing to a program that is
offline by design but ports and tables shared between jobs. Socket ioctls (``SIOC*``, 0x89xx)
are refused too: on the channel, which the launcher made in its own namespace, they would list
the host's interfaces and addresses.
"""

from __future__ import annotations

import errno
import functools
import json
import tempfile

DENIED = (
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "mount_setattr",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "open_by_handle_at",
    "name_to_handle_at",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "reboot",
    "swapon",
    "swapoff",
    "syslog",
    "acct",
    "quotactl",
    "fanotify_init",
    "inotify_init",  # watches on the read-only host files bound into every job see other jobs open them
    "inotify_init1",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "vhangup",
    "iopl",
    "ioperm",
    "lookup_dcookie",
)
AF_UNIX = 1
SOCKET_FAMILIES = range(2, 64)  # every family but AF_UNIX (AF_MAX is 46 today; room for new ones)
SOCKET_IOCTLS = (0xFF00, 0x8900)  # (mask, value): the SIOC* requests
NAMESPACE_FLAGS = (0x00020000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x02000000)


def unavailable_reason() -> str | None:
    """Why the filter cannot be built here, or None when it can."""
    try:
        program()
    except Exception as exc:  # noqa: BLE001  (libseccomp missing or unloadable: report, don't crash)
        return f"libseccomp unavailable ({exc}); install Debian's libseccomp2"
    return None


@functools.cache
def program() -> bytes:
    """The filter as a raw BPF program for ``prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)``."""
    import pyseccomp as seccomp  # lazy: loads libseccomp through ctypes

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):
            continue  # not a system call on this architecture
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for family in SOCKET_FAMILIES:
        for call in ("socket", "socketpair"):
            # the kernel reads the family as a 32-bit int: compare only those bits, or high ones would slip past
            rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), call, seccomp.Arg(0, seccomp.MASKED_EQ, 0xFFFFFFFF, family))
    rules.add_rule(seccomp.ERRNO(errno.EPERM), "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, *SOCKET_IOCTLS))
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()


@functools.cache
def docker_profile() -> str:
    """The same filter as a Docker seccomp profile (``security_opt=["seccomp=<this>"]``), replacing
    Docker's default: that one lets a job ``ptrace`` its own ``docker-init`` (same uid) and forge the
    exit status, and open netlink sockets whose queued messages escape the memory limit."""
    rules: list[dict[str, object]] = [
        {"names": list(DENIED), "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS},
    ]
    rules += [
        {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM, "args": [_masked(0, flag, flag)]}
        for flag in NAMESPACE_FLAGS
    ]
    refuse_family = {"names": ["socket", "socketpair"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EAFNOSUPPORT}
    rules += [{**refuse_family, "args": [_masked(0, 0xFFFFFFFF, family)]} for family in SOCKET_FAMILIES]
    rules.append({"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM, "args": [_masked(1, *SOCKET_IOCTLS)]})
    return json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules})


def _masked(index: int, mask: int, value: int) -> dict[str, object]:
    return {"index": index, "value": mask, "valueTwo": value, "op": "SCMP_CMP_MASKED_EQ"}
