export * from './codec.ts';
export * from './hybrid.ts';
