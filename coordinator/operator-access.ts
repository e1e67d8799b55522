import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ProtocolError } from '@fedrec/protocol';
import type { CoordinatorStatus } from './coordinator-status.js';
import type { RoundStarted } from './events.js';
import type { Failure } from './failure.js';
import type { RoundRecord } from './round-record.js';

/** The cookie a browser gets after presenting the operator credential once, so the dashboard's socket carries it. */
export const OPERATOR_COOKIE = 'fedrec_operator';

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function equalSecrets(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** Who may change the coordinator (catalogue additions, rollbacks): throws ProtocolError('UNAUTHORIZED') otherwise. */
export type WriteGuard = (req: Request) => void;

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** A request or a Socket.IO handshake, as far as the operator check needs them. */
export interface CredentialCarrier {
  headers: IncomingHttpHeaders;
  /** Socket.IO `auth` of a namespace connection ({ operatorToken }). */
  auth?: unknown;
}

/**
 * Who may see what the coordinator knows about its clients. With an operator token configured, the
 * dashboard, /api/rounds, /metrics and anything listing clients require it; everyone else (and
 * everyone when no token is configured) sees pseudonyms (a keyed hash of the client id) instead of
 * raw client ids. `isOperator` is the one check; the REST routes, the dashboard namespace and any
 * extension route (e.g. an admin POST) call it through `requireHttp` / `requireSocket`.
 */
/** Cached pseudonyms (about 100 bytes each): enough for the selection of the largest rounds we measure. */
const PSEUDONYM_CACHE_SIZE = 50_000;

export class OperatorAccess {
  private readonly cookieValue: string | undefined;

  constructor(
    private readonly token: string | undefined,
    /** Secret behind pseudonyms: stable while the coordinator key is, unguessable without it. */
    private readonly pseudonymKey: Uint8Array,
    private readonly secureCookie = false,
    /** Behind a proxy every caller looks like loopback: then writes always need the operator token. */
    private readonly behindProxy = false,
  ) {
    this.cookieValue = token === undefined ? undefined : createHmac('sha256', token).update('fedrec-operator-session').digest('hex');
  }

  get configured(): boolean {
    return this.token !== undefined;
  }

  /**
   * True when the carrier presents the operator credential: `Authorization: Bearer <token>`,
   * `Authorization: Basic` with the token as password (a browser's own prompt), the session cookie,
   * or Socket.IO `auth.operatorToken`. Always false when no token is configured.
   */
  isOperator(c: CredentialCarrier): boolean {
    const token = this.token;
    if (token === undefined) return false;
    const header = c.headers.authorization;
    if (header?.startsWith('Bearer ') && equalSecrets(header.slice(7).trim(), token)) return true;
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const password = decoded.slice(decoded.indexOf(':') + 1);
      if (decoded.includes(':') && equalSecrets(password, token)) return true;
    }
    const cookie = cookieOf(c.headers.cookie, OPERATOR_COOKIE);
    if (cookie !== undefined && this.cookieValue !== undefined && equalSecrets(cookie, this.cookieValue)) return true;
    const auth = c.auth as { operatorToken?: unknown } | undefined;
    return typeof auth?.operatorToken === 'string' && equalSecrets(auth.operatorToken, token);
  }

  /**
   * The one check for write routes. With an operator token configured the caller must present it;
   * without one only callers on this machine (loopback, and never behind a proxy) may write, so a
   * development coordinator is not an open door and a production one needs the token.
   */
  writeGuard: WriteGuard = (req) => {
    if (this.configured) {
      if (!this.isOperator({ headers: req.headers }))
        throw new ProtocolError('UNAUTHORIZED', 'operator credential required (Authorization: Bearer <operator token>)');
      return;
    }
    if (this.behindProxy || !LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      throw new ProtocolError('UNAUTHORIZED', 'writes need an operator token on the coordinator (--operator-token), or a caller on the same machine');
    }
  };

  /** Express middleware: operators pass (and get the session cookie); others get 401 when a token is configured. */
  requireHttp = (req: Request, res: Response, next: NextFunction): void => {
    if (!this.configured) return next();
    if (this.isOperator({ headers: req.headers })) {
      if (cookieOf(req.headers.cookie, OPERATOR_COOKIE) === undefined) {
        res.append('Set-Cookie', `${OPERATOR_COOKIE}=${this.cookieValue}; HttpOnly; SameSite=Strict; Path=/${this.secureCookie ? '; Secure' : ''}`);
      }
      return next();
    }
    res.set('WWW-Authenticate', 'Basic realm="fedrec operator", charset="UTF-8"');
    res.status(401).json({ error: 'operator credential required', code: 'UNAUTHORIZED' });
  };

  /** Socket.IO namespace middleware with the same rule (the dashboard namespace). */
  requireSocket = (socket: { handshake: { headers: IncomingHttpHeaders; auth: unknown } }, next: (err?: Error) => void): void => {
    if (!this.configured || this.isOperator({ headers: socket.handshake.headers, auth: socket.handshake.auth })) return next();
    next(Object.assign(new Error('operator credential required'), { data: { code: 'UNAUTHORIZED', message: 'operator credential required' } }));
  };

  /**
   * Pseudonyms already computed. /api/status lists the current round's selection, so during a round of
   * thousands of clients every request would otherwise run thousands of HMACs on the event loop; the ids
   * repeat from request to request. Bounded: emptied when full (a miss only costs one HMAC again).
   */
  private readonly pseudonyms = new Map<string, string>();

  /** A stable public name for a client id: "p-" + 16 hex digits of an HMAC keyed by the coordinator's secret. */
  pseudonym(clientId: string): string {
    let name = this.pseudonyms.get(clientId);
    if (name === undefined) {
      if (this.pseudonyms.size >= PSEUDONYM_CACHE_SIZE) this.pseudonyms.clear();
      name = `p-${createHmac('sha256', this.pseudonymKey).update(clientId).digest('hex').slice(0, 16)}`;
      this.pseudonyms.set(clientId, name);
    }
    return name;
  }

  /** How client ids are shown to this carrier: raw to an operator, pseudonyms to everyone else. */
  namer(c: CredentialCarrier): (clientId: string) => string {
    return this.isOperator(c) ? (id) => id : (id) => this.pseudonym(id);
  }
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Secret behind pseudonyms, derived from the coordinator's secret key (never the key itself). */
export function pseudonymKeyFrom(secretKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('fedrec-pseudonyms-v1').update(secretKey).digest());
}

const renameFailures = (failures: Failure[], name: (id: string) => string): Failure[] => failures.map((f) => ({ ...f, clientId: name(f.clientId) }));

/** A round record with every client id renamed (pseudonyms for public views). */
export function renameRecord<R extends RoundRecord>(r: R, name: (id: string) => string): R {
  return {
    ...r,
    selected: r.selected.map(name),
    participants: r.participants.map(name),
    failures: renameFailures(r.failures, name),
    evaluation: r.evaluation
      ? { ...r.evaluation, participants: r.evaluation.participants.map(name), failures: renameFailures(r.evaluation.failures, name) }
      : null,
  };
}

export function renameRoundStarted(s: RoundStarted, name: (id: string) => string): RoundStarted {
  return { ...s, selected: s.selected.map(name) };
}

export function renameStatus(s: CoordinatorStatus, name: (id: string) => string): CoordinatorStatus {
  return s.currentRound ? { ...s, currentRound: { ...s.currentRound, selected: s.currentRound.selected.map(name) } } : s;
}
