"""Load CloudFormation/SAM YAML: short-form tags become their long JSON form.

``!Ref X`` → ``{"Ref": "X"}``, ``!Condition C`` → ``{"Condition": "C"}``,
``!GetAtt A.B`` → ``{"Fn::GetAtt": ["A", "B"]}``, any other ``!Name v`` →
``{"Fn::Name": v}`` (Sub, If, Equals, Join, Select, Split, Not, And, Or, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PLAIN_KEYS = {"Ref", "Condition"}


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that knows the CloudFormation short-form tags."""


def _value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value = _value(loader, node)
    if suffix in PLAIN_KEYS:
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def loads(text: str) -> dict[str, Any]:
    document = yaml.load(text, Loader=CfnLoader)
    if not isinstance(document, dict):
        raise ValueError("expected a mapping at the top of the template")
    return document


def load(path: str | Path) -> dict[str, Any]:
    return loads(Path(path).read_text(encoding="utf-8"))
