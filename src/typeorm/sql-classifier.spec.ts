import { classifySql, sqlForLog } from './sql-classifier.js';

describe('classifySql', () => {
  it.each([
    ['SELECT "Item"."id" AS "Item_id" FROM "item" "Item" WHERE "Item"."id" = $1', 'select', 'item'],
    ['select * from public.orders o join items i on i.o = o.id', 'select', 'orders'],
    ['WITH x AS (SELECT 1) SELECT * FROM `reports`', 'select', 'reports'],
    ['INSERT INTO "item"("name") VALUES ($1) RETURNING "id"', 'insert', 'item'],
    ['UPDATE "organization" SET "name" = $1 WHERE "id" = $2', 'update', 'organization'],
    ['DELETE FROM [dbo].[audit] WHERE id = 1', 'delete', 'audit'],
    ['/* comment */ SELECT 1', 'select', undefined],
    ['BEGIN TRANSACTION', 'transaction', undefined],
    ['START TRANSACTION', 'transaction', undefined],
    ['COMMIT', 'transaction', undefined],
    ['ROLLBACK TO SAVEPOINT typeorm_1', 'transaction', undefined],
    ['SAVEPOINT typeorm_1', 'transaction', undefined],
    ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'transaction', undefined],
    ['SELECT pg_sleep(1.2)', 'select', undefined],
    ['CREATE TABLE x (id int)', 'other', undefined],
    ['', 'other', undefined],
  ])('%s', (sql, operation, table) => {
    expect(classifySql(sql)).toEqual({ operation, table });
  });
});

describe('sqlForLog', () => {
  it('hides string literals and bounds the length', () => {
    expect(sqlForLog("SELECT * FROM u WHERE email = 'ada@example.com' AND n = 'it''s'")).toBe(
      "SELECT * FROM u WHERE email = '?' AND n = '?'",
    );
    expect(sqlForLog('x'.repeat(5000)).length).toBe(2001);
  });
});
