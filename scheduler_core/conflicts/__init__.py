"""Conflicts: other schedules acting on the resources envctl manages.

The Terraform module envctl replaces could not see Auto Scaling scheduled actions,
Application Auto Scaling, other EventBridge Scheduler schedules or AWS Instance
Scheduler acting on the same resources, so their schedules contradicted each other
silently. ``finder.find_conflicts`` reads (never writes) and reports them for
``plan``, ``windows`` and Slack.

The modules here import no resource kind, and this package imports none of its
modules, so that kinds can use ``identity``, ``tags`` and ``scaling`` to say how
they meet other schedulers without an import cycle.
"""
