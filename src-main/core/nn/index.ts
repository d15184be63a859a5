export * from './spec.ts';
export * from './reference.ts';
export * from './tiling.ts';
export * from './features.ts';
export * from './quantize.ts';
export * from './embed.ts';
export { detTanh } from './det-math.ts';
