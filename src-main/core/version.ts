/** Fieldpack's version, written into every stream (kept in step with package.json by a test). */
export const FIELDPACK_VERSION = '0.1.0';
