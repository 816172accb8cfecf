// datagen review page: draws the cards from the embedded JSON, a batch at a time, and handles
// filters, j/k navigation, accept/reject decisions and their export.
// Data only ever enters the page as text nodes (textContent / createTextNode), never as markup.
// Decisions are kept in localStorage (per page) so a reload does not lose a review in progress.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("review-data").textContent);
  var all = data.cards;
  var storeKey = "datagen-review:" + data.pageKey;
  var decisions = {};
  var shown = [];      // indexes into `all` that pass the filters, in order
  var drawn = 0;       // how many of `shown` are in the DOM
  var current = -1;    // position in `shown` of the highlighted card
  var main = document.getElementById("cards");
  var more = document.getElementById("more");

  try { decisions = JSON.parse(localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { decisions = {}; }

  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(decisions)); } catch (e) { /* private mode: keep in memory */ }
  }

  // ---- building elements (text only) ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function turnText(value) {
    // The <image> token is shown as a small chip; everything else is plain text.
    var box = el("div", "say"), parts = String(value).split("<image>");
    parts.forEach(function (part, i) {
      if (i > 0) box.appendChild(el("span", "imgtok", "<image>"));
      box.appendChild(document.createTextNode(part));
    });
    return box;
  }

  function visual(card, ctx) {
    var wrap = el("div", "visual");
    var img = card.image ? data.images[card.image] : null;
    if (!img) { wrap.appendChild(el("div", "noimg", "no image in this record")); return wrap; }
    if (img.missing) { wrap.appendChild(el("div", "noimg", img.missing)); return wrap; }
    var frame = el("div", "frame"), im = el("img");
    im.alt = card.image;
    if (img.w && img.h) { im.width = img.w; im.height = img.h; }
    im.loading = "lazy";
    im.decoding = "async";
    im.src = img.src;
    frame.appendChild(im);
    (ctx ? ctx.boxes : []).forEach(function (b, i) {
      if (!b.css) return;
      var d = el("div", "box" + (b.crowd ? " crowd" : "") + (b.small ? " small" : "") + (b.flip ? " flip" : ""));
      d.setAttribute("data-box", i);
      d.title = b.category;
      d.style.left = b.css[0]; d.style.top = b.css[1]; d.style.width = b.css[2]; d.style.height = b.css[3];
      d.style.setProperty("--hue", b.hue);
      d.appendChild(el("span", null, b.category));
      frame.appendChild(d);
    });
    wrap.appendChild(frame);
    return wrap;
  }

  function contextBlock(ctx, parent) {
    if (!ctx) { parent.appendChild(el("p", "muted", "No context found for this image (pass --contexts).")); return; }
    var sec = el("section", "captions"), ol = el("ol");
    sec.appendChild(el("h3", null, "Captions"));
    ctx.captions.forEach(function (c) { ol.appendChild(el("li", null, c)); });
    sec.appendChild(ol);
    parent.appendChild(sec);
    if (!ctx.boxes.length) return;
    var det = el("details", "boxlist"), ul = el("ul");
    det.appendChild(el("summary", null, ctx.boxes.length + (ctx.boxes.length === 1 ? " box" : " boxes")));
    ctx.boxes.forEach(function (b, i) {
      var li = el("li", null, b.category + ": " + b.bbox + (b.crowd ? " (crowd)" : ""));
      li.setAttribute("data-box", i);
      li.style.setProperty("--hue", b.hue);
      ul.appendChild(li);
    });
    det.appendChild(ul);
    parent.appendChild(det);
  }

  function renderCard(idx) {
    var card = all[idx], ctx = card.ctx ? data.contexts[card.ctx] : null;
    var art = el("article", "card " + card.kind);
    art.id = "card-" + idx;
    art.tabIndex = -1;
    art.setAttribute("data-key", card.key);
    art.setAttribute("data-task", card.task);
    art.setAttribute("data-kind", card.kind);
    art.setAttribute("data-index", idx);
    art.appendChild(visual(card, ctx));
    var body = el("div", "text"), head = el("div", "head");
    head.appendChild(el("span", "chip task", card.task));
    head.appendChild(el("span", "rid", card.id)).title = "id";
    head.appendChild(el("span", "iname", card.image || "")).title = "image";
    if (card.kind === "sample") {
      var dec = el("span", "decide"), acc = el("button", "acc", "\u2713 accept"), rej = el("button", "rej", "\u2717 reject");
      acc.type = rej.type = "button";
      acc.setAttribute("data-act", "accept"); acc.title = "accept (a)";
      rej.setAttribute("data-act", "reject"); rej.title = "reject (r)";
      dec.appendChild(acc); dec.appendChild(rej);
      head.appendChild(dec);
    } else {
      head.appendChild(el("span", "chip bad", "failure"));
    }
    body.appendChild(head);
    if (card.failure) {
      var f = el("div", "failure");
      f.appendChild(el("b", null, card.failure.what));
      f.appendChild(document.createTextNode(card.failure.attempts + ": " + card.failure.reason));
      body.appendChild(f);
      if (card.failure.raw) {
        var raw = el("details", "rawreply");
        raw.appendChild(el("summary", null, "raw reply"));
        raw.appendChild(el("pre", null, card.failure.raw));
        body.appendChild(raw);
      }
    }
    if (card.problems) body.appendChild(el("div", "problems", "not a valid LLaVA record: " + card.problems));
    contextBlock(ctx, body);
    if (card.conv !== undefined) {
      if (typeof card.conv === "string") {
        body.appendChild(el("pre", "raw", card.conv));
      } else {
        var conv = el("section", "conv");
        card.conv.forEach(function (t) {
          var who = t[0] === "human" || t[0] === "gpt" ? t[0] : "other", turn = el("div", "turn " + who);
          turn.appendChild(el("b", null, t[0]));
          turn.appendChild(turnText(t[1]));
          conv.appendChild(turn);
        });
        body.appendChild(conv);
      }
    }
    (card.extra || []).forEach(function (kv) {
      var sec = el("section", "extra");
      sec.appendChild(el("h3", null, kv[0]));
      sec.appendChild(el("div", "say", kv[1]));
      body.appendChild(sec);
    });
    if (card.prov) body.appendChild(el("p", "prov", card.prov));
    art.appendChild(body);
    paintCard(art);
    return art;
  }

  // ---- decisions ----
  function paintCard(art) {
    var d = decisions[art.getAttribute("data-key")];
    art.classList.toggle("accepted", d === "accept");
    art.classList.toggle("rejected", d === "reject");
    art.querySelectorAll("button[data-act]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(d === b.getAttribute("data-act")));
    });
  }

  function tally() {
    var acc = 0, rej = 0;
    Object.keys(decisions).forEach(function (k) { if (decisions[k] === "accept") acc++; else if (decisions[k] === "reject") rej++; });
    document.getElementById("n-accepted").textContent = acc;
    document.getElementById("n-rejected").textContent = rej;
  }

  var sampleKeys = {};
  all.forEach(function (c) { if (c.kind === "sample") sampleKeys[c.key] = true; });
  Object.keys(decisions).forEach(function (k) { if (!sampleKeys[k]) delete decisions[k]; });

  function rejectedIds() {
    var seen = {}, out = [];
    all.forEach(function (c) {
      if (c.kind === "sample" && decisions[c.key] === "reject" && !seen[c.key]) { seen[c.key] = 1; out.push(c.key); }
    });
    return out;
  }

  function decide(art, act) {
    if (!art || art.getAttribute("data-kind") !== "sample") return;
    var k = art.getAttribute("data-key");
    if (act === "undo" || decisions[k] === act) delete decisions[k]; else decisions[k] = act;
    save();
    main.querySelectorAll("article.card").forEach(function (a) { if (a.getAttribute("data-key") === k) paintCard(a); });
    tally();
  }

  // ---- filtering and drawing ----
  var haystack = all.map(function (c) {
    var ctx = c.ctx ? data.contexts[c.ctx] : null, parts = [c.id, c.task, c.image || "", c.prov || "", c.problems || ""];
    if (ctx) parts = parts.concat(ctx.captions, ctx.boxes.map(function (b) { return b.category; }));
    if (Array.isArray(c.conv)) c.conv.forEach(function (t) { parts.push(t[1]); }); else if (c.conv) parts.push(c.conv);
    (c.extra || []).forEach(function (kv) { parts.push(kv[1]); });
    if (c.failure) parts.push(c.failure.what, c.failure.reason, c.failure.raw);
    return parts.join("\n").toLowerCase();
  });

  var taskSel = document.getElementById("task-filter");
  var statusSel = document.getElementById("status-filter");
  var search = document.getElementById("search");

  function matches(i, task, status, q) {
    var c = all[i], d = decisions[c.key];
    if (task && c.task !== task) return false;
    if (status === "failures" && c.kind !== "failure") return false;
    if (status === "unreviewed" && (c.kind !== "sample" || d)) return false;
    if (status === "accepted" && d !== "accept") return false;
    if (status === "rejected" && d !== "reject") return false;
    return !q || haystack[i].indexOf(q) >= 0;
  }

  function drawMore(upTo) {
    var frag = document.createDocumentFragment(), stop = Math.min(shown.length, Math.max(upTo || 0, drawn + data.batch));
    for (; drawn < stop; drawn++) frag.appendChild(renderCard(shown[drawn]));
    main.appendChild(frag);
    more.textContent = drawn < shown.length ? "showing " + drawn + " of " + shown.length + " \u2014 scroll for more" : "";
  }

  var timer = null;

  function applyFilters() {
    clearTimeout(timer);  // a pending search re-draw would otherwise replace the cards under the reader's clicks
    var task = taskSel.value, status = statusSel.value, q = search.value.trim().toLowerCase();
    shown = [];
    for (var i = 0; i < all.length; i++) if (matches(i, task, status, q)) shown.push(i);
    main.textContent = "";
    drawn = 0;
    current = -1;
    drawMore();
    document.getElementById("visible-count").textContent = shown.length + " of " + all.length + " cards";
    document.getElementById("no-match").hidden = shown.length > 0 || all.length === 0;
  }

  if ("IntersectionObserver" in window) {
    // Entries can be stale by the time the callback runs (j may already have drawn the next batch),
    // so the sentinel's position is checked again before drawing.
    new IntersectionObserver(function () {
      if (drawn < shown.length && more.getBoundingClientRect().top < window.innerHeight + 1200) drawMore();
    }, { rootMargin: "1200px 0px" }).observe(more);
  }

  function cardAt(pos) { return document.getElementById("card-" + shown[pos]); }

  function focusCard(pos) {
    var old = cardAt(current);
    if (current >= 0 && old) old.classList.remove("current");
    current = pos;
    if (pos < 0) return;
    if (pos >= drawn) drawMore(pos + 1);
    var art = cardAt(pos);
    art.classList.add("current");
    art.focus({ preventScroll: true });
    art.scrollIntoView({ block: "start", behavior: "auto" });
  }

  // The card a/r/u act on: the current one, or the first shown when none is selected yet (a
  // reviewer who opens the page and presses `a` means the card in front of them).
  function selected() {
    if (current < 0 && shown.length) focusCard(0);
    return current >= 0 ? cardAt(current) : null;
  }

  function move(step) {
    if (!shown.length) return;
    var next = current < 0 ? 0 : Math.min(shown.length - 1, Math.max(0, current + step));
    focusCard(next);
  }

  taskSel.addEventListener("change", applyFilters);
  statusSel.addEventListener("change", applyFilters);
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(applyFilters, 150); });
  document.getElementById("show-boxes").addEventListener("change", function (e) {
    document.body.classList.toggle("noboxes", !e.target.checked);
  });

  main.addEventListener("click", function (e) {
    var btn = e.target.closest("button[data-act]");
    if (!btn) return;
    var art = btn.closest("article.card");
    decide(art, btn.getAttribute("data-act"));
    var pos = shown.indexOf(Number(art.getAttribute("data-index")));
    if (pos !== current) { var old = cardAt(current); if (old) old.classList.remove("current"); current = pos; art.classList.add("current"); }
  });

  // Hovering a line of the box list lights up that box on the image.
  function light(e, on) {
    var li = e.target.closest && e.target.closest(".boxlist li[data-box]");
    if (!li) return;
    var box = li.closest("article.card").querySelector('.box[data-box="' + li.getAttribute("data-box") + '"]');
    if (box) box.classList.toggle("lit", on);
  }
  main.addEventListener("mouseover", function (e) { light(e, true); });
  main.addEventListener("mouseout", function (e) { light(e, false); });

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
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": decide(selected(), "accept"); break;
      case "r": decide(selected(), "reject"); break;
      case "u": decide(selected(), "undo"); break;
      case "/": search.focus(); break;
      default: return;
    }
    e.preventDefault();
  });

  // For scripts and tests driving the page: the ids the download button would export.
  window.datagenReview = { rejectedIds: rejectedIds };
  tally();
  applyFilters();
})();
