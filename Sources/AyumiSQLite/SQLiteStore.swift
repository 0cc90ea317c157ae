import AyumiCore
import AyumiLedger
import AyumiStore
import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
import Glibc

/// glibc's `malloc_trim`, which returns the heap's freed pages to the system, looked up at run time:
/// malloc.h is not part of Swift's Glibc module. Other C libraries have no such call.
nonisolated(unsafe) private let mallocTrim: (@convention(c) (Int) -> Int32)? =
    dlsym(nil, "malloc_trim").map { unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self) }
#else
private let mallocTrim: (@convention(c) (Int) -> Int32)? = nil
#endif

/// The embedded default: one SQLite file in WAL mode behind a GRDB `DatabasePool`. The writes of
/// the hot path (enrol, ingest, redeem) go through one writer with group commit; each is atomic
/// (its own savepoint) and durable (synchronous=FULL) before it returns. Reads never wait for it.
public final class SQLiteStore: Store {
    /// A `DatabasePool` (WAL: readers never wait for the writer), or a read-only `DatabaseQueue`
    /// for maintenance commands that only read.
    let database: any DatabaseWriter
    let committer: GroupCommitter

    /// Commits made by the group committer: fewer than the writes when writes arrive together.
    public var groupCommitCount: Int { committer.commitCount }
    /// The commit count at the previous `releaseMemoryIfIdle`, and how far the release went since.
    private let idleWatch = Mutex((commits: -1, step: IdleStep.busy))

    private enum IdleStep { case busy, released, trimmed }

    /// A quiet look asks every connection to drop its cache (GRDB's `releaseMemoryEventually`: each
    /// connection does it on its own queue when free, so no read waits for another); the next quiet
    /// look, when that is done, hands the heap's freed pages back to the system.
    public func releaseMemoryIfIdle() async -> Bool {
        let commits = committer.commitCount
        let step = idleWatch.withLock { watch -> IdleStep? in
            guard watch.commits == commits else {
                watch = (commits, .busy)
                return nil
            }
            switch watch.step {
            case .busy: watch.step = .released
            case .released: watch.step = .trimmed
            case .trimmed: return nil
            }
            return watch.step
        }
        switch step {
        case .released?:
            // A server's store is a pool; the read-only queue of a maintenance command never idles.
            (database as? DatabasePool)?.releaseMemoryEventually()
            return true
        case .trimmed?:
            _ = mallocTrim?(0)
            return true
        default:
            return false
        }
    }

    /// One business operation of the hot path, in its own savepoint of the next group commit.
    func write<Value: Sendable>(_ operation: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        try await committer.perform(operation)
    }

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
        if mode == .existing(readOnly: false) {
            // Checked read-only first: opening for writing would turn a foreign file to WAL mode.
            _ = try SQLiteStore(path: path, mode: .existing(readOnly: true))
        }
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
        self.committer = GroupCommitter(database: database)
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


    // MARK: Setup

    public func install(ruleset: StoredRuleset, merchants: [Merchant], at: Date) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO rulesets(version, content, installed_at) VALUES (?, ?, ?)",
                           arguments: [ruleset.version, ruleset.content, at.millisecondsSince1970])
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('active_ruleset', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [ruleset.version])
            // A merchant missing from the registry file is kept for its past redemptions, but
            // inactive; merchants the admin API added are not the file's to remove.
            try db.execute(sql: "UPDATE merchants SET active = 0 WHERE origin = \(MerchantOrigin.registryFile.rawValue)")
            for merchant in merchants { try Self.save(merchant, origin: .registryFile, db) }
        }
    }

    public func keep(ruleset: StoredRuleset, at: Date) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO rulesets(version, content, installed_at) VALUES (?, ?, ?)",
                           arguments: [ruleset.version, ruleset.content, at.millisecondsSince1970])
        }
    }

    public func activate(version: String, effectiveFrom: Date, at: Date, by: String) async throws {
        try await database.write { db in
            guard let ruleset = try Int64.fetchOne(db, sql: "SELECT id FROM rulesets WHERE version = ?", arguments: [version]) else {
                throw StoreError.rulesetNotInstalled(version)
            }
            try db.execute(sql: "INSERT INTO activations(ruleset, effective_from, activated_at, activated_by) VALUES (?, ?, ?, ?)",
                           arguments: [ruleset, effectiveFrom.millisecondsSince1970, at.millisecondsSince1970, by])
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('active_ruleset', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [version])
        }
    }

    public func activations() async throws -> [Activation] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.version, r.content, a.effective_from, a.activated_at, a.activated_by FROM activations a JOIN rulesets r ON r.id = a.ruleset
                ORDER BY a.id
                """).map { row in
                Activation(ruleset: StoredRuleset(version: row[0], content: row[1]), effectiveFrom: Date(millisecondsSince1970: row[2]),
                           activatedAt: Date(millisecondsSince1970: row[3]), activatedBy: row[4])
            }
        }
    }

    /// The account of a party, created (with a zero balance) the first time it is named.
    static func account(_ kind: Account.Kind, _ externalID: String, _ db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM accounts WHERE kind = ? AND external_id = ?"),
                                       arguments: [kind.code, externalID]) {
            return id
        }
        try db.cachedStatement(sql: "INSERT INTO accounts(kind, external_id) VALUES (?, ?)").execute(arguments: [kind.code, externalID])
        return db.lastInsertedRowID
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
            try Row.fetchAll(db, sql: "SELECT version, content FROM rulesets ORDER BY installed_at DESC, id DESC").map {
                StoredRuleset(version: $0["version"], content: $0["content"])
            }
        }
    }

    public func merchants() async throws -> [Merchant] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT a.external_id, m.* FROM merchants m JOIN accounts a ON a.id = m.account ORDER BY a.external_id")
                .map { row in
                    Merchant(id: row["external_id"], name: LocalizedText(ja: row["name_ja"], en: row["name_en"]), category: row["category"],
                             zoneID: row["zone_id"], settlementAccount: row["settlement_account"], active: row["active"],
                             pointsPerDayMax: row["points_per_day"], pointsPerResidentPerDayMax: row["points_per_resident_per_day"],
                             suspended: row["suspended"])
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
        // Not GRDB's blocking read, though it measured 1.24× faster under single-event load: a
        // blocked executor thread waiting for a reader whose async read needs an executor thread to
        // give the reader back deadlocks the process (reproduced with 2 threads on 2 cores).
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
        try await write { db in
            guard try Self.resident(resident.id, db) == nil else { throw StoreError.residentExists }
            let account = try Self.account(.resident, resident.id, db)
            try db.execute(sql: "INSERT INTO residents(account, birth_year, district, enrolled_day, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [account, resident.birthYear, resident.district, resident.enrolledOn.dayNumber,
                                       token.createdAt.millisecondsSince1970])
            try Self.insert(token, db)
        }
    }

    public func resident(_ id: String) async throws -> Resident? {
        try await database.read { db in try Self.resident(id, db)?.resident }
    }

    public func recordedEvent(_ id: String, from submitter: Submitter) async throws -> Bool? {
        try await database.read { db in
            let source: Int64? = switch submitter {
            case .feed(let name): try Int64.fetchOne(db, sql: "SELECT id FROM feeds WHERE name = ?", arguments: [name])
            case .resident(let resident): try Self.resident(resident, db).map { -$0.account }
            }
            guard let source else { return nil }
            // Events from before sources were kept (source 0) count as sent by every source, as in ingest.
            return try Bool.fetchOne(db, sql: """
                SELECT rejection IS NULL FROM events WHERE source IN (?, \(LedgerWriter.legacySource)) AND external_id = ?
                ORDER BY rejection IS NOT NULL LIMIT 1
                """, arguments: [source, id])
        }
    }

    public func counters(_ keys: [CounterKey]) async throws -> [CounterKey: Counter] {
        try await database.read { db in
            var result: [CounterKey: Counter] = [:]
            for key in keys {
                let subject: Int64? = switch key.subject {
                case .resident(let id): try Self.resident(id, db)?.account
                case .sponsor(let id):
                    try Int64.fetchOne(db, sql: "SELECT id FROM accounts WHERE kind = ? AND external_id = ?",
                                       arguments: [Account.Kind.sponsor.code, id])
                case .program: 0
                }
                guard let subject, let row = try Row.fetchOne(db, sql: """
                    SELECT c.points, c.count FROM counters c JOIN counter_names n ON n.id = c.name
                    WHERE c.subject = ? AND n.name = ? AND c.period = ?
                    """, arguments: [subject, key.name, key.period]) else { continue }
                result[key] = Counter(points: row[0], count: row[1])
            }
            return result
        }
    }

    static func resident(_ id: String, _ db: Database) throws -> (account: Int64, resident: Resident)? {
        try db.cachedStatement(sql: """
            SELECT r.account, r.birth_year, r.district, r.enrolled_day, r.tags, r.consents FROM accounts a JOIN residents r ON r.account = a.id
            WHERE a.kind = \(account: .resident) AND a.external_id = ?
            """).firstRow(.text(id)) { row in
            (row.integer(0), Resident(id: id, birthYear: Int(row.integer(1)), district: row.text(2), enrolledOn: LocalDate(dayNumber: Int(row.integer(3))),
                                      tags: labels(row.text(4)), consents: labels(row.text(5))))
        }
    }

    /// A stored label list: identifiers joined by commas.
    static func labels(_ stored: String) -> [String] { stored.isEmpty ? [] : stored.split(separator: ",").map(String.init) }

    public func label(residentID: String, tags: [String], consents: [String]) async throws -> Resident? {
        try await write { db in
            guard let (account, _) = try Self.resident(residentID, db) else { return nil }
            try db.execute(sql: "UPDATE residents SET tags = ?, consents = ? WHERE account = ?",
                           arguments: [tags.joined(separator: ","), consents.joined(separator: ","), account])
            return try Self.resident(residentID, db)?.resident
        }
    }

    // MARK: Meta and backup

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

    /// Moves the WAL's pages into the database file and empties the WAL.
    public func checkpoint() async throws {
        try await database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    // MARK: Redemption codes

    static func signingKeys(_ db: Database) throws -> [StoredSigningKey] {
        try Row.fetchAll(db, sql: "SELECT id, raw, created_at FROM signing_keys ORDER BY id").map { row in
            StoredSigningKey(id: row["id"], raw: Data(base64Encoded: row["raw"] as String) ?? Data(),
                             createdAt: Date(millisecondsSince1970: row["created_at"]))
        }
    }

    public func signingKeys(createIfNone raw: Data?, at: Date) async throws -> [StoredSigningKey] {
        guard let raw else { return try await database.read { db in try Self.signingKeys(db) } }
        return try await database.write { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signing_keys")! == 0 {
                try db.execute(sql: "INSERT INTO signing_keys(id, raw, created_at) VALUES (1, ?, ?)",
                               arguments: [raw.base64EncodedString(), at.millisecondsSince1970])
            }
            return try Self.signingKeys(db)
        }
    }

    public func addSigningKey(_ raw: Data, at: Date) async throws -> [StoredSigningKey] {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO signing_keys(raw, created_at) VALUES (?, ?)", arguments: [raw.base64EncodedString(), at.millisecondsSince1970])
            return try Self.signingKeys(db)
        }
    }

    public func residentReference(_ residentID: String) async throws -> Int64? {
        try await database.read { db in try Self.resident(residentID, db)?.account }
    }

    public func keepCodeNumber(_ number: String, code: String, expiresAt: Date, at: Date) async throws -> Bool {
        try await write { db in
            try db.cachedStatement(sql: "DELETE FROM code_numbers WHERE expires_at <= ?")
                .execute(arguments: [at.millisecondsSince1970 - Self.codeNumberKeptMilliseconds])
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO code_numbers(number, code, expires_at) VALUES (?, ?, ?)")
                .execute(arguments: [number, code, expiresAt.millisecondsSince1970])
            return db.changesCount == 1
        }
    }

    public func code(number: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT code FROM code_numbers WHERE number = ?"), arguments: [number])
        }
    }

    /// How long a number is kept after its code expired: a till's retry of a redemption made with
    /// it gets the first answer, and a late try is told the code expired rather than unknown.
    static let codeNumberKeptMilliseconds: Int64 = 86_400_000
}

extension Date {
    var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(millisecondsSince1970: Int64) { self.init(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }
}

extension SQLiteStore {
    // MARK: Merchants

    /// Who registered a merchant: the registry file deactivates only its own at a start.
    enum MerchantOrigin: Int64 {
        /// `Merchants/merchants.yaml`.
        case registryFile = 1
        /// The admin API or `ayumi merchants import`.
        case administration = 2
    }

    /// Adds or updates a merchant (its suspension is left as it is). `origin` 1: the registry file,
    /// 2: the admin API.
    static func save(_ merchant: Merchant, origin: MerchantOrigin, _ db: Database) throws {
        let account = try Self.account(.merchant, merchant.id, db)
        try db.execute(sql: """
            INSERT INTO merchants(account, name_ja, name_en, category, zone_id, settlement_account, active, points_per_day,
                                  points_per_resident_per_day, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(account) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, category = excluded.category,
              zone_id = excluded.zone_id, settlement_account = excluded.settlement_account, active = excluded.active,
              points_per_day = excluded.points_per_day, points_per_resident_per_day = excluded.points_per_resident_per_day,
              origin = excluded.origin
            """, arguments: [account, merchant.name.ja, merchant.name.en, merchant.category, merchant.zoneID, merchant.settlementAccount,
                             merchant.active, merchant.pointsPerDayMax, merchant.pointsPerResidentPerDayMax, origin.rawValue])
    }

    public func saveMerchants(_ merchants: [Merchant]) async throws {
        try await write { db in
            for merchant in merchants { try Self.save(merchant, origin: .administration, db) }
        }
    }

    public func setSuspended(merchantID: String, _ suspended: Bool) async throws -> Bool {
        try await write { db in
            try db.execute(sql: """
                UPDATE merchants SET suspended = ? WHERE account = (SELECT id FROM accounts WHERE kind = \(account: .merchant) AND external_id = ?)
                """, arguments: [suspended, merchantID])
            return db.changesCount == 1
        }
    }
}
