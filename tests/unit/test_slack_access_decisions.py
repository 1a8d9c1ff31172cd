"""Edge cases of Slack access decisions that the mutation run showed untested."""

from __future__ import annotations

from bot.slack.access import UsergroupMembers, who_may
from scheduler_core.config.models import Access


class Client:
    def __init__(self, answer: dict[str, list[str]]) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def usergroups_users_list(self, usergroup: str) -> dict[str, list[str]]:
        self.calls.append(usergroup)
        return self.answer


def test_who_may_with_two_names_joins_them_with_or() -> None:
    assert who_may(Access(users=("U1",), usergroups=("S1",))) == (
        "<@U1> or members of <!subteam^S1>"
    )


def test_who_may_with_no_names_is_nobody() -> None:
    assert who_may(Access()) == "nobody"


def test_cache_is_measured_from_the_fetch_not_from_clock_zero() -> None:
    now = [1_000.0]
    client = Client({"users": ["U1"]})
    members = UsergroupMembers(client, ttl_seconds=300, clock=lambda: now[0])

    members("S1")
    now[0] = 1_299.0
    members("S1")

    assert client.calls == ["S1"]


def test_cache_expires_at_exactly_the_ttl() -> None:
    now = [0.0]
    client = Client({"users": ["U1"]})
    members = UsergroupMembers(client, ttl_seconds=300, clock=lambda: now[0])

    members("S1")
    now[0] = 300.0
    members("S1")

    assert client.calls == ["S1", "S1"]


def test_answer_without_users_means_no_members() -> None:
    members = UsergroupMembers(Client({}), clock=lambda: 0.0)

    assert members("S1") == set()
