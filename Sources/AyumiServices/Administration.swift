import AyumiCore
import AyumiLedger
import AyumiRedemption
import AyumiRules
import AyumiStore
import Crypto
import Foundation
import Logging

/// Residents' enrolment and access: tokens minted, listed, revoked and checked.
public struct Administration: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    var store: any Store { dependencies.store }

    /// The longest lifetime `--expires-in` gives a token: ten years.
    public static let tokenLifetimeSecondsMax: Int64 = 3_650 * 86_400
    /// The feed name of the general ingest token minted on first start.
    public static let firstStartFeed = "default"

    // MARK: Residents

    public func enrol(residentID: String, birthYear: Int, district: String) async throws -> (Resident, token: String) {
        let today = dependencies.today
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
        dependencies.logger.info("Resident enrolled", metadata: ["resident.id": "\(residentID)"])
        return (resident, token)
    }

    /// Sets a resident's tags and consents (each replaces the list it names), for rules that
    /// target a group or need a consent. Labels are identifiers; at most `Resident.labelsMax` each.
    public func label(residentID: String, tags: [String], consents: [String]) async throws -> Resident {
        for (name, labels) in [("tags", tags), ("consents", consents)] {
            guard labels.count <= Resident.labelsMax else { throw AyumiError.invalidRequest("\(name): at most \(Resident.labelsMax)") }
            if let bad = labels.first(where: { !Identifier.isValid($0) }) {
                throw AyumiError.invalidRequest("\(name): '\(bad.prefix(64))' is not 1-64 letters, digits or -_.:")
            }
        }
        guard let resident = try await store.label(residentID: residentID, tags: Array(Set(tags)).sorted(),
                                                   consents: Array(Set(consents)).sorted()) else {
            throw AyumiError.unknownResident(residentID)
        }
        dependencies.logger.info("Resident labelled", metadata: ["resident.id": "\(residentID)"])
        return resident
    }

    /// Runs a prize draw of the program in force: the residents who earned at least its
    /// `pointsMin` in its period and meet its conditions are eligible; `prizes` of them win, picked
    /// from the published `seed` (`Draw.winners`), and their prizes post to the ledger with the
    /// record of the draw, in one transaction. A draw runs once its period can no longer change
    /// (after the days late events may still arrive) and only once: running it again with the same
    /// seed answers the recorded result (`rerun`), with another seed is refused.
    public func runDraw(id: String, seed: String) async throws -> (draw: Draw, record: DrawRecord, rerun: Bool) {
        let ruleset = dependencies.program.current.ruleset
        guard let draw = ruleset.draws.first(where: { $0.id == id }) else { throw AyumiError.notFound("Draw '\(id)'") }
        guard !seed.isEmpty, seed.utf8.count <= 256 else { throw AyumiError.invalidRequest("--seed: 1 to 256 bytes of published text") }
        if let earlier = try await store.drawRecord(id) {
            guard earlier.seed == seed else {
                throw AyumiError.invalidRequest("draw '\(id)' was run on \(earlier.runAt.formatted(.iso8601)) with seed '\(earlier.seed)'")
            }
            return (draw, earlier, true)
        }
        let today = dependencies.today
        let closes = draw.to.adding(days: ruleset.program.eventAgeDaysMax)
        guard today > closes else {
            throw AyumiError.invalidRequest("draw '\(id)': events of its period (to \(draw.to)) may arrive until \(closes); run it from \(closes.adding(days: 1))")
        }
        let eligible = try await store.drawEntrants(from: draw.from, to: draw.to)
            .filter { $0.points >= draw.pointsMin && draw.admits($0.resident) }.map(\.resident.id)
        let record = DrawRecord(draw: id, seed: seed, eligible: eligible.count, winners: draw.winners(eligible: eligible, seed: seed),
                                runAt: dependencies.environment.now())
        let recorded = try await store.recordDraw(record, prizePoints: draw.prizePoints, sponsorID: draw.sponsor, ruleID: draw.ruleID,
                                                  rulesetVersion: ruleset.version, day: today,
                                                  expiresOn: Lots.expiry(earnedOn: today, months: ruleset.program.pointExpiryMonths))
        // Another run may have recorded the draw first: with another seed, this one is refused.
        guard recorded.seed == seed else {
            throw AyumiError.invalidRequest("draw '\(id)' was run on \(recorded.runAt.formatted(.iso8601)) with seed '\(recorded.seed)'")
        }
        dependencies.logger.info("Draw run", metadata: ["draw": "\(id)", "draw.eligible": "\(recorded.eligible)", "draw.winners": "\(recorded.winners.count)"])
        return (draw, recorded, recorded != record)
    }

    // MARK: Tokens

    /// Mints a bearer token and stores only its SHA-256 hash; the token itself is shown once.
    /// Merchant tokens need an active merchant, resident tokens an enrolled resident, ingest tokens
    /// a feed name (`transit-operator`): the source their events' ids are unique within.
    public func createToken(role: Role, subject: String?, feed: String? = nil, lifetimeSeconds: Int64? = nil) async throws -> String {
        let (token, stored) = try await newToken(role: role, subject: subject, feed: feed, lifetimeSeconds: lifetimeSeconds)
        try await store.insertTokens([stored])
        dependencies.logger.info("Token created", metadata: ["token.role": "\(role.rawValue)"])
        return token
    }

    func newToken(role: Role, subject: String?, feed: String?, lifetimeSeconds: Int64?) async throws -> (String, StoredToken) {
        switch role {
        case .merchant:
            guard let subject, let merchant = dependencies.program.current.merchants[subject] else {
                throw AyumiError.unknownMerchant(subject ?? "")
            }
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
        let now = dependencies.environment.now()
        let token = "ayumi_\(role.rawValue)_" + Base64URL.encode(Data(dependencies.environment.randomBytes(32)))
        return (token, StoredToken(hash: Self.hash(token), role: role, subject: subject, feed: feed, createdAt: now,
                                   expiresAt: lifetimeSeconds.map { now.addingTimeInterval(TimeInterval($0)) }))
    }

    /// Lowercase hex of the token's SHA-256. Written out by hand: `String(format:)` per byte took
    /// 5% of a bench's time, and every request hashes its token.
    static func hash(_ token: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(token.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The principal of a token that is known, neither revoked nor expired, and (for a merchant)
    /// speaks for an active merchant; nil otherwise. Read from the database on every request, so a
    /// revocation takes effect at once.
    public func authenticate(token: String) async throws -> Principal? {
        guard token.utf8.count <= 128, let stored = try await store.token(hash: Self.hash(token)),
              stored.isValid(at: dependencies.environment.now()) else { return nil }
        if stored.role == .merchant, dependencies.program.current.merchants[stored.subject ?? ""]?.active != true { return nil }
        return Principal(role: stored.role, subject: stored.subject, feed: stored.feed, tokenID: stored.id)
    }

    /// Gives back memory the store keeps for speed, if nothing was written since the last call.
    public func releaseMemoryIfIdle() async -> Bool { await store.releaseMemoryIfIdle() }

    /// Every token, or those of one role, oldest first; only hashes are stored, so none can be shown.
    public func tokens(role: Role?) async throws -> [StoredToken] { try await store.tokens(role: role) }

    /// Revokes a token at once (idempotent); throws `notFound` for an unknown id.
    public func revokeToken(id: Int64) async throws -> StoredToken {
        guard let token = try await store.revokeToken(id: id, at: dependencies.environment.now()) else {
            throw AyumiError.notFound("Token \(id)")
        }
        dependencies.logger.info("Token revoked", metadata: ["token.id": "\(id)"])
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

    /// Mints an admin token, an ingest token for the `default` feed, one for each feed the program
    /// names, and a merchant token (the first active merchant); hands them to `keep` (which writes
    /// them where the operator will find them) and only then stores their hashes: if `keep` fails,
    /// nothing is stored and the next start tries again.
    public func createFirstStartTokens(keep: (FirstStartTokens) throws -> Void) async throws {
        let program = dependencies.program.current
        guard let merchantID = program.merchants.values.filter(\.active).map(\.id).sorted().first else {
            throw AyumiError.invalidRequest("no active merchant is registered")
        }
        var feedNames: [String] = []
        for kind in Event.Kind.allCases {
            for case .feed(let name) in program.ruleset.program.submitters[kind.rawValue] ?? [] where !feedNames.contains(name) {
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
        dependencies.logger.info("First-start tokens created")
    }

    // MARK: The program

    /// Who put a ruleset in force from the files in `Rules/` (at start or on SIGHUP); `start` marks
    /// versions an older Ayumi installed from its files.
    static let fromFiles: Set<String> = ["Rules/", "start"]

    /// Puts a new program in force without a restart: the ruleset is recorded (every version is
    /// kept) and, when `Rules/` changed since it was last put in force from the files, put in force
    /// from its `effectiveFrom`, or from now on (events of earlier times are still judged by the rulesets in force then; a
    /// version put in force through the admin API stays in force across restarts with unchanged
    /// files). The merchant registry is replaced (a merchant left out is kept, inactive), and every
    /// use case reads the new program from its next call on.
    public func install(ruleset: Ruleset, merchants: [Merchant]) async throws {
        let now = dependencies.environment.now()
        try await store.install(ruleset: StoredRuleset(version: ruleset.version, content: ruleset.canonicalJSON), merchants: merchants, at: now)
        var activations = try await store.activations()
        if activations.last(where: { Self.fromFiles.contains($0.activatedBy) })?.ruleset.version != ruleset.version {
            // `effectiveFrom` in program.yaml schedules the files' version, ahead or back; else from now.
            let effectiveFrom = ruleset.program.effectiveFrom.map { Date(timeIntervalSince1970: Double($0)) } ?? now
            try await store.activate(version: ruleset.version, effectiveFrom: effectiveFrom, at: now, by: "Rules/")
            dependencies.logger.info("Ruleset put in force", metadata: ["ruleset.version": "\(ruleset.version)",
                                                                        "effectiveFrom": "\(effectiveFrom)"])
            activations = try await store.activations()
        }
        try await reloadProgram(activations, known: ruleset)
        dependencies.logger.info("Program installed", metadata: ["ruleset.version": "\(ruleset.version)"])
    }

    /// Rebuilds the program from the store's timeline: the ruleset in force now, and every earlier one.
    func reloadProgram(_ activations: [Activation], known: Ruleset? = nil) async throws {
        guard let inForce = activations.inForce(at: dependencies.environment.now()) else { return }
        let ruleset = if let known, known.version == inForce.ruleset.version { known } else { try Ruleset(canonicalJSON: inForce.ruleset.content) }
        dependencies.program.replace(with: ActiveProgram.Snapshot.load(activations, ruleset: ruleset, merchants: try await store.merchants(),
                                                                       logger: dependencies.logger))
    }

    /// Reloads the program when the ruleset in force now is not the one loaded: a ruleset activated
    /// for a time that has come. Returns whether it reloaded.
    @discardableResult
    public func reloadProgramIfScheduled() async throws -> Bool {
        let activations = try await store.activations()
        guard let inForce = activations.inForce(at: dependencies.environment.now()),
              inForce.ruleset.version != dependencies.program.current.ruleset.version else { return false }
        try await reloadProgram(activations)
        dependencies.logger.info("Scheduled ruleset in force", metadata: ["ruleset.version": "\(inForce.ruleset.version)"])
        return true
    }

    /// The ruleset in force now and every activation, in the order they take effect.
    public func rulesHistory() async throws -> (inForce: String, activations: [Activation]) {
        let activations = try await store.activations()
        return (activations.inForce(at: dependencies.environment.now())?.ruleset.version ?? dependencies.program.current.ruleset.version,
                activations)
    }

    /// Checks an uploaded program (file name → text, as in `Rules/`: `program.yaml`, `sponsors.yaml`,
    /// `zones.geojson`, `calendar/*.yaml`, one file per rule) as `ayumi rules check` does, against
    /// the merchants registered now, and keeps it (not in force) so it can be activated. Returns its
    /// version, its rule count and its warnings.
    public func validateRules(files: [String: String]) async throws -> (version: String, rules: Int, warnings: [String]) {
        let (ruleset, warnings): (Ruleset, [RulesDiagnostic])
        do {
            (ruleset, warnings) = try RulesParser.check(files: files)
        } catch {
            throw AyumiError.rulesInvalid(error.diagnostics.map(\.description))
        }
        let homeless = dependencies.program.current.merchants.values.filter { $0.active && ruleset.zone($0.zoneID) == nil }.sorted { $0.id < $1.id }
        guard homeless.isEmpty else {
            throw AyumiError.rulesInvalid(homeless.map { "Merchants/merchants.yaml: error: merchant \($0.id) is in zone '\($0.zoneID)', which these rules do not have" })
        }
        try await store.keep(ruleset: StoredRuleset(version: ruleset.version, content: ruleset.canonicalJSON), at: dependencies.environment.now())
        dependencies.logger.info("Ruleset validated", metadata: ["ruleset.version": "\(ruleset.version)"])
        return (ruleset.version, ruleset.rules.count, warnings.map(\.description))
    }

    /// Puts a validated version in force from `effectiveFrom` (past or future), recorded with the
    /// admin token that did it. Events of earlier times keep the rulesets in force then.
    public func activateRules(version: String, effectiveFrom: Date, by principal: Principal) async throws {
        guard let stored = try await store.rulesets().first(where: { $0.version == version }) else { throw AyumiError.unknownRuleset(version) }
        // A version an older Ayumi stored in a shape this one cannot read would leave no program in force.
        guard (try? Ruleset(canonicalJSON: stored.content)) != nil else {
            throw AyumiError.rulesInvalid(["version \(version) was stored by an older Ayumi in a form this one cannot read; validate its files again"])
        }
        let by = principal.tokenID.map { "admin token \($0)" } ?? "admin"
        try await store.activate(version: version, effectiveFrom: effectiveFrom, at: dependencies.environment.now(), by: by)
        try await reloadProgram(try await store.activations())
        dependencies.logger.info("Ruleset activated", metadata: ["ruleset.version": "\(version)", "by": "\(by)"])
    }

    /// Throws unless the database answers a read; what `/healthz` reports.
    public func checkHealth() async throws { _ = try await store.tokenCount() }

    /// What the rules in force make of one event (`ayumi rules explain`), judged against the
    /// resident and the counters as stored now and the clock now. Nothing is written.
    public func explain(_ event: Event, from submitter: Submitter) async throws -> Explanation {
        let now = dependencies.environment.now()
        let program = dependencies.program.current, evaluator = program.evaluator(for: event)
        guard let resident = try await dependencies.store.resident(event.residentID) else {
            throw AyumiError.unknownResident(event.residentID)
        }
        // As ingest judges it: who may send it, how late, and the budgets, by the program in force now.
        let inForce = program.evaluator(at: now), admitted = inForce.admitted
        let counters = try await dependencies.store.counters(evaluator.counterKeys(for: event, now: now, admitted: admitted))
        var explanation = evaluator.explain(event, from: submitter, resident: resident, counters: counters, now: now, admitted: admitted)
        if let rejection = inForce.admission(event, from: submitter, now: now) { explanation.rejection = rejection }
        explanation.alreadyRecorded = try await dependencies.store.recordedEvent(event.id, from: submitter) == true
        return explanation
    }
}
