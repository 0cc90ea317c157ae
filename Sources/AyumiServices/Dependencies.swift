import AyumiCore
import AyumiRedemption
import AyumiReports
import AyumiRules
import AyumiStore
import Foundation
import Logging
import Synchronization

/// What every use case may consult, built once at start and shared: the store and what reports
/// read of it, the program in force, the clock and randomness, the code signer and the logger.
public struct Dependencies: Sendable {
    public let store: any Store
    /// The same database as `store`, as the reports read it.
    public let reports: any ReportSource
    public let program: ActiveProgram
    public let environment: AyumiEnvironment
    let signer: Signer
    let logger: Logger
    let explainers: Explainers

    public init(store: some Store & ReportSource, program: ActiveProgram, environment: AyumiEnvironment, signer: Signer, logger: Logger) {
        self.store = store
        self.reports = store
        self.program = program
        self.environment = environment
        self.signer = signer
        self.logger = logger
        self.explainers = Explainers(store: store)
    }

    /// Today in the program's time zone.
    public var today: LocalDate { LocalDate(instant: environment.now(), timeZone: program.current.evaluator.timeZone) }
}

/// The code signer over the keys kept in the store, replaced when a key is rotated in (by this
/// process, or by `ayumi keys rotate` beside it: a code signed by a key not yet loaded reloads them).
public final class Signer: Sendable {
    private let state: Mutex<CodeSigner>
    private let lastLookup = Mutex<Date?>(nil)

    public init(_ signer: CodeSigner) { state = Mutex(signer) }

    public var current: CodeSigner { state.withLock { $0 } }

    func replace(with signer: CodeSigner) { state.withLock { $0 = signer } }

    /// Whether a code naming an unknown key may make this process look for new keys now: at most
    /// once every 10 s, so forged key bytes cost no database read each.
    func mayLookForKeys(now: Date) -> Bool {
        lastLookup.withLock { last in
            guard last.map({ now.timeIntervalSince($0) >= 10 || now < $0 }) ?? true else { return false }
            last = now
            return true
        }
    }
}

/// The ruleset and the merchant registry in force. Read through this rather than held by each use
/// case, so a new program can take effect without a restart; a use case reads `current` once and
/// works on that one snapshot.
public final class ActiveProgram: Sendable {
    public struct Snapshot: Sendable {
        /// The ruleset in force now: the program's time zone, expiry, report group size.
        public let ruleset: Ruleset
        public let evaluator: Evaluator
        /// Every merchant ever registered, by id; inactive ones redeem nothing.
        public private(set) var merchants: [String: Merchant]

        /// The same program with the registry as stored now.
        public func replacing(merchants: [Merchant]) -> Snapshot {
            var copy = self
            copy.merchants = Dictionary(uniqueKeysWithValues: merchants.map { ($0.id, $0) })
            return copy
        }
        /// Every activation's ruleset and the instant it takes effect, in the order they were made:
        /// an event is judged by the one in force at its time, however late it arrives.
        public let timeline: [(from: Date, evaluator: Evaluator)]

        /// - Parameter timeline: every activation's ruleset and its effective instant, in the order
        ///   they were made, `ruleset` among them; empty when `ruleset` is all there is.
        public init(ruleset: Ruleset, merchants: [Merchant], timeline: [(from: Date, ruleset: Ruleset)] = []) {
            let evaluator = Evaluator(ruleset: ruleset)
            self.ruleset = ruleset
            self.evaluator = evaluator
            self.merchants = Dictionary(uniqueKeysWithValues: merchants.map { ($0.id, $0) })
            // One evaluator per version, however often it was put in force.
            var evaluators = [ruleset.version: evaluator]
            self.timeline = timeline.isEmpty ? [(.distantPast, evaluator)] : timeline.map { entry in
                let evaluator = evaluators[entry.ruleset.version] ?? Evaluator(ruleset: entry.ruleset)
                evaluators[entry.ruleset.version] = evaluator
                return (entry.from, evaluator)
            }
        }

        /// The program with every ruleset of `activations` (the store's, in the order made), `ruleset`
        /// being the one in force now. A stored version this Ayumi cannot read is left out of the
        /// timeline (its times are judged by the activations around it) and logged.
        public static func load(_ activations: [Activation], ruleset: Ruleset, merchants: [Merchant], logger: Logger) -> Snapshot {
            var decoded: [String: Ruleset] = [ruleset.version: ruleset]
            var timeline: [(from: Date, ruleset: Ruleset)] = []
            for activation in activations {
                let version = activation.ruleset.version
                if decoded[version] == nil {
                    do {
                        decoded[version] = try Ruleset(canonicalJSON: activation.ruleset.content)
                    } catch {
                        logger.warning("A stored ruleset cannot be read; its activation is left out of the timeline",
                                       metadata: ["ruleset.version": "\(version)"])
                        continue
                    }
                }
                timeline.append((activation.effectiveFrom, decoded[version]!))
            }
            return Snapshot(ruleset: ruleset, merchants: merchants, timeline: timeline)
        }

        /// The evaluator of the ruleset in force at `instant` (a ruleset activated for a future time
        /// takes over when that time comes, without a reload).
        public func evaluator(at instant: Date) -> Evaluator {
            guard timeline.count > 1 else { return timeline[0].evaluator }
            // The last decision made that covers the instant; before every activation, the earliest.
            return timeline.last { $0.from <= instant }?.evaluator ?? timeline.min { $0.from < $1.from }!.evaluator
        }

        /// The evaluator of the ruleset in force at the event's time: a tap's or visit's instant, the
        /// end of a walk's local day.
        public func evaluator(for event: Event) -> Evaluator {
            guard timeline.count > 1 else { return evaluator }
            return evaluator(at: evaluator.instant(of: event))
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
