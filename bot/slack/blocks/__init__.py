"""Block Kit rendering for the Slack app (README "Slack"): pure, no Slack or AWS calls.

Every function returns plain dicts and lists as Slack's Web API expects them. Times
are passed in, shown in the composition's timezone with its abbreviation, and every
string that comes from users, config or AWS is mrkdwn-escaped so that it can never
ping ``@channel`` or forge a link. Slack's limits are kept in one place (``kit``).

- ``kit``: escaping, truncation, times, the basic blocks, the plain-text fallback;
- ``compositions``: the list, the App Home, help, status, schedule and history;
- ``windows``: maintenance/backup windows and their coverage;
- ``runs``: start/stop confirmation, progress and result;
- ``heads_up``: the message before a stop, with its Keep up and Stop now buttons.

The data types are imported for type checking only: this package sits on the ack
path and must not pull in boto3.
"""

from bot.slack.blocks.compositions import (
    CompositionRow,
    help_blocks,
    history_blocks,
    home_view,
    list_blocks,
    schedule_blocks,
    status_blocks,
)
from bot.slack.blocks.heads_up import heads_up_blocks
from bot.slack.blocks.kit import (
    STATE_EMOJI,
    Block,
    escape,
    local_time,
    plain_text_fallback,
    state_label,
)
from bot.slack.blocks.runs import confirmation_blocks, progress_blocks, result_blocks
from bot.slack.blocks.windows import windows_blocks

__all__ = [
    "STATE_EMOJI",
    "Block",
    "CompositionRow",
    "confirmation_blocks",
    "escape",
    "heads_up_blocks",
    "help_blocks",
    "history_blocks",
    "home_view",
    "list_blocks",
    "local_time",
    "plain_text_fallback",
    "progress_blocks",
    "result_blocks",
    "schedule_blocks",
    "state_label",
    "status_blocks",
    "windows_blocks",
]
