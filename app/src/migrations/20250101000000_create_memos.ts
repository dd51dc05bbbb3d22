import type { Knex } from 'knex';

/*
 * Raw DDL rather than the schema builder: collations, DATETIME(3) and the key order of the
 * search index matter here and read more plainly as SQL. Every statement is IF NOT EXISTS
 * because MariaDB DDL is not transactional: a migration interrupted halfway must be re-runnable.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS memos (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      title VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
      content MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
      priority TINYINT UNSIGNED NOT NULL,
      category VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
      author VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
      version INT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      KEY memos_priority_id (priority, id),
      KEY memos_category_id (category, id),
      KEY memos_author_id (author, id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS memo_tags (
      memo_id BIGINT UNSIGNED NOT NULL,
      tag VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      PRIMARY KEY (memo_id, tag),
      KEY memo_tags_tag_memo (tag, memo_id),
      CONSTRAINT memo_tags_memo FOREIGN KEY (memo_id) REFERENCES memos (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  // The search index (see src/search/tokenizer.ts): binary collation so that prefix ranges
  // compare exactly the lower-cased bytes the tokenizer produced.
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS memo_tokens (
      token VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      memo_id BIGINT UNSIGNED NOT NULL,
      PRIMARY KEY (token, memo_id),
      KEY memo_tokens_memo (memo_id),
      CONSTRAINT memo_tokens_memo FOREIGN KEY (memo_id) REFERENCES memos (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS outbox (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      event_id CHAR(36) CHARACTER SET ascii NOT NULL,
      aggregate_id BIGINT UNSIGNED NOT NULL,
      event_type VARCHAR(32) CHARACTER SET ascii NOT NULL,
      payload LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      created_at DATETIME(3) NOT NULL,
      published_at DATETIME(3) NULL,
      PRIMARY KEY (id),
      UNIQUE KEY outbox_event_id (event_id),
      KEY outbox_published_id (published_at, id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS outbox');
  await knex.raw('DROP TABLE IF EXISTS memo_tokens');
  await knex.raw('DROP TABLE IF EXISTS memo_tags');
  await knex.raw('DROP TABLE IF EXISTS memos');
}
