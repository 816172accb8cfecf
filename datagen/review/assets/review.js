// datagen review page: filters, j/k navigation, accept/reject decisions and their export.
// Decisions are kept in localStorage (per page) so a reload does not lose a review in progress.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("review-data").textContent);
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.card"));
  var storeKey = "datagen-review:" + data.pageKey;
  var decisions = {};
  var current = -1;

  // Embedded thumbnails are stored once per image and shared by every card showing that image.
  document.querySelectorAll("img[data-thumb]").forEach(function (img) {
    var src = data.thumbs[img.getAttribute("data-thumb")];
    if (src) img.src = src;
  });

  try { decisions = JSON.parse(localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { decisions = {}; }
  var searchText = cards.map(function (c) { return c.textContent.toLowerCase(); });

  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(decisions)); } catch (e) { /* private mode: keep in memory */ }
  }

  function rejectedIds() {
    var seen = {}, out = [];
    cards.forEach(function (c) {
      var k = c.getAttribute("data-key");
      if (c.getAttribute("data-kind") === "sample" && decisions[k] === "reject" && !seen[k]) { seen[k] = 1; out.push(k); }
    });
    return out;
  }

  function paint() {
    var acc = 0, rej = 0, seen = {};
    cards.forEach(function (c) {
      var k = c.getAttribute("data-key"), d = decisions[k];
      c.classList.toggle("accepted", d === "accept");
      c.classList.toggle("rejected", d === "reject");
      if (c.getAttribute("data-kind") !== "sample" || seen[k]) return;
      seen[k] = 1;
      if (d === "accept") acc++;
      if (d === "reject") rej++;
    });
    document.getElementById("n-accepted").textContent = acc;
    document.getElementById("n-rejected").textContent = rej;
  }

  function decide(card, act) {
    if (!card || card.getAttribute("data-kind") !== "sample") return;
    var k = card.getAttribute("data-key");
    if (act === "undo" || decisions[k] === act) delete decisions[k]; else decisions[k] = act;
    save();
    paint();
  }

  var taskSel = document.getElementById("task-filter");
  var statusSel = document.getElementById("status-filter");
  var search = document.getElementById("search");

  function matches(c, i, task, status, q) {
    if (task && c.getAttribute("data-task") !== task) return false;
    var d = decisions[c.getAttribute("data-key")], kind = c.getAttribute("data-kind");
    if (status === "failures" && kind !== "failure") return false;
    if (status === "unreviewed" && (kind !== "sample" || d)) return false;
    if (status === "accepted" && d !== "accept") return false;
    if (status === "rejected" && d !== "reject") return false;
    return !q || searchText[i].indexOf(q) >= 0;
  }

  function applyFilters() {
    var task = taskSel.value, status = statusSel.value, q = search.value.trim().toLowerCase(), n = 0;
    cards.forEach(function (c, i) {
      var show = matches(c, i, task, status, q);
      c.hidden = !show;
      if (show) n++;
    });
    document.getElementById("visible-count").textContent = n + " of " + cards.length + " cards";
    document.getElementById("no-match").hidden = n > 0 || cards.length === 0;
  }

  function visibleIndexes() {
    var out = [];
    cards.forEach(function (c, i) { if (!c.hidden) out.push(i); });
    return out;
  }

  function focusCard(i) {
    if (current >= 0 && cards[current]) cards[current].classList.remove("current");
    current = i;
    if (i < 0) return;
    cards[i].classList.add("current");
    cards[i].focus({ preventScroll: true });
    cards[i].scrollIntoView({ block: "start", behavior: "auto" });
  }

  function move(step) {
    var vis = visibleIndexes();
    if (!vis.length) return;
    var pos = vis.indexOf(current);
    var next = pos < 0 ? (step > 0 ? 0 : vis.length - 1) : Math.min(vis.length - 1, Math.max(0, pos + step));
    focusCard(vis[next]);
  }

  taskSel.addEventListener("change", applyFilters);
  statusSel.addEventListener("change", applyFilters);
  var timer = null;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(applyFilters, 120); });
  document.getElementById("show-boxes").addEventListener("change", function (e) {
    document.body.classList.toggle("noboxes", !e.target.checked);
  });

  document.getElementById("cards").addEventListener("click", function (e) {
    var btn = e.target.closest("button[data-act]");
    if (!btn) return;
    var card = btn.closest("article.card");
    decide(card, btn.getAttribute("data-act"));
    focusCard(cards.indexOf(card));
  });

  // Hovering a line of the box list lights up that box on the image.
  function light(e, on) {
    var li = e.target.closest && e.target.closest(".boxlist li[data-box]");
    if (!li) return;
    var box = li.closest("article.card").querySelector('.box[data-box="' + li.getAttribute("data-box") + '"]');
    if (box) box.classList.toggle("lit", on);
  }
  document.getElementById("cards").addEventListener("mouseover", function (e) { light(e, true); });
  document.getElementById("cards").addEventListener("mouseout", function (e) { light(e, false); });

  document.getElementById("download").addEventListener("click", function () {
    var blob = new Blob([JSON.stringify(rejectedIds(), null, 1) + "\n"], { type: "application/json" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "rejected-ids.json";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    var card = cards[current];
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": decide(card, "accept"); break;
      case "r": decide(card, "reject"); break;
      case "u": decide(card, "undo"); break;
      case "/": search.focus(); break;
      default: return;
    }
    e.preventDefault();
  });

  // For scripts and tests driving the page: the ids the download button would export.
  window.datagenReview = { rejectedIds: rejectedIds, decide: decide };
  paint();
  applyFilters();
})();
