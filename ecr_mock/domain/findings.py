"""The built-in catalogue of vulnerability findings a basic scan reports, chosen by image digest."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Known:
    name: str
    severity: str
    package: str
    version: str
    fixed: str
    score: float
    vector: str
    description: str


_CATALOGUE: tuple[_Known, ...] = (
    _Known(
        "CVE-2021-3711",
        "CRITICAL",
        "openssl",
        "1.1.1k-1",
        "1.1.1l-1",
        7.5,
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "In order to decrypt SM2 encrypted data an application is expected to call "
        "EVP_PKEY_decrypt() twice; a malicious attacker able to present SM2 content for "
        "decryption can overflow a heap buffer by up to 62 bytes.",
    ),
    _Known(
        "CVE-2021-33574",
        "CRITICAL",
        "glibc",
        "2.31-13",
        "2.31-13+deb11u3",
        7.5,
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "The mq_notify function in the GNU C Library may use the notification thread "
        "attributes object after it has been freed, leading to a use-after-free.",
    ),
    _Known(
        "CVE-2022-23218",
        "HIGH",
        "glibc",
        "2.31-13",
        "2.31-13+deb11u3",
        7.5,
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "The deprecated compatibility function svcunix_create in the sunrpc module of the GNU C "
        "Library copies its path argument on the stack without validating its length.",
    ),
    _Known(
        "CVE-2022-0778",
        "HIGH",
        "openssl",
        "1.1.1k-1",
        "1.1.1n-0+deb11u1",
        5.0,
        "AV:N/AC:L/Au:N/C:N/I:N/A:P",
        "The BN_mod_sqrt() function, which computes a modular square root, contains a bug that "
        "can cause it to loop forever for non-prime moduli.",
    ),
    _Known(
        "CVE-2019-12900",
        "HIGH",
        "bzip2",
        "1.0.6-9.2",
        "1.0.6-9.2~deb10u1",
        7.5,
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "BZ2_decompress in decompress.c in bzip2 through 1.0.6 has an out-of-bounds write when "
        "there are many selectors.",
    ),
    _Known(
        "CVE-2022-37434",
        "HIGH",
        "zlib",
        "1:1.2.11.dfsg-2",
        "1:1.2.11.dfsg-2+deb11u2",
        7.5,
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "zlib through 1.2.12 has a heap-based buffer over-read or buffer overflow in inflate "
        "via a large gzip header extra field.",
    ),
    _Known(
        "CVE-2021-3449",
        "MEDIUM",
        "openssl",
        "1.1.1k-1",
        "1.1.1k-1+deb11u1",
        4.3,
        "AV:N/AC:M/Au:N/C:N/I:N/A:P",
        "An OpenSSL TLS server may crash if sent a maliciously crafted renegotiation "
        "ClientHello message from a client.",
    ),
    _Known(
        "CVE-2021-22945",
        "MEDIUM",
        "curl",
        "7.74.0-1.3",
        "7.74.0-1.3+deb11u1",
        5.8,
        "AV:N/AC:M/Au:N/C:P/I:N/A:P",
        "When sending data to an MQTT server, libcurl could in some circumstances erroneously "
        "keep a pointer to an already freed memory area and both use that again and free it.",
    ),
    _Known(
        "CVE-2021-39537",
        "MEDIUM",
        "ncurses",
        "6.2+20201114-2",
        "6.2+20201114-2+deb11u1",
        6.8,
        "AV:N/AC:M/Au:N/C:P/I:P/A:P",
        "An issue was discovered in ncurses through v6.2-1. _nc_captoinfo in captoinfo.c has a "
        "heap-based buffer overflow.",
    ),
    _Known(
        "CVE-2022-29458",
        "LOW",
        "ncurses",
        "6.2+20201114-2",
        "6.2+20201114-2+deb11u1",
        5.8,
        "AV:N/AC:M/Au:N/C:P/I:N/A:P",
        "ncurses 6.3 before patch 20220416 has an out-of-bounds read and segmentation violation "
        "in convert_strings in tinfo/read_entry.c in the terminfo library.",
    ),
    _Known(
        "CVE-2016-2781",
        "LOW",
        "coreutils",
        "8.32-4",
        "none",
        2.1,
        "AV:L/AC:L/Au:N/C:N/I:P/A:N",
        "chroot in GNU coreutils, when used with --userspec, allows local users to escape to "
        "the parent session via a crafted TIOCSTI ioctl call.",
    ),
    _Known(
        "CVE-2019-19882",
        "LOW",
        "shadow",
        "1:4.8.1-1",
        "none",
        6.9,
        "AV:L/AC:M/Au:N/C:C/I:C/A:C",
        "shadow 4.8, in certain circumstances affecting at least Gentoo, Arch Linux, and Void "
        "Linux, allows local users to obtain root access because setuid programs are "
        "misconfigured.",
    ),
    _Known(
        "CVE-2017-11164",
        "INFORMATIONAL",
        "pcre3",
        "2:8.39-13",
        "none",
        7.8,
        "AV:N/AC:L/Au:N/C:N/I:N/A:C",
        "In PCRE 8.41, the OP_KETRMAX feature in the match function in pcre_exec.c allows "
        "stack exhaustion (uncontrolled recursion) when processing a crafted regular "
        "expression.",
    ),
    _Known(
        "CVE-2010-4756",
        "INFORMATIONAL",
        "glibc",
        "2.31-13",
        "none",
        4.0,
        "AV:N/AC:L/Au:S/C:N/I:N/A:P",
        "The glob implementation in the GNU C Library allows remote authenticated users to "
        "cause a denial of service (CPU and memory consumption) via crafted glob expressions.",
    ),
    _Known(
        "CVE-2013-4392",
        "UNDEFINED",
        "systemd",
        "247.3-7",
        "none",
        3.3,
        "AV:L/AC:M/Au:N/C:P/I:P/A:N",
        "systemd, when updating file permissions, allows local users to change the permissions "
        "and SELinux security contexts for arbitrary files via a symlink attack.",
    ),
)


_MAX_BUILT_IN = 8


def _known_finding(known: _Known) -> dict[str, Any]:
    return {
        "name": known.name,
        "description": known.description,
        "uri": f"https://security-tracker.debian.org/tracker/{known.name}",
        "severity": known.severity,
        "attributes": [
            {"key": "package_version", "value": known.version},
            {"key": "package_name", "value": known.package},
            {"key": "CVSS2_VECTOR", "value": known.vector},
            {"key": "CVSS2_SCORE", "value": str(known.score)},
        ],
    }


def built_in_findings(digest: str) -> list[dict[str, Any]]:
    """The findings a scan of ``digest`` reports unless a test set others: a choice of 0-8
    catalogue entries seeded by the digest, so the same image always gets the same findings."""
    seed = int.from_bytes(hashlib.sha256(digest.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    count = rng.randint(0, _MAX_BUILT_IN)
    chosen = sorted(rng.sample(range(len(_CATALOGUE)), count))
    return [_known_finding(_CATALOGUE[i]) for i in chosen]
