"""The repositories service: ARNs and repository settings."""

from __future__ import annotations

from ecr_mock.core.services import Store, repositories


def test_repository_arns_are_built_and_parsed_by_the_service() -> None:
    arn = repositories.repository_arn("123456789012", "eu-west-1", "team/app")
    assert arn == "arn:aws:ecr:eu-west-1:123456789012:repository/team/app"
    ref = repositories.parse_repository_arn(arn)
    assert ref is not None
    assert (ref.account, ref.region, ref.name) == ("123456789012", "eu-west-1", "team/app")
    assert repositories.parse_repository_arn("arn:aws:s3:::bucket") is None


def test_scan_on_push_is_set_through_the_service() -> None:
    store = Store()
    repo = repositories.create_repository(store, store.registry(), "app")
    repositories.set_scan_on_push(store, repo, True)
    assert repo.scan_on_push
    repositories.set_scan_on_push(store, repo, False)
    assert not repo.scan_on_push
