/**
 * Who answers for a piece of code the kernel calls back into: a module (driver) or the kernel itself.
 * Every callback that crosses from the kernel into a module (probe, interrupt handler, timer, ...) runs
 * inside its domain, so a throw is caught at the boundary and charged to the right owner.
 */
export interface ExecutionDomain {
  readonly name: string;
  /** False once the domain has been quarantined: its callbacks are no longer run. */
  readonly alive: boolean;
  /** Called with the error and a short description of what was running. */
  fault(error: unknown, activity: string): void;
}

/**
 * Runs `fn` charged to `domain`. Returns `fn`'s result, or `undefined` if the domain is dead or `fn`
 * threw (the fault has then been reported to the domain). Without a domain, errors propagate.
 */
export function runInDomain<T>(domain: ExecutionDomain | undefined, activity: string, fn: () => T): T | undefined {
  if (!domain) return fn();
  if (!domain.alive) return undefined;
  try {
    return fn();
  } catch (error) {
    domain.fault(error, activity);
    return undefined;
  }
}

/** Async counterpart of runInDomain for callbacks that may return a promise (module init, probe). */
export async function runInDomainAsync<T>(domain: ExecutionDomain, activity: string, fn: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  if (!domain.alive) return { ok: false, error: new Error(`${domain.name} is quarantined`) };
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    domain.fault(error, activity);
    return { ok: false, error };
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
