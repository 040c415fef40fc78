"""Payment wallets (PayPal, Alipay, USDT…) and how each writes its account ids.

An extensible registry like the platforms one: ``register_wallet_provider`` adds or replaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from alliance.indicators.account_id import AccountIdRule, registry_key

_EMAIL_OR_HANDLE = r"[a-z0-9._%+@-]{1,128}"
_EMAIL_OR_PHONE = r"\+?[a-z0-9._%+@-]{1,128}"


@dataclass(frozen=True, slots=True)
class WalletProvider:
    slug: str
    name: str
    account_id: AccountIdRule
    aliases: tuple[str, ...] = ()


def _fold_bitcoin(address: str) -> str:
    # Bech32 addresses ignore case (QR codes carry them upper case); base58 ones do not.
    return address.lower() if address[:3].lower() == "bc1" else address


INITIAL_WALLET_PROVIDERS = (
    WalletProvider(
        "paypal",
        "PayPal",
        AccountIdRule(
            "the account's e-mail address or PayPal.Me name",
            pattern=_EMAIL_OR_HANDLE,
            case_sensitive=False,
            prefixes=(
                "https://www.paypal.me/",
                "https://paypal.me/",
                "www.paypal.me/",
                "paypal.me/",
                "@",
            ),
        ),
    ),
    WalletProvider(
        "alipay",
        "Alipay",
        AccountIdRule(
            "the account's e-mail address or phone number",
            pattern=_EMAIL_OR_PHONE,
            case_sensitive=False,
        ),
        aliases=("zhifubao",),
    ),
    WalletProvider(
        "wechat_pay",
        "WeChat Pay",
        AccountIdRule("the WeChat ID or phone number", pattern=r"\+?[A-Za-z0-9_-]{5,32}"),
        aliases=("weixin pay",),
    ),
    WalletProvider(
        "payoneer",
        "Payoneer",
        AccountIdRule(
            "the account's e-mail address or customer id",
            pattern=_EMAIL_OR_HANDLE,
            case_sensitive=False,
        ),
    ),
    WalletProvider(
        "wise",
        "Wise",
        AccountIdRule(
            "the account's e-mail address or Wisetag",
            pattern=_EMAIL_OR_HANDLE,
            case_sensitive=False,
            prefixes=("@",),
        ),
        aliases=("transferwise",),
    ),
    WalletProvider(
        "skrill",
        "Skrill",
        AccountIdRule(
            "the account's e-mail address", pattern=_EMAIL_OR_HANDLE, case_sensitive=False
        ),
    ),
    WalletProvider(
        "venmo",
        "Venmo",
        AccountIdRule(
            "the Venmo user name",
            pattern=r"[a-z0-9_-]{1,30}",
            case_sensitive=False,
            prefixes=("@",),
        ),
    ),
    WalletProvider(
        "cashapp",
        "Cash App",
        AccountIdRule(
            "the $Cashtag", pattern=r"[a-z0-9]{1,20}", case_sensitive=False, prefixes=("$",)
        ),
    ),
    WalletProvider(
        "revolut",
        "Revolut",
        AccountIdRule(
            "the Revtag", pattern=r"[a-z0-9._-]{1,32}", case_sensitive=False, prefixes=("@",)
        ),
    ),
    WalletProvider(
        "usdt_trc20",
        "USDT (TRC-20)",
        AccountIdRule(
            "a TRON address: T and 33 base58 characters", pattern=r"T[1-9A-HJ-NP-Za-km-z]{33}"
        ),
        aliases=("trc20", "tron"),
    ),
    WalletProvider(
        "ethereum",
        "Ethereum / ERC-20",
        AccountIdRule(
            "an address: 0x and 40 hex digits", pattern=r"0x[0-9a-f]{40}", case_sensitive=False
        ),
        aliases=("usdt_erc20", "erc20", "eth"),
    ),
    WalletProvider(
        "bitcoin",
        "Bitcoin",
        AccountIdRule(
            "a Bitcoin address",
            pattern=r"[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{11,87}",
            fold=_fold_bitcoin,
        ),
        aliases=("btc",),
    ),
)

_registry: dict[str, WalletProvider] = {}
_names: dict[str, str] = {}


def register_wallet_provider(provider: WalletProvider) -> None:
    """Add a wallet provider, or replace the one with the same slug."""
    if not re.fullmatch(r"[a-z0-9_]+", provider.slug):
        raise ValueError(
            f"wallet provider slug {provider.slug!r} must be lowercase letters, digits and _"
        )
    _registry[provider.slug] = provider
    for name in (provider.slug, provider.name, *provider.aliases):
        _names[registry_key(name)] = provider.slug


def find_wallet_provider(name: str) -> WalletProvider | None:
    slug = _names.get(registry_key(name))
    return _registry.get(slug) if slug else None


def registered_wallet_providers() -> MappingProxyType[str, WalletProvider]:
    return MappingProxyType(_registry)


for _provider in INITIAL_WALLET_PROVIDERS:
    register_wallet_provider(_provider)
