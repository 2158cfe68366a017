-- pgbench-skip-locked.sql - one task lifecycle of a plain SKIP LOCKED queue,
-- each step its own statement and so its own commit (pgbench runs them in
-- autocommit), as Cairn's lifecycle workload makes each step its own
-- durable rpc:
--
--   pgbench -n -M prepared -c 64 -j 2 -T 10 -f scripts/pgbench-skip-locked.sql
--
-- after scripts/pgbench-skip-locked-setup.sql. pgbench's tps is then the
-- lifecycles per second. The worker that leased a task finds it again by
-- its client id, so no value has to pass between the statements.
INSERT INTO skip_locked_jobs (queue, payload)
  VALUES ('bench', convert_to(repeat('x', 100), 'UTF8'));
UPDATE skip_locked_jobs SET state = 1, worker = :client_id
  WHERE id = (SELECT id FROM skip_locked_jobs
              WHERE queue = 'bench' AND state = 0
              ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED);
UPDATE skip_locked_jobs SET state = 2, finished_at = now()
  WHERE id = (SELECT id FROM skip_locked_jobs
              WHERE worker = :client_id AND state = 1 LIMIT 1);
