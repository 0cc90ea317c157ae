import AyumiCore
import AyumiRules
import AyumiStore
import Foundation

/// The program in force: rulesets installed from `Rules/`, uploaded, checked and activated from
/// a time (past or future), the timeline reloaded when a scheduled one comes into force, and what
/// the rules make of one event.
public struct ProgramAdministration: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    var store: any Store { dependencies.store }

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
    public func reloadIfScheduled() async throws -> Bool {
        let activations = try await store.activations()
        guard let inForce = activations.inForce(at: dependencies.environment.now()),
              inForce.ruleset.version != dependencies.program.current.ruleset.version else { return false }
        try await reloadProgram(activations)
        dependencies.logger.info("Scheduled ruleset in force", metadata: ["ruleset.version": "\(inForce.ruleset.version)"])
        return true
    }

    /// The ruleset in force now and every activation, in the order they take effect.
    public func history() async throws -> (inForce: String, activations: [Activation]) {
        let activations = try await store.activations()
        return (activations.inForce(at: dependencies.environment.now())?.ruleset.version ?? dependencies.program.current.ruleset.version,
                activations)
    }

    /// Checks an uploaded program (file name → text, as in `Rules/`: `program.yaml`, `sponsors.yaml`,
    /// `zones.geojson`, `calendar/*.yaml`, one file per rule) as `ayumi rules check` does, against
    /// the merchants registered now, and keeps it (not in force) so it can be activated. Returns its
    /// version, its rule count and its warnings.
    public func validate(files: [String: String]) async throws -> (version: String, rules: Int, warnings: [String]) {
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
    public func activate(version: String, effectiveFrom: Date, by principal: Principal) async throws {
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

    /// What the rules in force make of one event (`ayumi rules explain`), judged against the
    /// resident and the counters as stored now and the clock now. Nothing is written.
    public func explain(_ event: Event, from submitter: Submitter) async throws -> Explanation {
        let now = dependencies.environment.now()
        let program = dependencies.program.current, evaluator = program.evaluator(for: event)
        guard let resident = try await store.resident(event.residentID) else {
            throw AyumiError.unknownResident(event.residentID)
        }
        // As ingest judges it: who may send it, how late, and the budgets, by the program in force now.
        let inForce = program.evaluator(at: now), admitted = inForce.admitted
        let counters = try await store.counters(evaluator.counterKeys(for: event, now: now, admitted: admitted))
        var explanation = evaluator.explain(event, from: submitter, resident: resident, counters: counters, now: now, admitted: admitted)
        if let rejection = inForce.admission(event, from: submitter, now: now) { explanation.rejection = rejection }
        explanation.alreadyRecorded = try await store.recordedEvent(event.id, from: submitter) == true
        return explanation
    }
}
