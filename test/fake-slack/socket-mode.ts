/**
 * Socket Mode, as Slack runs it: `apps.connections.open` (with the app-level token)
 * answers a `wss://` URL; the app connects, Slack greets it with `hello`, then sends each
 * slash command or interaction as an envelope, and the app acknowledges by echoing the
 * envelope id with an optional response payload.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

/** The app-level token the fake accepts for apps.connections.open. */
export const FAKE_APP_TOKEN = 'xapp-1-A0FAKEAPP1-0000-fake-app-token';

export const SOCKET_PATH = '/socket-mode';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface FakeSocketMode {
  /** Connections open now. */
  connections(): number;
  /** Resolves once an app has connected and been greeted. */
  waitForConnection(): Promise<void>;
  /**
   * Sends an envelope to the connected app; resolves with the payload of its
   * acknowledgement (undefined for a bare ack).
   */
  send(type: EnvelopeType, payload: object): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

interface Pending {
  resolve: (payload: Record<string, unknown> | undefined) => void;
}

/** Serves Socket Mode connections on `server` (upgrade requests to SOCKET_PATH). */
export function attachSocketMode(server: Server): FakeSocketMode {
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  const pending = new Map<string, Pending>();
  const connectWaiters: Array<() => void> = [];

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!(req.url ?? '').startsWith(SOCKET_PATH)) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => greet(ws));
  });

  const greet = (ws: WebSocket): void => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => settle(pending, data.toString()));
    ws.send(JSON.stringify(hello()));
    for (const waiter of connectWaiters.splice(0)) waiter();
  };

  return {
    connections: () => sockets.size,
    waitForConnection: () =>
      sockets.size > 0 ? Promise.resolve() : new Promise((resolve) => connectWaiters.push(resolve)),
    send: (type, payload) => sendEnvelope({ sockets, pending }, type, payload),
    close: () => closeAll(wss, sockets),
  };
}

function hello(): object {
  return {
    type: 'hello',
    num_connections: 1,
    debug_info: { host: 'fake-slack', approximate_connection_time: 18_060 },
    connection_info: { app_id: 'A0FAKEAPP1' },
  };
}

function settle(pending: Map<string, Pending>, text: string): void {
  const message = JSON.parse(text) as { envelope_id?: string; payload?: Record<string, unknown> };
  if (message.envelope_id === undefined) return;

  const waiter = pending.get(message.envelope_id);
  pending.delete(message.envelope_id);
  waiter?.resolve(message.payload);
}

function sendEnvelope(
  state: { sockets: Set<WebSocket>; pending: Map<string, Pending> },
  type: EnvelopeType,
  payload: object,
): Promise<Record<string, unknown> | undefined> {
  const [socket] = state.sockets;
  if (socket === undefined)
    return Promise.reject(new Error('fake Slack: no Socket Mode connection'));

  const envelopeId = randomUUID();
  const envelope = {
    envelope_id: envelopeId,
    type,
    payload,
    accepts_response_payload: type !== 'events_api',
    retry_attempt: 0,
    retry_reason: '',
  };
  return new Promise((resolve) => {
    state.pending.set(envelopeId, { resolve });
    socket.send(JSON.stringify(envelope));
  });
}

function closeAll(wss: WebSocketServer, sockets: Set<WebSocket>): Promise<void> {
  for (const socket of sockets) socket.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

/** The apps.connections.open answer: a URL on this fake with a one-off ticket. */
export function connectionsOpen(origin: string): Record<string, unknown> {
  const url = `${origin.replace(/^http/, 'ws')}${SOCKET_PATH}?ticket=${randomUUID()}`;
  return { ok: true, url };
}
