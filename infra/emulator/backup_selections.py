"""Add AWS Backup selections (``Create/Get/List/DeleteBackupSelection``) to moto at runtime.

moto 5.2.5 already routes these requests: its ``/backup/plans/(?P<name>.+)/?$`` pattern
also covers ``/backup/plans/{id}/selections/...`` (in-process and in the server's Flask URL
map) and the action is resolved from botocore's rest-json model by method and URI; only the
handlers are missing (``NotImplementedError``). ``install()`` adds them to moto's response
and backend classes, and registers a selections route should moto's patterns stop covering
it. Selections live on the backend instance, so ``reset()``/``mock_aws()`` clear them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.backup import urls as backup_urls
from moto.backup.exceptions import (
    InvalidParameterValueException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.backup.models import BackupBackend
from moto.backup.responses import BackupResponse
from moto.core.utils import unix_time
from moto.moto_api._internal import mock_random

from infra.emulator.patching import JsonProtocolError, wrap_once

#: Pattern registered only if moto's own URL patterns stop covering selection paths.
SELECTIONS_ROUTE = "{0}/backup/plans/(?P<backupPlanId>[^/]+)/selections/(?P<selectionId>[^/]*)$"
_PROBES = ("/backup/plans/p/selections/", "/backup/plans/p/selections/s")
_PATH = re.compile(r"/backup/plans/(?P<plan>[^/]+)/selections/(?P<selection>[^/]*)/?$")

# botocore checks neither patterns nor enums client-side, so the service must. The name
# pattern is botocore's; the role ARN check is only a form check (no IAM lookup).
_NAME = re.compile(r"^[a-zA-Z0-9\-\_\.]{1,50}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
_CONDITION_OPERATORS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")
_MAX_RESULTS = 1000

_STORE_ATTR = "_envctl_backup_selections"
# ThreadedMotoServer serves requests on several threads.
_LOCK = threading.RLock()
_INSTALL_LOCK = threading.Lock()


BackupError = JsonProtocolError


@dataclass
class Selection:
    """One backup selection (resource assignment) of a backup plan."""

    selection_id: str
    backup_plan_id: str
    backup_selection: dict[str, Any]
    creation_date: float
    creator_request_id: str | None

    def to_get_dict(self) -> dict[str, Any]:
        """The ``GetBackupSelection`` output shape."""
        result: dict[str, Any] = {
            "BackupSelection": self.backup_selection,
            "SelectionId": self.selection_id,
            "BackupPlanId": self.backup_plan_id,
            "CreationDate": self.creation_date,
        }
        if self.creator_request_id is not None:
            result["CreatorRequestId"] = self.creator_request_id
        return result

    def to_list_dict(self) -> dict[str, Any]:
        """A ``BackupSelectionsListMember``."""
        result = self.to_get_dict()
        chosen = result.pop("BackupSelection")
        return {**result, **{k: chosen[k] for k in ("SelectionName", "IamRoleArn")}}


def normalise_selection(selection: Any) -> dict[str, Any]:
    """Validate a ``BackupSelection`` and fill the members AWS echoes back as empty lists."""
    if not isinstance(selection, dict):
        raise BackupError("MissingParameterValueException", "BackupSelection is required.")
    for member in ("SelectionName", "IamRoleArn"):
        if not selection.get(member):
            raise BackupError("MissingParameterValueException", f"{member} is required.")
    if not _NAME.match(str(selection["SelectionName"])):
        raise InvalidParameterValueException(f"Invalid SelectionName: {selection['SelectionName']}")
    if not _ROLE_ARN.match(str(selection["IamRoleArn"])):
        raise InvalidParameterValueException(f"Invalid IamRoleArn: {selection['IamRoleArn']}")
    tags = list(selection.get("ListOfTags") or [])
    bad_types = {str(t.get("ConditionType")) for t in tags} - {"STRINGEQUALS"}
    if bad_types:
        raise InvalidParameterValueException(f"Invalid ConditionType: {sorted(bad_types)}")
    conditions = selection.get("Conditions") or {}
    return {
        "SelectionName": selection["SelectionName"],
        "IamRoleArn": selection["IamRoleArn"],
        "Resources": list(selection.get("Resources") or []),
        "ListOfTags": tags,
        "NotResources": list(selection.get("NotResources") or []),
        "Conditions": {op: list(conditions.get(op) or []) for op in _CONDITION_OPERATORS},
    }


def _plan_selections(backend: BackupBackend, backup_plan_id: str) -> dict[str, Selection]:
    """The selections of a live plan; deleted or unknown plans are not found."""
    plan = backend.plans.get(backup_plan_id)
    # moto keeps deleted plans (with a DeletionDate); they no longer accept selections.
    if plan is None or plan.deletion_date is not None:
        raise ResourceNotFoundException(msg=f"Backup plan {backup_plan_id} not found.")
    store: dict[str, dict[str, Selection]] = backend.__dict__.setdefault(_STORE_ATTR, {})
    return store.setdefault(backup_plan_id, {})


def _backend_create_backup_selection(
    self: BackupBackend, backup_plan_id: str, backup_selection: Any, creator_request_id: str | None
) -> Selection:
    """Store a new selection; a retried request (same CreatorRequestId) returns the first."""
    normalised = normalise_selection(backup_selection)
    with _LOCK:
        selections = _plan_selections(self, backup_plan_id)
        if creator_request_id:
            for existing in selections.values():
                if existing.creator_request_id != creator_request_id:
                    continue
                if existing.backup_selection == normalised:
                    return existing
                raise BackupError(
                    "AlreadyExistsException",
                    "A backup selection with this CreatorRequestId already exists.",
                    CreatorRequestId=creator_request_id,
                )
        selection = Selection(
            selection_id=str(mock_random.uuid4()),
            backup_plan_id=backup_plan_id,
            backup_selection=normalised,
            creation_date=unix_time(),
            creator_request_id=creator_request_id,
        )
        selections[selection.selection_id] = selection
        return selection


def _backend_get_backup_selection(
    self: BackupBackend, backup_plan_id: str, selection_id: str
) -> Selection:
    """Return one selection or raise ``ResourceNotFoundException``."""
    with _LOCK:
        selection = _plan_selections(self, backup_plan_id).get(selection_id)
    if selection is None:
        raise ResourceNotFoundException(msg=f"Backup selection {selection_id} not found.")
    return selection


def _backend_list_backup_selections(
    self: BackupBackend, backup_plan_id: str, max_results: int, next_token: str | None
) -> tuple[list[Selection], str | None]:
    """One page of a plan's selections, oldest first; the token is the next offset."""
    if not 1 <= max_results <= _MAX_RESULTS:
        raise InvalidParameterValueException(f"MaxResults must be between 1 and {_MAX_RESULTS}.")
    start = 0
    if next_token:
        if not next_token.isdigit():
            raise InvalidParameterValueException("Invalid NextToken.")
        start = int(next_token)
    with _LOCK:
        selections = list(_plan_selections(self, backup_plan_id).values())
    end = start + max_results
    return selections[start:end], (str(end) if end < len(selections) else None)


def _backend_delete_backup_selection(
    self: BackupBackend, backup_plan_id: str, selection_id: str
) -> None:
    """Remove a selection or raise ``ResourceNotFoundException``."""
    with _LOCK:
        if _plan_selections(self, backup_plan_id).pop(selection_id, None) is None:
            raise ResourceNotFoundException(msg=f"Backup selection {selection_id} not found.")


def _wrap_delete_backup_plan(original: Callable[..., Any]) -> Callable[..., Any]:
    """AWS refuses to delete a plan that still has selections."""

    def delete_backup_plan(self: BackupBackend, backup_plan_id: str) -> Any:
        with _LOCK:
            if self.__dict__.get(_STORE_ATTR, {}).get(backup_plan_id):
                raise InvalidRequestException(
                    msg="Related backup plan selections must be deleted prior to "
                    "backup plan deletion"
                )
            return original(self, backup_plan_id)

    return delete_backup_plan


def _path_ids(response: BackupResponse) -> tuple[str, str]:
    """(backupPlanId, selectionId) from the request path; selectionId may be empty."""
    match = _PATH.search(response.path)
    assert match is not None, response.path  # only selection paths reach these handlers
    return unquote(match["plan"]), unquote(match["selection"])


def _json(payload: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """A 200 response; moto's plain-string returns would go out as text/html in server mode."""
    body = "" if payload is None else json.dumps(payload)
    return body, {"status": 200, "Content-Type": "application/json"}


def _response_create_backup_selection(self: BackupResponse) -> tuple[str, dict[str, Any]]:
    """Handle ``PUT /backup/plans/{backupPlanId}/selections/``."""
    params = json.loads(self.body or "{}")
    selection = self.backup_backend.create_backup_selection(  # type: ignore[attr-defined]
        backup_plan_id=_path_ids(self)[0],
        backup_selection=params.get("BackupSelection"),
        creator_request_id=params.get("CreatorRequestId"),
    )
    result = selection.to_get_dict()
    return _json({k: result[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")})


def _response_get_backup_selection(self: BackupResponse) -> tuple[str, dict[str, Any]]:
    """Handle ``GET /backup/plans/{backupPlanId}/selections/{selectionId}``."""
    plan_id, selection_id = _path_ids(self)
    selection = self.backup_backend.get_backup_selection(plan_id, selection_id)  # type: ignore[attr-defined]
    return _json(selection.to_get_dict())


def _response_list_backup_selections(self: BackupResponse) -> tuple[str, dict[str, Any]]:
    """Handle ``GET /backup/plans/{backupPlanId}/selections/?maxResults&nextToken``."""
    # Read the query string directly: moto's querystring falls back to body and headers.
    query = parse_qs(self.parsed_url.query)
    raw_max = (query.get("maxResults") or [str(_MAX_RESULTS)])[0]
    if not raw_max.isdigit():
        raise InvalidParameterValueException("MaxResults must be an integer.")
    page, next_token = self.backup_backend.list_backup_selections(  # type: ignore[attr-defined]
        _path_ids(self)[0], int(raw_max), next(iter(query.get("nextToken") or []), None)
    )
    result: dict[str, Any] = {"BackupSelectionsList": [s.to_list_dict() for s in page]}
    if next_token:
        result["NextToken"] = next_token
    return _json(result)


def _response_delete_backup_selection(self: BackupResponse) -> tuple[str, dict[str, Any]]:
    """Handle ``DELETE /backup/plans/{backupPlanId}/selections/{selectionId}``; no body."""
    self.backup_backend.delete_backup_selection(*_path_ids(self))  # type: ignore[attr-defined]
    return _json(None)


def ensure_route() -> None:
    """Register a selections URL pattern unless moto's patterns already cover it.

    Both the in-process stubber and each server app (built lazily per service on its first
    request) read ``moto.backup.urls.url_paths``, so adding here reaches both.
    """
    patterns = [re.compile(p.format("")) for p in backup_urls.url_paths]
    if all(any(p.match(probe) for p in patterns) for probe in _PROBES):
        return
    backup_urls.url_paths[SELECTIONS_ROUTE] = BackupResponse.dispatch


def install() -> None:
    """Patch moto so AWS Backup selections work. Safe to call repeatedly."""
    with _INSTALL_LOCK:
        ensure_route()
        # Plain assignment is idempotent; the plan-delete wrapper goes through _wrap_once.
        BackupBackend.create_backup_selection = _backend_create_backup_selection  # type: ignore[attr-defined]
        BackupBackend.get_backup_selection = _backend_get_backup_selection  # type: ignore[attr-defined]
        BackupBackend.list_backup_selections = _backend_list_backup_selections  # type: ignore[attr-defined]
        BackupBackend.delete_backup_selection = _backend_delete_backup_selection  # type: ignore[attr-defined]
        BackupResponse.create_backup_selection = _response_create_backup_selection  # type: ignore[attr-defined]
        BackupResponse.get_backup_selection = _response_get_backup_selection  # type: ignore[attr-defined]
        BackupResponse.list_backup_selections = _response_list_backup_selections  # type: ignore[attr-defined]
        BackupResponse.delete_backup_selection = _response_delete_backup_selection  # type: ignore[attr-defined]
        wrap_once(BackupBackend, "delete_backup_plan", _wrap_delete_backup_plan)
