"""SageMaker notebook instances: ``Pending`` → ``InService``, ``Stopping`` → ``Stopped``.

moto 5.2 moves a notebook instance to ``InService`` or ``Stopped`` inside the call and
accepts a start or stop from any state. Here a start takes ``sagemaker.start`` base
seconds in ``Pending``, a stop ``sagemaker.stop`` in ``Stopping``; as in SageMaker, a
start from anything but ``Stopped`` or ``Failed``, or a stop from anything but
``InService``, is refused with ``ValidationException``. Creating one is not a start:
it is ``InService`` at once. ``ends_in(name, "Failed")`` ends the next transition in
``Failed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.emulator.lifecycle.clock import duration
from infra.emulator.lifecycle.transitions import begin, set_status, status_property
from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {"sagemaker.start": 300, "sagemaker.stop": 120}


def _wrap(verb: str, sources: tuple[str, ...], via: str) -> Callable[[Any], Any]:
    from moto.sagemaker.exceptions import ValidationError

    def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def action(self: Any, notebook_instance_name: str) -> None:
            instance = self.get_notebook_instance(notebook_instance_name)
            if instance.status not in sources:
                allowed = ", ".join(sources)
                raise ValidationError(
                    message=(
                        f"Status ({instance.status}) not in ([{allowed}]). Unable to "
                        f"transition to ({via}) for Notebook Instance ({instance.arn})"
                    )
                )
            original(self, notebook_instance_name)
            begin(
                instance,
                notebook_instance_name,
                via,
                duration(f"sagemaker.{verb}"),
                set_status(instance),
            )

        return action

    return wrapper


def install() -> None:
    from moto.sagemaker.models import FakeSagemakerNotebookInstance, SageMakerModelBackend

    status_property(
        FakeSagemakerNotebookInstance, "status", lambda instance: instance.notebook_instance_name
    )
    wrap_once(
        SageMakerModelBackend,
        "start_notebook_instance",
        _wrap("start", ("Stopped", "Failed"), "Pending"),
    )
    wrap_once(
        SageMakerModelBackend, "stop_notebook_instance", _wrap("stop", ("InService",), "Stopping")
    )
