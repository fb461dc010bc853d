"""The seccomp filter installed in every namespace-sandbox candidate, built with libseccomp.

Defence in depth behind the namespaces: a candidate has no capabilities, but the kernel's
namespace, mount, tracing, BPF and keyring interfaces are its largest attack surface, and no
honest solution needs them. Denied calls fail with EPERM (clone3 with ENOSYS, so that libc
falls back to clone, whose namespace flags can be inspected). Other architectures' system call
tables are killed outright by libseccomp's default bad-arch action.
"""

from __future__ import annotations

import errno
import functools
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
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()
