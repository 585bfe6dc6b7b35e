// The only web-platform APIs src/core may use: ones that exist alike in pages, service workers,
// SharedWorkers and Node 20. Declared by hand (tsconfig.core.json has no DOM, worker or Node lib)
// so that touching `window`, `document`, `self`, `process` or `localStorage` fails to compile.

declare function setTimeout(callback: () => void, delayMs: number): unknown;
declare function clearTimeout(handle: unknown): void;

declare function atob(data: string): string;

declare class TextEncoder {
  encode(input: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}

declare class AbortSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
declare class AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}

// What IndexedDB throws (a full quota, a connection closed under a transaction).
declare class DOMException extends Error {}

declare class URL {
  constructor(url: string, base?: string);
  readonly href: string;
  readonly origin: string;
  toString(): string;
}

// Type-only names that idb's and jose's declarations mention. Core never uses them as values:
// idb opens the runtime's IndexedDB itself and `fetch` is injected.
/* eslint-disable @typescript-eslint/no-empty-object-type */
interface IDBFactory {}
interface IDBDatabase {
  close(): void;
}
interface IDBTransaction {}
interface IDBObjectStore {}
interface IDBIndex {}
interface IDBCursor {}
interface IDBCursorWithValue {}
interface IDBKeyRange {}
declare var IDBKeyRange: {
  bound(lower: unknown, upper: unknown, lowerOpen?: boolean, upperOpen?: boolean): IDBKeyRange;
};
interface IDBRequest<T = unknown> {
  readonly result: T;
}
interface IDBOpenDBRequest {}
interface IDBVersionChangeEvent {}
interface DOMStringList {}
interface Event {}
interface EventTarget {}
interface CryptoKey {}
type IDBValidKey = number | string | Date | ArrayBuffer | IDBValidKey[];
type IDBTransactionMode = 'readonly' | 'readwrite' | 'versionchange';
type IDBTransactionDurability = 'default' | 'strict' | 'relaxed';
interface IDBTransactionOptions {
  durability?: IDBTransactionDurability;
}
type IDBCursorDirection = 'next' | 'nextunique' | 'prev' | 'prevunique';
interface IDBObjectStoreParameters {
  autoIncrement?: boolean;
  keyPath?: string | string[] | null;
}
interface IDBIndexParameters {
  multiEntry?: boolean;
  unique?: boolean;
}

// fetch as core uses it: a JSON request with a time limit.
interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}
// A response body as core reads it: an event stream, chunk by chunk.
interface ReadableStreamReadResult<R> {
  done: boolean;
  value?: R;
}
interface ReadableStreamDefaultReader<R> {
  read(): Promise<ReadableStreamReadResult<R>>;
  cancel(reason?: unknown): Promise<void>;
}
interface ReadableStream<R> {
  getReader(): ReadableStreamDefaultReader<R>;
}
interface FetchResponse {
  readonly body: ReadableStream<Uint8Array> | null;
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  text(): Promise<string>;
}
declare function fetch(input: string, init?: FetchInit): Promise<FetchResponse>;
