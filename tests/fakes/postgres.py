"""A real PostgreSQL for the tests: Debian's server binaries, a cluster in a temporary directory.

`initdb` and `pg_ctl` refuse to run as root: as root (CI) the cluster belongs to `nobody` and the
commands run through `runuser`. The server listens on a free 127.0.0.1 port with trust
authentication and its socket in the cluster's directory; `stop()` removes everything.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_bin(name: str) -> str | None:
    """`initdb`/`pg_ctl` on PATH, else in Debian's versioned directory (not on PATH by default)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One cluster; `url(db)` for a database in it, `create_database(name)` to make one."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        self.root = Path(tempfile.mkdtemp(prefix="quotebot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root and runuser is not available to drop to 'nobody'")
            os.chown(self.root, 65534, 65534)
            self.as_user = [runuser, "-u", "nobody", "--"]

    def why_not(self) -> str | None:
        """Why no server can be had here, or None."""
        if self.initdb is None or self.pg_ctl is None:
            return "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return 'psycopg is not installed: pip install -e ".[test]"'
        return None

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True, timeout=120, cwd=self.root)

    def start(self) -> None:
        self._run(str(self.initdb), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.resume()

    def pause(self) -> None:
        """Stop the server, keeping its data: clients see a database that does not answer."""
        self._run(str(self.pg_ctl), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        """Start (again) on the same port, with the same data."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.pg_ctl), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        if self.data.exists() and self.pg_ctl:
            subprocess.run(
                [*self.as_user, str(self.pg_ctl), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                cwd=self.root,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)
