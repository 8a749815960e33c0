/*
 * ckpt: WAL checkpoints on a thread of their own, for a bulk writer. SQLite
 * normally checkpoints in the committing thread (copying the WAL into the
 * database and syncing both), which stalls the writer; here a second
 * connection does it while the writer goes on. At most one checkpoint is in
 * flight. The WAL only starts over from its beginning when a transaction
 * begins with all of it checkpointed, so the writer waits for a checkpoint
 * now and then (ckpt_request with wait) to keep the WAL file bounded.
 */
#ifndef MMDB_CKPT_H
#define MMDB_CKPT_H

struct db;
struct ckpt;

/*
 * Opens a second connection to the database at path and starts the thread;
 * turns db's own automatic checkpoints off. Returns NULL when that cannot
 * be done: db then keeps checkpointing itself. Stop with ckpt_stop().
 */
struct ckpt *ckpt_start(struct db *db, const char *path);
/*
 * After a commit: waits for the checkpoint in flight, if any, and asks for
 * a new one; with wait, also waits for that one (all the WAL copied: the
 * next transaction starts the WAL over). NULL does nothing.
 */
void ckpt_request(struct ckpt *c, int wait);
/* Waits for the checkpoint in flight, ends the thread, closes its
 * connection and turns db's automatic checkpoints back on. NULL does nothing. */
void ckpt_stop(struct ckpt *c);

#endif
