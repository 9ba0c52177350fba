import { housingGraph } from './networks.ts';

export default housingGraph(256);
