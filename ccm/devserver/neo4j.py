"""A real local Neo4j 5.26 Community server for tests, benchmarks and trying CCM out.

The jars come from Maven Central (``mvn dependency:build-classpath`` on the
bundled ``launcher/pom.xml``); a ten-line Java launcher, compiled once with
``javac``, starts the database with the Bolt connector on 127.0.0.1. Build
products are cached under ``$XDG_CACHE_HOME/ccm/neo4j-launcher``.

Run one by hand::

    python -m ccm.devserver.neo4j --port 7687      # then NEO4J_URI=bolt://127.0.0.1:7687
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from ccm.errors import CCMError

NEO4J_VERSION = "5.26.30"
READY = "CCM-NEO4J-READY"


class Neo4jUnavailable(CCMError):
    """A local Neo4j server could not be built or started here (says why)."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ccm" / "neo4j-launcher" / NEO4J_VERSION


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        raise Neo4jUnavailable(f"{cmd[0]} is not installed: it is needed to {what}") from None
    except subprocess.TimeoutExpired:
        raise Neo4jUnavailable(f"{what} took more than 15 minutes: gave up") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise Neo4jUnavailable(f"could not {what} ({' '.join(cmd[:3])} exit "
                               f"{proc.returncode}):\n{tail}")


def build_launcher(log: bool = False) -> str:
    """Fetch Neo4j's jars and compile the launcher (once); return the Java classpath."""
    out = cache_dir()
    cp_file, classes = out / "classpath.txt", out / "classes"
    marker = classes / "io" / "ccm" / "Neo4jLauncher.class"
    if cp_file.exists() and marker.exists():
        return f"{classes}{os.pathsep}{cp_file.read_text().strip()}"
    for tool in ("java", "javac", "mvn"):
        if shutil.which(tool) is None:
            raise Neo4jUnavailable(f"{tool} is not on PATH: a local Neo4j needs Java 17 "
                                   "(java, javac) and Maven (mvn)")
    out.mkdir(parents=True, exist_ok=True)
    src = resources.files("ccm.devserver") / "launcher"
    for name in ("pom.xml", "Neo4jLauncher.java"):
        (out / name).write_bytes((src / name).read_bytes())
    if log:
        print(f"ccm: fetching Neo4j {NEO4J_VERSION} jars from Maven Central into ~/.m2 ...",
              file=sys.stderr)
    _run(["mvn", "-q", "-B", "-f", str(out / "pom.xml"), "dependency:build-classpath",
          f"-Dmdep.outputFile={cp_file}"], out, "fetch Neo4j's jars with Maven")
    classes.mkdir(exist_ok=True)
    _run(["javac", "--release", "17", "-cp", cp_file.read_text().strip(), "-d", str(classes),
          str(out / "Neo4jLauncher.java")], out, "compile the Neo4j launcher")
    return f"{classes}{os.pathsep}{cp_file.read_text().strip()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalNeo4j:
    """A Neo4j server process on 127.0.0.1; use as a context manager.

    >>> with LocalNeo4j() as server:            # doctest: +SKIP
    ...     print(server.uri)
    """

    def __init__(self, port: int | None = None, home: Path | None = None,
                 heap: str = "1g", startup_timeout: float = 180.0) -> None:
        self.port = port or free_port()
        self.uri = f"bolt://127.0.0.1:{self.port}"
        self._tmp = None if home else tempfile.TemporaryDirectory(prefix="ccm-neo4j-")
        self.home = home or Path(self._tmp.name)  # type: ignore[union-attr]
        self.heap = heap
        self.timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self._output: list[str] = []

    def start(self) -> LocalNeo4j:
        classpath = build_launcher(log=True)
        cmd = ["java", f"-Xmx{self.heap}", "-XX:+UseSerialGC", "-cp", classpath,
               "io.ccm.Neo4jLauncher", str(self.home), str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(ready,), daemon=True).start()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if ready.is_set() and self._accepts_bolt():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        tail = "\n".join(self._output[-20:])
        raise Neo4jUnavailable(f"Neo4j did not start within {self.timeout:.0f}s:\n{tail}")

    def _pump(self, ready: threading.Event) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._output.append(line.rstrip())
            del self._output[:-200]
            if line.startswith(READY):
                ready.set()

    def _accepts_bolt(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=1):
            return True
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> LocalNeo4j:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def neo4j_uri() -> Iterator[str]:
    """``NEO4J_URI`` when set, else a local server for the duration of the block."""
    if os.environ.get("NEO4J_URI"):
        yield os.environ["NEO4J_URI"]
        return
    with LocalNeo4j() as server:
        yield server.uri


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ccm.devserver.neo4j",
        description="Run a local Neo4j 5.26 Community server (Bolt on 127.0.0.1, no auth) "
                    "until interrupted. Jars come from Maven Central.")
    parser.add_argument("--port", type=int, default=7687)
    parser.add_argument("--data", type=Path, default=None,
                        help="database folder (default: a temporary one, deleted on exit)")
    parser.add_argument("--heap", default="1g", help="Java heap size (default 1g)")
    args = parser.parse_args(argv)
    try:
        server = LocalNeo4j(args.port, args.data, args.heap).start()
    except Neo4jUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Neo4j {NEO4J_VERSION} is up: NEO4J_URI={server.uri}  (Ctrl-C stops it)")
    try:
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
