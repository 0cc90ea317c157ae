import AyumiCore
import AyumiLedger
import AyumiRules
import Foundation

/// The one storage protocol. Each method is one business operation and one database transaction:
/// it either happens whole or not at all, and it is durable when it returns.
public protocol Store: Sendable {
    /// Records the ruleset (by version) as active and upserts the merchants. Idempotent.
    func install(ruleset: Ruleset, merchants: [Merchant], at: Date) async throws
    func merchants() async throws -> [Merchant]

    func insertToken(_ token: StoredToken) async throws
    func token(hash: String) async throws -> StoredToken?
    func tokenCount() async throws -> Int

    /// Creates the resident with its first token; throws `StoreError.residentExists` if the id is taken.
    func enrol(_ resident: Resident, token: StoredToken) async throws
    func resident(_ id: String) async throws -> Resident?

    /// Writes a batch of events in one transaction. For each event not seen before, the store loads
    /// the resident (nil if not enrolled) and the counters it needs, calls `decide` (the pure rules
    /// engine, run inside the transaction so caps hold under concurrent batches) and records what it
    /// returns.
    func ingest(_ events: [Event], at: Date, counterKeys: @Sendable (Event) -> [CounterKey],
                decide: @Sendable (Event, Resident?, [CounterKey: Counter]) -> IngestDecision) async throws -> [IngestResult]

    func balance(residentID: String) async throws -> Int64
    /// Newest first; `beforeID` is the cursor (exclusive).
    func history(residentID: String, beforeID: Int64?, limit: Int) async throws -> [HistoryEntry]

    /// A redemption recorded earlier under the same merchant and idempotency key, if any.
    func redemption(merchantID: String, idempotencyKey: String) async throws -> RedemptionRecord?
    /// Moves points from the resident to the merchant, drawing lots first-to-expire-first. Returns the
    /// earlier record when the idempotency key was already used with the same code and points.
    func redeem(_ request: RedemptionRequest) async throws -> RedemptionRecord

    func beneficiaryFacts(from: LocalDate, to: LocalDate) async throws -> BeneficiaryFacts
    func audit() async throws -> LedgerAudit

    /// Writes a consistent copy of the whole database to a new file at `path`, while writers go on.
    func backup(toPath path: String) async throws

    /// Sets the value only if the key has none yet; returns the value now stored.
    func metaSetIfAbsent(_ key: String, _ value: String) async throws -> String
}

public enum StoreError: Error, Sendable, Equatable {
    case residentExists
    case codeAlreadyUsed
    case insufficientPoints(balance: Int64)
    case idempotencyKeyReused
    case unknownMerchant
    case unknownResident
}

public struct StoredToken: Sendable, Hashable {
    public var hash: String
    public var role: Role
    /// The resident or merchant id the token speaks for; nil for admin and ingest.
    public var subject: String?
    public var createdAt: Date

    public init(hash: String, role: Role, subject: String?, createdAt: Date) {
        self.hash = hash
        self.role = role
        self.subject = subject
        self.createdAt = createdAt
    }
}

public struct IngestDecision: Sendable {
    public var evaluation: Evaluation
    public var localDate: LocalDate
    /// Last day the awarded points can be spent.
    public var expiresOn: LocalDate

    public init(evaluation: Evaluation, localDate: LocalDate, expiresOn: LocalDate) {
        self.evaluation = evaluation
        self.localDate = localDate
        self.expiresOn = expiresOn
    }
}

public struct IngestResult: Sendable, Hashable {
    public enum Status: String, Sendable, Codable {
        case accepted, duplicate, rejected
    }

    public var eventID: String
    public var status: Status
    public var awards: [Award]
    public var reason: LocalizedText?

    public init(eventID: String, status: Status, awards: [Award], reason: LocalizedText?) {
        self.eventID = eventID
        self.status = status
        self.awards = awards
        self.reason = reason
    }
}

public struct HistoryEntry: Sendable, Hashable {
    public var id: Int64
    public var kind: Transfer.Kind
    /// Signed: positive for awards, negative for redemptions.
    public var points: Int64
    public var ruleID: String?
    public var rulesetVersion: String?
    public var merchantID: String?
    public var reason: LocalizedText
    public var localDate: LocalDate
    public var createdAt: Date
}

public struct RedemptionRequest: Sendable, Hashable {
    public var merchantID: String
    public var idempotencyKey: String
    /// The single-use code's own id; a second redemption with it fails with `codeAlreadyUsed`.
    public var codeID: String
    public var residentID: String
    public var points: Int64
    public var reason: LocalizedText
    public var localDate: LocalDate
    public var at: Date

    public init(merchantID: String, idempotencyKey: String, codeID: String, residentID: String, points: Int64,
                reason: LocalizedText, localDate: LocalDate, at: Date) {
        self.merchantID = merchantID
        self.idempotencyKey = idempotencyKey
        self.codeID = codeID
        self.residentID = residentID
        self.points = points
        self.reason = reason
        self.localDate = localDate
        self.at = at
    }
}

public struct RedemptionRecord: Sendable, Hashable {
    public var id: Int64
    public var merchantID: String
    public var idempotencyKey: String
    public var codeID: String
    public var residentID: String
    public var points: Int64
    /// Points per funding sponsor, traced through the lots the redemption drew from.
    public var funding: [SponsorShare]
    public var createdAt: Date
}

/// The raw figures behind the beneficiary report for a period of local days.
public struct BeneficiaryFacts: Sendable, Hashable {
    public struct SponsorRow: Sendable, Hashable {
        public var sponsorID: String
        public var pointsAwarded: Int64
        public var pointsRedeemed: Int64
        public var residents: Int64
    }

    public struct MerchantRow: Sendable, Hashable {
        public var merchantID: String
        public var pointsRedeemed: Int64
        public var redemptions: Int64
        public var residents: Int64
    }

    public struct RuleRow: Sendable, Hashable {
        public var ruleID: String
        public var pointsAwarded: Int64
        public var awards: Int64
        public var residents: Int64
    }

    public var sponsors: [SponsorRow]
    public var merchants: [MerchantRow]
    public var rules: [RuleRow]
    public var residentsReached: Int64
}
