/* The interactive graph view of autograd_scalar.explore: draws the data that Python
   laid out (nodes, groups, backward steps) as SVG, with pan and zoom, a panel per
   node, collapsible groups, search, paths, a heat map and a step-through backward.

   Positions: every group was laid out on its own by Graphviz (item centres in its
   frame). Expanding a group stretches its frame's plane at the group's centre by
   the growth (items to the right move right, items below move down), which keeps
   all other boxes clear, and draws the group's own layout inside. */
var AutogradScalarView = (function () {
  "use strict";
  var NODE = [128, 50], BOX = [156, 44], PAD = 10, HEADER = 20;
  var SVGNS = "http://www.w3.org/2000/svg";

  function num(x, p) {
    if (typeof x === "string") { return x; }
    if (x === 0) { return "0"; }
    var s = Number(x).toPrecision(p);
    if (s.indexOf("e") < 0 && s.indexOf(".") >= 0) { s = s.replace(/0+$/, "").replace(/\.$/, ""); }
    else if (s.indexOf("e") >= 0) {
      var parts = s.split("e"), m = parts[0];
      if (m.indexOf(".") >= 0) { m = m.replace(/0+$/, "").replace(/\.$/, ""); }
      var e = parseInt(parts[1], 10);
      s = m + "e" + (e < 0 ? "-" : "+") + (Math.abs(e) < 10 ? "0" : "") + Math.abs(e);
    }
    return s;
  }
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function magnitude(x) { return typeof x === "string" ? Infinity : Math.abs(x); }

  function mount(root) {
    if (!root || root.getAttribute("data-mounted")) { return null; }
    root.setAttribute("data-mounted", "1");
    var data = JSON.parse(root.querySelector(".agv-data").textContent);
    var nodes = data.nodes, groups = data.groups, steps = data.steps, p = data.precision;
    var picture = root.querySelector(".agv-picture");
    if (picture) { picture.remove(); }

    /* ---- structure: each node's group, each node's users ---- */
    var home = new Int32Array(nodes.length);
    groups.forEach(function (g, k) {
      g.items.forEach(function (item) { if (item[0] === "n") { home[item[1]] = k; } });
    });
    var users = nodes.map(function () { return []; });
    nodes.forEach(function (n, v) { n.kids.forEach(function (c) { users[c].push(v); }); });
    var stepOf = new Int32Array(nodes.length).fill(-1);
    steps.forEach(function (s, k) { stepOf[s.node] = k; });
    var largest = 0;
    nodes.forEach(function (n) { var m = magnitude(n.grad); if (isFinite(m)) { largest = Math.max(largest, m); } });

    /* ---- state ---- */
    var expanded = new Set([0]);
    var state = { step: -1, selected: -1, matches: new Set(), path: new Set(),
                  heat: !!data.heatmap, timer: null, s: 1, tx: 0, ty: 0 };
    openWithinBudget();

    /* ---- DOM ---- */
    var bar = el("div", "agv-bar");
    function button(label, title, action, cls) {
      var b = el("button", "agv-btn" + (cls ? " " + cls : ""), label);
      b.type = "button"; b.title = title; b.setAttribute("aria-label", title);
      b.addEventListener("click", action); bar.appendChild(b); return b;
    }
    button("+", "zoom in", function () { zoomBy(1.25); }, "agv-zoom-in");
    button("\u2212", "zoom out", function () { zoomBy(0.8); }, "agv-zoom-out");
    button("fit", "fit to width (reset)", function () { fit(); }, "agv-fit");
    var heatButton = button("heat map", "colour nodes by |grad|", function () {
      state.heat = !state.heat; heatButton.classList.toggle("agv-on", state.heat); paint();
    }, "agv-heat");
    heatButton.classList.toggle("agv-on", state.heat);
    var pathButton = button("paths to output", "highlight every path from the chosen node to the output",
                            function () { togglePaths(); }, "agv-paths");
    var search = el("input", "agv-search");
    search.type = "search"; search.placeholder = "search label or parameter";
    search.setAttribute("aria-label", "search label or parameter name");
    bar.appendChild(search);
    var found = el("span", "agv-found", "");
    bar.appendChild(found);
    var stepper = el("div", "agv-bar agv-stepper");
    function stepButton(label, title, action, cls) {
      var b = button(label, title, action, cls); stepper.appendChild(b); return b;
    }
    stepButton("\u25C0 back", "step back", function () { stop(); goTo(state.step - 1); }, "agv-back");
    var playButton = stepButton("\u25B6 play", "play the backward pass", function () {
      if (state.timer) { stop(); } else { play(); }
    }, "agv-play");
    stepButton("step \u25B6", "step forward", function () { stop(); goTo(state.step + 1); }, "agv-step");
    var counter = el("span", "agv-counter", "backward pass: " + (steps.length - 1) + " steps");
    stepper.appendChild(counter);
    var narration = el("div", "agv-narration", "");
    var canvas = el("div", "agv-canvas");
    var svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("class", "agv-svg");
    var viewport = document.createElementNS(SVGNS, "g");
    svg.appendChild(viewport); canvas.appendChild(svg);
    var panel = el("div", "agv-panel", "Hover over or click a node for its numbers; click a box to open it.");
    root.appendChild(bar); root.appendChild(stepper); root.appendChild(narration);
    root.appendChild(canvas); root.appendChild(panel);
    if (data.failures.length) {
      var failures = el("div", "agv-failures");
      failures.appendChild(el("div", "agv-failures-title", data.summary));
      var table = el("table", "agv-table");
      data.failures.forEach(function (row, r) {
        var tr = el("tr");
        row.forEach(function (cell) { tr.appendChild(el(r === 0 ? "th" : "td", "", cell)); });
        table.appendChild(tr);
      });
      failures.appendChild(table); root.appendChild(failures);
    }

    /* ---- layout: rectangles of what is visible ---- */
    var placed = null;

    function frame(g) {
      var G = groups[g];
      var rects = G.items.map(function (item, k) {
        var size = item[0] === "n" ? NODE : BOX;
        return { kind: item[0], id: item[1], cx: G.centres[k][0], cy: G.centres[k][1],
                 w: size[0], h: size[1], sub: null };
      });
      rects.forEach(function (r) {
        if (r.kind !== "g" || !expanded.has(r.id)) { return; }
        var sub = frame(r.id), dw = Math.max(0, sub.w - r.w), dh = Math.max(0, sub.h - r.h);
        var x0 = r.cx, left = r.cx - r.w / 2, top = r.cy - r.h / 2;
        rects.forEach(function (o) { if (o !== r && o.cx > x0) { o.cx += dw; } });
        r.w = Math.max(r.w, sub.w); r.h = Math.max(r.h, sub.h);
        r.cx = left + r.w / 2; r.cy = top + r.h / 2; r.sub = sub;
        rects.forEach(function (o) {  /* only what shares the grown box's columns moves down */
          if (o !== r && o.cy > r.cy - r.h / 2 + (r.h - dh) / 2 &&
              o.cx + o.w / 2 > left && o.cx - o.w / 2 < left + r.w) { o.cy += dh; }
        });
      });
      var width = G.width, height = G.height;
      rects.forEach(function (r) {
        width = Math.max(width, r.cx + r.w / 2 + 2 * PAD);
        height = Math.max(height, r.cy + r.h / 2 + 2 * PAD + HEADER);
      });
      return { rects: rects, w: width, h: height };
    }

    function flatten() {
      var top = frame(0);
      var out = { nodes: new Map(), boxes: new Map(), frames: [], w: top.w - 2 * PAD,
                 h: top.h - 2 * PAD - HEADER };
      (function walk(f, ox, oy) {
        f.rects.forEach(function (r) {
          var x = ox + PAD + r.cx - r.w / 2, y = oy + PAD + HEADER + r.cy - r.h / 2;
          var rect = { x: x, y: y, w: r.w, h: r.h };
          if (r.kind === "n") { out.nodes.set(r.id, rect); }
          else if (r.sub) { out.frames.push({ g: r.id, rect: rect }); walk(r.sub, x, y); }
          else { out.boxes.set(r.id, rect); }
        });
      })(top, -PAD, -PAD - HEADER);
      /* the visible stand-in of every node: itself, or the outermost collapsed group */
      out.rep = new Int32Array(nodes.length);
      nodes.forEach(function (n, v) {
        var rep = v, g = home[v];
        while (g > 0) { if (!expanded.has(g)) { rep = -1 - g; } g = groups[g].parent; }
        out.rep[v] = rep;
      });
      var edges = new Map();
      nodes.forEach(function (n, v) {
        var b = out.rep[v];
        n.kids.forEach(function (c) {
          var a = out.rep[c];
          if (a === b) { return; }
          var key = a + "," + b;
          edges.set(key, (edges.get(key) || 0) + 1);
        });
      });
      out.edges = edges;
      return out;
    }

    function rectOf(rep) { return rep >= 0 ? placed.nodes.get(rep) : placed.boxes.get(-1 - rep); }

    function openWithinBudget() {
      var shown = groups[0].items.length, queue = [0];
      while (queue.length) {
        var g = queue.shift();
        groups[g].items.forEach(function (item) {
          if (item[0] !== "g") { return; }
          var more = groups[item[1]].items.length - 1;
          if (shown + more <= data.budget) { expanded.add(item[1]); shown += more; queue.push(item[1]); }
        });
      }
    }

    /* ---- drawing ---- */
    function heatFill(x) {
      var colours = [[255, 255, 255], [253, 174, 97], [215, 48, 39], [127, 0, 0]];
      var m = magnitude(x);
      if (!isFinite(m)) { return ["#7f0000", "#fff"]; }
      var t = largest === 0 ? 0 : Math.min(m / largest, 1), pos = t * 3;
      var low = Math.min(Math.floor(pos), 2), mix = pos - low;
      var rgb = colours[low].map(function (a, i) { return Math.round(a + (colours[low + 1][i] - a) * mix); });
      return ["rgb(" + rgb.join(",") + ")", t > 0.6 ? "#fff" : "#000"];
    }
    function shownGrad(v) {
      if (state.step < 0) { return nodes[v].grad; }
      var k = stepOf[v];
      return k >= 0 && k <= state.step ? steps[k].grad : "?";
    }
    function nodeClasses(v) {
      var n = nodes[v], cls = "agv-node";
      if (n.failed) { cls += " agv-failed"; }
      if (state.matches.has(v)) { cls += " agv-match"; }
      if (state.path.has(v)) { cls += " agv-path"; }
      if (state.selected === v) { cls += " agv-selected"; }
      if (state.step >= 0) {
        var k = stepOf[v];
        if (k === state.step) { cls += " agv-current"; } else if (k >= 0 && k < state.step) { cls += " agv-done"; }
      }
      if (data.outputs.indexOf(v) >= 0) { cls += " agv-output"; }
      return cls;
    }
    var groupHeat = groups.map(function () { return 0; }), groupFailed = new Set();
    nodes.forEach(function (n, v) {
      for (var g = home[v]; g > 0; g = groups[g].parent) {
        groupHeat[g] = Math.max(groupHeat[g], magnitude(n.grad));
        if (n.failed) { groupFailed.add(g); }
      }
    });
    function holding(vs) {  /* the groups that hold any of the nodes vs */
      var found = new Set();
      vs.forEach(function (v) { for (var g = home[v]; g > 0 && !found.has(g); g = groups[g].parent) { found.add(g); } });
      return found;
    }
    function boxClasses(g, marks) {
      var cls = "agv-box";
      if (groupFailed.has(g)) { cls += " agv-failed"; }
      if (marks.match.has(g)) { cls += " agv-match"; }
      if (marks.path.has(g)) { cls += " agv-path"; }
      if (marks.current.has(g)) { cls += " agv-current"; }
      return cls;
    }

    function paint() {
      var parts = [];
      var marks = { match: holding(state.matches), path: holding(state.path),
                    current: holding(state.step >= 0 ? [steps[state.step].node] : []) };
      placed.frames.forEach(function (f) {
        var r = f.rect, G = groups[f.g];
        parts.push('<g class="agv-frame" data-g="' + f.g + '"><rect x="' + r.x + '" y="' + r.y +
          '" width="' + r.w + '" height="' + r.h + '" rx="6"></rect><text class="agv-frame-title" x="' +
          (r.x + 8) + '" y="' + (r.y + 14) + '">\u25BE ' + esc(G.title) + "</text></g>");
      });
      placed.edges.forEach(function (count, key) {
        var ends = key.split(","), a = rectOf(+ends[0]), b = rectOf(+ends[1]);
        if (!a || !b) { return; }
        var d;
        if (data.rankdir === "TB") {
          var x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y, my = (y1 + y2) / 2;
          d = "M" + x1 + "," + y1 + " C" + x1 + "," + my + " " + x2 + "," + my + " " + x2 + "," + y2;
        } else {
          var sx = a.x + a.w, sy = a.y + a.h / 2, ex = b.x, ey = b.y + b.h / 2, mx = (sx + ex) / 2;
          d = "M" + sx + "," + sy + " C" + mx + "," + sy + " " + mx + "," + ey + " " + ex + "," + ey;
        }
        var on = state.path.size && inPath(+ends[0], marks) && inPath(+ends[1], marks);
        var width = Math.min(1 + Math.log2(count), 5);
        parts.push('<path class="agv-edge' + (on ? " agv-path" : "") + '" d="' + d +
          '" stroke-width="' + width + '"></path>');
      });
      placed.boxes.forEach(function (r, g) {
        var G = groups[g], fill = "";
        if (state.heat) { fill = ' style="fill:' + heatFill(groupHeat[g])[0] + '"'; }
        parts.push('<g class="' + boxClasses(g, marks) + '" data-g="' + g + '"><rect x="' + r.x + '" y="' + r.y +
          '" width="' + r.w + '" height="' + r.h + '" rx="4"' + fill + '></rect><text x="' + (r.x + 8) +
          '" y="' + (r.y + 17) + '" class="agv-box-title">\u25B8 ' + esc(G.title) + '</text><text x="' +
          (r.x + 8) + '" y="' + (r.y + 34) + '">' + G.size.toLocaleString("en") + " nodes</text></g>");
      });
      placed.nodes.forEach(function (r, v) {
        var n = nodes[v], fill = "", ink = "";
        if (state.heat) {
          var hf = heatFill(shownGrad(v) === "?" ? 0 : shownGrad(v));
          fill = ' style="fill:' + hf[0] + '"'; ink = ' style="fill:' + hf[1] + '"';
        }
        parts.push('<g class="' + nodeClasses(v) + '" data-n="' + v + '"><rect x="' + r.x + '" y="' + r.y +
          '" width="' + r.w + '" height="' + r.h + '" rx="4"' + fill + "></rect>" +
          '<text x="' + (r.x + 6) + '" y="' + (r.y + 14) + '" class="agv-name"' + ink + ">" +
          esc(n.name.length > 14 ? n.name.slice(0, 13) + "\u2026" : n.name) + "</text>" +
          (n.op ? '<text x="' + (r.x + r.w - 6) + '" y="' + (r.y + 14) + '" class="agv-op"' + ink + ">" +
            esc(n.shown) + "</text>" : "") +
          '<text x="' + (r.x + 6) + '" y="' + (r.y + 29) + '"' + ink + ">data " + num(n.data, p) + "</text>" +
          '<text x="' + (r.x + 6) + '" y="' + (r.y + 44) + '"' + ink + ' class="agv-grad">grad ' +
          num(shownGrad(v), p) + "</text></g>");
      });
      viewport.innerHTML = parts.join("");
      root.setAttribute("data-step", String(state.step));
      root.setAttribute("data-shown", String(placed.nodes.size));
    }
    function inPath(rep, marks) { return rep >= 0 ? state.path.has(rep) : marks.path.has(-1 - rep); }

    function relayout() { placed = flatten(); paint(); }

    /* ---- pan and zoom ---- */
    function apply() {
      viewport.setAttribute("transform", "translate(" + state.tx + "," + state.ty + ") scale(" + state.s + ")");
    }
    function fit() {
      var width = canvas.clientWidth || 800;
      var s = Math.min(1.25, (width - 16) / Math.max(placed.w, 1));
      var height = Math.max(140, Math.min(placed.h * s + 16, 620));
      canvas.style.height = height + "px";
      state.s = s; state.tx = 8; state.ty = Math.max(8, (height - placed.h * s) / 2);
      apply();
    }
    function zoomBy(factor, cx, cy) {
      if (cx === undefined) { cx = canvas.clientWidth / 2; cy = canvas.clientHeight / 2; }
      var s = Math.max(0.02, Math.min(8, state.s * factor));
      state.tx = cx - (cx - state.tx) * (s / state.s); state.ty = cy - (cy - state.ty) * (s / state.s);
      state.s = s; apply();
    }
    function centreOn(rect) {
      if (!rect) { return; }
      if (state.s < 0.6) { state.s = 0.9; }
      state.tx = canvas.clientWidth / 2 - (rect.x + rect.w / 2) * state.s;
      state.ty = canvas.clientHeight / 2 - (rect.y + rect.h / 2) * state.s;
      apply();
    }
    canvas.addEventListener("wheel", function (event) {
      event.preventDefault();
      var box = canvas.getBoundingClientRect();
      zoomBy(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
    }, { passive: false });
    var drag = null;
    canvas.addEventListener("pointerdown", function (event) {
      drag = { x: event.clientX, y: event.clientY, tx: state.tx, ty: state.ty, moved: false };
    });
    window.addEventListener("pointermove", function (event) {
      if (!drag) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
      if (drag.moved) { state.tx = drag.tx + dx; state.ty = drag.ty + dy; apply(); }
    });
    window.addEventListener("pointerup", function () { setTimeout(function () { drag = null; }, 0); });

    /* ---- clicks and hover ---- */
    svg.addEventListener("click", function (event) {
      if (drag && drag.moved) { return; }
      var target = event.target.closest("[data-n],[data-g]");
      if (!target) { return; }
      if (target.hasAttribute("data-n")) {
        var v = +target.getAttribute("data-n");
        state.selected = state.selected === v ? -1 : v;
        describe(v); paint(); return;
      }
      var g = +target.getAttribute("data-g");
      if (expanded.has(g)) { collapse(g); } else { expanded.add(g); }
      relayout();
    });
    svg.addEventListener("mouseover", function (event) {
      var target = event.target.closest("[data-n]");
      if (target && state.selected < 0) { describe(+target.getAttribute("data-n")); }
    });
    function collapse(g) {
      expanded.delete(g);
      groups.forEach(function (G, k) { var a = k; while (a > 0) { a = groups[a].parent; if (a === g) { expanded.delete(k); } } });
    }
    function reveal(v) {
      var g = home[v];
      while (g > 0) { expanded.add(g); g = groups[g].parent; }
    }

    /* ---- the panel: a node's numbers and the chain rule that gave its grad ---- */
    function who(v) { return nodes[v].title; }
    function describe(v) {
      var n = nodes[v];
      panel.innerHTML = "";
      panel.setAttribute("data-node", String(v));
      panel.appendChild(el("div", "agv-panel-title", n.param || n.name || who(v)));
      var facts = el("table", "agv-facts");
      function fact(key, value, cls) {
        var tr = el("tr", cls); tr.appendChild(el("th", "", key)); tr.appendChild(el("td", "", value));
        facts.appendChild(tr);
      }
      if (n.label) { fact("label", n.label); }
      if (n.param) { fact("parameter", n.param); }
      fact("op", n.op ? n.op + (n.rule ? "   (" + n.rule + ")" : "") : "none (leaf)");
      fact("data", num(n.data, p), "agv-data-value");
      fact("grad", num(n.grad, p), "agv-grad-value");
      if (n.scope) { fact("module", n.scope); }
      panel.appendChild(facts);
      if (n.kids.length) {
        panel.appendChild(el("div", "agv-panel-head", "local derivatives d(this)/d(input), stored at the forward pass:"));
        var list = el("ul", "agv-locals");
        n.kids.slice(0, 16).forEach(function (c, i) {
          list.appendChild(el("li", "", "d(" + who(v) + ")/d(" + who(c) + " = " + num(nodes[c].data, p) +
            ") = " + num(n.locals[i], p)));
        });
        if (n.kids.length > 16) { list.appendChild(el("li", "", "\u2026 and " + (n.kids.length - 16) + " more inputs")); }
        panel.appendChild(list);
      }
      var k = stepOf[v];
      var rule = el("div", "agv-chain");
      if (k === 0) {
        rule.textContent = "output: dL/d(" + who(v) + ") = 1 (the seed of the backward pass)";
      } else if (k > 0) {
        var terms = n.users.map(function (u) { return num(u[2], p) + " \u00D7 " + num(u[1], p); });
        var names = n.users.map(function (u) { return "dL/d(" + who(u[0]) + ") \u00B7 d(" + who(u[0]) + ")/d(" + who(v) + ")"; });
        rule.textContent = "chain rule: dL/d(" + who(v) + ") = " + names.join(" + ") + " = " +
          terms.join(" + ") + " = " + num(steps[k].grad, p);
        if (n.users.length > 1) {
          rule.appendChild(el("div", "agv-reused", "reused: " + n.users.length +
            " uses, each adds its term to the gradient (it accumulates)"));
        }
      } else {
        rule.textContent = "not on the backward pass of the first output";
      }
      panel.appendChild(rule);
      if (n.failed) {
        panel.appendChild(el("div", "agv-panel-failed", "check_graph: this node's stored local derivative disagrees with finite differences of its op's forward (see the table below)"));
      }
    }

    /* ---- search and paths ---- */
    search.addEventListener("input", function () { runSearch(search.value); });
    function runSearch(text) {
      var q = text.trim().toLowerCase();
      state.matches = new Set();
      if (q) {
        nodes.forEach(function (n, v) {
          if ((n.name && n.name.toLowerCase().indexOf(q) >= 0) || (n.param && n.param.toLowerCase().indexOf(q) >= 0) ||
              (n.label && n.label.toLowerCase().indexOf(q) >= 0)) { state.matches.add(v); }
        });
      }
      var first = state.matches.size ? state.matches.values().next().value : -1;
      var shownCount = 0;
      state.matches.forEach(function (v) { if (shownCount < 20) { reveal(v); shownCount += 1; } });
      found.textContent = q ? state.matches.size + " found" : "";
      relayout();
      if (first >= 0) { centreOn(placed.nodes.get(first)); describe(first); }
    }
    function togglePaths() {
      if (state.path.size || state.selected < 0) {
        state.path = new Set(); pathButton.classList.remove("agv-on");
        if (state.selected < 0) { panel.textContent = "Click a node first, then 'paths to output'."; }
        paint(); return;
      }
      var seen = new Set([state.selected]), queue = [state.selected];
      while (queue.length) {
        users[queue.pop()].forEach(function (u) { if (!seen.has(u)) { seen.add(u); queue.push(u); } });
      }
      state.path = seen; pathButton.classList.add("agv-on"); paint();
    }

    /* ---- stepping through backward ---- */
    function goTo(k) {
      state.step = Math.max(-1, Math.min(steps.length - 1, k));
      if (state.step < 0) {
        narration.textContent = ""; counter.textContent = "backward pass: " + (steps.length - 1) + " steps";
      } else {
        narration.textContent = steps[state.step].text;
        counter.textContent = "step " + state.step + " of " + (steps.length - 1);
      }
      paint();
    }
    function stop() {
      if (state.timer) { clearInterval(state.timer); state.timer = null; }
      playButton.textContent = "\u25B6 play";
    }
    function play() {
      if (state.step >= steps.length - 1) { goTo(-1); }
      playButton.textContent = "\u2016 pause";
      state.timer = setInterval(function () {
        if (state.step >= steps.length - 1) { stop(); } else { goTo(state.step + 1); }
      }, 900);
    }

    relayout();
    fit();
    root.agv = { data: data, expanded: expanded, state: state, fit: fit, rects: function () { return placed; } };
    return root.agv;
  }

  return { mount: mount };
})();
