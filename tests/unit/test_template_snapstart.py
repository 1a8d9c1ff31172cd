"""template.yaml: SnapStart behind a parameter, on the functions whose init it helps."""

from __future__ import annotations

from pathlib import Path

from tests.unit.cfn_yaml import load

TEMPLATE = load(Path(__file__).resolve().parents[2] / "template.yaml")
SNAPSTARTED = ("SlackFunction", "WebhookFunction")


def test_snapstart_is_a_parameter_off_by_default() -> None:
    parameter = TEMPLATE["Parameters"]["SnapStart"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["true", "false"])
    assert TEMPLATE["Conditions"]["UseSnapStart"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}


def test_each_request_function_snapshots_published_versions_only_when_asked() -> None:
    for name in SNAPSTARTED:
        properties = TEMPLATE["Resources"][name]["Properties"]
        assert properties["SnapStart"] == {
            "Fn::If": ["UseSnapStart", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]
        }, name
        # SnapStart applies to published versions: the API must call one (the alias).
        assert properties["AutoPublishAlias"] == "live", name
        # The handler reads the switch to register its snapshot hooks (bot/snapstart.py).
        assert properties["Environment"]["Variables"]["ENVCTL_SNAPSTART"] == {"Ref": "SnapStart"}


def test_the_slack_function_may_invoke_its_alias_for_lazy_listeners() -> None:
    role = TEMPLATE["Resources"]["SlackFunctionRole"]["Properties"]
    [statement] = [
        s
        for policy in role["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if s.get("Sid") == "InvokeSelfForLazyListeners"
    ]
    arns = [r["Fn::Sub"] for r in statement["Resource"]]
    assert any(arn.endswith("function:${AWS::StackName}-slack:*") for arn in arns)
