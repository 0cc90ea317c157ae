import AyumiStore

/// Every way a use case can refuse a request. The HTTP edge maps each case to one problem `type`;
/// the CLI prints `detail`.
public enum AyumiError: Error, Sendable, Equatable {
    /// No bearer token was presented.
    case unauthenticated
    /// A token was presented that is unknown, revoked, expired, or of a merchant no longer active.
    case invalidToken
    case forbidden(String)
    case invalidRequest(String)
    case tooManyEvents(count: Int, max: Int)
    case residentExists(String)
    case unknownResident(String)
    case unknownMerchant(String)
    case notFound(String)
    case codeForged
    case codeExpired
    /// A 12-digit fallback number whose check digit is wrong (a typo, not a guess).
    case codeNumberMistyped
    /// A 12-digit fallback number no code was issued with.
    case codeNumberUnknown
    /// A card number that belongs to no card in use (never issued, or replaced).
    case cardUnknown
    /// Locked after five wrong PINs: the city office unlocks it.
    case cardLocked
    case pinRequired
    case pinWrong(triesLeft: Int)
    /// Too many unknown fallback numbers from one till: guessing is throttled.
    case tooManyAttempts(retryAfterSeconds: Int)
    case codeAlreadyUsed
    case insufficientPoints(balance: Int64, requested: Int64)
    case idempotencyKeyReused
    case merchantInactive(String)
    case unknownRedemption(String)
    case merchantSuspended(String)
    case merchantDailyLimit(left: Int64)
    case residentDailyLimitAtMerchant(left: Int64)
    case refundTooLate(days: Int)
    case refundExceedsRedemption(refundable: Int64)
    /// Concurrent writes kept this one from completing; nothing changed, and sending it again is safe.
    case busy
    case databaseMissing(path: String)
    case databaseNeedsMigration(path: String)
    case notAnAyumiDatabase(path: String)
    /// A rules upload failed its check: every problem, as `FILE:LINE:COL: error: …`.
    case rulesInvalid([String])
    case unknownRuleset(String)

    public var detail: String {
        switch self {
        case .unauthenticated: "A valid bearer token is required."
        case .invalidToken: "The bearer token is not valid: unknown, revoked or expired."
        case .forbidden(let why): why
        case .invalidRequest(let why): why
        case .tooManyEvents(let count, let max): "\(count) events in one request; at most \(max) are accepted."
        case .residentExists(let id): "Resident '\(id)' is already enrolled."
        case .unknownResident(let id): "No resident '\(id)' is enrolled."
        case .unknownMerchant(let id): "No merchant '\(id)' is registered."
        case .notFound(let what): "\(what) was not found."
        case .codeForged: "The code is unreadable or was not issued by this service; ask the resident to show it again."
        case .codeExpired: "The code has expired; ask the resident to show a new one."
        case .codeNumberMistyped: "The 12-digit number does not check out (its last digit is a check digit); please type it again."
        case .codeNumberUnknown: "No code was issued with that 12-digit number; ask the resident to show it again."
        case .cardUnknown: "No card in use has that number (a replaced card stops working); ask the resident for their current card."
        case .cardLocked: "The card is locked after five wrong PINs; the resident can have it unlocked at the city office."
        case .pinRequired: "A card needs its PIN: let the resident type their 4 digits."
        case .pinWrong(let left): "Wrong PIN; \(left) more tr\(left == 1 ? "y" : "ies") before the card locks."
        case .tooManyAttempts(let seconds): "Too many unknown numbers from this till; try again in \(seconds) seconds, or scan the QR code."
        case .codeAlreadyUsed: "The code was already used for another redemption."
        // Not the balance: the till learns the outcome only (a shop with a card's number could
        // otherwise read a resident's balance whenever it liked).
        case .insufficientPoints(_, let requested): "The resident does not have \(requested) points to spend; ask for a smaller amount."
        case .idempotencyKeyReused: "The idempotency key was already used for a different redemption or refund."
        case .unknownRedemption(let id): "This till made no redemption '\(id)'."
        case .merchantSuspended(let id): "Merchant '\(id)' is suspended by the city office: it can neither redeem nor refund until reinstated."
        case .merchantDailyLimit(let left): "The shop's daily limit leaves \(left) points today."
        case .residentDailyLimitAtMerchant(let left): "This resident may spend \(left) more points at this shop today."
        case .refundTooLate(let days): "The redemption was more than \(days) days ago (refundDaysMax); it can no longer be refunded."
        case .refundExceedsRedemption(let refundable):
            refundable == 0 ? "The redemption was refunded in full already." : "At most \(refundable) points of the redemption are left to refund."
        case .busy: "Other writes got in the way and nothing was changed; send the same request again."
        case .merchantInactive(let id): "Merchant '\(id)' is no longer active (marked active: false or removed from the registry)."
        case .notAnAyumiDatabase(let path): "\(path) is not an Ayumi database (empty, not SQLite, or made by another program)."
        case .rulesInvalid(let diagnostics): diagnostics.joined(separator: "\n")
        case .unknownRuleset(let version): "No ruleset version '\(version)' was validated or run here."
        case .databaseMissing(let path):
            "No database at \(path). Check --data-dir (or AYUMI_DATA_DIR); `ayumi serve` creates the database on its first start."
        case .databaseNeedsMigration(let path):
            "The database at \(path) was written by an older Ayumi; back it up (`ayumi backup`), then start `ayumi serve` once to upgrade it."
        }
    }
}

extension AyumiError {
    /// A store's refusal as the use cases word it.
    init(_ error: StoreError, merchantID: String, points: Int64, redemptionID: Int64? = nil) {
        self = switch error {
        case .codeAlreadyUsed: .codeAlreadyUsed
        case .insufficientPoints(let balance): .insufficientPoints(balance: balance, requested: points)
        case .idempotencyKeyReused: .idempotencyKeyReused
        case .unknownMerchant: .unknownMerchant(merchantID)
        case .unknownResident, .residentExists: .unknownResident("the code's resident")
        case .unknownRedemption: .unknownRedemption(redemptionID.map(String.init) ?? "")
        case .merchantSuspended: .merchantSuspended(merchantID)
        case .merchantDailyLimit(let left): .merchantDailyLimit(left: left)
        case .residentDailyLimitAtMerchant(let left): .residentDailyLimitAtMerchant(left: left)
        case .refundTooLate(let days): .refundTooLate(days: days)
        case .refundExceedsRedemption(let refundable): .refundExceedsRedemption(refundable: refundable)
        case .databaseMissing(let path): .databaseMissing(path: path)
        case .databaseNeedsMigration(let path): .databaseNeedsMigration(path: path)
        case .notAnAyumiDatabase(let path): .notAnAyumiDatabase(path: path)
        case .backupTargetUnavailable(let path, let reason): .invalidRequest("cannot create \(path): \(reason)")
        case .counterLimitExceeded: .busy
        case .rulesetNotInstalled: .busy
        }
    }
}
