import AyumiCore
import AyumiLedger
import Foundation
import GRDB

extension SQLiteStore {
    /// Named migrations, never edited once released: add a new one instead.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-skeleton") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE rulesets (
                    version TEXT PRIMARY KEY NOT NULL, content TEXT NOT NULL, installed_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE merchants (
                    id TEXT PRIMARY KEY NOT NULL, name_ja TEXT NOT NULL, name_en TEXT NOT NULL,
                    category TEXT NOT NULL, zone_id TEXT NOT NULL, settlement_account TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE residents (
                    id TEXT PRIMARY KEY NOT NULL, birth_year INTEGER NOT NULL, district TEXT NOT NULL,
                    enrolled_on TEXT NOT NULL, created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE tokens (
                    hash TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'ingest', 'merchant', 'resident')),
                    subject TEXT, created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE events (
                    id TEXT PRIMARY KEY NOT NULL, resident_id TEXT NOT NULL REFERENCES residents(id),
                    kind TEXT NOT NULL, local_date TEXT NOT NULL, detail TEXT NOT NULL, received_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE transfers (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('award', 'redemption')),
                    resident_id TEXT NOT NULL REFERENCES residents(id),
                    points INTEGER NOT NULL CHECK (points > 0),
                    rule_id TEXT, ruleset_version TEXT, event_id TEXT, merchant_id TEXT,
                    reason_ja TEXT NOT NULL, reason_en TEXT NOT NULL,
                    local_date TEXT NOT NULL, created_at INTEGER NOT NULL
                );
                CREATE INDEX transfers_by_resident ON transfers(resident_id, id);
                CREATE INDEX transfers_by_date ON transfers(local_date);
                CREATE TABLE postings (
                    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
                    account TEXT NOT NULL, points INTEGER NOT NULL CHECK (points <> 0)
                );
                CREATE INDEX postings_by_transfer ON postings(transfer_id);
                CREATE TABLE balances (account TEXT PRIMARY KEY NOT NULL, points INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE lots (
                    id INTEGER PRIMARY KEY, resident_id TEXT NOT NULL, sponsor_id TEXT NOT NULL,
                    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
                    points_original INTEGER NOT NULL CHECK (points_original > 0),
                    points_remaining INTEGER NOT NULL CHECK (points_remaining >= 0 AND points_remaining <= points_original),
                    expires_on TEXT NOT NULL
                );
                CREATE INDEX open_lots ON lots(resident_id, expires_on, id) WHERE points_remaining > 0;
                CREATE TABLE counters (
                    resident_id TEXT NOT NULL, rule_id TEXT NOT NULL, period_key TEXT NOT NULL,
                    points INTEGER NOT NULL, count INTEGER NOT NULL,
                    PRIMARY KEY (resident_id, rule_id, period_key)
                ) WITHOUT ROWID;
                CREATE TABLE redemptions (
                    id INTEGER PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
                    idempotency_key TEXT NOT NULL, code_id TEXT NOT NULL UNIQUE,
                    resident_id TEXT NOT NULL REFERENCES residents(id), points INTEGER NOT NULL CHECK (points > 0),
                    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
                    created_at INTEGER NOT NULL,
                    UNIQUE (merchant_id, idempotency_key)
                );
                CREATE TABLE redemption_draws (
                    redemption_id INTEGER NOT NULL REFERENCES redemptions(id),
                    lot_id INTEGER NOT NULL REFERENCES lots(id), sponsor_id TEXT NOT NULL,
                    points INTEGER NOT NULL CHECK (points > 0)
                );
                CREATE INDEX draws_by_redemption ON redemption_draws(redemption_id);
                """)
        }
        // Tokens get an id to list and revoke them by, an expiry, a revocation time and (for ingest
        // feeds) a source name; merchants an active flag; events are keyed by (source, id), so one
        // source can no longer claim an id another will send. Events of the skeleton did not record
        // their submitter: they keep source 'legacy'.
        migrator.registerMigration("v2-review-fixes") { db in
            try db.execute(sql: """
                CREATE TABLE tokens_v2 (
                    id INTEGER PRIMARY KEY,
                    hash TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'ingest', 'merchant', 'resident')),
                    subject TEXT,
                    feed TEXT CHECK ((role = 'ingest') = (feed IS NOT NULL)),
                    created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER
                );
                INSERT INTO tokens_v2(hash, role, subject, feed, created_at)
                  SELECT hash, role, subject, CASE role WHEN 'ingest' THEN 'default' END, created_at FROM tokens ORDER BY created_at, hash;
                DROP TABLE tokens;
                ALTER TABLE tokens_v2 RENAME TO tokens;
                CREATE INDEX tokens_by_role ON tokens(role, id);
                ALTER TABLE merchants ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
                CREATE TABLE events_v2 (
                    source TEXT NOT NULL, id TEXT NOT NULL, resident_id TEXT NOT NULL REFERENCES residents(id),
                    kind TEXT NOT NULL, local_date TEXT NOT NULL, detail TEXT NOT NULL, received_at INTEGER NOT NULL,
                    PRIMARY KEY (source, id)
                ) WITHOUT ROWID;
                INSERT INTO events_v2 SELECT 'legacy', id, resident_id, kind, local_date, detail, received_at FROM events;
                DROP TABLE events;
                ALTER TABLE events_v2 RENAME TO events;
                ALTER TABLE transfers ADD COLUMN event_source TEXT;
                UPDATE transfers SET event_source = 'legacy' WHERE event_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("v3-compact-ledger") { db in try migrateToCompactLedger(db) }
        // Counters named by the rules engine (a rule's day, its ISO week, a sponsor's funding of it)
        // rather than by rule and resident; the day counters keep their names (the rule ids) and rows.
        // An award reduced by a limit keeps which one, so history says so later.
        migrator.registerMigration("v4-rules-engine") { db in
            try db.execute(sql: """
                CREATE TABLE counter_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                INSERT INTO counter_names(id, name) SELECT id, name FROM rules;
                ALTER TABLE counters RENAME COLUMN resident TO subject;
                ALTER TABLE counters RENAME COLUMN rule TO name;
                ALTER TABLE transfers ADD COLUMN capped INTEGER;
                """)
        }
        // Rulesets by the instant they take effect: each event is judged by the one in force at its
        // time. Each version installed so far was put in force when it was installed (the first one
        // from the beginning); a version installed again later kept its first date, so a return to
        // it is not seen: the timeline of an older database is as good as what it kept.
        migrator.registerMigration("v5-activations") { db in
            try db.execute(sql: """
                CREATE TABLE activations (
                    id INTEGER PRIMARY KEY, ruleset INTEGER NOT NULL REFERENCES rulesets(id), effective_from INTEGER NOT NULL,
                    activated_at INTEGER NOT NULL, activated_by TEXT NOT NULL
                );
                INSERT INTO activations(ruleset, effective_from, activated_at, activated_by)
                  SELECT id, CASE WHEN id = (SELECT MIN(id) FROM rulesets) THEN 0 ELSE installed_at END, installed_at, 'start'
                  FROM rulesets ORDER BY installed_at, id;
                """)
        }
        // Labels the city's staff set on a resident, for rules: tags and consents, each a list of
        // identifiers joined by commas (an identifier holds none).
        migrator.registerMigration("v6-resident-labels") { db in
            try db.execute(sql: """
                ALTER TABLE residents ADD COLUMN tags TEXT NOT NULL DEFAULT '';
                ALTER TABLE residents ADD COLUMN consents TEXT NOT NULL DEFAULT '';
                """)
        }
        // Points held as pending until a day (a rule's pendingDays): the lot's first spendable day.
        migrator.registerMigration("v7-pending-points") { db in
            try db.execute(sql: "ALTER TABLE transfers ADD COLUMN available_day INTEGER")
        }
        // Prize draws as run: seed, eligible count and winners, once per draw.
        migrator.registerMigration("v8-draws") { db in
            try db.execute(sql: """
                CREATE TABLE draws (
                    id INTEGER PRIMARY KEY, draw TEXT NOT NULL UNIQUE, seed TEXT NOT NULL, eligible INTEGER NOT NULL,
                    winners TEXT NOT NULL, run_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v9-redemption-codes") { db in
            // Keys rotate: every key is kept, the newest signs. The first start's key becomes key 1.
            try db.execute(sql: """
                CREATE TABLE signing_keys (id INTEGER PRIMARY KEY, raw TEXT NOT NULL, created_at INTEGER NOT NULL);
                INSERT INTO signing_keys(id, raw, created_at) SELECT 1, value, 0 FROM meta WHERE key = 'redemption_signing_key';
                DELETE FROM meta WHERE key = 'redemption_signing_key';
                CREATE TABLE code_numbers (number TEXT PRIMARY KEY NOT NULL, code TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v10-refunds") { db in try migrateToRefunds(db) }
        migrator.registerMigration("v11-merchant-limits") { db in
            // Limits from the registry; a suspension by the city's staff; whether the registry file
            // or the admin API manages the merchant (origin 1: the file, 2: the API).
            try db.execute(sql: """
                ALTER TABLE merchants ADD COLUMN points_per_day INTEGER;
                ALTER TABLE merchants ADD COLUMN points_per_resident_per_day INTEGER;
                ALTER TABLE merchants ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1));
                ALTER TABLE merchants ADD COLUMN origin INTEGER NOT NULL DEFAULT 1 CHECK (origin IN (1, 2));
                CREATE INDEX redemptions_by_merchant_day ON redemptions(merchant, day);
                """)
        }
        migrator.registerMigration("v12-expiry") { db in
            // The expiry job finds open lots by their last day; history finds a resident's expiries.
            try db.execute(sql: """
                CREATE INDEX open_lots_by_expiry ON transfers(expires_day, id) WHERE remaining > 0;
                CREATE INDEX expiries_by_resident ON transfers(debit, id) WHERE kind = 4;
                """)
        }
        migrator.registerMigration("v13-settlements") { db in
            // A settled month's statement as it was sent, never changed; the month's redemptions and
            // refunds are found by day.
            try db.execute(sql: """
                CREATE TABLE settlements (month INTEGER PRIMARY KEY, content TEXT NOT NULL, settled_at INTEGER NOT NULL);
                CREATE INDEX merchant_transfers_by_day ON transfers(day) WHERE kind IN (2, 3);
                """)
        }
        migrator.registerMigration("v14-cards") { db in
            // Printed cards for residents without a smartphone: a number (the QR holds it, never the
            // resident), a PIN kept only as a salted PBKDF2 hash, wrong tries counted to a lock.
            try db.execute(sql: """
                CREATE TABLE cards (
                    number TEXT PRIMARY KEY NOT NULL, resident INTEGER NOT NULL REFERENCES accounts(id),
                    pin_hash TEXT NOT NULL, pin_salt TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
                    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)), issued_at INTEGER NOT NULL, revoked_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX cards_by_resident ON cards(resident);
                """)
        }
        migrator.registerMigration("v15-code-number-expiry") { db in
            // Every issued code drops the numbers of codes expired a day ago: by index, not by a scan
            // of every number kept (the redemption bench fell from 6,900 to 2,100 a second without it).
            try db.execute(sql: "CREATE INDEX code_numbers_by_expiry ON code_numbers(expires_at)")
        }
        migrator.registerMigration("v16-report-days") { db in
            // Reports and indicators count a period's events and transfers of one kind: by index, so a
            // month's report reads that month, not the whole history (the settlement's partial index
            // of redemptions and refunds by day is one case of the new one).
            try db.execute(sql: """
                CREATE INDEX events_by_kind_day ON events(kind, day);
                CREATE INDEX transfers_by_kind_day ON transfers(kind, day);
                DROP INDEX merchant_transfers_by_day;
                """)
        }
        migrator.registerMigration("v17-event-columns") { db in try migrateToEventColumns(db) }
        return migrator
    }
}

extension SQLiteStore {
    /// An event's details in typed columns instead of one text (`8000|phone`, `bus|route-10|stop-3`, a
    /// zone id) parsed back in SQL and Swift: reports read `steps`, `mode` and `zone` directly, and a
    /// second store keeps the same columns. The table is rebuilt (SQLite cannot add CHECKs) with its
    /// ids, so transfers still name their events; CHECKs tie each kind to its columns.
    static func migrateToEventColumns(_ db: Database) throws {
        // Every row must split into its kind's columns; one that does not (a detail this Ayumi never
        // wrote) stops the upgrade with its ids rather than become a wrong count or a bare CHECK failure.
        let malformed = try String.fetchAll(db, sql: """
            SELECT external_id FROM events WHERE NOT CASE kind
              WHEN 1 THEN instr(detail, '|') > 1 AND instr(detail, '|') < length(detail)
                          AND length(detail) - length(replace(detail, '|', '')) = 1
                          AND substr(detail, 1, instr(detail, '|') - 1) NOT GLOB '*[^0-9]*'
              WHEN 2 THEN at IS NOT NULL AND length(detail) - length(replace(detail, '|', '')) = 2
                          AND detail NOT LIKE '|%' AND detail NOT LIKE '%|' AND instr(detail, '||') = 0
              WHEN 3 THEN at IS NOT NULL AND length(detail) > 0 AND instr(detail, '|') = 0
              ELSE 0 END
            ORDER BY id LIMIT 10
            """)
        guard malformed.isEmpty else {
            throw MigrationError("events whose details do not split into their columns (\(malformed.joined(separator: ", "))): "
                                 + "restore the database from a backup of this version, or remove them", migration: "v17-event-columns")
        }
        try db.execute(sql: """
            CREATE TABLE events_v17 (
                id INTEGER PRIMARY KEY, source INTEGER NOT NULL, external_id TEXT NOT NULL,
                resident INTEGER NOT NULL REFERENCES accounts(id), kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),
                day INTEGER NOT NULL, at INTEGER,
                steps INTEGER CHECK (steps >= 0), device TEXT, mode TEXT, route TEXT, stop TEXT, zone TEXT,
                rejection TEXT, received_at INTEGER NOT NULL,
                UNIQUE (source, external_id),
                CHECK ((kind = 1) = (steps IS NOT NULL AND device IS NOT NULL)),
                CHECK ((kind = 2) = (mode IS NOT NULL AND route IS NOT NULL AND stop IS NOT NULL)),
                CHECK ((kind = 3) = (zone IS NOT NULL)),
                CHECK ((kind = 1) = (at IS NULL))
            );
            INSERT INTO events_v17(id, source, external_id, resident, kind, day, at, steps, device, mode, route, stop, zone, rejection, received_at)
            SELECT id, source, external_id, resident, kind, day, CASE kind WHEN 1 THEN NULL ELSE at END,
                   CASE kind WHEN 1 THEN CAST(substr(detail, 1, instr(detail, '|') - 1) AS INTEGER) END,
                   CASE kind WHEN 1 THEN substr(detail, instr(detail, '|') + 1) END,
                   CASE kind WHEN 2 THEN substr(detail, 1, instr(detail, '|') - 1) END,
                   CASE kind WHEN 2 THEN substr(substr(detail, instr(detail, '|') + 1), 1, instr(substr(detail, instr(detail, '|') + 1), '|') - 1) END,
                   CASE kind WHEN 2 THEN substr(substr(detail, instr(detail, '|') + 1), instr(substr(detail, instr(detail, '|') + 1), '|') + 1) END,
                   CASE kind WHEN 3 THEN detail END,
                   rejection, received_at
            FROM events ORDER BY id;
            DROP TABLE events;
            ALTER TABLE events_v17 RENAME TO events;
            CREATE INDEX events_by_kind_day ON events(kind, day);
            """)
    }

    /// Refunds (transfer kind 3) move points from a merchant back into the lots a redemption drew
    /// from, or to a lot's sponsor when it is past its last day. The transfer kinds are CHECKed in
    /// the table's definition, which SQLite cannot alter: the table is rebuilt (SQLite's documented
    /// procedure: new table, copy, drop, rename; GRDB runs a migration with foreign keys off and
    /// checks them before it commits), once, with the kinds to come (4: expiry) allowed too.
    static func migrateToRefunds(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE refunds (
                id INTEGER PRIMARY KEY, redemption INTEGER NOT NULL REFERENCES redemptions(id),
                merchant INTEGER NOT NULL REFERENCES accounts(id), idempotency_key TEXT NOT NULL,
                points INTEGER NOT NULL CHECK (points > 0), day INTEGER NOT NULL, created_at INTEGER NOT NULL,
                UNIQUE (merchant, idempotency_key)
            );
            CREATE INDEX refunds_by_redemption ON refunds(redemption);
            CREATE TABLE transfers_v10 (
                id INTEGER PRIMARY KEY,
                kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3, 4)),
                debit INTEGER NOT NULL REFERENCES accounts(id), credit INTEGER NOT NULL REFERENCES accounts(id),
                amount INTEGER NOT NULL CHECK (amount > 0),
                day INTEGER NOT NULL,
                rule INTEGER REFERENCES rules(id), ruleset INTEGER REFERENCES rulesets(id), event INTEGER REFERENCES events(id),
                remaining INTEGER CHECK (remaining >= 0 AND remaining <= amount), expires_day INTEGER,
                redemption INTEGER REFERENCES redemptions(id), lot INTEGER REFERENCES transfers(id),
                created_at INTEGER NOT NULL,
                capped INTEGER,
                available_day INTEGER,
                refund INTEGER REFERENCES refunds(id),
                CHECK (debit <> credit),
                CHECK ((kind = 1) = (rule IS NOT NULL AND remaining IS NOT NULL AND expires_day IS NOT NULL)),
                CHECK ((kind IN (2, 3)) = (redemption IS NOT NULL)),
                CHECK ((kind IN (2, 3, 4)) = (lot IS NOT NULL)),
                CHECK ((kind = 3) = (refund IS NOT NULL))
            );
            INSERT INTO transfers_v10(id, kind, debit, credit, amount, day, rule, ruleset, event, remaining, expires_day, redemption, lot,
                                      created_at, capped, available_day)
                SELECT id, kind, debit, credit, amount, day, rule, ruleset, event, remaining, expires_day, redemption, lot,
                       created_at, capped, available_day FROM transfers ORDER BY id;
            DROP VIEW postings;
            DROP TABLE transfers;
            ALTER TABLE transfers_v10 RENAME TO transfers;
            CREATE INDEX awards_by_resident ON transfers(credit, id) WHERE kind = 1;
            CREATE INDEX draws_by_resident ON transfers(debit, id) WHERE kind = 2;
            CREATE INDEX draws_by_redemption ON transfers(redemption) WHERE kind = 2;
            CREATE INDEX open_lots ON transfers(credit, expires_day, id) WHERE remaining > 0;
            CREATE INDEX refunds_by_resident ON transfers(credit, id) WHERE kind = 3;
            CREATE INDEX refund_transfers_by_redemption ON transfers(redemption, lot) WHERE kind = 3;
            CREATE VIEW postings(transfer_id, account, points) AS
                SELECT id, debit, -amount FROM transfers UNION ALL SELECT id, credit, amount FROM transfers;
            """)
    }
}

/// A v2 ledger the compact layout cannot carry over as it is: the upgrade stops, nothing changes.
struct MigrationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String, migration: String = "v3-compact-ledger") { self.description = "migration \(migration): " + description }
}

/// The kinds' stored codes written into SQL text, so every query names the kind it means
/// (`kind = \(transfer: .award)`) and the numbers live in one place, the ledger's and core's enums.
/// Migrations that were released keep their literal numbers: they describe the schema as it was.
extension DefaultStringInterpolation {
    mutating func appendInterpolation(transfer kind: Transfer.Kind) { appendLiteral(String(kind.code)) }
    mutating func appendInterpolation(account kind: Account.Kind) { appendLiteral(String(kind.code)) }
    mutating func appendInterpolation(event kind: Event.Kind) { appendLiteral(String(kind.code)) }
}

extension SQLiteStore {
    /// The compact, integer-keyed layout, in the manner of TigerBeetle's: every party is a row of
    /// `accounts` (with its balance), every movement of points one row of `transfers` (debit,
    /// credit, amount, cause). An award funded by two sponsors is two transfers, each one a lot
    /// (`remaining`, `expires_day`); a redemption drawing two lots is two transfers naming them.
    /// Days are day numbers, sources are integers (a feed's id, a resident's account negated, 0 for
    /// events from before sources were kept), reasons are not stored but rendered from the
    /// ruleset version that made the award (the sentences an older Ayumi stored are kept, in
    /// `legacy_reasons`, for the awards it made). Postings are a view. Rejected events of enrolled
    /// residents are kept with their reason.
    static let compactLedgerSchema = """
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY, kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)), external_id TEXT NOT NULL,
            balance INTEGER NOT NULL DEFAULT 0, UNIQUE (kind, external_id)
        );
        CREATE TABLE residents (
            account INTEGER PRIMARY KEY REFERENCES accounts(id), birth_year INTEGER NOT NULL, district TEXT NOT NULL,
            enrolled_day INTEGER NOT NULL, created_at INTEGER NOT NULL
        );
        CREATE TABLE merchants (
            account INTEGER PRIMARY KEY REFERENCES accounts(id), name_ja TEXT NOT NULL, name_en TEXT NOT NULL,
            category TEXT NOT NULL, zone_id TEXT NOT NULL, settlement_account TEXT NOT NULL,
            active INTEGER NOT NULL CHECK (active IN (0, 1))
        );
        CREATE TABLE feeds (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE rules (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE rulesets (id INTEGER PRIMARY KEY, version TEXT NOT NULL UNIQUE, content TEXT NOT NULL, installed_at INTEGER NOT NULL);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY, source INTEGER NOT NULL, external_id TEXT NOT NULL,
            resident INTEGER NOT NULL REFERENCES accounts(id), kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),
            day INTEGER NOT NULL, at INTEGER, detail TEXT NOT NULL, rejection TEXT, received_at INTEGER NOT NULL,
            UNIQUE (source, external_id)
        );
        CREATE TABLE transfers (
            id INTEGER PRIMARY KEY,
            kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
            debit INTEGER NOT NULL REFERENCES accounts(id), credit INTEGER NOT NULL REFERENCES accounts(id),
            amount INTEGER NOT NULL CHECK (amount > 0),
            day INTEGER NOT NULL,
            rule INTEGER REFERENCES rules(id), ruleset INTEGER REFERENCES rulesets(id), event INTEGER REFERENCES events(id),
            remaining INTEGER CHECK (remaining >= 0 AND remaining <= amount), expires_day INTEGER,
            redemption INTEGER REFERENCES redemptions(id), lot INTEGER REFERENCES transfers(id),
            created_at INTEGER NOT NULL,
            CHECK (debit <> credit),
            CHECK ((kind = 1) = (rule IS NOT NULL AND remaining IS NOT NULL AND expires_day IS NOT NULL)),
            CHECK ((kind = 2) = (redemption IS NOT NULL AND lot IS NOT NULL))
        );
        CREATE INDEX awards_by_resident ON transfers(credit, id) WHERE kind = 1;
        CREATE INDEX draws_by_resident ON transfers(debit, id) WHERE kind = 2;
        CREATE INDEX draws_by_redemption ON transfers(redemption) WHERE kind = 2;
        CREATE INDEX open_lots ON transfers(credit, expires_day, id) WHERE remaining > 0;
        CREATE TABLE counters (
            resident INTEGER NOT NULL, rule INTEGER NOT NULL, period INTEGER NOT NULL,
            points INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (resident, rule, period)
        ) WITHOUT ROWID;
        CREATE TABLE redemptions (
            id INTEGER PRIMARY KEY, merchant INTEGER NOT NULL REFERENCES accounts(id), idempotency_key TEXT NOT NULL,
            code_id TEXT NOT NULL UNIQUE, resident INTEGER NOT NULL REFERENCES accounts(id),
            points INTEGER NOT NULL CHECK (points > 0), day INTEGER NOT NULL, created_at INTEGER NOT NULL,
            UNIQUE (merchant, idempotency_key)
        );
        CREATE TABLE legacy_reasons (
            transfer INTEGER PRIMARY KEY REFERENCES transfers(id), ja TEXT NOT NULL, en TEXT NOT NULL
        );
        CREATE VIEW postings(transfer_id, account, points) AS
            SELECT id, debit, -amount FROM transfers UNION ALL SELECT id, credit, amount FROM transfers;
        """

    /// Carries a v2 ledger over to the compact layout: every account, event, lot, draw, counter and
    /// ruleset, in their original order (transfer ids stay chronological, as history pages by them).
    static func migrateToCompactLedger(_ db: Database) throws {
        for table in ["rulesets", "merchants", "residents", "events", "transfers", "postings", "balances", "lots", "counters",
                      "redemptions", "redemption_draws"] {
            try db.execute(sql: "ALTER TABLE \(table) RENAME TO v2_\(table)")
        }
        // Indexes keep their names when their table is renamed; the new layout reuses two of them.
        for index in ["transfers_by_resident", "transfers_by_date", "postings_by_transfer", "open_lots", "draws_by_redemption"] {
            try db.execute(sql: "DROP INDEX IF EXISTS \(index)")
        }
        try db.execute(sql: compactLedgerSchema)
        // julianday gives day numbers from 'YYYY-MM-DD' text: 2440587.5 is 1970-01-01.
        let day = { (column: String) in "CAST(julianday(\(column)) - 2440587.5 AS INTEGER)" }
        try db.execute(sql: """
            INSERT INTO accounts(kind, external_id, balance)
              SELECT 2, id, COALESCE((SELECT points FROM v2_balances WHERE account = 'resident:' || id), 0)
              FROM v2_residents ORDER BY created_at, id;
            INSERT INTO accounts(kind, external_id, balance)
              SELECT 3, id, COALESCE((SELECT points FROM v2_balances WHERE account = 'merchant:' || id), 0) FROM v2_merchants ORDER BY id;
            INSERT INTO accounts(kind, external_id, balance)
              SELECT 1, sponsor_id, COALESCE((SELECT points FROM v2_balances WHERE account = 'sponsor:' || sponsor_id), 0)
              FROM (SELECT DISTINCT sponsor_id FROM v2_lots) ORDER BY sponsor_id;
            INSERT INTO residents SELECT a.id, r.birth_year, r.district, \(day("r.enrolled_on")), r.created_at
              FROM v2_residents r JOIN accounts a ON a.kind = 2 AND a.external_id = r.id;
            INSERT INTO merchants SELECT a.id, m.name_ja, m.name_en, m.category, m.zone_id, m.settlement_account, m.active
              FROM v2_merchants m JOIN accounts a ON a.kind = 3 AND a.external_id = m.id;
            INSERT INTO rulesets(version, content, installed_at) SELECT version, content, installed_at FROM v2_rulesets ORDER BY installed_at, version;
            INSERT INTO rules(name) SELECT rule_id FROM (SELECT rule_id FROM v2_transfers WHERE rule_id IS NOT NULL
              UNION SELECT rule_id FROM v2_counters) ORDER BY rule_id;
            INSERT INTO feeds(name) SELECT DISTINCT substr(source, 6) FROM v2_events WHERE source LIKE 'feed:%' ORDER BY 1;
            INSERT INTO events(source, external_id, resident, kind, day, at, detail, received_at)
              SELECT CASE WHEN e.source = 'legacy' THEN 0
                          WHEN e.source LIKE 'feed:%' THEN (SELECT id FROM feeds WHERE name = substr(e.source, 6))
                          ELSE -(SELECT id FROM accounts WHERE kind = 2 AND external_id = substr(e.source, 10)) END,
                     e.id, a.id, CASE e.kind WHEN 'walk' THEN 1 WHEN 'transit_tap' THEN 2 ELSE 3 END, \(day("e.local_date")),
                     json_extract(e.detail, '$.at'),
                     CASE e.kind WHEN 'walk' THEN json_extract(e.detail, '$.steps') || '|' || json_extract(e.detail, '$.source')
                                 WHEN 'transit_tap' THEN json_extract(e.detail, '$.mode') || '|' || json_extract(e.detail, '$.route')
                                                         || '|' || json_extract(e.detail, '$.stop')
                                 ELSE json_extract(e.detail, '$.zone') END,
                     e.received_at
              FROM v2_events e JOIN accounts a ON a.kind = 2 AND a.external_id = e.resident_id ORDER BY e.received_at, e.source, e.id;
            INSERT INTO redemptions(id, merchant, idempotency_key, code_id, resident, points, day, created_at)
              SELECT r.id, m.id, r.idempotency_key, r.code_id, a.id, r.points, \(day("t.local_date")), r.created_at
              FROM v2_redemptions r JOIN v2_transfers t ON t.id = r.transfer_id
                JOIN accounts m ON m.kind = 3 AND m.external_id = r.merchant_id JOIN accounts a ON a.kind = 2 AND a.external_id = r.resident_id;
            INSERT INTO counters SELECT a.id, ru.id, CAST(julianday(substr(c.period_key, 5)) - 2440587.5 AS INTEGER), c.points, c.count
              FROM v2_counters c JOIN accounts a ON a.kind = 2 AND a.external_id = c.resident_id JOIN rules ru ON ru.name = c.rule_id;
            """)
        // Transfers in their original order: each v2 award becomes one transfer per lot, each v2
        // redemption one per draw, so the new ids keep the old sequence.
        let rows = try Row.fetchAll(db, sql: """
            SELECT 1 AS kind, t.id AS transfer, l.id AS item, t.reason_ja, t.reason_en, s.id AS debit, a.id AS credit,
                   l.points_original AS amount,
                   \(day("t.local_date")) AS day, ru.id AS rule, rs.id AS ruleset, ev.id AS event, l.points_remaining AS remaining,
                   \(day("l.expires_on")) AS expires_day, NULL AS redemption, NULL AS lot, t.created_at
            FROM v2_transfers t JOIN v2_lots l ON l.transfer_id = t.id
              JOIN accounts s ON s.kind = 1 AND s.external_id = l.sponsor_id JOIN accounts a ON a.kind = 2 AND a.external_id = t.resident_id
              JOIN rules ru ON ru.name = t.rule_id LEFT JOIN rulesets rs ON rs.version = t.ruleset_version
              LEFT JOIN events ev ON ev.external_id = t.event_id AND ev.resident = a.id
                AND ev.source = CASE WHEN t.event_source = 'legacy' THEN 0
                                     WHEN t.event_source LIKE 'feed:%' THEN (SELECT id FROM feeds WHERE name = substr(t.event_source, 6))
                                     ELSE -a.id END
            WHERE t.kind = 'award'
            UNION ALL
            SELECT 2, t.id, d.rowid, t.reason_ja, t.reason_en, a.id, m.id, d.points, \(day("t.local_date")), NULL, NULL, NULL, NULL, NULL,
                   r.id, d.lot_id, t.created_at
            FROM v2_transfers t JOIN v2_redemptions r ON r.transfer_id = t.id JOIN v2_redemption_draws d ON d.redemption_id = r.id
              JOIN accounts a ON a.kind = 2 AND a.external_id = t.resident_id JOIN accounts m ON m.kind = 3 AND m.external_id = t.merchant_id
            WHERE t.kind = 'redemption'
            ORDER BY 2, 3
            """)
        var lotIDs: [Int64: Int64] = [:]
        var previousTransfer: Int64?
        let insert = try db.makeStatement(sql: """
            INSERT INTO transfers(kind, debit, credit, amount, day, rule, ruleset, event, remaining, expires_day, redemption, lot, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let keepReason = try db.makeStatement(sql: "INSERT INTO legacy_reasons(transfer, ja, en) VALUES (?, ?, ?)")
        for row in rows {
            let kind: Int64 = row["kind"]
            var lot: Int64?
            if let oldLot = row["lot"] as Int64? {
                guard let mapped = lotIDs[oldLot] else { throw MigrationError("redemption \(row["redemption"] ?? 0) drew lot \(oldLot), which no award holds") }
                lot = mapped
            }
            try insert.execute(arguments: [kind, row["debit"], row["credit"], row["amount"], row["day"], row["rule"], row["ruleset"], row["event"],
                                           row["remaining"], row["expires_day"], row["redemption"], lot, row["created_at"]])
            let id = db.lastInsertedRowID
            if kind == Transfer.Kind.award.code { lotIDs[row["item"]] = id }
            // The first row of each old transfer carries its sentences: history shows what was said.
            let transfer: Int64 = row["transfer"]
            if transfer != previousTransfer {
                try keepReason.execute(arguments: [id, row["reason_ja"], row["reason_en"]])
                previousTransfer = transfer
            }
        }
        for table in ["redemption_draws", "redemptions", "counters", "lots", "balances", "postings", "transfers", "events", "residents",
                      "merchants", "rulesets"] {
            try db.execute(sql: "DROP TABLE v2_\(table)")
        }
    }
}
