"""Add ``efs:UpdateFileSystem`` and ``fsx:UpdateFileSystem`` to moto at runtime.

moto 5.2.5 routes both operations (its dispatch resolves the action from botocore's
service model, and the server accepts every HTTP method on the EFS file-system path)
but has no handler for them, so requests end in ``NotImplementedError``. ``install()``
adds the missing handler methods to moto's response and backend classes, which makes
them work both under ``moto.mock_aws()`` and in ``moto.server.ThreadedMotoServer``.

FSx throughput changes are asynchronous in AWS: the file system carries a
``FILE_SYSTEM_UPDATE`` administrative action that is ``PENDING`` until the change lands.
The emulator mimics that with a delay: ``FSX_UPDATE_SECONDS`` (or its environment
variable) when set, else the lifecycle's FSx update time at the emulator's speed
(``infra.emulator.lifecycle``). EFS throughput changes leave the file system
``updating`` for the lifecycle's EFS update time; another change meanwhile is refused
with ``IncorrectFileSystemLifeCycleState``, as in AWS.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.efs.exceptions import BadRequest as EfsBadRequest
from moto.efs.exceptions import FileSystemNotFound as EfsFileSystemNotFound
from moto.efs.models import EFSBackend
from moto.efs.models import FileSystem as EfsFileSystem
from moto.efs.responses import EFSResponse
from moto.fsx.exceptions import FileSystemNotFound as FsxFileSystemNotFound
from moto.fsx.models import FileSystem as FsxFileSystem
from moto.fsx.models import FSxBackend
from moto.fsx.responses import FSxResponse

from infra.emulator import lifecycle
from infra.emulator.patching import JsonProtocolError, wrap_once

logger = logging.getLogger(__name__)

#: Seconds an FSx throughput update stays PENDING. Read when an update is requested;
#: None: the lifecycle's FSx update time at the current speed.
FSX_UPDATE_SECONDS: float | None = None
#: Seconds an EFS file system stays ``updating`` after a throughput change; None: the
#: lifecycle's EFS update time at the current speed.
EFS_UPDATE_SECONDS: float | None = None
#: Environment variable that, when set, overrides ``FSX_UPDATE_SECONDS``.
FSX_UPDATE_SECONDS_ENV = "ENVCTL_EMULATOR_FSX_UPDATE_SECONDS"

#: Throughput capacities (MB/s) that FSx for Windows File Server accepts.
WINDOWS_THROUGHPUT_CAPACITIES = frozenset(
    {8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 12288}
)
EFS_THROUGHPUT_MODES = ("bursting", "provisioned", "elastic")

# Emulated WindowsConfiguration updates. All but ThroughputCapacity are applied at once
# (AWS applies these without an administrative action), so they are simply copied.
_WINDOWS_KEYS = frozenset(
    {
        "ThroughputCapacity",
        "WeeklyMaintenanceStartTime",
        "DailyAutomaticBackupStartTime",
        "AutomaticBackupRetentionDays",
    }
)
# Attributes stored on moto objects; underscore-prefixed so moto never serialises them.
_ACTIONS_ATTR = "_envctl_admin_actions"
_TOKENS_ATTR = "_envctl_update_tokens"
# ThreadedMotoServer serves requests on several threads; updates and the describe-time
# completion of pending actions must not interleave.
_LOCK = threading.RLock()
_INSTALL_LOCK = threading.Lock()


FsxError = JsonProtocolError


def fsx_update_delay() -> float:
    """Return the pending time for a new FSx update: env var first, then the module setting."""
    raw = os.environ.get(FSX_UPDATE_SECONDS_ENV, "").strip()
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            # A typo in the env var should not turn every update into an HTTP 500.
            logger.warning("ignoring non-numeric %s=%r", FSX_UPDATE_SECONDS_ENV, raw)
    if FSX_UPDATE_SECONDS is None:
        return lifecycle.duration("fsx.update")
    return max(0.0, float(FSX_UPDATE_SECONDS))


def _efs_backend_update_file_system(
    self: EFSBackend,
    file_system_id: str,
    throughput_mode: str | None = None,
    provisioned_throughput_in_mibps: float | None = None,
) -> EfsFileSystem:
    """Change an EFS file system's throughput settings, validating like AWS."""
    file_system = self.file_systems_by_id.get(file_system_id)
    if file_system is None:
        raise EfsFileSystemNotFound(file_system_id)
    if throughput_mode is not None and throughput_mode not in EFS_THROUGHPUT_MODES:
        raise EfsBadRequest(f"Invalid ThroughputMode: {throughput_mode}")
    new_mode = throughput_mode or file_system.throughput_mode
    if provisioned_throughput_in_mibps is not None:
        if new_mode != "provisioned":
            raise EfsBadRequest(
                "ProvisionedThroughputInMibps can only be specified when "
                "ThroughputMode is provisioned."
            )
        if not isinstance(provisioned_throughput_in_mibps, int | float) or (
            provisioned_throughput_in_mibps < 1.0
        ):
            raise EfsBadRequest("ProvisionedThroughputInMibps must be a number >= 1.0.")
    elif new_mode == "provisioned" and file_system.throughput_mode != "provisioned":
        raise EfsBadRequest(
            "ProvisionedThroughputInMibps is required when changing ThroughputMode to provisioned."
        )
    if lifecycle.current(file_system) is not None:
        raise JsonProtocolError(
            "IncorrectFileSystemLifeCycleState",
            f"File system {file_system_id} is updating; try again when it is available.",
        )
    with _LOCK:
        file_system.throughput_mode = new_mode
        if provisioned_throughput_in_mibps is not None:
            # A Double in AWS's model; moto annotates the attribute as int.
            file_system.provisioned_throughput_in_mibps = float(provisioned_throughput_in_mibps)  # type: ignore[assignment]
        elif new_mode != "provisioned":
            # AWS only reports a provisioned figure for provisioned file systems.
            file_system.provisioned_throughput_in_mibps = None  # type: ignore[assignment]
    updating = (
        lifecycle.duration("efs.update") if EFS_UPDATE_SECONDS is None else EFS_UPDATE_SECONDS
    )
    lifecycle.begin(file_system, file_system_id, "updating", max(0.0, updating))
    return file_system


def _efs_response_update_file_system(self: EFSResponse) -> tuple[str, dict[str, Any]]:
    """Handle ``PUT /2015-02-01/file-systems/{FileSystemId}``; AWS answers 202."""
    # The backend method install() adds, called directly: moto's class does not declare it.
    file_system = _efs_backend_update_file_system(
        self.efs_backend,
        file_system_id=self._get_param("FileSystemId"),
        throughput_mode=self._get_param("ThroughputMode"),
        provisioned_throughput_in_mibps=self._get_param("ProvisionedThroughputInMibps"),
    )
    return json.dumps(file_system.info_json()), {
        "status": 202,
        "Content-Type": "application/json",
    }


def _settle(file_system: FsxFileSystem, now: float | None = None) -> None:
    """Complete every pending update whose delay has elapsed (moto has no clock)."""
    now = time.time() if now is None else now
    with _LOCK:
        for action in getattr(file_system, _ACTIONS_ATTR, []):
            if action["Status"] != "PENDING" or action["_due"] > now:
                continue
            if lifecycle.is_held(file_system.file_system_id):
                continue
            failure = lifecycle.terminal_state(file_system.file_system_id)
            if failure is not None:
                action["Status"] = failure
                action["FailureDetails"] = {"Message": "The update failed."}
                continue
            target = action["TargetFileSystemValues"]["WindowsConfiguration"]
            windows = dict(file_system.windows_configuration or {})
            windows["ThroughputCapacity"] = target["ThroughputCapacity"]
            file_system.windows_configuration = windows
            action["Status"] = "COMPLETED"
            action["ProgressPercent"] = 100


def _start_throughput_update(file_system: FsxFileSystem, capacity: Any) -> None:
    """Validate a Windows throughput change and record it as a pending admin action."""
    if isinstance(capacity, bool) or capacity not in WINDOWS_THROUGHPUT_CAPACITIES:
        # Wording of the real FSx error for an unsupported capacity.
        raise FsxError(
            "BadRequest",
            f"Invalid desired throughput capacity value provided: {capacity} MB/s. Please refer "
            "to the performance guide "
            "(https://docs.aws.amazon.com/fsx/latest/WindowsGuide/performance.html) "
            "when selecting a value.",
        )
    actions: list[dict[str, Any]] = getattr(file_system, _ACTIONS_ATTR, [])
    if any(a["Status"] == "PENDING" for a in actions):
        raise FsxError(
            "BadRequest",
            "Unable to perform the update: another update is in progress for file system "
            f"{file_system.file_system_id}.",
        )
    now = time.time()
    action = {
        "AdministrativeActionType": "FILE_SYSTEM_UPDATE",
        "ProgressPercent": 0,
        "RequestTime": now,
        "Status": "PENDING",
        "TargetFileSystemValues": {"WindowsConfiguration": {"ThroughputCapacity": capacity}},
        "_due": now + fsx_update_delay(),
    }
    setattr(file_system, _ACTIONS_ATTR, [*actions, action])


def _already_done(tokens: dict[str, str], token: str | None, fingerprint: str) -> bool:
    """ClientRequestToken makes retries idempotent: same token and request is "already
    done", same token with a different request is an error in AWS."""
    if not token or token not in tokens:
        return False
    if tokens[token] != fingerprint:
        raise FsxError(
            "IncompatibleParameterError",
            "The ClientRequestToken was already used with different parameters.",
            Parameter="ClientRequestToken",
        )
    return True


def _windows_update(file_system: FsxFileSystem, params: dict[str, Any]) -> dict[str, Any]:
    """The request's WindowsConfiguration, once everything it asks for is emulated."""
    windows_update: dict[str, Any] = params.get("WindowsConfiguration") or {}
    if windows_update and file_system.file_system_type != "WINDOWS":
        raise FsxError(
            "BadRequest", "WindowsConfiguration can only be specified for WINDOWS file systems."
        )
    known = {"FileSystemId", "ClientRequestToken", "WindowsConfiguration"}
    unsupported = [k for k, v in params.items() if k not in known and v is not None]
    unsupported += [f"WindowsConfiguration.{k}" for k in windows_update if k not in _WINDOWS_KEYS]
    if unsupported:
        # Fail loudly rather than pretend an un-emulated change happened.
        raise FsxError(
            "UnsupportedOperation",
            f"The emulator does not support updating {', '.join(sorted(unsupported))}.",
        )
    return windows_update


def _fsx_backend_update_file_system(
    self: FSxBackend,
    file_system_id: str,
    client_request_token: str | None,
    params: dict[str, Any],
) -> FsxFileSystem:
    """Apply an UpdateFileSystem request; only Windows settings are emulated."""
    with _LOCK:
        file_system = self.file_systems.get(file_system_id)
        if file_system is None:
            raise FsxFileSystemNotFound(file_system_id)
        _settle(file_system)
        tokens: dict[str, str] = self.__dict__.setdefault(_TOKENS_ATTR, {})
        fingerprint = json.dumps(params, sort_keys=True, default=str)
        if _already_done(tokens, client_request_token, fingerprint):
            return file_system
        windows_update = _windows_update(file_system, params)
        if "ThroughputCapacity" in windows_update:
            _start_throughput_update(file_system, windows_update["ThroughputCapacity"])
        immediate = {k: v for k, v in windows_update.items() if k != "ThroughputCapacity"}
        if immediate:
            file_system.windows_configuration = {
                **(file_system.windows_configuration or {}),
                **immediate,
            }
        if client_request_token:
            tokens[client_request_token] = fingerprint
        return file_system


def _fsx_response_update_file_system(self: FSxResponse) -> str:
    """Handle ``AWSSimbaAPIService_v20180301.UpdateFileSystem``."""
    params = json.loads(self.body or "{}")
    file_system = _fsx_backend_update_file_system(
        self.fsx_backend,
        file_system_id=params.get("FileSystemId"),
        client_request_token=params.get("ClientRequestToken"),
        params=params,
    )
    return json.dumps({"FileSystem": file_system.to_dict()})


def _wrap_fsx_to_dict(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Add the ``Lifecycle`` and ``AdministrativeActions`` fields real FSx always returns."""

    def to_dict(self: FsxFileSystem) -> dict[str, Any]:
        result = original(self)
        result.setdefault("Lifecycle", "AVAILABLE")
        with _LOCK:
            actions = copy.deepcopy(getattr(self, _ACTIONS_ATTR, []))
        result["AdministrativeActions"] = [
            {k: v for k, v in a.items() if not k.startswith("_")} for a in actions
        ]
        return result

    return to_dict


def _wrap_efs_info_json(
    original: Callable[..., dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """Report ``updating`` while a throughput change is under way."""

    def info_json(self: EfsFileSystem) -> dict[str, Any]:
        result = original(self)
        transition = lifecycle.current(self)
        if transition is not None:
            result["LifeCycleState"] = transition.via
        return result

    return info_json


def _wrap_fsx_describe(original: Callable[..., Any]) -> Callable[..., Any]:
    """Complete due updates before describing, so a describe observes finished work."""

    def describe_file_systems(self: FSxBackend, *args: Any, **kwargs: Any) -> Any:
        now = time.time()
        for file_system in list(self.file_systems.values()):
            _settle(file_system, now)
        return original(self, *args, **kwargs)

    return describe_file_systems


def install() -> None:
    """Patch moto so EFS and FSx ``UpdateFileSystem`` work. Safe to call repeatedly."""
    with _INSTALL_LOCK:
        # Plain assignment is idempotent; wrappers go through _wrap_once so a second
        # install() does not stack a second layer on top of the first.
        EFSBackend.update_file_system = _efs_backend_update_file_system  # type: ignore[attr-defined]
        EFSResponse.update_file_system = _efs_response_update_file_system  # type: ignore[attr-defined]
        FSxBackend.update_file_system = _fsx_backend_update_file_system  # type: ignore[attr-defined]
        FSxResponse.update_file_system = _fsx_response_update_file_system  # type: ignore[attr-defined]
        wrap_once(FsxFileSystem, "to_dict", _wrap_fsx_to_dict)
        wrap_once(EfsFileSystem, "info_json", _wrap_efs_info_json)
        wrap_once(FSxBackend, "describe_file_systems", _wrap_fsx_describe)
