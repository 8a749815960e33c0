-- 0002: ingest bookkeeping. The process running an ingest (so a killed one
-- can be told from one still running) and the specifics of each bad record
-- beside its reason (reason stays a fixed category, good for GROUP BY).
ALTER TABLE ingests ADD COLUMN pid INTEGER;
ALTER TABLE ingest_errors ADD COLUMN detail TEXT;
