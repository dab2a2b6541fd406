/** The query and EDU handlers other modules register (see api.ts); one handler per type. */
import type { EduHandler, FederationQueryHandler } from '../api.js';

export class HandlerRegistry {
  private readonly queries = new Map<string, FederationQueryHandler>();
  private readonly edus = new Map<string, EduHandler>();

  registerQueryHandler(queryType: string, handler: FederationQueryHandler): void {
    if (this.queries.has(queryType))
      throw new Error(`a federation query handler for "${queryType}" is already registered`);
    this.queries.set(queryType, handler);
  }

  queryHandler(queryType: string): FederationQueryHandler | undefined {
    return this.queries.get(queryType);
  }

  registerEduHandler(eduType: string, handler: EduHandler): void {
    if (this.edus.has(eduType)) throw new Error(`an EDU handler for "${eduType}" is already registered`);
    this.edus.set(eduType, handler);
  }

  eduHandler(eduType: string): EduHandler | undefined {
    return this.edus.get(eduType);
  }
}
