"""A throwaway PostgreSQL server for the team-mode tests and benchmark.

Uses the Debian ``postgresql`` package's binaries (``apt-get install -y postgresql``): ``initdb`` and
``pg_ctl`` run as an unprivileged OS user (the server refuses to run as root; as root we switch to the
package's ``postgres`` user with ``runuser``). Data folder and unix socket live in a temporary folder; the
server also listens on a free loopback port, where logins need a password (scram-sha-256). The OS user
running the tests connects as the superuser ``postgres`` through the socket (trust).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "s3cret-test-pw"


def pg_bin() -> Path | None:
    """The folder of the newest installed PostgreSQL server binaries, or None (always on Windows).

    The throwaway server is reached through a Unix socket and run as the ``postgres`` user when root:
    POSIX only, so the team-mode tests are skipped on Windows (unless CI requires them).
    """
    if sys.platform == "win32":
        return None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway server.

    Attributes:
        root: Temporary folder (data in ``root/data``, socket in ``root``).
        port: Loopback TCP port.
        bin: Server binaries.
    """

    root: Path
    port: int
    bin: Path

    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``pg_ctl ARGS`` on this server's data folder as the server's OS user."""
        command = self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), *args])
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        """Start (or restart after a stop) and wait until it accepts connections."""
        self.ctl("-w", "-t", "60", "-l", str(self.root / "server.log"), "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate`` is a crash: no checkpoint)."""
        self.ctl("-w", "-m", mode, "stop", check=False)

    def admin_url(self, dbname: str = "postgres") -> str:
        """Superuser URL through the unix socket (trust)."""
        return f"postgresql://postgres@/{dbname}?host={self.root}&port={self.port}"

    def url(self, user: str, dbname: str = "credit", password: str = PASSWORD) -> str:
        """Loopback TCP URL of a login role."""
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        """Run one statement as the superuser."""
        import psycopg

        with psycopg.connect(self.admin_url(dbname), autocommit=True) as conn:
            conn.execute(statement.encode())

    def create_login(self, name: str, *roles: str, dbname: str = "credit") -> str:
        """Create a login role (member of ``roles``) and return its loopback URL."""
        grant = f" IN ROLE {', '.join(roles)}" if roles else ""
        self.sql(f"CREATE ROLE {name} LOGIN PASSWORD '{PASSWORD}'{grant}")
        return self.url(name, dbname)


@contextlib.contextmanager
def throwaway_server(fsync: bool = True) -> Iterator[PgServer]:
    """Start a server in a temporary folder; stop it and remove everything at the end.

    Args:
        fsync: False only for the benchmark's "no flush cost" comparison (never for durability checks).
    """
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install -y postgresql")
    root = Path(tempfile.mkdtemp(prefix="credit-tui-pg-"))
    server = PgServer(root, _free_port(), binaries)
    try:
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        root.chmod(0o755)
        pwfile = root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(
            server._as_owner(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(root / "data"),
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ]
            ),
            capture_output=True,
            text=True,
            check=True,
            timeout=180,
        )
        with (root / "data" / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {server.port}\n"
                f"unix_socket_directories = '{root}'\nfsync = {'on' if fsync else 'off'}\n"
                "synchronous_commit = on\n"
                "max_connections = 60\nshared_buffers = 32MB\n"
            )
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class TeamLog:
    """The session's PostgreSQL server with the team log in the database ``credit``.

    Attributes:
        server: The running server (``tests/pg_server.py``).
    """

    server: PgServer

    def new_database(self) -> str:
        """Empty the team log of ``credit`` (as a superuser, triggers off) and return that database's name.

        Much cheaper than a database per test (CREATE DATABASE copies and fsyncs ~7 MB each time).
        """
        self.server.sql(
            "SET session_replication_role = replica; "
            "TRUNCATE credit_audit.reviews, credit_audit.decisions; "
            "DELETE FROM credit_audit.meta; "
            "INSERT INTO credit_audit.meta VALUES "
            "('schema_version', '3'), ('four_eyes_pd', '0.5'), ('packed_until', '0')",
            "credit",
        )
        return "credit"

    def url(self, user: str, dbname: str) -> str:
        """Loopback URL of a login role (alice, bob: advisors; sue, sam: supervisors; nobody: no rights)."""
        return self.server.url(user, dbname)
