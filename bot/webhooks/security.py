"""API keys (several, named, compared in constant time) and source-IP allowlists."""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.secrets import resolve_secret
from scheduler_core.exceptions import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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


@dataclass(frozen=True, kw_only=True)
class WebhookSettings:
    api_keys: dict[str, str] = field(default_factory=dict)
    ip_allowlist: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        values = os.environ if env is None else env
        keys_setting = values.get("ENVCTL_WEBHOOK_API_KEYS", "")
        allowlist = values.get("ENVCTL_WEBHOOK_IP_ALLOWLIST", "")
        return cls(
            api_keys=parse_api_keys(resolve_secret(keys_setting)) if keys_setting else {},
            ip_allowlist=parse_networks(
                filter(None, allowlist.split(",")), setting="ENVCTL_WEBHOOK_IP_ALLOWLIST"
            ),
        )


def key_name(presented: str | None, keys: Mapping[str, str]) -> str | None:
    """The name of the key presented, or None. Every key is compared, in constant time."""
    if not presented:
        return None
    found = None
    for name, key in keys.items():
        # No early exit: the time taken must not depend on which key matched.
        if hmac.compare_digest(presented.encode("utf-8"), key.encode("utf-8")):
            found = name
    return found


def allowed(source_ip: str, networks: Iterable[Network]) -> bool:
    """Is ``source_ip`` in one of the networks (an empty allowlist allows any source)?"""
    networks = tuple(networks)
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(address in network for network in networks if network.version == address.version)
