"""Start and stop: the confirmation, the progress message, and the result of a run."""

from __future__ import annotations

from datetime import timedelta

from bot.slack.blocks.kit import (
    ELLIPSIS,
    MAX_MESSAGE_BLOCKS,
    Block,
    actions,
    bold,
    button,
    code_block,
    context,
    error_code,
    escape,
    mention,
    plain,
    section,
)
from scheduler_core.durations import format_duration

_VERB_FORMS = {"start": ("starting", "started"), "stop": ("stopping", "stopped")}


def _elapsed(seconds: float) -> str:
    # format_duration drops seconds; a run of a few minutes reads better with them.
    total = max(0, round(seconds))
    minutes, rest = divmod(total, 60)
    if total < 60 or total >= 3600:
        return format_duration(timedelta(seconds=total))
    return f"{minutes}m {rest}s" if rest else f"{minutes}m"


def _forms(action: str) -> tuple[str, str]:
    if action in _VERB_FORMS:
        return _VERB_FORMS[action]
    stem = action.removesuffix("e")
    return f"{stem}ing", f"{stem}ed"


# --- start/stop: confirm, progress, result ---------------------------------------------


def confirmation_blocks(
    *,
    composition: str,
    action: str,
    detail: str,
    warnings: list[str],
    protected: bool,
    value: str,
) -> list[Block]:
    """The ephemeral "Start *staging*?" with warnings and Confirm/Cancel buttons.

    Protected compositions get a danger Confirm button behind a confirm dialog.

    Raises:
        ValueError: ``value`` is longer than Slack allows (2000 characters).
    """
    question = f"{escape(action.capitalize())} {bold(composition)}?"
    blocks = [section(f"{question}\n{escape(detail)}" if detail else question)]
    room = MAX_MESSAGE_BLOCKS - 3
    shown = warnings if len(warnings) <= room + 1 else warnings[:room]
    blocks += [section(f"⚠️ {escape(warning)}") for warning in shown]
    if len(shown) < len(warnings):
        blocks.append(context(f"{ELLIPSIS}and {len(warnings) - len(shown)} more warnings"))
    dialog = None
    if protected:
        dialog = {
            "title": plain(f"{action.capitalize()} {composition}?", 100),
            "text": plain(f"{composition} is protected. Do you really want to {action} it?", 300),
            "confirm": plain(f"Yes, {action}", 30),
            "deny": plain("Cancel", 30),
            "style": "danger",
        }
    confirm = button(
        "Confirm",
        action_id="env_confirm",
        value=value,
        style="danger" if protected else "primary",
        confirm=dialog,
    )
    cancel = button("Cancel", action_id="env_cancel", value=value)
    return [*blocks, actions("env_confirmation", confirm, cancel)]


def progress_blocks(
    *, user_id: str, composition: str, action: str, joined: bool = False
) -> list[Block]:
    """``<@U1> is starting *staging*…`` while the execution runs.

    ``joined``: the user asked while a run of the same action was already going (not
    started by them): ``*staging* is already starting (<@U1> asked too)…``.
    """
    doing, _ = _forms(action)
    if joined:
        text = f"🔄 {bold(composition)} is already {escape(doing)} ({mention(user_id)} asked too)"
    else:
        text = f"🔄 {mention(user_id)} is {escape(doing)} {bold(composition)}"
    return [section(text + ELLIPSIS), context("This message is updated when the run ends.")]


def result_blocks(
    *,
    user_id: str | None,
    composition: str,
    action: str,
    succeeded: bool,
    seconds: float,
    error: str | None,
    cause: str | None,
    running: bool,
    value: str,
) -> list[Block]:
    """The outcome of a run; on a running composition, Stop and Extend 1h buttons.

    Raises:
        ValueError: ``value`` is longer than Slack allows (2000 characters).
    """
    _, done = _forms(action)
    by = f" (by {mention(user_id)})" if user_id else ""
    if succeeded:
        blocks = [section(f"✅ {bold(composition)} {escape(done)} in {_elapsed(seconds)}{by}")]
    else:
        prefix = f"❌ {bold(composition)} could not be {escape(done)}"
        code = error_code(error)
        if cause:
            text = code_block(f"{prefix}: {code}\n" if code else f"{prefix}: ", cause)
        else:
            text = f"{prefix}: {code}" if code else f"{prefix}."
        blocks = [section(text), context(f"after {_elapsed(seconds)}{by}")]
    if running:
        stop = button("Stop", action_id="env_stop", value=value, style="danger")
        extend = button("Extend 1h", action_id="env_extend", value=value)
        blocks.append(actions("env_running", stop, extend))
    return blocks
