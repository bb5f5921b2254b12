/* Review UI, every page: the CSRF-carrying fetch, dialogs, the help, the queue's keys. */
"use strict";

window.Review = (function () {
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  /* POST JSON with the session's CSRF token in a header; resolves {ok, status, data}. */
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { ok: r.ok, status: r.status, data: data };
      });
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }

  function typing(ev) {
    var t = ev.target;
    if (!t || !t.tagName) return false;
    var tag = t.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || t.isContentEditable;
  }

  function openDialog(id) {
    var d = document.getElementById(id);
    if (d && !d.open) {
      d.showModal();
      var first = d.querySelector("textarea, input:not([type=hidden])");
      if (first) first.focus();
    }
  }

  function anyDialogOpen() {
    return !!document.querySelector("dialog[open]");
  }

  function toast(msg, isError) {
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = msg;
    t.classList.toggle("err", !!isError);
    t.classList.remove("hidden");
    clearTimeout(toast._timer);
    toast._timer = setTimeout(function () { t.classList.add("hidden"); }, isError ? 6000 : 2500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-dialog]").forEach(function (b) {
      b.addEventListener("click", function () { openDialog(b.getAttribute("data-dialog")); });
    });
    document.querySelectorAll("dialog [data-close]").forEach(function (b) {
      b.addEventListener("click", function () { b.closest("dialog").close(); });
    });
    document.querySelectorAll('[data-action="help"]').forEach(function (b) {
      b.addEventListener("click", function () { openDialog("help"); });
    });
    document.querySelectorAll("select.autosubmit").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    document.querySelectorAll(".filters select").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });

    /* the queue: rows open on click; j/k select, Enter/n open */
    var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tr.qrow"));
    rows.forEach(function (r) {
      r.addEventListener("click", function (ev) {
        if (ev.target.closest("a")) return;
        location.href = r.getAttribute("data-href");
      });
    });
    function sel() { return rows.findIndex(function (r) { return r.classList.contains("selected"); }); }
    function select(i) {
      if (!rows.length) return;
      i = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r) { r.classList.remove("selected"); });
      rows[i].classList.add("selected");
      rows[i].scrollIntoView({ block: "nearest" });
    }

    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (typing(ev) || anyDialogOpen()) return;
      if (ev.key === "?") { ev.preventDefault(); openDialog("help"); return; }
      if (!rows.length) return;
      if (ev.key === "j" || ev.key === "ArrowDown") { ev.preventDefault(); select(sel() + 1); }
      else if (ev.key === "k" || ev.key === "ArrowUp") { ev.preventDefault(); select(sel() - 1); }
      else if (ev.key === "Enter" || ev.key === "n") {
        ev.preventDefault();
        var i = sel();
        location.href = rows[i < 0 ? 0 : i].getAttribute("data-href");
      }
    });
  });

  return { csrf: csrf, postJSON: postJSON, getJSON: getJSON, typing: typing, openDialog: openDialog,
           anyDialogOpen: anyDialogOpen, toast: toast };
})();
