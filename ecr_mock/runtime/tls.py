"""The local certificate authority of ``ecr-mock serve --aws-hostnames``: per-SNI certificates.

The CA (``ca.crt`` and ``ca.key``, the key readable by its owner only) lives in a directory
that is created on first use (default ``~/.ecr-mock/ca``, or ``$ECR_MOCK_CA_DIR``). When a
client opens a TLS connection naming an AWS host in its SNI (``api.ecr.us-east-1.amazonaws.com``,
``123456789012.dkr.ecr.us-east-1.amazonaws.com``, ``sts.amazonaws.com``...), the server answers
with a certificate for exactly that name, issued on the spot and signed by the CA; a client that
trusts ``ca.crt`` (docker's ``certs.d``, ``AWS_CA_BUNDLE``...) then connects as to AWS itself.

Certificates are made with the ``cryptography`` library (``pip install 'ecr-mock[tls]'``).
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import re
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ecr_mock.runtime.errors import TlsSetupError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.x509 import Certificate, KeyUsage

__all__ = [
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CertificateAuthority",
    "TlsSetupError",
    "default_ca_dir",
    "has_name_constraints",
    "is_issuable_name",
]

CA_CERT_FILE = "ca.crt"
CA_KEY_FILE = "ca.key"
CA_LIFETIME = datetime.timedelta(days=3650)
LEAF_LIFETIME = datetime.timedelta(days=397)
"""The longest lifetime browsers and Apple platforms accept for a server certificate."""
_BACKDATE = datetime.timedelta(days=1)
MAX_CACHED_NAMES = 1024
"""Certificates kept per process; the oldest is dropped past this many names."""

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_AWS_NAME_RE = re.compile(
    rf"(?:{_LABEL}\.)+(?:amazonaws\.com|amazonaws\.com\.cn|api\.aws|on\.aws)|public\.ecr\.aws|localhost"
)
"""Names the CA signs: AWS's own (ECR, STS, IAM and the rest), dual-stack ones, ECR Public's
registry, and localhost."""

PERMITTED_DNS = (
    "amazonaws.com",
    "amazonaws.com.cn",
    "api.aws",
    "on.aws",
    "public.ecr.aws",
    "localhost",
)
"""The DNS subtrees the CA certificate's name constraints permit: each with every name under it.

X.509 name constraints match whole subtrees from the right, so ``<account>.dkr.ecr.<region>.``
``amazonaws.com`` (any account, any region, chosen per connection) can only be permitted as the
``amazonaws.com`` subtree; a per-region list would stop working for the next region a client
asks for. The CA also signs STS and IAM names there (moto behind the same port), so the subtree
is the narrowest form that keeps every served name."""
PERMITTED_IPS = ("127.0.0.0/8", "::1/128")
"""The loopback addresses, the only IP addresses the CA's leaves may name."""

_INSTALL_HINT = (
    "ecr-mock serve --aws-hostnames needs the cryptography library: "
    "pip install 'ecr-mock[tls]' (or pip install cryptography)"
)


def default_ca_dir() -> Path:
    """``$ECR_MOCK_CA_DIR``, else ``~/.ecr-mock/ca``."""
    configured = os.environ.get("ECR_MOCK_CA_DIR")
    return Path(configured) if configured else Path.home() / ".ecr-mock" / "ca"


def is_issuable_name(name: str) -> bool:
    """True for a host name the CA issues certificates for (AWS names and localhost)."""
    return len(name) <= 253 and _AWS_NAME_RE.fullmatch(name.lower()) is not None


class CertificateAuthority:
    """A CA kept in ``directory``: loaded when present, created (key mode 0600) otherwise.

    :meth:`server_context` is the TLS context a server wraps its connections with: its SNI
    callback swaps in a context holding a certificate for the name the client asked for.
    Raises :class:`TlsSetupError` when ``cryptography`` is missing or the directory cannot be
    created or written.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_ca_dir()
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._leaf_dir: Path | None = None
        try:
            from cryptography import x509  # noqa: F401
        except ImportError as exc:
            raise TlsSetupError(_INSTALL_HINT) from exc
        self._key, self._cert = self._load_or_create()

    # ----- the CA on disk ---------------------------------------------------------------

    @property
    def cert_path(self) -> Path:
        """The CA certificate (PEM) clients are told to trust."""
        return self.directory / CA_CERT_FILE

    @property
    def key_path(self) -> Path:
        """The CA private key (PEM, mode 0600)."""
        return self.directory / CA_KEY_FILE

    def cert_pem(self) -> bytes:
        """The CA certificate as PEM bytes."""
        from cryptography.hazmat.primitives.serialization import Encoding

        return self._cert.public_bytes(Encoding.PEM)

    @property
    def constrained(self) -> bool:
        """Whether the CA certificate carries name constraints. A CA made by an older version
        has none: it keeps working (clients trust it already) and ``serve`` warns, saying how
        to replace it."""
        return has_name_constraints(self._cert)

    def unconstrained_warning(self) -> str | None:
        """The warning for a CA without name constraints, else None."""
        if self.constrained:
            return None
        return (
            f"the local CA in {self.directory} has no name constraints (made by an older "
            f"ecr-mock): anyone holding its key could sign any name for clients trusting it. "
            f"Remove {self.key_path} and {self.cert_path} to make a constrained CA, then trust "
            f"the new {self.cert_path} again"
        )

    def _load_or_create(self) -> tuple[EllipticCurvePrivateKey, Certificate]:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".probe-"):
                pass
        except OSError as exc:
            raise TlsSetupError(
                f"the CA directory {self.directory} cannot be created or written "
                f"({exc.strerror or exc}); choose another with --ca-dir"
            ) from exc
        with _DirectoryLock(self.directory):
            if self.key_path.exists() and self.cert_path.exists():
                return self._load()
            key, cert = _new_ca()
            self._write(key, cert)
            return key, cert

    def _load(self) -> tuple[EllipticCurvePrivateKey, Certificate]:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(self.key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise TlsSetupError(
                f"the CA in {self.directory} cannot be read ({exc}); "
                f"remove {self.key_path} and {self.cert_path} to make a new one"
            ) from exc
        if not isinstance(key, EllipticCurvePrivateKey):
            raise TlsSetupError(f"{self.key_path} is not a key ecr-mock made")
        return key, cert

    def _write(self, key: EllipticCurvePrivateKey, cert: Certificate) -> None:
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        _write_private(self.key_path, key_pem)
        _write_private(self.cert_path, cert.public_bytes(Encoding.PEM), mode=0o644)

    # ----- certificates per name --------------------------------------------------------

    def server_context(self) -> ssl.SSLContext:
        """A server context for ``localhost`` that switches certificate by SNI name."""
        context = self.context_for("localhost")
        context.sni_callback = self._on_sni
        return context

    def _on_sni(self, sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        if name and is_issuable_name(name):
            sock.context = self.context_for(name.lower())

    def context_for(self, name: str) -> ssl.SSLContext:
        """A server context holding a certificate for ``name`` (issued once per process)."""
        with self._lock:
            found = self._contexts.get(name)
            if found is None:
                if len(self._contexts) >= MAX_CACHED_NAMES:
                    del self._contexts[next(iter(self._contexts))]
                found = self._contexts[name] = self._issue_context(name)
            return found

    def issue(self, name: str) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for ``name``, signed by this CA."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        alt_names: list[x509.GeneralName] = [x509.DNSName(name)]
        if name == "localhost":
            alt_names += [
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]
        ca_ski = self._cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(min(now + LEAF_LIFETIME, self._cert.not_valid_after_utc))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(signs_certificates=False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
            )
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        return cert.public_bytes(Encoding.PEM), key_pem

    def _issue_context(self, name: str) -> ssl.SSLContext:
        cert_pem, key_pem = self.issue(name)
        if self._leaf_dir is None:
            self._leaf_dir = Path(tempfile.mkdtemp(prefix="ecr-mock-tls-"))
        # load_cert_chain reads files only: a private file, removed once loaded.
        path = self._leaf_dir / f"{name}.pem"
        _write_private(path, key_pem + cert_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
        try:
            context.load_cert_chain(path)
        finally:
            path.unlink()
        return context

    def close(self) -> None:
        """Remove the private scratch folder used while loading certificates."""
        with self._lock:
            leaf_dir, self._leaf_dir = self._leaf_dir, None
        if leaf_dir is not None:
            with contextlib.suppress(OSError):
                leaf_dir.rmdir()


def _new_ca() -> tuple[EllipticCurvePrivateKey, Certificate]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ecr-mock"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"ecr-mock local CA ({socket.gethostname()[:30]})"
            ),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(signs_certificates=True),
            critical=True,
        )
        .add_extension(_name_constraints(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _name_constraints() -> x509.NameConstraints:
    from cryptography import x509

    permitted: list[x509.GeneralName] = [x509.DNSName(name) for name in PERMITTED_DNS]
    permitted += [x509.IPAddress(ipaddress.ip_network(net)) for net in PERMITTED_IPS]
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None)


def has_name_constraints(cert: Certificate) -> bool:
    """Whether a CA certificate limits the names it may sign (made by this version)."""
    from cryptography import x509

    try:
        cert.extensions.get_extension_for_class(x509.NameConstraints)
    except x509.ExtensionNotFound:
        return False
    return True


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically, the file created with ``mode`` from the start."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


class _DirectoryLock:
    """An exclusive lock on a directory (``flock`` on a lock file), so that two processes
    starting at once make one CA."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> _DirectoryLock:
        import fcntl

        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


def _key_usage(*, signs_certificates: bool) -> KeyUsage:
    """KeyUsage of a leaf (signatures only) or of the CA (signs certificates and CRLs too)."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )
