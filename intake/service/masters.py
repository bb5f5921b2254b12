"""The seller's master data: products, customers, ship-tos, customer item codes, prices.

Tables (prefix ``md_``) on the shared ``intake.service.db.Base``; ``import_masters`` loads a folder of
CSV (or JSON with the same fields) files and replaces or updates them; ``summarize`` counts
them. Functions take a Session and never commit: the caller owns the transaction.

Files, UTF-8 with a header row; extra columns are kept in ``attributes``:

- products.csv: sku, description, uom, unit_price, currency, aliases, alt_uoms, pack_size, min_order_qty
- customers.csv: customer_id, name, aliases, email_domains, edi_ids, payment_terms, currency
- ship_tos.csv: customer_id, code, name, address
- customer_items.csv: customer_id, customer_sku, sku
- prices.csv (optional): customer_id, sku, unit_price, currency, valid_from, valid_to
- order_history.csv (optional): customer_id, sku, quantity, order_date — one row per past order
  line, the quantity in the product's own unit (``uom`` of products.csv); extra columns (a PO
  number, a document id) are kept. It tells matching which of two sibling products this customer
  buys, and validation how much of a product this customer usually orders.

Lists are separated by ``;``; ``alt_uoms`` reads ``BX=50;CA=500`` (base units per unit).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.core.errors import IntakeError
from intake.core.matching import is_discontinued, normalize_key
from intake.core.units import normalize_uom, parse_alt_uoms
from intake.service.db import Base

__all__ = [
    "MasterDataError",
    "ProductRow",
    "CustomerRow",
    "ShipToRow",
    "CustomerItemRow",
    "PriceRow",
    "OrderHistoryRow",
    "LearnedXrefRow",
    "ImportReport",
    "MasterSummary",
    "MASTER_FILES",
    "MASTER_TABLES",
    "import_masters",
    "import_dir",
    "is_empty",
    "summarize",
]


class MasterDataError(IntakeError):
    """A master-data file is missing, unreadable or holds a bad value (names file, row, column)."""

    code = "master_data_error"

    def __init__(self, reason: str, *, file: str | None = None, row: int | None = None, column: str | None = None) -> None:
        self.file, self.row, self.column = file, row, column
        where = ", ".join(
            p for p in (file, f"row {row}" if row is not None else None, f"column {column}" if column else None) if p
        )
        super().__init__(f"{where}: {reason}" if where else reason)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


TS = DateTime(timezone=True)


class ProductRow(Base):
    __tablename__ = "md_products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    uom: Mapped[str] = mapped_column(String(8), default="EA")
    unit_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    alt_uoms: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    pack_size: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_order_qty: Mapped[float | None] = mapped_column(Float, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(TS, default=_utcnow)


class CustomerRow(Base):
    __tablename__ = "md_customers"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    edi_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    payment_terms: Mapped[str | None] = mapped_column(String(64), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(TS, default=_utcnow)


class ShipToRow(Base):
    __tablename__ = "md_ship_tos"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CustomerItemRow(Base):
    __tablename__ = "md_customer_items"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_sku: Mapped[str] = mapped_column(String(128), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PriceRow(Base):
    __tablename__ = "md_prices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    unit_price: Mapped[float] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrderHistoryRow(Base):
    """One line of a past order of a customer (imported from the seller's ERP)."""

    __tablename__ = "md_order_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[float] = mapped_column(Float)  # in the product's unit
    order_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LearnedXrefRow(Base):
    """A wording or item code a CSR confirmed for a customer: exact next time."""

    __tablename__ = "md_learned_xrefs"
    __table_args__ = (UniqueConstraint("customer_id", "key", name="uq_md_learned_xrefs_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64))  # "" when the customer is unknown
    key: Mapped[str] = mapped_column(String(512))  # normalize_key(text)
    text: Mapped[str] = mapped_column(Text)  # as printed
    sku: Mapped[str] = mapped_column(String(64))
    confirmations: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(TS, default=_utcnow)
    updated_at: Mapped[datetime] = mapped_column(TS, default=_utcnow)


MASTER_TABLES: tuple[type[Base], ...] = (ProductRow, CustomerRow, ShipToRow, CustomerItemRow, PriceRow, OrderHistoryRow,
                                         LearnedXrefRow)
"""Every master-data table (for create_all in tests and the CLI)."""

# ---------------------------------------------------------------- file reading

@dataclass(frozen=True)
class _Spec:
    required: tuple[str, ...]
    optional: tuple[str, ...]


MASTER_FILES: dict[str, _Spec] = {
    "products": _Spec(("sku", "description"), ("uom", "unit_price", "currency", "aliases", "alt_uoms", "pack_size", "min_order_qty")),
    "customers": _Spec(("customer_id", "name"), ("aliases", "email_domains", "edi_ids", "payment_terms", "currency")),
    "ship_tos": _Spec(("customer_id", "code"), ("name", "address")),
    "customer_items": _Spec(("customer_id", "customer_sku", "sku"), ()),
    "prices": _Spec(("customer_id", "sku", "unit_price"), ("currency", "valid_from", "valid_to")),
    "order_history": _Spec(("customer_id", "sku", "quantity"), ("order_date",)),
}
"""Each file's required and optional columns; any other column becomes an attribute."""


def _read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number as a spreadsheet shows it, record) from a CSV or JSON file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MasterDataError(f"cannot read the file ({exc.strerror})", file=path.name) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MasterDataError("not UTF-8 text", file=path.name, row=line) from None
    if path.suffix.lower() == ".json":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MasterDataError(f"invalid JSON ({exc.msg})", file=path.name, row=exc.lineno) from None
        if isinstance(obj, dict) and len(obj) == 1 and isinstance(next(iter(obj.values())), list):
            obj = next(iter(obj.values()))
        if not isinstance(obj, list) or not all(isinstance(o, dict) for o in obj):
            raise MasterDataError("expected a JSON list of objects", file=path.name)
        return [(i, {str(k).strip().lower(): v for k, v in o.items()}) for i, o in enumerate(obj, 1)]
    if not text.strip():
        raise MasterDataError("the file is empty (a header row is required)", file=path.name)
    sample = text[:4096]
    delimiter = ","
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    # Spreadsheet exports in many locales use ';' or tab; lists inside cells use ';' too, so only
    # switch when the header itself is not comma-separated.
    if "," not in first_line:
        for d in ("\t", ";", "|"):
            if d in first_line:
                delimiter = d
                break
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise MasterDataError(f"malformed CSV ({exc})", file=path.name, row=reader.line_num) from None
    header = [h.strip().lower() for h in rows[0]]
    if len(set(h for h in header if h)) != len([h for h in header if h]):
        dup = next(h for h in header if h and header.count(h) > 1)
        raise MasterDataError("duplicate column", file=path.name, row=1, column=dup)
    out = []
    for n, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header):
            raise MasterDataError(f"{len(row)} cells but the header has {len(header)}", file=path.name, row=n)
        rec = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header) if h}
        out.append((n, rec))
    return out


def _find_file(folder: Path, name: str) -> Path | None:
    for ext in (".csv", ".json", ".tsv", ".txt"):
        p = folder / f"{name}{ext}"
        if p.is_file():
            return p
    return None


class _Rec:
    """One record being converted; every error names file, row and column."""

    def __init__(self, file: str, row: int, data: dict[str, Any], spec: _Spec) -> None:
        self.file, self.row, self.data, self.spec = file, row, data, spec

    def err(self, column: str, reason: str) -> MasterDataError:
        return MasterDataError(reason, file=self.file, row=self.row, column=column)

    def raw(self, col: str) -> Any:
        v = self.data.get(col)
        if isinstance(v, str):
            v = v.strip()
            return v or None
        return v

    def text(self, col: str) -> str | None:
        v = self.raw(col)
        if v is None:
            if col in self.spec.required:
                raise self.err(col, "a value is required")
            return None
        if isinstance(v, (dict, list)):
            raise self.err(col, "expected text, not a list or object")
        return str(v)

    def number(self, col: str, *, positive: bool = False) -> float | None:
        v = self.raw(col)
        if v is None:
            if col in self.spec.required:
                raise self.err(col, "a value is required")
            return None
        if isinstance(v, bool):
            raise self.err(col, f"'{v}' is not a number")
        if isinstance(v, (int, float)):
            f = float(v)
        else:
            s = str(v).replace("\u00a0", "").replace(" ", "")
            s = re.sub(r"^[^\d\-.,]+|[^\d.,]+$", "", s)  # currency signs: "$4.50", "4,50 €"
            if "," in s and "." not in s:
                s = s.replace(",", ".")
            elif "," in s and "." in s:
                s = s.replace(",", "") if s.rfind(".") > s.rfind(",") else s.replace(".", "").replace(",", ".")
            try:
                f = float(s)
            except ValueError:
                raise self.err(col, f"'{v}' is not a number") from None
        if f != f or f in (float("inf"), float("-inf")):
            raise self.err(col, f"'{v}' is not a number")
        if f < 0 or (positive and f == 0):
            raise self.err(col, f"'{v}' must be {'positive' if positive else 'zero or more'}")
        return f

    def items(self, col: str) -> list[str]:
        v = self.raw(col)
        if v is None:
            return []
        if isinstance(v, list):
            return [str(x).strip() for x in v if str(x).strip()]
        return [p.strip() for p in str(v).split(";") if p.strip()]

    def day(self, col: str) -> date | None:
        v = self.raw(col)
        if v is None:
            return None
        try:
            return date.fromisoformat(str(v)[:10])
        except ValueError:
            raise self.err(col, f"'{v}' is not a date (YYYY-MM-DD)") from None

    def currency(self, col: str = "currency") -> str | None:
        v = self.text(col)
        if v is None:
            return None
        if not re.fullmatch(r"[A-Za-z]{3}", v):
            raise self.err(col, f"'{v}' is not a 3-letter currency code")
        return v.upper()

    def attributes(self) -> dict[str, Any]:
        known = set(self.spec.required) | set(self.spec.optional)
        out: dict[str, Any] = {}
        for k, v in self.data.items():
            if k in known or k == "":
                continue
            if isinstance(v, str):
                v = v.strip()
                if v == "":
                    continue
            if v is None:
                continue
            out[k] = v
        return out


def _records(folder: Path, name: str, *, required: bool) -> tuple[str, list[_Rec]] | None:
    path = _find_file(folder, name)
    spec = MASTER_FILES[name]
    if path is None:
        if required:
            raise MasterDataError(f"{name}.csv (or .json) not found in {folder}", file=f"{name}.csv")
        return None
    recs = _read_records(path)
    if path.suffix.lower() != ".json":
        header = set(recs[0][1]) if recs else set(_header_of(path))
        missing = [c for c in spec.required if c not in header]
        if missing:
            raise MasterDataError("required column is missing", file=path.name, row=1, column=missing[0])
    return path.name, [_Rec(path.name, n, d, spec) for n, d in recs]


def _header_of(path: Path) -> list[str]:
    first = path.read_text(encoding="utf-8-sig").splitlines()[0]
    return [h.strip().lower() for h in re.split(r"[,;\t|]", first)]


# ---------------------------------------------------------------- import

@dataclass
class ImportReport:
    """What one import did, per file: rows inserted and updated."""

    replaced: bool
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        parts = [f"{k} {self.inserted.get(k, 0)} new/{self.updated.get(k, 0)} updated" for k in self.inserted]
        return ("replaced: " if self.replaced else "updated: ") + ", ".join(parts)


def _unique(recs: Iterable[_Rec], key: Callable[[_Rec], tuple[str, ...]], cols: str) -> None:
    seen: dict[tuple[str, ...], int] = {}
    for r in recs:
        k = key(r)
        if k in seen:
            raise r.err(cols, f"duplicate of row {seen[k]} ({'/'.join(k)})")
        seen[k] = r.row


def import_masters(session: Session, folder: Path | str, *, replace: bool = False) -> ImportReport:
    """Load master data from ``folder`` (products/customers required; ship_tos,
    customer_items, prices, order_history optional).

    ``replace=True`` deletes the seller's master data first (learned cross-references are kept:
    they are the CSRs' knowledge); otherwise rows are inserted or updated by key. Every value is
    checked before anything is written; a bad file raises ``MasterDataError`` naming file, row
    and column. Never commits.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MasterDataError(f"master-data folder not found: {folder}")
    now = _utcnow()

    # ---- parse and check everything first
    pf = _records(folder, "products", required=True)
    if pf is None:  # unreachable: required=True raises; narrows the type
        raise MasterDataError("products.csv not found", file="products.csv")
    products = []
    for r in pf[1]:
        uom_text = r.text("uom") or "EA"
        uom = normalize_uom(uom_text)
        if uom is None:
            raise r.err("uom", f"unknown unit of measure '{uom_text}'")
        try:
            alt = parse_alt_uoms(r.raw("alt_uoms"))
        except ValueError as exc:
            raise r.err("alt_uoms", str(exc)) from None
        sku = r.text("sku") or ""
        products.append({
            "sku": sku, "description": r.text("description") or "", "uom": uom,
            "unit_price": r.number("unit_price"), "currency": r.currency(), "aliases": r.items("aliases"),
            "alt_uoms": alt, "pack_size": r.number("pack_size", positive=True),
            "min_order_qty": r.number("min_order_qty"), "attributes": r.attributes(), "updated_at": now,
        })
    _unique(pf[1], lambda r: (r.text("sku") or "",), "sku")

    cf = _records(folder, "customers", required=True)
    if cf is None:
        raise MasterDataError("customers.csv not found", file="customers.csv")
    customers = []
    for r in cf[1]:
        domains = [d.lower().lstrip("@") for d in r.items("email_domains")]
        for d in domains:
            if "." not in d or " " in d:
                raise r.err("email_domains", f"'{d}' is not a mail domain")
        customers.append({
            "customer_id": r.text("customer_id") or "", "name": r.text("name") or "", "aliases": r.items("aliases"),
            "email_domains": domains, "edi_ids": r.items("edi_ids"), "payment_terms": r.text("payment_terms"),
            "currency": r.currency(), "attributes": r.attributes(), "updated_at": now,
        })
    _unique(cf[1], lambda r: (r.text("customer_id") or "",), "customer_id")

    file_skus = {p["sku"] for p in products}
    file_customers = {c["customer_id"] for c in customers}
    db_skus: set[str] = set() if replace else set(session.scalars(select(ProductRow.sku)))
    db_customers: set[str] = set() if replace else set(session.scalars(select(CustomerRow.customer_id)))
    all_skus, all_customers = file_skus | db_skus, file_customers | db_customers

    def check_customer(r: _Rec) -> str:
        cid = r.text("customer_id") or ""
        if cid not in all_customers:
            raise r.err("customer_id", f"unknown customer '{cid}'")
        return cid

    def check_sku(r: _Rec) -> str:
        sku = r.text("sku") or ""
        if sku not in all_skus:
            raise r.err("sku", f"unknown product '{sku}'")
        return sku

    ship_tos = []
    sf = _records(folder, "ship_tos", required=False)
    if sf:
        for r in sf[1]:
            ship_tos.append({"customer_id": check_customer(r), "code": r.text("code"), "name": r.text("name"),
                             "address": r.text("address"), "attributes": r.attributes()})
        _unique(sf[1], lambda r: (r.text("customer_id") or "", r.text("code") or ""), "code")

    items = []
    itf = _records(folder, "customer_items", required=False)
    if itf:
        for r in itf[1]:
            items.append({"customer_id": check_customer(r), "customer_sku": r.text("customer_sku"),
                          "sku": check_sku(r), "attributes": r.attributes()})
        _unique(itf[1], lambda r: (r.text("customer_id") or "", r.text("customer_sku") or ""), "customer_sku")

    prices = []
    prf = _records(folder, "prices", required=False)
    if prf:
        for r in prf[1]:
            vf, vt = r.day("valid_from"), r.day("valid_to")
            if vf and vt and vt < vf:
                raise r.err("valid_to", f"valid_to {vt} is before valid_from {vf}")
            prices.append({"customer_id": check_customer(r), "sku": check_sku(r),
                           "unit_price": r.number("unit_price"), "currency": r.currency(),
                           "valid_from": vf, "valid_to": vt, "attributes": r.attributes()})

    history = []
    hf = _records(folder, "order_history", required=False)
    if hf:
        for r in hf[1]:
            history.append({"customer_id": check_customer(r), "sku": check_sku(r),
                            "quantity": r.number("quantity", positive=True), "order_date": r.day("order_date"),
                            "attributes": r.attributes()})

    # ---- write
    report = ImportReport(replaced=replace)
    if replace:
        for table in (OrderHistoryRow, PriceRow, CustomerItemRow, ShipToRow, CustomerRow, ProductRow):
            session.execute(delete(table))
    _upsert(session, ProductRow, products, ("sku",), db_skus, report, "products")
    _upsert(session, CustomerRow, customers, ("customer_id",), db_customers, report, "customers")
    if sf:
        existing = set() if replace else set(map(tuple, session.execute(select(ShipToRow.customer_id, ShipToRow.code))))
        _upsert(session, ShipToRow, ship_tos, ("customer_id", "code"), existing, report, "ship_tos")
    if itf:
        existing = set() if replace else set(map(tuple,
            session.execute(select(CustomerItemRow.customer_id, CustomerItemRow.customer_sku))))
        _upsert(session, CustomerItemRow, items, ("customer_id", "customer_sku"), existing, report, "customer_items")
    if prf:
        # A price list is replaced per (customer, sku): the file holds the whole validity history.
        pairs = {(p["customer_id"], p["sku"]) for p in prices}
        if not replace:
            for cid, sku in pairs:
                session.execute(delete(PriceRow).where(PriceRow.customer_id == cid, PriceRow.sku == sku))
        if prices:
            session.execute(insert(PriceRow), prices)
        report.inserted["prices"], report.updated["prices"] = len(prices), 0
    if hf:
        # Like a price list: the file holds the whole history of each (customer, sku) it names,
        # so importing the same export twice does not count the orders twice.
        if not replace and history:
            table = OrderHistoryRow.__table__
            pairs = [{"c": c, "s": k} for c, k in sorted({(h["customer_id"], h["sku"]) for h in history})]
            stmt = table.delete().where(table.c.customer_id == bindparam("c"), table.c.sku == bindparam("s"))
            for chunk in _chunks(pairs, 5000):
                session.execute(stmt, chunk)  # one executemany per chunk
        for chunk in _chunks(history, 5000):
            session.execute(insert(OrderHistoryRow), chunk)
        report.inserted["order_history"], report.updated["order_history"] = len(history), 0
    session.flush()
    return report


def import_dir(session: Session, folder: Path | str, *, replace: bool = False) -> ImportReport:
    """Same as ``import_masters`` (the name the demo and the CLI of the lead use)."""
    return import_masters(session, folder, replace=replace)


def is_empty(session: Session) -> bool:
    """True when no product and no customer is loaded (matching is then skipped)."""
    return (session.scalar(select(ProductRow.sku).limit(1)) is None
            and session.scalar(select(CustomerRow.customer_id).limit(1)) is None)


def _upsert(session: Session, model: type[Base], rows: list[dict[str, Any]], keys: tuple[str, ...],
            existing: Iterable[Any], report: ImportReport, name: str) -> None:
    """Bulk insert new rows and bulk update existing ones (by primary key): fast on 100,000 rows."""
    exist = {tuple(k) if isinstance(k, (tuple, Row)) else (k,) for k in existing}
    new = [r for r in rows if tuple(r[k] for k in keys) not in exist]
    old = [r for r in rows if tuple(r[k] for k in keys) in exist]
    for chunk in _chunks(new, 5000):
        session.execute(insert(model), chunk)
    for chunk in _chunks(old, 5000):
        session.execute(update(model), chunk)
    report.inserted[name], report.updated[name] = len(new), len(old)


def _chunks(rows: list[dict[str, Any]], n: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


# ---------------------------------------------------------------- summary

@dataclass
class MasterSummary:
    """Counts of the master data, for ``intake masters show`` and the dashboard."""

    products: int
    customers: int
    ship_tos: int
    customer_items: int
    prices: int
    learned_xrefs: int
    discontinued: int
    currencies: list[str]
    uoms: dict[str, int]
    order_history: int = 0
    history_customers: int = 0

    @property
    def empty(self) -> bool:
        return self.products == 0 and self.customers == 0

    def lines(self) -> list[str]:
        """Human-readable lines."""
        return [
            f"products        {self.products} ({self.discontinued} discontinued)",
            f"customers       {self.customers}",
            f"ship-tos        {self.ship_tos}",
            f"customer items  {self.customer_items}",
            f"prices          {self.prices}",
            f"order history   {self.order_history} lines ({self.history_customers} customers)",
            f"learned xrefs   {self.learned_xrefs}",
            "units           " + (", ".join(f"{k} {v}" for k, v in sorted(self.uoms.items())) or "-"),
            "currencies      " + (", ".join(self.currencies) or "-"),
        ]


def summarize(session: Session) -> MasterSummary:
    """Count the master data."""
    def count(model: type[Base]) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    uoms = {str(u): int(n) for u, n in session.execute(select(ProductRow.uom, func.count()).group_by(ProductRow.uom))}
    currencies = sorted({str(c) for c in session.scalars(select(ProductRow.currency).distinct()) if c}
                        | {str(c) for c in session.scalars(select(CustomerRow.currency).distinct()) if c})
    discontinued = sum(1 for a in session.scalars(select(ProductRow.attributes)) if is_discontinued(a or {}))
    history_customers = int(session.scalar(select(func.count(OrderHistoryRow.customer_id.distinct()))) or 0)
    return MasterSummary(
        products=count(ProductRow), customers=count(CustomerRow), ship_tos=count(ShipToRow),
        customer_items=count(CustomerItemRow), prices=count(PriceRow), learned_xrefs=count(LearnedXrefRow),
        discontinued=discontinued, currencies=currencies, uoms=uoms,
        order_history=count(OrderHistoryRow), history_customers=history_customers,
    )
