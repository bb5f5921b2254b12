"""Write an order as an e-mail (.eml): typed in the body in free wording, or attached as a
PDF or XLSX with a short cover note.

Body labels follow the text convention of :mod:`training.synth.labels` on the decoded
text/plain body; for an attached order the labels are those of the attachment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from training.synth.families import Family
from training.synth.generator import Order, fmt_date, fmt_number, fmt_qty
from training.synth.labels import LabelledPage, LabelledWord, text_words

__all__ = ["EmailParts", "body_lines", "build_eml"]

Seg = tuple[str, str, "int | None"]

_GREET = {
    "en": ["Hi {s},", "Hello {s} team,", "Dear {s},", "Hi,"],
    "de": ["Hallo {s},", "Sehr geehrte Damen und Herren,", "Guten Tag,"],
    "fr": ["Bonjour,", "Madame, Monsieur,", "Bonjour {s},"],
    "es": ["Hola,", "Estimados señores de {s}:", "Buenos días,"],
    "nl": ["Beste {s},", "Goedemiddag,", "Hallo,"],
}
_INTRO = {
    "en": ["please send us the following:", "we would like to order:", "please accept our order for:",
           "could you please ship:"],
    "de": ["bitte liefern Sie uns folgende Artikel:", "wir bestellen hiermit:", "anbei unsere Bestellung:"],
    "fr": ["merci de nous livrer :", "veuillez trouver ci-dessous notre commande :", "nous souhaitons commander :"],
    "es": ["les rogamos nos envíen lo siguiente:", "queremos pedir:", "por favor sírvannos:"],
    "nl": ["graag bestellen wij het volgende:", "kunt u ons het volgende leveren:", "hierbij onze bestelling:"],
}
_PO = {"en": ["Our PO number:", "PO:", "Please reference PO"], "de": ["Unsere Bestellnummer:", "Bestell-Nr.:"],
       "fr": ["Notre n° de commande :", "Réf. commande :"], "es": ["Nuestro número de pedido:", "Pedido n.º"],
       "nl": ["Ons ordernummer:", "Inkoopordernummer:"]}
_DELIVER = {"en": "Please deliver by", "de": "Bitte liefern bis", "fr": "Livraison souhaitée le",
            "es": "Entrega antes del", "nl": "Graag leveren voor"}
_TO = {"en": "Ship to:", "de": "Lieferadresse:", "fr": "Adresse de livraison :", "es": "Dirección de entrega:",
       "nl": "Afleveradres:"}
_EACH = {"en": ("at", "each"), "de": ("zu je", ""), "fr": ("à", "l'unité"), "es": ("a", "cada uno"),
         "nl": ("à", "per stuk")}
_ITEM = {"en": "item", "de": "Art.-Nr.", "fr": "réf.", "es": "ref.", "nl": "art."}
_TERMS = {"en": "Payment terms:", "de": "Zahlungsziel:", "fr": "Paiement :", "es": "Pago:", "nl": "Betaling:"}
_PRICES_IN = {"en": "All prices in", "de": "Alle Preise in", "fr": "Prix en", "es": "Precios en",
              "nl": "Alle prijzen in"}
_TOTAL = {"en": "Total:", "de": "Summe:", "fr": "Total :", "es": "Total:", "nl": "Totaal:"}
_BYE = {"en": ["Thanks,", "Best regards,", "Kind regards,"], "de": ["Viele Grüße", "Mit freundlichen Grüßen"],
        "fr": ["Cordialement,", "Bien à vous,"], "es": ["Saludos,", "Un saludo,"],
        "nl": ["Met vriendelijke groet,", "Groeten,"]}
_COVER = {
    "en": "Please find attached our purchase order {po}. Kindly confirm receipt.",
    "de": "Anbei erhalten Sie unsere Bestellung {po}. Bitte bestätigen Sie den Eingang.",
    "fr": "Veuillez trouver ci-joint notre commande {po}. Merci d'en accuser réception.",
    "es": "Adjuntamos nuestro pedido {po}. Rogamos confirmen la recepción.",
    "nl": "In de bijlage vindt u onze inkooporder {po}. Graag een ontvangstbevestiging.",
}
_SUBJECT = {"en": "Purchase order {po}", "de": "Bestellung {po}", "fr": "Commande {po}", "es": "Pedido {po}",
            "nl": "Inkooporder {po}"}


def _short_desc(desc: str) -> str:
    # People type the product, not the catalogue text: keep the part before the first comma.
    return desc.split(",")[0]


def body_lines(order: Order, fam: Family, r: random.Random) -> tuple[list[list[Seg]], list[str]]:
    """The typed order as lines of labelled segments, and the description typed per line."""
    o, f, lang = order, fam, fam.lang
    L: list[list[Seg]] = []
    greet = r.choice(_GREET[lang])
    if "{s}" in greet:
        pre, post = greet.split("{s}")
        L.append([(pre.strip(), "O", None), (o.supplier.name, "supplier", None), (post.strip(), "O", None)]
                 if post.strip() not in ("", ",", ":") else
                 [(pre.strip(), "O", None), (o.supplier.name + post.strip(), "supplier", None)])
    else:
        L.append([(greet, "O", None)])
    L.append([])
    po_first = r.random() < 0.5
    po_line: list[Seg] = [(r.choice(_PO[lang]), "O", None), (o.po_number, "po_number", None)]
    if po_first:
        L.append(po_line)
        L.append([])
    L.append([(r.choice(_INTRO[lang]), "O", None)])
    L.append([])
    style = r.randrange(4)
    descs: list[str] = []
    at, each = _EACH[lang]
    for i, ln in enumerate(o.lines):
        d = _short_desc(ln.description)
        descs.append(d)
        q = fmt_qty(ln.quantity, f)
        p = fmt_number(ln.unit_price, f.number_style, ln.price_decimals)
        if style == 0:
            segs: list[Seg] = [(q, "quantity", i), ("x", "O", None), (ln.sku, "sku", i), (d, "description", i),
                               (at, "O", None), (p, "unit_price", i)] + ([(each, "O", None)] if each else [])
        elif style == 1:
            segs = [("-", "O", None), (ln.sku + ":", "sku", i), (q, "quantity", i), (ln.uom, "uom", i),
                    (d, "description", i), ("@", "O", None), (p, "unit_price", i)]
        elif style == 2:
            segs = [(q, "quantity", i), (ln.uom, "uom", i), (d, "description", i), (f"({_ITEM[lang]}", "O", None),
                    (ln.sku + ")", "sku", i)]
        else:
            segs = [(f"{ln.sku:<18}", "sku", i), (f"{q:>8}", "quantity", i), (f"{ln.uom:<7}", "uom", i), (d, "description", i)]
        L.append(segs)
    L.append([])
    if style in (0, 1) and r.random() < 0.6:
        L.append([(_PRICES_IN[lang], "O", None), (o.currency + ".", "currency", None)])
    if not po_first:
        L.append(po_line)
    if f.show_requested or r.random() < 0.5:
        L.append([(_DELIVER[lang], "O", None),
                  (fmt_date(o.requested_date, f.date_style, lang), "requested_date", None)])
    if r.random() < 0.6:
        L.append([(_TO[lang], "O", None)])
        for s in o.ship_to.lines:
            L.append([(s, "ship_to", None)])
    if f.show_terms and r.random() < 0.5:
        L.append([])
        L.append([(_TERMS[lang], "O", None), (o.payment_terms, "payment_terms", None)])
    L.append([])
    L.append([(r.choice(_BYE[lang]), "O", None)])
    L.append([(o.contact, "O", None)])
    for s in o.buyer.lines:
        L.append([(s, "buyer", None)])
    if r.random() < 0.6:
        L.append([(f"Tel. +{r.randrange(1, 49)} {r.randrange(100, 999)} {r.randrange(100000, 9999999)}", "O", None)])
    return L, descs


def _layout(lines: list[list[Seg]]) -> tuple[str, LabelledPage]:
    """Join segments with single spaces and label the words by the segment they start in."""
    texts: list[str] = []
    spans: list[list[tuple[int, int, str, int | None]]] = []
    for segs in lines:
        pos, parts, sp = 0, [], []
        for text, lab, line in segs:
            if not text:
                continue
            if parts:
                pos += 1
            parts.append(text)
            sp.append((pos, pos + len(text), lab, line))
            pos += len(text)
        texts.append(" ".join(parts).rstrip())
        spans.append(sp)
    body = "\n".join(texts) + "\n"
    width, height, words = text_words(body)
    out = []
    for text, box, li, k in words:
        lab, line = "O", None
        for a, b, sl, sline in spans[li] if li < len(spans) else []:
            if a <= k < b:
                lab, line = sl, sline
                break
        out.append(LabelledWord(text, box, lab, line))
    return body, LabelledPage(width, height, out)


@dataclass
class EmailParts:
    data: bytes
    pages: list[LabelledPage]
    source: str  # "text" for a typed body, else the attachment's convention ("pdf", "grid")
    attachment: str | None
    descriptions: list[str] | None  # descriptions as typed, for a typed body


def build_eml(order: Order, fam: Family, r: random.Random, name: str,
              attachment: tuple[str, bytes, list[LabelledPage], str] | None = None) -> EmailParts:
    """Build the .eml: a typed order when ``attachment`` is None, else a cover note with
    ``attachment = (filename, bytes, labelled pages, source convention)``."""
    o, lang = order, fam.lang
    msg = EmailMessage()
    dom_b = "".join(ch for ch in o.buyer.name.split()[0].lower() if ch.isascii() and ch.isalnum()) or "buyer"
    dom_s = "".join(ch for ch in o.supplier.name.split()[0].lower() if ch.isascii() and ch.isalnum()) or "supplier"
    person = "".join(ch for ch in o.contact.split()[0].lower() if ch.isascii() and ch.isalpha()) or "orders"
    msg["From"] = f"{o.contact} <{person}@{dom_b}.example>"
    msg["To"] = f"orders@{dom_s}.example"
    msg["Subject"] = _SUBJECT[lang].format(po=o.po_number)
    when = datetime(o.order_date.year, o.order_date.month, o.order_date.day, 8 + r.randrange(9), r.randrange(60))
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{name}@synth.invalid>"
    if attachment is None:
        lines, descs = body_lines(order, fam, r)
        body, page = _layout(lines)
        msg.set_content(body, charset="utf-8")
        return EmailParts(msg.as_bytes(), [page], "text", None, descs)
    fname, data, pages, source = attachment
    greet = r.choice(_GREET[lang]).replace("{s}", o.supplier.name)
    note = f"{greet}\n\n{_COVER[lang].format(po=o.po_number)}\n\n{r.choice(_BYE[lang])}\n{o.contact}\n"
    msg.set_content(note, charset="utf-8")
    if fname.endswith(".pdf"):
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=fname)
    else:
        msg.add_attachment(data, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=fname)
    msg.set_boundary(f"=_synth_{name}")
    return EmailParts(msg.as_bytes(), pages, source, fname, None)
