"""The text request log of a served process: no logged value can forge a line or send a
terminal escape, whether it comes from a request path, an API parameter or an exception."""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_mock.runtime.request_log import TextFormatter
from tests.support.serve import start_serve

KEY = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret"}
FORGED = "2030-01-01T00:00:00.000Z INFO FORGED"
LINE_START = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR) ")
CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def raw_get(url: str, target: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_no_request_value_forges_a_line_or_reaches_the_terminal_raw(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0")
    try:
        paths = [
            b"/v2/x%0A" + FORGED.replace(" ", "%20").encode() + b"/manifests/a",
            b"/v2/x%0D%0A" + FORGED.replace(" ", "%20").encode() + b"/tags/list",
            b"/v2/%1B%5B2J%1B%5B31mred/blobs/sha256:00",
            b"/ecr-mock/nothing%0A" + FORGED.replace(" ", "%20").encode(),
            b"/x%7F%C2%85%E2%80%A8y",
        ]
        answers = [raw_get(url, path) for path in paths]
        ecr = boto3.client("ecr", endpoint_url=url, region_name="us-east-1", **KEY)
        for name in (f"a\n{FORGED}", "b\x1b[2J\x1b[31m", f"c\r{FORGED}", "d\x85e\u2028f"):
            with pytest.raises(ClientError):
                ecr.describe_images(repositoryName=name)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert all(answer.startswith(b"HTTP/1.1 4") for answer in answers)
    lines = stderr.splitlines()
    requests_logged = [
        line
        for line in lines
        if " surface=" in line
        and 'operation="GET /"' not in line
        and "operation=health " not in line  # the start-up wait polls /ecr-mock/health
    ]
    assert len(requests_logged) == len(paths) + 4
    assert all(LINE_START.match(line) for line in lines), lines
    assert not any(line.startswith("2030-01-01") or line[24:35] == "INFO FORGED" for line in lines)
    assert CONTROLS.search(stderr) is None
    assert "\x1b" not in stderr and "\u2028" not in stderr
    # the values are still there, escaped, and read back as they were
    logged = [line for line in requests_logged if "repository=" in line and "FORGED" in line]
    assert logged
    repository = re.search(r'repository=("(?:[^"\\]|\\.)*")', logged[-1])
    assert repository is not None and json.loads(repository[1]) == f"c\r{FORGED}"


def test_a_logged_exception_keeps_its_message_and_traceback_on_escaped_lines() -> None:
    try:
        raise ValueError(f"bad name a\n{FORGED}\x1b[31m")
    except ValueError:
        record = logging.LogRecord(
            "ecr_mock", logging.ERROR, __file__, 1, "request %s failed", (f"/x\n{FORGED}",), None
        )
        record.exc_info = sys.exc_info()
    text = TextFormatter().format(record)
    lines = text.split("\n")
    assert LINE_START.match(lines[0])
    assert lines[0].endswith("request /x\\n" + FORGED + " failed")
    assert all(line.startswith("    ") for line in lines[1:])
    assert "\x1b" not in text
    # the message's own line break stays inside the indented traceback
    assert lines[-2:] == ["    ValueError: bad name a", "    " + FORGED + "\\x1b[31m"]
