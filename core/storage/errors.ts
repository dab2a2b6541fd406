/** Normalises driver errors so stores need not know which engine they run on. */

export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errno?: unknown; message?: unknown };
  if (e.code === '23505') return true; // PostgreSQL unique_violation
  return (
    e.code === 'SQLITE_CONSTRAINT' &&
    typeof e.message === 'string' &&
    /UNIQUE constraint failed|PRIMARY KEY/i.test(e.message)
  );
}

export function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === '23503') return true;
  return e.code === 'SQLITE_CONSTRAINT' && typeof e.message === 'string' && /FOREIGN KEY/i.test(e.message);
}
