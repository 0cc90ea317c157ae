/// Every way a use case can refuse a request. The HTTP edge maps each case to one problem `type`;
/// the CLI prints `detail`.
public enum AyumiError: Error, Sendable, Equatable {
    case unauthenticated
    case forbidden(String)
    case invalidRequest(String)
    case tooManyEvents(count: Int, max: Int)
    case residentExists(String)
    case unknownResident(String)
    case unknownMerchant(String)
    case notFound(String)
    case codeForged
    case codeExpired
    case codeAlreadyUsed
    case insufficientPoints(balance: Int64, requested: Int64)
    case idempotencyKeyReused

    public var detail: String {
        switch self {
        case .unauthenticated: "A valid bearer token is required."
        case .forbidden(let why): why
        case .invalidRequest(let why): why
        case .tooManyEvents(let count, let max): "\(count) events in one request; at most \(max) are accepted."
        case .residentExists(let id): "Resident '\(id)' is already enrolled."
        case .unknownResident(let id): "No resident '\(id)' is enrolled."
        case .unknownMerchant(let id): "No merchant '\(id)' is registered."
        case .notFound(let what): "\(what) was not found."
        case .codeForged: "The code was not issued by this service."
        case .codeExpired: "The code has expired; ask the resident to show a new one."
        case .codeAlreadyUsed: "The code was already used for another redemption."
        case .insufficientPoints(let balance, let requested): "The resident has \(balance) points; \(requested) were requested."
        case .idempotencyKeyReused: "The idempotency key was already used for a different redemption."
        }
    }
}
