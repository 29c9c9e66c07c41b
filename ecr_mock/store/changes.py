"""What changed in the state since it was last saved: marks the services make as they change it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecr_mock.domain.models import Registry, Repository

__all__ = ["ChangeSet"]


class ChangeSet:
    """Marks of changed repositories, images, repository blobs and registry blobs.

    A state directory saves what is marked (and nothing else of those kinds), so a save costs
    what changed, not what is stored. Marks are made under the store lock by the services
    (``Store.note_*``); :meth:`take` hands them over and starts afresh. ``everything`` asks
    the next save to compare the whole state instead (after a reset).
    """

    __slots__ = ("blobs", "everything", "images", "repositories", "repository_blobs")

    def __init__(self) -> None:
        self.repositories: dict[int, Repository] = {}
        self.images: dict[tuple[int, str], Repository] = {}
        self.repository_blobs: dict[tuple[int, str], Repository] = {}
        self.blobs: dict[tuple[int, str], Registry] = {}
        self.everything = False

    def repository(self, repo: Repository) -> None:
        """``repo``'s own fields changed (or it was created or deleted)."""
        self.repositories[id(repo)] = repo

    def image(self, repo: Repository, digest: str) -> None:
        """The image ``digest`` of ``repo`` changed, appeared or went (the repository's own
        fields are marked apart, by :meth:`repository`)."""
        self.images[(id(repo), digest)] = repo

    def repository_blob(self, repo: Repository, digest: str) -> None:
        """``repo`` came to know, or forgot, the blob ``digest``."""
        self.repository_blobs[(id(repo), digest)] = repo

    def blob(self, reg: Registry, digest: str) -> None:
        """``reg`` came to hold, or let go of, the blob ``digest``."""
        self.blobs[(id(reg), digest)] = reg

    def __bool__(self) -> bool:
        return bool(
            self.everything
            or self.repositories
            or self.images
            or self.repository_blobs
            or self.blobs
        )

    def take(self) -> ChangeSet:
        """The marks made so far (this set is empty afterwards)."""
        taken = ChangeSet()
        taken.repositories, self.repositories = self.repositories, {}
        taken.images, self.images = self.images, {}
        taken.repository_blobs, self.repository_blobs = self.repository_blobs, {}
        taken.blobs, self.blobs = self.blobs, {}
        taken.everything, self.everything = self.everything, False
        return taken

    def merge(self, other: ChangeSet) -> None:
        """Take back marks a failed save could not write (the next save tries again)."""
        for key, repo in other.repositories.items():
            self.repositories.setdefault(key, repo)
        for ikey, repo in other.images.items():
            self.images.setdefault(ikey, repo)
        for bkey, repo in other.repository_blobs.items():
            self.repository_blobs.setdefault(bkey, repo)
        for rkey, reg in other.blobs.items():
            self.blobs.setdefault(rkey, reg)
        self.everything = self.everything or other.everything
