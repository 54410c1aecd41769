"""A real local RFC 3161 timestamp authority for the tests: a root CA and a TSA certificate
made with openssl, and `openssl ts -reply` behind a small HTTP endpoint (a thread)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TS_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class Authority:
    url: str
    root: Path  # the root CA certificate (PEM) a verifier trusts
    other_root: Path  # an unrelated root certificate


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder: Path) -> None:
    """ca.crt/ca.key (a root), tsa.crt/tsa.key (a timestamping certificate), other.crt."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, cn in (("ca", "Test Root CA"), ("other", "Unrelated Root CA")):
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.crt",
            "-subj",
            f"/CN={cn}",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            cwd=folder,
        )
    (folder / "ext.cnf").write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "tsa.key",
        "-out",
        "tsa.csr",
        "-subj",
        "/CN=Test Timestamp Authority",
        cwd=folder,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "tsa.crt",
        "-days",
        "30",
        "-extfile",
        "ext.cnf",
        cwd=folder,
    )
    (folder / "serial").write_text("01\n")
    (folder / "ts.cnf").write_text(TS_CONFIG.format(dir=folder))


@contextmanager
def local_tsa(folder: Path) -> Iterator[Authority]:
    """A running timestamp authority at http://127.0.0.1:PORT/ until the block ends."""
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is not installed (scripts/setup.sh --test installs it)")
    make_pki(folder)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (folder / "q.tsq").write_bytes(query)
                _openssl(
                    "ts",
                    "-reply",
                    "-config",
                    "ts.cnf",
                    "-queryfile",
                    "q.tsq",
                    "-inkey",
                    "tsa.key",
                    "-signer",
                    "tsa.crt",
                    "-out",
                    "r.tsr",
                    cwd=folder,
                )
                body = (folder / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Authority(
            f"http://127.0.0.1:{server.server_address[1]}/", folder / "ca.crt", folder / "other.crt"
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
