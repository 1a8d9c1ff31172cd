"""Who may operate a composition from Slack."""

from __future__ import annotations

import pytest

from bot.slack.access import UsergroupMembers, decide, who_may
from scheduler_core.config.models import Access

GROUPS = {"S1": {"U2"}}


def members_of(group: str) -> set[str]:
    return GROUPS.get(group, set())


@pytest.mark.parametrize(
    ("access", "user", "channel", "allowed"),
    [
        (None, "U9", "C9", True),
        (Access(), "U9", "C9", True),
        (Access(users=("U1",)), "U1", "C9", True),
        (Access(users=("U1",)), "U9", "C9", False),
        (Access(usergroups=("S1",)), "U2", "C9", True),
        (Access(usergroups=("S1",)), "U9", "C9", False),
        (Access(channels=("C1",)), "U9", "C1", True),
        (Access(channels=("C1",)), "U9", "C2", False),
        (Access(users=("U1",), channels=("C1",)), "U1", "C2", False),
        (Access(users=("U1",), usergroups=("S1",)), "U2", "C9", True),
    ],
)
def test_decide(access: Access | None, user: str, channel: str, allowed: bool) -> None:
    assert (
        decide(access, user_id=user, channel_id=channel, members_of=members_of).allowed is allowed
    )


def test_refusal_names_who_may_operate() -> None:
    decision = decide(
        Access(users=("U1", "U3"), usergroups=("S1",)),
        user_id="U9",
        channel_id="C1",
        members_of=members_of,
    )

    assert decision.reason == "only <@U1>, <@U3> or members of <!subteam^S1> may operate it"


def test_channel_refusal_names_the_channels() -> None:
    decision = decide(
        Access(channels=("C1", "C2")), user_id="U1", channel_id="C3", members_of=members_of
    )

    assert decision.reason == "it can only be operated from <#C1>, <#C2>"


def test_who_may_with_one_name() -> None:
    assert who_may(Access(users=("U1",))) == "<@U1>"


def test_usergroup_members_are_cached_until_the_ttl() -> None:
    calls: list[str] = []
    now = [0.0]

    class Client:
        def usergroups_users_list(self, usergroup: str) -> dict[str, list[str]]:
            calls.append(usergroup)
            return {"users": ["U1"]}

    members = UsergroupMembers(Client(), ttl_seconds=300, clock=lambda: now[0])
    assert members("S1") == {"U1"} and members("S1") == {"U1"}
    now[0] = 301
    members("S1")

    assert calls == ["S1", "S1"]
