// The training playground's page side: draws what the kernel sends and sends back
// what the user does. Every number and colour is decided in the kernel (nn/playground/
// frames.py); this file only lays them out. It uses anywidget's model API alone
// (get, on, off, send and "msg:custom"), so it runs wherever anywidget does.
//
// The kernel drives training: "play" starts a loop in the kernel that takes steps and
// pushes each new state (the _frame, _grid and _points traits). This side answers each
// frame as it arrives ({type: "received", frame: id}) and draws the latest one at the
// next paint; the kernel keeps at most two frames unanswered, so it never sends faster
// than a page takes them.

const SVG = "http://www.w3.org/2000/svg";
const PLANE = 1000; // the points' SVG coordinates: the plane is PLANE x PLANE

function html(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function bytesOf(value) {
  if (value instanceof DataView) {
    return new Uint8ClampedArray(value.buffer, value.byteOffset, value.byteLength);
  }
  if (ArrayBuffer.isView(value)) {
    return new Uint8ClampedArray(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof ArrayBuffer) return new Uint8ClampedArray(value);
  return new Uint8ClampedArray(0);
}

function number(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  if (x === 0) return "0";
  const magnitude = Math.abs(x);
  return magnitude >= 1e4 || magnitude < 1e-3 ? x.toExponential(2)
    : String(Number(x.toPrecision(digits)));
}

class View {
  constructor(model, root) {
    this.model = model;
    this.root = root;
    this.pending = false;
    this.arrivals = [];
    this.chosen = 0;
    this.build();
    this.listeners = [
      ["change:_frame", () => this.receive()],
      ["change:_points", () => this.drawPoints()],
      ["change:_grid", () => this.schedule()],
      ["msg:custom", (message) => this.onMessage(message)],
    ];
    for (const [name, callback] of this.listeners) model.on(name, callback);
    this.drawNetworkLayout();
    this.drawClasses();
    this.drawPoints();
    this.draw();
  }

  destroy() {
    for (const [name, callback] of this.listeners) this.model.off(name, callback);
  }

  send(content) {
    this.model.send(content);
  }

  // -- building the page ---------------------------------------------------

  build() {
    const model = this.model;
    const style = html("style");
    style.textContent = model.get("_style");
    this.title = html("span", { class: "pg-title" });
    this.title.textContent = model.get("_title") || "Training playground";
    this.status = html("span", { class: "pg-status" });
    this.rate = html("span", { class: "pg-rate" });

    const button = (name, label, message) => {
      const node = html("button", { class: `pg-${name}`, type: "button" });
      node.textContent = label;
      node.addEventListener("click", () => this.send({ type: message }));
      return node;
    };
    this.stepButton = button("step", "Step", "step");
    this.playButton = button("play", "▶ Play", "play");
    this.pauseButton = button("pause", "❚❚ Pause", "pause");
    this.resetButton = button("reset", "Reset", "reset");

    this.lr = html("input", { class: "pg-lr", type: "text", size: "8", spellcheck: "false",
                              "aria-label": "learning rate" });
    this.batch = html("input", { class: "pg-batch", type: "text", size: "6",
                                 placeholder: "full", spellcheck: "false",
                                 "aria-label": "batch size" });
    for (const [input, type] of [[this.lr, "lr"], [this.batch, "batch"]]) {
      input.addEventListener("change", () => this.send({ type, value: input.value }));
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") input.blur();
        event.stopPropagation(); // keep the notebook's shortcuts out of the field
      });
    }
    this.speed = html("select", { class: "pg-speed", "aria-label": "steps per update" });
    for (const n of [1, 2, 5, 10, 25, 100]) {
      const option = html("option", { value: String(n) });
      option.textContent = String(n);
      this.speed.append(option);
    }
    this.speed.addEventListener("change", () =>
      this.send({ type: "speed", value: this.speed.value }));

    const label = (text, input) => {
      const node = html("label", {}, text + " ", input);
      return node;
    };
    const controls = html("div", { class: "pg-controls" },
      this.stepButton, this.playButton, this.pauseButton, this.resetButton,
      label("learning rate", this.lr), label("batch size", this.batch),
      label("steps per update", this.speed));

    // network
    this.network = svg("svg", { class: "pg-network" });
    this.networkNote = html("div", { class: "pg-note" });
    this.legend = html("div", { class: "pg-legend" });
    const networkPanel = html("div", { class: "pg-panel" },
      html("div", { class: "pg-caption" }, "network: |grad| of each unit's parameters"),
      this.network, this.networkNote, this.legend);

    // plane
    this.canvas = html("canvas", { class: "pg-grid" });
    this.points = svg("svg", { class: "pg-points", viewBox: `0 0 ${PLANE} ${PLANE}`,
                               preserveAspectRatio: "none" });
    this.plot = html("div", { class: "pg-plot", title: "click: add a point; shift-click: remove the nearest" },
      this.canvas, this.points);
    this.plot.addEventListener("click", (event) => this.onPlaneClick(event));
    this.classes = html("div", { class: "pg-classes" });
    this.remove = html("input", { type: "checkbox", class: "pg-remove" });
    this.count = html("div", { class: "pg-count" });
    this.planeNote = html("div", { class: "pg-note" });
    this.planePanel = html("div", { class: "pg-panel pg-plane-panel" },
      html("div", { class: "pg-caption" }, "decision boundary"),
      this.plot, this.planeNote, this.classes,
      html("label", { class: "pg-remove-label" }, this.remove, " remove the nearest point"),
      this.count);

    // curve and optimizer
    this.curve = svg("svg", { class: "pg-curve", viewBox: "0 0 300 182" });
    this.lossText = html("div", { class: "pg-loss-text" });
    this.optimizer = html("div", { class: "pg-optimizer" });
    const curvePanel = html("div", { class: "pg-panel" },
      html("div", { class: "pg-caption" }, "loss and accuracy per step"),
      this.curve, this.lossText, this.optimizer);

    this.error = html("div", { class: "pg-error", role: "alert" });
    this.container = html("div", { class: "pg" },
      html("div", { class: "pg-head" }, this.title, this.status, this.rate),
      controls, html("div", { class: "pg-panels" }, networkPanel, this.planePanel, curvePanel),
      this.error);
    this.root.append(style, this.container);
  }

  // -- the network ---------------------------------------------------------

  drawNetworkLayout() {
    const layout = this.model.get("_network") || {};
    this.network.replaceChildren();
    this.lines = [];
    this.circles = [];
    if (!layout.units) {
      this.network.style.display = "none";
      this.networkNote.textContent = layout.reason || "";
      return;
    }
    const width = 300;
    const rowsShown = Math.max(layout.rows, 2);
    const height = Math.min(420, Math.max(170, rowsShown * 16 + 20));
    this.network.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const columns = Math.max(layout.columns, 2);
    const counts = {};
    for (const unit of layout.units) counts[unit.column] = (counts[unit.column] || 0) + 1;
    const place = layout.units.map((unit) => {
      const x = 34 + (unit.column * (width - 68)) / (columns - 1);
      const n = counts[unit.column];
      const spacing = (height - 24) / Math.max(n, 1);
      return [x, 12 + spacing * (unit.row + 0.5), Math.max(2.5, Math.min(9, spacing * 0.38))];
    });
    const edges = svg("g");
    for (const [source, target] of layout.edges) {
      const line = svg("line", { x1: place[source][0], y1: place[source][1],
                                 x2: place[target][0], y2: place[target][1],
                                 "stroke-opacity": "0.65" });
      edges.append(line);
      this.lines.push(line);
    }
    const units = svg("g");
    layout.units.forEach((unit, i) => {
      const [x, y, r] = place[i];
      const shape = unit.input
        ? svg("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, rx: 2 })
        : svg("circle", { cx: x, cy: y, r });
      shape.setAttribute("class", unit.input ? "pg-input" : "pg-unit");
      const title = svg("title");
      title.textContent = unit.name;
      shape.append(title);
      units.append(shape);
      this.circles.push([shape, title, unit]);
      if (unit.named) { /* frames.network_layout: names a line apart, the rest as tooltips */
        const text = svg("text", { x: x - r - 3, y: y + 3, "text-anchor": "end",
                                   class: "pg-unit-label" });
        text.textContent = unit.name;
        units.append(text);
      }
    });
    this.network.append(edges, units);
  }

  drawNetwork(frame) {
    const layout = this.model.get("_network") || {};
    if (!layout.units || !frame.fill) return;
    this.lines.forEach((line, i) => {
      line.setAttribute("stroke-width", frame.width[i]);
      line.setAttribute("stroke", frame.sign[i] ? layout.positive : layout.negative);
    });
    this.circles.forEach(([shape, title, unit], i) => {
      shape.setAttribute("fill", frame.fill[i]);
      const grad = frame.grad[i];
      title.textContent = grad === null ? unit.name : `${unit.name}\nmean |grad| ${number(grad)}`;
    });
    this.legend.textContent = `heat: mean |grad| up to ${number(frame.grad_max)} · ` +
      "lines: blue w > 0, red w < 0, width ∝ |w|";
  }

  // -- the plane -------------------------------------------------------------

  drawClasses() {
    const classes = this.model.get("_classes") || [];
    this.classes.replaceChildren(document.createTextNode("add class "));
    this.swatches = classes.map((entry, i) => {
      const node = html("button", { type: "button", class: "pg-class",
                                    "data-class": String(i), title: `class ${entry.label}` });
      node.style.setProperty("--colour", entry.colour);
      node.textContent = entry.label;
      node.addEventListener("click", () => {
        this.chosen = i;
        this.remove.checked = false;
        this.markChosen();
      });
      this.classes.append(node);
      return node;
    });
    this.markChosen();
  }

  markChosen() {
    this.swatches.forEach((node, i) => node.classList.toggle("pg-chosen", i === this.chosen));
  }

  onPlaneClick(event) {
    const bounds = this.model.get("_bounds");
    if (!bounds || bounds.length !== 4) return;
    const box = this.plot.getBoundingClientRect();
    /* on the plane, a click on its border included (the kernel refuses points off it) */
    const fx = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const fy = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    const [x0, x1, y0, y1] = bounds;
    /* f (b - a), as two halves where the side b - a passes float range */
    const offset = (a, b, f) => Number.isFinite(b - a) ? [f * (b - a), 0]
      : [f * (b / 2 - a / 2), f * (b / 2 - a / 2)];
    const [dx, dx2] = offset(x0, x1, fx), [dy, dy2] = offset(y0, y1, fy);
    const x = fx === 1 ? x1 : x0 + dx + dx2; /* the far edge exactly, not past it */
    const y = fy === 1 ? y0 : y1 - dy - dy2;
    if (event.shiftKey || this.remove.checked) this.send({ type: "remove", x, y });
    else this.send({ type: "add", x, y, label: this.chosen });
  }

  drawPoints() {
    const bounds = this.model.get("_bounds");
    const points = this.model.get("_points") || [];
    if (!bounds || bounds.length !== 4) {
      this.plot.style.display = "none";
      this.classes.style.display = "none";
      this.remove.parentElement.style.display = "none";
      this.planeNote.textContent = this.model.get("_plane_note") || "";
      return;
    }
    const classes = this.model.get("_classes") || [];
    const [x0, x1, y0, y1] = bounds;
    const group = svg("g");
    for (const [x, y, c] of points) {
      /* in halves: the same numbers, and no inf where a side passes float range */
      const cx = ((x / 2 - x0 / 2) / (x1 / 2 - x0 / 2)) * PLANE;
      const cy = ((y1 / 2 - y / 2) / (y1 / 2 - y0 / 2)) * PLANE;
      group.append(svg("circle", { cx, cy, r: 13, class: "pg-point",
                                   fill: classes[c] ? classes[c].colour : "#777" }));
    }
    this.points.replaceChildren(group);
  }

  drawGrid() {
    const size = this.model.get("_resolution");
    const pixels = bytesOf(this.model.get("_grid"));
    if (!size || pixels.length !== size * size * 4) return;
    if (this.canvas.width !== size) {
      this.canvas.width = size;
      this.canvas.height = size;
    }
    const context = this.canvas.getContext("2d");
    context.putImageData(new ImageData(new Uint8ClampedArray(pixels), size, size), 0, 0);
  }

  // -- the curve ---------------------------------------------------------------

  drawCurve(frame) {
    const curve = frame.curve || { step: [], loss: [], accuracy: [] };
    const [left, right, top, bottom] = [40, 292, 22, 162];
    this.curve.replaceChildren();
    const frameBox = svg("rect", { x: left, y: top, width: right - left, height: bottom - top,
                                   class: "pg-axes" });
    this.curve.append(frameBox);
    const steps = curve.step;
    if (!steps.length) {
      const text = svg("text", { x: (left + right) / 2, y: (top + bottom) / 2,
                                 "text-anchor": "middle", class: "pg-axis-label" });
      text.textContent = "no steps yet";
      this.curve.append(text);
      return;
    }
    const first = steps[0];
    const last = Math.max(steps[steps.length - 1], first + 1);
    const finite = curve.loss.filter((v) => v !== null);
    const highest = Math.max(...finite, 1e-12);
    const xOf = (s) => left + ((s - first) / (last - first)) * (right - left);
    const line = (values, scale, cls) => {
      const coordinates = [];
      values.forEach((v, i) => {
        if (v !== null) coordinates.push(`${xOf(steps[i]).toFixed(1)},${(bottom - (v / scale) * (bottom - top)).toFixed(1)}`);
      });
      this.curve.append(svg("polyline", { points: coordinates.join(" "), class: cls }));
      if (coordinates.length === 1) {  // a line of one point draws nothing: a dot, after one step
        const [x, y] = coordinates[0].split(",");
        this.curve.append(svg("circle", { cx: x, cy: y, r: 2.5, class: cls }));
      }
    };
    if (curve.accuracy.length) line(curve.accuracy, 1, "pg-accuracy-line");
    line(curve.loss, highest, "pg-loss-line");
    const label = (x, y, text, anchor, cls = "pg-axis-label") => {
      const node = svg("text", { x, y, "text-anchor": anchor, class: cls });
      node.textContent = text;
      this.curve.append(node);
    };
    label(left - 4, top + 8, number(highest, 3), "end");
    label(left - 4, bottom, "0", "end");
    label(left, bottom + 14, String(first), "start");
    label(right, bottom + 14, `step ${steps[steps.length - 1]}`, "end");
    // the keys sit above the axes, where no curve can run over them
    const keyRight = curve.accuracy.length ? right - 92 : right;
    label(keyRight, top - 7, "loss", "end", "pg-loss-key");
    if (curve.accuracy.length) label(right, top - 7, "accuracy (0 to 1)", "end", "pg-accuracy-key");
  }

  // -- one frame -------------------------------------------------------------------

  frame() {
    try {
      return JSON.parse(this.model.get("_frame") || "{}");
    } catch (error) {
      return {};
    }
  }

  receive() {
    const frame = this.frame();
    if (frame.id !== undefined) this.send({ type: "received", frame: frame.id });
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    const frame = this.frame();
    if (frame.id === undefined) return;
    this.drawGrid();
    this.drawNetwork(frame);
    this.drawCurve(frame);
    this.lossText.textContent = `step ${frame.step} · loss ${number(frame.loss)}` +
      (frame.accuracy === null || frame.accuracy === undefined ? ""
        : ` · accuracy ${frame.accuracy.toFixed(2)}`);
    const optimizer = frame.optimizer;
    const state = optimizer.state.map(([name, norm]) => `|${name}| ${number(norm, 3)}`);
    // each part unbroken ("|v| 1.90e-4" must not wrap after its "e-"); lines break between parts
    const steps = `${optimizer.steps} step${optimizer.steps === 1 ? "" : "s"}`;
    const parts = [`${optimizer.name}: ${steps}`, `lr ${number(optimizer.lr)}`, ...state];
    this.optimizer.replaceChildren(...parts.flatMap((part, i) =>
      [...(i ? [" · "] : []), html("span", { class: "pg-part" }, part)]));
    this.count.textContent = `${frame.points} points · batches of ${frame.batch}`;
    this.status.textContent = frame.mode === "compiled" ? "compiled" : `eager${frame.reason ? ": " + frame.reason : ""}`;
    if (this.root.activeElement !== this.lr) this.lr.value = String(frame.lr);
    if (this.root.activeElement !== this.batch) {
      this.batch.value = frame.batch_size === null ? "" : String(frame.batch_size);
    }
    const speed = String(frame.steps_per_update);
    if (![...this.speed.options].some((option) => option.value === speed)) {
      const option = html("option", { value: speed });
      option.textContent = speed;
      this.speed.append(option);
    }
    this.speed.value = speed;
    this.playButton.disabled = frame.playing;
    this.pauseButton.disabled = !frame.playing;
    this.error.textContent = frame.error || "";
    this.container.dataset.step = String(frame.step);
    this.measureRate(frame);
  }

  measureRate(frame) {
    const now = performance.now();
    if (!frame.playing) {
      this.arrivals = [];
      this.rate.textContent = "";
      return;
    }
    this.arrivals.push(now);
    if (this.arrivals.length > 30) this.arrivals.shift();
    if (this.arrivals.length >= 5) {
      const span = (this.arrivals[this.arrivals.length - 1] - this.arrivals[0]) / 1000;
      const rate = (this.arrivals.length - 1) / span;
      this.rate.textContent = `${rate.toFixed(1)} updates/s`;
      this.container.dataset.rate = rate.toFixed(2);
    }
  }

  onMessage(message) {
    if (message && message.type === "error") this.error.textContent = message.message;
  }
}

function render({ model, el }) {
  const host = document.createElement("div");
  host.className = "nn-playground";
  el.append(host);
  const root = host.attachShadow({ mode: "open" });
  const view = new View(model, root);
  host.dataset.mounted = "true";
  return () => {
    view.destroy();
    host.remove();
  };
}

export default { render };
