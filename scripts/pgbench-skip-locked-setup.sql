-- pgbench-skip-locked-setup.sql - the table of the hand-written queue that
-- scripts/pgbench-skip-locked.sql drives: the baseline that Cairn on
-- PostgreSQL is compared with (docs/BENCHMARKS.md). The bare minimum of a
-- queue: no history, no retries, no leases that expire.
DROP TABLE IF EXISTS skip_locked_jobs;
CREATE TABLE skip_locked_jobs (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  payload bytea NOT NULL,
  state smallint NOT NULL DEFAULT 0,  -- 0 pending, 1 leased, 2 done
  worker integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX skip_locked_jobs_pending ON skip_locked_jobs (queue, id)
  WHERE state = 0;
CREATE INDEX skip_locked_jobs_leased ON skip_locked_jobs (worker)
  WHERE state = 1;
