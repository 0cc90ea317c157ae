import AyumiCore
import AyumiLedger
import AyumiRedemption
import AyumiReports
import AyumiRules
import AyumiStore
import Crypto
import Foundation
import Logging

/// Who made a request, from the bearer token they presented.
public struct Principal: Sendable, Hashable {
    public var role: Role
    public var subject: String?

    public init(role: Role, subject: String?) {
        self.role = role
        self.subject = subject
    }
}

/// The use cases of Ayumi, in one place that the HTTP server and the CLI both call. Each method
/// checks its input, asks the pure core for decisions and lets the store record them in one
/// transaction.
public struct Ayumi: Sendable {
    let store: any Store
    public let ruleset: Ruleset
    public let evaluator: Evaluator
    public let merchants: [String: Merchant]
    public let environment: AyumiEnvironment
    let signer: CodeSigner
    let logger: Logger

    public static let eventsPerRequestMax = 1_000
    public static let historyPageSizeMax = 100
    public static let redemptionPointsMax: Int64 = 1_000_000
    public static let signingKeyMetaKey = "redemption_signing_key"

    /// Opens the database in `dataDirectory` (creating it), installs the rules and merchants and
    /// loads the redemption signing key (creating it on first start).
    public static func open(dataDirectory: String, rulesDirectory: String, merchantsFile: String,
                            environment: AyumiEnvironment = .live, logger: Logger) async throws -> Ayumi {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: (dataDirectory as NSString).appendingPathComponent("ayumi.sqlite"))
        let ruleset = try RulesParser.load(directory: rulesDirectory)
        let merchants = try MerchantsParser.load(path: merchantsFile, ruleset: ruleset)
        return try await open(store: store, ruleset: ruleset, merchants: merchants, environment: environment, logger: logger)
    }

    public static func open(store: any Store, ruleset: Ruleset, merchants: [Merchant], environment: AyumiEnvironment,
                            logger: Logger) async throws -> Ayumi {
        try await store.install(ruleset: ruleset, merchants: merchants, at: environment.now())
        let keyText = try await store.metaSetIfAbsent(signingKeyMetaKey, Data(CodeSigner.newRawKey()).base64EncodedString())
        let signer = try CodeSigner(rawKey: Data(base64Encoded: keyText)!)
        let registered = try await store.merchants()
        return Ayumi(store: store, ruleset: ruleset, evaluator: Evaluator(ruleset: ruleset),
                     merchants: Dictionary(uniqueKeysWithValues: registered.map { ($0.id, $0) }),
                     environment: environment, signer: signer, logger: logger)
    }

    public var today: LocalDate { LocalDate(instant: environment.now(), timeZone: evaluator.timeZone) }

    // MARK: Tokens

    /// Mints a bearer token and stores only its SHA-256 hash; the token itself is shown once.
    public func createToken(role: Role, subject: String?) async throws -> String {
        switch role {
        case .merchant:
            guard let subject, merchants[subject] != nil else { throw AyumiError.unknownMerchant(subject ?? "") }
        case .resident:
            guard let subject, try await store.resident(subject) != nil else { throw AyumiError.unknownResident(subject ?? "") }
        case .admin, .ingest:
            guard subject == nil else { throw AyumiError.invalidRequest("\(role.rawValue) tokens speak for no one in particular") }
        }
        let (token, stored) = mintToken(role: role, subject: subject)
        try await store.insertToken(stored)
        return token
    }

    func mintToken(role: Role, subject: String?) -> (String, StoredToken) {
        let token = "ayumi_\(role.rawValue)_" + Base64URL.encode(Data(environment.randomBytes(32)))
        return (token, StoredToken(hash: Self.hash(token), role: role, subject: subject, createdAt: environment.now()))
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public func authenticate(token: String) async throws -> Principal? {
        guard token.utf8.count <= 128 else { return nil }
        return try await store.token(hash: Self.hash(token)).map { Principal(role: $0.role, subject: $0.subject) }
    }

    public func hasTokens() async throws -> Bool { try await store.tokenCount() > 0 }

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
        let (token, stored) = mintToken(role: .resident, subject: residentID)
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
        switch principal.role {
        case .ingest: break
        case .resident:
            if let other = events.first(where: { $0.residentID != principal.subject }) {
                throw AyumiError.forbidden("A resident token can submit only its own events; event '\(other.id)' is for another resident.")
            }
        case .admin, .merchant:
            throw AyumiError.forbidden("Events are submitted with an ingest token or the resident's own token.")
        }
        let now = environment.now()
        let evaluator = self.evaluator
        let expiryMonths = ruleset.program.pointExpiryMonths
        return try await store.ingest(events, at: now, counterKeys: { evaluator.counterKeys(for: $0) }, decide: { event, resident, counters in
            let date = event.localDate(in: evaluator.timeZone)
            let evaluation = resident.map { evaluator.evaluate(event, resident: $0, counters: counters, now: now) }
                ?? Evaluation(outcome: .rejected(LocalizedText(ja: "未登録の利用者です", en: "Unknown resident")))
            return IngestDecision(evaluation: evaluation, localDate: date, expiresOn: Lots.expiry(earnedOn: date, months: expiryMonths))
        })
    }

    // MARK: Balance and history

    public func balance(residentID: String) async throws -> Int64 {
        try await store.balance(residentID: residentID)
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
        guard let merchant = merchants[merchantID] else { throw AyumiError.unknownMerchant(merchantID) }
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
        }
    }

    // MARK: Reports and audit

    public func beneficiaryReport(from: LocalDate, to: LocalDate) async throws -> BeneficiaryReport {
        guard from <= to else { throw AyumiError.invalidRequest("from must not be after to") }
        let facts = try await store.beneficiaryFacts(from: from, to: to)
        return BeneficiaryReport(facts: facts, ruleset: ruleset, merchants: merchants.values.sorted { $0.id < $1.id },
                                 from: from, to: to)
    }

    public func verifyLedger() async throws -> LedgerAudit { try await store.audit() }

    /// Copies the whole database (ledger, residents, token hashes, the signing key) to a new file.
    /// An existing file is never overwritten: a backup must not destroy an older one.
    public func backup(toPath path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw AyumiError.invalidRequest("\(path) exists; a backup never overwrites a file")
        }
        try await store.backup(toPath: path)
        logger.info("Backup written")
    }
}
