"""Make moto answer questions about missing resources the way AWS does.

Checked against every kind envctl drives; moto gets two wrong:

- FSx ``DescribeFileSystems`` with ``FileSystemIds`` naming an unknown file system:
  AWS answers the error ``FileSystemNotFound``; moto leaves the id out and answers
  an empty list (or fewer file systems than were asked for).
- EC2 calls taking ``InstanceIds`` with an id that is not shaped like an instance id
  (``i-`` and 8 or 17 hex digits): AWS answers ``InvalidInstanceID.Malformed``
  before looking anything up; moto answers ``InvalidInstanceID.NotFound``.

Already like AWS, so left alone: EFS (``FileSystemNotFound``), ECS (a missing
cluster is ``ClusterNotFoundException``; a missing service is a ``failures`` entry
with reason ``MISSING``), Auto Scaling (an unknown group is an empty list), RDS
(``DBInstanceNotFound``, ``DBClusterNotFoundFault``) and Redshift (``ClusterNotFound``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.instances import InstanceBackend
from moto.fsx.exceptions import FileSystemNotFound
from moto.fsx.responses import FSxResponse

from infra.emulator.patching import wrap_once

# The two lengths EC2 has used for instance ids: the old 8-digit and the current 17-digit.
INSTANCE_ID = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_INSTALL_LOCK = threading.Lock()


def _wrap_fsx_describe(original: Callable[..., str]) -> Callable[..., str]:
    """Raise ``FileSystemNotFound`` for the first requested id that does not exist."""

    def describe_file_systems(self: FSxResponse) -> str:
        requested = json.loads(self.body or "{}").get("FileSystemIds") or []
        for file_system_id in requested:
            if file_system_id not in self.fsx_backend.file_systems:
                raise FileSystemNotFound(file_system_id)
        return original(self)

    return describe_file_systems


def check_instance_ids(instance_ids: list[str]) -> None:
    """Raise ``InvalidInstanceID.Malformed`` for the first id not shaped like one."""
    for instance_id in instance_ids:
        if not INSTANCE_ID.match(instance_id):
            raise EC2ClientError("InvalidInstanceID.Malformed", f'Invalid id: "{instance_id}"')


def _wrap_instance_lookup(original: Callable[..., Any]) -> Callable[..., Any]:
    """Validate the ids' shape before moto looks them up."""

    def lookup(self: InstanceBackend, instance_ids: list[str], *args: Any, **kwargs: Any) -> Any:
        check_instance_ids(instance_ids)
        return original(self, instance_ids, *args, **kwargs)

    return lookup


def install() -> None:
    """Patch moto's answers about missing resources. Safe to call repeatedly."""
    with _INSTALL_LOCK:
        wrap_once(FSxResponse, "describe_file_systems", _wrap_fsx_describe)
        # DescribeInstances goes through the first; Start/StopInstances through the second.
        wrap_once(InstanceBackend, "get_reservations_by_instance_ids", _wrap_instance_lookup)
        wrap_once(InstanceBackend, "get_multi_instances_by_id", _wrap_instance_lookup)
