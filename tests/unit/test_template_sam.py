"""The SAM transform expands template.yaml without errors (what `sam deploy` runs first).

cfn-lint checks the template against its schemas but does not expand the transform;
the AWS SAM translator does, so generated resources (API key, usage plan, stages,
permissions) and references to them are checked here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from tests.unit.cfn_yaml import load as load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def translate(parameters: dict[str, Any]) -> dict[str, Any]:
    template = load_template(TEMPLATE)
    # What `sam deploy` packages first: the local CodeUri becomes the uploaded bundle.
    template["Globals"]["Function"]["CodeUri"] = "s3://envctl-artifacts/envctl.zip"
    translator = Translator(managed_policy_map=None, sam_parser=Parser())
    return translator.translate(
        sam_template=copy.deepcopy(template),
        parameter_values=parameters,
        # envctl's roles use inline policies only: no managed policy is looked up.
        get_managed_policy_map=lambda: {},
    )


@pytest.mark.parametrize(
    "parameters",
    [
        {"WebhookEndpointType": "REGIONAL", "WebhookIpAllowlist": ""},
        {"WebhookEndpointType": "PRIVATE", "WebhookIpAllowlist": "10.0.0.0/8,2001:db8::/32"},
    ],
)
def test_sam_transform_expands_the_template(parameters: dict[str, Any]) -> None:
    output = translate(parameters)

    types = {resource["Type"] for resource in output["Resources"].values()}
    assert "AWS::Serverless::Function" not in types
    assert {"AWS::Lambda::Function", "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"} <= types
    assert {"AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlan"} <= types
