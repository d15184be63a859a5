/**
 * The renderer's one API client. Inside Electron it goes through the preload bridge; in a browser
 * (fieldpack serve) through HTTP POST /api/METHOD and a WebSocket for events, with the launch token.
 */
import type { ApiClient, ApiEvent, ApiInput, ApiMethod, ApiOutput } from '@api/contract.ts';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

function electronClient(bridge: NonNullable<Window['fieldpack']>): ApiClient {
  return {
    door: 'electron',
    async call(method, input) {
      const r = await bridge.call(method, input);
      if (!r.ok) throw new ApiError(r.error.code, r.error.message, r.error.details);
      return r.value as never;
    },
    onEvent: (listener) => bridge.onEvent((e) => listener(e as ApiEvent)),
  };
}

function httpToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem('fieldpack-token', fromUrl);
    // Keep the token out of the address bar (and out of screenshots, history and bug reports).
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.toString());
    return fromUrl;
  }
  return sessionStorage.getItem('fieldpack-token') ?? '';
}

function httpClient(): ApiClient {
  const token = httpToken();
  const listeners = new Set<(e: ApiEvent) => void>();
  let socket: WebSocket | null = null;
  let retry = 500;
  const connect = () => {
    const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/events?token=${encodeURIComponent(token)}`;
    socket = new WebSocket(wsUrl);
    socket.onopen = () => (retry = 500);
    socket.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as ApiEvent;
      for (const l of listeners) l(e);
    };
    socket.onclose = () => {
      socket = null;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10_000);
    };
  };
  connect();
  return {
    door: 'http',
    async call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>> {
      let res: Response;
      try {
        res = await fetch(`/api/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(input ?? {}),
        });
      } catch {
        throw new ApiError('UNAVAILABLE', 'the Fieldpack server does not answer: is `fieldpack serve` still running?');
      }
      const body = (await res.json()) as { value?: unknown; error?: { code: string; message: string; details?: unknown } };
      if (!res.ok || body.error) throw new ApiError(body.error?.code ?? 'INTERNAL', body.error?.message ?? `HTTP ${res.status}`, body.error?.details);
      return body.value as ApiOutput<M>;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export const api: ApiClient = window.fieldpack ? electronClient(window.fieldpack) : httpClient();
