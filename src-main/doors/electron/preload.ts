/**
 * Preload: exposes exactly the Fieldpack API to the page (window.fieldpack), nothing of Node or Electron.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CALL, IPC_EVENT, type IpcResult } from './channels.ts';

contextBridge.exposeInMainWorld('fieldpack', {
  call: (method: string, input: unknown): Promise<IpcResult> => ipcRenderer.invoke(IPC_CALL, method, input),
  onEvent: (listener: (event: unknown) => void): (() => void) => {
    const handler = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => ipcRenderer.removeListener(IPC_EVENT, handler);
  },
});
