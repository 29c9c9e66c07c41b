"""A state directory's blob bytes in S3 (or any S3-compatible service) through boto3.

Objects are content addressed (``<prefix>/blobs/<algorithm>/<hex>``); large blobs go up as
multipart uploads and are read back by ranged GETs, streamed. The metadata stays in the state
directory's SQLite database, which names an object only once it is stored.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ecr_mock.domain.blobs import READ_CHUNK, Blob
from ecr_mock.domain.errors import BlobUnknown
from ecr_mock.store.persistence.statedir import StateDirError

MULTIPART_THRESHOLD = 8 * 1024 * 1024
"""Blobs at least this large are uploaded in parts."""
PART_SIZE = 8 * 1024 * 1024
RANGE_BYTES = 8 * 1024 * 1024
"""Bytes asked for per ranged GET while streaming a blob out."""


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"a blob store is s3://BUCKET[/PREFIX], not {url!r}")
    return parts.netloc, parts.path.strip("/")


class S3Object:
    """The bytes of one stored blob, read by ranged GETs."""

    __slots__ = ("_store", "key")

    def __init__(self, store: S3Blobs, key: str) -> None:
        self._store = store
        self.key = key

    def chunks(self, start: int, stop: int) -> Iterator[bytes]:
        """Yield ``[start, stop)``: one ranged GET per RANGE_BYTES, streamed in READ_CHUNKs."""
        pos = start
        while pos < stop:
            end = min(pos + RANGE_BYTES, stop)
            try:
                answer = self._store.client.get_object(
                    Bucket=self._store.bucket, Key=self.key, Range=f"bytes={pos}-{end - 1}"
                )
            except self._store.client.exceptions.NoSuchKey:
                algorithm, hexpart = self.key.rsplit("/", 2)[-2:]
                raise BlobUnknown(f"{algorithm}:{hexpart}") from None
            body = answer["Body"]
            try:
                for chunk in body.iter_chunks(READ_CHUNK):
                    pos += len(chunk)
                    yield chunk
            finally:
                body.close()
            if pos < end:  # the object is shorter than its row says
                return

    def presigned_url(self, expires_in: int = 3600) -> str:
        """A URL anyone can GET the bytes from, for ``expires_in`` seconds."""
        url: str = self._store.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._store.bucket, "Key": self.key},
            ExpiresIn=expires_in,
        )
        return url


class S3Blobs:
    """A :class:`~ecr_mock.store.persistence.durable.BlobStore` over one S3 bucket and prefix."""

    def __init__(self, url: str, endpoint_url: str | None = None, client: Any = None) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = url
        """Where the bytes are, as given (recorded in the state directory for ``check``)."""
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        try:
            client.head_bucket(Bucket=self.bucket)
        except Exception as exc:  # unreachable, no such bucket, no credentials
            raise StateDirError(f"cannot use the blob store {url}: {exc}") from None
        self._uploads = ThreadPoolExecutor(4, thread_name_prefix="ecr-mock-s3")
        self._lock = threading.Lock()

    def key(self, digest: str) -> str:
        """The object key of ``digest``."""
        algorithm, _, hexpart = digest.partition(":")
        return "/".join(p for p in (self.prefix, "blobs", algorithm, hexpart) if p)

    def _durable(self, blob: Blob) -> Blob:
        return Blob.from_source(blob.digest, blob.size, S3Object(self, self.key(blob.digest)))

    def write_all(self, blobs: list[Blob]) -> list[tuple[Blob, Blob]]:
        """Upload the blobs (in parallel); each is durable once S3 acknowledged it."""
        work = [(blob, self._uploads.submit(self._put, blob)) for blob in blobs]
        done = []
        for blob, future in work:
            try:
                future.result()
            except BlobUnknown:  # released meanwhile: nothing to keep
                continue
            done.append((blob, self._durable(blob)))
        return done

    def _put(self, blob: Blob) -> None:
        key = self.key(blob.digest)
        with contextlib.suppress(self.client.exceptions.ClientError):
            found = self.client.head_object(Bucket=self.bucket, Key=key)
            if found["ContentLength"] == blob.size:
                return
        if blob.size < MULTIPART_THRESHOLD:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=blob.read())
            return
        started = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload_id = started["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            buffer = bytearray()
            for chunk in blob.iter_bytes():
                buffer += chunk
                if len(buffer) >= PART_SIZE:
                    parts.append(self._part(key, upload_id, len(parts) + 1, bytes(buffer)))
                    buffer.clear()
            if buffer or not parts:
                parts.append(self._part(key, upload_id, len(parts) + 1, bytes(buffer)))
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    def _part(self, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    def close(self) -> None:
        """Stop the upload threads (the state directory is closing)."""
        self._uploads.shutdown(wait=True)

    def open_blob(self, digest: str, size: int) -> Blob | None:
        """The stored blob (not checked against S3: a row names only stored objects)."""
        return Blob.from_source(digest, size, S3Object(self, self.key(digest)))

    def remove(self, digest: str) -> None:
        """Delete the object of ``digest``."""
        self.client.delete_object(Bucket=self.bucket, Key=self.key(digest))

    def collect_garbage(self, named: set[str]) -> None:
        """Delete objects no row names and abort multipart uploads a crash left behind."""
        base = "/".join(p for p in (self.prefix, "blobs") if p) + "/"
        pages = self.client.get_paginator("list_multipart_uploads")
        for page in pages.paginate(Bucket=self.bucket, Prefix=base):
            for upload in page.get("Uploads", []):
                with contextlib.suppress(self.client.exceptions.ClientError):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base
        ):
            for item in page.get("Contents", []):
                algorithm, _, hexpart = item["Key"][len(base) :].partition("/")
                if f"{algorithm}:{hexpart}" not in named:
                    self.client.delete_object(Bucket=self.bucket, Key=item["Key"])


def s3_blob_store(url: str, endpoint_url: str | None = None) -> Any:
    """A factory for ``StateDir(blob_store=...)`` keeping blobs at ``url`` (``s3://...``)."""
    parse_s3_url(url)

    def make(root: Path) -> S3Blobs:
        return S3Blobs(url, endpoint_url)

    return make


__all__ = ["S3Blobs", "S3Object", "parse_s3_url", "s3_blob_store"]
