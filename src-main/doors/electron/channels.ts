/** The two IPC channels between preload and main; errors cross as values, never as thrown objects. */
import type { SerializedError } from '../../core/errors.ts';

export const IPC_CALL = 'fieldpack:call';
export const IPC_EVENT = 'fieldpack:event';

export type IpcResult = { ok: true; value: unknown } | { ok: false; error: SerializedError };
