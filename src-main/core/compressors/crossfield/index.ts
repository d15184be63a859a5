export * from './codec.ts';
export * from './hybrid.ts';
export * from './interp-hybrid.ts';
