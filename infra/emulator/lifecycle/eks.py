"""EKS managed node groups: a scaling update takes time, and the nodes are real.

moto 5.2 applies ``UpdateNodegroupConfig`` at once and answers an update that is
already ``Successful``; it has no ``DescribeUpdate``, accepts any sizes, and names
an Auto Scaling group in ``resources.autoScalingGroups`` that does not exist. Here:

- an update is ``InProgress`` (``DescribeUpdate``) and the node group ``UPDATING``
  for ``eks.update`` base seconds, then ``Successful`` and ``ACTIVE``; another
  update meanwhile is refused with ``ResourceInUseException``;
- sizes are checked as EKS does (``maxSize`` >= 1, ``minSize`` <= ``desiredSize``
  <= ``maxSize``: ``InvalidParameterException``);
- a node group created with a launch template gets its Auto Scaling group, whose
  sizes each update sets (so its instances launch and terminate as ``autoscaling``
  emulates);
- each node group keeps its own scaling config (moto shares one default dict).

Faults name a node group ``cluster/nodegroup``: ``never_ready`` keeps it
``UPDATING``; ``ends_in(id, state)`` ends the update in ``state`` (``DEGRADED``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.emulator.lifecycle.clock import LOCK, duration, now
from infra.emulator.lifecycle.faults import is_held
from infra.emulator.lifecycle.transitions import begin, current, set_status, status_property
from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {"eks.update": 60}

UPDATING = "UPDATING"
_UPDATES = "_envctl_updates"
_UPDATE_PATH = "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$"


@dataclass
class _Update:
    answer: dict[str, Any]
    resource_id: str
    due: float

    def view(self) -> dict[str, Any]:
        done = not is_held(self.resource_id) and now() >= self.due
        return {**self.answer, "status": "Successful" if done else "InProgress"}


def _resource_id(nodegroup: Any) -> str:
    return f"{nodegroup.cluster_name}/{nodegroup.nodegroup_name}"


def _check_sizes(scaling: dict[str, int], current_sizes: dict[str, int]) -> None:
    from moto.eks.exceptions import InvalidParameterException

    sizes = {**current_sizes, **scaling}
    minimum, maximum, desired = sizes["minSize"], sizes["maxSize"], sizes["desiredSize"]
    if maximum < 1 or not minimum <= desired <= maximum:
        raise InvalidParameterException(
            clusterName=None,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=(
                f"Invalid scaling config: minSize {minimum}, maxSize {maximum}, "
                f"desiredSize {desired} (need 1 <= maxSize and minSize <= desiredSize <= maxSize)"
            ),
        )


def _auto_scaling_group(backend: Any, nodegroup: Any) -> Any:
    from moto.autoscaling.models import autoscaling_backends

    names = [group["name"] for group in nodegroup.resources["autoScalingGroups"]]
    groups = autoscaling_backends[backend.account_id][backend.region_name].autoscaling_groups
    return groups.get(names[0]) if names else None


def _create_auto_scaling_group(backend: Any, nodegroup: Any) -> None:
    from moto.autoscaling.models import autoscaling_backends

    template = nodegroup.launch_template or {}
    if not template.get("id"):
        return
    sizes = nodegroup.scaling_config
    autoscaling_backends[backend.account_id][backend.region_name].create_auto_scaling_group(
        name=nodegroup.resources["autoScalingGroups"][0]["name"],
        availability_zones=[f"{backend.region_name}a"],
        desired_capacity=sizes["desiredSize"],
        max_size=sizes["maxSize"],
        min_size=sizes["minSize"],
        launch_config_name="",
        launch_template={"LaunchTemplateId": template["id"]},
        vpc_zone_identifier=None,
        default_cooldown=None,
        health_check_period=None,
        health_check_type=None,
        load_balancers=[],
        target_group_arns=[],
        placement_group=None,
        termination_policies=[],
        tags=[],
    )


def _wrap_create(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_nodegroup(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.eks.models import DEFAULT_SCALING_CONFIG

        kwargs["scaling_config"] = dict(kwargs.get("scaling_config") or DEFAULT_SCALING_CONFIG)
        nodegroup = original(self, *args, **kwargs)
        _create_auto_scaling_group(self, nodegroup)
        return nodegroup

    return create_nodegroup


def _wrap_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_nodegroup_config(
        self: Any, cluster_name: str, nodegroup_name: str, **kwargs: Any
    ) -> dict[str, Any]:
        from moto.eks.exceptions import ResourceInUseException

        nodegroup = self.describe_nodegroup(cluster_name, nodegroup_name)
        if nodegroup.status == UPDATING:
            raise ResourceInUseException(
                clusterName=cluster_name,
                nodegroupName=nodegroup_name,
                addonName=None,
                message=f"Nodegroup {nodegroup_name} is currently being updated",
            )
        scaling = kwargs.get("scaling_config") or {}
        _check_sizes(scaling, nodegroup.scaling_config)
        answer: dict[str, Any] = original(self, cluster_name, nodegroup_name, **kwargs)
        resource_id = _resource_id(nodegroup)
        transition = begin(
            nodegroup, resource_id, UPDATING, duration("eks.update"), set_status(nodegroup)
        )
        with LOCK:
            nodegroup.__dict__.setdefault(_UPDATES, {})[answer["id"]] = _Update(
                answer, resource_id, transition.due
            )
        group = _auto_scaling_group(self, nodegroup)
        if group is not None and scaling:
            sizes = nodegroup.scaling_config
            group.min_size, group.max_size = sizes["minSize"], sizes["maxSize"]
            group.set_desired_capacity(sizes["desiredSize"])
        return {**answer, "status": "InProgress"}

    return update_nodegroup_config


def describe_update(
    self: Any, name: str, update_id: str, nodegroup_name: str | None = None
) -> dict[str, Any]:
    """``DescribeUpdate`` of a node group update (the only updates emulated)."""
    from moto.eks.exceptions import ResourceNotFoundException

    update = None
    if nodegroup_name:
        nodegroup = self.describe_nodegroup(name, nodegroup_name)
        current(nodegroup)  # settles the node group's status first
        update = nodegroup.__dict__.get(_UPDATES, {}).get(update_id)
    if update is None:
        raise ResourceNotFoundException(
            clusterName=name,
            nodegroupName=nodegroup_name,
            fargateProfileName=None,
            addonName=None,
            message=f"No update found for ID: {update_id}.",
        )
    view: dict[str, Any] = update.view()
    return view


def _describe_update_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    update = self.eks_backend.describe_update(
        name=self._get_param("name"),
        update_id=self._get_param("updateId"),
        nodegroup_name=self._get_param("nodegroupName"),
    )
    return ActionResult({"update": update})


def install() -> None:
    from moto.eks import urls
    from moto.eks.models import EKSBackend, Nodegroup
    from moto.eks.responses import EKSResponse

    status_property(Nodegroup, "status", _resource_id)
    wrap_once(EKSBackend, "create_nodegroup", _wrap_create)
    wrap_once(EKSBackend, "update_nodegroup_config", _wrap_update)
    if not hasattr(EKSBackend, "describe_update"):
        EKSBackend.describe_update = describe_update  # type: ignore[attr-defined]
        EKSResponse.describe_update = _describe_update_response  # type: ignore[attr-defined]
    urls.url_paths.setdefault(_UPDATE_PATH, urls.response.dispatch)
