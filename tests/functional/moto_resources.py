"""Create real resources in the emulator and read their state back with boto3.

Reads here deliberately use boto3 directly, not envctl's own status code, so the
tests check the effect of the state machines independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.emulator.server import Emulator


@dataclass(frozen=True)
class Created:
    """A resource in the emulator: its config item and how to read its state."""

    item: dict[str, Any]
    read: Any  # () -> str: a word that names the state ("running"/"stopped"/...)


_IMAGES: dict[str, str] = {}


def image_id(em: Emulator) -> str:
    """An AMI id; listing every AMI takes seconds in moto, so once per emulator."""
    if em.endpoint_url not in _IMAGES:
        _IMAGES[em.endpoint_url] = em.client("ec2").describe_images()["Images"][0]["ImageId"]
    return _IMAGES[em.endpoint_url]


def rds_cluster(em: Emulator, name: str, *, members: int = 0) -> Created:
    """An Aurora cluster; ``members`` DB instances ``{name}-1``... join it."""
    rds = em.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="envctl",
        MasterUserPassword="password-123",
    )
    for number in range(1, members + 1):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-{number}",
            DBClusterIdentifier=name,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
        )

    def read() -> str:
        return rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"]

    return Created({"type": "rds_cluster", "params": {"id": name}}, read)


def docdb_cluster(em: Emulator, name: str, *, members: int = 1) -> Created:
    """A DocumentDB cluster (through the docdb API); ``members`` instances ``{name}-1``..."""
    docdb = em.client("docdb")
    docdb.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="docdb",
        MasterUsername="envctl",
        MasterUserPassword="password-123",
    )
    for number in range(1, members + 1):
        docdb.create_db_instance(
            DBInstanceIdentifier=f"{name}-{number}",
            DBClusterIdentifier=name,
            Engine="docdb",
            DBInstanceClass="db.r6g.large",
        )

    def read() -> str:
        return docdb.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"]

    return Created({"type": "docdb_cluster", "params": {"id": name}}, read)


def neptune_cluster(em: Emulator, name: str, *, members: int = 1) -> Created:
    """A Neptune DB cluster (through the neptune API); ``members`` instances ``{name}-1``..."""
    neptune = em.client("neptune")
    neptune.create_db_cluster(DBClusterIdentifier=name, Engine="neptune")
    for number in range(1, members + 1):
        neptune.create_db_instance(
            DBInstanceIdentifier=f"{name}-{number}",
            DBClusterIdentifier=name,
            Engine="neptune",
            DBInstanceClass="db.r6g.large",
        )

    def read() -> str:
        return neptune.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"]

    return Created({"type": "neptune_cluster", "params": {"id": name}}, read)


def rds_instance(em: Emulator, name: str) -> Created:
    rds = em.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="envctl",
        MasterUserPassword="password-123",
    )

    def read() -> str:
        found = rds.describe_db_instances(DBInstanceIdentifier=name)
        return found["DBInstances"][0]["DBInstanceStatus"]

    return Created({"type": "rds_instance", "params": {"id": name}}, read)


def redshift_cluster(em: Emulator, name: str) -> Created:
    redshift = em.client("redshift")
    redshift.create_cluster(
        ClusterIdentifier=name,
        NodeType="ra3.xlplus",
        ClusterType="single-node",
        MasterUsername="envctl",
        MasterUserPassword="Password-123",
    )

    def read() -> str:
        return redshift.describe_clusters(ClusterIdentifier=name)["Clusters"][0]["ClusterStatus"]

    return Created({"type": "redshift_cluster", "params": {"id": name}}, read)


def ec2_instance(em: Emulator, name: str) -> Created:
    ec2 = em.client("ec2")
    image = image_id(em)
    instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]

    def read() -> str:
        found = ec2.describe_instances(InstanceIds=[instance_id])
        return found["Reservations"][0]["Instances"][0]["State"]["Name"]

    return Created({"type": "ec2_instance", "params": {"id": instance_id}}, read)


def ecs_service(em: Emulator, name: str, *, desired: int = 2) -> Created:
    ecs = em.client("ecs")
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(
        family=name, containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}]
    )
    ecs.create_service(cluster=name, serviceName="api", taskDefinition=name, desiredCount=desired)

    def read() -> str:
        service = ecs.describe_services(cluster=name, services=["api"])["services"][0]
        return f"{service['runningCount']}/{service['desiredCount']}"

    item = {
        "type": "ecs_service",
        "params": {"cluster_name": name, "name": "api", "desired": str(desired)},
    }
    return Created(item, read)


def auto_scaling_group(em: Emulator, name: str, *, desired: int = 2) -> Created:
    ec2 = em.client("ec2")
    image = image_id(em)
    ec2.create_launch_template(
        LaunchTemplateName=name, LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )
    autoscaling = em.client("autoscaling")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": name},
        MinSize=1,
        MaxSize=4,
        DesiredCapacity=desired,
        AvailabilityZones=[f"{autoscaling.meta.region_name}a"],
    )

    def read() -> str:
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        group = group["AutoScalingGroups"][0]
        in_service = sum(1 for i in group["Instances"] if i["LifecycleState"] == "InService")
        sizes = f"{group['MinSize']}/{group['MaxSize']}/{group['DesiredCapacity']}"
        return f"{sizes} {in_service} in service"

    item = {
        "type": "auto_scaling_group",
        "params": {"name": name, "min": 1, "max": 4, "desired": desired},
    }
    return Created(item, read)


def efs_file_system(em: Emulator, name: str, *, mibps: float = 64) -> Created:
    efs = em.client("efs")
    system = efs.create_file_system(
        CreationToken=name, ThroughputMode="provisioned", ProvisionedThroughputInMibps=mibps
    )
    system_id = system["FileSystemId"]

    def read() -> str:
        found = efs.describe_file_systems(FileSystemId=system_id)["FileSystems"][0]
        return f"{found['ProvisionedThroughputInMibps']:g}"

    item = {
        "type": "efs_file_system",
        "params": {"id": system_id, "provisioned_throughput_in_mibps": mibps},
    }
    return Created(item, read)


def fsx_windows_file_system(em: Emulator, name: str, *, throughput: int = 64) -> Created:
    fsx = em.client("fsx")
    system = fsx.create_file_system(
        FileSystemType="WINDOWS",
        StorageCapacity=32,
        SubnetIds=["subnet-0123456789abcdef0"],
        WindowsConfiguration={"ThroughputCapacity": throughput},
        Tags=[{"Key": "Name", "Value": name}],
    )["FileSystem"]
    system_id = system["FileSystemId"]

    def read() -> str:
        found = fsx.describe_file_systems(FileSystemIds=[system_id])["FileSystems"][0]
        return str(found["WindowsConfiguration"]["ThroughputCapacity"])

    item = {
        "type": "fsx_windows_file_system",
        "params": {"id": system_id, "throughput_capacity": throughput},
    }
    return Created(item, read)


def eks_nodegroup(em: Emulator, name: str, *, desired: int = 2) -> Created:
    """A node group ``workers`` of cluster ``name``, launched from a launch template so
    that the emulator gives it its Auto Scaling group."""
    ec2 = em.client("ec2")
    ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={"ImageId": image_id(em), "InstanceType": "t3.micro"},
    )
    eks = em.client("eks")
    eks.create_cluster(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": ["subnet-0123456789abcdef0"]},
    )
    eks.create_nodegroup(
        clusterName=name,
        nodegroupName="workers",
        nodeRole="arn:aws:iam::123456789012:role/eks-node",
        subnets=["subnet-0123456789abcdef0"],
        scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": desired},
        launchTemplate={"name": name},
    )

    def read() -> str:
        group = eks.describe_nodegroup(clusterName=name, nodegroupName="workers")["nodegroup"]
        sizes = group["scalingConfig"]
        return f"{group['status']} {sizes['minSize']}/{sizes['maxSize']}/{sizes['desiredSize']}"

    item = {
        "type": "eks_nodegroup",
        "params": {"cluster_name": name, "name": "workers", "min": 1, "max": 4, "desired": desired},
    }
    return Created(item, read)


def sagemaker_notebook_instance(em: Emulator, name: str) -> Created:
    sagemaker = em.client("sagemaker")
    sagemaker.create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.t3.medium",
        RoleArn="arn:aws:iam::123456789012:role/sagemaker",
    )

    def read() -> str:
        found = sagemaker.describe_notebook_instance(NotebookInstanceName=name)
        return str(found["NotebookInstanceStatus"])

    return Created({"type": "sagemaker_notebook_instance", "params": {"name": name}}, read)
