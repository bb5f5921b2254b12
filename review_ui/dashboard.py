"""The dashboard: figures from the ledger, drawn as inline SVG (no script, no external library).

- orders per day by channel (stacked bars);
- touchless rate: orders approved without a person / all decided orders (approved or rejected),
  per day and overall;
- time in queue: from entering NEEDS_REVIEW to a person's decision (median, 90th percentile);
- field accuracy from corrections: for orders a person reviewed and approved, the share whose
  field needed no correction. A rejected order is not counted (nobody checked its fields), nor is
  a value confirmed unchanged (a confirmed product match) or one that followed another (a line
  amount recomputed from its quantity and price);
- per customer: orders, touchless rate, corrections per reviewed order.

A day with decisions and a touchless rate of 0 % draws a zero mark, so it differs from a day
with no decisions at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.service.models import OrderEventRow, OrderRow

__all__ = ["Dashboard", "build_dashboard", "bar_chart_svg", "stacked_bars_svg", "PALETTE"]

FIELD_LABELS = {"po_number": "PO number", "order_date": "order date", "requested_date": "requested date",
                "customer_id": "customer", "ship_to": "ship-to", "bill_to": "bill-to", "payment_terms": "payment terms",
                "line sku": "line product", "line customer_sku": "line item code", "line unit_price": "line unit price",
                "lines added/removed": "lines added/removed"}
ZERO = "#b3261e"  # the zero mark of a day whose figure is 0
PALETTE = ("#2f6fb0", "#e0892b", "#3f9c5a", "#b84a4a", "#7a5fb0", "#8a8a8a", "#2aa3a3", "#c2a11c")
DECIDED = ("APPROVED", "REJECTED")


@dataclass
class Dashboard:
    days: list[date]
    per_day_channel: dict[str, list[int]]  # channel -> counts per day
    touchless_per_day: list[float | None]
    touchless_overall: float | None
    decided: int
    auto_approved: int
    queue_minutes: list[float]
    queue_median_min: float | None
    queue_p90_min: float | None
    waiting_now: int
    field_accuracy: dict[str, float]  # field -> share of orders approved by a person without a correction to it
    reviewed: int  # decided (approved or rejected) by a person
    approved_by_person: int  # the orders field accuracy is measured on
    customers: list[dict[str, Any]]
    charts: dict[str, str] = field(default_factory=dict)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def _field_group(name: str) -> str:
    """``lines[3].quantity`` -> ``line quantity``; header fields stay as they are."""
    if name.startswith("lines["):
        rest = name.split("]", 1)[1].lstrip(".")
        return f"line {rest}" if rest else "lines added/removed"
    return name


def _is_correction(data: dict[str, Any]) -> bool:
    """A value a person changed: not one confirmed as it was, nor one that followed another."""
    if not data.get("field") or data.get("op") in ("confirm_match", "derived"):
        return False
    return not ("old" in data and "new" in data and data["old"] == data["new"])


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def build_dashboard(session: Session, *, days: int = 14, today: date) -> Dashboard:
    """Compute every figure of the dashboard over the last ``days`` days."""
    start = today - timedelta(days=days - 1)
    day_list = [start + timedelta(days=i) for i in range(days)]
    since = datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc)

    orders = list(session.execute(select(OrderRow.id, OrderRow.channel, OrderRow.customer_id, OrderRow.status,
                                         OrderRow.created_at).where(OrderRow.created_at >= since)))
    events = list(session.scalars(select(OrderEventRow).where(OrderEventRow.at >= since).order_by(OrderEventRow.id)))

    per_day_channel: dict[str, list[int]] = {}
    for _id, channel, _cust, _st, created in orders:
        d = _aware(created).date()
        if start <= d <= today:
            per_day_channel.setdefault(channel or "unknown", [0] * days)[(d - start).days] += 1

    # decisions: the transition into APPROVED or REJECTED, and who made it
    decided_by: dict[str, tuple[str, str, date]] = {}
    entered_review: dict[str, datetime] = {}
    queue_minutes: list[float] = []
    corrections: dict[str, set[str]] = {}
    for e in events:
        if e.kind == "transition" and e.to_status == "NEEDS_REVIEW":
            entered_review.setdefault(e.order_id, _aware(e.at))
        elif e.kind == "transition" and e.to_status in DECIDED:
            decided_by[e.order_id] = (e.to_status, e.actor, _aware(e.at).date())
            if e.order_id in entered_review and e.actor != "pipeline":
                queue_minutes.append((_aware(e.at) - entered_review[e.order_id]).total_seconds() / 60.0)
        elif e.kind == "correction" and _is_correction(e.data or {}):
            corrections.setdefault(e.order_id, set()).add(_field_group(str((e.data or {})["field"])))

    auto = {oid for oid, (st, actor, _d) in decided_by.items() if st == "APPROVED" and actor == "pipeline"}
    touch_day: list[float | None] = []
    for d in day_list:
        dec = [oid for oid, (_s, _a, dd) in decided_by.items() if dd == d]
        touch_day.append(None if not dec else sum(1 for o in dec if o in auto) / len(dec))
    decided = len(decided_by)

    reviewed = [oid for oid, (_s, actor, _d) in decided_by.items() if actor != "pipeline"]
    checked = [oid for oid in reviewed if decided_by[oid][0] == "APPROVED"]
    fields_seen: dict[str, int] = {}
    for oid in checked:
        for f in corrections.get(oid, ()):
            fields_seen[f] = fields_seen.get(f, 0) + 1
    base_fields = ["po_number", "order_date", "requested_date", "customer_id", "ship_to", "total",
                   "line sku", "line quantity", "line unit_price"]
    acc = {f: 1.0 - fields_seen.get(f, 0) / len(checked) for f in dict.fromkeys(base_fields + sorted(fields_seen))} \
        if checked else {}

    per_cust: dict[str, dict[str, Any]] = {}
    for oid, _ch, cust, _st, _c in orders:
        c = per_cust.setdefault(cust or "(unknown)", {"customer": cust or "(unknown)", "orders": 0, "decided": 0,
                                                      "auto": 0, "reviewed": 0, "approved": 0, "corrections": 0})
        c["orders"] += 1
        if oid in decided_by:
            c["decided"] += 1
            if oid in auto:
                c["auto"] += 1
            else:
                c["reviewed"] += 1
                if decided_by[oid][0] == "APPROVED":
                    c["approved"] += 1
                    c["corrections"] += len(corrections.get(oid, ()))
    customers = []
    for c in sorted(per_cust.values(), key=lambda c: (-c["orders"], c["customer"])):
        c["touchless"] = c["auto"] / c["decided"] if c["decided"] else None
        c["corrections_per_review"] = c["corrections"] / c["approved"] if c["approved"] else None
        customers.append(c)

    waiting = sum(1 for _i, _ch, _cu, st, _c in orders if st == "NEEDS_REVIEW")
    dash = Dashboard(
        days=day_list, per_day_channel=per_day_channel, touchless_per_day=touch_day,
        touchless_overall=(len(auto) / decided) if decided else None, decided=decided, auto_approved=len(auto),
        queue_minutes=queue_minutes, queue_median_min=_pct(queue_minutes, 0.5), queue_p90_min=_pct(queue_minutes, 0.9),
        waiting_now=waiting, field_accuracy=acc, reviewed=len(reviewed), approved_by_person=len(checked),
        customers=customers[:50],
    )
    labels = [d.strftime("%m-%d") for d in day_list]
    dash.charts["per_day"] = stacked_bars_svg(labels, per_day_channel, title="Orders per day by channel")
    dash.charts["touchless"] = bar_chart_svg(
        labels, [None if v is None else v * 100 for v in touch_day], title="Touchless rate per day (%)", vmax=100,
        fmt="{:.0f}%", mark_zero=True)
    buckets = [("<5 min", 5), ("5-30 min", 30), ("30-120 min", 120), ("2-8 h", 480), ("8-24 h", 1440), (">1 day", 1e12)]
    counts = [0] * len(buckets)
    for m in queue_minutes:
        counts[next(i for i, (_l, lim) in enumerate(buckets) if m < lim)] += 1
    dash.charts["queue"] = bar_chart_svg([b[0] for b in buckets], [float(c) for c in counts],
                                         title="Time in queue (orders decided by a person)", fmt="{:.0f}")
    dash.charts["accuracy"] = bar_chart_svg([FIELD_LABELS.get(f, f.replace("_", " ")) for f in acc],
                                            [v * 100 for v in acc.values()],
                                            title="Field accuracy: reviewed orders needing no correction (%)",
                                            vmax=100, fmt="{:.0f}%", horizontal=True)
    return dash


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    t = escape(title)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{t}" class="chart"><title>{t}</title>' + "".join(body) + "</svg>")


def bar_chart_svg(labels: list[str], values: list[float | None], *, title: str, vmax: float | None = None,
                  fmt: str = "{:.1f}", horizontal: bool = False, mark_zero: bool = False) -> str:
    """A simple bar chart; a None value draws no bar (no data that day).

    With ``mark_zero`` a value of 0 draws a thin red mark and its figure, so "nothing" differs
    from "no data" (a touchless rate of 0 % on a day with decisions).
    """
    if horizontal:
        row_h, left, width = 22, 150, 640
        height = max(40, row_h * len(labels) + 20)
        top = max([v for v in values if v is not None] or [0.0])
        vm = vmax or (top if top > 0 else 1.0)
        body = []
        for i, (lab, v) in enumerate(zip(labels, values)):
            y = 10 + i * row_h
            body.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="12" fill="#333">{escape(lab)}</text>')
            if v is not None:
                w = (width - left - 60) * max(0.0, v) / vm
                body.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[0]}"/>')
                body.append(f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="11" fill="#333">{escape(fmt.format(v))}</text>')
        if not labels:
            body.append('<text x="10" y="24" font-size="13" fill="#777">no data yet</text>')
        return _svg(width, height, title, body)
    width, height, left, bottom, top_pad = 640, 220, 40, 40, 16
    n = max(len(labels), 1)
    slot = (width - left - 10) / n
    top = max([v for v in values if v is not None] or [0.0])
    vm = vmax or (top if top > 0 else 1.0)
    plot_h = height - bottom - top_pad
    base_y = height - bottom
    body = [f'<line x1="{left}" y1="{base_y}" x2="{width - 10}" y2="{base_y}" stroke="#999"/>',
            f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{base_y}" stroke="#ccc"/>']
    for frac in (0.0, 0.5, 1.0):  # an axis with its scale: 0, the middle, the top
        if frac == 0.5 and ".0f" in fmt and abs(vm * 0.5 - round(vm * 0.5)) > 1e-9:
            continue  # a count's middle is no whole number: no tick that would read "0" or round up
        y = base_y - plot_h * frac
        if frac:
            body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>')
        body.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" font-size="10" fill="#666" '
                    f'class="tick">{escape(fmt.format(vm * frac))}</text>')
    for i, (lab, v) in enumerate(zip(labels, values)):
        x = left + i * slot
        if v is not None:
            h = plot_h * max(0.0, v) / vm
            if h < 2 and mark_zero:
                # a day with decisions and nothing to show: a zero mark and its figure, unlike a day without data
                body.append(f'<rect x="{x + slot * 0.15:.1f}" y="{base_y - 2}" width="{slot * 0.7:.1f}" height="2" '
                            f'fill="{ZERO}" class="zero"><title>{escape(lab)}: {escape(fmt.format(v))}</title></rect>')
                body.append(f'<text x="{x + slot / 2:.1f}" y="{base_y - 5}" text-anchor="middle" font-size="9" '
                            f'fill="{ZERO}">{escape(fmt.format(v))}</text>')
            elif h > 0:
                body.append(f'<rect x="{x + slot * 0.15:.1f}" y="{base_y - h:.1f}" width="{slot * 0.7:.1f}" '
                            f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{escape(lab)}: {escape(fmt.format(v))}</title></rect>')
        if n <= 16 or i % max(1, n // 12) == 0:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{base_y + 14}" text-anchor="middle" font-size="10" '
                        f'fill="#444">{escape(lab)}</text>')
    if all(v is None for v in values):
        body.append(f'<text x="{left + 10}" y="{top_pad + 30}" font-size="13" fill="#777">no data yet</text>')
    return _svg(width, height, title, body)


def stacked_bars_svg(labels: list[str], series: dict[str, list[int]], *, title: str) -> str:
    """Bars per label stacked by series, with a legend."""
    width, height, left, bottom, top_pad = 640, 240, 36, 56, 16
    n = max(len(labels), 1)
    slot = (width - left - 10) / n
    totals = [sum(s[i] for s in series.values()) for i in range(len(labels))]
    vm = max(totals or [0]) or 1
    plot_h = height - bottom - top_pad
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#999"/>',
            f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" font-size="10" fill="#666">{vm}</text>']
    names = sorted(series)
    for i, lab in enumerate(labels):
        x = left + i * slot
        y = height - bottom
        for k, name in enumerate(names):
            v = series[name][i]
            if v:
                h = plot_h * v / vm
                y -= h
                body.append(f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                            f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(lab)} {escape(name)}: {v}</title></rect>')
        if n <= 16 or i % max(1, n // 12) == 0:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10" '
                        f'fill="#444">{escape(lab)}</text>')
    for k, name in enumerate(names):
        lx = left + k * 110
        body.append(f'<rect x="{lx}" y="{height - 22}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>')
        body.append(f'<text x="{lx + 14}" y="{height - 13}" font-size="11" fill="#333">{escape(name)}</text>')
    if not names:
        body.append(f'<text x="{left + 10}" y="{top_pad + 30}" font-size="13" fill="#777">no orders yet</text>')
    return _svg(width, height, title, body)
