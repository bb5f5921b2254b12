/* The order page: highlight a value's source on the page, save edits as you go (each one a
   correction, re-validated by the server), the product picker and the keyboard path. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var R = window.Review;
  var dataEl = document.getElementById("page-data");
  if (!dataEl) return;
  var page = JSON.parse(dataEl.textContent);
  var version = page.version;
  var busy = Promise.resolve();

  /* ---- highlight where a value was read ---- */
  function clearHighlights() {
    document.querySelectorAll(".hl-layer").forEach(function (l) { l.textContent = ""; });
  }
  function highlight(key) {
    clearHighlights();
    var srcs = page.sources[key] || [];
    var first = null;
    srcs.forEach(function (s) {
      var dims = page.pages[s.page];
      var pageEl = document.querySelector('.docpage[data-page="' + s.page + '"]');
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
    if (first) first.scrollIntoView({ block: "center", behavior: "smooth" });
    return srcs.length;
  }

  /* ---- field selection (j/k) ---- */
  function fieldEls() {
    return Array.prototype.slice.call(document.querySelectorAll(".fields-pane .field[data-key]"));
  }
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
  document.querySelectorAll(".fields-pane .field[data-key]").forEach(function (el) {
    el.addEventListener("focusin", function () { selectField(el, false); });
    el.addEventListener("click", function () { selectField(el, false); });
  });
  document.querySelectorAll("#problems li[data-key]").forEach(bindProblem);
  function bindProblem(li) {
    li.addEventListener("click", function () {
      var key = li.getAttribute("data-key");
      var el = document.querySelector('.field[data-key="' + key + '"]') ||
        document.querySelector('tr.line[data-key="' + key + '"] .field');
      selectField(el, true);
    });
  }

  /* ---- pages / text toggle ---- */
  document.querySelectorAll(".doc-toggle button").forEach(function (b) {
    b.addEventListener("click", function () {
      var show = b.getAttribute("data-show");
      document.querySelectorAll(".doc-toggle button").forEach(function (x) { x.classList.toggle("on", x === b); });
      var pages = document.getElementById("pages"), text = document.getElementById("doctext");
      if (pages) pages.classList.toggle("hidden", show !== "pages");
      if (text) text.classList.toggle("hidden", show !== "text");
    });
  });

  /* ---- saving edits ---- */
  function setVersion(v) {
    version = v;
    page.version = v;
    document.querySelectorAll(".version-input").forEach(function (i) { i.value = v; });
    var vEl = document.getElementById("order-version");
    if (vEl) vEl.textContent = v;
  }

  function markProblems(problems) {
    document.querySelectorAll(".field.problem, tr.line.problem").forEach(function (el) { el.classList.remove("problem"); });
    problems.forEach(function (p) {
      if (!p.key) return;
      var el = document.querySelector('.field[data-key="' + p.key + '"], tr.line[data-key="' + p.key + '"]');
      if (el) { el.classList.add("problem"); el.title = p.message; }
    });
  }

  function renderState(st) {
    var ul = document.getElementById("problems");
    if (ul) {
      ul.textContent = "";
      if (!st.problems.length) {
        var li0 = document.createElement("li");
        li0.className = "none";
        li0.textContent = "No problems: ready to approve.";
        ul.appendChild(li0);
      }
      st.problems.forEach(function (p) {
        var li = document.createElement("li");
        li.className = p.severity || "error";
        var code = document.createElement("span");
        code.className = "code";
        code.textContent = p.code;
        li.appendChild(code);
        li.appendChild(document.createTextNode(" " + p.message));
        if (p.key) { li.setAttribute("data-key", p.key); bindProblem(li); }
        ul.appendChild(li);
      });
      var cnt = document.getElementById("problem-count");
      if (cnt) cnt.textContent = st.problems.length;
    }
    markProblems(st.problems);
    page.blocking = st.blocking;
    var box = document.getElementById("override-box");
    if (box) box.classList.toggle("hidden", !st.blocking);
    var conf = document.getElementById("order-conf");
    if (conf && typeof st.confidence === "number") conf.textContent = Math.round(st.confidence * 100) + "%";
    Object.keys(st.header).forEach(function (k) {
      var el = document.querySelector('.field[data-key="' + k + '"]');
      if (el) el.classList.toggle("low", !!st.header[k].low);
    });
    st.lines.forEach(function (ln) {
      var tr = document.querySelector('tr.line[data-line="' + ln.index + '"]');
      if (!tr) return;
      Object.keys(ln.cells).forEach(function (name) {
        var c = ln.cells[name];
        var td = tr.querySelector('.field[data-key="' + c.key + '"]');
        if (td) td.classList.toggle("low", !!c.low);
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
  }

  /* one save at a time, in order: each carries the version the previous one produced */
  function save(ops, after) {
    busy = busy.then(function () {
      return R.postJSON("/review/api/orders/" + page.order_id + "/edit", { version: version, ops: ops })
        .then(function (res) {
          if (res.ok) {
            setVersion(res.data.version);
            renderState(res.data);
            if (res.data.changed) R.toast("Saved: " + res.data.corrections.map(function (c) { return c.field; }).join(", "));
            if (after) after(res.data);
            return true;
          }
          R.toast((res.data && res.data.detail) || ("Could not save (HTTP " + res.status + ")"), true);
          if (res.status === 409) setTimeout(function () { location.reload(); }, 1500);
          return false;
        })
        .catch(function () { R.toast("Could not reach the server: your change was not saved.", true); return false; });
    });
    return busy;
  }

  function opFor(input) {
    var key = input.getAttribute("data-key");
    var parts = key.split(".");
    if (parts[0] === "h") return { op: "set", field: parts[1], value: input.value };
    return { op: "set", line: parseInt(parts[1], 10), field: parts[2], value: input.value };
  }

  if (page.editable) {
    document.querySelectorAll(".fields-pane input[data-key], .fields-pane textarea[data-key]").forEach(function (inp) {
      inp.setAttribute("data-orig", inp.value);
      inp.addEventListener("change", function () {
        if (inp.value === inp.getAttribute("data-orig")) return;
        save([opFor(inp)], function () {
          inp.setAttribute("data-orig", inp.value);
          var f = inp.closest(".field");
          if (f) { f.classList.add("saved"); setTimeout(function () { f.classList.remove("saved"); }, 1200); }
        });
      });
      inp.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { inp.blur(); ev.preventDefault(); }
        else if (ev.key === "Enter" && inp.tagName.toLowerCase() === "input") { ev.preventDefault(); inp.blur(); }
      });
    });

    /* structural edits reload the page: line positions change */
    document.querySelectorAll("[data-op]").forEach(function (b) {
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
        save([body], function () { location.reload(); });
      });
    });

    /* customer suggestions */
    var cust = document.querySelector('input[data-key="h.customer_id"]');
    var dl = document.getElementById("customer-list");
    if (cust && dl) {
      cust.addEventListener("input", function () {
        var q = cust.value.trim();
        if (q.length < 2) return;
        R.getJSON("/review/api/customers/search?q=" + encodeURIComponent(q)).then(function (d) {
          dl.textContent = "";
          d.results.forEach(function (c) {
            var o = document.createElement("option");
            o.value = c.customer_id;
            o.label = c.name;
            dl.appendChild(o);
          });
        });
      });
    }
  }

  /* ---- the product picker: matching's candidates first, then a catalog search ---- */
  var picker = document.getElementById("picker");
  var pq = document.getElementById("picker-q");
  var pres = document.getElementById("picker-results");
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
    /* with a query typed, the first search result is the likely choice */
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
    var td = document.querySelector('tr.line[data-line="' + line + '"] td.product');
    if (!td) return;
    td.scrollIntoView({ block: "center" });
    var r = td.getBoundingClientRect();
    picker.classList.remove("hidden");
    picker.style.top = Math.min(window.innerHeight - 380, r.bottom + 4) + "px";
    picker.style.left = Math.max(8, Math.min(window.innerWidth - 440, r.left - 200)) + "px";
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
    save([{ op: "set", line: line, field: "sku", value: sku }]);
  }
  if (picker) {
    document.querySelectorAll("[data-pick]").forEach(function (b) {
      b.addEventListener("click", function (ev) { ev.stopPropagation(); openPicker(parseInt(b.getAttribute("data-pick"), 10)); });
    });
    document.getElementById("picker-close").addEventListener("click", closePicker);
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

  /* ---- approve: say so when problems remain ---- */
  var approveForm = document.getElementById("approve-form");
  if (approveForm) {
    document.getElementById("override-box").classList.toggle("hidden", !page.blocking);
    approveForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      busy.then(function () {  /* a pending save first, then the approval of that version */
        var ov = document.getElementById("override");
        if (page.blocking && !ov.checked) {
          if (!window.confirm(page.blocking + " problem(s) remain. Approve anyway?")) return;
          ov.checked = true;
        }
        approveForm.submit();
      });
    });
  }

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
      var tr = (selected && selected.closest("tr.line")) || document.querySelector("tr.line");
      if (tr) openPicker(parseInt(tr.getAttribute("data-line"), 10));
    }
    else if (k === "n" || k === "Enter") { ev.preventDefault(); location.href = page.next_url; }
    else if (k === "a" && approveForm) { ev.preventDefault(); approveForm.requestSubmit(); }
    else if (k === "r" && document.getElementById("reject-dialog") && document.getElementById("reject")) { ev.preventDefault(); R.openDialog("reject-dialog"); }
    else if (k === "h" && document.getElementById("hold")) { ev.preventDefault(); R.openDialog("hold-dialog"); }
    else if (k === "Escape") { clearHighlights(); if (selected) { selected.classList.remove("selected"); selected = null; } }
  });

  markProblems(Array.prototype.map.call(document.querySelectorAll("#problems li[data-key]"), function (li) {
    return { key: li.getAttribute("data-key"), message: li.textContent };
  }));
});
