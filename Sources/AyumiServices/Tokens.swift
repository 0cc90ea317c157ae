import AyumiCore
import AyumiRedemption
import AyumiRules
import AyumiStore
import Crypto
import Foundation

/// Access: bearer tokens minted (only their hashes stored), listed, revoked, and checked on every
/// request.
public struct Tokens: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    var store: any Store { dependencies.store }

    /// The longest lifetime `--expires-in` gives a token: ten years.
    public static let lifetimeSecondsMax: Int64 = 3_650 * 86_400
    /// The feed name of the general ingest token minted on first start.
    public static let firstStartFeed = "default"

    /// Mints a bearer token and stores only its SHA-256 hash; the token itself is shown once.
    /// Merchant tokens need an active merchant, resident tokens an enrolled resident, ingest tokens
    /// a feed name (`transit-operator`): the source their events' ids are unique within.
    public func create(role: Role, subject: String?, feed: String? = nil, lifetimeSeconds: Int64? = nil) async throws -> String {
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
            guard (1...Self.lifetimeSecondsMax).contains(lifetimeSeconds) else {
                throw AyumiError.invalidRequest("a token lives from 1 second to \(Self.lifetimeSecondsMax / 86_400) days")
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

    /// Every token, or those of one role, oldest first; only hashes are stored, so none can be shown.
    public func list(role: Role?) async throws -> [StoredToken] { try await store.tokens(role: role) }

    /// Revokes a token at once (idempotent); throws `notFound` for an unknown id.
    public func revoke(id: Int64) async throws -> StoredToken {
        guard let token = try await store.revokeToken(id: id, at: dependencies.environment.now()) else {
            throw AyumiError.notFound("Token \(id)")
        }
        dependencies.logger.info("Token revoked", metadata: ["token.id": "\(id)"])
        return token
    }

    /// Whether any token was ever minted: a server without one is on its first start.
    public func exist() async throws -> Bool { try await store.tokenCount() > 0 }

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
    public func createFirstStart(keep: (FirstStartTokens) throws -> Void) async throws {
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
}
