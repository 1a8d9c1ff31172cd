"""API keys (several, named, compared in constant time), source-IP allowlists, and the
bounded reading of what a caller sends (JSON bodies, Idempotency-Key headers).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from scheduler_core.exceptions import BadInputError, ConfigError
from scheduler_core.text import is_plain

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# A start or stop body is one flat object; 20 levels leave room for any client's
# envelope while staying far below the interpreter's recursion limit.
MAX_JSON_DEPTH = 20
# Beyond 20 digits an integer no longer fits in 64 bits (and JavaScript callers lose
# precision long before); no field of the API is a number anyway.
MAX_INT_DIGITS = 20
MAX_IDEMPOTENCY_KEY = 255
EXECUTION_PREFIX = "webhook-"


def parse_api_keys(text: str) -> dict[str, str]:
    """``name=key,name2=key2`` → {name: key}; names go into the audit log, keys never do."""
    keys: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, separator, key = entry.partition("=")
        if not separator or not name.strip() or not key.strip():
            raise ConfigError(
                "ENVCTL_WEBHOOK_API_KEYS: expected name=key pairs separated by commas"
            )
        keys[name.strip()] = key.strip()
    return keys


def parse_networks(values: Iterable[str], *, setting: str) -> tuple[Network, ...]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(f"{setting}: {value!r} is not an IPv4/IPv6 address or CIDR") from exc
    return tuple(networks)


def key_name(presented: str | None, keys: Mapping[str, str]) -> str | None:
    """The name of the key presented, or None. Every key is compared, in constant time."""
    if not presented or not isinstance(presented, str):
        return None
    # A header may carry lone surrogates (JSON escapes in the event); they can never
    # match a configured key, but encoding them must not fail.
    offered = presented.encode("utf-8", errors="surrogatepass")
    found = None
    for name, key in keys.items():
        # No early exit: the time taken must not depend on which key matched.
        if hmac.compare_digest(offered, key.encode("utf-8")):
            found = name
    return found


def allowed(source_ip: str, networks: Iterable[Network]) -> bool:
    """Is ``source_ip`` in one of the networks (an empty allowlist allows any source)?"""
    networks = tuple(networks)
    if not networks:
        return True
    if not isinstance(source_ip, str):
        return False
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(address in network for network in networks if network.version == address.version)


# --- what callers send ---------------------------------------------------------------


class MalformedBodyError(ValueError):
    """The body is not JSON this API reads; the message says what was wrong."""


def nesting_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does ``text`` open more than ``limit`` nested arrays/objects (outside strings)?

    One linear pass with a counter, so that a body of ``[`` x 5000 is refused before
    the recursive JSON parser ever sees it.
    """
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse_constant(name: str) -> NoReturn:
    raise MalformedBodyError(f"the body contains {name}, which is not a JSON number")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise MalformedBodyError(
            f"the body contains an integer of more than {MAX_INT_DIGITS} digits"
        )
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedBodyError("the body contains a number too large for a 64-bit float")
    return value


def parse_json_body(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of ``text``, bounded in nesting depth and in its numbers.

    Raises:
        MalformedBodyError: not JSON, nested deeper than ``max_depth``, NaN/Infinity,
            an integer of more than MAX_INT_DIGITS digits or a float out of range.
    """
    if nesting_exceeds(text, max_depth):
        raise MalformedBodyError(f"the body nests arrays or objects deeper than {max_depth} levels")
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except MalformedBodyError:
        raise
    except json.JSONDecodeError as exc:
        raise MalformedBodyError(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):
        # The pre-scan bounds depth, so this is only a last resort for what it missed.
        raise MalformedBodyError("the body is not JSON that this API can read") from None


def check_idempotency_key(value: object) -> str:
    """The Idempotency-Key header unchanged when it is 1-255 plain characters.

    Raises:
        BadInputError: naming the header and what is allowed.
    """
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_IDEMPOTENCY_KEY
        or not is_plain(value)
    ):
        raise BadInputError(
            f"Idempotency-Key: expected 1 to {MAX_IDEMPOTENCY_KEY} printable characters "
            "without control characters"
        )
    return value


def execution_name(caller: str, idempotency_key: str) -> str:
    """The Step Functions execution name an Idempotency-Key stands for.

    Deterministic, so a retry after any failure names the same execution; scoped by
    the API key's name, so two callers choosing the same key never share a run.
    Step Functions allows 1-80 characters of [A-Za-z0-9_-]: a hex digest fits.
    """
    material = f"{caller}:{idempotency_key}".encode("utf-8", errors="surrogatepass")
    return EXECUTION_PREFIX + hashlib.sha256(material).hexdigest()[:40]
