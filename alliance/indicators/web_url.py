"""Storefront and listing URLs in one form.

Scheme and host lowercase, the host in IDNA A-labels, default ports, user names, passwords and
fragments dropped, tracking parameters dropped and the rest sorted, percent-encoding in one
form (unreserved characters decoded, other escapes in upper case, non-ASCII encoded as UTF-8),
dot segments resolved. Parsing follows what a browser does with the same text (WHATWG URL): a
backslash is a slash, any number of slashes may follow the scheme, the last ``@`` ends the user
part, tabs and newlines are ignored. So ``https://nike.com@evil.example/`` is a URL on
``evil.example`` and ``https://nike.com\\@evil.example/`` one on ``nike.com``, as a browser
opens them (a parser that keeps the backslash would see ``evil.example`` in the second).

Only http and https are accepted; text without a scheme is taken as https.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote

from alliance.indicators.domain_name import normalise_host
from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.public_suffix import registrable_domain
from alliance.indicators.text_input import remove_ignorables, require_text
from alliance.indicators.tracking_parameters import is_tracking_parameter

MAX_URL_LENGTH = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}

_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_PATH_SAFE = _UNRESERVED + "!$&'()*+,;=:@/"
# In a query name or value "&", "=", "+" and "#" stay escaped: they delimit.
_QUERY_SAFE = _UNRESERVED + "!$'()*,;:@/?"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_HTTP_SCHEME = re.compile(r"(https?):", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    scheme: str
    host: str  # A-label domain, dotted IPv4, or bracketed IPv6
    host_is_ip: bool
    port: int | None
    path: str
    query: str

    @property
    def authority(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return (
            f"{self.scheme}://{self.authority}{self.path}{'?' + self.query if self.query else ''}"
        )


def _invalid(why: str) -> InvalidIndicator:
    return InvalidIndicator("value", IndicatorErrorCode.INVALID_URL, why)


def _normalise_escapes(text: str, safe: str) -> str:
    """One percent-encoding: escapes of unreserved characters decoded, other escapes kept in
    upper case, a stray ``%`` escaped, every other character outside ``safe`` UTF-8 encoded."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%":
            match = _ESCAPE.match(text, i)
            if match:
                decoded = chr(int(match.group(1), 16))
                out.append(decoded if decoded in _UNRESERVED else "%" + match.group(1).upper())
                i += 3
                continue
            out.append("%25")
        elif char in safe:
            out.append(char)
        else:
            out.append(quote(char, safe="", encoding="utf-8", errors="strict"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on an absolute path."""
    output: list[str] = []
    segments = path.split("/")[1:]
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def _normalise_path(path: str) -> str:
    if not path:
        return "/"
    return _remove_dot_segments(_normalise_escapes(path, _PATH_SAFE))


def _normalise_query(query: str) -> str:
    params: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        # Form encoding: "+" is a space, written here as %20.
        name = _normalise_escapes(name.replace("+", "%20"), _QUERY_SAFE)
        value = _normalise_escapes(value.replace("+", "%20"), _QUERY_SAFE)
        if not name or is_tracking_parameter(unquote(name)):
            continue
        params.append((name, value))
    params.sort()
    return "&".join(f"{name}={value}" if value else name for name, value in params)


def _normalise_port(text: str, scheme: str) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.INVALID_PORT,
            "has a port that is not a number from 0 to 65535",
        )
    port = int(text)
    return None if port == DEFAULT_PORTS[scheme] else port


def _normalise_url_host(text: str) -> tuple[str, bool]:
    """The host and whether it is an IP address."""
    try:
        host = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise _invalid("has a host with percent-escapes that are not UTF-8") from None
    if host.startswith("["):
        if not host.endswith("]"):
            raise _invalid("has an IPv6 address without its closing bracket")
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _invalid("has a host in brackets that is not an IPv6 address") from None
        return f"[{address.compressed}]", True
    if not host:
        raise _invalid("has no host")
    folded = unicodedata.normalize("NFKC", host).rstrip(".")  # fullwidth digits are digits
    last = folded.split(".")[-1]
    if last.isascii() and last.isdigit():
        try:
            return str(ipaddress.IPv4Address(folded)), True
        except ValueError:
            raise _invalid("has a numeric host that is not an IPv4 address") from None
    return normalise_host(host), False


def _split_scheme(text: str) -> tuple[str, str]:
    http = _HTTP_SCHEME.match(text)
    if http:
        return http.group(1).lower(), text[http.end() :]
    if text.startswith("//"):
        return "https", text
    other = _SCHEME.match(text)
    # "example.com:8080/x" is a host and port, not a scheme; "ftp:" or "javascript:" is a scheme.
    if other and "." not in other.group(1) and not text[other.end() :][:1].isdigit():
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.UNSUPPORTED_SCHEME,
            f"uses the {other.group(1).lower()!r} scheme; only http and https URLs are accepted",
        )
    return "https", text


def parse_url(value: object) -> ParsedUrl:
    text = require_text(value, field="value", max_length=MAX_URL_LENGTH)
    text = remove_ignorables(text).strip()
    text = re.sub(r"[\t\n\r]", "", text).replace("\\", "/")
    if not text:
        raise InvalidIndicator("value", IndicatorErrorCode.EMPTY, "is empty")
    scheme, rest = _split_scheme(text)
    rest = rest.lstrip("/")
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, rest = rest[:authority_end], rest[authority_end:]
    authority = authority.rpartition("@")[2]
    if authority.startswith("[") and "]" in authority:
        host, _, port_text = authority.partition("]")
        host += "]"
        if port_text and not port_text.startswith(":"):
            raise _invalid("has text after its IPv6 address")
        port_text = port_text[1:]
    else:
        host, colon, port_text = authority.rpartition(":")
        if not colon:
            host, port_text = port_text, ""
    if " " in host:
        raise _invalid("has a space in its host")
    rest = rest.partition("#")[0]
    path, _, query = rest.partition("?")
    host, host_is_ip = _normalise_url_host(host)
    return ParsedUrl(
        scheme=scheme,
        host=host,
        host_is_ip=host_is_ip,
        port=_normalise_port(port_text, scheme),
        path=_normalise_path(path),
        query=_normalise_query(query),
    )


def normalise_web_url(value: object, indicator_type: IndicatorType) -> Normalised:
    url = parse_url(value)
    keys = [("host", url.host)]
    if not url.host_is_ip:
        domain = registrable_domain(url.host)
        if domain:
            keys.insert(0, ("registrable_domain", domain))
    location = str(url).split("://", 1)[1]
    keys.append(("location", location))
    return Normalised(indicator_type, str(url), tuple(keys), (("scheme", url.scheme),))
