"""The peer: `mbsync` (isync) with its default settings, mirroring every folder into a Maildir."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures.dovecot import Dovecot

from bench.sync import proc
from bench.sync import server as imap_server
from bench.sync.server import BenchError, Mailbox

# Only what is needed to reach the server and say where the mail goes; everything else
# (pipelining, fsync, flags, Sync All, no CopyArrivalDate) is isync's default.
MBSYNCRC = """\
IMAPAccount bench
Host {host}
Port {port}
User {user}
Pass {password}
{tls_key} None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {path}/
Inbox {inbox}
SubFolders Verbatim

Channel bench
Far :remote:
Near :local:
Patterns *
Create Near
SyncState *
"""


@dataclass(frozen=True, slots=True)
class PeerRun:
    seconds: float
    cpu_s: float  # mbsync's own user + system time
    dovecot_cpu_s: float  # what Dovecot spent serving it
    messages: int  # files in the Maildir afterwards
    bytes: int
    machine_busy_s: float | None  # CPU seconds of the whole machine while it ran

    @property
    def others(self) -> float | None:
        """Cores used by other processes than mbsync and Dovecot while it ran (noise)."""
        if self.machine_busy_s is None:
            return None
        used = self.cpu_s + self.dovecot_cpu_s
        return max(0.0, (self.machine_busy_s - used) / self.seconds)


def _tls_key(version: str) -> str:
    """isync 1.5 renamed SSLType to TLSType; 1.4 (Debian 12) knows only SSLType."""
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return "SSLType"
    return "TLSType" if (major, minor) >= (1, 5) else "SSLType"


def write_config(workdir: Path, server: Dovecot, mailbox: Mailbox, *, version: str) -> Path:
    mail = workdir / "mail"
    mail.mkdir(parents=True, exist_ok=True)
    config = workdir / "mbsyncrc"
    config.write_text(
        MBSYNCRC.format(
            host=server.host,
            port=server.imap_port,
            user=mailbox.username,
            password=mailbox.password,
            tls_key=_tls_key(version),
            path=mail,
            inbox=mail / "INBOX",
        )
    )
    config.chmod(0o600)
    return config


def run_mbsync(
    workdir: Path, server: Dovecot, mailbox: Mailbox, *, version: str, expected: int
) -> PeerRun:
    """`mbsync -c <rc> -a` once, timed from start to exit; the Maildir must then hold
    `expected` messages."""
    config = write_config(workdir, server, mailbox, version=version)
    log = workdir / "mbsync.log"
    dovecot_before = imap_server.cpu_seconds(server)
    with log.open("wb") as output:
        machine_before = proc.machine()
        started = time.monotonic()
        child = subprocess.Popen(
            ["mbsync", "-c", str(config), "-a"], stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _pid, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
        seconds = time.monotonic() - started
        machine_busy = proc.busy_between(machine_before, proc.machine())
    child.returncode = os.waitstatus_to_exitcode(status)
    dovecot_cpu = imap_server.cpu_seconds(server) - dovecot_before
    if child.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchError(f"mbsync exited with {child.returncode}:\n{tail}")
    mail = workdir / "mail"
    messages = imap_server.file_count(mail)
    if messages != expected:
        raise BenchError(f"mbsync left {messages} messages in {mail}, expected {expected}")
    size = sum(
        (Path(directory) / name).stat().st_size
        for directory, _subdirs, files in os.walk(mail)
        if os.path.basename(directory) in ("cur", "new")
        for name in files
    )
    return PeerRun(
        seconds=seconds,
        cpu_s=usage.ru_utime + usage.ru_stime,
        dovecot_cpu_s=dovecot_cpu,
        messages=messages,
        bytes=size,
        machine_busy_s=machine_busy,
    )
