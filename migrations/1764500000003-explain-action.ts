import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Every built-in role may explain a resolution as itself (docs/access.md "Built-in roles"). Admin (`deny` of nothing)
 * has the new catalogue action already; the Operator and ReadOnly allow lists of existing accounts gain it.
 */
export class ExplainAction1764500000003 implements MigrationInterface {
  name = 'ExplainAction1764500000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE roles SET actions = actions || ARRAY['explain_resolution']
       WHERE is_immutable AND name IN ('Operator', 'ReadOnly') AND effect = 'allow' AND actions IS NOT NULL
         AND NOT 'explain_resolution' = ANY (actions);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE roles SET actions = array_remove(actions, 'explain_resolution')
       WHERE is_immutable AND name IN ('Operator', 'ReadOnly');
    `);
  }
}
