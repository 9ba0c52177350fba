const meta = {
  name: "housing",
  inputs: { x: [64, 4], y: [64, 1] },
  params: { W1: [4, 3], b1: [3], W2: [3, 1], b2: [1] },
  outputs: { price: [64, 1] }
};
const PARAMS = [["W1", 12, "[4,3]"], ["b1", 3, "[3]"], ["W2", 3, "[3,1]"], ["b2", 1, "[1]"]];
const FORWARD_INPUTS = [["x", 256, "[64,4]"]];
const TRAIN_INPUTS = [["x", 256, "[64,4]"], ["y", 64, "[64,1]"]];
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
const t_h_affine = new Float32Array(192);
const t_h = new Float32Array(192);
const t_o = new Float32Array(64);
const t_squared_loss = new Float64Array(1);
const t_d_o = new Float32Array(64);
const t_d_b2 = new Float32Array(1);
const t_d_h_affine = new Float32Array(192);
const t_d_W2 = new Float32Array(3);
const t_d_b1 = new Float32Array(3);
const t_d_W1 = new Float32Array(12);
const acc_h = new Float64Array(3);
const acc_o = new Float64Array(1);
const acc_d_b2 = new Float64Array(1);
const acc_d_W2 = new Float64Array(3);
const acc_d_b1 = new Float64Array(3);
const acc_d_W1 = new Float64Array(12);
function k_h(in_x, p_W1, p_b1) {
  for (let i = 0; i < 64; i++) {
    acc_h.fill(0);
    for (let p = 0; p < 4; p++) {
      const a = in_x[i * 4 + p];
      const bRow = p * 3;
      for (let j = 0; j < 3; j++) {
        acc_h[j] += a * p_W1[bRow + j];
      }
    }
    const row = i * 3;
    for (let j = 0; j < 3; j++) {
      const e0 = acc_h[j] + p_b1[j];
      t_h_affine[row + j] = e0;
      t_h[row + j] = Math.max(e0, 0);
    }
  }
}
function k_o(p_W2, p_b2) {
  for (let i = 0; i < 64; i++) {
    acc_o.fill(0);
    for (let p = 0; p < 3; p++) {
      const a = t_h[i * 3 + p];
      const bRow = p * 1;
      for (let j = 0; j < 1; j++) {
        acc_o[j] += a * p_W2[bRow + j];
      }
    }
    const row = i * 1;
    for (let j = 0; j < 1; j++) {
      t_o[row + j] = acc_o[j] + p_b2[j];
    }
  }
}
function k_squared_loss(in_y) {
  let acc = 0;
  for (let i = 0; i < 64; i++) {
    const e0 = t_o[i] - in_y[i];
    acc += e0 * e0 * 0.5;
  }
  t_squared_loss[0] = acc * 0.015625;
}
function k_d_o(in_y) {
  for (let i = 0; i < 64; i++) {
    t_d_o[i] = (t_o[i] - in_y[i]) * 0.015625;
  }
}
function k_d_b2() {
  acc_d_b2.fill(0);
  for (let r = 0; r < 64; r++) {
    const row = r * 1;
    for (let c = 0; c < 1; c++) {
      acc_d_b2[c] += t_d_o[row + c];
    }
  }
  for (let c = 0; c < 1; c++) {
    t_d_b2[c] = acc_d_b2[c];
  }
}
function k_d_h_affine(p_W2) {
  for (let i = 0; i < 64; i++) {
    const aRow = i * 1;
    const row = i * 3;
    for (let j = 0; j < 3; j++) {
      const bRow = j * 1;
      let acc = 0;
      for (let p = 0; p < 1; p++) {
        acc += t_d_o[aRow + p] * p_W2[bRow + p];
      }
      t_d_h_affine[row + j] = t_h_affine[row + j] >= 0 ? acc : 0;
    }
  }
}
function k_d_W2() {
  acc_d_W2.fill(0);
  for (let p = 0; p < 64; p++) {
    const aRow = p * 3;
    const bRow = p * 1;
    for (let i = 0; i < 3; i++) {
      const a = t_h[aRow + i];
      const cRow = i * 1;
      for (let j = 0; j < 1; j++) {
        acc_d_W2[cRow + j] += a * t_d_o[bRow + j];
      }
    }
  }
  for (let r = 0; r < 3; r++) {
    for (let j = 0; j < 1; j++) {
      const i = r * 1 + j;
      t_d_W2[i] = acc_d_W2[i];
    }
  }
}
function k_d_b1() {
  acc_d_b1.fill(0);
  for (let r = 0; r < 64; r++) {
    const row = r * 3;
    for (let c = 0; c < 3; c++) {
      acc_d_b1[c] += t_d_h_affine[row + c];
    }
  }
  for (let c = 0; c < 3; c++) {
    t_d_b1[c] = acc_d_b1[c];
  }
}
function k_d_W1(in_x) {
  acc_d_W1.fill(0);
  for (let p = 0; p < 64; p++) {
    const aRow = p * 4;
    const bRow = p * 3;
    for (let i = 0; i < 4; i++) {
      const a = in_x[aRow + i];
      const cRow = i * 3;
      for (let j = 0; j < 3; j++) {
        acc_d_W1[cRow + j] += a * t_d_h_affine[bRow + j];
      }
    }
  }
  for (let r = 0; r < 4; r++) {
    for (let j = 0; j < 3; j++) {
      const i = r * 3 + j;
      t_d_W1[i] = acc_d_W1[i];
    }
  }
}
function initParams(seed = 0) {
  checkSeed(seed);
  const next = makeRng(seed);
  const v0 = new Float32Array(12);
  fillNormal(v0, next, 0.7071067811865476);
  const v1 = new Float32Array(3);
  const v2 = new Float32Array(3);
  fillNormal(v2, next, 0.7071067811865476);
  const v3 = new Float32Array(1);
  return { W1: v0, b1: v1, W2: v2, b2: v3 };
}
function forward(params, inputs) {
  checkRecord("forward", "params", params, PARAMS, null);
  checkRecord("forward", "inputs", inputs, FORWARD_INPUTS, INPUT_NAMES);
  const p_W1 = params.W1;
  const p_b1 = params.b1;
  const p_W2 = params.W2;
  const p_b2 = params.b2;
  const in_x = inputs.x;
  k_h(in_x, p_W1, p_b1);
  k_o(p_W2, p_b2);
  return { price: t_o.slice() };
}
function loss(params, inputs) {
  checkRecord("loss", "params", params, PARAMS, null);
  checkRecord("loss", "inputs", inputs, TRAIN_INPUTS, INPUT_NAMES);
  const p_W1 = params.W1;
  const p_b1 = params.b1;
  const p_W2 = params.W2;
  const p_b2 = params.b2;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_h(in_x, p_W1, p_b1);
  k_o(p_W2, p_b2);
  k_squared_loss(in_y);
  return t_squared_loss[0];
}
function gradient(params, inputs) {
  checkRecord("gradient", "params", params, PARAMS, null);
  checkRecord("gradient", "inputs", inputs, TRAIN_INPUTS, INPUT_NAMES);
  const p_W1 = params.W1;
  const p_b1 = params.b1;
  const p_W2 = params.W2;
  const p_b2 = params.b2;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_h(in_x, p_W1, p_b1);
  k_o(p_W2, p_b2);
  k_squared_loss(in_y);
  k_d_o(in_y);
  k_d_b2();
  k_d_h_affine(p_W2);
  k_d_W2();
  k_d_b1();
  k_d_W1(in_x);
  return { loss: t_squared_loss[0], grads: { W1: t_d_W1.slice(), b1: t_d_b1.slice(), W2: t_d_W2.slice(), b2: t_d_b2.slice() } };
}
function trainStep(params, inputs, learningRate) {
  checkRate(learningRate);
  checkRecord("trainStep", "params", params, PARAMS, null);
  checkRecord("trainStep", "inputs", inputs, TRAIN_INPUTS, INPUT_NAMES);
  const p_W1 = params.W1;
  const p_b1 = params.b1;
  const p_W2 = params.W2;
  const p_b2 = params.b2;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_h(in_x, p_W1, p_b1);
  k_o(p_W2, p_b2);
  k_squared_loss(in_y);
  k_d_o(in_y);
  k_d_b2();
  k_d_h_affine(p_W2);
  k_d_W2();
  k_d_b1();
  k_d_W1(in_x);
  for (let i = 0; i < 12; i++) p_W1[i] -= learningRate * t_d_W1[i];
  for (let i = 0; i < 3; i++) p_b1[i] -= learningRate * t_d_b1[i];
  for (let i = 0; i < 3; i++) p_W2[i] -= learningRate * t_d_W2[i];
  for (let i = 0; i < 1; i++) p_b2[i] -= learningRate * t_d_b2[i];
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
