/* The order page: highlight a value's source on the page, zoom the document, save a value when
   it is committed (Enter, Tab or leaving the field: never per keystroke), fixes and bulk fixes
   from the problem list, the customer search, the product picker, the keyboard path, and who
   else has the order open. A save the server refuses keeps the typed value and says why. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var R = window.Review;
  var dataEl = document.getElementById("page-data");
  if (!dataEl) return;
  var page = JSON.parse(dataEl.textContent);
  var version = page.version;
  var busy = Promise.resolve();
  var saving = 0;
  var STORE = "intake-unsaved-" + page.order_id;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function esc(s) { var d = document.createElement("span"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
  function hhmm(iso) {
    if (!iso) return "";
    var t = new Date(iso);
    if (isNaN(t)) return "";
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    var s = p(t.getHours()) + ":" + p(t.getMinutes());
    return t.toDateString() === new Date().toDateString() ? s : t.getFullYear() + "-" + p(t.getMonth() + 1) + "-" + p(t.getDate()) + " " + s;
  }

  /* ---- highlight where a value was read ---- */
  function clearHighlights() { $$(".hl-layer").forEach(function (l) { l.textContent = ""; }); }
  function highlight(key) {
    clearHighlights();
    var srcs = page.sources[key] || [];
    var first = null;
    srcs.forEach(function (s) {
      var dims = page.pages[s.page];
      var pageEl = $('.docpage[data-page="' + s.page + '"]');
      if (!dims || !pageEl) return;
      var layer = pageEl.querySelector(".hl-layer");
      var b = s.box, pad = 0.004;
      var box = document.createElement("div");
      box.className = "hl";
      box.style.left = Math.max(0, b[0] / dims.w * 100 - pad * 100) + "%";
      box.style.top = Math.max(0, b[1] / dims.h * 100 - pad * 100) + "%";
      box.style.width = ((b[2] - b[0]) / dims.w * 100 + 2 * pad * 100) + "%";
      box.style.height = ((b[3] - b[1]) / dims.h * 100 + 2 * pad * 100) + "%";
      layer.appendChild(box);
      if (!first) first = box;
    });
    if (first) first.scrollIntoView({ block: "center", inline: "center", behavior: "smooth" });
    return srcs.length;
  }

  /* ---- field selection (j/k) ---- */
  function fieldEls() { return $$(".fields-pane .field[data-key]"); }
  var selected = null;
  function selectField(el, focus) {
    if (!el) return;
    if (selected) selected.classList.remove("selected");
    selected = el;
    el.classList.add("selected");
    el.scrollIntoView({ block: "nearest" });
    highlight(el.getAttribute("data-key"));
    if (focus) {
      var inp = el.querySelector("input, textarea");
      if (inp && !inp.disabled) inp.focus();
    }
  }
  function moveField(step) {
    var els = fieldEls();
    if (!els.length) return;
    var i = selected ? els.indexOf(selected) : -1;
    i = Math.max(0, Math.min(els.length - 1, i + step));
    selectField(els[i], false);
  }
  fieldEls().forEach(function (el) {
    el.addEventListener("focusin", function () { selectField(el, false); });
    el.addEventListener("click", function () { selectField(el, false); });
  });
  function fieldFor(key) {
    return $('.fields-pane .field[data-key="' + key + '"]') || $('tr.line[data-key="' + key + '"] .field');
  }

  /* ---- the document: pages / text, zoom ---- */
  $$(".doc-toggle button").forEach(function (b) {
    b.addEventListener("click", function () {
      var show = b.getAttribute("data-show");
      $$(".doc-toggle button").forEach(function (x) { x.classList.toggle("on", x === b); });
      var pages = $("#pages"), text = $("#doctext");
      if (pages) pages.classList.toggle("hidden", show !== "pages");
      if (text) text.classList.toggle("hidden", show !== "text");
    });
  });
  var zoom = 1;
  try { zoom = parseFloat(localStorage.getItem("intake-zoom")) || 1; } catch (e) { zoom = 1; }
  function setZoom(z) {
    zoom = Math.max(0.5, Math.min(4, Math.round(z * 100) / 100));
    var pages = $("#pages"), text = $("#doctext"), lvl = $("#zoom-level");
    if (pages) pages.style.width = (zoom * 100) + "%";
    if (text) text.style.fontSize = (12.5 * zoom) + "px";
    if (lvl) lvl.textContent = Math.round(zoom * 100) + "%";
    var view = $("#doc-view");
    if (view) view.classList.toggle("zoomed", zoom > 1);
    try { localStorage.setItem("intake-zoom", String(zoom)); } catch (e) { /* private mode */ }
  }
  setZoom(zoom);
  var zin = $("#zoom-in"), zout = $("#zoom-out"), zfit = $("#zoom-fit");
  if (zin) zin.addEventListener("click", function () { setZoom(zoom * 1.25); });
  if (zout) zout.addEventListener("click", function () { setZoom(zoom / 1.25); });
  if (zfit) zfit.addEventListener("click", function () { setZoom(1); });
  var docView = $("#doc-view");
  if (docView) docView.addEventListener("wheel", function (ev) {
    if (!ev.ctrlKey) return;
    ev.preventDefault();
    setZoom(zoom * (ev.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });

  /* ---- values, dirty and committed ---- */
  function valueInputs() { return $$(".fields-pane input[data-key], .fields-pane textarea[data-key]"); }
  function inputFor(key) { return $('.fields-pane [data-key="' + key + '"]:is(input, textarea)'); }
  function isDirty(inp) {
    if (inp.getAttribute("data-kind") === "customer" || inp.hasAttribute("data-preview")) return false;
    return inp.value !== (inp.getAttribute("data-orig") || "");
  }
  function keyOf(op) {
    if (op.op !== "set") return null;
    if (op.line === undefined || op.line === null) return "h." + op.field;
    return "l." + op.line + "." + op.field;
  }
  function opFor(input) {
    var parts = input.getAttribute("data-key").split(".");
    if (parts[0] === "h") return { op: "set", field: parts[1], value: input.value };
    return { op: "set", line: parseInt(parts[1], 10), field: parts[2], value: input.value };
  }
  function labelOf(key) {
    if (page.labels[key]) return page.labels[key];
    var p = key.split(".");
    return p[0] === "l" ? "line " + (parseInt(p[1], 10) + 1) + " " + p[2].replace("_", " ") : key;
  }
  /* "lines[3].unit_price" -> "line 3 unit price", "customer_id" -> "customer" */
  function humanField(f) {
    var m = /^lines\[(\w+)\](?:\.(\w+))?$/.exec(f);
    if (m) return "line " + m[1] + (m[2] ? " " + (m[2] === "sku" ? "product" : m[2].replace(/_/g, " ")) : "");
    return f === "customer_id" ? "customer" : f.replace(/_/g, " ");
  }
  function setNote(inp, msg, kind) {
    var f = inp.closest(".field");
    if (!f) return;
    var n = f.querySelector(".err-note");
    if (!msg) { if (n) n.remove(); f.classList.remove("invalid", "unsaved"); return; }
    if (!n) { n = document.createElement("span"); n.className = "err-note"; n.setAttribute("role", "alert"); f.appendChild(n); }
    n.textContent = msg;
    f.classList.toggle("invalid", kind === "invalid");
    f.classList.toggle("unsaved", kind !== "invalid");
  }

  function dateProblem(v) {
    if (v === "") return "";
    var m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(v.trim());
    if (!m) return "Type the date as YYYY-MM-DD (not saved yet)";
    var y = +m[1], mo = +m[2], d = +m[3];
    if (y < 1900 || y > 2199) return "The year " + m[1] + " is not plausible: type the date as YYYY-MM-DD (not saved yet)";
    var t = new Date(Date.UTC(y, mo - 1, d));
    if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return v + " is not a date (not saved yet)";
    return "";
  }

  function setVersion(v) {
    version = v;
    page.version = v;
    $$(".version-input").forEach(function (i) { i.value = v; });
    var vEl = $("#order-version");
    if (vEl) vEl.textContent = v;
  }

  function markProblems(st) {
    $$(".field.problem, tr.line.problem, .field.check").forEach(function (el) { el.classList.remove("problem", "check"); });
    (st.problems || []).forEach(function (p) {
      if (!p.key) return;
      var el = $('.field[data-key="' + p.key + '"], tr.line[data-key="' + p.key + '"]');
      if (el) { el.classList.add("problem"); el.title = p.message; }
    });
    (st.checks || []).forEach(function (c) {
      var el = c.key && $('.field[data-key="' + c.key + '"]');
      if (el && !el.classList.contains("problem")) { el.classList.add("check"); el.title = c.message; }
    });
  }

  function setValue(inp, v) {
    inp.value = v;
    inp.setAttribute("data-orig", v);
    inp.removeAttribute("data-preview");
    inp.classList.remove("previewed");
    autosize(inp);
  }

  /* the server's values everywhere the person is not typing; their own typing stays */
  function applyState(st, saved) {
    saved = saved || [];
    var html = st.html || {};
    if (html.score && $("#score")) $("#score").innerHTML = html.score;
    var box = $("#problems-box");
    if (box && html.problems !== undefined) box.innerHTML = html.problems;
    Object.keys(html.notes || {}).forEach(function (k) {
      var n = $('.note[data-note="' + k + '"]');
      if (n && k !== "h.customer_id") n.innerHTML = html.notes[k];
    });
    page.blocking = st.blocking;
    var ob = $("#override-box");
    if (ob) ob.classList.toggle("hidden", !st.blocking);
    var conflicts = [];
    function take(inp, v, low) {
      if (!inp) return;
      var f = inp.closest(".field");
      if (f) f.classList.toggle("low", !!low);
      v = v == null ? "" : String(v);
      if (saved.indexOf(inp) >= 0 || (!isDirty(inp) && document.activeElement !== inp)) { setValue(inp, v); return; }
      /* typing here: keep it; someone else changing the same value is a conflict to show */
      if (v !== (inp.getAttribute("data-orig") || "") && !inp.hasAttribute("data-theirs")) {
        inp.setAttribute("data-theirs", v);
        conflicts.push({ inp: inp, theirs: v });
      }
    }
    Object.keys(st.header || {}).forEach(function (k) {
      if (k === "h.customer_id") return;
      take(inputFor(k), st.header[k].value, st.header[k].low);
    });
    if (st.customer) showCustomer(st.customer);
    (st.lines || []).forEach(function (ln) {
      var tr = $('tr.line[data-line="' + ln.index + '"]');
      if (!tr) return;
      Object.keys(ln.cells).forEach(function (name) {
        var c = ln.cells[name];
        var inp = tr.querySelector('[data-key="' + c.key + '"]:is(input, textarea)');
        take(inp, c.value, c.low);
        if (inp && name === "amount") {
          inp.placeholder = c.computed || "";
          inp.title = c.computed ? "quantity \u00d7 price = " + c.computed : "";
        }
      });
      var prod = tr.querySelector("td.product");
      if (prod) {
        prod.classList.toggle("low", !!ln.product.low);
        prod.querySelector('[data-role="sku"]').textContent = ln.product.sku || "\u2014";
        prod.querySelector('[data-role="via"]').textContent =
          ln.product.via ? ln.product.via + " " + Math.round(ln.product.score * 100) + "%" : "";
        prod.querySelector('[data-role="pdesc"]').textContent = ln.product.description || "";
        prod.querySelector('[data-role="converted"]').textContent = ln.converted || "";
      }
      page.candidates[String(ln.index)] = ln.candidates;
    });
    markProblems(st);
    if (st.others) renderOthers(st.others);
    return conflicts;
  }

  /* ---- who else has it open ---- */
  function renderOthers(others) {
    var el = $("#presence");
    if (!el) return;
    if (!others.length) { el.classList.add("hidden"); el.textContent = ""; return; }
    el.innerHTML = others.map(function (v) {
      return "<b>" + esc(v.name) + "</b> has had this order open since " + esc(hhmm(v.since));
    }).join(", ") + ": you may both be editing it. A save that would overwrite theirs is refused and your value is kept.";
    el.classList.remove("hidden");
  }

  var conflictEl = $("#conflict");
  function showConflict(htmlText, actions) {
    if (!conflictEl) return;
    conflictEl.innerHTML = htmlText;
    (actions || []).forEach(function (a) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "small" + (a.primary ? " primary" : "");
      b.textContent = a.label;
      b.addEventListener("click", a.run);
      conflictEl.appendChild(document.createTextNode(" "));
      conflictEl.appendChild(b);
    });
    conflictEl.classList.remove("hidden");
    conflictEl.scrollIntoView({ block: "nearest" });
  }
  function hideConflict() { if (conflictEl) { conflictEl.classList.add("hidden"); conflictEl.textContent = ""; } }

  function remember() {
    var keep = {};
    valueInputs().forEach(function (i) { if (isDirty(i)) keep[i.getAttribute("data-key")] = i.value; });
    try { sessionStorage.setItem(STORE, JSON.stringify(keep)); } catch (e) { /* nothing to keep then */ }
  }
  function reloadKeeping() { remember(); location.reload(); }

  function describeChange(lc) {
    if (!lc) return "someone";
    return "<b>" + esc(lc.actor) + "</b>" + (lc.at ? " (at " + esc(hhmm(lc.at)) + ")" : "");
  }

  function conflictFor(items, lc) {
    var who = describeChange(lc);
    var lines = items.map(function (c) {
      c.inp.closest(".field") && c.inp.closest(".field").classList.add("conflict");
      return labelOf(c.inp.getAttribute("data-key")) + " is now \u201c" + esc(c.theirs) + "\u201d; yours, \u201c" +
        esc(c.inp.value) + "\u201d, is still in the field";
    });
    showConflict("<b>Not saved:</b> " + who + " changed this order meanwhile. " + lines.join("; ") + ".", [
      { label: "Save mine over theirs", primary: true, run: function () {
        var ins = items.map(function (c) { return c.inp; });
        items.forEach(function (c) { c.inp.removeAttribute("data-theirs"); });
        hideConflict();
        save(ins.map(opFor), { inputs: ins });
      } },
      { label: "Take theirs", run: function () {
        items.forEach(function (c) {
          setValue(c.inp, c.theirs);
          c.inp.removeAttribute("data-theirs");
          var f = c.inp.closest(".field");
          if (f) f.classList.remove("conflict");
          setNote(c.inp, "");
        });
        hideConflict();
      } }
    ]);
    items.forEach(function (c) { setNote(c.inp, "Not saved: " + (lc ? lc.actor : "someone") + " changed it to \u201c" + c.theirs + "\u201d", "unsaved"); });
  }

  /* a save refused because the order changed: show theirs, keep mine, merge what does not collide */
  function onStale(ops, opts, data) {
    setVersion(data.version);
    if (data.status !== "NEEDS_REVIEW") {
      lockPage(data.status, data.last_change);
      (opts.inputs || []).forEach(function (i) { setNote(i, "Not saved: the order is " + data.status.toLowerCase() + " now", "unsaved"); });
      return;
    }
    var mine = (opts.inputs || []).slice();
    var structural = ops.some(function (op) { return op.op !== "set"; });
    applyState(data, []);
    if (structural) {
      showConflict("<b>Not saved:</b> " + describeChange(data.last_change) + " changed this order meanwhile; its lines may have moved.",
        [{ label: "Reload (your typed values are kept)", primary: true, run: reloadKeeping }]);
      return;
    }
    var collide = [], retry = [];
    ops.forEach(function (op) {
      var k = keyOf(op), inp = k && inputFor(k);
      var cur = serverValue(data, k);
      if (k === "h.customer_id" || !inp) { retry.push(op); return; }
      if (cur !== null && cur !== (inp.getAttribute("data-orig") || "")) collide.push({ inp: inp, theirs: cur });
      else retry.push(op);
    });
    if (collide.length) { conflictFor(collide, data.last_change); }
    if (retry.length) {
      R.toast((data.last_change ? data.last_change.actor : "Someone") + " changed this order meanwhile: your change was saved on top of theirs.");
      var rin = mine.filter(function (i) { return collide.every(function (c) { return c.inp !== i; }); });
      save(retry, { inputs: rin });
    }
  }
  function serverValue(st, key) {
    if (!key) return null;
    if (key === "h.customer_id") return st.customer ? st.customer.value : null;
    if (key.indexOf("h.") === 0) return st.header && st.header[key] ? String(st.header[key].value) : null;
    var p = key.split(".");
    var ln = (st.lines || [])[parseInt(p[1], 10)];
    if (!ln) return null;
    if (p[2] === "sku") return ln.product.sku;
    return ln.cells[p[2]] ? String(ln.cells[p[2]].value) : null;
  }

  function lockPage(status, lc) {
    page.editable = false;
    valueInputs().forEach(function (i) { if (!isDirty(i)) i.disabled = true; });
    $$(".actions form, #reject, #hold, [data-op], [data-ops], [data-pick]").forEach(function (el) { el.classList.add("hidden"); });
    var st = $("#order-status");
    if (st) st.textContent = status.replace("_", " ").toLowerCase();
    showConflict(describeChange(lc) + " \u2014 this order is <b>" + esc(status.replace("_", " ").toLowerCase()) +
      "</b> now: it cannot be changed any more.", [{ label: "Reload", run: reloadKeeping }]);
  }

  /* one save at a time, in order: each carries the version the previous one produced */
  function save(ops, opts) {
    opts = opts || {};
    saving += 1;
    busy = busy.then(function () {
      return R.postJSON("/review/api/orders/" + page.order_id + "/edit", { version: version, ops: ops })
        .then(function (res) {
          if (res.ok) {
            setVersion(res.data.version);
            (opts.inputs || []).forEach(function (i) {
              i.removeAttribute("data-theirs");
              var f = i.closest(".field");
              if (f) f.classList.remove("conflict");
              setNote(i, "");
            });
            applyState(res.data, opts.inputs || []);
            hideConflictIfClear();
            (opts.inputs || []).forEach(function (i) {
              var f = i.closest(".field");
              if (f) { f.classList.add("saved"); setTimeout(function () { f.classList.remove("saved"); }, 1200); }
            });
            var fields = (res.data.corrections || []).filter(function (c) { return c.op !== "derived"; })
              .map(function (c) { return humanField(c.field); });
            if (fields.length) R.toast("Saved: " + fields.join(", "));
            else if (!res.data.changed && opts.inputs && opts.inputs.length) R.toast("Confirmed as read: no correction");
            if (opts.after) opts.after(res.data);
            return true;
          }
          var detail = (res.data && res.data.detail) || ("Could not save (HTTP " + res.status + ")");
          if (res.status === 409 && res.data && res.data.version !== undefined) { onStale(ops, opts, res.data); return false; }
          (opts.inputs || []).forEach(function (i) { setNote(i, detail + " (not saved)", "invalid"); revertPreview(i); });
          if (opts.onError) opts.onError(detail);
          R.toast(detail, true);
          return false;
        })
        .catch(function () {
          (opts.inputs || []).forEach(function (i) { setNote(i, "Could not reach the server: not saved", "unsaved"); });
          R.toast("Could not reach the server: your change was not saved.", true);
          return false;
        })
        .then(function (ok) { saving -= 1; return ok; });
    });
    return busy;
  }
  function hideConflictIfClear() { if (!$(".field.conflict")) hideConflict(); }

  /* ---- line amounts follow quantity x price while typing ---- */
  function num(v) {
    if (v == null) return null;
    var t = String(v).replace(/\s/g, "");
    if (t === "") return null;
    if (t.indexOf(",") >= 0 && t.indexOf(".") >= 0) t = t.lastIndexOf(".") > t.lastIndexOf(",") ? t.replace(/,/g, "") : t.replace(/\./g, "").replace(",", ".");
    else t = t.replace(",", ".");
    var n = Number(t);
    return isFinite(n) ? n : null;
  }
  function lineInputs(tr) {
    var g = function (f) { return tr.querySelector('input[data-key$=".' + f + '"]'); };
    return { q: g("quantity"), p: g("unit_price"), a: g("amount") };
  }
  function addsUp(q, p, a) { return q !== null && p !== null && a !== null && Math.abs(q * p - a) <= 0.015 + Math.abs(a) * 1e-6; }
  function previewAmount(tr) {
    var li = lineInputs(tr);
    if (!li.a || !li.q || !li.p || (isDirty(li.a) && !li.a.hasAttribute("data-preview"))) return;
    var q = num(li.q.value), p = num(li.p.value);
    var oq = num(li.q.getAttribute("data-orig")), op = num(li.p.getAttribute("data-orig")), oa = num(li.a.getAttribute("data-orig"));
    if (q === null || p === null) return;
    var v = Math.round(q * p * 100) / 100;
    if (oa === null) { li.a.placeholder = v.toFixed(2); return; }
    if (!addsUp(oq, op, oa)) return;
    if (v === oa) { revertPreview(li.a); return; }
    li.a.value = String(v);
    li.a.setAttribute("data-preview", "1");
    li.a.classList.add("previewed");
  }
  function revertPreview(inp) {
    var tr = inp.closest && inp.closest("tr.line");
    var a = tr ? lineInputs(tr).a : null;
    if (a && a.hasAttribute("data-preview")) {
      a.value = a.getAttribute("data-orig") || "";
      a.removeAttribute("data-preview");
      a.classList.remove("previewed");
    }
  }

  /* a description wraps and grows with its text */
  function autosize(el) {
    if (!el || el.tagName !== "TEXTAREA" || !el.closest("table.lines")) return;
    el.style.height = "auto";
    el.style.height = el.scrollHeight + 2 + "px";
  }

  function commit(inp) {
    if (!page.editable) return;
    if (inp.hasAttribute("data-theirs")) {
      conflictFor([{ inp: inp, theirs: inp.getAttribute("data-theirs") }], null);
      return;
    }
    if (!isDirty(inp)) { setNote(inp, ""); revertPreview(inp); return; }
    if (inp.getAttribute("data-pending") === inp.value) return;  /* already on its way */
    if (inp.getAttribute("data-kind") === "date") {
      var why = dateProblem(inp.value);
      if (why) { setNote(inp, why, "invalid"); return; }
      inp.value = inp.value.trim().replace(/^(\d{4})-(\d)-/, "$1-0$2-").replace(/-(\d)$/, "-0$1");
    }
    inp.setAttribute("data-pending", inp.value);
    save([opFor(inp)], { inputs: [inp] }).then(function () { inp.removeAttribute("data-pending"); });
  }

  if (page.editable) {
    valueInputs().forEach(function (inp) {
      inp.setAttribute("data-orig", inp.value);
      autosize(inp);
      if (inp.getAttribute("data-kind") === "customer") return;
      inp.addEventListener("change", function () { commit(inp); });
      inp.addEventListener("input", function () {
        autosize(inp);
        var k = inp.getAttribute("data-key");
        if (/\.(quantity|unit_price)$/.test(k)) previewAmount(inp.closest("tr.line"));
        if (inp.closest(".field") && inp.closest(".field").classList.contains("invalid") && inp.getAttribute("data-kind") === "date" && !dateProblem(inp.value)) setNote(inp, "");
      });
      inp.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") {
          if (isDirty(inp) && !inp.hasAttribute("data-theirs")) { inp.value = inp.getAttribute("data-orig") || ""; setNote(inp, ""); revertPreview(inp); }
          inp.blur();
          ev.preventDefault();
        } else if (ev.key === "Enter" && !ev.shiftKey && (inp.tagName === "INPUT" || inp.closest("table.lines"))) {
          ev.preventDefault();
          inp.blur();  /* leaving the field commits it (its change event), once */
        }
      });
    });

    /* fixes from the problem list, one or all */
    document.addEventListener("click", function (ev) {
      var b = ev.target.closest && ev.target.closest("[data-ops]");
      if (!b || !page.editable) return;
      ev.preventDefault();
      ev.stopPropagation();
      var ops;
      try { ops = JSON.parse(b.getAttribute("data-ops")); } catch (e) { return; }
      b.disabled = true;
      var ins = ops.map(function (op) { var k = keyOf(op); return k && inputFor(k); }).filter(Boolean);
      save(ops, { inputs: ins }).then(function () { b.disabled = false; });
    });

    /* structural edits reload the page: line positions change */
    $$("[data-op]").forEach(function (b) {
      b.addEventListener("click", function () {
        var op = b.getAttribute("data-op");
        var body = { op: op };
        if (b.hasAttribute("data-line")) body.line = parseInt(b.getAttribute("data-line"), 10);
        if (op === "delete_line" && !window.confirm("Delete this line?")) return;
        if (op === "split_line") {
          var q = window.prompt("Quantity to move to a new line:");
          if (!q) return;
          body.quantity = q;
        }
        save([body], { after: function () { reloadKeeping(); } });
      });
    });

    /* values typed before a reload come back, marked, until they are saved */
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(STORE) || "null"); sessionStorage.removeItem(STORE); } catch (e) { kept = null; }
    if (kept) {
      var n = 0;
      Object.keys(kept).forEach(function (k) {
        var inp = inputFor(k);
        if (!inp || inp.value === kept[k]) return;
        inp.value = kept[k];
        setNote(inp, "Your value from before the reload: press Enter to save it", "unsaved");
        n += 1;
      });
      if (n) R.toast(n + " value(s) you typed are back in their fields, not saved yet.");
    }
  }

  /* ---- the customer: search by name or id, pick one ---- */
  var cust = $("#customer-q"), sug = $("#customer-suggest"), custNote = $("#customer-note");
  var custHits = [], custActive = -1, custTimer = null;
  function custLabel(c) { return c.name ? c.name + " (" + c.value + ")" : (c.value || ""); }
  function showCustomer(c) {
    if (!cust) return;
    cust.setAttribute("data-id", c.value || "");
    cust.setAttribute("data-label", custLabel(c));
    if (document.activeElement !== cust) cust.value = custLabel(c);
    var f = cust.closest(".field");
    if (f) f.classList.toggle("low", !!c.low);
    var via = f && f.querySelector(".via");
    if (via) via.textContent = c.via ? c.via.replace("_", " ") + " " + Math.round(c.confidence * 100) + "%" : "";
    var nm = $(".cust-name");
    if (nm) nm.textContent = c.name || "";
  }
  function closeSuggest() { if (sug) { sug.classList.add("hidden"); sug.textContent = ""; } if (cust) cust.setAttribute("aria-expanded", "false"); custHits = []; custActive = -1; }
  function paintSuggest() {
    $$("li", sug).forEach(function (li, i) { li.classList.toggle("active", i === custActive); li.setAttribute("aria-selected", i === custActive ? "true" : "false"); });
  }
  function renderSuggest(results, q) {
    sug.textContent = "";
    custHits = results;
    custActive = results.length ? 0 : -1;
    if (!results.length) {
      var e = document.createElement("li");
      e.className = "none";
      e.textContent = "No customer matches \u201c" + q + "\u201d";
      sug.appendChild(e);
    }
    results.forEach(function (c, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("data-id", c.customer_id);
      var b = document.createElement("b"); b.textContent = c.name;
      var s = document.createElement("small"); s.textContent = " " + c.customer_id;
      li.appendChild(b); li.appendChild(s);
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pickCustomer(c); });
      sug.appendChild(li);
    });
    sug.classList.remove("hidden");
    cust.setAttribute("aria-expanded", "true");
    paintSuggest();
  }
  function pickCustomer(c) {
    closeSuggest();
    if (custNote) custNote.textContent = "";
    var prev = cust.getAttribute("data-label") || "";
    cust.value = c.name + " (" + c.customer_id + ")";
    cust.setAttribute("data-label", cust.value);  /* leaving the field now is no new search */
    if (c.customer_id === cust.getAttribute("data-id")) { cust.blur(); return; }
    save([{ op: "set", field: "customer_id", value: c.customer_id }], {
      onError: function (detail) { cust.setAttribute("data-label", prev); cust.value = prev; if (custNote) custNote.textContent = detail; }
    });
    cust.blur();
  }
  var mastersLoaded = true;
  function searchCustomers(q) {
    return R.getJSON("/review/api/customers/search?q=" + encodeURIComponent(q)).then(function (d) {
      mastersLoaded = d.masters_loaded !== false;
      return d.results || [];
    });
  }
  if (cust && page.editable) {
    cust.setAttribute("data-label", cust.value);
    cust.addEventListener("focus", function () { cust.select(); });
    cust.addEventListener("input", function () {
      clearTimeout(custTimer);
      var q = cust.value.trim();
      if (!q) { closeSuggest(); return; }
      custTimer = setTimeout(function () {
        searchCustomers(q).then(function (res) { if (cust.value.trim() === q) renderSuggest(res, q); });
      }, 120);
    });
    cust.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" && custHits.length) { custActive = Math.min(custHits.length - 1, custActive + 1); paintSuggest(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp" && custHits.length) { custActive = Math.max(0, custActive - 1); paintSuggest(); ev.preventDefault(); }
      else if (ev.key === "Enter") {
        ev.preventDefault();
        if (custHits[custActive]) { pickCustomer(custHits[custActive]); return; }
        resolveTyped();
      } else if (ev.key === "Escape") { ev.preventDefault(); closeSuggest(); cust.value = cust.getAttribute("data-label") || ""; cust.blur(); }
    });
    cust.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== cust) resolveTyped(); }, 150); });
  }
  /* text typed and left without a pick: one exact customer is taken; anything else is said, not saved */
  function resolveTyped() {
    var q = cust.value.trim();
    var label = cust.getAttribute("data-label") || "";
    closeSuggest();
    if (q === label) return;
    if (!q) {
      if (!cust.getAttribute("data-id")) return;
      save([{ op: "set", field: "customer_id", value: "" }], {});
      return;
    }
    searchCustomers(q).then(function (res) {
      if (!mastersLoaded) {  /* no master data to search: the id is what the CSR typed */
        save([{ op: "set", field: "customer_id", value: q }], {
          onError: function (detail) { cust.value = label; if (custNote) custNote.textContent = detail; }
        });
        return;
      }
      var exact = res.filter(function (c) { return c.score >= 1; });
      if (exact.length === 1) { pickCustomer(exact[0]); return; }
      cust.value = label;
      if (custNote) custNote.textContent = res.length
        ? "\u201c" + q + "\u201d is not one customer: pick one from the list (" + res.slice(0, 3).map(function (c) { return c.name; }).join(", ") + ")."
        : "No customer named \u201c" + q + "\u201d in the master data: the customer was not changed.";
    });
  }

  /* ---- the product picker: matching's candidates first, then a catalog search ---- */
  var picker = $("#picker");
  var pq = $("#picker-q");
  var pres = $("#picker-results");
  var pickLine = null, pickItems = [], pickActive = -1, searchTimer = null;

  function renderPick(cands, results) {
    pres.textContent = "";
    pickItems = [];
    function section(title, list) {
      if (!list.length) return;
      var h = document.createElement("li");
      h.className = "head";
      h.textContent = title;
      pres.appendChild(h);
      list.forEach(function (c) {
        var li = document.createElement("li");
        var s = document.createElement("span");
        s.className = "s";
        s.textContent = c.sku + (typeof c.score === "number" ? "  \u00b7 " + Math.round(c.score * 100) + "%" : "");
        var d = document.createElement("small");
        d.textContent = c.description || "";
        li.appendChild(s);
        li.appendChild(d);
        li.addEventListener("click", function () { choose(c.sku); });
        li.setAttribute("data-sku", c.sku);
        pres.appendChild(li);
        pickItems.push(li);
      });
    }
    section("Suggested by matching", cands);
    section("Catalog search", results);
    if (!pickItems.length) {
      var e = document.createElement("li");
      e.className = "head";
      e.textContent = pq.value ? "No product found" : "Type to search the catalog";
      pres.appendChild(e);
    }
    pickActive = !pickItems.length ? -1 : (results.length ? pickItems.length - Math.min(results.length, pickItems.length) : 0);
    paintActive();
  }
  function paintActive() {
    pickItems.forEach(function (li, i) { li.classList.toggle("active", i === pickActive); });
    if (pickItems[pickActive]) pickItems[pickActive].scrollIntoView({ block: "nearest" });
  }
  function openPicker(line) {
    if (!picker || !page.editable) return;
    pickLine = line;
    var td = $('tr.line[data-line="' + line + '"] td.product');
    if (!td) return;
    td.scrollIntoView({ block: "center" });
    var r = td.getBoundingClientRect();
    picker.classList.remove("hidden");
    picker.style.top = Math.max(8, Math.min(window.innerHeight - 380, r.bottom + 4)) + "px";
    picker.style.left = Math.max(8, Math.min(window.innerWidth - 440, r.right - 420)) + "px";
    pq.value = "";
    renderPick(page.candidates[String(line)] || [], []);
    pq.focus();
  }
  function closePicker() {
    if (picker) picker.classList.add("hidden");
    pickLine = null;
  }
  function choose(sku) {
    var line = pickLine;
    closePicker();
    save([{ op: "set", line: line, field: "sku", value: sku }], {});
  }
  if (picker) {
    $$("[data-pick]").forEach(function (b) {
      b.addEventListener("click", function (ev) { ev.stopPropagation(); openPicker(parseInt(b.getAttribute("data-pick"), 10)); });
    });
    $("#picker-close").addEventListener("click", closePicker);
    pq.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () {
        var q = pq.value.trim();
        if (!q) { renderPick(page.candidates[String(pickLine)] || [], []); return; }
        R.getJSON("/review/api/catalog/search?q=" + encodeURIComponent(q)).then(function (d) {
          renderPick(page.candidates[String(pickLine)] || [], d.results || []);
        });
      }, 150);
    });
    pq.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown") { pickActive = Math.min(pickItems.length - 1, pickActive + 1); paintActive(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp") { pickActive = Math.max(0, pickActive - 1); paintActive(); ev.preventDefault(); }
      else if (ev.key === "Enter") {
        ev.preventDefault();
        if (pickItems[pickActive]) choose(pickItems[pickActive].getAttribute("data-sku"));
        else if (pq.value.trim()) choose(pq.value.trim());
      } else if (ev.key === "Escape") { ev.preventDefault(); closePicker(); }
    });
    document.addEventListener("click", function (ev) {
      if (pickLine !== null && !picker.contains(ev.target)) closePicker();
    });
  }

  /* ---- the problem list: a click on an item takes you to its value ---- */
  var pbox = $("#problems-box");
  if (pbox) pbox.addEventListener("click", function (ev) {
    if (ev.target.closest("button")) return;
    var li = ev.target.closest("li.item[data-key]");
    if (li) selectField(fieldFor(li.getAttribute("data-key")), true);
  });

  /* ---- approve: say so when problems remain or a typed value is not saved ---- */
  var approveForm = $("#approve-form");
  if (approveForm) {
    $("#override-box").classList.toggle("hidden", !page.blocking);
    approveForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
      setTimeout(function () {
        busy.then(function () {  /* a pending save first, then the approval of that version */
          var unsaved = valueInputs().filter(isDirty);
          if (unsaved.length && !window.confirm(unsaved.length + " value(s) you typed are not saved (" +
              unsaved.map(function (i) { return labelOf(i.getAttribute("data-key")); }).join(", ") + "). Approve without them?")) return;
          var ov = $("#override");
          if (page.blocking && !ov.checked) {
            if (!window.confirm(page.blocking + " problem(s) remain. Approve anyway?")) return;
            ov.checked = true;
          }
          approveForm.submit();
        });
      }, 0);
    });
  }

  /* ---- presence: heartbeat, others, someone else's save, leaving ---- */
  function beat(leave) {
    return fetch("/review/api/orders/" + page.order_id + "/presence", {
      method: "POST", credentials: "same-origin", keepalive: !!leave,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": R.csrf() },
      body: JSON.stringify(leave ? { leave: true } : {})
    }).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  }
  function onBeat(d) {
    if (!d) return;
    renderOthers(d.others || []);
    if (d.status !== page.status && page.status === "NEEDS_REVIEW") { page.status = d.status; lockPage(d.status, d.last_change); return; }
    if (d.version > version && !saving) {
      R.getJSON("/review/api/orders/" + page.order_id + "/state").then(function (st) {
        if (saving || st.version <= version) return;
        var before = version;
        var conflicts = applyState(st, []);
        setVersion(st.version);
        if (conflicts.length) conflictFor(conflicts, st.last_change);
        else R.toast((st.last_change ? st.last_change.actor : "Someone") + " saved changes (version " + before + " \u2192 " + st.version + "): the page shows them.");
      });
    }
  }
  if (page.status === "NEEDS_REVIEW") {
    renderOthers(page.others || []);
    setInterval(function () { if (!document.hidden) beat(false).then(onBeat); }, (page.heartbeat_s || 15) * 1000);
    window.addEventListener("pagehide", function () { beat(true); });
  }
  /* a page brought back from the browser's cache shows old news: load it again */
  window.addEventListener("pageshow", function (ev) { if (ev.persisted) location.reload(); });

  /* ---- keys ---- */
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (pickLine !== null) return;
    if (R.anyDialogOpen()) return;
    if (R.typing(ev)) return;
    var k = ev.key;
    if (k === "?") { ev.preventDefault(); R.openDialog("help"); }
    else if (k === "j" || k === "ArrowDown") { ev.preventDefault(); moveField(1); }
    else if (k === "k" || k === "ArrowUp") { ev.preventDefault(); moveField(-1); }
    else if (k === "e" || (k === "Enter" && selected)) {
      ev.preventDefault();
      if (selected) {
        if (selected.classList.contains("product")) openPicker(parseInt(selected.closest("tr").getAttribute("data-line"), 10));
        else selectField(selected, true);
      }
    }
    else if (k === "p") {
      ev.preventDefault();
      var tr = (selected && selected.closest("tr.line")) || $("tr.line");
      if (tr) openPicker(parseInt(tr.getAttribute("data-line"), 10));
    }
    else if (k === "+" || k === "=") { ev.preventDefault(); setZoom(zoom * 1.25); }
    else if (k === "-") { ev.preventDefault(); setZoom(zoom / 1.25); }
    else if (k === "0") { ev.preventDefault(); setZoom(1); }
    else if (k === "n" || k === "Enter") { ev.preventDefault(); location.href = page.next_url; }
    else if (k === "a" && approveForm) { ev.preventDefault(); approveForm.requestSubmit(); }
    else if (k === "r" && $("#reject-dialog") && $("#reject")) { ev.preventDefault(); R.openDialog("reject-dialog"); }
    else if (k === "h" && $("#hold")) { ev.preventDefault(); R.openDialog("hold-dialog"); }
    else if (k === "Escape") { clearHighlights(); if (selected) { selected.classList.remove("selected"); selected = null; } }
  });

  var initial = { problems: [], checks: [] };
  $$("#problems li.item[data-key]").forEach(function (li) {
    var g = li.closest("li.group");
    var item = { key: li.getAttribute("data-key"), message: li.textContent.trim() };
    if (g && g.classList.contains("check")) initial.checks.push(item); else initial.problems.push(item);
  });
  markProblems(initial);
});
