"""A real Redis Cluster for tests marked `redis`: 3 masters and 3 replicas, 6 `redis-server` processes on
free loopback ports in a temporary directory, joined by `redis-cli --cluster create`.

`redis_cluster()` starts one (optionally with TLS and an ACL user, see `TlsFiles`), and `RedisClusterNodes`
answers which node holds a key and stops or kills nodes for failover tests. The `redis_cluster_url`
fixture (in `tests/conftest.py`) is one cluster for the whole test session; its processes are always
stopped at the end.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from support.processes import kill_process, stop_process
from support.server import free_port

__all__ = [
    "APP_PASSWORD",
    "APP_USER",
    "ClusterNode",
    "RedisClusterNodes",
    "TlsFiles",
    "admin",
    "make_tls_files",
    "redis_cluster",
    "tls_redis_server",
]

APP_USER, APP_PASSWORD = "app", "app-secret"
"""The ACL user every test server knows: the keys and channels of the default prefix and of tests."""
ADMIN_PASSWORD = "admin-secret"
"""The `default` user's password (the tests' administration connections and the nodes' replication)."""
_APP_RULES = [
    "on",
    f">{APP_PASSWORD}",
    "~pymcp:*",
    "&pymcp:*",
    "~test-*",
    "&test-*",
    "+@all",
    "-@dangerous",
    "+cluster|info",
]


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway certificate authority and a server certificate for 127.0.0.1 (PEM files)."""

    ca: Path
    cert: Path
    key: Path

    def server_args(self) -> list[str]:
        args = ["--tls-cert-file", str(self.cert), "--tls-key-file", str(self.key)]
        return [*args, "--tls-ca-cert-file", str(self.ca), "--tls-auth-clients", "no"]


def make_tls_files(directory: Path) -> TlsFiles:
    """Write a CA and a server certificate signed by it (valid for an hour, for IP 127.0.0.1)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(
        subject: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name | None,
        signer: ec.EllipticCurvePrivateKey,
    ) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
        builder = builder.public_key(key.public_key()).serial_number(x509.random_serial_number())
        builder = builder.not_valid_before(now - datetime.timedelta(minutes=1))
        builder = builder.not_valid_after(now + datetime.timedelta(hours=1))
        if issuer is None:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        else:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("pymcp test CA", ca_key, None, ca_key)
    server_cert = certificate("127.0.0.1", server_key, ca_cert.subject, ca_key)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


def server_args(port: int, workdir: Path, tls: TlsFiles | None) -> list[str]:
    """A `redis-server` command line: no persistence, loopback only, the ACL `app` user, and either a
    plain `port` or a TLS-only one."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("`redis-server` is not on PATH: run `make system-deps` to install it", pytrace=False)
    args = [binary, "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "", "--appendonly", "no"]
    args += ["--loglevel", "warning", "--requirepass", ADMIN_PASSWORD, "--masterauth", ADMIN_PASSWORD]
    args += ["--user", APP_USER, *_APP_RULES]
    if tls is None:
        return [*args, "--port", str(port)]
    return [*args, "--port", "0", "--tls-port", str(port), *tls.server_args()]


def admin(port: int, tls: TlsFiles | None = None) -> redis.Redis:
    """A plain synchronous connection to one node as the `default` user."""
    extra = {"ssl": True, "ssl_ca_certs": str(tls.ca)} if tls else {}
    return redis.Redis(host="127.0.0.1", port=port, password=ADMIN_PASSWORD, socket_timeout=5, **extra)


@dataclass
class ClusterNode:
    port: int
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """The node vanishes without a word, like a crashed host."""
        kill_process(self.process)

    def stop(self) -> None:
        stop_process(self.process)


@dataclass
class RedisClusterNodes:
    """The running nodes of one test cluster."""

    nodes: list[ClusterNode]
    tls: TlsFiles | None = None
    killed: set[int] = field(default_factory=set)

    def url(self, *, user: str = APP_USER, password: str = APP_PASSWORD) -> str:
        """The store URL (the ACL user's credentials; any node will do: the first)."""
        if self.tls is None:
            return f"redis+cluster://{user}:{password}@127.0.0.1:{self.nodes[0].port}"
        return f"rediss+cluster://{user}:{password}@127.0.0.1:{self.nodes[0].port}?ssl_ca_certs={self.tls.ca}"

    def live(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.port not in self.killed]

    def _cluster_nodes(self) -> list[list[str]]:
        with admin(self.live()[0].port, self.tls) as client:
            text = client.execute_command("CLUSTER", "NODES")
        if isinstance(text, bytes):
            text = text.decode()
        return [line.split() for line in text.splitlines() if line.strip()]

    def master_of(self, key: str) -> int:
        """The port of the master that holds `key`'s slot now."""
        with admin(self.live()[0].port, self.tls) as client:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
        for line in self._cluster_nodes():
            if "master" not in line[2] or "fail" in line[2]:
                continue
            for served in line[8:]:
                low, _, high = served.partition("-")
                if not served.startswith("[") and int(low) <= slot <= int(high or low):
                    return int(line[1].split(":")[1].split("@")[0])
        raise AssertionError(f"no master serves slot {slot}")

    def wait_replicated(self, port: int, timeout: float = 10.0) -> None:
        """Until every replica of the master on `port` has acknowledged all of its writes: Redis replicates
        asynchronously, so only what reached a replica survives that master's failover."""
        deadline = time.monotonic() + timeout
        while True:
            with admin(port, self.tls) as client:
                info = client.info("replication")
            offsets = [info[f"slave{i}"]["offset"] for i in range(info.get("connected_slaves", 0))]
            if offsets and min(offsets) >= info["master_repl_offset"]:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"the replicas of the redis node on port {port} did not catch up", pytrace=False)
            time.sleep(0.05)

    def kill(self, port: int) -> None:
        next(node for node in self.nodes if node.port == port).kill()
        self.killed.add(port)

    def wait_until_healthy(self, timeout: float = 30.0) -> None:
        """Until every live node says `cluster_state:ok` and agrees on which masters serve the slots."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                states, views = set(), set()
                for node in self.live():
                    with admin(node.port, self.tls) as client:
                        info = client.execute_command("CLUSTER", "INFO")
                        states.add(info if isinstance(info, str) else info.decode())
                        views.add(self._masters_seen_by(client))
                if all("cluster_state:ok" in state for state in states) and len(views) == 1:
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the test redis cluster did not become healthy", pytrace=False)
            time.sleep(0.05)

    @staticmethod
    def _masters_seen_by(client: redis.Redis) -> tuple[str, ...]:
        text = client.execute_command("CLUSTER", "NODES")
        text = text if isinstance(text, str) else text.decode()
        lines = [line.split() for line in text.splitlines() if line.strip()]
        return tuple(sorted(line[1] for line in lines if "master" in line[2] and "fail" not in line[2]))

    def stop(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.terminate()  # all at once: each takes a moment to shut down
        for node in self.nodes:
            node.stop()


@contextmanager
def redis_cluster(
    *, tls: TlsFiles | None = None, startup_timeout: float = 30.0
) -> Iterator[RedisClusterNodes]:
    """Start 3 masters with one replica each (cluster node timeout 1 s, so a replica takes over a killed
    master within about 2 s); every process is stopped on the way out."""
    with tempfile.TemporaryDirectory(prefix="pymcp-redis-cluster-") as workdir, ExitStack() as cleanup:
        cluster = RedisClusterNodes([], tls)
        cleanup.callback(cluster.stop)
        for index in range(6):
            directory = Path(workdir) / str(index)
            directory.mkdir()
            port, bus_port = free_port(), free_port()
            args = server_args(port, directory, tls)
            args += ["--cluster-enabled", "yes", "--cluster-port", str(bus_port)]
            args += ["--cluster-node-timeout", "1000", "--cluster-config-file", "nodes.conf"]
            args += ["--repl-diskless-sync-delay", "0"]  # replicas sync at once, not after 5 s
            if tls is not None:
                args += ["--tls-cluster", "yes", "--tls-replication", "yes"]
            process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cluster.nodes.append(ClusterNode(port, process))
        deadline = time.monotonic() + startup_timeout
        for node in cluster.nodes:
            while not _answers(node.port, tls):
                if node.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("a `redis-server` of the test cluster did not start", pytrace=False)
                time.sleep(0.02)
        create = ["redis-cli", "-a", ADMIN_PASSWORD, "--no-auth-warning", "--cluster", "create"]
        create += [f"127.0.0.1:{node.port}" for node in cluster.nodes]
        create += ["--cluster-replicas", "1", "--cluster-yes"]
        if tls is not None:
            create += ["--tls", "--cacert", str(tls.ca)]
        made = subprocess.run(create, capture_output=True, timeout=startup_timeout, check=False)
        if made.returncode != 0:
            pytest.fail(f"`redis-cli --cluster create` failed: {made.stdout[-500:]!r}", pytrace=False)
        cluster.wait_until_healthy(startup_timeout)
        _wait_for_replicas(cluster, deadline)
        yield cluster


def _answers(port: int, tls: TlsFiles | None) -> bool:
    try:
        with admin(port, tls) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _wait_for_replicas(cluster: RedisClusterNodes, deadline: float) -> None:
    """Until each master has its replica in sync (so a killed master has someone to take over)."""
    while True:
        synced = 0
        for node in cluster.nodes:
            with admin(node.port, cluster.tls) as client:
                info = client.info("replication")
            if info.get("role") == "master" and info.get("connected_slaves", 0) >= 1:
                synced += all(
                    info[f"slave{i}"].get("state") == "online" for i in range(info["connected_slaves"])
                )
        if synced == 3:
            return
        if time.monotonic() > deadline:
            pytest.fail("the test redis cluster's replicas did not sync", pytrace=False)
        time.sleep(0.05)


@contextmanager
def tls_redis_server(tls: TlsFiles, *, startup_timeout: float = 10.0) -> Iterator[int]:
    """One `redis-server` (not a cluster) that speaks TLS only; yields its port."""
    with tempfile.TemporaryDirectory(prefix="pymcp-redis-tls-") as workdir:
        port = free_port()
        process = subprocess.Popen(server_args(port, Path(workdir), tls), stdout=subprocess.DEVNULL)
        node = ClusterNode(port, process)
        try:
            deadline = time.monotonic() + startup_timeout
            while not _answers(port, tls):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the TLS `redis-server` did not start", pytrace=False)
                time.sleep(0.02)
            yield port
        finally:
            node.stop()
