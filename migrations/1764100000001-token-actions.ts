import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The built-in roles of docs/access.md let every built-in role mint and refresh user tokens for itself. Admin (`deny`
 * of nothing) has them already; the Operator and ReadOnly allow lists of existing accounts gain the two new catalogue
 * actions.
 */
export class TokenActions1764100000001 implements MigrationInterface {
  name = 'TokenActions1764100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE roles
         SET actions = actions || ARRAY(SELECT a FROM unnest(ARRAY['create_user_token', 'refresh_user_token']) AS a
                                        WHERE NOT a = ANY (actions))
       WHERE is_immutable AND name IN ('Operator', 'ReadOnly') AND effect = 'allow' AND actions IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE roles SET actions = array_remove(array_remove(actions, 'create_user_token'), 'refresh_user_token')
       WHERE is_immutable AND name IN ('Operator', 'ReadOnly');
    `);
  }
}
