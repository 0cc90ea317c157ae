import AyumiCore
import AyumiRedemption
import AyumiRules
import AyumiStore
import Foundation
import Logging
import Synchronization

/// What every use case may consult, built once at start and shared: the store, the program in
/// force, the clock and randomness, the code signer and the logger.
public struct Dependencies: Sendable {
    public let store: any Store
    public let program: ActiveProgram
    public let environment: AyumiEnvironment
    let signer: CodeSigner
    let logger: Logger
    let explainers: Explainers

    public init(store: any Store, program: ActiveProgram, environment: AyumiEnvironment, signer: CodeSigner, logger: Logger) {
        self.store = store
        self.program = program
        self.environment = environment
        self.signer = signer
        self.logger = logger
        self.explainers = Explainers(store: store)
    }

    /// Today in the program's time zone.
    public var today: LocalDate { LocalDate(instant: environment.now(), timeZone: program.current.evaluator.timeZone) }
}

/// The ruleset and the merchant registry in force. Read through this rather than held by each use
/// case, so a new program can take effect without a restart; a use case reads `current` once and
/// works on that one snapshot.
public final class ActiveProgram: Sendable {
    public struct Snapshot: Sendable {
        public let ruleset: Ruleset
        public let evaluator: Evaluator
        /// Every merchant ever registered, by id; inactive ones redeem nothing.
        public let merchants: [String: Merchant]

        public init(ruleset: Ruleset, merchants: [Merchant]) {
            self.ruleset = ruleset
            self.evaluator = Evaluator(ruleset: ruleset)
            self.merchants = Dictionary(uniqueKeysWithValues: merchants.map { ($0.id, $0) })
        }
    }

    private let state: Mutex<Snapshot>

    public init(_ snapshot: Snapshot) { state = Mutex(snapshot) }

    public var current: Snapshot { state.withLock { $0 } }

    /// Puts a new program in force for every use case from its next call on.
    public func replace(with snapshot: Snapshot) { state.withLock { $0 = snapshot } }
}

/// The reason templates of every ruleset version, read from the store once each: history explains
/// an award in the words of the rules that made it, however often the program has changed since.
final class Explainers: Sendable {
    let store: any Store
    /// nil for a version whose content cannot be read: remembered too, so it is read once.
    private let known = Mutex<[String: ReasonExplainer?]>([:])

    init(store: any Store) { self.store = store }

    func explainer(_ version: String) async throws -> ReasonExplainer? {
        if let found = known.withLock({ $0[version] }) { return found }
        for stored in try await store.rulesets() where known.withLock({ $0[stored.version] == nil }) {
            let explainer = try? ReasonExplainer(canonicalJSON: stored.content)
            known.withLock { $0[stored.version] = .some(explainer) }
        }
        return known.withLock { $0[version] ?? nil }
    }
}
