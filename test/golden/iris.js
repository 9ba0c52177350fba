const meta = {
  name: "iris",
  inputs: { x: [15, 4], y: [15, 3] },
  params: { W1: [4, 16], b1: [16], W2: [16, 8], b2: [8], W3: [8, 3], b3: [3] },
  outputs: { scores: [15, 3] }
};
const PARAMS = [["W1", 64, "[4,16]"], ["b1", 16, "[16]"], ["W2", 128, "[16,8]"], ["b2", 8, "[8]"], ["W3", 24, "[8,3]"], ["b3", 3, "[3]"]];
const FORWARD_INPUTS = [["x", 60, "[15,4]"]];
const TRAIN_INPUTS = [["x", 60, "[15,4]"], ["y", 45, "[15,3]"]];
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
const t_h1 = new Float32Array(240);
const t_h2 = new Float32Array(120);
const t_scores = new Float32Array(45);
const t_squared_loss = new Float64Array(1);
const t_d_scores_affine = new Float32Array(45);
const t_d_b3 = new Float32Array(3);
const t_d_h2_affine = new Float32Array(120);
const t_d_W3 = new Float32Array(24);
const t_d_b2 = new Float32Array(8);
const t_d_h1_affine = new Float32Array(240);
const t_d_W2 = new Float32Array(128);
const t_d_b1 = new Float32Array(16);
const t_d_W1 = new Float32Array(64);
const acc_h1 = new Float64Array(16);
const acc_h2 = new Float64Array(8);
const acc_scores = new Float64Array(3);
const acc_d_b3 = new Float64Array(3);
const acc_d_W3 = new Float64Array(24);
const acc_d_b2 = new Float64Array(8);
const acc_d_W2 = new Float64Array(128);
const acc_d_b1 = new Float64Array(16);
const acc_d_W1 = new Float64Array(64);
function k_h1(in_x, p_W1, p_b1) {
  for (let i = 0; i < 15; i++) {
    acc_h1.fill(0);
    for (let p = 0; p < 4; p++) {
      const a = in_x[i * 4 + p];
      const bRow = p * 16;
      for (let j = 0; j < 16; j++) {
        acc_h1[j] += a * p_W1[bRow + j];
      }
    }
    const row = i * 16;
    for (let j = 0; j < 16; j++) {
      const e0 = acc_h1[j] + p_b1[j];
      const e1 = Math.exp(-2 * Math.abs(e0));
      const e2 = (1 - e1) / (1 + e1);
      t_h1[row + j] = e0 >= 0 ? e2 : -e2;
    }
  }
}
function k_h2(p_W2, p_b2) {
  for (let i = 0; i < 15; i++) {
    acc_h2.fill(0);
    for (let p = 0; p < 16; p++) {
      const a = t_h1[i * 16 + p];
      const bRow = p * 8;
      for (let j = 0; j < 8; j++) {
        acc_h2[j] += a * p_W2[bRow + j];
      }
    }
    const row = i * 8;
    for (let j = 0; j < 8; j++) {
      const e0 = acc_h2[j] + p_b2[j];
      const e1 = Math.exp(-2 * Math.abs(e0));
      const e2 = (1 - e1) / (1 + e1);
      t_h2[row + j] = e0 >= 0 ? e2 : -e2;
    }
  }
}
function k_scores(p_W3, p_b3) {
  for (let i = 0; i < 15; i++) {
    acc_scores.fill(0);
    for (let p = 0; p < 8; p++) {
      const a = t_h2[i * 8 + p];
      const bRow = p * 3;
      for (let j = 0; j < 3; j++) {
        acc_scores[j] += a * p_W3[bRow + j];
      }
    }
    const row = i * 3;
    for (let j = 0; j < 3; j++) {
      const e0 = acc_scores[j] + p_b3[j];
      const e1 = Math.exp(-Math.abs(e0));
      t_scores[row + j] = e0 >= 0 ? 1 / (1 + e1) : e1 / (1 + e1);
    }
  }
}
function k_squared_loss(in_y) {
  let acc = 0;
  for (let i = 0; i < 45; i++) {
    const e0 = t_scores[i] - in_y[i];
    acc += e0 * e0 * 0.5;
  }
  t_squared_loss[0] = acc * 0.06666666666666667;
}
function k_d_scores_affine(in_y) {
  for (let i = 0; i < 45; i++) {
    t_d_scores_affine[i] = (t_scores[i] - in_y[i]) * 0.06666666666666667 * (t_scores[i] * (1 - t_scores[i]));
  }
}
function k_d_b3() {
  acc_d_b3.fill(0);
  for (let r = 0; r < 15; r++) {
    const row = r * 3;
    for (let c = 0; c < 3; c++) {
      acc_d_b3[c] += t_d_scores_affine[row + c];
    }
  }
  for (let c = 0; c < 3; c++) {
    t_d_b3[c] = acc_d_b3[c];
  }
}
function k_d_h2_affine(p_W3) {
  for (let i = 0; i < 15; i++) {
    const aRow = i * 3;
    const row = i * 8;
    for (let j = 0; j < 8; j++) {
      const bRow = j * 3;
      let acc = 0;
      for (let p = 0; p < 3; p++) {
        acc += t_d_scores_affine[aRow + p] * p_W3[bRow + p];
      }
      t_d_h2_affine[row + j] = acc * (1 - t_h2[row + j] * t_h2[row + j]);
    }
  }
}
function k_d_W3() {
  acc_d_W3.fill(0);
  for (let p = 0; p < 15; p++) {
    const aRow = p * 8;
    const bRow = p * 3;
    for (let i = 0; i < 8; i++) {
      const a = t_h2[aRow + i];
      const cRow = i * 3;
      for (let j = 0; j < 3; j++) {
        acc_d_W3[cRow + j] += a * t_d_scores_affine[bRow + j];
      }
    }
  }
  for (let r = 0; r < 8; r++) {
    for (let j = 0; j < 3; j++) {
      const i = r * 3 + j;
      t_d_W3[i] = acc_d_W3[i];
    }
  }
}
function k_d_b2() {
  acc_d_b2.fill(0);
  for (let r = 0; r < 15; r++) {
    const row = r * 8;
    for (let c = 0; c < 8; c++) {
      acc_d_b2[c] += t_d_h2_affine[row + c];
    }
  }
  for (let c = 0; c < 8; c++) {
    t_d_b2[c] = acc_d_b2[c];
  }
}
function k_d_h1_affine(p_W2) {
  for (let i = 0; i < 15; i++) {
    const aRow = i * 8;
    const row = i * 16;
    for (let j = 0; j < 16; j++) {
      const bRow = j * 8;
      let acc = 0;
      for (let p = 0; p < 8; p++) {
        acc += t_d_h2_affine[aRow + p] * p_W2[bRow + p];
      }
      t_d_h1_affine[row + j] = acc * (1 - t_h1[row + j] * t_h1[row + j]);
    }
  }
}
function k_d_W2() {
  acc_d_W2.fill(0);
  for (let p = 0; p < 15; p++) {
    const aRow = p * 16;
    const bRow = p * 8;
    for (let i = 0; i < 16; i++) {
      const a = t_h1[aRow + i];
      const cRow = i * 8;
      for (let j = 0; j < 8; j++) {
        acc_d_W2[cRow + j] += a * t_d_h2_affine[bRow + j];
      }
    }
  }
  for (let r = 0; r < 16; r++) {
    for (let j = 0; j < 8; j++) {
      const i = r * 8 + j;
      t_d_W2[i] = acc_d_W2[i];
    }
  }
}
function k_d_b1() {
  acc_d_b1.fill(0);
  for (let r = 0; r < 15; r++) {
    const row = r * 16;
    for (let c = 0; c < 16; c++) {
      acc_d_b1[c] += t_d_h1_affine[row + c];
    }
  }
  for (let c = 0; c < 16; c++) {
    t_d_b1[c] = acc_d_b1[c];
  }
}
function k_d_W1(in_x) {
  acc_d_W1.fill(0);
  for (let p = 0; p < 15; p++) {
    const aRow = p * 4;
    const bRow = p * 16;
    for (let i = 0; i < 4; i++) {
      const a = in_x[aRow + i];
      const cRow = i * 16;
      for (let j = 0; j < 16; j++) {
        acc_d_W1[cRow + j] += a * t_d_h1_affine[bRow + j];
      }
    }
  }
  for (let r = 0; r < 4; r++) {
    for (let j = 0; j < 16; j++) {
      const i = r * 16 + j;
      t_d_W1[i] = acc_d_W1[i];
    }
  }
}
function initParams(seed = 0) {
  checkSeed(seed);
  const next = makeRng(seed);
  const v0 = new Float32Array(64);
  fillNormal(v0, next, 0.31622776601683794);
  const v1 = new Float32Array(16);
  const v2 = new Float32Array(128);
  fillNormal(v2, next, 0.28867513459481287);
  const v3 = new Float32Array(8);
  const v4 = new Float32Array(24);
  fillNormal(v4, next, 0.4264014327112209);
  const v5 = new Float32Array(3);
  return { W1: v0, b1: v1, W2: v2, b2: v3, W3: v4, b3: v5 };
}
function forward(params, inputs) {
  checkRecord("forward", "params", params, PARAMS, null);
  checkRecord("forward", "inputs", inputs, FORWARD_INPUTS, INPUT_NAMES);
  const p_W1 = params.W1;
  const p_b1 = params.b1;
  const p_W2 = params.W2;
  const p_b2 = params.b2;
  const p_W3 = params.W3;
  const p_b3 = params.b3;
  const in_x = inputs.x;
  k_h1(in_x, p_W1, p_b1);
  k_h2(p_W2, p_b2);
  k_scores(p_W3, p_b3);
  return { scores: t_scores.slice() };
}
function loss(params, inputs) {
  checkRecord("loss", "params", params, PARAMS, null);
  checkRecord("loss", "inputs", inputs, TRAIN_INPUTS, INPUT_NAMES);
  const p_W1 = params.W1;
  const p_b1 = params.b1;
  const p_W2 = params.W2;
  const p_b2 = params.b2;
  const p_W3 = params.W3;
  const p_b3 = params.b3;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_h1(in_x, p_W1, p_b1);
  k_h2(p_W2, p_b2);
  k_scores(p_W3, p_b3);
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
  const p_W3 = params.W3;
  const p_b3 = params.b3;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_h1(in_x, p_W1, p_b1);
  k_h2(p_W2, p_b2);
  k_scores(p_W3, p_b3);
  k_squared_loss(in_y);
  k_d_scores_affine(in_y);
  k_d_b3();
  k_d_h2_affine(p_W3);
  k_d_W3();
  k_d_b2();
  k_d_h1_affine(p_W2);
  k_d_W2();
  k_d_b1();
  k_d_W1(in_x);
  return { loss: t_squared_loss[0], grads: { W1: t_d_W1.slice(), b1: t_d_b1.slice(), W2: t_d_W2.slice(), b2: t_d_b2.slice(), W3: t_d_W3.slice(), b3: t_d_b3.slice() } };
}
function trainStep(params, inputs, learningRate) {
  checkRate(learningRate);
  checkRecord("trainStep", "params", params, PARAMS, null);
  checkRecord("trainStep", "inputs", inputs, TRAIN_INPUTS, INPUT_NAMES);
  const p_W1 = params.W1;
  const p_b1 = params.b1;
  const p_W2 = params.W2;
  const p_b2 = params.b2;
  const p_W3 = params.W3;
  const p_b3 = params.b3;
  const in_x = inputs.x;
  const in_y = inputs.y;
  k_h1(in_x, p_W1, p_b1);
  k_h2(p_W2, p_b2);
  k_scores(p_W3, p_b3);
  k_squared_loss(in_y);
  k_d_scores_affine(in_y);
  k_d_b3();
  k_d_h2_affine(p_W3);
  k_d_W3();
  k_d_b2();
  k_d_h1_affine(p_W2);
  k_d_W2();
  k_d_b1();
  k_d_W1(in_x);
  for (let i = 0; i < 64; i++) p_W1[i] -= learningRate * t_d_W1[i];
  for (let i = 0; i < 16; i++) p_b1[i] -= learningRate * t_d_b1[i];
  for (let i = 0; i < 128; i++) p_W2[i] -= learningRate * t_d_W2[i];
  for (let i = 0; i < 8; i++) p_b2[i] -= learningRate * t_d_b2[i];
  for (let i = 0; i < 24; i++) p_W3[i] -= learningRate * t_d_W3[i];
  for (let i = 0; i < 3; i++) p_b3[i] -= learningRate * t_d_b3[i];
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
