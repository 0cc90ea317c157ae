import AyumiCore
import AyumiLedger
import Foundation

/// The one storage protocol. Each method is one business operation and one database transaction:
/// it either happens whole or not at all, and it is durable when it returns.
public protocol Store: Sendable {
    /// Records the ruleset (by version; every version is kept) as active, and makes `merchants` the
    /// registry: merchants not in the list are kept (their past redemptions stay) but marked inactive.
    /// Idempotent.
    func install(ruleset: StoredRuleset, merchants: [Merchant], at: Date) async throws
    /// Keeps a ruleset version (if new) without putting it in force: an uploaded, checked program
    /// waiting to be activated.
    func keep(ruleset: StoredRuleset, at: Date) async throws
    /// Records that `version` (installed before) is in force from `effectiveFrom`, who put it in
    /// force and when, and makes it the active ruleset. Past activations are never changed.
    func activate(version: String, effectiveFrom: Date, at: Date, by: String) async throws
    /// Every activation, in the order they were made. At an instant, the ruleset in force is that of
    /// the last activation made whose `effectiveFrom` is not after it: a later decision overrides
    /// earlier ones from its time on, whether it looks back or ahead.
    func activations() async throws -> [Activation]
    /// The ruleset the server last installed; nil in a database no server has started on.
    func activeRuleset() async throws -> StoredRuleset?
    /// Every ruleset version ever installed, newest first: rules and sponsors that left the program
    /// still label their past awards in reports.
    func rulesets() async throws -> [StoredRuleset]
    /// Every merchant ever registered, active or not, by id.
    func merchants() async throws -> [Merchant]
    /// Adds or updates merchants through the admin API (or an import): the registry file does not
    /// deactivate them at the next start. A suspension is left as it is.
    func saveMerchants(_ merchants: [Merchant]) async throws
    /// Suspends or reinstates a merchant; false when no such merchant is registered.
    func setSuspended(merchantID: String, _ suspended: Bool) async throws -> Bool
    /// Gives back memory kept only for speed (page caches, idle read connections) when no write of
    /// the hot path (enrolment, ingest, redemption) happened since the previous call; a server calls
    /// it every few seconds, so that an idle server is small again after a busy hour. It may take
    /// more than one quiet call, and reads alone do not count as activity. Returns whether it
    /// released anything.
    func releaseMemoryIfIdle() async -> Bool

    /// Stores new tokens (hashes only) in one transaction.
    func insertTokens(_ tokens: [StoredToken]) async throws
    func token(hash: String) async throws -> StoredToken?
    /// Every token, or those of one role, oldest first.
    func tokens(role: Role?) async throws -> [StoredToken]
    /// Marks the token revoked at `at` unless it already is; returns it as stored now, nil if unknown.
    func revokeToken(id: Int64, at: Date) async throws -> StoredToken?
    func tokenCount() async throws -> Int

    /// Creates the resident with its first token; throws `StoreError.residentExists` if the id is taken.
    func enrol(_ resident: Resident, token: StoredToken) async throws
    func resident(_ id: String) async throws -> Resident?
    /// Replaces the resident's tags and consents; returns the resident as stored now, nil if not enrolled.
    func label(residentID: String, tags: [String], consents: [String]) async throws -> Resident?

    /// Writes a batch of events from one submitter in one transaction. An event is a duplicate when
    /// the same source already sent its id (ids are unique per source, not globally). For each event
    /// the store loads the resident (nil if not enrolled) and the counters it needs, calls `decide`
    /// (the pure rules engine, run inside the transaction so caps hold under concurrent batches)
    /// and records what it returns, unless the event turns out to be a duplicate: a store may
    /// learn that only when it writes (the SQLite store's insert is its idempotency check), so
    /// `decide` may run for a duplicate and its decision is then discarded.
    func ingest(_ events: [Event], from submitter: Submitter, at: Date, counterKeys: @escaping @Sendable (Event) -> [CounterKey],
                decide: @escaping @Sendable (Event, Resident?, [CounterKey: Counter]) -> IngestDecision) async throws -> [IngestResult]

    /// Residents with the points they were awarded on the local days `from...to`, prizes of draws
    /// left out: who may enter a draw.
    func drawEntrants(from: LocalDate, to: LocalDate) async throws -> [(resident: Resident, points: Int64)]
    /// Records a draw and posts its prizes (one award each, from `sponsorID`, under `ruleID`) in one
    /// transaction. A draw is run once: if `record.draw` was run before, nothing changes and the
    /// earlier record is returned.
    func recordDraw(_ record: DrawRecord, prizePoints: Int64, sponsorID: String, ruleID: String, rulesetVersion: String,
                    day: LocalDate, expiresOn: LocalDate) async throws -> DrawRecord
    func drawRecord(_ draw: String) async throws -> DrawRecord?

    /// Whether `submitter` sent an event with this id before: true if it was accepted, false if it
    /// was rejected (it may be sent again), nil if never.
    func recordedEvent(_ id: String, from submitter: Submitter) async throws -> Bool?

    /// The counters as stored now (absent ones are zero and left out): what `rules explain` judges
    /// an event against, read without writing anything.
    func counters(_ keys: [CounterKey]) async throws -> [CounterKey: Counter]


    /// The resident's lots that still hold points (spendable, pending, or past their last day and not
    /// yet returned by the expiry job); none for a resident not enrolled. `Lots.balance` reads them.
    func openLots(residentID: String) async throws -> [Lot]
    /// Returns the unspent points of up to `limit` lots whose last day is before `asOf` to the
    /// sponsors that funded them (one transfer each, kind 4), in one transaction. Each point
    /// expires once, however often and from however many processes it runs: call it until it
    /// expires nothing.
    func expireLots(before asOf: LocalDate, at: Date, limit: Int) async throws -> ExpiryRun
    /// Newest first; `beforeID` is the cursor (exclusive).
    func history(residentID: String, beforeID: Int64?, limit: Int) async throws -> [HistoryEntry]

    /// A redemption recorded earlier under the same merchant and idempotency key, if any.
    func redemption(merchantID: String, idempotencyKey: String) async throws -> RedemptionRecord?
    /// Moves points from the resident to the merchant, drawing lots first-to-expire-first. Returns the
    /// earlier record when the idempotency key was already used with the same code and points.
    func redeem(_ request: RedemptionRequest) async throws -> RedemptionRecord

    /// Issues a card to an enrolled resident, revoking any card issued before (a lost card stops
    /// working); false, and nothing changed, when the number is taken. Throws `unknownResident`.
    func issueCard(_ card: NewCard, residentID: String, at: Date) async throws -> Bool
    /// A card by its number, revoked or not.
    func card(number: String) async throws -> StoredCard?
    /// Counts a PIN try before the PIN is checked (so tries sent at once cannot pass the lock): the
    /// try that reaches `lockAfter` locks the card. Returns the card as stored before the try when it
    /// was counted, nil when the card is unknown, replaced or locked already.
    func chargePINTry(number: String, lockAfter: Int) async throws -> StoredCard?
    /// After a right PIN: the tries counted are cleared and the card is unlocked.
    func clearWrongPINs(number: String) async throws
    /// Unlocks the resident's card and clears its wrong PINs; false when the resident has no card.
    func unlockCard(residentID: String) async throws -> Bool

    /// The merchant's redemptions of a local day, newest first, with what was refunded of each: what
    /// the till's page lists (no resident is named).
    func redemptions(merchantID: String, on day: LocalDate) async throws -> [MerchantRedemption]
    /// Gives back points of a redemption to the lots they were drawn from (the latest to expire
    /// first), or to the lot's sponsor for a lot past its last day; never more than was redeemed,
    /// over any number of refunds. Returns the earlier refund when the merchant's idempotency key was
    /// used for the same redemption and points.
    func refund(_ request: RefundRequest) async throws -> RefundRecord

    /// A month settled before (frozen), if any.
    func settlement(month: Int) async throws -> StoredSettlement?
    /// Freezes a month's statement; when it was settled before, returns that one unchanged.
    func saveSettlement(_ settlement: StoredSettlement) async throws -> StoredSettlement

    func audit() async throws -> LedgerAudit

    /// The keys that sign redemption codes, oldest first. When there is none and `createIfNone` is
    /// given, it is stored as key 1 first (the first start).
    func signingKeys(createIfNone: Data?, at: Date) async throws -> [StoredSigningKey]
    /// Stores a new signing key under the next number; returns every key, oldest first.
    func addSigningKey(_ raw: Data, at: Date) async throws -> [StoredSigningKey]
    /// The store's number for an enrolled resident: what a redemption code carries, sealed.
    func residentReference(_ residentID: String) async throws -> Int64?
    /// Keeps the numeric fallback `number` for `code` (numbers of codes that expired a day before
    /// `at` are dropped first); false when the number is still kept for another code.
    func keepCodeNumber(_ number: String, code: String, expiresAt: Date, at: Date) async throws -> Bool
    /// The code behind a numeric fallback, expired or not (kept a day after it expires).
    func code(number: String) async throws -> String?
}

/// A settled month as it was sent: its statement, frozen.
public struct StoredSettlement: Sendable, Hashable {
    /// year × 12 + month − 1.
    public var month: Int
    public var content: String
    public var settledAt: Date

    public init(month: Int, content: String, settledAt: Date) {
        self.month = month
        self.content = content
        self.settledAt = settledAt
    }
}

/// A key that signs redemption codes (32 raw bytes of an Ed25519 private key).
public struct StoredSigningKey: Sendable, Hashable {
    public var id: Int64
    public var raw: Data
    public var createdAt: Date

    public init(id: Int64, raw: Data, createdAt: Date) {
        self.id = id
        self.raw = raw
        self.createdAt = createdAt
    }
}

public enum StoreError: Error, Sendable, Equatable {
    case residentExists
    case codeAlreadyUsed
    case insufficientPoints(balance: Int64)
    case idempotencyKeyReused
    case unknownMerchant
    case unknownResident
    /// The merchant is suspended by the city's staff.
    case merchantSuspended
    /// The redemption would take the merchant past its daily limit: what is left of it today.
    case merchantDailyLimit(left: Int64)
    /// The redemption would take the resident past their daily limit at this merchant.
    case residentDailyLimitAtMerchant(left: Int64)
    /// No redemption with that id was made by that merchant.
    case unknownRedemption
    case refundTooLate(days: Int)
    /// More than is left to refund of the redemption.
    case refundExceedsRedemption(refundable: Int64)
    /// A maintenance command found no database where it looked (it never creates one).
    case databaseMissing(path: String)
    /// The database was written by an older Ayumi; `ayumi serve` migrates it (after a backup).
    case databaseNeedsMigration(path: String)
    /// The file is empty, not SQLite, or a SQLite database Ayumi did not create.
    case notAnAyumiDatabase(path: String)
    /// A backup's target exists already or cannot be created.
    case backupTargetUnavailable(path: String, reason: String)
    /// Adding an award to its counter would pass the rule's cap: another writer took the room
    /// between the read and the write. The batch changes nothing; sending it again re-evaluates it.
    case counterLimitExceeded
    /// An award names a ruleset version the store never installed.
    case rulesetNotInstalled(String)
}

public struct StoredToken: Sendable, Hashable {
    /// Assigned by the store; shown by `tokens list` and used by `tokens revoke`. 0 until stored.
    public var id: Int64
    public var hash: String
    public var role: Role
    /// The resident or merchant id the token speaks for; nil for admin and ingest.
    public var subject: String?
    /// The feed name of an ingest token: the source half of its events' idempotency keys.
    public var feed: String?
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(id: Int64 = 0, hash: String, role: Role, subject: String?, feed: String? = nil, createdAt: Date,
                expiresAt: Date? = nil, revokedAt: Date? = nil) {
        self.id = id
        self.hash = hash
        self.role = role
        self.subject = subject
        self.feed = feed
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Neither revoked nor past its expiry at `now`.
    public func isValid(at now: Date) -> Bool {
        revokedAt == nil && expiresAt.map { now < $0 } ?? true
    }
}

/// A prize draw as run: the published seed and the count of eligible residents are kept, so anyone
/// can run it again from the same ledger and get the same winners.
public struct DrawRecord: Sendable, Hashable {
    public var draw: String
    public var seed: String
    public var eligible: Int
    public var winners: [String]
    public var runAt: Date

    public init(draw: String, seed: String, eligible: Int, winners: [String], runAt: Date) {
        self.draw = draw
        self.seed = seed
        self.eligible = eligible
        self.winners = winners
        self.runAt = runAt
    }
}

/// A ruleset put in force from an instant.
public struct Activation: Sendable, Hashable {
    public var ruleset: StoredRuleset
    public var effectiveFrom: Date
    public var activatedAt: Date
    public var activatedBy: String

    public init(ruleset: StoredRuleset, effectiveFrom: Date, activatedAt: Date, activatedBy: String) {
        self.ruleset = ruleset
        self.effectiveFrom = effectiveFrom
        self.activatedAt = activatedAt
        self.activatedBy = activatedBy
    }
}

extension [Activation] {
    /// The activation in force at `instant` (the last made that covers it; before every one, the
    /// one that starts earliest, as `ActiveProgram.Snapshot.evaluator(at:)` judges events):
    /// `activations()` is in the order they were made.
    public func inForce(at instant: Date) -> Activation? {
        last { $0.effectiveFrom <= instant } ?? self.min { $0.effectiveFrom < $1.effectiveFrom }
    }
}

/// A ruleset as the store keeps it: its version and its content as the rules engine serialised it.
/// The store never reads the content, so it does not depend on the rules engine.
public struct StoredRuleset: Sendable, Hashable {
    public var version: String
    public var content: String

    public init(version: String, content: String) {
        self.version = version
        self.content = content
    }
}

/// What one run of the expiry job did.
public struct ExpiryRun: Sendable, Hashable {
    public var lots: Int
    public var points: Int64

    public init(lots: Int, points: Int64) {
        self.lots = lots
        self.points = points
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

    /// The answer for an id its source sent before: nothing awarded, no reason.
    public static func duplicate(_ eventID: String) -> IngestResult {
        IngestResult(eventID: eventID, status: .duplicate, awards: [], reason: nil)
    }

    public init(eventID: String, status: Status, awards: [Award], reason: LocalizedText?) {
        self.eventID = eventID
        self.status = status
        self.awards = awards
        self.reason = reason
    }
}

/// One line of a resident's history: an award (all its sponsors' shares together) or a
/// redemption (all its lot draws together). The reason is not stored: it is rendered from the rule
/// and the event in the ruleset version that made the award.
public struct HistoryEntry: Sendable, Hashable {
    /// The cursor: the lowest transfer id of the entry.
    public var id: Int64
    public var kind: Transfer.Kind
    /// Signed: positive for awards, negative for redemptions.
    public var points: Int64
    public var ruleID: String?
    public var rulesetVersion: String?
    /// The event an award was made for.
    public var event: Event.Detail?
    public var merchantID: String?
    public var localDate: LocalDate
    public var createdAt: Date
    /// The sentence an older Ayumi stored for the entry, kept as it was said; nil for entries whose
    /// reason is rendered.
    public var recordedReason: LocalizedText?
    /// Which of its rule's limits reduced an award (nil: paid in full).
    public var cappedBy: Int?
    /// An award held as pending: the first day it can be spent.
    public var availableOn: LocalDate?
    /// A refund's points that went to the sponsors, not to the resident: their lots were past their
    /// last day.
    public var toSponsors: Int64

    public init(id: Int64, kind: Transfer.Kind, points: Int64, ruleID: String?, rulesetVersion: String?, event: Event.Detail?,
                merchantID: String?, localDate: LocalDate, createdAt: Date, recordedReason: LocalizedText? = nil, cappedBy: Int? = nil,
                availableOn: LocalDate? = nil, toSponsors: Int64 = 0) {
        self.toSponsors = toSponsors
        self.id = id
        self.kind = kind
        self.points = points
        self.ruleID = ruleID
        self.rulesetVersion = rulesetVersion
        self.event = event
        self.merchantID = merchantID
        self.localDate = localDate
        self.createdAt = createdAt
        self.recordedReason = recordedReason
        self.cappedBy = cappedBy
        self.availableOn = availableOn
    }
}

public struct RedemptionRequest: Sendable, Hashable {
    public var merchantID: String
    public var idempotencyKey: String
    /// The single-use code's own id; a second redemption with it fails with `codeAlreadyUsed`.
    public var codeID: String
    /// The store's number for the resident (`residentReference(_:)`), as the code carries it.
    public var residentReference: Int64
    public var points: Int64
    public var localDate: LocalDate
    public var at: Date

    public init(merchantID: String, idempotencyKey: String, codeID: String, residentReference: Int64, points: Int64,
                localDate: LocalDate, at: Date) {
        self.merchantID = merchantID
        self.idempotencyKey = idempotencyKey
        self.codeID = codeID
        self.residentReference = residentReference
        self.points = points
        self.localDate = localDate
        self.at = at
    }
}

public struct NewCard: Sendable, Hashable {
    public var number: String
    public var pinHash: String
    public var pinSalt: String

    public init(number: String, pinHash: String, pinSalt: String) {
        self.number = number
        self.pinHash = pinHash
        self.pinSalt = pinSalt
    }
}

public struct StoredCard: Sendable, Hashable {
    public var number: String
    /// The store's number for the resident, as a code carries it.
    public var residentReference: Int64
    public var pinHash: String
    public var pinSalt: String
    public var failures: Int
    public var locked: Bool
    public var revoked: Bool

    public init(number: String, residentReference: Int64, pinHash: String, pinSalt: String, failures: Int, locked: Bool, revoked: Bool) {
        self.number = number
        self.residentReference = residentReference
        self.pinHash = pinHash
        self.pinSalt = pinSalt
        self.failures = failures
        self.locked = locked
        self.revoked = revoked
    }
}

public struct MerchantRedemption: Sendable, Hashable {
    public var id: Int64
    public var points: Int64
    public var refunded: Int64
    public var createdAt: Date

    public init(id: Int64, points: Int64, refunded: Int64, createdAt: Date) {
        self.id = id
        self.points = points
        self.refunded = refunded
        self.createdAt = createdAt
    }
}

public struct RefundRequest: Sendable, Hashable {
    public var merchantID: String
    public var redemptionID: Int64
    public var idempotencyKey: String
    /// Nil: everything not refunded yet.
    public var points: Int64?
    public var localDate: LocalDate
    /// A redemption more than this many days before `localDate` is not refunded.
    public var refundDaysMax: Int
    public var at: Date

    public init(merchantID: String, redemptionID: Int64, idempotencyKey: String, points: Int64?, localDate: LocalDate, refundDaysMax: Int, at: Date) {
        self.merchantID = merchantID
        self.redemptionID = redemptionID
        self.idempotencyKey = idempotencyKey
        self.points = points
        self.localDate = localDate
        self.refundDaysMax = refundDaysMax
        self.at = at
    }
}

public struct RefundRecord: Sendable, Hashable {
    public var id: Int64
    public var redemptionID: Int64
    public var merchantID: String
    public var idempotencyKey: String
    public var points: Int64
    /// Per sponsor, the refunded points by the lots they return to (all of them, past expiry or not).
    public var funding: [SponsorShare]
    /// Per sponsor, the part that went straight back to the sponsor: lots past their last day.
    public var expired: [SponsorShare]
    /// What the redemption has left to refund after this one.
    public var refundable: Int64
    public var createdAt: Date

    public init(id: Int64, redemptionID: Int64, merchantID: String, idempotencyKey: String, points: Int64, funding: [SponsorShare],
                expired: [SponsorShare], refundable: Int64, createdAt: Date) {
        self.id = id
        self.redemptionID = redemptionID
        self.merchantID = merchantID
        self.idempotencyKey = idempotencyKey
        self.points = points
        self.funding = funding
        self.expired = expired
        self.refundable = refundable
        self.createdAt = createdAt
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

    public init(id: Int64, merchantID: String, idempotencyKey: String, codeID: String, residentID: String, points: Int64,
                funding: [SponsorShare], createdAt: Date) {
        self.id = id
        self.merchantID = merchantID
        self.idempotencyKey = idempotencyKey
        self.codeID = codeID
        self.residentID = residentID
        self.points = points
        self.funding = funding
        self.createdAt = createdAt
    }
}

