-- 0007: why an ingest failed, and indexes that cost a bulk ingest more than
-- they give.
-- posts_split (split, label_6way) took a fifth of an ingest's database work
-- (a B-tree insert per post into one of six groups) and no query needs it:
-- `mmdb stats` scans posts for the 2- and 3-way label columns anyway, and
-- loading a split reads most of the table. images_sha256 held an entry for
-- every post, NULL until its image is stored; it now holds the stored images
-- only (lookups by sha256 = ? use it all the same).
ALTER TABLE ingests ADD COLUMN reason TEXT;
DROP INDEX IF EXISTS posts_split;
DROP INDEX IF EXISTS images_sha256;
CREATE INDEX images_sha256 ON images(sha256) WHERE sha256 IS NOT NULL;
