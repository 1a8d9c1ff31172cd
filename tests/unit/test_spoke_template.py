"""infra/spoke.yaml: the role a hub assumes in a spoke account, and the event forwarding.

Each rule returns the problems it finds; the template must have none, and the negative
controls at the end prove each rule can fail on a broken copy. What the spoke role must
allow is derived from the hub (template.yaml) and the registry of kinds, not listed here.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit import test_template_iam as hub
from tests.unit.cfn_yaml import load

SPOKE_PATH = Path(__file__).resolve().parents[2] / "infra" / "spoke.yaml"

Template = dict[str, Any]
Check = Callable[[Template], list[str]]

HUB_ACCOUNT = hub.DEPLOYED["AWS::AccountId"]
HUB_REGION = hub.DEPLOYED["AWS::Region"]
SPOKE_ACCOUNT = hub.SAMPLE_SPOKES[0]
OTHER_REGION = "us-east-1"
HUB_BUS = f"arn:aws:events:{HUB_REGION}:{HUB_ACCOUNT}:event-bus/default"
# Names of another hub stack ("ops"), to see the parameters reach the trust policy.
SAMPLE_NAMES = {
    "HubStateMachineRoleName": "ops-state-machine",
    "HubReaderRoleNames": "ops-slack,ops-webhook,ops-sync,ops-restop",
}


@pytest.fixture(scope="module")
def spoke() -> Template:
    return load(SPOKE_PATH)


@pytest.fixture(scope="module")
def hub_template() -> Template:
    return load(hub.TEMPLATE_PATH)


def deploy(
    template: Template, region: str = HUB_REGION, **parameters: str | list[str]
) -> hub.Stack:
    """The spoke template as one stack instance of the StackSet: the spoke's account."""
    values = {"HubAccountId": HUB_ACCOUNT, "HubRegion": HUB_REGION, **parameters}
    values = {k: ",".join(v) if isinstance(v, list) else v for k, v in values.items()}
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::Region": region,
        "AWS::AccountId": SPOKE_ACCOUNT,
        "AWS::StackName": "StackSet-envctl-spoke-1",
    }
    return hub.Stack(template, values, pseudo)


def spoke_role(template: Template) -> str:
    roles = [
        name
        for name, props in hub.resources_of(template, "AWS::IAM::Role")
        if props.get("RoleName") == {"Ref": "SpokeRoleName"}
    ]
    assert len(roles) == 1, f"expected one role named SpokeRoleName, found {roles}"
    return roles[0]


def spoke_statements(template: Template) -> list[dict[str, Any]]:
    """The spoke role's policy statements as written (short tags in long form)."""
    role = spoke_role(template)
    return [located.statement for located in hub.iam_statements(template) if located.owner == role]


# ---------------------------------------------------------------- what the role may do


def hub_reads_of_others(hub_template: Template) -> set[str]:
    """What the hub's machines and reading functions read on Resource "*": the resources
    (and others' schedules, tags, scaling actions, backup plans) of the account they
    manage, so a spoke's too."""
    return {
        action
        for located in hub.iam_statements(hub_template)
        if located.owner in hub.SPOKE_ROLE_USERS
        and any(hub.is_star(r) for r in hub.resources(located.statement))
        for action in hub.actions(located.statement)
    }


def check_actions_are_the_hubs(template: Template) -> list[str]:
    """Every kind's start/stop and status read, and the hub's window/conflict reads;
    nothing more."""
    needed = hub.MANAGED_MUTATIONS | hub.STATUS_READS | hub_reads_of_others(load(hub.TEMPLATE_PATH))
    granted = {a for statement in spoke_statements(template) for a in hub.actions(statement)}
    problems = [f"spoke role lacks {action}" for action in sorted(needed - granted)]
    problems += [
        f"spoke role grants {action}, which no hub role does on others' resources"
        for action in sorted(granted - needed)
    ]
    return problems


def _in_any_region(resource: Any) -> Any:
    """A hub resource (this region) as the spoke writes it (the role serves every region)."""
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), str):
        return {"Fn::Sub": resource["Fn::Sub"].replace("${AWS::Region}", "*")}
    return resource


def check_mutations_scoped_as_in_hub(template: Template) -> list[str]:
    """Each mutation: the hub state machine role's resources (any region) and exactly its
    condition (the envctl:managed tag; by ARN only where the hub does so)."""
    hub_statements = [
        located.statement
        for located in hub.iam_statements(load(hub.TEMPLATE_PATH))
        if located.owner == "StateMachineRole"
    ]
    problems = []
    for statement in spoke_statements(template):
        for action in sorted(set(hub.actions(statement)) & hub.MANAGED_MUTATIONS):
            theirs = [s for s in hub_statements if action in hub.actions(s)]
            if len(theirs) != 1:
                problems.append(f"the hub grants {action} in {len(theirs)} statements")
                continue
            wanted = sorted(json.dumps(_in_any_region(r)) for r in hub.resources(theirs[0]))
            if sorted(json.dumps(r) for r in hub.resources(statement)) != wanted:
                problems.append(f"{action} on {hub.resources(statement)}, the hub's: {wanted}")
            if statement.get("Condition") != theirs[0].get("Condition"):
                problems.append(
                    f"{action} condition {statement.get('Condition')}, "
                    f"the hub's: {theirs[0].get('Condition')}"
                )
    return problems


# ---------------------------------------------------------------- who may assume it


def trusted_principals(template: Template, **parameters: str) -> tuple[list[str], list[str]]:
    """The trust policy's problems, and the principals it names (deployed)."""
    problems = []
    stack = deploy(template, **parameters)
    role = spoke_role(template)
    document = stack.evaluate(template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"])
    found: list[str] = []
    for statement in hub.as_list(document.get("Statement")):
        if statement.get("Effect") != "Allow" or hub.actions(statement) != ["sts:AssumeRole"]:
            problems.append(f"trust statement {statement}")
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or set(principal) != {"AWS"}:
            problems.append(f"trust principal {principal!r}")
            continue
        found.extend(str(p) for p in hub.as_list(principal["AWS"]))
    return problems, found


def check_trusted_by_the_hub_roles_only(template: Template) -> list[str]:
    """The trust policy names the hub's state machine role and its four reader roles, by
    ARN in the hub account (no account root, no "*", no other account)."""
    problems = []
    for parameters in ({}, SAMPLE_NAMES):
        names = [
            parameters.get("HubStateMachineRoleName", "envctl-state-machine"),
            *parameters.get(
                "HubReaderRoleNames", template["Parameters"]["HubReaderRoleNames"]["Default"]
            ).split(","),
        ]
        wanted = sorted(f"arn:aws:iam::{HUB_ACCOUNT}:role/{name}" for name in names)
        problems_of_trust, found = trusted_principals(template, **parameters)
        problems += problems_of_trust
        if sorted(found) != wanted:
            problems.append(f"trusted {sorted(found)}, expected {wanted}")
    return problems


def test_fewer_than_four_reader_roles_fails_the_deployment(spoke: Template) -> None:
    with pytest.raises(IndexError):
        trusted_principals(spoke, HubReaderRoleNames="ops-slack,ops-webhook,ops-sync")


def check_hub_names_match(template: Template) -> list[str]:
    """The defaults are the names a hub stack called "envctl" gives its roles."""
    hub_template = load(hub.TEMPLATE_PATH)
    stack = hub.deploy(hub_template)
    outputs = hub_template["Outputs"]
    wanted = {
        "HubStateMachineRoleName": stack.evaluate(outputs["StateMachineRoleName"]["Value"]),
        "HubReaderRoleNames": stack.evaluate(outputs["ReaderRoleNames"]["Value"]),
        "SpokeRoleName": hub_template["Parameters"]["SpokeRoleName"]["Default"],
    }
    problems = []
    for name, value in wanted.items():
        default = str(template["Parameters"][name].get("Default"))
        if sorted(default.split(",")) != sorted(str(value).split(",")):
            problems.append(f"default {name} = {default}, the hub's: {value}")
    return problems


# ---------------------------------------------------------------- StackSets


def check_role_once_per_account(template: Template) -> list[str]:
    """IAM is global: of the stacks of one account (one per region), exactly one creates
    the spoke role (PrimaryRegion, default HubRegion); the forwarding is in every region."""
    problems = []
    role = spoke_role(template)
    regions = [HUB_REGION, OTHER_REGION, "ap-southeast-2"]
    for primary, expected in (("", HUB_REGION), (OTHER_REGION, OTHER_REGION)):
        creating = [r for r in regions if deploy(template, r, PrimaryRegion=primary).active(role)]
        if creating != [expected]:
            problems.append(f"PrimaryRegion={primary!r}: the role is created in {creating}")
        output = template.get("Outputs", {}).get("SpokeRoleArn", {})
        if output.get("Condition") != template["Resources"][role].get("Condition"):
            problems.append("output SpokeRoleArn is not conditioned like the role")
    for region in regions:
        stack = deploy(template, region)
        for name, resource in template["Resources"].items():
            if name != role and not stack.active(name):
                problems.append(f"{name} is not created in {region}")
            named = resource.get("Properties", {}).get("RoleName")
            if resource["Type"] == "AWS::IAM::Role" and name != role and named:
                problems.append(f"{name}: a named role would collide across regions")
    if deploy(template).evaluate(template["Resources"][role]["Properties"]["RoleName"]) != (
        "envctl-spoke"
    ):
        problems.append("the spoke role is not named SpokeRoleName")
    return problems


TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
REGION_NAME = re.compile(r"\b[a-z]{2}-(?:[a-z]+-)+\d\b")


def check_portable(template: Template) -> list[str]:
    """Plain CloudFormation, no account id or region written in: one template for every
    account and region of a StackSet."""
    problems = []
    if "Transform" in template:
        problems.append(f"transform {template['Transform']} (StackSets take plain templates)")
    text = json.dumps(template)
    problems += [f"hard-coded account {m}" for m in TWELVE_DIGITS.findall(text)]
    problems += [f"hard-coded region {m}" for m in REGION_NAME.findall(text)]
    account = template["Parameters"]["HubAccountId"]
    if account.get("AllowedPattern") != r"^\d{12}$" or "Default" in account:
        problems.append(f"HubAccountId {account}")
    return problems


# ---------------------------------------------------------------- forwarding auto-starts


def check_forwarding_to_the_hub_bus(template: Template) -> list[str]:
    """One rule, the hub restop rule's pattern, one target: the hub's default bus, through
    a role EventBridge alone may assume and that may only PutEvents on that bus."""
    problems = []
    rules = dict(hub.resources_of(template, "AWS::Events::Rule"))
    if len(rules) != 1:
        return [f"expected one rule, found {sorted(rules)}"]
    ((name, rule),) = rules.items()
    stack = deploy(template, OTHER_REGION)
    (restop,) = hub._rule_patterns(load(hub.TEMPLATE_PATH), "RestopFunction")
    if rule.get("EventPattern") != restop:
        problems.append(f"{name} pattern {rule.get('EventPattern')}, the hub's: {restop}")
    if rule.get("EventBusName", "default") != "default":
        problems.append(f"{name} is on the bus {rule.get('EventBusName')}")
    targets = hub.as_list(rule.get("Targets"))
    if len(targets) != 1:
        return [*problems, f"{name} has {len(targets)} targets"]
    target = targets[0]
    if stack.evaluate(target.get("Arn")) != HUB_BUS:
        problems.append(f"{name} targets {stack.evaluate(target.get('Arn'))}")
    getatt = (target.get("RoleArn") or {}).get("Fn::GetAtt", [None])
    role = template["Resources"].get(str(getatt[0]), {})
    if role.get("Type") != "AWS::IAM::Role":
        return [*problems, f"{name} target role {target.get('RoleArn')}"]
    trust = stack.evaluate(role["Properties"]["AssumeRolePolicyDocument"])["Statement"]
    if [s.get("Principal") for s in trust] != [{"Service": "events.amazonaws.com"}]:
        problems.append(f"forwarding role trusted by {[s.get('Principal') for s in trust]}")
    statements = hub.role_policy_statements(stack, str(getatt[0]))
    for statement in statements:
        if hub.actions(statement) != ["events:PutEvents"]:
            problems.append(f"forwarding role may {hub.actions(statement)}")
        if hub.resources(statement) != [HUB_BUS]:
            problems.append(f"forwarding role puts events on {hub.resources(statement)}")
    if not any(hub.allows(s, "events:PutEvents", HUB_BUS) for s in statements):
        problems.append("forwarding role may not put events on the hub's bus")
    return problems


SPOKE_CHECKS: list[Check] = [
    hub.check_no_wildcard_actions,
    hub.check_star_resource_only_reads,
    hub.check_managed_mutations_scoped,
    hub.check_no_unreviewed_policies,
    check_actions_are_the_hubs,
    check_mutations_scoped_as_in_hub,
    check_trusted_by_the_hub_roles_only,
    check_hub_names_match,
    check_role_once_per_account,
    check_portable,
    check_forwarding_to_the_hub_bus,
]


@pytest.mark.parametrize("check", SPOKE_CHECKS, ids=lambda c: c.__name__)
def test_spoke_template_passes(spoke: Template, check: Check) -> None:
    assert check(spoke) == []


def test_status_readers_of_the_hub_are_the_trusted_readers(hub_template: Template) -> None:
    """The roles the spoke trusts as readers are the hub's functions that read resources."""
    readers = {hub.role_of_function(hub.function_props(hub_template, f)) for f in hub.HANDLERS}
    assert set(hub.READER_ROLES) <= readers
    assert set(hub.STATUS_READERS) - {"StateMachineRole"} <= set(hub.READER_ROLES)


# ---------------------------------------------------------------- negative controls


def _role_props(template: Template) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"][spoke_role(template)]["Properties"]
    return props


def _statement(template: Template, sid: str) -> dict[str, Any]:
    return next(s for s in spoke_statements(template) if s.get("Sid") == sid)


def _trust(template: Template) -> dict[str, Any]:
    statement: dict[str, Any] = _role_props(template)["AssumeRolePolicyDocument"]["Statement"][0]
    return statement


def _add(template: Template, statement: dict[str, Any]) -> None:
    _role_props(template)["Policies"][0]["PolicyDocument"]["Statement"].append(statement)


def _trust_hub_root(template: Template) -> None:
    principals = _trust(template)["Principal"]["AWS"]
    principals.append({"Fn::Sub": "arn:${AWS::Partition}:iam::${HubAccountId}:root"})


def _trust_anyone(template: Template) -> None:
    _trust(template)["Principal"] = {"AWS": "*"}


def _trust_another_account(template: Template) -> None:
    principals = _trust(template)["Principal"]["AWS"]
    principals[0] = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/admin"}


def _trust_a_service_too(template: Template) -> None:
    statements = _role_props(template)["AssumeRolePolicyDocument"]["Statement"]
    statements.append(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )


def _untagged_rds(template: Template) -> None:
    del _statement(template, "StartStopManagedRds")["Condition"]


def _ec2_in_any_account(template: Template) -> None:
    _statement(template, "StartStopManagedEc2")["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:ec2:*:*:instance/*"
    }


def _scalable_targets_on_star(template: Template) -> None:
    _statement(template, "MinCapacityOfEcsScalableTargets")["Resource"] = "*"


def _no_backup_reads(template: Template) -> None:
    statements = _role_props(template)["Policies"][0]["PolicyDocument"]["Statement"]
    statements.remove(_statement(template, "ReadBackupPlans"))


def _no_eks_scaling(template: Template) -> None:
    statements = _role_props(template)["Policies"][0]["PolicyDocument"]["Statement"]
    statements.remove(_statement(template, "ScaleManagedEksNodegroups"))


def _extra_read(template: Template) -> None:
    _statement(template, "DescribeManagedResources")["Action"].append("s3:GetObject")


def _write_on_star(template: Template) -> None:
    _add(template, {"Effect": "Allow", "Action": "rds:DeleteDBInstance", "Resource": "*"})


def _role_in_every_region(template: Template) -> None:
    del template["Resources"][spoke_role(template)]["Condition"]


def _named_forwarding_role(template: Template) -> None:
    template["Resources"]["ForwardAutoStartsRole"]["Properties"]["RoleName"] = "envctl-forward"


def _forwarding_only_in_primary(template: Template) -> None:
    template["Resources"]["ForwardAutoStarts"]["Condition"] = "CreateSpokeRole"


def _hard_coded_hub(template: Template) -> None:
    _trust(template)["Principal"]["AWS"][0] = "arn:aws:iam::123456789012:role/envctl-state-machine"


def _hard_coded_region(template: Template) -> None:
    target = template["Resources"]["ForwardAutoStarts"]["Properties"]["Targets"][0]
    target["Arn"] = {
        "Fn::Sub": "arn:${AWS::Partition}:events:eu-west-1:${HubAccountId}:event-bus/default"
    }


def _other_bus(template: Template) -> None:
    target = template["Resources"]["ForwardAutoStarts"]["Properties"]["Targets"][0]
    target["Arn"] = {
        "Fn::Sub": "arn:${AWS::Partition}:events:${HubRegion}:${HubAccountId}:event-bus/audit"
    }


def _put_events_anywhere(template: Template) -> None:
    props = template["Resources"]["ForwardAutoStartsRole"]["Properties"]
    props["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] = "*"


def _forwarding_role_may_more(template: Template) -> None:
    props = template["Resources"]["ForwardAutoStartsRole"]["Properties"]
    statement = props["Policies"][0]["PolicyDocument"]["Statement"][0]
    statement["Action"] = ["events:PutEvents", "events:PutRule"]


def _one_event_id(template: Template) -> None:
    pattern = template["Resources"]["ForwardAutoStarts"]["Properties"]["EventPattern"]
    pattern["detail"]["EventID"] = ["RDS-EVENT-0154"]


def _reader_names_of_another_hub(template: Template) -> None:
    template["Parameters"]["HubReaderRoleNames"]["Default"] = (
        "envctl-slack,envctl-webhook,envctl-sync,envctl-notifier"
    )


NEGATIVE_CONTROLS: list[tuple[str, Check, Callable[[Template], None]]] = [
    ("trusts the hub root", check_trusted_by_the_hub_roles_only, _trust_hub_root),
    ("trusts anyone", check_trusted_by_the_hub_roles_only, _trust_anyone),
    ("trusts another account", check_trusted_by_the_hub_roles_only, _trust_another_account),
    ("trusts a service", check_trusted_by_the_hub_roles_only, _trust_a_service_too),
    ("untagged rds", hub.check_managed_mutations_scoped, _untagged_rds),
    ("untagged rds vs hub", check_mutations_scoped_as_in_hub, _untagged_rds),
    ("ec2 any account", check_mutations_scoped_as_in_hub, _ec2_in_any_account),
    ("scalable targets on *", hub.check_managed_mutations_scoped, _scalable_targets_on_star),
    ("write on *", hub.check_star_resource_only_reads, _write_on_star),
    ("no backup reads", check_actions_are_the_hubs, _no_backup_reads),
    ("no eks scaling", check_actions_are_the_hubs, _no_eks_scaling),
    ("extra read", check_actions_are_the_hubs, _extra_read),
    ("role in every region", check_role_once_per_account, _role_in_every_region),
    ("named forwarding role", check_role_once_per_account, _named_forwarding_role),
    ("forwarding in one region", check_role_once_per_account, _forwarding_only_in_primary),
    ("hard-coded hub account", check_portable, _hard_coded_hub),
    ("hard-coded region", check_portable, _hard_coded_region),
    ("other bus", check_forwarding_to_the_hub_bus, _other_bus),
    ("put events anywhere", check_forwarding_to_the_hub_bus, _put_events_anywhere),
    ("forwarding role may more", check_forwarding_to_the_hub_bus, _forwarding_role_may_more),
    ("one event id", check_forwarding_to_the_hub_bus, _one_event_id),
    ("another hub's names", check_hub_names_match, _reader_names_of_another_hub),
]


@pytest.mark.parametrize(
    ("check", "mutate"),
    [(check, mutate) for _, check, mutate in NEGATIVE_CONTROLS],
    ids=[name for name, _, _ in NEGATIVE_CONTROLS],
)
def test_rule_fails_on_a_broken_copy(
    spoke: Template, check: Check, mutate: Callable[[Template], None]
) -> None:
    broken = copy.deepcopy(spoke)
    mutate(broken)
    assert check(broken) != []
