// idp report: client-side search over the index built with the report.
// Runs from file:// and under any sub-path; never requests anything.
(function () {
  "use strict";
  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
  }
  var haystacks = null;
  function index() {
    if (!haystacks) {
      haystacks = (window.IDP_INDEX || []).map(function (r) {
        return r.slice(1).join(" ").toLowerCase();
      });
    }
    return haystacks;
  }
  function search(query) {
    var list = document.getElementById("search-results");
    var status = document.getElementById("search-status");
    if (!list) { return; }
    var single = list.getAttribute("data-single") === "true";
    var root = list.getAttribute("data-root") || "";
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var want = words(query);
    if (want.length === 0) { status.textContent = ""; return; }
    var records = window.IDP_INDEX || [];
    var hay = index();
    var found = 0, shown = 0;
    for (var i = 0; i < records.length; i++) {
      var ok = true;
      for (var j = 0; j < want.length; j++) {
        if (hay[i].indexOf(want[j]) < 0) { ok = false; break; }
      }
      if (!ok) { continue; }
      found++;
      if (shown >= 200) { continue; }
      shown++;
      var r = records[i];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = single ? "#" + r[0] : root + r[0] + ".html";
      a.textContent = r[2];
      li.appendChild(a);
      var kind = document.createElement("span");
      kind.className = "muted";
      kind.textContent = " " + r[3] + (r[6] ? " · " + r[6] : "");
      li.appendChild(kind);
      if (r[4]) {
        var d = document.createElement("p");
        d.textContent = r[4];
        li.appendChild(d);
      }
      list.appendChild(li);
    }
    status.textContent = found === 0 ? "Nothing matches." :
      found + (found === 1 ? " entity matches" : " entities match") + (found > shown ? " (first " + shown + " shown)." : ".");
  }
  function init() {
    var input = document.getElementById("search-q");
    var header = document.getElementById("q");
    var form = document.querySelector("form.search");
    var single = document.body.classList.contains("single");
    if (input) {
      var q = new URLSearchParams(window.location.search).get("q") || "";
      if (q) { input.value = q; if (header) { header.value = q; } search(q); }
      input.addEventListener("input", function () { search(input.value); });
    }
    if (single && form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        window.location.hash = "#search";
        if (input) { input.value = header.value; search(header.value); input.focus(); }
      });
    }
    if (single) {
      window.addEventListener("hashchange", function () { window.scrollTo(0, 0); });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
