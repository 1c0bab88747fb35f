/** The stress layer: drill request → Pod manifest and stress script, per method (pure). */
export * from './manifest.js';
export * from './script.js';
