"""Does an AWS Backup resource assignment (backup selection) select a resource? Pure.

The rules, from the AWS Backup developer guide ("Assign resources with AWS CLI") and
the ``BackupSelection`` API reference:

* ``Resources`` (ARN patterns, ``*`` matches any run of characters) and
  ``ListOfTags`` (``StringEquals`` on tags) are alternatives: a resource is in scope
  when it matches any of them. With neither, every resource is in scope.
* ``NotResources`` takes resources out again.
* ``Conditions`` must all hold (AND): ``StringEquals``, ``StringLike``,
  ``StringNotEquals`` and ``StringNotLike`` on ``aws:ResourceTag/<key>``, case
  sensitive; as in IAM, a "Not" condition holds for a resource without the tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

TAG_PREFIX = "aws:ResourceTag/"


class ConditionOperator(StrEnum):
    STRING_EQUALS = "StringEquals"
    STRING_LIKE = "StringLike"
    STRING_NOT_EQUALS = "StringNotEquals"
    STRING_NOT_LIKE = "StringNotLike"

    @property
    def negated(self) -> bool:
        return self in (ConditionOperator.STRING_NOT_EQUALS, ConditionOperator.STRING_NOT_LIKE)

    @property
    def wildcards(self) -> bool:
        return self in (ConditionOperator.STRING_LIKE, ConditionOperator.STRING_NOT_LIKE)


@dataclass(frozen=True, kw_only=True)
class TagCondition:
    """One condition on a tag value."""

    operator: ConditionOperator
    key: str
    value: str

    def holds(self, tags: Mapping[str, str]) -> bool:
        actual = tags.get(self.key)
        if actual is None:
            return self.operator.negated
        if self.operator.wildcards:
            matched = _wildcard(self.value, single="?").fullmatch(actual) is not None
        else:
            matched = actual == self.value
        return matched != self.operator.negated


@dataclass(frozen=True, kw_only=True)
class BackupSelection:
    """The parts of a ``BackupSelection`` document that decide what it selects."""

    name: str = ""
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    list_of_tags: tuple[TagCondition, ...] = ()
    conditions: tuple[TagCondition, ...] = ()

    @classmethod
    def from_api(cls, document: Mapping[str, Any]) -> BackupSelection:
        """From ``get_backup_selection()["BackupSelection"]``; unknown operators are ignored."""
        conditions = document.get("Conditions") or {}
        return cls(
            name=str(document.get("SelectionName", "")),
            resources=tuple(document.get("Resources") or ()),
            not_resources=tuple(document.get("NotResources") or ()),
            list_of_tags=tuple(
                TagCondition(
                    operator=ConditionOperator.STRING_EQUALS,
                    key=_tag_key(str(tag.get("ConditionKey", ""))),
                    value=str(tag.get("ConditionValue", "")),
                )
                for tag in document.get("ListOfTags") or ()
                if tag.get("ConditionType", "STRINGEQUALS") == "STRINGEQUALS"
            ),
            conditions=tuple(
                TagCondition(
                    operator=operator,
                    key=_tag_key(str(item.get("ConditionKey", ""))),
                    value=str(item.get("ConditionValue", "")),
                )
                for operator in ConditionOperator
                for item in conditions.get(operator.value) or ()
            ),
        )

    def selects(self, *, arn: str, tags: Mapping[str, str]) -> bool:
        """Whether a resource with this ARN and these tags is assigned by the selection."""
        in_scope = not (self.resources or self.list_of_tags) or (
            any(arn_matches(pattern, arn) for pattern in self.resources)
            or any(condition.holds(tags) for condition in self.list_of_tags)
        )
        if not in_scope or any(arn_matches(pattern, arn) for pattern in self.not_resources):
            return False
        return all(condition.holds(tags) for condition in self.conditions)


def arn_matches(pattern: str, arn: str) -> bool:
    """Whether ``arn`` matches a selection ARN pattern (``*`` wildcards)."""
    return _wildcard(pattern, single=None).fullmatch(arn) is not None


def _tag_key(condition_key: str) -> str:
    # Conditions always say aws:ResourceTag/<key>; ListOfTags examples use both forms.
    return condition_key.removeprefix(TAG_PREFIX)


@lru_cache(maxsize=1024)
def _wildcard(text: str, *, single: str | None) -> re.Pattern[str]:
    """``*`` (and ``single``, IAM's ``?``, for StringLike) as a regular expression."""
    parts = []
    for char in text:
        if char == "*":
            parts.append(".*")
        elif char == single:
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)
