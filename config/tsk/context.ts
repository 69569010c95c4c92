// The evaluation context shared by the value resolver, expressions and operators. It is passed
// explicitly (no module state), and carries the resolver itself so the modules do not import each
// other in a cycle.

import type { DiagnosticSink } from './diagnostics';
import type { FileDir } from './includes';
import type { CopyBudget } from './model';
import type { PositionTable } from './positions';
import type { Span } from './source';
import type { SourcePos, TskHooks, TskNote, TskValue } from './types';

/** MAX_VALUE_DEPTH caps nesting inside one value (arrays, objects, operator calls, expressions). */
export const MAX_VALUE_DEPTH = 64;

/** ResolvedOptions are the parse options with defaults applied. */
export interface ResolvedOptions {
  strict: boolean;
  compat: boolean;
  interpolate: boolean;
  env: () => Record<string, string | undefined>;
  now: () => Date;
  hooks: TskHooks;
  /** Receives the notes (see TskNote); a no-op unless the caller passed onNote. */
  note: (note: TskNote) => void;
}

/** CrossFile reads values from other .tsk files for @name.tsk.get / .set. */
export interface CrossFile {
  get(name: string, key: string, dir: FileDir, pos: SourcePos): TskValue;
  set(name: string, key: string, value: TskValue, dir: FileDir, pos: SourcePos): TskValue;
}

/** Ctx is what resolving a value needs. */
export interface Ctx {
  opts: ResolvedOptions;
  diag: DiagnosticSink;
  /** Global variables ($name), shared by the whole file and its includes. */
  globals: Map<string, TskValue>;
  /** Keys defined earlier directly in the current section (null at top level). */
  locals: Map<string, TskValue> | null;
  /** Where values were written; a resolver records array elements / object members under `path`. */
  positions: PositionTable;
  /** Directory of the file being parsed (for cross-file reads). */
  dir: FileDir;
  crossFile: CrossFile;
  /** Shared by every copy made through references in this parse. */
  copyBudget: CopyBudget;
  /** resolve is the value resolver; `path` (or null) is where nested positions are recorded. */
  resolve(span: Span, depth: number, path: string | null): TskValue;
}
