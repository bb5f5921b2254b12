"""Who sent an order, and what proves it.

Anything a sender can type is a **hint**: a mail's From and Reply-To, an upload's
``X-Intake-Sender`` header, an EDI partner id inside a file that arrived by mail or by an
upload not bound to a partner. A hint may name the customer, but never with a score that
approves an order on its own (``Identity.hint_score``, below the approval threshold), and a
mailed order whose sender is not proven gets a blocking problem, so a person looks first.

**Evidence** comes from the channel, not from the content:

- the partner's own EDI folder (``<dir>/<partner>/in``) or an API key bound to the partner
  (``intake apikey create --partner``): the partner id is ``trusted_partner``;
- for mail, the receiving server's verdict: an ``Authentication-Results`` header (RFC 8601)
  whose authserv-id is in ``INTAKE_IDENTITY__TRUSTED_AUTHSERV_IDS`` and that says ``dkim=pass``
  (``header.d``), ``spf=pass`` (``smtp.mailfrom``) or ``dmarc=pass`` (``header.from``) for a
  domain aligned with the From domain. Then a From that is one of the customer's known
  addresses (``email_domains`` in the master data: an address or a domain) identifies the customer.

Problems (``identity_problems``), all blocking approval:

- ``unknown_sender``: a mailed order from an address that is not one of the customer's;
- ``unverified_sender``: from one of them, but nothing authenticated the mail;
- ``unverified_partner``: an EDI partner id that only the file itself claims;
- ``partner_mismatch``: the file names another partner than the channel it came through;
- ``unknown_ship_to``: the order ships to an address that is none of the customer's ship-tos.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from intake.core.domain import Channel, MatchedOrder, OrderDraft, Origin, Problem

__all__ = ["AuthVerdict", "authentication_verdict", "aligned", "known_address", "origin_of", "identity_problems",
           "mail_address", "SENDER_CODES"]

SENDER_ROLES = ("isa_sender", "gs_sender", "unb_sender", "BY", "OB")
"""The EDI partner ids (envelope and party roles) that say who sends a file."""

SENDER_CODES = frozenset({"unknown_sender", "unverified_sender", "unverified_partner", "partner_mismatch"})

_ADDR = re.compile(r"^[^@\s<>]+@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)$")
_RESULT = re.compile(r"\b(dkim|spf|dmarc)\s*=\s*([a-z]+)\b(.*)", re.I | re.S)
_PROP = re.compile(r"\b(header\.d|header\.i|header\.from|smtp\.mailfrom|smtp\.from|envelope-from)\s*=\s*\"?([^\s;\"]+)", re.I)


def mail_address(value: str | None) -> str | None:
    """The bare, lower-case address of a header value ("Buyer <b@x.example>" -> "b@x.example")."""
    if not value:
        return None
    _name, addr = email.utils.parseaddr(str(value))
    addr = addr.strip().strip("<>").lower()
    return addr if _ADDR.match(addr) else None


def _domain(addr_or_domain: str) -> str:
    v = addr_or_domain.strip().lower().lstrip("@")
    return v.rsplit("@", 1)[-1].rstrip(".")


_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "or", "ne", "go"})


def _registrable(domain: str) -> bool:
    """Whether ``domain`` can be someone's own domain: not a TLD ("com") nor a common
    second-level suffix ("co.uk", "com.au"). An approximation of the public suffix list."""
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    if len(labels) == 2 and len(labels[1]) == 2 and labels[0] in _SECOND_LEVEL:
        return False
    return True


def aligned(a: str, b: str) -> bool:
    """Relaxed DMARC alignment, approximated: the domains are equal or one is a subdomain of the
    other, and the shorter one is a registrable domain (never "com" or "co.uk")."""
    a, b = _domain(a), _domain(b)
    if not a or not b:
        return False
    short = min(a, b, key=len)
    if not _registrable(short):
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


@dataclass(frozen=True)
class AuthVerdict:
    verified: bool  # a trusted server authenticated a domain aligned with the From domain
    summary: str | None  # the trusted server's results, for the CSR ("dkim=pass header.d=x.example")


def _strip_comments(value: str) -> str:
    out, depth = [], 0
    for ch in value:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def authentication_verdict(headers: Iterable[str], from_addr: str | None, trusted_ids: Sequence[str]) -> AuthVerdict:
    """The verdict of the first (topmost) ``Authentication-Results`` header from a trusted server.

    Headers with another authserv-id are ignored: anyone can write one into a mail. Only the
    topmost trusted one counts (the receiving server adds its own on top).
    """
    trusted = {t.strip().lower() for t in trusted_ids if t.strip()}
    if not trusted:
        return AuthVerdict(False, None)
    from_domain = _domain(from_addr) if from_addr else ""
    for raw in headers:
        value = _strip_comments(" ".join(str(raw).split()))
        authserv, _, rest = value.partition(";")
        authserv = authserv.strip().split()[0].lower() if authserv.strip() else ""
        if authserv not in trusted:
            continue
        passed: list[str] = []
        verified = False
        for part in rest.split(";"):
            m = _RESULT.search(part)
            if not m:
                continue
            method, result, props = m.group(1).lower(), m.group(2).lower(), m.group(3)
            values = {k.lower(): v for k, v in _PROP.findall(props)}
            if result != "pass":
                passed.append(f"{method}={result}")
                continue
            dom = {"dkim": values.get("header.d") or values.get("header.i", ""),
                   "spf": values.get("smtp.mailfrom") or values.get("smtp.from") or values.get("envelope-from", ""),
                   "dmarc": values.get("header.from", "")}[method]
            passed.append(f"{method}=pass {dom}".strip())
            if dom and from_domain and aligned(dom, from_domain):
                verified = True
        summary = f"{authserv}: " + "; ".join(passed) if passed else f"{authserv}: no result"
        return AuthVerdict(verified, summary[:500])
    return AuthVerdict(False, None)


def known_address(addresses: Iterable[str], sender: str | None) -> str | None:
    """"address" when ``sender`` is one of ``addresses`` exactly, "domain" when its domain (or a
    parent of it) is listed, else None. ``addresses`` are master-data entries: ``x@y`` or ``y``."""
    addr = mail_address(sender) if sender and "@" in sender else None
    if addr is None:
        return None
    dom = _domain(addr)
    hit = None
    for entry in addresses:
        e = entry.strip().lower().lstrip("@")
        if not e:
            continue
        if "@" in e:
            if e == addr:
                return "address"
        elif dom == e or dom.endswith("." + e):
            hit = "domain"
    return hit


def origin_of(message: Any, draft: OrderDraft) -> Origin:
    """The Origin of an order from its ledger message (``MessageRow``) and its draft."""
    if message is None:
        return Origin(sender=draft.sender)
    channel = str(message.channel or "upload")
    mail_doc = bool(draft.sender and "@" in draft.sender)  # a mail's From read from an .eml
    if channel == Channel.imap.value:
        sender = getattr(message, "from_addr", None) or message.sender or draft.sender
    else:
        sender = draft.sender if mail_doc else message.sender
        if channel == Channel.edi_folder.value:
            sender = None  # the folder is the identity; its name is the trusted partner
    trusted = getattr(message, "trusted_partner", None)
    if channel == Channel.edi_folder.value and not trusted:
        trusted = message.sender  # rows stored before trusted_partner existed: the folder name
    return Origin(
        channel=channel, sender=sender, mail=channel == Channel.imap.value or mail_doc,
        sender_verified=bool(getattr(message, "sender_verified", False)) and channel == Channel.imap.value,
        sender_auth=getattr(message, "sender_auth", None), trusted_partner=trusted or None,
    )


def _claimed_partner(m: MatchedOrder, catalog: Any) -> tuple[str, str] | None:
    """(partner id, customer) that the file's own sender ids name, if any names a customer."""
    for role in SENDER_ROLES:
        pid = m.draft.partner_ids.get(role)
        owner = catalog.partner_customer(pid) if pid else None
        if pid and owner:
            return pid, owner
    return None


def identity_problems(m: MatchedOrder, catalog: Any) -> list[Problem]:
    """The identity problems of a matched order (see the module docstring). Needs master data."""
    out: list[Problem] = []
    origin = m.origin
    if origin is None or catalog is None or not m.masters_loaded:
        return out
    cust = catalog.customer(m.customer_id) if m.customer_id else None
    person_chose = m.customer_via == "csr"  # a CSR picked the customer: their decision, not a claim
    for note in m.identity_notes:
        if not person_chose:
            out.append(Problem(code="partner_mismatch", field="customer", message=note))
    if cust is not None and not person_chose:
        via = m.customer_via
        claimed = _claimed_partner(m, catalog) if not origin.trusted_partner else None
        if claimed is not None:
            pid, owner = claimed
            owner_row = catalog.customer(owner)
            vouched = origin.sender_verified and owner_row is not None and known_address(
                owner_row.email_domains, origin.sender) is not None  # an authenticated mail of that customer
            if owner != cust.customer_id:
                out.append(Problem(code="partner_mismatch", field="customer", message=(
                    f"the file says it is from EDI partner {pid} ({owner}), but the order was matched to "
                    f"{cust.customer_id}")))
            elif not vouched:
                out.append(Problem(code="unverified_partner", field="customer", message=(
                    f"the file says it is from EDI partner {pid} ({owner}), but it did not come through that "
                    "partner's EDI folder or a key bound to it: an id in a file can be typed by anyone")))
        elif via == "sender_hint":
            out.append(Problem(code="unverified_sender", field="customer", message=(
                f"only a header the sender typed ({origin.sender!r}) names {cust.customer_id}: a hint, not proof")))
        sender = origin.sender or "(no sender)"
        kind = known_address(cust.email_domains, origin.sender)
        if origin.mail and not origin.trusted_partner and kind is None:
            known = ", ".join(cust.email_domains[:3]) or "none on file"
            out.append(Problem(code="unknown_sender", field="customer", message=(
                f"the mail comes from {sender}, which is not one of {cust.customer_id}'s addresses ({known})")))
        elif kind is not None and not origin.sender_verified and not origin.trusted_partner and (
                origin.mail or via in ("email", "email_domain")):
            why = f" ({origin.sender_auth})" if origin.sender_auth else ""
            out.append(Problem(code="unverified_sender", field="customer", message=(
                f"the {'mail' if origin.mail else 'upload'} says it is from {sender}, one of {cust.customer_id}'s "
                f"addresses, but no trusted mail server authenticated it (DKIM/SPF){why}: a From address can be "
                "typed by anyone")))
    if m.ship_to_unknown and cust is not None:
        shown = m.draft.ship_to.value if isinstance(m.draft.ship_to.value, str) else ""
        out.append(Problem(code="unknown_ship_to", field="ship_to", message=(
            f"ship-to {(' '.join(shown.split()) or 'as printed')[:120]!r} is none of {cust.customer_id}'s ship-to "
            "addresses")))
    return out
