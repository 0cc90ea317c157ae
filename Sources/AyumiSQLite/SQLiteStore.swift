import AyumiCore
import AyumiLedger
import AyumiStore
import Foundation
import GRDB

/// The embedded default: one SQLite file in WAL mode behind a GRDB `DatabasePool`. Every business
/// operation is one `write` transaction, so it is atomic and durable (synchronous=FULL) on return.
public final class SQLiteStore: Store {
    /// A `DatabasePool` (WAL: readers never wait for the writer), or a read-only `DatabaseQueue`
    /// for maintenance commands that only read.
    let database: any DatabaseWriter

    public enum OpenMode: Sendable, Equatable {
        /// The server: creates the file if there is none and applies pending migrations.
        case createOrMigrate
        /// Maintenance commands: the file must exist and be an Ayumi database migrated already; nothing
        /// is created or migrated, so a mistyped path fails instead of verifying an empty new database.
        /// Read-only for the commands that only read (`ledger verify`, `report`, `tokens list`).
        case existing(readOnly: Bool)
        /// Backups: the file must exist, whatever version of Ayumi wrote it (a backup comes before an
        /// upgrade). Read-only.
        case existingAnyVersion
    }

    public init(path: String, mode: OpenMode) throws {
        if mode != .createOrMigrate { try Self.checkIsSQLite(path) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        switch mode {
        case .existing(readOnly: true), .existingAnyVersion: configuration.readonly = true
        case .createOrMigrate, .existing(readOnly: false): break
        }
        configuration.prepareDatabase { db in
            guard !db.configuration.readonly else { return }
            // WAL with FULL: an acknowledged write survives power loss, not just a process crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // 64 MiB of page cache per connection (SQLite's default is 2 MiB): the indexes of a city's
            // ledger stay in memory, and ingest no longer slows down as the file grows.
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        // A queue for read-only opens: a pool needs write access to turn a file to WAL, and a
        // maintenance command must not change the file it inspects.
        let database: any DatabaseWriter = configuration.readonly
            ? try DatabaseQueue(path: path, configuration: configuration)
            : try DatabasePool(path: path, configuration: configuration)
        self.database = database
        switch mode {
        case .createOrMigrate:
            try Self.migrator.migrate(database)
        case .existing:
            let applied = try database.read { db in try Self.migrator.appliedIdentifiers(db) }
            guard applied.contains("v1-skeleton") else { throw StoreError.notAnAyumiDatabase(path: path) }
            let completed = try database.read { db in try Self.migrator.hasCompletedMigrations(db) }
            guard completed else { throw StoreError.databaseNeedsMigration(path: path) }
        case .existingAnyVersion:
            break
        }
    }

    /// The file exists and starts with SQLite's header; an empty or foreign file is named as such
    /// instead of being turned into a database.
    static func checkIsSQLite(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.databaseMissing(path: path) }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        guard header == Data("SQLite format 3\u{0}".utf8) else { throw StoreError.notAnAyumiDatabase(path: path) }
    }

    // MARK: Schema

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
        return migrator
    }

    // MARK: Setup

    public func install(ruleset: StoredRuleset, merchants: [Merchant], at: Date) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO rulesets(version, content, installed_at) VALUES (?, ?, ?)",
                           arguments: [ruleset.version, ruleset.content, at.millisecondsSince1970])
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('active_ruleset', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [ruleset.version])
            // A merchant missing from the registry is kept for its past redemptions, but inactive.
            try db.execute(sql: "UPDATE merchants SET active = 0")
            for merchant in merchants {
                try db.execute(sql: """
                    INSERT INTO merchants(id, name_ja, name_en, category, zone_id, settlement_account, active) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, category = excluded.category,
                      zone_id = excluded.zone_id, settlement_account = excluded.settlement_account, active = excluded.active
                    """, arguments: [merchant.id, merchant.name.ja, merchant.name.en, merchant.category, merchant.zoneID,
                                     merchant.settlementAccount, merchant.active])
            }
        }
    }

    public func activeRuleset() async throws -> StoredRuleset? {
        try await database.read { db in
            try Row.fetchOne(db, sql: """
                SELECT version, content FROM rulesets WHERE version = (SELECT value FROM meta WHERE key = 'active_ruleset')
                """).map { StoredRuleset(version: $0["version"], content: $0["content"]) }
        }
    }

    public func rulesets() async throws -> [StoredRuleset] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT version, content FROM rulesets ORDER BY installed_at DESC, version").map {
                StoredRuleset(version: $0["version"], content: $0["content"])
            }
        }
    }

    public func merchants() async throws -> [Merchant] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM merchants ORDER BY id").map { row in
                Merchant(id: row["id"], name: LocalizedText(ja: row["name_ja"], en: row["name_en"]), category: row["category"],
                         zoneID: row["zone_id"], settlementAccount: row["settlement_account"], active: row["active"])
            }
        }
    }

    // MARK: Tokens and residents

    public func insertTokens(_ tokens: [StoredToken]) async throws {
        try await database.write { db in
            for token in tokens { try Self.insert(token, db) }
        }
    }

    static func insert(_ token: StoredToken, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO tokens(hash, role, subject, feed, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [token.hash, token.role.rawValue, token.subject, token.feed, token.createdAt.millisecondsSince1970,
                             token.expiresAt?.millisecondsSince1970, token.revokedAt?.millisecondsSince1970])
    }

    static func token(_ row: Row) -> StoredToken {
        StoredToken(id: row["id"], hash: row["hash"], role: Role(rawValue: row["role"])!, subject: row["subject"], feed: row["feed"],
                    createdAt: Date(millisecondsSince1970: row["created_at"]),
                    expiresAt: (row["expires_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
                    revokedAt: (row["revoked_at"] as Int64?).map(Date.init(millisecondsSince1970:)))
    }

    public func token(hash: String) async throws -> StoredToken? {
        try await database.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM tokens WHERE hash = ?"), arguments: [hash]).map(Self.token)
        }
    }

    public func tokens(role: Role?) async throws -> [StoredToken] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens WHERE ?1 IS NULL OR role = ?1 ORDER BY id", arguments: [role?.rawValue])
                .map(Self.token)
        }
    }

    public func revokeToken(id: Int64, at: Date) async throws -> StoredToken? {
        try await database.write { db in
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [at.millisecondsSince1970, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE id = ?", arguments: [id]).map(Self.token)
        }
    }

    public func tokenCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tokens")! }
    }

    public func enrol(_ resident: Resident, token: StoredToken) async throws {
        try await database.write { db in
            guard try Self.resident(resident.id, db) == nil else { throw StoreError.residentExists }
            try db.execute(sql: "INSERT INTO residents(id, birth_year, district, enrolled_on, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [resident.id, resident.birthYear, resident.district, resident.enrolledOn.description,
                                       token.createdAt.millisecondsSince1970])
            try Self.insert(token, db)
        }
    }

    public func resident(_ id: String) async throws -> Resident? {
        try await database.read { db in try Self.resident(id, db) }
    }

    static func resident(_ id: String, _ db: Database) throws -> Resident? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM residents WHERE id = ?"), arguments: [id]).map { row in
            Resident(id: row["id"], birthYear: row["birth_year"], district: row["district"],
                     enrolledOn: LocalDate(row["enrolled_on"])!)
        }
    }

    // MARK: Events

    public func ingest(_ events: [Event], source: String, at: Date, counterKeys: @Sendable (Event) -> [CounterKey],
                       decide: @Sendable (Event, Resident?, [CounterKey: Counter]) -> IngestDecision) async throws -> [IngestResult] {
        try await database.write { db in
            var writer = LedgerWriter(db: db, at: at, source: source)
            var residents: [String: Resident?] = [:]
            var seen: Set<String> = []
            var results: [IngestResult] = []
            results.reserveCapacity(events.count)
            for event in events {
                if try seen.contains(event.id) || writer.eventExists(event.id) {
                    results.append(IngestResult(eventID: event.id, status: .duplicate, awards: [], reason: nil))
                    continue
                }
                let resident: Resident?
                if let cached = residents[event.residentID] {
                    resident = cached
                } else {
                    resident = try Self.resident(event.residentID, db)
                    residents[event.residentID] = resident
                }
                var counters: [CounterKey: Counter] = [:]
                if resident != nil {
                    for key in counterKeys(event) { counters[key] = try writer.counter(key) }
                }
                let decision = decide(event, resident, counters)
                switch decision.evaluation.outcome {
                case .rejected(let reason):
                    results.append(IngestResult(eventID: event.id, status: .rejected, awards: [], reason: reason))
                case .accepted(let awards, let note):
                    seen.insert(event.id)
                    try writer.insertEvent(event, localDate: decision.localDate)
                    for award in awards {
                        try writer.record(award, event: event, localDate: decision.localDate, expiresOn: decision.expiresOn)
                    }
                    results.append(IngestResult(eventID: event.id, status: .accepted, awards: awards, reason: note))
                }
            }
            try writer.flush()
            return results
        }
    }

    // MARK: Balance and history

    public func balance(residentID: String, on day: LocalDate) async throws -> Balance {
        try await database.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(CASE WHEN expires_on >= ?1 THEN points_remaining END), 0) AS spendable,
                       COALESCE(SUM(CASE WHEN expires_on < ?1 THEN points_remaining END), 0) AS past_expiry
                FROM lots WHERE resident_id = ?2 AND points_remaining > 0
                """, arguments: [day.description, residentID])!
            return Balance(spendable: row["spendable"], pastExpiry: row["past_expiry"])
        }
    }

    public func history(residentID: String, beforeID: Int64?, limit: Int) async throws -> [HistoryEntry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM transfers WHERE resident_id = ? AND id < ? ORDER BY id DESC LIMIT ?
                """, arguments: [residentID, beforeID ?? Int64.max, limit]).map { row in
                let kind = Transfer.Kind(rawValue: row["kind"])!
                let points: Int64 = row["points"]
                return HistoryEntry(id: row["id"], kind: kind, points: kind == .award ? points : -points,
                                    ruleID: row["rule_id"], rulesetVersion: row["ruleset_version"], merchantID: row["merchant_id"],
                                    reason: LocalizedText(ja: row["reason_ja"], en: row["reason_en"]),
                                    localDate: LocalDate(row["local_date"])!, createdAt: Date(millisecondsSince1970: row["created_at"]))
            }
        }
    }

    // MARK: Redemptions

    public func redemption(merchantID: String, idempotencyKey: String) async throws -> RedemptionRecord? {
        try await database.read { db in try Self.redemption(merchantID: merchantID, idempotencyKey: idempotencyKey, db) }
    }

    static func redemption(merchantID: String, idempotencyKey: String, _ db: Database) throws -> RedemptionRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM redemptions WHERE merchant_id = ? AND idempotency_key = ?",
                                         arguments: [merchantID, idempotencyKey]) else { return nil }
        let id: Int64 = row["id"]
        let funding = try Row.fetchAll(db, sql: """
            SELECT sponsor_id, SUM(points) AS points FROM redemption_draws WHERE redemption_id = ? GROUP BY sponsor_id ORDER BY sponsor_id
            """, arguments: [id]).map { SponsorShare(sponsorID: $0["sponsor_id"], points: $0["points"]) }
        return RedemptionRecord(id: id, merchantID: row["merchant_id"], idempotencyKey: row["idempotency_key"], codeID: row["code_id"],
                                residentID: row["resident_id"], points: row["points"], funding: funding, createdAt: Date(millisecondsSince1970: row["created_at"]))
    }

    public func redeem(_ request: RedemptionRequest) async throws -> RedemptionRecord {
        try await database.write { db in
            // Checked again inside the write: two retries racing each other see one winner.
            if let earlier = try Self.redemption(merchantID: request.merchantID, idempotencyKey: request.idempotencyKey, db) {
                guard earlier.codeID == request.codeID, earlier.points == request.points else { throw StoreError.idempotencyKeyReused }
                return earlier
            }
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM merchants WHERE id = ? AND active = 1)",
                                    arguments: [request.merchantID])! else {
                throw StoreError.unknownMerchant
            }
            guard try Self.resident(request.residentID, db) != nil else { throw StoreError.unknownResident }
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM redemptions WHERE code_id = ?)", arguments: [request.codeID])! {
                throw StoreError.codeAlreadyUsed
            }
            let lots = try Row.fetchAll(db, sql: """
                SELECT id, sponsor_id, points_remaining, expires_on FROM lots
                WHERE resident_id = ? AND points_remaining > 0 ORDER BY expires_on, id
                """, arguments: [request.residentID]).map { row in
                Lot(id: row["id"], sponsorID: row["sponsor_id"], pointsRemaining: row["points_remaining"],
                    expiresOn: LocalDate(row["expires_on"])!)
            }
            guard let draws = Lots.draw(request.points, from: lots, on: request.localDate) else {
                throw StoreError.insufficientPoints(balance: Lots.spendable(lots, on: request.localDate))
            }
            var writer = LedgerWriter(db: db, at: request.at, source: nil)
            let transferID = try writer.insert(
                Transfer.redemption(residentID: request.residentID, merchantID: request.merchantID, points: request.points),
                residentID: request.residentID, points: request.points, ruleID: nil, rulesetVersion: nil, eventID: nil,
                merchantID: request.merchantID, reason: request.reason, localDate: request.localDate)
            try db.execute(sql: """
                INSERT INTO redemptions(merchant_id, idempotency_key, code_id, resident_id, points, transfer_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [request.merchantID, request.idempotencyKey, request.codeID, request.residentID, request.points,
                                 transferID, request.at.millisecondsSince1970])
            let redemptionID = db.lastInsertedRowID
            for draw in draws {
                try db.execute(sql: "UPDATE lots SET points_remaining = points_remaining - ? WHERE id = ?", arguments: [draw.points, draw.lotID])
                try db.execute(sql: "INSERT INTO redemption_draws(redemption_id, lot_id, sponsor_id, points) VALUES (?, ?, ?, ?)",
                               arguments: [redemptionID, draw.lotID, draw.sponsorID, draw.points])
            }
            try writer.flush()
            // Built from what is in hand, the way `redemption(merchantID:idempotencyKey:_:)` reads it
            // back for a retry: funding summed per sponsor in sponsor order, time in milliseconds.
            let funding = Dictionary(draws.map { ($0.sponsorID, $0.points) }, uniquingKeysWith: +)
                .sorted { $0.key < $1.key }.map { SponsorShare(sponsorID: $0.key, points: $0.value) }
            return RedemptionRecord(id: redemptionID, merchantID: request.merchantID, idempotencyKey: request.idempotencyKey,
                                    codeID: request.codeID, residentID: request.residentID, points: request.points, funding: funding,
                                    createdAt: Date(millisecondsSince1970: request.at.millisecondsSince1970))
        }
    }

    // MARK: Reports and audit

    /// (key, resident_id, points) rows of one measure and section for the local days ?1 to ?2: the one
    /// definition both the report's rows and the combined row of suppressed groups are counted from.
    /// Sponsor and rule figures of redemptions follow the lots each redemption drew from.
    static func factSource(_ measure: BeneficiaryFacts.Measure, _ section: BeneficiaryFacts.Section) -> String {
        switch (measure, section) {
        case (.awarded, .rule):
            "SELECT rule_id AS key, resident_id, points FROM transfers WHERE kind = 'award' AND local_date BETWEEN ?1 AND ?2"
        case (.awarded, .sponsor):
            """
            SELECT l.sponsor_id AS key, l.resident_id, l.points_original AS points
            FROM lots l JOIN transfers t ON t.id = l.transfer_id WHERE t.local_date BETWEEN ?1 AND ?2
            """
        case (.awarded, .merchant):
            preconditionFailure("merchants award nothing")
        case (.redeemed, .merchant):
            "SELECT merchant_id AS key, resident_id, points FROM transfers WHERE kind = 'redemption' AND local_date BETWEEN ?1 AND ?2"
        case (.redeemed, .sponsor):
            """
            SELECT d.sponsor_id AS key, r.resident_id, d.points
            FROM redemption_draws d JOIN redemptions r ON r.id = d.redemption_id JOIN transfers t ON t.id = r.transfer_id
            WHERE t.local_date BETWEEN ?1 AND ?2
            """
        case (.redeemed, .rule):
            """
            SELECT a.rule_id AS key, r.resident_id, d.points
            FROM redemption_draws d JOIN redemptions r ON r.id = d.redemption_id JOIN transfers t ON t.id = r.transfer_id
              JOIN lots l ON l.id = d.lot_id JOIN transfers a ON a.id = l.transfer_id
            WHERE t.local_date BETWEEN ?1 AND ?2
            """
        }
    }

    public func beneficiaryFacts(from: LocalDate, to: LocalDate) async throws -> BeneficiaryFacts {
        let range: StatementArguments = [from.description, to.description]
        return try await database.read { db in
            var totals: [BeneficiaryFacts.Measure: BeneficiaryFacts.Cell] = [:]
            var cells: [BeneficiaryFacts.Measure: [BeneficiaryFacts.Section: [String: BeneficiaryFacts.Cell]]] = [:]
            for measure in BeneficiaryFacts.Measure.allCases {
                // Every resident behind a measure appears in its rule section (each award has a rule,
                // each draw a lot of an award), so the totals count from there.
                let total = try Row.fetchOne(db, sql: """
                    SELECT COALESCE(SUM(points), 0) AS points, COUNT(DISTINCT resident_id) AS residents FROM (\(Self.factSource(measure, .rule)))
                    """, arguments: range)!
                totals[measure] = .init(points: total["points"], residents: total["residents"])
                for section in BeneficiaryFacts.Section.allCases where BeneficiaryFacts.applies(measure, to: section) {
                    let rows = try Row.fetchAll(db, sql: """
                        SELECT key, SUM(points) AS points, COUNT(DISTINCT resident_id) AS residents FROM (\(Self.factSource(measure, section)))
                        GROUP BY key
                        """, arguments: range)
                    cells[measure, default: [:]][section] = Dictionary(uniqueKeysWithValues: rows.map {
                        ($0["key"] as String, BeneficiaryFacts.Cell(points: $0["points"], residents: $0["residents"]))
                    })
                }
            }
            let awardLinks = try Row.fetchAll(db, sql: """
                SELECT DISTINCT t.rule_id, l.sponsor_id FROM lots l JOIN transfers t ON t.id = l.transfer_id
                WHERE t.local_date BETWEEN ?1 AND ?2
                """, arguments: range)
            let redemptionLinks = try Row.fetchAll(db, sql: """
                SELECT DISTINCT a.rule_id, d.sponsor_id
                FROM redemption_draws d JOIN redemptions r ON r.id = d.redemption_id JOIN transfers t ON t.id = r.transfer_id
                  JOIN lots l ON l.id = d.lot_id JOIN transfers a ON a.id = l.transfer_id
                WHERE t.local_date BETWEEN ?1 AND ?2
                """, arguments: range)
            func links(_ rows: [Row]) -> Set<BeneficiaryFacts.Link> {
                Set(rows.map { BeneficiaryFacts.Link(rule: $0["rule_id"], sponsor: $0["sponsor_id"]) })
            }
            return BeneficiaryFacts(totals: totals, cells: cells, links: [.awarded: links(awardLinks), .redeemed: links(redemptionLinks)])
        }
    }

    public func residentCount(_ measure: BeneficiaryFacts.Measure, _ section: BeneficiaryFacts.Section, ids: [String],
                              from: LocalDate, to: LocalDate) async throws -> Int64 {
        let list = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        return try await database.read { db in
            try Int64.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT resident_id) FROM (\(Self.factSource(measure, section))) WHERE key IN (SELECT value FROM json_each(?3))
                """, arguments: [from.description, to.description, list])!
        }
    }

    public func audit() async throws -> LedgerAudit {
        try await database.read { db in
            let transferCount = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM transfers")!
            let unbalanced = try Row.fetchAll(db, sql: """
                SELECT t.id, COALESCE(SUM(p.points), 0) AS total FROM transfers t LEFT JOIN postings p ON p.transfer_id = t.id
                GROUP BY t.id HAVING total <> 0 OR COUNT(p.transfer_id) = 0 LIMIT 100
                """).map { ($0["id"] as Int64, $0["total"] as Int64) }
            let mismatches = try Row.fetchAll(db, sql: """
                SELECT account, SUM(balance) AS balance, SUM(posted) AS posted FROM (
                    SELECT account, points AS balance, 0 AS posted FROM balances
                    UNION ALL SELECT account, 0, points FROM postings
                ) GROUP BY account HAVING SUM(balance) <> SUM(posted) ORDER BY account LIMIT 100
                """).map { ($0["account"] as String, $0["balance"] as Int64, $0["posted"] as Int64) }
            let negative = try Row.fetchAll(db, sql: """
                SELECT account, points FROM balances WHERE account LIKE 'resident:%' AND points < 0 ORDER BY account LIMIT 100
                """).map { ($0["account"] as String, $0["points"] as Int64) }
            let lotMismatches = try Row.fetchAll(db, sql: """
                SELECT b.account, b.points AS balance, COALESCE(l.remaining, 0) AS remaining FROM balances b
                LEFT JOIN (SELECT 'resident:' || resident_id AS account, SUM(points_remaining) AS remaining FROM lots GROUP BY resident_id) l
                  ON l.account = b.account
                WHERE b.account LIKE 'resident:%' AND b.points <> COALESCE(l.remaining, 0) ORDER BY b.account LIMIT 100
                """).map { ($0["account"] as String, $0["balance"] as Int64, $0["remaining"] as Int64) }
            let awardLots = try Row.fetchAll(db, sql: """
                SELECT t.id, t.points, COALESCE(l.total, 0) AS lots FROM transfers t
                LEFT JOIN (SELECT transfer_id, SUM(points_original) AS total FROM lots GROUP BY transfer_id) l ON l.transfer_id = t.id
                WHERE t.kind = 'award' AND t.points <> COALESCE(l.total, 0) ORDER BY t.id LIMIT 100
                """).map { ($0["id"] as Int64, $0["points"] as Int64, $0["lots"] as Int64) }
            let draws = try Row.fetchAll(db, sql: """
                SELECT r.id, r.points, COALESCE(d.total, 0) AS drawn FROM redemptions r
                LEFT JOIN (SELECT redemption_id, SUM(points) AS total FROM redemption_draws GROUP BY redemption_id) d ON d.redemption_id = r.id
                WHERE r.points <> COALESCE(d.total, 0) ORDER BY r.id LIMIT 100
                """).map { ($0["id"] as Int64, $0["points"] as Int64, $0["drawn"] as Int64) }
            let pastExpiry = try Row.fetchAll(db, sql: """
                SELECT r.id, d.lot_id, t.local_date, l.expires_on FROM redemption_draws d
                JOIN redemptions r ON r.id = d.redemption_id JOIN transfers t ON t.id = r.transfer_id JOIN lots l ON l.id = d.lot_id
                WHERE t.local_date > l.expires_on ORDER BY r.id, d.lot_id LIMIT 100
                """).map { ($0["id"] as Int64, $0["lot_id"] as Int64, $0["local_date"] as String, $0["expires_on"] as String) }
            let lotRemaining = try Row.fetchAll(db, sql: """
                SELECT l.id, l.points_original, l.points_remaining, COALESCE(d.drawn, 0) AS drawn FROM lots l
                LEFT JOIN (SELECT lot_id, SUM(points) AS drawn FROM redemption_draws GROUP BY lot_id) d ON d.lot_id = l.id
                WHERE l.points_remaining <> l.points_original - COALESCE(d.drawn, 0) ORDER BY l.id LIMIT 100
                """).map { ($0["id"] as Int64, $0["points_original"] as Int64, $0["points_remaining"] as Int64, $0["drawn"] as Int64) }
            let drawSponsors = try Row.fetchAll(db, sql: """
                SELECT d.redemption_id, d.lot_id, d.sponsor_id, l.sponsor_id AS lot_sponsor FROM redemption_draws d
                JOIN lots l ON l.id = d.lot_id WHERE d.sponsor_id <> l.sponsor_id ORDER BY d.redemption_id, d.lot_id LIMIT 100
                """).map { ($0["redemption_id"] as Int64, $0["lot_id"] as Int64, $0["sponsor_id"] as String, $0["lot_sponsor"] as String) }
            return LedgerAudit(transferCount: transferCount, unbalancedTransfers: unbalanced, balanceMismatches: mismatches,
                               negativeResidentBalances: negative, lotMismatches: lotMismatches, awardLotMismatches: awardLots,
                               redemptionDrawMismatches: draws, drawsPastExpiry: pastExpiry, lotRemainderMismatches: lotRemaining,
                               drawSponsorMismatches: drawSponsors)
        }
    }

    /// SQLite's online backup: a consistent snapshot, taken page by page without stopping writers.
    /// The copy holds the signing key and the token hashes, so it is created readable by its owner
    /// only, and never over an existing file (O_EXCL: no race between checking and writing).
    public func backup(toPath path: String) async throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError.backupTargetUnavailable(path: path, reason: String(cString: strerror(errno))) }
        close(descriptor)
        let destination = try DatabaseQueue(path: path)
        try database.backup(to: destination)
        try destination.close()
    }

    public func meta(_ key: String) async throws -> String? {
        try await database.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func metaSetIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
            return try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])!
        }
    }
}

/// Writes ledger rows inside one open transaction with cached statements: the hot path of ingest.
/// It never reads back what it already knows (row ids come from `lastInsertedRowID`), keeps the
/// counters it has read or changed in memory, and sums balance changes per account so a batch of
/// 1,000 awards updates each sponsor's balance once, in `flush()`, not 1,000 times.
struct LedgerWriter {
    let db: Database
    let atMilliseconds: Int64
    /// The submitter of the events being written (nil for redemptions).
    let source: String?
    private var counters: [CounterKey: Counter] = [:]
    private var changedCounters: Set<CounterKey> = []
    private var balanceChanges: [String: Int64] = [:]

    init(db: Database, at: Date, source: String?) {
        self.db = db
        self.atMilliseconds = at.millisecondsSince1970
        self.source = source
    }

    /// Whether this source sent the id before. Events recorded before ids were kept per source
    /// (migration v2) carry the source 'legacy' and count for every source: a feed retrying an event
    /// it sent before the upgrade must get `duplicate`, not a second award.
    func eventExists(_ id: String) throws -> Bool {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM events WHERE source IN (?, 'legacy') AND id = ?"),
                         arguments: [source, id]) != nil
    }

    mutating func counter(_ key: CounterKey) throws -> Counter {
        if let known = counters[key] { return known }
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT points, count FROM counters WHERE resident_id = ? AND rule_id = ? AND period_key = ?
            """), arguments: [key.residentID, key.ruleID, key.periodKey])
        let counter = row.map { Counter(points: $0[0], count: $0[1]) } ?? .zero
        counters[key] = counter
        return counter
    }

    func insertEvent(_ event: Event, localDate: LocalDate) throws {
        try db.cachedStatement(sql: """
            INSERT INTO events(source, id, resident_id, kind, local_date, detail, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [source, event.id, event.residentID, event.kind.rawValue, localDate.description,
                                     event.storedDetail, atMilliseconds])
    }

    mutating func record(_ award: Award, event: Event, localDate: LocalDate, expiresOn: LocalDate) throws {
        let transferID = try insert(Transfer.award(award, residentID: event.residentID), residentID: event.residentID,
                                    points: award.points, ruleID: award.ruleID, rulesetVersion: award.rulesetVersion,
                                    eventID: event.id, merchantID: nil, reason: award.reason, localDate: localDate)
        for share in award.funding {
            try db.cachedStatement(sql: """
                INSERT INTO lots(resident_id, sponsor_id, transfer_id, points_original, points_remaining, expires_on)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [event.residentID, share.sponsorID, transferID, share.points, share.points,
                                         expiresOn.description])
        }
        let key = CounterKey(residentID: event.residentID, ruleID: award.ruleID, periodKey: award.periodKey)
        let previous = try counter(key)
        counters[key] = Counter(points: previous.points + award.points, count: previous.count + 1)
        changedCounters.insert(key)
    }

    /// Inserts the transfer and its postings; returns the transfer id. Balances change in `flush()`.
    mutating func insert(_ transfer: Transfer, residentID: String, points: Int64, ruleID: String?, rulesetVersion: String?,
                         eventID: String?, merchantID: String?, reason: LocalizedText, localDate: LocalDate) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO transfers(kind, resident_id, points, rule_id, ruleset_version, event_source, event_id, merchant_id,
              reason_ja, reason_en, local_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [transfer.kind.rawValue, residentID, points, ruleID, rulesetVersion, eventID.map { _ in source },
                                     eventID, merchantID,
                                     reason.ja, reason.en, localDate.description, atMilliseconds])
        let transferID = db.lastInsertedRowID
        for posting in transfer.postings {
            let account = posting.account.description
            try db.cachedStatement(sql: "INSERT INTO postings(transfer_id, account, points) VALUES (?, ?, ?)")
                .execute(arguments: [transferID, account, posting.points])
            balanceChanges[account, default: 0] += posting.points
        }
        return transferID
    }

    /// Writes the summed balance changes and the changed counters. Call once, before the
    /// transaction commits.
    mutating func flush() throws {
        for (account, points) in balanceChanges.sorted(by: { $0.key < $1.key }) where points != 0 {
            try db.cachedStatement(sql: """
                INSERT INTO balances(account, points) VALUES (?, ?)
                ON CONFLICT(account) DO UPDATE SET points = points + excluded.points
                """).execute(arguments: [account, points])
        }
        for key in changedCounters {
            let counter = counters[key]!
            try db.cachedStatement(sql: """
                INSERT INTO counters(resident_id, rule_id, period_key, points, count) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(resident_id, rule_id, period_key) DO UPDATE SET points = excluded.points, count = excluded.count
                """).execute(arguments: [key.residentID, key.ruleID, key.periodKey, counter.points, counter.count])
        }
        balanceChanges.removeAll()
        changedCounters.removeAll()
    }
}

extension Event {
    /// What is kept of an event for replay and backtests: its content without the resident (stored
    /// in its own column) and, for visits, only the zone id. Written by hand, not with JSONEncoder:
    /// this runs once per event on the hot path.
    var storedDetail: String {
        switch detail {
        case .walk(_, let steps, let source): #"{"steps":\#(steps),"source":\#(jsonString(source))}"#
        case .transitTap(let at, let mode, let route, let stop):
            #"{"at":\#(at.millisecondsSince1970),"mode":\#(jsonString(mode)),"route":\#(jsonString(route)),"stop":\#(jsonString(stop))}"#
        case .visit(let at, let zone): #"{"at":\#(at.millisecondsSince1970),"zone":\#(jsonString(zone))}"#
        }
    }
}

/// A JSON string literal (RFC 8259 section 7) for any text.
func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

extension Date {
    var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(millisecondsSince1970: Int64) { self.init(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }
}
