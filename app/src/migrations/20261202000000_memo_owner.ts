import type { Knex } from 'knex';

/*
 * The owner of a memo: the subject and issuer of the token that created it (OIDC Core caps `sub`
 * at 255 ASCII characters; binary collation, as subjects are case-sensitive). NULL for memos
 * written before sign-in or while it is off: only an admin may change those. No index: the owner
 * is read with the row (by primary key) to authorize a change, and nothing lists memos by owner.
 * ADD COLUMN IF NOT EXISTS, like the first migration, because MariaDB DDL is not transactional.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE memos
      ADD COLUMN IF NOT EXISTS owner_sub VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL AFTER author,
      ADD COLUMN IF NOT EXISTS owner_iss VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL AFTER owner_sub`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE memos DROP COLUMN IF EXISTS owner_iss, DROP COLUMN IF EXISTS owner_sub');
}
