"""The Custom::EnvctlSync handler against the emulator, answering a local ResponseURL.

CloudFormation's pre-signed ResponseURL is replaced by a small HTTP server on
127.0.0.1 that records every PUT, so each test checks what CloudFormation would
have received, and when.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Condition, Thread
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from bot import sync
from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.settings import Settings

EVENTS = Path(__file__).parents[1] / "events"
WRITE_PREFIXES = ("Create", "Update", "Delete", "Tag")


@dataclass(frozen=True)
class ReceivedResponse:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


class ResponseRecorder:
    """Stands in for CloudFormation's S3 response bucket: records PUTs, answers 200."""

    def __init__(self) -> None:
        self.received: list[ReceivedResponse] = []
        self._changed = Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                with recorder._changed:
                    recorder.received.append(
                        ReceivedResponse(body, dict(self.headers.items()), time.monotonic())
                    )
                    recorder._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: the recorder is the log."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = Thread(target=serve, daemon=True)
        self._thread.start()

    def url(self, key: str) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/cfn-response/{key}?X-Amz-Signature=test"

    def only(self) -> ReceivedResponse:
        assert len(self.received) == 1, self.received
        return self.received[0]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def responses() -> Iterator[ResponseRecorder]:
    recorder = ResponseRecorder()
    yield recorder
    recorder.stop()


def context(seconds: float = 300.0) -> Any:
    """A Lambda context whose invocation ends ``seconds`` from now."""
    deadline = time.monotonic() + seconds
    return SimpleNamespace(
        get_remaining_time_in_millis=lambda: max(0, int((deadline - time.monotonic()) * 1000)),
        log_stream_name="2026/11/27/[$LATEST]0123456789abcdef",
        deadline=deadline,
    )


def cfn_event(
    responses: ResponseRecorder, unique: str, request_type: str = "Create", **extra: Any
) -> dict[str, Any]:
    event = json.loads((EVENTS / "cloudformation_create.json").read_text())
    stack = f"envctl-{unique}"
    event.update(
        RequestType=request_type,
        ResponseURL=responses.url(f"{unique}-{request_type}"),
        StackId=f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}/5b4e4c30",
        RequestId=f"req-{unique}-{request_type}",
    )
    if request_type != "Create":
        event["PhysicalResourceId"] = f"envctl-sync-{stack}"
    event.update(extra)
    return event


def office_hours(unique: str, *, start: str = "0 8 ? * MON-FRI *") -> dict[str, Any]:
    return {
        "timezone": "Europe/Amsterdam",
        "start_resources_at": start,
        "stop_resources_at": "0 19 ? * MON-FRI *",
        "resources": [{"type": "ec2_instance", "params": {"id": f"i-{unique}"}}],
    }


@pytest.fixture
def use_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Write a compositions file and point ENVCTL_CONFIG at it (as the Lambda bundle does)."""
    path = tmp_path / "compositions.yaml"
    monkeypatch.setenv("ENVCTL_CONFIG", str(path))

    def write(compositions: dict[str, Any] | str) -> Path:
        text = (
            compositions
            if isinstance(compositions, str)
            else yaml.safe_dump({"compositions": compositions})
        )
        path.write_text(text)
        return path

    return write


def machine_names(em: Emulator) -> set[str]:
    pages = em.client("stepfunctions").get_paginator("list_state_machines").paginate()
    return {m["name"] for page in pages for m in page["stateMachines"]}


def group_exists(em: Emulator, group: str) -> bool:
    try:
        em.client("scheduler").get_schedule_group(Name=group)
    except ClientError:
        return False
    return True


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    began = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - began


def test_create_applies_the_config_and_reports_success(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    name = f"s{unique}"
    use_config({name: office_hours(unique)})

    sync.handler(cfn_event(responses, unique), context())

    received = responses.only()
    assert received.body["Status"] == "SUCCESS", received.body["Reason"]
    assert received.body["PhysicalResourceId"] == f"envctl-sync-envctl-{unique}"
    assert received.body["RequestId"] == f"req-{unique}-Create"
    assert received.body["LogicalResourceId"] == "EnvctlSync"
    assert received.body["StackId"].endswith(f"stack/envctl-{unique}/5b4e4c30")
    assert received.body["Data"]["Created"] == "5"
    # The pre-signed URL is signed without a content type.
    assert received.headers.get("Content-Type", "") == ""
    assert {f"envctl-{name}-start", f"envctl-{name}-stop"} <= machine_names(aws_env)
    start = aws_env.client("scheduler").get_schedule(GroupName=f"envctl-{name}", Name="start")
    assert start["ScheduleExpression"] == "cron(0 8 ? * MON-FRI *)"
    assert start["ScheduleExpressionTimezone"] == "Europe/Amsterdam"


def test_update_applies_a_changed_cron_and_prunes_a_removed_composition(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    kept, removed = f"k{unique}", f"x{unique}"
    use_config({kept: office_hours(unique), removed: office_hours(unique)})
    sync.handler(cfn_event(responses, unique), context())
    use_config({kept: office_hours(unique, start="30 7 ? * MON-FRI *")})

    sync.handler(cfn_event(responses, unique, "Update"), context())

    created, updated = responses.received
    assert created.body["Status"] == "SUCCESS", created.body["Reason"]
    assert updated.body["Status"] == "SUCCESS", updated.body["Reason"]
    assert updated.body["PhysicalResourceId"] == created.body["PhysicalResourceId"]
    assert updated.body["Data"]["Updated"] == "1"
    assert int(updated.body["Data"]["Deleted"]) >= 5  # the removed composition's five
    live = aws_env.client("scheduler").get_schedule(GroupName=f"envctl-{kept}", Name="start")
    assert live["ScheduleExpression"] == "cron(30 7 ? * MON-FRI *)"
    names = machine_names(aws_env)
    assert {f"envctl-{kept}-start", f"envctl-{kept}-stop"} <= names
    assert not {f"envctl-{removed}-start", f"envctl-{removed}-stop"} & names
    assert not group_exists(aws_env, f"envctl-{removed}")


def test_update_names_a_removed_composition_it_did_not_prune_because_it_runs(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    kept, busy = f"k{unique}", f"b{unique}"
    long_run = {**office_hours(unique), "resources": [{"type": "wait", "params": {"seconds": 300}}]}
    use_config({kept: office_hours(unique), busy: long_run})
    sync.handler(cfn_event(responses, unique), context())
    sfn = aws_env.client("stepfunctions")
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{busy}-start"
    execution = sfn.start_execution(
        stateMachineArn=arn, name="scheduled", input=json.dumps({"trigger": "schedule"})
    )["executionArn"]
    use_config({kept: office_hours(unique)})

    try:
        sync.handler(cfn_event(responses, unique, "Update"), context())
    finally:
        sfn.stop_execution(executionArn=execution, cause="test over")

    updated = responses.received[-1].body
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["Reason"] == (
        "synced the compositions file: 0 created, 0 updated, 0 deleted; "
        f"not pruning {busy}: execution {execution} is still running; "
        "run apply --prune again when it has finished"
    )
    assert {f"envctl-{busy}-start", f"envctl-{busy}-stop"} <= machine_names(aws_env)


def test_delete_removes_what_envctl_created_even_if_the_config_no_longer_loads(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    name = f"d{unique}"
    use_config({name: office_hours(unique)})
    sync.handler(cfn_event(responses, unique), context())
    use_config("compositions: [this is not a mapping")

    (_, seconds) = timed(sync.handler, cfn_event(responses, unique, "Delete"), context())

    deleted = responses.received[-1]
    assert deleted.body["Status"] == "SUCCESS", deleted.body["Reason"]
    assert int(deleted.body["Data"]["Deleted"]) >= 5
    assert not {f"envctl-{name}-start", f"envctl-{name}-stop"} & machine_names(aws_env)
    assert not group_exists(aws_env, f"envctl-{name}")
    assert seconds < 30


def test_delete_of_a_replaced_resource_removes_nothing(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    name = f"r{unique}"
    use_config({name: office_hours(unique)})
    sync.handler(cfn_event(responses, unique), context())

    event = cfn_event(responses, unique, "Delete", PhysicalResourceId="an-older-physical-id")
    sync.handler(event, context())

    assert responses.received[-1].body["Status"] == "SUCCESS"
    assert {f"envctl-{name}-start", f"envctl-{name}-stop"} <= machine_names(aws_env)


def test_invalid_config_reports_failed_with_the_problem_lines(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    name = f"bad{unique}"
    path = use_config({name: office_hours(unique, start="0 25 * * *")})

    (_, seconds) = timed(sync.handler, cfn_event(responses, unique), context())

    received = responses.only()
    assert received.body["Status"] == "FAILED"
    reason = received.body["Reason"]
    assert reason.startswith(f"the compositions file is invalid: {path}: {name}.start_resources_at")
    assert "log stream 2026/11/27/[$LATEST]" in reason
    assert f"envctl-{name}-start" not in machine_names(aws_env)
    assert seconds < 5


def test_aws_error_reports_failed_with_the_services_message(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    path = use_config({f"e{unique}": office_hours(unique)})
    session = boto3.Session()

    def deny(**_: Any) -> None:
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "not authorized to perform: states:CreateStateMachine",
                }
            },
            "CreateStateMachine",
        )

    session.events.register("before-call.stepfunctions.CreateStateMachine", deny)

    (_, seconds) = timed(
        sync.handle,
        cfn_event(responses, unique),
        context(),
        aws=Aws(session),
        settings=Settings(config_path=str(path)),
    )

    received = responses.only()
    assert received.body["Status"] == "FAILED"
    assert "AccessDeniedException" in received.body["Reason"]
    assert "states:CreateStateMachine" in received.body["Reason"]
    assert "after applying 0 of" in received.body["Reason"]
    assert seconds < 5


def test_near_timeout_reports_failed_before_the_deadline_and_stops_applying(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    names = [f"t{index}{unique}" for index in range(3)]
    path = use_config({name: office_hours(unique) for name in names})
    session = boto3.Session()
    # Every write takes 0.5 s: 15 changes cannot fit in the 2 s left before the reserve.
    session.events.register(
        "before-call",
        lambda model, **_: time.sleep(0.5) if model.name.startswith(WRITE_PREFIXES) else None,
    )
    lambda_context = context(seconds=sync.RESPONSE_RESERVE_MS / 1000 + 2)

    (_, seconds) = timed(
        sync.handle,
        cfn_event(responses, unique),
        lambda_context,
        aws=Aws(session),
        settings=Settings(config_path=str(path)),
    )

    received = responses.only()
    assert received.body["Status"] == "FAILED"
    assert received.body["Reason"].startswith("timed out ")
    assert received.at < lambda_context.deadline
    assert seconds < sync.RESPONSE_RESERVE_MS / 1000 + 2
    time.sleep(1.5)  # the worker finishes its current change, then stops
    created = {f"envctl-{n}-{action}" for n in names for action in ("start", "stop")}
    assert created - machine_names(aws_env)


def test_too_little_time_left_reports_failed_at_once(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    use_config({f"n{unique}": office_hours(unique)})

    (_, seconds) = timed(sync.handler, cfn_event(responses, unique), context(seconds=2))

    received = responses.only()
    assert received.body["Status"] == "FAILED"
    assert "not enough time left" in received.body["Reason"]
    assert seconds < 2


def test_reason_is_cut_so_the_response_fits_in_4_kb() -> None:
    outcome = sync.Outcome(status="FAILED", reason="ü" * 10_000, data={"Created": "0"})

    body = sync.response_body({"StackId": "arn:aws:cloudformation:r:1:stack/s/u"}, outcome)

    assert len(json.dumps(body).encode("utf-8")) <= sync.RESPONSE_LIMIT_BYTES
    assert body["Reason"].endswith("(cut; see the function's log)")


def test_unreachable_response_url_raises_so_lambda_retries(
    aws_env: Emulator, unique: str, responses: ResponseRecorder, use_config: Any
) -> None:
    use_config({f"u{unique}": office_hours(unique)})
    event = cfn_event(responses, unique, ResponseURL="http://127.0.0.1:9/closed")

    with pytest.raises(OSError, match="could not send the response"):
        sync.handler(event, context(seconds=20))
