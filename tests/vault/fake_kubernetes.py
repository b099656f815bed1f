"""A local stand-in for the one Kubernetes API call Vault's kubernetes auth makes.

On `auth/<mount>/login`, Vault sends the pod's service-account token to the
cluster's TokenReview API and trusts the answer. Serving that single endpoint
over TLS on 127.0.0.1 lets the tests log in for real, end to end, without a
cluster. The certificate helpers also give the TLS tests a CA that does not
match the server.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TOKENREVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


@dataclass(frozen=True)
class Certificate:
    cert_pem: str
    key_pem: str


def make_ca(name: str = "test CA") -> tuple[Certificate, ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return _pem(cert, key), key, cert


def make_server_cert(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate) -> Certificate:
    """A certificate for 127.0.0.1 signed by the given CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return _pem(cert, key)


def _pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Certificate:
    return Certificate(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


@dataclass
class FakeKubernetes:
    """`host` and `ca_pem` go into Vault's kubernetes auth config; `reviews` records what Vault asked."""

    host: str
    ca_pem: str
    service_accounts: dict[str, tuple[str, str]]  # token -> (namespace, name)
    reviews: list[str]


@contextmanager
def fake_kubernetes(service_accounts: dict[str, tuple[str, str]]) -> Iterator[FakeKubernetes]:
    """Serve TokenReview over TLS: tokens in `service_accounts` are authenticated, others are not."""
    ca, ca_key, ca_cert = make_ca("fake kubernetes CA")
    server_cert = make_server_cert(ca_key, ca_cert)
    reviews: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            token = body["spec"]["token"]
            reviews.append(token)
            account = service_accounts.get(token)
            status: dict[str, object] = {"authenticated": False}
            if self.path == TOKENREVIEW_PATH and account is not None:
                namespace, name = account
                status = {
                    "authenticated": True,
                    # Vault asks for the token's own audiences and insists they come back.
                    "audiences": body["spec"].get("audiences") or [],
                    "user": {
                        "username": f"system:serviceaccount:{namespace}:{name}",
                        "uid": f"uid-{namespace}-{name}",
                        "groups": ["system:serviceaccounts"],
                    },
                }
            payload = json.dumps({"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1", "status": status})
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload.encode())

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    with tempfile.TemporaryDirectory(prefix="fake-k8s-") as tmp:
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_file.write_text(server_cert.cert_pem)
        key_file.write_text(server_cert.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield FakeKubernetes(
                host=f"https://127.0.0.1:{httpd.server_address[1]}",
                ca_pem=ca.cert_pem,
                service_accounts=service_accounts,
                reviews=reviews,
            )
        finally:
            httpd.shutdown()
            httpd.server_close()
