"""HMAC signatures: signed CDN URLs (``pbs``/``pbe``/``pbt``) and the emulator's own upload URLs.

CDN URLs are signed by the SDKs' ``sign_url``: ``pbs = hmac_sha256(apiSecret, message + pbe)``
with ``pbe`` in epoch seconds and ``pbt`` the org's access key. The SDKs disagree on the message
(docs/fidelity.md): Python and Go sign the URL path without its leading ``/``; JS,
PHP and C# sign ``path + "?" + query`` when there is a query, JS and PHP after ``encodeURI``. A
request is accepted when the signature matches any of those spellings.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

from .errors import UnauthorizedError

CDN_SIGNATURE_PARAMS = ("pbs", "pbe", "pbt")

# What JavaScript's encodeURI leaves alone, besides letters, digits and ``-_.~``.
_ENCODE_URI_SAFE = ";,/?:@&=+$!*'()#"


def hmac_hex(key: str, message: str) -> str:
    """Lowercase hex HMAC-SHA256, as ``pixelbin.utils.security.hmac_sha256`` computes it."""
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def matches(expected: str, given: str) -> bool:
    """Constant-time comparison that never raises (non-ASCII input simply does not match)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def encode_uri(text: str) -> str:
    """JavaScript's ``encodeURI`` (``%`` is escaped too, so encoded input is encoded again)."""
    return quote(text, safe=_ENCODE_URI_SAFE)


@dataclass(frozen=True, slots=True)
class CdnSignature:
    """The ``pbs``/``pbe``/``pbt`` of a request; ``present`` when any of them was sent."""

    pbs: str | None
    pbe: str | None
    pbt: str | None

    @classmethod
    def from_query(cls, query: str) -> CdnSignature:
        params = dict(parse_qsl(query, keep_blank_values=True))
        return cls(params.get("pbs"), params.get("pbe"), params.get("pbt"))

    @property
    def present(self) -> bool:
        return any(value is not None for value in (self.pbs, self.pbe, self.pbt))


def unsigned_query(query: str) -> str:
    """The raw query without ``pbs``/``pbe``/``pbt``, other items kept as sent and in order."""
    items = [item for item in query.split("&") if item]
    kept = [item for item in items if unquote(item.split("=", 1)[0]) not in CDN_SIGNATURE_PARAMS]
    return "&".join(kept)


def cdn_messages(paths: Iterable[str], query: str) -> list[str]:
    """Every message an SDK may have signed for a request to one of ``paths`` with ``query``.

    ``paths`` are spellings of the request path (as sent, and decoded); ``query`` is the raw
    query string of the request.
    """
    rest = unsigned_query(query)
    messages: dict[str, None] = {}
    for path in paths:
        bare = path.lstrip("/")
        for message in (bare, f"{bare}?{rest}" if rest else None):
            if message is not None:
                messages[message] = None
                messages[encode_uri(message)] = None
    return list(messages)


def verify_cdn_url(
    paths: Iterable[str],
    query: str,
    *,
    api_secret: str,
    access_key: str,
    now: float,
) -> None:
    """Raise :class:`UnauthorizedError` unless the request carries a valid, unexpired signature.

    ``now`` is the emulator clock (epoch seconds), so a frozen or advanced clock decides expiry.
    """
    signature = CdnSignature.from_query(query)
    if not (signature.pbs and signature.pbe and signature.pbt):
        raise UnauthorizedError("this asset is private: request it with a signed URL")
    if not matches(access_key, signature.pbt):
        raise UnauthorizedError("Invalid signature: pbt is not an access key of this org")
    try:
        expiry = int(signature.pbe)
    except ValueError:
        raise UnauthorizedError("Invalid signature: pbe must be an integer") from None
    if now > expiry:
        raise UnauthorizedError("Signed URL expired")
    valid = False
    for message in cdn_messages(paths, query):
        # Every candidate is compared, so the time taken does not say which one matched.
        valid |= matches(hmac_hex(api_secret, message + signature.pbe), signature.pbs)
    if not valid:
        raise UnauthorizedError("Invalid signature")


def sign_cdn_path(path: str, *, api_secret: str, access_key: str, expiry: int) -> str:
    """``path`` with ``pbs``/``pbe``/``pbt`` added, as the Python SDK's ``sign_url`` signs it
    (the path without its leading ``/``, then the expiry); for the dashboard's private files."""
    signature = hmac_hex(api_secret, path.lstrip("/") + str(expiry))
    return f"{path}?pbs={signature}&pbe={expiry}&pbt={quote(access_key, safe='')}"
