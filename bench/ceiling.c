/*
 * The ceiling for `ayumi bench ingest`: the same job written directly against SQLite with
 * prepared statements, in the compact layout Ayumi uses. Each event is stored idempotently
 * (unique source and external id), one award is posted as one transfer row (debit a sponsor,
 * credit the resident: double entry by its shape) that is also the lot, and balances are kept,
 * summed per batch. WAL, synchronous=FULL, a 64 MiB page cache: every batch is on disk when its
 * COMMIT returns, as in Ayumi. No rules, no counters, no JSON: what the database allows on its own.
 *
 * Usage: ceiling DATABASE RESIDENTS EVENTS BATCH      (prints one line: events/s and timings)
 * Built by scripts/bench with the system compiler: cc -O2 bench/ceiling.c -lsqlite3
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "ceiling: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* SplitMix64, as Ayumi's bench uses for its stream. */
static uint64_t next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: ceiling DATABASE RESIDENTS EVENTS BATCH\n");
        return 2;
    }
    const char *path = argv[1];
    long residents = atol(argv[2]), events = atol(argv[3]), batch = atol(argv[4]);
    sqlite3 *db;
    check(sqlite3_open(path, &db), db, "open");
    check(sqlite3_exec(db,
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;"
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, external_id TEXT NOT NULL,"
        "  balance INTEGER NOT NULL DEFAULT 0, UNIQUE (kind, external_id));"
        "CREATE TABLE events (id INTEGER PRIMARY KEY, source INTEGER NOT NULL, external_id TEXT NOT NULL,"
        "  resident INTEGER NOT NULL, kind INTEGER NOT NULL, day INTEGER NOT NULL, at INTEGER, detail TEXT NOT NULL,"
        "  received_at INTEGER NOT NULL, UNIQUE (source, external_id));"
        "CREATE TABLE transfers (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, debit INTEGER NOT NULL, credit INTEGER NOT NULL,"
        "  amount INTEGER NOT NULL, day INTEGER NOT NULL, rule INTEGER, event INTEGER, remaining INTEGER, expires_day INTEGER,"
        "  created_at INTEGER NOT NULL);"
        "CREATE INDEX awards_by_resident ON transfers(credit, id) WHERE kind = 1;"
        "CREATE INDEX open_lots ON transfers(credit, expires_day, id) WHERE remaining > 0;",
        NULL, NULL, NULL), db, "schema");
    check(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "begin");
    check(sqlite3_exec(db, "INSERT INTO accounts(kind, external_id) VALUES (1, 'city-health')", NULL, NULL, NULL), db, "sponsor");
    sqlite3_stmt *account;
    check(sqlite3_prepare_v2(db, "INSERT INTO accounts(kind, external_id) VALUES (2, ?)", -1, &account, NULL), db, "prepare account");
    char text[64];
    for (long r = 0; r < residents; r++) {
        snprintf(text, sizeof text, "bench-%ld", r);
        sqlite3_bind_text(account, 1, text, -1, SQLITE_TRANSIENT);
        check(sqlite3_step(account), db, "resident");
        sqlite3_reset(account);
    }
    check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit residents");

    sqlite3_stmt *event, *transfer, *balance;
    check(sqlite3_prepare_v2(db,
        "INSERT INTO events(source, external_id, resident, kind, day, at, detail, received_at) VALUES (1, ?, ?, 1, ?, NULL, ?, 0)"
        " ON CONFLICT(source, external_id) DO NOTHING", -1, &event, NULL), db, "prepare event");
    check(sqlite3_prepare_v2(db,
        "INSERT INTO transfers(kind, debit, credit, amount, day, rule, event, remaining, expires_day, created_at)"
        " VALUES (1, 1, ?, ?, ?, 1, ?, ?, ?, 0)", -1, &transfer, NULL), db, "prepare transfer");
    check(sqlite3_prepare_v2(db, "UPDATE accounts SET balance = balance + ? WHERE id = ?", -1, &balance, NULL), db, "prepare balance");

    int64_t *deltas = calloc((size_t)residents + 2, sizeof *deltas);
    long batches = (events + batch - 1) / batch;
    double *latencies = calloc((size_t)batches, sizeof *latencies);
    uint64_t state = 1;
    double start = now_seconds();
    long sent = 0, b = 0;
    while (sent < events) {
        long count = events - sent < batch ? events - sent : batch;
        double batch_start = now_seconds();
        check(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), db, "begin");
        int64_t sponsor = 0;
        for (long i = 0; i < count; i++) {
            long resident = 2 + (long)(next(&state) % (uint64_t)residents); /* account ids of residents start at 2 */
            long day = 20728 + (long)(next(&state) % 28);
            int64_t points = 1 + (int64_t)(next(&state) % 5);
            snprintf(text, sizeof text, "e-%ld", sent + i);
            char detail[32];
            snprintf(detail, sizeof detail, "%d|phone", (int)(next(&state) % 14000));
            sqlite3_bind_text(event, 1, text, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(event, 2, resident);
            sqlite3_bind_int64(event, 3, day);
            sqlite3_bind_text(event, 4, detail, -1, SQLITE_TRANSIENT);
            check(sqlite3_step(event), db, "event");
            sqlite3_reset(event);
            if (sqlite3_changes(db) == 0) continue; /* a duplicate: nothing more */
            sqlite3_int64 event_id = sqlite3_last_insert_rowid(db);
            sqlite3_bind_int64(transfer, 1, resident);
            sqlite3_bind_int64(transfer, 2, points);
            sqlite3_bind_int64(transfer, 3, day);
            sqlite3_bind_int64(transfer, 4, event_id);
            sqlite3_bind_int64(transfer, 5, points);
            sqlite3_bind_int64(transfer, 6, day + 365);
            check(sqlite3_step(transfer), db, "transfer");
            sqlite3_reset(transfer);
            deltas[resident] += points;
            sponsor -= points;
        }
        deltas[1] += sponsor;
        for (long a = 1; a < residents + 2; a++) {
            if (deltas[a] == 0) continue;
            sqlite3_bind_int64(balance, 1, deltas[a]);
            sqlite3_bind_int64(balance, 2, a);
            check(sqlite3_step(balance), db, "balance");
            sqlite3_reset(balance);
            deltas[a] = 0;
        }
        check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
        latencies[b++] = now_seconds() - batch_start;
        sent += count;
    }
    double seconds = now_seconds() - start;
    qsort(latencies, (size_t)b, sizeof *latencies, compare_double);
    printf("ceiling: %ld events in batches of %ld: %.0f events/s over %.2f s; batch p50 %.1f ms, p99 %.1f ms\n",
           events, batch, events / seconds, seconds, latencies[b / 2] * 1000, latencies[(long)(b * 0.99)] * 1000);
    sqlite3_close(db);
    return 0;
}
