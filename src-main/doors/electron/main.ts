/**
 * Electron main process: a thin door. It opens the app, a window with the preload bridge, and
 * forwards validated API calls and events. Everything else lives in services and works without Electron.
 */
import { app as electronApp, BrowserWindow, ipcMain, shell, dialog } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, type AppContext } from '../../services/app-context.ts';
import { serializeError } from '../../core/errors.ts';
import { useBundledWorkers } from '../../services/jobs/worker-host.ts';
import { IPC_CALL, IPC_EVENT } from './channels.ts';
import { handleIpcCall } from './ipc-handler.ts';
import { ensureDemoProject } from '../../services/demo.ts';
import { writeFileAtomic } from '../../services/files/atomic.ts';

/** Reports to PDF with Electron's own printer (a hidden window that runs no script); the report service does the rest. */
async function printToPdf(htmlPath: string, pdfPath: string): Promise<void> {
  const w = new BrowserWindow({ show: false, webPreferences: { javascript: false, sandbox: true } });
  try {
    await w.loadFile(htmlPath);
    await writeFileAtomic(pdfPath, await w.webContents.printToPDF({ printBackground: true, pageSize: 'A4' }));
  } finally {
    w.destroy();
  }
}

const here = dirname(fileURLToPath(import.meta.url));
useBundledWorkers(here);

function dbFlag(): string | undefined {
  const a = process.argv.find((x) => x.startsWith('--db='));
  return a ? a.slice(5) : undefined;
}

let context: AppContext | null = null;

async function createWindow(ctx: AppContext): Promise<void> {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Fieldpack',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  // Links open in the user's browser, never inside the app window.
  win.webContents.setWindowOpenHandler(({ url }) => {
    void shell.openExternal(url);
    return { action: 'deny' };
  });
  const off = ctx.events.on((e) => {
    if (!win.isDestroyed()) win.webContents.send(IPC_EVENT, e);
  });
  win.on('closed', off);
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(join(here, '../renderer/index.html'));
}

electronApp.whenReady().then(async () => {
  try {
    context = createApp({ dbPath: dbFlag(), door: 'electron', printToPdf });
  } catch (err) {
    const e = serializeError(err);
    dialog.showErrorBox('Fieldpack cannot open its database', `${e.code}: ${e.message}`);
    electronApp.exit(1);
    return;
  }
  const ctx = context;
  await ensureDemoProject(ctx.store).catch((err) => console.error(`the demo project could not be created: ${(err as Error).message}`));
  ipcMain.handle(IPC_CALL, (event, method: unknown, input: unknown) =>
    handleIpcCall(ctx.services, event.senderFrame?.url ?? '', method, input, process.env.ELECTRON_RENDERER_URL),
  );
  await createWindow(ctx);
});

electronApp.on('window-all-closed', async () => {
  await context?.close();
  electronApp.quit();
});
