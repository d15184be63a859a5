/**
 * The main-process side of the IPC bridge, free of Electron imports so that it is tested under Node:
 * only our own pages may call, the method and its input are validated, errors come back as values.
 */
import { serializeError } from '../../core/errors.ts';
import { dispatch, type Services } from '../../services/services.ts';
import type { IpcResult } from './channels.ts';

export function isTrustedOrigin(frameUrl: string, devServerUrl?: string): boolean {
  return frameUrl.startsWith('file://') || (!!devServerUrl && frameUrl.startsWith(devServerUrl));
}

export async function handleIpcCall(services: Services, frameUrl: string, method: unknown, input: unknown, devServerUrl?: string): Promise<IpcResult> {
  if (!isTrustedOrigin(frameUrl, devServerUrl)) {
    return { ok: false, error: { code: 'UNAUTHORIZED', message: `calls from ${frameUrl || 'an unknown frame'} are refused` } };
  }
  try {
    return { ok: true, value: await dispatch(services, method, input) };
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  }
}
