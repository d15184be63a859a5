export * from './stats.ts';
export * from './quantization.ts';
export * from './histogram.ts';
export * from './correlation.ts';
export * from './undeclared-fill.ts';
