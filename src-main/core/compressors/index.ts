/**
 * Every codec this Fieldpack reads and writes: one registration line each (a codec is its folder plus this line).
 * Importing this module registers them; the codec service, the worker threads and the tests import it.
 */
import { registerCodec } from './registry.ts';
import { classicCodec } from './classic/index.ts';
import { crossfieldCodec } from './crossfield/index.ts';
import { vqvaeCodec } from './vqvae/index.ts';
import { lbrcCodec } from './lbrc/index.ts';
import { gaeCodec } from './gae/index.ts';
import { nglrCodec } from './nglr/index.ts';

registerCodec(classicCodec);
registerCodec(crossfieldCodec);
registerCodec(vqvaeCodec);
registerCodec(lbrcCodec);
registerCodec(gaeCodec);
registerCodec(nglrCodec);

export * from './registry.ts';
export type * from './contract.ts';
export { describeDependency, NO_DEPENDENCIES } from './contract.ts';
