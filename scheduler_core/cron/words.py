"""AWS cron expressions in words, for people (``envctl schedule``, Slack)."""

from __future__ import annotations

from cron_descriptor import ExpressionDescriptor, Options  # type: ignore[import-untyped]  # no stubs

from scheduler_core.cron.expression import ON_DEMAND


def describe_cron(expression: str) -> str:
    """``0 8 ? * MON-FRI *`` → ``At 08:00, Monday through Friday``.

    AWS cron has no seconds field and numbers weekdays 1-7 from Sunday, which is the
    Quartz convention cron-descriptor understands once a seconds field is prepended.
    """
    if expression == ON_DEMAND:
        return "on demand only"
    options = Options()
    options.day_of_week_start_index_zero = False
    options.use_24hour_time_format = True
    try:
        return str(ExpressionDescriptor(f"0 {expression}", options).get_description())
    except Exception:  # a description is a nicety: never fail a command over it
        return expression
