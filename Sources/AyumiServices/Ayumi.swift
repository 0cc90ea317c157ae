import AyumiCore
import AyumiLedger
import AyumiRedemption
import AyumiReports
import AyumiRules
import AyumiSQLite
import AyumiStore
import Crypto
import Foundation
import Logging

/// Who made a request, from the bearer token they presented.
public struct Principal: Sendable, Hashable {
    public var role: Role
    /// The resident or merchant the token speaks for.
    public var subject: String?
    /// The feed name of an ingest token.
    public var feed: String?

    public init(role: Role, subject: String?, feed: String? = nil) {
        self.role = role
        self.subject = subject
        self.feed = feed
    }

    /// Who events sent with this token come from; nil for roles that submit no events.
    public var submitter: Submitter? {
        switch role {
        case .resident: subject.map(Submitter.resident)
        case .ingest: feed.map(Submitter.feed)
        case .admin, .merchant: nil
        }
    }
}

/// The use cases of Ayumi, in one place that the HTTP server and the CLI both call. Each method
/// checks its input, asks the pure core for decisions and lets the store record them in one
/// transaction.
public struct Ayumi: Sendable {
    let store: any Store
    public let ruleset: Ruleset
    public let evaluator: Evaluator
    /// Every merchant ever registered, by id; inactive ones redeem nothing.
    public let merchants: [String: Merchant]
    public let environment: AyumiEnvironment
    let signer: CodeSigner
    let logger: Logger

    public static let eventsPerRequestMax = 1_000
    public static let historyPageSizeMax = 100
    public static let redemptionPointsMax: Int64 = 1_000_000
    public static let signingKeyMetaKey = "redemption_signing_key"
    public static let databaseFileName = "ayumi.sqlite"
    /// The longest lifetime `--expires-in` gives a token: ten years.
    public static let tokenLifetimeSecondsMax: Int64 = 3_650 * 86_400

    /// For the server: opens the database in `dataDirectory` (creating the directory, readable by
    /// the owner only, and the database), installs the rules and merchants and loads the
    /// redemption signing key (creating it on first start).
    public static func open(dataDirectory: String, rulesDirectory: String, merchantsFile: String,
                            environment: AyumiEnvironment = .live, logger: Logger) async throws -> Ayumi {
        let ruleset = try RulesParser.load(directory: rulesDirectory)
        let merchants = try MerchantsParser.load(path: merchantsFile, ruleset: ruleset)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let store = try SQLiteStore(path: databasePath(dataDirectory), mode: .createOrMigrate)
        try await store.install(ruleset: StoredRuleset(version: ruleset.version, content: ruleset.canonicalJSON), merchants: merchants,
                                at: environment.now())
        return try await open(store: store, ruleset: ruleset, environment: environment, logger: logger)
    }

    /// For maintenance commands (`ledger verify`, `backup`, `report`, `tokens`): opens the database
    /// the server created, with the ruleset, merchants and signing key it installed. It never creates
    /// or migrates a database, never changes the active ruleset, and needs no `Rules/` directory;
    /// `readOnly` opens it so that nothing at all can be written.
    public static func openExisting(dataDirectory: String, readOnly: Bool, environment: AyumiEnvironment = .live,
                                    logger: Logger) async throws -> Ayumi {
        let store = try existingStore(dataDirectory, mode: .existing(readOnly: readOnly))
        guard let stored = try await store.activeRuleset(), let keyText = try await store.meta(signingKeyMetaKey) else {
            throw AyumiError.notAnAyumiDatabase(path: databasePath(dataDirectory))
        }
        let ruleset = try Ruleset(canonicalJSON: stored.content)
        return try await make(store: store, ruleset: ruleset, signingKey: keyText, environment: environment, logger: logger)
    }

    static func existingStore(_ dataDirectory: String, mode: SQLiteStore.OpenMode) throws -> SQLiteStore {
        let path = databasePath(dataDirectory)
        do {
            return try SQLiteStore(path: path, mode: mode)
        } catch StoreError.databaseMissing {
            throw AyumiError.databaseMissing(path: path)
        } catch StoreError.databaseNeedsMigration {
            throw AyumiError.databaseNeedsMigration(path: path)
        } catch StoreError.notAnAyumiDatabase {
            throw AyumiError.notAnAyumiDatabase(path: path)
        }
    }

    public static func databasePath(_ dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent(databaseFileName)
    }

    static func open(store: any Store, ruleset: Ruleset, environment: AyumiEnvironment, logger: Logger) async throws -> Ayumi {
        let keyText = try await store.metaSetIfAbsent(signingKeyMetaKey, Data(CodeSigner.newRawKey()).base64EncodedString())
        return try await make(store: store, ruleset: ruleset, signingKey: keyText, environment: environment, logger: logger)
    }

    static func make(store: any Store, ruleset: Ruleset, signingKey keyText: String, environment: AyumiEnvironment,
                     logger: Logger) async throws -> Ayumi {
        let signer = try CodeSigner(rawKey: Data(base64Encoded: keyText)!)
        let registered = try await store.merchants()
        return Ayumi(store: store, ruleset: ruleset, evaluator: Evaluator(ruleset: ruleset),
                     merchants: Dictionary(uniqueKeysWithValues: registered.map { ($0.id, $0) }),
                     environment: environment, signer: signer, logger: logger)
    }

    public var today: LocalDate { LocalDate(instant: environment.now(), timeZone: evaluator.timeZone) }

    // MARK: Tokens

    /// Mints a bearer token and stores only its SHA-256 hash; the token itself is shown once.
    /// Merchant tokens need an active merchant, resident tokens an enrolled resident, ingest tokens
    /// a feed name (`transit-operator`): the source their events' ids are unique within.
    public func createToken(role: Role, subject: String?, feed: String? = nil, lifetimeSeconds: Int64? = nil) async throws -> String {
        let (token, stored) = try await newToken(role: role, subject: subject, feed: feed, lifetimeSeconds: lifetimeSeconds)
        try await store.insertTokens([stored])
        logger.info("Token created", metadata: ["token.role": "\(role.rawValue)"])
        return token
    }

    func newToken(role: Role, subject: String?, feed: String?, lifetimeSeconds: Int64?) async throws -> (String, StoredToken) {
        switch role {
        case .merchant:
            guard let subject, let merchant = merchants[subject] else { throw AyumiError.unknownMerchant(subject ?? "") }
            guard merchant.active else { throw AyumiError.merchantInactive(subject) }
        case .resident:
            guard let subject, try await store.resident(subject) != nil else { throw AyumiError.unknownResident(subject ?? "") }
        case .admin, .ingest:
            guard subject == nil else { throw AyumiError.invalidRequest("\(role.rawValue) tokens speak for no one in particular") }
        }
        if role == .ingest {
            guard let feed, Identifier.isValid(feed) else {
                throw AyumiError.invalidRequest("an ingest token needs a source: the feed's name, 1-64 letters, digits or -_.: (such as transit-operator)")
            }
        } else if feed != nil {
            throw AyumiError.invalidRequest("only ingest tokens have a source")
        }
        if let lifetimeSeconds {
            guard (1...Self.tokenLifetimeSecondsMax).contains(lifetimeSeconds) else {
                throw AyumiError.invalidRequest("a token lives from 1 second to \(Self.tokenLifetimeSecondsMax / 86_400) days")
            }
        }
        return mint(role: role, subject: subject, feed: feed, lifetimeSeconds: lifetimeSeconds)
    }

    /// A new random token of `role` and the record of its hash; checks nothing.
    func mint(role: Role, subject: String?, feed: String? = nil, lifetimeSeconds: Int64? = nil) -> (String, StoredToken) {
        let now = environment.now()
        let token = "ayumi_\(role.rawValue)_" + Base64URL.encode(Data(environment.randomBytes(32)))
        return (token, StoredToken(hash: Self.hash(token), role: role, subject: subject, feed: feed, createdAt: now,
                                   expiresAt: lifetimeSeconds.map { now.addingTimeInterval(TimeInterval($0)) }))
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The principal of a token that is known, neither revoked nor expired, and (for a merchant)
    /// speaks for an active merchant; nil otherwise. Read from the database on every request, so a
    /// revocation takes effect at once.
    public func authenticate(token: String) async throws -> Principal? {
        guard token.utf8.count <= 128, let stored = try await store.token(hash: Self.hash(token)),
              stored.isValid(at: environment.now()) else { return nil }
        if stored.role == .merchant, merchants[stored.subject ?? ""]?.active != true { return nil }
        return Principal(role: stored.role, subject: stored.subject, feed: stored.feed)
    }

    /// Every token, or those of one role, oldest first; only hashes are stored, so none can be shown.
    public func tokens(role: Role?) async throws -> [StoredToken] { try await store.tokens(role: role) }

    /// Revokes a token at once (idempotent); throws `notFound` for an unknown id.
    public func revokeToken(id: Int64) async throws -> StoredToken {
        guard let token = try await store.revokeToken(id: id, at: environment.now()) else { throw AyumiError.notFound("Token \(id)") }
        logger.info("Token revoked", metadata: ["token.id": "\(id)"])
        return token
    }

    public func hasTokens() async throws -> Bool { try await store.tokenCount() > 0 }

    public struct FirstStartTokens: Sendable {
        public var admin: String
        /// The `default` feed's token, which may report what `ingest` is allowed.
        public var ingest: String
        /// One token per feed that `submitters` in program.yaml names (`ingest:NAME`), by feed name.
        public var feeds: [(name: String, token: String)]
        public var merchant: String
        public var merchantID: String
    }

    /// The feed name of the general ingest token minted on first start.
    public static let firstStartFeed = "default"

    /// Mints an admin token, an ingest token for the `default` feed, one for each feed the program
    /// names, and a merchant token (the first active merchant); hands them to `keep` (which writes
    /// them where the operator will find them) and only then stores their hashes: if `keep` fails,
    /// nothing is stored and the next start tries again.
    public func createFirstStartTokens(keep: (FirstStartTokens) throws -> Void) async throws {
        guard let merchantID = merchants.values.filter(\.active).map(\.id).sorted().first else {
            throw AyumiError.invalidRequest("no active merchant is registered")
        }
        var feedNames: [String] = []
        for kind in Event.Kind.allCases {
            for case .feed(let name) in ruleset.program.submitters[kind.rawValue] ?? [] where !feedNames.contains(name) {
                feedNames.append(name)
            }
        }
        let admin = mint(role: .admin, subject: nil)
        let ingest = mint(role: .ingest, subject: nil, feed: Self.firstStartFeed)
        let feeds = feedNames.map { (name: $0, minted: mint(role: .ingest, subject: nil, feed: $0)) }
        let merchant = mint(role: .merchant, subject: merchantID)
        try keep(FirstStartTokens(admin: admin.0, ingest: ingest.0, feeds: feeds.map { ($0.name, $0.minted.0) }, merchant: merchant.0,
                                  merchantID: merchantID))
        try await store.insertTokens([admin.1, ingest.1] + feeds.map(\.minted.1) + [merchant.1])
        logger.info("First-start tokens created")
    }

    /// Throws unless the database answers a read; what `/healthz` reports.
    public func checkHealth() async throws { _ = try await store.tokenCount() }

    // MARK: Residents

    public func enrol(residentID: String, birthYear: Int, district: String) async throws -> (Resident, token: String) {
        guard Identifier.isValid(residentID) else {
            throw AyumiError.invalidRequest("resident: 1-64 letters, digits or -_.: (a pseudonymous id, never a name)")
        }
        guard (Resident.birthYearMin...today.year).contains(birthYear) else {
            throw AyumiError.invalidRequest("birthYear: between \(Resident.birthYearMin) and \(today.year)")
        }
        guard district.utf8.count <= 16, !district.isEmpty, district.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw AyumiError.invalidRequest("district: a numeric district code such as 14101")
        }
        let resident = Resident(id: residentID, birthYear: birthYear, district: district, enrolledOn: today)
        let (token, stored) = mint(role: .resident, subject: residentID)
        do {
            try await store.enrol(resident, token: stored)
        } catch StoreError.residentExists {
            throw AyumiError.residentExists(residentID)
        }
        logger.info("Resident enrolled", metadata: ["resident.id": "\(residentID)"])
        return (resident, token)
    }

    // MARK: Events

    /// Ingests up to `eventsPerRequestMax` events in one transaction.
    public func ingest(_ events: [Event], by principal: Principal) async throws -> [IngestResult] {
        guard events.count <= Self.eventsPerRequestMax else {
            throw AyumiError.tooManyEvents(count: events.count, max: Self.eventsPerRequestMax)
        }
        guard let submitter = principal.submitter else {
            throw AyumiError.forbidden("Events are submitted with an ingest token or the resident's own token.")
        }
        if principal.role == .resident, let other = events.first(where: { $0.residentID != principal.subject }) {
            throw AyumiError.forbidden("A resident token can submit only its own events; event '\(other.id)' is for another resident.")
        }
        let now = environment.now()
        let evaluator = self.evaluator
        let expiryMonths = ruleset.program.pointExpiryMonths
        return try await store.ingest(events, source: submitter.source, at: now, counterKeys: { evaluator.counterKeys(for: $0) },
                                      decide: { event, resident, counters in
            let date = event.localDate(in: evaluator.timeZone)
            let evaluation = resident.map { evaluator.evaluate(event, from: submitter, resident: $0, counters: counters, now: now) }
                ?? Evaluation(outcome: .rejected(LocalizedText(ja: "未登録の利用者です", en: "Unknown resident")))
            return IngestDecision(evaluation: evaluation, localDate: date, expiresOn: Lots.expiry(earnedOn: date, months: expiryMonths))
        })
    }

    // MARK: Balance and history

    /// What the resident can spend today, and what is past its last day but not yet expired: the
    /// same lots a redemption draws from, so the balance and `insufficient-points` never disagree.
    public func balance(residentID: String) async throws -> Balance {
        try await store.balance(residentID: residentID, on: today)
    }

    /// A page of history, newest first, and the cursor of the next page (nil on the last page).
    public func history(residentID: String, cursor: String?, limit: Int) async throws -> ([HistoryEntry], next: String?) {
        var beforeID: Int64?
        if let cursor {
            guard let id = Int64(cursor), id > 0 else { throw AyumiError.invalidRequest("cursor: not a cursor this service gave out") }
            beforeID = id
        }
        guard (1...Self.historyPageSizeMax).contains(limit) else {
            throw AyumiError.invalidRequest("limit: between 1 and \(Self.historyPageSizeMax)")
        }
        let entries = try await store.history(residentID: residentID, beforeID: beforeID, limit: limit + 1)
        let page = Array(entries.prefix(limit))
        return (page, entries.count > limit ? page.last.map { String($0.id) } : nil)
    }

    // MARK: Redemption codes

    public struct IssuedCode: Sendable {
        public var code: String
        public var expiresAt: Date
    }

    public func issueCode(residentID: String) throws -> IssuedCode {
        let expiresAt = Date(timeIntervalSince1970: (environment.now().timeIntervalSince1970
                                                     + Double(ruleset.program.redemptionCodeTTLSeconds)).rounded(.down))
        let codeID = Base64URL.encode(Data(environment.randomBytes(16)))
        return IssuedCode(code: try signer.issue(residentID: residentID, codeID: codeID, expiresAt: expiresAt), expiresAt: expiresAt)
    }

    /// The QR symbol of one of the resident's own codes (an expired code is still drawn: the
    /// merchant's scan is what checks expiry).
    public func qrCode(_ text: String, residentID: String) throws -> QRCode {
        let code: RedemptionCode
        do {
            code = try signer.verify(text, now: .distantPast)
        } catch {
            throw AyumiError.notFound("The code")
        }
        guard code.residentID == residentID else { throw AyumiError.notFound("The code") }
        return try QRCode(text: text)
    }

    // MARK: Redemption

    public func redeem(merchantID: String, code text: String, points: Int64, idempotencyKey: String) async throws -> RedemptionRecord {
        guard Identifier.isValid(idempotencyKey) else { throw AyumiError.invalidRequest("idempotencyKey: 1-64 letters, digits or -_.:") }
        guard (1...Self.redemptionPointsMax).contains(points) else {
            throw AyumiError.invalidRequest("points: between 1 and \(Self.redemptionPointsMax)")
        }
        guard let merchant = merchants[merchantID], merchant.active else { throw AyumiError.unknownMerchant(merchantID) }
        // A retry with the same key answers as the first time, even after the code has expired.
        if let earlier = try await store.redemption(merchantID: merchantID, idempotencyKey: idempotencyKey) {
            return try sameRequest(earlier, code: text, points: points)
        }
        let now = environment.now()
        let code: RedemptionCode
        do {
            code = try signer.verify(text, now: now)
        } catch .forged {
            throw AyumiError.codeForged
        } catch .expired {
            throw AyumiError.codeExpired
        }
        let request = RedemptionRequest(
            merchantID: merchantID, idempotencyKey: idempotencyKey, codeID: code.codeID, residentID: code.residentID, points: points,
            reason: LocalizedText(ja: "\(merchant.name.ja)で利用", en: "Redeemed at \(merchant.name.en)"),
            localDate: LocalDate(instant: now, timeZone: evaluator.timeZone), at: now)
        do {
            let record = try await store.redeem(request)
            logger.info("Redemption accepted", metadata: ["redemption.id": "\(record.id)", "merchant.id": "\(merchantID)"])
            return record
        } catch let error as StoreError {
            throw Self.map(error, request: request)
        }
    }

    func sameRequest(_ earlier: RedemptionRecord, code text: String, points: Int64) throws -> RedemptionRecord {
        let code = try? signer.verify(text, now: .distantPast)
        guard code?.codeID == earlier.codeID, points == earlier.points else { throw AyumiError.idempotencyKeyReused }
        return earlier
    }

    static func map(_ error: StoreError, request: RedemptionRequest) -> AyumiError {
        switch error {
        case .codeAlreadyUsed: .codeAlreadyUsed
        case .insufficientPoints(let balance): .insufficientPoints(balance: balance, requested: request.points)
        case .idempotencyKeyReused: .idempotencyKeyReused
        case .unknownMerchant: .unknownMerchant(request.merchantID)
        case .unknownResident, .residentExists: .unknownResident(request.residentID)
        case .databaseMissing(let path): .databaseMissing(path: path)
        case .databaseNeedsMigration(let path): .databaseNeedsMigration(path: path)
        case .notAnAyumiDatabase(let path): .notAnAyumiDatabase(path: path)
        case .backupTargetUnavailable(let path, let reason): .invalidRequest("cannot create \(path): \(reason)")
        }
    }

    // MARK: Reports and audit

    public func beneficiaryReport(from: LocalDate, to: LocalDate) async throws -> BeneficiaryReport {
        guard from <= to else { throw AyumiError.invalidRequest("from must not be after to") }
        let facts = try await store.beneficiaryFacts(from: from, to: to)
        // Listed: what the program has now. Rules and sponsors that left it, and inactive merchants,
        // appear only when they hold figures for the period, named as their last ruleset named them.
        var pastNames: [BeneficiaryFacts.Section: [String: LocalizedText]] = [.merchant: merchants.mapValues(\.name)]
        for labels in try await store.rulesets().reversed().map({ try Ruleset.Labels(canonicalJSON: $0.content) }) {
            for label in labels.sponsors { pastNames[.sponsor, default: [:]][label.id] = label.name }
            for label in labels.rules { pastNames[.rule, default: [:]][label.id] = label.name }
        }
        let listed: [BeneficiaryFacts.Section: [(id: String, name: LocalizedText)]] = [
            .sponsor: ruleset.sponsors.map { ($0.id, $0.name) },
            .rule: ruleset.rules.map { ($0.id, $0.name) },
            .merchant: merchants.values.filter(\.active).sorted { $0.id < $1.id }.map { ($0.id, $0.name) },
        ]
        let store = self.store
        return try await BeneficiaryReport.make(
            facts: facts, listed: listed, pastNames: pastNames, programName: ruleset.program.name, rulesetVersion: ruleset.version,
            yenPerPoint: ruleset.program.yenPerPoint, groupSizeMin: ruleset.program.reportGroupSizeMin, from: from, to: to) { measure, section, ids in
            try await store.residentCount(measure, section, ids: ids, from: from, to: to)
        }
    }

    public func verifyLedger() async throws -> LedgerAudit { try await store.audit() }

    /// Copies the whole database (ledger, residents, token hashes, the signing key) to a new file,
    /// whichever version of Ayumi wrote it, while the server runs. An existing file is never
    /// overwritten: a backup must not destroy an older one.
    public static func backup(dataDirectory: String, toPath path: String, logger: Logger) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw AyumiError.invalidRequest("\(path) exists; a backup never overwrites a file")
        }
        do {
            try await existingStore(dataDirectory, mode: .existingAnyVersion).backup(toPath: path)
        } catch StoreError.backupTargetUnavailable(let path, let reason) {
            throw AyumiError.invalidRequest("cannot create \(path): \(reason)")
        }
        logger.info("Backup written")
    }
}
