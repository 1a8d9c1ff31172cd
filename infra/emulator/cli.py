"""``envctl local``: the emulator in the foreground until interrupted."""

from __future__ import annotations

import threading

from infra.emulator import lifecycle
from infra.emulator.server import Emulator, region_from_environment


def run_local(
    *,
    port: int,
    speed: float | None = None,
    region: str | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Serve on 127.0.0.1:port and print how to point envctl at it.

    ``speed`` (else ``ENVCTL_EMULATOR_SPEED``, else 60: an RDS start takes 5 s) divides
    the time resources take to start and stop. ``region`` (else ``AWS_DEFAULT_REGION``
    or ``AWS_REGION``, else us-east-1) is the region the printed variables name.
    """
    emulator = Emulator(
        port=port,
        speed=lifecycle.speed_from(speed, lifecycle.DEMO_SPEED),
        region=region or region_from_environment(),
    )
    emulator.start()
    environment = emulator.environment()
    print(f"Local AWS emulator (moto) listening on {emulator.endpoint_url}")
    print("Step Functions executions run for real; roles and the envctl table exist.")
    print(
        f"Region: {emulator.region_name} (the envctl table and roles are created there "
        "on first use; any other region works too)"
    )
    speed = emulator.speed or 1
    rds_start = lifecycle.BASE_SECONDS["rds_instance.start"] / speed
    print(
        f"Resources take time to start and stop, {speed:g} times faster than in AWS "
        f"(an RDS start: {rds_start:.1f} s)."
    )
    print("Point envctl (or any AWS SDK) at it from another shell:")
    for name, value in environment.items():
        print(f"  export {name}={value}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        print("\nStopping the emulator.")
    finally:
        emulator.stop()
    return 0
