"""The catalog from the database, the customers' order history in the ledger, and learned
cross-references: the I/O side of matching (the matching itself is ``intake.core.matching``).

    load_catalog(session)   all master data, one query per table, as a ``Catalog``
    LedgerHistory           a customer's past APPROVED/DELIVERED orders, read lazily and cached
    CatalogCache            one ``Catalog``, rebuilt only when the master data changed
    learn_xref(...)         a CSR's pick becomes the customer's cross-reference
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from intake.core.matching import Catalog, Customer, CustomerPrice, Product, ShipTo, normalize_key
from intake.core.units import as_number
from intake.service.masters import (
    CustomerItemRow,
    CustomerRow,
    LearnedXrefRow,
    MasterDataError,
    OrderHistoryRow,
    PriceRow,
    ProductRow,
    ShipToRow,
)
from intake.service.models import OrderRow

__all__ = ["load_catalog", "LedgerHistory", "CatalogCache", "learn_xref"]

log = logging.getLogger("intake.matching")


class LedgerHistory:
    """The lines of a customer's past APPROVED/DELIVERED orders in the ledger, read lazily, one
    customer at a time, and kept until that customer's orders change.

    Bounded: the ``max_orders`` most recent orders of the customer. Each look-up costs one small
    indexed query (count and latest update of the customer's orders); the lines themselves are
    read again only when that changed.
    """

    STATUSES = ("APPROVED", "DELIVERED")

    def __init__(self, engine: Engine, *, max_orders: int = 200) -> None:
        self._engine, self.max_orders = engine, max_orders
        self._cache: dict[str, tuple[tuple[Any, ...], dict[str, list[tuple[float, str | None]]]]] = {}
        self._lock = threading.Lock()

    def of(self, customer_id: str) -> dict[str, list[tuple[float, str | None]]]:
        """sku -> (quantity in the product's unit, PO number) of the customer's past orders."""
        where = (OrderRow.customer_id == customer_id, OrderRow.status.in_(self.STATUSES))
        try:
            with Session(self._engine) as s:
                key = tuple(s.execute(select(func.count(), func.max(OrderRow.updated_at)).where(*where)).one())
                with self._lock:
                    hit = self._cache.get(customer_id)
                if hit is not None and hit[0] == key:
                    return hit[1]
                out: dict[str, list[tuple[float, str | None]]] = {}
                if key[0]:
                    rows = s.execute(select(OrderRow.po_number, OrderRow.record).where(*where)
                                     .order_by(OrderRow.updated_at.desc()).limit(self.max_orders))
                    for po, record in rows:
                        for ln in (record or {}).get("lines", []) or []:
                            sku, qty = ln.get("sku"), as_number(ln.get("quantity"))
                            if sku and qty is not None and qty > 0:
                                out.setdefault(str(sku), []).append((float(qty), po))
        except SQLAlchemyError as exc:  # history only helps; never fail an order for it
            log.warning("order history from the ledger unavailable: %s", exc.__class__.__name__)
            return {}
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[customer_id] = (key, out)
        return out


def load_catalog(session: Session) -> Catalog:
    """Read all master data from the database (one query per table)."""
    products = [
        Product(r.sku, r.description, r.uom, r.unit_price, r.currency, list(r.aliases or []), dict(r.alt_uoms or {}),
                r.pack_size, r.min_order_qty, dict(r.attributes or {}))
        for r in session.scalars(select(ProductRow))
    ]
    customers = [
        Customer(r.customer_id, r.name, list(r.aliases or []), list(r.email_domains or []), list(r.edi_ids or []),
                 r.payment_terms, r.currency, dict(r.attributes or {}))
        for r in session.scalars(select(CustomerRow))
    ]
    ship_tos = [ShipTo(r.customer_id, r.code, r.name, r.address) for r in session.scalars(select(ShipToRow))]
    items = [(r.customer_id, r.customer_sku, r.sku) for r in session.scalars(select(CustomerItemRow))]
    prices = [CustomerPrice(r.customer_id, r.sku, r.unit_price, r.currency, r.valid_from, r.valid_to)
              for r in session.scalars(select(PriceRow))]
    learned = [(r.customer_id, r.key, r.sku) for r in session.scalars(select(LearnedXrefRow))]
    history = list(map(tuple, session.execute(select(OrderHistoryRow.customer_id, OrderHistoryRow.sku,
                                                     OrderHistoryRow.quantity).order_by(OrderHistoryRow.id))))
    ledger = None
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else getattr(bind, "engine", None)
    # the ledger's own orders count as history where the ledger lives in the same database
    if isinstance(engine, Engine) and inspect(session.connection()).has_table("orders"):
        ledger = LedgerHistory(engine)
    return Catalog(products, customers, ship_tos, items, prices, learned, history, ledger)


def learn_xref(session: Session, customer_id: str | None, customer_sku_or_text: str, sku: str) -> LearnedXrefRow:
    """Record that ``customer_sku_or_text`` means ``sku`` for this customer (a CSR confirmed
    it), so the same code or wording matches exactly next time. Never commits."""
    cid = customer_id or ""
    key = normalize_key(customer_sku_or_text)
    if not key:
        raise MasterDataError("cannot learn an empty item code or wording")
    if session.get(ProductRow, sku) is None:
        raise MasterDataError(f"unknown product '{sku}'", column="sku")
    row = session.scalars(select(LearnedXrefRow).where(LearnedXrefRow.customer_id == cid, LearnedXrefRow.key == key)).first()
    now = datetime.now(timezone.utc)
    if row is None:
        row = LearnedXrefRow(customer_id=cid, key=key, text=customer_sku_or_text, sku=sku, confirmations=1,
                             created_at=now, updated_at=now)
        session.add(row)
    else:
        row.confirmations = (row.confirmations or 0) + 1 if row.sku == sku else 1
        row.sku, row.text, row.updated_at = sku, customer_sku_or_text, now
    session.flush()
    return row


class CatalogCache:
    """Keeps one ``Catalog`` and rebuilds it when the master data changed.

    The fingerprint (row counts, latest update times) costs a few cheap queries; building the
    index of 100,000 products takes seconds, so it is done only when something changed.
    """

    def __init__(self) -> None:
        self._fingerprint: tuple[Any, ...] | None = None
        self._catalog: Catalog | None = None

    @staticmethod
    def fingerprint(session: Session) -> tuple[Any, ...]:
        parts: list[Any] = []
        for model, ts in ((ProductRow, ProductRow.updated_at), (CustomerRow, CustomerRow.updated_at),
                          (LearnedXrefRow, LearnedXrefRow.updated_at)):
            parts.extend(session.execute(select(func.count(), func.max(ts)).select_from(model)).one())
        for model in (ShipToRow, CustomerItemRow, PriceRow, OrderHistoryRow):
            parts.append(session.scalar(select(func.count()).select_from(model)))
        parts.append(session.scalar(select(func.max(PriceRow.id))))
        parts.append(session.scalar(select(func.max(OrderHistoryRow.id))))
        return tuple(parts)

    def get(self, session: Session) -> Catalog:
        """The catalog, rebuilt only when the master data changed since the last call."""
        fp = self.fingerprint(session)
        if self._catalog is None or fp != self._fingerprint:
            self._catalog = load_catalog(session)
            self._fingerprint = fp
        return self._catalog

    @property
    def current(self) -> Catalog | None:
        """The catalog last built (None before the first ``get``)."""
        return self._catalog

    def invalidate(self) -> None:
        self._catalog, self._fingerprint = None, None

