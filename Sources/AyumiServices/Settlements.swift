import AyumiCore
import AyumiReports
import AyumiRules
import AyumiStore
import Foundation

/// Monthly settlement: what each sponsor owes each merchant for the points it kept.
extension Reporting {
    /// `YYYY-MM` → the month's number (year × 12 + month − 1) and its first and last local days.
    static func month(_ text: String) throws -> (number: Int, from: LocalDate, to: LocalDate) {
        let parts = text.split(separator: "-")
        guard text.utf8.count == 7, parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
              let first = LocalDate(year: year, month: month, day: 1) else {
            throw AyumiError.invalidRequest("month: YYYY-MM, such as 2026-10")
        }
        return (year * 12 + month - 1, first, first.adding(months: 1).adding(days: -1))
    }

    /// The month's statements: as frozen when it was settled, or as the ledger stands now (a draft).
    public func settlement(month text: String) async throws -> Settlement {
        let month = try Self.month(text)
        if let stored = try await dependencies.store.settlement(month: month.number) {
            return try JSONDecoder().decode(Settlement.self, from: Data(stored.content.utf8))
        }
        return try await draft(text, month)
    }

    /// Freezes a month that has ended: its statements are stored as they stand and never change; a
    /// refund made later counts in the month it is made. Settling again returns the frozen one.
    public func settle(month text: String) async throws -> Settlement {
        let month = try Self.month(text)
        if let stored = try await dependencies.store.settlement(month: month.number) {
            return try JSONDecoder().decode(Settlement.self, from: Data(stored.content.utf8))
        }
        // From the second day after it: a redemption begun on the month's last minute has been written.
        guard month.to.adding(days: 1) < dependencies.today else {
            throw AyumiError.invalidRequest("\(text) can be settled from \(month.to.adding(days: 2)) (today is \(dependencies.today))")
        }
        var settlement = try await draft(text, month)
        let now = dependencies.environment.now()
        settlement.settledAt = Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let content = String(decoding: try encoder.encode(settlement), as: UTF8.self)
        let stored = try await dependencies.store.saveSettlement(StoredSettlement(month: month.number, content: content, settledAt: now))
        dependencies.logger.notice("Month settled", metadata: ["month": "\(text)", "merchants": "\(settlement.statements.count)"])
        return try JSONDecoder().decode(Settlement.self, from: Data(stored.content.utf8))
    }

    func draft(_ text: String, _ month: (number: Int, from: LocalDate, to: LocalDate)) async throws -> Settlement {
        let program = dependencies.program.current
        let (facts, counts) = try await dependencies.reports.settlementFacts(from: month.from, to: month.to)
        // Sponsors that left the program still owe for their lots, under their last name.
        var sponsorNames = try await namesOfEveryVersion().sponsors
        for sponsor in program.ruleset.sponsors { sponsorNames[sponsor.id] = sponsor.name }
        return Settlement.make(month: text, from: month.from, to: month.to, programName: program.ruleset.program.name,
                               yenPerPoint: program.ruleset.program.yenPerPoint, facts: facts, counts: counts, merchants: program.merchants,
                               sponsorNames: sponsorNames, settledAt: nil)
    }
}

extension Reporting {
    /// The monthly indicators for the months `from...to` (`YYYY-MM`, at most 60), with the targets of
    /// `Rules/kpis.yaml`.
    public func kpis(from: String, to: String) async throws -> KPIReport {
        let first = try Self.month(from), last = try Self.month(to)
        guard first.number <= last.number, last.number - first.number < 60 else {
            throw AyumiError.invalidRequest("from and to: at most 60 months, from first to last")
        }
        let ruleset = dependencies.program.current.ruleset
        let labels = (first.number...last.number).map { String(format: "%04d-%02d", $0 / 12, $0 % 12 + 1) }
        let periods = try labels.map { label in let month = try Self.month(label); return (from: month.from, to: month.to) }
        // Downtown visits are visits to the zones benefits.yaml names downtown, as in the beneficiary report.
        let facts = try await dependencies.reports.indicatorFacts(periods, visitZones: ruleset.assessment?.visitZones)
        return KPIReport.make(facts: Array(zip(labels, facts)).map { (month: $0.0, facts: $0.1) }, targets: ruleset.kpiTargets,
                              groupSizeMin: ruleset.program.reportGroupSizeMin)
    }
}
