import AyumiCore
import AyumiLedger
import AyumiReports
import AyumiRules
import AyumiStore

/// What the city reads: the beneficiary report and the ledger's audit.
public struct Reporting: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    public func beneficiaryReport(from: LocalDate, to: LocalDate) async throws -> BeneficiaryReport {
        guard from <= to else { throw AyumiError.invalidRequest("from must not be after to") }
        let store = dependencies.store
        let program = dependencies.program.current
        let facts = try await store.beneficiaryFacts(from: from, to: to)
        // Listed: what the program has now. Rules and sponsors that left it, and inactive merchants,
        // appear only when they hold figures for the period, named as their last ruleset named them.
        var pastNames: [BeneficiaryFacts.Section: [String: LocalizedText]] = [.merchant: program.merchants.mapValues(\.name)]
        for labels in try await store.rulesets().reversed().map({ try Ruleset.Labels(canonicalJSON: $0.content) }) {
            for label in labels.sponsors { pastNames[.sponsor, default: [:]][label.id] = label.name }
            for label in labels.rules { pastNames[.rule, default: [:]][label.id] = label.name }
        }
        let ruleset = program.ruleset
        let listed: [BeneficiaryFacts.Section: [(id: String, name: LocalizedText)]] = [
            .sponsor: ruleset.sponsors.map { ($0.id, $0.name) },
            .rule: ruleset.rules.map { ($0.id, $0.name) },
            .merchant: program.merchants.values.filter(\.active).sorted { $0.id < $1.id }.map { ($0.id, $0.name) },
        ]
        return try await BeneficiaryReport.make(
            facts: facts, listed: listed, pastNames: pastNames, programName: ruleset.program.name, rulesetVersion: ruleset.version,
            yenPerPoint: ruleset.program.yenPerPoint, groupSizeMin: ruleset.program.reportGroupSizeMin, from: from, to: to) { measure, section, ids in
            try await store.residentCount(measure, section, ids: ids, from: from, to: to)
        }
    }

    public func verifyLedger() async throws -> LedgerAudit { try await dependencies.store.audit() }
}
