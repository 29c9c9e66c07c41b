"""Name constraints on the local CA: a ``serve --aws-hostnames`` process still proves every name
it serves, and a leaf for any other name, signed with the CA's own key, fails verification
(OpenSSL's ``openssl verify`` and ``cryptography``'s verifier); an older CA without constraints
keeps working, with a warning."""

from __future__ import annotations

import datetime
import ipaddress
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cryptography", reason="the tls extra: pip install 'ecr-mock[tls]'")

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from tests.test_cli import clean_env

REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
OPENSSL = shutil.which("openssl")
LISTEN_RE = re.compile(r"with TLS on ([0-9.]+):([0-9]+)")


def make_ca(tmp_path: Path) -> Path:
    """``ecr-mock ca --ca-dir D`` as a user runs it; returns D."""
    ca_dir = tmp_path / "ca"
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "ca", "--ca-dir", str(ca_dir)],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == str(ca_dir / "ca.crt")
    assert "warning" not in result.stderr
    return ca_dir


def forge(ca_dir: Path, names: list[x509.GeneralName], out: Path) -> x509.Certificate:
    """A server leaf for ``names`` signed with the CA's own key (as a thief holding it would)."""
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    first = names[0]
    common = "localhost" if isinstance(first, x509.IPAddress) else str(first.value)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    out.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    return leaf


def verified_by_cryptography(ca_dir: Path, leaf: x509.Certificate, name: x509.GeneralName) -> bool:
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    builder = PolicyBuilder().store(Store([ca_cert]))
    subject: x509.verification.Subject
    if isinstance(name, x509.IPAddress):
        subject = x509.IPAddress(name.value)
    else:
        subject = x509.DNSName(str(name.value))
    try:
        builder.build_server_verifier(subject).verify(leaf, [])
    except VerificationError:
        return False
    return True


def verified_by_openssl(ca_dir: Path, leaf: Path) -> tuple[bool, str]:
    assert OPENSSL is not None
    result = subprocess.run(
        [OPENSSL, "verify", "-CAfile", str(ca_dir / "ca.crt"), "-purpose", "sslserver", str(leaf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode == 0, result.stdout + result.stderr


OUTSIDE = [
    x509.DNSName("registry.example.org"),
    x509.DNSName("www.google.com"),
    x509.DNSName("amazonaws.com.evil.example"),
    x509.DNSName("ecr.aws"),
    x509.IPAddress(ipaddress.ip_address("10.1.2.3")),
    x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
]
INSIDE = [
    x509.DNSName(REGISTRY),
    x509.DNSName("api.ecr.ap-southeast-2.amazonaws.com"),
    x509.DNSName("public.ecr.aws"),
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    x509.IPAddress(ipaddress.ip_address("::1")),
]


@pytest.fixture(scope="module")
def made_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ca(tmp_path_factory.mktemp("made"))


@pytest.mark.parametrize("name", OUTSIDE, ids=lambda n: str(n.value))
def test_a_leaf_for_another_name_signed_with_the_ca_key_fails_verification(
    tmp_path: Path, made_ca: Path, name: x509.GeneralName
) -> None:
    ca_dir = made_ca
    leaf = forge(ca_dir, [name], tmp_path / "leaf.pem")
    assert not verified_by_cryptography(ca_dir, leaf, name)
    if OPENSSL is not None:
        ok, said = verified_by_openssl(ca_dir, tmp_path / "leaf.pem")
        assert not ok
        assert "subtree" in said or "name constraint" in said.lower(), said


@pytest.mark.parametrize("name", INSIDE, ids=lambda n: str(n.value))
def test_a_leaf_for_a_served_name_signed_with_the_ca_key_verifies(
    tmp_path: Path, made_ca: Path, name: x509.GeneralName
) -> None:
    ca_dir = made_ca
    leaf = forge(ca_dir, [name], tmp_path / "leaf.pem")
    assert verified_by_cryptography(ca_dir, leaf, name)
    if OPENSSL is not None:
        ok, said = verified_by_openssl(ca_dir, tmp_path / "leaf.pem")
        assert ok, said


def test_a_served_process_proves_its_aws_names_under_the_constrained_ca(tmp_path: Path) -> None:
    ca_dir = make_ca(tmp_path)
    argv = [sys.executable, "-m", "ecr_mock", "serve", "--aws-hostnames", "--port", "0"]
    process = subprocess.Popen(
        [*argv, "--ca-dir", str(ca_dir), "--quiet"],
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        found = LISTEN_RE.search(process.stdout.readline())
        assert found is not None
        address = (found[1], int(found[2]))
        context = ssl.create_default_context(cafile=str(ca_dir / "ca.crt"))
        seen = []
        for host in (REGISTRY, "api.ecr.eu-west-1.amazonaws.com", "sts.amazonaws.com"):
            with (
                socket.create_connection(address, timeout=30) as raw,
                context.wrap_socket(raw, server_hostname=host) as tls,
            ):
                cert = tls.getpeercert()
                assert cert is not None
                seen.append(cert["subjectAltName"])
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert seen == [
        (("DNS", REGISTRY),),
        (("DNS", "api.ecr.eu-west-1.amazonaws.com"),),
        (("DNS", "sts.amazonaws.com"),),
    ]
    assert "warning" not in err


def test_an_older_ca_without_constraints_keeps_working_with_a_warning(tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"
    ca_dir.mkdir(mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecr-mock local CA (old)")])
    now = datetime.datetime.now(datetime.timezone.utc)
    old = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=300))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (ca_dir / "ca.key").write_bytes(key_pem)
    (ca_dir / "ca.key").chmod(0o600)
    (ca_dir / "ca.crt").write_bytes(old.public_bytes(serialization.Encoding.PEM))
    before = (ca_dir / "ca.crt").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "ca", "--ca-dir", str(ca_dir)],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == str(ca_dir / "ca.crt")
    assert "has no name constraints" in result.stderr
    assert f"Remove {ca_dir / 'ca.key'} and {ca_dir / 'ca.crt'}" in result.stderr
    assert (ca_dir / "ca.crt").read_bytes() == before  # clients trusting it keep working
