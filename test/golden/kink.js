const meta = {
  name: "kink",
  inputs: { x: [16, 1], y: [16, 1] },
  params: { w: [1, 1], b: [1] },
  outputs: { price: [16, 1] }
};
const PARAMS = [["w", 1, "[1,1]"], ["b", 1, "[1]"]];
const FORWARD_INPUTS = [["x", 16, "[16,1]"]];
const TRAIN_INPUTS = [["x", 16, "[16,1]"], ["y", 16, "[16,1]"]];
const INPUT_NAMES = /* @__PURE__ */ new Set(["x", "y"]);
function describe(value) {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}
function checkRecord(fn, what, record, spec, known) {
  if (typeof record !== "object" || record === null) {
    throw new TypeError(`${fn}: ${what} must be an object of Float32Arrays, got ${describe(record)}`);
  }
  const values = record;
  for (const [name, length, shape] of spec) {
    const v = Object.prototype.hasOwnProperty.call(values, name) ? values[name] : void 0;
    if (!(v instanceof Float32Array)) {
      throw new TypeError(`${fn}: ${what}.${name} must be a Float32Array of shape ${shape} (${length} values), got ${v === void 0 ? "nothing" : describe(v)}`);
    }
    if (v.length !== length) {
      throw new RangeError(`${fn}: ${what}.${name} must have shape ${shape} (${length} values), got ${v.length} values`);
    }
  }
  for (const name in values) {
    if (known ? !known.has(name) : !spec.some((s) => s[0] === name)) {
      throw new TypeError(`${fn}: unknown ${what.replace(/s$/, "")} ${JSON.stringify(name)}; expected ${spec.map((s) => s[0]).join(", ")}`);
    }
  }
}
function checkRate(learningRate) {
  if (typeof learningRate !== "number" || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new RangeError(`trainStep: learningRate must be a finite number > 0, got ${String(learningRate)}`);
  }
}
function checkSeed(seed) {
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw new TypeError(`initParams: seed must be an integer, got ${String(seed)}`);
  }
}
function makeRng(seed) {
  let x = Math.imul(seed ^ 1540483477, 739982445) ^ 1759714724;
  x = Math.imul(x ^ x >>> 16, 695872825) | 0;
  if (x === 0) x = 19088743;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}
function fillNormal(out, next, std) {
  for (let i = 0; i < out.length; i++) {
    out[i] = std * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  }
}
const t_price_affine = new Float32Array(16);
const t_price = new Float32Array(16);
const t_squared_loss = new Float64Array(1);
const t_d_price_affine = new Float32Array(16);
const t_d_b = new Float32Array(1);
const t_d_w = new Float32Array(1);
const acc_price = new Float64Array(1);
const acc_d_b = new Float64Array(1);
const acc_d_w = new Float64Array(1);
function k_price(in_x, p_w, p_b) {
  for (let i = 0; i < 16; i++) {
    acc_price.fill(0);
    for (let p = 0; p < 1; p++) {
      const a = in_x[i * 1 + p];
      const bRow = p * 1;
      for (let j = 0; j < 1; j++) {
        acc_price[j] += a * p_w[bRow + j];
      }
    }
    const row = i * 1;
    for (let j = 0; j < 1; j++) {
      const e0 = acc_price[j] + p_b[j];
      t_price_affine[row + j] = e0;
      t_price[row + j] = Math.max(e0, 0);
    }
  }
}
function k_squared_loss(in_y) {
  let acc = 0;
  for (let i = 0; i < 16; i++) {
    const e0 = t_price[i] - in_y[i];
    acc += e0 * e0 * 0.5;
  }
  t_squared_loss[0] = acc * 0.0625;
}
function k_d_price_affine(in_y) {
  for (let i = 0; i < 16; i++) {
    t_d_price_affine[i] = t_price_affine[i] >= 0 ? (t_price[i] - in_y[i]) * 0.0625 : 0;
  }
}
function k_d_b() {
  acc_d_b.fill(0);
  for (let r = 0; r < 16; r++) {
    const row = r * 1;
    for (let c = 0; c < 1; c++) {
      acc_d_b[c] += t_d_price_affine[row + c];
    }
  }
  for (let c = 0; c < 1; c++) {
    t_d_b[c] = acc_d_b[c];
  }
}
function k_d_w(in_x) {
  acc_d_w.fill(0);
  for (let p = 0; p < 16; p++) {
    const aRow = p * 1;
    const bRow = p * 1;
    for (let i = 0; i < 1; i++) {
      const a = in_x[aRow + i];
      const cRow = i * 1;
      for (let j = 0; j < 1; j++) {
        acc_d_w[cRow + j] += a * t_d_price_affine[bRow + j];
      }
    }
  }
  for (let r = 0; r < 1; r++) {
    for (let j = 0; j < 1; j++) {
      const i = r * 1 + j;
      t_d_w[i] = acc_d_w[i];
    }
  }
}
function initParams(seed = 0) {
  checkSeed(seed);
  const next = makeRng(seed);
  const v0 = new Float32Array(1);
  const v1 = new Float32Array(1);
  return { w: v0, b: v1 };
}
function forward(params, inputs) {
  checkRecord("forward", "params", params, PARAMS, null);
  checkRecord("forward", "inputs", inputs, FORWARD_INPUTS, INPUT_NAMES);
  const p_w = params.w;
  const p_b = params.b;
  const in_x = inputs.x;
  k_price(in_x, p_w, p_b);
  return { price: t_price.slice() };
}
function loss(params, inputs) {
  checkRecord("loss", "params", params, PARAMS, null);
  checkRecord("loss", "inputs", inputs, TRAIN_INPUTS, INPUT_NAMES);
  const p_w = params.w;
  const p_b = params.b;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_price(in_x, p_w, p_b);
  k_squared_loss(in_y);
  return t_squared_loss[0];
}
function gradient(params, inputs) {
  checkRecord("gradient", "params", params, PARAMS, null);
  checkRecord("gradient", "inputs", inputs, TRAIN_INPUTS, INPUT_NAMES);
  const p_w = params.w;
  const p_b = params.b;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_price(in_x, p_w, p_b);
  k_squared_loss(in_y);
  k_d_price_affine(in_y);
  k_d_b();
  k_d_w(in_x);
  return { loss: t_squared_loss[0], grads: { w: t_d_w.slice(), b: t_d_b.slice() } };
}
function trainStep(params, inputs, learningRate) {
  checkRate(learningRate);
  checkRecord("trainStep", "params", params, PARAMS, null);
  checkRecord("trainStep", "inputs", inputs, TRAIN_INPUTS, INPUT_NAMES);
  const p_w = params.w;
  const p_b = params.b;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_price(in_x, p_w, p_b);
  k_squared_loss(in_y);
  k_d_price_affine(in_y);
  k_d_b();
  k_d_w(in_x);
  for (let i = 0; i < 1; i++) p_w[i] -= learningRate * t_d_w[i];
  for (let i = 0; i < 1; i++) p_b[i] -= learningRate * t_d_b[i];
  return t_squared_loss[0];
}
export {
  forward,
  gradient,
  initParams,
  loss,
  meta,
  trainStep
};
