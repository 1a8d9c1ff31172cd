"""template.yaml: least-privilege IAM and the structural facts the code relies on.

Every rule is a function that returns the problems it finds; the template must have
none, and the negative controls at the end prove each rule can fail on a broken copy.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from scheduler_core.asl.builder import build_state_machine
from scheduler_core.asl.windows_machine import build_windows_machine
from scheduler_core.config import parse_config
from scheduler_core.resources import REGISTRY, Action
from scheduler_core.runtime.deploy import execution_arn, state_machine_arn
from tests.unit.cfn_yaml import load, loads

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"
TEMPLATE_TEXT = TEMPLATE_PATH.read_text(encoding="utf-8")

Template = dict[str, Any]
Check = Callable[[Template], list[str]]

MANAGED_TAG_KEY = "aws:ResourceTag/envctl:managed"
# What every registered kind says it needs (ResourceKind.iam): no hand-kept list, so a
# new kind is checked as soon as it is registered.
MANAGED_MUTATIONS = {
    action for kind in REGISTRY.values() for action in (*kind.iam.control, *kind.iam.control_by_arn)
}
# Mutations scoped by ARN instead of the tag (see the comment in template.yaml).
SCOPED_BY_ARN = {action for kind in REGISTRY.values() for action in kind.iam.control_by_arn}
STATUS_READS = {action for kind in REGISTRY.values() for action in kind.iam.read}
# Roles that read live status: the state machines poll, Slack and webhooks show status,
# the sync function's plan reads the resources too.
STATUS_READERS = (
    "StateMachineRole",
    "SlackFunctionRole",
    "WebhookFunctionRole",
    "SyncFunctionRole",
)
READ_PREFIXES = ("Describe", "List", "Get")
PASSABLE_ROLES = {
    "StateMachineRole": "states.amazonaws.com",
    "SchedulerRole": "scheduler.amazonaws.com",
    "EventForwardingRole": "events.amazonaws.com",
}
TABLE_ARN = {"Fn::GetAtt": ["EnvctlTable", "Arn"]}
# The envctl table of every managed region (same name; the sync function creates it).
REGIONAL_TABLE_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/${EnvctlTable}"
}
ENVCTL_MACHINES = (
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:envctl-"
)
ENVCTL_MACHINES_IN_ANY_REGION = (
    "arn:${AWS::Partition}:states:*:${AWS::AccountId}:stateMachine:envctl-"
)
HANDLERS = {
    "SlackFunction": "bot.slack_handler.handler",
    "WebhookFunction": "bot.webhook_handler.handler",
    "NotifierFunction": "bot.notifier.handler",
    "SyncFunction": "bot.sync.handler",
    "RestopFunction": "bot.restop.handler",
}
SDK_SERVICE_TO_IAM = {
    "docdb": "rds",
    "efs": "elasticfilesystem",
    "neptune": "rds",
    "applicationautoscaling": "application-autoscaling",
    "sfn": "states",
}
# Calls with which Step Functions hands a role to another service for the machine: the
# auto-stop schedule's target runs as the scheduler role.
PASSES_A_ROLE = {"scheduler:CreateSchedule", "scheduler:UpdateSchedule"}
# How the ARNs of a template's !Sub resources look once deployed (any one account will do).
DEPLOYED = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}
STACK_NAME = "envctl"
# Roles that may assume the spokes' role: the machines (Task Credentials) and the functions
# that read resources (infra/spoke.yaml trusts exactly these, by name).
SPOKE_ROLE_USERS = {
    "StateMachineRole": "state-machine",
    "SlackFunctionRole": "slack",
    "WebhookFunctionRole": "webhook",
    "SyncFunctionRole": "sync",
    "RestopFunctionRole": "restop",
}
READER_ROLES = (
    "SlackFunctionRole",
    "WebhookFunctionRole",
    "SyncFunctionRole",
    "RestopFunctionRole",
)
SAMPLE_SPOKES = ["210987654321", "109876543210"]
SAMPLE_REGIONS = ["us-east-1", "ap-southeast-2"]
# Services of the run's own books: their ARNs may name any region, limited by condition.
REGIONAL_BOOKKEEPING = ("states", "scheduler", "dynamodb")
# Roles that keep those books in every managed region. (The notifier only hears of this
# region's executions, so it reads this region's table.)
REGIONAL_ROLES = {*SPOKE_ROLE_USERS, "SchedulerRole"}


@pytest.fixture(scope="module")
def template() -> Template:
    return load(TEMPLATE_PATH)


# ---------------------------------------------------------------- walking the template


@dataclass(frozen=True)
class Located:
    owner: str  # logical id of the role / policy / function
    statement: dict[str, Any]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _branches(statement: Any, known: dict[str, bool] | None = None) -> Iterator[dict[str, Any]]:
    """A statement, or both branches of an Fn::If around one (AWS::NoValue dropped); only
    the branch taken for a condition whose value is ``known``."""
    if isinstance(statement, dict) and "Fn::If" in statement:
        name, *branches = statement["Fn::If"]
        if known is not None and name in known:
            branches = [branches[0] if known[name] else branches[1]]
        for branch in branches:
            yield from _branches(branch, known)
    elif isinstance(statement, dict) and statement != {"Ref": "AWS::NoValue"}:
        yield statement


def _document_statements(
    owner: str, document: Any, known: dict[str, bool] | None = None
) -> Iterator[Located]:
    if not isinstance(document, dict):
        return
    for statement in as_list(document.get("Statement")):
        for branch in _branches(statement, known):
            yield Located(owner, branch)


def resources_of(template: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in template["Resources"].items():
        if resource["Type"] in types:
            yield name, resource.get("Properties", {})


def iam_statements(template: Template, known: dict[str, bool] | None = None) -> list[Located]:
    """Every identity-policy statement: role inline policies, IAM policies, SAM Policies
    (of both branches of a condition, unless its value is ``known``)."""
    found: list[Located] = []
    for name, props in resources_of(template, "AWS::IAM::Role"):
        for policy in as_list(props.get("Policies")):
            found.extend(_document_statements(name, policy.get("PolicyDocument"), known))
    for name, props in resources_of(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        found.extend(_document_statements(name, props.get("PolicyDocument")))
    for name, props in resources_of(template, "AWS::Serverless::Function"):
        for policy in as_list(props.get("Policies")):
            found.extend(_document_statements(name, policy))
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    return [str(action) for action in as_list(statement.get("Action"))]


def resources(statement: dict[str, Any]) -> list[Any]:
    return as_list(statement.get("Resource"))


def is_star(resource: Any) -> bool:
    return resource == "*"


def role_of_function(props: dict[str, Any]) -> str | None:
    role = props.get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        return str(role["Fn::GetAtt"][0])
    return None


def function_props(template: Template, name: str) -> dict[str, Any]:
    return dict(template["Resources"][name]["Properties"])


def effective(template: Template, props: dict[str, Any], key: str) -> Any:
    return props.get(key, template.get("Globals", {}).get("Function", {}).get(key))


# ---------------------------------------------------------------- IAM rules


def check_no_wildcard_actions(template: Template) -> list[str]:
    problems = []
    for located in iam_statements(template):
        if "NotAction" in located.statement or "NotResource" in located.statement:
            problems.append(f"{located.owner}: NotAction/NotResource grants by exclusion")
        for action in actions(located.statement):
            if action == "*" or action.endswith(":*") or "*" in action:
                problems.append(f"{located.owner}: wildcard action {action}")
    return problems


def check_star_resource_only_reads(template: Template) -> list[str]:
    problems = []
    for located in iam_statements(template):
        if not any(is_star(r) for r in resources(located.statement)):
            continue
        for action in actions(located.statement):
            verb = action.partition(":")[2]
            if not verb.startswith(READ_PREFIXES):
                problems.append(f"{located.owner}: {action} on Resource '*'")
    return problems


def check_managed_mutations_scoped(template: Template) -> list[str]:
    problems = []
    seen: set[str] = set()
    for located in iam_statements(template):
        statement = located.statement
        for action in set(actions(statement)) & MANAGED_MUTATIONS:
            seen.add(action)
            star = any(is_star(r) for r in resources(statement)) or not resources(statement)
            tagged = (statement.get("Condition") or {}).get("StringEquals", {}).get(
                MANAGED_TAG_KEY
            ) == "true"
            if star and not tagged:
                problems.append(f"{located.owner}: {action} on '*' without the envctl:managed tag")
            if action not in SCOPED_BY_ARN and not tagged:
                problems.append(f"{located.owner}: {action} lacks {MANAGED_TAG_KEY} = true")
    # The state machines must be able to do their job at all.
    for action in sorted(MANAGED_MUTATIONS - seen):
        problems.append(f"no statement allows {action}")
    return problems


def check_status_reads_granted(template: Template) -> list[str]:
    """Every role that reads live status may make every kind's status read."""
    problems = []
    for owner in STATUS_READERS:
        granted = {
            action
            for located in iam_statements(template)
            if located.owner == owner
            for action in actions(located.statement)
        }
        problems.extend(
            f"{owner}: {action} not granted" for action in sorted(STATUS_READS - granted)
        )
    return problems


def check_pass_role(template: Template) -> list[str]:
    problems = []
    for located in iam_statements(template):
        statement = located.statement
        if "iam:PassRole" not in actions(statement):
            continue
        if actions(statement) != ["iam:PassRole"]:
            problems.append(f"{located.owner}: iam:PassRole shares a statement with other actions")
        names = []
        for resource in resources(statement):
            getatt = resource.get("Fn::GetAtt") if isinstance(resource, dict) else None
            if not getatt or getatt[0] not in PASSABLE_ROLES or getatt[1] != "Arn":
                problems.append(f"{located.owner}: iam:PassRole on {resource!r}")
            else:
                names.append(getatt[0])
        if len(names) != 1:
            problems.append(f"{located.owner}: iam:PassRole must name exactly one of the roles")
            continue
        services = as_list(
            (statement.get("Condition") or {}).get("StringEquals", {}).get("iam:PassedToService")
        )
        if services != [PASSABLE_ROLES[names[0]]]:
            problems.append(
                f"{located.owner}: iam:PassRole of {names[0]} needs iam:PassedToService = "
                f"{PASSABLE_ROLES[names[0]]}, has {services}"
            )
    return problems


def check_slack_invokes_only_itself(template: Template) -> list[str]:
    problems = []
    slack = function_props(template, "SlackFunction")
    name = (
        slack.get("FunctionName", {}).get("Fn::Sub")
        if isinstance(slack.get("FunctionName"), dict)
        else None
    )
    if not name:
        return ["SlackFunction needs a FunctionName built with !Sub to name itself"]
    own = f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{name}"
    allowed = {own, own + ":*"}
    slack_role = role_of_function(slack)
    granted = False
    for located in iam_statements(template):
        if not any(a.startswith("lambda:") for a in actions(located.statement)):
            continue
        if located.owner != slack_role:
            problems.append(f"{located.owner}: only the Slack function may invoke functions")
            continue
        for resource in resources(located.statement):
            sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
            if sub not in allowed:
                problems.append(f"{located.owner}: lambda:InvokeFunction on {resource!r}")
            else:
                granted = True
    if not granted:
        problems.append("the Slack function cannot invoke itself (lazy listeners)")
    return problems


def check_dynamodb_scoped_to_table(template: Template) -> list[str]:
    problems = []
    for located in iam_statements(template):
        if not any(a.startswith("dynamodb:") for a in actions(located.statement)):
            continue
        for resource in resources(located.statement):
            if resource not in (TABLE_ARN, REGIONAL_TABLE_ARN):
                problems.append(f"{located.owner}: DynamoDB access to {resource!r}")
    return problems


def check_no_unreviewed_policies(template: Template) -> list[str]:
    """Managed policies and SAM policy templates would escape every rule above."""
    problems = []
    for name, props in resources_of(template, "AWS::IAM::Role"):
        if props.get("ManagedPolicyArns"):
            problems.append(f"{name}: managed policies {props['ManagedPolicyArns']}")
    for name, props in resources_of(template, "AWS::Serverless::Function"):
        for policy in as_list(props.get("Policies")):
            if not (isinstance(policy, dict) and "Statement" in policy):
                problems.append(f"{name}: policy {policy!r} is not an inline statement list")
        if "Role" not in props and not props.get("Policies"):
            problems.append(f"{name}: no explicit role (SAM would attach a managed policy)")
    return problems


# ---------------------------------------------------------------- what the machines call

# One item of every registered kind, from the kind's own example.
ALL_KINDS = {
    "compositions": {
        "every-kind": {
            "start_resources_at": "on-demand",
            "stop_resources_at": "on-demand",
            "resources": [
                {"type": kind.type_name, "params": kind.example.model_dump(exclude_none=True)}
                for kind in REGISTRY.values()
            ],
        }
    }
}
TASK_ARN = re.compile(r"^arn:aws:states:::(?:aws-sdk:)?([a-z0-9-]+):([A-Za-z0-9]+)$")


@cache
def generated_definitions() -> tuple[dict[str, Any], ...]:
    """The start, stop and window machines of a composition with every resource kind."""
    text = json.dumps(ALL_KINDS)  # JSON is YAML
    composition = parse_config(text, path=Path("all.yaml")).compositions["every-kind"]
    definitions = [build_state_machine(composition, action) for action in Action]
    definitions.append(
        build_windows_machine(composition, list(composition.items()), table="envctl")
    )
    return tuple(definitions)


def task_states_of(scope: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Task state of a machine, in Parallel branches and Map iterators too."""
    for state in scope["States"].values():
        if state["Type"] == "Task":
            yield state
        for branch in state.get("Branches", []):
            yield from task_states_of(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from task_states_of(state[key])


def iam_action_of(resource: str) -> str:
    """``...:aws-sdk:efs:updateFileSystem`` -> ``elasticfilesystem:UpdateFileSystem``."""
    match = TASK_ARN.match(resource)
    assert match, f"no IAM action known for the integration {resource}"
    service, action = match.groups()
    return f"{SDK_SERVICE_TO_IAM.get(service, service)}:{action[0].upper()}{action[1:]}"


def iam_actions_of_definitions(definitions: tuple[dict[str, Any], ...]) -> set[str]:
    found = set()
    for definition in definitions:
        for state in task_states_of(definition):
            action = iam_action_of(state["Resource"])
            found.add(action)
            if action in PASSES_A_ROLE:
                found.add("iam:PassRole")
    return found


def deployed_patterns(resource: Any) -> list[str]:
    """A statement's resource as glob patterns of deployed ARNs (``!Sub`` only)."""
    sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    if not isinstance(sub, str):
        return ["*"] if resource == "*" else []
    for variable, value in DEPLOYED.items():
        sub = sub.replace("${" + variable + "}", value)
    return [sub]


def granted_patterns(template: Template, owner: str, action: str) -> list[str]:
    return [
        pattern
        for located in iam_statements(template)
        if located.owner == owner and action in actions(located.statement)
        for resource in resources(located.statement)
        for pattern in deployed_patterns(resource)
    ]


def _deployed_aws() -> Any:
    return SimpleNamespace(
        partition=DEPLOYED["AWS::Partition"],
        region=DEPLOYED["AWS::Region"],
        account_id=DEPLOYED["AWS::AccountId"],
    )


def run_bookkeeping_arns() -> dict[str, tuple[set[str], set[str]]]:
    """Per action: ARNs the machines act on (from the definitions) and ARNs they must not."""
    region, account = DEPLOYED["AWS::Region"], DEPLOYED["AWS::AccountId"]
    schedules = f"arn:aws:scheduler:{region}:{account}:schedule/"
    wanted: dict[str, tuple[set[str], set[str]]] = {}
    for definition in generated_definitions():
        for state in task_states_of(definition):
            action = iam_action_of(state["Resource"])
            if action.startswith("scheduler:"):
                parameters = state["Parameters"]
                # Controls: another schedule of an envctl group, an auto-stop of someone else's.
                outside = {schedules + "envctl-every-kind/start", schedules + "default/auto-stop"}
                inside, _ = wanted.setdefault(action, (set(), outside))
                inside.add(schedules + f"{parameters['GroupName']}/{parameters['Name']}")
    # The holder of a lease is an execution of one of the composition's machines.
    holder = execution_arn(_deployed_aws(), "every-kind", Action.START, "slack-ann-1")
    other = f"arn:aws:states:{region}:{account}:execution:other-start:slack-ann-1"
    wanted["states:DescribeExecution"] = ({holder}, {other})
    return wanted


def check_state_machine_run_bookkeeping_scoped(template: Template) -> list[str]:
    """The state machine role reaches only envctl's executions and auto-stop schedules,
    and passes only the scheduler role, only to EventBridge Scheduler."""
    problems = []
    for action, (inside, outside) in run_bookkeeping_arns().items():
        patterns = granted_patterns(template, "StateMachineRole", action)
        for arn in sorted(inside):
            if not any(fnmatchcase(arn, pattern) for pattern in patterns):
                problems.append(f"StateMachineRole: {action} denied on {arn}")
        for arn in sorted(outside):
            if any(fnmatchcase(arn, pattern) for pattern in patterns):
                problems.append(f"StateMachineRole: {action} allowed on {arn}")
    passes = [
        located.statement
        for located in iam_statements(template)
        if located.owner == "StateMachineRole" and "iam:PassRole" in actions(located.statement)
    ]
    if [resources(statement) for statement in passes] != [
        [{"Fn::GetAtt": ["SchedulerRole", "Arn"]}]
    ]:
        problems.append("StateMachineRole: iam:PassRole must name the scheduler role alone")
    return problems


IAM_CHECKS: list[Check] = [
    check_no_wildcard_actions,
    check_star_resource_only_reads,
    check_managed_mutations_scoped,
    check_status_reads_granted,
    check_pass_role,
    check_slack_invokes_only_itself,
    check_dynamodb_scoped_to_table,
    check_no_unreviewed_policies,
    check_state_machine_run_bookkeeping_scoped,
]


# ---------------------------------------------------------------- structural rules


def check_table(template: Template) -> list[str]:
    table = template["Resources"]["EnvctlTable"]
    props = table["Properties"]
    problems = []
    if table["Type"] != "AWS::DynamoDB::Table":
        problems.append("EnvctlTable is not a DynamoDB table")
    if props.get("BillingMode") != "PAY_PER_REQUEST":
        problems.append("table is not PAY_PER_REQUEST")
    keys = {k["AttributeName"]: k["KeyType"] for k in props.get("KeySchema", [])}
    types = {a["AttributeName"]: a["AttributeType"] for a in props.get("AttributeDefinitions", [])}
    if keys != {"pk": "HASH", "sk": "RANGE"} or types != {"pk": "S", "sk": "S"}:
        problems.append(f"table keys are {keys} / {types}, expected string pk/sk")
    if props.get("TimeToLiveSpecification") != {"AttributeName": "expires_at", "Enabled": True}:
        problems.append("table TTL is not enabled on expires_at")
    pitr = props.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled") is not True:
        problems.append("point-in-time recovery is off")
    if props.get("SSESpecification", {}).get("SSEEnabled") is not True:
        problems.append("SSE is not enabled")
    return problems


def _rule_patterns(template: Template, function: str) -> list[dict[str, Any]]:
    events = function_props(template, function).get("Events", {})
    return [
        event["Properties"]["Pattern"]
        for event in events.values()
        if event.get("Type") == "EventBridgeRule"
    ]


def check_notifier_rule(template: Template) -> list[str]:
    patterns = _rule_patterns(template, "NotifierFunction")
    heads_up = {"source": ["envctl"], "detail-type": ["envctl heads-up"]}
    if len(patterns) != 2 or patterns[1] != heads_up:
        return [f"expected the run-end rule and {heads_up}, found {patterns}"]
    pattern, problems = patterns[0], []
    if pattern.get("source") != ["aws.states"]:
        problems.append(f"notifier source {pattern.get('source')}")
    if pattern.get("detail-type") != ["Step Functions Execution Status Change"]:
        problems.append(f"notifier detail-type {pattern.get('detail-type')}")
    detail = pattern.get("detail", {})
    if set(detail.get("status", [])) != {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}:
        problems.append(f"notifier statuses {detail.get('status')}")
    # Any region (runs of the managed regions are forwarded here), this account, envctl-*.
    matchers = [m.get("wildcard") for m in detail.get("stateMachineArn", []) if isinstance(m, dict)]
    if matchers != [{"Fn::Sub": ENVCTL_MACHINES_IN_ANY_REGION + "*"}]:
        problems.append(f"notifier does not filter on envctl- machines of this account: {matchers}")
    return problems


def check_restop_rule(template: Template) -> list[str]:
    patterns = _rule_patterns(template, "RestopFunction")
    if len(patterns) != 1:
        return [f"expected one restop rule, found {len(patterns)}"]
    pattern, problems = patterns[0], []
    if pattern.get("source") != ["aws.rds"]:
        problems.append(f"restop source {pattern.get('source')}")
    if set(pattern.get("detail-type", [])) != {"RDS DB Instance Event", "RDS DB Cluster Event"}:
        problems.append(f"restop detail-type {pattern.get('detail-type')}")
    event_ids = set(pattern.get("detail", {}).get("EventID", []))
    if event_ids != {"RDS-EVENT-0154", "RDS-EVENT-0153"}:
        problems.append(f"restop event ids {sorted(event_ids)}")
    return problems


def check_functions(template: Template) -> list[str]:
    problems = []
    functions = dict(resources_of(template, "AWS::Serverless::Function"))
    if set(functions) != set(HANDLERS):
        problems.append(f"functions {sorted(functions)}, expected {sorted(HANDLERS)}")
    statements = iam_statements(template)
    for name, props in functions.items():
        if props.get("Handler") != HANDLERS.get(name):
            problems.append(f"{name}: handler {props.get('Handler')}")
        if effective(template, props, "Architectures") != ["arm64"]:
            problems.append(f"{name}: not arm64")
        if effective(template, props, "Runtime") != "python3.12":
            problems.append(f"{name}: not python3.12")
        group = (props.get("LoggingConfig") or {}).get("LogGroup")
        group_id = group.get("Ref") if isinstance(group, dict) else None
        log_group = template["Resources"].get(group_id or "", {})
        if log_group.get("Type") != "AWS::Logs::LogGroup":
            problems.append(f"{name}: no log group of its own")
            continue
        retention = log_group["Properties"].get("RetentionInDays")
        if retention != {"Ref": "LogRetentionDays"}:
            problems.append(f"{name}: log retention {retention}")
        # Its role writes only to its own log group.
        role = role_of_function(props)
        for located in statements:
            if located.owner == role and any(
                a.startswith("logs:") for a in actions(located.statement)
            ):
                wanted = {"Fn::GetAtt": [group_id, "Arn"]}
                if resources(located.statement) != [wanted]:
                    problems.append(f"{name}: logs permissions beyond its log group")
    return problems


def check_globals(template: Template) -> list[str]:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    wanted = {
        "ENVCTL_TABLE": {"Ref": "EnvctlTable"},
        "ENVCTL_CONFIG": {"Ref": "ConfigFile"},
        "ENVCTL_STATE_MACHINE_ROLE_ARN": {"Fn::GetAtt": ["StateMachineRole", "Arn"]},
        "ENVCTL_SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
    }
    problems = [
        f"Globals {k} = {variables.get(k)!r}" for k, v in wanted.items() if variables.get(k) != v
    ]
    for key in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"):
        if key not in variables:
            problems.append(f"Globals lacks {key}")
    return problems


def check_service_roles(template: Template) -> list[str]:
    problems = []
    trust = {
        "StateMachineRole": "states.amazonaws.com",
        "SchedulerRole": "scheduler.amazonaws.com",
    }
    for role, service in trust.items():
        document = template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
        principals = [s.get("Principal", {}).get("Service") for s in document["Statement"]]
        if principals != [service]:
            problems.append(f"{role} is assumed by {principals}, expected {service}")
    scheduler = [s.statement for s in iam_statements(template) if s.owner == "SchedulerRole"]
    # It starts envctl-* machines, and puts heads-up events on the default buses.
    allowed = {
        "states:StartExecution": [{"Fn::Sub": ENVCTL_MACHINES_IN_ANY_REGION + "*"}],
        "events:PutEvents": [
            {"Fn::Sub": "arn:${AWS::Partition}:events:*:${AWS::AccountId}:event-bus/default"}
        ],
    }
    found = set()
    for statement in scheduler:
        [action] = actions(statement) or [""]
        found.add(action)
        if len(actions(statement)) != 1 or resources(statement) != allowed.get(action):
            problems.append(
                f"SchedulerRole may do more than start envctl-* machines and put heads-ups "
                f"on default buses: {statement}"
            )
    if found != set(allowed):
        problems.append(f"SchedulerRole may {sorted(found)}, expected {sorted(allowed)}")
    return problems


def check_apis(template: Template) -> list[str]:
    problems = []
    api = template["Resources"]["WebhookApi"]["Properties"]
    auth = api.get("Auth", {})
    if auth.get("ApiKeyRequired") is not True:
        problems.append("webhook API does not require an API key")
    if auth.get("UsagePlan", {}).get("CreateUsagePlan") != "PER_API":
        problems.append("webhook API has no PER_API usage plan")
    if api.get("EndpointConfiguration", {}).get("Type") != {"Ref": "WebhookEndpointType"}:
        problems.append("webhook endpoint type does not come from the parameter")
    condition = template["Conditions"]["HasWebhookIpAllowlist"]
    if condition != {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "WebhookIpAllowlist"}]}, ""]}]
    }:
        problems.append(f"HasWebhookIpAllowlist is {condition}")
    denies = [
        s["Fn::If"]
        for s in auth.get("ResourcePolicy", {}).get("CustomStatements", [])
        if isinstance(s, dict) and "Fn::If" in s
    ]
    if not denies:
        problems.append("no conditional source-IP restriction in the resource policy")
    for name, deny, otherwise in denies:
        uses_allowlist = "HasWebhookIpAllowlist" in json.dumps(template["Conditions"][name])
        ips = deny.get("Condition", {}).get("NotIpAddress", {})
        if (
            not uses_allowlist
            or deny.get("Effect") != "Deny"
            or list(ips.values()) != [{"Ref": "WebhookIpAllowlist"}]
            or otherwise != {"Ref": "AWS::NoValue"}
        ):
            problems.append(f"resource policy statement under {name} is not an allowlist deny")
    webhook_events = function_props(template, "WebhookFunction")["Events"].values()
    if [
        (e["Type"], e["Properties"]["Path"], e["Properties"]["Method"]) for e in webhook_events
    ] != [("Api", "/webhooks/{proxy+}", "ANY")]:
        problems.append("webhook route is not ANY /webhooks/{proxy+}")
    slack_events = function_props(template, "SlackFunction")["Events"].values()
    if [(e["Type"], e["Properties"]["Path"], e["Properties"]["Method"]) for e in slack_events] != [
        ("HttpApi", "/slack/events", "POST")
    ]:
        problems.append("Slack route is not POST /slack/events")
    return problems


def check_sync_and_outputs(template: Template) -> list[str]:
    problems = []
    sync = template["Resources"].get("EnvctlSync", {})
    props = sync.get("Properties", {})
    if sync.get("Type") != "Custom::EnvctlSync":
        problems.append("no Custom::EnvctlSync resource")
    if props.get("ServiceToken") not in (
        {"Ref": "SyncFunction.Alias"},
        {"Fn::GetAtt": ["SyncFunction", "Arn"]},
    ):
        problems.append(f"sync service token {props.get('ServiceToken')}")
    if props.get("Version") != {"Ref": "SyncFunction.Version"}:
        problems.append("sync resource does not change with every code version")
    missing = {"SlackEventsUrl", "WebhookApiUrl", "WebhookApiKeyId", "TableName"} - set(
        template.get("Outputs", {})
    )
    if missing:
        problems.append(f"missing outputs {sorted(missing)}")
    return problems


# ---------------------------------------------------------------- evaluating a template

Parameters = dict[str, str]


@dataclass(frozen=True)
class Stack:
    """A template deployed with these parameter values (the others: their defaults)."""

    template: Template
    parameters: Parameters
    pseudo: dict[str, str]

    def parameter(self, name: str) -> Any:
        spec = self.template.get("Parameters", {})[name]
        value = self.parameters.get(name, spec.get("Default"))
        if value is None:
            raise KeyError(f"no value for parameter {name}")
        if spec["Type"] == "CommaDelimitedList":
            return [item.strip() for item in str(value).split(",")]
        return str(value)

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        resource = self.template["Resources"][name]
        # A named role's Ref is its name; anything else: a stand-in for its physical id.
        if "RoleName" in resource.get("Properties", {}):
            return self.evaluate(resource["Properties"]["RoleName"])
        return f"{self.pseudo['AWS::StackName']}-{name}"

    def get_att(self, name: str, attribute: str) -> str:
        kind = self.template["Resources"][name]["Type"]
        region, account = self.pseudo["AWS::Region"], self.pseudo["AWS::AccountId"]
        if attribute == "Arn" and kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{region}:{account}:table/{self.ref(name)}"
        if attribute == "Arn" and kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{account}:role/{self.ref(name)}"
        return f"{name}.{attribute}"

    def condition(self, name: str) -> bool:
        return bool(self.evaluate(self.template["Conditions"][name]))

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.evaluate(variables[name]))
            if "." in name:
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", value, text)

    def evaluate(self, value: Any) -> Any:
        """Intrinsic functions resolved (Fn::If branches dropped to AWS::NoValue vanish)."""
        if isinstance(value, list):
            items = [self.evaluate(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key in ("Ref", "Condition", "Fn::If", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
                return self._logical(key, arg)
            if key in ("Fn::Join", "Fn::Split", "Fn::Select", "Fn::Sub", "Fn::GetAtt"):
                return self._text(key, arg)
        evaluated = {k: self.evaluate(v) for k, v in value.items()}
        return {k: v for k, v in evaluated.items() if v is not NO_VALUE}

    def _logical(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            return NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::If":
            name, yes, no = arg
            return self.evaluate(yes if self.condition(name) else no)
        if key == "Fn::Equals":
            left, right = (self.evaluate(a) for a in arg)
            return left == right
        if key == "Fn::Not":
            return not self.evaluate(arg[0])
        if key == "Fn::And":
            return all(self.evaluate(a) for a in arg)
        return any(self.evaluate(a) for a in arg)  # Fn::Or

    def _text(self, key: str, arg: Any) -> Any:
        if key == "Fn::Join":
            delimiter, items = arg
            assert isinstance(delimiter, str), "Fn::Join takes a literal delimiter"
            return delimiter.join(str(i) for i in self.evaluate(items))
        if key == "Fn::Split":
            delimiter, text = arg
            return str(self.evaluate(text)).split(delimiter)
        if key == "Fn::Select":
            index, items = arg
            return self.evaluate(items)[int(self.evaluate(index))]
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            assert isinstance(text, str), "Fn::Sub takes a literal string"
            return self._sub(text, variables)
        return self.get_att(*arg)  # Fn::GetAtt

    def active(self, name: str) -> bool:
        condition = self.template["Resources"][name].get("Condition")
        return condition is None or self.condition(condition)


NO_VALUE = object()


def deploy(template: Template, **parameters: str | list[str]) -> Stack:
    values = {k: ",".join(v) if isinstance(v, list) else v for k, v in parameters.items()}
    stack_id = f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{STACK_NAME}/1"
    pseudo = {**DEPLOYED, "AWS::StackName": STACK_NAME, "AWS::StackId": stack_id}
    return Stack(template, values, {**pseudo, "AWS::URLSuffix": "amazonaws.com"})


def role_policy_statements(stack: Stack, role: str) -> list[dict[str, Any]]:
    """The statements of a role's inline policies as deployed (none if not created)."""
    if not stack.active(role):
        return []
    props = stack.template["Resources"][role]["Properties"]
    return [
        statement
        for policy in as_list(props.get("Policies"))
        for statement in as_list(stack.evaluate(policy["PolicyDocument"]).get("Statement"))
    ]


def _arn_account(arn: str) -> str:
    return arn.split(":")[4]


def _arn_region(arn: str) -> str:
    return arn.split(":")[3]


def allows(statement: dict[str, Any], action: str, arn: str, region: str | None = None) -> bool:
    """A small IAM evaluation of one deployed Allow statement: the action, the resource
    (globs) and the condition keys envctl uses; any other condition key fails the test."""
    if statement.get("Effect") != "Allow" or action not in actions(statement):
        return False
    if not any(fnmatchcase(arn, str(pattern)) for pattern in resources(statement)):
        return False
    context = {
        "aws:ResourceAccount": _arn_account(arn),
        "aws:RequestedRegion": region or _arn_region(arn),
    }
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            assert operator == "StringEquals" and key in context, f"unknown {operator} {key}"
            if context[key] not in as_list(wanted):
                return False
    return True


def assume_role_statements(stack: Stack, role: str) -> list[dict[str, Any]]:
    return [s for s in role_policy_statements(stack, role) if "sts:AssumeRole" in actions(s)]


# ---------------------------------------------------------------- hub and spokes


def check_spoke_roles_assumed_exactly(template: Template) -> list[str]:
    """With spokes, the machines and the reading functions may assume exactly the spoke
    role of each listed account; no other role may; with none, no statement at all."""
    problems = []
    roles = [name for name, _ in resources_of(template, "AWS::IAM::Role")]
    none = deploy(template)
    for role in roles:
        if assume_role_statements(none, role):
            problems.append(f"{role}: sts:AssumeRole without any spoke account")
    spokes = deploy(template, SpokeAccountIds=SAMPLE_SPOKES)
    hub = DEPLOYED["AWS::AccountId"]
    wanted = {f"arn:aws:iam::{account}:role/envctl-spoke" for account in SAMPLE_SPOKES}
    outside = {
        "arn:aws:iam::111122223333:role/envctl-spoke",  # not a listed spoke
        f"arn:aws:iam::{hub}:role/envctl-spoke",  # the hub itself
        f"arn:aws:iam::{SAMPLE_SPOKES[0]}:role/OrganizationAccountAccessRole",
        f"arn:aws:iam::{SAMPLE_SPOKES[0]}:role/envctl-spoke-admin",
    }
    for role in roles:
        statements = assume_role_statements(spokes, role)
        if role not in SPOKE_ROLE_USERS:
            if statements:
                problems.append(f"{role}: may assume roles")
            continue
        for statement in statements:
            if actions(statement) != ["sts:AssumeRole"]:
                problems.append(f"{role}: sts:AssumeRole shares a statement: {actions(statement)}")
        for arn in sorted(wanted):
            if not any(allows(s, "sts:AssumeRole", arn) for s in statements):
                problems.append(f"{role}: cannot assume {arn}")
        for arn in sorted(outside):
            if any(allows(s, "sts:AssumeRole", arn) for s in statements):
                problems.append(f"{role}: may assume {arn}")
    return problems


def check_bookkeeping_in_managed_regions(template: Template) -> list[str]:
    """States, schedules and the table: in this stack's region and the ManagedRegions,
    nowhere else (region-wildcard ARNs must carry the aws:RequestedRegion condition)."""
    problems = []
    cases = [
        (deploy(template), [DEPLOYED["AWS::Region"]]),
        (
            deploy(template, ManagedRegions=SAMPLE_REGIONS),
            [DEPLOYED["AWS::Region"], *SAMPLE_REGIONS],
        ),
    ]
    table = f"{STACK_NAME}-EnvctlTable"
    samples = {
        "dynamodb:Query": f"table/{table}",
        "states:DescribeExecution": "execution:envctl-every-kind-start:run-1",
        "states:StartExecution": "stateMachine:envctl-every-kind-start",
        "scheduler:DeleteSchedule": "schedule/envctl-every-kind/auto-stop",
    }
    for stack, regions in cases:
        for role, _ in resources_of(template, "AWS::IAM::Role"):
            for statement in role_policy_statements(stack, role):
                for resource in resources(statement):
                    parts = str(resource).split(":")
                    if len(parts) < 6 or parts[2] not in REGIONAL_BOOKKEEPING:
                        continue
                    if parts[3] != "*":
                        continue
                    granted = (statement.get("Condition") or {}).get("StringEquals", {})
                    if sorted(as_list(granted.get("aws:RequestedRegion"))) != sorted(regions):
                        problems.append(
                            f"{role}: {resource} in regions "
                            f"{granted.get('aws:RequestedRegion')}, expected {regions}"
                        )
                for action, suffix in samples.items():
                    if role not in REGIONAL_ROLES or action not in actions(statement):
                        continue
                    service = action.partition(":")[0]
                    for region in (*regions, "sa-east-1"):
                        arn = f"arn:aws:{service}:{region}:{DEPLOYED['AWS::AccountId']}:{suffix}"
                        if allows(statement, action, arn) != (region in regions):
                            problems.append(f"{role}: {action} on {arn} with regions {regions}")
    return problems


def check_spoke_events_accepted(template: Template) -> list[str]:
    """The default bus accepts the spokes' forwarded RDS events, only with spokes; the
    restop rule matches events of any account and region (forwarded ones keep theirs)."""
    problems = []
    policies = [name for name, _ in resources_of(template, "AWS::Events::EventBusPolicy")]
    if len(policies) != 1:
        return [f"expected one event bus policy, found {policies}"]
    (name,) = policies
    if deploy(template).active(name) or deploy(template, SpokeAccountIds="").active(name):
        problems.append(f"{name} exists without spokes")
    stack = deploy(template, SpokeAccountIds=SAMPLE_SPOKES)
    if not stack.active(name):
        return [*problems, f"{name} missing with spokes"]
    props = stack.evaluate(template["Resources"][name]["Properties"])
    statement = props.get("Statement", {})
    bus = f"arn:aws:events:{DEPLOYED['AWS::Region']}:{DEPLOYED['AWS::AccountId']}:event-bus/default"
    if props.get("EventBusName") != "default":
        problems.append(f"{name} is on the bus {props.get('EventBusName')}")
    if statement.get("Principal") != {"AWS": SAMPLE_SPOKES}:
        problems.append(f"{name} principals {statement.get('Principal')}")
    if statement.get("Effect") != "Allow" or actions(statement) != ["events:PutEvents"]:
        problems.append(f"{name} allows {actions(statement)}")
    if resources(statement) != [bus]:
        problems.append(f"{name} resources {resources(statement)}")
    if statement.get("Condition") != {"StringEquals": {"events:source": "aws.rds"}}:
        problems.append(f"{name} accepts any source: {statement.get('Condition')}")
    for pattern in _rule_patterns(template, "RestopFunction"):
        if {"account", "region"} & set(pattern):
            problems.append("the restop rule would not match events forwarded by spokes")
    return problems


def check_spoke_settings(template: Template) -> list[str]:
    """The names a spoke trusts are fixed (and output), the functions know the spoke role
    and the sync function the managed regions."""
    problems = []
    stack = deploy(template)
    for role, suffix in SPOKE_ROLE_USERS.items():
        name = template["Resources"][role]["Properties"].get("RoleName")
        if name != {"Fn::Sub": "${AWS::StackName}-" + suffix}:
            problems.append(f"{role}: RoleName {name}, expected <stack name>-{suffix}")
    outputs = template.get("Outputs", {})
    output = {
        key: stack.evaluate(outputs[key]["Value"])
        for key in ("StateMachineRoleName", "ReaderRoleNames")
        if key in outputs
    }
    if output.get("StateMachineRoleName") != f"{STACK_NAME}-state-machine":
        problems.append(f"output StateMachineRoleName {output.get('StateMachineRoleName')}")
    readers = [f"{STACK_NAME}-{SPOKE_ROLE_USERS[role]}" for role in READER_ROLES]
    if output.get("ReaderRoleNames") != ",".join(readers):
        problems.append(f"output ReaderRoleNames {output.get('ReaderRoleNames')}")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    if variables.get("ENVCTL_SPOKE_ROLE") != {"Ref": "SpokeRoleName"}:
        problems.append(f"Globals ENVCTL_SPOKE_ROLE = {variables.get('ENVCTL_SPOKE_ROLE')}")
    sync = function_props(template, "SyncFunction").get("Environment", {}).get("Variables", {})
    if sync.get("ENVCTL_REGIONS") != {"Fn::Join": [",", {"Ref": "ManagedRegions"}]}:
        problems.append(f"SyncFunction ENVCTL_REGIONS = {sync.get('ENVCTL_REGIONS')}")
    if deploy(template, ManagedRegions=SAMPLE_REGIONS).evaluate(
        sync.get("ENVCTL_REGIONS")
    ) != ",".join(SAMPLE_REGIONS):
        problems.append("ENVCTL_REGIONS does not list the ManagedRegions")
    return problems


HUB_SPOKE_CHECKS: list[Check] = [
    check_spoke_roles_assumed_exactly,
    check_bookkeeping_in_managed_regions,
    check_spoke_events_accepted,
    check_spoke_settings,
]


STRUCTURE_CHECKS: list[Check] = [
    check_table,
    check_notifier_rule,
    check_restop_rule,
    check_functions,
    check_globals,
    check_service_roles,
    check_apis,
    check_sync_and_outputs,
]


@pytest.mark.parametrize(
    "check", IAM_CHECKS + STRUCTURE_CHECKS + HUB_SPOKE_CHECKS, ids=lambda c: c.__name__
)
def test_template_passes(template: Template, check: Check) -> None:
    assert check(template) == []


# ---------------------------------------------------------------- code ↔ IAM


def test_state_machine_role_allows_exactly_what_the_generated_machines_call(
    template: Template,
) -> None:
    called = iam_actions_of_definitions(generated_definitions())
    # Without spokes: sts:AssumeRole (Task Credentials) is granted only with them, and
    # check_spoke_roles_assumed_exactly holds that.
    granted = {
        action
        for located in iam_statements(template, known={"HasSpokes": False})
        if located.owner == "StateMachineRole"
        for action in actions(located.statement)
    }
    assert called - granted == set(), "the state machines would be denied these"
    assert granted - called == set(), "the role grants actions no state machine calls"


def test_calls_are_read_from_every_state_of_the_generated_machines() -> None:
    called = iam_actions_of_definitions(generated_definitions())

    # Resource steps (inside the body's branch), the window machine's query, and the
    # lease, audit and auto-stop states around the body.
    assert {
        *MANAGED_MUTATIONS,
        *STATUS_READS,
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "states:DescribeExecution",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "iam:PassRole",
    } <= called
    assert set(run_bookkeeping_arns()) == {
        "states:DescribeExecution",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
    }


# Functions that start runs (runtime.executions.launch): the role check of
# runtime.prerequisites (the scheduler role only for an auto-stop, which restop never
# asks for), the lease of runtime.lease (reserve: UpdateItem, holder: GetItem, cancel:
# DeleteItem) and whether the lease's holder still runs.
LAUNCHERS = {
    "SlackFunction": ["StateMachineRole", "SchedulerRole"],
    "WebhookFunction": ["StateMachineRole", "SchedulerRole"],
    "RestopFunction": ["StateMachineRole"],
}


@pytest.mark.parametrize("function", sorted(LAUNCHERS))
def test_functions_that_start_runs_may_check_the_roles_and_hold_the_lease(
    template: Template, function: str
) -> None:
    role = role_of_function(function_props(template, function))
    statements = [
        located.statement for located in iam_statements(template) if located.owner == role
    ]

    def granted(action: str) -> list[Any]:
        return [r for s in statements if action in actions(s) for r in resources(s)]

    assert granted("iam:GetRole") == [{"Fn::GetAtt": [name, "Arn"]} for name in LAUNCHERS[function]]
    for action in ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
        assert granted(action) == [REGIONAL_TABLE_ARN], action
    holder = execution_arn(_deployed_aws(), "every-kind", Action.STOP, "restop-1")
    patterns = [p for r in granted("states:DescribeExecution") for p in deployed_patterns(r)]
    assert "*" not in patterns
    assert any(fnmatchcase(holder, pattern) for pattern in patterns)


def test_only_the_sync_function_lists_executions_of_the_machines_it_may_prune(
    template: Template,
) -> None:
    """Pruning holds back a machine whose run is in progress (reconcile.live); a start or
    a status asks the lease instead (runtime.executions.in_progress), so no other role
    needs ListExecutions.
    """
    machine = state_machine_arn(_deployed_aws(), "gone", Action.STOP)
    listers = {
        located.owner
        for located in iam_statements(template)
        if "states:ListExecutions" in actions(located.statement)
    }
    patterns = granted_patterns(template, "SyncFunctionRole", "states:ListExecutions")

    assert listers == {"SyncFunctionRole"}
    assert "*" not in patterns
    assert any(fnmatchcase(machine, pattern) for pattern in patterns)


# ---------------------------------------------------------------- negative controls


def _role_statements(template: Template, role: str) -> list[dict[str, Any]]:
    policy = template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
    return list(policy["Statement"])


def _statement(template: Template, role: str, sid: str) -> dict[str, Any]:
    return next(s for s in _role_statements(template, role) if s.get("Sid") == sid)


def _add_statement(role: str, statement: dict[str, Any]) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        _role_statements(template, role)  # the role exists
        template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"][
            "Statement"
        ].append(statement)

    return mutate


def _drop_tag_condition(template: Template) -> None:
    del _statement(template, "StateMachineRole", "StartStopManagedEc2")["Condition"]


def _star_mutation(template: Template) -> None:
    statement = _statement(template, "StateMachineRole", "MinCapacityOfEcsScalableTargets")
    statement["Resource"] = "*"


def _pass_role_without_service(template: Template) -> None:
    del _statement(template, "SyncFunctionRole", "PassStateMachineRole")["Condition"]


def _pass_role_to_wrong_service(template: Template) -> None:
    statement = _statement(template, "SyncFunctionRole", "PassStateMachineRole")
    statement["Condition"]["StringEquals"]["iam:PassedToService"] = "scheduler.amazonaws.com"


def _invoke_any_function(template: Template) -> None:
    _statement(template, "SlackFunctionRole", "InvokeSelfForLazyListeners")["Resource"] = "*"


def _table_wide_open(template: Template) -> None:
    _statement(template, "NotifierFunctionRole", "ReadMessageRefs")["Resource"] = "*"


def _no_pitr(template: Template) -> None:
    props = template["Resources"]["EnvctlTable"]["Properties"]
    props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False


def _any_state_machine(template: Template) -> None:
    rule = template["Resources"]["NotifierFunction"]["Properties"]["Events"]["ExecutionEnded"]
    del rule["Properties"]["Pattern"]["detail"]["stateMachineArn"]


def _one_event_id(template: Template) -> None:
    rule = template["Resources"]["RestopFunction"]["Properties"]["Events"]["RdsAutoStarted"]
    rule["Properties"]["Pattern"]["detail"]["EventID"] = ["RDS-EVENT-0154"]


def _x86_function(template: Template) -> None:
    template["Resources"]["SyncFunction"]["Properties"]["Architectures"] = ["x86_64"]


def _fixed_retention(template: Template) -> None:
    template["Resources"]["RestopLogGroup"]["Properties"]["RetentionInDays"] = 30


def _managed_policy(template: Template) -> None:
    template["Resources"]["RestopFunctionRole"]["Properties"]["ManagedPolicyArns"] = [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ]


def _no_api_key(template: Template) -> None:
    template["Resources"]["WebhookApi"]["Properties"]["Auth"]["ApiKeyRequired"] = False


def _any_auto_stop_group(template: Template) -> None:
    statement = _statement(template, "StateMachineRole", "ManageAutoStopSchedules")
    statement["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/*/*"
    }


def _describe_any_execution(template: Template) -> None:
    _statement(template, "StateMachineRole", "DescribeLeaseHolders")["Resource"] = "*"


def _no_lease_holders(template: Template) -> None:
    statements = _role_statements(template, "StateMachineRole")
    statements.remove(_statement(template, "StateMachineRole", "DescribeLeaseHolders"))
    template["Resources"]["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ] = statements


def _pass_the_state_machine_role_too(template: Template) -> None:
    statement = _statement(template, "StateMachineRole", "PassSchedulerRoleToAutoStops")
    statement["Resource"] = {"Fn::GetAtt": ["StateMachineRole", "Arn"]}


def _broad_scheduler(template: Template) -> None:
    statement = _statement(template, "SchedulerRole", "StartEnvctlStateMachines")
    statement["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:*"
    }


def _webhooks_cannot_read_a_kind(template: Template) -> None:
    statement = _statement(template, "WebhookFunctionRole", "DescribeManagedResources")
    first_read = next(iter(sorted(STATUS_READS)))
    statement["Action"] = [action for action in statement["Action"] if action != first_read]


def _assume_spoke_roles(template: Template, role: str) -> dict[str, Any]:
    """The conditional AssumeSpokeRoles statement of a role (the Fn::If around it)."""
    return next(
        s
        for s in _role_statements(template, role)
        if "Fn::If" in s and s["Fn::If"][1].get("Sid") == "AssumeSpokeRoles"
    )


def _assume_any_role(template: Template) -> None:
    statement = _assume_spoke_roles(template, "SlackFunctionRole")["Fn::If"][1]
    statement["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/*"}


def _assume_in_any_account(template: Template) -> None:
    del _assume_spoke_roles(template, "StateMachineRole")["Fn::If"][1]["Condition"]


def _assume_without_spokes(template: Template) -> None:
    statements = _role_statements(template, "SyncFunctionRole")
    conditional = _assume_spoke_roles(template, "SyncFunctionRole")
    statements[statements.index(conditional)] = conditional["Fn::If"][1]
    template["Resources"]["SyncFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ] = statements


def _restop_cannot_assume(template: Template) -> None:
    statements = _role_statements(template, "RestopFunctionRole")
    statements.remove(_assume_spoke_roles(template, "RestopFunctionRole"))
    template["Resources"]["RestopFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ] = statements


def _notifier_assumes(template: Template) -> None:
    conditional = _assume_spoke_roles(template, "WebhookFunctionRole")
    _add_statement("NotifierFunctionRole", copy.deepcopy(conditional))(template)


def _table_in_any_region(template: Template) -> None:
    del _statement(template, "StateMachineRole", "TrackState")["Condition"]


def _schedules_start_machines_anywhere(template: Template) -> None:
    del _statement(template, "SchedulerRole", "StartEnvctlStateMachines")["Condition"]


def _fixed_managed_region(template: Template) -> None:
    statement = _statement(template, "SyncFunctionRole", "ManageEnvctlScheduleGroups")
    statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}


def _bus_open_to_all(template: Template) -> None:
    template["Resources"]["SpokeEventsPolicy"]["Properties"]["Statement"]["Principal"] = "*"


def _bus_any_source(template: Template) -> None:
    del template["Resources"]["SpokeEventsPolicy"]["Properties"]["Statement"]["Condition"]


def _bus_policy_without_spokes(template: Template) -> None:
    del template["Resources"]["SpokeEventsPolicy"]["Condition"]


def _restop_rule_this_account_only(template: Template) -> None:
    rule = template["Resources"]["RestopFunction"]["Properties"]["Events"]["RdsAutoStarted"]
    rule["Properties"]["Pattern"]["account"] = [{"Ref": "AWS::AccountId"}]


def _unnamed_reader_role(template: Template) -> None:
    del template["Resources"]["WebhookFunctionRole"]["Properties"]["RoleName"]


def _sync_without_regions(template: Template) -> None:
    del template["Resources"]["SyncFunction"]["Properties"]["Environment"]


NEGATIVE_CONTROLS: list[tuple[str, Check, Callable[[Template], None]]] = [
    (
        "s3:* action",
        check_no_wildcard_actions,
        _add_statement(
            "SyncFunctionRole",
            {"Effect": "Allow", "Action": "s3:*", "Resource": {"Fn::Sub": "arn:x"}},
        ),
    ),
    (
        "bare * action",
        check_no_wildcard_actions,
        _add_statement(
            "WebhookFunctionRole",
            {"Effect": "Allow", "Action": "*", "Resource": {"Fn::Sub": "arn:x"}},
        ),
    ),
    (
        "write on *",
        check_star_resource_only_reads,
        _add_statement(
            "NotifierFunctionRole",
            {"Effect": "Allow", "Action": "ssm:PutParameter", "Resource": "*"},
        ),
    ),
    ("untagged ec2 stop", check_managed_mutations_scoped, _drop_tag_condition),
    ("register target on *", check_managed_mutations_scoped, _star_mutation),
    ("status read missing", check_status_reads_granted, _webhooks_cannot_read_a_kind),
    ("PassRole w/o service", check_pass_role, _pass_role_without_service),
    ("PassRole wrong service", check_pass_role, _pass_role_to_wrong_service),
    (
        "PassRole other role",
        check_pass_role,
        _add_statement(
            "SlackFunctionRole", {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
        ),
    ),
    ("invoke any function", check_slack_invokes_only_itself, _invoke_any_function),
    (
        "webhook invokes",
        check_slack_invokes_only_itself,
        _add_statement(
            "WebhookFunctionRole",
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": {"Fn::GetAtt": ["SlackFunction", "Arn"]},
            },
        ),
    ),
    ("table on *", check_dynamodb_scoped_to_table, _table_wide_open),
    ("managed policy", check_no_unreviewed_policies, _managed_policy),
    ("no PITR", check_table, _no_pitr),
    ("any state machine", check_notifier_rule, _any_state_machine),
    ("one event id", check_restop_rule, _one_event_id),
    ("x86 function", check_functions, _x86_function),
    ("fixed retention", check_functions, _fixed_retention),
    ("no API key", check_apis, _no_api_key),
    ("scheduler any machine", check_service_roles, _broad_scheduler),
    ("auto-stop any group", check_state_machine_run_bookkeeping_scoped, _any_auto_stop_group),
    ("describe any execution", check_state_machine_run_bookkeeping_scoped, _describe_any_execution),
    ("no lease holders", check_state_machine_run_bookkeeping_scoped, _no_lease_holders),
    (
        "machines pass own role",
        check_state_machine_run_bookkeeping_scoped,
        _pass_the_state_machine_role_too,
    ),
    ("assume any role", check_spoke_roles_assumed_exactly, _assume_any_role),
    ("assume in any account", check_spoke_roles_assumed_exactly, _assume_in_any_account),
    ("assume without spokes", check_spoke_roles_assumed_exactly, _assume_without_spokes),
    ("restop cannot assume", check_spoke_roles_assumed_exactly, _restop_cannot_assume),
    ("notifier assumes", check_spoke_roles_assumed_exactly, _notifier_assumes),
    ("table in any region", check_bookkeeping_in_managed_regions, _table_in_any_region),
    (
        "schedules start anywhere",
        check_bookkeeping_in_managed_regions,
        _schedules_start_machines_anywhere,
    ),
    ("one fixed region", check_bookkeeping_in_managed_regions, _fixed_managed_region),
    ("bus open to all", check_spoke_events_accepted, _bus_open_to_all),
    ("bus any source", check_spoke_events_accepted, _bus_any_source),
    ("bus policy w/o spokes", check_spoke_events_accepted, _bus_policy_without_spokes),
    ("restop rule own account", check_spoke_events_accepted, _restop_rule_this_account_only),
    ("unnamed reader role", check_spoke_settings, _unnamed_reader_role),
    ("sync w/o regions", check_spoke_settings, _sync_without_regions),
]


@pytest.mark.parametrize(
    ("check", "mutate"),
    [(check, mutate) for _, check, mutate in NEGATIVE_CONTROLS],
    ids=[name for name, _, _ in NEGATIVE_CONTROLS],
)
def test_rule_fails_on_a_broken_copy(
    template: Template, check: Check, mutate: Callable[[Template], None]
) -> None:
    broken = copy.deepcopy(template)
    mutate(broken)
    assert check(broken) != []


def test_ttl_rule_fails_on_an_edited_template_text() -> None:
    edited = TEMPLATE_TEXT.replace("AttributeName: expires_at", "AttributeName: ttl")
    assert edited != TEMPLATE_TEXT
    assert check_table(loads(edited)) != []


def test_loader_turns_short_tags_into_long_form() -> None:
    text = """
    A: !Ref X
    B: !GetAtt R.Arn
    C: !Sub "arn:${AWS::Partition}:x"
    D: !If [Cond, !Join [",", !Split [",", !Select [0, [a]]]], !Ref AWS::NoValue]
    E: !Not [!Equals [!Condition Other, "true"]]
    """
    assert loads(text) == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["R", "Arn"]},
        "C": {"Fn::Sub": "arn:${AWS::Partition}:x"},
        "D": {
            "Fn::If": [
                "Cond",
                {"Fn::Join": [",", {"Fn::Split": [",", {"Fn::Select": [0, ["a"]]}]}]},
                {"Ref": "AWS::NoValue"},
            ]
        },
        "E": {"Fn::Not": [{"Fn::Equals": [{"Condition": "Other"}, "true"]}]},
    }


def test_the_forwarding_role_may_only_put_events_on_this_region_default_bus(
    template: Template,
) -> None:
    from scheduler_core.reconcile.forwarding import RULE

    role = template["Resources"]["EventForwardingRole"]["Properties"]
    (trusted,) = role["AssumeRolePolicyDocument"]["Statement"]
    granted = [
        (actions(located.statement), resources(located.statement))
        for located in iam_statements(template)
        if located.owner == "EventForwardingRole"
    ]
    sync_env = function_props(template, "SyncFunction")["Environment"]["Variables"]
    rules = granted_patterns(template, "SyncFunctionRole", "events:PutRule")

    assert trusted["Principal"] == {"Service": "events.amazonaws.com"}
    assert granted == [
        (
            ["events:PutEvents"],
            [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}"
                    ":event-bus/default"
                }
            ],
        )
    ]
    assert sync_env["ENVCTL_EVENTS_ROLE_ARN"] == {"Fn::GetAtt": ["EventForwardingRole", "Arn"]}
    assert rules == [f"arn:aws:events:*:123456789012:rule/{RULE}"]
