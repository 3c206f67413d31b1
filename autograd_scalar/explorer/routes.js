/* Edge routes for the explore view: an edge that passes columns of other items goes
   through the gaps between them, never under an item it does not join.

   Coordinates: "along" is the layout's direction (x in a left-to-right view, y in a
   top-to-bottom one), "across" the other. An edge runs along from the end of its
   source (u = su, v = sv) to the start of its target (eu, ev). The items between
   fall into columns: items whose extents along overlap. Through each column the route
   keeps one line across, v, inside a free gap of the column (clear of its items),
   the gap whose v is nearest the straight way from where the route stands to the
   target. Between columns, and at both ends, it bends as every edge of the view does:
   a cubic S whose ends are level. The strip between two columns holds no item and a
   run through a column lies in a free gap, so no part of the route meets an item.

   A column may reach past an end (items beside the source or the target, across, as
   sibling frames whose inner columns are offset make): there is no strip to bend in
   at that end, so the column's run is level with it, or, where an item of the column
   stands in that line, ends (starts) after (before) it and bends in the free room
   that leaves before the target (after the source). A route reaching its target bends
   in the strip before the last column however narrow, rather than not at all.

   Only items within a band across around the edge are gathered, and a gap is taken
   only inside the band, where it is known to be free; failing that the band doubles. */
var AutogradScalarRoutes = (function () {
  "use strict";
  var CLEAR = 5;      /* the least room between a route and an item, in points */
  var ROOMY = 12;     /* the room a route keeps from items where the gap allows */
  var BAND = 150;     /* the first band's reach across, beyond the edge's own span */
  var SHORT = 12;     /* a strip narrower than this is room to bend in only if it must */

  /* Obstacles from rectangles {x, y, w, h}: their extents along and across, sorted by
     where they start along, and the longest extent along (to find them by position). */
  function obstacles(rects, rankdir) {
    var lr = rankdir !== "TB";
    var items = rects.map(function (r) {
      return lr ? { u0: r.x, u1: r.x + r.w, v0: r.y, v1: r.y + r.h, rect: r }
                : { u0: r.y, u1: r.y + r.h, v0: r.x, v1: r.x + r.w, rect: r };
    });
    items.sort(function (a, b) { return a.u0 - b.u0; });
    var longest = 0;
    items.forEach(function (it) { longest = Math.max(longest, it.u1 - it.u0); });
    return { items: items, longest: longest, lr: lr };
  }

  /* The items that start before eu and end after su, but for the edge's own two. */
  function between(index, su, eu, a, b) {
    var items = index.items, lo = 0, hi = items.length, from = su - index.longest;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (items[mid].u0 < from) { lo = mid + 1; } else { hi = mid; } }
    var found = [];
    for (var k = lo; k < items.length && items[k].u0 < eu; k += 1) {
      var it = items[k];
      if (it.u1 > su && it.rect !== a && it.rect !== b) { found.push(it); }
    }
    return found;
  }

  /* Columns of the items (sorted by u0) whose extents along overlap, each cut to the
     edge's span [su, eu], with its items' extents across. */
  function columns(items, su, eu) {
    var out = [], cur = null;
    items.forEach(function (it) {
      if (cur && it.u0 < cur.u1) {
        cur.u1 = Math.max(cur.u1, it.u1); cur.spans.push([it.v0, it.v1]); cur.items.push(it);
      } else {
        cur = { u0: it.u0, u1: it.u1, spans: [[it.v0, it.v1]], items: [it] }; out.push(cur);
      }
    });
    out.forEach(function (c) { c.u0 = Math.max(c.u0, su); c.u1 = Math.min(c.u1, eu); });
    return out;
  }

  /* The v nearest target in a free gap of a column, or null if that v lies outside
     [lo, hi], where items were not gathered. A gap is free at least CLEAR from its
     items, and up to ROOMY where it is wide enough, so that a route does not hug an
     item's side; a gap narrower than 2 CLEAR is no gap. */
  function gapNear(spans, target, lo, hi) {
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var best = null, start = -Infinity;
    function offer(a, z) {
      var keep = Math.min(ROOMY, (z - a) / 2);
      if (keep < CLEAR) { return; }
      var v = Math.min(Math.max(target, a + keep), z - keep);
      if (best === null || Math.abs(v - target) < Math.abs(best - target)) { best = v; }
    }
    spans.forEach(function (s) {
      offer(start, s[0]);
      start = Math.max(start, s[1]);
    });
    offer(start, Infinity);
    return best >= lo && best <= hi ? best : null;
  }

  /* The items whose extent across comes within CLEAR of [v0, v1] (or [v1, v0]): those a
     bend from v0 to v1 must pass before or after. */
  function across(items, v0, v1) {
    var lo = Math.min(v0, v1) - CLEAR, hi = Math.max(v0, v1) + CLEAR;
    return items.filter(function (it) { return it.v1 > lo && it.v0 < hi; });
  }

  /* Whether a line across at v passes under none of the spans (a route's own end
     level, even nearer an item than CLEAR, rather than a jump across items). */
  function clearOf(spans, v) {
    return spans.every(function (s) { return v <= s[0] || v >= s[1]; });
  }

  /* Whether the one bend from (su, sv) to (eu, ev), the S every edge of the view is
     when nothing is in its way, keeps CLEAR from every one of ``items``. Along it,
     u = su + (eu - su) f(t), f(t) = 3t/2 - 3t^2/2 + t^3, and v = sv + (ev - sv) g(t),
     g(t) = 3t^2 - 2t^3 (its control points at the middle along, level with its ends):
     both rise with t, so over an item's extent along, v spans its values at the ends. */
  function straightIsClear(items, su, sv, eu, ev) {
    function at(u) {  /* v where the bend passes u, t found by halving */
      var x = (u - su) / (eu - su), lo = 0, hi = 1;
      for (var k = 0; k < 40; k += 1) {
        var t = (lo + hi) / 2;
        if (1.5 * t - 1.5 * t * t + t * t * t < x) { lo = t; } else { hi = t; }
      }
      var m = (lo + hi) / 2;
      return sv + (ev - sv) * (3 * m * m - 2 * m * m * m);
    }
    var low = Math.min(sv, ev) - CLEAR, high = Math.max(sv, ev) + CLEAR;
    return items.every(function (it) {
      if (it.v1 < low || it.v0 > high) { return true; }  /* beside the bend's whole span */
      var p = at(Math.max(it.u0, su)), q = at(Math.min(it.u1, eu));
      return Math.max(p, q) < it.v0 - CLEAR || Math.min(p, q) > it.v1 + CLEAR;
    });
  }

  /* straightIsClear for the bend from (u0, v0) to (u1, v1) among the items it passes. */
  function bendIsClear(items, u0, v0, u1, v1) {
    var passed = items.filter(function (it) { return it.u1 > u0 && it.u0 < u1; });
    return straightIsClear(passed, u0, v0, u1, v1);
  }

  /* The run [start, stop, v] through column c: v in a free gap, nearest target, unless
     the column reaches an end (``first``: past the source's end; ``final``: past the
     target's start), where the run must leave from or arrive at that end's level. It
     may do so level with it (sv or ev, where the column leaves that line free), or bend
     from it to v in the room before the first item between the two (after the last),
     if that bend is clear. The choices are tried in turn: the source's level, the
     target's, the gap nearest target, nearest sv, nearest ev; the first that meets
     both ends wins, else the one whose run across the whole column crosses fewest
     items with the lines across at its ends. Null where no gap lies within [lo, hi]. */
  function levelRun(c, target, first, final, lo, hi, su, sv, eu, ev) {
    var nearest = gapNear(c.spans, target, lo, hi);
    if (nearest === null) { return null; }
    var choices = [];
    if (first && clearOf(c.spans, sv)) { choices.push(sv); }
    if (final && clearOf(c.spans, ev)) { choices.push(ev); }
    choices.push(nearest);
    if (first) { choices.push(gapNear(c.spans, sv, lo, hi)); }
    if (final) { choices.push(gapNear(c.spans, ev, lo, hi)); }
    for (var k = 0; k < choices.length; k += 1) {
      var w = choices[k], start = c.u0, stop = c.u1, pocket;
      if (w === null) { continue; }
      if (first && w !== sv) {  /* bend from sv to w before the first item between them */
        pocket = Math.min.apply(null, [stop].concat(across(c.items, sv, w).map(
          function (it) { return it.u0; })));
        if (!(pocket >= su && bendIsClear(c.items, su, sv, pocket, w))) { continue; }
        start = pocket;
      }
      if (final && w !== ev) {  /* and from w to ev after the last one */
        pocket = Math.max.apply(null, [start].concat(across(c.items, w, ev).map(
          function (it) { return it.u1; })));
        if (!(pocket < eu && bendIsClear(c.items, pocket, w, eu, ev))) { continue; }
        stop = pocket;
      }
      return [start, stop, w];
    }
    var fewest = null, least = Infinity;  /* else the run whose ends cross fewest items */
    choices.forEach(function (w) {
      if (w === null) { return; }
      var crossed = (first ? lineUnder(c.items, su, sv, w) : 0) +
                    (final ? lineUnder(c.items, eu, w, ev) : 0);
      if (crossed < least) { fewest = w; least = crossed; }
    });
    return [c.u0, c.u1, fewest];
  }

  /* How many items a line across at u, from v0 to v1, passes under. */
  function lineUnder(items, u, v0, v1) {
    var lo = Math.min(v0, v1), hi = Math.max(v0, v1);
    return items.filter(function (it) {
      return it.u0 < u && it.u1 > u && it.v0 < hi && it.v1 > lo; }).length;
  }

  /* The runs [u0, u1, v] of the route through the columns between (su, sv) and (eu, ev):
     none where the one bend is clear. */
  function runs(index, su, sv, eu, ev, a, b) {
    var items = between(index, su, eu, a, b);
    if (!items.length || straightIsClear(items, su, sv, eu, ev)) { return []; }
    for (var band = BAND; ; band *= 2) {
      var lo = Math.min(sv, ev) - band, hi = Math.max(sv, ev) + band;
      var near = items.filter(function (it) { return it.v1 > lo && it.v0 < hi; });
      var out = [], u = su, v = sv, last = columns(near, su, eu), whole = true;
      for (var k = 0; k < last.length; k += 1) {
        var c = last[k], target;
        /* a column that reaches an end (an item beside the source or the target, across)
           leaves no strip to bend in there: levelRun meets that end's level */
        var first = k === 0 && c.u0 <= su, final = c.u1 >= eu;
        if (first) { target = sv; }
        else if (eu - c.u1 < SHORT) { target = ev; }      /* no room to bend after it */
        else if (c.u0 - u < SHORT) { target = v; }         /* nor before it */
        else { target = v + (ev - v) * ((c.u0 + c.u1) / 2 - u) / (eu - u); }
        var run = levelRun(c, target, first, final, lo, hi, su, sv, eu, ev);
        if (run === null) { whole = false; break; }
        var start = run[0], stop = run[1], w = run[2];
        out.push([start, stop, w]); u = stop; v = w;
      }
      if (whole || band > 1e7) { return out; }
    }
  }

  /* Where an edge from a to b lies along the layout: [start, end], its route's extent
     that way (known before routing it: a route keeps to the span between its ends, a
     loop to ROOMY past them). */
  function span(index, a, b) {
    var su = index.lr ? a.x + a.w : a.y + a.h, eu = index.lr ? b.x : b.y;
    return eu > su ? [su, eu] : [eu - ROOMY, su + ROOMY];
  }

  /* The SVG path of an edge from rectangle a to rectangle b (both among the index's),
     and the box it stays in {x, y, w, h}. */
  function route(index, a, b) {
    var lr = index.lr, su, sv, eu, ev;
    if (lr) { su = a.x + a.w; sv = a.y + a.h / 2; eu = b.x; ev = b.y + b.h / 2; }
    else { su = a.y + a.h; sv = a.x + a.w / 2; eu = b.y; ev = b.x + b.w / 2; }
    function at(u, v) { return lr ? u + "," + v : v + "," + u; }
    if (eu <= su) { return loop(lr, a, b, su, sv, eu, ev, at); }
    var through = runs(index, su, sv, eu, ev, a, b);
    var d = "M" + at(su, sv), u = su, v = sv, low = Math.min(sv, ev), high = Math.max(sv, ev);
    function bend(u2, v2) {  /* no segment of length 0: the arrowhead takes the last one's way */
      if (u2 === u && v2 === v) { return; }
      if (v2 === v) { d += " L" + at(u2, v2); }
      else { var m = (u + u2) / 2; d += " C" + at(m, v) + " " + at(m, v2) + " " + at(u2, v2); }
      u = u2; v = v2;
    }
    through.forEach(function (r) {
      bend(r[0], r[2]);
      if (r[1] > u) { d += " L" + at(r[1], r[2]); u = r[1]; }
      low = Math.min(low, r[2]); high = Math.max(high, r[2]);
    });
    bend(eu, ev);
    var u0 = Math.min(su, eu), span = Math.abs(eu - su);
    return { d: d, box: lr ? { x: u0, y: low, w: span, h: high - low }
                            : { x: low, y: u0, w: high - low, h: span } };
  }

  /* An edge whose target does not start past its source's end (a cycle between closed
     boxes, or items side by side): out of the source's end, round the nearer side of
     both, and into the target's start, heading along the layout, so that it shows, and
     shows which way it goes, instead of running back under its own ends. */
  function loop(lr, a, b, su, sv, eu, ev, at) {
    var v0 = lr ? Math.min(a.y, b.y) : Math.min(a.x, b.x);
    var v1 = lr ? Math.max(a.y + a.h, b.y + b.h) : Math.max(a.x + a.w, b.x + b.w);
    var side = (sv + ev) / 2 - v0 <= v1 - (sv + ev) / 2 ? v0 - ROOMY : v1 + ROOMY;
    var out = su + ROOMY, back = eu - ROOMY;
    var d = "M" + at(su, sv) + " L" + at(out, sv) + " L" + at(out, side) + " L" +
            at(back, side) + " L" + at(back, ev) + " L" + at(eu, ev);
    var low = Math.min(side, sv, ev), high = Math.max(side, sv, ev);
    return { d: d, box: lr ? { x: back, y: low, w: out - back, h: high - low }
                            : { x: low, y: back, w: high - low, h: out - back } };
  }

  return { obstacles: obstacles, route: route, span: span };
})();
