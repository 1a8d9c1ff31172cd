"""Registry of resource kinds, keyed by the ``type`` of a compositions-file item.

Adding a kind is one module implementing ``ResourceKind`` plus one line here.
"""

from __future__ import annotations

from scheduler_core.resources.auto_scaling_group import AutoScalingGroup
from scheduler_core.resources.base import Action, ResourceKind, ResourceState, ResourceStatus
from scheduler_core.resources.docdb_cluster import DocdbCluster
from scheduler_core.resources.ec2_instance import Ec2Instance
from scheduler_core.resources.ecs_service import EcsService
from scheduler_core.resources.efs_file_system import EfsFileSystem
from scheduler_core.resources.eks_nodegroup import EksNodegroup
from scheduler_core.resources.fsx_windows_file_system import FsxWindowsFileSystem
from scheduler_core.resources.neptune_cluster import NeptuneCluster
from scheduler_core.resources.rds_cluster import RdsCluster
from scheduler_core.resources.rds_instance import RdsInstance
from scheduler_core.resources.redshift_cluster import RedshiftCluster
from scheduler_core.resources.sagemaker_notebook_instance import SagemakerNotebookInstance
from scheduler_core.resources.wait import Wait

REGISTRY: dict[str, ResourceKind] = {
    kind.type_name: kind
    for kind in (
        AutoScalingGroup(),
        DocdbCluster(),
        Ec2Instance(),
        EcsService(),
        EfsFileSystem(),
        EksNodegroup(),
        FsxWindowsFileSystem(),
        NeptuneCluster(),
        RdsCluster(),
        RdsInstance(),
        RedshiftCluster(),
        SagemakerNotebookInstance(),
        Wait(),
    )
}

__all__ = ["REGISTRY", "Action", "ResourceKind", "ResourceState", "ResourceStatus"]
