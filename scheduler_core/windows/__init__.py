"""Maintenance and backup windows: are they covered by a composition's schedule?

Pure analysis (``analyse_windows``, ``next_occurrences``) makes no AWS calls and
takes ``now`` as an argument; ``collect_windows`` reads the windows from AWS.
"""

from scheduler_core.cron import (
    CronExpressionError,
    LocalCron,
    Occurrence,
    next_occurrences,
)
from scheduler_core.windows.analysis import (
    DEFAULT_WEEKS,
    WindowAnalysis,
    WindowSchedule,
    analyse_windows,
    window_key,
)
from scheduler_core.windows.brackets import Bracket
from scheduler_core.windows.collect import (
    BackupPlans,
    BackupRule,
    collect_windows,
    read_backup_plans,
)
from scheduler_core.windows.resource_window import ResourceWindow
from scheduler_core.windows.running import Interval, RunningTime, running_time, scheduled_running
from scheduler_core.windows.selection import BackupSelection, TagCondition
from scheduler_core.windows.specs import BackupRuleWindow, DailyWindow, WeeklyWindow, WindowKind

__all__ = [
    "DEFAULT_WEEKS",
    "BackupPlans",
    "BackupRule",
    "BackupRuleWindow",
    "BackupSelection",
    "Bracket",
    "CronExpressionError",
    "DailyWindow",
    "Interval",
    "LocalCron",
    "Occurrence",
    "ResourceWindow",
    "RunningTime",
    "TagCondition",
    "WeeklyWindow",
    "WindowAnalysis",
    "WindowKind",
    "WindowSchedule",
    "analyse_windows",
    "collect_windows",
    "next_occurrences",
    "read_backup_plans",
    "running_time",
    "scheduled_running",
    "window_key",
]
