"""A real HTTP server on 127.0.0.1 that answers the Slack Web API methods a bot uses.

``slack_sdk.WebClient(base_url=mock.url)`` talks to it over a socket, so tests exercise
the same serialisation, headers and error handling as production. Slack's
``response_url`` endpoints are served too, because Bolt's ``respond()`` posts there.

Block Kit is checked as Slack checks it (``infra.slack.block_kit``, slack_sdk's
models): a call with blocks or a view Slack would refuse is answered
``invalid_blocks`` (a ``response_url`` post: HTTP 400, as Slack answers) and kept in
``invalid``, which the tests' fixtures require to be empty.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Condition, Thread
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.slack.block_kit import payload_problems

TEAM_ID = "T0MOCK"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
API_PREFIX = "/api/"
RESPONSE_URL_PREFIX = "/response_url/"
# Methods whose bodies are what the bot said, in the order ``messages()`` reports them.
MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})
RESPONSE_URL_METHOD = "response_url"

Params = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class RecordedCall:
    """One request the mock received, and what it answered."""

    method: str  # Web API method ("chat.postMessage") or "response_url"
    http_method: str  # GET or POST
    path: str  # "/api/chat.postMessage", "/response_url/abc"
    headers: dict[str, str]  # last value wins; includes Authorization
    body: Params  # JSON or form body, merged over query-string parameters
    response: Params  # the JSON the mock answered with


@dataclass
class MockSlackApi:
    """Slack's Web API on a free loopback port, recording every call.

    Use as a context manager or with ``start()``/``stop()``; the settings below may be
    changed while it runs.
    """

    bot_token: str = "xoxb-mock"  # any other token gets invalid_auth
    usergroups: dict[str, list[str]] = field(default_factory=dict)  # id -> member ids
    user_names: dict[str, str] = field(default_factory=dict)  # users.info; default: id.lower()
    channel_names: dict[str, str] = field(default_factory=dict)  # conversations.info
    # (method, problems) of every call whose Block Kit Slack would have refused.
    invalid: list[tuple[str, list[str]]] = field(default_factory=list, init=False)
    _calls: list[RecordedCall] = field(default_factory=list, init=False, repr=False)
    _changed: Condition = field(default_factory=Condition, init=False, repr=False)
    _ts_counter: int = field(default=0, init=False, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False, repr=False)
    _thread: Thread | None = field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("MockSlackApi is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The Web API root, as ``WebClient(base_url=...)`` expects it (trailing slash)."""
        return f"{self.base_url}{API_PREFIX}"

    def response_url(self, response_id: str = "1") -> str:
        """The full URL to put in a signed request's ``response_url`` field."""
        return f"{self.base_url}{RESPONSE_URL_PREFIX}{response_id}"

    def start(self) -> MockSlackApi:
        """Bind a free port and serve in a daemon thread; returns self."""
        handler = type("BoundHandler", (_Handler,), {"mock": self})
        # Port 0 lets the kernel pick a free port atomically, so parallel runs never clash.
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll keeps stop() fast: shutdown() waits for the loop's next poll.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = Thread(target=serve, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> MockSlackApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Recorded calls in arrival order, optionally only those to ``method``."""
        with self._changed:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self) -> list[Params]:
        """Bodies of postMessage/update/postEphemeral and response_url posts, in order."""
        wanted = MESSAGE_METHODS | {RESPONSE_URL_METHOD}
        return [c.body for c in self.calls() if c.method in wanted]

    def clear(self) -> None:
        """Forget every recorded call (configuration is kept)."""
        with self._changed:
            self._calls.clear()

    def wait_for(
        self, predicate: Callable[[list[RecordedCall]], bool], timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Block until ``predicate(calls)`` holds (lazy listeners answer asynchronously).

        Returns the snapshot of calls that satisfied it; raises ``TimeoutError`` listing
        the methods received if ``timeout`` seconds pass first.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self._calls)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    received = [c.method for c in self._calls]
                    raise TimeoutError(f"condition not met within {timeout}s; got {received}")
                self._changed.wait(remaining)
            return list(self._calls)

    def _record(self, call: RecordedCall) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def _next_ts(self) -> str:
        # Real ts values are unique per channel and sort by time; one counter keeps both.
        with self._changed:
            self._ts_counter += 1
            micros = 1_700_000_000_000_000 + self._ts_counter * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _is_authorised(self, headers: dict[str, str], params: Params) -> bool:
        bearer = headers.get("Authorization", "").removeprefix("Bearer ")
        return self.bot_token in (bearer, params.get("token"))

    def _answer(self, method: str, params: Params) -> Params:
        answer = _ANSWERS.get(method)
        if answer is None:
            return {"ok": False, "error": "unknown_method"}
        return answer(self, params)


AUTH_TEST = {
    "ok": True,
    "url": "https://mock.slack.com/",
    "team": "Mock Team",
    "user": "envctl",
    "team_id": TEAM_ID,
    "user_id": BOT_USER_ID,
    "bot_id": BOT_ID,
    "is_enterprise_install": False,
}


def _bot_message(ts: str, params: Params) -> Params:
    sender = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "team": TEAM_ID}
    blocks = _decode(params.get("blocks", []))
    return {**sender, "ts": ts, "text": params.get("text", ""), "blocks": blocks}


def _post_message(mock: MockSlackApi, params: Params) -> Params:
    ts = mock._next_ts()
    return {
        "ok": True,
        "channel": params.get("channel"),
        "ts": ts,
        "message": _bot_message(ts, params),
    }


def _chat_update(mock: MockSlackApi, params: Params) -> Params:
    ts = params.get("ts")
    return {
        "ok": True,
        "channel": params.get("channel"),
        "ts": ts,
        "text": params.get("text", ""),
        "message": _bot_message(str(ts), params),
    }


def _views_publish(mock: MockSlackApi, params: Params) -> Params:
    view = _decode(params.get("view", {}))
    view_id = f"V0MOCK{mock._next_ts().replace('.', '')[-6:]}"
    return {"ok": True, "view": {**view, "id": view_id, "team_id": TEAM_ID, "bot_id": BOT_ID}}


def _usergroup_members(mock: MockSlackApi, params: Params) -> Params:
    usergroup = params.get("usergroup")
    if usergroup not in mock.usergroups:
        return {"ok": False, "error": "no_such_subteam"}
    return {"ok": True, "users": list(mock.usergroups[usergroup])}


def _users_info(mock: MockSlackApi, params: Params) -> Params:
    user_id = str(params.get("user", ""))
    name = mock.user_names.get(user_id, user_id.lower())
    user = {"id": user_id, "team_id": TEAM_ID, "name": name, "real_name": name}
    return {"ok": True, "user": {**user, "is_bot": False, "profile": {"display_name": name}}}


def _conversations_info(mock: MockSlackApi, params: Params) -> Params:
    channel_id = str(params.get("channel", ""))
    name = mock.channel_names.get(channel_id, channel_id.lower())
    return {
        "ok": True,
        "channel": {"id": channel_id, "name": name, "is_channel": True, "is_private": False},
    }


_ANSWERS: dict[str, Callable[[MockSlackApi, Params], Params]] = {
    "auth.test": lambda _mock, _params: dict(AUTH_TEST),
    "chat.postMessage": _post_message,
    "chat.update": _chat_update,
    "chat.postEphemeral": lambda mock, _params: {"ok": True, "message_ts": mock._next_ts()},
    "views.publish": _views_publish,
    "usergroups.users.list": _usergroup_members,
    "users.info": _users_info,
    "conversations.info": _conversations_info,
    # A DM with the user: its id is derived from theirs, as stable as Slack's.
    "conversations.open": lambda _mock, params: {
        "ok": True,
        "channel": {"id": "D" + str(params.get("users", "")).removeprefix("U")},
    },
}


def _decode(value: Any) -> Any:
    """Form-encoded calls carry blocks/views as JSON strings; JSON calls carry objects."""
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def _parse_body(raw: bytes, content_type: str) -> Params:
    text = raw.decode("utf-8")
    if text and content_type.startswith("application/json"):
        return dict(json.loads(text))
    return dict(parse_qsl(text, keep_blank_values=True))


class _Handler(BaseHTTPRequestHandler):
    mock: MockSlackApi  # bound per server by MockSlackApi.start()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; calls are recorded instead."""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = _parse_body(self.rfile.read(length), self.headers.get("Content-Type", ""))
        params = {**dict(parse_qsl(split.query, keep_blank_values=True)), **body}
        headers = dict(self.headers.items())
        response: dict[str, Any]
        problems = payload_problems(params)
        if problems:
            method = (
                RESPONSE_URL_METHOD
                if split.path.startswith(RESPONSE_URL_PREFIX)
                else split.path.removeprefix(API_PREFIX)
            )
            self.mock.invalid.append((method, problems))
            if method == RESPONSE_URL_METHOD:
                self.send_error(400, "invalid_blocks")
                return
            self._send_json({"ok": False, "error": "invalid_blocks", "errors": problems})
            return
        if split.path.startswith(RESPONSE_URL_PREFIX):
            # Slack does not authenticate response_url posts: the URL itself is the secret.
            method, response = RESPONSE_URL_METHOD, {"ok": True}
        elif split.path.startswith(API_PREFIX):
            method = split.path.removeprefix(API_PREFIX)
            if self.mock._is_authorised(headers, params):
                response = self.mock._answer(method, params)
            else:
                response = {"ok": False, "error": "invalid_auth"}
        else:
            self.send_error(404)
            return
        self.mock._record(
            RecordedCall(
                method=method,
                http_method=self.command,
                path=split.path,
                headers=headers,
                body=params,
                response=response,
            )
        )
        self._send_json(response)

    do_GET = do_POST = _handle

    def _send_json(self, payload: Params) -> None:
        data = json.dumps(payload).encode("utf-8")
        # Slack answers API errors with HTTP 200 and ok=false; slack_sdk relies on that.
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
