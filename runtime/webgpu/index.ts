export { requestDevice, NoAdapterError, type DeviceOptions } from './device.ts';
export { createGpuModel } from './driver.ts';
export { evaluate, predict, train, type EarlyStopping, type EpochReport, type GpuTrainOptions, type GpuTrainResult, type StepReport } from './fit.ts';
// What a generated host module's initParams calls (the JS module's draw, the same params).
export { checkSeed, fillNormal, makeRng } from '../checks.ts';
export { loadModel, saveModel, type GpuWeightsModule } from './weights.ts';
