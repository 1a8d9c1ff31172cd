"""Which AWS Backup resource assignments select a resource: a table of selections."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler_core.aws_calls import tags_of
from scheduler_core.windows.selection import BackupSelection, arn_matches

DB = "arn:aws:rds:eu-west-1:123456789012:db:shop-db"
CLUSTER = "arn:aws:rds:eu-west-1:123456789012:cluster:shop-aurora"
WAREHOUSE = "arn:aws:redshift:eu-west-1:123456789012:cluster:warehouse"
TAGS = {"backup": "daily", "env": "staging", "team": "shop-platform"}


def equals(key: str, value: str) -> dict[str, str]:
    return {"ConditionKey": f"aws:ResourceTag/{key}", "ConditionValue": value}


CASES: list[tuple[str, dict[str, Any], str, bool]] = [
    ("empty selection selects everything", {}, DB, True),
    ("all resources", {"Resources": ["*"]}, DB, True),
    ("exact arn", {"Resources": [DB]}, DB, True),
    ("other arn", {"Resources": [CLUSTER]}, DB, False),
    ("all rds instances", {"Resources": ["arn:aws:rds:*:*:db:*"]}, DB, True),
    (
        "rds instances pattern misses clusters",
        {"Resources": ["arn:aws:rds:*:*:db:*"]},
        CLUSTER,
        False,
    ),
    ("name prefix", {"Resources": ["arn:aws:rds:*:*:cluster:shop-*"]}, CLUSTER, True),
    ("redshift clusters", {"Resources": ["arn:aws:redshift:*:*:cluster:*"]}, WAREHOUSE, True),
    ("any of several arns", {"Resources": [CLUSTER, DB]}, DB, True),
    ("excluded by NotResources", {"Resources": ["*"], "NotResources": [DB]}, DB, False),
    (
        "NotResources pattern",
        {"Resources": ["*"], "NotResources": ["arn:aws:rds:*:*:cluster:*"]},
        DB,
        True,
    ),
    (
        "ListOfTags match",
        {
            "ListOfTags": [
                {
                    "ConditionType": "STRINGEQUALS",
                    "ConditionKey": "backup",
                    "ConditionValue": "daily",
                }
            ]
        },
        DB,
        True,
    ),
    (
        "ListOfTags with aws:ResourceTag prefix",
        {
            "ListOfTags": [
                {
                    "ConditionType": "STRINGEQUALS",
                    "ConditionKey": "aws:ResourceTag/env",
                    "ConditionValue": "staging",
                }
            ]
        },
        DB,
        True,
    ),
    (
        "ListOfTags is OR",
        {
            "ListOfTags": [
                {
                    "ConditionType": "STRINGEQUALS",
                    "ConditionKey": "backup",
                    "ConditionValue": "weekly",
                },
                {
                    "ConditionType": "STRINGEQUALS",
                    "ConditionKey": "env",
                    "ConditionValue": "staging",
                },
            ]
        },
        DB,
        True,
    ),
    (
        "ListOfTags miss",
        {
            "ListOfTags": [
                {
                    "ConditionType": "STRINGEQUALS",
                    "ConditionKey": "backup",
                    "ConditionValue": "weekly",
                }
            ]
        },
        DB,
        False,
    ),
    (
        "Resources or ListOfTags",
        {
            "Resources": [CLUSTER],
            "ListOfTags": [
                {
                    "ConditionType": "STRINGEQUALS",
                    "ConditionKey": "env",
                    "ConditionValue": "staging",
                }
            ],
        },
        DB,
        True,
    ),
    (
        "Conditions are AND",
        {
            "Resources": ["*"],
            "Conditions": {"StringEquals": [equals("backup", "daily"), equals("env", "prod")]},
        },
        DB,
        False,
    ),
    (
        "Conditions all hold",
        {
            "Resources": ["*"],
            "Conditions": {"StringEquals": [equals("backup", "daily"), equals("env", "staging")]},
        },
        DB,
        True,
    ),
    (
        "Conditions alone scope everything",
        {"Conditions": {"StringEquals": [equals("env", "staging")]}},
        DB,
        True,
    ),
    (
        "StringLike wildcard",
        {"Resources": ["*"], "Conditions": {"StringLike": [equals("team", "shop-*")]}},
        DB,
        True,
    ),
    (
        "StringLike miss",
        {"Resources": ["*"], "Conditions": {"StringLike": [equals("team", "data-*")]}},
        DB,
        False,
    ),
    (
        "StringLike ?",
        {"Resources": ["*"], "Conditions": {"StringLike": [equals("env", "stag?ng")]}},
        DB,
        True,
    ),
    (
        "StringNotEquals",
        {"Resources": ["*"], "Conditions": {"StringNotEquals": [equals("env", "prod")]}},
        DB,
        True,
    ),
    (
        "StringNotEquals excludes",
        {"Resources": ["*"], "Conditions": {"StringNotEquals": [equals("env", "staging")]}},
        DB,
        False,
    ),
    (
        "StringNotEquals on a missing tag holds",
        {"Resources": ["*"], "Conditions": {"StringNotEquals": [equals("owner", "x")]}},
        DB,
        True,
    ),
    (
        "StringEquals on a missing tag fails",
        {"Resources": ["*"], "Conditions": {"StringEquals": [equals("owner", "x")]}},
        DB,
        False,
    ),
    (
        "StringNotLike",
        {"Resources": ["*"], "Conditions": {"StringNotLike": [equals("team", "shop*")]}},
        DB,
        False,
    ),
    (
        "conditions are case sensitive",
        {"Resources": ["*"], "Conditions": {"StringEquals": [equals("env", "Staging")]}},
        DB,
        False,
    ),
    (
        "conditions filter the Resources scope",
        {
            "Resources": ["arn:aws:rds:*:*:cluster:*"],
            "Conditions": {"StringEquals": [equals("env", "staging")]},
        },
        DB,
        False,
    ),
]


@pytest.mark.parametrize(
    ("document", "arn", "selected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_selection_matching(document: dict[str, Any], arn: str, selected: bool) -> None:
    selection = BackupSelection.from_api(
        {"SelectionName": "s", "IamRoleArn": "arn:role", **document}
    )
    assert selection.selects(arn=arn, tags=TAGS) is selected


def test_star_matches_any_run_including_colons_and_slashes() -> None:
    assert arn_matches("arn:aws:rds:*", CLUSTER)
    assert not arn_matches("arn:aws:rds:*:db:other", DB)
    assert arn_matches("arn:aws:rds:eu-west-1:123456789012:db:shop-db", DB)


def test_pattern_characters_are_literal() -> None:
    assert not arn_matches("arn:aws:rds:eu.west.1:*", DB)
    assert arn_matches("arn:aws:rds:eu-west-1:*:db:shop-db", DB)


def test_tags_of_reads_rds_and_redshift_tag_lists() -> None:
    assert tags_of([{"Key": "a", "Value": "1"}, {"Key": "b"}]) == {"a": "1", "b": ""}
    assert tags_of(None) == {}
