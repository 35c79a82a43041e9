export * from './errors.ts';
export * from './tool.ts';
export * from './manifest.ts';
export * from './api.ts';
export * from './json-depth.ts';
export * from './access.ts';
