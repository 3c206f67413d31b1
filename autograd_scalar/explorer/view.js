/* The interactive graph view of autograd_scalar.explore: draws the data that Python
   laid out (see records.py: per-node columns of numbers and indices, groups with their
   own layouts, backward's steps) as SVG, with pan and zoom, a panel per node,
   collapsible groups, search, paths, a heat map and a step-through backward.

   Positions: every group was laid out on its own by Graphviz (item centres in its
   frame). Expanding a group stretches its frame's plane at the group's centre by
   the growth (along the layout, every item past the centre moves on; across it, items
   move where they share columns with the group or with another item moving), which
   keeps all other boxes clear and the ranks in order, and draws the group's own
   layout inside. Edges are routed around the items they pass (routes.js).

   Drawing: only what lies within a screen of the visible part is drawn (panning or
   zooming past it draws again), and nodes' text is left out when zoomed far out. A change
   of layout (a box opened or closed) draws again; a change of marks (selection,
   search, step, heat map) restyles only the elements already drawn.

   Where: the view lives in a shadow root of its own, its style inside it, so no rule
   of the host page (a notebook's `svg {height: auto}`) reaches it. One core serves the
   notebook widget (render(model, el): anywidget's protocol, the data in the model's
   "payload", the clicked node sent back as "selected_index", refresh() pushing new
   numbers, a big graph's boxes laid out in the kernel when first opened) and the saved
   page (mount(host, data) with no kernel behind it and every box laid out). STYLE,
   the view's CSS, is defined before this script by the Python side that inlines it. */
var AutogradScalarView = (function () {
  "use strict";
  var NODE = [128, 50], BOX = [156, 44], PAD = 10, HEADER = 20;
  var SAME_RANK = 20;  /* open boxes whose centres along the layout lie closer are one rank */
  /* The characters of bold 11 px text that fit a node's and a box's first line. */
  var NAME_CHARS = 16, OP_CHARS = 8, BOX_TITLE_CHARS = 20;
  var TITLE_CHAR = 7;    /* the width a bold title's character takes at most, on average */
  var FRAME_TITLE_SEEN = 160;  /* an open box's title, from its start, in view when its frame has the focus */
  /* The heat map's fill for a NaN gradient, as draw_graph's (graph.NAN_FILL). */
  var NAN_FILL = "#b0b0b0";
  var TEXT_SCALE = 0.3;  /* below this zoom, nodes are drawn without text (boxes keep theirs) */
  var READABLE = 9 / 11; /* the least zoom the view opens at: 11px text drawn 9px high */
  var SMALL = 24, LEGIBLE = 0.7;  /* a graph of at most SMALL items opens whole down to
                                     LEGIBLE (7.7px text): all of a neuron beats its end */
  var TALLEST = 0.8;     /* the view is at most this part of the window's height */
  var MARGIN = 8;
  var PANEL_PEEK = 72;   /* the panel's title and first lines, kept in a notebook's view */
  var PATIENCE = 20000;  /* ms to wait for the kernel's layouts before saying it is silent */
  var SVGNS = "http://www.w3.org/2000/svg";
  var viewCount = 0;     /* views made on this page: each names its arrowheads apart */

  /* Python's format(x, ".{p}g"): p significant digits, exponent below 1e-4 or at 10^p
     and above, trailing zeros dropped, and zero as 0 whatever its sign (the numbers of
     draw.graph.number and animate.describe_step). */
  function num(x, p) {
    if (typeof x === "string") { return x; }
    if (x === 0) { return "0"; }
    var parts = x.toExponential(p - 1).split("e"), e = parseInt(parts[1], 10), s;
    if (e < -4 || e >= p) {
      s = parts[0];
      if (s.indexOf(".") >= 0) { s = s.replace(/0+$/, "").replace(/\.$/, ""); }
      return s + "e" + (e < 0 ? "-" : "+") + (Math.abs(e) < 10 ? "0" : "") + Math.abs(e);
    }
    s = x.toFixed(Math.max(0, p - 1 - e));
    if (s.indexOf(".") >= 0) { s = s.replace(/0+$/, "").replace(/\.$/, ""); }
    return s;
  }
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }
  /* text cut to at most n characters, the last an ellipsis if cut */
  function clipped(text, n) { return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; }
  /* A box's title in n characters. A run's ("lm_head: nodes n4457-n4571") loses the word
     "nodes", and keeps its ids whole after its module's end ("...ons.0: n4673-n10063"),
     or the module's end in 8 and its ids cut after a whole span or id, never inside a
     number; any other title loses its middle (module names differ at the end). */
  function boxTitle(text, n) {
    var run = text.length > n && /^(?:(.*): )?nodes (.*)$/.exec(text);
    if (!run) { return clippedMiddle(text, n); }
    var ids = run[2];
    if (!run[1]) { return "nodes " + idsCut(ids, n - 6); }
    var room = n - ids.length - 2;
    if (room >= 5) { return clippedStart(run[1], room) + ": " + ids; }
    var module = clippedStart(run[1], 8);
    return module + ": " + idsCut(ids, n - module.length - 2);
  }
  function idsCut(ids, n) {  /* at most n characters: whole spans or ids, then an ellipsis */
    if (ids.length <= n) { return ids; }
    var cut = Math.max(ids.lastIndexOf(",", n - 1), ids.lastIndexOf("-", n - 1));
    return (cut > 0 ? ids.slice(0, cut).replace(/[,\s\u2026]+$/, "") : "") + "\u2026";
  }
  function clippedStart(text, n) {  /* the end kept: module names differ at the end */
    return text.length > n ? "\u2026" + text.slice(text.length - (n - 1)) : text;
  }
  /* the same with the ellipsis in the middle: both ends kept (module names differ at the end) */
  function clippedMiddle(text, n) {
    var head = Math.floor((n - 1) / 2);
    return text.length > n ? text.slice(0, head) + "\u2026" + text.slice(text.length - (n - 1 - head)) : text;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  /* |x| of a number as the page holds it: "inf" and "-inf" are Infinity, "nan" NaN */
  function magnitude(x) { return typeof x === "string" ? (x === "nan" ? NaN : Infinity) : Math.abs(x); }
  function flags(count, list) {
    var out = new Uint8Array(count);
    list.forEach(function (k) { out[k] = 1; });
    return out;
  }

  /* Draw the view of `data` (records.py's columns) in `host`'s shadow root. `hooks`
     is the kernel's side, when there is one: select(v) hears of the node clicked,
     fetch(groups) asks for boxes' layouts (receive() takes them), and patience is how
     many ms to wait for them (PATIENCE). */
  function mount(host, data, hooks) {
    hooks = hooks || {};
    if (host.agv) { host.agv.destroy(); }
    var shadow = host.shadowRoot || host.attachShadow({ mode: "open" });
    shadow.innerHTML = "";
    var style = document.createElement("style");
    style.textContent = typeof STYLE === "string" ? STYLE : "";
    shadow.appendChild(style);
    var root = el("div", "agv");
    shadow.appendChild(root);
    root.setAttribute("data-mounted", "1");
    var cleanup = [];  /* listeners outside the view and observers, undone by destroy() */
    var N = data.data.length, groups = data.groups, steps = data.steps, p = data.precision;
    var kids = data.kids, names = data.names, labels = data.labels, ops = data.ops;
    if (data.title) { root.appendChild(el("div", "agv-title", data.title)); }

    /* ---- structure: each node's group, its users, its step ---- */
    var home = new Int32Array(N);
    groups.forEach(function (G, g) { G.items.forEach(function (i) { if (i >= 0) { home[i] = g; } }); });
    var isParam = flags(N, data.params), failed = flags(N, data.failed), isOutput = flags(N, data.outputs);
    var stepOf = new Int32Array(N).fill(-1);
    steps.forEach(function (v, k) { stepOf[v] = k; });
    /* users[v]: [user, operand position, ...], users in topological order (backprop's
       own: the reverse of the steps), then any user off the first output's graph */
    var users = [];
    for (var v0 = 0; v0 < N; v0 += 1) { users.push([]); }
    function addUses(u) { kids[u].forEach(function (c, i) { users[c].push(u, i); }); }
    for (var k0 = steps.length - 1; k0 >= 0; k0 -= 1) { addUses(steps[k0]); }
    for (var u0 = 0; u0 < N; u0 += 1) { if (stepOf[u0] < 0) { addUses(u0); } }
    var largest = 0, groupHeat = new Float64Array(groups.length), groupFailed = new Uint8Array(groups.length);
    /* The heat map's scale (the largest finite |grad|) and each box's hottest node: the
       largest |grad| not NaN, NaN when all its nodes' are (graph.hottest, as drawn). */
    function measureHeat() {
      var known = new Uint8Array(groups.length), unknown = new Uint8Array(groups.length);
      largest = 0; groupHeat.fill(0);
      for (var v1 = 0; v1 < N; v1 += 1) {
        var m1 = magnitude(data.grad[v1]);
        if (isFinite(m1)) { largest = Math.max(largest, m1); }
        for (var g1 = home[v1]; g1 > 0; g1 = groups[g1].parent) {
          if (m1 !== m1) { unknown[g1] = 1; } else { known[g1] = 1; }
          if (m1 > groupHeat[g1]) { groupHeat[g1] = m1; }
          if (failed[v1]) { groupFailed[g1] = 1; }
        }
      }
      for (var g2 = 0; g2 < groups.length; g2 += 1) { if (unknown[g2] && !known[g2]) { groupHeat[g2] = NaN; } }
    }
    measureHeat();
    /* A node's short id, shown on unnamed nodes and found by search: n0, n1, ... */
    function tag(v) { return "n" + v; }
    /* A name with a right-to-left letter (Hebrew, Arabic, ...: the ranges of dot_text.py's
       RIGHT_TO_LEFT) set apart as an isolate, U+2068 ... U+2069, so that the numbers
       written after it in a sentence keep their own direction. */
    var RIGHT_TO_LEFT = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFE]|[\uD802\uD803\uD83A\uD83B][\uDC00-\uDFFF]/;
    function isolated(name) { return RIGHT_TO_LEFT.test(name) ? "\u2068" + name + "\u2069" : name; }
    /* How formulas name a node: its label or parameter name, else its id (what its box shows). */
    function symbol(v) { return names[v] ? isolated(names[v]) : tag(v); }
    /* What an op node computes from what, the op as its node's corner shows it: "relu of
       n3", "* of x, w", "^2 of n7", "w·x+b of 5 inputs". */
    function what(v) {
      var op = ops[data.op[v]][1] || ops[data.op[v]][0], inputs = kids[v];
      if (inputs.length <= 2) { return op + " of " + inputs.map(symbol).join(", "); }
      return op + " of " + inputs.length + " inputs";
    }
    /* How the panel's title names a node: its label or parameter name, else what it
       computes and its id ("relu of n3 (n4)"), or "leaf n5". */
    function who(v) {
      if (names[v]) { return isolated(names[v]); }
      return ops[data.op[v]][0] ? what(v) + " (" + tag(v) + ")" : "leaf " + tag(v);
    }
    /* What the narration says of an unnamed node before its formula: " (n4 = relu of n3)". */
    function definition(v) {
      if (names[v]) { return ""; }
      return " (" + tag(v) + (ops[data.op[v]][0] ? " = " + what(v) : " is a leaf") + ")";
    }

    /* ---- state ---- */
    var expanded = new Set([0]), moved = false;  /* moved: the user moved the view or went somewhere in it */
    var fitNote = false;  /* the note tells of the opening view: dropped once the view moves */
    var state = { step: -1, selected: -1, focus: -1, matches: new Set(), matchList: [], matchAt: -1,
                  path: new Set(), heat: !!data.heatmap, timer: null, s: 1, tx: 0, ty: 0 };

    /* ---- DOM ---- */
    var bar = el("div", "agv-bar");
    function button(label, title, action, cls) {
      var b = el("button", "agv-btn" + (cls ? " " + cls : ""), label);
      b.type = "button"; b.title = title; b.setAttribute("aria-label", title);
      b.addEventListener("click", action); bar.appendChild(b); return b;
    }
    button("+", "zoom in", function () { moved = true; zoomBy(1.25); }, "agv-zoom-in");
    button("\u2212", "zoom out", function () { moved = true; zoomBy(0.8); }, "agv-zoom-out");
    button("fit", "fit the whole graph in view, however small", function () { moved = false; fit(true); }, "agv-fit");
    var heatButton = button("heat map", "colour nodes by |grad|", function () {
      state.heat = !state.heat; heatButton.classList.toggle("agv-on", state.heat); restyle();
    }, "agv-heat");
    heatButton.classList.toggle("agv-on", state.heat);
    var pathButton = button("paths to output", "highlight every path from the chosen node to the output",
                            function () { togglePaths(); }, "agv-paths");
    var search = el("input", "agv-search");
    search.type = "search"; search.placeholder = "search label or parameter";
    search.title = "Enter: next match";
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
    stepButton("end \u25B6\u25B6", "jump to the end of the backward pass", function () { stop(); goTo(steps.length - 1); }, "agv-end");
    var speed = el("select", "agv-speed");
    speed.title = "how fast play steps"; speed.setAttribute("aria-label", "play speed");
    [["slow", 900], ["normal", 300], ["fast", 60], ["fastest", 0]].forEach(function (o) {
      var option = el("option", "", o[0]); option.value = String(o[1]); speed.appendChild(option);
    });
    speed.value = "300";
    speed.addEventListener("change", function () { if (state.timer) { stop(); play(); } });
    stepper.appendChild(speed);
    var counter = el("span", "agv-counter", "backward pass: " + (steps.length - 1) + " steps");
    stepper.appendChild(counter);
    var narration = el("div", "agv-narration", "");
    var note = el("div", "agv-note", "");
    var canvas = el("div", "agv-canvas");
    canvas.tabIndex = 0;
    canvas.title = "drag to pan; click the graph, then the wheel zooms (or ctrl + wheel anywhere); " +
      "keys: arrows pan, + and \u2212 zoom, 0 fits, Tab reaches each node and box, Enter opens or selects";
    canvas.setAttribute("aria-label", "computation graph: arrows pan, + and - zoom, 0 fits; " +
      "Tab to a node or box, Enter or Space to select or open it");
    var svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("class", "agv-svg");
    svg.setAttribute("tabindex", "-1");  /* Tab goes from the canvas to its nodes, not here */
    /* Arrowheads where an edge meets the node that uses its input, as in the drawings:
       grey, blue on a highlighted path, black on an edge of the node the panel reads
       (ids unique on the page, views being many). */
    var arrow = "agv-arrow-" + (++viewCount), defs = document.createElementNS(SVGNS, "defs");
    /* a bundle's thick edge (stroke 3 to 5) gets a head three strokes wide, in its units */
    defs.innerHTML = [["", "#888"], ["-path", "#1f77b4"], ["-near", "#222"]].map(function (m) {
      return [["", 'markerUnits="userSpaceOnUse" markerWidth="7" markerHeight="7"'],
              ["-wide", 'markerUnits="strokeWidth" markerWidth="3" markerHeight="3"']].map(function (size) {
        return '<marker id="' + arrow + m[0] + size[0] + '" viewBox="0 0 10 10" refX="10" refY="5" ' +
          size[1] + ' orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="' + m[1] + '"></path></marker>';
      }).join("");
    }).join("");
    svg.appendChild(defs);
    var viewport = document.createElementNS(SVGNS, "g");
    /* an open box's title goes above the edges, which would cross it, its frame below */
    var FRAMES = 0, EDGES = 1, TITLES = 2, BOXES = 3, NODES = 4;
    var layers = ["frames", "edges", "titles", "boxes", "nodes"].map(function (name) {
      var g = document.createElementNS(SVGNS, "g");
      g.setAttribute("class", "agv-layer-" + name); viewport.appendChild(g); return g;
    });
    svg.appendChild(viewport); canvas.appendChild(svg);
    var panel = el("div", "agv-panel", "Hover over or click a node for its numbers; click a box to open it.");
    /* over the canvas (view.css): their coming and going moves nothing */
    canvas.appendChild(note); canvas.appendChild(narration);
    ["pointerdown", "wheel"].forEach(function (kind) {  /* the narration scrolls, not the graph */
      narration.addEventListener(kind, function (event) { event.stopPropagation(); });
    });
    root.appendChild(bar); root.appendChild(stepper); root.appendChild(canvas); root.appendChild(panel);
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

    /* ---- layout: rectangles of what is shown ---- */
    var placed = null;

    function frame(g) {
      var G = groups[g];
      var rects = G.items.map(function (item, k) {
        var size = item >= 0 ? NODE : BOX;
        return { id: item, cx: G.centres[2 * k], cy: G.centres[2 * k + 1], w: size[0], h: size[1], sub: null };
      });
      /* An open box keeps its top left corner and grows right and down. Along the layout
         (x left to right, y top to bottom) every later rank moves on by the most any
         box of an earlier rank grew, so ranks stay in order and a rank's boxes stay
         lined up at its start (boxes opened in one rank pushing each other on drew a
         staircase); across, only what lies past the centre in its columns, and then,
         in turn, whatever past it shares columns with something moving: a box kept in
         place could otherwise end under one moved onto it. */
      var lr = data.rankdir !== "TB", U = lr ? "cx" : "cy", V = lr ? "cy" : "cx";
      var UW = lr ? "w" : "h", VW = lr ? "h" : "w";
      var open = [], grown = [];
      rects.forEach(function (r) {
        if (r.id >= 0 || !expanded.has(-1 - r.id)) { return; }
        var sub = frame(-1 - r.id), grow = { w: Math.max(0, sub.w - r.w), h: Math.max(0, sub.h - r.h) };
        open.push([r, sub, grow]);
        grown.push([r[U], grow[UW]]);
      });
      /* a rank: open boxes whose centres lie within SAME_RANK of the next (the layouts give
         one centre per rank; ranks lie a box and a gap apart), [its last centre, growth] */
      grown.sort(function (a, b) { return a[0] - b[0]; });
      var ranks = [];
      grown.forEach(function (g) {
        var last = ranks[ranks.length - 1];
        if (last && g[0] - last[0] <= SAME_RANK) { last[0] = g[0]; last[1] = Math.max(last[1], g[1]); }
        else { ranks.push([g[0], g[1]]); }
      });
      rects.forEach(function (o) {
        var on = 0;
        for (var k = 0; k < ranks.length && ranks[k][0] + SAME_RANK < o[U]; k += 1) { on += ranks[k][1]; }
        o[U] += on;
      });
      open.forEach(function (entry) {
        var r = entry[0], sub = entry[1], grow = entry[2];
        var left = r.cx - r.w / 2, top = r.cy - r.h / 2, cut = r[V];
        r.w = Math.max(r.w, sub.w); r.h = Math.max(r.h, sub.h);
        r.cx = left + r.w / 2; r.cy = top + r.h / 2; r.sub = sub;
        var moving = [r], taken = new Set(moving);
        for (var i = 0; i < moving.length; i += 1) {  /* each mover once: n^2 at most */
          var m = moving[i];
          rects.forEach(function (o) {
            if (!taken.has(o) && o[V] > cut && o[U] + o[UW] / 2 > m[U] - m[UW] / 2 &&
                o[U] - o[UW] / 2 < m[U] + m[UW] / 2) { taken.add(o); moving.push(o); }
          });
        }
        moving.forEach(function (o) { if (o !== r) { o[V] += grow[VW]; } });
      });
      var width = G.width, height = G.height;
      rects.forEach(function (r) {
        width = Math.max(width, r.cx + r.w / 2 + 2 * PAD);
        height = Math.max(height, r.cy + r.h / 2 + 2 * PAD + HEADER);
      });
      return { rects: rects, w: width, h: height };
    }

    /* Every shown node's, collapsed box's and open frame's rectangle, and the edges
       between what is shown (a node hidden in a closed box is represented by the box,
       its stand-in: -1 - box), counted. */
    function flatten() {
      var top = frame(0);
      var out = { nodes: new Map(), boxes: new Map(), frames: [], w: top.w - 2 * PAD,
                  h: top.h - 2 * PAD - HEADER };
      (function walk(f, ox, oy) {
        f.rects.forEach(function (r) {
          var rect = { x: ox + PAD + r.cx - r.w / 2, y: oy + PAD + HEADER + r.cy - r.h / 2, w: r.w, h: r.h };
          if (r.id >= 0) { out.nodes.set(r.id, rect); }
          else if (r.sub) { out.frames.push({ g: -1 - r.id, rect: rect }); walk(r.sub, rect.x, rect.y); }
          else { out.boxes.set(-1 - r.id, rect); }
        });
      })(top, -PAD, -PAD - HEADER);
      var outer = new Int32Array(groups.length).fill(-1);  /* outermost closed group around g */
      groups.forEach(function (G, g) {
        if (g === 0) { return; }
        var up = outer[G.parent];
        outer[g] = up >= 0 ? up : (expanded.has(g) ? -1 : g);
      });
      var rep = new Int32Array(N);
      for (var v = 0; v < N; v += 1) { var o = outer[home[v]]; rep[v] = o >= 0 ? -1 - o : v; }
      var G = groups.length, M = N + G + 1, edges = new Map();
      for (var b = 0; b < N; b += 1) {
        var list = kids[b], rb = rep[b];
        for (var i = 0; i < list.length; i += 1) {
          var ra = rep[list[i]];
          if (ra === rb) { continue; }
          var key = (ra + G) * M + (rb + G);
          edges.set(key, (edges.get(key) || 0) + 1);
        }
      }
      out.rep = rep;
      out.edges = edges; out.edgeBase = [G, M];
      /* edges go around what they do not join (routes.js), each routed when it first
         comes near the view */
      out.obstacles = AutogradScalarRoutes.obstacles(
        Array.from(out.nodes.values()).concat(Array.from(out.boxes.values())), data.rankdir);
      out.routes = new Map();
      return out;
    }
    function rectOf(r) { return r >= 0 ? placed.nodes.get(r) : placed.boxes.get(-1 - r); }

    /* For each group: the fewest edges from an output back to a node in it. */
    function stepsFromOutputs() {
      var steps = new Int32Array(N).fill(-1), frontier = [], near = new Float64Array(groups.length).fill(Infinity);
      data.outputs.forEach(function (v) { if (steps[v] < 0) { steps[v] = 0; frontier.push(v); } });
      for (var i = 0; i < frontier.length; i += 1) {
        var b = frontier[i], list = kids[b];
        for (var j = 0; j < list.length; j += 1) {
          if (steps[list[j]] < 0) { steps[list[j]] = steps[b] + 1; frontier.push(list[j]); }
        }
      }
      for (var v = 0; v < N; v += 1) {
        for (var g = home[v]; g >= 0 && near[g] > steps[v]; g = g > 0 ? groups[g].parent : -1) { near[g] = steps[v]; }
      }
      return near;
    }

    /* Open boxes level by level, outermost first, and in a group the boxes nearest an
       output first (fewest edges back from it, as records.opening_groups: the view
       opens on the output), while the items shown stay within the budget. A module's
       box whose opening would stop the graph fitting the view whole at a readable zoom
       stays closed, so a graph that fits closed opens whole. (Runs of nodes open on
       the budget alone: a graph that needs them is too big to fit whole anyway, and
       is fitted to the width.) */
    function openWithinBudget() {
      var shown = groups[0].items.length, queue = [0], room = roomFor();
      var near = stepsFromOutputs();
      function fits() {
        var top = frame(0);
        return fitScale(top.w - 2 * PAD, top.h - 2 * PAD - HEADER, room) >= READABLE;
      }
      function nearestFirst(items) {
        var order = items.map(function (item, k) { return [item < 0 ? near[-1 - item] : 0, k, item]; });
        order.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
        return order.map(function (o) { return o[2]; });
      }
      while (queue.length) {
        var g = queue.shift();
        nearestFirst(groups[g].items).forEach(function (item) {
          if (item >= 0) { return; }
          var sub = -1 - item, more = groups[sub].items.length - 1;
          if (shown + more > data.budget || !groups[sub].centres) { return; }
          var fitted = groups[sub].module && fits();
          expanded.add(sub);
          if (fitted && !fits()) { expanded.delete(sub); return; }
          shown += more; queue.push(sub);
        });
      }
    }

    /* ---- marks: classes and colours, for drawing and restyling alike ---- */
    function heatFill(x) {
      var colours = [[255, 255, 255], [253, 174, 97], [215, 48, 39], [127, 0, 0]];
      var m = magnitude(x);
      if (m !== m) { return [NAN_FILL, "#000"]; }  /* no size at all: not the hottest */
      if (!isFinite(m)) { return ["#7f0000", "#fff"]; }
      var t = largest === 0 ? 0 : Math.min(m / largest, 1), pos = t * 3;
      var low = Math.min(Math.floor(pos), 2), mix = pos - low;
      var rgb = colours[low].map(function (a, i) { return Math.round(a + (colours[low + 1][i] - a) * mix); });
      return ["rgb(" + rgb.join(",") + ")", t > 0.6 ? "#fff" : "#000"];
    }
    function shownGrad(v) {
      if (state.step < 0) { return data.grad[v]; }
      var k = stepOf[v];
      return k >= 0 && k <= state.step ? data.stepGrads[k] : "?";
    }
    function nodeClass(v) {
      var cls = "agv-node";
      if (failed[v]) { cls += " agv-failed"; }
      if (state.matches.has(v)) { cls += " agv-match"; }
      if (state.path.has(v)) { cls += " agv-path"; }
      if (state.selected === v) { cls += " agv-selected"; }
      if (state.step >= 0) {
        var k = stepOf[v];
        if (k === state.step) { cls += " agv-current"; } else if (k >= 0 && k < state.step) { cls += " agv-done"; }
      }
      if (isOutput[v]) { cls += " agv-output"; }
      return cls;
    }
    function holding(vs) {  /* the groups that hold any of the nodes vs */
      var found = new Set();
      vs.forEach(function (v) { for (var g = home[v]; g > 0 && !found.has(g); g = groups[g].parent) { found.add(g); } });
      return found;
    }
    function boxMarks() {
      return { match: holding(state.matches), path: holding(state.path),
               current: holding(state.step >= 0 ? [steps[state.step]] : []) };
    }
    function boxClass(g, marks) {
      var cls = "agv-box";
      if (groupFailed[g]) { cls += " agv-failed"; }
      if (marks.match.has(g)) { cls += " agv-match"; }
      if (marks.path.has(g)) { cls += " agv-path"; }
      if (marks.current.has(g)) { cls += " agv-current"; }
      return cls;
    }
    function nodeFill(v) { return state.heat ? heatFill(shownGrad(v) === "?" ? 0 : shownGrad(v)) : null; }
    /* A node's name as drawn. A parameter inside its module's box says what the box does
       not, after the box's own last name (neurons.2.w[3] in layers.1.neurons.2, with its
       number; wq.weight[3][5] in blocks.0.attn.wq), so that it reads alone when the box's
       title is out of view (a GPT's tall matrices side by side); cut, its end, which says
       most (...q.weight[10][15]); a label its start, as written. */
    function shortName(v, limit) {
      var name = names[v] || tag(v);
      if (!isParam[v]) { return clipped(name, limit); }
      for (var g = home[v]; g > 0; g = groups[g].parent) {
        var module = groups[g].module ? groups[g].title + "." : "";
        if (module && name.lastIndexOf(module, 0) === 0) {
          var parts = groups[g].title.split(".");
          var own = parts.slice(parts.length > 1 && /^\d+$/.test(parts[parts.length - 1]) ? -2 : -1);
          name = own.join(".") + "." + name.slice(module.length);
          break;
        }
      }
      return name.length > limit ? "\u2026" + name.slice(-(limit - 1)) : name;
    }
    /* The op's symbol as a node shows it, beside the name: a Function's long class name
       is cut (the panel gives it whole). */
    function opSymbol(op) { return clipped(op[1], OP_CHARS); }

    /* ---- drawing what is near the visible part ---- */
    var drawn = { nodes: new Map(), boxes: new Map(), lit: [], region: null, text: true };
    var pending = false;

    function visible() {
      var s = state.s, w = canvas.clientWidth || 800, h = canvas.clientHeight || 400;
      return { x0: -state.tx / s, y0: -state.ty / s, x1: (w - state.tx) / s, y1: (h - state.ty) / s };
    }
    function meets(r, q) { return r.x < q.x1 && r.x + r.w > q.x0 && r.y < q.y1 && r.y + r.h > q.y0; }

    function paint() {
      var view = visible(), dx = view.x1 - view.x0, dy = view.y1 - view.y0;
      var region = { x0: view.x0 - dx, y0: view.y0 - dy, x1: view.x1 + dx, y1: view.y1 + dy };
      var text = state.s >= TEXT_SCALE, marks = boxMarks(), html = [[], [], [], [], []];
      placed.frames.forEach(function (f) {
        var r = f.rect;
        if (!meets(r, region)) { return; }
        html[FRAMES].push('<g class="agv-frame" data-g="' + f.g + '" tabindex="-1" role="button" aria-label="' +
          esc("open box " + groups[f.g].title + " (Enter closes it)") + '"><rect x="' + r.x + '" y="' + r.y +
          '" width="' + r.w + '" height="' + r.h + '" rx="6"></rect></g>');
        var title = groups[f.g].title, room = Math.floor((r.w - 16) / TITLE_CHAR) - 2;
        html[TITLES].push('<text class="agv-frame-title" data-g="' + f.g + '" x="' + (r.x + 8) + '" y="' +
          (r.y + 14) + '"><title>' + esc(title) + '</title>\u25BE ' +
          esc(boxTitle(title, Math.max(room, 8))) + "</text>");
      });
      var base = placed.edgeBase, lr = data.rankdir !== "TB";
      placed.edges.forEach(function (count, key) {
        var ra = Math.floor(key / base[1]) - base[0], rb = key % base[1] - base[0];
        var a = rectOf(ra), b = rectOf(rb);
        if (!a || !b) { return; }
        var path = placed.routes.get(key);
        if (!path) {  /* routed once it comes near the view: along the layout, its span is known */
          var along = AutogradScalarRoutes.span(placed.obstacles, a, b);
          if (along[1] < (lr ? region.x0 : region.y0) || along[0] > (lr ? region.x1 : region.y1)) { return; }
          path = AutogradScalarRoutes.route(placed.obstacles, a, b);
          placed.routes.set(key, path);
        }
        if (!meets(path.box, region)) { return; }
        var on = state.path.size && inPath(ra, marks) && inPath(rb, marks);
        var width = Math.min(1 + Math.log2(count), 5);
        html[EDGES].push('<path class="agv-edge' + (on ? " agv-path" : "") + '" d="' + path.d +
          '" data-a="' + ra + '" data-b="' + rb + '" stroke-width="' + width +
          '" marker-end="url(#' + arrow + (on ? "-path" : "") + (width > 2 ? "-wide" : "") + ')"></path>');
      });
      placed.boxes.forEach(function (r, g) {
        if (!meets(r, region)) { return; }
        var G = groups[g];
        html[BOXES].push('<g class="' + boxClass(g, marks) + '" data-g="' + g + '" tabindex="-1" role="button" aria-label="' +
          esc("box " + G.title + ", " + G.size + " nodes") + '"><rect x="' + r.x + '" y="' + r.y +
          '" width="' + r.w + '" height="' + r.h + '" rx="4"></rect><text x="' + (r.x + 8) +
          '" y="' + (r.y + 17) + '" class="agv-box-title"><title>' + esc(G.title) + '</title>\u25B8 ' +
          esc(boxTitle(G.title, BOX_TITLE_CHARS)) + '</text><text x="' +
          (r.x + 8) + '" y="' + (r.y + 34) + '">' + G.size.toLocaleString("en") + " nodes</text></g>");
      });
      placed.nodes.forEach(function (r, v) {
        if (!meets(r, region)) { return; }
        var op = ops[data.op[v]];
        html[NODES].push('<g class="' + nodeClass(v) + '" data-n="' + v + '" tabindex="-1" role="button" aria-label="' +
          esc(who(v)) + '"><rect x="' + r.x + '" y="' + r.y +
          '" width="' + r.w + '" height="' + r.h + '" rx="4"></rect>' + (text ?
          '<text x="' + (r.x + 6) + '" y="' + (r.y + 14) + '" class="agv-name' + (names[v] ? "" : " agv-id") + '">' +
          esc(shortName(v, op[0] ? NAME_CHARS - opSymbol(op).length - 1 : NAME_CHARS)) + "</text>" +
          (op[0] ? '<text x="' + (r.x + r.w - 6) + '" y="' + (r.y + 14) + '" class="agv-op">' + esc(opSymbol(op)) + "</text>" : "") +
          '<text x="' + (r.x + 6) + '" y="' + (r.y + 29) + '">data ' + num(data.data[v], p) + "</text>" +
          '<text x="' + (r.x + 6) + '" y="' + (r.y + 44) + '" class="agv-grad">grad ' +
          num(shownGrad(v), p) + "</text>" : "") + "</g>");
      });
      /* the keyboard's focus survives the redraw: on the same node or box (an opened box's
         frame), else on the canvas */
      var focused = shadow.activeElement, key = null;
      if (focused && focused.getAttribute && svg.contains(focused)) {
        key = focused.hasAttribute("data-n") ? '[data-n="' + focused.getAttribute("data-n") + '"]'
          : focused.hasAttribute("data-g") ? '[data-g="' + focused.getAttribute("data-g") + '"]' : null;
      }
      layers.forEach(function (layer, i) { layer.innerHTML = html[i].join(""); });
      if (key) { (svg.querySelector(key) || canvas).focus({ preventScroll: true }); }
      drawn = { nodes: new Map(), boxes: new Map(), lit: [], region: region, text: text };
      Array.prototype.forEach.call(layers[NODES].children, function (e) { drawn.nodes.set(+e.getAttribute("data-n"), e); });
      Array.prototype.forEach.call(layers[BOXES].children, function (e) { drawn.boxes.set(+e.getAttribute("data-g"), e); });
      light();
      if (state.heat) { restyle(); }
      root.setAttribute("data-step", String(state.step));
      root.setAttribute("data-shown", String(placed.nodes.size));
      root.setAttribute("data-drawn", String(drawn.nodes.size));
    }
    function inPath(r, marks) { return r >= 0 ? state.path.has(r) : marks.path.has(-1 - r); }

    /* The edges of the node the panel reads (hovered, clicked, found or stepped to) in
       black and on top of the others, so that they can be followed through a dense
       layer's many edges; those of the node before go back as they were. */
    function light() {
      drawn.lit.forEach(function (e) {
        e.classList.remove("agv-near");
        e.setAttribute("marker-end", e.getAttribute("data-marker"));
        e.setAttribute("stroke-width", e.getAttribute("data-width"));
      });
      var f = state.focus;
      drawn.lit = f < 0 ? [] : Array.prototype.slice.call(
        layers[EDGES].querySelectorAll('[data-a="' + f + '"], [data-b="' + f + '"]'));
      drawn.lit.forEach(function (e) {
        var marker = e.getAttribute("marker-end"), width = +e.getAttribute("stroke-width");
        e.setAttribute("data-marker", marker);
        e.setAttribute("data-width", String(width));
        e.classList.add("agv-near");
        e.setAttribute("marker-end", "url(#" + arrow + "-near" + (width > 2 ? "-wide" : "") + ")");
        e.setAttribute("stroke-width", String(Math.max(width, 2)));
        layers[EDGES].appendChild(e);
      });
    }

    /* The marks of what is drawn, brought up to date without drawing anything anew. */
    function restyle() {
      var marks = boxMarks();
      drawn.nodes.forEach(function (e, v) {
        e.setAttribute("class", nodeClass(v));
        var fill = nodeFill(v);
        e.firstChild.style.fill = fill ? fill[0] : "";
        var texts = e.querySelectorAll("text");
        for (var i = 0; i < texts.length; i += 1) { texts[i].style.fill = fill ? fill[1] : ""; }
        var grad = e.querySelector(".agv-grad");
        if (grad) { grad.textContent = "grad " + num(shownGrad(v), p); }
      });
      drawn.boxes.forEach(function (e, g) {
        e.setAttribute("class", boxClass(g, marks));
        var fill = state.heat ? heatFill(groupHeat[g]) : null;  /* light text on dark fills */
        e.firstChild.style.fill = fill ? fill[0] : "";
        var texts = e.querySelectorAll("text");
        for (var i = 0; i < texts.length; i += 1) { texts[i].style.fill = fill ? fill[1] : ""; }
      });
      root.setAttribute("data-step", String(state.step));
    }

    /* ---- pan and zoom ---- */
    function apply() {
      if (moved) { forgetFitNote(); }
      viewport.setAttribute("transform", "translate(" + state.tx + "," + state.ty + ") scale(" + state.s + ")");
      var view = visible(), region = drawn.region;
      var outside = !region || view.x0 < region.x0 || view.y0 < region.y0 || view.x1 > region.x1 || view.y1 > region.y1;
      if ((outside || (state.s >= TEXT_SCALE) !== drawn.text) && !pending) {
        pending = true;
        requestAnimationFrame(function () { pending = false; paint(); });
      }
    }
    /* The room a fit has: the canvas's width, and in height at most TALLEST of the
       window's, and within a scrolling area that holds the view (a notebook's) no more
       than leaves the bars above the canvas and the panel's first lines below it in
       that area: a node hovered shows its numbers where they can be read. */
    function roomFor() {
      var tall = TALLEST * (window.innerHeight || 800), area = scrollingHeight();
      if (area) {
        var above = canvas.getBoundingClientRect().top - root.getBoundingClientRect().top;
        tall = Math.min(tall, area - above - PANEL_PEEK);
      }
      return { w: (canvas.clientWidth || 800) - 2 * MARGIN, h: Math.max(140, tall) - 2 * MARGIN };
    }
    /* The visible height of the outermost scrolling ancestor of the view's host: a
       notebook's cells (an output area that scrolls grows with its contents; 0 if the
       page itself scrolls). */
    function scrollingHeight() {
      var found = 0;
      for (var e = host.parentElement; e && e !== document.body; e = e.parentElement) {
        var y = getComputedStyle(e).overflowY;
        if ((y === "auto" || y === "scroll") && e.clientHeight > 0) { found = e.clientHeight; }
      }
      return found;
    }
    /* The zoom that shows a w x h graph whole in the room: min(width ratio, height
       ratio), never above 1.25. */
    function fitScale(w, h, room) {
      return Math.min(1.25, room.w / Math.max(w, 1), room.h / Math.max(h, 1));
    }
    /* Open at a zoom where text is readable (at least READABLE, 9px on screen):
       - "whole": the whole graph, as large as fits the room (up to 125%), the canvas as
         tall as the graph's aspect needs; always, when asked for (the fit button); and
         for a graph of a few items down to LEGIBLE (a neuron in a narrow cell);
       - "width": else, if the width fits readably, the width, the output's end in view;
       - "near": else the output's neighbourhood at 100%.
       The note says which, and how to see the rest. */
    function fit(whole) {
      var room = roomFor(), foot = footRoom();
      room.h = Math.max(100, room.h - foot);
      var s = fitScale(placed.w, placed.h, room);
      var sw = Math.min(1.25, room.w / Math.max(placed.w, 1));
      var few = s >= LEGIBLE && placed.nodes.size + placed.boxes.size <= SMALL;
      var mode = whole || s >= READABLE || few ? "whole" : sw >= READABLE ? "width" : "near";
      if (mode === "width") { s = sw; } else if (mode === "near") { s = 1; }
      var width = canvas.clientWidth || room.w + 2 * MARGIN;
      state.s = s; state.tx = MARGIN;
      var out = rectOf(placed.rep[data.outputs[0]]) || { x: placed.w, y: placed.h / 2, w: 0, h: 0 };
      /* as tall as the graph at that zoom (left to right, near the output: its columns
         in view), up to the room: a short graph too wide for a narrow cell is not a band
         in the middle of an empty canvas */
      var tall = placed.h, columns = null;
      if (mode === "near" && data.rankdir !== "TB") {
        state.tx = Math.min(MARGIN, width - MARGIN - (out.x + out.w) * s);
        columns = across("x", -state.tx / s, (width - state.tx) / s);
        tall = columns[1] - columns[0];
      }
      var zoom = Math.round(100 * s) + "%";
      if (mode === "whole") {
        note.textContent = s >= READABLE ? "" : s >= LEGIBLE ? "The whole graph at " + zoom +
          ", small: + or ctrl + wheel zooms in." : "The whole graph at " + zoom +
          ": too small to read; zoom in, search, or click a box.";
      } else if (mode === "width") {
        note.textContent = "Fitted to the width at " + zoom + ": the whole graph is " +
          (placed.h * s / room.h).toFixed(1) + " times the view's height, so the view shows the output's end; " +
          "drag, ctrl + wheel or 'fit' to see the rest.";
      } else {
        note.textContent = "Showing the output's neighbourhood at " + zoom + ": the whole graph would need " +
          Math.round(100 * fitScale(placed.w, placed.h, room)) + "% to fit, too small to read. " +
          "Drag or ctrl + wheel to move, 'fit' for the whole, search to find a node.";
      }
      /* the note lies over the canvas's top: what the fit shows lies below it (a box's
         title too), the canvas growing by it, past the room for a whole graph and within
         it otherwise */
      var head = headed();
      var height = (mode === "width" ? room.h : Math.max(140, Math.min(
        tall * s + (mode === "whole" ? 0 : head), room.h))) + 2 * MARGIN;
      var below = height - (mode === "whole" ? 0 : head);  /* the canvas under the note */
      if (mode === "whole") {  /* centred, above the foot, where the narration will lie */
        state.ty = head + Math.max(MARGIN, (height - placed.h * s) / 2);
        state.tx = Math.max(MARGIN, (width - placed.w * s) / 2);
        height += head;
      } else if (mode === "width") {
        state.ty = head + within(below / 2 - (out.y + out.h / 2) * s, below, [0, placed.h]);
      } else if (data.rankdir === "TB") {
        state.ty = height - MARGIN - (out.y + out.h) * s;
        state.tx = within(width / 2 - (out.x + out.w / 2) * s, width,
                          across("y", -state.ty / s, (height - state.ty) / s));
      } else {
        state.ty = head + within(below / 2 - (out.y + out.h / 2) * s, below, columns);
      }
      canvas.style.height = (height + foot) + "px";
      root.setAttribute("data-fit", mode);
      fitNote = note.textContent !== "";
      apply();
    }
    /* An offset along one axis for a view of ``room`` px at the current zoom, where
       the part of the graph in view spans ``extent`` ([start, end], in the graph's
       units): centred if it fits, else moved the least from ``offset`` that leaves no
       empty margin before its start or after its end. */
    function within(offset, room, extent) {
      var s = state.s, first = MARGIN - extent[0] * s, last = room - MARGIN - extent[1] * s;
      return last >= first ? (first + last) / 2 : Math.min(first, Math.max(last, offset));
    }
    /* The extent along the other axis of what is drawn between ``from`` and ``to`` along
       ``axis`` ("x": the columns in view; "y": the rows): nodes, boxes and open frames. */
    function across(axis, from, to) {
      var other = axis === "x" ? "y" : "x", size = axis === "x" ? "w" : "h",
          along = axis === "x" ? "h" : "w", lo = Infinity, hi = -Infinity;
      function add(r) {
        if (r && r[axis] < to && r[axis] + r[size] > from) {
          lo = Math.min(lo, r[other]); hi = Math.max(hi, r[other] + r[along]);
        }
      }
      placed.nodes.forEach(add); placed.boxes.forEach(add);
      placed.frames.forEach(function (f) { add(f.rect); });
      return lo <= hi ? [lo, hi] : [0, axis === "x" ? placed.h : placed.w];
    }
    function zoomBy(factor, cx, cy) {
      if (cx === undefined) { cx = canvas.clientWidth / 2; cy = canvas.clientHeight / 2; }
      var s = Math.max(0.02, Math.min(8, state.s * factor));
      state.tx = cx - (cx - state.tx) * (s / state.s); state.ty = cy - (cy - state.ty) * (s / state.s);
      state.s = s; apply();
    }
    function inView(rect) {  /* wholly visible, and not under the note or the narration */
      var q = visible();
      return rect && rect.x >= q.x0 && rect.y >= q.y0 + headed() / state.s && rect.x + rect.w <= q.x1 &&
        rect.y + rect.h <= q.y1 - covered() / state.s;
    }
    function covered() {  /* px at the canvas's foot under the stepping narration */
      return state.step >= 0 ? narration.offsetHeight : 0;
    }
    function headed() {  /* px at the canvas's top under the note, while it shows */
      return note.offsetHeight;
    }
    /* The narration's height, kept free at the canvas's foot by the opening fit, so that
       stepping through a graph shown whole hides none of it (measured once). */
    var foot = null;
    function footRoom() {
      if (foot === null && steps.length > 1) {
        narration.classList.add("agv-stepping");
        foot = narration.offsetHeight || null;
        narration.classList.toggle("agv-stepping", state.step >= 0);
      }
      return foot || 0;
    }
    /* Pan the least that shows rect (a box just opened into its frame) whole; one
       larger than the view shows its top left corner, its title, at the view's. The
       caller draws. */
    function bringIn(rect) {
      var s = state.s, w = canvas.clientWidth || 800, top = headed();
      var h = (canvas.clientHeight || 400) - covered() - top;
      state.tx += shift(state.tx + rect.x * s, rect.w * s, w);
      state.ty += shift(state.ty - top + rect.y * s, rect.h * s, h);
      viewport.setAttribute("transform", "translate(" + state.tx + "," + state.ty + ") scale(" + state.s + ")");
    }
    /* After a box closes, the graph shrinks under the view: no empty margin where the
       graph would fit (centred where all of it does), and the closed box in view. */
    function settle(box) {
      state.tx = within(state.tx, canvas.clientWidth || 800, [0, placed.w]);
      state.ty = within(state.ty, (canvas.clientHeight || 400) - covered(), [0, placed.h]);
      if (box) { bringIn(box); }
    }
    function shift(start, size, room) {  /* along one axis: start and size on screen */
      if (start < MARGIN) { return MARGIN - start; }
      var over = start + size - (room - MARGIN);
      return over > 0 ? -Math.min(over, start - MARGIN) : 0;
    }
    function centreOn(rect) {  /* moves the view; the caller draws */
      if (!rect) { return; }
      if (state.s < READABLE) { state.s = 1; }
      state.tx = canvas.clientWidth / 2 - (rect.x + rect.w / 2) * state.s;
      state.ty = headed() + (canvas.clientHeight - covered() - headed()) / 2 - (rect.y + rect.h / 2) * state.s;
      viewport.setAttribute("transform", "translate(" + state.tx + "," + state.ty + ") scale(" + state.s + ")");
    }
    /* The wheel scrolls the notebook, unless the view has focus (after a click on the
       graph) or ctrl (cmd) is held: then it zooms. */
    canvas.addEventListener("wheel", function (event) {
      var active = shadow.activeElement;
      if (!(active && canvas.contains(active)) && !event.ctrlKey && !event.metaKey) { return; }
      event.preventDefault(); moved = true;
      var box = canvas.getBoundingClientRect();
      zoomBy(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
    }, { passive: false });
    var drag = null;
    canvas.addEventListener("pointerdown", function (event) {
      canvas.focus({ preventScroll: true });
      drag = { x: event.clientX, y: event.clientY, tx: state.tx, ty: state.ty, moved: false };
    });
    function onPointerMove(event) {
      if (!drag) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
      if (drag.moved) { moved = true; state.tx = drag.tx + dx; state.ty = drag.ty + dy; apply(); }
    }
    function onPointerUp() { setTimeout(function () { drag = null; }, 0); }
    window.addEventListener("pointermove", onPointerMove);
    window.addEventListener("pointerup", onPointerUp);
    cleanup.push(function () {
      window.removeEventListener("pointermove", onPointerMove);
      window.removeEventListener("pointerup", onPointerUp);
    });
    /* A change of the canvas's width refits, unless the user has moved the view or gone
       somewhere in it (a search, a step, a box opened): then what was at the canvas's
       centre stays there (a narrower window does not leave it outside, on the right),
       and what came into view is drawn. */
    var lastWidth = 0;
    if (typeof ResizeObserver !== "undefined") {
      var observer = new ResizeObserver(function () {
        var w = canvas.clientWidth;
        if (!w || w === lastWidth) { return; }
        var before = lastWidth;
        lastWidth = w;
        if (!moved) { opening(); return; }
        if (before) { state.tx += (w - before) / 2; }
        apply();
      });
      observer.observe(canvas);
      cleanup.push(function () { observer.disconnect(); });
    }

    /* ---- clicks and hover ---- */
    svg.addEventListener("click", function (event) {
      if (drag && drag.moved) { return; }
      activate(event.target.closest("[data-n],[data-g]"));
    });
    /* The keyboard does what the mouse does: on the focused canvas the arrows pan, + and
       - zoom, 0 fits; Tab and Shift+Tab go from node to box in reading order (tabTo),
       Enter or Space clicks what has the focus. */
    canvas.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }  /* the browser's zoom, ... */
      var target = event.target.closest ? event.target.closest("[data-n],[data-g]") : null;
      if (event.key === "Tab") {
        if (tabTo(target, event.shiftKey ? -1 : 1)) { event.preventDefault(); event.stopPropagation(); }
        return;
      }
      var pan = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] }[event.key];
      if (target && (event.key === "Enter" || event.key === " ")) { activate(target); }
      else if (pan) { moved = true; state.tx += pan[0]; state.ty += pan[1]; apply(); }
      else if (event.key === "+" || event.key === "=") { moved = true; zoomBy(1.25); }
      else if (event.key === "-" || event.key === "_") { moved = true; zoomBy(0.8); }
      else if (event.key === "0") { moved = false; fit(true); }
      else { return; }
      /* handled here: not the page's (a notebook's own shortcuts: 0,0 restarts a kernel) */
      event.preventDefault(); event.stopPropagation();
    });
    /* The canvas is the view's one stop in the page's Tab order (its nodes, boxes and
       frames take focus by click or by tabTo, not by the browser's order, which is the
       order they are painted in: every frame, then every box, then every node). From
       the canvas, Tab goes to the first item in view in reading order: each group's
       items along its layout, then across, an open box's frame followed by what it
       holds; from an item, to the next or (Shift) the one before, drawn and brought
       into view if need be. Past the last the focus goes back to the canvas and the
       browser moves it on, out of the view; before the first, to the canvas. */
    var reading = null;  /* placed's items in reading order, made when first needed */
    function readingOrder() {
      if (reading && reading.placed === placed) { return reading; }
      var along = data.rankdir !== "TB" ? 0 : 1, items = [], frames = new Map();
      placed.frames.forEach(function (f) { frames.set(f.g, f.rect); });
      (function visit(g) {
        var G = groups[g], c = G.centres, order = G.items.map(function (item, k) { return k; });
        order.sort(function (a, b) {
          return c[2 * a + along] - c[2 * b + along] || c[2 * a + 1 - along] - c[2 * b + 1 - along];
        });
        order.forEach(function (k) {
          var item = G.items[k], sub = -1 - item;
          if (item >= 0) {
            if (placed.nodes.has(item)) { items.push({ key: selector("agv-node", item), rect: placed.nodes.get(item) }); }
          } else if (frames.has(sub)) {
            items.push({ key: selector("agv-frame", sub), rect: frames.get(sub), frame: true });
            visit(sub);
          } else if (placed.boxes.has(sub)) {
            items.push({ key: selector("agv-box", sub), rect: placed.boxes.get(sub) });
          }
        });
      })(0);
      var at = new Map();
      items.forEach(function (item, k) { at.set(item.key, k); });
      reading = { placed: placed, items: items, at: at };
      return reading;
    }
    /* An item's selector in the svg, its key in the reading order: its kind and id. */
    function selector(kind, id) {
      return "." + kind + (kind === "agv-node" ? '[data-n="' : '[data-g="') + id + '"]';
    }
    function keyOf(item) {
      return item.hasAttribute("data-n") ? selector("agv-node", item.getAttribute("data-n"))
        : selector(item.classList.contains("agv-frame") ? "agv-frame" : "agv-box",
                   item.getAttribute("data-g"));
    }
    /* What must be on screen for an item's focus to be seen: a frame's title, the rest
       whole. */
    function seenPart(item) {
      var r = item.rect;
      return item.frame ? { x: r.x, y: r.y, w: Math.min(r.w, FRAME_TITLE_SEEN), h: HEADER } : r;
    }
    function firstInView(items) {  /* wholly, else partly, else the one nearest the centre */
      var view = visible(), k, best = 0, distance = Infinity;
      for (k = 0; k < items.length; k += 1) { if (inView(seenPart(items[k]))) { return k; } }
      for (k = 0; k < items.length; k += 1) { if (meets(items[k].rect, view)) { return k; } }
      var cx = (view.x0 + view.x1) / 2, cy = (view.y0 + view.y1) / 2;
      items.forEach(function (item, j) {
        var r = item.rect, d = Math.hypot(r.x + r.w / 2 - cx, r.y + r.h / 2 - cy);
        if (d < distance) { distance = d; best = j; }
      });
      return best;
    }
    function tabTo(from, by) {
      var order = readingOrder(), items = order.items, next;
      if (!items.length) { return false; }
      if (from && (from.classList.contains("agv-node") || from.classList.contains("agv-box") ||
                   from.classList.contains("agv-frame"))) {
        var at = order.at.get(keyOf(from));
        next = at === undefined ? -1 : at + by;
      } else if (by > 0) {
        next = firstInView(items);
      } else {
        return false;  /* Shift+Tab from the canvas: out of the view, backwards */
      }
      if (next < 0 || next >= items.length) {
        canvas.focus({ preventScroll: true });  /* the browser moves on from here */
        return next < 0;
      }
      var item = items[next], element = svg.querySelector(item.key);
      if (!element || !inView(seenPart(item))) {
        /* off the item first: the redraw keeps the focus where it is, and an item it
           kept would be brought back into view, the view moved back */
        canvas.focus({ preventScroll: true });
        moved = true;
        if (item.frame) { bringIn(item.rect); } else { centreOn(item.rect); }
        paint();
        element = svg.querySelector(item.key);
      }
      if (!element) { return false; }
      element.focus({ preventScroll: true });
      return true;
    }
    /* Stepping by keyboard anywhere in the view: PageDown and PageUp (what a presenter's
       clicker sends), and the arrows on the step buttons (on the canvas they pan). */
    root.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || steps.length < 2) { return; }
      var tag = event.target.tagName;
      if (tag === "SELECT" || tag === "INPUT") { return; }  /* their own keys */
      var onButtons = stepper.contains(event.target) && tag === "BUTTON";
      var by = event.key === "PageDown" || (onButtons && event.key === "ArrowRight") ? 1
        : event.key === "PageUp" || (onButtons && event.key === "ArrowLeft") ? -1 : 0;
      if (!by) { return; }
      stop(); goTo(state.step + by);
      event.preventDefault(); event.stopPropagation();  /* not the page's scroll */
    });
    function activate(target) {
      if (!target) { return; }
      if (target.hasAttribute("data-n")) {
        var v = +target.getAttribute("data-n");
        state.selected = state.selected === v ? -1 : v;
        if (hooks.select) { hooks.select(state.selected); }
        describe(v); restyle(); return;
      }
      var g = +target.getAttribute("data-g");
      moved = true;
      if (expanded.has(g)) { collapse(g); placed = flatten(); settle(placed.boxes.get(g)); paint(); return; }
      withLayouts([g], function () {
        expanded.add(g); placed = flatten();
        var opened = placed.frames.filter(function (f) { return f.g === g; })[0];
        forgetFitNote();  /* first: the note it drops no longer covers the top */
        if (opened) { bringIn(opened.rect); }
        paint();
      });
    }
    svg.addEventListener("mouseover", function (event) {
      var target = event.target.closest("[data-n]");
      if (target && state.selected < 0) { describe(+target.getAttribute("data-n")); }
    });
    function collapse(g) {
      expanded.delete(g);
      groups.forEach(function (G, k) { for (var a = G.parent; a > 0; a = groups[a].parent) { if (a === g) { expanded.delete(k); } } });
    }
    function around(v) {  /* the boxes around v, innermost first */
      var found = [];
      for (var g = home[v]; g > 0; g = groups[g].parent) { found.push(g); }
      return found;
    }
    /* Boxes of a big graph are laid out when first opened: the kernel is asked for the
       layouts missing among gs, and `then` runs once they have come (at once if none
       is missing). A saved page carries every layout. */
    var waiting = [];
    function withLayouts(gs, then) {
      var missing = gs.filter(function (g) { return !groups[g].centres; });
      if (!missing.length) { then(); return; }
      if (!hooks.fetch) { note.textContent = "This box was not laid out, and there is no kernel to ask."; return; }
      var request = [missing, then];
      waiting.push(request);
      note.textContent = "Laying out " + missing.length + (missing.length > 1 ? " boxes" : " box") + " in the kernel\u2026";
      root.setAttribute("data-fetching", String(waiting.length));
      hooks.fetch(missing);
      /* a kernel restarted since the view was drawn never answers (its comm is gone) */
      var timer = setTimeout(function () {
        if (waiting.indexOf(request) >= 0) {
          note.textContent = "The kernel has not answered for " + Math.round((hooks.patience || PATIENCE) / 1000) +
            " s: it is busy, or it was restarted since this view was drawn (then run the cell again).";
        }
      }, hooks.patience || PATIENCE);
      cleanup.push(function () { clearTimeout(timer); });
    }
    /* The kernel's layouts arrive: keep them, and run what waited for them. */
    function receive(records) {
      Object.keys(records).forEach(function (g) {
        var G = groups[+g], r = records[g];
        G.centres = r.centres; G.width = r.width; G.height = r.height;
      });
      var ready = waiting.filter(function (w) { return w[0].every(function (g) { return groups[g].centres; }); });
      waiting = waiting.filter(function (w) { return ready.indexOf(w) < 0; });
      note.textContent = "";
      root.setAttribute("data-fetching", String(waiting.length));
      ready.forEach(function (w) { w[1](); });
    }
    function say(text) { note.textContent = text; fitNote = false; }
    function forgetFitNote() {  /* the note told of the opening view, which has moved */
      if (fitNote) { note.textContent = ""; fitNote = false; }
    }
    function reveal(v) {  /* open every box around v; true if any was closed */
      var opened = false;
      for (var g = home[v]; g > 0; g = groups[g].parent) { if (!expanded.has(g)) { expanded.add(g); opened = true; } }
      return opened;
    }
    /* Show node v: open its boxes, bring it into view, draw what changed. */
    function show(v) {
      moved = true;
      forgetFitNote();
      withLayouts(around(v), function () { showLaidOut(v); });
    }
    function showLaidOut(v) {
      var opened = reveal(v);
      if (opened) { placed = flatten(); }
      var rect = placed.nodes.get(v), both = withUser(v, rect);
      if (inView(both)) { if (opened) { paint(); } else { restyle(); } return; }
      /* at a readable zoom, the least pan that shows the node and the user its step reads
         from (or the node alone); else centred */
      if (state.s >= READABLE && fitsView(both)) { bringIn(both); }
      else if (state.s >= READABLE && fitsView(rect)) { bringIn(rect); } else { centreOn(rect); }
      paint();
    }
    /* rect and its node's first user on the backward pass (whose gradient its step
       multiplies), as one rectangle; rect alone if it has none drawn */
    function withUser(v, rect) {
      var used = stepOf[v] >= 0 ? terms(v) : [], other = used.length ? rectOf(placed.rep[used[0][0]]) : null;
      if (!rect || !other) { return rect; }
      var x = Math.min(rect.x, other.x), y = Math.min(rect.y, other.y);
      return { x: x, y: y, w: Math.max(rect.x + rect.w, other.x + other.w) - x,
               h: Math.max(rect.y + rect.h, other.y + other.h) - y };
    }
    function fitsView(rect) {
      var s = state.s, w = canvas.clientWidth || 800;
      var h = (canvas.clientHeight || 400) - covered() - headed();
      return rect && rect.w * s <= w - 2 * MARGIN && rect.h * s <= h - 2 * MARGIN;
    }

    /* ---- the panel: a node's numbers and the chain rule that gave its grad ---- */
    function terms(v) {  /* [user, local, upstream] for each use on the backward pass */
      var list = users[v], out = [];
      for (var i = 0; i < list.length; i += 2) {
        var u = list[i], k = stepOf[u];
        if (k >= 0) { out.push([u, data.locals[u][list[i + 1]], data.stepGrads[k]]); }
      }
      return out;
    }
    /* Whether two numbers as shown (p significant digits; "inf", "nan" as strings)
       differ by more than their rounding: 0 and -0 do not, 1.5 and 3 do. */
    function differs(a, b) {
      if (typeof a !== "number" || typeof b !== "number") { return String(a) !== String(b); }
      return Math.abs(a - b) > Math.pow(10, 1 - p) * Math.max(Math.abs(a), Math.abs(b));
    }
    /* The chain rule's terms in symbols: each use written out when there are a few,
       the sum over the uses when there are many. */
    function chainSymbols(v, used) {
      if (used.length > 3) {
        return "the sum over its " + used.length + " users u of dL/du \u00B7 du/d(" + symbol(v) + ")";
      }
      return used.map(function (t) {
        return "dL/d(" + symbol(t[0]) + ") \u00B7 d(" + symbol(t[0]) + ")/d(" + symbol(v) + ")";
      }).join(" + ");
    }
    /* The same terms in numbers, identical ones counted once: "20 \u00D7 (0.5 \u00D7 1)". */
    function chainNumbers(used) {
      var counts = new Map();
      used.forEach(function (t) {
        var key = num(t[2], p) + " \u00D7 " + num(t[1], p);
        counts.set(key, (counts.get(key) || 0) + 1);
      });
      var parts = [];
      counts.forEach(function (n, key) { parts.push(n > 1 ? n + " \u00D7 (" + key + ")" : key); });
      return parts.length > 12 ? parts.slice(0, 12).join(" + ") + " + \u2026 (" + (parts.length - 12) + " more)" : parts.join(" + ");
    }
    /* animate.chain_rule_text: "dL/d(x) = dL/d(u) \u00B7 d(u)/d(x) = 2 \u00D7 0.3 = 0.6", for
       the panel and the narration alike. */
    function chainText(v, used, sum) {
      return "dL/d(" + symbol(v) + ") = " + chainSymbols(v, used) + " = " + chainNumbers(used) + " = " + num(sum, p);
    }
    /* The panel, in the order a reader wants it within the lines a notebook shows
       (PANEL_PEEK): the node, the chain rule that gave its grad, its data and grad, then
       what it is (op, id, label, parameter, module) and its local derivatives. */
    function describe(v) {
      var op = ops[data.op[v]];
      state.focus = v; light();
      panel.innerHTML = "";
      panel.setAttribute("data-node", String(v));
      panel.appendChild(el("div", "agv-panel-title", who(v)));
      panel.appendChild(chainRule(v));
      var facts = el("table", "agv-facts");
      function fact(key, value, cls) {
        var tr = el("tr", cls); tr.appendChild(el("th", "", key)); tr.appendChild(el("td", "", value));
        facts.appendChild(tr);
      }
      fact("data", num(data.data[v], p), "agv-data-value");
      fact("grad", num(data.grad[v], p), "agv-grad-value");
      if (data.tangents) { fact("tangent", num(data.tangents[v], p), "agv-tangent-value"); }
      fact("op", op[0] ? op[0] + (op[2] ? "   (" + op[2] + ")" : "") : "none (leaf)");
      fact("node", tag(v));
      if (labels[v]) { fact("label", labels[v]); }
      if (isParam[v]) { fact("parameter", names[v]); }
      if (data.scope[v]) { fact("module", data.scopes[data.scope[v]]); }
      panel.appendChild(facts);
      var inputs = kids[v];
      if (inputs.length) {
        panel.appendChild(el("div", "agv-panel-head", "local derivatives d(this)/d(input), stored at the forward pass:"));
        var list = el("ul", "agv-locals");
        inputs.slice(0, 16).forEach(function (c, i) {
          list.appendChild(el("li", "", "d(" + symbol(v) + ")/d(" + symbol(c) + " = " + num(data.data[c], p) +
            ") = " + num(data.locals[v][i], p)));
        });
        if (inputs.length > 16) { list.appendChild(el("li", "", "\u2026 and " + (inputs.length - 16) + " more inputs")); }
        panel.appendChild(list);
      }
      if (failed[v]) {
        panel.appendChild(el("div", "agv-panel-failed", "check_graph: this node's stored local derivative disagrees with finite differences of its op's forward (see the table below)"));
      }
    }
    /* The line that says how backprop reached the node's grad. */
    function chainRule(v) {
      var k = stepOf[v], rule = el("div", "agv-chain");
      if (k === 0) {
        rule.textContent = "output: dL/d(" + symbol(v) + ") = 1 (the seed of the backward pass)";
        if (differs(data.grad[v], 1)) { rule.appendChild(stale(v, 1)); }
      } else if (k > 0) {
        var used = terms(v), sum = data.stepGrads[k];
        rule.textContent = "chain rule: " + chainText(v, used, sum);
        if (used.length > 1) {
          rule.appendChild(el("div", "agv-reused", "reused: " + used.length +
            " uses, each adds its term to the gradient (it accumulates)"));
        }
        if (differs(data.grad[v], sum)) { rule.appendChild(stale(v, sum)); }
      } else {
        rule.textContent = "not on the backward pass of the first output";
      }
      return rule;
    }
    /* Whether every node's grad is 0: no backward() has reached this graph (a backward()
       of a loss beyond it gives its output a grad; one node's 0 says nothing). */
    var gradless = null;  /* noGrads' answer for the numbers shown, found when first asked */
    function noGrads() {
      if (gradless === null) {
        gradless = true;
        for (var u = 0; u < N && gradless; u += 1) { gradless = data.grad[u] === 0; }
      }
      return gradless;
    }
    /* Why the stored grad is not this pass's sum: no backward() yet (every grad 0),
       backward() run from a node beyond the view (the output's own grad is not 1), or
       backward() called more than once without zeroing the grads. */
    function stale(v, sum) {
      if (noGrads()) {
        return el("div", "agv-accumulated", "backward() has not been run: .grad is still " +
          num(data.grad[v], p) + ". The chain rule above is what backward() would give; " +
          "stepping shows it.");
      }
      var seed = data.grad[data.outputs[0]];
      if (typeof seed === "number" && seed !== 0 && differs(seed, 1)) {
        return el("div", "agv-accumulated", "The stored grad " + num(data.grad[v], p) +
          " differs from this pass's sum " + num(sum, p) + ", which starts from 1 at the output: " +
          "the output's own .grad is " + num(seed, p) + ", so backward() ran from a node beyond " +
          "this view (which weighs every grad by it), or more than once without zeroing the grads.");
      }
      /* passes: how many times this pass's sum the stored grad is, to the numbers' rounding */
      var passes = typeof data.grad[v] === "number" && typeof sum === "number" && sum !== 0 ? Math.round(data.grad[v] / sum) : NaN;
      return el("div", "agv-accumulated", "The stored grad " + num(data.grad[v], p) +
        " differs from this pass's sum " + num(sum, p) + ": .grad accumulates over backward() calls" +
        (passes > 1 && !differs(data.grad[v], passes * sum) ? " (" + passes + " passes added up)" : "") +
        ". Set the grads to 0 (model.zero_grad()) before each backward().");
    }

    /* ---- search and paths ---- */
    var lowered = null;
    search.addEventListener("input", function () { runSearch(search.value); });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && state.matchList.length) {
        event.preventDefault();
        goToMatch((state.matchAt + 1) % state.matchList.length);
      }
    });
    function runSearch(text) {
      var q = text.trim().toLowerCase();
      if (!lowered) { lowered = names.map(function (n, v) { return (n + "\n" + labels[v]).toLowerCase(); }); }
      /* an id ("n12") first, then every node whose name or label holds the text */
      var byId = /^n\d+$/.test(q) && +q.slice(1) < N ? +q.slice(1) : -1;
      state.matchList = byId >= 0 ? [byId] : [];
      if (q) { for (var v = 0; v < N; v += 1) { if (v !== byId && lowered[v].indexOf(q) >= 0) { state.matchList.push(v); } } }
      state.matches = new Set(state.matchList);
      found.textContent = q ? state.matchList.length + " found" : "";
      if (state.matchList.length) { goToMatch(0); return; }
      restyle();
      if (q) {  /* not the last match's numbers, which would read as this search's */
        panel.removeAttribute("data-node");
        state.focus = -1; light();
        panel.textContent = "No node's id, name or label holds \u201C" + text.trim() + "\u201D.";
      }
    }
    function goToMatch(i) {
      var v = state.matchList[i];
      state.matchAt = i;
      if (state.matchList.length > 1) { found.textContent = (i + 1) + " of " + state.matchList.length + " found"; }
      show(v); describe(v);
    }
    function togglePaths() {
      if (state.path.size || state.selected < 0) {
        state.path = new Set(); pathButton.classList.remove("agv-on");
        if (state.selected < 0) { panel.textContent = "Click a node first, then 'paths to output'."; }
        paint(); return;
      }
      var seen = new Set([state.selected]), queue = [state.selected];
      while (queue.length) {
        var list = users[queue.pop()];
        for (var i = 0; i < list.length; i += 2) { if (!seen.has(list[i])) { seen.add(list[i]); queue.push(list[i]); } }
      }
      state.path = seen; pathButton.classList.add("agv-on"); paint();
    }

    /* ---- stepping through backward: animate.describe_step's words, from the numbers ---- */
    function narrate(k) {
      var v = steps[k], total = steps.length - 1, used = terms(v);
      var head = "Step " + k + " of " + total + definition(v) + ": ";
      if (!used.length) { return head + "dL/d(" + symbol(v) + ") = 1 (the seed of the backward pass)"; }
      return head + chainText(v, used, data.stepGrads[k]);
    }
    function goTo(k) {
      state.step = Math.max(-1, Math.min(steps.length - 1, k));
      narration.classList.toggle("agv-stepping", state.step >= 0);  /* one height for every step */
      canvas.classList.toggle("agv-stepping", state.step >= 0);
      if (state.step < 0) {
        narration.textContent = ""; counter.textContent = "backward pass: " + (steps.length - 1) + " steps";
        restyle();
      } else {
        narration.textContent = narrate(state.step);
        counter.textContent = "step " + state.step + " of " + (steps.length - 1);
        show(steps[state.step]);
        describe(steps[state.step]);  /* the panel reads the step's node */
      }
    }
    function stop() {
      if (state.timer) { clearInterval(state.timer); state.timer = null; }
      playButton.textContent = "\u25B6 play";
    }
    /* Play at the chosen speed: a step every so many ms, or ten steps a frame ("fastest"). */
    function play() {
      if (state.step >= steps.length - 1) { goTo(-1); }
      playButton.textContent = "\u2016 pause";
      var delay = +speed.value, stride = delay ? 1 : 10;
      state.timer = setInterval(function () {
        if (state.step >= steps.length - 1) { stop(); } else { goTo(Math.min(steps.length - 1, state.step + stride)); }
      }, delay || 16);
    }
    cleanup.push(stop);

    /* ---- new numbers from the kernel (refresh) ---- */
    var numeric = ["data", "grad", "locals", "steps", "stepGrads", "tangents"];
    /* Take `next`'s numbers when the graph is the same (its structure serial is), marking
       the nodes whose data or grad changed for a moment; else draw the new graph. */
    var unmark = null;
    function update(next) {
      if (next.structure !== data.structure) { return mount(host, next, hooks); }
      var changed = [];
      for (var v = 0; v < N; v += 1) {
        if (next.data[v] !== data.data[v] || next.grad[v] !== data.grad[v]) { changed.push(v); }
      }
      numeric.forEach(function (key) { data[key] = next[key]; });
      gradless = null;
      measureHeat();
      paint();
      changed.forEach(function (v) { var e = drawn.nodes.get(v); if (e) { e.classList.add("agv-changed"); } });
      /* one mark at a time: refreshes closer than its 700 ms (a training loop's) keep the
         nodes that change marked, where each refresh's timer had cleared the next's marks */
      clearTimeout(unmark);
      unmark = setTimeout(function () {
        drawn.nodes.forEach(function (e) { e.classList.remove("agv-changed"); });
      }, 700);
      var shown = panel.getAttribute("data-node");
      if (shown !== null && shown !== "") { describe(+shown); }
      root.setAttribute("data-refreshed", String((+root.getAttribute("data-refreshed") || 0) + 1));
      return handle;
    }
    function destroy() {
      clearTimeout(unmark);
      cleanup.forEach(function (undo) { undo(); });
      cleanup = [];
      host.agv = null;
    }
    /* Open: boxes within the budget, a readable zoom; a check_graph report on its
       (first) failing node, its box open and its numbers in the panel. */
    function opening() {
      placed = flatten();
      fit();
      if (data.failed.length) {
        var v = data.failed[0];
        if (reveal(v)) { placed = flatten(); }
        state.selected = v;
        fitNote = false;  /* this note stays: it tells of the check, not of the zoom */
        note.textContent = "Opened on the failing node " + who(v) + " (in red): " + data.failed.length +
          " node" + (data.failed.length > 1 ? "s" : "") + " failed the check.";
        if (!inView(placed.nodes.get(v)) || state.s < READABLE) {  /* below the note */
          if (state.s < READABLE) { state.s = 1; }
          centreOn(placed.nodes.get(v));
        }
        describe(v);
      }
      paint();
    }

    openWithinBudget();
    opening();
    var handle = { data: data, expanded: expanded, state: state, fit: fit, narrate: narrate,
                   rects: function () { return placed; }, update: update, destroy: destroy,
                   root: root, who: who, receive: receive, say: say };
    root.agv = handle; host.agv = handle;
    return handle;
  }

  /* A payload in the form mount() reads. A big graph's columns come packed (page.py's
     packed(): little-endian arrays, 8-byte aligned, zlib-compressed together, in
     base64; names and labels only where not empty): they are inflated and cut back
     into one number per node, one list of kids and of local derivatives per node,
     non-finite numbers as the strings "inf", "-inf", "nan". A Promise of the data. */
  function unpack(data) {
    if (!data.packed) { return Promise.resolve(data); }
    var text = atob(data.packed.bytes), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i += 1) { bytes[i] = text.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      var columns = data.packed.columns, out = {}, kinds = { f4: Float32Array, f8: Float64Array, i4: Int32Array };
      Object.keys(data).forEach(function (key) { if (key !== "packed") { out[key] = data[key]; } });
      Object.keys(columns).forEach(function (key) {
        var c = columns[key], view = new kinds[c[0]](buffer, c[1], c[2]), list = new Array(c[2]);
        for (var k = 0; k < c[2]; k += 1) {
          var x = view[k];
          list[k] = c[0] === "i4" || isFinite(x) ? x : (x !== x ? "nan" : (x > 0 ? "inf" : "-inf"));
        }
        out[key] = list;
      });
      var arity = out.arity, N = arity.length;
      ["kids", "locals"].forEach(function (key) {
        var flat = out[key], lists = new Array(N), at = 0;
        for (var v = 0; v < N; v += 1) { lists[v] = flat.slice(at, at + arity[v]); at += arity[v]; }
        out[key] = lists;
      });
      delete out.arity;
      ["names", "labels"].forEach(function (key) {
        var full = new Array(N).fill(""), at = data[key][0], texts = data[key][1];
        for (var j = 0; j < at.length; j += 1) { full[at[j]] = texts[j]; }
        out[key] = full;
      });
      return out;
    });
  }

  /* anywidget's render: the view of the model's "payload", kept up to date when
     refresh() sends new numbers, telling the kernel which node was clicked. Payloads
     are unpacked in the order they came, each drawn once its bytes are inflated. */
  function render(model, el) {
    var hooks = {
      select: function (v) { model.set("selected_index", v); model.save_changes(); },
      fetch: function (gs) { model.send({ type: "layout", groups: gs }); }
    };
    var view = null, alive = true, queue = Promise.resolve();
    function take() {
      var data = JSON.parse(model.get("payload"));
      queue = queue.then(function () { return unpack(data); }).then(function (whole) {
        if (alive) { view = view ? view.update(whole) : mount(el, whole, hooks); }
      });
    }
    function onMessage(message) {
      if (!view) { return; }
      if (message && message.type === "layouts") { view.receive(message.groups); }
      if (message && message.type === "error") { view.say(message.message); }
    }
    take();
    model.on("change:payload", take);
    model.on("msg:custom", onMessage);
    return function () {
      alive = false;
      model.off("change:payload", take); model.off("msg:custom", onMessage);
      if (view) { view.destroy(); }
    };
  }

  return { mount: mount, render: render, unpack: unpack, num: num, boxTitle: boxTitle };
})();
