"""``envctl demo``: the whole story on a laptop, in well under a minute.

Starts the emulator in this process, creates the resources that
``examples/compositions.yaml`` names (with maintenance and backup windows), applies
the config (state machines, office-hours schedules, window brackets), shows the
schedule and the window analysis, then stops the ``staging`` composition from the
CLI and starts it again from Slack (``envctl slack``: signed requests to the Slack
app, the confirmation, the Confirm click, the result message), showing status,
then delivers the heads-up before its auto-stop and clicks Keep up 1h.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from infra.emulator import lifecycle
from infra.emulator.server import Emulator, region_from_environment
from infra.slack.cli import run_heads_up

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "compositions.yaml"
PLACEHOLDER_INSTANCE = "i-0123456789abcdef0"
COMPOSITION = "staging"
HEADS_UP = "(heads-up)"


def next_weekday() -> date:
    """Tomorrow in Amsterdam, or the next Monday to Friday after it: a day staging starts."""
    day = datetime.now(ZoneInfo("Europe/Amsterdam")).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def create_demo_resources(emulator: Emulator) -> dict[str, str]:
    """Create what the staging composition manages; returns ids moto chose."""
    rds = emulator.client("rds")
    # Windows in UTC, as RDS keeps them: Sunday night and a nightly backup fall outside
    # office hours (apply brackets them); Wednesday 10:00 UTC is inside them.
    rds.create_db_cluster(
        DBClusterIdentifier="staging-db",
        Engine="aurora-postgresql",
        MasterUsername="envctl",
        MasterUserPassword="demo-password-1",
        PreferredMaintenanceWindow="sun:03:00-sun:03:30",
        PreferredBackupWindow="01:00-01:30",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="staging-reporting",
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="envctl",
        MasterUserPassword="demo-password-1",
        PreferredMaintenanceWindow="wed:10:00-wed:10:30",
        PreferredBackupWindow="12:00-12:30",
    )
    emulator.client("redshift").create_cluster(
        ClusterIdentifier="staging-warehouse",
        NodeType="ra3.xlplus",
        ClusterType="single-node",
        MasterUsername="envctl",
        MasterUserPassword="Demo-password-1",
        PreferredMaintenanceWindow="sat:22:00-sat:22:30",
    )
    ecs = emulator.client("ecs")
    ecs.create_cluster(clusterName="shop")
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "nginx", "memory": 256}]
    )
    ecs.create_service(cluster="shop", serviceName="api", taskDefinition="api", desiredCount=2)
    ec2 = emulator.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="shop-workers",
        LaunchTemplateData={"ImageId": image, "InstanceType": "t4g.small"},
    )
    emulator.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="shop-workers",
        LaunchTemplate={"LaunchTemplateName": "shop-workers"},
        MinSize=1,
        MaxSize=4,
        DesiredCapacity=2,
        AvailabilityZones=[f"{emulator.region_name}a"],
    )
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t4g.small")
    return {"ec2_instance": instance["Instances"][0]["InstanceId"]}


def _keep_serving(config: Path, port: int, say: Any, region: str) -> int:
    """Leave the demo's AWS up and serve the Slack app and the webhooks on it."""
    import secrets

    from infra.serve import run_serve

    key = secrets.token_hex(16)
    os.environ["ENVCTL_WEBHOOK_API_KEYS"] = f"demo={key}"
    say("The demo environment stays up. In another shell:")
    say(f"  export KEY={key} API=http://127.0.0.1:{port}/webhooks")
    say(f"  export AWS_ENDPOINT_URL={os.environ['AWS_ENDPOINT_URL']} AWS_DEFAULT_REGION={region}")
    say("  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing")
    say(f"  export ENVCTL_CONFIG={config}")
    return run_serve(port=port, config_path=str(config))


def run_demo(*, say: Any = print, serve_port: int | None = None) -> int:
    """Run the demo; returns the exit code of the first failing command, else 0."""
    from scheduler_core.cli.main import main

    began = time.monotonic()
    say("== envctl demo: everything runs locally, no AWS account needed ==\n")
    # Slow enough that starts and stops visibly take time (an RDS start: 5 s).
    speed = lifecycle.speed_from(None, lifecycle.DEMO_SPEED)
    # The region the session names (AWS_DEFAULT_REGION, AWS_REGION), else us-east-1.
    with Emulator(speed=speed, region=region_from_environment()) as emulator:
        say(
            f"1. Started the local AWS emulator (moto) on {emulator.endpoint_url} in "
            f"{emulator.region_name}; resources take time to start and stop, {speed:g} "
            "times faster than in AWS"
        )
        os.environ.update(emulator.environment())
        ids = create_demo_resources(emulator)
        say(
            "2. Created the demo resources: RDS cluster staging-db, RDS instance "
            "staging-reporting, Redshift cluster staging-warehouse, ECS service shop/api, "
            f"Auto Scaling group shop-workers, EC2 instance {ids['ec2_instance']}"
        )
        with tempfile.TemporaryDirectory() as scratch:
            config = Path(scratch) / "compositions.yaml"
            holiday = next_weekday()
            config.write_text(
                EXAMPLE.read_text()
                .replace(PLACEHOLDER_INSTANCE, ids["ec2_instance"])
                .replace('dates: ["', f'dates: ["{holiday.isoformat()}", "', 1)
            )
            say(
                f"3. Using {EXAMPLE.relative_to(EXAMPLE.parents[1])} (EC2 ids are random "
                f"in the emulator, so {PLACEHOLDER_INSTANCE} became {ids['ec2_instance']}; "
                f"{holiday:%a %d %b} is added to its holiday calendar, so that this week's "
                "schedule shows one)\n"
            )
            steps = [
                "validate",
                "apply",
                f"schedule {COMPOSITION}",
                f"windows {COMPOSITION}",
                "plan",
                f"status {COMPOSITION}",
                f"stop {COMPOSITION} --wait",
                f"status {COMPOSITION}",
                # The Slack app, as Slack would call it: signed requests over HTTP, a
                # confirmation, the Confirm click, the result message.
                f"status {COMPOSITION} --json",
                f'slack "/env start {COMPOSITION} for 2h" --user U0ALICE --confirm',
                f'slack "/env status {COMPOSITION}" --user U0ALICE',
                f'slack "/env history {COMPOSITION}" --user U0ALICE',
                # The heads-up before the auto-stop, and a click on Keep up 1h.
                HEADS_UP,
                f"schedule {COMPOSITION}",
            ]
            for step in steps:
                if step == HEADS_UP:
                    say("# 15 minutes before the auto-stop, the team's channel is told:")
                    code = run_heads_up(COMPOSITION, user="U0BOB", config_path=str(config), say=say)
                    say("")
                    if code != 0:
                        return code
                    continue
                say(f"$ envctl {step}", flush=True)
                code = main([*shlex.split(step), "--config", str(config)])
                say("")
                if code != 0:
                    say(f"The demo stopped: `envctl {step}` exited with {code}.")
                    return code
            if serve_port is not None:
                return _keep_serving(config, serve_port, say, emulator.region_name)
    say(f"== Demo finished in {time.monotonic() - began:.0f}s. Next: README.md ==")
    return 0
