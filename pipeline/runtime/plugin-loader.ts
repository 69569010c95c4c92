// Loads custom processor modules named in a pipeline file and checks their shape before anything starts.

import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProcessorFactory } from '../sdk/component';
import { PipelineError } from '../sdk/errors';

/** A custom module that passed the shape checks. */
export interface LoadedProcessorModule {
  readonly factory: ProcessorFactory<unknown>;
  /** The resolved file. */
  readonly resolved: string;
}

function fail(message: string): never {
  throw new PipelineError('ERR_PLUGIN_INVALID', message, { retriable: false });
}

function isRelative(spec: string): boolean {
  return spec.startsWith('./') || spec.startsWith('../') || path.isAbsolute(spec);
}

/** loadProcessorModule resolves `spec` (a path relative to `baseDir`, or a package name) and validates its factory. */
export async function loadProcessorModule(spec: string, baseDir: string): Promise<LoadedProcessorModule> {
  const req = createRequire(path.join(baseDir, 'noop.js'));
  let resolved: string;
  try {
    resolved = isRelative(spec)
      ? req.resolve(path.resolve(baseDir, spec))
      : req.resolve(spec, { paths: [baseDir, process.cwd()] });
  } catch {
    fail(
      `cannot find module "${spec}" (looked relative to ${baseDir}${isRelative(spec) ? '' : ' and in node_modules'})`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = resolved.endsWith('.mjs')
      ? ((await import(pathToFileURL(resolved).href)) as Record<string, unknown>)
      : (req(resolved) as Record<string, unknown>);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_REQUIRE_ESM') {
      mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
    } else {
      fail(`module "${spec}" failed to load: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const candidate = (mod.factory ?? (mod.default as Record<string, unknown> | undefined)?.factory ?? mod.default) as
    Partial<ProcessorFactory<unknown>> | undefined;
  if (!candidate || typeof candidate !== 'object')
    fail(`module "${spec}" must export \`factory\` built with defineProcessorFactory`);
  if (candidate.kind !== 'processor')
    fail(`module "${spec}": factory.kind must be "processor" (use defineProcessorFactory)`);
  if (typeof candidate.type !== 'string' || !/^[a-z][a-z0-9_]*$/.test(candidate.type))
    fail(`module "${spec}": factory.type must be a snake_case string`);
  if (typeof candidate.create !== 'function') fail(`module "${spec}": factory.create must be a function`);
  if (!candidate.configSchema || typeof (candidate.configSchema as { safeParse?: unknown }).safeParse !== 'function') {
    fail(`module "${spec}": factory.configSchema must be a zod schema (import { z } from 'tusk-collector/plugin-api')`);
  }
  if (typeof candidate.createDefaultConfig !== 'function')
    fail(`module "${spec}": factory.createDefaultConfig must be a function`);
  try {
    candidate.createDefaultConfig();
  } catch (err) {
    fail(
      `module "${spec}": its default config does not pass its own schema: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return { factory: candidate as ProcessorFactory<unknown>, resolved };
}
