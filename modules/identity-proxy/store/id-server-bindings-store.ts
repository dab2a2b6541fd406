/** The only code that touches identity_proxy_id_server_bindings. */
import type { Cradle } from '../../../core/container.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface IdServerBinding {
  readonly userId: string;
  readonly medium: string;
  readonly address: string;
  readonly idServer: string;
}

interface Row {
  user_id: string;
  medium: string;
  address: string;
  id_server: string;
}

const TABLE = 'identity_proxy_id_server_bindings';

export class IdServerBindingsStore {
  private readonly db: Cradle['db'];

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  /** Records a binding; recording it twice is harmless. */
  async add(b: IdServerBinding, trx: Queryable = this.db): Promise<void> {
    await trx<Row>(TABLE)
      .insert({ user_id: b.userId, medium: b.medium, address: b.address, id_server: b.idServer })
      .onConflict(['user_id', 'medium', 'address', 'id_server'])
      .ignore();
  }

  async remove(b: IdServerBinding, trx: Queryable = this.db): Promise<void> {
    await trx<Row>(TABLE)
      .where({ user_id: b.userId, medium: b.medium, address: b.address, id_server: b.idServer })
      .delete();
  }

  /** Identity servers the user bound this 3PID at. */
  async idServersFor(
    userId: string,
    medium: string,
    address: string,
    trx: Queryable = this.db,
  ): Promise<string[]> {
    const rows: Row[] = await trx<Row>(TABLE)
      .where({ user_id: userId, medium, address })
      .orderBy('id_server');
    return rows.map((r) => r.id_server);
  }

  async listForUser(userId: string, trx: Queryable = this.db): Promise<IdServerBinding[]> {
    const rows: Row[] = await trx<Row>(TABLE)
      .where({ user_id: userId })
      .orderBy(['medium', 'address', 'id_server']);
    return rows.map((r) => ({
      userId: r.user_id,
      medium: r.medium,
      address: r.address,
      idServer: r.id_server,
    }));
  }
}
