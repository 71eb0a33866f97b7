import { sql, type DatabaseIntrospector, type Kysely, type TableMetadata } from 'kysely';

/**
 * `migrating` as Kysely's Migrator should see it: its look-ups of the migration schema and tables
 * search `schema` alone. Kysely's own look-up lists every column of every table in the database
 * (`introspection.getTables`), twice per run: seconds on a database of many schemas (an app with a
 * schema per tenant, a test suite), of which the Migrator reads only the table names. The tables
 * it gives carry no columns for that reason.
 */
export function introspectingOnly(migrating: Kysely<any>, db: Kysely<any>, schema: string): Kysely<any> {
  const introspector: DatabaseIntrospector = {
    async getSchemas() {
      const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db);
      return rows;
    },
    async getTables(): Promise<TableMetadata[]> {
      const { rows } = await sql<{ name: string; is_view: boolean }>`
        select c.relname as name, c.relkind = 'v' as is_view
        from pg_catalog.pg_class c join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
        where ns.nspname = ${schema} and c.relkind in ('r', 'v', 'p')`.execute(db);
      return rows.map((row) => ({ name: row.name, schema, isView: row.is_view, columns: [] }));
    },
    async getMetadata() {
      return { tables: await this.getTables() };
    },
  };
  return new Proxy(migrating, {
    get(target, property) {
      if (property === 'introspection') return introspector;
      // Kysely keeps its state in private fields, which only the instance itself may read.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
