import { kinkGraph } from './networks.ts';

export default kinkGraph(64);
